/* stream-build.c: the streams test-stream.c reads, built with the writer
 *
 * Valid samples (also the fixtures under tests/data/stream/) and the
 * table of malformed streams, each with the start of the message the
 * reader must give. Offsets in the table are counted by hand from the
 * layouts noted on enum base, not taken from the code under test.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream-build.h"

static int sb_fd = -1;
struct keel_stream_writer *sb_w;

struct keel_stream_writer *
sb_open(void)
{
    sb_fd = memfd_create("stream", MFD_CLOEXEC);
    ck_assert_int_ge(sb_fd, 0);
    OK(keel_stream_writer_new(th_ctx(), sb_fd, &sb_w));
    return sb_w;
}

/* Bytes written straight to the memfd, past the writer (broken framing). */
void
sb_bytes(const void *p, size_t n)
{
    ck_assert_int_eq(write(sb_fd, p, n), (ssize_t)n);
}

/* The stream written so far; closes the writer. free() the result. */
uint8_t *
sb_close(size_t *len_r)
{
    struct stat st;
    uint8_t *buf;

    ck_assert_int_eq(fstat(sb_fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pread(sb_fd, buf, (size_t)st.st_size, 0), st.st_size);
    keel_stream_writer_free(sb_w);
    sb_w = NULL;
    close(sb_fd);
    sb_fd = -1;
    *len_r = (size_t)st.st_size;
    return buf;
}

void
sb_rec(uint32_t type, const void *body, size_t len)
{
    const void *parts[1] = {body};

    OK(keel_stream_write_record(sb_w, type, parts, &len, 1));
}

void
sb_le32(uint8_t *p, uint32_t v)
{
    int i;

    for (i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void
sb_le64(uint8_t *p, uint64_t v)
{
    sb_le32(p, (uint32_t)v);
    sb_le32(p + 4, (uint32_t)(v >> 32));
}

uint8_t sb_pages[4 * PAGE];
const uint64_t sb_pv_pfns[4] = {0, 1, 2, 3};
const uint32_t sb_pv_types[4] = {0x0, 0x9, 0xF, 0x4};
const uint64_t sb_hvm_pfns[3] = {0x100, 0x101, 0x2345};
const uint32_t sb_hvm_types[3] = {0x0, 0xD, 0x0};
const uint64_t sb_p2m[2] = {0x1000, 0x1001};
const char sb_config_json[] = "{\n    \"c_info\": {\n        \"type\": "
                              "\"hvm\",\n        \"name\": \"guest\"\n "
                              "   }\n}\n";
const char sb_xs_data[] = "vnc/port\0005900\0name\0guest";

void
sb_fill_pages(void)
{
    size_t i;

    for (i = 0; i < sizeof(sb_pages); i++)
        sb_pages[i] = (uint8_t)(i * 7 + i / PAGE);
}

static void
tsc(void)
{
    uint8_t b[24] = {0};

    sb_le32(b, 1);
    sb_le32(b + 4, 2000000);
    sb_le64(b + 8, 123456789);
    sb_le32(b + 16, 3);
    sb_rec(KEEL_XC_X86_TSC_INFO, b, sizeof(b));
}

static void
policies(void)
{
    uint8_t cpuid[48], msr[16];

    memset(cpuid, 0x11, sizeof(cpuid));
    memset(msr, 0, sizeof(msr));
    sb_le32(msr, 0xCE);
    sb_le64(msr + 8, 0x80000000);
    sb_rec(KEEL_XC_X86_CPUID_POLICY, cpuid, sizeof(cpuid));
    sb_rec(KEEL_XC_X86_MSR_POLICY, msr, sizeof(msr));
}

/* A PV image with every PV record (an EXTENDED of no content, as the
 * erratum allows). */
static void
pv_image(void)
{
    static const uint8_t blob[40] = {1, 2, 3};
    uint32_t v;

    sb_fill_pages();
    OK(keel_stream_write_image_header(sb_w, KEEL_STREAM_DHDR_X86_PV, 4, 17));
    OK(keel_stream_write_pv_info(sb_w, 8, 4));
    policies();
    OK(keel_stream_write_empty(sb_w, KEEL_XC_STATIC_DATA_END));
    OK(keel_stream_write_p2m_frames(sb_w, 0, 1023, sb_p2m, 2));
    OK(keel_stream_write_page_data(sb_w, sb_pv_pfns, sb_pv_types, 4, sb_pages));
    tsc();
    sb_rec(KEEL_XC_SHARED_INFO, sb_pages, PAGE);
    for (v = 0; v < 2; v++) {
        OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_BASIC, v, blob,
                                  40));
        OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_EXTENDED, v, NULL,
                                  0));
        OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_XSAVE, v, blob,
                                  24));
        OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_MSRS, v, blob, 16));
    }
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
}

