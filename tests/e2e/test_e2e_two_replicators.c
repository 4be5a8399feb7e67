/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_two_replicators: scenario 8. A 4-sled rack with two
 * replicators on one database (`rack-sim up --replicators 2`, sled links
 * capped at 2 MiB/s). Repo A is uploaded to replicator 0 and repo B to
 * replicator 1 back to back, so their activations race: both converge
 * everywhere. Then repo C is uploaded to replicator 1, which is killed
 * (`rack-sim replicator kill 1`) while its PUTs are in flight: its staged
 * upload survives on its disk, and once restarted (`rack-sim replicator
 * restart 1`) the rack converges. Invariants 1-3 on every poll, 4 at the
 * end (e2e_util).
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_http.h"
#include "sim/rack_status.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define MIB (1u << 20)

static bool writes_in_flight(struct e2e *t, void *arg)
{
    (void)arg;
    for (size_t k = 0; k < t->r.nsleds; k++) {
        json_t *inv = NULL;
        bool busy;

        if (rack_sled_inventory(&inv, &t->r, k, 2000, NULL) < 0)
            continue;
        busy = json_array_size(json_object_get(inv, "in_progress")) > 0;
        json_decref(inv);
        if (busy)
            return true;
    }
    return false;
}

/* Repos with a manifest in replicator 1's staging. */
static size_t staged_repos(struct e2e *t)
{
    char rdir[PATH_MAX], path[PATH_MAX + 32], m[PATH_MAX * 2];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    rack_path_repl(rdir, sizeof(rdir), &t->r, 1);
    snprintf(path, sizeof(path), "%s/staging/repos", rdir);
    d = opendir(path);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(m, sizeof(m), "%s/%s/manifest.json", path, e->d_name);
        if (testutil_exists(m))
            n++;
    }
    closedir(d);
    return n;
}

static void test_e2e_two_replicators__race_and_kill(void **state)
{
    struct e2e *t = *state;
    json_t *doc;
    char *za, *zb, *zc;
    size_t staged;

    e2e_up(t, 4, 2, "--rate-limit", "2097152", (char *)NULL);
    za = e2e_mkrepo(t, "repoA.zip", "1.0.0", 2, MIB, 81);
    zb = e2e_mkrepo(t, "repoB.zip", "2.0.0", 2, MIB, 82);
    zc = e2e_mkrepo(t, "repoC.zip", "3.0.0", 3, 2 * MIB, 83);
    doc = e2e_repl_ok(t, 0, "repo", "upload", za, (char *)NULL);
    json_decref(doc);
    doc = e2e_repl_ok(t, 1, "repo", "upload", zb, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 4);
    e2e_wait_converged(t, E2E_ALL, 40000, "A and B converge everywhere");
    e2e_check_final(t, E2E_ALL);

    doc = e2e_repl_ok(t, 1, "repo", "upload", zc, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 7);
    e2e_wait(t, writes_in_flight, NULL, 20000, "C's PUTs in flight");
    e2e_sim(t, NULL, "replicator", "kill", "1", (char *)NULL);
    staged = staged_repos(t);
    fprintf(stderr, "replicator 1 killed with %zu staged repo(s)\n",
            staged);
    assert_true(staged >= 1); /* C survives on its disk */
    e2e_sim(t, NULL, "replicator", "restart", "1", (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, 40000, "the rack converges on C");
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "scenario 8 took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(za);
    mem_free(zb);
    mem_free(zc);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-tworepl");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_e2e_two_replicators__race_and_kill, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
