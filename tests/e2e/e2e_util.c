/* SPDX-License-Identifier: MPL-2.0 */
/*
 * e2e_util: the shared harness of the rack-sim e2e scenarios: one rack
 * per test driven through the real rack-sim, replicator and tuf-mkrepo
 * binaries, polled through the simulator's own library (sim/rack_*), with
 * the invariants of DESIGN.md section 8 checked on every poll and at the
 * end. The rack's mode (rack.json's "tls") is followed: URLs take its
 * scheme and, on TLS, the harness's own requests present the operator's
 * certificate and the replicator CLI runs with RACKDEPOT_TLS_*. See
 * e2e_util.h. cmocka main thread only.
 */
#include "tests/e2e/e2e_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/rack_pki.h"
#include "sim/rack_status.h"
#include "sim/rack_net.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define MAX_ARGS 32
#define CMD_TIMEOUT_MS 120000
#define POLL_TIMEOUT_MS 1500

static bool is_hex64(const char *s)
{
    return testutil_is_hex64(s);
}

struct e2e *e2e_new(const char *prefix)
{
    struct e2e *t = mem_calloc(1, sizeof(*t));

    assert_non_null(t);
    assert_int_equal(testutil_tmpdir(&t->dir, prefix), 0);
    /* As root, PostgreSQL runs as postgres and must traverse D. */
    assert_int_equal(chmod(t->dir, 0755), 0);
    t->rs = proc_bin_path("rack-sim");
    t->mk = proc_bin_path("tuf-mkrepo");
    t->repl = proc_bin_path("replicator");
    assert_non_null(t->rs);
    assert_non_null(t->mk);
    assert_non_null(t->repl);
    snprintf(t->log, sizeof(t->log), "%s/tools.log", t->dir);
    t->wanted = json_object();
    t->replicated = json_object();
    t->hashed = json_object();
    t->check_inv1 = true;
    t->t0 = testutil_now_ms();
    return t;
}

int e2e_free(struct e2e *t)
{
    char log[PATH_MAX + 16];
    int code = 0, ret = 0;
    const char *keep = getenv("RD_E2E_KEEP");
    size_t left;

    if (!t)
        return 0;
    snprintf(log, sizeof(log), "%s/down.log", t->dir);
    {
        char *down[] = {t->rs, "--dir", t->dir, "down", NULL};

        proc_run(&code, t->rs, down, log, 60000);
    }
    /* A netns rack leaves no namespace or link behind. */
    left = t->r.dir[0] ? rack_net_leftovers(&t->r) : 0;
    if (left) {
        fprintf(stderr, "e2e: %zu namespaces/links of %s left after down\n",
                left, t->dir);
        ret = -1;
    }
    if (keep && *keep == '1')
        fprintf(stderr, "e2e: kept %s\n", t->dir);
    else
        testutil_rmrf(t->dir);
    json_decref(t->wanted);
    json_decref(t->replicated);
    json_decref(t->hashed);
    mem_free(t->dir);
    mem_free(t->rs);
    mem_free(t->mk);
    mem_free(t->repl);
    mem_free(t);
    return ret;
}

int e2e_teardown(void **state)
{
    int rc = e2e_free(*state);

    *state = NULL;
    return rc;
}

int64_t e2e_elapsed(const struct e2e *t)
{
    return testutil_now_ms() - t->t0;
}

/* Append file src to t->log with a header line. */
static void keep_output(struct e2e *t, const char *src, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    if (testutil_read_file(&text, &len, src) < 0)
        return;
    f = fopen(t->log, "a");
    if (f) {
        fprintf(f, "==== [%.1fs] %s\n%s\n", (double)e2e_elapsed(t) / 1000.0,
                what, text);
        fclose(f);
    }
    mem_free(text);
}

