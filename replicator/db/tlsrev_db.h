/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tlsrev_db: revoked TLS certificates and identities (table
 * tls_revocation, schema 0003): record one, and load them all as the
 * revocation set the TLS contexts consult (common/tls.h). Worker thread
 * or the command-line tool's main thread; see db.h.
 */
#ifndef REPLICATOR_DB_TLSREV_DB_H
#define REPLICATOR_DB_TLSREV_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/tls.h"

struct db;
struct err;

/* One revocation: a certificate (serial set) or an identity (serial NULL). */
struct tlsrev_db_entry {
    const char *serial; /* lowercase hex, or NULL */
    enum tls_role role;
    const char *id;
    const char *reason;
};

/*
 * Record e in its own transaction. *added (may be NULL) tells whether it
 * was new (recording it twice is a no-op). Returns 0, ERR_INVAL (bad
 * role, id or serial), ERR_DB or ERR_NOMEM.
 */
int tlsrev_db_add(bool *added, struct db *db, const struct tlsrev_db_entry *e,
                  struct err *err);

/*
 * Every recorded revocation as a set in *out (tls_revoked_free). Returns
 * 0, ERR_DB (including a row the set refuses), ERR_LIMIT or ERR_NOMEM.
 */
int tlsrev_db_load(struct tls_revoked **out, struct db *db, struct err *err);

/*
 * tlsrev_db_load, and in *version the revision of the list read in the
 * same snapshot: the number of revocations recorded. Rows are only ever
 * added (revocation is permanent), so it grows strictly with every new
 * revocation and 0 means none; the sleds keep the highest version pushed
 * to them (PUT /tls-revocations). Same codes as tlsrev_db_load.
 */
int tlsrev_db_load_version(struct tls_revoked **out, uint64_t *version,
                           struct db *db, struct err *err);

#endif
