/*
 * run_config.c - parsing, checking and normalising a distillation run's
 * configuration (the body of POST /api/v1/runs).
 * Layer: api.
 */
#include "api/run_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX 9007199254740992.0 /* 2^53: exact in a JSON number */

/* ---- errors ---------------------------------------------------------------- */

static gb_status field_fail(gb_error *err, const char *field, const char *fmt,
                            const char *what)
{
    char message[400];
    snprintf(message, sizeof message, fmt, what != NULL ? what : "");
    gb_error_set(err, GB_EUNUSABLE, "%s: %s", field, message);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

static void join_path(char *out, size_t cap, const char *path, const char *key)
{
    if (path[0] == '\0')
        snprintf(out, cap, "%s", key);
    else
        snprintf(out, cap, "%s.%s", path, key);
}

/* Every member of obj must be one of known[]: otherwise GB_EUNUSABLE listing
 * every unknown name, the first one's dotted path in err->field. */
static gb_status check_members(const cJSON *obj, const char *path,
                               const char *const *known, size_t n_known, gb_error *err)
{
    char unknown[300] = "", first[128] = "", known_text[200] = "";
    size_t used = 0, n_unknown = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        size_t i = 0;
        while (i < n_known && strcmp(known[i], item->string) != 0)
            i++;
        if (i < n_known)
            continue;
        if (n_unknown == 0)
            join_path(first, sizeof first, path, item->string);
        int n = snprintf(unknown + used, sizeof unknown - used, "%s'%s'",
                         n_unknown ? ", " : "", item->string);
        if (n > 0 && (size_t)n < sizeof unknown - used)
            used += (size_t)n;
        n_unknown++;
    }
    if (n_unknown == 0)
        return GB_OK;
    used = 0;
    for (size_t i = 0; i < n_known; i++) {
        int n = snprintf(known_text + used, sizeof known_text - used, "%s%s",
                         i ? ", " : "", known[i]);
        if (n > 0 && (size_t)n < sizeof known_text - used)
            used += (size_t)n;
    }
    gb_error_set(err, GB_EUNUSABLE, "unknown field%s %s in %s (known: %s)",
                 n_unknown > 1 ? "s" : "", unknown,
                 path[0] != '\0' ? path : "the run request", known_text);
    gb_error_field(err, first);
    return GB_EUNUSABLE;
}

/* ---- typed members --------------------------------------------------------- */

static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *item = obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsNull(item) ? NULL : item;
}

static gb_status get_object(const cJSON *obj, const char *path, const char *key,
                            const cJSON **out, gb_error *err)
{
    char field[128];
    *out = member(obj, key);
    if (*out != NULL && !cJSON_IsObject(*out)) {
        join_path(field, sizeof field, path, key);
        return field_fail(err, field, "must be an object%s", NULL);
    }
    return GB_OK;
}

static gb_status get_number(const cJSON *obj, const char *path, const char *key,
                            double *out, gb_error *err)
{
    char field[128];
    const cJSON *item = member(obj, key);
    if (item == NULL)
        return GB_OK; /* *out keeps its default */
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        join_path(field, sizeof field, path, key);
        return field_fail(err, field, "must be a number%s", NULL);
    }
    *out = item->valuedouble;
    return GB_OK;
}

static gb_status get_count(const cJSON *obj, const char *path, const char *key,
                           double max, double *out, gb_error *err)
{
    char field[128];
    double v = *out;
    gb_status rc = get_number(obj, path, key, &v, err);
    if (rc != GB_OK)
        return rc;
    if (v < 0 || v != floor(v) || v > max) {
        join_path(field, sizeof field, path, key);
        char what[64];
        snprintf(what, sizeof what, "%.0f", max);
        return field_fail(err, field, "must be an integer from 0 to %s", what);
    }
    *out = v;
    return GB_OK;
}

static gb_status get_bool(const cJSON *obj, const char *path, const char *key, int *out,
                          gb_error *err)
{
    char field[128];
    const cJSON *item = member(obj, key);
    if (item == NULL)
        return GB_OK;
    if (!cJSON_IsBool(item)) {
        join_path(field, sizeof field, path, key);
        return field_fail(err, field, "must be true or false%s", NULL);
    }
    *out = cJSON_IsTrue(item);
    return GB_OK;
}

