/* test-stream.c: the migration-v2 writer and reader (lib/stream/)
 *
 * Streams are built with the writer on a memfd and read back from memory
 * or from a descriptor. The header bytes are compared with arrays written
 * out by hand from Xen's specs, not with what the writer happens to do.
 * Every check of the reader has a malformed stream in sb_bad_cases[] with
 * the exact "offset N: ..." its message starts with; every prefix of a
 * valid stream must end in "stream ends inside". The fixtures under
 * tests/data/stream/ are these streams: KEEL_TEST_REGENERATE=1 rewrites
 * them, otherwise they must match byte for byte.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel/stream.h>

#include "stream-build.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- reading ------------------------------------------------------------ */

/* Reads buf to its end; fails the test on any error. Returns the item
 * count. */
static unsigned int
read_ok(const uint8_t *buf, size_t len, enum keel_stream_format fmt,
        void (*check)(const struct keel_stream_item *it))
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    unsigned int n = 0;
    int rc;

    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, fmt, &r));
    while ((rc = keel_stream_read(r, &it)) == 1) {
        n++;
        if (check)
            check(&it);
    }
    ck_assert_msg(rc == 0, "item %u: %s: %s", n, keel_strerror(rc),
                  keel_ctx_last_error(th_ctx()));
    ck_assert_uint_eq(keel_stream_reader_offset(r), len);
    ck_assert_int_eq(keel_stream_read(r, &it), 0);
    keel_stream_reader_free(r);
    return n;
}

/* Reads buf until it fails; the message must start with want. */
static void
read_bad(const uint8_t *buf, size_t len, enum keel_stream_format fmt,
         const char *name, const char *want)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    const char *msg;
    int rc;

    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, fmt, &r));
    while ((rc = keel_stream_read(r, &it)) == 1)
        ;
    msg = keel_ctx_last_error(th_ctx());
    ck_assert_msg(rc == KEEL_ECORRUPT, "%s: expected a fault, got %d (%s)",
                  name, rc, msg);
    ck_assert_msg(!strncmp(msg, want, strlen(want)),
                  "%s: message '%s' does not start with '%s'", name, msg, want);
    /* The reader repeats its fault. */
    ck_assert_int_eq(keel_stream_read(r, &it), KEEL_ECORRUPT);
    ck_assert_str_eq(keel_ctx_last_error(th_ctx()), msg);
    keel_stream_reader_free(r);
}

/* --- names and header bytes --------------------------------------------- */

START_TEST(names_and_page_types)
{
    enum keel_stream_format f;
    uint32_t t;

    ck_assert_str_eq(keel_stream_xc_rec_name(KEEL_XC_PAGE_DATA), "PAGE_DATA");
    ck_assert_str_eq(keel_stream_xc_rec_name(0x12), "X86_MSR_POLICY");
    ck_assert_ptr_null(keel_stream_xc_rec_name(0x13));
    ck_assert_ptr_null(keel_stream_xc_rec_name(0x80000000u));
    ck_assert_str_eq(keel_stream_libxl_rec_name(1), "LIBXC_CONTEXT");
    ck_assert_ptr_null(keel_stream_libxl_rec_name(6));
    for (t = 0; t < 0x20; t++) {
        bool valid = t <= 4 || (t >= 9 && t <= 0xF);
        bool data = t <= 4 || (t >= 9 && t <= 0xC);

        ck_assert_int_eq(keel_stream_page_type_valid(t), valid);
        if (t <= 0xF)
            ck_assert_int_eq(keel_stream_page_type_has_data(t), data);
        else
            ck_assert(!keel_stream_page_type_valid(t));
    }
    OK(keel_stream_format_parse("libxc", &f));
    ck_assert_int_eq(f, KEEL_STREAM_LIBXC);
    OK(keel_stream_format_parse("auto", &f));
    ck_assert_int_eq(f, KEEL_STREAM_AUTO);
    ck_assert_int_eq(keel_stream_format_parse("xc", &f), KEEL_EINVAL);
    ck_assert_str_eq(keel_stream_format_name(KEEL_STREAM_XL), "xl");
    ck_assert_str_eq(keel_stream_format_name(KEEL_STREAM_LIBXL), "libxl");
}
END_TEST

/* From the specs: the xl header (host order; these tests run on
 * little-endian x86), then the libxl, image and domain headers. */
static const uint8_t want_xl[] = {
    'X',  'e',  'n',  ' ',  's',  'a',  'v',  'e',  'd', ' ',  'd',
    'o',  'm',  'a',  'i',  'n',  ',',  ' ',  'x',  'l', ' ',  'f',
    'o',  'r',  'm',  'a',  't',  '\n', ' ',  '\0', ' ', '\r', /* magic */
    0x04, 0x03, 0x02, 0x01,                         /* byte-order marker */
    0x03, 0x00, 0x00, 0x00,                         /* JSON | STREAMV2 */
    0x00, 0x00, 0x00, 0x00,                         /* optional flags */
    0x07, 0x00, 0x00, 0x00,                         /* optional data: 4 + 3 */
    0x03, 0x00, 0x00, 0x00, '{',  '}',  '\0',       /* config with its NUL */
    0x4c, 0x69, 0x62, 0x78, 0x6c, 0x46, 0x6d, 0x74, /* "LibxlFmt" */
    0x00, 0x00, 0x00, 0x02,                         /* version 2 (BE) */
    0x00, 0x00, 0x00, 0x00,                         /* options: LE */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* marker */
    0x58, 0x45, 0x4e, 0x46,                         /* "XENF" */
    0x00, 0x00, 0x00, 0x03,                         /* version 3 (BE) */
    0x00, 0x00,                                     /* options */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* reserved */
    0x02, 0x00, 0x00, 0x00,                         /* x86 HVM (LE) */
    0x0c, 0x00, 0x00, 0x00,                         /* shift 12, reserved */
    0x04, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, /* Xen 4.17 */
    0x09, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, /* HVM_CONTEXT, 3 */
    'a',  'b',  'c',  0x00, 0x00, 0x00, 0x00, 0x00, /* body, 5 of padding */
    0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* VERIFY, empty */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* image END */
    0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, /* CHECKPOINT_STATE, 4 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SVM_READY, padding */
};

