/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_time: the TUF "expires" timestamps. The strict form is
 * "YYYY-MM-DDTHH:MM:SSZ" (what python-tuf and tufaceous write); the lenient
 * form also takes RFC 3339 fractional seconds and numeric offsets (old
 * sigstore roots), normalised to UTC and truncated to the second.
 * Pure functions, any thread.
 */
#ifndef COMMON_TUF_TIME_H
#define COMMON_TUF_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define TUF_TIME_STR_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/*
 * Parse s into seconds since the Unix epoch (UTC). Returns 0, or ERR_INVAL
 * for anything but the accepted forms or an impossible date.
 */
int tuf_time_parse(int64_t *out, const char *s, bool lenient);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void tuf_time_format(char out[TUF_TIME_STR_LEN], int64_t t);

#endif
