/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_api: the sledagent's agent API (DESIGN.md section 2, docs/API.md),
 * the controller's side of the node: its whole route table (routes[] at
 * the end of this file) and the handlers: the artifact config, the
 * inventory, streamed PUT /artifacts/{sha256} (including the restore of
 * an artifact held in trash/), copy-from-depot, the copies list and the
 * metrics text. Loop thread only.
 */
#include "sledagent/agent_api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/artifact_config.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/pieces.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/prom.h"
#include "common/parse.h"
#include "common/sha256.h"
#include "sledagent/agent_internal.h"
#include "sledagent/copy.h"
#include "sledagent/copy_swarm.h"
#include "sledagent/inbound.h"
#include "sledagent/put_pieces.h"

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
    /* a PUT naming a manifest: while it is fetched (pp) the body's reads
     * are paused and what was read already waits in held; a body that
     * ended meanwhile is finished once the fetch is done (finish_wait) */
    struct put_pieces *pp;
    struct evbuffer *held;
    bool finish_wait;
    bool inflow; /* counted in a->inbound until the body stops */
};

/* The body started flowing, or stopped (ended, failed, client gone). */
static void put_inflow(struct put *p, bool on)
{
    if (on == p->inflow)
        return;
    p->inflow = on;
    if (on)
        inbound_put_begin(p->a->inbound);
    else
        inbound_put_end(p->a->inbound);
}

/* ---- PUT /artifacts/{sha256} ---- */

static void put_done(int rc, const struct err *err, unsigned datasets,
                     unsigned successful, void *arg);

static int put_data(struct httpd_req *r, struct evbuffer *data,
                    struct err *err, void *arg)
{
    struct put *p = arg;
    size_t n = evbuffer_get_length(data);
    int rc;

