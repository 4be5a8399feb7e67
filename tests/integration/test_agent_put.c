/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of PUT /artifacts/{sha256}?generation=N on the sledagent
 * (DESIGN.md sections 2 and 3): the verified write to both datasets, every
 * error status of the API table (409, 400, 413, 507, 429), hostile hashes
 * in the path, malformed HTTP from a raw socket (short and long bodies,
 * oversized headers, idle connections), concurrent writers of one hash,
 * and the x-request-id / error JSON on every answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define HX "3333333333333333333333333333333333333333333333333333333333333333"

static void test_agent_put__stores_on_both(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    json_t *v;

    agenttest_art_make(&x, 300000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 3, x.data, x.len,
                                            &r), 200);
    assert_true(http_client_header(&r, "x-request-id", NULL, 0));
    v = http_client_json(&r);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 2);
    json_decref(v);
    agenttest_assert_file(f->a, 0, &x);
    agenttest_assert_file(f->a, 1, &x);
    /* Durable at 200: tmp/ is already clean. */
    assert_true(agenttest_tmp_empty(f->a));
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    /* The same PUT again is harmless. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 3, x.data, x.len,
                                            NULL), 200);
    agenttest_assert_file(f->a, 0, &x);
    /* An empty artifact is an artifact too. */
    {
        struct agenttest_art e;
        const char *cfg2[2] = {x.hex, NULL};

        agenttest_art_make(&e, 0);
        cfg2[1] = e.hex;
        assert_int_equal(agentproc_put_config(f->a, 4, cfg2, 2), 204);
        assert_int_equal(agentproc_put_artifact(f->a, e.hex, 4, "", 0, NULL),
                         200);
        agenttest_assert_file(f->a, 1, &e);
        agenttest_art_free(&e);
    }
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_put__generation_checks(void **state)
{
    static const char *const bad_gen[] = {
        "", "?generation=", "?generation=abc", "?generation=-1",
        "?generation=1.5", "?generation=5x", "?generation=%205",
        "?generation=18446744073709551616", "?gen=5",
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    char url[512];

    agenttest_art_make(&x, 5000);
    cfg[0] = x.hex;
    /* No config yet: 400. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 5, x.data, x.len,
                                            &r), 400);
    agenttest_assert_error_shape(&r);
    assert_int_equal(agentproc_put_config(f->a, 5, cfg, 1), 204);
    /* Lower and higher generations: 409. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 4, x.data, x.len,
                                            &r), 409);
    agenttest_assert_error_shape(&r);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 6, x.data, x.len,
                                            &r), 409);
    agenttest_assert_error_shape(&r);
    /* Missing or malformed generation: 400. */
    for (size_t i = 0; i < sizeof(bad_gen) / sizeof(bad_gen[0]); i++) {
        snprintf(url, sizeof(url), "%s/artifacts/%s%s",
                 agentproc_api_url(f->a), x.hex, bad_gen[i]);
        assert_int_equal(http_client_send(&r, "PUT", url, x.data, x.len), 0);
        if (r.status != 400)
            fail_msg("query <%s>: status %ld, want 400", bad_gen[i],
                     r.status);
        agenttest_assert_error_shape(&r);
    }
    agenttest_assert_absent(f->a, x.hex);
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    /* Hash not in the config: 400, nothing stored. */
    assert_int_equal(agentproc_put_artifact(f->a, HX, 5, x.data, x.len, &r),
                     400);
    agenttest_assert_error_shape(&r);
    agenttest_assert_absent(f->a, HX);
    /* And the right one still works afterwards. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 5, x.data, x.len,
                                            NULL), 200);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_put__body_hash_mismatch(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x, y;
    const char *cfg[1];

    agenttest_art_make(&x, 200000);
    agenttest_art_make(&y, 200000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    /* y's bytes under x's name. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, y.data, y.len,
                                            &r), 400);
    agenttest_assert_error_shape(&r);
    /* One flipped byte in the middle, and a truncated body. */
    memcpy(y.data, x.data, x.len);
    y.data[x.len / 2] ^= 0x01;
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, y.data, y.len,
                                            &r), 400);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data,
                                            x.len - 1, &r), 400);
    agenttest_assert_absent(f->a, x.hex);
    agenttest_assert_tmp_empty_soon(f->a);
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    agenttest_assert_file(f->a, 0, &x);
    agenttest_assert_file(f->a, 1, &x);
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static void test_agent_put__bad_hash_400(void **state)
{
    static const char *const bad[] = {
        /* 65 characters */
        "33333333333333333333333333333333333333333333333333333333333333333",
        "333333333333333333333333333333333333333333333333333333333333333",
        "ABCDEF3333333333333333333333333333333333333333333333333333333333",
        "g333333333333333333333333333333333333333333333333333333333333333",
        "x",
        "..",
        "../artifacts-config",
        "..%2fartifacts-config",
        "%2e%2e%2fartifacts-config",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "3333333333333333333333333333333%2f333333333333333333333333333333333",
        "%33333333333333333333333333333333333333333333333333333333333333333",
        "tmp",
        "trash",
        "artifact-config.json",
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *cfg[1] = {HX};
    long before[2], after[2];
    char url[512];

    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    for (int i = 0; i < 2; i++)
        before[i] = testutil_dir_count(agentproc_dataset(f->a, i));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(url, sizeof(url), "%s/artifacts/%s?generation=1",
                 agentproc_api_url(f->a), bad[i]);
        assert_int_equal(http_client_send(&r, "PUT", url, "{}", 2), 0);
        if (r.status != 400)
            fail_msg("PUT hash <%s>: status %ld, want 400", bad[i],
                     r.status);
        agenttest_assert_error_shape(&r);
    }
    /* Nothing written anywhere, config intact. */
    for (int i = 0; i < 2; i++) {
        after[i] = testutil_dir_count(agentproc_dataset(f->a, i));
        assert_int_equal(after[i], before[i]);
    }
    assert_false(testutil_exists("/etc/passwd.rdtest"));
    snprintf(url, sizeof(url), "%s/artifacts-config", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    http_client_resp_release(&r);
    f->passed = true;
}

static const char *const args_small_cap[] = {"--max-body-bytes", "1024",
                                             NULL};

static void test_agent_put__over_body_cap_413(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art big, edge;
    const char *cfg[2];

    agenttest_art_make(&big, 1025);
    agenttest_art_make(&edge, 1024);
    cfg[0] = big.hex;
    cfg[1] = edge.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, big.hex, 1, big.data,
                                            big.len, &r), 413);
    agenttest_assert_error_shape(&r);
    agenttest_assert_absent(f->a, big.hex);
    /* Exactly the cap is allowed. */
    assert_int_equal(agentproc_put_artifact(f->a, edge.hex, 1, edge.data,
                                            edge.len, &r), 200);
    agenttest_assert_file(f->a, 0, &edge);
    agenttest_assert_tmp_empty_soon(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&big);
    agenttest_art_free(&edge);
    f->passed = true;
}

