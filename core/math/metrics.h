/*
 * metrics.h - model quality and teacher/student agreement metrics.
 * Layer: core/math (includes only core/base.h).
 *
 * Array layouts (all row-major, nothing is modified):
 *
 *   y          int32 class indices, n_rows entries, each in [0, n_classes)
 *   proba      n_rows x n_classes doubles, row i = P(class 0..K-1 | row i);
 *              rows are expected to sum to 1 (binary: 2 columns, column 1 is
 *              P(class 1))
 *   scores     n_rows doubles, one score per row (higher = more class 1)
 *   y_value /  n_rows doubles (regression targets / predictions)
 *   pred
 *
 * Every function validates its arguments first.  Labels outside
 * [0, n_classes) or n_classes < 2 are GB_EUNUSABLE naming "y" (or "n_classes")
 * and the offending row; *out is left untouched on error.  Functions that sort
 * may return GB_ENOMEM.
 *
 * Undefined results are NaN, never an error (the report renders them as
 * null):  n_rows == 0; any non-finite input value; AUC/KS when y has only one
 * class; R2 when the reference is constant; Spearman when either vector is
 * constant.  docs/metrics.md gives every definition.
 *
 * Sorting is by (value, row index), a total order, so every result is
 * deterministic; ranks of tied values are averaged, so the order of ties never
 * changes a result.
 */
#ifndef CORE_MATH_METRICS_H
#define CORE_MATH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Probabilities are clamped to [GB_PROBA_EPS, 1 - GB_PROBA_EPS] before any
 * logarithm (log loss, KL, logits). */
#define GB_PROBA_EPS 1e-15

/* p clamped to [GB_PROBA_EPS, 1 - GB_PROBA_EPS] (NaN is returned as is).
 * Pure; no errors. */
double gb_proba_clamp(double p);

/* ---- helpers -------------------------------------------------------------- */

/* Index of the largest entry of row[0..n_classes); ties go to the lowest
 * index (numpy's argmax).  NaN entries are never chosen unless all are NaN
 * (then 0). */
int32_t gb_argmax(const double *row, size_t n_classes);

/* Fills order[0..n) with 0..n-1 sorted ascending by (v[i], i).  v must be
 * free of NaN.  GB_ENOMEM on allocation failure (order then undefined). */
gb_status gb_sort_order(const double *v, size_t n, size_t *order, gb_error *err);

/* Average 1-based ranks of v[0..n) (ties share the mean of their ranks,
 * scipy.stats.rankdata's "average"), written to ranks[0..n).  v must be free
 * of NaN.  GB_ENOMEM on allocation failure. */
gb_status gb_rank_average(const double *v, size_t n, double *ranks, gb_error *err);

/* ---- classification -------------------------------------------------------- */

/* Share of rows whose argmax of proba equals y. */
gb_status gb_metric_accuracy(const int32_t *y, const double *proba, size_t n_rows,
                             size_t n_classes, double *out, gb_error *err);

/* ROC AUC.  Binary (n_classes == 2): the Mann-Whitney statistic of column 1
 * against y == 1, ties counted one half (sklearn roc_auc_score).  Multiclass:
 * the unweighted mean over classes of the one-vs-rest AUC of column k against
 * y == k (sklearn multi_class="ovr", average="macro"); a class absent from y
 * (or present on every row) has no AUC and is left out of the mean.  NaN when
 * no class has an AUC. */
gb_status gb_metric_auc(const int32_t *y, const double *proba, size_t n_rows,
                        size_t n_classes, double *out, gb_error *err);

/* Binary AUC of scores against labels y (positive iff y[i] == positive). */
gb_status gb_metric_auc_scores(const int32_t *y, int32_t positive, const double *scores,
                               size_t n_rows, double *out, gb_error *err);

/* Kolmogorov-Smirnov statistic max over thresholds t of |TPR(t) - FPR(t)|,
 * thresholds between distinct score values (tied scores move together).
 * Binary: of column 1; multiclass: mean of the one-vs-rest KS over classes
 * that have one (as gb_metric_auc). */
gb_status gb_metric_ks(const int32_t *y, const double *proba, size_t n_rows,
                       size_t n_classes, double *out, gb_error *err);

