/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of replicator/config.c: `replicator serve` settings from flags
 * and a JSON config file (defaults, flags over the file, ranges, errors).
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

#include "common/err.h"
#include "common/mem.h"
#include "replicator/config.h"

static char cfgpath[64];

static void write_cfg(const char *text)
{
    FILE *f = fopen(cfgpath, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int parse(struct config *c, struct err *e, char **argv)
{
    int argc = 0;

    while (argv[argc])
        argc++;
    return config_parse(c, argc, argv, e);
}

static void test_config__defaults(void **state)
{
    struct config c;
    struct err e = ERR_INIT;
    char *argv[] = {"serve", "--db", "D", "--staging", "S", NULL};

    (void)state;
    assert_int_equal(parse(&c, &e, argv), 0);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, CONFIG_DEFAULT_PORT);
    assert_int_equal(c.period_secs, 300);
    assert_true(c.periodic);
    assert_int_equal(c.min_sled_replication, 3);
    assert_int_equal(c.max_inflight, 0); /* automatic */
    assert_int_equal(c.put_fanout, 1);
    assert_int_equal(c.max_per_target, 2);
    assert_int_equal(c.max_per_source, 2);
    assert_int_equal(c.max_copies_per_source, 2);
    assert_int_equal(c.rate_limit, 0);
    assert_int_equal(c.stuck_after_secs, 1200);
    assert_int_equal(c.prune_keep, 3);
    config_release(&c);
}

static void test_config__file_then_flags(void **state)
{
    struct config c;
    struct err e = ERR_INIT;
    char *argv[] = {"serve", "--config", cfgpath, "--max-per-source", "5",
                    "--no-periodic", NULL};

    (void)state;
    write_cfg("{\"db\": \"D\", \"staging\": \"S\", \"listen\": \"0.0.0.0:0\","
              " \"period_secs\": 60, \"max_per_source\": 3,"
              " \"max_copies_per_source\": 4, \"rate_limit\": 1048576,"
              " \"min_sled_replication\": 5, \"periodic\": true,"
              " \"put_fanout\": 4, \"stuck_after_secs\": 90,"
              " \"prune_keep\": 7}");
    assert_int_equal(parse(&c, &e, argv), 0);
    assert_string_equal(c.db, "D");
    assert_int_equal(c.listen_port, 0);
    assert_int_equal(c.period_secs, 60);
    assert_int_equal(c.max_per_source, 5); /* the flag wins */
    assert_int_equal(c.max_copies_per_source, 4);
    assert_int_equal(c.rate_limit, 1048576);
    assert_int_equal(c.min_sled_replication, 5);
    assert_int_equal(c.put_fanout, 4);
    assert_int_equal(c.stuck_after_secs, 90);
    assert_int_equal(c.prune_keep, 7);
    assert_false(c.periodic);
    config_release(&c);
}

static void test_config__bad_values(void **state)
{
    struct config c;
    struct err e = ERR_INIT;
    char *zero[] = {"serve", "--db", "D", "--staging", "S",
                    "--max-per-target", "0", NULL};
    char *word[] = {"serve", "--db", "D", "--staging", "S", "--period", "soon",
                    NULL};
    char *unknown[] = {"serve", "--db", "D", "--staging", "S", "--bogus", "1",
                       NULL};
    char *nodb[] = {"serve", "--staging", "S", NULL};
    char *fanout[] = {"serve", "--db", "D", "--staging", "S", "--put-fanout",
                      "4", NULL};
    char *fanout0[] = {"serve", "--db", "D", "--staging", "S",
                       "--put-fanout", "0", NULL};
    char *fanout_ok[] = {"serve", "--db", "D", "--staging", "S",
                         "--put-fanout", "3", "--max-requests-in-flight",
                         "5", NULL};
    char *file[] = {"serve", "--db", "D", "--staging", "S", "--config",
                    cfgpath, NULL};

    (void)state;
    assert_int_equal(parse(&c, &e, zero), ERR_INVAL);
    assert_string_equal(e.msg,
                        "--max-per-target 0: expected an integer in 1..64");
    config_release(&c);
    assert_int_equal(parse(&c, &e, word), ERR_INVAL);
    assert_non_null(strstr(e.msg, "--period soon"));
    config_release(&c);
    assert_int_equal(parse(&c, &e, unknown), ERR_INVAL);
    assert_string_equal(e.msg, "--bogus: unknown flag");
    config_release(&c);
    assert_int_equal(parse(&c, &e, nodb), ERR_INVAL);
    assert_string_equal(e.msg, "--db URL is required");
    config_release(&c);
    /* put_fanout: 1..min_sled_replication (3 by default) */
    assert_int_equal(parse(&c, &e, fanout), ERR_INVAL);
    assert_string_equal(e.msg, "--put-fanout 4: must be at most "
                               "--min-sled-replication (3)");
    config_release(&c);
    assert_int_equal(parse(&c, &e, fanout0), ERR_INVAL);
    assert_non_null(strstr(e.msg, "--put-fanout 0"));
    config_release(&c);
    assert_int_equal(parse(&c, &e, fanout_ok), 0);
    assert_int_equal(c.put_fanout, 3);
    assert_int_equal(c.max_inflight, 5); /* explicit: kept */
    config_release(&c);
    /* issue 12: --stuck-after 1..one year */
    {
        char *st0[] = {"serve", "--db", "D", "--staging", "S",
                       "--stuck-after", "0", NULL};
        char *stw[] = {"serve", "--db", "D", "--staging", "S",
                       "--stuck-after", "-5", NULL};
        char *stok[] = {"serve", "--db", "D", "--staging", "S",
                        "--stuck-after", "2", NULL};

        assert_int_equal(parse(&c, &e, st0), ERR_INVAL);
        assert_non_null(strstr(e.msg, "--stuck-after 0: expected an "
                                      "integer in 1.."));
        config_release(&c);
        assert_int_equal(parse(&c, &e, stw), ERR_INVAL);
        config_release(&c);
        assert_int_equal(parse(&c, &e, stok), 0);
        assert_int_equal(c.stuck_after_secs, 2);
        config_release(&c);
    }
    /* issue 12 item 5: --prune-keep 1..1000 (flag and file) */
    {
        char *k0[] = {"serve", "--db", "D", "--staging", "S",
                      "--prune-keep", "0", NULL};
        char *kbig[] = {"serve", "--db", "D", "--staging", "S",
                        "--prune-keep", "1001", NULL};
        char *kok[] = {"serve", "--db", "D", "--staging", "S",
                       "--prune-keep", "1000", NULL};

        assert_int_equal(parse(&c, &e, k0), ERR_INVAL);
        assert_string_equal(e.msg, "--prune-keep 0: expected an integer in "
                                   "1..1000");
        config_release(&c);
        assert_int_equal(parse(&c, &e, kbig), ERR_INVAL);
        config_release(&c);
        assert_int_equal(parse(&c, &e, kok), 0);
        assert_int_equal(c.prune_keep, 1000);
        config_release(&c);
        write_cfg("{\"prune_keep\": 0}");
        assert_int_equal(parse(&c, &e, file), ERR_INVAL);
        assert_non_null(strstr(e.msg, "\"prune_keep\" must be an integer "
                                      "in 1..1000"));
        config_release(&c);
    }
    /* A bad value in the file is an error, not silently ignored. */
    write_cfg("{\"workers\": 0}");
    assert_int_equal(parse(&c, &e, file), ERR_INVAL);
    assert_non_null(strstr(e.msg, "\"workers\" must be an integer in 1..64"));
    config_release(&c);
    write_cfg("{\"period_secs\": 1.5}");
    assert_int_equal(parse(&c, &e, file), ERR_INVAL);
    assert_non_null(strstr(e.msg, "\"period_secs\""));
    config_release(&c);
    write_cfg("[1, 2]");
    assert_int_equal(parse(&c, &e, file), ERR_INVAL);
    assert_non_null(strstr(e.msg, "not a JSON object"));
    config_release(&c);
    write_cfg("{\"db\": ");
    assert_int_equal(parse(&c, &e, file), ERR_INVAL);
    assert_non_null(strstr(e.msg, "invalid JSON"));
    config_release(&c);
}

/* --ui-listen: the status page's plaintext listener binds loopback only */
static void test_config__ui_listen(void **state)
{
    static const char *const bad[] = {"0.0.0.0:0", "10.0.0.1:8080",
                                      "[fd00::1]:0", "[::]:0", ":8080",
                                      "localhost:0", "127.0.0.1"};
    struct config c;
    struct err e = ERR_INIT;
    char *v4[] = {"serve", "--db", "D", "--staging", "S", "--ui-listen",
                  "127.0.0.1:0", NULL};
    char *v6[] = {"serve", "--db", "D", "--staging", "S", "--ui-listen",
                  "[::1]:8081", NULL};
    char *none[] = {"serve", "--db", "D", "--staging", "S", NULL};

    (void)state;
    assert_int_equal(parse(&c, &e, v4), 0);
    assert_string_equal(c.ui_host, "127.0.0.1");
    assert_int_equal(c.ui_port, 0);
    config_release(&c);
    assert_int_equal(parse(&c, &e, v6), 0);
    assert_string_equal(c.ui_host, "::1");
    assert_int_equal(c.ui_port, 8081);
    config_release(&c);
    assert_int_equal(parse(&c, &e, none), 0);
    assert_null(c.ui_host);
    config_release(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[] = {"serve", "--db", "D", "--staging", "S",
                        "--ui-listen", (char *)bad[i], NULL};

        e = (struct err)ERR_INIT;
        if (parse(&c, &e, argv) != ERR_INVAL)
            fail_msg("--ui-listen %s was accepted", bad[i]);
        assert_non_null(strstr(e.msg, "--ui-listen"));
        config_release(&c);
    }
}

static void test_config__tls(void **state)
{
    struct config c;
    struct err e = ERR_INIT;
    char *two[] = {"serve", "--db", "D", "--staging", "S", "--tls-ca", "ca",
                   "--tls-cert", "c", NULL};
    char *both[] = {"serve", "--db", "D", "--staging", "S", "--tls-ca", "ca",
                    "--tls-cert", "c", "--tls-key", "k",
                    "--insecure-plaintext", NULL};
    char *plain[] = {"serve", "--db", "D", "--staging", "S",
                     "--insecure-plaintext", NULL};
    char *file[] = {"serve", "--config", cfgpath, "--tls-key", "k2", NULL};

    (void)state;
    assert_int_equal(parse(&c, &e, two), ERR_INVAL);
    assert_string_equal(e.msg, "--tls-ca, --tls-cert and --tls-key go "
                               "together");
    config_release(&c);
    assert_int_equal(parse(&c, &e, both), ERR_INVAL);
    assert_string_equal(e.msg, "--insecure-plaintext and --tls-* exclude "
                               "each other");
    config_release(&c);
    assert_int_equal(parse(&c, &e, plain), 0);
    assert_true(c.insecure_plaintext);
    assert_null(c.tls_ca);
    config_release(&c);
    write_cfg("{\"db\": \"D\", \"staging\": \"S\", \"tls_ca\": \"ca\","
              " \"tls_cert\": \"c\", \"tls_key\": \"k\"}");
    assert_int_equal(parse(&c, &e, file), 0);
    assert_string_equal(c.tls_ca, "ca");
    assert_string_equal(c.tls_cert, "c");
    assert_string_equal(c.tls_key, "k2"); /* the flag wins */
    assert_false(c.insecure_plaintext);
    config_release(&c);
}

static int setup(void **state)
{
    int fd;

    (void)state;
    snprintf(cfgpath, sizeof(cfgpath), "/tmp/rd-config-XXXXXX");
    fd = mkstemp(cfgpath);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cfgpath);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__defaults),
        cmocka_unit_test(test_config__file_then_flags),
        cmocka_unit_test(test_config__bad_values),
        cmocka_unit_test(test_config__ui_listen),
        cmocka_unit_test(test_config__tls),
    };

    mem_init();
    return cmocka_run_group_tests(tests, setup, teardown);
}
