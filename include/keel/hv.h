/* hv.h: the hypervisor interface, libkeel's only door to a hypervisor
 *
 * A backend fills a struct keel_hv_ops; libkeel and tests reach it through
 * the keel_hv_* wrappers below, which check arguments shared by every
 * backend, turn a NULL slot into KEEL_ENOTSUP and serialise calls with a
 * per-handle lock, so a struct keel_hv may be used from several threads.
 *
 * The operations are shaped after what Xen's low-level libraries give a
 * toolstack, so that the xen backend is a thin mapping and the sim backend
 * models the same behaviour. Each op's comment names the call it maps to in
 * xenctrl.h (xc_*), xenstore.h (xs_*), xenguest.h, xenforeignmemory.h or
 * xenevtchn.h as shipped by Debian's libxen-dev (Xen 4.17).
 *
 * As on Xen, the hypervisor knows domains by domid and uuid only: names
 * and CPU pool names live in the store (/local/domain/N/name,
 * /local/pool/N/name), written by the toolstack. A domain's memory target
 * and online vCPUs are requests the guest follows (memory/target,
 * cpu/N/availability in its store directory), not hypervisor calls.
 *
 * Checklist when adding an op: the slot and its comment here, the wrapper
 * in lib/hv/hv.c, the sim backend (or a NULL slot), the xen backend, the
 * unit test in tests/unit/, and docs/architecture.md if it changes a layer.
 */
#ifndef KEEL_HV_H
#define KEEL_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Domain ids: Xen's DOMID_FIRST_RESERVED and DOMID_INVALID. Ordinary
 * domains are 1..KEEL_DOMID_FIRST_RESERVED-1; 0 is Domain-0. */
#define KEEL_DOMID_FIRST_RESERVED 0x7FF0u
#define KEEL_DOMID_INVALID 0x7FF4u
#define KEEL_POOLID_ANY 0xFFFFFFFFu
#define KEEL_PAGE_SHIFT 12
#define KEEL_PAGE_SIZE (1u << KEEL_PAGE_SHIFT)

enum keel_domain_type {
    KEEL_DOMAIN_PV = 1,
    KEEL_DOMAIN_PVH = 2,
    KEEL_DOMAIN_HVM = 3,
};

/* Xen's SHUTDOWN_* codes (public/sched.h). */
enum keel_shutdown_reason {
    KEEL_SHUTDOWN_POWEROFF = 0,
    KEEL_SHUTDOWN_REBOOT = 1,
    KEEL_SHUTDOWN_SUSPEND = 2,
    KEEL_SHUTDOWN_CRASH = 3,
    KEEL_SHUTDOWN_WATCHDOG = 4,
    KEEL_SHUTDOWN_SOFT_RESET = 5,
};

/* Xen's XEN_SCHEDULER_* ids (public/domctl.h). */
enum keel_scheduler {
    KEEL_SCHED_UNKNOWN = 0,
    KEEL_SCHED_CREDIT = 5,
    KEEL_SCHED_CREDIT2 = 6,
    KEEL_SCHED_RTDS = 8,
    KEEL_SCHED_NULL = 9,
};

/* "pv", "pvh", "hvm" / "poweroff", "reboot", ... / "credit", "credit2",
 * "rtds", "null". Names return NULL for an unknown value; parsers return
 * the value or KEEL_EINVAL. */
const char *keel_domain_type_name(enum keel_domain_type type);
int keel_domain_type_parse(const char *name);
const char *keel_shutdown_reason_name(enum keel_shutdown_reason reason);
int keel_shutdown_reason_parse(const char *name);
const char *keel_scheduler_name(enum keel_scheduler sched);
int keel_scheduler_parse(const char *name);

/* Formats a 16-byte uuid as 8-4-4-4-12 lower-case hex into buf[37]. */
void keel_uuid_format(const uint8_t uuid[16], char buf[37]);
/* Parses 8-4-4-4-12 hex (either case). Returns 0 or KEEL_EINVAL. */
int keel_uuid_parse(const char *text, uint8_t uuid[16]);
/* Fills uuid with a random version-4 uuid. Returns 0 or KEEL_EIO. */
int keel_uuid_generate(uint8_t uuid[16]);

