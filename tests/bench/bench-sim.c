/* bench-sim.c: benchmarks of the sim backend (make bench)
 *
 * Each figure is timed against a baseline in the same run (bench.h):
 *   sim.domain_create_destroy      keel_hv_domain_create of a 16 MiB,
 *                                  1-vCPU PV domain, then its destroy, on
 *                                  a sim with the real clock, vs creating
 *                                  and unlinking one file of that size in
 *                                  the same directory (open, ftruncate,
 *                                  close, unlink): the least the sim must
 *                                  do for the domain's memory file
 *   sim.domain_create_destroy_100  the same with 100 other domains
 *                                  running
 *   sim.domain_create_destroy_at_N keel_hv_domain_create of a 4 MiB,
 *                                  1-vCPU PV domain and its destroy on a
 *                                  host (cpus=64,memory=4T) with N other
 *                                  domains running (N = 100, 1000,
 *                                  10000), vs the same on a host with one
 *                                  other domain, trial for trial: the
 *                                  ratio is how much of the one-domain
 *                                  rate is left at N (1 when the cost is
 *                                  flat in the number of domains)
 *   sim.logdirty_scan              keel_hv_logdirty_read (PEEK) of the
 *                                  whole bitmap of a 1 GiB domain with a
 *                                  128 MiB working set dirty, vs memcpy
 *                                  and popcount of a bitmap that size
 *   sim.guest_dirty                the guest model dirtying pages (one
 *                                  keel_sim_clock_advance per 1024 pages,
 *                                  manual clock), vs memset of as many
 *                                  whole pages
 *   sim.memory_digest              keel_sim_memory_digest of a 64 MiB
 *                                  domain whose every frame holds data,
 *                                  vs memcpy of as many bytes
 * Arguments, if any, pick groups by name: create, scale, scan, dirty,
 * digest.
 * Every sim lives in its own directory under $TMPDIR, removed at the end.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/hv.h>
#include <keel/keel.h>
#include <keel/sim.h>

#include "bench.h"
#include "hv/sim/sim.h"

#define SMALL_KB 16384  /* (a): a small PV domain */
#define OTHER_DOMS 100  /* (a): domains already there */
#define GIB_PFNS 262144 /* (b): 1 GiB of frames */
#define WS_RUN 64       /* (b): working set, runs of frames */
#define WS_STRIDE 512   /* ... one run every WS_STRIDE */
#define WS_PFNS (GIB_PFNS / WS_STRIDE * WS_RUN)
#define GUEST_PFNS 16384   /* (c), (d): 64 MiB of frames */
#define DIRTY_RATE 1000000 /* (c): pages per simulated second */
#define DIRTY_PER_OP 1024  /* (c): pages per clock advance */
#define DIRTY_NS (UINT64_C(1000000000) * DIRTY_PER_OP / DIRTY_RATE)

/* One sim, open in its own directory. */
struct env {
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    char *dir;
};

static int
fail(struct keel_ctx *ctx, int rc, const char *what)
{
    fprintf(stderr, "bench-sim: %s: %s: %s\n", what, keel_strerror(rc),
            keel_ctx_last_error(ctx));
    return rc;
}

static int
env_open_spec(struct env *e, struct keel_ctx *ctx, const char *spec,
              unsigned int flags)
{
    struct keel_hv_open_args args = {.spec = spec, .flags = flags};
    int rc;

    e->ctx = ctx;
    e->hv = NULL;
    e->dir = bench_tmpdir("keel-bench");
    if (!e->dir)
        return KEEL_EIO;
    args.dir = e->dir;
    rc = keel_hv_open(ctx, "sim", &args, &e->hv);
    return rc ? fail(ctx, rc, "opening the sim") : 0;
}

static int
env_open(struct env *e, struct keel_ctx *ctx, unsigned int flags)
{
    return env_open_spec(e, ctx, NULL, flags);
}

static void
env_close(struct env *e)
{
    keel_hv_close(e->hv);
    e->hv = NULL;
    bench_rmtree(e->dir);
    free(e->dir);
    e->dir = NULL;
}

/* A paused PV domain of kb KiB with one vCPU in Pool-0; seq makes its
 * uuid. */
