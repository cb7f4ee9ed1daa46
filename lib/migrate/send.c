/* send.c: writing a domain out as a stream: save, live migration and
 * checkpoints
 *
 * One sender serves every case. begin() checks the domain under the
 * host's lock and marks it busy; everything after runs without the lock,
 * through the hv handle (which has its own), so the rest of the host stays
 * usable during a transfer that may take minutes. finish() takes the lock
 * again to leave the domain as asked, or as it was if anything failed.
 *
 * Memory goes in batches of up to 1024 frames: map the frames, ask their
 * page types, write one PAGE_DATA straight from the mapping, unmap. The
 * live phase keeps one bitmap of frames still to send ("pending"): each
 * read of the hypervisor's dirty bitmap (which clears it) is or-ed into
 * it, so frames found dirty when the policy says stop are sent after the
 * pause together with those dirtied since.
 *
 * Records come in the order of Xen's saver (migrate.h). Where the sim has
 * no real structure behind a record (a PV guest's P2M frames), the sender
 * writes a well-formed one: the frames after the page-table skeleton.
 * A backend with its own image writer (hv image_save: xen, through
 * libxenguest) gets the descriptor between LIBXC_CONTEXT and END and runs
 * the live passes and the suspend itself (write_stream_image), asking
 * keel's policy after each pass (image_pass).
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migrate-internal.h"

/* P2M frames of a PV guest start after the page-table skeleton (1..4). */
#define P2M_FIRST_FRAME 5
#define P2M_ENTRIES_PER_FRAME (KEEL_PAGE_SIZE / 8)

enum leave {
    LEAVE_DESTROYED,
    LEAVE_PAUSED,
    LEAVE_RUNNING,
    LEAVE_MIGRATED, /* handshake first (keel_domain_migrate_send) */
};

struct sender {
    struct keel_host *host;
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    const struct keel_save_opts *opts;
    const struct keel_migrate_policy *policy;
    uint32_t domid;
    uint8_t uuid[16]; /* the record is this domain's only while it matches */
    enum keel_domain_type type;
    uint32_t max_vcpus;
    char *config_json;
    uint32_t xen_major, xen_minor;
    uint64_t nr_pfns;
    struct keel_stream_writer *w;
    uint64_t pfns[KEEL_STREAM_PAGE_BATCH];
    uint32_t types[KEEL_STREAM_PAGE_BATCH];
    uint8_t *ptrs[KEEL_STREAM_PAGE_BATCH];
    uint64_t *span; /* MIG_SPAN_MAX entries */
    size_t batch;
    uint8_t *pending; /* frames still to send (live, checkpoints) */
    uint8_t *scratch; /* one read of the dirty bitmap */
    size_t bitmap_len;
    bool was_paused; /* when the call began */
    bool paused;     /* by this call */
    bool hv_image;   /* the backend writes the image itself (hv.h) */
    bool suspended;  /* the backend's image_save suspended the guest */
    bool unpaused;   /* unpaused by this call, to let it suspend */
    int fd;
    uint64_t image_bytes; /* written by the backend (its live passes) */
    uint64_t pass_t0_ns;  /* when the backend's current pass began */
    bool logdirty;        /* turned on by this call */
    uint64_t t0_ns, pause_ns;
    struct keel_migrate_pass *passes;
    size_t n_passes;
    struct keel_migrate_progress prog;
};

static int
report(struct sender *s, enum keel_migrate_phase phase)
{
    s->prog.phase = phase;
    s->prog.bytes_done = keel_stream_writer_offset(s->w);
    if (s->prog.bytes_total < s->prog.bytes_done)
        s->prog.bytes_total = s->prog.bytes_done;
    return keel__mig_progress(s->ctx, s->opts->progress, s->opts->opaque,
                              &s->prog, s->t0_ns);
}

/* --- memory --- */

/* Sends the batch (its frames are in ascending order) as one PAGE_DATA. */
static int
flush_batch(struct sender *s)
{
    uint8_t *addr = NULL;
    size_t n = s->batch, n_map;
    bool had;
    int rc, urc;

    if (n == 0)
        return 0;
    s->batch = 0;
    rc = keel__mig_map(s->hv, s->domid, s->pfns, n, 0, true, s->span, s->ptrs,
                       &addr, &n_map);
    if (rc)
        return rc;
    rc = keel_hv_mem_page_types(s->hv, s->domid, s->pfns, n, s->types);
    if (rc == 0)
        rc = keel_stream_write_page_data_v(s->w, s->pfns, s->types, n,
                                           (const void *const *)s->ptrs);
    had = keel__error_isset(s->ctx);
    urc = keel_hv_mem_unmap(s->hv, addr, n_map);
    if (rc || urc == 0)
        keel__error_unrecord(s->ctx, had);
    if (rc == 0)
        rc = urc;
    if (rc == 0)
        rc = report(s, KEEL_MIGRATE_PHASE_MEMORY);
    return rc;
}

