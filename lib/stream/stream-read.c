/* stream-read.c: the migration-v2 reader: input, headers, layers
 *
 * Input. An item (a header or a record) is read whole before it is
 * checked, and never a byte past it: on a migration socket the peer's
 * handshake follows the stream's last END, and a restore hands the same
 * descriptor on. From a descriptor, the item's bytes collect in a buffer
 * that grows only as they arrive (from 64 KiB, doubling), so a record
 * header that promises 60 MiB on a short input costs what the input
 * holds, not what it claims. From memory, items point into the caller's
 * bytes.
 *
 * Layers. A state says what comes next: the xl header, the libxl header,
 * a libxl record, the image header or an image record. LIBXC_CONTEXT
 * moves to the image header; the image END moves back to libxl records;
 * in a checkpointed stream the image CHECKPOINT moves to libxl records
 * until CHECKPOINT_END, which moves back to image records (no new
 * headers). A LIBXC stream has no outer layer: its CHECKPOINT just goes
 * on, its END is the last. The checks of each record are in
 * stream-records.c.
 *
 * Faults are KEEL_ECORRUPT "offset N: ..." where N is the offset of the
 * item at fault (of the domain header for its fields); the reader keeps
 * the message and repeats it on every later call.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream-internal.h"

#define READ_CHUNK (64u << 10)
#define IMAGE_HDR_LEN 24u
#define DOMAIN_HDR_LEN 16u
#define LIBXL_HDR_LEN 16u
#define XL_HDR_LEN 48u

/* tools/xl/xl.h's savefileheader_magic */
static const char xl_magic[KEEL_STREAM_XL_MAGIC_LEN] =
    "Xen saved domain, xl format\n \0 \r";

int
keel__stream_fault(struct keel_stream_reader *r, uint64_t off, const char *func,
                   int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return keel__error(r->ctx, KEEL_ECORRUPT, func, line,
                       "offset %" PRIu64 ": %s", off, msg);
}

int
keel__stream_u64(struct keel_stream_reader *r, size_t n)
{
    uint64_t *p;

    if (n <= r->u64_cap)
        return 0;
    p = realloc(r->u64, n * sizeof(*p));
    if (!p)
        return keel_error(r->ctx, KEEL_ENOMEM, "out of memory");
    r->u64 = p;
    r->u64_cap = n;
    return 0;
}

int
keel__stream_u32(struct keel_stream_reader *r, size_t n)
{
    uint32_t *p;

    if (n <= r->u32_cap)
        return 0;
    p = realloc(r->u32, n * sizeof(*p));
    if (!p)
        return keel_error(r->ctx, KEEL_ENOMEM, "out of memory");
    r->u32 = p;
    r->u32_cap = n;
    return 0;
}

/* --- input --- */

static int
grow(struct keel_stream_reader *r, size_t n)
{
    size_t cap = r->cap * 2 > READ_CHUNK ? r->cap * 2 : READ_CHUNK;
    uint8_t *p;

    /* Called when the buffer is full and the item needs more: double,
     * but never past what the item needs once that is over a chunk. */
    if (cap > n && n > READ_CHUNK)
        cap = n;
    p = realloc(r->buf, cap);
    if (!p)
        return keel_error(r->ctx, KEEL_ENOMEM, "out of memory");
    r->buf = p;
    r->cap = cap;
    return 0;
}

/* Reads until n bytes of the current item are in the buffer; 1 at end
 * of file. */
