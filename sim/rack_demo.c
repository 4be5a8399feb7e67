/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_demo: the `rack-sim demo` flow (see rack_demo.h): artifact
 * generation, repository builds, the upload/prune steps with live
 * progress, and the summary. Main thread only.
 */
#include "sim/rack_demo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_check.h"
#include "sim/rack_http.h"
#include "sim/rack_pki.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_up.h"

#define STEP_TIMEOUT_MS 100000
#define TOOL_TIMEOUT_MS 120000
#define CHUNK (1u << 20)
#define MAX_STEPS 3

struct demo {
    const struct rack_demo_opts *o;
    struct rack *r;
    char url[128];
    char log[PATH_MAX + 16];
    uint64_t art_bytes;
    struct rack_poll poll;
    const char *step_name[MAX_STEPS];
    int64_t step_ms[MAX_STEPS];
    size_t nsteps;
    bool tty;
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* D/artifacts/host-demo-I.bin: `bytes` pseudo-random bytes, seeded by i. */
static int make_artifact(const char *dir, unsigned i, uint64_t bytes,
                         struct err *err)
{
    char path[PATH_MAX + 64];
    uint64_t *chunk = mem_alloc(CHUNK), seed = 0x9e3779b97f4a7c15ull * (i + 1);
    int fd = -1, rc = 0;

    snprintf(path, sizeof(path), "%s/host-demo-%u.bin", dir, i);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!chunk || fd < 0) {
        rc = err_set(err, ERR_IO, "create %s: %s", path, strerror(errno));
        goto out;
    }
    while (bytes > 0) {
        size_t n = bytes < CHUNK ? (size_t)bytes : CHUNK;

        for (size_t j = 0; j < CHUNK / sizeof(uint64_t); j++)
            chunk[j] = xorshift(&seed);
        if (write(fd, chunk, n) != (ssize_t)n) {
            rc = err_set(err, ERR_IO, "write %s: %s", path, strerror(errno));
            goto out;
        }
        bytes -= n;
    }
out:
    if (fd >= 0)
        close(fd);
    mem_free(chunk);
    return rc;
}

/* D/vN holding hard links to artifacts [first, first + count). */
static int make_version_dir(struct demo *d, const char *name, unsigned first,
                            unsigned count, struct err *err)
{
    char dir[PATH_MAX + 16], src[PATH_MAX + 64], dst[PATH_MAX + 80];
    int rc;

    snprintf(dir, sizeof(dir), "%s/%s", d->r->dir, name);
    rc = rack_mkdirs(dir, err);
    for (unsigned i = first; rc == 0 && i < first + count; i++) {
        snprintf(src, sizeof(src), "%s/artifacts/host-demo-%u.bin",
                 d->r->dir, i);
        snprintf(dst, sizeof(dst), "%s/host-demo-%u.bin", dir, i);
        if (link(src, dst) < 0 && errno != EEXIST)
            rc = err_set(err, ERR_IO, "link %s: %s", dst, strerror(errno));
    }
    return rc;
}

static int run_tool(struct demo *d, char *const argv[], struct err *err)
{
    int code = 0;
    int rc = rack_run(&code, argv, d->log, TOOL_TIMEOUT_MS, err);

    if (rc == 0 && code != 0)
        rc = err_set(err, ERR_IO, "%s %s exited %d (see %s)", argv[0],
                     argv[1], code, d->log);
    return rc;
}

