/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd: replies, request accessors and pure helpers (request ids, error
 * JSON, strict query and path parsing) of the HTTP server; the
 * connection, parsing and body handling is in httpd_stream.c. Loop thread only,
 * except the pure helpers.
 */
#include "common/httpd.h"

#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/httpd_internal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/sha256.h"

void httpd_request_id(char out[HTTPD_REQUEST_ID_LEN + 1])
{
    uint8_t raw[HTTPD_REQUEST_ID_LEN / 2];
    size_t got = 0;

    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(raw)) {
        /* getrandom cannot really fail here; keep ids unique anyway. */
        static uint64_t counter;
        uint64_t c = ++counter;

        memcpy(raw, &c, sizeof(raw));
    }
    hex_encode(out, raw, sizeof(raw));
}

json_t *httpd_error_json(const char *request_id, const char *error_code,
                         const char *message)
{
    json_t *v = json_object();

    if (!v)
        return NULL;
    if (json_object_set_new(v, "request_id",
                            json_string(request_id ? request_id : "")) < 0)
        goto fail;
    if (error_code && *error_code &&
        json_object_set_new(v, "error_code", json_string(error_code)) < 0)
        goto fail;
    if (json_object_set_new(v, "message",
                            json_string(message ? message : "")) < 0)
        goto fail;
    return v;
fail:
    json_decref(v);
    return NULL;
}

const char *httpd_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Status";
    }
}

int httpd_query_generation(uint64_t *out, const char *query, struct err *err)
{
    static const char key[] = "generation=";

    if (!query || !*query)
        return err_set(err, ERR_INVAL, "missing query parameter generation");
    if (strncmp(query, key, sizeof(key) - 1) != 0)
        return err_set(err, ERR_INVAL,
                       "query must be exactly generation=N");
    if (parse_u64_range(out, query + sizeof(key) - 1, 0, INT64_MAX) < 0)
        return err_set(err, ERR_INVAL,
                       "generation must be a decimal integer in "
                       "0..9223372036854775807");
    return 0;
}

bool httpd_path_prefix(const char **rest, const char *path,
                       const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0)
        return false;
    *rest = path + n;
    return true;
}

int httpd_path_sha256(struct sha256 *out, const char **p, struct err *err)
{
    const char *s = *p;
    size_t n = strcspn(s, "/");

    if (n != SHA256_HEX_LEN || sha256_from_hexn(out, s, n) < 0)
        return err_set(err, ERR_INVAL,
                       "sha256 in path must be 64 lowercase hex characters");
    *p = s + n;
    return 0;
}

enum httpd_method httpd_req_method(const struct httpd_req *r)
{
    return r->method;
}

const char *httpd_req_method_name(const struct httpd_req *r)
{
    return r->method_name ? r->method_name : "";
}

const char *httpd_req_path(const struct httpd_req *r)
{
    return r->path ? r->path : "";
}

const char *httpd_req_query(const struct httpd_req *r)
{
    return r->query;
}

const char *httpd_req_id(const struct httpd_req *r)
{
    return r->id;
}

const char *httpd_req_header(const struct httpd_req *r, const char *name)
{
    for (unsigned i = 0; i < r->nhdr; i++)
        if (strcasecmp(r->hname[i], name) == 0)
            return r->hval[i];
    return NULL;
}

int httpd_req_content_length(const struct httpd_req *r, uint64_t *out)
{
    const char *v = NULL;

    for (unsigned i = 0; i < r->nhdr; i++) {
        if (strcasecmp(r->hname[i], "Content-Length") != 0)
            continue;
        /* Two lengths would let two parsers frame the body differently
         * (request smuggling, RFC 9112 6.3): refuse them outright. */
        if (v)
            return ERR_INVAL;
        v = r->hval[i];
    }
    if (!v)
        return ERR_NOTFOUND;
    return parse_u64(out, v);
}

int httpd_req_body_length(const struct httpd_req *r, int64_t *out)
{
    *out = 0;
    if (r->chunked) {
        *out = -1;
        return 0;
    }
    if (r->body_len > INT64_MAX)
        return ERR_INVAL;
    *out = (int64_t)r->body_len;
    return httpd_req_content_length(r, &(uint64_t){0});
}

const char *httpd_req_body(struct httpd_req *r, size_t *len)
{
    if (!r->body || r->mode != BODY_BUFFER) {
        *len = 0;
        return "";
    }
    *len = evbuffer_get_length(r->body);
    if (*len == 0)
        return "";
    return (const char *)evbuffer_pullup(r->body, -1);
}

bool httpd_req_open(const struct httpd_req *r)
{
    return r->conn != NULL && !r->replied;
}

