/* stream-write.c: the migration-v2 writer
 *
 * Nothing is buffered: each call gathers its bytes (header, body parts,
 * zero padding) into an iovec array and hands them to writev() (sendmsg
 * with MSG_NOSIGNAL on a socket: a vanished peer is EPIPE, not SIGPIPE)
 * until all are written, so when a call returns 0 its record is on the
 * descriptor and a reader on the other end can act on it. PAGE_DATA is the bulk of
 * a stream: its page contents are never copied, each run of frames that
 * carry data is one iovec pointing into the caller's mapping; only the
 * 8-byte pfn entries are encoded, in a scratch array the writer keeps.
 *
 * Records are written little-endian, images as version 3; the image and
 * libxl headers are big-endian as the specs say, the xl header in the
 * host's order as xl writes it.
 *
 * A failed write leaves an unknown part of a record on the descriptor,
 * so the writer then refuses everything (KEEL_EIO); a call refused for
 * its arguments writes nothing and the writer carries on.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <keel/hv.h>

#include "stream-internal.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* The xl save-file magic: tools/xl/xl.h's savefileheader_magic. */
static const char xl_magic[KEEL_STREAM_XL_MAGIC_LEN] =
    "Xen saved domain, xl format\n \0 \r";

static const uint8_t zeros[8];

struct keel_stream_writer {
    struct keel_ctx *ctx;
    int fd;
    uint64_t offset;
    bool failed;
    bool not_socket;  /* sendmsg said ENOTSOCK: use writev */
    uint8_t hdr[64];  /* headers and small bodies, encoded */
    uint8_t *scratch; /* pfn entries, p2m frames */
    size_t scratch_cap;
    struct iovec *iov;
    size_t iov_cap;
};

KEEL_EXPORT int
keel_stream_writer_new(struct keel_ctx *ctx, int fd,
                       struct keel_stream_writer **w_r)
{
    struct keel_stream_writer *w;
    int rc = 0;

