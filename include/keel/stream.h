/* stream.h: Xen's migration-v2 streams, read and written byte for byte
 *
 * A domain travels between hosts, and to and from disk, as a stream of
 * three nested layers (../../docs/architecture.md, "Migration streams"):
 *
 *   xl save-file header   32-byte magic, byte-order marker, flags, and the
 *                         domain config as libxl JSON          (KEEL_STREAM_XL)
 *   libxl container       16-byte header, then records; the LIBXC_CONTEXT
 *                         record is empty and the image stream
 *                         follows it inline (KEEL_STREAM_LIBXL) domain image
 * (libxc)  24-byte image header, 16-byte domain header, then records up to END
 * (KEEL_STREAM_LIBXC)
 *
 * Every record is an 8-byte header {u32 type, u32 body length}, the body,
 * and zero padding to the next multiple of 8. The image and libxl headers
 * are big-endian; everything else is in the byte order named by bit 0 of
 * their options (x86 writes little-endian). The writer always writes
 * little-endian and image version 3; the reader accepts image versions 2
 * and 3, either byte order, and skips optional records (type bit 31) it
 * does not know, while an unknown mandatory record is a fault.
 *
 * A checkpointed stream (Remus, COLO) repeats: image records ending in
 * CHECKPOINT, then libxl records ending in CHECKPOINT_END, then more image
 * records (no new headers), until the image END and the libxl END.
 *
 * The reader checks what Xen's restore and its verify-stream-v2 check,
 * and some order rules they leave to the restorer; a fault is
 * KEEL_ECORRUPT with a message that starts with the byte offset of the
 * item at fault ("offset 4136: PAGE_DATA: page type 0x5 is reserved").
 * A stream that ends early is KEEL_ECORRUPT ("stream ends inside ...");
 * an I/O error is KEEL_EIO.
 *
 * Threads: a reader or writer is used by one thread at a time. Both work
 * on blocking descriptors (EINTR and short transfers are handled); a
 * caller cancels a transfer stuck on a peer by shutting the descriptor
 * down from another thread.
 */
#ifndef KEEL_STREAM_H
#define KEEL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- constants from Xen's specs --- */

/* The image header (libxc-migration-stream, revision 3). */
#define KEEL_STREAM_IHDR_MARKER 0xFFFFFFFFFFFFFFFFull
#define KEEL_STREAM_IHDR_ID 0x58454E46u /* "XENF" */
#define KEEL_STREAM_IHDR_VERSION 3      /* written; 2 and 3 read */
#define KEEL_STREAM_OPT_BIG_ENDIAN 0x1u /* image and libxl options bit 0 */

/* The domain header's type. PVH travels as HVM. */
#define KEEL_STREAM_DHDR_X86_PV 1u
#define KEEL_STREAM_DHDR_X86_HVM 2u

/* The libxl header (libxl-migration-stream, revision 2). */
#define KEEL_STREAM_LIBXL_IDENT 0x4c6962786c466d74ull /* "LibxlFmt" */
#define KEEL_STREAM_LIBXL_VERSION 2
#define KEEL_STREAM_LIBXL_OPT_LEGACY 0x2u /* made by convert-legacy-stream */

/* The xl save-file header (tools/xl/xl.h). */
#define KEEL_STREAM_XL_MAGIC_LEN 32
#define KEEL_STREAM_XL_BYTEORDER 0x01020304u
#define KEEL_STREAM_XL_FLAG_JSON 0x1u     /* mandatory: the config is JSON */
#define KEEL_STREAM_XL_FLAG_STREAMV2 0x2u /* mandatory: the stream is v2 */

/* Record type bit 31: a reader that does not know the type may skip it. */
#define KEEL_STREAM_REC_OPTIONAL 0x80000000u

/* Image (libxc) record types. */
enum keel_stream_xc_rec {
    KEEL_XC_END = 0x00,
    KEEL_XC_PAGE_DATA = 0x01,
    KEEL_XC_X86_PV_INFO = 0x02,
    KEEL_XC_X86_PV_P2M_FRAMES = 0x03,
    KEEL_XC_X86_PV_VCPU_BASIC = 0x04,
    KEEL_XC_X86_PV_VCPU_EXTENDED = 0x05,
    KEEL_XC_X86_PV_VCPU_XSAVE = 0x06,
    KEEL_XC_SHARED_INFO = 0x07,
    KEEL_XC_X86_TSC_INFO = 0x08,
    KEEL_XC_HVM_CONTEXT = 0x09,
    KEEL_XC_HVM_PARAMS = 0x0A,
    KEEL_XC_TOOLSTACK = 0x0B, /* deprecated: refused */
    KEEL_XC_X86_PV_VCPU_MSRS = 0x0C,
    KEEL_XC_VERIFY = 0x0D,
    KEEL_XC_CHECKPOINT = 0x0E,
    KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST = 0x0F,
    KEEL_XC_STATIC_DATA_END = 0x10,  /* version 3 only */
    KEEL_XC_X86_CPUID_POLICY = 0x11, /* version 3 only */
    KEEL_XC_X86_MSR_POLICY = 0x12,   /* version 3 only */
};

