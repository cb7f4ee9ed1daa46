/* stream-records.c: the reader's checks of each record type
 *
 * A table per layer gives each known type its body length bounds and
 * where it may appear (image version 3 only, PV or HVM images only); the
 * checks that need the whole body and the decoding into the item are one
 * function per type. What is checked follows Xen's restore
 * (xg_sr_restore*.c, libxl_stream_read.c) and its verify-stream-v2, plus
 * order rules they leave to the restorer: in a version-3 image nothing
 * of memory before STATIC_DATA_END, and in a PV image X86_PV_INFO before
 * X86_PV_P2M_FRAMES before PAGE_DATA. Records of the erratum (HVM_PARAMS
 * with no entries, per-vCPU records with no blob) are taken.
 *
 * Every message starts with the record's name, after the offset.
 */
#include "config.h"

#include <string.h>

#include "stream-internal.h"

#define XC_V3 0x1u      /* image version 3 only */
#define XC_PV 0x2u      /* PV images only */
#define XC_HVM 0x4u     /* HVM images only */
#define XC_REFUSED 0x8u /* deprecated */

struct rec_desc {
    uint32_t min, max; /* body length */
    unsigned int flags;
    int (*body)(struct keel_stream_reader *r, struct keel_stream_item *it);
};

static int
xc_end(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    r->state = r->fmt == KEEL_STREAM_LIBXC ? RD_DONE : RD_LIBXL_REC;
    return 0;
}

/* Inside libxl, a checkpoint's libxl records follow; a bare image just
 * goes on with the next checkpoint's records. */
static int
xc_checkpoint(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    if (r->fmt != KEEL_STREAM_LIBXC) {
        r->in_checkpoint = true;
        r->state = RD_LIBXL_REC;
    }
    return 0;
}

static int
xc_none(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    return 0;
}

static int
xc_static_data_end(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    r->seen_sde = true;
    return 0;
}

static int
reserved_zero(struct keel_stream_reader *r, struct keel_stream_item *it,
              uint64_t value)
{
    if (!value)
        return 0;
    return stream_fault(r, it->offset,
                        "%s: reserved field is not zero (0x%" PRIx64 ")",
                        keel_stream_xc_rec_name(it->type), value);
}

static int
multiple_of(struct keel_stream_reader *r, struct keel_stream_item *it,
            uint32_t size)
{
    if (it->length % size == 0)
        return 0;
    return stream_fault(r, it->offset, "%s: length %u is not a multiple of %u",
                        keel_stream_xc_rec_name(it->type), it->length, size);
}

/* Decodes n u64 at p into the reader's array. */
static int
decode_u64s(struct keel_stream_reader *r, const uint8_t *p, size_t n)
{
    size_t i;
    int rc;

    if ((rc = keel__stream_u64(r, n ? n : 1)))
        return rc;
    for (i = 0; i < n; i++)
        r->u64[i] = stream_get64(p + 8 * i, r->image_be);
    return 0;
}

static int
page_entry(struct keel_stream_reader *r, struct keel_stream_item *it,
           uint32_t i, uint64_t e)
{
    uint32_t type = (uint32_t)(e >> KEEL_STREAM_PFN_TYPE_SHIFT);

    if (e & STREAM_PFN_RESERVED)
        return stream_fault(r, it->offset,
                            "PAGE_DATA: entry %u (pfn 0x%" PRIx64
                            "): reserved bits 0x%" PRIx64 " are set",
                            i, (uint64_t)(e & KEEL_STREAM_PFN_MASK),
                            (uint64_t)(e & STREAM_PFN_RESERVED));
    if (!keel_stream_page_type_valid(type))
        return stream_fault(r, it->offset,
                            "PAGE_DATA: entry %u (pfn 0x%" PRIx64
                            "): page type 0x%x is reserved",
                            i, (uint64_t)(e & KEEL_STREAM_PFN_MASK), type);
    r->u64[i] = e & KEEL_STREAM_PFN_MASK;
    r->u32[i] = type;
    return 0;
}

