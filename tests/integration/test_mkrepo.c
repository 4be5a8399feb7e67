/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Integration tests of sim/tuf-mkrepo: it builds valid repositories in both
 * consistent-snapshot modes and both artifacts-document versions, which read
 * back through common/zipread and whose signatures verify with OpenSSL
 * directly; and each --break variant produces exactly its intended defect.
 * An independent checker (check_repo) records every defect it finds; each
 * test asserts the exact set.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/cjson.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/zipread.h"

#define VERSION 1700000000
#define VERSION_S "1700000000"

/* Defects check_repo can find; each --break variant must cause one. */
enum defect {
    D_ZIP_OPEN,        /* zipread_open refused the archive */
    D_SIG_ROOT,
    D_SIG_TIMESTAMP,
    D_SIG_SNAPSHOT,
    D_SIG_TARGETS,     /* a signature that does not verify */
    D_NO_SIG,          /* a role with no signature */
    D_SIG_UNKNOWN_KEY, /* a signature keyid root does not list */
    D_KEYID,           /* root keyid != sha256(cjson(key)) */
    D_TS_META,         /* timestamp's snapshot length/hash wrong */
    D_SNAP_META,       /* snapshot's targets length/hash wrong */
    D_V_ROOT,
    D_V_SNAPSHOT,
    D_V_TARGETS,
    D_EXPIRED,
    D_T_LENGTH,
    D_T_HASH,
    D_T_MISSING,
    D_T_READ,          /* a target entry fails to read (CRC) */
    D_HASH_ALG,        /* a hash algorithm other than sha256 */
    D_DELEGATIONS,
    D_FLOAT,           /* a real number in metadata */
    D_DUPKEY,          /* duplicate JSON object key */
    D_ART_MISSING,
    D_ART_BAD,
    D_ENTRY_DUP,
    D_ENTRY_SYMLINK,
    D_ENTRY_NAME,      /* an entry name refused on lookup */
    D__COUNT
};

static const char *const defect_names[D__COUNT] = {
    "zip-open", "sig-root", "sig-timestamp", "sig-snapshot", "sig-targets",
    "no-sig", "sig-unknown-key", "keyid", "ts-meta", "snap-meta", "v-root",
    "v-snapshot", "v-targets", "expired", "t-length", "t-hash", "t-missing",
    "t-read", "hash-alg", "delegations", "float", "dupkey", "art-missing",
    "art-bad", "entry-dup", "entry-symlink", "entry-name"};

struct fx {
    char dir[64];
    char zip[128];
    char root[128];
};

struct check {
    bool d[D__COUNT];
    char msg[D__COUNT][ERR_MSG_MAX];
    bool consistent;
    int doc;            /* 1 or 2; 0 when absent */
    size_t ntargets;
};

static void flag(struct check *c, enum defect d, const char *msg)
{
    if (!c->d[d])
        snprintf(c->msg[d], sizeof(c->msg[d]), "%s", msg);
    c->d[d] = true;
}

static int setup(void **state)
{
    struct fx *f = mem_calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_mkrepo.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->zip, sizeof(f->zip), "%s/repo.zip", f->dir);
    snprintf(f->root, sizeof(f->root), "%s/root.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    mem_free(f);
    return 0;
}

/* Run tuf-mkrepo with a NULL-terminated argument list; exit status. */
static int mkrepo(const char *first, ...)
{
    const char *bin = getenv("RACKDEPOT_BIN_DIR");
    char path[512];
    char *argv[40];
    int n = 0, status = 0;
    va_list ap;
    pid_t pid;

    snprintf(path, sizeof(path), "%s/tuf-mkrepo", bin ? bin : ".");
    argv[n++] = path;
    va_start(ap, first);
    for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0)
            dup2(null, 1);
        execv(path, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static json_t *load(struct zipread *zr, const char *name, bool strict,
                    struct buf *raw)
{
    struct err e = ERR_INIT;
    json_error_t je;

    buf_reset(raw);
    if (zipread_read_all(raw, zr, name, 1 << 20, &e) < 0)
        return NULL;
    return json_loadb(raw->data, raw->len, strict ? JSON_REJECT_DUPLICATES : 0,
                      &je);
}

/* Does any value in v hold a real number? */
static bool has_real(const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_real(v))
        return true;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if (has_real(x)) return true;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (has_real(x)) return true;
    }
    return false;
}

