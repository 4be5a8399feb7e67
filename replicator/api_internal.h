/* SPDX-License-Identifier: MPL-2.0 */
/*
 * api_internal: the api record shared by api.c (routing, list, prune,
 * trust roots) and api_repo.c (streamed uploads). Loop thread only.
 */
#ifndef REPLICATOR_API_INTERNAL_H
#define REPLICATOR_API_INTERNAL_H

#include <stdbool.h>

#include "replicator/api.h"

struct apisrv;
struct apisrv_req;
struct upload;
struct workq;

struct api {
    struct event_base *base;
    const struct config *cfg;
    struct staging *staging;
    struct apisrv *srv;
    struct workq *wq;
    bool stopping;
    struct upload *uploads; /* live uploads, for shutdown */
};

/* Handle PUT /v1/system/update/repositories (replies on every path). */
void api_repo_upload(struct api *a, struct apisrv_req *req);

/* Free uploads still alive at shutdown (their files are removed). */
void api_repo_free_all(struct api *a);

#endif
