/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The daemons' systemd notifications (common/sdnotify.c) as a Type=notify
 * unit sees them: the test binds a unix datagram socket, gives it to a
 * started sledagent and `replicator serve` as NOTIFY_SOCKET with
 * WATCHDOG_USEC set, and checks that READY=1 comes once the listeners are
 * bound (the port file is there and the API port accepts), that WATCHDOG=1
 * pings follow from the loop, and that SIGTERM brings STOPPING=1 and a
 * clean exit.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/http_client.h"
#include "tests/support/pg.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define WAIT_MS 60000
/* 400 ms: pings every 200 ms, a few within any generous wait. */
#define WATCHDOG_USEC "400000"

struct fx {
    char *dir, *sock_path, *portf, *log;
    int sock;
    struct proc *p;
    struct pg *pg;     /* the replicator's test only */
    char *conninfo;
    bool passed;       /* set at the end of a test body */
    int ready, watchdogs, stopping; /* messages seen, in order of arrival */
    int watchdogs_after_ready;
};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One datagram, line by line ("READY=1\nWATCHDOG=1" is two). */
static void take_message(struct fx *f, const char *msg)
{
    const char *p = msg;

    while (*p) {
        size_t n = strcspn(p, "\n");

        if (n == 7 && strncmp(p, "READY=1", 7) == 0)
            f->ready++;
        else if (n == 10 && strncmp(p, "WATCHDOG=1", 10) == 0) {
            f->watchdogs++;
            if (f->ready)
                f->watchdogs_after_ready++;
        } else if (n == 10 && strncmp(p, "STOPPING=1", 10) == 0)
            f->stopping++;
        p += n;
        if (*p == '\n')
            p++;
    }
}

/* Receive messages until *counter >= want or timeout_ms pass. */
static bool wait_count(struct fx *f, const int *counter, int want,
                       long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (*counter < want) {
        struct pollfd pfd = {f->sock, POLLIN, 0};
        long left = deadline - now_ms();
        char msg[512];
        ssize_t n;

        if (left <= 0)
            return false;
        if (poll(&pfd, 1, (int)(left > 500 ? 500 : left)) <= 0)
            continue;
        n = recv(f->sock, msg, sizeof(msg) - 1, MSG_DONTWAIT);
        if (n <= 0)
            continue;
        msg[n] = '\0';
        take_message(f, msg);
    }
    return true;
}

/* Built without libsystemd, the daemons send nothing: a skip, not a pass. */
static void skip_without_libsystemd(void)
{
#ifdef RD_NO_LIBSYSTEMD
    TESTUTIL_SKIP("built without libsystemd (Debian: libsystemd-dev): "
                  "sd_notify is a no-op");
#endif
}

