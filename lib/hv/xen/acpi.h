/* acpi.h: the ACPI tables a PVH guest boots with
 *
 * A PVH guest has no firmware: the toolstack hands it its platform
 * description as ACPI tables in its memory, and the start info page
 * points at the RSDP. Without a MADT, Linux finds no local APIC and never
 * installs its Xen timer, so the guest stops after its first lines.
 *
 * keel writes the smallest set Linux and the BSDs accept, with the
 * values Xen's own toolstack gives a PVH guest:
 *
 *   RSDP (revision 2)  -> XSDT -> FADT (revision 5) -> FACS, DSDT
 *                              -> MADT
 *
 *   MADT  one local APIC per possible vCPU, APIC ID 2 x vCPU (Xen's
 *         numbering), every one enabled. A guest cannot bring up a vCPU
 *         its MADT lists as disabled unless ACPI says it was hot-added,
 *         and nothing emulates ACPI hotplug for PVH; so the guest boots
 *         them all, and its Xen hotplug watcher takes the ones not
 *         available (cpu/N/availability in the store) offline before
 *         userspace runs, as a PV guest does; vcpu-set can add them
 *         later. No I/O APIC: PVH emulates only the local APIC.
 *   FADT  no VGA, no CMOS clock, power and sleep buttons absent, no PM
 *         timer; the PM1a event and control blocks and GPE0 at Xen's
 *         fixed I/O ports (public/hvm/ioreq.h).
 *   DSDT  empty: vCPUs are described by the MADT and hot-plugged through
 *         the store, there are no devices to describe.
 *
 * The tables are built here as bytes, little-endian, with no Xen header
 * needed, so that they are unit-tested on any host (test-xen-acpi).
 */
#ifndef KEEL_HV_XEN_ACPI_H
#define KEEL_HV_XEN_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Where Xen's toolstack puts a PVH guest's tables: inside the hole below
 * the local APIC and the HVM special pages, reserved in its memory map. */
#define XEN_ACPI_BASE 0xFC000000ull
/* A revision 2 RSDP: 36 bytes. */
#define XEN_ACPI_RSDP_LEN 36
/* Xen numbers HVM vCPUs' local APICs 0, 2, 4, ...; an xAPIC ID is one
 * byte and 255 is broadcast, so 128 vCPUs at most (HVM_MAX_VCPUS). */
#define XEN_ACPI_MAX_VCPUS 128

struct xen_acpi {
    uint8_t rsdp[XEN_ACPI_RSDP_LEN]; /* wherever the guest is told */
    uint8_t *tables;                 /* malloc()ed; belongs at base */
    size_t len;
    uint64_t base;
};

/* Builds the tables for a guest with max_vcpus (1..XEN_ACPI_MAX_VCPUS)
 * possible vCPUs, to sit at guest-physical base (16-byte aligned, below
 * 4 GiB). 0, or -EINVAL (out of range) or -ENOMEM. */
int xen_acpi_build(uint64_t base, unsigned int max_vcpus,
                   struct xen_acpi *acpi);
void xen_acpi_dispose(struct xen_acpi *acpi);

#endif /* KEEL_HV_XEN_ACPI_H */
