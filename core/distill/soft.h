/*
 * soft.h - soft targets for distillation (ALGORITHMS.md, "Soft targets and
 * the distillation loss").
 * Layer: core/distill (core/base only).
 *
 * Array layouts (row-major, inputs never modified):
 *   teacher_proba  n_rows x n_classes teacher probabilities, each in [0, 1]
 *                  (binary: 2 columns; only column 1, P(class 1), is read)
 *   q              n_rows x n_classes soft targets, rows sum to 1
 *   y              n_rows int32 hard labels in [0, n_classes)
 *
 * Teacher logits: binary z = log(p1 / (1 - p1)); multiclass z_k = log p_k;
 * p is clamped to [1e-15, 1 - 1e-15] first.  q_T = softmax(z / T) (binary:
 * q1 = sigmoid(z / T), q0 = 1 - q1, the same softmax over (0, z)).  At T = 1,
 * q_T is the clamped teacher distribution renormalised to sum 1.
 */
#ifndef CORE_DISTILL_SOFT_H
#define CORE_DISTILL_SOFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Checks the distillation parameters: temperature finite and > 0
 * (field "temperature"), alpha finite in [0, 1] (field "alpha").
 * GB_EUNUSABLE naming the parameter and its value. */
gb_status gb_soft_check(double temperature, double alpha, gb_error *err);

/* Teacher logits: binary n_rows values (logit of class 1) written to
 * z[0..n_rows); multiclass n_rows x n_classes log-probabilities.  Errors
 * (GB_EUNUSABLE, field "teacher"): n_classes < 2, a probability outside
 * [0, 1] or not finite (row and column named).  z is unspecified on error. */
gb_status gb_soft_logits(const double *teacher_proba, size_t n_rows, size_t n_classes,
                         double *z, gb_error *err);

/* q_T = softmax(teacher logits / temperature), written to q (n_rows x
 * n_classes).  Errors as gb_soft_logits and gb_soft_check; q is unspecified
 * on error.  No allocation. */
gb_status gb_soft_targets(const double *teacher_proba, size_t n_rows, size_t n_classes,
                          double temperature, double *q, gb_error *err);

/* The tree student's target vectors alpha * onehot(y) + (1 - alpha) * q,
 * written to out (n_rows x n_classes; out may equal q).  y may be NULL only
 * when alpha == 0, q only when alpha == 1 (the baseline: one-hot labels).  Errors:
 * alpha (as gb_soft_check), a label out of range (field "y", row named). */
gb_status gb_soft_tree_targets(const double *q, const int32_t *y, size_t n_rows,
                               size_t n_classes, double alpha, double *out,
                               gb_error *err);

/* Regression target alpha * y + (1 - alpha) * teacher (n_rows each; out may
 * alias either).  y may be NULL only when alpha == 0, teacher only when
 * alpha == 1.  Errors: alpha, a
 * non-finite teacher output (field "teacher") or target (field "y"), row
 * named. */
gb_status gb_soft_regression_targets(const double *y, const double *teacher,
                                     size_t n_rows, double alpha, double *out,
                                     gb_error *err);

#endif /* CORE_DISTILL_SOFT_H */