static int
fill(struct keel_stream_reader *r, size_t n)
{
    ssize_t got;
    int rc;

    while (r->have < n) {
        if (r->have == r->cap && (rc = grow(r, n)))
            return rc;
        got =
            read(r->fd, r->buf + r->have, (r->cap < n ? r->cap : n) - r->have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return keel_error_errno(r->ctx, KEEL_EIO,
                                    "offset %" PRIu64 ": reading the stream",
                                    r->offset + r->have);
        if (got == 0)
            return 1;
        r->have += (size_t)got;
    }
    return 0;
}

/* Makes the first n bytes of the current item available at *p_r. A
 * stream that ends first is a fault naming what it ends inside. */
static int
need(struct keel_stream_reader *r, size_t n, const char *what,
     const uint8_t **p_r)
{
    uint64_t avail;
    int rc;

    if (r->fd < 0) {
        avail = r->mem_len - r->offset;
        if (avail >= n) {
            *p_r = r->mem + r->offset;
            return 0;
        }
    } else {
        if ((rc = fill(r, n)) <= 0) {
            *p_r = r->buf;
            return rc;
        }
        avail = r->have;
    }
    return stream_fault(r, r->offset,
                        "stream ends inside %s (%" PRIu64 " of %zu bytes)",
                        what, avail, n);
}

/* The current item (n bytes) is done. */
static void
consume(struct keel_stream_reader *r, size_t n)
{
    r->offset += n;
    if (r->fd < 0)
        return;
    memmove(r->buf, r->buf + n, r->have - n);
    r->have -= n;
}

/* --- headers --- */

static int
detect(struct keel_stream_reader *r)
{
    static const uint8_t marker[8] = {0xFF, 0xFF, 0xFF, 0xFF,
                                      0xFF, 0xFF, 0xFF, 0xFF};
    const uint8_t *p;
    int rc;

    if ((rc = need(r, 8, "the stream's first header", &p)))
        return rc;
    if (!memcmp(p, xl_magic, 8))
        r->fmt = KEEL_STREAM_XL;
    else if (stream_get64(p, true) == KEEL_STREAM_LIBXL_IDENT)
        r->fmt = KEEL_STREAM_LIBXL;
    else if (!memcmp(p, marker, 8))
        r->fmt = KEEL_STREAM_LIBXC;
    else
        return stream_fault(r, r->offset,
                            "not a migration-v2 stream: no xl magic, libxl "
                            "ident or image marker (a legacy stream is not "
                            "supported)");
    return 0;
}

static int
start_state(struct keel_stream_reader *r)
{
    switch (r->fmt) {
    case KEEL_STREAM_XL:
        return RD_XL_HDR;
    case KEEL_STREAM_LIBXL:
        return RD_LIBXL_HDR;
    case KEEL_STREAM_LIBXC:
        return RD_IMAGE_HDR;
    default:
        return RD_DETECT;
    }
}

/* Copies the config into the reader (NUL-terminated), checking that it
 * is one string: JSON must end in its NUL, as xl writes it. */
static int
xl_config(struct keel_stream_reader *r, struct keel_stream_item *it,
          const uint8_t *cfg, uint32_t len)
{
    bool json = it->u.xl.mandatory_flags & KEEL_STREAM_XL_FLAG_JSON;
    const uint8_t *nul;
    size_t text = len;
    char *p;

    if (len == 0)
        return 0;
    if (cfg[len - 1] == '\0')
        text--;
    else if (json)
        return stream_fault(r, it->offset,
                            "xl header: the JSON config does not end in a "
                            "NUL byte");
    if ((nul = memchr(cfg, '\0', text)))
        return stream_fault(r, it->offset,
                            "xl header: the config holds a NUL byte at %zu "
                            "of %u",
                            (size_t)(nul - cfg), len);
    if (text + 1 > r->config_cap) {
        p = realloc(r->config, text + 1);
        if (!p)
            return keel_error(r->ctx, KEEL_ENOMEM, "out of memory");
        r->config = p;
        r->config_cap = text + 1;
    }
    memcpy(r->config, cfg, text);
    r->config[text] = '\0';
    it->u.xl.config = r->config;
    it->u.xl.config_len = text;
    return 0;
}

static int
xl_flags(struct keel_stream_reader *r, struct keel_stream_item *it,
         uint32_t marker)
{
    uint32_t known = KEEL_STREAM_XL_FLAG_JSON | KEEL_STREAM_XL_FLAG_STREAMV2;
    uint32_t mand = it->u.xl.mandatory_flags;

    if (marker == __builtin_bswap32(KEEL_STREAM_XL_BYTEORDER))
        return stream_fault(r, it->offset,
                            "xl header: byte-order marker 0x%08x: the file "
                            "was written on a host of the other byte order",
                            marker);
    if (marker != KEEL_STREAM_XL_BYTEORDER)
        return stream_fault(r, it->offset,
                            "xl header: bad byte-order marker 0x%08x", marker);
    if (mand & ~known)
        return stream_fault(r, it->offset,
                            "xl header: unknown mandatory flags 0x%x",
                            mand & ~known);
    if (!(mand & KEEL_STREAM_XL_FLAG_STREAMV2))
        return stream_fault(r, it->offset,
                            "xl header: a legacy (version 1) save stream is "
                            "not supported: restore it with xl of Xen 4.6 or "
                            "later, which converts it");
    return 0;
}

/* 32-byte magic, four host-order u32 (marker, mandatory flags, optional
 * flags, optional data length), then the optional data: u32 config
 * length (counting the NUL) and the config. xl ignores optional data
 * after the config, and so do we. */
static int
read_xl_header(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    bool be = stream_host_be();
    uint32_t opt_len, cfg_len;
    const uint8_t *p;
    int rc;

    it->kind = KEEL_STREAM_ITEM_XL_HEADER;
    if ((rc = need(r, XL_HDR_LEN, "the xl header", &p)))
        return rc;
    if (memcmp(p, xl_magic, KEEL_STREAM_XL_MAGIC_LEN))
        return stream_fault(r, it->offset,
                            "xl header: wrong magic (not an xl save file)");
    it->u.xl.mandatory_flags = stream_get32(p + 36, be);
    it->u.xl.optional_flags = stream_get32(p + 40, be);
    if ((rc = xl_flags(r, it, stream_get32(p + 32, be))))
        return rc;
    opt_len = stream_get32(p + 44, be);
    if (opt_len > KEEL_STREAM_BODY_MAX)
        return stream_fault(r, it->offset,
                            "xl header: %u bytes of optional data exceed the "
                            "limit of %u",
                            opt_len, KEEL_STREAM_BODY_MAX);
    if (opt_len > 0 && opt_len < 4)
        return stream_fault(r, it->offset,
                            "xl header: %u bytes of optional data cannot hold "
                            "the config length",
                            opt_len);
    if ((rc = need(r, XL_HDR_LEN + opt_len, "the xl header", &p)))
        return rc;
    cfg_len = opt_len ? stream_get32(p + XL_HDR_LEN, be) : 0;
    if (opt_len && cfg_len > opt_len - 4)
        return stream_fault(r, it->offset,
                            "xl header: a config of %u bytes overruns the %u "
                            "bytes of optional data",
                            cfg_len, opt_len);
    if ((rc = xl_config(r, it, p + XL_HDR_LEN + 4, cfg_len)))
        return rc;
    consume(r, XL_HDR_LEN + opt_len);
    r->state = RD_LIBXL_HDR;
    return 1;
}

static int
read_libxl_header(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    const uint8_t *p;
    uint64_t ident;
    uint32_t version, options;
    int rc;

    it->kind = KEEL_STREAM_ITEM_LIBXL_HEADER;
    if ((rc = need(r, LIBXL_HDR_LEN, "the libxl header", &p)))
        return rc;
    ident = stream_get64(p, true);
    version = stream_get32(p + 8, true);
    options = stream_get32(p + 12, true);
    if (ident != KEEL_STREAM_LIBXL_IDENT)
        return stream_fault(r, it->offset,
                            "libxl header: wrong ident 0x%016" PRIx64
                            " (not a libxl stream)",
                            ident);
    if (version != KEEL_STREAM_LIBXL_VERSION)
        return stream_fault(r, it->offset,
                            "libxl header: version %u is not supported (only "
                            "2 is)",
                            version);
    if (options & ~(KEEL_STREAM_OPT_BIG_ENDIAN | KEEL_STREAM_LIBXL_OPT_LEGACY))
        return stream_fault(r, it->offset,
                            "libxl header: reserved option bits 0x%x are set",
                            options & ~(KEEL_STREAM_OPT_BIG_ENDIAN |
                                        KEEL_STREAM_LIBXL_OPT_LEGACY));
    it->u.libxl.version = version;
    it->u.libxl.options = options;
    r->libxl_be = options & KEEL_STREAM_OPT_BIG_ENDIAN;
    consume(r, LIBXL_HDR_LEN);
    r->state = RD_LIBXL_REC;
    return 1;
}

static int
check_image_header(struct keel_stream_reader *r, struct keel_stream_item *it,
                   const uint8_t *p)
{
    uint64_t marker = stream_get64(p, true);
    uint32_t id = stream_get32(p + 8, true);
    uint32_t version = stream_get32(p + 12, true);
    uint16_t options = stream_get16(p + 16, true);

    if (marker != KEEL_STREAM_IHDR_MARKER)
        return stream_fault(r, it->offset,
                            "image header: wrong marker 0x%016" PRIx64
                            " (a legacy image is not supported)",
                            marker);
    if (id != KEEL_STREAM_IHDR_ID)
        return stream_fault(
            r, it->offset, "image header: wrong id 0x%08x (XENF expected)", id);
    if (version < 2 || version > 3)
        return stream_fault(r, it->offset,
                            "image header: version %u is not supported (2 "
                            "and 3 are)",
                            version);
    if (options & ~KEEL_STREAM_OPT_BIG_ENDIAN)
        return stream_fault(r, it->offset,
                            "image header: reserved option bits 0x%x are set",
                            options & ~KEEL_STREAM_OPT_BIG_ENDIAN);
    if (stream_get16(p + 18, true) || stream_get32(p + 20, true))
        return stream_fault(r, it->offset,
                            "image header: reserved bytes 18..23 are not "
                            "zero");
    it->u.image.version = version;
    it->u.image.options = options;
    return 0;
}

static int
check_domain_header(struct keel_stream_reader *r, struct keel_stream_item *it,
                    const uint8_t *p)
{
    bool be = it->u.image.options & KEEL_STREAM_OPT_BIG_ENDIAN;
    uint64_t off = it->offset + IMAGE_HDR_LEN;
    uint32_t type = stream_get32(p, be);
    uint16_t shift = stream_get16(p + 4, be);

    if (type != KEEL_STREAM_DHDR_X86_PV && type != KEEL_STREAM_DHDR_X86_HVM)
        return stream_fault(r, off,
                            "domain header: type %u is not x86 PV (1) or x86 "
                            "HVM (2)",
                            type);
    if (shift != STREAM_PAGE_SHIFT)
        return stream_fault(r, off,
                            "domain header: page shift %u is not 12 (4 KiB "
                            "pages)",
                            shift);
    if (stream_get16(p + 6, be))
        return stream_fault(r, off,
                            "domain header: reserved bytes 6..7 are not zero");
    it->u.image.dom_type = type;
    it->u.image.page_shift = shift;
    it->u.image.xen_major = stream_get32(p + 8, be);
    it->u.image.xen_minor = stream_get32(p + 12, be);
    return 0;
}

static int
read_image_header(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    const uint8_t *p;
    int rc;

    it->kind = KEEL_STREAM_ITEM_IMAGE_HEADER;
    if ((rc = need(r, IMAGE_HDR_LEN, "the image header", &p)) ||
        (rc = check_image_header(r, it, p)))
        return rc;
    if ((rc = need(r, IMAGE_HDR_LEN + DOMAIN_HDR_LEN, "the domain header",
                   &p)) ||
        (rc = check_domain_header(r, it, p + IMAGE_HDR_LEN)))
        return rc;
    r->image_read = true;
    r->image_be = it->u.image.options & KEEL_STREAM_OPT_BIG_ENDIAN;
    r->version = it->u.image.version;
    r->dom_type = it->u.image.dom_type;
    consume(r, IMAGE_HDR_LEN + DOMAIN_HDR_LEN);
    r->state = RD_IMAGE_REC;
    return 1;
}

/* --- records --- */

/* A record of either layer: the header, the layer's checks on it, the
 * body and its padding, the layer's checks on the body. */
static int
read_record(struct keel_stream_reader *r, struct keel_stream_item *it,
            bool image)
{
    bool be = image ? r->image_be : r->libxl_be;
    const char *name = NULL;
    char what[64];
    const uint8_t *p;
    size_t total, i;
    int rc;

    it->kind =
        image ? KEEL_STREAM_ITEM_IMAGE_RECORD : KEEL_STREAM_ITEM_LIBXL_RECORD;
    if ((rc = need(r, 8,
                   image ? "an image record header" : "a libxl record header",
                   &p)))
        return rc;
    it->type = stream_get32(p, be);
    it->length = stream_get32(p + 4, be);
    rc = image ? keel__stream_xc_pre(r, it) : keel__stream_libxl_pre(r, it);
    if (rc)
        return rc;
    name = image ? keel_stream_xc_rec_name(it->type)
                 : keel_stream_libxl_rec_name(it->type);
    if (name && !it->skipped)
        snprintf(what, sizeof(what), "the %s record", name);
    else
        snprintf(what, sizeof(what), "record type 0x%08x", it->type);
    total = 8 + (((size_t)it->length + 7) & ~(size_t)7);
    if ((rc = need(r, total, what, &p)))
        return rc;
    for (i = 8 + it->length; i < total; i++)
        if (p[i])
            return stream_fault(
                r, it->offset, "%s: padding byte %zu is not zero",
                name && !it->skipped ? name : "record", i - 8 - it->length);
    it->body = p + 8;
    rc = image ? keel__stream_xc_body(r, it) : keel__stream_libxl_body(r, it);
    if (rc)
        return rc;
    consume(r, total);
    return 1;
}

static int
read_item(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    int rc;

    if (r->state == RD_DETECT) {
        if ((rc = detect(r)))
            return rc;
        r->state = start_state(r);
    }
    switch (r->state) {
    case RD_XL_HDR:
        return read_xl_header(r, it);
    case RD_LIBXL_HDR:
        return read_libxl_header(r, it);
    case RD_LIBXL_REC:
        return read_record(r, it, false);
    case RD_IMAGE_HDR:
        return read_image_header(r, it);
    case RD_IMAGE_REC:
        return read_record(r, it, true);
    default:
        return 0;
    }
}

KEEL_EXPORT int
keel_stream_read(struct keel_stream_reader *r, struct keel_stream_item *it)
{
    int rc;

    keel__enter(r->ctx);
    memset(it, 0, sizeof(*it));
    it->offset = r->offset;
    if (r->state == RD_DONE) {
        rc = 0;
    } else if (r->state == RD_FAILED) {
        rc = keel_error(r->ctx, r->err, "%s",
                        r->errmsg ? r->errmsg : keel_strerror(r->err));
    } else if ((rc = read_item(r, it)) < 0) {
        r->state = RD_FAILED;
        r->err = rc;
        r->errmsg = keel__strdup(r->ctx, keel_ctx_last_error(r->ctx));
    }
    keel__leave(r->ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_reader_skip_image(struct keel_stream_reader *r)
{
    int rc = 0;

    keel__enter(r->ctx);
    if (r->fd < 0 || r->state != RD_IMAGE_HDR || r->image_read || r->have)
        rc = keel_error(r->ctx, KEEL_EINVAL,
                        "offset %" PRIu64 ": the image can be handed over "
                        "only right after LIBXC_CONTEXT",
                        r->offset);
    else
        r->state = RD_LIBXL_REC;
    keel__leave(r->ctx);
    return rc;
}

/* --- construction --- */

static int
reader_new(struct keel_ctx *ctx, enum keel_stream_format fmt,
           struct keel_stream_reader **r_r)
{
    struct keel_stream_reader *r;

    *r_r = NULL;
    if ((unsigned int)fmt > KEEL_STREAM_LIBXC)
        return keel_error(ctx, KEEL_EINVAL, "unknown stream format %d", fmt);
    r = calloc(1, sizeof(*r));
    if (!r)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    r->ctx = ctx;
    r->fd = -1;
    r->fmt = fmt;
    r->state = start_state(r);
    *r_r = r;
    return 0;
}

KEEL_EXPORT int
keel_stream_reader_new(struct keel_ctx *ctx, int fd,
                       enum keel_stream_format fmt,
                       struct keel_stream_reader **r_r)
{
    int rc;

    keel__enter(ctx);
    *r_r = NULL;
    if (fd < 0)
        rc = keel_error(ctx, KEEL_EINVAL, "stream reader: bad descriptor %d",
                        fd);
    else if (!(rc = reader_new(ctx, fmt, r_r)))
        (*r_r)->fd = fd;
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT int
keel_stream_reader_new_mem(struct keel_ctx *ctx, const void *buf, size_t len,
                           enum keel_stream_format fmt,
                           struct keel_stream_reader **r_r)
{
    int rc;

    keel__enter(ctx);
    *r_r = NULL;
    if (!buf && len)
        rc = keel_error(ctx, KEEL_EINVAL, "stream reader: NULL buffer");
    else if (!(rc = reader_new(ctx, fmt, r_r))) {
        (*r_r)->mem = buf;
        (*r_r)->mem_len = len;
    }
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT void
keel_stream_reader_free(struct keel_stream_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->errmsg);
    free(r->u64);
    free(r->u32);
    free(r->config);
    free(r);
}

KEEL_EXPORT uint64_t
keel_stream_reader_offset(const struct keel_stream_reader *r)
{
    return r->offset;
}

KEEL_EXPORT enum keel_stream_format
keel_stream_reader_format(const struct keel_stream_reader *r)
{
    return r->fmt;
}
