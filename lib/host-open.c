/* host-open.c: opening and closing a struct keel_host, and what it says
 * about the machine
 *
 * Opening reads the host's topology, loads the domain config files of
 * STATE_DIR and reconciles them with the domains the hypervisor has (see
 * host.h): a file whose domain is gone is removed, a domain without a
 * file is adopted (and marked so in the store, where the next open reads
 * it back: keel_domain_info's adopted).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"

static int
read_topology(struct keel_host *host)
{
    struct keel_hv_physinfo pi;
    struct keel_hv_cputopo *topo = NULL;
    size_t n, i;
    int rc = keel_hv_physinfo(host->hv, &pi);

    if (rc)
        return rc;
    if (pi.nr_nodes == 0 || pi.nr_nodes > KEEL_HOST_MAX_NODES ||
        pi.nr_cpus == 0 || pi.nr_cpus > KEEL_MAX_CPUS)
        return keel_error(host->ctx, KEEL_ERANGE,
                          "host has %u CPUs and %u NUMA nodes; keel handles "
                          "1..%d and 1..%d",
                          pi.nr_cpus, pi.nr_nodes, KEEL_MAX_CPUS,
                          KEEL_HOST_MAX_NODES);
    host->nr_cpus = pi.nr_cpus;
    host->nr_nodes = pi.nr_nodes;
    topo = calloc(pi.nr_cpus, sizeof(*topo));
    if (!topo)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    rc = keel_hv_cputopo(host->hv, topo, pi.nr_cpus, &n);
    for (i = 0; rc == 0 && i < n && i < pi.nr_cpus; i++)
        if (topo[i].node < pi.nr_nodes)
            keel_cpumap_set(&host->node_cpus[topo[i].node], (unsigned)i);
    free(topo);
    return rc;
}

/* Reads the store node at path into buf ("" when absent). */
static void
store_get(struct keel_host *host, const char *path, char *buf, size_t size)
{
    char *val = NULL;
    bool had = keel__error_isset(host->ctx);
    size_t len;

    buf[0] = '\0';
    if (keel_hv_store_read(host->hv, path, &val, &len) == 0)
        snprintf(buf, size, "%s", val);
    else
        keel__error_unrecord(host->ctx, had);
    free(val);
}

/* What the store says that the config file does not. */
static void
load_meta(struct keel_host *host, struct keel__dom *d)
{
    char path[96], u[37], buf[64];
    uint64_t v;

    keel_uuid_format(d->uuid, u);
    snprintf(path, sizeof(path), "/vm/%s/start_time", u);
    store_get(host, path, buf, sizeof(buf));
    if (keel__parse_u64(buf, &v))
        d->start_time_ns = v;
    snprintf(path, sizeof(path), "/local/domain/%u/keel/stopped", d->domid);
    store_get(host, path, buf, sizeof(buf));
    if (keel__parse_u64(buf, &v) && v <= KEEL_SHUTDOWN_SOFT_RESET)
        d->stopped = (int)v;
    snprintf(path, sizeof(path), "/local/domain/%u/keel/adopted", d->domid);
    store_get(host, path, buf, sizeof(buf));
    if (!strcmp(buf, "1"))
        d->adopted = true;
}

static void
mark_path(const uint8_t uuid[16], char path[64])
{
    char u[37];

    keel_uuid_format(uuid, u);
    snprintf(path, 64, "/vm/%s/creating", u);
}

int
keel__create_mark(struct keel_host *host, const uint8_t uuid[16],
                  const char *leave)
{
    char path[64];

    mark_path(uuid, path);
    return keel__store_printf(host, path, "%s", leave);
}

void
keel__dom_created(struct keel_host *host, const uint8_t uuid[16])
{
    char path[64];
    bool had = keel__error_isset(host->ctx);

    mark_path(uuid, path);
    if (keel_hv_store_remove(host->hv, path))
        keel_warn(host->ctx, "removing %s: %s", path,
                  keel_ctx_last_error(host->ctx));
    keel__error_unrecord(host->ctx, had);
}

/* A create that a killed process left half done (/vm/<uuid>/creating in
 * the store): with a record it is finished (unpaused unless it was to
 * stay paused); without one there is no config to keep it by, so the
 * domain is taken back. Returns true when the domain was taken back. */
