/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pki_index: DIR/index.json, the record of a rack CA: its rack id and
 * serial, every issued certificate (serial, role, id, validity, revoked,
 * when and why) and every revoked identity. Loaded whole, edited in
 * memory, saved atomically (fsutil_write_atomic) while the caller holds
 * pki_lock. Also builds the tls_revoked set the TLS contexts consult.
 * Main thread of the command-line tool.
 *
 *   {"format": 1, "rack_id": UUID, "ca_serial": HEX,
 *    "certs": [{"serial", "role", "id", "not_before", "not_after",
 *               "revoked", "time_revoked"?, "reason"?}],
 *    "revoked_ids": [{"role", "id", "time_revoked", "reason"}]}
 */
#ifndef REPLICATOR_PKI_INDEX_H
#define REPLICATOR_PKI_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/tls.h"

struct err;
struct pki_index;

#define PKI_INDEX_FILE "index.json"
/* Revocation reasons are free text up to this many bytes. */
#define PKI_REASON_MAX 200

/* One issued certificate; strings borrowed from the index. */
struct pki_cert {
    const char *serial;
    enum tls_role role;
    const char *id;
    int64_t not_before, not_after;
    bool revoked;
    int64_t time_revoked; /* 0 when not revoked */
    const char *reason;   /* "" when not revoked */
};

/* What pki_index_revoke revoked: one certificate, or an identity. */
struct pki_revocation {
    bool by_serial;
    char serial[TLS_SERIAL_HEX_MAX + 1]; /* "" for an identity */
    enum tls_role role;
    char id[TLS_ID_MAX + 1];
    bool already;                        /* it was revoked before */
};

/* A new, empty index of rack_id and CA serial ca_serial. 0 or ERR_NOMEM. */
int pki_index_new(struct pki_index **out, const char *rack_id,
                  const char *ca_serial, struct err *err);

/*
 * Read dir/index.json. Returns 0, ERR_NOTFOUND (no index: not a CA
 * directory), ERR_VERIFY (malformed: the message names what), ERR_IO,
 * ERR_NOMEM.
 */
int pki_index_load(struct pki_index **out, const char *dir, struct err *err);

/* Write dir/index.json atomically. Returns 0, ERR_IO or ERR_NOMEM. */
int pki_index_save(const struct pki_index *idx, const char *dir,
                   struct err *err);

/* Free. NULL is a no-op. */
void pki_index_free(struct pki_index *idx);

/* The rack id (borrowed). */
const char *pki_index_rack_id(const struct pki_index *idx);

/* Number of certificates, and certificate i (0-based, issue order). */
size_t pki_index_count(const struct pki_index *idx);
void pki_index_get(struct pki_cert *out, const struct pki_index *idx,
                   size_t i);

/* Record a new certificate. Returns 0, ERR_LIMIT or ERR_NOMEM. */
int pki_index_add(struct pki_index *idx, const char *serial,
                  enum tls_role role, const char *id, int64_t not_before,
                  int64_t not_after, struct err *err);

/* Whether the identity (role, id) is revoked. */
bool pki_index_id_revoked(const struct pki_index *idx, enum tls_role role,
                          const char *id);

/*
 * Revoke what: a serial of this index (hex, either case), else an id (of
 * role, or of any role when role is 0) of certificates in the index; an
 * identity revocation also marks all its certificates revoked. Already
 * revoked is success with out->already set. Returns 0, ERR_NOTFOUND (no
 * such serial or id), ERR_CONFLICT (the id exists under two roles: give
 * the role), ERR_INVAL (reason too long), ERR_NOMEM.
 */
int pki_index_revoke(struct pki_revocation *out, struct pki_index *idx,
                     const char *what, enum tls_role role, const char *reason,
                     int64_t now, struct err *err);

/* The revoked serials and identities as a set. 0, ERR_LIMIT, ERR_NOMEM. */
int pki_index_revoked_set(struct tls_revoked **out,
                          const struct pki_index *idx, struct err *err);

/* The index as JSON for `pki list --json` (new reference) or NULL. */
json_t *pki_index_json(const struct pki_index *idx);

#endif
