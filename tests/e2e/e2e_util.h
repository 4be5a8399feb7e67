/* SPDX-License-Identifier: MPL-2.0 */
/*
 * e2e_util: the shared harness of the rack-sim e2e scenarios
 * (tests/e2e/test_e2e_*.c). Owns one rack per test: a unique directory
 * (0755, so PostgreSQL running as postgres can reach it), `rack-sim up`,
 * every later rack-sim, replicator and tuf-mkrepo command run through the
 * real binaries (exit status checked, output kept in D/tools.log), the
 * reload of D/rack.json after each rack-sim command, and `rack-sim down`
 * plus removal at the end (RD_E2E_KEEP=1 keeps the directory). The
 * rack's mode is followed (e2e_http.c: the harness's own requests).
 *
 * It also watches the invariants of DESIGN.md section 8 on every poll:
 * 1. every wanted artifact ever listed by a sled still lies, under its
 *    final name, on some sled dataset or in some replicator's staging;
 * 2. every file under a final name (dataset roots and trash/) hashes to
 *    its name (files are re-hashed only when their size, mtime or inode
 *    changed; paths the scenario corrupted on purpose can be exempted);
 * 3. no sled's generation decreases, both as reported by GET /artifacts
 *    and as written in each dataset's ledger file;
 * 4. (e2e_check_final) every in-service sled holds exactly the wanted set,
 *    verified, on each healthy dataset, and nothing else outside trash/
 *    (tmp/ must be empty; quarantine/ holds no file under a final name).
 * Violations of 1-3 fail the test at the poll that sees them.
 * cmocka main thread only.
 */
#ifndef TESTS_E2E_E2E_UTIL_H
#define TESTS_E2E_E2E_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sim/rack_check.h"
#include "sim/rack_state.h"

struct buf;
struct err;

#define E2E_ALL UINT64_MAX /* every sled in a sled mask */
#define E2E_MAX_EXEMPT 8

struct e2e {
    char *dir;                 /* the rack directory */
    char *rs, *mk, *repl;      /* rack-sim, tuf-mkrepo, replicator */
    char log[PATH_MAX + 16];   /* D/tools.log */
    struct rack r;             /* reloaded after every rack-sim command */
    struct rack_poll poll;     /* last poll (invariant 3 kept across) */
    json_t *wanted;            /* {"<hex>": length} from the database */
    json_t *replicated;        /* hashes ever listed by a sled */
    json_t *hashed;            /* path -> "size:mtime:ino" already verified */
    uint64_t ledger_max[RACK_MAX_SLEDS][2]; /* on-disk ledger generations */
    char exempt[E2E_MAX_EXEMPT][PATH_MAX]; /* skipped by invariant 2 */
    size_t nexempt;
    bool check_inv1;           /* default true */
    int64_t t0;                /* creation time, for progress lines */
    unsigned ncmd;
};

/* New harness with a fresh directory $TMPDIR/rdtest-<prefix>-XXXXXX. */
struct e2e *e2e_new(const char *prefix);

/* `rack-sim down`, remove the directory (unless RD_E2E_KEEP), free.
 * Returns -1 when a namespace or link of the rack (rack_net) is left
 * after the down, else 0. */
int e2e_free(struct e2e *t);

/* cmocka teardown: e2e_free(*state), also after a failed assertion;
 * fails the test when e2e_free says something was left behind. */
int e2e_teardown(void **state);

/*
 * Run argv (NULL-terminated varargs after path) with output into a fresh
 * file; *out (may be NULL) gets that output (mem_free). Returns the exit
 * code (negative signal). Fails the test on spawn error or timeout.
 */
int e2e_runv(struct e2e *t, char **out, long timeout_ms, const char *path,
             ...);

/* `rack-sim --dir D args...`; asserts exit 0; reloads the state. */
void e2e_sim(struct e2e *t, char **out, ...);

/* `rack-sim --dir D args...`; returns its exit code; reloads the state. */
int e2e_sim_code(struct e2e *t, char **out, ...);

/*
 * The `rack-sim up` flag of the mode RD_E2E_MODE asks for ("tls": --tls,
 * "plaintext": --insecure-plaintext, set per test by tests/cmake/sim.cmake),
 * or NULL (unset: rack-sim's default).
 */