static const char *const args_quota[] = {"--quota-bytes", "65536", NULL};

static void test_agent_put__over_quota_507(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art big, small;
    const char *cfg[2];

    agenttest_art_make(&big, 256 * 1024);
    agenttest_art_make(&small, 1024);
    cfg[0] = big.hex;
    cfg[1] = small.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, big.hex, 1, big.data,
                                            big.len, &r), 507);
    agenttest_assert_error_shape(&r);
    agenttest_assert_absent(f->a, big.hex);
    agenttest_assert_tmp_empty_soon(f->a);
    assert_int_equal(agentproc_put_artifact(f->a, small.hex, 1, small.data,
                                            small.len, &r), 200);
    agenttest_assert_file(f->a, 0, &small);
    agenttest_assert_file(f->a, 1, &small);
    http_client_resp_release(&r);
    agenttest_art_free(&big);
    agenttest_art_free(&small);
    f->passed = true;
}

static const char *const args_quota_a[] = {"--quota-bytes-a", "65536",
                                           NULL};

/* Dataset A's own quota: a large artifact lands on B only (one write). */
static void test_agent_put__quota_of_one_dataset(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art big;
    const char *cfg[1];
    json_t *j;
    char *pa;

    agenttest_art_make(&big, 256 * 1024);
    cfg[0] = big.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, big.hex, 1, big.data,
                                            big.len, &r), 200);
    j = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "datasets")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(j, "successful_writes")), 1);
    json_decref(j);
    agenttest_assert_file(f->a, 1, &big);
    pa = agentproc_path(f->a, 0, big.hex);
    assert_false(testutil_exists(pa));
    mem_free(pa);
    assert_int_equal(agentproc_count(f->a, big.hex), 1);
    http_client_resp_release(&r);
    agenttest_art_free(&big);
    f->passed = true;
}

static const char *const args_reserve[] = {"--reserve-bytes",
                                           "1000000000000000000", NULL};

static void test_agent_put__reserve_507(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];

    /* No dataset has 10^18 bytes free beyond the reserve: nothing fits. */
    agenttest_art_make(&x, 1024);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            &r), 507);
    agenttest_assert_error_shape(&r);
    agenttest_assert_absent(f->a, x.hex);
    agenttest_assert_tmp_empty_soon(f->a);
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

struct healthy_arg {
    struct agentproc *a;
    const char *hex;
};

