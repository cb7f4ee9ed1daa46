/* domain.h: domain lifecycle on a struct keel_host
 *
 * A domain is created from a struct keel_domain_config and named by its
 * domid in every call here; keel_domain_lookup() turns what a user types
 * (a name, a domid, a uuid) into one.
 *
 * The state machine. A domain is in exactly one state:
 *
 *   RUNNING   the guest runs (or is blocked waiting for work)
 *   PAUSED    the toolstack paused it (created paused, or keel_domain_pause)
 *   SHUTDOWN  the guest stopped with a reason (poweroff, reboot, crash,
 *             watchdog, soft_reset, suspend) and its on_* action is
 *             "preserve", or it was suspended, or the action is not yet
 *             carried out (until the next keel_host_events)
 *   DYING     destroyed, still releasing its memory
 *
 *   create ------> RUNNING <--unpause/pause--> PAUSED
 *   (PAUSED flag)    |  guest stops              |
 *                    v                           |
 *                 SHUTDOWN --action: destroy/restart/rename-restart/
 *                    |       soft-reset--> (gone / new domain / RUNNING)
 *   destroy from any state but DYING --> DYING --> gone
 *
 * Which operation is valid where (anything else is KEEL_ESTATE with a
 * message naming the operation and the state):
 *
 *   operation                  RUNNING PAUSED SHUTDOWN DYING  Domain-0
 *   destroy                       y      y       y       -      -
 *   shutdown, reboot              y      -       -       -      -
 *   pause                         y      -       -       -      -
 *   unpause                       -      y       -       -      -
 *   rename                        y      y       y       -      -
 *   mem_set, mem_max, vcpu_set    y      y       -       -      -
 *   vcpu_pin, sched params        y      y       -       -      y
 *   cpupool_move_domain           y      y       -       -      -
 *   info, list, vcpu_list,
 *   config_get                    y      y       y       y      y
 *
 * Domain-0 is the host's own domain: it is listed but not managed, so the
 * operations marked "-" in its column give KEEL_EPERM.
 *
 * Every call that changes a domain keeps its config current, so the
 * config keel_domain_config_get() returns is the one a restart uses.
 *
 * Threads and errors: as host.h. Calls return 0 or a negative keel_err
 * with the message on the host's ctx; KEEL_ENODOMAIN when there is no
 * such domain (or it is Domain-0's reserved id range).
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/config.h>
#include <keel/host.h>
#include <keel/hv.h>

#ifdef __cplusplus
extern "C" {
#endif

enum keel_domain_state {
    KEEL_DOMAIN_RUNNING = 1,
    KEEL_DOMAIN_PAUSED = 2,
    KEEL_DOMAIN_SHUTDOWN = 3,
    KEEL_DOMAIN_DYING = 4,
};

/* "running", "paused", "shutdown", "dying"; NULL for an unknown value. */
const char *keel_domain_state_name(enum keel_domain_state state);

/* Most vCPUs a domain may have: Xen's HVM_MAX_VCPUS for HVM and PVH
 * guests, and the limit keel supports for PV. */
#define KEEL_MAX_VCPUS_HVM 128
#define KEEL_MAX_VCPUS_PV 512

/* keel_domain_create flags */
#define KEEL_DOMAIN_CREATE_PAUSED (1u << 0) /* leave it PAUSED */

/* Creates a domain from cfg (which is not changed: the domain keeps a
 * copy, with defaults filled). Before anything is allocated it checks the
 * config against the host: the name and uuid are not in use, the pool
 * exists and has CPUs, the CPUs named by cpus= and cpus_soft= exist and
 * hard affinity is inside the pool, vCPUs are within the limits above,
 * the scheduler settings suit the pool's scheduler, the host has the
 * memory free. A create that fails after that undoes what it did: no
 * domain, store node, file or memory is left. *domid_r may be NULL.
 * Returns 0, KEEL_EINVAL (the config, naming the key), KEEL_EEXIST (name
 * or uuid in use), KEEL_ENOPOOL, KEEL_ENOHOSTMEM, KEEL_ENOTSUP (a
 * coredump action: core dumps are not supported) or the backend's error.
 * Queues CREATED. */
int keel_domain_create(struct keel_host *host,
                       const struct keel_domain_config *cfg, unsigned int flags,
                       uint32_t *domid_r);

/* Kills the domain at once and forgets its config. Queues DESTROYED. */
int keel_domain_destroy(struct keel_host *host, uint32_t domid);

/* keel_domain_shutdown / keel_domain_reboot flags */
#define KEEL_DOMAIN_WAIT (1u << 0) /* return once the action is done */
#define KEEL_DOMAIN_FORCE                                                      \
    (1u << 1) /* on timeout: destroy (shutdown) or                             \
                 destroy and re-create (reboot) */

/* Asks the guest to power off (or reboot) through the store
 * (control/shutdown), as xl does. Without KEEL_DOMAIN_WAIT it returns
 * once the request is written. With it, it waits up to timeout_ms (-1:
 * forever) until the guest has stopped and the host has carried out the
 * on_poweroff (on_reboot) action, then returns 0; when time runs out it
 * returns KEEL_ETIMEDOUT, unless KEEL_DOMAIN_FORCE is set, in which case
 * it destroys the domain (for a reboot: destroys it and creates it again
 * from its config) and returns 0. When the action itself fails (a
 * restart without the memory for it), that error is returned. A guest
 * that suspends instead has not answered the request. */
