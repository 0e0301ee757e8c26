/*
 * bench_explain.c - times exact TreeSHAP on an XGBoost model and sampling
 * Shapley values per permutation.
 *
 * usage: bench_explain MODEL.json X.f64 N_ROWS N_FEATURES THREADS OUT.f64
 *   X.f64     N_ROWS x N_FEATURES doubles, row-major (NaN = missing)
 *   OUT.f64   the SHAP values written back (rows x outputs x (features + 1))
 * Prints "treeshap_s <seconds>" (best of 2, the loaded model's attribute
 * operation), then for the sampling Shapley estimator on the same model "shapley_rows <n>" and
 * "shapley_perm <P> <seconds>" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "core/model/teachers/xgboost.h"
#include "explain/shapley.h"
#include "explain/attribute.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s MODEL.json X.f64 N_ROWS N_FEATURES THREADS OUT.f64\n",
                argv[0]);
        return 2;
    }
    size_t n_rows = strtoul(argv[3], NULL, 10), nf = strtoul(argv[4], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[5], NULL, 10);
    size_t n_model = 0, n_x = 0;
    char *model = bench_slurp(argv[1], &n_model);
    double *X = bench_slurp(argv[2], &n_x);
    if (model == NULL || X == NULL || n_x != n_rows * nf * sizeof *X) {
        fprintf(stderr, "cannot read the inputs\n");
        return 1;
    }
    gb_error err;
    gb_model *m = NULL;
    if (gb_xgboost_load(model, n_model, &m, &err) != GB_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t no = m->n_margins;
    double *phi = malloc(n_rows * no * (nf + 1) * sizeof *phi);
    double best = 1e30;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = bench_now();
        if (ex_exact_attribute(m, X, n_rows, threads, phi, &err) != GB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        double t = bench_now() - t0;
        if (t < best)
            best = t;
    }
    printf("treeshap_s %.4f\n", best);
    FILE *f = fopen(argv[6], "wb");
    if (f == NULL || fwrite(phi, sizeof *phi, n_rows * no * (nf + 1), f) !=
                         n_rows * no * (nf + 1)) {
        fprintf(stderr, "cannot write %s\n", argv[6]);
        return 1;
    }
    fclose(f);

    /* Sampling Shapley values on the same model. */
    size_t n_shap = 20, n_bg = 50;
    double *sphi = malloc(n_shap * ex_output_width(m) * (nf + 1) * sizeof *sphi);
    printf("shapley_rows %zu\n", n_shap);
    size_t perms[3] = {8, 16, 32};
    for (int k = 0; k < 3; k++) {
        ex_shapley_params sp = {perms[k], 1, threads};
        double t0 = bench_now();
        if (ex_shapley(m, X, n_shap, X + n_shap * nf, n_bg, &sp, sphi, NULL, &err) != GB_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        printf("shapley_perm %zu %.4f\n", perms[k], bench_now() - t0);
    }
    free(sphi);
    gb_model_free(m);
    free(phi);
    free(X);
    free(model);
    return 0;
}
