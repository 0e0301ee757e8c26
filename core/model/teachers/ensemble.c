/*
 * ensemble.c - weighted averages of teacher models.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ENS_LOG_FLOOR 1e-300

typedef struct ens_model {
    size_t n_members;
    gb_model **members; /* owned */
    double *weights;    /* normalised */
    size_t **columns;   /* columns[k][j]: ensemble feature of member k's feature j */
    gb_ensemble_mean mean;
    size_t max_member_features;
} ens_model;

static void ens_free(void *impl)
{
    ens_model *em = impl;
    if (em == NULL)
        return;
    for (size_t k = 0; k < em->n_members; k++) {
        if (em->members != NULL)
            gb_model_free(em->members[k]);
        if (em->columns != NULL)
            gb_free(em->columns[k]);
    }
    gb_free(em->members);
    gb_free(em->columns);
    gb_free(em->weights);
    gb_free(em);
}

gb_status gb_ensemble_mean_parse(const char *name, gb_ensemble_mean *out, gb_error *err)
{
    if (name != NULL && strcmp(name, "arithmetic") == 0)
        *out = GB_ENSEMBLE_ARITHMETIC;
    else if (name != NULL && strcmp(name, "geometric") == 0)
        *out = GB_ENSEMBLE_GEOMETRIC;
    else {
        gb_error_set(err, GB_EUNUSABLE,
                     "ensemble mean '%s' is not 'arithmetic' or 'geometric'",
                     name != NULL ? name : "");
        gb_error_field(err, "mean");
        return GB_EUNUSABLE;
    }
    return GB_OK;
}

/* Scores rows [0, n_rows) of X (ensemble features) in sub-blocks. */
static gb_status ens_predict(const gb_model *m, const double *X, size_t n_rows,
                             double *out, gb_error *err)
{
    const ens_model *em = m->impl;
    size_t F = m->n_features, K = m->n_outputs;
    size_t block = n_rows < GB_PREDICT_BLOCK ? n_rows : GB_PREDICT_BLOCK;
    gb_status rc = GB_OK;
    double *Xm = NULL, *Pm = NULL;
    if (n_rows == 0)
        return GB_OK;
    Xm = gb_malloc_array(
        block, (em->max_member_features ? em->max_member_features : 1) * sizeof *Xm);
    Pm = gb_malloc_array(block, K * sizeof *Pm);
    if (Xm == NULL || Pm == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory scoring an ensemble");
        goto out;
    }
    int geometric = em->mean == GB_ENSEMBLE_GEOMETRIC;
    memset(out, 0, n_rows * K * sizeof *out);
    for (size_t start = 0; start < n_rows; start += block) {
        size_t n = n_rows - start < block ? n_rows - start : block;
        double *o = out + start * K;
        for (size_t k = 0; k < em->n_members; k++) {
            const gb_model *mk = em->members[k];
            size_t Fk = mk->n_features;
            const size_t *cols = em->columns[k];
            for (size_t r = 0; r < n; r++) {
                const double *x = X + (start + r) * F;
                double *xm = Xm + r * Fk;
                for (size_t j = 0; j < Fk; j++)
                    xm[j] = x[cols[j]];
            }
            rc = mk->ops->predict(mk, Xm, n, Pm, err);
            if (rc != GB_OK)
                goto out;
            double w = em->weights[k];
            if (geometric) {
                for (size_t i = 0; i < n * K; i++)
                    o[i] += w * log(Pm[i] > ENS_LOG_FLOOR ? Pm[i] : ENS_LOG_FLOOR);
            } else {
                for (size_t i = 0; i < n * K; i++)
                    o[i] += w * Pm[i];
            }
        }
        if (geometric) {
            for (size_t r = 0; r < n; r++) {
                double *row = o + r * K, top = row[0], sum = 0.0;
                for (size_t c = 1; c < K; c++)
                    if (row[c] > top)
                        top = row[c];
                for (size_t c = 0; c < K; c++) {
                    row[c] = exp(row[c] - top);
                    sum += row[c];
                }
                for (size_t c = 0; c < K; c++)
                    row[c] /= sum;
            }
        }
    }
out:
    gb_free(Xm);
    gb_free(Pm);
    return rc;
}

