/*
 * linear.h - the logistic / softmax / linear student.
 * Layer: core/model/students.
 *
 * Kinds:
 *   "logistic"  classification.  Binary: one logit z = b + w.z(x) for
 *               classes[1] (P = sigmoid(z)); multiclass: K logits, softmax.
 *   "linear"    regression only (a linear probability model on a binary task
 *               is refused: its outputs leave [0, 1]; use "logistic").
 *
 * Design (docs/students-linear.md): every input feature is NUMERIC (one-hot
 * columns included; a CATEGORICAL feature is refused).  Internally each
 * column is standardised, z = (x - mean) / scale, with the training mean and
 * population standard deviation (scale 1 for a constant column); a missing
 * value is imputed with the mean (z = 0), and each feature with missing values
 * in training gets an indicator column (1 = missing) standardised the same
 * way.  All internal columns have mean 0 on the training rows, so the
 * intercept is the mean training margin.
 *
 * Objective, averaged over rows, intercepts unpenalised:
 *   classification  alpha*CE(y, softmax(z)) + (1-alpha)*T^2*KL(q_T || softmax(z/T))
 *   regression      1/2 (z - (alpha*y + (1-alpha)*teacher))^2
 * plus l2/2 ||W||^2 + l1 ||W||_1 over the standardised weights.  l1 = 0:
 * L-BFGS (regression: normal equations by Cholesky); l1 > 0: OWL-QN.
 * scikit-learn's LogisticRegression(C) is l2 = 1 / (C * n_rows).
 *
 * Parameters (text): l2 (>= 0, default 1e-4), l1 (>= 0, default 0),
 * max_iter (1..100000, default 500), tol (gradient infinity norm, (0, 1],
 * default 1e-7); logistic only: pdo (> 0, default 20), base_score (default
 * 600), base_odds (> 0, default 50) for the binary scorecard.
 */
#ifndef CORE_MODEL_STUDENTS_LINEAR_H
#define CORE_MODEL_STUDENTS_LINEAR_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"

/* Nonzero when kind is "logistic" or "linear". */
int gb_linear_is_kind(const char *kind);

/* Validates params for kind on task without fitting.  GB_EUNUSABLE naming the
 * key (err->field) for an unknown key, a duplicate, a value that is not a
 * number or out of range; or naming the kind for a task it cannot fit. */
gb_status gb_linear_check(const char *kind, const gb_param *params, size_t n_params,
                          gb_task task, gb_error *err);

/* Fits a student of kind on ts (parameters validated first; nothing is
 * allocated on error).  *out is owned by the caller (gb_model_free).
 * GB_EUNUSABLE for parameter errors, a task the kind cannot fit, a
 * CATEGORICAL feature, infinite feature values, missing labels or soft
 * targets the loss needs (alpha < 1 needs ts->soft, alpha > 0 needs labels),
 * labels out of range, soft targets that are not finite; GB_ENOMEM;
 * GB_ECANCELLED when progress asks to stop.  Deterministic whatever
 * ts->n_threads is. */
gb_status gb_linear_fit(const char *kind, const gb_param *params, size_t n_params,
                        const gb_train_set *ts, const gb_progress *progress,
                        gb_model **out, gb_error *err);

/* Rebuilds a student from its artifact (the to_json output: "format"
 * "glassbox-student", "type" "logistic" or "linear").  Predictions are
 * bit-identical to the model that wrote it.  GB_EUNUSABLE naming the field
 * on a malformed artifact; *out owned by the caller. */
gb_status gb_linear_from_json(const cJSON *artifact, gb_model **out, gb_error *err);

/* Nonzero when m is a logistic/linear student. */
int gb_linear_is_model(const gb_model *m);

/* Exports m as "sql" (one expression per output, comma-separated
 * `expr AS "name"` items for a SELECT list over a table whose columns are
 * named as the features; NULL = missing) or "c" (a standalone C99 function
 * `void glassbox_predict(const double *x, double *out)`, x in feature order,
 * NaN = missing, out as predict).  *out is NUL-terminated, freed with
 * gb_free.  GB_EUNUSABLE for another format; GB_ENOMEM. */
gb_status gb_linear_export(const gb_model *m, const char *format, char **out,
                           gb_error *err);

/* The same entry points bound to one kind, in the shape of the student
 * dispatcher's table (core/model/students/student.c). */
gb_status gb_logistic_check(const gb_param *params, size_t n_params, gb_task task,
                            gb_error *err);
gb_status gb_logistic_fit(const gb_param *params, size_t n_params,
                          const gb_train_set *ts, const gb_progress *progress,
                          gb_model **out, gb_error *err);
gb_status gb_linreg_check(const gb_param *params, size_t n_params, gb_task task,
                          gb_error *err);
gb_status gb_linreg_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                        const gb_progress *progress, gb_model **out, gb_error *err);
gb_status gb_linear_export_sql(const gb_model *m, char **out, gb_error *err);
gb_status gb_linear_export_c(const gb_model *m, char **out, gb_error *err);

#endif /* CORE_MODEL_STUDENTS_LINEAR_H */
