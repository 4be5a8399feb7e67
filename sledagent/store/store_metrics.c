/* SPDX-License-Identifier: MPL-2.0 */
/*
 * store_metrics: the store's Prometheus text exposition (store_metrics()
 * of store.h): write, scrub, trash and ledger counters and per-dataset
 * gauges. Reads a snapshot under st->mu; loop thread; memory only.
 */
#include "sledagent/store/store.h"

#include "common/buf.h"
#include "common/err.h"
#include "sledagent/store/store_internal.h"

static const char *const REASONS[WFAIL_COUNT] = {
    "verify", "short_body", "too_big", "io", "aborted", "other",
};

static int counter(struct buf *out, const char *name, const char *help,
                   uint64_t v)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
                      help, name, name, (unsigned long long)v);
}

int store_metrics(const struct store *st, struct buf *out)
{
    struct store_counters c;
    struct dataset ds[STORE_DATASETS];
    size_t artifacts;
    int rc = 0;

    pthread_mutex_lock((pthread_mutex_t *)&st->mu);
    c = st->ctr;
    for (int d = 0; d < STORE_DATASETS; d++)
        ds[d] = st->ds[d]; /* shallow: only scalars and root are used */
    artifacts = st->inv.count;
    pthread_mutex_unlock((pthread_mutex_t *)&st->mu);

    rc |= counter(out, "sledagent_store_bytes_written_total",
                  "Artifact bytes written (all copies).", c.bytes_written);
    rc |= counter(out, "sledagent_store_writes_ok_total",
                  "Artifact writes that stored a verified copy.",
                  c.writes_ok);
    rc |= buf_printf(out, "# HELP sledagent_store_writes_failed_total "
                          "Artifact writes that failed, by reason.\n"
                          "# TYPE sledagent_store_writes_failed_total "
                          "counter\n");
    for (int i = 0; i < WFAIL_COUNT; i++)
        rc |= buf_printf(out,
                         "sledagent_store_writes_failed_total{reason=\"%s\"} "
                         "%llu\n",
                         REASONS[i], (unsigned long long)c.writes_failed[i]);
    rc |= counter(out, "sledagent_store_scrub_passes_total",
                  "Completed scrub passes.", c.scrub_passes);
    rc |= counter(out, "sledagent_store_scrub_verified_total",
                  "Stored copies re-hashed and found good.",
                  c.scrub_verified);
    rc |= counter(out, "sledagent_store_scrub_corrupt_total",
                  "Stored copies found corrupt and quarantined.",
                  c.scrub_corrupt);
    rc |= counter(out, "sledagent_store_scrub_repaired_total",
                  "Copies repaired or copied from the other dataset.",
                  c.scrub_repaired);
    rc |= counter(out, "sledagent_store_ledger_corrupt_total",
                  "Corrupt or unreadable ledger copies found.",
                  c.ledger_corrupt);
    rc |= counter(out, "sledagent_store_trashed_total",
                  "Artifacts moved to trash by the delete reconciler.",
                  c.trashed);
    rc |= counter(out, "sledagent_store_restored_total",
                  "Artifacts restored from trash.", c.restored);
    rc |= counter(out, "sledagent_store_trash_purged_total",
                  "Trash entries deleted.", c.trash_purged);
    rc |= buf_printf(out, "# HELP sledagent_store_dataset_healthy Whether "
                          "the dataset is usable (1) or not (0).\n"
                          "# TYPE sledagent_store_dataset_healthy gauge\n");
    for (int d = 0; d < STORE_DATASETS; d++)
        rc |= buf_printf(out,
                         "sledagent_store_dataset_healthy{dataset=\"%c\"} "
                         "%d\n",
                         'A' + d, ds[d].healthy ? 1 : 0);
    rc |= buf_printf(out, "# HELP sledagent_store_trash_bytes Bytes held "
                          "in trash/.\n"
                          "# TYPE sledagent_store_trash_bytes gauge\n");
    for (int d = 0; d < STORE_DATASETS; d++)
        rc |= buf_printf(out,
                         "sledagent_store_trash_bytes{dataset=\"%c\"} %llu\n",
                         'A' + d, (unsigned long long)ds[d].trash_bytes);
    rc |= buf_printf(out, "# HELP sledagent_store_dataset_io_errors_total "
                          "I/O errors seen on the dataset.\n"
                          "# TYPE sledagent_store_dataset_io_errors_total "
                          "counter\n");
    for (int d = 0; d < STORE_DATASETS; d++)
        rc |= buf_printf(
            out, "sledagent_store_dataset_io_errors_total{dataset=\"%c\"} "
                 "%llu\n",
            'A' + d, (unsigned long long)c.ds_errors[d]);
    rc |= buf_printf(out, "# HELP sledagent_store_artifacts Distinct "
                          "artifacts stored.\n"
                          "# TYPE sledagent_store_artifacts gauge\n"
                          "sledagent_store_artifacts %zu\n",
                     artifacts);
    return rc ? ERR_NOMEM : 0;
}
