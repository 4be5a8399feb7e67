/* SPDX-License-Identifier: MPL-2.0 */
/*
 * testutil: small helpers every integration and fault test needs: unique
 * temporary directories and their recursive removal, polling with a hard
 * timeout (testutil_wait_for, never a bare sleep), random data, whole-file
 * read/write, path joining, the sha256 of a file or a buffer, a file's
 * size and a process's CPU time.
 * Allocation through mem_*; any thread (no shared state except the random
 * generator, which is per thread).
 */
#ifndef TESTS_SUPPORT_TESTUTIL_H
#define TESTS_SUPPORT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/sha256.h"

/*
 * Create a fresh directory $TMPDIR/rdtest-<prefix>-XXXXXX (default /tmp).
 * *out is a new string (mem_free). Returns 0, ERR_IO or ERR_NOMEM.
 */
int testutil_tmpdir(char **out, const char *prefix);

/*
 * Remove path and everything under it (does not follow symlinks). A missing
 * path is success. Returns 0 or ERR_IO (the first failure; it keeps going).
 */
int testutil_rmrf(const char *path);

/*
 * Join a directory and a name with one '/'. Returns a new string (mem_free)
 * or NULL on ERR_NOMEM.
 */
char *testutil_join(const char *dir, const char *name);

/* Condition polled by testutil_wait_for; true ends the wait. */
typedef bool (*testutil_cond_fn)(void *arg);

/*
 * Call cond(arg) every ~10-50 ms until it returns true or timeout_ms elapsed
 * (monotonic clock). Returns true if the condition became true.
 */
bool testutil_wait_for(testutil_cond_fn cond, void *arg, long timeout_ms);

/* Milliseconds on the monotonic clock. */
int64_t testutil_now_ms(void);

/* Sleep ms milliseconds (pacing only, never for synchronisation). */
void testutil_sleep_ms(long ms);

/* Fill buf with n pseudo-random bytes (per-thread xorshift, seeded uniquely). */
void testutil_random(void *buf, size_t n);

/*
 * Deterministic bytes: byte i of a stream named by seed. Lets a generator
 * produce gigabytes without holding them and lets the test hash them.
 */
void testutil_pattern(void *buf, size_t n, uint64_t seed, uint64_t offset);

/* Write len bytes to path (created 0644 or truncated). 0 or ERR_IO. */
int testutil_write_file(const char *path, const void *data, size_t len);

/*
 * Read the whole file into *out (NUL-terminated, mem_free) and *len_out.
 * Returns 0, ERR_NOTFOUND (ENOENT), ERR_IO or ERR_NOMEM.
 */
int testutil_read_file(char **out, size_t *len_out, const char *path);

/* Whether path exists (lstat succeeds). */
bool testutil_exists(const char *path);

/* Size of the file at path in bytes; -1 if it cannot be stat'ed. */
long testutil_file_size(const char *path);

/* utime + stime of process pid in clock ticks; -1 if unreadable. */
long testutil_cpu_ticks(pid_t pid);

/* Number of entries (not . or ..) in directory path; -1 if unreadable. */
long testutil_dir_count(const char *path);

/* sha256 of a file's content. Returns 0, ERR_NOTFOUND, ERR_IO or ERR_NOMEM. */
int testutil_sha256_file(struct sha256 *out, const char *path);

/* Lowercase hex sha256 of a buffer into out (65 bytes). */
void testutil_sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data,
                         size_t len);

/* Whether name is exactly 64 lowercase hex characters. */
bool testutil_is_hex64(const char *name);

/*
 * Print up to max_bytes of the end of file path to stderr, framed by a
 * header naming label. For failing tests (agent logs).
 */
void testutil_print_tail(const char *label, const char *path,
                         size_t max_bytes);

/*
 * A test that cannot run here (an input absent, a limit too low): print
 * why, remember it, and skip (cmocka's skip(), so call it from a test
 * body). testutil_exit(rc) at the end of main turns a run with a skip and
 * no failure into exit code 77, which ctest reports as "Not Run (Skipped)"
 * instead of a pass (SKIP_RETURN_CODE, tests/CMakeLists.txt).
 */
#define TESTUTIL_SKIP(...)                                                    \
    do {                                                                      \
        testutil_note_skip(__VA_ARGS__);                                      \
        skip();                                                               \
    } while (0)
void testutil_note_skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int testutil_exit(int cmocka_rc);

#endif
