/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pgembed: a private PostgreSQL cluster in a temporary directory, for
 * tests and rack-sim. Runs initdb and pg_ctl as child processes (as the
 * `postgres` user when we are root, since the server refuses root), with
 * the socket in the cluster directory and no TCP listener. Records the
 * owning pid so a later start can reap clusters of dead owners. Not
 * thread-safe; one thread manages a given server.
 */
#include "sim/pgembed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

#define PGEMBED_ROOT "/tmp/rackdepot-pg"

struct pgembed {
    char dir[PATH_MAX];     /* cluster directory; socket lives here */
    char data[PATH_MAX + 16]; /* dir/data */
    char bindir[PATH_MAX];
    bool drop;              /* run children as postgres */
    uid_t uid;
    gid_t gid;
    bool started;
};

static int find_bindir(char *out, size_t cap, struct err *err)
{
    const char *env = getenv("RACKDEPOT_PG_BINDIR");
    DIR *d = NULL;
    struct dirent *e;
    long best = -1;
    char path[PATH_MAX];
    int rc = 0;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        goto out;
    }
    d = opendir("/usr/lib/postgresql");
    while (d && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);

        if (end == e->d_name || *end || v <= best)
            continue;
        snprintf(path, sizeof(path), "/usr/lib/postgresql/%s/bin/initdb",
                 e->d_name);
        if (access(path, X_OK) == 0)
            best = v;
    }
    if (best < 0) {
        rc = err_set(err, ERR_UNAVAIL, "no PostgreSQL server binaries under "
                     "/usr/lib/postgresql (set RACKDEPOT_PG_BINDIR)");
        goto out;
    }
    snprintf(out, cap, "/usr/lib/postgresql/%ld/bin", best);
out:
    if (d)
        closedir(d);
    return rc;
}

static int find_user(struct pgembed *pg, struct err *err)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    pg->drop = geteuid() == 0;
    if (!pg->drop)
        return 0;
    if (getpwnam_r("postgres", &pw, buf, sizeof(buf), &res) != 0 || !res)
        return err_set(err, ERR_UNAVAIL, "running as root and there is no "
                       "postgres user to run the server as");
    pg->uid = pw.pw_uid;
    pg->gid = pw.pw_gid;
    return 0;
}

