/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of replicator/task/plan: scenario tests (simple replicate, new
 * sled, recopy, nothing/everything to do, sleds coming and going, lost and
 * at-risk artifacts, deferred counting, determinism) and a seeded property
 * check: every request valid for the state, limits held, requests plus
 * deferred equal the outstanding work, and plan-and-apply converges.
 * tests/integration/test_plan_property.c includes this file with
 * TEST_PLAN_PROPERTY_RUNS set to run the property check on many more states
 * (one copy of the checker, two ctest entries: unit fast, integration long).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/rng.h"
#include "replicator/task/plan.h"

#ifndef TEST_PLAN_PROPERTY_RUNS
#define TEST_PLAN_PROPERTY_RUNS 300
#endif

/* A rack state as a matrix, turned into a plan_input by world_build(). */
struct world {
    size_t ns, na, nr;
    uint8_t *cnt;   /* ns * na copies */
    uint8_t *prog;  /* ns * na write under way */
    uint32_t *healthy;
    uint64_t *room; /* writable_bytes; UINT64_MAX: the sled does not say */
    enum plan_sled_state *state;
    bool *staged;
    uint32_t *art_repo; /* one repo per artifact */
    char (*ids)[48];
    struct plan_holding *hold;
    uint32_t *progs;
    struct plan_sled *sleds;
    struct plan_artifact *arts;
    struct plan_repo *repos;
    struct plan_input in;
};

static struct world *world_new(size_t ns, size_t na, size_t nr)
{
    struct world *w = mem_calloc(1, sizeof(*w));

    assert_non_null(w);
    w->ns = ns;
    w->na = na;
    w->nr = nr;
    w->cnt = mem_calloc(ns * na + 1, 1);
    w->prog = mem_calloc(ns * na + 1, 1);
    w->healthy = mem_calloc(ns + 1, sizeof(*w->healthy));
    w->room = mem_calloc(ns + 1, sizeof(*w->room));
    w->state = mem_calloc(ns + 1, sizeof(*w->state));
    w->staged = mem_calloc(na + 1, sizeof(*w->staged));
    w->art_repo = mem_calloc(na + 1, sizeof(*w->art_repo));
    w->ids = mem_calloc(ns + 1, sizeof(*w->ids));
    w->hold = mem_calloc(ns * na + 1, sizeof(*w->hold));
    w->progs = mem_calloc(ns * na + 1, sizeof(*w->progs));
    w->sleds = mem_calloc(ns + 1, sizeof(*w->sleds));
    w->arts = mem_calloc(na + 1, sizeof(*w->arts));
    w->repos = mem_calloc(nr + 1, sizeof(*w->repos));
    assert_true(w->cnt && w->prog && w->healthy && w->room && w->state &&
                w->staged &&
                w->art_repo && w->ids && w->hold && w->progs && w->sleds &&
                w->arts && w->repos);
    for (size_t s = 0; s < ns; s++) {
        w->healthy[s] = 2;
        w->room[s] = UINT64_MAX;
        snprintf(w->ids[s], sizeof(w->ids[s]),
                 "00000000-0000-4000-8000-%012zx", s);
    }
    for (size_t a = 0; a < na; a++)
        w->art_repo[a] = (uint32_t)(nr ? a % nr : 0);
    w->in.limits = (struct plan_limits)PLAN_LIMITS_DEFAULT;
    w->in.generation = 7;
    return w;
}

static void world_free(struct world *w)
{
    if (!w)
        return;
    mem_free(w->cnt);
    mem_free(w->prog);
    mem_free(w->healthy);
    mem_free(w->room);
    mem_free(w->state);
    mem_free(w->staged);
    mem_free(w->art_repo);
    mem_free(w->ids);
    mem_free(w->hold);
    mem_free(w->progs);
    mem_free(w->sleds);
    mem_free(w->arts);
    mem_free(w->repos);
    mem_free(w);
}

#define CNT(w, s, a) ((w)->cnt[(size_t)(s) * (w)->na + (a)])
#define PROG(w, s, a) ((w)->prog[(size_t)(s) * (w)->na + (a)])

static const struct plan_input *world_build(struct world *w)
{
    size_t h = 0, g = 0;

    for (size_t s = 0; s < w->ns; s++) {
        struct plan_sled *sl = &w->sleds[s];

        sl->id = w->ids[s];
        sl->state = w->state[s];
        sl->healthy_datasets = w->healthy[s];
        sl->space_known = w->room[s] != UINT64_MAX;
        sl->writable_bytes = w->room[s];
        sl->inventory = &w->hold[h];
        sl->in_progress = &w->progs[g];
        sl->n_inventory = sl->n_in_progress = 0;
        for (size_t a = 0; a < w->na; a++) {
            if (CNT(w, s, a)) {
                w->hold[h++] = (struct plan_holding){(uint32_t)a,
                                                     CNT(w, s, a)};
                sl->n_inventory++;
            }
            if (PROG(w, s, a)) {
                w->progs[g++] = (uint32_t)a;
                sl->n_in_progress++;
            }
        }
    }
    for (size_t a = 0; a < w->na; a++) {
        memset(&w->arts[a].hash, 0, sizeof(w->arts[a].hash));
        w->arts[a].hash.b[0] = (uint8_t)(a >> 8);
        w->arts[a].hash.b[1] = (uint8_t)a;
        w->arts[a].length = 1000 + a;
        w->arts[a].staged = w->staged[a];
        w->arts[a].repos = w->nr ? &w->art_repo[a] : NULL;
        w->arts[a].n_repos = w->nr ? 1 : 0;
    }
    for (size_t r = 0; r < w->nr; r++)
        w->repos[r].name = "repo";
    w->in.sleds = w->sleds;
    w->in.n_sleds = w->ns;
    w->in.artifacts = w->arts;
    w->in.n_artifacts = w->na;
    w->in.repos = w->repos;
    w->in.n_repos = w->nr;
    return &w->in;
}