static int
queue_pfn(struct sender *s, uint64_t pfn)
{
    s->pfns[s->batch++] = pfn;
    return s->batch == KEEL_STREAM_PAGE_BATCH ? flush_batch(s) : 0;
}

static int
send_all(struct sender *s, uint64_t *sent_r)
{
    uint64_t pfn;
    int rc = 0;

    for (pfn = 0; rc == 0 && pfn < s->nr_pfns; pfn++)
        rc = queue_pfn(s, pfn);
    if (rc == 0)
        rc = flush_batch(s);
    *sent_r = s->nr_pfns;
    return rc;
}

/* Sends and clears every pending frame. */
static int
send_pending(struct sender *s, uint64_t *sent_r)
{
    uint64_t sent = 0;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < s->bitmap_len; i++) {
        uint8_t b = s->pending[i];

        s->pending[i] = 0;
        while (rc == 0 && b) {
            unsigned int bit = (unsigned int)__builtin_ctz(b);

            b &= (uint8_t)(b - 1);
            rc = queue_pfn(s, (uint64_t)i * 8 + bit);
            sent++;
        }
    }
    if (rc == 0)
        rc = flush_batch(s);
    *sent_r = sent;
    return rc;
}

/* Reads (and clears) the dirty bitmap into pending; returns how many
 * frames it found dirty. */
static int
collect_dirty(struct sender *s, uint64_t *dirty_r)
{
    size_t i;
    int rc = keel_hv_logdirty_read(s->hv, s->domid, s->scratch, s->nr_pfns, 0,
                                   dirty_r);

    for (i = 0; rc == 0 && i < s->bitmap_len; i++)
        s->pending[i] |= s->scratch[i];
    return rc;
}

static uint64_t
pending_count(const struct sender *s)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < s->bitmap_len; i++)
        n += (uint64_t)__builtin_popcount(s->pending[i]);
    return n;
}

/* --- records --- */

/* A context blob, or *buf_r NULL when the domain has none of that kind. */
static int
ctx_get(struct sender *s, enum keel_hv_ctx_kind kind, uint32_t index,
        void **buf_r, size_t *len_r)
{
    bool had = keel__error_isset(s->ctx);
    int rc = keel_hv_context_get(s->hv, s->domid, kind, index, buf_r, len_r);

    if (rc == KEEL_ENOENT) {
        keel__error_unrecord(s->ctx, had);
        *buf_r = NULL;
        *len_r = 0;
        return 0;
    }
    return rc;
}

/* A record whose body is a context blob as it is (TSC, SHARED_INFO,
 * HVM_CONTEXT, CPUID and MSR policies). Absent blobs are omitted, as
 * Xen's saver omits empty records. */
static int
write_blob(struct sender *s, uint32_t type, enum keel_hv_ctx_kind kind)
{
    void *buf;
    size_t len;
    int rc = ctx_get(s, kind, 0, &buf, &len);

    if (rc == 0 && buf && len) {
        const void *parts[] = {buf};

        rc = keel_stream_write_record(s->w, type, parts, &len, 1);
    }
    free(buf);
    return rc;
}

static int
write_p2m(struct sender *s)
{
    uint64_t n =
        (s->nr_pfns + P2M_ENTRIES_PER_FRAME - 1) / P2M_ENTRIES_PER_FRAME;
    uint64_t *frames, i;
    int rc;

    if (s->nr_pfns == 0 || s->nr_pfns - 1 > UINT32_MAX)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "domain %u: %" PRIu64 " frames do not fit a P2M "
                          "record",
                          s->domid, s->nr_pfns);
    frames = calloc(n, sizeof(*frames));
    if (!frames)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        frames[i] = (P2M_FIRST_FRAME + i) % s->nr_pfns;
    rc = keel_stream_write_p2m_frames(s->w, 0, (uint32_t)(s->nr_pfns - 1),
                                      frames, (size_t)n);
    free(frames);
    return rc;
}

