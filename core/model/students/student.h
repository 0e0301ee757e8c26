/*
 * student.h - what every interpretable student is trained from, and the one
 * entry point that fits a student by type name.
 * Layer: core/model/students.
 *
 * A training set is the student's design matrix plus targets (ALGORITHMS.md,
 * "Soft targets and the distillation loss"):
 *
 *   classification: y_class hard labels (n_rows, may be NULL when alpha = 0)
 *                   and soft = q_T, the teacher's probabilities softened at
 *                   temperature T (n_rows x n_classes, rows sum to 1; NULL
 *                   for a baseline).  Gradient students minimise
 *                   alpha*CE(y, softmax(z)) + (1-alpha)*T^2*KL(q_T || softmax(z/T));
 *                   trees regress on alpha*onehot(y) + (1-alpha)*q_T.
 *   regression:     y_value (n_rows) and soft = teacher outputs (n_rows);
 *                   the target is alpha*y + (1-alpha)*teacher, squared error.
 *
 * The baseline student is the same type with alpha = 1 and soft = NULL.
 *
 * Parameters arrive as text key/value pairs (CLI `--param k=v`, API JSON
 * values turned into text), so one parser per student validates both.
 * Unknown keys and out-of-range values are GB_EUNUSABLE naming the key.
 */
#ifndef CORE_MODEL_STUDENTS_STUDENT_H
#define CORE_MODEL_STUDENTS_STUDENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/encode.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/progress.h"

typedef struct gb_train_set {
    size_t n_rows;
    size_t n_features;
    const double *X;            /* n_rows x n_features, row-major, NaN = missing */
    const gb_feature *features; /* n_features specs of X's columns */
    gb_task task;
    size_t n_classes;       /* classification: >= 2; regression: 0 */
    char *const *classes;   /* n_classes labels */
    const int32_t *y_class; /* classification hard labels, or NULL */
    const double *y_value;  /* regression hard targets, or NULL */
    const double *soft;     /* see above; NULL for hard labels only */
    double temperature;     /* T > 0 (1 when soft is NULL) */
    double alpha;           /* weight of hard labels in [0, 1] */
    uint64_t seed;          /* for students that draw random numbers */
    unsigned n_threads;     /* speed only: results must not depend on it */
} gb_train_set;

typedef struct gb_param {
    const char *key;
    const char *value;
} gb_param;

/* Parameter text helpers shared by the students' parsers.  A whole decimal
 * integer in [lo, hi] (no sign, no spaces) / a whole finite real number;
 * nonzero on success, *out untouched otherwise. */
int gb_param_parse_uint(const char *text, unsigned long long lo, unsigned long long hi,
                        unsigned long long *out);
int gb_param_parse_real(const char *text, double *out);

/* Student type names: "tree", "sbdt", "logistic", "linear", "gam". */

/* Checks type and parameters without training (for validation before a run
 * is queued).  task may be GB_TASK_AUTO when it is not known yet: then only
 * the task-independent checks run.  GB_EUNUSABLE naming the type or the
 * parameter on error. */
gb_status gb_student_check(const char *type, const gb_param *params, size_t n_params,
                           gb_task task, gb_error *err);

/* Fits a student of `type` on ts.  *out owned by the caller (gb_model_free).
 * Whether categorical features arrive one-hot or as codes is up to the
 * caller per gb_student_wants_one_hot. */
gb_status gb_student_fit(const char *type, const gb_param *params, size_t n_params,
                         const gb_train_set *ts, const gb_progress *progress,
                         gb_model **out, gb_error *err);

/* Nonzero when the student wants categorical columns one-hot encoded
 * (logistic, linear, sbdt); zero when it handles CATEGORICAL features itself
 * (tree, gam). */
int gb_student_wants_one_hot(const char *type);

/* Rebuilds a student from its artifact (to_json output); any student type. */
gb_status gb_student_from_json(const cJSON *artifact, gb_model **out, gb_error *err);

/* The "features" array of a tree or GAM artifact for m's features:
 * {"name", "kind": "numeric"|"categorical", "levels" (categorical)}.  A new
 * cJSON array (caller deletes), NULL when out of memory. */
cJSON *gb_student_features_to_json(const gb_model *m);

/* Reads the "features" array of a `type` student's artifact: objects with
 * "name" and "kind" ("numeric", or "categorical" with at most max_levels
 * "levels").  On success *out is a new array of *n_out features (caller frees
 * with gb_features_free).  GB_EUNUSABLE naming the field ("<type> artifact:
 * field 'features[i].kind' ...") on a malformed entry, GB_ENOMEM; *out is
 * untouched on error. */
gb_status gb_student_features_from_json(const cJSON *arr, const char *type,
                                        size_t max_levels, gb_feature **out,
                                        size_t *n_out, gb_error *err);

/* Exports a student as deployable code: format "sql" (a CASE expression per
 * output) or "c" (a standalone C function).  *out is a NUL-terminated string
 * the caller frees with gb_free.  GB_EUNUSABLE when the student cannot be
 * exported in that format. */
gb_status gb_student_export(const gb_model *student, const char *format, char **out,
                            gb_error *err);

#endif /* CORE_MODEL_STUDENTS_STUDENT_H */
