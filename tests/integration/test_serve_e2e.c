/* SPDX-License-Identifier: MPL-2.0 */
/*
 * End to end through the real binaries: `replicator serve` (private
 * PostgreSQL, reconciliation task wired in), sledagents that register
 * themselves with --replicator, an upload through the HTTP API, and the
 * CLI (`activate`, `status --json`, `sled list`). Checks that every sled
 * converges to every artifact on both datasets, that the controller PUT
 * each artifact to at most min_sled_replication sleds (the rest moved
 * between peers), that /metrics answers, and that serve exits 0 on SIGTERM;
 * what the operator sees while the database is down (issue 11), and that
 * a missing --staging directory is created (issue 15).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/pg.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define NSLEDS 4
#define NART 3
#define MIN_REPL 3

struct fx {
    struct pg *pg;
    char *dir, *conninfo, *bin, *portf, *slog, *staging;
    struct proc *srv;
    char url[64];
    struct agentproc *sled[NSLEDS];
    char hex[NART][65];
};

static char *fx_path(struct fx *f, const char *name)
{
    char *p = testutil_join(f->dir, name);

    assert_non_null(p);
    return p;
}

/* Run `replicator --url URL [--json] ARGS...`; returns the exit code. */
static int cli(struct fx *f, json_t **out, const char *a1, const char *a2,
               const char *a3)
{
    char *log = fx_path(f, "cli.log");
    char *argv[10];
    int n = 0, code = -1;

    argv[n++] = f->bin;
    argv[n++] = "--url";
    argv[n++] = f->url;
    if (out)
        argv[n++] = "--json";
    argv[n++] = (char *)a1;
    if (a2)
        argv[n++] = (char *)a2;
    if (a3)
        argv[n++] = (char *)a3;
    argv[n] = NULL;
    assert_int_equal(proc_run(&code, f->bin, argv, log, 120000), 0);
    if (out) {
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(testutil_read_file(&text, &len, log), 0);
        /* stdout and stderr share the log: the JSON comes first */
        *out = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, NULL);
        mem_free(text);
    }
    remove(log);
    mem_free(log);
    return code;
}

static int registered(struct fx *f)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128];
    json_t *j;
    int n = -1;

    snprintf(url, sizeof(url), "%s/sled-agents", f->url);
    if (http_client_get(&r, url) == 0 && r.status == 200) {
        j = http_client_json(&r);
        n = (int)json_array_size(json_object_get(j, "sleds"));
        json_decref(j);
    }
    http_client_resp_release(&r);
    return n;
}

static bool all_registered(void *arg)
{
    return registered(arg) == NSLEDS;
}

/* Every sled lists every artifact with count 2. */
static bool converged(void *arg)
{
    struct fx *f = arg;

    for (int s = 0; s < NSLEDS; s++)
        for (int i = 0; i < NART; i++)
            if (agentproc_count(f->sled[s], f->hex[i]) != 2)
                return false;
    return true;
}

static bool activate_until_converged(void *arg)
{
    struct fx *f = arg;

    if (converged(f))
        return true;
    assert_int_equal(cli(f, NULL, "activate", NULL, NULL), 0);
    return converged(f);
}

static void start_serve(struct fx *f)
{
    json_t *pj = NULL;
    char *argv[] = {f->bin, "serve", "--insecure-plaintext",
                    "--db", f->conninfo, "--staging",
                    f->staging, "--listen", "127.0.0.1:0", "--port-file",
                    f->portf, "--no-periodic", "--min-sled-replication", "3",
                    "--blindly-trust-repo-root", NULL};

    assert_int_equal(proc_spawn(&f->srv, f->bin, argv, NULL, f->slog), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 30000) != 0)
        testutil_print_tail("serve", f->slog, 4000);
    assert_non_null(pj);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d",
             (int)json_integer_value(json_object_get(pj, "api")));
    json_decref(pj);
}