START_TEST(header_bytes)
{
    uint8_t *buf;
    size_t len;

    sb_open();
    OK(keel_stream_write_xl_header(sb_w, "{}"));
    ck_assert_uint_eq(keel_stream_writer_offset(sb_w), 55);
    OK(keel_stream_write_libxl_header(sb_w));
    OK(keel_stream_write_image_header(sb_w, KEEL_STREAM_DHDR_X86_HVM, 4, 17));
    sb_rec(KEEL_XC_HVM_CONTEXT, "abc", 3);
    OK(keel_stream_write_empty(sb_w, KEEL_XC_VERIFY));
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    OK(keel_stream_write_checkpoint_state(sb_w, 2));
    ck_assert_uint_eq(keel_stream_writer_offset(sb_w), sizeof(want_xl));
    buf = sb_close(&len);
    ck_assert_uint_eq(len, sizeof(want_xl));
    ck_assert_mem_eq(buf, want_xl, len);
    free(buf);
}
END_TEST

/* PAGE_DATA: entries with the type in bits 63..60, pages of the types
 * that carry data only, taken from the caller's frames in order. */
START_TEST(page_data_bytes)
{
    static const uint64_t pfns[3] = {5, 7, 0x000FFFFFFFFFFFFFull};
    static const uint32_t types[3] = {0x0, 0xF, 0xC};
    static const uint8_t want_head[] = {
        0x01, 0x00, 0x00, 0x00, 0x20, 0x20, 0x00, 0x00, /* 32 + 2 pages */
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* count 3 */
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* NOTAB pfn 5 */
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, /* XTAB pfn 7 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xc0, /* L4TAB|LPIN */
    };
    uint8_t *buf;
    size_t len;

    sb_fill_pages();
    sb_open();
    OK(keel_stream_write_page_data(sb_w, pfns, types, 3, sb_pages));
    buf = sb_close(&len);
    ck_assert_uint_eq(len, sizeof(want_head) + 2 * PAGE);
    ck_assert_mem_eq(buf, want_head, sizeof(want_head));
    ck_assert_mem_eq(buf + sizeof(want_head), sb_pages, PAGE);
    ck_assert_mem_eq(buf + sizeof(want_head) + PAGE, sb_pages + 2 * PAGE, PAGE);
    free(buf);
}
END_TEST

START_TEST(writer_refusals)
{
    static const uint64_t pfn = 1;
    uint32_t type = 5;
    uint8_t *buf;
    size_t len;

    sb_open();
    th_assert_err(keel_stream_write_page_data(sb_w, &pfn, &type, 1, sb_pages),
                  KEEL_EINVAL, "page type 0x5 cannot be sent");
    th_assert_err(keel_stream_write_page_data(sb_w, &pfn, &type, 0, sb_pages),
                  KEEL_EINVAL, "0 frames");
    th_assert_err(keel_stream_write_pv_info(sb_w, 2, 4), KEEL_EINVAL,
                  "width 2");
    th_assert_err(keel_stream_write_image_header(sb_w, 3, 4, 17), KEEL_EINVAL,
                  "domain type 3");
    th_assert_err(keel_stream_write_vcpu(sb_w, KEEL_XC_END, 0, NULL, 0),
                  KEEL_EINVAL, "not a per-vCPU record");
    th_assert_err(keel_stream_write_p2m_frames(sb_w, 2, 1, NULL, 0),
                  KEEL_EINVAL, "start pfn 0x2 is past end 0x1");
    th_assert_err(keel_stream_write_checkpoint_state(sb_w, 4), KEEL_EINVAL,
                  "control id 4");
    ck_assert_uint_eq(keel_stream_writer_offset(sb_w), 0);
    buf = sb_close(&len);
    ck_assert_uint_eq(len, 0);
    free(buf);
}
END_TEST

