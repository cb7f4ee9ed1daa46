/* host-internal.h: what lib/host.c, domain.c, cpupool.c and sched.c share
 *
 * struct keel_host holds the toolstack's half of each domain (struct
 * keel__dom: its config, start time and which stop was handled), indexed
 * by domid and hashed by name and uuid so that every lookup is O(1), and
 * the queue of events for the consumer.
 *
 * Locking: a public call takes the host's lock with keel__host_begin()
 * and gives it back with keel__host_end(), which also brackets the ctx's
 * error state (keel__enter / keel__leave). Internal helpers expect the
 * lock to be held. Waiting calls use keel__host_sleep(), which drops the
 * lock around a poll of the event fd.
 */
#ifndef KEEL_HOST_INTERNAL_H
#define KEEL_HOST_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/config.h>
#include <keel/cpupool.h>
#include <keel/domain.h>
#include <keel/host.h>
#include <keel/hv.h>

#include "internal.h"

/* The toolstack's half of one domain (not Domain-0). */
struct keel__dom {
    uint32_t domid;
    uint8_t uuid[16];
    struct keel_domain_config cfg; /* after defaults; cfg.name, cfg.uuid */
    uint64_t start_time_ns;
    int stopped;      /* -1, or the shutdown reason already acted on */
    uint64_t actions; /* on_* actions carried out (waiters compare) */
    /* Found running without a record when a host was opened, so not
     * created by keel: its config is what the hypervisor and the store
     * said. Kept in the store (/local/domain/<domid>/keel/adopted) so it
     * survives the next open, which finds the record adopt() wrote. */
    bool adopted;
    /* A save, restore or migration owns the domain ("save", ...): calls
     * that would change it fail with KEEL_EBUSY. NULL when none. */
    const char *busy;
    struct keel__dom *name_next; /* hash chains */
    struct keel__dom *uuid_next;
};

struct keel__hash {
    struct keel__dom **slots;
    size_t n_slots; /* a power of two */
};

struct keel_host {
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    char *dir;
    pthread_mutex_t lock;
    struct keel__dom **doms; /* KEEL_DOMID_FIRST_RESERVED slots, by domid */
    size_t n_doms;
    struct keel__hash by_name, by_uuid;
    /* topology, read at open */
    uint32_t nr_cpus, nr_nodes;
    struct keel_cpumap node_cpus[KEEL_HOST_MAX_NODES];
    /* the consumer's queue: a ring of KEEL_HOST_EVENT_QUEUE. evfd counts
     * while the queue is not empty; epfd (keel_host_event_fd) polls it
     * and the backend's fd, so a consumer wakes for either. */
    int evfd, epfd;
    struct keel_domain_event *evq;
    size_t evq_head, evq_len;
    uint64_t seq;
    /* the outcome of the last on_* action that failed, for a waiter */
    uint32_t failed_domid;
    uint8_t failed_uuid[16];
    int failed_rc;
};

/* Bit of enum keel_domain_state in a mask of allowed states. */
#define KEEL__ST(state) (1u << (state))
#define KEEL__ST_LIVE                                                          \
    (KEEL__ST(KEEL_DOMAIN_RUNNING) | KEEL__ST(KEEL_DOMAIN_PAUSED))

/* host.c: locking */
void keel__host_begin(struct keel_host *host);
int keel__host_end(struct keel_host *host, int rc);
/* Drops the lock, waits up to ms for the event fd, takes the lock.
 * Returns false when a signal cut the wait short. */
bool keel__host_sleep(struct keel_host *host, int ms);

/* host.c: the records */
struct keel__dom *keel__dom_find(struct keel_host *host, uint32_t domid);
struct keel__dom *keel__dom_by_name(struct keel_host *host, const char *name);
struct keel__dom *keel__dom_by_uuid(struct keel_host *host,
                                    const uint8_t uuid[16]);
/* Takes ownership of d (fully filled) and indexes it; its file is not
 * written (keel__dom_save). */
void keel__dom_insert(struct keel_host *host, struct keel__dom *d);
/* Unindexes d and removes its file; d is freed. */
void keel__dom_forget(struct keel_host *host, struct keel__dom *d);
/* Re-indexes d after its name or uuid changed (old values given). */
void keel__dom_renamed(struct keel_host *host, struct keel__dom *d,
                       const char *old_name, const uint8_t old_uuid[16]);
/* Removes a domain's store nodes: /local/domain/<domid> unless domid is
 * KEEL_DOMID_INVALID, and /vm/<uuid> unless uuid is NULL. Absent nodes
 * are no fault. */
void keel__dom_remove_store(struct keel_host *host, uint32_t domid,
                            const uint8_t uuid[16]);
/* Writes cfg to STATE_DIR/restart-failed-<uuid>.json, which opening
 * ignores, before a restart destroys the domain; the restart removes it
 * once the new domain exists, so a failed restart loses no config.
 * Returns the file's name (free it), or NULL after recording why. */
char *keel__config_park(struct keel_host *host,
                        const struct keel_domain_config *cfg);
