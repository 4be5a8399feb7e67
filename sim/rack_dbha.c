/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_dbha: pg_auto_failover for `rack-sim up --db-ha` (see rack_dbha.h).
 * Runs pg_autoctl through setpriv(1) as the postgres user when root, with
 * a clean environment whose XDG directories are under D/dbha, and talks
 * to the monitor and the nodes with libpq. Main thread only.
 */
#include "sim/rack_dbha.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/err.h"
#include "sim/rack_db.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define AUTOCTL "/usr/bin/pg_autoctl"
#define SETPRIV "/usr/bin/setpriv"
#define CREATE_TIMEOUT_MS 180000
#define READY_TIMEOUT_MS 180000
#define STOP_TIMEOUT_MS 10000

static const char *const node_names[RACK_DB_NODES] = {"monitor", "node1",
                                                      "node2"};

/*
 * Monitor settings for the simulator (defaults in parentheses): a node is
 * unhealthy after 3 s (20 s) of failed health checks every 1 s (5 s), and
 * the monitor waits 5 s (30 s) for a primary it cannot reach to demote
 * itself, longer than the keepers' network_partition_timeout of 3 s (20 s)
 * below, so two primaries never accept writes at once.
 */
static const char *const monitor_tuning[] = {
    "ALTER SYSTEM SET pgautofailover.health_check_period = 1000",
    "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000",
    "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1",
    "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500",
    "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000",
    "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000",
    "ALTER SYSTEM SET pgautofailover.startup_grace_period = 3000",
    "SELECT pg_reload_conf()",
};

/* Keeper settings (pg_autoctl config set), same reasoning. */
static const char *const keeper_tuning[][2] = {
    {"timeout.network_partition_timeout", "3"},
    {"timeout.prepare_promotion_walreceiver", "1"},
    {"timeout.prepare_promotion_catchup", "10"},
};

/* Everything a pg_autoctl command line needs, kept alive while it runs. */
struct ctx {
    const struct rack *r;
    bool drop;
    char uid[32], gid[32];
    char xdg_config[PATH_MAX + 32], xdg_data[PATH_MAX + 32];
    char xdg_run[PATH_MAX + 32], home[PATH_MAX + 32], path[PATH_MAX + 64];
    char bindir[PATH_MAX], pgctl[PATH_MAX + 16];
    char dir[PATH_MAX + 8];
    uid_t u;
    gid_t g;
};

static void node_dir(char *out, size_t cap, const struct rack *r, size_t i)
{
    snprintf(out, cap, "%s/dbha/%s", r->dir, node_names[i]);
}

static void node_log(char *out, size_t cap, const struct rack *r, size_t i)
{
    snprintf(out, cap, "%s/dbha/%s.log", r->dir, node_names[i]);
}

static int ctx_init(struct ctx *x, const struct rack *r, struct err *err)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    int rc;

    memset(x, 0, sizeof(*x));
    x->r = r;
    if (access(AUTOCTL, X_OK) < 0)
        return err_set(err, ERR_UNAVAIL, "%s is not installed (apt-get "
                       "install pg-auto-failover-cli "
                       "postgresql-15-auto-failover)", AUTOCTL);
    rc = rack_pg_bindir(x->bindir, sizeof(x->bindir), err);
    if (rc < 0)
        return rc;
    snprintf(x->pgctl, sizeof(x->pgctl), "%s/pg_ctl", x->bindir);
    x->drop = geteuid() == 0;
    x->u = geteuid();
    x->g = getegid();
    if (x->drop) {
        if (getpwnam_r("postgres", &pw, buf, sizeof(buf), &res) != 0 || !res)
            return err_set(err, ERR_UNAVAIL, "running as root and there is "
                           "no postgres user to run pg_autoctl as");
        if (access(SETPRIV, X_OK) < 0)
            return err_set(err, ERR_UNAVAIL, "%s is missing (util-linux)",
                           SETPRIV);
        x->u = pw.pw_uid;
        x->g = pw.pw_gid;
        snprintf(x->uid, sizeof(x->uid), "--reuid=%ld", (long)x->u);
        snprintf(x->gid, sizeof(x->gid), "--regid=%ld", (long)x->g);
    }
    snprintf(x->dir, sizeof(x->dir), "%s/dbha", r->dir);
    snprintf(x->xdg_config, sizeof(x->xdg_config),
             "XDG_CONFIG_HOME=%s/xdg/config", x->dir);
    snprintf(x->xdg_data, sizeof(x->xdg_data), "XDG_DATA_HOME=%s/xdg/data",
             x->dir);
    snprintf(x->xdg_run, sizeof(x->xdg_run), "XDG_RUNTIME_DIR=%s/xdg/run",
             x->dir);
    snprintf(x->home, sizeof(x->home), "HOME=%s", x->dir);
    snprintf(x->path, sizeof(x->path), "PATH=%s:/usr/bin:/bin", x->bindir);
    return 0;
}

