/* cpupool.h: CPU pools and scheduler parameters on a struct keel_host
 *
 * A CPU pool is a set of physical CPUs run by one scheduler (credit,
 * credit2, rtds or null); every domain lives in exactly one pool, and
 * every CPU of the host is in exactly one pool or free. Pool-0 (id 0)
 * exists from boot, holds Domain-0 and is never destroyed. Pools are
 * named (the store's /local/pool/<id>/name); calls take the id, and
 * keel_cpupool_lookup() turns what a user types into one.
 *
 * Every call that moves CPUs checks first and changes after: it either
 * does all of what was asked or, having refused or failed, leaves every
 * CPU where it was. A CPU is never left in neither a pool nor the free
 * set (the state `xl cpupool-cpu-remove` can leave behind).
 *
 * Affinity: a vCPU's hard affinity is either every CPU of the host ("all",
 * what a new domain gets) or a set inside its pool. Removing CPUs from a
 * pool takes them out of its vCPUs' hard affinities, and is refused
 * (KEEL_EBUSY, naming the vCPU) when a vCPU would be left with none, or
 * when a pool with domains would be left with no CPU.
 *
 * Threads and errors: as host.h. KEEL_ENOPOOL when no pool has the id.
 */
#ifndef KEEL_CPUPOOL_H
#define KEEL_CPUPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <keel/host.h>
#include <keel/hv.h>

#ifdef __cplusplus
extern "C" {
#endif

struct keel_cpupool_info {
    uint32_t poolid;
    char name[KEEL_NAME_MAX + 1];
    enum keel_scheduler sched;
    uint32_t n_dom; /* domains inside, Domain-0 included */
    struct keel_cpumap cpus;
};

/* Turns a pool name or decimal id into an id. KEEL_ENOPOOL when nothing
 * matches. */
int keel_cpupool_lookup(struct keel_host *host, const char *name_or_id,
                        uint32_t *poolid_r);

int keel_cpupool_info(struct keel_host *host, uint32_t poolid,
                      struct keel_cpupool_info *info);

/* Every pool, by id, in a new array *infos_r (free()). */
int keel_cpupool_list(struct keel_host *host,
                      struct keel_cpupool_info **infos_r, size_t *n_r);

/* CPUs in no pool. */
int keel_cpupool_free_cpus(struct keel_host *host, struct keel_cpumap *map);

/* Creates a pool called name (rules as domain names; unique among
 * pools) run by sched (KEEL_SCHED_UNKNOWN: Pool-0's scheduler), holding
 * cpus, which must all be free (NULL: the lowest free CPU, as xl does).
 * keel_host_resolve_cpus() turns "nodes:1" or "4-7" into such a map.
 * Returns 0, KEEL_EINVAL, KEEL_EEXIST (name), KEEL_EBUSY (a CPU is not
 * free, or none is), or the backend's error. *poolid_r may be NULL. */
int keel_cpupool_create(struct keel_host *host, const char *name,
                        enum keel_scheduler sched,
                        const struct keel_cpumap *cpus, unsigned int flags,
                        uint32_t *poolid_r);

/* Destroys an empty pool; its CPUs become free. KEEL_EPERM for Pool-0,
 * KEEL_EBUSY while domains are inside. */
int keel_cpupool_destroy(struct keel_host *host, uint32_t poolid);

/* KEEL_EEXIST when another pool has the name. */
int keel_cpupool_rename(struct keel_host *host, uint32_t poolid,
                        const char *name);

/* Moves free CPUs into a pool, all or none: KEEL_EBUSY naming a CPU that
 * is not free, KEEL_EINVAL for an empty map or a CPU the host lacks. */
int keel_cpupool_cpu_add(struct keel_host *host, uint32_t poolid,
                         const struct keel_cpumap *cpus);

/* Frees CPUs of a pool, all or none (see the affinity rules above):
 * KEEL_EINVAL for a CPU not in the pool, KEEL_EBUSY when it would strand
 * a domain. */
int keel_cpupool_cpu_remove(struct keel_host *host, uint32_t poolid,
                            const struct keel_cpumap *cpus);

/* Moves a domain (RUNNING or PAUSED, not Domain-0) into another pool.
 * As on Xen, its vCPUs' affinity becomes "all" and its scheduler
 * parameters the new scheduler's defaults. */
int keel_cpupool_move_domain(struct keel_host *host, uint32_t domid,
                             uint32_t poolid);

/* As `xl cpupool-numa-split`: one pool per NUMA node, named
 * "Pool-node<N>", run by Pool-0's scheduler. Pool-0 keeps the node of
 * its first CPU and is renamed after it. Only when Pool-0 is the only
 * pool and holds every CPU (KEEL_EBUSY otherwise), and refused as a whole
 * when moving a node would strand a domain in Pool-0. */
int keel_cpupool_numa_split(struct keel_host *host);

/* --- schedulers (lib/sched.c) --- */

/* Per-domain parameters for credit and credit2 (params->sched must be
 * the scheduler of the domain's pool; for rtds and null pools get gives
 * just the scheduler). weight 1..65535; cap 0 (none) ..100 x the
 * domain's vCPUs, in % of one CPU. */
int keel_sched_domain_get(struct keel_host *host, uint32_t domid,
                          struct keel_hv_sched_dom *params);
int keel_sched_domain_set(struct keel_host *host, uint32_t domid,
                          const struct keel_hv_sched_dom *params);

/* RTDS parameters of every vCPU of a domain in an rtds pool, in a new
 * array *vcpus_r (free()). */
int keel_sched_rtds_get(struct keel_host *host, uint32_t domid,
                        struct keel_hv_sched_rtds **vcpus_r, size_t *n_r);
/* Sets the n vCPUs named in vcpus (each vcpu below the domain's
 * maxvcpus, none twice), all or none: period_us 10..10000000 (10 s),
 * budget_us 10..period_us, extratime as given. KEEL_ERANGE naming the
 * vCPU and the value. */
int keel_sched_rtds_set(struct keel_host *host, uint32_t domid,
                        const struct keel_hv_sched_rtds *vcpus, size_t n);

/* Pool-wide parameters: credit's tslice_ms (1..1000) and ratelimit_us,
 * credit2's ratelimit_us (0: off, or 100..500000, and for credit at most
 * tslice_ms x 1000). params->sched must be the pool's scheduler; rtds
 * and null have none (KEEL_EINVAL). */
int keel_sched_pool_get(struct keel_host *host, uint32_t poolid,
                        struct keel_hv_sched_pool *params);
int keel_sched_pool_set(struct keel_host *host, uint32_t poolid,
                        const struct keel_hv_sched_pool *params);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_CPUPOOL_H */
