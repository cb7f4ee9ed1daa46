/* migrate.h: save, restore and live migration of domains
 *
 * A domain leaves a host as a migration-v2 stream (stream.h) written to a
 * file descriptor, and arrives on a host by reading one. The same code
 * serves the three cases:
 *
 *   save      keel_domain_save(): the domain is paused, its memory and
 *             state written once, and then it is destroyed (xl save),
 *             left paused (xl save -p) or left running (xl save -c);
 *   restore   keel_domain_restore(): a domain is built from the config in
 *             the stream (or one given), its memory and state loaded, and
 *             it runs (or stays paused);
 *   migrate   keel_domain_migrate_send() / _receive(): pre-copy while the
 *             guest runs (log-dirty on, a full pass, then passes over what
 *             it dirtied since), until a policy decides to stop; then the
 *             guest is paused, the rest sent, and a handshake over the
 *             return channel hands the domain over.
 *
 * What a stream holds, in order (the record set of Xen's saver):
 *   PV:      X86_PV_INFO, X86_CPUID_POLICY, X86_MSR_POLICY, STATIC_DATA_END,
 *            X86_PV_P2M_FRAMES, PAGE_DATA..., X86_TSC_INFO, SHARED_INFO,
 *            per vCPU {BASIC, EXTENDED, XSAVE, MSRS}, END
 *   HVM/PVH: X86_CPUID_POLICY, X86_MSR_POLICY, STATIC_DATA_END,
 *            PAGE_DATA..., X86_TSC_INFO, HVM_CONTEXT, HVM_PARAMS, END
 * inside a libxl container (LIBXC_CONTEXT ... END) inside an xl header
 * carrying the domain's config as libxl JSON.
 *
 * The migration handshake (after the sender's last byte), one byte each:
 *   receiver -> sender   0 "received": the domain is built and paused
 *                        (any other byte, or end of file: failed)
 *   sender -> receiver   0 "go" (1 "go, but stay paused": the source
 *                        was paused when the migration began); the
 *                        source is paused for good
 *   receiver -> sender   0 "done": the destination runs
 * The sender destroys its copy only after "done". A failure before "go"
 * leaves the source running and the receiver removes what it built; after
 * "go", a "done" that says the destination failed resumes the source, but
 * no "done" at all leaves the source paused and says so, because the
 * destination may be running (xl's rule: never two copies running).
 * A receiver that gives up shuts its reading side down, so a sender on a
 * UNIX socket stops at once (on a pipe or TCP the caller must close the
 * descriptor); a sender that fails shuts its writing side down.
 *
 * Failure: a stream that is cut, corrupt or refused makes the receiver
 * fail with KEEL_ECORRUPT (or KEEL_EIO) and leave no domain behind; a
 * sender whose descriptor fails, or whose progress callback cancels
 * (KEEL_ECANCELED), or whose policy gives up (KEEL_ETIMEDOUT), returns
 * the error and puts the source back as it found it. A guest that shuts
 * down or crashes during the transfer fails it with KEEL_ESTATE (it is
 * not brought back elsewhere); its on_* action, held back while the
 * transfer owned the domain, is carried out as the call returns.
 *
 * Locking: these calls hold the host's lock only to check and change the
 * domain's state; the transfer itself runs without it, so other domains
 * stay usable. While a domain is being saved or migrated, other calls
 * that would change it fail with KEEL_EBUSY.
 *
 * Threads and errors: as host.h.
 */
#ifndef KEEL_MIGRATE_H
#define KEEL_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/config.h>
#include <keel/host.h>
#include <keel/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- the stop policy --- */

/* What a policy sees after each pass of the live phase. */
struct keel_migrate_pass {
    uint32_t pass;        /* 0 = the full pass, then 1, 2, ... */
    uint64_t pages_sent;  /* in this pass */
    uint64_t bytes_sent;  /* stream bytes of this pass */
    uint64_t send_ns;     /* time this pass took to send */
    uint64_t dirty_pages; /* dirtied during this pass: the next pass's
                             work, or what stop-and-copy would send */
    uint64_t total_pages; /* the domain's frames */
    uint64_t total_bytes; /* stream bytes so far, all passes */
};

enum keel_migrate_decision {
    KEEL_MIGRATE_CONTINUE = 0, /* another live pass */
    KEEL_MIGRATE_STOP = 1,     /* pause and copy the rest */
    KEEL_MIGRATE_ABORT = 2,    /* give up: the source keeps running */
};

