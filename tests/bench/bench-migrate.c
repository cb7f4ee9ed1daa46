/* bench-migrate.c: save, restore and live migration throughput (make bench)
 *
 * Two sim hosts (A and B, real clock) in a directory under $TMPDIR. The
 * guest is a 1 GiB HVM domain whose every frame holds data, so nothing is
 * skipped as zero. Figures, each against a baseline in the same run:
 *
 *   migrate.save_1g      keel_domain_save (xl format, domain left running)
 *                        into a pipe that a thread drains, vs write() of
 *                        as many bytes from a buffer into the same pipe
 *   migrate.restore_1g   keel_domain_restore (paused) from a saved file in
 *                        the page cache, and destroying the domain, vs
 *                        read() of the same file into memory nothing has
 *                        touched yet (a fresh anonymous mapping of the
 *                        file's size), as a restore must fill a new
 *                        domain's memory
 *   migrate.live_P       live migration A -> B over a UNIX socket pair of
 *                        the guest dirtying P% of its memory per second
 *                        (P = 5, 20, 50, and 400: a guest that cannot
 *                        converge), once under Xen's policy and once
 *                        under keel's (defaults: as low a downtime as the
 *                        guest allows): one line
 *                        per run with total time, downtime, stream bytes
 *                        and passes, then lines giving keel's downtime,
 *                        bytes and total time as ratios of Xen's
 *
 * Arguments, if any, pick groups: save, restore, live.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <keel/domain.h>
#include <keel/host.h>
#include <keel/hv.h>
#include <keel/keel.h>
#include <keel/migrate.h>
#include <keel/sim.h>

#include "bench.h"

#define GUEST_MB 1024
#define GUEST_PFNS ((uint64_t)GUEST_MB * 256)
#define CHUNK (4u << 20)

struct side {
    struct keel_hv *hv;
    struct keel_host *host;
};

static struct keel_ctx *ctx;
static struct side A, B;
static char *topdir;

static int
fail(const char *what, int rc)
{
    fprintf(stderr, "bench-migrate: %s: %s (%s)\n", what, keel_strerror(rc),
            keel_ctx_last_error(ctx));
    return rc;
}

static int
side_open(struct side *s, const char *name)
{
    char sim[4096], state[4096];
    struct keel_hv_open_args args = {.dir = sim, .spec = "memory=8G"};
    int rc;

    snprintf(sim, sizeof(sim), "%s/sim%s", topdir, name);
    snprintf(state, sizeof(state), "%s/state%s", topdir, name);
    rc = keel_hv_open(ctx, "sim", &args, &s->hv);
    if (rc == 0)
        rc = keel_host_open(ctx, s->hv, state, 0, &s->host);
    return rc ? fail("opening a sim host", rc) : 0;
}

/* A running 1 GiB HVM guest whose every frame holds data. */
static int
make_guest(struct side *s, const char *name, uint32_t *domid_r)
{
    struct keel_domain_config cfg;
    uint64_t pfns[1024], base;
    size_t i, j;
    int rc;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.type = KEEL_DOMAIN_HVM;
    cfg.memory_kb = (int64_t)GUEST_MB * 1024;
    cfg.vcpus = 2;
    rc = keel_domain_create(s->host, &cfg, 0, domid_r);
    keel_domain_config_dispose(&cfg);
    if (rc)
        return fail("creating the guest", rc);
    for (base = 0; rc == 0 && base < GUEST_PFNS; base += 1024) {
        uint8_t *p;

        for (i = 0; i < 1024; i++)
            pfns[i] = base + i;
        rc = keel_hv_mem_map(s->hv, *domid_r, pfns, 1024, true, (void **)&p);
        if (rc)
            break;
        for (i = 0; i < 1024; i++)
            for (j = 0; j < KEEL_PAGE_SIZE; j += 512)
                memcpy(p + i * KEEL_PAGE_SIZE + j, &pfns[i], 8);
        rc = keel_hv_mem_unmap(s->hv, p, 1024);
    }
    return rc ? fail("filling the guest", rc) : 0;
}

/* --- save --- */

