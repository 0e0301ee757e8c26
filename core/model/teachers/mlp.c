/*
 * mlp.c - glassbox-mlp v1: validation, loading, batched scoring and writing
 * back.  Training lives in mlp_train.c.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/mlp.h"

#include <assert.h>
#include <cblas.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/teachers/mlp_internal.h"

/* ======================================================================
 * Network memory
 * ====================================================================== */

gb_mlp *gb_mlp_alloc(size_t n_layers, const size_t *units, int with_preprocess)
{
    gb_mlp *net = gb_calloc(1, sizeof *net);
    if (net == NULL)
        return NULL;
    net->n_inputs = units[0];
    net->max_units = units[0];
    net->layers = gb_calloc(n_layers ? n_layers : 1, sizeof *net->layers);
    if (net->layers == NULL)
        goto fail;
    net->n_layers = n_layers;
    if (with_preprocess) {
        net->mean = gb_calloc(units[0] ? units[0] : 1, sizeof *net->mean);
        net->scale = gb_calloc(units[0] ? units[0] : 1, sizeof *net->scale);
        if (net->mean == NULL || net->scale == NULL)
            goto fail;
    }
    for (size_t l = 0; l < n_layers; l++) {
        gb_mlp_layer *layer = &net->layers[l];
        layer->n_in = units[l];
        layer->n_out = units[l + 1];
        layer->weights =
            gb_calloc(layer->n_out * layer->n_in + 1, sizeof *layer->weights);
        layer->bias = gb_calloc(layer->n_out + 1, sizeof *layer->bias);
        if (layer->weights == NULL || layer->bias == NULL)
            goto fail;
        if (layer->n_out > net->max_units)
            net->max_units = layer->n_out;
    }
    return net;
fail:
    gb_mlp_free_net(net);
    return NULL;
}

void gb_mlp_free_net(gb_mlp *net)
{
    if (net == NULL)
        return;
    if (net->layers != NULL)
        for (size_t l = 0; l < net->n_layers; l++) {
            gb_free(net->layers[l].weights);
            gb_free(net->layers[l].bias);
        }
    gb_free(net->layers);
    gb_free(net->mean);
    gb_free(net->scale);
    gb_free(net);
}

static void free_impl(void *impl)
{
    gb_mlp_free_net(impl);
}

/* ======================================================================
 * Forward pass
 * ====================================================================== */

static const char *const activation_names[] = {"identity", "relu", "tanh", "sigmoid"};
static const char *const output_names[] = {"identity", "sigmoid", "softmax"};

const char *gb_mlp_activation_name(gb_mlp_activation act)
{
    return activation_names[act];
}

static double sigmoid(double z)
{
    /* Symmetric form: no overflow of exp for large |z|. */
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

void gb_mlp_activate(gb_mlp_activation act, double *v, size_t n)
{
    switch (act) {
    case GB_MLP_ACT_IDENTITY: break;
    case GB_MLP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            v[i] = v[i] > 0 ? v[i] : 0.0;
        break;
    case GB_MLP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            v[i] = tanh(v[i]);
        break;
    case GB_MLP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            v[i] = sigmoid(v[i]);
        break;
    }
}

void gb_mlp_layer_forward(const gb_mlp_layer *layer, const double *A, size_t n_rows,
                          double *Z)
{
    const size_t n_out = layer->n_out;
    for (size_t r = 0; r < n_rows; r++)
        memcpy(Z + r * n_out, layer->bias, n_out * sizeof *Z);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_rows, (int)n_out,
                (int)layer->n_in, 1.0, A, (int)layer->n_in, layer->weights,
                (int)layer->n_in, 1.0, Z, (int)n_out);
    gb_mlp_activate(layer->activation, Z, n_rows * n_out);
}

/* Standardises (and imputes) a block of rows into dst.  Returns the first
 * missing value's position when the model cannot impute it. */
static gb_status prepare_inputs(const gb_model *m, const gb_mlp *net, const double *X,
                                size_t row0, size_t n_rows, double *dst, gb_error *err)
{
    const size_t d = net->n_inputs;
    for (size_t r = 0; r < n_rows; r++) {
        const double *x = X + r * d;
        double *y = dst + r * d;
        if (net->mean != NULL) {
            for (size_t j = 0; j < d; j++)
                y[j] = isnan(x[j]) ? 0.0 : (x[j] - net->mean[j]) / net->scale[j];
        } else {
            for (size_t j = 0; j < d; j++) {
                if (isnan(x[j])) {
                    gb_error_set(err, GB_EUNUSABLE,
                                 "row %zu: feature '%s' is missing and this MLP has no "
                                 "preprocess means to impute it",
                                 row0 + r + 1, m->features[j].name);
                    gb_error_field(err, m->features[j].name);
                    return GB_EUNUSABLE;
                }
                y[j] = x[j];
            }
        }
    }
    return GB_OK;
}