/* libxl record types. */
enum keel_stream_libxl_rec {
    KEEL_LIBXL_END = 0,
    KEEL_LIBXL_LIBXC_CONTEXT = 1,
    KEEL_LIBXL_EMULATOR_XENSTORE_DATA = 2,
    KEEL_LIBXL_EMULATOR_CONTEXT = 3,
    KEEL_LIBXL_CHECKPOINT_END = 4,
    KEEL_LIBXL_CHECKPOINT_STATE = 5,
};

/* EMULATOR_* emulator_id */
#define KEEL_STREAM_EMU_UNKNOWN 0u
#define KEEL_STREAM_EMU_QEMU_TRAD 1u
#define KEEL_STREAM_EMU_QEMU_UPSTREAM 2u

/* PAGE_DATA: at most this many frames per record (Xen's MAX_BATCH_SIZE),
 * and the fields of a pfn entry. */
#define KEEL_STREAM_PAGE_BATCH 1024u
#define KEEL_STREAM_PFN_MASK 0x000FFFFFFFFFFFFFull /* bits 51..0 */
#define KEEL_STREAM_PFN_TYPE_SHIFT 60

/* The largest record body the reader takes, PAGE_DATA aside (a full
 * batch is 8 + 1024 * (8 + 4096) bytes). Emulator state is the largest
 * thing that travels in one record. */
#define KEEL_STREAM_BODY_MAX (64u << 20)

/* Whether a page type (enum keel_hv_page_type, 0..0xF) is one Xen
 * defines, and whether a PAGE_DATA entry of that type carries 4096 bytes
 * of data (BROKEN, XALLOC and XTAB do not). */
bool keel_stream_page_type_valid(uint32_t type);
bool keel_stream_page_type_has_data(uint32_t type);

/* Names for messages and listings: "PAGE_DATA", "LIBXC_CONTEXT"; an
 * unknown type gives NULL. */
const char *keel_stream_xc_rec_name(uint32_t type);
const char *keel_stream_libxl_rec_name(uint32_t type);

enum keel_stream_format {
    KEEL_STREAM_AUTO = 0, /* reader: tell from the first bytes */
    KEEL_STREAM_XL = 1,
    KEEL_STREAM_LIBXL = 2,
    KEEL_STREAM_LIBXC = 3,
};

/* "xl", "libxl", "libxc" (and "auto"); parse returns KEEL_EINVAL for any
 * other name. */
const char *keel_stream_format_name(enum keel_stream_format fmt);
int keel_stream_format_parse(const char *name, enum keel_stream_format *fmt_r);

/* --- writing --- */

struct keel_stream_writer;

/* A writer on fd (not closed by the writer). */
int keel_stream_writer_new(struct keel_ctx *ctx, int fd,
                           struct keel_stream_writer **w_r);
/* Frees the writer; NULL is a no-op. Nothing is buffered: every call
 * below has written its bytes when it returns 0. */
void keel_stream_writer_free(struct keel_stream_writer *w);
/* Bytes written so far. */
uint64_t keel_stream_writer_offset(const struct keel_stream_writer *w);

/* The xl save-file header with flags JSON and STREAMV2 and the config
 * (libxl JSON, written with its terminating NUL, as xl writes it). */
int keel_stream_write_xl_header(struct keel_stream_writer *w,
                                const char *config_json);
/* The libxl header: version 2, little-endian. */
int keel_stream_write_libxl_header(struct keel_stream_writer *w);
/* The image header (version 3, little-endian) and the domain header.
 * dom_type is KEEL_STREAM_DHDR_X86_PV or _HVM; xen_major/minor name the
 * hypervisor the image comes from. */
int keel_stream_write_image_header(struct keel_stream_writer *w,
                                   uint32_t dom_type, uint32_t xen_major,
                                   uint32_t xen_minor);

