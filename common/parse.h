/* SPDX-License-Identifier: MPL-2.0 */
/*
 * parse: strict number parsing for command lines, query strings and headers.
 * Pure functions, any thread.
 */
#ifndef COMMON_PARSE_H
#define COMMON_PARSE_H

#include <stdint.h>

/*
 * Parse a plain decimal u64: digits only, no sign, no spaces, no leading
 * zeros except "0", no overflow. Returns 0 or ERR_INVAL.
 */
int parse_u64(uint64_t *out, const char *s);

/* parse_u64, then check lo <= value <= hi. Returns 0 or ERR_INVAL. */
int parse_u64_range(uint64_t *out, const char *s, uint64_t lo, uint64_t hi);

/*
 * Parse "HOST:PORT" (HOST may be "[v6]" or empty for all addresses) into a
 * host (written into host, capacity hostcap, brackets removed) and a port.
 * Returns 0 or ERR_INVAL.
 */
int parse_hostport(char *host, unsigned hostcap, uint16_t *port,
                   const char *s);

#endif
