/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of swarming copies (issue 13; sledagent/copy_swarm.c,
 * docs/REPLICATION.md "Swarming copies") between real agents and a fake
 * depot in this process that misbehaves on purpose: a copy from two
 * holders; a source that serves corrupt pieces (detected, refetched from
 * the other, never stored, the source listed as dropped in GET /copies); a
 * source killed mid-piece; a source that stalls mid-piece; a candidate
 * that serves a manifest of other bytes (dropped, "bad manifest") and a
 * manifest hash no candidate matches (502, nothing written); a first
 * candidate that never answers for the manifest (the next is asked within
 * a second, not after the connect timeout); a sled in the
 * middle of a swarm copy serving its verified pieces (206 inside them, 416
 * outside, 404 without Range, /have and its long-poll ?after=N, /pieces)
 * to a third sled that copies
 * from it; the depot's cap on ranged reads at once (429); a sled taking a
 * slow PUT that names its manifest (the fake plays the replicator that
 * serves it) serves the verified pieces before the PUT ends, and a second
 * sled's swarm copy takes them; a PUT whose body goes bad in piece k
 * serves the pieces before k and never k, renames nothing, and the copy
 * takes k elsewhere, or, with no other candidate, fails cleanly once the
 * PUT target lost the write; a PUT arriving on a sled that knows its link
 * makes its swarm copy drop the piece requests in flight, blaming no one.
 * Every copy test ends with the DESIGN.md invariant 2 check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define HEXZ "0000000000000000000000000000000000000000000000000000000000000000"
#define PSIZE (64u * 1024)
#define NPIECES 16u
#define LEN (NPIECES * PSIZE - 1000u)

enum fake_mode {
    FAKE_GOOD,
    FAKE_CORRUPT,      /* every piece it serves has one byte flipped */
    FAKE_KILL,         /* half of the first piece, then gone */
    FAKE_STALL,        /* half of every piece, then nothing */
    FAKE_BAD_MANIFEST, /* /pieces: the manifest of other bytes */
    FAKE_HALF,         /* has (and serves) only the first half */
    FAKE_SILENT_MANIFEST, /* /pieces: never answers; the rest as GOOD */
};

/* A depot in this process: one thread per connection, keep-alive. */
struct fake {
    int lfd, port;
    pthread_t th;
    volatile int mode;
    volatile int stop;
    volatile int killed;
    volatile int served; /* ranged GETs answered (even partly) */
    const char *data;
    size_t len;
    struct buf manifest, bad_manifest;
    char hex[SHA256_HEX_LEN + 1];
    char base[64];
};

struct conn {
    struct fake *f;
    int fd;
};

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

        if (k <= 0)
            return;
        c += k;
        n -= (size_t)k;
    }
}

static void reply(int fd, int status, const char *extra, const void *body,
                  size_t n)
{
    char h[512];
    int k = snprintf(h, sizeof(h),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                     n, extra ? extra : "");

    send_all(fd, h, (size_t)k);
    if (n)
        send_all(fd, body, n);
}

static bool half_has(uint64_t piece)
{
    return piece < NPIECES / 2;
}

