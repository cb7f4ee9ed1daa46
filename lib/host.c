/* host.c: struct keel_host: open/close, the domain records and their
 * files, the state machine check, and the event queue
 *
 * Records are found by domid (an array with a slot per possible domid),
 * by name and by uuid (chained hash tables that double when full), so no
 * operation on one domain walks the others. See host.h for where each
 * part of a domain's state lives and how opening reconciles them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-internal.h"

static const struct keel__enum_name event_names[] = {
    {KEEL_DOMAIN_EVENT_CREATED, "created"},
    {KEEL_DOMAIN_EVENT_PAUSED, "paused"},
    {KEEL_DOMAIN_EVENT_UNPAUSED, "unpaused"},
    {KEEL_DOMAIN_EVENT_SHUTDOWN, "shutdown"},
    {KEEL_DOMAIN_EVENT_DESTROYED, "destroyed"},
    {KEEL_DOMAIN_EVENT_RESTARTED, "restarted"},
    {KEEL_DOMAIN_EVENT_RENAMED, "renamed"},
    {KEEL_DOMAIN_EVENT_RESET, "reset"},
    {KEEL_DOMAIN_EVENT_SAVED, "saved"},
    {KEEL_DOMAIN_EVENT_RESTORED, "restored"},
    {KEEL_DOMAIN_EVENT_MIGRATED, "migrated"},
};

KEEL_EXPORT const char *
keel_domain_event_type_name(enum keel_domain_event_type type)
{
    return keel__enum_to_name(event_names, ARRAY_SIZE(event_names), type);
}

/* --- locking --- */

void
keel__host_begin(struct keel_host *host)
{
    pthread_mutex_lock(&host->lock);
    keel__enter(host->ctx);
}

int
keel__host_end(struct keel_host *host, int rc)
{
    keel__leave(host->ctx);
    pthread_mutex_unlock(&host->lock);
    return rc;
}

bool
keel__host_sleep(struct keel_host *host, int ms)
{
    struct pollfd pfd = {.fd = keel_hv_event_fd(host->hv), .events = POLLIN};
    int r;

    pthread_mutex_unlock(&host->lock);
    r = pfd.fd >= 0 ? poll(&pfd, 1, ms) : poll(NULL, 0, ms);
    pthread_mutex_lock(&host->lock);
    return !(r < 0 && errno == EINTR);
}

/* --- hash tables of records --- */

static uint64_t
hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603u; /* FNV-1a */

    while (n--)
        h = (h ^ *b++) * 1099511628211u;
    return h;
}

static struct keel__dom **
name_slot(struct keel__hash *t, const char *name)
{
    return &t->slots[hash_bytes(name, strlen(name)) & (t->n_slots - 1)];
}

static struct keel__dom **
uuid_slot(struct keel__hash *t, const uint8_t uuid[16])
{
    return &t->slots[hash_bytes(uuid, 16) & (t->n_slots - 1)];
}

static void hash_add(struct keel_host *host, struct keel__dom *d);

/* Doubles both tables when they hold as many records as slots. */
static void
hash_grow(struct keel_host *host)
{
    struct keel__dom **names, **uuids;
    size_t n = host->by_name.n_slots * 2, i;

    if (host->n_doms < host->by_name.n_slots)
        return;
    names = calloc(n, sizeof(*names));
    uuids = calloc(n, sizeof(*uuids));
    if (!names || !uuids) { /* keep the old tables: longer chains only */
        free(names);
        free(uuids);
        return;
    }
    free(host->by_name.slots);
    free(host->by_uuid.slots);
    host->by_name = (struct keel__hash){names, n};
    host->by_uuid = (struct keel__hash){uuids, n};
    for (i = 0; i < KEEL_DOMID_FIRST_RESERVED; i++)
        if (host->doms[i])
            hash_add(host, host->doms[i]);
}

static void
hash_add(struct keel_host *host, struct keel__dom *d)
{
    struct keel__dom **slot = name_slot(&host->by_name, d->cfg.name);

    d->name_next = *slot;
    *slot = d;
    slot = uuid_slot(&host->by_uuid, d->uuid);
    d->uuid_next = *slot;
    *slot = d;
}

