/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agentproc: a sledagent under test on two temp datasets, port 0, with its
 * log; start/stop/kill/restart, agent-API shorthands and the on-disk
 * invariant check. See agentproc.h.
 */
#include "tests/support/agentproc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "tests/support/http_client.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define AGENT_START_TIMEOUT_MS 60000L
#define AGENT_MAX_ARGS 64

struct agentproc {
    char *dir;
    char *ds[2];
    char *port_file;
    char *log_path;
    char **extra; /* NULL-terminated copies */
    struct proc *proc;
    int api_port;
    int depot_port;
    char api_url[64];
    char depot_url[64];
    char nofile[48];  /* "--nofile=N:N" for prlimit(1), "" when unset */
};

static void free_args(char **args)
{
    for (size_t i = 0; args && args[i]; i++)
        mem_free(args[i]);
    mem_free(args);
}

void agentproc_set_nofile(struct agentproc *a, unsigned n)
{
    if (n)
        snprintf(a->nofile, sizeof(a->nofile), "--nofile=%u:%u", n, n);
    else
        a->nofile[0] = '\0';
}

int agentproc_set_args(struct agentproc *a, const char *const *extra_args)
{
    size_t n = 0;
    char **copy;

    while (extra_args && extra_args[n])
        n++;
    if (n > AGENT_MAX_ARGS - 20)
        return ERR_LIMIT;
    copy = mem_calloc(n + 1, sizeof(*copy));
    if (!copy)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        copy[i] = mem_strdup(extra_args[i]);
        if (!copy[i]) {
            free_args(copy);
            return ERR_NOMEM;
        }
    }
    free_args(a->extra);
    a->extra = copy;
    return 0;
}

