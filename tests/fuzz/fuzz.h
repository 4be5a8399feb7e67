/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz: what every fuzz harness of tests/fuzz shares: the libFuzzer entry
 * points (declared here so -Wmissing-prototypes holds), FUZZ_CHECK for
 * properties beyond "no crash" (a broken property aborts, which libFuzzer
 * and the replay driver both report as a finding), and a helper to copy
 * an input into an exactly sized NUL-terminated heap string so ASan sees
 * any read past its end. Harness code only; single-threaded.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property of the parser does not hold: report where and abort. */
#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Copy of data as a C string (size + 1 bytes), or NULL on ERR_NOMEM. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = mem_alloc(size + 1);

    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
