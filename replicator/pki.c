/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pki: the rack CA and the leaves it signs (see pki.h), with OpenSSL 3
 * EVP and X509 APIs. Certificates are assembled field by field, extensions
 * from their textual form (X509V3_EXT_nconf_nid), signed with SHA-256.
 * Private keys are written as unencrypted PKCS#8 PEM, mode 0600: the
 * directory is the operator's to protect. Main thread of the tool.
 */
#include "replicator/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/limits.h"
#include "common/mem.h"
#include "replicator/pki_index.h"

#define SERIAL_BYTES 16

static int64_t fake_now;

int64_t pki_now(void)
{
    return fake_now ? fake_now : (int64_t)time(NULL);
}

void pki__set_now(int64_t t)
{
    fake_now = t;
}

static int ossl_err(struct err *err, int code, const char *what)
{
    char why[256] = "";
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    ERR_clear_error();
    return err_set(err, code, "%s: %s", what, e ? why : "OpenSSL error");
}

int pki_lock(int *fd_out, const char *dir, struct err *err)
{
    struct buf path = BUF_INIT;
    struct flock fl;
    int fd = -1, rc = 0;

    *fd_out = -1;
    if (buf_printf(&path, "%s/index.lock", dir) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fd < 0 || fcntl(fd, F_SETLKW, &fl) < 0) {
        rc = err_set(err, ERR_IO, "lock %s: %s", path.data, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    *fd_out = fd;
out:
    buf_release(&path);
    return rc;
}

void pki_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the fcntl lock */
}

/* A random positive serial of SERIAL_BYTES bytes, set on x. */
static int set_serial(X509 *x, struct err *err)
{
    unsigned char b[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    int rc = 0;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return ossl_err(err, ERR_INTERNAL, "random serial");
    b[0] &= 0x7f;
    if (b[0] == 0)
        b[0] = 1; /* keep the full length: fixed-width serials */
    bn = BN_bin2bn(b, sizeof(b), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        rc = ossl_err(err, ERR_NOMEM, "serial");
    BN_free(bn);
    return rc;
}

static int add_name(X509_NAME *n, const char *field, const char *value,
                    struct err *err)
{
    if (X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
                                   (const unsigned char *)value, -1, -1,
                                   0) != 1)
        return ossl_err(err, ERR_NOMEM, "subject name");
    return 0;
}

/* Extension nid from its textual value; issuer may be x (self-signed). */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value,
                   struct err *err)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return ossl_err(err, ERR_INVAL, OBJ_nid2sn(nid));
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : ossl_err(err, ERR_NOMEM, OBJ_nid2sn(nid));
}

/*
 * A certificate for key, named O=rackdepot, OU=rack_id, CN=cn, valid from
 * not_before for days, serial random; extensions and signature are the
 * caller's.
 */
static int cert_new(X509 **out, EVP_PKEY *key, const char *rack_id,
                    const char *cn, int64_t not_before, unsigned days,
                    struct err *err)
{
    X509 *x = X509_new();
    X509_NAME *n = x ? X509_get_subject_name(x) : NULL;
    int rc = 0;

    *out = NULL;
    if (!x || X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_set_pubkey(x, key) != 1) {
        rc = ossl_err(err, ERR_NOMEM, "certificate");
        goto out;
    }
    rc = set_serial(x, err);
    if (rc == 0)
        rc = add_name(n, "O", "rackdepot", err);
    if (rc == 0)
        rc = add_name(n, "OU", rack_id, err);
    if (rc == 0)
        rc = add_name(n, "CN", cn, err);
    if (rc < 0)
        goto out;
    if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x),
                       (time_t)(not_before + (int64_t)days * 86400)))
        rc = ossl_err(err, ERR_INVAL, "validity");
out:
    if (rc < 0)
        X509_free(x);
    else
        *out = x;
    return rc;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key,
                     struct err *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    int ok, rc;

    if (!b)
        return ossl_err(err, ERR_NOMEM, "PEM");
    if (cert)
        ok = PEM_write_bio_X509(b, cert);
    else
        ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(b, &data);
    if (ok != 1 || len <= 0)
        rc = ossl_err(err, ERR_NOMEM, "PEM");
    else
        rc = fsutil_write_atomic(path, NULL, data, (size_t)len,
                                 cert ? 0644 : 0600, err);
    BIO_free(b);
    return rc;
}

