/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent: the sledagent service (see agent.h): routing and handlers of the
 * agent API and the depot, metrics, the shared rate limit and the
 * registration timer. Loop thread only.
 */
#include "sledagent/agent.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/artifact_config.h"
#include "common/buf.h"
#include "common/httpc.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/sha256.h"
#include "sledagent/copy.h"
#include "sledagent/range.h"
#include "sledagent/registration.h"

#define MAX_COUNTERS 128

struct counter {
    const char *route;
    int status;
    uint64_t n;
};

struct agent {
    struct event_base *base;
    struct agent_opts opts;
    struct store *st;
    struct httpd *api, *depot;
    struct httpc_loop *cv; /* common/httpc loop driver */
    struct copies *copies;
    struct ev_token_bucket_cfg *rate_cfg;
    struct bufferevent_rate_limit_group *rate_group;
    struct registration *reg;
    struct counter counters[MAX_COUNTERS];
    unsigned ncounters;
    uint64_t depot_bytes;
    uint64_t rejected;
};

/*
 * A PUT /artifacts/{sha256} in progress. A PUT of an artifact held in
 * trash/ (restoring) reads and drops the body and is answered from the
 * restore (store_restore_wait): p lives until both the body ended (or the
 * client went away) and the restore callback ran.
 */
struct put {
    struct agent *a;
    struct httpd_req *r;
    struct store_write *w;
    uint64_t bytes;
    char hex[SHA256_HEX_LEN + 1];
    bool restoring, restored, body_done, gone;
    int rrc;
    struct err rerr;
    unsigned rdatasets, rcopies;
};

static void count(struct agent *a, const char *route, int status)
{
    for (unsigned i = 0; i < a->ncounters; i++) {
        if (a->counters[i].status == status &&
            strcmp(a->counters[i].route, route) == 0) {
            a->counters[i].n++;
            return;
        }
    }
    if (a->ncounters < MAX_COUNTERS)
        a->counters[a->ncounters++] = (struct counter){route, status, 1};
}

static void on_reply(const struct httpd_req *r, int status, void *arg)
{
    struct agent *a = arg;

    count(a, httpd_req_route(r), status);
    if (status >= 400) {
        a->rejected++;
        log_info("request_rejected", "{s:s, s:s, s:s, s:i}", "request_id",
                 httpd_req_id(r), "method", httpd_req_method_name(r), "path",
                 httpd_req_path(r), "status", status);
    }
}

/* ---- PUT /artifacts/{sha256} ---- */

static int put_data(struct httpd_req *r, struct evbuffer *data,
                    struct err *err, void *arg)
{
    struct put *p = arg;
    size_t n = evbuffer_get_length(data);
    int rc;

    (void)r;
    if (p->restoring) {
        /* the restored copies answer: these bytes are not needed */
        evbuffer_drain(data, n);
        p->bytes += n;
        return 0;
    }
    rc = store_write_data(p->w, data);
    if (rc < 0) {
        store_write_abort(p->w);
        p->w = NULL;
        httpd_req_set_data(p->r, NULL);
        mem_free(p);
        return err_set(err, ERR_TOOBIG, "body longer than its "
                       "Content-Length or the cap");
    }
    p->bytes += n;
    return 0;
}

static void put_abort(struct httpd_req *r, void *arg)
{
    struct put *p = arg;

    (void)r;
    log_info("artifact_put_aborted", "{s:s, s:I}", "sha256", p->hex,
             "bytes", (json_int_t)p->bytes);
    if (p->restoring && !p->restored) {
        p->gone = true; /* freed by put_restored */
        return;
    }
    if (!p->restoring)
        store_write_abort(p->w);
    mem_free(p);
}

static void put_flow(bool pause, void *arg)
{
    struct put *p = arg;

    httpd_req_pause_read(p->r, pause);
}

static void put_done(int rc, const struct err *err, unsigned datasets,
                     unsigned successful, void *arg)
{
    struct put *p = arg;
    json_t *v;

    if (rc < 0) {
        log_info("artifact_put_failed", "{s:s, s:I, s:s}", "sha256", p->hex,
                 "bytes", (json_int_t)p->bytes, "error",
                 err ? err->msg : "");
        httpd_reply_err(p->r, err);
    } else {
        log_info("artifact_written", "{s:s, s:I, s:i, s:i}", "sha256", p->hex,
                 "bytes", (json_int_t)p->bytes, "datasets", (int)datasets,
                 "successful_writes", (int)successful);
        v = json_pack("{s:i, s:i}", "datasets", (int)datasets,
                      "successful_writes", (int)successful);
        httpd_reply_json(p->r, 200, v);
        json_decref(v);
    }
    httpd_req_unref(p->r);
    mem_free(p);
}

