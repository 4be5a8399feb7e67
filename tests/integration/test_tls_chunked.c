/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A chunked PUT /artifacts/{sha256} over mutual TLS (issue 12): the
 * controller's certificate, libcurl (common/httpc) sending the body with
 * `Transfer-Encoding: chunked` through the agent's bufferevent_openssl
 * listener: a body one bit off is 400 with nothing stored, the right one
 * is stored and verified on both datasets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/http_client.h"
#include "tests/support/testutil.h"

#define ART_LEN (2u * 1024 * 1024 + 3)

/* "list" count of hex in GET /artifacts, as the controller. */
static long count(struct tls_rig *g, const struct tls_cred *ctl,
                  uint16_t port, const char *hex)
{
    char *body = NULL;
    long n = -1;
    json_t *j;

    if (tls_rig_request(&body, g->ca, ctl, 0, port, "GET", "/artifacts",
                        NULL, 0) != 200)
        goto out;
    j = json_loads(body, 0, NULL);
    n = (long)json_integer_value(json_object_get(json_object_get(j, "list"),
                                                 hex));
    json_decref(j);
out:
    mem_free(body);
    return n;
}

static void test_tls_chunked__put(void **state)
{
    static const char *const te[] = {"Transfer-Encoding: chunked", NULL};
    struct tls_rig g;
    struct tls_cred sled, ctl;
    struct agentproc *a = NULL;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct err err = ERR_INIT;
    struct sha256 h;
    struct http_client_pieces p;
    char hex[SHA256_HEX_LEN + 1], cfg[256], url[256], path[160];
    char *data = mem_alloc(ART_LEN);
    uint16_t port;

    (void)state;
    assert_non_null(data);
    testutil_random(data, ART_LEN);
    assert_int_equal(sha256_digest(&h, data, ART_LEN), 0);
    sha256_to_hex(hex, &h);
    tls_rig_init(&g);
    sled = tls_rig_cred(&g, "sled-1");
    ctl = tls_rig_cred(&g, "controller-ctl");
    {
        const char *extra[] = {"--tls-ca", g.ca, "--tls-cert", sled.cert,
                               "--tls-key", sled.key, NULL};

        assert_int_equal(agentproc_new(&a, extra), 0);
    }
    assert_int_equal(agentproc_start(a), 0);
    port = (uint16_t)agentproc_api_port(a);
    snprintf(cfg, sizeof(cfg), "{\"generation\":1,\"artifacts\":[\"%s\"]}",
             hex);
    assert_int_equal(tls_rig_request(NULL, g.ca, &ctl, 0, port, "PUT",
                                     "/artifacts-config", cfg, strlen(cfg)),
                     204);
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", hex);
    p.data = data;
    p.len = ART_LEN;
    p.piece = 5000; /* each read becomes one chunk on the wire */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", (unsigned)port,
             path);
    req.method = "PUT";
    req.url = url;
    req.gen = http_client_pieces_gen;
    req.gen_arg = &p;
    req.content_length = ART_LEN;
    req.headers = te;
    req.tls.ca_file = g.ca;
    req.tls.cert_file = ctl.cert;
    req.tls.key_file = ctl.key;
    req.tls.roles = HTTPC_ROLE(TLS_ROLE_SLED);
    /* one bit off: refused, nothing kept */
    data[ART_LEN / 2] ^= 1;
    assert_int_equal(http_client_request(&r, &req, &err), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(count(&g, &ctl, port, hex), 0);
    data[ART_LEN / 2] ^= 1;
    assert_int_equal(http_client_request(&r, &req, &err), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(count(&g, &ctl, port, hex), 2);
    {
        struct err e = ERR_INIT;
        long files = 0;

        if (agentproc_check_files(a, &files, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(files, 2);
    }
    http_client_resp_release(&r);
    agentproc_free(a);
    tls_cred_release(&sled);
    tls_cred_release(&ctl);
    tls_rig_free(&g);
    mem_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_chunked__put),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
