/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_db_ha_ops: issue 11's "primary killed mid-activation and
 * mid-prune" on `rack-sim up --db-ha` racks (pg_auto_failover monitor +
 * two synchronous nodes), 3 sleds, one replicator each, with invariants 1-3
 * of DESIGN.md section 8 on every poll and 4 at the end of each case.
 *
 * Mid-activation: on a rate-limited rack, 2.0.0 is uploaded and the
 * primary is killed while the run that distributes it is in its Execute
 * phase (its config at the new generation already on a sled, the sleds
 * not yet holding it). That run ends either complete or recorded as failed
 * with database_unavailable, never with another error; no sled's
 * generation goes backwards; the database's generation is still the
 * upload's; a later run converges every sled at that generation without
 * operator action, and the pushed generation gets recorded.
 *
 * Mid-prune: `replicator repo prune 1.0.0` races a primary kill. The
 * prune happened (pruned, generation bumped by one) or did not (neither),
 * never half; a prune the CLI reported done is in the database. A retried
 * prune after the failover succeeds, and once more is a no-op (same
 * generation, not bumped); the sleds then drop 1.0.0's artifacts.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/mem.h"
#include "sim/rack_pki.h"
#include "sim/rack_state.h"
#include "tests/e2e/e2e_dbha.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define SLEDS 3
#define SQL_GEN "SELECT generation FROM tuf_generation"

static void upload_converge(struct e2e *t, const char *zip, const char *what)
{
    json_decref(e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL));
    e2e_reload_wanted(t);
    e2e_wait_converged(t, E2E_ALL, 90000, what);
}

/* The summary of run id from replicator 0's log (task_run_done), or NULL
 * while that run has not ended (new reference). */
static json_t *run_summary(struct e2e *t, long long id)
{
    char dir[PATH_MAX], *path, *text = NULL, *line, *save = NULL;
    json_t *found = NULL;
    size_t len;

    rack_path_repl(dir, sizeof(dir), &t->r, 0);
    path = testutil_join(dir, "replicator.log");
    if (testutil_read_file(&text, &len, path) == 0) {
        for (line = strtok_r(text, "\n", &save); line && !found;
             line = strtok_r(NULL, "\n", &save)) {
            json_t *j, *sum;

            if (!strstr(line, "\"event\":\"task_run_done\""))
                continue;
            j = json_loads(line, 0, NULL);
            sum = json_object_get(j, "summary");
            if (json_integer_value(json_object_get(sum, "run")) == id)
                found = json_incref(sum);
            json_decref(j);
        }
    }
    mem_free(text);
    mem_free(path);
    return found;
}

struct mid_exec {
    uint64_t gen;  /* the generation being distributed */
    long long run; /* the run found in Execute */
};

/* The run of generation m->gen is executing: the task is in Execute, a
 * sled already has the config at that generation, and the sleds do not
 * hold the wanted set yet. */
static bool mid_execute(struct e2e *t, void *arg)
{
    struct mid_exec *m = arg;
    json_t *st;
    bool at_gen = false, ok;

    for (size_t k = 0; k < SLEDS; k++)
        at_gen |= t->poll.gen[k] == m->gen;
    if (!at_gen || e2e_converged(t, E2E_ALL))
        return false;
    st = e2e_task(t, 0);
    ok = !strcmp(json_string_value(json_object_get(st, "state")),
                 "executing");
    m->run = json_integer_value(json_object_get(st, "runs"));
    json_decref(st);
    return ok;
}

struct run_end {
    long long run;
    json_t *summary; /* set when the run has ended */
};

static bool run_ended(struct e2e *t, void *arg)
{
    struct run_end *e = arg;

    e->summary = run_summary(t, e->run);
    return e->summary != NULL;
}

/* Every sled converged at generation gen, and a run after `after` ended
 * converged, reading the database without an error. */
static bool converged_at(struct e2e *t, void *arg)
{
    const uint64_t *want = arg; /* [gen, after] */
    json_t *st, *last;
    bool ok;

    if (!e2e_converged(t, E2E_ALL))
        return false;
    for (size_t k = 0; k < SLEDS; k++)
        if (t->poll.gen[k] != want[0])
            return false;
    st = e2e_task(t, 0);
    last = json_object_get(st, "last_run");
    ok = json_integer_value(json_object_get(last, "run")) >
             (json_int_t)want[1] &&
         json_is_true(json_object_get(last, "converged")) &&
         !json_object_get(last, "error");
    json_decref(st);
    return ok;
}

