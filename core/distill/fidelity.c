/*
 * fidelity.c - the metrics block of one model and the fidelity block of a
 * student against its teacher, with seeded bootstrap intervals.
 * Layer: core/distill.
 *
 * The bootstrap sorts each score vector once; a resample is a vector of row
 * counts (multinomial weights), so each replicate costs O(n_rows * n_classes)
 * and no sort.  Replicate b draws from gb_rng_split(seed, b) and writes only
 * its own slot, so results do not depend on the thread count.
 */
#include "core/distill/fidelity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/metrics.h"
#include "core/math/rng.h"
#include "core/parallel.h"

#define MAX_BOOTSTRAP 100000

/* ---- metrics block ------------------------------------------------------------ */

static const char *task_name(gb_task task)
{
    switch (task) {
    case GB_TASK_BINARY: return "binary";
    case GB_TASK_MULTICLASS: return "multiclass";
    case GB_TASK_REGRESSION: return "regression";
    default: return "auto";
    }
}

static gb_status check_task(gb_task task, size_t n_classes, gb_error *err)
{
    int ok = (task == GB_TASK_BINARY && n_classes == 2) ||
             (task == GB_TASK_MULTICLASS && n_classes >= 2) ||
             task == GB_TASK_REGRESSION;
    if (ok)
        return GB_OK;
    gb_error_set(err, GB_EUNUSABLE, "task %s with %zu classes is not supported here",
                 task_name(task), n_classes);
    gb_error_field(err, "task");
    return GB_EUNUSABLE;
}

