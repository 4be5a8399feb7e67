/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of the sledagent's artifact-config API (DESIGN.md
 * sections 2, 3 and 9): GET/PUT /artifacts-config with every status of
 * the API table, generation rules, strict body validation, GET /artifacts
 * before and after a config, no-dataset 503s, and the ledgered generation
 * surviving a restart. Each test runs a fresh agent on two temp datasets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

/* Two fixed, distinct, valid hashes and one for data we upload. */
#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static void url_of(char *out, size_t cap, struct agentproc *a,
                   const char *path)
{
    snprintf(out, cap, "%s%s", agentproc_api_url(a), path);
}

static long put_config_raw(struct agentproc *a, const char *body,
                           struct http_client_resp *r)
{
    char url[128];

    url_of(url, sizeof(url), a, "/artifacts-config");
    if (http_client_send(r, "PUT", url, body, strlen(body)) < 0)
        return -1;
    return r->status;
}

static void test_agent_config__get_404_then_200(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *hashes[] = {H2, H1};
    json_t *v, *arr;
    char url[128];

    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 404);
    agenttest_assert_error_shape(&r);
    assert_int_equal(agentproc_put_config(f->a, 1, hashes, 2), 204);
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_true(http_client_header(&r, "x-request-id", NULL, 0));
    v = http_client_json(&r);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 1);
    arr = json_object_get(v, "artifacts");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 2);
    /* A set: both hashes, in whatever order. */
    {
        const char *x = json_string_value(json_array_get(arr, 0));
        const char *y = json_string_value(json_array_get(arr, 1));

        assert_non_null(x);
        assert_non_null(y);
        assert_true((!strcmp(x, H1) && !strcmp(y, H2)) ||
                    (!strcmp(x, H2) && !strcmp(y, H1)));
    }
    json_decref(v);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__generation_rules(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *one[] = {H1};
    const char *two[] = {H1, H2};
    char url[128];
    json_t *v;

    assert_int_equal(agentproc_put_config(f->a, 5, one, 1), 204);
    /* Identical config again: 204 (no-op). */
    assert_int_equal(agentproc_put_config(f->a, 5, one, 1), 204);
    /* Lower generation: 409 CONFIG_GENERATION. */
    assert_int_equal(put_config_raw(f->a,
                                    "{\"generation\": 4, \"artifacts\": []}",
                                    &r), 409);
    agenttest_assert_error_shape(&r);
    v = http_client_json(&r);
    assert_string_equal(json_string_value(json_object_get(v, "error_code")),
                        "CONFIG_GENERATION");
    json_decref(v);
    /* Equal generation, different set: 409 too. */
    assert_int_equal(agentproc_put_config(f->a, 5, two, 2), 409);
    assert_int_equal(agentproc_put_config(f->a, 5, NULL, 0), 409);
    /* Nothing of the rejected ones stuck. */
    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 5);
    assert_int_equal(json_array_size(json_object_get(v, "artifacts")), 1);
    json_decref(v);
    /* Higher generation with another set: accepted. */
    assert_int_equal(agentproc_put_config(f->a, 6, two, 2), 204);
    assert_int_equal(agentproc_put_config(f->a, 1000000, NULL, 0), 204);
    assert_int_equal(agentproc_put_config(f->a, 999999, NULL, 0), 409);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__bad_bodies_400(void **state)
{
    static const char *const bodies[] = {
        "not json",
        "",
        "[]",
        "null",
        "{}",
        "{\"generation\": 1}",
        "{\"artifacts\": []}",
        "{\"generation\": 1, \"artifacts\": {}}",
        "{\"generation\": 1, \"artifacts\": [1]}",
        "{\"generation\": 1, \"artifacts\": [\"" H1 "\", \"" H1 "\"]}",
        "{\"generation\": 1, \"artifacts\": [\"ABCDEF1111111111111111111111111"
        "111111111111111111111111111111111\"]}",
        "{\"generation\": 1, \"artifacts\": [\"abcdef\"]}",
        "{\"generation\": 1, \"artifacts\": [\"" H1 "1\"]}",
        "{\"generation\": 1, \"artifacts\": [\"g111111111111111111111111111111"
        "111111111111111111111111111111111\"]}",
        "{\"generation\": 1, \"artifacts\": [\"../../../../etc/passwd\"]}",
        "{\"generation\": -1, \"artifacts\": []}",
        "{\"generation\": 18446744073709551616, \"artifacts\": []}",
        "{\"generation\": 123456789012345678901234567890, \"artifacts\": []}",
        "{\"generation\": \"1\", \"artifacts\": []}",
        "{\"generation\": 1.5, \"artifacts\": []}",
        "{\"generation\": 1e3, \"artifacts\": []}",
        "{\"generation\": null, \"artifacts\": []}",
        "{\"generation\": 1, \"artifacts\": []",
        "{\"generation\": 1, \"artifacts\": []} trailing",
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        long st = put_config_raw(f->a, bodies[i], &r);

        if (st != 400)
            fail_msg("body %zu <%s>: status %ld, want 400", i, bodies[i], st);
        agenttest_assert_error_shape(&r);
    }
    /* None of them was taken as a config. */
    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 404);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__oversized_body(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    size_t pad = 9u * 1024 * 1024;
    const char *head = "{\"generation\": 1, \"artifacts\": []";
    size_t hl = strlen(head);
    char *body = mem_alloc(hl + pad + 2);
    char url[128];
    long st;

    /* Valid JSON apart from its size (whitespace padding past 8 MiB). */
    assert_non_null(body);
    memcpy(body, head, hl);
    memset(body + hl, ' ', pad);
    memcpy(body + hl + pad, "}", 2);
    st = put_config_raw(f->a, body, &r);
    mem_free(body);
    if (st != 400 && st != 413)
        fail_msg("9 MiB config: status %ld, want 400 or 413", st);
    assert_true(agentproc_alive(f->a));
    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 404);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__list_before_and_after(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char data[1000], hex[SHA256_HEX_LEN + 1];
    const char *hashes[] = {NULL, H1};
    json_t *v = NULL;
    char url[128];

    url_of(url, sizeof(url), f->a, "/artifacts");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 400);
    agenttest_assert_error_shape(&r);

    testutil_random(data, sizeof(data));
    testutil_sha256_hex(hex, data, sizeof(data));
    hashes[0] = hex;
    assert_int_equal(agentproc_put_config(f->a, 3, hashes, 2), 204);
    assert_int_equal(agentproc_list(f->a, &v), 200);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 3);
    assert_true(json_is_object(json_object_get(v, "list")));
    /* Nothing stored yet: an empty list (count > 0 only). */
    assert_int_equal(json_object_size(json_object_get(v, "list")), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 2);
    json_decref(v);

    assert_int_equal(agentproc_put_artifact(f->a, hex, 3, data, sizeof(data),
                                            NULL), 200);
    assert_int_equal(agentproc_list(f->a, &v), 200);
    assert_int_equal(json_object_size(json_object_get(v, "list")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(v, "list"), hex)),
        2);
    assert_true(json_is_array(json_object_get(v, "in_progress")));
    json_decref(v);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__persists_across_restart(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *one[] = {H1};
    char url[128];
    json_t *v;

    assert_int_equal(agentproc_put_config(f->a, 7, one, 1), 204);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(agentproc_start(f->a), 0);
    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 7);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(v, "artifacts"), 0)),
        H1);
    json_decref(v);
    assert_int_equal(agentproc_put_config(f->a, 6, NULL, 0), 409);
    assert_int_equal(agentproc_put_config(f->a, 7, one, 1), 204);
    assert_int_equal(agentproc_put_config(f->a, 7, NULL, 0), 409);
    http_client_resp_release(&r);
    f->passed = true;
}

