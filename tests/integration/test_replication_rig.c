/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_replication_rig: the rig shared by the task's integration and
 * fault tests (see test_replication_rig.h). Test-process only.
 */
#include "tests/integration/test_replication_rig.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>

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


static struct pg *rig_pg;

struct pg *rig_pg_get(void)
{
    return rig_pg;
}

bool rig_file_contains(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    bool found;

    if (testutil_read_file(&text, &len, path) < 0)
        return false;
    found = strstr(text, needle) != NULL;
    mem_free(text);
    return found;
}

int rig_inst_start(struct rig *g, struct inst *in, const char *name,
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
    /* A restart on the same name must not read the old port. */
    (void)unlink(pf);
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

void rig_inst_stop(struct inst *in)
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

int rig_agent_start(struct rig *g, size_t i)
{
    return rig_agent_start_args(g, i, NULL, NULL);
}

int rig_agent_start_args(struct rig *g, size_t i, const char *x1,
                         const char *x2)
{
    const char *extra[] = {x1, x2, NULL};

    return rig_agent_start_argv(g, i, x1 ? extra : NULL);
}

int rig_agent_start_argv(struct rig *g, size_t i, const char *const *extra)
{
    char reg[96], id[40];
    const char *args[16] = {"--replicator", reg, "--id", id, NULL};
    size_t k = 4;

    for (size_t j = 0; extra && extra[j] && k < 15; j++)
        args[k++] = extra[j];
    args[k] = NULL;

    /* A stable identity, as a real sled has across restarts. */
    snprintf(reg, sizeof(reg), "%s", g->in[0].url);
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zu", i + 1);
    assert_int_equal(agentproc_new(&g->a[i], args), 0);
    return agentproc_start(g->a[i]);
}

json_t *rig_get_json(const char *base, const char *path)
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

json_t *rig_post_json(const char *base, const char *path, long *code)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *j = NULL;

    snprintf(url, sizeof(url), "%s%s", base, path);
    *code = 0;
    if (http_client_send(&resp, "POST", url, NULL, 0) == 0) {
        *code = resp.status;
        j = http_client_json(&resp);
    }
    http_client_resp_release(&resp);
    return j;
}


bool rig_sleds_registered(void *p)
{
    struct sleds_arg *a = p;
    json_t *j = rig_get_json(a->url, "/sled-agents");
    size_t n = json_array_size(json_object_get(j, "sleds"));

    json_decref(j);
    return n >= a->want;
}

void rig_up(struct rig *g, size_t n_agents, const char *const *extra)
{
    struct err err = ERR_INIT;
    struct sleds_arg sa;

    memset(g, 0, sizeof(*g));
    assert_int_equal(pg_create_db(&g->conninfo, rig_pg, "repl", &err), 0);
    assert_int_equal(db_open(&g->db, g->conninfo, &err), 0);
    assert_int_equal(db_migrate_to(NULL, g->db, -1, &err), 0);
    assert_int_equal(testutil_tmpdir(&g->tmp, "repl"), 0);
    assert_int_equal(rig_inst_start(g, &g->in[0], "r0", extra), 0);
    g->n_inst = 1;
    for (size_t i = 0; i < n_agents; i++)
        assert_int_equal(rig_agent_start(g, i), 0);
    g->n = n_agents;
    sa.url = g->in[0].url;
    sa.want = n_agents;
    assert_true(testutil_wait_for(rig_sleds_registered, &sa, 30000));
}

void rig_down(struct rig *g)
{
    if (!g->passed) {
        for (size_t i = 0; i < g->n_inst; i++)
            testutil_print_tail("replicator", g->in[i].log, 6000);
    }
    for (size_t i = 0; i < MAX_AGENTS; i++)
        agentproc_free(g->a[i]);
    for (size_t i = 0; i < 2; i++)
        rig_inst_stop(&g->in[i]);
    db_close(g->db);
    if (g->tmp && !getenv("RD_KEEP_TEST_DIRS"))
        testutil_rmrf(g->tmp);
    mem_free(g->tmp);
    mem_free(g->conninfo);
}

/* Stage repo `version` with artifacts of the given seeds into inst i. */
void rig_stage_repo(struct rig *g, size_t inst, const char *version,
                       const uint64_t *seeds, size_t n, char (*hex)[HEX_LEN])
{
    rig_stage_repo_len(g, inst, version, seeds, n, hex, ART_LEN);
}

static void stage_impl(struct rig *g, size_t inst, const char *version,
                       const uint64_t *seeds, size_t n,
                       char (*hex)[HEX_LEN], size_t len, bool stage);

void rig_stage_repo_len(struct rig *g, size_t inst, const char *version,
                        const uint64_t *seeds, size_t n,
                        char (*hex)[HEX_LEN], size_t len)
{
    stage_impl(g, inst, version, seeds, n, hex, len, true);
}

void rig_record_repo(struct rig *g, const char *version,
                     const uint64_t *seeds, size_t n, char (*hex)[HEX_LEN])
{
    stage_impl(g, 0, version, seeds, n, hex, ART_LEN, false);
}