/* Canonical bytes; a lenient rendering ("1.5") where the strict one fails. */
static void canonical(struct buf *out, const json_t *v)
{
    struct err e = ERR_INIT;
    json_t *copy;
    const char *at;
    struct buf c = BUF_INIT;

    if (cjson_encode(out, v, &e) == 0)
        return;
    assert_int_equal(e.code, ERR_INVAL);
    buf_reset(out);
    copy = json_deep_copy(v);
    /* Only the float variant puts a real in, at targets.*.custom.float. */
    {
        const char *k;
        json_t *t;

        json_object_foreach(json_object_get(copy, "targets"), k, t) {
            json_t *cu = json_object_get(t, "custom");

            if (cu && json_is_real(json_object_get(cu, "float")))
                json_object_set_new(cu, "float", json_string("@@F@@"));
        }
    }
    assert_int_equal(cjson_encode(&c, copy, &e), 0);
    at = strstr(c.data, "\"@@F@@\"");
    assert_non_null(at);
    buf_append(out, c.data, (size_t)(at - c.data));
    buf_puts(out, "1.5");
    buf_puts(out, at + 7);
    buf_release(&c);
    json_decref(copy);
}

static bool sig_ok(const char *pub_hex, const json_t *env, const char *sig_hex)
{
    uint8_t pub[32], sig[64];
    size_t n = 0;
    struct buf c = BUF_INIT;
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = false;

    if (hex_decode(pub, sizeof(pub), &n, pub_hex, strlen(pub_hex)) < 0 ||
        n != 32 ||
        hex_decode(sig, sizeof(sig), &n, sig_hex, strlen(sig_hex)) < 0 ||
        n != 64)
        goto out;
    k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    canonical(&c, json_object_get(env, "signed"));
    ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
         EVP_DigestVerify(md, sig, 64, (const uint8_t *)c.data, c.len) == 1;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    buf_release(&c);
    return ok;
}

/* Check role's signatures against root's keys; flag what is wrong. */
static void check_sigs(struct check *c, const json_t *root, const json_t *env,
                       enum defect bad)
{
    json_t *sigs = json_object_get(env, "signatures"), *s;
    json_t *keys = json_object_get(json_object_get(root, "signed"), "keys");
    size_t i;

    if (json_array_size(sigs) == 0)
        flag(c, D_NO_SIG, "no signature");
    json_array_foreach(sigs, i, s) {
        const char *kid = json_string_value(json_object_get(s, "keyid"));
        json_t *key = json_object_get(keys, kid ? kid : "");

        if (!key) {
            flag(c, D_SIG_UNKNOWN_KEY, kid ? kid : "?");
            continue;
        }
        if (!sig_ok(json_string_value(json_object_get(
                        json_object_get(key, "keyval"), "public")),
                    env, json_string_value(json_object_get(s, "sig"))))
            flag(c, bad, "signature does not verify");
    }
}

static bool meta_matches(const json_t *m, const struct buf *file)
{
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];
    const char *listed = json_string_value(
        json_object_get(json_object_get(m, "hashes"), "sha256"));

    sha256_digest(&h, file->data, file->len);
    sha256_to_hex(hex, &h);
    return json_integer_value(json_object_get(m, "length")) ==
               (json_int_t)file->len &&
           listed && strcmp(listed, hex) == 0;
}

static bool expired(const json_t *env)
{
    const char *s = json_string_value(
        json_object_get(json_object_get(env, "signed"), "expires"));
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    assert_non_null(s);
    assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
    return timegm(&tm) <= time(NULL);
}

