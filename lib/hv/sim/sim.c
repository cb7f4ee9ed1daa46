/* sim.c: the sim backend's door: open/close, the directory lock, the clock
 * and the advance step, and the keel_sim_* test controls
 *
 * A sim directory holds one simulated host:
 *   lock        flock()ed by the process that has the host open; holds its
 *               pid so a second opener can say who has it
 *   state.json  host, pools, domains as of the last compaction (state.c)
 *   store.json  the store tree as of then (store.c)
 *   journal     every op's changes since (journal.c)
 *   dom-N.mem, dom-N.dirty, dom-N.ctx   per-domain memory, log-dirty
 *               bitmap and context blobs (mem.c, blob.c)
 * Snapshots are replaced by rename and the journal grows a whole line per
 * op, so a process killed at any point leaves the state before or after
 * each op; the next opener carries on from it, as a real hypervisor
 * outlives its toolstack.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

char *
sim_path(struct sim *s, const char *name)
{
    return keel__sprintf(s->ctx, "%s/%s", s->dir, name);
}

uint64_t
sim_now(struct sim *s)
{
    struct timespec ts;

    if (s->manual_clock)
        return s->clock_ns;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Lets simulated time act: dirtying, guests' delayed answers and the
 * reaping of dying domains, for the domains the timeline holds. Changes
 * that must survive a restart go into the journal; CPU time and the clock
 * are recomputed from the saved clock by the next opener. */
int
sim_advance(struct sim *s)
{
    uint64_t now = sim_now(s);

    if (now < s->last_ns)
        now = s->last_ns; /* the wall clock stepped back: wait for it */
    sim_timeline_run(s, s->last_ns, now);
    s->last_ns = now;
    return 0;
}

/* Writes what changed and re-arms the event fd; every op ends here. */
int
sim_sync(struct sim *s)
{
    int rc = sim_journal_sync(s);

    sim_event_rearm(s);
    return rc;
}

struct sim *
sim_of(struct keel_hv *hv)
{
    return keel_hv_priv(hv);
}

/* Every op starts here: the sim and its advance. */
int
sim_begin(struct keel_hv *hv, struct sim **s_r)
{
    *s_r = keel_hv_priv(hv);
    return sim_advance(*s_r);
}

/* Every op ends here: rc of the op, or the sync's error. */
int
sim_end(struct sim *s, int rc)
{
    int rc2 = sim_sync(s);

    return rc ? rc : rc2;
}

static bool
sim_file_name(const char *name)
{
    static const char *const fixed[] = {
        "lock",           "state.json", "state.json.tmp", "store.json",
        "store.json.tmp", "journal",    "journal.tmp"};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(fixed); i++)
        if (!strcmp(name, fixed[i]))
            return true;
    return !strncmp(name, "dom-", 4);
}

/* A directory is the sim's when it is empty, new, or holds state.json; a
 * directory with other files is someone else's and is left alone. */
static int
check_dir(struct sim *s, bool *fresh_r)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int rc = 0;

    *fresh_r = true;
    if (mkdir(s->dir, 0750) && errno != EEXIST)
        return keel_error_errno(s->ctx, 0, "creating sim directory %s", s->dir);
    d = opendir(s->dir);
    if (!d)
        return keel_error_errno(s->ctx, 0, "opening sim directory %s", s->dir);
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!strcmp(de->d_name, "state.json"))
            *fresh_r = false;
        else if (!sim_file_name(de->d_name) && rc == 0)
            rc = keel_error(s->ctx, KEEL_EFOREIGN,
                            "%s is not a keel sim directory: it holds '%s'",
                            s->dir, de->d_name);
    }
    closedir(d);
    if (rc == 0 && *fresh_r) {
        char *f = sim_path(s, "store.json");

        if (f && stat(f, &st) == 0)
            rc = keel_error(s->ctx, KEEL_ECORRUPT,
                            "%s has store.json but no state.json", s->dir);
        free(f);
    }
    return rc;
}

