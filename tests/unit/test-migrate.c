/* test-migrate.c: save, restore, live migration and checkpoints between
 * two sim hosts
 *
 * Each test opens two hosts (A, the source, and B, the destination) on two
 * sim directories. Guests dirty memory on the sim's manual clock, moved by
 * the test (or by a progress callback during a live phase), so what is in
 * memory at the moment of the pause is known exactly. The properties
 * checked are those of migrate.h: the destination's memory digest and
 * every context blob equal the source's at the pause; a stream cut or
 * corrupted anywhere leaves no domain on the receiver; a failing sender
 * leaves its domain as it was.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <keel/domain.h>
#include <keel/migrate.h>
#include <keel/stream.h>

#include "harness.h"

#define MS 1000000ull

struct side {
    struct keel_hv *hv;
    struct keel_host *host;
};

static struct side A, B;
static bool manual = true;

static void
hosts_open_clock(bool manual_clock)
{
    unsigned int flags = manual_clock ? KEEL_HV_OPEN_MANUAL_CLOCK : 0;

    manual = manual_clock;
    signal(SIGPIPE, SIG_IGN);
    A.hv = th_sim_open(th_path("simA"), NULL, flags);
    A.host = th_host_open(A.hv, th_path("stateA"));
    B.hv = th_sim_open(th_path("simB"), NULL, flags);
    B.host = th_host_open(B.hv, th_path("stateB"));
}

static void
hosts_open(void)
{
    hosts_open_clock(true);
}

/* A running domain of type and mem_mb whose guest dirties rate pages/s
 * over all its memory; it runs 50 ms so it has content. */
static uint32_t
make(struct side *s, const char *name, enum keel_domain_type type,
     int64_t mem_mb, uint64_t rate)
{
    struct keel_domain_config cfg;
    struct keel_sim_guest g;
    uint32_t domid = 0;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.type = type;
    cfg.memory_kb = mem_mb * 1024;
    cfg.vcpus = 2;
    cfg.maxvcpus = 3;
    OK(keel_domain_create(s->host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    OK(keel_sim_guest_get(s->hv, domid, &g));
    g.busy = true;
    g.dirty_rate = rate;
    OK(keel_sim_guest_set(s->hv, domid, &g));
    if (manual)
        OK(keel_sim_clock_advance(s->hv, 50 * MS));
    else
        usleep(50 * 1000);
    return domid;
}

static void
digest(struct side *s, uint32_t domid, char hex[33])
{
    OK(keel_sim_memory_digest(s->hv, domid, hex));
}

/* Domains that are not dying (a destroyed domain is dying until the
 * manual clock moves). */
static size_t
n_domains(struct side *s)
{
    struct keel_domain_info *all;
    size_t n, i, live = 0;

    OK(keel_domain_list(s->host, &all, &n));
    for (i = 0; i < n; i++)
        live += all[i].state != KEEL_DOMAIN_DYING;
    free(all);
    return live;
}

static enum keel_domain_state
state_of(struct side *s, uint32_t domid)
{
    struct keel_domain_info info;

    OK(keel_domain_info(s->host, domid, &info));
    return info.state;
}

/* Every context blob of a domain on a equals b's (kinds it lacks on both
 * sides are fine). */
static void
contexts_equal(struct side *a, uint32_t da, struct side *b, uint32_t db)
{
    uint32_t kind, v;

    for (kind = KEEL_HV_CTX_VCPU; kind <= KEEL_HV_CTX_MSR; kind++) {
        for (v = 0; v < 3; v++) {
            void *x = NULL, *y = NULL;
            size_t xl = 0, yl = 0;
            int rx = keel_hv_context_get(a->hv, da, kind, v, &x, &xl);
            int ry = keel_hv_context_get(b->hv, db, kind, v, &y, &yl);

            if (rx == 0 && ry == 0) {
                ck_assert_uint_eq(xl, yl);
                ck_assert_msg(memcmp(x, y, xl) == 0,
                              "context kind %u index %u differs", kind, v);
            } else {
                /* Offline vCPUs travel with nothing, as in Xen. */
                ck_assert_msg(rx == ry || v >= 2, "kind %u index %u: %d/%d",
                              kind, v, rx, ry);
            }
            free(x);
            free(y);
        }
    }
}

/* A memfd with the stream, at offset 0. */
static int
save_to_memfd(struct side *s, uint32_t domid, const struct keel_save_opts *opts)
{
    int fd = memfd_create("stream", MFD_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    OK(keel_domain_save(s->host, domid, fd, opts));
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static int
fd_of_bytes(const void *buf, size_t len)
{
    int fd = memfd_create("cut", MFD_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static uint8_t *
slurp(int fd, size_t *len_r)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf = malloc((size_t)end);

    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pread(fd, buf, (size_t)end, 0), end);
    *len_r = (size_t)end;
    return buf;
}

/* --- save and restore --- */

static void
round_trip(enum keel_domain_type type)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_PAUSED};
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};
    char before[33], after[33];
    uint32_t src, dst;
    int fd;

    hosts_open();
    src = make(&A, "guest", type, 32, 20000);
    fd = save_to_memfd(&A, src, &so);
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_PAUSED);
    digest(&A, src, before);
    OK(keel_domain_restore(B.host, fd, &ro, &dst));
    close(fd);
    digest(&B, dst, after);
    ck_assert_str_eq(before, after);
    contexts_equal(&A, src, &B, dst);
    ck_assert_int_eq(state_of(&B, dst), KEEL_DOMAIN_PAUSED);
}

START_TEST(save_restore_pv)
{
    round_trip(KEEL_DOMAIN_PV);
}
END_TEST

START_TEST(save_restore_hvm)
{
    round_trip(KEEL_DOMAIN_HVM);
}
END_TEST

START_TEST(save_restore_pvh)
{
    round_trip(KEEL_DOMAIN_PVH);
}
END_TEST

