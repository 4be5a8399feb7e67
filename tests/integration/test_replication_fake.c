/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of the reconciliation task against fake sleds: small
 * sledagent stand-ins served from threads of this test (common/httpd on
 * their own event_base), registered with the task harness like real
 * agents. Each fake keeps a config and a set of held hashes and can be
 * told to answer PUTs with 429 (Retry-After: 1), to list a malformed and
 * an unwanted hash, and to keep GET /copies empty (a target whose recent
 * copies pushed ours out). A copy "completes" at once on the target; the
 * source is never contacted. Covers: copy completion from GET /artifacts,
 * 429 back-off (retried, then bounded), bogus hashes logged and not
 * counted, an unreachable sled reported while the others converge, and
 * activation by a new sled's registration (periodic off). One bad sled
 * never blocks the rack (DESIGN.md 4.2): a sled that accepts connections
 * and never answers and one that refuses them cost a run a few seconds,
 * not the no-progress timeouts; a copy target that goes away mid-copy
 * fails its copies at once, not after copy_stall_secs. The controller
 * link cap (--rate-limit) bounds PUTs together. The default limit on
 * requests in flight is automatic: max(8, 2 x sleds planned for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/mem.h"
#include "replicator/task/execute.h"
#include "replicator/task/task.h"
#include "tests/integration/test_replication_rig.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define FAKE_MAX_HELD 16

struct fake {
    char id[40];
    pthread_t th;
    struct event_base *base;
    struct httpd *srv;
    int port;
    pthread_mutex_t mu;
    atomic_bool stop;
    /* behaviour */
    unsigned busy_left;        /* PUTs answered 429 before one succeeds */
    bool list_bogus;           /* list a malformed and an unwanted hash */
    bool copy_never_done;      /* accept copies (202), never complete */
    /* state */
    uint64_t generation;
    json_t *config;            /* artifacts array of the config */
    char held[FAKE_MAX_HELD][HEX_LEN];
    size_t n_held;
    unsigned put_attempts, copies;
};

static bool fake_holds_locked(struct fake *f, const char *hex)
{
    for (size_t i = 0; i < f->n_held; i++)
        if (!strcmp(f->held[i], hex))
            return true;
    return false;
}

static void fake_hold_locked(struct fake *f, const char *hex)
{
    if (!fake_holds_locked(f, hex) && f->n_held < FAKE_MAX_HELD)
        snprintf(f->held[f->n_held++], HEX_LEN, "%s", hex);
}

static bool in_config_locked(struct fake *f, const char *hex)
{
    size_t i;
    json_t *v;

    json_array_foreach(f->config, i, v)
        if (!strcmp(json_string_value(v), hex))
            return true;
    return false;
}

static void fake_request(struct httpd_req *r, void *arg)
{
    struct fake *f = arg;
    const char *path = httpd_req_path(r);
    enum httpd_method m = httpd_req_method(r);
    json_t *reply = NULL;
    size_t len = 0;
    const char *body;
    char hex[HEX_LEN];

    pthread_mutex_lock(&f->mu);
    if (!strcmp(path, "/artifacts-config") && m == HTTPD_PUT) {
        body = httpd_req_body(r, &len);
        reply = body ? json_loadb(body, len, 0, NULL) : NULL;
        f->generation = (uint64_t)json_integer_value(
            json_object_get(reply, "generation"));
        json_decref(f->config);
        f->config = json_incref(json_object_get(reply, "artifacts"));
        httpd_reply_json(r, 204, NULL);
    } else if (!strcmp(path, "/artifacts-config")) {
        reply = json_pack("{s:I, s:O}", "generation",
                          (json_int_t)f->generation, "artifacts",
                          f->config ? f->config : json_array());
        httpd_reply_json(r, 200, reply);
    } else if (!strcmp(path, "/artifacts") && m == HTTPD_GET) {
        json_t *list = json_object();

        for (size_t i = 0; i < f->n_held; i++)
            if (in_config_locked(f, f->held[i]))
                json_object_set_new(list, f->held[i], json_integer(2));
        if (f->list_bogus) {
            json_object_set_new(list, "not-a-hash", json_integer(2));
            json_object_set_new(list, "abababababababababababababababab"
                                      "abababababababababababababababab",
                                json_integer(2));
        }
        reply = json_pack("{s:I, s:o, s:i, s:[]}", "generation",
                          (json_int_t)f->generation, "list", list,
                          "datasets", 2, "in_progress");
        httpd_reply_json(r, 200, reply);
    } else if (!strcmp(path, "/copies")) {
        /* Our copy was pushed out by newer ones. */
        reply = json_array();
        httpd_reply_json(r, 200, reply);
    } else if (!strncmp(path, "/artifacts/", 11) &&
               strlen(path) >= 11 + HEX_LEN - 1) {
        memcpy(hex, path + 11, HEX_LEN - 1);
        hex[HEX_LEN - 1] = '\0';
        if (m == HTTPD_PUT) {
            f->put_attempts++;
            if (f->busy_left) {
                f->busy_left--;
                httpd_req_add_header(r, "Retry-After", "1");
                httpd_reply_error(r, 429, "BUSY", "too many writes");
            } else {
                fake_hold_locked(f, hex);
                reply = json_pack("{s:i, s:i}", "datasets", 2,
                                  "successful_writes", 2);
                httpd_reply_json(r, 200, reply);
            }
        } else {
            f->copies++;
            if (!f->copy_never_done)
                fake_hold_locked(f, hex);
            reply = json_object();
            httpd_reply_json(r, 202, reply);
        }
    } else {
        httpd_reply_error(r, 404, NULL, "no such endpoint");
    }
    pthread_mutex_unlock(&f->mu);
    json_decref(reply);
}

/* The loop wakes every 50 ms to see `stop` (libevent has no thread
 * notification here). */
static void *fake_run(void *arg)
{
    struct fake *f = arg;
    struct timeval tv = {0, 50000};

    while (!atomic_load(&f->stop)) {
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
    return NULL;
}

#define FAKE_ROUTE(m, path, cap)                                       \
    {.name = "fake", .methods = (m), .pattern = (path), .body_cap = (cap), \
     .on_request = fake_request, .roles = HTTPD_ROLE_ALL}

/* The part of the agent API the task uses. */
static const struct httpd_route fake_routes[] = {
    FAKE_ROUTE(HTTPD_M_GET | HTTPD_M_PUT, "/artifacts-config", 0),
    FAKE_ROUTE(HTTPD_M_GET, "/artifacts", 0),
    FAKE_ROUTE(HTTPD_M_GET, "/copies", 0),
    FAKE_ROUTE(HTTPD_M_PUT, "/artifacts/{sha256}", 8u << 20),
    FAKE_ROUTE(HTTPD_M_POST, "/artifacts/{sha256}/copy-from-depot", 0),
};

static void fake_start(struct fake *f, unsigned n)
{
    struct httpd_service svc = {
        fake_routes, sizeof(fake_routes) / sizeof(fake_routes[0]), NULL,
        f, NULL, 0};
    struct httpd_opts o;
    struct err err = ERR_INIT;

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->id, sizeof(f->id), "00000000-0000-4000-8000-0000000f%04u",
             n);
    f->base = event_base_new();
    assert_non_null(f->base);
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.name = "fake";
    assert_int_equal(httpd_new(&f->srv, f->base, &o, &svc, &err), 0);
    f->port = httpd_port(f->srv);
    assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
    if (!f->base)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    httpd_free(f->srv);
    event_base_free(f->base);
    json_decref(f->config);
    pthread_mutex_destroy(&f->mu);
    f->base = NULL;
}

/* PUT /sled-agents/{id} as a sledagent does; port 0: an address where
 * nothing listens. */
static void register_sled(struct rig *g, const char *id, int port)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[160], body[160];

    snprintf(url, sizeof(url), "%s/sled-agents/%s", g->in[0].url, id);
    snprintf(body, sizeof(body),
             "{\"api_address\": \"127.0.0.1:%d\", \"repo_depot_port\": %d}",
             port, port);
    assert_int_equal(http_client_send(&resp, "PUT", url, body,
                                      strlen(body)), 0);
    assert_int_equal(resp.status, 200);
    http_client_resp_release(&resp);
}

