/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of the reconciliation task against real sledagents
 * (tests/support/agentproc.h, port 0) and a private PostgreSQL
 * (tests/support/pg.h), through the task harness (task_harness.c: the
 * task API on its own loop, as serve wires it). Repositories are staged
 * as ingest does: recorded with repo_db_insert, then handed over with a
 * staging manifest. Each test polls with hard timeouts and checks
 * convergence: every in-service sled lists every wanted hash with count
 * 2 and holds nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "replicator/db/db.h"
#include "replicator/db/repo_db.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"


/* Upload, converge in few activations, few PUTs, idle re-activation,
 * a second repo sharing artifacts, prune. */
static void test_replication__converge_share_prune(void **state)
{
    struct rig *g = *state;
    static const uint64_t sa[] = {11, 12, 13, 14}, sb[] = {13, 14, 15, 16};
    char ha[4][HEX_LEN], hb[4][HEX_LEN], all[6][HEX_LEN];
    struct err err = ERR_INIT;
    struct repo_db_insert_result pr;
    struct hold_arg h;
    json_t *st, *s;
    int runs;

    rig_up(g, 6, NULL);
    rig_stage_repo(g, 0, "1.0.0", sa, 4, ha);
    runs = rig_converge(g, 0, 5);
    assert_true(runs >= 1 && runs <= 4);
    assert_true(rig_wait_all_hold(g, ha, 4));
    st = rig_status(g, 0);
    /* at most min_sled_replication PUTs per artifact; the rest by copy */
    assert_true(rig_counter(st, "lifetime_counters", "put_ok") <= 3 * 4);
    assert_true(rig_counter(st, "lifetime_counters", "put_ok") >= 4);
    assert_true(rig_counter(st, "lifetime_counters", "copy_ok") >= 6 * 4 - 12);
    assert_int_equal(rig_counter(st, "lifetime_counters", "put_err") +
                         rig_counter(st, "lifetime_counters", "copy_err"), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "local_repos")),
                     0);
    assert_true(json_array_size(json_object_get(st, "request_ring")) > 0);
    assert_int_equal(json_array_size(json_object_get(st, "sleds")), 6);
    json_decref(st);
    assert_int_equal(rig_staged_count(g, 0), 0);
    /* nothing to do: only config puts and lists */
    s = rig_activate(g, 0);
    assert_true(json_is_true(json_object_get(s, "converged")));
    json_decref(s);
    st = rig_status(g, 0);
    assert_int_equal(rig_counter(st, "last_run_counters", "put_config_ok"), 6);
    assert_int_equal(rig_counter(st, "last_run_counters", "list_ok"), 6);
    assert_int_equal(rig_counter(st, "last_run_counters", "put_ok") +
                         rig_counter(st, "last_run_counters", "copy_ok"), 0);
    json_decref(st);
    /* a second repo sharing two artifacts */
    rig_stage_repo(g, 0, "2.0.0", sb, 4, hb);
    memcpy(all, ha, sizeof(ha));
    memcpy(all[4], hb[2], HEX_LEN);
    memcpy(all[5], hb[3], HEX_LEN);
    runs = rig_converge(g, 0, 5);
    assert_true(runs >= 1 && runs <= 4);
    assert_true(rig_wait_all_hold(g, all, 6));
    /* prune 1.0.0: its own two artifacts leave every sled */
    assert_int_equal(repo_db_prune(&pr, g->db, "1.0.0", &err), 0);
    assert_true(pr.bumped);
    s = rig_activate(g, 0);
    assert_false(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    h.g = g;
    h.hex = hb;
    h.n = 4;
    assert_true(testutil_wait_for(rig_all_hold_cond, &h, 30000));
    g->passed = true;
}

/* The CLI commands (cli_task_main, through the harness's cli mode). */

