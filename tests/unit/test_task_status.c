/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of the pure parts of the reconciliation task: the status
 * ring buffer and counters, the mass-deletion guard decision, collect's
 * list parsing (bogus and unwanted hashes, generations ahead/behind) and
 * the inventory-to-plan-input mapping, and the shape of the status JSON
 * and metrics of a task that has not run (byte for byte).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "replicator/cli_omdb.h"
#include "replicator/db/sled_db.h"
#include "replicator/db/wanted_db.h"
#include "replicator/staging.h"
#include "replicator/task/collect.h"
#include "replicator/task/inv_trust.h"
#include "replicator/task/guard.h"
#include "replicator/task/plan.h"
#include "replicator/task/status.h"
#include "replicator/task/stuck.h"
#include "replicator/task/task.h"

/* task_status_json of a task that never ran, JSON_COMPACT. */
#define GOLDEN_STATUS \
    "{\"name\":\"tuf_artifact_replication\",\"state\":\"idle\",\"runs\":0" \
    ",\"generation\":0,\"local_repos\":0,\"requests_deferred\":0,\"last_r" \
    "un_counters\":{\"put_config_ok\":0,\"put_config_err\":0,\"list_ok\":" \
    "0,\"list_err\":0,\"put_ok\":0,\"put_err\":0,\"copy_ok\":0,\"copy_err" \
    "\":0,\"put_revocations_ok\":0,\"put_revocations_err\":0}" \
    ",\"lifetime_counters\":{\"put_config_ok\":0,\"put_config_err\":" \
    "0,\"list_ok\":0,\"list_err\":0,\"put_ok\":0,\"put_err\":0,\"copy_ok" \
    "\":0,\"copy_err\":0,\"put_revocations_ok\":0,\"put_revocations_er" \
    "r\":0},\"request_ring\":[],\"request_debug_ringbuf\":[]" \
    ",\"request_ring_size\":0,\"r" \
    "equest_ring_total\":0,\"repos_replicated_total\":0,\"repos_failed_to" \
    "tal\":0,\"bogus_entries_total\":0,\"last_run\":null,\"last_run_ok\":" \
    "false,\"sleds\":[],\"repos\":[],\"lost_artifacts\":[],\"grid\":null" \
    ",\"bytes\":{\"put\":0,\"copy\":0},\"isolated_sle" \
    "ds\":[],\"held_sleds\":[],\"stuck_repos\":[],\"prune\":null,\"database\":{\"available" \
    "\":true,\"unavailable_runs_total\":0},\"held_generations\":[],\"la" \
    "st_activation\":null,\"config\":" \
    "{\"period_secs\":300,\"periodic\":true,\"min_sled_replication\":3,\"" \
    "max_inflight\":0,\"max_per_target\":2,\"max_per_source\":2,\"stuck_" \
    "after_secs\":1200}}"
/* task_metrics of the same task. */
#define GOLDEN_METRICS \
    "# TYPE replicator_task_requests_total counter\n" \
    "replicator_task_requests_total{operation=\"put_config\"," \
    "result=\"ok\"} 0\n" \
    "replicator_task_requests_total{operation=\"put_config\"," \
    "result=\"err\"} 0\n" \
    "replicator_task_requests_total{operation=\"list\",result=\"ok\"} 0\n" \
    "replicator_task_requests_total{operation=\"list\",result=\"err\"} 0\n" \
    "replicator_task_requests_total{operation=\"put\",result=\"ok\"} 0\n" \
    "replicator_task_requests_total{operation=\"put\",result=\"err\"} 0\n" \
    "replicator_task_requests_total{operation=\"copy\",result=\"ok\"} 0\n" \
    "replicator_task_requests_total{operation=\"copy\",result=\"err\"} 0\n" \
    "replicator_task_requests_total{operation=\"put_revocations\"," \
    "result=\"ok\"} 0\n" \
    "replicator_task_requests_total{operation=\"put_revocations\"," \
    "result=\"err\"} 0\n" \
    "# TYPE replicator_task_runs_total counter\n" \
    "replicator_task_runs_total 0\n" \
    "# TYPE replicator_task_generation gauge\n" \
    "replicator_task_generation 0\n" \
    "# TYPE replicator_task_local_repos gauge\n" \
    "replicator_task_local_repos 0\n" \
    "# TYPE replicator_task_requests_deferred gauge\n" \
    "replicator_task_requests_deferred 0\n" \
    "# TYPE replicator_task_isolated_sleds gauge\n" \
    "replicator_task_isolated_sleds 0\n" \
    "# TYPE replicator_task_lost_artifacts gauge\n" \
    "replicator_task_lost_artifacts 0\n" \
    "# TYPE replicator_task_stuck_repos gauge\n" \
    "replicator_task_stuck_repos 0\n" \
    "# TYPE replicator_task_generation_held gauge\n" \
    "replicator_task_generation_held 0\n" \
    "# TYPE replicator_task_last_run_ok gauge\n" \
    "replicator_task_last_run_ok 0\n" \
    "# TYPE replicator_task_repos_replicated_total counter\n" \
    "replicator_task_repos_replicated_total 0\n" \
    "# TYPE replicator_task_repos_failed_total counter\n" \
    "replicator_task_repos_failed_total 0\n"

