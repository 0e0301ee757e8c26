/*
 * fuzz_csv.c - libFuzzer target for the streaming CSV parser.  The first
 * input byte picks a chunk size, the rest is fed in chunks of that size; a
 * parsed table is then checked for internal consistency, and the target
 * resolved and the design matrix filled for its first column.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(const gb_table *t)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        const gb_column *c = &t->cols[j];
        size_t missing = 0;
        for (size_t i = 0; i < t->n_rows; i++) {
            if (c->type == GB_COL_NUMERIC) {
                if (isnan(c->values[i]))
                    missing++;
                else if (!isfinite(c->values[i]))
                    abort();
            } else {
                if (c->codes[i] < -1 || c->codes[i] >= (int32_t)c->n_levels)
                    abort();
                missing += c->codes[i] < 0;
            }
        }
        if (missing != c->n_missing || c->n_levels > GB_MAX_LEVELS)
            abort();
        for (size_t k = 1; k < c->n_levels; k++)
            if (strcmp(c->levels[k - 1], c->levels[k]) == 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = 1 + data[0] % 17;
    if (data[0] >= 128)
        chunk = size; /* half the inputs in one piece */
    data++;
    size--;
    gb_error err;
    gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
    if (p == NULL)
        return 0;
    gb_status rc = GB_OK;
    for (size_t i = 0; i < size && rc == GB_OK; i += chunk)
        rc = gb_csv_parser_feed(p, (const char *)data + i,
                                size - i < chunk ? size - i : chunk, &err);
    gb_table *t = NULL;
    if (rc == GB_OK)
        rc = gb_csv_parser_finish(p, &t, &err);
    gb_csv_parser_free(p);
    if (rc != GB_OK) {
        if (t != NULL || err.message[0] == '\0')
            abort();
        return 0;
    }
    check_table(t);
    if (t->n_cols > 0) {
        gb_target target;
        if (gb_target_resolve(t, t->cols[t->n_cols - 1].name, GB_TASK_AUTO, &target,
                              &err) == GB_OK)
            gb_target_free(&target);
        gb_feature *features = NULL;
        size_t n_features = 0;
        if (gb_features_from_table(t, NULL, 1, &features, &n_features, &err) == GB_OK) {
            gb_design *d = gb_design_bind(features, n_features, t, &err);
            if (d != NULL && t->n_rows > 0 && n_features < 4096) {
                size_t rows = t->n_rows < 8 ? t->n_rows : 8;
                double *X = malloc(rows * n_features * sizeof *X + 1);
                gb_design_fill(d, NULL, 0, rows, X);
                free(X);
            }
            gb_design_free(d);
            gb_features_free(features, n_features);
        }
    }
    gb_table_free(t);
    return 0;
}
