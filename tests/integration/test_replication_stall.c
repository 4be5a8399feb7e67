/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration test of the reconciliation task with a copy source frozen
 * mid-copy (SIGSTOP through agentproc_proc()/proc_signal): a copy that no
 * later request of the run depends on is done for the run once the
 * target accepted it (docs/REPLICATION.md "One run", point 5), so the run
 * ends without waiting copy_stall_secs for a source it never talks to,
 * the other sleds converge meanwhile, and once the source resumes the
 * next activations finish the rack. Real PostgreSQL and sledagents (link
 * capped so a copy takes seconds) through the task rig.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define SLEDS 6
#define BIG (3u * 1024 * 1024)
#define TASK_PATH "/background-tasks/tuf_artifact_replication"

struct running_arg {
    struct rig *g;
    const char *hex;
    int target, source; /* found: agent indices */
};

/* Some sled copies hex from another and has received bytes of it. */
static bool copy_running(void *p)
{
    struct running_arg *ra = p;
    struct rig *g = ra->g;

    for (size_t i = 0; i < g->n; i++) {
        json_t *arr = rig_get_json(agentproc_api_url(g->a[i]), "/copies");
        const json_t *v;
        size_t k;
        uint64_t bytes = 0;

        json_array_foreach(arr, k, v) {
            const char *h = jsonu_str(v, "sha256"), *s = jsonu_str(v, "source");
            const char *st = jsonu_str(v, "state");

            if (!h || strcmp(h, ra->hex) || !s || !st ||
                strcmp(st, "running") ||
                jsonu_u64(&bytes, json_object_get(v, "bytes")) < 0 ||
                bytes == 0)
                continue;
            for (size_t j = 0; j < g->n; j++) {
                const char *d = agentproc_depot_url(g->a[j]);

                if (j != i && !strncmp(s, d, strlen(d))) {
                    ra->target = (int)i;
                    ra->source = (int)j;
                }
            }
        }
        json_decref(arr);
        if (ra->source >= 0)
            return true;
    }
    return false;
}

/* The task is idle after at least one run. */
static bool run_ended(void *p)
{
    struct rig *g = p;
    json_t *st = rig_get_json(g->in[0].url, TASK_PATH "?limit=1");
    const char *s = st ? jsonu_str(st, "state") : NULL;
    bool done = s && !strcmp(s, "idle") &&
                json_is_object(json_object_get(st, "last_run"));

    json_decref(st);
    return done;
}

struct others_arg {
    struct rig *g;
    const char *hex;
    bool skip[MAX_AGENTS];
};

/* Mark the sleds copying hex from depot (the frozen source's); sleds
 * already skipped (the frozen one) are not asked. */
static void mark_copying(struct others_arg *oa, const char *depot)
{
    for (size_t i = 0; i < oa->g->n; i++) {
        json_t *arr;
        const json_t *v;
        size_t k;

        if (oa->skip[i])
            continue;
        arr = rig_get_json(agentproc_api_url(oa->g->a[i]), "/copies");

        json_array_foreach(arr, k, v) {
            const char *h = jsonu_str(v, "sha256"), *s = jsonu_str(v, "source");

            if (h && !strcmp(h, oa->hex) && s &&
                !strncmp(s, depot, strlen(depot)))
                oa->skip[i] = true;
        }
        json_decref(arr);
    }
}

/* Every sled not skipped lists hex with count 2. */
static bool others_hold(void *p)
{
    struct others_arg *oa = p;

    for (size_t i = 0; i < oa->g->n; i++) {
        if (oa->skip[i])
            continue;
        if (agentproc_count(oa->g->a[i], oa->hex) != 2)
            return false;
    }
    return true;
}

static void test_replication_stall__frozen_copy_source(void **state)
{
    struct rig *g = *state;
    static const uint64_t seeds[] = {71};
    static const char *const agent_args[] = {"--rate-limit", "1048576",
                                             NULL};
    /* The controller PUTs to 3 sleds so the copies from their targets are
     * the last of their chain (nothing depends on them): the case tested.
     * With the default put_fanout 1 the first copies have dependents and
     * are waited for (copy_stall_secs). */
    static const char *const task_args[] = {"--put-fanout", "3", NULL};
    char hex[1][HEX_LEN];
    struct running_arg ra;
    struct others_arg oa;
    struct sleds_arg sa;
    struct hold_arg h;
    struct proc *src;
    int64_t frozen_ms;
    long code = 0;
    json_t *r, *st;

    rig_up(g, 0, task_args);
    for (size_t i = 0; i < SLEDS; i++)
        assert_int_equal(rig_agent_start_argv(g, i, agent_args), 0);
    g->n = SLEDS;
    sa.url = g->in[0].url;
    sa.want = SLEDS;
    assert_true(testutil_wait_for(rig_sleds_registered, &sa, 30000));
    rig_stage_repo_len(g, 0, "1.0.0", seeds, 1, hex, BIG);

    r = rig_post_json(g->in[0].url, TASK_PATH "/activate", &code);
    json_decref(r);
    assert_int_equal(code, 202);
    /* 3 PUTs (3 s each at 1 MiB/s), then copies from their targets. */
    ra.g = g;
    ra.hex = hex[0];
    ra.target = ra.source = -1;
    assert_true(testutil_wait_for(copy_running, &ra, 30000));
    src = agentproc_proc(g->a[ra.source]);
    assert_int_equal(proc_signal(src, SIGSTOP), 0);
    frozen_ms = testutil_now_ms();

    /* The run does not wait copy_stall_secs (20 s in the rig) for the
     * frozen source: it ended once the copies were accepted. */
    assert_true(testutil_wait_for(run_ended, g, 30000));
    assert_true(testutil_now_ms() - frozen_ms < 8000);
    /* Lifetime, not last-run, counters: an activation that arrived during
     * the run coalesces into one more run, which may already have ended
     * (the frozen sled unreachable, nothing to copy) when we look. */
    st = rig_status(g, 0);
    assert_int_equal(rig_counter(st, "lifetime_counters", "copy_err"), 0);
    assert_true(rig_counter(st, "lifetime_counters", "copy_ok") >= 1);
    json_decref(st);

    /* Every other sled converges while the source is frozen. */
    memset(&oa, 0, sizeof(oa));
    oa.g = g;
    oa.hex = hex[0];
    oa.skip[ra.source] = true;
    oa.skip[ra.target] = true;
    mark_copying(&oa, agentproc_depot_url(g->a[ra.source]));
    assert_true(testutil_wait_for(others_hold, &oa, 30000));

    /* The source resumes: the stalled copy finishes, the rack converges. */
    assert_int_equal(proc_signal(src, SIGCONT), 0);
    h.g = g;
    h.hex = hex;
    h.n = 1;
    assert_true(testutil_wait_for(rig_all_hold_cond, &h, 60000));
    assert_true(rig_converge(g, 0, 6) >= 1);
    assert_true(rig_all_hold(g, hex, 1));
    g->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_replication_stall__frozen_copy_source, rig_setup,
            rig_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup, rig_group_teardown);
}