static int dead_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A port that completes TCP handshakes (the kernel's backlog) and never
 * answers: a SIGSTOPped or partitioned sled. *fd is the listener. */
static int hung_port(int *fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    *fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(*fd, 64), 0);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &al), 0);
    return ntohs(a.sin_port);
}

static bool fake_holds(struct fake *f, const char *hex)
{
    bool r;

    pthread_mutex_lock(&f->mu);
    r = fake_holds_locked(f, hex);
    pthread_mutex_unlock(&f->mu);
    return r;
}

struct fx {
    struct rig g;
    struct fake f[3];
    int hung_fd;               /* hung_port listener, -1: none */
};

static const char *const fake_flags[] = {"--min-sled-replication", "1",
                                         "--copy-stall", "3", NULL};

static bool task_idle_cond(void *p)
{
    json_t *st = rig_get_json(p, "/background-tasks/tuf_artifact_replication");
    const char *state = json_string_value(json_object_get(st, "state"));
    bool idle = state && !strcmp(state, "idle");

    json_decref(st);
    return idle;
}

static void fx_up_flags(struct fx *x, size_t n_fakes,
                        const char *const *flags)
{
    struct sleds_arg sa;

    rig_up(&x->g, 0, flags);
    for (size_t i = 0; i < n_fakes; i++) {
        fake_start(&x->f[i], (unsigned)i + 1);
        register_sled(&x->g, x->f[i].id, x->f[i].port);
    }
    sa.url = x->g.in[0].url;
    sa.want = n_fakes;
    assert_true(testutil_wait_for(rig_sleds_registered, &sa, 10000));
    /* The registrations' own runs end before a test stages anything. */
    assert_true(testutil_wait_for(task_idle_cond, x->g.in[0].url, 15000));
}

