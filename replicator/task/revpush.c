/* SPDX-License-Identifier: MPL-2.0 */
/*
 * revpush: the revocation push's body and the per-sled memory of held
 * versions (see revpush.h). Loop thread of the task.
 */
#include "replicator/task/revpush.h"

#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/mem.h"
#include "common/tls_revfile.h"
#include "replicator/task/collect.h"

struct revpush_entry {
    char id[COLLECT_ID_MAX];
    struct revpush_held held;
};

void revpush_memo_release(struct revpush_memo *m)
{
    mem_free(m->e);
    m->e = NULL;
    m->n = 0;
}

char *revpush_body(uint64_t version, const struct tls_revoked *set)
{
    json_t *arr = tls_revoked_to_json(set);
    json_t *v = arr ? json_pack("{s:I, s:o}", "version", (json_int_t)version,
                                "revoked", arr)
                    : NULL;
    char *text = v ? jsonu_dumps(v) : NULL;

    json_decref(v);
    return text;
}

bool revpush_needed(const struct revpush_held *h, uint64_t version)
{
    if (!version || h->unsupported)
        return false;
    return !h->known || h->version < version;
}

void revpush_memo_get(const struct revpush_memo *m, struct collect_sled *s,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&s[i].rev, 0, sizeof(s[i].rev));
        for (size_t j = 0; j < m->n; j++)
            if (strcmp(m->e[j].id, s[i].id) == 0) {
                s[i].rev = m->e[j].held;
                break;
            }
    }
}

int revpush_memo_put(struct revpush_memo *m, const struct collect_sled *s,
                     size_t n)
{
    struct revpush_entry *e = mem_calloc(n ? n : 1, sizeof(*e));

    revpush_memo_release(m);
    if (!e)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(e[i].id, s[i].id, sizeof(e[i].id));
        e[i].held = s[i].rev;
    }
    m->e = e;
    m->n = n;
    return 0;
}
