/* SPDX-License-Identifier: MPL-2.0 */
/* test_store_fixture: see test_store_fixture.h. Test thread only. */
#include "tests/unit/test_store_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "common/mem.h"
#include "tests/support/testutil.h"

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int fx_setup(void **state)
{
    struct fx *fx = mem_calloc(1, sizeof(*fx));
    struct timeval tv = {0, 10000};

    mem_init();
    assert_non_null(fx);
    assert_int_equal(testutil_tmpdir(&fx->dir, "store"), 0);
    for (int d = 0; d < 2; d++) {
        fx->ds[d] = testutil_join(fx->dir, d ? "B" : "A");
        assert_int_equal(mkdir(fx->ds[d], 0755), 0);
        fx->opts.dataset[d] = fx->ds[d];
    }
    fx->opts.max_body_bytes = 64u << 20;
    fx->base = event_base_new();
    fx->tick = event_new(fx->base, -1, EV_PERSIST, on_tick, NULL);
    event_add(fx->tick, &tv);
    *state = fx;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *fx = *state;

    store_close(fx->st);
    event_free(fx->tick);
    event_base_free(fx->base);
    testutil_rmrf(fx->dir);
    for (int d = 0; d < 2; d++)
        mem_free(fx->ds[d]);
    mem_free(fx->dir);
    mem_free(fx);
    return 0;
}

void fx_open(struct fx *fx)
{
    struct err err = ERR_INIT;

    assert_int_equal(store_open(&fx->st, fx->base, &fx->opts, &err), 0);
}

bool wait_flag(struct fx *fx, const bool *flag, long ms)
{
    int64_t end = testutil_now_ms() + ms;

    while (!*flag && testutil_now_ms() < end)
        event_base_loop(fx->base, EVLOOP_ONCE);
    return *flag;
}

bool wait_for(struct fx *fx, cond_fn cond, void *arg, long ms)
{
    int64_t end = testutil_now_ms() + ms;

    while (!cond(fx, arg) && testutil_now_ms() < end)
        event_base_loop(fx->base, EVLOOP_ONCE);
    return cond(fx, arg);
}

void done_cb(int rc, const struct err *err, void *arg)
{
    struct res *r = arg;

    r->done = true;
    r->rc = rc;
    if (err)
        r->err = *err;
}

void wdone_cb(int rc, const struct err *err, unsigned datasets,
                     unsigned successful, void *arg)
{
    struct res *r = arg;

    r->done = true;
    r->rc = rc;
    r->datasets = datasets;
    r->successful = successful;
    if (err)
        r->err = *err;
}

int put_config(struct fx *fx, uint64_t gen, const struct sha256 *hs,
                      size_t n, struct err *err)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct res r = {0};
    int rc;

    assert_int_equal(artifact_config_build(&cfg, gen, hs, n, NULL), 0);
    rc = store_config_put(fx->st, &cfg, done_cb, &r, err);
    artifact_config_release(&cfg);
    if (rc < 0)
        return rc;
    assert_true(wait_flag(fx, &r.done, 5000));
    if (err && r.rc)
        *err = r.err;
    return r.rc;
}

/* Write data as h in chunks of `chunk` bytes; returns the final rc. */
int write_artifact(struct fx *fx, const struct sha256 *h, uint64_t gen,
                          const void *data, size_t len, size_t chunk,
                          struct res *r)
{
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    int rc;

    memset(r, 0, sizeof(*r));
    rc = store_write_begin(fx->st, &w, h, gen, (int64_t)len, &r->err);
    if (rc < 0)
        goto out;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;

        evbuffer_add(eb, (const char *)data + off, n);
        assert_int_equal(store_write_data(w, eb), 0);
        assert_int_equal(evbuffer_get_length(eb), 0);
        event_base_loop(fx->base, EVLOOP_NONBLOCK);
    }
    store_write_finish(w, wdone_cb, r);
    assert_true(wait_flag(fx, &r->done, 10000));
    rc = r->rc;
out:
    evbuffer_free(eb);
    return rc;
}

char *art_path(struct fx *fx, int d, const struct sha256 *h)
{
    char hex[SHA256_HEX_LEN + 1];

    sha256_to_hex(hex, h);
    return testutil_join(fx->ds[d], hex);
}

bool file_is(struct fx *fx, int d, const struct sha256 *h,
                    const void *data, size_t len)
{
    char *p = art_path(fx, d, h), *got = NULL;
    size_t n = 0;
    bool ok = testutil_read_file(&got, &n, p) == 0 && n == len &&
              memcmp(got, data, len) == 0;

    mem_free(got);
    mem_free(p);
    return ok;
}

bool exists_art(struct fx *fx, int d, const struct sha256 *h)
{
    char *p = art_path(fx, d, h);
    bool e = testutil_exists(p);

    mem_free(p);
    return e;
}

long tmp_count(struct fx *fx, int d)
{
    char *p = testutil_join(fx->ds[d], "tmp");
    long n = testutil_dir_count(p);

    mem_free(p);
    return n;
}

void make_blob(void **data, struct sha256 *h, size_t len, uint64_t seed)
{
    *data = mem_alloc(len ? len : 1);
    assert_non_null(*data);
    testutil_pattern(*data, len, seed, 0);
    assert_int_equal(sha256_digest(h, *data, len), 0);
}