struct keel_hv_physinfo {
    uint32_t nr_cpus; /* physical CPUs */
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_sockets;
    uint32_t nr_nodes; /* NUMA nodes */
    uint32_t cpu_khz;
    uint64_t total_kb; /* host memory */
    uint64_t free_kb;  /* not charged to any domain */
    uint32_t xen_major, xen_minor;
    char xen_extra[16];     /* e.g. ".0" or "-sim" */
    char capabilities[128]; /* e.g. "xen-3.0-x86_64 hvm-3.0-x86_64" */
};

struct keel_hv_cputopo {
    uint32_t core, socket, node;
};

struct keel_hv_numainfo {
    uint64_t size_kb, free_kb;
};

/* keel_hv_domain_spec.flags */
/* Create the domain without memory or a kernel: a restore fills it
 * (keel_hv_image_restore). Backends without image ops ignore it. */
#define KEEL_HV_CREATE_EMPTY (1u << 0)

/* What a new domain is made of. */
struct keel_hv_domain_spec {
    enum keel_domain_type type;
    uint8_t uuid[16];
    uint32_t max_vcpus;    /* 1..KEEL_MAX_CPUS */
    uint32_t online_vcpus; /* vCPUs brought up at boot, 1..max_vcpus */
    uint64_t max_kb;       /* ceiling for the guest's memory */
    uint64_t mem_kb;       /* memory populated at build, <= max_kb */
    uint32_t poolid;       /* CPU pool to start in */
    uint32_t domid;        /* wanted domid, or KEEL_DOMID_INVALID: any */
    /* Direct kernel boot. The sim keeps no kernel and ignores them; the
     * xen backend needs kernel unless KEEL_HV_CREATE_EMPTY. */
    const char *kernel;  /* path of the guest kernel (ELF or bzImage) */
    const char *ramdisk; /* path of its initramfs, or NULL */
    const char *cmdline; /* its command line, or NULL */
    unsigned int flags;  /* KEEL_HV_CREATE_* */
};

/* keel_hv_dominfo.flags, after Xen's XEN_DOMINF_* state bits. */
#define KEEL_DOMF_DYING (1u << 0)
#define KEEL_DOMF_SHUTDOWN (1u << 1) /* shutdown_reason is valid */
#define KEEL_DOMF_PAUSED (1u << 2)
#define KEEL_DOMF_BLOCKED (1u << 3)
#define KEEL_DOMF_RUNNING (1u << 4)
#define KEEL_DOMF_LOGDIRTY (1u << 5)

struct keel_hv_dominfo {
    uint32_t domid;
    uint8_t uuid[16];
    enum keel_domain_type type;
    uint32_t flags;           /* KEEL_DOMF_* */
    uint32_t shutdown_reason; /* enum keel_shutdown_reason */
    uint32_t pause_count;     /* 0 when not paused */
    uint64_t tot_kb;          /* memory the domain holds now */
    uint64_t max_kb;
    uint32_t max_vcpus;
    uint32_t online_vcpus;
    uint64_t cpu_time_ns; /* summed over vCPUs */
    uint32_t poolid;
};

/* keel_hv_vcpuinfo.flags */
#define KEEL_VCPUF_ONLINE (1u << 0)
#define KEEL_VCPUF_RUNNING (1u << 1)
#define KEEL_VCPUF_BLOCKED (1u << 2)

struct keel_hv_vcpuinfo {
    uint32_t vcpu;
    uint32_t flags; /* KEEL_VCPUF_* */
    uint32_t cpu;   /* physical CPU it last ran on */
    uint64_t cpu_time_ns;
    struct keel_cpumap hard; /* hard affinity */
    struct keel_cpumap soft; /* soft affinity */
};

struct keel_hv_poolinfo {
    uint32_t poolid;
    enum keel_scheduler sched;
    uint32_t n_dom; /* domains inside */
    struct keel_cpumap cpus;
};

/* Per-domain scheduler parameters. sched says which member is used and
 * must match the scheduler of the domain's pool. */