static void fx_up(struct fx *x, size_t n_fakes)
{
    fx_up_flags(x, n_fakes, fake_flags);
}

static uint64_t sum_u(const json_t *s, const char *obj, const char *k)
{
    return (uint64_t)json_integer_value(
        json_object_get(json_object_get(s, obj), k));
}

/* Two fakes whose GET /copies is always empty: the copy to the second
 * is seen done through its GET /artifacts, in the same run. */
static void test_replication_fake__copy_done_from_list(void **state)
{
    struct fx *x = *state;
    static const uint64_t seeds[] = {71};
    char h[1][HEX_LEN];
    json_t *s;

    fx_up(x, 2);
    rig_stage_repo(&x->g, 0, "1.0.0", seeds, 1, h);
    s = rig_activate(&x->g, 0);
    assert_int_equal(sum_u(s, "counters", "put_ok"), 1);
    assert_int_equal(sum_u(s, "counters", "copy_ok"), 1);
    assert_int_equal(sum_u(s, "counters", "copy_err"), 0);
    json_decref(s);
    assert_true(fake_holds(&x->f[0], h[0]) && fake_holds(&x->f[1], h[0]));
    s = rig_activate(&x->g, 0);
    assert_true(json_is_true(json_object_get(s, "converged")));
    json_decref(s);
    x->g.passed = true;
}

/* 429 with Retry-After: retried, then succeeds; counted once. Always
 * 429: bounded by max_busy_retries (3), then failed. */
