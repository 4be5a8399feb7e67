/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of positional writes (sledagent/store/writer_pieces.c, issue
 * 13): pieces in reverse order make a verified copy on both datasets and
 * cache the manifest; a corrupt piece is refused and never written; a
 * finish with a piece missing renames nothing; a manifest that lies about
 * the whole artifact (its pieces verify, the whole sha256 does not) renames
 * nothing (DESIGN.md 8.2); an abort with pieces queued calls back nothing
 * and leaves no temp file; bad piece indexes are refused at once; what
 * the depot serves of a write in progress (ranges inside verified pieces
 * only, the /have bitmap, the manifest). A streamed write (a PUT) checked
 * against a manifest as it passes serves its verified prefix before it
 * ends; a bad piece k: pieces before k served, k and later never, the
 * finish renames nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "sledagent/store/store.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

#define PSIZE (64u * 1024)
#define LEN (5u * PSIZE + 123u)

struct pres {
    unsigned calls, ok, want;
    int last_rc;
};

static void piece_cb(int rc, const struct err *err, uint32_t piece,
                     void *arg)
{
    struct pres *r = arg;

    (void)err;
    (void)piece;
    r->calls++;
    r->ok += rc == 0;
    r->last_rc = rc;
}

/* r->want callbacks ran */
static bool called(struct fx *fx, void *arg)
{
    (void)fx;
    return ((struct pres *)arg)->calls >= ((struct pres *)arg)->want;
}

/* The manifest of data (len bytes), named `name`. */
static void manifest_of(struct pieces *m, const void *data, size_t len,
                        const struct sha256 *name)
{
    struct pieces_builder *b = NULL;

    assert_int_equal(pieces_builder_new(&b, PSIZE, NULL), 0);
    assert_int_equal(pieces_builder_update(b, data, len), 0);
    assert_int_equal(pieces_builder_finish(m, b, name, NULL), 0);
    pieces_builder_free(b);
}

/* A mem_alloc'd copy of piece i of data. */
static void *piece_copy(const void *data, size_t len, uint32_t i, size_t *n)
{
    uint64_t off = 0, plen = 0;
    void *p;

    assert_int_equal(pieces_range(&off, &plen, len, PSIZE, i), 0);
    p = mem_alloc((size_t)plen);
    assert_non_null(p);
    memcpy(p, (const char *)data + off, (size_t)plen);
    *n = (size_t)plen;
    return p;
}


static void feed(struct fx *fx, struct store_write *w, const void *data,
                 uint32_t i, struct pres *r, int want_rc)
{
    struct err err = ERR_INIT;
    unsigned before = r->calls;
    size_t n = 0;
    void *p = piece_copy(data, LEN, i, &n);

    (void)fx;
    assert_int_equal(store_write_piece(w, i, p, n, piece_cb, r, &err), 0);
    r->want = before + 1;
    assert_true(wait_for(fx, called, r, 5000));
    assert_int_equal(r->calls, before + 1);
    assert_int_equal(r->last_rc, want_rc);
}

static void test_writer_pieces__reverse_order(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct res r = {0};
    struct sha256 h;
    struct err err = ERR_INIT;
    struct buf doc = BUF_INIT;
    bool pending = true;
    void *data;

    make_blob(&data, &h, LEN, 91);
    manifest_of(&m, data, LEN, &h);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    for (int i = 5; i >= 0; i--) {
        size_t n = 0;
        void *p = piece_copy(data, LEN, (uint32_t)i, &n);

        assert_int_equal(
            store_write_piece(w, (uint32_t)i, p, n, piece_cb, &pr, &err), 0);
    }
    pr.want = 6;
    assert_true(wait_for(fx, called, &pr, 10000));
    assert_int_equal(pr.ok, 6);
    assert_int_equal(store_write_pieces_done(w), 6);
    for (uint32_t i = 0; i < 6; i++)
        assert_true(store_write_has_piece(w, i));
    assert_false(store_write_has_piece(w, 6));
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.successful, 2);
    assert_true(file_is(fx, 0, &h, data, LEN));
    assert_true(file_is(fx, 1, &h, data, LEN));
    assert_int_equal(tmp_count(fx, 0), 0);
    /* the write's manifest is cached: answered from memory */
    assert_int_equal(store_pieces(fx->st, &doc, &pending, &h, PSIZE, NULL,
                                  NULL, &err),
                     0);
    assert_false(pending);
    {
        struct buf want = BUF_INIT;

        assert_int_equal(pieces_encode(&want, &m, NULL), 0);
        assert_int_equal(doc.len, want.len);
        assert_memory_equal(doc.data, want.data, want.len);
        buf_release(&want);
    }
    buf_release(&doc);
    pieces_release(&m);
    mem_free(data);
}

