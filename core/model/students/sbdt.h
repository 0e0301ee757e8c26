/*
 * sbdt.h - the soft binary decision tree student (Frosst & Hinton 2017,
 * "Distilling a Neural Network Into a Soft Decision Tree").
 * Layer: core/model/students.
 *
 * A complete binary tree of depth d (1..10) in heap order: inner nodes
 * 0 .. 2^d - 2 (children of i: 2i+1 on the left, 2i+2 on the right), leaves
 * l = 0 .. 2^d - 1 (tree node 2^d - 1 + l).  Inner node i has a filter w_i
 * (n_features) and a bias b_i; on a standardised row z,
 *
 *     p_i(z) = sigmoid(beta * (w_i . z + b_i))     probability of the RIGHT branch
 *
 * with one inverse temperature beta > 0 (learned as log beta, or fixed).  The
 * path probability P_l(z) of leaf l is the product of the branch probabilities
 * on its way.  Classification: leaf l holds Q_l = softmax(phi_l) over the
 * classes.  Regression: leaf l holds one value v_l.
 *
 * Inputs are standardised with the training means and population standard
 * deviations (scale 1 for a constant column); a missing value is imputed with
 * the mean (z = 0).  Every feature must be NUMERIC (one-hot columns).
 *
 * Loss per mini-batch of B rows (docs/students-sbdt.md):
 *   classification  1/B sum_rows -sum_l P_l sum_k q_k log Q_lk, with the target
 *                   q = alpha*onehot(y) + (1-alpha)*q_T, q_T = ts->soft, the
 *                   teacher's probabilities softened at temperature T (that is
 *                   the only place T enters: the leaves are trained at T = 1
 *                   and predict at T = 1);
 *   regression      1/B sum_rows sum_l P_l (v_l - t)^2 / 2 on the standardised
 *                   target t = (alpha*y + (1-alpha)*teacher - mean) / sd;
 * plus the balancing penalty
 *   C = -lambda sum_i 2^-depth(i) * 0.5 * (log a_i + log(1 - a_i)),
 *   a_i = sum_rows P_i p_i / sum_rows P_i  (P_i: path probability of node i),
 * a_i clamped to [1e-10, 1 - 1e-10].  Adam (core/math/adam.h, defaults but
 * the learning rate) over seeded, shuffled mini-batches.
 *
 * Initialisation: w ~ U(-1/sqrt(n_features), 1/sqrt(n_features)) from the
 * seeded generator, b = 0, phi = 0 (regression v = 0), log beta = 0.
 *
 * Predictions: predict gives the distribution (value) of the leaf with the
 * highest path probability, the interpretable rule; gb_sbdt_predict_mixture
 * gives sum_l P_l Q_l.
 *
 * Parameters (text): max_depth (1..10, default 4), epochs (1..100000, default
 * 40), batch_size (1..1000000, default 64), learning_rate ((0, 10], default
 * 0.01), penalty (lambda, [0, 1e6], default 0.1), beta ("learned", the default,
 * or a fixed number > 0).
 */
#ifndef CORE_MODEL_STUDENTS_SBDT_H
#define CORE_MODEL_STUDENTS_SBDT_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"

#define GB_SBDT_MAX_DEPTH 10

/* Validated parameters. */
typedef struct gb_sbdt_params {
    int max_depth;
    long epochs;
    long batch_size;
    double learning_rate;
    double penalty;
    double beta; /* fixed inverse temperature; 0 = learned */
} gb_sbdt_params;

/* Parses and validates text parameters into *out (defaults for the keys not
 * given).  GB_EUNUSABLE naming the key (err->field) for an unknown key, a
 * duplicate, a value that is not a number or out of range; *out unchanged on
 * error. */
gb_status gb_sbdt_params_parse(const gb_param *params, size_t n_params,
                               gb_sbdt_params *out, gb_error *err);

/* The dispatcher's check: parameters, any task. */
gb_status gb_sbdt_check(const gb_param *params, size_t n_params, gb_task task,
                        gb_error *err);

