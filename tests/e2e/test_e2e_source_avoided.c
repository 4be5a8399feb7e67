/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_source_avoided: a copy source that stalls mid-copy is avoided
 * by the planner (issue 10 deliver 3; replicator/task/srcavoid.c). A
 * 3-sled rack with a 256 KiB/s link cap per sled (a 2 MiB copy takes
 * about 8 s) and 128 KiB pieces: sleds 1 and 2 stopped, one artifact
 * uploaded to sled 0; sled 1 restarted, and once its copy from sled 0
 * runs, sled 0 is frozen (SIGSTOP: it accepts connections and answers
 * nothing, a source that hangs). Asserted: sled 1's copy fails naming
 * sled 0 as the source, and the replicator's status marks sled 0
 * `avoided_source` (sled 1 not); sled 0 resumed (SIGCONT), sled 1 gets
 * the artifact by a PUT from the replicator's staging, not by a second
 * copy from the only holder (what it gets without the mark); then sled 2
 * restarted gets its copy from sled 1, never from the avoided sled 0.
 * Invariants 1-3 on every poll, 4 at the end.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_http.h"
#include "sim/rack_pki.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define SLEDS 3
#define ART_BYTES (2u << 20)
#define WAIT_MS 90000

/* The one wanted artifact's hash into hex. */
static void wanted_hex(char *hex, const struct e2e *t)
{
    void *it = json_object_iter(t->wanted);

    assert_non_null(it);
    assert_int_equal(strlen(json_object_iter_key(it)), 64);
    memcpy(hex, json_object_iter_key(it), 65);
}

/* Sled k's GET /copies entry for hex in state (NULL: any), or NULL; *doc
 * holds the reply (json_decref). */
static json_t *copy_entry(json_t **doc, struct e2e *t, size_t k,
                          const char *hex, const char *state)
{
    char url[128];
    json_t *e;
    size_t i;

    *doc = NULL;
    rack_url(url, sizeof(url), &t->r, 's', k, t->r.sleds[k].api_port,
             "/copies");
    if (rack_http_get_json(doc, url, 5000, NULL) < 0)
        return NULL;
    json_array_foreach(*doc, i, e) {
        const char *h = json_string_value(json_object_get(e, "sha256"));
        const char *s = json_string_value(json_object_get(e, "state"));

        if (h && s && !strcmp(h, hex) && (!state || !strcmp(s, state)))
            return e;
    }
    return NULL;
}

/* Replicator 0's status with its whole request ring (json_decref). */
static json_t *task_status(struct e2e *t)
{
    char url[160];
    json_t *doc = NULL;
    struct err err = ERR_INIT;

    rack_url(url, sizeof(url), &t->r, 'r', 0, t->r.repls[0].port,
             "/background-tasks/tuf_artifact_replication?limit=200");
    if (rack_http_get_json(&doc, url, 10000, &err) < 0)
        fail_msg("task status: %s", err.msg);
    return doc;
}

/* Counts of ring entries: copies of hex to sled `to` from sled `from`,
 * ok ones and failed ones whose error names a source. */
static void ring_copies(json_t *st, const struct e2e *t, size_t to,
                        size_t from, const char *hex, size_t *ok,
                        size_t *failed)
{
    json_t *e;
    size_t i;

    *ok = *failed = 0;
    json_array_foreach(json_object_get(st, "request_ring"), i, e) {
        const char *op = json_string_value(json_object_get(e, "operation"));
        const char *sled = json_string_value(json_object_get(e, "sled"));
        const char *src = json_string_value(json_object_get(e, "source"));
        const char *h = json_string_value(json_object_get(e, "hash"));
        const char *err = json_string_value(json_object_get(e, "error"));

        if (!op || strcmp(op, "copy") || !sled || !src || !h ||
            strcmp(sled, t->r.sleds[to].id) ||
            strcmp(src, t->r.sleds[from].id) || strcmp(h, hex))
            continue;
        if (!err)
            (*ok)++;
        else if (!strncmp(err, "source ", 7) ||
                 strstr(err, ": source ")) /* "HTTP 502: source ..." */
            (*failed)++;
    }
}

