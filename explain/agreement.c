/*
 * agreement.c - Spearman, top-k Jaccard and cosine agreement of
 * explanations.
 * Layer: explain.
 */
#include "explain/agreement.h"

#include <math.h>

#include "core/math/metrics.h"

gb_status ex_agreement_spearman(const double *a, const double *b, size_t n, double *out,
                                gb_error *err)
{
    if (n < 2) {
        *out = NAN;
        return GB_OK;
    }
    return gb_metric_spearman(a, b, n, out, err);
}

size_t ex_top_k(const double *imp, size_t n, size_t k, size_t *top)
{
    if (k > n)
        k = n;
    /* Selection by repeated scans: k is small (5) and n is columns. */
    for (size_t t = 0; t < k; t++) {
        size_t best = n;
        for (size_t j = 0; j < n; j++) {
            int taken = 0;
            for (size_t u = 0; u < t; u++)
                taken |= top[u] == j;
            if (taken)
                continue;
            if (best == n || imp[j] > imp[best])
                best = j;
        }
        top[t] = best;
    }
    return k;
}

double ex_agreement_top_jaccard(const double *a, const double *b, size_t n, size_t k)
{
    if (n == 0)
        return NAN;
    for (size_t j = 0; j < n; j++)
        if (isnan(a[j]) || isnan(b[j]))
            return NAN;
    size_t ta[64], tb[64];
    if (k > 64)
        k = 64;
    size_t ka = ex_top_k(a, n, k, ta), kb = ex_top_k(b, n, k, tb), both = 0;
    for (size_t u = 0; u < ka; u++)
        for (size_t v = 0; v < kb; v++)
            both += ta[u] == tb[v];
    return (double)both / (double)(ka + kb - both);
}

double ex_agreement_cosine(const double *a, const double *b, size_t n_rows, size_t dim)
{
    double total = 0;
    size_t used = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const double *x = a + i * dim, *y = b + i * dim;
        double xy = 0, xx = 0, yy = 0;
        for (size_t j = 0; j < dim; j++) {
            xy += x[j] * y[j];
            xx += x[j] * x[j];
            yy += y[j] * y[j];
        }
        if (isnan(xy) || isnan(xx) || isnan(yy))
            return NAN;
        if (xx == 0 || yy == 0)
            continue;
        total += xy / sqrt(xx * yy);
        used++;
    }
    return used > 0 ? total / (double)used : NAN;
}
