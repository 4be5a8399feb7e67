/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_repo: `replicator repo upload FILE | list | prune VERSION | pin
 * VERSION | unpin VERSION` (pins: the automatic pruner, cli_prune.c). Upload
 * streams the zip from disk with progress on stderr (progress.c); the
 * server's verdict is printed as text or --json. Main thread.
 */
#include "replicator/cli.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"

#define PATH_REPOS "/v1/system/update/repositories"

static const char repo_usage[] =
    "usage: replicator [--url URL] [--json] repo upload FILE\n"
    "       replicator [--url URL] [--json] repo list\n"
    "       replicator [--url URL] [--json] repo prune VERSION\n"
    "       replicator [--url URL] [--json] repo pin|unpin VERSION\n"
    "  upload  send a signed TUF repository zip; it is verified against the\n"
    "          trust roots, recorded, and staged for replication. Progress\n"
    "          goes to stderr (a bar on a terminal, lines otherwise).\n"
    "          Re-uploading the same zip is harmless and re-stages it.\n"
    "  list    every recorded repository (pruned ones flagged).\n"
    "  prune   stop wanting the artifacts of system version VERSION (they\n"
    "          are deleted from sleds unless another repository lists\n"
    "          them); bumps the generation when the wanted set changes.\n"
    "  pin     the automatic pruner never prunes VERSION (`replicator\n"
    "          prune-policy show`); an operator's prune still does.\n"
    "  unpin   VERSION is prunable again once older than the newest kept.\n"
    "upload, prune, pin and unpin retry a 503 (e.g. no database primary\n"
    "during a failover) every 2 s, at most 20 times, each retry on stderr.\n"
    "Exit codes: 0 success, 1 refused or failed, 2 usage error.\n";

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

    printf("%-20s %-9s %-7s %-7s %s\n", "SYSTEM VERSION", "ARTIFACTS",
           "PRUNED", "PINNED", "SHA256");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);

        printf("%-20s %-9lld %-7s %-7s %s\n", jsonu_str(r, "system_version"),
               (long long)json_integer_value(
                   json_object_get(r, "artifact_count")),
               json_is_true(json_object_get(r, "pruned")) ? "yes" : "no",
               json_is_true(json_object_get(r, "pinned")) ? "yes" : "no",
               jsonu_str(r, "sha256"));
    }
}

static void human_prune(const json_t *j)
{
    printf("pruned %s; generation %lld%s\n", jsonu_str(j, "system_version"),
           (long long)json_integer_value(json_object_get(j, "generation")),
           json_is_true(json_object_get(j, "generation_bumped"))
               ? " (bumped)" : " (unchanged: the wanted set did not change)");
}

static int upload(const struct cli *c, const char *file)
{
    struct err err = ERR_INIT;
    struct buf path = BUF_INIT;
    const char *base = strrchr(file, '/');
    FILE *f = fopen(file, "rbe");
    struct stat stt;
    json_t *j = NULL;
    long status = 0;
    char *esc = NULL;
    int rc, code;

    if (!f || fstat(fileno(f), &stt) < 0 || !S_ISREG(stt.st_mode)) {
        rc = err_set(&err, ERR_IO, "%s: %s", file,
                     f ? "not a regular file" : strerror(errno));
        code = cli_report(c, 0, NULL, rc, &err, NULL);
        if (f)
            fclose(f);
        return code;
    }
    esc = curl_easy_escape(NULL, base ? base + 1 : file, 0);
    if (!esc || buf_printf(&path, PATH_REPOS "?file_name=%s", esc) < 0)
        rc = err_set(&err, ERR_NOMEM, "out of memory");
    else
        /* Idempotent (keyed by the archive's hash): a retry after an
         * unknown outcome is harmless. */
        rc = cli_request_retrying(&status, &j, c, "upload", "PUT", path.data,
                                  NULL, f, (uint64_t)stt.st_size, &err);
    code = cli_report(c, status, j, rc, &err, human_repo);
    curl_free(esc);
    buf_release(&path);
    json_decref(j);
    fclose(f);
    return code;
}

static void human_pin(const json_t *j)
{
    printf("%s %s\n", json_is_true(json_object_get(j, "pinned"))
                          ? "pinned" : "unpinned",
           jsonu_str(j, "system_version"));
}

/* POST .../repositories/VERSION/verb, retried on 503: a prune is all or
 * nothing and a second one a no-op, pins are idempotent. */
static int repo_post(const struct cli *c, const char *version,
                     const char *verb, cli_human_fn human)
{
    struct buf path = BUF_INIT;
    char *esc = curl_easy_escape(NULL, version, 0);
    char what[16];
    int code;

    snprintf(what, sizeof(what), "repo %s", verb);
    if (!esc || buf_printf(&path, PATH_REPOS "/%s/%s", esc, verb) < 0) {
        fprintf(stderr, "replicator: out of memory\n");
        code = CLI_EXIT_FAILED;
    } else {
        code = cli_simple_retrying(c, what, "POST", path.data, NULL, human);
    }
    curl_free(esc);
    buf_release(&path);
    return code;
}

int cli_repo_main(const struct cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(repo_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc == 3 && !strcmp(argv[1], "upload"))
        return upload(c, argv[2]);
    if (argc == 2 && !strcmp(argv[1], "list"))
        return cli_simple(c, "GET", PATH_REPOS, NULL, human_list);
    if (argc == 3 && !strcmp(argv[1], "prune"))
        return repo_post(c, argv[2], "prune", human_prune);
    if (argc == 3 && !strcmp(argv[1], "pin"))
        return repo_post(c, argv[2], "pin", human_pin);
    if (argc == 3 && !strcmp(argv[1], "unpin"))
        return repo_post(c, argv[2], "unpin", human_pin);
    fputs(repo_usage, stderr);
    return CLI_EXIT_USAGE;
}