/* Any record of either layer (the framing is the same): the body is the
 * concatenation of n parts of lens[i] bytes at parts[i]; padding is
 * added. KEEL_E2BIG when the body exceeds 4 GiB - 1. */
int keel_stream_write_record(struct keel_stream_writer *w, uint32_t type,
                             const void *const *parts, const size_t *lens,
                             size_t n);
/* A record with an empty body (END, STATIC_DATA_END, CHECKPOINT,
 * LIBXC_CONTEXT, CHECKPOINT_END, VERIFY). */
int keel_stream_write_empty(struct keel_stream_writer *w, uint32_t type);

/* PAGE_DATA for n frames (1..KEEL_STREAM_PAGE_BATCH): pfns[i] with
 * types[i] (enum keel_hv_page_type). pages holds n consecutive 4096-byte
 * frames in the same order, as a mapping of the n frames gives them; the
 * frames of types without data are skipped. The page contents go to the
 * descriptor straight from pages (no copy). */
int keel_stream_write_page_data(struct keel_stream_writer *w,
                                const uint64_t *pfns, const uint32_t *types,
                                size_t n, const void *pages);
/* The same with each frame anywhere: pages[i] is frame i's 4096 bytes
 * (ignored for types without data). Frames that lie end to end in memory
 * go out as one run. For a sender that maps a span of memory once and
 * sends the dirty frames scattered in it. */
int keel_stream_write_page_data_v(struct keel_stream_writer *w,
                                  const uint64_t *pfns, const uint32_t *types,
                                  size_t n, const void *const *pages);
/* X86_PV_INFO. */
int keel_stream_write_pv_info(struct keel_stream_writer *w, uint8_t guest_width,
                              uint8_t pt_levels);
/* X86_PV_P2M_FRAMES for pfns start..end (inclusive) held in n frames. */
int keel_stream_write_p2m_frames(struct keel_stream_writer *w, uint32_t start,
                                 uint32_t end, const uint64_t *frames,
                                 size_t n);
/* A per-vCPU record (X86_PV_VCPU_BASIC/EXTENDED/XSAVE/MSRS): u32 vcpu,
 * u32 reserved, then the blob. */
int keel_stream_write_vcpu(struct keel_stream_writer *w, uint32_t type,
                           uint32_t vcpu, const void *blob, size_t len);
/* HVM_PARAMS from n {u64 index, u64 value} pairs laid out little-endian
 * (the layout of KEEL_HV_CTX_HVM_PARAMS). */
int keel_stream_write_hvm_params(struct keel_stream_writer *w,
                                 const void *pairs, size_t n);
/* EMULATOR_XENSTORE_DATA or EMULATOR_CONTEXT: u32 emulator_id, u32
 * index, then data. */
int keel_stream_write_emulator(struct keel_stream_writer *w, uint32_t type,
                               uint32_t emulator_id, uint32_t index,
                               const void *data, size_t len);
/* CHECKPOINT_STATE with its control id (0 NEW, 1 SVM_SUSPENDED, 2
 * SVM_READY, 3 SVM_RESUMED). */
int keel_stream_write_checkpoint_state(struct keel_stream_writer *w,
                                       uint32_t control_id);

/* --- reading --- */

struct keel_stream_reader;

/* A reader of fd (not closed by the reader) in format fmt (AUTO: an xl
 * magic, a libxl ident or an image marker decides). */
int keel_stream_reader_new(struct keel_ctx *ctx, int fd,
                           enum keel_stream_format fmt,
                           struct keel_stream_reader **r_r);
/* A reader of len bytes at buf (kept, not copied: for tests and fuzzing). */
int keel_stream_reader_new_mem(struct keel_ctx *ctx, const void *buf,
                               size_t len, enum keel_stream_format fmt,
                               struct keel_stream_reader **r_r);
void keel_stream_reader_free(struct keel_stream_reader *r);
/* Bytes consumed so far. */
uint64_t keel_stream_reader_offset(const struct keel_stream_reader *r);
/* The format being read (known after the first item). */
enum keel_stream_format
keel_stream_reader_format(const struct keel_stream_reader *r);

enum keel_stream_item_kind {
    KEEL_STREAM_ITEM_XL_HEADER = 1,
    KEEL_STREAM_ITEM_LIBXL_HEADER = 2,
    KEEL_STREAM_ITEM_LIBXL_RECORD = 3,
    KEEL_STREAM_ITEM_IMAGE_HEADER = 4, /* image and domain header */
    KEEL_STREAM_ITEM_IMAGE_RECORD = 5,
};