static int
take_lock(struct sim *s)
{
    char *file = sim_path(s, "lock");
    char buf[32] = "";
    ssize_t n;
    int rc = 0;

    if (!file)
        return KEEL_ENOMEM;
    s->lock_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd < 0) {
        rc = keel_error_errno(s->ctx, 0, "opening %s", file);
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
        n = pread(s->lock_fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        rc = keel_error(s->ctx, KEEL_ELOCKED,
                        "sim directory %s is in use by process %s", s->dir,
                        buf[0] ? buf : "(unknown)");
        goto out;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) || pwrite(s->lock_fd, buf, (size_t)n, 0) != n)
        rc = keel_error_errno(s->ctx, 0, "writing %s", file);
out:
    free(file);
    return rc;
}

/* A new host: Pool-0 with every CPU, Domain-0, and the store entries that
 * Xen's dom0 start-up writes; the open's sync writes the first snapshots. */
static int
boot_host(struct sim *s, const char *spec_text)
{
    int rc;

    s->last_ns = sim_now(s);
    s->journal.compact = true;
    rc = keel_sim_spec_parse(s->ctx, spec_text, &s->spec);
    if (rc == 0)
        rc = sim_pool0_init(s);
    if (rc == 0)
        rc = sim_dom0_init(s);
    if (rc == 0)
        rc = sim_store_write(s->ctx, s->store, "/local/domain/0/name",
                             "Domain-0", 8);
    if (rc == 0)
        rc = sim_store_write(s->ctx, s->store, "/local/domain/0/domid", "0", 1);
    s->next_domid = 1;
    return rc;
}

/* An existing host: the snapshots, the journal over them, then the
 * domains' files. The spec, if one is given, must be the one it has. */
static int
load_host(struct sim *s, const char *spec_text)
{
    struct keel_sim_spec want;
    char *file;
    int rc;

    rc = sim_state_load(s);
    if (rc)
        return rc;
    file = sim_path(s, "store.json");
    if (!file)
        return KEEL_ENOMEM;
    rc = sim_store_load(s->ctx, s->store, file);
    if (rc == KEEL_ENOENT)
        rc = keel_error(s->ctx, KEEL_ECORRUPT, "%s is missing", file);
    free(file);
    if (rc == 0)
        rc = sim_journal_load(s);
    if (rc == 0)
        rc = sim_domains_ready(s);
    if (rc || !spec_text || !*spec_text)
        return rc;
    rc = keel_sim_spec_parse(s->ctx, spec_text, &want);
    if (rc == 0 && memcmp(&want, &s->spec, sizeof(want)))
        rc = keel_error(s->ctx, KEEL_EINVAL,
                        "sim directory %s already holds a host of another "
                        "shape than '%s'",
                        s->dir, spec_text);
    return rc;
}

/* A failed open writes nothing, and a host that never booted leaves no
 * lock file behind, so the directory can be used again as it was. */
static void
open_failed(struct keel_hv *hv, bool fresh)
{
    struct sim *s = keel_hv_priv(hv);
    bool own_lock = s->lock_fd >= 0;
    char *lock = fresh && own_lock ? sim_path(s, "lock") : NULL;
    char *state = lock ? sim_path(s, "state.json") : NULL;
    struct stat st;

    s->no_sync = true;
    if (lock && state && stat(state, &st) != 0)
        unlink(lock);
    free(lock);
    free(state);
    sim_close(hv);
}

