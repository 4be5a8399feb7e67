/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_tls_revpush: the reconciliation task pushes the database's
 * revocation list to the sleds (issue 9): `replicator serve` on mutual TLS
 * with PostgreSQL (pgtest), two real TLS sledagents registering
 * themselves, activations by hand (?wait=1). Nothing is pushed while
 * nothing is revoked; `pki revoke --db` reaches a sled in the next
 * activation (and the revoked operator is then refused by the sled);
 * nothing is pushed again while the versions match; a newer revocation
 * is pushed to a sled holding the older list; a sled that lost its list
 * is pushed in the very activation that lists it; a sled that refuses
 * the push (it holds a newer version) is recorded as a put_revocations
 * error and does not stop the other sled nor its own config; a sled
 * holding the replicator as revoked refuses it as a client (its
 * registration) and as a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define TASKP "/background-tasks/tuf_artifact_replication"
#define REV "/tls-revocations"

struct fx {
    struct tls_rig g;
    char *bin, *conninfo, *staging, *portf, *log;
    struct proc *srv;
    uint16_t port;
    char url[64];
    struct agentproc *s[2];
    struct tls_cred ctl, op;
};

static long req(struct fx *f, char **body, const struct tls_cred *c,
                uint16_t port, const char *method, const char *path,
                const char *data)
{
    return tls_rig_request(body, f->g.ca, c, 0, port, method, path, data,
                           data ? strlen(data) : 0);
}

static void start_serve(struct fx *f)
{
    struct tls_cred me = tls_rig_cred(&f->g, "controller-ctl");
    char *argv[] = {f->bin, "serve", "--db", f->conninfo, "--staging",
                    f->staging, "--listen", "127.0.0.1:0", "--port-file",
                    f->portf, "--no-periodic", "--tls-ca", f->g.ca,
                    "--tls-cert", me.cert, "--tls-key", me.key, NULL};
    json_t *pj = NULL;

    assert_int_equal(proc_spawn(&f->srv, f->bin, argv, NULL, f->log), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 60000) < 0) {
        testutil_print_tail("serve", f->log, 4000);
        fail_msg("replicator serve did not start");
    }
    f->port = (uint16_t)json_integer_value(json_object_get(pj, "api"));
    json_decref(pj);
    snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u",
             (unsigned)f->port);
    tls_cred_release(&me);
}

static struct agentproc *start_sled(struct fx *f, const char *name)
{
    struct tls_cred me = tls_rig_cred(&f->g, name);
    const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", me.cert,
                           "--tls-key", me.key, "--replicator", f->url,
                           "--register-interval", "1", NULL};
    struct agentproc *a = NULL;

    assert_int_equal(agentproc_new(&a, extra), 0);
    assert_int_equal(agentproc_start(a), 0);
    tls_cred_release(&me);
    return a;
}

static bool two_registered(void *arg)
{
    struct fx *f = arg;
    char *body = NULL;
    bool ok = false;

    if (req(f, &body, &f->op, f->port, "GET", "/sled-agents", NULL) == 200)
        ok = strstr(body, TLS_RIG_SLED) && strstr(body, TLS_RIG_SLED2);
    mem_free(body);
    return ok;
}

static json_t *activate(struct fx *f);

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    tls_rig_init(&f->g);
    f->bin = proc_bin_path("replicator");
    f->conninfo = pgtest_db_migrated_by_cli(NULL, "revpush");
    f->staging = testutil_join(f->g.dir, "staging");
    f->portf = testutil_join(f->g.dir, "port.json");
    f->log = testutil_join(f->g.dir, "serve.log");
    f->ctl = tls_rig_cred(&f->g, "controller-ctl");
    f->op = tls_rig_cred(&f->g, "operator-op");
    start_serve(f);
    f->s[0] = start_sled(f, "sled-1");
    f->s[1] = start_sled(f, "sled-2");
    assert_true(testutil_wait_for(two_registered, f, 30000));
    /* the runs the registrations started are over once this one is: from
     * here on only the tests' activations run (the sleds' registrations
     * no longer change) */
    json_decref(activate(f));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    agentproc_free(f->s[0]);
    agentproc_free(f->s[1]);
    proc_free(f->srv);
    tls_cred_release(&f->ctl);
    tls_cred_release(&f->op);
    mem_free(f->bin);
    mem_free(f->conninfo);
    mem_free(f->staging);
    mem_free(f->portf);
    mem_free(f->log);
    tls_rig_free(&f->g);
    mem_free(f);
    return 0;
}

