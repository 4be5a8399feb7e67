/* SPDX-License-Identifier: MPL-2.0 */
/*
 * attacks_rig: the rig of test_e2e_attacks: the ports of the rack, the
 * attacker's credential set, one request as one credential, one attack
 * run with every credential that must be refused (and the refusal
 * checked), and the snapshot of the rack's state no attack may change.
 */
#include "tests/e2e/attacks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "replicator/pki.h"
#include "sim/rack_pki.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/testutil.h"

uint16_t repl_port(const struct att *a)
{
    return (uint16_t)a->t->r.repls[0].port;
}

uint16_t api_port(const struct att *a, size_t k)
{
    return (uint16_t)a->t->r.sleds[k].api_port;
}

uint16_t depot_port(const struct att *a, size_t k)
{
    return (uint16_t)a->t->r.sleds[k].depot_port;
}

unsigned role_bit(enum tls_role r)
{
    return r == TLS_ROLE_OPERATOR     ? R_OP
           : r == TLS_ROLE_CONTROLLER ? R_CTL
           : r == TLS_ROLE_SLED       ? R_SLED
                                      : 0;
}

static struct tls_cred cred_dup(const char *cert, const char *key)
{
    struct tls_cred c = {mem_strdup(cert), mem_strdup(key)};

    assert_true(c.cert && c.key);
    return c;
}

/* A leaf of the attacker's CA (same rack id) under dir. */
static struct tls_cred foreign(const char *dir, enum tls_role role,
                               const char *id, const char *name)
{
    static const char *const ips[] = {"127.0.0.1"};
    char cert[PATH_MAX + 64], key[PATH_MAX + 64];
    struct pki_leaf_req req = {role, id, 30, ips, 1, cert, key};
    struct err err = ERR_INIT;

    snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
    snprintf(key, sizeof(key), "%s/%s.key", dir, name);
    if (pki_issue(NULL, dir, &req, &err) < 0)
        fail_msg("issue %s: %s", name, err.msg);
    return cred_dup(cert, key);
}

void creds_init(struct att *a)
{
    struct e2e *t = a->t;
    char dir[PATH_MAX + 16];
    struct rack_cred rc;
    struct err err = ERR_INIT;
    struct who *w = a->who;

    rack_cred_operator(&rc, &t->r);
    snprintf(a->ca, sizeof(a->ca), "%s", rc.ca);
    /* Another CA claiming the same rack id: right roles, wrong chain. */
    snprintf(dir, sizeof(dir), "%s/attacker-ca", t->dir);
    if (pki_init(dir, t->r.rack_id, 30, &err) < 0)
        fail_msg("attacker CA: %s", err.msg);
    w[W_NONE] = (struct who){"no certificate", {NULL, NULL}, 0, 401};
    w[W_FOREIGN_OP] = (struct who){
        "another CA's operator",
        foreign(dir, TLS_ROLE_OPERATOR, RACK_OPERATOR_ID, "op"), R_OP, 401};
    w[W_FOREIGN_CTL] = (struct who){
        "another CA's controller",
        foreign(dir, TLS_ROLE_CONTROLLER, "replicator-0", "ctl"), R_CTL, 401};
    w[W_FOREIGN_SLED] = (struct who){
        "another CA's sled 0",
        foreign(dir, TLS_ROLE_SLED, t->r.sleds[0].id, "sled0"), R_SLED, 401};
    w[W_OP] = (struct who){"the operator", cred_dup(rc.cert, rc.key), R_OP,
                           403};
    rack_cred_repl(&rc, &t->r, 0);
    w[W_CTL] = (struct who){"the controller", cred_dup(rc.cert, rc.key),
                            R_CTL, 403};
    rack_cred_sled(&rc, &t->r, 1);
    w[W_SLED1] = (struct who){"sled 1", cred_dup(rc.cert, rc.key), R_SLED,
                              403};
}

void creds_release(struct att *a)
{
    for (size_t i = 0; i < W_COUNT; i++)
        tls_cred_release(&a->who[i].c);
}

/* One request over TLS 1.3 as w: the status (-1: no reply) and body. */
long att_req(char **body, const struct att *a, const struct who *w,
             uint16_t port, const char *method, const char *path,
             const char *data, size_t len)
{
    return tls_rig_request(body, a->ca, w->c.cert ? &w->c : NULL, 0, port,
                           method, path, data, len);
}

/* GET path as w: asserts 200 and returns the JSON body (new reference). */
json_t *get_json(const struct att *a, const struct who *w,
                 uint16_t port, const char *path)
{
    char *body = NULL;
    long st = att_req(&body, a, w, port, "GET", path, NULL, 0);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;

    if (st != 200 || !j)
        fail_msg("GET %s as %s: %ld %s", path, w->name, st,
                 body ? body : "");
    mem_free(body);
    return j;
}

/*
 * A refusal of a request as w: want 401 (UNAUTHENTICATED, or no reply at
 * all when the handshake itself failed), 403 (FORBIDDEN) or 400, as JSON
 * with a request id.
 */
