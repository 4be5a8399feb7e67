/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box tests of the out-of-band install hold (issue 12 item 6,
 * docs/API.md "Out-of-band install hold"): `sledagent override set` on a
 * running agent's datasets holds it: GET /artifacts-config and GET
 * /artifacts report the override, every change the controller asks for
 * (config, ledger reset, PUT, copy) is 409 OVERRIDE_ACTIVE, the depot
 * keeps serving; the hold survives a restart, and either dataset alone
 * keeps it; DELETE /artifacts-override/{id} with the wrong id (409
 * OVERRIDE_MISMATCH) or a malformed one (400) changes nothing, with the
 * right id it clears both datasets and the sled takes configs again. A
 * copy accepted before the hold finishes; none starts during it.
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

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define MIB (1024u * 1024)
#define WRONG_ID "00000000-0000-4000-8000-000000000001"

/*
 * Run `sledagent override ARGS... --dataset A --dataset B` on a's
 * datasets; *code its exit status. Returns what it printed on stdout as
 * JSON ({"override": ...}; NULL when it printed none).
 */
static json_t *override_cli(struct agentproc *a, int *code,
                            const char *const *args)
{
    char *bin = proc_bin_path("sledagent");
    char *log = testutil_join(agentproc_dir(a), "override-cli.log");
    char *argv[16], *text = NULL, *line;
    size_t n = 0, len = 0;
    json_t *v = NULL;

    assert_non_null(bin);
    assert_non_null(log);
    argv[n++] = bin;
    argv[n++] = (char *)"override";
    for (size_t i = 0; args[i]; i++)
        argv[n++] = (char *)args[i];
    argv[n++] = (char *)"--dataset";
    argv[n++] = (char *)agentproc_dataset(a, 0);
    argv[n++] = (char *)"--dataset";
    argv[n++] = (char *)agentproc_dataset(a, 1);
    argv[n] = NULL;
    unlink(log);
    assert_int_equal(proc_run(code, bin, argv, log, 30000), 0);
    if (testutil_read_file(&text, &len, log) == 0 &&
        (line = strstr(text, "{\"override\"")) != NULL)
        v = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
    mem_free(text);
    mem_free(log);
    mem_free(bin);
    return v;
}

/* Set a hold with reason; returns its id (a new string). */
static char *hold(struct agentproc *a, const char *reason)
{
    const char *args[] = {"set", "--reason", reason, NULL};
    json_t *v;
    const char *id;
    char *out;
    int code = -1;

    v = override_cli(a, &code, args);
    assert_int_equal(code, 0);
    assert_non_null(v);
    id = json_string_value(json_object_get(json_object_get(v, "override"),
                                           "id"));
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    out = mem_strdup(id);
    json_decref(v);
    return out;
}

struct held_arg {
    struct agentproc *a;
    const char *id; /* NULL: not held */
};

/* GET /artifacts reports override id (or none when id is NULL). */
static bool list_held_is(void *arg)
{
    struct held_arg *h = arg;
    json_t *v = NULL;
    const char *got;
    bool ok;

    if (agentproc_list(h->a, &v) != 200 || !v)
        return false;
    got = json_string_value(json_object_get(json_object_get(v, "override"),
                                            "id"));
    ok = h->id ? got && !strcmp(got, h->id)
               : !json_object_get(v, "override");
    json_decref(v);
    return ok;
}

/* method url body: the status, and the error_code into code. */
static long send_req(struct agentproc *a, const char *method,
                     const char *path, const char *body, char *code,
                     size_t cap)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct err e = ERR_INIT;
    char url[512];
    json_t *v;
    long st;

    snprintf(url, sizeof(url), "%s%s", agentproc_api_url(a), path);
    if (http_client_send(&r, method, url, body, body ? strlen(body) : 0) <
        0)
        return -1;
    st = r.status;
    code[0] = '\0';
    if (st >= 400) {
        if (agentproc_check_error(&r, &e) < 0)
            fail_msg("%s %s: bad error shape: %s", method, path, e.msg);
        v = http_client_json(&r);
        snprintf(code, cap, "%s",
                 json_string_value(json_object_get(v, "error_code"))
                     ? json_string_value(json_object_get(v, "error_code"))
                     : "");
        json_decref(v);
    }
    http_client_resp_release(&r);
    return st;
}

