/*
 * tree_export.c - the tree student as deployable code: a SQL CASE expression
 * per output and a standalone C function, both computing exactly the numbers
 * of the model's predict (same thresholds, same missing sides, leaf values
 * printed with 17 significant digits so they parse back to the same doubles).
 * Layer: core/model/students (private to the tree student).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/model/students/tree.h"
#include "core/model/students/tree_impl.h"

/* ---- SQL ----------------------------------------------------------------- */

static void sql_identifier(gb_tree_buf *b, const char *name)
{
    gb_tree_buf_printf(b, "\"");
    for (const char *p = name; *p; p++)
        gb_tree_buf_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    gb_tree_buf_printf(b, "\"");
}

static void sql_string(gb_tree_buf *b, const char *text)
{
    gb_tree_buf_printf(b, "'");
    for (const char *p = text; *p; p++)
        gb_tree_buf_printf(b, *p == '\'' ? "''" : "%c", *p);
    gb_tree_buf_printf(b, "'");
}

/* Writes the level names of feat whose flag in set equals want, as a
 * comma-separated list of SQL strings (set NULL: every level). */
static void sql_levels(gb_tree_buf *b, const gb_feature *feat, const unsigned char *set)
{
    int first = 1;
    for (size_t l = 0; l < feat->n_levels; l++) {
        if (set != NULL && !set[l])
            continue;
        if (!first)
            gb_tree_buf_printf(b, ", ");
        sql_string(b, feat->levels[l]);
        first = 0;
    }
}

static void sql_node(gb_tree_buf *b, const gb_model *m, const tree_impl *t, size_t id,
                     size_t output, int indent)
{
    const tree_node *node = &t->nodes[id];
    if (node->feature < 0) {
        gb_tree_buf_printf(b, "%.17g", t->values[node->value_at + output]);
        return;
    }
    const gb_feature *feat = &m->features[node->feature];
    gb_tree_buf_printf(b, "CASE WHEN ");
    if (node->n_levels == 0) {
        /* NULL <= x is NULL, which takes the ELSE (right) branch */
        if (node->missing_left) {
            gb_tree_buf_printf(b, "(");
            sql_identifier(b, feat->name);
            gb_tree_buf_printf(b, " IS NULL OR ");
        }
        sql_identifier(b, feat->name);
        gb_tree_buf_printf(b, " <= %.17g", node->threshold);
        if (node->missing_left)
            gb_tree_buf_printf(b, ")");
    } else {
        /* a level the model does not know counts as missing, as in the
         * design matrix */
        gb_tree_buf_printf(b, "(");
        if (node->missing_left) {
            sql_identifier(b, feat->name);
            gb_tree_buf_printf(b, " IS NULL OR ");
            sql_identifier(b, feat->name);
            gb_tree_buf_printf(b, " NOT IN (");
            sql_levels(b, feat, NULL);
            gb_tree_buf_printf(b, ") OR ");
        }
        sql_identifier(b, feat->name);
        gb_tree_buf_printf(b, " IN (");
        sql_levels(b, feat, t->left_levels + node->levels_at);
        gb_tree_buf_printf(b, "))");
    }
    gb_tree_buf_printf(b, "\n%*sTHEN ", indent + 2, "");
    sql_node(b, m, t, (size_t)node->left, output, indent + 2);
    gb_tree_buf_printf(b, "\n%*sELSE ", indent + 2, "");
    sql_node(b, m, t, (size_t)node->right, output, indent + 2);
    gb_tree_buf_printf(b, " END");
}

gb_status gb_tree_export_sql(const gb_model *m, char **out, gb_error *err)
{
    if (!gb_tree_is(m))
        return gb_error_set(err, GB_EUNUSABLE, "SQL export: the model is not a tree");
    const tree_impl *t = m->impl;
    gb_tree_buf b = {0};
    gb_tree_buf_printf(
        &b,
        "-- glassbox tree student (depth %u, %zu leaves): one expression "
        "per output;\n-- numeric columns compared with <=, categorical "
        "columns hold level names as text,\n-- NULL (or an unknown level) "
        "takes the recorded missing side.\n",
        t->depth, t->n_leaves);
    for (size_t k = 0; k < m->n_outputs; k++) {
        if (k > 0)
            gb_tree_buf_printf(&b, ",\n");
        sql_node(&b, m, t, 0, k, 0);
        gb_tree_buf_printf(&b, " AS ");
        if (m->task == GB_TASK_REGRESSION) {
            sql_identifier(&b, "prediction");
        } else {
            char alias[512];
            snprintf(alias, sizeof alias, "p_%s", m->classes[k]);
            sql_identifier(&b, alias);
        }
    }
    gb_tree_buf_printf(&b, "\n");
    if (b.failed) {
        gb_free(b.text);
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a tree as SQL");
    }
    *out = b.text;
    return GB_OK;
}