struct drain {
    int fd;
    uint64_t bytes;
};

static void *
drain_thread(void *opaque)
{
    struct drain *d = opaque;
    static char buf[1 << 20];
    ssize_t r;

    while ((r = read(d->fd, buf, sizeof(buf))) != 0)
        if (r > 0)
            d->bytes += (uint64_t)r;
        else if (errno != EINTR)
            break;
    return NULL;
}

struct save_arg {
    uint32_t domid;
    int fd;
    uint64_t stream_bytes;
    char *buf;
};

static int
do_save(void *opaque, uint64_t n)
{
    struct save_arg *a = opaque;
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING};
    uint64_t i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = keel_domain_save(A.host, a->domid, a->fd, &so);
        if (rc)
            return fail("save", rc);
    }
    return 0;
}

static int
write_bytes(int fd, const char *buf, uint64_t total)
{
    while (total) {
        size_t n = total < CHUNK ? (size_t)total : CHUNK;
        ssize_t r = write(fd, buf, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -errno;
        total -= (uint64_t)r;
    }
    return 0;
}

static int
do_write(void *opaque, uint64_t n)
{
    struct save_arg *a = opaque;
    uint64_t i;
    int r = 0;

    for (i = 0; r == 0 && i < n; i++)
        r = write_bytes(a->fd, a->buf, a->stream_bytes);
    return r;
}

static int
on_size(void *opaque, const struct keel_migrate_progress *p)
{
    if (p->phase == KEEL_MIGRATE_PHASE_DONE)
        *(uint64_t *)opaque = p->bytes_done;
    return 0;
}

/* The length of the guest's saved stream (one save into /dev/null). */
static int
stream_size(uint32_t domid, uint64_t *bytes_r)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING,
                                .progress = on_size,
                                .opaque = bytes_r};
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -errno;
    rc = keel_domain_save(A.host, domid, fd, &so);
    close(fd);
    return rc ? fail("save to /dev/null", rc) : 0;
}

static int
bench_save(uint32_t domid)
{
    struct save_arg arg = {.domid = domid};
    struct drain d = {.fd = -1};
    struct bench_side subject = {"migrate.save_1g", do_save, &arg, 0, 0, 0};
    struct bench_side base = {
        "write() into the same pipe", do_write, &arg, 0, 0, 0};
    pthread_t t;
    int p[2], rc;

    if (pipe(p))
        return -errno;
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    d.fd = p[0];
    arg.fd = p[1];
    pthread_create(&t, NULL, drain_thread, &d);
    rc = stream_size(domid, &arg.stream_bytes);
    arg.buf = calloc(1, CHUNK);
    subject.units_per_op = base.units_per_op =
        (double)arg.stream_bytes / (1 << 20);
    if (rc == 0 && arg.buf)
        rc = bench_compare(&subject, &base);
    if (rc == 0)
        bench_report(&subject, &base, "MiB/s");
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    free(arg.buf);
    return rc;
}

/* --- restore --- */

struct restore_arg {
    int fd;
    uint64_t size;
};

static int
do_restore(void *opaque, uint64_t n)
{
    struct restore_arg *a = opaque;
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};
    uint64_t i;
    uint32_t domid;
    int rc;

    for (i = 0; i < n; i++) {
        lseek(a->fd, 0, SEEK_SET);
        rc = keel_domain_restore(B.host, a->fd, &ro, &domid);
        if (rc)
            return fail("restore", rc);
        rc = keel_domain_destroy(B.host, domid);
        if (rc)
            return fail("destroy", rc);
    }
    return 0;
}

/* The bytes of the file into memory nothing has touched yet, as a
 * restore must put them: read() into a fresh anonymous mapping of the
 * file's size, then unmap it. */
