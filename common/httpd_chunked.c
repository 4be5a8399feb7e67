/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_chunked: the strict, incremental decoder of chunked request bodies
 * (see httpd_chunked.h). One byte of framing at a time, body bytes as
 * whole runs; the messages are the server's answers. Pure, any thread.
 */
#include "common/httpd_chunked.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/httpd_parse.h"
#include "common/limits.h"

/* 16 hex digits are a u64; a 17th (even after zeros) is an overflow. */
#define CHUNK_SIZE_DIGITS_MAX 16

enum {
    S_SIZE = 0,   /* hex digits of a chunk-size */
    S_SIZE_WS,    /* BWS after the size: only before a ';' */
    S_EXT,        /* a chunk extension, up to CR */
    S_SIZE_LF,    /* the LF of the size line */
    S_DATA,       /* size bytes of chunk data */
    S_DATA_CR,    /* the CRLF after chunk data */
    S_DATA_LF,
    S_TRAILER,    /* start of a trailer line, or the final CRLF */
    S_TNAME,      /* trailer field name, up to ':' */
    S_TVALUE,     /* trailer field value, up to CR */
    S_TLINE_LF,   /* the LF of a trailer line */
    S_END_LF,     /* the LF of the final CRLF */
    S_DONE,
    S_FAILED
};

void httpd_chunked_init(struct httpd_chunked *d, uint64_t cap)
{
    memset(d, 0, sizeof(*d));
    d->state = S_SIZE;
    d->cap = cap;
}

bool httpd_chunked_done(const struct httpd_chunked *d)
{
    return d->state == S_DONE;
}

uint64_t httpd_chunked_total(const struct httpd_chunked *d)
{
    return d->total;
}

/* RFC 9110 tchar: the bytes of a field name. */
static bool tchar(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Extension bytes: VCHAR, SP, HT and obs-text (a quoted-string may hold
 * any of them); never CTLs. */
static bool ext_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int fail(struct httpd_chunked *d, struct err *err, int rc,
                const char *msg)
{
    d->state = S_FAILED;
    d->rc = err_set(err, rc, "%s", msg);
    return d->rc;
}

/* The size line ended (its LF): data, or the trailers of the last chunk. */
static int size_line_done(struct httpd_chunked *d, struct err *err)
{
    if (d->size > d->cap - d->total) {
        char msg[120];

        snprintf(msg, sizeof(msg), "chunked body over the %llu-byte cap",
                 (unsigned long long)d->cap);
        return fail(d, err, ERR_TOOBIG, msg);
    }
    d->state = d->size ? S_DATA : S_TRAILER;
    d->ndigits = 0;
    d->line = 0;
    return 0;
}

/* One byte of framing. */
static int step(struct httpd_chunked *d, unsigned char c, struct err *err)
{
    int v;

    if (d->state <= S_SIZE_LF && ++d->line > LIMIT_HTTP_CHUNK_LINE)
        return fail(d, err, ERR_LIMIT, "chunk-size line over the limit");
    if (d->state >= S_TRAILER && d->state <= S_END_LF &&
        ++d->trailer_bytes > LIMIT_HTTP_HEADERS)
        return fail(d, err, ERR_LIMIT, "chunked trailers over the limit");
    switch (d->state) {
    case S_SIZE:
        v = hex_digit((char)c);
        if (v >= 0) {
            if (++d->ndigits > CHUNK_SIZE_DIGITS_MAX)
                return fail(d, err, ERR_INVAL, "chunk size overflow");
            d->size = d->size << 4 | (uint64_t)v;
            return 0;
        }
        if (d->ndigits == 0)
            return fail(d, err, ERR_INVAL, "bad chunk size");
        if (c == '\r')
            d->state = S_SIZE_LF;
        else if (c == ';')
            d->state = S_EXT;
        else if (c == ' ' || c == '\t')
            d->state = S_SIZE_WS;
        else
            return fail(d, err, ERR_INVAL, "bad chunk size");
        return 0;
    case S_SIZE_WS:
        if (c == ';')
            d->state = S_EXT;
        else if (c != ' ' && c != '\t')
            return fail(d, err, ERR_INVAL, "bad chunk size");
        return 0;
    case S_EXT:
        if (c == '\r')
            d->state = S_SIZE_LF;
        else if (!ext_byte(c))
            return fail(d, err, ERR_INVAL, "bad chunk extension");
        return 0;
    case S_SIZE_LF:
        if (c != '\n')
            return fail(d, err, ERR_INVAL, "chunk size line not ended by "
                        "CRLF");
        return size_line_done(d, err);
    case S_DATA_CR:
        if (c != '\r')
            return fail(d, err, ERR_INVAL, "chunk data not followed by "
                        "CRLF");
        d->state = S_DATA_LF;
        return 0;
    case S_DATA_LF:
        if (c != '\n')
            return fail(d, err, ERR_INVAL, "chunk data not followed by "
                        "CRLF");
        d->state = S_SIZE;
        d->size = 0;
        return 0;
    case S_TRAILER:
        if (c == '\r') {
            d->state = S_END_LF;
            return 0;
        }
        if (++d->ntrailers > HTTPD_MAX_HEADERS)
            return fail(d, err, ERR_LIMIT, "too many chunked trailers");
        if (!tchar(c))
            return fail(d, err, ERR_INVAL, "bad trailer line");
        d->state = S_TNAME;
        return 0;
    case S_TNAME:
        if (c == ':')
            d->state = S_TVALUE;
        else if (!tchar(c))
            return fail(d, err, ERR_INVAL, "bad trailer line");
        return 0;
    case S_TVALUE:
        if (c == '\r')
            d->state = S_TLINE_LF;
        else if (c == '\n' || c == '\0')
            return fail(d, err, ERR_INVAL, "bad trailer line");
        return 0;
    case S_TLINE_LF:
        if (c != '\n')
            return fail(d, err, ERR_INVAL, "bare CR in a trailer line");
        d->state = S_TRAILER;
        return 0;
    case S_END_LF:
        if (c != '\n')
            return fail(d, err, ERR_INVAL, "chunked body not ended by CRLF");
        d->state = S_DONE;
        return 0;
    default:
        return fail(d, err, ERR_INTERNAL, "chunked decoder state");
    }
}

int httpd_chunked_decode(struct httpd_chunked *d,
                         struct httpd_chunked_step *out, const char *data,
                         size_t len, struct err *err)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;
    int rc;

    out->used = 0;
    out->data_len = 0;
    if (d->state == S_FAILED)
        return err_set(err, d->rc, "chunked body already refused");
    while (i < len && d->state != S_DONE) {
        if (d->state == S_DATA) {
            size_t n = len - i;

            if (n > d->size)
                n = (size_t)d->size;
            d->size -= n;
            d->total += n;
            if (d->size == 0)
                d->state = S_DATA_CR;
            out->used = i + n;
            out->data_len = n;
            return 0;
        }
        rc = step(d, p[i], err);
        if (rc < 0)
            return rc;
        i++;
    }
    out->used = i;
    return d->state == S_DONE ? 1 : 0;
}
