/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_store_fixture: the shared fixture of the sledagent/store unit tests:
 * two dataset directories under a fresh temp dir, an event loop with a
 * 10 ms tick so EVLOOP_ONCE never blocks long, wait_for() helpers with a
 * hard timeout, and synchronous config-put and write helpers.
 */
#ifndef TESTS_UNIT_TEST_STORE_FIXTURE_H
#define TESTS_UNIT_TEST_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/sha256.h"
#include "sledagent/store/store.h"

struct fx {
    char *dir, *ds[2];
    struct event_base *base;
    struct event *tick;
    struct store *st;
    struct store_opts opts;
};

struct res {
    bool done;
    int rc;
    struct err err;
    unsigned datasets, successful;
};

typedef bool (*cond_fn)(struct fx *fx, void *arg);

int fx_setup(void **state);
int fx_teardown(void **state);
void fx_open(struct fx *fx);
bool wait_flag(struct fx *fx, const bool *flag, long ms);
bool wait_for(struct fx *fx, cond_fn cond, void *arg, long ms);
void done_cb(int rc, const struct err *err, void *arg);
void wdone_cb(int rc, const struct err *err, unsigned datasets,
              unsigned successful, void *arg);
int put_config(struct fx *fx, uint64_t gen, const struct sha256 *hs,
               size_t n, struct err *err);
int write_artifact(struct fx *fx, const struct sha256 *h, uint64_t gen,
                   const void *data, size_t len, size_t chunk,
                   struct res *r);
char *art_path(struct fx *fx, int d, const struct sha256 *h);
bool file_is(struct fx *fx, int d, const struct sha256 *h, const void *data,
             size_t len);
bool exists_art(struct fx *fx, int d, const struct sha256 *h);
long tmp_count(struct fx *fx, int d);
void make_blob(void **data, struct sha256 *h, size_t len, uint64_t seed);

#endif
