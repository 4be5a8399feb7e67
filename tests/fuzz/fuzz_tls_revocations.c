/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_tls_revocations: harness for revstate_parse (sledagent/
 * revstate.c), the body of PUT /tls-revocations. Properties: an accepted
 * body has a version >= 1 and at most LIMIT_TLS_REVOKED entries, and its
 * re-serialisation (revstate_to_json) parses again to the same version
 * and set; a refusal is ERR_INVAL (or ERR_NOMEM) with a message and
 * leaves nothing allocated. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/tls.h"
#include "sledagent/revstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct revstate s = REVSTATE_INIT, again = REVSTATE_INIT;
    struct err e = ERR_INIT;
    json_t *j = NULL;
    char *text = NULL;
    int rc;

    mem_init();
    rc = revstate_parse(&s, (const char *)data, size, &e);
    if (rc < 0) {
        FUZZ_CHECK((rc == ERR_INVAL || rc == ERR_NOMEM) && e.msg[0]);
        FUZZ_CHECK(s.set == NULL && s.version == 0);
        return 0;
    }
    FUZZ_CHECK(s.version >= 1 && s.set);
    FUZZ_CHECK(tls_revoked_count(s.set) <= LIMIT_TLS_REVOKED);
    j = revstate_to_json(&s);
    text = j ? jsonu_dumps(j) : NULL;
    if (text) {
        FUZZ_CHECK(revstate_parse(&again, text, strlen(text), &e) == 0);
        FUZZ_CHECK(again.version == s.version);
        FUZZ_CHECK(tls_revoked_equal(again.set, s.set));
    }
    json_decref(j);
    mem_free(text);
    revstate_release(&again);
    revstate_release(&s);
    return 0;
}
