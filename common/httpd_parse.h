/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_parse: the request-head parser of the httpd server, as pure
 * functions: bytes in, a parsed head (offsets into those bytes) or the
 * refusal the server answers (status and message) out. No sockets, no
 * libevent, no allocation: the caller owns the bytes and the result.
 * httpd_parse_scan decides on the bytes received so far whether a head is
 * complete, still due, or refused early (431 over LIMIT_HTTP_HEADERS, 400
 * for a malformed request line as soon as the first line is in);
 * httpd_parse_head parses one complete head strictly: `METHOD /path
 * HTTP/1.x` CRLF, headers `name: value` CRLF, no NUL, no bare CR or LF, no
 * obs-fold, at most HTTPD_MAX_HEADERS, at most one Content-Length (a
 * decimal u64), and a Transfer-Encoding only as exactly one `chunked` on
 * an HTTP/1.1 PUT or POST without a Content-Length (the body is then
 * decoded by httpd_chunked). Pure, any thread.
 */
#ifndef COMMON_HTTPD_PARSE_H
#define COMMON_HTTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/httpd.h"
#include "common/limits.h"

struct err;

#define HTTPD_MAX_HEADERS 64

/* Bytes httpd_parse_scan needs at most (contiguous) to decide. */
#define HTTPD_PARSE_SCAN_MAX (LIMIT_HTTP_HEADERS + 1)

/* A field of a parsed head: bytes [off, off + len) of the parsed input,
 * always followed there by a delimiter byte (never by another field). */
struct httpd_span {
    uint32_t off;
    uint32_t len;
};

/* A parsed request head (a plain value). httpd_parse_head zeroes it up to
 * the slot arrays, of which the first nhdr entries are set. */
struct httpd_head {
    size_t len;                   /* head bytes, the final CRLFCRLF included */
    enum httpd_method method;     /* 0 until the request line was accepted */
    bool http10;
    bool has_query;               /* a '?' in the target (query may be "") */
    bool has_length;              /* exactly one valid Content-Length */
    bool chunked;                 /* Transfer-Encoding: chunked */
    uint64_t content_length;      /* 0 without */
    struct httpd_span method_name;
    struct httpd_span path;       /* starts with '/', up to '?' */
    struct httpd_span query;      /* after the first '?', raw */
    unsigned nhdr;
    struct httpd_span name[HTTPD_MAX_HEADERS];  /* no SP, HT or ':' */
    struct httpd_span value[HTTPD_MAX_HEADERS]; /* SP/HT trimmed */
};

/*
 * Look at the first len bytes received on a connection (len may stop at
 * HTTPD_PARSE_SCAN_MAX when more arrived). *out is the length of the
 * complete head (up to its first CRLFCRLF) or 0 while more bytes are due.
 * Returns 0; ERR_LIMIT (431, "request head over the 16 KiB limit") when no
 * head ends within LIMIT_HTTP_HEADERS bytes and more arrived; ERR_INVAL
 * (400, "malformed request line") once the first line is in and cannot be
 * `METHOD /target HTTP/1.x` CRLF (METHOD in A-Z). An early refusal is final:
 * more bytes never turn it into a head.
 */
int httpd_parse_scan(size_t *out, const char *data, size_t len,
                     struct err *err);

/*
 * Parse data[0, len), which must be exactly one complete head (as
 * httpd_parse_scan found it), into *out (offsets into data). Returns 0;
 * ERR_LIMIT or ERR_INVAL with the message the server answers (the checks
 * of httpd_parse_scan first, then "not exactly one request head", "NUL
 * byte in the request head", "bad request line", "unsupported HTTP
 * version", "request target must be a path", "bare CR or LF in a header
 * line", "bad or too many header lines", "bad header name", the
 * Transfer-Encoding refusals (a coding other than exactly one "chunked",
 * "Transfer-Encoding together with Content-Length", one in HTTP/1.0, one
 * on a method other than PUT or POST), "bad Content-Length"). After a refusal in the
 * header lines (from "bare CR..." on), the request-line fields and the
 * headers before the bad one are set (a refused HEAD gets no reply body).
 */
int httpd_parse_head(struct httpd_head *out, const char *data, size_t len,
                     struct err *err);

/* The HTTP status of a refusal rc of this module: 431 for ERR_LIMIT, 400
 * otherwise (err_http_status maps ERR_LIMIT to 400). */
int httpd_parse_status(int rc);

#endif
