/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pieces: piece manifests (see pieces.h). The parser is a byte matcher
 * for the one canonical form, not a JSON parser: every member is at a
 * fixed place, so there is nothing to normalise and the bytes accepted
 * are exactly the bytes pieces_encode writes.
 */
#include "common/pieces.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"

#define K_LENGTH "{\"length\":"
#define K_PIECE_SIZE ",\"piece_size\":"
#define K_PIECES ",\"pieces\":["
#define K_SHA256 "],\"sha256\":\""
#define K_VERSION "\",\"version\":"
#define K_END "}"

void pieces_release(struct pieces *m)
{
    if (!m)
        return;
    mem_free(m->piece);
    m->piece = NULL;
    m->count = 0;
}

bool pieces_size_valid(uint64_t s)
{
    return s >= PIECES_SIZE_MIN && s <= PIECES_SIZE_MAX && (s & (s - 1)) == 0;
}

int pieces_count(uint64_t *out, uint64_t length, uint64_t piece_size)
{
    uint64_t n;

    if (!pieces_size_valid(piece_size))
        return ERR_INVAL;
    n = length / piece_size + (length % piece_size != 0);
    if (n > LIMIT_PIECES)
        return ERR_LIMIT;
    *out = n;
    return 0;
}

int pieces_size_for(uint32_t *out, uint64_t length, uint64_t preferred)
{
    uint64_t n;

    if (!pieces_size_valid(preferred))
        return ERR_INVAL;
    for (uint64_t s = preferred; s <= PIECES_SIZE_MAX; s *= 2) {
        if (pieces_count(&n, length, s) == 0) {
            *out = (uint32_t)s;
            return 0;
        }
    }
    return ERR_LIMIT;
}

int pieces_range(uint64_t *off, uint64_t *len, uint64_t length,
                 uint64_t piece_size, uint64_t i)
{
    uint64_t n;

    /* a count over the cap still has well-defined ranges */
    if (!pieces_size_valid(piece_size))
        return ERR_INVAL;
    n = length / piece_size + (length % piece_size != 0);
    if (i >= n)
        return ERR_INVAL;
    *off = i * piece_size;
    *len = length - *off < piece_size ? length - *off : piece_size;
    return 0;
}

int pieces_verify(const struct pieces *m, uint64_t i, const void *data,
                  size_t n, struct err *err)
{
    uint64_t off, len;
    struct sha256 got;

    if (i >= m->count ||
        pieces_range(&off, &len, m->length, m->piece_size, i) < 0)
        return err_set(err, ERR_INVAL, "piece %llu of %zu does not exist",
                       (unsigned long long)i, m->count);
    if ((uint64_t)n != len)
        return err_set(err, ERR_VERIFY, "piece %llu has %zu bytes, not %llu",
                       (unsigned long long)i, n, (unsigned long long)len);
    if (sha256_digest(&got, data, n) < 0)
        return err_set(err, ERR_INTERNAL, "sha256 failed");
    if (!sha256_eq(&got, &m->piece[i]))
        return err_set(err, ERR_VERIFY, "piece %llu: sha256 mismatch",
                       (unsigned long long)i);
    return 0;
}

/* m's count and piece size agree with its length. */
static int check_shape(const struct pieces *m, struct err *err)
{
    uint64_t n;
    int rc = pieces_count(&n, m->length, m->piece_size);

    if (rc == ERR_LIMIT)
        return err_set(err, ERR_LIMIT, "%llu bytes in %u-byte pieces is "
                       "over %u pieces", (unsigned long long)m->length,
                       m->piece_size, LIMIT_PIECES);
    if (rc < 0)
        return err_set(err, ERR_INVAL, "piece size %u is not a power of two "
                       "in [%u, %u]", m->piece_size, PIECES_SIZE_MIN,
                       PIECES_SIZE_MAX);
    if (n != m->count || (n > 0 && !m->piece))
        return err_set(err, ERR_INVAL, "%llu bytes in %u-byte pieces are "
                       "%llu pieces, not %zu", (unsigned long long)m->length,
                       m->piece_size, (unsigned long long)n, m->count);
    return 0;
}

