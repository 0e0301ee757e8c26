/*
 * bench_csv.c - times gb_csv_read_file (the parser `glassbox inspect` and the
 * server use) on one file and prints {"seconds","bytes","rows","cols"}.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/bench_util.h"
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
    double t0 = bench_now(), c0 = bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
    gb_error err;
    gb_table *t = NULL;
    gb_status rc = gb_csv_read_file(argv[1], NULL, &t, &err);
    double cpu = bench_clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    double secs = bench_now() - t0;
    if (rc != GB_OK) {
        fprintf(stderr, "bench_csv: line %ld, column %ld: %s\n", err.line, err.column,
                err.message);
        return 1;
    }
    printf("{\"seconds\": %.6f, \"cpu_seconds\": %.6f, \"bytes\": %lld, \"rows\": %zu, "
           "\"cols\": %zu}\n",
           secs, cpu, (long long)st.st_size, t->n_rows, t->n_cols);
    gb_table_free(t);
    return 0;
}
