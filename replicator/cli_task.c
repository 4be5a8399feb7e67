/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_task: the `replicator` commands of the reconciliation task, the
 * sled registry and the generation:
 *   activate [--no-wait]          POST .../activate?wait=1 and print the
 *                                 run summary (or just activate); exit 1
 *                                 when the run failed (its "error")
 *   activate --watch [--timeout S] [--interval S]
 *                                 runs until converged (cli_watch.c)
 *   status [--limit N] [--format table|json|omdb]
 *                                 the task status as a table, the server's
 *                                 document (--json too) or the lines the
 *                                 reference's omdb prints (cli_omdb.c)
 *   sled list | sled expunge ID
 *   sled reset-ledger ID [--generation G] [--reason TEXT]
 *   sled resume ID --override UUID
 *   generation bump --past-fleet | generation confirm G
 * Exit codes 0 ok, 1 failed, 2 usage (cli.h). Main thread.
 */
#include "replicator/cli_task.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/cli.h"
#include "replicator/cli_omdb.h"
#include "replicator/cli_watch.h"

#define TASK_PATH "/background-tasks/tuf_artifact_replication"

static json_int_t ival(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void print_counters(const char *label, const json_t *c)
{
    printf("%-10s config %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           "  list %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           "  put %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           "  copy %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           "  revocations %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
           "   (ok/err)\n",
           label, ival(c, "put_config_ok"), ival(c, "put_config_err"),
           ival(c, "list_ok"), ival(c, "list_err"), ival(c, "put_ok"),
           ival(c, "put_err"), ival(c, "copy_ok"), ival(c, "copy_err"),
           ival(c, "put_revocations_ok"), ival(c, "put_revocations_err"));
}

static void human_summary(const json_t *s)
{
    const json_t *p = json_object_get(s, "plan");
    const json_t *x = json_object_get(s, "executed");

    printf("run %" JSON_INTEGER_FORMAT " (%s) generation %" JSON_INTEGER_FORMAT
           ": %s%s in %" JSON_INTEGER_FORMAT " ms\n",
           ival(s, "run"), jsonu_str(s, "reason") ? jsonu_str(s, "reason")
                                                   : "?",
           ival(s, "generation"),
           json_is_true(json_object_get(s, "converged")) ? "converged"
                                                         : "not converged",
           json_is_true(json_object_get(s, "held")) ? " (generation HELD)"
                                                    : "",
           ival(s, "duration_ms"));
    if (p)
        printf("plan: %" JSON_INTEGER_FORMAT " puts, %" JSON_INTEGER_FORMAT
               " copies, %" JSON_INTEGER_FORMAT " recopies, %"
               JSON_INTEGER_FORMAT " waves, %" JSON_INTEGER_FORMAT
               " deferred, %" JSON_INTEGER_FORMAT " waiting for space, %"
               JSON_INTEGER_FORMAT " lost\n",
               ival(p, "puts"), ival(p, "copies"), ival(p, "recopies"),
               ival(p, "waves"), ival(p, "requests_deferred"),
               ival(p, "requests_no_space"), ival(p, "lost"));
    if (x)
        printf("executed: %" JSON_INTEGER_FORMAT " ok, %" JSON_INTEGER_FORMAT
               " failed, %" JSON_INTEGER_FORMAT " skipped\n",
               ival(x, "ok"), ival(x, "failed"), ival(x, "skipped"));
    printf("sleds: %" JSON_INTEGER_FORMAT " ok, %" JSON_INTEGER_FORMAT
           " unreachable, %" JSON_INTEGER_FORMAT " isolated; staged repos "
           "dropped: %" JSON_INTEGER_FORMAT "\n",
           ival(s, "sleds_ok"), ival(s, "sleds_unreachable"),
           ival(s, "sleds_isolated"), ival(s, "staged_dropped"));
    if (jsonu_str(s, "held_reason"))
        printf("held: %s\n", jsonu_str(s, "held_reason"));
    if (jsonu_str(s, "error"))
        printf("error: %s\n", jsonu_str(s, "error"));
    if (json_object_get(s, "counters"))
        print_counters("requests", json_object_get(s, "counters"));
}

static void human_status(const json_t *st)
{
    const json_t *v, *la = json_object_get(st, "last_activation");
    const json_t *dbs = json_object_get(st, "database");
    size_t i;

    printf("task tuf_artifact_replication: %s, %" JSON_INTEGER_FORMAT
           " runs, generation %" JSON_INTEGER_FORMAT ", local_repos %"
           JSON_INTEGER_FORMAT ", requests_deferred %" JSON_INTEGER_FORMAT
           "\n",
           jsonu_str(st, "state") ? jsonu_str(st, "state") : "?",
           ival(st, "runs"), ival(st, "generation"), ival(st, "local_repos"),
           ival(st, "requests_deferred"));
    if (json_is_object(la))
        printf("last activation: %s at %" JSON_INTEGER_FORMAT " ms\n",
               jsonu_str(la, "reason"), ival(la, "time_ms"));
    if (json_is_false(json_object_get(dbs, "available")))
        printf("DATABASE UNAVAILABLE since %" JSON_INTEGER_FORMAT " ms (%"
               JSON_INTEGER_FORMAT " runs changed nothing): %s\n",
               ival(dbs, "unavailable_since_ms"),
               ival(dbs, "unavailable_runs_total"), jsonu_str(dbs, "error"));
    print_counters("last run", json_object_get(st, "last_run_counters"));
    print_counters("lifetime", json_object_get(st, "lifetime_counters"));
    printf("\n%-38s %-12s %10s %9s %9s  %s\n", "SLED", "STATE", "GENERATION",
           "ARTIFACTS", "COMPLETE", "ERROR");
    json_array_foreach(json_object_get(st, "sleds"), i, v)
        printf("%-38s %-12s %10" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT
               " %9" JSON_INTEGER_FORMAT "  %s\n",
               jsonu_str(v, "id"), jsonu_str(v, "state"),
               ival(v, "generation"), ival(v, "artifacts"),
               ival(v, "artifacts_complete"),
               jsonu_str(v, "error") ? jsonu_str(v, "error") : "");
    printf("\n%-20s %9s %12s %12s %5s %8s  %s\n", "REPO", "ARTIFACTS",
           "ON_ALL_SLEDS", "ON_MIN_SLEDS", "LOST", "AT_RISK", "SUFFICIENT");
    /* a stuck repo's SUFFICIENT column reads "yes STUCK"/"no STUCK" */
    json_array_foreach(json_object_get(st, "repos"), i, v)
        printf("%-20s %9" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
               " %12" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT
               " %8" JSON_INTEGER_FORMAT "  %s%s\n",
               jsonu_str(v, "system_version"), ival(v, "artifacts"),
               ival(v, "on_all_sleds"), ival(v, "on_min_sleds"),
               ival(v, "lost"), ival(v, "at_risk"),
               json_is_true(json_object_get(v, "sufficient")) ? "yes" : "no",
               json_is_true(json_object_get(v, "stuck")) ? " STUCK" : "");
    json_array_foreach(json_object_get(st, "isolated_sleds"), i, v)
        printf("\nISOLATED %s: %s\n  remedy: %s\n", jsonu_str(v, "id"),
               jsonu_str(v, "error"), jsonu_str(v, "remedy"));
    json_array_foreach(json_object_get(st, "held_sleds"), i, v) {
        const json_t *o = json_object_get(v, "override");

        printf("\nHELD SLED %s: override %s (%s, set %s)\n  remedy: %s\n",
               jsonu_str(v, "id"),
               jsonu_str(o, "id") ? jsonu_str(o, "id") : "?",
               jsonu_str(o, "reason") ? jsonu_str(o, "reason") : "",
               jsonu_str(o, "set_at") ? jsonu_str(o, "set_at") : "?",
               jsonu_str(v, "remedy") ? jsonu_str(v, "remedy") : "");
    }
    json_array_foreach(json_object_get(st, "held_generations"), i, v)
        printf("\nHELD generation %" JSON_INTEGER_FORMAT ": %s\n",
               ival(v, "generation"), jsonu_str(v, "reason"));
    json_array_foreach(json_object_get(st, "stuck_repos"), i, v)
        printf("\nSTUCK %s: %s\n", jsonu_str(v, "system_version"),
               jsonu_str(v, "cause") ? jsonu_str(v, "cause") : "");
    json_array_foreach(json_object_get(st, "lost_artifacts"), i, v)
        printf("\nLOST %s (re-upload the repository)\n",
               jsonu_str(v, "sha256"));
}

static void omdb_status(const json_t *st)
{
    struct buf b = BUF_INIT;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (cli_omdb_render(&b, st, (int64_t)ts.tv_sec * 1000 +
                                    ts.tv_nsec / 1000000) < 0)
        fprintf(stderr, "replicator: out of memory\n");
    else if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    buf_release(&b);
}

static void human_sleds(const json_t *r)
{
    const json_t *v;
    size_t i;

    printf("%-38s %-24s %s\n", "ID", "API_ADDRESS", "REPO_DEPOT_PORT");
    json_array_foreach(json_object_get(r, "sleds"), i, v)
        printf("%-38s %-24s %" JSON_INTEGER_FORMAT "\n", jsonu_str(v, "id"),
               jsonu_str(v, "api_address"), ival(v, "repo_depot_port"));
}

static void human_generic(const json_t *r)
{
    if (json_object_get(r, "generation"))
        printf("generation %" JSON_INTEGER_FORMAT "\n", ival(r, "generation"));
    else
        printf("ok\n");
}

static int usage_err(const char *msg)
{
    fprintf(stderr, "replicator: %s\n"
            "usage: replicator [--url URL] [--json] activate [--no-wait]\n"
            "       | activate --watch [--timeout S] [--interval S]\n"
            "       | status [--limit N] [--format table|json|omdb]\n"
            "       | sled list | sled expunge ID\n"
            "       | sled reset-ledger ID [--generation G] [--reason TEXT]\n"
            "       | sled resume ID --override UUID\n"
            "       | generation bump --past-fleet | generation confirm G\n",
            msg);
    return CLI_EXIT_USAGE;
}

static int cmd_activate(const struct cli *c, int argc, char **argv)
{
    struct err err = ERR_INIT;
    json_t *j = NULL;
    long status = 0;
    bool wait = true, watch = false;
    uint64_t timeout_s = CLI_WATCH_TIMEOUT_S;
    double interval_s = CLI_WATCH_INTERVAL_MS / 1000.0;
    int rc, code;

    for (int i = 1; i < argc; i++) {
        char *end = NULL;

        if (!strcmp(argv[i], "--no-wait")) {
            wait = false;
        } else if (!strcmp(argv[i], "--watch")) {
            watch = true;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc &&
                   parse_u64(&timeout_s, argv[i + 1]) == 0 &&
                   timeout_s > 0 && timeout_s <= 86400) {
            i++;
        } else if (!strcmp(argv[i], "--interval") && i + 1 < argc &&
                   (interval_s = strtod(argv[i + 1], &end)) >= 0.1 &&
                   interval_s <= 3600 && end && !*end) {
            i++;
        } else {
            return usage_err("activate: --no-wait | --watch [--timeout S "
                             "(1..86400)] [--interval S (0.1..3600)]");
        }
    }
    if (watch && !wait)
        return usage_err("activate: --watch and --no-wait exclude each "
                         "other");
    if (!watch && (timeout_s != CLI_WATCH_TIMEOUT_S ||
                   interval_s != CLI_WATCH_INTERVAL_MS / 1000.0))
        return usage_err("activate: --timeout and --interval go with "
                         "--watch");
    if (watch)
        return cli_watch(c, (unsigned)timeout_s,
                         (unsigned)(interval_s * 1000.0 + 0.5));
    rc = cli_request(&status, &j, c, "POST",
                     wait ? TASK_PATH "/activate?wait=1"
                          : TASK_PATH "/activate",
                     NULL, NULL, 0, &err);
    code = cli_report(c, status, j, rc, &err, wait ? human_summary : NULL);
    /* The run waited for failed (it could not load its inputs: the
     * database down...): the summary is printed and the exit code says
     * so (issue 10). A run that merely did not converge is progress. */
    if (code == CLI_EXIT_OK && wait && jsonu_str(j, "error")) {
        fflush(stdout); /* the summary first, then why */
        fprintf(stderr, "replicator: the run failed: %s\n",
                jsonu_str(j, "error"));
        code = CLI_EXIT_FAILED;
    }
    json_decref(j);
    return code;
}

static int cmd_status(const struct cli *c, int argc, char **argv)
{
    struct cli local = *c;
    cli_human_fn human = human_status;
    char path[128];
    uint64_t limit = 20;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--limit") && i + 1 < argc &&
            parse_u64(&limit, argv[i + 1]) == 0) {
            i++;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *f = argv[++i];

            if (!strcmp(f, "json")) {
                local.json = true;
            } else if (!strcmp(f, "omdb")) {
                local.json = false;
                human = omdb_status;
            } else if (!strcmp(f, "table")) {
                local.json = false;
            } else {
                return usage_err("status: --format table|json|omdb");
            }
        } else {
            return usage_err("status: unknown argument");
        }
    }
    snprintf(path, sizeof(path), TASK_PATH "?limit=%" PRIu64, limit);
    return cli_simple(&local, "GET", path, NULL, human);
}

