/* test-domain.c: domain lifecycle through struct keel_host on the sim
 *
 * Every operation of domain.h, every refusal of its state machine (code
 * and message), the on_* actions a guest triggers on its own, the events
 * they queue, and the records that outlive a closed host. Most tests run
 * the sim on a manual clock so a guest acts exactly when the test moves
 * time; the waiting calls use the real clock.
 */
#include "config.h"

#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/cpupool.h>
#include <keel/domain.h>

#include "harness.h"

#define MS 1000000ull

struct env {
    struct keel_hv *hv;
    struct keel_host *host;
};

static struct env
env_open(unsigned int flags)
{
    struct env e;

    e.hv = th_sim_open(NULL, NULL, flags);
    e.host = th_host_open(e.hv, NULL);
    return e;
}

/* A config named name with 64 MiB and 2 vCPUs; dispose it. */
static void
cfg_make(struct keel_domain_config *cfg, const char *name)
{
    keel_domain_config_init(cfg);
    cfg->name = strdup(name);
    cfg->memory_kb = 64 * MIB_KB;
    cfg->vcpus = 2;
}

static uint32_t
make(struct env *e, const char *name, unsigned int flags)
{
    struct keel_domain_config cfg;
    uint32_t domid = 0;

    cfg_make(&cfg, name);
    OK(keel_domain_create(e->host, &cfg, flags, &domid));
    keel_domain_config_dispose(&cfg);
    return domid;
}

static struct keel_domain_info
info_of(struct env *e, uint32_t domid)
{
    struct keel_domain_info info;

    OK(keel_domain_info(e->host, domid, &info));
    return info;
}

static size_t
n_domains(struct env *e)
{
    struct keel_domain_info *all;
    size_t n;

    OK(keel_domain_list(e->host, &all, &n));
    free(all);
    return n;
}

static size_t
n_files(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static bool
store_has(struct env *e, const char *path, const char *want)
{
    char *val = NULL;
    size_t len;
    bool ok;

    if (keel_hv_store_read(e->hv, path, &val, &len)) {
        keel_ctx_clear_error(th_ctx());
        return false;
    }
    ok = !want || !strcmp(val, want);
    free(val);
    return ok;
}

/* Takes the queued events into evs (at most 16); returns how many. */
static size_t
events(struct env *e, struct keel_domain_event *evs)
{
    size_t n;

    OK(keel_host_events(e->host, evs, 16, &n));
    return n;
}

static void
advance(struct env *e, uint64_t ns)
{
    OK(keel_sim_clock_advance(e->hv, ns));
}

/* --- create ------------------------------------------------------------ */

START_TEST(create_running)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    struct keel_domain_config got;
    struct keel_domain_info info;
    uint32_t domid = make(&e, "web", 0);
    char path[64];

    info = info_of(&e, domid);
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert_str_eq(info.name, "web");
    ck_assert_str_eq(info.pool, "Pool-0");
    ck_assert_uint_eq(info.mem_kb, 64 * MIB_KB);
    ck_assert_uint_eq(info.target_kb, 64 * MIB_KB);
    ck_assert_uint_eq(info.max_vcpus, 2);
    ck_assert_uint_eq(info.online_vcpus, 2);
    ck_assert(info.start_time_ns > 0);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    ck_assert(store_has(&e, path, "web"));
    keel_domain_config_init(&got);
    OK(keel_domain_config_get(e.host, domid, &got));
    ck_assert_str_eq(got.pool, "Pool-0");
    ck_assert_int_eq(got.cpu_weight, 256); /* defaults are kept */
    ck_assert_int_eq(got.on[KEEL_ON_REBOOT], KEEL_ACTION_RESTART);
    keel_domain_config_dispose(&got);
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_CREATED);
    ck_assert_uint_eq(evs[0].domid, domid);
    ck_assert_str_eq(evs[0].name, "web");
    ck_assert_uint_eq(n_files(th_path("state")), 1);
}
END_TEST

START_TEST(create_paused_pause_unpause)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "p", KEEL_DOMAIN_CREATE_PAUSED);

    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_PAUSED);
    th_assert_err(keel_domain_pause(e.host, domid), KEEL_ESTATE,
                  "pause: domain 1 (p) is paused");
    OK(keel_domain_unpause(e.host, domid));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_RUNNING);
    th_assert_err(keel_domain_unpause(e.host, domid), KEEL_ESTATE,
                  "unpause: domain 1 (p) is running");
    OK(keel_domain_pause(e.host, domid));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_PAUSED);
    ck_assert_uint_eq(events(&e, evs), 3);
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_UNPAUSED);
    ck_assert_int_eq(evs[2].type, KEEL_DOMAIN_EVENT_PAUSED);
    th_assert_err(keel_domain_pause(e.host, 0), KEEL_EPERM, "Domain-0");
    th_assert_err(keel_domain_pause(e.host, 77), KEEL_ENODOMAIN,
                  "no domain with id 77");
}
END_TEST

/* A domain left suspended (a save's process died) resumes, running or
 * paused; anything else is refused. */
START_TEST(resume_suspended)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "s", 0);

    th_assert_err(keel_domain_resume(e.host, domid, false), KEEL_ESTATE,
                  "resume: domain 1 (s) is running");
    OK(keel_hv_domain_shutdown(e.hv, domid, KEEL_SHUTDOWN_SUSPEND));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_SHUTDOWN);
    events(&e, evs);
    OK(keel_domain_resume(e.host, domid, true));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_PAUSED);
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_PAUSED);
    OK(keel_domain_unpause(e.host, domid));
    OK(keel_hv_domain_shutdown(e.hv, domid, KEEL_SHUTDOWN_SUSPEND));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_SHUTDOWN);
    OK(keel_domain_resume(e.host, domid, false));
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_RUNNING);
    /* Stopped for another reason: not a suspend to undo. */
    OK(keel_hv_domain_shutdown(e.hv, domid, KEEL_SHUTDOWN_POWEROFF));
    th_assert_err(keel_domain_resume(e.host, domid, false), KEEL_ESTATE,
                  "stopped (poweroff), not suspended");
    th_assert_err(keel_domain_resume(e.host, 0, false), KEEL_EPERM,
                  "Domain-0");
    ck_assert_int_eq(keel_domain_resume(NULL, domid, false), KEEL_EINVAL);
}
END_TEST

