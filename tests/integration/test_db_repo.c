/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of replicator/db/repo_db and wanted_db against a real
 * PostgreSQL: insert, idempotent re-upload, conflicts, dedup, generation
 * bumps exactly when the wanted set changes, prune/unprune, concurrent
 * inserts from two connections, the wanted-set snapshot, and the piece
 * manifests recorded with the artifacts (pieces_db).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/buf.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/sha256.h"
#include "replicator/db/db.h"
#include "replicator/db/db_migrate.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/pieces_db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/wanted_db.h"
#include "tests/support/pgtest.h"

static char *new_db(void)
{
    char *conninfo = NULL;

    db_close(pgtest_db(&conninfo, "repo", -1));
    return conninfo;
}

static struct db *open_db(const char *conninfo)
{
    struct err e = ERR_INIT;
    struct db *db = NULL;

    assert_int_equal(db_open(&db, conninfo, &e), 0);
    return db;
}

static struct sha256 H(unsigned n)
{
    struct sha256 h;
    char s[32];

    snprintf(s, sizeof(s), "artifact-%u", n);
    assert_int_equal(sha256_digest(&h, s, strlen(s)), 0);
    return h;
}

static char *hex_of(char buf[SHA256_HEX_LEN + 1], unsigned n)
{
    struct sha256 h = H(n);

    sha256_to_hex(buf, &h);
    return buf;
}

/* Insert repo `version` (archive hash H(1000000 + archive)) whose
 * artifacts are ids[0..n) (artifact i has length 100 + i). */
static int insert(struct repo_db_insert_result *out, struct db *db,
                  const char *version, unsigned archive, const unsigned *ids,
                  size_t n, struct err *err)
{
    struct repo_db_artifact *a = mem_calloc(n ? n : 1, sizeof(*a));
    struct repo_db_new r;
    int rc;

    assert_non_null(a);
    for (size_t i = 0; i < n; i++) {
        a[i].sha256 = H(ids[i]);
        a[i].length = 100 + ids[i];
        a[i].name = "zone";
        a[i].version = version;
        a[i].kind = "zone";
        a[i].tags_json = "{\"kind\": \"zone\"}";
    }
    memset(&r, 0, sizeof(r));
    r.system_version = version;
    r.archive_sha256 = H(1000000 + archive);
    r.file_name = "repo.zip";
    r.valid_until = 1893456000; /* 2030-01-01 */
    r.targets_role_version = 3;
    r.nartifacts = n;
    r.artifacts = a;
    rc = repo_db_insert(out, db, &r, err);
    mem_free(a);
    return rc;
}

static uint64_t gen(struct db *db)
{
    struct err e = ERR_INIT;
    uint64_t g = 0;

    assert_int_equal(gen_db_get(&g, db, &e), 0);
    return g;
}

