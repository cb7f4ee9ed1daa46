/* sim.h: internals of the simulated Xen host, shared by lib/hv/sim/ files
 *
 * Files and what they own:
 *   sim.c      the ops table, open/close, the directory lock, the clock
 *              and the "advance" step that lets simulated time act;
 *              keel_sim_*
 *   state.c    state.json: host, pools, domains (read, write atomically),
 *              and the pool and domain records the journal shares
 *   journal.c  DIR/journal: each op's changes appended as one line,
 *              replayed over the snapshots (state.json, store.json) at
 *              open, folded into new snapshots when it grows; the marks
 *              of what the next line carries
 *   timeline.c what simulated time must visit: a heap of domains by
 *              deadline, the dirtying guests; CPU time counted lazily
 *   spec.c     the host spec string
 *   host.c     physical info, CPU topology, NUMA nodes
 *   domain.c   domains, vCPUs, affinity, soft reset; memory and pool totals
 *   blob.c     context blobs (dom-N.ctx) and their ops
 *   memops.c   the migration primitives over mem.c
 *   pool.c     CPU pools
 *   sched.c    scheduler parameters per domain, vCPU (RTDS) and pool
 *   guest.c    the guest model: control/shutdown, cpu availability,
 *              balloon, actions on its own
 *   event.c    the event queue, the store ops and watches, the event fd
 *   store.c    the xenstore-like tree, store.json and its journal changes
 *   mem.c      guest memory files, mappings, log-dirty, dirtying, digest
 *
 * Time: nothing happens between calls. Every op first calls sim_advance(),
 * which applies what simulated time has done since the last call: pages
 * dirtied, guest answers whose delay has passed, dying domains gone. The
 * event fd is a timerfd armed for the next such deadline, so a waiting
 * loop wakes when a guest would act even if nobody calls in.
 *
 * Scale: an op costs O(1) or O(log domains), however many domains the
 * host has (listing domains and pool ops that touch every domain of a
 * pool excepted). So nothing per op walks all domains: domains are found
 * through a table indexed by domid; advance visits only the domains on
 * the timeline (timeline.c) and the dirtying guests; CPU time is computed
 * when read; memory and pool totals are kept as domains change; and the
 * sync at the end of an op appends only what changed to the journal.
 * Whatever changes a domain calls sim_domain_changed() afterwards, and
 * sim_domain_settle() first when the change alters the rate at which it
 * uses CPU time (running or not, busy, vCPUs on line).
 */
#ifndef KEEL_SIM_INTERNAL_H
#define KEEL_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/hv.h>
#include <keel/sim.h>

#include "../../internal.h"

#define SIM_STATE_FORMAT "keel-sim"
#define SIM_STATE_VERSION 2
#define SIM_MAX_VCPUS 512
#define SIM_NOWHERE SIZE_MAX /* not on the timeline / dirtier list */

struct sim_vcpu {
    bool online;
    uint64_t cpu_time_ns; /* up to the domain's settled_ns */
    struct keel_cpumap hard;
    struct keel_cpumap soft;
    struct keel_hv_sched_rtds rtds;
};

/* A context blob a migration moves (enum keel_hv_ctx_kind + index). */
struct sim_blob {
    uint32_t kind;
    uint32_t index;
    size_t len;
    uint8_t *data;
};

/* A domain's memory: DIR/dom-<domid>.mem holds nr_pfns frames (sparse),
 * DIR/dom-<domid>.dirty the log-dirty bitmap; both mapped MAP_SHARED, so
 * what is written survives the process. No file stays open: the mappings
 * keep the files, so ten thousand domains need no descriptors. Owned by
 * mem.c. */
struct sim_mem {
    bool open;       /* files mapped (base is NULL when nr_pfns is 0) */
    uint8_t *base;   /* nr_pfns * 4096 bytes, or NULL */
    uint8_t *bitmap; /* (nr_pfns + 7) / 8 bytes, or NULL */
    uint64_t nr_pfns;
};