/* A refused create leaves the host as it was. */
static void
refused(struct env *e, struct keel_domain_config *cfg, int code,
        const char *needle)
{
    struct keel_hv_physinfo before, after;
    size_t n = n_domains(e), files = n_files(th_path("state"));

    OK(keel_hv_physinfo(e->hv, &before));
    th_assert_err(keel_domain_create(e->host, cfg, 0, NULL), code, needle);
    OK(keel_hv_physinfo(e->hv, &after));
    ck_assert_uint_eq(n_domains(e), n);
    ck_assert_uint_eq(n_files(th_path("state")), files);
    ck_assert_uint_eq(after.free_kb, before.free_kb);
    keel_domain_config_dispose(cfg);
}

START_TEST(create_refused)
{
    struct env e = env_open(0);
    struct keel_domain_config cfg;

    make(&e, "taken", 0);
    cfg_make(&cfg, "taken");
    refused(&e, &cfg, KEEL_EEXIST, "a domain called 'taken' exists");
    cfg_make(&cfg, "Domain-0");
    refused(&e, &cfg, KEEL_EEXIST, "'Domain-0' exists");
    cfg_make(&cfg, "1234");
    refused(&e, &cfg, KEEL_EINVAL, "all digits");
    cfg_make(&cfg, "a/b");
    refused(&e, &cfg, KEEL_EINVAL, "not printable ASCII other than");
    cfg_make(&cfg, "x");
    cfg.pool = strdup("nosuch");
    refused(&e, &cfg, KEEL_ENOPOOL, "no CPU pool called 'nosuch'");
    cfg_make(&cfg, "x");
    cfg.memory_kb = 15 * GIB_KB; /* 16 GiB host, 1 GiB to Domain-0 */
    cfg.maxmem_kb = 15 * GIB_KB;
    refused(&e, &cfg, KEEL_ENOHOSTMEM, "KiB free on the host");
    cfg_make(&cfg, "x");
    cfg.maxmem_kb = 32 * GIB_KB;
    refused(&e, &cfg, KEEL_EINVAL, "more than the host has");
    cfg_make(&cfg, "x");
    cfg.type = KEEL_DOMAIN_HVM;
    cfg.vcpus = 129;
    refused(&e, &cfg, KEEL_EINVAL, "over the 128 a hvm domain may have");
    cfg_make(&cfg, "x");
    cfg.on[KEEL_ON_CRASH] = KEEL_ACTION_COREDUMP_DESTROY;
    refused(&e, &cfg, KEEL_ENOTSUP, "on_crash=coredump-destroy");
    cfg_make(&cfg, "x");
    th_set_cpus(&cfg.cpus, "8");
    refused(&e, &cfg, KEEL_EINVAL, "cpus: ");
    cfg_make(&cfg, "x");
    cfg.rtds_period = 1000;
    refused(&e, &cfg, KEEL_EINVAL, "runs credit2, not rtds");
    cfg_make(&cfg, "x");
    cfg.cpu_weight = 70000;
    refused(&e, &cfg, KEEL_ERANGE, "70000");
}
END_TEST

START_TEST(create_uuid_taken)
{
    struct env e = env_open(0);
    struct keel_domain_config cfg;
    uint32_t domid = make(&e, "one", 0);

    cfg_make(&cfg, "two");
    memcpy(cfg.uuid, info_of(&e, domid).uuid, 16);
    refused(&e, &cfg, KEEL_EEXIST, "a domain with uuid");
}
END_TEST

/* The record's file cannot be written (a directory is in its way): the
 * create fails after the hypervisor made the domain, and takes it all
 * back. */
START_TEST(create_undone)
{
    struct env e = env_open(0);
    struct keel_domain_config cfg;
    char u[37], path[256];

    cfg_make(&cfg, "doomed");
    OK(keel_uuid_parse("6b1c1d6e-7a38-4d8b-9d5e-0f3e2a1b4c5d", cfg.uuid));
    keel_uuid_format(cfg.uuid, u);
    snprintf(path, sizeof(path), "%s/domain-1-%s.json", th_path("state"), u);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    refused(&e, &cfg, -EISDIR, "renaming");
    ck_assert(!store_has(&e, "/local/domain/1", NULL));
    ck_assert(!store_has(&e, "/vm/6b1c1d6e-7a38-4d8b-9d5e-0f3e2a1b4c5d", NULL));
    rmdir(path);
    make(&e, "doomed", 0); /* the name is free again */
}
END_TEST

