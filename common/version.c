/* SPDX-License-Identifier: MPL-2.0 */
/*
 * version: the project version (RD_VERSION, defined for this file only by
 * common/CMakeLists.txt from project(VERSION)) and the --version flag.
 */
#include "common/version.h"

#include <stdio.h>
#include <string.h>

#ifndef RD_VERSION
#error "RD_VERSION must be defined by the build (common/CMakeLists.txt)"
#endif

const char *rd_version(void)
{
    return RD_VERSION;
}

bool rd_version_flag(const char *prog, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--version") != 0)
        return false;
    printf("%s %s\n", prog, RD_VERSION);
    return true;
}
