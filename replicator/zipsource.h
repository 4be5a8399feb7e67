/* SPDX-License-Identifier: MPL-2.0 */
/*
 * zipsource: the TUF file provider (common/tuf_provider.h) over a hardened
 * zip reader (common/zipread.h) for a tufaceous repository zip, whose
 * files live under "repo/" in the archive. Lookups are by exact path;
 * nothing is extracted by entry name. One thread at a time.
 */
#ifndef REPLICATOR_ZIPSOURCE_H
#define REPLICATOR_ZIPSOURCE_H

#include "common/tuf_provider.h"

struct err;
struct zipread;
struct zipsource;

/*
 * Wrap zr (borrowed: it must outlive the zipsource and every stream).
 * *out owns the wrapper (zipsource_free). Returns 0, ERR_VERIFY (an entry
 * name is unsafe: absolute, "..", "." or empty segment, backslash) or
 * ERR_NOMEM.
 */
int zipsource_new(struct zipsource **out, struct zipread *zr, struct err *err);

/* Free the wrapper. NULL is a no-op. */
void zipsource_free(struct zipsource *zs);

/* The provider value (borrows zs). */
struct tuf_provider zipsource_provider(struct zipsource *zs);

#endif
