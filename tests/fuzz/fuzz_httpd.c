/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_httpd: harness for the connections of common/httpd_conn.c,
 * httpd_head.c, httpd_body.c and httpd_send.c (request heads as the
 * connection reads them, Content-Length, keep-alive, buffered, streamed
 * and rejected bodies, replies). The head parser itself
 * (common/httpd_parse.c) and the chunked-body decoder
 * (common/httpd_chunked.c) have direct, much faster harnesses,
 * fuzz_httpd_parse; this one drives the public API: one
 * server on 127.0.0.1 (port 0) for the whole run, and per input one TCP
 * connection that sends the input and reads until the server is idle or
 * closes. Handlers choose by path: /stream streams the body (a chunk
 * starting with '!' fails it; the only route taking chunked bodies), /reject rejects at header time, /small caps
 * the buffered body at 16 bytes; every handler reads the accessors and
 * parses the query (httpd_query_generation) and /sha/<hex> paths
 * (httpd_path_sha256), then replies. The service serves API versions
 * 1.0.0 and 1.1.0 (api-version header, httpd_route.h).
 * Properties: every input whose first head ("\r\n\r\n") is complete and
 * within LIMIT_HTTP_HEADERS gets a reply (an error or the handler's)
 * unless its declared body (Content-Length, or chunked to /stream, as
 * httpd_chunked decodes it) has not fully arrived; every reply starts with
 * "HTTP/1.1 NNN " and carries x-request-id; a head holding a NUL byte,
 * and one with two different Content-Length values, get a 400 (RFC 9110
 * 5.5, RFC 9112 6.3) (both were request-smuggling findings of this
 * harness, now fixed; FUZZ_HTTPD_STRICT=0 turns the two checks off).
 * Single-threaded (the event loop runs inside the harness).
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_chunked.h"
#include "common/httpd_route.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/sha256.h"

#define REPLY_MAX (256u * 1024)
#define IDLE_ROUNDS 6

static struct event_base *base;
static struct httpd *server;
static bool strict;
static bool verbose; /* FUZZ_HTTPD_VERBOSE=1: print each reply stream */

/* What the handlers saw for the current input. */
static struct {
    unsigned headers;     /* on_headers calls */
    unsigned requests;    /* on_request calls */
    uint64_t first_clen;  /* Content-Length of the first request */
    bool first_has_clen;
    bool first_chunked;   /* the first request's body is chunked */
} seen;

static int on_data(struct httpd_req *r, struct evbuffer *data,
                   struct err *err, void *arg)
{
    uint8_t first = 0;

    (void)r;
    (void)arg;
    if (evbuffer_copyout(data, &first, 1) == 1 && first == '!')
        return err_set(err, ERR_INVAL, "stream refused a chunk");
    return 0;
}

static void on_abort(struct httpd_req *r, void *arg)
{
    (void)r;
    (void)arg;
}

static void on_headers(struct httpd_req *r, void *arg)
{
    const char *path = httpd_req_path(r);
    uint64_t clen = 0;
    int64_t blen = 0;
    struct err err = ERR_INIT;

    (void)arg;
    if (seen.headers++ == 0) {
        seen.first_has_clen = httpd_req_content_length(r, &clen) == 0;
        seen.first_clen = clen;
        seen.first_chunked = httpd_req_body_length(r, &blen) == 0 &&
                             blen == -1;
    }
    (void)httpd_req_header(r, "Host");
    (void)httpd_req_method(r);
    if (strncmp(path, "/stream", 7) == 0) {
        httpd_req_stream(r, on_data, on_abort, NULL);
    } else if (strncmp(path, "/reject", 7) == 0) {
        err_set_coded(&err, ERR_CONFLICT, "FUZZ", "rejected at header time");
        httpd_req_reject(r, &err);
    } else if (strncmp(path, "/small", 6) == 0) {
        httpd_req_body_cap(r, 16);
    }
}

static void on_request(struct httpd_req *r, void *arg)
{
    const char *path = httpd_req_path(r), *rest = NULL;
    struct err err = ERR_INIT;
    struct sha256 h;
    uint64_t gen = 0;
    size_t blen = 0;
    const char *body;
    int rc = 0;

    (void)arg;
    seen.requests++;
    FUZZ_CHECK(httpd_req_open(r));
    FUZZ_CHECK(strlen(httpd_req_id(r)) == HTTPD_REQUEST_ID_LEN);
    FUZZ_CHECK(path[0] == '/');
    (void)httpd_req_method_name(r);
    body = httpd_req_body(r, &blen);
    FUZZ_CHECK(body != NULL);
    if (httpd_req_query(r))
        rc = httpd_query_generation(&gen, httpd_req_query(r), &err);
    if (rc == 0 && httpd_path_prefix(&rest, path, "/sha/")) {
        rc = httpd_path_sha256(&h, &rest, &err);
        FUZZ_CHECK(rc < 0 || *rest == '\0' || *rest == '/');
    }
    if (rc < 0) {
        FUZZ_CHECK(err.msg[0] != '\0');
        httpd_reply_err(r, &err);
    } else {
        httpd_req_add_header(r, "x-fuzz", "1");
        httpd_reply_data(r, 200, "text/plain", body, blen);
    }
    /* Exactly one reply: a second is a no-op. */
    httpd_reply_error(r, 500, "FUZZ", "second reply");
    FUZZ_CHECK(!httpd_req_open(r));
}

#define FUZZ_ROUTE_S(path, cap, streams)                                \
    {.name = "fuzz", .methods = HTTPD_M_GET | HTTPD_M_HEAD | HTTPD_M_PUT | \
                                HTTPD_M_POST | HTTPD_M_DELETE,         \
     .pattern = (path), .body_cap = (cap), .stream = (streams),          \
     .on_headers = on_headers, .on_request = on_request,                 \
     .roles = HTTPD_ROLE_ALL}
#define FUZZ_ROUTE(path, cap) FUZZ_ROUTE_S(path, cap, false)

/* Every shape of pattern: literals, captures of each type, the root. */
static const struct httpd_route routes[] = {
    FUZZ_ROUTE_S("/stream", HTTPD_BODY_LISTENER, true),
    FUZZ_ROUTE("/reject", 0),
    FUZZ_ROUTE("/small", 0),
    FUZZ_ROUTE("/sha/{sha256}", 0),
    FUZZ_ROUTE("/sha/{sha256}/{segment}", 0),
    FUZZ_ROUTE("/id/{id}", 0),
    FUZZ_ROUTE("/{segment}", 0),
    FUZZ_ROUTE("/", 0),
};

static void setup(void)
{
    /* API versions by header (issue 12): the choice runs on every
     * routed request */
    static const char *const versions[] = {"1.0.0", "1.1.0"};
    static const struct httpd_service svc = {
        routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, versions, 2};
    struct httpd_opts opts = {.host = "127.0.0.1", .name = "fuzz",
                              .max_body_bytes = 1u << 20};
    struct err err = ERR_INIT;
    const char *s = getenv("FUZZ_HTTPD_STRICT");

    strict = !(s && strcmp(s, "0") == 0);
    s = getenv("FUZZ_HTTPD_VERBOSE");
    verbose = s && strcmp(s, "1") == 0;
    log_init("fuzz", LOG_ERROR, 2);
    base = event_base_new();
    FUZZ_CHECK(base != NULL);
    if (httpd_new(&server, base, &opts, &svc, &err) < 0) {
        fprintf(stderr, "fuzz_httpd: %s\n", err.msg);
        abort();
    }
}

static int connect_client(void)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    FUZZ_CHECK(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(httpd_port(server));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    return fd;
}

/* Send data, run the loop until nothing moves; the reply bytes go to out.
 * Returns whether the server closed the connection. */
static bool exchange(int fd, const uint8_t *data, size_t size, struct buf *out)
{
    size_t sent = 0;
    int idle = 0;
    bool closed = false;

    while (idle < IDLE_ROUNDS && !closed) {
        bool moved = false;
        char tmp[4096];
        ssize_t n;

        if (sent < size) {
            n = send(fd, data + sent, size - sent,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t)n;
                moved = true;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                sent = size; /* the server closed on us */
            }
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        for (;;) {
            n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                           errno != EINTR)) {
                closed = true;
                break;
            }
            if (n < 0)
                break;
            moved = true;
            if (out->len < REPLY_MAX)
                FUZZ_CHECK(buf_append(out, tmp, (size_t)n) == 0);
        }
        idle = moved ? 0 : idle + 1;
    }
    return closed;
}

