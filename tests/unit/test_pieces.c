/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for common/pieces: piece arithmetic (empty, exact multiple,
 * one byte over, overflowing lengths), the incremental builder under every
 * chunking, the canonical encoding and its hash (fixed vectors computed
 * outside this code), the strict parser against hostile documents, piece
 * verification, and allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/pieces.h"

#define K64 (64u * 1024)
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H1 "1111111111111111111111111111111111111111111111111111111111111111"

/* Vectors computed with Python's hashlib over the documents below. */
#define DOC_ABC                                                         \
    "{\"length\":3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC         \
    "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}"
#define ID_ABC "3327a2aa4d2584ad396b16b94dafed2e07ea88dad9fdbed28ef640dd3d8a74da"
#define DOC_EMPTY                                                       \
    "{\"length\":0,\"piece_size\":4194304,\"pieces\":[],\"sha256\":\"" \
    SHA_EMPTY "\",\"version\":1}"
#define ID_EMPTY \
    "a4e7c9f41b74f09d28ba77cf7a57b56bc632aea7007a763947e687fdb3c74a44"

static int setup(void **state)
{
    (void)state;
    mem_init();
    return 0;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *d = mem_alloc(n ? n : 1);
    uint32_t x = 2463534242u;

    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        d[i] = (uint8_t)x;
    }
    return d;
}

/* The manifest of data built with chunks of `chunk` bytes. */
static void build(struct pieces *m, const uint8_t *data, size_t n,
                  uint64_t psize, size_t chunk)
{
    struct pieces_builder *b = NULL;
    struct err e = ERR_INIT;
    struct sha256 whole;

    assert_int_equal(pieces_builder_new(&b, psize, &e), 0);
    for (size_t off = 0; off < n; off += chunk)
        assert_int_equal(pieces_builder_update(
                             b, data + off, n - off < chunk ? n - off : chunk),
                         0);
    assert_int_equal(pieces_builder_length(b), n);
    assert_int_equal(sha256_digest(&whole, data, n), 0);
    assert_int_equal(pieces_builder_finish(m, b, &whole, &e), 0);
    pieces_builder_free(b);
}

static void parse_ok(struct pieces *m, const char *doc)
{
    struct err e = ERR_INIT;

    if (pieces_parse(m, doc, strlen(doc), NULL, -1, &e) != 0)
        fail_msg("parse %s: %s", doc, e.msg);
}

static void expect_bad(const char *doc, size_t len, int code,
                       const char *needle)
{
    struct pieces m = PIECES_INIT;
    struct err e = ERR_INIT;

    assert_int_equal(pieces_parse(&m, doc, len, NULL, -1, &e), code);
    assert_int_equal(e.code, code);
    if (needle && !strstr(e.msg, needle))
        fail_msg("message '%s' lacks '%s'", e.msg, needle);
    assert_null(m.piece);
}

static void bad(const char *doc, int code, const char *needle)
{
    expect_bad(doc, strlen(doc), code, needle);
}

static void test_pieces__sizes(void **state)
{
    uint32_t s = 0;

    (void)state;
    assert_true(pieces_size_valid(K64));
    assert_true(pieces_size_valid(PIECES_SIZE_DEFAULT));
    assert_true(pieces_size_valid(PIECES_SIZE_MAX));
    assert_false(pieces_size_valid(0));
    assert_false(pieces_size_valid(K64 / 2));
    assert_false(pieces_size_valid(3 * K64));
    assert_false(pieces_size_valid(2ull * PIECES_SIZE_MAX));
    assert_false(pieces_size_valid(UINT64_MAX));
    assert_int_equal(pieces_size_for(&s, 1000, PIECES_SIZE_DEFAULT), 0);
    assert_int_equal(s, PIECES_SIZE_DEFAULT);
    /* exactly LIMIT_PIECES pieces still fits; one byte more doubles */
    assert_int_equal(pieces_size_for(&s, (uint64_t)LIMIT_PIECES * K64, K64),
                     0);
    assert_int_equal(s, K64);
    assert_int_equal(
        pieces_size_for(&s, (uint64_t)LIMIT_PIECES * K64 + 1, K64), 0);
    assert_int_equal(s, 2 * K64);
    assert_int_equal(pieces_size_for(&s, UINT64_MAX, K64), ERR_LIMIT);
    assert_int_equal(pieces_size_for(&s, 1, 1000), ERR_INVAL);
}

