/*
 * explain.c - the explanations object of a report: attributions, global
 * importance, agreement, curves, disagreement regions and reason codes for
 * teacher, student and baseline, aligned by source column.
 * Layer: explain.
 */
#include "explain/explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/math/metrics.h"
#include "explain/agreement.h"
#include "explain/disagreement.h"
#include "explain/global.h"
#include "explain/pdp.h"
#include "explain/reason_codes.h"
#include "explain/shapley.h"

enum { M_TEACHER = 0, M_STUDENT = 1, M_BASELINE = 2, N_MODELS = 3 };
static const char *const model_role[N_MODELS] = {"teacher", "student", "baseline"};

void ex_params_default(ex_params *p)
{
    memset(p, 0, sizeof *p);
    p->level = EX_LEVEL_FAST;
    p->shap = 1;
    p->permutation = 1;
    p->pdp_features = 5;
    p->reason_codes_k = 3;
    p->n_threads = 1;
}

gb_status ex_level_parse(const char *name, ex_level *out, gb_error *err)
{
    static const char *const names[] = {"none", "fast", "full"};
    for (int i = 0; i < 3; i++)
        if (name != NULL && strcmp(name, names[i]) == 0) {
            *out = (ex_level)i;
            return GB_OK;
        }
    gb_error_set(err, GB_EINPUT, "explain level '%s' is not none, fast or full",
                 name != NULL ? name : "");
    gb_error_field(err, "explain");
    return GB_EINPUT;
}

const char *ex_level_name(ex_level level)
{
    return level == EX_LEVEL_NONE ? "none" : level == EX_LEVEL_FULL ? "full" : "fast";
}

/* Everything computed for one model. */
typedef struct model_side {
    const gb_model *m;
    ex_groups groups;
    double *X;     /* n_sample x n_features design rows of the sample */
    double *X_bg;  /* n_bg x n_features background rows */
    size_t width;  /* attribution block width */
    double *phi;   /* n_sample x width x (n_features + 1), or NULL */
    int exact;     /* attributions are exact */
    double *imp;   /* n_groups global importances */
    double *local; /* n_sample x width x n_union grouped, aligned */
    double *imp_u; /* n_union aligned importances (0 for unread columns) */
} model_side;

typedef struct explain_ctx {
    const gb_table *table;
    const ex_params *p;
    size_t n_sample, n_bg, n_ice, grid_points, n_perm, n_repeats;
    size_t n_local;      /* first rows of the sample with local attributions */
    size_t *sample_rows; /* table rows of the sample */
    size_t *sample_ids;  /* their row numbers in the report (ex_params.row_ids) */
    size_t *bg_rows;     /* table rows of the background */
    char **union_names;  /* n_union source columns */
    size_t n_union;
    model_side side[N_MODELS];
    cJSON *unavailable;
} explain_ctx;

static gb_status nomem(gb_error *err)
{
    return gb_error_set(err, GB_ENOMEM, "out of memory computing explanations");
}

static int add_unavailable(explain_ctx *c, const char *what, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(c->unavailable, o))
        return (cJSON_Delete(o), 0);
    return cJSON_AddStringToObject(o, "what", what) != NULL &&
           cJSON_AddStringToObject(o, "reason", reason) != NULL;
}

/* Fills rows of a model's design from the table. */
static gb_status fill_design(const gb_model *m, const gb_table *t, const size_t *rows,
                             size_t n, double **out, gb_error *err)
{
    gb_design *d = gb_design_bind(m->features, m->n_features, t, err);
    if (d == NULL)
        return err != NULL ? err->code : GB_EUNUSABLE;
    *out = gb_malloc_array(n * (m->n_features ? m->n_features : 1), sizeof **out);
    if (*out == NULL) {
        gb_design_free(d);
        return nomem(err);
    }
    gb_design_fill(d, rows, 0, n, *out);
    gb_design_free(d);
    return GB_OK;
}

static void side_free(model_side *s)
{
    ex_groups_free(&s->groups);
    gb_free(s->X);
    gb_free(s->X_bg);
    gb_free(s->phi);
    gb_free(s->imp);
    gb_free(s->local);
    gb_free(s->imp_u);
}

static long union_find(const explain_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_union; i++)
        if (strcmp(c->union_names[i], name) == 0)
            return (long)i;
    return -1;
}

/* Local attributions of one side (exact, else sampled when allowed). */
static gb_status side_attribute(explain_ctx *c, model_side *s, gb_error *err)
{
    const gb_model *m = s->m;
    size_t nf = m->n_features;
    s->exact = ex_exact_available(m);
    s->width = s->exact ? m->n_margins : ex_output_width(m);
    s->phi = gb_malloc_array(c->n_local * s->width * (nf + 1), sizeof *s->phi);
    if (s->phi == NULL)
        return nomem(err);
    if (s->exact)
        return ex_exact_attribute(m, s->X, c->n_local, c->p->n_threads, s->phi, err);
    ex_shapley_params sp = {c->n_perm, c->p->seed ^ 0x5348415050ull, c->p->n_threads};
    return ex_shapley(m, s->X, c->n_local, s->X_bg, c->n_bg, &sp, s->phi, NULL, err);
}