static void
hash_del(struct keel_host *host, struct keel__dom *d, const char *name,
         const uint8_t uuid[16])
{
    struct keel__dom **p;

    for (p = name_slot(&host->by_name, name); *p; p = &(*p)->name_next)
        if (*p == d) {
            *p = d->name_next;
            break;
        }
    for (p = uuid_slot(&host->by_uuid, uuid); *p; p = &(*p)->uuid_next)
        if (*p == d) {
            *p = d->uuid_next;
            break;
        }
}

/* --- records --- */

struct keel__dom *
keel__dom_new(void)
{
    struct keel__dom *d = calloc(1, sizeof(*d));

    if (d) {
        keel_domain_config_init(&d->cfg);
        d->stopped = -1;
    }
    return d;
}

void
keel__dom_free(struct keel__dom *d)
{
    if (!d)
        return;
    keel_domain_config_dispose(&d->cfg);
    free(d);
}

struct keel__dom *
keel__dom_find(struct keel_host *host, uint32_t domid)
{
    return domid < KEEL_DOMID_FIRST_RESERVED ? host->doms[domid] : NULL;
}

struct keel__dom *
keel__dom_by_name(struct keel_host *host, const char *name)
{
    struct keel__dom *d = *name_slot(&host->by_name, name);

    while (d && strcmp(d->cfg.name, name))
        d = d->name_next;
    return d;
}

struct keel__dom *
keel__dom_by_uuid(struct keel_host *host, const uint8_t uuid[16])
{
    struct keel__dom *d = *uuid_slot(&host->by_uuid, uuid);

    while (d && memcmp(d->uuid, uuid, 16))
        d = d->uuid_next;
    return d;
}

void
keel__dom_insert(struct keel_host *host, struct keel__dom *d)
{
    host->doms[d->domid] = d;
    host->n_doms++;
    hash_add(host, d);
    hash_grow(host);
}

static char *
dom_file(struct keel_host *host, uint32_t domid, const uint8_t uuid[16])
{
    char u[37];

    keel_uuid_format(uuid, u);
    return keel__sprintf(host->ctx, "%s/domain-%u-%s.json", host->dir, domid,
                         u);
}

void
keel__dom_forget(struct keel_host *host, struct keel__dom *d)
{
    char *file = dom_file(host, d->domid, d->uuid);

    if (file && unlink(file) && errno != ENOENT)
        keel_warn(host->ctx, "removing %s: %s", file, strerror(errno));
    free(file);
    hash_del(host, d, d->cfg.name, d->uuid);
    host->doms[d->domid] = NULL;
    host->n_doms--;
    keel__dom_free(d);
}

void
keel__dom_renamed(struct keel_host *host, struct keel__dom *d,
                  const char *old_name, const uint8_t old_uuid[16])
{
    hash_del(host, d, old_name, old_uuid);
    hash_add(host, d);
    if (memcmp(old_uuid, d->uuid, 16)) {
        char *file = dom_file(host, d->domid, old_uuid);

        if (file)
            unlink(file);
        free(file);
    }
}

/* Durable atomic replace: the temporary file is synced before the
 * rename and the directory after it, so a crash (of keel or the machine)
 * leaves the old file or the new one, whole, and never loses a rename
 * that returned. */
static int
write_file(struct keel_host *host, const char *file, const char *text)
{
    char *tmp = keel__sprintf(host->ctx, "%s.tmp", file);
    size_t len = strlen(text), done = 0;
    bool renamed = false;
    int fd = -1, rc = 0, r;

    if (!tmp)
        return KEEL_ENOMEM;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = keel_error_errno(host->ctx, 0, "creating %s", tmp);
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = keel_error_errno(host->ctx, 0, "writing %s", tmp);
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd)) {
        rc = keel_error_errno(host->ctx, 0, "syncing %s", tmp);
        goto out;
    }
    r = close(fd);
    fd = -1;
    if (r) {
        rc = keel_error_errno(host->ctx, 0, "writing %s", tmp);
        goto out;
    }
    if (rename(tmp, file)) {
        rc = keel_error_errno(host->ctx, 0, "renaming %s", tmp);
        goto out;
    }
    renamed = true; /* tmp is gone: nothing to unlink */
    fd = open(host->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd))
        rc = keel_error_errno(host->ctx, 0, "syncing %s", host->dir);
out:
    if (fd >= 0)
        close(fd);
    if (rc && !renamed)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int
