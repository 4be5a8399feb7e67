/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of common/workq: tasks run on worker threads, done callbacks
 * run on the loop thread in the loop, workq_free drains every queued task
 * and delivers its completion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/workq.h"
#include "tests/support/testutil.h"

struct job {
    pthread_t loop_thread;
    pthread_t ran_on;
    bool done_on_loop;
    atomic_int *ran;
    int *done;
    int order;
    int *done_order;
    int *next_slot;
};

static void job_fn(void *arg)
{
    struct job *j = arg;

    j->ran_on = pthread_self();
    testutil_sleep_ms(2); /* pacing only: make tasks overlap */
    atomic_fetch_add(j->ran, 1);
}

static void job_done(void *arg)
{
    struct job *j = arg;

    j->done_on_loop = pthread_equal(pthread_self(), j->loop_thread);
    (*j->done)++;
    j->done_order[(*j->next_slot)++] = j->order;
}

enum { NJOBS = 32 };

static void test_workq__tasks_and_done_on_loop(void **state)
{
    struct event_base *base = event_base_new();
    struct workq *wq = NULL;
    struct job jobs[NJOBS];
    atomic_int ran = 0;
    int done = 0, slot = 0, order[NJOBS];
    int64_t end;

    (void)state;
    mem_init();
    assert_int_equal(workq_new(&wq, base, 4), 0);
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (struct job){pthread_self(), pthread_self(), false, &ran,
                               &done, i, order, &slot};
        assert_int_equal(workq_submit(wq, job_fn, job_done, &jobs[i]), 0);
    }
    assert_true(workq_pending(wq) > 0);
    /* completions only run inside the loop */
    assert_int_equal(done, 0);
    end = testutil_now_ms() + 5000;
    while (done < NJOBS && testutil_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(done, NJOBS);
    assert_int_equal(atomic_load(&ran), NJOBS);
    assert_int_equal(workq_pending(wq), 0);
    for (int i = 0; i < NJOBS; i++) {
        assert_true(jobs[i].done_on_loop);
        assert_false(pthread_equal(jobs[i].ran_on, pthread_self()));
    }
    workq_free(wq);
    event_base_free(base);
}

static void test_workq__free_drains(void **state)
{
    struct event_base *base = event_base_new();
    struct workq *wq = NULL;
    struct job jobs[NJOBS];
    atomic_int ran = 0;
    int done = 0, slot = 0, order[NJOBS];

    (void)state;
    assert_int_equal(workq_new(&wq, base, 1), 0);
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (struct job){pthread_self(), pthread_self(), false, &ran,
                               &done, i, order, &slot};
        assert_int_equal(workq_submit(wq, job_fn, job_done, &jobs[i]), 0);
    }
    workq_free(wq); /* never ran the loop: free must run everything */
    assert_int_equal(atomic_load(&ran), NJOBS);
    assert_int_equal(done, NJOBS);
    /* one worker: FIFO start means FIFO completion */
    for (int i = 0; i < NJOBS; i++)
        assert_int_equal(order[i], i);
    event_base_free(base);
}

static void test_workq__bad_args(void **state)
{
    struct event_base *base = event_base_new();
    struct workq *wq = NULL;

    (void)state;
    assert_int_equal(workq_new(&wq, base, 0), ERR_INVAL);
    assert_int_equal(workq_new(&wq, base, 65), ERR_INVAL);
    assert_null(wq);
    workq_free(NULL);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workq__tasks_and_done_on_loop),
        cmocka_unit_test(test_workq__free_drains),
        cmocka_unit_test(test_workq__bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