static void upload_repo(struct fx *f)
{
    char *mk = proc_bin_path("tuf-mkrepo");
    char *zip = fx_path(f, "repo.zip");
    char *data = NULL;
    size_t len = 0;
    int code = -1;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[256];
    json_t *j, *arts;

    {
        char *argv[] = {mk, "--out", zip, "--system-version", "1.0.0",
                        "--random", "3:300000", NULL};

        assert_int_equal(proc_run(&code, mk, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    assert_int_equal(testutil_read_file(&data, &len, zip), 0);
    snprintf(url, sizeof(url),
             "%s/v1/system/update/repositories?file_name=repo.zip", f->url);
    assert_int_equal(http_client_send(&r, "PUT", url, data, len), 0);
    assert_int_equal(r.status, 200);
    j = http_client_json(&r);
    arts = json_object_get(j, "artifacts");
    /* tuf-mkrepo --random 3 gives 3 artifacts plus no extra documents */
    assert_int_equal(json_array_size(arts), NART);
    for (size_t i = 0; i < NART; i++)
        snprintf(f->hex[i], sizeof(f->hex[i]), "%s",
                 json_string_value(json_object_get(json_array_get(arts, i),
                                                   "sha256")));
    json_decref(j);
    http_client_resp_release(&r);
    mem_free(data);
    mem_free(zip);
    mem_free(mk);
}

static void test_serve_e2e__register_upload_converge(void **state)
{
    struct fx *f = *state;
    json_t *st = NULL, *life;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    char url[128], id[64];
    int code = -1;

    (void)code;
    start_serve(f);
    for (int s = 0; s < NSLEDS; s++) {
        snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", s + 1);
        {
            const char *args[] = {"--replicator", f->url, "--id", id, NULL};

            assert_int_equal(agentproc_new(&f->sled[s], args), 0);
        }
        assert_int_equal(agentproc_start(f->sled[s]), 0);
    }
    /* Sleds register themselves at start. */
    assert_true(testutil_wait_for(all_registered, f, 30000));
    assert_int_equal(cli(f, NULL, "sled", "list", NULL), 0);

    upload_repo(f);
    /* The upload activated the task; manual activations finish the job. */
    assert_true(testutil_wait_for(activate_until_converged, f, 60000));

    assert_int_equal(cli(f, &st, "status", NULL, NULL), 0);
    assert_non_null(st);
    life = json_object_get(st, "lifetime_counters");
    assert_non_null(life);
    /* The controller sends each artifact to at most min_sled_replication
     * sleds; every other copy moved between peers. */
    assert_true(json_integer_value(json_object_get(life, "put_ok")) >= NART);
    assert_true(json_integer_value(json_object_get(life, "put_ok")) <=
                NART * MIN_REPL);
    assert_true(json_integer_value(json_object_get(life, "copy_ok")) >=
                NART * (NSLEDS - MIN_REPL));
    assert_int_equal(json_integer_value(json_object_get(life, "put_err")), 0);
    json_decref(st);

    snprintf(url, sizeof(url), "%s/metrics", f->url);
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    /* the API listener's connection limits (issue 10) */
    assert_int_equal(buf_append(&r.body, "", 1), 0);
    assert_non_null(strstr(r.body.data,
                           "httpd_connections_max{listener=\"api\"} "));
    http_client_resp_release(&r);

    for (int s = 0; s < NSLEDS; s++) {
        struct err e = ERR_INIT;

        if (agentproc_check_files(f->sled[s], NULL, &e) < 0)
            fail_msg("sled %d: %s", s, e.msg);
    }
    assert_int_equal(proc_stop(f->srv, 20000), 0);
    assert_int_equal(proc_exit_code(f->srv), 0);
}

/*
 * Issue 10: `replicator activate` waits for the run and exits 1 when it
 * failed (here the database is gone), with the summary's error printed;
 * before, it exited 0.
 */
static void test_serve_e2e__issue_10_activate_failed_run(void **state)
{
    struct fx *f = *state;
    json_t *sum = NULL;

    start_serve(f);
    assert_int_equal(cli(f, &sum, "activate", NULL, NULL), 0);
    assert_non_null(sum);
    assert_null(json_object_get(sum, "error"));
    json_decref(sum);
    sum = NULL;
    pg_stop(f->pg);
    f->pg = NULL;
    assert_int_equal(cli(f, &sum, "activate", NULL, NULL), 1);
    assert_non_null(sum);
    assert_non_null(json_string_value(json_object_get(sum, "error")));
    json_decref(sum);
    assert_int_equal(cli(f, NULL, "activate", NULL, NULL), 1);
}

/* ---- issue 11: no database server answering ---- */

static bool log_says_retrying(void *arg)
{
    char *text = NULL;
    size_t len = 0;
    bool yes;

    if (testutil_read_file(&text, &len, arg) < 0)
        return false;
    yes = strstr(text, "answered 503") && strstr(text, "retrying in 2 s");
    mem_free(text);
    return yes;
}

/* `replicator --url URL a1 a2 [a3]` started, its output in log. */
static struct proc *cli_spawn(struct fx *f, const char *log, const char *a1,
                              const char *a2, const char *a3)
{
    char *argv[] = {f->bin, "--url", f->url, (char *)a1, (char *)a2,
                    (char *)a3, NULL};
    struct proc *p = NULL;

    assert_int_equal(proc_spawn(&p, f->bin, argv, NULL, log), 0);
    return p;
}

/* The command behind p exited 0, and its log announced a retry naming
 * it ("replicator: <what>: the replicator answered 503 ..."). */
static void cli_retried_ok(struct proc *p, const char *log, const char *what)
{
    char line[96], *text = NULL;
    size_t len = 0;

    assert_int_equal(proc_wait(p, 120000), 0);
    if (proc_exit_code(p) != 0)
        testutil_print_tail(what, log, 4000);
    assert_int_equal(proc_exit_code(p), 0);
    proc_free(p);
    snprintf(line, sizeof(line), "replicator: %s: the replicator answered 503",
             what);
    assert_int_equal(testutil_read_file(&text, &len, log), 0);
    assert_non_null(strstr(text, line));
    mem_free(text);
}

/*
 * While no database server answers: the API says 503 with Retry-After, an
 * activation fails and its run says "database_unavailable", the status
 * says so (`database.available` false); `replicator repo upload` and
 * `prune-policy show` started meanwhile retry the 503 on their own
 * (announcing it) and succeed once the database is back, after which the
 * status says the database is available again. So does `repo pin` in a
 * second outage.
 */
static void test_serve_e2e__issue_11_database_down(void **state)
{
    struct fx *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct err err = ERR_INIT;
    char *mk = proc_bin_path("tuf-mkrepo");
    char *zip = fx_path(f, "repo.zip"), *ulog = fx_path(f, "upload.log");
    char *plog = fx_path(f, "policy.log"), *pinlog = fx_path(f, "pin.log");
    struct proc *up, *pol, *pin;
    json_t *sum = NULL, *st = NULL;
    char url[160], ra[16] = "";
    int code = -1;

    start_serve(f);
    {
        char *argv[] = {mk, "--out", zip, "--system-version", "1.0.0",
                        "--random", "2:1000", NULL};

        assert_int_equal(proc_run(&code, mk, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    assert_int_equal(pg_halt(f->pg, &err), 0);
    snprintf(url, sizeof(url), "%s/v1/system/update/repositories", f->url);
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 503);
    assert_true(http_client_header(&r, "Retry-After", ra, sizeof(ra)));
    assert_string_equal(ra, "2");
    assert_int_equal(buf_append(&r.headers, "", 1), 0);
    assert_null(strstr(strstr(r.headers.data, "Retry-After") + 1,
                       "Retry-After")); /* exactly one */
    http_client_resp_release(&r);

    assert_int_equal(cli(f, &sum, "activate", NULL, NULL), 1);
    assert_true(json_is_true(json_object_get(sum, "database_unavailable")));
    json_decref(sum);
    assert_int_equal(cli(f, &st, "status", NULL, NULL), 0);
    assert_true(json_is_false(json_object_get(
        json_object_get(st, "database"), "available")));
    json_decref(st);

    up = cli_spawn(f, ulog, "repo", "upload", zip);
    pol = cli_spawn(f, plog, "prune-policy", "show", NULL);
    assert_true(testutil_wait_for(log_says_retrying, ulog, 60000));
    assert_true(testutil_wait_for(log_says_retrying, plog, 60000));
    assert_int_equal(pg_resume(f->pg, &err), 0);
    cli_retried_ok(up, ulog, "upload");
    cli_retried_ok(pol, plog, "prune-policy");

    assert_int_equal(cli(f, &sum, "activate", NULL, NULL), 0);
    assert_null(json_object_get(sum, "database_unavailable"));
    json_decref(sum);
    assert_int_equal(cli(f, &st, "status", NULL, NULL), 0);
    assert_true(json_is_true(json_object_get(
        json_object_get(st, "database"), "available")));
    json_decref(st);

    /* repo pin (and so prune and unpin: one code path) across an outage */
    assert_int_equal(pg_halt(f->pg, &err), 0);
    pin = cli_spawn(f, pinlog, "repo", "pin", "1.0.0");
    assert_true(testutil_wait_for(log_says_retrying, pinlog, 60000));
    assert_int_equal(pg_resume(f->pg, &err), 0);
    cli_retried_ok(pin, pinlog, "repo pin");
    assert_int_equal(cli(f, &st, "repo", "list", NULL), 0);
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(st, "repositories"), 0), "pinned")));
    json_decref(st);
    mem_free(pinlog);
    mem_free(plog);
    mem_free(ulog);
    mem_free(zip);
    mem_free(mk);
}

/* ---- issue 10: hostile clients against the replicator's API ---- */

#define IDLE_CONNS 1100
#define IDLE_ADDRS 16

static int idle_connect(int i, int port)
{
    struct sockaddr_in src = {0}, dst = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % IDLE_ADDRS));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
    return fd;
}

