/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_attacks: issue 9's "each attack listed above re-run and
 * refused", end to end. A 3-sled rack on mutual TLS (whatever RD_E2E_MODE
 * says), no blind trust: the operator registers its TUF root, uploads three
 * one-artifact repositories and prunes two of them, so the mass-deletion
 * guard holds a generation. The state is snapshotted (each sled's GET
 * /artifacts and /artifacts-config, its dataset and trash file counts; the
 * replicator's trust roots, repositories, sled registry, staging, database
 * generation and held generations). Then, as an attacker, every attack of
 * the first section is re-run with every credential an attacker
 * could have: none, certificates of the right role and the right rack id
 * from another CA (one naming sled 0's own id), and valid certificates of
 * the wrong role (operator, controller, sled 1):
 *   the sled's PUT /artifacts-config at generation 2^63-1 with no artifacts
 *   (and its ledger reset, PUT of an artifact, copy-from-depot with hostile
 *   sources); adding the attacker's trust root, removing the operator's,
 *   uploading a repository signed by the attacker; fake sled registrations,
 *   another sled's id, a malformed address from the right sled, repeated
 *   re-registration of sled 0 at another address; repo prune, generation
 *   bump, confirming the held generation, sled expunge and ledger reset;
 *   plaintext HTTP and a TLS 1.2-only client against every listener.
 * Each is refused (401 JSON or a failed handshake without a good
 * certificate, 403 JSON for the wrong role or id, 400 for the right sled's
 * malformed address, 0.0.0.0 and [::] included, and for the controller's
 * own hostile copy sources; one trap port, named by every hostile source,
 * sees no connection; 502 without detail for a source that is not a sled,
 * the wrong sled or a dead port), each class of refusal is checked against
 * the same client with the right credential (answered), and after a
 * reconciliation run (which reaches every sled) the snapshot is unchanged.
 * The operator then confirms the held generation, fails to upload the
 * attacker's repository (untrusted root) and uploads another one of its
 * own: the rack converges (invariants 1-4 of e2e_util). The rig is in
 * attacks_rig.c, the attacks in attacks_routes.c (attacks.h).
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
#include <curl/curl.h>
#include <jansson.h>

#include "common/mem.h"
#include "tests/e2e/attacks.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/testutil.h"

#define ART_BYTES 32768u

static struct att A;

/* ---- set-up and the legitimate operator ---- */

static char *mkrepo(struct e2e *t, const char *name, const char *version,
                    unsigned seed, const char *keyflag, const char *key,
                    const char *root)
{
    char *zip = testutil_join(t->dir, name), spec[32], sd[16];
    char *kp = testutil_join(t->dir, key);
    char *rp = root ? testutil_join(t->dir, root) : NULL;
    int code;

    snprintf(spec, sizeof(spec), "1:%u", ART_BYTES);
    snprintf(sd, sizeof(sd), "%u", seed);
    code = e2e_runv(t, NULL, 120000, t->mk, "--out", zip, "--system-version",
                    version, "--random", spec, "--seed", sd, keyflag, kp,
                    rp ? "--print-root" : (char *)NULL, rp, (char *)NULL);
    if (code != 0)
        fail_msg("tuf-mkrepo exited %d (see %s)", code, t->log);
    mem_free(kp);
    mem_free(rp);
    return zip;
}

static void upload(struct e2e *t, const char *zip)
{
    json_decref(e2e_repl_ok(t, 0, "repo", "upload", zip, (char *)NULL));
}

static void read_all(char **out, size_t *len, struct e2e *t,
                     const char *name)
{
    char *p = testutil_join(t->dir, name);

    assert_int_equal(testutil_read_file(out, len, p), 0);
    mem_free(p);
}

static void test_e2e_attacks__refused_nothing_changed(void **state)
{
    struct e2e *t = *state;
    struct att *a = &A;
    char *z1, *z2, *z3, *z4, *zev, *root;
    json_t *doc, *before, *after, *held;
    const char *h;
    json_t *v;
    int64_t t_attacks;

    memset(a, 0, sizeof(*a));
    a->t = t;
    e2e_up(t, 3, 1, "--period", "3600", "--no-blind-trust", (char *)NULL);
    assert_true(t->r.tls);
    creds_init(a);

    /* The operator's key and root; three one-artifact repositories. */
    z1 = mkrepo(t, "r1.zip", "1.0.0", 91, "--generate-key", "op.key",
                "op-root.json");
    z2 = mkrepo(t, "r2.zip", "2.0.0", 92, "--key", "op.key", NULL);
    z3 = mkrepo(t, "r3.zip", "3.0.0", 93, "--key", "op.key", NULL);
    z4 = mkrepo(t, "r4.zip", "4.0.0", 94, "--key", "op.key", NULL);
    zev = mkrepo(t, "evil.zip", "6.6.6", 666, "--generate-key", "evil.key",
                 "evil-root.json");
    read_all(&a->evil_root, &a->evil_root_len, t, "evil-root.json");
    read_all(&a->evil_zip, &a->evil_zip_len, t, "evil.zip");
    root = testutil_join(t->dir, "op-root.json");
    doc = e2e_repl_ok(t, 0, "trust-root", "add", root, (char *)NULL);
    snprintf(a->root_id, sizeof(a->root_id), "%s",
             json_string_value(json_object_get(doc, "id")));
    json_decref(doc);
    assert_true(strlen(a->root_id) > 0);
    mem_free(root);
    upload(t, z1);
    upload(t, z2);
    upload(t, z3);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 3);
    e2e_wait_converged(t, E2E_ALL, 40000, "three repositories converge");
    json_object_foreach(t->wanted, h, v) {
        snprintf(a->hash, sizeof(a->hash), "%s", h);
        break;
    }
    /* Pruning two of three holds the generation (mass-deletion guard). */
    json_decref(e2e_repl_ok(t, 0, "repo", "prune", "1.0.0", (char *)NULL));
    json_decref(e2e_repl_ok(t, 0, "repo", "prune", "2.0.0", (char *)NULL));
    json_decref(e2e_repl_ok(t, 0, "activate", (char *)NULL));
    doc = e2e_task(t, 0);
    held = json_object_get(doc, "held_generations");
    assert_true(json_array_size(held) >= 1);
    snprintf(a->held, sizeof(a->held), "%lld",
             (long long)json_integer_value(json_object_get(
                 json_array_get(held, json_array_size(held) - 1),
                 "generation")));
    json_decref(doc);

    before = snapshot(a);
    snprintf(a->gen, sizeof(a->gen), "%lld",
             (long long)json_integer_value(json_object_get(
                 json_array_get(json_object_get(before, "sleds"), 0),
                 "generation")));
    for (size_t k = 0; k < 3; k++) {
        json_t *s = json_array_get(json_object_get(before, "sleds"), k);

        /* held: every sled still holds all three artifacts */
        assert_int_equal(json_object_size(json_object_get(s, "list")), 3);
    }
    assert_int_equal(json_array_size(json_object_get(before, "trust_roots")),
                     1);
    assert_int_equal(json_array_size(json_object_get(before,
                                                     "sled_registry")), 3);

    t_attacks = e2e_elapsed(t);
    a->trap_fd = trap_open(&a->trap);
    controls(a);
    attack_sleds(a);
    hostile_sources(a);
    attack_replicator(a);
    attack_registry(a);
    attack_transport(a);
    trap_untouched(a);
    close(a->trap_fd);
    fprintf(stderr, "attacks: %u refused (%u of them at the handshake), "
            "%u controls answered, in %.1f s\n", a->refused, a->handshakes,
            a->answered, (double)(e2e_elapsed(t) - t_attacks) / 1000.0);

    /* A reconciliation run after the attacks: still nothing changed, and
     * every sled was reached (no registration stopped reconciliation). */
    wait_copies(a);
    doc = e2e_repl_ok(t, 0, "activate", (char *)NULL);
    json_decref(doc);
    after = snapshot(a);
    assert_same(before, after, "after the attacks and a reconciliation run");
    json_decref(after);
    doc = e2e_task(t, 0);
    if (json_integer_value(json_object_get(json_object_get(doc, "last_run"),
                                           "sleds_ok")) != 3)
        fail_msg("the run after the attacks did not reach every sled");
    json_decref(doc);

    /* The operator may do what the attacker could not. */
    json_decref(e2e_repl_ok(t, 0, "generation", "confirm", a->held,
                            (char *)NULL));
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 1);
    e2e_wait_converged(t, E2E_ALL, 40000, "the confirmed prune applies");
    /* A repository signed by the attacker's key: not trusted. */
    assert_int_not_equal(e2e_repl(t, 0, NULL, "repo", "upload", zev,
                                  (char *)NULL),
                         0);
    upload(t, z4);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 2);
    e2e_wait_converged(t, E2E_ALL, 40000, "a further upload converges");
    e2e_check_final(t, E2E_ALL);
    after = snapshot(a);
    assert_int_equal(json_array_size(json_object_get(after, "trust_roots")),
                     1);
    assert_int_equal(json_array_size(json_object_get(after,
                                                     "sled_registry")), 3);
    json_decref(after);
    json_decref(before);
    fprintf(stderr, "attacks scenario took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    creds_release(a);
    mem_free(a->evil_root);
    mem_free(a->evil_zip);
    mem_free(z1);
    mem_free(z2);
    mem_free(z3);
    mem_free(z4);
    mem_free(zev);
}

static int setup(void **state)
{
    /* About TLS: always on TLS, whatever the run's mode. */
    setenv("RD_E2E_MODE", "tls", 1);
    *state = e2e_new("e2e-attacks");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_attacks__refused_nothing_changed, setup, e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
