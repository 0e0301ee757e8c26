/*
 * mlp_train.c - in-service MLP training: Adam on mini-batches with dropout,
 * decoupled weight decay and early stopping on a seeded inner validation
 * split.  Forward and backward passes are whole-batch cblas_dgemm calls.
 * Layer: core/model/teachers.
 *
 * Determinism: OpenBLAS's own threading splits a GEMM differently for each
 * thread count, and the sums then round differently (measured: 1 vs 2
 * threads differ in the last bits for most shapes with k >= 32).  Training
 * therefore runs OpenBLAS on one thread for its duration (restoring the
 * previous setting afterwards), so a seed fixes the weights bit for bit on
 * any thread count.  The service sets OpenBLAS to one thread at start-up
 * anyway (parallelism is owned by core/parallel.h), where this costs nothing.
 *
 * Parameters live in one flat vector theta: for each layer its weights
 * (n_out x n_in, row-major) then its biases.  The gradient has the same
 * layout.  Every reduction is an ordered loop or a GEMM whose output blocks
 * do not depend on the thread count, so a seed fixes the result.
 */
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/math/adam.h"
#include "core/math/rng.h"
#include "core/model/teachers/mlp.h"
#include "core/model/teachers/mlp_internal.h"

/* RNG streams derived from the seed, one per purpose. */
enum { STREAM_INIT = 1, STREAM_SPLIT = 2, STREAM_SHUFFLE = 3, STREAM_DROPOUT = 4 };

/* Minimum decrease of the validation loss that counts as progress. */
#define MLP_EARLY_STOP_TOL 1e-6

/* ======================================================================
 * Parameters
 * ====================================================================== */

void gb_mlp_train_params_default(gb_mlp_train_params *p)
{
    memset(p, 0, sizeof *p);
    p->n_hidden = 2;
    p->hidden[0] = 64;
    p->hidden[1] = 64;
    p->activation = GB_MLP_ACT_RELU;
    p->max_epochs = 200;
    p->batch_size = 64;
    p->learning_rate = 1e-3;
    p->dropout = 0.0;
    p->weight_decay = 1e-4;
    p->validation_fraction = 0.1;
    p->patience = 20;
}

static gb_status bad_param(gb_error *err, const char *key, const char *rule)
{
    gb_error_set(err, GB_EUNUSABLE, "MLP parameter '%s' must be %s", key, rule);
    gb_error_field(err, key);
    return GB_EUNUSABLE;
}

gb_status gb_mlp_train_params_check(const gb_mlp_train_params *p, gb_error *err)
{
    if (p->n_hidden > GB_MLP_MAX_LAYERS - 1)
        return bad_param(err, "hidden", "at most 31 layer widths");
    for (size_t i = 0; i < p->n_hidden; i++)
        if (p->hidden[i] < 1 || p->hidden[i] > GB_MLP_MAX_UNITS)
            return bad_param(err, "hidden", "widths between 1 and 16384");
    if (p->activation > GB_MLP_ACT_SIGMOID)
        return bad_param(err, "activation", "relu, tanh, sigmoid or identity");
    if (p->max_epochs < 1 || p->max_epochs > 100000)
        return bad_param(err, "epochs", "an integer between 1 and 100000");
    if (p->batch_size < 1 || p->batch_size > 65536)
        return bad_param(err, "batch_size", "an integer between 1 and 65536");
    if (!(p->learning_rate > 0 && p->learning_rate <= 10))
        return bad_param(err, "learning_rate", "a number in (0, 10]");
    if (!(p->dropout >= 0 && p->dropout < 1))
        return bad_param(err, "dropout", "a number in [0, 1)");
    if (!(p->weight_decay >= 0 && p->weight_decay <= 1))
        return bad_param(err, "weight_decay", "a number in [0, 1]");
    if (!(p->validation_fraction >= 0 && p->validation_fraction <= 0.5))
        return bad_param(err, "validation_fraction", "a number in [0, 0.5]");
    if (p->patience < 1 || p->patience > 100000)
        return bad_param(err, "patience", "an integer between 1 and 100000");
    return GB_OK;
}

static int parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > SIZE_MAX / 2)
        return 0;
    *out = (size_t)v;
    return 1;
}