/* Scores rows in blocks; want_proba selects probabilities or margins. */
static gb_status mlp_score(const gb_model *m, const double *X, size_t n_rows,
                           double *out, int want_proba, gb_error *err)
{
    const gb_mlp *net = m->impl;
    gb_status rc = GB_OK;
    double *buf_a = NULL, *buf_b = NULL;
    if (n_rows == 0)
        return GB_OK;
    size_t block = n_rows < GB_PREDICT_BLOCK ? n_rows : GB_PREDICT_BLOCK;
    buf_a = gb_malloc_array(block * net->max_units, sizeof *buf_a);
    buf_b = gb_malloc_array(block * net->max_units, sizeof *buf_b);
    if (buf_a == NULL || buf_b == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory scoring an MLP");
        goto out;
    }
    const size_t n_last = net->layers[net->n_layers - 1].n_out;
    const size_t n_cols = want_proba ? m->n_outputs : m->n_margins;
    for (size_t start = 0; start < n_rows; start += block) {
        size_t n = n_rows - start < block ? n_rows - start : block;
        rc = prepare_inputs(m, net, X + start * net->n_inputs, start, n, buf_a, err);
        if (rc != GB_OK)
            goto out;
        double *in = buf_a, *res = buf_b;
        for (size_t l = 0; l < net->n_layers; l++) {
            gb_mlp_layer_forward(&net->layers[l], in, n, res);
            double *t = in;
            in = res;
            res = t;
        }
        /* `in` now holds n x n_last raw outputs. */
        double *dst = out + start * n_cols;
        for (size_t r = 0; r < n; r++) {
            const double *z = in + r * n_last;
            double *o = dst + r * n_cols;
            switch (net->output) {
            case GB_MLP_OUT_IDENTITY: o[0] = z[0]; break;
            case GB_MLP_OUT_SIGMOID:
                if (want_proba) {
                    double p = sigmoid(z[0]);
                    o[0] = 1.0 - p;
                    o[1] = p;
                } else
                    o[0] = z[0];
                break;
            case GB_MLP_OUT_SOFTMAX:
                if (!want_proba) {
                    if (n_last == 2)
                        o[0] = z[1] - z[0];
                    else
                        memcpy(o, z, n_last * sizeof *o);
                } else {
                    double zmax = z[0];
                    for (size_t k = 1; k < n_last; k++)
                        zmax = z[k] > zmax ? z[k] : zmax;
                    double sum = 0;
                    for (size_t k = 0; k < n_last; k++) {
                        o[k] = exp(z[k] - zmax);
                        sum += o[k];
                    }
                    for (size_t k = 0; k < n_last; k++)
                        o[k] /= sum;
                }
                break;
            }
        }
    }
out:
    gb_free(buf_a);
    gb_free(buf_b);
    return rc;
}

static gb_status mlp_predict(const gb_model *m, const double *X, size_t n_rows,
                             double *out, gb_error *err)
{
    return mlp_score(m, X, n_rows, out, 1, err);
}

static gb_status mlp_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                    double *out, gb_error *err)
{
    return mlp_score(m, X, n_rows, out, 0, err);
}

static cJSON *mlp_to_json(const gb_model *m);

static const gb_model_ops mlp_ops = {
    .kind = "mlp",
    .predict = mlp_predict,
    .predict_margin = mlp_predict_margin,
    .attribute = NULL,
    .to_json = mlp_to_json,
    .free_impl = free_impl,
};

int gb_model_is_mlp(const gb_model *m)
{
    return m != NULL && m->ops == &mlp_ops;
}

size_t gb_mlp_epochs_run(const gb_model *m)
{
    return gb_model_is_mlp(m) ? ((const gb_mlp *)m->impl)->epochs_run : 0;
}

