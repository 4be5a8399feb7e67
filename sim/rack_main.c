/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack-sim: command-line entry point of the simulated rack. Parses the
 * options (anywhere on the line) and the command words of DESIGN.md
 * section 9, loads the rack's state file, dispatches to rack_up,
 * rack_fault, rack_link (netns racks: link, partition, heal), rack_db,
 * rack_status or rack_demo, and saves the state file
 * back. Exit codes: 0 success, 1 the operation failed, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/version.h"
#include "sim/rack_db.h"
#include "sim/rack_dbha.h"
#include "sim/rack_demo.h"
#include "sim/rack_fault.h"
#include "sim/rack_link.h"
#include "sim/rack_pki.h"
#include "sim/rack_proc.h"
#include "sim/rack_state.h"
#include "sim/rack_status.h"
#include "sim/rack_up.h"

static const char usage[] =
    "usage: rack-sim up --sleds N [--replicators M] [--dir D]\n"
    "                [--rate-limit BYTES_PER_SEC] [--period SECONDS]\n"
    "                [--min-sled-replication N] [--no-blind-trust]\n"
    "                [--piece-size BYTES]\n"
    "                [--foreground] [--tls | --insecure-plaintext]\n"
    "                [--net loopback|netns] [--link-rate R] [--link-delay D]\n"
    "                [--db-ha]\n"
    "       rack-sim [--dir D] status [--json] [--verbose]\n"
    "       rack-sim [--dir D] env\n"
    "       rack-sim --version\n"
    "       rack-sim [--dir D] down [--purge]\n"
    "       rack-sim demo [--sleds N] [--demo-size-mib MIB]\n"
    "                [--demo-artifacts K] [--rate-limit B] [--keep]\n"
    "                [--tls | --insecure-plaintext] [--net loopback|netns]\n"
    "       rack-sim [--dir D] stop|kill|restart|partition|heal SLED\n"
    "       rack-sim [--dir D] partition SLED [--from SLED2] [--one-way in|out]\n"
    "       rack-sim [--dir D] link SLED [--rate R] [--delay D] [--jitter J]\n"
    "                [--loss P] [--flap SECS]      (netns racks)\n"
    "       rack-sim [--dir D] dataset remove|restore|fill|corrupt SLED A|B\n"
    "                [HASH]\n"
    "       rack-sim [--dir D] ledger previous-life SLED GEN\n"
    "       rack-sim [--dir D] db snapshot|restore NAME | db sql STATEMENT\n"
    "       rack-sim [--dir D] db status [--json]\n"
    "       rack-sim [--dir D] db kill-primary|kill-secondary|kill-monitor\n"
    "       rack-sim [--dir D] db restart monitor|node1|node2\n"
    "       rack-sim [--dir D] replicator kill|restart I\n"
    "SLED is an index (0..N-1) or sled-K. Without --dir: $RACK_SIM_DIR,\n"
    "then the rack of the last `up` (" RACK_CURRENT_LINK ").\n"

    "Exit codes: 0 success, 1 failure (the message says why), 2 usage.\n"
    "See docs/RACK-SIM.md.\n";

enum {
    O_DIR = 256, O_SLEDS, O_REPLS, O_RATE, O_PSIZE, O_PERIOD, O_MINR, O_NOBLIND,
    O_FG, O_JSON, O_VERBOSE, O_PURGE, O_SIZE, O_NART, O_KEEP, O_HELP,
    O_TLS, O_PLAIN, O_NET, O_LRATE, O_LDELAY, O_LINKRATE, O_DELAY, O_JITTER,
    O_LOSS, O_FROM, O_ONEWAY, O_FLAP, O_DBHA
};

