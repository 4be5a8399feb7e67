/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpc: the one HTTP client of rackdepot. A request is described by a
 * plain value, struct httpc_spec (method, URL, headers, a body source, a
 * response sink, timeouts, rate caps, TLS files), turned into a struct
 * httpc by httpc_new and run either blocking (httpc_run, any thread that
 * may block) or on an event loop (httpc_start on a struct httpc_loop, see
 * httpc_loop.c; loop thread only). Every request is restricted to http and
 * https, never follows a redirect (a 3xx is returned as is), never raises
 * signals, and keeps at most LIMIT_HTTP_RESPONSE response bytes in memory
 * unless told otherwise. The result is the status, the response headers
 * the callers act on (Content-Length, Content-Type, Retry-After) and, for
 * a transfer that failed, an ERR_* code with a one-line message. Built on
 * libcurl; no other file of the project touches curl handles.
 */
#ifndef COMMON_HTTPC_H
#define COMMON_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct event_base;
struct httpc;
struct httpc_loop;
struct tls_revoked;

/* Returned by a read or write callback: hold the transfer until
 * httpc_unpause (loop driver only). */
#define HTTPC_PAUSE 1

/*
 * Body callback: put up to cap bytes into dst and their count into *out
 * (0: the body is complete). Returns 0, HTTPC_PAUSE, or a negative ERR_*
 * that aborts the transfer with that code.
 */
typedef int (*httpc_read_fn)(size_t *out, char *dst, size_t cap, void *arg);

/* Sink callback: consume all len bytes (0), HTTPC_PAUSE (curl hands the
 * same bytes again after httpc_unpause), or a negative ERR_* (abort). */
typedef int (*httpc_write_fn)(const char *p, size_t len, void *arg);

/*
 * The final (non-1xx) header block arrived: httpc_status,
 * httpc_content_length and friends are valid. Returns 0 to go on or a
 * negative ERR_* that aborts the transfer with that code.
 */
typedef int (*httpc_headers_fn)(struct httpc *h, void *arg);

/* Bytes sent and received so far (called often; must not block long). */
typedef void (*httpc_progress_fn)(uint64_t up_now, uint64_t down_now,
                                  void *arg);

/* The request ended (loop driver): the result accessors are valid. The
 * callee may httpc_free(h). */
typedef void (*httpc_done_fn)(struct httpc *h, void *arg);

enum httpc_body_kind {
    HTTPC_BODY_NONE, /* no body; POST and PUT send Content-Length: 0 */
    HTTPC_BODY_MEM,  /* data, len: borrowed, must outlive the request */
    HTTPC_BODY_FILE, /* path, opened by httpc_new; its size is the length */
    HTTPC_BODY_FD,   /* len bytes of fd from off (pread; fd borrowed) */
    HTTPC_BODY_READ, /* len bytes from the spec's read callback */
};

struct httpc_body {
    enum httpc_body_kind kind;
    const void *data;
    const char *path;
    int fd;
    uint64_t off;
    uint64_t len;              /* the Content-Length sent */
    const char *content_type;  /* NULL: no Content-Type header */
};

enum httpc_sink_kind {
    HTTPC_SINK_BUF,     /* memory, at most cap bytes (httpc_body) */
    HTTPC_SINK_DISCARD, /* read and drop */
    HTTPC_SINK_FD,      /* write(2) to fd (borrowed) */
    HTTPC_SINK_FILE,    /* path, created or truncated by httpc_new */
    HTTPC_SINK_FN,      /* the spec's write callback */
};

struct httpc_sink {
    enum httpc_sink_kind kind;
    size_t cap;      /* BUF: 0 = LIMIT_HTTP_RESPONSE */
    bool truncate;   /* BUF over cap: keep the first cap bytes, drop the
                        rest, set httpc_truncated; else fail ERR_LIMIT */
    int fd;
    const char *path;
};

/* httpc_spec.api_version of a request that names no version. */
#define HTTPC_API_VERSION_NONE ""

