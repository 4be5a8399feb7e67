/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store/writer.c beyond test_store: flow control
 * (pause above the high watermark, resume once drained) with a large
 * streamed body, a dataset vanishing mid-write (dropped, marked unhealthy,
 * the other copy succeeds) and coming back (probe re-creates tmp/ and
 * trash/ and copies the artifact over), abort removing temp files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "common/mem.h"
#include "sledagent/store/store.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

struct flow {
    int pauses, resumes;
    bool paused;
};

static void on_flow(bool pause, void *arg)
{
    struct flow *f = arg;

    if (pause)
        f->pauses++;
    else
        f->resumes++;
    f->paused = pause;
}

static bool resumed(struct fx *fx, void *arg)
{
    (void)fx;
    return !((struct flow *)arg)->paused;
}

static void test_writer__flow_control(void **state)
{
    enum { CHUNK = 1u << 20, TOTAL = 40u << 20 };
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    struct flow f = {0};
    struct res r = {0};
    struct sha256 h;
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    struct err err = ERR_INIT;
    char *chunk = mem_alloc(CHUNK);

    /* the hash of the streamed pattern, computed without holding it */
    assert_int_equal(sha256_init(&ctx), 0);
    for (uint64_t off = 0; off < TOTAL; off += CHUNK) {
        testutil_pattern(chunk, CHUNK, 81, off);
        sha256_update(&ctx, chunk, CHUNK);
    }
    assert_int_equal(sha256_final(&ctx, &h), 0);
    sha256_release(&ctx);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, TOTAL, &err), 0);
    store_write_set_flow(w, on_flow, &f);
    for (uint64_t off = 0; off < TOTAL; off += CHUNK) {
        /* a source that honours pause: wait for resume before reading */
        assert_true(wait_for(fx, resumed, &f, 10000));
        testutil_pattern(chunk, CHUNK, 81, off);
        evbuffer_add(eb, chunk, CHUNK);
        assert_int_equal(store_write_data(w, eb), 0);
    }
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 20000));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.successful, 2);
    /* 40 MiB pushed 1 MiB at a time must have crossed the watermark */
    assert_true(f.pauses >= 1);
    assert_int_equal(f.resumes, f.pauses);
    {
        struct sha256 got;
        char *p = art_path(fx, 1, &h);

        assert_int_equal(testutil_sha256_file(&got, p), 0);
        assert_true(sha256_eq(&got, &h));
        mem_free(p);
    }
    evbuffer_free(eb);
    mem_free(chunk);
}

static bool file_on_b(struct fx *fx, void *arg)
{
    return exists_art(fx, 1, arg);
}

static bool temps_exist(struct fx *fx, void *arg)
{
    (void)arg;
    return tmp_count(fx, 0) > 0 && tmp_count(fx, 1) > 0;
}

static void test_writer__dataset_lost_mid_write(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    struct res r = {0};
    struct sha256 h;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 1u << 20;

    make_blob(&data, &h, len, 82);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, (int64_t)len, &err),
                     0);
    evbuffer_add(eb, data, len / 2);
    assert_int_equal(store_write_data(w, eb), 0);
    assert_true(wait_for(fx, temps_exist, NULL, 5000));
    /* dataset B disappears under the write */
    assert_int_equal(testutil_rmrf(fx->ds[1]), 0);
    evbuffer_add(eb, (char *)data + len / 2, len - len / 2);
    assert_int_equal(store_write_data(w, eb), 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 5000));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.successful, 1);
    assert_true(file_is(fx, 0, &h, data, len));
    assert_int_equal(store_datasets(fx->st), 1);
    /* it comes back empty: the probe repairs it from A */
    assert_int_equal(mkdir(fx->ds[1], 0755), 0);
    assert_true(wait_for(fx, file_on_b, &h, 8000));
    assert_true(file_is(fx, 1, &h, data, len));
    assert_int_equal(store_datasets(fx->st), 2);
    evbuffer_free(eb);
    mem_free(data);
}

static void test_writer__abort_removes_temps(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    struct sha256 h;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 100000;

    make_blob(&data, &h, len, 83);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, (int64_t)len, &err),
                     0);
    evbuffer_add(eb, data, len / 2);
    assert_int_equal(store_write_data(w, eb), 0);
    assert_true(wait_for(fx, temps_exist, NULL, 5000));
    store_write_abort(w);
    {
        int64_t end = testutil_now_ms() + 5000;

        while ((tmp_count(fx, 0) || tmp_count(fx, 1)) &&
               testutil_now_ms() < end)
            event_base_loop(fx->base, EVLOOP_ONCE);
    }
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    assert_false(exists_art(fx, 0, &h));
    evbuffer_free(eb);
    mem_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_writer__flow_control),
        T(test_writer__dataset_lost_mid_write),
        T(test_writer__abort_removes_temps),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
