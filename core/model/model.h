/*
 * model.h - the one interface every teacher and student implements.
 * Layer: core/model.
 *
 * A gb_model reads rows of its own design matrix (see core/data/encode.h: the
 * model's `features`, in order, bound to a table with gb_design_bind) and
 * writes one row of outputs per input row:
 *
 *   classification: n_outputs = n_classes probabilities per row (binary: 2
 *                   columns, P(classes[0]), P(classes[1])), rows sum to 1;
 *   regression:     n_outputs = 1 value per row.
 *
 * All arrays are row-major doubles: X is n_rows x n_features, out is
 * n_rows x n_outputs.  A model is immutable once built: predict may be
 * called from several threads at once on different blocks.  predict does not
 * allocate per row; it may allocate scratch per call.
 *
 * Optional operations are NULL when a model cannot do them:
 *   predict_margin  raw scores before the link (logits, or log-probabilities
 *                   for models without a natural margin); n_margins columns:
 *                   binary 1 (logit of class 1), multiclass K, regression 1.
 *   attribute       exact local attributions in margin space, phi is
 *                   n_rows x n_margins x (n_features + 1), the last entry of
 *                   each block being the bias (expected value), so each block
 *                   sums to the margin.
 *   to_json         the exported, versioned artifact (students; teachers may
 *                   give a summary).  Caller frees with cJSON_Delete.
 *
 * A teacher that is only a score column (core/model/teachers/scores.h) is not
 * a gb_model: it cannot be queried on new rows.
 */
#ifndef CORE_MODEL_MODEL_H
#define CORE_MODEL_MODEL_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/json.h"

typedef struct gb_model gb_model;

typedef struct gb_model_ops {
    const char *kind; /* "mlp", "xgboost", "lightgbm", "ensemble", "tree",
                         "logistic", "linear", "sbdt", "gam" */
    gb_status (*predict)(const gb_model *m, const double *X, size_t n_rows, double *out,
                         gb_error *err);
    gb_status (*predict_margin)(const gb_model *m, const double *X, size_t n_rows,
                                double *out, gb_error *err);
    gb_status (*attribute)(const gb_model *m, const double *X, size_t n_rows,
                           double *phi, gb_error *err);
    cJSON *(*to_json)(const gb_model *m);
    void (*free_impl)(void *impl);
} gb_model_ops;

struct gb_model {
    const gb_model_ops *ops;
    void *impl;   /* owned; freed by ops->free_impl */
    gb_task task; /* BINARY, MULTICLASS or REGRESSION */
    size_t n_features;
    gb_feature *features; /* owned; n_features specs, in input order */
    size_t n_classes;     /* classification: >= 2; regression: 0 */
    char **classes;       /* owned; n_classes labels; NULL for regression */
    size_t n_outputs;     /* n_classes, or 1 for regression */
    size_t n_margins;     /* binary 1, multiclass n_classes, regression 1 */
};

/* Allocates a model shell owning impl (freed with free_impl if the call
 * fails), a deep copy of features and of classes.  NULL on error. */
gb_model *gb_model_create(const gb_model_ops *ops, void *impl, gb_task task,
                          const gb_feature *features, size_t n_features,
                          char *const *classes, size_t n_classes, gb_error *err);

/* Frees the model and everything it owns; NULL is a no-op. */
void gb_model_free(gb_model *m);

/* Predicts every row of `table` (bound by feature name) in blocks, writing
 * n_rows x n_outputs into out.  rows/n_rows select rows as gb_design_fill.
 * Missing features give GB_EUNUSABLE listing every missing name. */
gb_status gb_model_predict_table(const gb_model *m, const gb_table *table,
                                 const size_t *rows, size_t n_rows, double *out,
                                 gb_error *err);

/* Rows per block when models are scored in blocks. */
#define GB_PREDICT_BLOCK 1024

#endif /* CORE_MODEL_MODEL_H */
