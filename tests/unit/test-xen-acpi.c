/* test-xen-acpi.c: the ACPI tables the xen backend gives PVH guests
 * (lib/hv/xen/acpi.c)
 *
 * The tables are read back the way a guest's ACPI code finds them: from
 * the RSDP through the XSDT (and the RSDT) to the FADT, FACS, DSDT and
 * MADT, each signature, length, revision and checksum checked, every
 * pointer inside the blob the guest is given. Offsets are ACPI 5.0's.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "harness.h"

#define BASE XEN_ACPI_BASE

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t
sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* The table at guest address addr: inside the blob, its signature and
 * revision as expected, its checksum good. Returns it and its length. */
static const uint8_t *
table(const struct xen_acpi *a, uint64_t addr, const char *sig,
      uint8_t revision, uint32_t *len_r)
{
    const uint8_t *t;
    uint32_t len;

    ck_assert_uint_ge(addr, a->base);
    ck_assert_uint_le(addr + 36, a->base + a->len);
    t = a->tables + (addr - a->base);
    ck_assert_msg(memcmp(t, sig, 4) == 0, "expected %s", sig);
    len = le32(t + 4);
    ck_assert_uint_ge(len, 36);
    ck_assert_uint_le(addr + len, a->base + a->len);
    ck_assert_uint_eq(t[8], revision);
    ck_assert_msg(sum(t, len) == 0, "%s checksum", sig);
    ck_assert_msg(addr % 16 == 0, "%s aligned", sig);
    *len_r = len;
    return t;
}

/* Follows the RSDP to the MADT; checks the FADT, FACS and DSDT on the
 * way. Returns the MADT and its length. */
static const uint8_t *
walk(const struct xen_acpi *a, uint32_t *madt_len_r)
{
    const uint8_t *rsdp = a->rsdp, *xsdt, *rsdt, *fadt, *facs;
    uint64_t fadt_at = 0, madt_at = 0;
    uint32_t len, n;

    ck_assert(memcmp(rsdp, "RSD PTR ", 8) == 0);
    ck_assert_uint_eq(sum(rsdp, 20), 0);
    ck_assert_uint_eq(rsdp[15], 2);
    ck_assert_uint_eq(le32(rsdp + 20), XEN_ACPI_RSDP_LEN);
    ck_assert_uint_eq(sum(rsdp, XEN_ACPI_RSDP_LEN), 0);

    xsdt = table(a, le64(rsdp + 24), "XSDT", 1, &len);
    ck_assert_uint_eq((len - 36) % 8, 0);
    n = (len - 36) / 8;
    ck_assert_uint_eq(n, 2);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at = le64(xsdt + 36 + 8 * i);
        const uint8_t *t = a->tables + (at - a->base);

        ck_assert_uint_ge(at, a->base);
        if (memcmp(t, "FACP", 4) == 0)
            fadt_at = at;
        else if (memcmp(t, "APIC", 4) == 0)
            madt_at = at;
    }
    ck_assert(fadt_at && madt_at);
    /* The RSDT lists the same tables, with 32-bit addresses. */
    rsdt = table(a, le32(rsdp + 16), "RSDT", 1, &len);
    ck_assert_uint_eq(len, 36 + 2 * 4);
    ck_assert_uint_eq(le32(rsdt + 36), fadt_at);
    ck_assert_uint_eq(le32(rsdt + 40), madt_at);

    fadt = table(a, fadt_at, "FACP", 5, &len);
    ck_assert_uint_eq(len, 268);
    ck_assert_uint_eq(le64(fadt + 132), le32(fadt + 36)); /* FACS */
    ck_assert_uint_eq(le64(fadt + 140), le32(fadt + 40)); /* DSDT */
    ck_assert_uint_eq(le64(fadt + 132) % 64, 0);
    facs = a->tables + (le64(fadt + 132) - a->base);
    ck_assert(memcmp(facs, "FACS", 4) == 0 && le32(facs + 4) == 64);
    table(a, le64(fadt + 140), "DSDT", 2, &len);
    /* no VGA, no CMOS clock; not hardware-reduced (flag 20) */
    ck_assert_uint_eq(fadt[109] & 0x24, 0x24);
    ck_assert_uint_eq(le32(fadt + 112) & (1u << 20), 0);
    /* PM1a blocks at Xen's ports, the same in the 64-bit fields */
    ck_assert_uint_eq(le32(fadt + 56), 0xb000);
    ck_assert_uint_eq(le64(fadt + 148 + 4), 0xb000);
    ck_assert_uint_eq(le32(fadt + 64), 0xb004);
    ck_assert_uint_eq(le64(fadt + 172 + 4), 0xb004);
    ck_assert_uint_eq(le32(fadt + 76), 0); /* no PM timer */

    return table(a, madt_at, "APIC", 2, madt_len_r);
}

