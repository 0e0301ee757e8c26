/*
 * gam_artifact.c - the GAM student's JSON artifact (to_json / from_json) and
 * its deployable exports (SQL expressions, a standalone C function), all
 * reproducing predict's arithmetic exactly (numbers printed as shortest
 * round-trip text, terms summed in the same order).
 * Layer: core/model/students (private to the GAM student).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/model/students/gam.h"
#include "core/model/students/gam_impl.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Shortest text that parses back to v, always with a '.' or an exponent so
 * SQL and C read it as a double. */
static void num_text(double v, char buf[40])
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, 40, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".en") == NULL)
        strcat(buf, ".0");
}

static cJSON *exact_number(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char buf[40];
    num_text(v, buf);
    return cJSON_CreateRaw(buf);
}

static cJSON *exact_array(const double *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *item = exact_number(v[i]);
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* An array of n arrays of M numbers (rows of v). */
static cJSON *exact_rows(const double *v, size_t n, size_t M)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *row = exact_array(v + i * M, M);
        if (row == NULL || !cJSON_AddItemToArray(arr, row)) {
            cJSON_Delete(row);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static int add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL)
        return 0;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

static const char *task_text(gb_task task)
{
    switch (task) {
    case GB_TASK_BINARY: return "binary";
    case GB_TASK_MULTICLASS: return "multiclass";
    case GB_TASK_REGRESSION: return "regression";
    default: return "auto";
    }
}

/* ------------------------------------------------------------------------ */
/* to_json                                                                  */
/* ------------------------------------------------------------------------ */

static cJSON *shape_json(const gb_model *m, const gam_impl *g, size_t j)
{
    const gb_feature *feat = &m->features[j];
    const gam_shape *s = &g->shapes[j];
    size_t M = g->M, nv = s->n_bins - 1;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddStringToObject(o, "feature", feat->name) == NULL)
        goto fail;
    if (feat->kind == GB_FEAT_CATEGORICAL) {
        if (cJSON_AddStringToObject(o, "kind", "categorical") == NULL ||
            !add_item(o, "levels",
                      gb_json_string_array_create(feat->levels, feat->n_levels)))
            goto fail;
    } else {
        if (cJSON_AddStringToObject(o, "kind", "numeric") == NULL ||
            !add_item(o, "edges", exact_array(s->edges, s->n_edges)))
            goto fail;
    }
    if (!add_item(o, "scores", exact_rows(s->scores, nv, M)) ||
        !add_item(o, "std", exact_rows(s->std, nv, M)) ||
        !add_item(o, "missing_score", exact_array(s->scores + nv * M, M)) ||
        !add_item(o, "missing_std", exact_array(s->std + nv * M, M)))
        goto fail;
    if (g->monotone[j] != 0 &&
        gb_json_add_number(o, "monotone", g->monotone[j]) == NULL)
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *table_json(const double *v, size_t na, size_t nbb, size_t M)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t ia = 0; arr != NULL && ia < na; ia++) {
        cJSON *row = exact_rows(v + ia * nbb * M, nbb, M);
        if (row == NULL || !cJSON_AddItemToArray(arr, row)) {
            cJSON_Delete(row);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *pair_json(const gb_model *m, const gam_impl *g, size_t q)
{
    const gam_pair *pr = &g->pairs[q];
    cJSON *o = cJSON_CreateObject();
    char *names[2] = {m->features[pr->a].name, m->features[pr->b].name};
    if (o == NULL || !add_item(o, "features", gb_json_string_array_create(names, 2)))
        goto fail;
    if (!add_item(o, "edges_a",
                  pr->edges_a != NULL || m->features[pr->a].kind == GB_FEAT_NUMERIC
                      ? exact_array(pr->edges_a, pr->n_edges_a)
                      : cJSON_CreateNull()) ||
        !add_item(o, "edges_b",
                  pr->edges_b != NULL || m->features[pr->b].kind == GB_FEAT_NUMERIC
                      ? exact_array(pr->edges_b, pr->n_edges_b)
                      : cJSON_CreateNull()) ||
        !add_item(o, "scores", table_json(pr->scores, pr->nb_a, pr->nb_b, g->M)) ||
        !add_item(o, "std", table_json(pr->std, pr->nb_a, pr->nb_b, g->M)))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *gb_gam_to_json(const gb_model *m)
{
    const gam_impl *g = m->impl;
    char *mono = NULL;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    if (cJSON_AddStringToObject(root, "format", "glassbox-student") == NULL ||
        gb_json_add_number(root, "version", 1) == NULL ||
        cJSON_AddStringToObject(root, "type", "gam") == NULL ||
        cJSON_AddStringToObject(root, "task", task_text(m->task)) == NULL)
        goto fail;
    if (m->task == GB_TASK_REGRESSION) {
        if (cJSON_AddNullToObject(root, "classes") == NULL)
            goto fail;
    } else if (!add_item(root, "classes",
                         gb_json_string_array_create(m->classes, m->n_classes))) {
        goto fail;
    }
    if (!add_item(root, "features", gb_student_features_to_json(m)))
        goto fail;
    mono = gb_gam_monotone_text(m);
    cJSON *params = cJSON_AddObjectToObject(root, "params");
    const gb_gam_params *p = &g->params;
    if (mono == NULL || params == NULL ||
        gb_json_add_number(params, "rounds", p->rounds) == NULL ||
        !add_item(params, "learning_rate", exact_number(p->learning_rate)) ||
        gb_json_add_number(params, "max_bins", p->max_bins) == NULL ||
        gb_json_add_number(params, "bags", p->bags) == NULL ||
        gb_json_add_number(params, "interactions", p->interactions) == NULL ||
        cJSON_AddStringToObject(params, "monotone", mono) == NULL ||
        gb_json_add_number(params, "early_stopping_rounds", p->early_stopping_rounds) ==
            NULL ||
        !add_item(params, "validation_fraction",
                  exact_number(p->validation_fraction)) ||
        gb_json_add_number(params, "min_samples_leaf", (double)p->min_samples_leaf) ==
            NULL ||
        gb_json_add_number(params, "max_leaves", p->max_leaves) == NULL ||
        gb_json_add_number(params, "smoothing_rounds", p->smoothing_rounds) == NULL)
        goto fail;
    if (!add_item(root, "intercept", exact_array(g->intercept, g->M)))
        goto fail;
    cJSON *shapes = cJSON_AddArrayToObject(root, "shapes");
    if (shapes == NULL)
        goto fail;
    for (size_t j = 0; j < m->n_features; j++) {
        cJSON *o = shape_json(m, g, j);
        if (o == NULL || !cJSON_AddItemToArray(shapes, o)) {
            cJSON_Delete(o);
            goto fail;
        }
    }
    cJSON *pairs = cJSON_AddArrayToObject(root, "interactions");
    if (pairs == NULL)
        goto fail;
    for (size_t q = 0; q < g->n_pairs; q++) {
        cJSON *o = pair_json(m, g, q);
        if (o == NULL || !cJSON_AddItemToArray(pairs, o)) {
            cJSON_Delete(o);
            goto fail;
        }
    }
    cJSON *cx = cJSON_AddObjectToObject(root, "complexity");
    if (cx == NULL ||
        gb_json_add_number(cx, "terms", (double)(m->n_features + g->n_pairs)) == NULL ||
        gb_json_add_number(cx, "rounds_used", (double)g->rounds_used) == NULL)
        goto fail;
    gb_free(mono);
    return root;
fail:
    gb_free(mono);
    cJSON_Delete(root);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* from_json                                                                */
/* ------------------------------------------------------------------------ */

static gb_status bad_field(gb_error *err, const char *field, const char *what)
{
    gb_error_set(err, GB_EUNUSABLE, "gam artifact: field '%s' %s", field, what);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

/* Reads an array of exactly n arrays of M finite numbers into v (n x M). */
static gb_status rows_from_json(const cJSON *arr, const char *path, size_t n, size_t M,
                                double *v, gb_error *err)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n) {
        char what[96];
        snprintf(what, sizeof what, "must be an array of %zu entries", n);
        return bad_field(err, path, what);
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(arr, (int)i);
        char p[160];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != M) {
            char what[96];
            snprintf(what, sizeof what, "must be an array of %zu numbers", M);
            return bad_field(err, p, what);
        }
        for (size_t k = 0; k < M; k++) {
            const cJSON *x = cJSON_GetArrayItem(row, (int)k);
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
                return bad_field(err, p, "holds a value that is not a finite number");
            v[i * M + k] = x->valuedouble;
        }
    }
    return GB_OK;
}

static gb_status vec_from_json(const cJSON *obj, const char *path, const char *key,
                               size_t M, double *v, gb_error *err)
{
    char p[160];
    snprintf(p, sizeof p, "%s.%s", path, key);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != M) {
        char what[96];
        snprintf(what, sizeof what, "must be an array of %zu numbers", M);
        return bad_field(err, p, what);
    }
    for (size_t k = 0; k < M; k++) {
        const cJSON *x = cJSON_GetArrayItem(arr, (int)k);
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
            return bad_field(err, p, "holds a value that is not a finite number");
        v[k] = x->valuedouble;
    }
    return GB_OK;
}

/* Edges: finite, strictly increasing; *out owned by the caller. */
static gb_status edges_from_json(const cJSON *arr, const char *path, double **out,
                                 size_t *n_out, gb_error *err)
{
    if (!cJSON_IsArray(arr))
        return bad_field(err, path, "must be an array of numbers");
    gb_status rc = gb_json_number_array(arr, path, 65535, out, n_out, err);
    if (rc != GB_OK)
        return rc;
    for (size_t i = 1; i < *n_out; i++)
        if (!((*out)[i] > (*out)[i - 1])) {
            gb_free(*out);
            *out = NULL;
            return bad_field(err, path, "must be strictly increasing");
        }
    return GB_OK;
}

static gb_status shape_from_json(const cJSON *o, const gb_feature *feat, size_t j,
                                 size_t M, gam_shape *s, signed char *mono,
                                 gb_error *err)
{
    char path[64], field[128];
    snprintf(path, sizeof path, "shapes[%zu]", j);
    const char *name = NULL, *kind = NULL;
    gb_status rc;
    if ((rc = gb_json_get_string(o, path, "feature", &name, err)) != GB_OK ||
        (rc = gb_json_get_string(o, path, "kind", &kind, err)) != GB_OK)
        return rc;
    snprintf(field, sizeof field, "%s.feature", path);
    if (strcmp(name, feat->name) != 0)
        return bad_field(err, field, "does not name the feature in the same position");
    snprintf(field, sizeof field, "%s.kind", path);
    int cat = feat->kind == GB_FEAT_CATEGORICAL;
    if (strcmp(kind, cat ? "categorical" : "numeric") != 0)
        return bad_field(err, field, "does not match the feature's kind");
    size_t nv;
    if (cat) {
        nv = feat->n_levels;
    } else {
        snprintf(field, sizeof field, "%s.edges", path);
        if ((rc = edges_from_json(cJSON_GetObjectItemCaseSensitive(o, "edges"), field,
                                  &s->edges, &s->n_edges, err)) != GB_OK)
            return rc;
        if (s->n_edges > 254)
            return bad_field(err, field, "has more than 254 edges");
        nv = s->n_edges + 1;
    }
    s->n_bins = nv + 1;
    s->scores = gb_malloc_array(s->n_bins, M * sizeof(double));
    s->std = gb_malloc_array(s->n_bins, M * sizeof(double));
    if (s->scores == NULL || s->std == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a gam artifact");
    snprintf(field, sizeof field, "%s.scores", path);
    if ((rc = rows_from_json(cJSON_GetObjectItemCaseSensitive(o, "scores"), field, nv,
                             M, s->scores, err)) != GB_OK)
        return rc;
    snprintf(field, sizeof field, "%s.std", path);
    if ((rc = rows_from_json(cJSON_GetObjectItemCaseSensitive(o, "std"), field, nv, M,
                             s->std, err)) != GB_OK)
        return rc;
    if ((rc = vec_from_json(o, path, "missing_score", M, s->scores + nv * M, err)) !=
            GB_OK ||
        (rc = vec_from_json(o, path, "missing_std", M, s->std + nv * M, err)) != GB_OK)
        return rc;
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(o, "monotone");
    *mono = 0;
    if (mo != NULL) {
        snprintf(field, sizeof field, "%s.monotone", path);
        if (!cJSON_IsNumber(mo) ||
            (mo->valuedouble != 1.0 && mo->valuedouble != -1.0) || cat)
            return bad_field(err, field, "must be 1 or -1 on a numeric feature");
        *mono = (signed char)mo->valuedouble;
    }
    return GB_OK;
}

static gb_status pair_side(const cJSON *o, const char *path, const char *key,
                           const gb_feature *feat, double **edges, size_t *n_edges,
                           size_t *nb, gb_error *err)
{
    char field[128];
    snprintf(field, sizeof field, "%s.%s", path, key);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
    if (feat->kind == GB_FEAT_CATEGORICAL) {
        if (!cJSON_IsNull(arr))
            return bad_field(err, field, "must be null for a categorical feature");
        if (feat->n_levels > 64)
            return bad_field(err, field, "names a feature with more than 64 levels");
        *nb = feat->n_levels + 1;
        return GB_OK;
    }
    gb_status rc = edges_from_json(arr, field, edges, n_edges, err);
    if (rc != GB_OK)
        return rc;
    if (*n_edges > 63)
        return bad_field(err, field, "has more than 63 edges");
    *nb = *n_edges + 2;
    return GB_OK;
}

static gb_status pair_from_json(const cJSON *o, const gb_feature *feats, size_t F,
                                size_t q, size_t M, gam_pair *pr, gb_error *err)
{
    char path[64], field[128];
    snprintf(path, sizeof path, "interactions[%zu]", q);
    const cJSON *names = NULL;
    gb_status rc = gb_json_get_array(o, path, "features", &names, err);
    if (rc != GB_OK)
        return rc;
    snprintf(field, sizeof field, "%s.features", path);
    size_t idx[2] = {F, F};
    if (cJSON_GetArraySize(names) != 2)
        return bad_field(err, field, "must name two features");
    for (int s = 0; s < 2; s++) {
        const cJSON *nm = cJSON_GetArrayItem(names, s);
        for (size_t f = 0; cJSON_IsString(nm) && f < F; f++)
            if (strcmp(feats[f].name, nm->valuestring) == 0)
                idx[s] = f;
        if (idx[s] == F)
            return bad_field(err, field, "names an unknown feature");
    }
    if (idx[0] == idx[1])
        return bad_field(err, field, "must name two different features");
    pr->a = idx[0];
    pr->b = idx[1];
    if ((rc = pair_side(o, path, "edges_a", &feats[pr->a], &pr->edges_a, &pr->n_edges_a,
                        &pr->nb_a, err)) != GB_OK ||
        (rc = pair_side(o, path, "edges_b", &feats[pr->b], &pr->edges_b, &pr->n_edges_b,
                        &pr->nb_b, err)) != GB_OK)
        return rc;
    pr->scores = gb_malloc_array(pr->nb_a * pr->nb_b, M * sizeof(double));
    pr->std = gb_malloc_array(pr->nb_a * pr->nb_b, M * sizeof(double));
    if (pr->scores == NULL || pr->std == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a gam artifact");
    const char *keys[2] = {"scores", "std"};
    double *dst[2] = {pr->scores, pr->std};
    for (int t = 0; t < 2; t++) {
        const cJSON *tab = cJSON_GetObjectItemCaseSensitive(o, keys[t]);
        snprintf(field, sizeof field, "%s.%s", path, keys[t]);
        if (!cJSON_IsArray(tab) || (size_t)cJSON_GetArraySize(tab) != pr->nb_a)
            return bad_field(err, field,
                             "must have one row per bin of the first feature");
        for (size_t ia = 0; ia < pr->nb_a; ia++) {
            char rp[160];
            snprintf(rp, sizeof rp, "%s[%zu]", field, ia);
            if ((rc = rows_from_json(cJSON_GetArrayItem(tab, (int)ia), rp, pr->nb_b, M,
                                     dst[t] + ia * pr->nb_b * M, err)) != GB_OK)
                return rc;
        }
    }
    return GB_OK;
}

static gb_status params_from_json(const cJSON *o, gb_gam_params *p, gb_error *err)
{
    static const char *const keys[] = {"rounds",
                                       "learning_rate",
                                       "max_bins",
                                       "bags",
                                       "interactions",
                                       "early_stopping_rounds",
                                       "validation_fraction",
                                       "min_samples_leaf",
                                       "max_leaves",
                                       "smoothing_rounds"};
    double v[10];
    gb_status rc;
    for (size_t i = 0; i < 10; i++)
        if ((rc = gb_json_get_number(o, "params", keys[i], &v[i], err)) != GB_OK)
            return rc;
    for (size_t i = 0; i < 10; i++) {
        int integer = i != 1 && i != 6;
        if (!(v[i] >= 0.0 && v[i] <= 4294967295.0) ||
            (integer && v[i] != floor(v[i]))) {
            char field[64];
            snprintf(field, sizeof field, "params.%s", keys[i]);
            return bad_field(err, field, "is out of range");
        }
    }
    p->rounds = (unsigned)v[0];
    p->learning_rate = v[1];
    p->max_bins = (unsigned)v[2];
    p->bags = (unsigned)v[3];
    p->interactions = (unsigned)v[4];
    p->early_stopping_rounds = (unsigned)v[5];
    p->validation_fraction = v[6];
    p->min_samples_leaf = (size_t)v[7];
    p->max_leaves = (unsigned)v[8];
    p->smoothing_rounds = (unsigned)v[9];
    p->monotone = NULL;
    return GB_OK;
}

gb_status gb_gam_from_json(const cJSON *artifact, gb_model **out, gb_error *err)
{
    gb_feature *feats = NULL;
    size_t F = 0, n_classes = 0;
    char **classes = NULL;
    gam_impl *g = NULL;
    gb_status rc;
    const char *type = NULL, *task_name = NULL;
    const cJSON *arr = NULL, *params = NULL;
    double version = 0.0;
    gb_task task = GB_TASK_AUTO;
    if ((rc = gb_json_get_string(artifact, "", "type", &type, err)) != GB_OK)
        return rc;
    if (strcmp(type, "gam") != 0)
        return bad_field(err, "type", "must be \"gam\"");
    if ((rc = gb_json_get_number(artifact, "", "version", &version, err)) != GB_OK)
        return rc;
    if (version != 1.0)
        return bad_field(err, "version", "must be 1");
    if ((rc = gb_json_get_string(artifact, "", "task", &task_name, err)) != GB_OK)
        return rc;
    if (strcmp(task_name, "binary") == 0)
        task = GB_TASK_BINARY;
    else if (strcmp(task_name, "multiclass") == 0)
        task = GB_TASK_MULTICLASS;
    else if (strcmp(task_name, "regression") == 0)
        task = GB_TASK_REGRESSION;
    else
        return bad_field(err, "task", "must be binary, multiclass or regression");
    if (task != GB_TASK_REGRESSION) {
        if ((rc = gb_json_get_array(artifact, "", "classes", &arr, err)) != GB_OK ||
            (rc = gb_json_string_array(arr, "classes", 1u << 20, &classes, &n_classes,
                                       err)) != GB_OK)
            goto fail;
        if (n_classes < 2 || (task == GB_TASK_BINARY && n_classes != 2)) {
            rc = bad_field(err, "classes", "has the wrong number of classes");
            goto fail;
        }
    }
    if ((rc = gb_json_get_array(artifact, "", "features", &arr, err)) != GB_OK ||
        (rc = gb_student_features_from_json(arr, "gam", 65534, &feats, &F, err)) !=
            GB_OK)
        goto fail;
    size_t M = task == GB_TASK_MULTICLASS ? n_classes : 1;
    g = gb_calloc(1, sizeof *g);
    if (g == NULL)
        goto nomem;
    g->M = M;
    g->intercept = gb_malloc_array(M, sizeof(double));
    g->shapes = gb_calloc(F ? F : 1, sizeof *g->shapes);
    g->n_shapes = F;
    g->monotone = gb_calloc(F ? F : 1, 1);
    if (g->intercept == NULL || g->shapes == NULL || g->monotone == NULL)
        goto nomem;
    if ((rc = gb_json_get_object(artifact, "", "params", &params, err)) != GB_OK ||
        (rc = params_from_json(params, &g->params, err)) != GB_OK ||
        (rc = vec_from_json(artifact, "", "intercept", M, g->intercept, err)) != GB_OK)
        goto fail;
    if ((rc = gb_json_get_array(artifact, "", "shapes", &arr, err)) != GB_OK)
        goto fail;
    if ((size_t)cJSON_GetArraySize(arr) != F) {
        rc = bad_field(err, "shapes", "must hold one shape per feature");
        goto fail;
    }
    for (size_t j = 0; j < F; j++)
        if ((rc = shape_from_json(cJSON_GetArrayItem(arr, (int)j), &feats[j], j, M,
                                  &g->shapes[j], &g->monotone[j], err)) != GB_OK)
            goto fail;
    if ((rc = gb_json_get_array(artifact, "", "interactions", &arr, err)) != GB_OK)
        goto fail;
    size_t n_pairs = (size_t)cJSON_GetArraySize(arr);
    g->pairs = gb_calloc(n_pairs ? n_pairs : 1, sizeof *g->pairs);
    if (g->pairs == NULL)
        goto nomem;
    for (size_t q = 0; q < n_pairs; q++) {
        g->n_pairs = q + 1;
        if ((rc = pair_from_json(cJSON_GetArrayItem(arr, (int)q), feats, F, q, M,
                                 &g->pairs[q], err)) != GB_OK)
            goto fail;
    }
    const cJSON *cx = NULL;
    double rounds_used = 0.0;
    if ((rc = gb_json_get_object(artifact, "", "complexity", &cx, err)) != GB_OK ||
        (rc = gb_json_get_number(cx, "complexity", "rounds_used", &rounds_used, err)) !=
            GB_OK)
        goto fail;
    if (!(rounds_used >= 0.0 && rounds_used <= 1e9)) {
        rc = bad_field(err, "complexity.rounds_used", "is out of range");
        goto fail;
    }
    g->rounds_used = (size_t)rounds_used;
    gb_model *m =
        gb_model_create(&gb_gam_ops, g, task, feats, F, classes, n_classes, err);
    g = NULL; /* owned by the model shell, even on failure */
    if (m == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto fail;
    }
    gb_features_free(feats, F);
    gb_free_strings(classes, n_classes);
    *out = m;
    return GB_OK;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a gam artifact");
fail:
    gb_gam_impl_free(g);
    gb_features_free(feats, F);
    gb_free_strings(classes, n_classes);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* SQL export                                                               */
/* ------------------------------------------------------------------------ */

static void sql_identifier(gb_strbuf *b, const char *name)
{
    gb_strbuf_printf(b, "\"");
    for (const char *p = name; *p; p++)
        gb_strbuf_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    gb_strbuf_printf(b, "\"");
}

static void sql_string(gb_strbuf *b, const char *text)
{
    gb_strbuf_printf(b, "'");
    for (const char *p = text; *p; p++)
        gb_strbuf_printf(b, *p == '\'' ? "''" : "%c", *p);
    gb_strbuf_printf(b, "'");
}

static void sql_num(gb_strbuf *b, double v)
{
    char buf[40];
    num_text(v, buf);
    gb_strbuf_printf(b, "%s", buf);
}

/* A CASE giving values[bin] (stride M, offset k) for the feature's bins, or
 * the bin index itself when values is NULL. */
static void sql_bin_case(gb_strbuf *b, const gb_feature *feat, const double *edges,
                         size_t n_edges, size_t n_bins, const double *values, size_t M,
                         size_t k)
{
    size_t nv = n_bins - 1;
#define SQL_VALUE(bin)                                                                 \
    do {                                                                               \
        if (values != NULL)                                                            \
            sql_num(b, values[(bin)*M + k]);                                           \
        else                                                                           \
            gb_strbuf_printf(b, "%zu", (size_t)(bin));                                 \
    } while (0)
    if (feat->kind == GB_FEAT_CATEGORICAL) {
        gb_strbuf_printf(b, "CASE ");
        sql_identifier(b, feat->name);
        for (size_t l = 0; l < nv; l++) {
            gb_strbuf_printf(b, " WHEN ");
            sql_string(b, feat->levels[l]);
            gb_strbuf_printf(b, " THEN ");
            SQL_VALUE(l);
        }
        gb_strbuf_printf(b, " ELSE ");
        SQL_VALUE(nv);
        gb_strbuf_printf(b, " END");
        return;
    }
    gb_strbuf_printf(b, "CASE WHEN ");
    sql_identifier(b, feat->name);
    gb_strbuf_printf(b, " IS NULL THEN ");
    SQL_VALUE(nv);
    for (size_t e = 0; e < n_edges; e++) {
        gb_strbuf_printf(b, " WHEN ");
        sql_identifier(b, feat->name);
        gb_strbuf_printf(b, " <= ");
        sql_num(b, edges[e]);
        gb_strbuf_printf(b, " THEN ");
        SQL_VALUE(e);
    }
    gb_strbuf_printf(b, " ELSE ");
    SQL_VALUE(n_edges);
    gb_strbuf_printf(b, " END");
#undef SQL_VALUE
}

static void sql_margin(gb_strbuf *b, const gb_model *m, const gam_impl *g, size_t k)
{
    gb_strbuf_printf(b, "(");
    sql_num(b, g->intercept[k]);
    for (size_t j = 0; j < m->n_features; j++) {
        const gam_shape *s = &g->shapes[j];
        gb_strbuf_printf(b, "\n   + ");
        sql_bin_case(b, &m->features[j], s->edges, s->n_edges, s->n_bins, s->scores,
                     g->M, k);
    }
    for (size_t q = 0; q < g->n_pairs; q++) {
        const gam_pair *pr = &g->pairs[q];
        const gb_feature *fa = &m->features[pr->a], *fb = &m->features[pr->b];
        gb_strbuf_printf(b, "\n   + CASE ");
        sql_bin_case(b, fa, pr->edges_a, pr->n_edges_a, pr->nb_a, NULL, 1, 0);
        for (size_t ia = 0; ia < pr->nb_a; ia++) {
            gb_strbuf_printf(b, "\n     WHEN %zu THEN ", ia);
            sql_bin_case(b, fb, pr->edges_b, pr->n_edges_b, pr->nb_b,
                         pr->scores + ia * pr->nb_b * g->M, g->M, k);
        }
        gb_strbuf_printf(b, " END");
    }
    gb_strbuf_printf(b, ")");
}

gb_status gb_gam_export_sql(const gb_model *m, char **out, gb_error *err)
{
    if (!gb_gam_is(m))
        return gb_error_set(err, GB_EUNUSABLE, "SQL export: the model is not a gam");
    const gam_impl *g = m->impl;
    gb_strbuf b = GB_STRBUF_INIT;
    gb_strbuf_printf(
        &b,
        "-- glassbox gam student (%zu terms): one expression per output;\n"
        "-- margin = intercept + one CASE per feature (numeric columns compared "
        "with <=,\n-- categorical columns hold level names as text; NULL or an "
        "unknown level\n-- takes the missing bin); uses exp().\n",
        m->n_features + g->n_pairs);
    if (m->task == GB_TASK_REGRESSION) {
        sql_margin(&b, m, g, 0);
        gb_strbuf_printf(&b, " AS ");
        sql_identifier(&b, "prediction");
    } else if (m->task == GB_TASK_BINARY) {
        for (size_t c = 0; c < 2; c++) {
            if (c > 0)
                gb_strbuf_printf(&b, ",\n");
            gb_strbuf_printf(&b, c == 0 ? "1.0 - 1.0 / (1.0 + exp(-"
                                        : "1.0 / (1.0 + exp(-");
            sql_margin(&b, m, g, 0);
            gb_strbuf_printf(&b, ")) AS ");
            char alias[512];
            snprintf(alias, sizeof alias, "p_%s", m->classes[c]);
            sql_identifier(&b, alias);
        }
    } else {
        for (size_t c = 0; c < m->n_classes; c++) {
            if (c > 0)
                gb_strbuf_printf(&b, ",\n");
            gb_strbuf_printf(&b, "1.0 / (");
            for (size_t j = 0; j < m->n_classes; j++) {
                gb_strbuf_printf(&b, j ? "\n + exp(" : "exp(");
                sql_margin(&b, m, g, j);
                gb_strbuf_printf(&b, " - ");
                sql_margin(&b, m, g, c);
                gb_strbuf_printf(&b, ")");
            }
            gb_strbuf_printf(&b, ") AS ");
            char alias[512];
            snprintf(alias, sizeof alias, "p_%s", m->classes[c]);
            sql_identifier(&b, alias);
        }
    }
    gb_strbuf_printf(&b, "\n");
    *out = gb_strbuf_take(&b);
    if (*out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a gam as SQL");
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* C export                                                                 */
/* ------------------------------------------------------------------------ */

static void c_comment_text(gb_strbuf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '*' && p[1] == '/')
            gb_strbuf_printf(b, "* /");
        else if (*p == '\n' || *p == '\r')
            gb_strbuf_printf(b, " ");
        else
            gb_strbuf_printf(b, "%c", *p);
    }
}

static void c_array(gb_strbuf *b, const char *name, size_t idx, const double *v,
                    size_t n)
{
    gb_strbuf_printf(b, "static const double %s%zu[%zu] = {", name, idx, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        char buf[40];
        num_text(v[i], buf);
        gb_strbuf_printf(b, "%s%s", i ? (i % 4 == 0 ? ",\n    " : ", ") : "", buf);
    }
    if (n == 0)
        gb_strbuf_printf(b, "0.0");
    gb_strbuf_printf(b, "};\n");
}

/* Writes "size_t <var> = <bin of x[f]>;" */
static void c_bin(gb_strbuf *b, const char *var, const gb_feature *feat, size_t f,
                  const char *edges, size_t idx, size_t n_edges, size_t n_bins)
{
    if (feat->kind == GB_FEAT_CATEGORICAL)
        gb_strbuf_printf(b, "    %s = gb_level(x[%zu], %zu);\n", var, f, n_bins - 1);
    else
        gb_strbuf_printf(b,
                         "    %s = isnan(x[%zu]) ? %zu : gb_bin(%s%zu, %zu, x[%zu]);\n",
                         var, f, n_bins - 1, edges, idx, n_edges, f);
}

gb_status gb_gam_export_c(const gb_model *m, char **out, gb_error *err)
{
    if (!gb_gam_is(m))
        return gb_error_set(err, GB_EUNUSABLE, "C export: the model is not a gam");
    const gam_impl *g = m->impl;
    size_t M = g->M;
    gb_strbuf b = GB_STRBUF_INIT;
    gb_strbuf_printf(&b, "/*\n * glassbox gam student (%zu terms).\n *\n",
                     m->n_features + g->n_pairs);
    gb_strbuf_printf(
        &b,
        " * x: %zu doubles, the features in this order (NaN = missing;\n"
        " * categorical features as level codes 0, 1, ... in the order listed):\n",
        m->n_features);
    for (size_t f = 0; f < m->n_features; f++) {
        const gb_feature *feat = &m->features[f];
        gb_strbuf_printf(&b, " *   x[%zu] ", f);
        c_comment_text(&b, feat->name);
        if (feat->kind == GB_FEAT_CATEGORICAL) {
            gb_strbuf_printf(&b, " (categorical:");
            for (size_t l = 0; l < feat->n_levels; l++) {
                gb_strbuf_printf(&b, " %zu=", l);
                c_comment_text(&b, feat->levels[l]);
            }
            gb_strbuf_printf(&b, ")");
        }
        gb_strbuf_printf(&b, "\n");
    }
    if (m->task == GB_TASK_REGRESSION) {
        gb_strbuf_printf(&b, " * out: 1 double, the predicted value.\n");
    } else {
        gb_strbuf_printf(&b,
                         " * out: %zu doubles, the class probabilities:", m->n_outputs);
        for (size_t k = 0; k < m->n_classes; k++) {
            gb_strbuf_printf(&b, " out[%zu]=P(", k);
            c_comment_text(&b, m->classes[k]);
            gb_strbuf_printf(&b, ")");
        }
        gb_strbuf_printf(&b, ".\n");
    }
    gb_strbuf_printf(&b, " */\n#include <math.h>\n#include <stddef.h>\n\n");
    gb_strbuf_printf(
        &b, "static inline size_t gb_bin(const double *e, size_t n, double x)\n{\n"
            "    size_t lo = 0, hi = n;\n"
            "    while (lo < hi) {\n"
            "        size_t mid = (lo + hi) / 2;\n"
            "        if (e[mid] < x)\n            lo = mid + 1;\n"
            "        else\n            hi = mid;\n    }\n    return lo;\n}\n\n"
            "static inline size_t gb_level(double x, size_t n_levels)\n{\n"
            "    if (!isnan(x) && x >= 0.0 && x < (double)n_levels && x == "
            "floor(x))\n        return (size_t)x;\n    return n_levels;\n}\n\n");
    for (size_t j = 0; j < m->n_features; j++) {
        const gam_shape *s = &g->shapes[j];
        if (m->features[j].kind == GB_FEAT_NUMERIC)
            c_array(&b, "edges_", j, s->edges, s->n_edges);
        c_array(&b, "shape_", j, s->scores, s->n_bins * M);
    }
    for (size_t q = 0; q < g->n_pairs; q++) {
        const gam_pair *pr = &g->pairs[q];
        if (m->features[pr->a].kind == GB_FEAT_NUMERIC)
            c_array(&b, "pair_edges_a_", q, pr->edges_a, pr->n_edges_a);
        if (m->features[pr->b].kind == GB_FEAT_NUMERIC)
            c_array(&b, "pair_edges_b_", q, pr->edges_b, pr->n_edges_b);
        c_array(&b, "pair_", q, pr->scores, pr->nb_a * pr->nb_b * M);
    }
    gb_strbuf_printf(&b,
                     "\nvoid glassbox_predict(const double *x, double *out);\n\n"
                     "void glassbox_predict(const double *x, double *out)\n{\n"
                     "    double m[%zu];\n    size_t b, c;\n",
                     M);
    for (size_t k = 0; k < M; k++) {
        char buf[40];
        num_text(g->intercept[k], buf);
        gb_strbuf_printf(&b, "    m[%zu] = %s;\n", k, buf);
    }
    if (m->n_features == 0)
        gb_strbuf_printf(&b, "    (void)x;\n");
    for (size_t j = 0; j < m->n_features; j++) {
        const gam_shape *s = &g->shapes[j];
        c_bin(&b, "b", &m->features[j], j, "edges_", j, s->n_edges, s->n_bins);
        for (size_t k = 0; k < M; k++)
            gb_strbuf_printf(&b, "    m[%zu] += shape_%zu[b * %zu + %zu];\n", k, j, M,
                             k);
    }
    for (size_t q = 0; q < g->n_pairs; q++) {
        const gam_pair *pr = &g->pairs[q];
        c_bin(&b, "b", &m->features[pr->a], pr->a, "pair_edges_a_", q, pr->n_edges_a,
              pr->nb_a);
        c_bin(&b, "c", &m->features[pr->b], pr->b, "pair_edges_b_", q, pr->n_edges_b,
              pr->nb_b);
        for (size_t k = 0; k < M; k++)
            gb_strbuf_printf(&b, "    m[%zu] += pair_%zu[(b * %zu + c) * %zu + %zu];\n",
                             k, q, pr->nb_b, M, k);
    }
    gb_strbuf_printf(&b, "    (void)b;\n    (void)c;\n");
    if (m->task == GB_TASK_REGRESSION) {
        gb_strbuf_printf(&b, "    out[0] = m[0];\n");
    } else if (m->task == GB_TASK_BINARY) {
        gb_strbuf_printf(&b, "    double p1 = 1.0 / (1.0 + exp(-m[0]));\n"
                             "    out[0] = 1.0 - p1;\n    out[1] = p1;\n");
    } else {
        gb_strbuf_printf(&b,
                         "    for (size_t k = 0; k < %zu; k++) {\n"
                         "        double s = 0.0;\n"
                         "        for (size_t j = 0; j < %zu; j++)\n"
                         "            s += exp(m[j] - m[k]);\n"
                         "        out[k] = 1.0 / s;\n    }\n",
                         M, M);
    }
    gb_strbuf_printf(&b, "}\n");
    *out = gb_strbuf_take(&b);
    if (*out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a gam as C");
    return GB_OK;
}
