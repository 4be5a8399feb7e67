/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli: global flags, dispatch and the shared HTTP helpers of the
 * `replicator` tool (see cli.h). Main thread.
 */
#include "replicator/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/tls.h"
#include "replicator/db/db_cli.h"
#include "replicator/cli_task.h"
#include "replicator/cli_tls.h"
#include "replicator/progress.h"
#include "replicator/serve.h"

#define CLI_DEFAULT_URL "http://127.0.0.1:12221"
#define CLI_DEFAULT_TLS_URL "https://127.0.0.1:12221"

static const char usage[] =
    "usage: replicator serve --db URL --staging DIR [options]  (serve --help)\n"
    "       replicator db migrate|status --db URL\n"
    "       replicator [--url URL] [--json] repo upload FILE | repo list\n"
    "                  | repo prune VERSION                     (repo --help)\n"
    "                  | repo pin VERSION | repo unpin VERSION\n"
    "       replicator [--url URL] [--json] prune-policy enable [--reason "
    "TEXT]\n"
    "                  | prune-policy disable [--reason TEXT]\n"
    "                  | prune-policy show              (prune-policy --help)\n"
    "       replicator [--url URL] [--json] trust-root add FILE\n"
    "                  | trust-root list | trust-root remove ID (trust-root "
    "--help)\n"
    "       replicator [--url URL] [--json] activate | status | sled list\n"
    "                  | sled expunge ID | generation bump --past-fleet\n"
    "                  | sled reset-ledger ID [--generation G] "
    "[--reason TEXT]\n"
    "                  | sled resume ID --override UUID\n"
    "                  | generation confirm G\n"
    "       replicator pki init | issue | list | revoke ...      (pki --help)\n"
    "       replicator --version\n"
    "Global TLS flags (each also from $RACKDEPOT_TLS_CA, $RACKDEPOT_TLS_CERT,\n"
    "$RACKDEPOT_TLS_KEY; a flag wins): --tls-ca FILE --tls-cert FILE\n"
    "--tls-key FILE, all three or none; the server must be a controller.\n"
    "--url defaults to $REPLICATOR_URL, then " CLI_DEFAULT_URL " (with TLS\n"
    CLI_DEFAULT_TLS_URL ").\n"
    "--json prints exactly one JSON document on stdout.\n"
    "Exit codes: 0 success, 1 the operation failed (the message says why),\n"
    "2 usage error. See docs/OPERATOR.md.\n";

struct upload_src {
    struct progress pr;
    uint64_t total;
};

static void on_progress(uint64_t up_now, uint64_t down_now, void *arg)
{
    struct upload_src *u = arg;

    (void)down_now;
    if (up_now > 0)
        progress_update(&u->pr, up_now, u->total);
}

/* The body: JSON from memory, or upload_len bytes of the open file. */
static void spec_body(struct httpc_spec *sp, const char *body, FILE *upload,
                      uint64_t upload_len, struct upload_src *src)
{
    if (body) {
        sp->body.kind = HTTPC_BODY_MEM;
        sp->body.data = body;
        sp->body.len = strlen(body);
        sp->body.content_type = "application/json";
    } else if (upload) {
        src->total = upload_len;
        progress_init(&src->pr, stderr, "upload");
        sp->body.kind = HTTPC_BODY_FD;
        sp->body.fd = fileno(upload);
        sp->body.off = 0;
        sp->body.len = upload_len;
        sp->body.content_type = "application/zip";
        sp->upload_buffer = 512u * 1024;
        sp->on_progress = on_progress;
        sp->arg = src;
    }
}

