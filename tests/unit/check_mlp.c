/*
 * check_mlp.c - glassbox-mlp v1 (loading, validation, exact scoring against
 * scikit-learn and PyTorch, round trip), the Adam optimiser against
 * torch.optim, and in-service MLP training (accuracy, AUC, determinism).
 * Fixtures: scripts/fixtures/make_mlp.py -> tests/fixtures/mlp/.
 */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/data/csv.h"
#include "core/json.h"
#include "core/math/adam.h"
#include "core/model/model.h"
#include "core/model/teachers/mlp.h"

#define FIX "tests/fixtures/mlp/"
#define DATASETS "tests/fixtures/datasets/"

/* ---- a small numeric CSV reader for fixtures (empty field = NaN) -------- */

typedef struct num_csv {
    size_t n_rows, n_cols;
    char **names;
    double *values; /* n_rows x n_cols */
} num_csv;

static void num_csv_free(num_csv *c)
{
    gb_free_strings(c->names, c->n_cols);
    free(c->values);
    memset(c, 0, sizeof *c);
}

static void num_csv_read(const char *path, num_csv *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char line[1 << 16];
    ck_assert(fgets(line, sizeof line, f) != NULL);
    line[strcspn(line, "\r\n")] = '\0';
    size_t cap = 16;
    c->names = gb_calloc(cap, sizeof *c->names);
    for (char *tok = strtok(line, ","); tok != NULL; tok = strtok(NULL, ",")) {
        if (c->n_cols == cap) {
            c->names = gb_realloc(c->names, 2 * cap * sizeof *c->names);
            cap *= 2;
        }
        c->names[c->n_cols++] = gb_strdup(tok);
    }
    size_t rows_cap = 64;
    c->values = malloc(rows_cap * c->n_cols * sizeof *c->values);
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (c->n_rows == rows_cap) {
            rows_cap *= 2;
            c->values = realloc(c->values, rows_cap * c->n_cols * sizeof *c->values);
        }
        char *at = line;
        for (size_t j = 0; j < c->n_cols; j++) {
            char *end = at + strcspn(at, ",");
            int last = *end == '\0';
            *end = '\0';
            c->values[c->n_rows * c->n_cols + j] = at[0] ? strtod(at, NULL) : NAN;
            ck_assert_msg(!last || j + 1 == c->n_cols, "%s: short row", path);
            at = end + 1;
        }
        c->n_rows++;
    }
    fclose(f);
}

