/*
 * explain.h - the one entry point that fills a report's `explanations`
 * object (API.md): teacher, student and baseline explained side by side and
 * compared.
 * Layer: explain (depends on core only).
 *
 * What is computed (docs/explanations.md says how to read each number):
 *   global        importance per source column for teacher, student and
 *                 baseline: mean |SHAP| ("method":"shap") when every model
 *                 has exact attributions, else label-free permutation
 *                 importance ("method":"permutation");
 *   attributions  how each model's local attributions were obtained
 *                 ("exact" TreeSHAP / linear, or "sampled" Shapley values
 *                 with the number of permutations);
 *   agreement     teacher vs student: Spearman of the global importances,
 *                 Jaccard of the top-5 columns, mean cosine of the local
 *                 attribution vectors (by source column, margin space);
 *   student_vs_baseline  Spearman and top-5 Jaccard;
 *   pdp           PDP and ICE of the top columns on one grid per column;
 *   disagreement  rules of the depth-3 disagreement tree (disagreement.h);
 *   reason_codes  binary tasks: top-k adverse columns per row (largest
 *                 positive contributions to the adverse class's margin,
 *                 params->adverse_class, default classes[1]), teacher vs
 *                 student, and how often they match;
 *   unavailable   [{"what","reason"}] for everything a score teacher (no
 *                 model) or a setting prevents; those entries are null.
 *
 * Rows: local attributions, PDP and permutation importance use a seeded
 * sample of the test rows (level fast: 200, full: 1000); the sampling-Shapley
 * background is another seeded sample of the test rows (50 / 100); ICE curves
 * are drawn for the first rows of the sample (10 / 30).  Every random choice
 * comes from params->seed, so the object is identical whatever n_threads.
 */
#ifndef EXPLAIN_EXPLAIN_H
#define EXPLAIN_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/model/model.h"
#include "explain/attribute.h"

typedef enum ex_level { EX_LEVEL_NONE = 0, EX_LEVEL_FAST, EX_LEVEL_FULL } ex_level;

typedef struct ex_params {
    ex_level level;        /* default fast */
    int shap;              /* attributions allowed (default 1) */
    int permutation;       /* permutation importance allowed (default 1) */
    size_t pdp_features;   /* top columns with curves (default 5, <= 50) */
    size_t permutations;   /* sampling Shapley permutations, 0 = level default
                              (fast 16, full 64); else 2..10000 */
    size_t reason_codes_k; /* default 3, 1..20 */
    /* Binary reason codes explain the margin of this class (a label of the
     * student's classes); NULL (the default) = classes[1], the second class
     * (the positive label: default, fraud, decline).  Borrowed. */
    const char *adverse_class;
    uint64_t seed;      /* default 0 */
    unsigned n_threads; /* speed only */
    /* The row numbers the report names (ICE rows, examples) for the test
     * rows: row_ids[i] for test_rows[i]; NULL (the default) = test_rows[i]
     * itself.  For a caller whose test table is a compacted copy of the
     * dataset's rows.  Borrowed; n_test entries. */
    const size_t *row_ids;
} ex_params;

/* The documented defaults. */
void ex_params_default(ex_params *p);

/* "none", "fast" or "full"; anything else is GB_EINPUT naming "explain". */
gb_status ex_level_parse(const char *name, ex_level *out, gb_error *err);
const char *ex_level_name(ex_level level);

/* Fills *out with the explanations object.
 *   teacher        the teacher model, or NULL for a score teacher;
 *   student        the distilled student (required);
 *   baseline       the same student type on hard labels, or NULL;
 *   test_table     the table holding the test rows (every model binds to it
 *                  by feature name);
 *   test_rows      n_test row indices into test_table (NULL = the first
 *                  n_test rows);
 *   X_test_student the student's design matrix of those rows (n_test x
 *                  student->n_features), or NULL to build it;
 *   teacher_test   the teacher's outputs on those rows (n_test x
 *                  student->n_outputs: probabilities, or the regression
 *                  value), required (score teachers give their columns).
 * With level none, *out is {"level":"none"}.  *out owned by the caller
 * (cJSON_Delete).  Errors: GB_EUNUSABLE for bad parameters (naming the
 * field), a missing student or teacher output, fewer than 2 test rows, a
 * model whose features the table lacks; GB_ENOMEM; models' own errors.  *out
 * NULL on error. */
gb_status ex_explain_report(const gb_model *teacher, const gb_model *student,
                            const gb_model *baseline, const gb_table *test_table,
                            const size_t *test_rows, size_t n_test,
                            const double *X_test_student, const double *teacher_test,
                            const ex_params *params, cJSON **out, gb_error *err);

#endif /* EXPLAIN_EXPLAIN_H */