/* argv = [setpriv ...] env -i VARS prog args...; returns its length
 * (at most cap - 1; args beyond are dropped). */
static size_t build_argv_prog(char **argv, size_t cap, struct ctx *x,
                              char *prog, char *const *args)
{
    size_t n = 0;

    if (x->drop) {
        argv[n++] = SETPRIV;
        argv[n++] = x->uid;
        argv[n++] = x->gid;
        argv[n++] = "--clear-groups";
    }
    argv[n++] = "/usr/bin/env";
    argv[n++] = "-i";
    argv[n++] = x->xdg_config;
    argv[n++] = x->xdg_data;
    argv[n++] = x->xdg_run;
    argv[n++] = x->home;
    argv[n++] = x->path;
    argv[n++] = "LC_ALL=C";
    argv[n++] = prog;
    for (; *args && n + 1 < cap; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    return n;
}

/* build_argv_prog of pg_autoctl. */
static size_t build_argv(char **argv, size_t cap, struct ctx *x,
                         char *const *args)
{
    return build_argv_prog(argv, cap, x, AUTOCTL, args);
}

/* Run pg_autoctl args to completion (log: the node's log). */
static int autoctl_run(struct ctx *x, size_t node, char *const *args,
                       struct err *err)
{
    char *argv[48], log[PATH_MAX + 32];
    int code = 0, rc;

    build_argv(argv, 48, x, args);
    node_log(log, sizeof(log), x->r, node);
    rc = rack_run(&code, argv, log, CREATE_TIMEOUT_MS, err);
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "pg_autoctl %s %s exited %d (see %s)",
                     args[0], args[1] ? args[1] : "", code, log);
    return rc;
}

/* autoctl_run, tried up to 5 times 1 s apart: `config set` and `reload`
 * on a keeper busy with a state change fail now and then (exit 12). */
static int autoctl_retry(struct ctx *x, size_t node, char *const *args,
                         struct err *err)
{
    int rc = 0;

    for (int i = 0; i < 5; i++) {
        if (i > 0)
            rack_sleep_ms(1000);
        rc = autoctl_run(x, node, args, err);
        if (rc == 0 || rc == ERR_TIMEOUT)
            break;
    }
    return rc;
}

/* Spawn pg_autoctl args for node i in the background (its output to
 * log), recorded in r as running. */
static int node_spawn(struct ctx *x, struct rack *r, size_t i,
                      char *const *args, const char *log, struct err *err)
{
    char *argv[48];
    pid_t pid = 0;
    int rc;

    build_argv(argv, 48, x, args);
    rc = rack_proc_spawn(&pid, argv, log, r->foreground, err);
    if (rc < 0)
        return rc;
    r->dbn[i].p.pid = pid;
    r->dbn[i].p.start = rack_proc_starttime(pid);
    snprintf(r->dbn[i].state, sizeof(r->dbn[i].state), "running");
    return 0;
}

/* Start `pg_autoctl run` for node i in the background, recorded in r. */
static int autoctl_start(struct ctx *x, struct rack *r, size_t i,
                         struct err *err)
{
    char data[PATH_MAX + 32], log[PATH_MAX + 32];
    char *args[] = {"run", "--pgdata", data, NULL};

    node_dir(data, sizeof(data), r, i);
    node_log(log, sizeof(log), r, i);
    return node_spawn(x, r, i, args, log, err);
}

/* A libpq connection to node i's database dbname, or NULL. */
static PGconn *node_conn(const struct rack *r, size_t i, const char *dbname)
{
    char ci[160];
    PGconn *c;

    snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%u dbname=%s "
             "user=postgres connect_timeout=2 sslmode=disable",
             r->dbn[i].port, dbname);
    c = PQconnectdb(ci);
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    return c;
}