/* Whether GET /artifacts lists hex in "in_progress" (-1: no answer). */
static int in_progress(struct agentproc *a, const char *hex)
{
    json_t *v = NULL;
    json_t *e;
    size_t i;
    int found = 0;

    if (agentproc_list(a, &v) != 200 || !v) {
        json_decref(v);
        return -1;
    }
    json_array_foreach(json_object_get(v, "in_progress"), i, e) {
        if (json_is_string(e) && !strcmp(json_string_value(e), hex))
            found = 1;
    }
    json_decref(v);
    return found;
}

static bool busy_with(void *arg)
{
    struct healthy_arg *h = arg;

    return in_progress(h->a, h->hex) == 1;
}

/* The agent answers and reports no write of hex in progress. */
static bool idle_for(void *arg)
{
    struct healthy_arg *h = arg;

    return in_progress(h->a, h->hex) == 0;
}

/* A generated body that stalls after `hold_at` bytes until released. */
static const char *const args_one_write[] = {"--max-writes", "1", NULL};

static void test_agent_put__busy_429(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_stream s = {0};
    struct http_client_req req = {0};
    struct http_client_async *job = NULL;
    char slow_hex[SHA256_HEX_LEN + 1], url[256], retry[64];
    struct agenttest_art small;
    const char *cfg[2];
    int64_t deadline;
    bool saw_429 = false;

    s.seed = 42;
    s.len = 4u * 1024 * 1024;
    s.hold_at = 1024 * 1024;
    agenttest_pattern_hex(slow_hex, s.seed, s.len);
    agenttest_art_make(&small, 4096);
    cfg[0] = slow_hex;
    cfg[1] = small.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);

    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=1",
             agentproc_api_url(f->a), slow_hex);
    req.method = "PUT";
    req.url = url;
    req.gen = agenttest_stream_gen;
    req.gen_arg = &s;
    req.content_length = s.len;
    assert_int_equal(http_client_start(&job, &req), 0);
    /* Wait until the agent lists the slow write as in progress. */
    {
        struct healthy_arg h = {f->a, slow_hex};

        if (!testutil_wait_for(busy_with, &h, 20000)) {
            s.abort_now = 1;
            http_client_join(job, &r);
            fail_msg("slow PUT never in progress (its status %ld)", r.status);
        }
    }

    /* While the slow write holds the only slot, another write is 429. */
    deadline = testutil_now_ms() + 20000;
    while (!saw_429 && testutil_now_ms() < deadline) {
        long st = agentproc_put_artifact(f->a, small.hex, 1, small.data,
                                         small.len, &r);

        if (st == 429) {
            saw_429 = true;
            break;
        }
        if (st != 200)
            fail_msg("second PUT: status %ld, want 429 (or 200 before the "
                     "slow write started)", st);
        testutil_sleep_ms(20);
    }
    if (!saw_429) {
        s.abort_now = 1;
        http_client_join(job, NULL);
        fail_msg("no 429 within 20 s while a write held the only slot");
    }
    agenttest_assert_error_shape(&r);
    assert_true(http_client_header(&r, "Retry-After", retry, sizeof(retry)));
    assert_true(retry[0] >= '0' && retry[0] <= '9');
    /* Release the slow body: it completes, then the slot is free again. */
    s.release = 1;
    assert_int_equal(http_client_join(job, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(agentproc_put_artifact(f->a, small.hex, 1, small.data,
                                            small.len, NULL), 200);
    assert_int_equal(agentproc_count(f->a, slow_hex), 2);
    assert_int_equal(agentproc_count(f->a, small.hex), 2);
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    agenttest_art_free(&small);
    f->passed = true;
}

/* Raw request head for PUT /artifacts/hex?generation=gen. */
static void raw_head(struct buf *b, const char *hex, uint64_t gen,
                     uint64_t content_length)
{
    buf_reset(b);
    assert_int_equal(buf_printf(b, "PUT /artifacts/%s?generation=%llu "
                                "HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Length: %llu\r\n\r\n", hex,
                                (unsigned long long)gen,
                                (unsigned long long)content_length), 0);
}

static void test_agent_put__short_body_then_close(void **state)
{
    struct agentproc_fixture *f = *state;
    struct buf b = BUF_INIT;
    struct healthy_arg h;
    struct agenttest_art x;
    const char *cfg[1];
    int fd = -1;

    agenttest_art_make(&x, 100000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    raw_head(&b, x.hex, 1, x.len);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    assert_int_equal(http_client_raw_send(fd, b.data, b.len), 0);
    assert_int_equal(http_client_raw_send(fd, x.data, 5000), 0);
    close(fd);
    h.a = f->a;
    h.hex = x.hex;
    assert_true(testutil_wait_for(idle_for, &h, 15000));
    assert_true(agentproc_alive(f->a));
    agenttest_assert_absent(f->a, x.hex);
    agenttest_assert_tmp_empty_soon(f->a);
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    /* A retry succeeds. */
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    agenttest_assert_file(f->a, 0, &x);
    agenttest_assert_file(f->a, 1, &x);
    buf_release(&b);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_put__body_longer_than_length(void **state)
{
    struct agentproc_fixture *f = *state;
    struct buf b = BUF_INIT, resp = BUF_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    char junk[4096];
    int fd = -1;

    agenttest_art_make(&x, 50000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    raw_head(&b, x.hex, 1, x.len);
    assert_int_equal(buf_append(&b, x.data, x.len), 0);
    /* Extra bytes after the declared body: not part of the artifact. */
    memset(junk, 'Z', sizeof(junk));
    assert_int_equal(buf_append(&b, junk, sizeof(junk)), 0);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    assert_int_equal(http_client_raw_send(fd, b.data, b.len), 0);
    (void)http_client_raw_recv(&resp, fd, 15000);
    close(fd);
    /* The first Content-Length bytes are the body: that is a valid PUT. */
    assert_int_equal(http_client_raw_status(&resp), 200);
    agenttest_assert_file(f->a, 0, &x);
    agenttest_assert_file(f->a, 1, &x);
    assert_true(agentproc_alive(f->a));
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    agenttest_assert_invariant(f->a);
    buf_release(&b);
    buf_release(&resp);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_put__oversized_headers_and_idle(void **state)
{
    struct agentproc_fixture *f = *state;
    struct buf b = BUF_INIT, resp = BUF_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    int idle = -1, fd = -1;
    int st;

    agenttest_art_make(&x, 1000);
    cfg[0] = x.hex;
    /* An idle connection must not block anyone. */
    assert_int_equal(http_client_raw_connect(&idle,
                                             agentproc_api_port(f->a)), 0);
    assert_int_equal(http_client_raw_send(idle, "PUT /arti", 9), 0);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);

    /* 256 KiB of headers: refused (4xx) or the connection is closed. */
    assert_int_equal(buf_puts(&b, "GET /artifacts HTTP/1.1\r\nHost: x\r\n"),
                     0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(buf_printf(&b, "X-Fill-%d: %060d\r\n", i, i), 0);
    assert_int_equal(buf_puts(&b, "\r\n"), 0);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    (void)http_client_raw_send(fd, b.data, b.len);
    (void)http_client_raw_recv(&resp, fd, 15000);
    close(fd);
    st = http_client_raw_status(&resp);
    if (st != 0 && (st < 400 || st > 499))
        fail_msg("256 KiB of headers: status %d, want 4xx or a close", st);

    assert_true(agentproc_alive(f->a));
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    close(idle);
    buf_release(&b);
    buf_release(&resp);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_put__concurrent_same_hash(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r1 = HTTP_CLIENT_RESP_INIT;
    struct http_client_resp r2 = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct http_client_async *j1 = NULL, *j2 = NULL;
    struct agenttest_art x;
    const char *cfg[1];
    char url[256];

    agenttest_art_make(&x, 4u * 1024 * 1024);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=1",
             agentproc_api_url(f->a), x.hex);
    req.method = "PUT";
    req.url = url;
    req.body = x.data;
    req.body_len = x.len;
    req.max_send_bps = 8u * 1024 * 1024;
    assert_int_equal(http_client_start(&j1, &req), 0);
    assert_int_equal(http_client_start(&j2, &req), 0);
    assert_int_equal(http_client_join(j1, &r1), 0);
    assert_int_equal(http_client_join(j2, &r2), 0);
    /* Both succeed (or one is told to retry); neither corrupts the other. */
    assert_true(r1.status == 200 || r1.status == 429);
    assert_true(r2.status == 200 || r2.status == 429);
    assert_true(r1.status == 200 || r2.status == 200);
    agenttest_assert_file(f->a, 0, &x);
    agenttest_assert_file(f->a, 1, &x);
    agenttest_assert_tmp_empty_soon(f->a);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r1);
    http_client_resp_release(&r2);
    agenttest_art_free(&x);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_put__stores_on_both),
        AGENTTEST(test_agent_put__generation_checks),
        AGENTTEST(test_agent_put__body_hash_mismatch),
        AGENTTEST(test_agent_put__bad_hash_400),
        AGENTTEST_ARGS(test_agent_put__over_body_cap_413, args_small_cap),
        AGENTTEST_ARGS(test_agent_put__over_quota_507, args_quota),
        AGENTTEST_ARGS(test_agent_put__quota_of_one_dataset, args_quota_a),
        AGENTTEST_ARGS(test_agent_put__reserve_507, args_reserve),
        AGENTTEST_ARGS(test_agent_put__busy_429, args_one_write),
        AGENTTEST(test_agent_put__short_body_then_close),
        AGENTTEST(test_agent_put__body_longer_than_length),
        AGENTTEST(test_agent_put__oversized_headers_and_idle),
        AGENTTEST(test_agent_put__concurrent_same_hash),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
