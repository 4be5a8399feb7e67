/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_tls_revocations: the revocation list the controller pushes to a
 * sled (issue 9, PUT/GET /tls-revocations on the agent API), against two
 * real sledagents A and B on mutual TLS: every role on both routes
 * (allowed; refused 401/403 with nothing changed), bad bodies refused with
 * nothing changed (not JSON, wrong types, bad serials and identities,
 * duplicates, too many entries, a body over the cap, version 0, negative
 * or older), the idempotent same version, the list persisted on both
 * datasets and read back after a restart, a pushed operator certificate
 * refused on new connections and on a connection already open, and sled
 * A's copy client refusing sled B as a copy source once B is revoked
 * (while a copy from B just before succeeded), and A's swarming copy
 * (issue 13) refusing B as its only candidate the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/sha256.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define REV "/tls-revocations"
#define ART_BYTES (256u * 1024)

struct fx {
    struct tls_rig g;
    struct agentproc *a, *b;  /* sleds TLS_RIG_SLED and TLS_RIG_SLED2 */
    struct tls_cred ctl, op, sled2;
    char x[SHA256_HEX_LEN + 1], y[SHA256_HEX_LEN + 1];
    char *xdata, *ydata;
};

static long req(struct fx *f, char **body, const struct tls_cred *c,
                uint16_t port, const char *method, const char *path,
                const char *data, size_t len)
{
    return tls_rig_request(body, f->g.ca, c, 0, port, method, path, data,
                           len);
}

static uint16_t api(struct agentproc *a)
{
    return (uint16_t)agentproc_api_port(a);
}

static long put_rev(struct fx *f, char **body, const struct tls_cred *c,
                    const char *json)
{
    return req(f, body, c, api(f->a), "PUT", REV, json, strlen(json));
}

static struct agentproc *start_sled(struct fx *f, const char *name)
{
    struct tls_cred me = tls_rig_cred(&f->g, name);
    const char *extra[] = {"--tls-ca", f->g.ca, "--tls-cert", me.cert,
                           "--tls-key", me.key, NULL};
    struct agentproc *a = NULL;

    assert_int_equal(agentproc_new(&a, extra), 0);
    assert_int_equal(agentproc_start(a), 0);
    tls_cred_release(&me);
    return a;
}

static char *random_art(char hex[SHA256_HEX_LEN + 1], unsigned seed)
{
    char *d = mem_alloc(ART_BYTES);
    struct sha256 h;

    assert_non_null(d);
    for (size_t i = 0; i < ART_BYTES; i++)
        d[i] = (char)(i * 31 + seed * 7 + i / 977);
    assert_int_equal(sha256_digest(&h, d, ART_BYTES), 0);
    sha256_to_hex(hex, &h);
    return d;
}

static void put_config(struct fx *f, struct agentproc *a)
{
    char cfg[256];

    snprintf(cfg, sizeof(cfg), "{\"generation\":1,\"artifacts\":[\"%s\","
             "\"%s\"]}", f->x, f->y);
    assert_int_equal(req(f, NULL, &f->ctl, api(a), "PUT",
                         "/artifacts-config", cfg, strlen(cfg)), 204);
}

static void put_artifact(struct fx *f, struct agentproc *a, const char *hex,
                         const char *data)
{
    char path[160];

    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", hex);
    assert_int_equal(req(f, NULL, &f->ctl, api(a), "PUT", path, data,
                         ART_BYTES), 200);
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    tls_rig_init(&f->g);
    f->ctl = tls_rig_cred(&f->g, "controller-ctl");
    f->op = tls_rig_cred(&f->g, "operator-op");
    f->sled2 = tls_rig_cred(&f->g, "sled-2");
    f->a = start_sled(f, "sled-1");
    f->b = start_sled(f, "sled-2");
    f->xdata = random_art(f->x, 1);
    f->ydata = random_art(f->y, 2);
    /* both artifacts on B, neither on A; A wants them too */
    put_config(f, f->b);
    put_config(f, f->a);
    put_artifact(f, f->b, f->x, f->xdata);
    put_artifact(f, f->b, f->y, f->ydata);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    agentproc_free(f->a);
    agentproc_free(f->b);
    tls_cred_release(&f->ctl);
    tls_cred_release(&f->op);
    tls_cred_release(&f->sled2);
    mem_free(f->xdata);
    mem_free(f->ydata);
    tls_rig_free(&f->g);
    mem_free(f);
    return 0;
}

