/* SPDX-License-Identifier: MPL-2.0 */
/*
 * workq: a pool of worker threads for blocking work (disk, fsync, hashing,
 * synchronous libpq) whose completions run back on one libevent loop.
 * workq_submit() and workq_free() are called from the loop thread; fn runs
 * on a worker; done runs on the loop thread after fn returned. Tasks start
 * in submission order (FIFO), several at once.
 */
#ifndef COMMON_WORKQ_H
#define COMMON_WORKQ_H

struct event_base;
struct workq;

typedef void (*workq_fn)(void *arg);

/*
 * Start nthreads workers (1..64) bound to base. Returns 0, ERR_NOMEM,
 * ERR_INVAL or ERR_INTERNAL (thread or eventfd creation failed).
 */
int workq_new(struct workq **out, struct event_base *base, unsigned nthreads);

/*
 * Queue fn(arg) for a worker; done(arg) (may be NULL) then runs on the loop.
 * Returns 0 or ERR_NOMEM (nothing queued).
 */
int workq_submit(struct workq *wq, workq_fn fn, workq_fn done, void *arg);

/* Tasks queued or running whose done callback has not run yet. */
unsigned workq_pending(const struct workq *wq);

/*
 * Run every queued task to completion, run their done callbacks, stop the
 * workers and free. NULL is a no-op. Loop thread, with the loop not running
 * a callback of this workq.
 */
void workq_free(struct workq *wq);

#endif
