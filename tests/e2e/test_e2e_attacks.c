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
 * the issue's first section is re-run with every credential an attacker
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
 * own: the rack converges (invariants 1-4 of e2e_util).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/pki.h"
#include "sim/rack_pki.h"
#include "tests/e2e/e2e_util.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/testutil.h"

#define ART_BYTES 32768u
#define INT64_MAX_TEXT "9223372036854775807"
#define UPD "/v1/system/update"

/* Role bits of the route under attack: who may call it. */
#define R_OP 1u
#define R_CTL 2u
#define R_SLED 4u

/* One credential of the attacker's set. */
struct who {
    const char *name;
    struct tls_cred c;  /* c.cert NULL: no client certificate */
    unsigned role;      /* its role bit; 0: none */
    long want;          /* 401 (no good certificate) or 403 (wrong role) */
};

enum { W_NONE, W_FOREIGN_OP, W_FOREIGN_CTL, W_FOREIGN_SLED, W_OP, W_CTL,
       W_SLED1, W_COUNT };

struct att {
    struct e2e *t;
    char ca[PATH_MAX];
    struct who who[W_COUNT];
    char root_id[64];      /* the operator's trust root */
    char held[32];         /* the generation the guard holds */
    char gen[32];          /* the sleds' current ledger generation */
    char hash[SHA256_HEX_LEN + 1]; /* an artifact every sled holds */
    char *evil_root, *evil_zip;
    size_t evil_root_len, evil_zip_len;
    int trap_fd;           /* a listening port no source may reach */
    uint16_t trap;
    unsigned refused, handshakes, answered;
};

static struct att A;

static uint16_t repl_port(const struct att *a)
{
    return (uint16_t)a->t->r.repls[0].port;
}

static uint16_t api_port(const struct att *a, size_t k)
{
    return (uint16_t)a->t->r.sleds[k].api_port;
}

static uint16_t depot_port(const struct att *a, size_t k)
{
    return (uint16_t)a->t->r.sleds[k].depot_port;
}

static unsigned role_bit(enum tls_role r)
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

static void creds_init(struct att *a)
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

static void creds_release(struct att *a)
{
    for (size_t i = 0; i < W_COUNT; i++)
        tls_cred_release(&a->who[i].c);
}

/* One request over TLS 1.3 as w: the status (-1: no reply) and body. */
static long req(char **body, const struct att *a, const struct who *w,
                uint16_t port, const char *method, const char *path,
                const char *data, size_t len)
{
    return tls_rig_request(body, a->ca, w->c.cert ? &w->c : NULL, 0, port,
                           method, path, data, len);
}

