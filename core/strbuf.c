/*
 * strbuf.c - the growable text buffer.
 * Layer: core.
 */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/base.h"

void gb_strbuf_printf(gb_strbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = 1;
        return;
    }
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + (size_t)need + 1)
            cap *= 2;
        char *text = gb_realloc(b->text, cap);
        if (text == NULL) {
            b->failed = 1;
            return;
        }
        b->text = text;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

void gb_strbuf_sql_ident(gb_strbuf *b, const char *name)
{
    gb_strbuf_printf(b, "\"");
    for (const char *p = name; *p; p++)
        gb_strbuf_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    gb_strbuf_printf(b, "\"");
}

char *gb_strbuf_take(gb_strbuf *b)
{
    char *text = b->text;
    int failed = b->failed;
    memset(b, 0, sizeof *b);
    if (failed) {
        gb_free(text);
        return NULL;
    }
    return text != NULL ? text : gb_strdup("");
}