/* An array of at most max numbers into out. */
static gb_status get_numbers(const cJSON *obj, const char *path, const char *key,
                             double *out, size_t max, size_t *n_out, gb_error *err)
{
    char field[128];
    const cJSON *item = member(obj, key), *v;
    *n_out = 0;
    if (item == NULL)
        return GB_OK;
    join_path(field, sizeof field, path, key);
    if (!cJSON_IsArray(item))
        return field_fail(err, field, "must be an array of numbers%s", NULL);
    if ((size_t)cJSON_GetArraySize(item) > max) {
        char what[32];
        snprintf(what, sizeof what, "%zu", max);
        return field_fail(err, field, "lists at most %s values", what);
    }
    cJSON_ArrayForEach(v, item)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return field_fail(err, field, "must be an array of numbers%s", NULL);
        out[(*n_out)++] = v->valuedouble;
    }
    return GB_OK;
}

/* An array of 1..max non-empty strings (pointers into the tree). */
static gb_status get_strings(const cJSON *item, const char *field, const char **out,
                             size_t max, size_t *n_out, gb_error *err)
{
    const cJSON *v;
    *n_out = 0;
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) < 1 ||
        (size_t)cJSON_GetArraySize(item) > max) {
        char what[32];
        snprintf(what, sizeof what, "%zu", max);
        return field_fail(err, field, "must be an array of 1 to %s strings", what);
    }
    cJSON_ArrayForEach(v, item)
    {
        if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
            return field_fail(err, field, "must hold non-empty strings%s", NULL);
        out[(*n_out)++] = v->valuestring;
    }
    return GB_OK;
}

/* ---- sections -------------------------------------------------------------- */