static char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert(fread(buf, 1, (size_t)len, f) == (size_t)len);
    buf[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* ---- fixture predictions -------------------------------------------------- */

static const char *const fixture_names[] = {
    "binary_relu", "wine_tanh", "diabetes_sigmoid", "mixed_softmax", "binary_softmax"};

START_TEST(test_fixture_predictions_match_library)
{
    const char *name = fixture_names[_i];
    char path[256];
    gb_error err;
    gb_model *m = NULL;
    num_csv data, expect;

    snprintf(path, sizeof path, FIX "%s.json", name);
    ck_assert_int_eq(gb_mlp_load_file(path, &m, &err), GB_OK);
    ck_assert_str_eq(m->ops->kind, "mlp");
    snprintf(path, sizeof path, FIX "%s_data.csv", name);
    num_csv_read(path, &data);
    snprintf(path, sizeof path, FIX "%s_expected.csv", name);
    num_csv_read(path, &expect);
    ck_assert_uint_eq(data.n_cols, m->n_features);
    for (size_t j = 0; j < m->n_features; j++)
        ck_assert_str_eq(data.names[j], m->features[j].name);
    ck_assert_uint_eq(expect.n_cols, m->n_outputs);
    ck_assert_uint_eq(expect.n_rows, data.n_rows);
    for (size_t k = 0; k < m->n_classes; k++)
        ck_assert_str_eq(expect.names[k] + 2, m->classes[k]);

    double *out = malloc(data.n_rows * m->n_outputs * sizeof *out);
    ck_assert_int_eq(m->ops->predict(m, data.values, data.n_rows, out, &err), GB_OK);
    double worst = 0;
    for (size_t i = 0; i < data.n_rows * m->n_outputs; i++) {
        double diff = fabs(out[i] - expect.values[i]);
        worst = diff > worst ? diff : worst;
    }
    fprintf(stderr, "mlp %s: max |glassbox - library| = %.3g\n", name, worst);
    ck_assert_msg(worst <= 1e-9, "%s: max |glassbox - library| = %g", name, worst);

    /* the same through the CSV reader and the by-name design matrix */
    gb_table *table = NULL;
    snprintf(path, sizeof path, FIX "%s_data.csv", name);
    ck_assert_int_eq(gb_csv_read_file(path, NULL, &table, &err), GB_OK);
    double *by_name = malloc(data.n_rows * m->n_outputs * sizeof *by_name);
    ck_assert_int_eq(
        gb_model_predict_table(m, table, NULL, table->n_rows, by_name, &err), GB_OK);
    for (size_t i = 0; i < data.n_rows * m->n_outputs; i++)
        ck_assert(by_name[i] == out[i]);
    free(by_name);
    gb_table_free(table);

    /* margins are the logits of the same probabilities */
    double *margin = malloc(data.n_rows * m->n_margins * sizeof *margin);
    ck_assert_int_eq(m->ops->predict_margin(m, data.values, data.n_rows, margin, &err),
                     GB_OK);
    for (size_t r = 0; r < data.n_rows; r++) {
        const double *p = out + r * m->n_outputs, *z = margin + r * m->n_margins;
        if (m->task == GB_TASK_BINARY)
            ck_assert_double_eq_tol(1.0 / (1.0 + exp(-z[0])), p[1], 1e-12);
        else if (m->task == GB_TASK_REGRESSION)
            ck_assert_double_eq(z[0], p[0]);
        else {
            double zmax = z[0], sum = 0;
            for (size_t k = 1; k < m->n_margins; k++)
                zmax = z[k] > zmax ? z[k] : zmax;
            for (size_t k = 0; k < m->n_margins; k++)
                sum += exp(z[k] - zmax);
            for (size_t k = 0; k < m->n_margins; k++)
                ck_assert_double_eq_tol(exp(z[k] - zmax) / sum, p[k], 1e-12);
        }
    }
    free(margin);
    free(out);
    num_csv_free(&data);
    num_csv_free(&expect);
    gb_model_free(m);
}
END_TEST

START_TEST(test_fixture_tasks)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load_file(FIX "binary_relu.json", &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_BINARY);
    ck_assert_uint_eq(m->n_outputs, 2);
    ck_assert_uint_eq(m->n_margins, 1);
    gb_model_free(m);
    ck_assert_int_eq(gb_mlp_load_file(FIX "binary_softmax.json", &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_BINARY);
    ck_assert_uint_eq(m->n_margins, 1);
    ck_assert_str_eq(m->classes[1], "yes");
    gb_model_free(m);
    ck_assert_int_eq(gb_mlp_load_file(FIX "wine_tanh.json", &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_MULTICLASS);
    ck_assert_uint_eq(m->n_outputs, 3);
    ck_assert_uint_eq(m->n_margins, 3);
    gb_model_free(m);
    ck_assert_int_eq(gb_mlp_load_file(FIX "diabetes_sigmoid.json", &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_REGRESSION);
    ck_assert_uint_eq(m->n_outputs, 1);
    ck_assert_uint_eq(m->n_classes, 0);
    gb_model_free(m);
    ck_assert_int_eq(gb_mlp_load_file(FIX "no_such_model.json", &m, &err),
                     GB_ENOTFOUND);
    ck_assert_ptr_null(m);
}
END_TEST

/* Block boundaries: scoring more rows than one block gives the same values
 * as scoring rows one at a time. */
START_TEST(test_blocks_equal_single_rows)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load_file(FIX "wine_tanh.json", &m, &err), GB_OK);
    size_t n = GB_PREDICT_BLOCK * 2 + 37, d = m->n_features;
    double *X = malloc(n * d * sizeof *X);
    double *all = malloc(n * 3 * sizeof *all);
    for (size_t i = 0; i < n * d; i++)
        X[i] = (double)((i * 7919) % 101) / 7.0;
    ck_assert_int_eq(m->ops->predict(m, X, n, all, &err), GB_OK);
    for (size_t r = 0; r < n; r += 97) {
        double one[3];
        ck_assert_int_eq(m->ops->predict(m, X + r * d, 1, one, &err), GB_OK);
        for (size_t k = 0; k < 3; k++)
            ck_assert_double_eq_tol(one[k], all[r * 3 + k], 1e-14);
    }
    free(X);
    free(all);
    gb_model_free(m);
}
END_TEST

START_TEST(test_round_trip_is_exact)
{
    const char *name = fixture_names[_i];
    char path[256], out_path[256];
    gb_error err;
    gb_model *a = NULL, *b = NULL, *c = NULL;
    snprintf(path, sizeof path, FIX "%s.json", name);
    ck_assert_int_eq(gb_mlp_load_file(path, &a, &err), GB_OK);
    cJSON *doc_a = a->ops->to_json(a);
    ck_assert_ptr_nonnull(doc_a);
    char *text_a = gb_json_print(doc_a, 0);
    ck_assert_int_eq(gb_mlp_load(text_a, strlen(text_a), &b, &err), GB_OK);
    cJSON *doc_b = gb_mlp_to_json(b);
    char *text_b = gb_json_print(doc_b, 0);
    ck_assert_str_eq(text_a, text_b);

    /* the printed document equals the fixture file as JSON values */
    size_t n = 0;
    char *orig = read_text(path, &n);
    cJSON *doc_orig = gb_json_parse(orig, n, &err);
    ck_assert(cJSON_Compare(doc_orig, doc_a, 1));

    snprintf(out_path, sizeof out_path, "build/check_mlp_%s.json", name);
    ck_assert_int_eq(gb_mlp_save(b, out_path, &err), GB_OK);
    ck_assert_int_eq(gb_mlp_load_file(out_path, &c, &err), GB_OK);
    cJSON *doc_c = gb_mlp_to_json(c);
    ck_assert(cJSON_Compare(doc_a, doc_c, 1));
    remove(out_path);

    cJSON_Delete(doc_a);
    cJSON_Delete(doc_b);
    cJSON_Delete(doc_c);
    cJSON_Delete(doc_orig);
    gb_free(text_a);
    gb_free(text_b);
    free(orig);
    gb_model_free(a);
    gb_model_free(b);
    gb_model_free(c);
}
END_TEST

START_TEST(test_missing_features_are_listed)
{
    /* the wine model scored on the breast_cancer columns: every one of its
     * features is missing and named */
    gb_error err;
    gb_model *m = NULL;
    gb_table *table = NULL;
    ck_assert_int_eq(gb_mlp_load_file(FIX "wine_tanh.json", &m, &err), GB_OK);
    ck_assert_int_eq(gb_csv_read_file(FIX "binary_relu_data.csv", NULL, &table, &err),
                     GB_OK);
    double out[3];
    ck_assert_int_eq(gb_model_predict_table(m, table, NULL, 1, out, &err),
                     GB_EUNUSABLE);
    ck_assert_msg(strstr(err.message, "alcohol") != NULL &&
                      strstr(err.message, "proline") != NULL,
                  "%s", err.message);
    gb_table_free(table);
    gb_model_free(m);
}
END_TEST

START_TEST(test_save_to_bad_path_leaves_nothing)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load_file(FIX "binary_softmax.json", &m, &err), GB_OK);
    ck_assert_int_eq(gb_mlp_save(m, "build/no/such/dir/m.json", &err), GB_EIO);
    ck_assert(strstr(err.message, "build/no/such/dir/m.json") != NULL);
    gb_model_free(m);
}
END_TEST

/* ---- validation: one case per error ------------------------------------- */