/* The default save destroys the domain; the same host can take it back,
 * under its name and uuid, running. */
START_TEST(save_destroys_then_restore_here)
{
    struct keel_domain_info info;
    char before[33], after[33];
    uint32_t src, dst;
    int fd;

    hosts_open();
    src = make(&A, "guest", KEEL_DOMAIN_PVH, 16, 5000);
    OK(keel_domain_pause(A.host, src));
    digest(&A, src, before);
    OK(keel_domain_unpause(A.host, src));
    fd = save_to_memfd(&A, src, NULL);
    th_assert_err(keel_domain_info(A.host, src, &info), KEEL_ENODOMAIN, NULL);
    ck_assert_uint_eq(n_domains(&A), 1); /* Domain-0 */
    OK(keel_domain_restore(A.host, fd, NULL, &dst));
    close(fd);
    OK(keel_domain_info(A.host, dst, &info));
    ck_assert_str_eq(info.name, "guest");
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    OK(keel_domain_pause(A.host, dst));
    digest(&A, dst, after);
    ck_assert_str_eq(before, after);
}
END_TEST

/* xl save -c: the domain keeps running; restoring elsewhere under a new
 * name works. */
START_TEST(save_leave_running_and_rename)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING};
    struct keel_restore_opts ro = {.name = "copy"};
    struct keel_domain_info info;
    uint32_t src, dst;
    int fd;

    hosts_open();
    src = make(&A, "guest", KEEL_DOMAIN_PV, 16, 1000);
    fd = save_to_memfd(&A, src, &so);
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_RUNNING);
    OK(keel_domain_restore(B.host, fd, &ro, &dst));
    close(fd);
    OK(keel_domain_info(B.host, dst, &info));
    ck_assert_str_eq(info.name, "copy");
}
END_TEST

/* The records of a saved file, in Xen's order, pass the verifier. */
struct listing {
    char names[256][40];
    size_t n;
};

static int
list_item(void *opaque, const struct keel_stream_item *it)
{
    struct listing *l = opaque;
    const char *name = NULL;

    if (it->kind == KEEL_STREAM_ITEM_IMAGE_RECORD)
        name = keel_stream_xc_rec_name(it->type);
    else if (it->kind == KEEL_STREAM_ITEM_LIBXL_RECORD)
        name = keel_stream_libxl_rec_name(it->type);
    else if (it->kind == KEEL_STREAM_ITEM_XL_HEADER)
        name = "xl";
    else if (it->kind == KEEL_STREAM_ITEM_LIBXL_HEADER)
        name = "libxl";
    else if (it->kind == KEEL_STREAM_ITEM_IMAGE_HEADER)
        name = "image";
    ck_assert_ptr_nonnull(name);
    /* Runs of PAGE_DATA count once. */
    if (l->n && strcmp(name, "PAGE_DATA") == 0 &&
        strcmp(l->names[l->n - 1], "PAGE_DATA") == 0)
        return 0;
    ck_assert_uint_lt(l->n, 256);
    snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
    return 0;
}

static void
check_order(enum keel_domain_type type, const char *const *want)
{
    struct keel_stream_summary sum;
    struct listing l = {.n = 0};
    uint32_t src;
    size_t i;
    int fd;

    hosts_open();
    src = make(&A, "guest", type, 8, 1000);
    fd = save_to_memfd(&A, src, NULL);
    OK(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, list_item, &l, &sum));
    close(fd);
    ck_assert_int_eq(sum.format, KEEL_STREAM_XL);
    ck_assert_uint_eq(sum.image_version, 3);
    ck_assert_uint_eq(sum.pages, 8 * 256);
    for (i = 0; want[i]; i++) {
        ck_assert_uint_lt(i, l.n);
        ck_assert_str_eq(l.names[i], want[i]);
    }
    ck_assert_uint_eq(i, l.n);
}

START_TEST(record_order_pv)
{
    static const char *const want[] = {"xl",
                                       "libxl",
                                       "LIBXC_CONTEXT",
                                       "image",
                                       "X86_PV_INFO",
                                       "X86_CPUID_POLICY",
                                       "X86_MSR_POLICY",
                                       "STATIC_DATA_END",
                                       "X86_PV_P2M_FRAMES",
                                       "PAGE_DATA",
                                       "X86_TSC_INFO",
                                       "SHARED_INFO",
                                       "X86_PV_VCPU_BASIC",
                                       "X86_PV_VCPU_EXTENDED",
                                       "X86_PV_VCPU_XSAVE",
                                       "X86_PV_VCPU_MSRS",
                                       "X86_PV_VCPU_BASIC",
                                       "X86_PV_VCPU_EXTENDED",
                                       "X86_PV_VCPU_XSAVE",
                                       "X86_PV_VCPU_MSRS",
                                       "END",
                                       "END",
                                       NULL};

    check_order(KEEL_DOMAIN_PV, want);
}
END_TEST

START_TEST(record_order_hvm)
{
    static const char *const want[] = {"xl",
                                       "libxl",
                                       "LIBXC_CONTEXT",
                                       "image",
                                       "X86_CPUID_POLICY",
                                       "X86_MSR_POLICY",
                                       "STATIC_DATA_END",
                                       "PAGE_DATA",
                                       "X86_TSC_INFO",
                                       "HVM_CONTEXT",
                                       "HVM_PARAMS",
                                       "END",
                                       "END",
                                       NULL};

    check_order(KEEL_DOMAIN_HVM, want);
}
END_TEST

/* --- live migration --- */

struct mig {
    struct side *side;
    uint32_t domid;
    int fd;
    struct keel_save_opts so;
    struct keel_restore_opts ro;
    int rc;
    char at_pause[33];
    uint64_t advance_ns; /* clock moved per batch of pages sent */
    uint32_t passes;
    uint64_t downtime_ns;
    int busy_rc;
    char msg[512]; /* the thread's error message */
};

