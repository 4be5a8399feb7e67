/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_chunked: the decoder of chunked request bodies (RFC 9112 7.1) of
 * the httpd server, as a pure incremental state machine: bytes in (any
 * split), the spans of decoded body bytes and the state out. No sockets,
 * no allocation, nothing buffered: the caller moves the body bytes
 * itself (httpd_body.c moves them between evbuffers without a copy).
 *
 * Strict framing: chunk-size is 1 to 16 hex digits (17 or more, leading
 * zeros included, is an overflow), optionally followed by BWS and chunk
 * extensions (`;` up to the CRLF, ignored; the line is at most
 * LIMIT_HTTP_CHUNK_LINE bytes), then CRLF; chunk data is followed by
 * CRLF; the last chunk (size 0) is followed by trailer lines (`name:
 * value` CRLF, read and ignored, at most HTTPD_MAX_HEADERS lines and
 * LIMIT_HTTP_HEADERS bytes) and the final CRLF. Bare CR or LF, NUL, and
 * any other byte where the grammar has none are refused. The decoded size
 * is capped: a chunk whose size would take the body over the cap is
 * refused as soon as its size line is in, before any of its data.
 * Errors are final (the state stays failed). Pure, any thread.
 */
#ifndef COMMON_HTTPD_CHUNKED_H
#define COMMON_HTTPD_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* Decoder state, a plain value (fields private to httpd_chunked.c). */
struct httpd_chunked {
    int state;
    int rc;                 /* the refusal, once failed */
    unsigned ndigits;       /* hex digits of the size line so far */
    unsigned ntrailers;
    uint64_t size;          /* size being parsed, then data still due */
    uint64_t total;         /* decoded body bytes so far */
    uint64_t cap;
    size_t line;            /* bytes of the current size line */
    size_t trailer_bytes;
};

/* What one call of httpd_chunked_decode consumed: used bytes of the
 * input, of which the last data_len are body bytes (data[used - data_len,
 * used)); the ones before are framing. */
struct httpd_chunked_step {
    size_t used;
    size_t data_len;
};

/* A decoder for one body of at most cap decoded bytes. */
void httpd_chunked_init(struct httpd_chunked *d, uint64_t cap);

/*
 * Decode from data[0, len): consume framing up to and including at most
 * one run of body bytes, stopping after that run, at the end of the body
 * or at the end of the input (*out says what was consumed; at least one
 * byte when len > 0 and the body is not complete). Returns 0 (more is
 * due), 1 (the body is complete: bytes after out->used belong to the next
 * request; further calls consume nothing and return 1), or the refusal,
 * with err set (the server's answer): ERR_INVAL (400: "bad chunk size",
 * "chunk size overflow", "bad chunk extension", "chunk data not followed
 * by CRLF", "bad trailer line" ...), ERR_TOOBIG (413: decoded body over
 * the cap), ERR_LIMIT (400: chunk-size line over LIMIT_HTTP_CHUNK_LINE,
 * trailers over their limits). After a refusal every call returns it
 * again and consumes nothing.
 */
int httpd_chunked_decode(struct httpd_chunked *d,
                         struct httpd_chunked_step *out, const char *data,
                         size_t len, struct err *err);

/* Whether the body is complete (the final CRLF was consumed). */
bool httpd_chunked_done(const struct httpd_chunked *d);

/* Decoded body bytes so far. */
uint64_t httpd_chunked_total(const struct httpd_chunked *d);

#endif
