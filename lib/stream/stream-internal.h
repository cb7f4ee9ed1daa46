/* stream-internal.h: what the files of lib/stream/ share
 *
 * stream-common.c   names, page types, format names; byte-order helpers
 * stream-write.c    the writer
 * stream-read.c     the reader: input, headers and the layer machine
 * stream-records.c  the reader: one check-and-decode step per record type
 * stream-verify.c   keel_stream_verify and keel_stream_item_describe
 *
 * The reader is one struct shared by stream-read.c and stream-records.c:
 * stream-read.c owns the input and the layer state, stream-records.c
 * reads (and may set) the per-image state that orders records.
 */
#ifndef KEEL_STREAM_INTERNAL_H
#define KEEL_STREAM_INTERNAL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/stream.h>

#include "internal.h"

#define STREAM_PAGE_SIZE 4096u
#define STREAM_PAGE_SHIFT 12u
/* A PAGE_DATA body at its largest: header, a full batch of entries and
 * of pages. */
#define STREAM_PAGE_DATA_MAX                                                   \
    (8u + KEEL_STREAM_PAGE_BATCH * (8u + STREAM_PAGE_SIZE))
/* pfn entry bits 59..52 */
#define STREAM_PFN_RESERVED 0x0FF0000000000000ull

/* --- byte order --- */

static inline uint16_t
stream_get16(const uint8_t *p, bool be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t
stream_get32(const uint8_t *p, bool be)
{
    if (be)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
           p[0];
}

static inline uint64_t
stream_get64(const uint8_t *p, bool be)
{
    uint64_t hi = stream_get32(be ? p : p + 4, be);
    uint64_t lo = stream_get32(be ? p + 4 : p, be);

    return hi << 32 | lo;
}

static inline void
stream_put32(uint8_t *p, uint32_t v, bool be)
{
    int i;

    for (i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static inline void
stream_put64(uint8_t *p, uint64_t v, bool be)
{
    int i;

    for (i = 0; i < 8; i++)
        p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

/* The host's byte order, for the xl header (written in native order). */
static inline bool
stream_host_be(void)
{
    const uint16_t one = 1;

    return *(const uint8_t *)&one == 0;
}

/* --- the reader --- */

enum stream_state {
    RD_DETECT = 0, /* AUTO: the first bytes decide */
    RD_XL_HDR,
    RD_LIBXL_HDR,
    RD_LIBXL_REC,
    RD_IMAGE_HDR,
    RD_IMAGE_REC,
    RD_DONE,   /* the outermost END was read: nothing more is read */
    RD_FAILED, /* err and errmsg say why, each call repeats it */
};

struct keel_stream_reader {
    struct keel_ctx *ctx;
    int fd;             /* -1: reading mem */
    const uint8_t *mem; /* the caller's bytes, kept */
    size_t mem_len;
    uint8_t *buf; /* fd: the current item, as far as it has arrived */
    size_t cap, have;
    uint64_t offset; /* stream offset of the current item (bytes consumed) */
    enum keel_stream_format fmt;
    enum stream_state state;
    int err;
    char *errmsg;

    /* libxl layer */
    bool libxl_be;
    bool seen_libxc;    /* LIBXC_CONTEXT read */
    bool in_checkpoint; /* image CHECKPOINT read, CHECKPOINT_END not yet */

    /* image layer */
    bool image_be;
    bool image_read; /* an image header has been read */
    uint32_t version, dom_type;
    bool seen_sde, seen_pv_info, seen_p2m;
    uint8_t pv_width;

    /* decoded arrays, native order, reused for each record */
    uint64_t *u64;
    size_t u64_cap;
    uint32_t *u32;
    size_t u32_cap;
    char *config;
    size_t config_cap;
};

/* Records a KEEL_ECORRUPT "offset OFF: ..." on the reader's context and
 * returns it. */
int keel__stream_fault(struct keel_stream_reader *r, uint64_t off,
                       const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define stream_fault(r, off, ...)                                              \
    keel__stream_fault((r), (off), __func__, __LINE__, __VA_ARGS__)

/* Room for n native values in the reader's arrays (KEEL_ENOMEM). */
int keel__stream_u64(struct keel_stream_reader *r, size_t n);
int keel__stream_u32(struct keel_stream_reader *r, size_t n);

/* stream-records.c: the checks of one record whose header (type, length,
 * offset) is in it. _pre runs before the body is read (type, length,
 * place in the stream); _body when it has arrived (it->body set): checks
 * and decodes it and moves the layer state on. */
int keel__stream_xc_pre(struct keel_stream_reader *r,
                        struct keel_stream_item *it);
int keel__stream_xc_body(struct keel_stream_reader *r,
                         struct keel_stream_item *it);
int keel__stream_libxl_pre(struct keel_stream_reader *r,
                           struct keel_stream_item *it);
int keel__stream_libxl_body(struct keel_stream_reader *r,
                            struct keel_stream_item *it);

#endif /* KEEL_STREAM_INTERNAL_H */
