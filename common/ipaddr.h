/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ipaddr: strict parsing of a sled endpoint "IP:PORT" as registrations
 * carry it: an IPv4 literal in dotted decimal ("10.0.0.7:12345") or a
 * bracketed IPv6 literal ("[fd00::7]:12345"), port 1..65535 without
 * leading zeros. No host names, no empty host, no zone ids, no other
 * notations (hex, octal, short forms), and not the addresses no sled can
 * be reached at and every sled refuses as a copy source: 0.x.x.x and [::].
 * Pure functions, any thread.
 */
#ifndef COMMON_IPADDR_H
#define COMMON_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* Longest host part ipaddr_parse_endpoint writes, with its NUL. */
#define IPADDR_HOST_MAX 46

/*
 * Parse s as "IPV4:PORT" or "[IPV6]:PORT" into host (brackets removed,
 * capacity IPADDR_HOST_MAX), *port and *v6. Returns 0 or ERR_INVAL with a
 * one-line reason in err (may be NULL) naming what is wrong.
 */
int ipaddr_parse_endpoint(char host[IPADDR_HOST_MAX], uint16_t *port,
                          bool *v6, const char *s, struct err *err);

#endif
