/*
 * csv.c - streaming CSV parser building typed columns (csv.h).
 * Layer: core/data.
 *
 * A byte-level state machine fed chunks of any size.  Unquoted fields that
 * end inside the current chunk are handled in place (no copy); a field cut by
 * a chunk boundary, or a quoted field, is assembled in one reusable buffer.
 * Each finished field goes straight into its column:
 *
 *   - while a column is numeric it keeps a double per row;
 *   - while it has at most GB_MAX_LEVELS distinct tokens it also keeps a
 *     dictionary of those tokens and a 16-bit code per row, so that it can
 *     turn categorical on its first non-numeric token without having kept the
 *     raw text;
 *   - a numeric column whose dictionary overflows drops it (and its codes);
 *     a non-numeric token after that is the "too many levels" error.
 *
 * At finish, categorical levels are sorted (gb_levels_sort) and the codes
 * remapped; numeric columns are trimmed to size.
 */
#include "core/data/csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/number.h"

#define CODE_MISSING UINT16_MAX
#define INITIAL_ROWS 1024
#define INITIAL_DICT_SLOTS 16
#define READ_CHUNK (1u << 20)

/* ---- per-column dictionary of distinct tokens ------------------------------ */

typedef struct dict_entry {
    size_t offset; /* into text */
    uint64_t word; /* tokens of <= 8 bytes: the bytes packed, else 0 */
    uint32_t len;
    uint32_t hash;
} dict_entry;

typedef struct token_dict {
    uint32_t *slots; /* n_slots, 0 = empty, else entry index + 1 */
    size_t n_slots;  /* power of two */
    dict_entry *entries;
    size_t n_entries, cap_entries;
    char *text;
    size_t text_len, text_cap;
} token_dict;

static void dict_free(token_dict *d)
{
    gb_free(d->slots);
    gb_free(d->entries);
    gb_free(d->text);
    memset(d, 0, sizeof *d);
}

/* Packs a token of at most 8 bytes into a word (bytes shifted in: a
 * variable-length memcpy would stall store forwarding). */
static uint64_t pack_short(const char *s, size_t n)
{
    uint64_t word = 0;
    for (size_t i = 0; i < n; i++)
        word |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return word;
}