static int setup(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    f->sock = -1;
    *state = f;
    assert_int_equal(testutil_tmpdir(&f->dir, "sdnotify"), 0);
    f->sock_path = testutil_join(f->dir, "notify.sock");
    f->portf = testutil_join(f->dir, "port.json");
    f->log = testutil_join(f->dir, "daemon.log");
    assert_non_null(f->sock_path);
    assert_non_null(f->portf);
    assert_non_null(f->log);
    assert_true(strlen(f->sock_path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, f->sock_path, strlen(f->sock_path) + 1);
    f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(f->sock >= 0);
    assert_int_equal(bind(f->sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return 0;
}

/* Stops the daemon whether the test passed or failed (its log then). */
static int teardown(void **state)
{
    struct fx *f = *state;

    if (!f->passed && f->p)
        testutil_print_tail("daemon", f->log, 4000);
    if (f->p) {
        proc_stop(f->p, 30000);
        proc_free(f->p);
    }
    pg_stop(f->pg);
    if (f->sock >= 0)
        close(f->sock);
    if (f->dir)
        testutil_rmrf(f->dir);
    mem_free(f->dir);
    mem_free(f->sock_path);
    mem_free(f->portf);
    mem_free(f->log);
    mem_free(f->conninfo);
    mem_free(f);
    return 0;
}

/*
 * The daemon is started (f->p) with the notify environment. Checks the
 * whole sequence: READY=1 with the port file written and the API port
 * accepting, pings after it, STOPPING=1 and exit 0 on SIGTERM.
 */
static void check_notify_sequence(struct fx *f)
{
    json_t *pj = NULL;
    struct stat st;
    int fd = -1, port;

    if (!wait_count(f, &f->ready, 1, WAIT_MS))
        fail_msg("no READY=1 within %d ms", WAIT_MS);
    /* Ready means bound: the port file is written before READY=1. */
    assert_int_equal(stat(f->portf, &st), 0);
    assert_int_equal(proc_wait_port_file(&pj, f->portf, f->p, 1000), 0);
    port = (int)json_integer_value(json_object_get(pj, "api"));
    json_decref(pj);
    assert_true(port > 0);
    assert_int_equal(http_client_raw_connect(&fd, port), 0);
    close(fd);
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->stopping, 0);

    /* The loop pings: READY=1 carries the first, the timer the rest. */
    if (!wait_count(f, &f->watchdogs_after_ready, 4, WAIT_MS))
        fail_msg("%d WATCHDOG=1 after READY=1 within %d ms, want 4",
                 f->watchdogs_after_ready, WAIT_MS);

    assert_int_equal(proc_signal(f->p, SIGTERM), 0);
    if (!wait_count(f, &f->stopping, 1, WAIT_MS))
        fail_msg("no STOPPING=1 within %d ms of SIGTERM", WAIT_MS);
    assert_int_equal(proc_wait(f->p, WAIT_MS), 0);
    assert_int_equal(proc_exit_code(f->p), 0);
    assert_int_equal(f->ready, 1);
    assert_int_equal(f->stopping, 1);
}

static void test_sdnotify__sledagent(void **state)
{
    struct fx *f = *state;
    char *bin, *a, *b, env_sock[200];
    char *env[] = {env_sock, "WATCHDOG_USEC=" WATCHDOG_USEC, NULL};

    skip_without_libsystemd();
    bin = proc_bin_path("sledagent");
    a = testutil_join(f->dir, "A");
    b = testutil_join(f->dir, "B");
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", f->sock_path);
    {
        char *argv[] = {bin, "--dataset", a, "--dataset", b, "--listen",
                        "127.0.0.1:0", "--depot-listen", "127.0.0.1:0",
                        "--port-file", f->portf, "--insecure-plaintext",
                        "--scrub-rate", "0", NULL};

        assert_int_equal(proc_spawn(&f->p, bin, argv, env, f->log), 0);
    }
    check_notify_sequence(f);
    mem_free(a);
    mem_free(b);
    mem_free(bin);
    f->passed = true;
}

static void test_sdnotify__replicator(void **state)
{
    struct fx *f = *state;
    struct err err = ERR_INIT;
    char *bin, *staging, env_sock[200];
    char *env[] = {env_sock, "WATCHDOG_USEC=" WATCHDOG_USEC, NULL};
    int code = -1;

    skip_without_libsystemd();
    bin = proc_bin_path("replicator");
    staging = testutil_join(f->dir, "staging");
    if (pg_start(&f->pg, &err) < 0)
        fail_msg("postgres: %s", err.msg);
    assert_int_equal(pg_create_db(&f->conninfo, f->pg, "sdnotify", &err), 0);
    {
        char *argv[] = {bin, "db", "migrate", "--db", f->conninfo, NULL};

        assert_int_equal(proc_run(&code, bin, argv, NULL, WAIT_MS), 0);
        assert_int_equal(code, 0);
    }
    snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", f->sock_path);
    {
        char *argv[] = {bin, "serve", "--insecure-plaintext", "--db",
                        f->conninfo, "--staging", staging, "--listen",
                        "127.0.0.1:0", "--port-file", f->portf,
                        "--no-periodic", NULL};

        assert_int_equal(proc_spawn(&f->p, bin, argv, env, f->log), 0);
    }
    check_notify_sequence(f);
    mem_free(staging);
    mem_free(bin);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sdnotify__sledagent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sdnotify__replicator, setup,
                                        teardown),
    };

    mem_init();
    signal(SIGPIPE, SIG_IGN);
    return testutil_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
