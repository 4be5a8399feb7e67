/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ingest: verify, extract, record, hand over (see ingest.h). Order matters
 * (seed 003): the database transaction commits before staging_commit
 * writes the manifest that hands the files to replication; a failure at any
 * step before leaves nothing staged. Worker thread; one database
 * connection per call.
 */
#include "replicator/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonutil.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/pieces.h"
#include "common/tuf_artifacts.h"
#include "common/tuf_meta.h"
#include "common/tuf_repo.h"
#include "common/tuf_target.h"
#include "common/tuf_verify.h"
#include "common/zipread.h"
#include "replicator/db/db.h"
#include "replicator/db/repo_db.h"
#include "replicator/db/trust_db.h"
#include "replicator/staging.h"
#include "replicator/zipsource.h"

/*
 * Write-back of a staged file is started every SINK_WINDOW bytes
 * (sync_file_range, asynchronous), so the disk writes while the next
 * window is read and hashed, instead of all at the fsync; the window
 * before is waited for, which bounds the dirty pages of an extraction to
 * about two windows. The fsyncs themselves are done once every target is
 * written (sync_staged): by then they have little left to wait for, and
 * the disk never idles between two files.
 */
#define SINK_WINDOW (32u * 1024 * 1024)

struct sink {
    int fd;
    uint64_t written;
    uint64_t started; /* write-back started for [0, started) */
    uint64_t waited;  /* and completed for [0, waited) */
    struct pieces_builder *pb; /* the piece manifest, built on the way */
};

/* The piece manifest of one artifact: its canonical document (NULL until
 * computed), manifest hash and piece size (recorded with the artifact). */
struct art_pieces {
    char *doc;
    struct sha256 id;
    uint32_t piece_size;
};

static void sink_writeback(struct sink *s, bool last)
{
    if (!last && s->written - s->started < SINK_WINDOW)
        return;
    /* Errors are ignored here: the fsync in sync_staged reports them. */
    if (s->started > s->waited) {
        sync_file_range(s->fd, (off64_t)s->waited,
                        (off64_t)(s->started - s->waited),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        s->waited = s->started;
    }
    sync_file_range(s->fd, (off64_t)s->started,
                    (off64_t)(s->written - s->started), SYNC_FILE_RANGE_WRITE);
    s->started = s->written;
}

static int sink_write(const void *data, size_t n, void *arg)
{
    struct sink *s = arg;
    const char *p = data;
    int rc = pieces_builder_update(s->pb, data, n);

    if (rc < 0)
        return rc;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ERR_IO;
        p += w;
        n -= (size_t)w;
        s->written += (uint64_t)w;
    }
    sink_writeback(s, false);
    return 0;
}

