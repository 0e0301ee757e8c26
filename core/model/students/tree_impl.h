/*
 * tree_impl.h - the tree student's in-memory layout, shared by tree.c
 * (predict, artifact), tree_fit.c (growing) and tree_export.c (SQL and C
 * code generation).
 * Layer: core/model/students (private to the tree student).
 *
 * Nodes are stored in pre-order: node 0 is the root, an inner node's left
 * child directly follows it, so every child has a larger index than its
 * parent.  Leaves hold n_outputs values at values[value_at ..]; categorical
 * splits hold n_levels flags at left_levels[levels_at ..] (1 = level goes
 * left).
 */
#ifndef CORE_MODEL_STUDENTS_TREE_IMPL_H
#define CORE_MODEL_STUDENTS_TREE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/model/students/tree.h"

typedef struct tree_node {
    int32_t feature;     /* -1 for a leaf */
    int32_t left, right; /* children (-1 for a leaf) */
    int missing_left;    /* NaN goes left when nonzero */
    double threshold;    /* numeric split: x <= threshold goes left */
    size_t n_levels;     /* categorical split: levels of the feature; 0 = numeric */
    size_t levels_at;    /* categorical split: offset into left_levels */
    size_t n;            /* training rows reaching the node */
    size_t n_missing;    /* training rows with the split feature missing */
    size_t value_at;     /* leaf: offset into values */
} tree_node;

typedef struct tree_impl {
    size_t n_nodes;
    tree_node *nodes;
    unsigned char *left_levels;
    size_t n_left_levels;
    double *values;
    gb_tree_params params;
    unsigned depth;
    size_t n_leaves;
} tree_impl;

/* Frees a tree_impl (the model operations' free_impl); NULL is a no-op. */
void gb_tree_impl_free(void *t);

/* Sets t's depth and leaf count from its pre-order node array (children after
 * parents).  Returns 0 when the tree is deeper than 32 levels. */
int gb_tree_measure(tree_impl *t);

/* A gb_model of kind "tree" owning t (freed if the call fails), as
 * gb_model_create.  NULL on error. */
gb_model *gb_tree_model_create(tree_impl *t, gb_task task, const gb_feature *features,
                               size_t n_features, char *const *classes,
                               size_t n_classes, gb_error *err);

/* Nonzero when a row whose split feature is x goes to the node's left child. */
int gb_tree_node_goes_left(const tree_impl *t, const tree_node *node, double x);

/* The leaf reached by the row x (n_features values). */
const tree_node *gb_tree_leaf_of(const tree_impl *t, const double *x);

/* The model's attribute operation (tree_shap.c): path-dependent TreeSHAP on
 * the leaves' margins; phi is n_rows x n_margins x (n_features + 1), the
 * last entry of each block the bias.  GB_ENOMEM on allocation failure. */
gb_status gb_tree_attribute(const gb_model *m, const double *X, size_t n_rows,
                            double *phi, gb_error *err);

/* Growable NUL-terminated text; on allocation failure `failed` is set and
 * later appends are ignored.  The owner frees text with gb_free. */
typedef struct gb_tree_buf {
    char *text;
    size_t len, cap;
    int failed;
} gb_tree_buf;

gb_status gb_tree_buf_printf(gb_tree_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* CORE_MODEL_STUDENTS_TREE_IMPL_H */