/* Whether the chunked body in data[0, n) is still due (neither complete
 * nor refused) for the /stream route's cap. */
static bool chunked_pending(const uint8_t *data, size_t n)
{
    struct httpd_chunked d;
    struct httpd_chunked_step st;
    struct err err = ERR_INIT;
    size_t off = 0;
    int rc = 0;

    httpd_chunked_init(&d, 1u << 20);
    while (rc == 0 && off < n) {
        rc = httpd_chunked_decode(&d, &st, (const char *)data + off,
                                  n - off, &err);
        off += st.used;
    }
    return rc == 0;
}

static bool head_has_dup_clen(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    const char *first = NULL;
    size_t flen = 0;

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

        if (n > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
            const char *v = p + 15;
            size_t vn = n - 15;

            while (vn && (*v == ' ' || *v == '\t')) {
                v++;
                vn--;
            }
            while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                vn--;
            if (first && (flen != vn || memcmp(first, v, vn) != 0))
                return true;
            first = v;
            flen = vn;
        }
        p += n + 2;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT;
    const uint8_t *hend;
    size_t head_len = 0;
    bool complete, body_pending;
    int fd;

    mem_init();
    if (!base)
        setup();
    memset(&seen, 0, sizeof(seen));
    hend = memmem(data, size, "\r\n\r\n", 4);
    if (hend)
        head_len = (size_t)(hend - data) + 4;
    complete = hend && head_len <= LIMIT_HTTP_HEADERS;
    fd = connect_client();
    exchange(fd, data, size, &out);
    close(fd);
    /* Let the server see the close and free the connection. */
    for (int i = 0; i < IDLE_ROUNDS; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);

    if (verbose)
        fprintf(stderr, "--- %u head(s), %u request(s), reply stream:\n%.*s\n",
                seen.headers, seen.requests, (int)out.len,
                out.data ? out.data : "");
    if (out.len > 0) {
        FUZZ_CHECK(out.len >= 13 && memcmp(out.data, "HTTP/1.1 ", 9) == 0);
        FUZZ_CHECK(out.data[9] >= '1' && out.data[9] <= '5' &&
                   out.data[10] >= '0' && out.data[10] <= '9' &&
                   out.data[11] >= '0' && out.data[11] <= '9' &&
                   out.data[12] == ' ');
        if (memcmp(out.data + 9, "100 ", 4) != 0)
            FUZZ_CHECK(strstr(out.data, "\r\nx-request-id: ") != NULL);
    }
    body_pending = seen.headers > 0 && seen.requests == 0 &&
                   ((seen.first_has_clen &&
                     seen.first_clen > size - head_len) ||
                    (seen.first_chunked &&
                     chunked_pending(data + head_len, size - head_len)));
    if (complete && !body_pending) {
        if (out.len == 0)
            fprintf(stderr, "no reply: headers=%u requests=%u\n",
                    seen.headers, seen.requests);
        FUZZ_CHECK(out.len > 0);
    }
    if (strict && complete && out.len >= 13) {
        if (memchr(data, '\0', head_len))
            FUZZ_CHECK(memcmp(out.data + 9, "400", 3) == 0);
        if (head_has_dup_clen((const char *)data, head_len))
            FUZZ_CHECK(memcmp(out.data + 9, "400", 3) == 0);
    }
    buf_release(&out);
    return 0;
}