/* A bit of httpc_tls.roles per enum tls_role (common/tls.h). */
#define HTTPC_ROLE(r) (1u << (unsigned)(r))

/*
 * Mutual TLS of a request (httpc_tls.c). With all three files given: TLS
 * 1.3 only, https:// URLs only, our certificate and key (loaded once per
 * process per file set, see httpc_tls_reload), and the server checked by
 * its chain to ca_file and by its URI SAN identity, never by host name:
 * the rack id of our own certificate, a role in roles (required), the id
 * peer_id when set (copied), and not in revoked (borrowed; must outlive
 * the request). Every request re-checks the identity of the connection it
 * is given, so a kept-alive connection verified for one identity never
 * serves a request expecting another. With no file given: plain curl
 * defaults (http, or https verified by curl's CA bundle).
 */
struct httpc_tls {
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    unsigned roles;                   /* HTTPC_ROLE(TLS_ROLE_SLED) | ... */
    const char *peer_id;              /* NULL: any id of those roles */
    const struct tls_revoked *revoked; /* NULL: none revoked */
};

struct httpc_spec {
    const char *method;          /* NULL: GET; "HEAD": no response body */
    const char *url;             /* http:// or https:// only (copied) */
    const char *const *headers;  /* "Name: value", NULL-ended (copied) */
    struct httpc_body body;
    struct httpc_sink sink;
    long connect_ms;             /* connect bound; 0: curl's default */
    long stall_secs;             /* no byte either way this long; 0: none */
    /* With stall_secs: a transfer averaging under this many bytes/s over
     * stall_secs fails as a stall (ERR_TIMEOUT); 0: 1 byte/s. */
    uint64_t min_recv_bps;
    long total_ms;               /* whole request; 0: none */
    uint64_t max_recv_bps;       /* receive rate cap; 0: none */
    uint64_t max_send_bps;       /* send rate cap; 0: none */
    size_t upload_buffer;        /* curl's upload buffer; 0: default */
    /* The api-version request header (docs/API.md "API versions"): the
     * version of the server's API the caller speaks, an API_VERSION_* of
     * common/api_version.h for our services. Required: NULL is refused
     * (ERR_INVAL), as is an api-version line in headers besides it; ""
     * (HTTPC_API_VERSION_NONE) adds none (a server outside rackdepot,
     * tests that send their own or test the unversioned default). */
    const char *api_version;
    bool keep_headers;           /* keep the raw final header block */
    bool path_as_is;             /* send ../ and %2e exactly (tests) */
    bool no_proxy;               /* ignore proxy environment variables */
    struct httpc_tls tls;
    httpc_read_fn read;          /* HTTPC_BODY_READ */
    httpc_write_fn write;        /* HTTPC_SINK_FN */
    httpc_headers_fn on_headers; /* optional */
    httpc_progress_fn on_progress; /* optional */
    void *arg;                   /* for the four callbacks above */
};

/* curl's process-wide set-up and tear-down: once, from main, before any
 * other thread starts (and after they all ended). */
void httpc_global_init(void);
void httpc_global_cleanup(void);

/*
 * Forget the TLS material loaded so far: the next request re-reads its
 * files (SIGHUP). Requests already made keep theirs. Any thread.
 */
void httpc_tls_reload(void);

/*
 * A request from spec (nothing is sent yet). Opens a FILE body or sink
 * and, the first time a TLS file set is used, reads it (blocking: not on
 * a loop thread with a slow disk). Errors: ERR_NOMEM, ERR_INVAL (no URL,
 * a read/write callback missing, TLS files incomplete, no role expected,
 * not https:// with TLS), ERR_IO (a file; an unreadable, mismatched or
 * identity-less TLS file).
 */
int httpc_new(struct httpc **out, const struct httpc_spec *spec,
              struct err *err);

/*
 * Run h to its end on this thread (blocking driver). Returns 0 when a
 * response arrived (whatever its status; see httpc_status), else the
 * code of httpc_result with err set. HTTPC_PAUSE is not supported here.
 */