static int parse_real(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_hidden(const char *s, gb_mlp_train_params *p)
{
    p->n_hidden = 0;
    if (s[0] == '\0' || strcmp(s, "none") == 0)
        return 1;
    const char *at = s;
    for (;;) {
        char buf[32];
        size_t len = strcspn(at, ",");
        if (len == 0 || len >= sizeof buf || p->n_hidden >= GB_MLP_MAX_LAYERS - 1)
            return 0;
        memcpy(buf, at, len);
        buf[len] = '\0';
        size_t width = 0;
        if (!parse_size(buf, &width) || width < 1 || width > GB_MLP_MAX_UNITS)
            return 0;
        p->hidden[p->n_hidden++] = width;
        if (at[len] == '\0')
            return 1;
        at += len + 1;
    }
}

gb_status gb_mlp_train_param_set(gb_mlp_train_params *p, const char *key,
                                 const char *value, gb_error *err)
{
    gb_mlp_train_params next = *p;
    int ok = 0;
    const char *rule = "valid";
    if (strcmp(key, "hidden") == 0) {
        ok = parse_hidden(value, &next);
        rule = "comma-separated layer widths between 1 and 16384 (at most 31), or none";
    } else if (strcmp(key, "activation") == 0) {
        static const char *const names[] = {"identity", "relu", "tanh", "sigmoid"};
        for (size_t i = 0; i < 4 && !ok; i++)
            if (strcmp(value, names[i]) == 0) {
                next.activation = (gb_mlp_activation)i;
                ok = 1;
            }
        rule = "relu, tanh, sigmoid or identity";
    } else if (strcmp(key, "epochs") == 0) {
        ok = parse_size(value, &next.max_epochs);
        rule = "an integer between 1 and 100000";
    } else if (strcmp(key, "batch_size") == 0) {
        ok = parse_size(value, &next.batch_size);
        rule = "an integer between 1 and 65536";
    } else if (strcmp(key, "patience") == 0) {
        ok = parse_size(value, &next.patience);
        rule = "an integer between 1 and 100000";
    } else if (strcmp(key, "learning_rate") == 0) {
        ok = parse_real(value, &next.learning_rate);
        rule = "a number in (0, 10]";
    } else if (strcmp(key, "dropout") == 0) {
        ok = parse_real(value, &next.dropout);
        rule = "a number in [0, 1)";
    } else if (strcmp(key, "weight_decay") == 0) {
        ok = parse_real(value, &next.weight_decay);
        rule = "a number in [0, 1]";
    } else if (strcmp(key, "validation_fraction") == 0) {
        ok = parse_real(value, &next.validation_fraction);
        rule = "a number in [0, 0.5]";
    } else {
        gb_error_set(err, GB_EUNUSABLE,
                     "unknown MLP parameter '%s' (known: hidden, activation, epochs, "
                     "batch_size, learning_rate, dropout, weight_decay, "
                     "validation_fraction, patience)",
                     key);
        gb_error_field(err, key);
        return GB_EUNUSABLE;
    }
    if (!ok)
        return bad_param(err, key, rule);
    gb_status rc = gb_mlp_train_params_check(&next, err);
    if (rc != GB_OK)
        return rc;
    *p = next;
    return GB_OK;
}

/* ======================================================================
 * Training state
 * ====================================================================== */

typedef struct trainer {
    size_t n_layers;
    gb_mlp_layer *layers; /* views into theta */
    gb_mlp_output output;
    size_t n_out; /* units of the last layer */
    size_t n_params;
    double *theta;             /* parameters */
    double *grad;              /* gradient, same layout */
    double *best;              /* parameters of the best validation loss */
    unsigned char *decay_mask; /* 1 for weights, 0 for biases */
    size_t batch;              /* rows per batch */
    double **act;              /* act[l]: batch x units[l] (act[0] = inputs) */
    double **mask;             /* mask[l] for hidden l: dropout factors, or NULL */
    double *delta;             /* batch x max_units */
    double *delta_prev;        /* batch x max_units */
    double dropout;
} trainer;

static void trainer_free(trainer *t)
{
    if (t->act != NULL)
        for (size_t l = 0; l <= t->n_layers; l++)
            gb_free(t->act[l]);
    if (t->mask != NULL)
        for (size_t l = 0; l <= t->n_layers; l++)
            gb_free(t->mask[l]);
    gb_free(t->act);
    gb_free(t->mask);
    gb_free(t->delta);
    gb_free(t->delta_prev);
    gb_free(t->theta);
    gb_free(t->grad);
    gb_free(t->best);
    gb_free(t->decay_mask);
    gb_free(t->layers);
}

/* Sets up views, buffers and the initial weights.  units[0..n_layers]. */
static gb_status trainer_init(trainer *t, const size_t *units, size_t n_layers,
                              gb_mlp_activation hidden_act, size_t batch,
                              double dropout, gb_rng *rng, gb_error *err)
{
    size_t max_units = 0;
    memset(t, 0, sizeof *t);
    t->n_layers = n_layers;
    t->batch = batch;
    t->dropout = dropout;
    t->n_out = units[n_layers];
    for (size_t l = 0; l < n_layers; l++)
        t->n_params += units[l] * units[l + 1] + units[l + 1];
    for (size_t l = 0; l <= n_layers; l++)
        max_units = units[l] > max_units ? units[l] : max_units;
    t->layers = gb_calloc(n_layers, sizeof *t->layers);
    t->theta = gb_malloc_array(t->n_params, sizeof *t->theta);
    t->grad = gb_malloc_array(t->n_params, sizeof *t->grad);
    t->best = gb_malloc_array(t->n_params, sizeof *t->best);
    t->decay_mask = gb_calloc(t->n_params, 1);
    t->act = gb_calloc(n_layers + 1, sizeof *t->act);
    t->mask = gb_calloc(n_layers + 1, sizeof *t->mask);
    t->delta = gb_malloc_array(batch * max_units, sizeof *t->delta);
    t->delta_prev = gb_malloc_array(batch * max_units, sizeof *t->delta_prev);
    if (t->layers == NULL || t->theta == NULL || t->grad == NULL || t->best == NULL ||
        t->decay_mask == NULL || t->act == NULL || t->mask == NULL ||
        t->delta == NULL || t->delta_prev == NULL)
        goto nomem;
    for (size_t l = 0; l <= n_layers; l++) {
        t->act[l] = gb_malloc_array(batch * units[l], sizeof **t->act);
        if (t->act[l] == NULL)
            goto nomem;
        if (dropout > 0 && l > 0 && l < n_layers) {
            t->mask[l] = gb_malloc_array(batch * units[l], sizeof **t->mask);
            if (t->mask[l] == NULL)
                goto nomem;
        }
    }
    size_t off = 0;
    for (size_t l = 0; l < n_layers; l++) {
        gb_mlp_layer *L = &t->layers[l];
        L->n_in = units[l];
        L->n_out = units[l + 1];
        L->activation = l + 1 < n_layers ? hidden_act : GB_MLP_ACT_IDENTITY;
        L->weights = t->theta + off;
        memset(t->decay_mask + off, 1, L->n_in * L->n_out);
        off += L->n_in * L->n_out;
        L->bias = t->theta + off;
        off += L->n_out;
        /* He initialisation for relu layers, Glorot (Xavier) otherwise. */
        double sd = L->activation == GB_MLP_ACT_RELU
                        ? sqrt(2.0 / (double)L->n_in)
                        : sqrt(2.0 / (double)(L->n_in + L->n_out));
        for (size_t i = 0; i < L->n_in * L->n_out; i++)
            L->weights[i] = sd * gb_rng_normal(rng);
        memset(L->bias, 0, L->n_out * sizeof *L->bias);
    }
    return GB_OK;
nomem:
    return gb_error_set(err, GB_ENOMEM,
                        "out of memory for MLP training (%zu parameters)", t->n_params);
}

/* Forward pass of n rows already in t->act[0].  With dropout_rng the hidden
 * activations are masked (training); otherwise not (evaluation).  Leaves the
 * raw outputs in t->act[n_layers]. */
static void trainer_forward(trainer *t, size_t n, gb_rng *dropout_rng)
{
    for (size_t l = 0; l < t->n_layers; l++) {
        gb_mlp_layer *L = &t->layers[l];
        gb_mlp_layer_forward(L, t->act[l], n, t->act[l + 1]);
        if (dropout_rng != NULL && t->mask[l + 1] != NULL) {
            double keep = 1.0 - t->dropout, inv = 1.0 / keep;
            double *a = t->act[l + 1], *mk = t->mask[l + 1];
            for (size_t i = 0; i < n * L->n_out; i++) {
                mk[i] = gb_rng_uniform(dropout_rng) < keep ? inv : 0.0;
                a[i] *= mk[i];
            }
        }
    }
}

/* Loss of n rows given raw outputs z (n x n_out) and writes dL/dz / scale
 * into delta when delta != NULL.  Targets: y_class (classification) or
 * y_std (regression, standardised). */
static double output_loss(const trainer *t, const double *z, size_t n,
                          const int32_t *y_class, const double *y_std, double *delta,
                          double scale)
{
    double loss = 0;
    const size_t k_out = t->n_out;
    for (size_t r = 0; r < n; r++) {
        const double *zr = z + r * k_out;
        double *dr = delta != NULL ? delta + r * k_out : NULL;
        switch (t->output) {
        case GB_MLP_OUT_SIGMOID: {
            double y = (double)y_class[r];
            /* log(1 + e^z) - y z, computed stably */
            double zz = zr[0];
            loss += (zz > 0 ? zz + log1p(exp(-zz)) : log1p(exp(zz))) - y * zz;
            if (dr != NULL) {
                double p = zz >= 0 ? 1.0 / (1.0 + exp(-zz)) : exp(zz) / (1.0 + exp(zz));
                dr[0] = (p - y) * scale;
            }
            break;
        }
        case GB_MLP_OUT_SOFTMAX: {
            double zmax = zr[0];
            for (size_t k = 1; k < k_out; k++)
                zmax = zr[k] > zmax ? zr[k] : zmax;
            double sum = 0;
            for (size_t k = 0; k < k_out; k++)
                sum += exp(zr[k] - zmax);
            double lse = zmax + log(sum);
            loss += lse - zr[y_class[r]];
            if (dr != NULL)
                for (size_t k = 0; k < k_out; k++)
                    dr[k] = (exp(zr[k] - lse) - (k == (size_t)y_class[r] ? 1.0 : 0.0)) *
                            scale;
            break;
        }
        case GB_MLP_OUT_IDENTITY: {
            double e = zr[0] - y_std[r];
            loss += 0.5 * e * e;
            if (dr != NULL)
                dr[0] = e * scale;
            break;
        }
        }
    }
    return loss;
}

/* Backward pass for n rows after trainer_forward with t->delta holding
 * dL/dz of the last layer; fills t->grad. */
static void trainer_backward(trainer *t, size_t n)
{
    size_t off = t->n_params;
    for (size_t l = t->n_layers; l-- > 0;) {
        gb_mlp_layer *L = &t->layers[l];
        const size_t n_in = L->n_in, n_out = L->n_out;
        off -= n_in * n_out + n_out;
        double *gw = t->grad + off, *gbias = gw + n_in * n_out;
        /* gW = delta^T A_prev (n_out x n_in) */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_out, (int)n_in,
                    (int)n, 1.0, t->delta, (int)n_out, t->act[l], (int)n_in, 0.0, gw,
                    (int)n_in);
        for (size_t k = 0; k < n_out; k++)
            gbias[k] = 0.0;
        for (size_t r = 0; r < n; r++)
            for (size_t k = 0; k < n_out; k++)
                gbias[k] += t->delta[r * n_out + k];
        if (l == 0)
            break;
        /* dA_prev = delta W (n x n_in), then through dropout and activation */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n_in,
                    (int)n_out, 1.0, t->delta, (int)n_out, L->weights, (int)n_in, 0.0,
                    t->delta_prev, (int)n_in);
        const double *a = t->act[l], *mk = t->mask[l];
        gb_mlp_activation act = t->layers[l - 1].activation;
        for (size_t i = 0; i < n * n_in; i++) {
            double d = t->delta_prev[i];
            double m = mk != NULL ? mk[i] : 1.0;
            if (mk != NULL && m == 0.0) {
                t->delta_prev[i] = 0.0;
                continue;
            }
            /* a holds the masked activation; undo the mask to get f(z). */
            double f = a[i] / m;
            switch (act) {
            case GB_MLP_ACT_IDENTITY: break;
            case GB_MLP_ACT_RELU: d = f > 0 ? d : 0.0; break;
            case GB_MLP_ACT_TANH: d *= 1.0 - f * f; break;
            case GB_MLP_ACT_SIGMOID: d *= f * (1.0 - f); break;
            }
            t->delta_prev[i] = d * m;
        }
        double *swap = t->delta;
        t->delta = t->delta_prev;
        t->delta_prev = swap;
    }
}

