/* SPDX-License-Identifier: MPL-2.0 */
/*
 * store_metrics: the store's Prometheus text exposition (store_metrics()
 * of store.h): write, scrub, trash, ledger and piece manifest counters
 * and per-dataset gauges. Reads a snapshot under st->mu; loop thread;
 * memory only.
 */
#include "sledagent/store/store.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/prom.h"
#include "sledagent/store/store_internal.h"

static const char *const REASONS[WFAIL_COUNT] = {
    "verify", "short_body", "too_big", "io", "aborted", "other",
};

static const char *const DATASETS[STORE_DATASETS] = {"A", "B"};

/* One family with a sample per dataset, labelled dataset="A"|"B". */
static void per_dataset(struct prom *p, const char *name, enum prom_type type,
                        const char *help, const uint64_t v[STORE_DATASETS])
{
    prom_family(p, name, type, help);
    for (int d = 0; d < STORE_DATASETS; d++)
        prom_u64(p, name, (const char *const[]){"dataset", DATASETS[d], NULL},
                 v[d]);
}

/* The counters of st->ctr but the per-dataset ones. */
static void counters(struct prom *p, const struct store_counters *c)
{
    prom_counter(p, "sledagent_store_bytes_written_total",
                 "Artifact bytes written (all copies).", c->bytes_written);
    prom_counter(p, "sledagent_store_writes_ok_total",
                 "Artifact writes that stored a verified copy.",
                 c->writes_ok);
    prom_family(p, "sledagent_store_writes_failed_total", PROM_COUNTER,
                "Artifact writes that failed, by reason.");
    for (int i = 0; i < WFAIL_COUNT; i++)
        prom_u64(p, "sledagent_store_writes_failed_total",
                 (const char *const[]){"reason", REASONS[i], NULL},
                 c->writes_failed[i]);
    prom_counter(p, "sledagent_store_scrub_passes_total",
                 "Completed scrub passes.", c->scrub_passes);
    prom_counter(p, "sledagent_store_scrub_verified_total",
                 "Stored copies re-hashed and found good.",
                 c->scrub_verified);
    prom_counter(p, "sledagent_store_scrub_corrupt_total",
                 "Stored copies found corrupt and quarantined.",
                 c->scrub_corrupt);
    prom_counter(p, "sledagent_store_scrub_repaired_total",
                 "Copies repaired or copied from the other dataset.",
                 c->scrub_repaired);
    prom_counter(p, "sledagent_store_ledger_corrupt_total",
                 "Corrupt or unreadable ledger copies found.",
                 c->ledger_corrupt);
    prom_counter(p, "sledagent_store_trashed_total",
                 "Artifacts moved to trash by the delete reconciler.",
                 c->trashed);
    prom_counter(p, "sledagent_store_restored_total",
                 "Artifacts restored from trash.", c->restored);
    prom_counter(p, "sledagent_store_trash_purged_total",
                 "Trash entries deleted.", c->trash_purged);
    prom_counter(p, "sledagent_store_quarantine_purged_total",
                 "Quarantined copies deleted (retention or cap).",
                 c->quarantine_purged);
    prom_counter(p, "sledagent_store_pieces_hits_total",
                 "Piece manifests answered from memory.", c->pieces_hits);
    prom_counter(p, "sledagent_store_pieces_computed_total",
                 "Piece manifests computed from a stored copy.",
                 c->pieces_computed);
    prom_counter(p, "sledagent_store_pieces_failed_total",
                 "Piece manifest computations that failed.",
                 c->pieces_failed);
}

int store_metrics(const struct store *st, struct buf *out)
{
    struct store_counters c;
    uint64_t healthy[STORE_DATASETS], trash[STORE_DATASETS];
    uint64_t qbytes[STORE_DATASETS], qfiles[STORE_DATASETS];
    uint64_t scrub_bytes, scrub_rate, scrub_pause;
    double scrub_secs;
    size_t artifacts, pc_count, pc_bytes;
    struct prom p;

    pthread_mutex_lock((pthread_mutex_t *)&st->mu);
    c = st->ctr;
    for (int d = 0; d < STORE_DATASETS; d++) {
        healthy[d] = st->ds[d].healthy ? 1 : 0;
        trash[d] = st->ds[d].trash_bytes;
        qbytes[d] = st->ds[d].quarantine_bytes;
        qfiles[d] = st->ds[d].quarantine_files;
    }
    artifacts = st->inv.count;
    scrub_bytes = st->scrub_last_bytes;
    scrub_secs = st->scrub_last_secs;
    scrub_rate = st->opts.scrub_bytes_per_sec;
    scrub_pause = st->opts.scrub_interval_secs;
    pc_count = st->pc_count;
    pc_bytes = st->pc_bytes;
    pthread_mutex_unlock((pthread_mutex_t *)&st->mu);

    prom_init(&p, out);
    counters(&p, &c);
    per_dataset(&p, "sledagent_store_dataset_healthy", PROM_GAUGE,
                "Whether the dataset is usable (1) or not (0).", healthy);
    per_dataset(&p, "sledagent_store_trash_bytes", PROM_GAUGE,
                "Bytes held in trash/.", trash);
    per_dataset(&p, "sledagent_store_quarantine_bytes", PROM_GAUGE,
                "Bytes held in quarantine/ (at its last purge).", qbytes);
    per_dataset(&p, "sledagent_store_quarantine_files", PROM_GAUGE,
                "Files held in quarantine/ (at its last purge).", qfiles);
    per_dataset(&p, "sledagent_store_dataset_io_errors_total", PROM_COUNTER,
                "I/O errors seen on the dataset.", c.ds_errors);
    per_dataset(&p, "sledagent_store_repair_nospace_total", PROM_COUNTER,
                "Local repairs to the dataset skipped: no room under its "
                "quota or free-space reserve (retried each scrub pass).",
                c.repair_nospace);
    prom_gauge(&p, "sledagent_store_artifacts", "Distinct artifacts stored.",
               artifacts);
    prom_gauge(&p, "sledagent_store_scrub_rate_bytes_per_second",
               "Background scrub rate (0 = off).", scrub_rate);
    prom_gauge(&p, "sledagent_store_scrub_pause_seconds",
               "Pause between two scrub passes.", scrub_pause);
    prom_gauge(&p, "sledagent_store_scrub_last_pass_bytes",
               "Bytes of copies re-hashed by the last pass.", scrub_bytes);
    prom_gauge(&p, "sledagent_store_scrub_last_pass_milliseconds",
               "Duration of the last scrub pass.",
               (uint64_t)(scrub_secs * 1000.0));
    prom_gauge(&p, "sledagent_store_pieces_cached",
               "Piece manifests held in memory.", pc_count);
    prom_gauge(&p, "sledagent_store_pieces_cached_bytes",
               "Bytes of the piece manifests held in memory.", pc_bytes);
    return prom_rc(&p);
}
