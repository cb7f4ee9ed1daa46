/* xen.h: what the xen backend's files share
 *
 * The xen backend maps struct keel_hv_ops onto Xen's low-level libraries
 * as Debian 12's libxen-dev ships them (Xen 4.17): libxenctrl for
 * hypercalls, libxenguest for building domains and for the domain-image
 * half of save and restore, libxenstore for the store, libxentoollog for
 * their messages. It does not use libxl: keel is the libxl-level layer.
 *
 * Files, one concern each:
 *
 *   xen.c     the ops table, open and close, the log bridge, errors,
 *             physical info, CPU topology and NUMA nodes
 *   domain.c  domain info and list, pause, unpause, shutdown, resume,
 *             destroy, max memory, uuid, vCPU affinity and info
 *   build.c   domain_create: the domain, its store directory, the
 *             domain builder (direct kernel boot, PV and PVH), the store
 *             and console rings introduced to xenstored and xenconsoled
 *   acpi.c    the ACPI tables a PVH guest boots with (acpi.h)
 *   pool.c    CPU pools and scheduler parameters
 *   store.c   the store ops and the event fd (store watches, among them
 *             @releaseDomain, which xenstored fires when a domain shuts
 *             down or dies)
 *   image.c   image_save and image_restore over xc_domain_save and
 *             xc_domain_restore, each with handles of its own
 *
 * Threads: hv.c serialises every op but the image ops on the handle's
 * lock, so only image.c may run beside another op; it opens its own
 * xenctrl and xenstore handles, with a logger of its own, and touches
 * nothing in struct xen but its context.
 */
#ifndef KEEL_HV_XEN_H
#define KEEL_HV_XEN_H

#define __XEN_TOOLS__ 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenctrl.h>
#include <xenguest.h> /* after xenctrl.h, which it needs */
#include <xenstore.h>
#include <xentoollog.h>

#include <keel/hv.h>

#include "internal.h"

/* Messages from libxenctrl and libxenguest go to keel's log (debug, or
 * warn for errors); the last error is kept so that keel's own error can
 * quote what Xen's library said ("Failed to enable logdirty: 95"). */
struct xen_log {
    xentoollog_logger vtable; /* first: libxc sees a xentoollog_logger */
    struct keel_ctx *ctx;
    pthread_mutex_t lock;
    char last[256];
    bool logdirty_failed; /* since the last xen_log_clear */
};

struct xen {
    struct keel_ctx *ctx;
    struct xen_log log;
    xc_interface *xch;
    struct xs_handle *xsh;
    int max_cpus; /* size of Xen's CPU maps, in CPUs */
};

static inline struct xen *
xen_of(struct keel_hv *hv)
{
    return keel_hv_priv(hv);
}

/* --- xen.c --- */

/* Records a failed libxenctrl/libxenstore call: the message names what
 * failed, errno's text and whatever the library logged; the code follows
 * errno (ESRCH: KEEL_ENODOMAIN, ENOMEM: KEEL_ENOHOSTMEM, EOPNOTSUPP:
 * KEEL_ENOTSUP, ...). Reads errno first, so call it straight after. */
int xen_fail(struct xen *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for an op with a logger of its own (image.c). */
int xen_log_fail(struct xen_log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A logger's life: image.c gives each save or restore its own, so that
 * two running beside each other (a migration within the host) do not
 * clear or read each other's last error. */
void xen_log_init(struct xen_log *l, struct keel_ctx *ctx);
void xen_log_dispose(struct xen_log *l);
/* Forgets the library's last logged error (before a call whose failure
 * will be reported). */
void xen_log_clear(struct xen_log *l);
/* Opens a xenctrl handle logging to l. */
xc_interface *xen_xc_open(struct xen_log *l);

void xen_cpumap_from_xc(const uint8_t *xc, int max_cpus,
                        struct keel_cpumap *map);
/* A xenctrl CPU map (free()) from map; NULL when out of memory. */
uint8_t *xen_cpumap_to_xc(const struct keel_cpumap *map, int max_cpus);

/* --- domain.c --- */
int xen_op_domain_destroy(struct keel_hv *hv, uint32_t domid);
int xen_op_domain_pause(struct keel_hv *hv, uint32_t domid);
int xen_op_domain_unpause(struct keel_hv *hv, uint32_t domid);
int xen_op_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                           enum keel_shutdown_reason reason);
int xen_op_domain_resume(struct keel_hv *hv, uint32_t domid);
int xen_op_domain_soft_reset(struct keel_hv *hv, uint32_t domid);
int xen_op_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                           const uint8_t uuid[16]);
int xen_op_domain_info(struct keel_hv *hv, uint32_t domid,
                       struct keel_hv_dominfo *info);
