/*
 * ubjson.c - bounded UBJSON reader building a cJSON tree.
 * Layer: core/model/teachers.
 */
#include "core/model/teachers/ubjson.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const unsigned char *bytes;
    size_t n;
    size_t pos;
    size_t budget; /* values still allowed (one per input byte) */
    gb_error *err;
    char *scratch; /* holds the string being read, NUL-terminated */
    size_t scratch_cap;
} reader;

static cJSON *parse_value(reader *r, unsigned char marker, size_t at, int depth);

static void fail_at(reader *r, size_t at, const char *what)
{
    gb_error_set(r->err, GB_EINPUT, "UBJSON: %s at byte %zu", what, at);
}

static size_t remaining(const reader *r)
{
    return r->n - r->pos;
}

/* Next byte, or -1 at the end (the error is set). */
static int next_byte(reader *r, const char *what)
{
    if (r->pos >= r->n) {
        fail_at(r, r->pos, what);
        return -1;
    }
    return r->bytes[r->pos++];
}

/* Bytes taken by one value of fixed-size type `marker` (0 for Z/T/F), or -1
 * for variable-size types. */
static int fixed_size(unsigned char marker)
{
    switch (marker) {
    case 'Z':
    case 'T':
    case 'F': return 0;
    case 'i':
    case 'U':
    case 'C': return 1;
    case 'I': return 2;
    case 'l':
    case 'd': return 4;
    case 'L':
    case 'D': return 8;
    default: return -1;
    }
}

static uint64_t read_be(const unsigned char *p, int size)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads the integer payload of marker (i U I l L) into *out. */
static int read_int(reader *r, unsigned char marker, size_t at, int64_t *out)
{
    int size = fixed_size(marker);
    if (remaining(r) < (size_t)size) {
        fail_at(r, at, "truncated integer");
        return -1;
    }
    uint64_t u = read_be(r->bytes + r->pos, size);
    r->pos += (size_t)size;
    switch (marker) {
    case 'i': *out = (int8_t)(uint8_t)u; break;
    case 'U': *out = (int64_t)u; break;
    case 'I': *out = (int16_t)(uint16_t)u; break;
    case 'l': *out = (int32_t)(uint32_t)u; break;
    default: *out = (int64_t)u; break;
    }
    return 0;
}

/* A length (string, key, count): an integer marker and a non-negative value
 * no larger than the bytes left (times min_bytes per unit). */