static int
xc_page_data(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    uint32_t count = stream_get32(it->body, r->image_be);
    uint32_t i, ndata = 0;
    uint64_t want;
    int rc;

    if (count < 1 || count > KEEL_STREAM_PAGE_BATCH)
        return stream_fault(r, it->offset, "PAGE_DATA: count %u is not 1 to %u",
                            count, KEEL_STREAM_PAGE_BATCH);
    if ((rc = reserved_zero(r, it, stream_get32(it->body + 4, r->image_be))))
        return rc;
    if (it->length < 8 + (uint64_t)count * 8)
        return stream_fault(r, it->offset,
                            "PAGE_DATA: length %u cannot hold %u entries",
                            it->length, count);
    if ((rc = keel__stream_u64(r, count)) || (rc = keel__stream_u32(r, count)))
        return rc;
    for (i = 0; i < count; i++) {
        rc = page_entry(r, it, i,
                        stream_get64(it->body + 8 + 8 * i, r->image_be));
        if (rc)
            return rc;
        ndata += keel_stream_page_type_has_data(r->u32[i]);
    }
    want = 8 + (uint64_t)count * 8 + (uint64_t)ndata * STREAM_PAGE_SIZE;
    if (it->length != want)
        return stream_fault(r, it->offset,
                            "PAGE_DATA: length %u, expected %" PRIu64
                            " (%u entries, %u with data)",
                            it->length, want, count, ndata);
    it->u.pages.count = count;
    it->u.pages.pfns = r->u64;
    it->u.pages.types = r->u32;
    it->u.pages.data = it->body + 8 + 8 * (size_t)count;
    return 0;
}

static int
xc_pv_info(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    uint8_t width = it->body[0], levels = it->body[1];
    int rc;

    if (r->seen_pv_info)
        return stream_fault(r, it->offset, "X86_PV_INFO: a second one");
    if (width != 4 && width != 8)
        return stream_fault(r, it->offset,
                            "X86_PV_INFO: guest width %u is not 4 or 8", width);
    if (levels != 3 && levels != 4)
        return stream_fault(r, it->offset,
                            "X86_PV_INFO: page-table levels %u is not 3 or 4",
                            levels);
    if ((rc = reserved_zero(r, it,
                            stream_get16(it->body + 2, r->image_be) |
                                stream_get32(it->body + 4, r->image_be))))
        return rc;
    r->seen_pv_info = true;
    r->pv_width = width;
    it->u.pv_info.guest_width = width;
    it->u.pv_info.pt_levels = levels;
    return 0;
}

/* The frames hold the p2m of start..end, 4096 / width entries each (as
 * xg_sr_restore_x86_pv.c counts them). */
static int
xc_p2m_frames(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    uint32_t start = stream_get32(it->body, r->image_be);
    uint32_t end = stream_get32(it->body + 4, r->image_be);
    uint32_t fpp = STREAM_PAGE_SIZE / r->pv_width;
    uint64_t want;
    size_t n;
    int rc;

    if ((rc = multiple_of(r, it, 8)))
        return rc;
    if (start > end)
        return stream_fault(r, it->offset,
                            "X86_PV_P2M_FRAMES: start pfn 0x%x is past end "
                            "pfn 0x%x",
                            start, end);
    n = (it->length - 8) / 8;
    want = (uint64_t)end / fpp + 1 - start / fpp;
    if (n != want)
        return stream_fault(r, it->offset,
                            "X86_PV_P2M_FRAMES: %zu frames for pfns 0x%x..0x%x"
                            ", expected %" PRIu64,
                            n, start, end, want);
    if ((rc = decode_u64s(r, it->body + 8, n)))
        return rc;
    r->seen_p2m = true;
    it->u.p2m.start = start;
    it->u.p2m.end = end;
    it->u.p2m.frames = r->u64;
    it->u.p2m.n = n;
    return 0;
}

static int
xc_vcpu(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    int rc;

    if ((rc = reserved_zero(r, it, stream_get32(it->body + 4, r->image_be))))
        return rc;
    it->u.vcpu.vcpu = stream_get32(it->body, r->image_be);
    it->u.vcpu.blob = it->body + 8;
    it->u.vcpu.len = it->length - 8;
    return 0;
}

static int
xc_tsc_info(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    int rc;

    if ((rc = reserved_zero(r, it, stream_get32(it->body + 20, r->image_be))))
        return rc;
    it->u.tsc.mode = stream_get32(it->body, r->image_be);
    it->u.tsc.khz = stream_get32(it->body + 4, r->image_be);
    it->u.tsc.nsec = stream_get64(it->body + 8, r->image_be);
    it->u.tsc.incarnation = stream_get32(it->body + 16, r->image_be);
    return 0;
}

