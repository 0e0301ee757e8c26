/*
 * bench_sbdt.c - one training epoch of the soft binary decision tree student
 * on generated rows: x[i][j] = 3 sin(0.001 i + 0.37 j), label i mod 10.
 * Usage: bench_sbdt ROWS FEATURES DEPTH BATCH EPOCHS.  Prints
 * glassbox_rows_per_s (rows x epochs / wall seconds of gb_student_fit).
 * OpenBLAS runs on one thread, as in the service.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/model/students/student.h"

void openblas_set_num_threads(int n);

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_sbdt ROWS FEATURES DEPTH BATCH EPOCHS\n");
        return 2;
    }
    size_t n = (size_t)atol(argv[1]), p = (size_t)atol(argv[2]);
    openblas_set_num_threads(1);
    double *X = malloc(n * p * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    gb_feature *features = calloc(p, sizeof *features);
    char *classes[10], names[10][12];
    if (X == NULL || y == NULL || features == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            X[i * p + j] = 3.0 * sin(0.001 * (double)i + 0.37 * (double)j);
        y[i] = (int32_t)(i % 10);
    }
    for (size_t j = 0; j < p; j++) {
        char *name = malloc(16);
        snprintf(name, 16, "x%zu", j);
        features[j].name = name;
        features[j].kind = GB_FEAT_NUMERIC;
    }
    for (int k = 0; k < 10; k++) {
        snprintf(names[k], sizeof names[k], "%d", k);
        classes[k] = names[k];
    }
    gb_train_set ts = {0};
    ts.n_rows = n;
    ts.n_features = p;
    ts.X = X;
    ts.features = features;
    ts.task = GB_TASK_MULTICLASS;
    ts.n_classes = 10;
    ts.classes = classes;
    ts.y_class = y;
    ts.temperature = 1.0;
    ts.alpha = 1.0;
    ts.seed = 1;
    ts.n_threads = 1;
    gb_param params[3] = {{"max_depth", argv[3]}, {"batch_size", argv[4]},
                          {"epochs", argv[5]}};
    gb_model *m = NULL;
    gb_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gb_status rc = gb_student_fit("sbdt", params, 3, &ts, NULL, &m, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != GB_OK) {
        fprintf(stderr, "fit: %s\n", err.message);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("glassbox_rows_per_s %.0f\n", (double)n * atof(argv[5]) / secs);
    printf("glassbox_seconds %.3f\n", secs);
    gb_model_free(m);
    for (size_t j = 0; j < p; j++)
        free(features[j].name);
    free(features);
    free(X);
    free(y);
    return 0;
}