#define PRE "\"preprocess\":{\"mean\":[0,1],\"scale\":[1,2]}"
#define L0 "{\"weights\":[[1,2],[3,4]],\"bias\":[0,0],\"activation\":\"relu\"}"
#define L1 "{\"weights\":[[1,-1]],\"bias\":[0.5],\"activation\":\"identity\"}"
#define HEAD "\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[\"a\",\"b\"]"
#define TAIL "\"output\":\"sigmoid\",\"classes\":[\"0\",\"1\"]"
#define VALID "{" HEAD "," PRE ",\"layers\":[" L0 "," L1 "]," TAIL "}"

typedef struct bad_doc {
    const char *what;
    const char *json;
    gb_status code;
    const char *field;
} bad_doc;

static const bad_doc bad_docs[] = {
    {"malformed JSON", "{\"format\":", GB_EINPUT, ""},
    {"NaN literal", "{" HEAD ",\"layers\":[{\"weights\":[[NaN,1]]}]}", GB_EINPUT, ""},
    {"not an object", "[1,2]", GB_EUNUSABLE, ""},
    {"missing format", "{\"version\":1}", GB_EUNUSABLE, "format"},
    {"wrong format", "{\"format\":\"xgboost\",\"version\":1}", GB_EUNUSABLE, "format"},
    {"version 2", "{\"format\":\"glassbox-mlp\",\"version\":2}", GB_EUNUSABLE,
     "version"},
    {"missing version", "{\"format\":\"glassbox-mlp\"}", GB_EUNUSABLE, "version"},
    {"unknown field", "{" HEAD ",\"preprocesss\":{}}", GB_EUNUSABLE, "preprocesss"},
    {"duplicate member", "{" HEAD ",\"layers\":[" L0 "," L1 "],\"layers\":[]," TAIL "}",
     GB_EUNUSABLE, "layers"},
    {"duplicate layer member",
     "{" HEAD ",\"layers\":[" L0 ",{\"weights\":[[1,-1]],\"bias\":[0.5],\"bias\":[1],"
     "\"activation\":\"identity\"}]," TAIL "}",
     GB_EUNUSABLE, "layers[1].bias"},
    {"missing features", "{\"format\":\"glassbox-mlp\",\"version\":1," TAIL "}",
     GB_EUNUSABLE, "features"},
    {"features not an array",
     "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":\"a\"}", GB_EUNUSABLE,
     "features"},
    {"empty features", "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[]}",
     GB_EUNUSABLE, "features"},
    {"feature not a string",
     "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[\"a\",7]}", GB_EUNUSABLE,
     "features[1]"},
    {"empty feature name",
     "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[\"a\",\"\"]}",
     GB_EUNUSABLE, "features[1]"},
    {"duplicate feature",
     "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[\"a\",\"b\",\"a\"]}",
     GB_EUNUSABLE, "features"},
    {"missing output",
     "{" HEAD ",\"layers\":[" L0 "," L1 "],\"classes\":[\"0\",\"1\"]}", GB_EUNUSABLE,
     "output"},
    {"bad output", "{" HEAD ",\"layers\":[" L0 "," L1 "],\"output\":\"relu\"}",
     GB_EUNUSABLE, "output"},
    {"classes missing for sigmoid",
     "{" HEAD ",\"layers\":[" L0 "," L1 "],\"output\":\"sigmoid\"}", GB_EUNUSABLE,
     "classes"},
    {"classes with identity output",
     "{" HEAD ",\"layers\":[" L0 "," L1
     "],\"output\":\"identity\",\"classes\":[\"0\",\"1\"]}",
     GB_EUNUSABLE, "classes"},
    {"one class",
     "{" HEAD ",\"layers\":[" L0 "," L1 "],\"output\":\"softmax\",\"classes\":[\"0\"]}",
     GB_EUNUSABLE, "classes"},
    {"duplicate classes",
     "{" HEAD ",\"layers\":[" L0 "," L1
     "],\"output\":\"softmax\",\"classes\":[\"0\",\"0\"]}",
     GB_EUNUSABLE, "classes"},
    {"sigmoid with 3 classes",
     "{" HEAD ",\"layers\":[" L0 "," L1
     "],\"output\":\"sigmoid\",\"classes\":[\"0\",\"1\",\"2\"]}",
     GB_EUNUSABLE, "classes"},
    {"sigmoid with 2 output units",
     "{" HEAD ",\"layers\":[" L0 "],\"output\":\"sigmoid\",\"classes\":[\"0\",\"1\"]}",
     GB_EUNUSABLE, "layers[0].weights"},
    {"softmax units differ from classes",
     "{" HEAD ",\"layers\":[" L0 "," L1
     "],\"output\":\"softmax\",\"classes\":[\"0\",\"1\"]}",
     GB_EUNUSABLE, "layers[1].weights"},
    {"identity with 2 units", "{" HEAD ",\"layers\":[" L0 "],\"output\":\"identity\"}",
     GB_EUNUSABLE, "layers[0].weights"},
    {"missing layers", "{" HEAD "," TAIL "}", GB_EUNUSABLE, "layers"},
    {"layers not an array", "{" HEAD ",\"layers\":{}," TAIL "}", GB_EUNUSABLE,
     "layers"},
    {"empty layers", "{" HEAD ",\"layers\":[]," TAIL "}", GB_EUNUSABLE, "layers"},
    {"layer not an object", "{" HEAD ",\"layers\":[" L0 ",[]]," TAIL "}", GB_EUNUSABLE,
     "layers[1]"},
    {"unknown layer field",
     "{" HEAD ",\"layers\":[" L0 ",{\"weights\":[[1,-1]],\"bias\":[0.5],\"activation\":"
     "\"identity\",\"dropout\":0}]," TAIL "}",
     GB_EUNUSABLE, "layers[1].dropout"},
    {"missing weights",
     "{" HEAD ",\"layers\":[{\"bias\":[0],\"activation\":\"relu\"}]," TAIL "}",
     GB_EUNUSABLE, "layers[0].weights"},
    {"weights not an array",
     "{" HEAD ",\"layers\":[{\"weights\":3,\"bias\":[0],\"activation\":\"relu\"}]," TAIL
     "}",
     GB_EUNUSABLE, "layers[0].weights"},
    {"no weight rows",
     "{" HEAD ",\"layers\":[{\"weights\":[],\"bias\":[],\"activation\":\"relu\"}]," TAIL
     "}",
     GB_EUNUSABLE, "layers[0].weights"},
    {"row shorter than the inputs",
     "{" HEAD
     ",\"layers\":[{\"weights\":[[1,2],[3]],\"bias\":[0,0],\"activation\":\"relu\"}," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].weights[1]"},
    {"layer chain mismatch",
     "{" HEAD ",\"layers\":[" L0
     ",{\"weights\":[[1,-1,2]],\"bias\":[0.5],\"activation\":\"identity\"}]," TAIL "}",
     GB_EUNUSABLE, "layers[1].weights[0]"},
    {"weight row not an array",
     "{" HEAD
     ",\"layers\":[{\"weights\":[[1,2],5],\"bias\":[0,0],\"activation\":\"relu\"}," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].weights[1]"},
    {"weight not a number",
     "{" HEAD ",\"layers\":[{\"weights\":[[1,2],[\"x\",4]],\"bias\":[0,0],"
     "\"activation\":\"relu\"}," L1 "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].weights[1][0]"},
    {"infinite weight",
     "{" HEAD ",\"layers\":[{\"weights\":[[1,1e999],[3,4]],\"bias\":[0,0],"
     "\"activation\":\"relu\"}," L1 "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].weights[0][1]"},
    {"null weight",
     "{" HEAD ",\"layers\":[" L0
     ",{\"weights\":[[1,null]],\"bias\":[0.5],\"activation\":"
     "\"identity\"}]," TAIL "}",
     GB_EUNUSABLE, "layers[1].weights[0][1]"},
    {"missing bias",
     "{" HEAD ",\"layers\":[{\"weights\":[[1,2],[3,4]],\"activation\":\"relu\"}," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].bias"},
    {"bias of wrong length",
     "{" HEAD
     ",\"layers\":[{\"weights\":[[1,2],[3,4]],\"bias\":[0],\"activation\":\"relu\"}," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].bias"},
    {"non-finite bias",
     "{" HEAD ",\"layers\":[" L0
     ",{\"weights\":[[1,-1]],\"bias\":[-1e400],\"activation\":"
     "\"identity\"}]," TAIL "}",
     GB_EUNUSABLE, "layers[1].bias[0]"},
    {"missing activation",
     "{" HEAD ",\"layers\":[{\"weights\":[[1,2],[3,4]],\"bias\":[0,0]}," L1 "]," TAIL
     "}",
     GB_EUNUSABLE, "layers[0].activation"},
    {"unknown activation",
     "{" HEAD ",\"layers\":[{\"weights\":[[1,2],[3,4]],\"bias\":[0,0],\"activation\":"
     "\"softplus\"}," L1 "]," TAIL "}",
     GB_EUNUSABLE, "layers[0].activation"},
    {"preprocess not an object",
     "{" HEAD ",\"preprocess\":[1],\"layers\":[" L0 "," L1 "]," TAIL "}", GB_EUNUSABLE,
     "preprocess"},
    {"preprocess unknown field",
     "{" HEAD
     ",\"preprocess\":{\"mean\":[0,1],\"scale\":[1,2],\"var\":[1,4]},\"layers\":[" L0
     "," L1 "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.var"},
    {"preprocess mean missing",
     "{" HEAD ",\"preprocess\":{\"scale\":[1,2]},\"layers\":[" L0 "," L1 "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.mean"},
    {"preprocess scale missing",
     "{" HEAD ",\"preprocess\":{\"mean\":[0,1]},\"layers\":[" L0 "," L1 "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.scale"},
    {"preprocess mean of wrong length",
     "{" HEAD ",\"preprocess\":{\"mean\":[0],\"scale\":[1,2]},\"layers\":[" L0 "," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.mean"},
    {"preprocess zero scale",
     "{" HEAD ",\"preprocess\":{\"mean\":[0,1],\"scale\":[1,0]},\"layers\":[" L0 "," L1
     "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.scale[1]"},
    {"preprocess non-number",
     "{" HEAD ",\"preprocess\":{\"mean\":[0,true],\"scale\":[1,2]},\"layers\":[" L0
     "," L1 "]," TAIL "}",
     GB_EUNUSABLE, "preprocess.mean[1]"},
};

START_TEST(test_bad_document_is_refused)
{
    const bad_doc *c = &bad_docs[_i];
    gb_error err;
    gb_model *m = (gb_model *)&err; /* must be reset to NULL */
    gb_error_clear(&err);
    gb_status rc = gb_mlp_load(c->json, strlen(c->json), &m, &err);
    ck_assert_msg(rc == c->code, "%s: status %s, expected %s (%s)", c->what,
                  gb_status_name(rc), gb_status_name(c->code), err.message);
    ck_assert_ptr_null(m);
    ck_assert_msg(strcmp(err.field, c->field) == 0,
                  "%s: field '%s', expected '%s' (%s)", c->what, err.field, c->field,
                  err.message);
    ck_assert(err.message[0] != '\0');
}
END_TEST

START_TEST(test_valid_base_document)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load(VALID, strlen(VALID), &m, &err), GB_OK);
    /* hand computation: x=(1,5) -> x'=(1,2); h=relu(1+4, 3+8)=(5,11);
     * z = 5 - 11 + 0.5 = -5.5 */
    double x[2] = {1, 5}, p[2], z;
    ck_assert_int_eq(m->ops->predict(m, x, 1, p, &err), GB_OK);
    ck_assert_int_eq(m->ops->predict_margin(m, x, 1, &z, &err), GB_OK);
    ck_assert_double_eq_tol(z, -5.5, 1e-15);
    ck_assert_double_eq_tol(p[1], 1.0 / (1.0 + exp(5.5)), 1e-15);
    ck_assert_double_eq_tol(p[0] + p[1], 1.0, 1e-15);
    /* a missing value is imputed with the preprocess mean: x'=(0,2) */
    x[0] = NAN;
    ck_assert_int_eq(m->ops->predict_margin(m, x, 1, &z, &err), GB_OK);
    ck_assert_double_eq_tol(z, 4 - 8 + 0.5, 1e-15);
    gb_model_free(m);
}
END_TEST