/* One checkpoint's worth of HVM state. */
void
sb_hvm_state(void)
{
    static const uint8_t ctx[64] = {0xAB};
    uint8_t params[32];

    sb_le64(params, 1); /* HVM_PARAM_CALLBACK_IRQ */
    sb_le64(params + 8, 0x10);
    sb_le64(params + 16, 2); /* HVM_PARAM_STORE_PFN */
    sb_le64(params + 24, 0xFEFFF);
    OK(keel_stream_write_page_data(sb_w, sb_hvm_pfns, sb_hvm_types, 3,
                                   sb_pages));
    tsc();
    sb_rec(KEEL_XC_HVM_CONTEXT, ctx, sizeof(ctx));
    OK(keel_stream_write_hvm_params(sb_w, params, 2));
}

void
sb_hvm_image_start(uint32_t version)
{
    sb_fill_pages();
    OK(keel_stream_write_image_header(sb_w, KEEL_STREAM_DHDR_X86_HVM, 4, 17));
    if (version == 3) {
        policies();
        OK(keel_stream_write_empty(sb_w, KEEL_XC_STATIC_DATA_END));
    }
}

static void
emulator(void)
{
    static const uint8_t qemu[100] = {'Q', 'E', 'V', 'M'};

    OK(keel_stream_write_emulator(sb_w, KEEL_LIBXL_EMULATOR_XENSTORE_DATA,
                                  KEEL_STREAM_EMU_QEMU_UPSTREAM, 0, sb_xs_data,
                                  sizeof(sb_xs_data)));
    OK(keel_stream_write_emulator(sb_w, KEEL_LIBXL_EMULATOR_CONTEXT,
                                  KEEL_STREAM_EMU_QEMU_UPSTREAM, 0, qemu,
                                  sizeof(qemu)));
}

/* A checkpointed HVM stream inside libxl: checkpoints times image
 * records, CHECKPOINT, libxl records, CHECKPOINT_END; then the last
 * image records, END, emulator, END. */
static void
libxl_hvm(int checkpoints)
{
    static const uint64_t dirty[2] = {0x100, 0x2345};
    uint8_t d[16];
    int i;

    sb_le64(d, dirty[0]);
    sb_le64(d + 8, dirty[1]);
    OK(keel_stream_write_libxl_header(sb_w));
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_LIBXC_CONTEXT));
    sb_hvm_image_start(3);
    for (i = 0; i < checkpoints; i++) {
        sb_hvm_state();
        OK(keel_stream_write_empty(sb_w, KEEL_XC_CHECKPOINT));
        emulator();
        OK(keel_stream_write_checkpoint_state(sb_w, (uint32_t)i % 4));
        OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_CHECKPOINT_END));
        sb_rec(KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST, d, sizeof(d));
        OK(keel_stream_write_empty(sb_w, KEEL_XC_VERIFY));
    }
    sb_hvm_state();
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    emulator();
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_END));
}

void
sb_libxl_pv(void)
{
    OK(keel_stream_write_libxl_header(sb_w));
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_LIBXC_CONTEXT));
    pv_image();
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_END));
}

/* The sb_sample streams, by name (also the fixtures' names). */
uint8_t *
sb_sample(const char *name, size_t *len_r)
{
    uint8_t *buf;

    sb_open();
    if (!strcmp(name, "libxc-pv")) {
        pv_image();
    } else if (!strcmp(name, "libxc-hvm") || !strcmp(name, "libxc-hvm-v2")) {
        sb_hvm_image_start(name[9] ? 2 : 3);
        sb_hvm_state();
        OK(keel_stream_write_empty(sb_w, KEEL_XC_CHECKPOINT));
        sb_hvm_state();
        OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    } else if (!strcmp(name, "libxl-hvm")) {
        libxl_hvm(0);
    } else if (!strcmp(name, "xl-pv")) {
        OK(keel_stream_write_xl_header(sb_w, sb_config_json));
        sb_libxl_pv();
    } else if (!strcmp(name, "xl-hvm-checkpoint")) {
        OK(keel_stream_write_xl_header(sb_w, sb_config_json));
        libxl_hvm(2);
    } else {
        ck_abort_msg("no sb_sample %s", name);
    }
    buf = sb_close(len_r);
    if (!strcmp(name, "libxc-hvm-v2"))
        buf[15] = 2; /* image header version, big-endian u32 at 12 */
    return buf;
}

const char *const sb_samples[] = {
    "libxc-pv",  "libxc-hvm", "libxc-hvm-v2",
    "libxl-hvm", "xl-pv",     "xl-hvm-checkpoint",
};
const size_t sb_n_samples = sizeof(sb_samples) / sizeof(sb_samples[0]);