START_TEST(create_affinity)
{
    struct env e = env_open(0);
    struct keel_domain_config cfg, got;
    struct keel_hv_vcpuinfo *v;
    size_t n;
    uint32_t domid;

    cfg_make(&cfg, "pinned");
    th_set_cpus(&cfg.cpus, "2-3");
    OK(keel_domain_create(e.host, &cfg, 0, &domid));
    OK(keel_domain_vcpu_list(e.host, domid, &v, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(keel_cpumap_count(&v[1].hard), 2);
    ck_assert(keel_cpumap_test(&v[1].hard, 3));
    ck_assert(v[0].cpu == 2 || v[0].cpu == 3);
    free(v);
    keel_domain_config_init(&got);
    OK(keel_domain_config_get(e.host, domid, &got));
    ck_assert_str_eq(got.cpus.specs[0], "2-3");
    keel_domain_config_dispose(&got);
    keel_domain_config_dispose(&cfg);
}
END_TEST

/* --- destroy ----------------------------------------------------------- */

START_TEST(destroy)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    struct keel_domain_info info;
    uint32_t domid = make(&e, "gone", 0);

    events(&e, evs);
    OK(keel_domain_destroy(e.host, domid));
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_DESTROYED);
    ck_assert_str_eq(evs[0].name, "gone");
    ck_assert(!store_has(&e, "/local/domain/1", NULL));
    ck_assert_uint_eq(n_files(th_path("state")), 0);
    th_assert_err(keel_domain_info(e.host, domid, &info), KEEL_ENODOMAIN,
                  "no domain with id 1");
    th_assert_err(keel_domain_destroy(e.host, domid), KEEL_ENODOMAIN, NULL);
    th_assert_err(keel_domain_destroy(e.host, 0), KEEL_EPERM,
                  "destroy: Domain-0 is not managed by keel");
    make(&e, "gone", 0);
}
END_TEST

/* --- asking the guest, and the actions --------------------------------- */

START_TEST(shutdown_request)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "polite", 0);

    events(&e, evs);
    OK(keel_domain_shutdown(e.host, domid, 0, 0));
    ck_assert_uint_eq(events(&e, evs), 0); /* the guest takes 100 ms */
    advance(&e, 150 * MS);
    ck_assert_uint_eq(events(&e, evs), 2);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_SHUTDOWN);
    ck_assert_int_eq(evs[0].reason, KEEL_SHUTDOWN_POWEROFF);
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_DESTROY);
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_DESTROYED);
    advance(&e, MS); /* dying, then gone */
    ck_assert_uint_eq(n_domains(&e), 1);
    th_assert_err(keel_domain_shutdown(e.host, 0, 0, 0), KEEL_EPERM, NULL);
    th_assert_err(keel_domain_shutdown(e.host, domid, 0, 8), KEEL_EINVAL,
                  "unknown flags");
}
END_TEST

START_TEST(shutdown_wait)
{
    struct env e = env_open(0);
    uint32_t domid = make(&e, "waited", 0);

    OK(keel_domain_shutdown(e.host, domid, 5000, KEEL_DOMAIN_WAIT));
    ck_assert_uint_eq(n_domains(&e), 1);
}
END_TEST

START_TEST(shutdown_timeout_force)
{
    struct env e = env_open(0);
    struct keel_sim_guest g;
    uint32_t domid = make(&e, "deaf", 0);

    OK(keel_sim_guest_get(e.hv, domid, &g));
    g.ignore_shutdown = true;
    OK(keel_sim_guest_set(e.hv, domid, &g));
    th_assert_err(keel_domain_shutdown(e.host, domid, 150, KEEL_DOMAIN_WAIT),
                  KEEL_ETIMEDOUT,
                  "shutdown: domain 1 (deaf) did not stop within 150 ms");
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_RUNNING);
    OK(keel_domain_shutdown(e.host, domid, 100,
                            KEEL_DOMAIN_WAIT | KEEL_DOMAIN_FORCE));
    ck_assert_uint_eq(n_domains(&e), 1);
}
END_TEST

START_TEST(reboot_wait)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    struct keel_domain_info info;
    uint32_t domid = make(&e, "again", 0), now;
    uint8_t uuid[16];
    size_t n, i;
    bool restarted = false;

    memcpy(uuid, info_of(&e, domid).uuid, 16);
    events(&e, evs);
    OK(keel_domain_reboot(e.host, domid, 5000, KEEL_DOMAIN_WAIT));
    OK(keel_domain_lookup(e.host, "again", &now));
    ck_assert_uint_ne(now, domid);
    info = info_of(&e, now);
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert_mem_eq(info.uuid, uuid, 16);
    n = events(&e, evs);
    for (i = 0; i < n; i++)
        if (evs[i].type == KEEL_DOMAIN_EVENT_RESTARTED) {
            ck_assert_uint_eq(evs[i].domid, domid);
            ck_assert_uint_eq(evs[i].new_domid, now);
            restarted = true;
        }
    ck_assert(restarted);
    th_assert_err(keel_domain_reboot(e.host, domid, 0, 0), KEEL_ENODOMAIN,
                  NULL);
}
END_TEST

/* A domain with on_crash=act, crashed by its guest. */
static uint32_t
crashed(struct env *e, const char *name, enum keel_action act,
        struct keel_domain_event *evs, size_t *n_r)
{
    struct keel_domain_config cfg;
    uint32_t domid;

