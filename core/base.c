/*
 * base.c - status names, error reports, allocation wrapper with a
 * fail-the-Nth-allocation test hook.
 * Layer: core.
 */
#include "core/base.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gb_status_name(gb_status code)
{
    switch (code) {
    case GB_OK: return "ok";
    case GB_EINPUT: return "invalid_input";
    case GB_EUNUSABLE: return "unprocessable";
    case GB_ETOOLARGE: return "too_large";
    case GB_ENOMEM: return "out_of_memory";
    case GB_EIO: return "io_error";
    case GB_ECANCELLED: return "cancelled";
    case GB_ENOTFOUND: return "not_found";
    case GB_ECONFLICT: return "conflict";
    case GB_EINTERNAL: return "internal_error";
    }
    return "internal_error";
}

void gb_error_clear(gb_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof *err);
}

static void error_vset(gb_error *err, gb_status code, long line, long column,
                       const char *fmt, va_list ap)
{
    err->code = code;
    err->line = line;
    err->column = column;
    err->field[0] = '\0';
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

gb_status gb_error_set(gb_error *err, gb_status code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, code, 0, 0, fmt, ap);
        va_end(ap);
    }
    return code;
}

gb_status gb_error_at(gb_error *err, gb_status code, long line, long column,
                      const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        error_vset(err, code, line, column, fmt, ap);
        va_end(ap);
    }
    return code;
}

void gb_error_field(gb_error *err, const char *field)
{
    if (err == NULL || field == NULL)
        return;
    snprintf(err->field, sizeof err->field, "%s", field);
}

/* ---- allocation ---------------------------------------------------------- */

/* Countdown to the failing allocation; 0 = hook off.  Atomic so that tests
 * with worker threads stay well defined. */
static atomic_long fail_countdown;

void gb_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n > 0 ? n : 0);
}

static int alloc_should_fail(void)
{
    long c = atomic_load(&fail_countdown);
    if (c == 0)
        return 0;
    if (c == 1)
        return 1; /* stays at 1: every later allocation fails too */
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

void *gb_malloc(size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *gb_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *gb_malloc_array(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return gb_malloc(n * size);
}

void *gb_realloc(void *ptr, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void *gb_realloc_array(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return gb_realloc(ptr, n * size);
}

void gb_free(void *ptr)
{
    free(ptr);
}

char *gb_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = gb_malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *gb_strdup(const char *s)
{
    return gb_strndup(s, strlen(s));
}

void gb_free_strings(char **strings, size_t n)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        gb_free(strings[i]);
    gb_free(strings);
}