static json_int_t version_of(const json_t *env)
{
    return json_integer_value(
        json_object_get(json_object_get(env, "signed"), "version"));
}

/* Check one listed target: entry present, readable, length and hash. */
static void check_target(struct check *c, struct zipread *zr, const char *name,
                         const json_t *t)
{
    const char *hex = json_string_value(
        json_object_get(json_object_get(t, "hashes"), "sha256"));
    char entry[1024], got[SHA256_HEX_LEN + 1];
    struct zipread_stream *s = NULL;
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    struct sha256 h;
    struct err e = ERR_INIT;
    static char chunk[65536];
    uint64_t total = 0;
    size_t n = 0;
    int rc;

    assert_non_null(hex);
    if (json_object_size(json_object_get(t, "hashes")) != 1)
        flag(c, D_HASH_ALG, "extra hash algorithm");
    snprintf(entry, sizeof(entry), "repo/targets/%s%s%s",
             c->consistent ? hex : "", c->consistent ? "." : "", name);
    rc = zipread_stream_open(&s, zr, entry, UINT64_MAX, &e);
    if (rc == ERR_NOTFOUND) {
        flag(c, D_T_MISSING, e.msg);
        return;
    }
    if (rc < 0) {
        flag(c, strstr(e.msg, "symlink") ? D_ENTRY_SYMLINK : D_T_READ, e.msg);
        return;
    }
    assert_int_equal(sha256_init(&ctx), 0);
    while ((rc = zipread_stream_read(&n, s, chunk, sizeof(chunk), &e)) == 0 &&
           n > 0) {
        sha256_update(&ctx, chunk, n);
        total += n;
    }
    sha256_final(&ctx, &h);
    sha256_release(&ctx);
    zipread_stream_close(s);
    if (rc < 0) {
        flag(c, D_T_READ, e.msg);
        return;
    }
    sha256_to_hex(got, &h);
    if ((json_int_t)total != json_integer_value(json_object_get(t, "length")))
        flag(c, D_T_LENGTH, entry);
    if (strcmp(got, hex) != 0)
        flag(c, D_T_HASH, entry);
}

static void check_artifacts(struct check *c, struct zipread *zr,
                            const json_t *targets, const char *sysver)
{
    const char *doc = json_object_get(targets, "artifacts-v2.json")
                          ? "artifacts-v2.json"
                          : "artifacts.json";
    const json_t *t = json_object_get(targets, doc), *a;
    char entry[512];
    struct buf raw = BUF_INIT;
    json_t *j;
    size_t i;

    if (!t) {
        flag(c, D_ART_MISSING, "no artifacts document");
        return;
    }
    c->doc = doc[9] == '-' ? 2 : 1;
    snprintf(entry, sizeof(entry), "repo/targets/%s%s%s",
             c->consistent ? json_string_value(json_object_get(
                                 json_object_get(t, "hashes"), "sha256"))
                           : "",
             c->consistent ? "." : "", doc);
    j = load(zr, entry, true, &raw);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "system_version")),
                        sysver);
    if (c->doc == 2)
        assert_true(json_is_object(json_object_get(j, "metadata")));
    json_array_foreach(json_object_get(j, "artifacts"), i, a) {
        const char *tn = json_string_value(
            json_object_get(a, c->doc == 2 ? "target_name" : "target"));
        const char *kind =
            c->doc == 2
                ? json_string_value(
                      json_object_get(json_object_get(a, "tags"), "kind"))
                : json_string_value(json_object_get(a, "kind"));

        assert_non_null(tn);
        assert_non_null(kind);
        assert_non_null(json_string_value(json_object_get(a, "version")));
        if (c->doc == 1)
            assert_non_null(json_string_value(json_object_get(a, "name")));
        if (!json_object_get(targets, tn))
            flag(c, D_ART_BAD, tn);
    }
    json_decref(j);
    buf_release(&raw);
}

