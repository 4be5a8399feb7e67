/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task_harness: a test-only replicator that serves the reconciliation
 * task's API (api_task.c, api_sled.c) and /metrics exactly as
 * `replicator serve` wires them: one libevent loop, the staging
 * directory, the task with its own workers, the HTTP server on the given
 * address (port 0 by default) and a port file {"api": P}. Used by the
 * task's integration tests until serve.c is wired, and to run two task
 * instances against one database. SIGTERM/SIGINT: stop, let the run
 * finish, exit 0. Main thread.
 *
 *   task_harness --db URL --staging DIR --port-file F [--listen H:P]
 *     [--period S] [--no-periodic | --periodic] [--min-sled-replication N]
 *     [--lost-grace S] [--stuck-after S] [--copy-stall S] [--seed N] [--max-inflight N]
 *     [--rate-limit BYTES_PER_SEC] [--request-secs S] [--stall S]
 *     [--put-fanout N]
 *   task_harness cli [--url URL] [--json] COMMAND...   (cli_task_main, as
 *     `replicator COMMAND` will run it once cli.c dispatches to it)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "replicator/api_task.h"
#include "replicator/cli.h"
#include "replicator/cli_task.h"
#include "replicator/staging.h"
#include "replicator/db/sled_db.h"
#include "replicator/task/task.h"

struct harness {
    struct event_base *base;
    struct task *task;
    struct httpd *srv;
    struct event *tick;
};

static void on_metrics(struct httpd_req *r, void *arg)
{
    struct harness *h = arg;
    struct buf b = BUF_INIT;

    if (api_task_metrics(h->task, &b) < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    else
        httpd_reply_data(r, 200, "text/plain; version=0.0.4", b.data,
                         b.len);
    buf_release(&b);
}

#define HARNESS_HANDLER(name, fn)                                   \
    static void name(struct httpd_req *r, void *arg)                \
    {                                                               \
        fn(((struct harness *)arg)->task, r);                       \
    }

HARNESS_HANDLER(on_status, api_task_status)
HARNESS_HANDLER(on_activate, api_task_activate)
HARNESS_HANDLER(on_sled_list, api_sled_list)
HARNESS_HANDLER(on_sled_upsert, api_sled_upsert)
HARNESS_HANDLER(on_sled_expunge, api_sled_expunge)
HARNESS_HANDLER(on_sled_reset, api_sled_reset_ledger)
HARNESS_HANDLER(on_sled_resume, api_sled_resume)
HARNESS_HANDLER(on_gen_bump, api_generation_bump)
HARNESS_HANDLER(on_gen_confirm, api_generation_confirm)

#define HARNESS_ROUTE(label, m, path, fn)                            \
    {.name = (label), .methods = (m), .pattern = (path),            \
     .on_request = (fn), .bad_capture = "sled id must be a UUID",   \
     .roles = HTTPD_ROLE_ALL}

/* The task's part of the replicator API (api_routes.c), as serve wires
 * it. */
static const struct httpd_route harness_routes[] = {
    HARNESS_ROUTE("task_status", HTTPD_M_GET,
                  "/background-tasks/tuf_artifact_replication", on_status),
    HARNESS_ROUTE("task_activate", HTTPD_M_POST,
                  "/background-tasks/tuf_artifact_replication/activate",
                  on_activate),
    HARNESS_ROUTE("sled_agents", HTTPD_M_GET, "/sled-agents", on_sled_list),
    HARNESS_ROUTE("sled_agents", HTTPD_M_PUT, "/sled-agents/{id}",
                  on_sled_upsert),
    HARNESS_ROUTE("sled_agents", HTTPD_M_POST, "/sled-agents/{id}/expunge",
                  on_sled_expunge),
    HARNESS_ROUTE("sled_agents", HTTPD_M_POST,
                  "/sled-agents/{id}/reset-ledger", on_sled_reset),
    HARNESS_ROUTE("sled_agents", HTTPD_M_POST, "/sled-agents/{id}/resume",
                  on_sled_resume),
    HARNESS_ROUTE("generation", HTTPD_M_POST, "/generation/bump-past-fleet",
                  on_gen_bump),
    HARNESS_ROUTE("generation", HTTPD_M_POST,
                  "/generation/{generation}/confirm", on_gen_confirm),
    HARNESS_ROUTE("metrics", HTTPD_M_GET, "/metrics", on_metrics),
};

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct harness *h = arg;

    (void)fd;
    (void)what;
    if (task_idle(h->task))
        event_base_loopbreak(h->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct harness *h = arg;
    struct timeval tv = {0, 50000};

    (void)sig;
    (void)what;
    task_shutdown(h->task);
    httpd_stop_accepting(h->srv);
    if (!h->tick) {
        h->tick = event_new(h->base, -1, EV_PERSIST, drain_tick, h);
        if (!h->tick || event_add(h->tick, &tv) < 0)
            event_base_loopbreak(h->base);
    }
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096], text[64];
    int fd, n = snprintf(text, sizeof(text), "{\"api\": %u}\n", port);

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, text, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

static int num(uint64_t *out, const char *s)
{
    return parse_u64(out, s) < 0 ? -1 : 0;
}

static int run_cli(int argc, char **argv)
{
    struct cli c = {"http://127.0.0.1:12221", false, NULL, NULL, NULL};
    int i = 0, code;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json"))
            c.json = true;
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            c.url = argv[++i];
        else
            return CLI_EXIT_USAGE;
    }
    if (i >= argc)
        return CLI_EXIT_USAGE;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    code = cli_task_main(&c, argc - i, argv + i);
    curl_global_cleanup();
    return code;
}

