/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_agent_limits: issue 10, hostile clients against a real sledagent,
 * plaintext and mutual TLS (tests/integration/tls_rig.c). Each case holds
 * the hostile connections open while a legitimate request is made, and
 * checks that it is answered in time (a generous liveness bound: the
 * measured figure is printed, never asserted as a performance claim),
 * that the agent's CPU time over a window stays small (no busy loop) and
 * that its log grows by a bounded number of bytes per second.
 *  - 1,100 idle connections with the open-file limit at 1,024 (the
 *    defaults sized from it: the listener and per-peer limits close the
 *    oldest idle connections), and the same with limits set above the
 *    open-file limit (accept fails with EMFILE);
 *  - slowloris: request heads sent at 1 byte/s are closed by the head
 *    deadline (not kept alive by the bytes), on the API and, over TLS,
 *    on the depot;
 *  - a request body trickled under the minimum rate is closed, and
 *    nothing of it stays (temporary files gone, its reservation of space
 *    released: a PUT that only fits without it succeeds);
 *  - a depot reply the client does not read is closed by the minimum
 *    rate;
 *  - TLS: a ClientHello trickled at 1 byte/s is closed by the handshake
 *    deadline.
 * Test thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define IDLE_CONNS 1100
#define NOFILE 1024
/* Source addresses of the idle connections (127.0.0.2 ...): more than one
 * peer, so both the listener and the per-peer limits are reached. */
#define IDLE_ADDRS 16
/* Liveness bounds, far above what is expected (see the printed figures). */
#define ANSWER_MS_MAX 5000
#define WINDOW_MS 3000
#define CPU_SHARE_MAX 0.3        /* of one core over the window */
#define LOG_BYTES_PER_SEC_MAX 20000

struct fx {
    struct tls_rig g;
    bool tls;
    struct tls_cred ctl;
    struct agentproc *a;
    int fds[IDLE_CONNS];
    int nfds;
};

/* A TCP connection from 127.0.0.(2 + i % IDLE_ADDRS) to port; -1 on error. */
static int idle_connect(int i, int port)
{
    struct sockaddr_in src = {0}, dst = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % IDLE_ADDRS));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void open_idle(struct fx *f, int port)
{
    for (int i = 0; i < IDLE_CONNS; i++) {
        int fd = idle_connect(i, port);

        if (fd < 0)
            fail_msg("idle connection %d: %s", i, strerror(errno));
        f->fds[f->nfds++] = fd;
    }
}

static void close_idle(struct fx *f)
{
    while (f->nfds > 0)
        close(f->fds[--f->nfds]);
}

/* GET /metrics the legitimate way; its status, *ms the time it took. */
static long legit_metrics(struct fx *f, char **body, int64_t *ms)
{
    int64_t t0 = testutil_now_ms();
    long st;

    *body = NULL;
    if (f->tls) {
        st = tls_rig_request(body, f->g.ca, &f->ctl, 0,
                             (uint16_t)agentproc_api_port(f->a), "GET",
                             "/metrics", NULL, 0);
    } else {
        struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
        char url[128];

        snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(f->a));
        st = http_client_get(&r, url) < 0 ? -1 : r.status;
        if (r.body.len) {
            *body = mem_alloc(r.body.len + 1);
            assert_non_null(*body);
            memcpy(*body, r.body.data, r.body.len);
            (*body)[r.body.len] = '\0';
        }
        http_client_resp_release(&r);
    }
    *ms = testutil_now_ms() - t0;
    return st;
}

/* The value of the sample line starting with `prefix` in metrics text. */
static unsigned long long metric(const char *text, const char *prefix)
{
    const char *p = text ? strstr(text, prefix) : NULL;

    if (!p)
        fail_msg("no metric %s", prefix);
    return strtoull(p + strlen(prefix), NULL, 10);
}

static void start(struct fx *f, const char *const *extra)
{
    const char *args[24];
    size_t k = 0;
    struct tls_cred sled = {0};

    if (f->tls) {
        sled = tls_rig_cred(&f->g, "sled-1");
        args[k++] = "--tls-ca";
        args[k++] = f->g.ca;
        args[k++] = "--tls-cert";
        args[k++] = sled.cert;
        args[k++] = "--tls-key";
        args[k++] = sled.key;
    }
    for (size_t i = 0; extra && extra[i]; i++)
        args[k++] = extra[i];
    args[k] = NULL;
    assert_int_equal(agentproc_new(&f->a, args), 0);
    tls_cred_release(&sled);
    agentproc_set_nofile(f->a, NOFILE);
    assert_int_equal(agentproc_start(f->a), 0);
}

