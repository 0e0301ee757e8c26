/*
 * encode.h - the design matrix shared by all models.
 * Layer: core/data.
 *
 * A model declares the features it reads, in order, as gb_feature specs.  A
 * gb_design binds such a list to a gb_table by name and fills row-major
 * double matrices (n_rows x n_features, ld = n_features) from it:
 *
 *   NUMERIC "x"          <- numeric column x as-is (NaN = missing)
 *   NUMERIC "col=level"  <- when no column is literally named so: one-hot
 *                           indicator of categorical column col (1.0 / 0.0;
 *                           NaN when col is missing on that row; 0.0 for every
 *                           row when the level does not occur in the table)
 *   CATEGORICAL "x"      <- categorical column x as a code into the feature's
 *                           own level list, matched by level name (NaN when
 *                           missing or when the level is unknown to the model);
 *                           a numeric column is matched by its shortest
 *                           round-trip text ("3", "2.5")
 *
 * A feature that cannot be bound is GB_EUNUSABLE listing every missing name.
 */
#ifndef CORE_DATA_ENCODE_H
#define CORE_DATA_ENCODE_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"

typedef enum gb_feature_kind {
    GB_FEAT_NUMERIC = 0,
    GB_FEAT_CATEGORICAL = 1
} gb_feature_kind;

typedef struct gb_feature {
    char *name;
    gb_feature_kind kind;
    char **levels; /* CATEGORICAL: level names, index = code; else NULL */
    size_t n_levels;
} gb_feature;

/* Deep copy of n features into *out (caller frees with gb_features_free). */
gb_status gb_features_copy(const gb_feature *src, size_t n, gb_feature **out,
                           gb_error *err);
/* Frees an array of n features and the names and levels they own; NULL is a
 * no-op. */
void gb_features_free(gb_feature *features, size_t n);

/* The default features of a table: every column except those flagged in
 * exclude[] (n_cols flags, may be NULL), in column order; numeric columns as
 * NUMERIC; categorical columns one-hot as NUMERIC "col=level" per level when
 * one_hot is nonzero, else as one CATEGORICAL feature with the column's
 * levels.  Caller frees *out with gb_features_free. */
gb_status gb_features_from_table(const gb_table *table, const unsigned char *exclude,
                                 int one_hot, gb_feature **out, size_t *n_out,
                                 gb_error *err);

typedef struct gb_design gb_design;

/* Binds features to table columns by name (see above).  The design keeps
 * pointers into both: they must outlive it.  The caller frees it with
 * gb_design_free.  NULL on error, with err naming the missing or mistyped
 * column (or GB_ENOMEM). */
gb_design *gb_design_bind(const gb_feature *features, size_t n_features,
                          const gb_table *table, gb_error *err);
/* Frees a design (not the features or table it points into); NULL is a
 * no-op. */
void gb_design_free(gb_design *design);
/* How many features (design-matrix columns) design was bound with. */
size_t gb_design_n_features(const gb_design *design);

/* Fills out[n_rows x n_features] row-major.  With rows != NULL the table rows
 * are rows[0..n_rows); otherwise row0 .. row0+n_rows-1. */
void gb_design_fill(const gb_design *design, const size_t *rows, size_t row0,
                    size_t n_rows, double *out);

/* Means and standard deviations (population, ddof 0) of each column of
 * X[n_rows x n_cols], ignoring NaN.  A constant or all-missing column gets
 * scale 1.  mean and scale have n_cols entries. */
void gb_standardize_stats(const double *X, size_t n_rows, size_t n_cols, double *mean,
                          double *scale);

/* Shortest text that round-trips v through strtod ("3", "0.1", "1e+300").
 * buf needs 32 bytes. */
void gb_format_double(double v, char buf[32]);

#endif /* CORE_DATA_ENCODE_H */