/* The toolstack's layers, up to where the image begins. */
static int
write_headers(struct sender *s)
{
    int rc = 0;

    if (!(s->opts->flags & KEEL_SAVE_NO_XL_HEADER))
        rc = keel_stream_write_xl_header(s->w, s->config_json);
    if (rc == 0)
        rc = keel_stream_write_libxl_header(s->w);
    if (rc == 0)
        rc = keel_stream_write_empty(s->w, KEEL_LIBXL_LIBXC_CONTEXT);
    return rc;
}

/* Everything before memory: headers and the static records. */
static int
write_start(struct sender *s)
{
    bool pv = s->type == KEEL_DOMAIN_PV;
    int rc = write_headers(s);

    if (rc == 0)
        rc = keel_stream_write_image_header(s->w, keel__mig_dhdr_type(s->type),
                                            s->xen_major, s->xen_minor);
    if (rc == 0 && pv)
        rc = keel_stream_write_pv_info(s->w, 8, 4); /* x86-64: 4 levels */
    if (rc == 0)
        rc = write_blob(s, KEEL_XC_X86_CPUID_POLICY, KEEL_HV_CTX_CPUID);
    if (rc == 0)
        rc = write_blob(s, KEEL_XC_X86_MSR_POLICY, KEEL_HV_CTX_MSR);
    if (rc == 0)
        rc = keel_stream_write_empty(s->w, KEEL_XC_STATIC_DATA_END);
    if (rc == 0 && pv)
        rc = write_p2m(s);
    if (rc == 0)
        rc = report(s, KEEL_MIGRATE_PHASE_SETUP);
    return rc;
}

static int
write_vcpus(struct sender *s)
{
    static const struct {
        uint32_t rec;
        enum keel_hv_ctx_kind kind;
    } kinds[] = {
        {KEEL_XC_X86_PV_VCPU_BASIC, KEEL_HV_CTX_VCPU},
        {KEEL_XC_X86_PV_VCPU_EXTENDED, KEEL_HV_CTX_VCPU_EXTENDED},
        {KEEL_XC_X86_PV_VCPU_XSAVE, KEEL_HV_CTX_VCPU_XSAVE},
        {KEEL_XC_X86_PV_VCPU_MSRS, KEEL_HV_CTX_VCPU_MSRS},
    };
    uint32_t v;
    size_t k;
    int rc = 0;

    for (v = 0; rc == 0 && v < s->max_vcpus; v++) {
        struct keel_hv_vcpuinfo vi;

        rc = keel_hv_vcpu_info(s->hv, s->domid, v, &vi);
        if (rc || !(vi.flags & KEEL_VCPUF_ONLINE))
            continue;
        for (k = 0; rc == 0 && k < ARRAY_SIZE(kinds); k++) {
            void *buf;
            size_t len;

            rc = ctx_get(s, kinds[k].kind, v, &buf, &len);
            if (rc == 0 && buf && len)
                rc = keel_stream_write_vcpu(s->w, kinds[k].rec, v, buf, len);
            free(buf);
        }
    }
    return rc;
}

/* HVM_PARAMS with the non-zero values only, as Xen writes it; omitted
 * when none is set. */
static int
write_hvm_params(struct sender *s)
{
    uint8_t *buf, *out;
    size_t len, i, n = 0;
    int rc = ctx_get(s, KEEL_HV_CTX_HVM_PARAMS, 0, (void **)&buf, &len);

    if (rc || !buf)
        return rc;
    out = buf;
    for (i = 0; i + 16 <= len; i += 16) {
        static const uint8_t zero[8];

        if (memcmp(buf + i + 8, zero, 8) == 0)
            continue;
        memmove(out + n * 16, buf + i, 16);
        n++;
    }
    if (n)
        rc = keel_stream_write_hvm_params(s->w, out, n);
    free(buf);
    return rc;
}

/* The state that follows memory, the domain paused. */
static int
write_end_of_checkpoint(struct sender *s)
{
    int rc = write_blob(s, KEEL_XC_X86_TSC_INFO, KEEL_HV_CTX_TSC);

    if (s->type == KEEL_DOMAIN_PV) {
        if (rc == 0)
            rc = write_blob(s, KEEL_XC_SHARED_INFO, KEEL_HV_CTX_SHARED_INFO);
        if (rc == 0)
            rc = write_vcpus(s);
    } else {
        if (rc == 0)
            rc = write_blob(s, KEEL_XC_HVM_CONTEXT, KEEL_HV_CTX_HVM);
        if (rc == 0)
            rc = write_hvm_params(s);
    }
    return rc;
}

/* --- the phases --- */

/* Pauses the domain (unless it was paused already) and checks that the
 * guest did not stop meanwhile: a guest that shut down is not one to
 * bring back elsewhere (its on_* action waits for the end of the call). */