/* Mean loss over rows rows[0..n) of the standardised matrix Xs (no dropout). */
static double evaluate(trainer *t, const double *Xs, size_t d, const size_t *rows,
                       size_t n, const int32_t *y_class, const double *y_std,
                       int32_t *yb, double *tb)
{
    double total = 0;
    for (size_t start = 0; start < n; start += t->batch) {
        size_t m = n - start < t->batch ? n - start : t->batch;
        for (size_t r = 0; r < m; r++) {
            size_t row = rows[start + r];
            memcpy(t->act[0] + r * d, Xs + row * d, d * sizeof *Xs);
            if (y_class != NULL)
                yb[r] = y_class[row];
            else
                tb[r] = y_std[row];
        }
        trainer_forward(t, m, NULL);
        total += output_loss(t, t->act[t->n_layers], m, yb, tb, NULL, 0.0);
    }
    return total / (double)n;
}

/* ======================================================================
 * Validation of the training set
 * ====================================================================== */

static gb_status check_train_set(const gb_train_set *ts, gb_error *err)
{
    if (ts == NULL || ts->X == NULL || ts->features == NULL)
        return gb_error_set(err, GB_EINTERNAL, "gb_mlp_train: no training data");
    if (ts->n_rows < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "an MLP needs at least 2 training rows (got %zu)",
                            ts->n_rows);
    if (ts->n_features < 1)
        return gb_error_set(err, GB_EUNUSABLE, "an MLP needs at least one feature");
    if (ts->n_features > GB_MLP_MAX_FEATURES)
        return gb_error_set(err, GB_ETOOLARGE, "%zu features, an MLP takes at most %d",
                            ts->n_features, GB_MLP_MAX_FEATURES);
    for (size_t j = 0; j < ts->n_features; j++)
        if (ts->features[j].kind != GB_FEAT_NUMERIC) {
            gb_error_set(err, GB_EUNUSABLE,
                         "feature '%s' is categorical; an MLP takes one-hot columns",
                         ts->features[j].name);
            gb_error_field(err, ts->features[j].name);
            return GB_EUNUSABLE;
        }
    if (ts->task == GB_TASK_REGRESSION) {
        if (ts->y_value == NULL)
            return gb_error_set(err, GB_EUNUSABLE,
                                "regression MLP training needs target values");
        for (size_t r = 0; r < ts->n_rows; r++)
            if (!isfinite(ts->y_value[r]))
                return gb_error_at(err, GB_EUNUSABLE, (long)r + 1, 0,
                                   "target value of row %zu is not a finite number",
                                   r + 1);
    } else if (ts->task == GB_TASK_BINARY || ts->task == GB_TASK_MULTICLASS) {
        if (ts->y_class == NULL || ts->classes == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "MLP training needs class labels");
        if (ts->n_classes < 2 || ts->n_classes > GB_MAX_CLASSES ||
            (ts->task == GB_TASK_BINARY && ts->n_classes != 2))
            return gb_error_set(err, GB_EUNUSABLE, "%zu classes do not fit task %s",
                                ts->n_classes, gb_task_name(ts->task));
        for (size_t r = 0; r < ts->n_rows; r++)
            if (ts->y_class[r] < 0 || (size_t)ts->y_class[r] >= ts->n_classes)
                return gb_error_at(err, GB_EUNUSABLE, (long)r + 1, 0,
                                   "class label of row %zu is out of range", r + 1);
    } else
        return gb_error_set(err, GB_EUNUSABLE, "MLP training needs a resolved task");
    return GB_OK;
}