struct keel_hv_sched_dom {
    enum keel_scheduler sched;
    uint32_t weight; /* credit, credit2: 1..65535 */
    uint32_t cap;    /* credit, credit2: % of one CPU, 0=none */
};

/* Per-vCPU RTDS parameters. */
struct keel_hv_sched_rtds {
    uint32_t vcpu;
    uint32_t period_us;
    uint32_t budget_us; /* <= period_us */
    bool extratime;
};

/* Per-pool scheduler parameters. */
struct keel_hv_sched_pool {
    enum keel_scheduler sched;
    uint32_t tslice_ms;    /* credit: 1..1000 */
    uint32_t ratelimit_us; /* credit, credit2: 0 or 100..500000 */
};

/* Context blobs a migration moves; index is the vCPU for per-vCPU kinds
 * and ignored otherwise. Blobs are opaque except where noted. */
enum keel_hv_ctx_kind {
    KEEL_HV_CTX_VCPU = 1,          /* xc_vcpu_getcontext (PV basic) */
    KEEL_HV_CTX_VCPU_EXTENDED = 2, /* XEN_DOMCTL_get_ext_vcpucontext */
    KEEL_HV_CTX_VCPU_XSAVE = 3,    /* XEN_DOMCTL_getvcpuextstate */
    KEEL_HV_CTX_VCPU_MSRS = 4,     /* XEN_DOMCTL_get_vcpu_msrs */
    KEEL_HV_CTX_HVM = 5,           /* xc_domain_hvm_getcontext */
    KEEL_HV_CTX_HVM_PARAMS = 6,  /* xc_hvm_param_get: {u64 index, u64 value}* */
    KEEL_HV_CTX_TSC = 7,         /* xc_domain_get_tsc_info: 24-byte record */
    KEEL_HV_CTX_SHARED_INFO = 8, /* the shared-info page, 4096 bytes */
    KEEL_HV_CTX_CPUID = 9,       /* xc_cpu_policy_serialise: 24-byte leaves */
    KEEL_HV_CTX_MSR = 10,        /* xc_cpu_policy_serialise: 16-byte entries */
};

/* Xen's XEN_DOMCTL_PFINFO_* page types, as carried in PAGE_DATA. */
enum keel_hv_page_type {
    KEEL_PAGE_NOTAB = 0x0,
    KEEL_PAGE_L1TAB = 0x1,
    KEEL_PAGE_L2TAB = 0x2,
    KEEL_PAGE_L3TAB = 0x3,
    KEEL_PAGE_L4TAB = 0x4,
    KEEL_PAGE_LPINTAB = 0x8, /* or-ed with L1..L4: pinned */
    KEEL_PAGE_BROKEN = 0xD,
    KEEL_PAGE_XALLOC = 0xE,
    KEEL_PAGE_XTAB = 0xF,
};

enum keel_hv_event_kind {
    KEEL_HV_EVENT_DOMAIN = 1, /* a domain shut down, crashed or died */
    KEEL_HV_EVENT_WATCH = 2,  /* a store watch fired */
};

/* One event. For DOMAIN, domid names the domain when the backend knows it
 * (sim) or is KEEL_DOMID_INVALID when it does not (Xen's VIRQ_DOM_EXC says
 * only "some domain changed": rescan with keel_hv_domain_list). For WATCH,
 * path is the path that changed and token the watch's token. */
struct keel_hv_event {
    enum keel_hv_event_kind kind;
    uint32_t domid;
    char *path;  /* WATCH only; owned by the event */
    char *token; /* WATCH only; owned by the event */
};

/* Frees the strings of n events (not the array). */
void keel_hv_events_dispose(struct keel_hv_event *evs, size_t n);

/* keel_hv_mem_map flags (true, from when the argument was a bool, is
 * KEEL_HV_MAP_WRITE) */
#define KEEL_HV_MAP_WRITE (1u << 0)
#define KEEL_HV_MAP_FILL (1u << 1) /* every frame will be written */

/* keel_hv_image_save flags */
#define KEEL_HV_IMAGE_LIVE (1u << 0) /* live passes before the suspend */