static int setup_plain(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    *state = f;
    return 0;
}

static int setup_tls(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    f->tls = true;
    tls_rig_init(&f->g);
    f->ctl = tls_rig_cred(&f->g, "controller-ctl");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    close_idle(f);
    agentproc_free(f->a);
    if (f->tls) {
        tls_cred_release(&f->ctl);
        tls_rig_free(&f->g);
    }
    mem_free(f);
    return 0;
}

/*
 * 1,100 idle connections held on the API listener: a legitimate request
 * is answered in time, the agent does not spin, the log does not flood.
 * Returns the metrics text of the legitimate request (mem_free).
 */
static char *idle_flood(struct fx *f, const char *label)
{
    pid_t pid = proc_pid(agentproc_proc(f->a));
    long cpu0, cpu1, log0, log1;
    int64_t ms, t0, t1;
    char *body = NULL;
    long st;
    double cpu_share, log_rate;

    t0 = testutil_now_ms();
    open_idle(f, agentproc_api_port(f->a));
    printf("# %s: %d idle connections opened in %lld ms\n", label, f->nfds,
           (long long)(testutil_now_ms() - t0));
    cpu0 = testutil_cpu_ticks(pid);
    log0 = testutil_file_size(agentproc_log_path(f->a));
    t0 = testutil_now_ms();
    st = legit_metrics(f, &body, &ms);
    printf("# %s: legitimate GET /metrics answered %ld in %lld ms\n", label,
           st, (long long)ms);
    if (st != 200)
        agentproc_print_log(f->a);
    assert_int_equal(st, 200);
    assert_true(ms < ANSWER_MS_MAX);
    /* the window: the idle connections stay open, nothing else happens */
    testutil_sleep_ms(WINDOW_MS);
    cpu1 = testutil_cpu_ticks(pid);
    log1 = testutil_file_size(agentproc_log_path(f->a));
    t1 = testutil_now_ms();
    assert_true(cpu0 >= 0 && cpu1 >= 0 && log0 >= 0 && log1 >= 0);
    cpu_share = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) /
                ((double)(t1 - t0) / 1000.0);
    log_rate = (double)(log1 - log0) / ((double)(t1 - t0) / 1000.0);
    printf("# %s: agent CPU %.1f %% of a core, log %.0f bytes/s over "
           "%lld ms\n", label, cpu_share * 100, log_rate,
           (long long)(t1 - t0));
    assert_true(cpu_share < CPU_SHARE_MAX);
    assert_true(log_rate < LOG_BYTES_PER_SEC_MAX);
    assert_true(agentproc_alive(f->a));
    return body;
}

/* Defaults sized from the open-file limit: idle connections are closed
 * to make room. (A burst can still meet EMFILE for a moment: libevent
 * closes a freed connection's socket at the end of the loop iteration,
 * and its listener accepts the whole backlog in one callback; the accept
 * error path then closes an idle connection and carries on.) */
static void test_agent_limits__idle_flood_defaults(void **state)
{
    struct fx *f = *state;
    char *m;

    start(f, NULL);
    m = idle_flood(f, f->tls ? "tls defaults" : "defaults");
    assert_true(metric(m, "httpd_idle_evicted_total{listener=\"api\"} ") >
                0);
    assert_true(metric(m, "httpd_connections{listener=\"api\"} ") <=
                metric(m, "httpd_connections_max{listener=\"api\"} "));
    printf("# accept failures: %llu\n",
           metric(m, "httpd_accept_failed_total{listener=\"api\"} "));
    mem_free(m);
}

/* Limits set above the open-file limit: accept fails with EMFILE; the
 * oldest idle connection is closed for each new one, no busy loop. */
static void test_agent_limits__idle_flood_emfile(void **state)
{
    struct fx *f = *state;
    const char *extra[] = {"--max-connections", "5000",
                           "--max-connections-per-peer", "5000", NULL};
    char *m;

    start(f, extra);
    m = idle_flood(f, f->tls ? "tls emfile" : "emfile");
    assert_true(metric(m, "httpd_accept_failed_total{listener=\"api\"} ") >
                0);
    mem_free(m);
}

