/* build.c: making a domain on Xen, from nothing to ready to unpause
 *
 * The order is the one Xen's own toolstack uses, since Xen and the
 * guest expect it:
 *
 *  1. xc_domain_create with the domain's kind (PV; PVH: an HVM container
 *     with hardware paging and only a local APIC emulated), vCPU count,
 *     pool and uuid;
 *  2. its store directory, afresh, with the permissions a guest needs
 *     (it reads its own directory and writes control/, data/, ...);
 *  3. the vCPUs (createdomain only bounds them), max memory (plus 1 MiB
 *     slack for the builder's own pages), the TSC mode, and for PVH the
 *     paging pool and timer mode;
 *  4. unless the domain is to be restored: the CPUID policy, two event
 *     channels (store and console, bound to the domains running
 *     xenstored and xenconsoled), the domain builder (libxenguest's
 *     xc_dom_*: kernel and initramfs loaded, memory populated, start info
 *     and page tables, or the PVH ACPI tables and memory map, written),
 *     then the store and console nodes and xs_introduce_domain.
 *
 * The domain stays paused (Xen creates domains paused); libkeel writes
 * the rest of its store nodes and unpauses it. Any failure destroys what
 * was made, so nothing is left behind.
 *
 * HVM guests need a device model, which this backend does not start:
 * refused.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "xen.h"

#include <xen/features.h>
#include <xen/hvm/params.h> /* after xenctrl.h (in xen.h) */

/* Xen's toolstack lets max memory exceed the guest's by this much, for
 * the pages the builder adds (KiB). */
#define MAXMEM_SLACK_KB 1024
/* The hole that holds the PVH guest's ACPI tables, its local APIC and
 * the HVM container's special pages starts with the tables; the guest's
 * memory stays below it (as Xen's toolstack lays it out). */
#define PVH_MMIO_START XEN_ACPI_BASE
/* A PVH memory map: RAM below 4 GiB, the ACPI modules, the special
 * pages, RAM above 4 GiB. */
#define PVH_E820_MAX (3 + MAX_ACPI_MODULES)

/* --- the store directory --- */

static bool
mknod_perm(struct xs_handle *xsh, xs_transaction_t t, const char *path,
           struct xs_permissions *perms, unsigned int n)
{
    return xs_mkdir(xsh, t, path) && xs_set_permissions(xsh, t, path, perms, n);
}

/* /local/domain/<domid> afresh: read-only to the guest but for the nodes
 * it writes itself. */
