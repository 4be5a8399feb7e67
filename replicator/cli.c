/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli: client commands over libcurl (see cli.h). Uploads stream the file
 * from disk (CURLOPT_READDATA) with a progress bar on a terminal and plain
 * progress lines otherwise, both on stderr. Main thread.
 */
#include "replicator/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/mem.h"

#define CLI_RESPONSE_MAX (16u * 1024 * 1024)

struct progress {
    bool tty;
    time_t last;
    int last_pct;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct buf *b = arg;

    if (b->len + sz * n > CLI_RESPONSE_MAX || buf_append(b, p, sz * n) < 0)
        return 0;
    return sz * n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct progress *pr = arg;
    int pct;
    time_t now = time(NULL);

    (void)dltotal;
    (void)dlnow;
    if (ultotal <= 0)
        return 0;
    pct = (int)(ulnow * 100 / ultotal);
    if (pr->tty) {
        int w = pct / 2;

        if (pct == pr->last_pct)
            return 0;
        fprintf(stderr, "\r[%.*s%*s] %3d%% %lld/%lld bytes", w,
                "##################################################", 50 - w,
                "", pct, (long long)ulnow, (long long)ultotal);
        if (pct == 100)
            fputs("\n", stderr);
    } else if (now != pr->last || (pct == 100 && pr->last_pct != 100)) {
        if (pct == pr->last_pct)
            return 0;
        fprintf(stderr, "upload: %lld/%lld bytes (%d%%)\n", (long long)ulnow,
                (long long)ultotal, pct);
        pr->last = now;
    }
    pr->last_pct = pct;
    return 0;
}

/*
 * One request. body/len or upload (a FILE*) as the request body. *status
 * and *out (parsed JSON, may be NULL) on success. Returns 0 or ERR_IO
 * (transport failure, err says why).
 */
static int request(long *status, json_t **out, const struct cli *c,
                   const char *method, const char *path, const char *body,
                   FILE *upload, curl_off_t upload_len, struct err *err)
{
    CURL *h = curl_easy_init();
    struct buf url = BUF_INIT, resp = BUF_INIT;
    struct curl_slist *hdrs = NULL;
    struct progress pr = {isatty(2) != 0, 0, -1};
    CURLcode cc;
    int rc = 0;

    *out = NULL;
    *status = 0;
    if (!h || buf_printf(&url, "%s%s", c->url, path) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(body));
    } else if (upload) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/zip");
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READDATA, upload);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, upload_len);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &pr);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = err_set(err, ERR_IO, "%s: %s", url.data, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (resp.len > 0)
        *out = jsonu_loadb(resp.data, resp.len, CLI_RESPONSE_MAX, NULL);
out:
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    buf_release(&url);
    buf_release(&resp);
    return rc;
}

/* Print the outcome; returns the exit code. */
static int report(const struct cli *c, long status, json_t *j, int rc,
                  const struct err *err, void (*human)(const json_t *))
{
    if (rc < 0) {
        fprintf(stderr, "replicator: %s\n", err->msg);
        return 1;
    }
    if (status < 200 || status > 299) {
        const char *msg = j ? jsonu_str(j, "message") : NULL;

        if (c->json && j) {
            json_dumpf(j, stdout, JSON_INDENT(2));
            fputs("\n", stdout);
        }
        fprintf(stderr, "replicator: error %ld: %s\n", status,
                msg ? msg : "(no message)");
        return 1;
    }
    if (c->json || !human) {
        if (j)
            json_dumpf(j, stdout, JSON_INDENT(2));
        fputs("\n", stdout);
    } else {
        human(j);
    }
    return 0;
}

static void human_repo(const json_t *j)
{
    const json_t *arr = json_object_get(j, "artifacts");

    printf("system version %s (sha256 %s)%s, generation %lld\n",
           jsonu_str(j, "system_version"), jsonu_str(j, "sha256"),
           json_is_true(json_object_get(j, "already_existed"))
               ? " already existed" : " recorded",
           (long long)json_integer_value(json_object_get(j, "generation")));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);

        printf("  %-24s %-12s %-16s %s %lld\n", jsonu_str(a, "name"),
               jsonu_str(a, "version"), jsonu_str(a, "kind"),
               jsonu_str(a, "sha256"),
               (long long)json_integer_value(json_object_get(a, "length")));
    }
}

static void human_list(const json_t *j)
{
    const json_t *arr = json_object_get(j, "repositories");

    printf("%-20s %-9s %-7s %s\n", "SYSTEM VERSION", "ARTIFACTS", "PRUNED",
           "SHA256");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);

        printf("%-20s %-9lld %-7s %s\n", jsonu_str(r, "system_version"),
               (long long)json_integer_value(
                   json_object_get(r, "artifact_count")),
               json_is_true(json_object_get(r, "pruned")) ? "yes" : "no",
               jsonu_str(r, "sha256"));
    }
}