START_TEST(test_missing_value_without_preprocess)
{
    const char *doc = "{" HEAD ",\"layers\":[" L0 "," L1 "]," TAIL "}";
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load(doc, strlen(doc), &m, &err), GB_OK);
    double x[4] = {1, 2, 3, NAN}, p[4];
    ck_assert_int_eq(m->ops->predict(m, x, 2, p, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "b");
    ck_assert(strstr(err.message, "row 2") != NULL);
    gb_model_free(m);
}
END_TEST

static char *big_doc(size_t n_features, size_t n_rows)
{
    size_t cap = 64 + n_features * 12 + n_rows * 3 + 256;
    char *s = malloc(cap), *at = s;
    at += sprintf(at, "{\"format\":\"glassbox-mlp\",\"version\":1,\"features\":[");
    for (size_t j = 0; j < n_features; j++)
        at += sprintf(at, "%s\"f%zu\"", j ? "," : "", j);
    at += sprintf(at, "],\"layers\":[{\"weights\":[");
    for (size_t r = 0; r < n_rows; r++)
        at += sprintf(at, "%s[]", r ? "," : "");
    sprintf(at, "],\"bias\":[],\"activation\":\"relu\"}],\"output\":\"identity\"}");
    return s;
}

START_TEST(test_too_many_units)
{
    char *doc = big_doc(2, GB_MLP_MAX_UNITS + 1);
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load(doc, strlen(doc), &m, &err), GB_ETOOLARGE);
    ck_assert_str_eq(err.field, "layers[0].weights");
    free(doc);
}
END_TEST