/* dir/name into path (reset first). */
static int join(struct buf *path, const char *dir, const char *name,
                struct err *err)
{
    buf_release(path);
    if (buf_printf(path, "%s/%s", dir, name) < 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

static int refuse_existing(const char *dir, struct err *err)
{
    static const char *const files[] = {"ca.key", "ca.pem", PKI_INDEX_FILE};
    struct buf path = BUF_INIT;
    struct stat st;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < 3; i++) {
        rc = join(&path, dir, files[i], err);
        if (rc == 0 && lstat(path.data, &st) == 0)
            rc = err_set(err, ERR_CONFLICT, "%s exists: %s already holds a "
                         "CA", path.data, dir);
    }
    buf_release(&path);
    return rc;
}

static int ca_cert(X509 **out, EVP_PKEY *key, const char *rack_id,
                   unsigned days, struct err *err)
{
    int rc = cert_new(out, key, rack_id, "rackdepot rack CA", pki_now(),
                      days, err);

    if (rc == 0 && X509_set_issuer_name(*out, X509_get_subject_name(*out))
                   != 1)
        rc = ossl_err(err, ERR_NOMEM, "issuer");
    if (rc == 0)
        rc = add_ext(*out, *out, NID_basic_constraints,
                     "critical,CA:TRUE,pathlen:0", err);
    if (rc == 0)
        rc = add_ext(*out, *out, NID_key_usage, "critical,keyCertSign,cRLSign",
                     err);
    if (rc == 0)
        rc = add_ext(*out, *out, NID_subject_key_identifier, "hash", err);
    if (rc == 0 && X509_sign(*out, key, EVP_sha256()) <= 0)
        rc = ossl_err(err, ERR_INTERNAL, "sign CA");
    return rc;
}

/* Write key, certificate and a new index for the CA into dir. */
static int init_write(const char *dir, const char *rack_id, X509 *x,
                      EVP_PKEY *key, struct err *err)
{
    struct buf path = BUF_INIT;
    struct pki_index *idx = NULL;
    char serial[TLS_SERIAL_HEX_MAX + 1];
    int rc = tls_cert_serial(serial, x, err);

    if (rc == 0)
        rc = pki_index_new(&idx, rack_id, serial, err);
    if (rc == 0)
        rc = join(&path, dir, "ca.key", err);
    if (rc == 0)
        rc = write_pem(path.data, NULL, key, err);
    if (rc == 0)
        rc = join(&path, dir, "ca.pem", err);
    if (rc == 0)
        rc = write_pem(path.data, x, NULL, err);
    /* the index last: its presence means "a CA lives here" */
    if (rc == 0)
        rc = pki_index_save(idx, dir, err);
    pki_index_free(idx);
    buf_release(&path);
    return rc;
}

int pki_init(const char *dir, const char *rack_id, unsigned days,
             struct err *err)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int fd = -1, rc = 0;

    if (!tls_uuid_valid(rack_id))
        return err_set(err, ERR_INVAL, "rack id %.80s is not a lowercase "
                       "UUID", rack_id ? rack_id : "");
    if (days < 1 || days > PKI_CA_DAYS_MAX)
        return err_set(err, ERR_INVAL, "CA lifetime must be 1..%d days",
                       PKI_CA_DAYS_MAX);
    rc = fsutil_mkdir_p(dir, 0700, err);
    if (rc == 0)
        rc = pki_lock(&fd, dir, err);
    if (rc == 0)
        rc = refuse_existing(dir, err);
    if (rc < 0)
        goto out;
    key = EVP_EC_gen("P-256");
    if (!key) {
        rc = ossl_err(err, ERR_NOMEM, "EC P-256 key");
        goto out;
    }
    rc = ca_cert(&x, key, rack_id, days, err);
    if (rc == 0)
        rc = init_write(dir, rack_id, x, key, err);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    pki_unlock(fd);
    return rc;
}

static int check_req(const struct pki_leaf_req *req, struct err *err)
{
    unsigned char addr[16];
    int rc = tls_id_check(req->role, req->id, err);

    if (rc < 0)
        return rc;
    if (req->days < 1 || req->days > LIMIT_PKI_LEAF_DAYS)
        return err_set(err, ERR_INVAL, "leaf lifetime must be 1..%d days",
                       LIMIT_PKI_LEAF_DAYS);
    if (req->nips > PKI_IPS_MAX)
        return err_set(err, ERR_LIMIT, "more than %d IP addresses",
                       PKI_IPS_MAX);
    for (size_t i = 0; i < req->nips; i++)
        if (inet_pton(AF_INET, req->ips[i], addr) != 1 &&
            inet_pton(AF_INET6, req->ips[i], addr) != 1)
            return err_set(err, ERR_INVAL, "%.80s is not an IP address",
                           req->ips[i]);
    return 0;
}

static int load_ca(X509 **cert, EVP_PKEY **key, const char *dir,
                   struct err *err)
{
    struct buf path = BUF_INIT;
    BIO *b = NULL;
    int rc = join(&path, dir, "ca.pem", err);

    if (rc == 0 && (!(b = BIO_new_file(path.data, "r")) ||
                    !(*cert = PEM_read_bio_X509(b, NULL, NULL, NULL))))
        rc = ossl_err(err, ERR_IO, path.data);
    BIO_free(b);
    b = NULL;
    if (rc == 0)
        rc = join(&path, dir, "ca.key", err);
    if (rc == 0 &&
        (!(b = BIO_new_file(path.data, "r")) ||
         !(*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))))
        rc = ossl_err(err, ERR_IO, path.data);
    if (rc == 0 && X509_check_private_key(*cert, *key) != 1)
        rc = ossl_err(err, ERR_IO, "ca.key does not match ca.pem");
    BIO_free(b);
    buf_release(&path);
    return rc;
}

