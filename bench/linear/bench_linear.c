/*
 * bench_linear.c - fits glassbox's L2 logistic student on soft targets read
 * from raw float64 files and prints the fit time and the solution as JSON.
 *
 *   bench_linear X.f64 q.f64 n_rows n_features l2 n_threads out.json
 *
 * X.f64: n_rows x n_features row-major doubles; q.f64: n_rows teacher
 * probabilities of class 1.  The student minimises mean KL(q || p) +
 * l2/2 ||w||^2 (alpha = 0, T = 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "core/json.h"
#include "core/model/students/student.h"

static double *read_doubles(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    double *v = malloc(n * sizeof *v);
    if (v == NULL || fread(v, sizeof *v, n, f) != n) {
        fprintf(stderr, "%s: short file\n", path);
        exit(1);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr,
                "usage: %s X.f64 q.f64 n_rows n_features l2 n_threads out.json\n",
                argv[0]);
        return 2;
    }
    size_t n = strtoul(argv[3], NULL, 10), p = strtoul(argv[4], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[6], NULL, 10);
    double *X = read_doubles(argv[1], n * p);
    double *q1 = read_doubles(argv[2], n);
    double *soft = malloc(2 * n * sizeof *soft);
    for (size_t i = 0; i < n; i++) {
        soft[2 * i] = 1.0 - q1[i];
        soft[2 * i + 1] = q1[i];
    }
    free(q1);
    gb_feature *features = calloc(p, sizeof *features);
    for (size_t j = 0; j < p; j++) {
        features[j].name = malloc(24);
        snprintf(features[j].name, 24, "x%zu", j);
        features[j].kind = GB_FEAT_NUMERIC;
    }
    char c0[] = "0", c1[] = "1";
    char *classes[] = {c0, c1};
    gb_train_set ts = {0};
    ts.n_rows = n;
    ts.n_features = p;
    ts.X = X;
    ts.features = features;
    ts.task = GB_TASK_BINARY;
    ts.n_classes = 2;
    ts.classes = classes;
    ts.soft = soft;
    ts.temperature = 1.0;
    ts.alpha = 0.0;
    ts.n_threads = threads;
    gb_param params[] = {{"l2", argv[5]}};
    gb_model *m = NULL;
    gb_error err;
    double t0 = bench_now();
    gb_status rc = gb_student_fit("logistic", params, 1, &ts, NULL, &m, &err);
    double t1 = bench_now();
    if (rc != GB_OK) {
        fprintf(stderr, "fit: %s\n", err.message);
        return 1;
    }
    cJSON *art = m->ops->to_json(m);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "fit_seconds", t1 - t0);
    cJSON_AddItemToObject(res, "fit",
                          cJSON_Duplicate(cJSON_GetObjectItem(art, "fit"), 1));
    cJSON_AddItemToObject(
        res, "intercept_std",
        cJSON_Duplicate(cJSON_GetObjectItem(art, "intercept_std"), 1));
    cJSON *coefs = cJSON_AddArrayToObject(res, "coef_std");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(art, "coefficients"))
    {
        cJSON_AddItemToArray(coefs,
                             cJSON_Duplicate(cJSON_GetObjectItem(e, "coef_std"), 1));
    }
    char *text = gb_json_print(res, 0);
    FILE *f = fopen(argv[7], "w");
    if (f == NULL || text == NULL) {
        perror(argv[7]);
        return 1;
    }
    fputs(text, f);
    fclose(f);
    gb_free(text);
    cJSON_Delete(res);
    cJSON_Delete(art);
    gb_model_free(m);
    for (size_t j = 0; j < p; j++)
        free(features[j].name);
    free(features);
    free(soft);
    free(X);
    return 0;
}