static void hash_of(struct sha256 *h, uint8_t b)
{
    memset(h, 0, sizeof(*h));
    memset(h->b, b, sizeof(h->b));
}

static void test_task_status__ring_wraps(void **state)
{
    struct status_ring r;
    struct status_entry e;
    struct sha256 h;
    json_t *j;

    (void)state;
    assert_int_equal(status_ring_init(&r, 4), 0);
    hash_of(&h, 0xab);
    for (int i = 0; i < 10; i++) {
        char sled[8];

        snprintf(sled, sizeof(sled), "s%d", i);
        status_entry_set(&e, i, sled, STATUS_OP_COPY, &h, "src", 7,
                         i % 2 ? "boom" : NULL);
        status_ring_push(&r, &e);
    }
    assert_int_equal(r.count, 4);
    assert_int_equal(r.total, 10);
    assert_string_equal(status_ring_get(&r, 0)->sled, "s9");
    assert_string_equal(status_ring_get(&r, 3)->sled, "s6");
    assert_null(status_ring_get(&r, 4));
    j = status_ring_json(&r, 1, 2);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 0), "sled")), "s8");
    assert_null(json_object_get(json_array_get(j, 0), "error"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 1), "error")), "boom");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 1), "operation")), "copy");
    assert_int_equal(strlen(json_string_value(json_object_get(
                         json_array_get(j, 1), "hash"))), 64);
    json_decref(j);
    status_ring_release(&r);
}

static void test_task_status__counters(void **state)
{
    struct status_counters a, b;
    struct status_entry e;
    json_t *j;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    status_entry_set(&e, 0, "s", STATUS_OP_PUT_CONFIG, NULL, NULL, 1, NULL);
    status_record(NULL, &a, &e);
    status_entry_set(&e, 0, "s", STATUS_OP_RECOPY, NULL, NULL, 1, "x");
    status_record(NULL, &a, &e);
    status_counters_add(&a, STATUS_OP_LIST, true);
    status_counters_add(&a, STATUS_OP_PUT, false);
    assert_int_equal(a.put_config_ok, 1);
    assert_int_equal(a.copy_err, 1);
    assert_int_equal(a.list_ok, 1);
    assert_int_equal(a.put_err, 1);
    assert_false(status_counters_ok(&a));
    status_counters_sum(&b, &a);
    status_counters_sum(&b, &a);
    assert_int_equal(b.copy_err, 2);
    j = status_counters_json(&b);
    assert_int_equal(json_integer_value(json_object_get(j, "put_err")), 2);
    assert_int_equal(json_object_size(j), 10);
    json_decref(j);
}

static void test_task_status__guard(void **state)
{
    struct guard_input g;
    char reason[GUARD_REASON_MAX];
    struct sha256 old[4], cur[2];

    (void)state;
    memset(&g, 0, sizeof(g));
    g.max_permille = 500;
    g.generation = 5;
    g.pushed_generation = 4;
    g.pushed_count = 6;
    g.repo_worth = 2;
    g.removed = 4; /* > half, > one repo */
    assert_int_equal(guard_decide(&g, reason, sizeof(reason)), GUARD_HOLD);
    assert_non_null(strstr(reason, "confirm 5"));
    g.removed = 3; /* exactly half: pushed */
    assert_int_equal(guard_decide(&g, reason, sizeof(reason)), GUARD_PUSH);
    assert_string_equal(reason, "");
    g.removed = 4;
    g.repo_worth = 4; /* one repo's worth: pushed */
    assert_int_equal(guard_decide(&g, NULL, 0), GUARD_PUSH);
    g.repo_worth = 2;
    g.confirmed_generation = 5; /* confirmed */
    assert_int_equal(guard_decide(&g, NULL, 0), GUARD_PUSH);
    g.confirmed_generation = 0;
    g.pushed_generation = 0; /* nothing pushed yet */
    assert_int_equal(guard_decide(&g, NULL, 0), GUARD_PUSH);
    g.pushed_generation = 5; /* same generation */
    assert_int_equal(guard_decide(&g, NULL, 0), GUARD_PUSH);
    for (int i = 0; i < 4; i++)
        hash_of(&old[i], (uint8_t)(i + 1));
    cur[0] = old[1];
    hash_of(&cur[1], 9);
    assert_int_equal(guard_removed(old, 4, cur, 2), 3);
    assert_int_equal(guard_removed(old, 4, old, 4), 0);
    assert_int_equal(guard_removed(old, 4, NULL, 0), 4);
}

/* A wanted set of 3 artifacts in 2 repos, sorted. */
struct fixture {
    struct wanted_db w;
    struct wanted_db_artifact arts[3];
    char *repos_a[1], *repos_ab[2];
    struct collect_input ci;
};

