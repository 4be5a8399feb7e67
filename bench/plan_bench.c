/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_bench: wall time and peak RSS of plan_new() on a 1000-sled x
 * 2000-artifact rack, in two cases: (A) half the sleds converged (2 copies
 * of everything), half empty, nothing staged; (B) nothing on any sled,
 * everything staged. Each time is printed with a ratio against a baseline
 * measured in the same run: one plain pass reading every inventory entry
 * of case A's input once (the input scan no planner can avoid; case B has
 * no inventory, so its ratio is against case A's scan of the same rack).
 * Usage: plan_bench [sleds] [artifacts] [repeats]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/mem.h"
#include "common/parse.h"
#include "replicator/task/plan.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long peak_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The baseline: touch every inventory entry once. */
static uint64_t scan(const struct plan_input *in)
{
    uint64_t sum = 0;

    for (size_t s = 0; s < in->n_sleds; s++)
        for (size_t i = 0; i < in->sleds[s].n_inventory; i++)
            sum += in->sleds[s].inventory[i].artifact +
                   in->sleds[s].inventory[i].count;
    return sum;
}

static double baseline_ms(const struct plan_input *in, int reps)
{
    double best = 1e30;
    volatile uint64_t sink = 0;

    for (int r = 0; r < reps; r++) {
        double t0 = now_ms(), t1;

        sink += scan(in);
        t1 = now_ms();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    (void)sink;
    return best;
}

static int run_case(const char *name, const struct plan_input *in, int reps,
                    double best_base)
{
    double best_plan = 1e30;
    struct plan *p = NULL;
    int rc = 0;

    for (int r = 0; r < reps; r++) {
        double t0, t1;

        plan_free(p);
        p = NULL;
        t0 = now_ms();
        rc = plan_new(&p, in, NULL);
        t1 = now_ms();
        if (rc < 0) {
            fprintf(stderr, "plan_new: %d\n", rc);
            return rc;
        }
        if (t1 - t0 < best_plan)
            best_plan = t1 - t0;
    }
    printf("%s: sleds=%zu artifacts=%zu requests=%zu (put %zu copy %zu "
           "recopy %zu) waves=%u deferred=%zu\n", name, in->n_sleds,
           in->n_artifacts, p->n_reqs, p->summary.puts, p->summary.copies,
           p->summary.recopies, p->summary.waves,
           p->summary.requests_deferred);
    printf("%s: plan %.2f ms, baseline scan %.3f ms, ratio %.1f, "
           "peak RSS %ld KiB (best of %d)\n", name, best_plan, best_base,
           best_plan / (best_base > 0 ? best_base : 1e-6), peak_rss_kib(),
           reps);
    plan_free(p);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t ns = 1000, na = 2000, reps = 5;
    struct plan_holding *hold = NULL;
    struct plan_sled *sleds = NULL;
    struct plan_artifact *arts = NULL;
    struct plan_repo repo = {"bench"};
    uint32_t zero = 0;
    struct plan_input in;
    double base;
    int rc = 1;

    mem_init();
    if ((argc > 1 && parse_u64(&ns, argv[1]) < 0) ||
        (argc > 2 && parse_u64(&na, argv[2]) < 0) ||
        (argc > 3 && parse_u64(&reps, argv[3]) < 0) || ns == 0 ||
        ns > 1024 || na == 0 || na > 65536 || reps == 0) {
        fprintf(stderr, "usage: plan_bench [sleds<=1024] [artifacts] "
                "[repeats]\n");
        return 2;
    }
    /* one inventory array per sled, as Collect would build them */
    hold = mem_calloc(ns * na, sizeof(*hold));
    sleds = mem_calloc(ns, sizeof(*sleds));
    arts = mem_calloc(na, sizeof(*arts));
    if (!hold || !sleds || !arts)
        goto out;
    for (size_t i = 0; i < ns * na; i++)
        hold[i] = (struct plan_holding){(uint32_t)(i % na), 2};
    for (size_t a = 0; a < na; a++) {
        arts[a].hash.b[0] = (uint8_t)(a >> 8);
        arts[a].hash.b[1] = (uint8_t)a;
        arts[a].length = 1u << 20;
        arts[a].repos = &zero;
        arts[a].n_repos = 1;
    }
    memset(&in, 0, sizeof(in));
    in.generation = 2;
    in.artifacts = arts;
    in.n_artifacts = na;
    in.repos = &repo;
    in.n_repos = 1;
    in.sleds = sleds;
    in.n_sleds = ns;
    in.limits = (struct plan_limits)PLAN_LIMITS_DEFAULT;
    /* Measure the full plan, not a capped one. */
    in.limits.max_requests = PLAN_UNLIMITED;
    in.limits.max_puts = PLAN_UNLIMITED;
    in.limits.max_per_target = PLAN_UNLIMITED;
    in.limits.max_per_source = PLAN_UNLIMITED;
    in.seed = 1;
    for (size_t s = 0; s < ns; s++) {
        sleds[s].state = PLAN_SLED_OK;
        sleds[s].healthy_datasets = 2;
        sleds[s].inventory = &hold[s * na];
        sleds[s].n_inventory = s % 2 ? na : 0;
    }
    base = baseline_ms(&in, (int)reps);
    if (run_case("A half-converged", &in, (int)reps, base) < 0)
        goto out;
    for (size_t s = 0; s < ns; s++)
        sleds[s].n_inventory = 0;
    for (size_t a = 0; a < na; a++)
        arts[a].staged = true;
    /* B has no inventory to scan: its ratio uses case A's baseline, the
     * scan of a half-full rack of the same size. */
    if (run_case("B all-missing-staged", &in, (int)reps, base) < 0)
        goto out;
    rc = 0;
out:
    mem_free(hold);
    mem_free(sleds);
    mem_free(arts);
    return rc;
}
