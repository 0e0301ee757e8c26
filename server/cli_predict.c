/*
 * cli_predict.c - `glassbox predict --model MODEL --data F.csv [--out P.csv]`:
 * scores any teacher file or student artifact on a CSV.
 * Layer: server.
 *
 * Output: CSV with one column per class, `p_<class>`, or `prediction` for
 * regression; one row per data row; numbers printed with %.17g.  Without
 * --out the CSV goes to stdout; with --out it is written to a temporary file
 * next to the target and renamed into place, so a failed run leaves nothing
 * half-written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/model/model.h"
#include "core/model/teachers/load.h"
#include "server/cli.h"

static void predict_usage(FILE *out)
{
    fprintf(
        out,
        "usage: glassbox predict --model MODEL --data F.csv [--out P.csv]\n"
        "  MODEL: a teacher file (glassbox-mlp JSON, XGBoost JSON/UBJSON, LightGBM\n"
        "         text) or a glassbox student artifact\n"
        "  writes one column per class (p_<class>) or `prediction` for regression\n");
}

/* Writes s as a CSV field, quoted when it holds a comma, quote or newline. */
static void write_field(FILE *f, const char *prefix, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL && strpbrk(prefix, ",\"\r\n") == NULL) {
        fprintf(f, "%s%s", prefix, s);
        return;
    }
    fputc('"', f);
    for (const char *p = prefix; *p; p++)
        fputc(*p, f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static int write_predictions(FILE *f, const gb_model *m, const double *pred,
                             size_t n_rows)
{
    size_t K = m->n_outputs;
    if (m->task == GB_TASK_REGRESSION)
        fputs("prediction", f);
    else
        for (size_t k = 0; k < K; k++) {
            if (k > 0)
                fputc(',', f);
            write_field(f, "p_", m->classes[k]);
        }
    fputc('\n', f);
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t k = 0; k < K; k++)
            fprintf(f, k > 0 ? ",%.17g" : "%.17g", pred[i * K + k]);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

int cli_predict(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL;
    gb_error err;
    gb_model *model = NULL;
    gb_table *table = NULL;
    double *pred = NULL;
    char *tmp_path = NULL;
    FILE *f = NULL;
    int code = 0;

    gb_error_clear(&err);
    const cli_option options[] = {
        {"--model", &model_path}, {"--data", &data_path}, {"--out", &out_path}};
    int parsed = cli_parse_options("predict", argc, argv, 1, options,
                                   sizeof options / sizeof options[0], predict_usage);
    if (parsed >= 0)
        return parsed;
    if (model_path == NULL || data_path == NULL) {
        fprintf(stderr, "glassbox predict: --model and --data are required\n");
        predict_usage(stderr);
        return 2;
    }

    /* The data first: formats without level names take them from it. */
    gb_status rc = gb_csv_read_file(data_path, NULL, &table, &err);
    if (rc == GB_OK) {
        gb_teacher_options opts = {table};
        rc = gb_teacher_load_file_opts(model_path, &opts, &model, &err);
    }
    if (rc == GB_OK)
        rc = gb_model_check_features(model, table, &err);
    if (rc == GB_OK) {
        pred = gb_malloc_array(table->n_rows ? table->n_rows : 1,
                               model->n_outputs * sizeof *pred);
        if (pred == NULL)
            rc = gb_error_set(&err, GB_ENOMEM, "out of memory for %zu predictions",
                              table->n_rows);
    }
    if (rc == GB_OK)
        rc = gb_model_predict_table(model, table, NULL, table->n_rows, pred, &err);
    if (rc != GB_OK) {
        cli_print_error("predict", &err);
        code = cli_exit_code(rc);
        goto out;
    }

    if (out_path == NULL) {
        if (write_predictions(stdout, model, pred, table->n_rows) != 0 ||
            fflush(stdout) != 0) {
            fprintf(stderr, "glassbox predict: error writing to stdout\n");
            code = 1;
        }
        goto out;
    }
    size_t len = strlen(out_path) + 16;
    tmp_path = gb_malloc(len);
    if (tmp_path == NULL) {
        fprintf(stderr, "glassbox predict: out of memory\n");
        code = 1;
        goto out;
    }
    snprintf(tmp_path, len, "%s.tmp", out_path);
    f = fopen(tmp_path, "wb");
    if (f == NULL) {
        fprintf(stderr, "glassbox predict: cannot write '%s'\n", out_path);
        code = 2;
        goto out;
    }
    int bad = write_predictions(f, model, pred, table->n_rows);
    if (fclose(f) != 0)
        bad = -1;
    f = NULL;
    if (bad != 0 || rename(tmp_path, out_path) != 0) {
        remove(tmp_path);
        fprintf(stderr, "glassbox predict: error writing '%s'\n", out_path);
        code = 1;
    }
out:
    gb_free(tmp_path);
    gb_free(pred);
    gb_table_free(table);
    gb_model_free(model);
    return code;
}
