/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of what a PUT body leaves of a sled's link to its copies:
 * the cap's formula (sledagent/inbound.c) and the copies' side of it
 * (sledagent/copy.c: copies_leave_room, the launch budget of swarm piece
 * requests). The timer-driven measuring of the PUT's rate is tested end
 * to end by test_agent_ratelimit put_takes_link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/httpc.h"
#include "common/mem.h"
#include "sledagent/copy.h"
#include "sledagent/inbound.h"
#include "tests/support/testutil.h"

#define MIB 1048576u

static void test_inbound__cap(void **state)
{
    (void)state;
    /* nothing arrived yet: all but the headroom (half the link) */
    assert_int_equal(inbound_copies_cap(MIB, 0), MIB / 2);
    assert_int_equal(inbound_copies_cap(MIB, MIB / 4), MIB / 4);
    /* the PUT at half the link or more: the floor, a 1024th */
    assert_int_equal(inbound_copies_cap(MIB, MIB / 2), 1024);
    assert_int_equal(inbound_copies_cap(MIB, MIB - MIB / 8), 1024);
    assert_int_equal(inbound_copies_cap(MIB, 4 * MIB), 1024);
    /* just above the floor; a fast link's floor; a tiny link's of 1 KiB */
    assert_int_equal(inbound_copies_cap(MIB, MIB / 2 - 1024 - 1), 1025);
    assert_int_equal(inbound_copies_cap(1024 * MIB, 1024 * MIB), MIB);
    assert_int_equal(inbound_copies_cap(4096, 0), 2048);
    assert_int_equal(inbound_copies_cap(4096, 4096), 1024);
}

struct rig {
    struct event_base *base;
    struct httpc_loop *loop;
    struct copies *cs;
};

static void rig_open(struct rig *g, uint64_t max_recv_bps)
{
    struct copies_opts o = {0};

    o.max_recv_bps = max_recv_bps;
    g->base = event_base_new();
    assert_non_null(g->base);
    assert_int_equal(httpc_loop_new(&g->loop, g->base), 0);
    assert_int_equal(copies_new(&g->cs, g->loop, &o), 0);
}

static void rig_close(struct rig *g)
{
    copies_free(g->cs);
    httpc_loop_free(g->loop);
    event_base_free(g->base);
}

/* Room left at 100000 B/s: an empty budget, then one piece of 256 KiB
 * per its worth of time (2.6 s), at most a quarter second saved up; room
 * taken back: every launch allowed and the cap back to max_recv_bps. */
static void test_inbound__launch_budget(void **state)
{
    struct rig g;

    (void)state;
    rig_open(&g, 0);
    assert_int_equal(copies_recv_cap(g.cs), 0);
    for (int i = 0; i < 100; i++)
        assert_true(copies_launch_take(g.cs, 262144));

    copies_leave_room(g.cs, 100000);
    assert_int_equal(copies_recv_cap(g.cs), 100000);
    /* the budget starts empty: a piece starts once a millisecond's worth
     * came in, and the copies are then in debt */
    for (int i = 0; !copies_launch_take(g.cs, 262144); i++) {
        assert_true(i < 1000);
        testutil_sleep_ms(1);
    }
    assert_false(copies_launch_take(g.cs, 262144)); /* in debt */
    testutil_sleep_ms(300);       /* ~30000 of ~262000 paid back */
    assert_false(copies_launch_take(g.cs, 262144));
    testutil_sleep_ms(2500);      /* the rest: positive again */
    assert_true(copies_launch_take(g.cs, 262144));
    /* idle seconds save a quarter second only (25000): one launch,
     * then in debt again */
    testutil_sleep_ms(2700);
    assert_true(copies_launch_take(g.cs, 262144));
    assert_false(copies_launch_take(g.cs, 262144));

    /* a new cap while room is left keeps the debt */
    copies_leave_room(g.cs, 800000);
    assert_int_equal(copies_recv_cap(g.cs), 800000);
    assert_false(copies_launch_take(g.cs, 262144));

    copies_leave_room(g.cs, 0);
    assert_int_equal(copies_recv_cap(g.cs), 0);
    assert_true(copies_launch_take(g.cs, 262144));
    assert_true(copies_launch_take(g.cs, 262144));
    rig_close(&g);
}

/* With --rate-limit the cap in force is the rate again once the room is
 * taken back, and a fresh room lets at most one piece start at once. */
static void test_inbound__back_to_rate_limit(void **state)
{
    struct rig g;

    (void)state;
    rig_open(&g, 2 * MIB);
    assert_int_equal(copies_recv_cap(g.cs), 2 * MIB);
    assert_true(copies_launch_take(g.cs, 262144));
    copies_leave_room(g.cs, MIB / 16);
    assert_int_equal(copies_recv_cap(g.cs), MIB / 16);
    /* at most one piece at once (a millisecond may have passed) */
    (void)copies_launch_take(g.cs, 262144);
    assert_false(copies_launch_take(g.cs, 262144));
    copies_leave_room(g.cs, 0);
    assert_int_equal(copies_recv_cap(g.cs), 2 * MIB);
    testutil_sleep_ms(50);
    copies_leave_room(g.cs, MIB);
    (void)copies_launch_take(g.cs, 262144);
    assert_false(copies_launch_take(g.cs, 262144));
    rig_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound__cap),
        cmocka_unit_test(test_inbound__launch_budget),
        cmocka_unit_test(test_inbound__back_to_rate_limit),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
