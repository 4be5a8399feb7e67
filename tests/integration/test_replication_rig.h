/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_replication_rig: the shared rig of the reconciliation task's
 * integration and fault tests: a private PostgreSQL database migrated to
 * the latest schema, one or two task instances (task_harness, port 0,
 * periodic activation off unless a test passes its own flags), real
 * sledagents registering themselves with a stable id, repositories staged
 * as ingest does (recorded, then handed over with a manifest), and the
 * checks (activate and wait, converge, every sled holds exactly a set).
 * Test-process only.
 */
#ifndef TESTS_INTEGRATION_TEST_REPLICATION_RIG_H
#define TESTS_INTEGRATION_TEST_REPLICATION_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/sha256.h"

#define MAX_AGENTS 8
#define ART_LEN (48 * 1024)
#define HEX_LEN (SHA256_HEX_LEN + 1)

struct agentproc;
struct db;
struct proc;
struct staging;

struct inst {
    char *dir;           /* staging */
    char *log;
    char url[64];
    struct proc *p;
    struct staging *st;
};

struct rig {
    char *conninfo;
    struct db *db;
    char *tmp;
    struct inst in[2];
    size_t n_inst;
    struct agentproc *a[MAX_AGENTS];
    size_t n;
    bool passed;
};

struct sleds_arg {
    const char *url;
    size_t want;
};

struct hold_arg {
    struct rig *g;
    char (*hex)[HEX_LEN];
    size_t n;
};

/* Start task instance `in` named name (staging dir, log, port file) with
 * --no-periodic --copy-stall 20 and extra flags (NULL-terminated). 0 or
 * -1 (the log tail is printed). */
int rig_inst_start(struct rig *g, struct inst *in, const char *name,
                   const char *const *extra);
/* Stop (SIGTERM, then wait) and free an instance. */
void rig_inst_stop(struct inst *in);
/* Start sledagent i (stable id ...-00000000000{i+1}) registering with
 * instance 0, with up to two extra arguments (NULL: none). */
int rig_agent_start(struct rig *g, size_t i);
int rig_agent_start_args(struct rig *g, size_t i, const char *x1,
                         const char *x2);
/* Same with up to 11 extra arguments (NULL-terminated; NULL: none). */
int rig_agent_start_argv(struct rig *g, size_t i, const char *const *extra);
/* GET base+path: the 200 body as JSON (new reference) or NULL. */
json_t *rig_get_json(const char *base, const char *path);
/* POST base+path, no body: status in *code, JSON reply or NULL. */
json_t *rig_post_json(const char *base, const char *path, long *code);
/* testutil_wait_for condition: the registry lists >= want sleds. */
bool rig_sleds_registered(void *p);
/* Database, instance 0 with extra flags, n_agents registered agents. */
void rig_up(struct rig *g, size_t n_agents, const char *const *extra);
/* Print logs unless passed, stop everything, remove the directory. */
void rig_down(struct rig *g);
/* Record repo version with one artifact per seed (ART_LEN or len bytes
 * of testutil_pattern) and stage it into instance inst; hex gets the
 * hashes. */
void rig_stage_repo(struct rig *g, size_t inst, const char *version,
                    const uint64_t *seeds, size_t n, char (*hex)[HEX_LEN]);
void rig_stage_repo_len(struct rig *g, size_t inst, const char *version,
                        const uint64_t *seeds, size_t n,
                        char (*hex)[HEX_LEN], size_t len);
/* Record repo version in the database only: staged nowhere (lost). */
void rig_record_repo(struct rig *g, const char *version,
                     const uint64_t *seeds, size_t n, char (*hex)[HEX_LEN]);
/* POST activate?wait=1 on instance inst: the run summary. */
json_t *rig_activate(struct rig *g, size_t inst);
/* Activate until a run reports converged: the number of runs or -1. */
int rig_converge(struct rig *g, size_t inst, int max);
/* Agent a lists exactly hex[0..n) with count 2 and holds 2n files. */
bool rig_holds_exactly(struct agentproc *a, char (*hex)[HEX_LEN], size_t n);
/* Every started agent of the rig does. */
bool rig_all_hold(struct rig *g, char (*hex)[HEX_LEN], size_t n);
/* testutil_wait_for form of rig_all_hold (struct hold_arg). */
bool rig_all_hold_cond(void *p);
/*
 * Wait (RIG_HOLD_WAIT_MS at most) until every started agent holds exactly
 * hex, or agent a alone does. A converged run may end with copies its
 * plan counted as in progress (202 accepted, not finished): a check right
 * after rig_converge polls for them instead of racing them.
 */
#define RIG_HOLD_WAIT_MS 20000
bool rig_wait_all_hold(struct rig *g, char (*hex)[HEX_LEN], size_t n);
bool rig_wait_holds_exactly(struct agentproc *a, char (*hex)[HEX_LEN],
                            size_t n);
/* The task status of instance inst (asserted non-NULL). */
json_t *rig_status(struct rig *g, size_t inst);
/* status[which][k] as an integer. */
uint64_t rig_counter(const json_t *st, const char *which, const char *k);
/* Repos staged in instance inst. */
size_t rig_staged_count(struct rig *g, size_t inst);
/* Run `task_harness cli --url <inst 0> a1 a2 a3`: its exit code. */
int rig_cli(struct rig *g, const char *a1, const char *a2, const char *a3);
/* cmocka group and per-test fixtures (state: struct rig *). */
int rig_group_setup(void **state);
int rig_group_teardown(void **state);
int rig_setup(void **state);
int rig_teardown(void **state);
/* The rig's PostgreSQL (after rig_group_setup). */
struct pg *rig_pg_get(void);
/* Whether the file at path contains needle (a log check). */
bool rig_file_contains(const char *path, const char *needle);

#endif