/* Last ~200 bytes of a log file, on one line, for error messages. */
static void log_tail(char *out, size_t cap, const char *path)
{
    char buf[201];
    ssize_t n = 0;
    off_t size;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    out[0] = '\0';
    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    if (size > 200)
        lseek(fd, size - 200, SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    snprintf(out, cap, "%s", buf);
}

/*
 * Run argv (argv[0] a path) with stdout/stderr appended to logpath, as
 * postgres when pg->drop, and wait for it. Everything the child needs is
 * prepared before fork (only async-signal-safe calls after it).
 */
static int run(const struct pgembed *pg, char *const argv[],
               const char *logpath, struct err *err)
{
    static char *const envp[] = {"LC_ALL=C", "PATH=/usr/bin:/bin", NULL};
    char tail[240];
    int status = 0;
    pid_t pid = fork();

    if (pid < 0)
        return err_set(err, ERR_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd;

        if (pg->drop && (setgroups(0, NULL) < 0 || setgid(pg->gid) < 0 ||
                         setuid(pg->uid) < 0))
            _exit(126);
        fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        fd = open("/dev/null", O_RDONLY);
        if (fd < 0 || dup2(fd, 0) < 0)
            _exit(126);
        closefrom(3);
        if (chdir(pg->dir) < 0)
            _exit(126);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return err_set(err, ERR_IO, "waitpid: %s", strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    log_tail(tail, sizeof(tail), logpath);
    return err_set(err, ERR_IO, "%s exited with status %d: %s", argv[0],
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail);
}

static void stop_cluster(const struct pgembed *pg)
{
    char ctl[PATH_MAX + 8], log[PATH_MAX + 16];
    char *argv[] = {ctl, "-D", (char *)pg->data, "-m", "immediate", "-w",
                    "-s", "stop", NULL};

    snprintf(ctl, sizeof(ctl), "%s/pg_ctl", pg->bindir);
    snprintf(log, sizeof(log), "%s/pg_ctl.log", pg->dir);
    run(pg, argv, log, NULL);
}

/* Stop and remove root/name if its owner process is gone. */
static void reap_one(const struct pgembed *tmpl, const char *root,
                     const char *name)
{
    struct pgembed pg = *tmpl;
    char path[PATH_MAX + 32];
    char buf[32] = "";
    ssize_t n;
    long pid;
    int fd;

    snprintf(pg.dir, sizeof(pg.dir), "%s/%s", root, name);
    snprintf(path, sizeof(path), "%s/owner.pid", pg.dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* still being created, or not ours */
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    pid = strtol(buf, NULL, 10);
    if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return;
    snprintf(pg.data, sizeof(pg.data), "%s/data", pg.dir);
    if (access(pg.data, F_OK) == 0)
        stop_cluster(&pg);
    (void)fsutil_rmrf(pg.dir);
}

void pgembed_reap_stale(const char *root)
{
    struct pgembed tmpl;
    struct dirent *e;
    DIR *d;

    memset(&tmpl, 0, sizeof(tmpl));
    if (!root)
        root = getenv("RACKDEPOT_PG_ROOT");
    if (!root || !*root)
        root = PGEMBED_ROOT;
    if (find_bindir(tmpl.bindir, sizeof(tmpl.bindir), NULL) < 0 ||
        find_user(&tmpl, NULL) < 0)
        return;
    d = opendir(root);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "pg.", 3) == 0)
            reap_one(&tmpl, root, e->d_name);
    }
    if (d)
        closedir(d);
}

/* Append the server settings to data/postgresql.conf. */
static int configure(const struct pgembed *pg, struct err *err)
{
    char path[PATH_MAX + 32];
    struct buf conf = BUF_INIT;
    int fd = -1;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/postgresql.conf", pg->data);
    if (buf_printf(&conf, "\n# rackdepot pgembed\n"
                   "listen_addresses = ''\n"
                   "unix_socket_directories = '%s'\n"
                   "fsync = off\nfull_page_writes = off\n"
                   "synchronous_commit = off\n"
                   "shared_buffers = 32MB\nmax_connections = 60\n"
                   "max_pred_locks_per_transaction = 256\n", pg->dir) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || write(fd, conf.data, conf.len) != (ssize_t)conf.len)
        rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    buf_release(&conf);
    return rc;
}

static int make_dirs(struct pgembed *pg, const char *root, struct err *err)
{
    char pidbuf[32];
    char path[PATH_MAX + 32];
    int fd = -1;
    int n;

    if (mkdir(root, 0755) < 0 && errno != EEXIST)
        return err_set(err, ERR_IO, "mkdir %s: %s", root, strerror(errno));
    chmod(root, 0755); /* postgres must traverse it */
    snprintf(pg->dir, sizeof(pg->dir), "%s/pg.XXXXXX", root);
    if (!mkdtemp(pg->dir))
        return err_set(err, ERR_IO, "mkdtemp under %s: %s", root,
                       strerror(errno));
    snprintf(pg->data, sizeof(pg->data), "%s/data", pg->dir);
    if (pg->drop && chown(pg->dir, pg->uid, pg->gid) < 0)
        return err_set(err, ERR_IO, "chown %s: %s", pg->dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/owner.pid", pg->dir);
    n = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, pidbuf, (size_t)n) != n) {
        if (fd >= 0)
            close(fd);
        return err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
    }
    close(fd);
    return 0;
}