/* fsync every file in dir (the extracted targets) and dir itself. */
static int sync_staged(const char *dir, struct err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return err_set(err, ERR_IO, "open %s: %s", dir, strerror(errno));
    while (rc == 0 && (e = readdir(d))) {
        int fd;

        if (e->d_name[0] == '.')
            continue;
        fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
            rc = err_set(err, ERR_IO, "fsync %s/%s: %s", dir, e->d_name,
                         strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (rc == 0 && fsync(dirfd(d)) < 0)
        rc = err_set(err, ERR_IO, "fsync %s: %s", dir, strerror(errno));
    closedir(d);
    return rc;
}

/* Verification failures are bad repository contents: always a 400. */
static int as_bad_repo(int rc, struct err *err)
{
    if (rc == ERR_NOTFOUND || rc == ERR_LIMIT || rc == ERR_CONFLICT) {
        if (err)
            err->code = ERR_INVAL;
        return ERR_INVAL;
    }
    return rc;
}

/* The manifest of the bytes the builder saw, for verified target t. */
static int finish_pieces(struct art_pieces *ap, struct pieces_builder *pb,
                         const struct tuf_target *t, struct err *err)
{
    struct pieces m = PIECES_INIT;
    struct buf doc = BUF_INIT;
    int rc = pieces_builder_finish(&m, pb, &t->sha256, err);

    if (rc == 0)
        rc = pieces_encode(&doc, &m, err);
    if (rc == 0 && sha256_digest(&ap->id, doc.data, doc.len) < 0)
        rc = err_set(err, ERR_INTERNAL, "sha256 failed");
    if (rc == 0) {
        ap->piece_size = m.piece_size;
        ap->doc = buf_take(&doc);
    }
    pieces_release(&m);
    buf_release(&doc);
    return rc;
}

/* Stream one target into dir/<sha256 hex>, checking length and hashes and
 * building its piece manifest (pieces of piece_size, or larger for a very
 * large target: pieces_size_for) into *ap on the way, so the artifact is
 * read once; its write-back is started, the caller fsyncs (sync_staged).
 * A target already extracted for another artifact is skipped: ap stays
 * empty (extract_all copies the manifest). */
static int extract_one(struct art_pieces *ap, const struct tuf_provider *p,
                       const struct tuf_repo *r, const struct tuf_artifact *a,
                       const char *dir, uint64_t piece_size, struct err *err)
{
    struct buf path = BUF_INIT, dst = BUF_INIT;
    char hex[SHA256_HEX_LEN + 1];
    struct sink s = {-1, 0, 0, 0, NULL};
    uint32_t psize = 0;
    int rc = tuf_repo_path(&path, r, a->target, err);

    if (rc < 0)
        goto out;
    sha256_to_hex(hex, &a->target->sha256);
    if (buf_printf(&dst, "%s/%s", dir, hex) < 0) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (access(dst.data, F_OK) == 0)
        goto out; /* two artifacts with one target: extracted once */
    if (pieces_size_for(&psize, a->target->length, piece_size) < 0) {
        rc = err_set(err, ERR_LIMIT, "target %s: %llu bytes is too large "
                     "for a piece manifest", a->target->name,
                     (unsigned long long)a->target->length);
        goto out;
    }
    rc = pieces_builder_new(&s.pb, psize, err);
    if (rc < 0)
        goto out;
    s.fd = open(dst.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (s.fd < 0) {
        rc = err_set(err, ERR_IO, "open %s: %s", dst.data, strerror(errno));
        goto out;
    }
    rc = tuf_target_read(p, path.data, a->target, sink_write, &s, err);
    if (rc == ERR_IO && err && !err->msg[0])
        err_set(err, ERR_IO, "write %s: %s", dst.data, strerror(errno));
    if (rc < 0)
        goto out;
    sink_writeback(&s, true);
    rc = finish_pieces(ap, s.pb, a->target, err);
out:
    if (s.fd >= 0)
        close(s.fd);
    pieces_builder_free(s.pb);
    buf_release(&path);
    buf_release(&dst);
    return rc;
}

json_t *ingest_repo_view(const struct sha256 *archive,
                         const char *system_version, const char *file_name,
                         int64_t time_created)
{
    char hex[SHA256_HEX_LEN + 1], when[32];
    time_t t = (time_t)time_created;
    struct tm tm;

    sha256_to_hex(hex, archive);
    if (time_created < 0 || time_created > 253402300799 ||
        !gmtime_r(&t, &tm) ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");
    return json_pack("{s:s, s:s, s:s, s:s}", "hash", hex, "system_version",
                     system_version, "file_name", file_name ? file_name : "",
                     "time_created", when);
}

static json_t *result_json(const struct tuf_artifacts *arts,
                           const struct repo_db_insert_result *ins,
                           const struct sha256 *archive, const char *file_name,
                           int64_t valid_until, int64_t time_created)
{
    char hex[SHA256_HEX_LEN + 1];
    json_t *o, *arr = json_array();

    sha256_to_hex(hex, archive);
    o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:s}", "system_version",
                  tuf_artifacts_system_version(arts), "sha256", hex,
                  "file_name", file_name, "valid_until", (json_int_t)valid_until,
                  "generation", (json_int_t)ins->generation, "already_existed",
                  ins->existed, "repo_id", ins->repo_id);
    if (!o || !arr)
        goto fail;
    for (size_t i = 0; i < tuf_artifacts_count(arts); i++) {
        const struct tuf_artifact *a = tuf_artifacts_get(arts, i);

        sha256_to_hex(hex, &a->target->sha256);
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", a->name,
                               "version", a->version, "kind",
                               a->kind ? a->kind : "", "sha256", hex, "length",
                               (json_int_t)a->target->length)))
            goto fail;
    }
    /* the reference's TufRepoUpload beside our fields (issue 12) */
    if (json_object_set_new(o, "artifacts", arr) == 0 &&
        json_object_set_new(o, "repo", ingest_repo_view(
                                archive, tuf_artifacts_system_version(arts),
                                file_name, time_created)) == 0 &&
        json_object_set_new(o, "status",
                            json_string(ins->existed ? "already_exists"
                                                     : "inserted")) == 0)
        return o;
    arr = NULL;