/* One item. Pointers point into the reader and stay valid until the next
 * keel_stream_read() or keel_stream_reader_free(). Multi-byte values in
 * the decoded members are in host order; body is the record as it came. */
struct keel_stream_item {
    enum keel_stream_item_kind kind;
    uint64_t offset;     /* stream offset of the item's first byte */
    uint32_t type;       /* records: the type */
    uint32_t length;     /* records: the body length (without padding) */
    const uint8_t *body; /* records: the body */
    bool skipped;        /* an optional record of a type not known here */
    union {
        struct {
            uint32_t mandatory_flags, optional_flags;
            const char *config; /* NUL-terminated; NULL when absent */
            size_t config_len;  /* without the NUL */
        } xl;
        struct {
            uint32_t version, options;
        } libxl;
        struct {
            uint32_t version;
            uint16_t options;
            uint32_t dom_type; /* KEEL_STREAM_DHDR_* */
            uint16_t page_shift;
            uint32_t xen_major, xen_minor;
        } image;
        struct { /* PAGE_DATA */
            uint32_t count;
            const uint64_t *pfns;  /* count frame numbers */
            const uint32_t *types; /* count page types */
            const uint8_t *data;   /* 4096 bytes per frame whose type
                                      carries data, in order */
        } pages;
        struct { /* X86_PV_INFO */
            uint8_t guest_width, pt_levels;
        } pv_info;
        struct { /* X86_PV_P2M_FRAMES */
            uint32_t start, end;
            const uint64_t *frames;
            size_t n;
        } p2m;
        struct { /* X86_PV_VCPU_* */
            uint32_t vcpu;
            const uint8_t *blob;
            size_t len;
        } vcpu;
        struct { /* X86_TSC_INFO */
            uint32_t mode, khz, incarnation;
            uint64_t nsec;
        } tsc;
        struct { /* HVM_PARAMS: 2 * count values, index then value */
            uint32_t count;
            const uint64_t *pairs;
        } hvm_params;
        struct { /* CHECKPOINT_DIRTY_PFN_LIST */
            const uint64_t *pfns;
            size_t n;
        } dirty;
        struct { /* EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT */
            uint32_t emulator_id, index;
            const uint8_t *data;
            size_t len;
        } emu;
        struct { /* CHECKPOINT_STATE */
            uint32_t control_id;
        } checkpoint_state;
    } u;
};

/* Reads and checks the next item. Returns 1 with *it filled, 0 once the
 * stream's last END has been read (the outermost layer's; nothing after
 * it is read), or a negative keel_err with the message on ctx. After an
 * error the reader only returns that error again. */
int keel_stream_read(struct keel_stream_reader *r, struct keel_stream_item *it);

/* Hands the domain image over: called right after keel_stream_read()
 * returned the LIBXC_CONTEXT record of a descriptor's stream, it says the
 * caller has itself read the image that follows, from its header to its
 * END, straight from the descriptor (xc_domain_restore does so on Xen),
 * and the reader goes on with the libxl records after it. The reader has
 * read no byte past the record, so the descriptor is where the image
 * starts. Offsets after this count from the image's end. Returns 0, or
 * KEEL_EINVAL when the last item was not that record (or the reader
 * reads memory). */
int keel_stream_reader_skip_image(struct keel_stream_reader *r);

/* --- verifying --- */

/* One line describing an item, for listings ("@4136 IMAGE PAGE_DATA
 * count=1024 ..."); always NUL-terminated, truncated to size. */
void keel_stream_item_describe(const struct keel_stream_item *it, char *buf,
                               size_t size);

struct keel_stream_summary {
    enum keel_stream_format format;
    uint32_t image_version;
    uint32_t dom_type;
    uint64_t records;     /* records of both layers */
    uint64_t pages;       /* PAGE_DATA entries */
    uint64_t checkpoints; /* CHECKPOINT records */
    uint64_t bytes;       /* the stream's length up to its last END */
    uint64_t trailing;    /* bytes after it (files only; a fault) */
};

/* Reads fd to its end in format fmt, calling each (may be NULL) for every
 * item; each returning non-zero stops with that value. Bytes after the
 * last END are a fault (KEEL_ECORRUPT naming their offset). Returns 0
 * with *sum filled (may be NULL), or the first fault. */
int
keel_stream_verify(struct keel_ctx *ctx, int fd, enum keel_stream_format fmt,
                   int (*each)(void *opaque, const struct keel_stream_item *it),
                   void *opaque, struct keel_stream_summary *sum);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_STREAM_H */
