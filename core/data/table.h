/*
 * table.h - the columnar dataset every part of glassbox reads.
 * Layer: core/data.
 *
 * A gb_table holds n_rows x n_cols typed columns, parsed from CSV
 * (core/data/csv.h) or built in memory.  Numeric columns store doubles (NaN =
 * missing); categorical columns store int32 codes into a sorted level list
 * (-1 = missing).  The struct is public for fast read access; treat it as
 * read-only outside table.c/csv.c and free it with gb_table_free.
 *
 * Level order (documented in docs/formats.md): if every level parses as a
 * finite number, levels are sorted numerically; otherwise they are sorted by
 * bytes (strcmp).  This is also the order of classes of a classification
 * target, and matches pandas' category codes for string levels.
 *
 * The target is a separate gb_target resolved from a table by column name.
 */
#ifndef CORE_DATA_TABLE_H
#define CORE_DATA_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Documented limits (docs/formats.md). */
#define GB_MAX_COLUMNS 10000     /* columns per dataset */
#define GB_MAX_FIELD_BYTES 65536 /* bytes per CSV field */
#define GB_MAX_LINE_BYTES                                                              \
    4194304                /* bytes per CSV record (quoted newlines                    \
                              included) */
#define GB_MAX_LEVELS 1000 /* levels of a categorical column */
#define GB_MAX_CLASSES 100 /* classes of a multiclass target */

typedef enum gb_col_type { GB_COL_NUMERIC = 0, GB_COL_CATEGORICAL = 1 } gb_col_type;

typedef struct gb_column {
    char *name;
    gb_col_type type;
    double *values; /* numeric: n_rows values, NaN = missing; else NULL */
    int32_t *codes; /* categorical: n_rows codes, -1 = missing; else NULL */
    char **levels;  /* categorical: n_levels sorted level strings */
    size_t n_levels;
    size_t n_missing;
} gb_column;

typedef struct gb_table {
    size_t n_rows;
    size_t n_cols;
    gb_column *cols; /* n_cols columns */
} gb_table;

typedef enum gb_task {
    GB_TASK_AUTO = 0, /* infer (see gb_target_resolve) */
    GB_TASK_BINARY,
    GB_TASK_MULTICLASS,
    GB_TASK_REGRESSION
} gb_task;

/* "binary", "multiclass", "regression" ("auto" for GB_TASK_AUTO). */
const char *gb_task_name(gb_task task);
/* Parses a task name; returns GB_EINPUT for anything else. */
gb_status gb_task_parse(const char *name, gb_task *task, gb_error *err);

/* The target column of a table, resolved for one task. */
typedef struct gb_target {
    size_t col;       /* index of the target column in the table */
    gb_task task;     /* never GB_TASK_AUTO after resolve */
    size_t n_classes; /* classification: >= 2; regression: 0 */
    char **classes;   /* classification: class labels in level order */
    int32_t *y_class; /* classification: n_rows class indices */
    double *y_value;  /* regression: n_rows values */
} gb_target;

/* Frees every column and the table; NULL is a no-op. */
void gb_table_free(gb_table *table);

/* Called by gb_table_keep_rows with rows [lo, hi) of the table just before
 * they are released (still readable then). */
typedef void (*gb_table_rows_cb)(void *ctx, const gb_table *table, size_t lo,
                                 size_t hi);

/* Shrinks table to the rows keep[0..n_keep) (strictly ascending, each <
 * n_rows), in that order, handing memory back as it goes: the table is
 * walked in blocks of `block` rows from its end; each block is first passed
 * to visit (may be NULL) and then cut off every column, after its kept rows
 * have been copied out.  So a caller can turn the rows it drops into
 * something else (a design matrix) without holding both at once.  Column
 * names, types and levels are kept; n_missing is recounted.  GB_ENOMEM
 * (table unchanged, visit not called) if the kept rows cannot be allocated;
 * nothing fails after the first visit. */
gb_status gb_table_keep_rows(gb_table *table, const size_t *keep, size_t n_keep,
                             size_t block, gb_table_rows_cb visit, void *ctx,
                             gb_error *err);

/* Index of the column named `name`, or -1. */
long gb_table_find(const gb_table *table, const char *name);

/* Resolves the target column `name` of `table` for `task` (GB_TASK_AUTO
 * infers it).  Inference: a categorical column is binary with 2 levels,
 * multiclass with 3..GB_MAX_CLASSES; a numeric column is binary with exactly 2
 * distinct values, multiclass when all values are integers with 3..20
 * distinct values, regression otherwise.  Errors (GB_EUNUSABLE, naming the
 * column): no such column, missing values in the target (first line named),
 * fewer than 2 classes, more than GB_MAX_CLASSES, a categorical target for
 * regression.  On success *out is filled and owned by the caller
 * (gb_target_free); on error *out is zeroed. */
gb_status gb_target_resolve(const gb_table *table, const char *name, gb_task task,
                            gb_target *out, gb_error *err);

/* Frees what gb_target_resolve allocated and zeroes *target. */
void gb_target_free(gb_target *target);

/* Column summary statistics over non-missing values (for dataset JSON). */
typedef struct gb_column_stats {
    double min, max, mean, sd; /* numeric only; NaN when no values */
    size_t n_distinct_capped;  /* distinct values, capped at GB_MAX_LEVELS+1 */
} gb_column_stats;

/* Fills *stats for the first n_rows values of col.  Allocates nothing and
 * cannot fail. */
void gb_column_stats_compute(const gb_column *col, size_t n_rows,
                             gb_column_stats *stats);

/* ---- building tables in memory (tests, generated data, the CSV reader) ---- */

/* An empty table of n_rows rows and no columns; add columns with the
 * functions below.  Caller frees with gb_table_free.  NULL on allocation
 * failure (err set). */
gb_table *gb_table_create(size_t n_rows, gb_error *err);

/* Appends a numeric column named `name` with a copy of values[0..n_rows)
 * (NaN = missing).  Errors: GB_EUNUSABLE for a duplicate or empty name,
 * GB_ETOOLARGE beyond GB_MAX_COLUMNS, GB_ENOMEM; the table is unchanged on
 * error. */
gb_status gb_table_add_numeric(gb_table *table, const char *name, const double *values,
                               gb_error *err);

/* Appends a categorical column from n_rows labels (NULL = missing); levels
 * are the distinct labels in table order (see above).  Errors as
 * gb_table_add_numeric, plus GB_ETOOLARGE beyond GB_MAX_LEVELS levels. */
gb_status gb_table_add_categorical(gb_table *table, const char *name,
                                   const char *const *labels, gb_error *err);

/* Sorts n distinct level strings in place into table order (numeric when
 * every level is a finite number by core/data/number.h, else strcmp; ties
 * between equal numbers spelled differently by strcmp).  When old_to_new is
 * non-NULL, old_to_new[i] receives the new index of the level that was at i.
 * GB_ENOMEM on allocation failure (levels unchanged). */
gb_status gb_levels_sort(char **levels, size_t n, int32_t *old_to_new);

#endif /* CORE_DATA_TABLE_H */
