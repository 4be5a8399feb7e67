/* SPDX-License-Identifier: MPL-2.0 */
/*
 * progress: the upload progress bar or progress lines (see progress.h).
 * Main thread.
 */
#include "replicator/progress.h"

#include <unistd.h>

#define PROGRESS_BAR_WIDTH 40

void progress_init(struct progress *p, FILE *out, const char *label)
{
    p->out = out;
    p->tty = isatty(fileno(out)) != 0;
    p->label = label;
    p->last = 0;
    p->last_pct = -1;
    p->done = false;
}

void progress_update(struct progress *p, uint64_t now, uint64_t total)
{
    static const char hashes[] = "########################################";
    time_t t = time(NULL);
    int pct;

    if (total == 0 || p->done)
        return;
    if (now > total)
        now = total;
    pct = (int)(now * 100 / total);
    if (pct == p->last_pct)
        return;
    if (p->tty) {
        int w = pct * PROGRESS_BAR_WIDTH / 100;

        fprintf(p->out, "\r%s [%.*s%*s] %3d%% %llu/%llu bytes", p->label, w,
                hashes, PROGRESS_BAR_WIDTH - w, "", pct,
                (unsigned long long)now, (unsigned long long)total);
        fflush(p->out);
    } else if (t != p->last || pct == 100) {
        fprintf(p->out, "%s: %llu/%llu bytes (%d%%)\n", p->label,
                (unsigned long long)now, (unsigned long long)total, pct);
        p->last = t;
    } else {
        return; /* plain lines: at most one a second */
    }
    p->last_pct = pct;
    p->done = pct == 100;
}

void progress_finish(struct progress *p)
{
    if (p->tty && p->last_pct >= 0)
        fputs("\n", p->out);
    p->last_pct = -1;
}