/* A hostile connection, plaintext or TLS (the controller's certificate). */
struct hc {
    int fd;
    struct tls_conn *t;
};

static void hc_open(struct fx *f, struct hc *c, int port)
{
    c->fd = -1;
    c->t = NULL;
    if (f->tls) {
        c->t = tls_rig_connect(f->g.ca, &f->ctl, (uint16_t)port);
        assert_non_null(c->t);
    } else {
        assert_int_equal(http_client_raw_connect(&c->fd, port), 0);
    }
}

static int hc_send(struct hc *c, const void *data, size_t len)
{
    if (c->t)
        return tls_rig_conn_send(c->t, data, len);
    return http_client_raw_send(c->fd, data, len);
}

static bool hc_closed(struct hc *c, long ms)
{
    if (c->t)
        return tls_rig_conn_closed(c->t, ms);
    return http_client_raw_closed(c->fd, ms);
}

static void hc_close(struct hc *c)
{
    tls_rig_conn_close(c->t);
    if (c->fd >= 0)
        close(c->fd);
    c->t = NULL;
    c->fd = -1;
}

/* A legitimate request on the API: its status. */
static long legit(struct fx *f, const char *method, const char *path,
                  const void *data, size_t len)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    long st;

    if (f->tls)
        return tls_rig_request(NULL, f->g.ca, &f->ctl, 0,
                               (uint16_t)agentproc_api_port(f->a), method,
                               path, data, len);
    snprintf(url, sizeof(url), "%s%s", agentproc_api_url(f->a), path);
    st = http_client_send(&r, method, url, data, len) < 0 ? -1 : r.status;
    http_client_resp_release(&r);
    return st;
}

#define SLOW_CONNS 3
#define HEAD_SECS 2

/* Request heads at 1 byte/s: each closed by the deadline (HEAD_SECS after
 * its first byte), a legitimate request answered meanwhile. */
/* Slow heads on the listener at port (named `listener` in /metrics). */
static void slowloris(struct fx *f, bool depot, const char *listener)
{
    const char *extra[] = {"--head-timeout", "2", NULL};
    static const char head[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    struct hc c[SLOW_CONNS];
    int64_t closed_ms[SLOW_CONNS] = {0}, t0, ms;
    char *m = NULL;
    int open = SLOW_CONNS;
    long st;

    char want[96];

    start(f, extra);
    for (int i = 0; i < SLOW_CONNS; i++)
        hc_open(f, &c[i], depot ? agentproc_depot_port(f->a)
                                : agentproc_api_port(f->a));
    t0 = testutil_now_ms();
    for (size_t b = 0; b < sizeof(head) - 1 && open > 0; b++) {
        for (int i = 0; i < SLOW_CONNS; i++) {
            if (closed_ms[i])
                continue;
            if (hc_send(&c[i], head + b, 1) < 0 || hc_closed(&c[i], 20)) {
                closed_ms[i] = testutil_now_ms() - t0;
                open--;
            }
        }
        if (b == 1) {
            st = legit_metrics(f, &m, &ms);
            printf("# %s: legitimate GET /metrics answered %ld in %lld ms "
                   "during the slowloris on %s\n", f->tls ? "tls" : "plain",
                   st, (long long)ms, listener);
            assert_int_equal(st, 200);
            assert_true(ms < ANSWER_MS_MAX);
            mem_free(m);
            m = NULL;
        }
        if (open > 0)
            testutil_sleep_ms(1000);
        /* the deadline plus a generous margin: never the idle timer */
        assert_true(testutil_now_ms() - t0 < (HEAD_SECS + 8) * 1000);
    }
    for (int i = 0; i < SLOW_CONNS; i++) {
        printf("# %s: slow head %d closed after %lld ms (deadline %d s)\n",
               f->tls ? "tls" : "plain", i, (long long)closed_ms[i],
               HEAD_SECS);
        assert_true(closed_ms[i] > 0);
        hc_close(&c[i]);
    }
    st = legit_metrics(f, &m, &ms);
    assert_int_equal(st, 200);
    snprintf(want, sizeof(want), "httpd_head_timeouts_total{listener=\"%s\"} ",
             listener);
    assert_true(metric(m, want) >= SLOW_CONNS);
    mem_free(m);
}

static void test_agent_limits__slowloris_head(void **state)
{
    slowloris(*state, false, "api");
}

/* The depot listener, the one every peer sled reads from. */
static void test_agent_limits__slowloris_depot(void **state)
{
    slowloris(*state, true, "depot");
}

#define ART (1024u * 1024)

static bool tmp_empty(void *arg)
{
    struct fx *f = arg;

    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, "tmp");
        long n = p ? testutil_dir_count(p) : -1;

        mem_free(p);
        if (n > 0)
            return false;
    }
    return true;
}

