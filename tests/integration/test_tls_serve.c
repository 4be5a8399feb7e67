/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_tls_serve: `replicator serve` on mutual TLS (issue 9): every route
 * of the replicator API against every role (allowed: neither 401 nor 403;
 * refused: 401/403 JSON, nothing changed: no trust root added, no sled
 * registered), sled registration only for the sled's own id, revocations
 * read from the database on SIGHUP, the expiry gauge, the usage error
 * without --tls-* or --insecure-plaintext, and (issue 10) an idle flood:
 * with an open-file limit of 1,024, 1,100 connections that never start
 * their handshake and 100 that finished it and send nothing do not keep a
 * legitimate request from an answer, nor make the log flood.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/pgtest.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

struct fx {
    struct tls_rig g;
    char *bin, *conninfo, *staging, *portf, *log;
    struct proc *srv;
    uint16_t port;
    struct tls_cred ctl, op, sled1, sled2;
};

static long req(struct fx *f, char **body, const struct tls_cred *c,
                const char *method, const char *path, const char *data)
{
    return tls_rig_request(body, f->g.ca, c, 0, f->port, method, path, data,
                           data ? strlen(data) : 0);
}

/* Start serve; nofile: under `prlimit --nofile=1024:1024`. */
static void start_serve_as(struct fx *f, bool nofile)
{
    struct tls_cred me = tls_rig_cred(&f->g, "controller-ctl");
    char *argv[] = {"/usr/bin/prlimit", "--nofile=1024:1024", "--",
                    f->bin, "serve", "--db", f->conninfo, "--staging",
                    f->staging, "--listen", "127.0.0.1:0", "--port-file",
                    f->portf, "--no-periodic", "--tls-ca", f->g.ca,
                    "--tls-cert", me.cert, "--tls-key", me.key, NULL};
    char **args = nofile ? argv : argv + 3;
    json_t *pj = NULL;

    unlink(f->portf);
    assert_int_equal(proc_spawn(&f->srv, args[0], args, NULL, f->log), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 60000) < 0) {
        testutil_print_tail("serve", f->log, 4000);
        fail_msg("replicator serve did not start");
    }
    f->port = (uint16_t)json_integer_value(json_object_get(pj, "api"));
    json_decref(pj);
    tls_cred_release(&me);
}

static void start_serve(struct fx *f)
{
    start_serve_as(f, false);
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    tls_rig_init(&f->g);
    f->bin = proc_bin_path("replicator");
    f->conninfo = pgtest_db_migrated_by_cli(NULL, "tlsserve");
    f->staging = testutil_join(f->g.dir, "staging");
    f->portf = testutil_join(f->g.dir, "port.json");
    f->log = testutil_join(f->g.dir, "serve.log");
    f->ctl = tls_rig_cred(&f->g, "controller-ctl");
    f->op = tls_rig_cred(&f->g, "operator-op");
    f->sled1 = tls_rig_cred(&f->g, "sled-1");
    f->sled2 = tls_rig_cred(&f->g, "sled-2");
    start_serve(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    proc_free(f->srv);
    tls_cred_release(&f->ctl);
    tls_cred_release(&f->op);
    tls_cred_release(&f->sled1);
    tls_cred_release(&f->sled2);
    mem_free(f->bin);
    mem_free(f->conninfo);
    mem_free(f->staging);
    mem_free(f->portf);
    mem_free(f->log);
    tls_rig_free(&f->g);
    mem_free(f);
    return 0;
}

/* Length of the JSON array GET path answers the operator (or its
 * "items"/"sleds" member), -1 when it is not one. */
static long count(struct fx *f, const char *path)
{
    char *body = NULL;
    long n = -1;
    json_t *j;

    assert_int_equal(req(f, &body, &f->op, "GET", path, NULL), 200);
    j = json_loads(body, 0, NULL);
    if (json_is_array(j))
        n = (long)json_array_size(j);
    else if (json_is_object(j)) {
        const char *k;
        json_t *v;

        json_object_foreach(j, k, v)
            if (json_is_array(v))
                n = (long)json_array_size(v);
    }
    json_decref(j);
    mem_free(body);
    return n;
}

static void assert_refused(long st, const char *body, long want,
                           const char *what)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "error_code"));
    const char *wcode = want == 401 ? "UNAUTHENTICATED" : "FORBIDDEN";

    if (st != want || !code || strcmp(code, wcode) != 0)
        fail_msg("%s: %ld %s, want %ld %s", what, st, body ? body : "",
                 want, wcode);
    json_decref(j);
}

