/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_httpd_chunked: harness for the chunked-body decoder of
 * common/httpd_chunked.c, called directly (fuzz_httpd drives it through a
 * connection). Input: byte 0 picks the cap (0, 16, 4096, 1 MiB or no
 * cap), byte 1 the size of the pieces of the second feeding, the rest is
 * the body as received. Properties:
 *  - fed whole or in pieces of any size (and byte by byte for short
 *    inputs), the outcome is the same: result, decoded bytes, message;
 *  - the decoder consumes at least one byte per call until it stops; a
 *    call's body bytes are the tail of what it consumed;
 *  - decoded bytes never exceed the input or the cap, and the total
 *    agrees; "more due" consumed the whole input;
 *  - a refusal is ERR_INVAL, ERR_TOOBIG or ERR_LIMIT with a message, and
 *    is final; a complete body decodes the same from exactly its bytes
 *    (what follows it does not matter), and its decoded bytes, re-framed
 *    as one chunk, decode back to themselves.
 * Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

#include "common/err.h"
#include "common/httpd_chunked.h"

struct outcome {
    int rc;
    size_t used;
    uint8_t *body;
    size_t blen;
    char msg[ERR_MSG_MAX];
};

/* Feed data[0, n) to d (as one piece), appending to o. */
static void feed(struct httpd_chunked *d, struct outcome *o,
                 const uint8_t *data, size_t n)
{
    struct httpd_chunked_step st;
    struct err err = ERR_INIT;
    size_t off = 0;

    while (o->rc == 0 && off < n) {
        o->rc = httpd_chunked_decode(d, &st, (const char *)data + off,
                                     n - off, &err);
        if (o->rc < 0) {
            FUZZ_CHECK(o->rc == ERR_INVAL || o->rc == ERR_TOOBIG ||
                       o->rc == ERR_LIMIT);
            FUZZ_CHECK(err.code == o->rc && err.msg[0] != '\0');
            FUZZ_CHECK(st.used == 0 && st.data_len == 0);
            snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
            return;
        }
        FUZZ_CHECK(st.data_len <= st.used && st.used <= n - off);
        FUZZ_CHECK(o->rc == 1 || st.used > 0);
        memcpy(o->body + o->blen, data + off + st.used - st.data_len,
               st.data_len);
        o->blen += st.data_len;
        off += st.used;
        o->used += st.used;
    }
}

static void run(struct outcome *o, const uint8_t *data, size_t n,
                uint64_t cap, size_t piece)
{
    struct httpd_chunked d;
    struct httpd_chunked_step st;
    struct err err = ERR_INIT;

    httpd_chunked_init(&d, cap);
    for (size_t off = 0; off < n; off += piece)
        feed(&d, o, data + off, n - off < piece ? n - off : piece);
    FUZZ_CHECK(o->blen <= n && o->blen <= cap);
    FUZZ_CHECK(httpd_chunked_total(&d) == o->blen);
    FUZZ_CHECK(httpd_chunked_done(&d) == (o->rc == 1));
    if (o->rc == 0)
        FUZZ_CHECK(o->used == n);
    /* final either way */
    if (o->rc != 0)
        FUZZ_CHECK(httpd_chunked_decode(&d, &st, "0\r\n\r\n", 5, &err) ==
                       o->rc && st.used == 0);
}

static void same(const struct outcome *a, const struct outcome *b)
{
    FUZZ_CHECK(a->rc == b->rc);
    if (a->rc >= 0)
        FUZZ_CHECK(a->used == b->used);
    FUZZ_CHECK(a->blen == b->blen);
    FUZZ_CHECK(a->blen == 0 || memcmp(a->body, b->body, a->blen) == 0);
    FUZZ_CHECK(strcmp(a->msg, b->msg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t caps[] = {0, 16, 4096, 1u << 20, UINT64_MAX};
    struct outcome whole = {0}, split = {0}, again = {0};
    uint8_t *frame = NULL;
    uint64_t cap;
    size_t piece, n;

    if (size < 2)
        return 0;
    cap = caps[data[0] % (sizeof(caps) / sizeof(caps[0]))];
    piece = (size_t)data[1] % 64 + 1;
    data += 2;
    n = size - 2;
    whole.body = mem_alloc(n + 1);
    split.body = mem_alloc(n + 1);
    again.body = mem_alloc(n + 1);
    FUZZ_CHECK(whole.body && split.body && again.body);
    run(&whole, data, n, cap, n ? n : 1);
    run(&split, data, n, cap, piece);
    same(&whole, &split);
    if (n <= 512) {
        memset(&again, 0, offsetof(struct outcome, body));
        again.blen = 0;
        again.msg[0] = '\0';
        run(&again, data, n, cap, 1);
        same(&whole, &again);
    }
    if (whole.rc == 1) {
        /* Exactly the body's bytes decode the same. */
        memset(&again, 0, offsetof(struct outcome, body));
        again.blen = 0;
        again.msg[0] = '\0';
        run(&again, data, whole.used, cap, whole.used ? whole.used : 1);
        same(&whole, &again);
        /* Re-framed as one chunk (and the last chunk). */
        frame = mem_alloc(whole.blen + 32);
        FUZZ_CHECK(frame != NULL);
        {
            int h = snprintf((char *)frame, 20, "%zx\r\n", whole.blen);
            size_t fl = (size_t)h;

            if (whole.blen) {
                memcpy(frame + fl, whole.body, whole.blen);
                fl += whole.blen;
                memcpy(frame + fl, "\r\n", 2);
                fl += 2;
            } else {
                fl = 0;
            }
            memcpy(frame + fl, "0\r\n\r\n", 5);
            fl += 5;
            memset(&again, 0, offsetof(struct outcome, body));
            again.blen = 0;
            again.msg[0] = '\0';
            run(&again, frame, fl, cap, fl);
            FUZZ_CHECK(again.rc == 1 && again.used == fl &&
                       again.blen == whole.blen);
            FUZZ_CHECK(whole.blen == 0 ||
                       memcmp(again.body, whole.body, whole.blen) == 0);
        }
    }
    mem_free(frame);
    mem_free(whole.body);
    mem_free(split.body);
    mem_free(again.body);
    return 0;
}