static void test_replication_fake__busy_backoff(void **state)
{
    struct fx *x = *state;
    static const uint64_t s1[] = {72}, s2[] = {73};
    char h1[1][HEX_LEN], h2[1][HEX_LEN];
    unsigned attempts;
    json_t *s, *ex;

    fx_up(x, 2);
    for (int i = 0; i < 2; i++)
        x->f[i].busy_left = 2;
    rig_stage_repo(&x->g, 0, "1.0.0", s1, 1, h1);
    s = rig_activate(&x->g, 0);
    ex = json_object_get(s, "executed");
    assert_int_equal(json_integer_value(json_object_get(ex, "busy_retries")),
                     2);
    assert_int_equal(sum_u(s, "counters", "put_ok"), 1);
    assert_int_equal(sum_u(s, "counters", "put_err"), 0);
    json_decref(s);
    attempts = x->f[0].put_attempts + x->f[1].put_attempts;
    assert_int_equal(attempts, 3);
    /* always busy */
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&x->f[i].mu);
        x->f[i].busy_left = 1000;
        x->f[i].put_attempts = 0;
        pthread_mutex_unlock(&x->f[i].mu);
    }
    rig_stage_repo(&x->g, 0, "2.0.0", s2, 1, h2);
    s = rig_activate(&x->g, 0);
    ex = json_object_get(s, "executed");
    assert_int_equal(json_integer_value(json_object_get(ex, "busy_retries")),
                     3);
    assert_int_equal(sum_u(s, "counters", "put_err"), 1);
    assert_int_equal(sum_u(s, "counters", "put_ok"), 0);
    json_decref(s);
    assert_int_equal(x->f[0].put_attempts + x->f[1].put_attempts, 4);
    x->g.passed = true;
}

/* A malformed and an unwanted hash are logged with the sled id and not
 * counted; an unreachable sled is reported; the others converge. */
static void test_replication_fake__bogus_and_unreachable(void **state)
{
    struct fx *x = *state;
    static const uint64_t seeds[] = {74};
    static const char dead_id[] = "00000000-0000-4000-8000-0000000dead0";
    char h[1][HEX_LEN];
    json_t *s, *st, *sl;
    size_t i;
    bool saw_dead = false;

    fx_up(x, 2);
    x->f[0].list_bogus = true;
    register_sled(&x->g, dead_id, dead_port());
    rig_stage_repo(&x->g, 0, "1.0.0", seeds, 1, h);
    s = rig_activate(&x->g, 0);
    assert_int_equal(json_integer_value(json_object_get(s, "bogus_entries")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(s,
                                                        "sleds_unreachable")),
                     1);
    json_decref(s);
    assert_true(fake_holds(&x->f[0], h[0]) && fake_holds(&x->f[1], h[0]));
    /* the run continues: the next one lists both and has nothing to do */
    s = rig_activate(&x->g, 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(s, "plan"), "puts")) +
                         json_integer_value(json_object_get(
                             json_object_get(s, "plan"), "copies")), 0);
    json_decref(s);
    st = rig_status(&x->g, 0);
    json_array_foreach(json_object_get(st, "sleds"), i, sl) {
        const char *id = json_string_value(json_object_get(sl, "id"));

        if (!strcmp(id, dead_id)) {
            saw_dead = true;
            assert_string_equal(json_string_value(json_object_get(sl,
                                                                  "state")),
                                "unreachable");
            assert_non_null(json_object_get(sl, "error"));
        } else if (!strcmp(id, x->f[0].id)) {
            /* only the wanted hash counts */
            assert_int_equal(json_integer_value(json_object_get(sl,
                                                                "artifacts")),
                             1);
            assert_int_equal(json_integer_value(json_object_get(
                                 sl, "bogus_entries")), 2);
        }
    }
    assert_true(saw_dead);
    json_decref(st);
    /* both entries logged at info with the sled's id */
    assert_true(rig_file_contains(x->g.in[0].log, "sled_bogus_hash"));
    assert_true(rig_file_contains(x->g.in[0].log, x->f[0].id));
    assert_true(rig_file_contains(x->g.in[0].log, "not-a-hash"));
    assert_true(rig_file_contains(x->g.in[0].log, "malformed hash"));
    assert_true(rig_file_contains(x->g.in[0].log,
                                  "hash not in the wanted set"));
    x->g.passed = true;
}