int httpc_run(struct httpc *h, struct err *err);

/*
 * The outcome of a finished request: 0 (a response arrived), or
 * ERR_TIMEOUT (connect, no-progress or total bound), ERR_UPSTREAM (no
 * connection, reset, bad answer, a TLS peer refused: "peer is sled X,
 * expected sled Y"), ERR_INVAL (URL refused: not http(s)),
 * ERR_LIMIT (response over the sink's cap), ERR_IO (a body or sink
 * file), ERR_NOMEM, or the code a callback returned. Sets err to
 * "METHOD URL: reason".
 */
int httpc_result(const struct httpc *h, struct err *err);

/* Whether the failure was the peer's or the network's (ERR_TIMEOUT,
 * ERR_UPSTREAM, ERR_INVAL) rather than ours (a callback, memory, a file). */
bool httpc_peer_failed(const struct httpc *h);

/* curl's short text for the transport result ("Couldn't connect to
 * server"; "No error" on success), and its detailed one when it has one. */
const char *httpc_curl_text(const struct httpc *h);
const char *httpc_curl_detail(const struct httpc *h);

/* Why the TLS peer was refused ("peer is sled X, expected sled Y"), or
 * NULL when it was not; valid while h lives. */
const char *httpc_tls_refused(const struct httpc *h);

/* HTTP status of the final response; 0 when none arrived. */
long httpc_status(const struct httpc *h);

/* Content-Length of the response, -1 when absent. */
int64_t httpc_content_length(const struct httpc *h);

/* Content-Type of the response or NULL; valid while h lives. */
const char *httpc_content_type(const struct httpc *h);

/* Retry-After in seconds, 0 when absent or not a number. */
uint64_t httpc_retry_after(const struct httpc *h);

/* The BUF sink's bytes (borrowed), whether it dropped some over its cap,
 * and the body bytes received in all (also beyond the cap). */
const struct buf *httpc_body(const struct httpc *h);
bool httpc_truncated(const struct httpc *h);
uint64_t httpc_body_total(const struct httpc *h);

/* Move the BUF sink's bytes into *out (released first); h keeps none. */
void httpc_body_take(struct buf *out, struct httpc *h);

/* The raw final header block (keep_headers), borrowed. */
const struct buf *httpc_headers_raw(const struct httpc *h);

/* Change a rate cap (bytes/s, 0: none), also while h runs: curl reads it
 * on every send or receive. */
void httpc_set_recv_bps(struct httpc *h, uint64_t bps);
void httpc_set_send_bps(struct httpc *h, uint64_t bps);
/* Change min_recv_bps (no effect without stall_secs), also while h runs. */
void httpc_set_min_recv_bps(struct httpc *h, uint64_t bps);

/* Cancel if running on a loop (no done call), close what it opened, free.
 * NULL is a no-op. Not from inside h's own read/write/header callbacks. */
void httpc_free(struct httpc *h);

/* ---- the event-loop driver (httpc_loop.c); loop thread only ---- */

/* A driver bound to base. Returns 0 or ERR_NOMEM. */
int httpc_loop_new(struct httpc_loop **out, struct event_base *base);

/*
 * Start h on the loop; done(h, arg) runs exactly once on the loop when it
 * ends, never from inside httpc_start, unless h is freed first (cancel).
 * The caller keeps ownership of h. Returns 0, ERR_NOMEM or ERR_INTERNAL.
 */
int httpc_start(struct httpc_loop *l, struct httpc *h, httpc_done_fn done,
                void *arg);

/* Whether h is started on a loop and not finished. */
bool httpc_running(const struct httpc *h);

/* Resume a transfer a callback paused with HTTPC_PAUSE. */
void httpc_unpause(struct httpc *h);

/* Number of requests running on l. */
unsigned httpc_loop_running(const struct httpc_loop *l);

/* Cancel every request still running (no done calls), then free. The
 * caller still owns (and frees) its struct httpc. NULL is a no-op. */
void httpc_loop_free(struct httpc_loop *l);

#endif
