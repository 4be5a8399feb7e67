/* SPDX-License-Identifier: MPL-2.0 */
/*
 * plan_rng: moved to common/rng.c (the planner and tuf-mkrepo share one
 * generator). This file stays only while bench/CMakeLists.txt still names
 * it; delete both together.
 */
#include "common/rng.h"