static void fixture_init(struct fixture *f)
{
    static char ra[] = "1.0.0", rb[] = "2.0.0";
    struct plan_limits lim = PLAN_LIMITS_DEFAULT;
    struct err err = ERR_INIT;

    memset(f, 0, sizeof(*f));
    f->repos_a[0] = ra;
    f->repos_ab[0] = ra;
    f->repos_ab[1] = rb;
    for (int i = 0; i < 3; i++) {
        hash_of(&f->arts[i].sha256, (uint8_t)(0x10 * (i + 1)));
        f->arts[i].length = 100 + (uint64_t)i;
        f->arts[i].nrepos = i == 2 ? 2 : 1;
        f->arts[i].repos = i == 2 ? f->repos_ab : f->repos_a;
    }
    f->w.generation = 7;
    f->w.count = 3;
    f->w.artifacts = f->arts;
    assert_int_equal(collect_build(&f->ci, &f->w, NULL, 0, NULL, 0, &lim, 1,
                                   &err), 0);
}

static void test_task_status__parse_list(void **state)
{
    struct fixture f;
    struct collect_sled s;
    struct err err = ERR_INIT;
    char h1[65], h3[65], other[65];
    struct sha256 x;
    json_t *l;

    (void)state;
    fixture_init(&f);
    memset(&s, 0, sizeof(s));
    snprintf(s.id, sizeof(s.id), "sled-1");
    sha256_to_hex(h1, &f.arts[0].sha256);
    sha256_to_hex(h3, &f.arts[2].sha256);
    hash_of(&x, 0x77);
    sha256_to_hex(other, &x);
    l = json_pack("{s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:i, s:[s]}",
                  "generation", (json_int_t)7, "list", h1, 2, h3, 1, other, 2,
                  "NOT-A-HASH", 1, "zz", 2, "datasets", 2, "in_progress", h3);
    assert_int_equal(collect_parse_list(&s, l, 7, f.ci.arts, 3, &err), 0);
    assert_int_equal(s.n_inventory, 2);
    assert_int_equal(s.bogus, 3); /* unwanted + two malformed */
    assert_int_equal(s.datasets, 2);
    assert_int_equal(s.inventory[0].artifact, 0);
    assert_int_equal(s.inventory[0].count, 2);
    assert_int_equal(s.inventory[1].artifact, 2);
    assert_int_equal(s.inventory[1].count, 1);
    assert_int_equal(s.n_in_progress, 1);
    assert_int_equal(s.in_progress[0], 2);
    assert_false(s.pieces); /* no "features": a reference sled */
    json_object_set_new(l, "features", json_pack("[s, s]", "x", "pieces"));
    assert_int_equal(collect_parse_list(&s, l, 7, f.ci.arts, 3, &err), 0);
    assert_true(s.pieces); /* issue 13: it takes swarm copies */
    json_object_del(l, "features");
    assert_int_equal(s.n_failed_src, 0);
    /* issue 10: sources whose copies failed lately; non-strings ignored */
    json_object_set_new(l, "copy_sources_failed",
                        json_pack("[s, i, s]", "http://10.0.0.1:12348", 3,
                                  "https://[fd00::2]:12348"));
    assert_int_equal(collect_parse_list(&s, l, 7, f.ci.arts, 3, &err), 0);
    assert_int_equal(s.n_failed_src, 2);
    assert_string_equal(s.failed_src[0], "http://10.0.0.1:12348");
    assert_string_equal(s.failed_src[1], "https://[fd00::2]:12348");
    json_object_del(l, "copy_sources_failed");
    assert_int_equal(collect_parse_list(&s, l, 7, f.ci.arts, 3, &err), 0);
    assert_int_equal(s.n_failed_src, 0);
    /* ahead of G: isolate */
    assert_int_equal(collect_parse_list(&s, l, 6, f.ci.arts, 3, &err),
                     ERR_CONFLICT);
    assert_string_equal(err.error_code, "CONFIG_GENERATION");
    /* behind G */
    assert_int_equal(collect_parse_list(&s, l, 8, f.ci.arts, 3, &err),
                     ERR_INVAL);
    json_decref(l);
    l = json_pack("{s:s}", "generation", "x");
    assert_int_equal(collect_parse_list(&s, l, 7, f.ci.arts, 3, &err),
                     ERR_INVAL);
    json_decref(l);
    collect_sled_release(&s);
    collect_input_release(&f.ci);
}

