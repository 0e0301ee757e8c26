/*
 * tree_shap.c - exact local attributions of the tree student: the
 * path-dependent TreeSHAP algorithm (Lundberg, Erion & Lee 2018,
 * "Consistent Individualized Feature Attribution for Tree Ensembles",
 * Algorithm 2), run on the leaves' margins.
 * Layer: core/model/students (private to the tree student).
 *
 * The margin of a tree depends only on the leaf a row reaches (logit of the
 * second class's probability, log of each class probability, or the value),
 * so TreeSHAP on the margin-valued leaves gives attributions that sum, with
 * the bias (the training-cover-weighted mean leaf margin), to the row's
 * margin exactly up to rounding.  Node covers are the training row counts.
 */
#include <math.h>
#include <string.h>

#include "core/model/students/tree.h"
#include "core/model/students/tree_impl.h"

typedef struct path_element {
    int feature;
    double zero_fraction;
    double one_fraction;
    double weight;
} path_element;

typedef struct shap_ctx {
    const tree_impl *t;
    const double *x;
    const double *leaf_margin; /* n_margins per node (leaves only used) */
    size_t n_margins;
    size_t n_features;
    double *phi; /* n_margins x (n_features + 1) for this row */
} shap_ctx;

static void extend_path(path_element *path, size_t depth, double zero_fraction,
                        double one_fraction, int feature)
{
    path[depth].feature = feature;
    path[depth].zero_fraction = zero_fraction;
    path[depth].one_fraction = one_fraction;
    path[depth].weight = depth == 0 ? 1.0 : 0.0;
    for (size_t j = depth; j-- > 0;) {
        path[j + 1].weight +=
            one_fraction * path[j].weight * (double)(j + 1) / (double)(depth + 1);
        path[j].weight =
            zero_fraction * path[j].weight * (double)(depth - j) / (double)(depth + 1);
    }
}

static void unwind_path(path_element *path, size_t depth, size_t index)
{
    double one_fraction = path[index].one_fraction;
    double zero_fraction = path[index].zero_fraction;
    double next_one = path[depth].weight;
    for (size_t j = depth; j-- > 0;) {
        if (one_fraction != 0.0) {
            double tmp = path[j].weight;
            path[j].weight =
                next_one * (double)(depth + 1) / ((double)(j + 1) * one_fraction);
            next_one = tmp - path[j].weight * zero_fraction * (double)(depth - j) /
                                 (double)(depth + 1);
        } else {
            path[j].weight = path[j].weight * (double)(depth + 1) /
                             (zero_fraction * (double)(depth - j));
        }
    }
    for (size_t j = index; j < depth; j++) {
        path[j].feature = path[j + 1].feature;
        path[j].zero_fraction = path[j + 1].zero_fraction;
        path[j].one_fraction = path[j + 1].one_fraction;
    }
}

/* Sum of the weights the path would have with element `index` unwound. */
static double unwound_sum(const path_element *path, size_t depth, size_t index)
{
    double one_fraction = path[index].one_fraction;
    double zero_fraction = path[index].zero_fraction;
    double next_one = path[depth].weight, total = 0.0;
    for (size_t j = depth; j-- > 0;) {
        if (one_fraction != 0.0) {
            double tmp =
                next_one * (double)(depth + 1) / ((double)(j + 1) * one_fraction);
            total += tmp;
            next_one = path[j].weight - tmp * zero_fraction *
                                            ((double)(depth - j) / (double)(depth + 1));
        } else if (zero_fraction != 0.0) {
            total += path[j].weight / zero_fraction /
                     ((double)(depth - j) / (double)(depth + 1));
        }
    }
    return total;
}

