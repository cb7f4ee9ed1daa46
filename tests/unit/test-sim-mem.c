/* test-sim-mem.c: the sim backend's guest memory (lib/hv/sim/mem.c)
 *
 * Drives mem.c directly on a hand-built struct sim and struct sim_domain,
 * so memory files, mappings, log-dirty, the dirtying model, the digest and
 * the orphan sweep are tested without the rest of the sim. The sim core
 * supplies sim_path() and sim_domain_find(); the latter reads
 * s->by_domid.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "hv/sim/sim.h"

#define PG KEEL_PAGE_SIZE
#define MAX_DOMS 8

static struct sim *sim;
static struct sim_domain *doms[MAX_DOMS];
static size_t n_doms;

static void
setup(void)
{
    sim = calloc(1, sizeof(*sim));
    ck_assert_ptr_nonnull(sim);
    sim->ctx = th_ctx();
    sim->dir = strdup(th_tmpdir());
    ck_assert_ptr_nonnull(sim->dir);
    sim->lock_fd = -1;
    sim->timer_fd = -1;
}

/* Needs no context: the harness may have freed it already. */
static void
teardown(void)
{
    size_t i;

    for (i = 0; i < n_doms; i++) {
        sim_mem_close(&doms[i]->mem);
        free(doms[i]);
    }
    n_doms = 0;
    free(sim->doms);
    free(sim->by_domid);
    free(sim->dir);
    free(sim);
    sim = NULL;
}

/* A domain of kb KiB (max and current), memory not yet opened. */
static struct sim_domain *
dom_new(uint32_t domid, uint64_t kb)
{
    struct sim_domain *d = calloc(1, sizeof(*d));

    ck_assert_ptr_nonnull(d);
    ck_assert_uint_lt(n_doms, MAX_DOMS);
    d->domid = domid;
    d->max_kb = kb;
    d->tot_kb = kb;
    d->pending_action = -1;
    doms[n_doms++] = d;
    return d;
}

static struct sim_domain *
dom_open(uint32_t domid, uint64_t kb)
{
    struct sim_domain *d = dom_new(domid, kb);

    ck_assert_int_eq(sim_mem_open(sim, d, true), 0);
    return d;
}

/* Makes exactly these domains live for sim_domain_find (sorted). */
static void
set_live(struct sim_domain **live, size_t n)
{
    size_t i;

    free(sim->doms);
    free(sim->by_domid);
    sim->doms = calloc(n ? n : 1, sizeof(*sim->doms));
    sim->by_domid = calloc(KEEL_DOMID_FIRST_RESERVED, sizeof(*sim->by_domid));
    ck_assert_ptr_nonnull(sim->doms);
    ck_assert_ptr_nonnull(sim->by_domid);
    for (i = 0; i < n; i++) {
        sim->doms[i] = live[i];
        sim->by_domid[live[i]->domid] = live[i];
    }
    sim->n_doms = n;
}

static const char *
dom_file(uint32_t domid, const char *ext)
{
    static char name[64];

    snprintf(name, sizeof(name), "dom-%" PRIu32 ".%s", domid, ext);
    return th_path(name);
}

static off_t
file_size(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    return st.st_size;
}

static int
count_fds(void)
{
    int n = 0, fd;

    for (fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* Lines of /proc/self/maps that map the named file; *perms_r, when not
 * NULL, receives the permissions of the one starting at addr. */
static int
maps_of(const char *file, const void *addr, char perms_r[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096], perms[5];
    unsigned long start;
    int n = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, file))
            continue;
        n++;
        if (perms_r && sscanf(line, "%lx-%*x %4s", &start, perms) == 2 &&
            start == (unsigned long)addr)
            memcpy(perms_r, perms, 5);
    }
    fclose(f);
    return n;
}

static uint64_t
peek_count(struct sim_domain *d)
{
    uint64_t n = 0;
    uint8_t *bm = calloc(1, d->mem.nr_pfns / 8 + 1);

    ck_assert_ptr_nonnull(bm);
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, bm, d->mem.nr_pfns,
                                           KEEL_LOGDIRTY_PEEK, &n),
                     0);
    free(bm);
    return n;
}

static bool
bit(const uint8_t *bm, uint64_t i)
{
    return bm[i / 8] & (1u << (i % 8));
}

static void
digest(struct sim_domain *d, char hex[33])
{
    ck_assert_int_eq(sim_mem_digest(sim, d, hex), 0);
}

/* --- files ------------------------------------------------------------- */