/* What a live image_save asks after each pass over memory. */
enum keel_hv_pass_decision {
    KEEL_HV_PASS_CONTINUE = 0, /* another live pass */
    KEEL_HV_PASS_LAST = 1,     /* one last live pass, then the suspend */
    KEEL_HV_PASS_ABORT = 2,    /* give up; the guest runs on */
};

/* Called after live pass `pass` (0: the full one) sent pages_sent pages
 * while the guest dirtied dirty_pages. NULL: the backend's own policy
 * (xen: libxenguest's, as xl uses it). */
struct keel_hv_image_policy {
    enum keel_hv_pass_decision (*pass)(void *opaque, uint32_t pass,
                                       uint64_t pages_sent,
                                       uint64_t dirty_pages);
    void *opaque;
};

/* keel_hv_logdirty_read flags */
#define KEEL_LOGDIRTY_PEEK (1u << 0) /* read without clearing */

struct keel_hv;

/* How to open a backend. Members a backend does not use are ignored. */
struct keel_hv_open_args {
    const char *dir;    /* sim: state directory (created if missing) */
    const char *spec;   /* sim: host spec for a new directory, or NULL */
    unsigned int flags; /* KEEL_HV_OPEN_* */
};

/* The sim's clock moves only through keel_sim_clock_advance(): for
 * deterministic tests. */
#define KEEL_HV_OPEN_MANUAL_CLOCK (1u << 0)

/* The backend table. Every op returns 0 or a negative keel_err after
 * recording a message with keel_error() on the handle's context. The
 * wrappers hold the handle's lock around each call, so ops need not lock.
 */
struct keel_hv_ops {
    const char *name;

    /* Opens the hypervisor; stores backend state with keel_hv_set_priv().
     * xen: xc_interface_open, xs_open, xenevtchn_open,
     * xenforeignmemory_open. */
    int (*open)(struct keel_hv *hv, const struct keel_hv_open_args *args);
    /* Releases everything open() took. xen: the matching *_close calls. */
    void (*close)(struct keel_hv *hv);

    /* --- host --- */
    /* xen: xc_physinfo + xc_version(XENVER_version, XENVER_extraversion,
     * XENVER_capabilities). */
    int (*physinfo)(struct keel_hv *hv, struct keel_hv_physinfo *info);
    /* One entry per CPU, at most max; *n_r = nr_cpus. xen: xc_cputopoinfo. */
    int (*cputopo)(struct keel_hv *hv, struct keel_hv_cputopo *topo, size_t max,
                   size_t *n_r);
    /* One entry per node. xen: xc_numainfo. */
    int (*numainfo)(struct keel_hv *hv, struct keel_hv_numainfo *nodes,
                    size_t max, size_t *n_r);

