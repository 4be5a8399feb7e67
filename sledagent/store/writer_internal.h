/* SPDX-License-Identifier: MPL-2.0 */
/*
 * writer_internal: the write object (struct store_write) shared by
 * writer.c (the write's lifecycle: loop-thread API, worker task, finish),
 * writer_space.c (space and quota reservation) and writer_file.c (the
 * per-dataset temp files and their write-back window). Not for other
 * files, not even the rest of sledagent/store/.
 */
#ifndef SLEDAGENT_STORE_WRITER_INTERNAL_H
#define SLEDAGENT_STORE_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/sha256.h"
#include "sledagent/store/store_internal.h"

struct evbuffer;

/* iovecs taken from the backlog per writev batch */
#define WRITER_IOV 256

struct store_write {
    struct store_write *next, *prev; /* st->writes (loop thread) */
    struct store *st;
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];
    int64_t expected;
    /* loop thread */
    store_flow_fn flow;
    void *flow_arg;
    bool paused, task_running, finish_req, aborted, toobig;
    bool failed; /* the worker failed it before finish/abort (no space) */
    store_write_done_fn cb;
    void *cb_arg;
    uint64_t received;
    uint64_t reserve[STORE_DATASETS];
    bool use[STORE_DATASETS], purge[STORE_DATASETS];
    /* shared with the worker, under mu */
    pthread_mutex_t mu;
    struct evbuffer *backlog;
    size_t backlog_len;
    bool stop, stop_toobig, finish_flag, short_body, paused_shared;
    /* worker side (one task at a time) */
    bool started;
    struct sha256_ctx sha;
    struct evbuffer *work;
    int fd[STORE_DATASETS];
    char *tmp[STORE_DATASETS];
    bool active[STORE_DATASETS];
    uint64_t written, synced_to, prev_sync;
    /* result, written by the worker before finalized is set */
    bool finalized;
    int rc;
    int reason;
    struct err err;
    unsigned datasets, successful;
};

#endif