/* GET /tls-revocations of A as the operator: the parsed body. */
static json_t *held(struct fx *f)
{
    char *body = NULL;
    json_t *j;

    assert_int_equal(req(f, &body, &f->op, api(f->a), "GET", REV, NULL, 0),
                     200);
    j = json_loads(body, 0, NULL);
    if (!j)
        fail_msg("GET " REV ": %s", body);
    mem_free(body);
    return j;
}

static long held_version(struct fx *f)
{
    json_t *j = held(f);
    long v = (long)json_integer_value(json_object_get(j, "version"));

    json_decref(j);
    return v;
}

/* The held list as compact JSON text (mem_free). */
static char *held_list(struct fx *f)
{
    json_t *j = held(f);
    char *out = jsonu_dumps(json_object_get(j, "revoked"));

    json_decref(j);
    return out;
}

/* A JSON error of status want whose message contains part. */
static void assert_error(long st, const char *body, long want,
                         const char *part, const char *what)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));

    if (st != want || !msg || !json_is_string(json_object_get(j,
                                                              "request_id")) ||
        (part && !strstr(msg, part)))
        fail_msg("%s: %ld %s, want %ld with \"%s\"", what, st,
                 body ? body : "", want, part ? part : "");
    json_decref(j);
}

static void assert_code(const char *body, const char *code)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *c = json_string_value(json_object_get(j, "error_code"));

    if (!c || strcmp(c, code) != 0)
        fail_msg("error_code of %s: want %s", body, code);
    json_decref(j);
}

