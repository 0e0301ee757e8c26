/*
 * bench_csv.c - times gb_csv_read_file (the parser `glassbox inspect` and the
 * server use) on one file and prints {"seconds","bytes","rows","cols"}.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "core/data/csv.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_csv FILE.csv\n");
        return 2;
    }
    struct stat st;
    if (stat(argv[1], &st) != 0) {
        perror(argv[1]);
        return 2;
    }
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    gb_error err;
    gb_table *t = NULL;
    gb_status rc = gb_csv_read_file(argv[1], NULL, &t, &err);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != GB_OK) {
        fprintf(stderr, "bench_csv: line %ld, column %ld: %s\n", err.line, err.column,
                err.message);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    printf("{\"seconds\": %.6f, \"cpu_seconds\": %.6f, \"bytes\": %lld, \"rows\": %zu, "
           "\"cols\": %zu}\n",
           secs, cpu, (long long)st.st_size, t->n_rows, t->n_cols);
    gb_table_free(t);
    return 0;
}
