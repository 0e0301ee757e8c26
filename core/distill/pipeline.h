/*
 * pipeline.h - one distillation run: split, teacher scoring, soft targets,
 * distilled and baseline students, metrics, fidelity, report.
 * Layer: core/distill.  The CLI (`glassbox distill`) and the daemon's job
 * runner call the same function; no I/O happens here.
 *
 * The report is API.md's report object.  Everything in it is a function of
 * the inputs, the configuration and the seeds, except the "timings" block:
 * drop that block and two runs with the same inputs give byte-identical
 * reports whatever n_threads is.
 */
#ifndef CORE_DISTILL_PIPELINE_H
#define CORE_DISTILL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"
#include "core/progress.h"

/* What the explanation step receives (explain/ is a layer above core: the
 * caller passes a callback, so core never calls explain/ itself). */
typedef struct gb_explain_input {
    const gb_model *teacher;    /* NULL for a score teacher */
    const gb_model *student;    /* the distilled student */
    const gb_model *baseline;   /* the hard-label student */
    const gb_table *test_table; /* the table holding the test rows */
    const size_t *test_rows;    /* n_test row indices into test_table */
    size_t n_test;
    const double *teacher_test; /* teacher outputs on those rows */
    uint64_t seed;
    unsigned n_threads;
    /* The dataset's row numbers of the test rows, for the report to name
     * (n_test entries): differs from test_rows when the run has compacted
     * its table (gb_distill_run_releasing); NULL = test_rows. */
    const size_t *test_row_ids;
} gb_explain_input;

/* Fills *out with the report's "explanations" object (owned by the caller
 * of the pipeline's result).  Errors fail the run. */
typedef gb_status (*gb_explain_cb)(void *ctx, const gb_explain_input *in, cJSON **out,
                                   gb_error *err);

#define GB_SEARCH_MAX 8 /* values per searched setting */

typedef struct gb_distill_config {
    const char *target; /* target column name (required) */
    gb_task task;       /* GB_TASK_AUTO infers (table.h) */

    /* The teacher: exactly one of a queryable model or score columns. */
    const gb_model *teacher;    /* file teacher or ensemble; borrowed */
    char *const *score_columns; /* score-column teacher (scores.h) */
    size_t n_score_columns;
    const char *teacher_sha256; /* hex of the teacher file(s), or NULL */
    const char *dataset_sha256; /* hex of the training CSV bytes, or NULL */
    const char *test_sha256;    /* hex of the test CSV bytes, or NULL */

    const char *student_type; /* "tree", "logistic", ... */
    const gb_param *params;   /* student parameters, text key/values */
    size_t n_params;

    double temperature;        /* T > 0; default 1 */
    double alpha;              /* weight of hard labels in [0,1]; default 0 */
    double test_fraction;      /* in (0,1); default 0.25 (ignored with test) */
    uint64_t split_seed;       /* default 0 */
    uint64_t seed;             /* student seed; default 0 */
    size_t augment_multiplier; /* MUNGE passes (munge.h); 0 = none (default) */
    double augment_p;          /* MUNGE swap probability; default 0.5 */
    double augment_s;          /* MUNGE spread divisor; default 10 */
    double cutoff;             /* binary agreement cutoff; default 0.5 */

    /* Settings search (distill.search): every combination of the listed
     * temperatures, alphas and (with search_augment) augmentation on/off is
     * trained on an inner split of the training rows and judged by its
     * fidelity on the held-out part (never the test rows); the winner is
     * retrained on all training rows.  Empty lists mean "the one value
     * above".  */
    double search_temperatures[GB_SEARCH_MAX];
    size_t n_search_temperatures;
    double search_alphas[GB_SEARCH_MAX];
    size_t n_search_alphas;
    int search_augment;                /* needs augment_multiplier > 0 */
    double search_validation_fraction; /* default 0.2 */

    int frontier;             /* refit at increasing complexity; default 0 */
    gb_explain_cb explain_cb; /* may be NULL: no "explanations" block */
    void *explain_ctx;
    size_t n_bootstrap; /* fidelity intervals; default 200 */
    unsigned n_threads; /* speed only; default 1 */
} gb_distill_config;

/* Fills *c with the documented defaults (no target, teacher or student). */
void gb_distill_config_default(gb_distill_config *c);

/* Validates every setting that can be checked without data or teacher:
 * student type and parameters (gb_student_check), temperature,
 * alpha, test_fraction, cutoff, bootstrap count.  GB_EUNUSABLE with
 * err->field naming the setting. */
gb_status gb_distill_check(const gb_distill_config *c, gb_error *err);

typedef struct gb_distill_result {
    cJSON *report;      /* API.md report object */
    cJSON *config;      /* canonical echo of the configuration (hashed) */
    gb_model *student;  /* the distilled student */
    gb_model *baseline; /* the same student trained on hard labels */
} gb_distill_result;

/* Runs the pipeline.  train is the training table (and the test rows too
 * when test is NULL: a seeded stratified split is drawn); test, when given,
 * holds the test rows.  The teacher model (if any) is only read.
 * With augment_multiplier > 0 the distilled student also learns from
 * MUNGE rows labelled by the teacher (their hard label is the teacher's
 * class; a score teacher cannot label them: GB_EUNUSABLE), and the report's
 * "augmentation" block gives the fidelity of the same student trained
 * without them.  The baseline never sees augmented rows.
 * The teacher must be given exactly once (GB_EUNUSABLE, field "teacher").
 * On success *out owns its members (gb_distill_result_free).  On error *out
 * is zeroed and err says what went wrong (GB_ECANCELLED when the progress
 * cancel flag was raised). */
gb_status gb_distill_run(const gb_distill_config *c, const gb_table *train,
                         const gb_table *test, const gb_progress *progress,
                         gb_distill_result *out, gb_error *err);

/* gb_distill_run for a caller that hands its training table over: once the
 * students' design matrix is built, the run drops the table's rows it no
 * longer reads (all but the test rows of a split; all of them with a
 * separate test table), block by block as the matrix fills, so the table
 * and the matrix are never held in full at once.  Runs with a settings
 * search or augmentation keep every row (they read training rows from the
 * table later).  Results are identical to gb_distill_run's.  Afterwards
 * *train keeps its columns (names, types, levels) but its rows are the
 * run's business: the caller may only free it (gb_table_free). */
gb_status gb_distill_run_releasing(const gb_distill_config *c, gb_table *train,
                                   const gb_table *test, const gb_progress *progress,
                                   gb_distill_result *out, gb_error *err);

/* Frees what a result owns (not the struct itself) and zeroes it; NULL and
 * an already-freed (zeroed) result are no-ops. */
void gb_distill_result_free(gb_distill_result *r);

#endif /* CORE_DISTILL_PIPELINE_H */
