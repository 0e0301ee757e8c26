/*
 * check_csv.c - the streaming CSV parser: dialect, type inference, level
 * order, one test per error, chunk-boundary robustness, number parsing
 * exactness against strtod, allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/data/number.h"
#include "core/math/rng.h"

/* Parses text[0..n) fed in pieces of `chunk` bytes (0 = all at once, < 0 =
 * random sizes 1..-chunk from a fixed seed). */
static gb_status parse_chunked(const char *text, size_t n, long chunk, gb_table **out,
                               gb_error *err)
{
    gb_csv_parser *p = gb_csv_parser_create(NULL, err);
    if (p == NULL)
        return err->code;
    gb_rng rng;
    gb_rng_seed(&rng, 1234);
    size_t i = 0;
    gb_status rc = GB_OK;
    while (i < n) {
        size_t k = n - i;
        if (chunk > 0 && (size_t)chunk < k)
            k = (size_t)chunk;
        else if (chunk < 0) {
            size_t r = 1 + (size_t)gb_rng_below(&rng, (uint64_t)(-chunk));
            k = r < k ? r : k;
        }
        rc = gb_csv_parser_feed(p, text + i, k, err);
        if (rc != GB_OK)
            break;
        i += k;
    }
    if (rc == GB_OK)
        rc = gb_csv_parser_finish(p, out, err);
    else
        *out = NULL;
    gb_csv_parser_free(p);
    return rc;
}

static gb_table *parse_ok(const char *text)
{
    gb_error err;
    gb_table *t = NULL;
    gb_status rc = parse_chunked(text, strlen(text), 0, &t, &err);
    ck_assert_msg(rc == GB_OK, "parse failed: %s (line %ld, column %ld)", err.message,
                  err.line, err.column);
    return t;
}

/* Expects parsing to fail with code at line/column (column 0 = any). */
static gb_error parse_fail(const char *text, size_t n, gb_status code, long line,
                           long column)
{
    gb_error err;
    gb_table *t = NULL;
    gb_status rc = parse_chunked(text, n, 0, &t, &err);
    ck_assert_msg(rc == code, "expected status %d, got %d (%s)", code, rc,
                  rc ? err.message : "ok");
    ck_assert_ptr_null(t);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(err.line == line, "line %ld, expected %ld: %s", err.line, line,
                  err.message);
    if (column > 0)
        ck_assert_msg(err.column == column, "column %ld, expected %ld: %s", err.column,
                      column, err.message);
    /* Same error whatever the chunking. */
    gb_error err1;
    ck_assert_int_eq(parse_chunked(text, n, 1, &t, &err1), code);
    ck_assert_int_eq(err1.line, err.line);
    ck_assert_int_eq(err1.column, err.column);
    ck_assert_str_eq(err1.message, err.message);
    return err;
}

static void assert_tables_equal(const gb_table *a, const gb_table *b)
{
    ck_assert_uint_eq(a->n_rows, b->n_rows);
    ck_assert_uint_eq(a->n_cols, b->n_cols);
    for (size_t j = 0; j < a->n_cols; j++) {
        const gb_column *x = &a->cols[j], *y = &b->cols[j];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_int_eq(x->type, y->type);
        ck_assert_uint_eq(x->n_missing, y->n_missing);
        ck_assert_uint_eq(x->n_levels, y->n_levels);
        for (size_t k = 0; k < x->n_levels; k++)
            ck_assert_str_eq(x->levels[k], y->levels[k]);
        for (size_t i = 0; i < a->n_rows; i++) {
            if (x->type == GB_COL_NUMERIC)
                ck_assert(memcmp(&x->values[i], &y->values[i], sizeof(double)) == 0);
            else
                ck_assert_int_eq(x->codes[i], y->codes[i]);
        }
    }
}

/* ---- dialect ------------------------------------------------------------------ */

START_TEST(test_numeric_and_categorical)
{
    gb_table *t = parse_ok("x,color,y\n1.5,red,0\n-2,blue,1\n3e2,red,1\n");
    ck_assert_uint_eq(t->n_rows, 3);
    ck_assert_uint_eq(t->n_cols, 3);
    ck_assert_str_eq(t->cols[0].name, "x");
    ck_assert_int_eq(t->cols[0].type, GB_COL_NUMERIC);
    ck_assert(t->cols[0].values[0] == 1.5 && t->cols[0].values[1] == -2 &&
              t->cols[0].values[2] == 300);
    ck_assert_int_eq(t->cols[1].type, GB_COL_CATEGORICAL);
    ck_assert_uint_eq(t->cols[1].n_levels, 2);
    ck_assert_str_eq(t->cols[1].levels[0], "blue");
    ck_assert_str_eq(t->cols[1].levels[1], "red");
    ck_assert_int_eq(t->cols[1].codes[0], 1);
    ck_assert_int_eq(t->cols[1].codes[1], 0);
    ck_assert_ptr_null(t->cols[1].values);
    ck_assert_ptr_null(t->cols[0].codes);
    gb_table_free(t);
}
END_TEST