    cfg_make(&cfg, name);
    cfg.on[KEEL_ON_CRASH] = act;
    OK(keel_domain_create(e->host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    events(e, evs);
    OK(keel_sim_guest_act(e->hv, domid, KEEL_SHUTDOWN_CRASH));
    *n_r = events(e, evs);
    return domid;
}

START_TEST(crash_preserve)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    struct keel_domain_info info;
    size_t n;
    uint32_t domid = crashed(&e, "kept", KEEL_ACTION_PRESERVE, evs, &n);

    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_SHUTDOWN);
    ck_assert_int_eq(evs[0].reason, KEEL_SHUTDOWN_CRASH);
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_PRESERVE);
    info = info_of(&e, domid);
    ck_assert_int_eq(info.state, KEEL_DOMAIN_SHUTDOWN);
    ck_assert_int_eq(info.reason, KEEL_SHUTDOWN_CRASH);
    advance(&e, 10 * MS);
    ck_assert_uint_eq(events(&e, evs), 0); /* handled once */
    th_assert_err(keel_domain_pause(e.host, domid), KEEL_ESTATE,
                  "pause: domain 1 (kept) is shutdown");
    th_assert_err(keel_domain_mem_set(e.host, domid, 32 * MIB_KB), KEEL_ESTATE,
                  "mem-set: domain 1 (kept) is shutdown");
    th_assert_err(keel_domain_vcpu_set(e.host, domid, 1), KEEL_ESTATE, NULL);
    th_assert_err(keel_domain_shutdown(e.host, domid, 0, 0), KEEL_ESTATE,
                  "shutdown: domain 1 (kept) is shutdown");
    th_assert_err(keel_domain_vcpu_pin(e.host, domid, 0, NULL, NULL),
                  KEEL_ESTATE, NULL);
    OK(keel_domain_rename(e.host, domid, "kept2"));
    /* a reopened host does not act on it again */
    th_host_close(e.host);
    e.host = th_host_open(e.hv, NULL);
    ck_assert_uint_eq(events(&e, evs), 0);
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_SHUTDOWN);
    OK(keel_domain_destroy(e.host, domid));
}
END_TEST

START_TEST(crash_restart)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    size_t n;
    uint32_t domid = crashed(&e, "phoenix", KEEL_ACTION_RESTART, evs, &n), now;

    ck_assert_uint_eq(n, 4); /* shutdown, destroyed, created, restarted */
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_RESTART);
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_DESTROYED);
    ck_assert_int_eq(evs[2].type, KEEL_DOMAIN_EVENT_CREATED);
    ck_assert_int_eq(evs[3].type, KEEL_DOMAIN_EVENT_RESTARTED);
    OK(keel_domain_lookup(e.host, "phoenix", &now));
    ck_assert_uint_eq(evs[3].new_domid, now);
    ck_assert_uint_ne(now, domid);
}
END_TEST

START_TEST(crash_rename_restart)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    struct keel_domain_info old, fresh;
    size_t n;
    uint32_t domid = crashed(&e, "twin", KEEL_ACTION_RENAME_RESTART, evs, &n);
    uint32_t now, kept;

    OK(keel_domain_lookup(e.host, "twin", &now));
    OK(keel_domain_lookup(e.host, "twin--incarnation-1", &kept));
    ck_assert_uint_eq(kept, domid);
    old = info_of(&e, kept);
    fresh = info_of(&e, now);
    ck_assert_int_eq(old.state, KEEL_DOMAIN_SHUTDOWN);
    ck_assert_int_eq(fresh.state, KEEL_DOMAIN_RUNNING);
    ck_assert(memcmp(old.uuid, fresh.uuid, 16) != 0);
    ck_assert_uint_eq(n, 4); /* shutdown, renamed, created, restarted */
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_RENAMED);
    ck_assert_str_eq(evs[1].name, "twin--incarnation-1");
    ck_assert_int_eq(evs[3].type, KEEL_DOMAIN_EVENT_RESTARTED);
    ck_assert_uint_eq(evs[3].domid, domid);
    ck_assert_uint_eq(evs[3].new_domid, now);
}
END_TEST

/* A kept config (weight 256, cap 0 after defaults) re-creates a domain
 * in an rtds pool, whose scheduler has no weight: the crash restart and
 * a create from keel_domain_config_get both work. */
