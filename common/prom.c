/* SPDX-License-Identifier: MPL-2.0 */
/*
 * prom: Prometheus text exposition into a struct buf (see prom.h): family
 * headers once, samples with escaped label values, sticky ERR_NOMEM.
 * Pure apart from the buffer; any thread, one owner.
 */
#include "common/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

void prom_init(struct prom *p, struct buf *out)
{
    p->out = out;
    p->family = NULL;
    p->rc = 0;
}

int prom_rc(const struct prom *p)
{
    return p->rc;
}

/* Records the first failure; every later call then returns it. */
static int check(struct prom *p, int rc)
{
    if (rc < 0 && p->rc == 0)
        p->rc = ERR_NOMEM;
    return p->rc;
}

/* Appends s with '\\', newline and, if quote, '"' escaped. */
static int put_escaped(struct buf *b, const char *s, bool quote)
{
    int rc = 0;

    for (; rc == 0 && *s; s++) {
        if (*s == '\\')
            rc = buf_puts(b, "\\\\");
        else if (*s == '\n')
            rc = buf_puts(b, "\\n");
        else if (quote && *s == '"')
            rc = buf_puts(b, "\\\"");
        else
            rc = buf_putc(b, *s);
    }
    return rc;
}

int prom_family(struct prom *p, const char *name, enum prom_type type,
                const char *help)
{
    int rc = 0;

    if (p->rc < 0 || (p->family && strcmp(p->family, name) == 0))
        return p->rc;
    if (help) {
        rc = buf_printf(p->out, "# HELP %s ", name);
        if (rc == 0)
            rc = put_escaped(p->out, help, false);
        if (rc == 0)
            rc = buf_putc(p->out, '\n');
    }
    if (rc == 0)
        rc = buf_printf(p->out, "# TYPE %s %s\n", name,
                        type == PROM_COUNTER ? "counter" : "gauge");
    if (rc == 0)
        p->family = name;
    return check(p, rc);
}

/* "name{labels} value\n"; value already formatted. */
static int sample(struct prom *p, const char *name, const char *const *labels,
                  const char *value)
{
    int rc;

    if (p->rc < 0)
        return p->rc;
    rc = buf_puts(p->out, name);
    for (size_t i = 0; rc == 0 && labels && labels[i]; i += 2) {
        rc = buf_printf(p->out, "%c%s=\"", i ? ',' : '{', labels[i]);
        if (rc == 0)
            rc = put_escaped(p->out, labels[i + 1], true);
        if (rc == 0)
            rc = buf_putc(p->out, '"');
    }
    if (rc == 0 && labels && labels[0])
        rc = buf_putc(p->out, '}');
    if (rc == 0)
        rc = buf_printf(p->out, " %s\n", value);
    return check(p, rc);
}

int prom_u64(struct prom *p, const char *name, const char *const *labels,
             uint64_t v)
{
    char text[24];

    snprintf(text, sizeof(text), "%" PRIu64, v);
    return sample(p, name, labels, text);
}

int prom_double(struct prom *p, const char *name, const char *const *labels,
                double v)
{
    char text[40];

    if (isnan(v)) {
        snprintf(text, sizeof(text), "NaN");
    } else if (isinf(v)) {
        snprintf(text, sizeof(text), "%cInf", v > 0 ? '+' : '-');
    } else {
        snprintf(text, sizeof(text), "%.15g", v);
        if (strtod(text, NULL) != v)
            snprintf(text, sizeof(text), "%.17g", v);
    }
    return sample(p, name, labels, text);
}

int prom_counter(struct prom *p, const char *name, const char *help,
                 uint64_t v)
{
    prom_family(p, name, PROM_COUNTER, help);
    return prom_u64(p, name, NULL, v);
}

int prom_gauge(struct prom *p, const char *name, const char *help,
               uint64_t v)
{
    prom_family(p, name, PROM_GAUGE, help);
    return prom_u64(p, name, NULL, v);
}