/* One statement; its first value into val (may be NULL). 0 or -1. */
static int exec1(PGconn *c, const char *sql, char *val, size_t cap)
{
    PGresult *res = c ? PQexec(c, sql) : NULL;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

    if (val && cap) {
        val[0] = '\0';
        if (st == PGRES_TUPLES_OK && PQntuples(res) > 0)
            snprintf(val, cap, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

/* A free TCP port on 127.0.0.1 (bound and released). */
static unsigned free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int mkdir_owned(const struct ctx *x, const char *path,
                       struct err *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return err_set(err, ERR_IO, "mkdir %s: %s", path, strerror(errno));
    if (x->drop && chown(path, x->u, x->g) < 0)
        return err_set(err, ERR_IO, "chown %s: %s", path, strerror(errno));
    return 0;
}

static int make_dirs(const struct ctx *x, struct err *err)
{
    const char *subs[] = {"", "/xdg", "/xdg/config", "/xdg/data",
                          "/xdg/run"};
    char p[PATH_MAX + 64];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(subs) / sizeof(*subs); i++) {
        snprintf(p, sizeof(p), "%s%s", x->dir, subs[i]);
        rc = mkdir_owned(x, p, err);
    }
    if (rc == 0 && chmod(p, 0700) < 0) /* XDG_RUNTIME_DIR must be private */
        rc = err_set(err, ERR_IO, "chmod %s: %s", p, strerror(errno));
    return rc;
}

/* Role and states of node i as the monitor sees them ("" if unknown). */
static void monitor_state(PGconn *mon, const struct rack *r, size_t i,
                          char *reported, char *assigned, size_t cap)
{
    char sql[200], v[80];

    reported[0] = assigned[0] = '\0';
    snprintf(sql, sizeof(sql), "SELECT reportedstate || ' ' || goalstate "
             "FROM pgautofailover.node WHERE nodeport = %u",
             r->dbn[i].port);
    if (exec1(mon, sql, v, sizeof(v)) == 0 && v[0]) {
        char *sp = strchr(v, ' ');

        if (sp) {
            *sp = '\0';
            snprintf(assigned, cap, "%s", sp + 1);
        }
        snprintf(reported, cap, "%s", v);
    }
}

/*
 * Wait until node i reports state want (both reported and assigned),
 * issuing a CHECKPOINT on kick (a node index, 0 for none) every second:
 * a new standby's pg_basebackup waits for a checkpoint otherwise spread
 * over minutes.
 */
static int wait_state(const struct rack *r, size_t i, const char *want,
                      size_t kick, struct err *err)
{
    int64_t deadline = rack_now_ms() + READY_TIMEOUT_MS;
    char rep[40] = "", as[40] = "";

    while (rack_now_ms() < deadline && !rack_interrupted()) {
        PGconn *mon = node_conn(r, 0, "pg_auto_failover");

        monitor_state(mon, r, i, rep, as, sizeof(rep));
        if (mon)
            PQfinish(mon);
        if (!strcmp(rep, want) && !strcmp(as, want))
            return 0;
        if (kick) {
            PGconn *c = node_conn(r, kick, "postgres");

            exec1(c, "CHECKPOINT", NULL, 0);
            if (c)
                PQfinish(c);
        }
        rack_sleep_ms(1000);
    }
    return err_set(err, ERR_TIMEOUT, "%s did not reach state %s (now %s/%s; "
                   "see %s/dbha/%s.log)", node_names[i], want,
                   rep[0] ? rep : "?", as[0] ? as : "?", r->dir,
                   node_names[i]);
}

static int create_monitor(struct ctx *x, struct rack *r, struct err *err)
{
    char data[PATH_MAX + 32], port[16];
    char *args[] = {"create", "monitor", "--pgdata", data, "--pgport", port,
                    "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
                    "--auth", "trust", "--no-ssl", "--pgctl", x->pgctl,
                    NULL};
    int64_t deadline;
    PGconn *mon = NULL;
    int rc;

    node_dir(data, sizeof(data), r, 0);
    snprintf(port, sizeof(port), "%u", r->dbn[0].port);
    rc = autoctl_run(x, 0, args, err);
    if (rc == 0)
        rc = autoctl_start(x, r, 0, err);
    if (rc < 0)
        return rc;
    deadline = rack_now_ms() + READY_TIMEOUT_MS;
    while (!(mon = node_conn(r, 0, "pg_auto_failover")) &&
           rack_now_ms() < deadline && !rack_interrupted())
        rack_sleep_ms(200);
    if (!mon)
        return err_set(err, ERR_TIMEOUT, "the monitor does not answer (see "
                       "%s/monitor.log)", x->dir);
    for (size_t i = 0; rc == 0 && i < sizeof(monitor_tuning) /
                                          sizeof(*monitor_tuning); i++)
        if (exec1(mon, monitor_tuning[i], NULL, 0) < 0)
            rc = err_set(err, ERR_IO, "monitor: %s: %s", monitor_tuning[i],
                         PQerrorMessage(mon));
    PQfinish(mon);
    return rc;
}

/* Create node i (registering with the monitor; a standby clones the
 * primary meanwhile), tune its keeper, and start it. */
static int create_node(struct ctx *x, struct rack *r, size_t i,
                       struct err *err)
{
    char data[PATH_MAX + 32], port[16], mon[96], log[PATH_MAX + 32];
    char *args[] = {"create", "postgres", "--pgdata", data, "--pgport", port,
                    "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
                    "--monitor", mon, "--auth", "trust", "--no-ssl",
                    "--pgctl", x->pgctl, "--dbname", "rackdepot", "--name",
                    (char *)node_names[i], "--run", NULL};
    int rc;

    node_dir(data, sizeof(data), r, i);
    node_log(log, sizeof(log), r, i);
    snprintf(port, sizeof(port), "%u", r->dbn[i].port);
    snprintf(mon, sizeof(mon), "postgres://autoctl_node@127.0.0.1:%u/"
             "pg_auto_failover?sslmode=disable", r->dbn[0].port);
    rc = node_spawn(x, r, i, args, log, err);
    if (rc < 0)
        return rc;
    rc = wait_state(r, i, i == 1 ? "single" : "secondary", i == 1 ? 0 : 1,
                    err);
    for (size_t k = 0; rc == 0 && k < sizeof(keeper_tuning) /
                                          sizeof(*keeper_tuning); k++) {
        char *set[] = {"config", "set", "--pgdata", data,
                       (char *)keeper_tuning[k][0],
                       (char *)keeper_tuning[k][1], NULL};

        rc = autoctl_retry(x, i, set, err);
    }
    if (rc == 0) {
        char *reload[] = {"reload", "--pgdata", data, NULL};

        rc = autoctl_retry(x, i, reload, err);
    }
    return rc;
}

int rack_dbha_up(struct rack *r, bool quiet, struct err *err)
{
    struct ctx x;
    int rc = ctx_init(&x, r, err);

    if (rc < 0)
        return rc;
    rc = make_dirs(&x, err);
    if (rc < 0)
        return rc;
    r->db_ha = true;
    for (size_t i = 0; i < RACK_DB_NODES; i++) {
        r->dbn[i].port = free_port();
        snprintf(r->dbn[i].state, sizeof(r->dbn[i].state), "new");
        if (!r->dbn[i].port)
            return err_set(err, ERR_IO, "no free port on 127.0.0.1");
    }
    if (!quiet)
        printf("database: pg_auto_failover monitor on 127.0.0.1:%u\n",
               r->dbn[0].port);
    rc = create_monitor(&x, r, err);
    for (size_t i = 1; rc == 0 && i < RACK_DB_NODES; i++) {
        rc = create_node(&x, r, i, err);
        if (rc == 0 && !quiet)
            printf("database: %s on 127.0.0.1:%u\n", node_names[i],
                   r->dbn[i].port);
    }
    if (rc == 0)
        rc = wait_state(r, 1, "primary", 0, err);
    if (rc < 0)
        return rc;
    snprintf(r->conninfo, sizeof(r->conninfo),
             "postgresql://postgres@127.0.0.1:%u,127.0.0.1:%u/rackdepot?"
             "target_session_attrs=read-write&connect_timeout=2&"
             "sslmode=disable", r->dbn[1].port, r->dbn[2].port);
    if (!quiet)
        printf("database: %s\n", r->conninfo);
    return 0;
}

/* Whether pid is a running postgres process (not a recycled pid). */
static bool is_postgres(pid_t pid)
{
    char path[64], comm[32] = "";
    FILE *f;

    if (pid <= 0 || !rack_proc_alive(pid, 0))
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    if (!fgets(comm, sizeof(comm), f))
        comm[0] = '\0';
    fclose(f);
    return !strncmp(comm, "postgres", 8);
}

/* SIGKILL node i: its pg_autoctl process group and its postmaster. */
static void kill_node(struct rack *r, size_t i)
{
    char data[PATH_MAX + 32];
    pid_t pm;

    node_dir(data, sizeof(data), r, i);
    pm = rack_pg_pid(data);
    rack_proc_kill(r->dbn[i].p.pid, r->dbn[i].p.start);
    if (is_postgres(pm))
        rack_proc_kill(pm, 0);
    r->dbn[i].p.pid = 0;
    snprintf(r->dbn[i].state, sizeof(r->dbn[i].state), "killed");
}

int rack_dbha_down(struct rack *r, struct err *err)
{
    int rc = 0;

    /* The nodes first (a monitor going away first makes no difference to
     * them, but this order never triggers a failover). */
    for (size_t k = RACK_DB_NODES; k-- > 0;) {
        char data[PATH_MAX + 32];
        int e;

        node_dir(data, sizeof(data), r, k);
        e = rack_proc_stop(r->dbn[k].p.pid, r->dbn[k].p.start,
                           STOP_TIMEOUT_MS);
        if (e == 0)
            e = rack_pg_stop_dir(data, STOP_TIMEOUT_MS);
        if (e < 0 && rc == 0)
            rc = err_set(err, e, "database %s did not stop", node_names[k]);
        r->dbn[k].p.pid = 0;
        snprintf(r->dbn[k].state, sizeof(r->dbn[k].state), "stopped");
    }
    return rc;
}

bool rack_dbha_alive(const struct rack *r)
{
    for (size_t i = 0; r->db_ha && i < RACK_DB_NODES; i++) {
        char data[PATH_MAX + 32];
        pid_t pm;

        node_dir(data, sizeof(data), r, i);
        pm = rack_pg_pid(data);
        if (rack_proc_alive(r->dbn[i].p.pid, r->dbn[i].p.start) ||
            is_postgres(pm))
            return true;
    }
    return false;
}

/* "primary", "secondary" or "unknown" for node i, asking the node itself
 * (pg_is_in_recovery) when the monitor cannot say. */
static const char *role_of(const char *reported, const struct rack *r,
                           size_t i)
{
    static const char *const primary[] = {"single", "primary",
                                          "wait_primary", "join_primary",
                                          "apply_settings"};
    char v[8];
    PGconn *c;

    if (i == 0)
        return "monitor";
    for (size_t k = 0; reported[0] && k < sizeof(primary) / sizeof(*primary);
         k++)
        if (!strcmp(reported, primary[k]))
            return "primary";
    if (!strcmp(reported, "secondary") || !strcmp(reported, "catchingup"))
        return "secondary";
    if (reported[0])
        return "unknown";
    c = node_conn(r, i, "postgres");
    if (!c)
        return "unknown";
    if (exec1(c, "SELECT pg_is_in_recovery()", v, sizeof(v)) < 0)
        v[0] = '\0';
    PQfinish(c);
    return v[0] == 't' ? "secondary" : v[0] == 'f' ? "primary" : "unknown";
}

struct nodeinfo {
    char reported[40], assigned[40];
    const char *role;
    bool running;
};

static void gather(struct nodeinfo *ni, const struct rack *r, bool *mon_up)
{
    PGconn *mon = node_conn(r, 0, "pg_auto_failover");

    *mon_up = mon != NULL;
    for (size_t i = 0; i < RACK_DB_NODES; i++) {
        char data[PATH_MAX + 32];
        pid_t pm;

        node_dir(data, sizeof(data), r, i);
        pm = rack_pg_pid(data);
        ni[i].running = rack_proc_alive(r->dbn[i].p.pid, r->dbn[i].p.start) &&
                        is_postgres(pm);
        if (i > 0)
            monitor_state(mon, r, i, ni[i].reported, ni[i].assigned,
                          sizeof(ni[i].reported));
        else
            snprintf(ni[i].reported, sizeof(ni[i].reported), "%s",
                     mon ? "running" : "down");
        ni[i].role = !ni[i].running ? "down"
                     : role_of(i > 0 && mon ? ni[i].reported : "", r, i);
        if (i > 0 && !mon && ni[i].running)
            snprintf(ni[i].reported, sizeof(ni[i].reported),
                     "monitor down");
        if (i == 0)
            ni[i].role = "monitor";
    }
    if (mon)
        PQfinish(mon);
}

int rack_dbha_status(FILE *out, const struct rack *r, bool json,
                     struct err *err)
{
    struct nodeinfo ni[RACK_DB_NODES];
    char ssn[160] = "", nss[16] = "";
    bool mon_up = false;

    if (!r->db_ha)
        return err_set(err, ERR_INVAL, "not a --db-ha rack (its database is "
                       "one embedded PostgreSQL)");
    memset(ni, 0, sizeof(ni));
    gather(ni, r, &mon_up);
    for (size_t i = 1; i < RACK_DB_NODES; i++) {
        PGconn *c;

        if (strcmp(ni[i].role, "primary") || !ni[i].running)
            continue;
        c = node_conn(r, i, "postgres");
        exec1(c, "SHOW synchronous_standby_names", ssn, sizeof(ssn));
        if (c)
            PQfinish(c);
    }
    if (mon_up) {
        PGconn *mon = node_conn(r, 0, "pg_auto_failover");

        exec1(mon, "SELECT number_sync_standbys FROM pgautofailover.formation"
              " WHERE formationid = 'default'", nss, sizeof(nss));
        if (mon)
            PQfinish(mon);
    }
    if (json) {
        fprintf(out, "{\"nodes\": [");
        for (size_t i = 0; i < RACK_DB_NODES; i++)
            fprintf(out, "%s{\"name\": \"%s\", \"host\": \"127.0.0.1\", "
                    "\"port\": %u, \"role\": \"%s\", \"state\": \"%s\", "
                    "\"assigned_state\": \"%s\", \"running\": %s}",
                    i ? ", " : "", node_names[i], r->dbn[i].port, ni[i].role,
                    ni[i].reported, ni[i].assigned,
                    ni[i].running ? "true" : "false");
        fprintf(out, "], \"monitor_up\": %s, \"synchronous_standby_names\": "
                "\"%s\", \"number_sync_standbys\": %s}\n",
                mon_up ? "true" : "false", ssn, nss[0] ? nss : "null");
        return 0;
    }
    fprintf(out, "%-8s %-16s %-10s %-8s %-16s %s\n", "NODE", "ADDRESS",
            "ROLE", "PROCESS", "STATE", "ASSIGNED");
    for (size_t i = 0; i < RACK_DB_NODES; i++)
        fprintf(out, "%-8s 127.0.0.1:%-6u %-10s %-8s %-16s %s\n",
                node_names[i], r->dbn[i].port, ni[i].role,
                ni[i].running ? "running" : "down", ni[i].reported,
                ni[i].assigned);
    fprintf(out, "synchronous_standby_names: '%s' (number_sync_standbys "
            "%s)\n", ssn, nss[0] ? nss : "unknown: monitor down");
    return 0;
}

/* Whether a process pid exists, a zombie too (PostgreSQL's lock file
 * check counts it). */
static bool pid_exists(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/*
 * `db restart` of a standby (standby.signal in its data directory) starts
 * its PostgreSQL with pg_ctl before its keeper, which adopts a running
 * server. A keeper started alone, when a peer changed while it was down,
 * first rewrites pg_hba.conf and reloads; with PostgreSQL down the reload
 * fails and the keeper gives up that loop before it would start
 * PostgreSQL, every second, for good: the standby never comes back and a
 * primary stuck on its way to `primary` keeps every commit waiting
 * (docs/OPERATOR.md "Writes stop after the standby is lost while
 * rejoining", decision D-NEW-dbha2-1). A node that was primary (no
 * standby.signal) is left to its keeper, which must demote it first.
 * The killed postmaster must be gone first (its lock file names it).
 */
static int standby_prestart(struct ctx *x, const struct rack *r, size_t i,
                            struct err *err)
{
    char data[PATH_MAX + 32], sig[PATH_MAX + 64], log[PATH_MAX + 48];
    char nlog[PATH_MAX + 32], *argv[48];
    char *args[] = {"-D", data, "-w", "-t", "60", "-l", log, "start", NULL};
    int code = 0, rc;

    node_dir(data, sizeof(data), r, i);
    snprintf(sig, sizeof(sig), "%s/standby.signal", data);
    if (i == 0 || access(sig, F_OK) < 0)
        return 0;
    for (int k = 0; k < 150 && pid_exists(rack_pg_pid(data)); k++)
        rack_sleep_ms(100);
    snprintf(log, sizeof(log), "%s/dbha/%s-pg_ctl.log", r->dir,
             node_names[i]);
    node_log(nlog, sizeof(nlog), r, i);
    build_argv_prog(argv, 48, x, x->pgctl, args);
    rc = rack_run(&code, argv, nlog, 90000, err);
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "pg_ctl start of %s exited %d (see %s)",
                     node_names[i], code, log);
    return rc;
}

/*
 * Remove the pid files of node i's killed pg_autoctl (under
 * XDG_RUNTIME_DIR/pg_autoctl/PGDATA): a killed process can linger as a
 * zombie until init reaps it, and pg_autoctl refuses to start while the
 * pid in its file exists.
 */
static void drop_pidfiles(const struct ctx *x, size_t i)
{
    static const char *const files[] = {"pg_autoctl.pid",
                                        "pg_autoctl_postgres.pid",
                                        "pg_autoctl_listener.pid",
                                        "pg_autoctl_node-active.pid"};
    char data[PATH_MAX + 32], p[2 * PATH_MAX + 128];

    node_dir(data, sizeof(data), x->r, i);
    for (size_t k = 0; k < sizeof(files) / sizeof(*files); k++) {
        snprintf(p, sizeof(p), "%s/xdg/run/pg_autoctl%s/%s", x->dir, data,
                 files[k]);
        unlink(p);
    }
}

/* The node now in role (monitor, primary or secondary), or -1. */
static int node_in_role(const struct rack *r, const char *role)
{
    struct nodeinfo ni[RACK_DB_NODES];
    bool mon_up;

    memset(ni, 0, sizeof(ni));
    gather(ni, r, &mon_up);
    for (size_t i = 0; i < RACK_DB_NODES; i++)
        if (ni[i].running && !strcmp(ni[i].role, role))
            return (int)i;
    return -1;
}

int rack_dbha_fault(struct rack *r, const char *op, const char *node,
                    const char **name, struct err *err)
{
    struct ctx x;
    int i = -1, rc;

    *name = "";
    if (!r->db_ha)
        return err_set(err, ERR_INVAL, "not a --db-ha rack");
    if (!strcmp(op, "restart")) {
        for (size_t k = 0; node && k < RACK_DB_NODES; k++)
            if (!strcmp(node, node_names[k]))
                i = (int)k;
        if (i < 0)
            return err_set(err, ERR_INVAL, "no database node %s (monitor, "
                           "node1, node2)", node ? node : "");
        *name = node_names[i];
        if (rack_proc_alive(r->dbn[i].p.pid, r->dbn[i].p.start))
            return err_set(err, ERR_CONFLICT, "%s is running", *name);
        rc = ctx_init(&x, r, err);
        if (rc == 0) {
            kill_node(r, (size_t)i); /* a postmaster left without keeper */
            drop_pidfiles(&x, (size_t)i);
            rc = standby_prestart(&x, r, (size_t)i, err);
        }
        if (rc == 0)
            rc = autoctl_start(&x, r, (size_t)i, err);
        return rc;
    }
    if (!strcmp(op, "kill-primary"))
        i = node_in_role(r, "primary");
    else if (!strcmp(op, "kill-secondary"))
        i = node_in_role(r, "secondary");
    else if (!strcmp(op, "kill-monitor"))
        i = rack_proc_alive(r->dbn[0].p.pid, r->dbn[0].p.start) ? 0 : -1;
    else
        return err_set(err, ERR_INVAL, "unknown database fault %s", op);
    if (i < 0)
        return err_set(err, ERR_NOTFOUND, "%s: no running node in that role "
                       "(rack-sim db status)", op);
    *name = node_names[i];
    kill_node(r, (size_t)i);
    return 0;
}