static void test_writer_pieces__corrupt_piece_refused(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct res r = {0};
    struct sha256 h;
    struct err err = ERR_INIT;
    size_t n = 0;
    void *data, *bad;

    make_blob(&data, &h, LEN, 92);
    manifest_of(&m, data, LEN, &h);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    bad = piece_copy(data, LEN, 2, &n);
    ((char *)bad)[100] ^= 1;
    assert_int_equal(store_write_piece(w, 2, bad, n, piece_cb, &pr, &err), 0);
    pr.want = 1;
    assert_true(wait_for(fx, called, &pr, 5000));
    assert_int_equal(pr.last_rc, ERR_VERIFY);
    assert_false(store_write_has_piece(w, 2));
    /* a piece of the wrong length is refused too */
    bad = piece_copy(data, LEN, 5, &n);
    assert_int_equal(store_write_piece(w, 4, bad, n, piece_cb, &pr, &err), 0);
    pr.want = 2;
    assert_true(wait_for(fx, called, &pr, 5000));
    assert_int_equal(pr.last_rc, ERR_VERIFY);
    pr = (struct pres){0};
    for (uint32_t i = 0; i < 6; i++)
        feed(fx, w, data, i, &pr, 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    assert_true(file_is(fx, 0, &h, data, LEN));
    assert_true(file_is(fx, 1, &h, data, LEN));
    pieces_release(&m);
    mem_free(data);
}

static void test_writer_pieces__missing_piece(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct res r = {0};
    struct sha256 h;
    struct err err = ERR_INIT;
    void *data;

    make_blob(&data, &h, LEN, 93);
    manifest_of(&m, data, LEN, &h);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    for (uint32_t i = 1; i < 6; i++)
        feed(fx, w, data, i, &pr, 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, ERR_INVAL);
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    pieces_release(&m);
    mem_free(data);
}

static void test_writer_pieces__lying_manifest(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct res r = {0};
    struct sha256 h, other;
    struct err err = ERR_INIT;
    void *data, *odata;

    /* the manifest names h but lists the pieces of other bytes */
    make_blob(&data, &h, LEN, 94);
    make_blob(&odata, &other, LEN, 95);
    manifest_of(&m, odata, LEN, &h);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    for (uint32_t i = 0; i < 6; i++)
        feed(fx, w, odata, i, &pr, 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, ERR_VERIFY);
    assert_non_null(strstr(r.err.msg, "does not match"));
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_int_equal(tmp_count(fx, 0), 0);
    /* a manifest of another artifact is refused at begin */
    assert_int_equal(
        store_write_begin_pieces(fx->st, &w, &other, 1, &m, &err), ERR_INVAL);
    pieces_release(&m);
    mem_free(data);
    mem_free(odata);
}

/* Serving what is verified so far: the store side of the depot's 206/416,
 * /have and /pieces on an artifact in progress. */
static void test_writer_pieces__serve_partial(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct res r = {0};
    struct sha256 h, other, mid;
    struct err err = ERR_INIT;
    struct buf doc = BUF_INIT, want = BUF_INIT;
    char mhex[SHA256_HEX_LEN + 1], expect[512];
    uint64_t len = 0;
    char got[PSIZE];
    int fd = -1;
    void *data, *odata;

    make_blob(&data, &h, LEN, 97);
    make_blob(&odata, &other, 10, 98);
    manifest_of(&m, data, LEN, &h);
    assert_int_equal(pieces_id(&mid, &m, NULL), 0);
    sha256_to_hex(mhex, &mid);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_partial_length(fx->st, &h, &len, &err),
                     ERR_NOTFOUND);
    assert_int_equal(store_have(fx->st, &h, &doc, &err), ERR_NOTFOUND);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    assert_int_equal(store_partial_length(fx->st, &h, &len, &err), 0);
    assert_int_equal(len, LEN);
    assert_int_equal(store_partial_length(fx->st, &other, &len, &err),
                     ERR_NOTFOUND);
    feed(fx, w, data, 1, &pr, 0);
    feed(fx, w, data, 2, &pr, 0);
    /* pieces 1 and 2: bit 1 and 2 of byte 0 */
    assert_int_equal(store_have(fx->st, &h, &doc, &err), 0);
    snprintf(expect, sizeof(expect),
             "{\"complete\":false,\"have\":\"06\",\"length\":%u,"
             "\"manifest_sha256\":\"%s\",\"piece_size\":%u,"
             "\"pieces\":6}", LEN, mhex, PSIZE);
    assert_string_equal(doc.data, expect);
    buf_release(&doc);
    /* a range across pieces 1-2 is served from the temp file */
    assert_int_equal(store_partial_open(fx->st, &h, PSIZE + 10, PSIZE, &fd,
                                        &err), 0);
    assert_int_equal(pread(fd, got, PSIZE, PSIZE + 10), PSIZE);
    assert_memory_equal(got, (char *)data + PSIZE + 10, PSIZE);
    close(fd);
    /* one byte of piece 0 or 3, or past the end: not served */
    assert_int_equal(store_partial_open(fx->st, &h, PSIZE - 1, 2, &fd, &err),
                     ERR_INVAL);
    assert_int_equal(store_partial_open(fx->st, &h, 3 * PSIZE - 1, 2, &fd,
                                        &err), ERR_INVAL);
    assert_int_equal(store_partial_open(fx->st, &h, LEN, 1, &fd, &err),
                     ERR_INVAL);
    assert_int_equal(fd, -1);
    /* the manifest being checked against, in its piece size only */
    assert_int_equal(store_partial_manifest(fx->st, &h, 0, &doc, &err), 0);
    assert_int_equal(pieces_encode(&want, &m, NULL), 0);
    assert_int_equal(doc.len, want.len);
    assert_memory_equal(doc.data, want.data, want.len);
    buf_release(&doc);
    assert_int_equal(store_partial_manifest(fx->st, &h, 2 * PSIZE, &doc,
                                            &err), ERR_NOTFOUND);
    for (uint32_t i = 0; i < 6; i++)
        if (i != 1 && i != 2)
            feed(fx, w, data, i, &pr, 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    /* complete now */
    assert_int_equal(store_have(fx->st, &h, &doc, &err), 0);
    snprintf(expect, sizeof(expect), "{\"complete\":true,\"length\":%u}",
             LEN);
    assert_string_equal(doc.data, expect);
    assert_int_equal(store_partial_length(fx->st, &h, &len, &err),
                     ERR_NOTFOUND);
    buf_release(&doc);
    buf_release(&want);
    pieces_release(&m);
    mem_free(data);
    mem_free(odata);
}

static bool no_temps(struct fx *fx, void *arg)
{
    (void)arg;
    return tmp_count(fx, 0) == 0 && tmp_count(fx, 1) == 0;
}

static void test_writer_pieces__abort_and_bad_index(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct pres pr = {0};
    struct sha256 h;
    struct err err = ERR_INIT;
    size_t n = 0;
    void *data, *p;

    make_blob(&data, &h, LEN, 96);
    manifest_of(&m, data, LEN, &h);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin_pieces(fx->st, &w, &h, 1, &m, &err),
                     0);
    feed(fx, w, data, 0, &pr, 0);
    /* written, out of range, queued twice: refused at once (buffer freed) */
    p = piece_copy(data, LEN, 0, &n);
    assert_int_equal(store_write_piece(w, 0, p, n, piece_cb, &pr, &err),
                     ERR_INVAL);
    p = piece_copy(data, LEN, 0, &n);
    assert_int_equal(store_write_piece(w, 6, p, n, piece_cb, &pr, &err),
                     ERR_INVAL);
    p = piece_copy(data, LEN, 1, &n);
    assert_int_equal(store_write_piece(w, 1, p, n, piece_cb, &pr, &err), 0);
    p = piece_copy(data, LEN, 1, &n);
    assert_int_equal(store_write_piece(w, 1, p, n, piece_cb, &pr, &err),
                     ERR_INVAL);
    p = piece_copy(data, LEN, 2, &n);
    assert_int_equal(store_write_piece(w, 2, p, n, piece_cb, &pr, &err), 0);
    store_write_abort(w);
    assert_true(wait_for(fx, no_temps, NULL, 5000));
    /* let any completion run: no callback after the abort */
    pr.want = 2;
    assert_false(wait_for(fx, called, &pr, 200));
    assert_int_equal(pr.calls, 1);
    assert_false(exists_art(fx, 0, &h));
    pieces_release(&m);
    mem_free(data);
}

