/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agentproc: one sledagent under test. Owns a unique temp directory with
 * the two datasets (A/ and B/), the port file and the agent log (appended
 * across restarts, so a failing test can print its tail). Starts
 * $RACKDEPOT_BIN_DIR/sledagent on 127.0.0.1 port 0 for both listeners and
 * reads the bound ports back from --port-file; stops (SIGTERM, then
 * SIGKILL), kills, restarts keeping the datasets, and tears everything
 * down. Also the small agent-API calls every agent test makes (put config,
 * put artifact, list) and the check of DESIGN.md invariant 2 on disk.
 * Set RD_KEEP_TEST_DIRS=1 to keep the directory after the test.
 * One thread at a time.
 */
#ifndef TESTS_SUPPORT_AGENTPROC_H
#define TESTS_SUPPORT_AGENTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct agentproc;
struct err;
struct http_client_resp;
struct proc;

/*
 * Create the agent's directory (datasets A/ and B/ created) without
 * starting it. extra_args (NULL-terminated, may be NULL) are appended to
 * the command line at every start; they are copied. Returns 0, ERR_IO or
 * ERR_NOMEM.
 */
int agentproc_new(struct agentproc **out, const char *const *extra_args);

/*
 * Start the agent with open-file limit n, soft and hard (through
 * /usr/bin/prlimit, which execs the agent in place); 0: inherit ours.
 */
void agentproc_set_nofile(struct agentproc *a, unsigned n);

/* Replace the extra arguments used by the next start. 0 or ERR_NOMEM. */
int agentproc_set_args(struct agentproc *a, const char *const *extra_args);

/*
 * Start the agent and wait (up to 60 s) for its port file; afterwards the
 * URLs are valid. On failure the log tail is printed. Returns 0,
 * ERR_NOTFOUND (binary missing), ERR_IO (it exited), ERR_TIMEOUT.
 */
int agentproc_start(struct agentproc *a);

/*
 * SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the agent's exit
 * code as proc_exit_code (0 after a clean shutdown), or -1000 when it was
 * not running.
 */
int agentproc_stop(struct agentproc *a, long timeout_ms);

/* SIGKILL and reap (a crash at an arbitrary instant). */
void agentproc_kill(struct agentproc *a);

/* Stop (SIGTERM, 20 s) and start again with the same datasets. */
int agentproc_restart(struct agentproc *a);

/* Kill if running, remove the directory (unless RD_KEEP_TEST_DIRS), free. */
void agentproc_free(struct agentproc *a);

/* Print the end of the agent log to stderr. */
void agentproc_print_log(const struct agentproc *a);

/* Borrowed getters, valid while a lives. */
const char *agentproc_dir(const struct agentproc *a);
const char *agentproc_dataset(const struct agentproc *a, int i); /* 0=A 1=B */
const char *agentproc_log_path(const struct agentproc *a);
const char *agentproc_api_url(const struct agentproc *a);   /* http://127.0.0.1:P */
const char *agentproc_depot_url(const struct agentproc *a); /* http://127.0.0.1:Q */
int agentproc_api_port(const struct agentproc *a);
int agentproc_depot_port(const struct agentproc *a);
struct proc *agentproc_proc(struct agentproc *a); /* NULL when not started */
bool agentproc_alive(struct agentproc *a);

/*
 * Path of file name under dataset i; a new string (mem_free), NULL on
 * ERR_NOMEM.
 */
char *agentproc_path(const struct agentproc *a, int i, const char *name);

/*
 * PUT /artifacts-config {"generation": gen, "artifacts": hexes[0..n)}.
 * Returns the HTTP status, or -1 if no response arrived.
 */
long agentproc_put_config(struct agentproc *a, uint64_t gen,
                          const char *const *hexes, size_t n);

/*
 * PUT /artifacts/{hex}?generation=gen with data. resp (may be NULL)
 * receives the response (caller releases). Returns the status or -1.
 */
long agentproc_put_artifact(struct agentproc *a, const char *hex,
                            uint64_t gen, const void *data, size_t len,
                            struct http_client_resp *resp);

/*
 * GET /artifacts. On 200 *out is the parsed body (new reference, may be
 * NULL on bad JSON); otherwise *out is NULL. Returns the status or -1.
 */
long agentproc_list(struct agentproc *a, json_t **out);

/*
 * Count of hex in GET /artifacts "list" (0 when absent), or -1 when the
 * list could not be fetched.
 */
long agentproc_count(struct agentproc *a, const char *hex);

/*
 * DESIGN.md invariant 2 on disk: every file directly under either dataset
 * whose name is 64 lowercase hex has exactly that sha256. Missing dataset
 * directories are skipped. *files_out (may be NULL) gets the number of such
 * files. Returns 0 or ERR_VERIFY (err names the file), ERR_IO, ERR_NOMEM.
 */
int agentproc_check_files(const struct agentproc *a, long *files_out,
                          struct err *err);

/*
 * Check the DESIGN.md section 2 error shape of resp: JSON object with
 * string "request_id" (equal to the x-request-id header) and "message",
 * and "error_code" a string when present. Returns 0 or ERR_VERIFY with
 * err saying what is wrong.
 */
int agentproc_check_error(const struct http_client_resp *resp,
                          struct err *err);

/*
 * cmocka fixture: one started agent per test. The prestate (may be NULL)
 * is the NULL-terminated extra argument list. *state becomes a struct
 * agentproc_fixture; call agentproc_fixture_passed() at the end of the
 * test body so the teardown prints the agent log only for failed tests.
 */
struct agentproc_fixture {
    struct agentproc *a;
    struct agentproc *b; /* a second agent some tests start themselves */
    bool passed;
};

int agentproc_fixture_setup(void **state);
int agentproc_fixture_teardown(void **state);

#endif
