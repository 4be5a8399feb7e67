/* SPDX-License-Identifier: MPL-2.0 */
/*
 * db: libpq connection, parameterised execution (a statement outside a
 * transaction runs as its own db_txn, so it rides through a failover too),
 * the column helpers of db_internal.h and the schema-version check. Owns
 * the PGconn; the transaction runner is db_txn.c. One thread at a time per
 * struct db (see db.h).
 */
#include "replicator/db/db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "replicator/db/db_internal.h"
#include "replicator/db/db_migrate.h"
#include "replicator/db/db_priv.h"

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int db_open(struct db **out, const char *conninfo, struct err *err)
{
    struct db *db = NULL;
    int rc = 0;

    *out = NULL;
    db = mem_calloc(1, sizeof(*db));
    if (!db) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    db->conn = PQconnectdb(conninfo);
    if (!db->conn) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        rc = err_set(err, ERR_DB, "database connection: %s",
                     PQerrorMessage(db->conn));
        goto out;
    }
    PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
    db->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)db;
    db->outcome_table = -1;
    db->unavail_wait_ms = DB_UNAVAIL_WAIT_MS;
    *out = db;
    db = NULL;
out:
    db_close(db);
    return rc;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    if (db->conn)
        PQfinish(db->conn);
    mem_free(db);
}

PGconn *db_conn(struct db *db)
{
    return db->conn;
}

const char *db_sqlstate(const struct db *db)
{
    return db->sqlstate;
}

/* Record the failure of res (NULL: libpq itself failed) and set err. */
static int fail(struct db *db, const PGresult *res, const char *what,
                struct err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                          : NULL;

    snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
    if (PQstatus(db->conn) != CONNECTION_OK)
        db->lost = true;
    if (!msg || !*msg)
        msg = PQerrorMessage(db->conn);
    if (!res && PQstatus(db->conn) == CONNECTION_OK)
        return err_set(err, ERR_NOMEM, "%s: out of memory", what);
    return err_set(err, ERR_DB, "%s: %s (SQLSTATE %s)", what, msg,
                   state ? state : "none");
}

/* One statement run outside a transaction: as a transaction of its own. */
struct single {
    PGresult **out;
    const char *what, *sql;
    int nparams;
    const char *const *params;
};

static int single_txn(struct db *db, void *arg, struct err *err)
{
    struct single *a = arg;

    if (a->out) {
        PQclear(*a->out);
        *a->out = NULL;
    }
    return db_exec(a->out, db, a->what, a->sql, a->nparams, a->params, err);
}

/* Whether sql only reads: it starts with SELECT (a data-modifying WITH
 * counts as a write). */
static bool reads_only(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t')
        sql++;
    return strncasecmp(sql, "SELECT", 6) == 0;
}

int db_exec(PGresult **out, struct db *db, const char *what, const char *sql,
            int nparams, const char *const *params, struct err *err)
{
    PGresult *res = NULL;
    ExecStatusType st;
    int rc = 0;

    if (out)
        *out = NULL;
    if (!db->in_txn) {
        struct single a = {out, what, sql, nparams, params};

        return db_txn(db, reads_only(sql), single_txn, &a, err);
    }
    res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = fail(db, res, what, err);
        goto out;
    }
    if (out) {
        *out = res;
        res = NULL;
    }
out:
    PQclear(res);
    return rc;
}

int db_exec_on_id(struct db *db, const char *noun, const char *what,
                  const char *sql, const char *id, struct err *err)
{
    PGresult *res = NULL;
    int rc;

    if (!db_uuid_valid(id))
        return err_set(err, ERR_INVAL, "%s id %s is not a UUID", noun,
                       id ? id : "(null)");
    rc = db_exec(&res, db, what, sql, 1, &id, err);
    if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
        rc = err_set(err, ERR_NOTFOUND, "no %s %s", noun, id);
    PQclear(res);
    return rc;
}

int db_exec_script(struct db *db, const char *what, const char *sql,
                   struct err *err)
{
    PGresult *res = NULL;
    ExecStatusType st;
    int rc = 0;

    if (!db->in_txn && PQstatus(db->conn) != CONNECTION_OK) {
        rc = db_reconnect(db, err);
        if (rc < 0)
            return rc;
    }
    res = PQexec(db->conn, sql);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = fail(db, res, what, err);
    PQclear(res);
    return rc;
}