static const struct option longopts[] = {
    {"dir", required_argument, NULL, O_DIR},
    {"sleds", required_argument, NULL, O_SLEDS},
    {"replicators", required_argument, NULL, O_REPLS},
    {"rate-limit", required_argument, NULL, O_RATE},
    {"piece-size", required_argument, NULL, O_PSIZE},
    {"period", required_argument, NULL, O_PERIOD},
    {"min-sled-replication", required_argument, NULL, O_MINR},
    {"no-blind-trust", no_argument, NULL, O_NOBLIND},
    {"foreground", no_argument, NULL, O_FG},
    {"json", no_argument, NULL, O_JSON},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"purge", no_argument, NULL, O_PURGE},
    {"demo-size-mib", required_argument, NULL, O_SIZE},
    {"demo-artifacts", required_argument, NULL, O_NART},
    {"keep", no_argument, NULL, O_KEEP},
    {"help", no_argument, NULL, O_HELP},
    {"tls", no_argument, NULL, O_TLS},
    {"insecure-plaintext", no_argument, NULL, O_PLAIN},
    {"net", required_argument, NULL, O_NET},
    {"link-rate", required_argument, NULL, O_LRATE},
    {"link-delay", required_argument, NULL, O_LDELAY},
    {"rate", required_argument, NULL, O_LINKRATE},
    {"delay", required_argument, NULL, O_DELAY},
    {"jitter", required_argument, NULL, O_JITTER},
    {"loss", required_argument, NULL, O_LOSS},
    {"from", required_argument, NULL, O_FROM},
    {"one-way", required_argument, NULL, O_ONEWAY},
    {"flap", required_argument, NULL, O_FLAP},
    {"db-ha", no_argument, NULL, O_DBHA},
    {NULL, 0, NULL, 0},
};

struct cli {
    const char *dir;
    struct rack_up_opts up;
    struct rack_demo_opts demo;
    bool json, verbose, purge;
    /* link and partition (netns racks); NULL when not given */
    const char *rate, *delay, *jitter, *loss, *from, *oneway, *flap;
    int npos;
    char **pos;
};

static void print_usage(FILE *f)
{
    fputs(usage, f);
    fprintf(f, "Without --tls or --insecure-plaintext, up and demo run %s "
            "(RACK_TLS_DEFAULT in sim/rack_pki.h).\n",
            RACK_TLS_DEFAULT ? "--tls" : "--insecure-plaintext");
}

static int usage_error(const char *msg)
{
    if (msg)
        fprintf(stderr, "rack-sim: %s\n", msg);
    print_usage(stderr);
    return 2;
}

