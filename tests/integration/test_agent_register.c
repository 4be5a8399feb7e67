/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box test of the sledagent's registration (DESIGN.md section 9,
 * docs/DECISIONS.md 10): a fake replicator (a listening socket served by a
 * thread of this test) records the agent's requests; the agent PUTs
 * /sled-agents/{id} with {"api_address": "127.0.0.1:API",
 * "repo_depot_port": DEPOT} at start and again after --register-interval,
 * and keeps serving once the replicator is gone. Each request names the
 * replicator API version the sled speaks (api-version).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define ID "0c1d2e3f-4a5b-4c6d-8e7f-001122334455"
#define MAX_SEEN 16

struct fake_repl {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    bool stop;
    unsigned n;
    char line[MAX_SEEN][256];
    char body[MAX_SEEN][512];
    char version[MAX_SEEN][64]; /* the api-version header(s) sent */
};

/* Read one request (head + Content-Length body) from fd, record it, 204. */
static void serve_one(struct fake_repl *f, int fd)
{
    char req[4096];
    size_t got = 0;
    char *end = NULL, *cl;
    size_t need = 0;

    while (got < sizeof(req) - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t k;

        if (poll(&pfd, 1, 5000) <= 0)
            break;
        k = recv(fd, req + got, sizeof(req) - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        req[got] = '\0';
        end = strstr(req, "\r\n\r\n");
        if (end) {
            cl = strcasestr(req, "Content-Length:");
            need = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
            if (got >= (size_t)(end + 4 - req) + need)
                break;
        }
    }
    if (end) {
        pthread_mutex_lock(&f->mu);
        if (f->n < MAX_SEEN) {
            snprintf(f->line[f->n], sizeof(f->line[0]), "%.*s",
                     (int)strcspn(req, "\r"), req);
            snprintf(f->body[f->n], sizeof(f->body[0]), "%.*s", (int)need,
                     end + 4);
            /* every api-version line of the head, comma-separated */
            *end = '\0';
            for (char *v = strcasestr(req, "\r\napi-version:"); v;
                 v = strcasestr(v + 2, "\r\napi-version:")) {
                size_t l = strlen(f->version[f->n]);

                snprintf(f->version[f->n] + l, sizeof(f->version[0]) - l,
                         "%s%.*s", l ? "," : "",
                         (int)strcspn(v + 15, "\r"), v + 15);
            }
            f->n++;
        }
        pthread_mutex_unlock(&f->mu);
        send(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 47,
             MSG_NOSIGNAL);
    }
    close(fd);
}

static void *fake_repl_run(void *arg)
{
    struct fake_repl *f = arg;

    for (;;) {
        struct pollfd pfd = {f->lfd, POLLIN, 0};
        bool stop;
        int fd;

        pthread_mutex_lock(&f->mu);
        stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return NULL;
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        fd = accept(f->lfd, NULL, NULL);
        if (fd >= 0)
            serve_one(f, fd);
    }
}

static void fake_repl_start(struct fake_repl *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = http_client_listener(&f->port, 16);
    assert_int_equal(pthread_create(&f->th, NULL, fake_repl_run, f), 0);
}

/* Stop serving and close the listener: the replicator is down. */
static void fake_repl_stop(struct fake_repl *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    close(f->lfd);
    pthread_mutex_destroy(&f->mu);
}

struct seen_arg {
    struct fake_repl *f;
    unsigned want;
};

static bool seen_at_least(void *arg)
{
    struct seen_arg *s = arg;
    unsigned n;

    pthread_mutex_lock(&s->f->mu);
    n = s->f->n;
    pthread_mutex_unlock(&s->f->mu);
    return n >= s->want;
}

static bool log_has_failure(void *arg)
{
    struct agentproc *a = arg;
    char *text = NULL;
    size_t len = 0;
    bool yes;

    if (testutil_read_file(&text, &len, agentproc_log_path(a)) < 0)
        return false;
    yes = strstr(text, "registration_failed") != NULL;
    mem_free(text);
    return yes;
}

static void test_agent_register__put_periodic_and_survives(void **state)
{
    struct fake_repl f;
    struct agentproc *a = NULL;
    struct seen_arg s = {&f, 1};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[64], want[64], u[128];
    const char *args[] = {"--replicator", url, "--id", ID,
                          "--register-interval", "1", NULL};
    unsigned before;
    json_t *v;
    bool ok = false;

    (void)state;
    fake_repl_start(&f);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
    assert_int_equal(agentproc_new(&a, args), 0);
    assert_int_equal(agentproc_start(a), 0);
    if (!testutil_wait_for(seen_at_least, &s, 10000))
        goto out;
    pthread_mutex_lock(&f.mu);
    assert_string_equal(f.line[0], "PUT /sled-agents/" ID " HTTP/1.1");
    /* it names the replicator API version it speaks, once */
    assert_string_equal(f.version[0], API_VERSION_REPLICATOR_SLED);
    v = json_loads(f.body[0], 0, NULL);
    pthread_mutex_unlock(&f.mu);
    snprintf(want, sizeof(want), "127.0.0.1:%d", agentproc_api_port(a));
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "api_address")),
                        want);
    assert_int_equal(json_integer_value(json_object_get(v,
                                                        "repo_depot_port")),
                     agentproc_depot_port(a));
    json_decref(v);
    /* Again after the period. */
    s.want = 2;
    if (!testutil_wait_for(seen_at_least, &s, 5000))
        goto out;
    pthread_mutex_lock(&f.mu);
    assert_string_equal(f.line[1], f.line[0]);
    assert_string_equal(f.body[1], f.body[0]);
    before = f.n;
    pthread_mutex_unlock(&f.mu);
    assert_true(before >= 2);
    /* The replicator goes away: the agent logs and keeps serving. */
    fake_repl_stop(&f);
    assert_true(testutil_wait_for(log_has_failure, a, 10000));
    assert_true(agentproc_alive(a));
    snprintf(u, sizeof(u), "%s/artifacts-config", agentproc_api_url(a));
    assert_int_equal(http_client_get(&r, u), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(agentproc_stop(a, 20000), 0);
    ok = true;
out:
    if (!ok) {
        agentproc_print_log(a);
        fail_msg("the fake replicator saw %u registrations", f.n);
    }
    http_client_resp_release(&r);
    agentproc_free(a);
}

static void test_agent_register__bad_interval_is_usage(void **state)
{
    const char *args[] = {"--register-interval", "0", NULL};
    struct agentproc *a = NULL;

    (void)state;
    assert_int_equal(agentproc_new(&a, args), 0);
    assert_true(agentproc_start(a) < 0);
    agentproc_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_register__put_periodic_and_survives),
        cmocka_unit_test(test_agent_register__bad_interval_is_usage),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
