/*
 * encode.c - feature specs, binding them to a table by name, and filling the
 * row-major design matrix models read.
 * Layer: core/data.
 */
#include "core/data/encode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- feature specs --------------------------------------------------------- */

void gb_features_free(gb_feature *features, size_t n)
{
    if (features == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        gb_free(features[i].name);
        gb_free_strings(features[i].levels, features[i].n_levels);
    }
    gb_free(features);
}

/* Fills *dst with copies of name and levels[0..n_levels).  On failure frees
 * what it made and leaves *dst zeroed. */
static gb_status feature_init(gb_feature *dst, const char *name, size_t name_len,
                              const char *suffix, gb_feature_kind kind,
                              char *const *levels, size_t n_levels)
{
    memset(dst, 0, sizeof *dst);
    size_t suffix_len = suffix != NULL ? strlen(suffix) : 0;
    dst->name = gb_malloc(name_len + suffix_len + 1);
    if (dst->name == NULL)
        return GB_ENOMEM;
    memcpy(dst->name, name, name_len);
    if (suffix_len > 0)
        memcpy(dst->name + name_len, suffix, suffix_len);
    dst->name[name_len + suffix_len] = '\0';
    dst->kind = kind;
    if (kind == GB_FEAT_CATEGORICAL) {
        dst->levels = gb_calloc(n_levels, sizeof *dst->levels);
        if (dst->levels == NULL)
            goto nomem;
        dst->n_levels = n_levels;
        for (size_t k = 0; k < n_levels; k++)
            if ((dst->levels[k] = gb_strdup(levels[k])) == NULL)
                goto nomem;
    }
    return GB_OK;
nomem:
    gb_free(dst->name);
    gb_free_strings(dst->levels, dst->n_levels);
    memset(dst, 0, sizeof *dst);
    return GB_ENOMEM;
}

gb_status gb_features_copy(const gb_feature *src, size_t n, gb_feature **out,
                           gb_error *err)
{
    *out = NULL;
    gb_feature *copy = gb_calloc(n, sizeof *copy);
    if (copy == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory copying %zu features", n);
    for (size_t i = 0; i < n; i++) {
        if (feature_init(&copy[i], src[i].name, strlen(src[i].name), NULL, src[i].kind,
                         src[i].levels, src[i].n_levels) != GB_OK) {
            gb_features_free(copy, i);
            return gb_error_set(err, GB_ENOMEM, "out of memory copying %zu features",
                                n);
        }
    }
    *out = copy;
    return GB_OK;
}

gb_status gb_features_from_table(const gb_table *table, const unsigned char *exclude,
                                 int one_hot, gb_feature **out, size_t *n_out,
                                 gb_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t n = 0;
    for (size_t j = 0; j < table->n_cols; j++) {
        if (exclude != NULL && exclude[j])
            continue;
        const gb_column *c = &table->cols[j];
        n += (c->type == GB_COL_CATEGORICAL && one_hot) ? c->n_levels : 1;
    }
    gb_feature *f = gb_calloc(n, sizeof *f);
    if (f == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory listing %zu features", n);
    size_t k = 0;
    for (size_t j = 0; j < table->n_cols; j++) {
        if (exclude != NULL && exclude[j])
            continue;
        const gb_column *c = &table->cols[j];
        size_t name_len = strlen(c->name);
        gb_status rc = GB_OK;
        if (c->type == GB_COL_NUMERIC) {
            rc = feature_init(&f[k++], c->name, name_len, NULL, GB_FEAT_NUMERIC, NULL,
                              0);
        } else if (!one_hot) {
            rc = feature_init(&f[k++], c->name, name_len, NULL, GB_FEAT_CATEGORICAL,
                              c->levels, c->n_levels);
        } else {
            for (size_t l = 0; l < c->n_levels && rc == GB_OK; l++) {
                /* "col=level": name, then "=" + level as the suffix. */
                size_t level_len = strlen(c->levels[l]);
                char *suffix = gb_malloc(level_len + 2);
                if (suffix == NULL) {
                    rc = GB_ENOMEM;
                    break;
                }
                suffix[0] = '=';
                memcpy(suffix + 1, c->levels[l], level_len + 1);
                rc = feature_init(&f[k++], c->name, name_len, suffix, GB_FEAT_NUMERIC,
                                  NULL, 0);
                gb_free(suffix);
            }
        }
        if (rc != GB_OK) {
            gb_features_free(f, k);
            return gb_error_set(err, GB_ENOMEM, "out of memory listing %zu features",
                                n);
        }
    }
    *out = f;
    *n_out = n;
    return GB_OK;
}

/* ---- numbers as text --------------------------------------------------------- */

void gb_format_double(double v, char buf[32])
{
    if (isnan(v)) {
        snprintf(buf, 32, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, 32, v > 0 ? "inf" : "-inf");
        return;
    }
    /* The fewest significant digits that round-trip, then Python's repr
     * layout: fixed notation for decimal exponents in [-4, 16), else
     * d.ddde+XX. */
    int digits = 17;
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, 32, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) {
            digits = p;
            break;
        }
    }
    snprintf(buf, 32, "%.*e", digits - 1, v);
    const char *e = strchr(buf, 'e');
    int exp10 = e != NULL ? (int)strtol(e + 1, NULL, 10) : 0;
    if (exp10 >= -4 && exp10 < 16)
        snprintf(buf, 32, "%.*g", digits > exp10 + 1 ? digits : exp10 + 1, v);
}

