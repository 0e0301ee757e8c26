/*
 * explain_hook.h - connects the distillation pipeline's explanation step
 * (core/distill/pipeline.h, gb_explain_cb) to explain/.
 * Layer: api (core cannot call explain/; the CLI and the job runner pass this
 * callback into the pipeline).
 */
#ifndef API_EXPLAIN_HOOK_H
#define API_EXPLAIN_HOOK_H

#include "core/distill/pipeline.h"
#include "explain/explain.h"

/* A gb_explain_cb: ctx is a const ex_params*; the input's seed and thread
 * count override the params' own. */
gb_status api_explain_cb(void *ctx, const gb_explain_input *in, cJSON **out,
                         gb_error *err);

#endif /* API_EXPLAIN_HOOK_H */