static int
pause_domain(struct sender *s)
{
    struct keel_hv_dominfo info;
    int rc = 0;

    if (!s->paused && !s->was_paused) {
        rc = keel_hv_domain_pause(s->hv, s->domid);
        s->paused = rc == 0;
    }
    s->pause_ns = keel__mono_ns();
    if (rc == 0)
        rc = keel_hv_domain_info(s->hv, s->domid, &info);
    if (rc == 0 && (info.flags & (KEEL_DOMF_SHUTDOWN | KEEL_DOMF_DYING)))
        rc = keel_error(s->ctx, KEEL_ESTATE,
                        "domain %u stopped during the transfer (%s)", s->domid,
                        info.flags & KEEL_DOMF_DYING
                            ? "dying"
                            : keel_shutdown_reason_name(info.shutdown_reason));
    return rc;
}

/* Undoes this call's pause, or the backend's suspend (and, for a guest
 * that was paused when the call began, pauses it again). */
static int
unpause_domain(struct sender *s)
{
    int rc = 0;

    if (s->suspended) {
        rc = keel_hv_domain_resume(s->hv, s->domid);
        s->suspended = rc != 0;
    }
    if (rc == 0 && s->unpaused) {
        rc = keel_hv_domain_pause(s->hv, s->domid);
        s->unpaused = rc != 0;
    }
    if (rc == 0 && s->paused) {
        rc = keel_hv_domain_unpause(s->hv, s->domid);
        s->paused = rc != 0;
    }
    return rc;
}

static int
add_pass(struct sender *s, uint64_t pages, uint64_t bytes, uint64_t ns,
         uint64_t dirty)
{
    struct keel_migrate_pass *p =
        realloc(s->passes, (s->n_passes + 1) * sizeof(*s->passes));

    if (!p)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    s->passes = p;
    p = &s->passes[s->n_passes++];
    memset(p, 0, sizeof(*p));
    p->pass = (uint32_t)(s->n_passes - 1);
    p->pages_sent = pages;
    p->bytes_sent = bytes;
    p->send_ns = ns;
    p->dirty_pages = dirty;
    p->total_pages = s->nr_pfns;
    p->total_bytes = keel_stream_writer_offset(s->w) + s->image_bytes;
    s->prog.pass = *p;
    s->prog.passes = (uint32_t)s->n_passes;
    s->prog.bytes_total = p->total_bytes + dirty * MIG_PAGE_BYTES;
    return report(s, KEEL_MIGRATE_PHASE_LIVE);
}

/* Pre-copy: a full pass, then passes over what the guest dirtied, until
 * the policy stops (0) or gives up (KEEL_ETIMEDOUT). pending holds what
 * is left to send. */
static int
live_phase(struct sender *s)
{
    for (;;) {
        uint64_t t = keel__mono_ns(), off = keel_stream_writer_offset(s->w);
        uint64_t sent, dirty;
        const char *why = NULL;
        enum keel_migrate_decision d;
        int rc = s->n_passes == 0 ? send_all(s, &sent) : send_pending(s, &sent);

        if (rc == 0)
            rc = collect_dirty(s, &dirty);
        if (rc == 0)
            rc = add_pass(s, sent, keel_stream_writer_offset(s->w) - off,
                          keel__mono_ns() - t, dirty);
        if (rc)
            return rc;
        d = keel_migrate_policy_decide(s->policy, s->passes, s->n_passes, &why);
        if (d == KEEL_MIGRATE_STOP) {
            keel_debug(s->ctx, "domain %u: stop and copy after pass %zu: %s",
                       s->domid, s->n_passes - 1, why ? why : "policy");
            return 0;
        }
        if (d == KEEL_MIGRATE_ABORT)
            return keel_error(s->ctx, KEEL_ETIMEDOUT,
                              "live migration of domain %u given up after "
                              "pass %zu: %s",
                              s->domid, s->n_passes - 1,
                              why ? why : "the policy said so");
    }
}

/* Pauses and sends the rest: pending frames and those dirtied since (or
 * all memory without log-dirty), then the vCPU state. */
