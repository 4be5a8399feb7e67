/* SPDX-License-Identifier: MPL-2.0 */
/*
 * depot: the sledagent's repo depot (DESIGN.md section 2), the peers'
 * side of the node: its route table (routes[] below) and its handlers:
 * a stored artifact sent by httpd_reply_file, whole or one byte range
 * (206, 416), its piece manifest and which pieces are verified here
 * (issue 13); a Range inside the verified pieces of a positional write in
 * progress is served from its temp file. Loop thread only.
 */
#include "sledagent/depot.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>


#include "common/buf.h"
#include "common/err.h"
#include "common/httpd.h"
#include "common/httpd_route.h"
#include "common/parse.h"
#include "common/pieces.h"
#include "common/sha256.h"
#include "sledagent/agent_internal.h"
#include "sledagent/depot_have.h"
#include "sledagent/range.h"

/*
 * A ranged read (a swarm copy's piece) may start: at most
 * DEPOT_PIECE_STREAMS at once, so that one holder's link is not split
 * among every copy of the rack (each piece then takes long to arrive,
 * and the same piece is sent to many); beyond that 429 with Retry-After
 * (the copy fetches from its other candidates meanwhile). A range of a
 * PUT in progress here (`once`) that this depot is already sending is
 * refused the same way: a PUT target's link is the scarcest of the rack
 * (it is the only holder of its newest pieces), so it sends each piece
 * once at a time and the copies take the second copy from the peer that
 * got the first (issue 13). A swarm copy in progress sends a piece to as
 * many as ask (decision 60): every asker needs it, and its link is no
 * scarcer than theirs. On true the reply holds a stream until
 * depot_piece_stream_done sees it sent.
 */
static bool piece_stream_take(struct httpd_req *r, struct agent *a,
                              const struct sha256 *h, uint64_t start,
                              bool once)
{
    struct depot_stream *free_slot = NULL;
    const char *why = NULL;

    for (unsigned i = 0; i < DEPOT_PIECE_STREAMS; i++) {
        struct depot_stream *d = &a->depot_streams[i];

        if (!d->used) {
            if (!free_slot)
                free_slot = d;
        } else if (once && d->once && d->start == start &&
                   sha256_eq(&d->h, h)) {
            why = "this piece is being sent: ask its other holders";
        }
    }
    if (!why && !free_slot)
        why = "too many ranged reads";
    if (why) {
        httpd_req_add_header(r, "Retry-After", "1");
        httpd_reply_error(r, 429, NULL, why);
        return false;
    }
    free_slot->used = true;
    free_slot->once = once;
    free_slot->h = *h;
    free_slot->start = start;
    a->depot_ranged++;
    httpd_req_set_data(r, free_slot);
    return true;
}

void depot_piece_stream_done(struct agent *a, const struct httpd_req *r)
{
    const void *d = httpd_req_data(r);

    for (unsigned i = 0; i < DEPOT_PIECE_STREAMS; i++)
        if (d == &a->depot_streams[i] && a->depot_streams[i].used) {
            a->depot_streams[i].used = false;
            a->depot_ranged--;
        }
}

static void reply_416(struct httpd_req *r, uint64_t size)
{
    char cr[80];

    snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
    httpd_req_add_header(r, "Content-Range", cr);
    httpd_reply_error(r, 416, NULL, "range not satisfiable");
}

/*
 * A Range request for an artifact not complete here (issue 13): 206 from
 * the temp file of a positional write when the range lies inside verified
 * pieces, else 416 with the artifact's length; notfound (err) when no
 * such write. The peer verifies every piece anyway.
 */
static void depot_partial(struct httpd_req *r, struct agent *a,
                          const struct sha256 *h, const struct err *notfound)
{
    struct err err = ERR_INIT;
    struct range rg;
    uint64_t size = 0;
    char cr[80];
    int fd = -1;

    if (store_partial_length(a->st, h, &size, &err) < 0) {
        httpd_reply_err(r, notfound);
        return;
    }
    httpd_req_add_header(r, "Accept-Ranges", "bytes");
    if (range_parse(&rg, httpd_req_header(r, "Range"), size) !=
            RANGE_PARTIAL ||
        store_partial_open(a->st, h, rg.start, rg.len, &fd, &err) < 0) {
        reply_416(r, size);
        return;
    }
    /* a PUT target sends each piece once in STORE_PIECE_RESEND_MS: its
     * link is the only source of the newest pieces, so a second copy of
     * one is a new piece not sent; the copies take it from the peer that
     * got it (its /have long-poll tells them within a piece's time). Once
     * that time passed it sends it again (that peer may be no candidate
     * of the asker, or gone); after the PUT it serves freely. */
    if (store_partial_sent(a->st, h, rg.start, false)) {
        close(fd);
        httpd_req_add_header(r, "Retry-After", "1");
        httpd_reply_error(r, 429, NULL, "this piece was sent once: ask its "
                          "other holders");
        return;
    }
    if (!piece_stream_take(r, a, h, rg.start,
                           store_partial_streamed(a->st, h))) {
        close(fd);
        return;
    }
    store_partial_sent(a->st, h, rg.start, true);
    snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
             (unsigned long long)rg.start,
             (unsigned long long)(rg.start + rg.len - 1),
             (unsigned long long)size);
    httpd_req_add_header(r, "Content-Range", cr);
    httpd_reply_file(r, 206, "application/octet-stream", fd, rg.start,
                     rg.len);
}