int pgembed_start(struct pgembed **out, const char *root, struct err *err)
{
    struct pgembed *pg = NULL;
    char exe[PATH_MAX + 8], log[PATH_MAX + 16], slog[PATH_MAX + 16];
    int rc = 0;

    *out = NULL;
    if (!root)
        root = getenv("RACKDEPOT_PG_ROOT");
    if (!root || !*root)
        root = PGEMBED_ROOT;
    pg = mem_calloc(1, sizeof(*pg));
    if (!pg) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = find_bindir(pg->bindir, sizeof(pg->bindir), err);
    if (rc == 0)
        rc = find_user(pg, err);
    if (rc < 0)
        goto out;
    pgembed_reap_stale(root);
    rc = make_dirs(pg, root, err);
    if (rc < 0)
        goto out;
    snprintf(exe, sizeof(exe), "%s/initdb", pg->bindir);
    snprintf(log, sizeof(log), "%s/initdb.log", pg->dir);
    {
        char *argv[] = {exe, "-D", pg->data, "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "-N", NULL};

        rc = run(pg, argv, log, err);
    }
    if (rc == 0)
        rc = configure(pg, err);
    if (rc < 0)
        goto out;
    snprintf(exe, sizeof(exe), "%s/pg_ctl", pg->bindir);
    snprintf(log, sizeof(log), "%s/pg_ctl.log", pg->dir);
    snprintf(slog, sizeof(slog), "%s/server.log", pg->dir);
    {
        char *argv[] = {exe, "-D", pg->data, "-l", slog, "-w", "-t", "60",
                        "-s", "start", NULL};

        rc = run(pg, argv, log, err);
    }
    if (rc < 0) {
        char tail[240];

        log_tail(tail, sizeof(tail), slog);
        rc = err_set(err, ERR_IO, "PostgreSQL did not start: %s", tail);
        goto out;
    }
    pg->started = true;
    *out = pg;
    pg = NULL;
out:
    pgembed_stop(pg);
    return rc;
}

void pgembed_stop(struct pgembed *pg)
{
    if (!pg)
        return;
    if (pg->started || pg->data[0])
        stop_cluster(pg);
    if (pg->dir[0])
        (void)fsutil_rmrf(pg->dir);
    mem_free(pg);
}

int pgembed_halt(struct pgembed *pg, struct err *err)
{
    char ctl[PATH_MAX + 8], log[PATH_MAX + 16];
    char *argv[] = {ctl, "-D", pg->data, "-m", "fast", "-w", "-s", "stop",
                    NULL};

    snprintf(ctl, sizeof(ctl), "%s/pg_ctl", pg->bindir);
    snprintf(log, sizeof(log), "%s/pg_ctl.log", pg->dir);
    return run(pg, argv, log, err);
}

int pgembed_resume(struct pgembed *pg, struct err *err)
{
    char ctl[PATH_MAX + 8], log[PATH_MAX + 16], slog[PATH_MAX + 16];
    char *argv[] = {ctl, "-D", pg->data, "-l", slog, "-w", "-t", "60", "-s",
                    "start", NULL};

    snprintf(ctl, sizeof(ctl), "%s/pg_ctl", pg->bindir);
    snprintf(log, sizeof(log), "%s/pg_ctl.log", pg->dir);
    snprintf(slog, sizeof(slog), "%s/server.log", pg->dir);
    return run(pg, argv, log, err);
}

const char *pgembed_socket_dir(const struct pgembed *pg)
{
    return pg->dir;
}

int pgembed_conninfo(char **out, const struct pgembed *pg, const char *dbname,
                     struct err *err)
{
    struct buf b = BUF_INIT;

    *out = NULL;
    if (buf_printf(&b, "host=%s dbname=%s user=postgres", pg->dir,
                   dbname) < 0) {
        buf_release(&b);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    *out = buf_take(&b);
    return 0;
}

static bool ident_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return false;
    }
    return i > 0 && i <= 63;
}

int pgembed_create_db(struct pgembed *pg, const char *name, struct err *err)
{
    struct buf sql = BUF_INIT;
    char *conninfo = NULL;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    int rc = 0;

    if (!ident_ok(name)) {
        rc = err_set(err, ERR_INVAL, "bad database name %s", name);
        goto out;
    }
    rc = pgembed_conninfo(&conninfo, pg, "postgres", err);
    if (rc < 0)
        goto out;
    conn = PQconnectdb(conninfo);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        rc = err_set(err, ERR_DB, "connect to %s: %s", pg->dir,
                     conn ? PQerrorMessage(conn) : "out of memory");
        goto out;
    }
    /* An identifier cannot be a parameter; name was checked above. */
    if (buf_printf(&sql, "CREATE DATABASE %s", name) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    res = PQexec(conn, sql.data);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = err_set(err, ERR_DB, "create database %s: %s", name,
                     PQerrorMessage(conn));
out:
    PQclear(res);
    if (conn)
        PQfinish(conn);
    mem_free(conninfo);
    buf_release(&sql);
    return rc;
}
