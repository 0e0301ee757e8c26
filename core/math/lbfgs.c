/*
 * lbfgs.c - L-BFGS with a strong-Wolfe line search, and OWL-QN for L1.
 * Layer: core/math.  See lbfgs.h for the contract.
 */
#include "core/math/lbfgs.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define WOLFE_C1 1e-4
#define WOLFE_C2 0.9

void gb_lbfgs_params_init(gb_lbfgs_params *p)
{
    p->m = 10;
    p->max_iter = 500;
    p->max_linesearch = 40;
    p->gtol = 1e-7;
    p->ftol = 64.0 * DBL_EPSILON;
    p->l1 = 0.0;
    p->l1_mask = NULL;
}

const char *gb_lbfgs_stop_name(gb_lbfgs_stop stop)
{
    switch (stop) {
    case GB_LBFGS_GTOL: return "gtol";
    case GB_LBFGS_FTOL: return "ftol";
    case GB_LBFGS_MAX_ITER: return "max_iter";
    case GB_LBFGS_NO_PROGRESS: return "no_progress";
    }
    return "unknown";
}

/* ---- the optimiser's working state ----------------------------------------- */

typedef struct lbfgs_state {
    size_t n;
    gb_lbfgs_eval_cb eval_cb;
    void *ctx;
    const gb_lbfgs_params *params;
    double *x, *g, *pg, *d, *xt, *gt, *q;
    double *s, *y; /* m x n ring buffers of correction pairs */
    double *rho, *alpha;
    size_t n_pairs; /* stored pairs (<= m) */
    size_t newest;  /* index of the newest pair */
    size_t n_eval;
} lbfgs_state;

static double dot(const double *a, const double *b, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

static int penalised(const lbfgs_state *st, size_t i)
{
    return st->params->l1 > 0.0 &&
           (st->params->l1_mask == NULL || st->params->l1_mask[i]);
}

static double l1_norm(const lbfgs_state *st, const double *x)
{
    if (st->params->l1 <= 0.0)
        return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < st->n; i++)
        if (penalised(st, i))
            sum += fabs(x[i]);
    return st->params->l1 * sum;
}

/* The pseudo-gradient of F at x (the gradient when l1 = 0): for a penalised
 * coordinate at zero, the one-sided derivative that points downhill, or 0
 * when neither side descends. */
static void pseudo_gradient(const lbfgs_state *st, const double *x, const double *g,
                            double *pg)
{
    double l1 = st->params->l1;
    for (size_t i = 0; i < st->n; i++) {
        if (!penalised(st, i)) {
            pg[i] = g[i];
        } else if (x[i] > 0.0) {
            pg[i] = g[i] + l1;
        } else if (x[i] < 0.0) {
            pg[i] = g[i] - l1;
        } else if (g[i] + l1 < 0.0) {
            pg[i] = g[i] + l1;
        } else if (g[i] - l1 > 0.0) {
            pg[i] = g[i] - l1;
        } else {
            pg[i] = 0.0;
        }
    }
}

static double inf_norm(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i]) > m)
            m = fabs(v[i]);
    return m;
}

/* d = -H pg by the two-loop recursion over the stored pairs. */
static void two_loop(lbfgs_state *st)
{
    size_t n = st->n, m = st->params->m;
    double *q = st->q;
    memcpy(q, st->pg, n * sizeof *q);
    for (size_t k = 0; k < st->n_pairs; k++) {
        size_t j = (st->newest + m - k) % m;
        st->alpha[j] = st->rho[j] * dot(st->s + j * n, q, n);
        const double *yj = st->y + j * n;
        for (size_t i = 0; i < n; i++)
            q[i] -= st->alpha[j] * yj[i];
    }
    double gamma = 1.0;
    if (st->n_pairs > 0) {
        const double *yn = st->y + st->newest * n;
        gamma = 1.0 / (st->rho[st->newest] * dot(yn, yn, n));
    }
    for (size_t i = 0; i < n; i++)
        q[i] *= gamma;
    for (size_t k = st->n_pairs; k-- > 0;) {
        size_t j = (st->newest + m - k) % m;
        double beta = st->rho[j] * dot(st->y + j * n, q, n);
        const double *sj = st->s + j * n;
        for (size_t i = 0; i < n; i++)
            q[i] += (st->alpha[j] - beta) * sj[i];
    }
    for (size_t i = 0; i < n; i++)
        st->d[i] = -q[i];
}