/* Grouped local attributions aligned to the union columns. */
static gb_status side_align_local(explain_ctx *c, model_side *s, gb_error *err)
{
    size_t ng = s->groups.n_groups, nu = c->n_union, w = s->width;
    double *grouped = gb_malloc_array(c->n_local * w * (ng ? ng : 1), sizeof *grouped);
    double *imp = gb_malloc_array(ng ? ng : 1, sizeof *imp);
    s->local = gb_calloc(c->n_local * w * (nu ? nu : 1), sizeof *s->local);
    if (grouped == NULL || imp == NULL || s->local == NULL) {
        gb_free(grouped);
        gb_free(imp);
        return nomem(err);
    }
    ex_importance_from_attributions(s->phi, c->n_local, w, &s->groups, imp, grouped);
    for (size_t g = 0; g < ng; g++) {
        size_t u = (size_t)union_find(c, s->groups.names[g]);
        for (size_t r = 0; r < c->n_local * w; r++)
            s->local[r * nu + u] = grouped[r * ng + g];
    }
    gb_free(grouped);
    gb_free(s->imp);
    s->imp = imp;
    return GB_OK;
}

static int importance_order_cmp_desc(const double *v, const char *const *names,
                                     size_t a, size_t b)
{
    double x = isnan(v[a]) ? -INFINITY : v[a], y = isnan(v[b]) ? -INFINITY : v[b];
    if (x != y)
        return x > y ? -1 : 1;
    return strcmp(names[a], names[b]);
}