int cli_request(long *status, json_t **out, const struct cli *c,
                const char *method, const char *path, const char *body,
                FILE *upload, uint64_t upload_len, struct err *err)
{
    struct buf url = BUF_INIT;
    struct httpc_spec sp = {0};
    struct httpc *h = NULL;
    struct upload_src src;
    const struct buf *resp;
    int rc = 0;

    *out = NULL;
    *status = 0;
    if (buf_printf(&url, "%s%s", c->url, path) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    sp.method = method;
    sp.url = url.data;
    sp.api_version = API_VERSION_REPLICATOR;
    sp.connect_ms = 15000;
    if (c->tls_cert) {
        sp.tls.ca_file = c->tls_ca;
        sp.tls.cert_file = c->tls_cert;
        sp.tls.key_file = c->tls_key;
        sp.tls.roles = HTTPC_ROLE(TLS_ROLE_CONTROLLER);
    }
    spec_body(&sp, body, upload, upload_len, &src);
    if ((rc = httpc_new(&h, &sp, err)) < 0)
        goto out;
    httpc_run(h, NULL);
    if (upload)
        progress_finish(&src.pr);
    *status = httpc_status(h);
    resp = httpc_body(h);
    if (resp->len > 0)
        *out = jsonu_loadb(resp->data, resp->len, LIMIT_HTTP_RESPONSE, NULL);
    /* A server that refuses an upload early (413, 400) closes while we
     * still send: its reply counts, not the broken pipe. */
    if (httpc_result(h, NULL) < 0 && !(*status >= 400 && *out)) {
        rc = err_set(err, ERR_IO, "%s: %s", url.data,
                     httpc_tls_refused(h) ? httpc_tls_refused(h)
                                          : httpc_curl_text(h));
        *status = 0;
        json_decref(*out);
        *out = NULL;
    }
out:
    httpc_free(h);
    buf_release(&url);
    return rc;
}

static void print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputs("\n", stdout);
}

int cli_report(const struct cli *c, long status, const json_t *reply, int rc,
               const struct err *err, cli_human_fn human)
{
    const char *msg;
    json_t *e;

    if (rc >= 0 && status >= 200 && status <= 299) {
        if (c->json || !human) {
            if (reply)
                print_json(reply);
            else
                fputs("{}\n", stdout);
        } else {
            human(reply);
        }
        return CLI_EXIT_OK;
    }
    if (rc < 0)
        msg = err->msg;
    else
        msg = reply && jsonu_str(reply, "message") ? jsonu_str(reply, "message")
                                                    : "(no message)";
    if (c->json) {
        e = json_is_object(reply) ? json_deep_copy(reply) : json_object();
        if (e) {
            json_object_set_new(e, "status", json_integer(status));
            json_object_set_new(e, "message", json_string(msg));
            print_json(e);
            json_decref(e);
        }
    }
    if (rc < 0)
        fprintf(stderr, "replicator: %s\n", msg);
    else
        fprintf(stderr, "replicator: error %ld: %s\n", status, msg);
    return CLI_EXIT_FAILED;
}

int cli_request_retrying(long *status, json_t **out, const struct cli *c,
                         const char *what, const char *method,
                         const char *path, const char *body, FILE *upload,
                         uint64_t upload_len, struct err *err)
{
    for (int attempt = 1;; attempt++) {
        const char *msg;
        int rc = cli_request(status, out, c, method, path, body, upload,
                             upload_len, err);

        if (rc < 0 || *status != 503 || attempt >= CLI_RETRY_TRIES)
            return rc;
        msg = *out ? jsonu_str(*out, "message") : NULL;
        fprintf(stderr, "replicator: %s: the replicator answered 503 "
                "(%s); retrying in %d s (attempt %d of %d)\n", what,
                msg ? msg : "unavailable", CLI_RETRY_SECS, attempt + 1,
                CLI_RETRY_TRIES);
        json_decref(*out);
        *out = NULL;
        sleep(CLI_RETRY_SECS);
        if (upload)
            rewind(upload);
    }
}

