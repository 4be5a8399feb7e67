/* SPDX-License-Identifier: MPL-2.0 */
/*
 * apisrv: a one-request-per-connection HTTP/1.1 server with streaming
 * bodies (see apisrv.h). One struct apisrv_req per accepted connection;
 * its state goes HEAD -> HANDLER (handler called) -> REPLYING (response
 * queued) -> freed once written. Loop thread only.
 */
#include "replicator/apisrv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"

#define APISRV_MAX_HEADERS 64

enum req_state { ST_HEAD, ST_HANDLER, ST_REPLYING };
enum body_mode { BODY_NONE, BODY_BUFFER, BODY_STREAM };

struct header {
    char *name;
    char *value;
};

struct apisrv_req {
    struct apisrv *srv;
    struct bufferevent *bev; /* NULL once the client is gone */
    struct apisrv_req *prev, *next;
    enum req_state state;
    char method[16];
    char *path;               /* decoded */
    struct evkeyvalq query;
    bool query_init;
    struct header headers[APISRV_MAX_HEADERS];
    size_t nheaders;
    size_t head_bytes;
    bool have_line;
    int64_t content_length;
    uint64_t remaining;
    enum body_mode mode;
    bool body_done;
    bool continue_sent;
    /* BODY_BUFFER */
    size_t cap;
    struct evbuffer *body;
    apisrv_body_fn body_fn;
    /* BODY_STREAM */
    const struct apisrv_stream_ops *ops;
    void *body_arg;
    char request_id[40];
};

struct apisrv {
    struct event_base *base;
    struct evconnlistener *listener;
    apisrv_handler_fn handler;
    void *arg;
    uint16_t port;
    struct apisrv_req *reqs;
    uint64_t next_id;
    uint32_t id_prefix;
};

static void req_free(struct apisrv_req *req)
{
    struct apisrv *srv = req->srv;

    if (req->prev)
        req->prev->next = req->next;
    else
        srv->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    if (req->bev)
        bufferevent_free(req->bev);
    for (size_t i = 0; i < req->nheaders; i++) {
        mem_free(req->headers[i].name);
        mem_free(req->headers[i].value);
    }
    if (req->query_init)
        evhttp_clear_headers(&req->query);
    if (req->body)
        evbuffer_free(req->body);
    mem_free(req->path);
    mem_free(req);
}

static const char *status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct apisrv_req *req = arg;

    (void)bev;
    if (req->state == ST_REPLYING)
        req_free(req);
}

static void reply_raw(struct apisrv_req *req, int status, const char *body,
                      size_t len)
{
    struct evbuffer *out;

    if (req->state == ST_REPLYING)
        return; /* a second reply is a bug; never send two */
    req->state = ST_REPLYING;
    log_info("api_request", "{s:s, s:s, s:s, s:i}", "request_id",
             req->request_id, "method", req->method, "path",
             req->path ? req->path : "", "status", status);
    if (!req->bev) {
        req_free(req);
        return;
    }
    bufferevent_disable(req->bev, EV_READ);
    out = bufferevent_get_output(req->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nx-request-id: %s\r\n"
                        "Connection: close\r\n\r\n",
                        status, status_text(status), len, req->request_id);
    evbuffer_add(out, body, len);
    bufferevent_setcb(req->bev, NULL, write_cb, event_cb, req);
    bufferevent_enable(req->bev, EV_WRITE);
}

void apisrv_reply_json(struct apisrv_req *req, int status, const json_t *json)
{
    char *s = json ? json_dumps(json, JSON_COMPACT) : NULL;

    if (!s) {
        static const char fallback[] = "{\"message\":\"out of memory\"}";

        reply_raw(req, 500, fallback, sizeof(fallback) - 1);
        return;
    }
    reply_raw(req, status, s, strlen(s));
    /* json_dumps goes through jansson's allocator, which mem_init routes */
    mem_free(s);
}

void apisrv_reply_error(struct apisrv_req *req, int status,
                        const char *error_code, const char *message)
{
    json_t *o = json_object();

    if (o) {
        json_object_set_new(o, "request_id", json_string(req->request_id));
        if (error_code && *error_code)
            json_object_set_new(o, "error_code", json_string(error_code));
        json_object_set_new(o, "message", json_string(message ? message : ""));
    }
    apisrv_reply_json(req, status, o);
    json_decref(o);
}