static int
on_send(void *opaque, const struct keel_migrate_progress *p)
{
    struct mig *m = opaque;

    if (p->phase == KEEL_MIGRATE_PHASE_MEMORY) /* the guest runs meanwhile */
        OK(keel_sim_clock_advance(m->side->hv, m->advance_ns));
    if (p->phase == KEEL_MIGRATE_PHASE_LIVE) {
        m->busy_rc = keel_domain_pause(m->side->host, m->domid);
        keel_ctx_clear_error(th_ctx());
    }
    if (p->phase == KEEL_MIGRATE_PHASE_STOPCOPY)
        OK(keel_sim_memory_digest(m->side->hv, m->domid, m->at_pause));
    if (p->phase == KEEL_MIGRATE_PHASE_DONE) {
        m->passes = p->passes;
        m->downtime_ns = p->downtime_ns;
    }
    return 0;
}

static void *
sender(void *opaque)
{
    struct mig *m = opaque;

    m->so.progress = on_send;
    m->so.opaque = m;
    m->rc =
        keel_domain_migrate_send(m->side->host, m->domid, m->fd, m->fd, &m->so);
    snprintf(m->msg, sizeof(m->msg), "%s", keel_ctx_last_error(th_ctx()));
    return NULL;
}

static void *
receiver(void *opaque)
{
    struct mig *m = opaque;

    m->rc = keel_domain_migrate_receive(m->side->host, m->fd, m->fd, &m->ro,
                                        &m->domid);
    snprintf(m->msg, sizeof(m->msg), "%s", keel_ctx_last_error(th_ctx()));
    return NULL;
}

/* Runs a migration of domid from A to B; returns the receiver's side. */
static void
migrate(struct mig *snd, struct mig *rcv)
{
    pthread_t ts, tr;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    snd->side = &A;
    snd->fd = sv[0];
    rcv->side = &B;
    rcv->fd = sv[1];
    ck_assert_int_eq(pthread_create(&ts, NULL, sender, snd), 0);
    ck_assert_int_eq(pthread_create(&tr, NULL, receiver, rcv), 0);
    pthread_join(ts, NULL);
    pthread_join(tr, NULL);
    close(sv[0]);
    close(sv[1]);
}

static void
live(enum keel_domain_type type, const struct keel_migrate_policy *policy,
     uint32_t min_passes)
{
    struct mig snd = {.advance_ns = 5 * MS}, rcv = {.domid = 0};
    struct keel_domain_info info;
    char after[33];

    hosts_open();
    /* 16 MiB, 50000 pages/s: the full pass (4 batches, 20 ms) dirties
     * ~1000 of 4096 pages, each later pass ~250. */
    snd.domid = make(&A, "mover", type, 16, 50000);
    snd.so.policy = policy;
    rcv.ro.flags = KEEL_RESTORE_PAUSED;
    migrate(&snd, &rcv);
    OK(snd.rc);
    OK(rcv.rc);
    ck_assert_int_eq(snd.busy_rc, KEEL_EBUSY);
    ck_assert_uint_ge(snd.passes, min_passes);
    th_assert_err(keel_domain_info(A.host, snd.domid, &info), KEEL_ENODOMAIN,
                  NULL);
    digest(&B, rcv.domid, after);
    ck_assert_str_eq(snd.at_pause, after);
    OK(keel_domain_info(B.host, rcv.domid, &info));
    ck_assert_str_eq(info.name, "mover");
    ck_assert_int_eq(info.state, KEEL_DOMAIN_PAUSED);
}

START_TEST(live_pv_xen_policy)
{
    live(KEEL_DOMAIN_PV, NULL, 4); /* ~250 dirty pages never gets below 50 */
}
END_TEST

START_TEST(live_hvm_keel_policy)
{
    struct keel_migrate_policy p = {.kind = KEEL_MIGRATE_POLICY_DOWNTIME};

    live(KEEL_DOMAIN_HVM, &p, 1);
}
END_TEST

/* The destination already has the name: it refuses, and the source keeps
 * running, unharmed. */
START_TEST(live_refused_source_runs)
{
    struct mig snd = {.advance_ns = 5 * MS}, rcv = {.domid = 0};
    char before[33], after[33];

    hosts_open();
    snd.domid = make(&A, "twin", KEEL_DOMAIN_PVH, 8, 1000);
    make(&B, "twin", KEEL_DOMAIN_PVH, 8, 0);
    migrate(&snd, &rcv);
    ck_assert_int_ne(rcv.rc, 0);
    ck_assert_int_eq(snd.rc, KEEL_EIO);
    ck_assert_msg(strstr(snd.msg, "refused"), "%s", snd.msg);
    ck_assert_msg(strstr(rcv.msg, "twin"), "%s", rcv.msg);
    ck_assert_int_eq(state_of(&A, snd.domid), KEEL_DOMAIN_RUNNING);
    ck_assert_uint_eq(n_domains(&B), 2);
    OK(keel_domain_pause(A.host, snd.domid)); /* not busy any more */
    digest(&A, snd.domid, before);
    OK(keel_sim_clock_advance(A.hv, 10 * MS));
    digest(&A, snd.domid, after);
    ck_assert_str_eq(before, after); /* paused: log-dirty or not, still */
}
END_TEST

/* --- within one host --- */

/* The copy gets a new domid and, once the source is gone, its name and
 * uuid; its memory is the source's. */
