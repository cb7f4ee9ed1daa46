/* json-table.c: the tables of the JSON codec, which the reader and the
 * writer both walk (see json.h), and the helpers both sides use on them
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* --- names, in libxl's spelling ------------------------------------- */

const struct keel__jname keel__jnames_type[] = {
    {KEEL_DOMAIN_HVM, "hvm"}, {KEEL_DOMAIN_PV, "pv"},
    {KEEL_DOMAIN_PVH, "pvh"}, {0, NULL}};

static const struct keel__jname action_names[] = {
    {KEEL_ACTION_DESTROY, "destroy"},
    {KEEL_ACTION_RESTART, "restart"},
    {KEEL_ACTION_RENAME_RESTART, "restart_rename"},
    {KEEL_ACTION_PRESERVE, "preserve"},
    {KEEL_ACTION_COREDUMP_DESTROY, "coredump_destroy"},
    {KEEL_ACTION_COREDUMP_RESTART, "coredump_restart"},
    {KEEL_ACTION_SOFT_RESET, "soft_reset"},
    {0, NULL}};

static const struct keel__jname tsc_names[] = {
    {KEEL_TSC_DEFAULT, "default"},
    {KEEL_TSC_ALWAYS_EMULATE, "always_emulate"},
    {KEEL_TSC_NATIVE, "native"},
    {KEEL_TSC_NATIVE_PARAVIRT, "native_paravirt"},
    {0, NULL}};

static const struct keel__jname format_names[] = {
    {KEEL_DISK_FORMAT_QCOW, "qcow"}, {KEEL_DISK_FORMAT_QCOW2, "qcow2"},
    {KEEL_DISK_FORMAT_VHD, "vhd"},   {KEEL_DISK_FORMAT_RAW, "raw"},
    {KEEL_DISK_FORMAT_EMPTY, "empty"}, {KEEL_DISK_FORMAT_QED, "qed"},
    {0, NULL}};

static const struct keel__jname backend_names[] = {
    {KEEL_DISK_BACKEND_PHY, "phy"},
    {KEEL_DISK_BACKEND_TAP, "tap"},
    {KEEL_DISK_BACKEND_QDISK, "qdisk"},
    {KEEL_DISK_BACKEND_STANDALONE, "standalone"},
    {0, NULL}};

static const struct keel__jname nictype_names[] = {
    {KEEL_VIF_TYPE_IOEMU, "vif_ioemu"}, {KEEL_VIF_TYPE_VIF, "vif"}, {0, NULL}};

/* --- the tables ----------------------------------------------------- */

#define FIELD(k, kd, T, m, fl) {.key = k, .kind = kd, .flags = fl,             \
                                .off = offsetof(T, m)}
#define RANGE(k, T, m, lo, hi, fl)                                             \
    {.key = k, .kind = KEEL__JK_I64, .flags = fl, .off = offsetof(T, m),       \
     .min = lo, .max = hi}
#define NAMES(k, T, m, names)                                                  \
    {.key = k, .kind = KEEL__JK_ENUM, .off = offsetof(T, m), .aux = names}
#define SPECIAL(k, r, w, fl)                                                   \
    {.key = k, .kind = KEEL__JK_SPECIAL, .flags = fl, .read = r, .write = w}
#define OBJECT(k, tab) {.key = k, .kind = KEEL__JK_OBJ, .aux = &tab}
#define TAB(fields, libxl) {fields, ARRAY_SIZE(fields), libxl}

#define DOM struct keel_domain_config
#define DISK struct keel_disk_config
#define NIC struct keel_vif_config

static const struct keel__jfield c_info_fields[] = {
    NAMES("type", DOM, type, keel__jnames_type),
    FIELD("hap", KEEL__JK_DEFBOOL, DOM, hap, 0),
    FIELD("name", KEEL__JK_STR, DOM, name, 0),
    FIELD("uuid", KEEL__JK_UUID, DOM, uuid, 0),
    FIELD("pool_name", KEEL__JK_STR, DOM, pool, 0),
};
static const char *const c_info_libxl[] = {
    "oos", "ssidref", "ssid_label", "domid", "xsdata", "platformdata",
    "poolid", "run_hotplug_scripts", "driver_domain", "passthrough",
    "xend_suspend_evtchn_compat", NULL};
static const struct keel__jtab c_info_tab = TAB(c_info_fields, c_info_libxl);

