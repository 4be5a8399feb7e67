/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_priv: the struct db shared by db.c (connection, statements) and
 * db_txn.c (transactions, reconnects, outcome markers). Private to those
 * two files.
 */
#ifndef REPLICATOR_DB_DB_PRIV_H
#define REPLICATOR_DB_DB_PRIV_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "replicator/db/db.h"

struct db {
    PGconn *conn;
    char sqlstate[6];
    bool lost;             /* the connection broke in the current attempt */
    bool lose_commit_reply; /* test hook: db__lose_commit_reply */
    bool in_txn;           /* between db_txn's BEGIN and COMMIT/ROLLBACK */
    int outcome_table;     /* txn_outcome exists: -1 unknown, 0 no, 1 yes */
    long unavail_wait_ms;  /* reconnect for at most this long */
    unsigned commits;      /* write commits (the marker sweep's clock) */
    struct db_stats stats;
    unsigned int seed;     /* backoff jitter */
};

/*
 * Reconnect (PQreset: every host of the conninfo in turn, honouring
 * target_session_attrs) with a jittered backoff from 50 ms to 1 s until a
 * server answers or db->unavail_wait_ms passed. Errors: ERR_UNAVAIL
 * ("database unavailable: ...", the last libpq message).
 */
int db_reconnect(struct db *db, struct err *err);

#endif