/* Evaluates f at the trial point xt (already set), gradient into gt. */
static double eval_trial(lbfgs_state *st)
{
    st->n_eval++;
    return st->eval_cb(st->ctx, st->xt, st->gt);
}

static void set_trial(lbfgs_state *st, double a)
{
    for (size_t i = 0; i < st->n; i++)
        st->xt[i] = st->x[i] + a * st->d[i];
}

/* Minimiser of the cubic through (a, fa, da) and (b, fb, db); NaN when the
 * cubic has no minimiser. */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
    double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    double disc = d1 * d1 - da * db;
    if (!(disc >= 0.0))
        return NAN;
    double d2 = sqrt(disc);
    if (b < a)
        d2 = -d2;
    double denom = db - da + 2.0 * d2;
    if (denom == 0.0)
        return NAN;
    return b - (b - a) * (db + d2 - d1) / denom;
}

/* The approximate Wolfe conditions of Hager & Zhang (2005): near a minimum
 * f changes by less than its rounding error, so sufficient decrease is
 * judged up to a relative 1e-10 and the strong curvature condition decides. */
static int approx_wolfe(double fa, double dga, double f0, double dg0)
{
    return isfinite(fa) && fa <= f0 + 1e-10 * fabs(f0) && fabs(dga) <= -WOLFE_C2 * dg0;
}

/* Strong-Wolfe line search along d from x (f0, slope dg0 < 0).  On success
 * (returns 1) xt/gt hold the accepted point and *f_out its f; on failure
 * (returns 0) xt/gt are scratch. */
static int wolfe_search(lbfgs_state *st, double a, double f0, double dg0, double *f_out)
{
    size_t max_ls = st->params->max_linesearch;
    double a_prev = 0.0, f_prev = f0, dg_prev = dg0;
    double lo = 0.0, flo = f0, dglo = dg0, hi = 0.0, fhi = 0.0, dghi = 0.0;
    size_t evals = 0;

    /* bracket: grow a until the minimum lies in [lo, hi] (left by break). */
    for (;;) {
        if (evals >= max_ls)
            return 0;
        set_trial(st, a);
        double fa = eval_trial(st);
        double dga = dot(st->gt, st->d, st->n);
        evals++;
        if (approx_wolfe(fa, dga, f0, dg0)) {
            *f_out = fa;
            return 1;
        }
        if (!isfinite(fa) || fa > f0 + WOLFE_C1 * a * dg0 ||
            (evals > 1 && fa >= f_prev)) {
            lo = a_prev, flo = f_prev, dglo = dg_prev;
            hi = a, fhi = fa, dghi = dga;
            break;
        }
        if (fabs(dga) <= -WOLFE_C2 * dg0) {
            *f_out = fa;
            return 1;
        }
        if (dga >= 0.0) {
            lo = a, flo = fa, dglo = dga;
            hi = a_prev, fhi = f_prev, dghi = dg_prev;
            break;
        }
        a_prev = a, f_prev = fa, dg_prev = dga;
        a *= 2.0;
    }

    /* zoom: lo satisfies sufficient decrease with the lowest f so far. */
    while (evals < max_ls) {
        double width = fabs(hi - lo);
        if (width <= DBL_EPSILON * fmax(fabs(lo), fabs(hi)))
            break;
        double at = NAN;
        if (isfinite(fhi))
            at = cubic_min(lo, flo, dglo, hi, fhi, dghi);
        double left = fmin(lo, hi) + 0.1 * width, right = fmax(lo, hi) - 0.1 * width;
        if (!(at >= left && at <= right))
            at = 0.5 * (lo + hi);
        set_trial(st, at);
        double fa = eval_trial(st);
        double dga = dot(st->gt, st->d, st->n);
        evals++;
        if (approx_wolfe(fa, dga, f0, dg0)) {
            *f_out = fa;
            return 1;
        }
        if (!isfinite(fa) || fa > f0 + WOLFE_C1 * at * dg0 || fa >= flo) {
            hi = at, fhi = fa, dghi = dga;
        } else {
            if (fabs(dga) <= -WOLFE_C2 * dg0) {
                *f_out = fa;
                return 1;
            }
            if (dga * (hi - lo) >= 0.0)
                hi = lo, fhi = flo, dghi = dglo;
            lo = at, flo = fa, dglo = dga;
        }
    }
    /* No Wolfe point within budget: take the best decreasing point, if any. */
    if (lo > 0.0 && flo < f0) {
        set_trial(st, lo);
        double fa = eval_trial(st);
        if (isfinite(fa) && fa < f0) {
            *f_out = fa;
            return 1;
        }
    }
    return 0;
}