static bool
finish_create(struct keel_host *host, uint32_t domid, const uint8_t uuid[16],
              bool has_record)
{
    char path[64], buf[16];
    bool had = keel__error_isset(host->ctx);
    struct keel_hv_dominfo info;

    mark_path(uuid, path);
    store_get(host, path, buf, sizeof(buf));
    if (!buf[0])
        return false;
    if (!has_record) {
        keel_info(host->ctx,
                  "domain %u: its create was cut short before keel kept "
                  "its config; destroying it",
                  domid);
        (void)keel_hv_domain_destroy(host->hv, domid);
        keel__dom_remove_store(host, domid, uuid);
        keel__error_unrecord(host->ctx, had);
        return true;
    }
    if (!strcmp(buf, "run") &&
        keel_hv_domain_info(host->hv, domid, &info) == 0 &&
        (info.flags & KEEL_DOMF_PAUSED)) {
        keel_info(host->ctx, "domain %u: finishing its create: unpausing",
                  domid);
        (void)keel_hv_domain_unpause(host->hv, domid);
    }
    keel__error_unrecord(host->ctx, had);
    keel__dom_created(host, uuid);
    return false;
}

/* Marks d adopted in the store, beside keel/stopped: the record adopt()
 * writes is a config file (libxl's JSON, which has no place for it), and
 * the next open loads that record like any other. A failure only costs
 * the mark after a reopen, so it is a warning, not a failed open. */
static void
mark_adopted(struct keel_host *host, struct keel__dom *d)
{
    char path[64];
    bool had = keel__error_isset(host->ctx);

    d->adopted = true;
    snprintf(path, sizeof(path), "/local/domain/%u/keel/adopted", d->domid);
    if (keel__store_printf(host, path, "1")) {
        keel_warn(host->ctx, "domain %u: recording that it was adopted: %s",
                  d->domid, keel_ctx_last_error(host->ctx));
        keel__error_unrecord(host->ctx, had);
    }
}

/* One file of the state directory: keep it, or say why not. */
static int
load_one(struct keel_host *host, const char *name)
{
    struct keel_hv_dominfo info;
    struct keel__dom *d = NULL;
    char *file = NULL, ustr[37];
    unsigned int domid;
    int rc = 0, end = 0;

    if (sscanf(name, "domain-%u-%36[0-9a-f-].json%n", &domid, ustr, &end) !=
            2 ||
        domid == 0 || domid >= KEEL_DOMID_FIRST_RESERVED)
        return 0; /* not ours */
    if (!strcmp(name + end, ".tmp")) {
        /* A write cut short by a crash: the file beside it, if any, is
         * the whole previous version. */
        file = keel__sprintf(host->ctx, "%s/%s", host->dir, name);
        if (file)
            unlink(file);
        free(file);
        return 0;
    }
    if (name[end])
        return 0;
    file = keel__sprintf(host->ctx, "%s/%s", host->dir, name);
    d = keel__dom_new();
    if (!file || !d) {
        rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
        goto out;
    }
    d->domid = domid;
    rc = keel_uuid_parse(ustr, d->uuid) ? KEEL_ECORRUPT : 0;
    if (rc == 0)
        rc = keel_hv_domain_info(host->hv, domid, &info);
    if (rc == 0 &&
        (memcmp(info.uuid, d->uuid, 16) || (info.flags & KEEL_DOMF_DYING)))
        rc = keel_error(host->ctx, KEEL_ENODOMAIN,
                        "domain %u is another domain now, or dying", domid);
    if (rc == 0)
        rc = keel_domain_config_read_file(host->ctx, KEEL_CONFIG_JSON, file,
                                          NULL, 0, &d->cfg);
    if (rc == 0 && (!d->cfg.name || host->doms[domid] ||
                    keel__dom_by_name(host, d->cfg.name)))
        rc = keel_error(host->ctx, KEEL_ECORRUPT,
                        "it names no domain, or one named already");
    /* Only a file that is no live domain's goes; a failure to read it (no
     * memory, an I/O error) fails the open and keeps the file. */
    if (rc && rc != KEEL_ENODOMAIN && rc != KEEL_ECORRUPT &&
        rc != KEEL_ESYNTAX && rc != KEEL_EINVAL && rc != KEEL_ERANGE)
        goto out;
    if (rc) {
        keel_info(host->ctx,
                  "%s: its domain is gone or it is unusable (%s); "
                  "removing it",
                  file, keel_ctx_last_error(host->ctx));
        keel_ctx_clear_error(host->ctx); /* nothing was pending before */
        unlink(file);
        rc = 0;
        goto out;
    }
    memcpy(d->cfg.uuid, d->uuid, 16);
    load_meta(host, d);
    finish_create(host, domid, d->uuid, true);
    keel__dom_insert(host, d);
    d = NULL;
out:
    keel__dom_free(d);
    free(file);
    return rc;
}