/* Parses s as any finite number (whole string). */
static int parse_finite_number(const char *s, double *v)
{
    if (*s == '\0')
        return 0;
    char *end = NULL;
    double x = strtod(s, &end);
    if (*end != '\0' || !isfinite(x))
        return 0;
    *v = x;
    return 1;
}

/* Parses s as a finite number whose shortest round-trip text is exactly s
 * ("3", "2.5"; not "3.0" or " 3").  Returns 1 and sets *v on success. */
static int parse_canonical_number(const char *s, double *v)
{
    double x;
    if (!parse_finite_number(s, &x))
        return 0;
    char buf[32];
    gb_format_double(x, buf);
    if (strcmp(buf, s) != 0)
        return 0;
    *v = x;
    return 1;
}

/* ---- binding ------------------------------------------------------------------ */

typedef enum bind_kind {
    BIND_NUMERIC,      /* numeric column as-is */
    BIND_LEVEL_VALUES, /* categorical column with numeric levels, as numbers */
    BIND_ONEHOT_CODE,  /* indicator of one code of a categorical column */
    BIND_ONEHOT_VALUE, /* indicator of one value of a numeric column */
    BIND_CODE_MAP,     /* categorical column -> feature code via a code map */
    BIND_VALUE_LOOKUP  /* numeric column -> feature code via sorted values */
} bind_kind;

typedef struct value_code {
    double value;
    double code;
} value_code;

typedef struct binding {
    bind_kind kind;
    const gb_column *col;
    int32_t code;       /* BIND_ONEHOT_CODE: table code, -1 = never occurs */
    double value;       /* BIND_ONEHOT_VALUE: the indicated value (NaN = none) */
    double *map;        /* BIND_LEVEL_VALUES / BIND_CODE_MAP: per table code */
    value_code *lookup; /* BIND_VALUE_LOOKUP: sorted by value */
    size_t n_lookup;
} binding;

struct gb_design {
    size_t n_features;
    binding *bind;
};

void gb_design_free(gb_design *design)
{
    if (design == NULL)
        return;
    for (size_t j = 0; design->bind != NULL && j < design->n_features; j++) {
        gb_free(design->bind[j].map);
        gb_free(design->bind[j].lookup);
    }
    gb_free(design->bind);
    gb_free(design);
}

size_t gb_design_n_features(const gb_design *design)
{
    return design->n_features;
}

static int cmp_value_code(const void *a, const void *b)
{
    double x = ((const value_code *)a)->value, y = ((const value_code *)b)->value;
    return (x > y) - (x < y);
}

/* Index of `level` among the n feature levels, or -1 (linear scan for small
 * lists, called once per table level at bind time). */
static long level_index(char *const *levels, size_t n, const char *level)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(levels[k], level) == 0)
            return (long)k;
    return -1;
}

/* Finds a categorical (or numeric) column `col` and level for a one-hot name
 * "col=level".  Prefers a split whose level occurs in a categorical column.
 * Returns the column index or -1; *level_at points into name. */
