/* SPDX-License-Identifier: MPL-2.0 */
/*
 * workq: worker threads with completions delivered on a libevent loop
 * through an eventfd (see workq.h). Two lists under one mutex: `todo`
 * (waiting for a worker) and `done` (waiting for the loop).
 */
#include "common/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/mem.h"

struct task {
    workq_fn fn;
    workq_fn done;
    void *arg;
    struct task *next;
};

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *todo_head, *todo_tail;
    struct task *done_head, *done_tail;
    unsigned pending;
    bool stopping;
    int efd;
    struct event *ev;
    unsigned nthreads;
    pthread_t threads[64];
};

static void push(struct task **head, struct task **tail, struct task *t)
{
    t->next = NULL;
    if (*tail)
        (*tail)->next = t;
    else
        *head = t;
    *tail = t;
}

static void *worker(void *p)
{
    struct workq *wq = p;

    pthread_mutex_lock(&wq->mu);
    for (;;) {
        struct task *t;
        uint64_t one = 1;

        while (!wq->todo_head && !wq->stopping)
            pthread_cond_wait(&wq->cv, &wq->mu);
        if (!wq->todo_head)
            break; /* stopping and drained */
        t = wq->todo_head;
        wq->todo_head = t->next;
        if (!wq->todo_head)
            wq->todo_tail = NULL;
        pthread_mutex_unlock(&wq->mu);

        t->fn(t->arg);

        pthread_mutex_lock(&wq->mu);
        push(&wq->done_head, &wq->done_tail, t);
        /* eventfd write cannot fail short of a bug; ignore EAGAIN (full) */
        if (write(wq->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            break;
    }
    pthread_mutex_unlock(&wq->mu);
    return NULL;
}

/* Loop thread: run the done callbacks of finished tasks. */
static void drain_done(struct workq *wq)
{
    struct task *t;
    uint64_t v;

    if (read(wq->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing signalled; still check the list below */
    }
    pthread_mutex_lock(&wq->mu);
    t = wq->done_head;
    wq->done_head = wq->done_tail = NULL;
    pthread_mutex_unlock(&wq->mu);
    while (t) {
        struct task *next = t->next;

        if (t->done)
            t->done(t->arg);
        mem_free(t);
        pthread_mutex_lock(&wq->mu);
        wq->pending--;
        pthread_mutex_unlock(&wq->mu);
        t = next;
    }
}

static void on_efd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drain_done(arg);
}

int workq_new(struct workq **out, struct event_base *base, unsigned nthreads)
{
    struct workq *wq;

    if (nthreads < 1 || nthreads > 64)
        return ERR_INVAL;
    wq = mem_calloc(1, sizeof(*wq));
    if (!wq)
        return ERR_NOMEM;
    pthread_mutex_init(&wq->mu, NULL);
    pthread_cond_init(&wq->cv, NULL);
    wq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wq->efd < 0)
        goto fail;
    wq->ev = event_new(base, wq->efd, EV_READ | EV_PERSIST, on_efd, wq);
    if (!wq->ev || event_add(wq->ev, NULL) < 0)
        goto fail;
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&wq->threads[i], NULL, worker, wq) != 0) {
            workq_free(wq);
            return ERR_INTERNAL;
        }
        wq->nthreads++;
    }
    *out = wq;
    return 0;
fail:
    if (wq->ev)
        event_free(wq->ev);
    if (wq->efd >= 0)
        close(wq->efd);
    pthread_cond_destroy(&wq->cv);
    pthread_mutex_destroy(&wq->mu);
    mem_free(wq);
    return ERR_INTERNAL;
}

int workq_submit(struct workq *wq, workq_fn fn, workq_fn done, void *arg)
{
    struct task *t = mem_alloc(sizeof(*t));

    if (!t)
        return ERR_NOMEM;
    t->fn = fn;
    t->done = done;
    t->arg = arg;
    pthread_mutex_lock(&wq->mu);
    push(&wq->todo_head, &wq->todo_tail, t);
    wq->pending++;
    pthread_cond_signal(&wq->cv);
    pthread_mutex_unlock(&wq->mu);
    return 0;
}

unsigned workq_pending(const struct workq *wq)
{
    unsigned n;

    pthread_mutex_lock((pthread_mutex_t *)&wq->mu);
    n = wq->pending;
    pthread_mutex_unlock((pthread_mutex_t *)&wq->mu);
    return n;
}

void workq_free(struct workq *wq)
{
    if (!wq)
        return;
    pthread_mutex_lock(&wq->mu);
    wq->stopping = true;
    pthread_cond_broadcast(&wq->cv);
    pthread_mutex_unlock(&wq->mu);
    for (unsigned i = 0; i < wq->nthreads; i++)
        pthread_join(wq->threads[i], NULL);
    drain_done(wq); /* every task ran; deliver the rest of the completions */
    event_free(wq->ev);
    close(wq->efd);
    pthread_cond_destroy(&wq->cv);
    pthread_mutex_destroy(&wq->mu);
    mem_free(wq);
}
