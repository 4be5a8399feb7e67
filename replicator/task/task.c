/* SPDX-License-Identifier: MPL-2.0 */
/*
 * task: the reconciliation task's life (see task.h): its configuration
 * defaults, creation, the periodic timer, activation and coalescing,
 * shutdown and free, and the database jobs it runs for others on its
 * runner (replicator/jobs.h), whose workers keep their connections. A run
 * is kept in task_run.c (start, finish, end), its phases in task_flow.c
 * (load, guard, collect, plan, execute), its end-of-run report in
 * task_report.c, the reported state in task_status.c. Loop thread, except
 * job_work (worker).
 */
#include "replicator/task/task.h"
#include "replicator/task/task_internal.h"

#include <string.h>

#include <event2/event.h>

#include "common/httpc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workq.h"
#include "replicator/jobs.h"
#include "replicator/task/execute.h"
#include "replicator/task/plan.h"
#include "replicator/task/stuck.h"

static const char *const reason_names[TASK_REASON_COUNT] = {
    "periodic", "upload", "manual", "startup", "generation", "sled"};
static const char *const state_names[] = {
    "idle", "loading", "collecting", "executing", "finishing", "stopped"};

const char *task_reason_name(enum task_reason r)
{
    return (unsigned)r < TASK_REASON_COUNT ? reason_names[r] : "unknown";
}

const char *task_state_name(enum task_state s)
{
    return (unsigned)s <= TASK_STOPPED ? state_names[s] : "unknown";
}

void task_config_default(struct task_config *c)
{
    static const struct plan_limits lim = PLAN_LIMITS_DEFAULT;

    memset(c, 0, sizeof(*c));
    c->period_secs = 300;
    c->periodic = true;
    c->min_sled_replication = 3;
    c->limits = lim;
    c->max_inflight = 0; /* automatic */
    c->max_per_target = 2;
    c->max_per_source = 2;
    c->max_busy_retries = 3;
    c->connect_secs = 2;
    c->stall_secs = 30;
    c->request_secs = 5;
    c->copy_stall_secs = 60;
    c->copy_poll_ms = 200;
    c->guard_permille = GUARD_DEFAULT_PERMILLE;
    c->lost_grace_secs = 300;
    c->stuck_after_secs = STUCK_AFTER_DEFAULT_SECS;
    c->prune_keep = PRUNE_KEEP_DEFAULT;
    c->workers = 2;
}

/* ---- database jobs ---- */

struct job {
    struct task *t;
    task_job_fn fn;
    task_job_done_fn done;
    void *arg;
};

static int job_work(struct db *db, void *p, struct err *err)
{
    struct job *j = p;

    return j->fn(db, j->arg, err);
}

static void job_done(int rc, const struct err *err, void *p)
{
    struct job *j = p;

    j->t->jobs--;
    j->done(rc, err, j->arg);
    mem_free(j);
}

int task_job(struct task *t, task_job_fn fn, task_job_done_fn done,
             void *arg)
{
    struct job *j = mem_calloc(1, sizeof(*j));

    if (!j)
        return ERR_NOMEM;
    j->t = t;
    j->fn = fn;
    j->done = done;
    j->arg = arg;
    if (jobs_submit(t->runner, JOBS_DB_NEEDED, job_work, job_done, j) < 0) {
        mem_free(j);
        return ERR_NOMEM;
    }
    t->jobs++;
    return 0;
}

/* ---- activation ---- */

void task_activate(struct task *t, enum task_reason reason)
{
    if (t->stopping)
        return;
    t->activated = true;
    t->last_reason = reason;
    t->last_activation_ms = status_now_ms();
    log_info("task_activated", "{s:s, s:s}", "reason",
             task_reason_name(reason), "state", task_state_name(t->state));
    if (t->state == TASK_IDLE) {
        task_run_start(t, reason);
        return;
    }
    /* Coalesce: one more run after this one, whatever arrives meanwhile. */
    if (!t->pending || reason != TASK_REASON_PERIODIC)
        t->pending_reason = reason;
    t->pending = true;
}

