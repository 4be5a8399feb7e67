/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_e2e_netns: a rack on a real (virtual) network (`rack-sim up --net
 * netns`, issue 14; root only, registered by tests/cmake/sim.cmake when
 * the build is configured as root, as in CI).
 * 1. partition: 4 sleds, each in its namespace with its ULA address; no
 *    namespace of the rack routes anything but the rack's /48 (the rack
 *    namespace routes nothing), the host has one route, to the /48.
 *    A first upload converges; sled 3's link is cut while its agent keeps
 *    running; a second upload converges on the other three; after heal it
 *    completes. A one-way cut (out of the sled) makes its API time out
 *    from the host though the sled hears us; heal restores it. After
 *    `down` (teardown) no namespace or link is left.
 * 2. killed: a foreground `up` SIGKILLed leaves namespaces; the next `up`
 *    in that directory removes them and comes up; after `down` and
 *    another kill, `down` alone removes them.
 * 3. not root: `up --net netns` as nobody exits 1 saying it needs root.
 * Invariants 1-3 are checked on every poll, 4 at the end (e2e_util).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "sim/rack_net.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_status.h"
#include "sim/rack_up.h"
#include "tests/e2e/e2e_util.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define SLEDS 4
#define PARTED 3
#define ONEWAY 1
#define ART_BYTES (256u << 10)

/* Every line of `ip -n NS -FAMILY route show` must be a route to the
 * rack's /48 or link-local; returns the number of lines. */
static size_t check_routes(struct e2e *t, const char *ns, const char *family,
                           const char *p48)
{
    char *out = NULL, *line, *save = NULL;
    size_t n = 0;
    int code = e2e_runv(t, &out, 20000, "/usr/sbin/ip", "-n", ns, family,
                        "route", "show", (char *)NULL);

    assert_int_equal(code, 0);
    for (line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        n++;
        if (strncmp(line, p48, strlen(p48)) != 0 &&
            strncmp(line, "fe80::/64 ", 10) != 0)
            fail_msg("namespace %s routes %s", ns, line);
    }
    mem_free(out);
    return n;
}

static void check_network(struct e2e *t)
{
    char *out = NULL, ns[RACK_NET_NAME_MAX], p48[64], addr[RACK_NET_ADDR_MAX];
    char want[128], hl[RACK_NET_NAME_MAX];
    json_t *st, *s;
    size_t k;

    e2e_sim(t, &out, "status", "--json", (char *)NULL);
    st = json_loads(out, 0, NULL);
    assert_non_null(st);
    rack_net_prefix48(p48, sizeof(p48), &t->r);
    assert_string_equal(jsonu_str(json_object_get(st, "net"), "mode"),
                        "netns");
    assert_string_equal(jsonu_str(json_object_get(st, "net"), "prefix"), p48);
    json_array_foreach(json_object_get(st, "sleds"), k, s) {
        rack_net_ns(ns, sizeof(ns), &t->r, 's', k);
        rack_net_addr(addr, sizeof(addr), &t->r, 's', k);
        assert_string_equal(jsonu_str(s, "namespace"), ns);
        assert_string_equal(jsonu_str(s, "address"), addr);
        snprintf(want, sizeof(want), "[%s]:", addr);
        assert_non_null(strstr(jsonu_str(s, "api_url"), want));
        assert_non_null(strstr(jsonu_str(s, "depot_url"), want));
        /* The agent registered and got the rack's config over IPv6. */
        assert_true(json_integer_value(json_object_get(s, "generation")) >= 1);
        /* Nothing but the /48 (its own prefix route is not installed). */
        assert_int_equal(check_routes(t, ns, "-6", p48), 2);
        assert_int_equal(check_routes(t, ns, "-4", p48), 0);
    }
    s = json_array_get(json_object_get(st, "replicators"), 0);
    rack_net_ns(ns, sizeof(ns), &t->r, 'r', 0);
    assert_string_equal(jsonu_str(s, "namespace"), ns);
    check_routes(t, ns, "-6", p48);
    rack_net_ns(ns, sizeof(ns), &t->r, 'd', 0);
    check_routes(t, ns, "-6", p48);
    /* The rack namespace (the bridge) routes nothing at all. */
    rack_net_ns(ns, sizeof(ns), &t->r, 'k', 0);
    assert_int_equal(check_routes(t, ns, "-6", p48), 0);
    assert_int_equal(check_routes(t, ns, "-4", p48), 0);
    /* The host: through its veth only the /48 (and link-local). */
    rack_net_host_link(hl, sizeof(hl), &t->r);
    mem_free(out);
    out = NULL;
    assert_int_equal(e2e_runv(t, &out, 20000, "/usr/sbin/ip", "-6", "route",
                              "show", "dev", hl, (char *)NULL), 0);
    snprintf(want, sizeof(want), "%s dev", p48);
    assert_non_null(strstr(out, p48));
    {
        char *line, *save = NULL;

        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            assert_true(strncmp(line, p48, strlen(p48)) == 0 ||
                        strncmp(line, "fe80::/64 ", 10) == 0);
    }
    mem_free(out);
    json_decref(st);
}