static void human_reset(const json_t *r)
{
    const json_t *prev = json_object_get(r, "previous_generation");

    printf("sled %s: ledger reset to generation %" JSON_INTEGER_FORMAT
           " (was %s%" JSON_INTEGER_FORMAT "); %" JSON_INTEGER_FORMAT
           " wanted artifacts, restored from its trash where held\n",
           jsonu_str(r, "id") ? jsonu_str(r, "id") : "?",
           ival(r, "generation"), json_is_integer(prev) ? "" : "none ",
           json_is_integer(prev) ? json_integer_value(prev) : 0,
           ival(r, "artifacts"));
}

/* sled reset-ledger ID [--generation G] [--reason TEXT] */
static int cmd_reset_ledger(const struct cli *c, int argc, char **argv)
{
    char path[160];
    uint64_t g = 0;
    const char *reason = NULL;
    json_t *body;
    char *text;
    int code;

    if (argc < 3 || strlen(argv[2]) >= 64 || strchr(argv[2], '/'))
        return usage_err("sled reset-ledger ID [--generation G] "
                         "[--reason TEXT]");
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--generation") && i + 1 < argc &&
            parse_u64(&g, argv[i + 1]) == 0 && g > 0)
            i++;
        else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
            reason = argv[++i];
        else
            return usage_err("sled reset-ledger: unknown argument");
    }
    body = json_object();
    if (body && g)
        json_object_set_new(body, "generation", json_integer((json_int_t)g));
    if (body && reason)
        json_object_set_new(body, "reason", json_string(reason));
    text = body ? jsonu_dumps(body) : NULL;
    json_decref(body);
    if (!text) {
        fprintf(stderr, "replicator: out of memory\n");
        return 1;
    }
    snprintf(path, sizeof(path), "/sled-agents/%s/reset-ledger", argv[2]);
    code = cli_simple(c, "POST", path, text, human_reset);
    mem_free(text);
    return code;
}