    /* --- domains --- */
    /* Creates a domain, paused once, with its memory populated and, where
     * the backend boots guests, the kernel loaded and the domain introduced
     * to the store daemons (store and console rings). xen:
     * xc_domain_create (struct xen_domctl_createdomain: handle, max_vcpus,
     * cpupool_id, XEN_DOMCTL_CDF_hvm|hap), xc_domain_setmaxmem, then the
     * domain builder (xenguest.h xc_dom_*) populates mem_kb and loads the
     * kernel, then xs_introduce_domain. With KEEL_HV_CREATE_EMPTY only the
     * first part: image_restore does the rest. The domain's store
     * directory (/local/domain/<domid>) starts afresh: whatever a dead
     * domain left there is removed first, as Xen's toolstack does. */
    int (*domain_create)(struct keel_hv *hv,
                         const struct keel_hv_domain_spec *spec,
                         uint32_t *domid_r);
    /* Kills a domain: it becomes dying and goes when its memory is
     * released. xen: xc_domain_destroy. */
    int (*domain_destroy)(struct keel_hv *hv, uint32_t domid);
    /* Counted pause and unpause. xen: xc_domain_pause, xc_domain_unpause. */
    int (*domain_pause)(struct keel_hv *hv, uint32_t domid);
    int (*domain_unpause)(struct keel_hv *hv, uint32_t domid);
    /* Marks a domain shut down with a reason, as the guest's SCHEDOP_shutdown
     * would; not the polite request (that is control/shutdown in the
     * store). xen: xc_domain_shutdown. */
    int (*domain_shutdown)(struct keel_hv *hv, uint32_t domid,
                           enum keel_shutdown_reason reason);
    /* Resumes a domain that shut down with reason suspend, in place (the
     * checkpoint case). xen: xc_domain_resume. */
    int (*domain_resume)(struct keel_hv *hv, uint32_t domid);
    /* Resets a domain that shut down with reason soft_reset, in place:
     * same domid and memory, vCPU 0 alone on line, no longer shut down
     * (the kexec case). xen: xc_domain_soft_reset, then the toolstack
     * re-seeds the vCPU context. */
    int (*domain_soft_reset)(struct keel_hv *hv, uint32_t domid);
    /* Gives a domain a new uuid (the toolstack's rename-restart keeps the
     * old incarnation under a fresh one). xen: xc_domain_sethandle. */
    int (*domain_set_uuid)(struct keel_hv *hv, uint32_t domid,
                           const uint8_t uuid[16]);
    /* xen: xc_domain_getinfolist(domid, 1) and a domid check. */
    int (*domain_info)(struct keel_hv *hv, uint32_t domid,
                       struct keel_hv_dominfo *info);
    /* Domains with domid >= first in domid order, at most max; *n_r is the
     * number written. xen: xc_domain_getinfolist. */
    int (*domain_list)(struct keel_hv *hv, uint32_t first,
                       struct keel_hv_dominfo *infos, size_t max, size_t *n_r);
    /* xen: xc_domain_setmaxmem. */
    int (*domain_set_max_mem)(struct keel_hv *hv, uint32_t domid,
                              uint64_t max_kb);

    /* --- vCPUs --- */
    /* Sets hard and/or soft affinity (NULL: leave as is). xen:
     * xc_vcpu_setaffinity with XEN_VCPUAFFINITY_HARD / _SOFT. */
    int (*vcpu_set_affinity)(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                             const struct keel_cpumap *hard,
                             const struct keel_cpumap *soft);
    /* xen: xc_vcpu_getinfo + xc_vcpu_getaffinity. */
    int (*vcpu_info)(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                     struct keel_hv_vcpuinfo *info);

    /* --- CPU pools --- */
    /* *poolid_io is the wanted id or KEEL_POOLID_ANY. xen:
     * xc_cpupool_create. */
    int (*cpupool_create)(struct keel_hv *hv, uint32_t *poolid_io,
                          enum keel_scheduler sched);
    /* Refused while the pool has domains or CPUs. xen: xc_cpupool_destroy. */
    int (*cpupool_destroy)(struct keel_hv *hv, uint32_t poolid);
    /* xen: xc_cpupool_getinfo (first pool with id >= poolid, checked). */
    int (*cpupool_info)(struct keel_hv *hv, uint32_t poolid,
                        struct keel_hv_poolinfo *info);
    /* Pools in id order, at most max. xen: xc_cpupool_getinfo in a loop. */
    int (*cpupool_list)(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                        size_t max, size_t *n_r);
    /* Moves a free CPU into a pool. xen: xc_cpupool_addcpu. */
    int (*cpupool_add_cpu)(struct keel_hv *hv, uint32_t poolid, uint32_t cpu);
    /* Frees a CPU; refused for a pool's last CPU while it has domains.
     * xen: xc_cpupool_removecpu. */
    int (*cpupool_remove_cpu)(struct keel_hv *hv, uint32_t poolid,
                              uint32_t cpu);
    /* xen: xc_cpupool_movedomain. */
    int (*cpupool_move_domain)(struct keel_hv *hv, uint32_t poolid,
                               uint32_t domid);
    /* CPUs in no pool. xen: xc_cpupool_freeinfo. */
    int (*cpupool_free_cpus)(struct keel_hv *hv, struct keel_cpumap *map);