static const struct keel__jfield sched_fields[] = {
    RANGE("weight", DOM, cpu_weight, 1, 65535, KEEL__JF_NEG1),
    RANGE("cap", DOM, cap, 0, 65535, KEEL__JF_NEG1),
    RANGE("period", DOM, rtds_period, 1, INT32_MAX, KEEL__JF_NEG1),
    RANGE("budget", DOM, rtds_budget, 1, INT32_MAX, KEEL__JF_NEG1),
};
static const char *const sched_libxl[] = {"sched", "extratime", "slice",
                                          "latency", NULL};
static const struct keel__jtab sched_tab = TAB(sched_fields, sched_libxl);

static const struct keel__jfield b_info_fields[] = {
    RANGE("max_vcpus", DOM, maxvcpus, 1, KEEL_MAX_CPUS, 0),
    SPECIAL("avail_vcpus", keel__jread_vcpus, keel__jwrite_vcpus, 0),
    SPECIAL("cpumap", keel__jread_cpumap, keel__jwrite_cpumap, 0),
    SPECIAL("vcpu_hard_affinity", keel__jread_hard, keel__jwrite_hard, 0),
    SPECIAL("vcpu_soft_affinity", keel__jread_soft, keel__jwrite_soft, 0),
    NAMES("tsc_mode", DOM, tsc_mode, tsc_names),
    RANGE("max_memkb", DOM, maxmem_kb, 0, INT64_MAX, 0),
    RANGE("target_memkb", DOM, memory_kb, 0, INT64_MAX, 0),
    SPECIAL("rtc_timeoffset", keel__jread_rtc, keel__jwrite_rtc, 0),
    FIELD("localtime", KEEL__JK_DEFBOOL, DOM, localtime, 0),
    FIELD("disable_migrate", KEEL__JK_DEFBOOL, DOM, nomigrate, 0),
    RANGE("max_grant_frames", DOM, max_grant_frames, 0, UINT32_MAX, 0),
    OBJECT("sched_params", sched_tab),
    RANGE("event_channels", DOM, max_event_channels, 0, UINT32_MAX, 0),
    FIELD("kernel", KEEL__JK_STR, DOM, kernel, 0),
    FIELD("cmdline", KEEL__JK_STR, DOM, cmdline, 0),
    FIELD("ramdisk", KEEL__JK_STR, DOM, ramdisk, 0),
    FIELD("acpi", KEEL__JK_DEFBOOL, DOM, acpi, 0),
    FIELD("bootloader", KEEL__JK_STR, DOM, bootloader, 0),
    FIELD("bootloader_args", KEEL__JK_STRV, DOM, bootloader_args, 0),
    FIELD("apic", KEEL__JK_DEFBOOL, DOM, apic, 0),
    SPECIAL("type.hvm", keel__jread_union, keel__jwrite_union, KEEL__JF_FIRST),
    SPECIAL("type.pv", keel__jread_union, NULL, KEEL__JF_FIRST),
    SPECIAL("type.pvh", keel__jread_union, NULL, KEEL__JF_FIRST),
};
static const char *const b_info_libxl[] = {
    "nodemap", "numa_placement", "video_memkb", "shadow_memkb",
    "iommu_memkb", "exec_ssidref", "exec_ssid_label", "cpuid",
    "blkdev_start", "vnuma_nodes", "max_maptrack_frames",
    "max_grant_version", "device_model*", "stubdomain_*", "extra",
    "extra_pv", "extra_hvm", "ioports", "irqs", "iomem", "claim_mode",
    "device_tree", "bootloader_restrict", "bootloader_user", "timer_mode",
    "nested_hvm", "dm_restrict", "tee", "arch_arm", "arch_x86", "altp2m",
    "vmtrace_buf_kb", "vpmu", NULL};
static const struct keel__jtab b_info_tab = TAB(b_info_fields, b_info_libxl);

static const struct keel__jfield hvm_fields[] = {
    FIELD("firmware", KEEL__JK_STR, DOM, firmware, 0),
    FIELD("pae", KEEL__JK_DEFBOOL, DOM, pae, 0),
    FIELD("acpi", KEEL__JK_DEFBOOL, DOM, acpi, KEEL__JF_ALIAS),
    FIELD("apic", KEEL__JK_DEFBOOL, DOM, apic, KEEL__JF_ALIAS),
    FIELD("viridian", KEEL__JK_DEFBOOL, DOM, viridian, 0),
    FIELD("hpet", KEEL__JK_DEFBOOL, DOM, hpet, 0),
    FIELD("boot", KEEL__JK_STR, DOM, boot, 0),
};
static const char *const hvm_libxl[] = {
    "bios", "acpi_s3", "acpi_s4", "acpi_laptop_slate", "nx",
    "viridian_enable", "viridian_disable", "timeoffset", "vpt_align",
    "mmio_hole_memkb", "timer_mode", "nested_hvm", "altp2m",
    "system_firmware", "smbios_firmware", "smbios", "acpi_firmware",
    "hdtype", "nographic", "vga", "vnc", "keymap", "sdl", "spice",
    "gfx_passthru", "gfx_passthru_kind", "serial", "usb", "usbversion",
    "usbdevice", "vkb_device", "soundhw", "xen_platform_pci",
    "usbdevice_list", "vendor_device", "ms_vm_genid", "serial_list", "rdm",
    "rdm_mem_boundary_memkb", "mca_caps", "pirq", NULL};
