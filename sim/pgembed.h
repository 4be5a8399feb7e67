/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pgembed: a private PostgreSQL server for tests and rack-sim: initdb into
 * a fresh directory under a root (default /tmp/rackdepot-pg), listening
 * only on a Unix socket in that directory, fsync off, started with
 * pg_ctl -w and stopped with -m immediate; the directory is removed on
 * stop. When running as root the server binaries run as the `postgres`
 * user (initdb and postgres refuse root). Binaries come from the newest
 * /usr/lib/postgresql/N/bin, or $RACKDEPOT_PG_BINDIR. Clusters left by a
 * process that died (owner pid recorded in the directory) are stopped and
 * removed by the next pgembed_start under the same root.
 * Not thread-safe: one thread manages a given server.
 */
#ifndef SIM_PGEMBED_H
#define SIM_PGEMBED_H

struct err;
struct pgembed;

/*
 * Create and start a cluster under root (NULL: $RACKDEPOT_PG_ROOT, then
 * /tmp/rackdepot-pg). On success *out owns it (pgembed_stop). Errors:
 * ERR_UNAVAIL (no server binaries, no postgres user when root), ERR_IO
 * (directory or process trouble; initdb/pg_ctl failure with the tail of
 * its log), ERR_NOMEM.
 */
int pgembed_start(struct pgembed **out, const char *root, struct err *err);

/*
 * Stop the server (immediate), remove its directory and free pg. NULL is
 * a no-op.
 */
void pgembed_stop(struct pgembed *pg);

/*
 * Stop the server (fast shutdown: sessions get 57P01) keeping its
 * directory, and start it again (waiting until it accepts connections):
 * a database restart for failover tests. Errors: ERR_IO (pg_ctl failed).
 */
int pgembed_halt(struct pgembed *pg, struct err *err);
int pgembed_resume(struct pgembed *pg, struct err *err);

/* Directory holding the socket (borrowed). */
const char *pgembed_socket_dir(const struct pgembed *pg);

/*
 * libpq conninfo for database dbname on this server, as a new string
 * (mem_free it). Errors: ERR_NOMEM.
 */
int pgembed_conninfo(char **out, const struct pgembed *pg, const char *dbname,
                     struct err *err);

/*
 * CREATE DATABASE name (name: [a-z0-9_]{1,63}, checked: identifiers
 * cannot be parameters). Errors: ERR_INVAL, ERR_DB, ERR_NOMEM.
 */
int pgembed_create_db(struct pgembed *pg, const char *name, struct err *err);

/* Stop and remove the clusters under root whose owner process is gone. */
void pgembed_reap_stale(const char *root);

#endif