static int
load_records(struct keel_host *host)
{
    struct dirent *de;
    DIR *dir = opendir(host->dir);
    int rc = 0;

    if (!dir)
        return keel_error_errno(host->ctx, 0, "opening %s", host->dir);
    while (rc == 0 && (de = readdir(dir)))
        rc = load_one(host, de->d_name);
    closedir(dir);
    return rc;
}

/* A name for an adopted domain: its store name when free, else one made
 * from its domid. */
static char *
adopt_name(struct keel_host *host, uint32_t domid)
{
    char path[64], buf[KEEL_NAME_MAX + 1];
    bool had = keel__error_isset(host->ctx);

    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    store_get(host, path, buf, sizeof(buf));
    if (keel__name_check(host->ctx, "domain", buf) ||
        keel__dom_by_name(host, buf)) {
        keel__error_unrecord(host->ctx, had);
        snprintf(buf, sizeof(buf), "adopted-%u", domid);
    }
    return keel__strdup(host->ctx, buf);
}

/* A domain the hypervisor has and no file describes. */
static int
adopt(struct keel_host *host, const struct keel_hv_dominfo *info)
{
    struct keel__dom *d = keel__dom_new();
    char pool[KEEL_NAME_MAX + 1];
    int rc = KEEL_ENOMEM;

    if (!d)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    d->domid = info->domid;
    memcpy(d->uuid, info->uuid, 16);
    memcpy(d->cfg.uuid, info->uuid, 16);
    d->cfg.type = info->type;
    d->cfg.name = adopt_name(host, info->domid);
    keel__pool_name(host, info->poolid, pool);
    d->cfg.pool = keel__strdup(host->ctx, pool);
    d->cfg.memory_kb = (int64_t)info->tot_kb;
    d->cfg.maxmem_kb =
        (int64_t)(info->max_kb > info->tot_kb ? info->max_kb : info->tot_kb);
    d->cfg.maxvcpus = info->max_vcpus;
    d->cfg.vcpus = info->online_vcpus ? info->online_vcpus : 1;
    if (d->cfg.name && d->cfg.pool)
        rc = keel_domain_config_set_defaults(host->ctx, &d->cfg, 0);
    if (rc) {
        keel__dom_free(d);
        return rc;
    }
    load_meta(host, d);
    mark_adopted(host, d);
    keel__dom_insert(host, d);
    keel_warn(host->ctx,
              "domain %u had no config in %s (a toolstack stopped "
              "half-way?): adopted as '%s'",
              d->domid, host->dir, d->cfg.name);
    return keel__dom_save(host, d);
}

static int
adopt_orphans(struct keel_host *host)
{
    struct keel_hv_dominfo infos[256];
    uint32_t first = 1;
    size_t n, i;
    int rc;

    do {
        rc = keel_hv_domain_list(host->hv, first, infos, ARRAY_SIZE(infos), &n);
        for (i = 0; rc == 0 && i < n; i++) {
            first = infos[i].domid + 1;
            if (infos[i].domid == 0 || (infos[i].flags & KEEL_DOMF_DYING) ||
                host->doms[infos[i].domid])
                continue;
            if (finish_create(host, infos[i].domid, infos[i].uuid, false))
                continue;
            rc = adopt(host, &infos[i]);
        }
    } while (rc == 0 && n == ARRAY_SIZE(infos));
    return rc;
}

/* Creating marks of domains that do not exist: a process killed after
 * writing the mark and before the hypervisor's create. Harmless, but
 * they would otherwise stay for ever. */
static void
clean_marks(struct keel_host *host)
{
    bool had = keel__error_isset(host->ctx);
    char **names = NULL, path[64], *val;
    uint8_t uuid[16];
    size_t n = 0, i, len;

    if (keel_hv_store_list(host->hv, "/vm", &names, &n) == 0) {
        for (i = 0; i < n; i++) {
            if (keel_uuid_parse(names[i], uuid) ||
                keel__dom_by_uuid(host, uuid))
                continue;
            snprintf(path, sizeof(path), "/vm/%s/creating", names[i]);
            val = NULL;
            if (keel_hv_store_read(host->hv, path, &val, &len) == 0) {
                keel_info(host->ctx, "%s: no such domain: removing", path);
                (void)keel_hv_store_remove(host->hv, path);
            }
            free(val);
        }
        free(names); /* one allocation */
    }
    keel__error_unrecord(host->ctx, had);
}

/* keel_host_event_fd: an epoll set of the backend's event fd and an
 * eventfd that is non-zero while libkeel's own queue holds events (those
 * that calls queue: created, paused, ...). */
