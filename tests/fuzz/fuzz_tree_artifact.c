/*
 * fuzz_tree_artifact.c - libFuzzer target for the tree student's artifact
 * reader.  Any input must load or give an error, never crash, leak or hang;
 * an artifact that loads is scored (probabilities, margins, TreeSHAP) on a
 * few rows with missing values, exported as SQL and C, and must survive a
 * to_json/load round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/base.h"
#include "core/json.h"
#include "core/model/students/student.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_error err;
    gb_model *m = NULL;
    cJSON *doc = gb_json_parse((const char *)data, size, &err);
    if (doc == NULL)
        return 0;
    gb_status rc = gb_student_from_json(doc, &m, &err);
    cJSON_Delete(doc);
    if (rc != GB_OK)
        return 0;
    enum { ROWS = 3 };
    size_t d = m->n_features;
    size_t width = m->n_outputs > m->n_margins ? m->n_outputs : m->n_margins;
    double *X = gb_malloc_array(ROWS * (d ? d : 1), sizeof *X);
    double *out = gb_malloc_array(ROWS * width, sizeof *out);
    double *phi = gb_malloc_array(ROWS * m->n_margins * (d + 1), sizeof *phi);
    if (X != NULL && out != NULL && phi != NULL) {
        for (size_t i = 0; i < ROWS * d; i++)
            X[i] = i % 7 == 3 ? __builtin_nan("") : (double)(i % 5);
        m->ops->predict(m, X, ROWS, out, &err);
        if (m->ops->predict_margin != NULL)
            m->ops->predict_margin(m, X, ROWS, out, &err);
        if (m->ops->attribute != NULL)
            m->ops->attribute(m, X, ROWS, phi, &err);
    }
    char *code = NULL;
    if (gb_student_export(m, "sql", &code, &err) == GB_OK)
        gb_free(code);
    code = NULL;
    if (gb_student_export(m, "c", &code, &err) == GB_OK)
        gb_free(code);
    cJSON *again_doc = m->ops->to_json(m);
    char *text = again_doc != NULL ? gb_json_print(again_doc, 0) : NULL;
    if (text != NULL) {
        cJSON *parsed = gb_json_parse(text, strlen(text), &err);
        gb_model *again = NULL;
        if (parsed == NULL || gb_student_from_json(parsed, &again, &err) != GB_OK)
            __builtin_trap(); /* what we write must load */
        gb_model_free(again);
        cJSON_Delete(parsed);
    }
    gb_free(text);
    cJSON_Delete(again_doc);
    gb_free(phi);
    gb_free(out);
    gb_free(X);
    gb_model_free(m);
    return 0;
}