fail:
    json_decref(arr);
    json_decref(o);
    return NULL;
}

static int load_roots(struct trust_db_list *roots, struct tuf_trust_root **out,
                      const struct ingest_opts *o, struct err *err)
{
    struct db *db = NULL;
    int rc = db_open(&db, o->conninfo, err);

    *out = NULL;
    if (rc < 0)
        goto out;
    rc = trust_db_list(roots, db, err);
    if (rc < 0)
        goto out;
    if (roots->count == 0 && !o->blindly_trust_repo_root) {
        rc = err_set(err, ERR_INVAL,
                     "no trust roots are configured: add the repository's "
                     "root with `replicator trust-root add ROOT.json`");
        goto out;
    }
    *out = mem_calloc(roots->count + 1, sizeof(**out));
    if (!*out) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < roots->count; i++) {
        (*out)[i].data = roots->roots[i].root_json;
        (*out)[i].len = strlen(roots->roots[i].root_json);
    }
out:
    db_close(db);
    return rc;
}

/*
 * Record the repository; *time_created gets its recorded upload time (read
 * back after the commit; the wall clock if that read fails, the record
 * being done).
 */
static int record(struct repo_db_insert_result *ins, int64_t *time_created,
                  const struct ingest_opts *o,
                  const struct tuf_repo *repo, const struct tuf_artifacts *arts,
                  const struct art_pieces *ap, const struct sha256 *archive,
                  const char *file_name, struct err *err)
{
    size_t n = tuf_artifacts_count(arts);
    struct repo_db_artifact *v = mem_calloc(n + 1, sizeof(*v));
    char **tags = mem_calloc(n + 1, sizeof(*tags));
    struct repo_db_new nr;
    struct db *db = NULL;
    int rc = 0;

    if (!v || !tags) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct tuf_artifact *a = tuf_artifacts_get(arts, i);

        v[i].sha256 = a->target->sha256;
        v[i].length = a->target->length;
        v[i].name = a->name;
        v[i].version = a->version;
        v[i].kind = a->kind ? a->kind : "";
        if (a->tags) {
            tags[i] = jsonu_dumps(a->tags);
            if (!tags[i]) {
                rc = err_set(err, ERR_NOMEM, "out of memory");
                goto out;
            }
        }
        v[i].tags_json = tags[i];
        v[i].pieces_manifest = ap[i].doc;
        v[i].pieces_sha256 = ap[i].id;
        v[i].piece_size = ap[i].piece_size;
    }
    memset(&nr, 0, sizeof(nr));
    nr.system_version = tuf_artifacts_system_version(arts);
    nr.archive_sha256 = *archive;
    nr.file_name = file_name;
    nr.valid_until = tuf_repo_valid_until(repo);
    nr.targets_role_version = tuf_repo_targets_version(repo);
    nr.nartifacts = n;
    nr.artifacts = v;
    rc = db_open(&db, o->conninfo, err);
    if (rc == 0)
        rc = repo_db_insert(ins, db, &nr, err);
    if (rc == 0) {
        struct repo_db_repo got;
        struct err gerr = ERR_INIT;

        memset(&got, 0, sizeof(got));
        *time_created = (int64_t)time(NULL);
        if (repo_db_get(&got, db, nr.system_version, &gerr) == 0)
            *time_created = got.time_created;
        repo_db_repo_release(&got);
    }
out:
    db_close(db);
    for (size_t i = 0; tags && i < n; i++)
        mem_free(tags[i]);
    mem_free(tags);
    mem_free(v);
    return rc;
}

static int hand_over(const struct ingest_opts *o,
                     const struct repo_db_insert_result *ins,
                     const struct tuf_artifacts *arts,
                     const struct sha256 *archive, const char *dir,
                     struct err *err)
{
    struct staging_repo m;
    size_t n = tuf_artifacts_count(arts);
    int rc;