int keel_domain_shutdown(struct keel_host *host, uint32_t domid, int timeout_ms,
                         unsigned int flags);
int keel_domain_reboot(struct keel_host *host, uint32_t domid, int timeout_ms,
                       unsigned int flags);

/* Toolstack pause (not counted: pause a PAUSED domain is KEEL_ESTATE).
 * Queue PAUSED / UNPAUSED. */
int keel_domain_pause(struct keel_host *host, uint32_t domid);
int keel_domain_unpause(struct keel_host *host, uint32_t domid);

/* Resumes a domain that a save or migration suspended and never finished
 * (its process was killed): SHUTDOWN with reason suspend. The guest's
 * suspend returns as cancelled, as after a failed save, and it runs on,
 * or with paused is left PAUSED. KEEL_ESTATE for a domain that is not
 * suspended. Queues UNPAUSED, or PAUSED. */
int keel_domain_resume(struct keel_host *host, uint32_t domid, bool paused);

/* Renames a domain. Names are 1..KEEL_NAME_MAX bytes of printable ASCII
 * other than '/', and not all digits (a number is a domid). KEEL_EINVAL
 * for a bad name, KEEL_EEXIST when another domain has it. Queues
 * RENAMED. */
int keel_domain_rename(struct keel_host *host, uint32_t domid,
                       const char *name);

/* Sets the guest's memory target (memory/target: its balloon driver
 * follows, as far as its maximum and the host's free memory allow).
 * 1 MiB <= target_kb <= the domain's maximum; a multiple of 4 KiB. */
int keel_domain_mem_set(struct keel_host *host, uint32_t domid,
                        uint64_t target_kb);

/* Sets the domain's memory ceiling (at least the target; lowering it
 * below what the guest holds only stops it growing). At most the host's
 * memory; a multiple of 4 KiB. */
int keel_domain_mem_max(struct keel_host *host, uint32_t domid,
                        uint64_t max_kb);

/* Asks the guest to bring vCPUs 0..count-1 on line and the rest off
 * (cpu/N/availability). 1 <= count <= maxvcpus. */
int keel_domain_vcpu_set(struct keel_host *host, uint32_t domid,
                         uint32_t count);

/* Pins one vCPU, or every vCPU when vcpu is KEEL_VCPU_ALL. hard and soft
 * may each be NULL (leave as is). A hard map must hold only CPUs of the
 * domain's pool (or be every CPU of the host: "all"); a soft map only
 * CPUs of the host, and not be empty. */
#define KEEL_VCPU_ALL UINT32_MAX
int keel_domain_vcpu_pin(struct keel_host *host, uint32_t domid, uint32_t vcpu,
                         const struct keel_cpumap *hard,
                         const struct keel_cpumap *soft);

struct keel_domain_info {
    uint32_t domid;
    uint8_t uuid[16];
    char name[KEEL_NAME_MAX + 1];
    enum keel_domain_type type;
    enum keel_domain_state state;
    enum keel_shutdown_reason reason; /* SHUTDOWN only */
    uint32_t hv_flags;                /* KEEL_DOMF_*, for xl's r-b-p-s-c-d */
    uint64_t mem_kb;                  /* held now */
    uint64_t target_kb;               /* what the guest was asked to hold */
    uint64_t max_kb;
    uint32_t online_vcpus;
    uint32_t max_vcpus;
    uint64_t cpu_time_ns;
    uint32_t poolid;
    char pool[KEEL_NAME_MAX + 1];
    uint64_t start_time_ns; /* wall clock, ns since the epoch; 0: unknown */
    uint64_t uptime_ns;     /* 0 when start_time_ns is unknown */
    /* true when keel found the domain running without a record of it
     * (created by another toolstack, or while no keel ran): its config is
     * the one keel could read back from the hypervisor. It stays true
     * across later opens of the host (the mark is the store node
     * /local/domain/<domid>/keel/adopted) and for the domain's life; a
     * domain keel creates, restores or restarts is false. false too for
     * Domain-0 and for a domain keel has no record of at all (one created
     * behind keel's back while this host is open: only keel_domain_list
     * shows it, named "(unknown)", until the next open adopts it). */
    bool adopted;
};

/* Turns what a user types into a domid: a domid in decimal, a uuid, or
 * a name. KEEL_ENODOMAIN when nothing matches. */
int keel_domain_lookup(struct keel_host *host, const char *name_or_id,
                       uint32_t *domid_r);

int keel_domain_info(struct keel_host *host, uint32_t domid,
                     struct keel_domain_info *info);

/* Every domain, Domain-0 first then by domid (dying ones included), in
 * a new array *infos_r (free()). */
int keel_domain_list(struct keel_host *host, struct keel_domain_info **infos_r,
                     size_t *n_r);

/* Every vCPU of the domain, in a new array *vcpus_r (free()). */
int keel_domain_vcpu_list(struct keel_host *host, uint32_t domid,
                          struct keel_hv_vcpuinfo **vcpus_r, size_t *n_r);

/* Copies the domain's current config into *cfg (initialised; disposed
 * first). KEEL_ENOENT for Domain-0, which has none. */
int keel_domain_config_get(struct keel_host *host, uint32_t domid,
                           struct keel_domain_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_DOMAIN_H */