/* Seeded inner split: shuffles rows, then sends the first round(fraction *
 * count) rows of each class (or of all rows, regression) to validation.
 * order[0..*n_train) are training rows, order[*n_train..n) validation. */
static void split_rows(const gb_train_set *ts, double fraction, gb_rng *rng,
                       size_t *order, size_t *n_train, unsigned char *is_val,
                       size_t *class_seen, size_t *class_count)
{
    const size_t n = ts->n_rows;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    gb_rng_shuffle(rng, order, n);
    memset(is_val, 0, n);
    if (fraction > 0) {
        size_t n_groups = ts->task == GB_TASK_REGRESSION ? 1 : ts->n_classes;
        memset(class_count, 0, n_groups * sizeof *class_count);
        memset(class_seen, 0, n_groups * sizeof *class_seen);
        for (size_t i = 0; i < n; i++)
            class_count[ts->task == GB_TASK_REGRESSION ? 0 : (size_t)ts->y_class[i]]++;
        for (size_t i = 0; i < n; i++) {
            size_t g =
                ts->task == GB_TASK_REGRESSION ? 0 : (size_t)ts->y_class[order[i]];
            size_t want = (size_t)floor(fraction * (double)class_count[g] + 0.5);
            /* leave every class at least one training row */
            if (want >= class_count[g])
                want = class_count[g] - 1;
            if (class_seen[g] < want) {
                is_val[order[i]] = 1;
                class_seen[g]++;
            }
        }
    }
    /* stable partition: training rows keep their shuffled order */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_val[order[i]])
            order[k++] = order[i];
    *n_train = k;
    for (size_t i = 0; i < n; i++)
        if (is_val[i])
            order[k++] = i;
}