    /* --- schedulers --- */
    /* xen: xc_sched_credit_domain_get/_set, xc_sched_credit2_domain_get/
     * _set (by the pool's scheduler). */
    int (*sched_domain_get)(struct keel_hv *hv, uint32_t domid,
                            struct keel_hv_sched_dom *params);
    int (*sched_domain_set)(struct keel_hv *hv, uint32_t domid,
                            const struct keel_hv_sched_dom *params);
    /* xen: xc_sched_rtds_vcpu_get / xc_sched_rtds_vcpu_set. */
    int (*sched_rtds_get)(struct keel_hv *hv, uint32_t domid,
                          struct keel_hv_sched_rtds *vcpus, size_t n);
    int (*sched_rtds_set)(struct keel_hv *hv, uint32_t domid,
                          const struct keel_hv_sched_rtds *vcpus, size_t n);
    /* xen: xc_sched_credit_params_get/_set, xc_sched_credit2_params_get/
     * _set (XEN_SYSCTL_SCHEDOP on the pool). */
    int (*sched_pool_get)(struct keel_hv *hv, uint32_t poolid,
                          struct keel_hv_sched_pool *params);
    int (*sched_pool_set)(struct keel_hv *hv, uint32_t poolid,
                          const struct keel_hv_sched_pool *params);

    /* --- store --- */
    /* Reads a node's value; *val_r is NUL-terminated (not counted in
     * *len_r) and freed with free(). KEEL_ENOENT when absent. xen: xs_read. */
    int (*store_read)(struct keel_hv *hv, const char *path, char **val_r,
                      size_t *len_r);
    /* Creates or replaces a node, and any missing parents. xen: xs_write. */
    int (*store_write)(struct keel_hv *hv, const char *path, const void *val,
                       size_t len);
    /* Removes a node and everything below it. xen: xs_rm. */
    int (*store_remove)(struct keel_hv *hv, const char *path);
    /* Children's names, sorted; *names_r is one allocation (free()). xen:
     * xs_directory. */
    int (*store_list)(struct keel_hv *hv, const char *path, char ***names_r,
                      size_t *n_r);
    /* Watches path and everything below it (or "@releaseDomain",
     * "@introduceDomain"); fires once at once, as Xen does. xen: xs_watch,
     * xs_unwatch. */
    int (*store_watch)(struct keel_hv *hv, const char *path, const char *token);
    int (*store_unwatch)(struct keel_hv *hv, const char *path,
                         const char *token);

    /* --- events --- */
    /* One fd that polls readable when events are waiting; owned by the
     * handle. xen: an epoll fd over xenevtchn_fd (VIRQ_DOM_EXC bound with
     * xenevtchn_bind_virq) and xs_fileno. */
    int (*event_fd)(struct keel_hv *hv);
    /* Takes up to max waiting events; *n_r may be 0. Never blocks. xen:
     * xenevtchn_pending + xenevtchn_unmask, xs_check_watch. */
    int (*event_read)(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                      size_t *n_r);

