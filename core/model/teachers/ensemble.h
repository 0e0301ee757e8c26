/*
 * ensemble.h - several teacher models combined into one gb_model of kind
 * "ensemble" (ALGORITHMS.md, "Several teachers").
 * Layer: core/model/teachers.
 *
 * Members must agree on the task and, for classification, on the classes
 * (same labels in the same order).  Weights are normalised to sum to 1.
 * Predictions combine the members' outputs row by row:
 *
 *   arithmetic  out = sum_k w_k P_k                     (any task)
 *   geometric   out_c = prod_k P_kc^w_k / sum_c' prod_k P_kc'^w_k
 *               (classification only; probabilities below 1e-300 count as
 *               1e-300 so a single zero cannot make a row 0/0)
 *
 * The ensemble's features are the union of its members' features by name,
 * in first-seen order (member 0's features first); a name that two members
 * declare differently (numeric vs categorical, or different levels) is an
 * error.  predict hands each member its own columns, in its own order.
 */
#ifndef CORE_MODEL_TEACHERS_ENSEMBLE_H
#define CORE_MODEL_TEACHERS_ENSEMBLE_H

#include <stddef.h>

#include "core/base.h"
#include "core/model/model.h"

#define GB_ENSEMBLE_MAX_MEMBERS 64

typedef enum gb_ensemble_mean {
    GB_ENSEMBLE_ARITHMETIC = 0,
    GB_ENSEMBLE_GEOMETRIC = 1
} gb_ensemble_mean;

/* "arithmetic" / "geometric"; GB_EUNUSABLE for anything else. */
gb_status gb_ensemble_mean_parse(const char *name, gb_ensemble_mean *out,
                                 gb_error *err);

/* Combines members[0..n_members) with weights (NULL = equal weights; each
 * finite and >= 0, with a positive sum).  On success *out is a new model
 * (caller frees with gb_model_free) that owns every member: the entries of
 * members[] are set to NULL.  On error (GB_EUNUSABLE naming the member index
 * and kind, or the weight; GB_ENOMEM) *out is NULL and the caller still owns
 * the members. */
gb_status gb_ensemble_create(gb_model **members, const double *weights,
                             size_t n_members, gb_ensemble_mean mean, gb_model **out,
                             gb_error *err);

#endif /* CORE_MODEL_TEACHERS_ENSEMBLE_H */