static int
event_fds(struct keel_host *host)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int hvfd = keel_hv_event_fd(host->hv);

    host->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    host->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (host->evfd < 0 || host->epfd < 0)
        return keel_error_errno(host->ctx, 0, "making the host's event fd");
    ev.data.fd = host->evfd;
    if (epoll_ctl(host->epfd, EPOLL_CTL_ADD, host->evfd, &ev) != 0)
        return keel_error_errno(host->ctx, 0, "making the host's event fd");
    ev.data.fd = hvfd;
    if (hvfd >= 0 && epoll_ctl(host->epfd, EPOLL_CTL_ADD, hvfd, &ev) != 0)
        return keel_error_errno(host->ctx, 0,
                                "watching the backend's event fd");
    return 0;
}

static int
host_alloc(struct keel_ctx *ctx, struct keel_hv *hv, const char *dir,
           struct keel_host **host_r)
{
    struct keel_host *host = calloc(1, sizeof(*host));

    *host_r = host;
    if (!host)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    host->ctx = ctx;
    host->hv = hv;
    host->evfd = host->epfd = -1;
    pthread_mutex_init(&host->lock, NULL);
    host->dir = keel__strdup(ctx, dir);
    host->doms = calloc(KEEL_DOMID_FIRST_RESERVED, sizeof(*host->doms));
    host->by_name.n_slots = host->by_uuid.n_slots = 64;
    host->by_name.slots = calloc(64, sizeof(struct keel__dom *));
    host->by_uuid.slots = calloc(64, sizeof(struct keel__dom *));
    host->evq = calloc(KEEL_HOST_EVENT_QUEUE, sizeof(*host->evq));
    if (!host->dir || !host->doms || !host->by_name.slots ||
        !host->by_uuid.slots || !host->evq)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    if (mkdir(dir, 0750) && errno != EEXIST)
        return keel_error_errno(ctx, 0, "creating state directory %s", dir);
    return event_fds(host);
}

KEEL_EXPORT int
keel_host_open(struct keel_ctx *ctx, struct keel_hv *hv, const char *state_dir,
               unsigned int flags, struct keel_host **host_r)
{
    struct keel_host *host = NULL;
    int rc;

    if (!ctx || !host_r)
        return KEEL_EINVAL;
    *host_r = NULL;
    keel__enter(ctx);
    if (!hv || !state_dir || !*state_dir || flags) {
        rc = keel_error(ctx, KEEL_EINVAL,
                        "keel_host_open needs a backend, a state directory "
                        "and flags 0");
        goto out;
    }
    rc = host_alloc(ctx, hv, state_dir, &host);
    if (rc == 0)
        rc = read_topology(host);
    if (rc == 0)
        rc = load_records(host);
    if (rc == 0)
        rc = adopt_orphans(host);
    if (rc == 0)
        clean_marks(host);
out:
    if (rc)
        keel_host_close(host);
    else
        *host_r = host;
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT void
keel_host_close(struct keel_host *host)
{
    size_t i;

    if (!host)
        return;
    for (i = 0; host->doms && i < KEEL_DOMID_FIRST_RESERVED; i++)
        keel__dom_free(host->doms[i]);
    free(host->doms);
    free(host->by_name.slots);
    free(host->by_uuid.slots);
    free(host->evq);
    free(host->dir);
    if (host->evfd >= 0)
        close(host->evfd);
    if (host->epfd >= 0)
        close(host->epfd);
    pthread_mutex_destroy(&host->lock);
    free(host);
}

KEEL_EXPORT struct keel_hv *
keel_host_hv(const struct keel_host *host)
{
    return host->hv;
}

KEEL_EXPORT struct keel_ctx *
keel_host_ctx(const struct keel_host *host)
{
    return host->ctx;
}

KEEL_EXPORT int
keel_host_info(struct keel_host *host, struct keel_host_info *info)
{
    int rc;

    if (!host || !info)
        return KEEL_EINVAL;
    keel__host_begin(host);
    memset(info, 0, sizeof(*info));
    rc = keel_hv_physinfo(host->hv, &info->physinfo);
    if (rc == 0)
        rc = keel_hv_cpupool_free_cpus(host->hv, &info->free_cpus);
    memcpy(info->node_cpus, host->node_cpus, sizeof(host->node_cpus));
    info->nr_domains = (uint32_t)host->n_doms + 1;
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_host_resolve_cpus(struct keel_host *host, const char *spec,
                       struct keel_cpumap *map_r)
{
    char *canon = NULL;
    int rc;

    if (!host || !spec || !map_r)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel_cpuspec_normalize(host->ctx, spec, &canon);
    if (rc == 0)
        rc = keel_cpuspec_resolve(host->ctx, canon, host->nr_cpus,
                                  host->node_cpus, host->nr_nodes, map_r);
    free(canon);
    return keel__host_end(host, rc);
}