/* subjectAltName value: the identity URI and the IP addresses. */
static int san_value(struct buf *out, const char *rack_id,
                     const struct pki_leaf_req *req, struct pki_issued *iss,
                     struct err *err)
{
    int rc = tls_identity_uri(iss->uri, sizeof(iss->uri), rack_id, req->role,
                              req->id, err);

    if (rc == 0 && buf_printf(out, "URI:%s", iss->uri) < 0)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < req->nips; i++)
        if (buf_printf(out, ",IP:%s", req->ips[i]) < 0)
            rc = err_set(err, ERR_NOMEM, "out of memory");
    return rc;
}

/* Build and sign the leaf for key; fills iss. */
static int leaf_cert(X509 **out, struct pki_issued *iss, EVP_PKEY *key,
                     X509 *ca, EVP_PKEY *ca_key, const char *rack_id,
                     const struct pki_leaf_req *req, struct err *err)
{
    struct buf cn = BUF_INIT, san = BUF_INIT;
    int rc = 0;

    if (buf_printf(&cn, "%s:%s", tls_role_name(req->role), req->id) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = cert_new(out, key, rack_id, cn.data,
                  pki_now() - PKI_BACKDATE_SECS, req->days, err);
    if (rc == 0 && X509_set_issuer_name(*out, X509_get_subject_name(ca)) != 1)
        rc = ossl_err(err, ERR_NOMEM, "issuer");
    if (rc == 0)
        rc = san_value(&san, rack_id, req, iss, err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_basic_constraints, "critical,CA:FALSE",
                     err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_key_usage, "critical,digitalSignature",
                     err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_ext_key_usage, "serverAuth,clientAuth",
                     err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_subject_key_identifier, "hash", err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_authority_key_identifier, "keyid:always",
                     err);
    if (rc == 0)
        rc = add_ext(*out, ca, NID_subject_alt_name, san.data, err);
    if (rc == 0 && X509_sign(*out, ca_key, EVP_sha256()) <= 0)
        rc = ossl_err(err, ERR_INTERNAL, "sign leaf");
    if (rc == 0)
        rc = tls_cert_serial(iss->serial, *out, err);
    if (rc == 0)
        rc = tls_cert_validity(&iss->not_before, &iss->not_after, *out, err);
out:
    if (rc < 0) {
        X509_free(*out);
        *out = NULL;
    }
    buf_release(&cn);
    buf_release(&san);
    return rc;
}

/* Record x in the index, then write its key and certificate. */
static int issue_write(struct pki_index *idx, const char *dir,
                       const struct pki_leaf_req *req,
                       const struct pki_issued *iss, X509 *x, EVP_PKEY *key,
                       struct err *err)
{
    struct buf cert = BUF_INIT, kpath = BUF_INIT;
    const char *role = tls_role_name(req->role);
    int rc = pki_index_add(idx, iss->serial, req->role, req->id,
                           iss->not_before, iss->not_after, err);

    /* the index first: a recorded certificate that never reached the
     * disk is harmless, an unrecorded one could not be revoked by serial */
    if (rc == 0)
        rc = pki_index_save(idx, dir, err);
    if (rc < 0)
        goto out;
    if ((req->out_cert ? buf_printf(&cert, "%s", req->out_cert)
                       : buf_printf(&cert, "%s/%s-%s.pem", dir, role,
                                    req->id)) < 0 ||
        (req->out_key ? buf_printf(&kpath, "%s", req->out_key)
                      : buf_printf(&kpath, "%s/%s-%s.key", dir, role,
                                   req->id)) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = write_pem(kpath.data, NULL, key, err);
    if (rc == 0)
        rc = write_pem(cert.data, x, NULL, err);
out:
    buf_release(&cert);
    buf_release(&kpath);
    return rc;
}

int pki_issue(struct pki_issued *out, const char *dir,
              const struct pki_leaf_req *req, struct err *err)
{
    struct pki_issued iss;
    struct pki_index *idx = NULL;
    X509 *ca = NULL, *x = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    int fd = -1, rc = check_req(req, err);

    memset(&iss, 0, sizeof(iss));
    if (rc == 0)
        rc = pki_lock(&fd, dir, err);
    if (rc == 0)
        rc = pki_index_load(&idx, dir, err);
    if (rc == 0 && pki_index_id_revoked(idx, req->role, req->id))
        rc = err_set(err, ERR_CONFLICT, "identity %s:%s is revoked",
                     tls_role_name(req->role), req->id);
    if (rc == 0)
        rc = load_ca(&ca, &ca_key, dir, err);
    if (rc < 0)
        goto out;
    key = EVP_EC_gen("P-256");
    if (!key) {
        rc = ossl_err(err, ERR_NOMEM, "EC P-256 key");
        goto out;
    }
    rc = leaf_cert(&x, &iss, key, ca, ca_key, pki_index_rack_id(idx), req,
                   err);
    if (rc == 0)
        rc = issue_write(idx, dir, req, &iss, x, key, err);
    if (rc == 0 && out)
        *out = iss;
out:
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    pki_index_free(idx);
    pki_unlock(fd);
    return rc;
}