void httpd_req_set_data(struct httpd_req *r, void *data)
{
    r->data = data;
}

void *httpd_req_data(const struct httpd_req *r)
{
    return r->data;
}

void httpd_req_set_route(struct httpd_req *r, const char *route)
{
    r->route = route;
}

const char *httpd_req_route(const struct httpd_req *r)
{
    return r->route ? r->route : "other";
}

void httpd_req_add_header(struct httpd_req *r, const char *name,
                          const char *value)
{
    if (!httpd_req_open(r))
        return;
    buf_printf(&r->out_headers, "%s: %s\r\n", name, value);
}

static void send_reply(struct httpd_req *r, int status, const char *ctype,
                       struct evbuffer *body)
{
    r->replied = true;
    if (r->h && r->h->hook)
        r->h->hook(r, status, r->h->hook_arg);
    httpd__send(r, status, ctype, body);
}

void httpd_reply_evbuffer(struct httpd_req *r, int status, const char *ctype,
                          struct evbuffer *body)
{
    if (!httpd_req_open(r)) {
        if (r->replied)
            log_error("httpd_double_reply", "{s:s, s:i}", "request_id", r->id,
                      "status", status);
        return;
    }
    send_reply(r, status, ctype, body);
}

void httpd_reply_file(struct httpd_req *r, int status, const char *ctype,
                      int fd, uint64_t off, uint64_t len)
{
    if (!httpd_req_open(r)) {
        close(fd);
        return;
    }
    r->replied = true;
    if (r->h && r->h->hook)
        r->h->hook(r, status, r->h->hook_arg);
    httpd__send_file(r, status, ctype, fd, off, len);
}

void httpd_reply_data(struct httpd_req *r, int status, const char *ctype,
                      const void *data, size_t len)
{
    struct evbuffer *b;

    if (!httpd_req_open(r))
        return;
    b = evbuffer_new();
    if (!b || (len && evbuffer_add(b, data, len) < 0)) {
        /* Out of memory: still send exactly one (empty) reply. */
        send_reply(r, 500, NULL, NULL);
        goto out;
    }
    send_reply(r, status, ctype, b);
out:
    if (b)
        evbuffer_free(b);
}

void httpd_reply_json(struct httpd_req *r, int status, const json_t *v)
{
    char *s = NULL;

    if (!httpd_req_open(r))
        return;
    if (!v) {
        send_reply(r, status, NULL, NULL);
        return;
    }
    s = jsonu_dumps(v);
    if (!s) {
        send_reply(r, 500, NULL, NULL);
        return;
    }
    httpd_reply_data(r, status, "application/json", s, strlen(s));
    mem_free(s);
}

/* Whether the reply's extra headers already hold a Retry-After (added by
 * httpd_req_add_header, one "Name: value\r\n" line each). */
static bool has_retry_after(const struct httpd_req *r)
{
    static const char name[] = "Retry-After:";
    const char *p = r->out_headers.data;
    size_t left = r->out_headers.len;

    while (p && left >= sizeof(name) - 1) {
        const char *eol = memchr(p, '\n', left);
        size_t n = eol ? (size_t)(eol - p) + 1 : left;

        if (!strncasecmp(p, name, sizeof(name) - 1))
            return true;
        p += n;
        left -= n;
    }
    return false;
}

void httpd_reply_error(struct httpd_req *r, int status, const char *code,
                       const char *msg)
{
    json_t *v;

    if (!httpd_req_open(r))
        return;
    /* A handler may have set its own Retry-After: never send two. */
    if (status == 429 && !has_retry_after(r))
        httpd_req_add_header(r, "Retry-After", "1");
    else if (status == 503 && !has_retry_after(r)) /* e.g. a failover */
        httpd_req_add_header(r, "Retry-After", "2");
    v = httpd_error_json(r->id, code, msg);
    httpd_reply_json(r, status, v);
    json_decref(v);
}

void httpd_reply_err(struct httpd_req *r, const struct err *err)
{
    int code = err && err->code ? err->code : ERR_INTERNAL;
    const char *msg = err && err->msg[0] ? err->msg : err_name(code);

    httpd_reply_error(r, err_http_status(code),
                      err ? err->error_code : NULL, msg);
}

void httpd_set_reply_hook(struct httpd *h, httpd_reply_hook fn, void *arg)
{
    h->hook = fn;
    h->hook_arg = arg;
}

void httpd_set_sent_hook(struct httpd *h, httpd_sent_hook fn, void *arg)
{
    h->sent_hook = fn;
    h->sent_hook_arg = arg;
}
