/*
 * check_storage.c - the SQLite store (migrations, tokens,
 * datasets, runs, reviews), the audit hash chain and blob atomicity.
 * Expected digests were computed with Python's hashlib.
 */
#include <check.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "storage/audit.h"
#include "storage/blobs.h"
#include "storage/datasets.h"
#include "storage/db.h"
#include "storage/reviews.h"
#include "storage/runs.h"
#include "storage/teachers.h"
#include "storage/tokens.h"

static char tmp_dir[256];
static char db_path[300];

static void remove_tree(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/gb-storage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    snprintf(db_path, sizeof db_path, "%s/glassbox.db", tmp_dir);
}

static void teardown(void)
{
    remove_tree(tmp_dir);
}

static st_db *open_db(void)
{
    st_db *db = NULL;
    gb_error err;
    gb_error_clear(&err);
    ck_assert_msg(st_db_open(db_path, &db, &err) == GB_OK, "%s", err.message);
    return db;
}

/* Raw SQL on the file, as an attacker or a test would; not via storage. */
static void raw_exec(const char *sql)
{
    sqlite3 *conn = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &conn), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(conn, sql, NULL, NULL, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(conn));
    sqlite3_close(conn);
}

static void hex_of(const void *data, size_t n, char hex[65])
{
    gb_sha256_hex_of(data, n, hex);
}

/* ---- db and migrations ------------------------------------------------------ */

START_TEST(test_migrations_from_empty)
{
    st_db *db = open_db();
    ck_assert_int_eq(st_db_version(db), ST_SCHEMA_VERSION);
    gb_error err;
    ck_assert_int_eq(st_db_ping(db, &err), GB_OK);
    ck_assert_int_eq(st_db_integrity_check(db, &err), GB_OK);
    st_db_close(db);
    /* Re-opening an up-to-date database changes nothing. */
    db = open_db();
    ck_assert_int_eq(st_db_version(db), ST_SCHEMA_VERSION);
    st_db_close(db);
    /* WAL mode persists in the file. */
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &conn), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(conn, "PRAGMA journal_mode", -1, &stmt, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
    st_db_close(open_db());
    raw_exec("PRAGMA user_version = 99");
    st_db *db = NULL;
    gb_error err;
    ck_assert_int_eq(st_db_open(db_path, &db, &err), GB_EINPUT);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err.message, "newer"));
}
END_TEST

START_TEST(test_open_unwritable_path_fails_cleanly)
{
    st_db *db = NULL;
    gb_error err;
    ck_assert_int_eq(st_db_open("/nonexistent-dir/x/glassbox.db", &db, &err), GB_EIO);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err.message, "cannot open database"));
}
END_TEST

START_TEST(test_backup_copies_live_database)
{
    st_db *db = open_db();
    gb_error err;
    st_token tok;
    char secret[ST_TOKEN_SECRET_LEN + 1];
    ck_assert_int_eq(
        st_token_create(db, "a", ST_ROLE_ADMIN, "cli", NULL, &tok, secret, &err),
        GB_OK);
    char backup_path[400];
    snprintf(backup_path, sizeof backup_path, "%s/backup.db", tmp_dir);
    ck_assert_int_eq(st_db_backup(db, backup_path, &err), GB_OK);
    st_db_close(db);
    st_db *copy = NULL;
    ck_assert_int_eq(st_db_open(backup_path, &copy, &err), GB_OK);
    st_token found;
    ck_assert_int_eq(st_token_authenticate(copy, secret, &found, &err), GB_OK);
    ck_assert_str_eq(found.id, tok.id);
    st_db_close(copy);
}
END_TEST

/* ---- tokens ------------------------------------------------------------------ */