static void test_task_status__build_input(void **state)
{
    struct fixture f;
    struct collect_input ci;
    struct collect_sled sleds[3];
    struct staging_repo staged;
    struct staging_artifact sa;
    struct plan_limits lim = PLAN_LIMITS_DEFAULT;
    struct err err = ERR_INIT;
    struct plan_holding inv = {0, 2};
    char path[] = "/staged/x";

    (void)state;
    fixture_init(&f);
    memset(sleds, 0, sizeof(sleds));
    memset(&staged, 0, sizeof(staged));
    memset(&sa, 0, sizeof(sa));
    sa.sha256 = f.arts[1].sha256;
    sa.length = f.arts[1].length;
    sa.path = path;
    staged.nartifacts = 1;
    staged.artifacts = &sa;
    snprintf(sleds[0].id, sizeof(sleds[0].id), "a");
    sleds[0].state = COLLECT_OK;
    sleds[0].datasets = 2;
    sleds[0].inventory = &inv;
    sleds[0].n_inventory = 1;
    sleds[1].state = COLLECT_ISOLATED;
    sleds[1].datasets = 2;
    sleds[2].state = COLLECT_UNREACHABLE;
    lim.min_sled_replication = 2;
    assert_int_equal(collect_build(&ci, &f.w, &staged, 1, sleds, 3, &lim, 9,
                                   &err), 0);
    assert_int_equal(ci.in.generation, 7);
    assert_int_equal(ci.in.n_artifacts, 3);
    assert_int_equal(ci.in.n_repos, 2);
    assert_string_equal(ci.repos[0].name, "1.0.0");
    assert_string_equal(ci.repos[1].name, "2.0.0");
    assert_false(ci.arts[0].staged);
    assert_true(ci.arts[1].staged);
    assert_string_equal(ci.staged_path[1], path);
    assert_int_equal(ci.arts[2].n_repos, 2);
    assert_int_equal(ci.sleds[0].state, PLAN_SLED_OK);
    assert_int_equal(ci.sleds[0].n_inventory, 1);
    assert_int_equal(ci.sleds[1].state, PLAN_SLED_ISOLATED);
    assert_int_equal(ci.sleds[1].healthy_datasets, 0);
    assert_int_equal(ci.sleds[2].state, PLAN_SLED_UNREACHABLE);
    assert_int_equal(ci.in.limits.min_sled_replication, 2);
    assert_int_equal(ci.in.seed, 9);
    /* the planner accepts it */
    {
        struct plan *p = NULL;

        assert_int_equal(plan_new(&p, &ci.in, &err), 0);
        /* artifact 1 is staged and held nowhere: PUT to the OK sled */
        assert_true(p->summary.puts >= 1);
        plan_free(p);
    }
    collect_input_release(&ci);
    collect_input_release(&f.ci);
}

static void test_task_status__sleds_from_db(void **state)
{
    struct sled_db_sled d[2];
    struct sled_db_list l = {2, d, false};
    struct collect_sled *s = NULL;
    struct err err = ERR_INIT;
    char a0[] = "127.0.0.1:4000", a1[] = "[::1]:5000";

    (void)state;
    memset(d, 0, sizeof(d));
    snprintf(d[0].id, sizeof(d[0].id), "id0");
    d[0].api_address = a0;
    d[0].repo_depot_port = 4001;
    snprintf(d[1].id, sizeof(d[1].id), "id1");
    d[1].api_address = a1;
    d[1].repo_depot_port = 12348;
    assert_int_equal(collect_sleds_from_db(&s, &l, false, &err), 0);
    assert_string_equal(s[0].api_url, "http://127.0.0.1:4000");
    assert_string_equal(s[0].depot_url, "http://127.0.0.1:4001");
    assert_string_equal(s[1].api_url, "http://[::1]:5000");
    assert_string_equal(s[1].depot_url, "http://[::1]:12348");
    collect_sleds_free(s, 2);
    /* TLS on: https:// URLs */
    assert_int_equal(collect_sleds_from_db(&s, &l, true, &err), 0);
    assert_string_equal(s[0].api_url, "https://127.0.0.1:4000");
    assert_string_equal(s[1].depot_url, "https://[::1]:12348");
    collect_sleds_free(s, 2);
    d[1].repo_depot_port = 0; /* no sentinel ports */
    assert_int_equal(collect_sleds_from_db(&s, &l, false, &err), 0);
    assert_int_equal(s[0].state, COLLECT_PENDING);
    assert_int_equal(s[1].state, COLLECT_INVALID_ADDRESS);
    assert_non_null(strstr(s[1].error, "depot port 0"));
    collect_sleds_free(s, 2);
}

/* Issue 9: the inventory-trust decision point. Plaintext trusts every
 * sled (no identities); with authenticated peers only a verified peer
 * whose id is the sled's own. */
static void test_task_status__issue_9_inventory_trust(void **state)
{
    struct collect_sled s;

    (void)state;
    memset(&s, 0, sizeof(s));
    snprintf(s.id, sizeof(s.id), "00000000-0000-4000-8000-000000000001");
    assert_true(sled_inventory_trusted(&s, false));
    assert_false(sled_inventory_trusted(&s, true));
    snprintf(s.peer_id, sizeof(s.peer_id), "%s", s.id);
    assert_false(sled_inventory_trusted(&s, true)); /* not verified */
    s.peer_verified = true;
    assert_true(sled_inventory_trusted(&s, true));
    snprintf(s.peer_id, sizeof(s.peer_id),
             "00000000-0000-4000-8000-000000000002");
    assert_false(sled_inventory_trusted(&s, true)); /* another sled */
}

