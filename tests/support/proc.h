/* SPDX-License-Identifier: MPL-2.0 */
/*
 * proc: child processes for integration and fault tests. Spawns any binary
 * (by default from $RACKDEPOT_BIN_DIR) with arguments and extra environment
 * through posix_spawn, with stdout and stderr appended to a log file of the
 * test's choosing; signals it (SIGTERM with a timeout then SIGKILL, SIGKILL,
 * SIGSTOP/SIGCONT), tells whether it is alive, reaps it and reports how it
 * ended. Also waits for a JSON "port file" such as the one --port-file
 * writes. A struct proc belongs to the thread that spawned it.
 */
#ifndef TESTS_SUPPORT_PROC_H
#define TESTS_SUPPORT_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct proc;

/*
 * Path of a built binary: $RACKDEPOT_BIN_DIR/name (or ./name when unset).
 * Returns a new string (mem_free) or NULL on ERR_NOMEM.
 */
char *proc_bin_path(const char *name);

/*
 * Start path with argv (argv[0] included, NULL-terminated) and the current
 * environment plus env_extra ("K=V" strings, NULL-terminated, may be NULL;
 * an entry overrides the inherited variable of the same name). stdin is
 * /dev/null; stdout and stderr are appended to log_path (created), or go
 * to /dev/null when log_path is NULL. *out is owned by the caller
 * (proc_free). Returns 0, ERR_NOTFOUND (no such executable), ERR_IO or
 * ERR_NOMEM.
 */
int proc_spawn(struct proc **out, const char *path, char *const argv[],
               char *const env_extra[], const char *log_path);

pid_t proc_pid(const struct proc *p);

/* Whether the child is still running (reaps it if it has exited). */
bool proc_alive(struct proc *p);

/* Send sig to the child if it is still running. 0 or ERR_IO. */
int proc_signal(struct proc *p, int sig);

/*
 * Wait up to timeout_ms for the child to exit and reap it. Returns 0 or
 * ERR_TIMEOUT (still running).
 */
int proc_wait(struct proc *p, long timeout_ms);

/*
 * Graceful stop: SIGCONT (in case it was stopped), SIGTERM, wait up to
 * timeout_ms, then SIGKILL and reap. Returns 0 if it exited after SIGTERM,
 * ERR_TIMEOUT if it had to be killed.
 */
int proc_stop(struct proc *p, long timeout_ms);

/* SIGKILL and reap. Returns 0. */
int proc_kill(struct proc *p);

/*
 * How the reaped child ended: exit status (0..255) when it exited, or
 * -signal when killed by a signal; -1000 while it has not been reaped.
 */
int proc_exit_code(const struct proc *p);

/* Kill (if running) and free. NULL is a no-op. */
void proc_free(struct proc *p);

/*
 * Run path with argv to completion (at most timeout_ms; killed after) with
 * output to log_path. *code_out as proc_exit_code. Returns 0, ERR_TIMEOUT
 * or a proc_spawn error.
 */
int proc_run(int *code_out, const char *path, char *const argv[],
             const char *log_path, long timeout_ms);

/*
 * Wait up to timeout_ms for path to hold a complete JSON object, and return
 * it in *out (new reference). If p is given and exits first, stop early.
 * Returns 0, ERR_TIMEOUT, or ERR_IO (the process exited).
 */
int proc_wait_port_file(json_t **out, const char *path, struct proc *p,
                        long timeout_ms);

#endif