static bool usable(const struct world *w, size_t s)
{
    return w->state[s] == PLAN_SLED_OK && w->healthy[s] > 0;
}

static size_t usable_holders(const struct world *w, size_t a)
{
    size_t n = 0;

    for (size_t s = 0; s < w->ns; s++)
        n += usable(w, s) && CNT(w, s, a) > 0;
    return n;
}

/*
 * Check every request of p against the state w it was planned from, the
 * limits, the order and the summary counts; also that requests plus
 * deferred equal the outstanding work. Returns nothing: asserts.
 */
static void check_plan(const struct world *w, const struct plan *p)
{
    const struct plan_limits *l = &w->in.limits;
    uint8_t *targeted = mem_calloc(w->ns * w->na + 1, 1);
    uint32_t *tl = mem_calloc(w->ns + 1, sizeof(*tl));
    uint32_t *sl = mem_calloc(w->ns + 1, sizeof(*sl));
    uint32_t *putcopy = mem_calloc(w->na + 1, sizeof(*putcopy));
    uint32_t *missing = mem_calloc(w->na + 1, sizeof(*missing));
    uint32_t *puts = mem_calloc(w->na + 1, sizeof(*puts));
    size_t kinds[3] = {0, 0, 0}, work = 0;
    int last_kind = 0;
    uint32_t last_wave = 0, *fan;
    size_t nw = 1;

    for (size_t i = 0; i < p->n_reqs; i++)
        if (p->reqs[i].wave + 1 > nw)
            nw = p->reqs[i].wave + 1;
    assert_true(p->summary.waves == (p->n_reqs ? nw : 0));
    /* per (source, artifact, wave) fan-out */
    fan = mem_calloc(w->ns * w->na * nw + 1, sizeof(*fan));
    assert_true(targeted && tl && sl && putcopy && fan && missing && puts);
    assert_true(p->n_reqs <= l->max_requests);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];
        size_t t = r->target, a = r->artifact;

        assert_true(a < w->na && t < w->ns);
        assert_true(usable(w, t)); /* never isolated/unreachable/expunged */
        assert_false(PROG(w, t, a));
        assert_false(targeted[t * w->na + a]);
        targeted[t * w->na + a] = 1;
        kinds[r->kind]++;
        assert_true((int)r->kind >= last_kind);
        if ((int)r->kind != last_kind)
            last_wave = 0;
        last_kind = (int)r->kind;
        if (r->kind != PLAN_PUT) {
            assert_true(r->wave >= last_wave); /* grouped by wave */
            last_wave = r->wave;
        }
        tl[t]++;
        if (r->kind == PLAN_PUT) {
            assert_true(w->staged[a]);
            assert_int_equal(r->source, -1);
            assert_int_equal(r->depends_on, -1);
            assert_int_equal(r->wave, 0);
            assert_int_equal(CNT(w, t, a), 0);
            putcopy[a]++;
            puts[a]++;
            continue;
        }
        assert_true(r->source >= 0 && (size_t)r->source < w->ns);
        assert_true((size_t)r->source != t);
        sl[r->source]++;
        if (r->kind == PLAN_COPY) {
            assert_int_equal(CNT(w, t, a), 0);
            putcopy[a]++;
        } else {
            assert_true(CNT(w, t, a) > 0 && CNT(w, t, a) < w->healthy[t]);
        }
        if (r->depends_on < 0) {
            assert_true(usable(w, (size_t)r->source));
            assert_true(CNT(w, r->source, a) > 0);
        } else {
            const struct plan_request *d = &p->reqs[r->depends_on];

            assert_true((size_t)r->depends_on < i); /* backwards */
            assert_int_equal(d->target, r->source);
            assert_int_equal(d->artifact, a);
            assert_true(d->wave < r->wave);
            assert_true(d->kind != PLAN_RECOPY);
        }
        /* a swarm copy (issue 13) is not bounded per wave: its source's
         * depot bounds its load (429) and the copy has other candidates */
        if (r->kind == PLAN_COPY && w->arts[a].has_pieces &&
            w->sleds[t].pieces)
            continue;
        fan[((size_t)r->source * w->na + a) * nw + r->wave]++;
        assert_true(fan[((size_t)r->source * w->na + a) * nw + r->wave] <=
                    l->max_copies_per_source);
    }
    for (size_t s = 0; s < w->ns; s++) {
        assert_true(tl[s] <= l->max_per_target);
        assert_true(sl[s] <= l->max_per_source);
    }
    assert_true(kinds[PLAN_PUT] <= l->max_puts);
    /* The controller PUTs an artifact to at most min(put_fanout, min) -
     * (OK sleds holding it) sleds, and once when no OK sled holds it. */
    for (size_t a = 0; a < w->na; a++) {
        uint32_t fo = l->put_fanout < l->min_sled_replication
                          ? l->put_fanout
                          : l->min_sled_replication;
        uint32_t have = 0;

        for (size_t s = 0; s < w->ns; s++)
            have += w->state[s] == PLAN_SLED_OK && CNT(w, s, a) > 0;
        assert_true(puts[a] <= (have < fo ? fo - have : 0) ||
                    (have == 0 && puts[a] == 1));
    }
    assert_int_equal(p->summary.puts, kinds[PLAN_PUT]);
    assert_int_equal(p->summary.copies, kinds[PLAN_COPY]);
    assert_int_equal(p->summary.recopies, kinds[PLAN_RECOPY]);
    /* Outstanding work: every usable sled short of a sourceable artifact,
     * not being written, and not the sole holder with nothing to copy. */
    for (size_t a = 0; a < w->na; a++) {
        size_t holders = usable_holders(w, a);

        for (size_t s = 0; s < w->ns; s++)
            missing[a] += usable(w, s) && !CNT(w, s, a) && !PROG(w, s, a);
        if (!w->staged[a] && holders == 0)
            continue;
        for (size_t s = 0; s < w->ns; s++) {
            if (!usable(w, s) || PROG(w, s, a) || CNT(w, s, a) >= w->healthy[s])
                continue;
            if (CNT(w, s, a) > 0 && holders == 1 && missing[a] == 0)
                continue; /* sole holder, nobody to copy to: unrepairable */
            work++;
        }
    }
    assert_int_equal(p->n_reqs + p->summary.requests_deferred +
                         p->summary.requests_no_space,
                     work);
    mem_free(targeted);
    mem_free(tl);
    mem_free(sl);
    mem_free(putcopy);
    mem_free(fan);
    mem_free(missing);
    mem_free(puts);
}