static void depot_request(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct sha256 h;
    struct range rg;
    char cr[80];
    uint64_t size;
    int fd = -1;
    enum range_result rr;

    httpd_req_sha256(&h, r, 0);
    if (store_open_artifact(a->st, &h, &fd, &size, &err) < 0) {
        if (err.code == ERR_NOTFOUND && httpd_req_header(r, "Range"))
            depot_partial(r, a, &h, &err);
        else
            httpd_reply_err(r, &err);
        return;
    }
    httpd_req_add_header(r, "Accept-Ranges", "bytes");
    rr = range_parse(&rg, httpd_req_header(r, "Range"), size);
    if (rr == RANGE_UNSATISFIABLE) {
        reply_416(r, size);
        close(fd);
        return;
    }
    if (rr == RANGE_PARTIAL && httpd_req_method(r) == HTTPD_GET &&
        !piece_stream_take(r, a, &h, rg.start, false)) {
        close(fd);
        return;
    }
    if (rr == RANGE_PARTIAL) {
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
                 (unsigned long long)rg.start,
                 (unsigned long long)(rg.start + rg.len - 1),
                 (unsigned long long)size);
        httpd_req_add_header(r, "Content-Range", cr);
    }
    /* read in bounded chunks as the client drains: a copy truncated
     * meanwhile closes the connection short, never a fault */
    httpd_reply_file(r, rr == RANGE_PARTIAL ? 206 : 200,
                     "application/octet-stream", fd, rg.start, rg.len);
}

/* store_pieces' answer when it had to compute the manifest. */
static void pieces_reply(int rc, const struct err *err, const char *doc,
                         size_t len, void *arg)
{
    struct httpd_req *r = arg;

    if (rc < 0)
        httpd_reply_err(r, err);
    else
        httpd_reply_data(r, 200, "application/json", doc, len);
    httpd_req_unref(r);
}

/* The query of a pieces request: none, or exactly "piece_size=N". */
static int pieces_query(uint64_t *out, const char *q, struct err *err)
{
    static const char key[] = "piece_size=";

    *out = 0;
    if (!q || !*q)
        return 0;
    if (strncmp(q, key, sizeof(key) - 1) != 0 ||
        parse_u64(out, q + sizeof(key) - 1) < 0 || !pieces_size_valid(*out))
        return err_set(err, ERR_INVAL, "query must be piece_size=N, N a "
                       "power of two from %u to %u", PIECES_SIZE_MIN,
                       PIECES_SIZE_MAX);
    return 0;
}

/* GET /artifact/sha256/{sha256}/pieces[?piece_size=N] (issue 13): the
 * piece manifest of a complete artifact held here (store_pieces). */
static void depot_pieces(struct httpd_req *r, void *arg)
{
    struct agent *a = arg;
    struct err err = ERR_INIT;
    struct buf doc = BUF_INIT;
    struct sha256 h;
    uint64_t psize = 0;
    bool pending = false;
    int rc;

    httpd_req_sha256(&h, r, 0);
    rc = pieces_query(&psize, httpd_req_query(r), &err);
    if (rc == 0) {
        httpd_req_ref(r); /* for pieces_reply */
        rc = store_pieces(a->st, &doc, &pending, &h, psize, pieces_reply, r,
                          &err);
        if (!pending)
            httpd_req_unref(r);
        /* not complete here: the manifest a positional write verifies */
        if (rc == ERR_NOTFOUND &&
            store_partial_manifest(a->st, &h, psize, &doc, NULL) == 0)
            rc = 0;
    }
    if (rc < 0)
        httpd_reply_err(r, &err);
    else if (!pending)
        httpd_reply_data(r, 200, "application/json", doc.data, doc.len);
    buf_release(&doc);
}

/* The depot, whole: docs/API.md lists exactly this (test_route_docs). */
static const struct httpd_route routes[] = {
    {.name = "depot_get", .methods = HTTPD_M_GET | HTTPD_M_HEAD,
     .pattern = "/artifact/sha256/{sha256}", .on_request = depot_request,
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_CONTROLLER},
    {.name = "depot_pieces", .methods = HTTPD_M_GET,
     .pattern = "/artifact/sha256/{sha256}/pieces",
     .on_request = depot_pieces,
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_CONTROLLER},
    {.name = "depot_have", .methods = HTTPD_M_GET,
     .pattern = "/artifact/sha256/{sha256}/have", .on_request = depot_have,
     .roles = HTTPD_ROLE_SLED | HTTPD_ROLE_CONTROLLER},
};

const char *const *depot_versions(size_t *n)
{
    static const char *const versions[] = {"1.0.0"};

    *n = sizeof(versions) / sizeof(versions[0]);
    return versions;
}

const struct httpd_route *depot_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
