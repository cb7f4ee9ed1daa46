/* stream-build.h: building test streams (stream-build.c) for test-stream.c
 *
 * One stream is built at a time: sb_open() starts a writer (sb_w) on a
 * memfd, the builders write to it, sb_close() returns the bytes.
 */
#ifndef KEEL_TEST_STREAM_BUILD_H
#define KEEL_TEST_STREAM_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/stream.h>

#include "harness.h"

#define PAGE 4096u

extern struct keel_stream_writer *sb_w;
struct keel_stream_writer *sb_open(void);
/* Bytes written straight to the memfd, past the writer (broken framing). */
void sb_bytes(const void *p, size_t n);
/* The stream written so far; frees the writer. free() the result. */
uint8_t *sb_close(size_t *len_r);
void sb_rec(uint32_t type, const void *body, size_t len);
void sb_le32(uint8_t *p, uint32_t v);
void sb_le64(uint8_t *p, uint64_t v);

/* What the samples carry. */
extern uint8_t sb_pages[4 * PAGE];
extern const uint64_t sb_pv_pfns[4];
extern const uint32_t sb_pv_types[4];
extern const uint64_t sb_hvm_pfns[3];
extern const uint32_t sb_hvm_types[3];
extern const uint64_t sb_p2m[2];
extern const char sb_config_json[74];
extern const char sb_xs_data[25];
void sb_fill_pages(void);
void sb_hvm_image_start(uint32_t version);
void sb_hvm_state(void);
void sb_libxl_pv(void);

/* The valid samples by name: libxc-pv, libxc-hvm, libxc-hvm-v2,
 * libxl-hvm, xl-pv, xl-hvm-checkpoint. free() the result. */
uint8_t *sb_sample(const char *name, size_t *len_r);
extern const char *const sb_samples[];
extern const size_t sb_n_samples;
/* A big-endian libxl stream with a big-endian HVM image, by hand, into
 * buf (8 KiB); returns its length. */
size_t sb_big_endian_stream(uint8_t *buf);

/* What a bad case starts from, and where its next record goes. */
enum base {
    B_NONE,       /* nothing */
    B_HVM_BARE,   /* HVM image header: 40 */
    B_HVM,        /* + STATIC_DATA_END: 48 */
    B_HVM_V2,     /* version-2 HVM image header: 40 */
    B_PV_BARE,    /* PV image header: 40 */
    B_PV_INFO,    /* + X86_PV_INFO: 56 */
    B_PV_HEAD,    /* + STATIC_DATA_END: 64 */
    B_PV,         /* + X86_PV_P2M_FRAMES (pfn 0, one frame): 88 */
    B_PV_SDE,     /* PV image header, STATIC_DATA_END: 48 */
    B_LIBXL,      /* libxl header: 16 */
    B_LIBXL_HVM,  /* + LIBXC_CONTEXT, HVM image, SDE, END: 80 */
    B_LIBXL_CKPT, /* as B_LIBXL_HVM with CHECKPOINT for END: 80 */
    B_LIBXL_PV,   /* + LIBXC_CONTEXT, PV image, END: 72 */
    B_XL,         /* a whole xl stream, config "{}" (xl header 0..54) */
};

struct bad_case {
    const char *name;
    enum keel_stream_format fmt;
    enum base base;
    bool has_rec; /* a record of type with body */
    uint32_t type;
    const char *body;
    size_t len;
    bool page;       /* a valid PAGE_DATA (pfn 0, NOTAB) */
    const char *raw; /* bytes appended unframed */
    size_t rawlen;
    size_t at; /* bytes pat overwrite at offset at */
    const char *pat;
    size_t patlen;
    const char *want; /* how the message starts */
    bool fixture;     /* also tests/data/stream/bad/NAME.bin */
};

extern const struct bad_case sb_bad_cases[];
extern const size_t sb_n_bad_cases;
void sb_build_base(enum base b);
/* A bad case's stream; free() the result. */
uint8_t *sb_build_bad(const struct bad_case *c, size_t *len_r);

#endif
