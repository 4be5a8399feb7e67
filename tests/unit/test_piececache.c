/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store/piececache.c (store_pieces, issue 13):
 * the verified writer leaves the default-size manifest in memory (answered
 * at once, equal to one built independently); another piece size, and any
 * size after a restart, is recomputed from the stored copy on a worker and
 * then cached (stable bytes); requests for one manifest being computed
 * share the job; the job cap answers ERR_BUSY; a stored copy that no
 * longer hashes to its name is ERR_VERIFY; unknown artifact ERR_NOTFOUND;
 * bad piece size ERR_INVAL; the empty artifact has a manifest of no piece.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "sledagent/store/store.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

#define BIG (9u * 1024 * 1024 + 77) /* three 4 MiB pieces, one short */

struct answer {
    bool done;
    int rc;
    struct err err;
    struct buf doc;
};

static void on_pieces(int rc, const struct err *err, const char *doc,
                      size_t len, void *arg)
{
    struct answer *a = arg;

    a->done = true;
    a->rc = rc;
    if (err)
        a->err = *err;
    if (rc == 0)
        assert_int_equal(buf_append(&a->doc, doc, len), 0);
}

/* The encoded manifest of data in pieces of psize, built here. */
static void expected(struct buf *out, const void *data, size_t len,
                     uint64_t psize)
{
    struct pieces_builder *b = NULL;
    struct pieces m = PIECES_INIT;
    struct err e = ERR_INIT;
    struct sha256 h;

    assert_int_equal(sha256_digest(&h, data, len), 0);
    assert_int_equal(pieces_builder_new(&b, psize, &e), 0);
    assert_int_equal(pieces_builder_update(b, data, len), 0);
    assert_int_equal(pieces_builder_finish(&m, b, &h, &e), 0);
    assert_int_equal(pieces_encode(out, &m, &e), 0);
    pieces_builder_free(b);
    pieces_release(&m);
}

/* store_pieces, waiting for the answer when it is computed. *pending
 * says which way it came. */
static int get(struct fx *fx, struct buf *out, bool *pending,
               const struct sha256 *h, uint64_t psize, struct err *err)
{
    struct answer a = {0};
    int rc;

    buf_reset(out);
    rc = store_pieces(fx->st, out, pending, h, psize, on_pieces, &a, err);
    if (rc < 0 || !*pending) {
        assert_false(a.done);
        return rc;
    }
    assert_int_equal(out->len, 0);
    assert_true(wait_flag(fx, &a.done, 10000));
    if (a.rc == 0)
        assert_int_equal(buf_append(out, a.doc.data, a.doc.len), 0);
    else if (err)
        *err = a.err;
    buf_release(&a.doc);
    return a.rc;
}

static void assert_buf_eq(const struct buf *a, const struct buf *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

static void store_one(struct fx *fx, void **data, struct sha256 *h,
                      size_t len, uint64_t seed)
{
    struct err err = ERR_INIT;
    struct res r = {0};

    make_blob(data, h, len, seed);
    assert_int_equal(put_config(fx, 1, h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, h, 1, *data, len, 100000, &r), 0);
    assert_int_equal(r.rc, 0);
}

static void test_piececache__written_then_lazy(void **state)
{
    struct fx *fx = *state;
    struct buf got = BUF_INIT, want = BUF_INIT, want64 = BUF_INIT;
    struct err err = ERR_INIT;
    struct sha256 h;
    void *data = NULL;
    bool pending = true;

    fx_open(fx);
    store_one(fx, &data, &h, BIG, 5);
    expected(&want, data, BIG, PIECES_SIZE_DEFAULT);
    expected(&want64, data, BIG, PIECES_SIZE_MIN);
    /* from the write, at once */
    assert_int_equal(get(fx, &got, &pending, &h, 0, &err), 0);
    assert_false(pending);
    assert_buf_eq(&got, &want);
    assert_int_equal(get(fx, &got, &pending, &h, PIECES_SIZE_DEFAULT, &err),
                     0);
    assert_false(pending);
    assert_buf_eq(&got, &want);
    /* another size: computed from the copy, then cached */
    assert_int_equal(get(fx, &got, &pending, &h, PIECES_SIZE_MIN, &err), 0);
    assert_true(pending);
    assert_buf_eq(&got, &want64);
    assert_int_equal(get(fx, &got, &pending, &h, PIECES_SIZE_MIN, &err), 0);
    assert_false(pending);
    assert_buf_eq(&got, &want64);
    /* after a restart: recomputed, the same bytes */
    store_close(fx->st);
    fx->st = NULL;
    fx_open(fx);
    assert_int_equal(get(fx, &got, &pending, &h, 0, &err), 0);
    assert_true(pending);
    assert_buf_eq(&got, &want);
    assert_int_equal(get(fx, &got, &pending, &h, 0, &err), 0);
    assert_false(pending);
    /* counted since this store opened: one computed, one from memory */
    buf_reset(&got);
    assert_int_equal(store_metrics(fx->st, &got), 0);
    assert_non_null(strstr(got.data,
                           "\nsledagent_store_pieces_computed_total 1\n"));
    assert_non_null(strstr(got.data,
                           "\nsledagent_store_pieces_hits_total 1\n"));
    assert_non_null(strstr(got.data, "\nsledagent_store_pieces_cached 1\n"));
    buf_release(&got);
    buf_release(&want);
    buf_release(&want64);
    mem_free(data);
}

static void test_piececache__errors(void **state)
{
    struct fx *fx = *state;
    struct buf got = BUF_INIT, want = BUF_INIT;
    struct err err = ERR_INIT;
    struct sha256 h, other;
    void *data = NULL;
    bool pending = true;
    char *path;

    fx_open(fx);
    store_one(fx, &data, &h, 3 * PIECES_SIZE_MIN, 6);
    other = h;
    other.b[0] ^= 1;
    assert_int_equal(get(fx, &got, &pending, &other, 0, &err), ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "not stored here"));
    assert_false(pending);
    assert_int_equal(get(fx, &got, &pending, &h, 1000, &err), ERR_INVAL);
    assert_non_null(strstr(err.msg, "piece size 1000"));
    assert_int_equal(get(fx, &got, &pending, &h, 2ull * PIECES_SIZE_MAX,
                         &err), ERR_INVAL);
    /* the copies rot (same length) and the cache is gone: not served */
    for (int d = 0; d < 2; d++) {
        path = art_path(fx, d, &h);
        ((char *)data)[7] ^= 1;
        assert_int_equal(testutil_write_file(path, data, 3 * PIECES_SIZE_MIN),
                         0);
        ((char *)data)[7] ^= 1;
        mem_free(path);
    }
    store_close(fx->st);
    fx->st = NULL;
    fx_open(fx);
    assert_int_equal(get(fx, &got, &pending, &h, 0, &err), ERR_VERIFY);
    assert_true(pending);
    assert_non_null(strstr(err.msg, "no longer hashes to its name"));
    buf_release(&got);
    buf_release(&want);
    mem_free(data);
}