START_TEST(restart_in_rtds_pool)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    struct keel_domain_config cfg;
    struct keel_cpumap two;
    struct keel_hv_sched_rtds *r;
    uint32_t domid, now;
    size_t n;

    keel_cpumap_zero(&two);
    keel_cpumap_set(&two, 6);
    keel_cpumap_set(&two, 7);
    OK(keel_cpupool_cpu_remove(e.host, 0, &two));
    OK(keel_cpupool_create(e.host, "rt", KEEL_SCHED_RTDS, &two, 0, NULL));
    cfg_make(&cfg, "rt-guest");
    cfg.pool = strdup("rt");
    cfg.rtds_period = 20000;
    cfg.on[KEEL_ON_CRASH] = KEEL_ACTION_RESTART;
    OK(keel_domain_create(e.host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    OK(keel_sched_rtds_get(e.host, domid, &r, &n));
    ck_assert_uint_eq(r[1].period_us, 20000);
    ck_assert(r[1].extratime);
    free(r);
    events(&e, evs);
    OK(keel_sim_guest_act(e.hv, domid, KEEL_SHUTDOWN_CRASH));
    ck_assert_uint_eq(events(&e, evs), 4);
    ck_assert_int_eq(evs[3].type, KEEL_DOMAIN_EVENT_RESTARTED);
    OK(keel_domain_lookup(e.host, "rt-guest", &now));
    keel_domain_config_init(&cfg);
    OK(keel_domain_config_get(e.host, now, &cfg));
    ck_assert_int_eq(cfg.cpu_weight, KEEL_UNSET);
    OK(keel_domain_destroy(e.host, now));
    OK(keel_domain_create(e.host, &cfg, 0, NULL));
    keel_domain_config_dispose(&cfg);
    cfg_make(&cfg, "heavy");
    cfg.pool = strdup("rt");
    cfg.cpu_weight = 512;
    th_assert_err(keel_domain_create(e.host, &cfg, 0, NULL), KEEL_EINVAL,
                  "cpu_weight: CPU pool 'rt' runs rtds, which has no weight");
    keel_domain_config_dispose(&cfg);
}
END_TEST

/* A guest that ballooned to a maximum the host cannot give again: its
 * restart fails, and its config survives in restart-failed-<uuid>.json.
 * rc is what the reboot or the event pump returns. */
static uint32_t
unrestartable(struct env *e, char u[37])
{
    struct keel_domain_config cfg;
    uint32_t domid;

    cfg_make(&cfg, "big");
    cfg.memory_kb = 256 * MIB_KB;
    cfg.maxmem_kb = 2 * GIB_KB;
    cfg.on[KEEL_ON_CRASH] = KEEL_ACTION_RESTART;
    OK(keel_domain_create(e->host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    cfg_make(&cfg, "hog");
    cfg.memory_kb = 14 * GIB_KB;
    OK(keel_domain_create(e->host, &cfg, 0, NULL));
    keel_domain_config_dispose(&cfg);
    OK(keel_domain_mem_set(e->host, domid, 2 * GIB_KB));
    keel_uuid_format(info_of(e, domid).uuid, u);
    return domid;
}

START_TEST(restart_fails_keeps_config)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    char u[37], path[256];
    uint32_t domid = unrestartable(&e, u), got;
    size_t n;

    OK(keel_host_events(e.host, evs, 16, &n));
    OK(keel_sim_guest_act(e.hv, domid, KEEL_SHUTDOWN_CRASH));
    th_assert_err(keel_host_events(e.host, evs, 16, &n), KEEL_ENOHOSTMEM,
                  "KiB free on the host");
    th_assert_err(keel_domain_lookup(e.host, "big", &got), KEEL_ENODOMAIN,
                  NULL);
    snprintf(path, sizeof(path), "%s/restart-failed-%s.json", th_path("state"),
             u);
    ck_assert_int_eq(access(path, R_OK), 0);
    th_host_close(e.host); /* opening again leaves it be */
    e.host = th_host_open(e.hv, NULL);
    ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

START_TEST(reboot_wait_reports_failed_restart)
{
    struct env e = env_open(0);
    char u[37];
    uint32_t domid = unrestartable(&e, u);

    th_assert_err(keel_domain_reboot(e.host, domid, 5000, KEEL_DOMAIN_WAIT),
                  KEEL_ENOHOSTMEM, "KiB free on the host");
}
END_TEST

/* A domain destroyed behind keel's back: the event pump forgets it and
 * clears its store nodes. */
START_TEST(died_outside)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "ghost", 0);

    events(&e, evs);
    OK(keel_hv_domain_destroy(e.hv, domid));
    advance(&e, MS); /* its memory released: the backend says it went */
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_DESTROYED);
    ck_assert(!store_has(&e, "/local/domain/1", NULL));
    ck_assert_uint_eq(n_files(th_path("state")), 0);
}
END_TEST

START_TEST(poweroff_default_destroy)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "off", 0);

    events(&e, evs);
    OK(keel_sim_guest_act(e.hv, domid, KEEL_SHUTDOWN_WATCHDOG));
    ck_assert_uint_eq(events(&e, evs), 2);
    ck_assert_int_eq(evs[0].reason, KEEL_SHUTDOWN_WATCHDOG);
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_DESTROY);
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_DESTROYED);
}
END_TEST

START_TEST(soft_reset_default)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "kexec", 0);

    events(&e, evs);
    OK(keel_sim_guest_act(e.hv, domid, KEEL_SHUTDOWN_SOFT_RESET));
    ck_assert_uint_eq(events(&e, evs), 2);
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_SOFT_RESET);
    ck_assert_int_eq(evs[1].type, KEEL_DOMAIN_EVENT_RESET);
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_RUNNING);
    ck_assert_uint_eq(info_of(&e, domid).online_vcpus, 1);
}
END_TEST

START_TEST(suspend_no_action)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "sleepy", 0);

    events(&e, evs);
    OK(keel_sim_guest_act(e.hv, domid, KEEL_SHUTDOWN_SUSPEND));
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].reason, KEEL_SHUTDOWN_SUSPEND);
    ck_assert_int_eq(evs[0].action, KEEL_ACTION_UNSET);
    ck_assert_int_eq(info_of(&e, domid).state, KEEL_DOMAIN_SHUTDOWN);
}
END_TEST

/* --- changes ----------------------------------------------------------- */

START_TEST(rename_domain)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "old", 0), got;

    make(&e, "other", 0);
    events(&e, evs);
    OK(keel_domain_rename(e.host, domid, "new"));
    OK(keel_domain_lookup(e.host, "new", &got));
    ck_assert_uint_eq(got, domid);
    th_assert_err(keel_domain_lookup(e.host, "old", &got), KEEL_ENODOMAIN,
                  "no domain called 'old'");
    ck_assert(store_has(&e, "/local/domain/1/name", "new"));
    ck_assert_uint_eq(events(&e, evs), 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_RENAMED);
    ck_assert_str_eq(evs[0].name, "new");
    th_assert_err(keel_domain_rename(e.host, domid, "other"), KEEL_EEXIST,
                  "a domain called 'other' exists");
    th_assert_err(keel_domain_rename(e.host, domid, ""), KEEL_EINVAL,
                  "domain name is empty");
    th_assert_err(keel_domain_rename(e.host, 0, "x"), KEEL_EPERM, NULL);
    OK(keel_domain_rename(e.host, domid, "new")); /* same name: no-op */
}
END_TEST

