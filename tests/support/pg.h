/* SPDX-License-Identifier: MPL-2.0 */
/*
 * pg: PostgreSQL for integration tests. pg_start() starts one private
 * server per test binary (sim/pgembed.h), or, when
 * $RACKDEPOT_TEST_DB holds a libpq URL, uses that server instead;
 * pg_create_db() gives every test its own database so tests are
 * independent; pg_stop() stops the private server and removes its
 * directory (or drops the databases created on the external server).
 * Test main thread only.
 */
#ifndef TESTS_SUPPORT_PG_H
#define TESTS_SUPPORT_PG_H

struct err;
struct pg;

/* Start (or attach). Errors: see pgembed_start; ERR_DB for the external
 * server. */
int pg_start(struct pg **out, struct err *err);

/*
 * Create a database whose name starts with prefix ([a-z0-9_], made unique
 * by the harness) and return its libpq conninfo in *out (mem_free it).
 * Errors: ERR_INVAL, ERR_DB, ERR_NOMEM.
 */
int pg_create_db(char **out, struct pg *h, const char *prefix,
                 struct err *err);

/*
 * Stop the private server (fast shutdown, directory kept) and start it
 * again: a database restart for failover tests. Errors: ERR_UNAVAIL (an
 * external server: not ours to stop), ERR_IO.
 */
int pg_halt(struct pg *h, struct err *err);
int pg_resume(struct pg *h, struct err *err);

/* Stop/detach and free. NULL is a no-op. */
void pg_stop(struct pg *h);

#endif