/* Whether the ring holds a successful PUT of hex to sled k. */
static bool ring_put_ok(json_t *st, const struct e2e *t, size_t k,
                        const char *hex)
{
    json_t *e;
    size_t i;

    json_array_foreach(json_object_get(st, "request_ring"), i, e) {
        const char *op = json_string_value(json_object_get(e, "operation"));
        const char *sled = json_string_value(json_object_get(e, "sled"));
        const char *h = json_string_value(json_object_get(e, "hash"));

        if (op && sled && h && !strcmp(op, "put") &&
            !strcmp(sled, t->r.sleds[k].id) && !strcmp(h, hex) &&
            !json_object_get(e, "error"))
            return true;
    }
    return false;
}

/* The ring's requests to sled k about hex, oldest first, on stderr. */
static void print_ring(json_t *st, const struct e2e *t, size_t k,
                       const char *hex)
{
    json_t *ring = json_object_get(st, "request_ring");

    for (size_t i = json_array_size(ring); i-- > 0;) {
        json_t *e = json_array_get(ring, i);
        const char *sled = json_string_value(json_object_get(e, "sled"));
        const char *h = json_string_value(json_object_get(e, "hash"));
        const char *src = json_string_value(json_object_get(e, "source"));
        const char *err = json_string_value(json_object_get(e, "error"));

        if (sled && h && !strcmp(sled, t->r.sleds[k].id) && !strcmp(h, hex))
            fprintf(stderr, "  to sled %zu: %s from %s%s%s\n", k,
                    json_string_value(json_object_get(e, "operation")),
                    src ? src : "the replicator", err ? ": " : "",
                    err ? err : "");
    }
}

static bool avoided(json_t *st, const struct e2e *t, size_t k)
{
    json_t *s = e2e_task_sled(st, t, k);

    assert_non_null(s);
    assert_true(json_is_boolean(json_object_get(s, "avoided_source")));
    return json_is_true(json_object_get(s, "avoided_source"));
}

/* Verified pieces of a running swarm copy. Only a piece checked against
 * the manifest shows that the manifest was verified (`pieces.total` is
 * known from the request, before): until then the copy is not yet
 * accepted and a failure is a failed request, not a failed copy. */
static json_int_t verified_pieces(const json_t *e)
{
    return e ? json_integer_value(json_object_get(
                   json_object_get(e, "pieces"), "verified"))
             : 0;
}

/* Sled 1's copy of hex from sled 0 runs, past its manifest (a piece
 * verified): freeze sled 0. */
static void freeze_source_mid_copy(struct e2e *t, const char *hex)
{
    int64_t end = testutil_now_ms() + WAIT_MS;
    json_t *doc = NULL, *e = NULL;

    while (verified_pieces(e) == 0 && testutil_now_ms() < end) {
        json_decref(doc);
        e = copy_entry(&doc, t, 1, hex, "running");
        if (verified_pieces(e) == 0)
            testutil_sleep_ms(100);
    }
    if (verified_pieces(e) == 0)
        e = NULL;
    if (!e)
        fail_msg("sled 1 never ran a copy of %s", hex);
    assert_int_equal(kill(t->r.sleds[0].p.pid, SIGSTOP), 0);
    fprintf(stderr, "sled 0 frozen while sled 1 copied %lld of %lld bytes "
            "from %s\n",
            (long long)json_integer_value(json_object_get(e, "bytes")),
            (long long)json_integer_value(json_object_get(e, "total")),
            json_string_value(json_object_get(e, "source")));
    json_decref(doc);
}

