/*
 * model.c - the model shell shared by every teacher and student, and block
 * prediction over a table.
 * Layer: core/model.
 */
#include "core/model/model.h"

#include <string.h>

gb_model *gb_model_create(const gb_model_ops *ops, void *impl, gb_task task,
                          const gb_feature *features, size_t n_features,
                          char *const *classes, size_t n_classes, gb_error *err)
{
    gb_model *m = gb_calloc(1, sizeof *m);
    if (m == NULL)
        goto nomem;
    m->ops = ops;
    m->impl = impl;
    m->task = task;
    if (gb_features_copy(features, n_features, &m->features, err) != GB_OK) {
        m->features = NULL;
        gb_model_free(m);
        return NULL;
    }
    m->n_features = n_features;
    if (n_classes > 0) {
        m->classes = gb_calloc(n_classes, sizeof *m->classes);
        if (m->classes == NULL)
            goto nomem_free;
        m->n_classes = n_classes;
        for (size_t k = 0; k < n_classes; k++) {
            m->classes[k] = gb_strdup(classes[k]);
            if (m->classes[k] == NULL)
                goto nomem_free;
        }
    }
    m->n_outputs = task == GB_TASK_REGRESSION ? 1 : n_classes;
    m->n_margins = task == GB_TASK_MULTICLASS ? n_classes : 1;
    return m;

nomem:
    if (ops != NULL && ops->free_impl != NULL && impl != NULL)
        ops->free_impl(impl);
    gb_error_set(err, GB_ENOMEM, "out of memory creating a model");
    return NULL;
nomem_free:
    gb_model_free(m);
    gb_error_set(err, GB_ENOMEM, "out of memory creating a model");
    return NULL;
}

void gb_model_free(gb_model *m)
{
    if (m == NULL)
        return;
    if (m->ops != NULL && m->ops->free_impl != NULL && m->impl != NULL)
        m->ops->free_impl(m->impl);
    gb_features_free(m->features, m->n_features);
    gb_free_strings(m->classes, m->n_classes);
    gb_free(m);
}

gb_status gb_model_predict_table(const gb_model *m, const gb_table *table,
                                 const size_t *rows, size_t n_rows, double *out,
                                 gb_error *err)
{
    gb_status rc = GB_OK;
    gb_design *design = NULL;
    double *block = NULL;

    design = gb_design_bind(m->features, m->n_features, table, err);
    if (design == NULL)
        return err != NULL ? err->code : GB_EUNUSABLE;
    size_t block_rows = n_rows < GB_PREDICT_BLOCK ? n_rows : GB_PREDICT_BLOCK;
    block = gb_malloc_array(block_rows * (m->n_features ? m->n_features : 1),
                            sizeof *block);
    if (block == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory scoring %zu rows", n_rows);
        goto out;
    }
    for (size_t start = 0; start < n_rows; start += block_rows) {
        size_t n = n_rows - start < block_rows ? n_rows - start : block_rows;
        gb_design_fill(design, rows != NULL ? rows + start : NULL, start, n, block);
        rc = m->ops->predict(m, block, n, out + start * m->n_outputs, err);
        if (rc != GB_OK)
            goto out;
    }
out:
    gb_free(block);
    gb_design_free(design);
    return rc;
}
