/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/store/ledger.c and of how store_open chooses
 * between the two ledger copies: round trip, checksum and shape checks,
 * truncation, highest valid generation wins, a corrupt copy is reported
 * and rewritten, both corrupt -> refused (never "no config"), missing
 * dataset, missing file = no config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/mem.h"
#include "sledagent/store/store_internal.h"
#include "tests/support/testutil.h"
#include "tests/unit/test_store_fixture.h"

static void build(struct artifact_config *cfg, uint64_t gen, int n)
{
    struct sha256 h[8];

    for (int i = 0; i < n; i++)
        sha256_digest(&h[i], &i, sizeof(i));
    assert_int_equal(artifact_config_build(cfg, gen, h, (size_t)n, NULL), 0);
}

/* Write a valid ledger of (gen, n hashes) into dataset d of fx. */
static void seed_ledger(struct fx *fx, int d, uint64_t gen, int n)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    char *tmp = testutil_join(fx->ds[d], "tmp");
    struct err err = ERR_INIT;

    mkdir(tmp, 0755);
    build(&cfg, gen, n);
    assert_int_equal(ledger_write(fx->ds[d], tmp, &cfg, &err), 0);
    artifact_config_release(&cfg);
    mem_free(tmp);
}

static void put_file(struct fx *fx, int d, const char *name, const char *s)
{
    char *p = testutil_join(fx->ds[d], name);

    assert_int_equal(testutil_write_file(p, s, strlen(s)), 0);
    mem_free(p);
}

static enum ledger_status read_ds(struct fx *fx, int d, uint64_t *gen,
                                  struct err *err)
{
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    enum ledger_status st = ledger_read(&cfg, fx->ds[d], err);

    *gen = cfg.generation;
    artifact_config_release(&cfg);
    return st;
}

static void test_ledger__round_trip(void **state)
{
    struct fx *fx = *state;
    struct artifact_config in = ARTIFACT_CONFIG_INIT, out =
        ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    char *path = testutil_join(fx->ds[0], STORE_LEDGER_NAME), *text = NULL;
    char sum[SHA256_HEX_LEN + 1];
    size_t len;

    seed_ledger(fx, 0, 42, 5);
    build(&in, 42, 5);
    assert_int_equal(ledger_read(&out, fx->ds[0], &err), LEDGER_VALID);
    assert_int_equal(out.generation, 42);
    assert_true(artifact_config_same_set(&in, &out));
    assert_int_equal(testutil_read_file(&text, &len, path), 0);
    assert_int_equal(ledger_checksum(sum, &in, &err), 0);
    assert_non_null(strstr(text, sum));
    assert_non_null(strstr(text, "\"checksum\""));
    artifact_config_release(&in);
    artifact_config_release(&out);
    mem_free(text);
    mem_free(path);
}

static void test_ledger__missing_is_no_config(void **state)
{
    struct fx *fx = *state;
    struct err err = ERR_INIT;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    uint64_t gen;

    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_MISSING);
    fx_open(fx);
    assert_int_equal(store_config_get(fx->st, &cfg, &err), ERR_NOTFOUND);
}

static void test_ledger__corrupt_forms(void **state)
{
    struct fx *fx = *state;
    struct err err = ERR_INIT;
    char *path = testutil_join(fx->ds[0], STORE_LEDGER_NAME), *text = NULL;
    size_t len;
    uint64_t gen;

    /* not JSON */
    put_file(fx, 0, STORE_LEDGER_NAME, "{\"generation\": 3, \"arti");
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_CORRUPT);
    /* a plain config without checksum is not accepted either */
    put_file(fx, 0, STORE_LEDGER_NAME, "{\"generation\":3,\"artifacts\":[]}");
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_CORRUPT);
    assert_non_null(strstr(err.msg, "no checksum member"));
    /* valid JSON, edited generation: checksum mismatch */
    seed_ledger(fx, 0, 7, 2);
    assert_int_equal(testutil_read_file(&text, &len, path), 0);
    {
        char *g = strstr(text, "\"generation\":7");

        assert_non_null(g);
        g[strlen("\"generation\":")] = '8';
    }
    assert_int_equal(testutil_write_file(path, text, len), 0);
    err_clear(&err);
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_CORRUPT);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    /* truncated */
    assert_int_equal(testutil_write_file(path, text, len / 2), 0);
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_CORRUPT);
    /* bad shape with a checksum: extra member */
    put_file(fx, 0, STORE_LEDGER_NAME,
             "{\"generation\":1,\"artifacts\":[],\"x\":1,\"checksum\":\"00\"}");
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_CORRUPT);
    mem_free(text);
    mem_free(path);
}