static long find_onehot_column(const gb_table *table, const char *name,
                               const char **level_at)
{
    long fallback = -1;
    const char *fallback_level = NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++) {
        if (name[i] != '=')
            continue;
        for (size_t j = 0; j < table->n_cols; j++) {
            const gb_column *c = &table->cols[j];
            if (strlen(c->name) != i || memcmp(c->name, name, i) != 0)
                continue;
            const char *level = name + i + 1;
            if (c->type == GB_COL_CATEGORICAL &&
                level_index(c->levels, c->n_levels, level) >= 0) {
                *level_at = level;
                return (long)j;
            }
            if (fallback < 0) {
                fallback = (long)j;
                fallback_level = level;
            }
        }
    }
    *level_at = fallback_level;
    return fallback;
}

/* Appends ", name" (or "name") to msg, truncating with "..." when full. */
static void append_name(char *msg, size_t cap, const char *name, int *first)
{
    size_t used = strlen(msg);
    if (used + 4 >= cap)
        return;
    int wrote = snprintf(msg + used, cap - used, "%s%s", *first ? "" : ", ", name);
    if (wrote < 0 || (size_t)wrote >= cap - used)
        snprintf(msg + cap - 4, 4, "...");
    *first = 0;
}

gb_design *gb_design_bind(const gb_feature *features, size_t n_features,
                          const gb_table *table, gb_error *err)
{
    gb_design *d = gb_calloc(1, sizeof *d);
    if (d == NULL)
        goto nomem;
    d->bind = gb_calloc(n_features, sizeof *d->bind);
    if (d->bind == NULL)
        goto nomem;
    d->n_features = n_features;

    char missing[400] = "";
    char why[160];
    int first_missing = 1;
    size_t n_missing = 0, n_text = 0;
    const char *first_missing_name = NULL;

    for (size_t f = 0; f < n_features; f++) {
        const gb_feature *feat = &features[f];
        binding *b = &d->bind[f];
        long j = gb_table_find(table, feat->name);
        const char *problem = NULL;
        if (feat->kind == GB_FEAT_NUMERIC) {
            if (j >= 0 && table->cols[j].type == GB_COL_NUMERIC) {
                b->kind = BIND_NUMERIC;
                b->col = &table->cols[j];
            } else if (j >= 0) {
                /* A categorical column read as numbers: every level must be one. */
                const gb_column *c = &table->cols[j];
                b->kind = BIND_LEVEL_VALUES;
                b->col = c;
                b->map = gb_malloc_array(c->n_levels, sizeof *b->map);
                if (b->map == NULL)
                    goto nomem;
                for (size_t l = 0; l < c->n_levels && problem == NULL; l++)
                    if (!parse_finite_number(c->levels[l], &b->map[l])) {
                        snprintf(why, sizeof why,
                                 "a number for the model, text such as \"%.40s\" in "
                                 "the data",
                                 c->levels[l]);
                        problem = why;
                        n_text++;
                    }
            } else {
                const char *level = NULL;
                long jc = find_onehot_column(table, feat->name, &level);
                if (jc < 0) {
                    problem = "";
                } else if (table->cols[jc].type == GB_COL_CATEGORICAL) {
                    const gb_column *c = &table->cols[jc];
                    b->kind = BIND_ONEHOT_CODE;
                    b->col = c;
                    b->code = (int32_t)level_index(c->levels, c->n_levels, level);
                } else {
                    b->kind = BIND_ONEHOT_VALUE;
                    b->col = &table->cols[jc];
                    double v;
                    b->value = parse_canonical_number(level, &v) ? v : NAN;
                }
            }
        } else if (j < 0) {
            problem = "";
        } else if (table->cols[j].type == GB_COL_CATEGORICAL) {
            const gb_column *c = &table->cols[j];
            b->kind = BIND_CODE_MAP;
            b->col = c;
            b->map = gb_malloc_array(c->n_levels, sizeof *b->map);
            if (b->map == NULL)
                goto nomem;
            for (size_t l = 0; l < c->n_levels; l++) {
                long k = level_index(feat->levels, feat->n_levels, c->levels[l]);
                b->map[l] = k >= 0 ? (double)k : NAN;
            }
        } else {
            b->kind = BIND_VALUE_LOOKUP;
            b->col = &table->cols[j];
            b->lookup = gb_malloc_array(feat->n_levels, sizeof *b->lookup);
            if (b->lookup == NULL)
                goto nomem;
            for (size_t k = 0; k < feat->n_levels; k++) {
                double v;
                if (parse_canonical_number(feat->levels[k], &v)) {
                    b->lookup[b->n_lookup].value = v;
                    b->lookup[b->n_lookup].code = (double)k;
                    b->n_lookup++;
                }
            }
            qsort(b->lookup, b->n_lookup, sizeof *b->lookup, cmp_value_code);
        }
        if (problem != NULL) {
            if (first_missing_name == NULL)
                first_missing_name = feat->name;
            n_missing++;
            char item[200];
            snprintf(item, sizeof item, "%s%s%s%s", feat->name, problem[0] ? " (" : "",
                     problem, problem[0] ? ")" : "");
            append_name(missing, sizeof missing, item, &first_missing);
        }
    }
    if (n_missing > 0) {
        if (n_text == 0)
            gb_error_set(err, GB_EUNUSABLE,
                         "%zu feature(s) missing from the dataset: %s", n_missing,
                         missing);
        else
            gb_error_set(err, GB_EUNUSABLE,
                         "%zu feature(s) the model needs are missing from the data or "
                         "not numbers: %s",
                         n_missing, missing);
        gb_error_field(err, first_missing_name);
        gb_design_free(d);
        return NULL;
    }
    return d;
nomem:
    gb_design_free(d);
    gb_error_set(err, GB_ENOMEM, "out of memory binding %zu features", n_features);
    return NULL;
}

