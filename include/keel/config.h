/* config.h: one domain configuration model and its three formats
 *
 * struct keel_domain_config is what a domain is asked to be. It is read
 * from and written to xl.cfg (what `xl create` takes), JSON (the field
 * names and nesting of libxl's libxl_domain_config, as `xl list -l`
 * prints it) and libvirt domain XML (<domain type='xen'>). A conversion
 * between two formats always goes through this model.
 *
 * Unset is a value. Every field starts unset (KEEL_UNSET for numbers and
 * tristates, 0 for enums, NULL for strings, an all-zero uuid or mac) and a
 * reader sets only what its input says, so a config written back out says
 * what the user wrote and nothing more. Defaults are filled by an
 * explicit step, keel_domain_config_set_defaults(), as libxl does with
 * its *_setdefault functions; libkeel calls it when it creates a domain.
 *
 * Checklist when adding a field: the schema table and
 * keel_domain_config_set_defaults (lib/config/model.c), the xl.cfg reader
 * and writer (lib/config/xlcfg.c), the JSON codec (lib/config/json.c),
 * the XML codec (lib/config/xml.c, or its "not expressible" error),
 * fixtures under tests/data/config/, docs/man/keel-config.5.
 *
 * Threads: the functions below touch only their arguments; the usual
 * keel_ctx rules apply to the ctx they take.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/hv.h>
#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The unset value of numeric and tristate (-1/0/1) fields. */
#define KEEL_UNSET (-1)

/* Inputs larger than this are refused with KEEL_E2BIG before parsing. */
#define KEEL_CONFIG_MAX_SIZE (1u << 20)
/* At most this many disks, vifs, per-vCPU affinities or bootloader
 * arguments; more is KEEL_ERANGE. */
#define KEEL_CONFIG_MAX_ITEMS 256

/* What the toolstack does when the guest stops for a reason (xl's
 * on_poweroff/on_reboot/on_watchdog/on_crash/on_soft_reset). */
enum keel_action {
    KEEL_ACTION_UNSET = 0,
    KEEL_ACTION_DESTROY = 1,
    KEEL_ACTION_RESTART = 2,
    KEEL_ACTION_RENAME_RESTART = 3,
    KEEL_ACTION_PRESERVE = 4,
    KEEL_ACTION_COREDUMP_DESTROY = 5,
    KEEL_ACTION_COREDUMP_RESTART = 6,
    KEEL_ACTION_SOFT_RESET = 7,
};

/* Index of the five on_* actions in keel_domain_config.on[]. */
enum keel_event {
    KEEL_ON_POWEROFF = 0,
    KEEL_ON_REBOOT = 1,
    KEEL_ON_WATCHDOG = 2,
    KEEL_ON_CRASH = 3,
    KEEL_ON_SOFT_RESET = 4,
    KEEL_ON_COUNT = 5,
};

enum keel_tsc_mode {
    KEEL_TSC_UNSET = 0,
    KEEL_TSC_DEFAULT = 1,
    KEEL_TSC_ALWAYS_EMULATE = 2,
    KEEL_TSC_NATIVE = 3,
    KEEL_TSC_NATIVE_PARAVIRT = 4,
};

enum keel_disk_format {
    KEEL_DISK_FORMAT_UNSET = 0,
    KEEL_DISK_FORMAT_RAW = 1,
    KEEL_DISK_FORMAT_QCOW = 2,
    KEEL_DISK_FORMAT_QCOW2 = 3,
    KEEL_DISK_FORMAT_VHD = 4,
    KEEL_DISK_FORMAT_QED = 5,
    KEEL_DISK_FORMAT_EMPTY = 6, /* a cdrom drive with no medium */
};

enum keel_disk_access {
    KEEL_DISK_ACCESS_UNSET = 0,
    KEEL_DISK_ACCESS_RW = 1,
    KEEL_DISK_ACCESS_RO = 2,
};

enum keel_disk_backendtype {
    KEEL_DISK_BACKEND_UNSET = 0,
    KEEL_DISK_BACKEND_PHY = 1,
    KEEL_DISK_BACKEND_TAP = 2,
    KEEL_DISK_BACKEND_QDISK = 3,
    KEEL_DISK_BACKEND_STANDALONE = 4,
};

/* One disk (xl-disk-configuration(5)). */
struct keel_disk_config {
    char *target; /* image, device or "" for an empty cdrom; libxl's
                     pdev_path */
    enum keel_disk_format format;
    char *vdev; /* xvda, hda, sdb, ...: mandatory */
    enum keel_disk_access access;
    bool cdrom;    /* devtype=cdrom */
    char *backend; /* the backend domain's name */
    enum keel_disk_backendtype backendtype;
    char *script;
    int direct_io_safe; /* tristate */
    int discard;        /* tristate: discard / no-discard */
    int trusted;        /* tristate: trusted / untrusted */
};