    (void)r;
    inbound_put_bytes(p->a->inbound, n);
    if (p->restoring) {
        /* the restored copies answer: these bytes are not needed */
        evbuffer_drain(data, n);
        p->bytes += n;
        return 0;
    }
    if (p->pp) {
        /* bounded: reads are paused until the manifest is settled */
        if (evbuffer_add_buffer(p->held, data) < 0) {
            put_inflow(p, false);
            put_pieces_free(p->pp);
            evbuffer_free(p->held);
            store_write_abort(p->w);
            httpd_req_set_data(p->r, NULL);
            mem_free(p);
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        p->bytes += n;
        return 0;
    }
    rc = store_write_data(p->w, data);
    if (rc < 0) {
        put_inflow(p, false);
        store_write_abort(p->w);
        p->w = NULL;
        httpd_req_set_data(p->r, NULL);
        mem_free(p);
        /* NOSPACE: a chunked body (length unknown) outgrew the space */
        if (rc == ERR_NOSPACE)
            return err_set(err, ERR_NOSPACE, "no dataset has free space or "
                           "quota left for the artifact (chunked body)");
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
    put_inflow(p, false);
    if (p->restoring && !p->restored) {
        p->gone = true; /* freed by put_restored */
        return;
    }
    if (!p->restoring)
        store_write_abort(p->w);
    put_pieces_free(p->pp);
    if (p->held)
        evbuffer_free(p->held);
    mem_free(p);
}

/* The manifest of a PUT is settled (m NULL: none; the artifact is then
 * served once complete, as without one): check the body against it from
 * its first byte, hand over what was held and read on. */
static void put_manifest(const struct pieces *m, void *arg)
{
    struct put *p = arg;
    struct err err = ERR_INIT;
    int rc = 0;

    put_pieces_free(p->pp);
    p->pp = NULL;
    if (m && store_write_stream_pieces(p->w, m, &err) < 0)
        log_warn("put_manifest_unused", "{s:s, s:s}", "sha256", p->hex,
                 "error", err.msg);
    else if (m)
        log_info("put_serves_pieces", "{s:s, s:i}", "sha256", p->hex,
                 "pieces", (int)m->count);
    if (evbuffer_get_length(p->held) > 0)
        rc = store_write_data(p->w, p->held);
    evbuffer_free(p->held);
    p->held = NULL;
    if (p->finish_wait) {
        /* a failed hand-over shows as a short body in the finish */
        store_write_finish(p->w, put_done, p);
        return;
    }
    if (rc < 0) {
        /* longer than its length or out of space: the next data or the
         * end of the body reports it; stop taking bytes */
        log_warn("put_held_refused", "{s:s, s:i}", "sha256", p->hex, "rc",
                 rc);
    }
    httpd_req_pause_read(p->r, false);
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

static void put_headers(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct put *p = NULL;
    struct sha256 hash, *h = &hash;
    struct put_query q;
    uint64_t gen;
    int64_t len;

    httpd_req_sha256(h, r, 0);

    /* held for an out-of-band install: the controller writes nothing */
    if (agent_override_check(a, &err) < 0)
        goto reject;
    if (put_pieces_query(&q, httpd_req_query(r), &err) < 0)
        goto reject;
    gen = q.generation;
    /* A chunked body has no length (-1): the writer then checks space
     * as the bytes arrive, as for a copy without a Content-Length. */
    if (httpd_req_body_length(r, &len) < 0) {
        err_set(&err, ERR_INVAL, "Content-Length (or Transfer-Encoding: "
                "chunked) is required");
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
        put_inflow(p, true);
        log_info("artifact_put_from_trash", "{s:s, s:I, s:s}", "sha256",
                 p->hex, "generation", (json_int_t)gen, "request_id",
                 httpd_req_id(r));
        return;
    }
    if (err.code != ERR_NOTFOUND)
        goto reject;
    err = (struct err)ERR_INIT;
    if (store_write_begin(a->st, &p->w, h, gen, len, &err) < 0)
        goto reject;
    store_write_set_flow(p->w, put_flow, p);
    /* a manifest named and a length known: fetch it before the body
     * flows, so that every piece can be checked and served as it passes */
    if (q.has_manifest && len >= 0) {
        struct err ferr = ERR_INIT;

        p->held = evbuffer_new();
        if (!p->held ||
            put_pieces_fetch(&p->pp, a, h, (uint64_t)len, &q, put_manifest,
                             p, &ferr) < 0) {
            if (p->held && ferr.code != ERR_NOTFOUND)
                log_warn("put_manifest_unavailable", "{s:s, s:s}", "sha256",
                         p->hex, "error", ferr.msg);
            if (p->held)
                evbuffer_free(p->held);
            p->held = NULL;
        }
    }
    httpd_req_set_data(r, p);
    httpd_req_stream(r, put_data, put_abort, p);
    put_inflow(p, true);
    if (p->pp)
        httpd_req_pause_read(r, true);
    log_info("artifact_put_started", "{s:s, s:I, s:I, s:s}", "sha256", p->hex,
             "generation", (json_int_t)gen, "content_length",
             (json_int_t)len, "request_id", httpd_req_id(r));
    return;
reject:
    mem_free(p);
    httpd_req_reject(r, &err);
}

/* The body is complete: finish the write, or answer from the restore. */
static void put_request(struct httpd_req *r, void *arg)
{
    struct put *p = httpd_req_data(r);

    (void)arg;
    put_inflow(p, false);
    httpd_req_ref(r);
    httpd_req_set_data(r, NULL);
    if (p->pp) {
        p->finish_wait = true; /* put_manifest finishes it */
    } else if (!p->restoring) {
        store_write_finish(p->w, put_done, p);
    } else {
        p->body_done = true;
        if (p->restored)
            put_reply_restored(p);
    }
}

static void reply_config_get(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    json_t *v;

    if (store_config_get(a->st, &cfg, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    v = artifact_config_to_json(&cfg);
    /* (ext) the override held, while one is */
    if (v && agent_override_add(a, v) < 0) {
        json_decref(v);
        v = NULL;
    }
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

static void reply_config_put(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    const char *body;
    size_t len;

    if (agent_override_check(a, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
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

/* Header time: the generation query, before the body is read. */
static void copy_headers(struct httpd_req *r, void *arg)
{
    struct err err = ERR_INIT;
    uint64_t gen;

    if (agent_override_check(arg, &err) < 0 ||
        httpd_query_generation(&gen, httpd_req_query(r), &err) < 0)
        httpd_req_reject(r, &err);
}

static void reply_copy(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct store_write *w = NULL;
    json_t *body = NULL;
    const char *data;
    struct copy_source src;
    struct sha256 h;
    uint64_t gen;
    size_t len;

    httpd_req_sha256(&h, r, 0);
    httpd_query_generation(&gen, httpd_req_query(r), &err);
    data = httpd_req_body(r, &len);
    body = jsonu_loadb(data, len, LIMIT_JSON_BODY, &err);
    /* with "pieces": a swarm copy (issue 13; copy_swarm.c) */
    if (copy_swarm_requested(body)) {
        if (copy_swarm_start(a->copies, a->st, a->base, r, &h, gen, body,
                             agent_tls_on(&a->opts), &err) < 0)
            httpd_reply_err(r, &err);
        goto out;
    }
    /* checked before anything is contacted */
    if (!body ||
        copy_source_parse(&src, body, agent_tls_on(&a->opts), &err) < 0) {
        if (!err.code)
            err_set(&err, ERR_INVAL, "bad body");
        httpd_reply_err(r, &err);
        goto out;
    }
    /* held in trash/: restore it, download nothing */
    if (copies_start_restore(a->copies, a->st, r, &h, gen, &src, &err) == 0)
        goto out;
    if (err.code != ERR_NOTFOUND) {
        httpd_reply_err(r, &err);
        goto out;
    }
    err = (struct err)ERR_INIT;
    if (store_write_begin_copy(a->st, &w, &h, gen, src.length, &err) < 0) {
        if (!err.code)
            err_set(&err, ERR_INVAL, "bad body");
        httpd_reply_err(r, &err);
        goto out;
    }
    if (copies_start(a->copies, r, w, &h, gen, &src) < 0)
        httpd_reply_error(r, 500, NULL, "cannot start the copy");
out:
    json_decref(body);
}

/* The agent's own families of GET /metrics, after the store's and copies'. */
static int agent_metrics(const struct agent *a, struct buf *out)
{
    static const char req[] = "sledagent_http_requests_total";
    struct prom p;

    prom_init(&p, out);
    prom_family(&p, req, PROM_COUNTER, NULL);
    for (unsigned i = 0; i < a->ncounters; i++) {
        char status[12];

        snprintf(status, sizeof(status), "%d", a->counters[i].status);
        prom_u64(&p, req,
                 (const char *const[]){"endpoint", a->counters[i].route,
                                       "status", status, NULL},
                 a->counters[i].n);
    }
    prom_counter(&p, "sledagent_depot_bytes_total", NULL, a->depot_bytes);
    prom_counter(&p, "sledagent_rejected_requests_total", NULL, a->rejected);
    httpd_metrics(&p, (const struct httpd *const[]){a->api, a->depot}, 2);
    agent_tls_metrics(a, &p);
    return prom_rc(&p);
}

static void reply_text(struct httpd_req *r, struct agent *a)
{
    struct buf b = BUF_INIT;
    int rc = store_metrics(a->st, &b);

    rc = rc < 0 ? rc : copies_metrics(a->copies, &b);
    rc = rc < 0 ? rc : agent_metrics(a, &b);
    if (rc < 0)
        httpd_reply_error(r, 500, NULL, "out of memory");
    else
        httpd_reply_data(r, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_release(&b);
}

/* (ext) ,"override":{...} while one is held. */
static int list_add_override(struct evbuffer *eb, const struct agent *a)
{
    json_t *v;
    char *text;
    int rc;

    if (!override_active(&a->ov))
        return 0;
    v = override_to_json(&a->ov);
    text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    rc = text ? evbuffer_add_printf(eb, ",\"override\":%s", text) : -1;
    mem_free(text);
    json_decref(v);
    return rc < 0 ? -1 : 0;
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
static void reply_list(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct store_list_body *lb = NULL;
    struct evbuffer *eb = NULL;
    struct err err = ERR_INIT;
    struct buf failed = BUF_INIT;
    const char *data;
    size_t len;

    if (store_list_body(a->st, &lb, &err) < 0) {
        httpd_reply_err(r, &err);
        return;
    }
    data = store_list_body_data(lb, &len);
    eb = evbuffer_new();
    /* (ext) the cached object without its closing brace, then the held
     * revocation version (the controller pushes when it is behind) and
     * the room for a write (the controller plans no write that cannot
     * fit) */
    if (!eb || len < 2 || data[len - 1] != '}' ||
        evbuffer_add_reference(eb, data, len - 1, list_body_cleanup, lb) <
            0) {
        /* the reference was not taken over: drop it here */
        store_list_body_unref(lb);
        httpd_reply_error(r, 500, NULL, "out of memory");
    } else if (evbuffer_add_printf(eb, ",\"tls_revocations_version\":%"
                                   PRIu64 ",\"writable_bytes\":%" PRIu64,
                                   a->rev_pushed.version,
                                   store_writable_bytes(a->st)) < 0 ||
               copies_failed_sources(a->copies, &failed) < 0 ||
               evbuffer_add_printf(eb, ",\"copy_sources_failed\":%s",
                                   failed.data) < 0 ||
               list_add_override(eb, a) < 0 ||
               evbuffer_add(eb, "}", 1) < 0) {
        httpd_reply_error(r, 500, NULL, "out of memory");
    } else {
        httpd_reply_evbuffer(r, 200, "application/json", eb);
    }
    if (eb)
        evbuffer_free(eb);
    buf_release(&failed);
}

static void reply_copies(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    json_t *v = copies_json(a->copies);

    httpd_reply_json(r, v ? 200 : 500, v);
    json_decref(v);
}

static void reply_metrics(struct httpd_req *r, void *arg)
{
    reply_text(r, arg);
}

/* Sled reads: the controller and operators. */
#define RD (HTTPD_ROLE_CONTROLLER | HTTPD_ROLE_OPERATOR)

/* The agent API, whole: docs/API.md lists exactly these, roles included
 * (test_route_docs). Mutations are the controller's only. */
static const struct httpd_route routes[] = {
    {.name = "artifacts_config", .methods = HTTPD_M_GET,
     .pattern = "/artifacts-config", .on_request = reply_config_get,
     .roles = RD},
    {.name = "artifacts_config", .methods = HTTPD_M_PUT,
     .pattern = "/artifacts-config", .body_cap = LIMIT_CONFIG_BODY,
     .on_request = reply_config_put, .roles = HTTPD_ROLE_CONTROLLER},
    {.name = "artifacts_config_reset", .methods = HTTPD_M_POST,
     .pattern = "/artifacts-config/reset", .body_cap = LIMIT_CONFIG_BODY,
     .on_request = agent_reply_config_reset, .roles = HTTPD_ROLE_CONTROLLER},
    {.name = "artifacts", .methods = HTTPD_M_GET, .pattern = "/artifacts",
     .on_request = reply_list, .roles = RD},
    {.name = "artifact_put", .methods = HTTPD_M_PUT,
     .pattern = "/artifacts/{sha256}", .body_cap = HTTPD_BODY_LISTENER,
     .stream = true, .on_headers = put_headers, .on_request = put_request,
     .roles = HTTPD_ROLE_CONTROLLER},
    {.name = "copy_from_depot", .methods = HTTPD_M_POST,
     .pattern = "/artifacts/{sha256}/copy-from-depot",
     .on_headers = copy_headers, .on_request = reply_copy,
     .roles = HTTPD_ROLE_CONTROLLER},
    {.name = "copies", .methods = HTTPD_M_GET, .pattern = "/copies",
     .on_request = reply_copies, .roles = RD},
    {.name = "metrics", .methods = HTTPD_M_GET, .pattern = "/metrics",
     .on_request = reply_metrics, .roles = RD},
    {.name = "artifacts_override", .methods = HTTPD_M_DELETE,
     .pattern = "/artifacts-override/{id}",
     .on_request = agent_reply_override_delete,
     .bad_capture = "override id must be a UUID",
     .roles = HTTPD_ROLE_CONTROLLER},
    {.name = "tls_revocations", .methods = HTTPD_M_GET,
     .pattern = "/tls-revocations", .on_request = agent_reply_revocations_get,
     .roles = RD},
    {.name = "tls_revocations", .methods = HTTPD_M_PUT,
     .pattern = "/tls-revocations", .body_cap = LIMIT_TLS_REVOKED_BODY,
     .on_request = agent_reply_revocations_put,
     .roles = HTTPD_ROLE_CONTROLLER},
};

const char *const *agent_api_versions(size_t *n)
{
    /* 48.0.0 is the reference sled-agent API's version at omicron
     * b848b6df, the one its controller's generated client names in every
     * request: our artifact endpoints have its shapes, so we serve it
     * (tests/integration/test_agent_omicron.c). No route differs. */
    static const char *const versions[] = {"1.0.0", "48.0.0"};

    *n = sizeof(versions) / sizeof(versions[0]);
    return versions;
}

const struct httpd_route *agent_api_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
