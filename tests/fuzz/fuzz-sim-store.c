/* fuzz-sim-store.c: fuzz target of the sim's store.json reader
 * (sim_store_load, lib/hv/sim/store.c)
 *
 * sim_store_load reads only from a file, so the input, byte for byte (NUL
 * included), goes into a memfd and is loaded as /proc/self/fd/N. The
 * store it loads into already holds a node; whatever the input holds, the
 * load must not crash or leak, and then:
 *   - a refused file returns KEEL_ECORRUPT with a message, and the store
 *     still holds its node (a load swaps a tree in only once it is
 *     checked end to end);
 *   - an accepted file gives a tree store.c's own rules allow: every path
 *     passes sim_store_check_path, values are at most 4096 bytes, children
 *     are listed sorted and unique; the store is clean;
 *   - and it survives a save: sim_store_save writes it (into a directory
 *     made once per process) and the file loads back to the same tree.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "sim-store"
#include "fuzz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <keel/keel.h>

#include "hv/sim/sim.h"

#define VALUE_MAX 4096
#define PATH_MAX_BYTES 3072
#define MARK "/fuzz/marker"

static struct sim_store *
store_new(void)
{
    struct sim_store *store = NULL;

    if (sim_store_new(&store))
        abort();
    return store;
}

/* Child path of a node: path + "/" + name ("/name" under the root). */
static void
child_path(char *buf, const char *path, const char *name)
{
    size_t plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
    size_t nlen = strlen(name);

    fuzz_check(plen + 1 + nlen <= PATH_MAX_BYTES, "paths fit 3072 bytes");
    memcpy(buf, path, plen);
    buf[plen] = '/';
    memcpy(buf + plen + 1, name, nlen + 1);
}

/* Walks the tree under path in a, checking store.c's rules; with b, also
 * checks that b holds the same tree. */
static void
walk(struct keel_ctx *ctx, struct sim_store *a, struct sim_store *b,
     const char *path)
{
    char kid[PATH_MAX_BYTES + 1];
    char *va = NULL, *vb = NULL, **na = NULL, **nb = NULL;
    size_t la = 0, lb = 0, n = 0, m = 0, i;

    fuzz_check(sim_store_check_path(ctx, path) == 0, "paths are valid");
    fuzz_check(sim_store_read(ctx, a, path, &va, &la) == 0, "a node reads");
    fuzz_check(la <= VALUE_MAX, "values fit 4096 bytes");
    fuzz_check(sim_store_list(ctx, a, path, &na, &n) == 0, "a node lists");
    if (b) {
        fuzz_check(sim_store_read(ctx, b, path, &vb, &lb) == 0 && la == lb &&
                       memcmp(va, vb, la) == 0,
                   "round trip keeps values");
        fuzz_check(sim_store_list(ctx, b, path, &nb, &m) == 0 && n == m,
                   "round trip keeps children");
    }
    for (i = 0; i < n; i++) {
        fuzz_check(i == 0 || strcmp(na[i - 1], na[i]) < 0,
                   "children sorted and unique");
        fuzz_check(!b || strcmp(na[i], nb[i]) == 0, "round trip keeps names");
        child_path(kid, path, na[i]);
        walk(ctx, a, b, kid);
    }
    free(va);
    free(vb);
    free(na);
    free(nb);
}

/* Saves store, loads the file into a fresh store and compares the two. */
static void
round_trip(struct keel_ctx *ctx, struct sim_store *store)
{
    struct sim_store *again = store_new();
    char file[96];

    snprintf(file, sizeof(file), "%s/store.json", fuzz_scratch_dir());
    fuzz_check(sim_store_save(ctx, store, file) == 0,
               "an accepted store can be saved");
    fuzz_check(!sim_store_dirty(store), "a saved store is clean");
    if (sim_store_load(ctx, again, file) != 0) {
        fprintf(stderr, "fuzz-sim-store: %s\n", keel_ctx_last_error(ctx));
        fuzz_check(false, "a saved store loads");
    }
    walk(ctx, store, again, "/");
    sim_store_free(again);
}

/* Loads data from a memfd into store. */
static int
load(struct keel_ctx *ctx, struct sim_store *store, const uint8_t *data,
     size_t size)
{
    char file[64];
    int fd = memfd_create("fuzz-sim-store", MFD_CLOEXEC);
    size_t done = 0;
    ssize_t r;
    int rc;

    fuzz_check(fd >= 0, "memfd_create works");
    while (done < size) {
        r = write(fd, data + done, size - done);
        fuzz_check(r > 0, "writing the memfd works");
        done += (size_t)r;
    }
    snprintf(file, sizeof(file), "/proc/self/fd/%d", fd);
    rc = sim_store_load(ctx, store, file);
    close(fd);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_store *store = store_new();
    struct keel_ctx *ctx = NULL;
    char *val = NULL;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    fuzz_check(sim_store_write(ctx, store, MARK, "1", 1) == 0, "a write works");
    rc = load(ctx, store, data, size);
    if (rc == 0) {
        fuzz_check(!sim_store_dirty(store), "a loaded store is clean");
        walk(ctx, store, NULL, "/");
        round_trip(ctx, store);
    } else {
        fuzz_check(rc == KEEL_ECORRUPT, "a refusal is KEEL_ECORRUPT");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
        keel_ctx_clear_error(ctx);
        fuzz_check(sim_store_read(ctx, store, MARK, &val, NULL) == 0,
                   "a refused load leaves the store as it was");
        free(val);
    }
    sim_store_free(store);
    keel_ctx_free(ctx);
    return 0;
}