/* Both the body and the restore ended: answer as for a write. */
static void put_reply_restored(struct put *p)
{
    json_t *v;

    if (p->rrc < 0) {
        log_info("artifact_put_failed", "{s:s, s:s}", "sha256", p->hex,
                 "error", p->rerr.msg);
        httpd_reply_err(p->r, &p->rerr);
    } else {
        log_info("artifact_put_restored", "{s:s, s:I, s:i, s:i}", "sha256",
                 p->hex, "body_bytes_dropped", (json_int_t)p->bytes,
                 "datasets", (int)p->rdatasets, "successful_writes",
                 (int)p->rcopies);
        v = json_pack("{s:i, s:i}", "datasets", (int)p->rdatasets,
                      "successful_writes", (int)p->rcopies);
        httpd_reply_json(p->r, 200, v);
        json_decref(v);
    }
    httpd_req_unref(p->r);
    mem_free(p);
}

static void put_restored(int rc, const struct err *err, unsigned datasets,
                         unsigned copies, void *arg)
{
    struct put *p = arg;

    p->restored = true;
    p->rrc = rc;
    if (rc < 0 && err)
        p->rerr = *err;
    p->rdatasets = datasets;
    p->rcopies = copies;
    if (p->gone)
        mem_free(p);
    else if (p->body_done)
        put_reply_restored(p);
}

static void put_headers(struct agent *a, struct httpd_req *r,
                        const struct sha256 *h)
{
    struct err err = ERR_INIT;
    struct put *p = NULL;
    uint64_t gen, len;

    if (httpd_query_generation(&gen, httpd_req_query(r), &err) < 0)
        goto reject;
    if (httpd_req_content_length(r, &len) < 0) {
        err_set(&err, ERR_INVAL, "Content-Length is required");
        goto reject;
    }
    p = mem_calloc(1, sizeof(*p));
    if (!p) {
        err_set(&err, ERR_NOMEM, "out of memory");
        goto reject;
    }
    p->a = a;
    p->r = r;
    sha256_to_hex(p->hex, h);
    if (store_restore_wait(a->st, h, gen, put_restored, p, &err) == 0) {
        p->restoring = true;
        httpd_req_set_data(r, p);
        httpd_req_stream(r, put_data, put_abort, p);
        log_info("artifact_put_from_trash", "{s:s, s:I, s:s}", "sha256",
                 p->hex, "generation", (json_int_t)gen, "request_id",
                 httpd_req_id(r));
        return;
    }
    if (err.code != ERR_NOTFOUND)
        goto reject;
    err = (struct err)ERR_INIT;
    if (store_write_begin(a->st, &p->w, h, gen, (int64_t)len, &err) < 0)
        goto reject;
    store_write_set_flow(p->w, put_flow, p);
    httpd_req_set_data(r, p);
    httpd_req_stream(r, put_data, put_abort, p);
    log_info("artifact_put_started", "{s:s, s:I, s:I, s:s}", "sha256", p->hex,
             "generation", (json_int_t)gen, "content_length",
             (json_int_t)len, "request_id", httpd_req_id(r));
    return;
reject:
    mem_free(p);
    httpd_req_reject(r, &err);
}

/* ---- routing of the agent API ---- */

enum api_route { R_NONE, R_CONFIG, R_LIST, R_PUT, R_COPY, R_COPIES,
                 R_METRICS };

static const char *route_names[] = {"other", "artifacts_config",
                                    "artifacts", "artifact_put",
                                    "copy_from_depot", "copies", "metrics"};

static enum api_route api_route_of(const char *path)
{
    if (strcmp(path, "/artifacts-config") == 0)
        return R_CONFIG;
    if (strcmp(path, "/artifacts") == 0)
        return R_LIST;
    if (strcmp(path, "/copies") == 0)
        return R_COPIES;
    if (strcmp(path, "/metrics") == 0)
        return R_METRICS;
    return R_NONE;
}