START_TEST(test_too_many_parameters)
{
    char *doc = big_doc(3000, GB_MLP_MAX_UNITS);
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load(doc, strlen(doc), &m, &err), GB_ETOOLARGE);
    ck_assert_str_eq(err.field, "layers[0].weights");
    ck_assert(strstr(err.message, "parameters") != NULL);
    free(doc);
}
END_TEST

START_TEST(test_too_many_layers)
{
    char doc[8192], *at = doc;
    at += sprintf(at, "{" HEAD ",\"layers\":[");
    for (int l = 0; l < GB_MLP_MAX_LAYERS + 1; l++)
        at += sprintf(at, "%s" L0, l ? "," : "");
    sprintf(at, "],\"output\":\"identity\"}");
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_load(doc, strlen(doc), &m, &err), GB_ETOOLARGE);
    ck_assert_str_eq(err.field, "layers");
}
END_TEST

START_TEST(test_load_survives_allocation_failures)
{
    size_t n = 0;
    char *text = read_text(FIX "mixed_softmax.json", &n);
    int succeeded = 0;
    for (long k = 1; k < 2000 && !succeeded; k++) {
        gb_error err;
        gb_model *m = NULL;
        gb_alloc_fail_after(k);
        gb_status rc = gb_mlp_load(text, n, &m, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            gb_model_free(m);
        } else {
            ck_assert_ptr_null(m);
        }
    }
    ck_assert(succeeded);
    free(text);
}
END_TEST

/* ---- Adam against torch.optim ------------------------------------------- */

static void adam_run(gb_adam_decay mode, const char *key)
{
    size_t n = 0;
    char *text = read_text(FIX "adam_reference.json", &n);
    gb_error err;
    cJSON *doc = gb_json_parse(text, n, &err);
    ck_assert_ptr_nonnull(doc);
    double *a, *b, *x, *expect;
    size_t na, nb, nx, ne;
    ck_assert_int_eq(
        gb_json_number_array(cJSON_GetObjectItem(doc, "a"), "a", 100, &a, &na, &err),
        GB_OK);
    ck_assert_int_eq(
        gb_json_number_array(cJSON_GetObjectItem(doc, "b"), "b", 100, &b, &nb, &err),
        GB_OK);
    ck_assert_int_eq(
        gb_json_number_array(cJSON_GetObjectItem(doc, "x0"), "x0", 100, &x, &nx, &err),
        GB_OK);
    ck_assert_int_eq(gb_json_number_array(cJSON_GetObjectItem(doc, key), key, 100,
                                          &expect, &ne, &err),
                     GB_OK);
    gb_adam_params p;
    gb_adam_params_default(&p);
    p.learning_rate = cJSON_GetObjectItem(doc, "lr")->valuedouble;
    p.weight_decay = cJSON_GetObjectItem(doc, "wd")->valuedouble;
    p.decay_mode = mode;
    int steps = cJSON_GetObjectItem(doc, "steps")->valueint;
    gb_adam *opt = gb_adam_create(nx, &p, &err);
    ck_assert_ptr_nonnull(opt);
    unsigned char mask[6] = {1, 1, 1, 0, 0, 0};
    double g[6];
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < nx; i++)
            g[i] = a[i] * x[i] + b[i];
        gb_adam_step(opt, x, g, mask);
    }
    ck_assert_uint_eq(gb_adam_steps(opt), (size_t)steps);
    for (size_t i = 0; i < nx; i++)
        ck_assert_msg(fabs(x[i] - expect[i]) < 1e-12, "%s x[%zu] = %.17g, torch %.17g",
                      key, i, x[i], expect[i]);
    gb_adam_free(opt);
    gb_free(a);
    gb_free(b);
    gb_free(x);
    gb_free(expect);
    cJSON_Delete(doc);
    free(text);
}

START_TEST(test_adam_matches_torch_l2)
{
    adam_run(GB_ADAM_DECAY_L2, "l2");
}
END_TEST

START_TEST(test_adam_matches_torch_adamw)
{
    adam_run(GB_ADAM_DECAY_DECOUPLED, "decoupled");
}
END_TEST

