/* replay.c: runs saved inputs through a fuzz target, without libFuzzer
 *
 * make check links each tests/fuzz/fuzz-NAME.c with this main() into
 * tests/fuzz/replay-NAME and runs it over tests/data/fuzz/NAME/ (see
 * run-replay), so every build, whatever its compiler and sanitizers,
 * replays the seeds and every crash once found. An argument that is a
 * directory stands for the regular files in it, in name order, dot-files
 * skipped, not recursing; any other argument is one input file. Each
 * input is passed in a buffer of exactly its size, as libFuzzer does, so
 * ASan sees a read past the end. A crash (the target's abort() or a
 * sanitizer's report) ends the process, which fails the test; the name
 * of the input is on stderr just before it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads file whole into *buf_r (malloc'd, exactly *len_r bytes; not NULL
 * even when empty). Returns 0 or -1 after saying why. */
static int
read_input(const char *file, uint8_t **buf_r, size_t *len_r)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    ssize_t r;
    int fd;

    errno = 0;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        goto fail;
    buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (!buf)
        goto fail;
    while (len < (size_t)st.st_size) {
        r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto fail;
        len += (size_t)r;
    }
    close(fd);
    *buf_r = buf;
    *len_r = len;
    return 0;
fail:
    fprintf(stderr, "replay: cannot read %s: %s\n", file,
            errno ? strerror(errno) : "short read");
    free(buf);
    if (fd >= 0)
        close(fd);
    return -1;
}

static int
replay_file(const char *file, unsigned long *n_r)
{
    uint8_t *buf;
    size_t len;

    if (read_input(file, &buf, &len))
        return -1;
    fprintf(stderr, "replay: %s (%zu bytes)\n", file, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    (*n_r)++;
    return 0;
}

static int
skip_entry(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

/* One entry of a directory: a regular file is an input, the rest is
 * skipped. */
static int
replay_entry(const char *dir, const char *name, unsigned long *n_r)
{
    struct stat st;
    char *path;
    int r = 0;

    if (asprintf(&path, "%s/%s", dir, name) < 0) {
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        r = replay_file(path, n_r);
    free(path);
    return r;
}

static int
replay_dir(const char *dir, unsigned long *n_r)
{
    struct dirent **des = NULL;
    int i, r = 0, n = scandir(dir, &des, skip_entry, alphasort);

    if (n < 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (r == 0)
            r = replay_entry(dir, des[i]->d_name, n_r);
        free(des[i]);
    }
    free(des);
    return r;
}

int
main(int argc, char **argv)
{
    unsigned long n = 0;
    struct stat st;
    int i, r = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc && r == 0; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            r = -1;
        } else if (S_ISDIR(st.st_mode)) {
            r = replay_dir(argv[i], &n);
        } else {
            r = replay_file(argv[i], &n);
        }
    }
    if (r)
        return 1;
    printf("replayed %lu inputs\n", n);
    return 0;
}
