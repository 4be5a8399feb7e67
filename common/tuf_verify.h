/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_verify: the TUF client workflow for one offline repository
 * (notes/tuf.md 1.7): load a trusted root (self-signed), walk the root
 * rotation chain N+1 exactly, then timestamp, snapshot and targets, with the
 * exact version checks, length and hash checks of each metadata file, and
 * delegations refused unless empty. Several trust roots are tried in order:
 * a verification failure (ERR_VERIFY) moves on to the next one, any other
 * error is fatal at once. Target files are not read here (see tuf_target).
 * Reentrant; any thread.
 */
#ifndef COMMON_TUF_VERIFY_H
#define COMMON_TUF_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct tuf_provider;
struct tuf_repo;

struct tuf_policy {
    bool enforce_expiry;  /* off for uploads (omicron); valid_until is kept */
    int64_t now;          /* reference time (Unix seconds) for expiry */
    bool keyid_check;     /* keyid == sha256(cjson(key)); on by default */
    bool lenient_dates;   /* accept RFC 3339 fractions and offsets */
    /* With no trust roots given, trust metadata/1.root.json of the repo
     * itself (tests, demo, technician flows only). */
    bool trust_repo_root;
    /* Interop only (sigstore vectors): accept targets metadata with
     * non-empty delegations without verifying the delegated roles; only
     * the top-level targets are ever exposed. Off: such repos are refused. */
    bool ignore_delegations;
};

#define TUF_POLICY_INIT {false, 0, true, false, false, false}

/* A trusted root.json document (bytes borrowed for the call). */
struct tuf_trust_root {
    const char *data;
    size_t len;
};

/*
 * Verify the repository behind p against roots[0..nroots), tried in order.
 * On success *out is a new repository (tuf_repo_free). Every failure sets
 * err to one line naming the file and the check, e.g. "1.targets.json:
 * signature threshold not met (0 of 1 valid signatures)"; when several
 * roots all fail with ERR_VERIFY the message names the last failure.
 * Returns 0; ERR_VERIFY (signature, threshold, keyid, version, length,
 * hash, expiry, _type); ERR_INVAL (malformed JSON or metadata, no trust
 * roots, non-empty delegations); ERR_NOTFOUND (a required metadata file is
 * missing); ERR_LIMIT (metadata over LIMIT_TUF_METADATA, chain over
 * LIMIT_TUF_ROOT_CHAIN); the provider's ERR_IO; ERR_NOMEM.
 */
int tuf_verify_repo(struct tuf_repo **out, const struct tuf_provider *p,
                    const struct tuf_trust_root *roots, size_t nroots,
                    const struct tuf_policy *pol, struct err *err);

#endif