static int
sim_open(struct keel_hv *hv, const struct keel_hv_open_args *args)
{
    struct keel_ctx *ctx = keel_hv_ctx(hv);
    struct sim *s;
    bool fresh = false;
    int rc;

    if (!args->dir || !*args->dir)
        return keel_error(ctx, KEEL_EINVAL, "the sim backend needs a dir");
    if (args->flags & ~KEEL_HV_OPEN_MANUAL_CLOCK)
        return keel_error(ctx, KEEL_EINVAL, "unknown open flags 0x%x",
                          args->flags);
    s = calloc(1, sizeof(*s));
    if (!s)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    s->hv = hv;
    s->ctx = ctx;
    s->lock_fd = s->timer_fd = -1;
    sim_journal_init(&s->journal);
    s->manual_clock = (args->flags & KEEL_HV_OPEN_MANUAL_CLOCK) != 0;
    keel_hv_set_priv(hv, s);
    s->dir = keel__strdup(ctx, args->dir);
    rc = s->dir ? sim_store_new(&s->store) : KEEL_ENOMEM;
    if (rc == 0)
        rc = check_dir(s, &fresh);
    if (rc == 0)
        rc = take_lock(s);
    if (rc == 0)
        rc = fresh ? boot_host(s, args->spec) : load_host(s, args->spec);
    if (rc == 0)
        sim_store_log(s->store, true); /* from here on, for the journal */
    if (rc == 0)
        rc = sim_mem_gc(s);
    if (rc == 0)
        rc = sim_event_open(s);
    if (rc == 0)
        rc = sim_advance(s);
    if (rc == 0)
        rc = sim_sync(s);
    if (rc)
        open_failed(hv, fresh);
    return rc;
}

/* Frees everything s holds and closes its fds (which releases the lock);
 * writes nothing. */
void
sim_free(struct sim *s)
{
    size_t i;

    for (i = 0; i < s->n_doms; i++)
        sim_domain_free(s->doms[i]);
    free(s->doms);
    free(s->by_domid);
    free(s->due);
    free(s->dirtiers);
    sim_journal_free(&s->journal);
    free(s->pools);
    sim_store_free(s->store);
    sim_watches_free(s);
    keel_hv_events_dispose(s->events, s->n_events);
    free(s->events);
    sim_event_close(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    free(s->dir);
    free(s);
}

void
sim_close(struct keel_hv *hv)
{
    struct sim *s = keel_hv_priv(hv);

    if (!s)
        return;
    if (s->lock_fd >= 0 && s->store && !s->no_sync)
        sim_sync(s);
    sim_free(s);
    keel_hv_set_priv(hv, NULL);
}

const struct keel_hv_ops keel__sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .physinfo = sim_op_physinfo,
    .cputopo = sim_op_cputopo,
    .numainfo = sim_op_numainfo,
    .domain_create = sim_op_domain_create,
    .domain_destroy = sim_op_domain_destroy,
    .domain_pause = sim_op_domain_pause,
    .domain_unpause = sim_op_domain_unpause,
    .domain_shutdown = sim_op_domain_shutdown,
    .domain_resume = sim_op_domain_resume,
    .domain_soft_reset = sim_op_domain_soft_reset,
    .domain_set_uuid = sim_op_domain_set_uuid,
    .domain_info = sim_op_domain_info,
    .domain_list = sim_op_domain_list,
    .domain_set_max_mem = sim_op_domain_set_max_mem,
    .vcpu_set_affinity = sim_op_vcpu_set_affinity,
    .vcpu_info = sim_op_vcpu_info,
    .cpupool_create = sim_op_cpupool_create,
    .cpupool_destroy = sim_op_cpupool_destroy,
    .cpupool_info = sim_op_cpupool_info,
    .cpupool_list = sim_op_cpupool_list,
    .cpupool_add_cpu = sim_op_cpupool_add_cpu,
    .cpupool_remove_cpu = sim_op_cpupool_remove_cpu,
    .cpupool_move_domain = sim_op_cpupool_move_domain,
    .cpupool_free_cpus = sim_op_cpupool_free_cpus,
    .sched_domain_get = sim_op_sched_domain_get,
    .sched_domain_set = sim_op_sched_domain_set,
    .sched_rtds_get = sim_op_sched_rtds_get,
    .sched_rtds_set = sim_op_sched_rtds_set,
    .sched_pool_get = sim_op_sched_pool_get,
    .sched_pool_set = sim_op_sched_pool_set,
    .store_read = sim_op_store_read,
    .store_write = sim_op_store_write,
    .store_remove = sim_op_store_remove,
    .store_list = sim_op_store_list,
    .store_watch = sim_op_store_watch,
    .store_unwatch = sim_op_store_unwatch,
    .event_fd = sim_op_event_fd,
    .event_read = sim_op_event_read,
    .mem_max_pfn = sim_op_mem_max_pfn,
    .mem_map = sim_op_mem_map,
    .mem_unmap = sim_op_mem_unmap,
    .mem_page_types = sim_op_mem_page_types,
    .logdirty_enable = sim_op_logdirty_enable,
    .logdirty_disable = sim_op_logdirty_disable,
    .logdirty_read = sim_op_logdirty_read,
    .context_get = sim_op_context_get,
    .context_set = sim_op_context_set,
    /* image_save/image_restore: NULL, libkeel writes the stream itself */
};