    keel__enter(ctx);
    *w_r = NULL;
    if (fd < 0) {
        rc = keel_error(ctx, KEEL_EINVAL, "stream writer: bad descriptor %d",
                        fd);
        goto out;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        rc = keel_error(ctx, KEEL_ENOMEM, "out of memory");
        goto out;
    }
    w->ctx = ctx;
    w->fd = fd;
    *w_r = w;
out:
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT void
keel_stream_writer_free(struct keel_stream_writer *w)
{
    if (!w)
        return;
    free(w->scratch);
    free(w->iov);
    free(w);
}

KEEL_EXPORT uint64_t
keel_stream_writer_offset(const struct keel_stream_writer *w)
{
    return w->offset;
}

static int
reserve_iov(struct keel_stream_writer *w, size_t n)
{
    struct iovec *iov;

    if (n <= w->iov_cap)
        return 0;
    iov = realloc(w->iov, n * sizeof(*iov));
    if (!iov)
        return keel_error(w->ctx, KEEL_ENOMEM, "out of memory");
    w->iov = iov;
    w->iov_cap = n;
    return 0;
}

static int
reserve_scratch(struct keel_stream_writer *w, size_t n)
{
    uint8_t *p;

    if (n <= w->scratch_cap)
        return 0;
    p = realloc(w->scratch, n);
    if (!p)
        return keel_error(w->ctx, KEEL_ENOMEM, "out of memory");
    w->scratch = p;
    w->scratch_cap = n;
    return 0;
}

/* One writev; on a socket, sendmsg with MSG_NOSIGNAL, so that a peer
 * that went away is EPIPE here rather than SIGPIPE for the process. */
static ssize_t
write_some(struct keel_stream_writer *w, struct iovec *iov, size_t n)
{
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t r;

    if (!w->not_socket) {
        r = sendmsg(w->fd, &msg, MSG_NOSIGNAL);
        if (r >= 0 || errno != ENOTSOCK)
            return r;
        w->not_socket = true;
    }
    return writev(w->fd, iov, (int)n);
}

/* Writes iov[0..n) whole, resuming after short writes and EINTR. */
static int
write_all(struct keel_stream_writer *w, struct iovec *iov, size_t n)
{
    ssize_t r;

    while (n > 0) {
        if (iov->iov_len == 0) {
            iov++;
            n--;
            continue;
        }
        r = write_some(w, iov, n < IOV_MAX ? n : IOV_MAX);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            w->failed = true;
            return keel_error_errno(w->ctx, KEEL_EIO,
                                    "offset %" PRIu64 ": writing the stream",
                                    w->offset);
        }
        w->offset += (uint64_t)r;
        while (r > 0 && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (r > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return 0;
}

static int
check_usable(struct keel_stream_writer *w)
{
    if (w->failed)
        return keel_error(w->ctx, KEEL_EIO,
                          "offset %" PRIu64
                          ": an earlier write on this stream failed",
                          w->offset);
    return 0;
}

/* Frames the body parts in w->iov[1..nparts] as one record of type: the
 * header goes in iov[0], the padding after the last part. The caller has
 * reserved nparts + 2 iovecs. */
static int
emit(struct keel_stream_writer *w, uint32_t type, size_t nparts)
{
    uint64_t len = 0;
    uint8_t rhdr[8];
    size_t i;

    for (i = 1; i <= nparts; i++)
        len += w->iov[i].iov_len;
    if (len > UINT32_MAX)
        return keel_error(w->ctx, KEEL_E2BIG,
                          "record type 0x%08x: a body of %" PRIu64
                          " bytes exceeds the 4 GiB - 1 a record holds",
                          type, len);
    stream_put32(rhdr, type, false);
    stream_put32(rhdr + 4, (uint32_t)len, false);
    w->iov[0].iov_base = rhdr;
    w->iov[0].iov_len = sizeof(rhdr);
    w->iov[nparts + 1].iov_base = (void *)zeros;
    w->iov[nparts + 1].iov_len = (size_t)(-len & 7);
    return write_all(w, w->iov, nparts + 2);
}

/* One record from up to three parts (NULL parts of length 0 skipped). */
static int
emit3(struct keel_stream_writer *w, uint32_t type, const void *a, size_t alen,
      const void *b, size_t blen, const void *c, size_t clen)
{
    const void *parts[3] = {a, b, c};
    const size_t lens[3] = {alen, blen, clen};
    size_t i, n = 0;
    int rc;

    if ((rc = reserve_iov(w, 5)))
        return rc;
    for (i = 0; i < 3; i++)
        if (lens[i]) {
            w->iov[++n].iov_base = (void *)parts[i];
            w->iov[n].iov_len = lens[i];
        }
    return emit(w, type, n);
}

/* Writes len raw (unframed) bytes: the headers. */
static int
emit_raw(struct keel_stream_writer *w, const void *a, size_t alen,
         const void *b, size_t blen)
{
    int rc;

    if ((rc = reserve_iov(w, 2)))
        return rc;
    w->iov[0].iov_base = (void *)a;
    w->iov[0].iov_len = alen;
    w->iov[1].iov_base = (void *)b;
    w->iov[1].iov_len = blen;
    return write_all(w, w->iov, 2);
}

KEEL_EXPORT int
keel_stream_write_xl_header(struct keel_stream_writer *w,
                            const char *config_json)
{
    bool be = stream_host_be();
    size_t len = config_json ? strlen(config_json) + 1 : 0;
    uint8_t *h = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (len > KEEL_STREAM_BODY_MAX) {
        rc = keel_error(w->ctx, KEEL_E2BIG,
                        "xl header: a config of %zu bytes is too long", len);
        goto out;
    }
    /* As xl: the u32 config length is always there, and counts the NUL;
     * JSON is flagged only when there is a config. */
    memcpy(h, xl_magic, KEEL_STREAM_XL_MAGIC_LEN);
    stream_put32(h + 32, KEEL_STREAM_XL_BYTEORDER, be);
    stream_put32(h + 36,
                 KEEL_STREAM_XL_FLAG_STREAMV2 |
                     (len ? KEEL_STREAM_XL_FLAG_JSON : 0),
                 be);
    stream_put32(h + 40, 0, be);
    stream_put32(h + 44, (uint32_t)(4 + len), be);
    stream_put32(h + 48, (uint32_t)len, be);
    rc = emit_raw(w, h, 52, config_json, len);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_libxl_header(struct keel_stream_writer *w)
{
    uint8_t *h = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if (!(rc = check_usable(w))) {
        stream_put64(h, KEEL_STREAM_LIBXL_IDENT, true);
        stream_put32(h + 8, KEEL_STREAM_LIBXL_VERSION, true);
        stream_put32(h + 12, 0, true);
        rc = emit_raw(w, h, 16, NULL, 0);
    }
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_image_header(struct keel_stream_writer *w, uint32_t dom_type,
                               uint32_t xen_major, uint32_t xen_minor)
{
    uint8_t *h = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (dom_type != KEEL_STREAM_DHDR_X86_PV &&
        dom_type != KEEL_STREAM_DHDR_X86_HVM) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "image header: domain type %u is not x86 PV or HVM",
                        dom_type);
        goto out;
    }
    memset(h, 0, 40);
    stream_put64(h, KEEL_STREAM_IHDR_MARKER, true);
    stream_put32(h + 8, KEEL_STREAM_IHDR_ID, true);
    stream_put32(h + 12, KEEL_STREAM_IHDR_VERSION, true);
    /* options (big-endian u16) and the reserved bytes stay zero */
    stream_put32(h + 24, dom_type, false);
    h[28] = STREAM_PAGE_SHIFT; /* u16 page_shift, little-endian */
    stream_put32(h + 32, xen_major, false);
    stream_put32(h + 36, xen_minor, false);
    rc = emit_raw(w, h, 40, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_record(struct keel_stream_writer *w, uint32_t type,
                         const void *const *parts, const size_t *lens, size_t n)
{
    size_t i, k = 0;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)) || (rc = reserve_iov(w, n + 2)))
        goto out;
    for (i = 0; i < n; i++)
        if (lens[i]) {
            w->iov[++k].iov_base = (void *)parts[i];
            w->iov[k].iov_len = lens[i];
        }
    rc = emit(w, type, k);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_empty(struct keel_stream_writer *w, uint32_t type)
{
    int rc;

    keel__enter(w->ctx);
    if (!(rc = check_usable(w)))
        rc = emit3(w, type, NULL, 0, NULL, 0, NULL, 0);
    keel__leave(w->ctx);
    return rc;
}

/* Encodes the pfn entries into scratch, after the 8-byte record header
 * (count, reserved); returns the number of frames that carry data. */
static int
encode_entries(struct keel_stream_writer *w, const uint64_t *pfns,
               const uint32_t *types, size_t n, size_t *ndata_r)
{
    size_t i;
    int rc;

    if ((rc = reserve_scratch(w, 8 + n * 8)))
        return rc;
    stream_put32(w->scratch, (uint32_t)n, false);
    stream_put32(w->scratch + 4, 0, false);
    *ndata_r = 0;
    for (i = 0; i < n; i++) {
        if (pfns[i] > KEEL_STREAM_PFN_MASK ||
            !keel_stream_page_type_valid(types[i]))
            return keel_error(w->ctx, KEEL_EINVAL,
                              "PAGE_DATA: frame %zu: pfn 0x%" PRIx64
                              " or page type 0x%x cannot be sent",
                              i, pfns[i], types[i]);
        stream_put64(w->scratch + 8 + i * 8,
                     pfns[i] | (uint64_t)types[i] << KEEL_STREAM_PFN_TYPE_SHIFT,
                     false);
        *ndata_r += keel_stream_page_type_has_data(types[i]);
    }
    return 0;
}

/* Points iov[2..] at the frames that carry data, frame i at ptrs[i]
 * or, without ptrs, at base + i * 4096; frames that lie end to end share
 * an iovec. Returns the number of iovecs used. */
static size_t
page_runs(struct keel_stream_writer *w, const uint32_t *types, size_t n,
          const uint8_t *base, const void *const *ptrs)
{
    size_t i, k = 1;
    struct iovec *last = NULL;

    for (i = 0; i < n; i++) {
        const uint8_t *p;

        if (!keel_stream_page_type_has_data(types[i]))
            continue;
        p = ptrs ? ptrs[i] : base + i * STREAM_PAGE_SIZE;
        if (last && (const uint8_t *)last->iov_base + last->iov_len == p) {
            last->iov_len += STREAM_PAGE_SIZE;
            continue;
        }
        last = &w->iov[++k];
        last->iov_base = (void *)p;
        last->iov_len = STREAM_PAGE_SIZE;
    }
    return k;
}

static int
write_pages(struct keel_stream_writer *w, const uint64_t *pfns,
            const uint32_t *types, size_t n, const void *base,
            const void *const *ptrs)
{
    size_t ndata, nparts, i;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (n < 1 || n > KEEL_STREAM_PAGE_BATCH) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "PAGE_DATA: %zu frames, expected 1 to %u", n,
                        KEEL_STREAM_PAGE_BATCH);
        goto out;
    }
    if ((rc = encode_entries(w, pfns, types, n, &ndata)) ||
        (rc = reserve_iov(w, n + 3)))
        goto out;
    for (i = 0; ptrs && i < n; i++)
        if (keel_stream_page_type_has_data(types[i]) && !ptrs[i])
            break;
    if (ndata && (ptrs ? i < n : !base)) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "PAGE_DATA: %zu frames carry data but a page is NULL",
                        ndata);
        goto out;
    }
    w->iov[1].iov_base = w->scratch;
    w->iov[1].iov_len = 8 + n * 8;
    nparts = page_runs(w, types, n, base, ptrs);
    rc = emit(w, KEEL_XC_PAGE_DATA, nparts);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_page_data(struct keel_stream_writer *w, const uint64_t *pfns,
                            const uint32_t *types, size_t n, const void *pages)
{
    return write_pages(w, pfns, types, n, pages, NULL);
}

