/* SPDX-License-Identifier: MPL-2.0 */
/*
 * srcavoid: the task's marks of copy sources to avoid (see srcavoid.h).
 * A linear table: a rack has at most a few hundred sleds, and it is read
 * once per sled per run. Pure; the task's loop thread.
 */
#include "replicator/task/srcavoid.h"

#include <stdio.h>
#include <string.h>

bool srcavoid_is_source_error(const char *error)
{
    static const char bad_gateway[] = "HTTP 502: ";

    if (error && !strncmp(error, bad_gateway, sizeof(bad_gateway) - 1))
        error += sizeof(bad_gateway) - 1;
    return error && strncmp(error, "source ", 7) == 0;
}

static void drop(struct srcavoid *m, size_t i)
{
    m->e[i] = m->e[--m->n];
}

void srcavoid_note(struct srcavoid *m, const char *id, int64_t now_ms)
{
    size_t i, oldest = 0;

    if (!id || !*id)
        return;
    for (i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].id, id))
            break;
    if (i == m->n && m->n == SRCAVOID_MAX) {
        for (size_t k = 1; k < m->n; k++)
            if (m->e[k].until_ms < m->e[oldest].until_ms)
                oldest = k;
        i = oldest;
    } else if (i == m->n) {
        m->n++;
    }
    snprintf(m->e[i].id, sizeof(m->e[i].id), "%s", id);
    m->e[i].until_ms = now_ms + 1000LL * SRCAVOID_SECS;
}

bool srcavoid_active(struct srcavoid *m, const char *id, int64_t now_ms)
{
    for (size_t i = 0; id && i < m->n; i++) {
        if (strcmp(m->e[i].id, id) != 0)
            continue;
        if (m->e[i].until_ms > now_ms)
            return true;
        drop(m, i);
        return false;
    }
    return false;
}
