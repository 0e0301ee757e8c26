/*
 * fuzz_xgboost_json.c - libFuzzer target: xgboost model files (JSON text and,
 * through format detection, UBJSON) must load or be refused, never crash,
 * hang or leak; a loaded model scores a few rows (missing, negative, huge and
 * fractional values) and, when it has node covers, attributes them (TreeSHAP)
 * without reading out of bounds.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/teachers/xgboost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_model *m = NULL;
    gb_error err;
    if (gb_xgboost_load((const char *)data, size, &m, &err) != GB_OK)
        return 0;
    static const double probes[] = {NAN, -1.0, 0.0, 0.5, 1.0, 3.0, 1e30, -1e30, 40.0};
    enum { ROWS = 9 };
    size_t nf = m->n_features;
    double *X = gb_malloc_array(ROWS * nf, sizeof *X);
    double *out = gb_malloc_array(ROWS * (m->n_outputs + m->n_margins), sizeof *out);
    if (X != NULL && out != NULL) {
        for (size_t r = 0; r < ROWS; r++)
            for (size_t f = 0; f < nf; f++)
                X[r * nf + f] = probes[(r + f) % ROWS];
        m->ops->predict(m, X, ROWS, out, &err);
        m->ops->predict_margin(m, X, ROWS, out, &err);
        size_t width = m->n_margins * (nf + 1);
        if (m->ops->attribute != NULL && width <= 100000) {
            double *phi = gb_malloc_array(ROWS * width, sizeof *phi);
            if (phi != NULL)
                m->ops->attribute(m, X, ROWS, phi, &err);
            gb_free(phi);
        }
        cJSON *j = m->ops->to_json(m);
        cJSON_Delete(j);
    }
    gb_free(X);
    gb_free(out);
    gb_model_free(m);
    return 0;
}
