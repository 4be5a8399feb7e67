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
#include "common/mem.h"
#include "common/sha256.h"
#include "replicator/db/db.h"
#include "replicator/db/db_migrate.h"
#include "replicator/db/repo_db.h"
#include "replicator/staging.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/pg.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define MAX_AGENTS 8
#define ART_LEN (48 * 1024)
#define HEX_LEN (SHA256_HEX_LEN + 1)

static struct pg *g_pg;

struct inst {
    char *dir;           /* staging */
    char *log;
    char url[64];
    struct proc *p;
    struct staging *st;
};

struct rig {
    char *conninfo;
    struct db *db;
    char *tmp;
    struct inst in[2];
    size_t n_inst;
    struct agentproc *a[MAX_AGENTS];
    size_t n;
    bool passed;
};

static int inst_start(struct rig *g, struct inst *in, const char *name,
                      const char *const *extra)
{
    char *bin = proc_bin_path("task_harness");
    char *pf = NULL;
    const char *argv[24];
    json_t *ports = NULL;
    size_t k = 0;
    int rc;
    struct err err = ERR_INIT;

    in->dir = testutil_join(g->tmp, name);
    in->log = testutil_join(g->tmp, name);
    mem_free(in->log);
    {
        char lname[64];

        snprintf(lname, sizeof(lname), "%s.log", name);
        in->log = testutil_join(g->tmp, lname);
        snprintf(lname, sizeof(lname), "%s.port", name);
        pf = testutil_join(g->tmp, lname);
    }
    argv[k++] = bin;
    argv[k++] = "--db";
    argv[k++] = g->conninfo;
    argv[k++] = "--staging";
    argv[k++] = in->dir;
    argv[k++] = "--port-file";
    argv[k++] = pf;
    argv[k++] = "--no-periodic";
    argv[k++] = "--copy-stall";
    argv[k++] = "20";
    for (size_t i = 0; extra && extra[i] && k < 22; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    rc = proc_spawn(&in->p, bin, (char *const *)argv, NULL, in->log);
    if (rc == 0)
        rc = proc_wait_port_file(&ports, pf, in->p, 60000);
    if (rc == 0) {
        snprintf(in->url, sizeof(in->url), "http://127.0.0.1:%d",
                 (int)json_integer_value(json_object_get(ports, "api")));
        rc = staging_open(&in->st, in->dir, &err);
    }
    if (rc < 0)
        testutil_print_tail(name, in->log, 4000);
    json_decref(ports);
    mem_free(bin);
    mem_free(pf);
    return rc;
}

static void inst_stop(struct inst *in)
{
    if (in->p) {
        proc_stop(in->p, 20000);
        proc_free(in->p);
    }
    staging_free(in->st);
    mem_free(in->dir);
    mem_free(in->log);
    memset(in, 0, sizeof(*in));
}

static int agent_start(struct rig *g, size_t i)
{
    char reg[96], id[40];
    const char *args[] = {"--replicator", reg, "--id", id, NULL};

    /* A stable identity, as a real sled has across restarts. */
    snprintf(reg, sizeof(reg), "%s", g->in[0].url);
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zu", i + 1);
    assert_int_equal(agentproc_new(&g->a[i], args), 0);
    return agentproc_start(g->a[i]);
}

static json_t *get_json(const char *base, const char *path)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *j = NULL;

    snprintf(url, sizeof(url), "%s%s", base, path);
    if (http_client_get(&resp, url) == 0 && resp.status == 200)
        j = http_client_json(&resp);
    http_client_resp_release(&resp);
    return j;
}

static json_t *post_json(const char *base, const char *path, long *status)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *j = NULL;

    snprintf(url, sizeof(url), "%s%s", base, path);
    *status = 0;
    if (http_client_send(&resp, "POST", url, NULL, 0) == 0) {
        *status = resp.status;
        j = http_client_json(&resp);
    }
    http_client_resp_release(&resp);
    return j;
}

struct sleds_arg {
    const char *url;
    size_t want;
};

