/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Issue 12 item 6, the replicator's side of the out-of-band install hold:
 * three sleds converge on one repository; sled 3 is held (`sledagent
 * override set` on its datasets); a second repository then reaches sleds
 * 1 and 2 while sled 3 is left exactly as it was (its config generation
 * and inventory unchanged), reported `held` with its override and the
 * remedy (sleds[], held_sleds, the stuck report's held[]), not as a
 * failure (no put_config error, last_run_ok). Resume with a malformed
 * body, an unknown sled or the wrong override id changes nothing; with
 * the right one (`replicator sled resume ID --override UUID`) the sled
 * converges with the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define SLED3 "00000000-0000-4000-8000-000000000003"
#define WRONG "00000000-0000-4000-8000-0000000000ff"

/* `sledagent override set --reason R` on agent a; its id (new string). */
static char *hold(struct rig *g, struct agentproc *a, const char *reason)
{
    char *bin = proc_bin_path("sledagent");
    char *log = testutil_join(g->tmp, "override.log");
    char *argv[] = {bin, "override", "set", "--reason", (char *)reason,
                    "--dataset", (char *)agentproc_dataset(a, 0),
                    "--dataset", (char *)agentproc_dataset(a, 1), NULL};
    char *text = NULL, *at;
    size_t len = 0;
    json_t *v = NULL;
    char *id = NULL;
    int code = -1;

    unlink(log);
    assert_int_equal(proc_run(&code, bin, argv, log, 30000), 0);
    assert_int_equal(code, 0);
    assert_int_equal(testutil_read_file(&text, &len, log), 0);
    at = strstr(text, "{\"override\"");
    assert_non_null(at);
    v = json_loads(at, JSON_DISABLE_EOF_CHECK, NULL);
    id = mem_strdup(jsonu_str(json_object_get(v, "override"), "id"));
    assert_non_null(id);
    json_decref(v);
    mem_free(text);
    mem_free(log);
    mem_free(bin);
    return id;
}

/* POST /sled-agents/{sled}/resume with body: status, error_code. */
static long resume(struct rig *g, const char *sled, const char *body,
                   char *code, size_t cap)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *v;
    long st;

    snprintf(url, sizeof(url), "%s/sled-agents/%s/resume", g->in[0].url,
             sled);
    assert_int_equal(http_client_send(&r, "POST", url, body,
                                      body ? strlen(body) : 0), 0);
    st = r.status;
    v = http_client_json(&r);
    snprintf(code, cap, "%s", jsonu_str(v, "error_code")
                                  ? jsonu_str(v, "error_code") : "");
    json_decref(v);
    http_client_resp_release(&r);
    return st;
}

/* GET /artifacts of a names an override. */
static bool agent_held(struct agentproc *a)
{
    json_t *v = NULL;
    bool yes = agentproc_list(a, &v) == 200 && json_object_get(v,
                                                               "override");

    json_decref(v);
    return yes;
}

static long config_generation(struct agentproc *a)
{
    json_t *v = rig_get_json(agentproc_api_url(a), "/artifacts-config");
    long g = (long)json_integer_value(json_object_get(v, "generation"));

    json_decref(v);
    return g;
}

/* Activate instance 0; whether the stuck report names sled 3 held. */
static bool stuck_held(void *p)
{
    struct rig *g = p;
    json_t *st, *sr;
    size_t i;
    bool yes = false;

    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    json_array_foreach(json_object_get(st, "stuck_repos"), i, sr) {
        const json_t *h = json_object_get(sr, "held");

        yes |= json_array_size(h) == 1 &&
               !strcmp(json_string_value(json_array_get(h, 0)), SLED3) &&
               json_array_size(json_object_get(sr, "unreachable")) == 0 &&
               strstr(jsonu_str(sr, "cause"), "held for an out-of-band "
                                              "install") != NULL;
    }
    json_decref(st);
    return yes;
}

/* Activate instance 0; whether its status has no held sled and no stuck
 * repository. */
static bool nothing_held_or_stuck(void *p)
{
    struct rig *g = p;
    json_t *st;
    bool yes;

    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    yes = json_array_size(json_object_get(st, "held_sleds")) == 0 &&
          json_array_size(json_object_get(st, "stuck_repos")) == 0;
    json_decref(st);
    return yes;
}

/* Run `replicator sled resume ID --override UUID` (the harness's cli). */
static int cli_resume(struct rig *g, const char *sled, const char *id)
{
    char *bin = proc_bin_path("task_harness");
    char *log = testutil_join(g->tmp, "cli-resume.log");
    const char *argv[] = {bin, "cli", "--url", g->in[0].url, "sled",
                          "resume", sled, "--override", id, NULL};
    int code = -1;

    assert_int_equal(proc_run(&code, bin, (char *const *)argv, log, 60000),
                     0);
    mem_free(bin);
    mem_free(log);
    return code;
}