static void stage_impl(struct rig *g, size_t inst, const char *version,
                       const uint64_t *seeds, size_t n,
                       char (*hex)[HEX_LEN], size_t len, bool stage)
{
    struct inst *in = &g->in[inst];
    struct repo_db_artifact arts[8];
    struct staging_artifact sarts[8];
    char names[8][32];
    struct repo_db_new nr;
    struct repo_db_insert_result res;
    struct staging_repo m;
    struct err err = ERR_INIT;
    char *dir = NULL, *buf = mem_alloc(len);

    assert_true(n <= 8);
    assert_non_null(buf);
    assert_int_equal(staging_tmp_path(&dir, in->st, "incoming", "", &err), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    memset(arts, 0, sizeof(arts));
    memset(sarts, 0, sizeof(sarts));
    for (size_t i = 0; i < n; i++) {
        char *path;

        testutil_pattern(buf, len, seeds[i], 0);
        assert_int_equal(sha256_digest(&arts[i].sha256, buf, len), 0);
        sha256_to_hex(hex[i], &arts[i].sha256);
        snprintf(names[i], sizeof(names[i]), "art-%llu",
                 (unsigned long long)seeds[i]);
        arts[i].length = len;
        arts[i].name = names[i];
        arts[i].version = "1.0.0";
        arts[i].kind = "zone";
        path = testutil_join(dir, hex[i]);
        assert_int_equal(testutil_write_file(path, buf, len), 0);
        mem_free(path);
        sarts[i].name = names[i];
        sarts[i].version = (char *)"1.0.0";
        sarts[i].kind = (char *)"zone";
        sarts[i].sha256 = arts[i].sha256;
        sarts[i].length = len;
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
    if (stage)
        assert_int_equal(staging_commit(in->st, &m, dir, &err), 0);
    else
        testutil_rmrf(dir);
    mem_free(dir);
    mem_free(buf);
}

/* POST activate?wait=1 on inst i; the run summary (new reference). */
json_t *rig_activate(struct rig *g, size_t inst)
{
    long code = 0;
    json_t *j = rig_post_json(g->in[inst].url,
                          "/background-tasks/tuf_artifact_replication/"
                          "activate?wait=1", &code);

    assert_int_equal(code, 200);
    assert_non_null(j);
    return j;
}

/* Activate until a run reports converged; returns the activations. */
int rig_converge(struct rig *g, size_t inst, int max)
{
    for (int i = 1; i <= max; i++) {
        json_t *s = rig_activate(g, inst);
        bool c = json_is_true(json_object_get(s, "converged"));

        json_decref(s);
        if (c)
            return i;
    }
    return -1;
}

/* Every listed agent holds exactly hexes, count 2, and 2*n files. */
bool rig_holds_exactly(struct agentproc *a, char (*hex)[HEX_LEN], size_t n)
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

bool rig_all_hold(struct rig *g, char (*hex)[HEX_LEN], size_t n)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->a[i] && !rig_holds_exactly(g->a[i], hex, n))
            return false;
    return true;
}


bool rig_all_hold_cond(void *p)
{
    struct hold_arg *h = p;

    return rig_all_hold(h->g, h->hex, h->n);
}

bool rig_wait_all_hold(struct rig *g, char (*hex)[HEX_LEN], size_t n)
{
    struct hold_arg h = {g, hex, n};

    return testutil_wait_for(rig_all_hold_cond, &h, RIG_HOLD_WAIT_MS);
}

struct one_hold {
    struct agentproc *a;
    char (*hex)[HEX_LEN];
    size_t n;
};

static bool one_holds_cond(void *p)
{
    struct one_hold *h = p;

    return rig_holds_exactly(h->a, h->hex, h->n);
}

bool rig_wait_holds_exactly(struct agentproc *a, char (*hex)[HEX_LEN],
                            size_t n)
{
    struct one_hold h = {a, hex, n};

    return testutil_wait_for(one_holds_cond, &h, RIG_HOLD_WAIT_MS);
}

json_t *rig_status(struct rig *g, size_t inst)
{
    json_t *j = rig_get_json(g->in[inst].url,
                         "/background-tasks/tuf_artifact_replication");

    assert_non_null(j);
    return j;
}

uint64_t rig_counter(const json_t *st, const char *which, const char *k)
{
    return (uint64_t)json_integer_value(
        json_object_get(json_object_get(st, which), k));
}

size_t rig_staged_count(struct rig *g, size_t inst)
{
    struct staging_repo *r = NULL;
    size_t n = 0;
    struct err err = ERR_INIT;

    assert_int_equal(staging_list(&r, &n, g->in[inst].st, &err), 0);
    staging_list_free(r, n);
    return n;
}

int rig_cli(struct rig *g, const char *a1, const char *a2, const char *a3)
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

int rig_group_setup(void **state)
{
    struct err err = ERR_INIT;

    (void)state;
    if (pg_start(&rig_pg, &err) < 0) {
        fprintf(stderr, "pg_start: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int rig_setup(void **state)
{
    *state = mem_calloc(1, sizeof(struct rig));
    return *state ? 0 : -1;
}

int rig_teardown(void **state)
{
    rig_down(*state);
    mem_free(*state);
    return 0;
}

int rig_group_teardown(void **state)
{
    (void)state;
    pg_stop(rig_pg);
    return 0;
}
