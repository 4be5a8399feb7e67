/* SPDX-License-Identifier: MPL-2.0 */
/*
 * hex: strict hexadecimal encoding and decoding. Pure functions, any thread.
 */
#ifndef COMMON_HEX_H
#define COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Value 0..15 of one hex digit (either case), or -1 if c is not one. */
int hex_digit(char c);

/* Write 2n lowercase hex chars and a NUL to out (size >= 2n+1). */
void hex_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decode slen hex chars (either case) into out (capacity cap). Sets *outlen.
 * Returns 0, or ERR_INVAL for an odd length, a non-hex char or too little room.
 */
int hex_decode(uint8_t *out, size_t cap, size_t *outlen, const char *s,
               size_t slen);

#endif
