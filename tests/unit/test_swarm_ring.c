/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests of replicator/task/swarm_ring.c: the offsets at which a
 * swarm copy names the other copy targets of its artifact. Checked on
 * the graph they make (target i names i + d mod n for each offset d):
 * distinct offsets, never itself, and every target reached from every
 * other in about log2 n hops (breadth-first search).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replicator/task/swarm_ring.h"

/* The longest shortest path of the ring graph of n targets. */
static size_t diameter(size_t n, const size_t *off, size_t noff)
{
    size_t worst = 0;

    for (size_t s = 0; s < n; s++) {
        size_t dist[64], q[64], head = 0, tail = 0;

        for (size_t i = 0; i < n; i++)
            dist[i] = SIZE_MAX;
        dist[s] = 0;
        q[tail++] = s;
        while (head < tail) {
            size_t u = q[head++];

            for (size_t k = 0; k < noff; k++) {
                size_t v = (u + off[k]) % n;

                if (dist[v] == SIZE_MAX) {
                    dist[v] = dist[u] + 1;
                    q[tail++] = v;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            assert_true(dist[i] != SIZE_MAX); /* connected */
            if (dist[i] > worst)
                worst = dist[i];
        }
    }
    return worst;
}

static void test_swarm_ring__offsets(void **state)
{
    size_t off[7];

    (void)state;
    /* three neighbours, then the ring cut in five arcs */
    assert_int_equal(swarm_ring_offsets(31, off, 7), 7);
    assert_int_equal(off[0], 1);
    assert_int_equal(off[1], 2);
    assert_int_equal(off[2], 3);
    assert_int_equal(off[3], 6);
    assert_int_equal(off[4], 12);
    assert_int_equal(off[5], 19);
    assert_int_equal(off[6], 25);
    /* fewer targets than slots: every other one, once */
    assert_int_equal(swarm_ring_offsets(5, off, 7), 4);
    assert_int_equal(off[0] + off[1] + off[2] + off[3], 1 + 2 + 3 + 4);
    assert_int_equal(swarm_ring_offsets(1, off, 7), 0);
    assert_int_equal(swarm_ring_offsets(0, off, 7), 0);
}

/* Every size up to 64 targets: distinct offsets in 1..n-1; a piece
 * reaches every target in at most 3 hops up to 32 targets, 5 up to 64,
 * and from 16 targets on in fewer hops than with the next 7 neighbours
 * (the candidates before). */
static void test_swarm_ring__few_hops(void **state)
{
    const size_t next7[7] = {1, 2, 3, 4, 5, 6, 7};

    (void)state;
    for (size_t n = 2; n <= 64; n++) {
        size_t off[7], k = swarm_ring_offsets(n, off, 7);
        size_t d = diameter(n, off, k);

        assert_int_equal(k, n - 1 < 7 ? n - 1 : 7);
        for (size_t i = 0; i < k; i++) {
            assert_true(off[i] >= 1 && off[i] < n);
            for (size_t j = 0; j < i; j++)
                assert_true(off[i] != off[j]);
        }
        assert_true(d <= (n <= 32 ? 3u : 5u));
        if (n >= 16)
            assert_true(d < diameter(n, next7, 7));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swarm_ring__offsets),
        cmocka_unit_test(test_swarm_ring__few_hops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
