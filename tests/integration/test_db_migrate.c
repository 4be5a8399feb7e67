/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of the schema migrations (seed 001): every step
 * forward and backward on a populated database with invariants checked
 * after each step; migrate twice is a no-op; `replicator db status` and
 * `migrate` output; refusal of an unknown newer schema version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_cli.h"
#include "replicator/db/db_migrate.h"
#include "tests/support/pgtest.h"

static int64_t scalar(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    PGresult *res = NULL;
    int64_t n;

    if (db_exec(&res, db, "probe", sql, 0, NULL, &e) < 0)
        fail_msg("%s: %s", sql, e.msg);
    n = (int64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static int64_t has_table(struct db *db, const char *name)
{
    struct err e = ERR_INIT;
    PGresult *res = NULL;
    const char *p = name;
    int64_t n;

    assert_int_equal(db_exec(&res, db, "probe", "SELECT count(*) FROM "
                     "information_schema.tables WHERE table_schema = "
                     "current_schema() AND table_name = $1", 1, &p, &e), 0);
    n = (int64_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* Fixture rows, inserted at version 1 (plain SQL: the API may move on). */
static const char FIXTURE[] =
    "INSERT INTO sled (id, api_address) VALUES"
    " ('00000000-0000-0000-0000-000000000001', '10.0.0.1:12345');"
    "INSERT INTO sled (id, api_address, repo_depot_port) VALUES"
    " ('00000000-0000-0000-0000-000000000002', '10.0.0.2:12345', 4000);"
    "INSERT INTO tuf_repo (id, system_version, sha256, file_name,"
    " targets_role_version, valid_until) VALUES"
    " ('10000000-0000-0000-0000-000000000001', '1.0.0', repeat('a', 64),"
    "  'a.zip', 1, '2030-01-01T00:00:00Z'),"
    " ('10000000-0000-0000-0000-000000000002', '2.0.0', repeat('b', 64),"
    "  'b.zip', 2, '2030-01-01T00:00:00Z');"
    "UPDATE tuf_repo SET time_pruned = now() WHERE system_version = '1.0.0';"
    "INSERT INTO tuf_artifact (id, sha256, length, name, version, kind) VALUES"
    " ('20000000-0000-0000-0000-000000000001', repeat('1', 64), 10, 'a',"
    "  '1', 'zone'),"
    " ('20000000-0000-0000-0000-000000000002', repeat('2', 64), 20, 'b',"
    "  '1', 'zone'),"
    " ('20000000-0000-0000-0000-000000000003', repeat('3', 64), 30, 'c',"
    "  '1', 'zone');"
    "INSERT INTO tuf_repo_artifact VALUES"
    " ('10000000-0000-0000-0000-000000000001',"
    "  '20000000-0000-0000-0000-000000000001'),"
    " ('10000000-0000-0000-0000-000000000001',"
    "  '20000000-0000-0000-0000-000000000002'),"
    " ('10000000-0000-0000-0000-000000000002',"
    "  '20000000-0000-0000-0000-000000000002'),"
    " ('10000000-0000-0000-0000-000000000002',"
    "  '20000000-0000-0000-0000-000000000003');"
    "UPDATE tuf_generation SET generation = 7;"
    "INSERT INTO tuf_trust_root (id, root_json) VALUES"
    " ('30000000-0000-0000-0000-000000000001', '{\"signed\":{}}');";

/* The invariants that must hold at schema version v (data from FIXTURE). */
static void check_invariants(struct db *db, int64_t v)
{
    int64_t cur = -1;
    struct err e = ERR_INIT;

    assert_int_equal(db_migrate_current(&cur, db, &e), 0);
    assert_int_equal(cur, v);
    if (v == 0) {
        assert_int_equal(has_table(db, "tuf_repo"), 0);
        assert_int_equal(has_table(db, "sled"), 0);
        assert_int_equal(has_table(db, "artifact_config_pushed"), 0);
        return;
    }
    /* nothing lost */
    assert_int_equal(scalar(db, "SELECT count(*) FROM sled"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_repo"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_repo WHERE "
                     "time_pruned IS NOT NULL"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_artifact"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_repo_artifact"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_trust_root"), 1);
    /* one length per sha256 */
    assert_int_equal(scalar(db, "SELECT count(*) FROM (SELECT sha256 FROM "
                     "tuf_artifact GROUP BY sha256 HAVING "
                     "count(DISTINCT length) > 1) x"), 0);
    /* every link points at rows that exist */
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_repo_artifact ra "
                     "LEFT JOIN tuf_repo r ON r.id = ra.tuf_repo_id "
                     "LEFT JOIN tuf_artifact a ON a.id = ra.tuf_artifact_id "
                     "WHERE r.id IS NULL OR a.id IS NULL"), 0);
    /* the generation row is there, alone, positive, unchanged */
    assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_generation"), 1);
    assert_int_equal(scalar(db, "SELECT generation FROM tuf_generation "
                     "WHERE singleton"), 7);
    /* no sentinel port */
    assert_int_equal(scalar(db, "SELECT count(*) FROM sled WHERE "
                     "repo_depot_port NOT BETWEEN 1 AND 65535"), 0);
    assert_int_equal(scalar(db, "SELECT repo_depot_port FROM sled WHERE "
                     "id = '00000000-0000-0000-0000-000000000001'"), 12348);
    /* the wanted set (unpruned repos) is intact */
    assert_int_equal(scalar(db, "SELECT count(DISTINCT ra.tuf_artifact_id) "
                     "FROM tuf_repo_artifact ra JOIN tuf_repo r ON r.id = "
                     "ra.tuf_repo_id WHERE r.time_pruned IS NULL"), 2);
    if (v >= 2) {
        assert_int_equal(scalar(db, "SELECT count(*) FROM "
                         "artifact_config_pushed"), 1);
        assert_int_equal(scalar(db, "SELECT pushed_generation FROM "
                         "artifact_config_pushed"), 0);
    } else {
        assert_int_equal(has_table(db, "artifact_config_pushed"), 0);
    }
    if (v >= 3) {
        assert_int_equal(has_table(db, "tls_revocation"), 1);
        assert_int_equal(scalar(db, "SELECT count(*) FROM pg_indexes WHERE "
                         "tablename = 'tls_revocation'"), 3);
    } else {
        assert_int_equal(has_table(db, "tls_revocation"), 0);
    }
    /* 0004: the piece manifest columns, empty for rows from before */
    assert_int_equal(scalar(db, "SELECT count(*) FROM information_schema."
                     "columns WHERE table_name = 'tuf_artifact' AND "
                     "column_name IN ('piece_size', 'pieces_sha256', "
                     "'pieces_manifest')"), v >= 4 ? 3 : 0);
    if (v >= 4)
        assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_artifact "
                         "WHERE piece_size IS NOT NULL OR pieces_sha256 IS "
                         "NOT NULL OR pieces_manifest IS NOT NULL"), 0);
    /* 0005: the prune switch (on), no pins, upload times from creation */
    assert_int_equal(has_table(db, "tuf_prune_policy"), v >= 5 ? 1 : 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM information_schema."
                     "columns WHERE table_name = 'tuf_repo' AND "
                     "column_name IN ('time_pinned', 'time_uploaded')"),
                     v >= 5 ? 2 : 0);
    if (v >= 5) {
        assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_prune_policy"
                         " WHERE enabled AND reason IS NULL"), 1);
        assert_int_equal(scalar(db, "SELECT count(*) FROM tuf_repo WHERE "
                         "time_pinned IS NOT NULL OR time_uploaded <> "
                         "time_created"), 0);
    }
    /* 0006: the stuck report's clocks, none yet */
    assert_int_equal(has_table(db, "tuf_repo_progress"), v >= 6 ? 1 : 0);
    if (v >= 6)
        assert_int_equal(scalar(db, "SELECT count(*) FROM "
                         "tuf_repo_progress"), 0);
}