static int
xc_hvm_params(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    uint32_t count = stream_get32(it->body, r->image_be);
    int rc;

    if ((rc = reserved_zero(r, it, stream_get32(it->body + 4, r->image_be))))
        return rc;
    if (it->length != 8 + (uint64_t)count * 16)
        return stream_fault(r, it->offset,
                            "HVM_PARAMS: length %u, expected %" PRIu64
                            " for %u entries",
                            it->length, 8 + (uint64_t)count * 16, count);
    if ((rc = decode_u64s(r, it->body + 8, (size_t)count * 2)))
        return rc;
    it->u.hvm_params.count = count;
    it->u.hvm_params.pairs = r->u64;
    return 0;
}

static int
xc_dirty_pfns(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    int rc;

    if ((rc = multiple_of(r, it, 8)) ||
        (rc = decode_u64s(r, it->body, it->length / 8)))
        return rc;
    it->u.dirty.pfns = r->u64;
    it->u.dirty.n = it->length / 8;
    return 0;
}

static int
xc_cpuid_policy(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    return multiple_of(r, it, 24);
}

static int
xc_msr_policy(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    return multiple_of(r, it, 16);
}

#define VAR KEEL_STREAM_BODY_MAX

static const struct rec_desc xc_descs[] = {
    [KEEL_XC_END] = {0, 0, 0, xc_end},
    [KEEL_XC_PAGE_DATA] = {8, STREAM_PAGE_DATA_MAX, 0, xc_page_data},
    [KEEL_XC_X86_PV_INFO] = {8, 8, XC_PV, xc_pv_info},
    [KEEL_XC_X86_PV_P2M_FRAMES] = {8, VAR, XC_PV, xc_p2m_frames},
    [KEEL_XC_X86_PV_VCPU_BASIC] = {8, VAR, XC_PV, xc_vcpu},
    [KEEL_XC_X86_PV_VCPU_EXTENDED] = {8, VAR, XC_PV, xc_vcpu},
    [KEEL_XC_X86_PV_VCPU_XSAVE] = {8, VAR, XC_PV, xc_vcpu},
    [KEEL_XC_SHARED_INFO] = {STREAM_PAGE_SIZE, STREAM_PAGE_SIZE, XC_PV,
                             xc_none},
    [KEEL_XC_X86_TSC_INFO] = {24, 24, 0, xc_tsc_info},
    [KEEL_XC_HVM_CONTEXT] = {1, VAR, XC_HVM, xc_none},
    [KEEL_XC_HVM_PARAMS] = {8, VAR, XC_HVM, xc_hvm_params},
    [KEEL_XC_TOOLSTACK] = {0, VAR, XC_REFUSED, xc_none},
    [KEEL_XC_X86_PV_VCPU_MSRS] = {8, VAR, XC_PV, xc_vcpu},
    [KEEL_XC_VERIFY] = {0, 0, 0, xc_none},
    [KEEL_XC_CHECKPOINT] = {0, 0, 0, xc_checkpoint},
    [KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST] = {0, VAR, 0, xc_dirty_pfns},
    [KEEL_XC_STATIC_DATA_END] = {0, 0, XC_V3, xc_static_data_end},
    [KEEL_XC_X86_CPUID_POLICY] = {0, VAR, XC_V3, xc_cpuid_policy},
    [KEEL_XC_X86_MSR_POLICY] = {0, VAR, XC_V3, xc_msr_policy},
};

/* An unknown type: optional ones are returned skipped (within the body
 * limit), mandatory ones refused. */
static int
unknown_type(struct keel_stream_reader *r, struct keel_stream_item *it,
             const char *layer)
{
    if (!(it->type & KEEL_STREAM_REC_OPTIONAL))
        return stream_fault(r, it->offset,
                            "%s record type 0x%08x is unknown and mandatory",
                            layer, it->type);
    if (it->length > KEEL_STREAM_BODY_MAX)
        return stream_fault(r, it->offset,
                            "%s record type 0x%08x: length %u exceeds the "
                            "limit of %u",
                            layer, it->type, it->length, KEEL_STREAM_BODY_MAX);
    it->skipped = true;
    return 0;
}