START_TEST(test_quoting)
{
    gb_table *t = parse_ok("\"a,b\",\"say \"\"hi\"\"\",n\n"
                           "\"1,5\",\"two\nlines\",\"7\"\n"
                           "x,\"\",\"\"\n"
                           "\"\"\"\",\"crlf\r\ninside\",8\n");
    ck_assert_str_eq(t->cols[0].name, "a,b");
    ck_assert_str_eq(t->cols[1].name, "say \"hi\"");
    ck_assert_uint_eq(t->n_rows, 3);
    const gb_column *a = &t->cols[0];
    ck_assert_int_eq(a->type, GB_COL_CATEGORICAL);
    ck_assert_uint_eq(a->n_levels, 3);
    ck_assert_str_eq(a->levels[0], "\"");
    ck_assert_str_eq(a->levels[1], "1,5");
    ck_assert_str_eq(a->levels[2], "x");
    const gb_column *b = &t->cols[1];
    ck_assert_uint_eq(b->n_missing, 1); /* "" is missing */
    ck_assert_str_eq(b->levels[0], "crlf\r\ninside");
    ck_assert_str_eq(b->levels[1], "two\nlines");
    ck_assert_int_eq(b->codes[1], -1);
    /* Quoted numbers are numbers. */
    ck_assert_int_eq(t->cols[2].type, GB_COL_NUMERIC);
    ck_assert(t->cols[2].values[0] == 7 && isnan(t->cols[2].values[1]) &&
              t->cols[2].values[2] == 8);
    gb_table_free(t);
}
END_TEST

START_TEST(test_line_ends_and_blank_lines)
{
    gb_table *a = parse_ok("x,y\r\n1,2\r\n3,4\r\n");
    gb_table *b = parse_ok("x,y\n1,2\n\n3,4"); /* blank line skipped, no final LF */
    gb_table *c = parse_ok("x,y\r1,2\r3,4\r\r\n");
    gb_table *d = parse_ok("\n\nx,y\n1,2\n3,4\n\n\n");
    ck_assert_uint_eq(a->n_rows, 2);
    ck_assert(a->cols[1].values[1] == 4);
    assert_tables_equal(a, b);
    assert_tables_equal(a, c);
    assert_tables_equal(a, d);
    gb_table_free(a);
    gb_table_free(b);
    gb_table_free(c);
    gb_table_free(d);
    /* A trailing comma makes an empty (missing) last field. */
    gb_table *e = parse_ok("x,y\n1,\n2,");
    ck_assert_uint_eq(e->n_rows, 2);
    ck_assert_uint_eq(e->cols[1].n_missing, 2);
    gb_table_free(e);
}
END_TEST

START_TEST(test_bom)
{
    gb_table *a = parse_ok("\xEF\xBB\xBFid,v\n1,2\n");
    ck_assert_str_eq(a->cols[0].name, "id");
    gb_table *b = parse_ok("id,v\n1,2\n");
    assert_tables_equal(a, b);
    gb_table_free(a);
    gb_table_free(b);
    /* A BOM-like prefix that is not a BOM is content (here invalid UTF-8). */
    gb_error err = parse_fail("\xEF\xBBid,v\n1,2\n", 10, GB_EINPUT, 1, 1);
    ck_assert_ptr_nonnull(strstr(err.message, "UTF-8"));
    /* Only a BOM: an empty file. */
    parse_fail("\xEF\xBB\xBF", 3, GB_EINPUT, 1, 1);
    /* A second BOM is not stripped: it becomes part of the name. */
    gb_table *c = parse_ok("\xEF\xBB\xBF\xEF\xBB\xBFid\n1\n");
    ck_assert_str_eq(c->cols[0].name, "\xEF\xBB\xBFid");
    gb_table_free(c);
}
END_TEST

START_TEST(test_missing_tokens)
{
    gb_table *t =
        parse_ok("a,b\n1,x\nNA,NA\nnan,NaN\nNULL,null\n,\n na ,nUlL\n2,N/A\n");
    ck_assert_uint_eq(t->n_rows, 7);
    ck_assert_int_eq(t->cols[0].type, GB_COL_NUMERIC);
    ck_assert_uint_eq(t->cols[0].n_missing, 5);
    ck_assert(t->cols[0].values[0] == 1 && t->cols[0].values[6] == 2);
    for (int i = 1; i <= 5; i++)
        ck_assert(isnan(t->cols[0].values[i]));
    const gb_column *b = &t->cols[1];
    ck_assert_int_eq(b->type, GB_COL_CATEGORICAL);
    ck_assert_uint_eq(b->n_missing, 5);
    ck_assert_uint_eq(b->n_levels, 2);
    ck_assert_str_eq(b->levels[0], "N/A");
    ck_assert_str_eq(b->levels[1], "x");
    gb_table_free(t);
}
END_TEST

START_TEST(test_header_only_is_empty_table)
{
    gb_table *t = parse_ok("a,b,c\n");
    ck_assert_uint_eq(t->n_rows, 0);
    ck_assert_uint_eq(t->n_cols, 3);
    ck_assert_int_eq(t->cols[2].type, GB_COL_NUMERIC);
    gb_table_free(t);
    t = parse_ok("a");
    ck_assert_uint_eq(t->n_cols, 1);
    ck_assert_str_eq(t->cols[0].name, "a");
    gb_table_free(t);
}
END_TEST

