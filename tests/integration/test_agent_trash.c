/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of trash/ (DESIGN.md section 3): with --trash-retention 1
 * an artifact a new config drops is moved to trash/ and purged after the
 * retention (polled); with the default retention, a config wanting a
 * trashed artifact again restores it from trash (no upload), and a PUT or
 * a copy-from-depot of an artifact being restored from trash transfers no
 * byte (bug D): the PUT is answered 200 from the restored copies, the copy
 * 202 and "done" with 0 bytes, its source never contacted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

static const char *const short_retention[] = {"--trash-retention", "1", NULL};

struct file_arg {
    struct agentproc *a;
    const char *name; /* "trash/<hex>" or "<hex>" */
    bool want;        /* present on both datasets, or absent on both */
};

static bool files_are(void *arg)
{
    struct file_arg *f = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, f->name);
        bool there = testutil_exists(p);

        mem_free(p);
        if (there != f->want)
            return false;
    }
    return true;
}

/* gen 1 {x} (len random bytes), x stored; then gen 2 {} (x to trash). */
static void trash_len(struct agentproc *a, char *hex, char *tname,
                      size_t len)
{
    const char *cfg[1] = {hex};
    char *data = mem_alloc(len);
    struct file_arg fa = {a, tname, true};

    assert_non_null(data);
    testutil_random(data, len);
    testutil_sha256_hex(hex, data, len);
    snprintf(tname, 80, "trash/%s", hex);
    assert_int_equal(agentproc_put_config(a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(a, hex, 1, data, len, NULL),
                     200);
    mem_free(data);
    assert_int_equal(agentproc_put_config(a, 2, NULL, 0), 204);
    assert_true(testutil_wait_for(files_are, &fa, 10000));
    fa.name = hex;
    fa.want = false;
    assert_true(files_are(&fa));
}

static void trash_one(struct agentproc *a, char *hex, char *tname)
{
    trash_len(a, hex, tname, 5000);
}

static void test_agent_trash__purged_after_retention(void **state)
{
    struct agentproc_fixture *f = *state;
    char hex[SHA256_HEX_LEN + 1], tname[80];
    struct file_arg fa = {f->a, tname, false};
    int64_t t0;

    trash_one(f->a, hex, tname);
    t0 = testutil_now_ms();
    if (!testutil_wait_for(files_are, &fa, 15000))
        fail_msg("trash entry still there 15 s after a 1 s retention");
    /* Not purged before the retention has passed. */
    assert_true(testutil_now_ms() - t0 >= 500);
    f->passed = true;
}

static bool count_two(void *arg)
{
    struct file_arg *f = arg;

    return agentproc_count(f->a, f->name) == 2;
}

static void test_agent_trash__wanted_again_is_restored(void **state)
{
    struct agentproc_fixture *f = *state;
    char hex[SHA256_HEX_LEN + 1], tname[80];
    const char *cfg[1] = {hex};
    struct file_arg fa = {f->a, hex, true};

    trash_one(f->a, hex, tname);
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    assert_true(testutil_wait_for(count_two, &fa, 10000));
    assert_true(files_are(&fa));
    fa.name = tname;
    fa.want = false;
    assert_true(files_are(&fa));
    f->passed = true;
}

/*
 * Issue 9, no forever-brick: a config at generation INT64_MAX (an attacker,
 * or a broken controller) makes the sled refuse every later config; POST
 * /artifacts-config/reset brings its ledger back to a chosen generation
 * with the wanted set, the trashed artifact comes back from trash/ (no
 * bytes sent), and normal configs are accepted again.
 */
static void test_agent_trash__issue_9_reset_restores(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char hex[SHA256_HEX_LEN + 1], tname[80], url[128], body[256];
    const char *cfg[1] = {hex};
    struct file_arg fa = {f->a, hex, true};
    json_t *v;

    trash_one(f->a, hex, tname);
    assert_int_equal(agentproc_put_config(f->a, 9223372036854775807ULL,
                                          NULL, 0), 204);
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 409);
    snprintf(url, sizeof(url), "%s/artifacts-config/reset",
             agentproc_api_url(f->a));
    snprintf(body, sizeof(body), "{\"generation\": 3, \"reason\": 5}");
    assert_int_equal(http_client_send(&r, "POST", url, body, strlen(body)),
                     0);
    assert_int_equal(r.status, 400); /* reason must be a string */
    snprintf(body, sizeof(body), "{\"generation\": 3, \"artifacts\": "
             "[\"%s\"], \"reason\": \"test\", \"requested_by\": "
             "\"operator\"}", hex);
    assert_int_equal(http_client_send(&r, "POST", url, body, strlen(body)),
                     0);
    assert_int_equal(r.status, 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 3);
    assert_true(json_integer_value(json_object_get(
                    v, "previous_generation")) == 9223372036854775807LL);
    json_decref(v);
    http_client_resp_release(&r);
    assert_true(testutil_wait_for(count_two, &fa, 10000));
    assert_true(files_are(&fa));
    fa.name = tname;
    fa.want = false;
    assert_true(files_are(&fa)); /* restored from trash, not sent again */
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 409);
    assert_int_equal(agentproc_put_config(f->a, 4, cfg, 1), 204);
    f->passed = true;
}

