/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_route: matching a request against a service's route table (see
 * httpd_route.h), the server's own answers to requests no route takes
 * (404, 405 with Allow, 400 for a malformed capture, 413 over the route's
 * body cap), the dispatch to the matched route's handlers, and the
 * capture getters. Loop thread only, except the pure httpd_route_match
 * and httpd_route_allow.
 */
#include "common/httpd_route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/sha256.h"
#include "common/urlquery.h"

enum cap_type { CAP_SHA256, CAP_UUID, CAP_SEGMENT };

enum try_result { T_NONE, T_FULL, T_BAD };

static enum cap_type cap_type_of(const char *p, size_t n)
{
    if (n == 8 && memcmp(p, "{sha256}", 8) == 0)
        return CAP_SHA256;
    if ((n == 4 && memcmp(p, "{id}", 4) == 0) ||
        (n == 6 && memcmp(p, "{uuid}", 6) == 0))
        return CAP_UUID;
    return CAP_SEGMENT;
}

static bool is_hex(char c, bool upper_ok)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (upper_ok && c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits (either case, as the database accepts). */
static bool uuid_ok(const char *s, size_t n)
{
    static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (n != sizeof(pat) - 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == '-' ? s[i] != '-' : !is_hex(s[i], true))
            return false;
    return true;
}

/*
 * Check and decode the path segment s[0..n) as a capture of type t into
 * out. 0, ERR_NOTFOUND (an empty {segment}: no match, as no segment is
 * there) or ERR_INVAL/ERR_LIMIT with err set (malformed: 400).
 */
static int capture(char out[HTTPD_CAPTURE_MAX], enum cap_type t,
                   const char *s, size_t n, const struct httpd_route *rt,
                   struct err *err)
{
    bool ok = true;

    switch (t) {
    case CAP_SHA256:
        ok = n == SHA256_HEX_LEN;
        for (size_t i = 0; ok && i < n; i++)
            ok = is_hex(s[i], false);
        if (!ok)
            return err_set(err, ERR_INVAL, "%s", rt->bad_capture
                               ? rt->bad_capture
                               : "sha256 in path must be 64 lowercase hex "
                                 "characters");
        break;
    case CAP_UUID:
        if (!uuid_ok(s, n))
            return err_set(err, ERR_INVAL, "%s", rt->bad_capture
                               ? rt->bad_capture
                               : "id in path must be a UUID");
        break;
    case CAP_SEGMENT:
        if (n == 0)
            return ERR_NOTFOUND;
        return urlquery_decode(out, HTTPD_CAPTURE_MAX, s, n, false, err);
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Match path against one route's pattern; *literals counts its literal
 * segments (for precedence). */
static enum try_result try_route(struct httpd_match *m,
                                 const struct httpd_route *rt,
                                 const char *path, unsigned *literals,
                                 struct err *err)
{
    const char *p = rt->pattern, *s = path;
    unsigned ncap = 0;

    *literals = 0;
    while (*p == '/' && *s == '/') {
        size_t pn = strcspn(++p, "/"), sn = strcspn(++s, "/");
        int rc;

        if (pn > 1 && p[0] == '{' && p[pn - 1] == '}') {
            if (ncap == HTTPD_ROUTE_MAX_CAPTURES)
                return T_NONE; /* a table bug: tests check the tables */
            rc = capture(m->cap[ncap], cap_type_of(p, pn), s, sn, rt, err);
            if (rc == ERR_NOTFOUND)
                return T_NONE;
            if (rc < 0)
                return T_BAD;
            ncap++;
        } else if (pn != sn || memcmp(p, s, pn) != 0) {
            return T_NONE;
        } else {
            (*literals)++;
        }
        p += pn;
        s += sn;
    }
    if (*p || *s)
        return T_NONE;
    m->ncap = ncap;
    return T_FULL;
}

enum httpd_match_result httpd_route_match(struct httpd_match *out,
                                          const struct httpd_route *table,
                                          size_t n, enum httpd_method method,
                                          const char *path, struct err *err)
{
    struct httpd_match tmp;
    struct err bad = ERR_INIT, e;
    const struct httpd_route *first = NULL, *bad_route = NULL;
    unsigned lit, best_lit = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const struct httpd_route *rt = &table[i];

        e = (struct err)ERR_INIT;
        switch (try_route(&tmp, rt, path, &lit, &e)) {
        case T_NONE:
            break;
        case T_BAD:
            if (!bad_route) {
                bad_route = rt;
                bad = e;
            }
            break;
        case T_FULL:
            out->allow |= rt->methods;
            if (!first)
                first = rt;
            if (!(rt->methods & HTTPD_M(method)) ||
                (out->route && lit <= best_lit))
                break;
            out->route = rt;
            best_lit = lit;
            out->ncap = tmp.ncap;
            memcpy(out->cap, tmp.cap, sizeof(tmp.cap[0]) * tmp.ncap);
            break;
        }
    }
    if (out->route)
        return HTTPD_MATCHED;
    if (first) {
        out->route = first;
        return HTTPD_NO_METHOD;
    }
    if (bad_route) {
        out->route = bad_route;
        if (err)
            *err = bad;
        return HTTPD_BAD_CAPTURE;
    }
    return HTTPD_NO_ROUTE;
}

void httpd_route_allow(char *out, size_t cap, unsigned methods)
{
    static const struct { enum httpd_method m; const char *s; } t[] = {
        {HTTPD_GET, "GET"}, {HTTPD_HEAD, "HEAD"}, {HTTPD_PUT, "PUT"},
        {HTTPD_POST, "POST"}, {HTTPD_DELETE, "DELETE"}};
    size_t len = 0;
    int n;

    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!(methods & HTTPD_M(t[i].m)))
            continue;
        n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", t[i].s);
        if (n < 0 || (size_t)n >= cap - len) {
            out[len] = '\0'; /* what fits, whole names only */
            return;
        }
        len += (size_t)n;
    }
}