/* A write error poisons the writer. */
START_TEST(writer_io_error)
{
    struct keel_stream_writer *w;
    int p[2];

    ck_assert_int_eq(pipe(p), 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    OK(keel_stream_writer_new(th_ctx(), p[1], &w));
    th_assert_err(keel_stream_write_libxl_header(w), KEEL_EIO,
                  "offset 0: writing the stream");
    th_assert_err(keel_stream_write_empty(w, 0), KEEL_EIO,
                  "an earlier write on this stream failed");
    keel_stream_writer_free(w);
    close(p[1]);
}
END_TEST

/* --- round trips -------------------------------------------------------- */

static void
check_pages(const struct keel_stream_item *it)
{
    bool pv = it->u.pages.pfns[0] == 0;
    const uint64_t *pfns = pv ? sb_pv_pfns : sb_hvm_pfns;
    const uint32_t *types = pv ? sb_pv_types : sb_hvm_types;
    uint32_t i, k = 0;

    ck_assert_uint_eq(it->u.pages.count, pv ? 4 : 3);
    for (i = 0; i < it->u.pages.count; i++) {
        ck_assert_uint_eq(it->u.pages.pfns[i], pfns[i]);
        ck_assert_uint_eq(it->u.pages.types[i], types[i]);
        if (!keel_stream_page_type_has_data(types[i]))
            continue;
        ck_assert_mem_eq(it->u.pages.data + k++ * PAGE, sb_pages + i * PAGE,
                         PAGE);
    }
}

static void
check_image_record(const struct keel_stream_item *it)
{
    static const size_t vcpu_len[] = {40, 0, 24, 16};
    static const uint64_t params[4] = {1, 0x10, 2, 0xFEFFF};

    switch (it->type) {
    case KEEL_XC_PAGE_DATA:
        check_pages(it);
        break;
    case KEEL_XC_X86_PV_INFO:
        ck_assert_uint_eq(it->u.pv_info.guest_width, 8);
        ck_assert_uint_eq(it->u.pv_info.pt_levels, 4);
        break;
    case KEEL_XC_X86_PV_P2M_FRAMES:
        ck_assert_uint_eq(it->u.p2m.start, 0);
        ck_assert_uint_eq(it->u.p2m.end, 1023);
        ck_assert_uint_eq(it->u.p2m.n, 2);
        ck_assert_mem_eq(it->u.p2m.frames, sb_p2m, sizeof(sb_p2m));
        break;
    case KEEL_XC_X86_PV_VCPU_BASIC:
    case KEEL_XC_X86_PV_VCPU_EXTENDED:
    case KEEL_XC_X86_PV_VCPU_XSAVE:
        ck_assert_uint_lt(it->u.vcpu.vcpu, 2);
        ck_assert_uint_eq(it->u.vcpu.len, vcpu_len[it->type - 4]);
        break;
    case KEEL_XC_X86_PV_VCPU_MSRS:
        ck_assert_uint_eq(it->u.vcpu.len, 16);
        ck_assert_uint_eq(it->u.vcpu.blob[1], 2);
        break;
    case KEEL_XC_X86_TSC_INFO:
        ck_assert_uint_eq(it->u.tsc.mode, 1);
        ck_assert_uint_eq(it->u.tsc.khz, 2000000);
        ck_assert_uint_eq(it->u.tsc.nsec, 123456789);
        ck_assert_uint_eq(it->u.tsc.incarnation, 3);
        break;
    case KEEL_XC_HVM_PARAMS:
        ck_assert_uint_eq(it->u.hvm_params.count, 2);
        ck_assert_mem_eq(it->u.hvm_params.pairs, params, sizeof(params));
        break;
    case KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST:
        ck_assert_uint_eq(it->u.dirty.n, 2);
        ck_assert_uint_eq(it->u.dirty.pfns[1], 0x2345);
        break;
    case KEEL_XC_SHARED_INFO:
        ck_assert_mem_eq(it->body, sb_pages, PAGE);
        break;
    }
}

static void
check_item(const struct keel_stream_item *it)
{
    ck_assert(!it->skipped);
    switch (it->kind) {
    case KEEL_STREAM_ITEM_XL_HEADER:
        ck_assert_uint_eq(it->u.xl.mandatory_flags, 3);
        ck_assert_str_eq(it->u.xl.config, sb_config_json);
        ck_assert_uint_eq(it->u.xl.config_len, strlen(sb_config_json));
        break;
    case KEEL_STREAM_ITEM_LIBXL_HEADER:
        ck_assert_uint_eq(it->u.libxl.version, 2);
        ck_assert_uint_eq(it->u.libxl.options, 0);
        break;
    case KEEL_STREAM_ITEM_IMAGE_HEADER:
        ck_assert_uint_eq(it->u.image.page_shift, 12);
        ck_assert_uint_eq(it->u.image.xen_major, 4);
        ck_assert_uint_eq(it->u.image.xen_minor, 17);
        break;
    case KEEL_STREAM_ITEM_IMAGE_RECORD:
        check_image_record(it);
        break;
    case KEEL_STREAM_ITEM_LIBXL_RECORD:
        if (it->type == KEEL_LIBXL_EMULATOR_XENSTORE_DATA) {
            ck_assert_uint_eq(it->u.emu.emulator_id, 2);
            ck_assert_uint_eq(it->u.emu.len, sizeof(sb_xs_data));
            ck_assert_mem_eq(it->u.emu.data, sb_xs_data, sizeof(sb_xs_data));
        }
        if (it->type == KEEL_LIBXL_EMULATOR_CONTEXT)
            ck_assert_uint_eq(it->u.emu.len, 100);
        if (it->type == KEEL_LIBXL_CHECKPOINT_STATE)
            ck_assert_uint_lt(it->u.checkpoint_state.control_id, 2);
        break;
    }
}

START_TEST(round_trips)
{
    static const unsigned int counts[] = {18, 14, 11, 14, 22, 37};
    static const enum keel_stream_format fmts[] = {
        KEEL_STREAM_LIBXC, KEEL_STREAM_LIBXC, KEEL_STREAM_LIBXC,
        KEEL_STREAM_LIBXL, KEEL_STREAM_XL,    KEEL_STREAM_XL,
    };
    unsigned int i;
    uint8_t *buf;
    size_t len;

    for (i = 0; i < sb_n_samples; i++) {
        buf = sb_sample(sb_samples[i], &len);
        ck_assert_uint_eq(read_ok(buf, len, fmts[i], check_item), counts[i]);
        ck_assert_uint_eq(read_ok(buf, len, KEEL_STREAM_AUTO, NULL), counts[i]);
        free(buf);
    }
}
END_TEST

/* The layers of a checkpointed stream, item by item. */
START_TEST(checkpointed_layers)
{
    enum {
        X = KEEL_STREAM_ITEM_XL_HEADER,
        L = KEEL_STREAM_ITEM_LIBXL_HEADER,
        LR = KEEL_STREAM_ITEM_LIBXL_RECORD,
        I = KEEL_STREAM_ITEM_IMAGE_HEADER,
        IR = KEEL_STREAM_ITEM_IMAGE_RECORD
    };
    static const struct {
        int kind;
        uint32_t type;
    } want[] = {
        {X, 0},     {L, 0},  {LR, 1},   {I, 0},    {IR, 0x11}, {IR, 0x12},
        {IR, 0x10}, {IR, 1}, {IR, 8},   {IR, 9},   {IR, 0xA},  {IR, 0xE},
        {LR, 2},    {LR, 3}, {LR, 5},   {LR, 4},   {IR, 0xF},  {IR, 0xD},
        {IR, 1},    {IR, 8}, {IR, 9},   {IR, 0xA}, {IR, 0xE},  {LR, 2},
        {LR, 3},    {LR, 5}, {LR, 4},   {IR, 0xF}, {IR, 0xD},  {IR, 1},
        {IR, 8},    {IR, 9}, {IR, 0xA}, {IR, 0},   {LR, 2},    {LR, 3},
        {LR, 0},
    };
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    uint64_t last = 0;
    unsigned int i;
    uint8_t *buf;
    size_t len;

    buf = sb_sample("xl-hvm-checkpoint", &len);
    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, KEEL_STREAM_AUTO, &r));
    ck_assert_int_eq(keel_stream_reader_format(r), KEEL_STREAM_AUTO);
    for (i = 0; i < ARRAY_SIZE(want); i++) {
        ck_assert_int_eq(keel_stream_read(r, &it), 1);
        ck_assert_msg((int)it.kind == want[i].kind && it.type == want[i].type,
                      "item %u: kind %d type 0x%x", i, it.kind, it.type);
        ck_assert(i == 0 || it.offset > last);
        last = it.offset;
    }
    ck_assert_int_eq(keel_stream_reader_format(r), KEEL_STREAM_XL);
    ck_assert_int_eq(keel_stream_read(r, &it), 0);
    ck_assert_int_eq(keel_stream_read(r, &it), 0);
    ck_assert_uint_eq(keel_stream_reader_offset(r), len);
    keel_stream_reader_free(r);
    free(buf);
}
END_TEST