/* GET path as w: asserts 200 and returns the JSON body (new reference). */
static json_t *get_json(const struct att *a, const struct who *w,
                        uint16_t port, const char *path)
{
    char *body = NULL;
    long st = req(&body, a, w, port, "GET", path, NULL, 0);
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
static void assert_refused(struct att *a, long st, const char *body,
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
static void attack(struct att *a, unsigned allowed, uint16_t port,
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
        st = req(&body, a, w, port, method, path, data, len);
        assert_refused(a, st, body, w->want, what, w->name);
        mem_free(body);
    }
}

static void attack_s(struct att *a, unsigned allowed, uint16_t port,
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

static json_t *snapshot(struct att *a)
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

static void assert_same(json_t *before, json_t *after, const char *when)
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

/* ---- the attacks ---- */

/* A source URL around a port number. */
struct form {
    const char *pre, *post;
};

/* The sled agent's mutations (controller only), on every sled. */
static void attack_sleds(struct att *a)
{
    static const struct form sources[] = {
        {"https://2130706433:", ""}, {"https://0x7f.0.0.1:", ""},
        {"https://localhost:", ""},  {"http://127.0.0.1:", ""},
        {"https://10.255.255.1:", ""}, {"https://127.0.0.1:", ""},
    };
    char path[256], body[256];

    for (size_t k = 0; k < a->t->r.nsleds; k++) {
        uint16_t p = api_port(a, k);

        attack_s(a, R_CTL, p, "PUT", "/artifacts-config",
                 "{\"generation\":" INT64_MAX_TEXT ",\"artifacts\":[]}");
        attack_s(a, R_CTL, p, "POST", "/artifacts-config/reset",
                 "{\"generation\":1,\"artifacts\":[],\"reason\":\"x\","
                 "\"requested_by\":\"attacker\"}");
        snprintf(path, sizeof(path), "/artifacts/%s?generation=%s", a->hash,
                 a->gen);
        attack_s(a, R_CTL, p, "PUT", path, "not the artifact");
        snprintf(path, sizeof(path),
                 "/artifacts/%s/copy-from-depot?generation=%s", a->hash,
                 a->gen);
        for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
            char url[64];

            snprintf(url, sizeof(url), "%s%u%s", sources[i].pre,
                     (unsigned)a->trap, sources[i].post);
            snprintf(body, sizeof(body), "{\"depot_base_url\":\"%s\"}", url);
            attack_s(a, R_CTL, p, "POST", path, body);
        }
    }
}

/* A listening loopback socket nobody should ever connect to. */
static int trap_open(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A loopback port with nothing listening. */
static uint16_t dead_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* No copy source ever connected to the trap port. */
static void trap_untouched(struct att *a)
{
    int fd = accept(a->trap_fd, NULL, NULL);

    if (fd >= 0) {
        close(fd);
        fail_msg("a refused copy source connected to the trap port");
    }
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* copy-from-depot as the controller: POST with body, the status and the
 * reply's message (mem_free). */
static long copy_as_ctl(char **msg, struct att *a, const char *body)
{
    char path[256], *reply = NULL;
    json_t *j;
    long st;

    snprintf(path, sizeof(path),
             "/artifacts/%s/copy-from-depot?generation=%s", a->hash, a->gen);
    st = req(&reply, a, &a->who[W_CTL], api_port(a, 0), "POST", path, body,
             strlen(body));
    j = reply ? json_loads(reply, 0, NULL) : NULL;
    *msg = mem_strdup(json_string_value(json_object_get(j, "message"))
                          ? json_string_value(json_object_get(j, "message"))
                          : "");
    json_decref(j);
    mem_free(reply);
    return st;
}

/*
 * Even the controller cannot make a sled a port scanner or a request
 * forger: every other spelling of a host and http:// are refused before
 * anything is contacted (the trap port sees no connection); a source that
 * is not a sled (the replicator's TLS port), the wrong sled, and a dead
 * port all fail alike, without detail. A real sled's depot is accepted.
 */
static void hostile_sources(struct att *a)
{
    static const struct form refused[] = {
        {"https://2130706433:", ""}, {"https://0x7f.0.0.1:", ""},
        {"https://0177.0.0.1:", ""}, {"https://127.1:", ""},
        {"https://localhost:", ""},  {"http://127.0.0.1:", ""},
        {"https://user@127.0.0.1:", ""}, {"https://127.0.0.1:", "/x"},
    };
    char body[256], url[96], *msg = NULL;
    long st;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(url, sizeof(url), "%s%u%s", refused[i].pre,
                 (unsigned)a->trap, refused[i].post);
        snprintf(body, sizeof(body), "{\"depot_base_url\":\"%s\"}", url);
        st = copy_as_ctl(&msg, a, body);
        if (st != 400)
            fail_msg("copy from %s as the controller: %ld %s, want 400",
                     url, st, msg);
        a->refused++;
        mem_free(msg);
    }
    trap_untouched(a);

    /*
     * Not a sled, the wrong sled, nothing listening: 502. A rack member
     * refused (its certificate chains to the rack CA) is named with the
     * reason, for the operator; anything else is only "unreachable", the
     * same words whatever happened: no scanning oracle.
     */
    {
        const struct {
            uint16_t port;
            const char *sled; /* source_sled_id or NULL */
            bool member;      /* a rack member: the reason is named */
        } bad[] = {
            {repl_port(a), NULL, true},
            {depot_port(a, 1), a->t->r.sleds[2].id, true},
            {dead_port(), NULL, false},
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (bad[i].sled)
                snprintf(body, sizeof(body),
                         "{\"depot_base_url\":\"https://127.0.0.1:%u\","
                         "\"source_sled_id\":\"%s\"}",
                         (unsigned)bad[i].port, bad[i].sled);
            else
                snprintf(body, sizeof(body),
                         "{\"depot_base_url\":\"https://127.0.0.1:%u\"}",
                         (unsigned)bad[i].port);
            st = copy_as_ctl(&msg, a, body);
            snprintf(url, sizeof(url), "source https://127.0.0.1:%u %s",
                     (unsigned)bad[i].port,
                     bad[i].member ? "refused: " : "unreachable");
            if (st != 502 || (bad[i].member
                                  ? strncmp(msg, url, strlen(url)) != 0
                                  : strcmp(msg, url) != 0))
                fail_msg("copy %s as the controller: %ld %s, want 502 %s",
                         body, st, msg, url);
            a->refused++;
            mem_free(msg);
        }
    }
    /* Control: a real sled's depot, named as that sled, is a source. */
    snprintf(body, sizeof(body),
             "{\"depot_base_url\":\"https://127.0.0.1:%u\","
             "\"source_sled_id\":\"%s\"}",
             (unsigned)depot_port(a, 1), a->t->r.sleds[1].id);
    st = copy_as_ctl(&msg, a, body);
    if (st != 202)
        fail_msg("copy from sled 1 as the controller: %ld %s, want 202", st,
                 msg);
    a->answered++;
    mem_free(msg);
}

static bool copies_idle(void *arg)
{
    struct att *a = arg;
    json_t *j = get_json(a, &a->who[W_CTL], api_port(a, 0), "/copies"), *e;
    bool running = false;
    size_t i;

    json_array_foreach(j, i, e) {
        const char *st = json_string_value(json_object_get(e, "state"));

        running |= st && !strcmp(st, "running");
    }
    json_decref(j);
    return !running;
}

/* The control copy (a redundant one, the newest) has ended, and well. */
static void wait_copies(struct att *a)
{
    json_t *j, *c;
    const char *st, *sha, *src;
    char port[16];

    if (!testutil_wait_for(copies_idle, a, 20000))
        fail_msg("sled 0's control copy did not end within 20 s");
    j = get_json(a, &a->who[W_CTL], api_port(a, 0), "/copies");
    c = json_array_get(j, 0);
    st = json_string_value(json_object_get(c, "state"));
    sha = json_string_value(json_object_get(c, "sha256"));
    src = json_string_value(json_object_get(c, "source"));
    snprintf(port, sizeof(port), ":%u", (unsigned)depot_port(a, 1));
    if (!st || strcmp(st, "done") || !sha || strcmp(sha, a->hash) || !src ||
        !strstr(src, port))
        fail_msg("sled 0's newest copy is %s from %s: %s, want the control "
                 "copy from sled 1, done", sha ? sha : "?", src ? src : "?",
                 st ? st : "?");
    json_decref(j);
}

/* The replicator's operator-only mutations. */
static void attack_replicator(struct att *a)
{
    char path[256];
    uint16_t p = repl_port(a);

    attack(a, R_OP, p, "POST", UPD "/trust-roots", a->evil_root,
           a->evil_root_len);
    snprintf(path, sizeof(path), UPD "/trust-roots/%s", a->root_id);
    attack_s(a, R_OP, p, "DELETE", path, NULL);
    attack(a, R_OP, p, "PUT", UPD "/repositories?file_name=evil.zip",
           a->evil_zip, a->evil_zip_len);
    attack_s(a, R_OP, p, "POST", UPD "/repositories/3.0.0/prune", NULL);
    attack_s(a, R_OP, p, "POST", "/generation/bump-past-fleet", NULL);
    snprintf(path, sizeof(path), "/generation/%s/confirm", a->held);
    attack_s(a, R_OP, p, "POST", path, NULL);
    for (size_t k = 0; k < a->t->r.nsleds; k++) {
        snprintf(path, sizeof(path), "/sled-agents/%s/expunge",
                 a->t->r.sleds[k].id);
        attack_s(a, R_OP, p, "POST", path, NULL);
        snprintf(path, sizeof(path), "/sled-agents/%s/reset-ledger",
                 a->t->r.sleds[k].id);
        attack_s(a, R_OP, p, "POST", path, "{\"generation\":1}");
    }
}

/* PUT /sled-agents/{id} as w; the status (and the reply, mem_free). */
static long reg(char **body, struct att *a, const struct who *w,
                const char *id, const char *addr, unsigned depot)
{
    char path[96], data[160];

    snprintf(path, sizeof(path), "/sled-agents/%s", id);
    snprintf(data, sizeof(data),
             "{\"api_address\":\"%s\",\"repo_depot_port\":%u}", addr, depot);
    return req(body, a, w, repl_port(a), "PUT", path, data, strlen(data));
}

/*
 * Registrations: fake sleds (each would list every artifact), another
 * sled's id, sled 0's id at the attacker's address over and over (with
 * sled 1's certificate, another CA's certificate for sled 0's id, and
 * none), and a malformed address from the right sled.
 */
static void attack_registry(struct att *a)
{
    static const char *const malformed[] = {
        "localhost:1", "0x7f.0.0.1:80", "2130706433:80", "127.0.0.1",
        "127.0.0.1:0", "127.0.0.1:65536", "[::1%lo]:80",
    };
    /* hosts no sled is reached at: each sled refuses them as a copy
     * source, so one stored would stall the copies of what only it holds */
    static const char *const unspecified[] = {"0.0.0.0", "[::]"};
    const char *sled0 = a->t->r.sleds[0].id, *sled1 = a->t->r.sleds[1].id;
    char path[96], data[160], addr[64];
    long st;

    snprintf(data, sizeof(data),
             "{\"api_address\":\"127.0.0.1:%u\",\"repo_depot_port\":%u}",
             (unsigned)dead_port(), (unsigned)dead_port());
    for (int i = 1; i <= 3; i++) {
        snprintf(path, sizeof(path),
                 "/sled-agents/66666666-6666-4666-8666-00000000000%d", i);
        attack_s(a, 0, repl_port(a), "PUT", path, data);
    }
    /* sled 0's id at another address, again and again */
    snprintf(path, sizeof(path), "/sled-agents/%s", sled0);
    for (int i = 0; i < 5; i++)
        attack_s(a, 0, repl_port(a), "PUT", path, data);

    /* The right sled, a malformed address: 400, nothing stored. */
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        char *body = NULL;

        st = reg(&body, a, &a->who[W_SLED1], sled1, malformed[i],
                 a->t->r.sleds[1].depot_port);
        assert_refused(a, st, body, 400, malformed[i], "sled 1");
        assert_non_null(strstr(body, "api_address"));
        mem_free(body);
    }
    for (size_t i = 0; i < 2; i++) {
        char *body = NULL;

        snprintf(addr, sizeof(addr), "%s:%u", unspecified[i],
                 a->t->r.sleds[1].api_port);
        st = reg(&body, a, &a->who[W_SLED1], sled1, addr,
                 a->t->r.sleds[1].depot_port);
        assert_refused(a, st, body, 400, addr, "sled 1");
        mem_free(body);
    }
    {
        char *body = NULL;

        st = reg(&body, a, &a->who[W_SLED1], sled1, "127.0.0.1:80", 0);
        assert_refused(a, st, body, 400, "repo_depot_port 0", "sled 1");
        mem_free(body);
    }
    /* Control: sled 1 refreshes its own registration (same address). */
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", a->t->r.sleds[1].api_port);
    st = reg(NULL, a, &a->who[W_SLED1], sled1, addr,
             a->t->r.sleds[1].depot_port);
    if (st != 200)
        fail_msg("sled 1 registering itself: %ld, want 200", st);
    a->answered++;
}

/* A listener and a GET it answers to w (path NULL: the depot's artifact). */
struct listener {
    uint16_t port;
    const char *path;
    const struct who *w;
};

/* Plaintext HTTP and a TLS 1.2-only client against every listener. */
static void attack_transport(struct att *a)
{
    const struct who *op = &a->who[W_OP], *ctl = &a->who[W_CTL];
    struct listener l[1 + 2 * RACK_MAX_SLEDS];
    size_t n = 0;

    l[n++] = (struct listener){repl_port(a), "/sled-agents", op};
    for (size_t k = 0; k < a->t->r.nsleds; k++) {
        l[n++] = (struct listener){api_port(a, k), "/artifacts", op};
        l[n++] = (struct listener){depot_port(a, k), NULL, ctl};
    }
    for (size_t i = 0; i < n; i++) {
        char path[128];

        if (l[i].path)
            snprintf(path, sizeof(path), "%s", l[i].path);
        else
            snprintf(path, sizeof(path), "/artifact/sha256/%s", a->hash);
        if (tls_rig_plain(l[i].port, path) != -1)
            fail_msg("plaintext GET %s on port %u answered", path,
                     (unsigned)l[i].port);
        if (tls_rig_request(NULL, a->ca, &l[i].w->c, TLS1_2_VERSION,
                            l[i].port, "GET", path, NULL, 0) != -1)
            fail_msg("TLS 1.2 GET %s on port %u as %s answered", path,
                     (unsigned)l[i].port, l[i].w->name);
        a->refused += 2;
        /* Control: the same client, TLS 1.3, the same credential. */
        if (tls_rig_request(NULL, a->ca, &l[i].w->c, 0, l[i].port, "GET",
                            path, NULL, 0) != 200)
            fail_msg("TLS 1.3 GET %s on port %u as %s not answered", path,
                     (unsigned)l[i].port, l[i].w->name);
        a->answered++;
    }
}

/*
 * Controls: each refused credential class meets a route its role may use,
 * with the same client: the refusals are not a broken client.
 */
static void controls(struct att *a)
{
    char path[128];
    json_t *j;

    j = get_json(a, &a->who[W_CTL], api_port(a, 0), "/artifacts-config");
    json_decref(j);
    j = get_json(a, &a->who[W_OP], repl_port(a), UPD "/trust-roots");
    json_decref(j);
    snprintf(path, sizeof(path), "/artifact/sha256/%s", a->hash);
    if (req(NULL, a, &a->who[W_SLED1], depot_port(a, 0), "HEAD", path, NULL,
            0) != 200)
        fail_msg("sled 1 HEAD on sled 0's depot refused");
    a->answered += 3;
    /* another CA's certificates are well-formed leaves: each carries an
     * identity the services would read (only the chain is wrong) */
    for (size_t i = W_FOREIGN_OP; i <= W_FOREIGN_SLED; i++) {
        struct tls_identity id;
        struct err err = ERR_INIT;

        if (tls_cert_file_identity(&id, a->who[i].c.cert, &err) < 0)
            fail_msg("%s: %s", a->who[i].name, err.msg);
        assert_string_equal(id.rack_id, a->t->r.rack_id);
        assert_int_equal(role_bit(id.role), a->who[i].role);
    }
}

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