static int build_repos(struct demo *d, struct err *err)
{
    char adir[PATH_MAX + 16], mk[PATH_MAX], key[PATH_MAX + 16];
    char root[PATH_MAX + 16], in1[PATH_MAX + 8], in2[PATH_MAX + 8];
    char z1[PATH_MAX + 16], z2[PATH_MAX + 16];
    unsigned k = d->o->artifacts, half = k / 2 ? k / 2 : 1;
    int rc;

    snprintf(adir, sizeof(adir), "%s/artifacts", d->r->dir);
    rc = rack_bin(mk, sizeof(mk), "tuf-mkrepo", err);
    if (rc == 0)
        rc = rack_mkdirs(adir, err);
    for (unsigned i = 0; rc == 0 && i < k + half; i++)
        rc = make_artifact(adir, i, d->art_bytes, err);
    if (rc == 0)
        rc = make_version_dir(d, "v1", 0, k, err);
    if (rc == 0)
        rc = make_version_dir(d, "v2", half, k, err);
    if (rc < 0)
        return rc;
    snprintf(key, sizeof(key), "%s/repo-key.pem", d->r->dir);
    snprintf(root, sizeof(root), "%s/root.json", d->r->dir);
    snprintf(in1, sizeof(in1), "%s/v1", d->r->dir);
    snprintf(in2, sizeof(in2), "%s/v2", d->r->dir);
    snprintf(z1, sizeof(z1), "%s/repo-1.0.0.zip", d->r->dir);
    snprintf(z2, sizeof(z2), "%s/repo-2.0.0.zip", d->r->dir);
    {
        char *a1[] = {mk, "--out", z1, "--system-version", "1.0.0",
                      "--from-dir", in1, "--artifact-version", "1.0.0",
                      "--generate-key", key, "--print-root", root, NULL};
        char *a2[] = {mk, "--out", z2, "--system-version", "2.0.0",
                      "--from-dir", in2, "--artifact-version", "1.0.0",
                      "--key", key, NULL};

        rc = run_tool(d, a1, err);
        if (rc == 0)
            rc = run_tool(d, a2, err);
    }
    return rc;
}

/*
 * replicator --url URL ARGS..., on TLS as the operator (RACKDEPOT_TLS_*,
 * as after `rack-sim env`).
 */
static int replicator(struct demo *d, const char *a1, const char *a2,
                      const char *a3, struct err *err)
{
    char bin[PATH_MAX];
    int rc = rack_bin(bin, sizeof(bin), "replicator", err);
    char *argv[] = {bin, "--url", d->url, (char *)a1, (char *)a2,
                    (char *)a3, NULL};

    if (rc < 0)
        return rc;
    rack_pki_cli_env(d->r, true);
    rc = run_tool(d, argv, err);
    rack_pki_cli_env(d->r, false);
    return rc;
}

/* Poll until converged on the wanted set of the database. */
static int wait_converged(struct demo *d, const char *step, struct err *err)
{
    int64_t t0 = rack_now_ms(), last_line = 0;
    json_t *wanted = NULL;
    int drawn = 0, rc;

    rc = rack_wanted_load(&wanted, d->r, err);
    if (rc < 0)
        return rc;
    printf("\n%s: %zu artifacts wanted on %zu sleds\n", step,
           json_object_size(wanted), d->r->nsleds);
    for (;;) {
        int64_t now = rack_now_ms();
        bool done;

        rack_poll_once(&d->poll, d->r, wanted, 1000);
        done = rack_poll_converged(&d->poll, d->r, json_object_size(wanted));
        now = rack_now_ms();
        if (d->tty || done || now - last_line >= 1000) {
            rack_progress(stdout, d->tty, &drawn, step, now - t0, &d->poll,
                          d->r, json_object_size(wanted));
            last_line = now;
        }
        if (done)
            break;
        if (rack_interrupted()) {
            rc = err_set(err, ERR_IO, "interrupted");
            break;
        }
        if (now - t0 > STEP_TIMEOUT_MS) {
            rc = err_set(err, ERR_TIMEOUT, "%s: not converged after %d s "
                         "(replicator log: %s/replicator-0/replicator.log)",
                         step, STEP_TIMEOUT_MS / 1000, d->r->dir);
            break;
        }
        rack_sleep_ms(d->tty ? 250 : 200);
    }
    if (rc == 0 && d->nsteps < MAX_STEPS) {
        d->step_name[d->nsteps] = step;
        d->step_ms[d->nsteps++] = rack_now_ms() - t0;
        printf("%s: converged in %.1f s\n", step,
               (double)(rack_now_ms() - t0) / 1000.0);
    }
    json_decref(wanted);
    return rc;
}

