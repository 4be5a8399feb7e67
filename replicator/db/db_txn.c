/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db_txn: the SERIALIZABLE transaction runner of db.h. Classifies every
 * failure (retry, reconnect, give up), reconnects with a bounded jittered
 * backoff until a read-write server answers (a failover), and decides a
 * COMMIT whose connection was lost by the outcome marker it inserted
 * (schema 0007 txn_outcome). One thread at a time per struct db.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_priv.h"

/* Write commits between two sweeps of old outcome markers. */
#define SWEEP_EVERY 256
#define DB_TXN_ATTEMPTS_STR "10"
_Static_assert(DB_TXN_MAX_ATTEMPTS == 10, "DB_TXN_ATTEMPTS_STR");

enum db_err_class db_classify(const char *state, bool conn_ok)
{
    static const char *const reconnect[] = {"57P01", "57P02", "57P03",
                                            "25006", "40003"};

    if (!state || !*state)
        return conn_ok ? DB_ERR_FATAL : DB_ERR_RECONNECT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
        return DB_ERR_RETRY;
    if (!strncmp(state, "08", 2))
        return DB_ERR_RECONNECT;
    for (size_t i = 0; i < sizeof(reconnect) / sizeof(*reconnect); i++)
        if (!strcmp(state, reconnect[i]))
            return DB_ERR_RECONNECT;
    return conn_ok ? DB_ERR_FATAL : DB_ERR_RECONNECT;
}

bool db_err_unavailable(const struct err *err)
{
    static const char conn[] = "database connection: ";

    if (!err)
        return false;
    if (err->code == ERR_UNAVAIL)
        return !strncmp(err->msg, DB_UNAVAIL_MSG, strlen(DB_UNAVAIL_MSG));
    return err->code == ERR_DB && !strncmp(err->msg, conn, strlen(conn));
}

void db_set_unavail_wait(struct db *db, long ms)
{
    db->unavail_wait_ms = ms > 0 ? ms : DB_UNAVAIL_WAIT_MS;
}

struct db_stats db_get_stats(const struct db *db)
{
    return db->stats;
}