/* Every check of a repository zip; defects are recorded in c. */
static void check_repo(struct check *c, const char *zip, const char *sysver,
                       const char *printed_root)
{
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    struct buf rraw = BUF_INIT, traw = BUF_INIT, sraw = BUF_INIT,
               xraw = BUF_INIT;
    json_t *root = NULL, *ts = NULL, *sn = NULL, *tg = NULL, *k, *t;
    const struct zipread_entry *z;
    const char *kid, *name;
    char path[256];
    struct buf ck = BUF_INIT;
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];

    memset(c->d, 0, sizeof(c->d));
    if (zipread_open(&zr, zip, &e) < 0) {
        flag(c, D_ZIP_OPEN, e.msg);
        return;
    }
    for (size_t i = 0; i < zipread_count(zr); i++) {
        z = zipread_entry_at(zr, i);
        assert_int_equal(strncmp(z->name, "repo/", 5), 0);
        if (z->duplicate)
            flag(c, D_ENTRY_DUP, z->name);
        else if (zipread_find(&z, zr, z->name, &e) == ERR_INVAL)
            flag(c, D_ENTRY_NAME, e.msg);
    }
    root = load(zr, "repo/metadata/1.root.json", true, &rraw);
    assert_non_null(root);
    if (printed_root) {
        FILE *f = fopen(printed_root, "r");
        char b[8192];
        size_t n;

        assert_non_null(f);
        n = fread(b, 1, sizeof(b), f);
        fclose(f);
        assert_int_equal(n, rraw.len);
        assert_memory_equal(b, rraw.data, n);
    }
    c->consistent = json_is_true(
        json_object_get(json_object_get(root, "signed"), "consistent_snapshot"));
    /* One ed25519 key, keyid = sha256(cjson(key)), all roles, threshold 1. */
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(root, "signed"), "keys")),
                     1);
    json_object_foreach(json_object_get(json_object_get(root, "signed"),
                                        "keys"),
                        kid, k) {
        assert_string_equal(json_string_value(json_object_get(k, "keytype")),
                            "ed25519");
        buf_reset(&ck);
        assert_int_equal(cjson_encode(&ck, k, &e), 0);
        sha256_digest(&h, ck.data, ck.len);
        sha256_to_hex(hex, &h);
        if (strcmp(hex, kid) != 0)
            flag(c, D_KEYID, kid);
        json_object_foreach(json_object_get(json_object_get(root, "signed"),
                                            "roles"),
                            name, t) {
            assert_string_equal(json_string_value(json_array_get(
                                    json_object_get(t, "keyids"), 0)),
                                kid);
            assert_int_equal(json_integer_value(json_object_get(t, "threshold")),
                             1);
        }
    }
    assert_int_equal(json_object_size(json_object_get(
                         json_object_get(root, "signed"), "roles")),
                     4);
    check_sigs(c, root, root, D_SIG_ROOT);
    if (version_of(root) != 1)
        flag(c, D_V_ROOT, "root version");
    {
        /* A next root, if any, must claim exactly version 2. */
        json_t *r2 = load(zr, "repo/metadata/2.root.json", true, &xraw);

        if (r2) {
            check_sigs(c, root, r2, D_SIG_ROOT);
            check_sigs(c, r2, r2, D_SIG_ROOT);
            if (version_of(r2) != 2)
                flag(c, D_V_ROOT, "2.root.json version");
        }
        json_decref(r2);
    }
    ts = load(zr, "repo/metadata/timestamp.json", true, &xraw);
    if (!ts) {
        flag(c, D_ENTRY_DUP, "timestamp.json unreadable");
        goto out;
    }
    check_sigs(c, root, ts, D_SIG_TIMESTAMP);
    snprintf(path, sizeof(path), "repo/metadata/%ssnapshot.json",
             c->consistent ? VERSION_S "." : "");
    sn = load(zr, path, true, &sraw);
    assert_non_null(sn);
    check_sigs(c, root, sn, D_SIG_SNAPSHOT);
    if (!meta_matches(json_object_get(json_object_get(json_object_get(ts,
                                                                      "signed"),
                                                      "meta"),
                                      "snapshot.json"),
                      &sraw))
        flag(c, D_TS_META, "timestamp meta");
    if (version_of(ts) != VERSION)
        flag(c, D_V_SNAPSHOT, "timestamp version");
    if (version_of(sn) != VERSION)
        flag(c, D_V_SNAPSHOT, "snapshot version");
    snprintf(path, sizeof(path), "repo/metadata/%stargets.json",
             c->consistent ? VERSION_S "." : "");
    tg = load(zr, path, true, &traw);
    if (!tg) {
        flag(c, D_DUPKEY, "duplicate key");
        tg = load(zr, path, false, &traw);
        assert_non_null(tg);
    }
    check_sigs(c, root, tg, D_SIG_TARGETS);
    if (!meta_matches(json_object_get(json_object_get(json_object_get(sn,
                                                                      "signed"),
                                                      "meta"),
                                      "targets.json"),
                      &traw))
        flag(c, D_SNAP_META, "snapshot meta");
    if (version_of(tg) != VERSION)
        flag(c, D_V_TARGETS, "targets version");
    if (expired(root) && expired(ts) && expired(sn) && expired(tg))
        flag(c, D_EXPIRED, "expired");
    else
        assert_false(expired(root) || expired(ts) || expired(sn) ||
                     expired(tg));
    if (has_real(tg))
        flag(c, D_FLOAT, "float");
    {
        json_t *dl = json_object_get(json_object_get(tg, "signed"),
                                     "delegations");

        assert_non_null(dl);
        if (json_array_size(json_object_get(dl, "roles")) != 0 ||
            json_object_size(json_object_get(dl, "keys")) != 0)
            flag(c, D_DELEGATIONS, "delegations");
    }
    c->ntargets = 0;
    json_object_foreach(json_object_get(json_object_get(tg, "signed"),
                                        "targets"),
                        name, t) {
        check_target(c, zr, name, t);
        c->ntargets++;
    }
    check_artifacts(c, zr, json_object_get(json_object_get(tg, "signed"),
                                           "targets"),
                    sysver);
