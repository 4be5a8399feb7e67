/* SPDX-License-Identifier: MPL-2.0 */
/*
 * serve: the `replicator serve` process (see serve.h). The schema check
 * runs before the loop starts (a blocking call is fine there); afterwards
 * every database call runs on the API's workers. Main (loop) thread.
 */
#include "replicator/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sdnotify.h"
#include "replicator/api.h"
#include "replicator/config.h"
#include "replicator/db/db.h"
#include "replicator/staging.h"
#include "replicator/task/task.h"
#include "replicator/ui.h"

#define SERVE_DRAIN_TICK_MS 50
#define SERVE_DRAIN_MAX_TICKS 600 /* 30 s for in-flight work at shutdown */

struct serve {
    struct event_base *base;
    struct api *api;
    struct task *task;
    struct ui_listener *ui;    /* --ui-listen, or NULL */
    struct sdnotify *notify;   /* NULL when not under systemd */
    struct event *tick;
    struct event *sigterm;
    struct event *sigint;
    struct event *sighup;
    unsigned ticks;
};

static int write_port_file(const char *path, unsigned port, unsigned ui,
                           struct err *err)
{
    char text[64];
    int n = ui ? snprintf(text, sizeof(text), "{\"api\": %u, \"ui\": %u}\n",
                          port, ui)
               : snprintf(text, sizeof(text), "{\"api\": %u}\n", port);

    return fsutil_write_atomic(path, NULL, text, (size_t)n, 0644, err);
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct serve *s = arg;

    (void)fd;
    (void)what;
    if ((api_idle(s->api) && task_idle(s->task)) ||
        ++s->ticks > SERVE_DRAIN_MAX_TICKS)
        event_base_loopbreak(s->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct serve *s = arg;
    struct timeval tv = {0, SERVE_DRAIN_TICK_MS * 1000};

    (void)what;
    log_info("shutdown", "{s:i}", "signal", (int)sig);
    sdnotify_stopping(s->notify);
    api_shutdown(s->api);
    ui_listener_stop_accepting(s->ui);
    task_shutdown(s->task);
    if (!s->tick) {
        s->tick = event_new(s->base, -1, EV_PERSIST, drain_tick, s);
        if (!s->tick || event_add(s->tick, &tv) < 0)
            event_base_loopbreak(s->base);
    }
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct serve *s = arg;
    struct err err = ERR_INIT;

    (void)sig;
    (void)what;
    api_reload(s->api, &err); /* logs either way; the old state stays */
}

static int check_schema(const char *conninfo, struct err *err)
{
    struct db *db = NULL;
    int rc = db_open(&db, conninfo, err);

    if (rc == 0)
        rc = db_check_schema(db, err);
    db_close(db);
    return rc;
}

static void task_config_from(struct task_config *out,
                             const struct config *cfg)
{
    task_config_default(out);
    out->db = cfg->db;
    out->period_secs = cfg->period_secs;
    out->periodic = cfg->periodic;
    out->min_sled_replication = (uint32_t)cfg->min_sled_replication;
    out->rate_limit_bps = cfg->rate_limit;
    out->max_inflight = (unsigned)cfg->max_inflight;
    out->max_per_target = (unsigned)cfg->max_per_target;
    out->max_per_source = (unsigned)cfg->max_per_source;
    out->limits.max_copies_per_source = (uint32_t)cfg->max_copies_per_source;
    out->limits.put_fanout = (uint32_t)cfg->put_fanout;
    out->stuck_after_secs = cfg->stuck_after_secs;
    out->prune_keep = (uint32_t)cfg->prune_keep;
    if (!cfg->insecure_plaintext && cfg->tls_cert) {
        out->tls.ca_file = cfg->tls_ca;
        out->tls.cert_file = cfg->tls_cert;
        out->tls.key_file = cfg->tls_key;
        out->peers_authenticated = true;
    }
}

/*
 * Creates the loop, the task and the API on it, and starts the task.
 * Says why on stderr and returns a negative ERR_* on failure.
 */
static int start_loop(struct serve *s, const struct config *cfg,
                      struct staging *st)
{
    struct err err = ERR_INIT;
    struct task_config tc;
    int rc;

