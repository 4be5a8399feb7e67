/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_tls_agent: the sledagent's two listeners on mutual TLS (issue 9):
 * every route of the agent API and the depot against every role (allowed:
 * neither 401 nor 403; refused: 401/403 JSON and nothing changed), no
 * client certificate, expired, not-yet-valid, another CA's and revoked
 * certificates (--tls-revoked re-read on SIGHUP), a plaintext and a TLS
 * 1.2-only client, a depot file reply over TLS byte for byte, and 500
 * concurrent handshakes while a legitimate request is answered.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tests/support/agentproc.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"
#include "tests/integration/tls_rig.h"

struct fx {
    struct tls_rig g;
    struct agentproc *a;
    char *revoked;      /* the --tls-revoked file */
    struct tls_cred ctl, op, sled2;
    char sha[SHA256_HEX_LEN + 1];
    char *data;         /* the stored artifact's bytes */
    size_t len;
};

#define ART_LEN (3u * 1024 * 1024 + 17)

static long req(struct fx *f, char **body, const struct tls_cred *c,
                uint16_t port, const char *method, const char *path,
                const char *data)
{
    return tls_rig_request(body, f->g.ca, c, 0, port, method, path, data,
                           data ? strlen(data) : 0);
}

static uint16_t api(struct fx *f)
{
    return (uint16_t)agentproc_api_port(f->a);
}

static uint16_t depot(struct fx *f)
{
    return (uint16_t)agentproc_depot_port(f->a);
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));
    struct tls_cred sled;
    char cfg[256];
    long st;

    assert_non_null(f);
    tls_rig_init(&f->g);
    sled = tls_rig_cred(&f->g, "sled-1");
    f->ctl = tls_rig_cred(&f->g, "controller-ctl");
    f->op = tls_rig_cred(&f->g, "operator-op");
    f->sled2 = tls_rig_cred(&f->g, "sled-2");
    f->revoked = testutil_join(f->g.dir, "revoked.json");
    assert_int_equal(testutil_write_file(f->revoked, "[]", 2), 0);
    {
        const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", sled.cert,
                               "--tls-key", sled.key, "--tls-revoked",
                               f->revoked, NULL};

        assert_int_equal(agentproc_new(&f->a, extra), 0);
    }
    assert_int_equal(agentproc_start(f->a), 0);
    tls_cred_release(&sled);
    /* one artifact, stored by the controller */
    f->len = ART_LEN;
    f->data = mem_alloc(f->len);
    assert_non_null(f->data);
    for (size_t i = 0; i < f->len; i++)
        f->data[i] = (char)(i * 7 + i / 4096);
    {
        struct sha256 h;

        assert_int_equal(sha256_digest(&h, f->data, f->len), 0);
        sha256_to_hex(f->sha, &h);
    }
    snprintf(cfg, sizeof(cfg), "{\"generation\":1,\"artifacts\":[\"%s\"]}",
             f->sha);
    assert_int_equal(req(f, NULL, &f->ctl, api(f), "PUT", "/artifacts-config",
                         cfg), 204);
    {
        char path[128];

        snprintf(path, sizeof(path), "/artifacts/%s?generation=1", f->sha);
        st = tls_rig_request(NULL, f->g.ca, &f->ctl, 0, api(f), "PUT", path,
                             f->data, f->len);
        if (st != 201 && st != 204 && st != 200)
            fail_msg("controller PUT artifact: %ld", st);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    agentproc_free(f->a);
    tls_cred_release(&f->ctl);
    tls_cred_release(&f->op);
    tls_cred_release(&f->sled2);
    mem_free(f->revoked);
    mem_free(f->data);
    tls_rig_free(&f->g);
    mem_free(f);
    return 0;
}

/* The generation of GET /artifacts-config (as the controller). */
static long generation(struct fx *f)
{
    char *body = NULL;
    long gen = -1;
    json_t *j;

    assert_int_equal(req(f, &body, &f->ctl, api(f), "GET",
                         "/artifacts-config", NULL), 200);
    j = json_loads(body, 0, NULL);
    if (j)
        gen = (long)json_integer_value(json_object_get(j, "generation"));
    json_decref(j);
    mem_free(body);
    return gen;
}