START_TEST(local_keeps_name_and_uuid)
{
    struct keel_domain_info src_info, info;
    char before[33], after[33];
    uint32_t src, dst = 0, again = 0, found = 0;

    hosts_open_clock(false);
    src = make(&A, "homebody", KEEL_DOMAIN_PVH, 8, 0);
    OK(keel_domain_info(A.host, src, &src_info));
    digest(&A, src, before);
    OK(keel_domain_migrate_local(A.host, src, NULL, &dst));
    ck_assert_uint_ne(dst, src);
    ck_assert_uint_eq(n_domains(&A), 2); /* Domain-0 and the copy */
    OK(keel_domain_info(A.host, dst, &info));
    ck_assert_str_eq(info.name, "homebody");
    ck_assert_mem_eq(info.uuid, src_info.uuid, 16);
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    OK(keel_domain_lookup(A.host, "homebody", &found));
    ck_assert_uint_eq(found, dst);
    digest(&A, dst, after);
    ck_assert_str_eq(before, after);
    /* Nothing of the first one is in the way of a second. */
    OK(keel_domain_migrate_local(A.host, dst, NULL, &again));
    OK(keel_domain_info(A.host, again, &info));
    ck_assert_str_eq(info.name, "homebody");
    ck_assert_mem_eq(info.uuid, src_info.uuid, 16);
}
END_TEST

/* A domain already named NAME--incoming: refused before anything moves,
 * and the source runs on. */
START_TEST(local_refused_source_runs)
{
    uint32_t src, dst = 7;

    hosts_open_clock(false);
    src = make(&A, "busy", KEEL_DOMAIN_PV, 8, 0);
    make(&A, "busy--incoming", KEEL_DOMAIN_PV, 8, 0);
    th_assert_err(keel_domain_migrate_local(A.host, src, NULL, &dst),
                  KEEL_EEXIST, "busy--incoming");
    ck_assert_uint_eq(dst, KEEL_DOMID_INVALID);
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_RUNNING);
    ck_assert_uint_eq(n_domains(&A), 3);
    th_assert_err(keel_domain_migrate_local(A.host, 0, NULL, NULL), KEEL_EPERM,
                  "Domain-0");
}
END_TEST

/* After a process died mid-way: no copy, nothing to do; a copy that
 * runs wins over its paused source, keeping the source's name and uuid;
 * bad arguments refused. (keeld's recovery covers the other cases.) */
START_TEST(local_recover)
{
    struct keel_domain_info src_info, info;
    enum keel_local_recovery what = KEEL_LOCAL_RECOVERY_DROPPED;
    uint32_t src, copy, domid = 0;

    hosts_open_clock(false);
    src = make(&A, "phoenix", KEEL_DOMAIN_PV, 8, 0);
    OK(keel_domain_info(A.host, src, &src_info));
    OK(keel_domain_migrate_local_recover(A.host, "phoenix", src_info.uuid,
                                         false, &what, &domid));
    ck_assert_int_eq(what, KEEL_LOCAL_RECOVERY_NONE);
    ck_assert_uint_eq(domid, KEEL_DOMID_INVALID);
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_RUNNING);

    copy = make(&A, "phoenix--incoming", KEEL_DOMAIN_PV, 8, 0);
    OK(keel_domain_pause(A.host, src));
    OK(keel_domain_migrate_local_recover(A.host, "phoenix", src_info.uuid,
                                         false, &what, &domid));
    ck_assert_int_eq(what, KEEL_LOCAL_RECOVERY_TOOK_OVER);
    ck_assert_uint_eq(domid, copy);
    OK(keel_domain_info(A.host, copy, &info));
    ck_assert_str_eq(info.name, "phoenix");
    ck_assert_mem_eq(info.uuid, src_info.uuid, 16);
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert_int_eq(keel_domain_info(A.host, src, &info), KEEL_ENODOMAIN);
    ck_assert_uint_eq(n_domains(&A), 2);

    ck_assert_int_eq(keel_domain_migrate_local_recover(NULL, "x", src_info.uuid,
                                                       false, NULL, NULL),
                     KEEL_EINVAL);
    ck_assert_int_eq(keel_domain_migrate_local_recover(
                         A.host, NULL, src_info.uuid, false, NULL, NULL),
                     KEEL_EINVAL);
}
END_TEST

/* keel's policy with a downtime cap gives up on a guest that dirties
 * faster than the link: the source keeps running. */
static enum keel_migrate_decision
never_converges(void *opaque, const struct keel_migrate_pass *passes, size_t n,
                const char **why_r)
{
    (void)opaque;
    (void)passes;
    *why_r = "test says no";
    return n >= 2 ? KEEL_MIGRATE_ABORT : KEEL_MIGRATE_CONTINUE;
}

START_TEST(live_abort_source_runs)
{
    struct keel_migrate_policy p = {.kind = KEEL_MIGRATE_POLICY_CUSTOM,
                                    .decide = never_converges};
    struct mig snd = {.advance_ns = 5 * MS}, rcv = {.domid = 0};

    hosts_open();
    snd.domid = make(&A, "busy", KEEL_DOMAIN_HVM, 8, 1000);
    snd.so.policy = &p;
    migrate(&snd, &rcv);
    ck_assert_int_eq(snd.rc, KEEL_ETIMEDOUT);
    ck_assert_msg(strstr(snd.msg, "test says no"), "%s", snd.msg);
    ck_assert_int_ne(rcv.rc, 0);
    ck_assert_int_eq(state_of(&A, snd.domid), KEEL_DOMAIN_RUNNING);
    ck_assert_uint_eq(n_domains(&B), 1);
}
END_TEST

/* --- checkpoints --- */

struct cps {
    struct side *side;
    uint32_t domid;
    char digests[8][33];
    int n;
};

static int
on_checkpoint(void *opaque, const struct keel_migrate_progress *p)
{
    struct cps *c = opaque;

    if (p->phase == KEEL_MIGRATE_PHASE_CHECKPOINT) {
        ck_assert_int_lt(c->n, 8);
        OK(keel_sim_memory_digest(c->side->hv, c->domid, c->digests[c->n++]));
    }
    return 0;
}

/* Offset just past the n-th CHECKPOINT_END (1-based) of a stream. */
struct cut_at {
    int want, seen;
    uint64_t offset;
};

