/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_db: database snapshots and restores with pg_dump/pg_restore, and a
 * psql runner. See rack_db.h. Main thread only.
 */
#include "sim/rack_db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define DB_NAME "rackdepot"
#define DB_TIMEOUT_MS 120000

int rack_pg_bindir(char *out, size_t cap, struct err *err)
{
    const char *env = getenv("RACKDEPOT_PG_BINDIR");
    struct dirent *e;
    long best = -1;
    DIR *d;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    d = opendir("/usr/lib/postgresql");
    while (d && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);

        if (end != e->d_name && !*end && v > best)
            best = v;
    }
    if (d)
        closedir(d);
    if (best < 0)
        return err_set(err, ERR_UNAVAIL, "no PostgreSQL under "
                       "/usr/lib/postgresql (set RACKDEPOT_PG_BINDIR)");
    snprintf(out, cap, "/usr/lib/postgresql/%ld/bin", best);
    return 0;
}

/* The socket directory: the parent of the data directory. */
static void sock_dir(char *out, size_t cap, const struct rack *r)
{
    char *slash;

    snprintf(out, cap, "%s", r->pgdata);
    slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

static bool name_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c == '.' && i > 0)))
            return false;
    }
    return i > 0 && i <= 64;
}

static int run_tool(const struct rack *r, const char *tool, char **args,
                    const char *log, struct err *err)
{
    char bin[PATH_MAX + 16], dir[PATH_MAX], sock[PATH_MAX];
    char *argv[24];
    int rc, code = 0, n = 0;

    rc = rack_pg_bindir(dir, sizeof(dir), err);
    if (rc < 0)
        return rc;
    snprintf(bin, sizeof(bin), "%s/%s", dir, tool);
    sock_dir(sock, sizeof(sock), r);
    argv[n++] = bin;
    if (r->db_ha) { /* the multi-host URL: whichever node is primary */
        argv[n++] = "-d";
        argv[n++] = (char *)r->conninfo;
    } else {
        argv[n++] = "-h";
        argv[n++] = sock;
        argv[n++] = "-U";
        argv[n++] = "postgres";
        argv[n++] = "-d";
        argv[n++] = DB_NAME;
    }
    for (; *args && n < 22; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    rc = rack_run(&code, argv, log, DB_TIMEOUT_MS, err);
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "%s exited with status %d (see %s)", tool,
                     code, log);
    return rc;
}

int rack_db_snapshot(const struct rack *r, const char *name, struct err *err)
{
    char dir[PATH_MAX], file[PATH_MAX + 80], log[PATH_MAX + 32];
    int rc;

    if (!name_ok(name))
        return err_set(err, ERR_INVAL, "bad snapshot name %s", name);
    snprintf(dir, sizeof(dir), "%s/db-snapshots", r->dir);
    rc = rack_mkdirs(dir, err);
    if (rc < 0)
        return rc;
    snprintf(file, sizeof(file), "%s/%s.dump", dir, name);
    snprintf(log, sizeof(log), "%s/db.log", r->dir);
    {
        char *args[] = {"-Fc", "-f", file, NULL};

        return run_tool(r, "pg_dump", args, log, err);
    }
}

int rack_db_restore(const struct rack *r, const char *name, struct err *err)
{
    char file[PATH_MAX + 80], log[PATH_MAX + 32];

    if (!name_ok(name))
        return err_set(err, ERR_INVAL, "bad snapshot name %s", name);
    snprintf(file, sizeof(file), "%s/db-snapshots/%s.dump", r->dir, name);
    if (access(file, R_OK) < 0)
        return err_set(err, ERR_NOTFOUND, "no snapshot %s (%s)", name, file);
    snprintf(log, sizeof(log), "%s/db.log", r->dir);
    {
        char *args[] = {"--clean", "--if-exists", "--single-transaction",
                        "--no-owner", file, NULL};

        return run_tool(r, "pg_restore", args, log, err);
    }
}

int rack_db_sql(const struct rack *r, const char *sql, char *out, size_t cap,
                struct err *err)
{
    char log[PATH_MAX + 32], res[PATH_MAX + 32];
    char *args[] = {"-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c",
                    (char *)sql, "-o", res, NULL};
    int rc;

    snprintf(log, sizeof(log), "%s/psql.log", r->dir);
    snprintf(res, sizeof(res), "%s/.psql-out.%ld", r->dir, (long)getpid());
    rc = run_tool(r, "psql", args, log, err);
    if (rc == 0 && out && cap) {
        int fd = open(res, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, out, cap - 1) : -1;

        if (fd >= 0)
            close(fd);
        out[n > 0 ? n : 0] = '\0';
        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
            out[--n] = '\0';
    }
    unlink(res);
    return rc;
}
