/* SPDX-License-Identifier: MPL-2.0 */
/*
 * attacks_routes: the attacks of test_e2e_attacks, route by route: the
 * sled agents' mutations, hostile copy sources (and the trap port no
 * source may reach), the replicator's operator-only mutations, sled
 * registrations, plaintext and TLS 1.2 transport; and the controls (the
 * same client with the right credential is answered).
 */
#include "tests/e2e/attacks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/testutil.h"

/* A source URL around a port number. */
struct form {
    const char *pre, *post;
};

/* The sled agent's mutations (controller only), on every sled. */
void attack_sleds(struct att *a)
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
int trap_open(uint16_t *port)
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
void trap_untouched(struct att *a)
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
    st = att_req(&reply, a, &a->who[W_CTL], api_port(a, 0), "POST", path,
                 body, strlen(body));
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
void hostile_sources(struct att *a)
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
void wait_copies(struct att *a)
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
void attack_replicator(struct att *a)
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
    return att_req(body, a, w, repl_port(a), "PUT", path, data,
                   strlen(data));
}

/*
 * Registrations: fake sleds (each would list every artifact), another
 * sled's id, sled 0's id at the attacker's address over and over (with
 * sled 1's certificate, another CA's certificate for sled 0's id, and
 * none), and a malformed address from the right sled.
 */
void attack_registry(struct att *a)
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
void attack_transport(struct att *a)
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
void controls(struct att *a)
{
    char path[128];
    json_t *j;

    j = get_json(a, &a->who[W_CTL], api_port(a, 0), "/artifacts-config");
    json_decref(j);
    j = get_json(a, &a->who[W_OP], repl_port(a), UPD "/trust-roots");
    json_decref(j);
    snprintf(path, sizeof(path), "/artifact/sha256/%s", a->hash);
    if (att_req(NULL, a, &a->who[W_SLED1], depot_port(a, 0), "HEAD", path,
                NULL, 0) != 200)
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
