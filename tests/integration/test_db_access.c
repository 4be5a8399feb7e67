/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of replicator/db against a real PostgreSQL (one
 * private server per binary, one database per test): sleds, trust roots,
 * generation bump past the fleet, push bookkeeping, transaction rollback,
 * and the ERR_DB path of every module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/db_migrate.h"
#include "replicator/db/gen_db.h"
#include "replicator/db/push_db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/sled_db.h"
#include "replicator/db/trust_db.h"
#include "replicator/db/wanted_db.h"
#include "tests/support/pgtest.h"

static void test_db_access__sleds(void **state)
{
    struct db *db = pgtest_db(NULL, "access", -1);
    struct err e = ERR_INIT;
    struct sled_db_list l = SLED_DB_LIST_INIT;
    struct sled_db_sled a = {"00000000-0000-0000-0000-00000000000a",
                             "127.0.0.1:12345", 12348, 0, 0};
    struct sled_db_sled b = {"00000000-0000-0000-0000-00000000000b",
                             "127.0.0.2:12345", 40001, 0, 0};

    (void)state;
    assert_int_equal(sled_db_upsert(db, &b, &e), 0);
    assert_int_equal(sled_db_upsert(db, &a, &e), 0);
    a.api_address = "127.0.0.9:1";
    assert_int_equal(sled_db_upsert(db, &a, &e), 0);
    assert_int_equal(sled_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.sleds[0].id, a.id);
    assert_string_equal(l.sleds[0].api_address, "127.0.0.9:1");
    assert_int_equal(l.sleds[0].repo_depot_port, 12348);
    assert_string_equal(l.sleds[1].id, b.id);
    assert_int_equal(l.sleds[1].repo_depot_port, 40001);
    assert_true(l.sleds[1].time_seen >= l.sleds[1].time_registered);
    sled_db_list_release(&l);

    assert_int_equal(sled_db_expunge(db, b.id, &e), 0);
    assert_int_equal(sled_db_expunge(db, b.id, &e), 0); /* idempotent */
    assert_int_equal(sled_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.sleds[0].id, a.id);
    sled_db_list_release(&l);

    assert_int_equal(sled_db_upsert(db, &b, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, "sled 00000000-0000-0000-0000-00000000000b "
                               "is expunged");
    assert_int_equal(sled_db_expunge(db, "00000000-0000-0000-0000-"
                                     "0000000000cc", &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "no sled 00000000-0000-0000-0000-0000000000cc");
    assert_int_equal(sled_db_expunge(db, "nope", &e), ERR_INVAL);
    assert_string_equal(e.msg, "sled id nope is not a UUID");
    a.repo_depot_port = 0;
    assert_int_equal(sled_db_upsert(db, &a, &e), ERR_INVAL);
    assert_string_equal(e.msg, "sled 00000000-0000-0000-0000-00000000000a "
                               "needs an API address and a depot port in "
                               "1..65535");
    /* the schema itself refuses port 0, whatever the caller does */
    assert_int_equal(db_exec_script(db, "insert", "INSERT INTO sled (id, "
                     "api_address, repo_depot_port) VALUES ("
                     "'00000000-0000-0000-0000-0000000000dd', 'x', 0)", &e),
                     ERR_DB);
    assert_non_null(strstr(e.msg, "violates check constraint"));
    assert_non_null(strstr(e.msg, "(SQLSTATE 23514)"));
    /* and the default is the real depot port */
    assert_int_equal(db_exec_script(db, "insert", "INSERT INTO sled (id, "
                     "api_address) VALUES ("
                     "'00000000-0000-0000-0000-0000000000dd', 'x')", &e), 0);
    assert_int_equal(sled_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.sleds[1].repo_depot_port, 12348);
    sled_db_list_release(&l);
    db_close(db);
}

static void test_db_access__trust_roots(void **state)
{
    struct db *db = pgtest_db(NULL, "access", -1);
    struct err e = ERR_INIT;
    struct trust_db_list l = TRUST_DB_LIST_INIT;
    char id1[DB_UUID_STR], id2[DB_UUID_STR], id3[DB_UUID_STR];
    char want[128];

    (void)state;
    assert_int_equal(trust_db_add(id1, db, "{\"root\":1}", &e), 0);
    assert_int_equal(trust_db_add(id2, db, "{\"root\":2}", &e), 0);
    assert_int_equal(trust_db_add(id3, db, "{\"root\":3}", &e), 0);
    assert_true(db_uuid_valid(id1));
    assert_int_equal(trust_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 3);
    /* same transaction time is impossible here (separate statements), so
     * the order is insertion order */
    assert_string_equal(l.roots[0].root_json, "{\"root\":1}");
    assert_string_equal(l.roots[1].root_json, "{\"root\":2}");
    assert_string_equal(l.roots[2].root_json, "{\"root\":3}");
    assert_string_equal(l.roots[1].id, id2);
    trust_db_list_release(&l);

    assert_int_equal(trust_db_remove(db, id2, &e), 0);
    assert_int_equal(trust_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.roots[0].id, id1);
    assert_string_equal(l.roots[1].id, id3);
    trust_db_list_release(&l);

    assert_int_equal(trust_db_remove(db, id2, &e), ERR_NOTFOUND);
    snprintf(want, sizeof(want), "no trust root %s", id2);
    assert_string_equal(e.msg, want);
    assert_int_equal(trust_db_remove(db, "x", &e), ERR_INVAL);
    assert_string_equal(e.msg, "trust root id x is not a UUID");
    assert_int_equal(trust_db_add(id1, db, "", &e), ERR_INVAL);
    assert_string_equal(e.msg, "empty trust root");
    db_close(db);
}

static void test_db_access__bump_past_fleet(void **state)
{
    struct db *db = pgtest_db(NULL, "access", -1);
    struct err e = ERR_INIT;
    uint64_t g = 0;

    (void)state;
    assert_int_equal(gen_db_get(&g, db, &e), 0);
    assert_int_equal(g, 1);
    assert_int_equal(gen_db_bump_past(&g, db, 10, &e), 0);
    assert_int_equal(g, 11);
    assert_int_equal(gen_db_bump_past(&g, db, 3, &e), 0);
    assert_int_equal(g, 12);
    assert_int_equal(gen_db_get(&g, db, &e), 0);
    assert_int_equal(g, 12);
    assert_int_equal(gen_db_bump_past(&g, db, UINT64_MAX, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "fleet generation 18446744073709551615 "
                                  "is too large"));
    assert_non_null(strstr(e.msg, "replicator sled reset-ledger"));
    db_close(db);
}

static void test_db_access__push_guard(void **state)
{
    struct db *db = pgtest_db(NULL, "access", -1);
    struct err e = ERR_INIT;
    struct push_db_state st;

    (void)state;
    assert_int_equal(push_db_get(&st, db, &e), 0);
    assert_int_equal(st.pushed_generation, 0);
    assert_false(st.held);
    assert_int_equal(push_db_record(db, 5, 10, &e), 0);
    assert_int_equal(push_db_record(db, 4, 1, &e), 0); /* ignored: older */
    assert_int_equal(push_db_get(&st, db, &e), 0);
    assert_int_equal(st.pushed_generation, 5);
    assert_int_equal(st.pushed_count, 10);
    assert_int_equal(push_db_hold(db, 6, "removes 8 of 10 artifacts", &e), 0);
    assert_int_equal(push_db_get(&st, db, &e), 0);
    assert_true(st.held);
    assert_int_equal(st.held_generation, 6);
    assert_string_equal(st.held_reason, "removes 8 of 10 artifacts");
    assert_int_equal(push_db_confirm(db, 7, &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "generation 7 is not held (generation 6 is)");
    assert_int_equal(push_db_confirm(db, 6, &e), 0);
    assert_int_equal(push_db_get(&st, db, &e), 0);
    assert_false(st.held);
    assert_int_equal(st.confirmed_generation, 6);
    assert_int_equal(push_db_confirm(db, 6, &e), ERR_NOTFOUND);
    assert_string_equal(e.msg, "generation 6 is not held (nothing is held)");
    assert_int_equal(push_db_hold(db, 0, "x", &e), ERR_INVAL);
    assert_string_equal(e.msg, "bad generation 0");
    db_close(db);
}

static int insert_then_fail(struct db *db, void *arg, struct err *err)
{
    int rc;

    (void)arg;
    rc = db_exec(NULL, db, "insert", "INSERT INTO tuf_trust_root (id, "
                 "root_json) VALUES (gen_random_uuid(), 'x')", 0, NULL, err);
    if (rc < 0)
        return rc;
    return err_set(err, ERR_CONFLICT, "business rule says no");
}

static void test_db_access__txn_rolls_back(void **state)
{
    struct db *db = pgtest_db(NULL, "access", -1);
    struct err e = ERR_INIT;
    struct trust_db_list l = TRUST_DB_LIST_INIT;

    (void)state;
    assert_int_equal(db_txn(db, false, insert_then_fail, NULL, &e),
                     ERR_CONFLICT);
    assert_string_equal(e.msg, "business rule says no");
    assert_int_equal(db__txn_retries(db), 0); /* not a retryable error */
    assert_int_equal(trust_db_list(&l, db, &e), 0);
    assert_int_equal(l.count, 0);
    db_close(db);
}

/* Every module reports SQL failures as ERR_DB with the server message. */
static void test_db_access__sql_errors(void **state)
{
    struct db *db = pgtest_db(NULL, "access", 0); /* no tables */
    struct err e = ERR_INIT;
    struct repo_db_list rl = REPO_DB_LIST_INIT;
    struct repo_db_repo r;
    struct repo_db_insert_result ir;
    struct repo_db_new nr;
    struct wanted_db w = WANTED_DB_INIT;
    struct sled_db_list sl = SLED_DB_LIST_INIT;
    struct sled_db_sled s = {"00000000-0000-0000-0000-00000000000a", "a:1",
                             12348, 0, 0};
    struct trust_db_list tl = TRUST_DB_LIST_INIT;
    struct push_db_state ps;
    char id[DB_UUID_STR];
    uint64_t g;

    (void)state;
    memset(&nr, 0, sizeof(nr));
    nr.system_version = "1.0.0";
    nr.file_name = "r.zip";
#define EXPECT_DB(call, text)                                             \
    do {                                                                  \
        assert_int_equal((call), ERR_DB);                                 \
        assert_string_equal(e.msg, text);                                 \
    } while (0)
    EXPECT_DB(repo_db_list(&rl, db, &e), "list repositories: relation "
              "\"tuf_repo\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(repo_db_get(&r, db, "1.0.0", &e), "get repository: relation "
              "\"tuf_repo\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(repo_db_insert(&ir, db, &nr, &e), "find repository: relation "
              "\"tuf_repo\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(repo_db_prune(&ir, db, "1.0.0", &e), "find repository: "
              "relation \"tuf_repo\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(repo_db_mark_failed(db, "1.0.0", "lost", &e), "mark repository "
              "failed: relation \"tuf_repo\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(gen_db_get(&g, db, &e), "read generation: relation "
              "\"tuf_generation\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(gen_db_bump_past(&g, db, 1, &e), "read generation: relation "
              "\"tuf_generation\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(wanted_db_read(&w, db, &e), "read generation: relation "
              "\"tuf_generation\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(sled_db_upsert(db, &s, &e), "register sled: relation \"sled\" "
              "does not exist (SQLSTATE 42P01)");
    EXPECT_DB(sled_db_list(&sl, db, &e), "list sleds: relation \"sled\" "
              "does not exist (SQLSTATE 42P01)");
    EXPECT_DB(sled_db_expunge(db, s.id, &e), "expunge sled: relation \"sled\" "
              "does not exist (SQLSTATE 42P01)");
    EXPECT_DB(trust_db_add(id, db, "{}", &e), "add trust root: relation "
              "\"tuf_trust_root\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(trust_db_list(&tl, db, &e), "list trust roots: relation "
              "\"tuf_trust_root\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(trust_db_remove(db, s.id, &e), "remove trust root: relation "
              "\"tuf_trust_root\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(push_db_get(&ps, db, &e), "read push state: relation "
              "\"artifact_config_pushed\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(push_db_record(db, 1, 1, &e), "record pushed config: relation "
              "\"artifact_config_pushed\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(push_db_hold(db, 1, "r", &e), "hold generation: relation "
              "\"artifact_config_pushed\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(push_db_confirm(db, 1, &e), "confirm generation: relation "
              "\"artifact_config_pushed\" does not exist (SQLSTATE 42P01)");
    EXPECT_DB(db_exec(NULL, db, "probe", "SELEC 1", 0, NULL, &e), "probe: "
              "syntax error at or near \"SELEC\" (SQLSTATE 42601)");
    assert_string_equal(db_sqlstate(db), "42601");
#undef EXPECT_DB
    db_close(db);
}

static void test_db_access__connect_error(void **state)
{
    struct err e = ERR_INIT;
    struct db *db = NULL;

    (void)state;
    assert_int_equal(db_open(&db, "host=/nonexistent-rackdepot dbname=x "
                     "connect_timeout=2", &e), ERR_DB);
    assert_null(db);
    assert_int_equal(strncmp(e.msg, "database connection: connection to "
                             "server on socket \"/nonexistent-rackdepot/"
                             ".s.PGSQL.5432\" failed", 87), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_access__sleds),
        cmocka_unit_test(test_db_access__trust_roots),
        cmocka_unit_test(test_db_access__bump_past_fleet),
        cmocka_unit_test(test_db_access__push_guard),
        cmocka_unit_test(test_db_access__txn_rolls_back),
        cmocka_unit_test(test_db_access__sql_errors),
        cmocka_unit_test(test_db_access__connect_error),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
