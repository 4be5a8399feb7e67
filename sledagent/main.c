/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sledagent: the node agent binary (DESIGN.md section 9). Parses the
 * command line, starts the agent (agent.c) on one event loop, writes the
 * port file, and shuts down cleanly on SIGTERM/SIGINT. Main thread only.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/sdnotify.h"
#include "common/version.h"
#include "sledagent/agent.h"
#include "sledagent/startcheck.h"
#include "sledagent/override.h"
#include "sledagent/override_cli.h"

/* Default background re-hash rate (see parse_args()). */
#define AGENT_SCRUB_RATE_DEFAULT (64ull * 1024 * 1024)

static const char usage[] =
    "usage: sledagent --dataset DIR --dataset DIR [options]\n"
    "       sledagent --version\n"
    "       sledagent override set|show|clear ... (sledagent override "
    "--help)\n"
    "\n"
    "  --dataset DIR              an artifact dataset (give two: A then B)\n"
    "  --listen ADDR:PORT         agent API (default 127.0.0.1:12345;\n"
    "                             port 0 picks a free port)\n"
    "  --depot-listen ADDR:PORT   depot for peers (default 127.0.0.1:12348)\n"
    "  --id UUID                  sled id (default: a random UUID, logged)\n"
    "  --replicator URL           register with the replicator at start and\n"
    "                             every --register-interval (PUT\n"
    "                             URL/sled-agents/ID)\n"
    "  --register-interval S      registration period (default 30, >= 1)\n"
    "  --advertise ADDR           address given to the replicator (default:\n"
    "                             the --listen address)\n"
    "  --port-file FILE           write {\"api\": P, \"depot\": Q} once bound\n"
    "  --max-body-bytes N         artifact size cap (default 2147483648)\n"
    "  --quota-bytes N            quota of each dataset (default 0 = none)\n"
    "  --quota-bytes-a N, --quota-bytes-b N\n"
    "                             quota of the first / second dataset only\n"
    "                             (overrides --quota-bytes for it)\n"
    "  --reserve-bytes N          free space kept on each dataset (default 0)\n"
    "  --trash-retention SECONDS  keep deleted artifacts (default 86400)\n"
    "  --quarantine-retention S   keep corrupt copies in quarantine/\n"
    "                             (default 604800 = 7 days)\n"
    "  --quarantine-max-bytes N   quarantine/ cap per dataset, oldest\n"
    "                             deleted first (default 1073741824)\n"
    "  --rate-limit BYTES_PER_SEC cap of this sled's link (default 0 = off)\n"
    "  --link-rate BYTES_PER_SEC  rate of the link into this sled, when the\n"
    "                             network caps it (not enforced here;\n"
    "                             default: --rate-limit): while a PUT body\n"
    "                             arrives, copies leave it the link\n"
    "  --max-writes N             concurrent PUTs+copies, 429 above (def. 8)\n"
    "  --scrub-rate BYTES_PER_SEC background re-hash rate, start-up pass\n"
    "                             included (default 67108864; 0 = off)\n"
    "  --scrub-interval SECONDS   pause between scrub passes (default 10);\n"
    "                             every copy is re-hashed within (bytes\n"
    "                             of both datasets) / scrub-rate + this\n"
    "  --copy-connect-timeout S   copy-from-depot connect timeout (def. 15)\n"
    "  --copy-stall-timeout S     copy no-progress timeout (default 60)\n"
    "  --copy-min-rate B          a copy source must average B bytes/s\n"
    "                             over each --copy-stall-timeout (default\n"
    "                             8192; 0 = 1 byte/s)\n"
    "  --max-connections N        connections per listener (default: from\n"
    "                             the open-file limit, which is raised to\n"
    "                             its hard limit at start; at most 4096)\n"
    "  --max-connections-per-peer N\n"
    "                             connections from one address per listener\n"
    "                             (default: a quarter of --max-connections)\n"
    "  --head-timeout S           a request head must be in S seconds after\n"
    "                             its first byte (default 10)\n"
    "  --min-transfer-rate B      request bodies and replies must average B\n"
    "                             bytes/s over each --transfer-rate-window\n"
    "                             (default 65536; 0 = no minimum)\n"
    "  --transfer-rate-window S   that window (default 10)\n"
    "  --tls-handshake-timeout S  a TLS handshake must be done S seconds\n"
    "                             after accept (default 10)\n"
    "  --tls-ca FILE --tls-cert FILE --tls-key FILE\n"
    "                             mutual TLS: the rack CA, this sled's\n"
    "                             certificate and key (all three)\n"
    "                             (the sled id is the certificate's;\n"
    "                             SIGHUP reloads them)\n"
    "  --tls-revoked FILE         JSON list of revoked serials and\n"
    "                             role:id identities (re-read on SIGHUP)\n"
    "  --insecure-plaintext       no TLS on any link (trusted underlay);\n"
    "                             either this or --tls-* is required\n"
    "  --allow-degraded-start     start even if no --dataset directory is\n"
    "                             usable (missing, not a directory, not\n"
    "                             writable) and answer 503 until one is;\n"
    "                             without it such a start exits 1\n"
    "  --log-level LEVEL          debug|info|warn|error (default info)\n"
    "  --help                     this text\n";