static int run_argv(struct e2e *t, char **out, long timeout_ms,
                    char *const argv[])
{
    char path[PATH_MAX + 32], what[512];
    size_t len = 0, w = 0;
    int code = -1000, rc;

    snprintf(path, sizeof(path), "%s/cmd-%u.out", t->dir, t->ncmd++);
    for (size_t i = 0; argv[i] && w < sizeof(what) - 1; i++) {
        const char *a = argv[i], *slash = i == 0 ? strrchr(a, '/') : NULL;
        int n = snprintf(what + w, sizeof(what) - w, "%s%s", i ? " " : "",
                         slash ? slash + 1 : a);

        if (n < 0)
            break;
        w += (size_t)n;
        if (w >= sizeof(what))
            w = sizeof(what) - 1;
    }
    rc = proc_run(&code, argv[0], argv, path, timeout_ms);
    if (rc < 0) {
        testutil_print_tail(what, path, 4000);
        fail_msg("%s: %s", what, rc == ERR_TIMEOUT ? "timed out" : "spawn");
    }
    keep_output(t, path, what);
    if (out) {
        *out = NULL;
        if (testutil_read_file(out, &len, path) < 0) {
            *out = mem_strdup("");
            assert_non_null(*out);
        }
    }
    unlink(path);
    return code;
}

static size_t collect_args(char **argv, size_t n, va_list ap)
{
    const char *a;

    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(n < MAX_ARGS - 1);
        argv[n++] = (char *)a;
    }
    argv[n] = NULL;
    return n;
}

int e2e_runv(struct e2e *t, char **out, long timeout_ms, const char *path,
             ...)
{
    char *argv[MAX_ARGS];
    va_list ap;

    argv[0] = (char *)path;
    va_start(ap, path);
    collect_args(argv, 1, ap);
    va_end(ap);
    return run_argv(t, out, timeout_ms, argv);
}

static void reload(struct e2e *t)
{
    struct err err = ERR_INIT;

    if (rack_state_load(&t->r, t->dir, &err) < 0)
        fail_msg("rack state %s: %s", t->dir, err.msg);
    rack_pki_use(&t->r);
}

static int sim_va(struct e2e *t, char **out, va_list ap)
{
    char *argv[MAX_ARGS], *text = NULL;
    int code;

    argv[0] = t->rs;
    argv[1] = "--dir";
    argv[2] = t->dir;
    collect_args(argv, 3, ap);
    code = run_argv(t, &text, CMD_TIMEOUT_MS, argv);
    if (code != 0)
        fprintf(stderr, "rack-sim %s %s exited %d:\n%s\n", argv[3],
                argv[4] ? argv[4] : "", code, text);
    if (testutil_exists(t->dir) && code == 0)
        reload(t);
    else if (code != 0) {
        char state[PATH_MAX + 16];

        snprintf(state, sizeof(state), "%s/rack.json", t->dir);
        if (testutil_exists(state))
            reload(t);
    }
    if (out)
        *out = text;
    else
        mem_free(text);
    return code;
}

void e2e_sim(struct e2e *t, char **out, ...)
{
    va_list ap;
    int code;

    va_start(ap, out);
    code = sim_va(t, out, ap);
    va_end(ap);
    if (code != 0)
        fail_msg("rack-sim command exited %d (see %s)", code, t->log);
}

int e2e_sim_code(struct e2e *t, char **out, ...)
{
    va_list ap;
    int code;

    va_start(ap, out);
    code = sim_va(t, out, ap);
    va_end(ap);
    return code;
}

char *e2e_mode_flag(void)
{
    const char *m = getenv("RD_E2E_MODE");

    if (m && !strcmp(m, "tls"))
        return "--tls";
    if (m && !strcmp(m, "plaintext"))
        return "--insecure-plaintext";
    return NULL;
}

char *e2e_net_flag(void)
{
    const char *n = getenv("RD_E2E_NET");

    return n && !strcmp(n, "netns") ? "--net=netns" : NULL;
}

