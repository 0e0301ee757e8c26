/*
 * load.h - loading any teacher (or student artifact) from its file, with the
 * format detected from the bytes, and checking a model against a dataset.
 * Layer: core/model/teachers.
 *
 * Detection order (docs/teachers-scores.md, "Loading a teacher"):
 *   1. a first byte '{' followed by a UBJSON type or count marker
 *      (i U I l L $ #): XGBoost UBJSON;
 *   2. otherwise, after a UTF-8 BOM and leading whitespace, '{': JSON;
 *      "format":"glassbox-mlp" -> glassbox-mlp, "format":"glassbox-student"
 *      -> a student artifact, an object with "learner" -> XGBoost JSON;
 *   3. a first line "tree": LightGBM text;
 *   anything else: GB_EUNUSABLE "unrecognised model format".
 */
#ifndef CORE_MODEL_TEACHERS_LOAD_H
#define CORE_MODEL_TEACHERS_LOAD_H

#include <stddef.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/model/model.h"

/* Largest model file read (bytes). */
#define GB_TEACHER_MAX_BYTES ((size_t)512 * 1024 * 1024)

typedef enum gb_model_format {
    GB_FORMAT_UNKNOWN = 0,
    GB_FORMAT_GLASSBOX_MLP,
    GB_FORMAT_GLASSBOX_STUDENT,
    GB_FORMAT_XGBOOST_JSON,
    GB_FORMAT_XGBOOST_UBJSON,
    GB_FORMAT_LIGHTGBM_TEXT
} gb_model_format;

/* "glassbox-mlp", "glassbox-student", "xgboost-json", "xgboost-ubjson",
 * "lightgbm-text" or "unknown"; never NULL. */
const char *gb_model_format_name(gb_model_format format);

/* Detects the format of n bytes (see above) without building anything:
 * JSON is not parsed, only the keys of its top-level object are read
 * (XGBoost writes NaN tokens plain JSON parsers refuse), so a malformed file
 * still reaches its format's loader, which names the problem. */
gb_model_format gb_model_format_detect(const char *bytes, size_t n);

/* Detects the format and builds the model.  *out is owned by the caller
 * (gb_model_free); on error *out is NULL and err comes from the format's
 * loader, or is GB_EUNUSABLE "unrecognised model format" (or naming a
 * format this build cannot load). */
gb_status gb_teacher_load(const char *bytes, size_t n, gb_model **out, gb_error *err);

/* Options for loading a teacher. */
typedef struct gb_teacher_options {
    /* Optional: the dataset the model will score.  Formats whose files do not
     * name categorical levels (XGBoost) take them from this table's
     * categorical columns of the same name (see xgboost.h).  May be NULL. */
    const gb_table *levels_from;
} gb_teacher_options;

/* As gb_teacher_load with options (opts may be NULL). */
gb_status gb_teacher_load_opts(const char *bytes, size_t n,
                               const gb_teacher_options *opts, gb_model **out,
                               gb_error *err);

/* Reads the file at path (at most GB_TEACHER_MAX_BYTES; larger is
 * GB_ETOOLARGE, a missing file GB_ENOTFOUND, other read failures GB_EIO,
 * each naming the path) and loads it with gb_teacher_load. */
gb_status gb_teacher_load_file(const char *path, gb_model **out, gb_error *err);

/* As gb_teacher_load_file with options (opts may be NULL). */
gb_status gb_teacher_load_file_opts(const char *path, const gb_teacher_options *opts,
                                    gb_model **out, gb_error *err);

/* Checks that `table` provides every feature of m (by name, see
 * core/data/encode.h).  GB_EUNUSABLE listing every missing feature in one
 * message (as many names as the message holds, then "and K more"; the
 * first missing name in err->field); otherwise whatever gb_design_bind
 * reports.  Nothing is kept. */
gb_status gb_model_check_features(const gb_model *m, const gb_table *table,
                                  gb_error *err);

#endif /* CORE_MODEL_TEACHERS_LOAD_H */
