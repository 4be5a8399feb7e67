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

/*
 * The API versions the replicator API serves (api-version header, httpd_route.h;
 * docs/API.md), oldest first, the last the latest (n of them). Any
 * thread (a constant).
 */
const char *const *api_versions(size_t *n);

#endif