static bool sleds_registered(void *p)
{
    struct sleds_arg *a = p;
    json_t *j = get_json(a->url, "/sled-agents");
    size_t n = json_array_size(json_object_get(j, "sleds"));

    json_decref(j);
    return n >= a->want;
}

static void rig_up(struct rig *g, size_t n_agents, const char *const *extra)
{
    struct err err = ERR_INIT;
    struct sleds_arg sa;

    memset(g, 0, sizeof(*g));
    assert_int_equal(pg_create_db(&g->conninfo, g_pg, "repl", &err), 0);
    assert_int_equal(db_open(&g->db, g->conninfo, &err), 0);
    assert_int_equal(db_migrate_to(NULL, g->db, -1, &err), 0);
    assert_int_equal(testutil_tmpdir(&g->tmp, "repl"), 0);
    assert_int_equal(inst_start(g, &g->in[0], "r0", extra), 0);
    g->n_inst = 1;
    for (size_t i = 0; i < n_agents; i++)
        assert_int_equal(agent_start(g, i), 0);
    g->n = n_agents;
    sa.url = g->in[0].url;
    sa.want = n_agents;
    assert_true(testutil_wait_for(sleds_registered, &sa, 30000));
}

static void rig_down(struct rig *g)
{
    if (!g->passed) {
        for (size_t i = 0; i < g->n_inst; i++)
            testutil_print_tail("replicator", g->in[i].log, 6000);
    }
    for (size_t i = 0; i < MAX_AGENTS; i++)
        agentproc_free(g->a[i]);
    for (size_t i = 0; i < 2; i++)
        inst_stop(&g->in[i]);
    db_close(g->db);
    if (g->tmp && !getenv("RD_KEEP_TEST_DIRS"))
        testutil_rmrf(g->tmp);
    mem_free(g->tmp);
    mem_free(g->conninfo);
}

/* Stage repo `version` with artifacts of the given seeds into inst i. */
static void stage_repo(struct rig *g, size_t inst, const char *version,
                       const uint64_t *seeds, size_t n, char (*hex)[HEX_LEN])
{
    struct inst *in = &g->in[inst];
    struct repo_db_artifact arts[8];
    struct staging_artifact sarts[8];
    char names[8][32];
    struct repo_db_new nr;
    struct repo_db_insert_result res;
    struct staging_repo m;
    struct err err = ERR_INIT;
    char *dir = NULL, *buf = mem_alloc(ART_LEN);

    assert_true(n <= 8);
    assert_non_null(buf);
    assert_int_equal(staging_tmp_path(&dir, in->st, "incoming", "", &err), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    memset(arts, 0, sizeof(arts));
    memset(sarts, 0, sizeof(sarts));
    for (size_t i = 0; i < n; i++) {
        char *path;

        testutil_pattern(buf, ART_LEN, seeds[i], 0);
        assert_int_equal(sha256_digest(&arts[i].sha256, buf, ART_LEN), 0);
        sha256_to_hex(hex[i], &arts[i].sha256);
        snprintf(names[i], sizeof(names[i]), "art-%llu",
                 (unsigned long long)seeds[i]);
        arts[i].length = ART_LEN;
        arts[i].name = names[i];
        arts[i].version = "1.0.0";
        arts[i].kind = "zone";
        path = testutil_join(dir, hex[i]);
        assert_int_equal(testutil_write_file(path, buf, ART_LEN), 0);
        mem_free(path);
        sarts[i].name = names[i];
        sarts[i].version = (char *)"1.0.0";
        sarts[i].kind = (char *)"zone";
        sarts[i].sha256 = arts[i].sha256;
        sarts[i].length = ART_LEN;
    }
    memset(&nr, 0, sizeof(nr));
    nr.system_version = version;
    sha256_digest(&nr.archive_sha256, version, strlen(version));
    nr.file_name = "repo.zip";
    nr.valid_until = 4102444800;
    nr.targets_role_version = 1;
    nr.nartifacts = n;
    nr.artifacts = arts;
    assert_int_equal(repo_db_insert(&res, g->db, &nr, &err), 0);
    memset(&m, 0, sizeof(m));
    snprintf(m.repo_id, sizeof(m.repo_id), "%s", res.repo_id);
    m.system_version = (char *)version;
    m.archive_sha256 = nr.archive_sha256;
    m.nartifacts = n;
    m.artifacts = sarts;
    assert_int_equal(staging_commit(in->st, &m, dir, &err), 0);
    mem_free(dir);
    mem_free(buf);
}

/* POST activate?wait=1 on inst i; the run summary (new reference). */
static json_t *activate(struct rig *g, size_t inst)
{
    long status = 0;
    json_t *j = post_json(g->in[inst].url,
                          "/background-tasks/tuf_artifact_replication/"
                          "activate?wait=1", &status);

    assert_int_equal(status, 200);
    assert_non_null(j);
    return j;
}

/* Activate until a run reports converged; returns the activations. */
static int converge(struct rig *g, size_t inst, int max)
{
    for (int i = 1; i <= max; i++) {
        json_t *s = activate(g, inst);
        bool c = json_is_true(json_object_get(s, "converged"));

        json_decref(s);
        if (c)
            return i;
    }
    return -1;
}

/* Every listed agent holds exactly hexes, count 2, and 2*n files. */
static bool holds_exactly(struct agentproc *a, char (*hex)[HEX_LEN], size_t n)
{
    json_t *l = NULL;
    struct err err = ERR_INIT;
    long files = -1;
    bool ok = agentproc_list(a, &l) == 200 && l;

    for (size_t i = 0; ok && i < n; i++)
        ok = json_integer_value(json_object_get(json_object_get(l, "list"),
                                                hex[i])) == 2;
    ok = ok && json_object_size(json_object_get(l, "list")) == n;
    json_decref(l);
    return ok && agentproc_check_files(a, &files, &err) == 0 &&
           files == (long)(2 * n);
}

static bool all_hold(struct rig *g, char (*hex)[HEX_LEN], size_t n)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->a[i] && !holds_exactly(g->a[i], hex, n))
            return false;
    return true;
}

