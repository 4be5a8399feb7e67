/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_rack_sim: the simulator's own mechanics, through the real rack-sim
 * binary. One small rack (3 sleds, 1 replicator, its own temp directory)
 * is brought up for the group; each test drives one command and checks its
 * effect from the outside (processes, ports, files, the sled's API, the
 * database). The last tests check that `down` leaves no process running
 * and that killing rack-sim in the middle of `up` leaves nothing either.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *rack_dir;
static char *bin;

/* Run rack-sim --dir rack_dir ARGS; stdout+stderr into *out (may be NULL). */
static int rs(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rs(struct buf *out, const char *fmt, ...)
{
    char args[1024], cmd[PATH_MAX * 2 + 1100], chunk[4096];
    va_list ap;
    FILE *p;
    size_t n;
    int st;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "'%s' --dir '%s' %s 2>&1", bin, rack_dir,
             args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        if (out)
            assert_int_equal(buf_append(out, chunk, n), 0);
    st = pclose(p);
    if (out)
        assert_int_equal(buf_putc(out, '\0'), 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void rs_ok(const char *args)
{
    struct buf out = BUF_INIT;
    int code = rs(&out, "%s", args);

    if (code != 0)
        fail_msg("rack-sim %s: exit %d:\n%s", args, code, out.data);
    buf_release(&out);
}

static json_t *status_json(void)
{
    struct buf out = BUF_INIT;
    json_t *v;

    assert_int_equal(rs(&out, "status --json"), 0);
    v = json_loads(out.data, 0, NULL);
    if (!v)
        fail_msg("status --json is not JSON:\n%s", out.data);
    buf_release(&out);
    return v;
}

static json_t *sled(json_t *st, size_t k)
{
    return json_array_get(json_object_get(st, "sleds"), k);
}

static long sled_port(size_t k)
{
    json_t *st = status_json();
    long port = (long)json_integer_value(json_object_get(sled(st, k),
                                                         "api_port"));

    json_decref(st);
    return port;
}

/* GET /artifacts on port within timeout_ms: the status, 0 on no answer. */
static long get_artifacts(long port, long timeout_ms, json_t **body)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req;
    char url[96];
    long status = 0;

    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld/artifacts", port);
    req.method = "GET";
    req.url = url;
    req.timeout_ms = timeout_ms;
    if (http_client_request(&resp, &req, NULL) == 0)
        status = resp.status;
    if (body)
        *body = status ? http_client_json(&resp) : NULL;
    http_client_resp_release(&resp);
    return status;
}

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *path_of(const char *fmt, ...)
{
    static char p[PATH_MAX + 128];
    char rel[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    snprintf(p, sizeof(p), "%s/%s", rack_dir, rel);
    return p;
}

static int group_setup(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    bin = proc_bin_path("rack-sim");
    if (!bin || testutil_tmpdir(&rack_dir, "racksim") < 0)
        return -1;
    if (rs(&out, "up --sleds 3 --replicators 1 --period 3600") != 0) {
        fprintf(stderr, "rack-sim up failed:\n%s\n", out.data);
        buf_release(&out);
        return -1;
    }
    buf_release(&out);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rs(NULL, "down");
    testutil_rmrf(rack_dir);
    mem_free(rack_dir);
    mem_free(bin);
    return 0;
}

static void test_rack_sim__status(void **state)
{
    json_t *st = status_json(), *s, *db;
    size_t k;

    (void)state;
    assert_int_equal(json_array_size(json_object_get(st, "sleds")), 3);
    json_array_foreach(json_object_get(st, "sleds"), k, s) {
        assert_true(json_is_true(json_object_get(s, "alive")));
        assert_true(json_integer_value(json_object_get(s, "api_port")) > 0);
        assert_true(json_integer_value(json_object_get(s, "depot_port")) > 0);
        assert_true(testutil_exists(path_of("sled-%zu/A", k)));
        assert_true(testutil_exists(path_of("sled-%zu/B", k)));
    }
    s = json_array_get(json_object_get(st, "replicators"), 0);
    assert_true(json_is_true(json_object_get(s, "alive")));
    db = json_object_get(st, "db");
    assert_true(json_is_true(json_object_get(db, "alive")));
    json_decref(st);
}

static void test_rack_sim__stop_kill_restart(void **state)
{
    long port = sled_port(1);
    json_t *st;

    (void)state;
    rs_ok("stop 1");
    st = status_json();
    assert_false(json_is_true(json_object_get(sled(st, 1), "alive")));
    json_decref(st);
    assert_int_equal(get_artifacts(port, 1000, NULL), 0);
    rs_ok("restart sled-1");
    assert_int_equal(sled_port(1), port);
    assert_true(get_artifacts(port, 5000, NULL) > 0);
    rs_ok("kill 1");
    assert_int_equal(get_artifacts(port, 1000, NULL), 0);
    rs_ok("restart 1");
    assert_int_equal(sled_port(1), port);
    assert_true(get_artifacts(port, 5000, NULL) > 0);
}

static void test_rack_sim__partition_heal(void **state)
{
    long port = sled_port(0);
    int64_t t0;

    (void)state;
    rs_ok("partition 0");
    t0 = testutil_now_ms();
    assert_int_equal(get_artifacts(port, 1000, NULL), 0);
    assert_true(testutil_now_ms() - t0 >= 900); /* timed out, not refused */
    rs_ok("heal 0");
    assert_true(get_artifacts(port, 5000, NULL) > 0);
}

/* Give sled k one artifact (generation 1000: far ahead of the database). */
static void put_artifact(long port, char hex[65])
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[160], cfg[200];
    static char data[65536];

    testutil_random(data, sizeof(data));
    testutil_sha256_hex(hex, data, sizeof(data));
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld/artifacts-config", port);
    snprintf(cfg, sizeof(cfg), "{\"generation\":1000,\"artifacts\":[\"%s\"]}",
             hex);
    assert_int_equal(http_client_send(&resp, "PUT", url, cfg, strlen(cfg)), 0);
    assert_int_equal(resp.status, 204);
    snprintf(url, sizeof(url),
             "http://127.0.0.1:%ld/artifacts/%s?generation=1000", port, hex);
    assert_int_equal(http_client_send(&resp, "PUT", url, data, sizeof(data)),
                     0);
    assert_int_equal(resp.status, 200);
    http_client_resp_release(&resp);
}

static void test_rack_sim__dataset_faults(void **state)
{
    char hex[65], got[SHA256_HEX_LEN + 1], cmd[128];
    struct sha256 h;
    struct buf out = BUF_INIT;

    (void)state;
    put_artifact(sled_port(2), hex);
    rs_ok("dataset remove 2 B");
    assert_false(testutil_exists(path_of("sled-2/B")));
    rs_ok("dataset restore 2 B");
    assert_true(testutil_exists(path_of("sled-2/B")));
    assert_int_equal(testutil_dir_count(path_of("sled-2/B")) >= 0, 1);
    snprintf(cmd, sizeof(cmd), "dataset corrupt 2 A %s", hex);
    assert_int_equal(rs(&out, "%s", cmd), 0);
    assert_non_null(strstr(out.data, hex));
    assert_int_equal(testutil_sha256_file(&h, path_of("sled-2/A/%s", hex)),
                     0);
    sha256_to_hex(got, &h);
    assert_string_not_equal(got, hex);
    buf_release(&out);
    /* fill: the sled answers, with a quota recorded */
    rs_ok("dataset fill 2 A");
    assert_true(get_artifacts(sled_port(2), 5000, NULL) > 0);
    rs_ok("dataset restore 2 A");
}

static void test_rack_sim__ledger_previous_life(void **state)
{
    json_t *body = NULL;

    (void)state;
    rs_ok("ledger previous-life 1 4242");
    assert_int_equal(get_artifacts(sled_port(1), 5000, &body), 200);
    assert_int_equal(json_integer_value(json_object_get(body, "generation")),
                     4242);
    json_decref(body);
}

static void test_rack_sim__db_snapshot_restore(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    rs_ok("db sql 'CREATE TABLE sim_probe (x int)'");
    rs_ok("db snapshot before");
    assert_true(testutil_exists(path_of("db-snapshots/before.dump")));
    rs_ok("db sql 'INSERT INTO sim_probe VALUES (1)'");
    assert_int_equal(rs(&out, "db sql 'SELECT count(*) FROM sim_probe'"), 0);
    assert_string_equal(out.data, "1\n");
    rs_ok("db restore before");
    buf_reset(&out);
    assert_int_equal(rs(&out, "db sql 'SELECT count(*) FROM sim_probe'"), 0);
    assert_string_equal(out.data, "0\n");
    buf_release(&out);
}

static void test_rack_sim__replicator_kill_restart(void **state)
{
    json_t *st;
    json_t *r;

    (void)state;
    rs_ok("replicator kill 0");
    st = status_json();
    r = json_array_get(json_object_get(st, "replicators"), 0);
    assert_false(json_is_true(json_object_get(r, "alive")));
    json_decref(st);
    rs_ok("replicator restart 0");
    st = status_json();
    r = json_array_get(json_object_get(st, "replicators"), 0);
    assert_true(json_is_true(json_object_get(r, "alive")));
    json_decref(st);
}

/* Whether any process's command line mentions dir (zombies excluded). */
static bool any_process_in(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    bool found = false;

    while (d && !found && (e = readdir(d)) != NULL) {
        char path[300], buf[8192], stat[512];
        ssize_t n;
        int fd;

        if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
            strtol(e->d_name, NULL, 10) == (long)getpid())
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        fd = open(path, O_RDONLY);
        n = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n <= 0)
            continue;
        stat[n] = '\0';
        if (strstr(stat, ") Z") || strstr(stat, ") X"))
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        fd = open(path, O_RDONLY);
        n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n <= 0)
            continue;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[n] = '\0';
        found = strstr(buf, dir) != NULL;
    }
    if (d)
        closedir(d);
    return found;
}

