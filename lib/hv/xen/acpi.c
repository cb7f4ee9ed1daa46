/* acpi.c: a PVH guest's ACPI tables, as bytes (acpi.h has the design) */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"

/* Every table's 36-byte header. */
#define HDR_LEN 36
#define FACS_LEN 64
#define FADT_LEN 268 /* revision 5 */
#define MADT_LEN 44  /* before its entries */
#define MADT_LAPIC_LEN 8

/* Xen's fixed ACPI I/O ports for HVM containers (public/hvm/ioreq.h,
 * the "V1" block layout). */
#define PM1A_EVT_PORT 0xb000
#define PM1A_CNT_PORT 0xb004
#define GPE0_PORT 0xafe0
#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define GPE0_LEN 4
/* The local APIC's guest-physical address. */
#define LAPIC_ADDR 0xFEE00000u

/* FADT flags and IA-PC boot architecture flags (ACPI 5.0, 5.2.9). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed sleep button */
#define FADT_FIX_RTC (1u << 6)
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_USE_PLATFORM_CLOCK (1u << 15)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)
/* MADT: the system also has dual 8259s (as Xen's toolstack says). */
#define MADT_PCAT_COMPAT 1u
#define LAPIC_ENABLED 1u
/* Generic address structure: system I/O space. */
#define GAS_IO 1

static const char OEM_ID[6] = {'K', 'E', 'E', 'L', ' ', ' '};
static const char OEM_TABLE_ID[8] = {'K', 'E', 'E', 'L', 'P', 'V', 'H', ' '};
static const char CREATOR_ID[4] = {'K', 'E', 'E', 'L'};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes p[0..len) sum to zero, written at p[at]. */
static void
checksum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;

    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)(0x100 - sum);
}

static void
header(uint8_t *p, const char sig[4], uint32_t len, uint8_t revision)
{
    memcpy(p, sig, 4);
    put32(p + 4, len);
    p[8] = revision;
    memcpy(p + 10, OEM_ID, sizeof(OEM_ID));
    memcpy(p + 16, OEM_TABLE_ID, sizeof(OEM_TABLE_ID));
    put32(p + 24, 1); /* OEM revision */
    memcpy(p + 28, CREATOR_ID, sizeof(CREATOR_ID));
    put32(p + 32, 1); /* creator revision */
}

/* A generic address structure (12 bytes) for an I/O port block. */
static void
gas_io(uint8_t *p, uint8_t bits, uint64_t port)
{
    p[0] = GAS_IO;
    p[1] = bits;
    p[2] = 0; /* bit offset */
    p[3] = 0; /* access size: legacy */
    put64(p + 4, port);
}

static size_t
align(size_t off, size_t a)
{
    return (off + a - 1) & ~(a - 1);
}

static void
fadt(uint8_t *p, uint64_t facs, uint64_t dsdt)
{
    header(p, "FACP", FADT_LEN, 5);
    put32(p + 36, (uint32_t)facs);
    put32(p + 40, (uint32_t)dsdt);
    put16(p + 46, 9); /* SCI interrupt */
    put32(p + 56, PM1A_EVT_PORT);
    put32(p + 64, PM1A_CNT_PORT);
    put32(p + 80, GPE0_PORT);
    p[88] = PM1_EVT_LEN;
    p[89] = PM1_CNT_LEN;
    p[92] = GPE0_LEN;
    put16(p + 96, 0x0fff); /* C2 latency > 100: no C2 */
    put16(p + 98, 0x0fff); /* C3 latency > 1000: no C3 */
    put16(p + 109, BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC);
    put32(p + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
                       FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT |
                       FADT_USE_PLATFORM_CLOCK);
    put64(p + 132, facs);
    put64(p + 140, dsdt);
    gas_io(p + 148, PM1_EVT_LEN * 8, PM1A_EVT_PORT);
    gas_io(p + 172, PM1_CNT_LEN * 8, PM1A_CNT_PORT);
    checksum(p, FADT_LEN, 9);
}

