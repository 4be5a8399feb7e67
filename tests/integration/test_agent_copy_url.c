/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Black-box test of issue 9's copy-from-depot findings against a real
 * sledagent (plaintext): every other spelling of a source address that
 * curl would resolve to a listening loopback port (decimal, hex, octal
 * and short IPv4 forms, localhost, userinfo, a path or query, https://
 * without TLS) is refused with 400 and the port sees no connection; a
 * source that refuses connections gives 502 "source ... unreachable"
 * without curl's detail, in the reply and in GET /copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/mem.h"
#include "tests/support/agentproc.h"
#include "tests/support/agenttest.h"
#include "tests/support/http_client.h"

/* A source URL around a port number. */
struct form {
    const char *pre, *post;
};

/* A loopback socket on port 0: listening (a trap) or not (dead). */
static int loopback(int *fd_out, bool listening)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (listening)
        assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *fd_out = fd;
    return ntohs(sa.sin_port);
}

static void test_agent_copy_url__issue_9_no_scanning(void **state)
{
    static const struct form forms[] = {
        {"http://2130706433:", ""}, {"http://0x7f.1:", ""},
        {"http://0x7f000001:", ""}, {"http://0177.0.0.1:", ""},
        {"http://127.1:", ""}, {"http://localhost:", ""},
        {"http://user@127.0.0.1:", ""}, {"http://127.0.0.1:", "/x"},
        {"http://127.0.0.1:", "?x"}, {"https://127.0.0.1:", ""},
        {"http://127.0.0.01:", ""}, {"http://127.0.0.1:0", ""},
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    char base[128];
    int trap = -1, port = loopback(&trap, true);

    agenttest_art_make(&x, 1000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        long st;

        snprintf(base, sizeof(base), "%s%d%s", forms[i].pre, port,
                 forms[i].post);
        st = agenttest_post_copy(f->a, x.hex, 2, base, &r);
        if (st != 400)
            fail_msg("copy from <%s>: status %ld, want 400", base, st);
        agenttest_assert_error_shape(&r);
    }
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    close(trap);
    f->passed = true;
}

static void test_agent_copy_url__trap_untouched(void **state)
{
    static const struct form forms[] = {
        {"http://2130706433:", ""}, {"http://0x7f.1:", ""},
        {"http://localhost:", ""}, {"http://user@127.0.0.1:", ""},
        {"http://127.0.0.1:", "/x"},
    };
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    char base[128];
    int trap = -1, port = loopback(&trap, true);

    agenttest_art_make(&x, 1000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(base, sizeof(base), "%s%d%s", forms[i].pre, port,
                 forms[i].post);
        assert_int_equal(agenttest_post_copy(f->a, x.hex, 2, base, &r), 400);
    }
    /* nothing was contacted: no connection is queued on the trap */
    assert_int_equal(accept(trap, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    close(trap);
    f->passed = true;
}

static void test_agent_copy_url__connect_error_not_reflected(void **state)
{
    struct agentproc_fixture *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct agenttest_art x;
    const char *cfg[1];
    char base[128], url[128];
    int dead = -1, port = loopback(&dead, false);

    agenttest_art_make(&x, 1000);
    cfg[0] = x.hex;
    assert_int_equal(agentproc_put_config(f->a, 2, cfg, 1), 204);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    assert_int_equal(agenttest_post_copy(f->a, x.hex, 2, base, &r), 502);
    agenttest_assert_error_shape(&r);
    assert_non_null(strstr(r.body.data, "unreachable"));
    assert_null(strstr(r.body.data, "refused"));
    assert_null(strstr(r.body.data, "onnect"));
    snprintf(url, sizeof(url), "%s/copies", agentproc_api_url(f->a));
    assert_int_equal(http_client_get(&r, url), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "unreachable"));
    assert_null(strstr(r.body.data, "refused"));
    assert_null(strstr(r.body.data, "onnect"));
    http_client_resp_release(&r);
    agenttest_art_free(&x);
    close(dead);
    f->passed = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGENTTEST(test_agent_copy_url__issue_9_no_scanning),
        AGENTTEST(test_agent_copy_url__trap_untouched),
        AGENTTEST(test_agent_copy_url__connect_error_not_reflected),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