static void shap_recurse(shap_ctx *s, size_t node_id, size_t depth,
                         path_element *parent, double zero_fraction,
                         double one_fraction, int feature)
{
    path_element *path = parent + depth + 1;
    memcpy(path, parent, (depth + 1) * sizeof *path);
    extend_path(path, depth, zero_fraction, one_fraction, feature);
    const tree_node *node = &s->t->nodes[node_id];
    size_t stride = s->n_features + 1;
    if (node->feature < 0) {
        const double *v = s->leaf_margin + node_id * s->n_margins;
        for (size_t i = 1; i <= depth; i++) {
            double w = unwound_sum(path, depth, i) *
                       (path[i].one_fraction - path[i].zero_fraction);
            for (size_t k = 0; k < s->n_margins; k++)
                s->phi[k * stride + (size_t)path[i].feature] += w * v[k];
        }
        return;
    }
    int goes_left = gb_tree_node_goes_left(s->t, node, s->x[node->feature]);
    size_t hot = (size_t)(goes_left ? node->left : node->right);
    size_t cold = (size_t)(goes_left ? node->right : node->left);
    double cover = (double)node->n;
    double hot_zero = cover > 0.0 ? (double)s->t->nodes[hot].n / cover : 0.0;
    double cold_zero = cover > 0.0 ? (double)s->t->nodes[cold].n / cover : 0.0;
    double in_zero = 1.0, in_one = 1.0;
    size_t index = 0;
    while (index <= depth && path[index].feature != node->feature)
        index++;
    if (index <= depth) {
        in_zero = path[index].zero_fraction;
        in_one = path[index].one_fraction;
        unwind_path(path, depth, index);
        depth--;
    }
    shap_recurse(s, hot, depth + 1, path, hot_zero * in_zero, in_one, node->feature);
    shap_recurse(s, cold, depth + 1, path, cold_zero * in_zero, 0.0, node->feature);
}

/* Margin of every leaf (n_margins per node id; inner nodes unused). */
static void leaf_margins(const gb_model *m, const tree_impl *t, double *out)
{
    for (size_t id = 0; id < t->n_nodes; id++) {
        const tree_node *node = &t->nodes[id];
        if (node->feature >= 0)
            continue;
        const double *v = t->values + node->value_at;
        double *o = out + id * m->n_margins;
        if (m->task == GB_TASK_REGRESSION) {
            o[0] = v[0];
        } else if (m->task == GB_TASK_BINARY) {
            double p = fmin(fmax(v[1], 1e-15), 1.0 - 1e-15);
            o[0] = log(p) - log1p(-p);
        } else {
            for (size_t k = 0; k < m->n_margins; k++)
                o[k] = log(fmin(fmax(v[k], 1e-15), 1.0 - 1e-15));
        }
    }
}

gb_status gb_tree_attribute(const gb_model *m, const double *X, size_t n_rows,
                            double *phi, gb_error *err)
{
    const tree_impl *t = m->impl;
    size_t F = m->n_features, K = m->n_margins;
    size_t max_depth = t->depth + 2;
    double *margins = gb_malloc_array(t->n_nodes * K, sizeof *margins);
    double *expected = gb_calloc(K, sizeof *expected);
    path_element *paths =
        gb_calloc((max_depth + 1) * (max_depth + 2) / 2 + 1, sizeof *paths);
    if (margins == NULL || expected == NULL || paths == NULL) {
        gb_free(margins);
        gb_free(expected);
        gb_free(paths);
        return gb_error_set(err, GB_ENOMEM, "out of memory attributing %zu rows",
                            n_rows);
    }
    leaf_margins(m, t, margins);
    /* bias: the cover-weighted mean leaf margin */
    double root_n = (double)t->nodes[0].n;
    for (size_t id = 0; id < t->n_nodes; id++) {
        const tree_node *node = &t->nodes[id];
        if (node->feature >= 0)
            continue;
        double w = root_n > 0.0 ? (double)node->n / root_n : 0.0;
        for (size_t k = 0; k < K; k++)
            expected[k] += w * margins[id * K + k];
    }
    shap_ctx s = {t, NULL, margins, K, F, NULL};
    for (size_t i = 0; i < n_rows; i++) {
        s.x = X + i * F;
        s.phi = phi + i * K * (F + 1);
        memset(s.phi, 0, K * (F + 1) * sizeof *s.phi);
        for (size_t k = 0; k < K; k++)
            s.phi[k * (F + 1) + F] = expected[k];
        if (t->nodes[0].feature >= 0)
            shap_recurse(&s, 0, 0, paths, 1.0, 1.0, -1);
    }
    gb_free(margins);
    gb_free(expected);
    gb_free(paths);
    return GB_OK;
}