static void test_replication__cli(void **state)
{
    struct rig *g = *state;
    static const uint64_t sa[] = {61};
    char ha[1][HEX_LEN];

    rig_up(g, 4, NULL);
    rig_stage_repo(g, 0, "1.0.0", sa, 1, ha);
    assert_int_equal(rig_cli(g, "activate", NULL, NULL), 0);
    assert_int_equal(rig_cli(g, "activate", "--no-wait", NULL), 0);
    assert_int_equal(rig_cli(g, "status", NULL, NULL), 0);
    /* issue 12: omdb's lines; a format that does not exist is usage */
    assert_int_equal(rig_cli(g, "status", "--format", "omdb"), 0);
    {
        char *log = testutil_join(g->tmp, "cli.log"), *text = NULL;
        size_t len;

        assert_int_equal(testutil_read_file(&text, &len, log), 0);
        assert_non_null(strstr(text, "task: \"tuf_artifact_replication\""));
        assert_non_null(strstr(text, "    request ringbuf:\n"
                                     "      - target sled: "));
        assert_non_null(strstr(text, "operation: PutConfig { generation: "));
        assert_non_null(strstr(text, "      put config err:   0\n"));
        mem_free(text);
        mem_free(log);
    }
    assert_int_equal(rig_cli(g, "status", "--format", "json"), 0);
    assert_int_equal(rig_cli(g, "status", "--format", "yaml"), 2);
    assert_int_equal(rig_cli(g, "status", "--format", NULL), 2);
    assert_int_equal(rig_cli(g, "sled", "list", NULL), 0);
    assert_int_equal(rig_cli(g, "sled", "bogus", NULL), 2);
    assert_int_equal(rig_cli(g, "generation", "confirm", "99"), 1);
    assert_int_equal(rig_cli(g, "generation", "bump", "--past-fleet"), 0);
    assert_int_equal(rig_cli(g, "sled", "expunge",
                         "00000000-0000-4000-8000-000000000004"), 0);
    assert_int_equal(rig_cli(g, "sled", "expunge",
                         "00000000-0000-4000-8000-00000000ffff"), 1);
    g->passed = true;
}

/* A sled added late converges; a sled restarted with empty datasets is
 * re-copied. */
static void test_replication__late_and_wiped(void **state)
{
    struct rig *g = *state;
    static const uint64_t sa[] = {21, 22, 23};
    char ha[3][HEX_LEN];
    struct sleds_arg sl;

    rig_up(g, 4, NULL);
    rig_stage_repo(g, 0, "1.0.0", sa, 3, ha);
    assert_true(rig_converge(g, 0, 5) > 0);
    assert_true(rig_wait_all_hold(g, ha, 3));
    assert_int_equal(rig_agent_start(g, 4), 0);
    g->n = 5;
    sl.url = g->in[0].url;
    sl.want = 5;
    assert_true(testutil_wait_for(rig_sleds_registered, &sl, 30000));
    assert_true(rig_converge(g, 0, 4) > 0);
    assert_true(rig_wait_all_hold(g, ha, 3));
    /* wipe sled 0 */
    assert_int_equal(agentproc_stop(g->a[0], 20000), 0);
    for (int d = 0; d < 2; d++) {
        testutil_rmrf(agentproc_dataset(g->a[0], d));
        assert_int_equal(mkdir(agentproc_dataset(g->a[0], d), 0755), 0);
    }
    assert_int_equal(agentproc_start(g->a[0]), 0);
    assert_true(rig_converge(g, 0, 4) > 0);
    assert_true(rig_wait_all_hold(g, ha, 3));
    g->passed = true;
}

/* A sled from a previous life is isolated while the others rig_converge;
 * bump-past-fleet brings it back. */
