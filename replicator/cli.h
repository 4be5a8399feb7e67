/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli: the client commands of the `replicator` tool (repo upload|list|
 * prune, trust-root add|list|remove) over libcurl (blocking easy handles:
 * a command-line tool has no event loop). Exit codes: 0 ok, 1 the
 * operation failed (the server's message), 2 usage error. Main thread.
 */
#ifndef REPLICATOR_CLI_H
#define REPLICATOR_CLI_H

#include <stdbool.h>

struct cli {
    const char *url;  /* base URL, no trailing slash needed */
    bool json;        /* --json output */
};

/* argv[0] is "repo" or "trust-root". Returns the exit code. */
int cli_repo_main(const struct cli *c, int argc, char **argv);
int cli_trust_main(const struct cli *c, int argc, char **argv);

#endif
