/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pki: the rack's certificate authority on disk. `pki init` creates a
 * self-signed ECDSA P-256 CA (CA:TRUE, pathlen 0, keyCertSign + cRLSign)
 * in a directory holding ca.pem, ca.key (mode 0600) and index.json (see
 * pki_index.h); `pki issue` signs ECDSA P-256 leaves (CA:FALSE,
 * digitalSignature, serverAuth + clientAuth) whose identity is the URI SAN
 * urn:rackdepot:<rack-id>:<role>:<id> (common/tls.h), plus optional IP
 * SANs. Serials are 16 random bytes with the top bit cleared. Commands on
 * one directory are serialised by a lock on DIR/index.lock. OpenSSL 3 EVP
 * APIs; blocking file I/O; main thread of the command-line tool.
 */
#ifndef REPLICATOR_PKI_H
#define REPLICATOR_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"

struct err;

#define PKI_CA_DAYS_DEFAULT 3650
#define PKI_CA_DAYS_MAX 10950
#define PKI_LEAF_DAYS_DEFAULT 90
/* IP SANs on one leaf. */
#define PKI_IPS_MAX 16
/* notBefore is set this far in the past to absorb clock skew in the rack. */
#define PKI_BACKDATE_SECS 300

struct pki_leaf_req {
    enum tls_role role;
    const char *id;
    unsigned days;           /* 1..LIMIT_PKI_LEAF_DAYS */
    const char *const *ips;  /* nips textual IPv4/IPv6 addresses */
    size_t nips;
    const char *out_cert;    /* NULL: DIR/<role>-<id>.pem */
    const char *out_key;     /* NULL: DIR/<role>-<id>.key (mode 0600) */
};

struct pki_issued {
    char serial[TLS_SERIAL_HEX_MAX + 1];
    int64_t not_before, not_after;
    char uri[TLS_URI_MAX];
};

/*
 * Create the CA of rack rack_id (lowercase UUID) in dir (created 0700 if
 * missing), valid for days (1..PKI_CA_DAYS_MAX). Returns 0, ERR_INVAL
 * (bad rack id or days), ERR_CONFLICT (dir already holds a CA or an
 * index), ERR_IO or ERR_NOMEM.
 */
int pki_init(const char *dir, const char *rack_id, unsigned days,
             struct err *err);

/*
 * Issue a leaf for req with the CA in dir, record it in the index and
 * write its certificate and key. *out (may be NULL) describes it.
 * Returns 0, ERR_INVAL (role, id, days or an IP), ERR_LIMIT (too many
 * IPs or index entries), ERR_CONFLICT (the identity is revoked), ERR_IO
 * (no CA in dir, unreadable or unwritable files), ERR_NOMEM.
 */
int pki_issue(struct pki_issued *out, const char *dir,
              const struct pki_leaf_req *req, struct err *err);

/*
 * Take the directory's lock (blocking) into *fd_out. Returns 0 or ERR_IO.
 * pki_unlock(fd) releases it; fd < 0 is a no-op.
 */
int pki_lock(int *fd_out, const char *dir, struct err *err);
void pki_unlock(int fd);

/* The current time of the PKI, unix seconds. */
int64_t pki_now(void);

/* Test hook: make pki_now() return t (0: the real clock again). */
void pki__set_now(int64_t t);

#endif