enum {
    O_DATASET = 256, O_LISTEN, O_DEPOT, O_ID, O_REPL, O_ADV, O_PORTFILE,
    O_MAXBODY, O_QUOTA, O_RESERVE, O_TRASH, O_RATE, O_LINK, O_MAXW, O_SCRUB,
    O_SCRUBINT, O_CCONN, O_CSTALL, O_LOG, O_HELP, O_REGINT, O_QUOTA_A,
    O_QUOTA_B, O_TLS_CA, O_TLS_CERT, O_TLS_KEY, O_PLAIN, O_TLS_REV,
    O_MAXCONN, O_MAXPEER, O_HEADT, O_MINRATE, O_RATEWIN, O_HSHAKE,
    O_QRET, O_QMAX, O_DEGRADED, O_CMINRATE
};

static const struct option longopts[] = {
    {"dataset", required_argument, NULL, O_DATASET},
    {"listen", required_argument, NULL, O_LISTEN},
    {"depot-listen", required_argument, NULL, O_DEPOT},
    {"id", required_argument, NULL, O_ID},
    {"replicator", required_argument, NULL, O_REPL},
    {"advertise", required_argument, NULL, O_ADV},
    {"port-file", required_argument, NULL, O_PORTFILE},
    {"max-body-bytes", required_argument, NULL, O_MAXBODY},
    {"quota-bytes", required_argument, NULL, O_QUOTA},
    {"quota-bytes-a", required_argument, NULL, O_QUOTA_A},
    {"quota-bytes-b", required_argument, NULL, O_QUOTA_B},
    {"reserve-bytes", required_argument, NULL, O_RESERVE},
    {"trash-retention", required_argument, NULL, O_TRASH},
    {"quarantine-retention", required_argument, NULL, O_QRET},
    {"quarantine-max-bytes", required_argument, NULL, O_QMAX},
    {"rate-limit", required_argument, NULL, O_RATE},
    {"link-rate", required_argument, NULL, O_LINK},
    {"max-writes", required_argument, NULL, O_MAXW},
    {"scrub-rate", required_argument, NULL, O_SCRUB},
    {"scrub-interval", required_argument, NULL, O_SCRUBINT},
    {"copy-connect-timeout", required_argument, NULL, O_CCONN},
    {"copy-stall-timeout", required_argument, NULL, O_CSTALL},
    {"copy-min-rate", required_argument, NULL, O_CMINRATE},
    {"log-level", required_argument, NULL, O_LOG},
    {"register-interval", required_argument, NULL, O_REGINT},
    {"tls-ca", required_argument, NULL, O_TLS_CA},
    {"tls-cert", required_argument, NULL, O_TLS_CERT},
    {"tls-key", required_argument, NULL, O_TLS_KEY},
    {"insecure-plaintext", no_argument, NULL, O_PLAIN},
    {"tls-revoked", required_argument, NULL, O_TLS_REV},
    {"max-connections", required_argument, NULL, O_MAXCONN},
    {"max-connections-per-peer", required_argument, NULL, O_MAXPEER},
    {"head-timeout", required_argument, NULL, O_HEADT},
    {"min-transfer-rate", required_argument, NULL, O_MINRATE},
    {"transfer-rate-window", required_argument, NULL, O_RATEWIN},
    {"tls-handshake-timeout", required_argument, NULL, O_HSHAKE},
    {"allow-degraded-start", no_argument, NULL, O_DEGRADED},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "sledagent: %s%s%s\n%s", msg, arg ? ": " : "",
            arg ? arg : "", usage);
    return 2;
}