static void test_replication__stale_sled(void **state)
{
    struct rig *g = *state;
    static const uint64_t sa[] = {31, 32};
    char ha[2][HEX_LEN];
    json_t *st, *s, *iso;
    long code = 0;
    const char *id;

    rig_up(g, 4, NULL);
    assert_int_equal(agentproc_put_config(g->a[3], 100, NULL, 0), 204);
    rig_stage_repo(g, 0, "1.0.0", sa, 2, ha);
    for (int i = 0; i < 3; i++)
        json_decref(rig_activate(g, 0));
    for (size_t i = 0; i < 3; i++)
        assert_true(rig_wait_holds_exactly(g->a[i], ha, 2));
    st = rig_status(g, 0);
    iso = json_object_get(st, "isolated_sleds");
    assert_int_equal(json_array_size(iso), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(iso, 0), "generation")), 100);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(iso, 0), "remedy")),
                           "bump --past-fleet"));
    id = json_string_value(json_object_get(json_array_get(iso, 0), "id"));
    assert_non_null(id);
    assert_int_equal(rig_counter(st, "last_run_counters", "put_config_err"), 1);
    json_decref(st);
    s = rig_post_json(g->in[0].url, "/generation/bump-past-fleet", &code);
    assert_int_equal(code, 200);
    assert_int_equal(json_integer_value(json_object_get(s, "fleet_max")), 100);
    assert_true(json_integer_value(json_object_get(s, "generation")) > 100);
    json_decref(s);
    assert_true(rig_converge(g, 0, 4) > 0);
    assert_true(rig_wait_all_hold(g, ha, 2));
    st = rig_status(g, 0);
    assert_int_equal(json_array_size(json_object_get(st, "isolated_sleds")),
                     0);
    json_decref(st);
    g->passed = true;
}

/* The mass-deletion guard holds a big prune until confirmed. */
static void test_replication__guard(void **state)
{
    struct rig *g = *state;
    static const uint64_t s1[] = {41, 42}, s2[] = {43, 44}, s3[] = {45, 46};
    char h1[2][HEX_LEN], h2[2][HEX_LEN], h3[2][HEX_LEN], all[6][HEX_LEN];
    struct repo_db_insert_result pr;
    struct err err = ERR_INIT;
    struct hold_arg h;
    json_t *s, *st;
    long code = 0;
    char path[64];
    uint64_t gen;

    rig_up(g, 4, NULL);
    rig_stage_repo(g, 0, "1.0.0", s1, 2, h1);
    rig_stage_repo(g, 0, "2.0.0", s2, 2, h2);
    rig_stage_repo(g, 0, "3.0.0", s3, 2, h3);
    memcpy(all[0], h1, sizeof(h1));
    memcpy(all[2], h2, sizeof(h2));
    memcpy(all[4], h3, sizeof(h3));
    assert_true(rig_converge(g, 0, 5) > 0);
    assert_true(rig_wait_all_hold(g, all, 6));
    assert_int_equal(repo_db_prune(&pr, g->db, "1.0.0", &err), 0);
    assert_int_equal(repo_db_prune(&pr, g->db, "2.0.0", &err), 0);
    gen = pr.generation;
    s = rig_activate(g, 0);
    assert_true(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    st = rig_status(g, 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
                         json_object_get(st, "held_generations"), 0),
                         "generation")), (json_int_t)gen);
    json_decref(st);
    assert_true(rig_all_hold(g, all, 6)); /* nothing deleted */
    snprintf(path, sizeof(path), "/generation/%llu/confirm",
             (unsigned long long)gen);
    json_decref(rig_post_json(g->in[0].url, path, &code));
    assert_int_equal(code, 200);
    s = rig_activate(g, 0);
    assert_false(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    h.g = g;
    h.hex = h3;
    h.n = 2;
    assert_true(testutil_wait_for(rig_all_hold_cond, &h, 30000));
    g->passed = true;
}

/* Two task instances on one database, each with its own staged upload;
 * staged files are dropped only after sufficient replication. */
