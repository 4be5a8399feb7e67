/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pg: the integration tests' PostgreSQL. A thin layer over
 * sim/pgembed (one private server per test binary), or, when
 * $RACKDEPOT_TEST_DB is set, an existing server in which uniquely named
 * databases are created and dropped again at pg_stop. Test main thread.
 */
#include "tests/support/pg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "sim/pgembed.h"

#define PG_MAX_DBS 256

struct pg {
    struct pgembed *emb; /* private server, or NULL */
    const char *url;     /* external server ($RACKDEPOT_TEST_DB) */
    unsigned counter;
    size_t ndbs;
    char *dbs[PG_MAX_DBS]; /* databases created on the external server */
};

static int external_exec(const char *url, const char *sql, struct err *err)
{
    PGconn *conn = PQconnectdb(url);
    PGresult *res = NULL;
    int rc = 0;

    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        rc = err_set(err, ERR_DB, "connect to $RACKDEPOT_TEST_DB: %s",
                     conn ? PQerrorMessage(conn) : "out of memory");
        goto out;
    }
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = err_set(err, ERR_DB, "%s: %s", sql, PQerrorMessage(conn));
out:
    PQclear(res);
    if (conn)
        PQfinish(conn);
    return rc;
}

int pg_start(struct pg **out, struct err *err)
{
    const char *url = getenv("RACKDEPOT_TEST_DB");
    struct pg *h = mem_calloc(1, sizeof(*h));
    int rc = 0;

    *out = NULL;
    if (!h)
        return err_set(err, ERR_NOMEM, "out of memory");
    if (url && *url) {
        h->url = url;
        rc = external_exec(url, "SELECT 1", err);
    } else {
        rc = pgembed_start(&h->emb, NULL, err);
    }
    if (rc < 0) {
        mem_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

/* conninfo of the external URL with dbname replaced. */
static int external_conninfo(char **out, const char *url, const char *name,
                             struct err *err)
{
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    struct buf b = BUF_INIT;
    int rc = 0;

    *out = NULL;
    if (!opts) {
        rc = err_set(err, ERR_INVAL, "cannot parse $RACKDEPOT_TEST_DB");
        goto out;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? name : o->val;

        if (!v)
            continue;
        if (buf_printf(&b, "%s%s='", b.len ? " " : "", o->keyword) < 0)
            rc = ERR_NOMEM;
        for (; rc == 0 && *v; v++) {
            if ((*v == '\'' || *v == '\\') && buf_putc(&b, '\\') < 0)
                rc = ERR_NOMEM;
            if (rc == 0 && buf_putc(&b, *v) < 0)
                rc = ERR_NOMEM;
        }
        if (rc == 0 && buf_putc(&b, '\'') < 0)
            rc = ERR_NOMEM;
        if (rc < 0) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (!strstr(b.data ? b.data : "", "dbname=") &&
        buf_printf(&b, " dbname='%s'", name) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    *out = buf_take(&b);
out:
    if (opts)
        PQconninfoFree(opts);
    buf_release(&b);
    return rc;
}

int pg_create_db(char **out, struct pg *h, const char *prefix,
                 struct err *err)
{
    char name[64], sql[96];
    int rc = 0;

    *out = NULL;
    snprintf(name, sizeof(name), "%.32s_%ld_%u", prefix, (long)getpid(),
             h->counter++);
    if (!h->emb) {
        if (h->ndbs == PG_MAX_DBS)
            return err_set(err, ERR_LIMIT, "too many test databases");
        /* prefix is checked by pgembed-like rules below */
        for (const char *p = prefix; *p; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '_'))
                return err_set(err, ERR_INVAL, "bad database prefix %s",
                               prefix);
        }
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
        rc = external_exec(h->url, sql, err);
        if (rc == 0) {
            h->dbs[h->ndbs] = mem_strdup(name);
            if (h->dbs[h->ndbs])
                h->ndbs++;
            rc = external_conninfo(out, h->url, name, err);
        }
        return rc;
    }
    rc = pgembed_create_db(h->emb, name, err);
    if (rc == 0)
        rc = pgembed_conninfo(out, h->emb, name, err);
    return rc;
}

int pg_halt(struct pg *h, struct err *err)
{
    if (!h->emb)
        return err_set(err, ERR_UNAVAIL, "the server of $RACKDEPOT_TEST_DB "
                       "is not ours to stop");
    return pgembed_halt(h->emb, err);
}

int pg_resume(struct pg *h, struct err *err)
{
    if (!h->emb)
        return err_set(err, ERR_UNAVAIL, "the server of $RACKDEPOT_TEST_DB "
                       "is not ours to start");
    return pgembed_resume(h->emb, err);
}

void pg_stop(struct pg *h)
{
    char sql[128];
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->ndbs; i++) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                 h->dbs[i]);
        external_exec(h->url, sql, NULL);
        mem_free(h->dbs[i]);
    }
    pgembed_stop(h->emb);
    mem_free(h);
}
