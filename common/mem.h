/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mem: the only allocator entry points of rackdepot. Thin wrappers over the C
 * library that tests can make fail: mem__fail_after(n) makes the (n+1)th
 * allocation from now and, if persistent, every later one return NULL.
 * jansson keeps the C library allocator (see mem_init()). Thread-safe.
 */
#ifndef COMMON_MEM_H
#define COMMON_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Call once at start of main() or a test (pins jansson's allocator). */
void mem_init(void);

void *mem_alloc(size_t size);              /* NULL on failure */
void *mem_calloc(size_t n, size_t size);   /* zeroed; NULL on overflow too */
void *mem_realloc(void *p, size_t size);   /* p unchanged on failure */
char *mem_strdup(const char *s);

/*
 * Room for one more element in array p (n in use, *cap allocated, elem
 * bytes each): when n == *cap, p is reallocated to twice *cap, or first
 * elements when *cap is 0, and *cap updated. Returns the array (p itself
 * if it had room), or NULL on failure or overflow with p and *cap unchanged.
 */
void *mem_grow(void *p, size_t *cap, size_t n, size_t elem, size_t first);
char *mem_strndup(const char *s, size_t n);
void mem_free(void *p);                    /* mem_free(NULL) is a no-op */

/*
 * Test hook: let n more allocations succeed, then fail the next one (and
 * all following if persistent). n < 0 turns injection off.
 */
void mem__fail_after(long n, bool persistent);

/* Test hook: how many allocations were failed on purpose so far. */
long mem__failures(void);

#endif
