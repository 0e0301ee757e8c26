/*
 * adam.h - the Adam optimiser (Kingma & Ba 2015) over one flat parameter
 * vector, with optional weight decay either added to the gradient (L2) or
 * applied to the parameters directly (decoupled, as AdamW, Loshchilov &
 * Hutter 2019).
 * Layer: core/math.
 *
 * The state is two moment vectors of n_params doubles and a step counter.
 * Every update is an elementwise loop in index order, so results are
 * identical for identical inputs on every run and thread count.
 *
 *   gb_adam *opt = gb_adam_create(n, &params, &err);
 *   for (...) { compute grad; gb_adam_step(opt, theta, grad, decay_mask); }
 *   gb_adam_free(opt);
 */
#ifndef CORE_MATH_ADAM_H
#define CORE_MATH_ADAM_H

#include <stddef.h>

#include "core/base.h"

typedef enum gb_adam_decay {
    GB_ADAM_DECAY_L2 = 0,       /* grad += weight_decay * theta */
    GB_ADAM_DECAY_DECOUPLED = 1 /* theta -= lr * weight_decay * theta */
} gb_adam_decay;

typedef struct gb_adam_params {
    double learning_rate;     /* > 0; default 1e-3 */
    double beta1;             /* in [0, 1); default 0.9 */
    double beta2;             /* in [0, 1); default 0.999 */
    double eps;               /* > 0; default 1e-8 */
    double weight_decay;      /* >= 0; default 0 */
    gb_adam_decay decay_mode; /* default GB_ADAM_DECAY_L2 */
} gb_adam_params;

typedef struct gb_adam gb_adam;

/* Fills *p with the defaults above. */
void gb_adam_params_default(gb_adam_params *p);

/* GB_EUNUSABLE naming the first out-of-range parameter (err->field set). */
gb_status gb_adam_params_check(const gb_adam_params *p, gb_error *err);

/* A new optimiser for n_params parameters with zeroed moments.  Caller frees
 * with gb_adam_free.  NULL on invalid parameters (GB_EUNUSABLE) or
 * allocation failure (GB_ENOMEM), err set. */
gb_adam *gb_adam_create(size_t n_params, const gb_adam_params *p, gb_error *err);

/* Frees the optimiser; NULL is a no-op. */
void gb_adam_free(gb_adam *opt);

/* One update of theta[0..n_params) from grad[0..n_params) (grad is not
 * modified).  decay_mask, when non-NULL, has n_params entries: weight decay
 * applies only where it is nonzero (typically weights, not biases); NULL
 * applies it everywhere. */
void gb_adam_step(gb_adam *opt, double *theta, const double *grad,
                  const unsigned char *decay_mask);

/* Number of steps taken so far. */
size_t gb_adam_steps(const gb_adam *opt);

/* Changes the learning rate for later steps (schedules); lr > 0. */
void gb_adam_set_learning_rate(gb_adam *opt, double lr);

#endif /* CORE_MATH_ADAM_H */
