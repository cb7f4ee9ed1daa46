/* mem.c: the sim backend's guest memory
 *
 * A domain's memory is DIR/dom-<domid>.mem, a sparse file of nr_pfns 4 KiB
 * frame. Both are mapped MAP_SHARED, so every byte written lands in the
 * page cache at once and survives the process being killed: a toolstack
 * that dies mid-migration finds the guest's memory as the hypervisor would
 * have kept it. The frame count is the file's size, never a second copy.
 * Files are closed once mapped (a mapping keeps its file) and opened again
 * by name for what needs a descriptor (growing, foreign mappings, the
 * digest): a host of ten thousand domains would otherwise need twenty
 * thousand descriptors.
 *
 * Foreign mappings (sim_mem_map) work as xenforeignmemory_map does: a
 * reserved range of address space with each run of consecutive frames
 * mapped over it from the memory file, so writes through them reach the
 * same pages the guest "sees".
 *
 * While a domain runs, sim_mem_dirty() plays the guest: dirty_rate pages
 * per second, chosen at random in the working set (with repeats, as a real
 * guest rewrites hot pages), each dirtying writing a fresh sequence number
 * so the page's contents really change. That is what makes a live
 * migration's pre-copy converge or not.
 *
 * The digest hashes frames that the file system holds as data and uses the
 * precomputed hash of a zero frame for holes (SEEK_DATA/SEEK_HOLE), so a
 * mostly untouched multi-GiB guest is hashed without reading, or faulting
 * in, gigabytes of zeros.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

#define PAGE_WORDS (KEEL_PAGE_SIZE / sizeof(uint64_t))

/* Largest frame count whose byte size fits both size_t and off_t. */
#define MEM_MAX_PFNS                                                           \
    ((SIZE_MAX < (uint64_t)INT64_MAX ? SIZE_MAX : (uint64_t)INT64_MAX) >>      \
     KEEL_PAGE_SHIFT)

/* Odd multipliers for the digest and the PRNG (golden ratio, and
 * xxhash's PRIME64_2). */
#define MIX_K1 0x9E3779B97F4A7C15ull
#define MIX_K2 0xC2B2AE3D27D4EB4Full

static size_t
bitmap_bytes(uint64_t nr_pfns)
{
    return (size_t)(nr_pfns / 8 + (nr_pfns % 8 != 0));
}

/* Opens DIR/dom-<domid>.<ext>; *path_r (free()) names it for messages. */
static int
mem_file_open(struct sim *s, uint32_t domid, const char *ext, bool create,
              int *fd_r, char **path_r)
{
    char name[40];
    char *path;
    int flags = O_RDWR | O_CLOEXEC;
    int fd;

    snprintf(name, sizeof(name), "dom-%" PRIu32 ".%s", domid, ext);
    path = sim_path(s, name);
    if (!path)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory for %s", name);
    if (create)
        flags |= O_CREAT | O_TRUNC;
    fd = open(path, flags, 0600);
    if (fd < 0) {
        int rc;

        if (errno == ENOENT && !create)
            rc = keel_error(s->ctx, KEEL_ECORRUPT, "%s is missing", path);
        else
            rc = keel_error_errno(s->ctx, 0, "cannot open %s", path);
        free(path);
        return rc;
    }
    *fd_r = fd;
    *path_r = path;
    return 0;
}

static int
file_resize(struct sim *s, int fd, const char *path, uint64_t size)
{
    if (ftruncate(fd, (off_t)size) < 0)
        return keel_error_errno(
            s->ctx, 0, "cannot resize %s to %" PRIu64 " bytes", path, size);
    return 0;
}

/* The frame count of an existing memory file: its size in frames. */
static int
file_pages(struct sim *s, int fd, const char *path, uint64_t *nr_r)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return keel_error_errno(s->ctx, 0, "cannot stat %s", path);
    if (st.st_size % KEEL_PAGE_SIZE != 0)
        return keel_error(
            s->ctx, KEEL_ECORRUPT,
            "%s: size %jd is not a whole number of %u-byte frames", path,
            (intmax_t)st.st_size, KEEL_PAGE_SIZE);
    *nr_r = (uint64_t)st.st_size / KEEL_PAGE_SIZE;
    return 0;
}

/* Maps the files fd and bm_fd at nr frames into m. On failure m is
 * unchanged. */
