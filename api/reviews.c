/*
 * reviews.c - POST/GET /api/v1/runs/{id}/reviews (validators' verdicts).
 * Layer: api.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "storage/reviews.h"

#define REVIEW_COMMENT_MAX 20000

static cJSON *review_json(const st_review *r)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    cJSON_AddStringToObject(obj, "id", r->id);
    cJSON_AddStringToObject(obj, "run_id", r->run_id);
    cJSON_AddStringToObject(obj, "verdict", r->verdict);
    cJSON_AddStringToObject(obj, "comment", r->comment != NULL ? r->comment : "");
    cJSON_AddStringToObject(obj, "created_at", r->created_at);
    cJSON_AddStringToObject(obj, "created_by", r->created_by);
    return obj;
}

static void field_error(api_response *resp, const char *field, const char *message)
{
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "field", field);
    api_error(resp, 422, "invalid_field", details, "%s", message);
}

void api_reviews_create(const api_request *req, api_response *resp)
{
    cJSON *body = api_body_object(req, resp), *details = NULL;
    char *details_text = NULL;
    gb_error err;
    if (body == NULL)
        return;
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(body, "verdict");
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(body, "comment");
    if (!cJSON_IsString(verdict)) {
        field_error(resp, "verdict",
                    "verdict is required: approved, rejected or needs_changes");
        goto done;
    }
    if (comment != NULL && !cJSON_IsString(comment) && !cJSON_IsNull(comment)) {
        field_error(resp, "comment", "comment must be a string");
        goto done;
    }
    const char *comment_text = cJSON_IsString(comment) ? comment->valuestring : "";
    if (!api_utf8_valid(comment_text)) {
        field_error(resp, "comment", "comment is not valid UTF-8");
        goto done;
    }
    if (strlen(comment_text) > REVIEW_COMMENT_MAX) {
        field_error(resp, "comment", "comment is longer than 20000 bytes");
        goto done;
    }
    st_review review;
    memset(&review, 0, sizeof review);
    snprintf(review.run_id, sizeof review.run_id, "%s", req->param_id);
    snprintf(review.verdict, sizeof review.verdict, "%.15s", verdict->valuestring);
    if (strlen(verdict->valuestring) >= sizeof review.verdict)
        review.verdict[0] = '?'; /* too long to be a verdict: rejected below */
    snprintf(review.created_by, sizeof review.created_by, "%s", api_actor(req));
    review.comment = (char *)comment_text;
    details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "run_id", req->param_id);
    cJSON_AddStringToObject(details, "verdict", verdict->valuestring);
    details_text = api_details_text(details);
    if (details_text == NULL) {
        gb_error_set(&err, GB_ENOMEM, "out of memory");
        api_error_from(resp, &err);
        goto done;
    }
    st_audit_entry audit = {api_actor(req), "review.create", NULL, details_text};
    if (st_review_insert(req->db, &review, &audit, &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    api_json(resp, 201, review_json(&review));
done:
    gb_free(details_text);
    cJSON_Delete(details);
    cJSON_Delete(body);
}

void api_reviews_list(const api_request *req, api_response *resp)
{
    size_t limit, offset, n = 0, total = 0;
    st_review *reviews = NULL;
    st_run run;
    gb_error err;
    if (api_paging(req, resp, &limit, &offset) != 0)
        return;
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    st_run_clear(&run);
    if (st_review_list(req->db, req->param_id, limit, offset, &reviews, &n, &total,
                       &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    cJSON *items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < n; i++)
        cJSON_AddItemToArray(items, review_json(&reviews[i]));
    st_review_list_free(reviews, n);
    api_json(resp, 200, api_list(items, total, limit, offset));
}