/* The value of the sample line "name N" of GET /metrics. */
static uint64_t metric(struct agentproc *a, const char *name)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128], key[128];
    const char *p;
    uint64_t v;

    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(a));
    snprintf(key, sizeof(key), "\n%s ", name);
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    p = strstr(r.body.data, key);
    if (!p)
        fail_msg("no metric %s", name);
    v = strtoull(p + strlen(key), NULL, 10);
    http_client_resp_release(&r);
    return v;
}

/*
 * Large enough that re-hashing both trashed copies takes long after the
 * config was accepted: the request below arrives while the restore runs.
 */
#define RESTORE_LEN (48u * 1024 * 1024)

static void test_agent_trash__issue_bug_d_put_restores(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char hex[SHA256_HEX_LEN + 1], tname[80];
    const char *cfg[1] = {hex};
    char body[64] = "not the artifact: the restored copies answer";
    struct file_arg fa = {f->a, hex, true};
    uint64_t written;
    json_t *v;

    trash_len(f->a, hex, tname, RESTORE_LEN);
    written = metric(f->a, "sledagent_store_bytes_written_total");
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, hex, 3, body,
                                            strlen(body), &r), 200);
    v = http_client_json(&r);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 2);
    json_decref(v);
    http_client_resp_release(&r);
    assert_int_equal(agentproc_count(f->a, hex), 2);
    assert_true(files_are(&fa));
    assert_int_equal(metric(f->a, "sledagent_store_bytes_written_total"),
                     written);
    assert_int_equal(metric(f->a, "sledagent_store_restored_total"), 2);
    f->passed = true;
}

static void test_agent_trash__issue_bug_d_copy_restores(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char hex[SHA256_HEX_LEN + 1], tname[80], url[256];
    const char *cfg[1] = {hex};
    /* nothing listens there: any download attempt would fail (502) */
    const char *body = "{\"depot_base_url\": \"http://127.0.0.1:9\"}";
    struct file_arg fa = {f->a, hex, true};
    uint64_t written, copied;
    json_t *v, *e;
    size_t i;
    bool seen = false;

    trash_len(f->a, hex, tname, RESTORE_LEN);
    written = metric(f->a, "sledagent_store_bytes_written_total");
    copied = metric(f->a, "sledagent_copy_bytes_total");
    assert_int_equal(agentproc_put_config(f->a, 3, cfg, 1), 204);
    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?generation=3",
             agentproc_api_url(f->a), hex);
    assert_int_equal(http_client_send(&r, "POST", url, body, strlen(body)),
                     0);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body.data, "{}");
    http_client_resp_release(&r);
    /* the 202 came once the restore was done */
    assert_int_equal(agentproc_count(f->a, hex), 2);
    assert_true(files_are(&fa));
    snprintf(url, sizeof(url), "%s/copies", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    v = http_client_json(&r);
    json_array_foreach(v, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "sha256")), hex))
            continue;
        seen = true;
        assert_string_equal(json_string_value(json_object_get(e, "state")),
                            "done");
        assert_int_equal(json_integer_value(json_object_get(e, "bytes")), 0);
        assert_string_equal(json_string_value(json_object_get(e, "source")),
                            "http://127.0.0.1:9");
        assert_true(json_is_true(json_object_get(e, "from_trash")));
    }
    assert_true(seen);
    json_decref(v);
    http_client_resp_release(&r);
    assert_int_equal(metric(f->a, "sledagent_copy_bytes_total"), copied);
    assert_int_equal(metric(f->a, "sledagent_store_bytes_written_total"),
                     written);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(
            test_agent_trash__purged_after_retention, agentproc_fixture_setup,
            agentproc_fixture_teardown, (void *)short_retention),
        cmocka_unit_test_setup_teardown(
            test_agent_trash__issue_9_reset_restores,
            agentproc_fixture_setup, agentproc_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_trash__wanted_again_is_restored,
            agentproc_fixture_setup, agentproc_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_trash__issue_bug_d_put_restores,
            agentproc_fixture_setup, agentproc_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_trash__issue_bug_d_copy_restores,
            agentproc_fixture_setup, agentproc_fixture_teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