struct held_arg {
    struct fake *f;
    const char *hex;
};

static bool held_cond(void *p)
{
    struct held_arg *a = p;

    return fake_holds(a->f, a->hex);
}

/* With periodic activation off, a newly registered sled activates the
 * task and receives the wanted set; a repeated registration at the same
 * address does not start a run. */
static void test_replication_fake__new_sled_activates(void **state)
{
    struct fx *x = *state;
    static const uint64_t seeds[] = {75};
    char h[1][HEX_LEN];
    struct held_arg ha;
    json_t *st;
    uint64_t runs;

    fx_up(x, 2);
    rig_stage_repo(&x->g, 0, "1.0.0", seeds, 1, h);
    assert_true(rig_converge(&x->g, 0, 3) > 0);
    st = rig_status(&x->g, 0);
    runs = (uint64_t)json_integer_value(json_object_get(st, "runs"));
    json_decref(st);
    /* the same sled again: no run */
    register_sled(&x->g, x->f[0].id, x->f[0].port);
    testutil_sleep_ms(500);
    st = rig_status(&x->g, 0);
    assert_int_equal(json_integer_value(json_object_get(st, "runs")), runs);
    json_decref(st);
    /* a new sled: activated, it gets the artifact without being asked */
    fake_start(&x->f[2], 3);
    register_sled(&x->g, x->f[2].id, x->f[2].port);
    ha.f = &x->f[2];
    ha.hex = h[0];
    assert_true(testutil_wait_for(held_cond, &ha, 15000));
    st = rig_status(&x->g, 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st, "last_activation"),
                            "reason")), "sled");
    json_decref(st);
    x->g.passed = true;
}


/* The ring's newest entry for sled id with operation op, or NULL. */
static json_t *ring_entry(const json_t *st, const char *id, const char *op)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(st, "request_ring"), i, e) {
        const char *sl = json_string_value(json_object_get(e, "sled"));
        const char *o = json_string_value(json_object_get(e, "operation"));

        if (sl && o && !strcmp(sl, id) && !strcmp(o, op))
            return e;
    }
    return NULL;
}

/* One bad sled never blocks the rack: a sled that accepts connections
 * and never answers (SIGSTOP, a partition) and one that refuses them.
 * The run ends within the small-request bound (request_secs, 5 s), well
 * under the 30 s no-progress timeout, the two good fakes converge, and
 * the failures are _err entries with their error text. */
static void test_replication_fake__hung_and_refusing_sleds_do_not_block(
    void **state)
{
    struct fx *x = *state;
    static const uint64_t seeds[] = {76, 77};
    static const char hung_id[] = "00000000-0000-4000-8000-00000000e001";
    static const char dead_id[] = "00000000-0000-4000-8000-00000000e002";
    char h[2][HEX_LEN];
    json_t *s, *st, *e;
    int64_t t0, ms;

    fx_up(x, 2);
    register_sled(&x->g, hung_id, hung_port(&x->hung_fd));
    register_sled(&x->g, dead_id, dead_port());
    /* The registrations' runs met the hung sled too: let them end. */
    assert_true(testutil_wait_for(task_idle_cond, x->g.in[0].url, 20000));
    rig_stage_repo(&x->g, 0, "1.0.0", seeds, 2, h);
    t0 = testutil_now_ms();
    s = rig_activate(&x->g, 0);
    ms = testutil_now_ms() - t0;
    fprintf(stderr, "run with a hung and a refusing sled: %lld ms\n",
            (long long)ms);
    assert_true(ms < 12000);
    assert_int_equal(json_integer_value(json_object_get(s,
                                                        "sleds_unreachable")),
                     2);
    assert_int_equal(sum_u(s, "counters", "put_config_err"), 2);
    assert_int_equal(sum_u(s, "counters", "put_config_ok"), 2);
    json_decref(s);
    for (size_t k = 0; k < 2; k++)
        assert_true(fake_holds(&x->f[0], h[k]) && fake_holds(&x->f[1], h[k]));
    st = rig_status(&x->g, 0);
    e = ring_entry(st, hung_id, "put_config");
    assert_non_null(e);
    assert_true(strstr(json_string_value(json_object_get(e, "error")),
                       "imeout") != NULL);
    e = ring_entry(st, dead_id, "put_config");
    assert_non_null(e);
    assert_non_null(json_string_value(json_object_get(e, "error")));
    json_decref(st);
    /* The next run has nothing to do for the good sleds, also bounded. */
    t0 = testutil_now_ms();
    s = rig_activate(&x->g, 0);
    assert_true(testutil_now_ms() - t0 < 12000);
    assert_int_equal(sum_u(s, "plan", "puts") + sum_u(s, "plan", "copies"),
                     0);
    json_decref(s);
    x->g.passed = true;
}