/* --- keel_sim_* controls --- */

static int
control_begin(struct keel_hv *hv, const char *op, struct sim **s_r)
{
    int rc = keel__hv_begin(
        hv, keel_hv_priv(hv) && !strcmp(keel_hv_name(hv), "sim"), op);

    return rc ? rc : sim_begin(hv, s_r);
}

KEEL_EXPORT int
keel_sim_clock_advance(struct keel_hv *hv, uint64_t ns)
{
    struct sim *s = NULL;
    int rc = control_begin(hv, "keel_sim_clock_advance", &s);

    if (rc == 0 && !s->manual_clock)
        rc = keel_error(s->ctx, KEEL_EINVAL,
                        "the sim was opened with the real clock");
    if (rc == 0) {
        s->clock_ns += ns;
        rc = sim_end(s, sim_advance(s));
    }
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT const char *
keel_sim_dir(struct keel_hv *hv)
{
    struct sim *s = keel_hv_priv(hv);

    return strcmp(keel_hv_name(hv), "sim") ? NULL : s->dir;
}

KEEL_EXPORT int
keel_sim_guest_get(struct keel_hv *hv, uint32_t domid,
                   struct keel_sim_guest *guest)
{
    struct sim *s = NULL;
    struct sim_domain *d;
    int rc = control_begin(hv, "keel_sim_guest_get", &s);

    if (rc == 0 && !(d = sim_domain_get(s, domid)))
        rc = KEEL_ENODOMAIN;
    if (rc == 0)
        *guest = d->guest;
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_sim_guest_set(struct keel_hv *hv, uint32_t domid,
                   const struct keel_sim_guest *guest)
{
    struct sim *s = NULL;
    int rc = control_begin(hv, "keel_sim_guest_set", &s);

    if (rc == 0)
        rc = sim_end(s, sim_guest_set(s, domid, guest));
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_sim_guest_act(struct keel_hv *hv, uint32_t domid,
                   enum keel_shutdown_reason reason)
{
    struct sim *s = NULL;
    int rc = control_begin(hv, "keel_sim_guest_act", &s);

    if (rc == 0)
        rc = sim_end(s, sim_guest_act(s, domid, reason));
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_sim_memory_digest(struct keel_hv *hv, uint32_t domid, char hex[33])
{
    struct sim *s = NULL;
    struct sim_domain *d;
    int rc = control_begin(hv, "keel_sim_memory_digest", &s);

    if (rc == 0 && !(d = sim_domain_get(s, domid)))
        rc = KEEL_ENODOMAIN;
    if (rc == 0 && !d->mem.base)
        rc = keel_error(s->ctx, KEEL_ENOTSUP,
                        "domain %u has no simulated memory", domid);
    if (rc == 0)
        rc = sim_mem_digest(s, d, hex);
    return keel__hv_end(hv, rc);
}