START_TEST(test_adam_rejects_bad_parameters)
{
    gb_adam_params p;
    gb_error err;
    gb_adam_params_default(&p);
    p.beta2 = 1.0;
    ck_assert_ptr_null(gb_adam_create(3, &p, &err));
    ck_assert_str_eq(err.field, "beta2");
    gb_adam_params_default(&p);
    p.learning_rate = -1;
    ck_assert_int_eq(gb_adam_params_check(&p, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "learning_rate");
}
END_TEST

/* ---- training ------------------------------------------------------------- */

typedef struct labelled {
    num_csv csv;
    size_t n_rows, n_features;
    double *X;  /* n_rows x n_features */
    int32_t *y; /* class index (classes are 0..K-1 in the fixtures) */
    gb_feature *features;
    char **classes;
    size_t n_classes;
} labelled;

static void labelled_read(const char *path, labelled *L)
{
    memset(L, 0, sizeof *L);
    num_csv_read(path, &L->csv);
    L->n_rows = L->csv.n_rows;
    L->n_features = L->csv.n_cols - 1;
    L->X = malloc(L->n_rows * L->n_features * sizeof *L->X);
    L->y = malloc(L->n_rows * sizeof *L->y);
    int32_t max_y = 0;
    for (size_t r = 0; r < L->n_rows; r++) {
        memcpy(L->X + r * L->n_features, L->csv.values + r * L->csv.n_cols,
               L->n_features * sizeof *L->X);
        L->y[r] = (int32_t)L->csv.values[r * L->csv.n_cols + L->n_features];
        max_y = L->y[r] > max_y ? L->y[r] : max_y;
    }
    L->features = calloc(L->n_features, sizeof *L->features);
    for (size_t j = 0; j < L->n_features; j++)
        L->features[j].name = L->csv.names[j];
    L->n_classes = (size_t)max_y + 1;
    L->classes = calloc(L->n_classes, sizeof *L->classes);
    for (size_t k = 0; k < L->n_classes; k++) {
        L->classes[k] = malloc(24);
        snprintf(L->classes[k], 24, "%zu", k);
    }
}

static void labelled_free(labelled *L)
{
    for (size_t k = 0; k < L->n_classes; k++)
        free(L->classes[k]);
    free(L->classes);
    free(L->features);
    free(L->X);
    free(L->y);
    num_csv_free(&L->csv);
}

static gb_train_set train_set_of(const labelled *L, gb_task task, uint64_t seed)
{
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = L->n_rows;
    ts.n_features = L->n_features;
    ts.X = L->X;
    ts.features = L->features;
    ts.task = task;
    ts.n_classes = L->n_classes;
    ts.classes = L->classes;
    ts.y_class = L->y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = seed;
    return ts;
}

/* Mann-Whitney AUC of score for label 1 (ties count one half). */
static double auc(const double *score, const int32_t *y, size_t n)
{
    double pairs = 0, wins = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] == 1 && y[j] == 0) {
                pairs += 1;
                wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
            }
    return wins / pairs;
}

START_TEST(test_train_digits_accuracy)
{
    labelled tr, te;
    labelled_read(DATASETS "digits_train.csv", &tr);
    labelled_read(DATASETS "digits_test.csv", &te);
    ck_assert_uint_eq(tr.n_classes, 10);
    gb_train_set ts = train_set_of(&tr, GB_TASK_MULTICLASS, 1);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.max_epochs = 60;
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_MULTICLASS);
    double *prob = malloc(te.n_rows * 10 * sizeof *prob);
    ck_assert_int_eq(m->ops->predict(m, te.X, te.n_rows, prob, &err), GB_OK);
    size_t right = 0;
    for (size_t r = 0; r < te.n_rows; r++) {
        size_t best = 0;
        for (size_t k = 1; k < 10; k++)
            best = prob[r * 10 + k] > prob[r * 10 + best] ? k : best;
        right += (int32_t)best == te.y[r];
    }
    double acc = (double)right / (double)te.n_rows;
    fprintf(stderr, "mlp digits: test accuracy %.4f after %zu epochs\n", acc,
            gb_mlp_epochs_run(m));
    ck_assert_msg(acc >= 0.95, "digits test accuracy %.4f < 0.95", acc);
    free(prob);
    gb_model_free(m);
    labelled_free(&tr);
    labelled_free(&te);
}
END_TEST

START_TEST(test_train_breast_cancer_auc)
{
    labelled tr, te;
    labelled_read(DATASETS "breast_cancer_train.csv", &tr);
    labelled_read(DATASETS "breast_cancer_test.csv", &te);
    gb_train_set ts = train_set_of(&tr, GB_TASK_BINARY, 2);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.dropout = 0.1;
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_BINARY);
    double *prob = malloc(te.n_rows * 2 * sizeof *prob);
    double *p1 = malloc(te.n_rows * sizeof *p1);
    ck_assert_int_eq(m->ops->predict(m, te.X, te.n_rows, prob, &err), GB_OK);
    for (size_t r = 0; r < te.n_rows; r++)
        p1[r] = prob[r * 2 + 1];
    double a = auc(p1, te.y, te.n_rows);
    fprintf(stderr, "mlp breast_cancer: test AUC %.4f after %zu epochs\n", a,
            gb_mlp_epochs_run(m));
    ck_assert_msg(a >= 0.98, "breast_cancer test AUC %.4f < 0.98", a);
    free(p1);
    free(prob);
    gb_model_free(m);
    labelled_free(&tr);
    labelled_free(&te);
}
END_TEST

static char *train_and_print(const gb_train_set *ts, const gb_mlp_train_params *p)
{
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_train(ts, p, NULL, &m, &err), GB_OK);
    cJSON *doc = m->ops->to_json(m);
    char *text = gb_json_print(doc, 0);
    cJSON_Delete(doc);
    gb_model_free(m);
    return text;
}

static size_t first_difference(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] != '\0' && a[i] == b[i])
        i++;
    return i;
}

