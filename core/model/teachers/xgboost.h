/*
 * xgboost.h - XGBoost gradient-boosted tree models (Booster.save_model, JSON
 * or UBJSON, xgboost 1.x to 3.x) as a gb_model of kind "xgboost".
 * Layer: core/model/teachers.
 *
 * Scoring follows xgboost's CPU predictor in float32: features are cast to
 * float, a numeric split sends a row left when fvalue < split_condition, a
 * missing value (NaN) follows default_left, a categorical split sends the
 * listed categories right (everything else, including negative and unseen
 * codes, left); leaf values of the trees of one output group are added in
 * float to the base margin in tree order, then the objective's link is
 * applied in float.  docs/teachers-xgboost.md lists what is supported and
 * what is refused.
 *
 * Outputs (model.h):
 *   binary:logistic, binary:logitraw  BINARY, classes "0","1"; predict gives
 *       P(0), P(1) = sigmoid(margin) (for logitraw too: xgboost itself
 *       outputs the raw margin there, which is predict_margin);
 *   multi:softprob, multi:softmax     MULTICLASS, classes "0".."K-1";
 *       predict gives softmax probabilities (for softmax too: xgboost outputs
 *       the arg-max class there);
 *   reg:squarederror (reg:linear)     REGRESSION, the margin;
 *   reg:logistic                      REGRESSION, sigmoid(margin).
 * attribute: exact path-dependent TreeSHAP (xgboost's pred_contribs) in
 * margin space, by the shared core/model/treeshap.h, when every tree has
 * node covers (sum_hessian); else NULL.
 *
 * Features: names from learner.feature_names (else "f0".."f<n-1>"); type "c"
 * is CATEGORICAL whose level i is xgboost's category code i (pandas' category
 * code); every other type is NUMERIC.  Without level names in the file the
 * levels are the decimal codes "0","1",... (so a numeric column of codes
 * binds), unless gb_xgboost_options.levels_from names a table whose
 * categorical column of the same name supplies them (its sorted levels are
 * pandas' codes when it holds every training level).
 */
#ifndef CORE_MODEL_TEACHERS_XGBOOST_H
#define CORE_MODEL_TEACHERS_XGBOOST_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/model/model.h"

/* Documented limits (hostile files are refused, not allocated). */
#define GB_XGB_MAX_TREES 100000     /* trees in one model */
#define GB_XGB_MAX_NODES 1048576    /* nodes in one tree */
#define GB_XGB_MAX_FEATURES 1000000 /* num_feature */
#define GB_XGB_MAX_CATEGORY 65535   /* largest category code in a split */

typedef struct gb_xgboost_options {
    /* Optional: categorical level names come from the categorical columns of
     * this table with the features' names (see above).  May be NULL. */
    const gb_table *levels_from;
} gb_xgboost_options;

/* Loads an xgboost model from n bytes of JSON or UBJSON (detected from the
 * first bytes) into *out (caller frees with gb_model_free).  Errors: GB_EINPUT
 * for malformed JSON/UBJSON (naming the byte offset), GB_EUNUSABLE naming the
 * field or the unsupported feature (gblinear, dart, an unknown objective, an
 * unsupported format version, vector leaves, hostile tree structure),
 * GB_ENOMEM.  On error *out is NULL. */
gb_status gb_xgboost_load(const char *bytes, size_t n, gb_model **out, gb_error *err);

/* As gb_xgboost_load with options (opts may be NULL). */
gb_status gb_xgboost_load_opts(const char *bytes, size_t n,
                               const gb_xgboost_options *opts, gb_model **out,
                               gb_error *err);

#endif /* CORE_MODEL_TEACHERS_XGBOOST_H */
