/* receive.c: building a domain from a stream: restore, and the receiving
 * end of a live migration
 *
 * The receiver reads the stream with the checks of lib/stream and adds
 * those only a host can make: the image's type matches the config's, and
 * every frame lies inside the domain that was built. The domain is built
 * paused from the config in the xl header (or the caller's), marked busy,
 * and filled without the host's lock; any fault destroys it, so a failed
 * restore leaves nothing.
 *
 * Pages are written through writable mappings in batches, as they come.
 * A fresh domain's memory is zero (the hypervisor scrubs what it hands
 * out, the sim starts from a hole), so a zero page that was not written
 * earlier in this stream is skipped: a mostly idle guest restores without
 * touching most of its memory. Context records (vCPU, TSC, HVM, policies)
 * are kept until the image's END or CHECKPOINT and applied together, as
 * Xen applies HVM_CONTEXT at the end of the stream.
 *
 * Checkpointed streams: the first checkpoint is applied as it comes; from
 * then on pages are buffered until the next CHECKPOINT completes them, so
 * a stream that breaks off leaves the domain at its last whole checkpoint
 * (a Remus secondary's failover) instead of failing.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "migrate-internal.h"

struct ctx_rec {
    enum keel_hv_ctx_kind kind;
    uint32_t index;
    void *data;
    size_t len;
    uint64_t offset; /* of its record, for messages */
};

struct receiver {
    struct keel_host *host;
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    const struct keel_restore_opts *opts;
    const uint8_t *uuid; /* the new domain's, or NULL: the config's */
    struct keel_stream_reader *r;
    int fd;        /* the stream's descriptor */
    bool hv_image; /* the backend reads the image itself (hv.h) */
    struct keel_domain_config cfg;
    uint32_t domid; /* KEEL_DOMID_INVALID until built */
    uint64_t nr_pfns;
    uint8_t *written;  /* frames written by this stream */
    uint64_t *span;    /* MIG_SPAN_MAX entries, for keel__mig_map */
    bool verify;       /* after VERIFY: compare, do not write */
    bool buffering;    /* after the first CHECKPOINT */
    bool checkpointed; /* a whole checkpoint has been applied */
    bool failed_over;  /* the stream broke off after one: use it */
    bool committing;   /* applying a checkpoint */
    uint64_t offset;   /* of the record being handled */
    bool stay_paused;
    /* buffered pages of the checkpoint in progress */
    uint64_t *buf_pfns;
    uint8_t *buf_data;
    size_t buf_n, buf_cap;
    /* context records of the checkpoint in progress */
    struct ctx_rec *ctxs;
    size_t n_ctxs;
    uint64_t t0_ns, last_report;
    struct keel_migrate_progress prog;
};

static int
report(struct receiver *v, enum keel_migrate_phase phase)
{
    v->prog.phase = phase;
    v->prog.bytes_done = keel_stream_reader_offset(v->r);
    if (v->prog.bytes_total && v->prog.bytes_total < v->prog.bytes_done)
        v->prog.bytes_total = v->prog.bytes_done;
    v->last_report = v->prog.bytes_done;
    return keel__mig_progress(v->ctx, v->opts->progress, v->opts->opaque,
                              &v->prog, v->t0_ns);
}

static bool
page_is_zero(const uint8_t *p)
{
    static const uint8_t zero[KEEL_PAGE_SIZE];

    return memcmp(p, zero, KEEL_PAGE_SIZE) == 0;
}

static bool
bit_get(const uint8_t *map, uint64_t i)
{
    return map[i / 8] & (1u << (i % 8));
}