static char *cert_serial(const char *path)
{
    char serial[TLS_SERIAL_HEX_MAX + 1];
    FILE *fp = fopen(path, "r");
    X509 *x;

    assert_non_null(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(x);
    assert_int_equal(tls_cert_serial(serial, x, NULL), 0);
    X509_free(x);
    return mem_strdup(serial);
}

/* Each route x role: allowed, or 401/403 JSON with nothing changed. */
static void test_tls_revocations__routes_by_role(void **state)
{
    struct fx *f = *state;
    const struct tls_cred *who[] = {&f->ctl, &f->op, &f->sled2, NULL};
    const char *names[] = {"controller", "operator", "sled", "nobody"};
    const long get_want[] = {200, 200, 403, 401};
    const long put_want[] = {204, 403, 403, 401};
    char *body = NULL;
    long st;

    assert_int_equal(held_version(f), 0);
    /* refusals first: a higher version each time, nothing held after */
    for (size_t w = 1; w < 4; w++) {
        char js[128];

        snprintf(js, sizeof(js), "{\"version\":%zu,\"revoked\":[\"operator:"
                 "someone\"]}", 10 + w);
        st = put_rev(f, &body, who[w], js);
        assert_error(st, body, put_want[w], NULL, names[w]);
        assert_code(body, put_want[w] == 401 ? "UNAUTHENTICATED"
                                             : "FORBIDDEN");
        mem_free(body);
        body = NULL;
        assert_int_equal(held_version(f), 0);
    }
    for (size_t w = 0; w < 4; w++) {
        st = req(f, &body, who[w], api(f->a), "GET", REV, NULL, 0);
        if (get_want[w] == 200) {
            json_t *j = json_loads(body, 0, NULL);

            assert_int_equal(st, 200);
            assert_int_equal(json_integer_value(json_object_get(j,
                                                                "version")),
                             0);
            assert_int_equal(json_array_size(json_object_get(j, "revoked")),
                             0);
            json_decref(j);
        } else {
            assert_error(st, body, get_want[w], NULL, names[w]);
        }
        mem_free(body);
        body = NULL;
    }
    /* the controller may */
    assert_int_equal(put_rev(f, NULL, &f->ctl, "{\"version\":1,\"revoked\":"
                             "[\"operator:someone\"]}"), put_want[0]);
    assert_int_equal(held_version(f), 1);
    {
        char *l = held_list(f);

        assert_string_equal(l, "[\"operator:someone\"]");
        mem_free(l);
    }
    /* the depot has no such route */
    st = req(f, NULL, &f->ctl, (uint16_t)agentproc_depot_port(f->a), "GET",
             REV, NULL, 0);
    assert_int_equal(st, 404);
}

static char *huge_list(size_t n)
{
    struct buf b = BUF_INIT;

    assert_int_equal(buf_printf(&b, "{\"version\":9,\"revoked\":["), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf_printf(&b, "%s\"operator:o%zu\"", i ? "," : "",
                                    i), 0);
    assert_int_equal(buf_printf(&b, "]}"), 0);
    return b.data;
}

struct bad_case {
    const char *body;
    long status;
    const char *part;  /* in the message */
};

static const struct bad_case bad[] = {
    {"not json", 400, "not JSON"},
    {"", 400, "not JSON"},
    {"[]", 400, "object"},
    {"{\"version\":\"3\",\"revoked\":[]}", 400, "version"},
    {"{\"version\":3.5,\"revoked\":[]}", 400, "version"},
    {"{\"version\":true,\"revoked\":[]}", 400, "version"},
    {"{\"version\":0,\"revoked\":[]}", 400, "version"},
    {"{\"version\":-1,\"revoked\":[]}", 400, "version"},
    {"{\"revoked\":[]}", 400, "version"},
    {"{\"version\":3}", 400, "revoked"},
    {"{\"version\":3,\"revoked\":\"ab\"}", 400, "revoked"},
    {"{\"version\":3,\"revoked\":{}}", 400, "revoked"},
    {"{\"version\":3,\"revoked\":[17]}", 400, "not a string"},
    {"{\"version\":3,\"revoked\":[\"xyz0\"]}", 400, "not hex"},
    {"{\"version\":3,\"revoked\":[\"abc\"]}", 400, "serial"},
    {"{\"version\":3,\"revoked\":[\"\"]}", 400, "serial"},
    /* 21 bytes: over RFC 5280's 20 */
    {"{\"version\":3,\"revoked\":[\"0100112233445566778899aabbccddeeff001122"
     "33\"]}", 400, "serial"},
    {"{\"version\":3,\"revoked\":[\"sled:not-a-uuid\"]}", 400, "UUID"},
    {"{\"version\":3,\"revoked\":[\"king:x\"]}", 400, "role"},
    {"{\"version\":3,\"revoked\":[\"operator:UPPER\"]}", 400, "operator id"},
    {"{\"version\":3,\"revoked\":[\"operator:a\",\"operator:a\"]}", 400,
     "twice"},
    {"{\"version\":3,\"revoked\":[\"0a1b\",\"0A1B\"]}", 400, "twice"},
    {"{\"version\":3,\"revoked\":[],\"extra\":1}", 400, "unknown member"},
    {"{\"version\":1,\"revoked\":[\"operator:older\"]}", 409, "older"},
    {"{\"version\":2,\"revoked\":[\"operator:other\"]}", 409, "another"},
};

/* Bad bodies, older versions: refused, nothing changed; same: 204. */
static void test_tls_revocations__bad_bodies(void **state)
{
    struct fx *f = *state;
    const char *good = "{\"version\":2,\"revoked\":[\"0a1b\","
                       "\"operator:someone\"]}";
    char *before, *after, *body = NULL, *big;
    long st;

    assert_int_equal(put_rev(f, NULL, &f->ctl, good), 204);
    before = held_list(f);
    assert_int_equal(held_version(f), 2);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st = put_rev(f, &body, &f->ctl, bad[i].body);
        assert_error(st, body, bad[i].status, bad[i].part, bad[i].body);
        if (bad[i].status == 409)
            assert_code(body, "REVOCATION_VERSION");
        mem_free(body);
        body = NULL;
        after = held_list(f);
        assert_string_equal(after, before);
        mem_free(after);
        assert_int_equal(held_version(f), 2);
    }
    /* more entries than the cap (within the body cap): 400 */
    big = huge_list(65537);
    st = put_rev(f, &body, &f->ctl, big);
    assert_error(st, body, 400, "65536", "65537 entries");
    mem_free(body);
    body = NULL;
    mem_free(big);
    /* a body over the 8 MiB cap: 413 */
    big = huge_list(600000);
    assert_true(strlen(big) > 8u * 1024 * 1024);
    st = put_rev(f, &body, &f->ctl, big);
    assert_error(st, body, 413, NULL, "9 MiB body");
    mem_free(body);
    body = NULL;
    mem_free(big);
    after = held_list(f);
    assert_string_equal(after, before);
    mem_free(after);
    assert_int_equal(held_version(f), 2);
    /* the same version with the same list (any order, any case) again */
    assert_int_equal(put_rev(f, NULL, &f->ctl, "{\"version\":2,\"revoked\":"
                             "[\"operator:someone\",\"0A1B\"]}"), 204);
    assert_int_equal(held_version(f), 2);
    mem_free(before);
}