/* Feature code of value v in a sorted lookup table, NaN when absent. */
static double lookup_code(const value_code *lookup, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lookup[mid].value < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < n && lookup[lo].value == v) ? lookup[lo].code : NAN;
}

void gb_design_fill(const gb_design *design, const size_t *rows, size_t row0,
                    size_t n_rows, double *out)
{
    size_t nf = design->n_features;
    for (size_t f = 0; f < nf; f++) {
        const binding *b = &design->bind[f];
        const gb_column *c = b->col;
        double *o = out + f;
        for (size_t i = 0; i < n_rows; i++) {
            size_t r = rows != NULL ? rows[i] : row0 + i;
            double x;
            switch (b->kind) {
            case BIND_NUMERIC: x = c->values[r]; break;
            case BIND_LEVEL_VALUES:
            case BIND_CODE_MAP: {
                int32_t code = c->codes[r];
                x = code < 0 ? NAN : b->map[code];
                break;
            }
            case BIND_ONEHOT_CODE: {
                int32_t code = c->codes[r];
                x = code < 0 ? NAN : (code == b->code ? 1.0 : 0.0);
                break;
            }
            case BIND_ONEHOT_VALUE: {
                double v = c->values[r];
                x = isnan(v) ? NAN : (v == b->value ? 1.0 : 0.0);
                break;
            }
            case BIND_VALUE_LOOKUP: {
                double v = c->values[r];
                x = isnan(v) ? NAN : lookup_code(b->lookup, b->n_lookup, v);
                break;
            }
            default: x = NAN; break;
            }
            o[i * nf] = x;
        }
    }
}

void gb_standardize_stats(const double *X, size_t n_rows, size_t n_cols, double *mean,
                          double *scale)
{
    for (size_t j = 0; j < n_cols; j++) {
        double sum = 0.0, lo = INFINITY, hi = -INFINITY;
        size_t count = 0;
        for (size_t i = 0; i < n_rows; i++) {
            double v = X[i * n_cols + j];
            if (!isnan(v)) {
                sum += v;
                count++;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
        double m = count > 0 ? sum / (double)count : 0.0;
        double ss = 0.0;
        for (size_t i = 0; i < n_rows; i++) {
            double v = X[i * n_cols + j];
            if (!isnan(v))
                ss += (v - m) * (v - m);
        }
        double sd = count > 0 ? sqrt(ss / (double)count) : 0.0;
        mean[j] = m;
        /* Constant (lo == hi) or all-missing columns keep scale 1. */
        scale[j] = (count > 0 && lo < hi && sd > 0.0 && isfinite(sd)) ? sd : 1.0;
    }
}
