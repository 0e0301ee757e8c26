/*
 * dataset_json.h - the dataset object of API.md as JSON.
 * Layer: api.
 */
#ifndef API_DATASET_JSON_H
#define API_DATASET_JSON_H

#include <cjson/cJSON.h>

#include "core/data/table.h"

/* Builds {"name","sha256","rows","columns":[...],"target","task","classes"}
 * for table t.  Each column is {"name","type":"numeric"|"categorical",
 * "missing"} plus "levels" (categorical) or "min","max","mean","sd" (numeric,
 * over non-missing values; sd with ddof 1; null when undefined).  target may
 * be NULL: then "target" and "task" are null and "classes" is empty; classes
 * is also empty for regression.  The server adds "id".  Returns a new tree
 * (caller frees with cJSON_Delete) or NULL on allocation failure. */
cJSON *api_dataset_json(const gb_table *t, const gb_target *target, const char *name,
                        const char *sha256);

#endif /* API_DATASET_JSON_H */