static void human_resume(const json_t *r)
{
    printf("sled %s: override %s cleared; the sled converges at the next "
           "run\n", jsonu_str(r, "id") ? jsonu_str(r, "id") : "?",
           jsonu_str(r, "override") ? jsonu_str(r, "override") : "?");
}

/* sled resume ID --override UUID: the end of an out-of-band install hold
 * (the replicator clears the sled's override over its API). */
static int cmd_resume(const struct cli *c, int argc, char **argv)
{
    char path[160];
    json_t *body;
    char *text;
    int code;

    if (argc != 5 || strcmp(argv[3], "--override") != 0 ||
        strlen(argv[2]) >= 64 || strchr(argv[2], '/'))
        return usage_err("sled resume ID --override UUID");
    body = json_pack("{s:s}", "override", argv[4]);
    text = body ? jsonu_dumps(body) : NULL;
    json_decref(body);
    if (!text) {
        fprintf(stderr, "replicator: out of memory\n");
        return 1;
    }
    snprintf(path, sizeof(path), "/sled-agents/%s/resume", argv[2]);
    code = cli_simple(c, "POST", path, text, human_resume);
    mem_free(text);
    return code;
}

int cli_task_main(const struct cli *c, int argc, char **argv)
{
    char path[160];
    uint64_t g;

    if (!strcmp(argv[0], "activate"))
        return cmd_activate(c, argc, argv);
    if (!strcmp(argv[0], "status"))
        return cmd_status(c, argc, argv);
    if (!strcmp(argv[0], "sled")) {
        if (argc == 2 && !strcmp(argv[1], "list"))
            return cli_simple(c, "GET", "/sled-agents", NULL, human_sleds);
        if (argc == 3 && !strcmp(argv[1], "expunge") &&
            strlen(argv[2]) < 64 && !strchr(argv[2], '/')) {
            snprintf(path, sizeof(path), "/sled-agents/%s/expunge", argv[2]);
            return cli_simple(c, "POST", path, NULL, human_generic);
        }
        if (argc >= 3 && !strcmp(argv[1], "reset-ledger"))
            return cmd_reset_ledger(c, argc, argv);
        if (argc >= 2 && !strcmp(argv[1], "resume"))
            return cmd_resume(c, argc, argv);
        return usage_err("sled: list | expunge ID | reset-ledger ID | "
                         "resume ID --override UUID");
    }
    if (!strcmp(argv[0], "generation")) {
        if (argc == 3 && !strcmp(argv[1], "bump") &&
            !strcmp(argv[2], "--past-fleet"))
            return cli_simple(c, "POST", "/generation/bump-past-fleet", NULL,
                              human_generic);
        if (argc == 3 && !strcmp(argv[1], "confirm") &&
            parse_u64(&g, argv[2]) == 0 && g > 0) {
            snprintf(path, sizeof(path), "/generation/%" PRIu64 "/confirm",
                     g);
            return cli_simple(c, "POST", path, NULL, human_generic);
        }
        return usage_err("generation: bump --past-fleet | confirm G");
    }
    return usage_err("unknown command");
}