void e2e_up(struct e2e *t, size_t sleds, size_t repls, ...)
{
    char *argv[MAX_ARGS], ns[16], nr[16];
    va_list ap;
    size_t n;
    int code;

    snprintf(ns, sizeof(ns), "%zu", sleds);
    snprintf(nr, sizeof(nr), "%zu", repls);
    argv[0] = t->rs;
    argv[1] = "up";
    argv[2] = "--sleds";
    argv[3] = ns;
    argv[4] = "--replicators";
    argv[5] = nr;
    argv[6] = "--dir";
    argv[7] = t->dir;
    argv[8] = "--period";
    argv[9] = "2";
    n = 10;
    if (e2e_mode_flag())
        argv[n++] = e2e_mode_flag();
    if (e2e_net_flag())
        argv[n++] = e2e_net_flag();
    va_start(ap, repls);
    collect_args(argv, n, ap);
    va_end(ap);
    code = run_argv(t, NULL, CMD_TIMEOUT_MS, argv);
    if (code != 0) {
        testutil_print_tail("tools.log", t->log, 6000);
        fail_msg("rack-sim up exited %d", code);
    }
    reload(t);
    /* The rack runs in the mode asked for (or rack-sim's default). */
    fprintf(stderr, "e2e: rack on %s, %s\n",
            t->r.tls ? "mutual TLS" : "plaintext",
            t->r.netns ? "a namespace per member" : "loopback");
    assert_int_equal(t->r.netns, e2e_net_flag() != NULL);
    assert_int_equal(t->r.tls, e2e_mode_flag() ? !strcmp(e2e_mode_flag(), "--tls")
                                           : RACK_TLS_DEFAULT);
}

char *e2e_mkrepo(struct e2e *t, const char *name, const char *version,
                 unsigned count, unsigned bytes, unsigned seed)
{
    char *zip = testutil_join(t->dir, name), spec[64], sd[16];
    int code;

    assert_non_null(zip);
    snprintf(spec, sizeof(spec), "%u:%u", count, bytes);
    snprintf(sd, sizeof(sd), "%u", seed);
    code = e2e_runv(t, NULL, CMD_TIMEOUT_MS, t->mk, "--out", zip,
                    "--system-version", version, "--random", spec, "--seed",
                    sd, (char *)NULL);
    if (code != 0)
        fail_msg("tuf-mkrepo exited %d (see %s)", code, t->log);
    return zip;
}