static int
mem_map_files(struct sim *s, struct sim_mem *m, int fd, int bm_fd, uint64_t nr)
{
    void *base;
    void *bm;

    if (nr == 0) {
        m->base = NULL;
        m->bitmap = NULL;
        m->nr_pfns = 0;
        return 0;
    }
    base = mmap(NULL, (size_t)nr * KEEL_PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return keel_error_errno(
            s->ctx, 0, "cannot map %" PRIu64 " frames of guest memory", nr);
    /* A guest touches frames anywhere: without this the kernel reads
     * ahead (zero-filling) megabytes around every first touch of a hole,
     * which made dirtying a sparse 2 GiB guest cost seconds. */
    madvise(base, (size_t)nr * KEEL_PAGE_SIZE, MADV_RANDOM);
    bm = mmap(NULL, bitmap_bytes(nr), PROT_READ | PROT_WRITE, MAP_SHARED, bm_fd,
              0);
    if (bm == MAP_FAILED) {
        int rc = keel_error_errno(
            s->ctx, 0, "cannot map a log-dirty bitmap of %" PRIu64 " frames",
            nr);

        munmap(base, (size_t)nr * KEEL_PAGE_SIZE);
        return rc;
    }
    m->base = base;
    m->bitmap = bm;
    m->nr_pfns = nr;
    return 0;
}

/* The bitmap's size follows from the memory file's. A mismatch (a process
 * killed inside sim_mem_grow, between its two ftruncates) is repaired, not
 * refused: the frames it adds or drops were never mapped, so no dirty bit
 * is lost. */
int
sim_mem_open(struct sim *s, struct sim_domain *d, bool create)
{
    struct sim_mem m = {false, NULL, NULL, 0};
    char *path = NULL;
    uint64_t nr = d->max_kb / 4;
    int fd = -1, bm_fd = -1, rc;

    if (d->mem.open)
        return keel_error(s->ctx, KEEL_ESTATE,
                          "memory of domain %" PRIu32 " is already open",
                          d->domid);
    rc = mem_file_open(s, d->domid, "mem", create, &fd, &path);
    if (rc)
        goto out;
    if (create && nr > MEM_MAX_PFNS)
        rc = keel_error(s->ctx, KEEL_ERANGE,
                        "%" PRIu64 " KiB of memory is too large to simulate",
                        d->max_kb);
    else if (create)
        rc = file_resize(s, fd, path, nr * KEEL_PAGE_SIZE);
    else
        rc = file_pages(s, fd, path, &nr);
    if (rc)
        goto out;
    free(path);
    path = NULL;
    rc = mem_file_open(s, d->domid, "dirty", create, &bm_fd, &path);
    if (rc)
        goto out;
    rc = file_resize(s, bm_fd, path, bitmap_bytes(nr));
    if (rc)
        goto out;
    rc = mem_map_files(s, &m, fd, bm_fd, nr);
    if (rc)
        goto out;
    m.open = true;
    d->mem = m;
out:
    if (fd >= 0)
        close(fd);
    if (bm_fd >= 0)
        close(bm_fd);
    free(path);
    return rc;
}

/* nr_pfns is kept: it still says how large the files are. */
void
sim_mem_close(struct sim_mem *mem)
{
    if (mem->base)
        munmap(mem->base, (size_t)mem->nr_pfns * KEEL_PAGE_SIZE);
    if (mem->bitmap)
        munmap(mem->bitmap, bitmap_bytes(mem->nr_pfns));
    mem->base = NULL;
    mem->bitmap = NULL;
    mem->open = false;
}

static void
unlink_one(struct sim *s, uint32_t domid, const char *ext)
{
    char name[40];
    char *path;

    snprintf(name, sizeof(name), "dom-%" PRIu32 ".%s", domid, ext);
    path = sim_path(s, name);
    if (!path)
        return;
    if (unlink(path) < 0 && errno != ENOENT)
        keel_warn(s->ctx, "cannot remove %s: %s", path, strerror(errno));
    free(path);
}

void
sim_mem_unlink(struct sim *s, uint32_t domid)
{
    unlink_one(s, domid, "mem");
    unlink_one(s, domid, "dirty");
}

/* Grows the files first and maps them anew before letting the old
 * mappings go, so a failure leaves the domain as it was. Mappings made by
 * sim_mem_map stay valid: they map the file, not d->mem.base. */
/* Opens the memory file of an open domain's memory and, when bm_fd_r is
 * not NULL, its bitmap file; a descriptor not opened is -1. */
static int
mem_files(struct sim *s, struct sim_domain *d, int *fd_r, int *bm_fd_r)
{
    char *path = NULL;
    int rc;

    *fd_r = -1;
    if (bm_fd_r)
        *bm_fd_r = -1;
    if (!d->mem.open)
        return keel_error(s->ctx, KEEL_ESTATE,
                          "memory of domain %" PRIu32 " is not open", d->domid);
    rc = mem_file_open(s, d->domid, "mem", false, fd_r, &path);
    free(path);
    path = NULL;
    if (rc == 0 && bm_fd_r)
        rc = mem_file_open(s, d->domid, "dirty", false, bm_fd_r, &path);
    free(path);
    return rc;
}

static int
resize_both(int fd, int bm_fd, uint64_t nr_pfns)
{
    if (ftruncate(fd, (off_t)(nr_pfns * KEEL_PAGE_SIZE)) < 0 ||
        ftruncate(bm_fd, (off_t)bitmap_bytes(nr_pfns)) < 0)
        return -1;
    return 0;
}

int
sim_mem_grow(struct sim *s, struct sim_domain *d, uint64_t nr_pfns)
{
    struct sim_mem m = d->mem;
    uint64_t old = d->mem.nr_pfns;
    int fd = -1, bm_fd = -1, rc;

    if (nr_pfns <= old)
        return 0;
    if (nr_pfns > MEM_MAX_PFNS)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "%" PRIu64 " frames are too many to simulate",
                          nr_pfns);
    rc = mem_files(s, d, &fd, &bm_fd);
    if (rc)
        goto out;
    if (resize_both(fd, bm_fd, nr_pfns) < 0) {
        rc = keel_error_errno(s->ctx, 0,
                              "cannot grow the memory of domain %" PRIu32
                              " to %" PRIu64 " frames",
                              d->domid, nr_pfns);
        goto undo;
    }
    rc = mem_map_files(s, &m, fd, bm_fd, nr_pfns);
    if (rc)
        goto undo;
    if (d->mem.base)
        munmap(d->mem.base, (size_t)old * KEEL_PAGE_SIZE);
    if (d->mem.bitmap)
        munmap(d->mem.bitmap, bitmap_bytes(old));
    d->mem = m;
    goto out;
undo:
    /* The new tail was never mapped, so nothing in it is lost. */
    if (resize_both(fd, bm_fd, old) < 0)
        keel_warn(s->ctx,
                  "cannot shrink the memory of domain %" PRIu32 " back: %s",
                  d->domid, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (bm_fd >= 0)
        close(bm_fd);
    return rc;
}

static void
mark_dirty(struct sim_domain *d, uint64_t pfn)
{
    d->mem.bitmap[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
}

/* Maps each run of consecutive frames of fd with one mmap over the
 * reserve. */
static int
map_runs(struct sim *s, struct sim_domain *d, int fd, uint8_t *area,
         const uint64_t *pfns, size_t n, int prot)
{
    size_t i = 0;

    while (i < n) {
        size_t run = 1;
        void *p;

        while (i + run < n && pfns[i + run] == pfns[i] + run)
            run++;
        p = mmap(area + i * KEEL_PAGE_SIZE, run * KEEL_PAGE_SIZE, prot,
                 MAP_SHARED | MAP_FIXED, fd, (off_t)(pfns[i] * KEEL_PAGE_SIZE));
        if (p == MAP_FAILED)
            return keel_error_errno(
                s->ctx, 0, "cannot map frame %" PRIu64 " of domain %" PRIu32,
                pfns[i], d->domid);
        i += run;
    }
    return 0;
}

int
sim_mem_map(struct sim *s, struct sim_domain *d, const uint64_t *pfns, size_t n,
            unsigned int flags, void **addr_r)
{
    bool writable = flags & KEEL_HV_MAP_WRITE;
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    uint8_t *area = MAP_FAILED;
    size_t i;
    int fd = -1, rc;

    if (n == 0 || n > SIZE_MAX / KEEL_PAGE_SIZE)
        return keel_error(s->ctx, KEEL_EINVAL, "cannot map %zu frames", n);
    if (!d->mem.open)
        return keel_error(s->ctx, KEEL_ESTATE,
                          "memory of domain %" PRIu32 " is not open", d->domid);
    for (i = 0; i < n; i++)
        if (pfns[i] >= d->mem.nr_pfns)
            return keel_error(s->ctx, KEEL_ERANGE,
                              "frame %" PRIu64 " is beyond domain %" PRIu32
                              "'s %" PRIu64 " frames",
                              pfns[i], d->domid, d->mem.nr_pfns);
    rc = mem_files(s, d, &fd, NULL);
    if (rc == 0) {
        area = mmap(NULL, n * KEEL_PAGE_SIZE, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED)
            rc = keel_error_errno(
                s->ctx, 0, "cannot reserve %zu frames of address space", n);
    }
    if (rc == 0)
        rc = map_runs(s, d, fd, area, pfns, n, prot);
#ifdef MADV_POPULATE_WRITE
    /* Frames the caller will fill (a restore) are faulted in with one
     * call rather than a trap per page. Only a hint: a kernel without it
     * leaves the pages to fault one by one. */
    if (rc == 0 && (flags & KEEL_HV_MAP_FILL))
        (void)madvise(area, n * KEEL_PAGE_SIZE, MADV_POPULATE_WRITE);
#endif
    if (fd >= 0)
        close(fd);
    if (rc) {
        if (area != MAP_FAILED)
            munmap(area, n * KEEL_PAGE_SIZE);
        return rc;
    }
    /* We cannot see writes through the mapping, so under log-dirty every
     * frame mapped writable counts as dirtied when it is mapped, written
     * or not: the conservative choice Xen makes too, marking a frame dirty
     * when a writable foreign mapping of it is taken. Writes made through
     * the mapping after a later bitmap read are not seen. */
    if (writable && d->logdirty)
        for (i = 0; i < n; i++)
            mark_dirty(d, pfns[i]);
    *addr_r = area;
    return 0;
}

int
sim_mem_unmap(struct sim *s, void *addr, size_t n)
{
    if (!addr || n == 0 || n > SIZE_MAX / KEEL_PAGE_SIZE)
        return keel_error(s->ctx, KEEL_EINVAL, "cannot unmap %zu frames at %p",
                          n, addr);
    if (munmap(addr, n * KEEL_PAGE_SIZE) < 0)
        return keel_error_errno(s->ctx, 0, "cannot unmap %zu frames at %p", n,
                                addr);
    return 0;
}

/* splitmix64: one add and a finalizer per number, good enough to spread
 * dirtied pages and much cheaper than the page write it chooses. */
static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t
rng_next(uint64_t *state)
{
    *state += MIX_K1;
    return mix64(*state);
}

/* A new value at an offset that moves with it, so the frame differs from
 * every earlier state of itself. */
static void
dirty_frame(struct sim_domain *d, uint64_t pfn)
{
    uint64_t seq = ++d->dirty_seq;
    uint8_t *p =
        d->mem.base + pfn * KEEL_PAGE_SIZE + (seq % PAGE_WORDS) * sizeof(seq);

    memcpy(p, &seq, sizeof(seq));
    if (d->logdirty)
        mark_dirty(d, pfn);
}

/* The working set: [ws_start, ws_start + ws_pages) within the memory;
 * ws_pages 0 means the pages the domain holds (tot_kb). */
static void
working_set(const struct sim_domain *d, uint64_t *start_r, uint64_t *n_r)
{
    uint64_t nr = d->mem.nr_pfns;
    uint64_t start = d->guest.ws_start < nr ? d->guest.ws_start : nr;
    uint64_t n = d->guest.ws_pages ? d->guest.ws_pages : d->tot_kb / 4;

    *start_r = start;
    *n_r = n < nr - start ? n : nr - start;
}

void
sim_mem_dirty(struct sim *s, struct sim_domain *d, uint64_t elapsed_ns)
{
    uint64_t start, n, pages, i;
    double owed;

    if (!d->mem.base || d->guest.dirty_rate == 0)
        return;
    owed =
        (double)d->guest.dirty_rate * (double)elapsed_ns / 1e9 + d->dirty_carry;
    working_set(d, &start, &n);
    if (n == 0 || owed >= (double)n) {
        /* Saturated: no page can be more than dirty. */
        d->dirty_carry = 0;
        for (i = 0; i < n; i++)
            dirty_frame(d, start + i);
        return;
    }
    pages = (uint64_t)owed;
    d->dirty_carry = owed - (double)pages;
    if (d->rng == 0)
        d->rng = MIX_K2 ^ ((uint64_t)d->domid << 32);
    for (i = 0; i < pages; i++)
        dirty_frame(d, start + rng_next(&d->rng) % n);
}

/* Copies (dst may be NULL), counts and optionally clears bits 0..nbits-1
 * of src, 64 at a time. src is page-aligned; dst may be anywhere. Only
 * non-zero words are written back, so a clean region of the bitmap file
 * is not faulted in for writing. */
static uint64_t
bitmap_take(uint8_t *src, uint8_t *dst, uint64_t nbits, bool clear)
{
    uint64_t words = nbits / 64, count = 0, i;
    uint8_t *tail = src + words * 8;
    unsigned int rest = (unsigned int)(nbits % 64);

    for (i = 0; i < words; i++) {
        uint64_t w;

        memcpy(&w, src + i * 8, 8);
        if (dst)
            memcpy(dst + i * 8, &w, 8);
        if (!w)
            continue;
        count += (uint64_t)__builtin_popcountll(w);
        if (clear)
            memset(src + i * 8, 0, 8);
    }
    for (i = 0; i * 8 < rest; i++) {
        unsigned int bits = rest - i * 8 < 8 ? rest - i * 8 : 8;
        uint8_t mask = (uint8_t)((1u << bits) - 1);
        uint8_t b = tail[i] & mask;

        if (dst)
            dst[words * 8 + i] = b;
        count += (uint64_t)__builtin_popcount(b);
        if (clear && b)
            tail[i] &= (uint8_t)~mask;
    }
    return count;
}

/* As Xen's CLEAN, only the frames reported are cleared: a caller that
 * asks for fewer frames than the domain has leaves the rest dirty. */
int
sim_mem_logdirty_read(struct sim *s, struct sim_domain *d, uint8_t *bitmap,
                      uint64_t nr_pfns, unsigned int flags, uint64_t *dirty_r)
{
    uint64_t n = nr_pfns < d->mem.nr_pfns ? nr_pfns : d->mem.nr_pfns;
    uint64_t count = 0;
    size_t have;

    if (flags & ~KEEL_LOGDIRTY_PEEK)
        return keel_error(s->ctx, KEEL_EINVAL, "unknown flags 0x%x",
                          flags & ~KEEL_LOGDIRTY_PEEK);
    if (!d->logdirty)
        return keel_error(s->ctx, KEEL_ESTATE,
                          "log-dirty mode is off for domain %" PRIu32,
                          d->domid);
    if (nr_pfns && !bitmap)
        return keel_error(s->ctx, KEEL_EINVAL,
                          "no bitmap for %" PRIu64 " frames", nr_pfns);
    if (n)
        count = bitmap_take(d->mem.bitmap, bitmap, n,
                            !(flags & KEEL_LOGDIRTY_PEEK));
    /* Frames beyond the domain's read as clean. */
    have = bitmap_bytes(n);
    if (bitmap_bytes(nr_pfns) > have)
        memset(bitmap + have, 0, bitmap_bytes(nr_pfns) - have);
    if (dirty_r)
        *dirty_r = count;
    return 0;
}

void
sim_mem_logdirty_clear(struct sim_domain *d)
{
    if (d->mem.bitmap)
        bitmap_take(d->mem.bitmap, NULL, d->mem.nr_pfns, true);
}

/* One digest lane step: a bijection of h for a given word and of the word
 * for a given h, so changing any single word always changes the result. */
static uint64_t
lane(uint64_t h, uint64_t w, uint64_t k)
{
    h = (h ^ w) * k;
    return h ^ (h >> 29);
}

/* A frame's 128-bit hash: even words feed one lane, odd words the other,
 * two independent chains the CPU runs side by side. */
static void
hash_frame(const uint8_t *page, uint64_t h[2])
{
    uint64_t a = MIX_K1, b = MIX_K2;
    size_t i;

    for (i = 0; i < PAGE_WORDS; i += 2) {
        uint64_t w0, w1;

        memcpy(&w0, page + i * 8, 8);
        memcpy(&w1, page + i * 8 + 8, 8);
        a = lane(a, w0, MIX_K1);
        b = lane(b, w1, MIX_K2);
    }
    h[0] = a;
    h[1] = b;
}

/* Chains frame hashes in frame order, each keyed by its frame number. */
static void
digest_add(uint64_t acc[2], const uint64_t h[2], uint64_t pfn)
{
    acc[0] = lane(acc[0], h[0] ^ pfn, MIX_K2);
    acc[1] = lane(acc[1], h[1] + pfn, MIX_K1);
}

/* Finds the next frame range the file fd holds as data, [*start_r,
 * *end_r), at or after pfn; false when the rest of the file is a hole. A
 * file system without SEEK_DATA reports everything as data. */
static int
next_data(struct sim *s, struct sim_domain *d, int fd, uint64_t pfn,
          uint64_t *start_r, uint64_t *end_r, bool *found_r)
{
    uint64_t nr = d->mem.nr_pfns;
    off_t data, hole;

    *found_r = true;
    *start_r = pfn;
    *end_r = nr;
    data = lseek(fd, (off_t)(pfn * KEEL_PAGE_SIZE), SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        *found_r = false;
        return 0;
    }
    if (data < 0 && errno == EINVAL)
        return 0;
    if (data < 0)
        return keel_error_errno(
            s->ctx, 0, "cannot scan the memory of domain %" PRIu32, d->domid);
    hole = lseek(fd, data, SEEK_HOLE);
    *start_r = (uint64_t)data / KEEL_PAGE_SIZE;
    if (hole > data)
        *end_r = ((uint64_t)hole + KEEL_PAGE_SIZE - 1) / KEEL_PAGE_SIZE;
    if (*start_r >= nr)
        *found_r = false;
    if (*end_r > nr)
        *end_r = nr;
    return 0;
}

static int
digest_frames(struct sim *s, struct sim_domain *d, int fd, uint64_t acc[2])
{
    static const uint8_t zero[KEEL_PAGE_SIZE];
    uint64_t zh[2], h[2], pfn = 0, start, end;
    bool found = true;
    int rc;

    hash_frame(zero, zh);
    while (pfn < d->mem.nr_pfns) {
        rc = next_data(s, d, fd, pfn, &start, &end, &found);
        if (rc)
            return rc;
        if (!found)
            start = end = d->mem.nr_pfns;
        for (; pfn < start; pfn++)
            digest_add(acc, zh, pfn);
        for (; pfn < end; pfn++) {
            hash_frame(d->mem.base + pfn * KEEL_PAGE_SIZE, h);
            digest_add(acc, h, pfn);
        }
    }
    return 0;
}

int
sim_mem_digest(struct sim *s, struct sim_domain *d, char hex[33])
{
    uint64_t acc[2] = {MIX_K2, MIX_K1};
    uint64_t a, b;
    int fd, rc;

    rc = mem_files(s, d, &fd, NULL);
    if (rc == 0)
        rc = digest_frames(s, d, fd, acc);
    if (fd >= 0)
        close(fd);
    if (rc)
        return rc;
    /* Fold in the frame count, then mix the lanes into each other; every
     * step is invertible, so distinct states give distinct digests. */
    a = mix64(acc[0] ^ d->mem.nr_pfns);
    b = mix64(acc[1] ^ a);
    a += b;
    snprintf(hex, 33, "%016" PRIx64 "%016" PRIx64, a, b);
    return 0;
}

/* Parses the names of a domain's files, "dom-<domid>.mem", ".dirty" (mem.c)
 * and ".ctx" (blob.c), with no leading zeros; anything else is not ours. */
static bool
mem_file_domid(const char *name, uint32_t *domid_r)
{
    const char *p = name + 4;
    uint64_t v = 0;

    if (strncmp(name, "dom-", 4) != 0 || *p < '0' || *p > '9' ||
        (*p == '0' && p[1] != '.'))
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
    }
    if (strcmp(p, ".mem") != 0 && strcmp(p, ".dirty") != 0 &&
        strcmp(p, ".ctx") != 0 && strcmp(p, ".ctx.tmp") != 0)
        return false;
    *domid_r = (uint32_t)v;
    return true;
}

/* Removes the files of domains that do not exist, and of dying ones: a
 * process killed between recording a destroy and removing its files
 * leaves them. Best effort: a file that cannot be removed is logged and
 * left. */
int
sim_mem_gc(struct sim *s)
{
    DIR *dir = opendir(s->dir);
    struct sim_domain *d;
    struct dirent *de;
    uint32_t domid;

    if (!dir)
        return keel_error_errno(s->ctx, 0, "cannot read %s", s->dir);
    for (;;) {
        errno = 0;
        de = readdir(dir);
        if (!de)
            break;
        if (!mem_file_domid(de->d_name, &domid))
            continue;
        d = sim_domain_find(s, domid);
        if (d && !d->dying)
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) < 0)
            keel_warn(s->ctx, "cannot remove orphaned %s/%s: %s", s->dir,
                      de->d_name, strerror(errno));
        else
            keel_warn(s->ctx, "removed %s/%s: domain %" PRIu32 " %s", s->dir,
                      de->d_name, domid, d ? "is dying" : "does not exist");
    }
    if (errno) {
        int rc = keel_error_errno(s->ctx, 0, "cannot read %s", s->dir);

        closedir(dir);
        return rc;
    }
    closedir(dir);
    return 0;
}