static void test_replication_hold__left_alone_reported_resumed(void **state)
{
    struct rig *g = *state;
    static const char *const args[] = {"--stuck-after", "1", NULL};
    static const uint64_t sa[] = {301, 302}, sb[] = {303};
    char ha[2][HEX_LEN], hb[1][HEX_LEN], all[3][HEX_LEN], body[160];
    char code[64], *id, remedy_want[256];
    json_t *st, *s3 = NULL, *e, *held, *last;
    long gen3;
    size_t i;

    rig_up(g, 3, args);
    rig_stage_repo(g, 0, "7.0.0", sa, 2, ha);
    assert_true(rig_converge(g, 0, 5) > 0);
    assert_true(rig_wait_all_hold(g, ha, 2));
    gen3 = config_generation(g->a[2]);

    id = hold(g, g->a[2], "re-imaged by hand");
    assert_true(testutil_wait_for((testutil_cond_fn)agent_held, g->a[2],
                                  15000));
    rig_stage_repo(g, 0, "8.0.0", sb, 1, hb);
    memcpy(all[0], ha[0], HEX_LEN);
    memcpy(all[1], ha[1], HEX_LEN);
    memcpy(all[2], hb[0], HEX_LEN);
    json_decref(rig_activate(g, 0));
    json_decref(rig_activate(g, 0));
    /* the rest of the rack converges; the held sled is left as it was */
    assert_true(rig_wait_holds_exactly(g->a[0], all, 3));
    assert_true(rig_wait_holds_exactly(g->a[1], all, 3));
    assert_true(rig_holds_exactly(g->a[2], ha, 2));
    assert_int_equal(config_generation(g->a[2]), gen3);

    st = rig_status(g, 0);
    json_array_foreach(json_object_get(st, "sleds"), i, e)
        if (!strcmp(jsonu_str(e, "id"), SLED3))
            s3 = e;
    assert_non_null(s3);
    assert_string_equal(jsonu_str(s3, "state"), "held");
    assert_string_equal(jsonu_str(json_object_get(s3, "override"), "id"), id);
    assert_string_equal(jsonu_str(json_object_get(s3, "override"), "reason"),
                        "re-imaged by hand");
    snprintf(remedy_want, sizeof(remedy_want), "`replicator sled resume %s "
             "--override %s`", SLED3, id);
    assert_non_null(strstr(jsonu_str(s3, "remedy"), remedy_want));
    held = json_object_get(st, "held_sleds");
    assert_int_equal(json_array_size(held), 1);
    assert_string_equal(jsonu_str(json_array_get(held, 0), "id"), SLED3);
    /* held, not failed */
    assert_int_equal(json_array_size(json_object_get(st, "isolated_sleds")),
                     0);
    last = json_object_get(st, "last_run");
    assert_int_equal(json_integer_value(json_object_get(last, "sleds_held")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(
                         last, "sleds_unreachable")), 0);
    assert_true(json_is_false(json_object_get(last, "converged")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(st, "last_run_counters"),
                         "put_config_err")), 0);
    assert_true(json_is_true(json_object_get(st, "last_run_ok")));
    json_decref(st);
    /* the stuck report names it held, with the remedy */
    assert_true(testutil_wait_for(stuck_held, g, 30000));
    /* and so does `replicator status` */
    assert_int_equal(rig_cli(g, "status", NULL, NULL), 0);
    {
        char *log = testutil_join(g->tmp, "cli.log"), want[160];

        snprintf(want, sizeof(want), "HELD SLED %s: override %s "
                 "(re-imaged by hand", SLED3, id);
        assert_true(rig_file_contains(log, want));
        assert_true(rig_file_contains(log, remedy_want));
        mem_free(log);
    }

    /* bad resumes change nothing */
    assert_int_equal(resume(g, SLED3, NULL, code, sizeof(code)), 400);
    assert_int_equal(resume(g, SLED3, "{\"override\": \"nope\"}", code,
                            sizeof(code)), 400);
    snprintf(body, sizeof(body), "{\"override\": \"%s\", \"x\": 1}", id);
    assert_int_equal(resume(g, SLED3, body, code, sizeof(code)), 400);
    assert_int_equal(resume(g, SLED3, "[1", code, sizeof(code)), 400);
    snprintf(body, sizeof(body), "{\"override\": \"%s\"}", id);
    assert_int_equal(resume(g, WRONG, body, code, sizeof(code)), 404);
    assert_int_equal(resume(g, SLED3, "{\"override\": \"" WRONG "\"}", code,
                            sizeof(code)), 409);
    assert_string_equal(code, "OVERRIDE_MISMATCH");
    assert_int_not_equal(cli_resume(g, SLED3, WRONG), 0);
    assert_true(agent_held(g->a[2]));
    assert_true(rig_holds_exactly(g->a[2], ha, 2));

    /* the right id: the sled converges with the rest */
    assert_int_equal(cli_resume(g, SLED3, id), 0);
    assert_false(agent_held(g->a[2]));
    assert_true(rig_converge(g, 0, 10) > 0);
    assert_true(rig_wait_holds_exactly(g->a[2], all, 3));
    /* (its last copy may still be running when the run converged) */
    assert_true(testutil_wait_for(nothing_held_or_stuck, g, 30000));
    /* again: none is held now */
    assert_int_equal(resume(g, SLED3, body, code, sizeof(code)), 409);
    assert_string_equal(code, "NO_OVERRIDE");
    mem_free(id);
    g->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_replication_hold__left_alone_reported_resumed, rig_setup,
            rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
