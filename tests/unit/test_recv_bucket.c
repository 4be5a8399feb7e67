/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of sledagent/recv_bucket.c: the shared receive cap of the
 * swarm copies' piece requests. At 1000 bytes/s a millisecond adds one
 * byte, so what the bucket lets through between two calls made in a row
 * is exact; waits poll for the resume callback with a generous deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/mem.h"
#include "sledagent/recv_bucket.h"

struct fix {
    struct event_base *base;
    struct recv_bucket *b;
    unsigned resumed;
};

static void on_resume(void *arg)
{
    struct fix *f = arg;

    f->resumed++;
}

static int setup(void **state)
{
    struct fix *f = mem_calloc(1, sizeof(*f));

    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(recv_bucket_new(&f->b, f->base, on_resume, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    recv_bucket_free(f->b);
    event_base_free(f->base);
    mem_free(f);
    return 0;
}

/* run the loop until resume was called n times (deadline 30 s) */
static void wait_resumed(struct fix *f, unsigned n)
{
    for (int i = 0; i < 3000 && f->resumed < n; i++) {
        struct timeval tv = {0, 10000};

        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
    }
    assert_int_equal(f->resumed, n);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Without a rate nothing is capped and nothing pauses. */
static void test_recv_bucket__no_cap(void **state)
{
    struct fix *f = *state;

    for (int i = 0; i < 1000; i++)
        assert_true(recv_bucket_take(f->b, 1u << 20));
    assert_int_equal(f->resumed, 0);
}

/* An empty bucket pauses the taker and calls resume once it has tokens
 * again; one read may take the bucket below zero, and the refills repay
 * that debt before resume is called. */
static void test_recv_bucket__pause_resume(void **state)
{
    struct fix *f = *state;

    recv_bucket_set_rate(f->b, 1000);
    sleep_ms(200); /* saved up: at most RECV_BUCKET_BURST_MS, 50 bytes */
    assert_true(recv_bucket_take(f->b, 1000)); /* 50 - 1000 */
    assert_false(recv_bucket_take(f->b, 1));   /* ~950 ms of debt */
    assert_false(recv_bucket_take(f->b, 1));   /* still one resume due */
    wait_resumed(f, 1);
    assert_true(recv_bucket_take(f->b, 1));
}

/* The burst is capped: after a second idle at 10000 bytes/s a taker gets
 * about RECV_BUCKET_BURST_MS of the rate (500 bytes) at once, not the
 * 10000 it would have saved up, then pauses. */
static void test_recv_bucket__burst_capped(void **state)
{
    struct fix *f = *state;
    unsigned n = 0;

    recv_bucket_set_rate(f->b, 10000);
    sleep_ms(1000);
    while (recv_bucket_take(f->b, 1))
        n++;
    assert_true(n >= 500);
    assert_true(n < 5000);
    wait_resumed(f, 1);
    assert_true(recv_bucket_take(f->b, 1));
}

/* Lifting the cap while a taker waits resumes it at once. */
static void test_recv_bucket__uncapped_resumes(void **state)
{
    struct fix *f = *state;

    recv_bucket_set_rate(f->b, 1000);
    while (recv_bucket_take(f->b, 100000))
        ; /* until it refuses: a resume is due, ~100 s away */
    recv_bucket_set_rate(f->b, 0);
    wait_resumed(f, 1);
    assert_true(recv_bucket_take(f->b, 1u << 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recv_bucket__no_cap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recv_bucket__pause_resume,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_bucket__burst_capped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_bucket__uncapped_resumes,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
