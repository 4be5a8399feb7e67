/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd: a small HTTP/1.1 server over libevent bufferevents, shared by the
 * sledagent's two listeners and the replicator API. Why not evhttp: in
 * libevent 2.1.12 (Debian 12) evhttp reads a server request's whole body
 * into memory before any user callback runs; evhttp_set_newreqcb(), the
 * hook that would let us attach header and chunk callbacks to server
 * requests, only exists from 2.2. Artifacts are up to 2 GiB, so we parse
 * requests ourselves (request line, headers, Content-Length bodies, and
 * chunked bodies on streamed routes (httpd_chunked.h); no pipelining)
 * and get:
 *  - a request context (struct httpd_req) with a random 16-hex request id,
 *    sent as `x-request-id` on every response;
 *  - routing at header time against the service's route table
 *    (httpd_route.h: 404, 405 with Allow, 400 for a malformed capture and
 *    413 are answered by the server), then the route's on_headers, before
 *    any body byte is read, so a rejected request gets its JSON error
 *    without its body being read or stored (the reply closes the connection with a lingering close: write
 *    side shut down, unread body discarded for a bounded time and size, so
 *    the client reads the reply rather than a reset);
 *  - a head over LIMIT_HTTP_HEADERS gets 431, a malformed request line 400
 *    (as soon as its first line is in), both JSON, before the close;
 *  - streaming request bodies: chunks go to a callback as they arrive, with
 *    pause/resume of the socket for backpressure; a route that streams
 *    (httpd_route.stream) also takes `Transfer-Encoding: chunked`, decoded
 *    as it arrives, capped on the decoded size (413), bad framing 400, so
 *    its handler sees the same bytes as for a Content-Length; any other
 *    route answers a chunked request 411;
 *  - bounded buffered bodies for JSON requests (default LIMIT_JSON_BODY);
 *  - JSON replies and errors {"request_id","error_code"?,"message"} mapped
 *    from struct err by err_http_status(); strict query and path helpers;
 *  - file replies read in bounded chunks as the connection drains
 *    (httpd_file.c: a file that shrinks while sent closes the connection
 *    short of its Content-Length, never a fault), idle timeouts, and an
 *    optional shared rate-limit group;
 *  - what one client may take (httpd_limits.c, struct httpd_limits):
 *    connections per listener and per peer (the oldest idle one closed
 *    to make room), accept without a busy loop when out of descriptors,
 *    a deadline for the request head and the TLS handshake, a minimum
 *    rate for request bodies and replies, counters for /metrics.
 * Every request gets exactly one reply: the reply functions are no-ops once
 * a reply was sent or the client is gone.
 *
 * Threading: loop thread only (the event_base given to httpd_new).
 */
#ifndef COMMON_HTTPD_H
#define COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct buf;
struct err;
struct evbuffer;
struct event_base;
struct ev_token_bucket_cfg;
struct bufferevent_rate_limit_group;
struct httpd;
struct httpd_req;
struct httpd_service;
struct httpd_tls;
struct sha256;

#define HTTPD_REQUEST_ID_LEN 16

enum httpd_method {
    HTTPD_GET = 1, HTTPD_HEAD, HTTPD_PUT, HTTPD_POST, HTTPD_DELETE,
    HTTPD_OTHER
};

/* Streamed body: data_fn consumes all of data (it is drained after). A
 * negative return stops the stream and replies with err. abort_fn runs if
 * the client goes away before the body was complete. */
typedef int (*httpd_data_fn)(struct httpd_req *r, struct evbuffer *data,
                             struct err *err, void *arg);
typedef void (*httpd_abort_fn)(struct httpd_req *r, void *arg);

/*
 * What one client may take of a listener (httpd_limits.c; docs/API.md,
 * "Connection limits and deadlines"). A plain value; 0 picks the default
 * of each field.
 */
struct httpd_limits {
    unsigned max_conns;        /* connections on the listener; default
                                  httpd_limits_default_conns(1) */
    unsigned max_conns_per_peer; /* from one address; default
                                  max_conns / 4 (at least 1) */
    unsigned head_secs;        /* a request head, from its first byte;
                                  LIMIT_HTTP_HEAD_SECS */
    uint64_t min_rate_bps;     /* request bodies and replies average at
                                  least this over a window, or the
                                  connection closes; 0: no minimum */
    unsigned rate_window_secs; /* that window; LIMIT_HTTP_RATE_WINDOW_SECS */
};