/* Insertion sort of idx by importance (descending, then name). */
static void order_columns(const double *v, char *const *names, size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t x = idx[i], j = i;
        while (j > 0 && importance_order_cmp_desc(v, (const char *const *)names, x,
                                                  idx[j - 1]) < 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
}

/* A curve value per grid point: binary P(class 1), regression the value,
 * multiclass the K probabilities. */
static cJSON *curve_json(const double *v, size_t n_points, size_t no, gb_task task)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t g = 0; g < n_points; g++) {
        cJSON *item = NULL;
        if (task == GB_TASK_MULTICLASS)
            item = gb_json_number_array_create(v + g * no, no);
        else
            item =
                cJSON_CreateNumber(task == GB_TASK_BINARY ? v[g * no + 1] : v[g * no]);
        if (item != NULL && task != GB_TASK_MULTICLASS &&
            !isfinite(item->valuedouble)) {
            cJSON_Delete(item);
            item = cJSON_CreateNull();
        }
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* An ICE curve: as curve_json, but a multiclass curve follows one class. */
static cJSON *ice_json(const double *v, size_t n_points, size_t no, gb_task task,
                       size_t cls)
{
    if (task != GB_TASK_MULTICLASS)
        return curve_json(v, n_points, no, task);
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t g = 0; g < n_points; g++) {
        cJSON *item = isfinite(v[g * no + cls]) ? cJSON_CreateNumber(v[g * no + cls])
                                                : cJSON_CreateNull();
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *add_number_or_null(cJSON *obj, const char *key, double v, int available)
{
    if (!available)
        return cJSON_AddNullToObject(obj, key);
    return gb_json_add_number(obj, key, v);
}

/* ---- blocks --------------------------------------------------------------- */

static gb_status global_block(explain_ctx *c, cJSON *root, const char *method,
                              gb_error *err)
{
    size_t nu = c->n_union;
    size_t *order = gb_malloc_array(nu ? nu : 1, sizeof *order);
    if (order == NULL)
        return nomem(err);
    const model_side *lead =
        c->side[M_TEACHER].m != NULL ? &c->side[M_TEACHER] : &c->side[M_STUDENT];
    order_columns(lead->imp_u, c->union_names, order, nu);
    cJSON *arr = cJSON_AddArrayToObject(root, "global");
    if (arr == NULL || cJSON_AddStringToObject(root, "method", method) == NULL)
        goto fail;
    for (size_t i = 0; i < nu; i++) {
        size_t u = order[i];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto fail;
        }
        if (cJSON_AddStringToObject(o, "feature", c->union_names[u]) == NULL)
            goto fail;
        for (int k = 0; k < N_MODELS; k++) {
            const model_side *s = &c->side[k];
            if (add_number_or_null(o, model_role[k], s->imp_u ? s->imp_u[u] : NAN,
                                   s->m != NULL && s->imp_u != NULL) == NULL)
                goto fail;
        }
    }
    gb_free(order);
    return GB_OK;
fail:
    gb_free(order);
    return nomem(err);
}

static gb_status agreement_block(explain_ctx *c, cJSON *root, int have_local,
                                 gb_error *err)
{
    gb_status rc = GB_OK;
    const model_side *t = &c->side[M_TEACHER], *s = &c->side[M_STUDENT],
                     *b = &c->side[M_BASELINE];
    size_t nu = c->n_union;
    cJSON *ag = cJSON_AddObjectToObject(root, "agreement");
    if (ag == NULL)
        return nomem(err);
    double rho = NAN, jac = NAN, cosv = NAN;
    int have_t = t->m != NULL && t->imp_u != NULL;
    if (have_t) {
        if ((rc = ex_agreement_spearman(t->imp_u, s->imp_u, nu, &rho, err)) != GB_OK)
            return rc;
        jac = ex_agreement_top_jaccard(t->imp_u, s->imp_u, nu, 5);
    }
    int cos_ok = have_t && have_local && t->local != NULL && s->local != NULL &&
                 t->width == s->width;
    if (cos_ok)
        cosv = ex_agreement_cosine(t->local, s->local, c->n_local, t->width * nu);
    if (add_number_or_null(ag, "spearman", rho, have_t) == NULL ||
        add_number_or_null(ag, "top5_jaccard", jac, have_t) == NULL ||
        add_number_or_null(ag, "local_cosine", cosv, cos_ok) == NULL)
        return nomem(err);
    if (have_t && !cos_ok && have_local &&
        !add_unavailable(c, "agreement.local_cosine",
                         "teacher and student attributions are on different scales"))
        return nomem(err);
    cJSON *sb = cJSON_AddObjectToObject(root, "student_vs_baseline");
    if (sb == NULL)
        return nomem(err);
    int have_b = b->m != NULL && b->imp_u != NULL;
    rho = jac = NAN;
    if (have_b) {
        if ((rc = ex_agreement_spearman(s->imp_u, b->imp_u, nu, &rho, err)) != GB_OK)
            return rc;
        jac = ex_agreement_top_jaccard(s->imp_u, b->imp_u, nu, 5);
    }
    if (add_number_or_null(sb, "spearman", rho, have_b) == NULL ||
        add_number_or_null(sb, "top5_jaccard", jac, have_b) == NULL)
        return nomem(err);
    return GB_OK;
}

static gb_status pdp_block(explain_ctx *c, cJSON *root, gb_error *err)
{
    gb_status rc = GB_OK;
    cJSON *arr = cJSON_AddArrayToObject(root, "pdp");
    size_t nu = c->n_union;
    size_t *order = gb_malloc_array(nu ? nu : 1, sizeof *order);
    size_t *ice_idx = gb_malloc_array(c->n_ice ? c->n_ice : 1, sizeof *ice_idx);
    size_t *ice_class = gb_calloc(c->n_ice ? c->n_ice : 1, sizeof *ice_class);
    double *curve = NULL, *ice = NULL, *lead_pred = NULL;
    ex_grid grid;
    memset(&grid, 0, sizeof grid);
    if (arr == NULL || order == NULL || ice_idx == NULL || ice_class == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t r = 0; r < c->n_ice; r++)
        ice_idx[r] = r;
    const model_side *lead =
        c->side[M_TEACHER].m != NULL ? &c->side[M_TEACHER] : &c->side[M_STUDENT];
    /* Multiclass ICE curves follow the class the teacher (else the student)
     * predicts for the row as it is. */
    int multiclass = lead->m->task == GB_TASK_MULTICLASS;
    if (multiclass && c->n_ice > 0) {
        size_t no = lead->m->n_outputs;
        lead_pred = gb_malloc_array(c->n_ice * no, sizeof *lead_pred);
        if (lead_pred == NULL) {
            rc = nomem(err);
            goto out;
        }
        if ((rc = lead->m->ops->predict(lead->m, lead->X, c->n_ice, lead_pred, err)) !=
            GB_OK)
            goto out;
        for (size_t r = 0; r < c->n_ice; r++)
            ice_class[r] = (size_t)gb_argmax(lead_pred + r * no, no);
    }
    order_columns(lead->imp_u, c->union_names, order, nu);
    size_t done = 0;
    for (size_t i = 0; i < nu && done < c->p->pdp_features; i++) {
        const char *name = c->union_names[order[i]];
        if (gb_table_find(c->table, name) < 0)
            continue;
        rc = ex_grid_build(c->table, name, c->sample_rows, c->n_sample, c->grid_points,
                           &grid, err);
        if (rc == GB_EUNUSABLE) { /* no values on the sample: no curve */
            rc = GB_OK;
            continue;
        }
        if (rc != GB_OK)
            goto out;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = nomem(err);
            goto out;
        }
        cJSON *g = grid.categorical ? gb_json_string_array_create(grid.labels, grid.n)
                                    : gb_json_number_array_create(grid.values, grid.n);
        if (cJSON_AddStringToObject(o, "feature", name) == NULL || g == NULL ||
            !cJSON_AddItemToObject(o, "grid", g)) {
            cJSON_Delete(g);
            rc = nomem(err);
            goto out;
        }
        cJSON *ice_o = cJSON_CreateObject();
        if (ice_o == NULL || !cJSON_AddItemToObject(o, "ice", ice_o)) {
            cJSON_Delete(ice_o);
            rc = nomem(err);
            goto out;
        }
        cJSON *ice_rows = cJSON_AddArrayToObject(ice_o, "rows");
        if (ice_rows == NULL) {
            rc = nomem(err);
            goto out;
        }
        cJSON *ice_cls = multiclass ? cJSON_AddArrayToObject(ice_o, "class") : NULL;
        if (multiclass && ice_cls == NULL) {
            rc = nomem(err);
            goto out;
        }
        for (size_t r = 0; r < c->n_ice; r++) {
            cJSON *num = cJSON_CreateNumber((double)c->sample_ids[r]);
            if (num == NULL || !cJSON_AddItemToArray(ice_rows, num)) {
                cJSON_Delete(num);
                rc = nomem(err);
                goto out;
            }
            if (multiclass) {
                cJSON *label = cJSON_CreateString(lead->m->classes[ice_class[r]]);
                if (label == NULL || !cJSON_AddItemToArray(ice_cls, label)) {
                    cJSON_Delete(label);
                    rc = nomem(err);
                    goto out;
                }
            }
        }
        for (int k = 0; k < M_BASELINE; k++) {
            const model_side *s = &c->side[k];
            if (s->m == NULL || ex_groups_find(&s->groups, name) < 0) {
                if (cJSON_AddNullToObject(o, model_role[k]) == NULL ||
                    cJSON_AddNullToObject(ice_o, model_role[k]) == NULL) {
                    rc = nomem(err);
                    goto out;
                }
                continue;
            }
            size_t no = s->m->n_outputs;
            curve = gb_malloc_array(grid.n * no, sizeof *curve);
            ice = gb_malloc_array((c->n_ice ? c->n_ice : 1) * grid.n * no, sizeof *ice);
            if (curve == NULL || ice == NULL) {
                rc = nomem(err);
                goto out;
            }
            if ((rc = ex_pdp(s->m, s->X, c->n_sample, &s->groups, &grid, curve, ice_idx,
                             c->n_ice, ice, err)) != GB_OK)
                goto out;
            cJSON *cj = curve_json(curve, grid.n, no, s->m->task);
            if (cj == NULL || !cJSON_AddItemToObject(o, model_role[k], cj)) {
                cJSON_Delete(cj);
                rc = nomem(err);
                goto out;
            }
            cJSON *ice_arr = cJSON_AddArrayToObject(ice_o, model_role[k]);
            if (ice_arr == NULL) {
                rc = nomem(err);
                goto out;
            }
            for (size_t r = 0; r < c->n_ice; r++) {
                cJSON *ij = ice_json(ice + r * grid.n * no, grid.n, no, s->m->task,
                                     ice_class[r]);
                if (ij == NULL || !cJSON_AddItemToArray(ice_arr, ij)) {
                    cJSON_Delete(ij);
                    rc = nomem(err);
                    goto out;
                }
            }
            gb_free(curve);
            gb_free(ice);
            curve = ice = NULL;
        }
        ex_grid_free(&grid);
        done++;
    }
out:
    ex_grid_free(&grid);
    gb_free(curve);
    gb_free(ice);
    gb_free(lead_pred);
    gb_free(ice_class);
    gb_free(ice_idx);
    gb_free(order);
    return rc;
}

