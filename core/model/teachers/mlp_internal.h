/*
 * mlp_internal.h - the MLP representation shared by mlp.c (format, scoring)
 * and mlp_train.c (training).  Not part of the public interface.
 * Layer: core/model/teachers.
 */
#ifndef CORE_MODEL_TEACHERS_MLP_INTERNAL_H
#define CORE_MODEL_TEACHERS_MLP_INTERNAL_H

#include <stddef.h>

#include "core/model/teachers/mlp.h"

typedef enum gb_mlp_output {
    GB_MLP_OUT_IDENTITY = 0,
    GB_MLP_OUT_SIGMOID,
    GB_MLP_OUT_SOFTMAX
} gb_mlp_output;

/* One dense layer: Z = A W^T + b, then the activation. */
typedef struct gb_mlp_layer {
    size_t n_in, n_out;
    double *weights; /* n_out x n_in, row-major ([out][in], as in the file) */
    double *bias;    /* n_out */
    gb_mlp_activation activation;
} gb_mlp_layer;

typedef struct gb_mlp {
    size_t n_inputs;
    double *mean;  /* n_inputs, or NULL when there is no preprocess */
    double *scale; /* n_inputs, or NULL (both or neither) */
    size_t n_layers;
    gb_mlp_layer *layers; /* n_layers; layers[0].n_in == n_inputs */
    gb_mlp_output output;
    size_t max_units;  /* widest of n_inputs and every n_out */
    size_t epochs_run; /* training only; 0 when loaded */
} gb_mlp;

/* A zeroed network with n_layers layers whose weights and biases are
 * allocated from the widths units[0..n_layers] (units[0] = inputs), with
 * preprocess arrays when with_preprocess.  NULL on allocation failure. */
gb_mlp *gb_mlp_alloc(size_t n_layers, const size_t *units, int with_preprocess);

/* Frees a network; NULL is a no-op. */
void gb_mlp_free_net(gb_mlp *net);

/* Wraps net (ownership passes, also on error) in a model with the given
 * feature names and classes (n_classes 0 for regression); the task follows
 * from the output function and class count.  NULL on error. */
gb_model *gb_mlp_model_wrap(gb_mlp *net, char *const *feature_names,
                            char *const *classes, size_t n_classes, gb_error *err);

/* Z[n_rows x n_out] = A[n_rows x n_in] W^T + b (one cblas_dgemm), then the
 * layer's activation in place. */
void gb_mlp_layer_forward(const gb_mlp_layer *layer, const double *A, size_t n_rows,
                          double *Z);

/* Applies activation act to v[0..n) in place. */
void gb_mlp_activate(gb_mlp_activation act, double *v, size_t n);

/* Name of an activation ("relu", ...). */
const char *gb_mlp_activation_name(gb_mlp_activation act);

#endif /* CORE_MODEL_TEACHERS_MLP_INTERNAL_H */