START_TEST(test_create_open_round_trip)
{
    int fds = count_fds();
    struct sim_domain *d = dom_open(1, 64);
    uint8_t *base;

    ck_assert_uint_eq(d->mem.nr_pfns, 16);
    /* A host of thousands of domains must not need a descriptor each. */
    ck_assert_int_eq(count_fds(), fds);
    ck_assert_ptr_nonnull(d->mem.base);
    ck_assert_ptr_nonnull(d->mem.bitmap);
    ck_assert_int_eq(file_size(dom_file(1, "mem")), 16 * PG);
    ck_assert_int_eq(file_size(dom_file(1, "dirty")), 2);
    memset(d->mem.base + 5 * PG, 0xab, PG);
    d->mem.base[16 * PG - 1] = 0x5a;
    d->mem.bitmap[1] = 0x80;

    th_assert_err(sim_mem_open(sim, d, false), KEEL_ESTATE, "already open");
    sim_mem_close(&d->mem);
    ck_assert_ptr_null(d->mem.base);
    ck_assert_ptr_null(d->mem.bitmap);
    sim_mem_close(&d->mem);

    /* The frame count comes from the file, not from max_kb. */
    d->max_kb = 4;
    d->mem.nr_pfns = 0;
    ck_assert_int_eq(sim_mem_open(sim, d, false), 0);
    base = d->mem.base;
    ck_assert_uint_eq(d->mem.nr_pfns, 16);
    ck_assert_uint_eq(base[5 * PG], 0xab);
    ck_assert_uint_eq(base[6 * PG - 1], 0xab);
    ck_assert_uint_eq(base[6 * PG], 0);
    ck_assert_uint_eq(base[16 * PG - 1], 0x5a);
    ck_assert_uint_eq(d->mem.bitmap[1], 0x80);
}
END_TEST

START_TEST(test_survives_kill)
{
    struct sim_domain *d = dom_new(3, 256);
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (sim_mem_open(sim, d, true) == 0) {
            memset(d->mem.base + 60 * PG, 0x77, PG);
            d->mem.bitmap[7] = 0x10;
        }
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(sim_mem_open(sim, d, false), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 64);
    ck_assert_uint_eq(d->mem.base[60 * PG], 0x77);
    ck_assert_uint_eq(d->mem.base[61 * PG - 1], 0x77);
    ck_assert_uint_eq(d->mem.bitmap[7], 0x10);
}
END_TEST

START_TEST(test_create_truncates)
{
    struct sim_domain *d = dom_open(1, 64);

    d->mem.base[3 * PG] = 9;
    d->mem.bitmap[0] = 1;
    sim_mem_close(&d->mem);
    d->max_kb = 32;
    ck_assert_int_eq(sim_mem_open(sim, d, true), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 8);
    ck_assert_uint_eq(d->mem.base[3 * PG], 0);
    ck_assert_uint_eq(d->mem.bitmap[0], 0);
    ck_assert_int_eq(file_size(dom_file(1, "mem")), 8 * PG);
}
END_TEST

START_TEST(test_open_corrupt_size)
{
    struct sim_domain *d = dom_open(1, 64);
    int fds;

    sim_mem_close(&d->mem);
    ck_assert_int_eq(truncate(dom_file(1, "mem"), 16 * PG + 100), 0);
    fds = count_fds();
    th_assert_err(sim_mem_open(sim, d, false), KEEL_ECORRUPT, "dom-1.mem");
    ck_assert_ptr_null(d->mem.base);
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(test_open_missing)
{
    struct sim_domain *d = dom_new(1, 64);
    int fds = count_fds();

    th_assert_err(sim_mem_open(sim, d, false), KEEL_ECORRUPT, "dom-1.mem");
    ck_assert_ptr_null(d->mem.base);

    ck_assert_int_eq(sim_mem_open(sim, d, true), 0);
    sim_mem_close(&d->mem);
    ck_assert_int_eq(unlink(dom_file(1, "dirty")), 0);
    th_assert_err(sim_mem_open(sim, d, false), KEEL_ECORRUPT, "dom-1.dirty");
    ck_assert_ptr_null(d->mem.base);
    ck_assert_ptr_null(d->mem.bitmap);
    ck_assert_int_eq(count_fds(), fds);
    ck_assert_int_eq(maps_of("dom-1.", NULL, NULL), 0);
}
END_TEST

/* A bitmap of the wrong size (a kill inside grow) is put right. */
START_TEST(test_open_repairs_bitmap)
{
    struct sim_domain *d = dom_open(1, 400);

    sim_mem_close(&d->mem);
    ck_assert_int_eq(truncate(dom_file(1, "dirty"), 3), 0);
    ck_assert_int_eq(sim_mem_open(sim, d, false), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 100);
    ck_assert_int_eq(file_size(dom_file(1, "dirty")), 13);
    d->mem.bitmap[12] = 0x08;
}
END_TEST

START_TEST(test_empty_memory)
{
    struct sim_domain *d = dom_open(1, 0);
    char hex[33];
    uint64_t n = 7;
    uint8_t bm[2] = {0xff, 0xff};
    uint64_t pfn = 0;
    void *addr = NULL;

    ck_assert_uint_eq(d->mem.nr_pfns, 0);
    ck_assert_ptr_null(d->mem.base);
    d->guest.dirty_rate = 1000;
    sim_mem_dirty(sim, d, 1000000000);
    digest(d, hex);
    d->logdirty = true;
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, bm, 16, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(bm[0] | bm[1], 0);
    th_assert_err(sim_mem_map(sim, d, &pfn, 1, false, &addr), KEEL_ERANGE,
                  "frame 0");
    sim_mem_close(&d->mem);
    ck_assert_int_eq(sim_mem_open(sim, d, false), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 0);
}
END_TEST

START_TEST(test_grow)
{
    struct sim_domain *d = dom_open(1, 64);
    uint64_t pfn = 39;
    void *addr;

    d->mem.base[15 * PG + 7] = 0x42;
    d->mem.bitmap[1] = 0x80;
    ck_assert_int_eq(sim_mem_grow(sim, d, 40), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 40);
    ck_assert_uint_eq(d->mem.base[15 * PG + 7], 0x42);
    ck_assert_uint_eq(d->mem.bitmap[1], 0x80);
    ck_assert_uint_eq(d->mem.base[39 * PG], 0);
    d->mem.base[40 * PG - 1] = 1;
    d->mem.bitmap[4] = 0x80;
    ck_assert_int_eq(file_size(dom_file(1, "mem")), 40 * PG);
    ck_assert_int_eq(file_size(dom_file(1, "dirty")), 5);
    ck_assert_int_eq(sim_mem_map(sim, d, &pfn, 1, false, &addr), 0);
    ck_assert_uint_eq(((uint8_t *)addr)[PG - 1], 1);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, 1), 0);

    /* Never shrinks. */
    ck_assert_int_eq(sim_mem_grow(sim, d, 10), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 40);
    ck_assert_int_eq(file_size(dom_file(1, "mem")), 40 * PG);
    sim_mem_close(&d->mem);
    ck_assert_int_eq(sim_mem_open(sim, d, false), 0);
    ck_assert_uint_eq(d->mem.nr_pfns, 40);
    ck_assert_uint_eq(d->mem.base[40 * PG - 1], 1);

    th_assert_err(sim_mem_grow(sim, d, UINT64_MAX / 2), KEEL_ERANGE, NULL);
    ck_assert_uint_eq(d->mem.nr_pfns, 40);
}
END_TEST