/* A refusal: status and the JSON error_code. */
static void assert_refused(long st, const char *body, long want,
                           const char *what)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error_code"));
    const char *wcode = want == 401 ? "UNAUTHENTICATED" : "FORBIDDEN";

    if (st != want || !code || strcmp(code, wcode) != 0 ||
        !json_is_string(json_object_get(j, "request_id")))
        fail_msg("%s: %ld %s, want %ld %s", what, st, body ? body : "",
                 want, wcode);
    json_decref(j);
}

struct route_case {
    int depot;            /* 1: depot listener */
    const char *method;
    const char *path;     /* '@': the artifact's sha256 */
    const char *body;
    unsigned allow;       /* bits: 1 controller, 2 operator, 4 sled */
};

static const struct route_case routes[] = {
    {0, "GET", "/artifacts-config", NULL, 3},
    {0, "PUT", "/artifacts-config",
     "{\"generation\":9223372036854775807,\"artifacts\":[]}", 1},
    {0, "GET", "/artifacts", NULL, 3},
    {0, "PUT", "/artifacts/@?generation=1", "x", 1},
    {0, "POST", "/artifacts/@/copy-from-depot?generation=1",
     "{\"depot_base_url\":\"http://127.0.0.1:1\"}", 1},
    {0, "GET", "/copies", NULL, 3},
    {0, "GET", "/metrics", NULL, 3},
    {1, "GET", "/artifact/sha256/@", NULL, 5},
    {1, "HEAD", "/artifact/sha256/@", NULL, 5},
    {1, "GET", "/artifact/sha256/@/pieces", NULL, 5},
    {1, "GET", "/artifact/sha256/@/have", NULL, 5},
    {0, "GET", "/tls-revocations", NULL, 3},
    /* a body the allowed controller gets 400 for: nothing changes */
    {0, "PUT", "/tls-revocations", "{}", 1},
    /* issue 12: the controller clears a hold (none held here: 404) */
    {0, "DELETE", "/artifacts-override/00000000-0000-4000-8000-000000000001",
     NULL, 1},
    {0, "POST", "/artifacts-config/reset", "{}", 1},
};

static void test_tls_agent__routes_by_role(void **state)
{
    struct fx *f = *state;
    const struct tls_cred *who[] = {&f->ctl, &f->op, &f->sled2};
    const char *names[] = {"controller", "operator", "sled"};

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route_case *rc = &routes[i];
        char path[160];

        const char *at = strchr(rc->path, '@');

        if (at)
            snprintf(path, sizeof(path), "%.*s%s%s", (int)(at - rc->path),
                     rc->path, f->sha, at + 1);
        else
            snprintf(path, sizeof(path), "%s", rc->path);
        for (size_t w = 0; w < 3; w++) {
            bool allowed = rc->allow & (1u << w);
            /* the allowed controller must not brick the sled here: its
             * config PUT is tested for refusals only */
            bool skip = allowed && rc->body && strstr(rc->body, "9223");
            char *body = NULL;
            long st;

            if (skip)
                continue;
            st = req(f, &body, who[w], rc->depot ? depot(f) : api(f),
                     rc->method, path, rc->body);
            if (allowed && (st == 401 || st == 403 || st < 0))
                fail_msg("%s %s as %s: %ld, want allowed", rc->method, path,
                         names[w], st);
            if (!allowed && strcmp(rc->method, "HEAD") == 0)
                assert_int_equal(st, 403);
            else if (!allowed)
                assert_refused(st, body, 403, path);
            mem_free(body);
            /* nothing changed by any refusal */
            assert_int_equal(generation(f), 1);
        }
        /* and nobody without a certificate */
        {
            char *body = NULL;
            long st = req(f, &body, NULL, rc->depot ? depot(f) : api(f),
                          rc->method, path, rc->body);

            if (strcmp(rc->method, "HEAD") == 0)
                assert_int_equal(st, 401);
            else
                assert_refused(st, body, 401, path);
            mem_free(body);
        }
    }
    assert_int_equal(generation(f), 1);
}