static gb_status parse_teacher(const cJSON *body, cJSON *norm, api_run_config *c,
                               gb_error *err)
{
    static const char *const known[] = {"id", "ids", "weights", "scores"};
    const cJSON *t = NULL;
    gb_status rc = get_object(body, "", "teacher", &t, err);
    if (rc != GB_OK)
        return rc;
    if (t == NULL)
        return field_fail(err, "teacher",
                          "is required: {\"id\"}, {\"ids\",\"weights\"} or "
                          "{\"scores\"}%s",
                          NULL);
    if ((rc = check_members(t, "teacher", known, 4, err)) != GB_OK)
        return rc;
    const cJSON *id = member(t, "id"), *ids = member(t, "ids");
    const cJSON *weights = member(t, "weights"), *scores = member(t, "scores");
    if ((id != NULL) + (ids != NULL) + (scores != NULL) != 1)
        return field_fail(err, "teacher", "needs exactly one of id, ids and scores%s",
                          NULL);
    cJSON *out = cJSON_AddObjectToObject(norm, "teacher");
    if (out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    if (scores != NULL) {
        const char *cols[API_RUN_MAX_SCORES];
        if (weights != NULL)
            return field_fail(err, "teacher.weights", "goes with teacher.ids%s", NULL);
        rc = get_strings(scores, "teacher.scores", cols, API_RUN_MAX_SCORES,
                         &c->n_scores, err);
        if (rc != GB_OK)
            return rc;
        cJSON *arr = cJSON_AddArrayToObject(out, "scores");
        for (size_t i = 0; arr != NULL && i < c->n_scores; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(cols[i]));
        return GB_OK;
    }
    cJSON *arr = cJSON_AddArrayToObject(out, "ids");
    if (arr == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    if (id != NULL) {
        if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
            return field_fail(err, "teacher.id", "must be a teacher id%s", NULL);
        cJSON_AddItemToArray(arr, cJSON_CreateString(id->valuestring));
        c->n_teachers = 1;
    } else {
        const char *list[API_RUN_MAX_TEACHERS];
        rc = get_strings(ids, "teacher.ids", list, API_RUN_MAX_TEACHERS, &c->n_teachers,
                         err);
        if (rc != GB_OK)
            return rc;
        for (size_t i = 0; i < c->n_teachers; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(list[i]));
    }
    if (weights != NULL) {
        size_t n_w = 0;
        const cJSON *holder = t;
        rc = get_numbers(holder, "teacher", "weights", c->weights, API_RUN_MAX_TEACHERS,
                         &n_w, err);
        if (rc != GB_OK)
            return rc;
        if (n_w != c->n_teachers)
            return field_fail(err, "teacher.weights",
                              "must have one weight per teacher id%s", NULL);
        double sum = 0;
        for (size_t i = 0; i < n_w; i++) {
            if (c->weights[i] < 0)
                return field_fail(err, "teacher.weights", "must be >= 0%s", NULL);
            sum += c->weights[i];
        }
        if (!(sum > 0))
            return field_fail(err, "teacher.weights", "must have a positive sum%s",
                              NULL);
        c->have_weights = 1;
        cJSON_AddItemToObject(out, "weights",
                              gb_json_number_array_create(c->weights, n_w));
    }
    return GB_OK;
}

/* One student parameter value as text: numbers (shortest exact text),
 * strings, booleans, and for "monotone" an object {"feature": 1 | -1} as
 * "feature:1,feature2:-1". */
static gb_status param_text(const cJSON *v, const char *field, char *out, size_t cap,
                            gb_error *err)
{
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble))
            return field_fail(err, field, "must be a finite number%s", NULL);
        snprintf(out, cap, "%.17g", v->valuedouble);
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15) {
            snprintf(out, cap, "%.0f", v->valuedouble);
            return GB_OK;
        }
        /* shortest text that reads back the same */
        for (int prec = 1; prec <= 17; prec++) {
            char shorter[64];
            snprintf(shorter, sizeof shorter, "%.*g", prec, v->valuedouble);
            if (strtod(shorter, NULL) == v->valuedouble) {
                snprintf(out, cap, "%s", shorter);
                break;
            }
        }
        return GB_OK;
    }
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) >= cap)
            return field_fail(err, field, "is too long%s", NULL);
        snprintf(out, cap, "%s", v->valuestring);
        return GB_OK;
    }
    if (cJSON_IsBool(v)) {
        snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return GB_OK;
    }
    if (cJSON_IsObject(v) && strcmp(v->string, "monotone") == 0) {
        size_t used = 0;
        const cJSON *f;
        out[0] = '\0';
        cJSON_ArrayForEach(f, v)
        {
            if (!cJSON_IsNumber(f) || (f->valuedouble != 1 && f->valuedouble != -1))
                return field_fail(err, field,
                                  "maps feature names to 1 (increasing) or -1 "
                                  "(decreasing)%s",
                                  NULL);
            if (strchr(f->string, ',') != NULL || strchr(f->string, ':') != NULL)
                return field_fail(err, field,
                                  "feature names may not contain ',' or ':'%s", NULL);
            int n = snprintf(out + used, cap - used, "%s%s:%d", used ? "," : "",
                             f->string, (int)f->valuedouble);
            if (n < 0 || (size_t)n >= cap - used)
                return field_fail(err, field, "is too long%s", NULL);
            used += (size_t)n;
        }
        return GB_OK;
    }
    return field_fail(err, field, "must be a number, a string or a boolean%s", NULL);
}