void assert_refused(struct att *a, long st, const char *body,
                    long want, const char *what, const char *who)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error_code"));
    const char *wcode = want == 401   ? "UNAUTHENTICATED"
                        : want == 403 ? "FORBIDDEN"
                                      : NULL;
    bool ok;

    if (want == 401 && st == -1) {
        a->handshakes++;
        a->refused++;
        json_decref(j);
        return;
    }
    ok = st == want && json_is_string(json_object_get(j, "request_id")) &&
         json_is_string(json_object_get(j, "message")) &&
         (!wcode || (code && strcmp(code, wcode) == 0));
    if (!ok)
        fail_msg("%s as %s: %ld %s, want %ld %s", what, who, st,
                 body ? body : "", want, wcode ? wcode : "");
    a->refused++;
    json_decref(j);
}

/*
 * Run one attack with every credential whose role is not in allowed:
 * each must be refused (401 without a good certificate, 403 with a valid
 * one of another role). The same client with the right credential is
 * checked separately (controls).
 */
void attack(struct att *a, unsigned allowed, uint16_t port,
            const char *method, const char *path, const char *data,
            size_t len)
{
    char what[512];

    snprintf(what, sizeof(what), "%s %s:%u%s", method, "127.0.0.1",
             (unsigned)port, path);
    for (size_t i = 0; i < W_COUNT; i++) {
        const struct who *w = &a->who[i];
        char *body = NULL;
        long st;

        if (w->want == 403 && (w->role & allowed))
            continue;
        st = att_req(&body, a, w, port, method, path, data, len);
        assert_refused(a, st, body, w->want, what, w->name);
        mem_free(body);
    }
}

void attack_s(struct att *a, unsigned allowed, uint16_t port,
              const char *method, const char *path, const char *data)
{
    attack(a, allowed, port, method, path, data, data ? strlen(data) : 0);
}

/* ---- the snapshot ---- */

static json_t *pick(json_t *from, const char *const *keys)
{
    json_t *o = json_object();

    for (size_t i = 0; keys[i]; i++)
        json_object_set(o, keys[i], json_object_get(from, keys[i]));
    return o;
}

/* Each element of array member name of doc reduced to keys. */
static json_t *pick_each(json_t *doc, const char *name,
                         const char *const *keys)
{
    json_t *out = json_array(), *e;
    size_t i;

    json_array_foreach(json_object_get(doc, name), i, e)
        json_array_append_new(out, pick(e, keys));
    return out;
}

static size_t trash_count(struct e2e *t, size_t k, char w)
{
    char p[PATH_MAX + 16];

    e2e_path(p, sizeof(p), t, k, w, "trash");
    return (size_t)testutil_dir_count(p);
}

json_t *snapshot(struct att *a)
{
    static const char *const sled_keys[] = {"id", "api_address",
                                            "repo_depot_port", NULL};
    static const char *const repo_keys[] = {"id", "system_version", "sha256",
                                            "pruned", "failed", NULL};
    static const char *const task_keys[] = {"generation", "held_generations",
                                            NULL};
    static const char *const inv_keys[] = {"generation", "list", "datasets",
                                           NULL};
    const struct who *op = &a->who[W_OP];
    struct e2e *t = a->t;
    json_t *s = json_object(), *sleds = json_array(), *j;

    for (size_t k = 0; k < t->r.nsleds; k++) {
        json_t *inv = get_json(a, op, api_port(a, k), "/artifacts");
        json_t *one = pick(inv, inv_keys);

        json_decref(inv);
        json_object_set_new(one, "config",
                            get_json(a, op, api_port(a, k),
                                     "/artifacts-config"));
        for (char w = 'A'; w <= 'B'; w++) {
            char key[16];

            snprintf(key, sizeof(key), "files_%c", w);
            json_object_set_new(one, key,
                                json_integer((json_int_t)e2e_dataset_files(
                                    t, k, w)));
            snprintf(key, sizeof(key), "trash_%c", w);
            json_object_set_new(one, key,
                                json_integer((json_int_t)trash_count(t, k,
                                                                     w)));
        }
        json_array_append_new(sleds, one);
    }
    json_object_set_new(s, "sleds", sleds);
    j = get_json(a, op, repl_port(a), UPD "/trust-roots");
    json_object_set_new(s, "trust_roots",
                        pick_each(j, "trust_roots",
                                  (const char *const[]){"id", NULL}));
    json_decref(j);
    j = get_json(a, op, repl_port(a), UPD "/repositories");
    json_object_set_new(s, "repositories",
                        pick_each(j, "repositories", repo_keys));
    json_decref(j);
    j = get_json(a, op, repl_port(a), UPD "/staged");
    json_object_set(s, "staged", json_object_get(j, "staged"));
    json_decref(j);
    j = get_json(a, op, repl_port(a), "/sled-agents");
    json_object_set_new(s, "sled_registry", pick_each(j, "sleds", sled_keys));
    json_decref(j);
    j = get_json(a, op, repl_port(a),
                 "/background-tasks/tuf_artifact_replication");
    json_object_set_new(s, "task", pick(j, task_keys));
    json_decref(j);
    return s;
}

void assert_same(json_t *before, json_t *after, const char *when)
{
    if (!json_equal(before, after)) {
        char *b = json_dumps(before, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *f = json_dumps(after, JSON_INDENT(1) | JSON_SORT_KEYS);

        fprintf(stderr, "before:\n%s\nafter (%s):\n%s\n", b, when, f);
        mem_free(b); /* jansson uses the C allocator; mem_free is free */
        mem_free(f);
        fail_msg("the rack's state changed %s", when);
    }
}