/* Certificates that must get 401 on a read any good role may do. */
static void test_tls_agent__bad_certificates(void **state)
{
    struct fx *f = *state;
    int64_t now = (int64_t)time(NULL);
    struct tls_cred bad[3];
    const char *what[] = {"expired", "not yet valid", "another CA"};
    char *body = NULL;

    bad[0] = tls_rig_issue(&f->g, "op-expired", TLS_ROLE_OPERATOR, "op-old",
                           now - 10 * 86400, 1, 0);
    bad[1] = tls_rig_issue(&f->g, "op-future", TLS_ROLE_OPERATOR, "op-new",
                           now + 10 * 86400, 5, 0);
    bad[2] = tls_rig_issue(&f->g, "op-other", TLS_ROLE_OPERATOR, "op", 0, 5,
                           1);
    for (size_t i = 0; i < 3; i++) {
        long st = req(f, &body, &bad[i], api(f), "GET", "/artifacts", NULL);

        printf("# %s certificate: %ld %s\n", what[i], st, body ? body : "");
        assert_refused(st, body, 401, what[i]);
        mem_free(body);
        body = NULL;
        st = req(f, &body, &bad[i], depot(f), "GET", "/artifact/sha256/"
                 "0000000000000000000000000000000000000000000000000000000000"
                 "000000", NULL);
        assert_refused(st, body, 401, what[i]);
        mem_free(body);
        body = NULL;
    }
    for (size_t i = 0; i < 3; i++)
        tls_cred_release(&bad[i]);
    /* a sled certificate as the controller: 403, nothing stored */
    assert_int_equal(req(f, NULL, &f->sled2, api(f), "PUT",
                         "/artifacts-config",
                         "{\"generation\":2,\"artifacts\":[]}"), 403);
    assert_int_equal(generation(f), 1);
}

