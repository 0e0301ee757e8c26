/*
 * gam.h - the GAM student (explainable boosting): an additive model
 *   F(x) = b0 + sum_j f_j(x_j) [+ sum_(j,k) f_jk(x_j, x_k)]
 * whose terms are step functions over binned features, fitted by cyclic
 * gradient boosting on the distillation loss.
 * Layer: core/model/students.
 *
 * Binning (once per fit, on every training row): a numeric feature gets up to
 * max_bins quantile bins (upper edges are midpoints between neighbouring
 * training values; a value x falls in the first bin whose edge is >= x, values
 * above the last edge in the last bin) plus one missing bin; a CATEGORICAL
 * feature (codes, student.h) gets one bin per level plus a missing bin, which
 * also takes codes the model does not know.  Interaction terms use a coarser
 * grid of up to 32 quantile bins (+ missing) per feature.
 *
 * Boosting (ALGORITHMS.md, "GAM student"): each bag draws a seeded inner
 * validation split (stratified for classification) and, round after round,
 * visits every feature in order: the gradient and hessian of the loss are
 * summed per bin, a tree of at most max_leaves leaves (greedy, cuts over the
 * ordered bins; categorical levels ordered by their gradient/hessian ratio;
 * the missing bin is its own leaf) gives Newton values -G/(H + 1e-3), and
 * learning_rate times them is added to f_j (during the first smoothing_rounds
 * rounds the cuts are drawn at random among the valid ones).  Loss: classification
 * alpha*CE(y, softmax(F)) + (1-alpha)*T^2*KL(q_T || softmax(F/T)), gradient
 * alpha*(p - y) + (1-alpha)*T*(p_T - q_T), hessian alpha*p(1-p) +
 * (1-alpha)*p_T(1-p_T) per margin; regression squared error to
 * alpha*y + (1-alpha)*teacher.  After each round the validation loss is
 * computed; the model of the best round is kept and a bag stops after
 * early_stopping_rounds rounds without an improvement of the mean validation
 * loss by more than 1e-5.  Each bag's shapes are
 * centred to mean zero over all training rows (means go to the intercept; a
 * categorical level no training row has scores 0);
 * the model averages the bags and keeps the per-bin standard deviation
 * across bags (ddof 1; 0 for one bag) as the error band.
 *
 * Interactions (interactions > 0): after the main effects, the pairs are
 * ranked by FAST (the best split of the pair's 2-D grid into 4 cells by one
 * cut per feature, gain in the same Newton terms, gradients of the bagged
 * main-effect model on all training rows); the top pairs (positive gain, ties
 * to the lower pair) are then boosted as 2-D tables with 4-cell updates, with
 * the same early stopping.  Pairs containing a monotone feature are never
 * chosen.
 *
 * Monotone constraints: after every update of a constrained feature its
 * whole shape over the non-missing bins is projected onto the monotone
 * functions (weighted pool-adjacent-violators, weights = training rows per
 * bin), so every stored shape is monotone; the missing bin is free.
 *
 * Attribution (model.h attribute): the entry of feature j is f_j(x_j) plus
 * half of every interaction term involving j; the bias entry is b0; the
 * entries sum to the margin (up to rounding).
 *
 * Parameters (text, validated before any work; GB_EUNUSABLE, err->field
 * naming the key):
 *   rounds                 1..100000, default 5000 (an upper bound: early
 *                          stopping usually ends far sooner)
 *   learning_rate          (0, 1], default 0.02
 *   max_bins               2..255, default 255
 *   bags                   1..64, default 4
 *   interactions           0..1000, default 0
 *   monotone               "name:1,name:-1" (+1 increasing, -1 decreasing),
 *                          or the JSON object {"name": 1, "other": -1};
 *                          numeric features only, not for multiclass
 *   early_stopping_rounds  1..100000, default 50
 *   validation_fraction    0 or in [0.01, 0.5], default 0.15 (0: no early
 *                          stopping, every round on every row)
 *   min_samples_leaf       >= 1, default 2
 *   max_leaves             2..3, default 3
 *   smoothing_rounds       0..100000, default 200: the first rounds of the
 *                          main effects draw their cuts at random (seeded)
 *                          instead of greedily, which gives smoother shapes
 *
 * Results never depend on ts->n_threads: bags run in parallel and are
 * averaged in bag order; within a bag histograms are summed over fixed row
 * blocks in block order.
 */