/* Rows the disagreement tree examines at most (a seeded sample above). */
#define EX_DISAGREEMENT_MAX_ROWS 20000

static gb_status disagreement_block(explain_ctx *c, cJSON *root,
                                    const gb_model *student, const size_t *test_rows,
                                    size_t n_test, const double *X_student,
                                    const double *teacher_test, gb_error *err)
{
    gb_status rc = GB_OK;
    double *pred = NULL, *target = NULL, *X_own = NULL;
    char **cols = NULL;
    ex_rule *rules = NULL;
    size_t n_rules = 0, no = student->n_outputs;
    cJSON *arr = cJSON_AddArrayToObject(root, "disagreement");
    if (arr == NULL)
        return nomem(err);
    if (X_student == NULL) {
        if ((rc = fill_design(student, c->table, test_rows, n_test, &X_own, err)) !=
            GB_OK)
            return rc;
        X_student = X_own;
    }
    pred = gb_malloc_array(n_test * no, sizeof *pred);
    target = gb_malloc_array(n_test, sizeof *target);
    cols = gb_calloc(c->n_union ? c->n_union : 1, sizeof *cols);
    if (pred == NULL || target == NULL || cols == NULL) {
        rc = nomem(err);
        goto out;
    }
    if ((rc = student->ops->predict(student, X_student, n_test, pred, err)) != GB_OK)
        goto out;
    for (size_t i = 0; i < n_test; i++) {
        if (student->task == GB_TASK_REGRESSION)
            target[i] = fabs(pred[i] - teacher_test[i]);
        else
            target[i] =
                gb_argmax(pred + i * no, no) != gb_argmax(teacher_test + i * no, no);
    }
    size_t n_cols = 0;
    for (size_t u = 0; u < c->n_union; u++)
        if (gb_table_find(c->table, c->union_names[u]) >= 0)
            cols[n_cols++] = c->union_names[u];
    ex_disagreement_params dp = {3, 0, 5, c->p->n_threads};
    rc = ex_disagreement(c->table, test_rows, n_test, cols, n_cols, target, &dp, &rules,
                         &n_rules, err);
    if (rc != GB_OK)
        goto out;
    for (size_t r = 0; r < n_rules; r++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = nomem(err);
            goto out;
        }
        if (cJSON_AddStringToObject(o, "rule", rules[r].rule) == NULL ||
            gb_json_add_number(o, "rows", (double)rules[r].rows) == NULL ||
            gb_json_add_number(o, "disagreement_rate", rules[r].rate) == NULL) {
            rc = nomem(err);
            goto out;
        }
    }
