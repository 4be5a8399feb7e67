/* SPDX-License-Identifier: MPL-2.0 */
/*
 * mkrepo_main: the tuf-mkrepo command line (DESIGN.md section 9). Parses
 * the options, gathers the artifacts, builds and signs the metadata, writes
 * the zip, and prints one summary line. Exit codes: 0 success, 1 the
 * operation failed, 2 usage error.
 */
#include "sim/mkrepo_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tuf-mkrepo --out ZIP --system-version V\n"
            "         (--from-dir DIR | --random COUNT:BYTES)\n"
            "         [--key FILE | --generate-key FILE]\n"
            "         [--consistent-snapshot on|off] [--artifacts-doc v1|v2]\n"
            "         [--expires RFC3339] [--break VARIANT]\n"
            "         [--print-root FILE] [--seed N] [--artifact-version V]\n"
            "         [--meta-version N] [--deflate-metadata] [--tmpdir DIR]\n"
            "       tuf-mkrepo --version\n"
            "\n"
            "Builds a signed TUF repository zip in tufaceous's layout.\n"
            "  --random COUNT:BYTES  COUNT artifacts of BYTES pseudo-random\n"
            "                        bytes; bytes and names depend only on\n"
            "                        --seed (default: from --system-version)\n"
            "  --key FILE            sign with this ed25519 PKCS#8 PEM key\n"
            "  --generate-key FILE   make a key, save it there, sign with it\n"
            "                        (default: a fresh key per run)\n"
            "  --meta-version N      timestamp/snapshot/targets version\n"
            "                        (default: the current unix time)\n"
            "  --print-root FILE     also write 1.root.json to FILE\n"
            "  --tmpdir DIR          where random artifacts are generated\n"
            "                        (default: the directory of --out)\n"
            "\n"
            "--break VARIANT (each breaks exactly one thing):\n");
    mkrepo_break_help(f);
}

static int parse_expires(char out[32], const char *s)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        return ERR_INVAL;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

