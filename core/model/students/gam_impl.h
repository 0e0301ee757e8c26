/*
 * gam_impl.h - the GAM student's in-memory layout, shared by gam.c (fit,
 * predict) and gam_artifact.c (JSON artifact, SQL and C exports).
 * Layer: core/model/students (private to the GAM student).
 *
 * M = n_margins.  A main shape of feature j has n_bins bins: numeric
 * features n_edges + 1 value bins then the missing bin; categorical features
 * one bin per level then the missing bin.  scores and std are n_bins x M,
 * row-major.  A pair table has (n_edges_a + 2) x (n_edges_b + 2) cells (the
 * last row / column being the missing bin of a / b), each M values, stored
 * row-major: cell (ia, ib) at (ia * nb_b + ib) * M.
 */
#ifndef CORE_MODEL_STUDENTS_GAM_IMPL_H
#define CORE_MODEL_STUDENTS_GAM_IMPL_H

#include <stddef.h>

#include "core/model/students/gam.h"

typedef struct gam_shape {
    size_t n_bins; /* including the missing bin */
    size_t n_edges;
    double *edges; /* numeric: n_edges ascending upper edges; else NULL */
    double *scores;
    double *std;
} gam_shape;

typedef struct gam_pair {
    size_t a, b; /* feature indices, a < b */
    size_t n_edges_a, n_edges_b;
    double *edges_a, *edges_b; /* NULL for a categorical feature */
    size_t nb_a, nb_b;         /* bins per side including missing */
    double *scores;            /* nb_a x nb_b x M */
    double *std;
} gam_pair;

typedef struct gam_impl {
    size_t M;
    double *intercept; /* M */
    gam_shape *shapes; /* n_shapes == the model's n_features */
    size_t n_shapes;
    size_t n_pairs;
    gam_pair *pairs;
    gb_gam_params params;  /* params.monotone is NULL here */
    signed char *monotone; /* per feature: +1, -1 or 0 */
    size_t rounds_used;
} gam_impl;

extern const gb_model_ops gb_gam_ops;

/* The artifact (model.h to_json). */
cJSON *gb_gam_to_json(const gb_model *m);

/* Bin of value x of feature feat in a main shape (or a pair side) with the
 * given edges; n_bins includes the missing bin. */
size_t gb_gam_bin(const gb_feature *feat, const double *edges, size_t n_edges,
                  size_t n_bins, double x);

/* Frees an impl and everything it owns (NULL is a no-op). */
void gb_gam_impl_free(void *p);

/* Monotone constraints as text "name:1,name:-1" (empty when none); caller
 * frees with gb_free; NULL on allocation failure. */
char *gb_gam_monotone_text(const gb_model *m);

/* Parses the monotone text against features; fills dir[n_features] with
 * +1/-1/0.  features may be NULL for a syntax-only check.  GB_EUNUSABLE
 * naming "monotone". */
gb_status gb_gam_monotone_parse(const char *text, const gb_feature *features,
                                size_t n_features, signed char *dir, gb_error *err);

#endif /* CORE_MODEL_STUDENTS_GAM_IMPL_H */