out:
    json_decref(root);
    json_decref(ts);
    json_decref(sn);
    json_decref(tg);
    buf_release(&rraw);
    buf_release(&traw);
    buf_release(&sraw);
    buf_release(&xraw);
    buf_release(&ck);
    zipread_free(zr);
}

/* Assert that exactly the defects in want[] were found. */
static void expect(const struct check *c, const char *variant,
                   const enum defect *want, size_t n)
{
    for (int d = 0; d < D__COUNT; d++) {
        bool wanted = false;

        for (size_t i = 0; i < n; i++)
            wanted = wanted || want[i] == (enum defect)d;
        if (c->d[d] != wanted)
            fail_msg("%s: defect %s %s (%s)", variant, defect_names[d],
                     wanted ? "missing" : "unexpected", c->msg[d]);
    }
}

static void test_mkrepo__valid_consistent_v1(void **state)
{
    struct fx *f = *state;
    struct check c;

    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "2.0.0",
                            "--random", "3:70000", "--meta-version",
                            VERSION_S, "--print-root", f->root, NULL),
                     0);
    check_repo(&c, f->zip, "2.0.0", f->root);
    expect(&c, "valid", NULL, 0);
    assert_true(c.consistent);
    assert_int_equal(c.doc, 1);
    assert_int_equal(c.ntargets, 4);
}

