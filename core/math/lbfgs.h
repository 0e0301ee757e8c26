/*
 * lbfgs.h - limited-memory BFGS minimisation of a smooth function, and
 * OWL-QN (orthant-wise L-BFGS) for the same function plus an L1 penalty.
 * Layer: core/math.
 *
 * The objective is F(x) = f(x) + l1 * sum_{i penalised} |x_i|, where f is
 * smooth and computed by a callback that returns f(x) and writes its gradient.
 * x is one flat vector of n doubles (the caller decides the layout).
 *
 *   l1 == 0   L-BFGS (Nocedal & Wright, Algorithm 7.5) with a line search
 *             satisfying the strong Wolfe conditions (Algorithms 3.5/3.6,
 *             cubic interpolation, c1 = 1e-4, c2 = 0.9).
 *   l1 >  0   OWL-QN (Andrew & Gao 2007): the pseudo-gradient replaces the
 *             gradient, the search direction is restricted to the orthant of
 *             the current point, each trial point is projected back onto that
 *             orthant, and a backtracking (Armijo) line search is used.
 *             Coordinates whose l1_mask flag is 0 (intercepts) are not
 *             penalised.
 *
 * Stopping: the infinity norm of the (pseudo-)gradient <= gtol, or the
 * relative decrease |F_prev - F| / max(|F_prev|, |F|, 1) <= ftol (ftol > 0),
 * or max_iter iterations, or no progress: the line search finds no lower
 * point, or F has not decreased for 10 iterations in a row (rounding).  The
 * run is deterministic: no randomness, no threads of its own (the callback
 * may use threads if its result does not depend on them).
 */
#ifndef CORE_MATH_LBFGS_H
#define CORE_MATH_LBFGS_H

#include <stddef.h>

#include "core/base.h"
#include "core/progress.h"

/* Computes f(x) and writes grad[n] = df/dx.  Returns f; a non-finite value
 * tells the line search the step went too far (it backs off). */
typedef double (*gb_lbfgs_eval_cb)(void *ctx, const double *x, double *grad);

typedef struct gb_lbfgs_params {
    size_t m;                     /* correction pairs kept (default 10) */
    size_t max_iter;              /* iterations (default 500) */
    size_t max_linesearch;        /* function evaluations per line search (40) */
    double gtol;                  /* stop on ||grad||_inf <= gtol (default 1e-7) */
    double ftol;                  /* relative decrease stop (default 64 * DBL_EPSILON,
                                     as scikit-learn; 0 = off) */
    double l1;                    /* >= 0; > 0 selects OWL-QN */
    const unsigned char *l1_mask; /* n flags, 1 = penalised; NULL = all */
} gb_lbfgs_params;

typedef enum gb_lbfgs_stop {
    GB_LBFGS_GTOL = 0,   /* gradient small enough */
    GB_LBFGS_FTOL,       /* relative decrease below ftol */
    GB_LBFGS_MAX_ITER,   /* iteration budget used up */
    GB_LBFGS_NO_PROGRESS /* the line search found no lower point */
} gb_lbfgs_stop;

typedef struct gb_lbfgs_result {
    double f;         /* final objective F(x), penalty included */
    double gnorm_inf; /* final infinity norm of the (pseudo-)gradient */
    size_t n_iter;    /* iterations done */
    size_t n_eval;    /* callback calls */
    gb_lbfgs_stop stop;
} gb_lbfgs_result;

/* Fills *p with the defaults above (l1 = 0, no mask). */
void gb_lbfgs_params_init(gb_lbfgs_params *p);

/* "gtol", "ftol", "max_iter", "no_progress". */
const char *gb_lbfgs_stop_name(gb_lbfgs_stop stop);

/* Minimises F starting from x[n] (updated in place to the best point found).
 * progress (may be NULL) gets phase "optimise" with iter / max_iter and is
 * polled for cancellation once per iteration.  Returns GB_OK (whatever the
 * stopping reason, recorded in *result, which may be NULL), GB_ENOMEM
 * (x unchanged), GB_ECANCELLED (x holds the last iterate), or GB_EUNUSABLE
 * when f is not finite at the starting point.  Allocates O(m n) scratch,
 * freed before returning. */
gb_status gb_lbfgs_minimize(size_t n, double *x, gb_lbfgs_eval_cb eval_cb, void *ctx,
                            const gb_lbfgs_params *params, const gb_progress *progress,
                            gb_lbfgs_result *result, gb_error *err);

#endif /* CORE_MATH_LBFGS_H */