/* One request (head in req); returns false to close the connection. */
static bool serve(struct fake *f, int fd, const char *req)
{
    char path[256], extra[160];
    const char *rg = strstr(req, "\nRange: bytes=");
    unsigned long long a = 0, b = 0;
    int mode = f->mode;

    if (sscanf(req, "GET %255s", path) != 1)
        return false;
    if (strstr(path, "/pieces") && mode == FAKE_SILENT_MANIFEST) {
        while (!f->stop)
            testutil_sleep_ms(20);
        return false;
    }
    if (strstr(path, "/pieces")) {
        const struct buf *m =
            mode == FAKE_BAD_MANIFEST ? &f->bad_manifest : &f->manifest;

        reply(fd, 200, NULL, m->data, m->len);
        return true;
    }
    if (strstr(path, "/have")) {
        char doc[512], bits[2 * (NPIECES / 8) + 1];

        if (mode != FAKE_HALF) {
            snprintf(doc, sizeof(doc), "{\"complete\":true,\"length\":%u}",
                     LEN);
        } else {
            struct sha256 id;
            char mhex[SHA256_HEX_LEN + 1];

            memset(bits, '0', sizeof(bits) - 1);
            bits[sizeof(bits) - 1] = '\0';
            bits[0] = 'f';
            bits[1] = 'f'; /* pieces 0..7 */
            assert_int_equal(sha256_digest(&id, f->manifest.data,
                                           f->manifest.len), 0);
            sha256_to_hex(mhex, &id);
            snprintf(doc, sizeof(doc),
                     "{\"complete\":false,\"have\":\"%s\",\"length\":%u,"
                     "\"manifest_sha256\":\"%s\",\"piece_size\":%u,"
                     "\"pieces\":%u}", bits, LEN, mhex, PSIZE, NPIECES);
        }
        reply(fd, 200, NULL, doc, strlen(doc));
        return true;
    }
    if (!rg || sscanf(rg, "\nRange: bytes=%llu-%llu", &a, &b) != 2 ||
        b >= f->len || a > b) {
        reply(fd, 416, NULL, NULL, 0);
        return true;
    }
    if (mode == FAKE_HALF && (!half_has(a / PSIZE) || !half_has(b / PSIZE))) {
        reply(fd, 416, NULL, NULL, 0);
        return true;
    }
    f->served++;
    snprintf(extra, sizeof(extra), "Content-Range: bytes %llu-%llu/%zu\r\n",
             a, b, f->len);
    if (mode == FAKE_KILL || mode == FAKE_STALL) {
        char h[256];
        int k = snprintf(h, sizeof(h),
                         "HTTP/1.1 206 X\r\nContent-Length: %llu\r\n%s\r\n",
                         b - a + 1, extra);

        send_all(fd, h, (size_t)k);
        send_all(fd, f->data + a, (size_t)(b - a + 1) / 2);
        if (mode == FAKE_KILL) {
            f->killed = 1;
            shutdown(f->lfd, SHUT_RDWR);
            return false;
        }
        while (!f->stop)
            testutil_sleep_ms(20);
        return false;
    }
    if (mode == FAKE_CORRUPT) {
        char *copy = mem_alloc((size_t)(b - a + 1));

        memcpy(copy, f->data + a, (size_t)(b - a + 1));
        copy[0] ^= 0x40;
        reply(fd, 206, extra, copy, (size_t)(b - a + 1));
        mem_free(copy);
        return true;
    }
    reply(fd, 206, extra, f->data + a, (size_t)(b - a + 1));
    return true;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct fake *f = c->f;
    char buf[8192];
    size_t have = 0;

    for (;;) {
        char *end;
        ssize_t k;

        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t used = (size_t)(end + 4 - buf);

            *end = '\0';
            if (f->killed || !serve(f, c->fd, buf))
                break;
            memmove(buf, buf + used, have - used);
            have -= used;
            continue;
        }
        if (have + 1 >= sizeof(buf))
            break;
        k = recv(c->fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    close(c->fd);
    mem_free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fake *f = arg;

    while (!f->stop) {
        int fd = accept(f->lfd, NULL, NULL);
        struct conn *c;
        pthread_t th;

        if (fd < 0)
            break;
        if (f->killed) {
            close(fd);
            break;
        }
        c = mem_alloc(sizeof(*c));
        c->f = f;
        c->fd = fd;
        if (pthread_create(&th, NULL, conn_main, c) == 0)
            pthread_detach(th);
        else {
            close(fd);
            mem_free(c);
        }
    }
    return NULL;
}

static void fake_start(struct fake *f, const struct agenttest_art *x,
                       int mode)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct pieces_builder *pb = NULL;
    struct pieces m = PIECES_INIT, bad = PIECES_INIT;
    struct sha256 h;
    char *other;
    int one = 1;

    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->data = x->data;
    f->len = x->len;
    snprintf(f->hex, sizeof(f->hex), "%s", x->hex);
    assert_int_equal(sha256_from_hex(&h, x->hex), 0);
    assert_int_equal(pieces_builder_new(&pb, PSIZE, NULL), 0);
    assert_int_equal(pieces_builder_update(pb, x->data, x->len), 0);
    assert_int_equal(pieces_builder_finish(&m, pb, &h, NULL), 0);
    pieces_builder_free(pb);
    assert_int_equal(pieces_encode(&f->manifest, &m, NULL), 0);
    /* a manifest of the same name and length listing other pieces */
    other = mem_alloc(x->len);
    memcpy(other, x->data, x->len);
    other[5] ^= 1;
    assert_int_equal(pieces_builder_new(&pb, PSIZE, NULL), 0);
    assert_int_equal(pieces_builder_update(pb, other, x->len), 0);
    assert_int_equal(pieces_builder_finish(&bad, pb, &h, NULL), 0);
    pieces_builder_free(pb);
    assert_int_equal(pieces_encode(&f->bad_manifest, &bad, NULL), 0);
    mem_free(other);
    pieces_release(&m);
    pieces_release(&bad);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 64), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->port);
    assert_int_equal(pthread_create(&f->th, NULL, accept_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = 1;
    shutdown(f->lfd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->lfd);
    testutil_sleep_ms(50); /* let the connection threads see stop */
    buf_release(&f->manifest);
    buf_release(&f->bad_manifest);
}

/* ---- helpers ------------------------------------------------------------ */

/* The manifest hash of x in PSIZE pieces, as hex. */
static void manifest_hex(char out[SHA256_HEX_LEN + 1],
                         const struct agenttest_art *x)
{
    struct pieces_builder *pb = NULL;
    struct pieces m = PIECES_INIT;
    struct sha256 h, id;

    assert_int_equal(sha256_from_hex(&h, x->hex), 0);
    assert_int_equal(pieces_builder_new(&pb, PSIZE, NULL), 0);
    assert_int_equal(pieces_builder_update(pb, x->data, x->len), 0);
    assert_int_equal(pieces_builder_finish(&m, pb, &h, NULL), 0);
    pieces_builder_free(pb);
    assert_int_equal(pieces_id(&id, &m, NULL), 0);
    sha256_to_hex(out, &id);
    pieces_release(&m);
}

static long post_swarm(struct agentproc *a, const struct agenttest_art *x,
                       const char *mhex, const char *first,
                       const char *const *others, size_t n,
                       struct http_client_resp *r)
{
    char url[256];
    struct buf body = BUF_INIT;
    long st;

    assert_int_equal(buf_printf(&body, "{\"depot_base_url\":\"%s\","
                                "\"pieces\":{\"manifest_sha256\":\"%s\","
                                "\"piece_size\":%u,\"length\":%zu,"
                                "\"sources\":[", first, mhex, PSIZE, x->len),
                     0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf_printf(&body, "%s{\"depot_base_url\":\"%s\"}",
                                    i ? "," : "", others[i]), 0);
    assert_int_equal(buf_printf(&body, "]}}"), 0);
    snprintf(url, sizeof(url), "%s/artifacts/%s/copy-from-depot?generation=1",
             agentproc_api_url(a), x->hex);
    st = http_client_send(r, "POST", url, body.data, body.len) < 0
             ? -1 : r->status;
    buf_release(&body);
    return st;
}

/* The GET /copies entry of x's swarm copy (new reference) or NULL. */
static json_t *swarm_entry(struct agentproc *a, const char *hex)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    json_t *v = NULL, *e, *found = NULL;
    size_t i;

    snprintf(url, sizeof(url), "%s/copies", agentproc_api_url(a));
    if (http_client_get(&r, url) == 0 && r.status == 200)
        v = http_client_json(&r);
    json_array_foreach(v, i, e) {
        const char *h = json_string_value(json_object_get(e, "sha256"));
        const char *mode = json_string_value(json_object_get(e, "mode"));

        if (!found && h && mode && !strcmp(h, hex) && !strcmp(mode, "swarm"))
            found = json_incref(e);
    }
    json_decref(v);
    http_client_resp_release(&r);
    return found;
}

