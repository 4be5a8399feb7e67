/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_proc: spawning, observing and stopping the rack's processes, and
 * the guard that cleans up after an `up` or `demo` that died. See
 * rack_proc.h. Main thread only.
 */
#include "sim/rack_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "sim/rack_net.h"

#define GUARD_MAX_PIDS 1024

static volatile sig_atomic_t interrupted;
static int guard_fd = -1;

int64_t rack_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rack_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !interrupted)
        ;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

bool rack_interrupted(void)
{
    return interrupted != 0;
}

void rack_proc_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Child side of rack_proc_spawn: only async-signal-safe calls. */
static void child(char *const argv[], const char *log_path, bool pdeath,
                  const char *netns, pid_t parent, int report_fd)
{
    sigset_t none;
    int fd, e, rfd = report_fd;

    /* Tracked by the child itself, before anything else: a rack-sim
     * killed between fork() and the parent's next step must not leave an
     * untracked child (the guard reads until this copy of the pipe closes
     * at exec, so it sees this pid even after rack-sim is gone). */
    rack_guard_track(getpid());
    setpgid(0, 0);
    if (pdeath) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* rack-sim died before prctl */
    }
    if (netns && rack_net_enter(netns) < 0)
        goto fail;
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        goto fail;
    fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0)
        goto fail;
    if (dup2(report_fd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    rfd = 3;
    closefrom(4);
    execv(argv[0], argv);
fail:
    e = errno;
    (void)!write(rfd, &e, sizeof(e));
    _exit(127);
}

int rack_proc_spawn(pid_t *out, char *const argv[], const char *log_path,
                    bool pdeath, struct err *err)
{
    return rack_proc_spawn_ns(out, argv, log_path, pdeath, NULL, err);
}

int rack_proc_spawn_ns(pid_t *out, char *const argv[], const char *log_path,
                       bool pdeath, const char *netns, struct err *err)
{
    pid_t parent = getpid(), pid;
    int p[2], e = 0;
    ssize_t n;

    *out = 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_set(err, ERR_IO, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(p[0]);
        close(p[1]);
        return err_set(err, ERR_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(p[0]);
        child(argv, log_path, pdeath, netns, parent, p[1]);
    }
    close(p[1]);
    /* Also set it from the parent: no window where a signal to the
     * group of rack-sim reaches the child. */
    setpgid(pid, pid);
    do {
        n = read(p[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(pid, NULL, 0);
        return err_set(err, e == ENOENT ? ERR_NOTFOUND : ERR_IO,
                       "cannot start %s: %s", argv[0], strerror(e));
    }
    *out = pid;
    return 0;
}

/* State letter and start time from /proc/pid/stat. */
static int read_stat(pid_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    char *p;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    /* state is field 3; starttime is field 22. */
    for (field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p)
        return -1;
    *start = strtoull(p, NULL, 10);
    return 0;
}

uint64_t rack_proc_starttime(pid_t pid)
{
    char st;
    uint64_t start = 0;

    if (pid <= 0 || read_stat(pid, &st, &start) < 0)
        return 0;
    return start;
}

bool rack_proc_alive(pid_t pid, uint64_t start)
{
    char st = 0;
    uint64_t s = 0;

    if (pid <= 0)
        return false;
    if (read_stat(pid, &st, &s) < 0)
        return false;
    if (st == 'Z' || st == 'X') {
        waitpid(pid, NULL, WNOHANG); /* ours: reap it */
        return false;
    }
    return start == 0 || s == start;
}

int rack_proc_signal(pid_t pid, uint64_t start, int sig)
{
    if (!rack_proc_alive(pid, start))
        return ERR_NOTFOUND;
    kill(-pid, sig);
    kill(pid, sig);
    return 0;
}

static bool wait_gone(pid_t pid, uint64_t start, long timeout_ms)
{
    int64_t deadline = rack_now_ms() + timeout_ms;

    while (rack_proc_alive(pid, start)) {
        if (rack_now_ms() >= deadline)
            return false;
        rack_sleep_ms(20);
    }
    return true;
}

int rack_proc_stop(pid_t pid, uint64_t start, long timeout_ms)
{
    if (!rack_proc_alive(pid, start))
        return 0;
    rack_proc_signal(pid, start, SIGCONT);
    rack_proc_signal(pid, start, SIGTERM);
    if (wait_gone(pid, start, timeout_ms))
        return 0;
    return rack_proc_kill(pid, start);
}

int rack_proc_kill(pid_t pid, uint64_t start)
{
    rack_proc_signal(pid, start, SIGKILL);
    return wait_gone(pid, start, 5000) ? 0 : ERR_TIMEOUT;
}

int rack_proc_wait_port_file(json_t **out, const char *path, pid_t pid,
                             const char *log_hint, long timeout_ms,
                             struct err *err)
{
    int64_t deadline = rack_now_ms() + timeout_ms;
    char buf[4096];

    *out = NULL;
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);

            close(fd);
            if (n > 0) {
                json_t *v = json_loadb(buf, (size_t)n, 0, NULL);

                if (v && json_is_object(v)) {
                    *out = v;
                    return 0;
                }
                json_decref(v); /* partly written: retry */
            }
        }
        if (pid > 0 && !rack_proc_alive(pid, 0))
            return err_set(err, ERR_IO, "process %ld exited before writing "
                           "%s (see %s)", (long)pid, path,
                           log_hint ? log_hint : "its log");
        if (rack_now_ms() >= deadline)
            return err_set(err, ERR_TIMEOUT, "no port file %s after %ld ms "
                           "(see %s)", path, timeout_ms,
                           log_hint ? log_hint : "its log");
        rack_sleep_ms(20);
    }
}

/* ---- PostgreSQL postmaster -------------------------------------------- */

pid_t rack_pg_pid(const char *datadir)
{
    char path[PATH_MAX], buf[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/postmaster.pid", datadir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (pid_t)strtol(buf, NULL, 10);
}

int rack_pg_stop_dir(const char *datadir, long timeout_ms)
{
    pid_t pid = rack_pg_pid(datadir);
    uint64_t start = rack_proc_starttime(pid);

    if (pid <= 0 || !start)
        return 0;
    kill(pid, SIGINT);
    if (wait_gone(pid, start, timeout_ms))
        return 0;
    kill(pid, SIGQUIT);
    if (wait_gone(pid, start, timeout_ms))
        return 0;
    kill(pid, SIGKILL);
    return wait_gone(pid, start, 5000) ? 0 : ERR_TIMEOUT;
}

/* ---- guard --------------------------------------------------------------- */

/* Stop every cluster under dir/pg (pgembed: dir/pg/pg.XXXXXX/data) and
 * dir/dbha (rack_dbha). */
static void guard_stop_pg(const char *dir)
{
    char root[PATH_MAX], data[PATH_MAX + 300];
    struct dirent *e;
    DIR *d;

    snprintf(root, sizeof(root), "%s/pg", dir);
    d = opendir(root);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "pg.", 3) != 0)
            continue;
        snprintf(data, sizeof(data), "%s/%s/data", root, e->d_name);
        rack_pg_stop_dir(data, 3000);
    }
    if (d)
        closedir(d);
    /* --db-ha: the monitor's and the nodes' clusters (rack_dbha). */
    for (size_t i = 0; i < 3; i++) {
        static const char *const n[] = {"monitor", "node1", "node2"};

        snprintf(data, sizeof(data), "%s/dbha/%s", dir, n[i]);
        rack_pg_stop_dir(data, 3000);
    }
}

