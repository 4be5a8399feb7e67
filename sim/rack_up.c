/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_up: `up`, `down` and (re)starting single processes of a rack. See
 * rack_up.h. Main thread only.
 */
#include "sim/rack_up.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "sim/pgembed.h"
#include "sim/rack_link.h"
#include "sim/rack_net.h"
#include "sim/rack_dbha.h"
#include "sim/rack_pki.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"

#define PORT_FILE_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 5000
#define MIGRATE_TIMEOUT_MS 60000
/* Every simulated sled shares this one machine's disk and cores, so the
 * rack shares one sled's scrub budget (sledagent's default, 64 MiB/s):
 * each agent scrubs at this / nsleds, at least 1 MiB/s. */
#define RACK_SCRUB_BUDGET (64ull << 20)
#define RACK_SCRUB_MIN (1ull << 20)
/* With a modelled link of rate R, a sled's --min-transfer-rate is R / this
 * (at most sledagent's default, 64 KiB/s). */
#define RACK_MIN_RATE_DIV 64

/*
 * The running cluster outlives this process (`up` returns with the rack
 * running); the handle stays reachable so leak checkers do not report it.
 */
static struct pgembed *kept_pg;

int rack_bin(char *out, size_t cap, const char *name, struct err *err)
{
    const char *env = getenv("RACKDEPOT_BIN_DIR");
    char self[PATH_MAX];
    ssize_t n;

    if (env && *env) {
        snprintf(out, cap, "%s/%s", env, name);
    } else {
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return err_set(err, ERR_IO, "readlink /proc/self/exe: %s",
                           strerror(errno));
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(out, cap, "%s/%s", self, name);
    }
    if (access(out, X_OK) < 0)
        return err_set(err, ERR_NOTFOUND, "%s: not built (%s)", out,
                       strerror(errno));
    return 0;
}

int rack_run(int *code, char *const argv[], const char *log, long timeout_ms,
             struct err *err)
{
    int64_t deadline = rack_now_ms() + timeout_ms;
    pid_t pid = 0;
    int status = 0, rc;

    *code = -1;
    rc = rack_proc_spawn(&pid, argv, log ? log : "/dev/stderr", true, err);
    if (rc < 0)
        return rc;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return err_set(err, ERR_IO, "waitpid: %s", strerror(errno));
        if (rack_now_ms() >= deadline || rack_interrupted()) {
            kill(-pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return err_set(err, ERR_TIMEOUT, "%s %s: %s", argv[0],
                           argv[1] ? argv[1] : "",
                           rack_interrupted() ? "interrupted" :
                           "timed out");
        }
        rack_sleep_ms(10);
    }
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

void rack_repl_url(char *out, size_t cap, const struct rack *r)
{
    out[0] = '\0';
    for (size_t i = 0; i < r->nrepls; i++) {
        if (r->repls[i].port && rack_proc_alive(r->repls[i].p.pid,
                                                r->repls[i].p.start)) {
            rack_url(out, cap, r, 'r', i, r->repls[i].port, "");
            return;
        }
    }
    for (size_t i = 0; i < r->nrepls; i++) {
        if (r->repls[i].port) {
            rack_url(out, cap, r, 'r', i, r->repls[i].port, "");
            return;
        }
    }
}

/*
 * Starts argv (output to log) as process rec, in state "running" (state
 * holds 16 bytes), and waits for its port file; *pf is the file's JSON.
 * On a netns rack it runs in namespace netns. On failure the process is
 * killed and state is "stopped".
 */
static int spawn_and_wait(json_t **pf, struct rack_proc_rec *rec,
                          char state[16], char *const argv[],
                          const char *ports, const char *log,
                          const struct rack *r, const char *netns,
                          struct err *err)
{
    pid_t pid = 0;
    int rc = rack_proc_spawn_ns(&pid, argv, log, r->foreground,
                                r->netns ? netns : NULL, err);

