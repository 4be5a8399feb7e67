/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_trust: `replicator trust-root add FILE | list | remove ID`: the TUF
 * root documents uploaded repositories must chain to. Main thread.
 */
#include "replicator/cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"

#define PATH_TRUST "/v1/system/update/trust-roots"

static const char trust_usage[] =
    "usage: replicator [--url URL] [--json] trust-root add FILE\n"
    "       replicator [--url URL] [--json] trust-root list\n"
    "       replicator [--url URL] [--json] trust-root remove ID\n"
    "  add     store a TUF root.json (it must verify against its own keys);\n"
    "          prints the new trust root's id. Uploads must chain to one.\n"
    "  list    every trust root with its id and creation time.\n"
    "  remove  delete trust root ID (a UUID from list).\n"
    "Exit codes: 0 success, 1 refused or failed, 2 usage error.\n";

static void human_list(const json_t *j)
{
    const json_t *arr = json_object_get(j, "trust_roots");

    printf("%-36s %s\n", "ID", "CREATED");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);
        time_t t = (time_t)json_integer_value(json_object_get(r,
                                                              "time_created"));
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

static int add(const struct cli *c, const char *file)
{
    struct buf body = BUF_INIT;
    struct err err = ERR_INIT;
    FILE *f = fopen(file, "rbe");
    char chunk[8192];
    size_t n;
    int code;

    if (!f) {
        err_set(&err, ERR_IO, "%s: %s", file, strerror(errno));
        return cli_report(c, 0, NULL, ERR_IO, &err, NULL);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
           body.len <= LIMIT_TUF_METADATA)
        if (buf_append(&body, chunk, n) < 0)
            break;
    fclose(f);
    if (!body.data || body.len == 0) {
        err_set(&err, ERR_IO, "%s: empty file", file);
        code = cli_report(c, 0, NULL, ERR_IO, &err, NULL);
    } else if (body.len > LIMIT_TUF_METADATA) {
        err_set(&err, ERR_IO, "%s: larger than %u bytes: not a root.json",
                file, LIMIT_TUF_METADATA);
        code = cli_report(c, 0, NULL, ERR_IO, &err, NULL);
    } else {
        code = cli_simple(c, "POST", PATH_TRUST, body.data, human_id);
    }
    buf_release(&body);
    return code;
}

int cli_trust_main(const struct cli *c, int argc, char **argv)
{
    struct buf path = BUF_INIT;
    int code;

    if (cli_wants_help(argc, argv)) {
        fputs(trust_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "list"))
        return cli_simple(c, "GET", PATH_TRUST, NULL, human_list);
    if (argc == 3 && !strcmp(argv[1], "add"))
        return add(c, argv[2]);
    if (argc != 3 || strcmp(argv[1], "remove") != 0) {
        fputs(trust_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (buf_printf(&path, PATH_TRUST "/%s", argv[2]) < 0) {
        fprintf(stderr, "replicator: out of memory\n");
        code = CLI_EXIT_FAILED;
    } else {
        code = cli_simple(c, "DELETE", path.data, NULL, human_id);
    }
    buf_release(&path);
    return code;
}