/* One activation, to its end; the task status afterwards. */
static json_t *activate(struct fx *f)
{
    char *body = NULL;
    long st = req(f, &body, &f->op, f->port, "POST", TASKP "/activate?wait=1",
                  NULL);
    json_t *j;

    if (st / 100 != 2) {
        testutil_print_tail("serve", f->log, 4000);
        fail_msg("activate: %ld %s", st, body ? body : "");
    }
    mem_free(body);
    body = NULL;
    assert_int_equal(req(f, &body, &f->op, f->port, "GET", TASKP, NULL),
                     200);
    j = json_loads(body, 0, NULL);
    assert_non_null(j);
    mem_free(body);
    return j;
}

static long counter(const json_t *st, const char *which, const char *name)
{
    return (long)json_integer_value(
        json_object_get(json_object_get(st, which), name));
}

/* The version sled i holds (GET /tls-revocations as the operator). */
static long sled_version(struct fx *f, size_t i, char **list)
{
    char *body = NULL;
    json_t *j;
    long v;

    assert_int_equal(req(f, &body, &f->op,
                         (uint16_t)agentproc_api_port(f->s[i]), "GET", REV,
                         NULL), 200);
    j = json_loads(body, 0, NULL);
    assert_non_null(j);
    v = (long)json_integer_value(json_object_get(j, "version"));
    if (list)
        *list = jsonu_dumps(json_object_get(j, "revoked"));
    json_decref(j);
    mem_free(body);
    return v;
}

static void db_revoke(struct fx *f, const char *role, const char *id)
{
    char *log = testutil_join(f->g.dir, "revoke.log");
    char *argv[] = {f->bin, "pki", "revoke", "--dir", f->g.pki, "--role",
                    (char *)role, "--db", f->conninfo, (char *)id, NULL};
    char name[80];
    enum tls_role r;
    struct tls_cred c;
    int code = -1;

    /* the PKI revokes only what it issued */
    assert_int_equal(tls_role_parse(&r, role), 0);
    snprintf(name, sizeof(name), "rv-%s", id);
    c = tls_rig_issue(&f->g, name, r, id, 0, 5, 0);
    tls_cred_release(&c);
    assert_int_equal(proc_run(&code, f->bin, argv, log, 60000), 0);
    if (code != 0) {
        testutil_print_tail("pki revoke", log, 2000);
        fail_msg("pki revoke %s exited %d", id, code);
    }
    mem_free(log);
}

/* Requests of op in the status's request ring. */
static size_t ring_count(const json_t *st, const char *op, const char *sled)
{
    const json_t *ring = json_object_get(st, "request_ring"), *e;
    size_t i, n = 0;

    json_array_foreach(ring, i, e) {
        const char *o = json_string_value(json_object_get(e, "operation"));
        const char *s = json_string_value(json_object_get(e, "sled"));

        n += o && strcmp(o, op) == 0 && (!sled || (s && !strcmp(s, sled)));
    }
    return n;
}

/* The text of file path from offset on (mem_free). */
static char *read_from(const char *path, long offset)
{
    FILE *fp = fopen(path, "r");
    char *out;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp) - offset;
    assert_true(n >= 0);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    out = mem_alloc((size_t)n + 1);
    assert_non_null(out);
    assert_int_equal(fread(out, 1, (size_t)n, fp), (size_t)n);
    out[n] = '\0';
    fclose(fp);
    return out;
}

static long file_size(const char *path)
{
    FILE *fp = fopen(path, "r");
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    fclose(fp);
    return n;
}

/* Whether, in sled i's log from off, the list was in force before the
 * config: the push came first in the run. */
static bool pushed_before_config(struct fx *f, size_t i, long off)
{
    char *text = read_from(agentproc_log_path(f->s[i]), off);
    const char *cfg = strstr(text, "\"config_put\"");
    const char *upd = strstr(text, "\"tls_revocations_updated\"");
    bool ok = cfg && upd && upd < cfg;

    mem_free(text);
    return ok;
}

