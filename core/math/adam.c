/*
 * adam.c - the Adam optimiser over a flat parameter vector.
 * Layer: core/math.
 */
#include "core/math/adam.h"

#include <math.h>

struct gb_adam {
    size_t n_params;
    gb_adam_params params;
    size_t t;                    /* steps taken */
    double *m;                   /* first moments, n_params */
    double *v;                   /* second moments, n_params */
    double beta1_pow, beta2_pow; /* beta^t, kept as running products */
};

void gb_adam_params_default(gb_adam_params *p)
{
    p->learning_rate = 1e-3;
    p->beta1 = 0.9;
    p->beta2 = 0.999;
    p->eps = 1e-8;
    p->weight_decay = 0.0;
    p->decay_mode = GB_ADAM_DECAY_L2;
}

static gb_status bad_param(gb_error *err, const char *name, const char *rule)
{
    gb_error_set(err, GB_EUNUSABLE, "Adam parameter '%s' must be %s", name, rule);
    gb_error_field(err, name);
    return GB_EUNUSABLE;
}

gb_status gb_adam_params_check(const gb_adam_params *p, gb_error *err)
{
    if (!(isfinite(p->learning_rate) && p->learning_rate > 0))
        return bad_param(err, "learning_rate", "a finite number > 0");
    if (!(p->beta1 >= 0 && p->beta1 < 1))
        return bad_param(err, "beta1", "in [0, 1)");
    if (!(p->beta2 >= 0 && p->beta2 < 1))
        return bad_param(err, "beta2", "in [0, 1)");
    if (!(isfinite(p->eps) && p->eps > 0))
        return bad_param(err, "eps", "a finite number > 0");
    if (!(isfinite(p->weight_decay) && p->weight_decay >= 0))
        return bad_param(err, "weight_decay", "a finite number >= 0");
    if (p->decay_mode != GB_ADAM_DECAY_L2 && p->decay_mode != GB_ADAM_DECAY_DECOUPLED)
        return bad_param(err, "decay_mode", "l2 or decoupled");
    return GB_OK;
}

gb_adam *gb_adam_create(size_t n_params, const gb_adam_params *p, gb_error *err)
{
    if (gb_adam_params_check(p, err) != GB_OK)
        return NULL;
    gb_adam *opt = gb_calloc(1, sizeof *opt);
    if (opt == NULL)
        goto nomem;
    opt->n_params = n_params;
    opt->params = *p;
    opt->beta1_pow = 1.0;
    opt->beta2_pow = 1.0;
    opt->m = gb_calloc(n_params ? n_params : 1, sizeof *opt->m);
    opt->v = gb_calloc(n_params ? n_params : 1, sizeof *opt->v);
    if (opt->m == NULL || opt->v == NULL)
        goto nomem;
    return opt;
nomem:
    gb_adam_free(opt);
    gb_error_set(err, GB_ENOMEM, "out of memory for %zu optimiser parameters",
                 n_params);
    return NULL;
}

void gb_adam_free(gb_adam *opt)
{
    if (opt == NULL)
        return;
    gb_free(opt->m);
    gb_free(opt->v);
    gb_free(opt);
}

void gb_adam_step(gb_adam *opt, double *theta, const double *grad,
                  const unsigned char *decay_mask)
{
    const gb_adam_params *p = &opt->params;
    opt->t++;
    opt->beta1_pow *= p->beta1;
    opt->beta2_pow *= p->beta2;
    /* Bias corrections folded into the step size (the paper's "more
     * efficient" form with eps applied to the corrected second moment). */
    const double c1 = 1.0 - opt->beta1_pow;
    const double c2 = 1.0 - opt->beta2_pow;
    const double lr = p->learning_rate;
    const double wd = p->weight_decay;
    const int l2 = p->decay_mode == GB_ADAM_DECAY_L2 && wd > 0;
    const int decoupled = p->decay_mode == GB_ADAM_DECAY_DECOUPLED && wd > 0;
    for (size_t i = 0; i < opt->n_params; i++) {
        int decays = decay_mask == NULL || decay_mask[i] != 0;
        double g = grad[i];
        if (l2 && decays)
            g += wd * theta[i];
        opt->m[i] = p->beta1 * opt->m[i] + (1.0 - p->beta1) * g;
        opt->v[i] = p->beta2 * opt->v[i] + (1.0 - p->beta2) * g * g;
        double m_hat = opt->m[i] / c1;
        double v_hat = opt->v[i] / c2;
        if (decoupled && decays)
            theta[i] -= lr * wd * theta[i];
        theta[i] -= lr * m_hat / (sqrt(v_hat) + p->eps);
    }
}

size_t gb_adam_steps(const gb_adam *opt)
{
    return opt->t;
}

void gb_adam_set_learning_rate(gb_adam *opt, double lr)
{
    opt->params.learning_rate = lr;
}