struct sim_domain {
    uint32_t domid;
    uint8_t uuid[16];
    enum keel_domain_type type;
    uint32_t pause_count;
    bool shutdown;
    uint32_t shutdown_reason;
    bool dying;
    uint64_t dying_at_ns; /* when destroy made it dying */
    uint64_t tot_kb;
    uint64_t max_kb;
    uint32_t max_vcpus;
    struct sim_vcpu *vcpus; /* max_vcpus entries */
    uint32_t poolid;
    struct keel_hv_sched_dom sched;
    struct keel_sim_guest guest;
    bool logdirty;
    bool request_waiting;   /* control/shutdown written while paused */
    int pending_action;     /* -1, or the shutdown reason due at */
    uint64_t pending_at_ns; /* ... this time */
    double dirty_carry;     /* fraction of a page owed to dirtying */
    uint64_t rng;           /* dirtying's pseudo-random state */
    uint64_t dirty_seq;     /* what the last dirtied word holds */
    struct sim_blob *blobs;
    size_t n_blobs;
    struct sim_mem mem;
    /* CPU time is accounted up to settled_ns (and, while the guest
     * cannot run, its pending_at_ns moved on to then); from there on it
     * is computed when read (timeline.c). Records in state.json and the
     * journal are settled at their file's or batch's clock_ns. */
    uint64_t settled_ns;
    /* Not persisted. */
    uint64_t due_ns;    /* when simulated time must visit it (timeline.c) */
    size_t due_idx;     /* its place in s->due, or SIM_NOWHERE */
    size_t dirtier_idx; /* its place in s->dirtiers, or SIM_NOWHERE */
    bool changed;       /* listed for the next journal batch */
};

struct sim_pool {
    uint32_t poolid;
    struct keel_cpumap cpus;
    struct keel_hv_sched_pool params; /* params.sched is the scheduler */
    /* Not persisted: kept as domains come, go and move. */
    uint32_t n_dom;   /* domains in the pool, dying ones included */
    uint64_t used_kb; /* their tot_kb */
};

struct sim_watch {
    char *path;
    char *token;
};

struct sim_store;

/* DIR/journal and what the next batch carries (journal.c). */
struct sim_journal {
    int fd;                  /* open for appending, or -1 */
    uint64_t generation;     /* state.json's; 0: no journal belongs to it */
    uint64_t bytes;          /* the journal's length */
    uint64_t snapshot_bytes; /* state.json + store.json */
    bool compact;            /* the next sync writes new snapshots */
    bool pools;              /* the pool list changed */
    uint32_t *doms;          /* changed domains (d->changed), by domid */
    size_t n_doms, cap_doms;
    uint32_t *gone; /* domains that went */
    size_t n_gone, cap_gone;
};

struct sim {
    struct keel_hv *hv;
    struct keel_ctx *ctx;
    char *dir;
    int lock_fd;
    int timer_fd;
    struct keel_sim_spec spec;
    bool manual_clock;
    uint64_t clock_ns;        /* manual clock: now */
    uint64_t last_ns;         /* time of the last advance */
    uint32_t next_domid;      /* where the next domid search starts */
    struct sim_domain **doms; /* sorted by domid */
    size_t n_doms, cap_doms;
    struct sim_domain **by_domid; /* KEEL_DOMID_FIRST_RESERVED slots */
    uint64_t used_kb;             /* tot_kb of all domains */
    struct sim_domain **due;      /* heap on (due_ns, domid) */
    size_t n_due, cap_due;
    struct sim_domain **dirtiers; /* guests with a dirty rate */
    size_t n_dirtiers, cap_dirtiers;
    struct sim_pool *pools; /* sorted by poolid */
    size_t n_pools;
    struct sim_store *store;
    struct sim_watch *watches;
    size_t n_watches;
    struct keel_hv_event *events; /* queued, oldest first */
    size_t n_events;
    size_t cap_events;
    struct sim_journal journal;
    bool no_sync; /* a failed open: write nothing on close */
};

/* sim.c */
uint64_t sim_now(struct sim *s);
int sim_advance(struct sim *s);
int sim_sync(struct sim *s);
char *sim_path(struct sim *s, const char *name);

/* spec.c: keel_sim_spec_parse is public; these format for state.json. */
int sim_spec_check(struct keel_ctx *ctx, const struct keel_sim_spec *spec);

/* state.c: state.json, and the records the journal shares with it */
struct yajl_val_s;
struct yajl_gen_t;
/* Reads state.json alone; sim_domains_ready() finishes a load. */
int sim_state_load(struct sim *s);
int sim_state_parse(struct sim *s, const char *file, const char *text);
/* Writes state.json whole, settling every domain at the clock first. */
int sim_state_save(struct sim *s);
void sim_state_gen_pools(struct yajl_gen_t *g, const struct sim *s);
void sim_state_gen_domain(struct yajl_gen_t *g, const struct sim_domain *d);
/* Replace s's pools with the array v / read one domain record; where
 * names the place in messages (KEEL_ECORRUPT). */
int sim_state_read_pools(struct sim *s, const char *where,
                         struct yajl_val_s *v);
