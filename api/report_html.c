/*
 * report_html.c - GET /api/v1/runs/{id}/report.html: a succeeded run's
 * report as one self-contained, printable HTML page (no scripts, no
 * external resources), and the Content-Security-Policy the server sends
 * with it (the page's one <style> element is allowed by its SHA-256).
 * Layer: api.
 *
 * Sections: the run (ids, who, when, configuration), metrics of teacher,
 * student and baseline, fidelity with its 95% intervals and deciles,
 * complexity, the global explanations (top 20 columns) and their
 * agreement, the frontier, the student itself (tree rules or linear
 * coefficients), reviews, hashes and version.
 */
#include "api/api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "storage/reviews.h"

#define TOP_FEATURES 20
#define MAX_RULES 200

static const char report_css[] =
    "body{font-family:Helvetica,Arial,sans-serif;font-size:13px;color:#111;"
    "max-width:60em;margin:2em auto;padding:0 1em}"
    "h1{font-size:20px;margin-bottom:0}h2{font-size:15px;margin-top:1.6em;"
    "border-bottom:1px solid #999}"
    ".sub{color:#555;margin-top:.2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:2px 6px;text-align:right;"
    "vertical-align:top}"
    "th{background:#eee}td.l,th.l{text-align:left}"
    "code,.mono{font-family:Menlo,Consolas,monospace;font-size:12px;"
    "word-break:break-all}"
    "ol.rules li{font-family:Menlo,Consolas,monospace;font-size:12px}"
    "@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}"
    "table{page-break-inside:avoid}}";

/* ---- CSP ----------------------------------------------------------------------- */

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

void api_report_csp(char *out, size_t cap)
{
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    char b64[48];
    gb_sha256_init(&h);
    gb_sha256_update(&h, report_css, sizeof report_css - 1);
    gb_sha256_final(&h, digest);
    base64(digest, sizeof digest, b64);
    snprintf(out, cap,
             "default-src 'none'; style-src 'sha256-%s'; img-src data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
             b64);
}

/* ---- a growing text buffer --------------------------------------------------------
 */

typedef struct html {
    char *s;
    size_t len, cap;
    int failed;
} html;

static void put(html *h, const char *text, size_t n)
{
    if (h->failed)
        return;
    if (h->len + n + 1 > h->cap) {
        size_t want = h->cap ? h->cap * 2 : 16384;
        while (want < h->len + n + 1)
            want *= 2;
        char *grown = gb_realloc(h->s, want);
        if (grown == NULL) {
            h->failed = 1;
            return;
        }
        h->s = grown;
        h->cap = want;
    }
    memcpy(h->s + h->len, text, n);
    h->len += n;
    h->s[h->len] = '\0';
}

static void raw(html *h, const char *text)
{
    put(h, text, strlen(text));
}

