/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_agent_storeleaks: issue 10's smaller storage leaks against a real
 * sledagent (DESIGN.md section 3).
 *  - the local repair between the two datasets honours the quota: with
 *    dataset B full, an artifact held by A only stays count 1 (skipped,
 *    counted in /metrics, logged once per interval, nothing written to B)
 *    and is copied once room appears (its neighbour deleted: B's trash is
 *    purged for it).
 *  - quarantine/ has a cap (--quarantine-max-bytes: the oldest corrupt
 *    copy goes when a newer one would pass it) and a retention
 *    (--quarantine-retention), reported in /metrics.
 *  - a depot read never answers bad bytes: a copy shorter than it was
 *    when verified is not served (the other dataset's is, or an error),
 *    and is checked, quarantined and repaired by the scrubber at once; a
 *    copy truncated while it is being sent ends the connection before
 *    the promised Content-Length.
 *  - the scrubber keeps a continuous pass: with the default pause and a
 *    test-sized rate, a copy corrupted while the agent runs is found and
 *    repaired within the period docs/API.md states (bytes of both
 *    datasets / rate + pause), computed here from /metrics.
 * Every test ends by checking DESIGN.md invariant 2 on both datasets.
 * Test thread only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define ART 200000
#define NOSPACE_A "sledagent_store_repair_nospace_total{dataset=\"A\"} "
#define NOSPACE_B "sledagent_store_repair_nospace_total{dataset=\"B\"} "

/* Value of the metric line starting with `line` ("name{labels} "), -1 if
 * absent. */
static double metric(struct agentproc *a, const char *line)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[160];
    double v = -1;
    const char *p;

    snprintf(url, sizeof(url), "%s/metrics", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200 && r.body.data) {
        for (p = r.body.data; p; p = strchr(p, '\n')) {
            if (*p == '\n')
                p++;
            if (strncmp(p, line, strlen(line)) == 0) {
                v = strtod(p + strlen(line), NULL);
                break;
            }
        }
    }
    http_client_resp_release(&r);
    return v;
}

/* Occurrences of needle in the agent's log. */
static long log_count(struct agentproc *a, const char *needle)
{
    char *data = NULL;
    size_t len = 0;
    long n = 0;

    if (testutil_read_file(&data, &len, agentproc_log_path(a)) < 0)
        return -1;
    for (const char *p = data; (p = strstr(p, needle)) != NULL; p++)
        n++;
    mem_free(data);
    return n;
}

static bool file_exists(struct agentproc *a, int d, const char *name)
{
    char *p = agentproc_path(a, d, name);
    struct stat sb;
    bool ok = p && stat(p, &sb) == 0;

    mem_free(p);
    return ok;
}

static const char *const args_full_b[] = {
    "--quota-bytes-b", "300000", "--scrub-interval", "1", "--scrub-rate",
    "1000000000", NULL};