static size_t count_kind(const struct plan *p, enum plan_kind k)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n_reqs; i++)
        n += p->reqs[i].kind == k;
    return n;
}

/*
 * Issue 9: fake inventories do not matter. Three sleds whose inventories
 * are not trusted (no verified identity) claim a staged artifact: it is
 * not "staged sufficient" (its staged copy is kept), it is still PUT to a
 * trusted sled, and the claimants may still serve as copy sources (a copy
 * is verified by hash on arrival). Once trusted, the same holdings count.
 */
static void test_task_status__issue_9_untrusted_inventory(void **state)
{
    struct plan_holding hold = {0, 2};
    uint32_t repo0 = 0;
    struct plan_artifact art;
    struct plan_repo repo = {"1.0.0"};
    struct plan_sled sl[6];
    struct plan_input in;
    struct plan *p = NULL;
    struct err e = ERR_INIT;

    (void)state;
    memset(&art, 0, sizeof(art));
    art.length = 1000;
    art.staged = true;
    art.repos = &repo0;
    art.n_repos = 1;
    memset(sl, 0, sizeof(sl));
    for (int s = 0; s < 6; s++) {
        sl[s].state = PLAN_SLED_OK;
        sl[s].healthy_datasets = 2;
        if (s < 3) {
            sl[s].inventory = &hold;
            sl[s].n_inventory = 1;
            sl[s].untrusted = true;
        }
    }
    memset(&in, 0, sizeof(in));
    in.generation = 2;
    in.artifacts = &art;
    in.n_artifacts = 1;
    in.repos = &repo;
    in.n_repos = 1;
    in.sleds = sl;
    in.n_sleds = 6;
    in.limits = (struct plan_limits)PLAN_LIMITS_DEFAULT;
    in.seed = 7;
    assert_int_equal(plan_new(&p, &in, &e), 0);
    assert_int_equal(p->summary.n_staged_sufficient, 0);
    assert_false(p->summary.repos[0].sufficient);
    assert_int_equal(p->summary.repos[0].on_min_sleds, 0);
    assert_int_equal(count_kind(p, PLAN_PUT), 1);
    assert_int_equal(count_kind(p, PLAN_COPY), 2);
    for (size_t i = 0; i < p->n_reqs; i++)
        assert_true(p->reqs[i].target >= 3); /* claimants left alone */
    plan_free(p);
    for (int s = 0; s < 3; s++)
        sl[s].untrusted = false;
    assert_int_equal(plan_new(&p, &in, &e), 0);
    assert_int_equal(p->summary.n_staged_sufficient, 1);
    assert_true(p->summary.repos[0].sufficient);
    assert_int_equal(count_kind(p, PLAN_PUT), 0);
    assert_int_equal(count_kind(p, PLAN_COPY), 3);
    plan_free(p);
}

/* Issue 9: one registration with a malformed address (an old row, or
 * written by SQL) is reported and skipped; the others are collected. */
static void test_task_status__issue_9_invalid_address(void **state)
{
    static const char *bad[] = {"localhost:12345", "10.0.0.1", "::1:80",
                                "[::1]:0", "0x7f.1:80", "10.0.0.1:99999",
                                "", "[fe80::1%eth0]:80", "10.0.0.01:80"};
    struct sled_db_sled d[2];
    struct sled_db_list l = {2, d, false};
    struct collect_sled *s = NULL;
    struct err err = ERR_INIT;
    char a0[] = "127.0.0.1:4000";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(d, 0, sizeof(d));
        snprintf(d[0].id, sizeof(d[0].id), "id0");
        d[0].api_address = a0;
        d[0].repo_depot_port = 4001;
        snprintf(d[1].id, sizeof(d[1].id), "id1");
        d[1].api_address = (char *)bad[i];
        d[1].repo_depot_port = 12348;
        assert_int_equal(collect_sleds_from_db(&s, &l, false, &err), 0);
        assert_int_equal(s[0].state, COLLECT_PENDING);
        assert_string_equal(s[0].api_url, "http://127.0.0.1:4000");
        assert_int_equal(s[1].state, COLLECT_INVALID_ADDRESS);
        assert_non_null(strstr(s[1].error, "is not IP:PORT"));
        collect_sleds_free(s, 2);
    }
}


/* issue 12: the reference's request_debug_ringbuf, built from our ring:
 * its operation names and per-operation fields, oldest first within the
 * page, recopy as copy, put_revocations left out. */
#define HEX_AB "abababababababababababababababababababababababababababababababab"
#define GOLDEN_OMICRON_RING \
    "[{\"time\":\"2026-12-05T00:00:01.001Z\",\"target_sled\":\"s1\"," \
    "\"operation\":\"put_config\",\"generation\":7}," \
    "{\"time\":\"2026-12-05T00:00:02.002Z\",\"target_sled\":\"s2\"," \
    "\"operation\":\"list\",\"error\":\"connection refused\"}," \
    "{\"time\":\"2026-12-05T00:00:03.003Z\",\"target_sled\":\"s3\"," \
    "\"operation\":\"put\",\"hash\":\"" HEX_AB "\"}," \
    "{\"time\":\"2026-12-05T00:00:04.004Z\",\"target_sled\":\"s4\"," \
    "\"operation\":\"copy\",\"hash\":\"" HEX_AB "\",\"source_sled\":\"s3\"}," \
    "{\"time\":\"2026-12-05T00:00:05.005Z\",\"target_sled\":\"s5\"," \
    "\"operation\":\"copy\",\"hash\":\"" HEX_AB "\",\"source_sled\":\"s1\"," \
    "\"error\":\"409\"}]"