unsigned db__txn_retries(const struct db *db)
{
    return db->stats.retries;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep uniformly in [base/2, base*3/2) microseconds. */
static void sleep_jitter(struct db *db, long base_us)
{
    long us = base_us / 2 + (long)(rand_r(&db->seed) % (unsigned)base_us);
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void backoff(struct db *db, unsigned attempt)
{
    long base_us = 1000L << (attempt < 7 ? attempt : 7); /* 1 ms .. 128 ms */

    sleep_jitter(db, base_us > 100000 ? 100000 : base_us);
}

int db_reconnect(struct db *db, struct err *err)
{
    long start = now_ms();
    long delay_us = 50000;

    for (;;) {
        PQreset(db->conn);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            db->stats.reconnects++;
            db->outcome_table = -1;
            db->lost = false;
            return 0;
        }
        if (now_ms() - start >= db->unavail_wait_ms)
            break;
        sleep_jitter(db, delay_us);
        delay_us = delay_us * 2 > 1000000 ? 1000000 : delay_us * 2;
    }
    {
        char msg[ERR_MSG_MAX / 2];
        size_t n;

        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
        n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        return err_set(err, ERR_UNAVAIL, DB_UNAVAIL_MSG ": no read-write "
                       "server answered within %ld s: %s",
                       (db->unavail_wait_ms + 999) / 1000, msg);
    }
}

/* A statement outside any transaction (no SERIALIZABLE predicate locks);
 * the result's status, or PGRES_FATAL_ERROR. */
static ExecStatusType raw(struct db *db, const char *sql, int nparams,
                          const char *const *params, char *val, size_t cap)
{
    PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL,
                                 NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (val && cap) {
        val[0] = '\0';
        if (st == PGRES_TUPLES_OK && PQntuples(res) > 0)
            snprintf(val, cap, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return st;
}

/* Learn once per connection whether the outcome marker table exists. */
static void probe_outcome_table(struct db *db)
{
    char v[8];

    if (db->outcome_table >= 0)
        return;
    if (raw(db, "SELECT to_regclass('txn_outcome') IS NOT NULL", 0, NULL, v,
            sizeof(v)) == PGRES_TUPLES_OK)
        db->outcome_table = v[0] == 't';
}

static int new_token(char out[DB_UUID_STR], struct err *err)
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return err_set(err, ERR_IO, "getrandom: %s", strerror(errno));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, DB_UUID_STR, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* Every SWEEP_EVERY write commits: drop markers older than a day. */
static void sweep(struct db *db)
{
    if (++db->commits % SWEEP_EVERY == 0)
        raw(db, "DELETE FROM txn_outcome WHERE committed_at < "
            "now() - interval '1 day'", 0, NULL, NULL, 0);
}

/* err's message as "<pre><message><post>" under code. */
static int rewrap(struct err *err, int code, const char *pre,
                  const char *post)
{
    char last[ERR_MSG_MAX];

    snprintf(last, sizeof(last), "%s", err ? err->msg : "");
    return err_set(err, code, "%s%s%s", pre, last, post);
}

static void rollback(struct db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        raw(db, "ROLLBACK", 0, NULL, NULL, 0);
}

/* After a lost COMMIT: reconnect and look the marker up. 1 committed,
 * 0 not committed, <0 error (unavailable). */
static int decide(struct db *db, const char *token, struct err *err)
{
    const char *p[1] = {token};
    char v[8];
    unsigned tries;
    int rc = 0;

    db->stats.unknown_commits++;
    for (tries = 0; tries < DB_TXN_MAX_RECONNECTS; tries++) {
        if (db->lost || PQstatus(db->conn) != CONNECTION_OK) {
            rc = db_reconnect(db, err);
            if (rc < 0)
                return rewrap(err, ERR_UNAVAIL, "", " (the outcome of the "
                              "last COMMIT is unknown)");
        }
        if (raw(db, "SELECT count(*) FROM txn_outcome WHERE token = $1", 1,
                p, v, sizeof(v)) == PGRES_TUPLES_OK) {
            if (v[0] != '0')
                db->stats.unknown_done++;
            return v[0] != '0';
        }
        if (PQstatus(db->conn) == CONNECTION_OK)
            break;
    }
    return err_set(err, ERR_UNAVAIL, DB_UNAVAIL_MSG ": cannot read the "
                   "outcome of the last COMMIT: %s", PQerrorMessage(db->conn));
}

void db__lose_commit_reply(struct db *db)
{
    db->lose_commit_reply = true;
}

/* The test hook's COMMIT: sent, executed and answered, then the reply is
 * thrown away and the socket shut down. */
static int commit_reply_lost(struct db *db, struct err *err)
{
    PGresult *res;

    db->lose_commit_reply = false;
    if (!PQsendQuery(db->conn, "COMMIT"))
        return err_set(err, ERR_DB, "commit: %s", PQerrorMessage(db->conn));
    while (PQisBusy(db->conn)) {
        struct pollfd p = {PQsocket(db->conn), POLLIN, 0};

        if (poll(&p, 1, 10000) <= 0 || !PQconsumeInput(db->conn))
            break;
    }
    shutdown(PQsocket(db->conn), SHUT_RDWR);
    while ((res = PQgetResult(db->conn)) != NULL)
        PQclear(res);
    db->lost = true;
    db->sqlstate[0] = '\0';
    return err_set(err, ERR_DB, "commit: connection lost (test hook)");
}

/* One attempt. Returns fn's or the statement's rc; *commit_lost when the
 * connection broke during COMMIT of a transaction marked with token. */
static int attempt_once(struct db *db, bool read_only, db_txn_fn fn,
                        void *arg, const char *token, bool *commit_lost,
                        struct err *err)
{
    const char *begin = read_only
        ? "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY"
        : "BEGIN ISOLATION LEVEL SERIALIZABLE";
    int rc;

    *commit_lost = false;
    db->sqlstate[0] = '\0';
    db->lost = false;
    rc = db_exec_script(db, "begin transaction", begin, err);
    if (rc < 0)
        return rc;
    db->in_txn = true;
    rc = fn(db, arg, err);
    if (rc == 0 && token) {
        const char *p[1] = {token};

        rc = db_exec(NULL, db, "record transaction outcome",
                     "INSERT INTO txn_outcome (token) VALUES ($1)", 1, p,
                     err);
        if (rc < 0 && !strcmp(db->sqlstate, "42P01"))
            db->outcome_table = 0; /* dropped under us (migrate down) */
    }
    if (rc == 0) {
        rc = db->lose_commit_reply ? commit_reply_lost(db, err)
                                   : db_exec_script(db, "commit", "COMMIT",
                                                    err);
        *commit_lost = rc < 0 && !read_only &&
            db_classify(db->sqlstate, !db->lost) == DB_ERR_RECONNECT;
    }
    db->in_txn = false;
    return rc;
}

int db_txn(struct db *db, bool read_only, db_txn_fn fn, void *arg,
           struct err *err)
{
    unsigned attempt = 0, reconnects = 0;
    char token[DB_UUID_STR];
    bool commit_lost = false;
    int rc = 0;

    for (;;) {
        enum db_err_class cls;
        bool marked;

        if (PQstatus(db->conn) != CONNECTION_OK) {
            rc = db_reconnect(db, err);
            if (rc < 0)
                return rc;
        }
        if (!read_only)
            probe_outcome_table(db);
        marked = !read_only && db->outcome_table == 1;
        if (marked) {
            rc = new_token(token, err);
            if (rc < 0)
                return rc;
        }
        rc = attempt_once(db, read_only, fn, arg, marked ? token : NULL,
                          &commit_lost, err);
        if (rc == 0) {
            if (marked)
                sweep(db);
            return 0;
        }
        if (commit_lost && !marked)
            return rewrap(err, ERR_UNAVAIL, DB_UNAVAIL_MSG ": the connection "
                          "was lost during COMMIT and, without the "
                          "txn_outcome table (run `replicator db migrate`), "
                          "the outcome is unknown: ", "");
        if (commit_lost) {
            int done = decide(db, token, err);

            if (done < 0)
                return done;
            if (done)
                return 0;
            /* Never committed; decide() left a fresh connection. */
            if (++reconnects > DB_TXN_MAX_RECONNECTS)
                return rewrap(err, ERR_UNAVAIL, DB_UNAVAIL_MSG ": the "
                              "connection kept failing: ", "");
            continue;
        }
        rollback(db);
        if (rc == ERR_DB && !strcmp(db->sqlstate, "42P01") && marked &&
            db->outcome_table == 0) {
            cls = DB_ERR_RETRY; /* the marker table went away: again */
        } else if (db->lost || PQstatus(db->conn) != CONNECTION_OK) {
            cls = DB_ERR_RECONNECT;
        } else if (rc == ERR_DB) {
            cls = db_classify(db->sqlstate, true);
        } else {
            cls = DB_ERR_FATAL;
        }
        if (cls == DB_ERR_RETRY) {
            if (++attempt >= DB_TXN_MAX_ATTEMPTS)
                break;
            db->stats.retries++;
            backoff(db, attempt);
        } else if (cls == DB_ERR_RECONNECT) {
            if (++reconnects > DB_TXN_MAX_RECONNECTS)
                return rewrap(err, ERR_UNAVAIL, DB_UNAVAIL_MSG ": the "
                              "connection kept failing: ", "");
            /* A demoted or recovering server still answers: drop it so
             * the reconnect moves on to the read-write one. */
            if (PQstatus(db->conn) == CONNECTION_OK)
                PQreset(db->conn);
            if (PQstatus(db->conn) != CONNECTION_OK) {
                rc = db_reconnect(db, err);
                if (rc < 0)
                    return rc;
            } else {
                db->stats.reconnects++;
                db->outcome_table = -1;
                sleep_jitter(db, 100000);
            }
        } else {
            return rc;
        }
    }
    return rewrap(err, ERR_DB, "transaction still failing after "
                  DB_TXN_ATTEMPTS_STR " attempts: ", "");
}