void apisrv_reply_err(struct apisrv_req *req, int rc, const struct err *err)
{
    const char *msg = err && err->msg[0] ? err->msg : err_name(rc);

    apisrv_reply_error(req, err_http_status(rc),
                       err ? err->error_code : NULL, msg);
}

static void send_continue(struct apisrv_req *req)
{
    const char *expect = apisrv_req_header(req, "Expect");

    if (req->continue_sent || !req->bev || !expect ||
        strcasecmp(expect, "100-continue") != 0 || req->remaining == 0)
        return;
    req->continue_sent = true;
    evbuffer_add_printf(bufferevent_get_output(req->bev),
                        "HTTP/1.1 100 Continue\r\n\r\n");
}

/* Move body bytes from the socket buffer to the body consumer. */
static void process_body(struct apisrv_req *req)
{
    struct evbuffer *in;
    size_t avail;

    if (!req->bev || req->state != ST_HANDLER || req->mode == BODY_NONE ||
        req->body_done)
        return;
    in = bufferevent_get_input(req->bev);
    avail = evbuffer_get_length(in);
    if (avail > req->remaining)
        avail = (size_t)req->remaining; /* no pipelining: extra is ignored */
    if (req->mode == BODY_BUFFER) {
        if (avail > 0)
            evbuffer_remove_buffer(in, req->body, avail);
        req->remaining -= avail;
        if (req->remaining > 0)
            return;
        req->body_done = true;
        bufferevent_disable(req->bev, EV_READ);
        if (evbuffer_add(req->body, "", 1) < 0) {
            apisrv_reply_error(req, 500, NULL, "out of memory");
            return;
        }
        req->body_fn(req, (const char *)evbuffer_pullup(req->body, -1),
                     evbuffer_get_length(req->body) - 1, req->body_arg);
        return;
    }
    if (avail > 0) {
        struct evbuffer *slice = evbuffer_new();

        if (!slice) {
            apisrv_reply_error(req, 500, NULL, "out of memory");
            return;
        }
        evbuffer_remove_buffer(in, slice, avail);
        req->remaining -= avail;
        req->ops->data(req, slice, req->body_arg);
        evbuffer_free(slice);
    }
    if (req->remaining == 0) {
        req->body_done = true;
        bufferevent_disable(req->bev, EV_READ);
        req->ops->end(req, req->body_arg);
    }
}

static int add_header_line(struct apisrv_req *req, const char *line)
{
    const char *colon = strchr(line, ':');
    const char *v;
    size_t vlen;

    if (!colon || colon == line || req->nheaders >= APISRV_MAX_HEADERS)
        return -1;
    v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    vlen = strlen(v);
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    req->headers[req->nheaders].name = mem_strndup(line, (size_t)(colon - line));
    req->headers[req->nheaders].value = mem_strndup(v, vlen);
    req->nheaders++;
    if (!req->headers[req->nheaders - 1].name ||
        !req->headers[req->nheaders - 1].value)
        return -1;
    return 0;
}

/* One CRLF-terminated line from in, without the CRLF (mem_free it). */
static char *read_line(struct evbuffer *in, size_t *n)
{
    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, n, EVBUFFER_EOL_CRLF);
    size_t eol_len = *n;
    char *line;

    if (eol.pos < 0)
        return NULL;
    *n = (size_t)eol.pos;
    line = mem_alloc(*n + 1);
    if (!line)
        return NULL;
    evbuffer_remove(in, line, *n);
    line[*n] = '\0';
    evbuffer_drain(in, eol_len);
    return line;
}

/* Percent-decode s (no '+' rule in paths). NULL on ERR_NOMEM or bad %XX. */
static char *path_decode(const char *s)
{
    size_t n = strlen(s);
    char *o = mem_alloc(n + 1);
    size_t j = 0;

    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        if (s[i] != '%') {
            o[j++] = s[i];
            continue;
        }
        if (i + 2 >= n) {
            mem_free(o);
            return NULL;
        }
        if (sscanf(s + i + 1, "%2x", &v) != 1 || v == 0 ||
            !strchr("0123456789abcdefABCDEF", s[i + 1]) ||
            !strchr("0123456789abcdefABCDEF", s[i + 2])) {
            mem_free(o);
            return NULL;
        }
        o[j++] = (char)v;
        i += 2;
    }
    o[j] = '\0';
    return o;
}

