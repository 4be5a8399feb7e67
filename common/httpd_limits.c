/* SPDX-License-Identifier: MPL-2.0 */
/*
 * httpd_limits: what one client may take of an httpd listener (issue 10).
 *  - Connections: at most lim.max_conns on the listener and
 *    lim.max_conns_per_peer from one address. At a limit the oldest idle
 *    connection (of that peer, or of the listener) is closed to make room
 *    (idle: waiting for a request head or a TLS handshake); with none,
 *    the new one is closed at once. Never a busy loop: every accept makes
 *    progress.
 *  - Descriptors: when accept fails for want of one (EMFILE, ENFILE) the
 *    oldest idle connection is closed, so the next accept finds one;
 *    with none idle, or on another error, the listener pauses for
 *    HTTPD_ACCEPT_PAUSE_MS (libevent's listener is level-triggered: left
 *    enabled it spun at 100 % CPU and logged each failure).
 *  - Deadlines: a request head must be in lim.head_secs after its first
 *    byte; a request body being read and a reply being written must move
 *    lim.min_rate_bps averaged over each lim.rate_window_secs window (the
 *    share of the listener's rate group when that is lower), or the
 *    connection closes. Time spent in our own handler or paused by our
 *    backpressure never counts.
 *  - One warn line per listener per HTTPD_LOG_INTERVAL_SECS at most, with
 *    the counters' increase; the counters go to /metrics.
 * Loop thread only, except the two pure helpers at the top.
 */
#include "common/httpd.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/err.h"
#include "common/httpd_internal.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/prom.h"

#define HTTPD_ACCEPT_PAUSE_MS 100
#define HTTPD_LOG_INTERVAL_SECS 10

/* The connections of one peer address. */
struct httpd_slot {
    struct httpd_slot *next;
    int family;
    uint8_t addr[16];
    unsigned conns;
};

int httpd_limits_raise_nofile(uint64_t *out)
{
    struct rlimit rl;

    *out = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return ERR_IO;
    *out = (uint64_t)rl.rlim_cur;
    if (rl.rlim_cur == rl.rlim_max)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return ERR_IO;
    *out = (uint64_t)rl.rlim_cur;
    return 0;
}

unsigned httpd_limits_default_conns(unsigned listeners)
{
    struct rlimit rl = {0, 0};
    uint64_t n = 1024; /* unreadable: the usual soft limit */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        n = rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
    n = n > LIMIT_HTTP_FD_RESERVE ? n - LIMIT_HTTP_FD_RESERVE : 0;
    n /= 2 * (uint64_t)(listeners ? listeners : 1);
    if (n > LIMIT_HTTP_CONNECTIONS)
        n = LIMIT_HTTP_CONNECTIONS;
    return n < 16 ? 16 : (unsigned)n;
}

static int64_t now_secs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* At most one line per interval: what the counters did since the last. */
static void note(struct httpd *h, const char *why)
{
    const struct httpd_stats *s = &h->stats, *l = &h->logged;
    int64_t now = now_secs();

    if (h->last_log && now - h->last_log < HTTPD_LOG_INTERVAL_SECS)
        return;
    log_warn("http_connection_limits",
             "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
             "listener", h->name, "last", why, "connections",
             (json_int_t)s->conns, "refused",
             (json_int_t)(s->refused_listener + s->refused_peer -
                          l->refused_listener - l->refused_peer),
             "idle_closed", (json_int_t)(s->evicted - l->evicted),
             "accept_failed",
             (json_int_t)(s->accept_failed - l->accept_failed),
             "head_timeouts",
             (json_int_t)(s->head_timeouts - l->head_timeouts),
             "slow_bodies", (json_int_t)(s->slow_bodies - l->slow_bodies),
             "slow_replies",
             (json_int_t)(s->slow_replies - l->slow_replies),
             "handshake_timeouts",
             (json_int_t)(s->handshake_timeouts - l->handshake_timeouts),
             "interval_secs", (json_int_t)HTTPD_LOG_INTERVAL_SECS);
    h->last_log = now;
    h->logged = h->stats;
}

/* ---- peers ---- */