static void guard_main(const char *dir, int fd)
{
    static pid_t pids[GUARD_MAX_PIDS];
    static uint64_t starts[GUARD_MAX_PIDS];
    size_t npids = 0;
    char c;
    int dn;

    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    dn = open("/dev/null", O_RDWR);
    if (dn >= 0) {
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(dn, 2);
    }
    for (;;) {
        int32_t pid;
        ssize_t n = read(fd, &c, 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* rack-sim is gone without disarming */
        if (c == 'D')
            _exit(0);
        if (c != 'P' || read(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
            continue;
        if (npids < GUARD_MAX_PIDS) {
            pids[npids] = (pid_t)pid;
            starts[npids] = rack_proc_starttime((pid_t)pid);
            npids++;
        }
    }
    for (size_t i = 0; i < npids; i++)
        rack_proc_signal(pids[i], starts[i], SIGKILL);
    guard_stop_pg(dir);
    _exit(0);
}

int rack_guard_start(const char *dir, struct err *err)
{
    int p[2];
    pid_t pid;

    if (guard_fd >= 0)
        return 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_set(err, ERR_IO, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return err_set(err, ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(p[1]);
        /* Double fork: the guard is nobody's child to wait for. */
        if (fork() != 0)
            _exit(0);
        guard_main(dir, p[0]);
    }
    close(p[0]);
    waitpid(pid, NULL, 0);
    guard_fd = p[1];
    return 0;
}

void rack_guard_track(pid_t pid)
{
    char msg[1 + sizeof(int32_t)];
    int32_t v = (int32_t)pid;

    if (guard_fd < 0)
        return;
    msg[0] = 'P';
    memcpy(msg + 1, &v, sizeof(v));
    (void)!write(guard_fd, msg, sizeof(msg));
}

void rack_guard_disarm(void)
{
    if (guard_fd < 0)
        return;
    (void)!write(guard_fd, "D", 1);
    close(guard_fd);
    guard_fd = -1;
}