static int
domain_new(struct env *e, uint64_t kb, uint32_t seq, uint32_t *domid_r)
{
    struct keel_hv_domain_spec spec = {
        .type = KEEL_DOMAIN_PV,
        .max_vcpus = 1,
        .online_vcpus = 1,
        .max_kb = kb,
        .mem_kb = kb,
        .poolid = 0,
        .domid = KEEL_DOMID_INVALID,
    };

    memcpy(spec.uuid, &seq, sizeof(seq));
    spec.uuid[6] = 0x40;
    return keel_hv_domain_create(e->hv, &spec, domid_r);
}

/* --- (a) domain create + destroy ----------------------------------- */

struct create_arg {
    struct env *e;
    uint32_t seq;
};

static int
create_destroy(void *arg, uint64_t n)
{
    struct create_arg *a = arg;
    uint32_t domid;
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = domain_new(a->e, SMALL_KB, a->seq++, &domid);
        if (rc == 0)
            rc = keel_hv_domain_destroy(a->e->hv, domid);
        if (rc)
            return fail(a->e->ctx, rc, "create + destroy");
    }
    return 0;
}

struct file_arg {
    char *path;
    off_t size;
};

static int
file_create_unlink(void *arg, uint64_t n)
{
    struct file_arg *a = arg;
    uint64_t i;
    int fd;

    for (i = 0; i < n; i++) {
        fd = open(a->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, a->size) != 0 || close(fd) != 0 ||
            unlink(a->path) != 0) {
            perror(a->path);
            if (fd >= 0)
                close(fd);
            return KEEL_EIO;
        }
    }
    return 0;
}

/* Fills the host with OTHER_DOMS running domains. */
static int
add_others(struct env *e)
{
    uint32_t i, domid;
    int rc = 0;

    for (i = 0; rc == 0 && i < OTHER_DOMS; i++) {
        rc = domain_new(e, SMALL_KB, UINT32_MAX - i, &domid);
        if (rc == 0)
            rc = keel_hv_domain_unpause(e->hv, domid);
    }
    return rc ? fail(e->ctx, rc, "adding domains") : 0;
}

static int
bench_create(struct keel_ctx *ctx)
{
    struct env e;
    struct create_arg ca = {&e, 1};
    struct file_arg fa = {NULL, (off_t)SMALL_KB * 1024};
    struct bench_side sim = {"sim.domain_create_destroy", create_destroy, &ca,
                             1};
    struct bench_side sim100 = {"sim.domain_create_destroy_100", create_destroy,
                                &ca, 1};
    struct bench_side base = {"open+ftruncate+close+unlink", file_create_unlink,
                              &fa, 1};
    int rc = env_open(&e, ctx, 0);

    if (rc == 0 && asprintf(&fa.path, "%s/bench.file", e.dir) < 0) {
        fa.path = NULL;
        rc = KEEL_ENOMEM;
    }
    if (rc == 0)
        rc = bench_compare(&sim, &base);
    if (rc == 0)
        bench_report(&sim, &base, "ops/s");
    if (rc == 0)
        rc = add_others(&e);
    if (rc == 0)
        rc = bench_compare(&sim100, &base);
    if (rc == 0)
        bench_report(&sim100, &base, "ops/s");
    free(fa.path);
    env_close(&e);
    return rc;
}

/* --- (a') create + destroy as the host fills ---------------------- */

#define SCALE_SPEC "cpus=64,memory=4T"
#define SCALE_KB 4096 /* a 4 MiB guest */

static const uint32_t scale_points[] = {100, 1000, 10000};

/* Grows the host to n running domains besides Domain-0 and the ones the
 * benchmark creates; *have counts what is there. */
static int
fill_to(struct env *e, uint32_t n, uint32_t *have)
{
    uint32_t domid;
    int rc = 0;

    for (; rc == 0 && *have < n; (*have)++) {
        rc = domain_new(e, SCALE_KB, UINT32_MAX - *have, &domid);
        if (rc == 0)
            rc = keel_hv_domain_unpause(e->hv, domid);
    }
    return rc ? fail(e->ctx, rc, "filling the host") : 0;
}

