/*
 * lightgbm.c - LightGBM model.txt parser and scorer.
 * Layer: core/model/teachers.
 *
 * The text is read line by line: a header of key=value lines, "Tree=i"
 * blocks of key=value lines, "end of trees", then optional
 * feature_importances, a "parameters:" block and a "pandas_categorical:"
 * line.  Every array is parsed by counting its tokens first, so no declared
 * count is trusted for an allocation; every tree is checked to be a tree
 * (each node reached once from the root) before it is ever walked.
 */
#include "core/model/teachers/lightgbm.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/treeshap.h"

/* LightGBM's kZeroThreshold is the float 1e-35f widened to double. */
#define LGB_ZERO_THRESHOLD ((double)1e-35f)

enum { LGB_MISSING_NONE = 0, LGB_MISSING_ZERO = 1, LGB_MISSING_NAN = 2 };

typedef enum lgb_link {
    LGB_LINK_SIGMOID,
    LGB_LINK_SOFTMAX,
    LGB_LINK_IDENTITY,
    LGB_LINK_SQUARE, /* regression sqrt: sign(raw) * raw^2 */
    LGB_LINK_EXP
} lgb_link;

typedef struct lgb_node {
    double threshold; /* numeric split threshold */
    int32_t left;     /* >= 0 internal node, < 0 ~leaf */
    int32_t right;
    int32_t feature;
    uint32_t cat_begin; /* categorical: first bitset word in cat_bits */
    uint32_t cat_words; /* categorical: number of bitset words */
    uint8_t categorical;
    uint8_t default_left;
    uint8_t missing_type;
} lgb_node;

typedef struct lgb_tree {
    size_t node0;   /* first node in lgb_model.nodes */
    size_t n_nodes; /* num_leaves - 1 */
    size_t leaf0;   /* first value in lgb_model.leaves */
} lgb_tree;

typedef struct lgb_model {
    size_t n_trees, n_nodes, n_leaves, n_cat_words;
    lgb_tree *trees;
    lgb_node *nodes;
    double *leaves;
    uint32_t *cat_bits;
    size_t n_per_iter; /* num_tree_per_iteration: raw scores per row */
    size_t n_features;
    int average_output;
    lgb_link link;
    double sigmoid;
    char *objective;
    gb_forest *forest; /* the trees with their internal_count / leaf_count
                          covers, for TreeSHAP; NULL without usable counts */
} lgb_model;

/* ---- text helpers -------------------------------------------------------- */

typedef struct lgb_reader {
    const char *p, *end;
    long line; /* number of the line last returned */
} lgb_reader;

/* The next line without its terminator (LF or CRLF); 0 at end of input. */
static int reader_next(lgb_reader *r, const char **s, size_t *len)
{
    if (r->p >= r->end)
        return 0;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = nl != NULL ? nl : r->end;
    *s = r->p;
    *len = (size_t)(stop - r->p);
    if (*len > 0 && (*s)[*len - 1] == '\r')
        (*len)--;
    r->p = nl != NULL ? nl + 1 : r->end;
    r->line++;
    return 1;
}

static int line_is(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(s, lit, n) == 0;
}

static int line_starts(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && memcmp(s, lit, n) == 0;
}

static int line_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* A value of a key=value line, remembered with its line. */
typedef struct lgb_value {
    const char *s;
    size_t len;
    long line;
    int present;
} lgb_value;

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Counts the whitespace-separated tokens of v. */
static size_t count_tokens(const lgb_value *v)
{
    size_t n = 0;
    for (size_t i = 0; i < v->len;) {
        while (i < v->len && is_space(v->s[i]))
            i++;
        if (i >= v->len)
            break;
        n++;
        while (i < v->len && !is_space(v->s[i]))
            i++;
    }
    return n;
}

/* Advances *pos past the next token of v, returning it in tok and tok_len. */
static int next_token(const lgb_value *v, size_t *pos, const char **tok,
                      size_t *tok_len)
{
    size_t i = *pos;
    while (i < v->len && is_space(v->s[i]))
        i++;
    if (i >= v->len)
        return 0;
    size_t start = i;
    while (i < v->len && !is_space(v->s[i]))
        i++;
    *tok = v->s + start;
    *tok_len = i - start;
    *pos = i;
    return 1;
}

/* Parses a decimal number token ("0.5", "-1e-35", "inf", "-inf").  NaN,
 * hexadecimal and anything with trailing characters are refused. */
static int parse_double(const char *tok, size_t len, double *out)
{
    char buf[80];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    const char *body = buf[0] == '+' || buf[0] == '-' ? buf + 1 : buf;
    if (strcmp(body, "inf") == 0) {
        *out = buf[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        return 1;
    }
    for (const char *c = body; *c; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == 'e' || *c == 'E' ||
              *c == '+' || *c == '-'))
            return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || (errno == ERANGE && isinf(v)))
        return 0;
    *out = v;
    return 1;
}

static int parse_long(const char *tok, size_t len, long lo, long hi, long *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!((buf[i] >= '0' && buf[i] <= '9') ||
              (i == 0 && (buf[i] == '-' || buf[i] == '+'))))
            return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static gb_status bad_value(gb_error *err, const lgb_value *v, const char *key,
                           const char *what)
{
    gb_error_at(err, GB_EUNUSABLE, v->line, 0, "LightGBM model, line %ld: %s in '%s'",
                v->line, what, key);
    gb_error_field(err, key);
    return GB_EUNUSABLE;
}

/* A single integer value in [lo, hi]. */
static gb_status value_long(const lgb_value *v, const char *key, long lo, long hi,
                            long *out, gb_error *err)
{
    size_t pos = 0;
    const char *tok = NULL;
    size_t tok_len = 0;
    if (!next_token(v, &pos, &tok, &tok_len) ||
        !parse_long(tok, tok_len, lo, hi, out) || next_token(v, &pos, &tok, &tok_len))
        return bad_value(err, v, key, "not a valid integer");
    return GB_OK;
}

/* An array of exactly `expect` numbers; *out caller-owned (gb_free). */
static gb_status value_doubles(const lgb_value *v, const char *key, size_t expect,
                               double **out, gb_error *err)
{
    *out = NULL;
    size_t n = count_tokens(v);
    if (n != expect) {
        char what[96];
        snprintf(what, sizeof what, "%zu values where %zu are expected", n, expect);
        return bad_value(err, v, key, what);
    }
    double *vals = gb_malloc_array(n ? n : 1, sizeof *vals);
    if (vals == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tok = NULL;
        size_t tok_len = 0;
        next_token(v, &pos, &tok, &tok_len);
        if (!parse_double(tok, tok_len, &vals[i])) {
            gb_free(vals);
            char what[64];
            snprintf(what, sizeof what, "malformed number (value %zu)", i + 1);
            return bad_value(err, v, key, what);
        }
    }
    *out = vals;
    return GB_OK;
}