static int check_task(struct demo *d, struct err *err)
{
    char url[192];
    json_t *st = NULL;
    struct err why = ERR_INIT;
    int rc;

    snprintf(url, sizeof(url), "%s/background-tasks/tuf_artifact_replication",
             d->url);
    rc = rack_http_get_json(&st, url, 3000, &why);
    json_decref(st);
    if (rc < 0)
        return err_set(err, ERR_UNAVAIL, "the replicator lacks the "
                       "reconciliation task (%s)", why.msg);
    return 0;
}

static void summary(struct demo *d, size_t problems)
{
    char url[192];
    json_t *st = NULL;
    uint64_t put_ok = 0, depot = 0, copied = 0;

    snprintf(url, sizeof(url), "%s/background-tasks/tuf_artifact_replication",
             d->url);
    if (rack_http_get_json(&st, url, 3000, NULL) == 0)
        put_ok = (uint64_t)json_integer_value(json_object_get(
            json_object_get(st, "lifetime_counters"), "put_ok"));
    json_decref(st);
    for (size_t k = 0; k < d->r->nsleds; k++) {
        struct buf b = BUF_INIT;
        long status = 0;

        rack_url(url, sizeof(url), d->r, 's', k, d->r->sleds[k].api_port,
                 "/metrics");
        if (rack_http_get(&status, &b, url, 2000, NULL) == 0 &&
            status == 200 && buf_putc(&b, '\0') == 0) {
            depot += rack_metric_sum(b.data, "sledagent_depot_bytes_total");
            copied += rack_metric_sum(b.data, "sledagent_copy_bytes_total");
        }
        buf_release(&b);
    }
    printf("\n== summary ==\n");
    for (size_t i = 0; i < d->nsteps; i++)
        printf("  %-22s converged in %6.1f s\n", d->step_name[i],
               (double)d->step_ms[i] / 1000.0);
    printf("  controller -> sleds (PUT): %llu MiB (%llu PUTs of %llu MiB)\n",
           (unsigned long long)(put_ok * d->art_bytes >> 20),
           (unsigned long long)put_ok,
           (unsigned long long)(d->art_bytes >> 20));
    printf("  sled -> sled (depot):      %llu MiB served, %llu MiB copied\n",
           (unsigned long long)(depot >> 20),
           (unsigned long long)(copied >> 20));
    printf("  invariants: exact wanted set with count 2 on every sled: ok\n");
    printf("  invariants: files under final names hash to their names, "
           "nothing outside trash/: %s\n", problems ? "FAILED" : "ok");
    printf("  invariants: no sled generation decreased: %s\n",
           d->poll.gen_decreases ? d->poll.gen_note : "ok");
}

static int demo_steps(struct demo *d, struct err *err)
{
    char z[PATH_MAX + 32], root[PATH_MAX + 16];
    json_t *wanted = NULL;
    size_t problems;
    int rc;

    rack_repl_url(d->url, sizeof(d->url), d->r);
    rc = check_task(d, err);
    if (rc < 0)
        return rc;
    printf("building two repositories of %u artifacts of %llu MiB "
           "(sharing %u)...\n", d->o->artifacts,
           (unsigned long long)(d->art_bytes >> 20), d->o->artifacts -
           (d->o->artifacts / 2 ? d->o->artifacts / 2 : 1));
    rc = build_repos(d, err);
    if (rc < 0)
        return rc;
    snprintf(root, sizeof(root), "%s/root.json", d->r->dir);
    rc = replicator(d, "trust-root", "add", root, err);
    if (rc < 0)
        return rc;
    snprintf(z, sizeof(z), "%s/repo-1.0.0.zip", d->r->dir);
    rc = replicator(d, "repo", "upload", z, err);
    if (rc == 0)
        rc = wait_converged(d, "upload 1.0.0", err);
    snprintf(z, sizeof(z), "%s/repo-2.0.0.zip", d->r->dir);
    if (rc == 0)
        rc = replicator(d, "repo", "upload", z, err);
    if (rc == 0)
        rc = wait_converged(d, "upload 2.0.0", err);
    if (rc == 0)
        rc = replicator(d, "repo", "prune", "1.0.0", err);
    if (rc == 0)
        rc = wait_converged(d, "prune 1.0.0", err);
    if (rc < 0)
        return rc;
    rc = rack_wanted_load(&wanted, d->r, err);
    if (rc < 0)
        return rc;
    printf("\nchecking every dataset (hashing every stored file)...\n");
    problems = rack_check_datasets(stdout, d->r, wanted);
    json_decref(wanted);
    summary(d, problems);
    if (problems || d->poll.gen_decreases)
        return err_set(err, ERR_INTERNAL, "invariants violated (%zu dataset "
                       "problems, %zu generation decreases)", problems,
                       d->poll.gen_decreases);
    return 0;
}