START_TEST(test_numbers_with_blanks_and_forms)
{
    gb_table *t = parse_ok("v\n 1.5\n-0\n+.5\n5.\n1E3\n\t2e-3 \n007\n");
    const double *v = t->cols[0].values;
    ck_assert_int_eq(t->cols[0].type, GB_COL_NUMERIC);
    ck_assert(v[0] == 1.5 && v[1] == 0 && signbit(v[1]) && v[2] == 0.5 && v[3] == 5 &&
              v[4] == 1000 && v[5] == 0.002 && v[6] == 7);
    gb_table_free(t);
    /* Hex, words and stray text are not numbers: the column is categorical. */
    const char *not_numbers[] = {"v\n0x10\n", "v\n1e\n",  "v\n.\n",  "v\n1.2.3\n",
                                 "v\n--1\n",  "v\n1 2\n", "v\n1,\n", "v\ne5\n"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        gb_error err;
        gb_table *u = NULL;
        if (parse_chunked(not_numbers[i], strlen(not_numbers[i]), 0, &u, &err) ==
            GB_OK) {
            ck_assert_msg(u->cols[0].type == GB_COL_CATEGORICAL, "%s", not_numbers[i]);
            gb_table_free(u);
        } else {
            /* "1," has two fields in a one-column file. */
            ck_assert_int_eq(err.code, GB_EINPUT);
        }
    }
}
END_TEST

/* ---- inference and levels -----------------------------------------------------------
 */

START_TEST(test_column_turns_categorical_late)
{
    gb_table *t = parse_ok("c\n10\n9\n10\nNA\n9.0\nabc\n");
    const gb_column *c = &t->cols[0];
    ck_assert_int_eq(c->type, GB_COL_CATEGORICAL);
    /* Levels by bytes, since "abc" is not a number: "10" < "9" < "9.0" < "abc". */
    ck_assert_uint_eq(c->n_levels, 4);
    const char *order[4] = {"10", "9", "9.0", "abc"};
    for (int k = 0; k < 4; k++)
        ck_assert_str_eq(c->levels[k], order[k]);
    int32_t codes[6] = {0, 1, 0, -1, 2, 3};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(c->codes[i], codes[i]);
    ck_assert_uint_eq(c->n_missing, 1);
    gb_table_free(t);
}
END_TEST

/* A CSV with an id column and a column v holding n_distinct distinct numbers
 * then `last`. */
static char *many_values_csv(size_t n_distinct, const char *last, size_t *len)
{
    size_t cap = 32 + n_distinct * 24 + strlen(last);
    char *s = malloc(cap);
    size_t k = (size_t)snprintf(s, cap, "id,v\n");
    for (size_t i = 0; i < n_distinct; i++)
        k += (size_t)snprintf(s + k, cap - k, "%zu,%zu.5\n", i, i);
    k += (size_t)snprintf(s + k, cap - k, "%zu,%s\n", n_distinct, last);
    *len = k;
    return s;
}

START_TEST(test_many_distinct_numbers_stay_numeric)
{
    size_t len;
    char *s = many_values_csv(5000, "7", &len);
    gb_error err;
    gb_table *t = NULL;
    ck_assert_int_eq(parse_chunked(s, len, 0, &t, &err), GB_OK);
    ck_assert_int_eq(t->cols[1].type, GB_COL_NUMERIC);
    ck_assert_uint_eq(t->n_rows, 5001);
    ck_assert(t->cols[1].values[4321] == 4321.5);
    ck_assert(t->cols[1].values[5000] == 7);
    gb_table_free(t);
    free(s);
}
END_TEST

START_TEST(test_error_too_many_levels_after_numbers)
{
    size_t len;
    char *s = many_values_csv(1001, "oops", &len);
    gb_error err = parse_fail(s, len, GB_EUNUSABLE, 1003, 2);
    ck_assert_str_eq(err.field, "v");
    ck_assert_ptr_nonnull(strstr(err.message, "1000 levels"));
    free(s);
    /* With exactly 1000 distinct numbers before it, the column turns
     * categorical with 1001 levels: the same error, from the dictionary. */
    s = many_values_csv(1000, "oops", &len);
    err = parse_fail(s, len, GB_EUNUSABLE, 1002, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "more than 1000 levels"));
    free(s);
    /* A long non-ASCII value is quoted in the message without cutting a
     * character: "x" and 19 two-byte characters fit in 40 bytes, the 20th
     * would be cut. */
    s = many_values_csv(
        1001,
        "x\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",
        &len);
    err = parse_fail(s, len, GB_EUNUSABLE, 1003, 2);
    const char *open_quote = strstr(err.message, "value '");
    ck_assert_ptr_nonnull(open_quote);
    const char *close_quote = strchr(open_quote + 7, '\'');
    ck_assert_ptr_nonnull(close_quote);
    ck_assert_int_eq(close_quote - (open_quote + 7), 39);
    free(s);
    /* 999 numbers + "oops" = 1000 levels: fine. */
    s = many_values_csv(999, "oops", &len);
    gb_error e2;
    gb_table *t = NULL;
    ck_assert_int_eq(parse_chunked(s, len, 0, &t, &e2), GB_OK);
    ck_assert_uint_eq(t->cols[1].n_levels, 1000);
    ck_assert_str_eq(t->cols[1].levels[999], "oops");
    gb_table_free(t);
    free(s);
}
END_TEST

