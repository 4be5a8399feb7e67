/* SPDX-License-Identifier: MPL-2.0 */
/*
 * serve: `replicator serve`: checks the database schema, opens the staging
 * directory, runs the API on one libevent loop until SIGTERM/SIGINT, then
 * shuts down cleanly (in-flight work finishes, nothing leaks). Main thread.
 */
#ifndef REPLICATOR_SERVE_H
#define REPLICATOR_SERVE_H

/* argv[0] is "serve". Returns the exit code (0, 1 failure, 2 usage). */
int serve_main(int argc, char **argv);

#endif