/* An array of exactly `expect` integers in [lo, hi]. */
static gb_status value_longs(const lgb_value *v, const char *key, size_t expect,
                             long lo, long hi, long **out, gb_error *err)
{
    *out = NULL;
    size_t n = count_tokens(v);
    if (n != expect) {
        char what[96];
        snprintf(what, sizeof what, "%zu values where %zu are expected", n, expect);
        return bad_value(err, v, key, what);
    }
    long *vals = gb_malloc_array(n ? n : 1, sizeof *vals);
    if (vals == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tok = NULL;
        size_t tok_len = 0;
        next_token(v, &pos, &tok, &tok_len);
        if (!parse_long(tok, tok_len, lo, hi, &vals[i])) {
            gb_free(vals);
            char what[80];
            snprintf(what, sizeof what, "malformed or out-of-range integer (value %zu)",
                     i + 1);
            return bad_value(err, v, key, what);
        }
    }
    *out = vals;
    return GB_OK;
}

/* ---- the model being built ----------------------------------------------- */

static void lgb_model_free(void *impl)
{
    lgb_model *lm = impl;
    if (lm == NULL)
        return;
    gb_free(lm->trees);
    gb_free(lm->nodes);
    gb_free(lm->leaves);
    gb_free(lm->cat_bits);
    gb_free(lm->objective);
    gb_forest_free(lm->forest);
    gb_free(lm);
}

/* Grows *arr (of *cap elements of size) to hold at least need elements. */
static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 1;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *p = gb_realloc_array(*arr, cap2, size);
    if (p == NULL)
        return 0;
    *arr = p;
    *cap = cap2;
    return 1;
}

typedef struct lgb_build {
    lgb_model *lm;
    size_t cap_trees, cap_nodes, cap_leaves, cap_cat;
    unsigned char *cat_feature; /* n_features flags: split categorically */
    /* Node covers while loading: every tree so far had usable
     * internal_count / leaf_count lines (counts_ok), kept parallel to
     * lm->nodes and lm->leaves. */
    int counts_ok;
    double *node_count, *leaf_count;
    size_t cap_node_count, cap_leaf_count;
} lgb_build;

enum {
    TK_NUM_LEAVES,
    TK_NUM_CAT,
    TK_SPLIT_FEATURE,
    TK_THRESHOLD,
    TK_DECISION_TYPE,
    TK_LEFT_CHILD,
    TK_RIGHT_CHILD,
    TK_LEAF_VALUE,
    TK_CAT_BOUNDARIES,
    TK_CAT_THRESHOLD,
    TK_IS_LINEAR,
    TK_INTERNAL_COUNT,
    TK_LEAF_COUNT,
    TK_COUNT
};

static const char *const tree_keys[TK_COUNT] = {
    "num_leaves", "num_cat",        "split_feature", "threshold",      "decision_type",
    "left_child", "right_child",    "leaf_value",    "cat_boundaries", "cat_threshold",
    "is_linear",  "internal_count", "leaf_count"};

static gb_status tree_error(gb_error *err, long line, const char *key, size_t tree,
                            const char *what)
{
    gb_error_at(err, GB_EUNUSABLE, line, 0, "LightGBM model, line %ld: tree %zu: %s",
                line, tree, what);
    if (key != NULL)
        gb_error_field(err, key);
    return GB_EUNUSABLE;
}

/* Checks that the children of a tree with n_nodes internal nodes and
 * n_nodes + 1 leaves form one tree rooted at node 0: every index in range
 * and every node and leaf reached exactly once.  Uses scratch of
 * 2 * n_nodes + 1 bytes and n_nodes + 1 ints. */