enum keel_migrate_policy_kind {
    /* Xen's, as xl migrate has it (libxl sets no precopy policy, so
     * libxenguest's simple_precopy_policy decides): at most max_passes
     * live passes, the full pass included (default 5); once a pass
     * leaves fewer than dirty_threshold dirty pages (default 50), one
     * more live pass sends them and then the guest is paused; a pass
     * that leaves none stops at once. Never aborts. */
    KEEL_MIGRATE_POLICY_XEN = 0,
    /* keel's: pre-copies as long as passes pay. While a pass leaves
     * clearly fewer dirty pages than it sent, another follows (past
     * Xen's five); once fewer than dirty_threshold pages are dirty
     * (default 50), one last live pass sends them, as Xen's does, and it
     * stops; or, if downtime_ms is set, once the predicted pause (dirty pages
     * at the cost per page the last pass measured) is within it. A guest that
     * cannot converge (after the full pass: its dirty rate times the cost per
     * page reaches 0.9; later: a pass leaves 90% or more of what it sent) ends
     * the live phase at once, as does max_passes (default 30): it stops
     * if the predicted pause is within max_downtime_ms or that is 0, and
     * aborts otherwise (without a measured cost, a limit counts as
     * exceeded). */
    KEEL_MIGRATE_POLICY_DOWNTIME = 1,
    /* The caller's decide(). */
    KEEL_MIGRATE_POLICY_CUSTOM = 2,
};

struct keel_migrate_policy {
    enum keel_migrate_policy_kind kind;
    uint32_t max_passes;      /* live passes, the full pass included;
                                 0: the kind's default */
    uint64_t dirty_threshold; /* XEN, DOWNTIME; 0: 50 */
    uint64_t downtime_ms;     /* DOWNTIME: good enough; 0: as low as the
                                 guest allows */
    uint64_t max_downtime_ms; /* DOWNTIME: see above; 0: no limit */
    /* CUSTOM: passes[0..n-1] so far, the last is the one just done;
     * *why_r may name the reason (a static string). */
    enum keel_migrate_decision (*decide)(void *opaque,
                                         const struct keel_migrate_pass *passes,
                                         size_t n, const char **why_r);
    void *opaque;
};

/* The decision policy (NULL: Xen's) takes after passes[0..n-1], the last
 * being the pass just made. With n == 0 or passes NULL it is CONTINUE
 * (the full pass is always made) and a CUSTOM decide() is not called.
 * CUSTOM with a NULL decide() is Xen's with the policy's limits; an
 * answer outside the enum, or an unknown kind, is ABORT. *why_r (may be
 * NULL) gets a short static reason for every answer ("reached the pass
 * limit", "dirty set is negligible"); CUSTOM's is
 * decide()'s, or "custom policy". Pure (no context, clock or state; any
 * thread): for the sender, tests and tools that replay a migration. */
enum keel_migrate_decision
keel_migrate_policy_decide(const struct keel_migrate_policy *policy,
                           const struct keel_migrate_pass *passes, size_t n,
                           const char **why_r);

/* --- progress --- */

enum keel_migrate_phase {
    KEEL_MIGRATE_PHASE_SETUP = 0,      /* headers, static records */
    KEEL_MIGRATE_PHASE_LIVE = 1,       /* a live pass ended (pass valid) */
    KEEL_MIGRATE_PHASE_MEMORY = 2,     /* pages moving (bytes_done grows) */
    KEEL_MIGRATE_PHASE_STOPCOPY = 3,   /* paused: the rest and the vCPUs */
    KEEL_MIGRATE_PHASE_CHECKPOINT = 4, /* a checkpoint was sent/applied */
    KEEL_MIGRATE_PHASE_DONE = 5,
};

struct keel_migrate_progress {
    enum keel_migrate_phase phase;
    uint64_t bytes_done;  /* stream bytes so far */
    uint64_t bytes_total; /* estimate of the whole stream; 0 if unknown */
    struct keel_migrate_pass pass; /* LIVE: the pass that just ended */
    uint32_t passes;               /* DONE: live passes made */
    uint64_t downtime_ns;          /* DONE (sender): pause to last byte */
    uint64_t elapsed_ns;           /* since the call began */
    /* The domain sent, or the one built by a restore or receive (from
     * the first SETUP on; KEEL_DOMID_INVALID and a zero uuid before it
     * exists): a caller that must find it again after a crash (keeld's
     * job journal) records these. */
    uint32_t domid;
    uint8_t uuid[16];
};

/* Called on the calling thread at each phase change and every few MiB.
 * A non-zero return cancels: the call fails with KEEL_ECANCELED and
 * undoes what it did. */
typedef int (*keel_migrate_progress_fn)(void *opaque,
                                        const struct keel_migrate_progress *p);

/* --- save --- */

/* keel_save_opts.flags */
#define KEEL_SAVE_LIVE (1u << 0)          /* pre-copy while it runs */
#define KEEL_SAVE_LEAVE_PAUSED (1u << 1)  /* keep the domain, paused */
#define KEEL_SAVE_LEAVE_RUNNING (1u << 2) /* keep it running (xl save -c) */
#define KEEL_SAVE_NO_XL_HEADER (1u << 3)  /* start at the libxl header */

struct keel_save_opts {
    unsigned int flags;
    const struct keel_migrate_policy *policy; /* LIVE; NULL: Xen's */
    /* > 0: a checkpointed stream (Remus/COLO style) of this many
     * checkpoints, interval_ms apart, the domain running between them;
     * the stream ends with END after the last. */
    uint32_t checkpoints;
    uint32_t interval_ms;
    keel_migrate_progress_fn progress; /* may be NULL */
    void *opaque;
};

