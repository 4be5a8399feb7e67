/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_httpd_parse: harness for the request-head parser of
 * common/httpd_parse.c (httpd_parse_scan, httpd_parse_head), called
 * directly: no server, no socket (fuzz_httpd drives the whole connection).
 * Properties:
 *  - scan: a complete head ends at the input's first CRLFCRLF, within
 *    LIMIT_HTTP_HEADERS; shorter prefixes of it are "more due"; an early
 *    refusal of a prefix is final (the whole input is refused too, with
 *    the same status unless it is over the limit: 431 is checked first);
 *    capping the input at HTTPD_PARSE_SCAN_MAX changes nothing;
 *  - the whole-input parse agrees with the scan (refuses as it does, and
 *    accepts only an input that is exactly one head);
 *  - refusals are 400 or 431 with a message; a head with a NUL is refused;
 *  - an accepted head: every field lies within the input and is followed
 *    there by a delimiter; no bare CR or LF, no obs-fold, one line per
 *    header; METHOD in A-Z and its enum agrees; the path starts with '/';
 *    names hold no SP, HT or ':', values are trimmed; a Transfer-Encoding
 *    only as one "chunked" on an HTTP/1.1 PUT or POST without any
 *    Content-Length (and then h->chunked), else at most one
 *    Content-Length, and its value prints back from the parsed number; re-serialised (`name:value`) it is no longer, parses to
 *    the same fields, and re-serialises to the same bytes.
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <strings.h>

#include "common/err.h"
#include "common/httpd_parse.h"
#include "common/limits.h"

/*
 * The property checks are not what is fuzzed: no coverage feedback from
 * them. Their edges and comparisons doubled the features per input, and
 * libFuzzer's entropic schedule spent half of each run updating them.
 */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE
#endif

static struct httpd_head head, again;

NO_COVERAGE
static bool span_in(struct httpd_span s, size_t len)
{
    return (size_t)s.off + s.len < len;
}

