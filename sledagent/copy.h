/* SPDX-License-Identifier: MPL-2.0 */
/*
 * copy: copy-from-depot (DESIGN.md section 2): a libcurl transfer on
 * common/curlev from a peer's depot into a store write begun by the
 * caller, replying 202 to the API request once the source answered with
 * a 2xx header whose Content-Length fits (507 no space or quota, 413 over
 * the cap, 502 otherwise), plus the registry behind GET /copies
 * (running copies and the last COPY_KEEP finished ones). Loop thread only.
 */
#ifndef SLEDAGENT_COPY_H
#define SLEDAGENT_COPY_H

#include <stdint.h>

#include <jansson.h>

struct buf;
struct copies;
struct curlev;
struct httpd_req;
struct sha256;
struct store_write;

#define COPY_KEEP 256

struct copies_opts {
    unsigned connect_secs;  /* default 15 */
    unsigned stall_secs;    /* no-progress timeout, default 60 */
    uint64_t max_recv_bps;  /* shared by the running copies (each gets
                               max_recv_bps / running), 0 = unlimited */
};

/* Returns 0 or ERR_NOMEM. */
int copies_new(struct copies **out, struct curlev *cv,
               const struct copies_opts *opts);

/*
 * Start copying h from depot_base ("http://host:port") into w (ownership
 * of w passes to the copy). r (may be NULL) gets the 202 or 502 reply; a
 * reference is held until then. Returns 0, or ERR_NOMEM/ERR_INTERNAL with
 * w aborted and nothing replied.
 */
int copies_start(struct copies *cs, struct httpd_req *r, struct store_write *w,
                 const struct sha256 *h, uint64_t generation,
                 const char *depot_base);

/* GET /copies body: a new JSON array. NULL on ERR_NOMEM. */
json_t *copies_json(const struct copies *cs);

/* Prometheus lines: copies by state, bytes copied. */
int copies_metrics(const struct copies *cs, struct buf *out);

/* Cancel running transfers and abort their writes (before store_close). */
void copies_cancel_all(struct copies *cs);

/* Free (after store_close). NULL is a no-op. */
void copies_free(struct copies *cs);

#endif
