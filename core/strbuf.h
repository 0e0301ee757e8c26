/*
 * strbuf.h - a growable text buffer for code exports and reports.
 * Layer: core.
 *
 * Appends never fail loudly: after an allocation failure the buffer is
 * marked failed and later appends do nothing, so a long sequence of appends
 * needs one check at the end (gb_strbuf_take).
 *
 *   gb_strbuf b = GB_STRBUF_INIT;
 *   gb_strbuf_printf(&b, "x = %d", 1);
 *   char *text = gb_strbuf_take(&b);   // NULL on allocation failure
 */
#ifndef CORE_STRBUF_H
#define CORE_STRBUF_H

#include <stddef.h>

typedef struct gb_strbuf {
    char *text; /* NUL-terminated once anything was appended */
    size_t len, cap;
    int failed;
} gb_strbuf;

#define GB_STRBUF_INIT                                                                 \
    {                                                                                  \
        NULL, 0, 0, 0                                                                  \
    }

/* Appends printf-style text. */
void gb_strbuf_printf(gb_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a SQL identifier: double quotes, embedded quotes doubled. */
void gb_strbuf_sql_ident(gb_strbuf *b, const char *name);

/* Hands over the text (caller frees with gb_free; an empty buffer gives "")
 * and resets b.  NULL, with the buffer freed, when an append failed. */
char *gb_strbuf_take(gb_strbuf *b);

#endif /* CORE_STRBUF_H */