int main(int argc, char **argv)
{
    struct task_config cfg;
    struct httpd_opts ho;
    struct httpd_service svc = {
        harness_routes, sizeof(harness_routes) / sizeof(harness_routes[0]),
        NULL, NULL, NULL, 0};
    struct harness h;
    struct staging *st = NULL;
    struct err err = ERR_INIT;
    struct event *sig1 = NULL, *sig2 = NULL;
    const char *staging = NULL, *port_file = NULL, *listen = "127.0.0.1:0";
    char host[128];
    uint16_t port = 0;
    uint64_t v;
    int code = 1;

    mem_init();
    log_init("task_harness", LOG_INFO, 2);
    if (argc >= 2 && !strcmp(argv[1], "cli"))
        return run_cli(argc - 2, argv + 2);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&h, 0, sizeof(h));
    task_config_default(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--no-periodic")) {
            cfg.periodic = false;
            continue;
        }
        if (!strcmp(a, "--periodic")) { /* undoes an earlier --no-periodic */
            cfg.periodic = true;
            continue;
        }
        if (!strcmp(a, "--peers-authenticated")) {
            /* no TLS in the harness: no sled is verified, none trusted */
            cfg.peers_authenticated = true;
            continue;
        }
        if (!next)
            goto usage;
        i++;
        if (!strcmp(a, "--db"))
            cfg.db = next;
        else if (!strcmp(a, "--staging"))
            staging = next;
        else if (!strcmp(a, "--port-file"))
            port_file = next;
        else if (!strcmp(a, "--listen"))
            listen = next;
        else if (!strcmp(a, "--period") && !num(&v, next))
            cfg.period_secs = v;
        else if (!strcmp(a, "--min-sled-replication") && !num(&v, next) && v)
            cfg.min_sled_replication = (uint32_t)v;
        else if (!strcmp(a, "--lost-grace") && !num(&v, next))
            cfg.lost_grace_secs = v;
        else if (!strcmp(a, "--stuck-after") && !num(&v, next))
            cfg.stuck_after_secs = v;
        else if (!strcmp(a, "--copy-stall") && !num(&v, next))
            cfg.copy_stall_secs = (long)v;
        else if (!strcmp(a, "--rate-limit") && !num(&v, next))
            cfg.rate_limit_bps = v;
        else if (!strcmp(a, "--request-secs") && !num(&v, next))
            cfg.request_secs = (long)v;
        else if (!strcmp(a, "--stall") && !num(&v, next) && v)
            cfg.stall_secs = (long)v;
        else if (!strcmp(a, "--seed") && !num(&v, next))
            cfg.seed = v;
        else if (!strcmp(a, "--max-inflight") && !num(&v, next) && v)
            cfg.max_inflight = (unsigned)v;
        else if (!strcmp(a, "--put-fanout") && !num(&v, next) && v)
            cfg.limits.put_fanout = (uint32_t)v;
        else if (!strcmp(a, "--sled-cap") && !num(&v, next) && v)
            sled_db__set_cap((unsigned)v); /* registry cap, lowered */
        else
            goto usage;
    }
    if (!cfg.db || !staging ||
        parse_hostport(host, sizeof(host), &port, listen) < 0)
        goto usage;
    if (staging_open(&st, staging, &err) < 0) {
        fprintf(stderr, "task_harness: staging: %s\n", err.msg);
        goto out;
    }
    h.base = event_base_new();
    if (!h.base || task_new(&h.task, h.base, &cfg, st, &err) < 0) {
        fprintf(stderr, "task_harness: %s\n", err.msg);
        goto out;
    }
    memset(&ho, 0, sizeof(ho));
    ho.host = host;
    ho.port = port;
    ho.name = "api";
    svc.arg = &h;
    if (httpd_new(&h.srv, h.base, &ho, &svc, &err) < 0) {
        fprintf(stderr, "task_harness: %s\n", err.msg);
        goto out;
    }
    sig1 = evsignal_new(h.base, SIGTERM, on_signal, &h);
    sig2 = evsignal_new(h.base, SIGINT, on_signal, &h);
    if (!sig1 || !sig2 || evsignal_add(sig1, NULL) < 0 ||
        evsignal_add(sig2, NULL) < 0 || task_start(h.task) < 0)
        goto out;
    if (port_file && write_port_file(port_file, httpd_port(h.srv)) < 0) {
        fprintf(stderr, "task_harness: port file: %s\n", strerror(errno));
        goto out;
    }
    event_base_dispatch(h.base);
    code = 0;
    goto out;
usage:
    fprintf(stderr, "usage: task_harness --db URL --staging DIR "
                    "[--port-file F] [options]\n");
    code = 2;
out:
    httpd_free(h.srv);
    task_free(h.task);
    if (sig1)
        event_free(sig1);
    if (sig2)
        event_free(sig2);
    if (h.tick)
        event_free(h.tick);
    if (h.base)
        event_base_free(h.base);
    staging_free(st);
    curl_global_cleanup();
    return code;
}