static int
find_checkpoint_end(void *opaque, const struct keel_stream_item *it)
{
    struct cut_at *c = opaque;

    if (it->kind == KEEL_STREAM_ITEM_LIBXL_RECORD &&
        it->type == KEEL_LIBXL_CHECKPOINT_END && ++c->seen == c->want)
        c->offset = it->offset + 8;
    return 0;
}

START_TEST(checkpoints_and_failover)
{
    struct cps c = {.n = 0};
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING,
                                .checkpoints = 3,
                                .interval_ms = 30,
                                .progress = on_checkpoint,
                                .opaque = &c};
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};
    struct keel_stream_summary sum;
    struct cut_at cut = {.want = 2};
    char after[33];
    uint8_t *buf;
    size_t len;
    uint32_t dst;
    int fd, fd2;

    hosts_open_clock(false); /* the guest runs between checkpoints */
    c.side = &A;
    c.domid = make(&A, "remus", KEEL_DOMAIN_HVM, 8, 20000);
    fd = save_to_memfd(&A, c.domid, &so);
    ck_assert_int_eq(c.n, 3);
    ck_assert_str_ne(c.digests[0], c.digests[2]);
    OK(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, find_checkpoint_end,
                          &cut, &sum));
    ck_assert_uint_eq(sum.checkpoints, 3);
    ck_assert_uint_gt(cut.offset, 0);
    /* The whole stream gives the last checkpoint. */
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    OK(keel_domain_restore(B.host, fd, &ro, &dst));
    digest(&B, dst, after);
    ck_assert_str_eq(after, c.digests[2]);
    OK(keel_domain_destroy(B.host, dst));
    /* Broken off inside the third checkpoint: the second one stands. */
    buf = slurp(fd, &len);
    fd2 = fd_of_bytes(buf, (size_t)cut.offset + 4096 + 100);
    OK(keel_domain_restore(B.host, fd2, &ro, &dst));
    digest(&B, dst, after);
    ck_assert_str_eq(after, c.digests[1]);
    free(buf);
    close(fd);
    close(fd2);
}
END_TEST

/* --- failure --- */

struct bounds {
    uint64_t offsets[512];
    size_t n;
};

static int
collect_bounds(void *opaque, const struct keel_stream_item *it)
{
    struct bounds *b = opaque;

    if (b->n < 512)
        b->offsets[b->n++] = it->offset;
    return 0;
}

/* Restoring bytes [0, len) must fail and leave B as it was. */
static void
restore_fails_clean(const uint8_t *buf, size_t len)
{
    uint32_t dst = 0;
    int fd = fd_of_bytes(buf, len), rc;

    rc = keel_domain_restore(B.host, fd, NULL, &dst);
    close(fd);
    ck_assert_msg(rc == KEEL_ECORRUPT || rc == KEEL_EIO,
                  "cut at %zu: rc %d (%s)", len, rc,
                  keel_ctx_last_error(th_ctx()));
    ck_assert_uint_eq(dst, KEEL_DOMID_INVALID);
    keel_ctx_clear_error(th_ctx());
    ck_assert_uint_eq(n_domains(&B), 1);
}

START_TEST(cut_at_every_record_and_at_random)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_PAUSED};
    struct bounds b = {.n = 0};
    uint8_t *buf;
    size_t len, i;
    uint32_t src;
    int fd;

    hosts_open();
    src = make(&A, "victim", KEEL_DOMAIN_PV, 8, 20000);
    fd = save_to_memfd(&A, src, &so);
    OK(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, collect_bounds, &b,
                          NULL));
    buf = slurp(fd, &len);
    close(fd);
    for (i = 0; i < b.n; i++) {
        restore_fails_clean(buf, (size_t)b.offsets[i]);
        restore_fails_clean(buf, (size_t)b.offsets[i] + 3);
    }
    restore_fails_clean(buf, len - 1);
    srand(7);
    for (i = 0; i < 40; i++)
        restore_fails_clean(buf, (size_t)rand() % len);
    free(buf);
}
END_TEST

/* Flipped bytes: a restore either fails clean or succeeds (a flip inside
 * page contents is data); nothing crashes, nothing is left behind. */
START_TEST(corrupt_at_random)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_PAUSED};
    uint8_t *buf;
    size_t len, i;
    uint32_t src;
    int fd;

    hosts_open();
    src = make(&A, "victim", KEEL_DOMAIN_HVM, 8, 20000);
    fd = save_to_memfd(&A, src, &so);
    buf = slurp(fd, &len);
    close(fd);
    srand(11);
    for (i = 0; i < 60; i++) {
        size_t at = (size_t)rand() % (i < 30 ? 512 : len);
        uint8_t old = buf[at];
        uint32_t dst = KEEL_DOMID_INVALID;
        int rc;

        buf[at] ^= (uint8_t)(1u << (rand() % 8));
        fd = fd_of_bytes(buf, len);
        rc = keel_domain_restore(B.host, fd, NULL, &dst);
        close(fd);
        if (rc == 0) {
            OK(keel_domain_destroy(B.host, dst));
        } else {
            ck_assert_uint_eq(dst, KEEL_DOMID_INVALID);
            keel_ctx_clear_error(th_ctx());
        }
        ck_assert_uint_eq(n_domains(&B), 1);
        buf[at] = old;
    }
    free(buf);
}
END_TEST

/* A sender whose peer goes away mid-stream fails with EIO and leaves the
 * domain running, not busy, with log-dirty off. */
static void *
read_some_then_close(void *opaque)
{
    int fd = *(int *)opaque;
    char b[65536];
    size_t got = 0;
    ssize_t r;

    while (got < 300000 && (r = read(fd, b, sizeof(b))) > 0)
        got += (size_t)r;
    close(fd);
    return NULL;
}

