/* stream-common.c: names of record types and formats, and page types
 *
 * Checklist when Xen adds a record type: the name table here, the
 * descriptor table in stream-records.c (length bounds, version, guest
 * type, its check), the writer if keel sends it, describe_record() in
 * stream-verify.c, and a round trip plus a refusal in
 * tests/unit/test-stream.c.
 */
#include "config.h"

#include <string.h>

#include <keel/hv.h>

#include "stream-internal.h"

static const char *const xc_names[] = {
    [KEEL_XC_END] = "END",
    [KEEL_XC_PAGE_DATA] = "PAGE_DATA",
    [KEEL_XC_X86_PV_INFO] = "X86_PV_INFO",
    [KEEL_XC_X86_PV_P2M_FRAMES] = "X86_PV_P2M_FRAMES",
    [KEEL_XC_X86_PV_VCPU_BASIC] = "X86_PV_VCPU_BASIC",
    [KEEL_XC_X86_PV_VCPU_EXTENDED] = "X86_PV_VCPU_EXTENDED",
    [KEEL_XC_X86_PV_VCPU_XSAVE] = "X86_PV_VCPU_XSAVE",
    [KEEL_XC_SHARED_INFO] = "SHARED_INFO",
    [KEEL_XC_X86_TSC_INFO] = "X86_TSC_INFO",
    [KEEL_XC_HVM_CONTEXT] = "HVM_CONTEXT",
    [KEEL_XC_HVM_PARAMS] = "HVM_PARAMS",
    [KEEL_XC_TOOLSTACK] = "TOOLSTACK",
    [KEEL_XC_X86_PV_VCPU_MSRS] = "X86_PV_VCPU_MSRS",
    [KEEL_XC_VERIFY] = "VERIFY",
    [KEEL_XC_CHECKPOINT] = "CHECKPOINT",
    [KEEL_XC_CHECKPOINT_DIRTY_PFN_LIST] = "CHECKPOINT_DIRTY_PFN_LIST",
    [KEEL_XC_STATIC_DATA_END] = "STATIC_DATA_END",
    [KEEL_XC_X86_CPUID_POLICY] = "X86_CPUID_POLICY",
    [KEEL_XC_X86_MSR_POLICY] = "X86_MSR_POLICY",
};

static const char *const libxl_names[] = {
    [KEEL_LIBXL_END] = "END",
    [KEEL_LIBXL_LIBXC_CONTEXT] = "LIBXC_CONTEXT",
    [KEEL_LIBXL_EMULATOR_XENSTORE_DATA] = "EMULATOR_XENSTORE_DATA",
    [KEEL_LIBXL_EMULATOR_CONTEXT] = "EMULATOR_CONTEXT",
    [KEEL_LIBXL_CHECKPOINT_END] = "CHECKPOINT_END",
    [KEEL_LIBXL_CHECKPOINT_STATE] = "CHECKPOINT_STATE",
};

KEEL_EXPORT const char *
keel_stream_xc_rec_name(uint32_t type)
{
    return type < ARRAY_SIZE(xc_names) ? xc_names[type] : NULL;
}

KEEL_EXPORT const char *
keel_stream_libxl_rec_name(uint32_t type)
{
    return type < ARRAY_SIZE(libxl_names) ? libxl_names[type] : NULL;
}

/* Types 5..8 are L1..L4 with bit 2 set, which Xen never defined. */
KEEL_EXPORT bool
keel_stream_page_type_valid(uint32_t type)
{
    return type <= 0xF && !(type >= 0x5 && type <= 0x8);
}

/* NOTAB, the page-table types and their pinned forms carry a frame;
 * BROKEN, XALLOC and XTAB only name one. */
KEEL_EXPORT bool
keel_stream_page_type_has_data(uint32_t type)
{
    return type <= KEEL_PAGE_L4TAB ||
           (type >= (KEEL_PAGE_LPINTAB | KEEL_PAGE_L1TAB) &&
            type <= (KEEL_PAGE_LPINTAB | KEEL_PAGE_L4TAB));
}

static const char *const format_names[] = {
    [KEEL_STREAM_AUTO] = "auto",
    [KEEL_STREAM_XL] = "xl",
    [KEEL_STREAM_LIBXL] = "libxl",
    [KEEL_STREAM_LIBXC] = "libxc",
};

KEEL_EXPORT const char *
keel_stream_format_name(enum keel_stream_format fmt)
{
    if ((unsigned int)fmt >= ARRAY_SIZE(format_names))
        return "unknown";
    return format_names[fmt];
}

KEEL_EXPORT int
keel_stream_format_parse(const char *name, enum keel_stream_format *fmt_r)
{
    size_t i;

    for (i = 0; name && i < ARRAY_SIZE(format_names); i++)
        if (!strcmp(name, format_names[i])) {
            *fmt_r = (enum keel_stream_format)i;
            return 0;
        }
    return KEEL_EINVAL;
}
