/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_rack_sim: the simulator's own mechanics, through the real rack-sim
 * binary. One small rack (3 sleds, 1 replicator, its own temp directory)
 * is brought up for the group; each test drives one command and checks its
 * effect from the outside (processes, ports, files, the sled's API, the
 * database). The rack PKI under D/pki is checked from the files (key
 * modes, URI SANs and signatures read with OpenSSL), `status --json` and
 * `rack-sim env`; rack-sim's own HTTPS requests (sim/rack_http) present
 * the operator's certificate to an `openssl s_server` that demands one. The last tests check that `down` leaves no process
 * running, that a later `up --tls` in the same directory keeps the CA,
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "sim/rack_http.h"
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
    /*
     * Plaintext whatever RACK_TLS_DEFAULT says: the tests below talk to
     * the sleds with the plain test client (and PUT a config, which on
     * TLS only a controller may). up_again_tls_keeps_ca covers --tls.
     */
    if (rs(&out, "up --sleds 3 --replicators 1 --period 3600 "
              "--insecure-plaintext") != 0) {
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

/* The certificate in PEM file path (asserts it parses). */
static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    if (!f)
        fail_msg("%s: %s", path, strerror(errno));
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        fail_msg("%s: not a PEM certificate", path);
    return x;
}

/* The one URI SAN of x, copied into out (asserts there is exactly one). */
static void uri_san(char *out, size_t cap, X509 *x)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
                                            NULL);
    int n = 0;

    assert_non_null(names);
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

        if (g->type != GEN_URI)
            continue;
        snprintf(out, cap, "%.*s", ASN1_STRING_length(g->d.ia5),
                 (const char *)ASN1_STRING_get0_data(g->d.ia5));
        n++;
    }
    GENERAL_NAMES_free(names);
    assert_int_equal(n, 1);
}

/*
 * Identity ident of the pki block: its key is 0600, its certificate is
 * signed by ca and names urn:rackdepot:<rack_id>:<role>:<id>.
 */