    /* --- migration primitives --- */
    /* Highest guest frame number. xen: xc_domain_maximum_gpfn. */
    int (*mem_max_pfn)(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r);
    /* Maps n guest frames contiguously, read-only or, with
     * KEEL_HV_MAP_WRITE, writable; writes through a writable mapping mark
     * the frames dirty under log-dirty. KEEL_HV_MAP_FILL says every frame
     * will be written, so the backend may fault them all in at once.
     * xen: xenforeignmemory_map. */
    int (*mem_map)(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                   size_t n, unsigned int flags, void **addr_r);
    /* xen: xenforeignmemory_unmap. */
    int (*mem_unmap)(struct keel_hv *hv, void *addr, size_t n);
    /* Page types of n frames (enum keel_hv_page_type). xen:
     * xc_get_pfn_type_batch. */
    int (*mem_page_types)(struct keel_hv *hv, uint32_t domid,
                          const uint64_t *pfns, size_t n, uint32_t *types);
    /* xen: xc_shadow_control(XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY / _OFF). */
    int (*logdirty_enable)(struct keel_hv *hv, uint32_t domid);
    int (*logdirty_disable)(struct keel_hv *hv, uint32_t domid);
    /* Copies the dirty bitmap of frames 0..nr_pfns-1 (bit i of byte i/8)
     * into bitmap and, unless KEEL_LOGDIRTY_PEEK, clears it. *dirty_r is
     * the number of set bits. xen: xc_shadow_control(_OP_CLEAN / _OP_PEEK).
     */
    int (*logdirty_read)(struct keel_hv *hv, uint32_t domid, uint8_t *bitmap,
                         uint64_t nr_pfns, unsigned int flags,
                         uint64_t *dirty_r);
    /* Context blobs (see enum keel_hv_ctx_kind). get allocates *buf_r
     * (free()); a kind a domain does not have gives KEEL_ENOENT. */
    int (*context_get)(struct keel_hv *hv, uint32_t domid,
                       enum keel_hv_ctx_kind kind, uint32_t index, void **buf_r,
                       size_t *len_r);
    int (*context_set)(struct keel_hv *hv, uint32_t domid,
                       enum keel_hv_ctx_kind kind, uint32_t index,
                       const void *buf, size_t len);
    /* Where the hypervisor's own library writes the domain-image stream
     * (xenguest.h xc_domain_save / xc_domain_restore), a backend sets
     * these and libkeel uses them instead of the primitives above: it
     * writes (reads) the toolstack layers around the image, and the
     * backend writes (reads) exactly the image, from its header to its
     * END, on fd. The sim leaves them NULL: libkeel writes the stream
     * itself.
     *
     * image_save suspends the guest when the image needs it (at once, or
     * after the live passes with KEEL_HV_IMAGE_LIVE) and leaves it shut
     * down with reason suspend: the caller destroys it or resumes it
     * (domain_resume). A failure before the suspend leaves it running.
     * image_restore fills a domain made with KEEL_HV_CREATE_EMPTY and
     * leaves it paused and introduced to the store daemons.
     *
     * Unlike every other op, these run without the handle's lock (they
     * take as long as the transfer): a backend gives them handles of
     * their own. xen: xc_domain_save, xc_domain_restore. */
    int (*image_save)(struct keel_hv *hv, uint32_t domid, int fd,
                      unsigned int flags,
                      const struct keel_hv_image_policy *policy);
    int (*image_restore)(struct keel_hv *hv, uint32_t domid, int fd,
                         unsigned int flags);
};

/* --- the registry --- */

/* Opens the backend called name ("sim", "xen" when built with Xen).
 * Returns 0, KEEL_EBACKEND for an unknown name, or the backend's error.
 * Thread: the returned handle may be used from any thread. */
int keel_hv_open(struct keel_ctx *ctx, const char *name,
                 const struct keel_hv_open_args *args, struct keel_hv **hv_r);

/* Closes a handle; NULL is a no-op. Domains keep running: the hypervisor
 * (or the sim's directory) owns them. */
void keel_hv_close(struct keel_hv *hv);

/* Names of the backends built in, NULL-terminated. */
const char *const *keel_hv_backends(void);

const char *keel_hv_name(const struct keel_hv *hv);
struct keel_ctx *keel_hv_ctx(const struct keel_hv *hv);

/* For backends: private state hung off the handle. */
void keel_hv_set_priv(struct keel_hv *hv, void *priv);
void *keel_hv_priv(const struct keel_hv *hv);

/* --- wrappers: one per op, same arguments and returns --- */
int keel_hv_physinfo(struct keel_hv *hv, struct keel_hv_physinfo *info);
int keel_hv_cputopo(struct keel_hv *hv, struct keel_hv_cputopo *topo,
                    size_t max, size_t *n_r);
int keel_hv_numainfo(struct keel_hv *hv, struct keel_hv_numainfo *nodes,
                     size_t max, size_t *n_r);
int keel_hv_domain_create(struct keel_hv *hv,
                          const struct keel_hv_domain_spec *spec,
                          uint32_t *domid_r);
int keel_hv_domain_destroy(struct keel_hv *hv, uint32_t domid);
int keel_hv_domain_pause(struct keel_hv *hv, uint32_t domid);
int keel_hv_domain_unpause(struct keel_hv *hv, uint32_t domid);
int keel_hv_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                            enum keel_shutdown_reason reason);
int keel_hv_domain_resume(struct keel_hv *hv, uint32_t domid);
int keel_hv_domain_soft_reset(struct keel_hv *hv, uint32_t domid);
int keel_hv_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                            const uint8_t uuid[16]);
int keel_hv_domain_info(struct keel_hv *hv, uint32_t domid,
                        struct keel_hv_dominfo *info);