static uint32_t hash_bytes(const char *s, size_t n, uint64_t word)
{
    if (n <= 8) {
        /* Short tokens (most numbers and codes): mix the packed bytes. */
        uint64_t h = (word ^ ((uint64_t)n << 59)) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ULL;
        return (uint32_t)(h ^ (h >> 32));
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return (uint32_t)(h ^ (h >> 32));
}

/* Result of dict_intern. */
enum { INTERN_OK = 0, INTERN_FULL = 1, INTERN_NOMEM = 2 };

static int dict_rehash(token_dict *d, size_t n_slots)
{
    uint32_t *slots = gb_calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return INTERN_NOMEM;
    for (size_t e = 0; e < d->n_entries; e++) {
        size_t s = d->entries[e].hash & (n_slots - 1);
        while (slots[s] != 0)
            s = (s + 1) & (n_slots - 1);
        slots[s] = (uint32_t)(e + 1);
    }
    gb_free(d->slots);
    d->slots = slots;
    d->n_slots = n_slots;
    return INTERN_OK;
}

/* Finds or adds token s[0..n).  *is_new tells whether it was added.  Adding a
 * token beyond GB_MAX_LEVELS entries gives INTERN_FULL (dictionary intact). */
static int dict_intern(token_dict *d, const char *s, size_t n, uint16_t *code,
                       int *is_new)
{
    *is_new = 0;
    if (d->slots == NULL && dict_rehash(d, INITIAL_DICT_SLOTS) != INTERN_OK)
        return INTERN_NOMEM;
    uint64_t word = n <= 8 ? pack_short(s, n) : 0;
    uint32_t h = hash_bytes(s, n, word);
    size_t mask = d->n_slots - 1, slot = h & mask;
    while (d->slots[slot] != 0) {
        const dict_entry *e = &d->entries[d->slots[slot] - 1];
        if (e->hash == h && e->len == n &&
            (n <= 8 ? e->word == word : memcmp(d->text + e->offset, s, n) == 0)) {
            *code = (uint16_t)(d->slots[slot] - 1);
            return INTERN_OK;
        }
        slot = (slot + 1) & mask;
    }
    if (d->n_entries >= GB_MAX_LEVELS)
        return INTERN_FULL;
    if (d->n_entries == d->cap_entries) {
        size_t cap = d->cap_entries ? d->cap_entries * 2 : 8;
        dict_entry *entries = gb_realloc_array(d->entries, cap, sizeof *entries);
        if (entries == NULL)
            return INTERN_NOMEM;
        d->entries = entries;
        d->cap_entries = cap;
    }
    if (d->text_len + n > d->text_cap) {
        size_t cap = d->text_cap ? d->text_cap : 64;
        while (cap < d->text_len + n)
            cap *= 2;
        char *text = gb_realloc(d->text, cap);
        if (text == NULL)
            return INTERN_NOMEM;
        d->text = text;
        d->text_cap = cap;
    }
    memcpy(d->text + d->text_len, s, n);
    dict_entry *e = &d->entries[d->n_entries];
    e->offset = d->text_len;
    e->word = word;
    e->len = (uint32_t)n;
    e->hash = h;
    d->text_len += n;
    d->slots[slot] = (uint32_t)(d->n_entries + 1);
    *code = (uint16_t)d->n_entries;
    d->n_entries++;
    *is_new = 1;
    if (d->n_entries * 2 > d->n_slots && dict_rehash(d, d->n_slots * 2) != INTERN_OK)
        return INTERN_NOMEM;
    return INTERN_OK;
}

/* ---- columns under construction -------------------------------------------- */

typedef struct col_build {
    int categorical;     /* saw a non-numeric token */
    int dict_overflowed; /* more than GB_MAX_LEVELS distinct tokens (numeric) */
    double *values;      /* while numeric: one per row */
    uint16_t *codes;     /* while the dictionary lives: one per row */
    token_dict dict;
    size_t n_missing;
    long nonfinite_line; /* first inf/overflow token, 0 = none */
} col_build;

/* ---- the parser -------------------------------------------------------------- */

typedef enum parse_state {
    S_FIELD_START, /* at the start of a field */
    S_UNQUOTED,    /* inside an unquoted field cut by a chunk boundary */
    S_QUOTED,      /* inside a quoted field */
    S_QUOTE_SEEN,  /* a quote inside a quoted field: end or escaped quote */
    S_AFTER_CR     /* a record ended with CR; skip one LF */
} parse_state;

struct gb_csv_parser {
    size_t max_rows;
    gb_status failed;
    gb_error saved;
    int finished; /* gb_csv_parser_finish was called */

    /* Byte-order mark matching at the very start. */
    unsigned bom_matched;
    int bom_done;

    parse_state state;
    long line;       /* current physical line, 1-based */
    long field_line; /* line where the current field started */
    size_t col;      /* index of the current field in its record */
    size_t record_bytes;
    int record_empty; /* no byte of the current record seen yet */

    char *buf; /* the field being assembled */
    size_t buf_len, buf_cap;

    int header_done;
    char **names;
    size_t n_names, cap_names;

    col_build *cols; /* n_names once the header is done */
    size_t n_rows, cap_rows;
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* Bytes that end an unquoted run. */
static const unsigned char special[256] = {
    [','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};

/* Records an error at (line, column col+1) naming the column when known;
 * the parser keeps it for every later call. */
static gb_status parser_fail(gb_csv_parser *p, gb_error *err, gb_status code, long line,
                             size_t col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static gb_status parser_fail(gb_csv_parser *p, gb_error *err, gb_status code, long line,
                             size_t col, const char *fmt, ...)
{
    gb_error e;
    gb_error_clear(&e);
    e.code = code;
    e.line = line;
    e.column = (long)col + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    if (p->header_done && col < p->n_names)
        gb_error_field(&e, p->names[col]);
    p->failed = code;
    p->saved = e;
    if (err != NULL)
        *err = e;
    return code;
}

static gb_status parser_nomem(gb_csv_parser *p, gb_error *err)
{
    gb_error e;
    gb_error_clear(&e);
    gb_error_set(&e, GB_ENOMEM, "out of memory parsing CSV (at line %ld)", p->line);
    p->failed = GB_ENOMEM;
    p->saved = e;
    if (err != NULL)
        *err = e;
    return GB_ENOMEM;
}

gb_csv_parser *gb_csv_parser_create(const gb_csv_options *opts, gb_error *err)
{
    gb_csv_parser *p = gb_calloc(1, sizeof *p);
    if (p == NULL) {
        gb_error_set(err, GB_ENOMEM, "out of memory creating the CSV parser");
        return NULL;
    }
    p->buf_cap = 256;
    p->buf = gb_malloc(p->buf_cap);
    if (p->buf == NULL) {
        gb_free(p);
        gb_error_set(err, GB_ENOMEM, "out of memory creating the CSV parser");
        return NULL;
    }
    p->max_rows = opts != NULL ? opts->max_rows : 0;
    p->line = 1;
    p->field_line = 1;
    p->record_empty = 1;
    p->state = S_FIELD_START;
    return p;
}

void gb_csv_parser_free(gb_csv_parser *p)
{
    if (p == NULL)
        return;
    gb_free(p->buf);
    gb_free_strings(p->names, p->n_names);
    for (size_t j = 0; p->cols != NULL && j < p->n_names; j++) {
        gb_free(p->cols[j].values);
        gb_free(p->cols[j].codes);
        dict_free(&p->cols[j].dict);
    }
    gb_free(p->cols);
    gb_free(p);
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Offset of the first invalid byte of s[0..n), or n when valid UTF-8
 * (no overlongs, surrogates or code points above U+10FFFF). */
static size_t utf8_invalid_at(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

/* Length of the longest prefix of valid UTF-8 s[0..n) that fits in max bytes
 * without cutting a character (for quoting values in messages). */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* ---- fields ---------------------------------------------------------------- */

static int is_missing_token(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return 1;
    char low[4];
    if (n != 2 && n != 3 && n != 4)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    return (n == 2 && memcmp(low, "na", 2) == 0) ||
           (n == 3 && memcmp(low, "nan", 3) == 0) ||
           (n == 4 && memcmp(low, "null", 4) == 0);
}

/* Grows every column to hold at least n_rows + 1 rows. */
static gb_status ensure_row(gb_csv_parser *p, gb_error *err)
{
    if (p->max_rows > 0 && p->n_rows >= p->max_rows)
        return parser_fail(p, err, GB_ETOOLARGE, p->field_line, 0,
                           "more than %zu data rows (the limit for this dataset)",
                           p->max_rows);
    if (p->n_rows < p->cap_rows)
        return GB_OK;
    size_t cap = p->cap_rows ? p->cap_rows * 2 : INITIAL_ROWS;
    for (size_t j = 0; j < p->n_names; j++) {
        col_build *c = &p->cols[j];
        if (c->values != NULL) {
            double *v = gb_realloc_array(c->values, cap, sizeof *v);
            if (v == NULL)
                return parser_nomem(p, err);
            c->values = v;
        }
        if (c->codes != NULL) {
            uint16_t *k = gb_realloc_array(c->codes, cap, sizeof *k);
            if (k == NULL)
                return parser_nomem(p, err);
            c->codes = k;
        }
    }
    p->cap_rows = cap;
    return GB_OK;
}

/* Adds token s[0..n) to column j's dictionary for the current row.  For a
 * categorical column an overflow is the too-many-levels error; for a numeric
 * one the dictionary and codes are dropped. */
static gb_status column_intern(gb_csv_parser *p, col_build *c, size_t j, const char *s,
                               size_t n, gb_error *err)
{
    uint16_t code = 0;
    int is_new = 0;
    int r = dict_intern(&c->dict, s, n, &code, &is_new);
    if (r == INTERN_NOMEM)
        return parser_nomem(p, err);
    if (r == INTERN_FULL) {
        if (c->categorical)
            return parser_fail(p, err, GB_EUNUSABLE, p->field_line, j,
                               "categorical column '%s' has more than %d levels",
                               p->names[j], GB_MAX_LEVELS);
        dict_free(&c->dict);
        gb_free(c->codes);
        c->codes = NULL;
        c->dict_overflowed = 1;
        return GB_OK;
    }
    if (is_new && memchr(s, '\0', n) != NULL)
        return parser_fail(p, err, GB_EINPUT, p->field_line, j, "NUL byte in a field");
    if (is_new && utf8_invalid_at(s, n) < n) {
        size_t at = utf8_invalid_at(s, n);
        return parser_fail(p, err, GB_EINPUT, p->field_line, j,
                           "invalid UTF-8 (byte 0x%02X at offset %zu of the field)",
                           (unsigned)(unsigned char)s[at], at);
    }
    c->codes[p->n_rows] = code;
    return GB_OK;
}

/* Stores a finished data field s[0..n) of column j in the current row. */
static gb_status store_field(gb_csv_parser *p, size_t j, const char *s, size_t n,
                             gb_error *err)
{
    col_build *c = &p->cols[j];
    size_t r = p->n_rows;
    if (is_missing_token(s, n)) {
        if (c->values != NULL)
            c->values[r] = NAN;
        if (c->codes != NULL)
            c->codes[r] = CODE_MISSING;
        c->n_missing++;
        return GB_OK;
    }
    if (!c->categorical) {
        double v = 0.0;
        gb_number_kind kind = gb_number_parse(s, n, &v);
        if (kind == GB_NUMBER_FINITE) {
            c->values[r] = v;
            return c->codes != NULL ? column_intern(p, c, j, s, n, err) : GB_OK;
        }
        if (kind == GB_NUMBER_OVERFLOW || gb_number_is_infinity_word(s, n)) {
            /* An error only if the column stays numeric (decided at finish). */
            if (c->nonfinite_line == 0)
                c->nonfinite_line = p->field_line;
            c->values[r] = NAN;
            if (c->codes != NULL)
                return column_intern(p, c, j, s, n, err);
            return GB_OK;
        }
        /* The first non-numeric token: the column turns categorical. */
        if (c->dict_overflowed) {
            size_t bad = utf8_invalid_at(s, n);
            if (bad < n)
                return parser_fail(
                    p, err, GB_EINPUT, p->field_line, j,
                    "invalid UTF-8 (byte 0x%02X at offset %zu of the field)",
                    (unsigned)(unsigned char)s[bad], bad);
            return parser_fail(
                p, err, GB_EUNUSABLE, p->field_line, j,
                "column '%s' has the non-numeric value '%.*s' after more "
                "than %d distinct numbers: a categorical column may have "
                "at most %d levels",
                p->names[j], (int)utf8_prefix(s, n, 40), s, GB_MAX_LEVELS,
                GB_MAX_LEVELS);
        }
        c->categorical = 1;
        gb_free(c->values);
        c->values = NULL;
    }
    return column_intern(p, c, j, s, n, err);
}

/* Adds a header name. */
static gb_status header_field(gb_csv_parser *p, const char *s, size_t n, gb_error *err)
{
    size_t j = p->n_names;
    if (j >= GB_MAX_COLUMNS)
        return parser_fail(p, err, GB_ETOOLARGE, p->field_line, j,
                           "the header has more than %d columns", GB_MAX_COLUMNS);
    size_t bad = utf8_invalid_at(s, n);
    if (bad < n)
        return parser_fail(p, err, GB_EINPUT, p->field_line, j,
                           "invalid UTF-8 in the header (byte 0x%02X at offset %zu)",
                           (unsigned)(unsigned char)s[bad], bad);
    if (n == 0)
        return parser_fail(p, err, GB_EINPUT, p->field_line, j,
                           "empty column name in the header (column %zu)", j + 1);
    if (memchr(s, '\0', n) != NULL)
        return parser_fail(p, err, GB_EINPUT, p->field_line, j,
                           "NUL byte in a column name in the header");
    if (j == p->cap_names) {
        size_t cap = p->cap_names ? p->cap_names * 2 : 16;
        char **names = gb_realloc_array(p->names, cap, sizeof *names);
        if (names == NULL)
            return parser_nomem(p, err);
        p->names = names;
        p->cap_names = cap;
    }
    if ((p->names[j] = gb_strndup(s, n)) == NULL)
        return parser_nomem(p, err);
    p->n_names++;
    return GB_OK;
}

typedef struct name_ref {
    const char *name;
    size_t index;
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* The header record is complete: check names, set up the columns. */
static gb_status header_end(gb_csv_parser *p, gb_error *err)
{
    size_t n = p->n_names;
    name_ref *order = gb_malloc_array(n, sizeof *order);
    if (order == NULL)
        return parser_nomem(p, err);
    for (size_t j = 0; j < n; j++) {
        order[j].name = p->names[j];
        order[j].index = j;
    }
    qsort(order, n, sizeof *order, cmp_name_ref);
    size_t dup_first = n, dup_second = n;
    for (size_t k = 1; k < n; k++) {
        if (strcmp(order[k - 1].name, order[k].name) == 0 &&
            (dup_second == n || order[k].index < dup_second)) {
            dup_first = order[k - 1].index;
            dup_second = order[k].index;
        }
    }
    gb_free(order);
    if (dup_second < n) {
        /* Earliest second occurrence, named with its first. */
        for (size_t j = 0; j < dup_second; j++)
            if (strcmp(p->names[j], p->names[dup_second]) == 0) {
                dup_first = j;
                break;
            }
        parser_fail(p, err, GB_EINPUT, p->line, dup_second,
                    "duplicate column name '%s' (columns %zu and %zu)",
                    p->names[dup_second], dup_first + 1, dup_second + 1);
        gb_error_field(&p->saved, p->names[dup_second]);
        if (err != NULL)
            *err = p->saved;
        return p->failed;
    }
    p->cols = gb_calloc(n, sizeof *p->cols);
    if (p->cols == NULL)
        return parser_nomem(p, err);
    for (size_t j = 0; j < n; j++) {
        p->cols[j].values = gb_malloc_array(INITIAL_ROWS, sizeof(double));
        p->cols[j].codes = gb_malloc_array(INITIAL_ROWS, sizeof(uint16_t));
        if (p->cols[j].values == NULL || p->cols[j].codes == NULL) {
            p->header_done = 1; /* so that free releases the columns */
            return parser_nomem(p, err);
        }
    }
    p->cap_rows = INITIAL_ROWS;
    p->header_done = 1;
    return GB_OK;
}

/* A field s[0..n) is complete (it ends the record when record_end). */
static gb_status field_done(gb_csv_parser *p, const char *s, size_t n, gb_error *err)
{
    p->record_bytes += n + 1;
    if (p->record_bytes > GB_MAX_LINE_BYTES)
        return parser_fail(p, err, GB_ETOOLARGE, p->field_line, p->col,
                           "record longer than %d bytes", GB_MAX_LINE_BYTES);
    if (!p->header_done)
        return header_field(p, s, n, err);
    if (p->col >= p->n_names)
        return parser_fail(
            p, err, GB_EINPUT, p->field_line, p->col,
            "ragged row: more than %zu fields (the header has %zu columns)", p->n_names,
            p->n_names);
    if (p->col == 0) {
        gb_status rc = ensure_row(p, err);
        if (rc != GB_OK)
            return rc;
    }
    return store_field(p, p->col, s, n, err);
}

/* The record that the last field_done belonged to is complete. */
static gb_status record_done(gb_csv_parser *p, gb_error *err)
{
    gb_status rc = GB_OK;
    if (!p->header_done) {
        rc = header_end(p, err);
    } else if (p->col + 1 < p->n_names) {
        return parser_fail(p, err, GB_EINPUT, p->field_line, p->col + 1,
                           "ragged row: %zu field(s), the header has %zu columns",
                           p->col + 1, p->n_names);
    } else {
        p->n_rows++;
    }
    p->col = 0;
    p->record_bytes = 0;
    p->record_empty = 1;
    return rc;
}

static gb_status buf_append(gb_csv_parser *p, const char *s, size_t n, gb_error *err)
{
    if (p->buf_len + n > GB_MAX_FIELD_BYTES)
        return parser_fail(p, err, GB_ETOOLARGE, p->field_line, p->col,
                           "field longer than %d bytes", GB_MAX_FIELD_BYTES);
    if (p->buf_len + n > p->buf_cap) {
        size_t cap = p->buf_cap;
        while (cap < p->buf_len + n)
            cap *= 2;
        char *b = gb_realloc(p->buf, cap);
        if (b == NULL)
            return parser_nomem(p, err);
        p->buf = b;
        p->buf_cap = cap;
    }
    memcpy(p->buf + p->buf_len, s, n);
    p->buf_len += n;
    return GB_OK;
}

/* Handles the byte that ended a field: ',' or a line end.  Returns the new
 * state via p->state. */
static gb_status after_field(gb_csv_parser *p, char end, gb_error *err)
{
    if (end == ',') {
        p->col++;
        p->record_empty = 0;
        p->field_line = p->line;
        p->state = S_FIELD_START;
        return GB_OK;
    }
    gb_status rc = record_done(p, err);
    p->line++;
    p->field_line = p->line;
    p->state = end == '\r' ? S_AFTER_CR : S_FIELD_START;
    return rc;
}

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSV_SWAR 1
static const uint64_t pow10_u64[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};

/* Counts the leading ASCII digits of s[0..8) (all 8 bytes readable) and, when
 * there are fewer than 8, sets *value to their decimal value (SWAR: eight
 * digits combined in three multiplications). */
static unsigned swar_digits(const char *s, uint64_t *value)
{
    uint64_t bytes;
    memcpy(&bytes, s, sizeof bytes);
    uint64_t x = bytes ^ 0x3030303030303030ULL; /* digit bytes become 0..9 */
    /* High bit set in every byte that is not 0..9; a carry only runs upwards
     * from such a byte, so the lowest flagged byte is the first non-digit. */
    uint64_t non_digit = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
    unsigned n = non_digit ? (unsigned)__builtin_ctzll(non_digit) >> 3 : 8;
    if (n == 0 || n == 8) {
        *value = 0;
        return n;
    }
    x <<= 8 * (8 - n); /* drop the bytes after the digits; zeros lead */
    x = (x * 10) + (x >> 8);
    x = (((x & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
         (((x >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >>
        32;
    *value = (uint32_t)x;
    return n;
}
#endif

/* The common field in one pass: a plain decimal [-]digits[.digits] of at most
 * 19 digits whose integer mantissa w <= 2^53, ending inside s[0..avail) at a
 * comma or line end.  Then w / 10^frac is one correctly rounded IEEE division
 * (Clinger's fast path, as in number.c).  Returns the field length and sets
 * *out, or returns 0 when the general path must decide. */
static size_t fast_number(const char *s, size_t avail, double *out)
{
    size_t k = 0, n_digits = 0, frac = 0;
    int neg = 0;
    uint64_t w = 0;
    if (avail > 0 && s[0] == '-') {
        neg = 1;
        k = 1;
    }
#ifdef CSV_SWAR
    if (avail >= k + 18) {
        /* Up to 7 integer and 7 fraction digits, 8 bytes at a time. */
        uint64_t int_part, frac_part;
        unsigned n_int = swar_digits(s + k, &int_part);
        if (n_int < 8) {
            k += n_int;
            w = int_part;
            n_digits = n_int;
            if (s[k] == '.') {
                unsigned n_frac = swar_digits(s + k + 1, &frac_part);
                if (n_frac < 8) {
                    k += 1 + n_frac;
                    w = w * pow10_u64[n_frac] + frac_part;
                    frac = n_frac;
                    n_digits += n_frac;
                    goto done;
                }
            } else {
                goto done;
            }
        }
        /* 8 or more digits in a row: restart the scalar scan after the sign. */
        k = (size_t)neg;
        w = 0;
        n_digits = 0;
    }
#endif
    while (k < avail && (unsigned)(s[k] - '0') < 10u) {
        w = w * 10 + (unsigned)(s[k] - '0');
        k++;
        n_digits++;
    }
    if (k < avail && s[k] == '.') {
        size_t start = ++k;
        while (k < avail && (unsigned)(s[k] - '0') < 10u) {
            w = w * 10 + (unsigned)(s[k] - '0');
            k++;
        }
        frac = k - start;
        n_digits += frac;
    }
#ifdef CSV_SWAR
done:
#endif
    if (n_digits == 0 || n_digits > 19 || k >= avail || w > (UINT64_C(1) << 53))
        return 0;
    if (s[k] != ',' && s[k] != '\n' && s[k] != '\r')
        return 0;
    double v = (double)w;
    if (frac > 0)
        v /= exact_pow10[frac]; /* frac <= 19 */
    *out = neg ? -v : v;
    return k;
}

/* The state machine over s[0..n) (BOM already handled). */
static gb_status parse_bytes(gb_csv_parser *p, const char *s, size_t n, gb_error *err)
{
    size_t i = 0;
    gb_status rc = GB_OK;
    while (i < n) {
        switch (p->state) {
        case S_AFTER_CR:
            if (s[i] == '\n')
                i++;
            p->state = S_FIELD_START;
            break;
        case S_FIELD_START: {
            char c = s[i];
            if (c == '"') {
                p->state = S_QUOTED;
                p->field_line = p->line;
                p->buf_len = 0;
                p->record_empty = 0;
                i++;
                break;
            }
            if ((c == '\n' || c == '\r') && p->record_empty) {
                /* A blank line: skipped. */
                p->line++;
                p->field_line = p->line;
                p->state = c == '\r' ? S_AFTER_CR : S_FIELD_START;
                i++;
                break;
            }
            if (p->header_done && p->col < p->n_names) {
                /* Hot path: a plain number in a numeric column (interned
                 * too while the column keeps its token dictionary). */
                col_build *cb = &p->cols[p->col];
                double v;
                size_t len;
                if (!cb->categorical && (len = fast_number(s + i, n - i, &v)) > 0) {
                    if (p->col == 0 && (rc = ensure_row(p, err)) != GB_OK)
                        return rc;
                    p->record_bytes += len + 1;
                    if (p->record_bytes > GB_MAX_LINE_BYTES)
                        return parser_fail(p, err, GB_ETOOLARGE, p->field_line, p->col,
                                           "record longer than %d bytes",
                                           GB_MAX_LINE_BYTES);
                    cb->values[p->n_rows] = v;
                    if (cb->codes != NULL &&
                        (rc = column_intern(p, cb, p->col, s + i, len, err)) != GB_OK)
                        return rc;
                    p->record_empty = 0;
                    if ((rc = after_field(p, s[i + len], err)) != GB_OK)
                        return rc;
                    i += len + 1;
                    break;
                }
            }
            size_t j = i;
            size_t limit =
                n - i > GB_MAX_FIELD_BYTES + 1 ? i + GB_MAX_FIELD_BYTES + 1 : n;
            while (j < limit && !special[(unsigned char)s[j]])
                j++;
            if (j == limit && limit < n)
                return parser_fail(p, err, GB_ETOOLARGE, p->field_line, p->col,
                                   "field longer than %d bytes", GB_MAX_FIELD_BYTES);
            if (j == n) {
                /* The field continues in the next chunk. */
                p->buf_len = 0;
                p->record_empty = 0;
                if ((rc = buf_append(p, s + i, n - i, err)) != GB_OK)
                    return rc;
                p->state = S_UNQUOTED;
                i = n;
                break;
            }
            if (s[j] == '"')
                return parser_fail(
                    p, err, GB_EINPUT, p->line, p->col,
                    "quote inside an unquoted field (quote the whole field "
                    "and double inner quotes)");
            p->record_empty = 0;
            if ((rc = field_done(p, s + i, j - i, err)) != GB_OK)
                return rc;
            if ((rc = after_field(p, s[j], err)) != GB_OK)
                return rc;
            i = j + 1;
            break;
        }
        case S_UNQUOTED: {
            size_t j = i;
            while (j < n && !special[(unsigned char)s[j]])
                j++;
            if ((rc = buf_append(p, s + i, j - i, err)) != GB_OK)
                return rc;
            if (j == n) {
                i = n;
                break;
            }
            if (s[j] == '"')
                return parser_fail(
                    p, err, GB_EINPUT, p->line, p->col,
                    "quote inside an unquoted field (quote the whole field "
                    "and double inner quotes)");
            if ((rc = field_done(p, p->buf, p->buf_len, err)) != GB_OK)
                return rc;
            if ((rc = after_field(p, s[j], err)) != GB_OK)
                return rc;
            i = j + 1;
            break;
        }
        case S_QUOTED: {
            size_t j = i;
            while (j < n && s[j] != '"') {
                if (s[j] == '\n')
                    p->line++;
                j++;
            }
            if ((rc = buf_append(p, s + i, j - i, err)) != GB_OK)
                return rc;
            if (j < n) {
                p->state = S_QUOTE_SEEN;
                j++;
            }
            i = j;
            break;
        }
        case S_QUOTE_SEEN: {
            char c = s[i];
            if (c == '"') {
                if ((rc = buf_append(p, "\"", 1, err)) != GB_OK)
                    return rc;
                p->state = S_QUOTED;
                i++;
                break;
            }
            if (c != ',' && c != '\n' && c != '\r')
                return parser_fail(
                    p, err, GB_EINPUT, p->line, p->col,
                    "unexpected character after a closing quote (a quoted "
                    "field must end at a comma or line end)");
            if ((rc = field_done(p, p->buf, p->buf_len, err)) != GB_OK)
                return rc;
            if ((rc = after_field(p, c, err)) != GB_OK)
                return rc;
            i++;
            break;
        }
        }
    }
    return GB_OK;
}

gb_status gb_csv_parser_feed(gb_csv_parser *p, const char *bytes, size_t n,
                             gb_error *err)
{
    if (p->finished && p->failed == GB_OK)
        parser_fail(p, NULL, GB_EINTERNAL, 0, 0, "CSV parser used after finish");
    if (p->failed != GB_OK) {
        if (err != NULL)
            *err = p->saved;
        return p->failed;
    }
    size_t i = 0;
    while (!p->bom_done && i < n) {
        if ((unsigned char)bytes[i] == BOM[p->bom_matched]) {
            p->bom_matched++;
            i++;
            if (p->bom_matched == 3)
                p->bom_done = 1;
        } else {
            p->bom_done = 1;
            if (p->bom_matched > 0) {
                /* Not a BOM after all: those bytes are content. */
                gb_status rc = parse_bytes(p, (const char *)BOM, p->bom_matched, err);
                if (rc != GB_OK)
                    return rc;
            }
        }
    }
    return parse_bytes(p, bytes + i, n - i, err);
}

/* Builds the final column j into *out, consuming the build state. */
static gb_status column_finish(gb_csv_parser *p, size_t j, gb_column *out,
                               gb_error *err)
{
    col_build *c = &p->cols[j];
    size_t n = p->n_rows;
    if (!c->categorical) {
        if (c->nonfinite_line > 0)
            return parser_fail(p, err, GB_EINPUT, c->nonfinite_line, j,
                               "column '%s' has a non-finite number (inf or beyond "
                               "1.8e308)",
                               p->names[j]);
        double *v = c->values;
        if (n > 0 && n < p->cap_rows) {
            double *shrunk = gb_realloc_array(v, n, sizeof *v);
            if (shrunk != NULL)
                v = shrunk;
        }
        out->type = GB_COL_NUMERIC;
        out->values = v;
        out->n_missing = c->n_missing;
        c->values = NULL;
        gb_free(c->codes);
        c->codes = NULL;
        dict_free(&c->dict);
        return GB_OK;
    }
    size_t k = c->dict.n_entries;
    char **levels = gb_calloc(k, sizeof *levels);
    int32_t *remap = gb_malloc_array(k, sizeof *remap);
    int32_t *codes = gb_malloc_array(n, sizeof *codes);
    if (levels == NULL || remap == NULL || codes == NULL)
        goto nomem;
    for (size_t l = 0; l < k; l++) {
        const dict_entry *e = &c->dict.entries[l];
        if ((levels[l] = gb_strndup(c->dict.text + e->offset, e->len)) == NULL)
            goto nomem;
    }
    if (gb_levels_sort(levels, k, remap) != GB_OK)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        codes[i] = c->codes[i] == CODE_MISSING ? -1 : remap[c->codes[i]];
    gb_free(remap);
    gb_free(c->codes);
    c->codes = NULL;
    dict_free(&c->dict);
    out->type = GB_COL_CATEGORICAL;
    out->codes = codes;
    out->levels = levels;
    out->n_levels = k;
    out->n_missing = c->n_missing;
    return GB_OK;
nomem:
    gb_free_strings(levels, k);
    gb_free(remap);
    gb_free(codes);
    return parser_nomem(p, err);
}

gb_status gb_csv_parser_finish(gb_csv_parser *p, gb_table **out, gb_error *err)
{
    *out = NULL;
    gb_status rc = GB_OK;
    if (p->finished && p->failed == GB_OK)
        parser_fail(p, NULL, GB_EINTERNAL, 0, 0, "CSV parser used after finish");
    p->finished = 1;
    if (p->failed != GB_OK) {
        if (err != NULL)
            *err = p->saved;
        return p->failed;
    }
    if (!p->bom_done && p->bom_matched > 0) {
        p->bom_done = 1;
        if ((rc = parse_bytes(p, (const char *)BOM, p->bom_matched, err)) != GB_OK)
            return rc;
    }
    switch (p->state) {
    case S_QUOTED:
        return parser_fail(p, err, GB_EINPUT, p->field_line, p->col,
                           "unterminated quoted field (opened on line %ld)",
                           p->field_line);
    case S_UNQUOTED:
    case S_QUOTE_SEEN:
        if ((rc = field_done(p, p->buf, p->buf_len, err)) != GB_OK)
            return rc;
        if ((rc = record_done(p, err)) != GB_OK)
            return rc;
        break;
    case S_FIELD_START:
        if (!p->record_empty) {
            /* The last field of a record without a final line end is empty. */
            if ((rc = field_done(p, "", 0, err)) != GB_OK)
                return rc;
            if ((rc = record_done(p, err)) != GB_OK)
                return rc;
        }
        break;
    case S_AFTER_CR: break;
    }
    if (!p->header_done) {
        if (p->n_names == 0)
            return parser_fail(p, err, GB_EINPUT, 1, 0, "empty file: no header row");
        if ((rc = header_end(p, err)) != GB_OK)
            return rc;
    }
    gb_table *t = gb_calloc(1, sizeof *t);
    gb_column *cols = gb_calloc(p->n_names, sizeof *cols);
    if (t == NULL || cols == NULL) {
        gb_free(t);
        gb_free(cols);
        return parser_nomem(p, err);
    }
    t->cols = cols;
    t->n_rows = p->n_rows;
    for (size_t j = 0; j < p->n_names; j++) {
        if ((rc = column_finish(p, j, &cols[j], err)) != GB_OK) {
            t->n_cols = j;
            gb_table_free(t);
            return rc;
        }
        cols[j].name = p->names[j];
        p->names[j] = NULL;
        t->n_cols = j + 1;
    }
    *out = t;
    return GB_OK;
}

gb_status gb_csv_read_file(const char *path, const gb_csv_options *opts, gb_table **out,
                           gb_error *err)
{
    *out = NULL;
    gb_status rc = GB_OK;
    char *chunk = NULL;
    gb_csv_parser *p = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        rc = gb_error_set(err, e == ENOENT ? GB_ENOTFOUND : GB_EIO,
                          "cannot open '%s': %s", path, strerror(e));
        goto done;
    }
    chunk = gb_malloc(READ_CHUNK);
    p = gb_csv_parser_create(opts, err);
    if (chunk == NULL || p == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    for (;;) {
        size_t got = fread(chunk, 1, READ_CHUNK, f);
        if (got > 0 && (rc = gb_csv_parser_feed(p, chunk, got, err)) != GB_OK)
            goto done;
        if (got < READ_CHUNK) {
            if (ferror(f)) {
                rc = gb_error_set(err, GB_EIO, "error reading '%s'", path);
                goto done;
            }
            break;
        }
    }
    rc = gb_csv_parser_finish(p, out, err);
done:
    gb_csv_parser_free(p);
    gb_free(chunk);
    if (f != NULL)
        fclose(f);
    return rc;
}
