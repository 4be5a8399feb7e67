/* SPDX-License-Identifier: MPL-2.0 */
/*
 * progress: upload progress for the `replicator` command-line tool, on
 * stderr: a redrawn bar when stderr is a terminal (isatty(2)), otherwise
 * plain lines at most once a second plus the final one, so logs and CI
 * output stay readable. Plain value; main thread.
 */
#ifndef REPLICATOR_PROGRESS_H
#define REPLICATOR_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct progress {
    FILE *out;        /* stderr */
    bool tty;         /* draw a bar */
    const char *label;
    time_t last;      /* last plain line */
    int last_pct;     /* -1 before the first report */
    bool done;        /* 100% was reported */
};

/* Start reporting to out (a terminal decides bar or lines). */
void progress_init(struct progress *p, FILE *out, const char *label);

/* Report now of total bytes (total 0: nothing to report). */
void progress_update(struct progress *p, uint64_t now, uint64_t total);

/* End the bar's line if one is open (call after the transfer). */
void progress_finish(struct progress *p);

#endif