START_TEST(test_error_too_many_levels_categorical)
{
    size_t cap = 20000, k = 0;
    char *s = malloc(cap);
    k += (size_t)snprintf(s + k, cap - k, "name\n");
    for (int i = 0; i <= GB_MAX_LEVELS; i++)
        k += (size_t)snprintf(s + k, cap - k, "n%d\n", i);
    gb_error err = parse_fail(s, k, GB_EUNUSABLE, GB_MAX_LEVELS + 2, 1);
    ck_assert_str_eq(err.field, "name");
    ck_assert_ptr_nonnull(strstr(err.message, "'name' has more than 1000 levels"));
    free(s);
}
END_TEST

/* ---- one test per error
 * --------------------------------------------------------------- */

START_TEST(test_error_ragged_row_short)
{
    gb_error err = parse_fail("a,b,c\n1,2,3\n4,5\n", 16, GB_EINPUT, 3, 3);
    ck_assert_str_eq(err.field, "c");
    ck_assert_ptr_nonnull(strstr(err.message, "ragged"));
}
END_TEST

START_TEST(test_error_ragged_row_long)
{
    gb_error err = parse_fail("a,b\n1,2\n3,4,5\n", 14, GB_EINPUT, 3, 3);
    ck_assert_ptr_nonnull(strstr(err.message, "more than 2 fields"));
}
END_TEST

START_TEST(test_error_empty_file)
{
    gb_error err = parse_fail("", 0, GB_EINPUT, 1, 1);
    ck_assert_ptr_nonnull(strstr(err.message, "empty file"));
    parse_fail("\n\r\n\n", 4, GB_EINPUT, 1, 1);
}
END_TEST

START_TEST(test_error_empty_header_name)
{
    gb_error err = parse_fail("a,,c\n1,2,3\n", 11, GB_EINPUT, 1, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "empty column name"));
    parse_fail("a,b,\n1,2,3\n", 11, GB_EINPUT, 1, 3);
}
END_TEST

START_TEST(test_error_duplicate_column_names)
{
    gb_error err = parse_fail("a,b,c,b,a\n1,2,3,4,5\n", 20, GB_EINPUT, 1, 4);
    ck_assert_str_eq(err.field, "b");
    ck_assert_ptr_nonnull(
        strstr(err.message, "duplicate column name 'b' (columns 2 and 4)"));
}
END_TEST

START_TEST(test_error_unterminated_quote)
{
    const char *s = "a,b\n1,2\n3,\"open\nstill open\n";
    gb_error err = parse_fail(s, strlen(s), GB_EINPUT, 3, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "unterminated"));
    ck_assert_str_eq(err.field, "b");
}
END_TEST

START_TEST(test_error_quote_in_unquoted_field)
{
    gb_error err = parse_fail("a,b\n1,ab\"c\n", 11, GB_EINPUT, 2, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "quote inside an unquoted field"));
}
END_TEST

START_TEST(test_error_text_after_closing_quote)
{
    gb_error err = parse_fail("a,b\n\"x\"y,2\n", 11, GB_EINPUT, 2, 1);
    ck_assert_ptr_nonnull(strstr(err.message, "after a closing quote"));
}
END_TEST

START_TEST(test_error_field_too_long)
{
    size_t n = GB_MAX_FIELD_BYTES + 1;
    char *s = malloc(n + 32);
    size_t k = (size_t)snprintf(s, 32, "a,b\n1,");
    memset(s + k, 'x', n);
    k += n;
    s[k++] = '\n';
    gb_error err = parse_fail(s, k, GB_ETOOLARGE, 2, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "field longer than 65536 bytes"));
    /* Quoted too. */
    k = (size_t)snprintf(s, 32, "a,b\n1,\"");
    memset(s + k, 'y', n);
    k += n;
    s[k++] = '"';
    parse_fail(s, k, GB_ETOOLARGE, 2, 2);
    /* Exactly the limit is fine. */
    k = (size_t)snprintf(s, 32, "a\n");
    memset(s + k, 'z', GB_MAX_FIELD_BYTES);
    k += GB_MAX_FIELD_BYTES;
    gb_error e2;
    gb_table *t = NULL;
    ck_assert_int_eq(parse_chunked(s, k, 4096, &t, &e2), GB_OK);
    ck_assert_uint_eq(strlen(t->cols[0].levels[0]), GB_MAX_FIELD_BYTES);
    gb_table_free(t);
    free(s);
}
END_TEST

START_TEST(test_error_record_too_long)
{
    size_t n_cols = GB_MAX_LINE_BYTES / 60000 + 2, k = 0;
    size_t cap = n_cols * 60010 + n_cols * 8 + 16;
    char *s = malloc(cap);
    for (size_t j = 0; j < n_cols; j++)
        k += (size_t)snprintf(s + k, cap - k, "%sc%zu", j ? "," : "", j);
    s[k++] = '\n';
    for (size_t j = 0; j < n_cols; j++) {
        if (j)
            s[k++] = ',';
        memset(s + k, 'a' + (char)(j % 26), 60000);
        k += 60000;
    }
    s[k++] = '\n';
    gb_error err;
    gb_table *t = NULL;
    ck_assert_int_eq(parse_chunked(s, k, 0, &t, &err), GB_ETOOLARGE);
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, GB_MAX_LINE_BYTES / 60001 + 1);
    ck_assert_ptr_nonnull(strstr(err.message, "record longer than"));
    free(s);
}
END_TEST

