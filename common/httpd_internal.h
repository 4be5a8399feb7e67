/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_internal: the server, connection and request records shared by
 * httpd.c (replies and helpers), the connection files (httpd_listen.c,
 * httpd_conn.c, httpd_head.c, httpd_body.c, httpd_send.c: their own
 * shared parts in httpd_conn.h) and httpd_route.c (matching the route
 * table, dispatch). Loop thread only.
 */
#ifndef COMMON_HTTPD_INTERNAL_H
#define COMMON_HTTPD_INTERNAL_H

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_chunked.h"
#include "common/httpd_parse.h"
#include "common/httpd_route.h"
#include "common/tls.h"

struct bufferevent;
struct event;
struct evconnlistener;
struct httpd_conn;
struct sockaddr;

/* Who is at the other end of a connection (copied into each request). */
struct httpd_peer {
    bool tls;                 /* a TLS connection: roles are checked */
    bool verified;            /* chain and identity good (revocation is
                                 checked per request) */
    struct tls_identity id;   /* when verified */
    char serial[TLS_SERIAL_HEX_MAX + 1]; /* "" without a certificate */
    char why[160];            /* why not verified */
};

enum conn_state {
    C_HEAD, C_BODY, C_HANDLER, C_WRITING, C_LINGER,
    C_HANDSHAKE /* TLS: until the handshake is done (kick: deadline) */
};

struct httpd_slot;

/* One connection (httpd_conn.c; its limits in httpd_limits.c). */
struct httpd_conn {
    struct httpd_conn *next, *prev;
    struct httpd *h;
    struct bufferevent *bev;
    struct event *kick;      /* re-run input processing after a resume */
    struct httpd_req *r;
    enum conn_state state;
    bool close_after;
    bool linger;             /* lingering close after the reply */
    uint64_t linger_left;    /* bytes still to discard */
    struct httpd_peer peer;  /* TLS peer once the handshake is done */
    struct evbuffer *pending; /* TLS: reply body not yet handed over */
    /* httpd_file.c: a file reply still to read (file_open: fd ours),
     * from file_off, file_left bytes; file_bad: it ended early. */
    int file_fd;
    bool file_open;
    bool file_bad;
    uint64_t file_off, file_left;
    /* httpd_limits.c: the peer's count, the idle list (oldest first:
     * closed to make room at a limit), the head deadline or the
     * transfer-rate window, and the bytes moved in that window. */
    struct httpd_slot *slot;
    struct httpd_conn *idle_next, *idle_prev;
    bool idle;
    bool head_timed;         /* the head deadline runs */
    bool rate_timed;         /* the rate window runs */
    struct event *deadline;
    uint64_t win_in, win_out;
};

enum body_mode { BODY_BUFFER = 0, BODY_STREAM, BODY_REJECTED };

/*
 * Lingering close: after the reply to a request whose body was not read
 * (rejected at header time, or a bad head), the write side is shut down
 * and incoming bytes are discarded for at most HTTPD_LINGER_SECS and at
 * most the unread Content-Length (HTTPD_LINGER_MAX_BYTES when unknown or
 * larger), so the client reads the reply instead of a connection reset.
 */
#define HTTPD_LINGER_SECS 2
#define HTTPD_LINGER_MAX_BYTES (64ull * 1024 * 1024)

struct httpd_req {
    struct httpd *h;
    struct httpd_conn *conn;  /* NULL once the client is gone */
    unsigned refs;
    bool dispatched;          /* on_request ran (user owns the reply) */
    bool replied;
    bool body_done;
    bool paused;
    bool head;                /* HEAD: no body in the reply */
    bool http10;
    enum httpd_method method;
    enum body_mode mode;
    size_t body_cap;
    uint64_t body_len;        /* Content-Length, 0 when absent */
    uint64_t body_seen;
    bool chunked;             /* Transfer-Encoding: chunked */
    struct httpd_chunked chunk; /* its decoder, once the body is read */
    struct evbuffer *body;    /* buffered body, or the chunk being handed */
    httpd_data_fn data_fn;
    httpd_abort_fn abort_fn;
    void *stream_arg;
    struct err reject;
    int reject_status;        /* explicit status (431) instead of reject's */
    uint64_t body_queued;     /* reply body bytes handed to the connection */
    void *data;
    const char *route;
    struct httpd_match match; /* the route and captures (httpd_route.c) */
    const char *api_version;  /* served at (httpd_route.c), or NULL */
    struct httpd_peer peer;   /* the connection's peer */
    char *head_text;          /* request line and headers, NULs inserted */
    const char *method_name;
    const char *path;
    const char *query;
    unsigned nhdr;
    const char *hname[HTTPD_MAX_HEADERS];
    const char *hval[HTTPD_MAX_HEADERS];
    struct buf out_headers;   /* extra "Name: value\r\n" lines */
    char id[HTTPD_REQUEST_ID_LEN + 1];
};

/* Buckets of the per-peer connection counts (httpd_limits.c). */
#define HTTPD_SLOT_BUCKETS 256

