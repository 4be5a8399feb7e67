/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of the sled registry under the attacks of issue 9
 * (through the task rig: real PostgreSQL, task_harness, sledagents):
 *  - registrations are validated (IP:PORT literals, ports in range) and a
 *    bad one stores nothing;
 *  - the registry has a cap (lowered here with --sled-cap): at the cap a
 *    new id is refused with 507, while listing and expunging still work;
 *  - an address change of a registered id is accepted once, a second one
 *    within the hold is refused (429), the sled's own address may come
 *    back at once;
 *  - a row whose address does not parse (written by SQL) is reported as
 *    invalid_address with the remedy and every other sled converges;
 *  - fake inventories do not matter: with authenticated peers required and
 *    no sled verified (the harness has no TLS), every sled converges but
 *    the staged copies are never dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "common/mem.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define FAKE_ID "00000000-0000-4000-8000-0000000000f1"
#define FAKE2_ID "00000000-0000-4000-8000-0000000000f2"
#define REAL_ID "00000000-0000-4000-8000-000000000001"

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

/* PUT /sled-agents/{id} with body: the status; *msg gets the message. */
static long reg(struct rig *g, const char *id, const char *body,
                char *msg, size_t cap)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[160];
    json_t *j;
    long st;

    snprintf(url, sizeof(url), "%s/sled-agents/%s", g->in[0].url, id);
    assert_int_equal(http_client_send(&r, "PUT", url, body, strlen(body)),
                     0);
    st = r.status;
    j = http_client_json(&r);
    if (msg)
        snprintf(msg, cap, "%s",
                 j && json_string_value(json_object_get(j, "message"))
                     ? json_string_value(json_object_get(j, "message"))
                     : "");
    json_decref(j);
    http_client_resp_release(&r);
    return st;
}

static size_t listed(struct rig *g)
{
    json_t *j = rig_get_json(g->in[0].url, "/sled-agents");
    size_t n;

    assert_non_null(j);
    n = json_array_size(json_object_get(j, "sleds"));
    json_decref(j);
    return n;
}

static void test_registry__issue_9_validation(void **state)
{
    static const char *bad[] = {
        "{\"api_address\": \"localhost:12345\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"10.0.0.1\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"10.0.0.1:0\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"10.0.0.1:65536\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"0x0a.0.0.1:80\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"fd00::1:80\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"[fd00::1]:80\", \"repo_depot_port\": 0}",
        "{\"api_address\": \"[fd00::1]:80\", \"repo_depot_port\": 70000}",
        "{\"api_address\": 5, \"repo_depot_port\": 12348}",
        "{\"api_address\": \"0.0.0.0:12345\", \"repo_depot_port\": 12348}",
        "{\"api_address\": \"[::]:12345\", \"repo_depot_port\": 12348}",
    };
    struct rig *g = *state;
    char msg[256];

    rig_up(g, 1, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(reg(g, FAKE_ID, bad[i], msg, sizeof(msg)), 400);
        assert_true(strstr(msg, "api_address") ||
                    strstr(msg, "repo_depot_port"));
    }
    assert_int_equal(listed(g), 1); /* nothing stored */
    assert_int_equal(reg(g, FAKE_ID, "{\"api_address\": \"[fd00::1]:80\", "
                     "\"repo_depot_port\": 12348}", NULL, 0), 200);
    assert_int_equal(listed(g), 2);
    g->passed = true;
}

static void test_registry__issue_9_cap(void **state)
{
    static const char *const extra[] = {"--sled-cap", "3", NULL};
    struct rig *g = *state;
    char msg[256];
    long code = 0;
    json_t *j;

    rig_up(g, 2, extra);
    assert_int_equal(reg(g, FAKE_ID, "{\"api_address\": \"10.9.0.1:1\", "
                     "\"repo_depot_port\": 2}", NULL, 0), 200);
    /* Full: a new id is refused, nothing stored. */
    assert_int_equal(reg(g, FAKE2_ID, "{\"api_address\": \"10.9.0.2:1\", "
                     "\"repo_depot_port\": 2}", msg, sizeof(msg)), 507);
    assert_non_null(strstr(msg, "sled registry is full"));
    assert_non_null(strstr(msg, "expunge one first"));
    /* At the cap: registered ids refresh, list and expunge work. */
    assert_int_equal(reg(g, FAKE_ID, "{\"api_address\": \"10.9.0.1:1\", "
                     "\"repo_depot_port\": 2}", NULL, 0), 200);
    assert_int_equal(listed(g), 3);
    j = rig_post_json(g->in[0].url, "/sled-agents/" FAKE_ID "/expunge",
                      &code);
    assert_int_equal(code, 200);
    json_decref(j);
    assert_int_equal(listed(g), 2);
    assert_int_equal(reg(g, FAKE2_ID, "{\"api_address\": \"10.9.0.2:1\", "
                     "\"repo_depot_port\": 2}", NULL, 0), 200);
    assert_int_equal(listed(g), 3);
    g->passed = true;
}

