/*
 * cli_explain.c - `glassbox explain --model MODEL --data F.csv [--out S.csv]`:
 * local attributions of every data row for any teacher file or student
 * artifact.
 * Layer: server.
 *
 * Method: exact when the model has an attribute operation (TreeSHAP for tree
 * students, XGBoost teachers with covers and LightGBM teachers with counts;
 * w_j (x_j - mean_j) for linear students), else sampling Shapley values
 * (explain/shapley.h) against a seeded background sample of the data rows,
 * with --permutations, --background and --seed.
 *
 * Output: CSV with one column per model feature (the model's own feature
 * names, in order) and `bias`, one row per data row, %.17g.  Values are in
 * the model's margin space (logit for binary, class margins for multiclass,
 * the value for regression); a sampled model without margins is explained in
 * its predicted probabilities.  Binary: class 1 (classes[1]); --class
 * classes[0] negates the logit attributions.  Multiclass: the last class
 * unless --class names another.  Each row sums to the row's margin (exact)
 * or, sampled, to about that margin: the feature columns sum to
 * f(x) - bias within the standard error written by --se.
 *
 * --se E.csv writes the sampled standard errors in the same shape (the bias
 * column holds the standard error of the row's sum); exact attributions
 * have none, so every entry is 0.  Files are written through a temporary
 * file and a rename: whole or untouched.  A line on stderr says which
 * method ran.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/model/model.h"
#include "core/model/teachers/load.h"
#include "core/sha256.h"
#include "explain/attribute.h"
#include "explain/shapley.h"
#include "server/cli.h"

#define EXPLAIN_DEFAULT_PERMUTATIONS 64
#define EXPLAIN_DEFAULT_BACKGROUND 100

static void explain_usage(FILE *out)
{
    fprintf(out,
            "usage: glassbox explain --model MODEL --data F.csv [--out S.csv]\n"
            "         [--class C] [--permutations N] [--background N] [--seed S]\n"
            "         [--threads N] [--se E.csv]\n"
            "  MODEL: a teacher file (glassbox-mlp JSON, XGBoost JSON/UBJSON, "
            "LightGBM\n"
            "         text) or a glassbox student artifact\n"
            "  writes one column per feature plus `bias` per data row, in the "
            "model's\n"
            "  margin space: exact when the model has exact attributions, else\n"
            "  sampling Shapley values (permutations 2..10000, default %d; "
            "background\n"
            "  1..100000 data rows, default %d; seed default 0).  --class: binary\n"
            "  default the second class, multiclass default the last class.\n",
            EXPLAIN_DEFAULT_PERMUTATIONS, EXPLAIN_DEFAULT_BACKGROUND);
}

/* A decimal integer in [lo, hi]; 0 when s is not one. */
static int parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Writes s as a CSV field, quoted when it holds a comma, quote or newline. */
static void write_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* The CSV text (no final newline) of column `col` of the n_rows blocks of
 * vals (n_rows x width x (n_features + 1)), scaled by sign.  Caller frees
 * with free(); NULL when out of memory. */