struct copies_arg {
    struct fake *f;
};

static bool copy_accepted(void *p)
{
    struct fake *f = ((struct copies_arg *)p)->f;
    bool r;

    pthread_mutex_lock(&f->mu);
    r = f->copies > 0;
    pthread_mutex_unlock(&f->mu);
    return r;
}

static const char *const slow_copy_flags[] = {
    "--min-sled-replication", "1", "--copy-stall", "60", "--no-periodic",
    NULL};

/* A copy target that goes away mid-copy (after its 202): nothing of the
 * run depends on that copy, so it was done for the run once accepted
 * (copy_ok counts accepted copies): the run ends at once, not after
 * copy_stall_secs (60 s here), and the next activation finds the target
 * unreachable and is not starved. */
static void test_replication_fake__target_gone_mid_copy(void **state)
{
    struct fx *x = *state;
    static const uint64_t seeds[] = {78};
    char h[1][HEX_LEN], target_id[40];
    struct copies_arg ca;
    struct fake *target;
    json_t *st, *e, *last;
    int64_t t0, ms;
    long code = 0;

    fx_up_flags(x, 2, slow_copy_flags);
    x->f[0].copy_never_done = true;
    x->f[1].copy_never_done = true;
    rig_stage_repo(&x->g, 0, "1.0.0", seeds, 1, h);
    json_decref(rig_post_json(x->g.in[0].url,
                              "/background-tasks/tuf_artifact_replication/"
                              "activate", &code));
    assert_int_equal(code, 202);
    /* The PUT goes to one fake, the copy to the other. */
    t0 = testutil_now_ms();
    for (target = NULL; !target;) {
        assert_true(testutil_now_ms() - t0 < 15000);
        for (size_t k = 0; k < 2 && !target; k++) {
            ca.f = &x->f[k];
            if (testutil_wait_for(copy_accepted, &ca, 100))
                target = ca.f;
        }
    }
    snprintf(target_id, sizeof(target_id), "%s", target->id);
    t0 = testutil_now_ms();
    fake_stop(target);
    assert_true(testutil_wait_for(task_idle_cond, x->g.in[0].url, 20000));
    ms = testutil_now_ms() - t0;
    fprintf(stderr, "run ended %lld ms after the copy target went away\n",
            (long long)ms);
    assert_true(ms < 10000);
    st = rig_status(&x->g, 0);
    last = json_object_get(st, "last_run");
    assert_int_equal(sum_u(last, "counters", "copy_err"), 0);
    assert_int_equal(sum_u(last, "counters", "copy_ok"), 1);
    assert_int_equal(sum_u(last, "counters", "put_ok"), 1);
    e = ring_entry(st, target_id, "copy");
    assert_non_null(e);
    assert_null(json_object_get(e, "error"));
    json_decref(st);
    /* The next run finds the target gone and ends promptly. */
    t0 = testutil_now_ms();
    last = rig_activate(&x->g, 0);
    assert_true(testutil_now_ms() - t0 < 10000);
    assert_int_equal(
        json_integer_value(json_object_get(last, "sleds_unreachable")), 1);
    assert_false(json_is_true(json_object_get(last, "converged")));
    json_decref(last);
    x->g.passed = true;
}