static int parse(struct cli *c, int argc, char **argv)
{
    uint64_t v;
    int opt, modes = 0;

    c->up.replicators = 1;
    c->up.blind_trust = true;
    c->up.tls = RACK_TLS_DEFAULT;
    c->demo.tls = RACK_TLS_DEFAULT;
    c->demo.sleds = 8;
    c->demo.size_mib = 240;
    c->demo.artifacts = 6;
    while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1 ||
           optind < argc) {
        if (opt == -1) {
            /* A command word: keep it, parse options after it too. */
            c->pos[c->npos++] = argv[optind++];
            continue;
        }
        if (opt == '?')
            return -1;
        if (opt == O_HELP) {
            print_usage(stdout);
            exit(0);
        }
        v = 0;
        if (optarg && opt != O_DIR && opt < O_NET &&
            parse_u64(&v, optarg) < 0) {
            fprintf(stderr, "rack-sim: bad number %s\n", optarg);
            return -1;
        }
        switch (opt) {
        case O_DIR: c->dir = optarg; break;
        case O_SLEDS: c->up.sleds = (size_t)v; c->demo.sleds = (size_t)v; break;
        case O_REPLS: c->up.replicators = (size_t)v; break;
        case O_RATE: c->up.rate_limit = v; c->demo.rate_limit = v; break;
        case O_PSIZE: c->up.piece_size = v; break;
        case O_PERIOD: c->up.period = (unsigned)v; break;
        case O_MINR: c->up.min_repl = (unsigned)v; break;
        case O_NOBLIND: c->up.blind_trust = false; break;
        case O_FG: c->up.foreground = true; break;
        case O_JSON: c->json = true; break;
        case O_VERBOSE: c->verbose = true; break;
        case O_PURGE: c->purge = true; break;
        case O_SIZE: c->demo.size_mib = (unsigned)v; break;
        case O_NART: c->demo.artifacts = (unsigned)v; break;
        case O_KEEP: c->demo.keep = true; break;
        case O_TLS: c->up.tls = c->demo.tls = true; modes |= 1; break;
        case O_PLAIN: c->up.tls = c->demo.tls = false; modes |= 2; break;
        case O_NET:
            if (strcmp(optarg, "netns") && strcmp(optarg, "loopback")) {
                fprintf(stderr, "rack-sim: --net is loopback or netns\n");
                return -1;
            }
            c->up.netns = c->demo.netns = !strcmp(optarg, "netns");
            break;
        case O_LRATE:
            if (rack_link_parse_rate(&c->up.link_rate, optarg) < 0) {
                fprintf(stderr, "rack-sim: bad --link-rate %s (bytes/s, "
                        "K/M/G)\n", optarg);
                return -1;
            }
            c->demo.link_rate = c->up.link_rate;
            break;
        case O_LDELAY:
            if (rack_link_parse_us(&c->up.link_delay_us, optarg) < 0) {
                fprintf(stderr, "rack-sim: bad --link-delay %s (e.g. 5ms, "
                        "300us)\n", optarg);
                return -1;
            }
            c->demo.link_delay_us = c->up.link_delay_us;
            break;
        case O_LINKRATE: c->rate = optarg; break;
        case O_DELAY: c->delay = optarg; break;
        case O_JITTER: c->jitter = optarg; break;
        case O_LOSS: c->loss = optarg; break;
        case O_FROM: c->from = optarg; break;
        case O_ONEWAY: c->oneway = optarg; break;
        case O_FLAP: c->flap = optarg; break;
        case O_DBHA: c->up.db_ha = true; break;
        default: return -1;
        }
    }
    if (modes == 3) {
        fprintf(stderr, "rack-sim: --tls and --insecure-plaintext exclude "
                "each other\n");
        return -1;
    }
    return 0;
}

static int cmd_up(struct cli *c)
{
    struct rack r;
    struct err err = ERR_INIT;

    if (!c->up.sleds)
        return usage_error("up needs --sleds N");
    c->up.dir = c->dir;
    if (rack_up(&r, &c->up, &err) < 0) {
        fprintf(stderr, "rack-sim up: %s\n", err.msg);
        return 1;
    }
    printf("rack up: %zu sleds, %zu replicator(s) in %s\n", r.nsleds,
           r.nrepls, r.dir);
    if (c->up.foreground) {
        /* Keep the rack while this process lives (tests, interactive). */
        printf("foreground: Ctrl-C stops the rack\n");
        fflush(stdout);
        while (!rack_interrupted())
            rack_sleep_ms(200);
        rack_down(&r, false, NULL);
    }
    return 0;
}

/*
 * The commands on an existing rack below return 0, a negative ERR_* with
 * err set (reported by cmd_rack), or a positive exit status when they
 * have already said what is wrong (the state is then not saved).
 */