out:
    ex_rules_free(rules, n_rules);
    gb_free(cols);
    gb_free(target);
    gb_free(pred);
    gb_free(X_own);
    return rc;
}

/* disagreement_block on a seeded sample of EX_DISAGREEMENT_MAX_ROWS test
 * rows (in row order), with the teacher outputs of those rows. */
static gb_status disagreement_sampled(explain_ctx *c, cJSON *root,
                                      const gb_model *student, const size_t *test_rows,
                                      size_t n_test, const double *teacher_test,
                                      gb_error *err)
{
    gb_status rc;
    size_t n = EX_DISAGREEMENT_MAX_ROWS, no = student->n_outputs;
    size_t *idx = gb_malloc_array(n, sizeof *idx);
    size_t *rows = gb_malloc_array(n, sizeof *rows);
    double *teacher = gb_malloc_array(n * no, sizeof *teacher);
    if (idx == NULL || rows == NULL || teacher == NULL ||
        ex_sample_indices(n_test, n, c->p->seed + 2, idx) != n) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i] = test_rows[idx[i]];
        memcpy(teacher + i * no, teacher_test + idx[i] * no, no * sizeof *teacher);
    }
    rc = disagreement_block(c, root, student, rows, n, NULL, teacher, err);
    if (rc == GB_OK && gb_json_add_number(root, "disagreement_rows", (double)n) == NULL)
        rc = nomem(err);
out:
    gb_free(idx);
    gb_free(rows);
    gb_free(teacher);
    return rc;
}

/* The column of a side's local attribution blocks, and its sign, that gives
 * contributions to the margin of class `adverse` (checked to be a class of
 * the model by ex_explain_report; a model without it falls back to the
 * logit of classes[1]). */
static void adverse_column(const model_side *side, const char *adverse, size_t *col,
                           double *sign)
{
    const gb_model *m = side->m;
    size_t a = 1;
    for (size_t k = 0; k < m->n_classes; k++)
        if (strcmp(m->classes[k], adverse) == 0)
            a = k;
    *col = side->width == 1 ? 0 : (a < side->width ? a : side->width - 1);
    *sign = side->width == 1 && a == 0 ? -1.0 : 1.0;
}

