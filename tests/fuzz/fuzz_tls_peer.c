/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_tls_peer: harness for what common/tls_peer.c reads from a peer: the
 * identity URI (tls_identity_parse), revocation serials
 * (tls_revoked_add_serial) and, for inputs that start like DER, a whole
 * certificate (d2i_X509, then tls_peer_check). Properties: an accepted
 * URI is rebuilt exactly by tls_identity_uri from its parts, with our rack
 * id and a valid id for its role; an accepted serial is then found by
 * tls_revoked_check, in upper case too. Single-threaded.
 */
#include "tests/fuzz/fuzz.h"

#include <ctype.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "common/tls.h"

#define RACK "6f1e0c1e-5a5b-4c1d-9e2f-0123456789ab"

static void check_uri(const char *s)
{
    struct tls_identity id;
    char back[TLS_URI_MAX];

    if (tls_identity_parse(&id, s, RACK, NULL) < 0)
        return;
    FUZZ_CHECK(strcmp(id.rack_id, RACK) == 0);
    FUZZ_CHECK(tls_id_check(id.role, id.id, NULL) == 0);
    FUZZ_CHECK(tls_identity_uri(back, sizeof(back), id.rack_id, id.role,
                                id.id, NULL) == 0);
    FUZZ_CHECK(strcmp(back, s) == 0);
}

static void check_serial(char *s)
{
    struct tls_revoked *set = NULL;

    if (tls_revoked_new(&set, NULL) < 0)
        return;
    if (tls_revoked_add_serial(set, s, NULL) == 0) {
        FUZZ_CHECK(tls_revoked_count(set) == 1);
        FUZZ_CHECK(tls_revoked_check(set, s, NULL, NULL) == ERR_VERIFY);
        for (char *p = s; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        FUZZ_CHECK(tls_revoked_check(set, s, NULL, NULL) == ERR_VERIFY);
    }
    tls_revoked_free(set);
}

static void check_der(const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)size);
    struct tls_identity id;
    char serial[TLS_SERIAL_HEX_MAX + 1];
    int64_t nb, na;

    if (!x)
        return;
    if (tls_peer_check(&id, x, RACK, NULL, NULL) == 0)
        FUZZ_CHECK(tls_id_check(id.role, id.id, NULL) == 0);
    if (tls_cert_serial(serial, x, NULL) == 0)
        FUZZ_CHECK(strlen(serial) > 0 && strlen(serial) % 2 == 0);
    tls_cert_validity(&nb, &na, x, NULL);
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    mem_init();
    if (size > 0 && data[0] == 0x30)
        check_der(data, size);
    s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    check_uri(s);
    check_serial(s);
    mem_free(s);
    return 0;
}
