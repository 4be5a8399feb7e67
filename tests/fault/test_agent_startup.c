/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Start-up fault tests of the sledagent with its default flags:
 * - startup_rehash: DESIGN.md section 3 says stored files are re-hashed
 *   "at start-up and then continuously at a bounded rate", so a copy
 *   corrupted while the agent was down is found and repaired at start.
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

static void flip_byte(const char *path, off_t at)
{
    unsigned char c;
    int fd = open(path, O_RDWR);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    assert_int_equal(fsync(fd), 0);
    close(fd);
}

/* Both datasets hold hex with exactly that hash. */
static bool both_good(void *arg)
{
    struct list_arg *l = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(l->a, i, l->hex);
        struct hash_arg h = {p, l->hex};
        bool ok = file_has_hash(&h);

        mem_free(p);
        if (!ok)
            return false;
    }
    return list_is(l);
}

static void test_agent_startup__startup_rehash(void **state)
{
    struct agentproc_fixture *f = *state;
    struct list_arg l;
    struct art x, y;
    const char *cfg[2];
    char *p;

    art_make(&x, 100000);
    art_make(&y, 100000);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    p = agentproc_path(f->a, 1, x.hex);
    assert_int_equal(unlink(p), 0);
    mem_free(p);
    p = agentproc_path(f->a, 0, y.hex);
    flip_byte(p, 4242);
    mem_free(p);
    assert_int_equal(agentproc_start(f->a), 0);
    l.a = f->a;
    l.count = 2;
    l.datasets = 2;
    l.hex = x.hex;
    if (!testutil_wait_for(both_good, &l, 30000))
        fail_msg("copy missing on B not restored within 30 s of start");
    l.hex = y.hex;
    if (!testutil_wait_for(both_good, &l, 30000))
        fail_msg("corrupt copy on A not repaired within 30 s of start");
    assert_invariant(f->a);
    art_free(&x);
    art_free(&y);
    f->passed = true;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, agentproc_fixture_setup, \
                                              agentproc_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_agent_startup__startup_rehash),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