START_TEST(test_tokens_create_authenticate_revoke)
{
    st_db *db = open_db();
    gb_error err;
    st_token a, b, found;
    char secret_a[ST_TOKEN_SECRET_LEN + 1], secret_b[ST_TOKEN_SECRET_LEN + 1];
    st_audit_entry audit = {.actor = "root", .action = "token.create"};
    ck_assert_int_eq(st_token_create(db, "alice", ST_ROLE_VALIDATOR, "root", &audit, &a,
                                     secret_a, &err),
                     GB_OK);
    ck_assert_int_eq(
        st_token_create(db, "bob", ST_ROLE_MODELER, "root", &audit, &b, secret_b, &err),
        GB_OK);
    ck_assert_uint_eq(strlen(secret_a), 64);
    ck_assert_str_ne(secret_a, secret_b);
    ck_assert_int_eq(st_token_authenticate(db, secret_a, &found, &err), GB_OK);
    ck_assert_str_eq(found.name, "alice");
    ck_assert_int_eq(found.role, ST_ROLE_VALIDATOR);

    /* The secret itself is never stored, only its hash. */
    char hash[65];
    hex_of(secret_a, 64, hash);
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3_open(db_path, &conn);
    sqlite3_prepare_v2(conn, "SELECT count(*) FROM tokens WHERE hash = ?", -1, &stmt,
                       NULL);
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(stmt, 0), 1);
    sqlite3_finalize(stmt);
    sqlite3_prepare_v2(conn, "SELECT count(*) FROM tokens WHERE hash = ?", -1, &stmt,
                       NULL);
    sqlite3_bind_text(stmt, 1, secret_a, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(stmt, 0), 0);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);

    char wrong[ST_TOKEN_SECRET_LEN + 1];
    memcpy(wrong, secret_a, sizeof wrong);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    ck_assert_int_eq(st_token_authenticate(db, wrong, &found, &err), GB_ENOTFOUND);
    ck_assert_int_eq(st_token_authenticate(db, "short", &found, &err), GB_ENOTFOUND);

    st_token *items = NULL;
    size_t n = 0, total = 0;
    ck_assert_int_eq(st_token_list(db, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(total, 2);
    ck_assert_str_eq(items[0].name, "bob"); /* newest first */
    gb_free(items);
    ck_assert_int_eq(st_token_list(db, 1, 1, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(items[0].name, "alice");
    gb_free(items);

    st_token revoked;
    st_audit_entry revoke = {.actor = "root", .action = "token.revoke"};
    ck_assert_int_eq(st_token_revoke(db, a.id, &revoke, &revoked, &err), GB_OK);
    ck_assert_str_ne(revoked.revoked_at, "");
    ck_assert_int_eq(st_token_authenticate(db, secret_a, &found, &err), GB_ENOTFOUND);
    ck_assert_int_eq(st_token_authenticate(db, secret_b, &found, &err), GB_OK);
    ck_assert_int_eq(st_token_revoke(db, "tok_nope", &revoke, &revoked, &err),
                     GB_ENOTFOUND);

    st_role role;
    ck_assert_int_eq(st_role_parse("superuser", &role, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "role");
    st_db_close(db);
}
END_TEST

/* ---- audit ------------------------------------------------------------------- */

START_TEST(test_audit_hash_matches_reference)
{
    char hash[65];
    st_audit_hash("0000000000000000000000000000000000000000000000000000000000000000", 1,
                  "2024-01-01T00:00:00.000Z", "alice", "dataset.create", "ds_1",
                  "{\"rows\":3}", hash);
    ck_assert_str_eq(
        hash, "1c33f1e49cfc75246e21ff6b2e5bdcdcf60e182b0eb979f35d344aafd59e0630");
}
END_TEST

static void append_n(st_db *db, int n)
{
    gb_error err;
    for (int i = 0; i < n; i++) {
        char object[32], details[64];
        snprintf(object, sizeof object, "obj_%d", i);
        snprintf(details, sizeof details, "{\"i\":%d}", i);
        st_audit_entry e = {.actor = "alice",
                            .action = "thing.create",
                            .object = object,
                            .details_json = details};
        ck_assert_int_eq(st_audit_append(db, &e, &err), GB_OK);
    }
}

START_TEST(test_audit_chain_verifies_and_lists)
{
    st_db *db = open_db();
    gb_error err;
    append_n(db, 5);
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 1);
    ck_assert_int_eq(check.entries, 5);

    st_audit_row *rows = NULL;
    size_t n = 0, total = 0;
    ck_assert_int_eq(st_audit_list(db, 2, 0, &rows, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(total, 5);
    ck_assert_int_eq(rows[0].seq, 5);
    ck_assert_str_eq(rows[0].prev_hash, rows[1].hash);
    ck_assert_str_eq(rows[0].details_json, "{\"i\":4}");
    char recomputed[65];
    st_audit_hash(rows[0].prev_hash, rows[0].seq, rows[0].at, rows[0].actor,
                  rows[0].action, rows[0].object, rows[0].details_json, recomputed);
    ck_assert_str_eq(recomputed, rows[0].hash);
    st_audit_rows_free(rows, n);
    st_db_close(db);
}
END_TEST

START_TEST(test_audit_detects_tampered_row)
{
    st_db *db = open_db();
    gb_error err;
    append_n(db, 5);
    st_db_close(db);
    raw_exec("UPDATE audit SET details = '{\"i\":99}' WHERE seq = 3");
    db = open_db();
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 0);
    ck_assert_int_eq(check.broken_seq, 3);
    ck_assert_ptr_nonnull(strstr(check.reason, "hash"));
    st_db_close(db);
}
END_TEST

START_TEST(test_audit_detects_deleted_and_rehashed_rows)
{
    st_db *db = open_db();
    gb_error err;
    append_n(db, 5);
    st_db_close(db);
    raw_exec("DELETE FROM audit WHERE seq = 2");
    db = open_db();
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 0);
    ck_assert_int_eq(check.broken_seq, 2);
    st_db_close(db);

    /* Rewriting an entry and its own hash still breaks the next link. */
    raw_exec("DELETE FROM audit; ");
    db = open_db();
    append_n(db, 3);
    st_db_close(db);
    raw_exec("UPDATE audit SET actor = 'mallory', hash = "
             "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' WHERE "
             "seq = 2");
    db = open_db();
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 0);
    ck_assert_int_eq(check.broken_seq, 2);
    st_db_close(db);
}
END_TEST

/* ---- blobs ------------------------------------------------------------------- */

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

START_TEST(test_blob_write_commit_and_address)
{
    gb_error err;
    ck_assert_int_eq(st_blobs_init(tmp_dir, &err), GB_OK);
    st_blob_writer *w = NULL;
    ck_assert_int_eq(st_blob_writer_open(tmp_dir, &w, &err), GB_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(st_blob_writer_write(w, "hello blob\n", 11, &err), GB_OK);
    ck_assert_uint_eq(st_blob_writer_size(w), 11000);
    char sha[65];
    ck_assert_int_eq(st_blob_writer_commit(w, sha, &err), GB_OK);
    ck_assert_str_eq(
        sha, "36d9a357aaa9684f56a7adf2c16201c414fc2d681e628c96379b848743109b6d");
    char path[512];
    ck_assert_int_eq(st_blob_path(tmp_dir, sha, path, sizeof path, &err), GB_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 11000);
    ck_assert_ptr_nonnull(strstr(path, "/blobs/36/d9a357"));
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/blobs/tmp", tmp_dir);
    ck_assert_int_eq(count_files(tmp), 0);

    /* The same bytes again: same address, temp file dropped. */
    ck_assert_int_eq(st_blob_writer_open(tmp_dir, &w, &err), GB_OK);
    for (int i = 0; i < 1000; i++)
        st_blob_writer_write(w, "hello blob\n", 11, &err);
    char sha2[65];
    ck_assert_int_eq(st_blob_writer_commit(w, sha2, &err), GB_OK);
    ck_assert_str_eq(sha, sha2);
    ck_assert_int_eq(count_files(tmp), 0);
    ck_assert_int_eq(st_blob_remove(tmp_dir, sha, &err), GB_OK);
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_eq(st_blob_path(tmp_dir, "../../etc/passwd", path, sizeof path, &err),
                     GB_EINPUT);
}
END_TEST

START_TEST(test_blob_uncommitted_is_never_visible)
{
    /* A writer that is abandoned (a crash mid-upload) leaves only a temp
     * file, never a blob at an address; start-up removes the temp file. */
    gb_error err;
    ck_assert_int_eq(st_blobs_init(tmp_dir, &err), GB_OK);
    st_blob_writer *w = NULL, *w2 = NULL;
    ck_assert_int_eq(st_blob_writer_open(tmp_dir, &w, &err), GB_OK);
    st_blob_writer_write(w, "partial", 7, &err);
    char tmp[400], blobs[400];
    snprintf(tmp, sizeof tmp, "%s/blobs/tmp", tmp_dir);
    snprintf(blobs, sizeof blobs, "%s/blobs", tmp_dir);
    ck_assert_int_eq(count_files(tmp), 1);
    ck_assert_int_eq(count_files(blobs), 1); /* only tmp/ */
    ck_assert_int_eq(st_blobs_init(tmp_dir, &err), GB_OK);
    ck_assert_int_eq(count_files(tmp), 0);
    st_blob_writer_abort(w); /* its file is already gone: harmless */

    ck_assert_int_eq(st_blob_writer_open(tmp_dir, &w2, &err), GB_OK);
    st_blob_writer_write(w2, "aborted", 7, &err);
    st_blob_writer_abort(w2);
    ck_assert_int_eq(count_files(tmp), 0);
    ck_assert_int_eq(count_files(blobs), 1);
}
END_TEST

/* ---- datasets, runs, reviews ------------------------------------------------- */

static void insert_dataset(st_db *db, const char *sha, const char *target,
                           st_dataset *ds)
{
    gb_error err;
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "credit");
    snprintf(ds->sha256, sizeof ds->sha256, "%s", sha);
    snprintf(ds->target, sizeof ds->target, "%s", target);
    snprintf(ds->task, sizeof ds->task, "binary");
    snprintf(ds->created_by, sizeof ds->created_by, "bob");
    ds->n_rows = 100;
    ds->n_columns = 5;
    ds->size_bytes = 1234;
    ds->summary_json = (char *)"{\"rows\":100}";
    st_audit_entry audit = {.actor = "bob", .action = "dataset.create"};
    ck_assert_msg(st_dataset_insert(db, ds, &audit, &err) == GB_OK, "%s", err.message);
    ds->summary_json = NULL;
}

static const char *sha_a =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *sha_b =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

START_TEST(test_datasets_insert_find_list_delete)
{
    st_db *db = open_db();
    gb_error err;
    st_dataset a, b, got;
    insert_dataset(db, sha_a, "y", &a);
    insert_dataset(db, sha_b, "y", &b);
    ck_assert_str_ne(a.id, b.id);
    ck_assert_int_eq(st_dataset_find(db, sha_a, "y", "", &got, &err), GB_OK);
    ck_assert_str_eq(got.id, a.id);
    ck_assert_str_eq(got.summary_json, "{\"rows\":100}");
    st_dataset_clear(&got);
    ck_assert_int_eq(st_dataset_find(db, sha_a, "other", "", &got, &err), GB_ENOTFOUND);
    ck_assert_int_eq(st_dataset_find(db, sha_a, "y", "regression", &got, &err),
                     GB_ENOTFOUND);

    /* The same content, target and task twice is a conflict. */
    st_dataset dup;
    memset(&dup, 0, sizeof dup);
    snprintf(dup.sha256, sizeof dup.sha256, "%s", sha_a);
    snprintf(dup.target, sizeof dup.target, "y");
    snprintf(dup.task, sizeof dup.task, "binary");
    ck_assert_int_eq(st_dataset_insert(db, &dup, NULL, &err), GB_ECONFLICT);

    st_dataset *items = NULL;
    size_t n = 0, total = 0;
    ck_assert_int_eq(st_dataset_list(db, 10, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(total, 2);
    ck_assert_str_eq(items[0].id, b.id);
    st_dataset_list_free(items, n);

    /* A run using dataset a blocks its deletion. */
    st_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", a.id);
    snprintf(run.created_by, sizeof run.created_by, "bob");
    int full = 0;
    ck_assert_int_eq(st_run_enqueue(db, &run, 0, NULL, &full, &err), GB_OK);
    int orphaned = -1;
    st_audit_entry del = {.actor = "bob", .action = "dataset.delete"};
    ck_assert_int_eq(st_dataset_delete(db, a.id, &del, NULL, &orphaned, &err),
                     GB_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err.message, "1 run"));
    ck_assert_int_eq(st_dataset_delete(db, b.id, &del, NULL, &orphaned, &err), GB_OK);
    ck_assert_int_eq(orphaned, 1);
    ck_assert_int_eq(st_dataset_get(db, b.id, &got, &err), GB_ENOTFOUND);
    ck_assert_int_eq(st_dataset_delete(db, b.id, &del, NULL, &orphaned, &err),
                     GB_ENOTFOUND);

    /* Every mutation above left exactly one audit entry: 2 inserts, 1 run
     * (no audit requested), 1 delete. */
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 1);
    ck_assert_int_eq(check.entries, 3);
    st_db_close(db);
}
END_TEST

START_TEST(test_teachers_insert_find_delete)
{
    st_db *db = open_db();
    gb_error err;
    st_teacher t, got;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "xgb");
    snprintf(t.kind, sizeof t.kind, "xgboost");
    snprintf(t.sha256, sizeof t.sha256, "%s", sha_b);
    snprintf(t.task, sizeof t.task, "binary");
    snprintf(t.created_by, sizeof t.created_by, "bob");
    t.summary_json = (char *)"{\"features\":[\"a\"]}";
    st_audit_entry audit = {.actor = "bob", .action = "teacher.create"};
    ck_assert_int_eq(st_teacher_insert(db, &t, &audit, &err), GB_OK);
    t.summary_json = NULL;
    ck_assert_int_eq(st_teacher_find(db, sha_b, &got, &err), GB_OK);
    ck_assert_str_eq(got.id, t.id);
    ck_assert_str_eq(got.summary_json, "{\"features\":[\"a\"]}");
    st_teacher_clear(&got);
    ck_assert_int_eq(st_teacher_find(db, sha_a, &got, &err), GB_ENOTFOUND);

    /* A run naming the teacher blocks its deletion; the run lists it. */
    st_dataset ds;
    insert_dataset(db, sha_a, "y", &ds);
    st_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.kind, sizeof run.kind, "distill");
    snprintf(run.dataset_id, sizeof run.dataset_id, "%s", ds.id);
    snprintf(run.created_by, sizeof run.created_by, "bob");
    run.n_teachers = 1;
    snprintf(run.teacher_ids[0], ST_ID_LEN, "%s", t.id);
    int full = 0, orphaned = -1;
    ck_assert_int_eq(st_run_enqueue(db, &run, 0, NULL, &full, &err), GB_OK);
    st_run *items = NULL;
    size_t n = 0, total = 0;
    st_run_filter filter = {.teacher_id = t.id};
    ck_assert_int_eq(st_run_list(db, &filter, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(total, 1);
    ck_assert_uint_eq(items[0].n_teachers, 1);
    ck_assert_str_eq(items[0].teacher_ids[0], t.id);
    st_run_list_free(items, n);
    ck_assert_int_eq(st_teacher_delete(db, t.id, NULL, NULL, &orphaned, &err),
                     GB_ECONFLICT);

    /* An unused teacher goes; its bytes are orphaned. */
    st_teacher u;
    memset(&u, 0, sizeof u);
    snprintf(u.kind, sizeof u.kind, "mlp");
    snprintf(u.sha256, sizeof u.sha256, "%064d", 5);
    ck_assert_int_eq(st_teacher_insert(db, &u, NULL, &err), GB_OK);
    st_teacher *list = NULL;
    ck_assert_int_eq(st_teacher_list(db, 0, 0, &list, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(total, 2);
    ck_assert_str_eq(list[0].id, u.id);
    st_teacher_list_free(list, n);
    ck_assert_int_eq(st_teacher_delete(db, u.id, NULL, NULL, &orphaned, &err), GB_OK);
    ck_assert_int_eq(orphaned, 1);
    ck_assert_int_eq(st_teacher_get(db, u.id, &got, &err), GB_ENOTFOUND);
    st_dataset_clear(&ds);
    st_db_close(db);
}
END_TEST

static void enqueue(st_db *db, const char *dataset_id, st_run *run, size_t max,
                    int *full)
{
    gb_error err;
    memset(run, 0, sizeof *run);
    snprintf(run->kind, sizeof run->kind, "distill");
    snprintf(run->dataset_id, sizeof run->dataset_id, "%s", dataset_id);
    snprintf(run->created_by, sizeof run->created_by, "bob");
    run->config_json = (char *)"{\"seed\":1}";
    st_audit_entry audit = {.actor = "bob", .action = "run.create"};
    ck_assert_int_eq(st_run_enqueue(db, run, max, &audit, full, &err), GB_OK);
    run->config_json = NULL;
}

START_TEST(test_runs_queue_claim_progress_finish)
{
    st_db *db = open_db();
    gb_error err;
    st_dataset ds;
    insert_dataset(db, sha_a, "y", &ds);
    st_run r1, r2, r3, claimed, got;
    int full = 0, ok = 0, cancel = -1;
    enqueue(db, ds.id, &r1, 2, &full);
    ck_assert_int_eq(full, 0);
    enqueue(db, ds.id, &r2, 2, &full);
    ck_assert_int_eq(full, 0);
    enqueue(db, ds.id, &r3, 2, &full);
    ck_assert_int_eq(full, 1); /* the bound holds */
    size_t n_queued = 0;
    ck_assert_int_eq(st_run_count(db, "queued", &n_queued, &err), GB_OK);
    ck_assert_uint_eq(n_queued, 2);

    ck_assert_int_eq(st_run_claim(db, NULL, &claimed, &ok, &err), GB_OK);
    ck_assert_int_eq(ok, 1);
    ck_assert_str_eq(claimed.id, r1.id); /* oldest first */
    ck_assert_str_eq(claimed.status, "running");
    ck_assert_str_ne(claimed.started_at, "");
    ck_assert_str_eq(claimed.config_json, "{\"seed\":1}");
    st_run_clear(&claimed);

    ck_assert_int_eq(st_run_progress(db, r1.id, "fit", 0.5, &cancel, &err), GB_OK);
    ck_assert_int_eq(cancel, 0);
    ck_assert_int_eq(st_run_get(db, r1.id, &got, &err), GB_OK);
    ck_assert_str_eq(got.phase, "fit");
    ck_assert(got.fraction == 0.5);
    st_run_clear(&got);

    /* Cancel: the running run gets a flag, the queued one ends at once. */
    st_audit_entry audit = {.actor = "bob", .action = "run.cancel"};
    ck_assert_int_eq(st_run_cancel(db, r1.id, &audit, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "running");
    ck_assert_int_eq(got.cancel_requested, 1);
    st_run_clear(&got);
    ck_assert_int_eq(st_run_progress(db, r1.id, "fit", 0.6, &cancel, &err), GB_OK);
    ck_assert_int_eq(cancel, 1);
    ck_assert_int_eq(st_run_cancel(db, r2.id, &audit, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "cancelled");
    ck_assert_ptr_nonnull(got.error_json);
    st_run_clear(&got);
    ck_assert_int_eq(st_run_cancel(db, r2.id, &audit, NULL, &err), GB_ECONFLICT);

    st_run_outcome done = {.status = "succeeded",
                           .report_json = "{\"metrics\":{}}",
                           .student_json = "{\"type\":\"tree\"}"};
    st_audit_entry fin = {.actor = "system", .action = "run.succeeded"};
    ck_assert_int_eq(st_run_finish(db, r1.id, &done, &fin, &err), GB_OK);
    ck_assert_int_eq(st_run_finish(db, r1.id, &done, &fin, &err), GB_ECONFLICT);
    char *json = NULL;
    ck_assert_int_eq(st_run_report(db, r1.id, &json, &err), GB_OK);
    ck_assert_str_eq(json, "{\"metrics\":{}}");
    gb_free(json);
    ck_assert_int_eq(st_run_student(db, r1.id, &json, &err), GB_OK);
    ck_assert_str_eq(json, "{\"type\":\"tree\"}");
    gb_free(json);
    ck_assert_int_eq(st_run_report(db, r2.id, &json, &err), GB_ENOTFOUND);
    ck_assert_int_eq(st_run_get(db, r1.id, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "succeeded");
    ck_assert(got.fraction == 1.0);
    st_run_clear(&got);

    st_run *items = NULL;
    size_t n = 0, total = 0;
    st_run_filter filter = {.status = "cancelled"};
    ck_assert_int_eq(st_run_list(db, &filter, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(total, 1);
    ck_assert_str_eq(items[0].id, r2.id);
    st_run_list_free(items, n);
    filter = (st_run_filter){.dataset_id = ds.id};
    ck_assert_int_eq(st_run_list(db, &filter, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(total, 2);
    ck_assert_str_eq(items[0].id, r2.id); /* newest first */
    st_run_list_free(items, n);

    st_dataset_clear(&ds);
    st_db_close(db);
}
END_TEST

START_TEST(test_runs_recover_after_crash)
{
    st_db *db = open_db();
    gb_error err;
    st_dataset ds;
    insert_dataset(db, sha_a, "y", &ds);
    st_run r1, r2, claimed, got;
    int full = 0, ok = 0;
    enqueue(db, ds.id, &r1, 0, &full);
    enqueue(db, ds.id, &r2, 0, &full);
    ck_assert_int_eq(st_run_claim(db, NULL, &claimed, &ok, &err), GB_OK);
    st_run_clear(&claimed);
    st_db_close(db); /* "crash" with r1 running */

    db = open_db();
    size_t n = 0;
    ck_assert_int_eq(st_run_recover(db, 0, &n, &err), GB_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(st_run_get(db, r1.id, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "interrupted");
    ck_assert_ptr_nonnull(strstr(got.error_json, "interrupted"));
    st_run_clear(&got);
    ck_assert_int_eq(st_run_get(db, r2.id, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "queued"); /* queued runs resume */
    st_run_clear(&got);

    /* With requeue, a running run goes back to the queue. */
    ck_assert_int_eq(st_run_claim(db, NULL, &claimed, &ok, &err), GB_OK);
    ck_assert_str_eq(claimed.id, r2.id);
    st_run_clear(&claimed);
    ck_assert_int_eq(st_run_recover(db, 1, &n, &err), GB_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(st_run_get(db, r2.id, &got, &err), GB_OK);
    ck_assert_str_eq(got.status, "queued");
    ck_assert_str_eq(got.started_at, "");
    st_run_clear(&got);
    st_audit_check check;
    ck_assert_int_eq(st_audit_verify(db, &check, &err), GB_OK);
    ck_assert_int_eq(check.ok, 1);
    st_dataset_clear(&ds);
    st_db_close(db);
}
END_TEST

START_TEST(test_reviews)
{
    st_db *db = open_db();
    gb_error err;
    st_dataset ds;
    insert_dataset(db, sha_a, "y", &ds);
    st_run run;
    int full = 0;
    enqueue(db, ds.id, &run, 0, &full);
    st_review r;
    memset(&r, 0, sizeof r);
    snprintf(r.run_id, sizeof r.run_id, "%s", run.id);
    snprintf(r.verdict, sizeof r.verdict, "approved");
    snprintf(r.created_by, sizeof r.created_by, "val");
    r.comment = (char *)"fidelity is adequate";
    ck_assert_int_eq(st_review_insert(db, &r, NULL, &err), GB_OK);
    ck_assert_str_ne(r.id, "");
    snprintf(r.verdict, sizeof r.verdict, "maybe");
    ck_assert_int_eq(st_review_insert(db, &r, NULL, &err), GB_EUNUSABLE);
    ck_assert_str_eq(err.field, "verdict");
    snprintf(r.verdict, sizeof r.verdict, "rejected");
    snprintf(r.run_id, sizeof r.run_id, "run_missing");
    ck_assert_int_eq(st_review_insert(db, &r, NULL, &err), GB_ENOTFOUND);
    st_review *items = NULL;
    size_t n = 0, total = 0;
    ck_assert_int_eq(st_review_list(db, run.id, 0, 0, &items, &n, &total, &err), GB_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(items[0].comment, "fidelity is adequate");
    ck_assert_str_eq(items[0].verdict, "approved");
    st_review_list_free(items, n);
    st_dataset_clear(&ds);
    st_db_close(db);
}
END_TEST

/* Dataset and teacher pages share one listing mechanism: under every
 * allocation failure it returns GB_ENOMEM with nothing allocated, and the
 * delete hands back the deleted row when asked. */
START_TEST(test_blob_rows_list_failure_and_delete_out)
{
    st_db *db = open_db();
    gb_error err;
    st_dataset a, b;
    insert_dataset(db, sha_a, "y", &a);
    insert_dataset(db, sha_b, "y", &b);
    st_teacher t;
    memset(&t, 0, sizeof t);
    snprintf(t.kind, sizeof t.kind, "mlp");
    snprintf(t.sha256, sizeof t.sha256, "%s", sha_a);
    t.summary_json = (char *)"{\"features\":[]}";
    ck_assert_int_eq(st_teacher_insert(db, &t, NULL, &err), GB_OK);
    int failures = 0;
    for (long k = 1; k <= 8; k++) {
        st_dataset *ds = NULL;
        st_teacher *ts = NULL;
        size_t n = 7, n_t = 7, total = 0;
        gb_alloc_fail_after(k);
        gb_status status = st_dataset_list(db, 0, 0, &ds, &n, &total, &err);
        gb_alloc_fail_after(k);
        gb_status status_t = st_teacher_list(db, 0, 0, &ts, &n_t, &total, &err);
        gb_alloc_fail_after(0);
        if (status == GB_OK) {
            ck_assert_uint_eq(n, 2);
            ck_assert_str_eq(ds[1].summary_json, "{\"rows\":100}");
            st_dataset_list_free(ds, n);
        } else {
            failures++;
            ck_assert_int_eq(status, GB_ENOMEM);
            ck_assert_ptr_null(ds);
            ck_assert_uint_eq(n, 0);
        }
        if (status_t == GB_OK) {
            ck_assert_uint_eq(n_t, 1);
            st_teacher_list_free(ts, n_t);
        } else {
            ck_assert_int_eq(status_t, GB_ENOMEM);
            ck_assert_ptr_null(ts);
            ck_assert_uint_eq(n_t, 0);
        }
    }
    ck_assert_int_gt(failures, 0);

    /* A refused insert leaves the row as it was; unknown ids are named. */
    st_dataset dup = a;
    memset(dup.id, 0, sizeof dup.id);
    memset(dup.created_at, 0, sizeof dup.created_at);
    ck_assert_int_eq(st_dataset_insert(db, &dup, NULL, &err), GB_ECONFLICT);
    ck_assert_str_eq(dup.id, "");
    ck_assert_str_eq(dup.created_at, "");
    st_teacher none;
    ck_assert_int_eq(st_teacher_get(db, "tch_nope", &none, &err), GB_ENOTFOUND);
    ck_assert_str_eq(err.message, "no teacher with id 'tch_nope'");
    ck_assert_int_eq(st_teacher_find(db, sha_b, &none, &err), GB_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "no teacher with sha256"));
    ck_assert_ptr_null(none.summary_json);

    /* sha_a is still used by the teacher: deleting dataset a orphans
     * nothing; the deleted row comes back whole. */
    st_dataset gone;
    int orphaned = -1;
    ck_assert_int_eq(st_dataset_delete(db, a.id, NULL, &gone, &orphaned, &err), GB_OK);
    ck_assert_int_eq(orphaned, 0);
    ck_assert_str_eq(gone.id, a.id);
    ck_assert_str_eq(gone.sha256, sha_a);
    ck_assert_str_eq(gone.summary_json, "{\"rows\":100}");
    st_dataset_clear(&gone);
    st_teacher gone_t;
    ck_assert_int_eq(st_teacher_delete(db, t.id, NULL, &gone_t, &orphaned, &err),
                     GB_OK);
    ck_assert_int_eq(orphaned, 1);
    ck_assert_str_eq(gone_t.kind, "mlp");
    st_teacher_clear(&gone_t);
    st_db_close(db);
}
END_TEST

START_TEST(test_list_allocation_failure_is_clean)
{
    st_db *db = open_db();
    gb_error err;
    append_n(db, 3);
    for (long k = 1; k <= 6; k++) {
        st_audit_row *rows = NULL;
        size_t n = 0, total = 0;
        gb_alloc_fail_after(k);
        gb_status status = st_audit_list(db, 0, 0, &rows, &n, &total, &err);
        gb_alloc_fail_after(0);
        if (status == GB_OK)
            st_audit_rows_free(rows, n);
        else {
            ck_assert_int_eq(status, GB_ENOMEM);
            ck_assert_ptr_null(rows);
        }
    }
    st_db_close(db);
}
END_TEST

static Suite *storage_suite(void)
{
    Suite *s = suite_create("storage");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_migrations_from_empty);
    tcase_add_test(tc, test_newer_schema_refused);
    tcase_add_test(tc, test_open_unwritable_path_fails_cleanly);
    tcase_add_test(tc, test_backup_copies_live_database);
    tcase_add_test(tc, test_tokens_create_authenticate_revoke);
    tcase_add_test(tc, test_audit_hash_matches_reference);
    tcase_add_test(tc, test_audit_chain_verifies_and_lists);
    tcase_add_test(tc, test_audit_detects_tampered_row);
    tcase_add_test(tc, test_audit_detects_deleted_and_rehashed_rows);
    tcase_add_test(tc, test_blob_write_commit_and_address);
    tcase_add_test(tc, test_blob_uncommitted_is_never_visible);
    tcase_add_test(tc, test_datasets_insert_find_list_delete);
    tcase_add_test(tc, test_runs_queue_claim_progress_finish);
    tcase_add_test(tc, test_runs_recover_after_crash);
    tcase_add_test(tc, test_reviews);
    tcase_add_test(tc, test_teachers_insert_find_delete);
    tcase_add_test(tc, test_list_allocation_failure_is_clean);
    tcase_add_test(tc, test_blob_rows_list_failure_and_delete_out);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(storage_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
