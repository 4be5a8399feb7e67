/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_route: the route table of an httpd service. A service declares
 * its whole API as one static array of struct httpd_route (method set,
 * path pattern with typed captures, body cap, handlers); the server
 * matches every request against it at header time and answers by itself
 * when nothing matches: 404 (no pattern), 405 with Allow (the pattern
 * matches, the method does not), 400 (a malformed capture), 413 (body
 * over the route's cap). Handlers only ever see a matched request and
 * read its captures with the typed getters below.
 *
 * Patterns are paths whose segments are literals or captures:
 *   {sha256}        exactly 64 lowercase hex characters
 *   {id}, {uuid}    a UUID (8-4-4-4-12 hex digits)
 *   {anything else} one non-empty segment, percent-decoded, under
 *                   HTTPD_CAPTURE_MAX bytes
 * A path matches a pattern when every segment does. Among the patterns
 * that match a path, one whose methods include the request's wins; then
 * the one with the most literal segments; then the first in the table.
 * A capture that is malformed once the literals before it matched is a
 * 400 ("bad hash is 400 before any other work"), unless another pattern
 * matches the path.
 *
 * API versions (the reference's `api-version` header, Dropshot's
 * ClientSpecifiesVersionInHeader): a service lists the versions it
 * serves. Every reply of a routed request carries `api-version: V`, the
 * version it was served at; a request naming a version the service serves
 * is served at it, one naming none at the latest; a value that is not
 * MAJOR.MINOR.PATCH, or several api-version headers, is a 400
 * BAD_API_VERSION, a well-formed version the service does not serve a 400
 * UNSUPPORTED_API_VERSION naming the ones it does. Checked after the TLS
 * authentication, before the gate and the route match. A route may name
 * the first version that has it (`since`): a request at an older version
 * finds no such endpoint (404).
 *
 * Loop thread only, except httpd_route_match, httpd_route_allow and
 * httpd_api_version_pick (pure, any thread).
 */
#ifndef COMMON_HTTPD_ROUTE_H
#define COMMON_HTTPD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/httpd.h"
#include "common/tls.h"

struct err;
struct sha256;

/* Method sets of a route: HTTPD_M_GET | HTTPD_M_HEAD ... */
#define HTTPD_M(method) (1u << (method))
#define HTTPD_M_GET HTTPD_M(HTTPD_GET)
#define HTTPD_M_HEAD HTTPD_M(HTTPD_HEAD)
#define HTTPD_M_PUT HTTPD_M(HTTPD_PUT)
#define HTTPD_M_POST HTTPD_M(HTTPD_POST)
#define HTTPD_M_DELETE HTTPD_M(HTTPD_DELETE)

/* Body cap sentinel: the listener's max_body_bytes (httpd_opts), for
 * streamed artifact bodies whose cap is configured at run time. */
#define HTTPD_BODY_LISTENER SIZE_MAX

/*
 * Roles allowed on a route (mutual TLS, httpd_tls.h): a set of
 * HTTPD_ROLE(TLS_ROLE_*) bits, plus HTTPD_ROLE_SELF: capture 0 must be
 * the peer's own id (a sled registering itself). On a TLS listener a
 * request without a good certificate gets 401 and one whose role (or id)
 * the route does not take 403, before any handler; on a plaintext
 * listener (--insecure-plaintext) nothing is checked.
 */
#define HTTPD_ROLE(role) (1u << (role))
#define HTTPD_ROLE_CONTROLLER HTTPD_ROLE(TLS_ROLE_CONTROLLER)
#define HTTPD_ROLE_SLED HTTPD_ROLE(TLS_ROLE_SLED)
#define HTTPD_ROLE_OPERATOR HTTPD_ROLE(TLS_ROLE_OPERATOR)
#define HTTPD_ROLE_ALL \
    (HTTPD_ROLE_CONTROLLER | HTTPD_ROLE_SLED | HTTPD_ROLE_OPERATOR)
#define HTTPD_ROLE_SELF (1u << 16)

#define HTTPD_ROUTE_MAX_CAPTURES 4
#define HTTPD_CAPTURE_MAX 256 /* a decoded capture with its NUL */

/* Route handler: arg is the service's arg. */
typedef void (*httpd_handler_fn)(struct httpd_req *r, void *arg);

/*
 * Service-wide gate, before any matching: a negative return rejects the
 * request with err (e.g. 503 while shutting down).
 */
typedef int (*httpd_gate_fn)(struct httpd_req *r, struct err *err,
                             void *arg);

struct httpd_route {
    const char *name;        /* metrics label ("artifact_put") */
    unsigned methods;        /* HTTPD_M_* */
    const char *pattern;     /* "/artifacts/{sha256}" */
    size_t body_cap;         /* 0: LIMIT_JSON_BODY; HTTPD_BODY_LISTENER */
    bool stream;             /* on_headers streams the body; only such a
                                route takes a chunked body (others: 411) */
    /* Header time, before any body byte (may reject or stream); NULL
     * when the route needs nothing then. */
    httpd_handler_fn on_headers;
    httpd_handler_fn on_request; /* the body is complete: reply */
    const char *bad_capture; /* 400 message of a malformed {id}/{sha256},
                                NULL for the default */
    unsigned roles;          /* HTTPD_ROLE_* bits (0: nobody over TLS) */
    const char *since;       /* first API version with this route, NULL:
                                every version the service serves */
};

#define HTTPD_API_VERSION_HEADER "api-version"

/* A service: its route table (static, outlives the server), an optional
 * gate, the arg handed to the handlers and the gate, and the API versions
 * it serves (static "MAJOR.MINOR.PATCH" strings, oldest first, the last
 * the latest; none: no version header either way). */
struct httpd_service {
    const struct httpd_route *routes;
    size_t nroutes;
    httpd_gate_fn gate;
    void *arg;
    const char *const *api_versions;
    size_t n_api_versions;
};

enum httpd_match_result {
    HTTPD_MATCHED = 0,
    HTTPD_NO_ROUTE,       /* 404 */
    HTTPD_NO_METHOD,      /* 405: out->allow lists the path's methods */
    HTTPD_BAD_CAPTURE     /* 400: err says why */
};

struct httpd_match {
    const struct httpd_route *route; /* matched; for 405 the path's first */
    unsigned allow;                  /* methods of the path's routes */
    unsigned ncap;
    char cap[HTTPD_ROUTE_MAX_CAPTURES][HTTPD_CAPTURE_MAX];
};

/*
 * Match method and path (raw, without the query) against table[0..n).
 * Fills out (captures decoded, in pattern order) and returns the
 * outcome; err is set for HTTPD_BAD_CAPTURE. Pure.
 */
enum httpd_match_result httpd_route_match(struct httpd_match *out,
                                          const struct httpd_route *table,
                                          size_t n, enum httpd_method method,
                                          const char *path, struct err *err);

/*
 * "GET, PUT"-style list of the methods in a set (the Allow header), in
 * the order GET, HEAD, PUT, POST, DELETE, into out (cap bytes).
 */
void httpd_route_allow(char *out, size_t cap, unsigned methods);

/*
 * The API version a request is served at: *out the entry of
 * versions[0..n) that value (the request's api-version header, NULL when
 * absent) names, or the latest (versions[n - 1]) when value is NULL.
 * Returns 0, or ERR_INVAL with err set (error_code BAD_API_VERSION: not
 * MAJOR.MINOR.PATCH of decimal numbers without leading zeros;
 * UNSUPPORTED_API_VERSION: well-formed, not served). n must be >= 1. Pure.
 */
int httpd_api_version_pick(const char **out, const char *const *versions,
                           size_t n, const char *value, struct err *err);

/* Order of two well-formed versions a and b: <0, 0, >0. A malformed one
 * sorts first. Pure. */
int httpd_api_version_cmp(const char *a, const char *b);

/* The API version r is served at; NULL when its service has none or
 * before routing. */
const char *httpd_req_api_version(const struct httpd_req *r);

/* ---- captures of the matched route (valid while the request lives) ---- */
/* The decoded capture idx (pattern order), NULL if there is none. */
const char *httpd_req_capture(const struct httpd_req *r, unsigned idx);
/* Capture idx as a sha256 ({sha256}): 0, or ERR_INVAL if it is not one. */
int httpd_req_sha256(struct sha256 *out, const struct httpd_req *r,
                     unsigned idx);
/* The matched route (NULL before matching or when none matched). */
const struct httpd_route *httpd_req_route_def(const struct httpd_req *r);

#endif