save_config(struct keel_host *host, const char *file,
            const struct keel_domain_config *cfg)
{
    char *text = NULL;
    int rc;

    if (!file)
        return KEEL_ENOMEM;
    rc = keel_domain_config_write(host->ctx, KEEL_CONFIG_JSON, cfg, 0, &text);
    if (rc == 0)
        rc = write_file(host, file, text);
    free(text);
    return rc;
}

int
keel__dom_save(struct keel_host *host, struct keel__dom *d)
{
    char *file = dom_file(host, d->domid, d->uuid);
    int rc = save_config(host, file, &d->cfg);

    free(file);
    return rc;
}

char *
keel__config_park(struct keel_host *host, const struct keel_domain_config *cfg)
{
    char u[37], *file;

    keel_uuid_format(cfg->uuid, u);
    file = keel__sprintf(host->ctx, "%s/restart-failed-%s.json", host->dir, u);
    if (file && save_config(host, file, cfg)) {
        free(file);
        file = NULL;
    }
    return file;
}

/* --- the state machine --- */

enum keel_domain_state
keel__state_of(const struct keel_hv_dominfo *info)
{
    if (info->flags & KEEL_DOMF_DYING)
        return KEEL_DOMAIN_DYING;
    if (info->flags & KEEL_DOMF_SHUTDOWN)
        return KEEL_DOMAIN_SHUTDOWN;
    if (info->flags & KEEL_DOMF_PAUSED)
        return KEEL_DOMAIN_PAUSED;
    return KEEL_DOMAIN_RUNNING;
}

static const struct keel__enum_name state_names[] = {
    {KEEL_DOMAIN_RUNNING, "running"},
    {KEEL_DOMAIN_PAUSED, "paused"},
    {KEEL_DOMAIN_SHUTDOWN, "shutdown"},
    {KEEL_DOMAIN_DYING, "dying"},
};

KEEL_EXPORT const char *
keel_domain_state_name(enum keel_domain_state state)
{
    return keel__enum_to_name(state_names, ARRAY_SIZE(state_names), state);
}

int
keel__dom_check(struct keel_host *host, uint32_t domid, const char *op,
                unsigned int states, bool dom0_ok, struct keel__dom **d_r,
                struct keel_hv_dominfo *info)
{
    struct keel_hv_dominfo local;
    struct keel__dom *d = keel__dom_find(host, domid);
    enum keel_domain_state st;
    int rc;

    if (!info)
        info = &local;
    if (d_r)
        *d_r = d;
    if (domid >= KEEL_DOMID_FIRST_RESERVED || (domid && !d))
        return keel_error(host->ctx, KEEL_ENODOMAIN, "no domain with id %u",
                          domid);
    if (domid == 0 && !dom0_ok)
        return keel_error(host->ctx, KEEL_EPERM,
                          "%s: Domain-0 is not managed by keel", op);
    if (d && d->busy && states != ~0u)
        return keel_error(host->ctx, KEEL_EBUSY,
                          "%s: domain %u (%s) is busy: a %s is in progress", op,
                          domid, d->cfg.name, d->busy);
    rc = keel_hv_domain_info(host->hv, domid, info);
    if (rc)
        return rc;
    st = keel__state_of(info);
    if (!(states & KEEL__ST(st)))
        return keel_error(host->ctx, KEEL_ESTATE, "%s: domain %u (%s) is %s",
                          op, domid, d ? d->cfg.name : "Domain-0",
                          keel_domain_state_name(st));
    return 0;
}

/* --- names, pools, store --- */

/* Removes a domain's store nodes: /local/domain/<domid> unless domid is
 * KEEL_DOMID_INVALID, and /vm/<uuid>. Absent nodes are no fault. */
void
keel__dom_remove_store(struct keel_host *host, uint32_t domid,
                       const uint8_t uuid[16])
{
    char path[64], u[37];
    bool had = keel__error_isset(host->ctx);

    if (domid != KEEL_DOMID_INVALID) {
        snprintf(path, sizeof(path), "/local/domain/%u", domid);
        (void)keel_hv_store_remove(host->hv, path);
    }
    if (uuid) {
        keel_uuid_format(uuid, u);
        snprintf(path, sizeof(path), "/vm/%s", u);
        (void)keel_hv_store_remove(host->hv, path);
    }
    keel__error_unrecord(host->ctx, had);
}