static int
scale_create_destroy(void *arg, uint64_t n)
{
    struct create_arg *a = arg;
    uint32_t domid;
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = domain_new(a->e, SCALE_KB, a->seq++, &domid);
        if (rc == 0)
            rc = keel_hv_domain_destroy(a->e->hv, domid);
        if (rc)
            return fail(a->e->ctx, rc, "create + destroy");
    }
    return 0;
}

static int
bench_scale(struct keel_ctx *ctx)
{
    struct env one = {0}, big = {0};
    struct create_arg ca1 = {&one, 1}, cab = {&big, 1};
    struct bench_side base = {"sim.domain_create_destroy_at_1",
                              scale_create_destroy, &ca1, 1};
    struct bench_side sim = {NULL, scale_create_destroy, &cab, 1};
    char name[64];
    uint32_t have1 = 0, have = 0;
    size_t i;
    int rc = env_open_spec(&one, ctx, SCALE_SPEC, 0);

    if (rc == 0)
        rc = env_open_spec(&big, ctx, SCALE_SPEC, 0);
    if (rc == 0)
        rc = fill_to(&one, 1, &have1);
    for (i = 0; rc == 0 && i < ARRAY_SIZE(scale_points); i++) {
        rc = fill_to(&big, scale_points[i], &have);
        snprintf(name, sizeof(name), "sim.domain_create_destroy_at_%u",
                 scale_points[i]);
        sim.name = name;
        if (rc == 0)
            rc = bench_compare(&sim, &base);
        if (rc == 0)
            bench_report(&sim, &base, "ops/s");
    }
    env_close(&big);
    env_close(&one);
    return rc;
}

/* --- (b) log-dirty bitmap scan ------------------------------------- */

struct scan_arg {
    struct env *e;
    uint32_t domid;
    uint8_t *bitmap;
    uint8_t *src;   /* baseline: the bitmap to copy */
    uint64_t count; /* dirty frames the last scan saw */
};

static int
scan_sim(void *arg, uint64_t n)
{
    struct scan_arg *a = arg;
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = keel_hv_logdirty_read(a->e->hv, a->domid, a->bitmap, GIB_PFNS,
                                   KEEL_LOGDIRTY_PEEK, &a->count);
        if (rc)
            return fail(a->e->ctx, rc, "logdirty_read");
        if (a->count != WS_PFNS) {
            fprintf(stderr,
                    "bench-sim: scan saw %" PRIu64 " dirty frames, "
                    "not %d\n",
                    a->count, WS_PFNS);
            return KEEL_EIO;
        }
    }
    return 0;
}

static int
scan_copy_count(void *arg, uint64_t n)
{
    struct scan_arg *a = arg;
    uint64_t i, w, word, count = 0;

    for (i = 0; i < n; i++) {
        memcpy(a->bitmap, a->src, GIB_PFNS / 8);
        count = 0;
        for (w = 0; w < GIB_PFNS / 64; w++) {
            memcpy(&word, a->bitmap + w * 8, 8);
            count += (uint64_t)__builtin_popcountll(word);
        }
    }
    a->count = count;
    return count == WS_PFNS || n == 0 ? 0 : KEEL_EIO;
}

/* Dirties the working set through writable mappings, which log-dirty
 * counts as written, and sets the same bits in src. */
static int
dirty_working_set(struct scan_arg *a)
{
    uint64_t pfns[WS_RUN], start, i;
    void *addr;
    int rc = 0;

    for (start = 0; rc == 0 && start < GIB_PFNS; start += WS_STRIDE) {
        for (i = 0; i < WS_RUN; i++) {
            pfns[i] = start + i;
            a->src[(start + i) / 8] |= (uint8_t)(1u << ((start + i) % 8));
        }
        rc = keel_hv_mem_map(a->e->hv, a->domid, pfns, WS_RUN, true, &addr);
        if (rc == 0)
            rc = keel_hv_mem_unmap(a->e->hv, addr, WS_RUN);
    }
    return rc ? fail(a->e->ctx, rc, "dirtying the working set") : 0;
}