/* "MAJOR.MINOR.PATCH" into v; false unless exactly that (decimal, no
 * leading zeros, each under 2^32). */
static bool version_parse(uint32_t v[3], const char *s)
{
    for (int i = 0; i < 3; i++) {
        uint64_t n = 0;
        const char *start = s;

        while (*s >= '0' && *s <= '9' && s - start < 10)
            n = n * 10 + (uint64_t)(*s++ - '0');
        if (s == start || (s - start > 1 && *start == '0') ||
            n > UINT32_MAX)
            return false;
        v[i] = (uint32_t)n;
        if (*s != (i < 2 ? '.' : '\0'))
            return false;
        s++;
    }
    return true;
}

int httpd_api_version_cmp(const char *a, const char *b)
{
    uint32_t va[3], vb[3];
    bool oa = version_parse(va, a), ob = version_parse(vb, b);

    if (!oa || !ob)
        return (int)oa - (int)ob;
    for (int i = 0; i < 3; i++)
        if (va[i] != vb[i])
            return va[i] < vb[i] ? -1 : 1;
    return 0;
}

int httpd_api_version_pick(const char **out, const char *const *versions,
                           size_t n, const char *value, struct err *err)
{
    char served[128];
    uint32_t v[3];
    size_t len = 0;

    *out = versions[n - 1];
    if (!value)
        return 0;
    if (!version_parse(v, value))
        return err_set_coded(err, ERR_INVAL, "BAD_API_VERSION",
                             "header " HTTPD_API_VERSION_HEADER " must be a "
                             "version MAJOR.MINOR.PATCH (latest: %s)",
                             versions[n - 1]);
    for (size_t i = 0; i < n; i++) {
        if (httpd_api_version_cmp(versions[i], value) == 0) {
            *out = versions[i];
            return 0;
        }
    }
    served[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof(served); i++) {
        int k = snprintf(served + len, sizeof(served) - len, "%s%s",
                         i ? ", " : "", versions[i]);

        if (k < 0)
            break;
        len += (size_t)k;
    }
    return err_set_coded(err, ERR_INVAL, "UNSUPPORTED_API_VERSION",
                         "API version %u.%u.%u is not served here; this "
                         "service serves %s (latest %s)", v[0], v[1], v[2],
                         served, versions[n - 1]);
}

const char *httpd_req_api_version(const struct httpd_req *r)
{
    return r->api_version;
}

/*
 * Pick r's API version (httpd_route.h) and announce it on the reply (the
 * latest when the request's is bad). Returns 0, or ERR_INVAL with err set
 * when the request is to be refused.
 */
static int api_version(struct httpd_req *r, struct err *err)
{
    const struct httpd_service *svc = &r->h->svc;
    const char *value = NULL;
    unsigned seen = 0;
    int rc;

    if (!svc->n_api_versions)
        return 0;
    for (unsigned i = 0; i < r->nhdr; i++) {
        if (strcasecmp(r->hname[i], HTTPD_API_VERSION_HEADER) == 0) {
            value = r->hval[i];
            seen++;
        }
    }
    if (seen > 1)
        rc = err_set_coded(err, ERR_INVAL, "BAD_API_VERSION",
                           "more than one " HTTPD_API_VERSION_HEADER
                           " header");
    else
        rc = httpd_api_version_pick(&r->api_version, svc->api_versions,
                                    svc->n_api_versions, value, err);
    if (rc < 0)
        r->api_version = svc->api_versions[svc->n_api_versions - 1];
    httpd_req_add_header(r, HTTPD_API_VERSION_HEADER, r->api_version);
    return rc;
}

