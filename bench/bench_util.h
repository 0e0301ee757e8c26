/*
 * bench_util.h - what the benchmark drivers share: wall and CPU clocks and
 * reading a whole input file.  Header-only; each bench/<name>/bench_*.c is
 * built as its own program by its run script.
 */
#ifndef BENCH_BENCH_UTIL_H
#define BENCH_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on clock id (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ...). */
static inline double bench_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Monotonic wall-clock seconds, for timing differences. */
static inline double bench_now(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

/* The bytes of the file at path in a malloc'd buffer (one spare byte, so it
 * is suitably aligned for doubles and may be NUL-terminated) that the
 * caller frees with free; *n = its length.  NULL when the file cannot be
 * read (*n untouched). */
static inline void *bench_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *n = (size_t)size;
    return buf;
}

#endif /* BENCH_BENCH_UTIL_H */
