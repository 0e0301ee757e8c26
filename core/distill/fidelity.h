/*
 * fidelity.h - the report's "metrics" blocks (one per model) and its
 * "fidelity" block (student vs teacher), and their JSON.
 * Layer: core/distill (core/math/metrics, core/parallel, core/json).
 *
 * Inputs are model outputs on the same test rows (core/model/model.h):
 *   classification: n_rows x n_classes probabilities, row-major (binary: 2
 *                   columns, column 1 = P(class 1) is "the score");
 *   regression:     n_rows values.
 * Labels are int32 class indices in [0, n_classes); regression targets
 * doubles.  Nothing is modified.  docs/metrics.md defines every field.
 *
 * Undefined values are NaN in the structs and null in the JSON.
 */
#ifndef CORE_DISTILL_FIDELITY_H
#define CORE_DISTILL_FIDELITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/json.h"

/* ---- metrics block M --------------------------------------------------------- */

/* One model's quality on the test rows.  Classification fills accuracy, auc,
 * logloss, brier, ks (macro one-vs-rest for auc and ks when multiclass);
 * regression fills rmse, mae, r2.  The other fields are NaN. */
typedef struct gb_metrics {
    gb_task task;
    double accuracy, auc, logloss, brier, ks;
    double rmse, mae, r2;
} gb_metrics;

/* Computes M for `pred` (probabilities or values) against y_class
 * (classification) or y_value (regression).  task is BINARY, MULTICLASS or
 * REGRESSION; n_classes is ignored for regression.  Errors: GB_EUNUSABLE for
 * a wrong task/n_classes ("task", as gb_fidelity_compute), missing labels
 * ("y"), labels out of range; GB_ENOMEM.  *out is untouched on error. */
gb_status gb_metrics_compute(gb_task task, size_t n_rows, size_t n_classes,
                             const int32_t *y_class, const double *y_value,
                             const double *pred, gb_metrics *out, gb_error *err);

/* {"accuracy","auc","logloss","brier","ks"} or {"rmse","mae","r2"}, non-finite
 * values as null.  A new object the caller frees with cJSON_Delete (or
 * attaches to a parent); NULL on allocation failure. */
cJSON *gb_metrics_to_json(const gb_metrics *m);

/* ---- fidelity block ----------------------------------------------------------- */

#define GB_FIDELITY_DECILES 10
#define GB_FIDELITY_DEFAULT_BOOTSTRAP 200
#define GB_FIDELITY_DEFAULT_CUTOFF 0.5

typedef struct gb_fidelity_params {
    double cutoff;      /* binary: agreement_at_cutoff threshold on P(class 1),
                           in [0, 1]; default 0.5 */
    size_t n_bootstrap; /* resamples for ci95; 0 = no intervals (null);
                           default 200, at most 100000 */
    uint64_t seed;      /* bootstrap seed (replicate b uses
                           gb_rng_split(seed, b)) */
    unsigned n_threads; /* speed only; results never depend on it */
} gb_fidelity_params;

/* Fills *p with the defaults above (seed 0, 1 thread). */
void gb_fidelity_params_default(gb_fidelity_params *p);

typedef struct gb_fidelity_decile {
    int decile;          /* 1 = lowest teacher scores ... 10 = highest */
    size_t n_rows;       /* rows in the group (not in the JSON) */
    double teacher_mean; /* mean teacher score */
    double student_mean; /* mean student score */
    double agreement;    /* share of argmax agreement; NaN for regression */
} gb_fidelity_decile;

typedef struct gb_fidelity {
    gb_task task;
    double agreement;      /* argmax agreement; NaN for regression */
    double r2, mae;        /* of the student against the teacher */
    double kl;             /* mean KL(teacher || student); NaN for regression */
    double spearman;       /* rank correlation of teacher and student scores */
    double auc_vs_teacher; /* student score vs teacher's argmax label */
    double cutoff, agreement_at_cutoff; /* binary only (else NaN) */
    size_t n_deciles;                   /* groups with rows (<= 10) */
    gb_fidelity_decile deciles[GB_FIDELITY_DECILES];
    double ci_agreement[2]; /* bootstrap 95% percentile intervals */
    double ci_auc[2];       /* of the student's AUC against the true labels */
    size_t n_bootstrap;
} gb_fidelity;

/* Computes the fidelity block of `student` against `teacher` (both n_rows
 * outputs as above) for task.  y_class (classification, may be NULL: then
 * ci_auc is NaN) gives the true labels for the AUC interval; params may be
 * NULL for the defaults.
 *
 * Errors (GB_EUNUSABLE, field named): task AUTO, binary without exactly 2
 * classes or multiclass with fewer than 2 ("task"), cutoff outside [0, 1]
 * ("cutoff"), n_bootstrap above 100000 ("n_bootstrap"), labels out of range
 * ("y"); GB_ENOMEM.  *out is untouched on error. */
gb_status gb_fidelity_compute(gb_task task, size_t n_rows, size_t n_classes,
                              const double *teacher, const double *student,
                              const int32_t *y_class, const gb_fidelity_params *params,
                              gb_fidelity *out, gb_error *err);

/* The report's fidelity object:
 *   {"agreement","r2","kl","mae","spearman","auc_vs_teacher",
 *    "agreement_at_cutoff":{"cutoff","value"} (null unless binary),
 *    "deciles":[{"decile","teacher_mean","student_mean","agreement"}],
 *    "ci95":{"agreement":[lo,hi],"auc":[lo,hi]}}
 * with non-finite numbers (and intervals that are not computed) as null.  A
 * new object owned by the caller; NULL on allocation failure. */
cJSON *gb_fidelity_to_json(const gb_fidelity *f);

/* The p-th percentile (p in [0, 100]) of v[0..n) by linear interpolation
 * between closest ranks (numpy's default "linear" method), ignoring NaN
 * entries; NaN when none is left.  Sorts v in place (NaN last). */
double gb_percentile_inplace(double *v, size_t n, double p);

#endif /* CORE_DISTILL_FIDELITY_H */