static int
stop_and_copy(struct sender *s, bool first)
{
    uint64_t sent, dirty;
    int rc = pause_domain(s);

    if (rc == 0 && !s->logdirty) {
        rc = report(s, KEEL_MIGRATE_PHASE_STOPCOPY);
        if (rc == 0)
            rc = send_all(s, &sent);
    } else if (rc == 0 && first && s->n_passes == 0) {
        /* A checkpoint stream's first checkpoint without a live phase:
         * everything, and log-dirty from here on. */
        rc = collect_dirty(s, &dirty);
        memset(s->pending, 0, s->bitmap_len);
        if (rc == 0)
            rc = report(s, KEEL_MIGRATE_PHASE_STOPCOPY);
        if (rc == 0)
            rc = send_all(s, &sent);
    } else {
        if (rc == 0)
            rc = collect_dirty(s, &dirty);
        s->prog.bytes_total =
            keel_stream_writer_offset(s->w) + pending_count(s) * MIG_PAGE_BYTES;
        if (rc == 0)
            rc = report(s, KEEL_MIGRATE_PHASE_STOPCOPY);
        if (rc == 0)
            rc = send_pending(s, &sent);
    }
    if (rc == 0)
        rc = write_end_of_checkpoint(s);
    return rc;
}

static void
sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The whole stream. The domain is paused when it returns 0. */
static int
write_stream(struct sender *s)
{
    uint32_t cps = s->opts->checkpoints, k;
    bool live = s->opts->flags & KEEL_SAVE_LIVE;
    int rc = write_start(s);

    if (rc == 0 && (live || cps)) {
        s->bitmap_len = (size_t)((s->nr_pfns + 7) / 8);
        s->pending = calloc(s->bitmap_len ? s->bitmap_len : 1, 1);
        s->scratch = calloc(s->bitmap_len ? s->bitmap_len : 1, 1);
        if (!s->pending || !s->scratch)
            return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
        rc = keel_hv_logdirty_enable(s->hv, s->domid);
        s->logdirty = rc == 0;
    }
    if (rc == 0 && live)
        rc = live_phase(s);
    if (rc == 0)
        rc = stop_and_copy(s, true);
    for (k = 1; rc == 0 && k <= cps; k++) {
        rc = keel_stream_write_empty(s->w, KEEL_XC_CHECKPOINT);
        if (rc == 0)
            rc = keel_stream_write_empty(s->w, KEEL_LIBXL_CHECKPOINT_END);
        if (rc == 0)
            rc = report(s, KEEL_MIGRATE_PHASE_CHECKPOINT);
        if (rc || k == cps)
            break;
        rc = unpause_domain(s);
        if (rc == 0)
            sleep_ms(s->opts->interval_ms);
        if (rc == 0)
            rc = stop_and_copy(s, false);
    }
    if (rc == 0)
        rc = keel_stream_write_empty(s->w, KEEL_XC_END);
    if (rc == 0)
        rc = keel_stream_write_empty(s->w, KEEL_LIBXL_END);
    if (rc == 0 && s->logdirty) {
        rc = keel_hv_logdirty_disable(s->hv, s->domid);
        s->logdirty = rc != 0;
    }
    s->prog.downtime_ns = keel__mono_ns() - s->pause_ns;
    return rc;
}

/* The backend's live passes (xen: libxenguest's loop) are decided by
 * keel's policy, and reported, as the sim's are. The backend counts
 * pages; bytes are reckoned as a PAGE_DATA would carry them. */
static enum keel_hv_pass_decision
image_pass(void *opaque, uint32_t pass, uint64_t sent, uint64_t dirty)
{
    struct sender *s = opaque;
    uint64_t now = keel__mono_ns();
    enum keel_migrate_decision d;
    const char *why = NULL;
    int rc;

    (void)pass;
    s->image_bytes += sent * MIG_PAGE_BYTES;
    rc = add_pass(s, sent, sent * MIG_PAGE_BYTES, now - s->pass_t0_ns, dirty);
    s->pass_t0_ns = now;
    if (rc) /* cancelled by the progress callback, or out of memory */
        return KEEL_HV_PASS_ABORT;
    d = keel_migrate_policy_decide(s->policy, s->passes, s->n_passes, &why);
    if (d == KEEL_MIGRATE_CONTINUE)
        return KEEL_HV_PASS_CONTINUE;
    if (d == KEEL_MIGRATE_STOP) {
        keel_debug(s->ctx, "domain %u: last live pass after pass %zu: %s",
                   s->domid, s->n_passes - 1, why ? why : "policy");
        s->pause_ns = now; /* the downtime: the last pass, then paused */
        return KEEL_HV_PASS_LAST;
    }
    keel_error(s->ctx, KEEL_ETIMEDOUT,
               "live migration of domain %u given up after pass %zu: %s",
               s->domid, s->n_passes - 1, why ? why : "the policy said so");
    return KEEL_HV_PASS_ABORT;
}