/* Writes domain domid (RUNNING or PAUSED) to fd as an xl save file (or,
 * with KEEL_SAVE_NO_XL_HEADER, a libxl stream). Unless a LEAVE flag says
 * otherwise the domain is destroyed once the stream is complete. opts
 * may be NULL. On failure the domain is left as it was. */
int keel_domain_save(struct keel_host *host, uint32_t domid, int fd,
                     const struct keel_save_opts *opts);

/* --- restore --- */

/* keel_restore_opts.flags */
#define KEEL_RESTORE_PAUSED (1u << 0) /* leave the new domain paused */

struct keel_restore_opts {
    unsigned int flags;
    enum keel_stream_format format; /* AUTO (default), XL or LIBXL */
    const char *name;               /* NULL: the config's name */
    /* NULL: the config in the stream (a LIBXL stream has none, so it
     * needs one here). */
    const struct keel_domain_config *config;
    keel_migrate_progress_fn progress;
    void *opaque;
};

/* Builds a domain from the stream on fd and returns its domid. The
 * domain's type and size come from the config and must match the
 * stream's. A checkpointed stream is applied a checkpoint at a time; if
 * it breaks off (ends, or turns corrupt) after a complete checkpoint
 * instead of ending with END, the domain resumes from that checkpoint, as
 * a Remus secondary fails over (keel_domain_migrate_receive too, skipping
 * the handshake with a sender that is gone). On failure no domain is
 * left. opts may be NULL. */
int keel_domain_restore(struct keel_host *host, int fd,
                        const struct keel_restore_opts *opts,
                        uint32_t *domid_r);

/* --- live migration --- */

/* Migrates domain domid (RUNNING or PAUSED) out: a live save to send_fd
 * (KEEL_SAVE_LIVE is implied; LEAVE flags are refused), then the
 * handshake above, reading recv_fd (may equal send_fd, a socket).
 * On success the source is destroyed. */
int keel_domain_migrate_send(struct keel_host *host, uint32_t domid,
                             int send_fd, int recv_fd,
                             const struct keel_save_opts *opts);

/* The other end: restores from recv_fd and answers on send_fd (may equal
 * recv_fd). The new domain runs unless KEEL_RESTORE_PAUSED, or the sender
 * was paused. */
int keel_domain_migrate_receive(struct keel_host *host, int recv_fd,
                                int send_fd,
                                const struct keel_restore_opts *opts,
                                uint32_t *domid_r);

/* --- migration within one host --- */

/* Live-migrates domain domid to a new domain on the same host, as
 * "xl migrate DOM localhost" does: on one hypervisor the only way to move
 * a guest to fresh memory (a new domid) while it runs, and the test of a
 * migration with no second machine. The copy is built beside the source
 * as NAME--incoming under a temporary uuid; after the handshake the
 * source is destroyed and the copy takes its name and uuid. On failure
 * the source keeps running and no copy is left. The stream runs over a
 * socket pair between two threads of this process. opts as for
 * keel_domain_migrate_send; *domid_r is the copy's domid (may be NULL). */
int keel_domain_migrate_local(struct keel_host *host, uint32_t domid,
                              const struct keel_save_opts *opts,
                              uint32_t *domid_r);

/* What keel_domain_migrate_local_recover found and did. */
enum keel_local_recovery {
    KEEL_LOCAL_RECOVERY_NONE = 0,      /* no copy: nothing done */
    KEEL_LOCAL_RECOVERY_DROPPED = 1,   /* the copy never ran: destroyed; the
                                          source is as it was left */
    KEEL_LOCAL_RECOVERY_TOOK_OVER = 2, /* the copy is the domain now */
};

/* Puts right a migration within this host that its process did not
 * finish (killed, crashed, the machine lost power), from what the caller
 * recorded before it began: the source's name and uuid, and whether it
 * was paused then. It looks for the copy, NAME--incoming:
 *  - none: nothing to do (NONE);
 *  - the copy never ran (it is still paused) and the source is there:
 *    the handover had not happened, so the copy is destroyed (DROPPED);
 *    the source still needs the caller's undoing (log-dirty off,
 *    unpaused), as after any failed migration;
 *  - the copy ran (unpaused: the sender had said go), or the source is
 *    gone (the sender destroys it only after the handover): the copy
 *    wins. A source still there is destroyed, never two copies running;
 *    the copy takes the name and uuid, and is unpaused unless the source
 *    was paused (TOOK_OVER, *domid_r its domid).
 * what_r and domid_r may be NULL. */
int keel_domain_migrate_local_recover(struct keel_host *host, const char *name,
                                      const uint8_t uuid[16], bool was_paused,
                                      enum keel_local_recovery *what_r,
                                      uint32_t *domid_r);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_MIGRATE_H */