static void rawf(html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rawf(html *h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(h, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Text with & < > " ' escaped. */
static void esc(html *h, const char *text)
{
    for (const char *p = text != NULL ? text : ""; *p; p++) {
        switch (*p) {
        case '&': raw(h, "&amp;"); break;
        case '<': raw(h, "&lt;"); break;
        case '>': raw(h, "&gt;"); break;
        case '"': raw(h, "&quot;"); break;
        case '\'': raw(h, "&#39;"); break;
        default: put(h, p, 1);
        }
    }
}

/* A JSON value as table-cell text: numbers with 4 significant digits,
 * strings escaped, arrays of numbers as [a, b], null as "-". */
static void value(html *h, const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v)) {
        raw(h, "&ndash;");
    } else if (cJSON_IsNumber(v)) {
        rawf(h, "%.4g", v->valuedouble);
    } else if (cJSON_IsString(v)) {
        esc(h, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        raw(h, cJSON_IsTrue(v) ? "yes" : "no");
    } else if (cJSON_IsArray(v)) {
        const cJSON *x;
        int first = 1;
        raw(h, "[");
        cJSON_ArrayForEach(x, v)
        {
            if (!first)
                raw(h, ", ");
            value(h, x);
            first = 0;
        }
        raw(h, "]");
    } else {
        char *text = gb_json_print(v, 0);
        raw(h, "<span class=\"mono\">");
        esc(h, text);
        raw(h, "</span>");
        gb_free(text);
    }
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* Every scalar member of obj as a two-column table. */
static void kv_table(html *h, const cJSON *obj)
{
    const cJSON *item;
    if (!cJSON_IsObject(obj))
        return;
    raw(h, "<table>");
    cJSON_ArrayForEach(item, obj)
    {
        if (cJSON_IsObject(item))
            continue;
        raw(h, "<tr><th class=\"l\">");
        esc(h, item->string);
        raw(h, "</th><td>");
        value(h, item);
        raw(h, "</td></tr>");
    }
    raw(h, "</table>");
}

/* ---- sections ------------------------------------------------------------------ */

static void section_metrics(html *h, const cJSON *report)
{
    const cJSON *metrics = get(report, "metrics");
    const cJSON *student = get(metrics, "student"), *m;
    static const char *const rows[] = {"teacher", "student", "baseline"};
    if (!cJSON_IsObject(student))
        return;
    raw(h, "<h2>Metrics on the test split</h2><table><tr><th class=\"l\">model</th>");
    cJSON_ArrayForEach(m, student)
    {
        raw(h, "<th>");
        esc(h, m->string);
        raw(h, "</th>");
    }
    raw(h, "</tr>");
    for (size_t r = 0; r < 3; r++) {
        const cJSON *row = get(metrics, rows[r]);
        rawf(h, "<tr><td class=\"l\">%s</td>", rows[r]);
        cJSON_ArrayForEach(m, student)
        {
            raw(h, "<td>");
            value(h, get(row, m->string));
            raw(h, "</td>");
        }
        raw(h, "</tr>");
    }
    raw(h, "</table><p class=\"sub\">Baseline: the same student type trained on "
           "the hard labels only.</p>");
}

static void section_fidelity(html *h, const cJSON *report)
{
    const cJSON *fid = get(report, "fidelity"), *d;
    if (!cJSON_IsObject(fid))
        return;
    raw(h, "<h2>Fidelity of the student to the teacher</h2>");
    kv_table(h, fid);
    const cJSON *cut = get(fid, "agreement_at_cutoff");
    if (cJSON_IsObject(cut)) {
        raw(h, "<p>Agreement at the cutoff ");
        value(h, get(cut, "cutoff"));
        raw(h, ": ");
        value(h, get(cut, "value"));
        raw(h, "</p>");
    }
    const cJSON *ci = get(fid, "ci95");
    if (cJSON_IsObject(ci)) {
        const cJSON *c;
        raw(h, "<table><tr><th class=\"l\">95% interval (bootstrap)</th><th>low</th>"
               "<th>high</th></tr>");
        cJSON_ArrayForEach(c, ci)
        {
            raw(h, "<tr><td class=\"l\">");
            esc(h, c->string);
            raw(h, "</td><td>");
            value(h, cJSON_GetArrayItem(c, 0));
            raw(h, "</td><td>");
            value(h, cJSON_GetArrayItem(c, 1));
            raw(h, "</td></tr>");
        }
        raw(h, "</table>");
    }
    const cJSON *deciles = get(fid, "deciles");
    if (cJSON_IsArray(deciles) && cJSON_GetArraySize(deciles) > 0) {
        raw(h, "<table><tr><th>decile of teacher score</th><th>teacher mean</th>"
               "<th>student mean</th><th>agreement</th></tr>");
        cJSON_ArrayForEach(d, deciles)
        {
            raw(h, "<tr><td>");
            value(h, get(d, "decile"));
            raw(h, "</td><td>");
            value(h, get(d, "teacher_mean"));
            raw(h, "</td><td>");
            value(h, get(d, "student_mean"));
            raw(h, "</td><td>");
            value(h, get(d, "agreement"));
            raw(h, "</td></tr>");
        }
        raw(h, "</table>");
    }
}

static void section_explanations(html *h, const cJSON *report)
{
    const cJSON *ex = get(report, "explanations"), *g;
    const cJSON *global = get(ex, "global");
    if (!cJSON_IsArray(global))
        return;
    raw(h, "<h2>Global explanations</h2><p class=\"sub\">Method: ");
    value(h, get(ex, "method"));
    rawf(h, "; top %d columns by the student's importance.</p>", TOP_FEATURES);
    raw(h, "<table><tr><th class=\"l\">column</th><th>teacher</th><th>student</th>"
           "<th>baseline</th></tr>");
    int n = 0;
    cJSON_ArrayForEach(g, global)
    {
        if (n++ == TOP_FEATURES)
            break;
        raw(h, "<tr><td class=\"l\">");
        value(h, get(g, "feature"));
        raw(h, "</td><td>");
        value(h, get(g, "teacher"));
        raw(h, "</td><td>");
        value(h, get(g, "student"));
        raw(h, "</td><td>");
        value(h, get(g, "baseline"));
        raw(h, "</td></tr>");
    }
    raw(h, "</table>");
    if (cJSON_IsObject(get(ex, "agreement"))) {
        raw(h, "<p>Teacher vs student:</p>");
        kv_table(h, get(ex, "agreement"));
    }
    if (cJSON_IsObject(get(ex, "student_vs_baseline"))) {
        raw(h, "<p>Student vs baseline:</p>");
        kv_table(h, get(ex, "student_vs_baseline"));
    }
    const cJSON *dis = get(ex, "disagreement"), *r;
    if (cJSON_IsArray(dis) && cJSON_GetArraySize(dis) > 0) {
        raw(h, "<p>Where student and teacher disagree:</p><table><tr>"
               "<th class=\"l\">rule</th><th>rows</th><th>disagreement rate</th></tr>");
        cJSON_ArrayForEach(r, dis)
        {
            raw(h, "<tr><td class=\"l\">");
            value(h, get(r, "rule"));
            raw(h, "</td><td>");
            value(h, get(r, "rows"));
            raw(h, "</td><td>");
            value(h, get(r, "disagreement_rate"));
            raw(h, "</td></tr>");
        }
        raw(h, "</table>");
    }
}

static void section_frontier(html *h, const cJSON *report)
{
    const cJSON *fr = get(report, "frontier"), *p;
    if (!cJSON_IsArray(fr) || cJSON_GetArraySize(fr) == 0)
        return;
    raw(h, "<h2>Complexity frontier</h2><table><tr><th>setting</th><th>complexity</th>"
           "<th>fidelity</th><th>auc</th></tr>");
    cJSON_ArrayForEach(p, fr)
    {
        raw(h, "<tr><td>");
        value(h, get(p, "setting"));
        raw(h, "</td><td>");
        value(h, get(p, "complexity"));
        raw(h, "</td><td>");
        value(h, get(p, "fidelity"));
        raw(h, "</td><td>");
        value(h, get(p, "auc"));
        raw(h, "</td></tr>");
    }
    raw(h, "</table>");
}

static void section_student(html *h, const cJSON *artifact)
{
    const cJSON *rules = get(artifact, "rules"), *coefs = get(artifact, "coefficients");
    const cJSON *x;
    raw(h, "<h2>The student</h2><p>Type: ");
    value(h, get(artifact, "type"));
    raw(h, "</p>");
    if (cJSON_IsArray(rules)) {
        int n = 0;
        rawf(h, "<p>%d rules (one per leaf):</p><ol class=\"rules\">",
             cJSON_GetArraySize(rules));
        cJSON_ArrayForEach(x, rules)
        {
            if (n++ == MAX_RULES) {
                rawf(h, "<li>&hellip; %d more in the student artifact</li>",
                     cJSON_GetArraySize(rules) - MAX_RULES);
                break;
            }
            raw(h, "<li>");
            value(h, x);
            raw(h, "</li>");
        }
        raw(h, "</ol>");
    }
    if (cJSON_IsArray(coefs)) {
        raw(h, "<p>Intercept: ");
        value(h, get(artifact, "intercept"));
        raw(h, "</p><table><tr><th class=\"l\">feature</th><th>coefficient</th>"
               "<th>odds ratio</th></tr>");
        cJSON_ArrayForEach(x, coefs)
        {
            raw(h, "<tr><td class=\"l\">");
            value(h, get(x, "feature"));
            raw(h, "</td><td>");
            value(h, get(x, "coef"));
            raw(h, "</td><td>");
            value(h, get(x, "odds_ratio"));
            raw(h, "</td></tr>");
        }
        raw(h, "</table>");
    }
}

static void section_reviews(html *h, st_db *db, const char *run_id)
{
    st_review *items = NULL;
    size_t n = 0, total = 0;
    gb_error err;
    raw(h, "<h2>Reviews</h2>");
    if (st_review_list(db, run_id, 100, 0, &items, &n, &total, &err) != GB_OK) {
        raw(h, "<p>(reviews unavailable)</p>");
        return;
    }
    if (n == 0) {
        raw(h, "<p>No review yet.</p>");
    } else {
        raw(h, "<table><tr><th class=\"l\">when</th><th class=\"l\">who</th>"
               "<th class=\"l\">verdict</th><th class=\"l\">comment</th></tr>");
        for (size_t i = 0; i < n; i++) {
            raw(h, "<tr><td class=\"l\">");
            esc(h, items[i].created_at);
            raw(h, "</td><td class=\"l\">");
            esc(h, items[i].created_by);
            raw(h, "</td><td class=\"l\">");
            esc(h, items[i].verdict);
            raw(h, "</td><td class=\"l\">");
            esc(h, items[i].comment);
            raw(h, "</td></tr>");
        }
        raw(h, "</table>");
    }
    st_review_list_free(items, n);
}

void api_runs_report_html(const api_request *req, api_response *resp)
{
    st_run run;
    char *report_text = NULL, *student_text = NULL;
    cJSON *report = NULL, *artifact = NULL;
    html h = {NULL, 0, 0, 0};
    gb_error err;
    gb_error_clear(&err);
    if (st_run_get(req->db, req->param_id, &run, &err) != GB_OK) {
        api_error_from(resp, &err);
        return;
    }
    if (strcmp(run.status, "succeeded") != 0 || strcmp(run.kind, "distill") != 0) {
        cJSON *details = cJSON_CreateObject();
        cJSON_AddStringToObject(details, "status", run.status);
        api_error(resp, 409, "conflict", details,
                  "run '%s' has no report: it is a %s run and %s", run.id, run.kind,
                  run.status);
        st_run_clear(&run);
        return;
    }
    if (st_run_report(req->db, run.id, &report_text, &err) != GB_OK ||
        st_run_student(req->db, run.id, &student_text, &err) != GB_OK) {
        api_error_from(resp, &err);
        goto done;
    }
    report = gb_json_parse(report_text, strlen(report_text), &err);
    artifact = gb_json_parse(student_text, strlen(student_text), &err);
    if (report == NULL || artifact == NULL) {
        api_error(resp, 500, "internal_error", NULL, "the stored report is unreadable");
        goto done;
    }

    raw(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>glassbox report ");
    esc(&h, run.id);
    raw(&h, "</title><style>");
    raw(&h, report_css);
    raw(&h, "</style></head><body>\n<h1>Distillation report</h1><p class=\"sub\">Run "
            "<code>");
    esc(&h, run.id);
    raw(&h, "</code>, task ");
    value(&h, get(report, "task"));
    raw(&h, ", classes ");
    value(&h, get(report, "classes"));
    raw(&h, "</p>\n<h2>Run</h2><table>");
    static const char *const labels[] = {"created by", "created at", "started at",
                                         "finished at", "dataset"};
    const char *values[] = {run.created_by, run.created_at, run.started_at,
                            run.finished_at, run.dataset_id};
    for (size_t i = 0; i < 5; i++) {
        rawf(&h, "<tr><th class=\"l\">%s</th><td class=\"l\">", labels[i]);
        esc(&h, values[i]);
        raw(&h, "</td></tr>");
    }
    raw(&h, "<tr><th class=\"l\">teachers</th><td class=\"l\">");
    for (size_t i = 0; i < run.n_teachers; i++) {
        if (i)
            raw(&h, ", ");
        esc(&h, run.teacher_ids[i]);
    }
    if (run.n_teachers == 0)
        raw(&h, "score columns");
    raw(&h, "</td></tr><tr><th class=\"l\">configuration</th><td class=\"l mono\">");
    esc(&h, run.config_json);
    raw(&h, "</td></tr></table>\n<h2>Split</h2>");
    kv_table(&h, get(report, "split"));
    section_metrics(&h, report);
    section_fidelity(&h, report);
    raw(&h, "<h2>Complexity</h2>");
    kv_table(&h, get(report, "complexity"));
    section_explanations(&h, report);
    section_frontier(&h, report);
    section_student(&h, artifact);
    section_reviews(&h, req->db, run.id);
    raw(&h, "<h2>Hashes</h2>");
    kv_table(&h, get(report, "hashes"));
    raw(&h, "<p class=\"sub\">glassbox ");
    value(&h, get(report, "version"));
    raw(&h, "</p></body></html>\n");
    if (h.failed || h.s == NULL) {
        api_error(resp, 500, "out_of_memory", NULL,
                  "out of memory rendering the report");
        goto done;
    }
    resp->status = 200;
    resp->raw = h.s;
    resp->raw_len = h.len;
    resp->content_type = "text/html; charset=utf-8";
    h.s = NULL;
done:
    gb_free(h.s);
    cJSON_Delete(report);
    cJSON_Delete(artifact);
    gb_free(report_text);
    gb_free(student_text);
    st_run_clear(&run);
}