/* Sled 1's copy failed; its error names sled 0's depot as the source. */
static void wait_copy_failed(struct e2e *t, const char *hex)
{
    int64_t end = testutil_now_ms() + WAIT_MS;
    json_t *doc = NULL, *e = NULL;
    char depot[64];
    const char *err;

    while (!e && testutil_now_ms() < end) {
        json_decref(doc);
        e = copy_entry(&doc, t, 1, hex, "failed");
        if (!e)
            testutil_sleep_ms(250);
    }
    if (!e)
        fail_msg("sled 1's copy from the frozen sled 0 never failed");
    err = json_string_value(json_object_get(e, "error"));
    rack_url(depot, sizeof(depot), &t->r, 's', 0, t->r.sleds[0].depot_port,
             "");
    fprintf(stderr, "sled 1's copy failed: %s\n", err ? err : "(none)");
    assert_non_null(err);
    assert_int_equal(strncmp(err, "source ", 7), 0);
    assert_non_null(strstr(err, depot));
    assert_int_equal(json_integer_value(json_object_get(e, "total")),
                     ART_BYTES);
    json_decref(doc);
}

/*
 * The status marks sled 0 avoided, and sled 1 not. (The ring records the
 * copy as accepted: nothing of its run waited for it; the next run learns
 * the failure from sled 1's list, copy_sources_failed.)
 */
static void wait_avoided(struct e2e *t)
{
    int64_t end = testutil_now_ms() + WAIT_MS;
    bool marked = false;
    json_t *st = NULL;

    while (!marked && testutil_now_ms() < end) {
        json_decref(st);
        st = task_status(t);
        if (!(marked = avoided(st, t, 0)))
            testutil_sleep_ms(500);
    }
    if (!marked)
        fail_msg("the status never marked sled 0 a source to avoid");
    assert_false(avoided(st, t, 1));
    json_decref(st);
}

static void test_e2e_source_avoided__stalled_source_is_avoided(void **state)
{
    struct e2e *t = *state;
    size_t ok, failed;
    char hex[65];
    json_t *st;
    char *zip;

    e2e_up(t, SLEDS, 1, "--rate-limit", "262144", "--piece-size", "131072",
           (char *)NULL);
    zip = e2e_mkrepo(t, "repo.zip", "1.0.0", 1, ART_BYTES, 31);
    e2e_sim(t, NULL, "stop", "1", (char *)NULL);
    e2e_sim(t, NULL, "stop", "2", (char *)NULL);
    json_decref(e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL));
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 1);
    wanted_hex(hex, t);
    e2e_wait_converged(t, 1u << 0, WAIT_MS, "sled 0 holds the artifact");

    /* Sled 0 is the only holder: sled 1's copy comes from it. */
    e2e_sim(t, NULL, "restart", "1", (char *)NULL);
    freeze_source_mid_copy(t, hex);
    wait_copy_failed(t, hex);
    wait_avoided(t);
    assert_int_equal(kill(t->r.sleds[0].p.pid, SIGCONT), 0);

    /* Avoided: sled 1 gets it from the replicator's staging (a PUT), not
     * from the only holder again; the one copy from sled 0 is the frozen
     * one. */
    e2e_wait_converged(t, 3u, WAIT_MS, "sled 1 gets it by a PUT");
    st = task_status(t);
    print_ring(st, t, 1, hex);
    ring_copies(st, t, 1, 0, hex, &ok, &failed);
    assert_int_equal(ok, 1);
    assert_true(ring_put_ok(st, t, 1, hex));
    assert_true(avoided(st, t, 0));
    json_decref(st);

    /* Two holders now: sled 2's copies come from sled 1 only. */
    e2e_sim(t, NULL, "restart", "2", (char *)NULL);
    e2e_wait_converged(t, E2E_ALL, WAIT_MS, "sled 2 gets it from sled 1");
    st = task_status(t);
    ring_copies(st, t, 2, 1, hex, &ok, &failed);
    print_ring(st, t, 2, hex);
    assert_true(ok >= 1);
    ring_copies(st, t, 2, 0, hex, &ok, &failed);
    assert_int_equal(ok + failed, 0);
    json_decref(st);
    e2e_check_final(t, E2E_ALL);
    fprintf(stderr, "took %.1f s\n", (double)e2e_elapsed(t) / 1000.0);
    mem_free(zip);
}

static int setup(void **state)
{
    *state = e2e_new("e2e-srcavoid");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_source_avoided__stalled_source_is_avoided, setup,
            e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