static void format_time(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_random(struct mkrepo_opts *o, const char *s)
{
    char count[32];
    const char *colon = strchr(s, ':');

    if (!colon || (size_t)(colon - s) >= sizeof(count))
        return ERR_INVAL;
    memcpy(count, s, (size_t)(colon - s));
    count[colon - s] = '\0';
    if (parse_u64_range(&o->random_count, count, 1,
                        LIMIT_ARTIFACTS_PER_REPO - 1) < 0 ||
        parse_u64(&o->random_bytes, colon + 1) < 0)
        return ERR_INVAL;
    return 0;
}

enum {
    OPT_OUT = 256, OPT_SYSVER, OPT_FROM_DIR, OPT_RANDOM, OPT_KEY, OPT_GENKEY,
    OPT_CONSISTENT, OPT_DOC, OPT_EXPIRES, OPT_BREAK, OPT_PRINT_ROOT, OPT_SEED,
    OPT_ARTVER, OPT_METAVER, OPT_DEFLATE, OPT_TMPDIR, OPT_HELP
};

static const struct option longopts[] = {
    {"out", required_argument, NULL, OPT_OUT},
    {"system-version", required_argument, NULL, OPT_SYSVER},
    {"from-dir", required_argument, NULL, OPT_FROM_DIR},
    {"random", required_argument, NULL, OPT_RANDOM},
    {"key", required_argument, NULL, OPT_KEY},
    {"generate-key", required_argument, NULL, OPT_GENKEY},
    {"consistent-snapshot", required_argument, NULL, OPT_CONSISTENT},
    {"artifacts-doc", required_argument, NULL, OPT_DOC},
    {"expires", required_argument, NULL, OPT_EXPIRES},
    {"break", required_argument, NULL, OPT_BREAK},
    {"print-root", required_argument, NULL, OPT_PRINT_ROOT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"artifact-version", required_argument, NULL, OPT_ARTVER},
    {"meta-version", required_argument, NULL, OPT_METAVER},
    {"deflate-metadata", no_argument, NULL, OPT_DEFLATE},
    {"tmpdir", required_argument, NULL, OPT_TMPDIR},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* Checks the options together and fills in the defaults. 0 or ERR_INVAL. */
static int finish_args(struct mkrepo_opts *o, bool have_expires,
                       bool have_version, struct err *err)
{
    if (!o->out || !o->system_version)
        return err_set(err, ERR_INVAL,
                       "--out and --system-version are required");
    if (!o->from_dir == !o->random_count)
        return err_set(err, ERR_INVAL,
                       "exactly one of --from-dir and --random is required");
    if (o->key_file && o->generate_key_file)
        return err_set(err, ERR_INVAL,
                       "--key and --generate-key exclude each other");
    if (!o->artifact_version)
        o->artifact_version = o->system_version;
    if (!have_version)
        o->version = (int64_t)time(NULL);
    if (o->brk == MKREPO_BREAK_EXPIRED)
        format_time(o->expires, time(NULL) - 86400);
    else if (!have_expires)
        format_time(o->expires, time(NULL) + 7 * 86400);
    return 0;
}

/* Fill r->o from argv. Returns 0, 1 (--help shown) or ERR_INVAL. */
static int parse_args(struct mkrepo *r, const char **tmpdir, int argc,
                      char **argv, struct err *err)
{
    struct mkrepo_opts *o = &r->o;
    bool have_expires = false, have_version = false;
    uint64_t u;
    int c;

    o->consistent = true;
    o->artifacts_doc = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OUT: o->out = optarg; break;
        case OPT_SYSVER: o->system_version = optarg; break;
        case OPT_FROM_DIR: o->from_dir = optarg; break;
        case OPT_RANDOM:
            if (parse_random(o, optarg) < 0)
                return err_set(err, ERR_INVAL,
                               "--random wants COUNT:BYTES with 1 <= COUNT "
                               "< %u, got %s",
                               LIMIT_ARTIFACTS_PER_REPO, optarg);
            break;
        case OPT_KEY: o->key_file = optarg; break;
        case OPT_GENKEY: o->generate_key_file = optarg; break;
        case OPT_CONSISTENT:
            if (strcmp(optarg, "on") && strcmp(optarg, "off"))
                return err_set(err, ERR_INVAL,
                               "--consistent-snapshot wants on or off");
            o->consistent = strcmp(optarg, "on") == 0;
            break;
        case OPT_DOC:
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
                return err_set(err, ERR_INVAL, "--artifacts-doc wants v1|v2");
            o->artifacts_doc = optarg[1] - '0';
            break;
        case OPT_EXPIRES:
            if (parse_expires(o->expires, optarg) < 0)
                return err_set(err, ERR_INVAL,
                               "--expires wants YYYY-MM-DDTHH:MM:SSZ, got %s",
                               optarg);
            have_expires = true;
            break;
        case OPT_BREAK:
            if (mkrepo_break_parse(&o->brk, optarg, err) < 0)
                return ERR_INVAL;
            break;
        case OPT_PRINT_ROOT: o->print_root = optarg; break;
        case OPT_SEED:
            if (parse_u64(&o->seed, optarg) < 0)
                return err_set(err, ERR_INVAL, "--seed wants a number");
            o->have_seed = true;
            break;
        case OPT_ARTVER: o->artifact_version = optarg; break;
        case OPT_METAVER:
            if (parse_u64_range(&u, optarg, 1, INT64_MAX / 2) < 0)
                return err_set(err, ERR_INVAL, "--meta-version wants N >= 1");
            o->version = (int64_t)u;
            have_version = true;
            break;
        case OPT_DEFLATE: o->deflate_meta = true; break;
        case OPT_TMPDIR: *tmpdir = optarg; break;
        case OPT_HELP: return 1;
        default: return err_set(err, ERR_INVAL, "unknown option");
        }
    }
    if (optind != argc)
        return err_set(err, ERR_INVAL, "unexpected argument %s", argv[optind]);
    return finish_args(o, have_expires, have_version, err);
}

