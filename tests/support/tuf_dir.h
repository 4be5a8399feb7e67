/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_dir: a tuf_provider over plain directories, for the tests:
 * "metadata/X" maps to METADATA_DIR/X and "targets/X" to TARGETS_DIR/X.
 * Aliases serve an exact repository path from another file (to run vectors
 * stored under different names, or to serve a file as another version),
 * and hidden paths answer ERR_NOTFOUND. Paths with ".." or a leading '/'
 * are refused. One thread at a time.
 */
#ifndef TESTS_SUPPORT_TUF_DIR_H
#define TESTS_SUPPORT_TUF_DIR_H

#include "common/tuf_provider.h"

struct err;
struct tuf_dir;

/*
 * New provider over metadata_dir and targets_dir (copied; targets_dir may
 * be NULL: every target is then absent). Returns 0 or ERR_NOMEM.
 */
int tuf_dir_new(struct tuf_dir **out, const char *metadata_dir,
                const char *targets_dir, struct err *err);

void tuf_dir_free(struct tuf_dir *d);

/* Serve repository path repo_path from the file file (both copied).
 * Returns 0, ERR_LIMIT (over 64 aliases) or ERR_NOMEM. */
int tuf_dir_alias(struct tuf_dir *d, const char *repo_path, const char *file,
                  struct err *err);

/* Make repo_path absent. Returns as tuf_dir_alias. */
int tuf_dir_hide(struct tuf_dir *d, const char *repo_path, struct err *err);

/* The provider view of d (borrowed: valid while d lives). */
struct tuf_provider tuf_dir_provider(struct tuf_dir *d);

#endif