START_TEST(test_unlink)
{
    struct sim_domain *d = dom_open(2, 64);

    sim_mem_close(&d->mem);
    ck_assert_int_ge(file_size(dom_file(2, "mem")), 0);
    sim_mem_unlink(sim, 2);
    ck_assert_int_eq(file_size(dom_file(2, "mem")), -1);
    ck_assert_int_eq(file_size(dom_file(2, "dirty")), -1);
    sim_mem_unlink(sim, 2);
    ck_assert_str_eq(keel_ctx_last_error(th_ctx()), "");
}
END_TEST

/* --- foreign mappings ------------------------------------------------------
 */

START_TEST(test_map_single)
{
    struct sim_domain *d = dom_open(1, 64);
    uint64_t pfn = 3;
    uint8_t *p;
    void *addr = NULL;
    char perms[5] = "";

    ck_assert_int_eq(sim_mem_map(sim, d, &pfn, 1, true, &addr), 0);
    p = addr;
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % PG, 0);
    maps_of("dom-1.mem", p, perms);
    ck_assert_str_eq(perms, "rw-s");
    p[0] = 0x11;
    p[PG - 1] = 0x22;
    ck_assert_uint_eq(d->mem.base[3 * PG], 0x11);
    ck_assert_uint_eq(d->mem.base[4 * PG - 1], 0x22);
    d->mem.base[3 * PG + 100] = 0x33;
    ck_assert_uint_eq(p[100], 0x33);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, 1), 0);
    ck_assert_int_eq(maps_of("dom-1.mem", NULL, NULL), 1);
}
END_TEST

START_TEST(test_map_scattered)
{
    static const uint64_t pfns[] = {7, 2, 3, 4, 9, 9, 0, 15};
    size_t n = sizeof(pfns) / sizeof(pfns[0]), i;
    struct sim_domain *d = dom_open(1, 64);
    /* volatile: two views of one frame alias where the compiler cannot
     * see it */
    volatile uint8_t *p;
    void *addr;
    char perms[5] = "";

    for (i = 0; i < 16; i++)
        memset(d->mem.base + i * PG, (int)(i + 1), PG);
    ck_assert_int_eq(sim_mem_map(sim, d, pfns, n, false, &addr), 0);
    p = addr;
    maps_of("dom-1.mem", (const void *)p, perms);
    ck_assert_str_eq(perms, "r--s");
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(p[i * PG], pfns[i] + 1);
        ck_assert_uint_eq(p[i * PG + PG - 1], pfns[i] + 1);
    }
    ck_assert_int_eq(sim_mem_unmap(sim, addr, n), 0);

    ck_assert_int_eq(sim_mem_map(sim, d, pfns, n, true, &addr), 0);
    p = addr;
    p[4 * PG + 10] = 0xee;                   /* frame 9 */
    ck_assert_uint_eq(p[5 * PG + 10], 0xee); /* frame 9 again */
    ck_assert_uint_eq(d->mem.base[9 * PG + 10], 0xee);
    p[2 * PG] = 0xdd; /* frame 3 */
    ck_assert_uint_eq(d->mem.base[3 * PG], 0xdd);
    ck_assert_uint_eq(d->mem.base[2 * PG], 3);
    ck_assert_uint_eq(d->mem.base[4 * PG], 5);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, n), 0);
    ck_assert_int_eq(maps_of("dom-1.mem", NULL, NULL), 1);
}
END_TEST