static const struct keel__jtab hvm_tab = TAB(hvm_fields, hvm_libxl);

static const struct keel__jfield pv_fields[] = {
    FIELD("kernel", KEEL__JK_STR, DOM, kernel, KEEL__JF_ALIAS),
    FIELD("bootloader", KEEL__JK_STR, DOM, bootloader, KEEL__JF_ALIAS),
    FIELD("bootloader_args", KEEL__JK_STRV, DOM, bootloader_args,
          KEEL__JF_ALIAS),
    FIELD("cmdline", KEEL__JK_STR, DOM, cmdline, KEEL__JF_ALIAS),
    FIELD("ramdisk", KEEL__JK_STR, DOM, ramdisk, KEEL__JF_ALIAS),
};
static const char *const pv_libxl[] = {"slack_memkb", "features",
                                       "e820_host", NULL};
static const struct keel__jtab pv_tab = TAB(pv_fields, pv_libxl);

static const char *const pvh_libxl[] = {"pvshim*", NULL};
static const struct keel__jtab pvh_tab = {NULL, 0, pvh_libxl};

static const struct keel__jfield disk_fields[] = {
    FIELD("backend_domname", KEEL__JK_STR, DISK, backend, 0),
    FIELD("pdev_path", KEEL__JK_STR, DISK, target, 0),
    FIELD("vdev", KEEL__JK_STR, DISK, vdev, 0),
    NAMES("backend", DISK, backendtype, backend_names),
    NAMES("format", DISK, format, format_names),
    FIELD("script", KEEL__JK_STR, DISK, script, 0),
    SPECIAL("removable", keel__jread_removable, keel__jwrite_removable, 0),
    SPECIAL("readwrite", keel__jread_readwrite, keel__jwrite_readwrite, 0),
    SPECIAL("is_cdrom", keel__jread_cdrom, keel__jwrite_cdrom, 0),
    FIELD("direct_io_safe", KEEL__JK_BOOL, DISK, direct_io_safe, 0),
    FIELD("discard_enable", KEEL__JK_DEFBOOL, DISK, discard, 0),
    FIELD("trusted", KEEL__JK_DEFBOOL, DISK, trusted, 0),
};
static const char *const disk_libxl[] = {
    "backend_domid", "specification", "transport", "irq", "base", "colo_*",
    "active_disk", "hidden_disk", NULL};
const struct keel__jtab keel__jtab_disk = TAB(disk_fields, disk_libxl);

static const struct keel__jfield nic_fields[] = {
    FIELD("backend_domname", KEEL__JK_STR, NIC, backend, 0),
    RANGE("devid", NIC, devid, 0, INT32_MAX, KEEL__JF_NEG1),
    RANGE("mtu", NIC, mtu, 1, 65535, 0),
    FIELD("model", KEEL__JK_STR, NIC, model, 0),
    FIELD("mac", KEEL__JK_MAC, NIC, mac, 0),
    FIELD("ip", KEEL__JK_STR, NIC, ip, 0),
    FIELD("bridge", KEEL__JK_STR, NIC, bridge, 0),
    FIELD("ifname", KEEL__JK_STR, NIC, vifname, 0),
    FIELD("script", KEEL__JK_STR, NIC, script, 0),
    NAMES("nictype", NIC, type, nictype_names),
    SPECIAL("rate_bytes_per_interval", keel__jread_rate_bpi, keel__jwrite_rate,
            0),
    SPECIAL("rate_interval_usecs", keel__jread_rate_us, NULL, 0),
    FIELD("gatewaydev", KEEL__JK_STR, NIC, gatewaydev, 0),
};
static const char *const nic_libxl[] = {"backend_domid", "colo_*",
                                        "coloft_forwarddev", NULL};
const struct keel__jtab keel__jtab_nic = TAB(nic_fields, nic_libxl);

static const struct keel__jfield keel_nic_fields[] = {
    SPECIAL("rate_bytes_per_sec", keel__jread_exact_rate, NULL, 0),
};
const struct keel__jtab keel__jtab_keel_nic = TAB(keel_nic_fields, NULL);

