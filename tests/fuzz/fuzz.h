/* fuzz.h: what every fuzz target shares
 *
 * FUZZ_NAME (defined by the target before including this) names it in
 * messages and in its scratch directory.
 */
#ifndef KEEL_FUZZ_H
#define KEEL_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/keel.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A log sink that drops everything: refusals are the normal case. */
static inline void
fuzz_quiet(void *opaque, enum keel_log_level level, const char *func,
           const char *msg)
{
}

/* A broken invariant aborts, which libFuzzer and replay.c report. */
static inline void
fuzz_check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz-%s: invariant broken: %s\n", FUZZ_NAME, what);
    abort();
}

/* A whole file (a round trip's output), NUL-terminated; free() it. Any
 * failure aborts: the file was just written by the code under test. */
static inline char *
fuzz_slurp(const char *file)
{
    struct stat st;
    char *buf;
    int fd = open(file, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0)
        abort();
    buf = malloc((size_t)st.st_size + 1);
    if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
        abort();
    buf[st.st_size] = '\0';
    close(fd);
    return buf;
}

static char fuzz_dir[64];

/* Removes the scratch directory and the files in it, at exit. */
static inline void
fuzz_dir_remove(void)
{
    struct dirent *de;
    char path[384];
    DIR *d = opendir(fuzz_dir);

    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", fuzz_dir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(fuzz_dir);
}

/* A scratch directory for round trips, made on first use. */
static inline const char *
fuzz_scratch_dir(void)
{
    const char *tmp = getenv("TMPDIR");

    if (fuzz_dir[0])
        return fuzz_dir;
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/keel-fuzz-%s.XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp", FUZZ_NAME);
    if (!mkdtemp(fuzz_dir)) {
        perror("mkdtemp");
        abort();
    }
    atexit(fuzz_dir_remove);
    return fuzz_dir;
}

#endif