    memset(&m, 0, sizeof(m));
    snprintf(m.repo_id, sizeof(m.repo_id), "%s", ins->repo_id);
    m.system_version = (char *)tuf_artifacts_system_version(arts);
    m.archive_sha256 = *archive;
    m.nartifacts = n;
    m.artifacts = mem_calloc(n + 1, sizeof(*m.artifacts));
    if (!m.artifacts)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct tuf_artifact *a = tuf_artifacts_get(arts, i);

        m.artifacts[i].name = (char *)a->name;
        m.artifacts[i].version = (char *)a->version;
        m.artifacts[i].kind = (char *)(a->kind ? a->kind : "");
        m.artifacts[i].sha256 = a->target->sha256;
        m.artifacts[i].length = a->target->length;
    }
    rc = staging_commit(o->staging, &m, dir, err);
    mem_free(m.artifacts); /* strings are borrowed from arts */
    return rc;
}

/*
 * Verifies the repository behind p against the trust roots (or, with
 * trust_repo_root, its own root) and loads its artifacts. A repository
 * that fails is ERR_VERIFY or ERR_INVAL (as_bad_repo).
 */
static int verify(struct tuf_repo **repo, struct tuf_artifacts **arts,
                  const struct tuf_provider *p,
                  const struct tuf_trust_root *tr, size_t nroots,
                  bool trust_repo_root, struct err *err)
{
    struct tuf_policy pol = TUF_POLICY_INIT;
    int rc;

    pol.now = (int64_t)time(NULL);
    pol.trust_repo_root = trust_repo_root;
    rc = tuf_verify_repo(repo, p, tr, nroots, &pol, err);
    if (rc == 0)
        rc = tuf_artifacts_load(arts, *repo, p, err);
    return rc < 0 ? as_bad_repo(rc, err) : 0;
}

/* Makes a fresh staging directory for one upload; *out is its path. */
static int incoming_dir(char **out, const struct ingest_opts *o,
                        struct err *err)
{
    int rc = staging_tmp_path(out, o->staging, "incoming", "", err);

