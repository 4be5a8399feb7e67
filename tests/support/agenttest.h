/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agenttest: the helpers shared by the sledagent black-box tests
 * (tests/integration/test_agent_*.c, tests/fault/test_agent_*.c) on top of
 * agentproc: random artifacts, the cmocka fixture macros, what the
 * datasets hold (or do not), the check of DESIGN.md invariant 2, wait
 * conditions on the list, counts, tmp/ and file hashes, in-place
 * corruption, a request body generator that stalls at a chosen offset,
 * POST copy-from-depot and GET /copies, and the largest value of a
 * metric. Failures are
 * cmocka assertions. Test main thread only, except agenttest_stream_gen
 * (the client's thread).
 */
#ifndef TESTS_SUPPORT_AGENTTEST_H
#define TESTS_SUPPORT_AGENTTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/sha256.h"
#include "tests/support/agentproc.h"

struct http_client_resp;

/* A test with the agentproc fixture (one agent started as f->a). */
#define AGENTTEST(fn)                                                      \
    cmocka_unit_test_setup_teardown(fn, agentproc_fixture_setup,           \
                                    agentproc_fixture_teardown)
/* The same, the agent started with extra arguments args (NULL-ended). */
#define AGENTTEST_ARGS(fn, args)                                           \
    cmocka_unit_test_prestate_setup_teardown(fn, agentproc_fixture_setup,  \
                                             agentproc_fixture_teardown,   \
                                             (void *)(args))

/* A random artifact and its sha256 hex. */
struct agenttest_art {
    char *data;
    size_t len;
    char hex[SHA256_HEX_LEN + 1];
};

/* Fill x with len random bytes (x->data owned: agenttest_art_free). */
void agenttest_art_make(struct agenttest_art *x, size_t len);
void agenttest_art_free(struct agenttest_art *x);

/* Fail the test unless dataset i (0: A, 1: B) of a holds the file of x
 * with exactly its bytes. */
void agenttest_assert_file(struct agentproc *a, int i,
                           const struct agenttest_art *x);
/* ... unless both datasets hold x and GET /artifacts counts 2 copies. */
void agenttest_assert_stored(struct agentproc *a,
                             const struct agenttest_art *x);
/* ... unless neither dataset has a file hex. */
void agenttest_assert_absent(struct agentproc *a, const char *hex);
/* ... unless both datasets' tmp/ are empty within 15 s. */
void agenttest_assert_tmp_empty_soon(struct agentproc *a);
/* ... unless hex is absent, tmp/ empties within 15 s, GET /artifacts
 * counts no copy and the agent is alive (a refused upload left nothing). */
void agenttest_assert_nothing_stored(struct agentproc *a, const char *hex);

/* Fail the test unless DESIGN.md invariant 2 holds on a's datasets. */
void agenttest_assert_invariant(struct agentproc *a);

/* Fail the test unless r carries the agent's JSON error shape. */
void agenttest_assert_error_shape(const struct http_client_resp *r);

/* For agenttest_list_is: GET /artifacts lists hex with count copies, and
 * reports `datasets` healthy datasets (-1: any). */
struct agenttest_list {
    struct agentproc *a;
    const char *hex;
    long count;
    long datasets;
};

/* testutil_wait_for condition; arg is a struct agenttest_list. */
bool agenttest_list_is(void *arg);

/* For agenttest_count_is: agentproc_count(a, hex) == want. */
struct agenttest_count {
    struct agentproc *a;
    const char *hex;
    long want;
};

/* testutil_wait_for condition; arg is a struct agenttest_count. */
bool agenttest_count_is(void *arg);

/* For agenttest_file_has_hash: the file at path hashes to hex. */
struct agenttest_hash {
    const char *path;
    const char *hex;
};

/* testutil_wait_for condition; arg is a struct agenttest_hash (false
 * while the file cannot be read). */
bool agenttest_file_has_hash(void *arg);

/* testutil_wait_for condition; arg is the struct agentproc: no file in
 * either dataset's tmp/ (a missing tmp/ counts as empty). */
bool agenttest_tmp_empty(void *arg);

/* XOR the byte at offset `at` of path with mask, in place (same inode,
 * same size; fsynced). */
void agenttest_flip_byte(const char *path, off_t at, unsigned mask);

/*
 * A request body of len testutil_pattern(seed) bytes that stalls at
 * hold_at until release (or fails the request once abort_now is set);
 * sent is how far the client got. Written by the test thread, read by
 * the client's: the flags are volatile.
 */
struct agenttest_stream {
    uint64_t seed;
    uint64_t len;
    uint64_t hold_at;
    volatile int release;
    volatile int abort_now;
    volatile uint64_t sent;
};

/* http_client body generator; arg is a struct agenttest_stream. */
long agenttest_stream_gen(void *buf, size_t cap, uint64_t offset, void *arg);

/*
 * POST /artifacts/{hex}/copy-from-depot?generation=gen {"depot_base_url":
 * base} to a; the status (-1: no answer). The response goes to r, or is
 * released when r is NULL.
 */
long agenttest_post_copy(struct agentproc *a, const char *hex, uint64_t gen,
                         const char *base, struct http_client_resp *r);

/* GET /copies of a: the array (json_decref), NULL unless 200 with JSON. */
json_t *agenttest_copies(struct agentproc *a);
/* The first (newest) entry of copies whose sha256 is hex (borrowed), or
 * NULL. */
json_t *agenttest_copy_of(json_t *copies, const char *hex);

/* The largest value among the sample lines (not # comments) of
 * Prometheus text whose name and labels contain w1 and w2 (w2 NULL:
 * only w1); -1 when none does. */
double agenttest_metric_max(const char *text, const char *w1,
                            const char *w2);

/* agenttest_metric_max(a's GET /metrics, name, NULL); -1 when the
 * request fails or no sample matches. */
double agenttest_agent_metric(struct agentproc *a, const char *name);

/* sha256 hex of len bytes of testutil_pattern(seed). */
void agenttest_pattern_hex(char hex[SHA256_HEX_LEN + 1], uint64_t seed,
                           uint64_t len);

#endif
