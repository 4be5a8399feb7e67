/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main: the `replicator` binary: process-wide set-up (allocator, JSON
 * logs on stderr), then the command line (cli.c). Main thread.
 */
#include "common/log.h"
#include "common/mem.h"
#include "common/version.h"
#include "replicator/cli.h"

int main(int argc, char **argv)
{
    if (rd_version_flag("replicator", argc, argv))
        return 0;
    mem_init();
    log_init("replicator", LOG_INFO, 2);
    return cli_main(argc, argv);
}