static int
bench_scan(struct keel_ctx *ctx)
{
    struct env e;
    struct scan_arg sa = {&e, 0, NULL, NULL, 0};
    struct bench_side sim = {"sim.logdirty_scan", scan_sim, &sa, GIB_PFNS};
    struct bench_side base = {"memcpy+popcount", scan_copy_count, &sa,
                              GIB_PFNS};
    int rc = env_open(&e, ctx, 0);

    sa.bitmap = calloc(1, GIB_PFNS / 8);
    sa.src = calloc(1, GIB_PFNS / 8);
    if (rc == 0 && (!sa.bitmap || !sa.src))
        rc = KEEL_ENOMEM;
    if (rc == 0 && (rc = domain_new(&e, (uint64_t)GIB_PFNS * 4, 1, &sa.domid)))
        fail(ctx, rc, "creating a 1 GiB domain");
    if (rc == 0 && (rc = keel_hv_logdirty_enable(e.hv, sa.domid)))
        fail(ctx, rc, "logdirty_enable");
    if (rc == 0)
        rc = dirty_working_set(&sa);
    if (rc == 0)
        rc = bench_compare(&sim, &base);
    if (rc == 0)
        bench_report(&sim, &base, "frames/s");
    free(sa.bitmap);
    free(sa.src);
    env_close(&e);
    return rc;
}

/* --- (c) the guest model's dirtying, (d) the memory digest ------------ */

struct guest_arg {
    struct env *e;
    uint32_t domid;
    uint8_t *buf; /* baselines: GUEST_PFNS pages */
    uint8_t *dst; /* memcpy baseline: as many again */
    uint64_t op;
};

/* The guest model's own count of pages it dirtied: its sequence number
 * (internals: the bench links the whole library). */
static uint64_t
pages_dirtied(struct guest_arg *a)
{
    struct sim_domain *d = sim_domain_find(sim_of(a->e->hv), a->domid);

    return d ? d->dirty_seq : 0;
}

static int
dirty_sim(void *arg, uint64_t n)
{
    struct guest_arg *a = arg;
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = keel_sim_clock_advance(a->e->hv, DIRTY_NS);
        if (rc)
            return fail(a->e->ctx, rc, "clock_advance");
    }
    return 0;
}

static int
dirty_memset(void *arg, uint64_t n)
{
    struct guest_arg *a = arg;
    uint64_t i, page;

    for (i = 0; i < n; i++, a->op++) {
        page = a->op * DIRTY_PER_OP % GUEST_PFNS;
        memset(a->buf + page * KEEL_PAGE_SIZE, (int)(a->op & 0xff),
               (size_t)DIRTY_PER_OP * KEEL_PAGE_SIZE);
    }
    return 0;
}

/* A running 64 MiB guest dirtying all its memory at DIRTY_RATE, on a
 * manual clock; every frame dirtied once, so none is a hole. */
static int
guest_start(struct guest_arg *a)
{
    struct keel_sim_guest g = {
        .shutdown_delay_ms = 100,
        .busy = true,
        .dirty_rate = DIRTY_RATE,
        .ws_start = 0,
        .ws_pages = GUEST_PFNS,
    };
    uint64_t before;
    int rc;

    a->buf = malloc((size_t)GUEST_PFNS * KEEL_PAGE_SIZE);
    a->dst = malloc((size_t)GUEST_PFNS * KEEL_PAGE_SIZE);
    if (!a->buf || !a->dst)
        return KEEL_ENOMEM;
    memset(a->buf, 1, (size_t)GUEST_PFNS * KEEL_PAGE_SIZE);
    memset(a->dst, 2, (size_t)GUEST_PFNS * KEEL_PAGE_SIZE);
    rc = domain_new(a->e, (uint64_t)GUEST_PFNS * 4, 1, &a->domid);
    if (rc == 0)
        rc = keel_sim_guest_set(a->e->hv, a->domid, &g);
    if (rc == 0)
        rc = keel_hv_domain_unpause(a->e->hv, a->domid);
    /* Saturates the working set: every frame written. */
    if (rc == 0)
        rc = keel_sim_clock_advance(a->e->hv, UINT64_C(1000000000) * 2 *
                                                  GUEST_PFNS / DIRTY_RATE);
    before = pages_dirtied(a);
    if (rc == 0)
        rc = keel_sim_clock_advance(a->e->hv, DIRTY_NS);
    if (rc)
        return fail(a->e->ctx, rc, "starting the guest");
    if (pages_dirtied(a) - before != DIRTY_PER_OP) {
        fprintf(stderr,
                "bench-sim: one advance dirtied %" PRIu64 " pages, not %d\n",
                pages_dirtied(a) - before, DIRTY_PER_OP);
        return KEEL_EIO;
    }
    return 0;
}

