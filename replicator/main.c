/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main: the `replicator` binary. Dispatches `serve` (serve.c), `db ...`
 * (replicator/db/db_cli.c), the client commands `repo ...` and
 * `trust-root ...` (cli.c), and prints a clear placeholder for the
 * commands of the reconciliation milestone. Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/log.h"
#include "common/mem.h"
#include "replicator/cli.h"
#include "replicator/db/db_cli.h"
#include "replicator/serve.h"

static const char usage[] =
    "usage: replicator serve --db URL --staging DIR [options] (serve --help)\n"
    "       replicator db migrate|status --db URL\n"
    "       replicator [--url URL] [--json] repo upload FILE | repo list\n"
    "                  | repo prune VERSION\n"
    "       replicator [--url URL] [--json] trust-root add FILE\n"
    "                  | trust-root list | trust-root remove ID\n"
    "       replicator [--url URL] [--json] activate | status | sled list\n"
    "                  | sled expunge ID | generation bump --past-fleet\n"
    "                  | generation confirm G   (next milestone)\n"
    "--url defaults to $REPLICATOR_URL, then http://127.0.0.1:12221.\n"
    "Exit codes: 0 success, 1 the operation failed, 2 usage error.\n";

int main(int argc, char **argv)
{
    struct cli c = {NULL, false};
    const char *env = getenv("REPLICATOR_URL");
    int i = 1, code;

    mem_init();
    log_init("replicator", LOG_INFO, 2);
    c.url = env && *env ? env : "http://127.0.0.1:12221";
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return serve_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "db"))
        return db_cli_main(argc - 1, argv + 1);
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            c.json = true;
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            c.url = argv[++i];
        else
            break;
    }
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
        fputs(usage, i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    if (!strcmp(argv[i], "activate") || !strcmp(argv[i], "status") ||
        !strcmp(argv[i], "sled") || !strcmp(argv[i], "generation")) {
        fprintf(stderr,
                "%s: not available in this build yet (reconciliation "
                "milestone)\n", argv[i]);
        return 1;
    }
    if (strcmp(argv[i], "repo") != 0 && strcmp(argv[i], "trust-root") != 0) {
        fprintf(stderr, "replicator: unknown command %s\n%s", argv[i], usage);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!strcmp(argv[i], "repo"))
        code = cli_repo_main(&c, argc - i, argv + i);
    else
        code = cli_trust_main(&c, argc - i, argv + i);
    curl_global_cleanup();
    return code;
}
