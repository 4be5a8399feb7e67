/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault test of the reconciliation task (label fault): the database
 * generation set lower in SQL after the sleds reached a higher one (a
 * database restored from backup, a hand edit). The replicator must report
 * every sled ahead with the remedy, delete nothing (invariant 1: no wanted
 * artifact leaves any holder; invariant 3: no ledger generation
 * decreases), and `replicator generation bump --past-fleet` must bring the
 * rack back. And issue 9: a sled bricked by a config at generation
 * INT64_MAX is recovered by `replicator sled reset-ledger`. Real
 * PostgreSQL and sledagents through the task rig.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/db/push_db.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define SLEDS 3
#define SLED1 "00000000-0000-4000-8000-000000000001"

static void sql(const struct rig *g, const char *q)
{
    PGconn *c = PQconnectdb(g->conninfo);
    PGresult *r;

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, q);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static void test_task_generation__lowered_in_sql(void **state)
{
    struct rig *g = *state;
    static const uint64_t seeds[] = {91, 92};
    char h[2][HEX_LEN];
    json_t *st, *iso, *e;
    json_int_t before;
    size_t i;

    rig_up(g, SLEDS, NULL);
    rig_stage_repo(g, 0, "1.0.0", seeds, 2, h);
    assert_true(rig_converge(g, 0, 4) > 0);
    /* Converged may still count accepted copies as in progress: wait for
     * them to land before the fault, so the check below is about it. */
    assert_true(rig_wait_all_hold(g, h, 2));
    st = rig_status(g, 0);
    before = json_integer_value(json_object_get(st, "generation"));
    json_decref(st);
    assert_true(before > 1);

    /* The fault: the database goes back below the fleet. */
    sql(g, "UPDATE tuf_generation SET generation = 1");
    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    iso = json_object_get(st, "isolated_sleds");
    assert_int_equal(json_array_size(iso), SLEDS);
    json_array_foreach(iso, i, e) {
        assert_int_equal(json_integer_value(json_object_get(e, "generation")),
                         before);
        assert_non_null(strstr(json_string_value(json_object_get(e, "remedy")),
                               "bump --past-fleet"));
    }
    json_decref(st);
    /* Nothing deleted, nothing moved backwards. */
    for (size_t k = 0; k < SLEDS; k++)
        assert_true(rig_holds_exactly(g->a[k], h, 2));

    /* The remedy: one command for the whole fleet. */
    assert_int_equal(rig_cli(g, "generation", "bump", "--past-fleet"), 0);
    assert_true(rig_converge(g, 0, 4) > 0);
    st = rig_status(g, 0);
    assert_int_equal(json_array_size(json_object_get(st, "isolated_sleds")),
                     0);
    assert_true(json_integer_value(json_object_get(st, "generation")) >
                before);
    json_decref(st);
    for (size_t k = 0; k < SLEDS; k++)
        assert_true(rig_wait_holds_exactly(g->a[k], h, 2));
    g->passed = true;
}

/* PUT and copy successes so far (lifetime counters of instance 0). */
static uint64_t transfers(struct rig *g)
{
    json_t *st = rig_status(g, 0);
    uint64_t n = rig_counter(st, "lifetime_counters", "put_ok") +
                 rig_counter(st, "lifetime_counters", "copy_ok");

    json_decref(st);
    return n;
}

/*
 * Issue 9, no forever-brick: one PUT /artifacts-config at generation
 * INT64_MAX bricks a sled (it refuses every config of the replicator, and
 * no bump can pass it). `replicator sled reset-ledger ID` brings it back:
 * it converges with the rest, its artifacts come back from its trash (no
 * PUT or copy is needed), and every other sled is untouched.
 */
static void test_task_generation__issue_9_reset_ledger(void **state)
{
    struct rig *g = *state;
    static const uint64_t seeds[] = {93, 94};
    const char *id = SLED1;
    char h[2][HEX_LEN];
    json_t *st, *iso, *j;
    struct err err = ERR_INIT;
    uint64_t before, gen;
    long code = 0;

    rig_up(g, SLEDS, NULL);
    rig_stage_repo(g, 0, "1.0.0", seeds, 2, h);
    assert_true(rig_converge(g, 0, 4) > 0);
    assert_true(rig_wait_all_hold(g, h, 2));
    before = transfers(g);

    /* The attack. */
    assert_int_equal(agentproc_put_config(g->a[0], 9223372036854775807ULL,
                                          NULL, 0), 204);
    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    iso = json_object_get(st, "isolated_sleds");
    assert_int_equal(json_array_size(iso), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(iso, 0), "id")), id);
    json_decref(st);
    j = rig_post_json(g->in[0].url, "/generation/bump-past-fleet", &code);
    assert_int_equal(code, 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "reset-ledger"));
    json_decref(j);
    for (size_t k = 1; k < SLEDS; k++)
        assert_true(rig_holds_exactly(g->a[k], h, 2));

    /* The recovery. */
    assert_int_equal(rig_cli(g, "sled", "reset-ledger", id), 0);
    assert_true(rig_converge(g, 0, 4) > 0);
    assert_true(rig_wait_all_hold(g, h, 2));
    st = rig_status(g, 0);
    assert_int_equal(json_array_size(json_object_get(st, "isolated_sleds")),
                     0);
    json_decref(st);
    /* Restored from trash: no byte was sent to anyone again. */
    assert_int_equal(transfers(g), before);
    /* A reset never carries a set the mass-deletion guard holds back. */
    st = rig_status(g, 0);
    gen = (uint64_t)json_integer_value(json_object_get(st, "generation"));
    json_decref(st);
    assert_int_equal(push_db_hold(g->db, gen, "test hold", &err), 0);
    j = rig_post_json(g->in[0].url, "/sled-agents/" SLED1 "/reset-ledger",
                      &code);
    assert_int_equal(code, 409);
    assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
                           "mass-deletion guard"));
    json_decref(j);
    assert_int_equal(push_db_confirm(g->db, gen, &err), 0);
    /* And normal configs flow again: a higher one is accepted. */
    assert_int_equal(rig_cli(g, "generation", "bump", "--past-fleet"), 0);
    assert_true(rig_converge(g, 0, 4) > 0);
    g->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_task_generation__lowered_in_sql,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(
            test_task_generation__issue_9_reset_ledger, rig_setup,
            rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