/* A pushed list is in the sled's next life; it is on both datasets. */
static void test_tls_revocations__persisted(void **state)
{
    struct fx *f = *state;
    char *before, *after;

    assert_int_equal(put_rev(f, NULL, &f->ctl, "{\"version\":7,\"revoked\":"
                             "[\"operator:gone\",\"sled:" TLS_RIG_SLED2
                             "\",\"7f\"]}"), 204);
    before = held_list(f);
    for (int d = 0; d < 2; d++) {
        char *p = agentproc_path(f->a, d, "tls-revocations.json");
        struct buf b = BUF_INIT;
        FILE *fp = fopen(p, "r");
        char tmp[4096];
        size_t n;

        assert_non_null(fp);
        while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
            assert_int_equal(buf_append(&b, tmp, n), 0);
        fclose(fp);
        assert_int_equal(buf_append(&b, "", 1), 0);
        assert_non_null(strstr(b.data, "\"version\":7"));
        assert_non_null(strstr(b.data, "\"checksum\":"));
        buf_release(&b);
        mem_free(p);
    }
    assert_int_equal(agentproc_restart(f->a), 0);
    assert_int_equal(held_version(f), 7);
    after = held_list(f);
    assert_string_equal(after, before);
    mem_free(after);
    /* a corrupt copy is ignored, the other one wins */
    {
        char *p = agentproc_path(f->a, 0, "tls-revocations.json");

        assert_int_equal(testutil_write_file(p, "{\"version\":99,", 14), 0);
        mem_free(p);
    }
    assert_int_equal(agentproc_restart(f->a), 0);
    assert_int_equal(held_version(f), 7);
    after = held_list(f);
    assert_string_equal(after, before);
    mem_free(after);
    /* still refused after the restarts: B is revoked on A's depot */
    assert_int_equal(req(f, NULL, &f->sled2,
                         (uint16_t)agentproc_depot_port(f->a), "GET",
                         "/artifact/sha256/"
                         "0000000000000000000000000000000000000000000000000"
                         "000000000000000", NULL, 0), 401);
    mem_free(before);
}

struct poll_arg {
    struct fx *f;
    const struct tls_cred *c;
    long want;
};

/* The count A's GET /artifacts gives hex (0 when absent). */
static long count(struct fx *f, const char *hex)
{
    char *body = NULL;
    json_t *j;
    long n;

    assert_int_equal(req(f, &body, &f->ctl, api(f->a), "GET", "/artifacts",
                         NULL, 0), 200);
    j = json_loads(body, 0, NULL);
    assert_non_null(j);
    n = (long)json_integer_value(json_object_get(json_object_get(j, "list"),
                                                 hex));
    json_decref(j);
    mem_free(body);
    return n;
}

/* Pushed: the operator's certificate is refused by the sled's listener,
 * on new connections and on one opened before the push. */
static void test_tls_revocations__operator_refused(void **state)
{
    struct fx *f = *state;
    struct tls_cred o2 = tls_rig_issue(&f->g, "op-two", TLS_ROLE_OPERATOR,
                                       "op-two", 0, 5, 0);
    char *serial = cert_serial(o2.cert), js[256], *body = NULL;
    struct tls_conn *kept;
    long st;

    assert_int_equal(req(f, NULL, &o2, api(f->a), "GET", "/artifacts", NULL,
                         0), 200);
    kept = tls_rig_connect(f->g.ca, &o2, api(f->a));
    assert_non_null(kept);
    assert_int_equal(tls_rig_conn_get(kept, "/copies"), 200);
    snprintf(js, sizeof(js), "{\"version\":3,\"revoked\":[\"%s\"]}", serial);
    assert_int_equal(put_rev(f, NULL, &f->ctl, js), 204);
    /* in force once the 204 is in: no wait */
    st = req(f, &body, &o2, api(f->a), "GET", "/artifacts", NULL, 0);
    assert_error(st, body, 401, "revoked", "revoked operator");
    mem_free(body);
    body = NULL;
    assert_int_equal(tls_rig_conn_get(kept, "/copies"), 401);
    tls_rig_conn_close(kept);
    /* others unharmed; B does not know of it */
    assert_int_equal(req(f, NULL, &f->op, api(f->a), "GET", "/artifacts",
                         NULL, 0), 200);
    assert_int_equal(req(f, NULL, &o2, api(f->b), "GET", "/artifacts", NULL,
                         0), 200);
    {
        json_t *j = held(f);

        assert_int_equal(json_integer_value(json_object_get(j, "in_force")),
                         1);
        json_decref(j);
    }
    mem_free(serial);
    tls_cred_release(&o2);
}

static bool copy_done(void *arg)
{
    struct poll_arg *p = arg;
    char *body = NULL;
    bool done;

    if (req(p->f, &body, &p->f->ctl, api(p->f->a), "GET", "/copies", NULL,
            0) != 200) {
        mem_free(body);
        return false;
    }
    done = strstr(body, "\"done\"") != NULL;
    mem_free(body);
    return done;
}