/* Counters of a listener (httpd_stats), for /metrics. */
struct httpd_stats {
    uint64_t conns;            /* open now */
    uint64_t max_conns, max_conns_per_peer; /* the limits in force */
    uint64_t refused_listener; /* refused: the listener was full */
    uint64_t refused_peer;     /* refused: the peer was at its limit */
    uint64_t evicted;          /* idle connections closed to make room */
    uint64_t accept_failed;    /* accept failed (EMFILE, ENFILE, ...) */
    uint64_t head_timeouts;    /* heads not in by the deadline */
    uint64_t slow_bodies;      /* request bodies under the minimum rate */
    uint64_t slow_replies;     /* replies under the minimum rate */
    uint64_t handshake_timeouts; /* TLS handshakes not done in time */
};

struct httpd_opts {
    const char *host;          /* bind address */
    uint16_t port;             /* 0 picks a free port */
    const char *name;          /* for logs and metrics ("api", "depot") */
    uint64_t max_body_bytes;   /* cap of streamed bodies (413 above) */
    unsigned idle_secs;        /* idle timeout, LIMIT_HTTP_IDLE_SECS if 0 */
    struct bufferevent_rate_limit_group *rate_group; /* may be NULL */
    /* Serve mutual TLS with this context (httpd_tls.h; borrowed, must
     * outlive the server); NULL: plaintext, no roles checked. */
    struct httpd_tls *tls;
    unsigned handshake_secs;   /* TLS handshake deadline,
                                  LIMIT_TLS_HANDSHAKE_SECS if 0 */
    struct httpd_limits limits;
    /* rate_group's rate in bytes/s (0: none): the minimum transfer rate
     * asks no connection for more than its share of it. */
    uint64_t rate_bps;
};

/*
 * Bind and start serving (one listener) the routes of svc (copied; its
 * table is borrowed and must outlive the server). A route's on_headers
 * runs once the request line and headers are in and the request matched
 * it: it may reject (httpd_req_reject) or stream the body
 * (httpd_req_stream); otherwise the body is buffered up to the route's
 * cap. Its on_request runs once the body is complete: it replies now or
 * later. Returns 0, ERR_NOMEM, or ERR_IO (bind failed, err says why).
 */
int httpd_new(struct httpd **out, struct event_base *base,
              const struct httpd_opts *opts, const struct httpd_service *svc,
              struct err *err);

/* The bound port (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);

/*
 * Stop accepting and close every connection: pending requests get their
 * abort_fn. NULL is a no-op.
 */
void httpd_free(struct httpd *h);

/* Stop accepting new connections (shutdown); existing ones continue. */
void httpd_stop_accepting(struct httpd *h);

/* The counters of h's listener (loop thread). */
void httpd_stats(const struct httpd *h, struct httpd_stats *out);

struct prom;
/*
 * The connection-limit families of /metrics for the listeners hs[0..n)
 * (labelled by their names): httpd_connections, httpd_connections_max,
 * httpd_connections_refused_total{reason}, httpd_idle_evicted_total,
 * httpd_accept_failed_total, httpd_head_timeouts_total,
 * httpd_slow_transfers_total{direction}, httpd_handshake_timeouts_total.
 * NULL entries are skipped. Returns prom_rc(p).
 */
int httpd_metrics(struct prom *p, const struct httpd *const *hs, size_t n);

/*
 * Raise the soft open-file limit to the hard limit (at a service's
 * start); *out the soft limit now in force. 0, or ERR_IO (out still set
 * to the limit in force when it can be read, else 0).
 */
int httpd_limits_raise_nofile(uint64_t *out);

/*
 * Default connections per listener for a process with `listeners`
 * listeners: the open-file limit less a reserve, halved (a depot reply
 * also holds its file), shared among the listeners, at most
 * LIMIT_HTTP_CONNECTIONS, at least 16.
 */
unsigned httpd_limits_default_conns(unsigned listeners);

/* ---- request accessors (valid while the request lives) ---- */
enum httpd_method httpd_req_method(const struct httpd_req *r);
const char *httpd_req_method_name(const struct httpd_req *r);
/* Raw (not percent-decoded) path and query; query may be NULL. */
const char *httpd_req_path(const struct httpd_req *r);
const char *httpd_req_query(const struct httpd_req *r);
const char *httpd_req_id(const struct httpd_req *r);
/* Input header or NULL. */
const char *httpd_req_header(const struct httpd_req *r, const char *name);
/*
 * Content-Length: 0 and *out, ERR_NOTFOUND when absent, ERR_INVAL when bad
 * or given more than once (two lengths frame a body two ways).
 */
int httpd_req_content_length(const struct httpd_req *r, uint64_t *out);
/*
 * The framing of the request body: 0 and *out = its Content-Length, or
 * 0 and *out = -1 for a chunked body (its length is known only once it
 * ended; the server decodes it and caps the decoded size, so a streamed
 * handler sees the same bytes either way). ERR_NOTFOUND (*out 0) when
 * the request has neither (no body), ERR_INVAL when the length is bad or
 * over INT64_MAX.
 */