/* Stream bytes [off, off + n) of data into w. */
static void stream(struct store_write *w, const void *data, size_t off,
                   size_t n)
{
    struct evbuffer *b = evbuffer_new();

    assert_non_null(b);
    assert_int_equal(evbuffer_add(b, (const char *)data + off, n), 0);
    assert_int_equal(store_write_data(w, b), 0);
    evbuffer_free(b);
}

struct serve_q {
    struct sha256 *h;
    uint64_t off, len;
};

/* the range is served from the write in progress */
static bool served(struct fx *fx, void *arg)
{
    struct serve_q *q = arg;
    struct err err = ERR_INIT;
    int fd = -1;

    if (store_partial_open(fx->st, q->h, q->off, q->len, &fd, &err) < 0)
        return false;
    close(fd);
    return true;
}

static void have_is(struct fx *fx, struct sha256 *h, const char *bits,
                    const char *mhex)
{
    struct buf doc = BUF_INIT;
    struct err err = ERR_INIT;
    char expect[512];

    assert_int_equal(store_have(fx->st, h, &doc, &err), 0);
    snprintf(expect, sizeof(expect),
             "{\"complete\":false,\"have\":\"%s\",\"length\":%u,"
             "\"manifest_sha256\":\"%s\",\"piece_size\":%u,"
             "\"pieces\":6}", bits, LEN, mhex, PSIZE);
    assert_string_equal(doc.data, expect);
    buf_release(&doc);
}