static void test_piececache__shared_jobs_and_cap(void **state)
{
    struct fx *fx = *state;
    struct answer a[6];
    struct buf out = BUF_INIT, want = BUF_INIT;
    struct err err = ERR_INIT;
    struct sha256 h;
    void *data = NULL;
    bool pending = false;

    memset(a, 0, sizeof(a));
    fx_open(fx);
    /* large enough that the second request nearly always finds the job
     * still running */
    store_one(fx, &data, &h, 128 * PIECES_SIZE_MIN + 1, 7);
    expected(&want, data, 128 * PIECES_SIZE_MIN + 1, PIECES_SIZE_MIN);
    /* two requests for one manifest: the second joins the job, or, when
     * the worker already cached the result (the job's completion has not
     * run: the loop did not turn), is answered from memory */
    assert_int_equal(store_pieces(fx->st, &out, &pending, &h, PIECES_SIZE_MIN,
                                  on_pieces, &a[0], &err), 0);
    assert_true(pending);
    assert_int_equal(store_pieces(fx->st, &out, &pending, &h, PIECES_SIZE_MIN,
                                  on_pieces, &a[1], &err), 0);
    if (!pending) {
        assert_int_equal(buf_append(&a[1].doc, out.data, out.len), 0);
        a[1].done = true;
        buf_reset(&out);
    }
    /* three other sizes fill the STORE_PIECES_JOBS (4) jobs; a fourth is
     * refused */
    for (int i = 2; i < 6; i++) {
        int rc = store_pieces(fx->st, &out, &pending, &h,
                              (uint64_t)PIECES_SIZE_MIN << (i - 1),
                              on_pieces, &a[i], &err);

        if (i < 5) {
            assert_int_equal(rc, 0);
            assert_true(pending);
        } else {
            assert_int_equal(rc, ERR_BUSY);
            assert_false(pending);
            assert_non_null(strstr(err.msg, "being computed"));
        }
    }
    for (int i = 0; i < 5; i++) {
        assert_true(wait_flag(fx, &a[i].done, 10000));
        assert_int_equal(a[i].rc, 0);
    }
    assert_false(a[5].done);
    assert_buf_eq(&a[0].doc, &want);
    assert_buf_eq(&a[1].doc, &want);
    for (int i = 0; i < 6; i++)
        buf_release(&a[i].doc);
    assert_int_equal(out.len, 0);
    buf_release(&out);
    buf_release(&want);
    mem_free(data);
}

static void test_piececache__empty_artifact(void **state)
{
    struct fx *fx = *state;
    struct buf got = BUF_INIT, want = BUF_INIT;
    struct err err = ERR_INIT;
    struct sha256 h;
    void *data = NULL;
    bool pending = true;

    fx_open(fx);
    store_one(fx, &data, &h, 0, 8);
    expected(&want, data, 0, PIECES_SIZE_DEFAULT);
    assert_int_equal(get(fx, &got, &pending, &h, 0, &err), 0);
    assert_buf_eq(&got, &want);
    assert_non_null(strstr(got.data, "\"pieces\":[]"));
    buf_release(&got);
    buf_release(&want);
    mem_free(data);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_piececache__written_then_lazy),
        T(test_piececache__errors),
        T(test_piececache__shared_jobs_and_cap),
        T(test_piececache__empty_artifact),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