/* The state letter of pid in /proc (R, S, T, ...). */
static char proc_state(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return '?';
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && p[1] && p[2] ? p[2] : '?';
}

/* Whether `tc -n NS WHAT show dev DEV` says want. */
static bool tc_says(struct e2e *t, const char *ns, const char *what,
                    const char *dev, const char *want)
{
    char *out = NULL;
    bool found;

    assert_int_equal(e2e_runv(t, &out, 20000, "/usr/sbin/tc", "-n", ns, what,
                              "show", "dev", dev, (char *)NULL), 0);
    found = out && strstr(out, want) != NULL;
    if (!found)
        fprintf(stderr, "tc -n %s %s show dev %s: no \"%s\" in:\n%s\n", ns,
                what, dev, want, out ? out : "");
    mem_free(out);
    return found;
}

/* `link 0 --rate 2M` reaches both ends of the link's htb class; --delay
 * either puts netem there or, where the kernel has none, fails saying so
 * and changes nothing. */
static void check_link_cmd(struct e2e *t)
{
    char sns[RACK_NET_NAME_MAX], kns[RACK_NET_NAME_MAX], *out = NULL;
    int code;

    rack_net_ns(sns, sizeof(sns), &t->r, 's', 0);
    rack_net_ns(kns, sizeof(kns), &t->r, 'k', 0);
    e2e_sim(t, NULL, "link", "0", "--rate", "2M", (char *)NULL);
    assert_int_equal(t->r.sleds[0].link.rate, 2u << 20);
    assert_true(tc_says(t, sns, "class", "eth0", "rate 16777Kbit"));
    assert_true(tc_says(t, kns, "class", "s0", "rate 16777Kbit"));
    code = e2e_sim_code(t, &out, "link", "0", "--delay", "5ms", (char *)NULL);
    if (code == 0) {
        assert_true(tc_says(t, sns, "qdisc", "eth0", "netem"));
        assert_int_equal(t->r.sleds[0].link.delay_us, 5000);
    } else {
        assert_int_equal(code, 1);
        assert_non_null(strstr(out, "CONFIG_NET_SCH_NETEM"));
        assert_int_equal(t->r.sleds[0].link.delay_us, 0);
    }
    mem_free(out);
    e2e_sim(t, NULL, "link", "0", "--rate", "0", "--delay", "0",
            (char *)NULL);
    assert_true(tc_says(t, sns, "class", "eth0", "rate 100Gbit"));
}