/* An xl header without a config, as xl writes one (length word 0). */
START_TEST(xl_without_config)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    uint8_t *buf;
    size_t len;

    sb_open();
    OK(keel_stream_write_xl_header(sb_w, NULL));
    sb_libxl_pv();
    buf = sb_close(&len);
    ck_assert_uint_eq(buf[36], KEEL_STREAM_XL_FLAG_STREAMV2);
    ck_assert_uint_eq(buf[44], 4);
    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, KEEL_STREAM_XL, &r));
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    ck_assert_ptr_null(it.u.xl.config);
    ck_assert_uint_eq(it.u.xl.config_len, 0);
    keel_stream_reader_free(r);
    ck_assert_uint_eq(read_ok(buf, len, KEEL_STREAM_AUTO, NULL), 22);
    free(buf);
}
END_TEST

static void
check_big_endian(const struct keel_stream_item *it)
{
    if (it->kind == KEEL_STREAM_ITEM_LIBXL_HEADER)
        ck_assert_uint_eq(it->u.libxl.options, 1);
    if (it->kind == KEEL_STREAM_ITEM_IMAGE_HEADER) {
        ck_assert_uint_eq(it->u.image.options, 1);
        ck_assert_uint_eq(it->u.image.dom_type, 2);
        ck_assert_uint_eq(it->u.image.xen_minor, 17);
    }
    if (it->kind == KEEL_STREAM_ITEM_LIBXL_RECORD &&
        it->type == KEEL_LIBXL_EMULATOR_CONTEXT) {
        ck_assert_uint_eq(it->u.emu.emulator_id, 2);
        ck_assert_uint_eq(it->u.emu.index, 7);
        ck_assert_uint_eq(it->u.emu.len, 1);
    }
    if (it->kind != KEEL_STREAM_ITEM_IMAGE_RECORD)
        return;
    if (it->type == KEEL_XC_PAGE_DATA) {
        ck_assert_uint_eq(it->u.pages.count, 2);
        ck_assert_uint_eq(it->u.pages.pfns[1], 0x43);
        ck_assert_uint_eq(it->u.pages.types[1], 0xE);
        ck_assert_uint_eq(it->u.pages.data[PAGE - 1], 0x5A);
    }
    if (it->type == KEEL_XC_X86_TSC_INFO) {
        ck_assert_uint_eq(it->u.tsc.khz, 3000000);
        ck_assert_uint_eq(it->u.tsc.nsec, 0x0102030405060708ull);
        ck_assert_uint_eq(it->u.tsc.incarnation, 9);
    }
    if (it->type == KEEL_XC_HVM_PARAMS)
        ck_assert_uint_eq(it->u.hvm_params.pairs[1], 0xFEFFF);
}