struct hold_arg {
    struct rig *g;
    char (*hex)[HEX_LEN];
    size_t n;
};

static bool all_hold_cond(void *p)
{
    struct hold_arg *h = p;

    return all_hold(h->g, h->hex, h->n);
}

static json_t *status(struct rig *g, size_t inst)
{
    json_t *j = get_json(g->in[inst].url,
                         "/background-tasks/tuf_artifact_replication");

    assert_non_null(j);
    return j;
}

static uint64_t counter(const json_t *st, const char *which, const char *k)
{
    return (uint64_t)json_integer_value(
        json_object_get(json_object_get(st, which), k));
}

static size_t staged_count(struct rig *g, size_t inst)
{
    struct staging_repo *r = NULL;
    size_t n = 0;
    struct err err = ERR_INIT;

    assert_int_equal(staging_list(&r, &n, g->in[inst].st, &err), 0);
    staging_list_free(r, n);
    return n;
}

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
    stage_repo(g, 0, "1.0.0", sa, 4, ha);
    runs = converge(g, 0, 5);
    assert_true(runs >= 1 && runs <= 4);
    assert_true(all_hold(g, ha, 4));
    st = status(g, 0);
    /* at most min_sled_replication PUTs per artifact; the rest by copy */
    assert_true(counter(st, "lifetime_counters", "put_ok") <= 3 * 4);
    assert_true(counter(st, "lifetime_counters", "put_ok") >= 4);
    assert_true(counter(st, "lifetime_counters", "copy_ok") >= 6 * 4 - 12);
    assert_int_equal(counter(st, "lifetime_counters", "put_err") +
                         counter(st, "lifetime_counters", "copy_err"), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "local_repos")),
                     0);
    assert_true(json_array_size(json_object_get(st, "request_ring")) > 0);
    assert_int_equal(json_array_size(json_object_get(st, "sleds")), 6);
    json_decref(st);
    assert_int_equal(staged_count(g, 0), 0);
    /* nothing to do: only config puts and lists */
    s = activate(g, 0);
    assert_true(json_is_true(json_object_get(s, "converged")));
    json_decref(s);
    st = status(g, 0);
    assert_int_equal(counter(st, "last_run_counters", "put_config_ok"), 6);
    assert_int_equal(counter(st, "last_run_counters", "list_ok"), 6);
    assert_int_equal(counter(st, "last_run_counters", "put_ok") +
                         counter(st, "last_run_counters", "copy_ok"), 0);
    json_decref(st);
    /* a second repo sharing two artifacts */
    stage_repo(g, 0, "2.0.0", sb, 4, hb);
    memcpy(all, ha, sizeof(ha));
    memcpy(all[4], hb[2], HEX_LEN);
    memcpy(all[5], hb[3], HEX_LEN);
    runs = converge(g, 0, 5);
    assert_true(runs >= 1 && runs <= 4);
    assert_true(all_hold(g, all, 6));
    /* prune 1.0.0: its own two artifacts leave every sled */
    assert_int_equal(repo_db_prune(&pr, g->db, "1.0.0", &err), 0);
    assert_true(pr.bumped);
    s = activate(g, 0);
    assert_false(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    h.g = g;
    h.hex = hb;
    h.n = 4;
    assert_true(testutil_wait_for(all_hold_cond, &h, 30000));
    g->passed = true;
}