static bool nothing_in(void *arg)
{
    return !any_process_in(arg);
}

static void test_rack_sim__down_stops_everything(void **state)
{
    (void)state;
    assert_true(any_process_in(rack_dir));
    rs_ok("down");
    if (!testutil_wait_for(nothing_in, rack_dir, 10000))
        fail_msg("processes of %s still running after down", rack_dir);
    /* up again refuses nothing (all dead); down again is a no-op */
    rs_ok("down");
}

static bool file_exists(void *arg)
{
    return testutil_exists(arg);
}

static void test_rack_sim__killed_during_up(void **state)
{
    char *dir = NULL, ports[PATH_MAX + 32];
    struct proc *p = NULL;

    (void)state;
    assert_int_equal(testutil_tmpdir(&dir, "racksim-kill"), 0);
    {
        char *argv[] = {bin, "up", "--sleds", "6", "--dir", dir, NULL};

        assert_int_equal(proc_spawn(&p, bin, argv, NULL, NULL), 0);
    }
    snprintf(ports, sizeof(ports), "%s/sled-1/ports.json", dir);
    if (!testutil_wait_for(file_exists, ports, 60000))
        fail_msg("rack-sim up never reached sled 1");
    assert_int_equal(proc_kill(p), 0); /* SIGKILL half-way through up */
    if (!testutil_wait_for(nothing_in, dir, 15000))
        fail_msg("processes of %s survived rack-sim's death", dir);
    proc_free(p);
    testutil_rmrf(dir);
    mem_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rack_sim__status),
        cmocka_unit_test(test_rack_sim__stop_kill_restart),
        cmocka_unit_test(test_rack_sim__partition_heal),
        cmocka_unit_test(test_rack_sim__dataset_faults),
        cmocka_unit_test(test_rack_sim__ledger_previous_life),
        cmocka_unit_test(test_rack_sim__db_snapshot_restore),
        cmocka_unit_test(test_rack_sim__replicator_kill_restart),
        cmocka_unit_test(test_rack_sim__down_stops_everything),
        cmocka_unit_test(test_rack_sim__killed_during_up),
    };

    mem_init();
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
