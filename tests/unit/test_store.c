/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store: config put rules, write_begin checks and
 * their order, the verified writer (both datasets, wrong hash, short and
 * over-long bodies, concurrent writers of one hash: omicron #7796), list
 * shape, the cached list body (rebuilt exactly when it must be), degraded
 * mode, quota/reserve, max_writes, delete reconciler with
 * trash and restore, tmp/ purge at open, close with a write in flight.
 * Each test drives the event loop with EVLOOP_ONCE inside wait_for().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "sledagent/store/store.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

/* ---- config ------------------------------------------------------------- */

static void test_store__config_put_rules(void **state)
{
    struct fx *fx = *state;
    struct artifact_config got = ARTIFACT_CONFIG_INIT;
    struct sha256 h[3];
    struct err err = ERR_INIT;
    json_t *list = NULL;

    for (int i = 0; i < 3; i++)
        sha256_digest(&h[i], &i, sizeof(i));
    fx_open(fx);
    assert_int_equal(store_config_get(fx->st, &got, &err), ERR_NOTFOUND);
    assert_string_equal(err.msg, "no artifact config yet");
    assert_int_equal(store_list(fx->st, &list, &err), ERR_INVAL);
    assert_int_equal(put_config(fx, 5, h, 2, &err), 0);
    assert_int_equal(store_config_get(fx->st, &got, &err), 0);
    assert_int_equal(got.generation, 5);
    assert_int_equal(got.count, 2);
    artifact_config_release(&got);
    /* same generation, same set: no-op success */
    assert_int_equal(put_config(fx, 5, h, 2, &err), 0);
    /* same generation, different set: 409 CONFIG_GENERATION */
    err_clear(&err);
    assert_int_equal(put_config(fx, 5, h, 3, &err), ERR_CONFLICT);
    assert_string_equal(err.error_code, "CONFIG_GENERATION");
    assert_non_null(strstr(err.msg, "different artifact set"));
    assert_int_equal(err_http_status(ERR_CONFLICT), 409);
    /* lower generation */
    err_clear(&err);
    assert_int_equal(put_config(fx, 4, h, 2, &err), ERR_CONFLICT);
    assert_string_equal(err.error_code, "CONFIG_GENERATION");
    assert_non_null(strstr(err.msg, "lower than the current 5"));
    /* higher: accepted and durable across a restart */
    assert_int_equal(put_config(fx, 6, h, 3, &err), 0);
    store_close(fx->st);
    fx->st = NULL;
    fx_open(fx);
    assert_int_equal(store_config_get(fx->st, &got, &err), 0);
    assert_int_equal(got.generation, 6);
    assert_int_equal(got.count, 3);
    artifact_config_release(&got);
}

/* ---- write_begin checks, in the documented order ------------------------ */

static void test_store__write_begin_checks(void **state)
{
    struct fx *fx = *state;
    struct store_write *w[3] = {NULL, NULL, NULL};
    struct sha256 h, other;
    struct err err = ERR_INIT;

    sha256_digest(&h, "x", 1);
    sha256_digest(&other, "y", 1);
    /* no dataset at all */
    fx->opts.dataset[0] = "/nonexistent/rd-store-a";
    fx->opts.dataset[1] = NULL;
    fx_open(fx);
    assert_int_equal(store_datasets(fx->st), 0);
    assert_int_equal(store_write_begin(fx->st, &w[0], &h, 1, 1, &err),
                     ERR_UNAVAIL);
    assert_string_equal(err.msg, "no dataset available");
    store_close(fx->st);
    fx->opts.dataset[0] = fx->ds[0];
    fx->opts.dataset[1] = fx->ds[1];
    fx->opts.max_writes = 2;
    fx->opts.quota_bytes = 1000;
    fx_open(fx);
    /* no config */
    assert_int_equal(store_write_begin(fx->st, &w[0], &h, 1, 1, &err),
                     ERR_INVAL);
    assert_string_equal(err.msg, "no artifact config yet");
    assert_int_equal(put_config(fx, 3, &h, 1, &err), 0);
    /* generation must be exactly the current one (checked before hash) */
    assert_int_equal(store_write_begin(fx->st, &w[0], &other, 2, 1, &err),
                     ERR_CONFLICT);
    assert_string_equal(err.msg, "generation 2 is not the current 3");
    /* hash in config */
    assert_int_equal(store_write_begin(fx->st, &w[0], &other, 3, 1, &err),
                     ERR_INVAL);
    assert_non_null(strstr(err.msg, "is not in generation 3"));
    /* body cap before space */
    assert_int_equal(store_write_begin(fx->st, &w[0], &h, 3,
                                       (int64_t)(65u << 20), &err),
                     ERR_TOOBIG);
    assert_non_null(strstr(err.msg, "over the"));
    /* quota; the room it advertises is what a write could take */
    assert_int_equal(store_writable_bytes(fx->st), 1000);
    assert_int_equal(store_write_begin(fx->st, &w[0], &h, 3, 1001, &err),
                     ERR_NOSPACE);
    assert_non_null(strstr(err.msg, "1001 bytes"));
    assert_int_equal(err_http_status(ERR_NOSPACE), 507);
    /* max_writes: reservations count against the quota too */
    assert_int_equal(store_write_begin(fx->st, &w[0], &h, 3, 400, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w[1], &h, 3, 400, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w[2], &h, 3, 100, &err),
                     ERR_BUSY);
    assert_string_equal(err.msg, "2 writes in flight");
    assert_int_equal(store_writable_bytes(fx->st), 200);
    store_write_abort(w[1]);
    /* w[0] still holds 400 reserved: 700 more would pass the quota */
    assert_int_equal(store_write_begin(fx->st, &w[2], &h, 3, 700, &err),
                     ERR_NOSPACE);
    store_write_abort(w[0]);
}

static void test_store__reserve_nospace(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct sha256 h;
    struct err err = ERR_INIT;

    sha256_digest(&h, "x", 1);
    fx->opts.reserve_bytes = UINT64_MAX / 2; /* more than any disk */
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_writable_bytes(fx->st), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, 1, &err),
                     ERR_NOSPACE);
    assert_non_null(strstr(err.msg, "free space"));
}