gb_model *gb_mlp_model_wrap(gb_mlp *net, char *const *feature_names,
                            char *const *classes, size_t n_classes, gb_error *err)
{
    gb_feature *features =
        gb_calloc(net->n_inputs ? net->n_inputs : 1, sizeof *features);
    if (features == NULL) {
        gb_mlp_free_net(net);
        gb_error_set(err, GB_ENOMEM, "out of memory creating an MLP");
        return NULL;
    }
    for (size_t j = 0; j < net->n_inputs; j++) {
        features[j].name = feature_names[j]; /* borrowed: the shell copies */
        features[j].kind = GB_FEAT_NUMERIC;
    }
    gb_task task = GB_TASK_REGRESSION;
    if (net->output != GB_MLP_OUT_IDENTITY)
        task = n_classes == 2 ? GB_TASK_BINARY : GB_TASK_MULTICLASS;
    gb_model *m = gb_model_create(&mlp_ops, net, task, features, net->n_inputs, classes,
                                  n_classes, err);
    gb_free(features);
    return m;
}

/* ======================================================================
 * Loading and validation
 * ====================================================================== */

static gb_status field_error(gb_error *err, gb_status code, const char *field,
                             const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gb_status field_error(gb_error *err, gb_status code, const char *field,
                             const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gb_error_set(err, code, "glassbox-mlp: '%s' %s", field, msg);
    gb_error_field(err, field);
    return code;
}

/* Reads array `arr` (path `field`) of exactly n finite numbers into dst. */
static gb_status read_numbers(const cJSON *arr, const char *field, size_t n,
                              double *dst, const char *what, gb_error *err)
{
    if (!cJSON_IsArray(arr))
        return field_error(err, GB_EUNUSABLE, field, "must be an array of numbers");
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (count != n)
        return field_error(err, GB_EUNUSABLE, field,
                           "has %zu entries, expected %zu (%s)", count, n, what);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
            char at[160];
            snprintf(at, sizeof at, "%s[%zu]", field, i);
            return field_error(err, GB_EUNUSABLE, at, "must be a finite number");
        }
        dst[i++] = item->valuedouble;
    }
    return GB_OK;
}

/* Rejects members of obj not in allowed[] (at most 8 names), and members
 * given twice (path names obj). */
static gb_status check_keys(const cJSON *obj, const char *path,
                            const char *const *allowed, size_t n_allowed, gb_error *err)
{
    unsigned char seen[8] = {0};
    assert(n_allowed <= sizeof seen);
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        size_t i = 0;
        while (i < n_allowed &&
               (item->string == NULL || strcmp(item->string, allowed[i]) != 0))
            i++;
        char field[200];
        snprintf(field, sizeof field, "%s%s%s", path, path[0] ? "." : "",
                 item->string != NULL ? item->string : "?");
        if (i == n_allowed)
            return field_error(err, GB_EUNUSABLE, field,
                               "is not a glassbox-mlp v1 field");
        if (seen[i]++)
            return field_error(err, GB_EUNUSABLE, field, "is given twice");
    }
    return GB_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a non-empty array of distinct non-empty strings. */
static gb_status read_names(const cJSON *arr, const char *field, size_t max_n,
                            char ***out, size_t *n_out, gb_error *err)
{
    char **names = NULL, **sorted = NULL;
    size_t n = 0;
    gb_status rc = GB_OK;
    *out = NULL;
    *n_out = 0;
    if (!cJSON_IsArray(arr))
        return field_error(err, GB_EUNUSABLE, field, "must be an array of strings");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return field_error(err, GB_EUNUSABLE, field, "must not be empty");
    if (n > max_n)
        return field_error(err, GB_ETOOLARGE, field,
                           "has %zu entries, at most %zu allowed", n, max_n);
    names = gb_calloc(n, sizeof *names);
    sorted = gb_malloc_array(n, sizeof *sorted);
    if (names == NULL || sorted == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", field);
        goto fail;
    }
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        char at[160];
        snprintf(at, sizeof at, "%s[%zu]", field, i);
        if (!cJSON_IsString(item) || item->valuestring == NULL) {
            rc = field_error(err, GB_EUNUSABLE, at, "must be a string");
            goto fail;
        }
        if (item->valuestring[0] == '\0') {
            rc = field_error(err, GB_EUNUSABLE, at, "must not be empty");
            goto fail;
        }
        names[i] = gb_strdup(item->valuestring);
        if (names[i] == NULL) {
            rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", field);
            goto fail;
        }
        sorted[i] = names[i];
        i++;
    }
    qsort(sorted, n, sizeof *sorted, cmp_str_ptr);
    for (i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            rc = field_error(err, GB_EUNUSABLE, field, "lists '%s' twice", sorted[i]);
            goto fail;
        }
    gb_free(sorted);
    *out = names;
    *n_out = n;
    return GB_OK;