static void api_headers(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    const char *path = httpd_req_path(r), *rest;
    enum httpd_method m = httpd_req_method(r);
    enum api_route route = api_route_of(path);
    struct err err = ERR_INIT;
    struct sha256 h;
    uint64_t gen;

    if (route == R_CONFIG && m == HTTPD_PUT)
        httpd_req_body_cap(r, LIMIT_CONFIG_BODY);
    if (route != R_NONE) {
        httpd_req_set_route(r, route_names[route]);
        return;
    }
    if (!httpd_path_prefix(&rest, path, "/artifacts/"))
        return; /* 404 in api_request */
    if (httpd_path_sha256(&h, &rest, &err) < 0) {
        httpd_req_reject(r, &err);
        return;
    }
    if (*rest == '\0') {
        httpd_req_set_route(r, route_names[R_PUT]);
        if (m == HTTPD_PUT)
            put_headers(a, r, &h);
    } else if (strcmp(rest, "/copy-from-depot") == 0) {
        httpd_req_set_route(r, route_names[R_COPY]);
        if (m == HTTPD_POST &&
            httpd_query_generation(&gen, httpd_req_query(r), &err) < 0)
            httpd_req_reject(r, &err);
    }
}

static void reply_config_get(struct agent *a, struct httpd_req *r)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    json_t *v;

    if (store_config_get(a->st, &cfg, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    v = artifact_config_to_json(&cfg);
    if (v)
        httpd_reply_json(r, 200, v);
    else
        httpd_reply_error(r, 500, NULL, "out of memory");
    json_decref(v);
    artifact_config_release(&cfg);
}

static void config_put_done(int rc, const struct err *err, void *arg)
{
    struct httpd_req *r = arg;

    if (rc < 0)
        httpd_reply_err(r, err);
    else
        httpd_reply_json(r, 204, NULL);
    httpd_req_unref(r);
}

static void reply_config_put(struct agent *a, struct httpd_req *r)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    const char *body;
    size_t len;

    body = httpd_req_body(r, &len);
    if (artifact_config_parse(&cfg, body, len, &err) < 0) {
        if (err.code == ERR_LIMIT)
            err.code = ERR_INVAL;
        httpd_reply_err(r, &err);
        goto out;
    }
    httpd_req_ref(r);
    if (store_config_put(a->st, &cfg, config_put_done, r, &err) < 0) {
        httpd_req_unref(r);
        httpd_reply_err(r, &err);
        goto out;
    }
    log_info("config_put", "{s:I, s:I, s:s}", "generation",
             (json_int_t)cfg.generation, "artifacts", (json_int_t)cfg.count,
             "request_id", httpd_req_id(r));
out:
    artifact_config_release(&cfg);
}

/* depot_base_url must be exactly http://HOST:PORT (optional final /). */
static int parse_depot_url(char *out, size_t cap, const json_t *body,
                           struct err *err)
{
    const char *url;
    char hostport[200], host[160];
    uint16_t port;
    size_t n;