START_TEST(test_error_too_many_columns)
{
    size_t cap = (GB_MAX_COLUMNS + 2) * 8, k = 0;
    char *s = malloc(cap);
    for (int j = 0; j <= GB_MAX_COLUMNS; j++)
        k += (size_t)snprintf(s + k, cap - k, "%sc%d", j ? "," : "", j);
    s[k++] = '\n';
    gb_error err = parse_fail(s, k, GB_ETOOLARGE, 1, GB_MAX_COLUMNS + 1);
    ck_assert_ptr_nonnull(strstr(err.message, "more than 10000 columns"));
    free(s);
}
END_TEST

START_TEST(test_error_non_finite_numbers)
{
    const char *cases[] = {"x,y\n1,2\n3,inf\n", "x,y\n1,2\n3,-Infinity\n",
                           "x,y\n1,2\n3,1e999\n", "x,y\n1,2\n3,-1.8e308\n"};
    for (size_t i = 0; i < 4; i++) {
        gb_error err = parse_fail(cases[i], strlen(cases[i]), GB_EINPUT, 3, 2);
        ck_assert_str_eq(err.field, "y");
        ck_assert_ptr_nonnull(strstr(err.message, "non-finite"));
    }
    /* The largest finite double and underflow to zero are fine. */
    gb_table *t = parse_ok("v\n1.7976931348623157e308\n1e-400\n4.9e-324\n");
    ck_assert(t->cols[0].values[0] == 1.7976931348623157e308);
    ck_assert(t->cols[0].values[1] == 0.0);
    ck_assert(t->cols[0].values[2] == 4.9e-324);
    gb_table_free(t);
    /* In a column that is categorical anyway, "inf" is just a level. */
    t = parse_ok("c\nlow\ninf\nhigh\n");
    ck_assert_int_eq(t->cols[0].type, GB_COL_CATEGORICAL);
    ck_assert_str_eq(t->cols[0].levels[1], "inf");
    gb_table_free(t);
}
END_TEST

START_TEST(test_error_invalid_utf8)
{
    gb_error err = parse_fail("a,b\n1,ok\n2,caf\xC3\n", 16, GB_EINPUT, 3, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "invalid UTF-8"));
    ck_assert_str_eq(err.field, "b");
    /* Overlong encoding, surrogate, beyond U+10FFFF, stray continuation. */
    parse_fail("a\n\xC0\xAF\n", 5, GB_EINPUT, 2, 1);
    parse_fail("a\n\xED\xA0\x80\n", 6, GB_EINPUT, 2, 1);
    parse_fail("a\n\xF4\x90\x80\x80\n", 7, GB_EINPUT, 2, 1);
    parse_fail("a\n\x80\n", 4, GB_EINPUT, 2, 1);
    /* In the header. */
    err = parse_fail("a,\xFF\n1,2\n", 8, GB_EINPUT, 1, 2);
    ck_assert_ptr_nonnull(strstr(err.message, "header"));
    /* Valid multi-byte text is kept verbatim. */
    gb_table *t = parse_ok("名前,v\n\xF0\x9F\x98\x80,1\ncafé,2\n");
    ck_assert_str_eq(t->cols[0].name, "名前");
    ck_assert_str_eq(t->cols[0].levels[0], "caf\xC3\xA9");
    ck_assert_str_eq(t->cols[0].levels[1], "\xF0\x9F\x98\x80");
    gb_table_free(t);
}
END_TEST

START_TEST(test_error_nul_byte)
{
    parse_fail("a,b\n1,x\0y\n", 10, GB_EINPUT, 2, 2);
    parse_fail("a\0,b\n1,2\n", 9, GB_EINPUT, 1, 1);
}
END_TEST

START_TEST(test_error_max_rows)
{
    gb_error err;
    gb_csv_options opts = {.max_rows = 1500};
    gb_csv_parser *p = gb_csv_parser_create(&opts, &err);
    ck_assert_int_eq(gb_csv_parser_feed(p, "x\n", 2, &err), GB_OK);
    gb_status rc = GB_OK;
    int i;
    for (i = 0; i < 2000 && rc == GB_OK; i++)
        rc = gb_csv_parser_feed(p, "1\n", 2, &err);
    ck_assert_int_eq(rc, GB_ETOOLARGE);
    ck_assert_int_eq(i, 1501);
    ck_assert_int_eq(err.line, 1502);
    /* Later calls repeat the error. */
    gb_error again;
    gb_table *t = NULL;
    ck_assert_int_eq(gb_csv_parser_feed(p, "1\n", 2, &again), GB_ETOOLARGE);
    ck_assert_str_eq(again.message, err.message);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &again), GB_ETOOLARGE);
    ck_assert_ptr_null(t);
    gb_csv_parser_free(p);
    /* Using a parser after finish is an error, not a second table. */
    p = gb_csv_parser_create(NULL, &err);
    ck_assert_int_eq(gb_csv_parser_feed(p, "x\n1\n", 4, &err), GB_OK);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_OK);
    gb_table_free(t);
    ck_assert_int_eq(gb_csv_parser_feed(p, "2\n", 2, &err), GB_EINTERNAL);
    ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_EINTERNAL);
    ck_assert_ptr_null(t);
    gb_csv_parser_free(p);
}
END_TEST