fail:
    gb_free(sorted);
    gb_free_strings(names, n);
    return rc;
}

static int parse_activation(const char *s, gb_mlp_activation *act)
{
    for (size_t i = 0; i < sizeof activation_names / sizeof activation_names[0]; i++)
        if (strcmp(s, activation_names[i]) == 0) {
            *act = (gb_mlp_activation)i;
            return 1;
        }
    return 0;
}

static gb_status get_member(const cJSON *obj, const char *path, const char *key,
                            const cJSON **out, gb_error *err)
{
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*out != NULL)
        return GB_OK;
    char field[200];
    snprintf(field, sizeof field, "%s%s%s", path, path[0] ? "." : "", key);
    return field_error(err, GB_EUNUSABLE, field, "is missing");
}

gb_status gb_mlp_from_json(const cJSON *doc, gb_model **out, gb_error *err)
{
    static const char *const top_keys[] = {
        "format", "version", "features", "preprocess", "layers", "output", "classes"};
    static const char *const layer_keys[] = {"weights", "bias", "activation"};
    static const char *const pre_keys[] = {"mean", "scale"};
    gb_status rc = GB_OK;
    char **feature_names = NULL, **classes = NULL;
    size_t n_features = 0, n_classes = 0;
    size_t *units = NULL;
    gb_mlp *net = NULL;
    const cJSON *item = NULL, *layers = NULL, *pre = NULL;
    gb_mlp_output output = GB_MLP_OUT_IDENTITY;
    char field[200];

    *out = NULL;
    if (!cJSON_IsObject(doc))
        return gb_error_set(err, GB_EUNUSABLE,
                            "glassbox-mlp: the document must be a JSON "
                            "object");
    if ((rc = check_keys(doc, "", top_keys, 7, err)) != GB_OK)
        return rc;
    if ((rc = get_member(doc, "", "format", &item, err)) != GB_OK)
        return rc;
    if (!cJSON_IsString(item) || strcmp(item->valuestring, "glassbox-mlp") != 0)
        return field_error(err, GB_EUNUSABLE, "format", "must be \"glassbox-mlp\"");
    if ((rc = get_member(doc, "", "version", &item, err)) != GB_OK)
        return rc;
    if (!cJSON_IsNumber(item) || item->valuedouble != 1.0)
        return field_error(err, GB_EUNUSABLE, "version",
                           "must be 1 (the only version this build reads)");

    /* features */
    if ((rc = get_member(doc, "", "features", &item, err)) != GB_OK)
        return rc;
    if ((rc = read_names(item, "features", GB_MLP_MAX_FEATURES, &feature_names,
                         &n_features, err)) != GB_OK)
        return rc;

    /* output and classes */
    if ((rc = get_member(doc, "", "output", &item, err)) != GB_OK)
        goto fail;
    {
        int found = 0;
        if (cJSON_IsString(item))
            for (size_t i = 0; i < 3 && !found; i++)
                if (strcmp(item->valuestring, output_names[i]) == 0) {
                    output = (gb_mlp_output)i;
                    found = 1;
                }
        if (!found) {
            rc = field_error(err, GB_EUNUSABLE, "output",
                             "must be \"softmax\", \"sigmoid\" or \"identity\"");
            goto fail;
        }
    }
    item = cJSON_GetObjectItemCaseSensitive(doc, "classes");
    if (output == GB_MLP_OUT_IDENTITY && item != NULL) {
        rc = field_error(err, GB_EUNUSABLE, "classes",
                         "must be omitted with output \"identity\" (regression)");
        goto fail;
    }
    if (output != GB_MLP_OUT_IDENTITY) {
        if (item == NULL) {
            rc = field_error(err, GB_EUNUSABLE, "classes", "is missing (output \"%s\")",
                             output_names[output]);
            goto fail;
        }
        if ((rc = read_names(item, "classes", GB_MAX_CLASSES, &classes, &n_classes,
                             err)) != GB_OK)
            goto fail;
        if (n_classes < 2) {
            rc = field_error(err, GB_EUNUSABLE, "classes",
                             "must list at least 2 classes");
            goto fail;
        }
        if (output == GB_MLP_OUT_SIGMOID && n_classes != 2) {
            rc = field_error(
                err, GB_EUNUSABLE, "classes",
                "must list exactly 2 classes with output \"sigmoid\" (has %zu)",
                n_classes);
            goto fail;
        }
    }

    /* layer shapes first, so nothing big is allocated for a bad document */
    if ((rc = get_member(doc, "", "layers", &layers, err)) != GB_OK)
        goto fail;
    if (!cJSON_IsArray(layers)) {
        rc = field_error(err, GB_EUNUSABLE, "layers", "must be an array");
        goto fail;
    }
    size_t n_layers = (size_t)cJSON_GetArraySize(layers);
    if (n_layers == 0) {
        rc = field_error(err, GB_EUNUSABLE, "layers", "must not be empty");
        goto fail;
    }
    if (n_layers > GB_MLP_MAX_LAYERS) {
        rc = field_error(err, GB_ETOOLARGE, "layers",
                         "has %zu layers, at most %d allowed", n_layers,
                         GB_MLP_MAX_LAYERS);
        goto fail;
    }
    units = gb_malloc_array(n_layers + 1, sizeof *units);
    if (units == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading an MLP");
        goto fail;
    }
    units[0] = n_features;
    {
        size_t l = 0, total = 0;
        const cJSON *layer;
        cJSON_ArrayForEach(layer, layers)
        {
            snprintf(field, sizeof field, "layers[%zu]", l);
            if (!cJSON_IsObject(layer)) {
                rc = field_error(err, GB_EUNUSABLE, field, "must be an object");
                goto fail;
            }
            if ((rc = check_keys(layer, field, layer_keys, 3, err)) != GB_OK)
                goto fail;
            const cJSON *w = NULL;
            if ((rc = get_member(layer, field, "weights", &w, err)) != GB_OK)
                goto fail;
            snprintf(field, sizeof field, "layers[%zu].weights", l);
            if (!cJSON_IsArray(w)) {
                rc = field_error(err, GB_EUNUSABLE, field, "must be an array of rows");
                goto fail;
            }
            size_t n_out = (size_t)cJSON_GetArraySize(w);
            if (n_out == 0) {
                rc =
                    field_error(err, GB_EUNUSABLE, field, "must have at least one row");
                goto fail;
            }
            if (n_out > GB_MLP_MAX_UNITS) {
                rc = field_error(err, GB_ETOOLARGE, field,
                                 "has %zu rows, at most %d allowed", n_out,
                                 GB_MLP_MAX_UNITS);
                goto fail;
            }
            size_t n_in = units[l];
            if (n_in > GB_MLP_MAX_PARAMS / n_out ||
                total + n_in * n_out + n_out > GB_MLP_MAX_PARAMS) {
                rc = field_error(err, GB_ETOOLARGE, field,
                                 "takes the model over %d parameters",
                                 GB_MLP_MAX_PARAMS);
                goto fail;
            }
            total += n_in * n_out + n_out;
            units[l + 1] = n_out;
            l++;
        }
    }
    size_t n_last = units[n_layers];
    snprintf(field, sizeof field, "layers[%zu].weights", n_layers - 1);
    if (output != GB_MLP_OUT_SOFTMAX && n_last != 1) {
        rc = field_error(err, GB_EUNUSABLE, field,
                         "has %zu rows; output \"%s\" needs exactly 1 unit", n_last,
                         output_names[output]);
        goto fail;
    }
    if (output == GB_MLP_OUT_SOFTMAX && n_last != n_classes) {
        rc = field_error(
            err, GB_EUNUSABLE, field,
            "has %zu rows; output \"softmax\" needs one unit per class (%zu)", n_last,
            n_classes);
        goto fail;
    }

    pre = cJSON_GetObjectItemCaseSensitive(doc, "preprocess");
    if (pre != NULL && !cJSON_IsObject(pre)) {
        rc = field_error(err, GB_EUNUSABLE, "preprocess", "must be an object");
        goto fail;
    }
    net = gb_mlp_alloc(n_layers, units, pre != NULL);
    if (net == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading an MLP");
        goto fail;
    }
    net->output = output;
    if (pre != NULL) {
        if ((rc = check_keys(pre, "preprocess", pre_keys, 2, err)) != GB_OK)
            goto fail;
        if ((rc = get_member(pre, "preprocess", "mean", &item, err)) != GB_OK)
            goto fail;
        if ((rc = read_numbers(item, "preprocess.mean", n_features, net->mean,
                               "one per feature", err)) != GB_OK)
            goto fail;
        if ((rc = get_member(pre, "preprocess", "scale", &item, err)) != GB_OK)
            goto fail;
        if ((rc = read_numbers(item, "preprocess.scale", n_features, net->scale,
                               "one per feature", err)) != GB_OK)
            goto fail;
        for (size_t j = 0; j < n_features; j++)
            if (net->scale[j] == 0.0) {
                snprintf(field, sizeof field, "preprocess.scale[%zu]", j);
                rc = field_error(err, GB_EUNUSABLE, field, "must not be 0");
                goto fail;
            }
    }
    {
        size_t l = 0;
        const cJSON *layer;
        cJSON_ArrayForEach(layer, layers)
        {
            gb_mlp_layer *L = &net->layers[l];
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(layer, "weights");
            size_t r = 0;
            const cJSON *row;
            cJSON_ArrayForEach(row, w)
            {
                snprintf(field, sizeof field, "layers[%zu].weights[%zu]", l, r);
                char what[64];
                snprintf(what, sizeof what, "the layer's %zu inputs", L->n_in);
                if ((rc = read_numbers(row, field, L->n_in, L->weights + r * L->n_in,
                                       what, err)) != GB_OK)
                    goto fail;
                r++;
            }
            snprintf(field, sizeof field, "layers[%zu]", l);
            if ((rc = get_member(layer, field, "bias", &item, err)) != GB_OK)
                goto fail;
            snprintf(field, sizeof field, "layers[%zu].bias", l);
            if ((rc = read_numbers(item, field, L->n_out, L->bias, "one per unit",
                                   err)) != GB_OK)
                goto fail;
            snprintf(field, sizeof field, "layers[%zu]", l);
            if ((rc = get_member(layer, field, "activation", &item, err)) != GB_OK)
                goto fail;
            snprintf(field, sizeof field, "layers[%zu].activation", l);
            if (!cJSON_IsString(item) ||
                !parse_activation(item->valuestring, &L->activation)) {
                rc = field_error(
                    err, GB_EUNUSABLE, field,
                    "must be \"relu\", \"tanh\", \"sigmoid\" or \"identity\"");
                goto fail;
            }
            l++;
        }
    }
    gb_free(units);
    units = NULL;
    *out = gb_mlp_model_wrap(net, feature_names, classes, n_classes, err);
    net = NULL; /* owned by the model or freed */
    rc = *out != NULL ? GB_OK : (err != NULL ? err->code : GB_ENOMEM);
    if (rc == GB_OK)
        gb_error_clear(err);
fail:
    gb_mlp_free_net(net);
    gb_free(units);
    gb_free_strings(feature_names, n_features);
    gb_free_strings(classes, n_classes);
    return rc;
}