static int
do_read(void *opaque, uint64_t n)
{
    struct restore_arg *a = opaque;
    uint64_t i;

    for (i = 0; i < n; i++) {
        uint8_t *mem = mmap(NULL, (size_t)a->size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint64_t done = 0;
        ssize_t r = 0;

        if (mem == MAP_FAILED)
            return -errno;
        lseek(a->fd, 0, SEEK_SET);
        while (done < a->size &&
               (r = read(a->fd, mem + done,
                         a->size - done < CHUNK ? (size_t)(a->size - done)
                                                : CHUNK)) > 0)
            done += (uint64_t)r;
        munmap(mem, (size_t)a->size);
        if (r < 0)
            return -errno;
    }
    return 0;
}

static int
bench_restore(uint32_t domid)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING};
    struct restore_arg arg;
    struct bench_side subject = {
        "migrate.restore_1g", do_restore, &arg, 0, 0, 0};
    struct bench_side base = {"read() of the same file into fresh memory",
                              do_read, &arg, 0, 0, 0};
    char path[4096];
    int rc;

    snprintf(path, sizeof(path), "%s/guest.save", topdir);
    arg.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (arg.fd < 0)
        return -errno;
    rc = keel_domain_save(A.host, domid, arg.fd, &so);
    if (rc)
        return fail("save to a file", rc);
    arg.size = (uint64_t)lseek(arg.fd, 0, SEEK_END);
    subject.units_per_op = base.units_per_op = (double)arg.size / (1 << 20);
    rc = do_read(&arg, 1); /* into the page cache */
    if (rc == 0)
        rc = bench_compare(&subject, &base);
    if (rc == 0)
        bench_report(&subject, &base, "MiB/s");
    close(arg.fd);
    unlink(path);
    return rc;
}

/* --- live migration --- */

struct run {
    int fd;
    uint32_t domid;
    struct keel_save_opts so;
    int rc;
    uint64_t elapsed_ns, downtime_ns, bytes;
    uint32_t passes;
};

static int
on_done(void *opaque, const struct keel_migrate_progress *p)
{
    struct run *r = opaque;

    if (p->phase == KEEL_MIGRATE_PHASE_LIVE)
        fprintf(stderr,
                "bench:   pass %u: %" PRIu64 " pages in %.1f ms, %" PRIu64
                " dirty\n",
                p->pass.pass, p->pass.pages_sent,
                (double)p->pass.send_ns / 1e6, p->pass.dirty_pages);
    if (p->phase == KEEL_MIGRATE_PHASE_DONE) {
        r->elapsed_ns = p->elapsed_ns;
        r->downtime_ns = p->downtime_ns;
        r->bytes = p->bytes_done;
        r->passes = p->passes;
    }
    return 0;
}

static void *
send_thread(void *opaque)
{
    struct run *r = opaque;

    r->so.progress = on_done;
    r->so.opaque = r;
    r->rc = keel_domain_migrate_send(A.host, r->domid, r->fd, r->fd, &r->so);
    return NULL;
}

struct recv_run {
    int fd, rc;
    uint32_t domid;
};

static void *
recv_thread(void *opaque)
{
    struct recv_run *r = opaque;
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};

    r->rc = keel_domain_migrate_receive(B.host, r->fd, r->fd, &ro, &r->domid);
    return NULL;
}

static int
live_once(unsigned int pct, const struct keel_migrate_policy *policy,
          struct run *run)
{
    struct keel_sim_guest g;
    struct recv_run rr = {.fd = -1};
    pthread_t ts, tr;
    int sv[2], rc;

    memset(run, 0, sizeof(*run));
    rc = make_guest(&A, "mover", &run->domid);
    if (rc)
        return rc;
    rc = keel_sim_guest_get(A.hv, run->domid, &g);
    g.busy = true;
    g.dirty_rate = GUEST_PFNS * pct / 100;
    g.ws_start = 0;
    g.ws_pages = 0;
    if (rc == 0)
        rc = keel_sim_guest_set(A.hv, run->domid, &g);
    if (rc)
        return fail("guest settings", rc);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return -errno;
    run->fd = sv[0];
    rr.fd = sv[1];
    run->so.policy = policy;
    usleep(100 * 1000); /* let it run */
    pthread_create(&ts, NULL, send_thread, run);
    pthread_create(&tr, NULL, recv_thread, &rr);
    pthread_join(ts, NULL);
    pthread_join(tr, NULL);
    close(sv[0]);
    close(sv[1]);
    if (run->rc || rr.rc) {
        fprintf(stderr, "bench-migrate: live %u%%: send %d, receive %d (%s)\n",
                pct, run->rc, rr.rc, keel_ctx_last_error(ctx));
        if (rr.rc == 0)
            keel_domain_destroy(B.host, rr.domid);
        if (run->rc)
            keel_domain_destroy(A.host, run->domid);
        return run->rc ? run->rc : rr.rc;
    }
    return keel_domain_destroy(B.host, rr.domid);
}