START_TEST(test_error_target_missing_and_target_with_missing)
{
    gb_error err;
    gb_target tg;
    gb_table *t = parse_ok("x,label\n1,a\n2,b\n3,\n4,a\n");
    ck_assert_int_eq(gb_target_resolve(t, "y", GB_TASK_AUTO, &tg, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "y");
    ck_assert_ptr_nonnull(strstr(err.message, "not in the dataset"));
    ck_assert_int_eq(gb_target_resolve(t, "label", GB_TASK_AUTO, &tg, &err),
                     GB_EUNUSABLE);
    ck_assert_int_eq(err.line, 4);
    ck_assert_int_eq(err.column, 2);
    ck_assert_str_eq(err.field, "label");
    gb_table_free(t);
}
END_TEST

/* ---- chunk boundaries
 * ---------------------------------------------------------------- */

static const char tricky_csv[] = "\xEF\xBB\xBF"
                                 "id,\"name, full\",score,grade,note\r\n"
                                 "1,\"Smith, J\",0.5,A,\"said \"\"yes\"\"\"\r\n"
                                 "2,Lee,NA,B,\"multi\r\nline\r\n\"\r\n"
                                 "\r\n"
                                 "3,\"\",1e-3,A,\r\n"
                                 "4,Müller,-2.25e+2,null,\"\"\"\"\r\n"
                                 "5,Ng,12345678901234567890,C,x\r\n"
                                 "6,O'Brien,  7 ,A,\"a,b,c\"";

START_TEST(test_chunk_boundaries_give_same_table)
{
    gb_error err;
    size_t n = sizeof tricky_csv - 1;
    gb_table *whole = NULL;
    ck_assert_int_eq(parse_chunked(tricky_csv, n, 0, &whole, &err), GB_OK);
    ck_assert_uint_eq(whole->n_rows, 6);
    ck_assert_str_eq(whole->cols[1].name, "name, full");
    ck_assert_int_eq(whole->cols[2].type, GB_COL_NUMERIC);
    ck_assert(whole->cols[2].values[5] == 7.0);
    ck_assert(whole->cols[2].values[4] == 12345678901234567890.0);
    ck_assert_uint_eq(whole->cols[3].n_missing, 1);
    const gb_column *note = &whole->cols[4];
    ck_assert_int_eq(note->codes[1], 2); /* levels: ", "a,b,c", multi.., said.., x */
    ck_assert_str_eq(note->levels[2], "multi\r\nline\r\n");
    long sizes[] = {1, 2, 3, 5, 7, 64, -3, -17, -100};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        gb_table *t = NULL;
        ck_assert_int_eq(parse_chunked(tricky_csv, n, sizes[k], &t, &err), GB_OK);
        assert_tables_equal(whole, t);
        gb_table_free(t);
    }
    /* Every split point of two chunks. */
    for (size_t cut = 0; cut <= n; cut++) {
        gb_csv_parser *p = gb_csv_parser_create(NULL, &err);
        gb_table *t = NULL;
        ck_assert_int_eq(gb_csv_parser_feed(p, tricky_csv, cut, &err), GB_OK);
        ck_assert_int_eq(gb_csv_parser_feed(p, tricky_csv + cut, n - cut, &err), GB_OK);
        ck_assert_int_eq(gb_csv_parser_finish(p, &t, &err), GB_OK);
        assert_tables_equal(whole, t);
        gb_table_free(t);
        gb_csv_parser_free(p);
    }
    gb_table_free(whole);
}
END_TEST

START_TEST(test_larger_random_csv_chunked)
{
    /* 3000 rows of mixed columns, written here, parsed whole and in random
     * chunks; numeric values must equal what was printed with %.17g. */
    gb_rng rng;
    gb_rng_seed(&rng, 99);
    size_t rows = 3000, cap = rows * 120 + 64, k = 0;
    char *s = malloc(cap);
    double *expect = malloc(rows * sizeof *expect);
    k += (size_t)snprintf(s + k, cap - k, "v,c,w\n");
    for (size_t i = 0; i < rows; i++) {
        double v =
            (gb_rng_uniform(&rng) - 0.5) * pow(10, (double)gb_rng_below(&rng, 40) - 20);
        expect[i] = v;
        k += (size_t)snprintf(s + k, cap - k, "%.17g,\"c%u\",%s\n", v,
                              (unsigned)gb_rng_below(&rng, 30),
                              gb_rng_below(&rng, 10) == 0 ? "NA" : "1.25");
    }
    gb_error err;
    gb_table *a = NULL, *b = NULL;
    ck_assert_int_eq(parse_chunked(s, k, 0, &a, &err), GB_OK);
    ck_assert_int_eq(parse_chunked(s, k, -5000, &b, &err), GB_OK);
    assert_tables_equal(a, b);
    for (size_t i = 0; i < rows; i++)
        ck_assert(a->cols[0].values[i] == expect[i]);
    ck_assert_uint_eq(a->cols[1].n_levels, 30);
    gb_table_free(a);
    gb_table_free(b);
    free(expect);
    free(s);
}
END_TEST