int task_activate_wait(struct task *t, enum task_reason reason,
                       task_wait_fn fn, void *arg)
{
    struct task_waiter *w;

    if (t->stopping)
        return ERR_UNAVAIL;
    w = mem_calloc(1, sizeof(*w));
    if (!w)
        return ERR_NOMEM;
    /* The run that covers this activation: the next one to start. */
    w->run = t->runs + 1;
    w->fn = fn;
    w->arg = arg;
    w->next = t->waiters;
    t->waiters = w;
    task_activate(t, reason);
    return 0;
}

static void period_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    task_activate(arg, TASK_REASON_PERIODIC);
}

int task_new(struct task **out, struct event_base *base,
             const struct task_config *cfg, struct staging *st,
             struct err *err)
{
    struct task *t;
    int rc;

    *out = NULL;
    if (!cfg->db || !cfg->min_sled_replication)
        return err_set(err, ERR_INVAL, "task: %s",
                       !cfg->db ? "no database" : "min_sled_replication 0");
    t = mem_calloc(1, sizeof(*t));
    if (!t)
        return err_set(err, ERR_NOMEM, "out of memory");
    t->base = base;
    t->cfg = *cfg;
    t->staging = st;
    rc = task_status_init(&t->status);
    if (rc == 0)
        rc = httpc_loop_new(&t->cv, base);
    if (rc < 0) {
        err_set(err, rc, "out of memory");
        goto out;
    }
    rc = jobs_new(&t->runner, base, t->cfg.db,
                  cfg->workers ? cfg->workers : 2, NULL);
    /* Disk reads apart from database jobs: a slow query never starves an
     * upload, a slow disk never delays a run's load. */
    if (rc == 0)
        rc = workq_new(&t->io_wq, base, 2);
    if (rc < 0) {
        err_set(err, rc, "task: cannot start worker threads");
        goto out;
    }
    *out = t;
    t = NULL;
out:
    task_free(t);
    return rc;
}

int task_start(struct task *t)
{
    struct timeval tv;

    if (t->cfg.periodic && t->cfg.period_secs) {
        tv.tv_sec = (time_t)t->cfg.period_secs;
        tv.tv_usec = 0;
        t->period_timer = event_new(t->base, -1, EV_PERSIST, period_fire, t);
        if (!t->period_timer || event_add(t->period_timer, &tv) < 0)
            return ERR_NOMEM;
    }
    task_activate(t, TASK_REASON_STARTUP);
    return 0;
}

struct httpc_loop *task_http_loop(struct task *t)
{
    return t->cv;
}

const struct task_config *task_config(const struct task *t)
{
    return &t->cfg;
}

void task_shutdown(struct task *t)
{
    t->stopping = true;
    t->pending = false;
    if (t->period_timer)
        event_del(t->period_timer);
    if (t->state == TASK_IDLE)
        task_set_state(t, TASK_STOPPED);
}

bool task_idle(const struct task *t)
{
    return !t->run && t->jobs == 0;
}

void task_free(struct task *t)
{
    if (!t)
        return;
    t->stopping = true;
    t->freeing = true;
    t->pending = false;
    if (t->run) {
        /* Stop the network side first; queued worker jobs then finish. */
        execute_free(t->run->exec);
        t->run->exec = NULL;
        collect_free(t->run->collect);
        t->run->collect = NULL;
    }
    jobs_free(t->runner); /* may end the run (task_run.c) */
    if (t->run) {
        task_run_free(t->run);
        t->run = NULL;
    }
    workq_free(t->io_wq); /* frees uploads orphaned by execute_free */
    task_notify_waiters(t, UINT64_MAX, NULL);
    if (t->period_timer)
        event_free(t->period_timer);
    httpc_loop_free(t->cv);
    task_status_release(&t->status);
    mem_free(t->pushed_set);
    revpush_memo_release(&t->rev_memo);
    for (size_t i = 0; i < t->n_lost; i++)
        mem_free(t->lost[i].name);
    mem_free(t->lost);
    mem_free(t);
}
