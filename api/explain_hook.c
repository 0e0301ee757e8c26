/*
 * explain_hook.c - the pipeline's explanation step, calling explain/.
 * Layer: api.
 */
#include "api/explain_hook.h"

gb_status api_explain_cb(void *ctx, const gb_explain_input *in, cJSON **out,
                         gb_error *err)
{
    ex_params p = *(const ex_params *)ctx;
    p.seed = in->seed;
    p.n_threads = in->n_threads;
    p.row_ids = in->test_row_ids;
    return ex_explain_report(in->teacher, in->student, in->baseline, in->test_table,
                             in->test_rows, in->n_test, NULL, in->teacher_test, &p, out,
                             err);
}