START_TEST(test_map_errors)
{
    static const uint64_t pfns[] = {0, 1, 2, 16, 3};
    struct sim_domain *d = dom_open(1, 64);
    void *addr = &addr;
    int before = maps_of("dom-1.mem", NULL, NULL);

    th_assert_err(sim_mem_map(sim, d, pfns, 5, true, &addr), KEEL_ERANGE, "16");
    ck_assert_ptr_eq(addr, &addr);
    ck_assert_int_eq(maps_of("dom-1.mem", NULL, NULL), before);

    th_assert_err(sim_mem_map(sim, d, pfns, 0, true, &addr), KEEL_EINVAL, NULL);
    th_assert_err(sim_mem_unmap(sim, NULL, 1), KEEL_EINVAL, NULL);
    th_assert_err(sim_mem_unmap(sim, d->mem.base + 1, 1), KEEL_EINVAL, NULL);

    sim_mem_close(&d->mem);
    th_assert_err(sim_mem_map(sim, d, pfns, 1, true, &addr), KEEL_ESTATE,
                  "not open");
}
END_TEST

START_TEST(test_map_logdirty)
{
    static const uint64_t w[] = {2, 4, 5};
    uint64_t ro = 7, off = 9;
    struct sim_domain *d = dom_open(1, 64);
    void *addr;

    d->logdirty = true;
    ck_assert_int_eq(sim_mem_map(sim, d, w, 3, true, &addr), 0);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, 3), 0);
    ck_assert_int_eq(sim_mem_map(sim, d, &ro, 1, false, &addr), 0);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, 1), 0);
    ck_assert_uint_eq(peek_count(d), 3);
    ck_assert(bit(d->mem.bitmap, 2) && bit(d->mem.bitmap, 4) &&
              bit(d->mem.bitmap, 5));

    d->logdirty = false;
    ck_assert_int_eq(sim_mem_map(sim, d, &off, 1, true, &addr), 0);
    ck_assert_int_eq(sim_mem_unmap(sim, addr, 1), 0);
    ck_assert(!bit(d->mem.bitmap, 9));
}
END_TEST

/* --- the dirtying model ------------------------------------------------ */

START_TEST(test_dirty_rate)
{
    struct sim_domain *d = dom_open(1, 4096); /* 1024 frames */
    uint64_t n;

    d->logdirty = true;
    d->guest.dirty_rate = 1000;
    sim_mem_dirty(sim, d, 100000000); /* 100 ms: 100 pages */
    ck_assert_uint_eq(d->dirty_seq, 100);
    ck_assert(d->dirty_carry == 0);
    ck_assert_uint_ne(d->rng, 0);
    /* Random picks may repeat a page: 100 of 1024 repeat about 5. */
    n = peek_count(d);
    ck_assert_uint_le(n, 100);
    ck_assert_uint_ge(n, 80);

    sim_mem_dirty(sim, d, 0);
    ck_assert_uint_eq(d->dirty_seq, 100);
    d->guest.dirty_rate = 0;
    sim_mem_dirty(sim, d, 1000000000);
    ck_assert_uint_eq(d->dirty_seq, 100);
}
END_TEST

START_TEST(test_dirty_carry)
{
    struct sim_domain *d = dom_open(1, 4096);
    int i;

    d->guest.dirty_rate = 3;
    sim_mem_dirty(sim, d, 500000000); /* 1.5 pages */
    ck_assert_uint_eq(d->dirty_seq, 1);
    ck_assert_double_eq_tol(d->dirty_carry, 0.5, 1e-9);
    sim_mem_dirty(sim, d, 500000000); /* 1.5 + 0.5 */
    ck_assert_uint_eq(d->dirty_seq, 3);
    ck_assert_double_eq_tol(d->dirty_carry, 0.0, 1e-9);

    /* A slow guest polled often still dirties: 0.25 pages a call. */
    d->guest.dirty_rate = 1;
    for (i = 0; i < 3; i++)
        sim_mem_dirty(sim, d, 250000000);
    ck_assert_uint_eq(d->dirty_seq, 3);
    sim_mem_dirty(sim, d, 250000000);
    ck_assert_uint_eq(d->dirty_seq, 4);

    /* 1 ms polls of a 1000 pages/s guest add up to the rate. */
    d->guest.dirty_rate = 1000;
    for (i = 0; i < 1000; i++)
        sim_mem_dirty(sim, d, 1000000);
    ck_assert_uint_ge(d->dirty_seq, 4 + 999);
    ck_assert_uint_le(d->dirty_seq, 4 + 1000);
}
END_TEST

