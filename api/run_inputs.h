/*
 * run_inputs.h - loading what a distillation run reads from the store: the
 * dataset row and its table, the resolved target, the teacher model(s)
 * (one file, or an ensemble of several), and checking them against each
 * other.  POST /api/v1/runs calls it to validate before queueing; the job
 * runner calls it again to execute.
 * Layer: api.
 */
#ifndef API_RUN_INPUTS_H
#define API_RUN_INPUTS_H

#include "api/run_config.h"
#include "core/data/table.h"
#include "core/model/model.h"
#include "core/sha256.h"
#include "storage/datasets.h"
#include "storage/db.h"

typedef struct api_run_inputs {
    st_dataset dataset;
    gb_table *table;
    gb_target target;
    int have_target;
    gb_model *teacher; /* NULL for score columns */
    char teacher_sha256[GB_SHA256_HEX_BYTES];
    cJSON *missing; /* after a missing-features error: the names (owned) */
} api_run_inputs;

/* Loads and checks the inputs of config c: the dataset (GB_ENOTFOUND,
 * field "dataset_id"), its CSV blob, the target, each teacher (GB_ENOTFOUND,
 * field "teacher.ids[i]"), the teacher's task and classes against the
 * target, every teacher feature present in the dataset (GB_EUNUSABLE
 * listing every missing name; in->missing holds them all), the score
 * columns (GB_EUNUSABLE naming the column and line).  On error what was
 * loaded stays in *in; always release with api_run_inputs_clear. */
gb_status api_run_inputs_load(st_db *db, const char *data_dir, const api_run_config *c,
                              api_run_inputs *in, gb_error *err);

void api_run_inputs_clear(api_run_inputs *in);

#endif /* API_RUN_INPUTS_H */
