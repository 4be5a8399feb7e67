/* SPDX-License-Identifier: MPL-2.0 */
/*
 * revpush: what the reconciliation task needs to push the database's TLS
 * revocation list to the sleds (issue 9; PUT /tls-revocations on the sled
 * API): the request body, and the task's memory of the version each sled
 * holds, learnt from the sled's own GET /artifacts answer
 * ("tls_revocations_version") or from a push it accepted. A sled whose
 * held version is known and current is not sent anything, so a run in
 * which nothing was revoked costs no extra request; an unknown version
 * (the first run of this process, a new sled) is pushed before the
 * config, and a sled whose list shows it behind (it lost its copy) is
 * pushed right after its list, in the same run. Pure; the task's loop
 * thread.
 */
#ifndef REPLICATOR_TASK_REVPUSH_H
#define REPLICATOR_TASK_REVPUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct collect_sled;
struct tls_revoked;

/* What a sled holds, as far as the task knows (a plain value). */
struct revpush_held {
    bool known;        /* version below is the sled's */
    bool unsupported;  /* its list has no tls_revocations_version: a
                          sled without the endpoint (never pushed) */
    uint64_t version;
};

/* The task's memory across runs: one entry per sled of the last run. */
struct revpush_memo {
    struct revpush_entry *e;
    size_t n;
};

#define REVPUSH_MEMO_INIT {NULL, 0}

void revpush_memo_release(struct revpush_memo *m);

/* The body {"version": version, "revoked": [...]} (mem_free), NULL on
 * ERR_NOMEM. */
char *revpush_body(uint64_t version, const struct tls_revoked *set);

/* Whether sled state h is behind version (unknown counts as behind; an
 * unsupported sled and version 0 never are). */
bool revpush_needed(const struct revpush_held *h, uint64_t version);

/* Fill each sled's held state from m (unknown for a sled m lacks). */
void revpush_memo_get(const struct revpush_memo *m, struct collect_sled *s,
                      size_t n);

/* Replace m by the held states of s[0..n). Returns 0 or ERR_NOMEM (m is
 * then empty: every sled unknown, pushed again next run). */
int revpush_memo_put(struct revpush_memo *m, const struct collect_sled *s,
                     size_t n);

#endif
