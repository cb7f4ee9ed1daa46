/* stream-verify.c: whole-stream verification and one-line descriptions
 *
 * keel_stream_verify is the reader run to the stream's last END, plus
 * the one check the reader cannot make: that nothing follows the END. A
 * regular file's size says so without reading; a pipe is read to its end
 * and counted; a socket is left alone (after a migration stream, the
 * handshake follows on it).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream-internal.h"

/* --- describe --- */

struct line {
    char *buf;
    size_t size, len;
};

static void add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->len + 1 >= l->size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    l->len += (size_t)n;
    if (l->len >= l->size)
        l->len = l->size - 1;
}

static const char *
order_name(bool be)
{
    return be ? "big-endian" : "little-endian";
}

static void
describe_header(struct line *l, const struct keel_stream_item *it)
{
    switch (it->kind) {
    case KEEL_STREAM_ITEM_XL_HEADER:
        add(l, "XL header mandatory=0x%x optional=0x%x config=%zu bytes%s",
            it->u.xl.mandatory_flags, it->u.xl.optional_flags,
            it->u.xl.config_len,
            it->u.xl.mandatory_flags & KEEL_STREAM_XL_FLAG_JSON ? " (JSON)"
                                                                : "");
        break;
    case KEEL_STREAM_ITEM_LIBXL_HEADER:
        add(l, "LIBXL header version=%u %s%s", it->u.libxl.version,
            order_name(it->u.libxl.options & KEEL_STREAM_OPT_BIG_ENDIAN),
            it->u.libxl.options & KEEL_STREAM_LIBXL_OPT_LEGACY
                ? " legacy-converted"
                : "");
        break;
    default:
        add(l, "IMAGE header version=%u %s %s page_shift=%u",
            it->u.image.version,
            order_name(it->u.image.options & KEEL_STREAM_OPT_BIG_ENDIAN),
            it->u.image.dom_type == KEEL_STREAM_DHDR_X86_PV ? "x86-pv"
                                                            : "x86-hvm",
            it->u.image.page_shift);
        if (it->u.image.xen_major)
            add(l, " from Xen %u.%u", it->u.image.xen_major,
                it->u.image.xen_minor);
        else
            add(l, " converted from a legacy stream");
        break;
    }
}

static void
describe_image_record(struct line *l, const struct keel_stream_item *it)
{
    switch (it->type) {
    case KEEL_XC_PAGE_DATA:
        add(l, " count=%u first_pfn=0x%" PRIx64, it->u.pages.count,
            it->u.pages.pfns[0]);
        break;
    case KEEL_XC_X86_PV_INFO:
        add(l, " width=%u levels=%u", it->u.pv_info.guest_width,
            it->u.pv_info.pt_levels);
        break;
    case KEEL_XC_X86_PV_P2M_FRAMES:
        add(l, " pfns=0x%x..0x%x frames=%zu", it->u.p2m.start, it->u.p2m.end,
            it->u.p2m.n);
        break;
    case KEEL_XC_X86_PV_VCPU_BASIC:
    case KEEL_XC_X86_PV_VCPU_EXTENDED:
    case KEEL_XC_X86_PV_VCPU_XSAVE:
    case KEEL_XC_X86_PV_VCPU_MSRS:
        add(l, " vcpu=%u blob=%zu", it->u.vcpu.vcpu, it->u.vcpu.len);
        break;
    case KEEL_XC_X86_TSC_INFO:
        add(l, " mode=%u khz=%u nsec=%" PRIu64 " incarnation=%u",
            it->u.tsc.mode, it->u.tsc.khz, it->u.tsc.nsec,
            it->u.tsc.incarnation);
        break;
    case KEEL_XC_HVM_PARAMS:
        add(l, " count=%u", it->u.hvm_params.count);
        break;
    case KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST:
        add(l, " pfns=%zu", it->u.dirty.n);
        break;
    default:
        break;
    }
}

static void
describe_libxl_record(struct line *l, const struct keel_stream_item *it)
{
    switch (it->type) {
    case KEEL_LIBXL_EMULATOR_XENSTORE_DATA:
    case KEEL_LIBXL_EMULATOR_CONTEXT:
        add(l, " emulator=%u index=%u data=%zu", it->u.emu.emulator_id,
            it->u.emu.index, it->u.emu.len);
        break;
    case KEEL_LIBXL_CHECKPOINT_STATE:
        add(l, " control_id=%u", it->u.checkpoint_state.control_id);
        break;
    default:
        break;
    }
}