/*
 * A PUT body trickled at ~1 KB/s (under 64 KiB/s over a 2 s window) is
 * closed; its temporary files go and its reservation with them: with a
 * quota of 1.5 MiB per dataset, another 1 MiB artifact fits only then.
 */
static void test_agent_limits__slow_body(void **state)
{
    struct fx *f = *state;
    const char *extra[] = {"--transfer-rate-window", "2",
                           "--min-transfer-rate", "65536",
                           "--quota-bytes", "1572864", NULL};
    char *data[2], hex[2][SHA256_HEX_LEN + 1], path[160], cfg[256];
    char url[160];
    const char *hexes[2];
    struct hc c;
    int64_t t0, closed = 0, ms;
    char *m = NULL;
    long st;

    start(f, extra);
    for (int i = 0; i < 2; i++) {
        data[i] = mem_alloc(ART);
        assert_non_null(data[i]);
        testutil_pattern(data[i], ART, (uint64_t)i + 7, 0);
        testutil_sha256_hex(hex[i], data[i], ART);
        hexes[i] = hex[i];
    }
    snprintf(cfg, sizeof(cfg),
             "{\"generation\":1,\"artifacts\":[\"%s\",\"%s\"]}", hex[0],
             hex[1]);
    assert_int_equal(legit(f, "PUT", "/artifacts-config", cfg, strlen(cfg)),
                     204);
    (void)hexes;
    hc_open(f, &c, agentproc_api_port(f->a));
    snprintf(path, sizeof(path),
             "PUT /artifacts/%s?generation=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Length: %u\r\n\r\n", hex[0], ART);
    assert_int_equal(hc_send(&c, path, strlen(path)), 0);
    t0 = testutil_now_ms();
    for (size_t off = 0; off < ART; off += 500) {
        if (hc_send(&c, data[0] + off, 500) < 0 || hc_closed(&c, 500)) {
            closed = testutil_now_ms() - t0;
            break;
        }
        if (off == 1000) {
            st = legit_metrics(f, &m, &ms);
            printf("# %s: legitimate GET /metrics answered %ld in %lld ms "
                   "during the slow body\n", f->tls ? "tls" : "plain", st,
                   (long long)ms);
            assert_int_equal(st, 200);
            assert_true(ms < ANSWER_MS_MAX);
            mem_free(m);
            m = NULL;
            /* the trickled PUT holds its reservation: the other one does
             * not fit beside it */
            snprintf(url, sizeof(url), "/artifacts/%s?generation=1", hex[1]);
            assert_int_equal(legit(f, "PUT", url, data[1], ART), 507);
        }
        assert_true(testutil_now_ms() - t0 < 15000);
    }
    printf("# %s: slow body closed after %lld ms (window 2 s)\n",
           f->tls ? "tls" : "plain", (long long)closed);
    assert_true(closed > 0);
    hc_close(&c);
    assert_true(testutil_wait_for(tmp_empty, f, 5000));
    /* the abort reaches the writer through its worker: the reservation
     * goes a moment after the close (bounded here by 5 s) */
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", hex[1]);
    t0 = testutil_now_ms();
    while ((st = legit(f, "PUT", path, data[1], ART)) == 507 &&
           testutil_now_ms() - t0 < 5000)
        testutil_sleep_ms(50);
    printf("# %s: PUT of the other artifact after it: %ld, %lld ms after "
           "the close\n", f->tls ? "tls" : "plain", st,
           (long long)(testutil_now_ms() - t0));
    assert_true(st >= 200 && st < 300);
    st = legit_metrics(f, &m, &ms);
    assert_int_equal(st, 200);
    assert_true(metric(m, "httpd_slow_transfers_total{listener=\"api\","
                          "direction=\"request\"} ") >= 1);
    mem_free(m);
    mem_free(data[0]);
    mem_free(data[1]);
}

#define BIG (48u * 1024 * 1024)