    if (rc < 0)
        return rc;
    rec->pid = pid;
    rec->start = rack_proc_starttime(pid);
    snprintf(state, 16, "running");
    rc = rack_proc_wait_port_file(pf, ports, pid, log, PORT_FILE_TIMEOUT_MS,
                                  err);
    if (rc < 0) {
        rack_proc_kill(pid, rec->start);
        snprintf(state, 16, "stopped");
    }
    return rc;
}

int rack_start_sled(struct rack *r, size_t k, struct err *err)
{
    struct rack_sled *s = &r->sleds[k];
    char bin[PATH_MAX], sdir[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    char listen[80], depot[80], rate[32], quota[32], quota_ds[2][32];
    char scrub[32], minrate[32], lrate[32], host[RACK_NET_ADDR_MAX + 2];
    char ns[RACK_NET_NAME_MAX];
    char url[128], ports[PATH_MAX + 16], log[PATH_MAX + 16];
    char *argv[48];
    struct rack_cred cred;
    json_t *pf = NULL;
    uint64_t v;
    int rc, n = 0;

    rc = rack_bin(bin, sizeof(bin), "sledagent", err);
    if (rc < 0)
        return rc;
    /* A sled new to a running netns rack gets its namespace and link. */
    if (r->netns && !rack_net_ns_exists(r, 's', k)) {
        s->link.rate = r->link_rate;
        s->link.delay_us = r->link_delay_us;
        rc = rack_net_member_up(r, 's', k, err);
        if (rc == 0)
            rc = rack_link_setup(r, k, err);
        if (rc < 0)
            return rc;
    }
    rack_path_sled(sdir, sizeof(sdir), r, k);
    rack_path_dataset(a, sizeof(a), r, k, 'A');
    rack_path_dataset(b, sizeof(b), r, k, 'B');
    snprintf(ports, sizeof(ports), "%s/ports.json", sdir);
    snprintf(log, sizeof(log), "%s/agent.log", sdir);
    rack_member_host(host, sizeof(host), r, 's', k, true);
    rack_net_ns(ns, sizeof(ns), r, 's', k);
    snprintf(listen, sizeof(listen), "%s:%u", host, s->api_port);
    snprintf(depot, sizeof(depot), "%s:%u", host, s->depot_port);
    unlink(ports);
    argv[n++] = bin;
    argv[n++] = "--dataset";
    argv[n++] = a;
    argv[n++] = "--dataset";
    argv[n++] = b;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--depot-listen";
    argv[n++] = depot;
    argv[n++] = "--id";
    argv[n++] = s->id;
    argv[n++] = "--port-file";
    argv[n++] = ports;
    rack_cred_sled(&cred, r, k);
    rack_tls_args(argv, &n, &cred, r);
    rack_repl_url(url, sizeof(url), r);
    if (url[0]) {
        argv[n++] = "--replicator";
        argv[n++] = url;
    }
    v = RACK_SCRUB_BUDGET / (r->nsleds ? r->nsleds : 1);
    snprintf(scrub, sizeof(scrub), "%llu",
             (unsigned long long)(v < RACK_SCRUB_MIN ? RACK_SCRUB_MIN : v));
    argv[n++] = "--scrub-rate";
    argv[n++] = scrub;
    if (r->rate_limit) {
        snprintf(rate, sizeof(rate), "%llu", (unsigned long long)r->rate_limit);
        argv[n++] = "--rate-limit";
        argv[n++] = rate;
    }
    /* A kernel-capped link: the sled shares it between the controller's
     * PUT and its own copies (sledagent/inbound.h). A later `rack-sim
     * link` change of the rate is not told to the sled. */
    if (s->link.rate) {
        snprintf(lrate, sizeof(lrate), "%llu",
                 (unsigned long long)s->link.rate);
        argv[n++] = "--link-rate";
        argv[n++] = lrate;
    }
    /* A slow modelled link (--rate-limit, --link-rate) carries the
     * controller's PUT and the sled's own piece copies at once (on a tc
     * link in one queue, where TCP can starve one flow for seconds): the
     * slow-client floor is scaled to it, as docs/API.md asks of any rack
     * with slow links, or a legitimate PUT is closed as a slow body. */
    v = r->rate_limit ? r->rate_limit : r->link_rate;
    if (v) {
        v /= RACK_MIN_RATE_DIV;
        snprintf(minrate, sizeof(minrate), "%llu",
                 (unsigned long long)(v > 65536 ? 65536 : v ? v : 1));
        argv[n++] = "--min-transfer-rate";
        argv[n++] = minrate;
    }
    if (s->quota_bytes) {
        snprintf(quota, sizeof(quota), "%llu",
                 (unsigned long long)s->quota_bytes);
        argv[n++] = "--quota-bytes";
        argv[n++] = quota;
    }
    for (size_t d = 0; d < 2; d++) {
        if (!s->quota_ds[d])
            continue;
        snprintf(quota_ds[d], sizeof(quota_ds[d]), "%llu",
                 (unsigned long long)s->quota_ds[d]);
        argv[n++] = d == 0 ? "--quota-bytes-a" : "--quota-bytes-b";
        argv[n++] = quota_ds[d];
    }
    /* Both datasets removed by `rack-sim dataset remove`: a deliberate
     * fault, so the sled starts (and answers 503) instead of refusing. */
    if (access(a, F_OK) < 0 && access(b, F_OK) < 0)
        argv[n++] = "--allow-degraded-start";
    argv[n] = NULL;
    rc = spawn_and_wait(&pf, &s->p, s->state, argv, ports, log, r, ns, err);
    if (rc < 0)
        return rc;
    if (jsonu_u64(&v, json_object_get(pf, "api")) == 0)
        s->api_port = (unsigned)v;
    if (jsonu_u64(&v, json_object_get(pf, "depot")) == 0)
        s->depot_port = (unsigned)v;
    json_decref(pf);
    return 0;
}

int rack_start_repl(struct rack *r, size_t i, struct err *err)
{
    struct rack_repl *p = &r->repls[i];
    char bin[PATH_MAX], rdir[PATH_MAX], staging[PATH_MAX + 16];
    char ports[PATH_MAX + 16], log[PATH_MAX + 16], listen[80], period[16];
    char minr[16], rate[32], ui[64], psize[32], host[RACK_NET_ADDR_MAX + 2];
    char ns[RACK_NET_NAME_MAX];
    char *argv[32];
    struct rack_cred cred;
    json_t *pf = NULL;
    uint64_t v;
    int rc, n = 0;

    rc = rack_bin(bin, sizeof(bin), "replicator", err);
    if (rc < 0)
        return rc;
    rack_path_repl(rdir, sizeof(rdir), r, i);
    snprintf(staging, sizeof(staging), "%s/staging", rdir);
    rc = rack_mkdirs(staging, err);
    if (rc < 0)
        return rc;
    snprintf(ports, sizeof(ports), "%s/ports.json", rdir);
    snprintf(log, sizeof(log), "%s/replicator.log", rdir);
    rack_member_host(host, sizeof(host), r, 'r', i, true);
    rack_net_ns(ns, sizeof(ns), r, 'r', i);
    snprintf(listen, sizeof(listen), "%s:%u", host, p->port);
    snprintf(period, sizeof(period), "%u", r->period ? r->period : 2);
    snprintf(minr, sizeof(minr), "%u", r->min_repl ? r->min_repl : 3);
    unlink(ports);
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = "--db";
    argv[n++] = r->conninfo;
    argv[n++] = "--staging";
    argv[n++] = staging;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--port-file";
    argv[n++] = ports;
    /* the status page, plaintext on loopback (replicator/ui.h) */
    /* (a netns rack's replicator has its own loopback, which the host
     * cannot reach: its page is the API's /ui, for the operator) */
    snprintf(ui, sizeof(ui), "127.0.0.1:%u", p->ui_port);
    if (!r->netns) {
        argv[n++] = "--ui-listen";
        argv[n++] = ui;
    }
    argv[n++] = "--period";
    argv[n++] = period;
    argv[n++] = "--min-sled-replication";
    argv[n++] = minr;
    if (r->blind_trust)
        argv[n++] = "--blindly-trust-repo-root";
    rack_cred_repl(&cred, r, i);
    rack_tls_args(argv, &n, &cred, r);
    /* The controller's link gets the same cap as every sled's. On a
     * kernel-capped link (--link-rate) the replicator is told it too: it
     * then sends one PUT at a time at the link's rate (docs/REPLICATION.md
     * "Controller link cap") instead of several whose TCP flows starve
     * one another in the link's queue. */
    if (r->rate_limit || r->link_rate) {
        snprintf(rate, sizeof(rate), "%llu",
                 (unsigned long long)(r->rate_limit ? r->rate_limit
                                                    : r->link_rate));
        argv[n++] = "--rate-limit";
        argv[n++] = rate;
    }
    if (r->piece_size) {
        snprintf(psize, sizeof(psize), "%llu",
                 (unsigned long long)r->piece_size);
        argv[n++] = "--piece-size";
        argv[n++] = psize;
    }
    argv[n] = NULL;
    rc = spawn_and_wait(&pf, &p->p, p->state, argv, ports, log, r, ns, err);
    if (rc < 0)
        return rc;
    if (jsonu_u64(&v, json_object_get(pf, "api")) == 0)
        p->port = (unsigned)v;
    if (jsonu_u64(&v, json_object_get(pf, "ui")) == 0)
        p->ui_port = (unsigned)v;
    json_decref(pf);
    return 0;
}

bool rack_any_alive(const struct rack *r)
{
    for (size_t k = 0; k < r->nsleds; k++)
        if (rack_proc_alive(r->sleds[k].p.pid, r->sleds[k].p.start))
            return true;
    for (size_t i = 0; i < r->nrepls; i++)
        if (rack_proc_alive(r->repls[i].p.pid, r->repls[i].p.start))
            return true;
    if (rack_dbha_alive(r))
        return true;
    return r->pgdata[0] && rack_pg_pid(r->pgdata) > 0 &&
           rack_proc_alive(rack_pg_pid(r->pgdata), 0);
}

/* A fresh rack directory, world-traversable (postgres must reach D/pg). */
static int make_dir(struct rack *r, const char *dir, struct err *err)
{
    const char *tmp = getenv("TMPDIR");
    int rc;

    if (dir) {
        if (strlen(dir) >= sizeof(r->dir) - 64)
            return err_set(err, ERR_INVAL, "directory name too long: %s", dir);
        snprintf(r->dir, sizeof(r->dir), "%s", dir);
        rc = rack_mkdirs(r->dir, err);
        if (rc < 0)
            return rc;
    } else {
        snprintf(r->dir, sizeof(r->dir), "%s/rack-sim.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(r->dir))
            return err_set(err, ERR_IO, "mkdtemp %s: %s", r->dir,
                           strerror(errno));
    }
    {
        char real[PATH_MAX];

        if (!realpath(r->dir, real))
            return err_set(err, ERR_IO, "realpath %s: %s", r->dir,
                           strerror(errno));
        snprintf(r->dir, sizeof(r->dir), "%s", real);
    }
    chmod(r->dir, 0755);
    return 0;
}

/*
 * As root the server runs as postgres, which must traverse every ancestor
 * of D: say so plainly instead of initdb's bare exit status 126.
 */
static int check_reachable(const char *dir, struct err *err)
{
    char p[PATH_MAX];
    struct stat st;
    char *slash;

    if (geteuid() != 0)
        return 0;
    snprintf(p, sizeof(p), "%s", dir);
    for (;;) {
        if (stat(p, &st) == 0 && !(st.st_mode & S_IXOTH))
            return err_set(err, ERR_IO, "%s is not searchable by others: the "
                           "postgres user cannot reach %s (chmod o+x %s, or "
                           "use another --dir)", p, dir, p);
        slash = strrchr(p, '/');
        if (!slash || slash == p)
            return 0;
        *slash = '\0';
    }
}

struct pg_start {
    const char *root;
    struct err *err;
};

static int pg_start(void *arg)
{
    struct pg_start *a = arg;

    return pgembed_start(&kept_pg, a->root, a->err);
}

static int start_db(struct rack *r, bool quiet, struct err *err)
{
    char root[PATH_MAX + 8];
    char ns[RACK_NET_NAME_MAX];
    struct pg_start a = {root, err};
    char *conninfo = NULL;
    int rc;

    snprintf(root, sizeof(root), "%s/pg", r->dir);
    rc = check_reachable(r->dir, err);
    if (rc < 0)
        return rc;
    /* On a netns rack the postmaster (forked by pgembed) lives in the
     * database's namespace; it serves its Unix socket only. */
    rack_net_ns(ns, sizeof(ns), r, 'd', 0);
    rc = r->netns ? rack_net_within(ns, pg_start, &a, err) : pg_start(&a);
    if (rc < 0)
        return rc;
    snprintf(r->pgdata, sizeof(r->pgdata), "%s/data",
             pgembed_socket_dir(kept_pg));
    r->pg.pid = rack_pg_pid(r->pgdata);
    r->pg.start = rack_proc_starttime(r->pg.pid);
    rc = pgembed_create_db(kept_pg, "rackdepot", err);
    if (rc == 0)
        rc = pgembed_conninfo(&conninfo, kept_pg, "rackdepot", err);
    if (rc < 0)
        return rc;
    snprintf(r->conninfo, sizeof(r->conninfo), "%s", conninfo);
    mem_free(conninfo);
    if (!quiet)
        printf("database: %s\n", r->conninfo);
    return 0;
}

/* `replicator db migrate` against r->conninfo. */
static int migrate(struct rack *r, struct err *err)
{
    char log[PATH_MAX + 32], bin[PATH_MAX];
    int rc, code = 0;

    rc = rack_bin(bin, sizeof(bin), "replicator", err);
    if (rc < 0)
        return rc;
    snprintf(log, sizeof(log), "%s/migrate.log", r->dir);
    {
        char *argv[] = {bin, "db", "migrate", "--db", r->conninfo, NULL};

        rc = rack_run(&code, argv, log, MIGRATE_TIMEOUT_MS, err);
    }
    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "replicator db migrate exited %d (see %s)",
                     code, log);
    return rc;
}

/*
 * The rack PKI (in both modes, so a rack can be brought up again in the
 * other one and `rack-sim env` always has files to name), and the
 * credentials of rack-sim's own requests for the mode.
 */
static int start_pki(struct rack *r, bool quiet, struct err *err)
{
    char dir[PATH_MAX];
    int rc = rack_pki_ensure(r, err);

    if (rc < 0)
        return rc;
    rack_pki_use(r);
    rack_pki_dir(dir, sizeof(dir), r);
    if (!quiet)
        printf("mode: %s; rack %s, PKI in %s\n", r->tls ? "mutual TLS" :
               "plaintext (--insecure-plaintext)", r->rack_id, dir);
    return 0;
}

/* Every sled of r, with its dataset directories. */
static int start_sleds(struct rack *r, bool quiet, struct err *err)
{
    int rc = 0;

    for (size_t k = 0; k < r->nsleds && rc == 0; k++) {
        char a[PATH_MAX], b[PATH_MAX];

        rack_path_dataset(a, sizeof(a), r, k, 'A');
        rack_path_dataset(b, sizeof(b), r, k, 'B');
        rc = rack_mkdirs(a, err);
        if (rc == 0)
            rc = rack_mkdirs(b, err);
        if (rc == 0 && r->netns)
            rc = rack_link_setup(r, k, err);
        if (rc == 0)
            rc = rack_start_sled(r, k, err);
        if (rc == 0 && !quiet)
            printf("sled %zu: %s api %u depot %u (pid %ld)\n", k,
                   r->sleds[k].id, r->sleds[k].api_port,
                   r->sleds[k].depot_port, (long)r->sleds[k].p.pid);
        if (rc == 0 && rack_interrupted())
            rc = err_set(err, ERR_IO, "interrupted");
    }
    return rc;
}

/*
 * A netns rack's network (rack_net_up also removes what a killed rack-sim
 * left); on a loopback rack only such leftovers of the same directory.
 */
static int start_net(struct rack *r, bool quiet, struct err *err)
{
    char p48[64];
    int rc;

    if (!r->netns)
        return rack_net_leftovers(r) && geteuid() == 0 ?
               rack_net_down(r, err) : 0;
    rc = rack_net_up(r, err);
    rack_net_prefix48(p48, sizeof(p48), r);
    if (rc == 0 && !quiet)
        printf("network: namespaces per member, rack prefix %s\n", p48);
    return rc;
}

int rack_up(struct rack *r, const struct rack_up_opts *o, struct err *err)
{
    struct rack old;
    int rc;

    if (o->sleds == 0 || o->sleds > RACK_MAX_SLEDS || o->replicators == 0 ||
        o->replicators > RACK_MAX_REPLICATORS)
        return err_set(err, ERR_INVAL, "need 1..%d sleds and 1..%d "
                       "replicators", RACK_MAX_SLEDS, RACK_MAX_REPLICATORS);
    if (o->netns && (rc = rack_net_check(err)) < 0)
        return rc;
    if (!o->netns && (o->link_rate || o->link_delay_us))
        return err_set(err, ERR_INVAL, "--link-rate and --link-delay need "
                       "--net netns (a loopback rack: --rate-limit)");
    if (o->netns && o->db_ha)
        return err_set(err, ERR_INVAL, "--db-ha runs its database nodes on "
                       "the host's loopback, which a netns rack's "
                       "replicators cannot reach: use one or the other");
    if (o->dir && rack_state_load(&old, o->dir, NULL) == 0 &&
        rack_any_alive(&old))
        return err_set(err, ERR_CONFLICT, "%s holds a running rack (rack-sim "
                       "--dir %s down first)", o->dir, o->dir);
    rack_init(r);
    r->foreground = o->foreground;
    r->blind_trust = o->blind_trust;
    r->tls = o->tls;
    r->rate_limit = o->rate_limit;
    r->netns = o->netns;
    r->link_rate = o->link_rate;
    r->link_delay_us = o->link_delay_us;
    r->piece_size = o->piece_size;
    r->period = o->period ? o->period : 2;
    r->min_repl = o->min_repl ? o->min_repl : 3;
    rc = make_dir(r, o->dir, err);
    if (rc < 0)
        return rc;
    rc = rack_guard_start(r->dir, err);
    if (rc < 0)
        return rc;
    if (!o->quiet) {
        printf("rack directory: %s\n", r->dir);
        fflush(stdout);
    }
    r->nsleds = o->sleds;
    r->nrepls = o->replicators;
    for (size_t k = 0; k < r->nsleds; k++) {
        r->sleds[k].link.rate = o->link_rate;
        r->sleds[k].link.delay_us = o->link_delay_us;
        rack_sled_uuid(r->sleds[k].id, k);
        snprintf(r->sleds[k].state, sizeof(r->sleds[k].state), "new");
    }
    for (size_t i = 0; i < r->nrepls; i++)
        snprintf(r->repls[i].state, sizeof(r->repls[i].state), "new");
    rc = start_pki(r, o->quiet, err);
    if (rc == 0 && o->db_ha)
        rc = check_reachable(r->dir, err);
    if (rc == 0)
        rc = start_net(r, o->quiet, err);
    if (rc == 0)
        rc = o->db_ha ? rack_dbha_up(r, o->quiet, err)
                      : start_db(r, o->quiet, err);
    if (rc == 0)
        rc = migrate(r, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < r->nrepls && rc == 0; i++) {
        if (r->netns)
            rc = rack_link_setup_repl(r, i, err);
        if (rc == 0)
            rc = rack_start_repl(r, i, err);
        if (rc == 0 && !o->quiet) {
            char url[128];

            rack_url(url, sizeof(url), r, 'r', i, r->repls[i].port, "");
            printf("replicator %zu: %s (pid %ld)\n", i, url,
                   (long)r->repls[i].p.pid);
        }
    }
    if (rc == 0)
        rc = start_sleds(r, o->quiet, err);
    if (rc < 0)
        goto out;
    rc = rack_state_save(r, err);
    if (rc < 0)
        goto out;
    if (!o->dir && !o->foreground) {
        unlink(RACK_CURRENT_LINK ".tmp");
        if (symlink(r->dir, RACK_CURRENT_LINK ".tmp") == 0)
            rename(RACK_CURRENT_LINK ".tmp", RACK_CURRENT_LINK);
    }
    if (!o->foreground)
        rack_guard_disarm();
out:
    if (rc < 0) {
        rack_state_save(r, NULL);
        rack_down(r, false, NULL);
    }
    fflush(stdout);
    return rc;
}

int rack_down(struct rack *r, bool purge, struct err *err)
{
    int rc = 0, e;

    for (size_t k = 0; k < r->nsleds; k++)
        rack_link_flap_stop(r, k);
    for (size_t k = 0; k < r->nsleds; k++) {
        struct rack_sled *s = &r->sleds[k];

        e = rack_proc_stop(s->p.pid, s->p.start, STOP_TIMEOUT_MS);
        if (e < 0 && rc == 0)
            rc = err_set(err, e, "sled %zu (pid %ld) survived SIGKILL", k,
                         (long)s->p.pid);
        s->p.pid = 0;
        snprintf(s->state, sizeof(s->state), "stopped");
    }
    for (size_t i = 0; i < r->nrepls; i++) {
        struct rack_repl *p = &r->repls[i];

        e = rack_proc_stop(p->p.pid, p->p.start, STOP_TIMEOUT_MS);
        if (e < 0 && rc == 0)
            rc = err_set(err, e, "replicator %zu (pid %ld) survived SIGKILL",
                         i, (long)p->p.pid);
        p->p.pid = 0;
        snprintf(p->state, sizeof(p->state), "stopped");
    }
    if (r->db_ha) {
        e = rack_dbha_down(r, err);
        if (e < 0 && rc == 0)
            rc = e;
    }
    if (r->pgdata[0]) {
        e = rack_pg_stop_dir(r->pgdata, STOP_TIMEOUT_MS);
        if (e < 0 && rc == 0)
            rc = err_set(err, e, "PostgreSQL in %s did not stop", r->pgdata);
        r->pg.pid = 0;
    }
    /* Processes first: a namespace lives on while one runs in it. */
    if (r->netns || (rack_net_leftovers(r) && geteuid() == 0)) {
        e = rack_net_down(r, rc == 0 ? err : NULL);
        if (e < 0 && rc == 0)
            rc = e;
    }
    for (size_t k = 0; k < r->nsleds; k++)
        r->sleds[k].ncuts = 0;
    if (purge) {
        char link[PATH_MAX];
        ssize_t n = readlink(RACK_CURRENT_LINK, link, sizeof(link) - 1);

        if (n > 0) {
            link[n] = '\0';
            if (strcmp(link, r->dir) == 0)
                unlink(RACK_CURRENT_LINK);
        }
        if (rack_rmtree(r->dir) < 0 && rc == 0)
            rc = err_set(err, ERR_IO, "cannot remove %s", r->dir);
    } else if (r->dir[0]) {
        e = rack_state_save(r, rc == 0 ? err : NULL);
        if (e < 0 && rc == 0)
            rc = e;
    }
    return rc;
}