static void test_agent_config__no_dataset_503(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *one[] = {H1};
    char url[256];

    /* Restart the agent with both dataset directories gone (told to
     * start anyway: without the flag it refuses, test_agent_startup). */
    static const char *const degraded[] = {"--allow-degraded-start", NULL};

    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 0)), 0);
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 1)), 0);
    assert_int_equal(agentproc_set_args(f->a, degraded), 0);
    assert_int_equal(agentproc_start(f->a), 0);

    assert_int_equal(agentproc_put_config(f->a, 1, one, 1), 503);
    url_of(url, sizeof(url), f->a, "/artifacts-config");
    assert_int_equal(put_config_raw(f->a, "{\"generation\": 2, "
                                    "\"artifacts\": []}", &r), 503);
    agenttest_assert_error_shape(&r);
    url_of(url, sizeof(url), f->a, "/artifacts");
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 503);
    agenttest_assert_error_shape(&r);
    assert_int_equal(agentproc_put_artifact(f->a, H1, 1, "x", 1, &r), 503);
    agenttest_assert_error_shape(&r);
    assert_true(agentproc_alive(f->a));
    http_client_resp_release(&r);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_config__get_404_then_200),
        AGENTTEST(test_agent_config__generation_rules),
        AGENTTEST(test_agent_config__bad_bodies_400),
        AGENTTEST(test_agent_config__oversized_body),
        AGENTTEST(test_agent_config__list_before_and_after),
        AGENTTEST(test_agent_config__persists_across_restart),
        AGENTTEST(test_agent_config__no_dataset_503),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