static int
store_skeleton(struct xen *x, uint32_t domid)
{
    static const char *const guest_rw[] = {
        "control/shutdown",
        "control/feature-poweroff",
        "control/feature-reboot",
        "control/feature-suspend",
        "control/sysrq",
        "data",
        "drivers",
        "feature",
        "attr",
        "error",
        "device/suspend/event-channel",
    };
    static const char *const guest_ro[] = {"cpu",     "memory",  "device",
                                           "control", "console", "store"};
    struct xs_permissions ro[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                   {.id = domid, .perms = XS_PERM_READ}};
    struct xs_permissions rw[1] = {{.id = domid, .perms = XS_PERM_NONE}};
    char dom[64], path[128];
    size_t i;
    int tries;

    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    for (tries = 0; tries < 16; tries++) {
        xs_transaction_t t = xs_transaction_start(x->xsh);
        bool ok;

        if (t == XBT_NULL)
            return xen_fail(x, "xs_transaction_start");
        (void)xs_rm(x->xsh, t, dom); /* a dead domain's leftovers */
        ok = mknod_perm(x->xsh, t, dom, ro, 2);
        for (i = 0; ok && i < sizeof(guest_ro) / sizeof(guest_ro[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dom, guest_ro[i]);
            ok = mknod_perm(x->xsh, t, path, ro, 2);
        }
        for (i = 0; ok && i < sizeof(guest_rw) / sizeof(guest_rw[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dom, guest_rw[i]);
            ok = mknod_perm(x->xsh, t, path, rw, 1);
        }
        if (!ok) {
            int err = errno;

            (void)xs_transaction_end(x->xsh, t, true);
            errno = err;
            return xen_fail(x, "writing %s", dom);
        }
        if (xs_transaction_end(x->xsh, t, false))
            return 0;
        if (errno != EAGAIN)
            return xen_fail(x, "writing %s", dom);
    }
    return keel_error(x->ctx, KEEL_EAGAIN,
                      "writing %s: the store kept conflicting", dom);
}

/* --- rings --- */

static uint32_t
tool_domid(struct xs_handle *xsh, const char *tool)
{
    char path[64], *v;
    unsigned int len;
    uint32_t domid = 0;

    snprintf(path, sizeof(path), "/tool/%s/domid", tool);
    v = xs_read(xsh, XBT_NULL, path, &len);
    if (v) {
        domid = (uint32_t)strtoul(v, NULL, 10);
        free(v);
    }
    return domid;
}

int
xen_rings_alloc(struct xen *x, xc_interface *xch, struct xs_handle *xsh,
                uint32_t domid, struct xen_rings *r)
{
    int port;

    memset(r, 0, sizeof(*r));
    r->store_domid = tool_domid(xsh, "xenstored");
    r->console_domid = tool_domid(xsh, "xenconsoled");
    port = xc_evtchn_alloc_unbound(xch, domid, r->store_domid);
    if (port < 0)
        return xen_fail(x, "xc_evtchn_alloc_unbound(%u, store)", domid);
    r->store_port = (uint32_t)port;
    port = xc_evtchn_alloc_unbound(xch, domid, r->console_domid);
    if (port < 0)
        return xen_fail(x, "xc_evtchn_alloc_unbound(%u, console)", domid);
    r->console_port = (uint32_t)port;
    return 0;
}

static bool write_node(struct xs_handle *xsh, const char *dom, const char *node,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
write_node(struct xs_handle *xsh, const char *dom, const char *node,
           const char *fmt, ...)
{
    char path[128], val[64];
    va_list ap;

    snprintf(path, sizeof(path), "%s/%s", dom, node);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    return xs_write(xsh, XBT_NULL, path, val, (unsigned int)strlen(val));
}

int
xen_rings_publish(struct xen *x, struct xs_handle *xsh, uint32_t domid,
                  const struct xen_rings *r)
{
    char dom[64];
    bool ok;

    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    ok = write_node(xsh, dom, "store/port", "%u", r->store_port) &&
         write_node(xsh, dom, "store/ring-ref", "%" PRIu64, r->store_mfn) &&
         write_node(xsh, dom, "console/port", "%u", r->console_port) &&
         write_node(xsh, dom, "console/ring-ref", "%" PRIu64, r->console_mfn) &&
         write_node(xsh, dom, "console/type", "xenconsoled") &&
         write_node(xsh, dom, "console/output", "pty") &&
         write_node(xsh, dom, "console/limit", "%u", 1u << 20) &&
         write_node(xsh, dom, "console/tty", "%s", "");
    if (!ok)
        return xen_fail(x, "writing the console and store nodes of %s", dom);
    if (!xs_introduce_domain(xsh, domid, r->store_mfn, r->store_port))
        return xen_fail(x, "xs_introduce_domain(%u)", domid);
    return 0;
}

/* --- the domain builder --- */

/* PVH: RAM below the ACPI tables, the local APIC and the special pages
 * (and above 4 GiB for the rest); the tables and the special pages
 * reserved. The builder hands the map to the guest. */
static void
pvh_layout(struct xc_dom_image *dom, uint64_t mem_bytes)
{
    uint64_t low = mem_bytes, high = 0;

    if (low > PVH_MMIO_START) {
        high = (1ull << 32) + (low - PVH_MMIO_START);
        low = PVH_MMIO_START;
    }
    dom->target_pages = mem_bytes >> XC_PAGE_SHIFT;
    dom->mmio_start = PVH_MMIO_START;
    dom->mmio_size = (1ull << 32) - PVH_MMIO_START;
    dom->lowmem_end = low;
    dom->highmem_end = high;
    dom->vga_hole_size = 0;
    dom->device_model = false;
}

static unsigned int
pvh_memory_map(const struct xc_dom_image *dom,
               struct e820entry e820[PVH_E820_MAX])
{
    unsigned int n = 0;

    e820[n++] = (struct e820entry){
        .addr = 0, .size = dom->lowmem_end, .type = E820_RAM};
    for (int i = 0; i < MAX_ACPI_MODULES && dom->acpi_modules[i].length; i++) {
        uint64_t at = dom->acpi_modules[i].guest_addr_out;
        uint64_t page = at & ~(uint64_t)(XC_PAGE_SIZE - 1);

        e820[n++] = (struct e820entry){.addr = page,
                                       .size = dom->acpi_modules[i].length +
                                               (at - page),
                                       .type = E820_ACPI};
    }
    e820[n++] = (struct e820entry){
        .addr =
            (uint64_t)(X86_HVM_END_SPECIAL_REGION - X86_HVM_NR_SPECIAL_PAGES)
            << XC_PAGE_SHIFT,
        .size = (uint64_t)X86_HVM_NR_SPECIAL_PAGES << XC_PAGE_SHIFT,
        .type = E820_RESERVED};
    if (dom->highmem_end)
        e820[n++] = (struct e820entry){.addr = 1ull << 32,
                                       .size = dom->highmem_end - (1ull << 32),
                                       .type = E820_RAM};
    return n;
}

/* Hands the builder the guest's ACPI tables (acpi.h): the tables at
 * XEN_ACPI_BASE, the RSDP in the page after them, where the start info
 * page points (rsdp_paddr: the builder takes module 0's address). */
static int
pvh_acpi(struct xen *x, struct xc_dom_image *dom,
         const struct keel_hv_domain_spec *spec, struct xen_acpi *acpi)
{
    int r = xen_acpi_build(XEN_ACPI_BASE, spec->max_vcpus, acpi);

    if (r == -EINVAL)
        return keel_error(x->ctx, KEEL_EINVAL,
                          "a PVH domain has 1 to %d vCPUs, not %u",
                          XEN_ACPI_MAX_VCPUS, spec->max_vcpus);
    if (r)
        return keel_error(x->ctx, KEEL_ENOMEM, "building ACPI tables");
    /* A Linux kernel without this feature may look for the RSDP only in
     * the BIOS area below 1 MiB, which is RAM in a PVH guest. */
    if (strcmp(xc_dom_guest_os(dom), "linux") == 0 &&
        !xc_dom_feature_get(dom, XENFEAT_linux_rsdp_unrestricted))
        keel_warn(x->ctx,
                  "%s: this Linux kernel does not advertise "
                  "XENFEAT_linux_rsdp_unrestricted: as PVH it may not find "
                  "its ACPI tables",
                  spec->kernel);
    dom->acpi_modules[0] = (struct xc_hvm_firmware_module){
        .data = acpi->rsdp,
        .length = XEN_ACPI_RSDP_LEN,
        .guest_addr_out = (acpi->base + acpi->len + XC_PAGE_SIZE - 1) &
                          ~(uint64_t)(XC_PAGE_SIZE - 1)};
    dom->acpi_modules[1] =
        (struct xc_hvm_firmware_module){.data = acpi->tables,
                                        .length = (uint32_t)acpi->len,
                                        .guest_addr_out = acpi->base};
    return 0;
}

static int
build_image(struct xen *x, uint32_t domid,
            const struct keel_hv_domain_spec *spec, struct xen_rings *r)
{
    bool pvh = spec->type == KEEL_DOMAIN_PVH;
    struct xen_acpi acpi = {0};
    struct e820entry e820[PVH_E820_MAX];
    struct xc_dom_image *dom;
    uint64_t mem_mb = spec->mem_kb / 1024;
    int rc = 0;

    xen_log_clear(&x->log);
    dom = xc_dom_allocate(x->xch, spec->cmdline ? spec->cmdline : "", NULL);
    if (!dom)
        return xen_fail(x, "xc_dom_allocate");
    dom->container_type = pvh ? XC_DOM_HVM_CONTAINER : XC_DOM_PV_CONTAINER;
    dom->flags = 0; /* no SIF_VIRT_P2M_4TOOLS, as Xen's toolstack */
    dom->console_evtchn = r->console_port;
    dom->console_domid = r->console_domid;
    dom->xenstore_evtchn = r->store_port;
    dom->xenstore_domid = r->store_domid;
    dom->max_vcpus = spec->max_vcpus;
#define STEP(call, what)                                                       \
    do {                                                                       \
        if (rc == 0 && (call) != 0)                                            \
            rc = xen_fail(x, "%s (domain %u, kernel %s)", what, domid,         \
                          spec->kernel);                                       \
    } while (0)
    STEP(xc_dom_kernel_file(dom, spec->kernel), "loading the kernel");
    if (spec->ramdisk && spec->ramdisk[0])
        STEP(xc_dom_module_file(dom, spec->ramdisk, NULL),
             "loading the ramdisk");
    STEP(xc_dom_boot_xen_init(dom, x->xch, domid), "xc_dom_boot_xen_init");
    STEP(xc_dom_parse_image(dom), "the kernel is not a Xen guest kernel: "
                                  "xc_dom_parse_image");
    if (rc == 0 && pvh)
        pvh_layout(dom, spec->mem_kb << 10);
    STEP(xc_dom_mem_init(dom, (unsigned int)mem_mb), "xc_dom_mem_init");
    STEP(xc_dom_boot_mem_init(dom), "populating the guest's memory");
    if (rc == 0 && pvh)
        rc = pvh_acpi(x, dom, spec, &acpi);
    if (rc == 0 && pvh) {
        unsigned int n = pvh_memory_map(dom, e820);

        STEP(xc_domain_set_memory_map(x->xch, domid, e820, n),
             "xc_domain_set_memory_map");
        dom->e820 = e820;
        dom->e820_entries = n;
    }
    STEP(xc_dom_build_image(dom), "xc_dom_build_image");
    STEP(xc_dom_boot_image(dom), "xc_dom_boot_image");
    STEP(xc_dom_gnttab_init(dom), "xc_dom_gnttab_init");
#undef STEP
    if (rc == 0) {
        r->store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
        r->console_mfn = xc_dom_p2m(dom, dom->console_pfn);
    }
    /* On our stack or ours to free, not the builder's. */
    dom->e820 = NULL;
    memset(dom->acpi_modules, 0, sizeof(dom->acpi_modules));
    xc_dom_release(dom);
    xen_acpi_dispose(&acpi);
    return rc;
}

/* --- create --- */

static int
grant_version(struct xen *x, uint32_t *v_r)
{
    xc_physinfo_t pi = {0};

    if (xc_physinfo(x->xch, &pi))
        return xen_fail(x, "xc_physinfo");
    *v_r = pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2   ? 2
           : pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1 ? 1
                                                            : 0;
    return 0;
}

/* Limits and settings every domain gets before it is built or restored. */
static int
set_limits(struct xen *x, uint32_t domid,
           const struct keel_hv_domain_spec *spec)
{
    /* createdomain only bounds the vCPUs; this makes them. */
    if (xc_domain_max_vcpus(x->xch, domid, spec->max_vcpus))
        return xen_fail(x, "xc_domain_max_vcpus(%u)", domid);
    if (xc_domain_setmaxmem(x->xch, domid, spec->max_kb + MAXMEM_SLACK_KB))
        return xen_fail(x, "xc_domain_setmaxmem(%u)", domid);
    if (spec->type == KEEL_DOMAIN_PV &&
        xc_domain_set_memmap_limit(x->xch, domid, spec->max_kb))
        return xen_fail(x, "xc_domain_set_memmap_limit(%u)", domid);
    if (xc_domain_set_tsc_info(x->xch, domid, 0 /* default */, 0, 0, 0))
        return xen_fail(x, "xc_domain_set_tsc_info(%u)", domid);
    if (spec->type == KEEL_DOMAIN_PVH) {
        /* The pool Xen's toolstack sizes for hardware paging: 1 MiB per
         * vCPU and 8 KiB per MiB of guest memory (in bytes). */
        uint64_t pool =
            4096ull * (256ull * spec->max_vcpus + 2 * (spec->max_kb / 1024));

        if (xc_hvm_param_set(x->xch, domid, HVM_PARAM_TIMER_MODE,
                             HVMPTM_no_delay_for_missed_ticks))
            return xen_fail(x, "setting the timer mode of %u", domid);
        if (xc_set_paging_mempool_size(x->xch, domid, pool))
            return xen_fail(x, "xc_set_paging_mempool_size(%u)", domid);
    }
    return 0;
}

static int
check_spec(struct xen *x, const struct keel_hv_domain_spec *spec)
{
    if (spec->type == KEEL_DOMAIN_HVM)
        return keel_error(x->ctx, KEEL_ENOTSUP,
                          "HVM guests need a device model (qemu-system-xen), "
                          "which the xen backend does not start: use type "
                          "\"pvh\" or \"pv\"");
    if (spec->type != KEEL_DOMAIN_PV && spec->type != KEEL_DOMAIN_PVH)
        return keel_error(x->ctx, KEEL_EINVAL, "unknown domain type %d",
                          (int)spec->type);
    if (!(spec->flags & KEEL_HV_CREATE_EMPTY) &&
        (!spec->kernel || !spec->kernel[0]))
        return keel_error(x->ctx, KEEL_EINVAL,
                          "a domain on Xen needs a kernel (direct kernel "
                          "boot): set kernel= in its config");
    if (spec->mem_kb < 4096)
        return keel_error(x->ctx, KEEL_ERANGE,
                          "%" PRIu64 " KiB of memory is too little for a "
                          "guest on Xen (4 MiB at least)",
                          spec->mem_kb);
    return 0;
}

int
xen_op_domain_create(struct keel_hv *hv, const struct keel_hv_domain_spec *spec,
                     uint32_t *domid_r)
{
    struct xen *x = xen_of(hv);
    struct xen_domctl_createdomain cfg;
    struct xen_rings rings;
    uint32_t domid, gnt = 0;
    char path[64];
    int rc = check_spec(x, spec);

    if (rc == 0)
        rc = grant_version(x, &gnt);
    if (rc)
        return rc;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.handle, spec->uuid, 16);
    cfg.max_vcpus = spec->max_vcpus;
    cfg.max_evtchn_port = 1023; /* Xen's toolstack's default */
    cfg.max_grant_frames = -1;  /* Xen's defaults */
    cfg.max_maptrack_frames = -1;
    cfg.grant_opts = XEN_DOMCTL_GRANT_version(gnt);
    cfg.cpupool_id = spec->poolid;
    if (spec->type == KEEL_DOMAIN_PVH) {
        cfg.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
        cfg.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    }
    domid = spec->domid == KEEL_DOMID_INVALID ? 0 : spec->domid;
    xen_log_clear(&x->log);
    if (xc_domain_create(x->xch, &domid, &cfg))
        return xen_fail(x, "xc_domain_create");
    rc = store_skeleton(x, domid);
    if (rc == 0)
        rc = set_limits(x, domid, spec);
    if (rc == 0 && !(spec->flags & KEEL_HV_CREATE_EMPTY)) {
        if (xc_cpuid_apply_policy(x->xch, domid, false, NULL, 0, true, false,
                                  false, NULL, NULL))
            rc = xen_fail(x, "xc_cpuid_apply_policy(%u)", domid);
        if (rc == 0)
            rc = xen_rings_alloc(x, x->xch, x->xsh, domid, &rings);
        if (rc == 0)
            rc = build_image(x, domid, spec, &rings);
        if (rc == 0)
            rc = xen_rings_publish(x, x->xsh, domid, &rings);
    }
    if (rc) {
        (void)xc_domain_destroy(x->xch, domid);
        snprintf(path, sizeof(path), "/local/domain/%u", domid);
        (void)xs_rm(x->xsh, XBT_NULL, path);
        return rc;
    }
    *domid_r = domid;
    return 0;
}
