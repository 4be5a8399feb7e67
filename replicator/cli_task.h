/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cli_task: the `replicator` commands activate, status, sled and
 * generation (cli_task.c). Main thread.
 */
#ifndef REPLICATOR_CLI_TASK_H
#define REPLICATOR_CLI_TASK_H

struct cli;

/*
 * argv[0] is "activate", "status", "sled" or "generation". Returns the
 * exit code (0 ok, 1 failed, 2 usage). curl_global_init must have run.
 */
int cli_task_main(const struct cli *c, int argc, char **argv);

#endif