START_TEST(sender_peer_goes_away)
{
    struct keel_save_opts so = {.flags = KEEL_SAVE_LIVE};
    struct keel_hv_dominfo hi;
    pthread_t t;
    uint32_t src;
    int sv[2];

    hosts_open();
    src = make(&A, "guest", KEEL_DOMAIN_PVH, 16, 1000);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, read_some_then_close, &sv[1]), 0);
    th_assert_err(keel_domain_save(A.host, src, sv[0], &so), KEEL_EIO, NULL);
    pthread_join(t, NULL);
    close(sv[0]);
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_RUNNING);
    OK(keel_hv_domain_info(A.hv, src, &hi));
    ck_assert_uint_eq(hi.flags & KEEL_DOMF_LOGDIRTY, 0);
    OK(keel_domain_pause(A.host, src));
}
END_TEST

/* Cancels at the first batch of pages, after a keel call of its own
 * that fails (the domain is busy): the call's error must be the cancel,
 * not the callback's (it once was, the first error winning). */
static int
cancel_at_memory(void *opaque, const struct keel_migrate_progress *p)
{
    struct side *s = opaque;
    uint32_t domid;

    if (p->phase != KEEL_MIGRATE_PHASE_MEMORY)
        return 0;
    OK(keel_domain_lookup(s->host, "guest", &domid));
    ck_assert_int_eq(keel_domain_pause(s->host, domid), KEEL_EBUSY);
    return 1;
}

START_TEST(cancel_leaves_domain)
{
    struct keel_save_opts so = {.progress = cancel_at_memory, .opaque = &A};
    uint32_t src;
    int fd = memfd_create("s", MFD_CLOEXEC);

    hosts_open();
    src = make(&A, "guest", KEEL_DOMAIN_PV, 8, 1000);
    th_assert_err(keel_domain_save(A.host, src, fd, &so), KEEL_ECANCELED,
                  "cancelled by the caller");
    ck_assert_int_eq(state_of(&A, src), KEEL_DOMAIN_RUNNING);
    OK(keel_domain_pause(A.host, src));
    close(fd);
}
END_TEST

/* A config of the wrong type for the image, and a stream without one. */
START_TEST(restore_refusals)
{
    struct keel_domain_config cfg;
    struct keel_restore_opts ro = {.format = KEEL_STREAM_LIBXL};
    struct keel_save_opts so = {.flags = KEEL_SAVE_NO_XL_HEADER |
                                         KEEL_SAVE_LEAVE_PAUSED};
    uint32_t src, dst;
    int fd;

    hosts_open();
    src = make(&A, "guest", KEEL_DOMAIN_PV, 8, 1000);
    fd = save_to_memfd(&A, src, &so);
    th_assert_err(keel_domain_restore(B.host, fd, &ro, &dst), KEEL_EINVAL,
                  "no domain config");
    keel_domain_config_init(&cfg);
    cfg.name = strdup("other");
    cfg.type = KEEL_DOMAIN_HVM;
    cfg.memory_kb = 8 * 1024;
    cfg.vcpus = 2;
    cfg.maxvcpus = 3;
    ro.config = &cfg;
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    th_assert_err(keel_domain_restore(B.host, fd, &ro, &dst), KEEL_ECORRUPT,
                  "config says");
    ck_assert_uint_eq(n_domains(&B), 1);
    cfg.type = KEEL_DOMAIN_PV;
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    OK(keel_domain_restore(B.host, fd, &ro, &dst));
    keel_domain_config_dispose(&cfg);
    close(fd);
}
END_TEST

/* --- streams made by hand (what a peer may send) --- */

/* Starts a stream for a domain named name of type and mem_mb with 2
 * vCPUs: the xl header with its config, the libxl header, LIBXC_CONTEXT,
 * the image header and STATIC_DATA_END (PV: X86_PV_INFO before it and
 * X86_PV_P2M_FRAMES after). */
static struct keel_stream_writer *
craft_begin(int fd, const char *name, enum keel_domain_type type,
            int64_t mem_mb)
{
    struct keel_domain_config cfg;
    struct keel_stream_writer *w;
    uint64_t frames[64] = {5, 6, 7, 8};
    char *json;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.type = type;
    cfg.memory_kb = mem_mb * 1024;
    cfg.vcpus = 2;
    OK(keel_domain_config_write(th_ctx(), KEEL_CONFIG_JSON, &cfg, 0, &json));
    keel_domain_config_dispose(&cfg);
    OK(keel_stream_writer_new(th_ctx(), fd, &w));
    OK(keel_stream_write_xl_header(w, json));
    free(json);
    OK(keel_stream_write_libxl_header(w));
    OK(keel_stream_write_empty(w, KEEL_LIBXL_LIBXC_CONTEXT));
    OK(keel_stream_write_image_header(w,
                                      type == KEEL_DOMAIN_PV
                                          ? KEEL_STREAM_DHDR_X86_PV
                                          : KEEL_STREAM_DHDR_X86_HVM,
                                      4, 17));
    if (type == KEEL_DOMAIN_PV)
        OK(keel_stream_write_pv_info(w, 8, 4));
    OK(keel_stream_write_empty(w, KEEL_XC_STATIC_DATA_END));
    if (type == KEEL_DOMAIN_PV)
        OK(keel_stream_write_p2m_frames(w, 0, (uint32_t)(mem_mb * 256 - 1),
                                        frames, (size_t)(mem_mb * 256 / 512)));
    return w;
}

/* PAGE_DATA of n frames, frame i filled with the byte fill[i]. */
static void
craft_pages(struct keel_stream_writer *w, const uint64_t *pfns,
            const uint8_t *fill, size_t n)
{
    uint32_t types[8] = {0};
    uint8_t *pages = malloc(n * KEEL_PAGE_SIZE);
    size_t i;

    ck_assert_uint_le(n, 8);
    for (i = 0; i < n; i++)
        memset(pages + i * KEEL_PAGE_SIZE, fill[i], KEEL_PAGE_SIZE);
    OK(keel_stream_write_page_data(w, pfns, types, n, pages));
    free(pages);
}