static void random_uuid(char out[37])
{
    unsigned char b[16] = {0};
    size_t got = 0;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int write_port_file(const char *path, unsigned api, unsigned depot,
                           struct err *err)
{
    char text[64];
    int n = snprintf(text, sizeof(text), "{\"api\": %u, \"depot\": %u}\n",
                     api, depot);

    return fsutil_write_atomic(path, NULL, text, (size_t)n, 0644, err);
}

/* The loop and the service manager's notifier (on_signal's argument). */
struct loop {
    struct event_base *base;
    struct sdnotify *notify; /* NULL when not under systemd */
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct loop *l = arg;

    (void)what;
    log_info("shutdown", "{s:i}", "signal", (int)sig);
    sdnotify_stopping(l->notify);
    event_base_loopbreak(l->base);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct err err = ERR_INIT;

    (void)sig;
    (void)what;
    agent_reload(arg, &err); /* logs either way; the old context stays */
}

static int parse_addr(char *host, size_t cap, uint16_t *port, const char *s)
{
    return parse_hostport(host, (unsigned)cap, port, s);
}

/* The parsed command line: agent options and the buffers they point into. */
struct args {
    struct agent_opts o;
    enum log_level lvl;
    char api_host[160];
    char depot_host[160];
    char idbuf[37];
    const char *port_file;
    unsigned ndatasets;
    bool allow_degraded; /* --allow-degraded-start */
};

/* Numeric options up to 100000000 (seconds, counts). 0 or exit status 2. */
static int apply_small_opt(struct args *a, int c, uint64_t v,
                           const char *arg)
{
    if (v > 100000000)
        return bad_usage("value too large", arg);
    if (c == O_TRASH)
        a->o.store.trash_retention_secs = (unsigned)v;
    else if (c == O_QRET)
        a->o.store.quarantine_retention_secs = (unsigned)v;
    else if (c == O_MAXW)
        a->o.store.max_writes = (unsigned)v;
    else if (c == O_SCRUBINT)
        a->o.store.scrub_interval_secs = (unsigned)v;
    else if (c == O_CCONN)
        a->o.copy_connect_secs = (unsigned)v;
    else if (c == O_CSTALL)
        a->o.copy_stall_secs = (unsigned)v;
    else if (c == O_REGINT && v == 0)
        return bad_usage("--register-interval must be >= 1", arg);
    else if (c == O_REGINT)
        a->o.register_secs = (unsigned)v;
    else if ((c == O_MAXCONN || c == O_MAXPEER || c == O_HEADT ||
              c == O_RATEWIN || c == O_HSHAKE) && (v == 0 || v > 1000000))
        return bad_usage("expected 1..1000000", arg);
    else if (c == O_MAXCONN)
        a->o.limits.max_conns = (unsigned)v;
    else if (c == O_MAXPEER)
        a->o.limits.max_conns_per_peer = (unsigned)v;
    else if (c == O_HEADT)
        a->o.limits.head_secs = (unsigned)v;
    else if (c == O_RATEWIN)
        a->o.limits.rate_window_secs = (unsigned)v;
    else if (c == O_HSHAKE)
        a->o.handshake_secs = (unsigned)v;
    return 0;
}

/* Options that take a non-negative integer. 0 or exit status 2. */
static int apply_number_opt(struct args *a, int c, const char *arg)
{
    uint64_t v;

    if (parse_u64(&v, arg) < 0)
        return bad_usage("expected a non-negative integer", arg);
    switch (c) {
    case O_MAXBODY:
        if (v == 0)
            return bad_usage("--max-body-bytes must be > 0", arg);
        a->o.store.max_body_bytes = v;
        break;
    case O_QUOTA: a->o.store.quota_bytes = v; break;
    case O_QUOTA_A: a->o.store.quota_bytes_ds[0] = v; break;
    case O_QUOTA_B: a->o.store.quota_bytes_ds[1] = v; break;
    case O_RESERVE: a->o.store.reserve_bytes = v; break;
    case O_QMAX: a->o.store.quarantine_max_bytes = v; break;
    case O_RATE:
        if (v > 0 && v < 1024)
            return bad_usage("--rate-limit must be 0 or >= 1024", arg);
        a->o.rate_limit = v;
        break;
    case O_LINK:
        if (v > 0 && v < 1024)
            return bad_usage("--link-rate must be 0 or >= 1024", arg);
        a->o.link_rate = v;
        break;
    case O_SCRUB: a->o.store.scrub_bytes_per_sec = v; break;
    case O_MINRATE: a->o.limits.min_rate_bps = v; break;
    case O_CMINRATE: a->o.copy_min_rate = v; break;
    default:
        return apply_small_opt(a, c, v, arg);
    }
    return 0;
}

/* One option of getopt_long() but --help. 0 or exit status 2. */
static int apply_opt(struct args *a, int c, const char *arg)
{
    switch (c) {
    case O_DATASET:
        if (a->ndatasets == STORE_DATASETS)
            return bad_usage("at most two --dataset", NULL);
        a->o.store.dataset[a->ndatasets++] = arg;
        return 0;
    case O_LISTEN:
        if (parse_addr(a->api_host, sizeof(a->api_host), &a->o.api_port,
                       arg) < 0)
            return bad_usage("bad --listen", arg);
        return 0;
    case O_DEPOT:
        if (parse_addr(a->depot_host, sizeof(a->depot_host),
                       &a->o.depot_port, arg) < 0)
            return bad_usage("bad --depot-listen", arg);
        return 0;
    case O_ID:
        if (!override_uuid_ok(arg))
            return bad_usage("--id must be a UUID", arg);
        a->o.id = arg;
        return 0;
    case O_REPL:
        if (strncmp(arg, "http://", 7) != 0 &&
            strncmp(arg, "https://", 8) != 0)
            return bad_usage("--replicator must be an http:// or https:// "
                             "URL", arg);
        a->o.replicator_url = arg;
        return 0;
    case O_ADV: a->o.advertise_host = arg; return 0;
    case O_PORTFILE: a->port_file = arg; return 0;
    case O_TLS_CA: a->o.tls.ca = arg; return 0;
    case O_TLS_CERT: a->o.tls.cert = arg; return 0;
    case O_TLS_KEY: a->o.tls.key = arg; return 0;
    case O_PLAIN: a->o.insecure_plaintext = true; return 0;
    case O_DEGRADED: a->allow_degraded = true; return 0;
    case O_TLS_REV: a->o.tls_revoked = arg; return 0;
    case O_LOG:
        if (log_level_parse(&a->lvl, arg) < 0)
            return bad_usage("bad --log-level", arg);
        return 0;
    case '?':
        return bad_usage("bad option", NULL);
    default:
        return apply_number_opt(a, c, arg);
    }
}

/* --tls-* all three, or --insecure-plaintext: exactly one of them. */
static int check_tls(const struct args *a)
{
    int n = !!a->o.tls.ca + !!a->o.tls.cert + !!a->o.tls.key;

    if (n != 0 && n != 3)
        return bad_usage("--tls-ca, --tls-cert and --tls-key go together",
                         NULL);
    if (n == 3 && a->o.insecure_plaintext)
        return bad_usage("--insecure-plaintext and --tls-* exclude each "
                         "other", NULL);
    if (n == 3 && a->o.replicator_url &&
        strncmp(a->o.replicator_url, "https://", 8) != 0)
        return bad_usage("--replicator must be an https:// URL with TLS",
                         a->o.replicator_url);
    if (n == 0 && !a->o.insecure_plaintext)
        return bad_usage("give --tls-ca/--tls-cert/--tls-key, or "
                         "--insecure-plaintext to run without TLS", NULL);
    if (a->o.tls_revoked && n == 0)
        return bad_usage("--tls-revoked needs --tls-*", NULL);
    return 0;
}

/*
 * Fills *a from the command line. Returns true to run the agent; false to
 * exit at once with *status (0 after --help, 2 on a usage error).
 */
static bool parse_args(int *status, struct args *a, int argc, char **argv)
{
    int c;

    /*
     * DESIGN.md section 3: stored files are re-hashed at start-up and then
     * continuously at a bounded rate. 64 MiB/s keeps a full 40 GiB dataset
     * pair to a pass every ~20 minutes while leaving most of a core and the
     * disk to writes; --scrub-rate 0 turns it off.
     */
    a->o.store.scrub_bytes_per_sec = AGENT_SCRUB_RATE_DEFAULT;
    a->o.limits.min_rate_bps = LIMIT_HTTP_MIN_RATE;
    a->o.copy_min_rate = LIMIT_COPY_MIN_RATE;
    a->o.api_port = 12345;
    a->o.depot_port = 12348;
    a->lvl = LOG_INFO;
    snprintf(a->api_host, sizeof(a->api_host), "127.0.0.1");
    snprintf(a->depot_host, sizeof(a->depot_host), "127.0.0.1");
    *status = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == O_HELP || c == 'h') {
            fputs(usage, stdout);
            return false;
        }
        *status = apply_opt(a, c, optarg);
        if (*status)
            return false;
    }
    if (optind != argc)
        *status = bad_usage("unexpected argument", argv[optind]);
    else if (a->ndatasets != STORE_DATASETS)
        *status = bad_usage("two --dataset directories are required", NULL);
    else
        *status = check_tls(a);
    return *status == 0;
}