static void test_writer_pieces__stream_serves_prefix(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT, bad = PIECES_INIT;
    struct res r = {0};
    struct sha256 h, mid;
    struct err err = ERR_INIT;
    struct serve_q q;
    char mhex[SHA256_HEX_LEN + 1];
    char got[PSIZE];
    int fd = -1;
    void *data;

    make_blob(&data, &h, LEN, 91);
    manifest_of(&m, data, LEN, &h);
    manifest_of(&bad, data, LEN - 1, &h); /* another length */
    assert_int_equal(pieces_id(&mid, &m, NULL), 0);
    sha256_to_hex(mhex, &mid);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, LEN, &err), 0);
    assert_int_equal(store_write_stream_pieces(w, &bad, &err), ERR_INVAL);
    assert_int_equal(store_write_stream_pieces(w, &m, &err), 0);
    assert_int_equal(store_write_stream_pieces(w, &m, &err), ERR_INVAL);
    have_is(fx, &h, "00", mhex);
    /* two and a half pieces: 0 and 1 served, 2 not yet */
    stream(w, data, 0, 2 * PSIZE + PSIZE / 2);
    q.h = &h;
    q.off = PSIZE;
    q.len = PSIZE;
    assert_true(wait_for(fx, served, &q, 5000));
    have_is(fx, &h, "03", mhex);
    assert_int_equal(store_partial_open(fx->st, &h, 0, 2 * PSIZE, &fd,
                                        &err), 0);
    assert_int_equal(pread(fd, got, PSIZE, PSIZE), PSIZE);
    assert_memory_equal(got, (char *)data + PSIZE, PSIZE);
    close(fd);
    assert_int_equal(store_partial_open(fx->st, &h, 2 * PSIZE, 1, &fd, &err),
                     ERR_INVAL);
    assert_false(exists_art(fx, 0, &h));
    /* the rest, to the short last piece */
    stream(w, data, 2 * PSIZE + PSIZE / 2, LEN - 2 * PSIZE - PSIZE / 2);
    q.off = 5 * PSIZE;
    q.len = 123;
    assert_true(wait_for(fx, served, &q, 5000));
    have_is(fx, &h, "3f", mhex);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    assert_true(file_is(fx, 0, &h, data, LEN));
    assert_true(file_is(fx, 1, &h, data, LEN));
    assert_int_equal(tmp_count(fx, 0), 0);
    pieces_release(&m);
    pieces_release(&bad);
    mem_free(data);
}

/* A PUT target's depot sends each piece of its streamed write once in
 * STORE_PIECE_RESEND_MS (store_partial_sent), and store_have_count
 * follows the verified prefix; neither applies once the write is done. */