/* ---- writer ------------------------------------------------------------- */

static void test_store__write_both_datasets(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 3u << 20;
    int fd = -1;
    uint64_t size = 0;

    make_blob(&data, &h, len, 7);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, len, 65536, &r), 0);
    assert_int_equal(r.successful, 2);
    assert_int_equal(r.datasets, 2);
    assert_true(file_is(fx, 0, &h, data, len));
    assert_true(file_is(fx, 1, &h, data, len));
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    assert_int_equal(store_open_artifact(fx->st, &h, &fd, &size, &err), 0);
    assert_true(fd >= 0);
    assert_int_equal(size, len);
    close(fd);
    mem_free(data);
}

static void test_store__wrong_hash(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 100000;
    int fd = -1;
    uint64_t size;

    make_blob(&data, &h, len, 8);
    ((char *)data)[5000] ^= 1;
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, len, 4096, &r),
                     ERR_VERIFY);
    assert_non_null(strstr(r.err.msg, "does not match"));
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    assert_int_equal(store_open_artifact(fx->st, &h, &fd, &size, &err),
                     ERR_NOTFOUND);
    mem_free(data);
}

static void test_store__short_and_long_body(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r = {0};
    struct err err = ERR_INIT;
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    void *data;
    size_t len = 10000;

    make_blob(&data, &h, len, 9);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    /* short: 9999 of 10000 bytes */
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, 10000, &err), 0);
    evbuffer_add(eb, data, len - 1);
    assert_int_equal(store_write_data(w, eb), 0);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 5000));
    assert_int_equal(r.rc, ERR_INVAL);
    assert_string_equal(r.err.msg, "body ended after 9999 of 10000 bytes");
    assert_false(exists_art(fx, 0, &h));
    /* over-long: more than expected_len */
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, 100, &err), 0);
    evbuffer_add(eb, data, 101);
    assert_int_equal(store_write_data(w, eb), ERR_TOOBIG);
    store_write_finish(w, wdone_cb, &r);
    assert_true(wait_flag(fx, &r.done, 5000));
    assert_int_equal(r.rc, ERR_TOOBIG);
    assert_non_null(strstr(r.err.msg, "cap"));
    /* unknown length over max_body_bytes */
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, -1, &err), 0);
    for (int i = 0; i < 65; i++) {
        static char mb[1u << 20];

        evbuffer_add(eb, mb, sizeof(mb));
        if (store_write_data(w, eb) == ERR_TOOBIG)
            break;
        assert_true(i < 64);
    }
    store_write_abort(w);
    assert_false(exists_art(fx, 0, &h));
    evbuffer_free(eb);
    mem_free(data);
}