static gb_status parse_student(const cJSON *body, cJSON *norm, api_run_config *c,
                               gb_error *err)
{
    static const char *const known[] = {"type", "params"};
    const cJSON *s = NULL, *params = NULL, *p;
    gb_status rc = get_object(body, "", "student", &s, err);
    if (rc != GB_OK)
        return rc;
    if (s == NULL)
        return field_fail(err, "student", "is required: {\"type\",\"params\"}%s", NULL);
    if ((rc = check_members(s, "student", known, 2, err)) != GB_OK)
        return rc;
    const cJSON *type = member(s, "type");
    if (!cJSON_IsString(type) || type->valuestring[0] == '\0')
        return field_fail(err, "student.type",
                          "is required (tree, sbdt, logistic, linear, gam)%s", NULL);
    if ((rc = get_object(s, "student", "params", &params, err)) != GB_OK)
        return rc;
    cJSON *out = cJSON_AddObjectToObject(norm, "student");
    cJSON *out_params = out != NULL ? cJSON_AddObjectToObject(out, "params") : NULL;
    if (out_params == NULL ||
        cJSON_AddStringToObject(out, "type", type->valuestring) == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    cJSON_ArrayForEach(p, params)
    {
        char field[160], text[1024];
        snprintf(field, sizeof field, "student.params.%s", p->string);
        if (c->n_params == API_RUN_MAX_PARAMS)
            return field_fail(err, "student.params", "has too many members%s", NULL);
        if ((rc = param_text(p, field, text, sizeof text, err)) != GB_OK)
            return rc;
        cJSON *v = cJSON_AddStringToObject(out_params, p->string, text);
        if (v == NULL)
            return gb_error_set(err, GB_ENOMEM, "out of memory");
        c->n_params++;
    }
    return GB_OK;
}

static gb_status parse_distill(const cJSON *body, cJSON *norm, api_run_config *c,
                               gb_error *err)
{
    static const char *const known[] = {"temperature", "alpha",  "augment",
                                        "search",      "cutoff", "bootstrap"};
    static const char *const known_aug[] = {"method", "multiplier", "p", "s"};
    static const char *const known_search[] = {"temperatures", "alphas", "augment",
                                               "validation_fraction"};
    gb_distill_config *cfg = &c->cfg;
    const cJSON *d = NULL, *aug = NULL, *search = NULL;
    double bootstrap = (double)cfg->n_bootstrap, multiplier = 0;
    gb_status rc = get_object(body, "", "distill", &d, err);
    if (rc == GB_OK && d != NULL)
        rc = check_members(d, "distill", known, 6, err);
    if (rc == GB_OK)
        rc = get_number(d, "distill", "temperature", &cfg->temperature, err);
    if (rc == GB_OK)
        rc = get_number(d, "distill", "alpha", &cfg->alpha, err);
    if (rc == GB_OK)
        rc = get_number(d, "distill", "cutoff", &cfg->cutoff, err);
    if (rc == GB_OK)
        rc = get_count(d, "distill", "bootstrap", 100000, &bootstrap, err);
    if (rc == GB_OK)
        rc = get_object(d, "distill", "augment", &aug, err);
    if (rc == GB_OK && aug != NULL)
        rc = check_members(aug, "distill.augment", known_aug, 4, err);
    if (rc == GB_OK)
        rc = get_count(aug, "distill.augment", "multiplier", 1000, &multiplier, err);
    if (rc == GB_OK)
        rc = get_number(aug, "distill.augment", "p", &cfg->augment_p, err);
    if (rc == GB_OK)
        rc = get_number(aug, "distill.augment", "s", &cfg->augment_s, err);
    if (rc != GB_OK)
        return rc;
    const cJSON *method = member(aug, "method");
    const char *method_name = multiplier > 0 ? "munge" : "none";
    if (method != NULL) {
        if (!cJSON_IsString(method) || (strcmp(method->valuestring, "none") != 0 &&
                                        strcmp(method->valuestring, "munge") != 0))
            return field_fail(err, "distill.augment.method",
                              "must be \"none\" or \"munge\"%s", NULL);
        method_name = method->valuestring;
    }
    if (strcmp(method_name, "munge") == 0 && multiplier == 0)
        multiplier = 1;
    if (strcmp(method_name, "none") == 0 && multiplier > 0)
        return field_fail(err, "distill.augment.multiplier",
                          "must be 0 with method \"none\"%s", NULL);
    cfg->augment_multiplier = (size_t)multiplier;
    cfg->n_bootstrap = (size_t)bootstrap;

    rc = get_object(d, "distill", "search", &search, err);
    if (rc == GB_OK && search != NULL)
        rc = check_members(search, "distill.search", known_search, 4, err);
    if (rc == GB_OK)
        rc = get_numbers(search, "distill.search", "temperatures",
                         cfg->search_temperatures, GB_SEARCH_MAX,
                         &cfg->n_search_temperatures, err);
    if (rc == GB_OK)
        rc = get_numbers(search, "distill.search", "alphas", cfg->search_alphas,
                         GB_SEARCH_MAX, &cfg->n_search_alphas, err);
    if (rc == GB_OK)
        rc = get_bool(search, "distill.search", "augment", &cfg->search_augment, err);
    if (rc == GB_OK)
        rc = get_number(search, "distill.search", "validation_fraction",
                        &cfg->search_validation_fraction, err);
    if (rc != GB_OK)
        return rc;
    if (cfg->search_augment && cfg->augment_multiplier == 0)
        return field_fail(err, "distill.search.augment",
                          "needs distill.augment with method \"munge\"%s", NULL);

    cJSON *out = cJSON_AddObjectToObject(norm, "distill");
    cJSON *oaug = out != NULL ? cJSON_AddObjectToObject(out, "augment") : NULL;
    cJSON *osearch = out != NULL ? cJSON_AddObjectToObject(out, "search") : NULL;
    if (oaug == NULL || osearch == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    gb_json_add_number(out, "temperature", cfg->temperature);
    gb_json_add_number(out, "alpha", cfg->alpha);
    gb_json_add_number(out, "cutoff", cfg->cutoff);
    gb_json_add_number(out, "bootstrap", (double)cfg->n_bootstrap);
    cJSON_AddStringToObject(oaug, "method", method_name);
    gb_json_add_number(oaug, "multiplier", (double)cfg->augment_multiplier);
    gb_json_add_number(oaug, "p", cfg->augment_p);
    gb_json_add_number(oaug, "s", cfg->augment_s);
    cJSON_AddItemToObject(osearch, "temperatures",
                          gb_json_number_array_create(cfg->search_temperatures,
                                                      cfg->n_search_temperatures));
    cJSON_AddItemToObject(
        osearch, "alphas",
        gb_json_number_array_create(cfg->search_alphas, cfg->n_search_alphas));
    cJSON_AddBoolToObject(osearch, "augment", cfg->search_augment);
    gb_json_add_number(osearch, "validation_fraction", cfg->search_validation_fraction);
    return GB_OK;
}

static gb_status parse_split(const cJSON *body, cJSON *norm, api_run_config *c,
                             gb_error *err)
{
    static const char *const known[] = {"test_fraction", "seed"};
    const cJSON *s = NULL;
    double seed = 0;
    gb_status rc = get_object(body, "", "split", &s, err);
    if (rc == GB_OK && s != NULL)
        rc = check_members(s, "split", known, 2, err);
    if (rc == GB_OK)
        rc = get_number(s, "split", "test_fraction", &c->cfg.test_fraction, err);
    if (rc == GB_OK)
        rc = get_count(s, "split", "seed", SEED_MAX, &seed, err);
    if (rc != GB_OK)
        return rc;
    c->cfg.split_seed = (uint64_t)seed;
    cJSON *out = cJSON_AddObjectToObject(norm, "split");
    if (out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    gb_json_add_number(out, "test_fraction", c->cfg.test_fraction);
    gb_json_add_number(out, "seed", seed);
    return GB_OK;
}

static gb_status parse_explain(const cJSON *body, cJSON *norm, api_run_config *c,
                               gb_error *err)
{
    static const char *const known[] = {"level",        "permutation", "shap",
                                        "pdp_features", "frontier",    "permutations"};
    const cJSON *e = member(body, "explain");
    ex_params *p = &c->explain;
    double pdp = (double)p->pdp_features, perms = (double)p->permutations;
    gb_status rc = GB_OK;
    if (cJSON_IsString(e)) { /* shorthand: "explain":"none|fast|full" */
        if (ex_level_parse(e->valuestring, &p->level, err) != GB_OK)
            return field_fail(err, "explain", "must be none, fast or full%s", NULL);
        e = NULL;
    } else if (e != NULL && !cJSON_IsObject(e)) {
        return field_fail(err, "explain", "must be an object%s", NULL);
    }
    if (e != NULL) {
        rc = check_members(e, "explain", known, 6, err);
        const cJSON *level = member(e, "level");
        if (rc == GB_OK && level != NULL &&
            (!cJSON_IsString(level) ||
             ex_level_parse(level->valuestring, &p->level, err) != GB_OK))
            return field_fail(err, "explain.level", "must be none, fast or full%s",
                              NULL);
    }
    if (rc == GB_OK)
        rc = get_bool(e, "explain", "permutation", &p->permutation, err);
    if (rc == GB_OK)
        rc = get_bool(e, "explain", "shap", &p->shap, err);
    if (rc == GB_OK)
        rc = get_bool(e, "explain", "frontier", &c->cfg.frontier, err);
    if (rc == GB_OK)
        rc = get_count(e, "explain", "pdp_features", 50, &pdp, err);
    if (rc == GB_OK)
        rc = get_count(e, "explain", "permutations", 10000, &perms, err);
    if (rc != GB_OK)
        return rc;
    if (perms == 1)
        return field_fail(err, "explain.permutations",
                          "must be 0 (default) or 2..10000%s", NULL);
    p->pdp_features = (size_t)pdp;
    p->permutations = (size_t)perms;
    cJSON *out = cJSON_AddObjectToObject(norm, "explain");
    if (out == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    cJSON_AddStringToObject(out, "level", ex_level_name(p->level));
    cJSON_AddBoolToObject(out, "permutation", p->permutation);
    cJSON_AddBoolToObject(out, "shap", p->shap);
    gb_json_add_number(out, "pdp_features", pdp);
    cJSON_AddBoolToObject(out, "frontier", c->cfg.frontier);
    gb_json_add_number(out, "permutations", perms);
    return GB_OK;
}

/* 1 when every member of the normalised form is there (a failed
 * allocation inside cJSON drops an item silently). */
static int complete(const api_run_config *c)
{
    static const char *const paths[] = {"distill.temperature",
                                        "distill.alpha",
                                        "distill.cutoff",
                                        "distill.bootstrap",
                                        "distill.augment.method",
                                        "distill.augment.multiplier",
                                        "distill.augment.p",
                                        "distill.augment.s",
                                        "distill.search.temperatures",
                                        "distill.search.alphas",
                                        "distill.search.augment",
                                        "distill.search.validation_fraction",
                                        "split.test_fraction",
                                        "split.seed",
                                        "explain.level",
                                        "explain.permutation",
                                        "explain.shap",
                                        "explain.pdp_features",
                                        "explain.frontier",
                                        "explain.permutations",
                                        "seed",
                                        "dataset_id",
                                        "student.type",
                                        "student.params"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const cJSON *node = c->json;
        char key[64];
        const char *p = paths[i];
        while (node != NULL && *p != '\0') {
            size_t len = strcspn(p, ".");
            snprintf(key, sizeof key, "%.*s", (int)len, p);
            node = cJSON_GetObjectItemCaseSensitive(node, key);
            p += len;
            if (*p == '.')
                p++;
        }
        if (node == NULL)
            return 0;
    }
    const cJSON *teacher = cJSON_GetObjectItemCaseSensitive(c->json, "teacher");
    const cJSON *student = cJSON_GetObjectItemCaseSensitive(c->json, "student");
    const cJSON *search = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->json, "distill"), "search");
    return (size_t)cJSON_GetArraySize(
               cJSON_GetObjectItemCaseSensitive(teacher, "ids")) == c->n_teachers &&
           (size_t)cJSON_GetArraySize(
               cJSON_GetObjectItemCaseSensitive(teacher, "scores")) == c->n_scores &&
           (!c->have_weights || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                                    teacher, "weights")) == (int)c->n_teachers) &&
           (size_t)cJSON_GetArraySize(
               cJSON_GetObjectItemCaseSensitive(student, "params")) == c->n_params &&
           (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
               search, "temperatures")) == c->cfg.n_search_temperatures &&
           (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
               search, "alphas")) == c->cfg.n_search_alphas;
}