struct slow_reply {
    struct fx *f;
    unsigned long long n;
};

static bool slow_reply_counted(void *arg)
{
    struct slow_reply *w = arg;
    char *m = NULL;
    int64_t ms;
    long st = legit_metrics(w->f, &m, &ms);

    if (st == 200)
        w->n = metric(m, "httpd_slow_transfers_total{listener=\"depot\","
                         "direction=\"reply\"} ");
    mem_free(m);
    return w->n > 0;
}

/* A depot GET of 48 MiB whose client reads nothing: the reply stalls
 * once the socket buffers are full and is closed by the minimum rate. */
static void test_agent_limits__slow_reader(void **state)
{
    struct fx *f = *state;
    const char *extra[] = {"--transfer-rate-window", "2", NULL};
    char hex[SHA256_HEX_LEN + 1], path[200], cfg[160];
    struct slow_reply w = {f, 0};
    char *data = mem_alloc(BIG);
    int64_t t0;
    struct hc c;
    long st;

    assert_non_null(data);
    start(f, extra);
    testutil_pattern(data, BIG, 3, 0);
    testutil_sha256_hex(hex, data, BIG);
    snprintf(cfg, sizeof(cfg), "{\"generation\":1,\"artifacts\":[\"%s\"]}",
             hex);
    assert_int_equal(legit(f, "PUT", "/artifacts-config", cfg, strlen(cfg)),
                     204);
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", hex);
    st = legit(f, "PUT", path, data, BIG);
    assert_true(st >= 200 && st < 300);
    mem_free(data);
    hc_open(f, &c, agentproc_depot_port(f->a));
    snprintf(path, sizeof(path), "GET /artifact/sha256/%s HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\n\r\n", hex);
    assert_int_equal(hc_send(&c, path, strlen(path)), 0);
    t0 = testutil_now_ms();
    assert_true(testutil_wait_for(slow_reply_counted, &w, 15000));
    printf("# %s: unread depot reply closed after about %lld ms "
           "(window 2 s)\n", f->tls ? "tls" : "plain",
           (long long)(testutil_now_ms() - t0));
    assert_true(hc_closed(&c, 10000));
    hc_close(&c);
}

/* The slowloris of TLS: a ClientHello at 1 byte/s, closed by the
 * handshake deadline (2 s here) although every byte resets the idle
 * timer; a legitimate request is answered meanwhile. */
static void test_agent_limits__slow_handshake(void **state)
{
    struct fx *f = *state;
    const char *extra[] = {"--tls-handshake-timeout", "2", NULL};
    /* a handshake record announcing 512 bytes, then its first bytes */
    static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00,
                                          0x01, 0x00, 0x01, 0xfc, 0x03,
                                          0x03, 0, 0, 0, 0, 0, 0, 0, 0};
    int64_t t0, closed = 0, ms;
    char *m = NULL;
    long st;
    int fd;

    start(f, extra);
    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->a)),
                     0);
    t0 = testutil_now_ms();
    for (size_t b = 0; b < sizeof(hello); b++) {
        if (http_client_raw_send(fd, hello + b, 1) < 0 ||
            http_client_raw_closed(fd, 1000)) {
            closed = testutil_now_ms() - t0;
            break;
        }
        if (b == 0) {
            st = legit_metrics(f, &m, &ms);
            printf("# tls: legitimate GET /metrics answered %ld in %lld ms "
                   "during the slow handshake\n", st, (long long)ms);
            assert_int_equal(st, 200);
            assert_true(ms < ANSWER_MS_MAX);
            mem_free(m);
            m = NULL;
        }
    }
    close(fd);
    printf("# tls: slow handshake closed after %lld ms (deadline 2 s)\n",
           (long long)closed);
    assert_true(closed > 0 && closed < 8000);
    st = legit_metrics(f, &m, &ms);
    assert_int_equal(st, 200);
    assert_true(metric(m, "httpd_handshake_timeouts_total{listener=\"api\"} ")
                >= 1);
    mem_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_agent_limits__idle_flood_defaults, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_limits__idle_flood_emfile, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_limits__idle_flood_defaults, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(
            test_agent_limits__idle_flood_emfile, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slowloris_head,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slowloris_head,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slowloris_depot,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slow_body,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slow_body,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slow_reader,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slow_reader,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(test_agent_limits__slow_handshake,
                                        setup_tls, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