/* Frames [start, end) must differ from before, all others match it. */
static void
assert_changed(const uint8_t *before, const uint8_t *now, uint64_t nr,
               uint64_t start, uint64_t end, bool all)
{
    uint64_t i;

    for (i = 0; i < nr; i++) {
        bool changed = memcmp(before + i * PG, now + i * PG, PG) != 0;

        if (i < start || i >= end)
            ck_assert_msg(!changed,
                          "frame %" PRIu64 " outside the working set changed",
                          i);
        else if (all)
            ck_assert_msg(changed, "frame %" PRIu64 " did not change", i);
    }
}

START_TEST(test_dirty_working_set)
{
    struct sim_domain *d = dom_open(1, 4096);
    size_t size = 1024 * PG;
    uint8_t *before = malloc(size);
    uint64_t n, i;
    int round;

    ck_assert_ptr_nonnull(before);
    for (i = 0; i < 1024; i++)
        memset(d->mem.base + i * PG, (int)(i * 7), PG);
    d->logdirty = true;
    d->guest.ws_start = 100;
    d->guest.ws_pages = 50;

    /* Owed more than the set holds: each page of the set once. */
    memcpy(before, d->mem.base, size);
    d->guest.dirty_rate = 1000000;
    sim_mem_dirty(sim, d, 10000000);
    ck_assert_uint_eq(d->dirty_seq, 50);
    assert_changed(before, d->mem.base, 1024, 100, 150, true);
    ck_assert_uint_eq(peek_count(d), 50);
    for (i = 0; i < 1024; i++)
        ck_assert_int_eq(bit(d->mem.bitmap, i), i >= 100 && i < 150);

    /* Random picks stay inside too, and in time reach every page. */
    sim_mem_logdirty_clear(d);
    memcpy(before, d->mem.base, size);
    d->guest.dirty_rate = 1000;
    for (round = 0; round < 50; round++) {
        sim_mem_dirty(sim, d, 20000000); /* 20 pages */
        assert_changed(before, d->mem.base, 1024, 100, 150, false);
    }
    ck_assert_uint_eq(d->dirty_seq, 50 + 50 * 20);
    n = peek_count(d);
    ck_assert_uint_eq(n, 50);
    assert_changed(before, d->mem.base, 1024, 100, 150, true);
    free(before);
}
END_TEST

START_TEST(test_dirty_working_set_clamped)
{
    struct sim_domain *d = dom_open(1, 4096);
    size_t size = 1024 * PG;
    uint8_t *before = malloc(size);

    ck_assert_ptr_nonnull(before);
    d->guest.dirty_rate = 1000000;

    /* Runs past the end of memory: clamped to [1000, 1024). */
    memcpy(before, d->mem.base, size);
    d->guest.ws_start = 1000;
    d->guest.ws_pages = 100;
    sim_mem_dirty(sim, d, 1000000000);
    ck_assert_uint_eq(d->dirty_seq, 24);
    assert_changed(before, d->mem.base, 1024, 1000, 1024, true);

    /* Starts past the end: nothing to dirty. */
    d->guest.ws_start = 5000;
    sim_mem_dirty(sim, d, 1000000000);
    ck_assert_uint_eq(d->dirty_seq, 24);

    /* ws_pages 0: the memory the domain holds (tot_kb), from ws_start. */
    memcpy(before, d->mem.base, size);
    d->guest.ws_start = 0;
    d->guest.ws_pages = 0;
    d->tot_kb = 40;
    sim_mem_dirty(sim, d, 1000000000);
    ck_assert_uint_eq(d->dirty_seq, 24 + 10);
    assert_changed(before, d->mem.base, 1024, 0, 10, true);

    /* tot_kb beyond the file: clamped to its frames. */
    d->tot_kb = 1 << 30;
    sim_mem_dirty(sim, d, 1000000000);
    ck_assert_uint_eq(d->dirty_seq, 24 + 10 + 1024);
    free(before);
}
END_TEST

START_TEST(test_dirty_changes_contents)
{
    struct sim_domain *d = dom_open(1, 64);
    uint8_t prev[PG];
    int i;

    d->guest.dirty_rate = 1000;
    d->guest.ws_start = 6;
    d->guest.ws_pages = 1;
    for (i = 0; i < 1100; i++) {
        memcpy(prev, d->mem.base + 6 * PG, PG);
        sim_mem_dirty(sim, d, 1000000000);
        ck_assert_msg(memcmp(prev, d->mem.base + 6 * PG, PG) != 0,
                      "round %d left the page as it was", i);
    }
    /* The word written moves about the frame. */
    for (i = 0; i < (int)(PG / 8); i++) {
        uint64_t w;

        memcpy(&w, d->mem.base + 6 * PG + i * 8, 8);
        ck_assert_uint_ne(w, 0);
    }
    /* Log-dirty off: the bitmap is left alone. */
    for (i = 0; i < 2; i++)
        ck_assert_uint_eq(d->mem.bitmap[i], 0);
}
END_TEST