int sim_state_read_domain(struct sim *s, const char *where,
                          struct yajl_val_s *v, struct sim_domain **d_r);

/* journal.c */
void sim_journal_init(struct sim_journal *j);
void sim_journal_free(struct sim_journal *j);
/* Replays DIR/journal over the loaded snapshots (after sim_state_load
 * and the store's load); drops a torn last line. */
int sim_journal_load(struct sim *s);
/* Parses journal text (the whole file) into s: the fuzz target's door. */
int sim_journal_replay(struct sim *s, const char *file, char *text, size_t len,
                       size_t *good_r);
/* Appends what changed as one line, or writes new snapshots when the
 * journal has grown (or must be rewritten). */
int sim_journal_sync(struct sim *s);
int sim_journal_compact(struct sim *s);
/* Marks for the next batch. */
void sim_journal_domain(struct sim *s, struct sim_domain *d);
void sim_journal_gone(struct sim *s, uint32_t domid);
void sim_journal_pools(struct sim *s);

/* timeline.c */
/* Accounts d's CPU time up to now (and moves a stopped guest's pending
 * action on); call before changing what its CPU rate depends on. */
void sim_domain_settle(struct sim_domain *d, uint64_t now);
uint64_t sim_vcpu_time(const struct sim *s, const struct sim_domain *d,
                       uint32_t vcpu);
/* Puts d where its state says on the heap and the dirtier list. */
void sim_timeline_update(struct sim *s, struct sim_domain *d);
void sim_timeline_remove(struct sim *s, struct sim_domain *d);
/* Does what falls due in (start, now]: reaping, guests' answers,
 * dirtying. */
void sim_timeline_run(struct sim *s, uint64_t start, uint64_t now);
/* The next deadline, or UINT64_MAX. */
uint64_t sim_timeline_next(const struct sim *s);

/* domain.c */
struct sim_domain *sim_domain_find(const struct sim *s, uint32_t domid);
struct sim_domain *sim_domain_get(struct sim *s, uint32_t domid);
/* Insert and remove keep the memory and pool totals; remove takes the
 * domain off the timeline and does not free it. */
int sim_domain_insert(struct sim *s, struct sim_domain *d);
void sim_domain_remove(struct sim *s, struct sim_domain *d);
void sim_domain_free(struct sim_domain *d);
struct sim_domain *sim_domain_alloc(uint32_t max_vcpus);
void sim_domain_changed(struct sim *s, struct sim_domain *d);
void sim_domain_set_tot_kb(struct sim *s, struct sim_domain *d, uint64_t kb);
void sim_domain_set_pool(struct sim *s, struct sim_domain *d, uint32_t poolid);
/* After a load: checks every domain's pool, recounts the totals, opens
 * the memory and context of live domains, builds the timeline. */
int sim_domains_ready(struct sim *s);
uint64_t sim_free_kb(struct sim *s);
void sim_domain_fill_info(struct sim *s, const struct sim_domain *d,
                          struct keel_hv_dominfo *info);
void sim_domain_set_shutdown(struct sim *s, struct sim_domain *d,
                             uint32_t reason);
void sim_domain_reap(struct sim *s, struct sim_domain *d);
int sim_dom0_init(struct sim *s);
bool sim_domain_runnable(const struct sim_domain *d);

/* blob.c */
int sim_blobs_init(struct sim *s, struct sim_domain *d);
int sim_blobs_load(struct sim *s, struct sim_domain *d);
void sim_blobs_unlink(struct sim *s, uint32_t domid);
void sim_blobs_free(struct sim_domain *d);

/* pool.c */
struct sim_pool *sim_pool_find(struct sim *s, uint32_t poolid);
struct sim_pool *sim_pool_get(struct sim *s, uint32_t poolid);
int sim_pool_insert(struct sim *s, const struct sim_pool *p);
void sim_sched_dom_default(enum keel_scheduler sched,
                           struct keel_hv_sched_dom *params);
void sim_sched_rtds_default(uint32_t vcpu, struct keel_hv_sched_rtds *rtds);
void sim_sched_pool_default(enum keel_scheduler sched,
                            struct keel_hv_sched_pool *params);
uint32_t sim_pool_n_dom(struct sim *s, uint32_t poolid);
int sim_pool0_init(struct sim *s);

/* guest.c */
void sim_guest_default(struct sim_domain *d);
/* d is due on the timeline: a request to read, an action to take. */
void sim_guest_due(struct sim *s, struct sim_domain *d, uint64_t start,
                   uint64_t now);