/* ======================================================================
 * Training
 * ====================================================================== */

static gb_status train(const gb_train_set *ts, const gb_mlp_train_params *p,
                       const gb_progress *progress, gb_model **out, gb_error *err);

gb_status gb_mlp_train(const gb_train_set *ts, const gb_mlp_train_params *p,
                       const gb_progress *progress, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    *out = NULL;
    if ((rc = gb_mlp_train_params_check(p, err)) != GB_OK)
        return rc;
    if ((rc = check_train_set(ts, err)) != GB_OK)
        return rc;
    int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1)
        openblas_set_num_threads(1);
    rc = train(ts, p, progress, out, err);
    if (blas_threads != 1)
        openblas_set_num_threads(blas_threads);
    return rc;
}

/* gb_mlp_train after validation, with OpenBLAS on one thread. */
static gb_status train(const gb_train_set *ts, const gb_mlp_train_params *p,
                       const gb_progress *progress, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    trainer t;
    gb_adam *opt = NULL;
    gb_mlp *net = NULL;
    size_t *order = NULL, *class_seen = NULL, *class_count = NULL;
    unsigned char *is_val = NULL;
    double *Xs = NULL, *y_std = NULL, *mean = NULL, *scale = NULL, *tb = NULL;
    int32_t *yb = NULL;
    char **names = NULL;
    size_t units[GB_MLP_MAX_LAYERS + 1];
    double y_mean = 0.0, y_scale = 1.0;

    memset(&t, 0, sizeof t);

    const size_t n = ts->n_rows, d = ts->n_features;
    const size_t n_layers = p->n_hidden + 1;
    units[0] = d;
    for (size_t l = 0; l < p->n_hidden; l++)
        units[l + 1] = p->hidden[l];
    units[n_layers] = ts->task == GB_TASK_MULTICLASS ? ts->n_classes : 1;
    {
        size_t total = 0;
        for (size_t l = 0; l < n_layers; l++) {
            if (units[l] > GB_MLP_MAX_PARAMS / units[l + 1])
                total = GB_MLP_MAX_PARAMS + 1;
            else
                total += units[l] * units[l + 1] + units[l + 1];
            if (total > GB_MLP_MAX_PARAMS)
                return gb_error_set(err, GB_ETOOLARGE,
                                    "the requested MLP has more than %d parameters",
                                    GB_MLP_MAX_PARAMS);
        }
    }

    gb_rng root;
    gb_rng_seed(&root, ts->seed);
    gb_rng rng_init = gb_rng_split(&root, STREAM_INIT);
    gb_rng rng_split = gb_rng_split(&root, STREAM_SPLIT);
    gb_rng rng_shuffle = gb_rng_split(&root, STREAM_SHUFFLE);
    gb_rng rng_dropout = gb_rng_split(&root, STREAM_DROPOUT);

    size_t n_groups = ts->task == GB_TASK_REGRESSION ? 1 : ts->n_classes;
    order = gb_malloc_array(n, sizeof *order);
    is_val = gb_malloc(n);
    class_seen = gb_malloc_array(n_groups, sizeof *class_seen);
    class_count = gb_malloc_array(n_groups, sizeof *class_count);
    Xs = gb_malloc_array(n, d * sizeof *Xs);
    mean = gb_malloc_array(d, sizeof *mean);
    scale = gb_malloc_array(d, sizeof *scale);
    if (order == NULL || is_val == NULL || class_seen == NULL || class_count == NULL ||
        Xs == NULL || mean == NULL || scale == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for MLP training (%zu rows)",
                          n);
        goto out;
    }
    size_t n_train = 0;
    split_rows(ts, p->validation_fraction, &rng_split, order, &n_train, is_val,
               class_seen, class_count);
    const size_t n_val = n - n_train;

    /* Standardisation from the training rows only (NaN ignored); missing
     * values then become 0, the training mean. */
    for (size_t i = 0; i < n_train; i++)
        memcpy(Xs + i * d, ts->X + order[i] * d, d * sizeof *Xs);
    gb_standardize_stats(Xs, n_train, d, mean, scale);
    for (size_t r = 0; r < n; r++) {
        const double *x = ts->X + r * d;
        double *xs = Xs + r * d;
        for (size_t j = 0; j < d; j++)
            xs[j] = isnan(x[j]) ? 0.0 : (x[j] - mean[j]) / scale[j];
    }
    if (ts->task == GB_TASK_REGRESSION) {
        y_std = gb_malloc_array(n, sizeof *y_std);
        if (y_std == NULL) {
            rc = gb_error_set(err, GB_ENOMEM,
                              "out of memory for MLP training (%zu rows)", n);
            goto out;
        }
        double s = 0, ss = 0;
        for (size_t i = 0; i < n_train; i++)
            s += ts->y_value[order[i]];
        y_mean = s / (double)n_train;
        for (size_t i = 0; i < n_train; i++) {
            double e = ts->y_value[order[i]] - y_mean;
            ss += e * e;
        }
        y_scale = sqrt(ss / (double)n_train);
        if (!(y_scale > 0) || !isfinite(y_scale))
            y_scale = 1.0;
        for (size_t r = 0; r < n; r++)
            y_std[r] = (ts->y_value[r] - y_mean) / y_scale;
    }

    size_t batch = p->batch_size < n_train ? p->batch_size : n_train;
    size_t eval_batch = batch;
    if (n_val > eval_batch)
        eval_batch = n_val < 1024 ? n_val : 1024;
    if ((rc = trainer_init(&t, units, n_layers, p->activation, eval_batch, p->dropout,
                           &rng_init, err)) != GB_OK)
        goto out;
    t.output = ts->task == GB_TASK_REGRESSION ? GB_MLP_OUT_IDENTITY
               : ts->task == GB_TASK_BINARY   ? GB_MLP_OUT_SIGMOID
                                              : GB_MLP_OUT_SOFTMAX;
    yb = gb_malloc_array(eval_batch, sizeof *yb);
    tb = gb_malloc_array(eval_batch, sizeof *tb);
    if (yb == NULL || tb == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for MLP training");
        goto out;
    }
    gb_adam_params ap;
    gb_adam_params_default(&ap);
    ap.learning_rate = p->learning_rate;
    ap.weight_decay = p->weight_decay;
    ap.decay_mode = GB_ADAM_DECAY_DECOUPLED;
    opt = gb_adam_create(t.n_params, &ap, err);
    if (opt == NULL) {
        rc = err != NULL ? err->code : GB_ENOMEM;
        goto out;
    }

    const int32_t *y_class = ts->task == GB_TASK_REGRESSION ? NULL : ts->y_class;
    double best_loss = INFINITY;
    size_t stale = 0, epochs_run = 0;
    memcpy(t.best, t.theta, t.n_params * sizeof *t.best);
    size_t *train_rows = order; /* first n_train entries */
    for (size_t epoch = 0; epoch < p->max_epochs; epoch++) {
        if (gb_progress_cancelled(progress)) {
            rc = gb_error_set(err, GB_ECANCELLED, "MLP training cancelled");
            goto out;
        }
        gb_rng_shuffle(&rng_shuffle, train_rows, n_train);
        for (size_t start = 0; start < n_train; start += batch) {
            size_t m = n_train - start < batch ? n_train - start : batch;
            for (size_t r = 0; r < m; r++) {
                size_t row = train_rows[start + r];
                memcpy(t.act[0] + r * d, Xs + row * d, d * sizeof *Xs);
                if (y_class != NULL)
                    yb[r] = y_class[row];
                else
                    tb[r] = y_std[row];
            }
            trainer_forward(&t, m, p->dropout > 0 ? &rng_dropout : NULL);
            output_loss(&t, t.act[n_layers], m, yb, tb, t.delta, 1.0 / (double)m);
            trainer_backward(&t, m);
            gb_adam_step(opt, t.theta, t.grad, t.decay_mask);
        }
        epochs_run = epoch + 1;
        if (n_val > 0) {
            double loss =
                evaluate(&t, Xs, d, order + n_train, n_val, y_class, y_std, yb, tb);
            if (!isfinite(loss)) {
                rc =
                    gb_error_set(err, GB_EUNUSABLE,
                                 "MLP training diverged (validation loss not finite at "
                                 "epoch %zu); lower learning_rate",
                                 epochs_run);
                gb_error_field(err, "learning_rate");
                goto out;
            }
            if (loss < best_loss) {
                stale = loss < best_loss - MLP_EARLY_STOP_TOL ? 0 : stale + 1;
                best_loss = loss;
                memcpy(t.best, t.theta, t.n_params * sizeof *t.best);
            } else
                stale++;
            if (stale >= p->patience)
                break;
        }
        gb_progress_report(progress, "train",
                           (double)epochs_run / (double)p->max_epochs);
    }
    if (n_val == 0)
        memcpy(t.best, t.theta, t.n_params * sizeof *t.best);
    for (size_t i = 0; i < t.n_params; i++)
        if (!isfinite(t.best[i])) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "MLP training diverged (non-finite weights); lower "
                              "learning_rate");
            gb_error_field(err, "learning_rate");
            goto out;
        }

    /* Build the model: copy the best parameters, fold the target scaling of a
     * regression into the last layer. */
    net = gb_mlp_alloc(n_layers, units, 1);
    if (net == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory building the MLP");
        goto out;
    }
    net->output = t.output;
    net->epochs_run = epochs_run;
    memcpy(net->mean, mean, d * sizeof *mean);
    memcpy(net->scale, scale, d * sizeof *scale);
    {
        size_t off = 0;
        for (size_t l = 0; l < n_layers; l++) {
            gb_mlp_layer *L = &net->layers[l];
            L->activation = t.layers[l].activation;
            memcpy(L->weights, t.best + off, L->n_in * L->n_out * sizeof *L->weights);
            off += L->n_in * L->n_out;
            memcpy(L->bias, t.best + off, L->n_out * sizeof *L->bias);
            off += L->n_out;
        }
        if (ts->task == GB_TASK_REGRESSION) {
            gb_mlp_layer *L = &net->layers[n_layers - 1];
            for (size_t i = 0; i < L->n_in; i++)
                L->weights[i] *= y_scale;
            L->bias[0] = L->bias[0] * y_scale + y_mean;
        }
    }
    names = gb_calloc(d, sizeof *names);
    if (names == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory building the MLP");
        goto out;
    }
    for (size_t j = 0; j < d; j++)
        names[j] = ts->features[j].name;
    *out = gb_mlp_model_wrap(net, names, ts->classes,
                             ts->task == GB_TASK_REGRESSION ? 0 : ts->n_classes, err);
    net = NULL;
    if (*out == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto out;
    }
    gb_progress_report(progress, "train", 1.0);
