/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_watch: `replicator activate --watch` (see cli_watch.h). Progress is
 * what each run's planner counted (docs/REPLICATION.md, status "repos":
 * copies_held, copies_wanted, bytes_held, bytes_wanted); the rate is the
 * growth of bytes_held between two lines, so it covers copies between
 * sleds as well as the controller's PUTs.
 */
#include "replicator/cli_watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "replicator/cli.h"

#define TASK_PATH "/background-tasks/tuf_artifact_replication"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0)
        ;
}

static uint64_t uval(const json_t *o, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(o, k));

    return v > 0 ? (uint64_t)v : 0;
}

/* n bytes as "12.3 MiB" into out. */
static void fmt_bytes(char *out, size_t cap, double n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;

    while (n >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
        n /= 1024.0;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
}

/* Every repository of st holds every wanted copy. */
static bool all_held(const json_t *st)
{
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(st, "repos"), i, v)
        if (uval(v, "copies_held") < uval(v, "copies_wanted"))
            return false;
    return true;
}

/*
 * One line per repository of st, t seconds in; prev maps a system
 * version to [bytes_held, time] of its previous line and is updated.
 */
static void print_progress(const json_t *st, json_t *prev, double t)
{
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(st, "repos"), i, v) {
        const char *name = jsonu_str(v, "system_version");
        uint64_t held = uval(v, "bytes_held");
        json_t *p = name ? json_object_get(prev, name) : NULL;
        char hb[32], wb[32], rb[32] = "-";

        if (json_is_array(p)) {
            double db = (double)held -
                        json_number_value(json_array_get(p, 0));
            double dt = t - json_number_value(json_array_get(p, 1));

            if (dt > 0)
                fmt_bytes(rb, sizeof(rb), db > 0 ? db / dt : 0.0);
        }
        fmt_bytes(hb, sizeof(hb), (double)held);
        fmt_bytes(wb, sizeof(wb), (double)uval(v, "bytes_wanted"));
        printf("[%5.1fs] %-16s copies %" PRIu64 "/%" PRIu64
               "  %s/%s  %s%s%s%s\n",
               t, name ? name : "?", uval(v, "copies_held"),
               uval(v, "copies_wanted"), hb, wb, rb,
               strcmp(rb, "-") ? "/s" : "",
               uval(v, "lost") ? "  LOST" : "",
               json_is_true(json_object_get(v, "stuck")) ? "  STUCK" : "");
        if (name)
            json_object_set_new(prev, name, json_pack("[I, f]",
                                                      (json_int_t)held, t));
    }
    fflush(stdout);
}

/* The --json document: the last repos with their progress fields. */
static json_t *final_doc(bool converged, const char *reason, double t,
                         unsigned runs, const json_t *st, const char *error)
{
    json_t *repos = json_array(), *o;
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(st, "repos"), i, v) {
        json_t *r = json_pack("{s:s?, s:I, s:I, s:I, s:I, s:I}",
                              "system_version", jsonu_str(v, "system_version"),
                              "artifacts", (json_int_t)uval(v, "artifacts"),
                              "copies_held", (json_int_t)uval(v, "copies_held"),
                              "copies_wanted",
                              (json_int_t)uval(v, "copies_wanted"),
                              "bytes_held", (json_int_t)uval(v, "bytes_held"),
                              "bytes_wanted",
                              (json_int_t)uval(v, "bytes_wanted"));

        if (r)
            json_array_append_new(repos, r);
    }
    o = json_pack("{s:b, s:s, s:f, s:i, s:o}", "converged", converged,
                  "reason", reason, "seconds", t, "runs", (int)runs, "repos",
                  repos);
    if (o && error)
        json_object_set_new(o, "error", json_string(error));
    return o;
}

/* POST activate?wait=1 then GET the status. Returns 0 or the exit code
 * (the failure already reported). */
static int one_round(json_t **sum, json_t **st, const struct cli *c)
{
    struct err err = ERR_INIT;
    long status = 0;
    int rc;

    rc = cli_request(&status, sum, c, "POST", TASK_PATH "/activate?wait=1",
                     NULL, NULL, 0, &err);
    if (rc < 0 || status < 200 || status > 299)
        return cli_report(c, status, *sum, rc, &err, NULL);
    rc = cli_request(&status, st, c, "GET", TASK_PATH "?limit=1", NULL, NULL,
                     0, &err);
    if (rc < 0 || status < 200 || status > 299)
        return cli_report(c, status, *st, rc, &err, NULL);
    return 0;
}

int cli_watch(const struct cli *c, unsigned timeout_s, unsigned interval_ms)
{
    json_t *prev = json_object(), *sum = NULL, *st = NULL, *doc;
    double t0 = now_s(), t = 0;
    const char *reason = "timeout", *error = NULL;
    bool converged = false;
    unsigned runs = 0;
    int code;

    if (!prev) {
        fprintf(stderr, "replicator: out of memory\n");
        return CLI_EXIT_FAILED;
    }
    for (;;) {
        json_decref(sum);
        json_decref(st);
        sum = st = NULL;
        code = one_round(&sum, &st, c);
        if (code != 0)
            goto out;
        runs++;
        t = now_s() - t0;
        if (!c->json)
            print_progress(st, prev, t);
        error = jsonu_str(sum, "error");
        if (error) {
            reason = "run failed";
            break;
        }
        if (json_is_true(json_object_get(sum, "converged")) && all_held(st)) {
            converged = true;
            reason = "converged";
            break;
        }
        if (t + (double)interval_ms / 1000.0 > (double)timeout_s)
            break;
        sleep_ms(interval_ms);
    }
    code = converged ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    if (c->json) {
        doc = final_doc(converged, reason, t, runs, st, error);
        if (doc) {
            json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
            fputs("\n", stdout);
        }
        json_decref(doc);
    } else if (converged) {
        printf("converged after %.1f s (%u run%s)\n", t, runs,
               runs == 1 ? "" : "s");
    } else if (error) {
        fprintf(stderr, "replicator: the run failed: %s\n", error);
    } else {
        fprintf(stderr, "replicator: not converged within %u s (%u runs); "
                "see `replicator status`\n", timeout_s, runs);
    }
out:
    json_decref(prev);
    json_decref(sum);
    json_decref(st);
    return code;
}
