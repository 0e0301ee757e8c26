/*
 * csv.h - streaming CSV parser straight into a typed gb_table.
 * Layer: core/data.
 *
 * Format (docs/formats.md): comma separated, RFC 4180 quoting (embedded
 * commas, doubled quotes, newlines inside quotes), one header row, LF or CRLF
 * line ends, UTF-8 with an optional BOM.  Missing tokens: empty, NA, NaN,
 * null (case-insensitive).  A column is numeric when every non-missing field
 * is a finite number, categorical otherwise.  Fields, records, columns and
 * levels are bounded (GB_MAX_* in table.h).
 *
 * The parser is fed chunks of any size (an HTTP body arrives that way); it
 * never keeps the raw input, only the columns being built.
 *
 *   gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
 *   while (more) if (gb_csv_parser_feed(p, buf, n, &err)) goto fail;
 *   if (gb_csv_parser_finish(p, &table, &err)) goto fail;
 *   gb_csv_parser_free(p);
 *
 * Errors name the 1-based line and column (err->line, err->column) and, where
 * known, the column name (err->field): ragged row, empty file, missing or
 * empty header, duplicate column name, unterminated quote, a quote in an
 * unquoted field, field/record too long, too many columns, a non-finite
 * number (inf), a categorical column with more than GB_MAX_LEVELS levels,
 * invalid UTF-8.
 */
#ifndef CORE_DATA_CSV_H
#define CORE_DATA_CSV_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"

typedef struct gb_csv_parser gb_csv_parser;

typedef struct gb_csv_options {
    size_t max_rows; /* 0 = unlimited; more rows -> GB_ETOOLARGE */
} gb_csv_options;

/* Creates a parser (caller frees with gb_csv_parser_free); opts may be NULL
 * for defaults.  Returns NULL on allocation failure (err set). */
gb_csv_parser *gb_csv_parser_create(const gb_csv_options *opts, gb_error *err);

/* Consumes the next n bytes.  After an error the parser is unusable (every
 * later call returns the same error). */
gb_status gb_csv_parser_feed(gb_csv_parser *p, const char *bytes, size_t n,
                             gb_error *err);

/* Ends the input and hands over the table (*out, caller frees with
 * gb_table_free).  On error *out is NULL. */
gb_status gb_csv_parser_finish(gb_csv_parser *p, gb_table **out, gb_error *err);

/* Frees the parser and anything it still owns; NULL is a no-op. */
void gb_csv_parser_free(gb_csv_parser *p);

/* Convenience: parses a whole file by path, reading it in chunks.  On
 * success *out is the table (caller frees with gb_table_free); on error
 * *out is NULL and err names the file (GB_ENOTFOUND, GB_EIO) or the line
 * and column of bad input. */
gb_status gb_csv_read_file(const char *path, const gb_csv_options *opts, gb_table **out,
                           gb_error *err);

#endif /* CORE_DATA_CSV_H */