static int
check_length(struct keel_stream_reader *r, struct keel_stream_item *it,
             const char *name, const struct rec_desc *d)
{
    if (d->min == d->max && it->length != d->min)
        return stream_fault(r, it->offset, "%s: length %u, expected %u", name,
                            it->length, d->min);
    if (it->length < d->min)
        return stream_fault(r, it->offset,
                            "%s: length %u is shorter than the %u it needs",
                            name, it->length, d->min);
    if (it->length > d->max)
        return stream_fault(r, it->offset,
                            "%s: length %u exceeds the limit of %u", name,
                            it->length, d->max);
    return 0;
}

static int
xc_where(struct keel_stream_reader *r, struct keel_stream_item *it,
         const char *name, unsigned int flags)
{
    bool pv = r->dom_type == KEEL_STREAM_DHDR_X86_PV;

    if (flags & XC_REFUSED)
        return stream_fault(r, it->offset,
                            "%s: deprecated record (Xen 4.5 and older), "
                            "refused",
                            name);
    if ((flags & XC_V3) && r->version < 3)
        return stream_fault(r, it->offset,
                            "%s: not allowed in a version-2 image", name);
    if ((flags & XC_PV) && !pv)
        return stream_fault(r, it->offset, "%s: a PV record in an HVM image",
                            name);
    if ((flags & XC_HVM) && pv)
        return stream_fault(r, it->offset, "%s: an HVM record in a PV image",
                            name);
    return 0;
}

/* Order: a version-3 image sends its static data first; a PV image
 * needs its width before the p2m, and the p2m before memory. */
static int
xc_order(struct keel_stream_reader *r, struct keel_stream_item *it,
         const char *name)
{
    bool pv = r->dom_type == KEEL_STREAM_DHDR_X86_PV;

    switch (it->type) {
    case KEEL_XC_PAGE_DATA:
    case KEEL_XC_X86_PV_P2M_FRAMES:
        if (r->version >= 3 && !r->seen_sde)
            return stream_fault(r, it->offset, "%s before STATIC_DATA_END",
                                name);
        if (it->type == KEEL_XC_X86_PV_P2M_FRAMES && !r->seen_pv_info)
            return stream_fault(r, it->offset,
                                "X86_PV_P2M_FRAMES before X86_PV_INFO");
        if (it->type == KEEL_XC_PAGE_DATA && pv && !r->seen_p2m)
            return stream_fault(r, it->offset,
                                "PAGE_DATA before X86_PV_P2M_FRAMES in a PV "
                                "image");
        return 0;
    case KEEL_XC_STATIC_DATA_END:
        if (r->seen_sde)
            return stream_fault(r, it->offset, "a second STATIC_DATA_END");
        return 0;
    default:
        return 0;
    }
}

int
keel__stream_xc_pre(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    const char *name = keel_stream_xc_rec_name(it->type);
    const struct rec_desc *d;
    int rc;

    if (!name)
        return unknown_type(r, it, "image");
    d = &xc_descs[it->type];
    if ((rc = xc_where(r, it, name, d->flags)) ||
        (rc = check_length(r, it, name, d)))
        return rc;
    return xc_order(r, it, name);
}

int
keel__stream_xc_body(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    if (it->skipped)
        return 0;
    return xc_descs[it->type].body(r, it);
}

/* --- libxl records --- */

static int
libxl_end(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    r->state = RD_DONE;
    return 0;
}

static int
libxl_libxc_context(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    r->seen_libxc = true;
    r->state = RD_IMAGE_HDR;
    return 0;
}

static int
libxl_checkpoint_end(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    r->in_checkpoint = false;
    r->state = RD_IMAGE_REC;
    return 0;
}

/* Packed NUL-terminated strings, key, value, key, value... */
static int
xenstore_data(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    const uint8_t *d = it->u.emu.data;
    size_t i, n = 0, len = it->u.emu.len;

    if (len == 0)
        return 0;
    if (d[len - 1] != '\0')
        return stream_fault(r, it->offset,
                            "EMULATOR_XENSTORE_DATA: the data does not end in "
                            "a NUL byte");
    for (i = 0; i < len; i++)
        n += d[i] == '\0';
    if (n % 2)
        return stream_fault(r, it->offset,
                            "EMULATOR_XENSTORE_DATA: %zu strings, not key and "
                            "value pairs",
                            n);
    return 0;
}