static void
craft_end(struct keel_stream_writer *w)
{
    OK(keel_stream_write_empty(w, KEEL_XC_END));
    OK(keel_stream_write_empty(w, KEEL_LIBXL_END));
    keel_stream_writer_free(w);
}

/* The first byte of frame pfn of a domain. */
static uint8_t
byte_of(struct side *s, uint32_t domid, uint64_t pfn)
{
    uint8_t *p, b;

    OK(keel_hv_mem_map(s->hv, domid, &pfn, 1, 0, (void **)&p));
    b = p[0];
    OK(keel_hv_mem_unmap(s->hv, p, 1));
    return b;
}

/* Frames may come in any order and more than once: the last copy wins,
 * zero or not, and nothing is written outside its frame (a rewrite of
 * frames out of order once went through a span mapping that assumed
 * ascending order, and wrote below it). */
START_TEST(pages_in_any_order)
{
    static const uint64_t first[] = {0, 3000, 4095};
    static const uint64_t again[] = {3000, 0, 4095, 50};
    static const uint64_t dups[] = {7, 7, 8, 8};
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};
    struct keel_stream_writer *w;
    uint32_t dst;
    int fd = memfd_create("crafted", MFD_CLOEXEC);

    hosts_open();
    w = craft_begin(fd, "crafted", KEEL_DOMAIN_HVM, 16);
    craft_pages(w, first, (const uint8_t[]){0x11, 0x22, 0x33}, 3);
    craft_pages(w, again, (const uint8_t[]){0x44, 0x55, 0x66, 0x77}, 4);
    craft_pages(w, dups, (const uint8_t[]){0x88, 0x00, 0x00, 0x99}, 4);
    craft_end(w);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    OK(keel_domain_restore(B.host, fd, &ro, &dst));
    close(fd);
    ck_assert_uint_eq(byte_of(&B, dst, 0), 0x55);
    ck_assert_uint_eq(byte_of(&B, dst, 3000), 0x44);
    ck_assert_uint_eq(byte_of(&B, dst, 4095), 0x66);
    ck_assert_uint_eq(byte_of(&B, dst, 50), 0x77);
    ck_assert_uint_eq(byte_of(&B, dst, 7), 0x00);
    ck_assert_uint_eq(byte_of(&B, dst, 8), 0x99);
    ck_assert_uint_eq(byte_of(&B, dst, 1), 0x00);
}
END_TEST

/* Xen 4.6 to 4.8 wrote empty per-vCPU records; they restore (the reader
 * allows them, and the receiver once handed them to the hypervisor,
 * which refused "0 bytes"). A vCPU the domain does not have is the
 * stream's fault, named with its offset. */
START_TEST(empty_and_bad_vcpu_records)
{
    static const uint64_t pfn[] = {9};
    uint8_t blob[64] = {1};
    struct keel_stream_writer *w;
    uint32_t dst;
    int fd = memfd_create("crafted", MFD_CLOEXEC);

    hosts_open();
    w = craft_begin(fd, "old", KEEL_DOMAIN_PV, 8);
    craft_pages(w, pfn, (const uint8_t[]){0x5a}, 1);
    OK(keel_stream_write_vcpu(w, KEEL_XC_X86_PV_VCPU_BASIC, 0, blob, 64));
    OK(keel_stream_write_vcpu(w, KEEL_XC_X86_PV_VCPU_EXTENDED, 0, NULL, 0));
    OK(keel_stream_write_vcpu(w, KEEL_XC_X86_PV_VCPU_MSRS, 0, NULL, 0));
    craft_end(w);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    OK(keel_domain_restore(B.host, fd, NULL, &dst));
    close(fd);
    ck_assert_uint_eq(byte_of(&B, dst, 9), 0x5a);

    fd = memfd_create("crafted", MFD_CLOEXEC);
    w = craft_begin(fd, "bad", KEEL_DOMAIN_PV, 8);
    OK(keel_stream_write_vcpu(w, KEEL_XC_X86_PV_VCPU_BASIC, 7, blob, 64));
    craft_end(w);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    th_assert_err(keel_domain_restore(B.host, fd, NULL, &dst), KEEL_ECORRUPT,
                  "offset ");
    close(fd);
    ck_assert_uint_eq(n_domains(&B), 2);
}
END_TEST

/* A checkpoint may not hold more pages than the domain has (a peer
 * resending frames would grow the buffer without end). */