KEEL_EXPORT int
keel_stream_write_page_data_v(struct keel_stream_writer *w,
                              const uint64_t *pfns, const uint32_t *types,
                              size_t n, const void *const *pages)
{
    if (!pages)
        return keel_error(w->ctx, KEEL_EINVAL, "PAGE_DATA: no page pointers");
    return write_pages(w, pfns, types, n, NULL, pages);
}

KEEL_EXPORT int
keel_stream_write_pv_info(struct keel_stream_writer *w, uint8_t guest_width,
                          uint8_t pt_levels)
{
    uint8_t *b = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if ((guest_width != 4 && guest_width != 8) ||
        (pt_levels != 3 && pt_levels != 4)) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "X86_PV_INFO: width %u and levels %u (4 or 8, 3 or 4)",
                        guest_width, pt_levels);
        goto out;
    }
    memset(b, 0, 8);
    b[0] = guest_width;
    b[1] = pt_levels;
    rc = emit3(w, KEEL_XC_X86_PV_INFO, b, 8, NULL, 0, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_p2m_frames(struct keel_stream_writer *w, uint32_t start,
                             uint32_t end, const uint64_t *frames, size_t n)
{
    size_t i;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (start > end) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "X86_PV_P2M_FRAMES: start pfn 0x%x is past end 0x%x",
                        start, end);
        goto out;
    }
    if (n > (UINT32_MAX - 8) / 8) {
        rc = keel_error(w->ctx, KEEL_E2BIG, "X86_PV_P2M_FRAMES: %zu frames", n);
        goto out;
    }
    if ((rc = reserve_scratch(w, 8 + n * 8)))
        goto out;
    stream_put32(w->scratch, start, false);
    stream_put32(w->scratch + 4, end, false);
    for (i = 0; i < n; i++)
        stream_put64(w->scratch + 8 + i * 8, frames[i], false);
    rc = emit3(w, KEEL_XC_X86_PV_P2M_FRAMES, w->scratch, 8 + n * 8, NULL, 0,
               NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

static bool
is_vcpu_type(uint32_t type)
{
    return type == KEEL_XC_X86_PV_VCPU_BASIC ||
           type == KEEL_XC_X86_PV_VCPU_EXTENDED ||
           type == KEEL_XC_X86_PV_VCPU_XSAVE ||
           type == KEEL_XC_X86_PV_VCPU_MSRS;
}

KEEL_EXPORT int
keel_stream_write_vcpu(struct keel_stream_writer *w, uint32_t type,
                       uint32_t vcpu, const void *blob, size_t len)
{
    uint8_t *b = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (!is_vcpu_type(type)) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "record type 0x%x is not a per-vCPU record", type);
        goto out;
    }
    stream_put32(b, vcpu, false);
    stream_put32(b + 4, 0, false);
    rc = emit3(w, type, b, 8, blob, len, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_hvm_params(struct keel_stream_writer *w, const void *pairs,
                             size_t n)
{
    uint8_t *b = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (n > (UINT32_MAX - 8) / 16) {
        rc = keel_error(w->ctx, KEEL_E2BIG, "HVM_PARAMS: %zu entries", n);
        goto out;
    }
    stream_put32(b, (uint32_t)n, false);
    stream_put32(b + 4, 0, false);
    rc = emit3(w, KEEL_XC_HVM_PARAMS, b, 8, pairs, n * 16, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_write_emulator(struct keel_stream_writer *w, uint32_t type,
                           uint32_t emulator_id, uint32_t index,
                           const void *data, size_t len)
{
    uint8_t *b = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (type != KEEL_LIBXL_EMULATOR_XENSTORE_DATA &&
        type != KEEL_LIBXL_EMULATOR_CONTEXT) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "libxl record type 0x%x is not an emulator record",
                        type);
        goto out;
    }
    stream_put32(b, emulator_id, false);
    stream_put32(b + 4, index, false);
    rc = emit3(w, type, b, 8, data, len, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}

/* The body is the u32 alone, as libxl writes it (libxl_stream_write.c
 * sends sizeof(libxl_sr_checkpoint_state), 4 bytes); the record padding
 * makes it 8 on the wire. */
KEEL_EXPORT int
keel_stream_write_checkpoint_state(struct keel_stream_writer *w,
                                   uint32_t control_id)
{
    uint8_t *b = w->hdr;
    int rc;

    keel__enter(w->ctx);
    if ((rc = check_usable(w)))
        goto out;
    if (control_id > 3) {
        rc = keel_error(w->ctx, KEEL_EINVAL,
                        "CHECKPOINT_STATE: control id %u is not 0 to 3",
                        control_id);
        goto out;
    }
    stream_put32(b, control_id, false);
    rc = emit3(w, KEEL_LIBXL_CHECKPOINT_STATE, b, 4, NULL, 0, NULL, 0);
out:
    keel__leave(w->ctx);
    return rc;
}