/* Writes d's config file (temporary file, then rename). */
int keel__dom_save(struct keel_host *host, struct keel__dom *d);
struct keel__dom *keel__dom_new(void);
void keel__dom_free(struct keel__dom *d);

/* host.c: the state machine. Fetches the domain's hypervisor info into
 * *info (may be NULL) and its record into *d_r (NULL for Domain-0), and
 * checks that op is allowed in its state (mask of KEEL__ST) and on
 * Domain-0 (dom0_ok). Returns 0, KEEL_ENODOMAIN, KEEL_EPERM (Domain-0),
 * KEEL_ESTATE naming op and the state, or KEEL_EBUSY when a save or
 * migration owns the domain and op may change it (states is not ~0u). */
int keel__dom_check(struct keel_host *host, uint32_t domid, const char *op,
                    unsigned int states, bool dom0_ok, struct keel__dom **d_r,
                    struct keel_hv_dominfo *info);
enum keel_domain_state keel__state_of(const struct keel_hv_dominfo *info);

/* host.c: events */
void keel__event_queue(struct keel_host *host, enum keel_domain_event_type type,
                       const struct keel__dom *d, uint32_t domid);
/* The last queued event, to fill in reason/action/new_domid. */
struct keel_domain_event *keel__event_last(struct keel_host *host);
/* Reads the backend's events and carries out due actions. */
int keel__host_pump(struct keel_host *host);
/* Looks at d's state and carries out what is due: a stop's on_* action
 * (not while d is busy), or forgetting a domain that died. d may be gone
 * afterwards. */
int keel__dom_changed(struct keel_host *host, struct keel__dom *d);

/* host.c: names, pools */
int keel__name_check(struct keel_ctx *ctx, const char *what, const char *name);
/* Pool name from the store into buf (KEEL_NAME_MAX + 1); "" when unset. */
void keel__pool_name(struct keel_host *host, uint32_t poolid, char *buf);
/* Pool by name (not id); KEEL_ENOPOOL naming it when none. */
int keel__pool_by_name(struct keel_host *host, const char *name,
                       uint32_t *poolid_r);
/* Store path helpers: writes a printf-made value at a printf-made path. */
int keel__store_printf(struct keel_host *host, const char *path,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* domain-ops.c: rewrites d->cfg.cpus and cpus_soft from the vCPUs' hard
 * and soft affinity as the backend has them now (one spec when every
 * vCPU has the same, else one per vCPU; "all" for every host CPU), and
 * saves d. For whoever changed affinity: vcpu-pin, cpupool cpu-remove. */
int keel__dom_sync_affinity(struct keel_host *host, struct keel__dom *d);

/* host-open.c: the mark of a create in progress, /vm/<uuid>/creating
 * ("run" or "paused": what the create was to leave), written before the
 * domain is made and removed once it is whole (a failure to remove it is
 * a warning: the next open finds the domain whole). */
int keel__create_mark(struct keel_host *host, const uint8_t uuid[16],
                      const char *leave);
void keel__dom_created(struct keel_host *host, const uint8_t uuid[16]);

/* domain.c: create and destroy under the lock, for lib/migrate. create
 * marks the new record busy (may be NULL) before the lock is given back;
 * destroy takes d's domain, store nodes, record and file. create's flags
 * are keel_domain_create's and KEEL__CREATE_EMPTY: the backend makes the
 * domain for its image_restore to fill (KEEL_HV_CREATE_EMPTY). */
#define KEEL__CREATE_EMPTY (1u << 31)
int keel__dom_create(struct keel_host *host,
                     const struct keel_domain_config *cfg, unsigned int flags,
                     const char *busy, uint32_t *domid_r);
int keel__dom_destroy(struct keel_host *host, struct keel__dom *d);
/* domain.c: gives d a new name and uuid (in the hypervisor, the tables,
 * the store, its file name), as rename-restart and local migration do.
 * The caller saves the record. */
int keel__dom_rekey(struct keel_host *host, struct keel__dom *d,
                    const char *name, const uint8_t uuid[16]);

/* domain.c: what the event pump calls when a guest stopped. */
int keel__dom_stopped(struct keel_host *host, struct keel__dom *d,
                      const struct keel_hv_dominfo *info);

/* sched.c: the range checks keel_sched_*_set make, also used by
 * keel_domain_create before it allocates anything. max_vcpus is the
 * domain's. Return 0 or KEEL_ERANGE / KEEL_EINVAL naming the value. */
int keel__sched_check_dom(struct keel_ctx *ctx,
                          const struct keel_hv_sched_dom *params,
                          uint32_t max_vcpus);
int keel__sched_check_rtds(struct keel_ctx *ctx,
                           const struct keel_hv_sched_rtds *rtds,
                           uint32_t max_vcpus);

/* cpupool.c: keeps records current when a domain changes pools. */
int keel__dom_set_pool(struct keel_host *host, struct keel__dom *d,
                       uint32_t poolid);

#endif /* KEEL_HOST_INTERNAL_H */