int xen_op_domain_list(struct keel_hv *hv, uint32_t first,
                       struct keel_hv_dominfo *infos, size_t max, size_t *n_r);
int xen_op_domain_set_max_mem(struct keel_hv *hv, uint32_t domid,
                              uint64_t max_kb);
int xen_op_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                             const struct keel_cpumap *hard,
                             const struct keel_cpumap *soft);
int xen_op_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                     struct keel_hv_vcpuinfo *info);
int xen_op_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r);

/* --- build.c --- */
int xen_op_domain_create(struct keel_hv *hv,
                         const struct keel_hv_domain_spec *spec,
                         uint32_t *domid_r);
/* The store and console event channels of a new domain, bound to the
 * domains that run xenstored and xenconsoled. */
struct xen_rings {
    uint32_t store_domid, console_domid;
    uint32_t store_port, console_port;
    uint64_t store_mfn, console_mfn;
};
int xen_rings_alloc(struct xen *x, xc_interface *xch, struct xs_handle *xsh,
                    uint32_t domid, struct xen_rings *r);
/* Writes the store and console nodes and introduces the domain to
 * xenstored (xs_introduce_domain), once the rings are in its memory. */
int xen_rings_publish(struct xen *x, struct xs_handle *xsh, uint32_t domid,
                      const struct xen_rings *r);

/* --- pool.c --- */
int xen_op_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                          enum keel_scheduler sched);
int xen_op_cpupool_destroy(struct keel_hv *hv, uint32_t poolid);
int xen_op_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                        struct keel_hv_poolinfo *info);
int xen_op_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                        size_t max, size_t *n_r);
int xen_op_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu);
int xen_op_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid,
                              uint32_t cpu);
int xen_op_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid,
                               uint32_t domid);
int xen_op_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map);
int xen_op_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                            struct keel_hv_sched_dom *params);
int xen_op_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                            const struct keel_hv_sched_dom *params);
int xen_op_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                          struct keel_hv_sched_rtds *vcpus, size_t n);
int xen_op_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                          const struct keel_hv_sched_rtds *vcpus, size_t n);
int xen_op_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                          struct keel_hv_sched_pool *params);
int xen_op_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                          const struct keel_hv_sched_pool *params);

/* --- store.c --- */
int xen_op_store_read(struct keel_hv *hv, const char *path, char **val_r,
                      size_t *len_r);
int xen_op_store_write(struct keel_hv *hv, const char *path, const void *val,
                       size_t len);
int xen_op_store_remove(struct keel_hv *hv, const char *path);
int xen_op_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                      size_t *n_r);
int xen_op_store_watch(struct keel_hv *hv, const char *path, const char *token);
int xen_op_store_unwatch(struct keel_hv *hv, const char *path,
                         const char *token);
int xen_op_event_fd(struct keel_hv *hv);
int xen_op_event_read(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                      size_t *n_r);
/* The token of the backend's own @releaseDomain watch (set at open). */
#define XEN_RELEASE_TOKEN "keel-hv-release"

/* --- image.c --- */
int xen_op_image_save(struct keel_hv *hv, uint32_t domid, int fd,
                      unsigned int flags,
                      const struct keel_hv_image_policy *policy);
int xen_op_image_restore(struct keel_hv *hv, uint32_t domid, int fd,
                         unsigned int flags);

#endif /* KEEL_HV_XEN_H */