static void test_replication__two_instances(void **state)
{
    struct rig *g = *state;
    static const uint64_t sx[] = {51, 52}, sy[] = {53, 54};
    char hx[2][HEX_LEN], hy[2][HEX_LEN], all[4][HEX_LEN];
    struct hold_arg h;

    rig_up(g, 5, NULL);
    assert_int_equal(rig_inst_start(g, &g->in[1], "r1", NULL), 0);
    g->n_inst = 2;
    rig_stage_repo(g, 0, "1.0.0", sx, 2, hx);
    rig_stage_repo(g, 1, "2.0.0", sy, 2, hy);
    assert_int_equal(rig_staged_count(g, 0), 1);
    assert_int_equal(rig_staged_count(g, 1), 1);
    memcpy(all[0], hx, sizeof(hx));
    memcpy(all[2], hy, sizeof(hy));
    for (int i = 0; i < 6 && !rig_all_hold(g, all, 4); i++) {
        json_decref(rig_activate(g, i % 2));
    }
    h.g = g;
    h.hex = all;
    h.n = 4;
    assert_true(testutil_wait_for(rig_all_hold_cond, &h, 20000));
    /* one more run each: both see sufficient replication and drop */
    json_decref(rig_activate(g, 0));
    json_decref(rig_activate(g, 1));
    assert_int_equal(rig_staged_count(g, 0), 0);
    assert_int_equal(rig_staged_count(g, 1), 0);
    g->passed = true;
}


static uint64_t runs_of(struct rig *g, size_t inst)
{
    json_t *st = rig_status(g, inst);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(st, "runs"));

    json_decref(st);
    return n;
}

static const char *last_reason(json_t *st)
{
    return json_string_value(json_object_get(
        json_object_get(st, "last_activation"), "reason"));
}

struct runs_arg {
    struct rig *g;
    uint64_t want;
};

static bool runs_reached(void *p)
{
    struct runs_arg *a = p;

    return runs_of(a->g, 0) >= a->want;
}

/* A short period runs the task on its own; with periodic activation off
 * (a second instance), nothing runs by itself but manual activation
 * still works (seed 003). */
static void test_replication__periodic(void **state)
{
    struct rig *g = *state;
    static const char *const per[] = {"--periodic", "--period", "1", NULL};
    static const uint64_t sa[] = {81};
    char ha[1][HEX_LEN];
    struct runs_arg ra;
    struct hold_arg h;
    uint64_t before;
    json_t *st, *s;

    rig_up(g, 2, per);
    rig_stage_repo(g, 0, "1.0.0", sa, 1, ha);
    /* never activated by hand: the period replicates it */
    h.g = g;
    h.hex = ha;
    h.n = 1;
    assert_true(testutil_wait_for(rig_all_hold_cond, &h, 20000));
    ra.g = g;
    ra.want = runs_of(g, 0) + 2;
    assert_true(testutil_wait_for(runs_reached, &ra, 6000));
    st = rig_status(g, 0);
    assert_string_equal(last_reason(st), "periodic");
    assert_true(json_is_true(json_object_get(json_object_get(st, "config"),
                                             "periodic")));
    json_decref(st);
    /* periodic off: idle on its own, manual still runs */
    assert_int_equal(rig_inst_start(g, &g->in[1], "r1", NULL), 0);
    g->n_inst = 2;
    testutil_sleep_ms(300);
    before = runs_of(g, 1);
    testutil_sleep_ms(2500);
    assert_int_equal(runs_of(g, 1), before);
    s = rig_activate(g, 1);
    assert_string_equal(json_string_value(json_object_get(s, "reason")),
                        "manual");
    assert_true(json_is_true(json_object_get(s, "converged")));
    json_decref(s);
    assert_int_equal(runs_of(g, 1), before + 1);
    st = rig_status(g, 1);
    assert_string_equal(last_reason(st), "manual");
    assert_false(json_is_true(json_object_get(json_object_get(st, "config"),
                                              "periodic")));
    json_decref(st);
    g->passed = true;
}

/* The value of a Prometheus line `name value` (name with labels). */
static bool metric(double *out, const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = text; p && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (!strncmp(p, name, n) && p[n] == ' ') {
            char *end = NULL;

            *out = strtod(p + n + 1, &end);
            return end && end != p + n + 1;
        }
    }
    return false;
}

static char *metrics_text(struct rig *g)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[128];
    char *text;

    snprintf(url, sizeof(url), "%s/metrics", g->in[0].url);
    assert_int_equal(http_client_get(&resp, url), 0);
    assert_int_equal(resp.status, 200);
    text = mem_strndup(resp.body.data, resp.body.len);
    assert_non_null(text);
    http_client_resp_release(&resp);
    return text;
}