static void peer_key(int *family, uint8_t addr[16], const struct sockaddr *sa)
{
    memset(addr, 0, 16);
    *family = sa ? sa->sa_family : AF_UNSPEC;
    if (*family == AF_INET)
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (*family == AF_INET6)
        memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static unsigned bucket(int family, const uint8_t addr[16])
{
    uint32_t x = 2166136261u ^ (uint32_t)family;

    for (int i = 0; i < 16; i++)
        x = (x ^ addr[i]) * 16777619u;
    return x % HTTPD_SLOT_BUCKETS;
}

/* The slot of sa's address; create: make it when there is none. */
static struct httpd_slot *slot_of(struct httpd *h, const struct sockaddr *sa,
                                  bool create)
{
    struct httpd_slot *s;
    uint8_t addr[16];
    int family;
    unsigned b;

    peer_key(&family, addr, sa);
    b = bucket(family, addr);
    for (s = h->slots[b]; s; s = s->next)
        if (s->family == family && memcmp(s->addr, addr, 16) == 0)
            return s;
    if (!create)
        return NULL;
    s = mem_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->family = family;
    memcpy(s->addr, addr, 16);
    s->next = h->slots[b];
    h->slots[b] = s;
    return s;
}

static void slot_put(struct httpd *h, struct httpd_slot *s)
{
    struct httpd_slot **pp;

    if (s->conns > 0)
        return;
    for (pp = &h->slots[bucket(s->family, s->addr)]; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    mem_free(s);
}

/* ---- idle list ---- */

void httpd__idle_enter(struct httpd_conn *c)
{
    struct httpd *h = c->h;

    if (c->idle)
        return;
    c->idle = true;
    c->idle_next = NULL;
    c->idle_prev = h->idle_tail;
    if (h->idle_tail)
        h->idle_tail->idle_next = c;
    else
        h->idle_head = c;
    h->idle_tail = c;
}

void httpd__idle_leave(struct httpd_conn *c)
{
    struct httpd *h = c->h;

    if (!c->idle)
        return;
    c->idle = false;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        h->idle_head = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    else
        h->idle_tail = c->idle_prev;
    c->idle_next = c->idle_prev = NULL;
}

/* Close the oldest idle connection (of slot s when not NULL). */
static bool evict_idle(struct httpd *h, const struct httpd_slot *s)
{
    struct httpd_conn *c;

    for (c = h->idle_head; c; c = c->idle_next)
        if (!s || c->slot == s)
            break;
    if (!c)
        return false;
    h->stats.evicted++;
    httpd__conn_close(c);
    return true;
}

bool httpd__admit(struct httpd *h, const struct sockaddr *sa)
{
    struct httpd_slot *s = slot_of(h, sa, false);

    /* Closing an idle connection of the peer may free s: look no more. */
    if (s && s->conns >= h->lim.max_conns_per_peer && !evict_idle(h, s)) {
        h->stats.refused_peer++;
        note(h, "refused: the peer is at its connection limit");
        return false;
    }
    if (h->nconns >= h->lim.max_conns && !evict_idle(h, NULL)) {
        h->stats.refused_listener++;
        note(h, "refused: the listener is at its connection limit");
        return false;
    }
    if (h->stats.evicted != h->logged.evicted)
        note(h, "idle connection closed to make room");
    return true;
}

/* Bytes in and out of c, for its rate window. */
static void count_in(struct evbuffer *b, const struct evbuffer_cb_info *i,
                     void *arg)
{
    struct httpd_conn *c = arg;

    (void)b;
    c->win_in += i->n_added;
}

static void count_out(struct evbuffer *b, const struct evbuffer_cb_info *i,
                      void *arg)
{
    struct httpd_conn *c = arg;

    (void)b;
    c->win_out += i->n_deleted;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg);

int httpd__conn_counted(struct httpd_conn *c, const struct sockaddr *sa)
{
    struct httpd *h = c->h;
    struct httpd_slot *slot;

    c->deadline = event_new(h->base, -1, 0, on_deadline, c);
    if (!c->deadline)
        return ERR_NOMEM;
    if (h->lim.min_rate_bps &&
        (!evbuffer_add_cb(bufferevent_get_input(c->bev), count_in, c) ||
         !evbuffer_add_cb(bufferevent_get_output(c->bev), count_out, c)))
        return ERR_NOMEM;
    slot = slot_of(h, sa, true);
    if (!slot)
        return ERR_NOMEM;
    c->slot = slot;
    slot->conns++;
    h->nconns++;
    h->stats.conns = h->nconns;
    return 0;
}

void httpd__conn_uncounted(struct httpd_conn *c)
{
    struct httpd *h = c->h;

    if (!h)
        return;
    httpd__idle_leave(c);
    if (c->deadline) {
        event_free(c->deadline);
        c->deadline = NULL;
    }
    /* The bufferevent may outlive c (deferred callbacks): no counting
     * into freed memory. */
    if (c->bev) {
        evbuffer_remove_cb(bufferevent_get_input(c->bev), count_in, c);
        evbuffer_remove_cb(bufferevent_get_output(c->bev), count_out, c);
    }
    if (c->slot) {
        c->slot->conns--;
        slot_put(h, c->slot);
        c->slot = NULL;
        h->nconns--;
        h->stats.conns = h->nconns;
    }
}

/* ---- deadlines ---- */

void httpd__head_started(struct httpd_conn *c)
{
    struct timeval tv = {(time_t)c->h->lim.head_secs, 0};

    if (c->head_timed || !c->deadline)
        return;
    c->head_timed = true;
    c->rate_timed = false;
    event_add(c->deadline, &tv);
}

void httpd__head_done(struct httpd_conn *c)
{
    if (!c->head_timed)
        return;
    c->head_timed = false;
    event_del(c->deadline);
}

void httpd__rate_start(struct httpd_conn *c)
{
    struct timeval tv = {(time_t)c->h->lim.rate_window_secs, 0};

    c->head_timed = false;
    c->win_in = c->win_out = 0;
    if (!c->h->lim.min_rate_bps || !c->deadline)
        return;
    c->rate_timed = true;
    event_add(c->deadline, &tv);
}

void httpd__handshake_timeout(struct httpd_conn *c)
{
    c->h->stats.handshake_timeouts++;
    note(c->h, "TLS handshake not done by its deadline");
}

/* Bytes a connection must move in one window. */
static uint64_t window_min(const struct httpd *h)
{
    uint64_t rate = h->lim.min_rate_bps;

    /* Our own rate group may give each connection less than the minimum:
     * never ask for more than an equal share of it. */
    if (h->rate_bps && h->nconns && h->rate_bps / h->nconns < rate)
        rate = h->rate_bps / h->nconns;
    return rate * h->lim.rate_window_secs;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct httpd_conn *c = arg;
    struct httpd *h = c->h;
    bool slow;

    (void)fd;
    (void)what;
    if (c->head_timed) {
        c->head_timed = false;
        if (c->state != C_HEAD)
            return;
        h->stats.head_timeouts++;
        note(h, "request head not in by its deadline");
        httpd__conn_close(c);
        return;
    }
    if (!c->rate_timed)
        return;
    c->rate_timed = false;
    if (c->state == C_BODY && c->r && !c->r->paused) {
        slow = c->win_in < window_min(h);
        if (slow) {
            h->stats.slow_bodies++;
            note(h, "request body under the minimum rate");
        }
    } else if (c->state == C_WRITING) {
        slow = c->win_out < window_min(h);
        if (slow) {
            h->stats.slow_replies++;
            note(h, "reply under the minimum rate");
        }
    } else if (c->state == C_BODY) {
        slow = false; /* paused by our backpressure: not the client */
    } else {
        return; /* our handler, or done: no window */
    }
    if (slow) {
        httpd__conn_close(c);
        return;
    }
    httpd__rate_start(c);
}

/* ---- accept back-off ---- */

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct httpd *h = arg;

    (void)fd;
    (void)what;
    if (!h->stopped)
        evconnlistener_enable(h->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct httpd *h = arg;
    int e = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {0, HTTPD_ACCEPT_PAUSE_MS * 1000};

    (void)lev;
    h->stats.accept_failed++;
    /* Out of descriptors with an idle connection to close: close the
     * oldest and let accept run again at once (each round frees one, so
     * the backlog drains at full speed: pausing 100 ms per connection
     * kept a client queued behind 100 others waiting 10 s). Otherwise
     * pause: accept would fail again at once, and libevent's listener
     * is level-triggered (a busy loop). */
    if ((e == EMFILE || e == ENFILE) && evict_idle(h, NULL)) {
        note(h, evutil_socket_error_to_string(e));
        return;
    }
    evconnlistener_disable(h->lev);
    event_add(h->resume, &tv);
    note(h, evutil_socket_error_to_string(e));
}

int httpd__limits_start(struct httpd *h, const struct httpd_opts *opts)
{
    h->lim = opts->limits;
    if (!h->lim.max_conns)
        h->lim.max_conns = httpd_limits_default_conns(1);
    if (!h->lim.max_conns_per_peer)
        h->lim.max_conns_per_peer =
            h->lim.max_conns / 4 ? h->lim.max_conns / 4 : 1;
    if (!h->lim.head_secs)
        h->lim.head_secs = LIMIT_HTTP_HEAD_SECS;
    if (!h->lim.rate_window_secs)
        h->lim.rate_window_secs = LIMIT_HTTP_RATE_WINDOW_SECS;
    h->rate_bps = opts->rate_group ? opts->rate_bps : 0;
    h->stats.max_conns = h->lim.max_conns;
    h->stats.max_conns_per_peer = h->lim.max_conns_per_peer;
    h->resume = event_new(h->base, -1, 0, on_resume, h);
    if (!h->resume)
        return ERR_NOMEM;
    evconnlistener_set_error_cb(h->lev, on_accept_error);
    return 0;
}

void httpd__limits_stop(struct httpd *h)
{
    if (h->resume)
        event_free(h->resume);
    h->resume = NULL;
    for (unsigned b = 0; b < HTTPD_SLOT_BUCKETS; b++)
        while (h->slots[b]) {
            struct httpd_slot *s = h->slots[b];

            h->slots[b] = s->next;
            mem_free(s);
        }
}

/* ---- metrics ---- */

void httpd_stats(const struct httpd *h, struct httpd_stats *out)
{
    *out = h->stats;
}

struct fam {
    const char *name, *help;
    enum prom_type type;
    size_t off;
    const char *label, *value;
};

#define ST(f) offsetof(struct httpd_stats, f)

static const struct fam fams[] = {
    {"httpd_connections", "open connections", PROM_GAUGE, ST(conns), NULL,
     NULL},
    {"httpd_connections_max", "connection limit of the listener",
     PROM_GAUGE, ST(max_conns), NULL, NULL},
    {"httpd_connections_per_peer_max", "connection limit of one address",
     PROM_GAUGE, ST(max_conns_per_peer), NULL, NULL},
    {"httpd_connections_refused_total", "connections closed at accept "
     "(limit reached, no idle connection to close)", PROM_COUNTER,
     ST(refused_listener), "reason", "listener"},
    {"httpd_connections_refused_total", NULL, PROM_COUNTER,
     ST(refused_peer), "reason", "peer"},
    {"httpd_idle_evicted_total", "idle connections closed to make room",
     PROM_COUNTER, ST(evicted), NULL, NULL},
    {"httpd_accept_failed_total", "accept failures (out of descriptors...): "
     "an idle connection closed, or the listener paused", PROM_COUNTER,
     ST(accept_failed), NULL, NULL},
    {"httpd_head_timeouts_total", "request heads not in by the deadline",
     PROM_COUNTER, ST(head_timeouts), NULL, NULL},
    {"httpd_slow_transfers_total", "connections closed under the minimum "
     "transfer rate", PROM_COUNTER, ST(slow_bodies), "direction", "request"},
    {"httpd_slow_transfers_total", NULL, PROM_COUNTER, ST(slow_replies),
     "direction", "reply"},
    {"httpd_handshake_timeouts_total", "TLS handshakes not done by the "
     "deadline", PROM_COUNTER, ST(handshake_timeouts), NULL, NULL},
};

int httpd_metrics(struct prom *p, const struct httpd *const *hs, size_t n)
{
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        prom_family(p, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; i < n; i++) {
            const char *labels[5] = {"listener", NULL, NULL, NULL, NULL};
            uint64_t v;

            if (!hs[i])
                continue;
            labels[1] = hs[i]->name;
            if (fams[f].label) {
                labels[2] = fams[f].label;
                labels[3] = fams[f].value;
            }
            memcpy(&v, (const char *)&hs[i]->stats + fams[f].off, sizeof(v));
            prom_u64(p, fams[f].name, labels, v);
        }
    }
    return prom_rc(p);
}