/* Execute p on w in order; each request fails with probability fail_pct
 * and is skipped when its dependency failed. Returns the failures. */
static size_t apply_plan(struct world *w, const struct plan *p,
                         struct rng *rng, uint32_t fail_pct)
{
    bool *ok = mem_calloc(p->n_reqs + 1, sizeof(*ok));
    size_t failed = 0;

    assert_non_null(ok);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];

        if (r->depends_on >= 0 && !ok[r->depends_on])
            continue;
        if (r->source >= 0) /* the source holds it when the request runs */
            assert_true(CNT(w, r->source, r->artifact) > 0);
        if (rng_below(rng, 100) < fail_pct) {
            failed++;
            continue;
        }
        ok[i] = true;
        CNT(w, r->target, r->artifact) = (uint8_t)w->healthy[r->target];
    }
    mem_free(ok);
    return failed;
}

static bool converged(const struct world *w)
{
    for (size_t a = 0; a < w->na; a++) {
        if (!w->staged[a] && usable_holders(w, a) == 0)
            continue; /* lost or at risk: nothing can be done */
        for (size_t s = 0; s < w->ns; s++)
            if (usable(w, s) && CNT(w, s, a) != w->healthy[s])
                return false;
    }
    return true;
}

static struct plan *plan_ok(struct world *w)
{
    struct plan *p = NULL;
    struct err e = ERR_INIT;

    assert_int_equal(plan_new(&p, world_build(w), &e), 0);
    assert_non_null(p);
    check_plan(w, p);
    return p;
}

static size_t count_kind_art(const struct plan *p, enum plan_kind k,
                             uint32_t a)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n_reqs; i++)
        n += p->reqs[i].kind == k && p->reqs[i].artifact == a;
    return n;
}

static void test_plan__simple_replicate(void **state)
{
    struct world *w = world_new(16, 2, 1);
    struct plan *p;

    (void)state;
    w->staged[0] = w->staged[1] = true;
    w->in.limits.put_fanout = 3; /* the controller PUTs to min sleds */
    p = plan_ok(w);
    for (uint32_t a = 0; a < 2; a++) {
        assert_int_equal(count_kind_art(p, PLAN_PUT, a), 3);
        assert_int_equal(count_kind_art(p, PLAN_COPY, a), 13);
    }
    assert_int_equal(p->summary.requests_deferred, 0);
    /* Epidemic: 3 PUT targets, fan-out 2: wave 1 reaches 6 more, wave 2
     * the last 7 (9 sources). */
    assert_int_equal(p->summary.waves, 3);
    assert_int_equal(p->summary.n_staged_sufficient, 0);
    assert_false(p->summary.repos[0].sufficient);
    assert_int_equal(apply_plan(w, p, &(struct rng){{1, 2, 3, 4}}, 0),
                     0);
    plan_free(p);
    assert_true(converged(w));
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    assert_int_equal(p->summary.n_staged_sufficient, 2);
    assert_true(p->summary.repos[0].sufficient);
    assert_int_equal(p->summary.repos[0].on_all_sleds, 2);
    plan_free(p);
    world_free(w);
}

/*
 * The default put_fanout (1): the controller PUTs each staged artifact to
 * one sled; every other sled copies it in epidemic waves from there. A
 * staged artifact a sled already holds is not PUT at all; put_fanout
 * above min_sled_replication counts as min_sled_replication.
 */
