/*
 * disagreement.c - the disagreement tree and its leaves as rules.
 * Layer: explain.
 */
#include "explain/disagreement.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/encode.h"
#include "core/model/model.h"
#include "core/model/students/student.h"
#include "core/model/students/tree.h"
#include "core/model/students/tree_impl.h"

void ex_rules_free(ex_rule *rules, size_t n)
{
    if (rules == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        gb_free(rules[i].rule);
    gb_free(rules);
}

/* Text of the condition that sends a row from node to its `left` side. */
static int append_condition(gb_tree_buf *b, const gb_model *m, const tree_impl *t,
                            const tree_node *node, int left)
{
    const gb_feature *feat = &m->features[node->feature];
    if (node->n_levels == 0) {
        gb_tree_buf_printf(b, "%s %s %.6g", feat->name, left ? "<=" : ">",
                           node->threshold);
    } else {
        gb_tree_buf_printf(b, "%s in {", feat->name);
        size_t written = 0;
        for (size_t l = 0; l < node->n_levels && l < feat->n_levels; l++) {
            if ((t->left_levels[node->levels_at + l] != 0) != left)
                continue;
            gb_tree_buf_printf(b, "%s%s", written++ ? ", " : "", feat->levels[l]);
        }
        gb_tree_buf_printf(b, "}");
    }
    if (node->n_missing > 0 && (node->missing_left != 0) == left)
        gb_tree_buf_printf(b, " (or missing)");
    return !b->failed;
}

typedef struct leaf_info {
    size_t node;
    size_t rows;
    double rate;
} leaf_info;

static int cmp_leaf(const void *a, const void *b)
{
    const leaf_info *x = a, *y = b;
    if (x->rate != y->rate)
        return x->rate > y->rate ? -1 : 1;
    if (x->rows != y->rows)
        return x->rows > y->rows ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* The rule of leaf `id`: the conditions on the path from the root. */
static char *leaf_rule(const gb_model *m, const tree_impl *t, const size_t *parent,
                       size_t id)
{
    size_t path[64], n = 0;
    for (size_t v = id; v != 0 && n < 64; v = parent[v])
        path[n++] = v;
    gb_tree_buf b = {0};
    if (n == 0)
        gb_tree_buf_printf(&b, "all rows");
    for (size_t i = n; i-- > 0;) {
        size_t child = path[i], p = parent[child];
        const tree_node *node = t->nodes + p;
        if (i + 1 < n)
            gb_tree_buf_printf(&b, " and ");
        append_condition(&b, m, t, node, (size_t)node->left == child);
    }
    if (b.failed) {
        gb_free(b.text);
        return NULL;
    }
    return b.text;
}

gb_status ex_disagreement(const gb_table *table, const size_t *rows, size_t n_rows,
                          char *const *columns, size_t n_columns, const double *target,
                          const ex_disagreement_params *params, ex_rule **out,
                          size_t *n_out, gb_error *err)
{
    gb_status rc = GB_OK;
    gb_feature *feats = NULL;
    gb_design *design = NULL;
    double *X = NULL;
    gb_model *tree = NULL;
    size_t *parent = NULL;
    leaf_info *leaves = NULL;
    ex_rule *rules = NULL;
    size_t n_rules = 0;
    *out = NULL;
    *n_out = 0;
    if (n_columns == 0)
        return gb_error_set(err, GB_EUNUSABLE, "disagreement regions need columns");
    if (n_rows < 2)
        return gb_error_set(err, GB_EUNUSABLE,
                            "disagreement regions need at least 2 rows, got %zu",
                            n_rows);
    for (size_t i = 0; i < n_rows; i++)
        if (!isfinite(target[i]))
            return gb_error_set(err, GB_EUNUSABLE,
                                "disagreement target of row %zu is not finite", i);
    feats = gb_calloc(n_columns, sizeof *feats);
    if (feats == NULL)
        goto nomem;
    for (size_t c = 0; c < n_columns; c++) {
        long ci = gb_table_find(table, columns[c]);
        if (ci < 0) {
            rc = gb_error_set(err, GB_EUNUSABLE, "no column named '%s'", columns[c]);
            gb_error_field(err, columns[c]);
            goto out;
        }
        const gb_column *col = table->cols + ci;
        feats[c].name = col->name; /* borrowed: copied by the fit */
        feats[c].kind =
            col->type == GB_COL_CATEGORICAL ? GB_FEAT_CATEGORICAL : GB_FEAT_NUMERIC;
        feats[c].levels = col->levels;
        feats[c].n_levels = col->n_levels;
    }
    design = gb_design_bind(feats, n_columns, table, err);
    if (design == NULL) {
        rc = err != NULL ? err->code : GB_EUNUSABLE;
        goto out;
    }
    X = gb_malloc_array(n_rows * n_columns, sizeof *X);
    if (X == NULL)
        goto nomem;
    gb_design_fill(design, rows, 0, n_rows, X);
    unsigned depth = params != NULL && params->max_depth > 0 ? params->max_depth : 3;
    size_t min_leaf = params != NULL ? params->min_rows_leaf : 0;
    if (min_leaf == 0) {
        min_leaf = (n_rows * 2 + 99) / 100;
        if (min_leaf < 5)
            min_leaf = 5;
    }
    size_t max_rules = params != NULL && params->max_rules > 0 ? params->max_rules : 5;
    char depth_text[16], leaf_text[32];
    snprintf(depth_text, sizeof depth_text, "%u", depth);
    snprintf(leaf_text, sizeof leaf_text, "%zu", min_leaf);
    gb_param tp[2] = {{"max_depth", depth_text}, {"min_samples_leaf", leaf_text}};
    gb_train_set ts = {.n_rows = n_rows,
                       .n_features = n_columns,
                       .X = X,
                       .features = feats,
                       .task = GB_TASK_REGRESSION,
                       .y_value = target,
                       .temperature = 1,
                       .alpha = 1,
                       .n_threads = params != NULL ? params->n_threads : 1};
    if ((rc = gb_student_fit("tree", tp, 2, &ts, NULL, &tree, err)) != GB_OK)
        goto out;
    const tree_impl *t = tree->impl;
    parent = gb_calloc(t->n_nodes, sizeof *parent);
    leaves = gb_calloc(t->n_nodes, sizeof *leaves);
    if (parent == NULL || leaves == NULL)
        goto nomem;
    size_t n_leaves = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const tree_node *node = t->nodes + i;
        if (node->feature >= 0) {
            parent[node->left] = i;
            parent[node->right] = i;
        } else {
            double rate = t->values[node->value_at];
            if (rate > 0)
                leaves[n_leaves++] = (leaf_info){i, node->n, rate};
        }
    }
    qsort(leaves, n_leaves, sizeof *leaves, cmp_leaf);
    size_t n_keep = n_leaves < max_rules ? n_leaves : max_rules;
    rules = gb_calloc(n_keep ? n_keep : 1, sizeof *rules);
    if (rules == NULL)
        goto nomem;
    for (; n_rules < n_keep; n_rules++) {
        rules[n_rules].rule = leaf_rule(tree, t, parent, leaves[n_rules].node);
        if (rules[n_rules].rule == NULL)
            goto nomem;
        rules[n_rules].rows = leaves[n_rules].rows;
        rules[n_rules].rate = leaves[n_rules].rate;
    }
    *out = rules;
    *n_out = n_rules;
    rules = NULL;
    goto out;
nomem:
    rc = gb_error_set(err, GB_ENOMEM, "out of memory finding disagreement regions");
out:
    ex_rules_free(rules, n_rules);
    gb_free(leaves);
    gb_free(parent);
    gb_model_free(tree);
    gb_free(X);
    gb_design_free(design);
    gb_free(feats);
    return rc;
}