static void test_db_migrate__every_step_both_ways(void **state)
{
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "migrate", 0);
    struct err e = ERR_INIT;
    int64_t latest = db_migrate_latest(), v;
    int n = -1;

    (void)state;
    check_invariants(db, 0);
    assert_int_equal(db_migrate_to(&n, db, 1, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(db_exec_script(db, "fixture", FIXTURE, &e), 0);
    check_invariants(db, 1);
    /* forward one step at a time, then back one at a time (down to 1: the
     * data must survive), then forward again */
    for (v = 2; v <= latest; v++) {
        assert_int_equal(db_migrate_to(&n, db, v, &e), 0);
        assert_int_equal(n, 1);
        check_invariants(db, v);
    }
    for (v = latest - 1; v >= 1; v--) {
        assert_int_equal(db_migrate_to(&n, db, v, &e), 0);
        assert_int_equal(n, 1);
        check_invariants(db, v);
    }
    assert_int_equal(db_migrate_to(&n, db, -1, &e), 0);
    assert_int_equal(n, (int)(latest - 1));
    check_invariants(db, latest);
    /* twice is a no-op */
    assert_int_equal(db_migrate_to(&n, db, -1, &e), 0);
    assert_int_equal(n, 0);
    check_invariants(db, latest);
    assert_int_equal(db_check_schema(db, &e), 0);
    /* all the way down and up again */
    assert_int_equal(db_migrate_to(&n, db, 0, &e), 0);
    assert_int_equal(n, (int)latest);
    check_invariants(db, 0);
    assert_int_equal(db_migrate_to(&n, db, -1, &e), 0);
    assert_int_equal(scalar(db, "SELECT generation FROM tuf_generation"), 1);
    assert_int_equal(db_migrate_to(&n, db, latest + 1, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "no schema version"));
    db_close(db);
    mem_free(ci);
}

static void test_db_migrate__refuses_unknown_versions(void **state)
{
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "migrate", 0);
    struct err e = ERR_INIT;
    int64_t latest = db_migrate_latest();
    char want[ERR_MSG_MAX], sql[128];
    int n = -1;

    (void)state;
    assert_int_equal(db_migrate_to(NULL, db, 1, &e), 0);
    assert_int_equal(db_check_schema(db, &e), ERR_CONFLICT);
    snprintf(want, sizeof(want), "database schema version 1 is older than "
             "this binary's %lld: run `replicator db migrate`",
             (long long)latest);
    assert_string_equal(e.msg, want);
    assert_int_equal(db_migrate_to(NULL, db, -1, &e), 0);
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, name) "
             "VALUES (%lld, 'from_the_future')", (long long)latest + 1);
    assert_int_equal(db_exec_script(db, "future", sql, &e), 0);
    assert_int_equal(db_check_schema(db, &e), ERR_CONFLICT);
    snprintf(want, sizeof(want), "database schema version %lld is newer than "
             "this binary's %lld: upgrade the replicator",
             (long long)latest + 1, (long long)latest);
    assert_string_equal(e.msg, want);
    assert_int_equal(db_migrate_to(&n, db, 0, &e), ERR_CONFLICT);
    assert_int_equal(n, 0);
    snprintf(want, sizeof(want), "database schema version %lld is unknown to "
             "this binary (latest %lld): upgrade the replicator",
             (long long)latest + 1, (long long)latest);
    assert_string_equal(e.msg, want);
    /* nothing was touched */
    assert_int_equal(has_table(db, "tuf_repo"), 1);
    db_close(db);
    mem_free(ci);
}

