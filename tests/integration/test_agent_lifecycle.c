/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of the sledagent's lifecycle (DESIGN.md sections 3 and
 * 9): deletion to trash/ on a config change and restoration from trash
 * when a later config wants the artifact again; the start-up delete
 * reconciler; tmp/ purged at start; clean SIGTERM shutdown; the command
 * line (--help names every contract flag, bad flags exit 2).
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
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static bool in_root(struct agentproc *a, int i, const char *hex)
{
    char *path = agentproc_path(a, i, hex);
    bool r = testutil_exists(path);

    mem_free(path);
    return r;
}

struct file_arg {
    struct agentproc *a;
    const char *hex;
    bool want_present;
};

static bool root_state(void *arg)
{
    struct file_arg *fa = arg;

    return in_root(fa->a, 0, fa->hex) == fa->want_present &&
           in_root(fa->a, 1, fa->hex) == fa->want_present;
}

static long trash_count(struct agentproc *a, int i)
{
    char *path = agentproc_path(a, i, "trash");
    long n = testutil_dir_count(path);

    mem_free(path);
    return n;
}

static void test_agent_lifecycle__delete_then_restore(void **state)
{
    struct agentproc_fixture *f = *state;
    struct file_arg fa;
    struct agenttest_count c;
    struct agenttest_art x, y;
    const char *both[2], *one[1];

    agenttest_art_make(&x, 20000);
    agenttest_art_make(&y, 30000);
    both[0] = x.hex;
    both[1] = y.hex;
    one[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, both, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    /* A config without y: y leaves both dataset roots, the list drops it. */
    assert_int_equal(agentproc_put_config(f->a, 2, one, 1), 204);
    fa.a = f->a;
    fa.hex = y.hex;
    fa.want_present = false;
    if (!testutil_wait_for(root_state, &fa, 20000))
        fail_msg("deleted artifact still in a dataset root after 20 s");
    assert_int_equal(agentproc_count(f->a, y.hex), 0);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_true(in_root(f->a, 0, x.hex) && in_root(f->a, 1, x.hex));
    /* Kept in trash/, not destroyed. */
    assert_true(trash_count(f->a, 0) > 0);
    assert_true(trash_count(f->a, 1) > 0);
    /* A later config wants y again: it comes back without a new PUT. */
    assert_int_equal(agentproc_put_config(f->a, 3, both, 2), 204);
    c.a = f->a;
    c.hex = y.hex;
    c.want = 2;
    if (!testutil_wait_for(agenttest_count_is, &c, 30000))
        fail_msg("artifact not restored from trash after 30 s (count %ld)",
                 agentproc_count(f->a, y.hex));
    fa.want_present = true;
    assert_true(root_state(&fa));
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static void test_agent_lifecycle__startup_reconciler(void **state)
{
    struct agentproc_fixture *f = *state;
    struct file_arg fa;
    struct agenttest_art x, stray;
    const char *one[1];

    agenttest_art_make(&x, 10000);
    agenttest_art_make(&stray, 10000);
    one[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, one, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    /* While stopped, a valid artifact not in the config lands in both roots. */
    for (int i = 0; i < 2; i++) {
        char *path = agentproc_path(f->a, i, stray.hex);

        assert_int_equal(testutil_write_file(path, stray.data, stray.len), 0);
        mem_free(path);
    }
    assert_int_equal(agentproc_start(f->a), 0);
    fa.a = f->a;
    fa.hex = stray.hex;
    fa.want_present = false;
    if (!testutil_wait_for(root_state, &fa, 20000))
        fail_msg("file not in the config still in a dataset root 20 s "
                 "after start");
    assert_int_equal(agentproc_count(f->a, stray.hex), 0);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_true(in_root(f->a, 0, x.hex) && in_root(f->a, 1, x.hex));
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&stray);
    f->passed = true;
}

static void test_agent_lifecycle__tmp_purged_at_start(void **state)
{
    struct agentproc_fixture *f = *state;
    char junk[4096];

    testutil_random(junk, sizeof(junk));
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    for (int i = 0; i < 2; i++) {
        char *dir = agentproc_path(f->a, i, "tmp");
        char *p1, *p2;

        (void)mkdir(dir, 0755);
        p1 = testutil_join(dir, "leftover-1");
        p2 = testutil_join(dir, "0000000000000000000000000000000000000000"
                                "000000000000000000000000.tmp");
        assert_int_equal(testutil_write_file(p1, junk, sizeof(junk)), 0);
        assert_int_equal(testutil_write_file(p2, junk, 100), 0);
        mem_free(p1);
        mem_free(p2);
        mem_free(dir);
    }
    assert_int_equal(agentproc_start(f->a), 0);
    if (!testutil_wait_for(agenttest_tmp_empty, f->a, 20000))
        fail_msg("tmp/ not purged 20 s after start");
    assert_true(agentproc_alive(f->a));
    f->passed = true;
}

static void test_agent_lifecycle__sigterm_exits_0(void **state)
{
    struct agentproc_fixture *f = *state;
    const char *none[1] = {NULL};

    assert_int_equal(agentproc_put_config(f->a, 1, none, 0), 204);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    f->passed = true;
}

static int run_agent(const char *log, const char *const *args)
{
    char *argv[16];
    char *bin = proc_bin_path("sledagent");
    size_t k = 0;
    int code = -1000;

    assert_non_null(bin);
    argv[k++] = bin;
    for (size_t i = 0; args[i] && k < 15; i++)
        argv[k++] = (char *)args[i];
    argv[k] = NULL;
    assert_int_equal(proc_run(&code, bin, argv, log, 30000), 0);
    mem_free(bin);
    return code;
}

static void test_agent_lifecycle__help_and_bad_flags(void **state)
{
    static const char *const flags[] = {
        "--dataset", "--listen", "--depot-listen", "--id", "--replicator",
        "--port-file", "--max-body-bytes", "--quota-bytes", "--reserve-bytes",
        "--trash-retention", "--rate-limit", "--log-level", "--max-writes",
        "--scrub-rate", "--scrub-interval", "--link-rate",
    };
    struct agentproc_fixture *f = *state;
    const char *a = agentproc_dataset(f->a, 0);
    const char *b = agentproc_dataset(f->a, 1);
    const char *help[] = {"--help", NULL};
    const char *bad1[] = {"--no-such-flag", NULL};
    const char *bad2[] = {"--dataset", a, "--dataset", b, "--max-body-bytes",
                          "lots", "--listen", "127.0.0.1:0", "--depot-listen",
                          "127.0.0.1:0", NULL};
    const char *bad3[] = {"--dataset", a, "--dataset", b, "--listen",
                          "not-an-address", "--depot-listen", "127.0.0.1:0",
                          NULL};
    const char *bad4[] = {"--dataset", a, "--dataset", b, "--log-level",
                          "chatty", "--listen", "127.0.0.1:0",
                          "--depot-listen", "127.0.0.1:0", NULL};
    const char *bad5[] = {"--dataset", NULL};
    const char *bad6[] = {"--dataset", a, "--listen", "127.0.0.1:0",
                          "--depot-listen", "127.0.0.1:0", NULL};
    /* neither --tls-* nor --insecure-plaintext (issue 9) */
    const char *bad7[] = {"--dataset", a, "--dataset", b, "--listen",
                          "127.0.0.1:0", "--depot-listen", "127.0.0.1:0",
                          NULL};
    /* a link rate under 1 KiB/s, and not a number (plaintext given, so
     * only the flag is wrong) */
    const char *bad8[] = {"--dataset", a, "--dataset", b, "--listen",
                          "127.0.0.1:0", "--depot-listen", "127.0.0.1:0",
                          "--insecure-plaintext", "--link-rate", "5", NULL};
    const char *bad9[] = {"--dataset", a, "--dataset", b, "--listen",
                          "127.0.0.1:0", "--depot-listen", "127.0.0.1:0",
                          "--insecure-plaintext", "--link-rate", "fast",
                          NULL};
    const char *const *bads[] = {bad1, bad2, bad3, bad4, bad5,
                                 bad6, bad7, bad8, bad9};
    char *log = testutil_join(agentproc_dir(f->a), "help.log");
    char *out = NULL;
    size_t len = 0;

    assert_non_null(log);
    assert_int_equal(run_agent(log, help), 0);
    assert_int_equal(testutil_read_file(&out, &len, log), 0);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (!strstr(out, flags[i]))
            fail_msg("--help does not mention %s:\n%s", flags[i], out);
    }
    mem_free(out);
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        int code = run_agent(log, bads[i]);

        if (code != 2)
            fail_msg("bad command line %zu (%s %s): exit %d, want 2", i,
                     bads[i][0], bads[i][1] ? bads[i][1] : "", code);
    }
    mem_free(log);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_lifecycle__delete_then_restore),
        AGENTTEST(test_agent_lifecycle__startup_reconciler),
        AGENTTEST(test_agent_lifecycle__tmp_purged_at_start),
        AGENTTEST(test_agent_lifecycle__sigterm_exits_0),
        AGENTTEST(test_agent_lifecycle__help_and_bad_flags),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