/* The state of the source `base` in x's swarm entry; error into err. */
static bool source_state(json_t *e, const char *base, const char *want,
                         const char *err_part)
{
    json_t *s;
    size_t i;

    json_array_foreach(json_object_get(e, "sources"), i, s) {
        const char *u = json_string_value(json_object_get(s, "depot_base_url"));
        const char *st = json_string_value(json_object_get(s, "state"));
        const char *er = json_string_value(json_object_get(s, "error"));

        if (u && !strcmp(u, base))
            return st && (want ? !strcmp(st, want) : !!strcmp(st, "active")) &&
                   (!err_part || (er && strstr(er, err_part)));
    }
    return false;
}

static void wait_stored(struct agentproc *a, const struct agenttest_art *x,
                        long ms)
{
    struct agenttest_count c = {a, x->hex, 2};

    if (!testutil_wait_for(agenttest_count_is, &c, ms))
        fail_msg("swarm copy not complete after %ld ms: count %ld", ms,
                 agentproc_count(a, x->hex));
    for (int i = 0; i < 2; i++) {
        struct agenttest_hash hh;
        char *path = agentproc_path(a, i, x->hex);

        hh.path = path;
        hh.hex = x->hex;
        assert_true(agenttest_file_has_hash(&hh));
        mem_free(path);
    }
}

static int start_agent(struct agentproc **out)
{
    int rc = agentproc_new(out, NULL);

    return rc < 0 ? rc : agentproc_start(*out);
}

/* f->a holds x; f->b (started) has the config wanting it. */
static void two_agents(struct agentproc_fixture *f, struct agenttest_art *x)
{
    const char *cfg[1];

    agenttest_art_make(x, LEN);
    cfg[0] = x->hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x->hex, 1, x->data, x->len,
                                            NULL), 200);
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
}

/* A swarm copy on f->b with the fake first and f->a second: 202, stored,
 * the fake in `want` state with an error containing err_part. */
static void fault_case(void **state, int mode, const char *want,
                       const char *err_part)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1];
    const char *others[1];
    struct agenttest_art x;
    struct fake fk;
    json_t *e;

    two_agents(f, &x);
    fake_start(&fk, &x, mode);
    manifest_hex(mhex, &x);
    others[0] = agentproc_depot_url(f->a);
    assert_int_equal(post_swarm(f->b, &x, mhex, fk.base, others, 1, &r), 202);
    wait_stored(f->b, &x, 60000);
    e = swarm_entry(f->b, x.hex);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")),
                        "done");
    if (!source_state(e, fk.base, want, err_part)) {
        char *s = json_dumps(e, 0);

        fail_msg("fake source not %s (%s): %s", want ? want : "inactive",
                 err_part ? err_part : "", s);
    }
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(e, "pieces"),
                                           "verified")),
        NPIECES);
    json_decref(e);
    agenttest_assert_invariant(f->b);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 5000));
    fake_stop(&fk);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

/* ---- tests -------------------------------------------------------------- */

static void test_agent_swarm__two_holders(void **state)
{
    fault_case(state, FAKE_GOOD, "active", NULL);
}

static void test_agent_swarm__corrupt_source(void **state)
{
    /* dropped at its first piece; the piece never reached a temp file
     * (the store checks it before writing) and came from f->a instead */
    fault_case(state, FAKE_CORRUPT, "dropped", "piece");
}

static void test_agent_swarm__source_killed(void **state)
{
    /* backing off or dropped, depending on how often it was asked again
     * before the other source finished */
    fault_case(state, FAKE_KILL, NULL, NULL);
}

static void test_agent_swarm__source_stalls(void **state)
{
    fault_case(state, FAKE_STALL, NULL, "stalled");
}

static void test_agent_swarm__bad_manifest(void **state)
{
    fault_case(state, FAKE_BAD_MANIFEST, "dropped", "bad manifest");
}