START_TEST(test_plain_decimals_fast_path_exact)
{
    /* Plain decimals with 0..10 integer and 0..10 fraction digits (around
     * the 8-byte blocks of the fast path), 6000 distinct rows so that the
     * token dictionaries are dropped; every value must equal strtod's. */
    gb_rng rng;
    gb_rng_seed(&rng, 77);
    size_t rows = 6000, cols = 3, cap = rows * cols * 32 + 64, k = 0;
    char *s = malloc(cap);
    char(*texts)[32] = malloc(rows * cols * sizeof *texts);
    k += (size_t)snprintf(s + k, cap - k, "a,b,c\n");
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            char *t = texts[i * cols + j];
            size_t len = 0;
            unsigned n_int = (unsigned)gb_rng_below(&rng, 11);
            unsigned n_frac = (unsigned)gb_rng_below(&rng, 11);
            if (n_int + n_frac == 0)
                n_int = 1;
            if (gb_rng_below(&rng, 3) == 0)
                t[len++] = '-';
            for (unsigned d = 0; d < n_int; d++)
                t[len++] = (char)('0' + gb_rng_below(&rng, 10));
            if (n_frac > 0 || gb_rng_below(&rng, 5) == 0) {
                t[len++] = '.';
                for (unsigned d = 0; d < n_frac; d++)
                    t[len++] = (char)('0' + gb_rng_below(&rng, 10));
            }
            t[len] = '\0';
            k += (size_t)snprintf(s + k, cap - k, "%s%s", t, j + 1 < cols ? "," : "\n");
        }
    }
    long chunkings[3] = {0, -70000, 333};
    for (int c = 0; c < 3; c++) {
        gb_error err;
        gb_table *t = NULL;
        ck_assert_int_eq(parse_chunked(s, k, chunkings[c], &t, &err), GB_OK);
        for (size_t j = 0; j < cols; j++) {
            ck_assert_int_eq(t->cols[j].type, GB_COL_NUMERIC);
            for (size_t i = 0; i < rows; i++) {
                double want = strtod(texts[i * cols + j], NULL);
                ck_assert_msg(memcmp(&t->cols[j].values[i], &want, sizeof want) == 0,
                              "'%s' parsed as %.17g", texts[i * cols + j],
                              t->cols[j].values[i]);
            }
        }
        gb_table_free(t);
    }
    free(texts);
    free(s);
}
END_TEST

/* ---- number parsing exactness
 * ----------------------------------------------------------- */

static void assert_parse_like_strtod(const char *text)
{
    double got = 0.0;
    gb_number_kind kind = gb_number_parse(text, strlen(text), &got);
    double want = strtod(text, NULL);
    if (!isfinite(want)) {
        ck_assert_msg(kind == GB_NUMBER_OVERFLOW, "%s", text);
        return;
    }
    ck_assert_msg(kind == GB_NUMBER_FINITE, "%s not parsed", text);
    ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s: got %.17g want %.17g",
                  text, got, want);
}

START_TEST(test_number_parse_matches_strtod)
{
    static const char *edge[] = {
        "0",
        "-0",
        "0.1",
        "0.3",
        "1e23",
        "8.98846567431158e307",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "9007199254740993",
        "9007199254740992.5",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.000000000000000111022302462515654042363166809082031250000000000000001",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "123456789012345678901234567890",
        "0.000000000000000000000000000000000000000000001",
        "1e-5000",
        "1e+5000",
        "3.14159265358979323846264338327950288419716939937510582097494459",
        "7.2057594037927933e16",
        "1448997445238699",
        "0.000001",
        "100000000000000000000000",
        "5e-324",
        "1e22",
        "1e-22",
        "123.456e-7",
        "9999999999999999999",
        "18446744073709551616"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        assert_parse_like_strtod(edge[i]);

    /* A 900-digit mantissa whose tail decides the rounding. */
    char big[1000];
    memset(big, '0', sizeof big);
    memcpy(big, "1.", 2);
    big[18] = '1';  /* 1 + 1e-16 ~ 1 + 0.45 ulp: rounds down ... */
    big[950] = '7'; /* ... unless the far tail pushes it; strtod decides */
    big[999] = '\0';
    assert_parse_like_strtod(big);

    gb_rng rng;
    gb_rng_seed(&rng, 2024);
    char text[64];
    for (int i = 0; i < 200000; i++) {
        int form = (int)gb_rng_below(&rng, 4);
        if (form == 0) {
            uint64_t bits = gb_rng_u64(&rng);
            double v;
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
            snprintf(text, sizeof text, "%.17g", v);
        } else if (form == 1) {
            /* Short decimals: the fast path. */
            int digits = 1 + (int)gb_rng_below(&rng, 15);
            unsigned long long m = gb_rng_u64(&rng) % 1000000000000000ULL;
            int scale = (int)gb_rng_below(&rng, (uint64_t)digits + 1);
            snprintf(text, sizeof text, "%s%llu", gb_rng_below(&rng, 2) ? "-" : "", m);
            size_t len = strlen(text);
            if (scale > 0 && (size_t)scale < len) {
                memmove(text + len - scale + 1, text + len - scale, (size_t)scale + 1);
                text[len - scale] = '.';
            }
        } else if (form == 2) {
            snprintf(text, sizeof text, "%llue%d",
                     (unsigned long long)(gb_rng_u64(&rng) >> gb_rng_below(&rng, 64)),
                     (int)gb_rng_below(&rng, 700) - 350);
        } else {
            snprintf(text, sizeof text, "%.*g", 1 + (int)gb_rng_below(&rng, 20),
                     gb_rng_uniform(&rng) *
                         pow(10, (double)gb_rng_below(&rng, 60) - 30));
        }
        assert_parse_like_strtod(text);
    }
}
END_TEST

START_TEST(test_number_grammar)
{
    double v;
    const char *bad[] = {"",      " ",     "+",   "-",   ".",   "e5",   "1e", "1e+",
                         "0x1p3", "1.2.3", "1 2", "inf", "nan", "1e5x", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(gb_number_parse(bad[i], strlen(bad[i]), &v) == GB_NUMBER_NONE,
                      "%s", bad[i]);
    ck_assert_int_eq(gb_number_parse(" -1.5e1\t", 8, &v), GB_NUMBER_FINITE);
    ck_assert(v == -15);
    ck_assert(gb_number_is_infinity_word("-INF", 4));
    ck_assert(gb_number_is_infinity_word(" Infinity ", 10));
    ck_assert(!gb_number_is_infinity_word("infin", 5));
}
END_TEST

/* ---- files and allocation failures ---------------------------------------------- */

START_TEST(test_read_file)
{
    char path[] = "/tmp/check_csv_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "a,b\n1,x\n2,y\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (long)strlen(text));
    close(fd);
    gb_error err;
    gb_table *t = NULL;
    ck_assert_int_eq(gb_csv_read_file(path, NULL, &t, &err), GB_OK);
    ck_assert_uint_eq(t->n_rows, 2);
    ck_assert_str_eq(t->cols[1].levels[1], "y");
    gb_table_free(t);
    unlink(path);
    ck_assert_int_eq(gb_csv_read_file(path, NULL, &t, &err), GB_ENOTFOUND);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.message, path));
}
END_TEST

