/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_check: watching a rack converge and checking the invariants of
 * DESIGN.md section 8 from the outside. Reads the wanted set from the
 * database (unpruned repos' artifacts), polls every sled's GET /artifacts
 * (remembering the highest generation each one reported, so a decrease is
 * caught), renders progress (a per-sled bar grid on a terminal, one plain
 * line otherwise) and walks every dataset directory: every file under a
 * final name is a wanted artifact whose bytes hash to its name, nothing
 * else lies outside trash/ and tmp/. Main thread only.
 */
#ifndef SIM_RACK_CHECK_H
#define SIM_RACK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sim/rack_state.h"

struct err;

struct rack_poll {
    uint64_t gen[RACK_MAX_SLEDS];     /* last generation reported */
    uint64_t max_gen[RACK_MAX_SLEDS]; /* highest generation ever reported */
    size_t held[RACK_MAX_SLEDS];      /* wanted artifacts with count 2 */
    size_t extra[RACK_MAX_SLEDS];     /* listed artifacts not wanted */
    bool up[RACK_MAX_SLEDS];          /* answered this poll */
    size_t gen_decreases;             /* invariant 3 violations seen */
    char gen_note[200];
};

/*
 * The wanted set: {"<hex>": length} of the artifacts of every unpruned
 * repo, read with psql. *out is a new reference. Errors: ERR_IO, ERR_NOMEM.
 */
int rack_wanted_load(json_t **out, const struct rack *r, struct err *err);

/* Poll every sled once (timeout_ms each) into p. */
void rack_poll_once(struct rack_poll *p, const struct rack *r,
                    const json_t *wanted, long timeout_ms);

/* Whether every sled holds exactly the wanted set with count 2. */
bool rack_poll_converged(const struct rack_poll *p, const struct rack *r,
                         size_t nwanted);

/*
 * Draw the progress of step (a short label) at elapsed_ms: on a terminal
 * (tty) a grid of per-sled bars redrawn in place, else one line.
 * *drawn keeps how many lines the last terminal drawing used.
 */
void rack_progress(FILE *f, bool tty, int *drawn, const char *step,
                   int64_t elapsed_ms, const struct rack_poll *p,
                   const struct rack *r, size_t nwanted);

/*
 * Walk every dataset of every sled and check invariants 2 and 4 against
 * wanted (hashing every artifact file). Problems are printed to f, one a
 * line. Returns the number of problems.
 */
size_t rack_check_datasets(FILE *f, const struct rack *r,
                           const json_t *wanted);

#endif
