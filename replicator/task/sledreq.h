/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledreq: one asynchronous HTTP request from the replicator to a sled
 * (or any peer) over common/curlev: a JSON body from memory or a body
 * streamed from a staged file with an exact Content-Length, a connect
 * timeout and a no-progress timeout (never a total timeout, which would
 * kill large transfers), a bounded response buffer, the status, the
 * transport error text and Retry-After. Used by collect, execute and the
 * generation endpoints. Loop thread only (the one driving the curlev).
 */
#ifndef REPLICATOR_TASK_SLEDREQ_H
#define REPLICATOR_TASK_SLEDREQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct curlev;
struct sledreq;

/* Response bytes kept (a list of LIMIT_CONFIG_ARTIFACTS entries fits). */
#define SLEDREQ_RESPONSE_MAX (16u * 1024 * 1024)

struct sledreq_opts {
    const char *method;      /* "GET", "PUT", "POST" */
    const char *url;         /* copied */
    const char *json_body;   /* copied; NULL: none (unless upload_path) */
    const char *upload_path; /* file streamed as the body; NULL: none */
    uint64_t upload_len;     /* its Content-Length */
    long connect_secs;       /* 0: 10 */
    long stall_secs;         /* no byte either way for this long: 0: 30 */
};

/* Called once on the loop when the request ended (not after cancel). */
typedef void (*sledreq_done_fn)(struct sledreq *q, void *arg);

/*
 * Start a request. *out is owned by the caller (sledreq_free, also from
 * inside done). Returns 0, ERR_NOMEM, ERR_IO (file unreadable) or
 * ERR_INTERNAL (curl refused it).
 */
int sledreq_start(struct sledreq **out, struct curlev *cv,
                  const struct sledreq_opts *o, sledreq_done_fn done,
                  void *arg);

/* HTTP status (0 when no response arrived: see sledreq_error). */
long sledreq_status(const struct sledreq *q);

/*
 * A one-line description of a failure: the transport error, or
 * "HTTP <status>: <message>" for a non-2xx answer; "" for 2xx.
 */
const char *sledreq_error(const struct sledreq *q);

/* The error_code of a JSON error body, or "" (e.g. "CONFIG_GENERATION"). */
const char *sledreq_error_code(const struct sledreq *q);

/* The response body parsed as JSON (new reference) or NULL. */
json_t *sledreq_json(const struct sledreq *q);

/* Retry-After in seconds (0 when absent or unparsable). */
unsigned sledreq_retry_after(const struct sledreq *q);

/* Cancel if running (no done call) and free. NULL is a no-op. */
void sledreq_free(struct sledreq *q);

#endif