static void test_writer_pieces__stream_sends_once(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct res r = {0};
    struct sha256 h, other, mid;
    struct err err = ERR_INIT;
    struct serve_q q;
    char mhex[SHA256_HEX_LEN + 1];
    uint32_t n = 99;
    void *data;

    make_blob(&data, &h, LEN, 93);
    memset(&other, 7, sizeof(other));
    manifest_of(&m, data, LEN, &h);
    assert_int_equal(pieces_id(&mid, &m, NULL), 0);
    sha256_to_hex(mhex, &mid);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, LEN, &err), 0);
    assert_int_equal(store_have_count(fx->st, &h, &n), ERR_NOTFOUND);
    assert_int_equal(store_write_stream_pieces(w, &m, &err), 0);
    assert_int_equal(store_have_count(fx->st, &h, &n), 0);
    assert_int_equal(n, 0);
    stream(w, data, 0, 2 * PSIZE);
    q.h = &h;
    q.off = PSIZE;
    q.len = PSIZE;
    assert_true(wait_for(fx, served, &q, 5000));
    assert_int_equal(store_have_count(fx->st, &h, &n), 0);
    assert_int_equal(n, 2);
    assert_false(store_partial_sent(fx->st, &h, 0, false));
    assert_false(store_partial_sent(fx->st, &h, 0, true)); /* sent now */
    assert_true(store_partial_sent(fx->st, &h, 0, false));
    assert_true(store_partial_sent(fx->st, &h, PSIZE - 1, true));
    assert_false(store_partial_sent(fx->st, &h, PSIZE, false));
    /* /have leaves the piece just sent out, and so does its count */
    have_is(fx, &h, "02", mhex);
    assert_int_equal(store_have_count(fx->st, &h, &n), 0);
    assert_int_equal(n, 1);
    assert_false(store_partial_sent(fx->st, &other, 0, false));
    stream(w, data, 2 * PSIZE, LEN - 2 * PSIZE);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    /* complete: served whole, no write in progress */
    assert_false(store_partial_sent(fx->st, &h, 0, false));
    assert_int_equal(store_have_count(fx->st, &h, &n), ERR_NOTFOUND);
    pieces_release(&m);
    mem_free(data);
}

static void test_writer_pieces__stream_bad_piece(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct pieces m = PIECES_INIT;
    struct res r = {0};
    struct sha256 h, mid;
    struct err err = ERR_INIT;
    struct serve_q q;
    char mhex[SHA256_HEX_LEN + 1];
    int fd = -1;
    void *data;

    make_blob(&data, &h, LEN, 92);
    manifest_of(&m, data, LEN, &h);
    assert_int_equal(pieces_id(&mid, &m, NULL), 0);
    sha256_to_hex(mhex, &mid);
    ((char *)data)[3 * PSIZE + 7] ^= 1; /* piece 3 goes bad */
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, LEN, &err), 0);
    assert_int_equal(store_write_stream_pieces(w, &m, &err), 0);
    stream(w, data, 0, LEN);
    q.h = &h;
    q.off = 2 * PSIZE;
    q.len = PSIZE;
    assert_true(wait_for(fx, served, &q, 5000));
    /* the whole body has passed: still only 0..2 */
    q.off = 5 * PSIZE;
    q.len = 123;
    assert_false(wait_for(fx, served, &q, 300));
    have_is(fx, &h, "07", mhex);
    assert_int_equal(store_partial_open(fx->st, &h, 3 * PSIZE, 1, &fd, &err),
                     ERR_INVAL);
    assert_int_equal(store_partial_open(fx->st, &h, 4 * PSIZE, 1, &fd, &err),
                     ERR_INVAL);
    assert_int_equal(fd, -1);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, ERR_VERIFY);
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_true(wait_for(fx, no_temps, NULL, 5000));
    assert_int_equal(store_partial_open(fx->st, &h, 0, 1, &fd, &err),
                     ERR_NOTFOUND);
    pieces_release(&m);
    mem_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_writer_pieces__reverse_order),
        T(test_writer_pieces__corrupt_piece_refused),
        T(test_writer_pieces__missing_piece),
        T(test_writer_pieces__lying_manifest),
        T(test_writer_pieces__abort_and_bad_index),
        T(test_writer_pieces__serve_partial),
        T(test_writer_pieces__stream_serves_prefix),
        T(test_writer_pieces__stream_sends_once),
        T(test_writer_pieces__stream_bad_piece),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