/* Reason codes: binary tasks with local attributions. */
static gb_status reason_block(explain_ctx *c, cJSON *root, gb_error *err)
{
    const model_side *t = &c->side[M_TEACHER], *s = &c->side[M_STUDENT];
    size_t nu = c->n_union, k = c->p->reason_codes_k, n = c->n_local;
    size_t *ct = gb_malloc_array(n * k, sizeof *ct),
           *cs = gb_malloc_array(n * k, sizeof *cs);
    double *lt = gb_malloc_array(n * (nu ? nu : 1), sizeof *lt);
    double *ls = gb_malloc_array(n * (nu ? nu : 1), sizeof *ls);
    gb_status rc = GB_OK;
    cJSON *o = cJSON_AddObjectToObject(root, "reason_codes");
    if (ct == NULL || cs == NULL || lt == NULL || ls == NULL || o == NULL) {
        rc = nomem(err);
        goto out;
    }
    /* The adverse class's contributions: a margin block of 1 is the logit
     * of classes[1] (negated for classes[0]); a probability block has one
     * column per class. */
    int have_t = t->m != NULL && t->local != NULL;
    const char *adverse =
        c->p->adverse_class != NULL ? c->p->adverse_class : s->m->classes[1];
    size_t col_s = 0, col_t = 0;
    double sign_s = 1, sign_t = 1;
    adverse_column(s, adverse, &col_s, &sign_s);
    if (have_t)
        adverse_column(t, adverse, &col_t, &sign_t);
    for (size_t i = 0; i < n; i++)
        for (size_t u = 0; u < nu; u++) {
            ls[i * nu + u] = sign_s * s->local[(i * s->width + col_s) * nu + u];
            if (have_t)
                lt[i * nu + u] = sign_t * t->local[(i * t->width + col_t) * nu + u];
        }
    ex_reason_codes(ls, n, nu, k, cs);
    if (have_t)
        ex_reason_codes(lt, n, nu, k, ct);
    ex_reason_match mt = {NAN, NAN};
    if (have_t)
        mt = ex_reason_codes_match(ct, cs, n, k);
    if (cJSON_AddStringToObject(o, "class", adverse) == NULL ||
        gb_json_add_number(o, "k", (double)k) == NULL ||
        gb_json_add_number(o, "rows", (double)n) == NULL ||
        add_number_or_null(o, "match_rate", mt.match_rate, have_t) == NULL ||
        add_number_or_null(o, "top1_match", mt.top1_match, have_t) == NULL) {
        rc = nomem(err);
        goto out;
    }
    cJSON *ex = cJSON_AddArrayToObject(o, "examples");
    if (ex == NULL) {
        rc = nomem(err);
        goto out;
    }
    size_t n_ex = n < 5 ? n : 5;
    for (size_t i = 0; i < n_ex; i++) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(ex, e)) {
            cJSON_Delete(e);
            rc = nomem(err);
            goto out;
        }
        if (gb_json_add_number(e, "row", (double)c->sample_ids[i]) == NULL) {
            rc = nomem(err);
            goto out;
        }
        for (int m = 0; m < M_BASELINE; m++) {
            const size_t *codes = (m == M_TEACHER ? ct : cs) + i * k;
            if (m == M_TEACHER && !have_t) {
                if (cJSON_AddNullToObject(e, "teacher") == NULL) {
                    rc = nomem(err);
                    goto out;
                }
                continue;
            }
            cJSON *names = cJSON_AddArrayToObject(e, model_role[m]);
            if (names == NULL) {
                rc = nomem(err);
                goto out;
            }
            for (size_t r = 0; r < k && codes[r] != EX_NO_REASON; r++) {
                cJSON *str = cJSON_CreateString(c->union_names[codes[r]]);
                if (str == NULL || !cJSON_AddItemToArray(names, str)) {
                    cJSON_Delete(str);
                    rc = nomem(err);
                    goto out;
                }
            }
        }
    }
out:
    gb_free(ct);
    gb_free(cs);
    gb_free(lt);
    gb_free(ls);
    return rc;
}

/* ---- entry point ----------------------------------------------------------- */

static gb_status check_params(const ex_params *p, gb_error *err)
{
    const char *field = NULL;
    if (p->level != EX_LEVEL_NONE && p->level != EX_LEVEL_FAST &&
        p->level != EX_LEVEL_FULL)
        field = "level";
    else if (p->pdp_features > 50)
        field = "pdp_features";
    else if (p->permutations == 1 || p->permutations > 10000)
        field = "permutations";
    else if (p->reason_codes_k < 1 || p->reason_codes_k > 20)
        field = "reason_codes_k";
    if (field == NULL)
        return GB_OK;
    gb_error_set(err, GB_EUNUSABLE, "explain setting '%s' is out of range", field);
    gb_error_field(err, field);
    return GB_EUNUSABLE;
}

static gb_status build_union(explain_ctx *c, gb_error *err)
{
    size_t cap = 0;
    for (int k = 0; k < N_MODELS; k++)
        cap += c->side[k].m != NULL ? c->side[k].groups.n_groups : 0;
    c->union_names = gb_calloc(cap ? cap : 1, sizeof *c->union_names);
    if (c->union_names == NULL)
        return nomem(err);
    /* Student columns first, then the teacher's and the baseline's others. */
    static const int order[N_MODELS] = {M_STUDENT, M_TEACHER, M_BASELINE};
    for (int o = 0; o < N_MODELS; o++) {
        const model_side *s = &c->side[order[o]];
        if (s->m == NULL)
            continue;
        for (size_t g = 0; g < s->groups.n_groups; g++) {
            if (union_find(c, s->groups.names[g]) >= 0)
                continue;
            c->union_names[c->n_union] = gb_strdup(s->groups.names[g]);
            if (c->union_names[c->n_union] == NULL)
                return nomem(err);
            c->n_union++;
        }
    }
    return GB_OK;
}