static void
be(uint8_t **p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        (*p)[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    *p += n;
}

/* A big-endian libxl stream holding a big-endian HVM image, by hand. */
size_t
sb_big_endian_stream(uint8_t *buf)
{
    uint8_t *p = buf;

    be(&p, KEEL_STREAM_LIBXL_IDENT, 8), be(&p, 2, 4), be(&p, 1, 4);
    be(&p, KEEL_LIBXL_LIBXC_CONTEXT, 4), be(&p, 0, 4);
    be(&p, KEEL_STREAM_IHDR_MARKER, 8), be(&p, KEEL_STREAM_IHDR_ID, 4);
    be(&p, 3, 4), be(&p, 1, 2), be(&p, 0, 6);
    be(&p, 2, 4), be(&p, 12, 2), be(&p, 0, 2), be(&p, 4, 4), be(&p, 17, 4);
    be(&p, KEEL_XC_STATIC_DATA_END, 4), be(&p, 0, 4);
    be(&p, KEEL_XC_PAGE_DATA, 4), be(&p, 8 + 16 + PAGE, 4);
    be(&p, 2, 4), be(&p, 0, 4);
    be(&p, 0x42, 8), be(&p, 0xE000000000000043ull, 8);
    memset(p, 0x5A, PAGE), p += PAGE;
    be(&p, KEEL_XC_X86_TSC_INFO, 4), be(&p, 24, 4);
    be(&p, 1, 4), be(&p, 3000000, 4), be(&p, 0x0102030405060708ull, 8);
    be(&p, 9, 4), be(&p, 0, 4);
    be(&p, KEEL_XC_HVM_PARAMS, 4), be(&p, 24, 4);
    be(&p, 1, 4), be(&p, 0, 4), be(&p, 2, 8), be(&p, 0xFEFFF, 8);
    be(&p, KEEL_XC_HVM_CONTEXT, 4), be(&p, 5, 4);
    memcpy(p, "hello\0\0\0", 8), p += 8;
    be(&p, KEEL_XC_END, 4), be(&p, 0, 4);
    be(&p, KEEL_LIBXL_EMULATOR_CONTEXT, 4), be(&p, 9, 4);
    be(&p, 2, 4), be(&p, 7, 4), memcpy(p, "q\0\0\0\0\0\0\0", 8), p += 8;
    be(&p, KEEL_LIBXL_END, 4), be(&p, 0, 4);
    return (size_t)(p - buf);
}

/* --- malformed streams ---------------------------------------------------- */

#define REC(t, s)                                                              \
    .has_rec = true, .type = (t), .body = (s), .len = sizeof(s) - 1
#define RAW(s) .raw = (s), .rawlen = sizeof(s) - 1
#define AT(o, s) .at = (o), .pat = (s), .patlen = sizeof(s) - 1
#define Z8 "\0\0\0\0\0\0\0\0"
#define ENTRY0 "\1\0\0\0\0\0\0\0" Z8 /* count 1, pfn 0 NOTAB */
#define XC KEEL_STREAM_LIBXC
#define LX KEEL_STREAM_LIBXL

const struct bad_case sb_bad_cases[] = {
    /* image and domain headers */
    {"ihdr-marker", XC, B_HVM, AT(3, "\x7f"),
     .want = "offset 0: image header: wrong marker 0xffffff7fffffffff",
     .fixture = true},
    {"ihdr-id", XC, B_HVM, AT(11, "X"),
     .want = "offset 0: image header: wrong id 0x58454e58"},
    {"ihdr-version-4", XC, B_HVM, AT(15, "\4"),
     .want = "offset 0: image header: version 4 is not supported",
     .fixture = true},
    {"ihdr-version-1", XC, B_HVM, AT(15, "\1"),
     .want = "offset 0: image header: version 1 is not supported"},
    {"ihdr-options", XC, B_HVM, AT(17, "\2"),
     .want = "offset 0: image header: reserved option bits 0x2 are set"},
    {"ihdr-options-15", XC, B_HVM, AT(16, "\x80"),
     .want = "offset 0: image header: reserved option bits 0x8000 are set"},
    {"ihdr-reserved", XC, B_HVM, AT(21, "\1"),
     .want = "offset 0: image header: reserved bytes 18..23 are not zero"},
    {"dhdr-type-0", XC, B_HVM, AT(24, "\0"),
     .want =
         "offset 24: domain header: type 0 is not x86 PV (1) or x86 HVM (2)"},
    {"dhdr-type-3", XC, B_HVM, AT(24, "\3"),
     .want = "offset 24: domain header: type 3 is not", .fixture = true},
    {"dhdr-page-shift", XC, B_HVM, AT(28, "\x0d"),
     .want = "offset 24: domain header: page shift 13 is not 12"},
    {"dhdr-reserved", XC, B_HVM, AT(31, "\1"),
     .want = "offset 24: domain header: reserved bytes 6..7 are not zero"},
    /* framing and empty records */
    {"padding", XC, B_HVM, REC(KEEL_XC_HVM_CONTEXT, "abc"), AT(61, "\1"),
     .want = "offset 48: HVM_CONTEXT: padding byte 2 is not zero",
     .fixture = true},
    {"end-not-empty", XC, B_HVM, REC(KEEL_XC_END, Z8),
     .want = "offset 48: END: length 8, expected 0"},
    {"sde-not-empty", XC, B_HVM_BARE, REC(KEEL_XC_STATIC_DATA_END, "abcd"),
     .want = "offset 40: STATIC_DATA_END: length 4, expected 0"},
    {"checkpoint-not-empty", XC, B_HVM, REC(KEEL_XC_CHECKPOINT, "a"),
     .want = "offset 48: CHECKPOINT: length 1, expected 0"},
    {"verify-not-empty", XC, B_HVM, REC(KEEL_XC_VERIFY, Z8),
     .want = "offset 48: VERIFY: length 8, expected 0"},
    {"unknown-mandatory", XC, B_HVM, REC(0x13, ""),
     .want = "offset 48: image record type 0x00000013 is unknown and mandatory",
     .fixture = true},
    {"optional-too-long", XC, B_HVM, RAW("\1\0\0\x80\1\0\0\4"),
     .want = "offset 48: image record type 0x80000001: length 67108865 exceeds "
             "the limit of 67108864"},
    {"body-too-long", XC, B_HVM, RAW("\x09\0\0\0\1\0\0\4"),
     .want = "offset 48: HVM_CONTEXT: length 67108865 exceeds the limit of "
             "67108864"},
    {"toolstack", XC, B_HVM, REC(KEEL_XC_TOOLSTACK, "abcd"),
     .want = "offset 48: TOOLSTACK: deprecated record", .fixture = true},
    /* PAGE_DATA */
    {"page-count-0", XC, B_HVM, REC(KEEL_XC_PAGE_DATA, Z8),
     .want = "offset 48: PAGE_DATA: count 0 is not 1 to 1024"},
    {"page-count-1025", XC, B_HVM, REC(KEEL_XC_PAGE_DATA, "\1\4\0\0\0\0\0\0"),
     .want = "offset 48: PAGE_DATA: count 1025 is not 1 to 1024"},
    {"page-short", XC, B_HVM, REC(KEEL_XC_PAGE_DATA, "\1\0\0\0"),
     .want = "offset 48: PAGE_DATA: length 4 is shorter than the 8 it needs"},
    {"page-reserved", XC, B_HVM, REC(KEEL_XC_PAGE_DATA, "\1\0\0\0\1\0\0\0" Z8),
     .want = "offset 48: PAGE_DATA: reserved field is not zero (0x1)"},
    {"page-no-entries", XC, B_HVM,
     REC(KEEL_XC_PAGE_DATA, "\2\0\0\0\0\0\0\0" Z8),
     .want = "offset 48: PAGE_DATA: length 16 cannot hold 2 entries"},
    {"page-pfn-reserved", XC, B_HVM,
     REC(KEEL_XC_PAGE_DATA, "\1\0\0\0\0\0\0\0\5\0\0\0\0\0\x10\0"),
     .want = "offset 48: PAGE_DATA: entry 0 (pfn 0x5): reserved bits "
             "0x10000000000000 are set"},
    {"page-type-5", XC, B_HVM,
     REC(KEEL_XC_PAGE_DATA, "\1\0\0\0\0\0\0\0\5\0\0\0\0\0\0\x50"),
     .want =
         "offset 48: PAGE_DATA: entry 0 (pfn 0x5): page type 0x5 is reserved",
     .fixture = true},
    {"page-type-8", XC, B_HVM,
     REC(KEEL_XC_PAGE_DATA, "\1\0\0\0\0\0\0\0\5\0\0\0\0\0\0\x80"),
     .want =
         "offset 48: PAGE_DATA: entry 0 (pfn 0x5): page type 0x8 is reserved"},
    {"page-no-data", XC, B_HVM, REC(KEEL_XC_PAGE_DATA, ENTRY0),
     .want = "offset 48: PAGE_DATA: length 16, expected 4112 (1 entries, 1 "
             "with data)",
     .fixture = true},
    {"page-xtab-data", XC, B_HVM,
     REC(KEEL_XC_PAGE_DATA, "\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xf0" Z8),
     .want = "offset 48: PAGE_DATA: length 24, expected 16 (1 entries, 0 with "
             "data)"},
    {"page-too-long", XC, B_HVM, RAW("\1\0\0\0\x09\x20\x40\0"),
     .want =
         "offset 48: PAGE_DATA: length 4202505 exceeds the limit of 4202504"},
    {"page-before-sde", XC, B_HVM_BARE, .page = true,
     .want = "offset 40: PAGE_DATA before STATIC_DATA_END", .fixture = true},
    {"page-before-sb_p2m", XC, B_PV_HEAD, .page = true,
     .want = "offset 64: PAGE_DATA before X86_PV_P2M_FRAMES in a PV image"},
    /* PV records */
    {"pv-info-short", XC, B_PV_BARE, REC(KEEL_XC_X86_PV_INFO, "\x08\4\0\0"),
     .want = "offset 40: X86_PV_INFO: length 4, expected 8"},
    {"pv-info-width", XC, B_PV_BARE,
     REC(KEEL_XC_X86_PV_INFO, "\2\4\0\0\0\0\0\0"),
     .want = "offset 40: X86_PV_INFO: guest width 2 is not 4 or 8"},
    {"pv-info-levels", XC, B_PV_BARE,
     REC(KEEL_XC_X86_PV_INFO, "\x08\5\0\0\0\0\0\0"),
     .want = "offset 40: X86_PV_INFO: page-table levels 5 is not 3 or 4"},
    {"pv-info-reserved", XC, B_PV_BARE,
     REC(KEEL_XC_X86_PV_INFO, "\x08\4\0\0\1\0\0\0"),
     .want = "offset 40: X86_PV_INFO: reserved field is not zero (0x1)"},
    {"pv-info-twice", XC, B_PV, REC(KEEL_XC_X86_PV_INFO, "\x08\4\0\0\0\0\0\0"),
     .want = "offset 88: X86_PV_INFO: a second one"},
    {"p2m-before-pv-info", XC, B_PV_SDE, REC(KEEL_XC_X86_PV_P2M_FRAMES, Z8 Z8),
     .want = "offset 48: X86_PV_P2M_FRAMES before X86_PV_INFO"},
    {"p2m-before-sde", XC, B_PV_INFO, REC(KEEL_XC_X86_PV_P2M_FRAMES, Z8 Z8),
     .want = "offset 56: X86_PV_P2M_FRAMES before STATIC_DATA_END"},
    {"p2m-backwards", XC, B_PV_HEAD,
     REC(KEEL_XC_X86_PV_P2M_FRAMES, "\2\0\0\0\1\0\0\0" Z8),
     .want = "offset 64: X86_PV_P2M_FRAMES: start pfn 0x2 is past end pfn 0x1"},
    {"p2m-length", XC, B_PV_HEAD, REC(KEEL_XC_X86_PV_P2M_FRAMES, Z8 "abcd"),
     .want = "offset 64: X86_PV_P2M_FRAMES: length 12 is not a multiple of 8"},
    {"p2m-frames", XC, B_PV_HEAD,
     REC(KEEL_XC_X86_PV_P2M_FRAMES, "\0\0\0\0\xff\3\0\0" Z8),
     .want = "offset 64: X86_PV_P2M_FRAMES: 1 frames for pfns 0x0..0x3ff, "
             "expected 2",
     .fixture = true},
    {"vcpu-short", XC, B_PV, REC(KEEL_XC_X86_PV_VCPU_BASIC, "abcd"),
     .want = "offset 88: X86_PV_VCPU_BASIC: length 4 is shorter than the 8 it "
             "needs"},
    {"vcpu-reserved", XC, B_PV,
     REC(KEEL_XC_X86_PV_VCPU_MSRS, "\0\0\0\0\1\0\0\0"),
     .want = "offset 88: X86_PV_VCPU_MSRS: reserved field is not zero (0x1)"},
    {"shared-info-size", XC, B_PV, REC(KEEL_XC_SHARED_INFO, Z8),
     .want = "offset 88: SHARED_INFO: length 8, expected 4096"},
    {"hvm-context-in-pv", XC, B_PV, REC(KEEL_XC_HVM_CONTEXT, "a"),
     .want = "offset 88: HVM_CONTEXT: an HVM record in a PV image",
     .fixture = true},
    {"hvm-params-in-pv", XC, B_PV, REC(KEEL_XC_HVM_PARAMS, Z8),
     .want = "offset 88: HVM_PARAMS: an HVM record in a PV image"},
    /* HVM records */
    {"pv-info-in-hvm", XC, B_HVM,
     REC(KEEL_XC_X86_PV_INFO, "\x08\4\0\0\0\0\0\0"),
     .want = "offset 48: X86_PV_INFO: a PV record in an HVM image",
     .fixture = true},
    {"p2m-in-hvm", XC, B_HVM, REC(KEEL_XC_X86_PV_P2M_FRAMES, Z8 Z8),
     .want = "offset 48: X86_PV_P2M_FRAMES: a PV record in an HVM image"},
    {"vcpu-in-hvm", XC, B_HVM, REC(KEEL_XC_X86_PV_VCPU_XSAVE, Z8),
     .want = "offset 48: X86_PV_VCPU_XSAVE: a PV record in an HVM image"},
    {"shared-info-in-hvm", XC, B_HVM, REC(KEEL_XC_SHARED_INFO, Z8),
     .want = "offset 48: SHARED_INFO: a PV record in an HVM image"},
    {"tsc-size", XC, B_HVM, REC(KEEL_XC_X86_TSC_INFO, Z8 Z8),
     .want = "offset 48: X86_TSC_INFO: length 16, expected 24"},
    {"tsc-reserved", XC, B_HVM,
     REC(KEEL_XC_X86_TSC_INFO, Z8 Z8 "\0\0\0\0\1\0\0\0"),
     .want = "offset 48: X86_TSC_INFO: reserved field is not zero (0x1)"},
    {"hvm-context-empty", XC, B_HVM, REC(KEEL_XC_HVM_CONTEXT, ""),
     .want = "offset 48: HVM_CONTEXT: length 0 is shorter than the 1 it needs"},
    {"hvm-params-count", XC, B_HVM,
     REC(KEEL_XC_HVM_PARAMS, "\2\0\0\0\0\0\0\0" Z8 Z8),
     .want = "offset 48: HVM_PARAMS: length 24, expected 40 for 2 entries",
     .fixture = true},
    {"hvm-params-short", XC, B_HVM, REC(KEEL_XC_HVM_PARAMS, "abcd"),
     .want = "offset 48: HVM_PARAMS: length 4 is shorter than the 8 it needs"},
    {"hvm-params-reserved", XC, B_HVM,
     REC(KEEL_XC_HVM_PARAMS, "\0\0\0\0\1\0\0\0"),
     .want = "offset 48: HVM_PARAMS: reserved field is not zero (0x1)"},
    {"cpuid-size", XC, B_HVM_BARE, REC(KEEL_XC_X86_CPUID_POLICY, Z8 Z8 Z8 "a"),
     .want = "offset 40: X86_CPUID_POLICY: length 25 is not a multiple of 24"},
    {"msr-size", XC, B_HVM_BARE, REC(KEEL_XC_X86_MSR_POLICY, Z8 Z8 "abcd"),
     .want = "offset 40: X86_MSR_POLICY: length 20 is not a multiple of 16"},
    {"dirty-size", XC, B_HVM, REC(KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST, Z8 "abcd"),
     .want = "offset 48: CHECKPOINT_DIRTY_PFN_LIST: length 12 is not a "
             "multiple of 8"},
    {"v2-sde", XC, B_HVM_V2, REC(KEEL_XC_STATIC_DATA_END, ""),
     .want = "offset 40: STATIC_DATA_END: not allowed in a version-2 image",
     .fixture = true},
    {"v2-cpuid", XC, B_HVM_V2, REC(KEEL_XC_X86_CPUID_POLICY, ""),
     .want = "offset 40: X86_CPUID_POLICY: not allowed in a version-2 image"},
    {"v2-msr", XC, B_HVM_V2, REC(KEEL_XC_X86_MSR_POLICY, ""),
     .want = "offset 40: X86_MSR_POLICY: not allowed in a version-2 image"},
    {"sde-twice", XC, B_HVM, REC(KEEL_XC_STATIC_DATA_END, ""),
     .want = "offset 48: a second STATIC_DATA_END"},
    /* libxl */
    {"libxl-ident", LX, B_LIBXL, AT(0, "l"),
     .want = "offset 0: libxl header: wrong ident 0x6c6962786c466d74"},
    {"libxl-version", LX, B_LIBXL, AT(11, "\3"),
     .want = "offset 0: libxl header: version 3 is not supported (only 2 is)",
     .fixture = true},
    {"libxl-options", LX, B_LIBXL, AT(15, "\4"),
     .want = "offset 0: libxl header: reserved option bits 0x4 are set"},
    {"libxl-options-31", LX, B_LIBXL, AT(12, "\x80"),
     .want = "offset 0: libxl header: reserved option bits 0x80000000 are set"},
    {"libxl-no-image", LX, B_LIBXL, REC(KEEL_LIBXL_END, ""),
     .want = "offset 16: END before any LIBXC_CONTEXT: the stream carries no "
             "domain image"},
    {"libxl-end-not-empty", LX, B_LIBXL_HVM, REC(KEEL_LIBXL_END, Z8),
     .want = "offset 80: END: length 8, expected 0"},
    {"libxc-context-not-empty", LX, B_LIBXL, REC(KEEL_LIBXL_LIBXC_CONTEXT, Z8),
     .want = "offset 16: LIBXC_CONTEXT: length 8, expected 0"},
    {"libxc-context-twice", LX, B_LIBXL_HVM, REC(KEEL_LIBXL_LIBXC_CONTEXT, ""),
     .want = "offset 80: a second LIBXC_CONTEXT", .fixture = true},
    {"checkpoint-end-outside", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_CHECKPOINT_END, ""),
     .want = "offset 80: CHECKPOINT_END outside a checkpoint"},
    {"checkpoint-end-not-empty", LX, B_LIBXL_CKPT,
     REC(KEEL_LIBXL_CHECKPOINT_END, Z8),
     .want = "offset 80: CHECKPOINT_END: length 8, expected 0"},
    {"end-inside-checkpoint", LX, B_LIBXL_CKPT, REC(KEEL_LIBXL_END, ""),
     .want = "offset 80: END inside a checkpoint (before its CHECKPOINT_END)",
     .fixture = true},
    {"emulator-short", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_EMULATOR_CONTEXT, "abcd"),
     .want = "offset 80: EMULATOR_CONTEXT: length 4 is shorter than the 8 it "
             "needs"},
    {"emulator-id", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_EMULATOR_CONTEXT, "\3\0\0\0\0\0\0\0"),
     .want = "offset 80: EMULATOR_CONTEXT: unknown emulator id 3"},
    {"xenstore-nul", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_EMULATOR_XENSTORE_DATA, "\2\0\0\0\0\0\0\0a\0b"),
     .want = "offset 80: EMULATOR_XENSTORE_DATA: the data does not end in a "
             "NUL byte",
     .fixture = true},
    {"xenstore-odd", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_EMULATOR_XENSTORE_DATA, "\2\0\0\0\0\0\0\0a\0b\0c\0"),
     .want = "offset 80: EMULATOR_XENSTORE_DATA: 3 strings, not key and value "
             "pairs"},
    {"emulator-in-pv", LX, B_LIBXL_PV, REC(KEEL_LIBXL_EMULATOR_CONTEXT, Z8),
     .want =
         "offset 72: EMULATOR_CONTEXT: emulator state in a PV domain's stream"},
    {"checkpoint-state-empty", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_CHECKPOINT_STATE, ""),
     .want = "offset 80: CHECKPOINT_STATE: length 0 is shorter than the 4 it "
             "needs"},
    {"checkpoint-state-long", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_CHECKPOINT_STATE, Z8 "abcd"),
     .want = "offset 80: CHECKPOINT_STATE: length 12 exceeds the limit of 8"},
    {"checkpoint-state-id", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_CHECKPOINT_STATE, "\4\0\0\0"),
     .want = "offset 80: CHECKPOINT_STATE: control id 4 is not 0 to 3"},
    {"checkpoint-state-padding", LX, B_LIBXL_HVM,
     REC(KEEL_LIBXL_CHECKPOINT_STATE, "\0\0\0\0\1\0\0\0"),
     .want = "offset 80: CHECKPOINT_STATE: padding is not zero"},
    {"libxl-unknown-mandatory", LX, B_LIBXL_HVM, REC(6, ""),
     .want =
         "offset 80: libxl record type 0x00000006 is unknown and mandatory"},
    /* xl */
    {"xl-magic", KEEL_STREAM_XL, B_XL, AT(0, "x"),
     .want = "offset 0: xl header: wrong magic (not an xl save file)"},
    {"xl-magic-tail", KEEL_STREAM_AUTO, B_XL, AT(31, "\n"),
     .want = "offset 0: xl header: wrong magic (not an xl save file)",
     .fixture = true},
    {"xl-byte-order", KEEL_STREAM_AUTO, B_XL, AT(32, "\1\2\3\4"),
     .want = "offset 0: xl header: byte-order marker 0x04030201: the file was "
             "written on a host of the other byte order",
     .fixture = true},
    {"xl-marker", KEEL_STREAM_AUTO, B_XL, AT(32, "\0"),
     .want = "offset 0: xl header: bad byte-order marker 0x01020300"},
    {"xl-flags", KEEL_STREAM_AUTO, B_XL, AT(36, "\7"),
     .want = "offset 0: xl header: unknown mandatory flags 0x4",
     .fixture = true},
    {"xl-legacy", KEEL_STREAM_AUTO, B_XL, AT(36, "\1"),
     .want = "offset 0: xl header: a legacy (version 1) save stream is not "
             "supported",
     .fixture = true},
    {"xl-optdata-2", KEEL_STREAM_AUTO, B_XL, AT(44, "\2"),
     .want = "offset 0: xl header: 2 bytes of optional data cannot hold the "
             "config length"},
    {"xl-optdata-huge", KEEL_STREAM_AUTO, B_XL, AT(47, "\x10"),
     .want = "offset 0: xl header: 268435463 bytes of optional data exceed the "
             "limit of 67108864"},
    {"xl-config-overrun", KEEL_STREAM_AUTO, B_XL, AT(48, "\4"),
     .want = "offset 0: xl header: a config of 4 bytes overruns the 7 bytes of "
             "optional data",
     .fixture = true},
    {"xl-config-no-nul", KEEL_STREAM_AUTO, B_XL, AT(54, "!"),
     .want = "offset 0: xl header: the JSON config does not end in a NUL byte"},
    {"xl-config-nul", KEEL_STREAM_AUTO, B_XL, AT(52, "\0"),
     .want = "offset 0: xl header: the config holds a NUL byte at 0 of 3"},
    /* formats */
    {"not-a-stream", KEEL_STREAM_AUTO, B_NONE, RAW("garbage!"),
     .want = "offset 0: not a migration-v2 stream", .fixture = true},
    {"libxl-as-libxc", XC, B_LIBXL_HVM,
     .want = "offset 0: image header: wrong marker 0x4c6962786c466d74"},
    {"xl-as-libxl", LX, B_XL,
     .want = "offset 0: libxl header: wrong ident 0x58656e2073617665"},
};
const size_t sb_n_bad_cases = sizeof(sb_bad_cases) / sizeof(sb_bad_cases[0]);

