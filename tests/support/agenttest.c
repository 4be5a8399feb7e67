/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agenttest: helpers of the sledagent black-box tests, written once here
 * instead of in each test file (see agenttest.h). Test main thread, except
 * the body generator, which runs on the HTTP client's thread.
 */
#include "tests/support/agenttest.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define PATTERN_CHUNK (1u << 16)

void agenttest_art_make(struct agenttest_art *x, size_t len)
{
    x->data = mem_alloc(len ? len : 1);
    assert_non_null(x->data);
    x->len = len;
    testutil_random(x->data, len);
    testutil_sha256_hex(x->hex, x->data, len);
}

void agenttest_art_free(struct agenttest_art *x)
{
    mem_free(x->data);
}

void agenttest_assert_file(struct agentproc *a, int i,
                           const struct agenttest_art *x)
{
    char *path = agentproc_path(a, i, x->hex);
    char *got = NULL;
    size_t len = 0;

    assert_non_null(path);
    if (testutil_read_file(&got, &len, path) < 0)
        fail_msg("%s missing", path);
    assert_int_equal(len, x->len);
    assert_memory_equal(got, x->data, x->len);
    mem_free(got);
    mem_free(path);
}

void agenttest_assert_stored(struct agentproc *a,
                             const struct agenttest_art *x)
{
    for (int i = 0; i < 2; i++)
        agenttest_assert_file(a, i, x);
    assert_int_equal(agentproc_count(a, x->hex), 2);
}

void agenttest_assert_absent(struct agentproc *a, const char *hex)
{
    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(a, i, hex);

        assert_non_null(path);
        if (testutil_exists(path))
            fail_msg("%s exists", path);
        mem_free(path);
    }
}

void agenttest_assert_tmp_empty_soon(struct agentproc *a)
{
    if (!testutil_wait_for(agenttest_tmp_empty, a, 15000))
        fail_msg("tmp/ not empty after 15 s");
}

void agenttest_assert_nothing_stored(struct agentproc *a, const char *hex)
{
    agenttest_assert_absent(a, hex);
    agenttest_assert_tmp_empty_soon(a);
    assert_int_equal(agentproc_count(a, hex), 0);
    assert_true(agentproc_alive(a));
}

void agenttest_assert_invariant(struct agentproc *a)
{
    struct err e = ERR_INIT;

    if (agentproc_check_files(a, NULL, &e) < 0)
        fail_msg("invariant 2: %s", e.msg);
}

void agenttest_assert_error_shape(const struct http_client_resp *r)
{
    struct err e = ERR_INIT;

    if (agentproc_check_error(r, &e) < 0)
        fail_msg("%s", e.msg);
}

bool agenttest_list_is(void *arg)
{
    struct agenttest_list *l = arg;
    json_t *v = NULL;
    json_t *c;
    bool ok = false;

    if (agentproc_list(l->a, &v) != 200 || !v)
        goto out;
    c = json_object_get(json_object_get(v, "list"), l->hex);
    ok = (c ? json_integer_value(c) : 0) == l->count &&
         (l->datasets < 0 ||
          json_integer_value(json_object_get(v, "datasets")) == l->datasets);
out:
    json_decref(v);
    return ok;
}

bool agenttest_count_is(void *arg)
{
    struct agenttest_count *c = arg;

    return agentproc_count(c->a, c->hex) == c->want;
}

bool agenttest_file_has_hash(void *arg)
{
    struct agenttest_hash *h = arg;
    struct sha256 got;
    char hex[SHA256_HEX_LEN + 1];

    if (testutil_sha256_file(&got, h->path) < 0)
        return false;
    sha256_to_hex(hex, &got);
    return !strcmp(hex, h->hex);
}

bool agenttest_tmp_empty(void *arg)
{
    struct agentproc *a = arg;

    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(a, i, "tmp");
        long n = testutil_dir_count(path);

        mem_free(path);
        if (n > 0)
            return false;
    }
    return true;
}

