/* SPDX-License-Identifier: MPL-2.0 */
/*
 * recv_bucket: a receive cap shared by many transfers, work-conserving:
 * one token bucket (the cap's rate, at most RECV_BUCKET_BURST_MS of it
 * saved up) that every transfer draws the bytes it receives from, so a
 * transfer whose source is slow leaves its part of the cap to the
 * others, as a real link does. A transfer that finds the bucket empty
 * pauses; once the bucket refills, the owner's resume callback runs (it
 * unpauses its paused transfers). Loop thread only.
 */
#ifndef SLEDAGENT_RECV_BUCKET_H
#define SLEDAGENT_RECV_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct recv_bucket;

/* tokens saved up at most (a burst), and the resume timer's longest wait */
#define RECV_BUCKET_BURST_MS 50

typedef void (*recv_bucket_resume_fn)(void *arg);

/* Returns 0 or ERR_NOMEM. Rate 0 (the start): no cap. */
int recv_bucket_new(struct recv_bucket **out, struct event_base *base,
                    recv_bucket_resume_fn resume, void *arg);

/* Change the rate (bytes/s; 0: no cap, every take succeeds). */
void recv_bucket_set_rate(struct recv_bucket *b, uint64_t bps);

/*
 * A transfer received len bytes: true when it may take them (the bucket
 * had tokens; it may go below zero by this one read, repaid by the next
 * refills), false when it must pause: resume is called once the bucket
 * has tokens again.
 */
bool recv_bucket_take(struct recv_bucket *b, size_t len);

void recv_bucket_free(struct recv_bucket *b);

#endif
