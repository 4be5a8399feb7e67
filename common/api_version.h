/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_version: the API version each of our clients speaks to each of our
 * services, named in the api-version header of every request it sends
 * (httpc_spec.api_version; docs/API.md "API versions"). Each is a version
 * its service serves (the lists beside the route tables:
 * agent_api_versions, depot_versions, api_versions); test_route_docs
 * checks that. A client that starts using an endpoint added in a later
 * version moves its constant up with it; each names the oldest version
 * with everything its client uses (the CLI: the latest), so a newer
 * client still talks to an older server where it can.
 */
#ifndef COMMON_API_VERSION_H
#define COMMON_API_VERSION_H

/* The sledagent's agent API (--listen): the replicator's task, reset and
 * fleet requests. */
#define API_VERSION_SLED_AGENT "1.0.0"

/* The sledagent's depot (--depot-listen), and the reference's repo depot:
 * the copies between sleds. */
#define API_VERSION_DEPOT "1.0.0"

/* The replicator API as the CLI speaks it (the latest: the CLI has a
 * command for every endpoint; sled resume came in 1.3.0). */
#define API_VERSION_REPLICATOR "1.3.0"

/* The replicator API as a sled speaks it: registration and the piece
 * manifests, both there since 1.0.0, so a newer sled still registers
 * with an older replicator. */
#define API_VERSION_REPLICATOR_SLED "1.0.0"

/* Every service's first version: a client of reads every service has
 * served since (sim/ reads the task status and each sled's metrics). */
#define API_VERSION_FIRST "1.0.0"

#endif