static void test_registry__issue_9_address_flap(void **state)
{
    struct rig *g = *state;
    char real[128], msg[256];

    rig_up(g, 1, NULL);
    snprintf(real, sizeof(real), "{\"api_address\": \"127.0.0.1:%d\", "
             "\"repo_depot_port\": %d}", agentproc_api_port(g->a[0]),
             agentproc_depot_port(g->a[0]));
    /* An impostor moves the sled: accepted once (newest wins)... */
    assert_int_equal(reg(g, REAL_ID, "{\"api_address\": \"10.6.6.6:1\", "
                     "\"repo_depot_port\": 2}", NULL, 0), 200);
    /* ...the sled's own address comes back at once... */
    assert_int_equal(reg(g, REAL_ID, real, NULL, 0), 200);
    /* ...and the impostor is held off. */
    assert_int_equal(reg(g, REAL_ID, "{\"api_address\": \"10.6.6.6:1\", "
                     "\"repo_depot_port\": 2}", msg, sizeof(msg)), 429);
    assert_non_null(strstr(msg, "changed its address"));
    assert_int_equal(reg(g, REAL_ID, real, NULL, 0), 200); /* a refresh */
    g->passed = true;
}

static void test_registry__issue_9_invalid_row_skipped(void **state)
{
    struct rig *g = *state;
    static const uint64_t seeds[] = {71, 72};
    char h[2][HEX_LEN];
    json_t *st, *e;
    size_t i, invalid = 0;

    rig_up(g, 3, NULL);
    sql(g, "INSERT INTO sled (id, api_address, repo_depot_port) VALUES ('"
        FAKE_ID "', 'not an address', 12348)");
    rig_stage_repo(g, 0, "1.0.0", seeds, 2, h);
    for (int k = 0; k < 6 && !rig_all_hold(g, h, 2); k++)
        json_decref(rig_activate(g, 0));
    assert_true(rig_wait_all_hold(g, h, 2));
    st = rig_status(g, 0);
    json_array_foreach(json_object_get(st, "sleds"), i, e) {
        const char *s = json_string_value(json_object_get(e, "state"));

        if (strcmp(json_string_value(json_object_get(e, "id")), FAKE_ID))
            continue;
        assert_string_equal(s, "invalid_address");
        assert_non_null(strstr(json_string_value(json_object_get(
                                   e, "remedy")), "sled expunge"));
        invalid++;
    }
    assert_int_equal(invalid, 1);
    json_decref(st);
    g->passed = true;
}

static void test_registry__issue_9_untrusted_keep_staged(void **state)
{
    static const char *const extra[] = {"--peers-authenticated", NULL};
    static const uint64_t seeds[] = {81, 82};
    struct rig *g = *state;
    char h[2][HEX_LEN];

    rig_up(g, 3, extra);
    rig_stage_repo(g, 0, "1.0.0", seeds, 2, h);
    for (int k = 0; k < 6 && !rig_all_hold(g, h, 2); k++)
        json_decref(rig_activate(g, 0));
    assert_true(rig_wait_all_hold(g, h, 2));
    /* Every sled holds both artifacts (3 >= min_sled_replication), yet
     * none is trusted: more runs never drop the staged repo. */
    for (int k = 0; k < 3; k++)
        json_decref(rig_activate(g, 0));
    assert_int_equal(rig_staged_count(g, 0), 1);
    g->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registry__issue_9_validation,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_registry__issue_9_cap,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_registry__issue_9_address_flap,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(
            test_registry__issue_9_invalid_row_skipped, rig_setup,
            rig_teardown),
        cmocka_unit_test_setup_teardown(
            test_registry__issue_9_untrusted_keep_staged, rig_setup,
            rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