static void test_agent_storeleaks__repair_quota(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_list l;
    struct agenttest_art x, y;
    const char *cfg[2];
    double skipped;
    long logged;

    agenttest_art_make(&x, ART);
    agenttest_art_make(&y, ART);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    /* B's quota (300,000) holds x only: y is stored on A alone. */
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    /* Several scrub passes (each runs the repair) go by: y stays count 1
     * and nothing of it lands on B. */
    testutil_sleep_ms(4000);
    assert_int_equal(agentproc_count(f->a, y.hex), 1);
    assert_false(file_exists(f->a, 1, y.hex));
    skipped = metric(f->a, NOSPACE_B);
    printf("# repairs to B skipped in 4 s: %.0f\n", skipped);
    assert_true(skipped >= 2);
    assert_true(metric(f->a, NOSPACE_A) == 0);
    /* logged once per interval (60 s), not once per pass */
    logged = log_count(f->a, "store_repair_nospace");
    assert_int_equal(logged, 1);
    /* Room appears: x is deleted (to trash/), the repair purges B's trash
     * for y and copies it. */
    cfg[0] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    l.a = f->a;
    l.hex = y.hex;
    l.count = 2;
    l.datasets = 2;
    if (!testutil_wait_for(agenttest_list_is, &l, 30000))
        fail_msg("y not copied to B within 30 s of room appearing");
    assert_true(file_exists(f->a, 1, y.hex));
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

/* Files in quarantine/ of dataset d (0 when it does not exist). */
struct mwant {
    struct agentproc *a;
    const char *line;
    double min;
};

static bool metric_at_least(void *arg)
{
    const struct mwant *w = arg;

    return metric(w->a, w->line) >= w->min;
}

static long qcount(struct agentproc *a, int d)
{
    char *p = agentproc_path(a, d, "quarantine");
    long n = p ? testutil_dir_count(p) : -1;

    mem_free(p);
    return n < 0 ? 0 : n;
}

struct qwant {
    struct agentproc *a;
    long files;
};

static bool qcount_is(void *arg)
{
    const struct qwant *w = arg;

    return qcount(w->a, 0) == w->files;
}

/* Corrupt x's copy on A in place and wait until the scrubber repaired it
 * (the corrupt bytes went to quarantine/). */
static void corrupt_and_wait(struct agentproc *a, const struct agenttest_art *x)
{
    struct agenttest_hash h;
    char *path = agentproc_path(a, 0, x->hex);

    assert_non_null(path);
    agenttest_flip_byte(path, 1000, 0x40);
    h.path = path;
    h.hex = x->hex;
    if (!testutil_wait_for(agenttest_file_has_hash, &h, 30000))
        fail_msg("corrupt copy on A not repaired within 30 s");
    mem_free(path);
}

static void put_two(struct agentproc *a, struct agenttest_art *x,
                    struct agenttest_art *y)
{
    const char *cfg[2];

    agenttest_art_make(x, ART);
    agenttest_art_make(y, ART);
    cfg[0] = x->hex;
    cfg[1] = y->hex;
    assert_int_equal(agentproc_put_config(a, 1, cfg, 2), 204);
    assert_int_equal(agentproc_put_artifact(a, x->hex, 1, x->data, x->len,
                                            NULL), 200);
    assert_int_equal(agentproc_put_artifact(a, y->hex, 1, y->data, y->len,
                                            NULL), 200);
}

static const char *const args_qcap[] = {
    "--quarantine-max-bytes", "250000", "--scrub-interval", "1",
    "--scrub-rate", "1000000000", NULL};

static void test_agent_storeleaks__quarantine_cap(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    struct qwant w = {f->a, 1};
    struct mwant purged = {f->a, "sledagent_store_quarantine_purged_total ",
                           1};

    put_two(f->a, &x, &y);
    corrupt_and_wait(f->a, &x);
    assert_true(testutil_wait_for(qcount_is, &w, 10000));
    /* 1 s apart: the second corrupt copy is the newer one */
    testutil_sleep_ms(1100);
    corrupt_and_wait(f->a, &y);
    /* two copies (400,000 bytes) pass the 250,000 cap: the older goes */
    if (!testutil_wait_for(qcount_is, &w, 10000))
        fail_msg("quarantine/ of A holds %ld files, want 1", qcount(f->a, 0));
    /* the probe that purged sets the counter and the gauges after it */
    assert_true(testutil_wait_for(metric_at_least, &purged, 10000));
    testutil_sleep_ms(2500); /* one more probe: the gauges are current */
    assert_int_equal(qcount(f->a, 0), 1);
    assert_true(metric(f->a, "sledagent_store_quarantine_bytes"
                             "{dataset=\"A\"} ") == ART);
    assert_true(metric(f->a, "sledagent_store_quarantine_files"
                             "{dataset=\"A\"} ") == 1);
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static const char *const args_qret[] = {
    "--quarantine-retention", "1", "--scrub-interval", "1",
    "--scrub-rate", "1000000000", NULL};

static void test_agent_storeleaks__quarantine_retention(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    struct qwant w = {f->a, 0};
    struct mwant purged = {f->a, "sledagent_store_quarantine_purged_total ",
                           1};

    put_two(f->a, &x, &y);
    corrupt_and_wait(f->a, &x);
    /* older than 1 s: the next probe (every 2 s) deletes it */
    if (!testutil_wait_for(qcount_is, &w, 10000))
        fail_msg("quarantine/ of A holds %ld files, want 0", qcount(f->a, 0));
    /* counted once the purge pass ends, just after the unlink */
    assert_true(testutil_wait_for(metric_at_least, &purged, 10000));
    assert_true(metric(f->a, "sledagent_store_scrub_corrupt_total ") >= 1);
    agenttest_assert_invariant(f->a);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

/* Truncate the copy of hex on dataset d to len bytes. */
static void truncate_copy(struct agentproc *a, int d, const char *hex,
                          off_t len)
{
    char *p = agentproc_path(a, d, hex);

    assert_non_null(p);
    assert_int_equal(truncate(p, len), 0);
    mem_free(p);
}

static long depot_get(struct agentproc *a, const char *hex, char *got_hex)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    long st;

    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(a), hex);
    assert_int_equal(http_client_get(&r, url), 0);
    st = r.status;
    if (got_hex)
        testutil_sha256_hex(got_hex, r.body.data ? r.body.data : "",
                            r.body.len);
    http_client_resp_release(&r);
    return st;
}

struct qboth {
    struct agentproc *a;
    long a_files, b_files;
};

static bool qboth_is(void *arg)
{
    const struct qboth *w = arg;

    return qcount(w->a, 0) == w->a_files && qcount(w->a, 1) == w->b_files;
}

/* No periodic scrub pass in the test's time: only the read finds it. */
static const char *const args_noscrub[] = {
    "--scrub-interval", "3600", "--scrub-rate", "1000000000",
    "--min-transfer-rate", "0", NULL};

static void test_agent_storeleaks__short_at_open(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    struct agenttest_hash h;
    struct qboth w = {f->a, 1, 0};
    char got[SHA256_HEX_LEN + 1];
    char *pa;

    put_two(f->a, &x, &y);
    truncate_copy(f->a, 0, x.hex, ART / 2);
    /* A's copy is short: B's is served, whole */
    assert_int_equal(depot_get(f->a, x.hex, got), 200);
    assert_string_equal(got, x.hex);
    /* and the read had the short copy checked: quarantined, repaired */
    pa = agentproc_path(f->a, 0, x.hex);
    h.path = pa;
    h.hex = x.hex;
    if (!testutil_wait_for(agenttest_file_has_hash, &h, 10000))
        fail_msg("short copy on A not repaired within 10 s of the read");
    assert_true(testutil_wait_for(qboth_is, &w, 10000));
    assert_true(metric(f->a, "sledagent_store_scrub_corrupt_total ") >= 1);
    /* both copies short: an error, never the short bytes */
    truncate_copy(f->a, 0, y.hex, ART / 2);
    truncate_copy(f->a, 1, y.hex, ART / 2);
    assert_int_equal(depot_get(f->a, y.hex, NULL), 500);
    w.a_files = 2;
    w.b_files = 1;
    assert_true(testutil_wait_for(qboth_is, &w, 10000));
    assert_int_equal(agentproc_count(f->a, y.hex), 0);
    assert_true(agentproc_alive(f->a));
    agenttest_assert_invariant(f->a);
    mem_free(pa);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

#define BIG (16u * 1024 * 1024)

static void test_agent_storeleaks__short_mid_send(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x;
    const char *cfg[1];
    struct sockaddr_in sa;
    char req[256], *buf = mem_alloc(1 << 16);
    size_t have = 0, head = 0;
    unsigned long long clen = 0;
    uint64_t body;
    int fd, rcv = 65536;
    int64_t t0;
    bool eof = false;
    const char *cl;

    assert_non_null(buf);
    agenttest_art_make(&x, BIG);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    /* a small receive window: the agent cannot queue the whole reply */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)agentproc_depot_port(f->a));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req), "GET /artifact/sha256/%s HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", x.hex);
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    /* the head and the start of the body */
    while (have < (1 << 16)) {
        ssize_t n = recv(fd, buf + have, (1 << 16) - have, 0);

        assert_true(n > 0);
        have += (size_t)n;
    }
    buf[have - 1] = '\0';
    assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
    cl = strcasestr(buf, "Content-Length:");
    assert_non_null(cl);
    clen = strtoull(cl + 15, NULL, 10);
    assert_int_equal(clen, BIG);
    head = (size_t)(strstr(buf, "\r\n\r\n") - buf) + 4;
    body = have - head;
    testutil_sleep_ms(300); /* the agent fills the socket and waits */
    /* both copies lose their tail while the reply is under way */
    truncate_copy(f->a, 0, x.hex, 1024 * 1024);
    truncate_copy(f->a, 1, x.hex, 1024 * 1024);
    t0 = testutil_now_ms();
    while (testutil_now_ms() - t0 < 20000) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&pf, 1, 1000) <= 0)
            continue;
        n = recv(fd, buf, 1 << 16, 0);
        if (n <= 0) {
            eof = true;
            break;
        }
        body += (uint64_t)n;
    }
    close(fd);
    printf("# body received %llu of %llu bytes, then %s\n",
           (unsigned long long)body, clen, eof ? "closed" : "timeout");
    assert_true(eof);
    assert_true(body < clen);
    assert_true(agentproc_alive(f->a));
    /* the next read sees the short copies: an error, both checked */
    assert_int_equal(depot_get(f->a, x.hex, NULL), 500);
    {
        struct qboth w = {f->a, 1, 1};

        assert_true(testutil_wait_for(qboth_is, &w, 10000));
    }
    assert_int_equal(agentproc_count(f->a, x.hex), 0);
    agenttest_assert_invariant(f->a);
    mem_free(buf);
    agenttest_art_free(&x);
    f->passed = true;
}