/* The whole stream when the backend writes the image (xen: libxenguest
 * runs the live passes and suspends the guest): keel writes the layers
 * around it. The guest is left suspended when it returns 0. */
static int
write_stream_image(struct sender *s)
{
    struct keel_hv_dominfo info;
    unsigned int flags =
        s->opts->flags & KEEL_SAVE_LIVE ? KEEL_HV_IMAGE_LIVE : 0;
    struct keel_hv_image_policy policy = {.pass = image_pass, .opaque = s};
    int rc = write_headers(s);

    if (rc == 0)
        rc = report(s, KEEL_MIGRATE_PHASE_SETUP);
    /* A paused guest cannot suspend itself: let it run meanwhile. */
    if (rc == 0 && s->was_paused) {
        rc = keel_hv_domain_unpause(s->hv, s->domid);
        s->unpaused = rc == 0;
    }
    if (rc == 0) {
        rc = report(s, KEEL_MIGRATE_PHASE_MEMORY);
        s->pass_t0_ns = s->pause_ns = keel__mono_ns();
    }
    if (rc == 0)
        rc = keel_hv_image_save(s->hv, s->domid, s->fd, flags, &policy);
    /* Suspended or not, whatever happened: finish() must know. */
    if (keel_hv_domain_info(s->hv, s->domid, &info) == 0 &&
        (info.flags & KEEL_DOMF_SHUTDOWN) &&
        info.shutdown_reason == KEEL_SHUTDOWN_SUSPEND)
        s->suspended = true;
    if (rc == 0)
        rc = keel_stream_write_empty(s->w, KEEL_LIBXL_END);
    s->prog.downtime_ns = keel__mono_ns() - s->pause_ns;
    return rc;
}

/* --- begin, finish --- */

static int
begin(struct sender *s, const char *job)
{
    struct keel_hv_dominfo info;
    struct keel_hv_physinfo phys;
    struct keel__dom *d;
    uint64_t max_pfn;
    int rc;

    pthread_mutex_lock(&s->host->lock);
    rc = keel__dom_check(s->host, s->domid, job, KEEL__ST_LIVE, false, &d,
                         &info);
    if (rc == 0)
        rc = keel_domain_config_write(s->ctx, KEEL_CONFIG_JSON, &d->cfg, 0,
                                      &s->config_json);
    if (rc == 0)
        rc = keel_hv_physinfo(s->hv, &phys);
    if (rc == 0)
        rc = keel_hv_mem_max_pfn(s->hv, s->domid, &max_pfn);
    if (rc == 0) {
        d->busy = job;
        memcpy(s->uuid, d->uuid, 16);
        s->prog.domid = s->domid;
        memcpy(s->prog.uuid, d->uuid, 16);
        s->type = info.type;
        s->max_vcpus = info.max_vcpus;
        s->was_paused = keel__state_of(&info) == KEEL_DOMAIN_PAUSED;
        s->xen_major = phys.xen_major;
        s->xen_minor = phys.xen_minor;
        s->nr_pfns = max_pfn + 1;
        /* The frames to send: all up to the highest on the sim; where
         * the backend writes the image, what the domain holds (a PVH
         * domain's highest frame lies near 4 GiB whatever its size). */
        s->prog.bytes_total =
            (s->hv_image ? info.tot_kb / 4 : s->nr_pfns) * MIG_PAGE_BYTES;
    }
    pthread_mutex_unlock(&s->host->lock);
    return rc;
}

/* Clean-up that must not hide the call's result: a failure is a warning,
 * or the result when there was none (*rc == 0 and it matters). */
static void
cleanup_step(struct sender *s, int *rc, int step_rc, bool matters,
             const char *what)
{
    if (step_rc == 0)
        return;
    keel_warn(s->ctx, "domain %u: %s failed", s->domid, what);
    if (*rc == 0 && matters)
        *rc = step_rc;
}

/* Leaves the domain as asked (rc == 0) or as it was (rc != 0), clears the
 * busy mark, and carries out an on_* action a stop of the guest left
 * waiting; returns the call's result. */
