/*
 * base.h - status codes, error reports and the allocation wrapper.
 * Layer: core (everything includes this; it includes only libc).
 *
 * One status enum for the whole project, 0 = OK.  The human message travels
 * separately in a gb_error the caller owns (usually on its stack), like
 * sqlite3_errmsg.  Errors about user input name the line, column or field.
 *
 * All allocation goes through gb_malloc & co.  A test hook can make the Nth
 * allocation from now fail (gb_alloc_fail_after), so cleanup paths get tested.
 */
#ifndef CORE_BASE_H
#define CORE_BASE_H

#include <stddef.h>
#include <stdint.h>

#define GB_VERSION "0.1.0"

typedef enum gb_status {
    GB_OK = 0,
    GB_EINPUT,     /* user input is malformed (CLI exit 2, HTTP 400) */
    GB_EUNUSABLE,  /* valid syntax but unusable (HTTP 422): missing features,
                      unsupported objective, bad parameter value */
    GB_ETOOLARGE,  /* a size limit was exceeded (HTTP 413) */
    GB_ENOMEM,     /* allocation failed (HTTP 500/507) */
    GB_EIO,        /* file or disk error (HTTP 500/507) */
    GB_ECANCELLED, /* a cancel flag was raised */
    GB_ENOTFOUND,  /* unknown id or file (HTTP 404) */
    GB_ECONFLICT,  /* state conflict (HTTP 409) */
    GB_EINTERNAL   /* a bug: an invariant failed (CLI exit 1, HTTP 500) */
} gb_status;

/* Where a user-input error was found; 0 means "not applicable". */
typedef struct gb_error {
    gb_status code;
    long line;       /* 1-based input line, 0 if none */
    long column;     /* 1-based column (field index for CSV), 0 if none */
    char field[128]; /* offending field/parameter/column name, "" if none */
    char message[512];
} gb_error;

/* Snake-case name of a status ("input_error", ...), never NULL. */
const char *gb_status_name(gb_status code);

/* Clears *err (err may be NULL). */
void gb_error_clear(gb_error *err);

/* Fills *err (if err is non-NULL) with code and a printf-style message, and
 * returns code, so callers can write `return gb_error_set(err, ...)`.
 * Line, column and field are reset. */
gb_status gb_error_set(gb_error *err, gb_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As gb_error_set, also recording line and column (1-based; 0 = none). */
gb_status gb_error_at(gb_error *err, gb_status code, long line, long column,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records the offending field name on an already-set error. */
void gb_error_field(gb_error *err, const char *field);

/* ---- allocation ---------------------------------------------------------- */

/* malloc/calloc/realloc/free wrappers.  They return NULL on failure (never
 * abort); gb_malloc_array and gb_realloc_array also return NULL when
 * n * size overflows.  Every block is freed with gb_free; gb_free(NULL) is
 * a no-op.  On failure the realloc pair leaves ptr allocated and unchanged.
 * gb_strdup / gb_strndup (at most n bytes) return a NUL-terminated copy the
 * caller frees with gb_free, or NULL when out of memory. */
void *gb_malloc(size_t size);
void *gb_calloc(size_t n, size_t size);
void *gb_malloc_array(size_t n, size_t size);
void *gb_realloc(void *ptr, size_t size);
void *gb_realloc_array(void *ptr, size_t n, size_t size);
void gb_free(void *ptr);
char *gb_strdup(const char *s);
char *gb_strndup(const char *s, size_t n);

/* Test hook: the n-th allocation from now (1 = the next one) fails, and so
 * does every one after it until gb_alloc_fail_after(0) turns it off. */
void gb_alloc_fail_after(long n);

/* Frees an array of n strings (each may be NULL) and the array itself. */
void gb_free_strings(char **strings, size_t n);

#endif /* CORE_BASE_H */
