/*
 * tree_shap.c - exact local attributions of the tree student: its tree as a
 * core/model/treeshap.h forest (node row counts as cover, leaves in margin
 * space), explained by the shared path-dependent TreeSHAP.
 * Layer: core/model/students (private to the tree student).
 *
 * The margin of a tree depends only on the leaf a row reaches (logit of the
 * second class's probability, log of each class probability, or the value),
 * so TreeSHAP on the margin-valued leaves gives attributions that sum, with
 * the bias (the training-cover-weighted mean leaf margin), to the row's
 * margin exactly up to rounding.
 */
#include <math.h>
#include <string.h>

#include "core/model/students/tree.h"
#include "core/model/students/tree_impl.h"
#include "core/model/treeshap.h"

static double clamp_prob(double p)
{
    if (!(p >= 1e-15))
        return 1e-15;
    if (p > 1.0 - 1e-15)
        return 1.0 - 1e-15;
    return p;
}

/* The student's tree as a one-tree forest writing all n_margins outputs.
 * Caller frees *out with gb_forest_free; *out NULL on error. */
static gb_status tree_forest(const gb_model *model, gb_forest **out, gb_error *err)
{
    gb_status rc = GB_OK;
    const tree_impl *t = model->impl;
    size_t nm = model->n_margins;
    gb_forest_node *nodes = gb_calloc(t->n_nodes, sizeof *nodes);
    double *margins = gb_malloc_array(t->n_nodes * nm, sizeof *margins);
    int32_t *cats =
        gb_malloc_array(t->n_left_levels ? t->n_left_levels : 1, sizeof *cats);
    gb_forest *forest = NULL;
    *out = NULL;
    if (nodes == NULL || margins == NULL || cats == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory exporting a tree");
        goto out;
    }
    size_t n_cats = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const tree_node *tn = t->nodes + i;
        gb_forest_node *nd = nodes + i;
        nd->cover = (double)tn->n;
        if (tn->feature < 0) {
            const double *v = t->values + tn->value_at;
            double *m = margins + i * nm;
            if (model->task == GB_TASK_REGRESSION) {
                m[0] = v[0];
            } else if (model->task == GB_TASK_BINARY) {
                double p = clamp_prob(v[1]);
                m[0] = log(p) - log1p(-p);
            } else {
                for (size_t k = 0; k < nm; k++)
                    m[k] = log(clamp_prob(v[k]));
            }
            nd->feature = -1;
            nd->left = nd->right = -1;
            nd->value = m;
            continue;
        }
        nd->feature = tn->feature;
        nd->left = tn->left;
        nd->right = tn->right;
        nd->missing_left = tn->missing_left;
        nd->threshold = tn->threshold;
        if (tn->n_levels > 0) {
            nd->categorical = 1;
            nd->cats_left = 1;
            nd->cats = cats + n_cats;
            for (size_t c = 0; c < tn->n_levels; c++)
                if (t->left_levels[tn->levels_at + c])
                    cats[n_cats++] = (int32_t)c;
            nd->n_cats = (size_t)(cats + n_cats - nd->cats);
        }
    }
    forest = gb_forest_create(model->n_features, nm, NULL, 0, 0, err);
    if (forest == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto out;
    }
    if ((rc = gb_forest_add_tree(forest, nodes, t->n_nodes, 0, nm, err)) != GB_OK)
        goto out;
    *out = forest;
    forest = NULL;
out:
    gb_forest_free(forest);
    gb_free(cats);
    gb_free(margins);
    gb_free(nodes);
    return rc;
}

gb_status gb_tree_attribute(const gb_model *m, const double *X, size_t n_rows,
                            double *phi, gb_error *err)
{
    gb_forest *forest = NULL;
    gb_status rc = tree_forest(m, &forest, err);
    if (rc != GB_OK)
        return rc;
    rc = gb_forest_treeshap(forest, X, n_rows, 1, phi, err);
    gb_forest_free(forest);
    return rc;
}
