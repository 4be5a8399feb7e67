/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_routes: the route table of the replicator API, served by api.c's
 * listener. Loop thread only.
 */
#ifndef REPLICATOR_API_ROUTES_H
#define REPLICATOR_API_ROUTES_H

#include <stddef.h>

struct httpd_route;

/*
 * The replicator API's static route table (n routes); the handlers' arg
 * is the struct api. Any thread (a constant).
 */
const struct httpd_route *api_routes(size_t *n);

#endif
