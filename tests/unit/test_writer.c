/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store/writer.c beyond test_store: flow control
 * (pause above the high watermark, resume once drained) with a large
 * streamed body, a dataset vanishing mid-write (dropped, marked unhealthy,
 * the other copy succeeds) and coming back (probe re-creates tmp/ and
 * trash/ and copies the artifact over), abort removing temp files, and
 * restores from trash/ (bug D): a config wanting a trashed artifact lists
 * it in_progress from the moment it is accepted until both copies are
 * back, and a write waiting for that restore writes no byte; a
 * per-dataset quota (quota_bytes_ds) limits its dataset only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "common/buf.h"
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

/* ---- restore from trash (bug D) ---------------------------------------- */

/* The list's view of h: its count (0 if absent) and whether in_progress. */
static void list_state(struct fx *fx, const struct sha256 *h, unsigned *count,
                       bool *in_progress)
{
    char hex[SHA256_HEX_LEN + 1];
    struct err err = ERR_INIT;
    json_t *v = NULL, *n, *ip, *e;
    size_t i;

    sha256_to_hex(hex, h);
    assert_int_equal(store_list(fx->st, &v, &err), 0);
    n = json_object_get(json_object_get(v, "list"), hex);
    *count = n ? (unsigned)json_integer_value(n) : 0;
    *in_progress = false;
    ip = json_object_get(v, "in_progress");
    json_array_foreach(ip, i, e)
        if (strcmp(json_string_value(e), hex) == 0)
            *in_progress = true;
    json_decref(v);
}

static bool in_trash_both(struct fx *fx, void *arg)
{
    const struct sha256 *h = arg;
    char hex[SHA256_HEX_LEN + 1], p[4096];

    sha256_to_hex(hex, h);
    for (int d = 0; d < 2; d++) {
        snprintf(p, sizeof(p), "%s/trash/%s", fx->ds[d], hex);
        if (!testutil_exists(p) || exists_art(fx, d, h))
            return false;
    }
    return true;
}

static uint64_t metric(struct fx *fx, const char *name)
{
    struct buf b = BUF_INIT;
    char key[128];
    const char *p;
    uint64_t v = 0;

    snprintf(key, sizeof(key), "\n%s ", name); /* the sample line */
    assert_int_equal(store_metrics(fx->st, &b), 0);
    p = strstr(b.data, key);
    assert_non_null(p);
    v = strtoull(p + strlen(key), NULL, 10);
    buf_release(&b);
    return v;
}

/* gen 1 {h} stored on both datasets, then gen 2 {} moved it to trash/. */
static void trash_blob(struct fx *fx, struct sha256 *h, size_t len)
{
    struct err err = ERR_INIT;
    struct res r = {0};
    void *data;

    make_blob(&data, h, len, 91);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, h, 1, data, len, 1u << 20, &r), 0);
    assert_int_equal(put_config(fx, 2, NULL, 0, &err), 0);
    assert_true(wait_for(fx, in_trash_both, h, 10000));
    mem_free(data);
}

static void test_writer__issue_bug_d_restore_listed_in_progress(void **state)
{
    struct fx *fx = *state;
    struct err err = ERR_INIT;
    struct sha256 h;
    unsigned count = 0, polls = 0;
    bool ip = false;
    int64_t end;

    trash_blob(fx, &h, 24u << 20);
    assert_int_equal(put_config(fx, 3, &h, 1, &err), 0);
    /* accepted: the restore has not run yet, the list says so at once */
    list_state(fx, &h, &count, &ip);
    assert_true(ip);
    end = testutil_now_ms() + 10000;
    while (testutil_now_ms() < end) {
        list_state(fx, &h, &count, &ip);
        polls++;
        /* never absent and not in progress: the controller would copy */
        assert_true(ip || count > 0);
        if (count == 2 && !ip)
            break;
        event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    assert_int_equal(count, 2);
    assert_false(ip);
    assert_true(exists_art(fx, 0, &h) && exists_art(fx, 1, &h));
    assert_int_equal(metric(fx, "sledagent_store_restored_total"), 2);
    print_message("restore polls: %u\n", polls);
}

static void test_writer__issue_bug_d_write_waits_for_restore(void **state)
{
    struct fx *fx = *state;
    struct err err = ERR_INIT;
    struct sha256 h, other;
    struct res r = {0};
    uint64_t written;
    void *data;

    trash_blob(fx, &h, 3u << 20);
    written = metric(fx, "sledagent_store_bytes_written_total");
    assert_int_equal(put_config(fx, 3, &h, 1, &err), 0);
    /* the wrong generation and an unknown hash are refused as for a write */
    assert_int_equal(store_restore_wait(fx->st, &h, 2, wdone_cb, &r, &err),
                     ERR_CONFLICT);
    make_blob(&data, &other, 10, 7);
    err = (struct err)ERR_INIT;
    assert_int_equal(store_restore_wait(fx->st, &other, 3, wdone_cb, &r,
                                        &err), ERR_INVAL);
    err = (struct err)ERR_INIT;
    assert_int_equal(store_restore_wait(fx->st, &h, 3, wdone_cb, &r, &err),
                     0);
    assert_false(r.done); /* never from inside the call */
    assert_true(wait_flag(fx, &r.done, 10000));
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.datasets, 2);
    assert_int_equal(r.successful, 2);
    assert_true(exists_art(fx, 0, &h) && exists_art(fx, 1, &h));
    assert_int_equal(metric(fx, "sledagent_store_bytes_written_total"),
                     written);
    /* held now, nothing in trash/: write it normally */
    err = (struct err)ERR_INIT;
    assert_int_equal(store_restore_wait(fx->st, &h, 3, wdone_cb, &r, &err),
                     ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "is not in trash"));
    mem_free(data);
}

static void test_writer__quota_per_dataset(void **state)
{
    struct fx *fx = *state;
    struct err err = ERR_INIT;
    struct sha256 h[2];
    struct res r = {0};
    void *data[2];

    make_blob(&data[0], &h[0], 100000, 5);
    make_blob(&data[1], &h[1], 100000, 6);
    fx->opts.quota_bytes = 1u << 30;   /* both, unless overridden */
    fx->opts.quota_bytes_ds[0] = 150000; /* A: room for one artifact */
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 1, data[0], 100000, 65536,
                                    &r), 0);
    assert_int_equal(r.successful, 2);
    /* A is full under its own quota, B (the shared one) is not */
    memset(&r, 0, sizeof(r));
    assert_int_equal(write_artifact(fx, &h[1], 1, data[1], 100000, 65536,
                                    &r), 0);
    assert_int_equal(r.successful, 1);
    assert_false(exists_art(fx, 0, &h[1]));
    assert_true(exists_art(fx, 1, &h[1]));
    mem_free(data[0]);
    mem_free(data[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_writer__flow_control),
        T(test_writer__dataset_lost_mid_write),
        T(test_writer__abort_removes_temps),
        T(test_writer__issue_bug_d_restore_listed_in_progress),
        T(test_writer__issue_bug_d_write_waits_for_restore),
        T(test_writer__quota_per_dataset),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