static void test_plan__put_fanout_default(void **state)
{
    struct world *w = world_new(16, 2, 1);
    struct plan *p;

    (void)state;
    assert_int_equal(w->in.limits.put_fanout, 1);
    w->staged[0] = w->staged[1] = true;
    p = plan_ok(w);
    for (uint32_t a = 0; a < 2; a++) {
        assert_int_equal(count_kind_art(p, PLAN_PUT, a), 1);
        assert_int_equal(count_kind_art(p, PLAN_COPY, a), 15);
    }
    assert_int_equal(p->summary.puts, 2);
    assert_int_equal(p->summary.requests_deferred, 0);
    /* Fan-out 2: 1 -> 3 -> 9 -> 27 holders, waves 0..3. */
    assert_int_equal(p->summary.waves, 4);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];

        if (r->kind != PLAN_COPY)
            continue;
        /* nobody holds it yet: every copy comes from the PUT's target */
        assert_true(r->depends_on >= 0);
        assert_true(r->wave >= 1);
    }
    assert_int_equal(apply_plan(w, p, &(struct rng){{1, 2, 3, 4}}, 0),
                     0);
    plan_free(p);
    assert_true(converged(w));
    /* One sled holds artifact 0 and it is still staged: copies only. */
    for (size_t s = 1; s < 16; s++)
        CNT(w, s, 0) = 0;
    p = plan_ok(w);
    assert_int_equal(p->summary.puts, 0);
    assert_int_equal(count_kind_art(p, PLAN_COPY, 0), 15);
    plan_free(p);
    /* put_fanout 2: one more PUT; above min (3) it counts as min. */
    w->in.limits.put_fanout = 2;
    p = plan_ok(w);
    assert_int_equal(p->summary.puts, 1);
    plan_free(p);
    w->in.limits.put_fanout = 9;
    p = plan_ok(w);
    assert_int_equal(p->summary.puts, 2);
    plan_free(p);
    /* 0 is malformed. */
    w->in.limits.put_fanout = 0;
    {
        struct plan *bad = NULL;

        assert_int_equal(plan_new(&bad, world_build(w), NULL), ERR_INVAL);
        assert_null(bad);
    }
    world_free(w);
}

static void test_plan__new_sled(void **state)
{
    struct world *w = world_new(5, 10, 2);
    struct plan *p;
    uint32_t served[5] = {0};

    (void)state;
    for (size_t s = 0; s < 4; s++)
        for (size_t a = 0; a < 10; a++)
            CNT(w, s, a) = 2;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 10);
    assert_int_equal(p->summary.copies, 10);
    for (size_t i = 0; i < p->n_reqs; i++) {
        assert_int_equal(p->reqs[i].target, 4);
        assert_int_equal(p->reqs[i].depends_on, -1);
        served[p->reqs[i].source]++;
    }
    /* Load spread over the four holders: 10 copies -> 2 or 3 each. */
    for (size_t s = 0; s < 4; s++)
        assert_true(served[s] >= 2 && served[s] <= 3);
    assert_int_equal(p->summary.repos[0].on_all_sleds, 0);
    assert_int_equal(p->summary.repos[0].on_min_sleds, 5);
    plan_free(p);
    world_free(w);
}

/* A source whose copies failed lately (issue 10: avoid_source) serves no
 * copy while another holder can; when it is the only holder it still
 * serves (an artifact is never left unreplicated for it); swarm copies
 * name it as their first source only without another holder. */
static void test_plan__avoided_source(void **state)
{
    struct world *w = world_new(5, 10, 2);
    struct plan *p;

    (void)state;
    for (size_t a = 0; a < 10; a++) {
        CNT(w, 0, a) = 2;
        CNT(w, 1, a) = 2;
    }
    w->sleds[0].avoid_source = true;
    p = plan_ok(w);
    assert_int_equal(p->summary.copies, 30);
    for (size_t i = 0; i < p->n_reqs; i++)
        assert_int_not_equal(p->reqs[i].source, 0);
    plan_free(p);
    /* swarm copies too */
    for (size_t a = 0; a < 10; a++)
        w->arts[a].has_pieces = true;
    for (size_t s = 2; s < 5; s++)
        w->sleds[s].pieces = true;
    p = plan_ok(w);
    for (size_t i = 0; i < p->n_reqs; i++)
        assert_int_not_equal(p->reqs[i].source, 0);
    plan_free(p);
    /* the only holder of artifact 0: it serves it */
    for (size_t a = 0; a < 10; a++) {
        w->arts[a].has_pieces = false;
        CNT(w, 1, a) = 0;
    }
    for (size_t s = 2; s < 5; s++)
        w->sleds[s].pieces = false;
    p = plan_ok(w);
    assert_int_equal(count_kind_art(p, PLAN_COPY, 0), 4);
    plan_free(p);
    world_free(w);
}

/* Swarm copies (issue 13): with a manifest and a holder, every sled that
 * takes swarm copies copies in wave 0 from a holder, whatever
 * max_copies_per_source; the others still go in epidemic waves; without
 * a holder, in wave 1 from the PUT target, once the PUT succeeded. */
static void test_plan__swarm_wave_zero(void **state)
{
    struct world *w = world_new(10, 2, 1);
    struct plan *p;
    unsigned swarm = 0, other = 0, swarm1 = 0;

    (void)state;
    CNT(w, 0, 0) = 2;
    w->staged[1] = true; /* artifact 1: no holder, PUT first */
    for (size_t a = 0; a < 2; a++)
        w->arts[a].has_pieces = true;
    for (size_t s = 1; s < 8; s++)
        w->sleds[s].pieces = true;
    p = plan_ok(w);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];

        if (r->kind != PLAN_COPY)
            continue;
        if (r->artifact == 0 && r->target >= 1 && r->target < 8) {
            assert_int_equal(r->wave, 0);
            assert_int_equal(r->source, 0);
            assert_int_equal(r->depends_on, -1);
            assert_false(r->started);
            swarm++;
        } else if (r->artifact == 0) {
            other++;
        } else if (r->target >= 1 && r->target < 8) {
            const struct plan_request *d = &p->reqs[r->depends_on];

            /* artifact 1: from the PUT target, right after the PUT */
            assert_int_equal(d->kind, PLAN_PUT);
            assert_int_equal(r->wave, 1);
            /* sent once the PUT started when its target serves pieces */
            assert_int_equal(r->started, w->sleds[d->target].pieces);
            swarm1++;
        } else if (r->depends_on >= 0) {
            assert_false(r->started);
        } else {
            assert_true(r->depends_on >= 0);
        }
    }
    assert_int_equal(swarm, 7);
    assert_int_equal(other, 2);
    /* the PUT target is one of 1..9; the 7 capable sleds but it swarm */
    assert_true(swarm1 == 6 || swarm1 == 7);
    plan_free(p);
    world_free(w);
}

