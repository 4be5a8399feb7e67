/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The replicator's repository upload (PUT /v1/system/update/repositories)
 * with a chunked body (issue 12), through the real `replicator serve`: a
 * repository zip sent chunked by libcurl is ingested as with a
 * Content-Length, and a chunked upload with bad framing is answered 400
 * and leaves no staged upload behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "tests/support/http_client.h"
#include "tests/support/pg.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

struct fx {
    struct pg *pg;
    char *dir, *conninfo, *bin, *portf, *slog, *staging;
    struct proc *srv;
    int port;
    char url[64];
};

static char *fx_path(struct fx *f, const char *name)
{
    char *p = testutil_join(f->dir, name);

    assert_non_null(p);
    return p;
}

/* No upload is staged (the directory is empty or absent). */
static bool no_upload(void *arg)
{
    return testutil_dir_count(arg) <= 0;
}

static void test_serve_chunked__upload(void **state)
{
    static const char *const te[] = {"Transfer-Encoding: chunked", NULL};
    struct fx *f = *state;
    struct http_client_resp r = HTTP_CLIENT_RESP_INIT;
    struct http_client_req req = {0};
    struct buf raw = BUF_INIT, resp = BUF_INIT;
    char *mk = proc_bin_path("tuf-mkrepo");
    char *zip = fx_path(f, "repo.zip");
    char *uploads = fx_path(f, "staging/uploads");
    struct err err = ERR_INIT;
    struct http_client_pieces p;
    char *data = NULL;
    size_t len = 0;
    char url[256];
    int code = -1, fd = -1;
    json_t *j;

    {
        char *argv[] = {mk, "--out", zip, "--system-version", "1.0.0",
                        "--random", "3:300000", NULL};

        assert_int_equal(proc_run(&code, mk, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    assert_int_equal(testutil_read_file(&data, &len, zip), 0);
    snprintf(url, sizeof(url),
             "%s/v1/system/update/repositories?file_name=repo.zip", f->url);

    /* Bad framing after 1000 good bytes: 400, nothing staged. */
    assert_int_equal(buf_printf(&raw, "PUT /v1/system/update/repositories"
                                "?file_name=repo.zip HTTP/1.1\r\nHost: x\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n3e8\r\n"),
                     0);
    assert_int_equal(buf_append(&raw, data, 1000), 0);
    assert_int_equal(buf_puts(&raw, "\r\n00000000000000001\r\n"), 0);
    assert_int_equal(http_client_raw_connect(&fd, f->port), 0);
    assert_int_equal(http_client_raw_send(fd, raw.data, raw.len), 0);
    (void)http_client_raw_recv(&resp, fd, 15000);
    close(fd);
    assert_int_equal(http_client_raw_status(&resp), 400);
    assert_non_null(strstr(resp.data, "chunk size overflow"));
    /* a write of the first bytes may still be on a worker: then soon */
    assert_true(testutil_wait_for(no_upload, uploads, 15000));

    /* The zip, chunked: ingested as with a Content-Length. */
    p.data = data;
    p.len = len;
    p.piece = 10000; /* each read becomes one chunk on the wire */
    req.method = "PUT";
    req.url = url;
    req.gen = http_client_pieces_gen;
    req.gen_arg = &p;
    req.content_length = len;
    req.headers = te;
    assert_int_equal(http_client_request(&r, &req, &err), 0);
    assert_int_equal(r.status, 200);
    j = http_client_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "artifacts")), 3);
    json_decref(j);
    assert_true(no_upload(uploads));
    assert_true(proc_alive(f->srv));
    http_client_resp_release(&r);
    buf_release(&raw);
    buf_release(&resp);
    mem_free(data);
    mem_free(uploads);
    mem_free(zip);
    mem_free(mk);
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));
    struct err err = ERR_INIT;
    json_t *pj = NULL;
    int code = -1;

    assert_non_null(f);
    assert_int_equal(testutil_tmpdir(&f->dir, "serve-chunked"), 0);
    if (pg_start(&f->pg, &err) < 0)
        fail_msg("postgres: %s", err.msg);
    assert_int_equal(pg_create_db(&f->conninfo, f->pg, "chunked", &err), 0);
    f->bin = proc_bin_path("replicator");
    {
        char *argv[] = {f->bin, "db", "migrate", "--db", f->conninfo, NULL};

        assert_int_equal(proc_run(&code, f->bin, argv, NULL, 60000), 0);
        assert_int_equal(code, 0);
    }
    f->portf = fx_path(f, "port.json");
    f->slog = fx_path(f, "serve.log");
    f->staging = fx_path(f, "staging");
    {
        char *argv[] = {f->bin, "serve", "--insecure-plaintext", "--db",
                        f->conninfo, "--staging", f->staging, "--listen",
                        "127.0.0.1:0", "--port-file", f->portf,
                        "--no-periodic", "--blindly-trust-repo-root", NULL};

        assert_int_equal(proc_spawn(&f->srv, f->bin, argv, NULL, f->slog),
                         0);
    }
    if (proc_wait_port_file(&pj, f->portf, f->srv, 30000) != 0)
        testutil_print_tail("serve", f->slog, 4000);
    assert_non_null(pj);
    f->port = (int)json_integer_value(json_object_get(pj, "api"));
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
    json_decref(pj);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

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
        cmocka_unit_test_setup_teardown(test_serve_chunked__upload, setup,
                                        teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
