/* SPDX-License-Identifier: MPL-2.0 */
/*
 * jobs: the worker-job runner with its per-worker database connections
 * (see jobs.h). The pool has one connection slot per worker: a job that
 * needs a connection takes a free slot for its run (one always is, since
 * at most nworkers jobs run at once), preferring one already connected,
 * so N jobs on W workers open at most W connections. Slots are taken and
 * given back under one mutex; connecting, checking and closing happen
 * outside it. Loop thread, except job_work and the slot functions
 * (worker).
 */
#include "replicator/jobs.h"

#include <assert.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <libpq-fe.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"
#include "replicator/db/db.h"

/* Reads of pending input before a reused connection counts as alive. */
#define JOBS_ALIVE_READS 4

struct slot {
    struct db *db; /* NULL until first needed, and after a failure */
    bool busy;
};

struct jobs {
    struct workq *wq;
    const char *conninfo;
    pthread_mutex_t mu;
    struct slot *slots; /* nslots = workers */
    unsigned nslots;
    atomic_uint opened;
};

struct job {
    struct jobs *js;
    enum jobs_db need;
    jobs_fn fn;
    jobs_done_fn done;
    void *arg;
    int rc;
    struct err err;
};

/* A free slot, connected if one is. Worker. */
static struct slot *slot_take(struct jobs *js)
{
    struct slot *s = NULL;

    pthread_mutex_lock(&js->mu);
    for (unsigned i = 0; i < js->nslots; i++) {
        if (js->slots[i].busy)
            continue;
        if (!s || (!s->db && js->slots[i].db))
            s = &js->slots[i];
    }
    assert(s); /* at most nslots jobs run at once */
    s->busy = true;
    pthread_mutex_unlock(&js->mu);
    return s;
}

/*
 * Whether an idle connection is still usable. Nothing arrives on an idle
 * connection unless the server is going away: a terminated backend sends
 * its FATAL message and closes, which libpq only notices (CONNECTION_BAD)
 * once it reads up to the end of the stream. Never blocks. Worker.
 */
static bool conn_alive(struct db *db)
{
    PGconn *c = db_conn(db);
    struct pollfd p;

    for (int i = 0; i < JOBS_ALIVE_READS && PQstatus(c) == CONNECTION_OK;
         i++) {
        p.fd = PQsocket(c);
        p.events = POLLIN;
        p.revents = 0;
        if (p.fd < 0 || poll(&p, 1, 0) != 1 || !PQconsumeInput(c))
            break;
    }
    return PQstatus(c) == CONNECTION_OK;
}

/* Give s a live connection, reusing the one it has. Worker. */
static int slot_connect(struct jobs *js, struct slot *s, struct err *err)
{
    int rc;

    if (s->db && !conn_alive(s->db)) {
        log_warn("db_connection_lost", "{s:s}", "action", "reopen");
        db_close(s->db);
        s->db = NULL;
    }
    if (s->db)
        return 0;
    rc = db_open(&s->db, js->conninfo, err);
    if (rc == 0)
        atomic_fetch_add(&js->opened, 1);
    return rc;
}

/* Return s; a connection the job left broken or inside a transaction is
 * closed, to be reopened by the next job that needs one. Worker. */
static void slot_give(struct jobs *js, struct slot *s)
{
    PGconn *c = s->db ? db_conn(s->db) : NULL;

    if (c && (PQstatus(c) != CONNECTION_OK ||
              PQtransactionStatus(c) != PQTRANS_IDLE)) {
        db_close(s->db);
        s->db = NULL;
    }
    pthread_mutex_lock(&js->mu);
    s->busy = false;
    pthread_mutex_unlock(&js->mu);
}

static void job_work(void *p) /* worker */
{
    struct job *j = p;
    struct slot *s = NULL;

    if (j->need != JOBS_DB_NONE) {
        s = slot_take(j->js);
        j->rc = slot_connect(j->js, s, &j->err);
    }
    if (j->rc == 0 || j->need == JOBS_DB_WANTED)
        j->rc = j->fn(s ? s->db : NULL, j->arg, &j->err);
    if (s)
        slot_give(j->js, s);
}

static void job_done(void *p)
{
    struct job *j = p;

    j->done(j->rc, &j->err, j->arg);
    mem_free(j);
}

int jobs_new(struct jobs **out, struct event_base *base, const char *conninfo,
             unsigned nworkers, struct err *err)
{
    struct jobs *js = NULL;
    int rc = 0;

    *out = NULL;
    if (nworkers == 0 || nworkers > 64)
        return err_set(err, ERR_INVAL, "jobs: %u workers", nworkers);
    js = mem_calloc(1, sizeof(*js));
    if (!js || !(js->slots = mem_calloc(nworkers, sizeof(*js->slots)))) {
        mem_free(js);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    js->conninfo = conninfo;
    js->nslots = nworkers;
    atomic_init(&js->opened, 0);
    pthread_mutex_init(&js->mu, NULL);
    rc = workq_new(&js->wq, base, nworkers);
    if (rc < 0) {
        err_set(err, rc, "cannot start worker threads");
        jobs_free(js);
        return rc;
    }
    *out = js;
    return 0;
}

int jobs_submit(struct jobs *js, enum jobs_db need, jobs_fn fn,
                jobs_done_fn done, void *arg)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    if (!j)
        return ERR_NOMEM;
    j->js = js;
    j->need = need;
    j->fn = fn;
    j->done = done;
    j->arg = arg;
    if (workq_submit(js->wq, job_work, job_done, j) < 0) {
        mem_free(j);
        return ERR_NOMEM;
    }
    return 0;
}

struct workq *jobs_workq(struct jobs *js)
{
    return js->wq;
}

unsigned jobs_pending(const struct jobs *js)
{
    return workq_pending(js->wq);
}

void jobs_free(struct jobs *js)
{
    if (!js)
        return;
    workq_free(js->wq); /* every job ran: no slot is busy */
    for (unsigned i = 0; i < js->nslots; i++)
        db_close(js->slots[i].db);
    pthread_mutex_destroy(&js->mu);
    mem_free(js->slots);
    mem_free(js);
}

unsigned jobs__opened(const struct jobs *js)
{
    return atomic_load(&js->opened);
}
