/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_db: registered sleds (table sled): upsert on registration, list
 * the in-service ones (not expunged) with their depot address, expunge.
 * Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_SLED_DB_H
#define REPLICATOR_DB_SLED_DB_H

#include <stddef.h>
#include <stdint.h>

#include "replicator/db/db.h"

struct err;

struct sled_db_sled {
    char id[DB_UUID_STR];
    char *api_address;        /* "host:port" of the agent API; owned on list */
    uint16_t repo_depot_port; /* 1..65535; 12348 is the real port */
    int64_t time_registered;  /* unix seconds; set by list */
    int64_t time_seen;        /* unix seconds; set by list */
};

struct sled_db_list {
    size_t count;
    struct sled_db_sled *sleds; /* ordered by id */
};

#define SLED_DB_LIST_INIT {0, NULL}

void sled_db_list_release(struct sled_db_list *l);

/*
 * Insert the sled or update its address, port and time_seen (s is
 * borrowed). Errors: ERR_INVAL (bad id, empty address, port 0),
 * ERR_CONFLICT (the sled is expunged: it may not come back), ERR_DB.
 */
int sled_db_upsert(struct db *db, const struct sled_db_sled *s,
                   struct err *err);

/* In-service sleds. Errors: ERR_LIMIT (more than LIMIT_SLEDS_PER_RACK),
 * ERR_DB, ERR_NOMEM. */
int sled_db_list(struct sled_db_list *out, struct db *db, struct err *err);

/*
 * Expunge a sled (idempotent for an already expunged one). Errors:
 * ERR_INVAL (not a UUID), ERR_NOTFOUND, ERR_DB.
 */
int sled_db_expunge(struct db *db, const char *id, struct err *err);

#endif
