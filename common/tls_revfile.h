/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_revfile: load a revocation set from a JSON file (a list of hex
 * serials and "<role>:<id>" identities). Any thread.
 */
#ifndef COMMON_TLS_REVFILE_H
#define COMMON_TLS_REVFILE_H

struct err;
struct tls_revoked;

/*
 * Read path into a new set (*out, tls_revoked_free). Returns 0, ERR_IO
 * (unreadable, not JSON), ERR_INVAL (not a list of serials and role:id
 * strings), ERR_LIMIT or ERR_NOMEM; err names the file and entry.
 */
int tls_revoked_load_file(struct tls_revoked **out, const char *path,
                          struct err *err);

#endif
