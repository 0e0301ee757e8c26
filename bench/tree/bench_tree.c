/*
 * bench_tree.c - glassbox side of the tree benchmark: fits a depth-8 tree on
 * the teacher's probabilities (alpha = 0) and prints fit seconds and test
 * fidelity (agreement of argmax with the teacher) as one JSON line.
 * Usage: bench_tree DIR N_THREADS [MAX_BINS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "core/model/model.h"
#include "core/model/students/student.h"

#define N_FEATURES 40

static double *read_doubles(const char *dir, const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bench_tree: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    *n = (size_t)bytes / sizeof(double);
    double *v = malloc((size_t)bytes);
    if (v == NULL || fread(v, sizeof *v, *n, f) != *n) {
        fprintf(stderr, "bench_tree: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: bench_tree DIR N_THREADS [MAX_BINS]\n");
        return 2;
    }
    size_t nx, np, nxt, npt;
    double *X = read_doubles(argv[1], "X_train", &nx);
    double *p = read_doubles(argv[1], "p_train", &np);
    double *Xt = read_doubles(argv[1], "X_test", &nxt);
    double *pt = read_doubles(argv[1], "p_test", &npt);
    size_t n = np, n_test = npt;
    double *soft = malloc(2 * n * sizeof *soft);
    for (size_t i = 0; i < n; i++) {
        soft[2 * i] = 1.0 - p[i];
        soft[2 * i + 1] = p[i];
    }
    gb_feature features[N_FEATURES];
    char names[N_FEATURES][8];
    for (int f = 0; f < N_FEATURES; f++) {
        snprintf(names[f], sizeof names[f], "x%d", f);
        features[f] = (gb_feature){names[f], GB_FEAT_NUMERIC, NULL, 0};
    }
    char c0[] = "0", c1[] = "1";
    char *classes[2] = {c0, c1};
    gb_train_set ts;
    memset(&ts, 0, sizeof ts);
    ts.n_rows = n;
    ts.n_features = N_FEATURES;
    ts.X = X;
    ts.features = features;
    ts.task = GB_TASK_BINARY;
    ts.n_classes = 2;
    ts.classes = classes;
    ts.soft = soft;
    ts.temperature = 1.0;
    ts.alpha = 0.0;
    ts.n_threads = (unsigned)atoi(argv[2]);
    gb_param params[] = {{"max_depth", "8"}, {"max_bins", argc == 4 ? argv[3] : "255"}};
    gb_model *m = NULL;
    gb_error err;
    double t0 = bench_now(), cpu0 = bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (gb_student_fit("tree", params, 2, &ts, NULL, &m, &err) != GB_OK) {
        fprintf(stderr, "bench_tree: %s\n", err.message);
        return 1;
    }
    double fit_s = bench_now() - t0,
           fit_cpu_s = bench_clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    double *out = malloc(2 * n_test * sizeof *out);
    t0 = bench_now();
    m->ops->predict(m, Xt, n_test, out, &err);
    double predict_s = bench_now() - t0;
    size_t agree = 0;
    double sse = 0.0;
    for (size_t i = 0; i < n_test; i++) {
        agree += (out[2 * i + 1] > out[2 * i]) == (pt[i] > 0.5);
        sse += (out[2 * i + 1] - pt[i]) * (out[2 * i + 1] - pt[i]);
    }
    cJSON *j = m->ops->to_json(m);
    double leaves = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "complexity"), "leaves")
                        ->valuedouble;
    cJSON_Delete(j);
    printf("{\"library\": \"glassbox\", \"threads\": %u, \"fit_s\": %.4f, "
           "\"fit_cpu_s\": %.4f, \"predict_s\": %.4f, "
           "\"fidelity\": %.6f, \"mse_vs_teacher\": %.6g, \"leaves\": %.0f}\n",
           ts.n_threads, fit_s, fit_cpu_s, predict_s, (double)agree / (double)n_test,
           sse / (double)n_test, leaves);
    gb_model_free(m);
    free(out);
    free(soft);
    free(X);
    free(p);
    free(Xt);
    free(pt);
    (void)nx;
    (void)nxt;
    return 0;
}
