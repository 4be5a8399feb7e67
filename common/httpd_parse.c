/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_parse: the strict request-head parser of the httpd server (see
 * httpd_parse.h): early decisions on a partial head (431, malformed request
 * line) and the parse of a complete one into offsets. The messages are the
 * server's answers. Pure, any thread.
 */
#include "common/httpd_parse.h"

#include <stddef.h>
#include <string.h>

#include "common/err.h"
#include "common/parse.h"

#define MSG_TE_CODING "unsupported Transfer-Encoding: only a single " \
                      "\"chunked\" is accepted"
#define MSG_TE_CL "Transfer-Encoding together with Content-Length"
#define MSG_TE_10 "Transfer-Encoding in an HTTP/1.0 request"
#define MSG_TE_METHOD "chunked bodies are accepted on PUT and POST only"

int httpd_parse_status(int rc)
{
    return rc == ERR_LIMIT ? 431 : 400;
}

/* Whether line[0..n) (up to its LF) can be "METHOD /target HTTP/1.x\r". */
static bool request_line_ok(const char *line, size_t n)
{
    const char *sp1, *sp2, *end = line + n;

    if (n < 2 || line[n - 1] != '\r')
        return false;
    end--;
    sp1 = memchr(line, ' ', (size_t)(end - line));
    if (!sp1 || sp1 == line)
        return false;
    for (const char *p = line; p < sp1; p++)
        if (*p < 'A' || *p > 'Z')
            return false;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
    if (!sp2 || sp1[1] != '/' || memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)))
        return false;
    return end - sp2 - 1 == 8 && (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0 ||
                                  memcmp(sp2 + 1, "HTTP/1.0", 8) == 0);
}

int httpd_parse_scan(size_t *out, const char *data, size_t len,
                     struct err *err)
{
    /* Only a head ending within the limit is complete, so the first
     * LIMIT_HTTP_HEADERS bytes decide everything. */
    size_t n = len < LIMIT_HTTP_HEADERS ? len : LIMIT_HTTP_HEADERS;
    const char *end = memmem(data, n, "\r\n\r\n", 4);
    const char *lf;

    *out = 0;
    if (!end && len > LIMIT_HTTP_HEADERS)
        return err_set(err, ERR_LIMIT, "request head over the 16 KiB limit");
    /*
     * Refuse a garbage first line at once rather than after the idle
     * timeout or the head limit. Empty lines before a request are
     * tolerated by RFC 9112 but not sent by our clients: refused too.
     */
    lf = memchr(data, '\n', n);
    if (lf && !request_line_ok(data, (size_t)(lf - data)))
        return err_set(err, ERR_INVAL, "malformed request line");
    if (end)
        *out = (size_t)(end - data) + 4;
    return 0;
}

static bool has_byte(const char *s, size_t n, const char *set)
{
    for (; *set; set++)
        if (memchr(s, *set, n))
            return true;
    return false;
}

/* ASCII case-insensitive name == lit (the server runs in the C locale). */
static bool name_is(const char *data, struct httpd_span s, const char *lit)
{
    size_t n = strlen(lit);

    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = data[s.off + i], b = lit[i];

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static struct httpd_span span(const char *data, const char *p, const char *e)
{
    struct httpd_span s = {(uint32_t)(p - data), (uint32_t)(e - p)};

    return s;
}

static enum httpd_method method_of(const char *m, size_t n)
{
    static const struct { const char *s; enum httpd_method m; } t[] = {
        {"GET", HTTPD_GET}, {"HEAD", HTTPD_HEAD}, {"PUT", HTTPD_PUT},
        {"POST", HTTPD_POST}, {"DELETE", HTTPD_DELETE}};

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strlen(t[i].s) == n && memcmp(m, t[i].s, n) == 0)
            return t[i].m;
    return HTTPD_OTHER;
}

/* The request line data[0, eol): method, target, version into out. */
static int request_line(struct httpd_head *out, const char *data,
                        const char *eol, struct err *err)
{
    const char *sp1, *sp2, *target, *q;
    size_t n = (size_t)(eol - data);

    if (has_byte(data, n, "\r\n\t"))
        return err_set(err, ERR_INVAL, "bad request line");
    sp1 = memchr(data, ' ', n);
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)))
        return err_set(err, ERR_INVAL, "bad request line");
    if (eol - sp2 - 1 != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
                               memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
        return err_set(err, ERR_INVAL, "unsupported HTTP version");
    target = sp1 + 1;
    if (target == sp2 || target[0] != '/')
        return err_set(err, ERR_INVAL, "request target must be a path");
    q = memchr(target, '?', (size_t)(sp2 - target));
    out->http10 = sp2[8] == '0';
    out->method = method_of(data, (size_t)(sp1 - data));
    out->method_name = span(data, data, sp1);
    out->path = span(data, target, q ? q : sp2);
    out->has_query = q != NULL;
    if (q)
        out->query = span(data, q + 1, sp2);
    return 0;
}