START_TEST(memory)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_config got;
    uint32_t domid = make(&e, "mem", 0);

    OK(keel_domain_mem_set(e.host, domid, 32 * MIB_KB));
    ck_assert(store_has(&e, "/local/domain/1/memory/target", "32768"));
    advance(&e, MS);
    ck_assert_uint_eq(info_of(&e, domid).mem_kb, 32 * MIB_KB);
    th_assert_err(keel_domain_mem_set(e.host, domid, 128 * MIB_KB), KEEL_EINVAL,
                  "domain's maximum (65536 KiB)");
    th_assert_err(keel_domain_mem_set(e.host, domid, 512), KEEL_EINVAL, NULL);
    th_assert_err(keel_domain_mem_set(e.host, domid, 32 * MIB_KB + 2),
                  KEEL_EINVAL, NULL);
    OK(keel_domain_mem_max(e.host, domid, 256 * MIB_KB));
    ck_assert_uint_eq(info_of(&e, domid).max_kb, 256 * MIB_KB);
    OK(keel_domain_mem_set(e.host, domid, 128 * MIB_KB));
    th_assert_err(keel_domain_mem_max(e.host, domid, 64 * MIB_KB), KEEL_EINVAL,
                  "is not the target (131072 KiB)");
    th_assert_err(keel_domain_mem_max(e.host, domid, 64 * GIB_KB), KEEL_EINVAL,
                  "host memory");
    keel_domain_config_init(&got);
    OK(keel_domain_config_get(e.host, domid, &got));
    ck_assert_int_eq(got.memory_kb, 128 * MIB_KB);
    ck_assert_int_eq(got.maxmem_kb, 256 * MIB_KB);
    keel_domain_config_dispose(&got);
    th_assert_err(keel_domain_mem_set(e.host, 0, 32 * MIB_KB), KEEL_EPERM,
                  NULL);
}
END_TEST

