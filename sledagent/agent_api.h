/* SPDX-License-Identifier: MPL-2.0 */
/*
 * agent_api: the route table of the sledagent's agent API (DESIGN.md
 * section 2), served by agent.c's API listener. Loop thread only.
 */
#ifndef SLEDAGENT_AGENT_API_H
#define SLEDAGENT_AGENT_API_H

#include <stddef.h>

struct httpd_route;

/*
 * The agent API's static route table (n routes); the handlers' arg is the
 * struct agent. Any thread (a constant).
 */
const struct httpd_route *agent_api_routes(size_t *n);

/*
 * The API versions the agent API serves (api-version header, httpd_route.h;
 * docs/API.md), oldest first, the last the latest (n of them). Any
 * thread (a constant).
 */
const char *const *agent_api_versions(size_t *n);

#endif