static bool pushed(struct e2e *t, void *arg)
{
    const uint64_t *gen = arg;

    return e2e_db_value(t, "SELECT pushed_generation FROM "
                           "artifact_config_pushed") == (long long)*gen;
}

static void test_e2e_db_ha_ops__primary_killed_mid_activation(void **state)
{
    struct e2e *t = *state;
    char *z1 = e2e_mkrepo(t, "r1.zip", "1.0.0", 2, 64 * KIB, 211);
    char *z2 = e2e_mkrepo(t, "r2.zip", "2.0.0", 4, 2 * MIB, 212);
    struct mid_exec m = {0, 0};
    struct run_end e = {0, NULL};
    uint64_t before[SLEDS], want[2];
    const char *err;
    json_t *doc;

    /* 1 MiB/s: 2.0.0's 8 MiB take seconds to reach the sleds (the PUTs
     * of the run's Execute phase are capped too). */
    e2e_up(t, SLEDS, 1, "--db-ha", "--rate-limit", "1048576", (char *)NULL);
    upload_converge(t, z1, "1.0.0 converges");
    for (size_t k = 0; k < SLEDS; k++)
        before[k] = t->poll.gen[k];

    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    m.gen = (uint64_t)json_integer_value(json_object_get(doc, "generation"));
    json_decref(doc);
    assert_true(m.gen > before[0]);
    e2e_reload_wanted(t);
    e2e_wait(t, mid_execute, &m, 60000, "the run of 2.0.0 in Execute");
    e2e_sim(t, NULL, "db", "kill-primary", (char *)NULL);
    fprintf(stderr, "primary killed during run %lld (generation %llu)\n",
            m.run, (unsigned long long)m.gen);

    /* The run ends: complete, or failed for want of a database only. */
    e.run = m.run;
    e2e_wait(t, run_ended, &e, 120000, "the interrupted run ends");
    err = json_string_value(json_object_get(e.summary, "error"));
    fprintf(stderr, "run %lld ended: %s%s\n", m.run, err ? "failed: " : "ok",
            err ? err : "");
    if (err)
        assert_true(json_is_true(
            json_object_get(e.summary, "database_unavailable")));
    assert_int_equal(json_integer_value(json_object_get(e.summary,
                                                        "generation")),
                     m.gen);
    json_decref(e.summary);

    /* Nothing lost, nothing invented: the upload's generation, and later
     * runs converge every sled at it, which gets recorded as pushed. */
    assert_int_equal(e2e_db_value(t, SQL_GEN), m.gen);
    want[0] = m.gen;
    want[1] = (uint64_t)m.run;
    e2e_wait(t, converged_at, want, 120000,
             "the sleds converge at the new generation after the failover");
    e2e_wait(t, pushed, &m.gen, 60000, "the pushed generation is recorded");
    /* Each sled moved forward once, from 1.0.0's generation to 2.0.0's
     * (every poll in between checked it never went back). */
    for (size_t k = 0; k < SLEDS; k++) {
        assert_int_equal(before[k], before[0]);
        assert_int_equal(t->poll.gen[k], m.gen);
        assert_int_equal(t->poll.max_gen[k], m.gen);
    }
    assert_int_equal(t->poll.gen_decreases, 0);
    assert_int_equal(e2e_db_value(t, SQL_GEN), m.gen);
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "mid-activation scenario took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

/* `replicator --json repo prune 1.0.0` on replicator 0, run again while
 * the failover runs (the CLI retries a 503 itself, but not a refused
 * connection or a reply lost with the primary); the reply. */
static json_t *prune_retried(struct e2e *t)
{
    int64_t deadline = testutil_now_ms() + 90000;
    json_t *doc = NULL;

    while (testutil_now_ms() < deadline) {
        if (e2e_repl(t, 0, &doc, "repo", "prune", "1.0.0", (char *)NULL) == 0)
            return doc;
        json_decref(doc);
        doc = NULL;
        testutil_sleep_ms(1000);
    }
    fail_msg("repo prune 1.0.0 still failing 90 s after the failover");
    return NULL;
}

static void test_e2e_db_ha_ops__primary_killed_mid_prune(void **state)
{
    struct e2e *t = *state;
    char *z1 = e2e_mkrepo(t, "r1.zip", "1.0.0", 2, 64 * KIB, 221);
    char *z2 = e2e_mkrepo(t, "r2.zip", "2.0.0", 2, 64 * KIB, 222);
    char url[128], *plog = testutil_join(t->dir, "prune.log"), *text = NULL;
    char *klog = testutil_join(t->dir, "kill.log");
    char *pargv[] = {t->repl, "--url", url, "--json", "repo", "prune",
                     "1.0.0", NULL};
    char *kargv[] = {t->rs, "--dir", t->dir, "db", "kill-primary", NULL};
    struct proc *p = NULL, *k = NULL;
    long long gen, after, pruned;
    json_t *doc;
    size_t len;
    int code;

    e2e_up(t, SLEDS, 1, "--db-ha", (char *)NULL);
    upload_converge(t, z1, "1.0.0 converges");
    upload_converge(t, z2, "2.0.0 converges");
    gen = e2e_db_value(t, SQL_GEN);

    /* The prune and the kill race: both commands start together (the
     * kill lands before, during or after the prune's transaction). */
    e2e_repl_url(url, sizeof(url), t, 0);
    assert_int_equal(proc_spawn(&k, t->rs, kargv, NULL, klog), 0);
    rack_pki_cli_env(&t->r, true);
    assert_int_equal(proc_spawn(&p, t->repl, pargv, NULL, plog), 0);
    rack_pki_cli_env(&t->r, false);
    assert_int_equal(proc_wait(k, 120000), 0);
    if (proc_exit_code(k) != 0) {
        testutil_print_tail("db kill-primary", klog, 4000);
        fail_msg("rack-sim db kill-primary failed");
    }
    proc_free(k);
    json_decref(e2e_db_status(t)); /* and the rack's state reloaded */
    assert_int_equal(proc_wait(p, 180000), 0);
    code = proc_exit_code(p);
    proc_free(p);
    assert_int_equal(testutil_read_file(&text, &len, plog), 0);

    /* All or nothing, and a prune reported done is kept. */
    after = e2e_db_value(t, SQL_GEN);
    pruned = e2e_db_value(t, "SELECT count(*) FROM tuf_repo WHERE "
                             "system_version = '1.0.0' AND "
                             "time_pruned IS NOT NULL");
    fprintf(stderr, "prune during the kill: exit %d, pruned %lld, "
            "generation %lld -> %lld: %s\n", code, pruned, gen, after, text);
    assert_true((pruned == 1 && after == gen + 1) ||
                (pruned == 0 && after == gen));
    if (code == 0)
        assert_int_equal(pruned, 1);
    mem_free(text);

    /* Retried: done (bumping only if the first did not), then a no-op. */
    doc = prune_retried(t);
    assert_true(json_is_true(json_object_get(doc, "pruned")));
    assert_int_equal(json_integer_value(json_object_get(doc, "generation")),
                     gen + 1);
    assert_int_equal(json_is_true(json_object_get(doc, "generation_bumped")),
                     pruned == 0);
    json_decref(doc);
    doc = prune_retried(t);
    assert_int_equal(json_integer_value(json_object_get(doc, "generation")),
                     gen + 1);
    assert_false(json_is_true(json_object_get(doc, "generation_bumped")));
    json_decref(doc);
    assert_int_equal(e2e_db_value(t, SQL_GEN), gen + 1);

    /* The sleds drop 1.0.0's artifacts: only 2.0.0's are wanted. */
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 2);
    e2e_wait_converged(t, E2E_ALL, 90000, "the sleds drop the pruned repo");
    assert_int_equal(t->poll.gen_decreases, 0);
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "mid-prune scenario took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(plog);
    mem_free(klog);
    mem_free(z1);
    mem_free(z2);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-dbhaops");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_db_ha_ops__primary_killed_mid_activation, setup,
            e2e_teardown),
        cmocka_unit_test_setup_teardown(
            test_e2e_db_ha_ops__primary_killed_mid_prune, setup,
            e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
