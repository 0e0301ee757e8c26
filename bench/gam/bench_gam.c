/*
 * bench_gam.c - fit time and test AUC of the GAM student.  Usage:
 *   bench_gam TRAIN.csv TEST.csv THREADS [key=value ...]
 * Reads both files (target column "target", every other column a feature),
 * fits a binary GAM with the given parameters and prints
 *   glassbox_fit_s (wall), glassbox_cpu_s (all threads), glassbox_auc,
 *   glassbox_rounds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/base.h"
#include "core/data/csv.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/math/metrics.h"
#include "core/model/students/gam.h"
#include "core/model/students/student.h"

typedef struct split {
    gb_table *table;
    gb_target target;
    double *X;
} split;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load(const char *path, const gb_feature *features, size_t n_features,
                split *out)
{
    gb_error err;
    if (gb_csv_read_file(path, NULL, &out->table, &err) != GB_OK ||
        gb_target_resolve(out->table, "target", GB_TASK_BINARY, &out->target, &err) !=
            GB_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 0;
    }
    gb_design *d = gb_design_bind(features, n_features, out->table, &err);
    out->X = malloc(out->table->n_rows * n_features * sizeof *out->X);
    if (d == NULL || out->X == NULL)
        return 0;
    gb_design_fill(d, NULL, 0, out->table->n_rows, out->X);
    gb_design_free(d);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr,
                "usage: bench_gam TRAIN.csv TEST.csv THREADS [key=value ...]\n");
        return 2;
    }
    gb_feature features[10];
    char names[10][8];
    for (int j = 0; j < 10; j++) {
        snprintf(names[j], sizeof names[j], "x%d", j);
        features[j] = (gb_feature){names[j], GB_FEAT_NUMERIC, NULL, 0};
    }
    split tr, te;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    if (!load(argv[1], features, 10, &tr) || !load(argv[2], features, 10, &te))
        return 1;
    gb_param params[16];
    size_t n_params = 0;
    for (int i = 4; i < argc && n_params < 16; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return 2;
        *eq = '\0';
        params[n_params++] = (gb_param){argv[i], eq + 1};
    }
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = tr.table->n_rows;
    ts.n_features = 10;
    ts.X = tr.X;
    ts.features = features;
    ts.task = GB_TASK_BINARY;
    ts.n_classes = 2;
    ts.classes = tr.target.classes;
    ts.y_class = tr.target.y_class;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = 1;
    ts.n_threads = (unsigned)atoi(argv[3]);
    gb_model *m = NULL;
    gb_error err;
    double t0 = now();
    clock_t c0 = clock();
    if (gb_student_fit("gam", params, n_params, &ts, NULL, &m, &err) != GB_OK) {
        fprintf(stderr, "fit: %s\n", err.message);
        return 1;
    }
    double fit_s = now() - t0;
    double cpu_s = (double)(clock() - c0) / CLOCKS_PER_SEC;
    size_t n_test = te.table->n_rows;
    double *proba = malloc(n_test * 2 * sizeof *proba), auc = 0.0;
    if (proba == NULL || m->ops->predict(m, te.X, n_test, proba, &err) != GB_OK ||
        gb_metric_auc(te.target.y_class, proba, n_test, 2, &auc, &err) != GB_OK)
        return 1;
    size_t terms, rounds;
    gb_gam_complexity(m, &terms, &rounds);
    printf(
        "glassbox_fit_s %.3f\nglassbox_cpu_s %.3f\nglassbox_auc %.5f\nglassbox_rounds "
        "%zu\n",
        fit_s, cpu_s, auc, rounds);
    free(proba);
    gb_model_free(m);
    free(tr.X);
    free(te.X);
    gb_target_free(&tr.target);
    gb_target_free(&te.target);
    gb_table_free(tr.table);
    gb_table_free(te.table);
    return 0;
}