/* Reject r with an explicit status (405) and message. */
static void reject_status(struct httpd_req *r, int status, const char *msg)
{
    struct err err = ERR_INIT;

    err_set(&err, ERR_INVAL, "%s", msg);
    httpd_req_reject(r, &err);
    r->reject_status = status;
}

/* The server's own answer when no route takes r; true if it answered. */
static bool route_or_reject(struct httpd_req *r)
{
    const struct httpd_service *svc = &r->h->svc;
    struct err err = ERR_INIT;
    char allow[64];
    int vrc;

    /* announced on every reply, the 401 and 403 included */
    vrc = api_version(r, &err);

    if (httpd__tls_authenticate(r))
        return true;
    if (vrc < 0) {
        httpd_req_reject(r, &err);
        return true;
    }
    if (svc->gate && svc->gate(r, &err, svc->arg) < 0) {
        httpd_req_reject(r, &err);
        return true;
    }
    switch (httpd_route_match(&r->match, svc->routes, svc->nroutes,
                              r->method, httpd_req_path(r), &err)) {
    case HTTPD_MATCHED:
        r->route = r->match.route->name;
        if (r->api_version && r->match.route->since &&
            httpd_api_version_cmp(r->api_version,
                                  r->match.route->since) < 0) {
            err_set(&err, ERR_NOTFOUND, "no such endpoint in API version "
                    "%s (it came in %s)", r->api_version,
                    r->match.route->since);
            r->match.route = NULL;
            httpd_req_reject(r, &err);
            return true;
        }
        return httpd__tls_authorize(r);
    case HTTPD_NO_METHOD:
        r->route = r->match.route->name;
        r->match.route = NULL;
        httpd_route_allow(allow, sizeof(allow), r->match.allow);
        httpd_req_add_header(r, "Allow", allow);
        reject_status(r, 405, "method not allowed");
        return true;
    case HTTPD_BAD_CAPTURE:
        r->match.route = NULL;
        httpd_req_reject(r, &err);
        return true;
    case HTTPD_NO_ROUTE:
        break;
    }
    err_set(&err, ERR_NOTFOUND, "no such endpoint");
    httpd_req_reject(r, &err);
    return true;
}

void httpd__route_headers(struct httpd_req *r)
{
    const struct httpd_route *rt;
    struct err err = ERR_INIT;

    if (route_or_reject(r))
        return;
    rt = r->match.route;
    if (r->chunked && !rt->stream) {
        /* Bodies of JSON routes are small and buffered: a Content-Length
         * is all they need, and one framing less to get wrong. */
        reject_status(r, 411, "chunked request bodies are accepted on "
                      "streamed uploads only; send a Content-Length");
        return;
    }
    if (rt->body_cap == HTTPD_BODY_LISTENER)
        r->body_cap = r->h->max_body < SIZE_MAX ? (size_t)r->h->max_body
                                                : SIZE_MAX;
    else if (rt->body_cap)
        r->body_cap = rt->body_cap;
    if (rt->on_headers)
        rt->on_headers(r, r->h->svc.arg);
    if (r->mode == BODY_BUFFER && r->body_len > r->body_cap) {
        err_set(&err, ERR_TOOBIG, "body of %llu bytes is over the %zu-byte "
                "cap of this endpoint", (unsigned long long)r->body_len,
                r->body_cap);
        httpd_req_reject(r, &err);
    }
    if (r->mode == BODY_STREAM && r->body_len > r->body_cap) {
        err_set(&err, ERR_TOOBIG, "body of %llu bytes is over the %llu-byte "
                "cap", (unsigned long long)r->body_len,
                (unsigned long long)r->body_cap);
        httpd_req_reject(r, &err);
    }
}

void httpd__route_request(struct httpd_req *r)
{
    r->match.route->on_request(r, r->h->svc.arg);
}

const char *httpd_req_capture(const struct httpd_req *r, unsigned idx)
{
    return r->match.route && idx < r->match.ncap ? r->match.cap[idx] : NULL;
}

int httpd_req_sha256(struct sha256 *out, const struct httpd_req *r,
                     unsigned idx)
{
    const char *s = httpd_req_capture(r, idx);

    if (!s || sha256_from_hexn(out, s, strlen(s)) < 0)
        return ERR_INVAL;
    return 0;
}

const struct httpd_route *httpd_req_route_def(const struct httpd_req *r)
{
    return r->match.route;
}