int pieces_encode(struct buf *out, const struct pieces *m, struct err *err)
{
    char hex[SHA256_HEX_LEN + 1];
    size_t room;
    int rc = check_shape(m, err);

    if (rc < 0)
        return rc;
    /* the fixed part is under PIECES_DOC_FIXED bytes, NUL included */
    room = PIECES_DOC_FIXED + (SHA256_HEX_LEN + 3) * m->count;
    if (buf_reserve(out, room) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    /* room reserved: the appends below cannot fail */
    buf_printf(out, K_LENGTH "%llu" K_PIECE_SIZE "%u" K_PIECES,
               (unsigned long long)m->length, m->piece_size);
    for (size_t i = 0; i < m->count; i++) {
        sha256_to_hex(hex, &m->piece[i]);
        if (i > 0)
            buf_putc(out, ',');
        buf_putc(out, '"');
        buf_append(out, hex, SHA256_HEX_LEN);
        buf_putc(out, '"');
    }
    sha256_to_hex(hex, &m->sha256);
    buf_printf(out, K_SHA256 "%s" K_VERSION "%d" K_END, hex, PIECES_VERSION);
    return 0;
}

int pieces_id(struct sha256 *out, const struct pieces *m, struct err *err)
{
    struct buf b = BUF_INIT;
    int rc = pieces_encode(&b, m, err);

    if (rc == 0 && sha256_digest(out, b.data, b.len) < 0)
        rc = err_set(err, ERR_INTERNAL, "sha256 failed");
    buf_release(&b);
    return rc;
}

/* ---- parser ------------------------------------------------------------- */

/* A position in the document; the first failure sticks in rc. */
struct cursor {
    const char *start, *p, *end;
    struct err *err;
    int rc;
};

static void bad(struct cursor *c, const char *what)
{
    if (c->rc == 0)
        c->rc = err_set(c->err, ERR_INVAL, "piece manifest: %s at byte %zu",
                        what, (size_t)(c->p - c->start));
}

static void lit(struct cursor *c, const char *s, const char *what)
{
    size_t n = strlen(s);

    if (c->rc)
        return;
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        bad(c, what);
    else
        c->p += n;
}

/* A canonical u64: "0" or [1-9][0-9]*, no overflow. */
static void num(struct cursor *c, uint64_t *out, const char *what)
{
    uint64_t v = 0;
    const char *first = c->p;

    if (c->rc)
        return;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');

        if (v > (UINT64_MAX - d) / 10) {
            bad(c, what);
            return;
        }
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == first || (*first == '0' && c->p - first > 1))
        bad(c, what);
    else
        *out = v;
}

/* 64 lowercase hex characters (the quotes are the caller's). */
static void digest(struct cursor *c, struct sha256 *out, const char *what)
{
    if (c->rc)
        return;
    if (c->end - c->p < SHA256_HEX_LEN ||
        sha256_from_hexn(out, c->p, SHA256_HEX_LEN) < 0)
        bad(c, what);
    else
        c->p += SHA256_HEX_LEN;
}

/* The members after the digests, and the end of the document. */
static void tail(struct cursor *c, struct pieces *m)
{
    uint64_t version = 0;

    lit(c, K_SHA256, "wrong piece count or no ],\"sha256\":\"");
    digest(c, &m->sha256, "bad sha256");
    lit(c, K_VERSION, "expected \",\"version\":");
    num(c, &version, "bad version");
    if (c->rc == 0 && version != PIECES_VERSION)
        c->rc = err_set(c->err, ERR_INVAL, "piece manifest: version %llu is "
                        "not %d", (unsigned long long)version,
                        PIECES_VERSION);
    lit(c, K_END, "expected }");
    if (c->rc == 0 && c->p != c->end)
        bad(c, "trailing data");
}

static int check_expected(const struct pieces *m,
                          const struct sha256 *expect_sha256,
                          int64_t expect_length, struct err *err)
{
    char hex[SHA256_HEX_LEN + 1];

    if (expect_sha256 && !sha256_eq(expect_sha256, &m->sha256)) {
        sha256_to_hex(hex, &m->sha256);
        return err_set(err, ERR_VERIFY, "piece manifest is for artifact %s",
                       hex);
    }
    if (expect_length >= 0 && (uint64_t)expect_length != m->length)
        return err_set(err, ERR_VERIFY, "piece manifest says %llu bytes, not "
                       "%lld", (unsigned long long)m->length,
                       (long long)expect_length);
    return 0;
}

int pieces_parse(struct pieces *out, const char *data, size_t len,
                 const struct sha256 *expect_sha256, int64_t expect_length,
                 struct err *err)
{
    struct cursor c = {data, data, data + len, err, 0};
    struct pieces m = PIECES_INIT;
    uint64_t psize = 0, n = 0;