/* OWL-QN backtracking search: trial points are projected onto the orthant
 * chosen at x; accept on the Armijo condition with the pseudo-gradient.
 * Returns 1 with xt/gt/F in *F_out on success. */
static int orthant_search(lbfgs_state *st, double a, double F0, double *F_out,
                          double *f_out)
{
    size_t n = st->n;
    for (size_t ls = 0; ls < st->params->max_linesearch; ls++, a *= 0.5) {
        double decrease = 0.0;
        for (size_t i = 0; i < n; i++) {
            double xi = st->x[i] + a * st->d[i];
            if (penalised(st, i)) {
                double orthant = st->x[i] != 0.0 ? st->x[i] : -st->pg[i];
                if (xi * orthant <= 0.0)
                    xi = 0.0;
            }
            st->xt[i] = xi;
            decrease += st->pg[i] * (xi - st->x[i]);
        }
        double f = eval_trial(st);
        double F = f + l1_norm(st, st->xt);
        if (isfinite(F) && F <= F0 + WOLFE_C1 * decrease && decrease < 0.0) {
            *F_out = F;
            *f_out = f;
            return 1;
        }
    }
    return 0;
}

gb_status gb_lbfgs_minimize(size_t n, double *x, gb_lbfgs_eval_cb eval_cb, void *ctx,
                            const gb_lbfgs_params *params, const gb_progress *progress,
                            gb_lbfgs_result *result, gb_error *err)
{
    gb_status rc = GB_OK;
    lbfgs_state st;
    memset(&st, 0, sizeof st);
    size_t m = params->m > 0 ? params->m : 1;
    gb_lbfgs_params p = *params;
    p.m = m;
    st.n = n;
    st.eval_cb = eval_cb;
    st.ctx = ctx;
    st.params = &p;

    double *work = gb_malloc_array(n, (7 + 2 * m) * sizeof(double));
    double *pair_work = gb_malloc_array(2 * m, sizeof(double));
    if (work == NULL || pair_work == NULL) {
        rc = gb_error_set(err, GB_ENOMEM,
                          "out of memory for the optimiser (%zu variables)", n);
        goto out;
    }
    st.x = work;
    st.g = work + n;
    st.pg = work + 2 * n;
    st.d = work + 3 * n;
    st.xt = work + 4 * n;
    st.gt = work + 5 * n;
    st.q = work + 6 * n;
    st.s = work + 7 * n;
    st.y = st.s + m * n;
    st.rho = pair_work;
    st.alpha = pair_work + m;
    memcpy(st.x, x, n * sizeof *x);

    st.n_eval = 1;
    double f = eval_cb(ctx, st.x, st.g);
    double F = f + l1_norm(&st, st.x);
    if (!isfinite(F)) {
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "the objective is not finite at the starting point");
        goto out;
    }
    pseudo_gradient(&st, st.x, st.g, st.pg);
    double gnorm = inf_norm(st.pg, n);
    gb_lbfgs_stop stop = GB_LBFGS_MAX_ITER;
    size_t iter = 0, stalled = 0;
    if (gnorm <= p.gtol)
        stop = GB_LBFGS_GTOL;

    while (stop == GB_LBFGS_MAX_ITER && iter < p.max_iter) {
        if (gb_progress_cancelled(progress)) {
            memcpy(x, st.x, n * sizeof *x);
            rc = gb_error_set(err, GB_ECANCELLED, "cancelled");
            goto out;
        }
        two_loop(&st);
        if (p.l1 > 0.0) {
            for (size_t i = 0; i < n; i++)
                if (penalised(&st, i) && st.d[i] * st.pg[i] >= 0.0)
                    st.d[i] = 0.0;
        }
        double dg = dot(st.d, st.pg, n);
        if (!(dg < 0.0)) {
            /* Not a descent direction: forget the curvature pairs. */
            st.n_pairs = 0;
            for (size_t i = 0; i < n; i++)
                st.d[i] = -st.pg[i];
            dg = -dot(st.pg, st.pg, n);
        }
        double step = 1.0;
        if (st.n_pairs == 0) {
            double dnorm = sqrt(dot(st.d, st.d, n));
            if (dnorm > 1.0)
                step = 1.0 / dnorm;
        }
        double F_new = 0.0, f_new = 0.0;
        int ok;
        if (p.l1 > 0.0) {
            ok = orthant_search(&st, step, F, &F_new, &f_new);
        } else {
            ok = wolfe_search(&st, step, f, dg, &f_new);
            F_new = f_new;
        }
        if (!ok) {
            if (st.n_pairs > 0) {
                st.n_pairs = 0; /* retry once along the steepest descent */
                continue;
            }
            stop = GB_LBFGS_NO_PROGRESS;
            break;
        }
        iter++;
        /* New pair s = xt - x, y = gt - g (gradients of the smooth part). */
        size_t slot = st.n_pairs == 0 ? 0 : (st.newest + 1) % m;
        double *s_new = st.s + slot * n, *y_new = st.y + slot * n;
        for (size_t i = 0; i < n; i++) {
            s_new[i] = st.xt[i] - st.x[i];
            y_new[i] = st.gt[i] - st.g[i];
        }
        double ys = dot(s_new, y_new, n), yy = dot(y_new, y_new, n);
        if (ys > DBL_EPSILON * yy && yy > 0.0) {
            st.rho[slot] = 1.0 / ys;
            st.newest = slot;
            if (st.n_pairs < m)
                st.n_pairs++;
        }
        double *tmp = st.x;
        st.x = st.xt;
        st.xt = tmp;
        tmp = st.g;
        st.g = st.gt;
        st.gt = tmp;
        double F_prev = F;
        f = f_new;
        F = F_new;
        pseudo_gradient(&st, st.x, st.g, st.pg);
        gnorm = inf_norm(st.pg, n);
        gb_progress_report(progress, "optimise", (double)iter / (double)p.max_iter);
        stalled = F < F_prev ? 0 : stalled + 1;
        if (gnorm <= p.gtol)
            stop = GB_LBFGS_GTOL;
        else if (stalled >= 10)
            stop = GB_LBFGS_NO_PROGRESS;
        else if (p.ftol > 0.0 &&
                 fabs(F_prev - F) <= p.ftol * fmax(fmax(fabs(F_prev), fabs(F)), 1.0))
            stop = GB_LBFGS_FTOL;
    }
    memcpy(x, st.x, n * sizeof *x);
    if (result != NULL) {
        result->f = F;
        result->gnorm_inf = gnorm;
        result->n_iter = iter;
        result->n_eval = st.n_eval;
        result->stop = stop;
    }

out:
    gb_free(pair_work);
    gb_free(work);
    return rc;
}