/* The erratum: HVM_PARAMS with no entries and per-vCPU records with no
 * blob (Xen 4.6 to 4.8 sent them) are taken. */
START_TEST(empty_variable_records)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    uint8_t *buf;
    size_t len;
    int rc;

    sb_open();
    sb_hvm_image_start(3);
    OK(keel_stream_write_hvm_params(sb_w, NULL, 0));
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    buf = sb_close(&len);
    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, KEEL_STREAM_LIBXC, &r));
    while ((rc = keel_stream_read(r, &it)) == 1)
        if (it.type == KEEL_XC_HVM_PARAMS)
            ck_assert_uint_eq(it.u.hvm_params.count, 0);
    OK(rc);
    keel_stream_reader_free(r);
    free(buf);
    sb_open();
    sb_build_base(B_PV);
    OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_XSAVE, 0, NULL, 0));
    OK(keel_stream_write_vcpu(sb_w, KEEL_XC_X86_PV_VCPU_MSRS, 0, NULL, 0));
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    buf = sb_close(&len);
    ck_assert_uint_eq(read_ok(buf, len, KEEL_STREAM_LIBXC, NULL), 7);
    free(buf);
}
END_TEST

START_TEST(big_endian)
{
    static uint8_t buf[2 * PAGE];
    size_t len = sb_big_endian_stream(buf);

    ck_assert_uint_eq(read_ok(buf, len, KEEL_STREAM_AUTO, check_big_endian),
                      11);
}
END_TEST

/* Optional records of types not known here are returned skipped, in
 * both layers; their padding is still checked. */
START_TEST(unknown_optional_skipped)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    unsigned int skipped = 0;
    char line[128];
    uint8_t *buf;
    size_t len;
    int rc;

    sb_open();
    OK(keel_stream_write_libxl_header(sb_w));
    sb_rec(0x80000010u, "abc", 3);
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_LIBXC_CONTEXT));
    sb_hvm_image_start(3);
    sb_rec(0x80000123u, "0123456789", 10);
    sb_hvm_state();
    OK(keel_stream_write_empty(sb_w, KEEL_XC_END));
    OK(keel_stream_write_empty(sb_w, KEEL_LIBXL_END));
    buf = sb_close(&len);
    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, KEEL_STREAM_LIBXL, &r));
    while ((rc = keel_stream_read(r, &it)) == 1) {
        if (!it.skipped)
            continue;
        skipped++;
        keel_stream_item_describe(&it, line, sizeof(line));
        if (it.kind == KEEL_STREAM_ITEM_LIBXL_RECORD)
            ck_assert_str_eq(line,
                             "@16 LIBXL 0x80000010 length=3 optional, skipped");
        else
            ck_assert_uint_eq(it.length, 10);
    }
    OK(rc);
    ck_assert_uint_eq(skipped, 2);
    keel_stream_reader_free(r);
    buf[16 + 8 + 3] = 1; /* the libxl record's padding */
    read_bad(buf, len, KEEL_STREAM_LIBXL, "padding",
             "offset 16: record: padding byte 0 is not zero");
    free(buf);
}
END_TEST

START_TEST(describe)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    char line[160], small[8];
    uint8_t *buf;
    size_t len;

    buf = sb_sample("xl-pv", &len);
    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, KEEL_STREAM_AUTO, &r));
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    keel_stream_item_describe(&it, line, sizeof(line));
    ck_assert_str_eq(line, "@0 XL header mandatory=0x3 optional=0x0 "
                           "config=73 bytes (JSON)");
    keel_stream_item_describe(&it, small, sizeof(small));
    ck_assert_str_eq(small, "@0 XL h");
    keel_stream_item_describe(&it, small, 0);
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    keel_stream_item_describe(&it, line, sizeof(line));
    ck_assert_str_eq(line, "@126 LIBXL header version=2 little-endian");
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    keel_stream_item_describe(&it, line, sizeof(line));
    ck_assert_str_eq(line, "@150 IMAGE header version=3 little-endian x86-pv "
                           "page_shift=12 from Xen 4.17");
    while (keel_stream_read(r, &it) == 1 && it.type != KEEL_XC_PAGE_DATA)
        ;
    keel_stream_item_describe(&it, line, sizeof(line));
    ck_assert_str_eq(line, "@326 IMAGE PAGE_DATA length=12328 count=4 "
                           "first_pfn=0x0");
    keel_stream_reader_free(r);
    free(buf);
}
END_TEST

/* --- descriptors --------------------------------------------------------- */

/* The child's side of pipe_reader: an xl stream with a full batch of
 * pages (4 MiB, far more than a pipe holds), then bytes that are not the
 * stream's. */
