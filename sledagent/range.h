/* SPDX-License-Identifier: MPL-2.0 */
/*
 * range: parsing of the HTTP Range request header for the depot
 * (RFC 9110 section 14). Single byte ranges only: "bytes=A-B", "bytes=A-"
 * and "bytes=-N". A header that is not a single byte range (other units,
 * several ranges, garbage) is ignored and the whole file is served, as
 * RFC 9110 allows; a well-formed range that selects nothing is 416.
 * Pure functions, any thread.
 */
#ifndef SLEDAGENT_RANGE_H
#define SLEDAGENT_RANGE_H

#include <stdint.h>

enum range_result {
    RANGE_FULL = 0,          /* no usable Range: serve everything (200) */
    RANGE_PARTIAL = 1,       /* serve [start, start+len) (206) */
    RANGE_UNSATISFIABLE = 2, /* 416 with Content-Range: bytes * / size */
};

struct range {
    uint64_t start;
    uint64_t len;
};

/*
 * Interpret header (may be NULL) against a file of size bytes. Sets *out
 * for RANGE_PARTIAL (and to the whole file for RANGE_FULL).
 */
enum range_result range_parse(struct range *out, const char *header,
                              uint64_t size);

#endif