#ifndef CORE_MODEL_STUDENTS_GAM_H
#define CORE_MODEL_STUDENTS_GAM_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"
#include "core/progress.h"

typedef struct gb_gam_params {
    unsigned rounds;
    double learning_rate;
    unsigned max_bins;
    unsigned bags;
    unsigned interactions;
    const char *monotone; /* borrowed from the parameter text; "" = none */
    unsigned early_stopping_rounds;
    double validation_fraction;
    size_t min_samples_leaf;
    unsigned max_leaves;
    unsigned smoothing_rounds;
} gb_gam_params;

/* Fills *out with the defaults, then applies params (out->monotone borrows
 * the value text).  Unknown or repeated keys, malformed or out-of-range
 * values are GB_EUNUSABLE naming the key; *out is then unspecified. */
gb_status gb_gam_params_parse(const gb_param *params, size_t n_params,
                              gb_gam_params *out, gb_error *err);

/* gb_student_check for "gam": the parameters, and with a known task the
 * task-dependent rules (no monotone constraints for multiclass). */
gb_status gb_gam_check(const gb_param *params, size_t n_params, gb_task task,
                       gb_error *err);

/* Fits a GAM on ts.  On success *out is a gb_model of kind "gam" owned by the
 * caller (gb_model_free).  Errors: GB_EUNUSABLE for bad parameters (a
 * monotone name that is not a numeric feature names "monotone") or an
 * unusable training set (missing targets, bad labels or codes, infinite
 * values, too few rows for the validation split), GB_ETOOLARGE, GB_ENOMEM,
 * GB_ECANCELLED; *out is then untouched. */
gb_status gb_gam_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                     const gb_progress *progress, gb_model **out, gb_error *err);

/* Rebuilds a GAM from its artifact (to_json output), giving identical
 * predictions.  *out owned by the caller; on error (GB_EUNUSABLE naming the
 * bad field) *out is untouched. */
gb_status gb_gam_from_json(const cJSON *artifact, gb_model **out, gb_error *err);

/* Nonzero when m is a GAM student. */
int gb_gam_is(const gb_model *m);

/* Number of terms (features + interaction pairs) and the largest number of
 * rounds any bag kept. */
void gb_gam_complexity(const gb_model *m, size_t *n_terms, size_t *rounds_used);

/* The main-effect shape of feature j: *n_bins bins (the last one is the
 * missing bin), scores and std n_bins x n_margins, row-major.  Borrowed
 * pointers valid while m lives; GB_EUNUSABLE if m is not a GAM or j is out
 * of range. */
gb_status gb_gam_shape(const gb_model *m, size_t j, size_t *n_bins,
                       const double **scores, const double **std, gb_error *err);

/* SQL export: one expression per output ("p_<class>", or "prediction"),
 * separated by ",\n", ready to follow SELECT: the margin is the intercept
 * plus one CASE per feature (numeric columns compared with <=, categorical
 * columns hold level names as text; NULL or an unknown level takes the
 * missing bin), the link as in predict (binary p1 = 1/(1+exp(-m)), p0 = 1-p1;
 * multiclass p_k = 1/sum_j exp(m_j - m_k); needs SQLite's exp()).  *out is
 * NUL-terminated, caller frees with gb_free. */
gb_status gb_gam_export_sql(const gb_model *m, char **out, gb_error *err);

/* C export: a standalone translation unit defining
 *   void glassbox_predict(const double *x, double *out);
 * with the model's feature order (NaN = missing, categorical levels as
 * codes); same arithmetic as predict.  Caller frees *out with gb_free. */
gb_status gb_gam_export_c(const gb_model *m, char **out, gb_error *err);

#endif /* CORE_MODEL_STUDENTS_GAM_H */