static void test_pieces__count_and_range(void **state)
{
    uint64_t n = 99, off = 0, len = 0;

    (void)state;
    assert_int_equal(pieces_count(&n, 0, K64), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pieces_range(&off, &len, 0, K64, 0), ERR_INVAL);
    assert_int_equal(pieces_count(&n, 1, K64), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pieces_count(&n, 3 * K64, K64), 0);
    assert_int_equal(n, 3);
    assert_int_equal(pieces_range(&off, &len, 3 * K64, K64, 2), 0);
    assert_int_equal(off, 2 * K64);
    assert_int_equal(len, K64);
    assert_int_equal(pieces_range(&off, &len, 3 * K64, K64, 3), ERR_INVAL);
    assert_int_equal(pieces_count(&n, 3 * K64 + 1, K64), 0);
    assert_int_equal(n, 4);
    assert_int_equal(pieces_range(&off, &len, 3 * K64 + 1, K64, 3), 0);
    assert_int_equal(off, 3 * K64);
    assert_int_equal(len, 1);
    /* huge lengths: no overflow, a cap instead */
    assert_int_equal(pieces_count(&n, UINT64_MAX, PIECES_SIZE_MAX),
                     ERR_LIMIT);
    assert_int_equal(pieces_count(&n, UINT64_MAX - 1, K64), ERR_LIMIT);
    assert_int_equal(pieces_range(&off, &len, UINT64_MAX, PIECES_SIZE_MAX,
                                  UINT64_MAX / PIECES_SIZE_MAX),
                     0);
    assert_int_equal(len, UINT64_MAX % PIECES_SIZE_MAX);
    assert_int_equal(pieces_count(&n, 10, 1000), ERR_INVAL);
}

static void test_pieces__vectors(void **state)
{
    struct pieces m = PIECES_INIT;
    struct buf b = BUF_INIT;
    struct err e = ERR_INIT;
    struct sha256 id;
    char hex[SHA256_HEX_LEN + 1];

    (void)state;
    build(&m, (const uint8_t *)"abc", 3, K64, 1);
    assert_int_equal(pieces_encode(&b, &m, &e), 0);
    assert_string_equal(b.data, DOC_ABC);
    assert_int_equal(pieces_id(&id, &m, &e), 0);
    sha256_to_hex(hex, &id);
    assert_string_equal(hex, ID_ABC);
    pieces_release(&m);
    buf_reset(&b);

    /* the empty artifact has no piece */
    build(&m, (const uint8_t *)"", 0, PIECES_SIZE_DEFAULT, 1);
    assert_int_equal(m.count, 0);
    assert_null(m.piece);
    assert_int_equal(pieces_encode(&b, &m, &e), 0);
    assert_string_equal(b.data, DOC_EMPTY);
    assert_int_equal(pieces_id(&id, &m, &e), 0);
    sha256_to_hex(hex, &id);
    assert_string_equal(hex, ID_EMPTY);
    pieces_release(&m);
    parse_ok(&m, DOC_EMPTY);
    assert_int_equal(m.count, 0);
    pieces_release(&m);
    buf_release(&b);
}