/* The JSON document on the output: the first line starting with '{'. */
static json_t *parse_doc(const char *text)
{
    const char *p = text;

    while (p && *p) {
        if (*p == '{')
            return json_loads(p, JSON_DISABLE_EOF_CHECK, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

static int repl_va(struct e2e *t, size_t i, json_t **out, va_list ap)
{
    char *argv[MAX_ARGS], url[128], *text = NULL;
    int code;

    e2e_repl_url(url, sizeof(url), t, i);
    argv[0] = t->repl;
    argv[1] = "--url";
    argv[2] = url;
    argv[3] = "--json";
    collect_args(argv, 4, ap);
    rack_pki_cli_env(&t->r, true);
    code = run_argv(t, &text, CMD_TIMEOUT_MS, argv);
    rack_pki_cli_env(&t->r, false);
    if (out)
        *out = parse_doc(text);
    if (code != 0)
        fprintf(stderr, "replicator %s %s exited %d:\n%s\n", argv[4],
                argv[5] ? argv[5] : "", code, text);
    mem_free(text);
    return code;
}

int e2e_repl(struct e2e *t, size_t i, json_t **out, ...)
{
    va_list ap;
    int code;

    va_start(ap, out);
    code = repl_va(t, i, out, ap);
    va_end(ap);
    return code;
}

json_t *e2e_repl_ok(struct e2e *t, size_t i, ...)
{
    json_t *doc = NULL;
    va_list ap;
    int code;

    va_start(ap, i);
    code = repl_va(t, i, &doc, ap);
    va_end(ap);
    if (code != 0)
        fail_msg("replicator command exited %d (see %s)", code, t->log);
    if (!doc)
        doc = json_object();
    return doc;
}

void e2e_reload_wanted(struct e2e *t)
{
    struct err err = ERR_INIT;
    json_t *w = NULL;

    if (rack_wanted_load(&w, &t->r, &err) < 0)
        fail_msg("wanted set: %s", err.msg);
    json_decref(t->wanted);
    t->wanted = w;
}

void e2e_exempt(struct e2e *t, const char *path)
{
    assert_true(t->nexempt < E2E_MAX_EXEMPT);
    snprintf(t->exempt[t->nexempt++], PATH_MAX, "%s", path);
}

void e2e_path(char *out, size_t cap, const struct e2e *t, size_t k,
              char which, const char *name)
{
    char ds[PATH_MAX];

    rack_path_dataset(ds, sizeof(ds), &t->r, k, which);
    if (name)
        snprintf(out, cap, "%s/%s", ds, name);
    else
        snprintf(out, cap, "%s", ds);
}

static bool exempted(const struct e2e *t, const char *path)
{
    for (size_t i = 0; i < t->nexempt; i++)
        if (strcmp(t->exempt[i], path) == 0)
            return true;
    return false;
}

/*
 * Invariant 2 on one file under a final name: re-hash it when it changed
 * since it was last verified. Returns false (with why) on a wrong hash.
 */
static bool verify_file(struct e2e *t, const char *path, const char *name,
                        char *why, size_t cap)
{
    struct stat st;
    char key[128], hex[SHA256_HEX_LEN + 1];
    struct sha256 h;
    const char *old;

    if (lstat(path, &st) < 0)
        return true; /* moved away meanwhile */
    snprintf(key, sizeof(key), "%lld:%lld.%09ld:%llu", (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
             (unsigned long long)st.st_ino);
    old = json_string_value(json_object_get(t->hashed, path));
    if (old && strcmp(old, key) == 0)
        return true;
    if (testutil_sha256_file(&h, path) < 0)
        return true; /* vanished between stat and open */
    sha256_to_hex(hex, &h);
    if (strcmp(hex, name) != 0) {
        if (exempted(t, path))
            return true;
        snprintf(why, cap, "%s: content hashes to %s (%lld bytes)", path, hex,
                 (long long)st.st_size);
        return false;
    }
    json_object_set_new(t->hashed, path, json_string(key));
    return true;
}

/* Invariant 2 over one directory (a dataset root or its trash/). */
static void verify_dir(struct e2e *t, const char *dir)
{
    char path[PATH_MAX + 80], why[PATH_MAX + 200];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!is_hex64(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!verify_file(t, path, e->d_name, why, sizeof(why))) {
            closedir(d);
            fail_msg("invariant 2 (no partial or wrong file under a final "
                     "name) violated at %.1fs: %s",
                     (double)e2e_elapsed(t) / 1000.0, why);
        }
    }
    closedir(d);
}

/* Invariant 3 on the ledger files themselves (sampled even when hung). */
static void check_ledgers(struct e2e *t)
{
    char path[PATH_MAX + 40];

    for (size_t k = 0; k < t->r.nsleds; k++) {
        for (int w = 0; w < 2; w++) {
            json_t *doc;
            uint64_t g;

            e2e_path(path, sizeof(path), t, k, (char)('A' + w),
                     "artifact-config.json");
            doc = json_load_file(path, 0, NULL);
            if (!doc)
                continue; /* no ledger (yet), or a removed dataset */
            g = (uint64_t)json_integer_value(json_object_get(doc,
                                                             "generation"));
            json_decref(doc);
            if (g < t->ledger_max[k][w])
                fail_msg("invariant 3 violated: sled %zu dataset %c ledger "
                         "generation went from %llu to %llu",
                         k, 'A' + w, (unsigned long long)t->ledger_max[k][w],
                         (unsigned long long)g);
            t->ledger_max[k][w] = g;
        }
    }
}

/* Whether some replicator's staging holds a repo file named hex. */
static bool staged_anywhere(const struct e2e *t, const char *hex)
{
    char rdir[PATH_MAX], path[PATH_MAX * 2];

    for (size_t i = 0; i < t->r.nrepls; i++) {
        struct dirent *e;
        DIR *d;

        rack_path_repl(rdir, sizeof(rdir), &t->r, i);
        snprintf(path, sizeof(path), "%s/staging/repos", rdir);
        d = opendir(path);
        if (!d)
            continue;
        while ((e = readdir(d)) != NULL) {
            char f[PATH_MAX * 2 + 80];

            if (e->d_name[0] == '.')
                continue;
            snprintf(f, sizeof(f), "%s/%s/%s", path, e->d_name, hex);
            if (testutil_exists(f)) {
                closedir(d);
                return true;
            }
        }
        closedir(d);
    }
    return false;
}

static void check_inv1(struct e2e *t)
{
    const char *h;
    json_t *v;
    char path[PATH_MAX + 80];

    json_object_foreach(t->replicated, h, v) {
        bool held = false;

        (void)v;
        if (!json_object_get(t->wanted, h))
            continue;
        for (size_t k = 0; k < t->r.nsleds && !held; k++)
            for (char w = 'A'; w <= 'B' && !held; w++) {
                e2e_path(path, sizeof(path), t, k, w, h);
                held = testutil_exists(path);
            }
        if (!held && !staged_anywhere(t, h))
            fail_msg("invariant 1 violated at %.1fs: wanted artifact %s, "
                     "once replicated, is on no sled and staged nowhere",
                     (double)e2e_elapsed(t) / 1000.0, h);
    }
}

void e2e_poll(struct e2e *t)
{
    char ds[PATH_MAX], trash[PATH_MAX + 8];

    rack_poll_once(&t->poll, &t->r, t->wanted, POLL_TIMEOUT_MS);
    if (t->poll.gen_decreases)
        fail_msg("invariant 3 violated: %s", t->poll.gen_note);
    check_ledgers(t);
    /* Remember every wanted artifact a sled listed: from now on it must
     * always be held somewhere (invariant 1). */
    for (size_t k = 0; k < t->r.nsleds; k++) {
        json_t *inv = NULL, *c;
        const char *h;

        if (!t->poll.up[k] ||
            rack_sled_inventory(&inv, &t->r, k, POLL_TIMEOUT_MS, NULL) < 0)
            continue;
        json_object_foreach(json_object_get(inv, "list"), h, c) {
            if (json_integer_value(c) > 0 && json_object_get(t->wanted, h))
                json_object_set_new(t->replicated, h, json_true());
        }
        json_decref(inv);
    }
    for (size_t k = 0; k < t->r.nsleds; k++)
        for (char w = 'A'; w <= 'B'; w++) {
            rack_path_dataset(ds, sizeof(ds), &t->r, k, w);
            verify_dir(t, ds);
            snprintf(trash, sizeof(trash), "%s/trash", ds);
            verify_dir(t, trash);
        }
    if (t->check_inv1)
        check_inv1(t);
}

bool e2e_converged(const struct e2e *t, uint64_t mask)
{
    size_t n = json_object_size(t->wanted);

    for (size_t k = 0; k < t->r.nsleds; k++) {
        if (k < 64 && !(mask & (1ull << k)))
            continue;
        if (!t->poll.up[k] || t->poll.held[k] != n || t->poll.extra[k] != 0)
            return false;
    }
    return true;
}

int64_t e2e_wait(struct e2e *t, e2e_cond_fn cond, void *arg, long timeout_ms,
                 const char *what)
{
    int64_t t0 = testutil_now_ms(), last = 0;

    for (;;) {
        int64_t now;

        e2e_poll(t);
        if (cond(t, arg))
            return testutil_now_ms() - t0;
        now = testutil_now_ms();
        if (now - last >= 5000) {
            rack_progress(stderr, false, NULL, what, e2e_elapsed(t),
                          &t->poll, &t->r, json_object_size(t->wanted));
            last = now;
        }
        if (now - t0 > timeout_ms) {
            rack_progress(stderr, false, NULL, what, e2e_elapsed(t),
                          &t->poll, &t->r, json_object_size(t->wanted));
            fail_msg("timed out after %ld ms: %s (rack kept in %s only with "
                     "RD_E2E_KEEP=1)",
                     timeout_ms, what, t->dir);
        }
        testutil_sleep_ms(250); /* pacing between polls */
    }
}

static bool cond_converged(struct e2e *t, void *arg)
{
    return e2e_converged(t, *(uint64_t *)arg);
}

int64_t e2e_wait_converged(struct e2e *t, uint64_t mask, long timeout_ms,
                           const char *what)
{
    return e2e_wait(t, cond_converged, &mask, timeout_ms, what);
}

static size_t final_dataset(FILE *f, struct e2e *t, const char *ds)
{
    char path[PATH_MAX + 80], why[PATH_MAX + 200];
    size_t problems = 0, found = 0;
    struct dirent *e;
    DIR *d = opendir(ds);
    long n;

    if (!d)
        return 0; /* not a healthy dataset: nothing to hold */
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;

        if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, "trash") ||
            !strcmp(nm, "tmp") || !strcmp(nm, "quarantine") ||
            !strcmp(nm, "artifact-config.json"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", ds, nm);
        if (!is_hex64(nm) || !json_object_get(t->wanted, nm)) {
            fprintf(f, "  %s: not a wanted artifact, outside trash/\n", path);
            problems++;
            continue;
        }
        found++;
        json_object_del(t->hashed, path); /* re-hash everything at the end */
        if (!verify_file(t, path, nm, why, sizeof(why)) ||
            exempted(t, path)) {
            /* An exempted (corrupted on purpose) file must be gone now. */
            struct sha256 h;
            char hex[SHA256_HEX_LEN + 1] = "";

            if (testutil_sha256_file(&h, path) == 0)
                sha256_to_hex(hex, &h);
            if (strcmp(hex, nm) != 0) {
                fprintf(f, "  %s: content hashes to %s\n", path, hex);
                problems++;
            }
        }
    }
    closedir(d);
    if (found != json_object_size(t->wanted)) {
        fprintf(f, "  %s: holds %zu of %zu wanted artifacts\n", ds, found,
                json_object_size(t->wanted));
        problems++;
    }
    snprintf(path, sizeof(path), "%s/tmp", ds);
    n = testutil_dir_count(path);
    if (n > 0) {
        fprintf(f, "  %s: %ld entries left in tmp/\n", ds, n);
        problems++;
    }
    snprintf(path, sizeof(path), "%s/quarantine", ds);
    d = opendir(path);
    if (d) {
        while ((e = readdir(d)) != NULL)
            if (is_hex64(e->d_name)) {
                fprintf(f, "  %s/%s: a final name in quarantine/\n", path,
                        e->d_name);
                problems++;
            }
        closedir(d);
    }
    return problems;
}

/* Problems of every dataset of the sleds in mask, reported to f. */
static size_t final_problems(FILE *f, struct e2e *t, uint64_t mask)
{
    char ds[PATH_MAX];
    size_t problems = 0;

    for (size_t k = 0; k < t->r.nsleds; k++) {
        if (k < 64 && !(mask & (1ull << k)))
            continue;
        for (char w = 'A'; w <= 'B'; w++) {
            rack_path_dataset(ds, sizeof(ds), &t->r, k, w);
            problems += final_dataset(f, t, ds);
        }
    }
    return problems;
}

void e2e_check_final(struct e2e *t, uint64_t mask)
{
    FILE *quiet = fopen("/dev/null", "w");
    int64_t deadline = testutil_now_ms() + 15000;
    size_t problems;

    /* A poll that lost a sled's answer (a lossy netns link, a loaded
     * machine) is asked again until the deadline: converged means every
     * sled answers with the wanted set. */
    e2e_poll(t);
    while (!e2e_converged(t, mask) && testutil_now_ms() < deadline) {
        testutil_sleep_ms(250);
        e2e_poll(t);
    }
    if (!e2e_converged(t, mask))
        fail_msg("check_final: the sleds have not converged");
    /*
     * Invariant 4 holds "after convergence", i.e. once the rack is quiet: a
     * redundant write of an artifact already held (two replicators racing
     * for it, both safe) may still be draining through tmp/. Give in-flight
     * work a bounded time to settle, then report what remains.
     */
    assert_non_null(quiet);
    while (final_problems(quiet, t, mask) > 0 &&
           testutil_now_ms() < deadline)
        testutil_sleep_ms(200);
    fclose(quiet);
    problems = final_problems(stderr, t, mask);
    if (problems)
        fail_msg("invariant 4: %zu problem(s) in the datasets (above)",
                 problems);
}

size_t e2e_dataset_files(struct e2e *t, size_t k, char which)
{
    char ds[PATH_MAX];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    e2e_path(ds, sizeof(ds), t, k, which, NULL);
    d = opendir(ds);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (is_hex64(e->d_name))
            n++;
    closedir(d);
    return n;
}

bool e2e_dataset_has(struct e2e *t, size_t k, char which, const char *hex)
{
    char path[PATH_MAX + 80];

    e2e_path(path, sizeof(path), t, k, which, hex);
    return testutil_exists(path);
}