/* omicron #7796: concurrent writers of one hash, interleaved, some bad. */
static void test_store__issue_7796(void **state)
{
    enum { WRITERS = 10, CHUNK = 8192 };
    struct fx *fx = *state;
    struct store_write *w[WRITERS];
    struct res r[WRITERS];
    struct sha256 h;
    struct err err = ERR_INIT;
    struct evbuffer *eb = evbuffer_new();
    void *good, *bad;
    size_t len = 300000;
    int ok = 0;

    make_blob(&good, &h, len, 11);
    bad = mem_alloc(len);
    memcpy(bad, good, len);
    ((char *)bad)[len / 2] ^= 0x55;
    fx->opts.max_writes = WRITERS;
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    memset(r, 0, sizeof(r));
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(store_write_begin(fx->st, &w[i], &h, 1,
                                           (int64_t)len, &err), 0);
    for (size_t off = 0; off < len; off += CHUNK) {
        for (int i = 0; i < WRITERS; i++) {
            const char *src = (i % 3 == 1) ? bad : good;
            size_t n = len - off < CHUNK ? len - off : CHUNK;

            evbuffer_add(eb, src + off, n);
            assert_int_equal(store_write_data(w[i], eb), 0);
        }
        event_base_loop(fx->base, EVLOOP_NONBLOCK);
    }
    for (int i = WRITERS - 1; i >= 0; i--)
        store_write_finish(w[i], wdone_cb, &r[i]);
    for (int i = 0; i < WRITERS; i++) {
        assert_true(wait_flag(fx, &r[i].done, 10000));
        /* the final file is complete and correct at every completion */
        if (r[i].rc == 0) {
            ok++;
            assert_true(file_is(fx, 0, &h, good, len));
            assert_true(file_is(fx, 1, &h, good, len));
        } else {
            assert_int_equal(i % 3, 1);
            assert_int_equal(r[i].rc, ERR_VERIFY);
        }
    }
    assert_int_equal(ok, WRITERS - WRITERS / 3);
    assert_true(file_is(fx, 0, &h, good, len));
    assert_true(file_is(fx, 1, &h, good, len));
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    evbuffer_free(eb);
    mem_free(good);
    mem_free(bad);
}

/* ---- list, degraded mode ------------------------------------------------ */

static void test_store__list_shape(void **state)
{
    struct fx *fx = *state;
    struct sha256 h[2];
    struct res r;
    struct err err = ERR_INIT;
    json_t *list = NULL;
    char hex[SHA256_HEX_LEN + 1];
    void *data;

    make_blob(&data, &h[0], 5000, 21);
    sha256_digest(&h[1], "never-written", 13);
    fx_open(fx);
    assert_int_equal(put_config(fx, 9, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 9, data, 5000, 1000, &r), 0);
    assert_int_equal(store_list(fx->st, &list, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(list, "generation")),
                     9);
    assert_int_equal(json_integer_value(json_object_get(list, "datasets")),
                     2);
    assert_true(json_is_array(json_object_get(list, "in_progress")));
    assert_int_equal(json_object_size(json_object_get(list, "list")), 1);
    sha256_to_hex(hex, &h[0]);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(list, "list"), hex)),
                     2);
    json_decref(list);
    /* a write under way is listed in in_progress, not in list */
    {
        struct store_write *w = NULL;
        json_t *ip;

        assert_int_equal(store_write_begin(fx->st, &w, &h[1], 9, 10, &err),
                         0);
        assert_int_equal(store_list(fx->st, &list, &err), 0);
        ip = json_object_get(list, "in_progress");
        assert_int_equal(json_array_size(ip), 1);
        sha256_to_hex(hex, &h[1]);
        assert_string_equal(json_string_value(json_array_get(ip, 0)), hex);
        assert_null(json_object_get(json_object_get(list, "list"), hex));
        json_decref(list);
        store_write_abort(w);
    }
    mem_free(data);
}