static int
finish(struct sender *s, int rc, enum leave leave)
{
    struct keel__dom *d;
    bool had;

    pthread_mutex_lock(&s->host->lock);
    d = keel__dom_find(s->host, s->domid);
    if (d && memcmp(d->uuid, s->uuid, 16) != 0)
        d = NULL; /* gone, and the domid reused */
    had = keel__error_isset(s->ctx);
    if (s->logdirty)
        cleanup_step(s, &rc, keel_hv_logdirty_disable(s->hv, s->domid), false,
                     "turning log-dirty off");
    if (rc == 0 && leave == LEAVE_PAUSED && s->suspended) {
        /* Paused first, so that the resumed guest stays paused. */
        cleanup_step(s, &rc, keel_hv_domain_pause(s->hv, s->domid), true,
                     "pausing");
        if (rc == 0)
            cleanup_step(s, &rc, keel_hv_domain_resume(s->hv, s->domid), true,
                         "resuming");
        s->suspended = false;
    }
    if (rc || leave == LEAVE_RUNNING)
        cleanup_step(s, &rc, unpause_domain(s), leave == LEAVE_RUNNING,
                     "unpausing");
    keel__error_unrecord(s->ctx, had || rc != 0);
    if (d && d->busy) {
        d->busy = NULL;
        if (rc == 0)
            keel__event_queue(s->host,
                              leave == LEAVE_MIGRATED
                                  ? KEEL_DOMAIN_EVENT_MIGRATED
                                  : KEEL_DOMAIN_EVENT_SAVED,
                              d, d->domid);
        if (rc == 0 && (leave == LEAVE_DESTROYED || leave == LEAVE_MIGRATED)) {
            rc = keel__dom_destroy(s->host, d);
            if (rc && leave == LEAVE_MIGRATED)
                keel__error_prefix(s->ctx,
                                   "domain %u runs at the destination now; "
                                   "this paused copy must not be resumed: ",
                                   s->domid);
        } else {
            had = keel__error_isset(s->ctx);
            (void)keel__dom_changed(s->host, d); /* a stop left waiting */
            keel__error_unrecord(s->ctx, had);
        }
    }
    pthread_mutex_unlock(&s->host->lock);
    return rc;
}

static void
sender_dispose(struct sender *s)
{
    keel_stream_writer_free(s->w);
    free(s->config_json);
    free(s->pending);
    free(s->scratch);
    free(s->span);
    free(s->passes);
}

static int
sender_init(struct sender *s, struct keel_host *host, uint32_t domid,
            const struct keel_save_opts *opts,
            const struct keel_save_opts *defaults)
{
    memset(s, 0, sizeof(*s));
    s->host = host;
    s->ctx = host->ctx;
    s->hv = host->hv;
    s->domid = domid;
    s->opts = opts ? opts : defaults;
    s->policy = s->opts->policy;
    s->hv_image = keel_hv_has_image_ops(host->hv);
    s->t0_ns = keel__mono_ns();
    return 0;
}

static int
check_opts(struct keel_ctx *ctx, struct keel_hv *hv,
           const struct keel_save_opts *o, bool migrate, int recv_fd)
{
    unsigned int known = KEEL_SAVE_LIVE | KEEL_SAVE_LEAVE_PAUSED |
                         KEEL_SAVE_LEAVE_RUNNING | KEEL_SAVE_NO_XL_HEADER;

    if (o->flags & ~known)
        return keel_error(ctx, KEEL_EINVAL, "unknown flags %#x",
                          o->flags & ~known);
    if ((o->flags & KEEL_SAVE_LEAVE_PAUSED) &&
        (o->flags & KEEL_SAVE_LEAVE_RUNNING))
        return keel_error(ctx, KEEL_EINVAL,
                          "the domain cannot be left both paused and running");
    if (migrate && fcntl(recv_fd, F_GETFD) < 0)
        return keel_error(ctx, KEEL_EINVAL,
                          "the return channel (fd %d) is not open", recv_fd);
    if (migrate &&
        (o->flags & (KEEL_SAVE_LEAVE_PAUSED | KEEL_SAVE_LEAVE_RUNNING)))
        return keel_error(ctx, KEEL_EINVAL,
                          "a migrated domain leaves this host: no LEAVE flag");
    if (o->checkpoints && keel_hv_has_image_ops(hv))
        return keel_error(ctx, KEEL_ENOTSUP,
                          "checkpointed streams (Remus, COLO) are not "
                          "supported on the %s backend",
                          keel_hv_name(hv));
    if (o->checkpoints && o->interval_ms > 3600 * 1000)
        return keel_error(ctx, KEEL_ERANGE,
                          "checkpoint interval %u ms is over an hour",
                          o->interval_ms);
    if (o->policy && o->policy->kind != KEEL_MIGRATE_POLICY_XEN &&
        o->policy->kind != KEEL_MIGRATE_POLICY_DOWNTIME &&
        o->policy->kind != KEEL_MIGRATE_POLICY_CUSTOM)
        return keel_error(ctx, KEEL_EINVAL, "unknown policy kind %d",
                          (int)o->policy->kind);
    return 0;
}