START_TEST(vcpus)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_config cfg;
    uint32_t domid;

    cfg_make(&cfg, "cpus");
    cfg.maxvcpus = 4;
    OK(keel_domain_create(e.host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    ck_assert_uint_eq(info_of(&e, domid).online_vcpus, 2);
    OK(keel_domain_vcpu_set(e.host, domid, 4));
    ck_assert(store_has(&e, "/local/domain/1/cpu/3/availability", "online"));
    ck_assert_uint_eq(info_of(&e, domid).online_vcpus, 4);
    OK(keel_domain_vcpu_set(e.host, domid, 1));
    ck_assert_uint_eq(info_of(&e, domid).online_vcpus, 1);
    th_assert_err(keel_domain_vcpu_set(e.host, domid, 5), KEEL_EINVAL,
                  "vcpu-set: 5 is not 1..maxvcpus (4)");
    th_assert_err(keel_domain_vcpu_set(e.host, domid, 0), KEEL_EINVAL, NULL);
    keel_domain_config_init(&cfg);
    OK(keel_domain_config_get(e.host, domid, &cfg));
    ck_assert_int_eq(cfg.vcpus, 1);
    keel_domain_config_dispose(&cfg);
}
END_TEST

static struct keel_cpumap
map_of(const char *text)
{
    struct keel_cpumap m;

    ck_assert_int_eq(keel_cpumap_parse(&m, text, NULL), 0);
    return m;
}

START_TEST(pin)
{
    struct env e = env_open(0);
    struct keel_cpumap two = map_of("2"), soft = map_of("4-5"),
                       far = map_of("9"), none = map_of("");
    struct keel_domain_config got;
    struct keel_hv_vcpuinfo *v;
    size_t n;
    uint32_t domid = make(&e, "pinme", 0);

    OK(keel_domain_vcpu_pin(e.host, domid, 1, &two, NULL));
    OK(keel_domain_vcpu_list(e.host, domid, &v, &n));
    ck_assert(keel_cpumap_equal(&v[1].hard, &two));
    ck_assert_uint_eq(v[1].cpu, 2);
    ck_assert_uint_eq(keel_cpumap_count(&v[0].hard), 8);
    free(v);
    keel_domain_config_init(&got);
    OK(keel_domain_config_get(e.host, domid, &got));
    ck_assert(got.cpus.per_vcpu);
    ck_assert_str_eq(got.cpus.specs[0], "all");
    ck_assert_str_eq(got.cpus.specs[1], "2");
    OK(keel_domain_vcpu_pin(e.host, domid, KEEL_VCPU_ALL, &two, &soft));
    OK(keel_domain_config_get(e.host, domid, &got));
    ck_assert(!got.cpus.per_vcpu);
    ck_assert_str_eq(got.cpus.specs[0], "2");
    ck_assert_str_eq(got.cpus_soft.specs[0], "4-5");
    keel_domain_config_dispose(&got);
    th_assert_err(keel_domain_vcpu_pin(e.host, domid, 0, &far, NULL),
                  KEEL_EINVAL, "CPUs of the domain's pool (0-7)");
    th_assert_err(keel_domain_vcpu_pin(e.host, domid, 0, &none, NULL),
                  KEEL_EINVAL, "no CPU given");
    th_assert_err(keel_domain_vcpu_pin(e.host, domid, 2, &two, NULL),
                  KEEL_EINVAL, "has no vCPU 2 (it has 2)");
    OK(keel_domain_vcpu_pin(e.host, 0, 0, &two, NULL)); /* Domain-0 too */
}
END_TEST

/* --- asking ------------------------------------------------------------ */

START_TEST(lookup_list)
{
    struct env e = env_open(0);
    struct keel_domain_info *all;
    char u[37];
    uint32_t a = make(&e, "alpha", 0), b = make(&e, "beta", 0), got;
    size_t n;

    OK(keel_domain_lookup(e.host, "beta", &got));
    ck_assert_uint_eq(got, b);
    OK(keel_domain_lookup(e.host, "1", &got));
    ck_assert_uint_eq(got, a);
    OK(keel_domain_lookup(e.host, "Domain-0", &got));
    ck_assert_uint_eq(got, 0);
    keel_uuid_format(info_of(&e, b).uuid, u);
    OK(keel_domain_lookup(e.host, u, &got));
    ck_assert_uint_eq(got, b);
    th_assert_err(keel_domain_lookup(e.host, "99", &got), KEEL_ENODOMAIN,
                  "no domain called '99'");
    OK(keel_domain_list(e.host, &all, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(all[0].name, "Domain-0");
    ck_assert_str_eq(all[1].name, "alpha");
    ck_assert_str_eq(all[2].name, "beta");
    ck_assert_int_eq(all[0].state, KEEL_DOMAIN_RUNNING);
    free(all);
    ck_assert_int_eq(keel_domain_config_get(e.host, 0, NULL), KEEL_EINVAL);
}
END_TEST

/* --- records across hosts ---------------------------------------------- */

START_TEST(reopen_reconciles)
{
    struct env e = env_open(0);
    struct keel_hv_domain_spec spec = {
        .type = KEEL_DOMAIN_PV,
        .max_vcpus = 1,
        .online_vcpus = 1,
        .max_kb = 16 * MIB_KB,
        .mem_kb = 16 * MIB_KB,
        .domid = KEEL_DOMID_INVALID,
    };
    struct keel_domain_config got;
    uint32_t keep = make(&e, "keep", 0), lost = make(&e, "lost", 0), orphan,
             got_id;

    th_host_close(e.host);
    OK(keel_hv_domain_destroy(e.hv, lost)); /* behind keel's back */
    OK(keel_uuid_generate(spec.uuid));
    OK(keel_hv_domain_create(e.hv, &spec, &orphan));
    OK(keel_hv_store_write_str(e.hv, "/local/domain/3/name", "stray"));
    e.host = th_host_open(e.hv, NULL);
    OK(keel_domain_lookup(e.host, "keep", &got_id));
    ck_assert_uint_eq(got_id, keep);
    th_assert_err(keel_domain_lookup(e.host, "lost", &got_id), KEEL_ENODOMAIN,
                  NULL);
    OK(keel_domain_lookup(e.host, "stray", &got_id)); /* adopted */
    ck_assert_uint_eq(got_id, orphan);
    keel_domain_config_init(&got);
    OK(keel_domain_config_get(e.host, orphan, &got));
    ck_assert_int_eq(got.memory_kb, 16 * MIB_KB);
    keel_domain_config_dispose(&got);
    ck_assert_uint_eq(n_files(th_path("state")), 2);
    OK(keel_domain_destroy(e.host, orphan));
}
END_TEST

/* A domain created behind libkeel's back is adopted at the next open and
 * says so, through info and list, after any later reopen too; keel's own
 * domains, and Domain-0, do not. */
START_TEST(adopted_flag)
{
    struct env e = env_open(0);
    struct keel_domain_info *infos = NULL;
    uint32_t mine = make(&e, "mine", 0), foreign, i;
    size_t n = 0;
    int round;

    ck_assert(!info_of(&e, mine).adopted);
    ck_assert(!info_of(&e, 0).adopted);
    foreign = th_sim_domain(e.hv, KEEL_DOMAIN_PV, 1, 16 * MIB_KB);
    OK(keel_domain_list(e.host, &infos, &n)); /* no record yet */
    for (i = 0; i < n; i++)
        ck_assert(!infos[i].adopted);
    free(infos);
    for (round = 0; round < 2; round++) {
        th_host_close(e.host);
        e.host = th_host_open(e.hv, NULL);
        ck_assert(info_of(&e, foreign).adopted);
        ck_assert(!info_of(&e, mine).adopted);
        OK(keel_domain_list(e.host, &infos, &n));
        for (i = 0; i < n; i++)
            ck_assert_int_eq(infos[i].adopted, infos[i].domid == foreign);
        free(infos);
    }
    /* a domain keel makes later (maybe on the same domid) is keel's */
    OK(keel_domain_destroy(e.host, foreign));
    ck_assert(!info_of(&e, make(&e, "next", 0)).adopted);
}
END_TEST

/* A process killed in the middle of a create leaves a mark in
 * the store (/vm/<uuid>/creating, written before the domain exists);
 * the next open finishes a create that has a record (the
 * domain runs, as asked) and takes back one that has none (keeld killed
 * under a burst of creates once left such domains paused for ever). */
START_TEST(half_done_create_finished_or_undone)
{
    struct env e = env_open(0);
    struct keel_hv_dominfo hi;
    struct keel_domain_info info;
    uint32_t whole = make(&e, "whole", 0), cut, orphan;
    char *val = NULL, path[64], u[37];
    size_t len;

    cut = make(&e, "cut", 0);
    /* "cut" as a killed create leaves it: recorded, paused, marked */
    OK(keel_hv_domain_pause(e.hv, cut));
    info = info_of(&e, cut);
    keel_uuid_format(info.uuid, u);
    snprintf(path, sizeof(path), "/vm/%s/creating", u);
    OK(keel_hv_store_write_str(e.hv, path, "run"));
    /* and one killed before its record was written */
    orphan = th_sim_domain(e.hv, KEEL_DOMAIN_PV, 1, 16 * MIB_KB);
    OK(keel_hv_domain_pause(e.hv, orphan));
    OK(keel_hv_domain_info(e.hv, orphan, &hi));
    keel_uuid_format(hi.uuid, u);
    {
        char opath[64];

        snprintf(opath, sizeof(opath), "/vm/%s/creating", u);
        OK(keel_hv_store_write_str(e.hv, opath, "run"));
    }
    th_host_close(e.host);
    e.host = th_host_open(e.hv, NULL);
    ck_assert_int_eq(info_of(&e, cut).state, KEEL_DOMAIN_RUNNING);
    ck_assert_int_eq(keel_hv_store_read(e.hv, path, &val, &len), KEEL_ENOENT);
    keel_ctx_clear_error(th_ctx());
    ck_assert_int_eq(info_of(&e, whole).state, KEEL_DOMAIN_RUNNING);
    ck_assert(keel_hv_domain_info(e.hv, orphan, &hi) == KEEL_ENODOMAIN ||
              (hi.flags & KEEL_DOMF_DYING));
    keel_ctx_clear_error(th_ctx());
    th_assert_err(keel_domain_info(e.host, orphan, &info), KEEL_ENODOMAIN,
                  NULL);
    /* a mark whose domain never came to be (killed before the
     * hypervisor's create) and a record write cut short go at the next
     * open */
    OK(keel_hv_store_write_str(
        e.hv, "/vm/0e5ae0c0-5a1e-4b1e-9e1e-000000000001/creating", "run"));
    {
        char tmp[512];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s/domain-7-%s.json.tmp", th_path("state"),
                 "0e5ae0c0-5a1e-4b1e-9e1e-000000000001");
        f = fopen(tmp, "w");
        ck_assert_ptr_nonnull(f);
        fputs("{\"c_info\": {", f); /* half a record */
        fclose(f);
        th_host_close(e.host);
        e.host = th_host_open(e.hv, NULL);
        ck_assert_int_ne(access(tmp, F_OK), 0);
    }
    ck_assert_int_eq(
        keel_hv_store_read(e.hv,
                           "/vm/0e5ae0c0-5a1e-4b1e-9e1e-000000000001/creating",
                           &val, &len),
        KEEL_ENOENT);
    keel_ctx_clear_error(th_ctx());
    /* a whole create leaves no mark */
    keel_uuid_format(info_of(&e, whole).uuid, u);
    snprintf(path, sizeof(path), "/vm/%s/creating", u);
    ck_assert_int_eq(keel_hv_store_read(e.hv, path, &val, &len), KEEL_ENOENT);
    keel_ctx_clear_error(th_ctx());
}
END_TEST

/* --- the event queue --------------------------------------------------- */

START_TEST(event_queue_bounded)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[16];
    uint32_t domid = make(&e, "noisy", 0);
    int i;

    for (i = 0; i < KEEL_HOST_EVENT_QUEUE / 2 + 10; i++) {
        OK(keel_domain_pause(e.host, domid));
        OK(keel_domain_unpause(e.host, domid));
    }
    ck_assert_uint_eq(events(&e, evs), 16);
    ck_assert_uint_eq(evs[0].seq, 22); /* the oldest 21 were dropped */
    ck_assert_uint_eq(evs[15].seq, 37);
}
END_TEST

/* The host's event fd wakes a poller for the events calls queue (it once
 * was the backend's fd alone, which a create does not touch, so a daemon
 * polling it never heard of "created"), and is quiet once they are read. */
START_TEST(event_fd_wakes_for_queued_events)
{
    struct env e = env_open(KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_domain_event evs[8];
    struct pollfd pfd = {.events = POLLIN};
    size_t n;

    pfd.fd = keel_host_event_fd(e.host);
    ck_assert_int_ge(pfd.fd, 0);
    OK(keel_host_events(e.host, evs, 8, &n));
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
    make(&e, "web", 0);
    ck_assert_int_eq(poll(&pfd, 1, 0), 1);
    OK(keel_host_events(e.host, evs, 8, &n));
    ck_assert_uint_ge(n, 1);
    ck_assert_int_eq(evs[0].type, KEEL_DOMAIN_EVENT_CREATED);
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
}
END_TEST

START_TEST(wait_times_out)
{
    struct env e = env_open(0);
    struct keel_domain_event evs[4];
    size_t n = 9;

    OK(keel_host_wait(e.host, 50, evs, 4, &n));
    ck_assert_uint_eq(n, 0);
    make(&e, "ev", 0);
    OK(keel_host_wait(e.host, 50, evs, 4, &n));
    ck_assert_uint_eq(n, 1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("domain");
    TCase *tc = th_tcase(s, "create");

    tcase_add_test(tc, create_running);
    tcase_add_test(tc, create_paused_pause_unpause);
    tcase_add_test(tc, resume_suspended);
    tcase_add_test(tc, create_refused);
    tcase_add_test(tc, create_uuid_taken);
    tcase_add_test(tc, create_undone);
    tcase_add_test(tc, create_affinity);
    tcase_add_test(tc, destroy);
    tc = th_tcase(s, "actions");
    tcase_add_test(tc, shutdown_request);
    tcase_add_test(tc, shutdown_wait);
    tcase_add_test(tc, shutdown_timeout_force);
    tcase_add_test(tc, reboot_wait);
    tcase_add_test(tc, crash_preserve);
    tcase_add_test(tc, crash_restart);
    tcase_add_test(tc, crash_rename_restart);
    tcase_add_test(tc, restart_in_rtds_pool);
    tcase_add_test(tc, restart_fails_keeps_config);
    tcase_add_test(tc, reboot_wait_reports_failed_restart);
    tcase_add_test(tc, died_outside);
    tcase_add_test(tc, poweroff_default_destroy);
    tcase_add_test(tc, soft_reset_default);
    tcase_add_test(tc, suspend_no_action);
    tc = th_tcase(s, "changes");
    tcase_add_test(tc, rename_domain);
    tcase_add_test(tc, memory);
    tcase_add_test(tc, vcpus);
    tcase_add_test(tc, pin);
    tcase_add_test(tc, lookup_list);
    tcase_add_test(tc, reopen_reconciles);
    tcase_add_test(tc, adopted_flag);
    tcase_add_test(tc, event_queue_bounded);
    tcase_add_test(tc, wait_times_out);
    tcase_add_test(tc, event_fd_wakes_for_queued_events);
    tcase_add_test(tc, half_done_create_finished_or_undone);
    return th_run(s);
}