/* One header line [p, eol) into out's next slot. */
static int header_line(struct httpd_head *out, const char *data,
                       const char *p, const char *eol, struct err *err)
{
    size_t n = (size_t)(eol - p);
    const char *colon, *v, *end = eol;

    /* A bare CR or LF would let two parsers see different headers. */
    if (has_byte(p, n, "\r\n"))
        return err_set(err, ERR_INVAL, "bare CR or LF in a header line");
    colon = memchr(p, ':', n);
    if (!colon || colon == p || out->nhdr == HTTPD_MAX_HEADERS)
        return err_set(err, ERR_INVAL, "bad or too many header lines");
    /* Also refuses obs-fold: a continuation line starts with SP or HT. */
    if (has_byte(p, (size_t)(colon - p), " \t"))
        return err_set(err, ERR_INVAL, "bad header name");
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    out->name[out->nhdr] = span(data, p, colon);
    out->value[out->nhdr] = span(data, v, end);
    out->nhdr++;
    return 0;
}

/*
 * Transfer-Encoding: exactly one header whose value is exactly "chunked"
 * (any case), no Content-Length beside it, HTTP/1.1, PUT or POST. Any
 * other shape frames the body in a way some other parser may read
 * differently (request smuggling, RFC 9112 6.1 and 6.3): refused.
 */
static int transfer_encoding(struct httpd_head *out, const char *data,
                             struct err *err)
{
    const struct httpd_span *te = NULL;
    bool cl = false;

    for (unsigned i = 0; i < out->nhdr; i++) {
        if (name_is(data, out->name[i], "Content-Length"))
            cl = true;
        if (!name_is(data, out->name[i], "Transfer-Encoding"))
            continue;
        if (te)
            return err_set(err, ERR_INVAL, MSG_TE_CODING);
        te = &out->value[i];
    }
    if (!te)
        return 0;
    if (!name_is(data, *te, "chunked"))
        return err_set(err, ERR_INVAL, MSG_TE_CODING);
    if (cl)
        return err_set(err, ERR_INVAL, MSG_TE_CL);
    if (out->http10)
        return err_set(err, ERR_INVAL, MSG_TE_10);
    if (out->method != HTTPD_PUT && out->method != HTTPD_POST)
        return err_set(err, ERR_INVAL, MSG_TE_METHOD);
    out->chunked = true;
    return 0;
}

/* Body framing: chunked (above), or at most one valid Content-Length. */
static int framing(struct httpd_head *out, const char *data,
                   struct err *err)
{
    const struct httpd_span *cl = NULL;
    char num[24];
    int rc = transfer_encoding(out, data, err);

    if (rc < 0 || out->chunked)
        return rc;
    for (unsigned i = 0; i < out->nhdr; i++) {
        if (!name_is(data, out->name[i], "Content-Length"))
            continue;
        /* Two lengths would let two parsers frame the body differently
         * (request smuggling, RFC 9112 6.3): refuse them outright. */
        if (cl)
            return err_set(err, ERR_INVAL, "bad Content-Length");
        cl = &out->value[i];
    }
    if (!cl)
        return 0;
    /* A u64 has at most 20 digits (and no leading zeros). */
    if (cl->len >= sizeof(num))
        return err_set(err, ERR_INVAL, "bad Content-Length");
    memcpy(num, data + cl->off, cl->len);
    num[cl->len] = '\0';
    if (parse_u64(&out->content_length, num) < 0)
        return err_set(err, ERR_INVAL, "bad Content-Length");
    out->has_length = true;
    return 0;
}

int httpd_parse_head(struct httpd_head *out, const char *data, size_t len,
                     struct err *err)
{
    const char *p, *eol, *end = data + len;
    size_t head_len;
    int rc;

    /* Not the slot arrays (1 KiB): only their first nhdr entries count. */
    memset(out, 0, offsetof(struct httpd_head, name));
    rc = httpd_parse_scan(&head_len, data, len, err);
    if (rc < 0)
        return rc;
    if (head_len == 0 || head_len != len)
        return err_set(err, ERR_INVAL, "not exactly one request head");
    /* A NUL used to end the head early for a C-string parser (and let the
     * rest, a Content-Length say, be read as a second request). */
    if (memchr(data, '\0', len))
        return err_set(err, ERR_INVAL, "NUL byte in the request head");
    eol = memmem(data, len, "\r\n", 2);
    rc = request_line(out, data, eol, err);
    if (rc < 0)
        return rc;
    /* The head ends at its first CRLFCRLF: the only empty line. */
    for (p = eol + 2; p < end - 2; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        rc = header_line(out, data, p, eol, err);
        if (rc < 0)
            return rc;
    }
    rc = framing(out, data, err);
    if (rc < 0)
        return rc;
    out->len = len;
    return 0;
}