#define UPD "/v1/system/update"
#define TASKP "/background-tasks/tuf_artifact_replication"
#define ZERO_SHA \
    "0000000000000000000000000000000000000000000000000000000000000000"
#define REG "{\"api_address\":\"127.0.0.1:1\",\"repo_depot_port\":2}"

struct route_case {
    const char *method, *path, *body;
    unsigned allow; /* bits: 1 controller, 2 operator, 4 sled-2 */
};

static const struct route_case routes[] = {
    {"GET", UPD "/repositories", NULL, 2},
    {"PUT", UPD "/repositories", "not a zip", 2},
    {"POST", UPD "/repositories/9.9.9/prune", NULL, 2},
    {"GET", UPD "/staged", NULL, 2},
    {"GET", UPD "/trust-roots", NULL, 2},
    {"POST", UPD "/trust-roots", "{}", 2},
    {"DELETE", UPD "/trust-roots/11111111-2222-4333-8444-555555555555", NULL,
     2},
    {"GET", TASKP, NULL, 2},
    {"POST", TASKP "/activate", NULL, 2},
    {"GET", "/sled-agents", NULL, 2},
    /* sled-2 registering as sled 1: refused (sled-1 is allowed below) */
    {"PUT", "/sled-agents/" TLS_RIG_SLED, REG, 0},
    {"POST", "/sled-agents/" TLS_RIG_SLED2 "/expunge", NULL, 2},
    {"POST", "/generation/bump-past-fleet", NULL, 2},
    {"POST", "/generation/1/confirm", NULL, 2},
    {"GET", "/metrics", NULL, 2},
    {"GET", "/artifact/sha256/" ZERO_SHA "/pieces", NULL, 7},
    {"GET", UPD "/repositories/9.9.9", NULL, 2},
    {"POST", UPD "/repositories/9.9.9/pin", NULL, 2},
    {"POST", UPD "/repositories/9.9.9/unpin", NULL, 2},
    {"GET", UPD "/prune-policy", NULL, 2},
    {"GET", "/ui", NULL, 2},
    {"GET", "/ui/app.js", NULL, 2},
    {"GET", "/ui/app.css", NULL, 2},
    /* issue 12 item 6: a malformed body, so the operator gets 400 */
    {"POST", "/sled-agents/" TLS_RIG_SLED2 "/resume", "{}", 2},
};

static void test_tls_serve__routes_by_role(void **state)
{
    struct fx *f = *state;
    const struct tls_cred *who[] = {&f->ctl, &f->op, &f->sled2};
    const char *names[] = {"controller", "operator", "sled"};
    long roots = count(f, UPD "/trust-roots");
    long sleds = count(f, "/sled-agents");

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route_case *rc = &routes[i];
        char *body = NULL;
        long st;

        for (size_t w = 0; w < 3; w++) {
            st = req(f, &body, who[w], rc->method, rc->path, rc->body);
            if ((rc->allow & (1u << w)) && (st == 401 || st == 403 || st < 0))
                fail_msg("%s %s as %s: %ld, want allowed", rc->method,
                         rc->path, names[w], st);
            if (!(rc->allow & (1u << w)))
                assert_refused(st, body, 403, rc->path);
            mem_free(body);
            body = NULL;
        }
        st = req(f, &body, NULL, rc->method, rc->path, rc->body);
        assert_refused(st, body, 401, rc->path);
        mem_free(body);
        assert_int_equal(count(f, UPD "/trust-roots"), roots);
        assert_int_equal(count(f, "/sled-agents"), sleds);
    }
    /* a sled registers itself, and only itself */
    assert_int_equal(req(f, NULL, &f->sled1, "PUT",
                         "/sled-agents/" TLS_RIG_SLED, REG) / 100, 2);
    assert_int_equal(count(f, "/sled-agents"), sleds + 1);
    assert_int_equal(req(f, NULL, &f->sled1, "PUT",
                         "/sled-agents/" TLS_RIG_SLED2, REG), 403);
    assert_int_equal(count(f, "/sled-agents"), sleds + 1);
}

struct poll_arg {
    struct fx *f;
    const struct tls_cred *c;
};

static bool refused(void *arg)
{
    struct poll_arg *p = arg;

    return req(p->f, NULL, p->c, "GET", "/sled-agents", NULL) == 401;
}

