/*
 * bench_xgboost.c - rows/s of glassbox scoring an XGBoost model on a block of
 * rows, with the caller's parallelism (2 threads over row blocks, as a run
 * uses gb_parallel_for), best of 3; checks the first rows against xgboost.
 * Usage: bench_xgboost MODEL ROWS.f64 N_FEATURES REF.f64
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench_util.h"
#include "core/base.h"
#include "core/model/model.h"
#include "core/model/teachers/xgboost.h"
#include "core/parallel.h"

#define BLOCK 8192

typedef struct job {
    const gb_model *m;
    const double *X;
    size_t n_rows;
    double *out;
    int failed;
} job;

static void block_cb(void *ctx, size_t task)
{
    job *j = ctx;
    size_t r0 = task * BLOCK;
    size_t n = j->n_rows - r0 < BLOCK ? j->n_rows - r0 : BLOCK;
    gb_error err;
    if (j->m->ops->predict(j->m, j->X + r0 * j->m->n_features, n,
                           j->out + r0 * j->m->n_outputs, &err) != GB_OK)
        j->failed = 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_xgboost MODEL ROWS.f64 N_FEATURES REF.f64\n");
        return 2;
    }
    size_t n_model = 0, n_bytes = 0, n_ref = 0;
    char *model_bytes = bench_slurp(argv[1], &n_model);
    double *X = bench_slurp(argv[2], &n_bytes);
    double *ref = bench_slurp(argv[4], &n_ref);
    if (model_bytes == NULL || X == NULL || ref == NULL) {
        fprintf(stderr, "bench_xgboost: cannot read inputs\n");
        return 1;
    }
    size_t nf = (size_t)atol(argv[3]);
    size_t n_rows = n_bytes / sizeof(double) / nf;
    gb_model *m = NULL;
    gb_error err;
    double t0 = bench_now();
    if (gb_xgboost_load(model_bytes, n_model, &m, &err) != GB_OK) {
        fprintf(stderr, "bench_xgboost: %s\n", err.message);
        return 1;
    }
    double t_load = bench_now() - t0;
    double *out = malloc(n_rows * m->n_outputs * sizeof *out);
    job j = {m, X, n_rows, out, 0};
    double best = 1e30, best_cpu = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = bench_now();
        clock_t c0 = clock();
        gb_parallel_for((n_rows + BLOCK - 1) / BLOCK, 2, block_cb, &j);
        double dt = bench_now() - t0;
        double dc = (double)(clock() - c0) / CLOCKS_PER_SEC;
        if (dt < best) {
            best = dt;
            best_cpu = dc;
        }
    }
    double worst = 0;
    for (size_t r = 0; r < n_ref / sizeof(double); r++) {
        double d = fabs(out[2 * r + 1] - ref[r]);
        worst = d > worst ? d : worst;
    }
    printf("glassbox_load_s %.4f\n", t_load);
    printf("glassbox_predict_s %.4f wall %.4f cpu\n", best, best_cpu);
    printf("glassbox_max_abs_diff_vs_xgboost %.3g\n", worst);
    printf("glassbox_rows_per_s %.0f\n", (double)n_rows / best);
    printf("glassbox_rows_per_cpu_s %.0f\n", (double)n_rows / best_cpu);
    int bad = j.failed || worst > 1e-6;
    free(out);
    free(X);
    free(ref);
    free(model_bytes);
    gb_model_free(m);
    return bad ? 1 : 0;
}