char *e2e_mode_flag(void);

/* "--net=netns" when RD_E2E_NET is "netns" (a scenario's netns run,
 * tests/cmake/sim.cmake), else NULL: the loopback rack. */
char *e2e_net_flag(void);

/* `rack-sim up --sleds N --replicators M --dir D --period 2 [mode]
 * [net] extra...`; asserts the rack runs in that mode and network. */
void e2e_up(struct e2e *t, size_t sleds, size_t repls, ...);

/* tuf-mkrepo --random COUNT:BYTES --seed SEED into D/NAME; returns path. */
char *e2e_mkrepo(struct e2e *t, const char *name, const char *version,
                 unsigned count, unsigned bytes, unsigned seed);

/*
 * `replicator --url <replicator i> --json args...`. Returns the exit code;
 * *out (may be NULL) gets the JSON document of stdout (new reference, or
 * NULL when none could be parsed).
 */
int e2e_repl(struct e2e *t, size_t i, json_t **out, ...);

/* As e2e_repl, asserting exit 0. */
json_t *e2e_repl_ok(struct e2e *t, size_t i, ...);

/* GET the task status of replicator i (new reference; fails on error). */
json_t *e2e_task(struct e2e *t, size_t i);

/* Sled k's entry in a task status document (borrowed; NULL if absent). */
json_t *e2e_task_sled(json_t *st, const struct e2e *t, size_t k);

/* Base URL of replicator i into out. */
void e2e_repl_url(char *out, size_t cap, const struct e2e *t, size_t i);

/*
 * GET /artifact/sha256/HASH from sled k's depot into body, on TLS as
 * replicator 0 (the depot serves sleds and controllers only). Returns
 * as rack_http_get.
 */
int e2e_depot_get(long *status, struct buf *body, struct e2e *t, size_t k,
                  const char *hash, struct err *err);

/* Reload the wanted set from the database. */
void e2e_reload_wanted(struct e2e *t);

/* Sum of metric name on sled k's /metrics (0 if unreachable). */
uint64_t e2e_sled_metric(struct e2e *t, size_t k, const char *name);

/* Sum of metric name over every sled. */
uint64_t e2e_rack_metric(struct e2e *t, const char *name);

/* Exempt one path from invariant 2 (a file corrupted on purpose). */
void e2e_exempt(struct e2e *t, const char *path);

/* Poll every sled once and check invariants 1-3 (fails on violation). */
void e2e_poll(struct e2e *t);

/* Whether every sled of mask answered with exactly the wanted set x2. */
bool e2e_converged(const struct e2e *t, uint64_t mask);

/* Condition for e2e_wait, evaluated after each poll. */
typedef bool (*e2e_cond_fn)(struct e2e *t, void *arg);

/*
 * Poll (every ~250 ms) until cond holds, failing the test with the
 * progress, what, and the directory after timeout_ms. Returns the elapsed
 * milliseconds.
 */
int64_t e2e_wait(struct e2e *t, e2e_cond_fn cond, void *arg, long timeout_ms,
                 const char *what);

/* e2e_wait for e2e_converged(mask). */
int64_t e2e_wait_converged(struct e2e *t, uint64_t mask, long timeout_ms,
                           const char *what);

/*
 * Invariant 4 on the sleds of mask: each existing dataset holds exactly the
 * wanted set, each file hashing to its name, tmp/ empty, nothing else
 * outside trash/ (quarantine/ may hold renamed bad copies). Also invariants
 * 1-3 once more. Fails the test listing the problems.
 */
void e2e_check_final(struct e2e *t, uint64_t mask);

/* Count the files under a final name of dataset which of sled k. */
size_t e2e_dataset_files(struct e2e *t, size_t k, char which);

/* Whether sled k's dataset which holds a file named hex. */
bool e2e_dataset_has(struct e2e *t, size_t k, char which, const char *hex);

/* Path of dataset which of sled k (+ optional name) into out. */
void e2e_path(char *out, size_t cap, const struct e2e *t, size_t k,
              char which, const char *name);

/* Milliseconds since e2e_new. */
int64_t e2e_elapsed(const struct e2e *t);

#endif
