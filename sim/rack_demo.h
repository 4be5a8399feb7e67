/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_demo: `rack-sim demo`, the project's main job. Brings up a
 * foreground rack (default 8 sleds, one replicator) in a temporary
 * directory, builds two signed repositories with tuf-mkrepo that share
 * half their artifacts, registers the signing root as a trust root,
 * uploads v1, uploads v2, prunes v1, shows progress live after each step
 * until every sled holds exactly the wanted set, then prints a summary
 * (time to converge per step, bytes sent by the controller versus between
 * peers, the invariants of DESIGN.md section 8) and takes the rack down.
 * Ctrl-C stops it and cleans up. Main thread only.
 */
#ifndef SIM_RACK_DEMO_H
#define SIM_RACK_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rack_demo_opts {
    size_t sleds;        /* default 8 */
    unsigned size_mib;   /* total size of v1's artifacts, default 240 */
    unsigned artifacts;  /* artifacts per repository, default 6 */
    uint64_t rate_limit; /* per-sled link cap, 0 = off */
    bool keep;           /* leave the rack directory (stopped) */
    bool tls;            /* mutual TLS, else --insecure-plaintext */
    bool netns;          /* --net netns (root): a namespace per member */
    uint64_t link_rate;  /* --link-rate (netns), bytes/s */
    unsigned link_delay_us; /* --link-delay (netns) */
};

/* Run the demo. Returns the exit code: 0 success, 1 failure. */
int rack_demo(const struct rack_demo_opts *opts);

#endif
