/*
 * bench_mlp.c - glassbox MLP scoring throughput.  Usage:
 *   bench_mlp MODEL.json N_ROWS CHUNK THREADS PRED_OUT.csv
 * Loads a glassbox-mlp model, scores N_ROWS generated rows
 * (x[i][j] = sin(0.001 * i + 0.37 * j) * 3) in chunks of CHUNK rows, and
 * prints rows/s for two ways of using two cores: our pool over row blocks
 * with OpenBLAS on one thread (the service's configuration), and OpenBLAS's
 * own threads on whole blocks.  Writes the first 1000 probabilities of class
 * 1 to PRED_OUT.csv for the agreement check.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench_util.h"
#include "core/base.h"
#include "core/model/teachers/mlp.h"
#include "core/parallel.h"

#define TASK_ROWS 2048

typedef struct job {
    const gb_model *m;
    const double *X;
    double *out;
    size_t n_rows;
    int failed;
} job;

static void score_task_cb(void *ctx, size_t task)
{
    job *j = ctx;
    size_t start = task * TASK_ROWS;
    size_t n = j->n_rows - start < TASK_ROWS ? j->n_rows - start : TASK_ROWS;
    gb_error err;
    if (j->m->ops->predict(j->m, j->X + start * j->m->n_features, n,
                           j->out + start * j->m->n_outputs, &err) != GB_OK)
        j->failed = 1;
}

static void fill_rows(double *X, size_t row0, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = sin(0.001 * (double)(row0 + i) + 0.37 * (double)j) * 3.0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr,
                "usage: bench_mlp MODEL.json N_ROWS CHUNK THREADS PRED_OUT.csv\n");
        return 2;
    }
    size_t n_rows = strtoul(argv[2], NULL, 10), chunk = strtoul(argv[3], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[4], NULL, 10);
    gb_error err;
    gb_model *m = NULL;
    if (gb_mlp_load_file(argv[1], &m, &err) != GB_OK) {
        fprintf(stderr, "bench_mlp: %s\n", err.message);
        return 1;
    }
    size_t d = m->n_features;
    double *X = malloc(chunk * d * sizeof *X),
           *out = malloc(chunk * m->n_outputs * sizeof *out);
    if (X == NULL || out == NULL)
        return 1;
    fill_rows(X, 0, chunk, d);

    /* the same chunk of rows is scored n_rows / chunk times (data generation
     * stays outside the timing) */
    size_t reps = (n_rows + chunk - 1) / chunk;
    job j = {m, X, out, chunk, 0};
    openblas_set_num_threads(1);
    double t0 = bench_now();
    for (size_t r = 0; r < reps; r++)
        gb_parallel_for((chunk + TASK_ROWS - 1) / TASK_ROWS, threads, score_task_cb,
                        &j);
    double pool_s = bench_now() - t0;

    openblas_set_num_threads((int)threads);
    t0 = bench_now();
    for (size_t r = 0; r < reps; r++)
        if (m->ops->predict(m, X, chunk, out, &err) != GB_OK)
            j.failed = 1;
    double blas_s = bench_now() - t0;
    if (j.failed) {
        fprintf(stderr, "bench_mlp: scoring failed\n");
        return 1;
    }
    FILE *f = fopen(argv[5], "w");
    for (size_t i = 0; i < 1000 && i < chunk; i++)
        fprintf(f, "%.17g\n", out[i * m->n_outputs + m->n_outputs - 1]);
    fclose(f);
    printf("glassbox_pool_rows_per_s %.0f\n", (double)(reps * chunk) / pool_s);
    printf("glassbox_blas_threads_rows_per_s %.0f\n", (double)(reps * chunk) / blas_s);
    printf("openblas_core %s\n", openblas_get_corename());
    free(X);
    free(out);
    gb_model_free(m);
    return 0;
}