/* Pushed "sled:B": A's copy client refuses B as a source, and says why. */
static void test_tls_revocations__copy_source_refused(void **state)
{
    struct fx *f = *state;
    struct poll_arg pa = {f, NULL, 0};
    char copy[256], path[160], *body = NULL;
    long st;

    snprintf(copy, sizeof(copy), "{\"depot_base_url\":\"https://127.0.0.1:"
             "%d\",\"source_sled_id\":\"%s\"}", agentproc_depot_port(f->b),
             TLS_RIG_SLED2);
    /* before: a copy from B works */
    snprintf(path, sizeof(path), "/artifacts/%s/copy-from-depot?"
             "generation=1", f->y);
    assert_int_equal(req(f, NULL, &f->ctl, api(f->a), "POST", path, copy,
                         strlen(copy)), 202);
    assert_true(testutil_wait_for(copy_done, &pa, 30000));
    assert_int_equal(count(f, f->y), 2);
    /* B revoked on A only */
    assert_int_equal(put_rev(f, NULL, &f->ctl, "{\"version\":4,\"revoked\":"
                             "[\"sled:" TLS_RIG_SLED2 "\"]}"), 204);
    snprintf(path, sizeof(path), "/artifacts/%s/copy-from-depot?"
             "generation=1", f->x);
    st = req(f, &body, &f->ctl, api(f->a), "POST", path, copy, strlen(copy));
    printf("# copy from revoked B: %ld %s\n", st, body ? body : "");
    assert_error(st, body, 502, "identity sled:" TLS_RIG_SLED2 " is revoked",
                 "copy from revoked B");
    mem_free(body);
    body = NULL;
    /* the registry says so too, and nothing was stored */
    assert_int_equal(req(f, &body, &f->ctl, api(f->a), "GET", "/copies",
                         NULL, 0), 200);
    assert_non_null(strstr(body, "is revoked"));
    mem_free(body);
    assert_int_equal(count(f, f->x), 0);
    /* B itself still serves the controller */
    assert_int_equal(req(f, NULL, &f->ctl, api(f->b), "GET", "/artifacts",
                         NULL, 0), 200);
}

/* The manifest hash of data (ART_BYTES) in pieces of PIECES_SIZE_MIN. */
static void manifest_hex(char out[SHA256_HEX_LEN + 1], const char *hex,
                         const char *data)
{
    struct pieces_builder *pb = NULL;
    struct pieces m = PIECES_INIT;
    struct sha256 h, id;

    assert_int_equal(sha256_from_hex(&h, hex), 0);
    assert_int_equal(pieces_builder_new(&pb, PIECES_SIZE_MIN, NULL), 0);
    assert_int_equal(pieces_builder_update(pb, data, ART_BYTES), 0);
    assert_int_equal(pieces_builder_finish(&m, pb, &h, NULL), 0);
    pieces_builder_free(pb);
    assert_int_equal(pieces_id(&id, &m, NULL), 0);
    sha256_to_hex(out, &id);
    pieces_release(&m);
}

/* Pushed "sled:B": A's swarming copy (issue 13) refuses B as its only
 * candidate too: 502 naming the revocation, nothing stored. */
static void test_tls_revocations__swarm_source_refused(void **state)
{
    struct fx *f = *state;
    char copy[640], path[160], mhex[SHA256_HEX_LEN + 1], *body = NULL;
    long st;

    manifest_hex(mhex, f->x, f->xdata);
    snprintf(copy, sizeof(copy), "{\"depot_base_url\":\"https://127.0.0.1:"
             "%d\",\"source_sled_id\":\"%s\",\"pieces\":{"
             "\"manifest_sha256\":\"%s\",\"piece_size\":%u,\"length\":%u}}",
             agentproc_depot_port(f->b), TLS_RIG_SLED2, mhex,
             PIECES_SIZE_MIN, ART_BYTES);
    assert_int_equal(put_rev(f, NULL, &f->ctl, "{\"version\":4,\"revoked\":"
                             "[\"sled:" TLS_RIG_SLED2 "\"]}"), 204);
    snprintf(path, sizeof(path), "/artifacts/%s/copy-from-depot?"
             "generation=1", f->x);
    st = req(f, &body, &f->ctl, api(f->a), "POST", path, copy, strlen(copy));
    printf("# swarm copy from revoked B: %ld %s\n", st, body ? body : "");
    assert_error(st, body, 502, "identity sled:" TLS_RIG_SLED2 " is revoked",
                 "swarm copy from revoked B");
    mem_free(body);
    assert_int_equal(count(f, f->x), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_revocations__routes_by_role,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_revocations__bad_bodies,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_revocations__persisted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revocations__operator_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revocations__copy_source_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tls_revocations__swarm_source_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