int httpd_req_body_length(const struct httpd_req *r, int64_t *out);
/* The buffered body (NUL-terminated copy is not made): data and length. */
const char *httpd_req_body(struct httpd_req *r, size_t *len);
/* Whether the client is still there and no reply was sent. */
bool httpd_req_open(const struct httpd_req *r);
/* Per-request handler data, and the label a handler sets for metrics. */
void httpd_req_set_data(struct httpd_req *r, void *data);
void *httpd_req_data(const struct httpd_req *r);
void httpd_req_set_route(struct httpd_req *r, const char *route);
const char *httpd_req_route(const struct httpd_req *r);

/* ---- lifetime: handlers replying later hold a reference ---- */
void httpd_req_ref(struct httpd_req *r);
void httpd_req_unref(struct httpd_req *r);

/* ---- body choices, from a route's on_headers only ---- */
/* Reject now (err's code picks the status); body headers are dropped, the
 * connection closes after the reply. */
void httpd_req_reject(struct httpd_req *r, const struct err *err);
void httpd_req_body_cap(struct httpd_req *r, size_t cap);
void httpd_req_stream(struct httpd_req *r, httpd_data_fn data_fn,
                      httpd_abort_fn abort_fn, void *arg);
/* Pause (true) or resume reading the request body (backpressure). */
void httpd_req_pause_read(struct httpd_req *r, bool pause);

/* ---- replies: exactly one per request; no-ops afterwards ---- */
/* Add an output header before the reply. */
void httpd_req_add_header(struct httpd_req *r, const char *name,
                          const char *value);
/* 2xx/other JSON reply; v may be NULL for an empty body (e.g. 204). Does
 * not steal v. */
void httpd_reply_json(struct httpd_req *r, int status, const json_t *v);
/* JSON error from err (status from err_http_status(err->code)); adds
 * Retry-After: 1 for 429. */
void httpd_reply_err(struct httpd_req *r, const struct err *err);
/* Error with an explicit status (404/405 ...). */
void httpd_reply_error(struct httpd_req *r, int status, const char *code,
                       const char *msg);
/* Raw body (copied) with a content type. */
void httpd_reply_data(struct httpd_req *r, int status, const char *ctype,
                      const void *data, size_t len);
/*
 * Reply with len bytes of the open file fd from off (takes fd; closed
 * once read, or when the connection goes). The file is read (pread) in
 * bounded chunks as the connection drains, never mapped; if it ends
 * early or fails to read, the connection closes after the bytes read,
 * short of the Content-Length. HEAD and 204 send no body.
 */
void httpd_reply_file(struct httpd_req *r, int status, const char *ctype,
                      int fd, uint64_t off, uint64_t len);
/* Send an evbuffer (its content is moved); for files: httpd_reply_file. */
void httpd_reply_evbuffer(struct httpd_req *r, int status, const char *ctype,
                          struct evbuffer *body);
/* Callback after each reply: metrics hook (route, status, body bytes). */
typedef void (*httpd_reply_hook)(const struct httpd_req *r, int status,
                                 void *arg);
void httpd_set_reply_hook(struct httpd *h, httpd_reply_hook fn, void *arg);
/*
 * Callback once per reply when its connection is done with it: `bytes` is
 * the part of the reply body that left the server's buffers for the
 * socket (all of it once written, less if the client went away first;
 * HEAD and 204 count 0). For metrics of bytes actually sent.
 */
typedef void (*httpd_sent_hook)(const struct httpd_req *r, uint64_t bytes,
                                void *arg);
void httpd_set_sent_hook(struct httpd *h, httpd_sent_hook fn, void *arg);

/* ---- pure helpers (any thread) ---- */
/* 16 random lowercase hex chars + NUL. */
void httpd_request_id(char out[HTTPD_REQUEST_ID_LEN + 1]);
/* New error object {"request_id","error_code"?,"message"}; NULL on NOMEM. */
json_t *httpd_error_json(const char *request_id, const char *error_code,
                         const char *message);
/* Reason phrase for a status. */
const char *httpd_reason(int status);
/*
 * Strict query: exactly "generation=N" (N per parse_u64, at most
 * INT64_MAX). NULL, empty, other keys, repeats -> ERR_INVAL with err set.
 */
int httpd_query_generation(uint64_t *out, const char *query, struct err *err);
/*
 * If path starts with prefix, set *rest to what follows and return true.
 */
bool httpd_path_prefix(const char **rest, const char *path,
                       const char *prefix);
/*
 * Take the next path segment of exactly 64 lowercase hex chars from *p
 * (advancing *p past it) into out. ERR_INVAL otherwise, err says why.
 */
int httpd_path_sha256(struct sha256 *out, const char **p, struct err *err);

#endif