gb_status ex_explain_report(const gb_model *teacher, const gb_model *student,
                            const gb_model *baseline, const gb_table *test_table,
                            const size_t *test_rows, size_t n_test,
                            const double *X_test_student, const double *teacher_test,
                            const ex_params *params, cJSON **out, gb_error *err)
{
    gb_status rc = GB_OK;
    explain_ctx c;
    size_t *idx = NULL, *all_rows = NULL;
    cJSON *root = NULL;
    memset(&c, 0, sizeof c);
    *out = NULL;
    ex_params defaults;
    if (params == NULL) {
        ex_params_default(&defaults);
        params = &defaults;
    }
    if ((rc = check_params(params, err)) != GB_OK)
        return rc;
    if (student == NULL || test_table == NULL)
        return gb_error_set(err, GB_EUNUSABLE,
                            "explanations need a student and test rows");
    if (params->adverse_class != NULL && student->task == GB_TASK_BINARY) {
        int known = 0;
        for (size_t k = 0; k < student->n_classes; k++)
            known |= strcmp(student->classes[k], params->adverse_class) == 0;
        if (!known) {
            gb_error_set(err, GB_EUNUSABLE,
                         "adverse class '%s' is not a class of the student",
                         params->adverse_class);
            gb_error_field(err, "adverse_class");
            return GB_EUNUSABLE;
        }
    }
    root = cJSON_CreateObject();
    if (root == NULL ||
        cJSON_AddStringToObject(root, "level", ex_level_name(params->level)) == NULL) {
        cJSON_Delete(root);
        return nomem(err);
    }
    if (params->level == EX_LEVEL_NONE) {
        *out = root;
        return GB_OK;
    }
    if (teacher_test == NULL || n_test < 2) {
        cJSON_Delete(root);
        return gb_error_set(
            err, GB_EUNUSABLE,
            "explanations need the teacher's outputs on at least 2 test "
            "rows");
    }
    int full = params->level == EX_LEVEL_FULL;
    c.table = test_table;
    c.p = params;
    c.n_perm = params->permutations ? params->permutations : (full ? 64 : 16);
    c.n_repeats = full ? 3 : 1;
    c.grid_points = full ? 20 : 10;
    c.unavailable = cJSON_CreateArray();
    if (c.unavailable == NULL) {
        rc = nomem(err);
        goto out;
    }
    if (test_rows == NULL) {
        all_rows = gb_malloc_array(n_test, sizeof *all_rows);
        if (all_rows == NULL) {
            rc = nomem(err);
            goto out;
        }
        for (size_t i = 0; i < n_test; i++)
            all_rows[i] = i;
        test_rows = all_rows;
    }
    /* Seeded samples of the test rows. */
    size_t want = full ? 1000 : 200, want_bg = full ? 100 : 50;
    c.n_sample = want < n_test ? want : n_test;
    c.n_bg = want_bg < n_test ? want_bg : n_test;
    c.n_ice = (full ? 30 : 10) < c.n_sample ? (full ? 30 : 10) : c.n_sample;
    idx = gb_malloc_array(n_test, sizeof *idx);
    c.sample_rows = gb_malloc_array(c.n_sample, sizeof *c.sample_rows);
    c.sample_ids = gb_malloc_array(c.n_sample, sizeof *c.sample_ids);
    c.bg_rows = gb_malloc_array(c.n_bg, sizeof *c.bg_rows);
    if (idx == NULL || c.sample_rows == NULL || c.sample_ids == NULL ||
        c.bg_rows == NULL) {
        rc = nomem(err);
        goto out;
    }
    if (ex_sample_indices(n_test, c.n_sample, params->seed, idx) != c.n_sample) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < c.n_sample; i++) {
        c.sample_rows[i] = test_rows[idx[i]];
        c.sample_ids[i] =
            params->row_ids != NULL ? params->row_ids[idx[i]] : c.sample_rows[i];
    }
    if (ex_sample_indices(n_test, c.n_bg, params->seed + 1, idx) != c.n_bg) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < c.n_bg; i++)
        c.bg_rows[i] = test_rows[idx[i]];

    const gb_model *models[N_MODELS] = {teacher, student, baseline};
    for (int k = 0; k < N_MODELS; k++) {
        model_side *s = &c.side[k];
        s->m = models[k];
        if (s->m == NULL)
            continue;
        if ((rc = ex_groups_build(s->m->features, s->m->n_features, test_table,
                                  &s->groups, err)) != GB_OK ||
            (rc = fill_design(s->m, test_table, c.sample_rows, c.n_sample, &s->X,
                              err)) != GB_OK ||
            (rc = fill_design(s->m, test_table, c.bg_rows, c.n_bg, &s->X_bg, err)) !=
                GB_OK)
            goto out;
    }
    if ((rc = build_union(&c, err)) != GB_OK)
        goto out;

    /* Attributions and the method of global importance.  Sampled Shapley
     * values cost n_perm * (n_features + 1) predictions a row: the rows with
     * local attributions are capped so that this stays within a budget
     * (fast: 10^6 predicted rows per model, full: 5 * 10^6), at least 20. */
    int all_exact = 1;
    size_t widest = 0;
    for (int k = 0; k < N_MODELS; k++)
        if (c.side[k].m != NULL && !ex_exact_available(c.side[k].m)) {
            all_exact = 0;
            if (c.side[k].m->n_features > widest)
                widest = c.side[k].m->n_features;
        }
    c.n_local = c.n_sample;
    if (!all_exact) {
        size_t budget = (full ? 5000000 : 1000000) / (c.n_perm * (widest + 1));
        if (budget < 20)
            budget = 20;
        if (budget < c.n_local)
            c.n_local = budget;
    }
    int have_local = params->shap != 0;
    const char *method = NULL;
    if (params->shap && all_exact)
        method = "shap";
    else if (params->permutation)
        method = "permutation";
    else if (params->shap)
        method = "shap"; /* sampled: permutation importance was turned off */
    cJSON *attr = cJSON_AddObjectToObject(root, "attributions");
    if (attr == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (int k = 0; k < N_MODELS; k++) {
        model_side *s = &c.side[k];
        if (s->m != NULL && have_local && (rc = side_attribute(&c, s, err)) != GB_OK)
            goto out;
        if (s->m != NULL && have_local && (rc = side_align_local(&c, s, err)) != GB_OK)
            goto out;
        const char *how = s->m == NULL || !have_local ? NULL
                          : s->exact                  ? "exact"
                                                      : "sampled";
        if ((how != NULL ? cJSON_AddStringToObject(attr, model_role[k], how)
                         : cJSON_AddNullToObject(attr, model_role[k])) == NULL) {
            rc = nomem(err);
            goto out;
        }
    }
    if (gb_json_add_number(attr, "permutations", (double)c.n_perm) == NULL ||
        gb_json_add_number(attr, "rows", (double)c.n_local) == NULL ||
        gb_json_add_number(attr, "sample_rows", (double)c.n_sample) == NULL ||
        gb_json_add_number(attr, "background_rows", (double)c.n_bg) == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (int k = 0; k < N_MODELS; k++) {
        model_side *s = &c.side[k];
        if (s->m == NULL || method == NULL)
            continue;
        if (strcmp(method, "permutation") == 0) {
            gb_free(s->imp);
            s->imp = gb_malloc_array(s->groups.n_groups ? s->groups.n_groups : 1,
                                     sizeof *s->imp);
            if (s->imp == NULL) {
                rc = nomem(err);
                goto out;
            }
            if ((rc = ex_permutation_importance(
                     s->m, s->X, c.n_sample, &s->groups, c.n_repeats, params->seed + 2,
                     params->n_threads, s->imp, err)) != GB_OK)
                goto out;
        }
        s->imp_u = gb_calloc(c.n_union ? c.n_union : 1, sizeof *s->imp_u);
        if (s->imp_u == NULL) {
            rc = nomem(err);
            goto out;
        }
        for (size_t g = 0; g < s->groups.n_groups; g++)
            s->imp_u[union_find(&c, s->groups.names[g])] = s->imp[g];
    }
    if (method != NULL) {
        if ((rc = global_block(&c, root, method, err)) != GB_OK)
            goto out;
    } else if (cJSON_AddNullToObject(root, "global") == NULL ||
               cJSON_AddNullToObject(root, "method") == NULL ||
               !add_unavailable(&c, "global",
                                "both SHAP and permutation importance are "
                                "turned off")) {
        rc = nomem(err);
        goto out;
    }
    if ((rc = agreement_block(&c, root, have_local, err)) != GB_OK)
        goto out;
    if (params->pdp_features > 0 && (rc = pdp_block(&c, root, err)) != GB_OK)
        goto out;
    if (n_test > EX_DISAGREEMENT_MAX_ROWS) {
        /* A seeded sample bounds the depth-3 tree's memory and time on large
         * test sets; the block says how many rows it examined. */
        rc = disagreement_sampled(&c, root, student, test_rows, n_test, teacher_test,
                                  err);
    } else {
        rc = disagreement_block(&c, root, student, test_rows, n_test, X_test_student,
                                teacher_test, err);
        if (rc == GB_OK &&
            gb_json_add_number(root, "disagreement_rows", (double)n_test) == NULL)
            rc = nomem(err);
    }
    if (rc != GB_OK)
        goto out;
    if (student->task == GB_TASK_BINARY && have_local) {
        if ((rc = reason_block(&c, root, err)) != GB_OK)
            goto out;
    } else if (cJSON_AddNullToObject(root, "reason_codes") == NULL) {
        rc = nomem(err);
        goto out;
    }
    if (teacher == NULL) {
        static const char *const what[] = {"global.teacher", "agreement", "pdp.teacher",
                                           "reason_codes.teacher"};
        for (size_t i = 0; i < 4; i++)
            if (!add_unavailable(&c, what[i],
                                 "the teacher is a column of scores, not a model: it "
                                 "cannot be queried on changed rows or attributed")) {
                rc = nomem(err);
                goto out;
            }
    }
    if (!have_local &&
        (!add_unavailable(&c, "agreement.local_cosine",
                          "local attributions are turned off") ||
         !add_unavailable(&c, "reason_codes", "local attributions are turned off"))) {
        rc = nomem(err);
        goto out;
    }
    if (!cJSON_AddItemToObject(root, "unavailable", c.unavailable)) {
        rc = nomem(err);
        goto out;
    }
    c.unavailable = NULL;
    *out = root;
    root = NULL;
out:
    cJSON_Delete(c.unavailable);
    cJSON_Delete(root);
    for (int k = 0; k < N_MODELS; k++)
        side_free(&c.side[k]);
    gb_free_strings(c.union_names, c.n_union);
    gb_free(c.sample_rows);
    gb_free(c.sample_ids);
    gb_free(c.bg_rows);
    gb_free(idx);
    gb_free(all_rows);
    return rc;
}
