/*
 * cli_distill.c - `glassbox distill`: the distillation pipeline from a shell,
 * with no server and no database (API.md, Command line).
 * Layer: server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/explain_hook.h"
#include "core/distill/pipeline.h"
#include "core/json.h"
#include "core/model/teachers/ensemble.h"
#include "core/model/teachers/load.h"
#include "core/sha256.h"
#include "server/cli.h"

#define MAX_TEACHERS 16
#define MAX_PARAMS 64
#define MAX_SCORES (GB_MAX_CLASSES + 1)

static void distill_usage(FILE *out)
{
    fprintf(
        out,
        "usage: glassbox distill --data TRAIN.csv [--test TEST.csv] --target COL\n"
        "         [--task binary|multiclass|regression]\n"
        "         (--teacher MODEL [--teacher MODEL ... [--weights W,W,...]]\n"
        "          [--mean arithmetic|geometric] | --scores COL[,COL...])\n"
        "         --student tree|logistic|linear|gam|sbdt [--param k=v ...]\n"
        "         [--temperature T] [--alpha A] [--seed S] [--threads N]\n"
        "         [--test-fraction F] [--split-seed S] [--cutoff C] [--bootstrap B]\n"
        "         --out REPORT.json [--student-out STUDENT.json]\n"
        "Trains the distilled student and the label-trained baseline and writes\n"
        "the report (docs/report.md).  Exit 0 ok, 2 bad usage or input, 1 "
        "internal.\n");
}

/* Parses a number option; nonzero on success. */
static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Splits a list in place at any of sep into at most max entries (max + 1
 * means "too many"). */
static size_t split_commas_sep(char *s, char **items, size_t max, const char *sep)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, sep, &save); tok != NULL;
         tok = strtok_r(NULL, sep, &save)) {
        if (n == max)
            return max + 1;
        items[n++] = tok;
    }
    return n;
}

static size_t split_commas(char *s, char **items, size_t max)
{
    return split_commas_sep(s, items, max, ",");
}

/* --augment none | munge:MULT[:P[:S]] */
static int parse_augment(char *v, gb_distill_config *cfg)
{
    if (strcmp(v, "none") == 0) {
        cfg->augment_multiplier = 0;
        return 1;
    }
    if (strncmp(v, "munge:", 6) != 0)
        return 0;
    char *items[4];
    size_t n = split_commas_sep(v + 6, items, 3, ":");
    uint64_t mult = 0;
    if (n < 1 || n > 3 || !parse_u64(items[0], &mult) || mult == 0 || mult > 1000)
        return 0;
    cfg->augment_multiplier = (size_t)mult;
    if (n >= 2 && !parse_double(items[1], &cfg->augment_p))
        return 0;
    if (n >= 3 && !parse_double(items[2], &cfg->augment_s))
        return 0;
    return 1;
}

/* yes|no|true|false|1|0 */
static int parse_bool(const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return 0;
    return 1;
}

/* A comma list of at most GB_SEARCH_MAX numbers. */
static int parse_list(char *v, double *out, size_t *n_out)
{
    char *items[GB_SEARCH_MAX + 1];
    size_t n = split_commas(v, items, GB_SEARCH_MAX);
    if (n == 0 || n > GB_SEARCH_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!parse_double(items[i], &out[i]))
            return 0;
    *n_out = n;
    return 1;
}

