/* SPDX-License-Identifier: MPL-2.0 */
/*
 * override_cli: `sledagent override set|show|clear`, the operator's
 * commands of the out-of-band install hold (override.h), run on the sled
 * whether its agent runs or not: they read and write the datasets'
 * override.json directly (a running agent sees a change within a second).
 * Main thread only.
 */
#ifndef SLEDAGENT_OVERRIDE_CLI_H
#define SLEDAGENT_OVERRIDE_CLI_H

/* argv[0] is "override". Returns the exit status: 0 done, 1 refused or
 * failed (stderr says why), 2 bad usage. */
int override_cli_main(int argc, char **argv);

#endif