START_TEST(test_train_is_deterministic_across_threads)
{
    /* Batches and widths large enough that OpenBLAS splits every GEMM over
     * both threads. */
    labelled tr;
    labelled_read(DATASETS "digits_train.csv", &tr);
    gb_train_set ts = train_set_of(&tr, GB_TASK_MULTICLASS, 7);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.max_epochs = 3;
    p.dropout = 0.2;
    p.batch_size = 256;
    p.hidden[0] = 256;
    p.hidden[1] = 128;
    openblas_set_num_threads(1);
    char *one = train_and_print(&ts, &p);
    openblas_set_num_threads(2);
    char *two = train_and_print(&ts, &p);
    char *again = train_and_print(&ts, &p);
    ck_assert_int_eq(openblas_get_num_threads(), 2); /* restored after training */
    ck_assert_msg(strcmp(one, two) == 0, "1 and 2 threads differ at byte %zu",
                  first_difference(one, two));
    ck_assert_msg(strcmp(two, again) == 0, "two runs differ at byte %zu",
                  first_difference(two, again));
    ts.seed = 8;
    char *other = train_and_print(&ts, &p);
    ck_assert(strcmp(one, other) != 0);
    gb_free(one);
    gb_free(two);
    gb_free(again);
    gb_free(other);
    labelled_free(&tr);
}
END_TEST

START_TEST(test_train_regression_and_missing_values)
{
    /* y = 3 sin(x0) + x1^2 - 100 + noise-free; x2 is half missing */
    size_t n = 600, d = 3;
    double *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double x0 = -3.0 + 6.0 * (double)((i * 37) % n) / (double)n;
        double x1 = -2.0 + 4.0 * (double)((i * 91) % n) / (double)n;
        X[i * d] = x0;
        X[i * d + 1] = x1;
        X[i * d + 2] = i % 2 ? NAN : 1000.0 + (double)(i % 7);
        y[i] = 3 * sin(x0) + x1 * x1 - 100;
    }
    char *names[3] = {"x0", "x1", "x2"};
    gb_feature f[3] = {{names[0], GB_FEAT_NUMERIC, NULL, 0},
                       {names[1], GB_FEAT_NUMERIC, NULL, 0},
                       {names[2], GB_FEAT_NUMERIC, NULL, 0}};
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = n;
    ts.n_features = d;
    ts.X = X;
    ts.features = f;
    ts.task = GB_TASK_REGRESSION;
    ts.y_value = y;
    ts.seed = 3;
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    ck_assert_int_eq(gb_mlp_train_param_set(&p, "hidden", "32,32", NULL), GB_OK);
    ck_assert_int_eq(gb_mlp_train_param_set(&p, "activation", "tanh", NULL), GB_OK);
    ck_assert_int_eq(gb_mlp_train_param_set(&p, "learning_rate", "0.01", NULL), GB_OK);
    gb_error err;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_OK);
    ck_assert_int_eq(m->task, GB_TASK_REGRESSION);
    double *pred = malloc(n * sizeof *pred);
    ck_assert_int_eq(m->ops->predict(m, X, n, pred, &err), GB_OK);
    double sse = 0, sst = 0, mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += y[i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        sse += (pred[i] - y[i]) * (pred[i] - y[i]);
        sst += (y[i] - mean) * (y[i] - mean);
    }
    double r2 = 1 - sse / sst;
    ck_assert_msg(r2 > 0.95, "regression R2 %.4f", r2);
    /* the saved document carries the training means for imputation */
    cJSON *doc = m->ops->to_json(m);
    cJSON *pre = cJSON_GetObjectItem(doc, "preprocess");
    ck_assert_ptr_nonnull(pre);
    double m2 = cJSON_GetArrayItem(cJSON_GetObjectItem(pre, "mean"), 2)->valuedouble;
    ck_assert(m2 > 1000.0 && m2 < 1007.0);
    cJSON_Delete(doc);
    free(pred);
    gb_model_free(m);
    free(X);
    free(y);
}
END_TEST

static void cancel_cb(void *ctx, const char *phase, double fraction)
{
    (void)phase;
    if (fraction > 0.05)
        atomic_store((atomic_int *)ctx, 1);
}

START_TEST(test_train_cancel_and_bad_input)
{
    labelled tr;
    labelled_read(DATASETS "breast_cancer_train.csv", &tr);
    gb_train_set ts = train_set_of(&tr, GB_TASK_BINARY, 1);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.validation_fraction = 0;
    gb_error err;
    gb_model *m = NULL;
    atomic_int cancel = 0;
    gb_progress prog = {cancel_cb, &cancel, &cancel};
    ck_assert_int_eq(gb_mlp_train(&ts, &p, &prog, &m, &err), GB_ECANCELLED);
    ck_assert_ptr_null(m);

    tr.features[3].kind = GB_FEAT_CATEGORICAL;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, tr.features[3].name);
    tr.features[3].kind = GB_FEAT_NUMERIC;

    tr.y[5] = 2;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 6);
    tr.y[5] = 0;

    ts.task = GB_TASK_REGRESSION;
    ck_assert_int_eq(gb_mlp_train(&ts, &p, NULL, &m, &err), GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    labelled_free(&tr);
}
END_TEST