struct failed_arg {
    struct rig *g;
};

static bool repo_marked_failed(void *p)
{
    struct failed_arg *a = p;
    json_t *s = rig_activate(a->g, 0);
    bool marked = json_integer_value(json_object_get(
                      s, "repos_marked_failed")) == 1;

    json_decref(s);
    return marked;
}

/* Activate instance 0 and report whether the status lists a stuck repo. */
static bool stuck_listed(void *p)
{
    struct rig *g = p;
    json_t *st;
    bool stuck;

    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    stuck = json_array_size(json_object_get(st, "stuck_repos")) > 0;
    json_decref(st);
    return stuck;
}

/* issue 12: a repo that stops converging (a sled down) is flagged stuck
 * after stuck_after, naming the unreachable sled; a converged repo never
 * is; the clock survives a restart of the replicator (it is stored); and
 * a repo that completes again is no longer stuck (nor stored). */
static void test_replication__issue_12_stuck(void **state)
{
    struct rig *g = *state;
    static const char *const args[] = {"--stuck-after", "1", NULL};
    static const uint64_t sa[] = {101, 102};
    char ha[2][HEX_LEN];
    json_t *st, *sr, *repo;
    const char *cause;
    json_int_t since;

    rig_up(g, 3, args);
    rig_stage_repo(g, 0, "4.0.0", sa, 2, ha);
    assert_true(rig_converge(g, 0, 5) > 0);
    assert_true(rig_wait_all_hold(g, ha, 2));
    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    assert_int_equal(json_array_size(json_object_get(st, "stuck_repos")), 0);
    repo = json_array_get(json_object_get(st, "repos"), 0);
    assert_true(json_is_false(json_object_get(repo, "stuck")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(st, "config"), "stuck_after_secs")),
                     1);
    json_decref(st);
    /* sled 3 goes away: incomplete, no new copy can come */
    assert_int_equal(agentproc_stop(g->a[2], 20000), 0);
    assert_true(testutil_wait_for(stuck_listed, g, 30000));
    st = rig_status(g, 0);
    sr = json_array_get(json_object_get(st, "stuck_repos"), 0);
    assert_string_equal(jsonu_str(sr, "system_version"), "4.0.0");
    assert_int_equal(json_array_size(json_object_get(sr, "unreachable")), 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(sr, "unreachable"), 0)),
                        "00000000-0000-4000-8000-000000000003");
    assert_int_equal(json_array_size(json_object_get(sr, "isolated")), 0);
    assert_int_equal(json_array_size(json_object_get(sr, "full")), 0);
    assert_int_equal(json_integer_value(json_object_get(sr, "copies_held")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(sr,
                                                        "copies_wanted")), 6);
    cause = jsonu_str(sr, "cause");
    assert_non_null(cause);
    assert_non_null(strstr(cause, "1 sled(s) unreachable: "
                                  "00000000-0000-4000-8000-000000000003"));
    assert_non_null(strstr(cause, "(4 of 6 held)"));
    repo = json_array_get(json_object_get(st, "repos"), 0);
    assert_true(json_is_true(json_object_get(repo, "stuck")));
    since = json_integer_value(json_object_get(sr, "since_ms"));
    assert_true(since > 0);
    json_decref(st);
    /* the clock is the database's: a restarted replicator keeps it, so
     * its first run already calls the repo stuck, since the same time */
    {
        /* on its port: the sleds register there */
        char listen[64];
        const char *again[] = {"--stuck-after", "1", "--listen", listen,
                               NULL};

        snprintf(listen, sizeof(listen), "%s",
                 strstr(g->in[0].url, "://") + 3);
        rig_inst_stop(&g->in[0]);
        assert_int_equal(rig_inst_start(g, &g->in[0], "r0", again), 0);
    }
    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    sr = json_array_get(json_object_get(st, "stuck_repos"), 0);
    assert_non_null(sr);
    assert_int_equal(json_integer_value(json_object_get(sr, "since_ms")),
                     since);
    assert_int_equal(json_integer_value(json_object_get(sr, "copies_held")),
                     4);
    json_decref(st);
    /* back: it converges and is not stuck any more */
    assert_int_equal(agentproc_start(g->a[2]), 0);
    assert_true(rig_converge(g, 0, 10) > 0);
    st = rig_status(g, 0);
    assert_int_equal(json_array_size(json_object_get(st, "stuck_repos")), 0);
    assert_true(json_is_false(json_object_get(
        json_array_get(json_object_get(st, "repos"), 0), "stuck")));
    json_decref(st);
    /* complete: its stored clock is gone too */
    {
        PGresult *res = PQexec(db_conn(g->db), "SELECT count(*) FROM "
                               "tuf_repo_progress");

        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "0");
        PQclear(res);
    }
    g->passed = true;
}