enum keel_vif_type {
    KEEL_VIF_TYPE_UNSET = 0,
    KEEL_VIF_TYPE_IOEMU = 1, /* emulated NIC plus PV (HVM) */
    KEEL_VIF_TYPE_VIF = 2,   /* PV only */
};

/* One network interface (xl-network-configuration(5)). */
struct keel_vif_config {
    uint8_t mac[6]; /* all zero: unset */
    char *bridge;
    char *ip;    /* one or more addresses separated by spaces */
    char *model; /* emulated NIC model: rtl8139, e1000, ... */
    enum keel_vif_type type;
    char *vifname;
    char *script;
    char *backend; /* the backend domain's name */
    char *gatewaydev;
    /* rate=: bytes per second over a replenish interval. Both KEEL_UNSET
     * or both set; rate_interval_us is at most 1 s. */
    int64_t rate_bytes_per_sec;
    int64_t rate_interval_us;
    int64_t mtu;
    int64_t devid;
};

/* CPU affinity as xl writes it: one spec for every vCPU ("all",
 * "0-3,5,^1", "nodes:0-1,^node:1", ...) or one per vCPU. Specs are kept
 * in keel's canonical spelling (see keel_cpuspec_normalize) and resolved
 * against the host's topology only when the domain is created. */
struct keel_affinity_config {
    char **specs;       /* NULL when unset */
    unsigned int count; /* number of specs */
    bool per_vcpu;      /* written as a list: specs[i] is vCPU i's */
};

struct keel_domain_config {
    /* identity */
    char *name;
    uint8_t uuid[16]; /* all zero: unset */
    enum keel_domain_type type;
    char *pool;

    /* memory, in KiB */
    int64_t memory_kb;
    int64_t maxmem_kb;

    /* vCPUs and scheduling */
    int64_t vcpus;
    int64_t maxvcpus;
    struct keel_affinity_config cpus;
    struct keel_affinity_config cpus_soft;
    int64_t cpu_weight;  /* credit/credit2: 1..65535 */
    int64_t cap;         /* % of one pCPU, 0 = no cap */
    int64_t rtds_period; /* RTDS, microseconds */
    int64_t rtds_budget; /* RTDS, microseconds, <= period */

    /* boot */
    char *kernel;
    char *ramdisk;
    char *cmdline; /* wins over root and extra */
    char *root;
    char *extra;
    char *bootloader;
    char **bootloader_args; /* NULL-terminated, NULL when unset */
    char *firmware;
    char *boot; /* HVM boot order: "c", "dc", ... */

    /* what happens when the guest stops */
    enum keel_action on[KEEL_ON_COUNT];

    /* devices */
    struct keel_disk_config *disks;
    unsigned int num_disks;
    struct keel_vif_config *vifs;
    unsigned int num_vifs;

    /* platform */
    int nomigrate; /* tristate */
    enum keel_tsc_mode tsc_mode;
    int64_t max_grant_frames;
    int64_t max_event_channels;
    int localtime;          /* tristate */
    int64_t rtc_timeoffset; /* seconds, may be negative */
    int pae;                /* HVM feature tristates */
    int acpi;
    int apic;
    int hap;
    int viridian;
    int hpet;
};

/* The formats, for the generic read and write calls. */
enum keel_config_format {
    KEEL_CONFIG_XL = 1,
    KEEL_CONFIG_JSON = 2,
    KEEL_CONFIG_XML = 3,
};

/* Makes every field unset; after it dispose is a no-op. Thread: any. */
void keel_domain_config_init(struct keel_domain_config *cfg);

/* Frees what cfg owns (not cfg) and leaves it initialised; idempotent.
 * Thread: any. */
void keel_domain_config_dispose(struct keel_domain_config *cfg);

/* Makes *dst, which must be initialised, a deep copy of *src (disposing
 * what dst held). Returns 0 or KEEL_ENOMEM, leaving dst initialised. */
int keel_domain_config_copy(struct keel_ctx *ctx,
                            struct keel_domain_config *dst,
                            const struct keel_domain_config *src);

/* True when a and b hold the same values (unset equals only unset). */
bool keel_domain_config_equal(const struct keel_domain_config *a,
                              const struct keel_domain_config *b);

/* Fills every unset field with its default, as libxl does before it
 * builds a domain: type pv, memory 32 MiB (maxmem = memory), vcpus 1
 * (maxvcpus = vcpus), a random uuid, credit weight 256, cap 0, the on_*
 * defaults (destroy, restart, destroy, destroy, soft-reset), cmdline from
 * root and extra, disk format raw and access rw (ro for cdroms), vif
 * bridge xenbr0, script vif-bridge, devid = index and a mac in 00:16:3e
 * derived from the uuid and devid. Then checks what only the whole config
 * can show: a name is given, maxmem >= memory, maxvcpus >= vcpus, per-vCPU
 * affinities do not outnumber maxvcpus, vdevs and devids are unique.
 * flags: none defined, must be 0.
 * Returns 0, KEEL_EINVAL (naming the key) or KEEL_ENOMEM. */