static void
report_run(unsigned int pct, const char *policy, const struct run *r)
{
    printf("{\"bench\":\"migrate.live_%u\",\"policy\":\"%s\","
           "\"total_ms\":%.1f,\"downtime_ms\":%.2f,\"bytes\":%" PRIu64
           ",\"passes\":%u,\"gib\":1}\n",
           pct, policy, (double)r->elapsed_ns / 1e6,
           (double)r->downtime_ns / 1e6, r->bytes, r->passes);
}

static void
report_ratio(unsigned int pct, const char *what, const char *unit, double keel,
             double xen)
{
    printf("{\"bench\":\"migrate.live_%u.%s\",\"unit\":\"%s\",\"value\":", pct,
           what, unit);
    bench_json_num(stdout, keel);
    printf(",\"baseline\":\"Xen's policy\",\"baseline_value\":");
    bench_json_num(stdout, xen);
    printf(",\"ratio\":");
    bench_json_num(stdout, xen > 0 ? keel / xen : 0);
    printf(",\"n\":1}\n");
}

static int
bench_live(void)
{
    static const unsigned int pcts[] = {5, 20, 50, 400};
    struct keel_migrate_policy xen = {.kind = KEEL_MIGRATE_POLICY_XEN};
    struct keel_migrate_policy ours = {.kind = KEEL_MIGRATE_POLICY_DOWNTIME};
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        struct run rx, rk;

        fprintf(stderr, "bench: live migration, %u%% dirty per second\n",
                pcts[i]);
        rc = live_once(pcts[i], &xen, &rx);
        if (rc == 0)
            rc = live_once(pcts[i], &ours, &rk);
        if (rc)
            break;
        report_run(pcts[i], "xen", &rx);
        report_run(pcts[i], "keel", &rk);
        report_ratio(pcts[i], "downtime", "ms", (double)rk.downtime_ns / 1e6,
                     (double)rx.downtime_ns / 1e6);
        report_ratio(pcts[i], "bytes", "MiB", (double)rk.bytes / (1 << 20),
                     (double)rx.bytes / (1 << 20));
        report_ratio(pcts[i], "total", "ms", (double)rk.elapsed_ns / 1e6,
                     (double)rx.elapsed_ns / 1e6);
        fflush(stdout);
    }
    return rc;
}

static bool
wanted(int argc, char **argv, const char *group)
{
    int i;

    if (argc < 2)
        return true;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], group) == 0)
            return true;
    return false;
}

int
main(int argc, char **argv)
{
    uint32_t domid = 0;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (keel_ctx_new(&ctx, 0))
        return 1;
    topdir = bench_tmpdir("keel-bench-migrate");
    if (!topdir)
        return 1;
    rc = side_open(&A, "A");
    if (rc == 0)
        rc = side_open(&B, "B");
    if (rc == 0 &&
        (wanted(argc, argv, "save") || wanted(argc, argv, "restore")))
        rc = make_guest(&A, "saved", &domid);
    if (rc == 0 && wanted(argc, argv, "save"))
        rc = bench_save(domid);
    if (rc == 0 && wanted(argc, argv, "restore"))
        rc = bench_restore(domid);
    if (rc == 0 && domid)
        rc = keel_domain_destroy(A.host, domid);
    if (rc == 0 && wanted(argc, argv, "live"))
        rc = bench_live();
    keel_host_close(A.host);
    keel_host_close(B.host);
    keel_hv_close(A.hv);
    keel_hv_close(B.hv);
    bench_rmtree(topdir);
    free(topdir);
    keel_ctx_free(ctx);
    return rc ? 1 : 0;
}
