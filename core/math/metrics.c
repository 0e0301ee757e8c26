/*
 * metrics.c - model quality and agreement metrics (see metrics.h).
 * Layer: core/math.
 *
 * AUC and KS walk the rows once in score order, group by group of tied
 * scores, so they cost one sort plus O(n); weighted variants let a bootstrap
 * reuse one sort for every resample.
 */
#include "core/math/metrics.h"

#include <math.h>
#include <stdlib.h>

/* ---- helpers -------------------------------------------------------------- */

int32_t gb_argmax(const double *row, size_t n_classes)
{
    size_t best = 0;
    for (size_t k = 1; k < n_classes; k++) {
        if (row[k] > row[best] || (isnan(row[best]) && !isnan(row[k])))
            best = k;
    }
    return (int32_t)best;
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

gb_status gb_sort_order(const double *v, size_t n, size_t *order, gb_error *err)
{
    if (n == 0)
        return GB_OK;
    keyed *keys = gb_malloc_array(n, sizeof *keys);
    if (keys == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory sorting %zu values", n);
    for (size_t i = 0; i < n; i++) {
        keys[i].v = v[i];
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys, keyed_cmp);
    for (size_t i = 0; i < n; i++)
        order[i] = keys[i].i;
    gb_free(keys);
    return GB_OK;
}

gb_status gb_rank_average(const double *v, size_t n, double *ranks, gb_error *err)
{
    if (n == 0)
        return GB_OK;
    size_t *order = gb_malloc_array(n, sizeof *order);
    if (order == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory ranking %zu values", n);
    gb_status st = gb_sort_order(v, n, order, err);
    if (st != GB_OK) {
        gb_free(order);
        return st;
    }
    size_t start = 0;
    while (start < n) {
        size_t end = start + 1;
        while (end < n && v[order[end]] == v[order[start]])
            end++;
        /* positions start..end-1 hold 1-based ranks start+1..end */
        double rank = 0.5 * ((double)(start + 1) + (double)end);
        for (size_t j = start; j < end; j++)
            ranks[order[j]] = rank;
        start = end;
    }
    gb_free(order);
    return GB_OK;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return 0;
    }
    return 1;
}

static gb_status check_labels(const int32_t *y, size_t n_rows, size_t n_classes,
                              gb_error *err)
{
    if (n_classes < 2) {
        gb_error_set(err, GB_EUNUSABLE, "n_classes must be at least 2, got %zu",
                     n_classes);
        gb_error_field(err, "n_classes");
        return GB_EUNUSABLE;
    }
    for (size_t i = 0; i < n_rows; i++) {
        if (y[i] < 0 || (size_t)y[i] >= n_classes) {
            gb_error_set(err, GB_EUNUSABLE, "label %ld at row %zu is outside [0, %zu)",
                         (long)y[i], i, n_classes);
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
    }
    return GB_OK;
}

double gb_proba_clamp(double p)
{
    if (p < GB_PROBA_EPS)
        return GB_PROBA_EPS;
    if (p > 1.0 - GB_PROBA_EPS)
        return 1.0 - GB_PROBA_EPS;
    return p;
}

/* ---- classification -------------------------------------------------------- */

gb_status gb_metric_accuracy(const int32_t *y, const double *proba, size_t n_rows,
                             size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_labels(y, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_rows == 0 || !all_finite(proba, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    size_t hits = 0;
    for (size_t i = 0; i < n_rows; i++)
        hits += gb_argmax(proba + i * n_classes, n_classes) == y[i];
    *out = (double)hits / (double)n_rows;
    return GB_OK;
}

double gb_metric_auc_presorted(const int32_t *y, int32_t positive, const double *scores,
                               const size_t *order, const double *w, size_t n_rows)
{
    /* Sum over tie groups g: pos_g * (negatives strictly below) + pos_g * neg_g / 2. */
    double neg_below = 0.0, total_pos = 0.0, pairs = 0.0;
    size_t start = 0;
    while (start < n_rows) {
        double pos_g = 0.0, neg_g = 0.0;
        size_t end = start;
        double v = scores[order[start]];
        while (end < n_rows && scores[order[end]] == v) {
            size_t i = order[end];
            double wi = w != NULL ? w[i] : 1.0;
            if (y[i] == positive)
                pos_g += wi;
            else
                neg_g += wi;
            end++;
        }
        pairs += pos_g * (neg_below + 0.5 * neg_g);
        neg_below += neg_g;
        total_pos += pos_g;
        start = end;
    }
    if (total_pos <= 0.0 || neg_below <= 0.0)
        return NAN;
    return pairs / (total_pos * neg_below);
}

double gb_metric_ks_presorted(const int32_t *y, int32_t positive, const double *scores,
                              const size_t *order, const double *w, size_t n_rows)
{
    double total_pos = 0.0, total_neg = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        double wi = w != NULL ? w[i] : 1.0;
        if (y[i] == positive)
            total_pos += wi;
        else
            total_neg += wi;
    }
    if (total_pos <= 0.0 || total_neg <= 0.0)
        return NAN;
    /* Ascending walk: after each tie group, |F_neg - F_pos| = |TPR - FPR| at the
     * threshold just above the group. */
    double cum_pos = 0.0, cum_neg = 0.0, best = 0.0;
    size_t start = 0;
    while (start < n_rows) {
        size_t end = start;
        double v = scores[order[start]];
        while (end < n_rows && scores[order[end]] == v) {
            size_t i = order[end];
            double wi = w != NULL ? w[i] : 1.0;
            if (y[i] == positive)
                cum_pos += wi;
            else
                cum_neg += wi;
            end++;
        }
        double d = fabs(cum_neg / total_neg - cum_pos / total_pos);
        if (d > best)
            best = d;
        start = end;
    }
    return best;
}

typedef double (*presorted_fn)(const int32_t *y, int32_t positive, const double *scores,
                               const size_t *order, const double *w, size_t n_rows);

/* Binary: fn on column 1.  Multiclass: mean of fn over classes where it is
 * defined.  Labels already checked. */
static gb_status one_vs_rest(presorted_fn fn, const int32_t *y, const double *proba,
                             size_t n_rows, size_t n_classes, double *out,
                             gb_error *err)
{
    double *scores = NULL;
    size_t *order = NULL;
    gb_status st = GB_OK;

    if (n_rows == 0 || !all_finite(proba, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    scores = gb_malloc_array(n_rows, sizeof *scores);
    order = gb_malloc_array(n_rows, sizeof *order);
    if (scores == NULL || order == NULL) {
        st = gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
        goto done;
    }
    size_t first = n_classes == 2 ? 1 : 0;
    double sum = 0.0;
    size_t n_defined = 0;
    for (size_t k = first; k < n_classes; k++) {
        for (size_t i = 0; i < n_rows; i++)
            scores[i] = proba[i * n_classes + k];
        st = gb_sort_order(scores, n_rows, order, err);
        if (st != GB_OK)
            goto done;
        double v = fn(y, (int32_t)k, scores, order, NULL, n_rows);
        if (!isnan(v)) {
            sum += v;
            n_defined++;
        }
    }
    *out = n_defined > 0 ? sum / (double)n_defined : NAN;
done:
    gb_free(order);
    gb_free(scores);
    return st;
}

gb_status gb_metric_auc(const int32_t *y, const double *proba, size_t n_rows,
                        size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_labels(y, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    return one_vs_rest(gb_metric_auc_presorted, y, proba, n_rows, n_classes, out, err);
}

gb_status gb_metric_ks(const int32_t *y, const double *proba, size_t n_rows,
                       size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_labels(y, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    return one_vs_rest(gb_metric_ks_presorted, y, proba, n_rows, n_classes, out, err);
}

gb_status gb_metric_auc_scores(const int32_t *y, int32_t positive, const double *scores,
                               size_t n_rows, double *out, gb_error *err)
{
    if (n_rows == 0 || !all_finite(scores, n_rows)) {
        *out = NAN;
        return GB_OK;
    }
    size_t *order = gb_malloc_array(n_rows, sizeof *order);
    if (order == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    gb_status st = gb_sort_order(scores, n_rows, order, err);
    if (st == GB_OK)
        *out = gb_metric_auc_presorted(y, positive, scores, order, NULL, n_rows);
    gb_free(order);
    return st;
}

double gb_metric_gini(double auc)
{
    return 2.0 * auc - 1.0;
}

gb_status gb_metric_logloss(const int32_t *y, const double *proba, size_t n_rows,
                            size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_labels(y, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_rows == 0 || !all_finite(proba, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_rows; i++)
        sum -= log(gb_proba_clamp(proba[i * n_classes + (size_t)y[i]]));
    *out = sum / (double)n_rows;
    return GB_OK;
}

gb_status gb_metric_brier(const int32_t *y, const double *proba, size_t n_rows,
                          size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_labels(y, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_rows == 0 || !all_finite(proba, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        const double *row = proba + i * n_classes;
        if (n_classes == 2) {
            double d = row[1] - (y[i] == 1 ? 1.0 : 0.0);
            sum += d * d;
        } else {
            for (size_t k = 0; k < n_classes; k++) {
                double d = row[k] - ((size_t)y[i] == k ? 1.0 : 0.0);
                sum += d * d;
            }
        }
    }
    *out = sum / (double)n_rows;
    return GB_OK;
}

/* ---- regression ------------------------------------------------------------ */

static int regression_undefined(const double *y, const double *pred, size_t n_rows)
{
    return n_rows == 0 || !all_finite(y, n_rows) || !all_finite(pred, n_rows);
}

gb_status gb_metric_rmse(const double *y, const double *pred, size_t n_rows,
                         double *out, gb_error *err)
{
    (void)err;
    if (regression_undefined(y, pred, n_rows)) {
        *out = NAN;
        return GB_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        double d = pred[i] - y[i];
        sum += d * d;
    }
    *out = sqrt(sum / (double)n_rows);
    return GB_OK;
}

gb_status gb_metric_mae(const double *y, const double *pred, size_t n_rows, double *out,
                        gb_error *err)
{
    (void)err;
    if (regression_undefined(y, pred, n_rows)) {
        *out = NAN;
        return GB_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_rows; i++)
        sum += fabs(pred[i] - y[i]);
    *out = sum / (double)n_rows;
    return GB_OK;
}

gb_status gb_metric_r2(const double *y, const double *pred, size_t n_rows, double *out,
                       gb_error *err)
{
    (void)err;
    if (regression_undefined(y, pred, n_rows)) {
        *out = NAN;
        return GB_OK;
    }
    double mean = 0.0;
    for (size_t i = 0; i < n_rows; i++)
        mean += y[i];
    mean /= (double)n_rows;
    double sse = 0.0, sst = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        double d = y[i] - pred[i], c = y[i] - mean;
        sse += d * d;
        sst += c * c;
    }
    *out = sst > 0.0 ? 1.0 - sse / sst : NAN;
    return GB_OK;
}

/* ---- agreement ------------------------------------------------------------- */

static gb_status check_classes(size_t n_classes, gb_error *err)
{
    if (n_classes >= 2)
        return GB_OK;
    gb_error_set(err, GB_EUNUSABLE, "n_classes must be at least 2, got %zu", n_classes);
    gb_error_field(err, "n_classes");
    return GB_EUNUSABLE;
}

gb_status gb_metric_agreement(const double *teacher, const double *student,
                              size_t n_rows, size_t n_classes, double *out,
                              gb_error *err)
{
    gb_status st = check_classes(n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_rows == 0 || !all_finite(teacher, n_rows * n_classes) ||
        !all_finite(student, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    size_t same = 0;
    for (size_t i = 0; i < n_rows; i++)
        same += gb_argmax(teacher + i * n_classes, n_classes) ==
                gb_argmax(student + i * n_classes, n_classes);
    *out = (double)same / (double)n_rows;
    return GB_OK;
}

gb_status gb_metric_kl(const double *teacher, const double *student, size_t n_rows,
                       size_t n_classes, double *out, gb_error *err)
{
    gb_status st = check_classes(n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_rows == 0 || !all_finite(teacher, n_rows * n_classes) ||
        !all_finite(student, n_rows * n_classes)) {
        *out = NAN;
        return GB_OK;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n_rows * n_classes; i++) {
        double t = teacher[i];
        if (t > 0.0)
            sum += t * (log(t) - log(gb_proba_clamp(student[i])));
    }
    *out = sum / (double)n_rows;
    return GB_OK;
}

gb_status gb_metric_spearman(const double *a, const double *b, size_t n_rows,
                             double *out, gb_error *err)
{
    double *ra = NULL, *rb = NULL;
    gb_status st = GB_OK;

    if (n_rows == 0 || !all_finite(a, n_rows) || !all_finite(b, n_rows)) {
        *out = NAN;
        return GB_OK;
    }
    ra = gb_malloc_array(n_rows, sizeof *ra);
    rb = gb_malloc_array(n_rows, sizeof *rb);
    if (ra == NULL || rb == NULL) {
        st = gb_error_set(err, GB_ENOMEM, "out of memory ranking %zu rows", n_rows);
        goto done;
    }
    if ((st = gb_rank_average(a, n_rows, ra, err)) != GB_OK ||
        (st = gb_rank_average(b, n_rows, rb, err)) != GB_OK)
        goto done;
    /* Both rank vectors have mean (n + 1) / 2 exactly. */
    double mean = 0.5 * ((double)n_rows + 1.0);
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        double da = ra[i] - mean, db = rb[i] - mean;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    *out = saa > 0.0 && sbb > 0.0 ? sab / sqrt(saa * sbb) : NAN;
done:
    gb_free(rb);
    gb_free(ra);
    return st;
}

gb_status gb_metric_roc_curve(const int32_t *y, int32_t positive, const double *scores,
                              size_t n_rows, size_t max_points, double **fpr,
                              double **tpr, size_t *n_points, gb_error *err)
{
    gb_status rc;
    size_t *order = NULL;
    double *f = NULL, *t = NULL;
    *fpr = NULL;
    *tpr = NULL;
    *n_points = 0;
    if (max_points < 2)
        max_points = 2;
    size_t n_pos = 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (!isfinite(scores[i]))
            return gb_error_set(err, GB_EUNUSABLE, "score of row %zu is not finite", i);
        n_pos += y[i] == positive;
    }
    size_t n_neg = n_rows - n_pos;
    if (n_pos == 0 || n_neg == 0)
        return gb_error_set(err, GB_EUNUSABLE,
                            "an ROC curve needs both classes among the rows");
    order = gb_malloc_array(n_rows, sizeof *order);
    f = gb_malloc_array(n_rows + 1, sizeof *f);
    t = gb_malloc_array(n_rows + 1, sizeof *t);
    if (order == NULL || f == NULL || t == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory computing an ROC curve");
        goto fail;
    }
    rc = gb_sort_order(scores, n_rows, order, err);
    if (rc != GB_OK)
        goto fail;
    /* Walk from the highest score down; one point per distinct score. */
    size_t n = 0, tp = 0, fp = 0;
    f[n] = 0.0;
    t[n] = 0.0;
    n++;
    for (size_t k = n_rows; k > 0;) {
        double v = scores[order[k - 1]];
        while (k > 0 && scores[order[k - 1]] == v) {
            if (y[order[k - 1]] == positive)
                tp++;
            else
                fp++;
            k--;
        }
        f[n] = (double)fp / (double)n_neg;
        t[n] = (double)tp / (double)n_pos;
        n++;
    }
    if (n > max_points) {
        /* keep max_points points at evenly spaced positions (first and last
         * included), in place: kept positions only move forward */
        for (size_t j = 0; j < max_points; j++) {
            size_t at =
                (size_t)(((double)j * (double)(n - 1)) / (double)(max_points - 1) +
                         0.5);
            f[j] = f[at];
            t[j] = t[at];
        }
        n = max_points;
    }
    gb_free(order);
    *fpr = f;
    *tpr = t;
    *n_points = n;
    return GB_OK;
fail:
    gb_free(order);
    gb_free(f);
    gb_free(t);
    return rc;
}