/* Every sled takes swarm copies: the PUT's target serves pieces as the
 * PUT flows, so every copy of the unheld artifact depends on the PUT
 * having *started*; none of the held one's does. */
static void test_plan__swarm_started(void **state)
{
    struct world *w = world_new(6, 2, 1);
    struct plan *p;
    unsigned started = 0, put = 0;

    (void)state;
    CNT(w, 0, 0) = 2;
    w->staged[1] = true;
    for (size_t a = 0; a < 2; a++)
        w->arts[a].has_pieces = true;
    for (size_t s = 0; s < 6; s++)
        w->sleds[s].pieces = true;
    p = plan_ok(w);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];

        if (r->kind == PLAN_PUT) {
            assert_int_equal(r->artifact, 1);
            assert_false(r->started);
            put++;
            continue;
        }
        if (r->artifact == 0) {
            assert_false(r->started);
            continue;
        }
        assert_true(r->depends_on >= 0 && (size_t)r->depends_on < i);
        assert_int_equal(p->reqs[r->depends_on].kind, PLAN_PUT);
        assert_int_equal(r->source, p->reqs[r->depends_on].target);
        assert_true(r->started);
        started++;
    }
    assert_int_equal(put, 1);
    assert_int_equal(started, 5);
    /* a PUT target without "pieces" gets the PUT as today: copies wait
     * for its success */
    plan_free(p);
    for (size_t s = 0; s < 6; s++)
        w->sleds[s].pieces = s != 0 && s % 2 == 0;
    p = plan_ok(w);
    for (size_t i = 0; i < p->n_reqs; i++) {
        const struct plan_request *r = &p->reqs[i];

        if (r->kind == PLAN_COPY && r->depends_on >= 0)
            assert_int_equal(r->started,
                             p->reqs[r->depends_on].kind == PLAN_PUT &&
                                 w->sleds[r->source].pieces &&
                                 w->sleds[r->target].pieces);
    }
    plan_free(p);
    world_free(w);
}

static void test_plan__recopy(void **state)
{
    struct world *w = world_new(4, 1, 1);
    struct plan *p;

    (void)state;
    for (size_t s = 0; s < 4; s++)
        CNT(w, s, 0) = 2;
    CNT(w, 2, 0) = 1; /* one copy, two healthy datasets */
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 1);
    assert_int_equal(p->reqs[0].kind, PLAN_RECOPY);
    assert_int_equal(p->reqs[0].target, 2);
    assert_true(p->reqs[0].source != 2);
    plan_free(p);
    /* With one healthy dataset, one copy is complete: never re-copied. */
    w->healthy[2] = 1;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    plan_free(p);
    world_free(w);
}

/*
 * A sled that says it has no room (GET /artifacts "writable_bytes") is
 * planned no write that cannot fit: not as a PUT target (a refused PUT
 * would orphan the swarm copies started from it), not a copy or recopy
 * target; each write it takes counts against its room; what is left is
 * counted as requests_no_space until it has room again.
 */
static void test_plan__no_space(void **state)
{
    struct world *w = world_new(4, 3, 1);
    struct plan *p;

    (void)state;
    for (size_t a = 0; a < 3; a++)
        w->staged[a] = true;
    w->room[3] = 0;
    for (unsigned seed = 1; seed <= 20; seed++) {
        w->in.seed = seed;
        p = plan_ok(w);
        for (size_t i = 0; i < p->n_reqs; i++)
            assert_int_not_equal(p->reqs[i].target, 3);
        assert_int_equal(p->summary.requests_no_space, 3);
        assert_int_equal(p->summary.requests_deferred, 0);
        plan_free(p);
    }
    /* room for two of the three artifacts (1000..1002 bytes) */
    w->room[3] = 2100;
    p = plan_ok(w);
    {
        size_t n = 0;

        for (size_t i = 0; i < p->n_reqs; i++)
            n += p->reqs[i].target == 3;
        assert_int_equal(n, 2);
    }
    assert_int_equal(p->summary.requests_no_space, 1);
    plan_free(p);
    /* a recopy needs room too */
    w->room[3] = 0;
    for (size_t s = 0; s < 4; s++)
        for (size_t a = 0; a < 3; a++)
            CNT(w, s, a) = 2;
    CNT(w, 3, 1) = 1;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    assert_int_equal(p->summary.requests_no_space, 1);
    plan_free(p);
    w->room[3] = UINT64_MAX;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 1);
    assert_int_equal(p->summary.requests_no_space, 0);
    plan_free(p);
    world_free(w);
}

static void test_plan__one_dataset_sled(void **state)
{
    struct world *w = world_new(3, 2, 1);
    struct plan *p;
    struct rng rng;

    (void)state;
    rng_init(&rng, 3);
    w->healthy[1] = 1;
    w->healthy[2] = 0; /* no dataset: nothing can be written there */
    CNT(w, 0, 0) = 2;
    CNT(w, 0, 1) = 1;
    p = plan_ok(w);
    /* sled 1 gets both artifacts; sled 0 gets a recopy of artifact 1 */
    assert_int_equal(p->summary.copies, 2);
    assert_int_equal(p->summary.recopies, 1);
    for (size_t i = 0; i < p->n_reqs; i++)
        assert_int_not_equal(p->reqs[i].target, 2);
    apply_plan(w, p, &rng, 0);
    plan_free(p);
    assert_int_equal(CNT(w, 1, 0), 1);
    assert_int_equal(CNT(w, 0, 1), 2);
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    plan_free(p);
    world_free(w);
}