/* ---- the cached GET /artifacts body ------------------------------------ */

/* A new reference to the current body; its text NUL-terminated. */
static struct store_list_body *list_body(struct fx *fx, const char **text)
{
    struct store_list_body *lb = NULL;
    struct err err = ERR_INIT;
    size_t len;

    assert_int_equal(store_list_body(fx->st, &lb, &err), 0);
    *text = store_list_body_data(lb, &len);
    assert_int_equal(strlen(*text), len);
    return lb;
}

static bool one_dataset(struct fx *fx, void *arg)
{
    (void)arg;
    return store_datasets(fx->st) == 1;
}

/*
 * The body is rebuilt exactly when what it shows changes: a write begins
 * and completes, the config changes, a dataset goes unhealthy; and not on
 * a repeated GET or a no-op config put. Bodies stay referenced, so a new
 * address means a rebuild. The text is byte-for-byte what jansson's
 * compact dump of the same response gave.
 */
static void test_store__list_cache(void **state)
{
    struct fx *fx = *state;
    struct store_list_body *b[8] = {NULL};
    const char *t[8];
    struct store_write *w = NULL;
    struct sha256 h[2];
    struct res r;
    struct err err = ERR_INIT;
    char hex[2][SHA256_HEX_LEN + 1], want[512];
    void *data;

    make_blob(&data, &h[0], 3000, 51);
    sha256_digest(&h[1], "listed-later", 12);
    sha256_to_hex(hex[0], &h[0]);
    sha256_to_hex(hex[1], &h[1]);
    fx_open(fx);
    assert_int_equal(put_config(fx, 4, h, 2, &err), 0);
    b[0] = list_body(fx, &t[0]);
    assert_string_equal(t[0], "{\"generation\":4,\"list\":{},\"datasets\":2,"
                              "\"in_progress\":[],"
                              "\"features\":[\"pieces\"]}");
    /* nothing changed: the same body */
    b[1] = list_body(fx, &t[1]);
    assert_ptr_equal(b[1], b[0]);
    /* same generation, same set: a no-op, still the same body */
    assert_int_equal(put_config(fx, 4, h, 2, &err), 0);
    b[2] = list_body(fx, &t[2]);
    assert_ptr_equal(b[2], b[0]);
    store_list_body_unref(b[1]);
    store_list_body_unref(b[2]);
    /* a write begins: in_progress */
    assert_int_equal(store_write_begin(fx->st, &w, &h[1], 4, 10, &err), 0);
    b[1] = list_body(fx, &t[1]);
    assert_ptr_not_equal(b[1], b[0]);
    snprintf(want, sizeof(want), "{\"generation\":4,\"list\":{},"
             "\"datasets\":2,\"in_progress\":[\"%s\"],"
             "\"features\":[\"pieces\"]}", hex[1]);
    assert_string_equal(t[1], want);
    store_write_abort(w);
    b[2] = list_body(fx, &t[2]);
    assert_ptr_not_equal(b[2], b[1]);
    assert_string_equal(t[2], t[0]);
    /* a write completes: listed with two copies */
    assert_int_equal(write_artifact(fx, &h[0], 4, data, 3000, 1000, &r), 0);
    b[3] = list_body(fx, &t[3]);
    snprintf(want, sizeof(want), "{\"generation\":4,\"list\":{\"%s\":2},"
             "\"datasets\":2,\"in_progress\":[],"
             "\"features\":[\"pieces\"]}", hex[0]);
    assert_string_equal(t[3], want);
    /* a config change */
    assert_int_equal(put_config(fx, 5, h, 2, &err), 0);
    b[4] = list_body(fx, &t[4]);
    assert_ptr_not_equal(b[4], b[3]);
    snprintf(want, sizeof(want), "{\"generation\":5,\"list\":{\"%s\":2},"
             "\"datasets\":2,\"in_progress\":[],"
             "\"features\":[\"pieces\"]}", hex[0]);
    assert_string_equal(t[4], want);
    b[5] = list_body(fx, &t[5]);
    assert_ptr_equal(b[5], b[4]);
    /* dataset B goes away: the probe marks it unhealthy */
    assert_int_equal(testutil_rmrf(fx->ds[1]), 0);
    assert_true(wait_for(fx, one_dataset, NULL, 8000));
    b[6] = list_body(fx, &t[6]);
    assert_ptr_not_equal(b[6], b[5]);
    snprintf(want, sizeof(want), "{\"generation\":5,\"list\":{\"%s\":1},"
             "\"datasets\":1,\"in_progress\":[],"
             "\"features\":[\"pieces\"]}", hex[0]);
    assert_string_equal(t[6], want);
    /* the cached body outlives the store */
    store_close(fx->st);
    fx->st = NULL;
    assert_string_equal(t[6], want);
    for (int i = 0; i < 8; i++)
        store_list_body_unref(b[i]);
    mem_free(data);
}