static void test_tls_revpush__pushed_when_behind_only(void **state)
{
    struct fx *f = *state;
    struct tls_cred o2 = tls_rig_issue(&f->g, "op-two", TLS_ROLE_OPERATOR,
                                       "op-two", 0, 5, 0);
    uint16_t s0 = (uint16_t)agentproc_api_port(f->s[0]);
    char *list = NULL;
    json_t *st;
    long off;

    /* nothing revoked: nothing pushed */
    st = activate(f);
    assert_int_equal(counter(st, "last_run_counters", "put_config_ok"), 2);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok") +
                     counter(st, "lifetime_counters", "put_revocations_err"),
                     0);
    json_decref(st);
    assert_int_equal(sled_version(f, 0, NULL), 0);
    assert_int_equal(req(f, NULL, &o2, s0, "GET", "/artifacts", NULL), 200);

    /* revoked in the database: pushed to both sleds in the next run,
     * before their config */
    db_revoke(f, "operator", "op-two");
    off = file_size(agentproc_log_path(f->s[0]));
    st = activate(f);
    assert_true(pushed_before_config(f, 0, off));
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok"),
                     2);
    assert_int_equal(ring_count(st, "put_revocations", TLS_RIG_SLED), 1);
    json_decref(st);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(sled_version(f, i, &list), 1);
        assert_string_equal(list, "[\"operator:op-two\"]");
        mem_free(list);
        list = NULL;
    }
    /* the sled's listener now refuses op-two; others are fine */
    assert_int_equal(req(f, NULL, &o2, s0, "GET", "/artifacts", NULL), 401);
    assert_int_equal(req(f, NULL, &f->op, s0, "GET", "/artifacts", NULL),
                     200);

    /* versions match: no push, twice */
    for (int k = 0; k < 2; k++) {
        st = activate(f);
        assert_int_equal(counter(st, "last_run_counters", "put_config_ok"),
                         2);
        assert_int_equal(counter(st, "lifetime_counters",
                                 "put_revocations_ok"), 2);
        assert_int_equal(counter(st, "lifetime_counters",
                                 "put_revocations_err"), 0);
        assert_int_equal(ring_count(st, "put_revocations", NULL), 2);
        json_decref(st);
    }

    /* a newer revocation: the sleds hold an older list, pushed again */
    db_revoke(f, "controller", "old-ctl");
    st = activate(f);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok"),
                     4);
    json_decref(st);
    assert_int_equal(sled_version(f, 0, &list), 2);
    assert_string_equal(list, "[\"controller:old-ctl\",\"operator:op-two\"]");
    mem_free(list);
    tls_cred_release(&o2);
}

/* A sled that lost its list is pushed in the run that lists it: after its
 * config and list, not at the next run (the task believed it current). */
static void test_tls_revpush__lost_list_pushed_same_run(void **state)
{
    struct fx *f = *state;
    const char *cfg, *upd;
    char *text;
    long off;
    json_t *st;

    db_revoke(f, "operator", "op-lost");
    st = activate(f);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok"),
                     2);
    json_decref(st);
    assert_int_equal(sled_version(f, 1, NULL), 1);
    /* sled 2 loses its datasets' copies (new datasets, say) */
    assert_int_equal(agentproc_stop(f->s[1], 20000), 0);
    for (int d = 0; d < 2; d++) {
        char *p = agentproc_path(f->s[1], d, "tls-revocations.json");

        assert_int_equal(unlink(p), 0);
        mem_free(p);
    }
    off = file_size(agentproc_log_path(f->s[1]));
    /* back on the same ports: its registration changes nothing, so no
     * run starts by itself; the next activation is the only run */
    {
        struct tls_cred me = tls_rig_cred(&f->g, "sled-2");
        char lis[40], dep[40];
        const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", me.cert,
                               "--tls-key", me.key, "--replicator", f->url,
                               "--register-interval", "1", "--listen", lis,
                               "--depot-listen", dep, NULL};

        snprintf(lis, sizeof(lis), "127.0.0.1:%d",
                 agentproc_api_port(f->s[1]));
        snprintf(dep, sizeof(dep), "127.0.0.1:%d",
                 agentproc_depot_port(f->s[1]));
        assert_int_equal(agentproc_set_args(f->s[1], extra), 0);
        assert_int_equal(agentproc_start(f->s[1]), 0);
        tls_cred_release(&me);
    }
    assert_int_equal(sled_version(f, 1, NULL), 0);
    st = activate(f);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok"),
                     3);
    assert_int_equal(ring_count(st, "put_revocations", TLS_RIG_SLED2), 2);
    json_decref(st);
    assert_int_equal(sled_version(f, 1, NULL), 1);
    /* in its new life the sled took the config before the push: the push
     * followed its list in the same run */
    text = read_from(agentproc_log_path(f->s[1]), off);
    cfg = strstr(text, "\"config_put\"");
    upd = strstr(text, "\"tls_revocations_updated\"");
    if (!cfg || !upd || upd < cfg)
        fail_msg("sled 2's log after restart: config_put at %p, "
                 "tls_revocations_updated at %p", (const void *)cfg,
                 (const void *)upd);
    mem_free(text);
}