static void test_plan__nothing_to_do(void **state)
{
    struct world *w = world_new(6, 5, 2);
    struct plan *p;

    (void)state;
    for (size_t s = 0; s < 6; s++)
        for (size_t a = 0; a < 5; a++)
            CNT(w, s, a) = 2;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    assert_int_equal(p->summary.requests_deferred, 0);
    assert_int_equal(p->summary.waves, 0);
    assert_int_equal(p->summary.n_lost, 0);
    assert_int_equal(p->summary.repos[1].on_all_sleds, 2);
    assert_true(p->summary.repos[1].sufficient);
    assert_int_equal(p->generation, 7);
    plan_free(p);
    /* Empty wanted set and no sleds: an empty plan too. */
    world_free(w);
    w = world_new(0, 0, 0);
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    plan_free(p);
    world_free(w);
}

static void test_plan__everything_to_do(void **state)
{
    struct world *w = world_new(64, 8, 2);
    struct plan *p;
    struct rng rng;

    (void)state;
    rng_init(&rng, 9);
    w->in.limits.max_requests = PLAN_UNLIMITED;
    w->in.limits.put_fanout = 3;
    for (size_t a = 0; a < 8; a++)
        w->staged[a] = true;
    p = plan_ok(w);
    assert_int_equal(p->summary.puts, 8 * 3);
    assert_int_equal(p->summary.copies, 8 * 61);
    assert_int_equal(p->summary.requests_deferred, 0);
    /* 3 -> 9 -> 27 -> 81 holders: waves 0..3 */
    assert_int_equal(p->summary.waves, 4);
    apply_plan(w, p, &rng, 0);
    plan_free(p);
    assert_true(converged(w));
    world_free(w);
}

static void test_plan__sleds_come_and_go(void **state)
{
    struct world *w = world_new(8, 4, 2);
    struct plan *p;
    struct rng rng;

    (void)state;
    rng_init(&rng, 5);
    for (size_t s = 0; s < 5; s++)
        for (size_t a = 0; a < 4; a++)
            CNT(w, s, a) = 2;
    w->state[5] = PLAN_SLED_EXPUNGED;
    w->state[6] = PLAN_SLED_ISOLATED;
    w->state[7] = PLAN_SLED_UNREACHABLE;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0); /* nobody to serve */
    assert_int_equal(p->summary.n_isolated, 1);
    assert_int_equal(p->summary.isolated[0], 6);
    assert_int_equal(p->summary.n_unreachable, 1);
    assert_int_equal(p->summary.n_expunged, 1);
    assert_int_equal(p->summary.n_planned_sleds, 5);
    plan_free(p);
    /* The isolated sled is fixed and the unreachable one comes back. */
    w->state[6] = w->state[7] = PLAN_SLED_OK;
    p = plan_ok(w);
    assert_int_equal(p->summary.copies, 8);
    apply_plan(w, p, &rng, 0);
    plan_free(p);
    /* A sled leaves the rack (removed from the list) and a repo arrives. */
    w->ns = 7;
    w->staged[3] = true;
    w->in.limits.put_fanout = 3;
    for (size_t s = 0; s < 7; s++)
        CNT(w, s, 3) = 0;
    p = plan_ok(w);
    /* usable: 0-4 and 6 (5 is expunged, 7 is gone) */
    assert_int_equal(count_kind_art(p, PLAN_PUT, 3), 3);
    assert_int_equal(count_kind_art(p, PLAN_COPY, 3), 3);
    apply_plan(w, p, &rng, 0);
    plan_free(p);
    assert_true(converged(w));
    world_free(w);
}

static void test_plan__lost_and_at_risk(void **state)
{
    struct world *w = world_new(4, 4, 4);
    struct plan *p;

    (void)state;
    CNT(w, 0, 0) = 2;               /* artifact 0: fine */
    CNT(w, 3, 1) = 2;               /* artifact 1: only on unreachable */
    w->state[3] = PLAN_SLED_UNREACHABLE;
    /* artifact 2: nowhere, not staged: lost */
    w->staged[3] = true;            /* artifact 3: nowhere but staged */
    w->in.limits.put_fanout = 3;
    p = plan_ok(w);
    assert_int_equal(p->summary.n_lost, 1);
    assert_int_equal(p->summary.lost[0], 2);
    assert_int_equal(p->summary.n_lost_repos, 1);
    assert_int_equal(p->summary.lost_repos[0], 2);
    assert_int_equal(p->summary.repos[2].lost, 1);
    assert_int_equal(p->summary.n_at_risk, 1);
    assert_int_equal(p->summary.at_risk[0], 1);
    assert_int_equal(p->summary.repos[1].at_risk, 1);
    assert_int_equal(count_kind_art(p, PLAN_PUT, 3), 3);
    assert_int_equal(count_kind_art(p, PLAN_COPY, 0), 2);
    assert_int_equal(count_kind_art(p, PLAN_COPY, 1), 0);
    plan_free(p);
    /* An expunged sled's copy does not save an artifact from being lost. */
    w->state[3] = PLAN_SLED_EXPUNGED;
    p = plan_ok(w);
    assert_int_equal(p->summary.n_lost, 2);
    assert_int_equal(p->summary.n_at_risk, 0);
    plan_free(p);
    world_free(w);
}

