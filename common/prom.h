/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prom: the one writer of Prometheus text exposition (format 0.0.4) into a
 * struct buf. A family's "# HELP" (optional) and "# TYPE" lines are written
 * once, by prom_family(); samples follow with prom_u64() or prom_double(),
 * labels given as a NULL-terminated list of name, value pairs whose values
 * are escaped (\\ \" and newline). Errors are sticky: after the first
 * ERR_NOMEM every call is a no-op returning it, so a caller may write a
 * whole page and check once. Not thread-safe; one owner, like its buf.
 *
 *     struct prom p;
 *
 *     prom_init(&p, out);
 *     prom_family(&p, "x_writes_failed_total", PROM_COUNTER, "By reason.");
 *     for (i = 0; i < n; i++)
 *         prom_u64(&p, "x_writes_failed_total",
 *                  (const char *const[]){"reason", names[i], NULL}, v[i]);
 *     prom_counter(&p, "x_bytes_total", "Bytes written.", bytes);
 *     return prom_rc(&p);
 */
#ifndef COMMON_PROM_H
#define COMMON_PROM_H

#include <stdint.h>

struct buf;

enum prom_type {
    PROM_COUNTER,
    PROM_GAUGE,
};

struct prom {
    struct buf *out;    /* borrowed */
    const char *family; /* name of the last header written (borrowed) */
    int rc;             /* 0, or the first error */
};

/* Start writing to out (appended to; may already hold text). */
void prom_init(struct prom *p, struct buf *out);

/*
 * Open family name: "# HELP name help" (only if help is not NULL; '\\' and
 * newline escaped) and "# TYPE name counter|gauge". A family opened last
 * already is not written again. name must outlive p's use.
 * Returns 0 or ERR_NOMEM (sticky).
 */
int prom_family(struct prom *p, const char *name, enum prom_type type,
                const char *help);

/*
 * One sample "name{l1="v1",...} value". labels: NULL, or label name,
 * value, ..., NULL (values escaped). prom_double writes integers as
 * integers, NaN and +Inf/-Inf by name, else the shortest %g form that
 * reads back exactly. Returns 0 or ERR_NOMEM (sticky).
 */
int prom_u64(struct prom *p, const char *name, const char *const *labels,
             uint64_t v);
int prom_double(struct prom *p, const char *name, const char *const *labels,
                double v);

/* prom_family and one unlabelled sample of a counter or a gauge. */
int prom_counter(struct prom *p, const char *name, const char *help,
                 uint64_t v);
int prom_gauge(struct prom *p, const char *name, const char *help,
               uint64_t v);

/* 0, or the first error of any call since prom_init. */
int prom_rc(const struct prom *p);

#endif