/* One request and its report; retried on 503 when retry_what is set. */
static int simple(const struct cli *c, const char *retry_what,
                  const char *method, const char *path, const char *body,
                  cli_human_fn human)
{
    struct err err = ERR_INIT;
    json_t *j = NULL;
    long status = 0;
    int rc = retry_what
                 ? cli_request_retrying(&status, &j, c, retry_what, method,
                                        path, body, NULL, 0, &err)
                 : cli_request(&status, &j, c, method, path, body, NULL, 0,
                               &err);
    int code = cli_report(c, status, j, rc, &err, human);

    json_decref(j);
    return code;
}

int cli_simple(const struct cli *c, const char *method, const char *path,
               const char *body, cli_human_fn human)
{
    return simple(c, NULL, method, path, body, human);
}

int cli_simple_retrying(const struct cli *c, const char *what,
                        const char *method, const char *path,
                        const char *body, cli_human_fn human)
{
    return simple(c, what, method, path, body, human);
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

/* --tls-ca/--tls-cert/--tls-key FILE: 1 if argv[i] is one (value taken). */
static int tls_flag(const char *flags[CLI_TLS_N], int *i, int argc,
                    char **argv)
{
    static const char *const names[CLI_TLS_N] = {"--tls-ca", "--tls-cert",
                                                 "--tls-key"};

    for (int k = 0; k < CLI_TLS_N; k++) {
        if (!strcmp(argv[*i], names[k]) && *i + 1 < argc) {
            flags[k] = argv[++*i];
            return 1;
        }
    }
    return 0;
}

/* TLS from flags and environment; the default URL follows. Exit code or
 * -1 to go on. */
static int settle_tls(struct cli *c, const char *const flags[CLI_TLS_N],
                      bool url_given)
{
    const char *env[CLI_TLS_N];
    struct err err = ERR_INIT;

    cli_tls_getenv(env);
    if (cli_tls_resolve(c, flags, env, &err) < 0) {
        fprintf(stderr, "replicator: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (!url_given && c->tls_cert)
        c->url = CLI_DEFAULT_TLS_URL;
    return -1;
}

int cli_main(int argc, char **argv)
{
    struct cli c = {NULL, false, NULL, NULL, NULL};
    const char *env = getenv("REPLICATOR_URL");
    const char *flags[CLI_TLS_N] = {NULL, NULL, NULL};
    bool url_given = env && *env;
    int i = 1, code;

    c.url = env && *env ? env : CLI_DEFAULT_URL;
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return serve_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "db"))
        return db_cli_main(argc - 1, argv + 1);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json")) {
            c.json = true;
        } else if (!strcmp(argv[i], "--url") && i + 1 < argc) {
            c.url = argv[++i];
            url_given = true;
        } else if (tls_flag(flags, &i, argc, argv)) {
            continue;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "replicator: unknown flag %s\n%s", argv[i], usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[i], "pki"))
        return cli_pki_main(&c, argc - i, argv + i);
    if ((code = settle_tls(&c, flags, url_given)) >= 0)
        return code;
    if (!strcmp(argv[i], "activate") || !strcmp(argv[i], "status") ||
        !strcmp(argv[i], "sled") || !strcmp(argv[i], "generation")) {
        httpc_global_init();
        code = cli_task_main(&c, argc - i, argv + i);
        httpc_global_cleanup();
        return code;
    }
    if (strcmp(argv[i], "repo") != 0 && strcmp(argv[i], "trust-root") != 0 &&
        strcmp(argv[i], "prune-policy") != 0) {
        fprintf(stderr, "replicator: unknown command %s\n%s", argv[i], usage);
        return CLI_EXIT_USAGE;
    }
    httpc_global_init();
    if (!strcmp(argv[i], "repo"))
        code = cli_repo_main(&c, argc - i, argv + i);
    else if (!strcmp(argv[i], "prune-policy"))
        code = cli_prune_main(&c, argc - i, argv + i);
    else
        code = cli_trust_main(&c, argc - i, argv + i);
    httpc_global_cleanup();
    return code;
}
