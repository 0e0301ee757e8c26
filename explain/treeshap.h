/*
 * treeshap.h - exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018,
 * Algorithm 2 with EXTEND / UNWIND) over a generic forest that every tree
 * model exports into.
 * Layer: explain (depends on core only).
 *
 * The forest
 * ----------
 * An ex_forest holds n_trees trees over n_features inputs and n_outputs
 * margins.  The model's margin for output k is
 *
 *   margin[k] = base[k] + sum over trees t with output0 <= k < output0 + n_leaf
 *               of leaf_t(x)[k - output0]
 *
 * so a tree either adds one value to one output (gradient boosting, one tree
 * per class) or a vector of n_leaf values to consecutive outputs (a
 * multi-output regression tree).
 *
 * Each node of a tree has
 *   feature     split feature (column of the design matrix), -1 for a leaf;
 *   left, right children, as node indices within the tree; every child index
 *               is larger than its parent's (pre-order or breadth-first
 *               layouts both qualify), which rules out cycles;
 *   threshold   numeric split: x < threshold goes left when the forest's
 *               split_lt is set (XGBoost), x <= threshold otherwise (CART);
 *   missing_left  NaN goes left when nonzero, right otherwise;
 *   cats, n_cats  categorical split when n_cats > 0 (or categorical is set):
 *               the codes listed (non-negative integers) go to the side named
 *               by cats_left, every other code (and unseen or negative codes)
 *               to the other side; NaN follows missing_left;
 *   cover       the training weight (XGBoost: sum of hessians; CART: rows)
 *               that reached the node, > 0 for inner nodes;
 *   value       leaf: n_leaf values.
 *
 * With float32 set, x is rounded to float before it is compared (XGBoost's
 * predictor); thresholds should then hold float values.
 *
 * Attributions
 * ------------
 * phi is n_rows x n_outputs x (n_features + 1), row-major: block (i, k) holds
 * the SHAP values of row i for output k, the last entry being the bias
 * base[k] + sum of the trees' cover-weighted mean leaf values (the expected
 * value), so every block sums to margin[k] (up to rounding).  Attributions are
 * in margin space.  This is what xgboost's predict(pred_contribs=True)
 * returns.
 */
#ifndef EXPLAIN_TREESHAP_H
#define EXPLAIN_TREESHAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/model/model.h"

typedef struct ex_tree_node {
    int32_t feature; /* -1 = leaf */
    int32_t left, right;
    double threshold;
    int missing_left;
    int categorical;     /* nonzero: categorical split (cats may be empty) */
    int cats_left;       /* categorical: listed codes go left when nonzero */
    const int32_t *cats; /* categorical: n_cats codes */
    size_t n_cats;       /* (borrowed during ex_forest_add_tree) */
    double cover;        /* > 0 for inner nodes, >= 0 for leaves */
    const double *value; /* leaf: n_leaf values (borrowed, copied) */
} ex_tree_node;

typedef struct ex_forest ex_forest;

/* A new empty forest of n_features inputs and n_outputs margins whose base
 * margins are base[0..n_outputs) (NULL = all 0).  split_lt and float32 as
 * above.  Caller frees with ex_forest_free.  NULL on error (err set). */
ex_forest *ex_forest_create(size_t n_features, size_t n_outputs, const double *base,
                            int split_lt, int float32, gb_error *err);

/* Frees the forest; NULL is a no-op. */
void ex_forest_free(ex_forest *forest);

/* Appends a tree of n_nodes nodes (node 0 = root) whose leaves add n_leaf
 * values to outputs output0 .. output0 + n_leaf - 1.  Everything is copied.
 * Errors (GB_EUNUSABLE naming the tree and node): a child index out of range
 * or not larger than its parent, a node reached twice, a feature out of
 * range, a non-finite threshold, value or cover, a non-positive inner cover,
 * a negative categorical code, outputs out of range; GB_ENOMEM.  The forest
 * is unchanged on error. */
gb_status ex_forest_add_tree(ex_forest *forest, const ex_tree_node *nodes,
                             size_t n_nodes, size_t output0, size_t n_leaf,
                             gb_error *err);

size_t ex_forest_n_trees(const ex_forest *forest);
size_t ex_forest_n_features(const ex_forest *forest);
size_t ex_forest_n_outputs(const ex_forest *forest);

/* Margins of n_rows rows of X (n_rows x n_features, row-major, NaN =
 * missing) into out (n_rows x n_outputs), summed in double in tree order. */
void ex_forest_predict(const ex_forest *forest, const double *X, size_t n_rows,
                       double *out);

/* The expected value (bias) of each output into bias[0..n_outputs). */
void ex_forest_expected(const ex_forest *forest, double *bias);

/* Exact path-dependent TreeSHAP values of n_rows rows of X into phi (layout
 * above; the caller allocates n_rows * n_outputs * (n_features + 1)).  Rows
 * are split into blocks run on up to n_threads threads; every row's result
 * is computed by one thread in a fixed order, so phi does not depend on
 * n_threads.  GB_ENOMEM when scratch cannot be allocated (phi then
 * undefined). */
gb_status ex_treeshap(const ex_forest *forest, const double *X, size_t n_rows,
                      unsigned n_threads, double *phi, gb_error *err);

/* Parses an XGBoost model saved by Booster.save_model as JSON or UBJSON
 * (detected as core/model/teachers/load.h does) (gbtree; the
 * objectives binary:logistic, binary:logitraw, reg:logistic,
 * reg:squarederror, reg:linear, multi:softprob, multi:softmax) into a forest
 * in margin space, with sum_hessian as cover, split_lt and float32 set.
 * base[k] is the margin of base_score (logit for the logistic objectives).
 * n_bytes bytes (not NUL-terminated).  *out owned by the caller;
 * GB_EINPUT for malformed JSON or UBJSON, GB_EUNUSABLE naming the field for anything
 * unsupported (dart, gblinear, vector leaves, inconsistent arrays); *out is
 * NULL on error. */
gb_status ex_forest_from_xgboost_json(const char *bytes, size_t n_bytes,
                                      ex_forest **out, gb_error *err);

/* Exports the forest of a tree model when its kind has an exporter (the
 * tree student: node row counts as cover, leaves in margin space).  *out
 * owned by the caller; *out NULL and GB_OK when the model is not a tree model
 * this module can export (XGBoost and LightGBM teachers do not keep their
 * covers once loaded: use ex_forest_from_xgboost_json on the file). */
gb_status ex_forest_from_model(const gb_model *model, ex_forest **out, gb_error *err);

/* Nonzero when the model has exact attributions: its own attribute
 * operation (linear students: w_j (x_j - mean_j); GAMs: f_j(x_j)) or an
 * exportable forest (TreeSHAP). */
int ex_exact_available(const gb_model *model);

/* Exact attributions of n_rows rows of the model's design matrix X into phi
 * (n_rows x n_margins x (n_features + 1), as model.h's attribute).
 * GB_EUNUSABLE when ex_exact_available is 0; GB_ENOMEM.  Independent of
 * n_threads. */
gb_status ex_exact_attribute(const gb_model *model, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err);

#endif /* EXPLAIN_TREESHAP_H */
