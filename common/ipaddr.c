/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ipaddr: strict "IP:PORT" endpoint parsing (see ipaddr.h). inet_pton
 * decides what an address literal is; everything around it (brackets,
 * the port) is checked here. Pure, any thread.
 */
#include "common/ipaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/parse.h"

/* The longest text accepted: "[" v6 "]:" port. */
#define ENDPOINT_MAX (IPADDR_HOST_MAX + 8)

static int bad(struct err *err, const char *s, const char *why)
{
    return err_set(err, ERR_INVAL, "address \"%.*s\" is not IP:PORT (%s)",
                   ENDPOINT_MAX, s, why);
}

int ipaddr_parse_endpoint(char host[IPADDR_HOST_MAX], uint16_t *port,
                          bool *v6, const char *s, struct err *err)
{
    union {
        struct in6_addr v6;
        unsigned char b[16];
    } bin; /* aligned for IN6_IS_ADDR_UNSPECIFIED */
    const char *colon, *h = s;
    size_t hlen;
    uint64_t p;

    if (!s || !*s)
        return bad(err, "", "empty");
    if (strlen(s) > ENDPOINT_MAX)
        return bad(err, s, "too long");
    *v6 = s[0] == '[';
    if (*v6) {
        const char *close = strchr(s, ']');

        if (!close || close[1] != ':')
            return bad(err, s, "an IPv6 address needs [brackets]:PORT");
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strchr(s, ':');
        if (!colon)
            return bad(err, s, "no port");
        if (strchr(colon + 1, ':'))
            return bad(err, s, "an IPv6 address needs [brackets]");
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= IPADDR_HOST_MAX)
        return bad(err, s, "no IP address");
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (inet_pton(*v6 ? AF_INET6 : AF_INET, host, &bin) != 1)
        return bad(err, s, *v6 ? "not an IPv6 literal"
                               : "not an IPv4 literal; host names are "
                                 "not accepted");
    /*
     * 0.x.x.x ("this network"; 0.0.0.0 reaches the local host) and [::]
     * name no sled: every sled refuses them as a copy source
     * (sledagent/copy_source.c), so a sled registered there would stall the
     * copies of every artifact only it holds (issue 9).
     */
    if (*v6 ? IN6_IS_ADDR_UNSPECIFIED(&bin.v6) : bin.b[0] == 0)
        return bad(err, s, *v6 ? "the unspecified address [::]"
                               : "0.x.x.x is no host's address; a sled "
                                 "listening on 0.0.0.0 must --advertise "
                                 "its own");
    if (parse_u64_range(&p, colon + 1, 1, 65535) < 0)
        return bad(err, s, "port must be 1..65535");
    *port = (uint16_t)p;
    return 0;
}