/* Run the CLI, capturing stdout and stderr. */
static int cli(char *out, size_t outcap, char *errs, size_t errcap, int argc,
               char **argv)
{
    FILE *o = tmpfile(), *x = tmpfile();
    size_t n;
    int code;

    assert_non_null(o);
    assert_non_null(x);
    code = db_cli_run(o, x, argc, argv);
    rewind(o);
    rewind(x);
    n = fread(out, 1, outcap - 1, o);
    out[n] = '\0';
    n = fread(errs, 1, errcap - 1, x);
    errs[n] = '\0';
    fclose(o);
    fclose(x);
    return code;
}

static void test_db_migrate__cli(void **state)
{
    char *ci = NULL;
    struct db *db = pgtest_db(&ci, "migrate", 0);
    char out[4096], errs[1024], want[256];
    char *migrate[] = {"db", "migrate", "--db", ci};
    char *status[] = {"db", "status", "--db", ci};
    char *status_json[] = {"db", "status", "--json", "--db", ci};
    char *to1[] = {"db", "migrate", "--to", "1", "--db", ci};
    char *bad[] = {"db", "frobnicate", "--db", ci};
    char *badto[] = {"db", "migrate", "--to", "x", "--db", ci};
    char *help[] = {"db", "--help"};
    char *nodb[] = {"db", "status", "--db", "host=/nonexistent-rackdepot"};
    long long latest = (long long)db_migrate_latest();

    (void)state;
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, status), 0);
    snprintf(want, sizeof(want), "schema version 0 (latest known %lld, "
             "pending)\n  0001_core                     pending\n", latest);
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, migrate), 0);
    snprintf(want, sizeof(want), "schema migrated from version 0 to %lld "
             "(%lld steps)\n", latest, latest);
    assert_string_equal(out, want);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, migrate), 0);
    snprintf(want, sizeof(want), "schema already at version %lld\n", latest);
    assert_string_equal(out, want);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, status), 0);
    snprintf(want, sizeof(want), "schema version %lld (latest known %lld, "
             "current)\n  0001_core                     applied\n", latest,
             latest);
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 5,
                         status_json), 0);
    snprintf(want, sizeof(want), "{\"version\":%lld,\"latest\":%lld,"
             "\"state\":\"current\",\"migrations\":[{\"version\":1,"
             "\"name\":\"core\",\"applied\":true}", latest, latest);
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 6, to1), 0);
    snprintf(want, sizeof(want), "schema migrated from version %lld to 1 "
             "(%lld step%s)\n", latest, latest - 1, latest - 1 == 1 ? "" : "s");
    assert_string_equal(out, want);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, bad), 2);
    assert_int_equal(strncmp(errs, "replicator db: expected migrate or "
                             "status\nusage:", 47), 0);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 6, badto), 2);
    assert_string_equal(errs, "replicator db: --to: not a version: x\n");
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 2, help), 0);
    assert_int_equal(strncmp(out, "usage: replicator db migrate", 28), 0);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, nodb), 1);
    assert_int_equal(strncmp(errs, "replicator db status: database "
                             "connection: ", 43), 0);
    db_close(db);
    mem_free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_migrate__every_step_both_ways),
        cmocka_unit_test(test_db_migrate__refuses_unknown_versions),
        cmocka_unit_test(test_db_migrate__cli),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
