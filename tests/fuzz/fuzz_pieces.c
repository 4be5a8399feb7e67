/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_pieces: harness for pieces_parse (common/pieces.c), the piece
 * manifest a sled reads from a peer's depot or the controller. Beyond "no
 * crash": a refusal carries a message and leaves nothing allocated; an
 * accepted manifest re-encodes to exactly the input bytes (the parser
 * accepts the canonical form only, so the hash of the bytes received is
 * the manifest hash), has the piece count its length and piece size say,
 * and parses again against its own sha256 and length. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/pieces.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pieces m = PIECES_INIT, again = PIECES_INIT;
    struct buf b = BUF_INIT;
    struct err err = ERR_INIT;
    struct sha256 id, hb;
    uint64_t n = 0;
    int rc;

    mem_init();
    rc = pieces_parse(&m, (const char *)data, size, NULL, -1, &err);
    if (rc < 0) {
        FUZZ_CHECK(err.code == rc && err.msg[0] != '\0');
        FUZZ_CHECK(m.piece == NULL);
        goto out;
    }
    FUZZ_CHECK(pieces_size_valid(m.piece_size));
    FUZZ_CHECK(pieces_count(&n, m.length, m.piece_size) == 0);
    FUZZ_CHECK(n == m.count);
    FUZZ_CHECK(pieces_encode(&b, &m, &err) == 0);
    FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
    FUZZ_CHECK(pieces_id(&id, &m, &err) == 0);
    FUZZ_CHECK(sha256_digest(&hb, data, size) == 0);
    FUZZ_CHECK(sha256_eq(&id, &hb));
    FUZZ_CHECK(m.length <= INT64_MAX);
    FUZZ_CHECK(pieces_parse(&again, b.data, b.len, &m.sha256,
                            (int64_t)m.length, &err) == 0);
    FUZZ_CHECK(again.count == m.count);
out:
    pieces_release(&again);
    pieces_release(&m);
    buf_release(&b);
    return 0;
}
