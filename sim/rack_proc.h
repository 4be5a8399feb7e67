/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_proc: rack-sim's process management. Starts a binary in its own
 * process group with stdout/stderr appended to a log file (never the
 * caller's terminal or pipes), optionally with PR_SET_PDEATHSIG(SIGKILL)
 * set in the child before exec (foreground racks: the demo and tests);
 * tells whether a recorded process is still the one we started (pid plus
 * its /proc start time, so a recycled pid is never signalled); stops one
 * (SIGCONT, SIGTERM, then SIGKILL after a timeout) and waits for JSON port
 * files. Also the "guard": a small process forked at the start of `up`
 * that kills everything `up` started if `up` dies before it finished.
 * Single-threaded (the rack-sim main thread).
 */
#ifndef SIM_RACK_PROC_H
#define SIM_RACK_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct err;

/*
 * Start argv[0] (a path) with argv, stdin /dev/null, output appended to
 * log_path, in a new process group; with pdeath, the child gets SIGKILL
 * when rack-sim dies. *out is its pid. Errors: ERR_NOTFOUND (exec failed:
 * no such binary), ERR_IO (fork/log trouble).
 */
int rack_proc_spawn(pid_t *out, char *const argv[], const char *log_path,
                    bool pdeath, struct err *err);

/* As rack_proc_spawn, the child joining network namespace netns (a name
 * under /run/netns; NULL: stay) before exec. */
int rack_proc_spawn_ns(pid_t *out, char *const argv[], const char *log_path,
                       bool pdeath, const char *netns, struct err *err);

/* Start time of pid (clock ticks since boot, from /proc), 0 if gone. */
uint64_t rack_proc_starttime(pid_t pid);

/*
 * Whether pid is running (not a zombie) and, when start != 0, is still the
 * process that had that start time. Reaps it if it is our own zombie.
 */
bool rack_proc_alive(pid_t pid, uint64_t start);

/*
 * Send sig to pid's process group and pid, if rack_proc_alive(pid, start).
 * Returns 0, or ERR_NOTFOUND when the process is not running.
 */
int rack_proc_signal(pid_t pid, uint64_t start, int sig);

/*
 * SIGCONT + SIGTERM, wait up to timeout_ms, then SIGKILL and wait up to
 * 5 s more. Returns 0 when it is gone (or was already), ERR_TIMEOUT if it
 * survived SIGKILL (a D-state process).
 */
int rack_proc_stop(pid_t pid, uint64_t start, long timeout_ms);

/* SIGKILL and wait until gone (up to 5 s). As rack_proc_stop. */
int rack_proc_kill(pid_t pid, uint64_t start);

/*
 * Wait up to timeout_ms for path to hold a complete JSON object, giving up
 * early if pid exits. *out is a new reference. Errors: ERR_TIMEOUT, ERR_IO
 * (the process exited; message names log_hint, the log to read).
 */
int rack_proc_wait_port_file(json_t **out, const char *path, pid_t pid,
                             const char *log_hint, long timeout_ms,
                             struct err *err);

/* Monotonic milliseconds. */
int64_t rack_now_ms(void);

/* Sleep ms milliseconds (restarting on EINTR unless rack_interrupted()). */
void rack_sleep_ms(long ms);

/* Whether SIGINT/SIGTERM arrived since rack_proc_catch_signals(). */
bool rack_interrupted(void);

/* Install SIGINT/SIGTERM/SIGHUP handlers that set rack_interrupted(). */
void rack_proc_catch_signals(void);

/*
 * Fork the guard for rack directory dir: it ignores terminal signals and
 * waits on a pipe. If rack-sim exits without rack_guard_disarm(), the
 * guard SIGKILLs every pid given to rack_guard_track() (and its group) and
 * stops every PostgreSQL postmaster found under dir/pg. Errors: ERR_IO.
 */
int rack_guard_start(const char *dir, struct err *err);

/* Tell the guard about a process to kill on abort. No-op without guard.
 * Async-signal-safe: rack_proc_spawn's child calls it on itself before
 * exec, so no spawned process is ever unknown to the guard. */
void rack_guard_track(pid_t pid);

/* The rack is up and recorded: the guard exits without killing. */
void rack_guard_disarm(void);

/*
 * Stop the postmaster whose pid is in datadir/postmaster.pid: SIGINT (fast
 * shutdown), SIGQUIT after timeout_ms, SIGKILL after as long again.
 * Returns 0 (also when none runs) or ERR_TIMEOUT.
 */
int rack_pg_stop_dir(const char *datadir, long timeout_ms);

/* Pid in datadir/postmaster.pid, 0 when there is none. */
pid_t rack_pg_pid(const char *datadir);

#endif