void sim_guest_store_written(struct sim *s, const char *path, const char *val);

/* event.c */
int sim_event_open(struct sim *s);
void sim_event_close(struct sim *s);
int sim_event_queue_domain(struct sim *s, uint32_t domid);
void sim_watch_fire(struct sim *s, const char *path, bool removed);
void sim_event_rearm(struct sim *s);
void sim_watches_free(struct sim *s);

/* store.c: a tree of nodes with byte-string values, persisted as
 * DIR/store.json. Paths are absolute ("/local/domain/0/name"): '/'
 * separated components of [A-Za-z0-9_@.:-], no empty component, no
 * trailing '/', at most 3072 bytes (xenstore's XENSTORE_ABS_PATH_MAX);
 * values at most 4096 bytes (XENSTORE_PAYLOAD_MAX), any bytes. The root
 * "/" exists always and cannot be removed. Errors are recorded on ctx. */
int sim_store_new(struct sim_store **store_r);
void sim_store_free(struct sim_store *store);
int sim_store_check_path(struct keel_ctx *ctx, const char *path);
int sim_store_read(struct keel_ctx *ctx, struct sim_store *store,
                   const char *path, char **val_r, size_t *len_r);
int sim_store_write(struct keel_ctx *ctx, struct sim_store *store,
                    const char *path, const void *val, size_t len);
int sim_store_remove(struct keel_ctx *ctx, struct sim_store *store,
                     const char *path);
int sim_store_list(struct keel_ctx *ctx, struct sim_store *store,
                   const char *path, char ***names_r, size_t *n_r);
/* True when something changed since the last save or load. */
bool sim_store_dirty(const struct sim_store *store);
/* With logging on, every write and removal that changes the tree is also
 * kept as a change, for the journal, until sim_store_changes_clear. */
void sim_store_log(struct sim_store *store, bool on);
size_t sim_store_n_changes(const struct sim_store *store);
/* The changes as a JSON array; 0, or non-zero when yajl_gen failed. */
int sim_store_gen_changes(const struct sim_store *store, struct yajl_gen_t *g);
void sim_store_changes_clear(struct sim_store *store);
/* Applies a JSON array of changes; KEEL_ECORRUPT naming where when it
 * is not one sim_store_gen_changes wrote. Replaying changes that the
 * tree already holds leaves it as it is. */
int sim_store_replay(struct keel_ctx *ctx, struct sim_store *store,
                     const char *where, struct yajl_val_s *changes);
/* Writes the tree to file atomically (temporary file, then rename). */
int sim_store_save(struct keel_ctx *ctx, struct sim_store *store,
                   const char *file);
/* Replaces the tree with file's; KEEL_ECORRUPT naming file and the fault
 * when it is not a store file keel wrote. A missing file: KEEL_ENOENT. */
int sim_store_load(struct keel_ctx *ctx, struct sim_store *store,
                   const char *file);

/* mem.c */
int sim_mem_open(struct sim *s, struct sim_domain *d, bool create);
void sim_mem_close(struct sim_mem *mem);
void sim_mem_unlink(struct sim *s, uint32_t domid);
int sim_mem_grow(struct sim *s, struct sim_domain *d, uint64_t nr_pfns);
int sim_mem_map(struct sim *s, struct sim_domain *d, const uint64_t *pfns,
                size_t n, unsigned int flags, void **addr_r);
int sim_mem_unmap(struct sim *s, void *addr, size_t n);
void sim_mem_dirty(struct sim *s, struct sim_domain *d, uint64_t elapsed_ns);
int sim_mem_logdirty_read(struct sim *s, struct sim_domain *d, uint8_t *bitmap,
                          uint64_t nr_pfns, unsigned int flags,
                          uint64_t *dirty_r);
void sim_mem_logdirty_clear(struct sim_domain *d);
int sim_mem_digest(struct sim *s, struct sim_domain *d, char hex[33]);
int sim_mem_gc(struct sim *s);

/* --- op implementations (struct keel_hv_ops slots), by file --- */
/* sim.c */
struct sim *sim_of(struct keel_hv *hv);
int sim_begin(struct keel_hv *hv, struct sim **s_r);
int sim_end(struct sim *s, int rc);
void sim_close(struct keel_hv *hv);
void sim_free(struct sim *s);
/* host.c */
int sim_op_physinfo(struct keel_hv *hv, struct keel_hv_physinfo *info);
int sim_op_cputopo(struct keel_hv *hv, struct keel_hv_cputopo *topo, size_t max,
                   size_t *n_r);