struct httpd {
    struct event_base *base;
    struct evconnlistener *lev;
    struct httpd_service svc;
    httpd_reply_hook hook;
    void *hook_arg;
    httpd_sent_hook sent_hook;
    void *sent_hook_arg;
    struct httpd_conn *conns;
    struct bufferevent_rate_limit_group *rate_group;
    struct httpd_tls *tls;    /* NULL: plaintext */
    unsigned handshake_secs;
    unsigned idle_secs;
    uint64_t max_body;
    uint16_t port;
    char name[16];
    /* httpd_limits.c: resolved limits, counts, accept back-off, the
     * once-per-interval log and the counters of httpd_stats. */
    struct httpd_limits lim;
    uint64_t rate_bps;        /* the rate group's rate (0: none) */
    unsigned nconns;
    struct httpd_conn *idle_head, *idle_tail;
    struct httpd_slot *slots[HTTPD_SLOT_BUCKETS];
    struct event *resume;     /* re-enables accept after a pause */
    bool stopped;             /* httpd_stop_accepting: never resume */
    int64_t last_log;         /* monotonic seconds of the last line */
    struct httpd_stats stats;
    struct httpd_stats logged; /* the counters at the last line */
};

/* Close c now (pending stream handlers get their abort_fn). */
void httpd__conn_close(struct httpd_conn *c);

/*
 * httpd_limits.c. Start: resolve opts' limits into h (defaults), hook
 * the accept back-off; 0 or ERR_NOMEM. Stop: free what start made.
 */
int httpd__limits_start(struct httpd *h, const struct httpd_opts *opts);
void httpd__limits_stop(struct httpd *h);
/*
 * Admit a connection from sa before it is set up: true under both limits
 * (after closing the oldest idle connection of the peer, or of the
 * listener, to make room); false: refuse it (no idle connection to
 * close), counted and logged.
 */
bool httpd__admit(struct httpd *h, const struct sockaddr *sa);
/* Count c (its bufferevent made) as a connection from sa, with its
 * deadline timer and byte counts; 0 or ERR_NOMEM. Uncounted: undo
 * whatever was done, when c goes. */
int httpd__conn_counted(struct httpd_conn *c, const struct sockaddr *sa);
void httpd__conn_uncounted(struct httpd_conn *c);
/* c waits for a request (or its handshake): it may be closed to make
 * room. Leave: a request started. Both idempotent. */
void httpd__idle_enter(struct httpd_conn *c);
void httpd__idle_leave(struct httpd_conn *c);
/* The first byte of a head arrived: its deadline starts; done: stops. */
void httpd__head_started(struct httpd_conn *c);
void httpd__head_done(struct httpd_conn *c);
/* A body is read or a reply written from now: a fresh rate window. */
void httpd__rate_start(struct httpd_conn *c);
/* The TLS handshake deadline passed (counted). */
void httpd__handshake_timeout(struct httpd_conn *c);

/* Send the reply of r on its connection (httpd_send.c). Takes body's
 * content; body may be NULL. */
void httpd__send(struct httpd_req *r, int status, const char *ctype,
                 struct evbuffer *body);
/* The same with len bytes of fd from off as the body (takes fd). */
void httpd__send_file(struct httpd_req *r, int status, const char *ctype,
                      int fd, uint64_t off, uint64_t len);

/*
 * httpd_file.c. Set: c's reply body is len bytes of fd from off (takes
 * fd). Feed: top c's output up from the file (on failure the connection
 * is marked to close once the queued bytes left: file_bad). Drop: close
 * the file (idempotent).
 */
void httpd__file_set(struct httpd_conn *c, int fd, uint64_t off,
                     uint64_t len);
void httpd__file_feed(struct httpd_conn *c);
void httpd__file_drop(struct httpd_conn *c);

/*
 * Header time (httpd_route.c): the service's gate, the route match (404,
 * 405, 400 rejected here), the route's on_headers and its body cap (413).
 * Leaves r rejected (mode BODY_REJECTED), streamed or buffered.
 */
void httpd__route_headers(struct httpd_req *r);

/* The body is complete: run the matched route's on_request. */
void httpd__route_request(struct httpd_req *r);

/* httpd_tls.c: an accepting SSL bufferevent on fd (NULL on failure, fd
 * not closed then); the peer once the handshake is done. */
struct bufferevent *httpd__tls_accept(struct httpd *h, int fd);
void httpd__tls_peer(struct httpd_peer *out, struct bufferevent *bev);
/* Send TLS close_notify on bev (before the lingering close's shutdown). */
void httpd__tls_close_notify(struct bufferevent *bev);
/*
 * Move the bytes OpenSSL has decrypted but libevent has not taken
 * (SSL_pending) into bev's input buffer. A socket SSL bufferevent reads
 * again only when its socket is readable: after a read cut short by the
 * rate limit, or by a pause, the rest of a record whose bytes all
 * arrived would wait for bytes that never come (a request body's last
 * record). No socket I/O; the raw bytes were charged to the rate limit
 * when OpenSSL read the record.
 */
void httpd__tls_read_pending(struct bufferevent *bev);

/*
 * Before matching: 401 (UNAUTHENTICATED) when r came over TLS without a
 * good, unrevoked certificate. After matching: 403 (FORBIDDEN) when the
 * route does not take the peer's role or id. Both leave r rejected and
 * return true; plaintext requests pass.
 */
bool httpd__tls_authenticate(struct httpd_req *r);
bool httpd__tls_authorize(struct httpd_req *r);

#endif