/* Two domains given the same seed and rate dirty the same frames. */
START_TEST(test_dirty_deterministic)
{
    struct sim_domain *a = dom_open(1, 4096);
    struct sim_domain *b = dom_open(2, 4096);
    char ha[33], hb[33];

    a->guest.dirty_rate = b->guest.dirty_rate = 5000;
    a->rng = b->rng = 12345;
    sim_mem_dirty(sim, a, 100000000);
    sim_mem_dirty(sim, b, 100000000);
    digest(a, ha);
    digest(b, hb);
    ck_assert_str_eq(ha, hb);
}
END_TEST

/* --- log-dirty ----------------------------------------------------------- */

/* Sets a pseudo-random third of the bitmap's bits; returns how many. */
static uint64_t
scatter_bits(struct sim_domain *d, uint8_t *ref)
{
    uint64_t x = 88172645463325252ull, n = 0, i;

    memset(ref, 0, d->mem.nr_pfns / 8 + 1);
    for (i = 0; i < d->mem.nr_pfns; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (x % 3 == 0) {
            d->mem.bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            ref[i / 8] |= (uint8_t)(1u << (i % 8));
            n++;
        }
    }
    return n;
}

START_TEST(test_logdirty_read_clear_peek)
{
    struct sim_domain *d = dom_open(1, 4000); /* 1000 frames */
    uint8_t ref[126], got[126];
    uint64_t want = scatter_bits(d, ref), n;

    d->logdirty = true;
    memset(got, 0xff, sizeof(got));
    ck_assert_int_eq(
        sim_mem_logdirty_read(sim, d, got, 1000, KEEL_LOGDIRTY_PEEK, &n), 0);
    ck_assert_uint_eq(n, want);
    ck_assert_uint_gt(n, 200);
    ck_assert_mem_eq(got, ref, 125);
    ck_assert_mem_eq(d->mem.bitmap, ref, 125);

    memset(got, 0xff, sizeof(got));
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, 1000, 0, &n), 0);
    ck_assert_uint_eq(n, want);
    ck_assert_mem_eq(got, ref, 125);

    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, 1000, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    memset(ref, 0, sizeof(ref));
    ck_assert_mem_eq(got, ref, 125);
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, 1000, 0, NULL), 0);
}
END_TEST

START_TEST(test_logdirty_caller_larger)
{
    struct sim_domain *d = dom_open(1, 80); /* 20 frames */
    uint8_t got[13];
    uint64_t n;

    d->logdirty = true;
    d->mem.bitmap[0] = 0x81; /* frames 0, 7 */
    d->mem.bitmap[1] = 0x01; /* 8 */
    d->mem.bitmap[2] = 0x08; /* 19 */
    memset(got, 0xff, sizeof(got));
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, 100, 0, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(got[0], 0x81);
    ck_assert_uint_eq(got[1], 0x01);
    ck_assert_uint_eq(got[2], 0x08);
    for (n = 3; n < sizeof(got); n++)
        ck_assert_uint_eq(got[n], 0);
    ck_assert_uint_eq(d->mem.bitmap[0] | d->mem.bitmap[1] | d->mem.bitmap[2],
                      0);
}
END_TEST

