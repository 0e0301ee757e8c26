/*
 * table.c - the columnar dataset: lookup, target resolution and task
 * inference, column summary statistics.
 * Layer: core/data.
 */
#include "core/data/table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/data/number.h"

/* Largest number of distinct integer values a numeric target may have to be
 * inferred as multiclass (table.h). */
#define GB_AUTO_MULTICLASS_MAX 20

const char *gb_task_name(gb_task task)
{
    switch (task) {
    case GB_TASK_AUTO: return "auto";
    case GB_TASK_BINARY: return "binary";
    case GB_TASK_MULTICLASS: return "multiclass";
    case GB_TASK_REGRESSION: return "regression";
    }
    return "auto";
}

gb_status gb_task_parse(const char *name, gb_task *task, gb_error *err)
{
    static const gb_task all[] = {GB_TASK_AUTO, GB_TASK_BINARY, GB_TASK_MULTICLASS,
                                  GB_TASK_REGRESSION};
    for (size_t i = 0; name != NULL && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, gb_task_name(all[i])) == 0) {
            *task = all[i];
            return GB_OK;
        }
    }
    gb_error_set(err, GB_EINPUT,
                 "unknown task '%s' (expected binary, multiclass, regression or auto)",
                 name != NULL ? name : "");
    gb_error_field(err, "task");
    return GB_EINPUT;
}

void gb_table_free(gb_table *table)
{
    if (table == NULL)
        return;
    for (size_t j = 0; table->cols != NULL && j < table->n_cols; j++) {
        gb_column *c = &table->cols[j];
        gb_free(c->name);
        gb_free(c->values);
        gb_free(c->codes);
        gb_free_strings(c->levels, c->n_levels);
    }
    gb_free(table->cols);
    gb_free(table);
}