    if (len > PIECES_DOC_MAX)
        return err_set(err, ERR_LIMIT, "piece manifest over %u bytes",
                       PIECES_DOC_MAX);
    lit(&c, K_LENGTH, "expected {\"length\":");
    num(&c, &m.length, "bad length");
    lit(&c, K_PIECE_SIZE, "expected ,\"piece_size\":");
    num(&c, &psize, "bad piece_size");
    lit(&c, K_PIECES, "expected ,\"pieces\":[");
    if (c.rc)
        goto out;
    if (!pieces_size_valid(psize)) {
        c.rc = err_set(err, ERR_INVAL, "piece manifest: piece size %llu is "
                       "not a power of two in [%u, %u]",
                       (unsigned long long)psize, PIECES_SIZE_MIN,
                       PIECES_SIZE_MAX);
        goto out;
    }
    m.piece_size = (uint32_t)psize;
    if (pieces_count(&n, m.length, psize) < 0) {
        c.rc = err_set(err, ERR_LIMIT, "piece manifest: %llu bytes in "
                       "%llu-byte pieces is over %u pieces",
                       (unsigned long long)m.length,
                       (unsigned long long)psize, LIMIT_PIECES);
        goto out;
    }
    /* the rest must have room for n digests before anything is allocated */
    if ((uint64_t)(c.end - c.p) < n * (SHA256_HEX_LEN + 3)) {
        c.rc = err_set(err, ERR_INVAL, "piece manifest: %llu bytes in "
                       "%llu-byte pieces need %llu piece digests",
                       (unsigned long long)m.length,
                       (unsigned long long)psize, (unsigned long long)n);
        goto out;
    }
    if (n > 0) {
        m.piece = mem_calloc((size_t)n, sizeof(*m.piece));
        if (!m.piece) {
            c.rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    for (m.count = 0; c.rc == 0 && m.count < n; m.count++) {
        if (m.count > 0)
            lit(&c, ",", "expected , (too few piece digests)");
        lit(&c, "\"", "expected a piece digest");
        digest(&c, &m.piece[m.count], "bad piece digest");
        lit(&c, "\"", "expected \"");
    }
    tail(&c, &m);
    if (c.rc == 0)
        c.rc = check_expected(&m, expect_sha256, expect_length, err);
    if (c.rc == 0) {
        *out = m;
        m.piece = NULL;
    }
out:
    mem_free(m.piece);
    return c.rc;
}

/* ---- builder ------------------------------------------------------------ */

struct pieces_builder {
    uint64_t piece_size;
    uint64_t length;
    uint64_t in_piece; /* bytes of the open piece; ctx is open iff > 0 */
    struct sha256_ctx ctx;
    struct sha256 *piece;
    size_t count, cap;
    int rc; /* sticky */
};

int pieces_builder_new(struct pieces_builder **out, uint64_t piece_size,
                       struct err *err)
{
    struct pieces_builder *b;

    *out = NULL;
    if (!pieces_size_valid(piece_size))
        return err_set(err, ERR_INVAL, "piece size %llu is not a power of two "
                       "in [%u, %u]", (unsigned long long)piece_size,
                       PIECES_SIZE_MIN, PIECES_SIZE_MAX);
    b = mem_calloc(1, sizeof(*b));
    if (!b)
        return err_set(err, ERR_NOMEM, "out of memory");
    b->piece_size = piece_size;
    *out = b;
    return 0;
}

void pieces_builder_free(struct pieces_builder *b)
{
    if (!b)
        return;
    sha256_release(&b->ctx);
    mem_free(b->piece);
    mem_free(b);
}

uint64_t pieces_builder_length(const struct pieces_builder *b)
{
    return b->length;
}

/* Close the open piece and record its digest. */
static int close_piece(struct pieces_builder *b)
{
    struct sha256 *p;

    if (b->count >= LIMIT_PIECES)
        return ERR_LIMIT;
    p = mem_grow(b->piece, &b->cap, b->count, sizeof(*b->piece), 16);
    if (!p)
        return ERR_NOMEM;
    b->piece = p;
    if (sha256_final(&b->ctx, &b->piece[b->count]) < 0)
        return ERR_INTERNAL;
    b->count++;
    b->in_piece = 0;
    return 0;
}

int pieces_builder_update(struct pieces_builder *b, const void *data,
                          size_t n)
{
    const unsigned char *p = data;

    while (b->rc == 0 && n > 0) {
        uint64_t room = b->piece_size - b->in_piece;
        size_t take = (uint64_t)n < room ? n : (size_t)room;

        if (b->in_piece == 0 && b->count >= LIMIT_PIECES)
            b->rc = ERR_LIMIT; /* a piece past the cap would open */
        else if (b->in_piece == 0)
            b->rc = sha256_init(&b->ctx);
        if (b->rc == 0)
            b->rc = sha256_update(&b->ctx, p, take);
        if (b->rc < 0)
            break;
        b->in_piece += take;
        b->length += take;
        p += take;
        n -= take;
        if (b->in_piece == b->piece_size)
            b->rc = close_piece(b);
    }
    return b->rc;
}

int pieces_builder_finish(struct pieces *out, struct pieces_builder *b,
                          const struct sha256 *whole, struct err *err)
{
    if (b->rc == 0 && b->in_piece > 0)
        b->rc = close_piece(b);
    if (b->rc == ERR_LIMIT)
        return err_set(err, ERR_LIMIT, "artifact over %u pieces of %llu "
                       "bytes", LIMIT_PIECES,
                       (unsigned long long)b->piece_size);
    if (b->rc < 0)
        return err_set(err, b->rc, "piece manifest: %s", err_name(b->rc));
    b->rc = ERR_INVAL; /* spent */
    memset(out, 0, sizeof(*out));
    out->sha256 = *whole;
    out->length = b->length;
    out->piece_size = (uint32_t)b->piece_size;
    out->count = b->count;
    out->piece = b->piece;
    b->piece = NULL;
    b->count = b->cap = 0;
    return 0;
}
