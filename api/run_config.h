/*
 * run_config.h - the body of POST /api/v1/runs: parsed, checked and
 * normalised into the configuration stored with a distillation run, and
 * turned into the pipeline's gb_distill_config.
 * Layer: api.
 *
 * The normalised form is itself a valid request body (every default filled
 * in, student parameters as text), so the job runner parses the stored text
 * with the same function and gets the same settings:
 *
 *   {"dataset_id":"ds_..",
 *    "teacher":{"ids":["tch_.."],"weights":[..]} | {"scores":["p_1"]},
 *    "student":{"type":"tree","params":{"max_depth":"4"}},
 *    "distill":{"temperature":1,"alpha":0,"cutoff":0.5,"bootstrap":200,
 *               "augment":{"method":"none","multiplier":0,"p":0.5,"s":10},
 *               "search":{"temperatures":[],"alphas":[],"augment":false}},
 *    "split":{"test_fraction":0.25,"seed":0},
 *    "explain":{"level":"fast","permutation":true,"shap":true,
 *               "pdp_features":5,"frontier":false},
 *    "seed":0}
 *
 * What is checked here needs no database or data: shapes and types of
 * every member, unknown members (every unknown name listed, the first in
 * err->field as a dotted path), ranges (gb_distill_check, with field names
 * mapped to the request's dotted paths: "distill.temperature",
 * "student.params.max_depth", ...).  Dataset and teacher existence, teacher
 * features and score columns are checked by the handler against the store.
 */
#ifndef API_RUN_CONFIG_H
#define API_RUN_CONFIG_H

#include <stddef.h>

#include "core/base.h"
#include "core/distill/pipeline.h"
#include "core/json.h"
#include "core/model/students/student.h"
#include "explain/explain.h"

#define API_RUN_MAX_TEACHERS 16
#define API_RUN_MAX_PARAMS 64
#define API_RUN_MAX_SCORES (GB_MAX_CLASSES + 1)

typedef struct api_run_config {
    cJSON *json; /* the normalised configuration (owned) */
    const char *dataset_id;
    size_t n_teachers; /* teacher model ids (0 with score columns) */
    const char *teacher_ids[API_RUN_MAX_TEACHERS];
    int have_weights;
    double weights[API_RUN_MAX_TEACHERS];
    size_t n_scores;
    char *score_columns[API_RUN_MAX_SCORES]; /* point into json */
    gb_param params[API_RUN_MAX_PARAMS];     /* point into json */
    size_t n_params;
    ex_params explain;
    gb_distill_config cfg; /* target/teacher/hashes unset; params, student,
                              settings and search filled */
} api_run_config;

/* Parses a request body (or a stored normalised configuration) into *out.
 * task is the dataset's task when known (GB_TASK_AUTO otherwise) and is
 * used for the student parameter check.  On success *out owns its json
 * (api_run_config_clear).  On error *out is cleared and err is
 * GB_EUNUSABLE (or GB_ENOMEM) with err->field the dotted path of the
 * offending member. */
gb_status api_run_config_parse(const cJSON *body, gb_task task, api_run_config *out,
                               gb_error *err);

/* Frees what the configuration owns; safe on a zeroed or cleared value. */
void api_run_config_clear(api_run_config *c);

#endif /* API_RUN_CONFIG_H */