/* Points the config's strings and parameters into the normalised tree. */
static void bind_pointers(api_run_config *c)
{
    const cJSON *teacher = cJSON_GetObjectItemCaseSensitive(c->json, "teacher");
    const cJSON *student = cJSON_GetObjectItemCaseSensitive(c->json, "student");
    const cJSON *item;
    size_t n = 0;
    c->dataset_id =
        cJSON_GetObjectItemCaseSensitive(c->json, "dataset_id")->valuestring;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(teacher, "ids"))
        c->teacher_ids[n++] = item->valuestring;
    n = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(teacher, "scores"))
        c->score_columns[n++] = item->valuestring;
    c->cfg.student_type =
        cJSON_GetObjectItemCaseSensitive(student, "type")->valuestring;
    n = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(student, "params"))
    {
        c->params[n].key = item->string;
        c->params[n].value = item->valuestring;
        n++;
    }
    c->cfg.params = c->params;
    c->cfg.n_params = c->n_params;
    c->cfg.score_columns = c->n_scores > 0 ? c->score_columns : NULL;
    c->cfg.n_score_columns = c->n_scores;
}

/* Renames the pipeline's setting names to the request's dotted paths. */
static void map_field(gb_error *err)
{
    static const struct {
        const char *from, *to;
    } names[] = {{"temperature", "distill.temperature"},
                 {"alpha", "distill.alpha"},
                 {"cutoff", "distill.cutoff"},
                 {"bootstrap", "distill.bootstrap"},
                 {"test_fraction", "split.test_fraction"},
                 {"threads", "threads"}};
    char mapped[160];
    mapped[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(err->field, names[i].from) == 0)
            snprintf(mapped, sizeof mapped, "%s", names[i].to);
    if (mapped[0] == '\0') {
        if (strncmp(err->field, "params.", 7) == 0)
            snprintf(mapped, sizeof mapped, "student.%s", err->field);
        else if (strncmp(err->field, "augment.", 8) == 0 ||
                 strncmp(err->field, "search", 6) == 0)
            snprintf(mapped, sizeof mapped, "distill.%s", err->field);
        else if (err->field[0] != '\0' && strcmp(err->field, "student.type") != 0 &&
                 strchr(err->field, '.') == NULL)
            /* a student's own parameter name */
            snprintf(mapped, sizeof mapped, "student.params.%s", err->field);
    }
    if (mapped[0] != '\0') {
        mapped[sizeof err->field - 1] = '\0';
        gb_error_field(err, mapped);
    }
}