static cJSON *ens_to_json(const gb_model *m)
{
    const ens_model *em = m->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    cJSON *members = NULL;
    if (cJSON_AddStringToObject(root, "format", "ensemble") == NULL ||
        cJSON_AddStringToObject(
            root, "mean",
            em->mean == GB_ENSEMBLE_GEOMETRIC ? "geometric" : "arithmetic") == NULL ||
        (members = cJSON_AddArrayToObject(root, "members")) == NULL)
        goto fail;
    for (size_t k = 0; k < em->n_members; k++) {
        cJSON *item = cJSON_CreateObject();
        if (item == NULL)
            goto fail;
        cJSON_AddItemToArray(members, item);
        if (cJSON_AddStringToObject(item, "kind", em->members[k]->ops->kind) == NULL ||
            gb_json_add_number(item, "weight", em->weights[k]) == NULL)
            goto fail;
        if (em->members[k]->ops->to_json != NULL) {
            cJSON *summary = em->members[k]->ops->to_json(em->members[k]);
            if (summary == NULL)
                goto fail;
            cJSON_AddItemToObject(item, "model", summary);
        }
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

static const gb_model_ops ens_ops = {
    .kind = "ensemble",
    .predict = ens_predict,
    .predict_margin = NULL,
    .attribute = NULL,
    .to_json = ens_to_json,
    .free_impl = ens_free,
};

static int same_feature(const gb_feature *a, const gb_feature *b)
{
    if (a->kind != b->kind || a->n_levels != b->n_levels)
        return 0;
    for (size_t l = 0; l < a->n_levels; l++)
        if (strcmp(a->levels[l], b->levels[l]) != 0)
            return 0;
    return 1;
}

static gb_status member_error(gb_error *err, size_t k, const gb_model *m,
                              const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "ensemble member %zu (%s): %s", k,
                 m != NULL && m->ops != NULL ? m->ops->kind : "?", what);
    char field[32];
    snprintf(field, sizeof field, "members[%zu]", k);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

gb_status gb_ensemble_create(gb_model **members, const double *weights,
                             size_t n_members, gb_ensemble_mean mean, gb_model **out,
                             gb_error *err)
{
    gb_status rc = GB_OK;
    ens_model *em = NULL;
    const gb_feature **feats = NULL; /* union, borrowed from the members */
    gb_feature *union_copy = NULL;
    size_t n_union = 0, total = 0;

    *out = NULL;
    if (members == NULL || n_members == 0)
        return gb_error_set(err, GB_EUNUSABLE, "an ensemble needs at least one member");
    if (n_members > GB_ENSEMBLE_MAX_MEMBERS)
        return gb_error_set(err, GB_EUNUSABLE,
                            "an ensemble has at most %d members, got %zu",
                            GB_ENSEMBLE_MAX_MEMBERS, n_members);
    if (mean != GB_ENSEMBLE_ARITHMETIC && mean != GB_ENSEMBLE_GEOMETRIC)
        return gb_error_set(err, GB_EUNUSABLE, "unknown ensemble mean %d", (int)mean);
    const gb_model *first = members[0];
    for (size_t k = 0; k < n_members; k++) {
        const gb_model *mk = members[k];
        if (mk == NULL || mk->ops == NULL || mk->ops->predict == NULL)
            return member_error(err, k, mk, "is not a model that can predict");
        if (mk->task != first->task) {
            char what[160];
            snprintf(what, sizeof what, "is a %s model but member 0 is %s",
                     gb_task_name(mk->task), gb_task_name(first->task));
            return member_error(err, k, mk, what);
        }
        if (mk->n_outputs != first->n_outputs || mk->n_classes != first->n_classes)
            return member_error(err, k, mk,
                                "predicts a different number of classes than member 0");
        for (size_t c = 0; c < mk->n_classes; c++)
            if (strcmp(mk->classes[c], first->classes[c]) != 0) {
                char what[320];
                snprintf(what, sizeof what,
                         "class %zu is '%.100s' but member 0's is '%.100s'", c,
                         mk->classes[c], first->classes[c]);
                return member_error(err, k, mk, what);
            }
        total += mk->n_features;
    }
    if (mean == GB_ENSEMBLE_GEOMETRIC && first->task == GB_TASK_REGRESSION)
        return gb_error_set(
            err, GB_EUNUSABLE,
            "the geometric mean combines probabilities; regression members "
            "use the arithmetic mean");
    double wsum = 0.0;
    for (size_t k = 0; k < n_members; k++) {
        double w = weights != NULL ? weights[k] : 1.0;
        if (!isfinite(w) || w < 0) {
            char field[32];
            snprintf(field, sizeof field, "weights[%zu]", k);
            gb_error_set(err, GB_EUNUSABLE,
                         "ensemble weight %zu is %g; weights must be finite "
                         "and >= 0",
                         k, w);
            gb_error_field(err, field);
            return GB_EUNUSABLE;
        }
        wsum += w;
    }
    if (!(wsum > 0) || !isfinite(wsum)) {
        gb_error_set(err, GB_EUNUSABLE,
                     "ensemble weights must have a positive finite sum");
        gb_error_field(err, "weights");
        return GB_EUNUSABLE;
    }

    em = gb_calloc(1, sizeof *em);
    feats = gb_calloc(total ? total : 1, sizeof *feats);
    if (em == NULL || feats == NULL)
        goto nomem;
    em->members = gb_calloc(n_members, sizeof *em->members);
    em->columns = gb_calloc(n_members, sizeof *em->columns);
    em->weights = gb_calloc(n_members, sizeof *em->weights);
    if (em->members == NULL || em->columns == NULL || em->weights == NULL)
        goto nomem;
    em->n_members = n_members;
    em->mean = mean;
    for (size_t k = 0; k < n_members; k++) {
        const gb_model *mk = members[k];
        em->weights[k] = (weights != NULL ? weights[k] : 1.0) / wsum;
        em->columns[k] = gb_calloc(mk->n_features ? mk->n_features : 1, sizeof(size_t));
        if (em->columns[k] == NULL)
            goto nomem;
        if (mk->n_features > em->max_member_features)
            em->max_member_features = mk->n_features;
        for (size_t j = 0; j < mk->n_features; j++) {
            const gb_feature *f = &mk->features[j];
            size_t u = 0;
            while (u < n_union && strcmp(feats[u]->name, f->name) != 0)
                u++;
            if (u == n_union)
                feats[n_union++] = f;
            else if (!same_feature(feats[u], f)) {
                char what[200];
                snprintf(what, sizeof what,
                         "declares feature '%.100s' differently from an earlier member",
                         f->name);
                rc = member_error(err, k, mk, what);
                goto fail;
            }
            em->columns[k][j] = u;
        }
    }
    union_copy = gb_calloc(n_union ? n_union : 1, sizeof *union_copy);
    if (union_copy == NULL)
        goto nomem;
    for (size_t u = 0; u < n_union; u++)
        union_copy[u] = *feats[u]; /* shallow: gb_model_create deep-copies */
    gb_model *m = gb_model_create(&ens_ops, em, first->task, union_copy, n_union,
                                  first->classes, first->n_classes, err);
    /* gb_model_create owns em now and freed it on failure; the members are
     * handed over only on success, so the caller keeps them otherwise. */
    if (m == NULL) {
        gb_free(union_copy);
        gb_free(feats);
        return err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
    }
    for (size_t k = 0; k < n_members; k++) {
        em->members[k] = members[k];
        members[k] = NULL;
    }
    gb_free(union_copy);
    gb_free(feats);
    *out = m;
    return GB_OK;

nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory building an ensemble");
fail:
    ens_free(em);
    gb_free(union_copy);
    gb_free(feats);
    return rc;
}