/* SHA-256 of a file's bytes (hex). */
static gb_status hash_file(const char *path, char hex[GB_SHA256_HEX_BYTES],
                           gb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return gb_error_set(err, errno == ENOENT ? GB_ENOTFOUND : GB_EIO,
                            "cannot open '%s': %s", path, strerror(errno));
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    char buf[65536];
    size_t got;
    gb_sha256_init(&h);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        gb_sha256_update(&h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return gb_error_set(err, GB_EIO, "error reading '%s'", path);
    gb_sha256_final(&h, digest);
    gb_sha256_hex(digest, hex);
    return GB_OK;
}

/* Loads the teachers; one file is the teacher, several an ensemble.  The
 * teacher hash covers every file's hash in order (and the weights). */
static gb_status load_teachers(char **paths, size_t n, char *weights_arg,
                               const char *mean_arg, const gb_table *levels_from,
                               gb_model **out, char hex[GB_SHA256_HEX_BYTES],
                               gb_error *err)
{
    gb_status rc = GB_OK;
    gb_model *members[MAX_TEACHERS] = {0};
    double weights[MAX_TEACHERS];
    int have_weights = 0;
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    gb_sha256_init(&h);
    *out = NULL;

    if (weights_arg != NULL) {
        char *items[MAX_TEACHERS + 1];
        size_t nw = split_commas(weights_arg, items, MAX_TEACHERS);
        if (nw != n) {
            gb_error_set(err, GB_EINPUT, "--weights has %zu values for %zu teachers",
                         nw, n);
            gb_error_field(err, "weights");
            return GB_EINPUT;
        }
        for (size_t i = 0; i < n; i++)
            if (!parse_double(items[i], &weights[i])) {
                gb_error_set(err, GB_EINPUT, "--weights value '%s' is not a number",
                             items[i]);
                gb_error_field(err, "weights");
                return GB_EINPUT;
            }
        have_weights = 1;
    }
    gb_ensemble_mean mean = GB_ENSEMBLE_ARITHMETIC;
    if (mean_arg != NULL &&
        (rc = gb_ensemble_mean_parse(mean_arg, &mean, err)) != GB_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        char file_hex[GB_SHA256_HEX_BYTES];
        if ((rc = hash_file(paths[i], file_hex, err)) != GB_OK)
            goto fail;
        gb_sha256_update(&h, file_hex, strlen(file_hex));
        gb_teacher_options opts = {levels_from};
        if ((rc = gb_teacher_load_file_opts(paths[i], &opts, &members[i], err)) !=
            GB_OK)
            goto fail;
        if (n == 1 && !have_weights) {
            /* a single teacher's hash is its file's hash */
            memcpy(hex, file_hex, GB_SHA256_HEX_BYTES);
            *out = members[0];
            return GB_OK;
        }
    }
    if (have_weights)
        for (size_t i = 0; i < n; i++) {
            char w[40];
            snprintf(w, sizeof w, ",%.17g", weights[i]);
            gb_sha256_update(&h, w, strlen(w));
        }
    rc = gb_ensemble_create(members, have_weights ? weights : NULL, n, mean, out, err);
    if (rc != GB_OK)
        goto fail;
    gb_sha256_final(&h, digest);
    gb_sha256_hex(digest, hex);
    return GB_OK;
fail:
    for (size_t i = 0; i < n; i++)
        gb_model_free(members[i]);
    return rc;
}

int cli_distill(int argc, char **argv)
{
    const char *data = NULL, *test_path = NULL, *target = NULL, *task_name = NULL;
    const char *student_type = NULL, *out_path = NULL, *student_out = NULL;
    const char *mean_arg = NULL, *explain_arg = "fast";
    char *weights_arg = NULL, *scores_arg = NULL;
    char *teacher_paths[MAX_TEACHERS];
    size_t n_teachers = 0;
    gb_param params[MAX_PARAMS];
    size_t n_params = 0;
    char *score_cols[MAX_SCORES + 1];
    size_t n_scores = 0;
    gb_distill_config cfg;
    gb_distill_config_default(&cfg);
    gb_error err;
    gb_error_clear(&err);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            distill_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "glassbox distill: %s needs a value\n", a);
            return 2;
        }
        char *v = argv[++i];
        int ok = 1;
        if (strcmp(a, "--data") == 0)
            data = v;
        else if (strcmp(a, "--test") == 0)
            test_path = v;
        else if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--task") == 0)
            task_name = v;
        else if (strcmp(a, "--teacher") == 0) {
            if (n_teachers == MAX_TEACHERS) {
                fprintf(stderr, "glassbox distill: at most %d teachers\n",
                        MAX_TEACHERS);
                return 2;
            }
            teacher_paths[n_teachers++] = v;
        } else if (strcmp(a, "--weights") == 0)
            weights_arg = v;
        else if (strcmp(a, "--mean") == 0)
            mean_arg = v;
        else if (strcmp(a, "--scores") == 0)
            scores_arg = v;
        else if (strcmp(a, "--student") == 0)
            student_type = v;
        else if (strcmp(a, "--param") == 0) {
            char *eq = strchr(v, '=');
            if (eq == NULL || eq == v || n_params == MAX_PARAMS) {
                fprintf(stderr, "glassbox distill: --param needs key=value, got '%s'\n",
                        v);
                return 2;
            }
            *eq = '\0';
            params[n_params].key = v;
            params[n_params].value = eq + 1;
            n_params++;
        } else if (strcmp(a, "--temperature") == 0)
            ok = parse_double(v, &cfg.temperature);
        else if (strcmp(a, "--alpha") == 0)
            ok = parse_double(v, &cfg.alpha);
        else if (strcmp(a, "--test-fraction") == 0)
            ok = parse_double(v, &cfg.test_fraction);
        else if (strcmp(a, "--explain") == 0)
            explain_arg = v;
        else if (strcmp(a, "--frontier") == 0)
            ok = parse_bool(v, &cfg.frontier);
        else if (strcmp(a, "--search-temperatures") == 0)
            ok = parse_list(v, cfg.search_temperatures, &cfg.n_search_temperatures);
        else if (strcmp(a, "--search-alphas") == 0)
            ok = parse_list(v, cfg.search_alphas, &cfg.n_search_alphas);
        else if (strcmp(a, "--search-augment") == 0)
            ok = parse_bool(v, &cfg.search_augment);
        else if (strcmp(a, "--augment") == 0)
            ok = parse_augment(v, &cfg);
        else if (strcmp(a, "--cutoff") == 0)
            ok = parse_double(v, &cfg.cutoff);
        else if (strcmp(a, "--seed") == 0)
            ok = parse_u64(v, &cfg.seed);
        else if (strcmp(a, "--split-seed") == 0)
            ok = parse_u64(v, &cfg.split_seed);
        else if (strcmp(a, "--bootstrap") == 0) {
            uint64_t b = 0;
            ok = parse_u64(v, &b);
            cfg.n_bootstrap = (size_t)b;
        } else if (strcmp(a, "--threads") == 0) {
            uint64_t t = 0;
            ok = parse_u64(v, &t) && t >= 1 && t <= 256;
            cfg.n_threads = (unsigned)t;
        } else if (strcmp(a, "--out") == 0)
            out_path = v;
        else if (strcmp(a, "--student-out") == 0)
            student_out = v;
        else {
            fprintf(stderr, "glassbox distill: unknown option '%s'\n", a);
            distill_usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "glassbox distill: %s: '%s' is not a valid value\n", a, v);
            return 2;
        }
    }
    if (data == NULL || target == NULL || student_type == NULL || out_path == NULL) {
        fprintf(
            stderr,
            "glassbox distill: --data, --target, --student and --out are required\n");
        distill_usage(stderr);
        return 2;
    }
    if ((n_teachers > 0) == (scores_arg != NULL)) {
        fprintf(stderr, "glassbox distill: give either --teacher or --scores\n");
        return 2;
    }
    if (weights_arg != NULL && n_teachers < 1) {
        fprintf(stderr, "glassbox distill: --weights needs --teacher\n");
        return 2;
    }
    if (scores_arg != NULL) {
        n_scores = split_commas(scores_arg, score_cols, MAX_SCORES);
        if (n_scores == 0 || n_scores > MAX_SCORES) {
            fprintf(stderr, "glassbox distill: --scores needs 1 to %d column names\n",
                    MAX_SCORES);
            return 2;
        }
    }
    if (task_name != NULL && gb_task_parse(task_name, &cfg.task, &err) != GB_OK) {
        cli_print_error("distill", &err);
        return 2;
    }
    cfg.target = target;
    cfg.student_type = student_type;
    cfg.params = params;
    cfg.n_params = n_params;
    cfg.score_columns = score_cols;
    cfg.n_score_columns = n_scores;

    gb_status rc;
    gb_model *teacher = NULL;
    gb_table *train = NULL, *test = NULL;
    gb_distill_result result = {0};
    char *text = NULL;
    char data_hex[GB_SHA256_HEX_BYTES], test_hex[GB_SHA256_HEX_BYTES];
    char teacher_hex[GB_SHA256_HEX_BYTES];

    /* Validate settings before reading anything large. */
    ex_params explain;
    ex_params_default(&explain);
    if ((rc = ex_level_parse(explain_arg, &explain.level, &err)) != GB_OK)
        goto done;
    if (explain.level != EX_LEVEL_NONE) {
        cfg.explain_cb = api_explain_cb;
        cfg.explain_ctx = &explain;
    }
    rc = gb_distill_check(&cfg, &err);
    if (rc != GB_OK)
        goto done;

    if ((rc = cli_read_csv(data, &train, data_hex, &err)) != GB_OK)
        goto done;
    cfg.dataset_sha256 = data_hex;
    if (n_teachers > 0) {
        /* XGBoost files do not name categorical levels: they come from the
         * training data's columns of the same name. */
        rc = load_teachers(teacher_paths, n_teachers, weights_arg, mean_arg, train,
                           &teacher, teacher_hex, &err);
        if (rc != GB_OK)
            goto done;
        cfg.teacher = teacher;
        cfg.teacher_sha256 = teacher_hex;
    }
    if (test_path != NULL) {
        if ((rc = cli_read_csv(test_path, &test, test_hex, &err)) != GB_OK)
            goto done;
        cfg.test_sha256 = test_hex;
    }
    /* The table is not read after the run: it may drop rows as it goes. */
    rc = gb_distill_run_releasing(&cfg, train, test, NULL, &result, &err);
    if (rc != GB_OK)
        goto done;
    text = gb_json_print(result.report, 1);
    if (text == NULL) {
        rc = gb_error_set(&err, GB_ENOMEM, "out of memory printing the report");
        goto done;
    }
    if ((rc = cli_write_file(out_path, text, &err)) != GB_OK)
        goto done;
    if (student_out != NULL) {
        gb_free(text);
        cJSON *artifact = result.student->ops->to_json(result.student);
        text = artifact != NULL ? gb_json_print(artifact, 1) : NULL;
        cJSON_Delete(artifact);
        if (text == NULL) {
            rc = gb_error_set(&err, GB_ENOMEM, "out of memory printing the student");
            goto done;
        }
        rc = cli_write_file(student_out, text, &err);
    }
done:
    if (rc != GB_OK)
        cli_print_error("distill", &err);
    gb_free(text);
    gb_distill_result_free(&result);
    gb_table_free(train);
    gb_table_free(test);
    gb_model_free(teacher);
    return cli_exit_code(rc);
}