static void human_prune(const json_t *j)
{
    printf("pruned %s; generation %lld\n", jsonu_str(j, "system_version"),
           (long long)json_integer_value(json_object_get(j, "generation")));
}

static void human_trust_list(const json_t *j)
{
    const json_t *arr = json_object_get(j, "trust_roots");

    printf("%-36s %s\n", "ID", "CREATED");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);
        time_t t = (time_t)json_integer_value(json_object_get(r, "time_created"));
        char when[32];
        struct tm tm;

        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        printf("%-36s %s\n", jsonu_str(r, "id"), when);
    }
}

static void human_id(const json_t *j)
{
    printf("%s\n", jsonu_str(j, "id"));
}

static const char repo_usage[] =
    "usage: replicator [--url URL] [--json] repo upload FILE\n"
    "       replicator [--url URL] [--json] repo list\n"
    "       replicator [--url URL] [--json] repo prune VERSION\n";

static const char trust_usage[] =
    "usage: replicator [--url URL] [--json] trust-root add FILE\n"
    "       replicator [--url URL] [--json] trust-root list\n"
    "       replicator [--url URL] [--json] trust-root remove ID\n";

static int upload(const struct cli *c, const char *file)
{
    struct err err = ERR_INIT;
    struct buf path = BUF_INIT;
    const char *base = strrchr(file, '/');
    FILE *f = fopen(file, "rb");
    struct stat stt;
    json_t *j = NULL;
    long status = 0;
    char *esc = NULL;
    int rc, code;

    if (!f || fstat(fileno(f), &stt) < 0) {
        fprintf(stderr, "replicator: %s: %s\n", file, strerror(errno));
        if (f)
            fclose(f);
        return 1;
    }
    esc = curl_easy_escape(NULL, base ? base + 1 : file, 0);
    if (!esc || buf_printf(&path, "/v1/system/update/repositories?file_name=%s",
                           esc) < 0) {
        rc = err_set(&err, ERR_NOMEM, "out of memory");
    } else {
        rc = request(&status, &j, c, "PUT", path.data, NULL, f,
                     (curl_off_t)stt.st_size, &err);
    }
    code = report(c, status, j, rc, &err, human_repo);
    curl_free(esc);
    buf_release(&path);
    json_decref(j);
    fclose(f);
    return code;
}

static int simple(const struct cli *c, const char *method, const char *path,
                  const char *body, void (*human)(const json_t *))
{
    struct err err = ERR_INIT;
    json_t *j = NULL;
    long status = 0;
    int rc = request(&status, &j, c, method, path, body, NULL, 0, &err);
    int code = report(c, status, j, rc, &err, human);

    json_decref(j);
    return code;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

int cli_repo_main(const struct cli *c, int argc, char **argv)
{
    struct buf path = BUF_INIT;
    char *esc;
    int code;

    if (wants_help(argc, argv)) {
        fputs(repo_usage, stdout);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "upload"))
        return upload(c, argv[2]);
    if (argc == 2 && !strcmp(argv[1], "list"))
        return simple(c, "GET", "/v1/system/update/repositories", NULL,
                      human_list);
    if (argc != 3 || strcmp(argv[1], "prune") != 0) {
        fputs(repo_usage, stderr);
        return 2;
    }
    esc = curl_easy_escape(NULL, argv[2], 0);
    if (!esc || buf_printf(&path, "/v1/system/update/repositories/%s/prune",
                           esc) < 0) {
        fprintf(stderr, "replicator: out of memory\n");
        code = 1;
    } else {
        code = simple(c, "POST", path.data, NULL, human_prune);
    }
    curl_free(esc);
    buf_release(&path);
    return code;
}

int cli_trust_main(const struct cli *c, int argc, char **argv)
{
    struct buf path = BUF_INIT, body = BUF_INIT;
    int code = 1;

    if (wants_help(argc, argv)) {
        fputs(trust_usage, stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "list"))
        return simple(c, "GET", "/v1/system/update/trust-roots", NULL,
                      human_trust_list);
    if (argc == 3 && !strcmp(argv[1], "add")) {
        FILE *f = fopen(argv[2], "rb");
        char chunk[8192];
        size_t n;

        if (!f) {
            fprintf(stderr, "replicator: %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
               body.len <= LIMIT_TUF_METADATA)
            if (buf_append(&body, chunk, n) < 0)
                break;
        fclose(f);
        if (!body.data) {
            fprintf(stderr, "replicator: %s: empty file\n", argv[2]);
        } else {
            code = simple(c, "POST", "/v1/system/update/trust-roots",
                          body.data, human_id);
        }
        buf_release(&body);
        return code;
    }
    if (argc != 3 || strcmp(argv[1], "remove") != 0) {
        fputs(trust_usage, stderr);
        return 2;
    }
    if (buf_printf(&path, "/v1/system/update/trust-roots/%s", argv[2]) < 0) {
        fprintf(stderr, "replicator: out of memory\n");
    } else {
        code = simple(c, "DELETE", path.data, NULL, human_id);
    }
    buf_release(&path);
    return code;
}