static int status_cmd(struct cli *c, struct rack *r)
{
    json_t *st = rack_status_collect(r, 1000);

    if (c->json) {
        json_dumpf(st, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        rack_status_print(stdout, st, c->verbose);
    }
    json_decref(st);
    return 0;
}

/* partition on a netns rack: --from and --one-way. */
static int partition_cmd(struct cli *c, struct rack *r, int k,
                         struct err *err)
{
    int from = -1;
    char dir = 'b';

    if (c->from && (from = rack_sled_index(r, c->from, err)) < 0)
        return from;
    if (c->oneway && strcmp(c->oneway, "in") && strcmp(c->oneway, "out"))
        return usage_error("--one-way is in or out");
    if (c->oneway)
        dir = c->oneway[0] == 'i' ? 'i' : 'o';
    return rack_link_cut(r, (size_t)k, from, dir, err);
}

static int sled_fault_cmd(struct cli *c, struct rack *r, struct err *err)
{
    int k = rack_sled_index(r, c->pos[1], err);
    bool part = !strcmp(c->pos[0], "partition");
    int rc;

    if (k >= 0 && !r->netns && (c->from || c->oneway))
        return err_set(err, ERR_INVAL, "--from and --one-way need a netns "
                       "rack (rack-sim up --net netns); a loopback "
                       "partition is SIGSTOP of the whole sled");
    if (k < 0)
        rc = k;
    else if (r->netns && part)
        rc = partition_cmd(c, r, k, err);
    else if (r->netns && !strcmp(c->pos[0], "heal"))
        rc = rack_link_heal(r, (size_t)k, err);
    else
        rc = rack_fault_sled(r, (size_t)k, c->pos[0], err);

    if (rc == 0)
        printf("sled %d: %s\n", k, r->sleds[k].state);
    return rc;
}

static int dataset_cmd(struct cli *c, struct rack *r, struct err *err)
{
    const char *w = c->pos[3];
    char victim[65] = "";
    int k = rack_sled_index(r, c->pos[2], err), rc;

    if (k >= 0 && (strlen(w) != 1 || (w[0] != 'A' && w[0] != 'B')))
        return usage_error("dataset is A or B");
    rc = k < 0 ? k : rack_fault_dataset(r, (size_t)k, c->pos[1], w[0],
                                        c->npos == 5 ? c->pos[4] : NULL,
                                        victim, err);
    if (rc == 0)
        printf("sled %d dataset %s: %s%s%s\n", k, w, c->pos[1],
               victim[0] ? " " : "", victim);
    return rc;
}

static int ledger_cmd(struct cli *c, struct rack *r, struct err *err)
{
    uint64_t gen;
    int k = rack_sled_index(r, c->pos[2], err), rc;

    if (k >= 0 && parse_u64(&gen, c->pos[3]) < 0)
        return usage_error("GEN must be a number");
    rc = k < 0 ? k : rack_fault_ledger(r, (size_t)k, gen, err);
    if (rc == 0)
        printf("sled %d: ledger generation %s, restarted\n", k, c->pos[3]);
    return rc;
}

static int db_cmd(struct cli *c, struct rack *r, struct err *err)
{
    char out[4096] = "";
    int rc;

    if (!strcmp(c->pos[1], "snapshot"))
        rc = rack_db_snapshot(r, c->pos[2], err);
    else if (!strcmp(c->pos[1], "restore"))
        rc = rack_db_restore(r, c->pos[2], err);
    else if (!strcmp(c->pos[1], "sql"))
        rc = rack_db_sql(r, c->pos[2], out, sizeof(out), err);
    else
        return usage_error("db snapshot|restore NAME | db sql STATEMENT");
    if (rc == 0 && out[0])
        printf("%s\n", out);
    else if (rc == 0)
        printf("db %s %s: done\n", c->pos[1], c->pos[2]);
    return rc;
}

/* db status|kill-primary|kill-secondary|kill-monitor|restart NODE. */
static int dbha_cmd(struct cli *c, struct rack *r, struct err *err)
{
    const char *op = c->pos[1], *name = "";
    int rc;

    if (!strcmp(op, "status") && c->npos == 2)
        return rack_dbha_status(stdout, r, c->json, err);
    if ((c->npos == 2 && strncmp(op, "kill-", 5) == 0) ||
        (c->npos == 3 && !strcmp(op, "restart"))) {
        rc = rack_dbha_fault(r, op, c->npos == 3 ? c->pos[2] : NULL, &name,
                             err);
        if (rc == 0)
            printf("db %s: %s %s\n", op, name,
                   strcmp(op, "restart") ? "killed" : "restarted");
        return rc;
    }
    return usage_error("db status [--json] | db kill-primary|kill-secondary|"
                       "kill-monitor | db restart NODE");
}

static int repl_cmd(struct cli *c, struct rack *r, struct err *err)
{
    uint64_t i;
    int rc;

    if (parse_u64(&i, c->pos[2]) < 0 || i >= r->nrepls) {
        fprintf(stderr, "rack-sim: no replicator %s\n", c->pos[2]);
        return 1;
    }
    rc = rack_fault_repl(r, (size_t)i, c->pos[1], err);
    if (rc == 0)
        printf("replicator %s: %s\n", c->pos[2], r->repls[i].state);
    return rc;
}

/* Parse a link option's value; 2 (usage) when bad. */
static int link_opt(const char *name, const char *v,
                    int (*parse_fn)(unsigned *, const char *), unsigned *out)
{
    if (parse_fn(out, v) < 0) {
        fprintf(stderr, "rack-sim: bad --%s %s\n", name, v);
        return 2;
    }
    return 0;
}

static int link_cmd(struct cli *c, struct rack *r, struct err *err)
{
    int k = rack_sled_index(r, c->pos[1], err), rc = 0;
    struct rack_link *l, old;
    unsigned secs = 0;
    uint64_t v;

    if (k < 0)
        return k;
    if (!r->netns)
        return err_set(err, ERR_INVAL, "link needs a netns rack (rack-sim up "
                       "--net netns); a loopback rack has --rate-limit");
    if (!c->rate && !c->delay && !c->jitter && !c->loss && !c->flap)
        return usage_error("link SLED needs --rate, --delay, --jitter, "
                           "--loss or --flap");
    l = &r->sleds[k].link;
    old = *l;
    if (c->rate && strcmp(c->rate, "0") == 0)
        l->rate = 0;
    else if (c->rate && rack_link_parse_rate(&l->rate, c->rate) < 0)
        return fprintf(stderr, "rack-sim: bad --rate %s (bytes/s, K/M/G; 0: "
                       "uncapped)\n", c->rate), 2;
    if (c->delay)
        rc = link_opt("delay", c->delay, rack_link_parse_us, &l->delay_us);
    if (rc == 0 && c->jitter)
        rc = link_opt("jitter", c->jitter, rack_link_parse_us,
                      &l->jitter_us);
    if (rc == 0 && c->loss)
        rc = link_opt("loss", c->loss, rack_link_parse_loss,
                      &l->loss_milli);
    if (rc == 0 && c->flap && (parse_u64(&v, c->flap) < 0 || v > 3600))
        return fprintf(stderr, "rack-sim: bad --flap %s (seconds, 0 "
                       "stops)\n", c->flap), 2;
    if (rc) {
        *l = old;
        return rc;
    }
    secs = c->flap ? (unsigned)v : 0;
    if (c->rate || c->delay || c->jitter || c->loss)
        rc = rack_link_apply(r, (size_t)k, err);
    if (rc < 0) {
        /* What the kernel has is what the state says. */
        *l = old;
        rack_link_apply(r, (size_t)k, NULL);
        return rc;
    }
    if (c->flap)
        rc = rack_link_flap(r, (size_t)k, secs, err);
    if (rc == 0)
        printf("sled %d link: rate %llu B/s, delay %u us, jitter %u us, "
               "loss %u.%03u %%%s\n", k, (unsigned long long)l->rate,
               l->delay_us, l->jitter_us, l->loss_milli / 1000,
               l->loss_milli % 1000, secs ? ", flapping" : "");
    return rc;
}

static bool is_sled_fault(const char *cmd)
{
    return !strcmp(cmd, "stop") || !strcmp(cmd, "kill") ||
           !strcmp(cmd, "restart") || !strcmp(cmd, "partition") ||
           !strcmp(cmd, "heal");
}

/* Runs the command of c on r; *save says whether r's state is to be saved. */
static int rack_cmd(bool *save, struct cli *c, struct rack *r,
                    struct err *err)
{
    const char *cmd = c->pos[0];
    int n = c->npos;
    int rc;

    *save = false;
    if (!strcmp(cmd, "status") && n == 1)
        return status_cmd(c, r);
    if (!strcmp(cmd, "env") && n == 1)
        return rack_status_env(stdout, r);
    if (!strcmp(cmd, "down") && n == 1) {
        rc = rack_down(r, c->purge, err);
        if (rc == 0)
            printf("rack down%s: %s\n", c->purge ? " and removed" : "",
                   r->dir);
        return rc;
    }
    if (!strcmp(cmd, "db") && n == 3 && strcmp(c->pos[1], "restart"))
        return db_cmd(c, r, err);
    if (!strcmp(cmd, "link-flap-run") && n == 3) {
        /* Internal: the process `link --flap` starts. */
        uint64_t secs;
        int k = rack_sled_index(r, c->pos[1], err);

        if (k < 0 || parse_u64(&secs, c->pos[2]) < 0 || secs == 0 ||
            secs > 3600)
            return usage_error("link-flap-run SLED SECS");
        return rack_link_flap_run(r, (size_t)k, (unsigned)secs);
    }
    *save = true;
    if (!strcmp(cmd, "link") && n == 2)
        return link_cmd(c, r, err);
    if (!strcmp(cmd, "db") && (n == 2 || n == 3))
        return dbha_cmd(c, r, err);
    if (is_sled_fault(cmd) && n == 2)
        return sled_fault_cmd(c, r, err);
    if (!strcmp(cmd, "dataset") && (n == 4 || n == 5))
        return dataset_cmd(c, r, err);
    if (!strcmp(cmd, "ledger") && n == 4 &&
        !strcmp(c->pos[1], "previous-life"))
        return ledger_cmd(c, r, err);
    if (!strcmp(cmd, "replicator") && n == 3)
        return repl_cmd(c, r, err);
    return usage_error("unknown command or wrong arguments");
}

/* Commands that work on an existing rack. */
static int cmd_rack(struct cli *c)
{
    const char *cmd = c->pos[0];
    char dir[PATH_MAX];
    struct err err = ERR_INIT;
    struct rack *r = mem_calloc(1, sizeof(*r));
    int rc, ret = 1;
    bool save;

    if (!r) {
        fprintf(stderr, "rack-sim: out of memory\n");
        return 1;
    }
    if (rack_find_dir(dir, sizeof(dir), c->dir, &err) < 0 ||
        rack_state_load(r, dir, &err) < 0) {
        fprintf(stderr, "rack-sim %s: %s\n", cmd, err.msg);
        goto out;
    }
    rack_pki_use(r);
    rc = rack_cmd(&save, c, r, &err);
    if (rc > 0) {
        ret = rc;
        goto out;
    }
    if (save && rack_state_save(r, rc < 0 ? NULL : &err) < 0 && rc == 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "rack-sim %s: %s\n", cmd, err.msg);
        goto out;
    }
    ret = 0;
out:
    mem_free(r);
    return ret;
}

int main(int argc, char **argv)
{
    struct cli c;
    int ret;

    if (rd_version_flag("rack-sim", argc, argv))
        return 0;
    memset(&c, 0, sizeof(c));
    mem_init();
    setvbuf(stdout, NULL, _IOLBF, 0);
    c.pos = mem_calloc((size_t)argc + 1, sizeof(char *));
    if (!c.pos)
        return 1;
    if (parse(&c, argc, argv) < 0) {
        mem_free(c.pos);
        return usage_error(NULL);
    }
    if (c.npos == 0) {
        mem_free(c.pos);
        return usage_error("no command");
    }
    httpc_global_init();
    rack_proc_catch_signals();
    if (strcmp(c.pos[0], "up") == 0 && c.npos == 1)
        ret = cmd_up(&c);
    else if (strcmp(c.pos[0], "demo") == 0 && c.npos == 1)
        ret = rack_demo(&c.demo);
    else
        ret = cmd_rack(&c);
    httpc_global_cleanup();
    mem_free(c.pos);
    return ret;
}
