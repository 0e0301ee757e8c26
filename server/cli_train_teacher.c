/*
 * cli_train_teacher.c - `glassbox train-teacher`: trains an in-service MLP
 * teacher on a CSV and writes it as glassbox-mlp v1 JSON.
 * Layer: server.
 *
 *   glassbox train-teacher --data F.csv --target COL --kind mlp
 *       [--hidden 64,64] [--epochs N] [--seed S] [--task T]
 *       [--activation relu|tanh|sigmoid|identity] [--dropout P]
 *       [--weight-decay W] [--batch-size B] [--learning-rate LR]
 *       [--patience N] [--validation-fraction F] --out TEACHER.json
 *
 * Every column but the target is a feature; categorical columns are one-hot
 * encoded ("col=level" features).  Missing values are imputed with the
 * training mean (the saved preprocess mean).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/model/teachers/mlp.h"
#include "server/cli.h"

static void train_teacher_usage(FILE *out)
{
    fprintf(out,
            "usage: glassbox train-teacher --data F.csv --target COL --kind mlp\n"
            "           [--hidden 64,64] [--epochs N] [--seed S]\n"
            "           [--task binary|multiclass|regression]\n"
            "           [--activation relu|tanh|sigmoid|identity] [--dropout P]\n"
            "           [--weight-decay W] [--batch-size B] [--learning-rate LR]\n"
            "           [--patience N] [--validation-fraction F] --out TEACHER.json\n"
            "Trains an MLP teacher (Adam, mini-batches, early stopping on a seeded\n"
            "inner validation split) and writes it as glassbox-mlp v1 JSON.\n");
}

/* Command-line option -> training parameter key. */
static const char *const param_options[][2] = {
    {"--hidden", "hidden"},
    {"--epochs", "epochs"},
    {"--activation", "activation"},
    {"--dropout", "dropout"},
    {"--weight-decay", "weight_decay"},
    {"--batch-size", "batch_size"},
    {"--learning-rate", "learning_rate"},
    {"--patience", "patience"},
    {"--validation-fraction", "validation_fraction"},
};
#define N_PARAM_OPTIONS (sizeof param_options / sizeof param_options[0])

static int parse_seed(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

int cli_train_teacher(int argc, char **argv)
{
    const char *data = NULL, *target_name = NULL, *task_name = NULL, *kind = NULL,
               *out_path = NULL, *seed_text = NULL;
    gb_mlp_train_params params;
    gb_error err;
    gb_error_clear(&err);
    gb_mlp_train_params_default(&params);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            train_teacher_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "glassbox train-teacher: %s needs a value\n", a);
            return 2;
        }
        const char *value = argv[++i];
        const char **slot = strcmp(a, "--data") == 0     ? &data
                            : strcmp(a, "--target") == 0 ? &target_name
                            : strcmp(a, "--task") == 0   ? &task_name
                            : strcmp(a, "--kind") == 0   ? &kind
                            : strcmp(a, "--out") == 0    ? &out_path
                            : strcmp(a, "--seed") == 0   ? &seed_text
                                                         : NULL;
        if (slot != NULL) {
            *slot = value;
            continue;
        }
        size_t k = 0;
        while (k < N_PARAM_OPTIONS && strcmp(a, param_options[k][0]) != 0)
            k++;
        if (k == N_PARAM_OPTIONS) {
            fprintf(stderr, "glassbox train-teacher: unknown option '%s'\n", a);
            train_teacher_usage(stderr);
            return 2;
        }
        if (gb_mlp_train_param_set(&params, param_options[k][1], value, &err) !=
            GB_OK) {
            fprintf(stderr, "glassbox train-teacher: %s %s: %s\n", a, value,
                    err.message);
            return 2;
        }
    }
    if (data == NULL || target_name == NULL || kind == NULL || out_path == NULL) {
        fprintf(stderr, "glassbox train-teacher: --data, --target, --kind and --out "
                        "are required\n");
        train_teacher_usage(stderr);
        return 2;
    }
    if (strcmp(kind, "mlp") != 0) {
        fprintf(stderr,
                "glassbox train-teacher: unknown --kind '%s' (supported: mlp)\n", kind);
        return 2;
    }
    uint64_t seed = 0;
    if (seed_text != NULL && !parse_seed(seed_text, &seed)) {
        fprintf(stderr,
                "glassbox train-teacher: --seed '%s' must be a non-negative integer\n",
                seed_text);
        return 2;
    }
    gb_task task = GB_TASK_AUTO;
    if (task_name != NULL && gb_task_parse(task_name, &task, &err) != GB_OK) {
        cli_print_error("train-teacher", &err);
        return 2;
    }

    gb_table *table = NULL;
    gb_target target;
    gb_model *model = NULL;
    memset(&target, 0, sizeof target);
    gb_status rc = gb_csv_read_file(data, NULL, &table, &err);
    if (rc == GB_OK)
        rc = gb_target_resolve(table, target_name, task, &target, &err);
    if (rc == GB_OK)
        rc = gb_mlp_train_table(table, &target, &params, seed, NULL, &model, &err);
    if (rc == GB_OK)
        rc = gb_mlp_save(model, out_path, &err);
    if (rc == GB_OK)
        fprintf(stderr,
                "glassbox train-teacher: %s MLP on %zu rows x %zu features, %zu epochs "
                "-> %s\n",
                gb_task_name(model->task), table->n_rows, model->n_features,
                gb_mlp_epochs_run(model), out_path);
    else
        cli_print_error("train-teacher", &err);
    gb_model_free(model);
    gb_target_free(&target);
    gb_table_free(table);
    return cli_exit_code(rc);
}
