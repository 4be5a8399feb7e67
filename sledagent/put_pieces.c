/* SPDX-License-Identifier: MPL-2.0 */
/*
 * put_pieces: the query of a PUT that names a piece manifest and the
 * fetch of that manifest from the replicator (put_pieces.h). The
 * replicator is asked, not the PUT's client, because the manifest of a
 * large artifact does not fit a header and the body is the artifact; the
 * hash in the query (from the controller over its authenticated
 * connection) is the trust anchor, so the bytes may come from anywhere.
 * Agent loop thread only.
 */
#include "sledagent/put_pieces.h"

#include <stdio.h>
#include <string.h>

#include "common/api_version.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/pieces.h"
#include "common/tls.h"
#include "sledagent/agent.h"
#include "sledagent/agent_internal.h"
#include "sledagent/copy.h"

struct put_pieces {
    struct httpc *req;
    struct revref *rev;
    struct sha256 h, mid;
    uint64_t len;
    uint32_t psize;
    char hex[SHA256_HEX_LEN + 1];
    put_pieces_fn cb;
    void *arg;
};

#define MKEY "&manifest_sha256="
#define PKEY "&piece_size="

int put_pieces_query(struct put_query *out, const char *query,
                     struct err *err)
{
    const char *m = query ? strstr(query, MKEY) : NULL;
    char gen[64];
    uint64_t ps = 0;
    size_t glen;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!m)
        return httpd_query_generation(&out->generation, query, err);
    glen = (size_t)(m - query);
    if (glen >= sizeof(gen))
        return err_set(err, ERR_INVAL, "query: generation too long");
    memcpy(gen, query, glen);
    gen[glen] = '\0';
    rc = httpd_query_generation(&out->generation, gen, err);
    if (rc < 0)
        return rc;
    m += strlen(MKEY);
    if (strlen(m) < SHA256_HEX_LEN + strlen(PKEY) ||
        sha256_from_hexn(&out->manifest_sha256, m, SHA256_HEX_LEN) < 0 ||
        strncmp(m + SHA256_HEX_LEN, PKEY, strlen(PKEY)) != 0 ||
        parse_u64(&ps, m + SHA256_HEX_LEN + strlen(PKEY)) < 0 ||
        !pieces_size_valid(ps))
        return err_set(err, ERR_INVAL, "query: expected generation=N"
                       "[&manifest_sha256=<64 hex>&piece_size=P]");
    out->has_manifest = true;
    out->piece_size = (uint32_t)ps;
    return 0;
}

static void fetched(struct httpc *hc, void *arg)
{
    struct put_pieces *pp = arg;
    struct pieces m = PIECES_INIT;
    struct err err = ERR_INIT;
    const struct buf *b;
    struct sha256 got;
    int rc = httpc_result(hc, &err);

    if (rc == 0 && httpc_status(hc) != 200)
        rc = err_set(&err, ERR_NOTFOUND, "replicator answered %ld",
                     httpc_status(hc));
    if (rc == 0) {
        b = httpc_body(hc);
        if (sha256_digest(&got, b->data, b->len) < 0 ||
            !sha256_eq(&got, &pp->mid))
            rc = err_set(&err, ERR_VERIFY, "bad manifest");
        else
            rc = pieces_parse(&m, b->data, b->len, &pp->h,
                              (int64_t)pp->len, &err);
        if (rc == 0 && m.piece_size != pp->psize)
            rc = err_set(&err, ERR_VERIFY, "bad manifest");
    }
    /* the request is spent: put_pieces_free after the callback is safe */
    httpc_free(pp->req);
    pp->req = NULL;
    if (rc < 0)
        log_warn("put_manifest_unavailable", "{s:s, s:s}", "sha256",
                 pp->hex, "error", err.msg);
    pp->cb(rc == 0 ? &m : NULL, pp->arg);
    pieces_release(&m);
}

int put_pieces_fetch(struct put_pieces **out, struct agent *a,
                     const struct sha256 *h, uint64_t len,
                     const struct put_query *q, put_pieces_fn cb, void *arg,
                     struct err *err)
{
    struct put_pieces *pp = NULL;
    struct httpc_spec sp = {0};
    char url[1024];
    int rc = 0;

    *out = NULL;
    if (!a->opts.replicator_url)
        return err_set(err, ERR_NOTFOUND, "no replicator to ask for the "
                       "manifest");
    pp = mem_calloc(1, sizeof(*pp));
    if (!pp)
        return err_set(err, ERR_NOMEM, "out of memory");
    pp->h = *h;
    pp->mid = q->manifest_sha256;
    pp->len = len;
    pp->psize = q->piece_size;
    pp->cb = cb;
    pp->arg = arg;
    sha256_to_hex(pp->hex, h);
    snprintf(url, sizeof(url), "%s/artifact/sha256/%s/pieces?piece_size=%u",
             a->opts.replicator_url, pp->hex, (unsigned)pp->psize);
    sp.url = url;
    sp.api_version = API_VERSION_REPLICATOR_SLED;
    sp.sink.kind = HTTPC_SINK_BUF;
    sp.sink.cap = PIECES_DOC_MAX;
    sp.connect_ms = PUT_PIECES_FETCH_MS;
    sp.total_ms = PUT_PIECES_FETCH_MS;
    if (agent_tls_on(&a->opts)) {
        pp->rev = copies_rev_hold(a->copies);
        sp.tls.ca_file = a->opts.tls.ca;
        sp.tls.cert_file = a->opts.tls.cert;
        sp.tls.key_file = a->opts.tls.key;
        sp.tls.roles = HTTPC_ROLE(TLS_ROLE_CONTROLLER);
        sp.tls.revoked = copies_rev_set(pp->rev);
    }
    if (httpc_new(&pp->req, &sp, err) < 0 ||
        httpc_start(a->cv, pp->req, fetched, pp) < 0) {
        rc = err_set(err, ERR_INTERNAL, "cannot start the manifest request");
        put_pieces_free(pp);
        return rc;
    }
    *out = pp;
    return 0;
}

void put_pieces_free(struct put_pieces *pp)
{
    if (!pp)
        return;
    httpc_free(pp->req);
    copies_rev_drop(pp->rev);
    mem_free(pp);
}