static void test_store__degraded_single_dataset(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    json_t *list = NULL;
    char hex[SHA256_HEX_LEN + 1];
    void *data;

    make_blob(&data, &h, 4096, 31);
    fx->opts.dataset[1] = NULL;
    fx_open(fx);
    assert_int_equal(store_datasets(fx->st), 1);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, 4096, 4096, &r), 0);
    assert_int_equal(r.datasets, 1);
    assert_int_equal(r.successful, 1);
    assert_int_equal(store_list(fx->st, &list, &err), 0);
    sha256_to_hex(hex, &h);
    assert_int_equal(json_integer_value(json_object_get(list, "datasets")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(list, "list"), hex)),
                     1);
    assert_false(exists_art(fx, 1, &h));
    json_decref(list);
    mem_free(data);
}

/* ---- reconciler and trash ----------------------------------------------- */

struct trash_probe {
    const struct sha256 *h;
    bool want_in_root;
};

static bool art_state(struct fx *fx, void *arg)
{
    struct trash_probe *p = arg;
    char hex[SHA256_HEX_LEN + 1], *t0, *t1;
    bool in_trash, ok;

    sha256_to_hex(hex, p->h);
    t0 = testutil_join(fx->ds[0], "trash");
    t1 = testutil_join(fx->ds[1], "trash");
    {
        char *a = testutil_join(t0, hex), *b = testutil_join(t1, hex);

        in_trash = testutil_exists(a) && testutil_exists(b);
        mem_free(a);
        mem_free(b);
    }
    if (p->want_in_root)
        ok = exists_art(fx, 0, p->h) && exists_art(fx, 1, p->h) && !in_trash;
    else
        ok = !exists_art(fx, 0, p->h) && !exists_art(fx, 1, p->h) &&
             in_trash;
    mem_free(t0);
    mem_free(t1);
    return ok;
}

static bool listed_twice(struct fx *fx, void *arg)
{
    char hex[SHA256_HEX_LEN + 1];
    json_t *list = NULL;
    bool ok;

    sha256_to_hex(hex, arg);
    if (store_list(fx->st, &list, NULL) < 0)
        return false;
    ok = json_integer_value(json_object_get(json_object_get(list, "list"),
                                            hex)) == 2;
    json_decref(list);
    return ok;
}

static void test_store__reconcile_trash_restore(void **state)
{
    struct fx *fx = *state;
    struct sha256 h[2];
    struct res r;
    struct err err = ERR_INIT;
    struct trash_probe p = {&h[1], false};
    json_t *list = NULL;
    void *d0, *d1;

    make_blob(&d0, &h[0], 7000, 41);
    make_blob(&d1, &h[1], 9000, 42);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 1, d0, 7000, 1000, &r), 0);
    assert_int_equal(write_artifact(fx, &h[1], 1, d1, 9000, 1000, &r), 0);
    /* generation 2 drops h[1]: moved to trash on both datasets */
    assert_int_equal(put_config(fx, 2, h, 1, &err), 0);
    assert_true(wait_for(fx, art_state, &p, 5000));
    assert_true(exists_art(fx, 0, &h[0]));
    assert_int_equal(store_list(fx->st, &list, &err), 0);
    assert_int_equal(json_object_size(json_object_get(list, "list")), 1);
    json_decref(list);
    /* generation 3 wants it again: restored from trash, no download */
    p.want_in_root = true;
    assert_int_equal(put_config(fx, 3, h, 2, &err), 0);
    assert_true(wait_for(fx, art_state, &p, 5000));
    assert_true(file_is(fx, 0, &h[1], d1, 9000));
    assert_true(file_is(fx, 1, &h[1], d1, 9000));
    /* the inventory follows the rename */
    assert_true(wait_for(fx, listed_twice, &h[1], 5000));
    mem_free(d0);
    mem_free(d1);
}

