# SPDX-License-Identifier: MPL-2.0
# Tests of replicator/task/plan (the Plan phase). The planner sources are
# compiled in directly so these tests depend only on rackdepot_common.
set(RD_PLAN_SOURCES
  ${CMAKE_SOURCE_DIR}/replicator/task/plan.c
  ${CMAKE_SOURCE_DIR}/replicator/task/plan_copy.c
  ${CMAKE_SOURCE_DIR}/replicator/task/plan_summary.c
  ${CMAKE_SOURCE_DIR}/replicator/task/plan_swarm.c)
rd_unit_test(test_plan SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_plan.c
  ${RD_PLAN_SOURCES})
rd_test(test_plan_property LABELS integration
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_plan_property.c
  ${RD_PLAN_SOURCES} TIMEOUT 600)
# The task's memory of copy sources to avoid (issue 10).
rd_unit_test(test_srcavoid SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_srcavoid.c
  ${CMAKE_SOURCE_DIR}/replicator/task/srcavoid.c)