static void test_plan__deferred_under_limits(void **state)
{
    struct world *w = world_new(10, 6, 1);
    struct plan *p;

    (void)state;
    for (size_t a = 0; a < 6; a++) {
        w->staged[a] = true;
        CNT(w, 0, a) = 1; /* one holder with one of two copies */
    }
    /* 6 artifacts x 9 missing sleds + 6 recopies = 60 units of work. */
    w->in.limits.max_requests = 20;
    w->in.limits.max_puts = 4;
    w->in.limits.put_fanout = 3; /* 2 PUTs per artifact wanted */
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 20);
    assert_int_equal(p->summary.puts, 4);
    assert_int_equal(p->summary.requests_deferred, 40);
    assert_int_equal(p->reqs[0].kind, PLAN_PUT);
    plan_free(p);
    w->in.limits.max_requests = PLAN_UNLIMITED;
    w->in.limits.max_per_target = 2;
    w->in.limits.max_per_source = 5;
    p = plan_ok(w);
    assert_true(p->summary.requests_deferred > 0);
    plan_free(p);
    w->in.limits.max_requests = 0;
    p = plan_ok(w);
    assert_int_equal(p->n_reqs, 0);
    assert_int_equal(p->summary.requests_deferred, 60);
    plan_free(p);
    world_free(w);
}

static void test_plan__in_progress_not_replanned(void **state)
{
    struct world *w = world_new(5, 1, 1);
    struct plan *p;

    (void)state;
    w->staged[0] = true;
    PROG(w, 1, 0) = 1;
    PROG(w, 2, 0) = 1;
    w->in.limits.put_fanout = 3;
    p = plan_ok(w);
    /* Two writes under way count toward min 3: one PUT, copies to 2. */
    assert_int_equal(p->summary.puts, 1);
    assert_int_equal(p->summary.copies, 2);
    plan_free(p);
    world_free(w);
}

static void test_plan__determinism(void **state)
{
    struct world *w = world_new(40, 12, 3);
    struct plan *a, *b;
    bool differ = false;

    (void)state;
    for (size_t s = 0; s < 10; s++)
        for (size_t x = 0; x < 12; x++)
            CNT(w, s, x) = (uint8_t)(1 + (s + x) % 2);
    w->staged[0] = true;
    w->in.seed = 42;
    a = plan_ok(w);
    b = plan_ok(w);
    assert_int_equal(a->n_reqs, b->n_reqs);
    assert_memory_equal(a->reqs, b->reqs, a->n_reqs * sizeof(*a->reqs));
    plan_free(b);
    for (uint64_t seed = 43; seed < 48 && !differ; seed++) {
        w->in.seed = seed;
        b = plan_ok(w);
        differ = b->n_reqs != a->n_reqs ||
                 memcmp(a->reqs, b->reqs, a->n_reqs * sizeof(*a->reqs));
        plan_free(b);
    }
    assert_true(differ);
    plan_free(a);
    world_free(w);
}

static void test_plan__bad_input(void **state)
{
    struct world *w = world_new(2, 2, 1);
    struct plan dummy, *p = &dummy;
    struct err e = ERR_INIT;

    (void)state;
    CNT(w, 0, 0) = 2;
    world_build(w);
    w->hold[0].artifact = 2;
    assert_int_equal(plan_new(&p, &w->in, &e), ERR_INVAL);
    assert_null(p);
    assert_string_equal(e.msg, "plan: sled 0: bad inventory entry 0");
    world_build(w);
    w->sleds[0].n_inventory = 2;
    w->hold[1] = w->hold[0]; /* listed twice */
    assert_int_equal(plan_new(&p, &w->in, &e), ERR_INVAL);
    assert_string_equal(e.msg, "plan: sled 0 lists artifact 0 twice");
    world_build(w);
    w->in.limits.min_sled_replication = 0;
    assert_int_equal(plan_new(&p, &w->in, &e), ERR_INVAL);
    w->in.limits.min_sled_replication = 3;
    w->in.n_sleds = 5000;
    assert_int_equal(plan_new(&p, &w->in, &e), ERR_LIMIT);
    world_free(w);
}

static void test_plan__nomem(void **state)
{
    struct world *w = world_new(12, 4, 2);
    int rc = ERR_NOMEM;

    (void)state;
    w->staged[1] = true;
    CNT(w, 0, 0) = 1;
    world_build(w);
    for (long n = 0; rc == ERR_NOMEM; n++) {
        struct plan *p = NULL;

        mem__fail_after(n, false);
        rc = plan_new(&p, &w->in, NULL);
        mem__fail_after(-1, false);
        assert_true(rc == 0 || rc == ERR_NOMEM);
        assert_true((rc == 0) == (p != NULL));
        plan_free(p);
        assert_true(n < 200);
    }
    world_free(w);
}

static void test_plan__artifact_find(void **state)
{
    struct world *w = world_new(1, 300, 1);
    size_t idx = 0;
    struct sha256 h;

    (void)state;
    world_build(w);
    assert_int_equal(plan_artifact_find(&idx, w->arts, 300, &w->arts[257].hash),
                     0);
    assert_int_equal(idx, 257);
    memset(&h, 0xff, sizeof(h));
    assert_int_equal(plan_artifact_find(&idx, w->arts, 300, &h), ERR_NOTFOUND);
    assert_string_equal(plan_kind_name(PLAN_RECOPY), "recopy");
    world_free(w);
}

/* A random rack state from seed; generous or tight limits. */
static struct world *random_world(struct rng *r, bool tight)
{
    size_t ns = 2 + rng_below(r, 40), na = 1 + rng_below(r, 12);
    struct world *w = world_new(ns, na, 1 + rng_below(r, 4));
    uint32_t hold_pct = rng_below(r, 101);