gb_status gb_mlp_load(const char *bytes, size_t n, gb_model **out, gb_error *err)
{
    *out = NULL;
    cJSON *doc = gb_json_parse(bytes, n, err);
    if (doc == NULL)
        return err != NULL ? err->code : GB_EINPUT;
    gb_status rc = gb_mlp_from_json(doc, out, err);
    cJSON_Delete(doc);
    return rc;
}

gb_status gb_mlp_load_file(const char *path, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    char *bytes = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return gb_error_set(err, errno == ENOENT ? GB_ENOTFOUND : GB_EIO,
                            "cannot open '%s': %s", path, strerror(errno));
    for (;;) {
        if (len == cap) {
            size_t new_cap = cap ? cap * 2 : 65536;
            char *grown = gb_realloc(bytes, new_cap);
            if (grown == NULL) {
                rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
                goto out;
            }
            bytes = grown;
            cap = new_cap;
        }
        size_t got = fread(bytes + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = gb_error_set(err, GB_EIO, "cannot read '%s'", path);
                goto out;
            }
            break;
        }
    }
    rc = gb_mlp_load(bytes, len, out, err);
out:
    fclose(f);
    gb_free(bytes);
    return rc;
}

/* ======================================================================
 * Writing
 * ====================================================================== */

static cJSON *mlp_to_json(const gb_model *m)
{
    const gb_mlp *net = m->impl;
    cJSON *doc = cJSON_CreateObject();
    cJSON *item = NULL;
    if (doc == NULL)
        return NULL;
    if (cJSON_AddStringToObject(doc, "format", "glassbox-mlp") == NULL ||
        cJSON_AddNumberToObject(doc, "version", 1) == NULL)
        goto fail;
    item = cJSON_AddArrayToObject(doc, "features");
    if (item == NULL)
        goto fail;
    for (size_t j = 0; j < m->n_features; j++) {
        cJSON *s = cJSON_CreateString(m->features[j].name);
        if (s == NULL || !cJSON_AddItemToArray(item, s)) {
            cJSON_Delete(s);
            goto fail;
        }
    }
    if (net->mean != NULL) {
        cJSON *pre = cJSON_AddObjectToObject(doc, "preprocess");
        if (pre == NULL)
            goto fail;
        item = gb_json_number_array_create(net->mean, net->n_inputs);
        if (item == NULL || !cJSON_AddItemToObject(pre, "mean", item)) {
            cJSON_Delete(item);
            goto fail;
        }
        item = gb_json_number_array_create(net->scale, net->n_inputs);
        if (item == NULL || !cJSON_AddItemToObject(pre, "scale", item)) {
            cJSON_Delete(item);
            goto fail;
        }
    }
    cJSON *layers = cJSON_AddArrayToObject(doc, "layers");
    if (layers == NULL)
        goto fail;
    for (size_t l = 0; l < net->n_layers; l++) {
        const gb_mlp_layer *L = &net->layers[l];
        cJSON *layer = cJSON_CreateObject();
        if (layer == NULL || !cJSON_AddItemToArray(layers, layer)) {
            cJSON_Delete(layer);
            goto fail;
        }
        cJSON *w = cJSON_AddArrayToObject(layer, "weights");
        if (w == NULL)
            goto fail;
        for (size_t r = 0; r < L->n_out; r++) {
            item = gb_json_number_array_create(L->weights + r * L->n_in, L->n_in);
            if (item == NULL || !cJSON_AddItemToArray(w, item)) {
                cJSON_Delete(item);
                goto fail;
            }
        }
        item = gb_json_number_array_create(L->bias, L->n_out);
        if (item == NULL || !cJSON_AddItemToObject(layer, "bias", item)) {
            cJSON_Delete(item);
            goto fail;
        }
        if (cJSON_AddStringToObject(layer, "activation",
                                    activation_names[L->activation]) == NULL)
            goto fail;
    }
    if (cJSON_AddStringToObject(doc, "output", output_names[net->output]) == NULL)
        goto fail;
    if (m->n_classes > 0) {
        item = gb_json_string_array_create(m->classes, m->n_classes);
        if (item == NULL || !cJSON_AddItemToObject(doc, "classes", item)) {
            cJSON_Delete(item);
            goto fail;
        }
    }
    return doc;
fail:
    cJSON_Delete(doc);
    return NULL;
}

