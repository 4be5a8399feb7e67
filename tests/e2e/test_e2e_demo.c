/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_demo: the project's main job as a test. Runs `rack-sim demo`
 * at a small size (8 sleds, 3 artifacts of 1 MiB per repository, so it
 * stays quick under ASan on 2 cores) and asserts exit 0, the summary's
 * lines, and that the demo left no process and no directory behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "sim/rack_pki.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static void test_e2e_demo__small_demo_converges(void **state)
{
    char *bin = proc_bin_path("rack-sim"), *tmp = NULL, *log = NULL;
    char *out = NULL, env[PATH_MAX + 16], *rackdir;
    size_t len = 0;
    int code = -1;

    (void)state;
    assert_non_null(bin);
    assert_int_equal(testutil_tmpdir(&tmp, "e2e-demo"), 0);
    assert_int_equal(chmod(tmp, 0755), 0); /* postgres must reach D/pg */
    log = testutil_join(tmp, "demo.out");
    /* The demo makes its rack under $TMPDIR: keep it inside our dir. */
    snprintf(env, sizeof(env), "%s", tmp);
    setenv("TMPDIR", env, 1);
    {
        char *argv[] = {bin, "demo", "--sleds", "8", "--demo-size-mib", "3",
                        "--demo-artifacts", "3", NULL};

        assert_int_equal(proc_run(&code, bin, argv, log, 240000), 0);
    }
    assert_int_equal(testutil_read_file(&out, &len, log), 0);
    if (code != 0)
        fail_msg("rack-sim demo exited %d:\n%s", code, out);
    /* It says its mode, rack-sim's default, and its network (loopback,
     * the default) on the first line. */
    assert_non_null(strstr(out, RACK_TLS_DEFAULT
                                    ? "mutual TLS (--tls), loopback\n"
                                    : "plaintext (--insecure-plaintext), "
                                      "loopback\n"));
    /* and the status page's URL */
    assert_non_null(strstr(out, "status page: http://127.0.0.1:"));
    assert_non_null(strstr(out, "== summary =="));
    /* what the depots served was copied (swarm copies count their bytes) */
    {
        const char *l = strstr(out, "sled -> sled (depot):");
        unsigned long long served = 0, copied = 0;

        assert_non_null(l);
        assert_int_equal(sscanf(l, "sled -> sled (depot): %llu MiB served, "
                                   "%llu MiB copied", &served, &copied), 2);
        assert_true(served > 0);
        assert_true(copied > 0);
    }
    assert_non_null(strstr(out, "upload 1.0.0"));
    assert_non_null(strstr(out, "prune 1.0.0"));
    assert_non_null(strstr(out, "no sled generation decreased: ok"));
    assert_non_null(strstr(out, "rack-sim demo: OK"));
    /* The rack directory (named on the second line) is gone. */
    rackdir = strstr(out, "rack directory: ");
    assert_non_null(rackdir);
    rackdir += strlen("rack directory: ");
    *strchr(rackdir, '\n') = '\0';
    assert_false(testutil_exists(rackdir));
    mem_free(out);
    mem_free(log);
    testutil_rmrf(tmp);
    mem_free(tmp);
    mem_free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_demo__small_demo_converges),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