static void test_store__reconcile_at_startup(void **state)
{
    struct fx *fx = *state;
    struct sha256 h[2];
    struct err err = ERR_INIT;
    struct trash_probe p = {&h[1], false};
    char *orphan[2];

    sha256_digest(&h[0], "a", 1);
    sha256_digest(&h[1], "b", 1);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 1, &err), 0);
    store_close(fx->st);
    fx->st = NULL;
    /* an orphan that appeared while the agent was down */
    for (int d = 0; d < 2; d++) {
        orphan[d] = art_path(fx, d, &h[1]);
        assert_int_equal(testutil_write_file(orphan[d], "b", 1), 0);
    }
    fx_open(fx);
    assert_true(wait_for(fx, art_state, &p, 5000));
    mem_free(orphan[0]);
    mem_free(orphan[1]);
}

static bool in_trash(struct fx *fx, int d, const struct sha256 *h)
{
    char hex[SHA256_HEX_LEN + 1], *t, *p;
    bool e;

    sha256_to_hex(hex, h);
    t = testutil_join(fx->ds[d], "trash");
    p = testutil_join(t, hex);
    e = testutil_exists(p);
    mem_free(t);
    mem_free(p);
    return e;
}

static bool trashed_both(struct fx *fx, void *arg)
{
    struct buf b = BUF_INIT;
    bool indexed;

    /* on disk, and in the trash index (its bytes count for space) */
    indexed = store_metrics(fx->st, &b) == 0 &&
              !strstr(b.data, "trash_bytes{dataset=\"A\"} 0\n") &&
              !strstr(b.data, "trash_bytes{dataset=\"B\"} 0\n");
    buf_release(&b);
    return indexed && in_trash(fx, 0, arg) && in_trash(fx, 1, arg);
}

static void test_store__trash_purged_for_space(void **state)
{
    struct fx *fx = *state;
    struct sha256 h[2];
    struct res r;
    struct err err = ERR_INIT;
    void *d0, *d1;

    make_blob(&d0, &h[0], 9000, 91);
    make_blob(&d1, &h[1], 15000, 92);
    fx->opts.quota_bytes = 20000;
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 1, d0, 9000, 1000, &r), 0);
    assert_int_equal(put_config(fx, 2, &h[1], 1, &err), 0);
    assert_true(wait_for(fx, trashed_both, &h[0], 5000));
    /* 9000 in trash + 15000 > quota: the trash makes room, oldest first */
    assert_int_equal(write_artifact(fx, &h[1], 2, d1, 15000, 5000, &r), 0);
    assert_int_equal(r.successful, 2);
    assert_false(in_trash(fx, 0, &h[0]));
    assert_false(in_trash(fx, 1, &h[0]));
    /* without trash to purge, the quota holds: 15000 + 15000 > 20000 */
    mem_free(d0);
    make_blob(&d0, &h[0], 15000, 93);
    assert_int_equal(put_config(fx, 3, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 3, d0, 15000, 5000, &r),
                     ERR_NOSPACE);
    mem_free(d0);
    mem_free(d1);
}

static void test_store__trash_retention(void **state)
{
    struct fx *fx = *state;
    struct sha256 h[2];
    struct res r, pr = {0};
    struct err err = ERR_INIT;
    void *d0;

    make_blob(&d0, &h[0], 3000, 94);
    sha256_digest(&h[1], "keep", 4);
    fx->opts.trash_retention_secs = 3600;
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, h, 2, &err), 0);
    assert_int_equal(write_artifact(fx, &h[0], 1, d0, 3000, 1000, &r), 0);
    assert_int_equal(put_config(fx, 2, &h[1], 1, &err), 0);
    assert_true(wait_for(fx, trashed_both, &h[0], 5000));
    /* within the retention: kept */
    store__purge_trash(fx->st, (int64_t)time(NULL) + 3000, done_cb, &pr);
    assert_true(wait_flag(fx, &pr.done, 5000));
    assert_true(in_trash(fx, 0, &h[0]));
    /* past it: purged from both datasets */
    memset(&pr, 0, sizeof(pr));
    store__purge_trash(fx->st, (int64_t)time(NULL) + 3700, done_cb, &pr);
    assert_true(wait_flag(fx, &pr.done, 5000));
    assert_false(in_trash(fx, 0, &h[0]));
    assert_false(in_trash(fx, 1, &h[0]));
    mem_free(d0);
}

