/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Fault tests of the sledagent's datasets (DESIGN.md section 3): a dataset
 * removed at run time (degraded service, then repair when it comes back),
 * a stored file corrupted in place (found by the scrubber, repaired from
 * the other dataset, counted in the metrics), and a corrupt ledger on one
 * dataset (the other copy wins) and on both (503, never "no config").
 * Every test ends by checking DESIGN.md invariant 2 on both datasets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define LEDGER "artifact-config.json"

struct art {
    char *data;
    size_t len;
    char hex[SHA256_HEX_LEN + 1];
};

static void art_make(struct art *x, size_t len)
{
    x->data = mem_alloc(len ? len : 1);
    assert_non_null(x->data);
    x->len = len;
    testutil_random(x->data, len);
    testutil_sha256_hex(x->hex, x->data, len);
}

static void art_free(struct art *x)
{
    mem_free(x->data);
}

static void assert_invariant(struct agentproc *a)
{
    struct err e = ERR_INIT;

    if (agentproc_check_files(a, NULL, &e) < 0)
        fail_msg("invariant 2: %s", e.msg);
}

struct list_arg {
    struct agentproc *a;
    const char *hex;
    long count;
    long datasets; /* -1: any */
};

static bool list_is(void *arg)
{
    struct list_arg *l = arg;
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

static const char *const args_fast_scrub[] = {
    "--scrub-interval", "1", "--scrub-rate", "1000000000", NULL};

static void test_agent_dataset__removed_then_repaired(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct list_arg l;
    struct art x, y;
    const char *cfg[2];
    json_t *v;

    art_make(&x, 200000);
    art_make(&y, 150000);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* Dataset A disappears under the running agent. */
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 0)), 0);
    l.a = f->a;
    l.hex = x.hex;
    l.count = 1;
    l.datasets = 1;
    if (!testutil_wait_for(list_is, &l, 30000))
        fail_msg("agent did not report datasets 1 / count 1 within 30 s");
    /* Still serving with one dataset. */
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            &r), 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "datasets")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(v, "successful_writes")), 1);
    json_decref(v);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    assert_true(agentproc_alive(f->a));
    /* The directory comes back (empty): both artifacts are repaired. */
    assert_int_equal(mkdir(agentproc_dataset(f->a, 0), 0755), 0);
    l.count = 2;
    l.datasets = 2;
    if (!testutil_wait_for(list_is, &l, 60000))
        fail_msg("x not back to 2 copies within 60 s");
    l.hex = y.hex;
    if (!testutil_wait_for(list_is, &l, 60000))
        fail_msg("y not back to 2 copies within 60 s");
    for (int i = 0; i < 2; i++) {
        char *px = agentproc_path(f->a, i, x.hex);
        char *py = agentproc_path(f->a, i, y.hex);

        assert_true(testutil_exists(px));
        assert_true(testutil_exists(py));
        mem_free(px);
        mem_free(py);
    }
    assert_invariant(f->a);
    http_client_resp_release(&r);
    art_free(&x);
    art_free(&y);
    f->passed = true;
}

struct hash_arg {
    const char *path;
    const char *hex;
};

static bool file_has_hash(void *arg)
{
    struct hash_arg *h = arg;
    struct sha256 got;
    char hex[SHA256_HEX_LEN + 1];

    if (testutil_sha256_file(&got, h->path) < 0)
        return false;
    sha256_to_hex(hex, &got);
    return !strcmp(hex, h->hex);
}

/* Largest value of a non-comment metric line whose name has word. */
static double metric_max(const char *text, const char *word)
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
                if (strstr(line, word)) {
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

static void test_agent_dataset__corruption_scrubbed(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct hash_arg h;
    struct list_arg l;
    const char *cfg[1];
    char *path, url[128];
    struct art x;
    unsigned char c;
    int fd;

    art_make(&x, 1024 * 1024);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* Flip one byte in place on dataset A (same inode, same size). */
    path = agentproc_path(f->a, 0, x.hex);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, 500000), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, 500000), 1);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    h.path = path;
    h.hex = x.hex;
    assert_false(file_has_hash(&h));
    if (!testutil_wait_for(file_has_hash, &h, 60000))
        fail_msg("corrupt copy on A not repaired within 60 s");
    l.a = f->a;
    l.hex = x.hex;
    l.count = 2;
    l.datasets = 2;
    assert_true(testutil_wait_for(list_is, &l, 30000));
    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(r.body.data);
    if (metric_max(r.body.data, "corrupt") < 1.0)
        fail_msg("no corruption metric >= 1 in:\n%s", r.body.data);
    assert_invariant(f->a);
    http_client_resp_release(&r);
    mem_free(path);
    art_free(&x);
    f->passed = true;
}