int keel_domain_config_set_defaults(struct keel_ctx *ctx,
                                    struct keel_domain_config *cfg,
                                    unsigned int flags);

/* The command line the guest gets: cmdline when set, else "root=ROOT
 * EXTRA" built from root and extra, else NULL. Free the result. Returns 0
 * or KEEL_ENOMEM. */
int keel_domain_config_cmdline(struct keel_ctx *ctx,
                               const struct keel_domain_config *cfg,
                               char **cmdline_r);

/* "xl", "json" or "xml" (and "cfg" for xl) to a format, or KEEL_EINVAL. */
int keel_config_format_parse(const char *name);
const char *keel_config_format_name(enum keel_config_format format);

/* Reads a configuration from buf (len bytes; need not be NUL-terminated)
 * into *cfg, which must be initialised; it is disposed first. file names
 * the input in messages ("-" or NULL: "<stdin>"). overrides is a
 * NULL-terminated list of xl.cfg statements ("memory=512", as `xl create`
 * takes them after the file), applied after the file (xl only; must be
 * NULL for JSON and XML). flags: none defined, must be 0.
 *
 * Errors name file:line:column and the key or element: KEEL_ESYNTAX for
 * malformed text, KEEL_EINVAL for a value of the wrong type or range or
 * a setting keel does not support, KEEL_E2BIG for input over
 * KEEL_CONFIG_MAX_SIZE, KEEL_ERANGE over KEEL_CONFIG_MAX_ITEMS.
 * Unknown xl.cfg keys and JSON fields are logged as warnings, by name.
 * On failure *cfg is left initialised (empty). */
int keel_domain_config_read(struct keel_ctx *ctx,
                            enum keel_config_format format, const char *file,
                            const char *buf, size_t len,
                            const char *const *overrides, unsigned int flags,
                            struct keel_domain_config *cfg);

/* As keel_domain_config_read on the contents of path ("-": stdin).
 * KEEL_ENOENT / -errno when it cannot be read. */
int keel_domain_config_read_file(struct keel_ctx *ctx,
                                 enum keel_config_format format,
                                 const char *path, const char *const *overrides,
                                 unsigned int flags,
                                 struct keel_domain_config *cfg);

/* Writes cfg in format into a new NUL-terminated string *text_r (free
 * it), ending in a newline; only set fields are written. Reading the
 * text back gives a config equal to cfg. A value the format cannot
 * express (an xl.cfg memory that is not whole MiB, ...) is KEEL_EINVAL
 * naming it, never a silent drop. flags: none defined, must be 0.
 * Returns 0, KEEL_EINVAL or KEEL_ENOMEM. */
int keel_domain_config_write(struct keel_ctx *ctx,
                             enum keel_config_format format,
                             const struct keel_domain_config *cfg,
                             unsigned int flags, char **text_r);

/* Names of enum values in xl.cfg's spelling ("rename-restart",
 * "always_emulate", "qcow2", "ioemu", ...), NULL for unset or unknown;
 * and back (KEEL_EINVAL for unknown). */
const char *keel_action_name(enum keel_action action);
int keel_action_parse(const char *name);
const char *keel_event_name(enum keel_event event); /* "on_poweroff" */
const char *keel_tsc_mode_name(enum keel_tsc_mode mode);
int keel_tsc_mode_parse(const char *name);
const char *keel_disk_format_name(enum keel_disk_format format);
int keel_disk_format_parse(const char *name);
const char *keel_disk_backendtype_name(enum keel_disk_backendtype type);
int keel_disk_backendtype_parse(const char *name);

/* CPU affinity specs, in xl's syntax: "all", or a comma-separated list of
 * terms "N", "N-M", "node:N", "nodes:N-M", each optionally negated with
 * "^" (the first term may not be negated). Writes the canonical spelling
 * (ranges merged where the text allows it, "nodes:" for a range, "node:"
 * for one node) into a new string *spec_r. Returns 0, KEEL_EINVAL with
 * a message naming the offending term, or KEEL_ENOMEM. */
int keel_cpuspec_normalize(struct keel_ctx *ctx, const char *spec,
                           char **spec_r);

/* Resolves a spec against a host: node_cpus[n] is node n's CPUs, nr_cpus
 * the host's CPU count. Returns 0, or KEEL_EINVAL (a CPU or node the host
 * lacks, or an empty result). */
int keel_cpuspec_resolve(struct keel_ctx *ctx, const char *spec,
                         unsigned int nr_cpus,
                         const struct keel_cpumap *node_cpus,
                         unsigned int nr_nodes, struct keel_cpumap *map_r);

/* Parses and formats a MAC address "xx:xx:xx:xx:xx:xx". */
int keel_mac_parse(const char *text, uint8_t mac[6]);
void keel_mac_format(const uint8_t mac[6], char buf[18]);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_CONFIG_H */