/* 2026-12-05T00:00:00Z */
#define T0_MS 1796428800000LL

static void fill_ring(struct status_ring *r)
{
    struct sha256 h;
    struct status_entry e;

    hash_of(&h, 0xab);
    status_entry_set(&e, T0_MS + 1001, "s1", STATUS_OP_PUT_CONFIG, NULL,
                     NULL, 7, NULL);
    status_ring_push(r, &e);
    status_entry_set(&e, T0_MS + 2002, "s2", STATUS_OP_LIST, NULL, NULL, 7,
                     "connection refused");
    status_ring_push(r, &e);
    status_entry_set(&e, T0_MS + 3003, "s3", STATUS_OP_PUT, &h, NULL, 7,
                     NULL);
    status_ring_push(r, &e);
    status_entry_set(&e, T0_MS + 3500, "s3", STATUS_OP_PUT_REVOCATIONS, NULL,
                     NULL, 7, NULL);
    status_ring_push(r, &e);
    status_entry_set(&e, T0_MS + 4004, "s4", STATUS_OP_COPY, &h, "s3", 7,
                     NULL);
    status_ring_push(r, &e);
    status_entry_set(&e, T0_MS + 5005, "s5", STATUS_OP_RECOPY, &h, "s1", 7,
                     "409");
    status_ring_push(r, &e);
}

static void test_task_status__issue_12_omicron_ringbuf(void **state)
{
    struct status_ring r;
    char t[STATUS_TIME_LEN];
    json_t *j;
    char *s;

    (void)state;
    assert_int_equal(status_ring_init(&r, 16), 0);
    j = status_ring_omicron_json(&r, 0, 10);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    fill_ring(&r);
    j = status_ring_omicron_json(&r, 0, 100);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, GOLDEN_OMICRON_RING);
    mem_free(s);
    json_decref(j);
    /* the page is the newest two (recopy, copy), listed oldest first */
    j = status_ring_omicron_json(&r, 0, 2);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 0), "target_sled")), "s4");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(j, 1), "target_sled")), "s5");
    json_decref(j);
    /* a page holding only the put_revocations entry is empty */
    j = status_ring_omicron_json(&r, 2, 1);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    /* offset past the end, limit 0 */
    j = status_ring_omicron_json(&r, 6, 10);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    j = status_ring_omicron_json(&r, 0, 0);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    assert_null(status_entry_omicron_json(status_ring_get(&r, 2)));
    status_ring_release(&r);
    /* times: clamped, never malformed */
    status_time_rfc3339(t, -5);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    status_time_rfc3339(t, INT64_MAX);
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
    status_time_rfc3339(t, T0_MS + 59999);
    assert_string_equal(t, "2026-12-05T00:00:59.999Z");
}

#define GOLDEN_OMDB \
    "task: \"tuf_artifact_replication\"\n" \
    "  configured period: every 5m\n" \
    "  currently executing: no\n" \
    "  last completed activation: iter 3, triggered by a periodic timer " \
    "firing\n" \
    "    started at 2026-12-05T00:00:00.500Z (61s ago) and ran for 1234ms\n" \
    "    request ringbuf:\n" \
    "      - target sled: s1\n" \
    "        operation: PutConfig { generation: Generation(7) }\n" \
    "        at: 2026-12-05T00:00:01Z\n" \
    "      - target sled: s2\n" \
    "        operation: List\n" \
    "        at: 2026-12-05T00:00:02Z\n" \
    "        error: connection refused\n" \
    "      - target sled: s3\n" \
    "        operation: Put { hash: ArtifactHash(\"" HEX_AB "\") }\n" \
    "        at: 2026-12-05T00:00:03Z\n" \
    "      - target sled: s4\n" \
    "        operation: Copy { hash: ArtifactHash(\"" HEX_AB "\"), " \
    "source_sled: s3 (sled) }\n" \
    "        at: 2026-12-05T00:00:04Z\n" \
    "      - target sled: s5\n" \
    "        operation: Copy { hash: ArtifactHash(\"" HEX_AB "\"), " \
    "source_sled: s1 (sled) }\n" \
    "        at: 2026-12-05T00:00:05Z\n" \
    "        error: 409\n" \
    "    last run:\n" \
    "      put config ok:    1\n" \
    "      put config err:   0\n" \
    "      list ok:          0\n" \
    "      list err:         1\n" \
    "      put ok:           1\n" \
    "      put err:          0\n" \
    "      copy ok:          1\n" \
    "      copy err:         1\n" \
    "    lifetime:\n" \
    "      put config ok:   10\n" \
    "      put config err:   0\n" \
    "      list ok:          0\n" \
    "      list err:         1\n" \
    "      put ok:           1\n" \
    "      put err:          0\n" \
    "      copy ok:          1\n" \
    "      copy err:       123\n" \
    "    local repos: 2\n\n"