int
keel__name_check(struct keel_ctx *ctx, const char *what, const char *name)
{
    size_t i, len = name ? strlen(name) : 0;
    bool digits = true;

    if (len == 0)
        return keel_error(ctx, KEEL_EINVAL, "%s name is empty", what);
    if (len > KEEL_NAME_MAX)
        return keel_error(ctx, KEEL_EINVAL, "%s name is %zu bytes (at most %d)",
                          what, len, KEEL_NAME_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x21 || c > 0x7e || c == '/')
            return keel_error(ctx, KEEL_EINVAL,
                              "%s name '%s': byte %zu is not printable "
                              "ASCII other than space and '/'",
                              what, name, i + 1);
        if (c < '0' || c > '9')
            digits = false;
    }
    if (digits)
        return keel_error(ctx, KEEL_EINVAL,
                          "%s name '%s' is all digits (it would read as an "
                          "id)",
                          what, name);
    return 0;
}

void
keel__pool_name(struct keel_host *host, uint32_t poolid, char *buf)
{
    char path[64], *val = NULL;
    bool had = keel__error_isset(host->ctx);
    size_t len;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "/local/pool/%u/name", poolid);
    if (keel_hv_store_read(host->hv, path, &val, &len) == 0) {
        snprintf(buf, KEEL_NAME_MAX + 1, "%s", val);
    } else {
        keel__error_unrecord(host->ctx, had);
        if (poolid == 0)
            snprintf(buf, KEEL_NAME_MAX + 1, "Pool-0");
    }
    free(val);
}

int
keel__pool_by_name(struct keel_host *host, const char *name, uint32_t *poolid_r)
{
    struct keel_hv_poolinfo *pools = NULL, *grown;
    char buf[KEEL_NAME_MAX + 1];
    size_t n = 0, i, max = 32;
    int rc = 0;

    do { /* until the list fits */
        max *= 2;
        grown = realloc(pools, max * sizeof(*pools));
        if (!grown)
            rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
        else
            rc = keel_hv_cpupool_list(host->hv, pools = grown, max, &n);
    } while (rc == 0 && n == max);
    for (i = 0; rc == 0 && i < n; i++) {
        keel__pool_name(host, pools[i].poolid, buf);
        if (!strcmp(buf, name)) {
            *poolid_r = pools[i].poolid;
            break;
        }
    }
    if (rc == 0 && i == n)
        rc = keel_error(host->ctx, KEEL_ENOPOOL, "no CPU pool called '%s'",
                        name);
    free(pools);
    return rc;
}

int
keel__store_printf(struct keel_host *host, const char *path, const char *fmt,
                   ...)
{
    va_list ap;
    char *val;
    int rc, n;

    va_start(ap, fmt);
    n = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (n < 0)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    rc = keel_hv_store_write(host->hv, path, val, (size_t)n);
    free(val);
    return rc;
}

/* --- events --- */

void
keel__event_queue(struct keel_host *host, enum keel_domain_event_type type,
                  const struct keel__dom *d, uint32_t domid)
{
    struct keel_domain_event *ev;

    if (host->evq_len == KEEL_HOST_EVENT_QUEUE) { /* drop the oldest */
        host->evq_head = (host->evq_head + 1) % KEEL_HOST_EVENT_QUEUE;
        host->evq_len--;
    }
    ev = &host->evq[(host->evq_head + host->evq_len) % KEEL_HOST_EVENT_QUEUE];
    if (host->evq_len++ == 0 && host->evfd >= 0) {
        uint64_t one = 1;

        (void)!write(host->evfd, &one, sizeof(one)); /* wakes the poller */
    }
    memset(ev, 0, sizeof(*ev));
    ev->seq = ++host->seq;
    ev->type = type;
    ev->domid = domid;
    ev->new_domid = KEEL_DOMID_INVALID;
    if (d) {
        memcpy(ev->uuid, d->uuid, 16);
        snprintf(ev->name, sizeof(ev->name), "%s", d->cfg.name);
    }
}

struct keel_domain_event *
keel__event_last(struct keel_host *host)
{
    size_t i = (host->evq_head + host->evq_len - 1) % KEEL_HOST_EVENT_QUEUE;

    return host->evq_len ? &host->evq[i] : NULL;
}

/* A domain the backend says changed: act on a stop, notice a death. A
 * stop of a busy domain (being saved or migrated) waits: the transfer
 * fails on it, and its end calls this again. */