    if (!json_is_object(body) || json_object_size(body) != 1 ||
        !(url = jsonu_str(body, "depot_base_url")))
        return err_set(err, ERR_INVAL, "body must be {\"depot_base_url\": "
                       "\"http://host:port\"}");
    if (strncmp(url, "http://", 7) != 0)
        return err_set(err, ERR_INVAL, "depot_base_url must start with "
                       "http://");
    n = strlen(url + 7);
    if (n && url[7 + n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(hostport))
        return err_set(err, ERR_INVAL, "depot_base_url: bad host:port");
    memcpy(hostport, url + 7, n);
    hostport[n] = '\0';
    if (strpbrk(hostport, "/?#@ ") ||
        parse_hostport(host, sizeof(host), &port, hostport) < 0 ||
        !host[0] || port == 0)
        return err_set(err, ERR_INVAL, "depot_base_url must be "
                       "http://host:port");
    snprintf(out, cap, "http://%s", hostport);
    return 0;
}

static void reply_copy(struct agent *a, struct httpd_req *r)
{
    struct err err = ERR_INIT;
    struct store_write *w = NULL;
    json_t *body = NULL;
    const char *data, *rest;
    char base[220];
    struct sha256 h;
    uint64_t gen;
    size_t len;

    httpd_path_prefix(&rest, httpd_req_path(r), "/artifacts/");
    httpd_path_sha256(&h, &rest, &err);
    httpd_query_generation(&gen, httpd_req_query(r), &err);
    data = httpd_req_body(r, &len);
    body = jsonu_loadb(data, len, LIMIT_JSON_BODY, &err);
    if (!body || parse_depot_url(base, sizeof(base), body, &err) < 0) {
        if (!err.code)
            err_set(&err, ERR_INVAL, "bad body");
        httpd_reply_err(r, &err);
        goto out;
    }
    /* held in trash/: restore it, download nothing */
    if (copies_start_restore(a->copies, a->st, r, &h, gen, base, &err) == 0)
        goto out;
    if (err.code != ERR_NOTFOUND) {
        httpd_reply_err(r, &err);
        goto out;
    }
    err = (struct err)ERR_INIT;
    if (store_write_begin(a->st, &w, &h, gen, -1, &err) < 0) {
        if (!err.code)
            err_set(&err, ERR_INVAL, "bad body");
        httpd_reply_err(r, &err);
        goto out;
    }
    if (copies_start(a->copies, r, w, &h, gen, base) < 0)
        httpd_reply_error(r, 500, NULL, "cannot start the copy");
out:
    json_decref(body);
}

static void reply_text(struct httpd_req *r, struct agent *a)
{
    struct buf b = BUF_INIT;
    int rc = store_metrics(a->st, &b);

    rc = rc < 0 ? rc : copies_metrics(a->copies, &b);
    rc = rc < 0 ? rc : buf_puts(&b, "# TYPE sledagent_http_requests_total "
                                    "counter\n");
    for (unsigned i = 0; rc >= 0 && i < a->ncounters; i++)
        rc = buf_printf(&b, "sledagent_http_requests_total{endpoint=\"%s\","
                        "status=\"%d\"} %llu\n", a->counters[i].route,
                        a->counters[i].status,
                        (unsigned long long)a->counters[i].n);
    rc = rc < 0 ? rc : buf_printf(&b,
                                  "# TYPE sledagent_depot_bytes_total counter\n"
                                  "sledagent_depot_bytes_total %llu\n"
                                  "# TYPE sledagent_rejected_requests_total "
                                  "counter\n"
                                  "sledagent_rejected_requests_total %llu\n",
                                  (unsigned long long)a->depot_bytes,
                                  (unsigned long long)a->rejected);
    if (rc < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    else
        httpd_reply_data(r, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_release(&b);
}

static void list_body_cleanup(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    store_list_body_unref(arg);
}

/*
 * GET /artifacts: the store's cached body, sent by reference (no copy, no
 * serialization per request); the reply's evbuffer drops the reference
 * once the bytes left for the socket (or the connection went away).
 */
static void reply_list(struct agent *a, struct httpd_req *r)
{
    struct store_list_body *lb = NULL;
    struct evbuffer *eb = NULL;
    struct err err = ERR_INIT;
    const char *data;
    size_t len;

    if (store_list_body(a->st, &lb, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    data = store_list_body_data(lb, &len);
    eb = evbuffer_new();
    if (!eb || evbuffer_add_reference(eb, data, len, list_body_cleanup, lb) <
                   0) {
        /* the reference was not taken over: drop it here */
        store_list_body_unref(lb);
        httpd_reply_error(r, 500, NULL, "out of memory");
    } else {
        httpd_reply_evbuffer(r, 200, "application/json", eb);
    }
    if (eb)
        evbuffer_free(eb);
}

static void method_not_allowed(struct httpd_req *r, const char *allow)
{
    httpd_req_add_header(r, "Allow", allow);
    httpd_reply_error(r, 405, NULL, "method not allowed");
}

static void api_request(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    enum httpd_method m = httpd_req_method(r);
    const char *route = httpd_req_route(r);
    json_t *v;
    struct put *p = httpd_req_data(r);

    if (p) {
        httpd_req_ref(r);
        httpd_req_set_data(r, NULL);
        if (!p->restoring) {
            store_write_finish(p->w, put_done, p);
        } else {
            p->body_done = true;
            if (p->restored)
                put_reply_restored(p);
        }
        return;
    }
    if (strcmp(route, "artifacts_config") == 0) {
        if (m == HTTPD_GET)
            reply_config_get(a, r);
        else if (m == HTTPD_PUT)
            reply_config_put(a, r);
        else
            method_not_allowed(r, "GET, PUT");
    } else if (strcmp(route, "artifacts") == 0) {
        if (m != HTTPD_GET) {
            method_not_allowed(r, "GET");
        } else {
            reply_list(a, r);
        }
    } else if (strcmp(route, "artifact_put") == 0) {
        method_not_allowed(r, "PUT");
    } else if (strcmp(route, "copy_from_depot") == 0) {
        if (m == HTTPD_POST)
            reply_copy(a, r);
        else
            method_not_allowed(r, "POST");
    } else if (strcmp(route, "copies") == 0) {
        if (m != HTTPD_GET) {
            method_not_allowed(r, "GET");
        } else {
            v = copies_json(a->copies);
            httpd_reply_json(r, v ? 200 : 500, v);
            json_decref(v);
        }
    } else if (strcmp(route, "metrics") == 0) {
        if (m != HTTPD_GET)
            method_not_allowed(r, "GET");
        else
            reply_text(r, a);
    } else {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
    }
}

/* ---- depot ---- */

static void depot_headers(struct httpd_req *r, void *arg)
{
    const char *rest;
    struct err err = ERR_INIT;
    struct sha256 h;

    (void)arg;
    if (!httpd_path_prefix(&rest, httpd_req_path(r), "/artifact/sha256/"))
        return;
    httpd_req_set_route(r, "depot_get");
    if (httpd_path_sha256(&h, &rest, &err) < 0 || *rest != '\0') {
        if (!err.code)
            err_set(&err, ERR_INVAL, "bad artifact path");
        httpd_req_reject(r, &err);
    }
}

static void depot_request(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    const char *rest;
    struct sha256 h;
    struct range rg;
    struct evbuffer *b = NULL;
    char cr[80];
    uint64_t size;
    int fd = -1;
    enum range_result rr;

    if (strcmp(httpd_req_route(r), "depot_get") != 0) {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
        return;
    }
    if (httpd_req_method(r) != HTTPD_GET && httpd_req_method(r) != HTTPD_HEAD) {
        method_not_allowed(r, "GET, HEAD");
        return;
    }
    httpd_path_prefix(&rest, httpd_req_path(r), "/artifact/sha256/");
    httpd_path_sha256(&h, &rest, &err);
    if (store_open_artifact(a->st, &h, &fd, &size, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    httpd_req_add_header(r, "Accept-Ranges", "bytes");
    rr = range_parse(&rg, httpd_req_header(r, "Range"), size);
    if (rr == RANGE_UNSATISFIABLE) {
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        httpd_req_add_header(r, "Content-Range", cr);
        httpd_reply_error(r, 416, NULL, "range not satisfiable");
        close(fd);
        return;
    }
    b = evbuffer_new();
    /* evbuffer_add_file takes fd (closed when sent) and uses sendfile. */
    if (!b || (rg.len > 0 && evbuffer_add_file(b, fd, (ev_off_t)rg.start,
                                               (ev_off_t)rg.len) < 0)) {
        close(fd);
        httpd_reply_error(r, 500, NULL, "cannot queue the file");
        goto out;
    }
    if (rg.len == 0)
        close(fd);
    if (rr == RANGE_PARTIAL) {
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
                 (unsigned long long)rg.start,
                 (unsigned long long)(rg.start + rg.len - 1),
                 (unsigned long long)size);
        httpd_req_add_header(r, "Content-Range", cr);
    }
    httpd_reply_evbuffer(r, rr == RANGE_PARTIAL ? 206 : 200,
                         "application/octet-stream", b);
out:
    if (b)
        evbuffer_free(b);
}

/* Depot bytes are counted as they leave for the socket, not as queued. */
static void on_sent(const struct httpd_req *r, uint64_t bytes, void *arg)
{
    struct agent *a = arg;

    if (strcmp(httpd_req_route(r), "depot_get") == 0)
        a->depot_bytes += bytes;
}

static int reg_start(struct agent *a)
{
    struct registration_opts ro = {0};

    ro.replicator_url = a->opts.replicator_url;
    ro.id = a->opts.id;
    ro.host = a->opts.advertise_host ? a->opts.advertise_host
                                     : a->opts.api_host;
    ro.api_port = httpd_port(a->api);
    ro.depot_port = httpd_port(a->depot);
    ro.interval_secs = a->opts.register_secs;
    return registration_new(&a->reg, a->base, a->cv, &ro);
}

/* ---- lifecycle ---- */

int agent_new(struct agent **out, struct event_base *base,
              const struct agent_opts *opts, struct err *err)
{
    struct agent *a = mem_calloc(1, sizeof(*a));
    struct httpd_ops api_ops = {api_headers, api_request};
    struct httpd_ops depot_ops = {depot_headers, depot_request};
    struct httpd_opts ho = {0};
    struct copies_opts co = {0};
    int rc;

    *out = NULL;
    if (!a)
        return err_set(err, ERR_NOMEM, "out of memory");
    a->base = base;
    a->opts = *opts;
    if (opts->rate_limit) {
        size_t rate = (size_t)opts->rate_limit;

        a->rate_cfg = ev_token_bucket_cfg_new(rate, rate, rate, rate, NULL);
        a->rate_group = a->rate_cfg
                            ? bufferevent_rate_limit_group_new(base,
                                                               a->rate_cfg)
                            : NULL;
        if (!a->rate_group) {
            rc = err_set(err, ERR_NOMEM, "cannot create the rate limit");
            goto out;
        }
    }
    if ((rc = store_open(&a->st, base, &opts->store, err)) < 0)
        goto out;
    if ((rc = httpc_loop_new(&a->cv, base)) < 0) {
        err_set(err, rc, "cannot create the HTTP client loop");
        goto out;
    }
    co.connect_secs = opts->copy_connect_secs;
    co.stall_secs = opts->copy_stall_secs;
    /* Copies divide the rate among themselves (copy.c); they do not draw
     * from the connections' token bucket (documented in docs/API.md). */
    co.max_recv_bps = opts->rate_limit;
    if ((rc = copies_new(&a->copies, a->cv, &co)) < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    ho.max_body_bytes = opts->store.max_body_bytes
                            ? opts->store.max_body_bytes
                            : LIMIT_ARTIFACT_BODY_DEFAULT;
    ho.rate_group = a->rate_group;
    ho.host = opts->api_host;
    ho.port = opts->api_port;
    ho.name = "api";
    if ((rc = httpd_new(&a->api, base, &ho, &api_ops, a, err)) < 0)
        goto out;
    ho.host = opts->depot_host;
    ho.port = opts->depot_port;
    ho.name = "depot";
    if ((rc = httpd_new(&a->depot, base, &ho, &depot_ops, a, err)) < 0)
        goto out;
    httpd_set_reply_hook(a->api, on_reply, a);
    httpd_set_reply_hook(a->depot, on_reply, a);
    httpd_set_sent_hook(a->depot, on_sent, a);
    log_info("listening", "{s:s, s:i, s:s, s:i}", "api_host", opts->api_host,
             "api_port", (int)httpd_port(a->api), "depot_host",
             opts->depot_host, "depot_port", (int)httpd_port(a->depot));
    if (opts->replicator_url && (rc = reg_start(a)) < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    *out = a;
    a = NULL;
out:
    agent_free(a);
    return rc;
}

uint16_t agent_api_port(const struct agent *a)
{
    return httpd_port(a->api);
}

uint16_t agent_depot_port(const struct agent *a)
{
    return httpd_port(a->depot);
}

void agent_stop_accepting(struct agent *a)
{
    httpd_stop_accepting(a->api);
    httpd_stop_accepting(a->depot);
    registration_stop(a->reg);
}

void agent_free(struct agent *a)
{
    if (!a)
        return;
    /* Order matters: connections (aborting unfinished uploads) and copies
     * go before the store, whose close invalidates unfinished writes. */
    httpd_free(a->api);
    httpd_free(a->depot);
    copies_cancel_all(a->copies);
    registration_free(a->reg);
    store_close(a->st);
    copies_free(a->copies);
    httpc_loop_free(a->cv);
    if (a->rate_group)
        bufferevent_rate_limit_group_free(a->rate_group);
    if (a->rate_cfg)
        ev_token_bucket_cfg_free(a->rate_cfg);
    mem_free(a);
}
