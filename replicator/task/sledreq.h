/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledreq: one asynchronous HTTP request from the replicator to a sled
 * (or any peer) over common/httpc's loop driver: a JSON body from memory or a body
 * streamed from a staged file with an exact Content-Length, a connect
 * timeout and a no-progress timeout (a total timeout only for small
 * requests that ask for one: it would kill large transfers), an optional
 * upload rate cap, a bounded response buffer, the status, the
 * transport error text and Retry-After. Used by collect, execute and the
 * generation endpoints. Loop thread only (the one driving the httpc_loop);
 * upload file reads run on a workq given by the caller.
 */
#ifndef REPLICATOR_TASK_SLEDREQ_H
#define REPLICATOR_TASK_SLEDREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct httpc_loop;
struct httpc_tls;
struct sledreq;
struct workq;

/* Bytes of an upload read from disk at once (two such buffers each). */
#define SLEDREQ_CHUNK (64u * 1024)

struct sledreq_opts {
    const char *method;      /* "GET", "PUT", "POST" */
    const char *url;         /* copied */
    const char *json_body;   /* copied; NULL: none (unless upload_path) */
    const char *upload_path; /* file streamed as the body; NULL: none */
    uint64_t upload_len;     /* its Content-Length */
    struct workq *wq;        /* reads upload_path; required with it */
    long connect_secs;       /* 0: 10 */
    long stall_secs;         /* no byte either way for this long: 0: 30 */
    long total_secs;         /* whole request bound; 0: none. Only for
                                small bodies (config, list, copy, polls) */
    uint64_t send_bps;       /* upload rate cap, bytes/s; 0: none */
    /* Mutual TLS: our files (borrowed; NULL or no cert_file: plaintext,
     * an http:// url); the peer must present a sled certificate of id
     * peer_id (NULL: any sled). Roles and peer_id of tls are ignored. */
    const struct httpc_tls *tls;
    const char *peer_id;
};

/* Called once on the loop when the request ended (not after cancel). */
typedef void (*sledreq_done_fn)(struct sledreq *q, void *arg);

/*
 * Start a request. *out is owned by the caller (sledreq_free, also from
 * inside done). With upload_path the file is opened and read on o->wq
 * (never on the loop) and the request goes out once its first piece is
 * in; an unreadable or short file ends the request through done with
 * status 0 and "cannot read the staged file: ..." (the sled gets nothing
 * or an aborted body). done never runs from inside sledreq_start.
 * Returns 0, ERR_NOMEM or ERR_INTERNAL (curl refused it, or upload_path
 * without wq). sledreq_free while a read is in flight is safe: the piece
 * is discarded when the worker returns (the workq must outlive it).
 */
int sledreq_start(struct sledreq **out, struct httpc_loop *loop,
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

/*
 * Whether the request failed for want of the peer rather than with an
 * answer: no connection, a timeout, a reset (curl failed), as opposed to
 * an HTTP status or an unreadable staged file. Such a sled is gone for
 * the rest of the run.
 */
bool sledreq_unreachable(const struct sledreq *q);

/* Whether the request is handed to curl and not finished yet. */
bool sledreq_running(const struct sledreq *q);

/*
 * Change the upload rate cap of a request (bytes/s, 0: none), also while
 * it runs: libcurl reads the cap on every send (CURLOPT_MAX_SEND_SPEED_
 * LARGE). A request not handed to curl yet takes it when it starts.
 */
void sledreq_set_send_bps(struct sledreq *q, uint64_t bps);

/* Cancel if running (no done call) and free. NULL is a no-op. */
void sledreq_free(struct sledreq *q);

#endif