int keel_hv_domain_list(struct keel_hv *hv, uint32_t first,
                        struct keel_hv_dominfo *infos, size_t max, size_t *n_r);
int keel_hv_domain_set_max_mem(struct keel_hv *hv, uint32_t domid,
                               uint64_t max_kb);
int keel_hv_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                              const struct keel_cpumap *hard,
                              const struct keel_cpumap *soft);
int keel_hv_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                      struct keel_hv_vcpuinfo *info);
int keel_hv_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                           enum keel_scheduler sched);
int keel_hv_cpupool_destroy(struct keel_hv *hv, uint32_t poolid);
int keel_hv_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                         struct keel_hv_poolinfo *info);
int keel_hv_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                         size_t max, size_t *n_r);
int keel_hv_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu);
int keel_hv_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid,
                               uint32_t cpu);
int keel_hv_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid,
                                uint32_t domid);
int keel_hv_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map);
int keel_hv_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                             struct keel_hv_sched_dom *params);
int keel_hv_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                             const struct keel_hv_sched_dom *params);
int keel_hv_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                           struct keel_hv_sched_rtds *vcpus, size_t n);
int keel_hv_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                           const struct keel_hv_sched_rtds *vcpus, size_t n);
int keel_hv_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                           struct keel_hv_sched_pool *params);
int keel_hv_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                           const struct keel_hv_sched_pool *params);
int keel_hv_store_read(struct keel_hv *hv, const char *path, char **val_r,
                       size_t *len_r);
int keel_hv_store_write(struct keel_hv *hv, const char *path, const void *val,
                        size_t len);
/* store_write of a NUL-terminated string. */
int keel_hv_store_write_str(struct keel_hv *hv, const char *path,
                            const char *val);
int keel_hv_store_remove(struct keel_hv *hv, const char *path);
int keel_hv_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                       size_t *n_r);
int keel_hv_store_watch(struct keel_hv *hv, const char *path,
                        const char *token);
int keel_hv_store_unwatch(struct keel_hv *hv, const char *path,
                          const char *token);
int keel_hv_event_fd(struct keel_hv *hv);
int keel_hv_event_read(struct keel_hv *hv, struct keel_hv_event *evs,
                       size_t max, size_t *n_r);
int keel_hv_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r);
int keel_hv_mem_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                    size_t n, unsigned int flags, void **addr_r);
int keel_hv_mem_unmap(struct keel_hv *hv, void *addr, size_t n);
int keel_hv_mem_page_types(struct keel_hv *hv, uint32_t domid,
                           const uint64_t *pfns, size_t n, uint32_t *types);
int keel_hv_logdirty_enable(struct keel_hv *hv, uint32_t domid);
int keel_hv_logdirty_disable(struct keel_hv *hv, uint32_t domid);
int keel_hv_logdirty_read(struct keel_hv *hv, uint32_t domid, uint8_t *bitmap,
                          uint64_t nr_pfns, unsigned int flags,
                          uint64_t *dirty_r);
int keel_hv_context_get(struct keel_hv *hv, uint32_t domid,
                        enum keel_hv_ctx_kind kind, uint32_t index,
                        void **buf_r, size_t *len_r);
int keel_hv_context_set(struct keel_hv *hv, uint32_t domid,
                        enum keel_hv_ctx_kind kind, uint32_t index,
                        const void *buf, size_t len);
/* True when the backend writes and reads domain images itself (has the
 * image ops): libkeel then frames them instead of writing them. */
bool keel_hv_has_image_ops(const struct keel_hv *hv);
int keel_hv_image_save(struct keel_hv *hv, uint32_t domid, int fd,
                       unsigned int flags,
                       const struct keel_hv_image_policy *policy);
int keel_hv_image_restore(struct keel_hv *hv, uint32_t domid, int fd,
                          unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_HV_H */