/* Gini = 2 AUC - 1 (the credit-risk accuracy ratio); NaN stays NaN. */
double gb_metric_gini(double auc);

/* Mean negative log-likelihood -1/n sum_i log(clamp(proba[i][y_i])) (sklearn
 * log_loss with eps = 1e-15; sklearn also renormalises clamped rows, which
 * changes nothing beyond 1e-14 for rows summing to 1). */
gb_status gb_metric_logloss(const int32_t *y, const double *proba, size_t n_rows,
                            size_t n_classes, double *out, gb_error *err);

/* Brier score.  Binary: mean (proba[i][1] - [y_i == 1])^2 (sklearn
 * brier_score_loss).  Multiclass: mean over rows of sum_k (proba[i][k] -
 * [y_i == k])^2 (Brier's original score; for two classes it would be twice the
 * binary value, which is why binary uses the sklearn form). */
gb_status gb_metric_brier(const int32_t *y, const double *proba, size_t n_rows,
                          size_t n_classes, double *out, gb_error *err);

/* ---- presorted, weighted (bootstrap) -------------------------------------- */

/* AUC / KS of scores against (y[i] == positive) with row weights w (NULL = all
 * 1; a bootstrap passes resample counts), given order = gb_sort_order(scores).
 * No allocation, no validation beyond the maths: NaN when either side has zero
 * total weight.  Scores must be finite. */
double gb_metric_auc_presorted(const int32_t *y, int32_t positive, const double *scores,
                               const size_t *order, const double *w, size_t n_rows);
double gb_metric_ks_presorted(const int32_t *y, int32_t positive, const double *scores,
                              const size_t *order, const double *w, size_t n_rows);

/* ---- regression ------------------------------------------------------------ */

/* sqrt(mean (pred - y)^2), mean |pred - y|, and R2 = 1 - SSE/SST with SST
 * about the mean of y (sklearn r2_score; NaN when SST = 0, where sklearn's
 * force_finite default would print 1 or 0). */
gb_status gb_metric_rmse(const double *y, const double *pred, size_t n_rows,
                         double *out, gb_error *err);
gb_status gb_metric_mae(const double *y, const double *pred, size_t n_rows, double *out,
                        gb_error *err);
gb_status gb_metric_r2(const double *y, const double *pred, size_t n_rows, double *out,
                       gb_error *err);

/* ---- agreement ------------------------------------------------------------- */

/* Share of rows where argmax(teacher row) == argmax(student row); both
 * n_rows x n_classes. */
gb_status gb_metric_agreement(const double *teacher, const double *student,
                              size_t n_rows, size_t n_classes, double *out,
                              gb_error *err);

/* Mean over rows of KL(teacher || student) = sum_k t_k (log t_k - log s_k),
 * terms with t_k = 0 contribute 0, s_k clamped to [1e-15, 1 - 1e-15] (scipy
 * rel_entr of the clamped student).  In nats. */
gb_status gb_metric_kl(const double *teacher, const double *student, size_t n_rows,
                       size_t n_classes, double *out, gb_error *err);

/* Spearman's rank correlation of a and b: Pearson correlation of their
 * average ranks (scipy.stats.spearmanr).  NaN when either is constant. */
gb_status gb_metric_spearman(const double *a, const double *b, size_t n_rows,
                             double *out, gb_error *err);

/* The ROC curve of scores[0..n_rows) for class `positive` of y: one point
 * (FPR, TPR) before any threshold, then one per distinct score from the
 * highest down (tied scores move together), as scikit-learn's roc_curve with
 * drop_intermediate=False.  When that gives more than max_points points
 * (max_points >= 2), max_points of them are kept at evenly spaced positions,
 * always including the first and the last.  *fpr and *tpr are new arrays of
 * *n_points entries (caller frees with gb_free).  Errors: GB_EUNUSABLE when
 * either class is absent or a score is not finite; GB_ENOMEM.  On error the
 * outputs are NULL / 0. */
gb_status gb_metric_roc_curve(const int32_t *y, int32_t positive, const double *scores,
                              size_t n_rows, size_t max_points, double **fpr,
                              double **tpr, size_t *n_points, gb_error *err);

#endif /* CORE_MATH_METRICS_H */