void agenttest_flip_byte(const char *path, off_t at, unsigned mask)
{
    unsigned char c;
    int fd = open(path, O_RDWR);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= (unsigned char)mask;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    assert_int_equal(fsync(fd), 0);
    close(fd);
}

long agenttest_stream_gen(void *buf, size_t cap, uint64_t offset, void *arg)
{
    struct agenttest_stream *s = arg;
    size_t n;

    while (offset >= s->hold_at && !s->release && !s->abort_now)
        testutil_sleep_ms(5);
    if (s->abort_now)
        return -1;
    if (offset >= s->len)
        return 0;
    n = cap;
    if (n > s->len - offset)
        n = (size_t)(s->len - offset);
    if (!s->release && offset + n > s->hold_at)
        n = (size_t)(s->hold_at - offset);
    testutil_pattern(buf, n, s->seed, offset);
    s->sent = offset + n;
    return (long)n;
}

void agenttest_pattern_hex(char hex[SHA256_HEX_LEN + 1], uint64_t seed,
                           uint64_t len)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    struct sha256 h;
    char *chunk = mem_alloc(PATTERN_CHUNK);
    uint64_t off = 0;

    assert_non_null(chunk);
    assert_int_equal(sha256_init(&ctx), 0);
    while (off < len) {
        size_t n = len - off < PATTERN_CHUNK ? (size_t)(len - off)
                                             : PATTERN_CHUNK;

        testutil_pattern(chunk, n, seed, off);
        assert_int_equal(sha256_update(&ctx, chunk, n), 0);
        off += n;
    }
    assert_int_equal(sha256_final(&ctx, &h), 0);
    sha256_release(&ctx);
    sha256_to_hex(hex, &h);
    mem_free(chunk);
}

long agenttest_post_copy(struct agentproc *a, const char *hex, uint64_t gen,
                         const char *base, struct http_client_resp *r)
{
    struct http_client_resp own = HTTP_CLIENT_RESP_INIT;
    struct http_client_resp *resp = r ? r : &own;
    char url[256], body[512];
    long st = -1;

    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?generation="
             "%llu", agentproc_api_url(a), hex, (unsigned long long)gen);
    snprintf(body, sizeof(body), "{\"depot_base_url\": \"%s\"}", base);
    if (http_client_send(resp, "POST", url, body, strlen(body)) == 0)
        st = resp->status;
    http_client_resp_release(&own);
    return st;
}

json_t *agenttest_copies(struct agentproc *a)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    json_t *v = NULL;

    snprintf(url, sizeof(url), "%s/copies", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200)
        v = http_client_json(&r);
    http_client_resp_release(&r);
    return v;
}

json_t *agenttest_copy_of(json_t *copies, const char *hex)
{
    json_t *e;
    size_t i;

    json_array_foreach(copies, i, e) {
        const char *h = json_string_value(json_object_get(e, "sha256"));

        if (h && !strcmp(h, hex))
            return e;
    }
    return NULL;
}

double agenttest_metric_max(const char *text, const char *w1,
                            const char *w2)
{
    const char *p = text;
    double best = -1;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];

        if (n < sizeof(line) && *p != '#') {
            char *sp;

            memcpy(line, p, n);
            line[n] = '\0';
            sp = strrchr(line, ' ');
            if (sp) {
                *sp = '\0';
                if (strstr(line, w1) && (!w2 || strstr(line, w2))) {
                    double v = strtod(sp + 1, NULL);

                    if (v > best)
                        best = v;
                }
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return best;
}

double agenttest_agent_metric(struct agentproc *a, const char *name)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    double v = -1;

    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200 && r.body.data &&
        buf_append(&r.body, "", 1) == 0)
        v = agenttest_metric_max(r.body.data, name, NULL);
    http_client_resp_release(&r);
    return v;
}