static char *attributions_csv(const gb_model *m, const double *vals, size_t n_rows,
                              size_t width, size_t col, double sign)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    size_t nf = m->n_features, stride = nf + 1;
    for (size_t j = 0; j < nf; j++) {
        write_field(f, m->features[j].name);
        fputc(',', f);
    }
    fputs("bias", f);
    for (size_t i = 0; i < n_rows; i++) {
        const double *b = vals + (i * width + col) * stride;
        fputc('\n', f);
        for (size_t j = 0; j < stride; j++) {
            double v = sign * b[j];
            fprintf(f, j > 0 ? ",%.17g" : "%.17g", v == 0 ? 0.0 : v);
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

/* Writes the CSV to path, or to stdout when path is NULL. */
static gb_status emit(const char *path, const char *text, gb_error *err)
{
    if (path != NULL)
        return cli_write_file(path, text, err);
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return gb_error_set(err, GB_EIO, "error writing to stdout");
    return GB_OK;
}

/* The column of the attribution blocks (width wide) that explains class_name
 * (NULL = the default), and the sign to apply.  GB_EINPUT naming "class" for
 * an unknown class or a class given to a regression model. */
static gb_status choose_column(const gb_model *m, size_t width, const char *class_name,
                               size_t *col, double *sign, gb_error *err)
{
    *col = 0;
    *sign = 1.0;
    if (m->task == GB_TASK_REGRESSION) {
        if (class_name != NULL) {
            gb_error_set(err, GB_EINPUT, "--class is for classification models");
            gb_error_field(err, "class");
            return GB_EINPUT;
        }
        return GB_OK;
    }
    size_t k = m->n_classes - 1;
    if (class_name != NULL) {
        for (k = 0; k < m->n_classes; k++)
            if (strcmp(m->classes[k], class_name) == 0)
                break;
        if (k == m->n_classes) {
            gb_error_set(err, GB_EINPUT, "--class '%s' is not a class of the model",
                         class_name);
            gb_error_field(err, "class");
            return GB_EINPUT;
        }
    }
    if (width == m->n_outputs) { /* probabilities, or multiclass margins */
        *col = k;
    } else if (k == 0) { /* binary logit of class 1: class 0 is its negation */
        *sign = -1.0;
    }
    return GB_OK;
}

int cli_explain(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL;
    const char *se_path = NULL, *class_name = NULL;
    uint64_t n_perm = EXPLAIN_DEFAULT_PERMUTATIONS, n_bg = EXPLAIN_DEFAULT_BACKGROUND;
    uint64_t seed = 0, threads = 1;
    gb_error err;
    gb_model *model = NULL;
    gb_table *table = NULL;
    gb_design *design = NULL;
    double *X = NULL, *phi = NULL, *se = NULL, *bg = NULL;
    size_t *bg_rows = NULL;
    char *text = NULL, *se_text = NULL;
    char hex[GB_SHA256_HEX_BYTES];
    int code = 0;

    gb_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            explain_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "glassbox explain: %s needs a value\n", a);
            explain_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (strcmp(a, "--model") == 0)
            model_path = v;
        else if (strcmp(a, "--data") == 0)
            data_path = v;
        else if (strcmp(a, "--out") == 0)
            out_path = v;
        else if (strcmp(a, "--se") == 0)
            se_path = v;
        else if (strcmp(a, "--class") == 0)
            class_name = v;
        else if (strcmp(a, "--permutations") == 0)
            ok = parse_count(v, 2, 10000, &n_perm);
        else if (strcmp(a, "--background") == 0)
            ok = parse_count(v, 1, 100000, &n_bg);
        else if (strcmp(a, "--seed") == 0)
            ok = parse_count(v, 0, UINT64_MAX, &seed);
        else if (strcmp(a, "--threads") == 0)
            ok = parse_count(v, 1, 256, &threads);
        else {
            fprintf(stderr, "glassbox explain: unknown option '%s'\n", a);
            explain_usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "glassbox explain: %s '%s' is out of range (see --help)\n",
                    a, v);
            return 2;
        }
    }
    if (model_path == NULL || data_path == NULL) {
        fprintf(stderr, "glassbox explain: --model and --data are required\n");
        explain_usage(stderr);
        return 2;
    }

    /* The data first: formats without level names take them from it. */
    gb_status rc = cli_read_csv(data_path, &table, hex, &err);
    if (rc == GB_OK) {
        gb_teacher_options opts = {table};
        rc = gb_teacher_load_file_opts(model_path, &opts, &model, &err);
    }
    if (rc == GB_OK)
        rc = gb_model_check_features(model, table, &err);
    if (rc == GB_OK && (design = gb_design_bind(model->features, model->n_features,
                                                table, &err)) == NULL)
        rc = err.code != GB_OK ? err.code : GB_ENOMEM;
    if (rc == GB_OK && table->n_rows == 0)
        rc = gb_error_set(&err, GB_EINPUT, "'%s' has no data rows", data_path);
    int exact = rc == GB_OK && ex_exact_available(model);
    size_t n = rc == GB_OK ? table->n_rows : 0, nf = 0, width = 0, col = 0;
    double sign = 1.0;
    if (rc == GB_OK) {
        nf = model->n_features;
        width = exact ? model->n_margins : ex_output_width(model);
        rc = choose_column(model, width, class_name, &col, &sign, &err);
    }
    if (rc == GB_OK) {
        X = gb_malloc_array(n, (nf ? nf : 1) * sizeof *X);
        phi = gb_malloc_array(n, width * (nf + 1) * sizeof *phi);
        se = gb_calloc(n * width * (nf + 1), sizeof *se);
        if (X == NULL || phi == NULL || se == NULL)
            rc = gb_error_set(&err, GB_ENOMEM, "out of memory explaining %zu rows", n);
    }
    if (rc == GB_OK) {
        gb_design_fill(design, NULL, 0, n, X);
        if (exact) {
            rc = ex_exact_attribute(model, X, n, (unsigned)threads, phi, &err);
            if (rc == GB_OK)
                fprintf(stderr, "glassbox explain: exact attributions (%s model)\n",
                        model->ops->kind);
        } else {
            size_t nb = n_bg < n ? (size_t)n_bg : n;
            bg_rows = gb_malloc_array(nb, sizeof *bg_rows);
            bg = gb_malloc_array(nb, (nf ? nf : 1) * sizeof *bg);
            if (bg_rows == NULL || bg == NULL ||
                ex_sample_indices(n, nb, seed, bg_rows) != nb) {
                rc =
                    gb_error_set(&err, GB_ENOMEM, "out of memory drawing %zu rows", nb);
            } else {
                for (size_t i = 0; i < nb; i++)
                    memcpy(bg + i * nf, X + bg_rows[i] * nf, nf * sizeof *bg);
                ex_shapley_params sp = {(size_t)n_perm, seed ^ 0x5348415050ull,
                                        (unsigned)threads};
                rc = ex_shapley(model, X, n, bg, nb, &sp, phi, se, &err);
                if (rc == GB_OK)
                    fprintf(stderr,
                            "glassbox explain: sampled Shapley values (%s model, "
                            "%s, %zu permutations, %zu background rows, seed "
                            "%llu)\n",
                            model->ops->kind,
                            width == model->n_margins && model->ops->predict_margin
                                ? "margins"
                                : "probabilities",
                            (size_t)n_perm, nb, (unsigned long long)seed);
            }
        }
    }
    if (rc == GB_OK) {
        text = attributions_csv(model, phi, n, width, col, sign);
        se_text =
            se_path != NULL ? attributions_csv(model, se, n, width, col, 1.0) : NULL;
        if (text == NULL || (se_path != NULL && se_text == NULL))
            rc = gb_error_set(&err, GB_ENOMEM, "out of memory writing %zu rows", n);
    }
    if (rc == GB_OK && se_path != NULL)
        rc = cli_write_file(se_path, se_text, &err);
    if (rc == GB_OK)
        rc = emit(out_path, text, &err);
    if (rc != GB_OK) {
        cli_print_error("explain", &err);
        code = cli_exit_code(rc);
    }
    free(se_text);
    free(text);
    gb_free(bg);
    gb_free(bg_rows);
    gb_free(se);
    gb_free(phi);
    gb_free(X);
    gb_design_free(design);
    gb_table_free(table);
    gb_model_free(model);
    return code;
}