    if (rc < 0)
        return rc;
    if (mkdir(*out, 0750) < 0) {
        rc = err_set(err, ERR_IO, "mkdir %s: %s", *out, strerror(errno));
        mem_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Extract every target into dir; ap[i] gets artifact i's manifest. */
static int extract_all(struct art_pieces *ap, const struct tuf_provider *p,
                       const struct tuf_repo *r,
                       const struct tuf_artifacts *arts, const char *dir,
                       uint64_t piece_size, struct err *err)
{
    size_t n = tuf_artifacts_count(arts);

    for (size_t i = 0; i < n; i++) {
        const struct tuf_artifact *a = tuf_artifacts_get(arts, i);
        int rc = extract_one(&ap[i], p, r, a, dir, piece_size, err);

        if (rc < 0)
            return as_bad_repo(rc, err);
        /* a target shared with an earlier artifact: its manifest */
        for (size_t k = 0; !ap[i].doc && k < i; k++) {
            if (!ap[k].doc || !sha256_eq(&tuf_artifacts_get(arts, k)
                                              ->target->sha256,
                                          &a->target->sha256))
                continue;
            ap[i] = ap[k];
            ap[i].doc = mem_strdup(ap[k].doc);
            if (!ap[i].doc)
                return err_set(err, ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

static void art_pieces_free(struct art_pieces *ap, size_t n)
{
    for (size_t i = 0; ap && i < n; i++)
        mem_free(ap[i].doc);
    mem_free(ap);
}

/* Monotonic milliseconds, for the share of an ingest spent in the
 * database (bench/dbha_ingest_bench.sh reads it from the log). */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* db_ms: the time in the database (trust roots read, repository
 * recorded: connect, transaction, commit, read back); total_ms: the whole
 * ingest of the received zip (verify, extract, sync, record, hand over). */
static void log_ingested(const struct tuf_artifacts *arts,
                         const struct repo_db_insert_result *ins,
                         int64_t db_ms, int64_t total_ms)
{
    log_info("repo_ingested", "{s:s, s:s, s:b, s:I, s:b, s:I, s:I}",
             "system_version", tuf_artifacts_system_version(arts), "repo_id",
             ins->repo_id, "already_existed", ins->existed, "generation",
             (json_int_t)ins->generation, "bumped", ins->bumped, "db_ms",
             (json_int_t)db_ms, "total_ms", (json_int_t)total_ms);
}

int ingest_zip(json_t **out, const struct ingest_opts *o, const char *zip_path,
               const struct sha256 *archive, const char *file_name,
               struct err *err)
{
    struct trust_db_list roots = TRUST_DB_LIST_INIT;
    struct tuf_trust_root *tr = NULL;
    struct zipread *zr = NULL;
    struct zipsource *zs = NULL;
    struct tuf_repo *repo = NULL;
    struct tuf_artifacts *arts = NULL;
    struct tuf_provider p;
    struct repo_db_insert_result ins;
    int64_t time_created = 0;
    struct art_pieces *ap = NULL;
    char *dir = NULL;
    bool dir_made = false;
    int64_t t0 = mono_ms(), db_ms, t1;
    int rc;

    *out = NULL;
    memset(&ins, 0, sizeof(ins));
    rc = load_roots(&roots, &tr, o, err);
    db_ms = mono_ms() - t0;
    if (rc < 0)
        goto out;
    if (o->blindly_trust_repo_root)
        log_warn("blindly_trusting_repo_root",
                 "{s:s}", "message",
                 "--blindly-trust-repo-root: this upload is verified against "
                 "its own root, not an operator trust root");
    rc = zipread_open(&zr, zip_path, err);
    if (rc < 0) {
        rc = as_bad_repo(rc == ERR_VERIFY ? ERR_VERIFY : rc, err);
        goto out;
    }
    rc = zipsource_new(&zs, zr, err);
    if (rc < 0)
        goto out;
    p = zipsource_provider(zs);
    rc = verify(&repo, &arts, &p, tr, roots.count,
                o->blindly_trust_repo_root && roots.count == 0, err);
    if (rc < 0)
        goto out;
    rc = incoming_dir(&dir, o, err);
    if (rc < 0)
        goto out;
    dir_made = true;
    ap = mem_calloc(tuf_artifacts_count(arts) + 1, sizeof(*ap));
    if (!ap) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = extract_all(ap, &p, repo, arts, dir,
                     o->piece_size ? o->piece_size : PIECES_SIZE_DEFAULT, err);
    if (rc < 0)
        goto out;
    /* every staged file durable before the database records them */
    rc = sync_staged(dir, err);
    if (rc < 0)
        goto out;
    t1 = mono_ms();
    rc = record(&ins, &time_created, o, repo, arts, ap, archive, file_name,
                err);
    db_ms += mono_ms() - t1;
    if (rc < 0)
        goto out;
    /* committed: only now may replication see the files */
    rc = hand_over(o, &ins, arts, archive, dir, err);
    if (rc < 0) {
        log_error("staging_failed", "{s:s, s:s}", "repo_id", ins.repo_id,
                  "error", err ? err->msg : "");
        goto out;
    }
    dir_made = false; /* moved under repos/ */
    *out = result_json(arts, &ins, archive, file_name,
                       tuf_repo_valid_until(repo), time_created);
    if (!*out)
        rc = err_set(err, ERR_NOMEM, "out of memory");
    log_ingested(arts, &ins, db_ms, mono_ms() - t0);
out:
    if (dir_made)
        staging_rmrf(dir);
    mem_free(dir);
    if (arts)
        art_pieces_free(ap, tuf_artifacts_count(arts));
    tuf_artifacts_free(arts);
    tuf_repo_free(repo);
    zipsource_free(zs);
    zipread_free(zr);
    mem_free(tr);
    trust_db_list_release(&roots);
    return rc;
}

int ingest_check_root(const char *root_json, size_t len, struct err *err)
{
    struct tuf_meta *m = NULL;
    struct tuf_meta_root *root = NULL;
    int rc = tuf_meta_parse(&m, "root.json", root_json, len, TUF_ROLE_ROOT,
                            false, err);

    if (rc < 0)
        goto out;
    rc = tuf_meta_root_new(&root, m, true, err);
    m = NULL;
    if (rc < 0)
        goto out;
    rc = tuf_meta_check_sigs(root->meta, root, TUF_ROLE_ROOT, err);
out:
    tuf_meta_free(m);
    tuf_meta_root_free(root);
    return rc;
}
