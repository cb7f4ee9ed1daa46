/* host.h: a host managed by libkeel, and the events it reports
 *
 * struct keel_host is libkeel's view of one hypervisor host: it sits on a
 * struct keel_hv and owns the toolstack's half of every domain, which the
 * hypervisor does not keep: the configuration a domain was created with
 * (so it can be listed and re-created on reboot), its name, and what to
 * do when its guest stops. domain.h and cpupool.h operate on it.
 *
 * Where the toolstack's half lives:
 *   STATE_DIR/domain-<domid>-<uuid>.json  the domain's configuration (after
 *       defaults, kept current by rename, mem-set, vcpu-set, ...), in the
 *       JSON of keel_domain_config_write(); replaced atomically and
 *       durably (temporary file, fsync, rename, fsync of the directory)
 *   the store: /local/domain/<domid>/ name, domid, vm, memory/target,
 *       memory/static-max, cpu/<n>/availability, control/shutdown;
 *       /vm/<uuid>/ name, start_time; /local/pool/<id>/name,
 *       as Xen's own toolstack writes them; and
 *       /local/domain/<domid>/keel/stopped, the shutdown reason whose
 *       on_* action was already carried out (so a preserved domain is not
 *       handled twice), /local/domain/<domid>/keel/adopted, "1" for
 *       a domain adopted as below (keel_domain_info's adopted), and
 *       /vm/<uuid>/creating ("run" or "paused"), there from before the
 *       hypervisor's create until the domain is whole
 * Each write is one small file or store node, so an operation costs the
 * same with 10,000 domains as with one.
 *
 * Opening a host reconciles the two halves: a config file whose domain is
 * gone is removed; a create that a killed process left half done (its
 * creating mark is there) is finished when its file was written (the
 * domain runs, unless it was created paused) and taken back when not; a
 * domain the hypervisor has but no file describes, and that keel was not
 * creating (another toolstack's) is adopted with a config built from
 * what the hypervisor and the store say, and a warning. So every domain
 * has an owner.
 *
 * Events: the host turns the backend's events into struct
 * keel_domain_event records and carries out the on_* actions of guests
 * that stop on their own. Nothing happens behind the caller's back: the
 * caller polls keel_host_event_fd() (from any event loop) and calls
 * keel_host_events() when it is readable, or calls keel_host_wait(). The
 * operations of domain.h queue their own events (created, destroyed,
 * paused, ...) in the same queue, so one consumer sees everything.
 *
 * Threads: a host may be used from several threads; each call holds the
 * host's lock while it works, and calls that wait (shutdown with a
 * timeout, keel_host_wait) drop it while they sleep. The ctx rules of
 * keel.h apply. libkeel starts no thread for a host.
 *
 * Checklist when adding an event type: the enum here,
 * keel_domain_event_type_name() (lib/host.c), keeld's event fan-out and
 * the libvirt event mapping, the Python binding.
 */
#ifndef KEEL_HOST_H
#define KEEL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/config.h>
#include <keel/hv.h>
#include <keel/keel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest domain or CPU pool name, in bytes. */
#define KEEL_NAME_MAX 127

/* Most events kept for the consumer; older ones are dropped first and
 * the gap shows as a jump in keel_domain_event.seq. */
#define KEEL_HOST_EVENT_QUEUE 4096

struct keel_host;

/* Opens the host behind hv, keeping the domain configs in state_dir
 * (created if missing, mode 0750). hv must stay open until the host is
 * closed; the host does not own it. flags: none defined, must be 0.
 * Returns 0, KEEL_EINVAL, KEEL_ENOMEM, -errno for the directory, or the
 * backend's error. */
int keel_host_open(struct keel_ctx *ctx, struct keel_hv *hv,
                   const char *state_dir, unsigned int flags,
                   struct keel_host **host_r);

/* Closes a host; NULL is a no-op. Domains keep running. */
void keel_host_close(struct keel_host *host);

struct keel_hv *keel_host_hv(const struct keel_host *host);
struct keel_ctx *keel_host_ctx(const struct keel_host *host);