static void
pipe_writer(int fd)
{
    uint64_t pfns[KEEL_STREAM_PAGE_BATCH];
    uint32_t types[KEEL_STREAM_PAGE_BATCH] = {0};
    uint8_t *big = malloc(KEEL_STREAM_PAGE_BATCH * PAGE);
    struct keel_stream_writer *w;
    size_t i;

    if (!big)
        _exit(1);
    for (i = 0; i < KEEL_STREAM_PAGE_BATCH; i++)
        pfns[i] = i;
    for (i = 0; i < KEEL_STREAM_PAGE_BATCH * PAGE; i++)
        big[i] = (uint8_t)(i / PAGE + i);
    if (keel_stream_writer_new(th_ctx(), fd, &w) ||
        keel_stream_write_xl_header(w, sb_config_json) ||
        keel_stream_write_libxl_header(w) ||
        keel_stream_write_empty(w, KEEL_LIBXL_LIBXC_CONTEXT) ||
        keel_stream_write_image_header(w, KEEL_STREAM_DHDR_X86_HVM, 4, 17) ||
        keel_stream_write_empty(w, KEEL_XC_STATIC_DATA_END) ||
        keel_stream_write_page_data(w, pfns, types, KEEL_STREAM_PAGE_BATCH,
                                    big) ||
        keel_stream_write_empty(w, KEEL_XC_END) ||
        keel_stream_write_empty(w, KEEL_LIBXL_END) || write(fd, "NEXT", 4) != 4)
        _exit(1);
    _exit(0);
}

START_TEST(pipe_reader)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    unsigned int count = 0;
    int p[2], rc, status;
    char tail[8];
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        pipe_writer(p[1]);
    }
    close(p[1]);
    OK(keel_stream_reader_new(th_ctx(), p[0], KEEL_STREAM_AUTO, &r));
    while ((rc = keel_stream_read(r, &it)) == 1) {
        if (it.type != KEEL_XC_PAGE_DATA ||
            it.kind != KEEL_STREAM_ITEM_IMAGE_RECORD)
            continue;
        count = it.u.pages.count;
        ck_assert_uint_eq(it.u.pages.pfns[1023], 1023);
        ck_assert_uint_eq(it.u.pages.data[1023 * PAGE + 5],
                          (uint8_t)(1023 + 1023 * PAGE + 5));
    }
    OK(rc);
    ck_assert_uint_eq(count, KEEL_STREAM_PAGE_BATCH);
    /* Nothing after the last END was read. */
    ck_assert_int_eq(read(p[0], tail, sizeof(tail)), 4);
    ck_assert_mem_eq(tail, "NEXT", 4);
    keel_stream_reader_free(r);
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* A backend that reads the image itself (xen: xc_domain_restore) gets
 * the descriptor right after LIBXC_CONTEXT, and the reader goes on with
 * the libxl records after the image. */
START_TEST(image_read_elsewhere)
{
    struct keel_stream_writer *w;
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    uint64_t img_start, img_end;
    int fd = memfd_create("s", MFD_CLOEXEC), n = 0;
    uint8_t image[256];
    char tail[4];

    ck_assert_int_ge(fd, 0);
    OK(keel_stream_writer_new(th_ctx(), fd, &w));
    OK(keel_stream_write_libxl_header(w));
    OK(keel_stream_write_empty(w, KEEL_LIBXL_LIBXC_CONTEXT));
    img_start = keel_stream_writer_offset(w);
    OK(keel_stream_write_image_header(w, KEEL_STREAM_DHDR_X86_HVM, 4, 17));
    OK(keel_stream_write_empty(w, KEEL_XC_STATIC_DATA_END));
    OK(keel_stream_write_empty(w, KEEL_XC_END));
    img_end = keel_stream_writer_offset(w);
    OK(keel_stream_write_empty(w, KEEL_LIBXL_END));
    keel_stream_writer_free(w);
    ck_assert_int_eq(write(fd, "NEXT", 4), 4);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);

    OK(keel_stream_reader_new(th_ctx(), fd, KEEL_STREAM_AUTO, &r));
    ck_assert_int_eq(keel_stream_read(r, &it), 1); /* the libxl header */
    th_assert_err(keel_stream_reader_skip_image(r), KEEL_EINVAL,
                  "LIBXC_CONTEXT");
    ck_assert_int_eq(keel_stream_read(r, &it), 1);
    ck_assert_uint_eq(it.type, KEEL_LIBXL_LIBXC_CONTEXT);
    /* The descriptor is at the image's first byte: "the backend" reads
     * it, exactly. */
    ck_assert_uint_le(img_end - img_start, sizeof(image));
    ck_assert_int_eq(read(fd, image, img_end - img_start),
                     (ssize_t)(img_end - img_start));
    ck_assert_uint_eq(image[0], 0xFF); /* the image header's marker */
    OK(keel_stream_reader_skip_image(r));
    while (keel_stream_read(r, &it) == 1) {
        ck_assert_int_eq(it.kind, KEEL_STREAM_ITEM_LIBXL_RECORD);
        ck_assert_uint_eq(it.type, KEEL_LIBXL_END);
        n++;
    }
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(read(fd, tail, sizeof(tail)), 4);
    ck_assert_mem_eq(tail, "NEXT", 4);
    keel_stream_reader_free(r);
    close(fd);
}
END_TEST

static int
stop_at_third(void *opaque, const struct keel_stream_item *it)
{
    return ++*(int *)opaque == 3 ? 7 : 0;
}