/* Whether a's dataset i holds override.json. */
static bool file_on(struct agentproc *a, int i)
{
    char *p = agentproc_path(a, i, "override.json");
    bool yes = testutil_exists(p);

    mem_free(p);
    return yes;
}

static void assert_config_generation(struct agentproc *a, long gen,
                                     const char *held_id)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *v, *o;

    snprintf(url, sizeof(url), "%s/artifacts-config", agentproc_api_url(a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    v = http_client_json(&r);
    assert_int_equal(json_integer_value(json_object_get(v, "generation")),
                     gen);
    o = json_object_get(v, "override");
    if (held_id) {
        assert_string_equal(json_string_value(json_object_get(o, "id")),
                            held_id);
        assert_string_equal(json_string_value(json_object_get(o, "reason")),
                            "re-imaged by hand");
        assert_non_null(json_string_value(json_object_get(o, "set_at")));
    } else {
        assert_null(o);
    }
    json_decref(v);
    http_client_resp_release(&r);
}

static void test_agent_override__hold_refuses_and_clears(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    const char *cfg1[1], *cfg2[2];
    char path[512], body[512], code[64], *id;
    struct held_arg h = {f->a, NULL};
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    json_t *v;
    int exit_code;

    agenttest_art_make(&x, 4096);
    agenttest_art_make(&y, 4096);
    cfg1[0] = x.hex;
    cfg2[0] = x.hex;
    cfg2[1] = y.hex;
    assert_int_equal(agentproc_put_config(f->a, 1, cfg1, 1), 204);
    assert_int_equal(agentproc_put_artifact(f->a, x.hex, 1, x.data, x.len,
                                            NULL), 200);

    /* bad usage changes nothing */
    v = override_cli(f->a, &exit_code,
                     (const char *[]){"set", "--reason", "", NULL});
    assert_int_equal(exit_code, 2);
    json_decref(v);
    v = override_cli(f->a, &exit_code, (const char *[]){"set", NULL});
    assert_int_equal(exit_code, 2);
    json_decref(v);
    assert_false(file_on(f->a, 0));
    assert_false(file_on(f->a, 1));

    id = hold(f->a, "re-imaged by hand");
    assert_true(file_on(f->a, 0));
    assert_true(file_on(f->a, 1));
    h.id = id;
    assert_true(testutil_wait_for(list_held_is, &h, 15000));
    assert_config_generation(f->a, 1, id);
    /* a second hold is refused: the first stays */
    v = override_cli(f->a, &exit_code,
                     (const char *[]){"set", "--reason", "again", NULL});
    assert_int_equal(exit_code, 1);
    json_decref(v);

    /* every change the controller asks for: 409, nothing changed */
    assert_int_equal(agentproc_put_config(f->a, 2, cfg2, 2), 409);
    snprintf(body, sizeof(body), "{\"generation\": 2, \"artifacts\": "
             "[\"%s\"]}", x.hex);
    assert_int_equal(send_req(f->a, "PUT", "/artifacts-config", body, code,
                              sizeof(code)), 409);
    assert_string_equal(code, "OVERRIDE_ACTIVE");
    snprintf(body, sizeof(body), "{\"generation\": 1, \"artifacts\": [], "
             "\"reason\": \"t\", \"requested_by\": \"t\"}");
    assert_int_equal(send_req(f->a, "POST", "/artifacts-config/reset", body,
                              code, sizeof(code)), 409);
    assert_string_equal(code, "OVERRIDE_ACTIVE");
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", y.hex);
    assert_int_equal(send_req(f->a, "PUT", path, "abc", code, sizeof(code)),
                     409);
    assert_string_equal(code, "OVERRIDE_ACTIVE");
    snprintf(path, sizeof(path), "/artifacts/%s/copy-from-depot?"
             "generation=1", y.hex);
    snprintf(body, sizeof(body), "{\"depot_base_url\": \"%s\"}",
             agentproc_depot_url(f->a));
    assert_int_equal(send_req(f->a, "POST", path, body, code, sizeof(code)),
                     409);
    assert_string_equal(code, "OVERRIDE_ACTIVE");
    assert_config_generation(f->a, 1, id);
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_count(f->a, y.hex), 0);
    /* the depot keeps serving */
    snprintf(path, sizeof(path), "%s/artifact/sha256/%s",
             agentproc_depot_url(f->a), x.hex);
    assert_int_equal(http_client_get(&r, path), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, x.len);

    /* a wrong or malformed id changes nothing */
    assert_int_equal(send_req(f->a, "DELETE", "/artifacts-override/" WRONG_ID,
                              NULL, code, sizeof(code)), 409);
    assert_string_equal(code, "OVERRIDE_MISMATCH");
    assert_int_equal(send_req(f->a, "DELETE", "/artifacts-override/nope",
                              NULL, code, sizeof(code)), 400);
    assert_true(file_on(f->a, 0));
    assert_true(file_on(f->a, 1));

    /* persisted: a restart keeps it, and so does either dataset alone */
    assert_int_equal(agentproc_restart(f->a), 0);
    assert_true(list_held_is(&h));
    assert_int_equal(agentproc_put_config(f->a, 2, cfg2, 2), 409);
    {
        char *p = agentproc_path(f->a, 0, "override.json");

        assert_int_equal(unlink(p), 0);
        mem_free(p);
    }
    assert_int_equal(agentproc_restart(f->a), 0);
    assert_true(list_held_is(&h));
    assert_config_generation(f->a, 1, id);

    /* the right id clears it everywhere; configs are taken again */
    snprintf(path, sizeof(path), "/artifacts-override/%s", id);
    snprintf(body, sizeof(body), "%s%s", agentproc_api_url(f->a), path);
    assert_int_equal(http_client_send(&r, "DELETE", body, NULL, 0), 0);
    assert_int_equal(r.status, 200);
    v = http_client_json(&r);
    assert_string_equal(json_string_value(json_object_get(v, "cleared")), id);
    assert_true(json_is_null(json_object_get(v, "override")));
    json_decref(v);
    assert_false(file_on(f->a, 0));
    assert_false(file_on(f->a, 1));
    h.id = NULL;
    assert_true(list_held_is(&h));
    assert_config_generation(f->a, 1, NULL);
    assert_int_equal(agentproc_put_config(f->a, 2, cfg2, 2), 204);
    assert_int_equal(send_req(f->a, "DELETE", path, NULL, code,
                              sizeof(code)), 404);
    assert_string_equal(code, "NO_OVERRIDE");
    v = override_cli(f->a, &exit_code, (const char *[]){"show", NULL});
    assert_int_equal(exit_code, 0);
    assert_true(json_is_null(json_object_get(v, "override")));
    json_decref(v);

    http_client_resp_release(&r);
    mem_free(id);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

/* A depot that answers one GET with 200 and a Content-Length of len, sends
 * the first half, waits for release, then the rest. */
struct slow_depot {
    int lfd, port;
    const char *data;
    size_t len;
    pthread_t th;
    pthread_mutex_t mu;
    bool release;
};

static bool released(struct slow_depot *d)
{
    bool r;

    pthread_mutex_lock(&d->mu);
    r = d->release;
    pthread_mutex_unlock(&d->mu);
    return r;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static void *slow_depot_run(void *arg)
{
    struct slow_depot *d = arg;
    struct pollfd pfd = {d->lfd, POLLIN, 0};
    char head[256], req[4096];
    int fd;

    if (poll(&pfd, 1, 30000) <= 0)
        return NULL;
    fd = accept(d->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (recv(fd, req, sizeof(req), 0) <= 0)
        goto out;
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
             "application/octet-stream\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n", d->len);
    if (!send_all(fd, head, strlen(head)) ||
        !send_all(fd, d->data, d->len / 2))
        goto out;
    for (int i = 0; i < 600 && !released(d); i++)
        testutil_sleep_ms(50);
    send_all(fd, d->data + d->len / 2, d->len - d->len / 2);
out:
    close(fd);
    return NULL;
}

static void slow_depot_start(struct slow_depot *d)
{
    pthread_mutex_init(&d->mu, NULL);
    d->lfd = http_client_listener(&d->port, 4);
    assert_int_equal(pthread_create(&d->th, NULL, slow_depot_run, d), 0);
}

struct copy_arg {
    struct agentproc *a;
    const char *hex, *want;
};

/* GET /copies lists hex in state want. */
static bool copy_state_is(void *arg)
{
    struct copy_arg *c = arg;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *v = NULL, *e;
    size_t i;
    bool ok = false;

    snprintf(url, sizeof(url), "%s/copies", agentproc_api_url(c->a));
    if (http_client_get(&r, url) == 0 && r.status == 200)
        v = http_client_json(&r);
    json_array_foreach(v, i, e) {
        const char *h = json_string_value(json_object_get(e, "sha256"));
        const char *s = json_string_value(json_object_get(e, "state"));

        ok |= h && s && !strcmp(h, c->hex) && !strcmp(s, c->want);
    }
    json_decref(v);
    http_client_resp_release(&r);
    return ok;
}

static void test_agent_override__set_while_copy_runs(void **state)
{
    struct agentproc_fixture *f = *state;
    struct agenttest_art x, y;
    struct slow_depot d = {0};
    const char *cfg[2];
    char path[256], body[256], code[64], *id;
    struct held_arg h = {f->a, NULL};
    struct copy_arg c = {f->a, NULL, "running"};

    agenttest_art_make(&x, 2 * MIB);
    agenttest_art_make(&y, 4096);
    cfg[0] = x.hex;
    cfg[1] = y.hex;
    d.data = (const char *)x.data;
    d.len = x.len;
    slow_depot_start(&d);
    assert_int_equal(agentproc_put_config(f->a, 1, cfg, 2), 204);
    snprintf(path, sizeof(path), "/artifacts/%s/copy-from-depot?"
             "generation=1", x.hex);
    snprintf(body, sizeof(body), "{\"depot_base_url\": "
             "\"http://127.0.0.1:%d\"}", d.port);
    assert_int_equal(send_req(f->a, "POST", path, body, code, sizeof(code)),
                     202);
    c.hex = x.hex;
    assert_true(testutil_wait_for(copy_state_is, &c, 15000));

    id = hold(f->a, "re-imaged by hand");
    h.id = id;
    assert_true(testutil_wait_for(list_held_is, &h, 15000));
    /* no new write starts while held */
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", y.hex);
    assert_int_equal(send_req(f->a, "PUT", path, "abc", code, sizeof(code)),
                     409);
    assert_string_equal(code, "OVERRIDE_ACTIVE");
    /* the copy accepted before the hold finishes, verified */
    pthread_mutex_lock(&d.mu);
    d.release = true;
    pthread_mutex_unlock(&d.mu);
    c.want = "done";
    assert_true(testutil_wait_for(copy_state_is, &c, 30000));
    assert_int_equal(agentproc_count(f->a, x.hex), 2);
    assert_int_equal(agentproc_count(f->a, y.hex), 0);
    assert_true(list_held_is(&h));
    assert_config_generation(f->a, 1, id);
    /* files removed by hand: a clear removes nothing, says so (404
     * NO_OVERRIDE, whether the agent noticed first or not), and the hold
     * is gone */
    for (int i = 0; i < 2; i++) {
        char *p = agentproc_path(f->a, i, "override.json");

        assert_int_equal(unlink(p), 0);
        mem_free(p);
    }
    snprintf(path, sizeof(path), "/artifacts-override/%s", id);
    assert_int_equal(send_req(f->a, "DELETE", path, NULL, code,
                              sizeof(code)), 404);
    assert_string_equal(code, "NO_OVERRIDE");
    h.id = NULL;
    assert_true(testutil_wait_for(list_held_is, &h, 15000));
    pthread_join(d.th, NULL);
    close(d.lfd);
    pthread_mutex_destroy(&d.mu);
    mem_free(id);
    agenttest_art_free(&x);
    agenttest_art_free(&y);
    f->passed = true;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, agentproc_fixture_setup, \
                                              agentproc_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_agent_override__hold_refuses_and_clears),
        T(test_agent_override__set_while_copy_runs),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