static void
madt(uint8_t *p, unsigned int max_vcpus)
{
    uint32_t len = MADT_LEN + MADT_LAPIC_LEN * max_vcpus;
    uint8_t *e = p + MADT_LEN;

    header(p, "APIC", len, 2);
    put32(p + 36, LAPIC_ADDR);
    put32(p + 40, MADT_PCAT_COMPAT);
    for (unsigned int i = 0; i < max_vcpus; i++, e += MADT_LAPIC_LEN) {
        e[0] = 0; /* processor local APIC */
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i;       /* ACPI processor UID */
        e[3] = (uint8_t)(2 * i); /* APIC ID, as Xen numbers them */
        put32(e + 4, LAPIC_ENABLED);
    }
    checksum(p, len, 9);
}

int
xen_acpi_build(uint64_t base, unsigned int max_vcpus, struct xen_acpi *acpi)
{
    size_t facs, dsdt, fadt_off, madt_off, xsdt, rsdt, len;
    uint8_t *t;

    memset(acpi, 0, sizeof(*acpi));
    if (max_vcpus < 1 || max_vcpus > XEN_ACPI_MAX_VCPUS || (base & 15) ||
        base + 65536 > (1ull << 32))
        return -EINVAL;
    /* FACS first: it wants 64-byte alignment, base gives 16. */
    facs = align(base, 64) - base;
    dsdt = align(facs + FACS_LEN, 16);
    fadt_off = align(dsdt + HDR_LEN, 16);
    madt_off = align(fadt_off + FADT_LEN, 16);
    xsdt = align(madt_off + MADT_LEN + MADT_LAPIC_LEN * max_vcpus, 16);
    rsdt = align(xsdt + HDR_LEN + 2 * 8, 16);
    len = rsdt + HDR_LEN + 2 * 4;
    t = calloc(1, len);
    if (!t)
        return -ENOMEM;

    memcpy(t + facs, "FACS", 4);
    put32(t + facs + 4, FACS_LEN);
    t[facs + 32] = 1; /* version */
    header(t + dsdt, "DSDT", HDR_LEN, 2);
    checksum(t + dsdt, HDR_LEN, 9);
    fadt(t + fadt_off, base + facs, base + dsdt);
    madt(t + madt_off, max_vcpus);
    /* The XSDT (64-bit entries) for ACPI 2.0+ readers, the RSDT (32-bit)
     * for the rest; both list the FADT and the MADT. */
    header(t + xsdt, "XSDT", HDR_LEN + 2 * 8, 1);
    put64(t + xsdt + HDR_LEN, base + fadt_off);
    put64(t + xsdt + HDR_LEN + 8, base + madt_off);
    checksum(t + xsdt, HDR_LEN + 2 * 8, 9);
    header(t + rsdt, "RSDT", HDR_LEN + 2 * 4, 1);
    put32(t + rsdt + HDR_LEN, (uint32_t)(base + fadt_off));
    put32(t + rsdt + HDR_LEN + 4, (uint32_t)(base + madt_off));
    checksum(t + rsdt, HDR_LEN + 2 * 4, 9);

    memcpy(acpi->rsdp, "RSD PTR ", 8);
    memcpy(acpi->rsdp + 9, OEM_ID, sizeof(OEM_ID));
    acpi->rsdp[15] = 2; /* revision: ACPI 2.0+, has the XSDT */
    put32(acpi->rsdp + 16, (uint32_t)(base + rsdt));
    put32(acpi->rsdp + 20, XEN_ACPI_RSDP_LEN);
    put64(acpi->rsdp + 24, base + xsdt);
    checksum(acpi->rsdp, 20, 8);                 /* the ACPI 1.0 part */
    checksum(acpi->rsdp, XEN_ACPI_RSDP_LEN, 32); /* the whole */

    acpi->tables = t;
    acpi->len = len;
    acpi->base = base;
    return 0;
}

void
xen_acpi_dispose(struct xen_acpi *acpi)
{
    free(acpi->tables);
    memset(acpi, 0, sizeof(*acpi));
}