START_TEST(verify_file)
{
    struct keel_stream_summary sum;
    uint8_t *buf;
    size_t len;
    int fd, n = 0;

    buf = sb_sample("xl-hvm-checkpoint", &len);
    fd = open(th_path("s.bin"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    OK(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, NULL, NULL, &sum));
    ck_assert_int_eq(sum.format, KEEL_STREAM_XL);
    ck_assert_uint_eq(sum.image_version, 3);
    ck_assert_uint_eq(sum.dom_type, KEEL_STREAM_DHDR_X86_HVM);
    ck_assert_uint_eq(sum.records, 34);
    ck_assert_uint_eq(sum.pages, 9);
    ck_assert_uint_eq(sum.checkpoints, 2);
    ck_assert_uint_eq(sum.bytes, len);
    ck_assert_uint_eq(sum.trailing, 0);
    lseek(fd, 0, SEEK_SET);
    ck_assert_int_eq(keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO,
                                        stop_at_third, &n, &sum),
                     7);
    ck_assert_int_eq(pwrite(fd, "abc", 3, (off_t)len), 3);
    lseek(fd, 0, SEEK_SET);
    th_assert_err(
        keel_stream_verify(th_ctx(), fd, KEEL_STREAM_AUTO, NULL, NULL, &sum),
        KEEL_ECORRUPT, "3 bytes after the stream's last END");
    ck_assert_uint_eq(sum.trailing, 3);
    close(fd);
    free(buf);
}
END_TEST

START_TEST(verify_pipe_trailing)
{
    struct keel_stream_summary sum;
    char want[64];
    uint8_t *buf;
    size_t len;
    int p[2];

    buf = sb_sample("libxl-hvm", &len);
    ck_assert_uint_lt(len, 60000);
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
    ck_assert_int_eq(write(p[1], "xy", 2), 2);
    close(p[1]);
    snprintf(want, sizeof(want), "offset %zu: 2 bytes after the stream's", len);
    th_assert_err(
        keel_stream_verify(th_ctx(), p[0], KEEL_STREAM_LIBXL, NULL, NULL, &sum),
        KEEL_ECORRUPT, want);
    close(p[0]);
    free(buf);
}
END_TEST

/* A record header that promises 60 MiB on a short input: the reader
 * fails when the input ends, having held only what arrived. */
START_TEST(lying_length)
{
    static const char *want = "offset 48: stream ends inside the "
                              "HVM_CONTEXT record (108 of 62914568 bytes)";
    uint8_t hdr[8], junk[100] = {0};
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    uint8_t *buf;
    size_t len;
    int p[2], rc;

    sb_le32(hdr, KEEL_XC_HVM_CONTEXT);
    sb_le32(hdr + 4, 60u << 20);
    sb_open();
    sb_build_base(B_HVM);
    sb_bytes(hdr, 8);
    sb_bytes(junk, sizeof(junk));
    buf = sb_close(&len);
    ck_assert_uint_eq(len, 48 + 108);
    read_bad(buf, len, KEEL_STREAM_LIBXC, "lying-mem", want);
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
    close(p[1]);
    OK(keel_stream_reader_new(th_ctx(), p[0], KEEL_STREAM_LIBXC, &r));
    while ((rc = keel_stream_read(r, &it)) == 1)
        ;
    th_assert_err(rc, KEEL_ECORRUPT, want);
    keel_stream_reader_free(r);
    close(p[0]);
    free(buf);
}
END_TEST

/* Every prefix of a valid stream is a clean "stream ends inside" fault,
 * from memory and from a descriptor. */
static void
truncate_everywhere(const char *name, bool fd_too)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    const char *msg;
    uint8_t *buf;
    size_t len, cut;
    int fd = memfd_create("cut", MFD_CLOEXEC), rc;

    buf = sb_sample(name, &len);
    for (cut = 0; cut < len; cut++) {
        if (fd_too) {
            ck_assert_int_eq(ftruncate(fd, 0), 0);
            ck_assert_int_eq(pwrite(fd, buf, cut, 0), (ssize_t)cut);
            lseek(fd, 0, SEEK_SET);
            OK(keel_stream_reader_new(th_ctx(), fd, KEEL_STREAM_AUTO, &r));
        } else {
            OK(keel_stream_reader_new_mem(th_ctx(), buf, cut, KEEL_STREAM_AUTO,
                                          &r));
        }
        while ((rc = keel_stream_read(r, &it)) == 1)
            ;
        msg = keel_ctx_last_error(th_ctx());
        ck_assert_msg(rc == KEEL_ECORRUPT && !strncmp(msg, "offset ", 7) &&
                          strstr(msg, ": stream ends inside "),
                      "%s cut at %zu: %d %s", name, cut, rc, msg);
        keel_stream_reader_free(r);
    }
    close(fd);
    free(buf);
}

START_TEST(truncation_everywhere)
{
    truncate_everywhere("xl-hvm-checkpoint", false);
    truncate_everywhere("xl-pv", false);
    truncate_everywhere("libxl-hvm", true);
}
END_TEST

START_TEST(malformed)
{
    const struct bad_case *c = &sb_bad_cases[_i];
    uint8_t *buf;
    size_t len;

    buf = sb_build_bad(c, &len);
    read_bad(buf, len, c->fmt, c->name, c->want);
    free(buf);
}
END_TEST