static char *omdb_of(const char *doc, int64_t now)
{
    json_error_t je;
    json_t *st = json_loads(doc, 0, &je);
    struct buf b = BUF_INIT;

    assert_int_equal(cli_omdb_render(&b, st, now), 0);
    json_decref(st);
    return buf_take(&b);
}

/* issue 12: `replicator status --format omdb` prints omdb's lines for the
 * task; a never-run task, a failed load and documents that are not a
 * status are rendered without crashing. */
static void test_task_status__issue_12_omdb(void **state)
{
    struct status_ring r;
    struct status_counters last, life;
    json_t *st;
    char *s;
    struct buf b = BUF_INIT;

    (void)state;
    assert_int_equal(status_ring_init(&r, 16), 0);
    fill_ring(&r);
    memset(&last, 0, sizeof(last));
    last.put_config_ok = 1;
    last.list_err = 1;
    last.put_ok = 1;
    last.copy_ok = 1;
    last.copy_err = 1;
    life = last;
    life.put_config_ok = 10;
    life.copy_err = 123;
    st = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:{s:I, s:s, s:I, s:I},"
                   " s:{s:s, s:I}, s:{s:I}}",
                   "state", "idle", "runs", (json_int_t)3, "local_repos",
                   (json_int_t)2, "last_run_counters",
                   status_counters_json(&last), "lifetime_counters",
                   status_counters_json(&life), "request_debug_ringbuf",
                   status_ring_omicron_json(&r, 0, 100), "last_run", "run",
                   (json_int_t)3, "reason", "periodic", "started_ms",
                   (json_int_t)(T0_MS + 500), "duration_ms",
                   (json_int_t)1234, "last_activation", "reason",
                   "periodic", "time_ms", (json_int_t)(T0_MS + 500),
                   "config", "period_secs", (json_int_t)300);
    assert_non_null(st);
    assert_int_equal(cli_omdb_render(&b, st, T0_MS + 61600), 0);
    assert_string_equal(b.data, GOLDEN_OMDB);
    buf_release(&b);
    json_decref(st);
    status_ring_release(&r);

    /* never ran; running now */
    s = omdb_of("{\"state\":\"collecting\",\"runs\":0,\"last_run\":null,"
                "\"last_activation\":{\"reason\":\"upload\",\"time_ms\":"
                "1796428800000},\"last_run_counters\":{},"
                "\"request_debug_ringbuf\":[],\"config\":{\"period_secs\":"
                "5430}}", T0_MS + 250);
    assert_string_equal(s, "task: \"tuf_artifact_replication\"\n"
                           "  configured period: every 1h 30m 30s\n"
                           "  currently executing: iter 1, triggered by an "
                           "explicit signal\n"
                           "    started at 2026-12-05T00:00:00.000Z, running "
                           "for 250ms\n"
                           "  last completed activation: never\n");
    mem_free(s);
    /* the last run failed to load: omdb prints the error and stops */
    s = omdb_of("{\"state\":\"idle\",\"runs\":1,\"last_run\":{\"run\":1,"
                "\"reason\":\"manual\",\"started_ms\":0,\"duration_ms\":3,"
                "\"error\":\"database: connection refused\"},"
                "\"last_run_counters\":{},\"request_debug_ringbuf\":[],"
                "\"config\":{\"period_secs\":0}}", 1000);
    assert_non_null(strstr(s, "  configured period: every 0s\n"));
    assert_non_null(strstr(s, "    last completion reported error: "
                              "database: connection refused\n\n"));
    assert_null(strstr(s, "request ringbuf"));
    mem_free(s);
    /* an empty ring, missing counters read as 0 */
    s = omdb_of("{\"state\":\"idle\",\"runs\":1,\"last_run\":{\"run\":1,"
                "\"reason\":\"sled\"},\"last_run_counters\":{},"
                "\"request_debug_ringbuf\":[{}, 5]}", 0);
    assert_non_null(strstr(s, "      - target sled: \n"));
    assert_non_null(strstr(s, "      copy err:         0\n"));
    mem_free(s);
    s = omdb_of("{\"state\":\"idle\",\"last_run\":{},\"last_run_counters\":"
                "{},\"request_debug_ringbuf\":[]}", 0);
    assert_non_null(strstr(s, "      [no entries]\n"));
    mem_free(s);
    /* not a task status */
    s = omdb_of("[1, 2]", 0);
    assert_non_null(strstr(s, "warning: failed to interpret task details"));
    mem_free(s);
    s = omdb_of("{\"request_debug_ringbuf\":{}, \"last_run_counters\":{}}",
                0);
    assert_non_null(strstr(s, "warning: failed to interpret task details"));
    mem_free(s);
    assert_int_equal(cli_omdb_render(&b, NULL, 0), 0);
    assert_non_null(strstr(b.data, "warning"));
    buf_release(&b);
}