static char *cert_serial(const char *path)
{
    char serial[TLS_SERIAL_HEX_MAX + 1];
    FILE *fp = fopen(path, "r");
    X509 *x;

    assert_non_null(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    assert_int_equal(tls_cert_serial(serial, x, NULL), 0);
    X509_free(x);
    return mem_strdup(serial);
}

struct poll_arg {
    struct fx *f;
    const struct tls_cred *c;
    long want;
};

static bool status_is(void *arg)
{
    struct poll_arg *p = arg;

    return req(p->f, NULL, p->c, api(p->f), "GET", "/artifacts", NULL) ==
           p->want;
}

/* Revoked by serial and by identity: 401 after SIGHUP; others unharmed. */
static void test_tls_agent__revoked(void **state)
{
    struct fx *f = *state;
    struct tls_cred a = tls_rig_issue(&f->g, "op-a", TLS_ROLE_OPERATOR,
                                      "op-a", 0, 5, 0);
    struct tls_cred b = tls_rig_issue(&f->g, "op-b", TLS_ROLE_OPERATOR,
                                      "op-b", 0, 5, 0);
    char *serial = cert_serial(a.cert), list[256];
    struct poll_arg pa = {f, &a, 401}, pb = {f, &b, 401};
    char *body = NULL;

    assert_int_equal(req(f, NULL, &a, api(f), "GET", "/artifacts", NULL),
                     200);
    assert_int_equal(req(f, NULL, &b, api(f), "GET", "/artifacts", NULL),
                     200);
    snprintf(list, sizeof(list), "[\"%s\", \"operator:op-b\"]", serial);
    assert_int_equal(testutil_write_file(f->revoked, list, strlen(list)), 0);
    assert_int_equal(proc_signal(agentproc_proc(f->a), SIGHUP), 0);
    assert_true(testutil_wait_for(status_is, &pa, 10000));
    assert_true(testutil_wait_for(status_is, &pb, 10000));
    {
        long st = req(f, &body, &a, api(f), "GET", "/artifacts", NULL);

        assert_refused(st, body, 401, "revoked serial");
    }
    mem_free(body);
    assert_int_equal(req(f, NULL, &f->op, api(f), "GET", "/artifacts", NULL),
                     200);
    assert_true(agentproc_alive(f->a));
    mem_free(serial);
    tls_cred_release(&a);
    tls_cred_release(&b);
    assert_int_equal(testutil_write_file(f->revoked, "[]", 2), 0);
}

/* A plaintext client and a TLS 1.2-only client fail at the handshake. */
static void test_tls_agent__plaintext_and_tls12(void **state)
{
    struct fx *f = *state;

    assert_int_equal(tls_rig_plain(api(f), "/artifacts"), -1);
    assert_int_equal(tls_rig_plain(depot(f), "/artifact/sha256/x"), -1);
    assert_int_equal(tls_rig_request(NULL, f->g.ca, &f->op, TLS1_2_VERSION,
                                     api(f), "GET", "/artifacts", NULL, 0),
                     -1);
    assert_int_equal(tls_rig_request(NULL, f->g.ca, &f->sled2, TLS1_2_VERSION,
                                     depot(f), "GET", "/artifacts", NULL, 0),
                     -1);
    assert_int_equal(req(f, NULL, &f->op, api(f), "GET", "/artifacts", NULL),
                     200);
}

/* The depot's file reply over TLS is the artifact, byte for byte (file
 * segments of the reply through SSL_write), twice on fresh connections. */
static void test_tls_agent__depot_file(void **state)
{
    struct fx *f = *state;
    char path[128];

    char *body = NULL;
    const char *m;

    snprintf(path, sizeof(path), "/artifact/sha256/%s", f->sha);
    for (int i = 0; i < 2; i++)
        assert_int_equal(tls_rig_fetch_check(f->g.ca, &f->sled2, depot(f),
                                             path, f->data, f->len),
                         200);
    /* the sent hook counts TLS replies too; the expiry gauge is there */
    assert_int_equal(req(f, &body, &f->op, api(f), "GET", "/metrics", NULL),
                     200);
    m = strstr(body, "\nsledagent_depot_bytes_total ");
    assert_non_null(m);
    m += strlen("\nsledagent_depot_bytes_total ");
    printf("# depot bytes counted: %llu (2 replies of %zu here, 2 before)\n",
           strtoull(m, NULL, 10), f->len);
    assert_true(strtoull(m, NULL, 10) >= 2ull * f->len);
    assert_non_null(strstr(body, "\nsledagent_tls_cert_expiry_timestamp_"
                                 "seconds "));
    mem_free(body);
}

/* A client that connects and never starts its handshake is cut off at the
 * handshake deadline (LIMIT_TLS_HANDSHAKE_SECS, 10 s), not the idle time. */
static void test_tls_agent__handshake_deadline(void **state)
{
    struct fx *f = *state;
    struct timespec t0, t1;
    double secs;
    long st;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = tls_rig_silent(api(f), 30000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# silent client closed after %.1f s\n", secs);
    assert_int_equal(st, 0);
    assert_true(secs >= 9.0 && secs < 20.0);
}

struct hup_arg {
    struct fx *f;
    const char *old_serial;
};

/* A new connection sees a certificate other than old_serial. */
static bool new_cert_served(void *arg)
{
    struct hup_arg *h = arg;
    struct tls_conn *c = tls_rig_connect(h->f->g.ca, &h->f->op,
                                         api(h->f));
    char *serial = c ? tls_rig_conn_server_serial(c) : NULL;
    bool changed = serial && strcmp(serial, h->old_serial) != 0;

    mem_free(serial);
    tls_rig_conn_close(c);
    return changed;
}

/* SIGHUP with a renewed certificate: new connections get it, an open
 * keep-alive connection goes on. */
static void test_tls_agent__sighup_reload(void **state)
{
    struct fx *f = *state;
    struct tls_conn *open = tls_rig_connect(f->g.ca, &f->op, api(f));
    char *old;
    struct tls_cred renewed;
    struct hup_arg h = {f, NULL};

    assert_non_null(open);
    assert_int_equal(tls_rig_conn_get(open, "/artifacts"), 200);
    old = tls_rig_conn_server_serial(open);
    h.old_serial = old;
    /* pki issue again for the same identity, over the files in use */
    renewed = tls_rig_issue(&f->g, "sled-1", TLS_ROLE_SLED, TLS_RIG_SLED, 0,
                            30, 0);
    assert_int_equal(proc_signal(agentproc_proc(f->a), SIGHUP), 0);
    assert_true(testutil_wait_for(new_cert_served, &h, 10000));
    assert_int_equal(tls_rig_conn_get(open, "/artifacts"), 200);
    assert_int_equal(tls_rig_conn_get(open, "/copies"), 200);
    tls_rig_conn_close(open);
    mem_free(old);
    tls_cred_release(&renewed);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1000.0 +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* 500 handshakes at once; a legitimate request is still answered. */
static void test_tls_agent__handshake_flood(void **state)
{
    struct fx *f = *state;
    struct tls_flood *fl = tls_rig_flood_start(f->g.ca, &f->op, api(f), 500);
    struct timespec t0;
    double ms;
    size_t done;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(req(f, NULL, &f->ctl, api(f), "GET", "/artifacts", NULL),
                     200);
    ms = ms_since(&t0);
    printf("# legitimate request during 500 handshakes: %.1f ms\n", ms);
    done = tls_rig_flood_finish(fl, 30000);
    printf("# handshakes completed: %zu of 500\n", done);
    assert_true(ms < 5000.0);
    assert_true(agentproc_alive(f->a));
    assert_int_equal(req(f, NULL, &f->op, api(f), "GET", "/artifacts", NULL),
                     200);
}

/*
 * --rate-limit holds for depot replies over TLS too: the SSL bufferevent
 * writes a buffer chain whole, so a file reply handed over at once left
 * at full speed (3 MB at 1 MB/s in 36 ms) until replies went in chunks.
 */
static void test_tls_agent__rate_limit(void **state)
{
    struct fx *f = *state;
    struct tls_cred sled = tls_rig_cred(&f->g, "sled-1");
    const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", sled.cert,
                           "--tls-key", sled.key, "--rate-limit", "1000000",
                           NULL};
    struct timespec t0, t1;
    double secs;

    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(agentproc_set_args(f->a, extra), 0);
    assert_int_equal(agentproc_start(f->a), 0);
    {
        char path[128];

        snprintf(path, sizeof(path), "/artifact/sha256/%s", f->sha);
        /* the first second's burst is free: time a second reply */
        assert_int_equal(tls_rig_fetch_check(f->g.ca, &f->sled2, depot(f),
                                             path, f->data, f->len),
                         200);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(tls_rig_fetch_check(f->g.ca, &f->sled2, depot(f),
                                             path, f->data, f->len),
                         200);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    }
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# %zu bytes at 1 MB/s over TLS: %.2f s\n", f->len, secs);
    assert_true(secs > 2.0);
    tls_cred_release(&sled);
}

/*
 * A request body read under --rate-limit over TLS is read to its end
 * even when its last record arrived whole: OpenSSL decrypts a record at
 * once, the limit let libevent take only part of it, and libevent's
 * socket SSL bufferevent only reads again when the socket is readable,
 * which it never was again (the client waits for the reply). The PUT
 * stalled until the client gave up (the replicator after its 30 s
 * no-progress bound). Here: a 12000-byte body, one TLS record, at 4096
 * bytes/s (the first read takes 4096 bytes and suspends).
 */
static void test_tls_agent__rate_limited_body_read_whole(void **state)
{
    struct fx *f = *state;
    struct tls_cred sled = tls_rig_cred(&f->g, "sled-1");
    const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", sled.cert,
                           "--tls-key", sled.key, "--rate-limit", "4096",
                           NULL};
    char sha[SHA256_HEX_LEN + 1], cfg[256], path[160];
    size_t len = 12000;
    char *data = mem_alloc(len);
    struct timespec t0;
    struct sha256 h;
    long gen, st;
    double ms;

    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 13 + 5);
    assert_int_equal(sha256_digest(&h, data, len), 0);
    sha256_to_hex(sha, &h);
    assert_int_equal(agentproc_stop(f->a, 20000), 0);
    assert_int_equal(agentproc_set_args(f->a, extra), 0);
    assert_int_equal(agentproc_start(f->a), 0);
    gen = generation(f) + 1;
    snprintf(cfg, sizeof(cfg),
             "{\"generation\":%ld,\"artifacts\":[\"%s\",\"%s\"]}", gen,
             f->sha, sha);
    assert_int_equal(req(f, NULL, &f->ctl, api(f), "PUT", "/artifacts-config",
                         cfg), 204);
    snprintf(path, sizeof(path), "/artifacts/%s?generation=%ld", sha, gen);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = tls_rig_request(NULL, f->g.ca, &f->ctl, 0, api(f), "PUT", path, data,
                         len);
    ms = ms_since(&t0);
    printf("# %zu-byte PUT at 4096 B/s over TLS: status %ld in %.0f ms\n",
           len, st, ms);
    if (st != 201 && st != 204 && st != 200)
        fail_msg("PUT under the rate limit: %ld after %.0f ms", st, ms);
    assert_true(ms < 10000.0);
    mem_free(data);
    tls_cred_release(&sled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_agent__routes_by_role),
        cmocka_unit_test(test_tls_agent__bad_certificates),
        cmocka_unit_test(test_tls_agent__revoked),
        cmocka_unit_test(test_tls_agent__plaintext_and_tls12),
        cmocka_unit_test(test_tls_agent__depot_file),
        cmocka_unit_test(test_tls_agent__handshake_flood),
        cmocka_unit_test(test_tls_agent__sighup_reload),
        cmocka_unit_test(test_tls_agent__handshake_deadline),
        cmocka_unit_test(test_tls_agent__rate_limit),
        cmocka_unit_test(test_tls_agent__rate_limited_body_read_whole),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