static gb_status check_tree_shape(const long *left, const long *right, size_t n_nodes,
                                  size_t tree, long line, gb_error *err)
{
    gb_status rc = GB_OK;
    size_t n_leaves = n_nodes + 1;
    unsigned char *seen_node = gb_calloc(n_nodes, 1);
    unsigned char *seen_leaf = gb_calloc(n_leaves, 1);
    size_t *stack = gb_malloc_array(n_nodes, sizeof *stack);
    if (seen_node == NULL || seen_leaf == NULL || stack == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    size_t top = 0, reached_nodes = 1, reached_leaves = 0;
    stack[top++] = 0;
    seen_node[0] = 1;
    while (top > 0) {
        size_t node = stack[--top];
        long kids[2] = {left[node], right[node]};
        for (int c = 0; c < 2; c++) {
            long k = kids[c];
            if (k >= 0) {
                if ((size_t)k >= n_nodes || seen_node[k]) {
                    rc = tree_error(
                        err, line, c ? "right_child" : "left_child", tree,
                        (size_t)k >= n_nodes
                            ? "child index out of range"
                            : "a node is reached twice (cycle or shared node)");
                    goto out;
                }
                seen_node[k] = 1;
                reached_nodes++;
                stack[top++] = (size_t)k;
            } else {
                long leaf = ~k;
                if ((size_t)leaf >= n_leaves || seen_leaf[leaf]) {
                    rc = tree_error(err, line, c ? "right_child" : "left_child", tree,
                                    (size_t)leaf >= n_leaves
                                        ? "leaf index out of range"
                                        : "a leaf is reached twice");
                    goto out;
                }
                seen_leaf[leaf] = 1;
                reached_leaves++;
            }
        }
    }
    if (reached_nodes != n_nodes || reached_leaves != n_leaves)
        rc = tree_error(err, line, "left_child", tree,
                        "some nodes or leaves are not reachable from the root");
out:
    gb_free(seen_node);
    gb_free(seen_leaf);
    gb_free(stack);
    return rc;
}

/* Appends the tree's internal_count and leaf_count (its covers for
 * TreeSHAP) to b->node_count / b->leaf_count.  A tree without them, or with
 * malformed, negative or (at a split) zero counts, leaves the model without
 * attributions (b->counts_ok = 0) but loads.  GB_ENOMEM only. */
static gb_status tree_counts(lgb_build *b, const lgb_value *kv, size_t n_nodes,
                             size_t n_leaves, gb_error *err)
{
    if (!b->counts_ok)
        return GB_OK;
    lgb_model *lm = b->lm;
    double *internal = NULL, *leaf = NULL;
    gb_error ignored;
    gb_status rc = GB_OK;
    if (!kv[TK_LEAF_COUNT].present || (n_nodes > 0 && !kv[TK_INTERNAL_COUNT].present)) {
        b->counts_ok = 0;
        return GB_OK;
    }
    rc = value_doubles(&kv[TK_LEAF_COUNT], "leaf_count", n_leaves, &leaf, &ignored);
    if (rc == GB_OK && n_nodes > 0)
        rc = value_doubles(&kv[TK_INTERNAL_COUNT], "internal_count", n_nodes, &internal,
                           &ignored);
    if (rc == GB_ENOMEM) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    int usable = rc == GB_OK;
    for (size_t i = 0; usable && i < n_leaves; i++)
        usable = isfinite(leaf[i]) && leaf[i] >= 0;
    for (size_t i = 0; usable && i < n_nodes; i++)
        usable = isfinite(internal[i]) && internal[i] > 0;
    rc = GB_OK;
    if (!usable) {
        b->counts_ok = 0;
        goto out;
    }
    if (!grow((void **)&b->node_count, &b->cap_node_count, lm->n_nodes + n_nodes,
              sizeof *b->node_count) ||
        !grow((void **)&b->leaf_count, &b->cap_leaf_count, lm->n_leaves + n_leaves,
              sizeof *b->leaf_count)) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    if (n_nodes > 0)
        memcpy(b->node_count + lm->n_nodes, internal, n_nodes * sizeof *internal);
    memcpy(b->leaf_count + lm->n_leaves, leaf, n_leaves * sizeof *leaf);
out:
    gb_free(internal);
    gb_free(leaf);
    return rc;
}

/* Builds tree number `tree` from its collected values and appends it. */
static gb_status tree_add(lgb_build *b, const lgb_value *kv, size_t tree,
                          long tree_line, gb_error *err)
{
    gb_status rc = GB_OK;
    lgb_model *lm = b->lm;
    double *threshold = NULL, *leaf_value = NULL;
    long *split_feature = NULL, *decision_type = NULL, *left = NULL, *right = NULL;
    long *cat_boundaries = NULL, *cat_threshold = NULL;
    long num_leaves = 0, num_cat = 0, is_linear = 0;

    if (!kv[TK_NUM_LEAVES].present)
        return tree_error(err, tree_line, "num_leaves", tree, "no num_leaves line");
    rc = value_long(&kv[TK_NUM_LEAVES], "num_leaves", 1, GB_LGB_MAX_LEAVES, &num_leaves,
                    err);
    if (rc != GB_OK)
        return rc;
    if (kv[TK_IS_LINEAR].present) {
        rc = value_long(&kv[TK_IS_LINEAR], "is_linear", 0, 1, &is_linear, err);
        if (rc != GB_OK)
            return rc;
        if (is_linear)
            return tree_error(err, kv[TK_IS_LINEAR].line, "is_linear", tree,
                              "linear trees (linear_tree=true) are not supported");
    }
    if (kv[TK_NUM_CAT].present) {
        rc =
            value_long(&kv[TK_NUM_CAT], "num_cat", 0, GB_LGB_MAX_LEAVES, &num_cat, err);
        if (rc != GB_OK)
            return rc;
    }
    if (!kv[TK_LEAF_VALUE].present)
        return tree_error(err, tree_line, "leaf_value", tree, "no leaf_value line");
    size_t n_leaves = (size_t)num_leaves, n_nodes = n_leaves - 1;
    rc = value_doubles(&kv[TK_LEAF_VALUE], "leaf_value", n_leaves, &leaf_value, err);
    if (rc != GB_OK)
        goto out;
    for (size_t i = 0; i < n_leaves; i++)
        if (!isfinite(leaf_value[i])) {
            rc = bad_value(err, &kv[TK_LEAF_VALUE], "leaf_value",
                           "non-finite leaf value");
            goto out;
        }

    long max_feature = (long)lm->n_features - 1;
    if (n_nodes > 0) {
        static const int need[] = {TK_SPLIT_FEATURE, TK_THRESHOLD, TK_DECISION_TYPE,
                                   TK_LEFT_CHILD, TK_RIGHT_CHILD};
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
            if (!kv[need[i]].present) {
                char what[64];
                snprintf(what, sizeof what, "no %s line", tree_keys[need[i]]);
                rc = tree_error(err, tree_line, tree_keys[need[i]], tree, what);
                goto out;
            }
        if ((rc = value_longs(&kv[TK_SPLIT_FEATURE], "split_feature", n_nodes, 0,
                              max_feature, &split_feature, err)) != GB_OK ||
            (rc = value_doubles(&kv[TK_THRESHOLD], "threshold", n_nodes, &threshold,
                                err)) != GB_OK ||
            (rc = value_longs(&kv[TK_DECISION_TYPE], "decision_type", n_nodes, 0, 15,
                              &decision_type, err)) != GB_OK ||
            (rc = value_longs(&kv[TK_LEFT_CHILD], "left_child", n_nodes,
                              -(long)n_leaves, (long)n_nodes - 1, &left, err)) !=
                GB_OK ||
            (rc = value_longs(&kv[TK_RIGHT_CHILD], "right_child", n_nodes,
                              -(long)n_leaves, (long)n_nodes - 1, &right, err)) !=
                GB_OK)
            goto out;
        rc = check_tree_shape(left, right, n_nodes, tree, kv[TK_LEFT_CHILD].line, err);
        if (rc != GB_OK)
            goto out;
    }
    size_t n_cat_words = 0;
    if (num_cat > 0) {
        if (!kv[TK_CAT_BOUNDARIES].present || !kv[TK_CAT_THRESHOLD].present) {
            rc = tree_error(
                err, tree_line,
                kv[TK_CAT_BOUNDARIES].present ? "cat_threshold" : "cat_boundaries",
                tree, "num_cat > 0 without cat_boundaries and cat_threshold");
            goto out;
        }
        size_t n_words = count_tokens(&kv[TK_CAT_THRESHOLD]);
        if (n_words > (size_t)GB_LGB_MAX_CAT_WORDS * (size_t)num_cat) {
            rc = bad_value(err, &kv[TK_CAT_THRESHOLD], "cat_threshold",
                           "too many bitset words");
            goto out;
        }
        if ((rc = value_longs(&kv[TK_CAT_BOUNDARIES], "cat_boundaries",
                              (size_t)num_cat + 1, 0, (long)n_words, &cat_boundaries,
                              err)) != GB_OK ||
            (rc = value_longs(&kv[TK_CAT_THRESHOLD], "cat_threshold", n_words, 0,
                              (long)UINT32_MAX, &cat_threshold, err)) != GB_OK)
            goto out;
        if (cat_boundaries[0] != 0 || (size_t)cat_boundaries[num_cat] != n_words) {
            rc = bad_value(
                err, &kv[TK_CAT_BOUNDARIES], "cat_boundaries",
                "boundaries must start at 0 and end at the number of bitset words");
            goto out;
        }
        for (long c = 0; c < num_cat; c++)
            if (cat_boundaries[c + 1] < cat_boundaries[c] ||
                cat_boundaries[c + 1] - cat_boundaries[c] > GB_LGB_MAX_CAT_WORDS) {
                rc = bad_value(err, &kv[TK_CAT_BOUNDARIES], "cat_boundaries",
                               "boundaries must be nondecreasing and bounded");
                goto out;
            }
        n_cat_words = n_words;
    }

    if ((rc = tree_counts(b, kv, n_nodes, n_leaves, err)) != GB_OK)
        goto out;

    /* Append to the model's flat arrays. */
    if (!grow((void **)&lm->trees, &b->cap_trees, lm->n_trees + 1, sizeof *lm->trees) ||
        !grow((void **)&lm->nodes, &b->cap_nodes, lm->n_nodes + n_nodes,
              sizeof *lm->nodes) ||
        !grow((void **)&lm->leaves, &b->cap_leaves, lm->n_leaves + n_leaves,
              sizeof *lm->leaves) ||
        !grow((void **)&lm->cat_bits, &b->cap_cat, lm->n_cat_words + n_cat_words,
              sizeof *lm->cat_bits)) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    if (lm->n_cat_words + n_cat_words > UINT32_MAX) {
        rc = tree_error(err, tree_line, "cat_threshold", tree,
                        "too many categorical words");
        goto out;
    }
    for (size_t i = 0; i < n_nodes; i++) {
        lgb_node *nd = &lm->nodes[lm->n_nodes + i];
        memset(nd, 0, sizeof *nd);
        long dt = decision_type[i];
        nd->categorical = (uint8_t)(dt & 1);
        nd->default_left = (uint8_t)((dt >> 1) & 1);
        nd->missing_type = (uint8_t)((dt >> 2) & 3);
        if (nd->missing_type > LGB_MISSING_NAN) {
            rc = bad_value(err, &kv[TK_DECISION_TYPE], "decision_type",
                           "missing type 3 does not exist");
            goto out;
        }
        nd->feature = (int32_t)split_feature[i];
        nd->left = (int32_t)left[i];
        nd->right = (int32_t)right[i];
        if (nd->categorical) {
            double t = threshold[i];
            if (!(t >= 0 && t < (double)num_cat) || t != floor(t)) {
                rc = bad_value(
                    err, &kv[TK_THRESHOLD], "threshold",
                    "categorical split threshold is not a valid num_cat index");
                goto out;
            }
            long c = (long)t;
            nd->cat_begin = (uint32_t)(lm->n_cat_words + (size_t)cat_boundaries[c]);
            nd->cat_words = (uint32_t)(cat_boundaries[c + 1] - cat_boundaries[c]);
            b->cat_feature[nd->feature] = 1;
        } else {
            if (isnan(threshold[i])) {
                rc = bad_value(err, &kv[TK_THRESHOLD], "threshold", "NaN threshold");
                goto out;
            }
            nd->threshold = threshold[i];
        }
    }
    for (size_t i = 0; i < n_cat_words; i++)
        lm->cat_bits[lm->n_cat_words + i] = (uint32_t)cat_threshold[i];
    memcpy(lm->leaves + lm->n_leaves, leaf_value, n_leaves * sizeof *leaf_value);
    lm->trees[lm->n_trees].node0 = lm->n_nodes;
    lm->trees[lm->n_trees].n_nodes = n_nodes;
    lm->trees[lm->n_trees].leaf0 = lm->n_leaves;
    lm->n_trees++;
    lm->n_nodes += n_nodes;
    lm->n_leaves += n_leaves;
    lm->n_cat_words += n_cat_words;
out:
    gb_free(threshold);
    gb_free(leaf_value);
    gb_free(split_feature);
    gb_free(decision_type);
    gb_free(left);
    gb_free(right);
    gb_free(cat_boundaries);
    gb_free(cat_threshold);
    return rc;
}

/* ---- scoring -------------------------------------------------------------- */

/* Leaf value of one tree for one row x (n_features values). */
static double tree_predict(const lgb_model *lm, const lgb_tree *t, const double *x)
{
    if (t->n_nodes == 0)
        return lm->leaves[t->leaf0];
    const lgb_node *nodes = lm->nodes + t->node0;
    int32_t node = 0;
    while (node >= 0) {
        const lgb_node *nd = &nodes[node];
        double fval = x[nd->feature];
        /* LightGBM drops inputs with |x| <= kZeroThreshold (they read 0). */
        if (fabs(fval) <= LGB_ZERO_THRESHOLD)
            fval = 0.0;
        if (nd->categorical) {
            int go_left = 0;
            if (!isnan(fval) && fval >= 0 && fval < 2147483648.0) {
                uint32_t cat = (uint32_t)(int32_t)fval;
                uint32_t word = cat / 32;
                if (word < nd->cat_words)
                    go_left = (lm->cat_bits[nd->cat_begin + word] >> (cat % 32)) & 1;
            }
            node = go_left ? nd->left : nd->right;
        } else {
            if (isnan(fval) && nd->missing_type != LGB_MISSING_NAN)
                fval = 0.0;
            if ((nd->missing_type == LGB_MISSING_ZERO && fval == 0.0) ||
                (nd->missing_type == LGB_MISSING_NAN && isnan(fval)))
                node = nd->default_left ? nd->left : nd->right;
            else
                node = fval <= nd->threshold ? nd->left : nd->right;
        }
    }
    return lm->leaves[t->leaf0 + (size_t)~node];
}

/* Raw scores, n_rows x n_per_iter row-major. */
static void lgb_raw(const lgb_model *lm, const double *X, size_t n_rows, double *raw)
{
    size_t K = lm->n_per_iter, F = lm->n_features;
    memset(raw, 0, n_rows * K * sizeof *raw);
    for (size_t t = 0; t < lm->n_trees; t++) {
        const lgb_tree *tree = &lm->trees[t];
        size_t k = t % K;
        for (size_t r = 0; r < n_rows; r++)
            raw[r * K + k] += tree_predict(lm, tree, X + r * F);
    }
    if (lm->average_output) {
        double iters = (double)(lm->n_trees / K);
        for (size_t i = 0; i < n_rows * K; i++)
            raw[i] /= iters;
    }
}

static gb_status lgb_predict_margin(const gb_model *m, const double *X, size_t n_rows,
                                    double *out, gb_error *err)
{
    (void)err;
    lgb_raw(m->impl, X, n_rows, out);
    return GB_OK;
}

static gb_status lgb_predict(const gb_model *m, const double *X, size_t n_rows,
                             double *out, gb_error *err)
{
    const lgb_model *lm = m->impl;
    size_t K = lm->n_per_iter;
    if (lm->link != LGB_LINK_SIGMOID) {
        /* Raw scores have the output's shape: transform in place. */
        lgb_raw(lm, X, n_rows, out);
        for (size_t r = 0; r < n_rows; r++) {
            double *o = out + r * K;
            switch (lm->link) {
            case LGB_LINK_SOFTMAX: {
                double wmax = o[0];
                for (size_t k = 1; k < K; k++)
                    if (o[k] > wmax)
                        wmax = o[k];
                double wsum = 0.0;
                for (size_t k = 0; k < K; k++) {
                    o[k] = exp(o[k] - wmax);
                    wsum += o[k];
                }
                for (size_t k = 0; k < K; k++)
                    o[k] /= wsum;
                break;
            }
            case LGB_LINK_SQUARE:
                o[0] = (double)((o[0] > 0) - (o[0] < 0)) * o[0] * o[0];
                break;
            case LGB_LINK_EXP: o[0] = exp(o[0]); break;
            default: break;
            }
        }
        return GB_OK;
    }
    double *raw = gb_malloc_array(n_rows ? n_rows : 1, sizeof *raw);
    if (raw == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
    lgb_raw(lm, X, n_rows, raw);
    for (size_t r = 0; r < n_rows; r++) {
        double p = 1.0 / (1.0 + exp(-lm->sigmoid * raw[r]));
        out[2 * r] = 1.0 - p;
        out[2 * r + 1] = p;
    }
    gb_free(raw);
    return GB_OK;
}

static cJSON *lgb_to_json(const gb_model *m)
{
    const lgb_model *lm = m->impl;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    if (cJSON_AddStringToObject(root, "format", "lightgbm") == NULL ||
        cJSON_AddStringToObject(root, "objective", lm->objective) == NULL ||
        gb_json_add_number(root, "trees", (double)lm->n_trees) == NULL ||
        gb_json_add_number(root, "trees_per_iteration", (double)lm->n_per_iter) ==
            NULL ||
        gb_json_add_number(root, "leaves", (double)lm->n_leaves) == NULL ||
        cJSON_AddBoolToObject(root, "average_output", lm->average_output) == NULL) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static const gb_model_ops lgb_ops = {
    .kind = "lightgbm",
    .predict = lgb_predict,
    .predict_margin = lgb_predict_margin,
    .attribute = NULL,
    .to_json = lgb_to_json,
    .free_impl = lgb_model_free,
};

/* Path-dependent TreeSHAP of the raw scores (core/model/treeshap.h), with
 * the trees' data counts as covers, as LightGBM's pred_contrib. */
static gb_status lgb_attribute(const gb_model *m, const double *X, size_t n_rows,
                               double *phi, gb_error *err)
{
    const lgb_model *lm = m->impl;
    return gb_forest_treeshap(lm->forest, X, n_rows, 1, phi, err);
}

/* As lgb_ops, with attributions (the file had usable node counts). */
static const gb_model_ops lgb_shap_ops = {
    .kind = "lightgbm",
    .predict = lgb_predict,
    .predict_margin = lgb_predict_margin,
    .attribute = lgb_attribute,
    .to_json = lgb_to_json,
    .free_impl = lgb_model_free,
};

/* Builds lm->forest from the loaded trees and the counts in b (every tree's
 * nodes renumbered breadth-first, so children follow their parents; leaves
 * scaled by 1 / iterations with average_output; tree t writes raw score
 * t % num_tree_per_iteration).  Trees the forest refuses leave the model
 * without attributions.  GB_ENOMEM only. */
static gb_status lgb_build_forest(lgb_model *lm, const lgb_build *b, gb_error *err)
{
    gb_status rc = GB_OK;
    size_t max_nodes = 1;
    for (size_t t = 0; t < lm->n_trees; t++)
        if (2 * lm->trees[t].n_nodes + 1 > max_nodes)
            max_nodes = 2 * lm->trees[t].n_nodes + 1;
    gb_forest_node *nodes = gb_calloc(max_nodes, sizeof *nodes);
    long *order = gb_malloc_array(max_nodes, sizeof *order); /* lgb child codes */
    double *values = gb_malloc_array(max_nodes, sizeof *values);
    size_t *cat_at = gb_malloc_array(max_nodes, sizeof *cat_at); /* into cats */
    int32_t *cats = NULL;
    size_t cap_cats = 0;
    gb_forest *forest =
        gb_forest_create(lm->n_features, lm->n_per_iter, NULL, 0, 0, err);
    if (nodes == NULL || order == NULL || values == NULL || cat_at == NULL ||
        forest == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    gb_forest_set_zero_threshold(forest, LGB_ZERO_THRESHOLD);
    double scale =
        lm->average_output ? 1.0 / (double)(lm->n_trees / lm->n_per_iter) : 1.0;
    for (size_t t = 0; t < lm->n_trees; t++) {
        const lgb_tree *tree = &lm->trees[t];
        /* a model whose trees are all single leaves has no node array */
        const lgb_node *tn = lm->nodes != NULL ? lm->nodes + tree->node0 : NULL;
        size_t head = 0, tail = 1, n_cats = 0;
        /* Code c >= 0 is internal node c, c < 0 is leaf ~c (0 alone = a stump). */
        order[0] = tree->n_nodes > 0 ? 0 : -1;
        while (head < tail) {
            size_t at = head;
            long c = order[head++];
            gb_forest_node *nd = nodes + at;
            memset(nd, 0, sizeof *nd);
            if (c < 0) {
                size_t l = (size_t)~c;
                values[at] = lm->leaves[tree->leaf0 + l] * scale;
                nd->feature = -1;
                nd->left = nd->right = -1;
                nd->cover = b->leaf_count[tree->leaf0 + l];
                nd->value = values + at;
                continue;
            }
            const lgb_node *ln = tn + c;
            nd->feature = ln->feature;
            nd->cover = b->node_count[tree->node0 + (size_t)c];
            nd->left = (int32_t)tail;
            order[tail++] = ln->left;
            nd->right = (int32_t)tail;
            order[tail++] = ln->right;
            if (ln->categorical) {
                /* Listed codes go left; NaN, negative and unlisted go right. */
                nd->categorical = 1;
                nd->cats_left = 1;
                nd->missing_left = 0;
                size_t need = n_cats + 32 * (size_t)ln->cat_words;
                if (need > cap_cats) {
                    int32_t *grown = gb_realloc_array(cats, need * 2, sizeof *cats);
                    if (grown == NULL) {
                        rc = gb_error_set(err, GB_ENOMEM,
                                          "out of memory reading a LightGBM model");
                        goto out;
                    }
                    cats = grown;
                    cap_cats = need * 2;
                }
                cat_at[at] = n_cats; /* cats may still move: pointers below */
                for (uint32_t w = 0; w < ln->cat_words; w++)
                    for (uint32_t bit = 0; bit < 32; bit++)
                        if ((lm->cat_bits[ln->cat_begin + w] >> bit) & 1u)
                            cats[n_cats++] = (int32_t)(w * 32 + bit);
                nd->n_cats = n_cats - cat_at[at];
            } else {
                nd->threshold = ln->threshold;
                if (ln->missing_type == LGB_MISSING_NONE) {
                    nd->missing_left = 0.0 <= ln->threshold; /* NaN reads 0 */
                } else {
                    nd->missing_left = ln->default_left;
                    nd->zero_missing = ln->missing_type == LGB_MISSING_ZERO;
                }
            }
        }
        for (size_t i = 0; i < tail; i++)
            if (nodes[i].categorical)
                nodes[i].cats = cats + cat_at[i];
        rc = gb_forest_add_tree(forest, nodes, tail, t % lm->n_per_iter, 1, err);
        if (rc == GB_EUNUSABLE) {
            gb_error_clear(err);
            rc = GB_OK;
            goto out; /* no attributions */
        }
        if (rc != GB_OK)
            goto out;
    }
    lm->forest = forest;
    forest = NULL;
out:
    gb_forest_free(forest);
    gb_free(cats);
    gb_free(cat_at);
    gb_free(values);
    gb_free(order);
    gb_free(nodes);
    return rc;
}

/* ---- header, objective, categories ------------------------------------- */

enum {
    HK_VERSION,
    HK_NUM_CLASS,
    HK_NUM_TREE_PER_ITERATION,
    HK_MAX_FEATURE_IDX,
    HK_OBJECTIVE,
    HK_FEATURE_NAMES,
    HK_FEATURE_INFOS,
    HK_COUNT
};

static const char *const header_keys[HK_COUNT] = {
    "version",   "num_class",     "num_tree_per_iteration", "max_feature_idx",
    "objective", "feature_names", "feature_infos"};

/* Splits a key=value line; 0 when there is no '='. */
static int split_kv(const char *s, size_t len, const char **key, size_t *key_len,
                    lgb_value *v, long line)
{
    const char *eq = memchr(s, '=', len);
    if (eq == NULL)
        return 0;
    *key = s;
    *key_len = (size_t)(eq - s);
    v->s = eq + 1;
    v->len = len - *key_len - 1;
    v->line = line;
    v->present = 1;
    return 1;
}

static int key_index(const char *key, size_t key_len, const char *const *keys, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(keys[i]) == key_len && memcmp(keys[i], key, key_len) == 0)
            return i;
    return -1;
}

/* Parses the objective line into link, sigmoid and task. */
static gb_status parse_objective(const lgb_value *v, long num_class, lgb_model *lm,
                                 gb_task *task, gb_error *err)
{
    size_t pos = 0;
    const char *tok = NULL;
    size_t tok_len = 0;
    if (!next_token(v, &pos, &tok, &tok_len))
        return bad_value(err, v, "objective", "empty objective");
    char name[64];
    if (tok_len >= sizeof name)
        return bad_value(err, v, "objective", "unknown objective");
    memcpy(name, tok, tok_len);
    name[tok_len] = '\0';
    static const char *const identity[] = {"regression", "regression_l1", "huber",
                                           "fair",       "quantile",      "mape"};
    static const char *const exp_link[] = {"poisson", "gamma", "tweedie"};
    int is_identity = 0, is_exp = 0;
    for (size_t i = 0; i < sizeof identity / sizeof identity[0]; i++)
        is_identity |= strcmp(name, identity[i]) == 0;
    for (size_t i = 0; i < sizeof exp_link / sizeof exp_link[0]; i++)
        is_exp |= strcmp(name, exp_link[i]) == 0;
    int binary = strcmp(name, "binary") == 0 || strcmp(name, "cross_entropy") == 0;
    int multi = strcmp(name, "multiclass") == 0;
    if (!binary && !multi && !is_identity && !is_exp) {
        gb_error_at(
            err, GB_EUNUSABLE, v->line, 0,
            "LightGBM model, line %ld: objective '%s' is not supported (supported: "
            "binary, cross_entropy, multiclass, regression, regression_l1, huber, "
            "fair, quantile, mape, poisson, gamma, tweedie)",
            v->line, name);
        gb_error_field(err, "objective");
        return GB_EUNUSABLE;
    }
    lm->sigmoid = 1.0;
    int sqrt_flag = 0;
    long objective_classes = -1;
    while (next_token(v, &pos, &tok, &tok_len)) {
        if (tok_len > 8 && memcmp(tok, "sigmoid:", 8) == 0) {
            if (!parse_double(tok + 8, tok_len - 8, &lm->sigmoid) ||
                !isfinite(lm->sigmoid) || lm->sigmoid <= 0)
                return bad_value(err, v, "objective", "malformed sigmoid parameter");
        } else if (tok_len > 10 && memcmp(tok, "num_class:", 10) == 0) {
            if (!parse_long(tok + 10, tok_len - 10, 1, GB_MAX_CLASSES,
                            &objective_classes))
                return bad_value(err, v, "objective", "malformed num_class parameter");
        } else if (tok_len == 4 && memcmp(tok, "sqrt", 4) == 0) {
            sqrt_flag = 1;
        }
        /* Other parameters (alpha:, c:, tweedie power) do not change scoring. */
    }
    if (multi) {
        if (num_class < 2 || (objective_classes >= 0 && objective_classes != num_class))
            return bad_value(err, v, "objective",
                             "multiclass num_class disagrees with the header");
        *task = GB_TASK_MULTICLASS;
        lm->link = LGB_LINK_SOFTMAX;
    } else {
        if (num_class != 1)
            return bad_value(err, v, "objective",
                             "num_class must be 1 for this objective");
        if (binary) {
            *task = GB_TASK_BINARY;
            lm->link = LGB_LINK_SIGMOID;
        } else {
            *task = GB_TASK_REGRESSION;
            lm->link = is_exp      ? LGB_LINK_EXP
                       : sqrt_flag ? LGB_LINK_SQUARE
                                   : LGB_LINK_IDENTITY;
        }
    }
    lm->objective = gb_strndup(v->s, v->len);
    if (lm->objective == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    return GB_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads feature_names into n_features NUMERIC specs. */
static gb_status parse_feature_names(const lgb_value *v, size_t n_features,
                                     gb_feature **out, gb_error *err)
{
    *out = NULL;
    size_t n = count_tokens(v);
    if (n != n_features) {
        char what[96];
        snprintf(what, sizeof what, "%zu names for max_feature_idx + 1 = %zu features",
                 n, n_features);
        return bad_value(err, v, "feature_names", what);
    }
    gb_feature *features = gb_calloc(n ? n : 1, sizeof *features);
    if (features == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *tok = NULL;
        size_t tok_len = 0;
        next_token(v, &pos, &tok, &tok_len);
        features[i].kind = GB_FEAT_NUMERIC;
        features[i].name = gb_strndup(tok, tok_len);
        if (features[i].name == NULL) {
            gb_features_free(features, n);
            return gb_error_set(err, GB_ENOMEM,
                                "out of memory reading a LightGBM model");
        }
    }
    /* Binding is by name: a repeated name would be ambiguous. */
    const char **sorted = gb_malloc_array(n ? n : 1, sizeof *sorted);
    if (sorted == NULL) {
        gb_features_free(features, n);
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = features[i].name;
    qsort(sorted, n, sizeof *sorted, compare_names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            char what[200];
            snprintf(what, sizeof what, "feature name '%.100s' appears twice",
                     sorted[i]);
            gb_free(sorted);
            gb_features_free(features, n);
            return bad_value(err, v, "feature_names", what);
        }
    gb_free(sorted);
    *out = features;
    return GB_OK;
}

/* Text of one pandas category (a JSON string, number or bool). */
static char *category_text(const cJSON *item)
{
    if (cJSON_IsString(item))
        return gb_strdup(item->valuestring);
    if (cJSON_IsNumber(item)) {
        char buf[32];
        gb_format_double(item->valuedouble, buf);
        return gb_strdup(buf);
    }
    if (cJSON_IsBool(item))
        return gb_strdup(cJSON_IsTrue(item) ? "True" : "False");
    return NULL;
}

/* Applies "pandas_categorical:[[...],...]" to the categorical features.
 * The i-th list holds the categories of the i-th categorical feature in
 * feature order, as LightGBM's Python package coded them. */
static gb_status apply_pandas_categorical(const lgb_value *v, const long *param_cats,
                                          size_t n_param_cats,
                                          const unsigned char *cat_flags,
                                          gb_feature *features, size_t n_features,
                                          gb_error *err)
{
    gb_status rc = GB_OK;
    gb_error jerr;
    gb_error_clear(&jerr);
    cJSON *root = gb_json_parse(v->s, v->len, &jerr);
    if (root == NULL)
        return bad_value(err, v, "pandas_categorical", "malformed JSON");
    if (cJSON_IsNull(root))
        goto out;
    if (!cJSON_IsArray(root)) {
        rc = bad_value(err, v, "pandas_categorical", "not a list of category lists");
        goto out;
    }
    size_t m = (size_t)cJSON_GetArraySize(root);
    if (m == 0)
        goto out;
    /* Which features: the parameters' categorical_feature list, else every
     * feature the file marks categorical. */
    size_t *which = gb_malloc_array(m, sizeof *which);
    if (which == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto out;
    }
    size_t n_which = 0;
    if (n_param_cats > 0) {
        for (size_t i = 0; i < n_param_cats && n_which <= m; i++) {
            if (param_cats[i] < 0 || (size_t)param_cats[i] >= n_features)
                continue;
            if (n_which < m)
                which[n_which] = (size_t)param_cats[i];
            n_which++;
        }
    } else {
        for (size_t f = 0; f < n_features && n_which <= m; f++)
            if (cat_flags[f]) {
                if (n_which < m)
                    which[n_which] = f;
                n_which++;
            }
    }
    if (n_which != m) {
        gb_free(which);
        char what[160];
        snprintf(what, sizeof what,
                 "%zu category lists but %s%zu categorical features; cannot tell which "
                 "feature each list belongs to",
                 m, n_which > m ? "more than " : "", n_which > m ? m : n_which);
        rc = bad_value(err, v, "pandas_categorical", what);
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        const cJSON *list = cJSON_GetArrayItem(root, (int)i);
        gb_feature *f = &features[which[i]];
        if (!cJSON_IsArray(list) || f->kind == GB_FEAT_CATEGORICAL) {
            gb_free(which);
            rc = bad_value(err, v, "pandas_categorical", "malformed category list");
            goto out;
        }
        size_t n_levels = (size_t)cJSON_GetArraySize(list);
        if (n_levels > 1000000) {
            gb_free(which);
            rc = bad_value(err, v, "pandas_categorical", "too many categories");
            goto out;
        }
        char **levels = gb_calloc(n_levels ? n_levels : 1, sizeof *levels);
        if (levels == NULL) {
            gb_free(which);
            rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
            goto out;
        }
        size_t k = 0;
        for (const cJSON *item = list->child; item != NULL && k < n_levels;
             item = item->next)
            levels[k++] = category_text(item);
        for (k = 0; k < n_levels; k++)
            if (levels[k] == NULL) {
                gb_free_strings(levels, n_levels);
                gb_free(which);
                rc = bad_value(err, v, "pandas_categorical",
                               "a category is not a string, number or bool");
                goto out;
            }
        f->kind = GB_FEAT_CATEGORICAL;
        f->levels = levels;
        f->n_levels = n_levels;
    }
    gb_free(which);
out:
    cJSON_Delete(root);
    return rc;
}

/* "[categorical_feature: 1,3]" from the parameters block. */
static gb_status parse_param_cats(const char *s, size_t len, long line, long **out,
                                  size_t *n_out, gb_error *err)
{
    const char *prefix = "[categorical_feature:";
    size_t plen = strlen(prefix);
    const char *body = s + plen;
    size_t blen = len - plen;
    while (blen > 0 && (body[blen - 1] == ']' || is_space(body[blen - 1])))
        blen--;
    size_t n = 0;
    for (size_t i = 0; i < blen; i++)
        n += body[i] == ',';
    if (blen > 0)
        n++;
    long *vals = gb_malloc_array(n ? n : 1, sizeof *vals);
    if (vals == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= blen && blen > 0; i++) {
        if (i == blen || body[i] == ',') {
            const char *tok = body + start;
            size_t tlen = i - start;
            while (tlen > 0 && is_space(*tok)) {
                tok++;
                tlen--;
            }
            while (tlen > 0 && is_space(tok[tlen - 1]))
                tlen--;
            if (!parse_long(tok, tlen, 0, LONG_MAX, &vals[k])) {
                /* Names instead of indices: not usable for the mapping. */
                gb_free(vals);
                *out = NULL;
                *n_out = 0;
                (void)line;
                return GB_OK;
            }
            k++;
            start = i + 1;
        }
    }
    *out = vals;
    *n_out = k;
    return GB_OK;
}

/* ---- the loader ------------------------------------------------------------ */

gb_status gb_lightgbm_load(const char *bytes, size_t n, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    lgb_build b;
    lgb_model *lm = NULL;
    gb_feature *features = NULL;
    size_t n_features = 0;
    long *param_cats = NULL;
    size_t n_param_cats = 0;
    char **classes = NULL;
    size_t n_classes = 0;
    gb_task task = GB_TASK_AUTO;
    lgb_value header[HK_COUNT];
    lgb_value pandas = {0};
    lgb_reader r = {bytes, bytes + n, 0};
    const char *s = NULL;
    size_t len = 0;
    int average_output = 0;

    memset(&b, 0, sizeof b);
    b.counts_ok = 1;
    memset(header, 0, sizeof header);
    *out = NULL;
    if (bytes == NULL || n == 0)
        return gb_error_set(err, GB_EUNUSABLE, "LightGBM model: empty input");

    /* First line: the submodel type. */
    if (!reader_next(&r, &s, &len) || !line_is(s, len, "tree"))
        return gb_error_at(
            err, GB_EUNUSABLE, 1, 0,
            "LightGBM model, line 1: expected 'tree' (a gbdt text model)");

    lm = gb_calloc(1, sizeof *lm);
    if (lm == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
    b.lm = lm;

    /* Header up to the first Tree= line. */
    int have_line = 0;
    while (reader_next(&r, &s, &len)) {
        if (line_starts(s, len, "Tree=") || line_is(s, len, "end of trees")) {
            have_line = 1;
            break;
        }
        if (line_blank(s, len))
            continue;
        if (line_is(s, len, "average_output")) {
            average_output = 1;
            continue;
        }
        const char *key = NULL;
        size_t key_len = 0;
        lgb_value v;
        if (!split_kv(s, len, &key, &key_len, &v, r.line)) {
            rc = gb_error_at(
                err, GB_EUNUSABLE, r.line, 0,
                "LightGBM model, line %ld: expected key=value in the header", r.line);
            goto fail;
        }
        int k = key_index(key, key_len, header_keys, HK_COUNT);
        if (k >= 0) {
            if (header[k].present) {
                rc = bad_value(err, &v, header_keys[k], "key given twice");
                goto fail;
            }
            header[k] = v;
        }
    }
    if (!have_line) {
        rc = gb_error_at(err, GB_EUNUSABLE, r.line, 0,
                         "LightGBM model, line %ld: no trees (truncated model?)",
                         r.line);
        goto fail;
    }
    static const int required[] = {HK_NUM_CLASS, HK_MAX_FEATURE_IDX, HK_FEATURE_NAMES};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!header[required[i]].present) {
            rc = gb_error_at(err, GB_EUNUSABLE, r.line, 0,
                             "LightGBM model: the header has no '%s' line",
                             header_keys[required[i]]);
            gb_error_field(err, header_keys[required[i]]);
            goto fail;
        }
    if (!header[HK_OBJECTIVE].present) {
        rc = gb_error_at(
            err, GB_EUNUSABLE, r.line, 0,
            "LightGBM model: no objective line (custom objective); raw scores "
            "cannot be turned into predictions");
        gb_error_field(err, "objective");
        goto fail;
    }
    long num_class = 0, ntpi = 0, max_feature_idx = 0;
    if ((rc = value_long(&header[HK_NUM_CLASS], "num_class", 1, GB_MAX_CLASSES,
                         &num_class, err)) != GB_OK ||
        (rc = value_long(&header[HK_MAX_FEATURE_IDX], "max_feature_idx", 0,
                         GB_LGB_MAX_FEATURES - 1, &max_feature_idx, err)) != GB_OK)
        goto fail;
    ntpi = num_class;
    if (header[HK_NUM_TREE_PER_ITERATION].present &&
        (rc = value_long(&header[HK_NUM_TREE_PER_ITERATION], "num_tree_per_iteration",
                         1, GB_MAX_CLASSES, &ntpi, err)) != GB_OK)
        goto fail;
    if ((rc = parse_objective(&header[HK_OBJECTIVE], num_class, lm, &task, err)) !=
        GB_OK)
        goto fail;
    if ((task == GB_TASK_MULTICLASS && ntpi != num_class) ||
        (task != GB_TASK_MULTICLASS && ntpi != 1)) {
        rc =
            bad_value(err, &header[HK_NUM_TREE_PER_ITERATION], "num_tree_per_iteration",
                      "does not match the objective's number of outputs");
        goto fail;
    }
    n_features = (size_t)max_feature_idx + 1;
    lm->n_features = n_features;
    lm->n_per_iter = (size_t)ntpi;
    lm->average_output = average_output;
    if ((rc = parse_feature_names(&header[HK_FEATURE_NAMES], n_features, &features,
                                  err)) != GB_OK)
        goto fail;
    b.cat_feature = gb_calloc(n_features, 1);
    if (b.cat_feature == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
        goto fail;
    }
    /* feature_infos: categorical features list their categories
     * ("3:0:1"), numeric ones a range ("[0:1]"), unused ones "none". */
    if (header[HK_FEATURE_INFOS].present &&
        count_tokens(&header[HK_FEATURE_INFOS]) == n_features) {
        size_t pos = 0;
        for (size_t f = 0; f < n_features; f++) {
            const char *tok = NULL;
            size_t tok_len = 0;
            next_token(&header[HK_FEATURE_INFOS], &pos, &tok, &tok_len);
            if (tok[0] != '[' && !(tok_len == 4 && memcmp(tok, "none", 4) == 0))
                b.cat_feature[f] = 1;
        }
    }

    /* Trees. */
    int ended = 0;
    while (!ended) {
        if (line_is(s, len, "end of trees")) {
            ended = 1;
            break;
        }
        if (!line_starts(s, len, "Tree=")) {
            rc = gb_error_at(
                err, GB_EUNUSABLE, r.line, 0,
                "LightGBM model, line %ld: expected 'Tree=' or 'end of trees'", r.line);
            goto fail;
        }
        long tree_line = r.line, index = -1;
        if (!parse_long(s + 5, len - 5, 0, GB_LGB_MAX_TREES - 1, &index) ||
            (size_t)index != lm->n_trees) {
            rc = gb_error_at(err, GB_EUNUSABLE, r.line, 0,
                             "LightGBM model, line %ld: expected 'Tree=%zu'", r.line,
                             lm->n_trees);
            goto fail;
        }
        lgb_value kv[TK_COUNT];
        memset(kv, 0, sizeof kv);
        have_line = 0;
        while (reader_next(&r, &s, &len)) {
            if (line_starts(s, len, "Tree=") || line_is(s, len, "end of trees")) {
                have_line = 1;
                break;
            }
            if (line_blank(s, len))
                continue;
            const char *key = NULL;
            size_t key_len = 0;
            lgb_value v;
            if (!split_kv(s, len, &key, &key_len, &v, r.line)) {
                rc = gb_error_at(
                    err, GB_EUNUSABLE, r.line, 0,
                    "LightGBM model, line %ld: expected key=value in tree %ld", r.line,
                    index);
                goto fail;
            }
            int k = key_index(key, key_len, tree_keys, TK_COUNT);
            if (k >= 0) {
                if (kv[k].present) {
                    rc = bad_value(err, &v, tree_keys[k], "key given twice");
                    goto fail;
                }
                kv[k] = v;
            }
        }
        if ((rc = tree_add(&b, kv, lm->n_trees, tree_line, err)) != GB_OK)
            goto fail;
        if (!have_line) {
            rc = gb_error_at(
                err, GB_EUNUSABLE, r.line, 0,
                "LightGBM model, line %ld: no 'end of trees' line (truncated "
                "model?)",
                r.line);
            goto fail;
        }
    }
    if (lm->n_trees == 0 || lm->n_trees % lm->n_per_iter != 0) {
        rc = gb_error_at(
            err, GB_EUNUSABLE, r.line, 0,
            "LightGBM model, line %ld: %zu trees is not a positive multiple of "
            "num_tree_per_iteration = %zu",
            r.line, lm->n_trees, lm->n_per_iter);
        goto fail;
    }

    /* After the trees: parameters and pandas categories. */
    int in_params = 0;
    while (reader_next(&r, &s, &len)) {
        if (line_is(s, len, "parameters:")) {
            in_params = 1;
        } else if (line_is(s, len, "end of parameters")) {
            in_params = 0;
        } else if (in_params && line_starts(s, len, "[categorical_feature:")) {
            gb_free(param_cats);
            param_cats = NULL;
            if ((rc = parse_param_cats(s, len, r.line, &param_cats, &n_param_cats,
                                       err)) != GB_OK)
                goto fail;
        } else if (in_params && line_starts(s, len, "[linear_tree: 1]")) {
            rc = gb_error_at(
                err, GB_EUNUSABLE, r.line, 0,
                "LightGBM model, line %ld: linear trees (linear_tree=true) are "
                "not supported",
                r.line);
            gb_error_field(err, "linear_tree");
            goto fail;
        } else if (line_starts(s, len, "pandas_categorical:")) {
            size_t plen = strlen("pandas_categorical:");
            pandas.s = s + plen;
            pandas.len = len - plen;
            pandas.line = r.line;
            pandas.present = 1;
        }
    }
    if (pandas.present &&
        (rc = apply_pandas_categorical(&pandas, param_cats, n_param_cats, b.cat_feature,
                                       features, n_features, err)) != GB_OK)
        goto fail;

    if (task != GB_TASK_REGRESSION) {
        n_classes = task == GB_TASK_BINARY ? 2 : (size_t)num_class;
        classes = gb_calloc(n_classes, sizeof *classes);
        if (classes == NULL) {
            rc = gb_error_set(err, GB_ENOMEM, "out of memory reading a LightGBM model");
            goto fail;
        }
        for (size_t k = 0; k < n_classes; k++) {
            char buf[24];
            snprintf(buf, sizeof buf, "%zu", k);
            classes[k] = gb_strdup(buf);
            if (classes[k] == NULL) {
                rc = gb_error_set(err, GB_ENOMEM,
                                  "out of memory reading a LightGBM model");
                goto fail;
            }
        }
    }
    if (b.counts_ok && (rc = lgb_build_forest(lm, &b, err)) != GB_OK)
        goto fail;
    gb_free(b.cat_feature);
    b.cat_feature = NULL;
    gb_free(b.node_count);
    gb_free(b.leaf_count);
    b.node_count = b.leaf_count = NULL;
    gb_model *m = gb_model_create(lm->forest != NULL ? &lgb_shap_ops : &lgb_ops, lm,
                                  task, features, n_features, classes, n_classes, err);
    lm = NULL; /* owned (or freed) by gb_model_create */
    if (m == NULL) {
        rc = err != NULL ? err->code : GB_ENOMEM;
        goto fail;
    }
    *out = m;
    if (features != NULL)
        gb_features_free(features, n_features);
    gb_free_strings(classes, n_classes);
    gb_free(param_cats);
    return GB_OK;

fail:
    gb_free(b.cat_feature);
    gb_free(b.node_count);
    gb_free(b.leaf_count);
    lgb_model_free(lm);
    if (features != NULL)
        gb_features_free(features, n_features);
    gb_free_strings(classes, n_classes);
    gb_free(param_cats);
    return rc;
}
