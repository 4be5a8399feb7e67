/* SPDX-License-Identifier: MPL-2.0 */
/*
 * apisrv: the replicator API's small HTTP/1.1 server on one libevent loop
 * (evconnlistener + bufferevent). It exists because evhttp in libevent 2.1
 * has no hook to see a request before its whole body is buffered
 * (evhttp_set_newreqcb is 2.2 only), and a repository upload is up to
 * 4 GiB: here a handler sees the request line and headers first, then
 * either buffers a small body under a cap or streams it with backpressure
 * (apisrv_req_pause / apisrv_req_resume). Bodies need Content-Length
 * (chunked bodies are 411); "Expect: 100-continue" is answered; every
 * response closes the connection and carries x-request-id. Errors are JSON
 * {"request_id", "error_code"?, "message"}.
 *
 * Threads: everything here runs on the loop thread that owns base. A
 * request belongs to its handler from the handler call until it replies
 * (exactly once, on every path); a request whose client went away stays
 * valid until that reply, which is then dropped.
 */
#ifndef REPLICATOR_APISRV_H
#define REPLICATOR_APISRV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct apisrv;
struct apisrv_req;
struct err;
struct evbuffer;
struct event_base;

/* Called once the request line and headers of req are read. */
typedef void (*apisrv_handler_fn)(struct apisrv_req *req, void *arg);

/* Whole-body completion of apisrv_req_read_body (body NUL-terminated). */
typedef void (*apisrv_body_fn)(struct apisrv_req *req, const char *body,
                               size_t len, void *arg);

/* Streaming body callbacks (apisrv_req_stream_body). */
struct apisrv_stream_ops {
    /* New bytes in in: take them all (evbuffer_remove_buffer); may pause
     * the request but must not reply (answer in end or abort). */
    void (*data)(struct apisrv_req *req, struct evbuffer *in, void *arg);
    /* All Content-Length bytes were delivered. */
    void (*end)(struct apisrv_req *req, void *arg);
    /* The client went away before the body ended (reply still owed). */
    void (*abort)(struct apisrv_req *req, void *arg);
};

/*
 * Listen on host:port (port 0 picks one) and call handler for each
 * request. *out owns the server (apisrv_free). Returns 0, ERR_INVAL (bad
 * address), ERR_IO (bind/listen failed, err says why) or ERR_NOMEM.
 */
int apisrv_new(struct apisrv **out, struct event_base *base, const char *host,
               uint16_t port, apisrv_handler_fn handler, void *arg,
               struct err *err);

/* The bound port. */
uint16_t apisrv_port(const struct apisrv *srv);

/* Stop accepting new connections (shutdown begins). */
void apisrv_stop_listening(struct apisrv *srv);

/*
 * Close every connection and free the server. Requests still owed a reply
 * are freed too, so call it after the handlers' pending work finished.
 * NULL is a no-op.
 */
void apisrv_free(struct apisrv *srv);

/* Borrowed accessors, valid while req lives. */
const char *apisrv_req_method(const struct apisrv_req *req);
const char *apisrv_req_path(const struct apisrv_req *req);   /* decoded */
const char *apisrv_req_request_id(const struct apisrv_req *req);
/* Query parameter (decoded) or NULL. */
const char *apisrv_req_query(const struct apisrv_req *req, const char *key);
/* Header value (case-insensitive name) or NULL. */
const char *apisrv_req_header(const struct apisrv_req *req, const char *name);
/* Content-Length, or -1 when the request has none. */
int64_t apisrv_req_content_length(const struct apisrv_req *req);

/*
 * Buffer the whole body (at most cap bytes; more is answered 413 by the
 * server itself, which then owns the reply) and call fn on the loop.
 */
void apisrv_req_read_body(struct apisrv_req *req, size_t cap,
                          apisrv_body_fn fn, void *arg);

/* Stream the body through ops (see struct apisrv_stream_ops). */
void apisrv_req_stream_body(struct apisrv_req *req,
                            const struct apisrv_stream_ops *ops, void *arg);

/* Backpressure: stop / restart reading the request body from the socket. */
void apisrv_req_pause(struct apisrv_req *req);
void apisrv_req_resume(struct apisrv_req *req);

/*
 * Send status with a JSON body (json is borrowed) and free req once it is
 * written (or at once if the client is gone).
 */
void apisrv_reply_json(struct apisrv_req *req, int status, const json_t *json);

/* Send a JSON error {request_id, error_code?, message}; frees req. */
void apisrv_reply_error(struct apisrv_req *req, int status,
                        const char *error_code, const char *message);

/* apisrv_reply_error from an err record (status from err_http_status). */
void apisrv_reply_err(struct apisrv_req *req, int rc, const struct err *err);

#endif
