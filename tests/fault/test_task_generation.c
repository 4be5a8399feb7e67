/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault test of the reconciliation task (label fault): the database
 * generation set lower in SQL after the sleds reached a higher one (a
 * database restored from backup, a hand edit). The replicator must report
 * every sled ahead with the remedy, delete nothing (invariant 1: no wanted
 * artifact leaves any holder; invariant 3: no ledger generation
 * decreases), and `replicator generation bump --past-fleet` must bring the
 * rack back. Real PostgreSQL and sledagents through the task rig.
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

#include "common/mem.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define SLEDS 3

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_task_generation__lowered_in_sql,
                                        rig_setup, rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