int
keel__dom_changed(struct keel_host *host, struct keel__dom *d)
{
    struct keel_hv_dominfo info;
    bool had = keel__error_isset(host->ctx);
    uint8_t uuid[16];
    uint32_t domid;
    int rc = keel_hv_domain_info(host->hv, d->domid, &info);

    if (rc == KEEL_ENODOMAIN || (rc == 0 && (info.flags & KEEL_DOMF_DYING))) {
        keel__error_unrecord(host->ctx, had);
        keel_info(host->ctx, "domain %u (%s) died", d->domid, d->cfg.name);
        keel__event_queue(host, KEEL_DOMAIN_EVENT_DESTROYED, d, d->domid);
        keel__dom_remove_store(host, d->domid, d->uuid);
        keel__dom_forget(host, d);
        return 0;
    }
    if (rc)
        return rc;
    if (!(info.flags & KEEL_DOMF_SHUTDOWN)) {
        d->stopped = -1; /* running again (resumed) */
        return 0;
    }
    if (d->stopped == (int)info.shutdown_reason)
        return 0; /* handled already (preserved) */
    if (d->busy)
        return 0; /* after the transfer */
    domid = d->domid;
    memcpy(uuid, d->uuid, 16);
    rc = keel__dom_stopped(host, d, &info); /* d may be gone now */
    if (rc) {
        host->failed_domid = domid;
        memcpy(host->failed_uuid, uuid, 16);
        host->failed_rc = rc;
    }
    return rc;
}

/* Xen's VIRQ_DOM_EXC does not say which domain: look at every one. */
static int
scan_all(struct keel_host *host)
{
    uint32_t domid;
    int rc = 0;

    for (domid = 1; domid < KEEL_DOMID_FIRST_RESERVED; domid++)
        if (host->doms[domid]) {
            int rc2 = keel__dom_changed(host, host->doms[domid]);

            rc = rc ? rc : rc2;
        }
    return rc;
}

int
keel__host_pump(struct keel_host *host)
{
    struct keel_hv_event evs[64];
    size_t n, i;
    int rc = 0, rc2;

    do {
        rc2 = keel_hv_event_read(host->hv, evs, ARRAY_SIZE(evs), &n);
        if (rc2)
            return rc ? rc : rc2;
        for (i = 0; i < n; i++) {
            struct keel__dom *d;

            if (evs[i].kind != KEEL_HV_EVENT_DOMAIN)
                continue;
            if (evs[i].domid == KEEL_DOMID_INVALID)
                rc2 = scan_all(host);
            else if ((d = keel__dom_find(host, evs[i].domid)))
                rc2 = keel__dom_changed(host, d);
            else
                rc2 = 0;
            rc = rc ? rc : rc2;
        }
        keel_hv_events_dispose(evs, n);
    } while (n == ARRAY_SIZE(evs));
    return rc;
}

static size_t
take_events(struct keel_host *host, struct keel_domain_event *evs, size_t max)
{
    size_t n = 0;

    while (n < max && host->evq_len) {
        evs[n++] = host->evq[host->evq_head];
        host->evq_head = (host->evq_head + 1) % KEEL_HOST_EVENT_QUEUE;
        host->evq_len--;
    }
    if (host->evq_len == 0 && host->evfd >= 0) {
        uint64_t count;

        (void)!read(host->evfd, &count, sizeof(count)); /* empty: quiet */
    }
    return n;
}

KEEL_EXPORT int
keel_host_event_fd(struct keel_host *host)
{
    return host->epfd;
}

KEEL_EXPORT int
keel_host_events(struct keel_host *host, struct keel_domain_event *evs,
                 size_t max, size_t *n_r)
{
    int rc;

    if (!host || !n_r || (max && !evs))
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__host_pump(host);
    *n_r = take_events(host, evs, max);
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_host_wait(struct keel_host *host, int timeout_ms,
               struct keel_domain_event *evs, size_t max, size_t *n_r)
{
    uint64_t end =
        keel__mono_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
    int rc;

    if (!host || !n_r || !max || !evs)
        return KEEL_EINVAL;
    keel__host_begin(host);
    for (;;) {
        uint64_t now;

        rc = keel__host_pump(host);
        if (rc || host->evq_len)
            break;
        now = keel__mono_ms();
        if (timeout_ms >= 0 && now >= end)
            break;
        if (!keel__host_sleep(host, timeout_ms < 0 ? 1000 : (int)(end - now)))
            break;
    }
    *n_r = take_events(host, evs, max);
    return keel__host_end(host, rc);
}