static void
bit_set(uint8_t *map, uint64_t i)
{
    map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Writes (or, after VERIFY, compares) n frames (n <= a batch, ascending):
 * pfns[i] gets the page at data + i * 4096. Frames written for the first
 * time are mapped alone and faulted in at once (KEEL_HV_MAP_FILL); frames
 * written again (later passes of a live migration, scattered) through
 * one mapping of their span. */
static int
store_pages(struct receiver *v, const uint64_t *pfns, const uint8_t *data,
            size_t n, uint64_t offset)
{
    uint64_t todo[KEEL_STREAM_PAGE_BATCH];
    const uint8_t *src[KEEL_STREAM_PAGE_BATCH];
    uint8_t *dst[KEEL_STREAM_PAGE_BATCH], *addr;
    unsigned int flags = v->verify ? 0 : KEEL_HV_MAP_WRITE;
    bool again = true, had;
    size_t i, m = 0, n_map;
    int rc, urc;

    for (i = 0; i < n && m < KEEL_STREAM_PAGE_BATCH; i++) {
        bool seen = bit_get(v->written, pfns[i]);

        if (!v->verify && !seen && page_is_zero(data + i * KEEL_PAGE_SIZE))
            continue; /* fresh memory is zero already */
        again = again && seen;
        todo[m] = pfns[i];
        src[m++] = data + i * KEEL_PAGE_SIZE;
        /* Marked now: a later copy of the frame in this batch, zero or
         * not, is written too, so the last copy wins. */
        if (!v->verify)
            bit_set(v->written, pfns[i]);
    }
    if (m == 0)
        return 0;
    if (!v->verify && !again)
        flags |= KEEL_HV_MAP_FILL;
    rc = keel__mig_map(v->hv, v->domid, todo, m, flags, again || v->verify,
                       v->span, dst, &addr, &n_map);
    if (rc)
        return rc;
    for (i = 0; rc == 0 && i < m; i++) {
        if (!v->verify)
            memcpy(dst[i], src[i], KEEL_PAGE_SIZE);
        else if (memcmp(dst[i], src[i], KEEL_PAGE_SIZE) != 0) {
            rc = keel_error(v->ctx, KEEL_ECORRUPT,
                            "offset %" PRIu64 ": VERIFY: frame %" PRIu64
                            " differs from the stream",
                            offset, todo[i]);
        }
    }
    had = keel__error_isset(v->ctx);
    urc = keel_hv_mem_unmap(v->hv, addr, n_map);
    if (rc || urc == 0)
        keel__error_unrecord(v->ctx, had);
    return rc ? rc : urc;
}

static int
buffer_pages(struct receiver *v, const uint64_t *pfns, const uint8_t *data,
             size_t n)
{
    if (v->buf_n + n > v->nr_pfns)
        return keel_error(
            v->ctx, KEEL_ECORRUPT,
            "a checkpoint holds more pages than domain %u's %" PRIu64 " frames",
            v->domid, v->nr_pfns);
    if (v->buf_n + n > v->buf_cap) {
        size_t cap = v->buf_cap ? v->buf_cap : 1024;
        uint64_t *p;
        uint8_t *d;

        while (cap < v->buf_n + n)
            cap *= 2;
        p = realloc(v->buf_pfns, cap * sizeof(*p));
        if (p)
            v->buf_pfns = p;
        d = p ? realloc(v->buf_data, cap * KEEL_PAGE_SIZE) : NULL;
        if (!d)
            return keel_error(v->ctx, KEEL_ENOMEM,
                              "out of memory buffering a checkpoint of %zu "
                              "pages",
                              v->buf_n + n);
        v->buf_data = d;
        v->buf_cap = cap;
    }
    memcpy(v->buf_pfns + v->buf_n, pfns, n * sizeof(*pfns));
    memcpy(v->buf_data + v->buf_n * KEEL_PAGE_SIZE, data, n * KEEL_PAGE_SIZE);
    v->buf_n += n;
    return 0;
}

static int
page_data(struct receiver *v, const struct keel_stream_item *it)
{
    uint64_t pfns[KEEL_STREAM_PAGE_BATCH];
    size_t i, n = 0;

    for (i = 0; i < it->u.pages.count; i++) {
        uint64_t pfn = it->u.pages.pfns[i];

        if (pfn >= v->nr_pfns)
            return keel_error(v->ctx, KEEL_ECORRUPT,
                              "offset %" PRIu64 ": PAGE_DATA: frame %" PRIu64
                              " is beyond domain %u's %" PRIu64 " frames",
                              it->offset, pfn, v->domid, v->nr_pfns);
        if (keel_stream_page_type_has_data(it->u.pages.types[i]))
            pfns[n++] = pfn;
    }
    v->prog.pass.pages_sent += n;
    if (v->buffering)
        return buffer_pages(v, pfns, it->u.pages.data, n);
    return store_pages(v, pfns, it->u.pages.data, n, it->offset);
}

static int
keep_ctx(struct receiver *v, enum keel_hv_ctx_kind kind, uint32_t index,
         const void *data, size_t len)
{
    struct ctx_rec *c;
    size_t i;

    if (len == 0)
        return 0; /* the erratum's empty records (Xen 4.6 to 4.8) */
    /* A later record of the same kind replaces an earlier one. */
    for (i = 0; i < v->n_ctxs; i++)
        if (v->ctxs[i].kind == kind && v->ctxs[i].index == index)
            break;
    if (i == v->n_ctxs) {
        c = realloc(v->ctxs, (v->n_ctxs + 1) * sizeof(*c));
        if (!c)
            return keel_error(v->ctx, KEEL_ENOMEM, "out of memory");
        v->ctxs = c;
        memset(&c[i], 0, sizeof(c[i]));
        v->n_ctxs++;
    }
    c = &v->ctxs[i];
    free(c->data);
    c->offset = v->offset;
    c->kind = kind;
    c->index = index;
    c->len = len;
    c->data = malloc(len ? len : 1);
    if (!c->data)
        return keel_error(v->ctx, KEEL_ENOMEM, "out of memory");
    memcpy(c->data, data, len);
    return 0;
}

static void
drop_ctxs(struct receiver *v)
{
    size_t i;

    for (i = 0; i < v->n_ctxs; i++)
        free(v->ctxs[i].data);
    free(v->ctxs);
    v->ctxs = NULL;
    v->n_ctxs = 0;
}

/* The end of a checkpoint (CHECKPOINT or the image's END): buffered pages
 * and the context records go in. */
static int
commit(struct receiver *v, uint64_t offset)
{
    size_t i;
    int rc = 0;

    v->committing = true;
    for (i = 0; rc == 0 && i < v->buf_n; i += KEEL_STREAM_PAGE_BATCH) {
        size_t n = v->buf_n - i < KEEL_STREAM_PAGE_BATCH
                       ? v->buf_n - i
                       : KEEL_STREAM_PAGE_BATCH;

        rc = store_pages(v, v->buf_pfns + i, v->buf_data + i * KEEL_PAGE_SIZE,
                         n, offset);
    }
    v->buf_n = 0;
    for (i = 0; rc == 0 && i < v->n_ctxs; i++) {
        rc = keel_hv_context_set(v->hv, v->domid, v->ctxs[i].kind,
                                 v->ctxs[i].index, v->ctxs[i].data,
                                 v->ctxs[i].len);
        if (rc) {
            /* The hypervisor refused what the stream holds. */
            keel__error_prefix(v->ctx, "offset %" PRIu64 ": ",
                               v->ctxs[i].offset);
            rc = KEEL_ECORRUPT;
        }
    }
    drop_ctxs(v);
    if (rc == 0)
        v->committing = false;
    return rc;
}

static int
image_record(struct receiver *v, const struct keel_stream_item *it)
{
    int rc;

    v->offset = it->offset;
    switch (it->type) {
    case KEEL_XC_PAGE_DATA:
        return page_data(v, it);
    case KEEL_XC_X86_PV_P2M_FRAMES:
        for (size_t i = 0; i < it->u.p2m.n; i++)
            if (it->u.p2m.frames[i] >= v->nr_pfns)
                return keel_error(v->ctx, KEEL_ECORRUPT,
                                  "offset %" PRIu64 ": X86_PV_P2M_FRAMES: "
                                  "frame %" PRIu64 " is beyond domain %u's "
                                  "%" PRIu64 " frames",
                                  it->offset, it->u.p2m.frames[i], v->domid,
                                  v->nr_pfns);
        return 0;
    case KEEL_XC_X86_PV_VCPU_BASIC:
        return keep_ctx(v, KEEL_HV_CTX_VCPU, it->u.vcpu.vcpu, it->u.vcpu.blob,
                        it->u.vcpu.len);
    case KEEL_XC_X86_PV_VCPU_EXTENDED:
        return keep_ctx(v, KEEL_HV_CTX_VCPU_EXTENDED, it->u.vcpu.vcpu,
                        it->u.vcpu.blob, it->u.vcpu.len);
    case KEEL_XC_X86_PV_VCPU_XSAVE:
        return keep_ctx(v, KEEL_HV_CTX_VCPU_XSAVE, it->u.vcpu.vcpu,
                        it->u.vcpu.blob, it->u.vcpu.len);
    case KEEL_XC_X86_PV_VCPU_MSRS:
        return keep_ctx(v, KEEL_HV_CTX_VCPU_MSRS, it->u.vcpu.vcpu,
                        it->u.vcpu.blob, it->u.vcpu.len);
    case KEEL_XC_SHARED_INFO:
        return keep_ctx(v, KEEL_HV_CTX_SHARED_INFO, 0, it->body, it->length);
    case KEEL_XC_X86_TSC_INFO:
        return keep_ctx(v, KEEL_HV_CTX_TSC, 0, it->body, it->length);
    case KEEL_XC_HVM_CONTEXT:
        return keep_ctx(v, KEEL_HV_CTX_HVM, 0, it->body, it->length);
    case KEEL_XC_HVM_PARAMS:
        if (it->length <= 8)
            return 0; /* the erratum's empty record */
        return keep_ctx(v, KEEL_HV_CTX_HVM_PARAMS, 0, it->body + 8,
                        it->length - 8);
    case KEEL_XC_X86_CPUID_POLICY:
        return it->length
                   ? keep_ctx(v, KEEL_HV_CTX_CPUID, 0, it->body, it->length)
                   : 0;
    case KEEL_XC_X86_MSR_POLICY:
        return it->length
                   ? keep_ctx(v, KEEL_HV_CTX_MSR, 0, it->body, it->length)
                   : 0;
    case KEEL_XC_VERIFY:
        v->verify = true;
        return 0;
    case KEEL_XC_CHECKPOINT:
        rc = commit(v, it->offset);
        if (rc == 0) {
            v->checkpointed = true;
            v->buffering = true;
            rc = report(v, KEEL_MIGRATE_PHASE_CHECKPOINT);
        }
        return rc;
    case KEEL_XC_END:
        return commit(v, it->offset);
    default: /* PV_INFO, STATIC_DATA_END, DIRTY_PFN_LIST, skipped ones */
        return 0;
    }
}

/* The config the domain is built from: the caller's, or the stream's. */
static int
read_config(struct receiver *v, const struct keel_stream_item *it)
{
    const struct keel_restore_opts *o = v->opts;
    int rc;

    if (o->config)
        rc = keel_domain_config_copy(v->ctx, &v->cfg, o->config);
    else if (it->kind != KEEL_STREAM_ITEM_XL_HEADER || !it->u.xl.config)
        return keel_error(v->ctx, KEEL_EINVAL,
                          "the stream carries no domain config: give one");
    else
        rc = keel_domain_config_read(
            v->ctx,
            (it->u.xl.mandatory_flags & KEEL_STREAM_XL_FLAG_JSON)
                ? KEEL_CONFIG_JSON
                : KEEL_CONFIG_XL,
            "<stream>", it->u.xl.config, it->u.xl.config_len, NULL, 0, &v->cfg);
    if (rc == 0 && o->name) {
        char *name = strdup(o->name);

        if (!name)
            return keel_error(v->ctx, KEEL_ENOMEM, "out of memory");
        free(v->cfg.name);
        v->cfg.name = name;
    }
    if (rc == 0 && v->uuid)
        memcpy(v->cfg.uuid, v->uuid, 16);
    return rc;
}

static int
build(struct receiver *v)
{
    uint64_t max_pfn;
    int rc;

    pthread_mutex_lock(&v->host->lock);
    rc = keel__dom_create(v->host, &v->cfg,
                          KEEL_DOMAIN_CREATE_PAUSED |
                              (v->hv_image ? KEEL__CREATE_EMPTY : 0),
                          "restore", &v->domid);
    if (rc == 0) {
        v->prog.domid = v->domid;
        memcpy(v->prog.uuid, keel__dom_find(v->host, v->domid)->uuid, 16);
    }
    pthread_mutex_unlock(&v->host->lock);
    if (rc || v->hv_image)
        return rc;
    rc = keel_hv_mem_max_pfn(v->hv, v->domid, &max_pfn);
    if (rc)
        return rc;
    v->nr_pfns = max_pfn + 1;
    v->written = calloc((size_t)(v->nr_pfns / 8 + 1), 1);
    v->span = malloc(MIG_SPAN_MAX * sizeof(*v->span));
    if (!v->written || !v->span)
        return keel_error(v->ctx, KEEL_ENOMEM, "out of memory");
    return 0;
}

static int
check_image(struct receiver *v, const struct keel_stream_item *it)
{
    uint32_t want = keel__mig_dhdr_type(v->cfg.type);

    if (it->u.image.options & KEEL_STREAM_OPT_BIG_ENDIAN)
        return keel_error(v->ctx, KEEL_ENOTSUP,
                          "offset %" PRIu64 ": a big-endian image cannot be "
                          "restored on x86",
                          it->offset);
    if (it->u.image.dom_type != want)
        return keel_error(
            v->ctx, KEEL_ECORRUPT,
            "offset %" PRIu64 ": the image is of an x86 %s "
            "domain but the config says %s",
            it->offset,
            it->u.image.dom_type == KEEL_STREAM_DHDR_X86_PV ? "PV" : "HVM",
            keel_domain_type_name(v->cfg.type));
    return 0;
}

/* The backend reads the image from the descriptor itself (xen:
 * xc_domain_restore), then the reader goes on after it. */
static int
read_image(struct receiver *v)
{
    int rc = report(v, KEEL_MIGRATE_PHASE_MEMORY);

    if (rc == 0)
        rc = keel_hv_image_restore(v->hv, v->domid, v->fd, 0);
    if (rc == 0)
        rc = keel_stream_reader_skip_image(v->r);
    return rc;
}

/* Reads the stream to its end into a new, paused, busy domain. */
static int
read_stream(struct receiver *v)
{
    struct keel_stream_item it;
    bool built = false;
    int rc;

    while ((rc = keel_stream_read(v->r, &it)) == 1) {
        rc = 0;
        switch (it.kind) {
        case KEEL_STREAM_ITEM_XL_HEADER:
        case KEEL_STREAM_ITEM_LIBXL_HEADER:
            if (built)
                break;
            rc = read_config(v, &it);
            if (rc == 0)
                rc = build(v);
            built = true;
            if (rc == 0)
                rc = report(v, KEEL_MIGRATE_PHASE_SETUP);
            break;
        case KEEL_STREAM_ITEM_IMAGE_HEADER:
            rc = built ? check_image(v, &it)
                       : keel_error(v->ctx, KEEL_EINVAL,
                                    "a bare domain image (libxc format) "
                                    "cannot be restored: it has no "
                                    "toolstack layer");
            break;
        case KEEL_STREAM_ITEM_IMAGE_RECORD:
            rc = image_record(v, &it);
            break;
        case KEEL_STREAM_ITEM_LIBXL_RECORD:
            if (it.type == KEEL_LIBXL_LIBXC_CONTEXT && v->hv_image) {
                rc = built ? read_image(v)
                           : keel_error(v->ctx, KEEL_ECORRUPT,
                                        "offset %" PRIu64
                                        ": LIBXC_CONTEXT before the "
                                        "libxl header",
                                        it.offset);
                break;
            }
            /* EMULATOR_*: no device model runs to give them to. */
            if (it.type == KEEL_LIBXL_EMULATOR_CONTEXT ||
                it.type == KEEL_LIBXL_EMULATOR_XENSTORE_DATA)
                keel_debug(v->ctx, "offset %" PRIu64 ": %s ignored", it.offset,
                           keel_stream_libxl_rec_name(it.type));
            break;
        }
        if (rc == 0 &&
            keel_stream_reader_offset(v->r) - v->last_report >= (4u << 20))
            rc = report(v, KEEL_MIGRATE_PHASE_MEMORY);
        if (rc)
            break;
    }
    /* After a whole checkpoint, a fault in the next one (a stream that
     * ends or turns corrupt, a frame out of range) falls back to it, since
     * nothing of the next was applied yet; a fault while applying one
     * (commit) does not: the domain is then neither. */
    if (rc < 0 && v->checkpointed && !v->committing && rc != KEEL_ECANCELED) {
        keel_warn(v->ctx,
                  "domain %u: the stream broke off (%s); resuming from the "
                  "last complete checkpoint",
                  v->domid, keel_ctx_last_error(v->ctx));
        keel__error_unrecord(v->ctx, false);
        v->buf_n = 0;
        drop_ctxs(v);
        v->failed_over = true;
        return 0;
    }
    return rc;
}

/* Unmarks the domain and lets it run (unless it stays paused), or on
 * failure takes it away. */
static int
finish(struct receiver *v, int rc)
{
    struct keel__dom *d;

    pthread_mutex_lock(&v->host->lock);
    d = v->domid != KEEL_DOMID_INVALID ? keel__dom_find(v->host, v->domid)
                                       : NULL;
    if (d && rc == 0) {
        d->busy = NULL;
        keel__event_queue(v->host, KEEL_DOMAIN_EVENT_RESTORED, d, d->domid);
        if (!v->stay_paused) {
            rc = keel_hv_domain_unpause(v->hv, d->domid);
            if (rc == 0)
                keel__event_queue(v->host, KEEL_DOMAIN_EVENT_UNPAUSED, d,
                                  d->domid);
        }
    }
    if (d && rc) {
        bool had = keel__error_isset(v->ctx);

        d->busy = NULL;
        if (keel__dom_destroy(v->host, d))
            keel_warn(v->ctx, "removing half-restored domain %u failed",
                      v->domid);
        keel__error_unrecord(v->ctx, had);
        v->domid = KEEL_DOMID_INVALID;
    }
    pthread_mutex_unlock(&v->host->lock);
    return rc;
}

static void
receiver_dispose(struct receiver *v)
{
    keel_stream_reader_free(v->r);
    keel_domain_config_dispose(&v->cfg);
    free(v->written);
    free(v->span);
    free(v->buf_pfns);
    free(v->buf_data);
    drop_ctxs(v);
}

static int
check_opts(struct keel_ctx *ctx, const struct keel_restore_opts *o)
{
    if (o->flags & ~KEEL_RESTORE_PAUSED)
        return keel_error(ctx, KEEL_EINVAL, "unknown flags %#x",
                          o->flags & ~KEEL_RESTORE_PAUSED);
    if (o->format == KEEL_STREAM_LIBXC)
        return keel_error(ctx, KEEL_EINVAL,
                          "a bare domain image (libxc format) cannot be "
                          "restored: it has no toolstack layer");
    if (o->format == KEEL_STREAM_LIBXL && !o->config)
        return keel_error(ctx, KEEL_EINVAL,
                          "a libxl stream carries no domain config: give one");
    return 0;
}

/* The receiving end of the handshake (migrate.h), after the stream was
 * read with result rc. Returns the call's result. */
static int
handshake(struct receiver *v, int fd, int send_fd, int rc)
{
    bool had, got_go = false;
    uint8_t go = MIG_FAILED;
    int wrc;

    if (rc == 0 && v->failed_over)
        /* The sender is gone (a Remus primary that died): there is no one
         * to hand over; the last checkpoint runs here. */
        return finish(v, 0);
    if (rc) {
        had = keel__error_isset(v->ctx);
        (void)keel__mig_write_byte(v->ctx, send_fd, MIG_FAILED, "received");
        keel__error_unrecord(v->ctx, had);
        /* A sender still writing gets EPIPE instead of blocking on a
         * reader that has stopped (sockets only). */
        (void)shutdown(fd, SHUT_RD);
        return finish(v, rc);
    }
    rc = keel__mig_write_byte(v->ctx, send_fd, MIG_OK, "received");
    if (rc == 0)
        rc = keel__mig_read_byte(v->ctx, fd, &go, "go");
    got_go = rc == 0;
    if (rc == 0 && go != MIG_OK && go != MIG_GO_PAUSED)
        rc = keel_error(v->ctx, KEEL_EIO,
                        "the sender did not hand domain %u over (byte %#x)",
                        v->domid, go);
    if (go == MIG_GO_PAUSED)
        v->stay_paused = true;
    rc = finish(v, rc);
    if (!got_go)
        return rc;
    had = keel__error_isset(v->ctx);
    wrc =
        keel__mig_write_byte(v->ctx, send_fd, rc ? MIG_FAILED : MIG_OK, "done");
    if (wrc && rc == 0)
        /* The domain runs here; the sender, lacking "done", keeps its copy
         * paused: never two copies running. */
        keel_warn(v->ctx, "domain %u: %s", v->domid,
                  keel_ctx_last_error(v->ctx));
    keel__error_unrecord(v->ctx, had);
    return rc;
}

/* Restore (send_fd < 0) or the receiving end of a migration. */
static int
receive_domain(struct keel_host *host, int fd, int send_fd,
               const struct keel_restore_opts *opts, const uint8_t *uuid,
               uint32_t *domid_r)
{
    static const struct keel_restore_opts none = {.format = KEEL_STREAM_AUTO};
    struct receiver v;
    struct stat st;
    int rc;

    if (domid_r)
        *domid_r = KEEL_DOMID_INVALID;
    if (!host)
        return KEEL_EINVAL;
    memset(&v, 0, sizeof(v));
    v.host = host;
    v.ctx = host->ctx;
    v.hv = host->hv;
    v.opts = opts ? opts : &none;
    v.uuid = uuid;
    v.fd = fd;
    v.hv_image = keel_hv_has_image_ops(host->hv);
    v.domid = KEEL_DOMID_INVALID;
    v.prog.domid = KEEL_DOMID_INVALID;
    v.t0_ns = keel__mono_ns();
    v.stay_paused = v.opts->flags & KEEL_RESTORE_PAUSED;
    keel_domain_config_init(&v.cfg);
    keel__enter(host->ctx);
    rc = check_opts(host->ctx, v.opts);
    if (rc == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        v.prog.bytes_total = (uint64_t)st.st_size;
    if (rc == 0)
        rc = keel_stream_reader_new(host->ctx, fd, v.opts->format, &v.r);
    if (rc == 0)
        rc = read_stream(&v);
    if (rc == 0)
        rc = report(&v, KEEL_MIGRATE_PHASE_DONE);
    if (send_fd >= 0)
        rc = handshake(&v, fd, send_fd, rc);
    else
        rc = finish(&v, rc);
    if (rc == 0 && domid_r)
        *domid_r = v.domid;
    receiver_dispose(&v);
    keel__leave(host->ctx);
    return rc;
}

KEEL_EXPORT int
keel_domain_restore(struct keel_host *host, int fd,
                    const struct keel_restore_opts *opts, uint32_t *domid_r)
{
    return receive_domain(host, fd, -1, opts, NULL, domid_r);
}

KEEL_EXPORT int
keel_domain_migrate_receive(struct keel_host *host, int recv_fd, int send_fd,
                            const struct keel_restore_opts *opts,
                            uint32_t *domid_r)
{
    if (domid_r)
        *domid_r = KEEL_DOMID_INVALID;
    if (send_fd < 0)
        return KEEL_EINVAL;
    return receive_domain(host, recv_fd, send_fd, opts, NULL, domid_r);
}

int
keel__mig_receive(struct keel_host *host, int recv_fd, int send_fd,
                  const struct keel_restore_opts *opts, const uint8_t uuid[16],
                  uint32_t *domid_r)
{
    return receive_domain(host, recv_fd, send_fd, opts, uuid, domid_r);
}
