/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault tests of the sledagent: SIGKILL in the middle of a large streamed
 * PUT (nothing partial under a final name, tmp/ purged on restart, the
 * PUT then succeeds) and SIGKILL right after a config PUT answered 204
 * (the config is durable). Every test ends by checking DESIGN.md
 * invariant 2 on both datasets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

static bool stream_reached(void *arg)
{
    struct agenttest_stream *s = arg;

    return s->sent >= s->hold_at;
}

/* Some tmp/ file of either dataset has data: the write is on disk. */
static bool tmp_has_data(void *arg)
{
    struct agentproc *a = arg;

    for (int i = 0; i < 2; i++) {
        char *dir = agentproc_path(a, i, "tmp");
        long n = testutil_dir_count(dir);

        mem_free(dir);
        if (n > 0)
            return true;
    }
    return false;
}

static void test_agent_crash__kill_mid_put(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct http_client_async *job = NULL;
    struct agenttest_stream s = {0};
    char hex[SHA256_HEX_LEN + 1], url[256];
    const char *cfg[1];

    s.seed = 7;
    s.len = 64u * 1024 * 1024;
    s.hold_at = 24u * 1024 * 1024;
    agenttest_pattern_hex(hex, s.seed, s.len);
    cfg[0] = hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=1",
             agentproc_api_url(f->a), hex);
    req.method = "PUT";
    req.url = url;
    req.gen = agenttest_stream_gen;
    req.gen_arg = &s;
    req.content_length = s.len;
    req.timeout_ms = 120000;
    assert_int_equal(http_client_start(&job, &req), 0);
    /* The body is stalled mid-way: 24 of 64 MiB sent. */
    if (!testutil_wait_for(stream_reached, &s, 60000)) {
        s.abort_now = 1;
        http_client_join(job, NULL);
        fail_msg("could not send 24 MiB within 60 s");
    }
    /* Give the agent the chance to have the write on disk (it streams). */
    (void)testutil_wait_for(tmp_has_data, f->a, 5000);
    agentproc_kill(f->a);
    s.abort_now = 1;
    (void)http_client_join(job, NULL);

    /* Nothing under the final name, even before the agent restarts. */
    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(f->a, i, hex);

        assert_false(testutil_exists(path));
        mem_free(path);
    }
    agenttest_assert_invariant(f->a);
    assert_int_equal(agentproc_start(f->a), 0);
    if (!testutil_wait_for(agenttest_tmp_empty, f->a, 20000))
        fail_msg("tmp/ not purged 20 s after restart");
    assert_int_equal(agentproc_count(f->a, hex), 0);

    /* The same PUT, all the way this time. */
    memset((void *)&s, 0, sizeof(s));
    s.seed = 7;
    s.len = 64u * 1024 * 1024;
    s.hold_at = s.len;
    s.release = 1;
    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=1",
             agentproc_api_url(f->a), hex);
    assert_int_equal(http_client_request(&r, &req, NULL), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(agentproc_count(f->a, hex), 2);
    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(f->a, i, hex);
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((uint64_t)st.st_size, s.len);
        mem_free(path);
    }
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_crash__kill_after_config_204(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char hexes[3][SHA256_HEX_LEN + 1];
    const char *cfg[3];
    char url[128];

    for (int i = 0; i < 3; i++) {
        char seed[32];

        snprintf(seed, sizeof(seed), "artifact %d", i);
        testutil_sha256_hex(hexes[i], seed, strlen(seed));
        cfg[i] = hexes[i];
    }
    for (uint64_t gen = 10; gen < 14; gen++) {
        size_t n = (size_t)(gen % 3) + 1;
        json_t *v;

        assert_int_equal(agentproc_put_config(f->a, gen, cfg, n), 204);
        agentproc_kill(f->a);
        assert_int_equal(agentproc_start(f->a), 0);
        snprintf(url, sizeof(url), "%s/artifacts-config",
                 agentproc_api_url(f->a));
        assert_int_equal(http_client_get(&r, url), 0);
        assert_int_equal(r.status, 200);
        v = http_client_json(&r);
        assert_non_null(v);
        if ((uint64_t)json_integer_value(json_object_get(v, "generation")) !=
            gen)
            fail_msg("after SIGKILL: generation %lld, want %llu",
                     (long long)json_integer_value(
                         json_object_get(v, "generation")),
                     (unsigned long long)gen);
        assert_int_equal(json_array_size(json_object_get(v, "artifacts")), n);
        json_decref(v);
        /* And the ledger never goes back. */
        assert_int_equal(agentproc_put_config(f->a, gen - 1, cfg, n), 409);
    }
    agenttest_assert_invariant(f->a);
    http_client_resp_release(&r);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_crash__kill_mid_put),
        AGENTTEST(test_agent_crash__kill_after_config_204),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