START_TEST(test_train_survives_allocation_failures)
{
    labelled tr;
    labelled_read(DATASETS "breast_cancer_train.csv", &tr);
    gb_train_set ts = train_set_of(&tr, GB_TASK_BINARY, 1);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.max_epochs = 2;
    p.dropout = 0.1;
    int succeeded = 0;
    for (long k = 1; k < 500 && !succeeded; k++) {
        gb_error err;
        gb_model *m = NULL;
        gb_alloc_fail_after(k);
        gb_status rc = gb_mlp_train(&ts, &p, NULL, &m, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            gb_model_free(m);
        } else {
            ck_assert_int_eq(rc, GB_ENOMEM);
            ck_assert_ptr_null(m);
        }
    }
    ck_assert(succeeded);
    labelled_free(&tr);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_train_table_one_hot_and_missing)
{
    char csv[8192], *at = csv;
    at += sprintf(at, "x,colour,label\n");
    for (int i = 0; i < 120; i++) {
        const char *colour = i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue";
        if (i % 11 == 0)
            at += sprintf(at, ",%s,%s\n", colour, i % 3 == 0 ? "b" : "a");
        else
            at += sprintf(at, "%d,%s,%s\n", i % 17, colour,
                          (i % 3 == 0) != (i % 17 > 8) ? "b" : "a");
    }
    write_file("build/check_mlp_table.csv", csv);
    gb_error err;
    gb_table *table = NULL;
    gb_target target;
    gb_model *m = NULL;
    ck_assert_int_eq(gb_csv_read_file("build/check_mlp_table.csv", NULL, &table, &err),
                     GB_OK);
    ck_assert_int_eq(gb_target_resolve(table, "label", GB_TASK_AUTO, &target, &err),
                     GB_OK);
    gb_mlp_train_params p;
    gb_mlp_train_params_default(&p);
    p.max_epochs = 5;
    ck_assert_int_eq(gb_mlp_train_table(table, &target, &p, 4, NULL, &m, &err), GB_OK);
    ck_assert_uint_eq(m->n_features, 4);
    ck_assert_str_eq(m->features[0].name, "x");
    ck_assert_str_eq(m->features[1].name, "colour=blue");
    ck_assert_str_eq(m->features[3].name, "colour=red");
    ck_assert_str_eq(m->classes[1], "b");
    double *out = malloc(table->n_rows * 2 * sizeof *out);
    ck_assert_int_eq(gb_model_predict_table(m, table, NULL, table->n_rows, out, &err),
                     GB_OK);
    for (size_t r = 0; r < table->n_rows; r++)
        ck_assert(isfinite(out[2 * r]) &&
                  fabs(out[2 * r] + out[2 * r + 1] - 1) < 1e-12);
    free(out);
    gb_model_free(m);
    gb_target_free(&target);
    gb_table_free(table);

    /* a table with nothing but the target */
    write_file("build/check_mlp_table.csv", "label\na\nb\na\n");
    ck_assert_int_eq(gb_csv_read_file("build/check_mlp_table.csv", NULL, &table, &err),
                     GB_OK);
    ck_assert_int_eq(gb_target_resolve(table, "label", GB_TASK_AUTO, &target, &err),
                     GB_OK);
    ck_assert_int_eq(gb_mlp_train_table(table, &target, &p, 4, NULL, &m, &err),
                     GB_EUNUSABLE);
    ck_assert_ptr_null(m);
    gb_target_free(&target);
    gb_table_free(table);
    remove("build/check_mlp_table.csv");
}
END_TEST

START_TEST(test_train_param_parsing)
{
    gb_mlp_train_params p, before;
    gb_error err;
    gb_mlp_train_params_default(&p);
    ck_assert_uint_eq(p.n_hidden, 2);
    ck_assert_int_eq(gb_mlp_train_param_set(&p, "hidden", "128,32,8", &err), GB_OK);
    ck_assert_uint_eq(p.n_hidden, 3);
    ck_assert_uint_eq(p.hidden[2], 8);
    ck_assert_int_eq(gb_mlp_train_param_set(&p, "hidden", "none", &err), GB_OK);
    ck_assert_uint_eq(p.n_hidden, 0);
    before = p;
    static const char *const bad[][2] = {
        {"hidden", "64,,64"},     {"hidden", "0"},
        {"hidden", "64,x"},       {"hidden", "99999"},
        {"epochs", "0"},          {"epochs", "-3"},
        {"batch_size", "1e3"},    {"learning_rate", "0"},
        {"learning_rate", "nan"}, {"dropout", "1"},
        {"weight_decay", "-0.1"}, {"validation_fraction", "0.9"},
        {"patience", "0"},        {"activation", "softmax"},
        {"momentum", "0.9"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gb_error_clear(&err);
        ck_assert_msg(gb_mlp_train_param_set(&p, bad[i][0], bad[i][1], &err) ==
                          GB_EUNUSABLE,
                      "%s=%s accepted", bad[i][0], bad[i][1]);
        ck_assert_str_eq(err.field, bad[i][0]);
        ck_assert(memcmp(&p, &before, sizeof p) == 0);
    }
}
END_TEST

static Suite *mlp_suite(void)
{
    Suite *s = suite_create("mlp");
    TCase *tc = tcase_create("format");
    tcase_add_loop_test(tc, test_fixture_predictions_match_library, 0,
                        (int)(sizeof fixture_names / sizeof fixture_names[0]));
    tcase_add_test(tc, test_fixture_tasks);
    tcase_add_test(tc, test_blocks_equal_single_rows);
    tcase_add_loop_test(tc, test_round_trip_is_exact, 0,
                        (int)(sizeof fixture_names / sizeof fixture_names[0]));
    tcase_add_test(tc, test_missing_features_are_listed);
    tcase_add_test(tc, test_save_to_bad_path_leaves_nothing);
    tcase_add_loop_test(tc, test_bad_document_is_refused, 0,
                        (int)(sizeof bad_docs / sizeof bad_docs[0]));
    tcase_add_test(tc, test_valid_base_document);
    tcase_add_test(tc, test_missing_value_without_preprocess);
    tcase_add_test(tc, test_too_many_units);
    tcase_add_test(tc, test_too_many_parameters);
    tcase_add_test(tc, test_too_many_layers);
    tcase_add_test(tc, test_load_survives_allocation_failures);
    suite_add_tcase(s, tc);

    TCase *adam = tcase_create("adam");
    tcase_add_test(adam, test_adam_matches_torch_l2);
    tcase_add_test(adam, test_adam_matches_torch_adamw);
    tcase_add_test(adam, test_adam_rejects_bad_parameters);
    suite_add_tcase(s, adam);

    TCase *train = tcase_create("train");
    tcase_set_timeout(train, 60);
    tcase_add_test(train, test_train_digits_accuracy);
    tcase_add_test(train, test_train_breast_cancer_auc);
    tcase_add_test(train, test_train_is_deterministic_across_threads);
    tcase_add_test(train, test_train_regression_and_missing_values);
    tcase_add_test(train, test_train_cancel_and_bad_input);
    tcase_add_test(train, test_train_survives_allocation_failures);
    tcase_add_test(train, test_train_table_one_hot_and_missing);
    tcase_add_test(train, test_train_param_parsing);
    suite_add_tcase(s, train);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mlp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
