/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_cli: the `replicator db migrate|status` commands. main() dispatches
 * argv starting at "db" here. Main thread of the command-line tool.
 */
#ifndef REPLICATOR_DB_DB_CLI_H
#define REPLICATOR_DB_DB_CLI_H

#include <stdio.h>

/*
 * replicator db migrate --db URL [--to N]
 * replicator db status --db URL [--json]
 * (--db defaults to $REPLICATOR_DB.) argv[0] is "db". Returns the process
 * exit code: 0 success, 1 the operation failed (message on stderr), 2
 * usage error. --help prints usage on stdout and returns 0.
 */
int db_cli_main(int argc, char **argv);

/* db_cli_main writing to out and errf instead of stdout/stderr (tests). */
int db_cli_run(FILE *out, FILE *errf, int argc, char **argv);

#endif