/* `replicator pki revoke --db`, SIGHUP: the operator is out. */
static void test_tls_serve__revoked_from_db(void **state)
{
    struct fx *f = *state;
    struct tls_cred op2 = tls_rig_issue(&f->g, "op2", TLS_ROLE_OPERATOR,
                                        "op2", 0, 5, 0);
    char *log = testutil_join(f->g.dir, "revoke.log");
    char *argv[] = {f->bin, "pki", "revoke", "--dir", f->g.pki, "--role",
                    "operator", "--db", f->conninfo, "op2", NULL};
    struct poll_arg pa = {f, &op2};
    char *body = NULL;
    int code = -1;

    assert_int_equal(req(f, NULL, &op2, "GET", "/sled-agents", NULL), 200);
    assert_int_equal(proc_run(&code, f->bin, argv, log, 60000), 0);
    assert_int_equal(code, 0);
    assert_int_equal(proc_signal(f->srv, SIGHUP), 0);
    assert_true(testutil_wait_for(refused, &pa, 10000));
    {
        long st = req(f, &body, &op2, "GET", "/sled-agents", NULL);

        assert_refused(st, body, 401, "revoked operator");
    }
    mem_free(body);
    body = NULL;
    assert_int_equal(req(f, &body, &f->op, "GET", "/metrics", NULL), 200);
    assert_non_null(strstr(body, "replicator_tls_cert_expiry_timestamp_"
                                 "seconds "));
    mem_free(body);
    mem_free(log);
    tls_cred_release(&op2);
}

/* Neither --tls-* nor --insecure-plaintext: exit 2. */
static void test_tls_serve__usage(void **state)
{
    struct fx *f = *state;
    char *log = testutil_join(f->g.dir, "usage.log");
    char *argv[] = {f->bin, "serve", "--db", f->conninfo, "--staging",
                    f->staging, NULL};
    int code = -1;

    assert_int_equal(proc_run(&code, f->bin, argv, log, 60000), 0);
    assert_int_equal(code, 2);
    mem_free(log);
}

#define IDLE_CONNS 1100
#define IDLE_TLS 100
#define IDLE_ADDRS 16

/* A TCP connection from 127.0.0.(2 + i % IDLE_ADDRS) that sends nothing. */
static int idle_connect(int i, uint16_t port)
{
    struct sockaddr_in src = {0}, dst = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % IDLE_ADDRS));
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
    return fd;
}

static unsigned long long metric(const char *text, const char *name)
{
    const char *p = text ? strstr(text, name) : NULL;

    return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

static void test_tls_serve__idle_flood(void **state)
{
    struct fx *f = *state;
    static int fds[IDLE_CONNS];
    struct tls_conn *tc[IDLE_TLS];
    char *m = NULL;
    int64_t t0, ms;
    long st, log0, log1;

    proc_free(f->srv);
    f->srv = NULL;
    start_serve_as(f, true);
    log0 = testutil_file_size(f->log);
    for (int i = 0; i < IDLE_TLS; i++)
        tc[i] = tls_rig_connect(f->g.ca, &f->ctl, f->port);
    for (int i = 0; i < IDLE_CONNS; i++)
        fds[i] = idle_connect(i, f->port);
    t0 = testutil_now_ms();
    st = req(f, &m, &f->op, "GET", "/metrics", NULL);
    ms = testutil_now_ms() - t0;
    printf("# replicator tls: legitimate GET /metrics with %d idle and %d "
           "handshaken idle connections: %ld in %lld ms\n", IDLE_CONNS,
           IDLE_TLS, st, (long long)ms);
    assert_int_equal(st, 200);
    assert_true(ms < 5000); /* a liveness bound, not a performance claim */
    printf("# idle closed %llu, accept failures %llu\n",
           metric(m, "httpd_idle_evicted_total{listener=\"api\"} "),
           metric(m, "httpd_accept_failed_total{listener=\"api\"} "));
    assert_true(metric(m, "httpd_idle_evicted_total{listener=\"api\"} ") +
                metric(m, "httpd_accept_failed_total{listener=\"api\"} ") >
                0);
    mem_free(m);
    testutil_sleep_ms(3000);
    log1 = testutil_file_size(f->log);
    printf("# log %ld bytes from the flood to 3 s after\n", log1 - log0);
    assert_true(log0 >= 0 && log1 - log0 < 100000);
    for (int i = 0; i < IDLE_CONNS; i++)
        close(fds[i]);
    for (int i = 0; i < IDLE_TLS; i++)
        tls_rig_conn_close(tc[i]);
    assert_int_equal(req(f, NULL, &f->op, "GET", "/metrics", NULL), 200);
}

static int group_setup(void **state)
{
    return pgtest_group_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_serve__routes_by_role, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_serve__revoked_from_db,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_serve__usage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_serve__idle_flood, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, pgtest_group_teardown);
}