/* The controller link cap: PUTs together never exceed --rate-limit.
 * 6 MiB at 2 MiB/s takes >= ~2.5 s, one PUT or two of 3 MiB (with a cap,
 * one PUT runs at a time, at the full rate). */
static void test_replication_fake__rate_limit(void **state)
{
    struct fx *x = *state;
    static const char *const flags[] = {
        "--min-sled-replication", "1", "--no-periodic", "--rate-limit",
        "2097152", NULL};
    static const uint64_t s1[] = {79}, s2[] = {80, 81};
    char h1[1][HEX_LEN], h2[2][HEX_LEN];
    int64_t t0, ms;
    json_t *s;

    fx_up_flags(x, 2, flags);
    rig_stage_repo_len(&x->g, 0, "1.0.0", s1, 1, h1, 6u << 20);
    t0 = testutil_now_ms();
    s = rig_activate(&x->g, 0);
    ms = testutil_now_ms() - t0;
    fprintf(stderr, "one 6 MiB PUT at 2 MiB/s: %lld ms\n", (long long)ms);
    assert_int_equal(sum_u(s, "counters", "put_ok"), 1);
    json_decref(s);
    assert_true(ms >= 2500);
    rig_stage_repo_len(&x->g, 0, "2.0.0", s2, 2, h2, 3u << 20);
    t0 = testutil_now_ms();
    s = rig_activate(&x->g, 0);
    ms = testutil_now_ms() - t0;
    fprintf(stderr, "two 3 MiB PUTs at 2 MiB/s together: %lld ms\n",
            (long long)ms);
    assert_int_equal(sum_u(s, "counters", "put_ok"), 2);
    json_decref(s);
    assert_true(ms >= 2500);
    x->g.passed = true;
}

/* max_inflight 0 (the default of task_config and of `replicator serve`)
 * is automatic: the run executes with max(8, 2 x sleds planned for), an
 * explicit value is kept (task_flow.c, execute_start). */
static void test_replication_fake__auto_inflight(void **state)
{
    struct task_config c;

    (void)state;
    task_config_default(&c);
    assert_int_equal(c.max_inflight, 0);
    assert_int_equal(execute_auto_inflight(0), 8);
    assert_int_equal(execute_auto_inflight(3), 8);
    assert_int_equal(execute_auto_inflight(4), 8);
    assert_int_equal(execute_auto_inflight(5), 10);
    assert_int_equal(execute_auto_inflight(32), 64);
    assert_int_equal(execute_auto_inflight(2048), EXECUTE_MAX_INFLIGHT);
}

static int fx_setup(void **state)
{
    struct fx *x = mem_calloc(1, sizeof(struct fx));

    *state = x;
    if (!x)
        return -1;
    x->hung_fd = -1;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;

    rig_down(&x->g);
    for (size_t i = 0; i < 3; i++)
        fake_stop(&x->f[i]);
    if (x->hung_fd >= 0)
        close(x->hung_fd);
    mem_free(x);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_replication_fake__copy_done_from_list, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(test_replication_fake__busy_backoff,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_replication_fake__bogus_and_unreachable, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_replication_fake__new_sled_activates, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_replication_fake__hung_and_refusing_sleds_do_not_block,
            fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_replication_fake__target_gone_mid_copy, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(test_replication_fake__rate_limit,
                                        fx_setup, fx_teardown),
        cmocka_unit_test(test_replication_fake__auto_inflight),
    };

    mem_init();
    return cmocka_run_group_tests(tests, rig_group_setup,
                                  rig_group_teardown);
}