/* The first candidate takes the manifest request and never answers: the
 * second is asked once SWARM_MANIFEST_HEDGE_MS (1 s) passed, so the copy
 * starts (202) long before the first request's timeout (the default
 * --copy-connect-timeout, 15 s: the 202 came after 15006 ms without the
 * hedge). Under load a request stuck behind a full queue held whole
 * copies this way (docs/REPLICATION.md). */
static void test_agent_swarm__manifest_first_silent(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1];
    const char *others[1];
    struct agenttest_art x;
    struct fake fk;
    int64_t t0, took;
    json_t *e;

    two_agents(f, &x);
    fake_start(&fk, &x, FAKE_SILENT_MANIFEST);
    manifest_hex(mhex, &x);
    others[0] = agentproc_depot_url(f->a);
    t0 = testutil_now_ms();
    assert_int_equal(post_swarm(f->b, &x, mhex, fk.base, others, 1, &r), 202);
    took = testutil_now_ms() - t0;
    print_message("202 after %lld ms (first candidate silent)\n",
                  (long long)took);
    if (took >= 10000)
        fail_msg("202 after %lld ms: the copy waited for the silent "
                 "candidate", (long long)took);
    wait_stored(f->b, &x, 60000);
    e = swarm_entry(f->b, x.hex);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")),
                        "done");
    json_decref(e);
    agenttest_assert_invariant(f->b);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 5000));
    fake_stop(&fk);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

struct metric_arg {
    struct agentproc *a;
    const char *name;
    double min;
};

static bool metric_at_least(void *arg)
{
    const struct metric_arg *m = arg;

    return agenttest_agent_metric(m->a, m->name) >= m->min;
}

/*
 * A PUT body starts on a sled (--link-rate) whose swarm copy has pieces
 * in flight from a slow holder (--rate-limit 256 KiB/s): the requests in
 * flight go back to the pool at once (sledagent_copy_pieces_yielded_total),
 * the holder is not blamed (still active, no error), the PUT's artifact
 * is stored, and the copy completes once the PUT is done.
 */
static void test_agent_swarm__put_yields_pieces(void **state)
{
    static const char *const link[] = {"--link-rate", "1048576", NULL};
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1], head[512];
    const char *cfg[2];
    struct agenttest_art x, y;
    struct metric_arg flowing, yielded;
    int fd = -1;
    json_t *e;

    agenttest_art_make(&x, LEN);
    agenttest_art_make(&y, LEN);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    assert_int_equal(agentproc_new(&f->b, link), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 2), 204);
    manifest_hex(mhex, &x);
    assert_int_equal(post_swarm(f->b, &x, mhex, agentproc_depot_url(f->a),
                                NULL, 0, &r), 202);
    flowing = (struct metric_arg){f->b, "sledagent_copy_bytes_total", 1};
    assert_true(testutil_wait_for(metric_at_least, &flowing, 10000));
    yielded = (struct metric_arg){f->b, "sledagent_copy_pieces_yielded_total",
                                  1};
    assert_true(agenttest_agent_metric(f->b, yielded.name) == 0);

    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(f->b)),
                     0);
    snprintf(head, sizeof(head), "PUT /artifacts/%s?generation=1 HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: %zu\r\n\r\n", y.hex, y.len);
    assert_int_equal(http_client_raw_send(fd, head, strlen(head)), 0);
    assert_true(testutil_wait_for(metric_at_least, &yielded, 5000));
    assert_int_equal(http_client_raw_send(fd, y.data, y.len), 0);
    wait_stored(f->b, &y, 10000);
    close(fd);

    wait_stored(f->b, &x, 60000);
    e = swarm_entry(f->b, x.hex);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")),
                        "done");
    if (!source_state(e, agentproc_depot_url(f->a), "active", NULL)) {
        char *js = json_dumps(e, 0);

        fail_msg("the holder was blamed for our own yield: %s", js);
    }
    json_decref(e);
    agenttest_assert_invariant(f->b);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 5000));
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