gb_status api_run_config_parse(const cJSON *body, gb_task task, api_run_config *out,
                               gb_error *err)
{
    static const char *const known[] = {"dataset_id", "teacher", "student", "distill",
                                        "split",      "explain", "seed"};
    api_run_config c;
    gb_status rc;
    double seed = 0;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    gb_distill_config_default(&c.cfg);
    ex_params_default(&c.explain);
    if (!cJSON_IsObject(body))
        return field_fail(err, "body", "must be a JSON object%s", NULL);
    if ((rc = check_members(body, "", known, 7, err)) != GB_OK)
        return rc;
    const cJSON *dataset_id = member(body, "dataset_id");
    if (!cJSON_IsString(dataset_id) || dataset_id->valuestring[0] == '\0')
        return field_fail(err, "dataset_id", "is required (a dataset id)%s", NULL);
    if ((rc = get_count(body, "", "seed", SEED_MAX, &seed, err)) != GB_OK)
        return rc;
    c.cfg.seed = (uint64_t)seed;
    c.json = cJSON_CreateObject();
    if (c.json == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory");
    if (cJSON_AddStringToObject(c.json, "dataset_id", dataset_id->valuestring) == NULL)
        rc = gb_error_set(err, GB_ENOMEM, "out of memory");
    if (rc == GB_OK)
        rc = parse_teacher(body, c.json, &c, err);
    if (rc == GB_OK)
        rc = parse_student(body, c.json, &c, err);
    if (rc == GB_OK)
        rc = parse_distill(body, c.json, &c, err);
    if (rc == GB_OK)
        rc = parse_split(body, c.json, &c, err);
    if (rc == GB_OK)
        rc = parse_explain(body, c.json, &c, err);
    if (rc == GB_OK && gb_json_add_number(c.json, "seed", seed) == NULL)
        rc = gb_error_set(err, GB_ENOMEM, "out of memory");
    if (rc == GB_OK && !complete(&c))
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading the run request");
    if (rc != GB_OK) {
        cJSON_Delete(c.json);
        return rc;
    }
    bind_pointers(&c);
    c.cfg.task = task;
    c.cfg.target = "(dataset target)"; /* replaced by the caller */
    if (c.n_scores > 0 && c.cfg.augment_multiplier > 0) {
        cJSON_Delete(c.json);
        return field_fail(err, "distill.augment",
                          "needs a teacher model: score columns cannot label new "
                          "rows%s",
                          NULL);
    }
    rc = gb_distill_check(&c.cfg, err);
    if (rc != GB_OK) {
        map_field(err);
        cJSON_Delete(c.json);
        return rc;
    }
    c.cfg.target = NULL;
    *out = c;
    /* The struct moved: point the parameter array at its new home. */
    out->cfg.params = out->params;
    out->cfg.score_columns = out->n_scores > 0 ? out->score_columns : NULL;
    return GB_OK;
}

void api_run_config_clear(api_run_config *c)
{
    if (c == NULL)
        return;
    cJSON_Delete(c->json);
    memset(c, 0, sizeof *c);
}
