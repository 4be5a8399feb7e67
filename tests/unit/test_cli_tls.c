/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Tests of the CLI's TLS settings (replicator/cli_tls.c and the global
 * flags of cli.c): a flag wins over its RACKDEPOT_TLS_* variable, file by
 * file; all three or none; and the `replicator` binary says clearly which
 * TLS file is missing, and refuses http:// with TLS, before sending
 * anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/err.h"
#include "replicator/cli.h"
#include "replicator/cli_tls.h"

static void test_cli_tls__flag_wins_over_env(void **state)
{
    const char *flags[CLI_TLS_N] = {"f-ca", NULL, ""};
    const char *env[CLI_TLS_N] = {"e-ca", "e-cert", "e-key"};
    struct cli c = {NULL, false, NULL, NULL, NULL};
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(cli_tls_resolve(&c, flags, env, &e), 0);
    assert_string_equal(c.tls_ca, "f-ca");
    assert_string_equal(c.tls_cert, "e-cert");
    assert_string_equal(c.tls_key, "e-key");
}

static void test_cli_tls__all_or_none(void **state)
{
    const char *none[CLI_TLS_N] = {NULL, NULL, NULL};
    const char *empty[CLI_TLS_N] = {"", "", ""};
    const char *two[CLI_TLS_N] = {"ca", "cert", NULL};
    struct cli c = {NULL, false, NULL, NULL, NULL};
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(cli_tls_resolve(&c, none, empty, &e), 0);
    assert_null(c.tls_cert);
    assert_int_equal(cli_tls_resolve(&c, two, none, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "--tls-key (or RACKDEPOT_TLS_KEY) is not "
                                  "set"));
    assert_int_equal(cli_tls_resolve(&c, none, two, &e), ERR_INVAL);
}

/* Run the binary with a shell line; its exit code, output in out. */
static int run(char *out, size_t cap, const char *line)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    /* the line may set variables itself: they come after env -u */
    snprintf(cmd, sizeof(cmd), "cd /tmp && env -u RACKDEPOT_TLS_CA -u "
             "RACKDEPOT_TLS_CERT -u RACKDEPOT_TLS_KEY %s 2>&1", line);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_tls__binary_errors(void **state)
{
    const char *bin = getenv("RACKDEPOT_BIN_DIR");
    char out[2048], line[512];

    (void)state;
    assert_non_null(bin);
    /* env gives all three; the flag's CA replaces the env's, and is the
     * missing file named */
    snprintf(line, sizeof(line), "RACKDEPOT_TLS_CA=/nonexistent/env-ca.pem "
             "RACKDEPOT_TLS_CERT=/nonexistent/c.pem "
             "RACKDEPOT_TLS_KEY=/nonexistent/k.pem %s/replicator "
             "--tls-ca /nonexistent/flag-ca.pem --url https://127.0.0.1:1 "
             "status", bin);
    assert_int_equal(run(out, sizeof(out), line), CLI_EXIT_FAILED);
    assert_non_null(strstr(out, "/nonexistent/flag-ca.pem"));
    assert_null(strstr(out, "env-ca.pem"));
    snprintf(line, sizeof(line), "RACKDEPOT_TLS_CA=/x %s/replicator status",
             bin);
    assert_int_equal(run(out, sizeof(out), line), CLI_EXIT_USAGE);
    assert_non_null(strstr(out, "RACKDEPOT_TLS_CERT"));
    snprintf(line, sizeof(line), "%s/replicator --tls-ca /x --tls-cert /y "
             "--tls-key /z --url http://127.0.0.1:1 status", bin);
    assert_int_equal(run(out, sizeof(out), line), CLI_EXIT_FAILED);
    assert_non_null(strstr(out, "only https:// URLs with TLS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_tls__flag_wins_over_env),
        cmocka_unit_test(test_cli_tls__all_or_none),
        cmocka_unit_test(test_cli_tls__binary_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