START_TEST(checkpoint_buffer_is_bounded)
{
    static const uint64_t pfns[] = {1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t fill[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct keel_stream_writer *w;
    uint32_t dst, i;
    int fd = memfd_create("crafted", MFD_CLOEXEC), rc;

    hosts_open();
    w = craft_begin(fd, "greedy", KEEL_DOMAIN_HVM, 1); /* 256 frames */
    craft_pages(w, pfns, fill, 1);
    OK(keel_stream_write_empty(w, KEEL_XC_CHECKPOINT));
    OK(keel_stream_write_empty(w, KEEL_LIBXL_CHECKPOINT_END));
    for (i = 0; i < 40; i++) /* 320 copies of frame 1 */
        craft_pages(w, pfns, fill, 8);
    OK(keel_stream_write_empty(w, KEEL_XC_CHECKPOINT));
    OK(keel_stream_write_empty(w, KEEL_LIBXL_CHECKPOINT_END));
    craft_end(w);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    /* The fault comes after a whole checkpoint: that one stands. */
    rc = keel_domain_restore(B.host, fd, NULL, &dst);
    close(fd);
    OK(rc);
    ck_assert_uint_eq(byte_of(&B, dst, 1), 1);
}
END_TEST

/* A guest that powers off during its migration is not brought back on
 * the destination; its on_poweroff (destroy), held back while the
 * migration owned it, is carried out as the call returns. */
static int
power_off_at_live(void *opaque, const struct keel_migrate_progress *p)
{
    struct mig *m = opaque;

    if (p->phase == KEEL_MIGRATE_PHASE_LIVE && p->pass.pass == 0) {
        OK(keel_sim_guest_act(m->side->hv, m->domid, KEEL_SHUTDOWN_POWEROFF));
        /* The pump runs meanwhile: the action must wait. */
        struct keel_domain_event ev[8];
        size_t n;

        OK(keel_host_events(m->side->host, ev, 8, &n));
    }
    if (p->phase == KEEL_MIGRATE_PHASE_MEMORY)
        OK(keel_sim_clock_advance(m->side->hv, m->advance_ns));
    return 0;
}

static void *
sender_with(void *opaque)
{
    struct mig *m = opaque;

    m->rc =
        keel_domain_migrate_send(m->side->host, m->domid, m->fd, m->fd, &m->so);
    snprintf(m->msg, sizeof(m->msg), "%s", keel_ctx_last_error(th_ctx()));
    return NULL;
}

START_TEST(guest_stops_during_migration)
{
    struct mig snd = {.advance_ns = 5 * MS}, rcv = {.domid = 0};
    pthread_t ts, tr;
    int sv[2];

    hosts_open();
    snd.side = &A;
    snd.domid = make(&A, "quitter", KEEL_DOMAIN_PVH, 8, 1000);
    snd.so.progress = power_off_at_live;
    snd.so.opaque = &snd;
    rcv.side = &B;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    snd.fd = sv[0];
    rcv.fd = sv[1];
    ck_assert_int_eq(pthread_create(&ts, NULL, sender_with, &snd), 0);
    ck_assert_int_eq(pthread_create(&tr, NULL, receiver, &rcv), 0);
    pthread_join(ts, NULL);
    pthread_join(tr, NULL);
    close(sv[0]);
    close(sv[1]);
    ck_assert_int_eq(snd.rc, KEEL_ESTATE);
    ck_assert_msg(strstr(snd.msg, "stopped during the transfer"), "%s",
                  snd.msg);
    ck_assert_int_ne(rcv.rc, 0);
    ck_assert_uint_eq(n_domains(&B), 1);
    ck_assert_uint_eq(n_domains(&A), 1); /* on_poweroff=destroy was done */
}
END_TEST

/* A Remus secondary fed over a socket fails over too: the primary dies
 * after its second checkpoint and the receiver runs that checkpoint,
 * without waiting for a handshake from nobody. */
struct feeder {
    int fd;
    const uint8_t *buf;
    size_t len;
};

static void *
feed_then_die(void *opaque)
{
    struct feeder *f = opaque;

    ck_assert_int_eq(write(f->fd, f->buf, f->len), (ssize_t)f->len);
    close(f->fd);
    return NULL;
}

START_TEST(failover_through_migrate_receive)
{
    struct cps c = {.n = 0};
    struct keel_save_opts so = {.flags = KEEL_SAVE_LEAVE_RUNNING,
                                .checkpoints = 3,
                                .interval_ms = 20,
                                .progress = on_checkpoint,
                                .opaque = &c};
    struct keel_restore_opts ro = {.flags = KEEL_RESTORE_PAUSED};
    struct cut_at cut = {.want = 2};
    struct feeder f;
    char after[33];
    uint8_t *buf;
    size_t len;
    pthread_t t;
    uint32_t dst = 0;
    int fd, sv[2];

    hosts_open_clock(false);
    c.side = &A;
    c.domid = make(&A, "primary", KEEL_DOMAIN_HVM, 4, 20000);
    fd = save_to_memfd(&A, c.domid, &so);
    OK(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, find_checkpoint_end,
                          &cut, NULL));
    buf = slurp(fd, &len);
    close(fd);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    f = (struct feeder){.fd = sv[0], .buf = buf, .len = (size_t)cut.offset};
    ck_assert_int_eq(pthread_create(&t, NULL, feed_then_die, &f), 0);
    OK(keel_domain_migrate_receive(B.host, sv[1], sv[1], &ro, &dst));
    pthread_join(t, NULL);
    close(sv[1]);
    digest(&B, dst, after);
    ck_assert_str_eq(after, c.digests[1]);
    free(buf);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = th_tcase(s, "save-restore");

    tcase_add_test(tc, save_restore_pv);
    tcase_add_test(tc, save_restore_hvm);
    tcase_add_test(tc, save_restore_pvh);
    tcase_add_test(tc, save_destroys_then_restore_here);
    tcase_add_test(tc, save_leave_running_and_rename);
    tcase_add_test(tc, record_order_pv);
    tcase_add_test(tc, record_order_hvm);
    tcase_add_test(tc, restore_refusals);
    tc = th_tcase(s, "live");
    tcase_add_test(tc, live_pv_xen_policy);
    tcase_add_test(tc, live_hvm_keel_policy);
    tcase_add_test(tc, live_refused_source_runs);
    tcase_add_test(tc, local_keeps_name_and_uuid);
    tcase_add_test(tc, local_refused_source_runs);
    tcase_add_test(tc, local_recover);
    tcase_add_test(tc, live_abort_source_runs);
    tcase_add_test(tc, checkpoints_and_failover);
    tcase_add_test(tc, failover_through_migrate_receive);
    tcase_add_test(tc, guest_stops_during_migration);
    tc = th_tcase(s, "failure");
    tcase_add_test(tc, cut_at_every_record_and_at_random);
    tcase_add_test(tc, corrupt_at_random);
    tcase_add_test(tc, sender_peer_goes_away);
    tcase_add_test(tc, cancel_leaves_domain);
    tc = th_tcase(s, "crafted");
    tcase_add_test(tc, pages_in_any_order);
    tcase_add_test(tc, empty_and_bad_vcpu_records);
    tcase_add_test(tc, checkpoint_buffer_is_bounded);
    return s;
}

int
main(void)
{
    return th_run(suite());
}