NO_COVERAGE
static bool span_eq(const char *a, struct httpd_span sa, const char *b,
                    struct httpd_span sb)
{
    return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

NO_COVERAGE
static bool has_any(const char *p, size_t n, const char *set)
{
    for (; *set; set++)
        if (memchr(p, *set, n))
            return true;
    return false;
}

NO_COVERAGE
static bool name_is(const char *d, struct httpd_span s, const char *lit)
{
    return s.len == strlen(lit) && strncasecmp(d + s.off, lit, s.len) == 0;
}

/* Lines of an accepted head: CRLF only, no obs-fold; returns the count. */
NO_COVERAGE
static size_t check_lines(const char *d, size_t len)
{
    size_t lines = 0;

    for (size_t i = 0; i < len; i++) {
        if (d[i] == '\r')
            FUZZ_CHECK(i + 1 < len && d[i + 1] == '\n');
        if (d[i] != '\n')
            continue;
        FUZZ_CHECK(i > 0 && d[i - 1] == '\r');
        lines++;
        if (i + 1 < len)
            FUZZ_CHECK(d[i + 1] != ' ' && d[i + 1] != '\t');
    }
    return lines;
}

NO_COVERAGE
static void check_request_line(const char *d, size_t len,
                               const struct httpd_head *h)
{
    static const char *names[] = {"", "GET", "HEAD", "PUT", "POST",
                                  "DELETE"};
    struct httpd_span m = h->method_name;
    const char *eol;
    size_t target;

    FUZZ_CHECK(span_in(m, len) && span_in(h->path, len));
    FUZZ_CHECK(m.off == 0 && m.len > 0 && d[m.len] == ' ');
    for (uint32_t i = 0; i < m.len; i++)
        FUZZ_CHECK(d[i] >= 'A' && d[i] <= 'Z');
    if (h->method == HTTPD_OTHER)
        for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
            FUZZ_CHECK(m.len != strlen(names[i]) ||
                       memcmp(d, names[i], m.len) != 0);
    else
        FUZZ_CHECK(h->method >= HTTPD_GET && h->method <= HTTPD_DELETE &&
                   m.len == strlen(names[h->method]) &&
                   memcmp(d, names[h->method], m.len) == 0);
    /* The line is exactly METHOD SP target SP HTTP/1.x CRLF. */
    eol = memmem(d, len, "\r\n", 2);
    target = h->path.len + (h->has_query ? 1 + h->query.len : 0);
    FUZZ_CHECK(eol && (size_t)(eol - d) == m.len + 1 + target + 9);
    FUZZ_CHECK(h->path.off == m.len + 1 && eol[-9] == ' ' &&
               memcmp(eol - 8, h->http10 ? "HTTP/1.0" : "HTTP/1.1", 8) == 0);
    FUZZ_CHECK(h->path.len > 0 && d[h->path.off] == '/');
    FUZZ_CHECK(!has_any(d + h->path.off, h->path.len, " ?\r\n\t"));
    FUZZ_CHECK(d[h->path.off + h->path.len] == (h->has_query ? '?' : ' '));
    if (h->has_query) {
        FUZZ_CHECK(span_in(h->query, len));
        FUZZ_CHECK(h->query.off == h->path.off + h->path.len + 1);
        FUZZ_CHECK(!has_any(d + h->query.off, h->query.len, " \r\n\t"));
        FUZZ_CHECK(d[h->query.off + h->query.len] == ' ');
    }
}

NO_COVERAGE
static void check_headers(const char *d, size_t len,
                          const struct httpd_head *h)
{
    unsigned ncl = 0, nte = 0;
    char num[24];

    FUZZ_CHECK(h->nhdr <= HTTPD_MAX_HEADERS);
    for (unsigned i = 0; i < h->nhdr; i++) {
        struct httpd_span n = h->name[i], v = h->value[i];

        FUZZ_CHECK(span_in(n, len) && span_in(v, len));
        FUZZ_CHECK(n.len > 0 && d[n.off + n.len] == ':');
        FUZZ_CHECK(!has_any(d + n.off, n.len, " \t:\r\n"));
        FUZZ_CHECK(v.off > n.off + n.len);
        FUZZ_CHECK(!has_any(d + v.off, v.len, "\r\n"));
        if (v.len > 0)
            FUZZ_CHECK(d[v.off] != ' ' && d[v.off] != '\t' &&
                       d[v.off + v.len - 1] != ' ' &&
                       d[v.off + v.len - 1] != '\t');
        if (name_is(d, n, "Transfer-Encoding")) {
            nte++;
            FUZZ_CHECK(name_is(d, v, "chunked"));
        }
        if (!name_is(d, n, "Content-Length"))
            continue;
        ncl++;
        snprintf(num, sizeof(num), "%llu",
                 (unsigned long long)h->content_length);
        FUZZ_CHECK(v.len == strlen(num) && memcmp(d + v.off, num, v.len) == 0);
    }
    FUZZ_CHECK(ncl <= 1 && h->has_length == (ncl == 1));
    FUZZ_CHECK(nte <= 1 && h->chunked == (nte == 1));
    if (h->chunked)
        FUZZ_CHECK(ncl == 0 && !h->http10 &&
                   (h->method == HTTPD_PUT || h->method == HTTPD_POST));
    if (!h->has_length)
        FUZZ_CHECK(h->content_length == 0);
}

NO_COVERAGE
static void put(char *out, size_t *n, const void *p, size_t len)
{
    FUZZ_CHECK(*n + len <= LIMIT_HTTP_HEADERS);
    memcpy(out + *n, p, len);
    *n += len;
}

/* h (fields of d) as "M /p?q HTTP/1.x\r\n" + "name:value\r\n"... + "\r\n". */
NO_COVERAGE
static size_t serialise(char *out, const char *d, const struct httpd_head *h)
{
    size_t n = 0;

    put(out, &n, d + h->method_name.off, h->method_name.len);
    put(out, &n, " ", 1);
    put(out, &n, d + h->path.off, h->path.len);
    if (h->has_query) {
        put(out, &n, "?", 1);
        put(out, &n, d + h->query.off, h->query.len);
    }
    put(out, &n, h->http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n", 11);
    for (unsigned i = 0; i < h->nhdr; i++) {
        put(out, &n, d + h->name[i].off, h->name[i].len);
        put(out, &n, ":", 1);
        put(out, &n, d + h->value[i].off, h->value[i].len);
        put(out, &n, "\r\n", 2);
    }
    put(out, &n, "\r\n", 2);
    return n;
}

NO_COVERAGE
static void check_reserialised(const char *d, size_t len)
{
    static char s1[LIMIT_HTTP_HEADERS], s2[LIMIT_HTTP_HEADERS];
    struct err err = ERR_INIT;
    size_t n1 = serialise(s1, d, &head), n2;

    FUZZ_CHECK(n1 <= len);
    if (httpd_parse_head(&again, s1, n1, &err) != 0) {
        fprintf(stderr, "re-serialised head refused: %s\n", err.msg);
        FUZZ_CHECK(0);
    }
    FUZZ_CHECK(again.method == head.method && again.http10 == head.http10);
    FUZZ_CHECK(span_eq(s1, again.method_name, d, head.method_name));
    FUZZ_CHECK(span_eq(s1, again.path, d, head.path));
    FUZZ_CHECK(again.has_query == head.has_query);
    if (head.has_query)
        FUZZ_CHECK(span_eq(s1, again.query, d, head.query));
    FUZZ_CHECK(again.nhdr == head.nhdr);
    for (unsigned i = 0; i < head.nhdr; i++)
        FUZZ_CHECK(span_eq(s1, again.name[i], d, head.name[i]) &&
                   span_eq(s1, again.value[i], d, head.value[i]));
    FUZZ_CHECK(again.has_length == head.has_length &&
               again.content_length == head.content_length);
    n2 = serialise(s2, s1, &again);
    FUZZ_CHECK(n2 == n1 && memcmp(s1, s2, n1) == 0);
}

/* Parse the complete head d[0, len) and check the result. */
NO_COVERAGE
static void check_head(const char *d, size_t len)
{
    struct err err = ERR_INIT;
    int rc = httpd_parse_head(&head, d, len, &err);

    if (rc < 0) {
        FUZZ_CHECK(rc == ERR_INVAL && err.code == rc && err.msg[0] != '\0');
        FUZZ_CHECK(httpd_parse_status(rc) == 400);
        if (head.method) /* refused in the header lines */
            check_request_line(d, len, &head);
        return;
    }
    FUZZ_CHECK(head.len == len && !memchr(d, '\0', len));
    FUZZ_CHECK(check_lines(d, len) == head.nhdr + 2);
    check_request_line(d, len, &head);
    check_headers(d, len, &head);
    check_reserialised(d, len);
}

/* The scan of d (its result in *out, err) and of two prefixes. */
NO_COVERAGE
static int check_scan(size_t *out, const char *d, size_t size,
                      struct err *err)
{
    struct err perr = ERR_INIT;
    size_t pout = 1, cap = 1, k;
    const char *end;
    int rc = httpd_parse_scan(out, d, size, err), prc;

    FUZZ_CHECK(rc == 0 || rc == ERR_INVAL || rc == ERR_LIMIT);
    if (rc < 0) {
        FUZZ_CHECK(*out == 0 && err->code == rc && err->msg[0] != '\0');
        FUZZ_CHECK(httpd_parse_status(rc) == (rc == ERR_LIMIT ? 431 : 400));
    }
    if (size > HTTPD_PARSE_SCAN_MAX) {
        FUZZ_CHECK(httpd_parse_scan(&cap, d, HTTPD_PARSE_SCAN_MAX, NULL) ==
                   rc);
        FUZZ_CHECK(cap == *out);
    }
    end = memmem(d, size, "\r\n\r\n", 4);
    if (rc == 0 && *out > 0)
        FUZZ_CHECK(end && (size_t)(end - d) + 4 == *out &&
                   *out <= LIMIT_HTTP_HEADERS);
    if (rc == 0 && *out == 0)
        FUZZ_CHECK(!end);
    for (int i = 0; i < 2; i++) {
        k = i == 0 ? size / 2 : (*out > 0 ? *out - 1 : 0);
        prc = httpd_parse_scan(&pout, d, k, &perr);
        if (prc < 0) /* final, though 431 may win over a later 400 */
            FUZZ_CHECK(rc < 0 && (prc == rc || rc == ERR_LIMIT));
        else if (rc == 0 && k < *out)
            FUZZ_CHECK(pout == 0);
    }
    return rc;
}

NO_COVERAGE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    struct err serr = ERR_INIT, err = ERR_INIT;
    size_t head_len = 0;
    int src = check_scan(&head_len, d, size, &serr);
    int rc;

    /* The whole input: exactly one head (then check_head parses it), or
     * the scan's refusal, or not exactly one head. */
    if (head_len > 0)
        check_head(d, head_len);
    if (head_len == size && size > 0)
        return 0;
    rc = httpd_parse_head(&head, d, size, &err);
    FUZZ_CHECK(rc < 0);
    if (src < 0)
        FUZZ_CHECK(rc == src && strcmp(err.msg, serr.msg) == 0);
    else
        FUZZ_CHECK(strcmp(err.msg, "not exactly one request head") == 0);
    return 0;
}
