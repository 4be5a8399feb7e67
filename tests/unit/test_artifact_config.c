/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for common/artifact_config: parse, serialise, set semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/artifact_config.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static int parse(struct artifact_config *c, const char *s, struct err *e)
{
    return artifact_config_parse(c, s, strlen(s), e);
}

static void test_artifact_config__roundtrip(void **state)
{
    struct artifact_config c = ARTIFACT_CONFIG_INIT, d = ARTIFACT_CONFIG_INIT;
    struct err e = ERR_INIT;
    struct sha256 h;
    json_t *j;
    char *s;

    (void)state;
    assert_int_equal(parse(&c, "{\"generation\":7,\"artifacts\":[\"" H3
                               "\",\"" H1 "\"]}", &e), 0);
    assert_int_equal(c.generation, 7);
    assert_int_equal(c.count, 2);
    sha256_from_hex(&h, H1);
    assert_true(artifact_config_contains(&c, &h));
    sha256_from_hex(&h, H2);
    assert_false(artifact_config_contains(&c, &h));
    j = artifact_config_to_json(&c);
    s = jsonu_dumps(j);
    /* serialised sorted */
    assert_string_equal(s, "{\"generation\":7,\"artifacts\":[\"" H1 "\",\"" H3
                           "\"]}");
    assert_int_equal(parse(&d, s, &e), 0);
    assert_true(artifact_config_same_set(&c, &d));
    mem_free(s);
    json_decref(j);
    artifact_config_release(&c);
    artifact_config_release(&d);
}

static void test_artifact_config__empty(void **state)
{
    struct artifact_config c = ARTIFACT_CONFIG_INIT, d = ARTIFACT_CONFIG_INIT;
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(parse(&c, "{\"generation\":0,\"artifacts\":[]}", &e), 0);
    assert_int_equal(c.count, 0);
    assert_int_equal(artifact_config_copy(&d, &c), 0);
    assert_true(artifact_config_same_set(&c, &d));
    artifact_config_release(&c);
    artifact_config_release(&d);
}

static void expect_bad(const char *s, int code, const char *needle)
{
    struct artifact_config c = ARTIFACT_CONFIG_INIT;
    struct err e = ERR_INIT;

    assert_int_equal(parse(&c, s, &e), code);
    assert_int_equal(e.code, code);
    if (needle && !strstr(e.msg, needle))
        fail_msg("message '%s' lacks '%s'", e.msg, needle);
    assert_null(c.hashes);
}

static void test_artifact_config__bad_inputs(void **state)
{
    (void)state;
    expect_bad("not json", ERR_INVAL, "invalid JSON");
    expect_bad("[]", ERR_INVAL, "object");
    expect_bad("{\"artifacts\":[]}", ERR_INVAL, "generation");
    expect_bad("{\"generation\":-1,\"artifacts\":[]}", ERR_INVAL, "generation");
    expect_bad("{\"generation\":1.5,\"artifacts\":[]}", ERR_INVAL, "generation");
    expect_bad("{\"generation\":\"3\",\"artifacts\":[]}", ERR_INVAL,
               "generation");
    expect_bad("{\"generation\":99999999999999999999999,\"artifacts\":[]}",
               ERR_INVAL, NULL);
    expect_bad("{\"generation\":1}", ERR_INVAL, "artifacts");
    expect_bad("{\"generation\":1,\"artifacts\":{}}", ERR_INVAL, "artifacts");
    expect_bad("{\"generation\":1,\"artifacts\":[\"" H1 "\",\"" H1 "\"]}",
               ERR_INVAL, "duplicate");
    expect_bad("{\"generation\":1,\"artifacts\":[\"abc\"]}", ERR_INVAL,
               "artifacts[0]");
    expect_bad("{\"generation\":1,\"artifacts\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAA"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}",
               ERR_INVAL, "lowercase");
    expect_bad("{\"generation\":1,\"artifacts\":[7]}", ERR_INVAL, "sha256");
    expect_bad("{\"generation\":1,\"artifacts\":[],\"extra\":1}", ERR_INVAL,
               "unknown");
    expect_bad("{\"generation\":1,\"generation\":2,\"artifacts\":[]}",
               ERR_INVAL, "duplicate");
}

static void test_artifact_config__nomem(void **state)
{
    /* Every allocation failing in turn gives ERR_NOMEM or success, no leak. */
    const char *doc = "{\"generation\":3,\"artifacts\":[\"" H1 "\",\"" H2 "\"]}";

    (void)state;
    for (long n = 0; n < 64; n++) {
        struct artifact_config c = ARTIFACT_CONFIG_INIT;
        struct err e = ERR_INIT;
        int rc;

        mem__fail_after(n, true);
        rc = parse(&c, doc, &e);
        mem__fail_after(-1, false);
        if (rc == 0) {
            assert_int_equal(c.count, 2);
            artifact_config_release(&c);
            return;
        }
        /* jansson is outside injection (mem_init): only ours can fail. */
        if (rc != ERR_NOMEM)
            fail_msg("n=%ld rc=%d %s", n, rc, e.msg);
        assert_int_equal(e.code, rc);
    }
    fail_msg("parse never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_artifact_config__roundtrip),
        cmocka_unit_test(test_artifact_config__empty),
        cmocka_unit_test(test_artifact_config__bad_inputs),
        cmocka_unit_test(test_artifact_config__nomem),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