int sim_op_numainfo(struct keel_hv *hv, struct keel_hv_numainfo *nodes,
                    size_t max, size_t *n_r);
/* domain.c */
int sim_op_domain_create(struct keel_hv *hv,
                         const struct keel_hv_domain_spec *spec,
                         uint32_t *domid_r);
int sim_op_domain_destroy(struct keel_hv *hv, uint32_t domid);
int sim_op_domain_pause(struct keel_hv *hv, uint32_t domid);
int sim_op_domain_unpause(struct keel_hv *hv, uint32_t domid);
int sim_op_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                           enum keel_shutdown_reason reason);
int sim_op_domain_resume(struct keel_hv *hv, uint32_t domid);
int sim_op_domain_soft_reset(struct keel_hv *hv, uint32_t domid);
int sim_op_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                           const uint8_t uuid[16]);
int sim_op_domain_info(struct keel_hv *hv, uint32_t domid,
                       struct keel_hv_dominfo *info);
int sim_op_domain_list(struct keel_hv *hv, uint32_t first,
                       struct keel_hv_dominfo *infos, size_t max, size_t *n_r);
int sim_op_domain_set_max_mem(struct keel_hv *hv, uint32_t domid,
                              uint64_t max_kb);
int sim_op_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                             const struct keel_cpumap *hard,
                             const struct keel_cpumap *soft);
int sim_op_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                     struct keel_hv_vcpuinfo *info);
/* blob.c */
int sim_op_context_get(struct keel_hv *hv, uint32_t domid,
                       enum keel_hv_ctx_kind kind, uint32_t index, void **buf_r,
                       size_t *len_r);
int sim_op_context_set(struct keel_hv *hv, uint32_t domid,
                       enum keel_hv_ctx_kind kind, uint32_t index,
                       const void *buf, size_t len);
/* pool.c */
int sim_op_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                          enum keel_scheduler sched);
int sim_op_cpupool_destroy(struct keel_hv *hv, uint32_t poolid);
int sim_op_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                        struct keel_hv_poolinfo *info);
int sim_op_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                        size_t max, size_t *n_r);
int sim_op_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu);
int sim_op_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid,
                              uint32_t cpu);
int sim_op_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid,
                               uint32_t domid);
int sim_op_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map);
/* sched.c */
int sim_op_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                            struct keel_hv_sched_dom *params);
int sim_op_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                            const struct keel_hv_sched_dom *params);
int sim_op_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                          struct keel_hv_sched_rtds *vcpus, size_t n);
int sim_op_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                          const struct keel_hv_sched_rtds *vcpus, size_t n);
int sim_op_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                          struct keel_hv_sched_pool *params);
int sim_op_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                          const struct keel_hv_sched_pool *params);
/* event.c: the store ops (the tree is store.c's; watches are here) */
int sim_op_store_read(struct keel_hv *hv, const char *path, char **val_r,
                      size_t *len_r);
int sim_op_store_write(struct keel_hv *hv, const char *path, const void *val,
                       size_t len);
int sim_op_store_remove(struct keel_hv *hv, const char *path);
int sim_op_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                      size_t *n_r);
int sim_op_store_watch(struct keel_hv *hv, const char *path, const char *token);
int sim_op_store_unwatch(struct keel_hv *hv, const char *path,
                         const char *token);
int sim_op_event_fd(struct keel_hv *hv);
int sim_op_event_read(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                      size_t *n_r);
/* memops.c: migration primitives over mem.c */
int sim_op_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r);
int sim_op_mem_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                   size_t n, unsigned int flags, void **addr_r);
int sim_op_mem_unmap(struct keel_hv *hv, void *addr, size_t n);
int sim_op_mem_page_types(struct keel_hv *hv, uint32_t domid,
                          const uint64_t *pfns, size_t n, uint32_t *types);
int sim_op_logdirty_enable(struct keel_hv *hv, uint32_t domid);
int sim_op_logdirty_disable(struct keel_hv *hv, uint32_t domid);
int sim_op_logdirty_read(struct keel_hv *hv, uint32_t domid, uint8_t *bitmap,
                         uint64_t nr_pfns, unsigned int flags,
                         uint64_t *dirty_r);
/* guest.c */
int sim_guest_set(struct sim *s, uint32_t domid,
                  const struct keel_sim_guest *guest);
int sim_guest_act(struct sim *s, uint32_t domid,
                  enum keel_shutdown_reason reason);

#endif /* KEEL_SIM_INTERNAL_H */