static int parse_request_line(struct apisrv_req *req, const char *line)
{
    const char *sp1 = strchr(line, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    const char *q;
    size_t mlen;
    char *target = NULL;
    int rc = -1;

    if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        goto out;
    mlen = (size_t)(sp1 - line);
    if (mlen == 0 || mlen >= sizeof(req->method))
        goto out;
    memcpy(req->method, line, mlen);
    req->method[mlen] = '\0';
    target = mem_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    if (!target || target[0] != '/')
        goto out;
    q = strchr(target, '?');
    req->query.tqh_first = NULL;
    req->query.tqh_last = &req->query.tqh_first;
    req->query_init = true;
    if (q) {
        target[q - target] = '\0';
        if (evhttp_parse_query_str(q + 1, &req->query) < 0)
            goto out;
    }
    req->path = path_decode(target);
    if (!req->path)
        goto out;
    rc = 0;
out:
    mem_free(target);
    return rc;
}

static void headers_done(struct apisrv_req *req)
{
    const char *cl = apisrv_req_header(req, "Content-Length");
    const char *te = apisrv_req_header(req, "Transfer-Encoding");
    uint64_t n = 0;

    req->state = ST_HANDLER;
    if (te && strcasecmp(te, "identity") != 0) {
        apisrv_reply_error(req, 411, NULL,
                           "request bodies need Content-Length "
                           "(chunked transfer encoding is not accepted)");
        return;
    }
    if (cl) {
        if (parse_u64(&n, cl) < 0 || n > INT64_MAX) {
            apisrv_reply_error(req, 400, NULL, "bad Content-Length header");
            return;
        }
        req->content_length = (int64_t)n;
    }
    req->remaining = n;
    req->srv->handler(req, req->srv->arg);
    /* the handler may have replied (and req may be gone) */
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct apisrv_req *req = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (req->state == ST_HANDLER) {
        process_body(req);
        return;
    }
    if (req->state != ST_HEAD)
        return;
    for (;;) {
        size_t n = 0;
        char *line = read_line(in, &n);
        int bad;

        if (!line) {
            if (evbuffer_get_length(in) + req->head_bytes > LIMIT_HTTP_HEADERS) {
                req->state = ST_HANDLER;
                apisrv_reply_error(req, 431, NULL, "request head too large");
            }
            return;
        }
        req->head_bytes += n + 2;
        if (req->head_bytes > LIMIT_HTTP_HEADERS) {
            mem_free(line);
            req->state = ST_HANDLER;
            apisrv_reply_error(req, 431, NULL, "request head too large");
            return;
        }
        if (!req->have_line) {
            if (n == 0) { /* tolerate leading empty lines */
                mem_free(line);
                continue;
            }
            bad = parse_request_line(req, line);
            req->have_line = true;
        } else if (n == 0) {
            mem_free(line);
            headers_done(req);
            return;
        } else {
            bad = add_header_line(req, line);
        }
        mem_free(line);
        if (bad) {
            req->state = ST_HANDLER;
            apisrv_reply_error(req, 400, NULL, "malformed request head");
            return;
        }
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct apisrv_req *req = arg;
    bool streaming;

    (void)bev;
    (void)what;
    if (req->state != ST_HANDLER) {
        req_free(req); /* idle, half-read head, or reply being written */
        return;
    }
    bufferevent_free(req->bev);
    req->bev = NULL;
    if (req->body_done || req->mode == BODY_NONE)
        return; /* the handler still owes the reply; it will free req */
    streaming = req->mode == BODY_STREAM;
    if (!streaming) {
        /* the body callback never ran: nobody else will reply */
        req->state = ST_REPLYING;
        req_free(req);
        return;
    }
    req->ops->abort(req, req->body_arg); /* last: it may free req */
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct apisrv *srv = arg;
    struct apisrv_req *req = mem_calloc(1, sizeof(*req));
    struct timeval tv = {LIMIT_HTTP_IDLE_SECS, 0};

    (void)l;
    (void)sa;
    (void)salen;
    if (!req) {
        evutil_closesocket(fd);
        return;
    }
    req->srv = srv;
    req->content_length = -1;
    snprintf(req->request_id, sizeof(req->request_id), "%08" PRIx32 "-%" PRIu64,
             srv->id_prefix, ++srv->next_id);
    req->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!req->bev) {
        evutil_closesocket(fd);
        mem_free(req);
        return;
    }
    req->next = srv->reqs;
    if (srv->reqs)
        srv->reqs->prev = req;
    srv->reqs = req;
    bufferevent_setcb(req->bev, read_cb, NULL, event_cb, req);
    bufferevent_set_timeouts(req->bev, &tv, &tv);
    bufferevent_enable(req->bev, EV_READ);
}

int apisrv_new(struct apisrv **out, struct event_base *base, const char *host,
               uint16_t port, apisrv_handler_fn handler, void *arg,
               struct err *err)
{
    struct apisrv *srv = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen;
    int rc = 0;

    *out = NULL;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        sslen = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, host,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        sslen = sizeof(struct sockaddr_in6);
    } else {
        return err_set(err, ERR_INVAL, "listen address %s: not an IP address",
                       host);
    }
    srv = mem_calloc(1, sizeof(*srv));
    if (!srv) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    srv->base = base;
    srv->handler = handler;
    srv->arg = arg;
    if (getrandom(&srv->id_prefix, sizeof(srv->id_prefix), 0) < 0)
        srv->id_prefix = (uint32_t)time(NULL);
    srv->listener = evconnlistener_new_bind(
        base, accept_cb, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
        (struct sockaddr *)&ss, (int)sslen);
    if (!srv->listener) {
        rc = err_set(err, ERR_IO, "listen on %s:%u: %s", host, port,
                     strerror(errno));
        goto out;
    }
    sslen = sizeof(ss);
    if (getsockname(evconnlistener_get_fd(srv->listener),
                    (struct sockaddr *)&ss, &sslen) < 0) {
        rc = err_set(err, ERR_IO, "getsockname: %s", strerror(errno));
        goto out;
    }
    srv->port = ntohs(ss.ss_family == AF_INET
                          ? ((struct sockaddr_in *)&ss)->sin_port
                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = srv;
    srv = NULL;
out:
    apisrv_free(srv);
    return rc;
}

uint16_t apisrv_port(const struct apisrv *srv)
{
    return srv->port;
}

void apisrv_stop_listening(struct apisrv *srv)
{
    if (srv && srv->listener) {
        evconnlistener_free(srv->listener);
        srv->listener = NULL;
    }
}

void apisrv_free(struct apisrv *srv)
{
    if (!srv)
        return;
    apisrv_stop_listening(srv);
    while (srv->reqs)
        req_free(srv->reqs);
    mem_free(srv);
}

const char *apisrv_req_method(const struct apisrv_req *req)
{
    return req->method;
}

const char *apisrv_req_path(const struct apisrv_req *req)
{
    return req->path ? req->path : "";
}

const char *apisrv_req_request_id(const struct apisrv_req *req)
{
    return req->request_id;
}

const char *apisrv_req_query(const struct apisrv_req *req, const char *key)
{
    if (!req->query_init)
        return NULL;
    return evhttp_find_header((struct evkeyvalq *)&req->query, key);
}

const char *apisrv_req_header(const struct apisrv_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

int64_t apisrv_req_content_length(const struct apisrv_req *req)
{
    return req->content_length;
}

void apisrv_req_read_body(struct apisrv_req *req, size_t cap,
                          apisrv_body_fn fn, void *arg)
{
    if (req->content_length > 0 && (uint64_t)req->content_length > cap) {
        char msg[96];

        snprintf(msg, sizeof(msg), "request body over %zu bytes", cap);
        apisrv_reply_error(req, 413, NULL, msg);
        return;
    }
    req->body = evbuffer_new();
    if (!req->body) {
        apisrv_reply_error(req, 500, NULL, "out of memory");
        return;
    }
    req->mode = BODY_BUFFER;
    req->cap = cap;
    req->body_fn = fn;
    req->body_arg = arg;
    send_continue(req);
    process_body(req);
}

void apisrv_req_stream_body(struct apisrv_req *req,
                            const struct apisrv_stream_ops *ops, void *arg)
{
    req->mode = BODY_STREAM;
    req->ops = ops;
    req->body_arg = arg;
    send_continue(req);
    process_body(req);
}

void apisrv_req_pause(struct apisrv_req *req)
{
    if (req->bev)
        bufferevent_disable(req->bev, EV_READ);
}

void apisrv_req_resume(struct apisrv_req *req)
{
    if (!req->bev || req->state != ST_HANDLER || req->body_done)
        return;
    bufferevent_enable(req->bev, EV_READ);
    process_body(req); /* bytes that arrived before the pause */
}
