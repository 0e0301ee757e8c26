/*
 * fuzz_lightgbm.c - libFuzzer target for the LightGBM text parser and the
 * teacher loader's format detection.  A model that loads is scored on rows
 * of awkward values (NaN, signed zeros, tiny, negative, huge) so tree walks
 * and bitset lookups are exercised too.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/model/teachers/lightgbm.h"
#include "core/model/teachers/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void score(const gb_model *m)
{
    static const double values[] = {NAN, 0.0, -0.0, 1e-40, -1.0,   0.5,
                                    1.0, 2.7, 33.0, 1e300, -1e300, 64.0};
    enum { N_ROWS = 4 };
    size_t F = m->n_features;
    if (F > 4096)
        return;
    double *X = gb_malloc_array(N_ROWS * (F ? F : 1), sizeof *X);
    double *out = gb_malloc_array(N_ROWS * m->n_outputs, sizeof *out);
    double *margin = gb_malloc_array(N_ROWS * m->n_margins, sizeof *margin);
    if (X != NULL && out != NULL && margin != NULL) {
        for (size_t i = 0; i < N_ROWS * F; i++)
            X[i] = values[(i * 7 + i / F) % (sizeof values / sizeof values[0])];
        gb_error err;
        gb_error_clear(&err);
        m->ops->predict(m, X, N_ROWS, out, &err);
        if (m->ops->predict_margin != NULL)
            m->ops->predict_margin(m, X, N_ROWS, margin, &err);
        if (m->ops->to_json != NULL)
            cJSON_Delete(m->ops->to_json(m));
    }
    gb_free(X);
    gb_free(out);
    gb_free(margin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_model *m = NULL;
    gb_error err;
    gb_error_clear(&err);
    if (gb_lightgbm_load((const char *)data, size, &m, &err) == GB_OK) {
        score(m);
        gb_model_free(m);
    }
    m = NULL;
    (void)gb_model_format_detect((const char *)data, size);
    if (gb_teacher_load((const char *)data, size, &m, &err) == GB_OK)
        gb_model_free(m);
    return 0;
}
