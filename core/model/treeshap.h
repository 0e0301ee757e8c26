/*
 * treeshap.h - exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018,
 * Algorithm 2 with EXTEND / UNWIND) over a generic forest.  It is the one
 * implementation behind the `attribute` operation of every tree model: the
 * tree student, XGBoost teachers and LightGBM teachers build a gb_forest of
 * their trees (with node covers) once and answer attribute with
 * gb_forest_treeshap.
 * Layer: core/model.
 *
 * The forest
 * ----------
 * An gb_forest holds n_trees trees over n_features inputs and n_outputs
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
 *   zero_missing  numeric split: 0 is missing too (follows missing_left), as
 *               LightGBM's missing type Zero;
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
#ifndef CORE_MODEL_TREESHAP_H
#define CORE_MODEL_TREESHAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

typedef struct gb_forest_node {
    int32_t feature; /* -1 = leaf */
    int32_t left, right;
    double threshold;
    int missing_left;
    int zero_missing;    /* numeric: x == 0 follows missing_left too */
    int categorical;     /* nonzero: categorical split (cats may be empty) */
    int cats_left;       /* categorical: listed codes go left when nonzero */
    const int32_t *cats; /* categorical: n_cats codes */
    size_t n_cats;       /* (borrowed during gb_forest_add_tree) */
    double cover;        /* > 0 for inner nodes, >= 0 for leaves */
    const double *value; /* leaf: n_leaf values (borrowed, copied) */
} gb_forest_node;

typedef struct gb_forest gb_forest;

/* A new empty forest of n_features inputs and n_outputs margins whose base
 * margins are base[0..n_outputs) (NULL = all 0).  split_lt and float32 as
 * above.  Caller frees with gb_forest_free.  NULL on error (err set). */
gb_forest *gb_forest_create(size_t n_features, size_t n_outputs, const double *base,
                            int split_lt, int float32, gb_error *err);

/* Frees the forest; NULL is a no-op. */
void gb_forest_free(gb_forest *forest);

/* Inputs with |x| <= zero_threshold read as exactly 0 before every split
 * (LightGBM's kZeroThreshold); 0, the default, turns this off.  Call before
 * the forest is used. */
void gb_forest_set_zero_threshold(gb_forest *forest, double zero_threshold);

/* Appends a tree of n_nodes nodes (node 0 = root) whose leaves add n_leaf
 * values to outputs output0 .. output0 + n_leaf - 1.  Everything is copied.
 * Errors (GB_EUNUSABLE naming the tree and node): a child index out of range
 * or not larger than its parent, a node reached twice, a feature out of
 * range, a non-finite threshold, value or cover, a non-positive inner cover,
 * a negative categorical code, outputs out of range; GB_ENOMEM.  The forest
 * is unchanged on error. */
gb_status gb_forest_add_tree(gb_forest *forest, const gb_forest_node *nodes,
                             size_t n_nodes, size_t output0, size_t n_leaf,
                             gb_error *err);

size_t gb_forest_n_trees(const gb_forest *forest);
size_t gb_forest_n_features(const gb_forest *forest);
size_t gb_forest_n_outputs(const gb_forest *forest);

/* Margins of n_rows rows of X (n_rows x n_features, row-major, NaN =
 * missing) into out (n_rows x n_outputs), summed in double in tree order. */
void gb_forest_predict(const gb_forest *forest, const double *X, size_t n_rows,
                       double *out);

/* The expected value (bias) of each output into bias[0..n_outputs). */
void gb_forest_expected(const gb_forest *forest, double *bias);

/* Exact path-dependent TreeSHAP values of n_rows rows of X into phi (layout
 * above; the caller allocates n_rows * n_outputs * (n_features + 1)).  Rows
 * are split into blocks run on up to n_threads threads; every row's result
 * is computed by one thread in a fixed order, so phi does not depend on
 * n_threads.  GB_ENOMEM when scratch cannot be allocated (phi then
 * undefined). */
gb_status gb_forest_treeshap(const gb_forest *forest, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err);

#endif /* CORE_MODEL_TREESHAP_H */
