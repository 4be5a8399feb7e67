/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_rack: the load bench's rack for its TLS and replicator targets: a
 * `rack-sim up --sleds 2` (mutual TLS or plaintext) in a temp directory,
 * one repository of two 8 MiB artifacts uploaded and replicated to sled 0
 * on both datasets, and what the clients need read back from `rack-sim
 * status --json`: ports, an artifact's hash, the CA and the operator's and
 * controller's certificates. Down and removed at the end. The binaries
 * (rack-sim, tuf-mkrepo, replicator) are found as proc_bin_path does.
 */
#ifndef BENCH_LOAD_RACK_H
#define BENCH_LOAD_RACK_H

#include <limits.h>
#include <stdbool.h>

struct lrack {
    char *dir;   /* the temp directory; the rack is dir/rack */
    bool tls;
    int repl_port, sled_api, sled_depot;
    char hex[65];
    char ca[PATH_MAX], op_cert[PATH_MAX], op_key[PATH_MAX];
    char ctl_cert[PATH_MAX], ctl_key[PATH_MAX];
};

/* Bring the rack up and fill r. 0, or -1 with a message on stderr (what
 * was started is taken down). */
int lrack_up(struct lrack *r, bool tls);

/* `rack-sim down --purge` and remove the directory. */
void lrack_down(struct lrack *r);

#endif