/* Every chunking gives one manifest, and it is the per-piece sha256. */
static void test_pieces__builder_chunkings(void **state)
{
    static const size_t lens[] = {1, K64 - 1, K64, K64 + 1, 3 * K64,
                                  3 * K64 + 13};
    static const size_t chunks[] = {1, 7, 4096, K64 - 1, K64, K64 + 1,
                                    1u << 30};

    (void)state;
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        size_t n = lens[l];
        uint8_t *d = pattern(n);
        struct pieces ref = PIECES_INIT;
        uint64_t count = 0;

        assert_int_equal(pieces_count(&count, n, K64), 0);
        build(&ref, d, n, K64, n);
        assert_int_equal(ref.count, count);
        assert_int_equal(ref.length, n);
        for (size_t i = 0; i < ref.count; i++) {
            uint64_t off, len;
            struct sha256 h;
            struct err e = ERR_INIT;

            assert_int_equal(pieces_range(&off, &len, n, K64, i), 0);
            assert_int_equal(sha256_digest(&h, d + off, len), 0);
            assert_true(sha256_eq(&h, &ref.piece[i]));
            assert_int_equal(pieces_verify(&ref, i, d + off, len, &e), 0);
        }
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct pieces m = PIECES_INIT;

            if (chunks[c] == 1 && n > K64 + 1)
                continue; /* slow and adds nothing over 7 */
            build(&m, d, n, K64, chunks[c]);
            assert_int_equal(m.count, ref.count);
            assert_memory_equal(m.piece, ref.piece,
                                ref.count * sizeof(*ref.piece));
            pieces_release(&m);
        }
        pieces_release(&ref);
        mem_free(d);
    }
}

static void test_pieces__roundtrip(void **state)
{
    size_t n = 5 * K64 + 77;
    uint8_t *d = pattern(n);
    struct pieces m = PIECES_INIT, p = PIECES_INIT;
    struct buf b = BUF_INIT, b2 = BUF_INIT;
    struct err e = ERR_INIT;
    struct sha256 id, id2, want;
    int64_t len = (int64_t)n;

    (void)state;
    build(&m, d, n, K64, 1000);
    assert_int_equal(pieces_encode(&b, &m, &e), 0);
    assert_int_equal(sha256_digest(&want, d, n), 0);
    assert_int_equal(pieces_parse(&p, b.data, b.len, &want, len, &e), 0);
    assert_true(sha256_eq(&p.sha256, &want));
    assert_int_equal(p.length, n);
    assert_int_equal(p.piece_size, K64);
    assert_int_equal(p.count, 6);
    assert_int_equal(pieces_encode(&b2, &p, &e), 0);
    assert_string_equal(b.data, b2.data);
    assert_int_equal(pieces_id(&id, &m, &e), 0);
    assert_int_equal(pieces_id(&id2, &p, &e), 0);
    assert_true(sha256_eq(&id, &id2));
    assert_int_equal(sha256_digest(&id2, b.data, b.len), 0);
    assert_true(sha256_eq(&id, &id2));
    pieces_release(&p);

    /* against the wrong artifact */
    assert_int_equal(pieces_parse(&p, b.data, b.len, &m.piece[0], -1, &e),
                     ERR_VERIFY);
    assert_non_null(strstr(e.msg, "is for artifact"));
    assert_int_equal(pieces_parse(&p, b.data, b.len, &want, len - 1, &e),
                     ERR_VERIFY);
    assert_non_null(strstr(e.msg, "bytes, not"));
    assert_null(p.piece);

    /* every strict prefix is refused */
    for (size_t i = 0; i < b.len; i++)
        expect_bad(b.data, i, ERR_INVAL, NULL);
    buf_release(&b);
    buf_release(&b2);
    pieces_release(&m);
    mem_free(d);
}