/* --- fixtures --------------------------------------------------------------
 */

static char datadir[4096];
static bool regenerate;

/* Compares len bytes with the file at path, or writes them when
 * regenerating. */
static void
expect_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, regenerate ? "wb" : "rb");
    uint8_t *have = malloc(len + 1);
    size_t n;

    ck_assert_msg(f != NULL,
                  "cannot open %s (KEEL_TEST_REGENERATE=1 "
                  "writes it)",
                  path);
    ck_assert_ptr_nonnull(have);
    if (regenerate) {
        ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    } else {
        n = fread(have, 1, len + 1, f);
        ck_assert_msg(n == len && !memcmp(have, buf, len),
                      "%s differs from what the test builds (%zu bytes, "
                      "want %zu)",
                      path, n, len);
    }
    fclose(f);
    free(have);
}

/* Appends "NAME.bin FORMAT 1 MESSAGE" to the list (tabs between). */
static void
list_add(char **list, const char *name, enum keel_stream_format fmt,
         const char *msg)
{
    char *l;

    ck_assert(asprintf(&l, "%s%s.bin\t%s\t1\t%s\n", *list ? *list : "", name,
                       keel_stream_format_name(fmt), msg) > 0);
    free(*list);
    *list = l;
}

/* A bad stream's message, from the reader. */
static void
bad_fixture(char **list, const char *name, enum keel_stream_format fmt,
            const uint8_t *buf, size_t len)
{
    struct keel_stream_reader *r;
    struct keel_stream_item it;
    char path[4200];

    OK(keel_stream_reader_new_mem(th_ctx(), buf, len, fmt, &r));
    while (keel_stream_read(r, &it) == 1)
        ;
    list_add(list, name, fmt, keel_ctx_last_error(th_ctx()));
    keel_stream_reader_free(r);
    snprintf(path, sizeof(path), "%s/bad/%s.bin", datadir, name);
    expect_file(path, buf, len);
}

/* The bad fixtures that are not sb_bad_cases[]: bytes after the END (a
 * fault of the file, found by keel_stream_verify) and a cut stream. */
static void
file_faults(char **list)
{
    char path[4200], msg[128];
    uint8_t *buf;
    size_t len;

    buf = sb_sample("xl-pv", &len);
    buf = realloc(buf, len + 4);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf + len, "junk", 4);
    snprintf(msg, sizeof(msg),
             "offset %zu: 4 bytes after the stream's last END", len);
    list_add(list, "trailing", KEEL_STREAM_AUTO, msg);
    snprintf(path, sizeof(path), "%s/bad/trailing.bin", datadir);
    expect_file(path, buf, len + 4);
    bad_fixture(list, "truncated", KEEL_STREAM_AUTO, buf, len - 100);
    free(buf);
}

START_TEST(fixtures)
{
    char path[4200], *list = NULL;
    unsigned int i;
    uint8_t *buf;
    size_t len;

    for (i = 0; i < sb_n_samples; i++) {
        buf = sb_sample(sb_samples[i], &len);
        snprintf(path, sizeof(path), "%s/%s.bin", datadir, sb_samples[i]);
        expect_file(path, buf, len);
        free(buf);
    }
    snprintf(path, sizeof(path), "%s/libxl-hvm-be.bin", datadir);
    buf = malloc(2 * PAGE);
    ck_assert_ptr_nonnull(buf);
    expect_file(path, buf, sb_big_endian_stream(buf));
    free(buf);
    for (i = 0; i < sb_n_bad_cases; i++) {
        if (!sb_bad_cases[i].fixture)
            continue;
        buf = sb_build_bad(&sb_bad_cases[i], &len);
        bad_fixture(&list, sb_bad_cases[i].name, sb_bad_cases[i].fmt, buf, len);
        free(buf);
    }
    file_faults(&list);
    snprintf(path, sizeof(path), "%s/bad/list", datadir);
    expect_file(path, list, strlen(list));
    free(list);
}
END_TEST

int
main(void)
{
    const char *src = getenv("top_srcdir");
    Suite *s = suite_create("stream");
    TCase *tc = th_tcase(s, "write");

    snprintf(datadir, sizeof(datadir), "%s/tests/data/stream", src ? src : ".");
    regenerate = getenv("KEEL_TEST_REGENERATE") != NULL;
    tcase_add_test(tc, names_and_page_types);
    tcase_add_test(tc, header_bytes);
    tcase_add_test(tc, page_data_bytes);
    tcase_add_test(tc, writer_refusals);
    tcase_add_test(tc, writer_io_error);
    tc = th_tcase(s, "read");
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, checkpointed_layers);
    tcase_add_test(tc, xl_without_config);
    tcase_add_test(tc, empty_variable_records);
    tcase_add_test(tc, big_endian);
    tcase_add_test(tc, unknown_optional_skipped);
    tcase_add_test(tc, describe);
    tcase_add_test(tc, pipe_reader);
    tcase_add_test(tc, image_read_elsewhere);
    tcase_add_test(tc, verify_file);
    tcase_add_test(tc, verify_pipe_trailing);
    tcase_add_test(tc, lying_length);
    tcase_add_test(tc, truncation_everywhere);
    tcase_add_test(tc, fixtures);
    tc = th_tcase(s, "malformed");
    tcase_add_loop_test(tc, malformed, 0, (int)sb_n_bad_cases);
    return th_run(s);
}