START_TEST(tables_read_back)
{
    struct xen_acpi a;
    const uint8_t *madt, *e;
    uint32_t len;

    ck_assert_int_eq(xen_acpi_build(BASE, 4, &a), 0);
    madt = walk(&a, &len);
    ck_assert_uint_eq(le32(madt + 36), 0xFEE00000u);
    ck_assert_uint_eq(len, 44 + 4 * 8);
    e = madt + 44;
    for (unsigned int i = 0; i < 4; i++, e += 8) {
        ck_assert_uint_eq(e[0], 0); /* processor local APIC */
        ck_assert_uint_eq(e[1], 8);
        ck_assert_uint_eq(e[2], i);
        ck_assert_uint_eq(e[3], 2 * i); /* Xen's APIC IDs */
        /* enabled, even if not online at boot: see acpi.h */
        ck_assert_uint_eq(le32(e + 4), 1);
    }
    /* The tables fit the pages before the one the RSDP goes in. */
    ck_assert_uint_lt(a.len, 4096);
    xen_acpi_dispose(&a);
    ck_assert_ptr_null(a.tables);
}
END_TEST

START_TEST(vcpu_bounds)
{
    struct xen_acpi a;
    const uint8_t *madt;
    uint32_t len;

    ck_assert_int_eq(xen_acpi_build(BASE, 1, &a), 0);
    madt = walk(&a, &len);
    ck_assert_uint_eq(len, 44 + 8);
    ck_assert_uint_eq(le32(madt + 44 + 4), 1);
    xen_acpi_dispose(&a);

    ck_assert_int_eq(xen_acpi_build(BASE, XEN_ACPI_MAX_VCPUS, &a), 0);
    madt = walk(&a, &len);
    ck_assert_uint_eq(len, 44 + 8 * XEN_ACPI_MAX_VCPUS);
    /* the last vCPU's APIC ID is still a valid xAPIC ID */
    ck_assert_uint_eq(madt[len - 8 + 3], 2 * (XEN_ACPI_MAX_VCPUS - 1));
    ck_assert_uint_lt(2 * (XEN_ACPI_MAX_VCPUS - 1), 255);
    xen_acpi_dispose(&a);

    ck_assert_int_eq(xen_acpi_build(BASE, 0, &a), -EINVAL);
    ck_assert_int_eq(xen_acpi_build(BASE, XEN_ACPI_MAX_VCPUS + 1, &a), -EINVAL);
    ck_assert_int_eq(xen_acpi_build(BASE + 8, 2, &a), -EINVAL);
    ck_assert_int_eq(xen_acpi_build(0xFFFFF000ull, 2, &a), -EINVAL);
    ck_assert_ptr_null(a.tables);
    xen_acpi_dispose(&a); /* harmless after a failure */
}
END_TEST

/* Any 16-byte-aligned base: the FACS still lands 64-byte aligned and
 * every pointer follows the base. */
START_TEST(other_base)
{
    struct xen_acpi a;
    uint32_t len;

    ck_assert_int_eq(xen_acpi_build(0x100010, 3, &a), 0);
    walk(&a, &len);
    xen_acpi_dispose(&a);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("xen-acpi");
    TCase *tc = th_tcase(s, "acpi");

    tcase_add_test(tc, tables_read_back);
    tcase_add_test(tc, vcpu_bounds);
    tcase_add_test(tc, other_base);
    return th_run(s);
}