static void test_agent_swarm__no_matching_manifest(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    const char *others[1];
    struct agenttest_art x;
    struct fake fk;

    two_agents(f, &x);
    fake_start(&fk, &x, FAKE_BAD_MANIFEST);
    others[0] = fk.base;
    /* a manifest hash nobody serves: 502 after connect_secs, no file */
    assert_int_equal(post_swarm(f->b, &x, HEXZ, agentproc_depot_url(f->a),
                                others, 1, &r),
                     502);
    assert_int_equal(agentproc_count(f->b, x.hex), 0);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 5000));
    agenttest_assert_invariant(f->b);
    /* bad bodies: 400 before anyone is contacted */
    {
        char url[256];
        static const char *const bad[] = {
            "{\"depot_base_url\":\"http://127.0.0.1:1\",\"pieces\":1}",
            "{\"depot_base_url\":\"http://127.0.0.1:1\",\"pieces\":{"
            "\"manifest_sha256\":\"" HEXZ "\",\"piece_size\":1000,"
            "\"length\":5}}",
            "{\"depot_base_url\":\"http://127.0.0.1:1\",\"pieces\":{"
            "\"manifest_sha256\":\"" HEXZ "\",\"piece_size\":65536,"
            "\"length\":5,\"sources\":[{\"depot_base_url\":"
            "\"http://127.0.0.1:1\"}]}}",
            "{\"depot_base_url\":\"http://127.0.0.1:1\",\"pieces\":{"
            "\"manifest_sha256\":\"" HEXZ "\",\"piece_size\":65536,"
            "\"length\":5,\"extra\":1}}",
        };

        snprintf(url, sizeof(url),
                 "%s/artifacts/%s/copy-from-depot?generation=1",
                 agentproc_api_url(f->b), x.hex);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(http_client_send(&r, "POST", url, bad[i],
                                              strlen(bad[i])), 0);
            if (r.status != 400)
                fail_msg("bad body %zu: %ld", i, r.status);
        }
    }
    fake_stop(&fk);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static long depot_get(struct agentproc *a, const char *hex, const char *sfx,
                      const char *range, struct http_client_resp *r)
{
    struct http_client_req req = {0};
    char url[256], hdr[128];
    const char *hdrs[2] = {NULL, NULL};

    snprintf(url, sizeof(url), "%s/artifact/sha256/%s%s",
             agentproc_depot_url(a), hex, sfx);
    if (range) {
        snprintf(hdr, sizeof(hdr), "Range: %s", range);
        hdrs[0] = hdr;
        req.headers = hdrs;
    }
    req.url = url;
    if (http_client_request(r, &req, NULL) < 0)
        return -1;
    return r->status;
}

struct verified_at_least {
    struct agentproc *a;
    const char *hex;
    long n;
};

static bool verified_at_least(void *arg)
{
    struct verified_at_least *v = arg;
    json_t *e = swarm_entry(v->a, v->hex);
    long got = (long)json_integer_value(
        json_object_get(json_object_get(e, "pieces"), "verified"));

    json_decref(e);
    return got >= v->n;
}

/* b (started, wanting x) copies x from a fake that holds only the first
 * half: returns once b verified that half (the copy then waits). */
static void copy_half(struct agentproc *b, const struct agenttest_art *x,
                      struct fake *fk, char mhex[SHA256_HEX_LEN + 1],
                      struct http_client_resp *r)
{
    struct verified_at_least v = {b, x->hex, NPIECES / 2};

    fake_start(fk, x, FAKE_HALF);
    manifest_hex(mhex, x);
    assert_int_equal(post_swarm(b, x, mhex, fk->base, NULL, 0, r), 202);
    assert_true(testutil_wait_for(verified_at_least, &v, 30000));
}

static void test_agent_swarm__serve_in_progress(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1], want[64];
    struct agentproc *c = NULL;
    struct agenttest_art x;
    struct fake fk;
    const char *cfg[1];
    struct verified_at_least v;
    json_t *doc;

    /* f->a is not used as a source: the fake has only the first half */
    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(start_agent(&c), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_config(c, 1, cfg, 1), 204);
    copy_half(f->b, &x, &fk, mhex, &r);
    /* f->b serves the verified half from its temp file, nothing else */
    assert_int_equal(depot_get(f->b, x.hex, "", "bytes=100-70000", &r), 206);
    assert_int_equal(r.body.len, 70000 - 100 + 1);
    assert_memory_equal(r.body.data, x.data + 100, r.body.len);
    assert_int_equal(depot_get(f->b, x.hex, "", "bytes=524287-524288", &r),
                     416);
    assert_true(http_client_header(&r, "Content-Range", want, sizeof(want)));
    assert_int_equal(depot_get(f->b, x.hex, "", NULL, &r), 404);
    assert_int_equal(depot_get(f->b, x.hex, "/have", NULL, &r), 200);
    doc = http_client_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "have")),
                        "ff00");
    assert_string_equal(
        json_string_value(json_object_get(doc, "manifest_sha256")), mhex);
    json_decref(doc);
    /* the long-poll: after=3 is answered (8 verified), after=8 at its
     * deadline (no piece comes: the fake serves half) with the same
     * bitmap; another query is 400 */
    assert_int_equal(depot_get(f->b, x.hex, "/have?after=3", NULL, &r), 200);
    doc = http_client_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "have")),
                        "ff00");
    json_decref(doc);
    assert_int_equal(depot_get(f->b, x.hex, "/have?after=8", NULL, &r), 200);
    doc = http_client_json(&r);
    assert_string_equal(json_string_value(json_object_get(doc, "have")),
                        "ff00");
    json_decref(doc);
    assert_int_equal(depot_get(f->b, x.hex, "/have?after=x", NULL, &r), 400);
    assert_int_equal(depot_get(f->b, x.hex, "/have?since=1", NULL, &r), 400);
    assert_int_equal(depot_get(f->b, x.hex, "/pieces", NULL, &r), 200);
    assert_memory_equal(r.body.data, fk.manifest.data, fk.manifest.len);
    /* a third sled copies from the sled in progress: the first half now */
    assert_int_equal(post_swarm(c, &x, mhex, agentproc_depot_url(f->b), NULL,
                                0, &r),
                     202);
    v.a = c;
    v.hex = x.hex;
    v.n = NPIECES / 2;
    assert_true(testutil_wait_for(verified_at_least, &v, 30000));
    assert_int_equal(agentproc_count(f->b, x.hex), 0);
    /* the fake gets the rest: both complete, c from f->b */
    fk.mode = FAKE_GOOD;
    wait_stored(f->b, &x, 60000);
    wait_stored(c, &x, 60000);
    agenttest_assert_invariant(f->b);
    agenttest_assert_invariant(c);
    fake_stop(&fk);
    agentproc_free(c);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

