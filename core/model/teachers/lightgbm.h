/*
 * lightgbm.h - LightGBM text models (model.txt, as written by
 * Booster.save_model) as a gb_model.
 * Layer: core/model/teachers.
 *
 * Supported: gbdt/rf models ("average_output") of version v2..v4 with
 * numeric and categorical splits, every missing-value type and default
 * direction, and the objectives
 *
 *   binary sigmoid:S, cross_entropy          P(1) = 1 / (1 + exp(-S * raw))
 *   multiclass num_class:K                   softmax over the K raw scores
 *   regression[ sqrt], regression_l1, huber,
 *   fair, quantile, mape                     raw (sqrt: sign(raw) * raw^2)
 *   poisson, gamma, tweedie                  exp(raw)
 *
 * Refused with GB_EUNUSABLE naming the line: any other objective
 * (multiclassova, lambdarank, cross_entropy_lambda, custom, none), linear
 * trees, malformed numbers, inconsistent array lengths, out-of-range feature
 * or child indices, cycles or shared nodes in a tree, NaN thresholds,
 * non-finite leaf values, a file without "end of trees".
 *
 * Classes are "0".."K-1" (LightGBM labels are 0-based integers).  Features
 * are the file's feature_names, NUMERIC, except categorical features of a
 * model trained from pandas with "pandas_categorical" categories: those are
 * CATEGORICAL with the category names as levels, so a dataset column of
 * strings is coded exactly as pandas coded it (an unseen level is missing).
 *
 * Scoring follows LightGBM's Tree::NumericalDecision / CategoricalDecision
 * in float64: inputs with |x| <= 1e-35f become 0; NaN is 0 unless the node's
 * missing type is NaN; missing values (NaN for type NaN, |x| <= 1e-35f for
 * type Zero) take the default direction; otherwise x <= threshold goes left.
 * Categorical: NaN or a negative value goes right, else int(x) in the node's
 * bitset goes left.  Raw scores add trees in file order (multiclass trees are
 * interleaved by class), divided by the number of iterations with
 * average_output.
 *
 * attribute: exact path-dependent TreeSHAP of the raw scores
 * (core/model/treeshap.h) with the trees' internal_count / leaf_count as
 * covers, when every tree has them (positive at every split); else NULL.
 */
#ifndef CORE_MODEL_TEACHERS_LIGHTGBM_H
#define CORE_MODEL_TEACHERS_LIGHTGBM_H

#include <stddef.h>

#include "core/base.h"
#include "core/model/model.h"

/* Documented limits (docs/teachers-lightgbm.md). */
#define GB_LGB_MAX_TREES 1000000 /* trees per model */
#define GB_LGB_MAX_LEAVES 131072 /* leaves per tree (LightGBM's own cap) */
#define GB_LGB_MAX_FEATURES 1000000
#define GB_LGB_MAX_CAT_WORDS 65536 /* 32-bit bitset words per categorical split */

/* Parses n bytes of a LightGBM model.txt (need not be NUL-terminated) into a
 * model of kind "lightgbm".  *out is owned by the caller (gb_model_free).
 * On error *out is NULL and err says what is wrong: GB_EUNUSABLE naming the
 * line (err->line) and key (err->field) for anything malformed or
 * unsupported, GB_ENOMEM when allocation fails. */
gb_status gb_lightgbm_load(const char *bytes, size_t n, gb_model **out, gb_error *err);

#endif /* CORE_MODEL_TEACHERS_LIGHTGBM_H */
