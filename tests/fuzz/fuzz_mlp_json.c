/*
 * fuzz_mlp_json.c - libFuzzer target for the glassbox-mlp v1 loader.  Any
 * input must load or give an error, never crash, leak or hang; a document
 * that loads is scored on a few rows (finite inputs and missing values) and
 * must survive a to_json/load round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/teachers/mlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_error err;
    gb_model *m = NULL;
    if (gb_mlp_load((const char *)data, size, &m, &err) != GB_OK)
        return 0;
    enum { ROWS = 3 };
    size_t d = m->n_features;
    double *X = gb_malloc_array(ROWS * d, sizeof *X);
    double *out = gb_malloc_array(
        ROWS * (m->n_outputs > m->n_margins ? m->n_outputs : m->n_margins),
        sizeof *out);
    if (X != NULL && out != NULL) {
        for (size_t i = 0; i < ROWS * d; i++)
            X[i] = i % 7 == 3 ? __builtin_nan("") : (double)(i % 5) - 2.0;
        m->ops->predict(m, X, ROWS, out, &err);
        m->ops->predict_margin(m, X, ROWS, out, &err);
    }
    cJSON *doc = m->ops->to_json(m);
    char *text = doc != NULL ? gb_json_print(doc, 0) : NULL;
    if (text != NULL) {
        gb_model *again = NULL;
        if (gb_mlp_load(text, strlen(text), &again, &err) != GB_OK)
            __builtin_trap(); /* what we write must load */
        gb_model_free(again);
    }
    gb_free(text);
    cJSON_Delete(doc);
    gb_free(out);
    gb_free(X);
    gb_model_free(m);
    return 0;
}