static void test_pieces__hostile(void **state)
{
    char doc[1024];

    (void)state;
    bad("", ERR_INVAL, "expected {\"length\":");
    bad(" " DOC_ABC, ERR_INVAL, "at byte 0");
    bad(DOC_ABC " ", ERR_INVAL, "trailing data");
    bad(DOC_ABC "\n", ERR_INVAL, "trailing data");
    expect_bad(DOC_ABC "\0", sizeof(DOC_ABC), ERR_INVAL, "trailing data");
    bad(DOC_ABC DOC_ABC, ERR_INVAL, "trailing data");
    /* whitespace, member order, escapes: same meaning, other bytes */
    bad("{\"length\": 3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad length");
    bad("{\"piece_size\":65536,\"length\":3,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "expected {\"length\":");
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[\"\\u0062a7816bf8f01"
        "cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"],\"sha256\":"
        "\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad piece digest");
    bad("{\"length\":03,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad length");
    bad("{\"length\":3.0,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "expected ,\"piece_size\":");
    bad("{\"length\":-3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad length");
    /* hex: uppercase, short, non-hex */
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[\"BA7816BF8F01CFEA4141"
        "40DE5DAE2223B00361A396177A9CB410FF61F20015AD\"],\"sha256\":\""
        SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad piece digest");
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"ba7816\",\"version\":1}",
        ERR_INVAL, "bad sha256");
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":2}",
        ERR_INVAL, "version 2");
    /* piece counts that do not match length and piece size */
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[],\"sha256\":\""
        SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "expected a piece digest");
    bad("{\"length\":3,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC "\",\""
        SHA_ABC "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "wrong piece count");
    bad("{\"length\":65537,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "too few piece digests");
    bad("{\"length\":0,\"piece_size\":65536,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "wrong piece count");
    /* piece sizes */
    bad("{\"length\":3,\"piece_size\":65535,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "piece size 65535");
    bad("{\"length\":3,\"piece_size\":32768,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "piece size 32768");
    bad("{\"length\":3,\"piece_size\":134217728,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "piece size 134217728");
    bad("{\"length\":3,\"piece_size\":4294967296,\"pieces\":[\"" SHA_ABC
        "\"],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "piece size 4294967296");
    /* huge lengths: a cap, not an allocation or an overflow */
    bad("{\"length\":18446744073709551615,\"piece_size\":67108864,\"pieces\":"
        "[],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_LIMIT, "over 65536 pieces");
    bad("{\"length\":18446744073709551616,\"piece_size\":67108864,\"pieces\":"
        "[],\"sha256\":\"" SHA_ABC "\",\"version\":1}",
        ERR_INVAL, "bad length");
    /* within the cap but far more digests than the document holds: no
     * allocation of 65536 digests for a 200-byte document */
    snprintf(doc, sizeof(doc), "{\"length\":%llu,\"piece_size\":65536,"
             "\"pieces\":[\"" SHA_ABC "\"],\"sha256\":\"" SHA_ABC
             "\",\"version\":1}", (unsigned long long)LIMIT_PIECES * K64);
    bad(doc, ERR_INVAL, "need 65536 piece digests");
}

static void test_pieces__doc_cap(void **state)
{
    size_t n = PIECES_DOC_MAX + 1;
    char *big = mem_alloc(n);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    expect_bad(big, n, ERR_LIMIT, "over");
    mem_free(big);
}

/* The largest manifest there is (LIMIT_PIECES pieces, the longest
 * numbers): encoded within PIECES_DOC_MAX, parsed back. */
static void test_pieces__largest(void **state)
{
    struct pieces m = PIECES_INIT, p = PIECES_INIT;
    struct buf b = BUF_INIT;
    struct err e = ERR_INIT;

    (void)state;
    m.piece_size = PIECES_SIZE_MAX;
    m.length = (uint64_t)LIMIT_PIECES * PIECES_SIZE_MAX; /* 14 digits */
    m.count = LIMIT_PIECES;
    m.piece = mem_calloc(m.count, sizeof(*m.piece));
    assert_non_null(m.piece);
    memset(m.piece, 0xab, m.count * sizeof(*m.piece));
    assert_int_equal(pieces_encode(&b, &m, &e), 0);
    assert_true(b.len <= PIECES_DOC_MAX);
    assert_int_equal(pieces_parse(&p, b.data, b.len, NULL, -1, &e), 0);
    assert_int_equal(p.count, LIMIT_PIECES);
    assert_memory_equal(p.piece, m.piece, m.count * sizeof(*m.piece));
    pieces_release(&p);
    /* one piece more is over the cap */
    m.length++;
    buf_reset(&b);
    assert_int_equal(pieces_encode(&b, &m, &e), ERR_LIMIT);
    pieces_release(&m);
    buf_release(&b);
}

static void test_pieces__verify(void **state)
{
    size_t n = 2 * K64 + 5;
    uint8_t *d = pattern(n);
    struct pieces m = PIECES_INIT;
    struct err e = ERR_INIT;

    (void)state;
    build(&m, d, n, K64, 333);
    assert_int_equal(pieces_verify(&m, 2, d + 2 * K64, 5, &e), 0);
    assert_int_equal(pieces_verify(&m, 2, d + 2 * K64, 4, &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "has 4 bytes, not 5"));
    assert_int_equal(pieces_verify(&m, 1, d, K64, &e), ERR_VERIFY);
    assert_non_null(strstr(e.msg, "piece 1: sha256 mismatch"));
    assert_int_equal(pieces_verify(&m, 3, d, 1, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "piece 3 of 3 does not exist"));
    pieces_release(&m);
    mem_free(d);
}

static void test_pieces__encode_inconsistent(void **state)
{
    struct sha256 p[2];
    struct pieces m = {{{0}}, 3 * K64, K64, 2, p};
    struct buf b = BUF_INIT;
    struct err e = ERR_INIT;
    struct pieces_builder *pb = NULL;

    (void)state;
    memset(p, 0, sizeof(p));
    assert_int_equal(pieces_encode(&b, &m, &e), ERR_INVAL);
    assert_non_null(strstr(e.msg, "are 3 pieces, not 2"));
    m.piece_size = 1000;
    assert_int_equal(pieces_encode(&b, &m, &e), ERR_INVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(pieces_builder_new(&pb, 1000, &e), ERR_INVAL);
    assert_null(pb);
    buf_release(&b);
}

/* Fail each allocation in turn: ERR_NOMEM or success, never a leak. */
static void test_pieces__nomem(void **state)
{
    size_t n = 40 * K64 + 1;
    uint8_t *d = pattern(n);
    struct sha256 whole;
    struct buf doc = BUF_INIT;
    struct err e = ERR_INIT;
    bool done_parse = false, done_build = false;

    (void)state;
    assert_int_equal(sha256_digest(&whole, d, n), 0);
    {
        struct pieces m = PIECES_INIT;

        build(&m, d, n, K64, n);
        assert_int_equal(pieces_encode(&doc, &m, &e), 0);
        pieces_release(&m);
    }
    for (long k = 0; k < 64 && !(done_parse && done_build); k++) {
        struct pieces m = PIECES_INIT;
        struct pieces_builder *b = NULL;
        int rc;

        mem__fail_after(k, false);
        rc = pieces_parse(&m, doc.data, doc.len, &whole, (int64_t)n, &e);
        assert_true(rc == 0 || rc == ERR_NOMEM);
        done_parse |= rc == 0;
        pieces_release(&m);

        mem__fail_after(k, false);
        rc = pieces_builder_new(&b, K64, &e);
        if (rc == 0)
            rc = pieces_builder_update(b, d, n);
        if (rc == 0)
            rc = pieces_builder_finish(&m, b, &whole, &e);
        mem__fail_after(-1, false);
        assert_true(rc == 0 || rc == ERR_NOMEM || rc == ERR_INTERNAL);
        done_build |= rc == 0;
        pieces_release(&m);
        pieces_builder_free(b);
    }
    mem__fail_after(-1, false);
    assert_true(done_parse && done_build);
    buf_release(&doc);
    mem_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pieces__sizes, setup),
        cmocka_unit_test_setup(test_pieces__count_and_range, setup),
        cmocka_unit_test_setup(test_pieces__vectors, setup),
        cmocka_unit_test_setup(test_pieces__builder_chunkings, setup),
        cmocka_unit_test_setup(test_pieces__roundtrip, setup),
        cmocka_unit_test_setup(test_pieces__hostile, setup),
        cmocka_unit_test_setup(test_pieces__doc_cap, setup),
        cmocka_unit_test_setup(test_pieces__largest, setup),
        cmocka_unit_test_setup(test_pieces__verify, setup),
        cmocka_unit_test_setup(test_pieces__encode_inconsistent, setup),
        cmocka_unit_test_setup(test_pieces__nomem, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
