/* SPDX-License-Identifier: MPL-2.0 */
/*
 * startcheck: refuse to start a sledagent that could store nothing, and
 * say loudly when it starts on fewer datasets than it was given.
 */
#include "sledagent/startcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

int startcheck_dataset(const char *dir, struct err *err)
{
    char probe[PATH_MAX];
    struct stat st;
    int fd, n;

    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            return err_set(err, ERR_NOTFOUND, "does not exist");
        return err_set(err, ERR_IO, "cannot stat: %s", strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVAL, "is not a directory");
    n = snprintf(probe, sizeof(probe), "%s/.startcheck.%ld", dir,
                 (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(probe))
        return err_set(err, ERR_INVAL, "path too long");
    fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, ERR_IO, "not writable: %s", strerror(errno));
    close(fd);
    if (unlink(probe) < 0)
        return err_set(err, ERR_IO, "cannot remove a file: %s",
                       strerror(errno));
    return 0;
}

int startcheck_datasets(const char *const *dirs, unsigned n,
                        bool allow_degraded)
{
    unsigned usable = 0;

    for (unsigned i = 0; i < n; i++) {
        struct err err = ERR_INIT;

        if (startcheck_dataset(dirs[i], &err) == 0) {
            usable++;
            continue;
        }
        log_error("dataset_unusable", "{s:s, s:s}", "dataset", dirs[i],
                  "reason", err.msg);
        fprintf(stderr, "sledagent: dataset %s: %s\n", dirs[i], err.msg);
    }
    if (usable == 0 && !allow_degraded) {
        fprintf(stderr,
                "sledagent: no usable dataset, not starting (create the "
                "directories, or give --allow-degraded-start to serve 503 "
                "until one appears)\n");
        return -1;
    }
    if (usable < n) {
        log_error("degraded_start", "{s:i, s:i}", "usable", (int)usable,
                  "given", (int)n);
        fprintf(stderr,
                "sledagent: WARNING: starting degraded on %u of %u "
                "datasets%s\n",
                usable, n,
                usable ? "" : " (every request gets 503 until one is usable)");
    }
    return (int)usable;
}