out:
    gb_free(names);
    gb_mlp_free_net(net);
    gb_adam_free(opt);
    trainer_free(&t);
    gb_free(tb);
    gb_free(yb);
    gb_free(y_std);
    gb_free(scale);
    gb_free(mean);
    gb_free(Xs);
    gb_free(class_count);
    gb_free(class_seen);
    gb_free(is_val);
    gb_free(order);
    return rc;
}

/* ======================================================================
 * Training on a table
 * ====================================================================== */

gb_status gb_mlp_train_table(const gb_table *table, const gb_target *target,
                             const gb_mlp_train_params *params, uint64_t seed,
                             const gb_progress *progress, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    unsigned char *exclude = NULL;
    gb_feature *features = NULL;
    size_t n_features = 0;
    gb_design *design = NULL;
    double *X = NULL;

    *out = NULL;
    exclude = gb_calloc(table->n_cols, 1);
    if (exclude == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory");
        goto done;
    }
    exclude[target->col] = 1;
    if ((rc = gb_features_from_table(table, exclude, 1, &features, &n_features, err)) !=
        GB_OK)
        goto done;
    if (n_features == 0) {
        rc = gb_error_set(err, GB_EUNUSABLE,
                          "the dataset has no feature columns besides "
                          "the target");
        goto done;
    }
    design = gb_design_bind(features, n_features, table, err);
    if (design == NULL) {
        rc = err != NULL ? err->code : GB_EUNUSABLE;
        goto done;
    }
    X = gb_malloc_array(table->n_rows, n_features * sizeof *X);
    if (X == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory for %zu rows x %zu features",
                          table->n_rows, n_features);
        goto done;
    }
    gb_design_fill(design, NULL, 0, table->n_rows, X);

    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = table->n_rows;
    ts.n_features = n_features;
    ts.X = X;
    ts.features = features;
    ts.task = target->task;
    ts.n_classes = target->n_classes;
    ts.classes = target->classes;
    ts.y_class = target->y_class;
    ts.y_value = target->y_value;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = seed;
    ts.n_threads = 1;
    rc = gb_mlp_train(&ts, params, progress, out, err);
done:
    gb_free(X);
    gb_design_free(design);
    gb_features_free(features, n_features);
    gb_free(exclude);
    return rc;
}