static void test_e2e_netns__partition_converge_heal(void **state)
{
    struct e2e *t = *state;
    uint64_t others = E2E_ALL & ~(1ull << PARTED);
    struct err err = ERR_INIT;
    json_t *doc, *inv = NULL;
    char *z1, *z2;
    int64_t ms;

    e2e_up(t, SLEDS, 1, "--link-rate", "16M", (char *)NULL);
    z1 = e2e_mkrepo(t, "repo1.zip", "1.0.0", 4, ART_BYTES, 31);
    z2 = e2e_mkrepo(t, "repo2.zip", "2.0.0", 3, ART_BYTES, 32);
    doc = e2e_repl_ok(t, 0, "repo", "upload", z1, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    ms = e2e_wait_converged(t, E2E_ALL, 60000, "first upload converges");
    fprintf(stderr, "netns: first upload converged in %lld ms\n",
            (long long)ms);
    check_network(t);

    /* Sled 3's link is cut; its agent runs on (not stopped). */
    e2e_sim(t, NULL, "partition", "3", (char *)NULL);
    assert_true(rack_proc_alive(t->r.sleds[PARTED].p.pid,
                                t->r.sleds[PARTED].p.start));
    assert_true(proc_state(t->r.sleds[PARTED].p.pid) != 'T');
    doc = e2e_repl_ok(t, 0, "repo", "upload", z2, (char *)NULL);
    json_decref(doc);
    e2e_reload_wanted(t);
    assert_int_equal(json_object_size(t->wanted), 7);
    ms = e2e_wait_converged(t, others, 60000,
                            "the others converge without sled 3");
    fprintf(stderr, "netns: sleds 0-2 converged in %lld ms\n", (long long)ms);
    assert_false(t->poll.up[PARTED]);
    assert_true(proc_state(t->r.sleds[PARTED].p.pid) != 'T');
    e2e_sim(t, NULL, "heal", "3", (char *)NULL);
    ms = e2e_wait_converged(t, E2E_ALL, 60000, "sled 3 completes");
    fprintf(stderr, "netns: sled 3 completed %lld ms after heal\n",
            (long long)ms);
    e2e_check_final(t, E2E_ALL);

    /* One way: the sled hears the host, its replies are lost. */
    e2e_sim(t, NULL, "partition", "1", "--one-way", "out", (char *)NULL);
    assert_int_equal(rack_sled_inventory(&inv, &t->r, ONEWAY, 2000, &err),
                     ERR_TIMEOUT);
    e2e_sim(t, NULL, "heal", "1", (char *)NULL);
    assert_int_equal(rack_sled_inventory(&inv, &t->r, ONEWAY, 10000, &err),
                     0);
    assert_int_equal(json_integer_value(json_object_get(inv, "generation")),
                     t->poll.gen[0]);
    json_decref(inv);
    check_link_cmd(t);
    fprintf(stderr, "netns scenario took %.1f s\n",
            (double)e2e_elapsed(t) / 1000.0);
    mem_free(z1);
    mem_free(z2);
}

/* A foreground `up` of one sled, SIGKILLed once its state file is there:
 * its namespaces remain. */
static void up_and_kill(struct e2e *t)
{
    char *argv[] = {t->rs, "up", "--sleds", "1", "--dir", t->dir, "--net",
                    "netns", "--foreground", NULL};
    char path[PATH_MAX + 16];
    struct proc *p = NULL;
    int64_t deadline = rack_now_ms() + 60000;

    snprintf(path, sizeof(path), "%s/rack.json", t->dir);
    unlink(path);
    assert_int_equal(proc_spawn(&p, t->rs, argv, NULL, t->log), 0);
    while (access(path, F_OK) != 0 && rack_now_ms() < deadline &&
           proc_alive(p))
        rack_sleep_ms(100);
    assert_int_equal(access(path, F_OK), 0);
    assert_true(proc_alive(p));
    proc_kill(p);
    proc_free(p);
    assert_true(rack_net_leftovers(&t->r) > 0);
    /* Its guard kills the processes; the namespaces stay. */
    {
        struct rack *r = mem_calloc(1, sizeof(*r));

        assert_non_null(r);
        assert_int_equal(rack_state_load(r, t->dir, NULL), 0);
        while (rack_any_alive(r) && rack_now_ms() < deadline)
            rack_sleep_ms(100);
        assert_false(rack_any_alive(r));
        mem_free(r);
    }
    assert_true(rack_net_leftovers(&t->r) > 0);
}

static void test_e2e_netns__killed_rack_cleaned(void **state)
{
    struct e2e *t = *state;

    /* t->r.dir names the rack before any up (the names derive from it). */
    {
        char real[PATH_MAX];

        assert_non_null(realpath(t->dir, real));
        snprintf(t->r.dir, sizeof(t->r.dir), "%s", real);
    }
    up_and_kill(t);
    /* The next up removes them (else `ip netns add` would fail). */
    e2e_up(t, 1, 1, (char *)NULL);
    e2e_sim(t, NULL, "down", (char *)NULL);
    assert_int_equal(rack_net_leftovers(&t->r), 0);
    up_and_kill(t);
    e2e_sim(t, NULL, "down", (char *)NULL);
    assert_int_equal(rack_net_leftovers(&t->r), 0);
}

static void test_e2e_netns__not_root(void **state)
{
    struct e2e *t = *state;
    char log[PATH_MAX + 16], *text = NULL;
    pid_t pid;
    int status = 0;

    snprintf(log, sizeof(log), "%s/nobody.log", t->dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);

        if (!f || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(100);
        execl(t->rs, t->rs, "up", "--sleds", "1", "--net", "netns",
              (char *)NULL);
        _exit(101);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_int_equal(testutil_read_file(&text, NULL, log), 0);
    assert_non_null(strstr(text, "needs root"));
    assert_non_null(strstr(text, "loopback"));
    mem_free(text);
}

static int setup_part(void **state)
{
    *state = e2e_new("e2e-netns");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_e2e_netns__partition_converge_heal, setup_part,
            e2e_teardown),
        cmocka_unit_test_setup_teardown(test_e2e_netns__killed_rack_cleaned,
                                        setup_part, e2e_teardown),
        cmocka_unit_test_setup_teardown(test_e2e_netns__not_root, setup_part,
                                        e2e_teardown),
    };

    mem_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    setenv("RD_E2E_NET", "netns", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