/* GET /metrics: its status, *ms the time, *evicted the counter. */
static long metrics(struct fx *f, int64_t *ms, unsigned long long *evicted)
{
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    int64_t t0 = testutil_now_ms();
    char url[128];
    const char *p;
    long st;

    snprintf(url, sizeof(url), "%s/metrics", f->url);
    st = http_client_get(&r, url) < 0 ? -1 : r.status;
    *ms = testutil_now_ms() - t0;
    if (st == 200 && buf_append(&r.body, "", 1) == 0 &&
        (p = strstr(r.body.data,
                    "httpd_idle_evicted_total{listener=\"api\"} ")))
        *evicted = strtoull(strchr(p, '}') + 2, NULL, 10);
    http_client_resp_release(&r);
    return st;
}

/*
 * `replicator serve` with an open-file limit of 1,024 and a 2 s head
 * deadline: 1,100 idle connections and a slowloris head do not keep a
 * legitimate request from being answered (figures printed; the bounds
 * are generous liveness bounds), the server does not spin and its log
 * does not flood.
 */
static void test_serve_e2e__issue_10_hostile_clients(void **state)
{
    struct fx *f = *state;
    json_t *pj = NULL;
    char *argv[] = {"/usr/bin/prlimit", "--nofile=1024:1024", "--", f->bin,
                    "serve", "--insecure-plaintext", "--db", f->conninfo,
                    "--staging", f->staging, "--listen", "127.0.0.1:0",
                    "--port-file", f->portf, "--no-periodic",
                    "--head-timeout", "2", NULL};
    static const char head[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    static int fds[IDLE_CONNS];
    unsigned long long evicted = 0;
    long cpu0, cpu1, log0, log1, st;
    int64_t t0, t1, ms, closed = 0;
    int port, fd;
    pid_t pid;

    assert_int_equal(proc_spawn(&f->srv, argv[0], argv, NULL, f->slog), 0);
    if (proc_wait_port_file(&pj, f->portf, f->srv, 30000) != 0)
        testutil_print_tail("serve", f->slog, 4000);
    assert_non_null(pj);
    port = (int)json_integer_value(json_object_get(pj, "api"));
    json_decref(pj);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
    pid = proc_pid(f->srv);
    for (int i = 0; i < IDLE_CONNS; i++)
        fds[i] = idle_connect(i, port);
    cpu0 = testutil_cpu_ticks(pid);
    log0 = testutil_file_size(f->slog);
    t0 = testutil_now_ms();
    st = metrics(f, &ms, &evicted);
    printf("# replicator: legitimate GET /metrics with %d idle connections: "
           "%ld in %lld ms, %llu idle closed\n", IDLE_CONNS, st,
           (long long)ms, evicted);
    assert_int_equal(st, 200);
    assert_true(ms < 5000);
    assert_true(evicted > 0);
    testutil_sleep_ms(3000); /* the measurement window */
    cpu1 = testutil_cpu_ticks(pid);
    log1 = testutil_file_size(f->slog);
    t1 = testutil_now_ms();
    assert_true(cpu0 >= 0 && cpu1 >= 0 && log0 >= 0 && log1 >= 0);
    printf("# replicator: CPU %.1f %% of a core, log %.0f bytes/s over "
           "%lld ms\n",
           100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) /
               ((double)(t1 - t0) / 1000.0),
           (double)(log1 - log0) / ((double)(t1 - t0) / 1000.0),
           (long long)(t1 - t0));
    assert_true((double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) <
                0.3 * (double)(t1 - t0) / 1000.0);
    assert_true((double)(log1 - log0) < 20000.0 * (double)(t1 - t0) / 1000.0);
    for (int i = 0; i < IDLE_CONNS; i++)
        close(fds[i]);
    /* slowloris: one byte a second; the head deadline is 2 s */
    assert_int_equal(http_client_raw_connect(&fd, port), 0);
    t0 = testutil_now_ms();
    for (size_t b = 0; b < sizeof(head) - 1; b++) {
        if (http_client_raw_send(fd, head + b, 1) < 0 ||
            http_client_raw_closed(fd, 1000)) {
            closed = testutil_now_ms() - t0;
            break;
        }
        if (b == 0) {
            st = metrics(f, &ms, &evicted);
            printf("# replicator: legitimate GET /metrics during a "
                   "slowloris: %ld in %lld ms\n", st, (long long)ms);
            assert_int_equal(st, 200);
            assert_true(ms < 5000);
        }
    }
    close(fd);
    printf("# replicator: slowloris head closed after %lld ms (deadline "
           "2 s)\n", (long long)closed);
    assert_true(closed > 0 && closed < 8000);
}