/* The CLI commands (cli_task_main, through the harness's cli mode). */
static int cli(struct rig *g, const char *a1, const char *a2, const char *a3)
{
    char *bin = proc_bin_path("task_harness");
    char *log = testutil_join(g->tmp, "cli.log");
    const char *argv[] = {bin, "cli", "--url", g->in[0].url, a1, a2, a3,
                          NULL};
    int code = -1;

    assert_int_equal(proc_run(&code, bin, (char *const *)argv, log, 60000),
                     0);
    mem_free(bin);
    mem_free(log);
    return code;
}

static void test_replication__cli(void **state)
{
    struct rig *g = *state;
    static const uint64_t sa[] = {61};
    char ha[1][HEX_LEN];

    rig_up(g, 4, NULL);
    stage_repo(g, 0, "1.0.0", sa, 1, ha);
    assert_int_equal(cli(g, "activate", NULL, NULL), 0);
    assert_int_equal(cli(g, "activate", "--no-wait", NULL), 0);
    assert_int_equal(cli(g, "status", NULL, NULL), 0);
    assert_int_equal(cli(g, "sled", "list", NULL), 0);
    assert_int_equal(cli(g, "sled", "bogus", NULL), 2);
    assert_int_equal(cli(g, "generation", "confirm", "99"), 1);
    assert_int_equal(cli(g, "generation", "bump", "--past-fleet"), 0);
    assert_int_equal(cli(g, "sled", "expunge",
                         "00000000-0000-4000-8000-000000000004"), 0);
    assert_int_equal(cli(g, "sled", "expunge",
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
    stage_repo(g, 0, "1.0.0", sa, 3, ha);
    assert_true(converge(g, 0, 5) > 0);
    assert_true(all_hold(g, ha, 3));
    assert_int_equal(agent_start(g, 4), 0);
    g->n = 5;
    sl.url = g->in[0].url;
    sl.want = 5;
    assert_true(testutil_wait_for(sleds_registered, &sl, 30000));
    assert_true(converge(g, 0, 4) > 0);
    assert_true(all_hold(g, ha, 3));
    /* wipe sled 0 */
    assert_int_equal(agentproc_stop(g->a[0], 20000), 0);
    for (int d = 0; d < 2; d++) {
        testutil_rmrf(agentproc_dataset(g->a[0], d));
        assert_int_equal(mkdir(agentproc_dataset(g->a[0], d), 0755), 0);
    }
    assert_int_equal(agentproc_start(g->a[0]), 0);
    assert_true(converge(g, 0, 4) > 0);
    assert_true(all_hold(g, ha, 3));
    g->passed = true;
}

/* A sled from a previous life is isolated while the others converge;
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
    stage_repo(g, 0, "1.0.0", sa, 2, ha);
    for (int i = 0; i < 3; i++)
        json_decref(activate(g, 0));
    for (size_t i = 0; i < 3; i++)
        assert_true(holds_exactly(g->a[i], ha, 2));
    st = status(g, 0);
    iso = json_object_get(st, "isolated_sleds");
    assert_int_equal(json_array_size(iso), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(iso, 0), "generation")), 100);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(iso, 0), "remedy")),
                           "bump --past-fleet"));
    id = json_string_value(json_object_get(json_array_get(iso, 0), "id"));
    assert_non_null(id);
    assert_int_equal(counter(st, "last_run_counters", "put_config_err"), 1);
    json_decref(st);
    s = post_json(g->in[0].url, "/generation/bump-past-fleet", &code);
    assert_int_equal(code, 200);
    assert_int_equal(json_integer_value(json_object_get(s, "fleet_max")), 100);
    assert_true(json_integer_value(json_object_get(s, "generation")) > 100);
    json_decref(s);
    assert_true(converge(g, 0, 4) > 0);
    assert_true(all_hold(g, ha, 2));
    st = status(g, 0);
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
    stage_repo(g, 0, "1.0.0", s1, 2, h1);
    stage_repo(g, 0, "2.0.0", s2, 2, h2);
    stage_repo(g, 0, "3.0.0", s3, 2, h3);
    memcpy(all[0], h1, sizeof(h1));
    memcpy(all[2], h2, sizeof(h2));
    memcpy(all[4], h3, sizeof(h3));
    assert_true(converge(g, 0, 5) > 0);
    assert_true(all_hold(g, all, 6));
    assert_int_equal(repo_db_prune(&pr, g->db, "1.0.0", &err), 0);
    assert_int_equal(repo_db_prune(&pr, g->db, "2.0.0", &err), 0);
    gen = pr.generation;
    s = activate(g, 0);
    assert_true(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    st = status(g, 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(
                         json_object_get(st, "held_generations"), 0),
                         "generation")), (json_int_t)gen);
    json_decref(st);
    assert_true(all_hold(g, all, 6)); /* nothing deleted */
    snprintf(path, sizeof(path), "/generation/%llu/confirm",
             (unsigned long long)gen);
    json_decref(post_json(g->in[0].url, path, &code));
    assert_int_equal(code, 200);
    s = activate(g, 0);
    assert_false(json_is_true(json_object_get(s, "held")));
    json_decref(s);
    h.g = g;
    h.hex = h3;
    h.n = 2;
    assert_true(testutil_wait_for(all_hold_cond, &h, 30000));
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
    assert_int_equal(inst_start(g, &g->in[1], "r1", NULL), 0);
    g->n_inst = 2;
    stage_repo(g, 0, "1.0.0", sx, 2, hx);
    stage_repo(g, 1, "2.0.0", sy, 2, hy);
    assert_int_equal(staged_count(g, 0), 1);
    assert_int_equal(staged_count(g, 1), 1);
    memcpy(all[0], hx, sizeof(hx));
    memcpy(all[2], hy, sizeof(hy));
    for (int i = 0; i < 6 && !all_hold(g, all, 4); i++) {
        json_decref(activate(g, i % 2));
    }
    h.g = g;
    h.hex = all;
    h.n = 4;
    assert_true(testutil_wait_for(all_hold_cond, &h, 20000));
    /* one more run each: both see sufficient replication and drop */
    json_decref(activate(g, 0));
    json_decref(activate(g, 1));
    assert_int_equal(staged_count(g, 0), 0);
    assert_int_equal(staged_count(g, 1), 0);
    g->passed = true;
}

static int group_setup(void **state)
{
    struct err err = ERR_INIT;

    (void)state;
    if (pg_start(&g_pg, &err) < 0) {
        fprintf(stderr, "pg_start: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int rig_setup(void **state)
{
    *state = mem_calloc(1, sizeof(struct rig));
    return *state ? 0 : -1;
}

static int rig_teardown(void **state)
{
    rig_down(*state);
    mem_free(*state);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_stop(g_pg);
    return 0;
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
    };

    mem_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