static int make_tmpdir(struct mkrepo *r, const char *tmpdir, struct err *err)
{
    const char *slash = strrchr(r->o.out, '/');
    int n;

    if (tmpdir)
        n = snprintf(r->tmpdir, sizeof(r->tmpdir), "%s/.tuf-mkrepo.XXXXXX",
                     tmpdir);
    else
        n = snprintf(r->tmpdir, sizeof(r->tmpdir), "%.*s.tuf-mkrepo.XXXXXX",
                     slash ? (int)(slash - r->o.out + 1) : 0, r->o.out);
    if (n < 0 || (size_t)n >= sizeof(r->tmpdir))
        return err_set(err, ERR_INVAL, "temp directory path too long");
    if (!mkdtemp(r->tmpdir)) {
        r->tmpdir[0] = '\0';
        return err_set(err, ERR_IO, "mkdtemp: %m");
    }
    return 0;
}

static int write_file(const char *path, const struct buf *b, struct err *err)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (!f)
        return err_set(err, ERR_IO, "open %s: %m", path);
    if (fwrite(b->data, 1, b->len, f) != b->len)
        rc = err_set(err, ERR_IO, "write %s: %m", path);
    if (fclose(f) != 0 && rc == 0)
        rc = err_set(err, ERR_IO, "close %s: %m", path);
    return rc;
}

static int run(struct mkrepo *r, struct err *err)
{
    int rc;

    if (r->o.key_file)
        rc = mkrepo_keys_load(&r->key, r->o.key_file, err);
    else
        rc = mkrepo_keys_generate(&r->key, err);
    if (rc == 0 && r->o.generate_key_file)
        rc = mkrepo_keys_save(&r->key, r->o.generate_key_file, err);
    if (rc == 0 && r->o.brk == MKREPO_BREAK_WRONG_KEY)
        rc = mkrepo_keys_generate(&r->other, err);
    if (rc < 0)
        return rc;
    rc = r->o.from_dir ? mkrepo_artifacts_from_dir(r, err)
                       : mkrepo_artifacts_random(r, err);
    if (rc == 0 && r->o.brk != MKREPO_BREAK_MISSING_ARTIFACTS_DOC)
        rc = mkrepo_artifacts_doc(r, err);
    if (rc == 0)
        rc = mkrepo_meta_build(r, err);
    if (rc == 0)
        rc = mkrepo_zip_write(r, err);
    if (rc == 0 && r->o.print_root)
        rc = write_file(r->o.print_root, &r->root, err);
    return rc;
}

int main(int argc, char **argv)
{
    struct mkrepo r;
    struct err err = ERR_INIT;
    const char *tmpdir = NULL;
    int rc, status = 1;

    if (rd_version_flag("tuf-mkrepo", argc, argv))
        return 0;
    mem_init();
    memset(&r, 0, sizeof(r));
    rc = parse_args(&r, &tmpdir, argc, argv, &err);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "tuf-mkrepo: %s\n", err.msg);
        usage(stderr);
        return 2;
    }
    rc = make_tmpdir(&r, tmpdir, &err);
    if (rc == 0)
        rc = run(&r, &err);
    if (rc < 0) {
        fprintf(stderr, "tuf-mkrepo: %s\n", err.msg);
    } else {
        printf("tuf-mkrepo: wrote %s: system_version %s, %zu targets, "
               "version %lld, keyid %s, break %s\n",
               r.o.out, r.o.system_version, r.ntargets,
               (long long)r.o.version, r.key.keyid,
               mkrepo_break_name(r.o.brk));
        status = 0;
    }
    mkrepo_artifacts_release(&r);
    if (r.tmpdir[0])
        rmdir(r.tmpdir);
    mkrepo_keys_release(&r.key);
    mkrepo_keys_release(&r.other);
    buf_release(&r.root);
    buf_release(&r.timestamp);
    buf_release(&r.snapshot);
    buf_release(&r.targets_json);
    buf_release(&r.root2);
    return status;
}