START_TEST(test_allocation_failures)
{
    /* Enough rows to grow the columns, a categorical, a late-categorical and
     * a column whose dictionary overflows. */
    size_t cap = 80000, k = 0;
    char *s = malloc(cap);
    k += (size_t)snprintf(s + k, cap - k, "a,b,c,d\n");
    for (int i = 0; i < 1500; i++)
        k += (size_t)snprintf(s + k, cap - k, "%d,%s,%d,\"q%d\"\n", i,
                              i % 3 ? "x" : "NA", i % 5, i % 7);
    k += (size_t)snprintf(s + k, cap - k, "1,y,z,w\n");
    int succeeded = 0;
    long n_fail;
    for (n_fail = 1; n_fail < 400 && !succeeded; n_fail++) {
        gb_error err;
        gb_table *t = NULL;
        gb_alloc_fail_after(n_fail);
        gb_status rc = parse_chunked(s, k, 4000, &t, &err);
        gb_alloc_fail_after(0);
        if (rc == GB_OK) {
            succeeded = 1;
            ck_assert_uint_eq(t->n_rows, 1501);
            ck_assert_int_eq(t->cols[2].type, GB_COL_CATEGORICAL);
            gb_table_free(t);
        } else {
            ck_assert_int_eq(rc, GB_ENOMEM);
            ck_assert_ptr_null(t);
        }
    }
    ck_assert(succeeded);
    ck_assert_int_gt(n_fail, 10);
    free(s);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("dialect");
    tcase_add_test(tc, test_numeric_and_categorical);
    tcase_add_test(tc, test_quoting);
    tcase_add_test(tc, test_line_ends_and_blank_lines);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_missing_tokens);
    tcase_add_test(tc, test_header_only_is_empty_table);
    tcase_add_test(tc, test_numbers_with_blanks_and_forms);
    tcase_add_test(tc, test_column_turns_categorical_late);
    tcase_add_test(tc, test_many_distinct_numbers_stay_numeric);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_error_too_many_levels_after_numbers);
    tcase_add_test(te, test_error_too_many_levels_categorical);
    tcase_add_test(te, test_error_ragged_row_short);
    tcase_add_test(te, test_error_ragged_row_long);
    tcase_add_test(te, test_error_empty_file);
    tcase_add_test(te, test_error_empty_header_name);
    tcase_add_test(te, test_error_duplicate_column_names);
    tcase_add_test(te, test_error_unterminated_quote);
    tcase_add_test(te, test_error_quote_in_unquoted_field);
    tcase_add_test(te, test_error_text_after_closing_quote);
    tcase_add_test(te, test_error_field_too_long);
    tcase_add_test(te, test_error_record_too_long);
    tcase_add_test(te, test_error_too_many_columns);
    tcase_add_test(te, test_error_non_finite_numbers);
    tcase_add_test(te, test_error_invalid_utf8);
    tcase_add_test(te, test_error_nul_byte);
    tcase_add_test(te, test_error_max_rows);
    tcase_add_test(te, test_error_target_missing_and_target_with_missing);
    suite_add_tcase(s, te);
    TCase *tr = tcase_create("robustness");
    tcase_add_test(tr, test_chunk_boundaries_give_same_table);
    tcase_add_test(tr, test_larger_random_csv_chunked);
    tcase_add_test(tr, test_plain_decimals_fast_path_exact);
    tcase_add_test(tr, test_number_parse_matches_strtod);
    tcase_add_test(tr, test_number_grammar);
    tcase_add_test(tr, test_read_file);
    tcase_add_test(tr, test_allocation_failures);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(csv_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
