/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tls_revfile: load a revocation set from a JSON file (a list of hex
 * serials and "<role>:<id>" identities). Any thread.
 */
#ifndef COMMON_TLS_REVFILE_H
#define COMMON_TLS_REVFILE_H

#include <stdbool.h>

#include <jansson.h>

struct err;
struct tls_revoked;

/*
 * Read path into a new set (*out, tls_revoked_free). Returns 0, ERR_IO
 * (unreadable, not JSON), ERR_INVAL (not a list of serials and role:id
 * strings), ERR_LIMIT or ERR_NOMEM; err names the file and entry.
 */
int tls_revoked_load_file(struct tls_revoked **out, const char *path,
                          struct err *err);

/*
 * A JSON array of entries (the file's form) into a new set (*out,
 * tls_revoked_free). With strict, an entry given twice (after
 * normalisation) is refused too. Returns 0, ERR_INVAL (not an array, an
 * entry that is not a string, a bad serial or identity, a duplicate;
 * err names the entry), ERR_LIMIT (over LIMIT_TLS_REVOKED) or ERR_NOMEM.
 */
int tls_revoked_from_json(struct tls_revoked **out, const json_t *arr,
                          bool strict, struct err *err);

/* The set as a new JSON array of entries in sorted order; NULL on
 * ERR_NOMEM. */
json_t *tls_revoked_to_json(const struct tls_revoked *set);

#endif
