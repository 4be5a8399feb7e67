/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store/scrub.c and repair.c: a corrupt copy is
 * detected, quarantined and repaired from the other dataset; a copy on
 * one dataset only is copied to the other; with both copies corrupt
 * nothing is served or counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/mem.h"
#include "sledagent/store/store.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

static void corrupt(struct fx *fx, int d, const struct sha256 *h, size_t at)
{
    char *p = art_path(fx, d, h), *data = NULL;
    size_t len = 0;

    assert_int_equal(testutil_read_file(&data, &len, p), 0);
    assert_true(at < len);
    data[at] ^= 0x20;
    assert_int_equal(testutil_write_file(p, data, len), 0);
    mem_free(data);
    mem_free(p);
}

static void scrub(struct fx *fx)
{
    struct res r = {0};

    store__scrub_now(fx->st, done_cb, &r);
    assert_true(wait_flag(fx, &r.done, 5000));
    assert_int_equal(r.rc, 0);
}

static long quarantine_count(struct fx *fx, int d)
{
    char *p = testutil_join(fx->ds[d], "quarantine");
    long n = testutil_dir_count(p);

    mem_free(p);
    return n;
}

static bool has_metric(struct fx *fx, const char *line)
{
    struct buf b = BUF_INIT;
    bool ok = store_metrics(fx->st, &b) == 0 && strstr(b.data, line);

    buf_release(&b);
    return ok;
}

static void test_scrub__corrupt_copy_repaired(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 200000;

    make_blob(&data, &h, len, 71);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, len, 50000, &r), 0);
    corrupt(fx, 0, &h, 12345);
    assert_false(file_is(fx, 0, &h, data, len));
    scrub(fx);
    assert_true(file_is(fx, 0, &h, data, len));
    assert_true(file_is(fx, 1, &h, data, len));
    assert_int_equal(quarantine_count(fx, 0), 1);
    assert_true(has_metric(fx, "sledagent_store_scrub_corrupt_total 1\n"));
    assert_true(has_metric(fx, "sledagent_store_scrub_repaired_total 1\n"));
    assert_true(has_metric(fx, "sledagent_store_scrub_verified_total 1\n"));
    assert_true(has_metric(fx, "sledagent_store_scrub_passes_total 1\n"));
    /* a second pass finds everything good */
    scrub(fx);
    assert_true(has_metric(fx, "sledagent_store_scrub_verified_total 3\n"));
    assert_int_equal(tmp_count(fx, 0), 0);
    mem_free(data);
}

static void test_scrub__one_dataset_only_copied(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 50000;
    char *p;

    make_blob(&data, &h, len, 72);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    store_close(fx->st);
    fx->st = NULL;
    /* the artifact exists on A only when the agent starts */
    p = art_path(fx, 0, &h);
    assert_int_equal(testutil_write_file(p, data, len), 0);
    mem_free(p);
    fx_open(fx);
    scrub(fx);
    assert_true(file_is(fx, 1, &h, data, len));
    assert_true(file_is(fx, 0, &h, data, len));
    mem_free(data);
}

static void test_scrub__both_corrupt_not_served(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    json_t *list = NULL;
    void *data;
    size_t len = 30000;
    int fd = -1;
    uint64_t size;

    make_blob(&data, &h, len, 73);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, len, 30000, &r), 0);
    corrupt(fx, 0, &h, 1);
    corrupt(fx, 1, &h, 2);
    scrub(fx);
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_int_equal(quarantine_count(fx, 0), 1);
    assert_int_equal(quarantine_count(fx, 1), 1);
    assert_int_equal(store_open_artifact(fx->st, &h, &fd, &size, &err),
                     ERR_NOTFOUND);
    assert_int_equal(store_list(fx->st, &list, &err), 0);
    assert_int_equal(json_object_size(json_object_get(list, "list")), 0);
    json_decref(list);
    mem_free(data);
}

struct repaired {
    const struct sha256 *h;
    const void *data;
    size_t len;
};

static bool is_repaired(struct fx *fx, void *arg)
{
    struct repaired *r = arg;

    return file_is(fx, 1, r->h, r->data, r->len) &&
           has_metric(fx, "sledagent_store_scrub_repaired_total 1\n");
}

static void test_scrub__startup_pass(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 64000;
    struct repaired rep = {&h, NULL, len};

    make_blob(&data, &h, len, 74);
    rep.data = data;
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, len, 64000, &r), 0);
    store_close(fx->st);
    fx->st = NULL;
    /* corrupted while the agent was down, same size */
    corrupt(fx, 1, &h, 100);
    fx->opts.scrub_bytes_per_sec = 64u << 20;
    fx_open(fx);
    /* no store__scrub_now: the start-up pass finds and repairs it */
    assert_true(wait_for(fx, is_repaired, &rep, 5000));
    assert_int_equal(quarantine_count(fx, 1), 1);
    mem_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_scrub__corrupt_copy_repaired),
        T(test_scrub__one_dataset_only_copied),
        T(test_scrub__both_corrupt_not_served),
        T(test_scrub__startup_pass),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