void
sb_build_base(enum base b)
{
    static const uint64_t frame = 0x1000;

    if (b >= B_HVM_BARE && b <= B_HVM_V2)
        OK(keel_stream_write_image_header(sb_w, KEEL_STREAM_DHDR_X86_HVM, 4,
                                          17));
    if (b == B_HVM)
        OK(keel_stream_write_empty(sb_w, KEEL_XC_STATIC_DATA_END));
    if (b >= B_PV_BARE && b <= B_PV)
        OK(keel_stream_write_image_header(sb_w, KEEL_STREAM_DHDR_X86_PV, 4,
                                          17));
    if (b >= B_PV_INFO && b <= B_PV)
        OK(keel_stream_write_pv_info(sb_w, 8, 4));
    if (b == B_PV_HEAD || b == B_PV)
        OK(keel_stream_write_empty(sb_w, KEEL_XC_STATIC_DATA_END));
    if (b == B_PV)
        OK(keel_stream_write_p2m_frames(sb_w, 0, 0, &frame, 1));
    if (b == B_PV_SDE) {
        sb_build_base(B_PV_BARE);
        OK(keel_stream_write_empty(sb_w, KEEL_XC_STATIC_DATA_END));
    }
    if (b >= B_LIBXL && b <= B_LIBXL_PV)
        OK(keel_stream_write_libxl_header(sb_w));
    if (b >= B_LIBXL_HVM && b <= B_LIBXL_PV)
        OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_LIBXC_CONTEXT));
    if (b == B_LIBXL_HVM || b == B_LIBXL_CKPT) {
        sb_build_base(B_HVM);
        OK(keel_stream_write_empty(
            sb_w, b == B_LIBXL_HVM ? KEEL_XC_END : KEEL_XC_CHECKPOINT));
    }
    if (b == B_LIBXL_PV) {
        sb_build_base(B_PV_BARE);
        OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    }
    if (b == B_XL) {
        OK(keel_stream_write_xl_header(sb_w, "{}"));
        sb_build_base(B_LIBXL_HVM);
        OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_END));
    }
}

uint8_t *
sb_build_bad(const struct bad_case *c, size_t *len_r)
{
    static const uint64_t pfn = 0;
    static const uint32_t type = 0;
    uint8_t *buf;

    sb_fill_pages();
    sb_open();
    sb_build_base(c->base);
    if (c->has_rec)
        sb_rec(c->type, c->body, c->len);
    if (c->page)
        OK(keel_stream_write_page_data(sb_w, &pfn, &type, 1, sb_pages));
    if (c->raw)
        sb_bytes(c->raw, c->rawlen);
    buf = sb_close(len_r);
    if (c->base == B_HVM_V2)
        buf[15] = 2;
    ck_assert_uint_le(c->at + c->patlen, *len_r);
    if (c->pat)
        memcpy(buf + c->at, c->pat, c->patlen);
    return buf;
}