static int read_length(reader *r, size_t min_bytes, size_t *out)
{
    size_t at = r->pos;
    int m = next_byte(r, "truncated length");
    if (m < 0)
        return -1;
    if (m != 'i' && m != 'U' && m != 'I' && m != 'l' && m != 'L') {
        fail_at(r, at, "a length must be an integer");
        return -1;
    }
    int64_t v = 0;
    if (read_int(r, (unsigned char)m, at, &v) != 0)
        return -1;
    if (v < 0) {
        fail_at(r, at, "negative length");
        return -1;
    }
    if (min_bytes > 0 && (uint64_t)v > remaining(r) / min_bytes) {
        fail_at(r, at, "declared length exceeds the remaining input");
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Reads a length-prefixed byte string into r->scratch (NUL-terminated; valid
 * until the next string is read). */
static char *read_string(reader *r)
{
    size_t at = r->pos;
    size_t len = 0;
    if (read_length(r, 1, &len) != 0)
        return NULL;
    if (len > GB_UBJSON_MAX_STRING) {
        fail_at(r, at, "string too long");
        return NULL;
    }
    const unsigned char *s = r->bytes + r->pos;
    if (memchr(s, 0, len) != NULL) {
        fail_at(r, at, "string holds a NUL byte");
        return NULL;
    }
    if (len + 1 > r->scratch_cap) {
        size_t cap = len + 1 < 256 ? 256 : len + 1;
        char *p = gb_realloc(r->scratch, cap);
        if (p == NULL) {
            gb_error_set(r->err, GB_ENOMEM, "out of memory reading UBJSON");
            return NULL;
        }
        r->scratch = p;
        r->scratch_cap = cap;
    }
    memcpy(r->scratch, s, len);
    r->scratch[len] = '\0';
    r->pos += len;
    return r->scratch;
}

static cJSON *nomem(reader *r)
{
    gb_error_set(r->err, GB_ENOMEM, "out of memory reading UBJSON");
    return NULL;
}

static cJSON *parse_number_string(reader *r, size_t at)
{
    char *text = read_string(r);
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    int ok = len > 0 && len <= 64;
    for (size_t i = 0; ok && i < len; i++)
        ok = strchr("0123456789+-.eE", text[i]) != NULL;
    char *end = NULL;
    double v = ok ? strtod(text, &end) : 0.0;
    if (!ok || end != text + len) {
        fail_at(r, at, "malformed high-precision number");
        return NULL;
    }
    cJSON *item = cJSON_CreateNumber(v);
    return item != NULL ? item : nomem(r);
}

/* Parses a container after its opening marker. */
static cJSON *parse_container(reader *r, unsigned char open, size_t at, int depth)
{
    int is_object = open == '{';
    unsigned char close = is_object ? '}' : ']';
    if (depth >= GB_JSON_MAX_DEPTH) {
        fail_at(r, at, "nesting too deep");
        return NULL;
    }
    int type = 0;
    size_t count = 0;
    int counted = 0;
    if (r->pos < r->n && r->bytes[r->pos] == '$') {
        size_t tat = r->pos++;
        int t = next_byte(r, "truncated container type");
        if (t < 0)
            return NULL;
        if (t == 'N' || t == '$' || t == '#' || t == ']' || t == '}') {
            fail_at(r, tat + 1, "invalid container element type");
            return NULL;
        }
        type = t;
        if (r->pos >= r->n || r->bytes[r->pos] != '#') {
            fail_at(r, r->pos, "a typed container needs a count");
            return NULL;
        }
    }
    if (r->pos < r->n && r->bytes[r->pos] == '#') {
        r->pos++;
        size_t cat = r->pos;
        /* Bytes per element at least: a marker for untyped elements, the
         * fixed size for typed ones, a key length for object entries. */
        int fs = type != 0 ? fixed_size((unsigned char)type) : 1;
        size_t min_bytes = fs < 0 ? 1 : (size_t)fs;
        if (is_object)
            min_bytes += 2;
        if (read_length(r, min_bytes, &count) != 0)
            return NULL;
        if (count > r->budget) {
            fail_at(r, cat, "declared count exceeds the remaining input");
            return NULL;
        }
        counted = 1;
    }
    cJSON *node = is_object ? cJSON_CreateObject() : cJSON_CreateArray();
    if (node == NULL)
        return nomem(r);
    for (size_t i = 0;; i++) {
        if (counted && i == count)
            break;
        if (!counted) {
            /* skip no-ops, stop at the closing marker */
            while (r->pos < r->n && r->bytes[r->pos] == 'N')
                r->pos++;
            if (r->pos >= r->n) {
                fail_at(r, r->pos, "unterminated container");
                goto fail;
            }
            if (r->bytes[r->pos] == close) {
                r->pos++;
                break;
            }
        }
        char *key = NULL, *key_heap = NULL;
        char key_short[64];
        if (is_object) {
            const char *k = read_string(r);
            if (k == NULL)
                goto fail;
            size_t klen = strlen(k);
            if (klen < sizeof key_short) {
                memcpy(key_short, k, klen + 1);
                key = key_short;
            } else if ((key = key_heap = gb_strdup(k)) == NULL) {
                nomem(r);
                goto fail;
            }
        }
        size_t vat = r->pos;
        unsigned char marker;
        if (type != 0) {
            marker = (unsigned char)type;
        } else {
            int m = next_byte(r, "truncated value");
            if (m < 0) {
                gb_free(key_heap);
                goto fail;
            }
            marker = (unsigned char)m;
        }
        cJSON *child = parse_value(r, marker, vat, depth + 1);
        if (child == NULL) {
            gb_free(key_heap);
            goto fail;
        }
        int added = is_object ? cJSON_AddItemToObject(node, key, child)
                              : cJSON_AddItemToArray(node, child);
        gb_free(key_heap);
        if (!added) {
            cJSON_Delete(child);
            nomem(r);
            goto fail;
        }
    }
    return node;
fail:
    cJSON_Delete(node);
    return NULL;
}

/* Parses one value whose marker (at byte `at`) has been consumed. */
static cJSON *parse_value(reader *r, unsigned char marker, size_t at, int depth)
{
    if (r->budget == 0) {
        fail_at(r, at, "more values than input bytes");
        return NULL;
    }
    r->budget--;
    cJSON *item = NULL;
    switch (marker) {
    case 'Z': item = cJSON_CreateNull(); break;
    case 'T': item = cJSON_CreateTrue(); break;
    case 'F': item = cJSON_CreateFalse(); break;
    case 'i':
    case 'U':
    case 'I':
    case 'l':
    case 'L': {
        int64_t v = 0;
        if (read_int(r, marker, at, &v) != 0)
            return NULL;
        item = cJSON_CreateNumber((double)v);
        break;
    }
    case 'd': {
        if (remaining(r) < 4) {
            fail_at(r, at, "truncated float32");
            return NULL;
        }
        uint32_t u = (uint32_t)read_be(r->bytes + r->pos, 4);
        r->pos += 4;
        float f;
        memcpy(&f, &u, sizeof f);
        item = cJSON_CreateNumber((double)f);
        break;
    }
    case 'D': {
        if (remaining(r) < 8) {
            fail_at(r, at, "truncated float64");
            return NULL;
        }
        uint64_t u = read_be(r->bytes + r->pos, 8);
        r->pos += 8;
        double d;
        memcpy(&d, &u, sizeof d);
        item = cJSON_CreateNumber(d);
        break;
    }
    case 'H': return parse_number_string(r, at);
    case 'C': {
        int c = next_byte(r, "truncated char");
        if (c < 0)
            return NULL;
        if (c == 0) {
            fail_at(r, at, "char is a NUL byte");
            return NULL;
        }
        char s[2] = {(char)c, 0};
        item = cJSON_CreateString(s);
        break;
    }
    case 'S': {
        char *s = read_string(r);
        if (s == NULL)
            return NULL;
        item = cJSON_CreateString(s);
        break;
    }
    case '[':
    case '{': return parse_container(r, marker, at, depth);
    default: fail_at(r, at, "unknown marker"); return NULL;
    }
    return item != NULL ? item : nomem(r);
}

cJSON *gb_ubjson_parse(const unsigned char *bytes, size_t n, gb_error *err)
{
    reader r = {bytes, n, 0, n, err, NULL, 0};
    while (r.pos < n && bytes[r.pos] == 'N')
        r.pos++;
    if (r.pos >= n) {
        gb_error_set(err, GB_EINPUT, "UBJSON: empty document");
        return NULL;
    }
    size_t at = r.pos++;
    cJSON *root = parse_value(&r, bytes[at], at, 0);
    gb_free(r.scratch);
    if (root == NULL)
        return NULL;
    while (r.pos < n && bytes[r.pos] == 'N')
        r.pos++;
    if (r.pos != n) {
        cJSON_Delete(root);
        gb_error_set(err, GB_EINPUT, "UBJSON: trailing bytes at byte %zu", r.pos);
        return NULL;
    }
    return root;
}