static int
libxl_emulator(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    uint32_t id = stream_get32(it->body, r->libxl_be);

    if (id > KEEL_STREAM_EMU_QEMU_UPSTREAM)
        return stream_fault(r, it->offset, "%s: unknown emulator id %u",
                            keel_stream_libxl_rec_name(it->type), id);
    it->u.emu.emulator_id = id;
    it->u.emu.index = stream_get32(it->body + 4, r->libxl_be);
    it->u.emu.data = it->body + 8;
    it->u.emu.len = it->length - 8;
    if (it->type == KEEL_LIBXL_EMULATOR_XENSTORE_DATA)
        return xenstore_data(r, it);
    return 0;
}

/* libxl writes the u32 alone (4 bytes); the spec draws the padding as
 * part of the body (8 bytes). Both are taken. */
static int
libxl_checkpoint_state(struct keel_stream_reader *r,
                       struct keel_stream_item *it)
{
    uint32_t id = stream_get32(it->body, r->libxl_be);

    if (it->length == 8 && stream_get32(it->body + 4, r->libxl_be))
        return stream_fault(r, it->offset,
                            "CHECKPOINT_STATE: padding is not zero");
    if (id > 3)
        return stream_fault(
            r, it->offset, "CHECKPOINT_STATE: control id %u is not 0 to 3", id);
    it->u.checkpoint_state.control_id = id;
    return 0;
}

static const struct rec_desc libxl_descs[] = {
    [KEEL_LIBXL_END] = {0, 0, 0, libxl_end},
    [KEEL_LIBXL_LIBXC_CONTEXT] = {0, 0, 0, libxl_libxc_context},
    [KEEL_LIBXL_EMULATOR_XENSTORE_DATA] = {8, VAR, 0, libxl_emulator},
    [KEEL_LIBXL_EMULATOR_CONTEXT] = {8, VAR, 0, libxl_emulator},
    [KEEL_LIBXL_CHECKPOINT_END] = {0, 0, 0, libxl_checkpoint_end},
    [KEEL_LIBXL_CHECKPOINT_STATE] = {4, 8, 0, libxl_checkpoint_state},
};

/* Where a libxl record may come: one image, the checkpoint records
 * between an image CHECKPOINT and CHECKPOINT_END, the emulator only for
 * HVM guests. */
static int
libxl_order(struct keel_stream_reader *r, struct keel_stream_item *it,
            const char *name)
{
    switch (it->type) {
    case KEEL_LIBXL_END:
        if (r->in_checkpoint)
            return stream_fault(r, it->offset,
                                "END inside a checkpoint (before its "
                                "CHECKPOINT_END)");
        if (!r->seen_libxc)
            return stream_fault(r, it->offset,
                                "END before any LIBXC_CONTEXT: the stream "
                                "carries no domain image");
        return 0;
    case KEEL_LIBXL_LIBXC_CONTEXT:
        if (r->seen_libxc)
            return stream_fault(r, it->offset, "a second LIBXC_CONTEXT");
        return 0;
    case KEEL_LIBXL_CHECKPOINT_END:
        if (!r->in_checkpoint)
            return stream_fault(r, it->offset,
                                "CHECKPOINT_END outside a checkpoint");
        return 0;
    case KEEL_LIBXL_EMULATOR_XENSTORE_DATA:
    case KEEL_LIBXL_EMULATOR_CONTEXT:
        if (r->image_read && r->dom_type == KEEL_STREAM_DHDR_X86_PV)
            return stream_fault(r, it->offset,
                                "%s: emulator state in a PV domain's stream",
                                name);
        return 0;
    default:
        return 0;
    }
}

int
keel__stream_libxl_pre(struct keel_stream_reader *r,
                       struct keel_stream_item *it)
{
    const char *name = keel_stream_libxl_rec_name(it->type);
    int rc;

    if (!name)
        return unknown_type(r, it, "libxl");
    if ((rc = check_length(r, it, name, &libxl_descs[it->type])))
        return rc;
    return libxl_order(r, it, name);
}

int
keel__stream_libxl_body(struct keel_stream_reader *r,
                        struct keel_stream_item *it)
{
    if (it->skipped)
        return 0;
    return libxl_descs[it->type].body(r, it);
}