/* Fits an SBDT on ts (parameters validated first; nothing allocated on
 * error).  *out is owned by the caller (gb_model_free).  GB_EUNUSABLE for
 * parameter errors, a CATEGORICAL feature, infinite feature values, missing
 * labels or soft targets the target needs, labels out of range, soft targets
 * outside [0, 1] or not finite; GB_ENOMEM; GB_ECANCELLED when progress asks to
 * stop.  Deterministic for a seed, whatever ts->n_threads is (BLAS must run
 * single-threaded, as the service sets it). */
gb_status gb_sbdt_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                      const gb_progress *progress, gb_model **out, gb_error *err);

/* Nonzero when m is an SBDT student. */
int gb_sbdt_is_model(const gb_model *m);

/* The mixture prediction sum_l P_l(x) Q_l (regression: sum_l P_l v_l) of
 * n_rows rows of X (n_rows x n_features) into out (n_rows x n_outputs).
 * GB_EUNUSABLE when m is not an SBDT; GB_ENOMEM. */
gb_status gb_sbdt_predict_mixture(const gb_model *m, const double *X, size_t n_rows,
                                  double *out, gb_error *err);

/* Each row's maximum-probability path, for explanation.  For row r and level
 * k (0 = root .. depth-1): nodes[r*depth + k] is the inner node visited and
 * branch_prob[r*depth + k] the probability of the branch taken there (p_i if
 * it goes right, 1 - p_i if left); leaf[r] is the leaf reached (0 ..
 * 2^depth - 1), the leaf with the highest path probability (ties: the lowest
 * index), whose probability is the product of the branch probabilities.
 * Arrays are caller-owned: nodes and branch_prob n_rows x depth, leaf n_rows
 * (any may be NULL).  GB_EUNUSABLE when m is not an SBDT; GB_ENOMEM. */
gb_status gb_sbdt_paths(const gb_model *m, const double *X, size_t n_rows,
                        size_t *nodes, double *branch_prob, size_t *leaf,
                        gb_error *err);

/* The training objective on one batch, exposed for gradient checks.  Tree of
 * `depth` over n_features standardised inputs Z (n_rows x n_features) with
 * n_out leaf outputs (classes, or 1 for regression); theta is the flat
 * parameter vector, in this order:
 *   W       n_inner x n_features filters (n_inner = 2^depth - 1), row-major
 *   b       n_inner biases
 *   leaf    n_leaves x n_out: leaf logits phi (classification) or values
 *   log_beta  1 (ignored when fixed_beta > 0, whose gradient is then 0)
 * q is n_rows x n_out targets (classification: distributions; regression:
 * standardised targets, n_out = 1).  Writes the batch loss plus penalty to
 * *loss and its gradient to grad (same layout as theta).  GB_ENOMEM. */
gb_status gb_sbdt_objective(int depth, size_t n_features, size_t n_out, int regression,
                            const double *theta, double fixed_beta, double penalty,
                            const double *Z, const double *q, size_t n_rows,
                            double *loss, double *grad, gb_error *err);

/* The tree's depth (0 when m is not an SBDT). */
int gb_sbdt_depth(const gb_model *m);

/* Rebuilds an SBDT from its artifact (to_json output).  Predictions are
 * bit-identical to the model that wrote it.  GB_EUNUSABLE naming the field
 * on a malformed artifact; *out owned by the caller. */
gb_status gb_sbdt_from_json(const cJSON *artifact, gb_model **out, gb_error *err);

/* Exports: "c", a standalone C99 function
 *   void glassbox_predict(const double *x, double *out)
 * (x in feature order, NaN = missing, out as predict: the max-path leaf's
 * distribution or value).  "sql" is GB_EUNUSABLE: the max-path rule is an
 * argmax over 2^depth products of sigmoids of dot products over every
 * feature, which has no practical CASE form; use the C export.  *out is
 * NUL-terminated, freed with gb_free. */
gb_status gb_sbdt_export_sql(const gb_model *m, char **out, gb_error *err);
gb_status gb_sbdt_export_c(const gb_model *m, char **out, gb_error *err);

#endif /* CORE_MODEL_STUDENTS_SBDT_H */