/* A wanted artifact on no sled and staged nowhere: reported at once, its
 * repo marked failed after the (small) grace period; /metrics follows. */
static void test_replication__lost_and_metrics(void **state)
{
    struct rig *g = *state;
    static const char *const grace[] = {"--lost-grace", "2", NULL};
    static const char *const names[] = {
        "replicator_task_requests_total{operation=\"put_config\",result=\"ok\"}",
        "replicator_task_requests_total{operation=\"list\",result=\"ok\"}",
        "replicator_task_requests_total{operation=\"put\",result=\"err\"}",
        "replicator_task_runs_total", "replicator_task_generation",
        "replicator_task_local_repos", "replicator_task_requests_deferred",
        "replicator_task_isolated_sleds", "replicator_task_lost_artifacts",
        "replicator_task_generation_held", "replicator_task_last_run_ok",
        "replicator_task_repos_replicated_total",
        "replicator_task_repos_failed_total"};
    static const uint64_t sl[] = {91, 92};
    char hl[2][HEX_LEN];
    struct failed_arg fa;
    double runs0, runs1, lists0, lists1, v;
    char *m0, *m1;
    json_t *st, *lost;

    rig_up(g, 3, grace);
    m0 = metrics_text(g);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_true(metric(&v, m0, names[i]));
    rig_record_repo(g, "9.9.9", sl, 2, hl);
    json_decref(rig_activate(g, 0));
    st = rig_status(g, 0);
    lost = json_object_get(st, "lost_artifacts");
    assert_int_equal(json_array_size(lost), 2);
    assert_true(!strcmp(json_string_value(json_object_get(
                            json_array_get(lost, 0), "sha256")), hl[0]) ||
                !strcmp(json_string_value(json_object_get(
                            json_array_get(lost, 0), "sha256")), hl[1]));
    assert_int_equal(json_integer_value(json_object_get(
                         st, "repos_failed_total")), 0);
    json_decref(st);
    fa.g = g;
    assert_true(testutil_wait_for(repo_marked_failed, &fa, 15000));
    st = rig_status(g, 0);
    assert_int_equal(json_integer_value(json_object_get(
                         st, "repos_failed_total")), 1);
    json_decref(st);
    m1 = metrics_text(g);
    assert_true(metric(&runs0, m0, "replicator_task_runs_total"));
    assert_true(metric(&runs1, m1, "replicator_task_runs_total"));
    assert_true(runs1 >= runs0 + 2);
    assert_true(metric(&lists0, m0, names[1]));
    assert_true(metric(&lists1, m1, names[1]));
    assert_true(lists1 >= lists0 + 3 * 2);
    assert_true(metric(&v, m1, "replicator_task_lost_artifacts"));
    assert_true(v == 2);
    assert_true(metric(&v, m1, "replicator_task_repos_failed_total"));
    assert_true(v == 1);
    assert_true(metric(&v, m1, "replicator_task_last_run_ok"));
    mem_free(m0);
    mem_free(m1);
    g->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replication__converge_share_prune, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__cli, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__late_and_wiped, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__stale_sled, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__guard, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__two_instances, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__periodic, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__lost_and_metrics, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_replication__issue_12_stuck,
                                        rig_setup, rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
