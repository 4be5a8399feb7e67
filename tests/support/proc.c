/* SPDX-License-Identifier: MPL-2.0 */
/*
 * proc: spawn, signal, reap and observe child processes for tests, and
 * wait for their JSON port files. See proc.h.
 */
#include "tests/support/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "tests/support/testutil.h"

extern char **environ;

#define PROC_NOT_REAPED (-1000)

struct proc {
    pid_t pid;
    bool reaped;
    int code;
};

char *proc_bin_path(const char *name)
{
    const char *dir = getenv("RACKDEPOT_BIN_DIR");

    return testutil_join(dir && *dir ? dir : ".", name);
}

/* Environment = inherited minus the names env_extra overrides, plus extra. */
static char **build_env(char *const env_extra[])
{
    size_t n_env = 0, n_extra = 0, k = 0;
    char **env;

    while (environ[n_env])
        n_env++;
    while (env_extra && env_extra[n_extra])
        n_extra++;
    env = mem_calloc(n_env + n_extra + 1, sizeof(*env));
    if (!env)
        return NULL;
    for (size_t i = 0; i < n_env; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name_len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = false;

        for (size_t j = 0; j < n_extra; j++) {
            if (!strncmp(env_extra[j], environ[i], name_len) &&
                env_extra[j][name_len] == '=')
                overridden = true;
        }
        if (!overridden)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++)
        env[k++] = env_extra[j];
    env[k] = NULL;
    return env;
}

int proc_spawn(struct proc **out, const char *path, char *const argv[],
               char *const env_extra[], const char *log_path)
{
    posix_spawn_file_actions_t fa;
    struct proc *p = NULL;
    char **env = NULL;
    bool fa_ready = false;
    int fd = -1;
    int rc = 0;
    int r;

    *out = NULL;
    if (access(path, X_OK) < 0)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    p = mem_calloc(1, sizeof(*p));
    env = build_env(env_extra);
    if (!p || !env) {
        rc = ERR_NOMEM;
        goto out;
    }
    fd = open(log_path ? log_path : "/dev/null",
              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ERR_IO;
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = ERR_NOMEM;
        goto out;
    }
    fa_ready = true;
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
        posix_spawn_file_actions_adddup2(&fa, fd, 1) ||
        posix_spawn_file_actions_adddup2(&fa, fd, 2)) {
        rc = ERR_NOMEM;
        goto out;
    }
    r = posix_spawn(&p->pid, path, &fa, NULL, argv, env);
    if (r != 0) {
        rc = r == ENOENT ? ERR_NOTFOUND : ERR_IO;
        goto out;
    }
    p->code = PROC_NOT_REAPED;
    *out = p;
    p = NULL;
out:
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (fd >= 0)
        close(fd);
    mem_free(env);
    mem_free(p);
    return rc;
}

pid_t proc_pid(const struct proc *p)
{
    return p->pid;
}

static void record(struct proc *p, int status)
{
    p->reaped = true;
    if (WIFEXITED(status))
        p->code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        p->code = -WTERMSIG(status);
    else
        p->code = -1;
}

/* Reap without blocking. True if reaped (now or before). */
static bool try_reap(struct proc *p)
{
    int status;
    pid_t r;

    if (p->reaped)
        return true;
    do {
        r = waitpid(p->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        record(p, status);
        return true;
    }
    if (r < 0) {
        /* Someone else reaped it; treat as gone. */
        p->reaped = true;
        p->code = -1;
        return true;
    }
    return false;
}

bool proc_alive(struct proc *p)
{
    return !try_reap(p);
}

int proc_signal(struct proc *p, int sig)
{
    if (try_reap(p))
        return 0;
    return kill(p->pid, sig) < 0 ? ERR_IO : 0;
}

static bool reaped_cond(void *arg)
{
    return try_reap(arg);
}

int proc_wait(struct proc *p, long timeout_ms)
{
    return testutil_wait_for(reaped_cond, p, timeout_ms) ? 0 : ERR_TIMEOUT;
}

int proc_kill(struct proc *p)
{
    int status;
    pid_t r;

    if (p->reaped)
        return 0;
    (void)kill(p->pid, SIGKILL);
    do {
        r = waitpid(p->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        record(p, status);
    } else {
        p->reaped = true;
        p->code = -1;
    }
    return 0;
}

int proc_stop(struct proc *p, long timeout_ms)
{
    if (try_reap(p))
        return 0;
    (void)kill(p->pid, SIGCONT);
    (void)kill(p->pid, SIGTERM);
    if (proc_wait(p, timeout_ms) == 0)
        return 0;
    proc_kill(p);
    return ERR_TIMEOUT;
}

int proc_exit_code(const struct proc *p)
{
    return p->reaped ? p->code : PROC_NOT_REAPED;
}

void proc_free(struct proc *p)
{
    if (!p)
        return;
    proc_kill(p);
    mem_free(p);
}

int proc_run(int *code_out, const char *path, char *const argv[],
             const char *log_path, long timeout_ms)
{
    struct proc *p = NULL;
    int rc = proc_spawn(&p, path, argv, NULL, log_path);

    *code_out = PROC_NOT_REAPED;
    if (rc < 0)
        return rc;
    rc = proc_wait(p, timeout_ms);
    if (rc < 0)
        proc_kill(p);
    *code_out = proc_exit_code(p);
    proc_free(p);
    return rc;
}

int proc_wait_port_file(json_t **out, const char *path, struct proc *p,
                        long timeout_ms)
{
    int64_t deadline = testutil_now_ms() + timeout_ms;

    *out = NULL;
    for (;;) {
        char *data = NULL;
        size_t len = 0;

        if (testutil_read_file(&data, &len, path) == 0 && len > 0) {
            /* The writer may not be atomic: retry until it parses. */
            json_t *v = json_loadb(data, len, 0, NULL);

            mem_free(data);
            if (v && json_is_object(v)) {
                *out = v;
                return 0;
            }
            json_decref(v);
        } else {
            mem_free(data);
        }
        if (p && !proc_alive(p))
            return ERR_IO;
        if (testutil_now_ms() >= deadline)
            return ERR_TIMEOUT;
        testutil_sleep_ms(20);
    }
}
