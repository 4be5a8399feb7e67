/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_agent_tls_truncate: issue 10 deliver 4 over mutual TLS. A stored
 * copy truncated while the depot is sending it must cost the connection,
 * not the agent: the reply is read from the file in bounded chunks as the
 * client drains (common/httpd_file.c), so the read past the new end
 * fails and the connection closes short of the Content-Length (a mapped
 * file segment read by the TLS layer faulted with SIGBUS here before).
 * The agent then serves the next request. Test thread only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "common/sha256.h"
#include "tests/integration/tls_rig.h"
#include "tests/support/agentproc.h"
#include "tests/support/testutil.h"

#define BIG (16u * 1024 * 1024)

static void test_agent_tls_truncate__mid_send(void **state)
{
    struct tls_rig g;
    struct tls_cred ctl, sled;
    struct agentproc *a = NULL;
    const char *args[10];
    char hex[SHA256_HEX_LEN + 1], path[200], cfg[160];
    char *data = mem_alloc(BIG);
    struct tls_conn *c;
    uint16_t api, depot;
    uint64_t got;
    long status;
    bool alive, closed;

    (void)state;
    assert_non_null(data);
    tls_rig_init(&g);
    ctl = tls_rig_cred(&g, "controller-ctl");
    sled = tls_rig_cred(&g, "sled-1");
    args[0] = "--tls-ca";
    args[1] = g.ca;
    args[2] = "--tls-cert";
    args[3] = sled.cert;
    args[4] = "--tls-key";
    args[5] = sled.key;
    args[6] = "--min-transfer-rate";
    args[7] = "0";
    args[8] = NULL;
    assert_int_equal(agentproc_new(&a, args), 0);
    assert_int_equal(agentproc_start(a), 0);
    api = (uint16_t)agentproc_api_port(a);
    depot = (uint16_t)agentproc_depot_port(a);
    testutil_pattern(data, BIG, 3, 0);
    testutil_sha256_hex(hex, data, BIG);
    snprintf(cfg, sizeof(cfg), "{\"generation\":1,\"artifacts\":[\"%s\"]}",
             hex);
    assert_int_equal(tls_rig_request(NULL, g.ca, &ctl, 0, api, "PUT",
                                     "/artifacts-config", cfg, strlen(cfg)),
                     204);
    snprintf(path, sizeof(path), "/artifacts/%s?generation=1", hex);
    assert_int_equal(tls_rig_request(NULL, g.ca, &ctl, 0, api, "PUT", path,
                                     data, BIG), 200);
    c = tls_rig_connect(g.ca, &ctl, depot);
    assert_non_null(c);
    snprintf(path, sizeof(path), "GET /artifact/sha256/%s HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\n\r\n", hex);
    assert_int_equal(tls_rig_conn_send(c, path, strlen(path)), 0);
    testutil_sleep_ms(1000); /* the reply fills the socket and waits */
    for (int d = 0; d < 2; d++) {
        char *p = agentproc_path(a, d, hex);

        assert_non_null(p);
        assert_int_equal(truncate(p, 1024 * 1024), 0);
        mem_free(p);
    }
    got = 0;
    closed = tls_rig_conn_drained(c, 20000, &got);
    tls_rig_conn_close(c);
    alive = agentproc_alive(a);
    /* the next request is served: the agent lived through it */
    status = alive ? tls_rig_request(NULL, g.ca, &ctl, 0, api, "GET",
                                     "/artifacts", NULL, 0)
                   : -1;
    agentproc_free(a);
    tls_cred_release(&sled);
    tls_cred_release(&ctl);
    tls_rig_free(&g);
    mem_free(data);
    assert_true(alive);
    assert_true(closed);
    assert_true(got < BIG); /* head included: short of the body */
    assert_int_equal(status, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_tls_truncate__mid_send),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