gb_status gb_metrics_compute(gb_task task, size_t n_rows, size_t n_classes,
                             const int32_t *y_class, const double *y_value,
                             const double *pred, gb_metrics *out, gb_error *err)
{
    gb_status st = check_task(task, n_classes, err);
    if (st != GB_OK)
        return st;
    gb_metrics m;
    m.task = task;
    m.accuracy = m.auc = m.logloss = m.brier = m.ks = NAN;
    m.rmse = m.mae = m.r2 = NAN;
    if (task == GB_TASK_REGRESSION) {
        if (y_value == NULL && n_rows > 0) {
            gb_error_set(err, GB_EUNUSABLE, "regression metrics need target values");
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
        if ((st = gb_metric_rmse(y_value, pred, n_rows, &m.rmse, err)) != GB_OK ||
            (st = gb_metric_mae(y_value, pred, n_rows, &m.mae, err)) != GB_OK ||
            (st = gb_metric_r2(y_value, pred, n_rows, &m.r2, err)) != GB_OK)
            return st;
    } else {
        if (y_class == NULL && n_rows > 0) {
            gb_error_set(err, GB_EUNUSABLE, "classification metrics need class labels");
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
        if ((st = gb_metric_accuracy(y_class, pred, n_rows, n_classes, &m.accuracy,
                                     err)) != GB_OK ||
            (st = gb_metric_auc(y_class, pred, n_rows, n_classes, &m.auc, err)) !=
                GB_OK ||
            (st = gb_metric_logloss(y_class, pred, n_rows, n_classes, &m.logloss,
                                    err)) != GB_OK ||
            (st = gb_metric_brier(y_class, pred, n_rows, n_classes, &m.brier, err)) !=
                GB_OK ||
            (st = gb_metric_ks(y_class, pred, n_rows, n_classes, &m.ks, err)) != GB_OK)
            return st;
    }
    *out = m;
    return GB_OK;
}

cJSON *gb_metrics_to_json(const gb_metrics *m)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    int ok;
    if (m->task == GB_TASK_REGRESSION) {
        ok = gb_json_add_number(obj, "rmse", m->rmse) != NULL &&
             gb_json_add_number(obj, "mae", m->mae) != NULL &&
             gb_json_add_number(obj, "r2", m->r2) != NULL;
    } else {
        ok = gb_json_add_number(obj, "accuracy", m->accuracy) != NULL &&
             gb_json_add_number(obj, "auc", m->auc) != NULL &&
             gb_json_add_number(obj, "logloss", m->logloss) != NULL &&
             gb_json_add_number(obj, "brier", m->brier) != NULL &&
             gb_json_add_number(obj, "ks", m->ks) != NULL;
    }
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* ---- helpers -------------------------------------------------------------------- */

void gb_fidelity_params_default(gb_fidelity_params *p)
{
    p->cutoff = GB_FIDELITY_DEFAULT_CUTOFF;
    p->n_bootstrap = GB_FIDELITY_DEFAULT_BOOTSTRAP;
    p->seed = 0;
    p->n_threads = 1;
}

static int cmp_double_nan_last(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

double gb_percentile_inplace(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double_nan_last);
    size_t m = n;
    while (m > 0 && isnan(v[m - 1]))
        m--;
    if (m == 0)
        return NAN;
    double pos = p / 100.0 * (double)(m - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= m - 1)
        return v[m - 1];
    double frac = pos - (double)lo;
    return v[lo] + frac * (v[lo + 1] - v[lo]);
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return 0;
    }
    return 1;
}

/* Macro Spearman over classes with a defined correlation (multiclass). */
static gb_status spearman_macro(const double *teacher, const double *student,
                                size_t n_rows, size_t n_classes, double *out,
                                gb_error *err)
{
    double *a = gb_malloc_array(n_rows, sizeof *a);
    double *b = gb_malloc_array(n_rows, sizeof *b);
    gb_status st = GB_OK;
    if (a == NULL || b == NULL) {
        st = gb_error_set(err, GB_ENOMEM, "out of memory ranking %zu rows", n_rows);
        goto done;
    }
    double sum = 0.0;
    size_t n_defined = 0;
    for (size_t k = 0; k < n_classes; k++) {
        for (size_t i = 0; i < n_rows; i++) {
            a[i] = teacher[i * n_classes + k];
            b[i] = student[i * n_classes + k];
        }
        double rho = NAN;
        if ((st = gb_metric_spearman(a, b, n_rows, &rho, err)) != GB_OK)
            goto done;
        if (!isnan(rho)) {
            sum += rho;
            n_defined++;
        }
    }
    *out = n_defined > 0 ? sum / (double)n_defined : NAN;
done:
    gb_free(b);
    gb_free(a);
    return st;
}

/* ---- bootstrap ------------------------------------------------------------------ */

typedef struct boot_ctx {
    size_t n_rows, n_classes;
    const unsigned char *agree; /* n_rows flags, NULL = no agreement interval */
    const int32_t *y;           /* true labels, NULL = no AUC interval */
    const double *scores;       /* n_classes x n_rows score columns (binary: 1) */
    const size_t *orders;       /* matching sort orders */
    size_t n_score_cols;
    gb_rng base;
    double *agreement; /* n_bootstrap results */
    double *auc;
    unsigned char *failed; /* per replicate: allocation failed */
} boot_ctx;

static void boot_task_cb(void *vctx, size_t b)
{
    boot_ctx *c = vctx;
    size_t n = c->n_rows;
    double *w = gb_calloc(n, sizeof *w);
    if (w == NULL) {
        c->failed[b] = 1;
        return;
    }
    gb_rng rng = gb_rng_split(&c->base, (uint64_t)b);
    for (size_t j = 0; j < n; j++)
        w[gb_rng_below(&rng, (uint64_t)n)] += 1.0;
    if (c->agree != NULL) {
        double same = 0.0;
        for (size_t i = 0; i < n; i++)
            same += c->agree[i] ? w[i] : 0.0;
        c->agreement[b] = same / (double)n;
    }
    if (c->y != NULL) {
        double sum = 0.0;
        size_t n_defined = 0;
        for (size_t col = 0; col < c->n_score_cols; col++) {
            int32_t positive = c->n_score_cols == 1 ? 1 : (int32_t)col;
            double v = gb_metric_auc_presorted(c->y, positive, c->scores + col * n,
                                               c->orders + col * n, w, n);
            if (!isnan(v)) {
                sum += v;
                n_defined++;
            }
        }
        c->auc[b] = n_defined > 0 ? sum / (double)n_defined : NAN;
    }
    gb_free(w);
}

/* Fills f->ci_agreement and f->ci_auc (classification only). */
static gb_status bootstrap(const gb_fidelity_params *p, size_t n_rows, size_t n_classes,
                           const double *teacher, const double *student,
                           const int32_t *y_class, gb_fidelity *f, gb_error *err)
{
    boot_ctx c;
    unsigned char *agree = NULL;
    double *scores = NULL;
    size_t *orders = NULL;
    gb_status st = GB_OK;

    memset(&c, 0, sizeof c);
    size_t B = p->n_bootstrap;
    if (B == 0 || n_rows == 0 || !all_finite(teacher, n_rows * n_classes) ||
        !all_finite(student, n_rows * n_classes))
        return GB_OK;
    c.n_rows = n_rows;
    c.n_classes = n_classes;
    c.n_score_cols = n_classes == 2 ? 1 : n_classes;
    agree = gb_malloc(n_rows);
    c.agreement = gb_malloc_array(B, sizeof *c.agreement);
    c.auc = gb_malloc_array(B, sizeof *c.auc);
    c.failed = gb_calloc(B, 1);
    if (agree == NULL || c.agreement == NULL || c.auc == NULL || c.failed == NULL)
        goto nomem;
    for (size_t i = 0; i < n_rows; i++)
        agree[i] = gb_argmax(teacher + i * n_classes, n_classes) ==
                   gb_argmax(student + i * n_classes, n_classes);
    c.agree = agree;
    if (y_class != NULL) {
        scores = gb_malloc_array(c.n_score_cols * n_rows, sizeof *scores);
        orders = gb_malloc_array(c.n_score_cols * n_rows, sizeof *orders);
        if (scores == NULL || orders == NULL)
            goto nomem;
        for (size_t col = 0; col < c.n_score_cols; col++) {
            size_t k = n_classes == 2 ? 1 : col;
            for (size_t i = 0; i < n_rows; i++)
                scores[col * n_rows + i] = student[i * n_classes + k];
            if ((st = gb_sort_order(scores + col * n_rows, n_rows,
                                    orders + col * n_rows, err)) != GB_OK)
                goto done;
        }
        c.y = y_class;
        c.scores = scores;
        c.orders = orders;
    }
    gb_rng_seed(&c.base, p->seed);
    for (size_t b = 0; b < B; b++)
        c.agreement[b] = c.auc[b] = NAN;
    gb_parallel_for(B, p->n_threads, boot_task_cb, &c);
    for (size_t b = 0; b < B; b++) {
        if (c.failed[b])
            goto nomem;
    }
    f->ci_agreement[0] = gb_percentile_inplace(c.agreement, B, 2.5);
    f->ci_agreement[1] = gb_percentile_inplace(c.agreement, B, 97.5);
    if (c.y != NULL) {
        f->ci_auc[0] = gb_percentile_inplace(c.auc, B, 2.5);
        f->ci_auc[1] = gb_percentile_inplace(c.auc, B, 97.5);
    }
    goto done;
nomem:
    st = gb_error_set(err, GB_ENOMEM, "out of memory bootstrapping %zu rows", n_rows);
done:
    gb_free(orders);
    gb_free(scores);
    gb_free(c.failed);
    gb_free(c.auc);
    gb_free(c.agreement);
    gb_free(agree);
    return st;
}

/* ---- fidelity block ------------------------------------------------------------- */

/* Deciles of teacher_score (ascending by (score, row)). */
static gb_status deciles(const double *teacher_score, const double *student_score,
                         const unsigned char *agree, size_t n_rows, gb_fidelity *f,
                         gb_error *err)
{
    f->n_deciles = 0;
    if (n_rows == 0 || !all_finite(teacher_score, n_rows))
        return GB_OK;
    size_t *order = gb_malloc_array(n_rows, sizeof *order);
    if (order == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory sorting %zu rows", n_rows);
    gb_status st = gb_sort_order(teacher_score, n_rows, order, err);
    if (st != GB_OK) {
        gb_free(order);
        return st;
    }
    for (size_t g = 0; g < GB_FIDELITY_DECILES; g++) {
        size_t lo = g * n_rows / GB_FIDELITY_DECILES;
        size_t hi = (g + 1) * n_rows / GB_FIDELITY_DECILES;
        if (hi == lo)
            continue;
        double ts = 0.0, ss = 0.0, same = 0.0;
        for (size_t j = lo; j < hi; j++) {
            size_t i = order[j];
            ts += teacher_score[i];
            ss += student_score[i];
            if (agree != NULL)
                same += agree[i];
        }
        double cnt = (double)(hi - lo);
        gb_fidelity_decile *d = &f->deciles[f->n_deciles++];
        d->decile = (int)g + 1;
        d->n_rows = hi - lo;
        d->teacher_mean = ts / cnt;
        d->student_mean = ss / cnt;
        d->agreement = agree != NULL ? same / cnt : NAN;
    }
    gb_free(order);
    return GB_OK;
}

gb_status gb_fidelity_compute(gb_task task, size_t n_rows, size_t n_classes,
                              const double *teacher, const double *student,
                              const int32_t *y_class, const gb_fidelity_params *params,
                              gb_fidelity *out, gb_error *err)
{
    gb_fidelity_params defaults;
    gb_fidelity f;
    double *t_score = NULL, *s_score = NULL;
    unsigned char *agree = NULL;
    int32_t *t_label = NULL;
    gb_status st = GB_OK;

    gb_fidelity_params_default(&defaults);
    const gb_fidelity_params *p = params != NULL ? params : &defaults;
    if ((st = check_task(task, n_classes, err)) != GB_OK)
        return st;
    if (!(p->cutoff >= 0.0 && p->cutoff <= 1.0)) {
        gb_error_set(err, GB_EUNUSABLE, "cutoff must be in [0, 1], got %g", p->cutoff);
        gb_error_field(err, "cutoff");
        return GB_EUNUSABLE;
    }
    if (p->n_bootstrap > MAX_BOOTSTRAP) {
        gb_error_set(err, GB_EUNUSABLE, "n_bootstrap must be at most %d, got %zu",
                     MAX_BOOTSTRAP, p->n_bootstrap);
        gb_error_field(err, "n_bootstrap");
        return GB_EUNUSABLE;
    }
    int regression = task == GB_TASK_REGRESSION;
    size_t K = regression ? 1 : n_classes;
    if (!regression && y_class != NULL) {
        for (size_t i = 0; i < n_rows; i++) {
            if (y_class[i] < 0 || (size_t)y_class[i] >= n_classes) {
                gb_error_set(err, GB_EUNUSABLE,
                             "label %ld at row %zu is outside [0, %zu)",
                             (long)y_class[i], i, n_classes);
                gb_error_field(err, "y");
                return GB_EUNUSABLE;
            }
        }
    }

    memset(&f, 0, sizeof f);
    f.task = task;
    f.agreement = f.r2 = f.mae = f.kl = f.spearman = f.auc_vs_teacher = NAN;
    f.cutoff = task == GB_TASK_BINARY ? p->cutoff : NAN;
    f.agreement_at_cutoff = NAN;
    f.ci_agreement[0] = f.ci_agreement[1] = f.ci_auc[0] = f.ci_auc[1] = NAN;
    f.n_bootstrap = regression ? 0 : p->n_bootstrap;

    t_score = gb_malloc_array(n_rows + 1, sizeof *t_score);
    s_score = gb_malloc_array(n_rows + 1, sizeof *s_score);
    if (t_score == NULL || s_score == NULL)
        goto nomem;

    if (regression) {
        memcpy(t_score, teacher, n_rows * sizeof *t_score);
        memcpy(s_score, student, n_rows * sizeof *s_score);
        if ((st = gb_metric_r2(t_score, s_score, n_rows, &f.r2, err)) != GB_OK ||
            (st = gb_metric_mae(t_score, s_score, n_rows, &f.mae, err)) != GB_OK ||
            (st = gb_metric_spearman(t_score, s_score, n_rows, &f.spearman, err)) !=
                GB_OK ||
            (st = deciles(t_score, s_score, NULL, n_rows, &f, err)) != GB_OK)
            goto done;
        *out = f;
        goto done;
    }

    agree = gb_malloc(n_rows + 1);
    t_label = gb_malloc_array(n_rows + 1, sizeof *t_label);
    if (agree == NULL || t_label == NULL)
        goto nomem;
    for (size_t i = 0; i < n_rows; i++) {
        t_label[i] = gb_argmax(teacher + i * K, K);
        agree[i] = t_label[i] == gb_argmax(student + i * K, K);
    }
    if ((st = gb_metric_agreement(teacher, student, n_rows, K, &f.agreement, err)) !=
            GB_OK ||
        (st = gb_metric_kl(teacher, student, n_rows, K, &f.kl, err)) != GB_OK ||
        (st = gb_metric_auc(t_label, student, n_rows, K, &f.auc_vs_teacher, err)) !=
            GB_OK)
        goto done;

    if (task == GB_TASK_BINARY) {
        for (size_t i = 0; i < n_rows; i++) {
            t_score[i] = teacher[2 * i + 1];
            s_score[i] = student[2 * i + 1];
        }
        if ((st = gb_metric_r2(t_score, s_score, n_rows, &f.r2, err)) != GB_OK ||
            (st = gb_metric_mae(t_score, s_score, n_rows, &f.mae, err)) != GB_OK ||
            (st = gb_metric_spearman(t_score, s_score, n_rows, &f.spearman, err)) !=
                GB_OK)
            goto done;
        if (n_rows > 0 && all_finite(t_score, n_rows) && all_finite(s_score, n_rows)) {
            size_t same = 0;
            for (size_t i = 0; i < n_rows; i++)
                same += (t_score[i] >= p->cutoff) == (s_score[i] >= p->cutoff);
            f.agreement_at_cutoff = (double)same / (double)n_rows;
        }
    } else {
        /* r2 and mae over every entry; teacher confidence for the deciles. */
        if ((st = gb_metric_r2(teacher, student, n_rows * K, &f.r2, err)) != GB_OK ||
            (st = gb_metric_mae(teacher, student, n_rows * K, &f.mae, err)) != GB_OK ||
            (st = spearman_macro(teacher, student, n_rows, K, &f.spearman, err)) !=
                GB_OK)
            goto done;
        for (size_t i = 0; i < n_rows; i++) {
            t_score[i] = teacher[i * K + (size_t)t_label[i]];
            s_score[i] = student[i * K + (size_t)t_label[i]];
        }
    }
    if ((st = deciles(t_score, s_score, agree, n_rows, &f, err)) != GB_OK)
        goto done;
    if ((st = bootstrap(p, n_rows, K, teacher, student, y_class, &f, err)) != GB_OK)
        goto done;
    *out = f;
    goto done;
nomem:
    st = gb_error_set(err, GB_ENOMEM, "out of memory computing fidelity of %zu rows",
                      n_rows);
done:
    gb_free(t_label);
    gb_free(agree);
    gb_free(s_score);
    gb_free(t_score);
    return st;
}

/* ---- JSON ------------------------------------------------------------------------ */

static int add_interval(cJSON *parent, const char *key, const double *ci)
{
    if (!isfinite(ci[0]) || !isfinite(ci[1]))
        return cJSON_AddNullToObject(parent, key) != NULL;
    cJSON *arr = gb_json_number_array_create(ci, 2);
    if (arr == NULL)
        return 0;
    if (!cJSON_AddItemToObject(parent, key, arr)) {
        cJSON_Delete(arr);
        return 0;
    }
    return 1;
}

cJSON *gb_fidelity_to_json(const gb_fidelity *f)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    if (gb_json_add_number(obj, "agreement", f->agreement) == NULL ||
        gb_json_add_number(obj, "r2", f->r2) == NULL ||
        gb_json_add_number(obj, "kl", f->kl) == NULL ||
        gb_json_add_number(obj, "mae", f->mae) == NULL ||
        gb_json_add_number(obj, "spearman", f->spearman) == NULL ||
        gb_json_add_number(obj, "auc_vs_teacher", f->auc_vs_teacher) == NULL)
        goto fail;
    if (f->task == GB_TASK_BINARY) {
        cJSON *cut = cJSON_AddObjectToObject(obj, "agreement_at_cutoff");
        if (cut == NULL || gb_json_add_number(cut, "cutoff", f->cutoff) == NULL ||
            gb_json_add_number(cut, "value", f->agreement_at_cutoff) == NULL)
            goto fail;
    } else if (cJSON_AddNullToObject(obj, "agreement_at_cutoff") == NULL) {
        goto fail;
    }
    cJSON *dec = cJSON_AddArrayToObject(obj, "deciles");
    if (dec == NULL)
        goto fail;
    for (size_t g = 0; g < f->n_deciles; g++) {
        const gb_fidelity_decile *d = &f->deciles[g];
        cJSON *item = cJSON_CreateObject();
        if (item == NULL)
            goto fail;
        if (!cJSON_AddItemToArray(dec, item)) {
            cJSON_Delete(item);
            goto fail;
        }
        if (gb_json_add_number(item, "decile", (double)d->decile) == NULL ||
            gb_json_add_number(item, "teacher_mean", d->teacher_mean) == NULL ||
            gb_json_add_number(item, "student_mean", d->student_mean) == NULL ||
            gb_json_add_number(item, "agreement", d->agreement) == NULL)
            goto fail;
    }
    cJSON *ci = cJSON_AddObjectToObject(obj, "ci95");
    if (ci == NULL || !add_interval(ci, "agreement", f->ci_agreement) ||
        !add_interval(ci, "auc", f->ci_auc))
        goto fail;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}