    for (size_t s = 0; s < ns; s++) {
        uint32_t x = rng_below(r, 100);

        w->state[s] = x < 80 ? PLAN_SLED_OK
                      : x < 88 ? PLAN_SLED_UNREACHABLE
                      : x < 94 ? PLAN_SLED_ISOLATED : PLAN_SLED_EXPUNGED;
        w->healthy[s] = rng_below(r, 10) == 0 ? rng_below(r, 2) : 2;
    }
    w->state[0] = w->state[1] = PLAN_SLED_OK; /* two usable sleds at least */
    w->healthy[0] = w->healthy[1] = 2;
    for (size_t a = 0; a < na; a++) {
        w->staged[a] = rng_below(r, 100) < 30;
        for (size_t s = 0; s < ns; s++) {
            uint32_t hmax = w->state[s] == PLAN_SLED_OK ? w->healthy[s] : 2;

            if (hmax && rng_below(r, 100) < hold_pct)
                CNT(w, s, a) = (uint8_t)(1 + rng_below(r, hmax));
            if (usable(w, s) && rng_below(r, 100) < 3)
                PROG(w, s, a) = 1;
        }
    }
    w->in.seed = rng_next(r);
    w->in.limits.min_sled_replication = 1 + rng_below(r, 4);
    w->in.limits.put_fanout =
        1 + rng_below(r, w->in.limits.min_sled_replication);
    w->in.limits.max_copies_per_source = 1 + rng_below(r, 3);
    if (tight) {
        w->in.limits.max_requests = rng_below(r, 30);
        w->in.limits.max_puts = rng_below(r, 6);
        w->in.limits.max_per_target = 1 + rng_below(r, 4);
        w->in.limits.max_per_source = 1 + rng_below(r, 4);
    } else {
        w->in.limits.max_requests = PLAN_UNLIMITED;
        w->in.limits.max_puts = PLAN_UNLIMITED;
        w->in.limits.max_per_target = PLAN_UNLIMITED;
        w->in.limits.max_per_source = PLAN_UNLIMITED;
    }
    return w;
}

static uint32_t ceil_log2(size_t n)
{
    uint32_t k = 0;

    while (((size_t)1 << k) < n)
        k++;
    return k;
}

/* Plan, check, apply (with failures in the first activations), re-plan,
 * until converged; bounded number of activations. */
static void property_run(uint64_t seed, bool tight)
{
    struct rng r;
    struct world *w;
    uint32_t fail_acts, fail_pct, bound, act;

    rng_init(&r, seed);
    w = random_world(&r, tight);
    fail_acts = rng_below(&r, 3);
    fail_pct = 10 + rng_below(&r, 30);
    bound = tight ? 2000 : 2 + ceil_log2(w->ns) + fail_acts;
    for (act = 0; act < bound; act++) {
        struct plan *p = plan_ok(w);
        size_t failed;

        if (converged(w)) {
            assert_int_equal(p->n_reqs, 0);
            assert_int_equal(p->summary.requests_deferred, 0);
            plan_free(p);
            break;
        }
        if (!tight && fail_acts == 0 && act == 0) {
            assert_int_equal(p->summary.requests_deferred, 0);
        }
        /* never stuck while there is work a request could do */
        if (w->in.limits.max_requests > 0 && w->in.limits.max_puts > 0 &&
            p->summary.requests_deferred > 0)
            assert_true(p->n_reqs > 0);
        failed = apply_plan(w, p, &r, act < fail_acts ? fail_pct : 0);
        (void)failed;
        plan_free(p);
        /* writes under way finish (or die) by the next activation */
        for (size_t s = 0; s < w->ns; s++)
            for (size_t a = 0; a < w->na; a++)
                if (PROG(w, s, a)) {
                    if (rng_below(&r, 2))
                        CNT(w, s, a) = (uint8_t)w->healthy[s];
                    PROG(w, s, a) = 0;
                }
        if (tight && w->in.limits.max_requests == 0)
            w->in.limits.max_requests = 1; /* let it finish eventually */
        if (tight && w->in.limits.max_puts == 0)
            w->in.limits.max_puts = 1;
    }
    if (act >= bound)
        fail_msg("seed %llu (%s): not converged in %u activations",
                 (unsigned long long)seed, tight ? "tight" : "generous",
                 bound);
    world_free(w);
}

static void test_plan__property(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= TEST_PLAN_PROPERTY_RUNS; seed++) {
        property_run(seed, false);
        property_run(seed, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan__simple_replicate),
        cmocka_unit_test(test_plan__put_fanout_default),
        cmocka_unit_test(test_plan__new_sled),
        cmocka_unit_test(test_plan__avoided_source),
        cmocka_unit_test(test_plan__swarm_wave_zero),
        cmocka_unit_test(test_plan__swarm_started),
        cmocka_unit_test(test_plan__recopy),
        cmocka_unit_test(test_plan__no_space),
        cmocka_unit_test(test_plan__one_dataset_sled),
        cmocka_unit_test(test_plan__nothing_to_do),
        cmocka_unit_test(test_plan__everything_to_do),
        cmocka_unit_test(test_plan__sleds_come_and_go),
        cmocka_unit_test(test_plan__lost_and_at_risk),
        cmocka_unit_test(test_plan__deferred_under_limits),
        cmocka_unit_test(test_plan__in_progress_not_replanned),
        cmocka_unit_test(test_plan__determinism),
        cmocka_unit_test(test_plan__bad_input),
        cmocka_unit_test(test_plan__nomem),
        cmocka_unit_test(test_plan__artifact_find),
        cmocka_unit_test(test_plan__property),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