/* What the host is, with its NUMA layout: node_cpus[n] is node n's CPUs
 * (n < physinfo.nr_nodes, at most KEEL_HOST_MAX_NODES). */
#define KEEL_HOST_MAX_NODES 64

struct keel_host_info {
    struct keel_hv_physinfo physinfo;
    struct keel_cpumap node_cpus[KEEL_HOST_MAX_NODES];
    struct keel_cpumap free_cpus; /* in no CPU pool */
    uint32_t nr_domains;          /* Domain-0 included, dying excluded */
};

/* Returns 0 or the backend's error. */
int keel_host_info(struct keel_host *host, struct keel_host_info *info);

/* Resolves an xl CPU spec ("all", "0-3,^1", "nodes:1", see
 * keel_cpuspec_normalize) against the host's CPUs and NUMA nodes.
 * Returns 0 or KEEL_EINVAL naming the term. */
int keel_host_resolve_cpus(struct keel_host *host, const char *spec,
                           struct keel_cpumap *map_r);

enum keel_domain_event_type {
    KEEL_DOMAIN_EVENT_CREATED = 1,   /* started (running, or paused) */
    KEEL_DOMAIN_EVENT_PAUSED = 2,    /* by the toolstack */
    KEEL_DOMAIN_EVENT_UNPAUSED = 3,  /* by the toolstack */
    KEEL_DOMAIN_EVENT_SHUTDOWN = 4,  /* the guest stopped: reason, action */
    KEEL_DOMAIN_EVENT_DESTROYED = 5, /* gone from the host */
    KEEL_DOMAIN_EVENT_RESTARTED = 6, /* re-created by an action: new_domid */
    KEEL_DOMAIN_EVENT_RENAMED = 7,   /* name is the new name */
    KEEL_DOMAIN_EVENT_RESET = 8,     /* soft reset: same domid, rebooted */
    KEEL_DOMAIN_EVENT_SAVED = 9,     /* written to a stream (migrate.h);
                                        DESTROYED follows unless kept */
    KEEL_DOMAIN_EVENT_RESTORED = 10, /* built from a stream; follows CREATED */
    KEEL_DOMAIN_EVENT_MIGRATED = 11, /* handed over to another host;
                                        DESTROYED follows */
};

/* One event. domid, uuid and name are the domain's as they were when the
 * event happened. */
struct keel_domain_event {
    uint64_t seq; /* 1, 2, 3, ... for the host's lifetime */
    enum keel_domain_event_type type;
    uint32_t domid;
    uint8_t uuid[16];
    char name[KEEL_NAME_MAX + 1];
    enum keel_shutdown_reason reason; /* SHUTDOWN */
    enum keel_action action;          /* SHUTDOWN: what was done */
    uint32_t new_domid;               /* RESTARTED */
};

/* "created", "paused", ...; NULL for an unknown value. */
const char *keel_domain_event_type_name(enum keel_domain_event_type type);

/* An fd that polls readable when keel_host_events() has work: the
 * backend has events, or libkeel's queue holds events that calls made
 * (created, paused, ...). Owned by the host. */
int keel_host_event_fd(struct keel_host *host);

/* Reads the backend's waiting events, carries out the on_* actions of
 * guests that stopped, and moves up to max queued events into evs
 * (oldest first); *n_r is how many. Never blocks. Returns 0, the
 * backend's error, or the error of an on_* action that could not be
 * carried out (the events are still returned). A restart that fails
 * after the old domain is destroyed (the host lacks the memory, say)
 * keeps the config in STATE_DIR/restart-failed-<uuid>.json, which
 * opening a host leaves alone, and says so in a warning. */
int keel_host_events(struct keel_host *host, struct keel_domain_event *evs,
                     size_t max, size_t *n_r);

/* As keel_host_events, first waiting up to timeout_ms (-1: forever) for
 * an event to be queued. *n_r is 0 when the time ran out or a signal
 * interrupted the wait. Returns 0 or the backend's error. */
int keel_host_wait(struct keel_host *host, int timeout_ms,
                   struct keel_domain_event *evs, size_t max, size_t *n_r);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_HOST_H */