gb_status gb_table_keep_rows(gb_table *table, const size_t *keep, size_t n_keep,
                             size_t block, gb_table_rows_cb visit, void *ctx,
                             gb_error *err)
{
    size_t nc = table->n_cols;
    void **kept = gb_calloc(nc + 1, sizeof *kept);
    if (kept == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory compacting the table");
    for (size_t j = 0; j < nc; j++) {
        const gb_column *c = &table->cols[j];
        size_t size = c->type == GB_COL_NUMERIC ? sizeof *c->values : sizeof *c->codes;
        kept[j] = gb_malloc_array(n_keep > 0 ? n_keep : 1, size);
        if (kept[j] == NULL) {
            for (size_t i = 0; i < j; i++)
                gb_free(kept[i]);
            gb_free(kept);
            return gb_error_set(err, GB_ENOMEM, "out of memory compacting the table");
        }
    }
    if (block == 0)
        block = 1;
    size_t hi = table->n_rows, k_hi = n_keep;
    while (hi > 0) {
        size_t lo = hi > block ? hi - block : 0;
        if (visit != NULL)
            visit(ctx, table, lo, hi);
        size_t k_lo = k_hi;
        while (k_lo > 0 && keep[k_lo - 1] >= lo)
            k_lo--;
        for (size_t j = 0; j < nc; j++) {
            gb_column *c = &table->cols[j];
            if (c->type == GB_COL_NUMERIC) {
                double *to = kept[j];
                for (size_t i = k_lo; i < k_hi; i++)
                    to[i] = c->values[keep[i]];
                double *v = gb_realloc_array(c->values, lo > 0 ? lo : 1, sizeof *v);
                if (v != NULL)
                    c->values = v;
            } else {
                int32_t *to = kept[j];
                for (size_t i = k_lo; i < k_hi; i++)
                    to[i] = c->codes[keep[i]];
                int32_t *v = gb_realloc_array(c->codes, lo > 0 ? lo : 1, sizeof *v);
                if (v != NULL)
                    c->codes = v;
            }
        }
        table->n_rows = lo;
        hi = lo;
        k_hi = k_lo;
    }
    for (size_t j = 0; j < nc; j++) {
        gb_column *c = &table->cols[j];
        size_t missing = 0;
        if (c->type == GB_COL_NUMERIC) {
            gb_free(c->values);
            c->values = kept[j];
            for (size_t i = 0; i < n_keep; i++)
                missing += isnan(c->values[i]) != 0;
        } else {
            gb_free(c->codes);
            c->codes = kept[j];
            for (size_t i = 0; i < n_keep; i++)
                missing += c->codes[i] < 0;
        }
        c->n_missing = missing;
    }
    table->n_rows = n_keep;
    gb_free(kept);
    return GB_OK;
}

long gb_table_find(const gb_table *table, const char *name)
{
    if (table == NULL || name == NULL)
        return -1;
    for (size_t j = 0; j < table->n_cols; j++)
        if (table->cols[j].name != NULL && strcmp(table->cols[j].name, name) == 0)
            return (long)j;
    return -1;
}

void gb_target_free(gb_target *target)
{
    if (target == NULL)
        return;
    gb_free_strings(target->classes, target->n_classes);
    gb_free(target->y_class);
    gb_free(target->y_value);
    memset(target, 0, sizeof *target);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct values of a numeric column without missing values, in a
 * new array (caller frees).  NULL on allocation failure. */
static double *distinct_values(const double *v, size_t n, size_t *n_distinct)
{
    double *s = gb_malloc_array(n, sizeof *s);
    if (s == NULL)
        return NULL;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || s[i] != s[k - 1])
            s[k++] = s[i];
    *n_distinct = k;
    return s;
}

/* Index of x in sorted distinct[0..n) (x is known to be present). */
static int32_t find_sorted(const double *distinct, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (distinct[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return (int32_t)lo;
}

/* Sets a GB_EUNUSABLE error about target column `name` and returns it. */
#define TARGET_ERROR(err, name, ...)                                                   \
    (gb_error_set((err), GB_EUNUSABLE, __VA_ARGS__), gb_error_field((err), (name)),    \
     GB_EUNUSABLE)

gb_status gb_target_resolve(const gb_table *table, const char *name, gb_task task,
                            gb_target *out, gb_error *err)
{
    double *distinct = NULL;
    gb_target t;
    memset(&t, 0, sizeof t);
    memset(out, 0, sizeof *out);
    gb_status rc = GB_OK;

    if (task != GB_TASK_AUTO && task != GB_TASK_BINARY && task != GB_TASK_MULTICLASS &&
        task != GB_TASK_REGRESSION)
        return gb_error_set(err, GB_EINTERNAL, "invalid task value %d", (int)task);
    long idx = gb_table_find(table, name);
    if (idx < 0) {
        gb_error_set(err, GB_EUNUSABLE, "target column '%s' is not in the dataset",
                     name != NULL ? name : "");
        gb_error_field(err, name);
        return GB_EUNUSABLE;
    }
    const gb_column *c = &table->cols[idx];
    size_t n = table->n_rows;
    t.col = (size_t)idx;

    /* Missing values: name the first one.  Line numbers assume one line per
     * record after the header (quoted newlines shift them). */
    for (size_t i = 0; i < n; i++) {
        int missing = c->type == GB_COL_NUMERIC ? isnan(c->values[i]) : c->codes[i] < 0;
        if (missing) {
            gb_error_at(err, GB_EUNUSABLE, (long)i + 2, (long)idx + 1,
                        "target column '%s' has %zu missing value(s); the first is in "
                        "data row %zu",
                        name, c->n_missing > 0 ? c->n_missing : 1, i + 1);
            gb_error_field(err, name);
            return GB_EUNUSABLE;
        }
    }
    if (n == 0)
        return TARGET_ERROR(err, name, "target column '%s' has no rows", name);

    if (c->type == GB_COL_CATEGORICAL) {
        if (task == GB_TASK_REGRESSION)
            return TARGET_ERROR(err, name,
                                "target column '%s' is categorical; regression needs a "
                                "numeric target",
                                name);
        size_t k = c->n_levels;
        if (k < 2)
            return TARGET_ERROR(err, name,
                                "target column '%s' has fewer than 2 classes", name);
        if (task == GB_TASK_BINARY && k != 2)
            return TARGET_ERROR(
                err, name, "target column '%s' has %zu classes; binary needs exactly 2",
                name, k);
        if (k > GB_MAX_CLASSES)
            return TARGET_ERROR(err, name,
                                "target column '%s' has %zu classes; the limit is %d",
                                name, k, GB_MAX_CLASSES);
        t.task = task != GB_TASK_AUTO ? task
                                      : (k == 2 ? GB_TASK_BINARY : GB_TASK_MULTICLASS);
        t.n_classes = k;
        t.classes = gb_calloc(k, sizeof *t.classes);
        t.y_class = gb_malloc_array(n, sizeof *t.y_class);
        if (t.classes == NULL || t.y_class == NULL)
            goto nomem;
        for (size_t j = 0; j < k; j++)
            if ((t.classes[j] = gb_strdup(c->levels[j])) == NULL)
                goto nomem;
        memcpy(t.y_class, c->codes, n * sizeof *t.y_class);
        *out = t;
        return GB_OK;
    }

    /* Numeric target. */
    size_t k = 0;
    distinct = distinct_values(c->values, n, &k);
    if (distinct == NULL)
        goto nomem;
    int all_integer = 1;
    for (size_t j = 0; j < k; j++)
        if (distinct[j] != floor(distinct[j]) || fabs(distinct[j]) > 9007199254740992.0)
            all_integer = 0;
    if (k < 2) {
        rc = TARGET_ERROR(err, name, "target column '%s' has a single distinct value",
                          name);
        goto fail;
    }
    if (task == GB_TASK_AUTO) {
        if (k == 2)
            task = GB_TASK_BINARY;
        else if (all_integer && k <= GB_AUTO_MULTICLASS_MAX)
            task = GB_TASK_MULTICLASS;
        else
            task = GB_TASK_REGRESSION;
    }
    t.task = task;
    if (task == GB_TASK_REGRESSION) {
        t.y_value = gb_malloc_array(n, sizeof *t.y_value);
        if (t.y_value == NULL)
            goto nomem;
        memcpy(t.y_value, c->values, n * sizeof *t.y_value);
        gb_free(distinct);
        *out = t;
        return GB_OK;
    }
    if (task == GB_TASK_BINARY && k != 2) {
        rc = TARGET_ERROR(
            err, name,
            "target column '%s' has %zu distinct values; binary needs exactly 2", name,
            k);
        goto fail;
    }
    if (k > GB_MAX_CLASSES) {
        rc = TARGET_ERROR(
            err, name,
            "target column '%s' has %zu distinct values; the class limit is %d", name,
            k, GB_MAX_CLASSES);
        goto fail;
    }
    t.n_classes = k;
    t.classes = gb_calloc(k, sizeof *t.classes);
    t.y_class = gb_malloc_array(n, sizeof *t.y_class);
    if (t.classes == NULL || t.y_class == NULL)
        goto nomem;
    for (size_t j = 0; j < k; j++) {
        char buf[32];
        gb_format_double(distinct[j], buf);
        if ((t.classes[j] = gb_strdup(buf)) == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < n; i++)
        t.y_class[i] = find_sorted(distinct, k, c->values[i]);
    gb_free(distinct);
    *out = t;
    return GB_OK;

nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory resolving target column '%s'",
                      name);
fail:
    gb_free(distinct);
    gb_target_free(&t);
    return rc;
}

/* ---- summary statistics ---------------------------------------------------- */

#define STATS_SET_SLOTS 2048 /* power of two > 2 * (GB_MAX_LEVELS + 1) */

static uint64_t hash_double(double v)
{
    uint64_t bits;
    if (v == 0.0)
        v = 0.0; /* -0 and +0 are one value */
    memcpy(&bits, &v, sizeof bits);
    bits ^= bits >> 33;
    bits *= 0xff51afd7ed558ccdULL;
    bits ^= bits >> 33;
    return bits;
}

void gb_column_stats_compute(const gb_column *col, size_t n_rows,
                             gb_column_stats *stats)
{
    stats->min = stats->max = stats->mean = stats->sd = NAN;
    stats->n_distinct_capped = 0;
    if (col->type == GB_COL_CATEGORICAL) {
        /* Count the levels that occur. */
        unsigned char seen_small[GB_MAX_LEVELS + 1];
        memset(seen_small, 0, sizeof seen_small);
        size_t distinct = 0;
        for (size_t i = 0; i < n_rows && distinct <= GB_MAX_LEVELS; i++) {
            int32_t code = col->codes[i];
            if (code < 0)
                continue;
            if ((size_t)code > GB_MAX_LEVELS) {
                distinct = GB_MAX_LEVELS + 1;
                break;
            }
            if (!seen_small[code]) {
                seen_small[code] = 1;
                distinct++;
            }
        }
        stats->n_distinct_capped = distinct;
        return;
    }
    size_t count = 0;
    double mean = 0.0, m2 = 0.0, lo = INFINITY, hi = -INFINITY;
    double set[STATS_SET_SLOTS];
    unsigned char used[STATS_SET_SLOTS];
    memset(used, 0, sizeof used);
    size_t distinct = 0;
    for (size_t i = 0; i < n_rows; i++) {
        double v = col->values[i];
        if (isnan(v))
            continue;
        count++;
        double d = v - mean;
        mean += d / (double)count;
        m2 += d * (v - mean);
        if (v < lo)
            lo = v;
        if (v > hi)
            hi = v;
        if (distinct <= GB_MAX_LEVELS) {
            size_t slot = (size_t)(hash_double(v) & (STATS_SET_SLOTS - 1));
            while (used[slot] && set[slot] != v)
                slot = (slot + 1) & (STATS_SET_SLOTS - 1);
            if (!used[slot]) {
                used[slot] = 1;
                set[slot] = v;
                distinct++;
            }
        }
    }
    stats->n_distinct_capped = distinct;
    if (count == 0)
        return;
    stats->min = lo;
    stats->max = hi;
    stats->mean = mean;
    stats->sd = count > 1 ? sqrt(m2 / (double)(count - 1)) : NAN;
}

/* ---- building tables ------------------------------------------------------- */

typedef struct level_key {
    const char *text;
    double value;
    size_t index;
} level_key;

static int cmp_level_numeric(const void *a, const void *b)
{
    const level_key *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return strcmp(x->text, y->text);
}

static int cmp_level_text(const void *a, const void *b)
{
    return strcmp(((const level_key *)a)->text, ((const level_key *)b)->text);
}

gb_status gb_levels_sort(char **levels, size_t n, int32_t *old_to_new)
{
    if (n == 0)
        return GB_OK;
    level_key *keys = gb_malloc_array(n, sizeof *keys);
    char **sorted = gb_malloc_array(n, sizeof *sorted);
    if (keys == NULL || sorted == NULL) {
        gb_free(keys);
        gb_free(sorted);
        return GB_ENOMEM;
    }
    int numeric = 1;
    for (size_t i = 0; i < n; i++) {
        keys[i].text = levels[i];
        keys[i].index = i;
        keys[i].value = 0.0;
        if (numeric && gb_number_parse(levels[i], strlen(levels[i]), &keys[i].value) !=
                           GB_NUMBER_FINITE)
            numeric = 0;
    }
    qsort(keys, n, sizeof *keys, numeric ? cmp_level_numeric : cmp_level_text);
    for (size_t k = 0; k < n; k++) {
        sorted[k] = levels[keys[k].index];
        if (old_to_new != NULL)
            old_to_new[keys[k].index] = (int32_t)k;
    }
    memcpy(levels, sorted, n * sizeof *levels);
    gb_free(sorted);
    gb_free(keys);
    return GB_OK;
}

gb_table *gb_table_create(size_t n_rows, gb_error *err)
{
    gb_table *t = gb_calloc(1, sizeof *t);
    if (t == NULL) {
        gb_error_set(err, GB_ENOMEM, "out of memory creating a table");
        return NULL;
    }
    t->n_rows = n_rows;
    return t;
}

/* Checks the name and grows cols by one zeroed slot (not yet counted). */
static gb_status table_reserve_column(gb_table *t, const char *name, gb_error *err)
{
    if (name == NULL || name[0] == '\0')
        return gb_error_set(err, GB_EUNUSABLE, "column name is empty");
    if (gb_table_find(t, name) >= 0) {
        gb_error_set(err, GB_EUNUSABLE, "duplicate column name '%s'", name);
        gb_error_field(err, name);
        return GB_EUNUSABLE;
    }
    if (t->n_cols >= GB_MAX_COLUMNS)
        return gb_error_set(err, GB_ETOOLARGE, "more than %d columns", GB_MAX_COLUMNS);
    gb_column *cols = gb_realloc_array(t->cols, t->n_cols + 1, sizeof *cols);
    if (cols == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory adding column '%s'", name);
    t->cols = cols;
    memset(&cols[t->n_cols], 0, sizeof cols[t->n_cols]);
    return GB_OK;
}

gb_status gb_table_add_numeric(gb_table *table, const char *name, const double *values,
                               gb_error *err)
{
    gb_status rc = table_reserve_column(table, name, err);
    if (rc != GB_OK)
        return rc;
    gb_column c;
    memset(&c, 0, sizeof c);
    c.type = GB_COL_NUMERIC;
    c.name = gb_strdup(name);
    c.values = gb_malloc_array(table->n_rows, sizeof *c.values);
    if (c.name == NULL || c.values == NULL) {
        gb_free(c.name);
        gb_free(c.values);
        return gb_error_set(err, GB_ENOMEM, "out of memory adding column '%s'", name);
    }
    for (size_t i = 0; i < table->n_rows; i++) {
        c.values[i] = values[i];
        c.n_missing += isnan(values[i]) ? 1 : 0;
    }
    table->cols[table->n_cols++] = c;
    return GB_OK;
}

gb_status gb_table_add_categorical(gb_table *table, const char *name,
                                   const char *const *labels, gb_error *err)
{
    gb_status rc = table_reserve_column(table, name, err);
    if (rc != GB_OK)
        return rc;
    size_t n = table->n_rows;
    gb_column c;
    memset(&c, 0, sizeof c);
    int32_t *remap = NULL;
    c.type = GB_COL_CATEGORICAL;
    c.name = gb_strdup(name);
    c.codes = gb_malloc_array(n, sizeof *c.codes);
    c.levels = gb_calloc(GB_MAX_LEVELS, sizeof *c.levels);
    remap = gb_malloc_array(GB_MAX_LEVELS, sizeof *remap);
    if (c.name == NULL || c.codes == NULL || c.levels == NULL || remap == NULL)
        goto nomem;
    /* First-seen codes by linear search (at most GB_MAX_LEVELS levels). */
    for (size_t i = 0; i < n; i++) {
        if (labels[i] == NULL) {
            c.codes[i] = -1;
            c.n_missing++;
            continue;
        }
        size_t k = 0;
        while (k < c.n_levels && strcmp(c.levels[k], labels[i]) != 0)
            k++;
        if (k == c.n_levels) {
            if (c.n_levels == GB_MAX_LEVELS) {
                rc = gb_error_set(err, GB_ETOOLARGE,
                                  "categorical column '%s' has more than %d levels",
                                  name, GB_MAX_LEVELS);
                gb_error_field(err, name);
                goto fail;
            }
            if ((c.levels[k] = gb_strdup(labels[i])) == NULL)
                goto nomem;
            c.n_levels++;
        }
        c.codes[i] = (int32_t)k;
    }
    if (gb_levels_sort(c.levels, c.n_levels, remap) != GB_OK)
        goto nomem;
    if (c.n_levels > 0) {
        char **fit = gb_realloc_array(c.levels, c.n_levels, sizeof *fit);
        if (fit != NULL)
            c.levels = fit;
    }
    for (size_t i = 0; i < n; i++)
        if (c.codes[i] >= 0)
            c.codes[i] = remap[c.codes[i]];
    gb_free(remap);
    table->cols[table->n_cols++] = c;
    return GB_OK;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory adding column '%s'", name);
fail:
    gb_free(remap);
    gb_free(c.name);
    gb_free(c.codes);
    gb_free_strings(c.levels, c.n_levels);
    return rc;
}
