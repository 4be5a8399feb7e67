/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Start-up fault tests of the sledagent with its default flags:
 * - startup_rehash: DESIGN.md section 3 says stored files are re-hashed
 *   "at start-up and then continuously at a bounded rate", so a copy
 *   corrupted while the agent was down is found and repaired at start.
 * - no_dataset_refuses, allow_degraded_start, one_dataset_degraded
 *   (issue 15): with no usable dataset the agent exits 1 naming each
 *   one and why, unless --allow-degraded-start (then it serves, with
 *   "datasets":0); with one usable it starts and logs degraded_start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

/* Both datasets hold hex with exactly that hash. */
static bool both_good(void *arg)
{
    struct agenttest_list *l = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(l->a, i, l->hex);
        struct agenttest_hash h = {p, l->hex};
        bool ok = agenttest_file_has_hash(&h);

        mem_free(p);
        if (!ok)
            return false;
    }
    return agenttest_list_is(l);
}

static void test_agent_startup__startup_rehash(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_list l;
    struct agenttest_art x, y;
    const char *cfg[2];
    char *p;

    agenttest_art_make(&x, 100000);
    agenttest_art_make(&y, 100000);
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
    agenttest_flip_byte(p, 4242, 0x01);
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
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

/* True when the text of file path contains needle. */
static bool log_has(const char *path, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    bool found;

    if (testutil_read_file(&text, &len, path) < 0)
        return false;
    found = strstr(text, needle) != NULL;
    mem_free(text);
    return found;
}

/* GET /artifacts reports this many datasets (a config is needed). */
static bool has_datasets(void *arg)
{
    struct agenttest_list *l = arg;
    json_t *v = NULL;
    bool ok;

    if (agentproc_list(l->a, &v) != 200)
        return false;
    ok = json_integer_value(json_object_get(v, "datasets")) ==
         (json_int_t)l->datasets;
    json_decref(v);
    return ok;
}

/* GET /artifacts answers 503: serving, with no dataset to serve from. */
static bool answers_503(void *arg)
{
    json_t *v = NULL;

    return agentproc_list(arg, &v) == 503;
}

/* An empty config of generation 1 is accepted (204). */
static bool config_taken(void *arg)
{
    const char *none[1] = {NULL};

    return agentproc_put_config(arg, 1, none, 0) == 204;
}

static void test_agent_startup__no_dataset_refuses(void **state)
{
    struct agentproc_fixture *f = *state;
    const char *a = agentproc_dataset(f->a, 0);
    const char *b = agentproc_dataset(f->a, 1);
    char *log = testutil_join(agentproc_dir(f->a), "refused.log");
    char *bin = proc_bin_path("sledagent");
    char *argv[] = {bin, "--dataset", (char *)a, "--dataset", (char *)b,
                    "--listen", "127.0.0.1:0", "--depot-listen",
                    "127.0.0.1:0", "--insecure-plaintext", NULL};
    char want[PATH_MAX + 64];
    struct stat st;
    int code = -1000;

    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    /* A is missing; B is a regular file, not a directory. */
    assert_int_equal(testutil_rmrf(a), 0);
    assert_int_equal(testutil_rmrf(b), 0);
    assert_int_equal(testutil_write_file(b, "x", 1), 0);
    assert_int_equal(proc_run(&code, bin, argv, log, 30000), 0);
    assert_int_equal(code, 1);
    snprintf(want, sizeof(want), "dataset %s: does not exist", a);
    assert_true(log_has(log, want));
    snprintf(want, sizeof(want), "dataset %s: is not a directory", b);
    assert_true(log_has(log, want));
    assert_true(log_has(log, "--allow-degraded-start"));
    /* Nothing was created or changed in their place. */
    assert_false(testutil_exists(a));
    assert_int_equal(stat(b, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 1);
    assert_int_equal(unlink(b), 0);
    mem_free(bin);
    mem_free(log);
    f->passed = true;
}

static void test_agent_startup__allow_degraded_start(void **state)
{
    static const char *const flag[] = {"--allow-degraded-start", NULL};
    struct agentproc_fixture *f = *state;
    struct agenttest_list l = {0};

    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 0)), 0);
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 1)), 0);
    assert_int_equal(agentproc_set_args(f->a, flag), 0);
    assert_int_equal(agentproc_start(f->a), 0);
    if (!testutil_wait_for(answers_503, f->a, 30000))
        fail_msg("degraded agent did not answer 503 within 30 s");
    assert_false(config_taken(f->a));
    assert_true(log_has(agentproc_log_path(f->a), "\"degraded_start\""));
    assert_true(log_has(agentproc_log_path(f->a), "\"usable\":0"));
    /* A dataset that comes back is taken into use. */
    assert_int_equal(mkdir(agentproc_dataset(f->a, 0), 0755), 0);
    if (!testutil_wait_for(config_taken, f->a, 60000))
        fail_msg("dataset A created after start: no config put in 60 s");
    l.a = f->a;
    l.datasets = 1;
    if (!testutil_wait_for(has_datasets, &l, 60000))
        fail_msg("dataset A created after start not in use within 60 s");
    assert_true(agentproc_alive(f->a));
    f->passed = true;
}

static void test_agent_startup__one_dataset_degraded(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_list l = {0};

    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(testutil_rmrf(agentproc_dataset(f->a, 1)), 0);
    assert_int_equal(agentproc_start(f->a), 0);
    assert_true(config_taken(f->a));
    l.a = f->a;
    l.datasets = 1;
    if (!testutil_wait_for(has_datasets, &l, 30000))
        fail_msg("agent on one dataset did not report datasets 1");
    assert_true(log_has(agentproc_log_path(f->a), "\"degraded_start\""));
    assert_true(log_has(agentproc_log_path(f->a), "\"usable\":1"));
    assert_true(log_has(agentproc_log_path(f->a), "\"reason\":\"does not "
                                                   "exist\""));
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_startup__startup_rehash),
        AGENTTEST(test_agent_startup__no_dataset_refuses),
        AGENTTEST(test_agent_startup__allow_degraded_start),
        AGENTTEST(test_agent_startup__one_dataset_degraded),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
