/* SPDX-License-Identifier: MPL-2.0 */
/*
 * http_client: the HTTP client of the integration and fault tests.
 * - http_client_request(): one request over libcurl easy: any method, a
 *   body from memory or from a generator callback (for large streaming
 *   bodies, with an explicit Content-Length, optionally throttled),
 *   response status, body and headers.
 * - http_client_start()/_join(): the same request on its own thread, so a
 *   test can act (kill the server, fill the write slots) while it runs.
 * - http_client_pieces_gen: a memory body sent in pieces (chunked).
 * - http_client_raw_*: a raw TCP sender for malformed HTTP (short or long
 *   bodies, oversized headers, idle connections) that curl will not send;
 *   http_client_refused_port: a port where connecting is refused;
 *   http_client_listener: a fake server's listening socket.
 * SIGPIPE is ignored process-wide on first use (a peer closing mid-body
 * must be an error, not the death of the test). Any thread; one request
 * per struct.
 */
#ifndef TESTS_SUPPORT_HTTP_CLIENT_H
#define TESTS_SUPPORT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/httpc.h"

struct err;
struct http_client_async;

/*
 * Body generator: fill at most cap bytes of buf with the body bytes that
 * start at offset. Return the count (0 = end of body), or -1 to abort the
 * transfer (the connection is closed mid-body).
 */
typedef long (*http_client_gen_fn)(void *buf, size_t cap, uint64_t offset,
                                   void *arg);

/*
 * A memory body handed over at most piece bytes at a time (each read
 * becomes one chunk of a chunked body): http_client_pieces_gen's arg.
 */
struct http_client_pieces {
    const char *data;
    size_t len, piece;
};

/* http_client_gen_fn over a struct http_client_pieces. */
long http_client_pieces_gen(void *buf, size_t cap, uint64_t offset,
                            void *arg);

struct http_client_req {
    const char *method;        /* "GET" when NULL */
    const char *url;
    const void *body;          /* memory body (with body_len) or NULL */
    size_t body_len;
    http_client_gen_fn gen;    /* generator body; wins over body */
    void *gen_arg;
    uint64_t content_length;   /* sent as Content-Length with gen */
    const char *const *headers; /* extra "Name: value" lines, NULL-ended */
    const char *api_version;   /* httpc_spec.api_version; NULL: none */
    long timeout_ms;           /* whole request; 0 = 120 s */
    uint64_t max_send_bps;     /* upload throttle; 0 = none */
    size_t max_resp_body;      /* bytes of body kept; 0 = 64 MiB */
    /* Mutual TLS of this request (strings borrowed); no cert_file: the
     * process default of http_client_set_tls, if any, else plaintext. */
    struct httpc_tls tls;
};

struct http_client_resp {
    long status;          /* 0 until a response arrived */
    struct buf body;      /* at most max_resp_body bytes */
    uint64_t body_total;  /* bytes received, even beyond the cap */
    struct buf headers;   /* raw header lines of the final response */
};

#define HTTP_CLIENT_RESP_INIT {0, BUF_INIT, 0, BUF_INIT}

/*
 * Perform req. Returns 0 when a response status line was received (any
 * status; the body may still have been cut), ERR_IO for a transport
 * failure before that (err says curl's reason), ERR_TIMEOUT, ERR_NOMEM.
 * resp is reset first; release it with http_client_resp_release.
 */
int http_client_request(struct http_client_resp *resp,
                        const struct http_client_req *req, struct err *err);

/* Shorthands; body may be NULL (no body). */
int http_client_get(struct http_client_resp *resp, const char *url);
int http_client_send(struct http_client_resp *resp, const char *method,
                     const char *url, const void *body, size_t len);

void http_client_resp_release(struct http_client_resp *resp);

/*
 * Copy the value of header name (case-insensitive, first occurrence) into
 * out (capacity cap, trimmed). Returns true if present.
 */
bool http_client_header(const struct http_client_resp *resp,
                        const char *name, char *out, size_t cap);

/* The body parsed as JSON (new reference), or NULL. */
json_t *http_client_json(const struct http_client_resp *resp);

/*
 * Run req on a new thread. req and everything it points to must stay valid
 * until http_client_join. Returns 0, ERR_NOMEM or ERR_IO.
 */
int http_client_start(struct http_client_async **out,
                      const struct http_client_req *req);

/* Whether the async request finished. */
bool http_client_done(struct http_client_async *a);

/*
 * Wait for the request, move its response into *resp (may be NULL) and
 * free a. Returns what http_client_request returned.
 */
int http_client_join(struct http_client_async *a,
                     struct http_client_resp *resp);

/*
 * A loopback port bound but not listening: connecting to it is refused
 * while *fd_out (the bound socket, close it after) keeps it taken. Fails
 * the test when no socket can be bound.
 */
int http_client_refused_port(int *fd_out);

/* A loopback socket listening (backlog) on a free port, its port in
 * *port_out: a fake server's listener. Fails the test on error. */
int http_client_listener(int *port_out, int backlog);

/* Raw TCP: connect to 127.0.0.1:port. Returns 0 and *fd_out, or ERR_IO. */
int http_client_raw_connect(int *fd_out, int port);

/* Send all of data (MSG_NOSIGNAL). 0, or ERR_IO if the peer is gone. */
int http_client_raw_send(int fd, const void *data, size_t len);

/*
 * Append what the peer sends to out until it closes (returns 0), until
 * out holds a complete response whose Content-Length body arrived (0), or
 * until timeout_ms passes (ERR_TIMEOUT). ERR_IO on a reset connection
 * (what arrived is kept).
 */
int http_client_raw_recv(struct buf *out, int fd, long timeout_ms);

/* Status code of the first response in raw, or 0 if none. */
int http_client_raw_status(const struct buf *raw);

/* Whether the peer has closed fd (EOF or reset) within timeout_ms. */
bool http_client_raw_closed(int fd, long timeout_ms);

/*
 * The TLS every request without its own uses from now on (copied by
 * value: the strings must outlive the requests; NULL: plaintext again).
 * Set before starting request threads.
 */
void http_client_set_tls(const struct httpc_tls *t);

#endif
