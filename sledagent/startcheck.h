/* SPDX-License-Identifier: MPL-2.0 */
/*
 * startcheck: the sledagent's start-up check of its dataset directories
 * (issue 15): each must exist, be a directory and take a new file. Main
 * thread, before the store opens.
 */
#ifndef SLEDAGENT_STARTCHECK_H
#define SLEDAGENT_STARTCHECK_H

#include <stdbool.h>

#include "common/err.h"

/*
 * Is dir usable as a dataset? Creates and removes a probe file in it.
 * Returns 0, or ERR_NOTFOUND (missing), ERR_INVAL (not a directory),
 * ERR_IO (cannot write: err says why).
 */
int startcheck_dataset(const char *dir, struct err *err);

/*
 * Check the n dataset directories. Each unusable one is logged
 * (dataset_unusable) and named with its reason on stderr. With none
 * usable, returns -1 (do not start) unless allow_degraded; with fewer
 * than n usable, logs degraded_start at error level and warns on stderr.
 * Returns the number of usable datasets otherwise.
 */
int startcheck_datasets(const char *const *dirs, unsigned n,
                        bool allow_degraded);

#endif
