/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Property run of the planner over many seeded random rack states: the same
 * checker as tests/unit/test_plan.c (every request valid for the state,
 * limits held, requests + deferred == outstanding work, plan-and-apply with
 * failures converges within 2 + ceil(log2 N) + failed activations), on
 * 20000 seeds instead of 300 (the scenario tests run again too: cheap). Included rather than linked so that there is
 * one copy of the checker and no shared test-only header.
 */
#define TEST_PLAN_PROPERTY_RUNS 20000
#include "../unit/test_plan.c"