/* A sled in the middle of a swarm copy (not a PUT target) sends one
 * verified piece to two peers at once: both need it, and its link is no
 * scarcer than theirs (only a PUT target sends a piece once at a time,
 * depot.c). f->b sends 256 KiB/s, so the two reads of 256 KiB overlap. */
static void test_agent_swarm__in_progress_piece_twice(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    static const char *const slow[] = {"--rate-limit", "262144", NULL};
    const char *hdrs[2] = {"Range: bytes=0-262143", NULL};
    struct http_client_async *as[2] = {0};
    struct http_client_req req[2];
    char mhex[SHA256_HEX_LEN + 1], url[256];
    struct agenttest_art x;
    struct fake fk;
    const char *cfg[1];

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_new(&f->b, slow), 0);
    assert_int_equal(agentproc_start(f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    copy_half(f->b, &x, &fk, mhex, &r);
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->b), x.hex);
    for (int i = 0; i < 2; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        req[i].url = url;
        req[i].headers = hdrs;
        assert_int_equal(http_client_start(&as[i], &req[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        struct http_client_resp ri = HTTP_CLIENT_RESP_INIT;

        assert_int_equal(http_client_join(as[i], &ri), 0);
        if (ri.status != 206)
            fail_msg("read %d of the same piece: %ld %.*s", i, ri.status,
                     (int)ri.body.len, ri.body.data);
        assert_int_equal(ri.body.len, 4 * PSIZE);
        assert_memory_equal(ri.body.data, x.data, ri.body.len);
        http_client_resp_release(&ri);
    }
    assert_int_equal(agentproc_count(f->b, x.hex), 0); /* still copying */
    fake_stop(&fk);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

/* f->a, the good holder, slow enough that the fake gets pieces to serve */
static const char *const slow_holder[] = {"--rate-limit", "262144", NULL};
static const char *const quick_connect[] = {"--copy-connect-timeout", "2",
                                            NULL};

/* The depot sends at most DEPOT_PIECE_STREAMS (4) ranged reads at once:
 * the fifth gets 429 + Retry-After; whole-file reads are never refused. */
static void test_agent_swarm__piece_streams_capped(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_async *as[5] = {0};
    struct http_client_req req[5];
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256], hv[16];
    const char *hdrs[2] = {"Range: bytes=0-524287", NULL};
    struct agenttest_art x;
    const char *cfg[1];

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->a), x.hex);
    /* f->a sends 256 KiB/s: four half-MiB reads stay open for seconds */
    for (int i = 0; i < 4; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        req[i].url = url;
        req[i].headers = hdrs;
        assert_int_equal(http_client_start(&as[i], &req[i]), 0);
    }
    testutil_sleep_ms(500);
    assert_int_equal(depot_get(f->a, x.hex, "", "bytes=0-99", &r), 429);
    assert_true(http_client_header(&r, "Retry-After", hv, sizeof(hv)));
    assert_string_equal(hv, "1");
    for (int i = 0; i < 4; i++) {
        struct http_client_resp ri = HTTP_CLIENT_RESP_INIT;

        assert_int_equal(http_client_join(as[i], &ri), 0);
        assert_int_equal(ri.status, 206);
        http_client_resp_release(&ri);
    }
    /* all sent: ranged reads are served again */
    assert_int_equal(depot_get(f->a, x.hex, "", "bytes=0-99", &r), 206);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

/* ---- a PUT that names its manifest (the fake is the replicator) -------- */

/* Open a PUT of x on a with its manifest named; send the head and the
 * first n body bytes (of body, x's bytes or a damaged copy). */
static int put_open(struct agentproc *a, const struct agenttest_art *x,
                    const char *mhex, const char *body, size_t n)
{
    char head[512];
    int fd = -1;
    int k = snprintf(head, sizeof(head),
                     "PUT /artifacts/%s?generation=1&manifest_sha256=%s"
                     "&piece_size=%u HTTP/1.1\r\nHost: t\r\n"
                     "Content-Length: %zu\r\n\r\n", x->hex, mhex, PSIZE,
                     x->len);

    assert_int_equal(http_client_raw_connect(&fd, agentproc_api_port(a)), 0);
    assert_int_equal(http_client_raw_send(fd, head, (size_t)k), 0);
    assert_int_equal(http_client_raw_send(fd, body, n), 0);
    return fd;
}

struct range_ok {
    struct agentproc *a;
    const char *hex;
    const char *range;
};

static bool range_served(void *arg)
{
    struct range_ok *q = arg;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    long st = depot_get(q->a, q->hex, "", q->range, &r);

    http_client_resp_release(&r);
    return st == 206;
}

static void test_agent_swarm__put_serves_pieces(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1], range[64];
    const char *args[3];
    struct agentproc *p = NULL;
    struct agenttest_art x;
    struct fake fk;
    const char *cfg[1];
    struct verified_at_least v;
    struct range_ok q;
    struct buf raw = BUF_INIT;
    int fd;

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    fake_start(&fk, &x, FAKE_GOOD);
    manifest_hex(mhex, &x);
    args[0] = "--replicator";
    args[1] = fk.base;
    args[2] = NULL;
    assert_int_equal(agentproc_new(&p, args), 0);
    assert_int_equal(agentproc_start(p), 0);
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(agentproc_put_config(p, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    /* 6 of the 16 pieces and a bit: pieces 0..5 are served */
    fd = put_open(p, &x, mhex, x.data, 6 * PSIZE + 100);
    q.a = p;
    q.hex = x.hex;
    snprintf(range, sizeof(range), "bytes=%u-%u", 5 * PSIZE, 6 * PSIZE - 1);
    q.range = range;
    assert_true(testutil_wait_for(range_served, &q, 10000));
    snprintf(range, sizeof(range), "bytes=%u-%u", 6 * PSIZE, 6 * PSIZE);
    assert_int_equal(depot_get(p, x.hex, "", range, &r), 416);
    assert_int_equal(depot_get(p, x.hex, "/pieces", NULL, &r), 200);
    assert_memory_equal(r.body.data, fk.manifest.data, fk.manifest.len);
    /* a second sled's swarm copy from the PUT target takes them now */
    assert_int_equal(post_swarm(f->b, &x, mhex, agentproc_depot_url(p), NULL,
                                0, &r), 202);
    v.a = f->b;
    v.hex = x.hex;
    v.n = 6;
    assert_true(testutil_wait_for(verified_at_least, &v, 30000));
    assert_int_equal(agentproc_count(p, x.hex), 0); /* the PUT runs on */
    /* the rest of the body: the PUT succeeds, the copy completes */
    assert_int_equal(http_client_raw_send(fd, x.data + 6 * PSIZE + 100,
                                          x.len - 6 * PSIZE - 100), 0);
    http_client_raw_recv(&raw, fd, 10000);
    assert_int_equal(http_client_raw_status(&raw), 200);
    close(fd);
    wait_stored(p, &x, 30000);
    wait_stored(f->b, &x, 60000);
    agenttest_assert_invariant(p);
    agenttest_assert_invariant(f->b);
    buf_release(&raw);
    fake_stop(&fk);
    agentproc_free(p);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

static void test_agent_swarm__put_bad_piece(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1], range[64];
    const char *args[3];
    struct agentproc *p = NULL;
    struct agenttest_art x;
    struct fake fk;
    const char *cfg[1];
    struct range_ok q;
    struct buf raw = BUF_INIT;
    char *bad;
    int fd, st;

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    fake_start(&fk, &x, FAKE_GOOD);
    manifest_hex(mhex, &x);
    args[0] = "--replicator";
    args[1] = fk.base;
    args[2] = NULL;
    assert_int_equal(agentproc_new(&p, args), 0);
    assert_int_equal(agentproc_start(p), 0);
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(agentproc_put_config(p, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    bad = mem_alloc(x.len);
    memcpy(bad, x.data, x.len);
    bad[3 * PSIZE + 11] ^= 1; /* piece 3 goes bad */
    fd = put_open(p, &x, mhex, bad, 8 * PSIZE);
    q.a = p;
    q.hex = x.hex;
    snprintf(range, sizeof(range), "bytes=0-%u", 3 * PSIZE - 1);
    q.range = range;
    assert_true(testutil_wait_for(range_served, &q, 10000));
    /* the copy: the PUT target first, the fake (a good holder) second */
    {
        const char *others[1] = {fk.base};

        assert_int_equal(post_swarm(f->b, &x, mhex, agentproc_depot_url(p),
                                    others, 1, &r), 202);
    }
    /* piece 3 and later are never served, before or after the body */
    for (int i = 0; i < 3; i++) {
        snprintf(range, sizeof(range), "bytes=%u-%u", 3 * PSIZE,
                 3 * PSIZE + 10);
        assert_int_equal(depot_get(p, x.hex, "", range, &r), 416);
        snprintf(range, sizeof(range), "bytes=%u-%u", 4 * PSIZE,
                 4 * PSIZE + 10);
        assert_int_equal(depot_get(p, x.hex, "", range, &r), 416);
        testutil_sleep_ms(100);
    }
    assert_int_equal(http_client_raw_send(fd, bad + 8 * PSIZE,
                                          x.len - 8 * PSIZE), 0);
    http_client_raw_recv(&raw, fd, 10000);
    st = http_client_raw_status(&raw);
    assert_true(st >= 400 && st < 500);
    close(fd);
    /* nothing renamed on the PUT target; the copy took piece 3 elsewhere */
    assert_int_equal(agentproc_count(p, x.hex), 0);
    wait_stored(f->b, &x, 60000);
    agenttest_assert_invariant(p);
    agenttest_assert_invariant(f->b);
    mem_free(bad);
    buf_release(&raw);
    fake_stop(&fk);
    agentproc_free(p);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

struct copy_state {
    struct agentproc *a;
    const char *hex, *want;
};

static bool copy_state_is(void *arg)
{
    struct copy_state *c = arg;
    json_t *e = swarm_entry(c->a, c->hex);
    const char *st = json_string_value(json_object_get(e, "state"));
    bool ok = st && !strcmp(st, c->want);

    json_decref(e);
    return ok;
}

/* The PUT target is the copy's only candidate and its PUT goes bad in
 * piece 3: the copy takes 0..2, then fails once the target lost the
 * write; nothing is renamed anywhere. */
static void test_agent_swarm__put_fails_copy_fails(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1];
    const char *args[3];
    struct agentproc *p = NULL;
    struct agenttest_art x;
    struct fake fk;
    const char *cfg[1];
    struct verified_at_least v;
    struct copy_state cs;
    struct buf raw = BUF_INIT;
    char *bad;
    int fd, st;

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    fake_start(&fk, &x, FAKE_GOOD);
    manifest_hex(mhex, &x);
    args[0] = "--replicator";
    args[1] = fk.base;
    args[2] = NULL;
    assert_int_equal(agentproc_new(&p, args), 0);
    assert_int_equal(agentproc_start(p), 0);
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(agentproc_put_config(p, 1, cfg, 1), 204);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    bad = mem_alloc(x.len);
    memcpy(bad, x.data, x.len);
    bad[3 * PSIZE + 11] ^= 1;
    fd = put_open(p, &x, mhex, bad, 8 * PSIZE);
    assert_int_equal(post_swarm(f->b, &x, mhex, agentproc_depot_url(p), NULL,
                                0, &r), 202);
    v.a = f->b;
    v.hex = x.hex;
    v.n = 3;
    assert_true(testutil_wait_for(verified_at_least, &v, 30000));
    assert_int_equal(http_client_raw_send(fd, bad + 8 * PSIZE,
                                          x.len - 8 * PSIZE), 0);
    http_client_raw_recv(&raw, fd, 10000);
    st = http_client_raw_status(&raw);
    assert_true(st >= 400 && st < 500);
    close(fd);
    cs.a = f->b;
    cs.hex = x.hex;
    cs.want = "failed";
    assert_true(testutil_wait_for(copy_state_is, &cs, 30000));
    assert_int_equal(agentproc_count(p, x.hex), 0);
    assert_int_equal(agentproc_count(f->b, x.hex), 0);
    agenttest_assert_invariant(p);
    agenttest_assert_invariant(f->b);
    mem_free(bad);
    buf_release(&raw);
    fake_stop(&fk);
    agentproc_free(p);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

/* The first candidate, the only complete holder, dies mid-piece; the
 * other candidate is alive but holds only half: once the half is taken
 * nothing can progress, and the copy fails ("no progress from the
 * others") instead of waiting forever, so that the controller re-plans.
 * Regression: the dead holder still counted as complete, and the copy
 * never ended (test_e2e_sled_stop, a sled stopped after its PUT). */
static void test_agent_swarm__holder_lost_copy_fails(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char mhex[SHA256_HEX_LEN + 1];
    const char *others[1];
    struct agenttest_art x;
    struct fake holder, half;
    struct copy_state cs;
    const char *cfg[1];
    json_t *e;
    const char *err;

    agenttest_art_make(&x, LEN);
    cfg[0] = x.hex;
    assert_int_equal(start_agent(&f->b), 0);
    assert_int_equal(agentproc_put_config(f->b, 1, cfg, 1), 204);
    fake_start(&holder, &x, FAKE_KILL);
    fake_start(&half, &x, FAKE_HALF);
    manifest_hex(mhex, &x);
    others[0] = half.base;
    assert_int_equal(post_swarm(f->b, &x, mhex, holder.base, others, 1, &r),
                     202);
    cs.a = f->b;
    cs.hex = x.hex;
    cs.want = "failed";
    assert_true(testutil_wait_for(copy_state_is, &cs, 60000));
    e = swarm_entry(f->b, x.hex);
    err = json_string_value(json_object_get(e, "error"));
    if (!err || !strstr(err, "no progress from the others") ||
        !strstr(err, holder.base)) {
        char *s = json_dumps(e, 0);

        fail_msg("copy error: %s", s);
    }
    json_decref(e);
    assert_true(holder.killed);
    assert_int_equal(agentproc_count(f->b, x.hex), 0);
    assert_true(testutil_wait_for(agenttest_tmp_empty, f->b, 5000));
    agenttest_assert_invariant(f->b);
    fake_stop(&holder);
    fake_stop(&half);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST_ARGS(test_agent_swarm__two_holders, slow_holder),
        AGENTTEST_ARGS(test_agent_swarm__corrupt_source, slow_holder),
        AGENTTEST_ARGS(test_agent_swarm__source_killed, slow_holder),
        AGENTTEST_ARGS(test_agent_swarm__source_stalls, slow_holder),
        AGENTTEST_ARGS(test_agent_swarm__bad_manifest, slow_holder),
        AGENTTEST_ARGS(test_agent_swarm__no_matching_manifest, quick_connect),
        AGENTTEST(test_agent_swarm__manifest_first_silent),
        AGENTTEST_ARGS(test_agent_swarm__put_yields_pieces, slow_holder),
        AGENTTEST(test_agent_swarm__serve_in_progress),
        AGENTTEST(test_agent_swarm__in_progress_piece_twice),
        AGENTTEST_ARGS(test_agent_swarm__piece_streams_capped, slow_holder),
        AGENTTEST(test_agent_swarm__put_serves_pieces),
        AGENTTEST(test_agent_swarm__put_bad_piece),
        AGENTTEST(test_agent_swarm__put_fails_copy_fails),
        AGENTTEST(test_agent_swarm__holder_lost_copy_fails),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
