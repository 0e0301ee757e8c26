/*
 * reason_codes.c - top-k adverse reasons per row and their agreement.
 * Layer: explain.
 */
#include "explain/reason_codes.h"

#include <math.h>

void ex_reason_codes(const double *local, size_t n_rows, size_t n_cols, size_t k,
                     size_t *codes)
{
    for (size_t i = 0; i < n_rows; i++) {
        const double *v = local + i * n_cols;
        size_t *c = codes + i * k;
        for (size_t t = 0; t < k; t++) {
            size_t best = EX_NO_REASON;
            for (size_t j = 0; j < n_cols; j++) {
                if (!(v[j] > 0))
                    continue;
                int taken = 0;
                for (size_t u = 0; u < t; u++)
                    taken |= c[u] == j;
                if (!taken && (best == EX_NO_REASON || v[j] > v[best]))
                    best = j;
            }
            c[t] = best;
        }
    }
}

ex_reason_match ex_reason_codes_match(const size_t *codes_a, const size_t *codes_b,
                                      size_t n_rows, size_t k)
{
    ex_reason_match m = {NAN, NAN};
    if (n_rows == 0 || k == 0)
        return m;
    double rate = 0, top1 = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const size_t *a = codes_a + i * k, *b = codes_b + i * k;
        size_t na = 0, nb = 0, both = 0;
        for (size_t t = 0; t < k; t++) {
            na += a[t] != EX_NO_REASON;
            nb += b[t] != EX_NO_REASON;
            for (size_t u = 0; u < k; u++)
                both += a[t] != EX_NO_REASON && a[t] == b[u];
        }
        size_t most = na > nb ? na : nb;
        rate += most == 0 ? 1.0 : (double)both / (double)most;
        top1 += a[0] == b[0];
    }
    m.match_rate = rate / (double)n_rows;
    m.top1_match = top1 / (double)n_rows;
    return m;
}
