/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_fresh_rack: scenario 1. A fresh rack of 10 sleds (rack-sim up,
 * one replicator, min_sled_replication 3), one signed repository of four
 * 1 MiB artifacts uploaded with `replicator repo upload`: every sled
 * converges to exactly the wanted set with count 2, the controller PUTs
 * each artifact to at most min_sled_replication sleds (from its request
 * ring and counters) and the other copies move between peers (the sleds'
 * depot byte counters), and the invariants of DESIGN.md section 8 hold on
 * every dataset. Uses the simulator's own library (sim/rack_*) to read the
 * rack, poll it and walk its datasets.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_check.h"
#include "sim/rack_http.h"
#include "sim/rack_pki.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define SLEDS 10
#define ARTIFACTS 4
#define ART_BYTES (1u << 20)
#define MIN_REPL 3

static char *dir;

static void run_ok(char *const argv[], const char *log)
{
    int code = -1;

    assert_int_equal(proc_run(&code, argv[0], argv, log, 120000), 0);
    if (code != 0) {
        testutil_print_tail(argv[1], log, 4000);
        fail_msg("%s %s exited %d", argv[0], argv[1], code);
    }
}

static void test_e2e_fresh_rack__one_upload_converges(void **state)
{
    char *rs = proc_bin_path("rack-sim"), *mk = proc_bin_path("tuf-mkrepo");
    char *repl = proc_bin_path("replicator");
    char log[PATH_MAX + 16], zip[PATH_MAX + 16], url[160], nsleds[8];
    struct rack *r = mem_calloc(1, sizeof(*r));
    struct rack_poll *poll = mem_calloc(1, sizeof(*poll));
    struct err err = ERR_INIT;
    json_t *wanted = NULL, *task = NULL, *ring, *e, *puts;
    uint64_t depot = 0;
    int64_t t0;
    size_t i;

    (void)state;
    assert_non_null(r);
    assert_non_null(poll);
    snprintf(log, sizeof(log), "%s/tools.log", dir);
    snprintf(zip, sizeof(zip), "%s/repo.zip", dir);
    snprintf(nsleds, sizeof(nsleds), "%d", SLEDS);
    {
        char *up[] = {rs, "up", "--sleds", nsleds, "--dir", dir, "--period",
                      "2", e2e_mode_flag(), NULL};
        char *mkrepo[] = {mk, "--out", zip, "--system-version", "1.0.0",
                          "--random", "4:1048576", "--seed", "7", NULL};

        run_ok(up, log);
        run_ok(mkrepo, log);
    }
    assert_int_equal(rack_state_load(r, dir, &err), 0);
    fprintf(stderr, "e2e: rack on %s\n", r->tls ? "mutual TLS" : "plaintext");
    rack_pki_use(r); /* on TLS, our requests present the operator's cert */
    rack_url(url, sizeof(url), r, 'r', 0, r->repls[0].port, "");
    {
        char *upload[] = {repl, "--url", url, "repo", "upload", zip, NULL};

        rack_pki_cli_env(r, true);
        run_ok(upload, log);
        rack_pki_cli_env(r, false);
    }
    assert_int_equal(rack_wanted_load(&wanted, r, &err), 0);
    assert_int_equal(json_object_size(wanted), ARTIFACTS);
    t0 = testutil_now_ms();
    for (;;) {
        rack_poll_once(poll, r, wanted, 2000);
        if (rack_poll_converged(poll, r, ARTIFACTS))
            break;
        if (testutil_now_ms() - t0 > 120000) {
            rack_progress(stderr, false, NULL, "not converged",
                          testutil_now_ms() - t0, poll, r, ARTIFACTS);
            fail_msg("rack did not converge in 120 s (see %s)", dir);
        }
        testutil_sleep_ms(200);
    }
    assert_int_equal(poll->gen_decreases, 0);
    assert_int_equal(rack_check_datasets(stderr, r, wanted), 0);

    /* The controller PUT each artifact to at most MIN_REPL sleds. */
    rack_url(url, sizeof(url), r, 'r', 0, r->repls[0].port,
             "/background-tasks/tuf_artifact_replication");
    assert_int_equal(rack_http_get_json(&task, url, 5000, &err), 0);
    ring = json_object_get(task, "request_ring");
    puts = json_object();
    json_array_foreach(ring, i, e) {
        const char *op = json_string_value(json_object_get(e, "operation"));
        const char *h = json_string_value(json_object_get(e, "hash"));

        if (op && h && !strcmp(op, "put") &&
            !json_object_get(e, "error")) {
            json_int_t n = json_integer_value(json_object_get(puts, h));

            json_object_set_new(puts, h, json_integer(n + 1));
        }
    }
    {
        const char *h;
        json_t *n;

        json_object_foreach(puts, h, n) {
            if (json_integer_value(n) > MIN_REPL)
                fail_msg("artifact %s PUT to %lld sleds (> %d)", h,
                         (long long)json_integer_value(n), MIN_REPL);
        }
    }
    assert_true(json_integer_value(json_object_get(
                    json_object_get(task, "lifetime_counters"), "put_ok")) <=
                MIN_REPL * ARTIFACTS);
    /* The rest moved between peers. */
    for (size_t k = 0; k < r->nsleds; k++) {
        struct buf b = BUF_INIT;
        long status = 0;

        rack_url(url, sizeof(url), r, 's', k, r->sleds[k].api_port,
                 "/metrics");
        assert_int_equal(rack_http_get(&status, &b, url, 5000, &err), 0);
        assert_int_equal(buf_putc(&b, '\0'), 0);
        depot += rack_metric_sum(b.data, "sledagent_depot_bytes_total");
        buf_release(&b);
    }
    if (depot < (uint64_t)(SLEDS - MIN_REPL) * ARTIFACTS * ART_BYTES)
        fail_msg("peers served %llu bytes, expected at least %llu",
                 (unsigned long long)depot,
                 (unsigned long long)(SLEDS - MIN_REPL) * ARTIFACTS *
                     ART_BYTES);
    json_decref(puts);
    json_decref(task);
    json_decref(wanted);
    mem_free(poll);
    mem_free(r);
    mem_free(rs);
    mem_free(mk);
    mem_free(repl);
}

static int setup(void **state)
{
    (void)state;
    return testutil_tmpdir(&dir, "e2e-fresh") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 64];
    char *rs = proc_bin_path("rack-sim");
    int code = 0;

    (void)state;
    snprintf(cmd, sizeof(cmd), "%s/down.log", dir);
    {
        char *down[] = {rs, "--dir", dir, "down", NULL};

        proc_run(&code, rs, down, cmd, 60000);
    }
    testutil_rmrf(dir);
    mem_free(dir);
    mem_free(rs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_fresh_rack__one_upload_converges, setup, teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