KEEL_EXPORT void
keel_stream_item_describe(const struct keel_stream_item *it, char *buf,
                          size_t size)
{
    struct line l = {buf, size, 0};
    bool image = it->kind == KEEL_STREAM_ITEM_IMAGE_RECORD;
    const char *name;

    if (size == 0)
        return;
    buf[0] = '\0';
    add(&l, "@%" PRIu64 " ", it->offset);
    if (it->kind != KEEL_STREAM_ITEM_LIBXL_RECORD && !image) {
        describe_header(&l, it);
        return;
    }
    name = image ? keel_stream_xc_rec_name(it->type)
                 : keel_stream_libxl_rec_name(it->type);
    add(&l, "%s ", image ? "IMAGE" : "LIBXL");
    if (it->skipped || !name) {
        add(&l, "0x%08x length=%u optional, skipped", it->type, it->length);
        return;
    }
    add(&l, "%s length=%u", name, it->length);
    if (image)
        describe_image_record(&l, it);
    else
        describe_libxl_record(&l, it);
}

/* --- verify --- */

static void
tally(struct keel_stream_summary *s, const struct keel_stream_item *it)
{
    switch (it->kind) {
    case KEEL_STREAM_ITEM_IMAGE_HEADER:
        s->image_version = it->u.image.version;
        s->dom_type = it->u.image.dom_type;
        break;
    case KEEL_STREAM_ITEM_IMAGE_RECORD:
        s->records++;
        if (it->skipped)
            break;
        if (it->type == KEEL_XC_PAGE_DATA)
            s->pages += it->u.pages.count;
        if (it->type == KEEL_XC_CHECKPOINT)
            s->checkpoints++;
        break;
    case KEEL_STREAM_ITEM_LIBXL_RECORD:
        s->records++;
        break;
    default:
        break;
    }
}

/* Counts what follows the stream on fd (see the top of the file). */
static int
count_trailing(struct keel_ctx *ctx, int fd, uint64_t *n_r)
{
    char buf[4096];
    struct stat st;
    off_t pos;
    ssize_t r;

    *n_r = 0;
    if (fstat(fd, &st) != 0)
        return keel_error_errno(ctx, KEEL_EIO, "stream: fstat");
    if (S_ISSOCK(st.st_mode))
        return 0;
    if (S_ISREG(st.st_mode) && (pos = lseek(fd, 0, SEEK_CUR)) >= 0) {
        *n_r = st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
        return 0;
    }
    while ((r = read(fd, buf, sizeof(buf))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return keel_error_errno(ctx, KEEL_EIO,
                                    "reading past the stream's end");
        *n_r += (uint64_t)r;
    }
    return 0;
}

KEEL_EXPORT int
keel_stream_verify(struct keel_ctx *ctx, int fd, enum keel_stream_format fmt,
                   int (*each)(void *opaque, const struct keel_stream_item *it),
                   void *opaque, struct keel_stream_summary *sum)
{
    struct keel_stream_summary s = {0};
    struct keel_stream_reader *r = NULL;
    struct keel_stream_item it;
    int rc;

    keel__enter(ctx);
    if ((rc = keel_stream_reader_new(ctx, fd, fmt, &r)))
        goto out;
    while ((rc = keel_stream_read(r, &it)) == 1) {
        tally(&s, &it);
        if (each && (rc = each(opaque, &it)))
            goto out;
    }
    if (rc < 0)
        goto out;
    s.bytes = keel_stream_reader_offset(r);
    if ((rc = count_trailing(ctx, fd, &s.trailing)))
        goto out;
    if (s.trailing)
        rc = keel_error(ctx, KEEL_ECORRUPT,
                        "offset %" PRIu64 ": %" PRIu64
                        " bytes after the stream's last END",
                        s.bytes, s.trailing);
out:
    if (r)
        s.format = keel_stream_reader_format(r);
    if (sum)
        *sum = s;
    keel_stream_reader_free(r);
    keel__leave(ctx);
    return rc;
}
