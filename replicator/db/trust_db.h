/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trust_db: TUF trust roots (table tuf_trust_root): add, list in a stable
 * order (time_created, id), soft-delete. Worker thread; see db.h.
 */
#ifndef REPLICATOR_DB_TRUST_DB_H
#define REPLICATOR_DB_TRUST_DB_H

#include <stddef.h>
#include <stdint.h>

#include "replicator/db/db.h"

struct err;

struct trust_db_root {
    char id[DB_UUID_STR];
    char *root_json;      /* owned */
    int64_t time_created; /* unix seconds */
};

struct trust_db_list {
    size_t count;
    struct trust_db_root *roots;
};

#define TRUST_DB_LIST_INIT {0, NULL}

void trust_db_list_release(struct trust_db_list *l);

/*
 * Store root_json (the root role document as text, not checked here) and
 * write its new id into out. Errors: ERR_INVAL (empty), ERR_DB.
 */
int trust_db_add(char out[DB_UUID_STR], struct db *db, const char *root_json,
                 struct err *err);

/* Roots not deleted, oldest first. Errors: ERR_DB, ERR_NOMEM. */
int trust_db_list(struct trust_db_list *out, struct db *db, struct err *err);

/*
 * Soft-delete a root. Errors: ERR_INVAL (not a UUID), ERR_NOTFOUND (no
 * such root, or already deleted), ERR_DB.
 */
int trust_db_remove(struct db *db, const char *id, struct err *err);

#endif