int db_check_schema(struct db *db, struct err *err)
{
    int64_t cur = 0;
    int64_t latest = db_migrate_latest();
    int rc = db_migrate_current(&cur, db, err);

    if (rc < 0)
        goto out;
    if (cur > latest)
        rc = err_set(err, ERR_CONFLICT,
                     "database schema version %" PRId64 " is newer than "
                     "this binary's %" PRId64 ": upgrade the replicator",
                     cur, latest);
    else if (cur < latest)
        rc = err_set(err, ERR_CONFLICT,
                     "database schema version %" PRId64 " is older than "
                     "this binary's %" PRId64 ": run `replicator db migrate`",
                     cur, latest);
out:
    return rc;
}

bool db_uuid_valid(const char *s)
{
    static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t i;

    if (!s)
        return false;
    for (i = 0; pat[i]; i++) {
        if (pat[i] == '-' ? s[i] != '-'
                          : !((s[i] >= '0' && s[i] <= '9') ||
                              (s[i] >= 'a' && s[i] <= 'f') ||
                              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    }
    return s[i] == '\0';
}

void db_i64_str(char buf[DB_INT_STR], int64_t v)
{
    snprintf(buf, DB_INT_STR, "%" PRId64, v);
}

int db_time_str(char buf[DB_TIME_STR], int64_t secs, struct err *err)
{
    time_t t = (time_t)secs;
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 1 ||
        strftime(buf, DB_TIME_STR, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return err_set(err, ERR_INVAL, "time %" PRId64 " out of range", secs);
    return 0;
}

int db_rows_decode(void **rows, size_t *count, const PGresult *res,
                   size_t elem, db_row_fn decode, struct err *err)
{
    int n = PQntuples(res);
    char *p;

    *rows = NULL;
    *count = 0;
    if (n <= 0)
        return 0;
    p = mem_calloc((size_t)n, elem);
    if (!p)
        return err_set(err, ERR_NOMEM, "out of memory");
    *rows = p;
    for (int i = 0; i < n; i++) {
        int rc;

        (*count)++;
        rc = decode(p + (size_t)i * elem, res, i, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int db_col_i64(int64_t *out, const PGresult *res, int row, int col,
               struct err *err)
{
    const char *s = PQgetvalue(res, row, col);
    char *end = NULL;
    long long v;

    if (PQgetisnull(res, row, col) || !*s)
        return err_set(err, ERR_DB, "column %s is NULL", PQfname(res, col));
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return err_set(err, ERR_DB, "column %s: not an integer: %s",
                       PQfname(res, col), s);
    *out = v;
    return 0;
}

int db_col_u64(uint64_t *out, const PGresult *res, int row, int col,
               struct err *err)
{
    int64_t v = 0;
    int rc = db_col_i64(&v, res, row, col, err);

    if (rc < 0)
        return rc;
    if (v < 0)
        return err_set(err, ERR_DB, "column %s: negative: %" PRId64,
                       PQfname(res, col), v);
    *out = (uint64_t)v;
    return 0;
}

int db_col_sha256(struct sha256 *out, const PGresult *res, int row, int col,
                  struct err *err)
{
    if (PQgetisnull(res, row, col) ||
        sha256_from_hex(out, PQgetvalue(res, row, col)) < 0)
        return err_set(err, ERR_DB, "column %s: not a sha256: %s",
                       PQfname(res, col), PQgetvalue(res, row, col));
    return 0;
}

int db_col_strdup(char **out, const PGresult *res, int row, int col,
                  struct err *err)
{
    *out = NULL;
    if (PQgetisnull(res, row, col))
        return 0;
    *out = mem_strdup(PQgetvalue(res, row, col));
    if (!*out)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

int db_col_uuid(char *out, const PGresult *res, int row, int col,
                struct err *err)
{
    const char *s = PQgetvalue(res, row, col);

    if (PQgetisnull(res, row, col) || !db_uuid_valid(s))
        return err_set(err, ERR_DB, "column %s: not a UUID: %s",
                       PQfname(res, col), s);
    memcpy(out, s, DB_UUID_STR);
    return 0;
}