/* ---- open and close ----------------------------------------------------- */

static void test_store__tmp_purged_at_open(void **state)
{
    struct fx *fx = *state;
    char *tmp[2], *stale[2];

    for (int d = 0; d < 2; d++) {
        tmp[d] = testutil_join(fx->ds[d], "tmp");
        assert_int_equal(mkdir(tmp[d], 0755), 0);
        stale[d] = testutil_join(tmp[d], "partial.tmp");
        assert_int_equal(testutil_write_file(stale[d], "xx", 2), 0);
    }
    fx_open(fx);
    for (int d = 0; d < 2; d++) {
        assert_false(testutil_exists(stale[d]));
        assert_int_equal(testutil_dir_count(tmp[d]), 0);
        mem_free(tmp[d]);
        mem_free(stale[d]);
    }
}

static bool temps_exist(struct fx *fx, void *arg)
{
    (void)arg;
    return tmp_count(fx, 0) > 0 && tmp_count(fx, 1) > 0;
}

static void test_store__close_with_write_in_flight(void **state)
{
    struct fx *fx = *state;
    struct store_write *w = NULL;
    struct evbuffer *eb = evbuffer_new();
    struct sha256 h;
    struct err err = ERR_INIT;
    void *data;
    size_t len = 1u << 20;

    make_blob(&data, &h, len, 51);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, (int64_t)len, &err),
                     0);
    evbuffer_add(eb, data, len / 2);
    assert_int_equal(store_write_data(w, eb), 0);
    assert_true(wait_for(fx, temps_exist, NULL, 5000));
    store_close(fx->st);
    fx->st = NULL;
    assert_false(exists_art(fx, 0, &h));
    assert_false(exists_art(fx, 1, &h));
    assert_int_equal(tmp_count(fx, 0), 0);
    assert_int_equal(tmp_count(fx, 1), 0);
    evbuffer_free(eb);
    mem_free(data);
}

static void test_store__metrics(void **state)
{
    struct fx *fx = *state;
    struct sha256 h;
    struct res r;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT;
    void *data;

    make_blob(&data, &h, 1000, 61);
    fx_open(fx);
    assert_int_equal(put_config(fx, 1, &h, 1, &err), 0);
    assert_int_equal(write_artifact(fx, &h, 1, data, 1000, 100, &r), 0);
    assert_int_equal(store_metrics(fx->st, &b), 0);
    assert_non_null(strstr(b.data, "# TYPE sledagent_store_writes_ok_total "
                                   "counter\nsledagent_store_writes_ok_total "
                                   "1\n"));
    assert_non_null(strstr(b.data, "sledagent_store_bytes_written_total "
                                   "2000\n"));
    assert_non_null(strstr(b.data, "sledagent_store_dataset_healthy{dataset="
                                   "\"B\"} 1\n"));
    assert_non_null(strstr(b.data, "writes_failed_total{reason=\"verify\"} "
                                   "0\n"));
    buf_release(&b);
    mem_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_store__config_put_rules),
        T(test_store__write_begin_checks),
        T(test_store__reserve_nospace),
        T(test_store__write_both_datasets),
        T(test_store__wrong_hash),
        T(test_store__short_and_long_body),
        T(test_store__issue_7796),
        T(test_store__list_shape),
        T(test_store__list_cache),
        T(test_store__degraded_single_dataset),
        T(test_store__reconcile_trash_restore),
        T(test_store__reconcile_at_startup),
        T(test_store__trash_purged_for_space),
        T(test_store__trash_retention),
        T(test_store__tmp_purged_at_open),
        T(test_store__close_with_write_in_flight),
        T(test_store__metrics),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