static void test_ledger__highest_valid_wins(void **state)
{
    struct fx *fx = *state;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    uint64_t gen;

    seed_ledger(fx, 0, 3, 1);
    seed_ledger(fx, 1, 7, 2);
    fx_open(fx);
    assert_int_equal(store_config_get(fx->st, &cfg, &err), 0);
    assert_int_equal(cfg.generation, 7);
    assert_int_equal(cfg.count, 2);
    artifact_config_release(&cfg);
    /* the stale copy was rewritten at open */
    assert_int_equal(read_ds(fx, 0, &gen, &err), LEDGER_VALID);
    assert_int_equal(gen, 7);
}

static void test_ledger__one_corrupt_other_wins(void **state)
{
    struct fx *fx = *state;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT;
    char *aside = testutil_join(fx->ds[1], STORE_LEDGER_NAME ".corrupt");
    uint64_t gen;

    seed_ledger(fx, 0, 9, 3);
    put_file(fx, 1, STORE_LEDGER_NAME, "garbage");
    fx_open(fx);
    assert_int_equal(store_config_get(fx->st, &cfg, &err), 0);
    assert_int_equal(cfg.generation, 9);
    artifact_config_release(&cfg);
    assert_int_equal(store_metrics(fx->st, &b), 0);
    assert_non_null(strstr(b.data, "sledagent_store_ledger_corrupt_total 1\n"));
    /* reported copy set aside for the operator and rewritten */
    assert_true(testutil_exists(aside));
    assert_int_equal(read_ds(fx, 1, &gen, &err), LEDGER_VALID);
    assert_int_equal(gen, 9);
    buf_release(&b);
    mem_free(aside);
}

static void test_ledger__both_corrupt_refused(void **state)
{
    struct fx *fx = *state;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;
    struct sha256 h;
    json_t *list = NULL;
    struct store_write *w = NULL;

    put_file(fx, 0, STORE_LEDGER_NAME, "{");
    put_file(fx, 1, STORE_LEDGER_NAME, "{\"generation\":1}");
    fx_open(fx);
    /* never read as "no config" (404) */
    assert_int_equal(store_config_get(fx->st, &cfg, &err), ERR_UNAVAIL);
    assert_non_null(strstr(err.msg, "ledger corrupt"));
    assert_int_equal(store_list(fx->st, &list, &err), ERR_UNAVAIL);
    sha256_digest(&h, "x", 1);
    assert_int_equal(store_write_begin(fx->st, &w, &h, 1, 1, &err),
                     ERR_UNAVAIL);
    /* nor can any generation be pushed over it */
    err_clear(&err);
    assert_int_equal(put_config(fx, 1000, &h, 1, &err), ERR_UNAVAIL);
    assert_non_null(strstr(err.msg, "ledger corrupt"));
    assert_int_equal(err_http_status(ERR_UNAVAIL), 503);
}

static void test_ledger__missing_dataset(void **state)
{
    struct fx *fx = *state;
    struct artifact_config cfg = ARTIFACT_CONFIG_INIT;
    struct err err = ERR_INIT;

    seed_ledger(fx, 0, 4, 1);
    fx->opts.dataset[1] = "/nonexistent/rd-ledger-b";
    fx_open(fx);
    assert_int_equal(store_datasets(fx->st), 1);
    assert_int_equal(store_config_get(fx->st, &cfg, &err), 0);
    assert_int_equal(cfg.generation, 4);
    artifact_config_release(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
        T(test_ledger__round_trip),
        T(test_ledger__missing_is_no_config),
        T(test_ledger__corrupt_forms),
        T(test_ledger__highest_valid_wins),
        T(test_ledger__one_corrupt_other_wins),
        T(test_ledger__both_corrupt_refused),
        T(test_ledger__missing_dataset),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