    s->base = event_base_new();
    if (!s->base) {
        fprintf(stderr, "replicator serve: cannot create the event loop\n");
        return ERR_NOMEM;
    }
    task_config_from(&tc, cfg);
    rc = task_new(&s->task, s->base, &tc, st, &err);
    if (rc < 0) {
        fprintf(stderr, "replicator serve: %s\n", err.msg);
        return rc;
    }
    rc = api_new(&s->api, s->base, cfg, st, &err);
    if (rc < 0) {
        fprintf(stderr, "replicator serve: %s\n", err.msg);
        return rc;
    }
    if (cfg->ui_host) {
        rc = ui_listener_new(&s->ui, s->base, cfg->ui_host, cfg->ui_port,
                             &err);
        if (rc < 0) {
            fprintf(stderr, "replicator serve: --ui-listen: %s\n", err.msg);
            return rc;
        }
        ui_listener_set_task(s->ui, s->task);
    }
    api_set_task(s->api, s->task);
    rc = task_start(s->task);
    if (rc < 0)
        fprintf(stderr, "replicator serve: cannot start the replication "
                        "task (%s)\n", err_name(rc));
    return rc;
}

/* SIGTERM and SIGINT start the drain (on_signal), SIGHUP reloads TLS
 * (on_hup). 0 or ERR_NOMEM. */
static int add_signals(struct serve *s)
{
    s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sighup = evsignal_new(s->base, SIGHUP, on_hup, s);
    if (!s->sigterm || !s->sigint || !s->sighup ||
        evsignal_add(s->sigterm, NULL) < 0 ||
        evsignal_add(s->sigint, NULL) < 0 ||
        evsignal_add(s->sighup, NULL) < 0) {
        fprintf(stderr, "replicator serve: cannot install signal handlers\n");
        return ERR_NOMEM;
    }
    return 0;
}

static void serve_release(struct serve *s)
{
    sdnotify_free(s->notify);
    ui_listener_free(s->ui);
    api_free(s->api);
    task_free(s->task);
    if (s->sigterm)
        event_free(s->sigterm);
    if (s->sigint)
        event_free(s->sigint);
    if (s->sighup)
        event_free(s->sighup);
    if (s->tick)
        event_free(s->tick);
    if (s->base)
        event_base_free(s->base);
}

int serve_main(int argc, char **argv)
{
    struct config cfg;
    struct err err = ERR_INIT;
    struct staging *st = NULL;
    struct serve s;
    int code = 1, rc;
    uint64_t nofile = 0;

    memset(&s, 0, sizeof(s));
    rc = config_parse(&cfg, argc, argv, &err);
    if (rc == 1) {
        config_release(&cfg);
        return 0;
    }
    /* Here, not in config_parse: the CLI's own checks are not serve's. */
    if (rc == 0 && !cfg.tls_cert && !cfg.insecure_plaintext)
        rc = err_set(&err, ERR_INVAL, "give --tls-ca/--tls-cert/--tls-key, "
                     "or --insecure-plaintext to run without TLS");
    if (rc < 0) {
        fprintf(stderr, "replicator serve: %s\n%s", err.msg, config_usage);
        config_release(&cfg);
        return rc == ERR_INVAL ? 2 : 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Connections and staging files take descriptors: use what the hard
     * limit allows (the default --max-connections follows). */
    if (httpd_limits_raise_nofile(&nofile) < 0)
        log_warn("nofile_not_raised", "{s:I}", "open_file_limit",
                 (json_int_t)nofile);
    if (cfg.blindly_trust_repo_root)
        log_warn("blindly_trusting_repo_root", "{s:s}", "message",
                 "--blindly-trust-repo-root is set: uploads are verified "
                 "against their own root.json, not the operator's trust "
                 "roots. Tests and demos only; never on a real rack.");
    rc = check_schema(cfg.db, &err);
    if (rc < 0) {
        fprintf(stderr, "replicator serve: database: %s\n", err.msg);
        goto out;
    }
    rc = staging_open(&st, cfg.staging, &err);
    if (rc < 0) {
        fprintf(stderr, "replicator serve: --staging %s: cannot use it: "
                "%s\n", cfg.staging, err.msg);
        goto out;
    }
    if (start_loop(&s, &cfg, st) < 0 || add_signals(&s) < 0)
        goto out;
    if (cfg.port_file &&
        write_port_file(cfg.port_file, api_port(s.api),
                        s.ui ? ui_listener_port(s.ui) : 0, &err) < 0) {
        fprintf(stderr, "replicator serve: port file: %s\n", err.msg);
        goto out;
    }
    log_info("listening", "{s:s, s:i, s:s, s:I, s:b, s:I, s:I}", "host",
             cfg.listen_host, "port", (int)api_port(s.api), "staging",
             cfg.staging, "period_secs", (json_int_t)cfg.period_secs,
             "periodic", cfg.periodic, "min_sled_replication",
             (json_int_t)cfg.min_sled_replication, "open_file_limit",
             (json_int_t)nofile);
    /* Schema checked, staging open, listeners bound: ready. */
    if (sdnotify_ready(&s.notify, s.base) < 0) {
        fprintf(stderr, "replicator serve: cannot start the watchdog "
                        "timer\n");
        goto out;
    }
    event_base_dispatch(s.base);
    code = 0;
out:
    serve_release(&s);
    staging_free(st);
    config_release(&cfg);
    return code;
}