/* A sled refusing the push (it holds a newer version) is an error of its
 * own: the other sled is pushed, both get their config. */
static void test_tls_revpush__refusal_stops_nothing(void **state)
{
    struct fx *f = *state;
    uint16_t s1 = (uint16_t)agentproc_api_port(f->s[1]);
    json_t *st, *ring;

    assert_int_equal(req(f, NULL, &f->ctl, s1, "PUT", REV,
                         "{\"version\":50,\"revoked\":[\"operator:x\"]}"),
                     204);
    db_revoke(f, "operator", "op-three");
    st = activate(f);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_ok"),
                     1);
    assert_int_equal(counter(st, "lifetime_counters", "put_revocations_err"),
                     1);
    assert_int_equal(counter(st, "last_run_counters", "put_config_ok"), 2);
    assert_int_equal(counter(st, "last_run_counters", "list_ok"), 2);
    ring = json_object_get(st, "request_ring");
    {
        const json_t *e;
        size_t i;
        bool seen = false;

        json_array_foreach(ring, i, e) {
            const char *o = json_string_value(json_object_get(e,
                                                              "operation"));
            const char *err = json_string_value(json_object_get(e, "error"));

            if (o && !strcmp(o, "put_revocations") && err) {
                assert_non_null(strstr(err, "409"));
                seen = true;
            }
        }
        assert_true(seen);
    }
    json_decref(st);
    assert_int_equal(sled_version(f, 0, NULL), 1);
    assert_int_equal(sled_version(f, 1, NULL), 50);
}

struct log_arg {
    struct fx *f;
    long off;
};

static bool registration_refused(void *arg)
{
    struct log_arg *l = arg;
    char *text = read_from(agentproc_log_path(l->f->s[0]), l->off);
    const char *r = strstr(text, "\"registration_failed\"");
    bool ok = r && strstr(r, "identity controller:ctl is revoked");

    mem_free(text);
    return ok;
}

/* A sled that holds the replicator's identity as revoked refuses it both
 * ways: its registration client will not talk to it, its listener will
 * not answer it; the other sled is not affected. */
static void test_tls_revpush__revoked_replicator_refused(void **state)
{
    struct fx *f = *state;
    struct log_arg la = {f, file_size(agentproc_log_path(f->s[0]))};
    json_t *st;

    assert_int_equal(req(f, NULL, &f->ctl,
                         (uint16_t)agentproc_api_port(f->s[0]), "PUT", REV,
                         "{\"version\":100,\"revoked\":[\"controller:ctl\"]}"),
                     204);
    assert_true(testutil_wait_for(registration_refused, &la, 15000));
    st = activate(f);
    assert_int_equal(counter(st, "last_run_counters", "put_config_ok"), 1);
    assert_int_equal(counter(st, "last_run_counters", "list_ok"), 1);
    json_decref(st);
    assert_int_equal(req(f, NULL, &f->ctl,
                         (uint16_t)agentproc_api_port(f->s[0]), "GET",
                         "/artifacts", NULL), 401);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_tls_revpush__pushed_when_behind_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revpush__lost_list_pushed_same_run, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revpush__refusal_stops_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revpush__revoked_replicator_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, pgtest_group_setup,
                                  pgtest_group_teardown);
}
