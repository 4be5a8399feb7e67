/* SPDX-License-Identifier: MPL-2.0 */
/*
 * rack_check: convergence polling, progress display and the dataset walk
 * of the invariant checks. See rack_check.h. Main thread only.
 */
#include "sim/rack_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "sim/rack_db.h"
#include "sim/rack_proc.h"
#include "sim/rack_status.h"

#define WANTED_SQL                                                          \
    "SELECT DISTINCT a.sha256 || ' ' || a.length FROM tuf_artifact a "     \
    "JOIN tuf_repo_artifact ra ON ra.tuf_artifact_id = a.id "             \
    "JOIN tuf_repo r ON r.id = ra.tuf_repo_id WHERE r.time_pruned IS NULL"
#define WANTED_MAX_TEXT (1u << 20)
#define BAR_WIDTH 24

int rack_wanted_load(json_t **out, const struct rack *r, struct err *err)
{
    char *text = mem_alloc(WANTED_MAX_TEXT);
    json_t *w = json_object();
    char *line, *save = NULL;
    int rc;

    *out = NULL;
    if (!text || !w) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rack_db_sql(r, WANTED_SQL, text, WANTED_MAX_TEXT, err);
    if (rc < 0)
        goto out;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');

        if (!sp || sp - line != 64)
            continue;
        *sp = '\0';
        json_object_set_new(w, line,
                            json_integer((json_int_t)strtoll(sp + 1, NULL,
                                                             10)));
    }
    *out = w;
    w = NULL;
out:
    json_decref(w);
    mem_free(text);
    return rc;
}

void rack_poll_once(struct rack_poll *p, const struct rack *r,
                    const json_t *wanted, long timeout_ms)
{
    for (size_t k = 0; k < r->nsleds && k < RACK_MAX_SLEDS; k++) {
        json_t *inv = NULL, *list, *c;
        json_int_t g;
        const char *h;

        p->up[k] = false;
        p->held[k] = 0;
        p->extra[k] = 0;
        if (rack_sled_inventory(&inv, r, k, timeout_ms, NULL) < 0)
            continue;
        p->up[k] = true;
        g = json_integer_value(json_object_get(inv, "generation"));
        p->gen[k] = (uint64_t)g;
        if (p->gen[k] < p->max_gen[k]) {
            p->gen_decreases++;
            snprintf(p->gen_note, sizeof(p->gen_note),
                     "sled %zu: generation went from %llu to %llu", k,
                     (unsigned long long)p->max_gen[k],
                     (unsigned long long)p->gen[k]);
        } else {
            p->max_gen[k] = p->gen[k];
        }
        list = json_object_get(inv, "list");
        json_object_foreach(list, h, c) {
            if (!json_object_get(wanted, h))
                p->extra[k]++;
            else if (json_integer_value(c) >= 2)
                p->held[k]++;
        }
        json_decref(inv);
    }
}

bool rack_poll_converged(const struct rack_poll *p, const struct rack *r,
                         size_t nwanted)
{
    for (size_t k = 0; k < r->nsleds && k < RACK_MAX_SLEDS; k++)
        if (!p->up[k] || p->held[k] != nwanted || p->extra[k] != 0)
            return false;
    return true;
}

static size_t total_held(const struct rack_poll *p, const struct rack *r)
{
    size_t n = 0;

    for (size_t k = 0; k < r->nsleds && k < RACK_MAX_SLEDS; k++)
        n += p->held[k];
    return n;
}

void rack_progress(FILE *f, bool tty, int *drawn, const char *step,
                   int64_t elapsed_ms, const struct rack_poll *p,
                   const struct rack *r, size_t nwanted)
{
    size_t k;

    if (!tty) {
        fprintf(f, "[%6.1fs] %s: %zu/%zu artifact copies held;", 
                (double)elapsed_ms / 1000.0, step, total_held(p, r),
                nwanted * r->nsleds);
        for (k = 0; k < r->nsleds; k++)
            fprintf(f, " %zu", p->held[k]);
        fputc('\n', f);
        fflush(f);
        return;
    }
    if (*drawn > 0)
        fprintf(f, "\033[%dA", *drawn); /* back to the top of the grid */
    fprintf(f, "\033[2K%s  %5.1fs  %zu/%zu\n", step,
            (double)elapsed_ms / 1000.0, total_held(p, r),
            nwanted * r->nsleds);
    for (k = 0; k < r->nsleds; k++) {
        size_t fill = nwanted ? p->held[k] * BAR_WIDTH / nwanted : BAR_WIDTH;
        char bar[BAR_WIDTH + 1];

        for (size_t i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(f, "\033[2K  sled %-3zu [%s] %zu/%zu gen %llu%s%s\n", k, bar,
                p->held[k], nwanted, (unsigned long long)p->gen[k],
                p->up[k] ? "" : "  (no answer)",
                p->extra[k] ? "  (+extra)" : "");
    }
    *drawn = (int)r->nsleds + 1;
    fflush(f);
}

static int hash_file(char out[SHA256_HEX_LEN + 1], const char *path)
{
    struct sha256_ctx ctx = SHA256_CTX_INIT;
    struct sha256 h;
    char *chunk = mem_alloc(1u << 20);
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    ssize_t n;

    if (!chunk || fd < 0 || sha256_init(&ctx) < 0) {
        rc = ERR_IO;
        goto out;
    }
    while ((n = read(fd, chunk, 1u << 20)) > 0)
        sha256_update(&ctx, chunk, (size_t)n);
    rc = n < 0 ? ERR_IO : sha256_final(&ctx, &h);
    if (rc == 0)
        sha256_to_hex(out, &h);
out:
    sha256_release(&ctx);
    if (fd >= 0)
        close(fd);
    mem_free(chunk);
    return rc;
}

static size_t check_dataset(FILE *f, const char *ds, const json_t *wanted)
{
    char path[PATH_MAX + 80], hex[SHA256_HEX_LEN + 1];
    size_t problems = 0, found = 0;
    struct dirent *e;
    DIR *d = opendir(ds);

    if (!d) {
        fprintf(f, "  %s: cannot open: %s\n", ds, strerror(errno));
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;

        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "trash") ||
            !strcmp(n, "tmp") || !strcmp(n, "artifact-config.json"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", ds, n);
        if (!sha256_is_hex(n) || !json_object_get(wanted, n)) {
            fprintf(f, "  %s: not a wanted artifact, outside trash/\n", path);
            problems++;
            continue;
        }
        found++;
        if (hash_file(hex, path) < 0) {
            fprintf(f, "  %s: unreadable\n", path);
            problems++;
        } else if (strcmp(hex, n) != 0) {
            fprintf(f, "  %s: content hashes to %s\n", path, hex);
            problems++;
        }
    }
    closedir(d);
    if (found != json_object_size(wanted)) {
        fprintf(f, "  %s: holds %zu of %zu wanted artifacts\n", ds, found,
                json_object_size(wanted));
        problems++;
    }
    return problems;
}

size_t rack_check_datasets(FILE *f, const struct rack *r,
                           const json_t *wanted)
{
    char ds[PATH_MAX];
    size_t problems = 0;

    for (size_t k = 0; k < r->nsleds; k++) {
        for (char w = 'A'; w <= 'B'; w++) {
            rack_path_dataset(ds, sizeof(ds), r, k, w);
            problems += check_dataset(f, ds, wanted);
        }
    }
    return problems;
}