/* issue 12: the convergence clock of incomplete repos. */
static void test_task_status__issue_12_stuck_clock(void **state)
{
    struct stuck_tracker t = STUCK_TRACKER_INIT;
    struct stuck_repo v[3] = {{"1.0.0", 2, 8}, {"2.0.0", 8, 8},
                              {NULL, 0, 4}};
    const struct stuck_entry *e;

    (void)state;
    assert_null(stuck_find(&t, "1.0.0"));
    assert_false(stuck_is(NULL, 0, 0));
    assert_int_equal(stuck_update(&t, v, 3, 1000), 0);
    /* complete and unnamed repos are not tracked */
    assert_int_equal(t.n, 1);
    assert_null(stuck_find(&t, "2.0.0"));
    assert_null(stuck_find(&t, NULL));
    e = stuck_find(&t, "1.0.0");
    assert_int_equal(e->since_ms, 1000);
    assert_false(stuck_is(e, 1999, 1));
    assert_true(stuck_is(e, 2000, 1));
    /* a clock that goes back is never stuck */
    assert_false(stuck_is(e, 999, 0));
    /* no growth (fewer copies: a sled went away): the clock runs on */
    v[0].held = 1;
    assert_int_equal(stuck_update(&t, v, 1, 5000), 0);
    e = stuck_find(&t, "1.0.0");
    assert_int_equal(e->since_ms, 1000);
    assert_int_equal(e->best, 2);
    /* back to the best seen: still no growth */
    v[0].held = 2;
    assert_int_equal(stuck_update(&t, v, 1, 6000), 0);
    assert_int_equal(stuck_find(&t, "1.0.0")->since_ms, 1000);
    assert_true(stuck_is(stuck_find(&t, "1.0.0"), 6000, 5));
    /* growth restarts the clock */
    v[0].held = 3;
    assert_int_equal(stuck_update(&t, v, 1, 7000), 0);
    e = stuck_find(&t, "1.0.0");
    assert_int_equal(e->since_ms, 7000);
    assert_int_equal(e->best, 3);
    assert_false(stuck_is(e, 7000, 1));
    assert_true(stuck_is(e, 7000, 0));
    /* a huge stuck_after does not overflow */
    assert_false(stuck_is(e, INT64_MAX, UINT64_MAX));
    /* complete: forgotten; incomplete again later: a new clock */
    v[0].held = 8;
    assert_int_equal(stuck_update(&t, v, 1, 8000), 0);
    assert_null(stuck_find(&t, "1.0.0"));
    v[0].held = 7;
    assert_int_equal(stuck_update(&t, v, 1, 9000), 0);
    assert_int_equal(stuck_find(&t, "1.0.0")->since_ms, 9000);
    /* no longer wanted: forgotten */
    assert_int_equal(stuck_update(&t, v + 1, 1, 9500), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(stuck_update(&t, NULL, 0, 9600), 0);
    stuck_release(&t);
    stuck_release(&t);
}

/* The status document and metrics of a new task, byte for byte: their
 * shape (keys, order, types) is an interface (replicator status, tests,
 * dashboards). */
static void test_task_status__json_shape(void **state)
{
    struct event_base *base = event_base_new();
    struct task_config cfg;
    struct task *t = NULL;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT;
    json_t *v;
    char *s;

    (void)state;
    task_config_default(&cfg);
    cfg.db = "host=/nonexistent-rackdepot dbname=x";
    assert_int_equal(task_new(&t, base, &cfg, NULL, &err), 0);
    v = task_status_json(t, 0, 256);
    assert_non_null(v);
    s = json_dumps(v, JSON_COMPACT);
    assert_non_null(s);
    assert_string_equal(s, GOLDEN_STATUS);
    mem_free(s); /* jansson uses the C allocator; mem_free is free */
    json_decref(v);
    assert_int_equal(task_metrics(t, &b), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, GOLDEN_METRICS);
    buf_release(&b);
    task_free(t);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_status__ring_wraps),
        cmocka_unit_test(test_task_status__counters),
        cmocka_unit_test(test_task_status__guard),
        cmocka_unit_test(test_task_status__parse_list),
        cmocka_unit_test(test_task_status__build_input),
        cmocka_unit_test(test_task_status__sleds_from_db),
        cmocka_unit_test(test_task_status__issue_9_invalid_address),
        cmocka_unit_test(test_task_status__issue_9_inventory_trust),
        cmocka_unit_test(test_task_status__issue_9_untrusted_inventory),
        cmocka_unit_test(test_task_status__json_shape),
        cmocka_unit_test(test_task_status__issue_12_omicron_ringbuf),
        cmocka_unit_test(test_task_status__issue_12_omdb),
        cmocka_unit_test(test_task_status__issue_12_stuck_clock),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