/* ---- C ------------------------------------------------------------------- */

/* Writes text as the inside of a C comment (no comment terminators). */
static void c_comment_text(gb_tree_buf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '*' && p[1] == '/')
            gb_tree_buf_printf(b, "* /");
        else if (*p == '\n' || *p == '\r')
            gb_tree_buf_printf(b, " ");
        else
            gb_tree_buf_printf(b, "%c", *p);
    }
}

static void c_node(gb_tree_buf *b, const gb_model *m, const tree_impl *t, size_t id,
                   int indent)
{
    const tree_node *node = &t->nodes[id];
    if (node->feature < 0) {
        for (size_t k = 0; k < m->n_outputs; k++)
            gb_tree_buf_printf(b, "%*sout[%zu] = %.17g;\n", indent, "", k,
                               t->values[node->value_at + k]);
        return;
    }
    int f = node->feature;
    if (node->n_levels == 0) {
        /* NaN compares false: x <= thr sends it right, !(x > thr) left */
        if (node->missing_left)
            gb_tree_buf_printf(b, "%*sif (!(x[%d] > %.17g)) {\n", indent, "", f,
                               node->threshold);
        else
            gb_tree_buf_printf(b, "%*sif (x[%d] <= %.17g) {\n", indent, "", f,
                               node->threshold);
    } else {
        gb_tree_buf_printf(b, "%*sif (", indent, "");
        int first = 1;
        if (node->missing_left) {
            gb_tree_buf_printf(b, "isnan(x[%d])", f);
            first = 0;
        }
        for (size_t l = 0; l < node->n_levels; l++) {
            if (!t->left_levels[node->levels_at + l])
                continue;
            gb_tree_buf_printf(b, "%sx[%d] == %zu", first ? "" : " || ", f, l);
            first = 0;
        }
        gb_tree_buf_printf(b, ") {\n");
    }
    c_node(b, m, t, (size_t)node->left, indent + 4);
    gb_tree_buf_printf(b, "%*s} else {\n", indent, "");
    c_node(b, m, t, (size_t)node->right, indent + 4);
    gb_tree_buf_printf(b, "%*s}\n", indent, "");
}

gb_status gb_tree_export_c(const gb_model *m, char **out, gb_error *err)
{
    if (!gb_tree_is(m))
        return gb_error_set(err, GB_EUNUSABLE, "C export: the model is not a tree");
    const tree_impl *t = m->impl;
    gb_tree_buf b = {0};
    gb_tree_buf_printf(&b, "/*\n * glassbox tree student (depth %u, %zu leaves).\n *\n",
                       t->depth, t->n_leaves);
    gb_tree_buf_printf(&b,
                       " * x: %zu doubles, the features in this order (NaN = missing;\n"
                       " * categorical features as level codes 0, 1, ... in the order "
                       "listed):\n",
                       m->n_features);
    for (size_t f = 0; f < m->n_features; f++) {
        const gb_feature *feat = &m->features[f];
        gb_tree_buf_printf(&b, " *   x[%zu] ", f);
        c_comment_text(&b, feat->name);
        if (feat->kind == GB_FEAT_CATEGORICAL) {
            gb_tree_buf_printf(&b, " (categorical:");
            for (size_t l = 0; l < feat->n_levels; l++) {
                gb_tree_buf_printf(&b, " %zu=", l);
                c_comment_text(&b, feat->levels[l]);
            }
            gb_tree_buf_printf(&b, ")");
        }
        gb_tree_buf_printf(&b, "\n");
    }
    if (m->task == GB_TASK_REGRESSION) {
        gb_tree_buf_printf(&b, " * out: 1 double, the predicted value.\n");
    } else {
        gb_tree_buf_printf(
            &b, " * out: %zu doubles, the class probabilities:", m->n_outputs);
        for (size_t k = 0; k < m->n_classes; k++) {
            gb_tree_buf_printf(&b, " out[%zu]=P(", k);
            c_comment_text(&b, m->classes[k]);
            gb_tree_buf_printf(&b, ")");
        }
        gb_tree_buf_printf(&b, ".\n");
    }
    gb_tree_buf_printf(&b, " */\n#include <math.h>\n\n"
                           "void glassbox_predict(const double *x, double *out);\n\n"
                           "void glassbox_predict(const double *x, double *out)\n{\n");
    if (m->n_features == 0)
        gb_tree_buf_printf(&b, "    (void)x;\n");
    c_node(&b, m, t, 0, 4);
    gb_tree_buf_printf(&b, "}\n");
    if (b.failed) {
        gb_free(b.text);
        return gb_error_set(err, GB_ENOMEM, "out of memory exporting a tree as C");
    }
    *out = b.text;
    return GB_OK;
}