/* Runs the agent until SIGTERM/SIGINT. Returns the exit status. */
static int run(struct args *a)
{
    struct err err = ERR_INIT;
    struct event_base *base = NULL;
    struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
    struct agent *ag = NULL;
    struct loop loop = {0};
    uint64_t nofile = 0;
    int rc = 0;

    signal(SIGPIPE, SIG_IGN);
    /* Connections, depot files and copies all take descriptors: use what
     * the hard limit allows (the default --max-connections follows). */
    if (httpd_limits_raise_nofile(&nofile) < 0)
        log_warn("nofile_not_raised", "{s:I}", "open_file_limit",
                 (json_int_t)nofile);
    httpc_global_init();
    base = event_base_new();
    if (!base) {
        rc = 1;
        goto out;
    }
    if (agent_new(&ag, base, &a->o, &err) < 0) {
        log_error("start_failed", "{s:s}", "error", err.msg);
        fprintf(stderr, "sledagent: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    /* Signals first: whoever waits for the port file may SIGTERM us as
     * soon as it appears, and must get a clean shutdown, not a death by
     * the default action. */
    loop.base = base;
    sigterm = evsignal_new(base, SIGTERM, on_signal, &loop);
    sigint = evsignal_new(base, SIGINT, on_signal, &loop);
    sighup = evsignal_new(base, SIGHUP, on_hup, ag);
    if (!sigterm || !sigint || !sighup || evsignal_add(sigterm, NULL) < 0 ||
        evsignal_add(sigint, NULL) < 0 || evsignal_add(sighup, NULL) < 0) {
        rc = 1;
        goto out;
    }
    if (a->port_file && write_port_file(a->port_file, agent_api_port(ag),
                                        agent_depot_port(ag), &err) < 0) {
        fprintf(stderr, "sledagent: cannot write %s: %s\n", a->port_file,
                err.msg);
        rc = 1;
        goto out;
    }
    log_info("started", "{s:s, s:i, s:i, s:I}", "id", agent_id(ag),
             "api_port", (int)agent_api_port(ag), "depot_port",
             (int)agent_depot_port(ag), "open_file_limit",
             (json_int_t)nofile);
    /* Listeners bound, datasets open, port file written: ready. */
    if (sdnotify_ready(&loop.notify, base) < 0) {
        fprintf(stderr, "sledagent: cannot start the watchdog timer\n");
        rc = 1;
        goto out;
    }
    event_base_dispatch(base);
    agent_stop_accepting(ag);
out:
    sdnotify_free(loop.notify);
    agent_free(ag);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (sighup)
        event_free(sighup);
    if (base)
        event_base_free(base);
    httpc_global_cleanup();
    if (rc == 0)
        log_info("stopped", NULL);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int status;

    mem_init();
    if (rd_version_flag("sledagent", argc, argv))
        return 0;
    /* `sledagent override ...`: the operator's hold (override_cli.c) */
    if (argc > 1 && !strcmp(argv[1], "override"))
        return override_cli_main(argc - 1, argv + 1);
    if (!parse_args(&status, &a, argc, argv))
        return status;
    log_init("sledagent", a.lvl, 2);
    if (!a.o.id && !a.o.tls.cert) {
        random_uuid(a.idbuf);
        a.o.id = a.idbuf;
        log_info("generated_id", "{s:s}", "id", a.o.id);
    }
    a.o.api_host = a.api_host;
    a.o.depot_host = a.depot_host;
    if (startcheck_datasets(a.o.store.dataset, a.ndatasets,
                            a.allow_degraded) < 0)
        return 1;
    return run(&a);
}