static const struct keel__jfield keel_fields[] = {
    FIELD("root", KEEL__JK_STR, DOM, root, 0),
    FIELD("extra", KEEL__JK_STR, DOM, extra, 0),
    SPECIAL("cpus", keel__jread_keel_cpus, keel__jwrite_keel_cpus, 0),
    SPECIAL("cpus_soft", keel__jread_keel_cpus_soft,
            keel__jwrite_keel_cpus_soft, 0),
    FIELD("firmware", KEEL__JK_STR, DOM, firmware,
          KEEL__JF_NOT_HVM | KEEL__JF_ONCE),
    FIELD("boot", KEEL__JK_STR, DOM, boot, KEEL__JF_NOT_HVM | KEEL__JF_ONCE),
    FIELD("pae", KEEL__JK_DEFBOOL, DOM, pae, KEEL__JF_NOT_HVM | KEEL__JF_ONCE),
    FIELD("viridian", KEEL__JK_DEFBOOL, DOM, viridian,
          KEEL__JF_NOT_HVM | KEEL__JF_ONCE),
    FIELD("hpet", KEEL__JK_DEFBOOL, DOM, hpet,
          KEEL__JF_NOT_HVM | KEEL__JF_ONCE),
    SPECIAL("nics", keel__jread_keel_nics, keel__jwrite_keel_nics, 0),
};
static const struct keel__jtab keel_tab = TAB(keel_fields, NULL);

static const struct keel__jfield top_fields[] = {
    OBJECT("c_info", c_info_tab),
    OBJECT("b_info", b_info_tab),
    SPECIAL("disks", keel__jread_disks, keel__jwrite_disks, 0),
    SPECIAL("nics", keel__jread_nics, keel__jwrite_nics, 0),
    NAMES("on_poweroff", DOM, on[KEEL_ON_POWEROFF], action_names),
    NAMES("on_reboot", DOM, on[KEEL_ON_REBOOT], action_names),
    NAMES("on_watchdog", DOM, on[KEEL_ON_WATCHDOG], action_names),
    NAMES("on_crash", DOM, on[KEEL_ON_CRASH], action_names),
    NAMES("on_soft_reset", DOM, on[KEEL_ON_SOFT_RESET], action_names),
    OBJECT("keel", keel_tab),
};
static const char *const top_libxl[] = {
    "pcidevs", "rdms", "dtdevs", "vfbs", "vkbs", "virtios", "vtpms", "p9s",
    "pvcallsifs", "vdispls", "vsnds", "channels", "usbctrls", "usbdevs",
    NULL};
const struct keel__jtab keel__jtab_top = TAB(top_fields, top_libxl);

/* --- what reader and writer both use ---------------------------------- */

const struct keel__jtab *
keel__jtab_union(int type)
{
    return type == KEEL_DOMAIN_HVM ? &hvm_tab
           : type == KEEL_DOMAIN_PV ? &pv_tab
                                    : &pvh_tab;
}

const char *
keel__jname_of(const struct keel__jname *names, int value)
{
    for (; names->name; names++)
        if (names->value == value)
            return names->name;
    return NULL;
}

bool
keel__jfield_is_set(const struct keel__jfield *f, const void *base)
{
    switch (f->kind) {
    case KEEL__JK_STR:
        return *KEEL__JCAT(base, f, char *) != NULL;
    case KEEL__JK_I64:
        return *KEEL__JCAT(base, f, int64_t) != KEEL_UNSET;
    case KEEL__JK_DEFBOOL:
    case KEEL__JK_BOOL:
        return *KEEL__JCAT(base, f, int) != KEEL_UNSET;
    case KEEL__JK_ENUM:
        return *KEEL__JCAT(base, f, int) != 0;
    case KEEL__JK_UUID:
        return keel__uuid_is_set(KEEL__JCAT(base, f, uint8_t));
    case KEEL__JK_MAC:
        return keel__mac_is_set(KEEL__JCAT(base, f, uint8_t));
    case KEEL__JK_STRV:
        return *KEEL__JCAT(base, f, char **) != NULL;
    default:
        return false;
    }
}

/* Bytes per interval from bytes per second, rounded down, and back,
 * rounded up: see json.h for why. */
uint64_t
keel__jrate_per_interval(int64_t bps, int64_t us)
{
    return (uint64_t)((unsigned __int128)bps * (uint64_t)us / KEEL__US_PER_S);
}

unsigned __int128
keel__jrate_per_sec(uint64_t bpi, int64_t us)
{
    return ((unsigned __int128)bpi * KEEL__US_PER_S + (uint64_t)us - 1) /
           (uint64_t)us;
}