START_TEST(test_logdirty_caller_smaller)
{
    struct sim_domain *d = dom_open(1, 80); /* 20 frames */
    uint8_t got[3];
    uint64_t n;

    d->logdirty = true;
    d->mem.bitmap[0] = 0x08; /* frame 3 */
    d->mem.bitmap[1] = 0x30; /* 12, 13 */
    memset(got, 0xff, sizeof(got));
    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, 13, 0, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(got[0], 0x08);
    ck_assert_uint_eq(got[1], 0x10); /* frame 13 is not the caller's */
    ck_assert_uint_eq(got[2], 0xff); /* beyond the caller's bitmap */
    /* Only the frames reported were cleared. */
    ck_assert_uint_eq(d->mem.bitmap[0], 0);
    ck_assert_uint_eq(d->mem.bitmap[1], 0x20);
    ck_assert_uint_eq(peek_count(d), 1);

    ck_assert_int_eq(sim_mem_logdirty_read(sim, d, NULL, 0, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(d->mem.bitmap[1], 0x20);
}
END_TEST

/* Word-sized and ragged ends agree with a bit-by-bit reference. */
START_TEST(test_logdirty_ragged)
{
    static const uint64_t sizes[] = {1, 7, 63, 64, 65, 511, 777, 999};
    struct sim_domain *d = dom_open(1, 4000);
    uint8_t ref[126], got[126];
    uint64_t n, want, i, j;

    d->logdirty = true;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        sim_mem_logdirty_clear(d);
        scatter_bits(d, ref);
        for (want = 0, j = 0; j < sizes[i]; j++)
            want += bit(ref, j);
        memset(got, 0xaa, sizeof(got));
        ck_assert_int_eq(sim_mem_logdirty_read(sim, d, got, sizes[i], 0, &n),
                         0);
        ck_assert_uint_eq(n, want);
        for (j = 0; j < (sizes[i] + 7) / 8 * 8; j++)
            ck_assert_int_eq(bit(got, j), j < sizes[i] && bit(ref, j));
        for (j = 0; j < 1000; j++)
            ck_assert_int_eq(bit(d->mem.bitmap, j),
                             j >= sizes[i] && bit(ref, j));
    }
}
END_TEST

START_TEST(test_logdirty_off)
{
    struct sim_domain *d = dom_open(4, 64);
    uint8_t got[2];
    uint64_t n = 99;

    th_assert_err(sim_mem_logdirty_read(sim, d, got, 16, 0, &n), KEEL_ESTATE,
                  "log-dirty mode is off for domain 4");
    ck_assert_uint_eq(n, 99);
    d->logdirty = true;
    th_assert_err(sim_mem_logdirty_read(sim, d, got, 16, 0x10, &n), KEEL_EINVAL,
                  "flags");
}
END_TEST

START_TEST(test_logdirty_clear)
{
    struct sim_domain *d = dom_open(1, 4000);
    uint8_t ref[126];

    d->logdirty = true;
    ck_assert_uint_gt(scatter_bits(d, ref), 0);
    sim_mem_logdirty_clear(d);
    ck_assert_uint_eq(peek_count(d), 0);
    memset(ref, 0, sizeof(ref));
    ck_assert_mem_eq(d->mem.bitmap, ref, 125);
}
END_TEST

/* --- digest -----------------------------------------------------------------
 */

static bool
is_hex32(const char *s)
{
    size_t i;

    for (i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[32] == '\0';
}

START_TEST(test_digest)
{
    struct sim_domain *a = dom_open(1, 1024); /* 256 frames */
    struct sim_domain *b = dom_open(2, 1024);
    char ha[33], hb[33], first[33];

    digest(a, ha);
    digest(b, hb);
    ck_assert(is_hex32(ha));
    ck_assert_str_eq(ha, hb);
    memcpy(first, ha, sizeof(first));

    /* One byte in a frame the file holds as a hole. */
    a->mem.base[100 * PG + 4000] = 1;
    digest(a, ha);
    ck_assert_str_ne(ha, hb);
    b->mem.base[100 * PG + 4000] = 1;
    digest(b, hb);
    ck_assert_str_eq(ha, hb);

    /* Zeros written are the same memory as a hole. */
    memset(b->mem.base + 200 * PG, 0, PG);
    b->mem.base[200 * PG + 5] = 0;
    digest(b, hb);
    ck_assert_str_eq(ha, hb);

    /* The low bit of the last byte of the last frame. */
    a->mem.base[256 * PG - 1] ^= 1;
    digest(a, ha);
    ck_assert_str_ne(ha, hb);
    a->mem.base[256 * PG - 1] ^= 1;
    digest(a, ha);
    ck_assert_str_eq(ha, hb);

    /* Same after closing and opening again. */
    sim_mem_close(&a->mem);
    ck_assert_int_eq(sim_mem_open(sim, a, false), 0);
    digest(a, ha);
    ck_assert_str_eq(ha, hb);
    ck_assert_str_ne(ha, first);
}
END_TEST

START_TEST(test_digest_position)
{
    struct sim_domain *a = dom_open(1, 64);
    struct sim_domain *b = dom_open(2, 64);
    struct sim_domain *c = dom_open(3, 68); /* one frame more */
    char ha[33], hb[33], hc[33];

    /* Same frames in another order. */
    memset(a->mem.base + 2 * PG, 0x5, PG);
    memset(b->mem.base + 3 * PG, 0x5, PG);
    digest(a, ha);
    digest(b, hb);
    ck_assert_str_ne(ha, hb);

    /* Two words swapped within a frame. */
    memset(b->mem.base + 3 * PG, 0, PG);
    a->mem.base[2 * PG] = 1;
    memset(a->mem.base + 2 * PG + 1, 0, PG - 1);
    b->mem.base[2 * PG + 8] = 1;
    digest(a, ha);
    digest(b, hb);
    ck_assert_str_ne(ha, hb);

    /* All zero, but a different number of frames. */
    memset(a->mem.base + 2 * PG, 0, PG);
    digest(a, ha);
    digest(c, hc);
    ck_assert_str_ne(ha, hc);

    sim_mem_close(&c->mem);
    th_assert_err(sim_mem_digest(sim, c, hc), KEEL_ESTATE, "not open");
}
END_TEST

/* Every single-bit change in a frame gives a digest seen nowhere else. */
START_TEST(test_digest_bit_flips)
{
    struct sim_domain *d = dom_open(1, 8);
    char(*seen)[33] = calloc(PG * 8 + 1, 33);
    size_t i, j, n = 0;

    ck_assert_ptr_nonnull(seen);
    digest(d, seen[n++]);
    for (i = 0; i < PG * 8; i += 61) {
        d->mem.base[PG + i / 8] ^= (uint8_t)(1u << (i % 8));
        digest(d, seen[n]);
        d->mem.base[PG + i / 8] ^= (uint8_t)(1u << (i % 8));
        for (j = 0; j < n; j++)
            ck_assert_str_ne(seen[j], seen[n]);
        n++;
    }
    free(seen);
}
END_TEST

/* --- orphans
 * ------------------------------------------------------------------ */

static int n_warnings;

static void
count_warnings(void *opaque, enum keel_log_level level, const char *func,
               const char *msg)
{
    if (level == KEEL_LOG_WARN && strstr(msg, "removed"))
        n_warnings++;
}

static void
touch(const char *name)
{
    int fd = open(th_path(name), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

    ck_assert_int_ge(fd, 0);
    close(fd);
}

START_TEST(test_gc)
{
    static const char *const keep[] = {
        "dom-01.mem",          "dom-x.mem",  "dom-5.memx",   "dom-.mem",
        "dom-99999999999.mem", "state.json", "dom-6.mem.tmp"};
    struct sim_domain *live;
    size_t i;

    dom_open(1, 64);
    live = dom_open(2, 64);
    dom_open(3, 64);
    dom_open(0, 4);
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        touch(keep[i]);
    set_live(&live, 1);
    keel_ctx_set_logger(th_ctx(), KEEL_LOG_WARN, count_warnings, NULL);

    ck_assert_int_eq(sim_mem_gc(sim), 0);
    ck_assert_int_eq(n_warnings, 6);
    ck_assert_int_eq(file_size(dom_file(1, "mem")), -1);
    ck_assert_int_eq(file_size(dom_file(1, "dirty")), -1);
    ck_assert_int_eq(file_size(dom_file(3, "mem")), -1);
    ck_assert_int_eq(file_size(dom_file(3, "dirty")), -1);
    ck_assert_int_eq(file_size(dom_file(0, "mem")), -1);
    ck_assert_int_eq(file_size(dom_file(2, "mem")), 16 * PG);
    ck_assert_int_eq(file_size(dom_file(2, "dirty")), 2);
    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        ck_assert_int_eq(file_size(th_path(keep[i])), 0);

    /* Nothing left to do the second time. */
    ck_assert_int_eq(sim_mem_gc(sim), 0);
    ck_assert_int_eq(n_warnings, 6);

    free(sim->dir);
    sim->dir = strdup(th_path("no-such-dir"));
    th_assert_err(sim_mem_gc(sim), KEEL_ENOENT, "no-such-dir");
}
END_TEST

static Suite *
mem_suite(void)
{
    Suite *s = suite_create("sim-mem");
    TCase *tc;

    tc = th_tcase(s, "files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_create_open_round_trip);
    tcase_add_test(tc, test_survives_kill);
    tcase_add_test(tc, test_create_truncates);
    tcase_add_test(tc, test_open_corrupt_size);
    tcase_add_test(tc, test_open_missing);
    tcase_add_test(tc, test_open_repairs_bitmap);
    tcase_add_test(tc, test_empty_memory);
    tcase_add_test(tc, test_grow);
    tcase_add_test(tc, test_unlink);

    tc = th_tcase(s, "map");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_map_single);
    tcase_add_test(tc, test_map_scattered);
    tcase_add_test(tc, test_map_errors);
    tcase_add_test(tc, test_map_logdirty);

    tc = th_tcase(s, "dirty");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dirty_rate);
    tcase_add_test(tc, test_dirty_carry);
    tcase_add_test(tc, test_dirty_working_set);
    tcase_add_test(tc, test_dirty_working_set_clamped);
    tcase_add_test(tc, test_dirty_changes_contents);
    tcase_add_test(tc, test_dirty_deterministic);

    tc = th_tcase(s, "logdirty");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_logdirty_read_clear_peek);
    tcase_add_test(tc, test_logdirty_caller_larger);
    tcase_add_test(tc, test_logdirty_caller_smaller);
    tcase_add_test(tc, test_logdirty_ragged);
    tcase_add_test(tc, test_logdirty_off);
    tcase_add_test(tc, test_logdirty_clear);

    tc = th_tcase(s, "digest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_digest);
    tcase_add_test(tc, test_digest_position);
    tcase_add_test(tc, test_digest_bit_flips);

    tc = th_tcase(s, "gc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gc);
    return s;
}

int
main(void)
{
    return th_run(mem_suite());
}