int agentproc_new(struct agentproc **out, const char *const *extra_args)
{
    struct agentproc *a = mem_calloc(1, sizeof(*a));
    int rc;

    *out = NULL;
    if (!a)
        return ERR_NOMEM;
    rc = testutil_tmpdir(&a->dir, "agent");
    if (rc < 0)
        goto out;
    a->ds[0] = testutil_join(a->dir, "A");
    a->ds[1] = testutil_join(a->dir, "B");
    a->port_file = testutil_join(a->dir, "ports.json");
    a->log_path = testutil_join(a->dir, "agent.log");
    if (!a->ds[0] || !a->ds[1] || !a->port_file || !a->log_path) {
        rc = ERR_NOMEM;
        goto out;
    }
    if (mkdir(a->ds[0], 0755) < 0 || mkdir(a->ds[1], 0755) < 0) {
        rc = ERR_IO;
        goto out;
    }
    rc = agentproc_set_args(a, extra_args);
out:
    if (rc < 0) {
        agentproc_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static bool agentproc_extra_has(const struct agentproc *a, const char *flag)
{
    for (size_t i = 0; a->extra && a->extra[i]; i++)
        if (strcmp(a->extra[i], flag) == 0)
            return true;
    return false;
}

int agentproc_start(struct agentproc *a)
{
    char *argv[AGENT_MAX_ARGS];
    char *bin = proc_bin_path("sledagent");
    json_t *ports = NULL;
    json_t *api, *depot;
    size_t k = 0;
    int rc;

    if (!bin)
        return ERR_NOMEM;
    proc_free(a->proc);
    a->proc = NULL;
    (void)unlink(a->port_file);
    if (a->nofile[0]) {
        /* prlimit(1) sets the limit and execs the agent (same pid) */
        argv[k++] = "/usr/bin/prlimit";
        argv[k++] = a->nofile;
        argv[k++] = "--";
    }
    argv[k++] = bin;
    argv[k++] = "--dataset";
    argv[k++] = a->ds[0];
    argv[k++] = "--dataset";
    argv[k++] = a->ds[1];
    argv[k++] = "--listen";
    argv[k++] = "127.0.0.1:0";
    argv[k++] = "--depot-listen";
    argv[k++] = "127.0.0.1:0";
    argv[k++] = "--port-file";
    argv[k++] = a->port_file;
    argv[k++] = "--log-level";
    argv[k++] = "debug";
    for (size_t i = 0; a->extra && a->extra[i]; i++)
        argv[k++] = a->extra[i];
    if (!agentproc_extra_has(a, "--tls-cert"))
        argv[k++] = "--insecure-plaintext"; /* unless the test set TLS */
    argv[k] = NULL;
    rc = proc_spawn(&a->proc, argv[0], argv, NULL, a->log_path);
    if (rc < 0) {
        fprintf(stderr, "agentproc: cannot spawn %s (%s)\n", bin,
                err_name(rc));
        goto out;
    }
    rc = proc_wait_port_file(&ports, a->port_file, a->proc,
                             AGENT_START_TIMEOUT_MS);
    if (rc < 0) {
        fprintf(stderr, "agentproc: no port file %s (%s), exit code %d\n",
                a->port_file, err_name(rc), proc_exit_code(a->proc));
        agentproc_print_log(a);
        goto out;
    }
    api = json_object_get(ports, "api");
    depot = json_object_get(ports, "depot");
    if (!json_is_integer(api) || !json_is_integer(depot) ||
        json_integer_value(api) <= 0 || json_integer_value(api) > 65535 ||
        json_integer_value(depot) <= 0 || json_integer_value(depot) > 65535) {
        fprintf(stderr, "agentproc: bad port file %s\n", a->port_file);
        rc = ERR_INVAL;
        goto out;
    }
    a->api_port = (int)json_integer_value(api);
    a->depot_port = (int)json_integer_value(depot);
    snprintf(a->api_url, sizeof(a->api_url), "http://127.0.0.1:%d",
             a->api_port);
    snprintf(a->depot_url, sizeof(a->depot_url), "http://127.0.0.1:%d",
             a->depot_port);
out:
    json_decref(ports);
    mem_free(bin);
    return rc;
}

int agentproc_stop(struct agentproc *a, long timeout_ms)
{
    int code;

    if (!a->proc)
        return -1000;
    if (proc_stop(a->proc, timeout_ms) < 0)
        fprintf(stderr, "agentproc: SIGTERM ignored for %ld ms; killed\n",
                timeout_ms);
    code = proc_exit_code(a->proc);
    proc_free(a->proc);
    a->proc = NULL;
    return code;
}

void agentproc_kill(struct agentproc *a)
{
    if (!a->proc)
        return;
    proc_kill(a->proc);
    proc_free(a->proc);
    a->proc = NULL;
}

int agentproc_restart(struct agentproc *a)
{
    agentproc_stop(a, 20000);
    return agentproc_start(a);
}

void agentproc_free(struct agentproc *a)
{
    const char *keep = getenv("RD_KEEP_TEST_DIRS");

    if (!a)
        return;
    proc_free(a->proc);
    if (a->dir) {
        if (keep && *keep && strcmp(keep, "0"))
            fprintf(stderr, "agentproc: kept %s\n", a->dir);
        else
            testutil_rmrf(a->dir);
    }
    free_args(a->extra);
    mem_free(a->dir);
    mem_free(a->ds[0]);
    mem_free(a->ds[1]);
    mem_free(a->port_file);
    mem_free(a->log_path);
    mem_free(a);
}

void agentproc_print_log(const struct agentproc *a)
{
    testutil_print_tail("sledagent log", a->log_path, 6000);
}

const char *agentproc_dir(const struct agentproc *a)
{
    return a->dir;
}

const char *agentproc_dataset(const struct agentproc *a, int i)
{
    return a->ds[i ? 1 : 0];
}

const char *agentproc_log_path(const struct agentproc *a)
{
    return a->log_path;
}

const char *agentproc_api_url(const struct agentproc *a)
{
    return a->api_url;
}

const char *agentproc_depot_url(const struct agentproc *a)
{
    return a->depot_url;
}

int agentproc_api_port(const struct agentproc *a)
{
    return a->api_port;
}

int agentproc_depot_port(const struct agentproc *a)
{
    return a->depot_port;
}

struct proc *agentproc_proc(struct agentproc *a)
{
    return a->proc;
}

bool agentproc_alive(struct agentproc *a)
{
    return a->proc && proc_alive(a->proc);
}

char *agentproc_path(const struct agentproc *a, int i, const char *name)
{
    return testutil_join(a->ds[i ? 1 : 0], name);
}

long agentproc_put_config(struct agentproc *a, uint64_t gen,
                          const char *const *hexes, size_t n)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    struct buf body = BUF_INIT;
    char url[128];
    long status = -1;

    if (buf_printf(&body, "{\"generation\": %llu, \"artifacts\": [",
                   (unsigned long long)gen) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (buf_printf(&body, "%s\"%s\"", i ? ", " : "", hexes[i]) < 0)
            goto out;
    }
    if (buf_puts(&body, "]}") < 0)
        goto out;
    snprintf(url, sizeof(url), "%s/artifacts-config", a->api_url);
    if (http_client_send(&resp, "PUT", url, body.data, body.len) == 0)
        status = resp.status;
out:
    http_client_resp_release(&resp);
    buf_release(&body);
    return status;
}

long agentproc_put_artifact(struct agentproc *a, const char *hex,
                            uint64_t gen, const void *data, size_t len,
                            struct http_client_resp *resp)
{
    struct http_client_resp own = HTTP_CLIENT_RESP_INIT;
    struct http_client_resp *r = resp ? resp : &own;
    char url[256];
    long status = -1;

    snprintf(url, sizeof(url), "%s/artifacts/%s?generation=%llu",
             a->api_url, hex, (unsigned long long)gen);
    if (http_client_send(r, "PUT", url, data ? data : "", len) == 0)
        status = r->status;
    http_client_resp_release(&own);
    return status;
}

long agentproc_list(struct agentproc *a, json_t **out)
{
    struct http_client_resp resp = HTTP_CLIENT_RESP_INIT;
    char url[128];
    long status = -1;

    *out = NULL;
    snprintf(url, sizeof(url), "%s/artifacts", a->api_url);
    if (http_client_get(&resp, url) == 0) {
        status = resp.status;
        if (status == 200)
            *out = http_client_json(&resp);
    }
    http_client_resp_release(&resp);
    return status;
}

long agentproc_count(struct agentproc *a, const char *hex)
{
    json_t *list = NULL;
    json_t *v;
    long count = -1;

    if (agentproc_list(a, &list) != 200 || !list)
        goto out;
    v = json_object_get(json_object_get(list, "list"), hex);
    count = json_is_integer(v) ? (long)json_integer_value(v) : 0;
out:
    json_decref(list);
    return count;
}

int agentproc_check_files(const struct agentproc *a, long *files_out,
                          struct err *err)
{
    long files = 0;
    int rc = 0;

    for (int i = 0; i < 2 && rc == 0; i++) {
        DIR *d = opendir(a->ds[i]);
        struct dirent *de;

        if (!d)
            continue; /* a removed dataset is not a violation */
        while (rc == 0 && (de = readdir(d)) != NULL) {
            struct sha256 want, got;
            char *path;
            int r;

            if (!testutil_is_hex64(de->d_name))
                continue;
            if (sha256_from_hex(&want, de->d_name) < 0)
                continue;
            path = testutil_join(a->ds[i], de->d_name);
            if (!path) {
                rc = ERR_NOMEM;
                break;
            }
            r = testutil_sha256_file(&got, path);
            if (r == ERR_NOTFOUND) {
                /* Moved away (trash, repair) while we walked: fine. */
            } else if (r < 0) {
                rc = err_set(err, r, "%s: cannot hash", path);
            } else if (!sha256_eq(&want, &got)) {
                char hex[SHA256_HEX_LEN + 1];

                sha256_to_hex(hex, &got);
                rc = err_set(err, ERR_VERIFY, "%s has sha256 %s", path, hex);
            } else {
                files++;
            }
            mem_free(path);
        }
        closedir(d);
    }
    if (files_out)
        *files_out = files;
    return rc;
}

int agentproc_check_error(const struct http_client_resp *resp,
                          struct err *err)
{
    char rid[256];
    json_t *v = http_client_json(resp);
    json_t *code;
    const char *body_rid;
    int rc = 0;

    if (!http_client_header(resp, "x-request-id", rid, sizeof(rid)) ||
        !rid[0]) {
        rc = err_set(err, ERR_VERIFY, "status %ld: no x-request-id header",
                     resp->status);
        goto out;
    }
    if (!json_is_object(v)) {
        rc = err_set(err, ERR_VERIFY, "status %ld: body is not a JSON object: "
                     "%.200s", resp->status,
                     resp->body.data ? resp->body.data : "");
        goto out;
    }
    body_rid = json_string_value(json_object_get(v, "request_id"));
    if (!body_rid || strcmp(body_rid, rid)) {
        rc = err_set(err, ERR_VERIFY, "status %ld: request_id %s != header %s",
                     resp->status, body_rid ? body_rid : "(none)", rid);
        goto out;
    }
    if (!json_is_string(json_object_get(v, "message"))) {
        rc = err_set(err, ERR_VERIFY, "status %ld: no string \"message\"",
                     resp->status);
        goto out;
    }
    code = json_object_get(v, "error_code");
    if (code && !json_is_string(code) && !json_is_null(code))
        rc = err_set(err, ERR_VERIFY, "status %ld: error_code not a string",
                     resp->status);
out:
    json_decref(v);
    return rc;
}

int agentproc_fixture_setup(void **state)
{
    const char *const *args = *state;
    struct agentproc_fixture *f = mem_calloc(1, sizeof(*f));
    int rc;

    if (!f)
        return -1;
    rc = agentproc_new(&f->a, args);
    if (rc == 0)
        rc = agentproc_start(f->a);
    if (rc < 0) {
        agentproc_free(f->a);
        mem_free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int agentproc_fixture_teardown(void **state)
{
    struct agentproc_fixture *f = *state;

    if (!f)
        return 0;
    if (!f->passed) {
        if (f->a)
            agentproc_print_log(f->a);
        if (f->b)
            agentproc_print_log(f->b);
    }
    agentproc_free(f->a);
    agentproc_free(f->b);
    mem_free(f);
    return 0;
}
