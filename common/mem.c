/* SPDX-License-Identifier: MPL-2.0 */
/* mem: allocation wrappers with test-time failure injection (see mem.h). */
#include "common/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static atomic_long fail_countdown = -1; /* < 0: injection off */
static atomic_bool fail_persistent;
static atomic_long failures;

static bool should_fail(void)
{
    long n = atomic_load(&fail_countdown);

    while (n >= 0) {
        if (n == 0) {
            if (!atomic_load(&fail_persistent))
                atomic_store(&fail_countdown, -1);
            atomic_fetch_add(&failures, 1);
            return true;
        }
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return false;
    }
    return false;
}

void mem__fail_after(long n, bool persistent)
{
    atomic_store(&fail_persistent, persistent);
    atomic_store(&fail_countdown, n);
}

long mem__failures(void)
{
    return atomic_load(&failures);
}

void *mem_alloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *mem_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *mem_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void *mem_grow(void *p, size_t *cap, size_t n, size_t elem, size_t first)
{
    size_t ncap;
    void *np;

    if (n < *cap)
        return p;
    ncap = *cap ? *cap * 2 : first;
    if (ncap < *cap || (elem && ncap > SIZE_MAX / elem))
        return NULL;
    np = mem_realloc(p, ncap * elem);
    if (np)
        *cap = ncap;
    return np;
}

char *mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

char *mem_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = mem_alloc(len + 1);

    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void mem_free(void *p)
{
    free(p);
}

void mem_init(void)
{
    /*
     * jansson keeps the C library allocator on purpose: jansson 2.14 does not
     * survive an allocation failing in the middle of json_loadb (seen: a
     * crash, and a string silently missing a byte while the parse reports
     * success), so routing it through the failure injection would test
     * jansson's bugs instead of ours, and could turn an injected failure into
     * silently altered input. Our own allocations stay injectable.
     */
    json_set_alloc_funcs(malloc, free);
}
