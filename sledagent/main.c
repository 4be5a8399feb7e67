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
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "sledagent/agent.h"

/* Default background re-hash rate (see main()). */
#define AGENT_SCRUB_RATE_DEFAULT (64ull * 1024 * 1024)

static const char usage[] =
    "usage: sledagent --dataset DIR --dataset DIR [options]\n"
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
    "  --rate-limit BYTES_PER_SEC cap of this sled's link (default 0 = off)\n"
    "  --max-writes N             concurrent PUTs+copies, 429 above (def. 8)\n"
    "  --scrub-rate BYTES_PER_SEC background re-hash rate, start-up pass\n"
    "                             included (default 67108864; 0 = off)\n"
    "  --scrub-interval SECONDS   pause between scrub passes (default 3600)\n"
    "  --copy-connect-timeout S   copy-from-depot connect timeout (def. 15)\n"
    "  --copy-stall-timeout S     copy no-progress timeout (default 60)\n"
    "  --log-level LEVEL          debug|info|warn|error (default info)\n"
    "  --help                     this text\n";

enum {
    O_DATASET = 256, O_LISTEN, O_DEPOT, O_ID, O_REPL, O_ADV, O_PORTFILE,
    O_MAXBODY, O_QUOTA, O_RESERVE, O_TRASH, O_RATE, O_MAXW, O_SCRUB,
    O_SCRUBINT, O_CCONN, O_CSTALL, O_LOG, O_HELP, O_REGINT, O_QUOTA_A,
    O_QUOTA_B
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
    {"rate-limit", required_argument, NULL, O_RATE},
    {"max-writes", required_argument, NULL, O_MAXW},
    {"scrub-rate", required_argument, NULL, O_SCRUB},
    {"scrub-interval", required_argument, NULL, O_SCRUBINT},
    {"copy-connect-timeout", required_argument, NULL, O_CCONN},
    {"copy-stall-timeout", required_argument, NULL, O_CSTALL},
    {"log-level", required_argument, NULL, O_LOG},
    {"register-interval", required_argument, NULL, O_REGINT},
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

static bool uuid_ok(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

static int write_port_file(const char *path, unsigned api, unsigned depot,
                           struct err *err)
{
    char text[64];
    int n = snprintf(text, sizeof(text), "{\"api\": %u, \"depot\": %u}\n",
                     api, depot);

    return fsutil_write_atomic(path, NULL, text, (size_t)n, 0644, err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct event_base *base = arg;

    (void)what;
    log_info("shutdown", "{s:i}", "signal", (int)sig);
    event_base_loopbreak(base);
}

static int parse_addr(char *host, size_t cap, uint16_t *port, const char *s)
{
    return parse_hostport(host, (unsigned)cap, port, s);
}

int main(int argc, char **argv)
{
    struct agent_opts o = {0};

    /*
     * DESIGN.md section 3: stored files are re-hashed at start-up and then
     * continuously at a bounded rate. 64 MiB/s keeps a full 40 GiB dataset
     * pair to a pass every ~20 minutes while leaving most of a core and the
     * disk to writes; --scrub-rate 0 turns it off.
     */
    o.store.scrub_bytes_per_sec = AGENT_SCRUB_RATE_DEFAULT;
    struct err err = ERR_INIT;
    struct event_base *base = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    struct agent *a = NULL;
    enum log_level lvl = LOG_INFO;
    char api_host[160] = "127.0.0.1", depot_host[160] = "127.0.0.1";
    char idbuf[37];
    const char *port_file = NULL;
    unsigned ndatasets = 0;
    uint64_t v;
    int c, rc = 0;

    mem_init();
    o.api_port = 12345;
    o.depot_port = 12348;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DATASET:
            if (ndatasets == STORE_DATASETS)
                return bad_usage("at most two --dataset", NULL);
            o.store.dataset[ndatasets++] = optarg;
            break;
        case O_LISTEN:
            if (parse_addr(api_host, sizeof(api_host), &o.api_port,
                           optarg) < 0)
                return bad_usage("bad --listen", optarg);
            break;
        case O_DEPOT:
            if (parse_addr(depot_host, sizeof(depot_host), &o.depot_port,
                           optarg) < 0)
                return bad_usage("bad --depot-listen", optarg);
            break;
        case O_ID:
            if (!uuid_ok(optarg))
                return bad_usage("--id must be a UUID", optarg);
            o.id = optarg;
            break;
        case O_REPL:
            if (strncmp(optarg, "http://", 7) != 0)
                return bad_usage("--replicator must be an http:// URL",
                                 optarg);
            o.replicator_url = optarg;
            break;
        case O_ADV: o.advertise_host = optarg; break;
        case O_PORTFILE: port_file = optarg; break;
        case O_LOG:
            if (log_level_parse(&lvl, optarg) < 0)
                return bad_usage("bad --log-level", optarg);
            break;
        case O_HELP:
        case 'h':
            fputs(usage, stdout);
            return 0;
        case '?':
            return bad_usage("bad option", NULL);
        default:
            if (parse_u64(&v, optarg) < 0)
                return bad_usage("expected a non-negative integer", optarg);
            switch (c) {
            case O_MAXBODY:
                if (v == 0)
                    return bad_usage("--max-body-bytes must be > 0", optarg);
                o.store.max_body_bytes = v;
                break;
            case O_QUOTA: o.store.quota_bytes = v; break;
            case O_QUOTA_A: o.store.quota_bytes_ds[0] = v; break;
            case O_QUOTA_B: o.store.quota_bytes_ds[1] = v; break;
            case O_RESERVE: o.store.reserve_bytes = v; break;
            case O_RATE:
                if (v > 0 && v < 1024)
                    return bad_usage("--rate-limit must be 0 or >= 1024",
                                     optarg);
                o.rate_limit = v;
                break;
            case O_SCRUB: o.store.scrub_bytes_per_sec = v; break;
            default:
                if (v > 100000000)
                    return bad_usage("value too large", optarg);
                if (c == O_TRASH)
                    o.store.trash_retention_secs = (unsigned)v;
                else if (c == O_MAXW)
                    o.store.max_writes = (unsigned)v;
                else if (c == O_SCRUBINT)
                    o.store.scrub_interval_secs = (unsigned)v;
                else if (c == O_CCONN)
                    o.copy_connect_secs = (unsigned)v;
                else if (c == O_CSTALL)
                    o.copy_stall_secs = (unsigned)v;
                else if (c == O_REGINT && v == 0)
                    return bad_usage("--register-interval must be >= 1",
                                     optarg);
                else if (c == O_REGINT)
                    o.register_secs = (unsigned)v;
                break;
            }
        }
    }
    if (optind != argc)
        return bad_usage("unexpected argument", argv[optind]);
    if (ndatasets != STORE_DATASETS)
        return bad_usage("two --dataset directories are required", NULL);
    log_init("sledagent", lvl, 2);
    if (!o.id) {
        random_uuid(idbuf);
        o.id = idbuf;
        log_info("generated_id", "{s:s}", "id", o.id);
    }
    o.api_host = api_host;
    o.depot_host = depot_host;
    signal(SIGPIPE, SIG_IGN);
    httpc_global_init();
    base = event_base_new();
    if (!base) {
        rc = 1;
        goto out;
    }
    if (agent_new(&a, base, &o, &err) < 0) {
        log_error("start_failed", "{s:s}", "error", err.msg);
        fprintf(stderr, "sledagent: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    if (port_file && write_port_file(port_file, agent_api_port(a),
                                     agent_depot_port(a), &err) < 0) {
        fprintf(stderr, "sledagent: cannot write %s: %s\n", port_file,
                err.msg);
        rc = 1;
        goto out;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 ||
        evsignal_add(sigint, NULL) < 0) {
        rc = 1;
        goto out;
    }
    log_info("started", "{s:s, s:i, s:i}", "id", o.id, "api_port",
             (int)agent_api_port(a), "depot_port", (int)agent_depot_port(a));
    event_base_dispatch(base);
    agent_stop_accepting(a);
out:
    agent_free(a);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (base)
        event_base_free(base);
    httpc_global_cleanup();
    if (rc == 0)
        log_info("stopped", NULL);
    return rc;
}
