/* SPDX-License-Identifier: MPL-2.0 */
/*
 * version: the one rackdepot version string, set by project(VERSION) in the
 * top-level CMakeLists.txt and shared by every binary's --version.
 */
#ifndef COMMON_VERSION_H
#define COMMON_VERSION_H

#include <stdbool.h>

/* The project version, e.g. "0.15.0". Static storage, any thread. */
const char *rd_version(void);

/*
 * If argv[1] is "--version", prints "<prog> <version>\n" on stdout and
 * returns true (the caller exits 0); otherwise returns false.
 */
bool rd_version_flag(const char *prog, int argc, char **argv);

#endif