cJSON *gb_mlp_to_json(const gb_model *m)
{
    return gb_model_is_mlp(m) ? mlp_to_json(m) : NULL;
}

gb_status gb_mlp_save(const gb_model *m, const char *path, gb_error *err)
{
    gb_status rc = GB_OK;
    cJSON *doc = NULL;
    char *text = NULL, *tmp = NULL;
    FILE *f = NULL;
    if (!gb_model_is_mlp(m))
        return gb_error_set(err, GB_EINTERNAL, "gb_mlp_save: not an MLP model");
    doc = mlp_to_json(m);
    text = doc != NULL ? gb_json_print(doc, 1) : NULL;
    size_t n_path = strlen(path);
    tmp = gb_malloc(n_path + 8);
    if (text == NULL || tmp == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory writing '%s'", path);
        goto out;
    }
    memcpy(tmp, path, n_path);
    memcpy(tmp + n_path, ".tmp", 5);
    f = fopen(tmp, "wb");
    if (f == NULL) {
        rc = gb_error_set(err, GB_EIO, "cannot write '%s': %s", path, strerror(errno));
        goto out;
    }
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    f = NULL;
    if (bad || rename(tmp, path) != 0) {
        rc = gb_error_set(err, GB_EIO, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        goto out;
    }
out:
    gb_free(tmp);
    gb_free(text);
    cJSON_Delete(doc);
    return rc;
}
