/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sled_db: registered sleds (table sled): upsert on registration, list
 * the in-service ones (not expunged) with their depot address, expunge.
 * Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_SLED_DB_H
#define REPLICATOR_DB_SLED_DB_H

#include <stdbool.h>
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
    /* More than LIMIT_SLEDS_PER_RACK in service (only SQL or a race of
     * two registrations gets there): the first ones by id are listed. */
    bool truncated;
};

#define SLED_DB_LIST_INIT {0, NULL, false}

void sled_db_list_release(struct sled_db_list *l);

/* The registry cap: new ids are refused at this many sleds in service
 * (LIMIT_SLEDS_PER_RACK unless lowered by sled_db__set_cap). */
unsigned sled_db_cap(void);

/* Test hook: lower the registry cap (0: back to the default). */
void sled_db__set_cap(unsigned cap);

/*
 * Insert the sled or update its address, port and time_seen (s is
 * borrowed). Errors: ERR_INVAL (bad id, empty address, port 0),
 * ERR_CONFLICT (the sled is expunged: it may not come back), ERR_NOSPACE
 * with error_code SLED_REGISTRY_FULL (a new id while sled_db_cap() sleds
 * are in service: "sled registry is full ...: expunge one first"),
 * ERR_DB.
 */
int sled_db_upsert(struct db *db, const struct sled_db_sled *s,
                   struct err *err);

/*
 * One sled, expunged or not, into *out (out->api_address is owned: free
 * it with mem_free) and *expunged. Errors: ERR_INVAL (not a UUID),
 * ERR_NOTFOUND, ERR_DB, ERR_NOMEM.
 */
int sled_db_get(struct sled_db_sled *out, bool *expunged, struct db *db,
                const char *id, struct err *err);

/* In-service sleds, at most LIMIT_SLEDS_PER_RACK (out->truncated tells
 * when there were more). Errors: ERR_DB, ERR_NOMEM. */
int sled_db_list(struct sled_db_list *out, struct db *db, struct err *err);

/*
 * Expunge a sled (idempotent for an already expunged one). Errors:
 * ERR_INVAL (not a UUID), ERR_NOTFOUND, ERR_DB.
 */
int sled_db_expunge(struct db *db, const char *id, struct err *err);

#endif