int rack_demo(const struct rack_demo_opts *o)
{
    struct rack_up_opts up;
    struct err err = ERR_INIT;
    struct demo d;
    int64_t t0 = rack_now_ms();
    int rc;

    memset(&d, 0, sizeof(d));
    memset(&up, 0, sizeof(up));
    d.o = o;
    d.tty = isatty(STDOUT_FILENO) == 1;
    if (o->artifacts < 2 || o->artifacts > 64 || o->size_mib == 0)
        return fprintf(stderr, "rack-sim demo: need 2..64 artifacts and a "
                       "size\n"), 2;
    d.art_bytes = ((uint64_t)o->size_mib << 20) / o->artifacts;
    d.r = mem_calloc(1, sizeof(*d.r));
    if (!d.r) {
        fprintf(stderr, "rack-sim demo: out of memory\n");
        return 1;
    }
    up.sleds = o->sleds ? o->sleds : 8;
    up.replicators = 1;
    up.rate_limit = o->rate_limit;
    up.period = 2;
    up.min_repl = 3;
    up.blind_trust = false; /* the demo registers its root as a trust root */
    /* --keep: the rack outlives the demo, for a look (issue 15) */
    up.foreground = !o->keep;
    up.tls = o->tls;
    up.netns = o->netns;
    up.link_rate = o->link_rate;
    up.link_delay_us = o->link_delay_us;
    printf("rack-sim demo: %zu sleds, 1 replicator, %s, %s\n", up.sleds,
           o->tls ? "mutual TLS (--tls)" : "plaintext (--insecure-plaintext)",
           o->netns ? "a network namespace per member (--net netns)" :
           "loopback");
    rc = rack_up(d.r, &up, &err);
    if (rc < 0)
        goto out;
    if (d.r->nrepls && d.r->repls[0].ui_port)
        printf("status page: http://127.0.0.1:%u/ui\n", d.r->repls[0].ui_port);
    snprintf(d.log, sizeof(d.log), "%s/demo-tools.log", d.r->dir);
    rc = demo_steps(&d, &err);
out:
    if (d.r->dir[0] && (!o->keep || rack_interrupted())) {
        rack_down(d.r, !o->keep, NULL);
    } else if (d.r->dir[0]) {
        printf("the rack is left running (--keep): rack-sim --dir %s status; "
               "stop it with rack-sim --dir %s down --purge\n", d.r->dir,
               d.r->dir);
        if (d.r->nrepls && d.r->repls[0].ui_port)
            printf("status page: http://127.0.0.1:%u/ui\n",
                   d.r->repls[0].ui_port);
    }
    mem_free(d.r);
    if (rc < 0 && rack_interrupted()) {
        fprintf(stderr, "rack-sim demo: interrupted; the rack was stopped%s\n",
                o->keep ? "" : " and removed");
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "rack-sim demo: FAILED: %s\n", err.msg);
        return 1;
    }
    printf("rack-sim demo: OK in %.1f s\n",
           (double)(rack_now_ms() - t0) / 1000.0);
    return 0;
}