static void check_leaf(const json_t *ident, X509 *ca, const char *rack_id,
                       const char *role, const char *id)
{
    char want[256], got[256];
    struct stat st;
    X509 *x = read_cert(json_string_value(json_object_get(ident, "cert")));

    assert_int_equal(stat(json_string_value(json_object_get(ident, "key")),
                          &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
    uri_san(got, sizeof(got), x);
    snprintf(want, sizeof(want), "urn:rackdepot:%s:%s:%s", rack_id, role, id);
    assert_string_equal(got, want);
    X509_free(x);
}

static void test_rack_sim__pki_files(void **state)
{
    json_t *st = status_json(), *pki = json_object_get(st, "pki"), *o;
    const char *rack_id = json_string_value(json_object_get(pki, "rack_id"));
    struct stat sb;
    X509 *ca;
    size_t i;

    (void)state;
    assert_non_null(rack_id);
    assert_int_equal(strlen(rack_id), 36);
    assert_string_equal(json_string_value(json_object_get(st, "rack_id")),
                        rack_id);
    assert_string_equal(json_string_value(json_object_get(pki, "dir")),
                        path_of("pki"));
    assert_string_equal(json_string_value(json_object_get(pki, "ca")),
                        path_of("pki/ca.pem"));
    assert_int_equal(stat(path_of("pki/ca.key"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    ca = read_cert(path_of("pki/ca.pem"));
    check_leaf(json_object_get(pki, "operator"), ca, rack_id, "operator",
               "operator");
    assert_int_equal(json_array_size(json_object_get(pki, "replicators")), 1);
    json_array_foreach(json_object_get(pki, "replicators"), i, o) {
        assert_string_equal(json_string_value(json_object_get(o, "id")),
                            "replicator-0");
        check_leaf(o, ca, rack_id, "controller", "replicator-0");
    }
    assert_int_equal(json_array_size(json_object_get(pki, "sleds")), 3);
    json_array_foreach(json_object_get(pki, "sleds"), i, o) {
        const char *id = json_string_value(json_object_get(sled(st, i), "id"));

        assert_string_equal(json_string_value(json_object_get(o, "id")), id);
        check_leaf(o, ca, rack_id, "sled", id);
    }
    X509_free(ca);
    json_decref(st);
}

/* URL of scheme://127.0.0.1:port (asserts the shape). */
static void check_url(const json_t *v, bool tls, long port)
{
    char want[64];

    snprintf(want, sizeof(want), "%s://127.0.0.1:%ld", tls ? "https" : "http",
             port);
    assert_string_equal(json_string_value(v), want);
}

static void test_rack_sim__status_urls(void **state)
{
    json_t *st = status_json(), *s, *r;
    bool tls = json_is_true(json_object_get(st, "tls"));
    size_t k;

    (void)state;
    assert_string_equal(json_string_value(json_object_get(st, "mode")),
                        tls ? "tls" : "plaintext");
    r = json_array_get(json_object_get(st, "replicators"), 0);
    check_url(json_object_get(r, "url"), tls,
              (long)json_integer_value(json_object_get(r, "port")));
    check_url(json_object_get(st, "replicator_url"), tls,
              (long)json_integer_value(json_object_get(r, "port")));
    json_array_foreach(json_object_get(st, "sleds"), k, s) {
        check_url(json_object_get(s, "api_url"), tls,
                  (long)json_integer_value(json_object_get(s, "api_port")));
        check_url(json_object_get(s, "depot_url"), tls,
                  (long)json_integer_value(json_object_get(s, "depot_port")));
    }
    json_decref(st);
}

/* `rack-sim env` against status --json st: the lines of its mode. */
static void check_env(json_t *st)
{
    struct buf out = BUF_INIT;
    const json_t *pki = json_object_get(st, "pki");
    const json_t *op = json_object_get(pki, "operator");
    char line[PATH_MAX + 64];

    assert_int_equal(rs(&out, "env"), 0);
    snprintf(line, sizeof(line), "\nexport REPLICATOR_URL='%s'\n",
             json_string_value(json_object_get(st, "replicator_url")));
    assert_non_null(strstr(out.data, line));
    snprintf(line, sizeof(line), "\nexport RACK_SIM_DIR='%s'\n", rack_dir);
    assert_non_null(strstr(out.data, line));
    if (!json_is_true(json_object_get(st, "tls"))) {
        assert_non_null(strstr(out.data, "\nunset RACKDEPOT_TLS_CA "));
        assert_null(strstr(out.data, "export RACKDEPOT_TLS"));
        buf_release(&out);
        return;
    }
    snprintf(line, sizeof(line), "\nexport RACKDEPOT_TLS_CA='%s'\n",
             json_string_value(json_object_get(pki, "ca")));
    assert_non_null(strstr(out.data, line));
    snprintf(line, sizeof(line), "\nexport RACKDEPOT_TLS_CERT='%s'\n",
             json_string_value(json_object_get(op, "cert")));
    assert_non_null(strstr(out.data, line));
    snprintf(line, sizeof(line), "\nexport RACKDEPOT_TLS_KEY='%s'\n",
             json_string_value(json_object_get(op, "key")));
    assert_non_null(strstr(out.data, line));
    buf_release(&out);
}

static void test_rack_sim__env(void **state)
{
    json_t *st = status_json();

    (void)state;
    check_env(st);
    json_decref(st);
}

static void test_rack_sim__mode_flags_exclusive(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    assert_int_equal(rs(&out, "up --sleds 1 --tls --insecure-plaintext"), 2);
    assert_non_null(strstr(out.data, "exclude each other"));
    buf_release(&out);
}

/* The bytes of file path, NUL-ended (mem_free). */
static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(testutil_read_file(&data, &len, path), 0);
    return data;
}

static void test_rack_sim__restart_keeps_pki(void **state)
{
    char *ca = slurp(path_of("pki/ca.pem")), *again;
    char *leaf = slurp(path_of("pki/sled-%s.pem", "5ed00000-0000-4000-8000-"
                               "000000000001"));

    (void)state;
    rs_ok("restart 1");
    again = slurp(path_of("pki/ca.pem"));
    assert_string_equal(again, ca);
    mem_free(again);
    again = slurp(path_of("pki/sled-%s.pem", "5ed00000-0000-4000-8000-"
                          "000000000001"));
    assert_string_equal(again, leaf);
    mem_free(again);
    mem_free(leaf);
    mem_free(ca);
}

/* openssl on $PATH into out; false if there is none. */
static bool find_openssl(char *out, size_t cap)
{
    const char *d = getenv("PATH");

    for (d = d ? d : "/usr/bin:/bin"; *d;) {
        size_t n = strcspn(d, ":");

        snprintf(out, cap, "%.*s/openssl", (int)n, d);
        if (n && access(out, X_OK) == 0)
            return true;
        d += n + (d[n] == ':');
    }
    return false;
}

/* The port of `ACCEPT 127.0.0.1:PORT` in s_server's log, 0 before. */
static long accept_port(const char *log)
{
    char *text = NULL;
    size_t len = 0;
    const char *p;
    long port = 0;

    if (testutil_read_file(&text, &len, log) == 0 &&
        (p = strstr(text, "ACCEPT 127.0.0.1:")) != NULL)
        port = strtol(p + strlen("ACCEPT 127.0.0.1:"), NULL, 10);
    mem_free(text);
    return port;
}

static bool has_port(void *arg)
{
    return accept_port(arg) > 0;
}

/*
 * A server with sled 0's certificate that requires a client certificate
 * of the rack CA (TLS 1.3): rack_http with the operator's files gets 200,
 * and the server saw the operator's certificate; without a client
 * certificate the request fails.
 */
static void test_rack_sim__http_presents_operator_cert(void **state)
{
    char openssl[PATH_MAX], log[PATH_MAX + 32], url[64], ca[PATH_MAX + 32];
    char cert[PATH_MAX + 32], key[PATH_MAX + 32], scert[PATH_MAX + 96];
    char skey[PATH_MAX + 96], *text = NULL;
    struct buf body = BUF_INIT;
    struct proc *p = NULL;
    size_t len = 0;
    long status = 0;

    (void)state;
    if (!find_openssl(openssl, sizeof(openssl)))
        TESTUTIL_SKIP("no openssl command to make a client certificate");
    snprintf(ca, sizeof(ca), "%s", path_of("pki/ca.pem"));
    snprintf(cert, sizeof(cert), "%s", path_of("pki/operator-operator.pem"));
    snprintf(key, sizeof(key), "%s", path_of("pki/operator-operator.key"));
    snprintf(scert, sizeof(scert), "%s", path_of("pki/sled-%s.pem",
             "5ed00000-0000-4000-8000-000000000000"));
    snprintf(skey, sizeof(skey), "%s", path_of("pki/sled-%s.key",
             "5ed00000-0000-4000-8000-000000000000"));
    snprintf(log, sizeof(log), "%s", path_of("s_server.log"));
    {
        char *argv[] = {openssl, "s_server", "-accept", "127.0.0.1:0",
                        "-cert", scert, "-key", skey, "-CAfile", ca,
                        "-Verify", "1", "-www", "-tls1_3", NULL};

        assert_int_equal(proc_spawn(&p, openssl, argv, NULL, log), 0);
    }
    if (!testutil_wait_for(has_port, log, 10000))
        fail_msg("openssl s_server did not start (see %s)", log);
    snprintf(url, sizeof(url), "https://127.0.0.1:%ld/", accept_port(log));
    assert_int_equal(rack_http_set_tls(ca, cert, key, 0, NULL), 0);
    assert_int_equal(rack_http_get(&status, &body, url, 5000, NULL), 0);
    assert_int_equal(status, 200);
    /* A CA alone is refused; without our files the server is unknown. */
    assert_int_equal(rack_http_set_tls(ca, NULL, NULL, 0, NULL), ERR_INVAL);
    assert_int_equal(rack_http_set_tls(NULL, NULL, NULL, 0, NULL), 0);
    assert_true(rack_http_get(&status, &body, url, 5000, NULL) < 0);
    proc_kill(p);
    proc_free(p);
    assert_int_equal(testutil_read_file(&text, &len, log), 0);
    assert_non_null(strstr(text, "CN = operator:operator"));
    mem_free(text);
    buf_release(&body);
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

/* rack-sim ARGS exits code, saying want (on stdout or stderr). */
static void rs_fails(int code, const char *want, const char *args)
{
    struct buf out = BUF_INIT;
    int got = rs(&out, "%s", args);

    if (got != code || !strstr(out.data, want))
        fail_msg("rack-sim %s: exit %d, wanted %d saying \"%s\":\n%s", args,
                 got, code, want, out.data);
    buf_release(&out);
}

/* On a loopback rack the netns-only link and partition options are
 * refused, saying what they need, and change nothing; bad values are
 * usage errors (issue 14). */
static void test_rack_sim__netns_options_refused(void **state)
{
    json_t *st;

    (void)state;
    rs_fails(1, "need a netns rack", "partition 0 --from 1");
    rs_fails(1, "need a netns rack", "partition 0 --one-way out");
    rs_fails(1, "needs a netns rack", "link 0 --rate 1M");
    rs_fails(1, "need --net netns", "up --sleds 1 --link-rate 1M");
    rs_fails(2, "--net is loopback or netns", "up --sleds 1 --net bogus");
    rs_fails(2, "bad --link-rate", "up --sleds 1 --net netns --link-rate x");
    rs_fails(2, "bad --link-delay", "up --sleds 1 --link-delay 5parsecs");
    st = status_json();
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st, "net"), "mode")), "loopback");
    assert_string_equal(json_string_value(json_object_get(sled(st, 0),
                                                          "state")),
                        "running");
    assert_null(json_object_get(sled(st, 0), "namespace"));
    json_decref(st);
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

/*
 * After down, `up --tls` in the same directory keeps the CA and its rack
 * id, issues nothing new for the same identities, and says TLS in status
 * and env; `down --purge` removes the PKI with the rest.
 */
static void test_rack_sim__up_again_tls_keeps_ca(void **state)
{
    char *ca = slurp(path_of("pki/ca.pem"));
    json_t *st;
    char *again, rack_id[40];

    (void)state;
    st = status_json();
    snprintf(rack_id, sizeof(rack_id), "%s",
             json_string_value(json_object_get(st, "rack_id")));
    json_decref(st);
    rs_ok("up --sleds 3 --period 3600 --tls");
    again = slurp(path_of("pki/ca.pem"));
    assert_string_equal(again, ca);
    mem_free(again);
    mem_free(ca);
    st = status_json();
    assert_string_equal(json_string_value(json_object_get(st, "rack_id")),
                        rack_id);
    assert_true(json_is_true(json_object_get(st, "tls")));
    assert_string_equal(json_string_value(json_object_get(st, "mode")),
                        "tls");
    assert_int_equal(strncmp(json_string_value(json_object_get(
                                 st, "replicator_url")), "https://", 8), 0);
    check_env(st);
    json_decref(st);
    rs_ok("down --purge");
    assert_false(testutil_exists(rack_dir));
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
        cmocka_unit_test(test_rack_sim__pki_files),
        cmocka_unit_test(test_rack_sim__status_urls),
        cmocka_unit_test(test_rack_sim__env),
        cmocka_unit_test(test_rack_sim__mode_flags_exclusive),
        cmocka_unit_test(test_rack_sim__restart_keeps_pki),
        cmocka_unit_test(test_rack_sim__http_presents_operator_cert),
        cmocka_unit_test(test_rack_sim__stop_kill_restart),
        cmocka_unit_test(test_rack_sim__partition_heal),
        cmocka_unit_test(test_rack_sim__netns_options_refused),
        cmocka_unit_test(test_rack_sim__dataset_faults),
        cmocka_unit_test(test_rack_sim__ledger_previous_life),
        cmocka_unit_test(test_rack_sim__db_snapshot_restore),
        cmocka_unit_test(test_rack_sim__replicator_kill_restart),
        cmocka_unit_test(test_rack_sim__down_stops_everything),
        cmocka_unit_test(test_rack_sim__up_again_tls_keeps_ca),
        cmocka_unit_test(test_rack_sim__killed_during_up),
    };

    mem_init();
    signal(SIGPIPE, SIG_IGN);
    return testutil_exit(
        cmocka_run_group_tests(tests, group_setup, group_teardown));
}