static void test_mkrepo__valid_plain_v2(void **state)
{
    struct fx *f = *state;
    struct check c;
    struct zipread *zr = NULL;
    struct err e = ERR_INIT;
    const struct zipread_entry *z;

    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "3.1.0",
                            "--random", "5:1000", "--meta-version", VERSION_S,
                            "--consistent-snapshot", "off", "--artifacts-doc",
                            "v2", "--deflate-metadata", NULL),
                     0);
    check_repo(&c, f->zip, "3.1.0", NULL);
    expect(&c, "valid", NULL, 0);
    assert_false(c.consistent);
    assert_int_equal(c.doc, 2);
    assert_int_equal(c.ntargets, 6);
    assert_int_equal(zipread_open(&zr, f->zip, &e), 0);
    assert_int_equal(zipread_find(&z, zr, "repo/metadata/targets.json", &e), 0);
    assert_int_equal(z->method, ZIPREAD_DEFLATE);
    assert_int_equal(zipread_find(&z, zr, "repo/targets/artifacts-v2.json",
                                  &e),
                     0);
    assert_int_equal(z->method, ZIPREAD_STORED);
    zipread_free(zr);
}

static void test_mkrepo__from_dir_key_and_seed(void **state)
{
    struct fx *f = *state;
    char dir[160], key[160], zip2[160], file[200], sub[200];
    struct zipread *a = NULL, *b = NULL;
    struct err e = ERR_INIT;
    const struct zipread_entry *za, *zb;
    struct check c;
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/in", f->dir);
    snprintf(key, sizeof(key), "%s/key.pem", f->dir);
    snprintf(zip2, sizeof(zip2), "%s/two.zip", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/subdir", dir);
    assert_int_equal(mkdir(sub, 0755), 0); /* not a regular file: skipped */
    snprintf(file, sizeof(file), "%s/host-one-1.0.0.tar.gz", dir);
    fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("host image bytes", fp);
    fclose(fp);
    snprintf(file, sizeof(file), "%s/zone-two-1.0.0.tar.gz", dir);
    fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("zone image bytes", fp);
    fclose(fp);
    /* a fixed --expires: by default it is a week from the second of the
     * run, and two runs a second apart would sign different roots */
    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                            "--from-dir", dir, "--generate-key", key,
                            "--meta-version", VERSION_S, "--expires",
                            "2099-01-01T00:00:00Z", NULL),
                     0);
    check_repo(&c, f->zip, "1.0.0", NULL);
    expect(&c, "from-dir", NULL, 0);
    assert_int_equal(c.ntargets, 3);
    assert_int_equal(mkrepo("--out", zip2, "--system-version", "1.0.1",
                            "--from-dir", dir, "--key", key, "--meta-version",
                            VERSION_S, "--expires", "2099-01-01T00:00:00Z",
                            NULL),
                     0);
    /* Same key: byte-identical 1.root.json. */
    assert_int_equal(zipread_open(&a, f->zip, &e), 0);
    assert_int_equal(zipread_open(&b, zip2, &e), 0);
    assert_int_equal(zipread_find(&za, a, "repo/metadata/1.root.json", &e), 0);
    assert_int_equal(zipread_find(&zb, b, "repo/metadata/1.root.json", &e), 0);
    assert_int_equal(za->crc32, zb->crc32);
    zipread_free(a);
    zipread_free(b);
    /* Same seed, other system version: same artifact bytes (shared). */
    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "4.0.0",
                            "--random", "2:3000", "--seed", "7",
                            "--artifact-version", "1.0.0",
                            "--consistent-snapshot", "off", NULL),
                     0);
    assert_int_equal(mkrepo("--out", zip2, "--system-version", "5.0.0",
                            "--random", "2:3000", "--seed", "7",
                            "--artifact-version", "1.0.0",
                            "--consistent-snapshot", "off", NULL),
                     0);
    assert_int_equal(zipread_open(&a, f->zip, &e), 0);
    assert_int_equal(zipread_open(&b, zip2, &e), 0);
    assert_int_equal(zipread_find(&za, a,
                                  "repo/targets/gimlet_rot-fake-1-1.0.0.bin",
                                  &e),
                     0);
    assert_int_equal(zipread_find(&zb, b,
                                  "repo/targets/gimlet_rot-fake-1-1.0.0.bin",
                                  &e),
                     0);
    assert_int_equal(za->crc32, zb->crc32);
    assert_int_equal(za->size, 3000);
    zipread_free(a);
    zipread_free(b);
}

