/*
 * tree.h - the decision-tree student: histogram CART on target vectors.
 * Layer: core/model/students.
 *
 * Fits a binary tree on a gb_train_set (student.h).  The regression target of
 * row i is the vector q_i = alpha * onehot(y_i) + (1 - alpha) * soft_i
 * (classification, n_classes entries) or alpha * y_i + (1 - alpha) * soft_i
 * (regression, one entry).  A split maximises the decrease of the summed
 * squared error of the target vectors (Gini gain for one-hot targets).
 *
 * Features are binned once per fit: up to max_bins quantile bins per numeric
 * feature (bin upper edges are midpoints between neighbouring training
 * values) plus one bin for missing values; a CATEGORICAL feature keeps one
 * bin per level, and a node orders the levels it sees by their mean target
 * (the target component whose level means vary most, weighted by counts) and
 * splits on a prefix of that order.  Missing values go to the side that gains
 * more; when a node saw no missing values they go to the side with more rows.
 * Ties break on the lower feature index, then the lower threshold (shorter
 * level prefix); among bin edges that split the node's rows identically the
 * middle one is kept.  Results never depend on ts->n_threads.
 *
 * Prediction walks the tree with the original feature units: a numeric
 * feature goes left when x <= threshold, a categorical code goes left when it
 * is one of the node's left levels (any other code goes right), and NaN takes
 * the recorded missing side.  The model's margin is the logit of the second
 * class (binary), the log of each class probability (multiclass) or the
 * value; `attribute` gives path-dependent TreeSHAP values of that margin.
 *
 * Parameters (text, validated before any work; GB_EUNUSABLE with err->field
 * naming the key):
 *   max_depth         1..32, default 6
 *   min_samples_leaf  >= 1, default 1 (as CART and scikit-learn)
 *   max_leaves        0 = unlimited (depth-first growth), else >= 2
 *                     (best-first growth: the leaf with the largest gain is
 *                     split next, ties to the earlier-created leaf)
 *   max_bins          2..255, default 255
 */
#ifndef CORE_MODEL_STUDENTS_TREE_H
#define CORE_MODEL_STUDENTS_TREE_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"
#include "core/progress.h"

typedef struct gb_tree_params {
    unsigned max_depth;
    size_t min_samples_leaf;
    size_t max_leaves; /* 0 = unlimited */
    unsigned max_bins;
} gb_tree_params;

/* Fills *out with the defaults, then applies params.  Unknown keys, repeated
 * keys, non-integers and out-of-range values are GB_EUNUSABLE naming the key
 * (err->field); *out is then unspecified. */
gb_status gb_tree_params_parse(const gb_param *params, size_t n_params,
                               gb_tree_params *out, gb_error *err);

/* Fits a tree on ts.  On success *out is a gb_model of kind "tree" owned by
 * the caller (gb_model_free).  Errors: GB_EUNUSABLE for bad parameters or an
 * unusable training set (missing targets, out-of-range labels or codes,
 * infinite values, naming the row and feature), GB_ETOOLARGE for more than
 * 2^32 - 1 rows, GB_ENOMEM, GB_ECANCELLED; *out is then untouched. */
gb_status gb_tree_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                      const gb_progress *progress, gb_model **out, gb_error *err);

/* Rebuilds a tree from its artifact (the model's to_json output), giving
 * identical predictions.  *out owned by the caller; on error (GB_EUNUSABLE
 * naming the bad field) *out is untouched. */
gb_status gb_tree_from_json(const cJSON *artifact, gb_model **out, gb_error *err);

/* Nonzero when m is a tree student. */
int gb_tree_is(const gb_model *m);

/* Depth (edges on the longest root-to-leaf path) and number of leaves. */
void gb_tree_complexity(const gb_model *m, unsigned *depth, size_t *n_leaves);

/* SQL export: one `CASE ... END AS "<output>"` expression per output (class
 * probability "p_<class>", or "prediction" for regression), separated by
 * ",\n", ready to follow SELECT.  Columns are the feature names as quoted
 * identifiers; numeric columns are compared with <=, categorical columns hold
 * level names as text (IN lists; a NULL or unknown level takes the missing
 * side).  *out is NUL-terminated, caller frees with gb_free. */
gb_status gb_tree_export_sql(const gb_model *m, char **out, gb_error *err);

/* C export: a standalone translation unit defining
 *   void glassbox_predict(const double *x, double *out);
 * x holds the features in the model's order (NaN = missing, categorical
 * levels as codes), out receives n_outputs values.  *out is NUL-terminated,
 * caller frees with gb_free. */
gb_status gb_tree_export_c(const gb_model *m, char **out, gb_error *err);

#endif /* CORE_MODEL_STUDENTS_TREE_H */