/*
 * Issue 15: `serve --staging DIR` creates a missing DIR and its parents
 * (mode 0700), and names DIR and the reason when it cannot.
 */
static void test_serve_e2e__staging_created(void **state)
{
    struct fx *f = *state;
    char *file = fx_path(f, "plainfile");
    char *bad = fx_path(f, "plainfile/staging");
    char *log = fx_path(f, "bad-staging.log");
    char *argv[] = {f->bin, "serve", "--insecure-plaintext", "--db",
                    f->conninfo, "--staging", bad, "--listen",
                    "127.0.0.1:0", "--no-periodic", NULL};
    char want[PATH_MAX + 64];
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    int code = -1;

    mem_free(f->staging);
    f->staging = fx_path(f, "var/lib/rackdepot/staging");
    start_serve(f);
    assert_int_equal(stat(f->staging, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(proc_stop(f->srv, 20000), 0);
    proc_free(f->srv);
    f->srv = NULL;
    /* A parent that is a regular file: exit 1, naming the directory. */
    assert_int_equal(testutil_write_file(file, "x", 1), 0);
    assert_int_equal(proc_run(&code, f->bin, argv, log, 60000), 0);
    assert_int_equal(code, 1);
    assert_int_equal(testutil_read_file(&text, &len, log), 0);
    snprintf(want, sizeof(want), "--staging %s: cannot use it: mkdir %s: ",
             bad, bad);
    if (!strstr(text, want))
        fail_msg("no '%s' in:\n%s", want, text);
    mem_free(text);
    mem_free(log);
    mem_free(bad);
    mem_free(file);
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));
    struct err err = ERR_INIT;
    int code = -1;

    assert_non_null(f);
    assert_int_equal(testutil_tmpdir(&f->dir, "serve-e2e"), 0);
    if (pg_start(&f->pg, &err) < 0)
        fail_msg("postgres: %s", err.msg);
    assert_int_equal(pg_create_db(&f->conninfo, f->pg, "e2e", &err), 0);
    f->bin = proc_bin_path("replicator");
    {
        char *argv[] = {f->bin, "db", "migrate", "--db", f->conninfo, NULL};

        assert_int_equal(proc_run(&code, f->bin, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    f->portf = fx_path(f, "port.json");
    f->slog = fx_path(f, "serve.log");
    f->staging = fx_path(f, "staging");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    for (int s = 0; s < NSLEDS; s++)
        agentproc_free(f->sled[s]);
    if (f->srv) {
        proc_stop(f->srv, 20000);
        proc_free(f->srv);
    }
    pg_stop(f->pg);
    testutil_rmrf(f->dir);
    mem_free(f->dir);
    mem_free(f->conninfo);
    mem_free(f->bin);
    mem_free(f->portf);
    mem_free(f->slog);
    mem_free(f->staging);
    mem_free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_serve_e2e__register_upload_converge, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_serve_e2e__issue_10_activate_failed_run, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_serve_e2e__issue_10_hostile_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_serve_e2e__staging_created, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_serve_e2e__issue_11_database_down, setup, teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