static int
bench_dirty(struct keel_ctx *ctx)
{
    struct env e;
    struct guest_arg ga = {&e, 0, NULL, NULL, 0};
    struct bench_side sim = {"sim.guest_dirty", dirty_sim, &ga, DIRTY_PER_OP};
    struct bench_side base = {"memset of whole pages", dirty_memset, &ga,
                              DIRTY_PER_OP};
    int rc = env_open(&e, ctx, KEEL_HV_OPEN_MANUAL_CLOCK);

    if (rc == 0)
        rc = guest_start(&ga);
    if (rc == 0)
        rc = bench_compare(&sim, &base);
    if (rc == 0)
        bench_report(&sim, &base, "pages/s");
    free(ga.buf);
    free(ga.dst);
    env_close(&e);
    return rc;
}

static int
digest_sim(void *arg, uint64_t n)
{
    struct guest_arg *a = arg;
    char hex[33];
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = keel_sim_memory_digest(a->e->hv, a->domid, hex);
        if (rc)
            return fail(a->e->ctx, rc, "memory_digest");
    }
    return 0;
}

static int
digest_memcpy(void *arg, uint64_t n)
{
    struct guest_arg *a = arg;
    uint64_t i;

    for (i = 0; i < n; i++) {
        a->buf[0] = (uint8_t)i;
        memcpy(a->dst, a->buf, (size_t)GUEST_PFNS * KEEL_PAGE_SIZE);
    }
    return 0;
}

static int
bench_digest(struct keel_ctx *ctx)
{
    const double gb = (double)GUEST_PFNS * KEEL_PAGE_SIZE / 1e9;
    struct env e;
    struct guest_arg ga = {&e, 0, NULL, NULL, 0};
    struct bench_side sim = {"sim.memory_digest", digest_sim, &ga, gb};
    struct bench_side base = {"memcpy", digest_memcpy, &ga, gb};
    int rc = env_open(&e, ctx, KEEL_HV_OPEN_MANUAL_CLOCK);

    if (rc == 0)
        rc = guest_start(&ga);
    /* The digest of a paused guest: nothing changes between calls. */
    if (rc == 0 && (rc = keel_hv_domain_pause(e.hv, ga.domid)))
        fail(ctx, rc, "pausing the guest");
    if (rc == 0)
        rc = bench_compare(&sim, &base);
    if (rc == 0)
        bench_report(&sim, &base, "GB/s");
    free(ga.buf);
    free(ga.dst);
    env_close(&e);
    return rc;
}

/* --- main -------------------------------------------------------------- */

struct group {
    const char *name;
    int (*run)(struct keel_ctx *ctx);
};

static const struct group groups[] = {
    {"create", bench_create}, {"scale", bench_scale},   {"scan", bench_scan},
    {"dirty", bench_dirty},   {"digest", bench_digest},
};

static bool
wanted(const char *name, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return argc < 2;
}

int
main(int argc, char **argv)
{
    struct keel_ctx *ctx = NULL;
    size_t i;
    int rc;

    for (i = 1; i < (size_t)argc; i++) {
        size_t g;

        for (g = 0; g < ARRAY_SIZE(groups); g++)
            if (!strcmp(argv[i], groups[g].name))
                break;
        if (g == ARRAY_SIZE(groups)) {
            fprintf(stderr, "usage: %s [create|scale|scan|dirty|digest]...\n",
                    argv[0]);
            return 2;
        }
    }
    rc = keel_ctx_new(&ctx, 0);
    for (i = 0; rc == 0 && i < ARRAY_SIZE(groups); i++)
        if (wanted(groups[i].name, argc, argv))
            rc = groups[i].run(ctx);
    keel_ctx_free(ctx);
    if (rc)
        fprintf(stderr, "bench-sim: FAILED (%s)\n", keel_strerror(rc));
    return rc ? 1 : 0;
}