/* The handshake after the stream: see migrate.h. */
static int
hand_over(struct sender *s, int recv_fd, int send_fd, bool *resume_r)
{
    uint8_t b;
    int rc;

    *resume_r = true;
    rc = keel__mig_read_byte(s->ctx, recv_fd, &b, "received");
    if (rc == 0 && b != MIG_OK)
        rc = keel_error(s->ctx, KEEL_EIO, "the destination refused domain %u",
                        s->domid);
    if (rc == 0)
        rc = keel__mig_write_byte(s->ctx, send_fd,
                                  s->was_paused ? MIG_GO_PAUSED : MIG_OK, "go");
    if (rc)
        return rc;
    rc = keel__mig_read_byte(s->ctx, recv_fd, &b, "done");
    if (rc) {
        /* It may be running there: never two copies running. */
        *resume_r = false;
        keel__error_prefix(s->ctx,
                           "domain %u is left paused here (it may be "
                           "running at the destination): ",
                           s->domid);
        return rc;
    }
    if (b != MIG_OK)
        return keel_error(s->ctx, KEEL_EIO,
                          "the destination could not start domain %u",
                          s->domid);
    return 0;
}

/* The stream failed mid-way: if that is because the receiver refused
 * the domain (and stopped reading), say so rather than "broken pipe". */
static void
refused(struct sender *s, int recv_fd)
{
    struct pollfd pfd = {.fd = recv_fd, .events = POLLIN};
    uint8_t b;

    if (poll(&pfd, 1, 100) == 1 && read(recv_fd, &b, 1) == 1 && b == MIG_FAILED)
        keel__error_prefix(s->ctx,
                           "the destination refused domain %u: ", s->domid);
}

static int
send_domain(struct keel_host *host, uint32_t domid, int fd, int recv_fd,
            const struct keel_save_opts *opts, bool migrate)
{
    static const struct keel_save_opts none;
    struct keel_save_opts live;
    struct sender s;
    enum leave leave = LEAVE_DESTROYED;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    if (migrate) {
        live = opts ? *opts : none;
        live.flags |= KEEL_SAVE_LIVE;
        opts = &live;
        leave = LEAVE_MIGRATED;
    }
    sender_init(&s, host, domid, opts, &none);
    keel__enter(host->ctx);
    rc = check_opts(host->ctx, host->hv, s.opts, migrate, recv_fd);
    if (rc) {
        keel__leave(host->ctx);
        return rc;
    }
    if (s.opts->flags & KEEL_SAVE_LEAVE_PAUSED)
        leave = LEAVE_PAUSED;
    if (s.opts->flags & KEEL_SAVE_LEAVE_RUNNING)
        leave = LEAVE_RUNNING;
    rc = begin(&s, migrate ? "migration" : "save");
    if (rc) {
        sender_dispose(&s);
        keel__leave(host->ctx);
        return rc;
    }
    s.span = malloc(MIG_SPAN_MAX * sizeof(*s.span));
    rc = s.span ? keel_stream_writer_new(s.ctx, fd, &s.w)
                : keel_error(s.ctx, KEEL_ENOMEM, "out of memory");
    s.fd = fd;
    if (rc == 0)
        rc = s.hv_image ? write_stream_image(&s) : write_stream(&s);
    if (rc == 0)
        rc = report(&s, KEEL_MIGRATE_PHASE_DONE);
    if (rc == 0 && migrate) {
        bool resume;

        rc = hand_over(&s, recv_fd, fd, &resume);
        if (rc && !resume) /* finish() must not let it run */
            s.paused = s.suspended = s.unpaused = false;
    } else if (rc && migrate) {
        refused(&s, recv_fd);
        /* The receiver sees the end of the stream and gives up. */
        (void)shutdown(fd, SHUT_WR);
    }
    rc = finish(&s, rc, leave);
    sender_dispose(&s);
    keel__leave(host->ctx);
    return rc;
}

KEEL_EXPORT int
keel_domain_save(struct keel_host *host, uint32_t domid, int fd,
                 const struct keel_save_opts *opts)
{
    return send_domain(host, domid, fd, -1, opts, false);
}

KEEL_EXPORT int
keel_domain_migrate_send(struct keel_host *host, uint32_t domid, int send_fd,
                         int recv_fd, const struct keel_save_opts *opts)
{
    return send_domain(host, domid, send_fd, recv_fd, opts, true);
}