static void test_db_repo__insert_and_get(void **state)
{
    char *ci = new_db();
    struct db *db = open_db(ci);
    struct err e = ERR_INIT;
    struct repo_db_insert_result r;
    struct repo_db_repo got;
    struct repo_db_list l = REPO_DB_LIST_INIT;
    const unsigned ids[] = {1, 2};
    char hex[SHA256_HEX_LEN + 1], hex2[SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(insert(&r, db, "1.0.0", 1, ids, 2, &e), 0);
    assert_true(r.bumped);
    assert_false(r.existed);
    assert_int_equal(r.generation, 2);
    assert_int_equal(r.new_artifacts, 2);
    assert_true(db_uuid_valid(r.repo_id));

    assert_int_equal(repo_db_get(&got, db, "1.0.0", &e), 0);
    assert_string_equal(got.id, r.repo_id);
    assert_string_equal(got.file_name, "repo.zip");
    assert_int_equal(got.valid_until, 1893456000);
    assert_int_equal(got.targets_role_version, 3);
    assert_false(got.pruned);
    assert_int_equal(got.nartifacts, 2);
    assert_int_equal(got.artifact_count, 2);
    sha256_to_hex(hex, &got.artifacts[0].sha256);
    sha256_to_hex(hex2, &got.artifacts[1].sha256);
    assert_true(strcmp(hex, hex2) < 0); /* ordered by sha256 */
    assert_string_equal(got.artifacts[0].kind, "zone");
    assert_string_equal(got.artifacts[0].tags_json, "{\"kind\": \"zone\"}");
    assert_true(got.artifacts[0].length == 101 || got.artifacts[0].length == 102);
    repo_db_repo_release(&got);

    assert_int_equal(repo_db_get(&got, db, "9.9.9", &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "no repository with system version 9.9.9");

    assert_int_equal(repo_db_mark_failed(db, "1.0.0", "artifact lost", &e), 0);
    assert_int_equal(repo_db_mark_failed(db, "9.9.9", "x", &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "no repository with system version 9.9.9");
    assert_int_equal(repo_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 1);
    assert_true(l.repos[0].failed);
    assert_string_equal(l.repos[0].failed_reason, "artifact lost");
    assert_int_equal(l.repos[0].artifact_count, 2);
    repo_db_list_release(&l);
    db_close(db);
    mem_free(ci);
}

static void test_db_repo__idempotent_and_conflicts(void **state)
{
    char *ci = new_db();
    struct db *db = open_db(ci);
    struct err e = ERR_INIT;
    struct repo_db_insert_result r;
    const unsigned ids[] = {1, 2};
    char want[320], a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1];
    struct repo_db_repo got;
    struct repo_db_artifact bad;
    struct repo_db_new nr;

    (void)state;
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(insert(&r, db, "1.0.0", 1, ids, 2, &e), 0);
    assert_int_equal(r.generation, 2);
    /* identical re-upload: already existed, no bump */
    assert_int_equal(insert(&r, db, "1.0.0", 1, ids, 2, &e), 0);
    assert_true(r.existed);
    assert_false(r.bumped);
    assert_int_equal(r.generation, 2);
    /* same version, different archive */
    assert_int_equal(insert(&r, db, "1.0.0", 2, ids, 2, &e), ERR_CONFLICT);
    snprintf(want, sizeof(want), "system version 1.0.0 already exists with "
             "archive sha256 %s, this upload is %s", hex_of(a, 1000001),
             hex_of(b, 1000002));
    assert_string_equal(e.msg, want);
    /* same archive under another version */
    assert_int_equal(insert(&r, db, "2.0.0", 1, ids, 2, &e), ERR_CONFLICT);
    snprintf(want, sizeof(want), "archive sha256 %s is already recorded as "
             "system version 1.0.0, not 2.0.0", hex_of(a, 1000001));
    assert_string_equal(e.msg, want);
    /* same artifact sha256 with another length: 409, nothing recorded */
    memset(&nr, 0, sizeof(nr));
    bad.sha256 = H(2);
    bad.length = 7;
    bad.name = "x";
    bad.version = "1";
    bad.kind = "zone";
    bad.tags_json = NULL;
    nr.system_version = "3.0.0";
    nr.archive_sha256 = H(1000003);
    nr.file_name = "r.zip";
    nr.nartifacts = 1;
    nr.artifacts = &bad;
    assert_int_equal(repo_db_insert(&r, db, &nr, &e), ERR_CONFLICT);
    snprintf(want, sizeof(want), "artifact sha256 %s is already recorded "
             "with length 102, this upload says 7", hex_of(a, 2));
    assert_string_equal(e.msg, want);
    assert_int_equal(repo_db_get(&got, db, "3.0.0", &e), ERR_NOTFOUND);
    assert_int_equal(gen(db), 2);
    /* bad input never reaches the database */
    bad.length = 0;
    assert_int_equal(repo_db_insert(&r, db, &nr, &e), ERR_INVAL);
    snprintf(want, sizeof(want), "artifact %s: bad length 0", hex_of(a, 2));
    assert_string_equal(e.msg, want);
    bad.length = 7;
    bad.tags_json = "[1]";
    assert_int_equal(repo_db_insert(&r, db, &nr, &e), ERR_INVAL);
    snprintf(want, sizeof(want), "artifact %s: tags are not a JSON object",
             hex_of(a, 2));
    assert_string_equal(e.msg, want);
    db_close(db);
    mem_free(ci);
}

static int64_t count_rows(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    PGresult *res = NULL;
    int64_t n;

    assert_int_equal(db_exec(&res, db, "count", sql, 0, NULL, &e), 0);
    n = (int64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void test_db_repo__generation_tracks_wanted_set(void **state)
{
    char *ci = new_db();
    struct db *db = open_db(ci);
    struct err e = ERR_INIT;
    struct repo_db_insert_result r;
    const unsigned xy[] = {1, 2}, x[] = {1}, yz[] = {2, 3};

    (void)state;
    assert_int_equal(gen(db), 1);
    /* new repo with new artifacts: bump */
    assert_int_equal(insert(&r, db, "A", 1, xy, 2, &e), 0);
    assert_true(r.bumped);
    assert_int_equal(r.generation, 2);
    /* new repo whose artifacts are all already wanted: no bump */
    assert_int_equal(insert(&r, db, "B", 2, x, 1, &e), 0);
    assert_false(r.bumped);
    assert_int_equal(r.new_artifacts, 0);
    assert_int_equal(r.generation, 2);
    /* dedup across repos: one new artifact row */
    assert_int_equal(insert(&r, db, "D", 4, yz, 2, &e), 0);
    assert_true(r.bumped);
    assert_int_equal(r.new_artifacts, 1);
    assert_int_equal(r.generation, 3);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM tuf_artifact"), 3);
    /* prune of a repo whose artifacts are still wanted by others: none */
    assert_int_equal(repo_db_prune(&r, db, "B", &e), 0);
    assert_false(r.bumped);
    assert_int_equal(r.generation, 3);
    assert_int_equal(repo_db_prune(&r, db, "D", &e), 0); /* z leaves */
    assert_true(r.bumped);
    assert_int_equal(r.generation, 4);
    /* prune: x, y leave the wanted set */
    assert_int_equal(repo_db_prune(&r, db, "A", &e), 0);
    assert_true(r.bumped);
    assert_int_equal(r.generation, 5);
    /* pruning again changes nothing */
    assert_int_equal(repo_db_prune(&r, db, "A", &e), 0);
    assert_false(r.bumped);
    assert_int_equal(r.generation, 5);
    /* a repo whose artifacts all belong to pruned repos: bump (the hole
     * omicron has: no new artifact rows, but the wanted set changes) */
    assert_int_equal(insert(&r, db, "C", 3, xy, 2, &e), 0);
    assert_int_equal(r.new_artifacts, 0);
    assert_true(r.bumped);
    assert_int_equal(r.generation, 6);
    /* re-upload of pruned A while C wants the same: unprune, no bump */
    assert_int_equal(insert(&r, db, "A", 1, xy, 2, &e), 0);
    assert_true(r.existed);
    assert_true(r.unpruned);
    assert_false(r.bumped);
    assert_int_equal(r.generation, 6);
    /* re-upload of pruned D (z wanted by nobody): unprune and bump */
    assert_int_equal(insert(&r, db, "D", 4, yz, 2, &e), 0);
    assert_true(r.existed);
    assert_true(r.unpruned);
    assert_true(r.bumped);
    assert_int_equal(r.generation, 7);
    assert_int_equal(repo_db_prune(&r, db, "nope", &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "no repository with system version nope");
    assert_int_equal(gen(db), 7);
    db_close(db);
    mem_free(ci);
}

static void test_db_repo__wanted_snapshot(void **state)
{
    char *ci = new_db();
    struct db *db = open_db(ci);
    struct err e = ERR_INIT;
    struct repo_db_insert_result r;
    struct wanted_db w = WANTED_DB_INIT;
    const unsigned xy[] = {1, 2}, yz[] = {2, 3}, q[] = {4};
    unsigned big[1500];
    char prev[SHA256_HEX_LEN + 1] = "", cur[SHA256_HEX_LEN + 1];
    size_t i, y = 0;
    struct sha256 hy = H(2);

    (void)state;
    assert_int_equal(insert(&r, db, "A", 1, xy, 2, &e), 0);
    assert_int_equal(insert(&r, db, "B", 2, yz, 2, &e), 0);
    assert_int_equal(insert(&r, db, "C", 3, q, 1, &e), 0);
    assert_int_equal(repo_db_prune(&r, db, "C", &e), 0);
    assert_int_equal(wanted_db_read(&w, db, &e), 0);
    assert_int_equal(w.generation, gen(db));
    assert_int_equal(w.count, 3);
    for (i = 0; i < w.count; i++) {
        sha256_to_hex(cur, &w.artifacts[i].sha256);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof(prev));
        if (sha256_eq(&w.artifacts[i].sha256, &hy))
            y = i;
    }
    assert_int_equal(w.artifacts[y].length, 102);
    assert_int_equal(w.artifacts[y].nrepos, 2);
    assert_string_equal(w.artifacts[y].repos[0], "A");
    assert_string_equal(w.artifacts[y].repos[1], "B");
    wanted_db_release(&w);

    /* more rows than one page */
    for (i = 0; i < 1500; i++)
        big[i] = 100 + (unsigned)i;
    assert_int_equal(insert(&r, db, "BIG", 9, big, 1500, &e), 0);
    assert_int_equal(wanted_db_read(&w, db, &e), 0);
    assert_int_equal(w.count, 1503);
    assert_int_equal(w.generation, r.generation);
    for (i = 1; i < w.count; i++)
        assert_true(sha256_cmp(&w.artifacts[i - 1].sha256,
                               &w.artifacts[i].sha256) < 0);
    wanted_db_release(&w);
    db_close(db);
    mem_free(ci);
}

struct worker {
    const char *conninfo;
    unsigned base;
    int failures;
    unsigned bumps;
    unsigned retries;
    char msg[ERR_MSG_MAX];
};

#define PER_THREAD 15

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct err e = ERR_INIT;
    struct db *db = NULL;
    char version[32];
    unsigned i;

    if (db_open(&db, w->conninfo, &e) < 0) {
        w->failures++;
        snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
        return NULL;
    }
    for (i = 0; i < PER_THREAD; i++) {
        struct repo_db_insert_result r;
        /* one artifact of its own, one shared by both threads */
        unsigned ids[2] = {w->base + i, 500 + i};

        snprintf(version, sizeof(version), "%u.0.0", w->base + i);
        if (insert(&r, db, version, w->base + i, ids, 2, &e) < 0) {
            w->failures++;
            snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
        } else if (r.bumped) {
            w->bumps++;
        }
    }
    w->retries = db__txn_retries(db);
    db_close(db);
    return NULL;
}

static void test_db_repo__concurrent_inserts(void **state)
{
    char *ci = new_db();
    struct worker w[2] = {{ci, 1000, 0, 0, 0, ""}, {ci, 2000, 0, 0, 0, ""}};
    pthread_t t[2];
    struct db *db;
    struct wanted_db wd = WANTED_DB_INIT;
    struct err e = ERR_INIT;

    (void)state;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_string_equal(w[0].msg, "");
    assert_string_equal(w[1].msg, "");
    assert_int_equal(w[0].failures + w[1].failures, 0);
    /* every insert brought a new artifact: every one bumped, by exactly 1 */
    assert_int_equal(w[0].bumps + w[1].bumps, 2 * PER_THREAD);
    db = open_db(ci);
    assert_int_equal(gen(db), 1 + 2 * PER_THREAD);
    assert_int_equal(wanted_db_read(&wd, db, &e), 0);
    assert_int_equal(wd.count, 3 * PER_THREAD);
    wanted_db_release(&wd);
    print_message("concurrent inserts: %u + %u serialization retries\n",
                  w[0].retries, w[1].retries);
    db_close(db);
    mem_free(ci);
}

/* The manifest of `len` bytes of pattern n in 64 KiB pieces, encoded. */
static void manifest_of(struct buf *doc, struct sha256 *id,
                        struct sha256 *whole, unsigned n, size_t len)
{
    struct pieces_builder *b = NULL;
    struct pieces m = PIECES_INIT;
    struct err e = ERR_INIT;
    char *data = mem_alloc(len);

    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * n + n);
    assert_int_equal(sha256_digest(whole, data, len), 0);
    assert_int_equal(pieces_builder_new(&b, PIECES_SIZE_MIN, &e), 0);
    assert_int_equal(pieces_builder_update(b, data, len), 0);
    assert_int_equal(pieces_builder_finish(&m, b, whole, &e), 0);
    assert_int_equal(pieces_encode(doc, &m, &e), 0);
    assert_int_equal(pieces_id(id, &m, &e), 0);
    pieces_builder_free(b);
    pieces_release(&m);
    mem_free(data);
}

/* Recorded with the artifact, read back verbatim; a row without one (as
 * from before schema 4) gets it from a re-upload; one with one keeps it;
 * a stored document that does not match its hash is refused. */
static void test_db_repo__pieces(void **state)
{
    char *ci = new_db();
    struct db *db = open_db(ci);
    struct err e = ERR_INIT;
    struct repo_db_insert_result r;
    struct repo_db_artifact a[2];
    struct repo_db_new nr;
    struct buf d0 = BUF_INIT, d1 = BUF_INIT;
    struct sha256 id0, id1, got_id, unknown = H(77);
    char *got = NULL, hex[SHA256_HEX_LEN + 1];
    const char *param = hex;
    size_t len = 0;

    (void)state;
    memset(a, 0, sizeof(a));
    manifest_of(&d0, &id0, &a[0].sha256, 1, 200000);
    manifest_of(&d1, &id1, &a[1].sha256, 2, 65536);
    for (int i = 0; i < 2; i++) {
        a[i].length = i == 0 ? 200000 : 65536;
        a[i].name = "os";
        a[i].version = "1";
        a[i].kind = "os";
        a[i].piece_size = PIECES_SIZE_MIN;
    }
    a[0].pieces_manifest = d0.data;
    a[0].pieces_sha256 = id0;
    /* a[1] recorded without a manifest */
    memset(&nr, 0, sizeof(nr));
    nr.system_version = "1.0.0";
    nr.archive_sha256 = H(1000001);
    nr.file_name = "r.zip";
    nr.valid_until = 1893456000;
    nr.nartifacts = 2;
    nr.artifacts = a;
    assert_int_equal(repo_db_insert(&r, db, &nr, &e), 0);
    assert_int_equal(pieces_db_get(&got, &len, &got_id, db, &a[0].sha256, &e),
                     0);
    assert_int_equal(len, d0.len);
    assert_memory_equal(got, d0.data, len);
    assert_true(sha256_eq(&got_id, &id0));
    mem_free(got);
    assert_int_equal(pieces_db_get(&got, &len, NULL, db, &a[1].sha256, &e),
                     ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "has no piece manifest"));
    assert_null(got);
    assert_int_equal(pieces_db_get(&got, &len, NULL, db, &unknown, &e),
                     ERR_NOTFOUND);
    sha256_to_hex(hex, &unknown);
    assert_non_null(strstr(e.msg, hex));

    /* the same repo again, now with both: the missing one is filled, and
     * another document for a[0] changes nothing */
    a[1].pieces_manifest = d1.data;
    a[1].pieces_sha256 = id1;
    a[0].pieces_manifest = "{}";
    a[0].pieces_sha256 = unknown;
    assert_int_equal(repo_db_insert(&r, db, &nr, &e), 0);
    assert_true(r.existed);
    assert_int_equal(pieces_db_get(&got, &len, &got_id, db, &a[1].sha256, &e),
                     0);
    assert_memory_equal(got, d1.data, len);
    assert_true(sha256_eq(&got_id, &id1));
    mem_free(got);
    assert_int_equal(pieces_db_get(&got, &len, NULL, db, &a[0].sha256, &e),
                     0);
    assert_memory_equal(got, d0.data, len);
    mem_free(got);

    /* a stored document that does not hash to its recorded hash */
    sha256_to_hex(hex, &a[0].sha256);
    assert_int_equal(db_exec(NULL, db, "corrupt", "UPDATE tuf_artifact SET "
                             "pieces_manifest = pieces_manifest || ' ' "
                             "WHERE sha256 = $1", 1, &param, &e), 0);
    assert_int_equal(pieces_db_get(&got, &len, NULL, db, &a[0].sha256, &e),
                     ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "does not match its recorded hash"));
    /* all three columns or none */
    assert_int_equal(db_exec(NULL, db, "partial", "UPDATE tuf_artifact SET "
                             "piece_size = NULL WHERE sha256 = $1", 1, &param,
                             &e), ERR_DB);
    buf_release(&d0);
    buf_release(&d1);
    db_close(db);
    mem_free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_repo__insert_and_get),
        cmocka_unit_test(test_db_repo__idempotent_and_conflicts),
        cmocka_unit_test(test_db_repo__generation_tracks_wanted_set),
        cmocka_unit_test(test_db_repo__wanted_snapshot),
        cmocka_unit_test(test_db_repo__concurrent_inserts),
        cmocka_unit_test(test_db_repo__pieces),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