/* The default pause (--scrub-interval not given) and a test-sized rate. */
static const char *const args_slow_scrub[] = {"--scrub-rate", "1048576",
                                              NULL};

static void test_agent_storeleaks__scrub_continuous(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    struct agenttest_hash h;
    struct mwant w = {f->a, "sledagent_store_scrub_passes_total ", 2};
    double bytes, rate, pause, period;
    int64_t t0, found;
    char *path;

    agenttest_art_make(&x, 1024 * 1024);
    agenttest_art_make(&y, 1024 * 1024);
    {
        const char *cfg[2] = {x.hex, y.hex};

        assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    }
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_put_artifact(f->a, y.hex, 1, y.data, y.len,
                                            NULL), 200);
    /* a pass over the four copies has run since they were stored */
    if (!testutil_wait_for(metric_at_least, &w, 60000))
        fail_msg("no second scrub pass within 60 s");
    bytes = metric(f->a, "sledagent_store_scrub_last_pass_bytes ");
    rate = metric(f->a, "sledagent_store_scrub_rate_bytes_per_second ");
    pause = metric(f->a, "sledagent_store_scrub_pause_seconds ");
    assert_true(bytes == 4.0 * 1024 * 1024);
    assert_true(rate == 1048576.0);
    assert_true(pause == 10.0);
    period = bytes / rate + pause;
    /* corrupted in place while the agent runs: no restart, no hook */
    path = agentproc_path(f->a, 0, y.hex);
    assert_non_null(path);
    agenttest_flip_byte(path, 700000, 0x40);
    t0 = testutil_now_ms();
    h.path = path;
    h.hex = y.hex;
    if (!testutil_wait_for(agenttest_file_has_hash, &h,
                           (int)(period * 1000) + 3000))
        fail_msg("corrupt copy not repaired within the period %.1f s + 3 s",
                 period);
    found = testutil_now_ms() - t0;
    printf("# corrupt copy repaired %lld ms after the damage (period "
           "%.1f s = %.0f bytes / %.0f B/s + %.0f s)\n", (long long)found,
           period, bytes, rate, pause);
    assert_true(metric(f->a, "sledagent_store_scrub_corrupt_total ") >= 1);
    agenttest_assert_invariant(f->a);
    mem_free(path);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST_ARGS(test_agent_storeleaks__repair_quota, args_full_b),
        AGENTTEST_ARGS(test_agent_storeleaks__quarantine_cap, args_qcap),
        AGENTTEST_ARGS(test_agent_storeleaks__quarantine_retention,
                       args_qret),
        AGENTTEST_ARGS(test_agent_storeleaks__short_at_open, args_noscrub),
        AGENTTEST_ARGS(test_agent_storeleaks__short_mid_send, args_noscrub),
        AGENTTEST_ARGS(test_agent_storeleaks__scrub_continuous,
                       args_slow_scrub),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