static void test_mkrepo__usage_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                            NULL),
                     2);
    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                            "--random", "1:10", "--break", "no-such", NULL),
                     2);
    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                            "--random", "0:10", NULL),
                     2);
    assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                            "--from-dir", "/nonexistent", NULL),
                     1);
    assert_int_equal(access(f->zip, F_OK), -1);
}

struct variant {
    const char *name;
    enum defect want[2];
    size_t n;
    const char *needle; /* in the defect's message, when it has one */
};

static const struct variant variants[] = {
    {"bad-signature", {D_SIG_TARGETS}, 1, NULL},
    {"no-signature", {D_NO_SIG}, 1, NULL},
    {"wrong-length", {D_T_LENGTH}, 1, NULL},
    {"wrong-hash", {D_T_HASH}, 1, NULL},
    {"unknown-hash-alg", {D_HASH_ALG}, 1, NULL},
    {"expired", {D_EXPIRED}, 1, NULL},
    {"trailing-data", {D_ZIP_OPEN}, 1, "14 bytes of trailing data"},
    {"archive-comment", {D_ZIP_OPEN}, 1, "archive comment"},
    {"duplicate-entry", {D_ENTRY_DUP}, 1, NULL},
    {"crc", {D_T_READ}, 1, "CRC mismatch"},
    {"symlink-entry", {D_ENTRY_SYMLINK}, 1, "symlink entry"},
    {"missing-target", {D_T_MISSING}, 1, "no entry"},
    {"snapshot-version", {D_V_SNAPSHOT}, 1, NULL},
    {"targets-version", {D_V_TARGETS}, 1, NULL},
    {"root-version", {D_V_ROOT}, 1, NULL},
    {"keyid-mismatch", {D_KEYID}, 1, NULL},
    {"delegations", {D_DELEGATIONS}, 1, NULL},
    {"float", {D_FLOAT}, 1, NULL},
    {"duplicate-key", {D_DUPKEY}, 1, NULL},
    {"missing-artifacts-doc", {D_ART_MISSING}, 1, NULL},
    {"bad-artifacts-doc", {D_ART_BAD}, 1, "not-in-targets"},
    {"snapshot-hash", {D_TS_META}, 1, NULL},
    {"wrong-key", {D_SIG_UNKNOWN_KEY}, 1, NULL},
    {"traversal-entry", {D_ENTRY_NAME}, 1, "'..' segment"},
    {"root-chain-version", {D_V_ROOT}, 1, "2.root.json version"},
};

static void run_variants(struct fx *f, const char *cs)
{
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        const struct variant *v = &variants[i];
        struct check c;

        assert_int_equal(mkrepo("--out", f->zip, "--system-version", "1.0.0",
                                "--random", "2:40000", "--meta-version",
                                VERSION_S, "--consistent-snapshot", cs,
                                "--break", v->name, NULL),
                         0);
        check_repo(&c, f->zip, "1.0.0", NULL);
        expect(&c, v->name, v->want, v->n);
        if (v->needle && !strstr(c.msg[v->want[0]], v->needle))
            fail_msg("%s: message \"%s\" lacks \"%s\"", v->name,
                     c.msg[v->want[0]], v->needle);
    }
}

static void test_mkrepo__break_variants_consistent(void **state)
{
    run_variants(*state, "on");
}

static void test_mkrepo__break_variants_plain(void **state)
{
    run_variants(*state, "off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mkrepo__valid_consistent_v1,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo__valid_plain_v2, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo__from_dir_key_and_seed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo__usage_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_mkrepo__break_variants_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkrepo__break_variants_plain,
                                        setup, teardown),
    };

    mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
