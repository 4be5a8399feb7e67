/* SPDX-License-Identifier: MPL-2.0 */
/*
 * inv_trust: the decision point for believing a sled's inventory (see
 * inv_trust.h). Pure, any thread.
 */
#include "replicator/task/inv_trust.h"

#include <string.h>

#include "replicator/task/collect.h"

bool sled_inventory_trusted(const struct collect_sled *s,
                            bool peers_authenticated)
{
    if (!peers_authenticated)
        return true; /* plaintext: no identity exists to check */
    return s->peer_verified && s->peer_id[0] &&
           strcmp(s->peer_id, s->id) == 0;
}