/*
 * Damage the ledger at path: if a "generation" number is found, change its
 * last digit (a well-formed but wrong document); otherwise flip a byte in
 * the middle. A checksummed ledger must reject both.
 */
static void damage_ledger(const char *path, bool truncate_half)
{
    char *data = NULL;
    size_t len = 0;
    char *g;

    assert_int_equal(testutil_read_file(&data, &len, path), 0);
    assert_true(len > 0);
    if (truncate_half) {
        assert_int_equal(testutil_write_file(path, data, len / 2), 0);
        mem_free(data);
        return;
    }
    g = strstr(data, "\"generation\"");
    if (g) {
        char *d = g + strlen("\"generation\"");

        while (*d && (*d < '0' || *d > '9'))
            d++;
        while (d[1] >= '0' && d[1] <= '9')
            d++;
        assert_true(*d >= '0' && *d <= '9');
        *d = *d == '0' ? '1' : (char)(*d - 1);
    } else {
        data[len / 2] ^= 0x20;
    }
    assert_int_equal(testutil_write_file(path, data, len), 0);
    mem_free(data);
}

static long get_config(struct agentproc *a, json_t **out)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    long st = -1;

    *out = NULL;
    snprintf(url, sizeof(url), "%s/artifacts-config", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0) {
        st = r.status;
        if (st == 200)
            *out = http_client_json(&r);
    }
    http_client_resp_release(&r);
    return st;
}

static void test_agent_dataset__ledger_corrupt(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *cfg[1];
    char *la, *lb;
    struct art x;
    json_t *v;
    long st;

    art_make(&x, 5000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 4, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 4, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    la = agentproc_path(f->a, 0, LEDGER);
    lb = agentproc_path(f->a, 1, LEDGER);
    assert_true(testutil_exists(la) && testutil_exists(lb));

    /* One copy damaged: the other wins, nothing is lost. */
    damage_ledger(la, false);
    assert_int_equal(agentproc_start(f->a), 0);
    assert_int_equal(get_config(f->a, &v), 200);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")), 4);
    json_decref(v);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_put_config(f->a, 3, NULL, 0), 409);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);

    /* Both damaged: not "no config"; config-dependent requests are 503. */
    damage_ledger(la, false);
    damage_ledger(lb, true);
    assert_int_equal(agentproc_start(f->a), 0);
    st = get_config(f->a, &v);
    json_decref(v);
    if (st != 503)
        fail_msg("GET /artifacts-config with both ledgers corrupt: %ld, "
                 "want 503", st);
    v = NULL;
    assert_int_equal(agentproc_list(f->a, &v), 503);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 4, x.data, x.len,
                                            &r), 503);
    /* An older config is never accepted as if the node were fresh. */
    st = agentproc_put_config(f->a, 1, NULL, 0);
    if (st == 204)
        fail_msg("config generation 1 accepted over a corrupt ledger of 4");
    st = agentproc_put_config(f->a, 3, cfg, 1);
    if (st == 204)
        fail_msg("config generation 3 accepted over a corrupt ledger of 4");
    /* And nothing was deleted as if the config were empty. */
    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, x.hex);

        if (!testutil_exists(p))
            fail_msg("%s removed while the ledger was unreadable", p);
        mem_free(p);
    }
    assert_true(agentproc_alive(f->a));
    assert_invariant(f->a);
    http_client_resp_release(&r);
    mem_free(la);
    mem_free(lb);
    art_free(&x);
    f->passed = true;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, agentproc_fixture_setup, \
                                              agentproc_fixture_teardown)
#define TA(fn, args)                                                       \
    cmocka_unit_test_prestate_setup_teardown(fn, agentproc_fixture_setup,  \
                                             agentproc_fixture_teardown,   \
                                             (void *)(args))

int main(void)
{
    const struct CMUnitTest tests[] = {
        TA(test_agent_dataset__removed_then_repaired, args_fast_scrub),
        TA(test_agent_dataset__corruption_scrubbed, args_fast_scrub),
        T(test_agent_dataset__ledger_corrupt),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
