/* procs-domain.c: libvirt's domain procedures over libkeel and state.c
 *
 * libvirt's domains are keel's: a running domain is one libkeel knows
 * (transient unless it is defined), an inactive one is a definition of
 * state.c that does not run. A domain is named on the wire by name, uuid
 * and id; as libvirtd does, keeld finds it by its uuid alone, so a
 * client's stale id (after a reboot made a new domain) does not matter.
 * Dying domains count as gone.
 *
 * States (virDomainState): running, paused, shut off (a guest that
 * stopped and stays, or a definition that does not run), crashed,
 * and "being shut down" for a domain Xen is tearing down.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

#include "lv.h"

/* A domain as the procedures see it. */
struct lv_dom {
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    bool active;
    uint32_t domid;               /* active only */
    struct keel_domain_info info; /* active only */
    bool defined;
    bool autostart;
};

static bool
usable(const struct keel_domain_info *info)
{
    return info->state != KEEL_DOMAIN_DYING;
}

static bool
is_null(const uint8_t uuid[16])
{
    static const uint8_t zero[16];

    return !memcmp(uuid, zero, 16);
}

/* Fills d from a running domain's info, and its definition if any. */
static void
from_info(struct lv_call *lc, const struct keel_domain_info *info,
          struct lv_dom *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", info->name);
    memcpy(d->uuid, info->uuid, 16);
    d->active = true;
    d->domid = info->domid;
    d->info = *info;
    d->defined = kd_state_is_defined(lc->call->kd, info->uuid, &d->autostart);
}

/* The domain with this uuid: running, else defined. 0 or NO_DOMAIN.
 * uuid may point into *d. id_hint, the id a client sent (-1: none), is
 * tried first, and taken only when the uuid matches: one libkeel call
 * instead of a search. */
static int
find_dom(struct lv_call *lc, const uint8_t *uuid_in, int32_t id_hint,
         struct lv_dom *d)
{
    struct keeld *kd = lc->call->kd;
    struct keel_domain_info info;
    uint8_t uuid[16];
    uint32_t domid;
    char u[37];

    memcpy(uuid, uuid_in, 16);
    if (id_hint >= 0 && (uint32_t)id_hint < KEEL_DOMID_INVALID &&
        keel_domain_info(kd->host, (uint32_t)id_hint, &info) == 0 &&
        !memcmp(info.uuid, uuid, 16) && usable(&info)) {
        from_info(lc, &info, d);
        return 0;
    }
    keel_uuid_format(uuid, u);
    /* Domain-0's uuid is all zero, which names nothing to a lookup */
    if (keel_domain_lookup(kd->host, is_null(uuid) ? "0" : u, &domid) == 0 &&
        keel_domain_info(kd->host, domid, &info) == 0 && usable(&info)) {
        from_info(lc, &info, d);
        return 0;
    }
    keel_ctx_clear_error(kd->ctx);
    memset(d, 0, sizeof(*d));
    if (kd_state_lookup(kd, NULL, uuid, d->uuid, d->name, &d->autostart)) {
        d->defined = true;
        d->domid = KEEL_DOMID_INVALID;
        return 0;
    }
    return lv_fail(lc, VIR_ERR_NO_DOMAIN,
                   "Domain not found: no domain with matching uuid '%s'", u);
}

static int
find_uuid(struct lv_call *lc, const uint8_t *uuid, struct lv_dom *d)
{
    return find_dom(lc, uuid, -1, d);
}

/* The domain the call's remote_nonnull_domain names. */
static int
arg_dom(struct lv_call *lc, struct lv_dom *d)
{
    return find_dom(lc, lc->args.dom.uuid, lc->args.dom.id, d);
}

static int
need_active(struct lv_call *lc, const struct lv_dom *d)
{
    if (!d->active)
        return lv_fail(lc, VIR_ERR_OPERATION_INVALID,
                       "Requested operation is not valid: domain '%s' is not "
                       "running",
                       d->name);
    return 0;
}

/* Refuses flags outside allowed, as libvirt's virCheckFlags does. */
static int
check_flags(struct lv_call *lc, int64_t flags, int64_t allowed)
{
    if (flags & ~allowed)
        return lv_fail(lc, VIR_ERR_INVALID_ARG,
                       "unsupported flags (0x%llx) in %s",
                       (unsigned long long)(flags & ~allowed), lc->proc->name);
    return 0;
}

static void
put_dom(struct lv_call *lc, const struct lv_dom *d)
{
    lv_put_domain(&lc->out, d->name, d->uuid,
                  d->active ? (int32_t)d->domid : -1);
}

/* virDomainState and its reason. */
static void
dom_state(const struct lv_dom *d, int32_t *state_r, int32_t *reason_r)
{
    const struct keel_domain_info *i = &d->info;

    *reason_r = 0;
    if (!d->active) {
        *state_r = VIR_DOMAIN_SHUTOFF;
    } else if (i->state == KEEL_DOMAIN_PAUSED) {
        *state_r = VIR_DOMAIN_PAUSED;
        *reason_r = VIR_DOMAIN_PAUSED_USER;
    } else if (i->state == KEEL_DOMAIN_SHUTDOWN) {
        *state_r = i->reason == KEEL_SHUTDOWN_CRASH ? VIR_DOMAIN_CRASHED
                                                    : VIR_DOMAIN_SHUTOFF;
        if (*state_r == VIR_DOMAIN_SHUTOFF)
            *reason_r = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
    } else if (i->state == KEEL_DOMAIN_DYING) {
        *state_r = VIR_DOMAIN_SHUTDOWN;
    } else {
        *state_r = VIR_DOMAIN_RUNNING;
        *reason_r = VIR_DOMAIN_RUNNING_BOOTED;
    }
}

/* The config to show for d: the running domain's, or with inactive (or
 * when it does not run) its definition's. */
static int
dom_config(struct lv_call *lc, const struct lv_dom *d, bool inactive,
           struct keel_domain_config *cfg)
{
    int rc;

    if (d->active && (!inactive || !d->defined)) {
        rc = keel_domain_config_get(lc->call->kd->host, d->domid, cfg);
        return rc ? kd_fail_keel(lc->call, rc) : 0;
    }
    return kd_state_config(lc->call, d->uuid, d->name, cfg);
}

/* --- listing and lookups --- */

/* Whether d passes the filters of virConnectListAllDomains' flags: each
 * group filters only when one of its bits is given. */
static bool
list_wants(const struct lv_dom *d, int64_t f)
{
    int32_t state, reason;
    bool running, paused, shutoff;

    dom_state(d, &state, &reason);
    running = state == VIR_DOMAIN_RUNNING;
    paused = state == VIR_DOMAIN_PAUSED;
    shutoff = state == VIR_DOMAIN_SHUTOFF;
    if ((f & 3) && !((f & 1 && d->active) || (f & 2 && !d->active)))
        return false;
    if ((f & 12) && !((f & 4 && d->defined) || (f & 8 && !d->defined)))
        return false;
    if ((f & 240) &&
        !((f & 16 && running) || (f & 32 && paused) || (f & 64 && shutoff) ||
          (f & 128 && !running && !paused && !shutoff)))
        return false;
    if ((f & 3072) && !(f & 2048)) /* HAS_SNAPSHOT: keel has none */
        return false;
    if ((f & 768) && !(f & 512)) /* MANAGEDSAVE: none either */
        return false;
    if ((f & 12288) &&
        !((f & 4096 && d->autostart) || (f & 8192 && !d->autostart)))
        return false;
    return true;
}

/* Whether a domain with this uuid runs (and is not dying) in infos. */
static bool
runs(const struct keel_domain_info *infos, size_t n, const uint8_t uuid[16])
{
    size_t i;

    for (i = 0; i < n; i++)
        if (usable(&infos[i]) && !memcmp(infos[i].uuid, uuid, 16))
            return true;
    return false;
}

/* Running domains, then definitions that do not run, into w; *n_r. */
static int
list_domains(struct lv_call *lc, int64_t flags, struct lv_writer *w,
             uint32_t *n_r)
{
    struct keeld *kd = lc->call->kd;
    struct keel_domain_info *infos = NULL;
    struct kd_defined *defs = NULL;
    size_t n = 0, nd = 0, i;
    struct lv_dom d;
    int rc;

    if ((rc = keel_domain_list(kd->host, &infos, &n)))
        return kd_fail_keel(lc->call, rc);
    if (kd_state_snapshot(kd, &defs, &nd)) {
        free(infos);
        return lv_fail(lc, VIR_ERR_NO_MEMORY, "out of memory");
    }
    for (i = 0; i < n; i++) {
        if (!usable(&infos[i]))
            continue;
        from_info(lc, &infos[i], &d);
        if (list_wants(&d, flags) && ++*n_r)
            lv_put_domain(w, d.name, d.uuid, (int32_t)d.domid);
    }
    for (i = 0; i < nd; i++) {
        if (runs(infos, n, defs[i].uuid))
            continue; /* listed above */
        memset(&d, 0, sizeof(d));
        memcpy(d.name, defs[i].name, sizeof(d.name));
        memcpy(d.uuid, defs[i].uuid, 16);
        d.defined = true;
        d.autostart = defs[i].autostart;
        if (list_wants(&d, flags) && ++*n_r)
            lv_put_domain(w, d.name, d.uuid, -1);
    }
    free(infos);
    free(defs);
    return 0;
}

/* args: need_results, flags. ret: domains<>, count. */
int
lv_list_all_domains(struct lv_call *lc)
{
    struct lv_writer doms;
    uint32_t n = 0;
    int rc;

    lv_writer_init(&doms);
    rc = check_flags(lc, lc->args.num[1], 0x3fff);
    if (rc == 0)
        rc = list_domains(lc, lc->args.num[1], &doms, &n);
    if (rc == 0 && n > LV_DOMAIN_LIST_MAX)
        rc = lv_fail(lc, VIR_ERR_INTERNAL_ERROR, "more than %u domains",
                     LV_DOMAIN_LIST_MAX);
    if (rc == 0) {
        bool want = lc->args.num[0] != 0;

        lv_put_u32(&lc->out, want ? n : 0);
        if (want)
            lv_put_fixed(&lc->out, doms.p, doms.len);
        lv_put_u32(&lc->out, n);
    }
    lv_writer_dispose(&doms);
    return rc;
}

int
lv_lookup_by_id(struct lv_call *lc)
{
    struct keel_domain_info info;
    struct lv_dom d;
    int64_t id = lc->args.num[0];

    if (id < 0 || id >= KEEL_DOMID_INVALID ||
        keel_domain_info(lc->call->kd->host, (uint32_t)id, &info) ||
        !usable(&info)) {
        keel_ctx_clear_error(lc->call->kd->ctx);
        return lv_fail(lc, VIR_ERR_NO_DOMAIN,
                       "Domain not found: no domain with matching id %lld",
                       (long long)id);
    }
    from_info(lc, &info, &d);
    put_dom(lc, &d);
    return 0;
}

int
lv_lookup_by_name(struct lv_call *lc)
{
    struct keeld *kd = lc->call->kd;
    const char *name = lc->args.str[0];
    struct keel_domain_info info;
    struct lv_dom d;
    uint32_t domid;

    /* keel_domain_lookup takes ids and uuids too: a name must match */
    if (keel_domain_lookup(kd->host, name, &domid) == 0 &&
        keel_domain_info(kd->host, domid, &info) == 0 &&
        !strcmp(info.name, name) && usable(&info)) {
        from_info(lc, &info, &d);
        put_dom(lc, &d);
        return 0;
    }
    keel_ctx_clear_error(kd->ctx);
    memset(&d, 0, sizeof(d));
    if (!kd_state_lookup(kd, name, NULL, d.uuid, d.name, NULL) ||
        strcmp(d.name, name))
        return lv_fail(lc, VIR_ERR_NO_DOMAIN,
                       "Domain not found: no domain with matching name '%s'",
                       name);
    if (find_uuid(lc, d.uuid, &d))
        return -1;
    put_dom(lc, &d);
    return 0;
}

int
lv_lookup_by_uuid(struct lv_call *lc)
{
    struct lv_dom d;

    if (find_uuid(lc, lc->args.uuid, &d))
        return -1;
    put_dom(lc, &d);
    return 0;
}

/* --- information --- */

/* ret: state (uchar), maxMem, memory (KiB), nrVirtCpu (ushort), cpuTime. */
int
lv_get_info(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    struct lv_dom d;
    int32_t state, reason;
    int rc;

    if (arg_dom(lc, &d))
        return -1;
    dom_state(&d, &state, &reason);
    lv_put_i32(&lc->out, state);
    if (d.active) {
        lv_put_u64(&lc->out, d.info.max_kb);
        lv_put_u64(&lc->out, d.info.mem_kb);
        lv_put_u32(&lc->out, d.info.online_vcpus);
        lv_put_u64(&lc->out, d.info.cpu_time_ns);
        return 0;
    }
    keel_domain_config_init(&cfg);
    rc = kd_state_config(lc->call, d.uuid, d.name, &cfg);
    if (rc == 0) {
        int64_t mem = cfg.memory_kb > 0 ? cfg.memory_kb : 32768;
        int64_t max = cfg.maxmem_kb > mem ? cfg.maxmem_kb : mem;

        lv_put_u64(&lc->out, (uint64_t)max);
        lv_put_u64(&lc->out, (uint64_t)mem);
        lv_put_u32(&lc->out, cfg.vcpus > 0 ? (uint32_t)cfg.vcpus : 1);
        lv_put_u64(&lc->out, 0);
    }
    keel_domain_config_dispose(&cfg);
    return rc;
}

int
lv_get_state(struct lv_call *lc)
{
    struct lv_dom d;
    int32_t state, reason;

    if (check_flags(lc, lc->args.num[0], 0) || arg_dom(lc, &d))
        return -1;
    dom_state(&d, &state, &reason);
    lv_put_i32(&lc->out, state);
    lv_put_i32(&lc->out, reason);
    return 0;
}

/* libvirt's Xen OS types: "xen" (PV), "xenpvh", "hvm". */
static const char *
os_type(enum keel_domain_type type)
{
    return type == KEEL_DOMAIN_HVM   ? "hvm"
           : type == KEEL_DOMAIN_PVH ? "xenpvh"
                                     : "xen";
}

int
lv_get_os_type(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    struct lv_dom d;
    int rc;

    if (arg_dom(lc, &d))
        return -1;
    if (d.active) {
        lv_put_string(&lc->out, os_type(d.info.type));
        return 0;
    }
    keel_domain_config_init(&cfg);
    rc = kd_state_config(lc->call, d.uuid, d.name, &cfg);
    if (rc == 0)
        lv_put_string(&lc->out, os_type(cfg.type ? cfg.type : KEEL_DOMAIN_PV));
    keel_domain_config_dispose(&cfg);
    return rc;
}

int
lv_set_autostart(struct lv_call *lc)
{
    struct lv_dom d;

    if (arg_dom(lc, &d))
        return -1;
    if (!d.defined)
        return lv_fail(lc, VIR_ERR_OPERATION_INVALID,
                       "Requested operation is not valid: cannot set "
                       "autostart for transient domain");
    return kd_state_set_autostart(lc->call, d.uuid, d.name,
                                  lc->args.num[0] != 0);
}

int
lv_get_max_memory(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    struct lv_dom d;
    int rc;

    if (arg_dom(lc, &d))
        return -1;
    keel_domain_config_init(&cfg);
    rc = d.active ? 0 : kd_state_config(lc->call, d.uuid, d.name, &cfg);
    if (rc == 0)
        lv_put_u64(&lc->out, d.active ? d.info.max_kb
                             : cfg.maxmem_kb > cfg.memory_kb
                                 ? (uint64_t)cfg.maxmem_kb
                             : cfg.memory_kb > 0 ? (uint64_t)cfg.memory_kb
                                                 : 32768);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* What a flag procedure answers about a domain. */
enum dom_flag { DOM_ACTIVE, DOM_PERSISTENT, DOM_AUTOSTART, DOM_NONE };

static int
put_flag(struct lv_call *lc, enum dom_flag f)
{
    struct lv_dom d;

    if (arg_dom(lc, &d))
        return -1;
    lv_put_i32(&lc->out, f == DOM_ACTIVE       ? d.active
                         : f == DOM_PERSISTENT ? d.defined
                         : f == DOM_AUTOSTART  ? d.autostart
                                               : 0);
    return 0;
}

int
lv_is_active(struct lv_call *lc)
{
    return put_flag(lc, DOM_ACTIVE);
}

int
lv_is_persistent(struct lv_call *lc)
{
    return put_flag(lc, DOM_PERSISTENT);
}

int
lv_get_autostart(struct lv_call *lc)
{
    return put_flag(lc, DOM_AUTOSTART);
}

/* keel has no managed save, snapshots or domain messages: 0, 0, none,
 * for a domain that exists. */
int
lv_has_managed_save(struct lv_call *lc)
{
    return put_flag(lc, DOM_NONE);
}

int
lv_snapshot_num(struct lv_call *lc)
{
    return lv_has_managed_save(lc);
}

int
lv_get_messages(struct lv_call *lc)
{
    return lv_has_managed_save(lc); /* an empty list is a 0 count too */
}

/* --- XML --- */

static int
read_xml(struct lv_call *lc, const char *xml, struct keel_domain_config *cfg)
{
    int rc =
        keel_domain_config_read(lc->call->kd->ctx, KEEL_CONFIG_XML,
                                "domain XML", xml, strlen(xml), NULL, 0, cfg);

    return rc ? kd_fail_keel(lc->call, rc) : 0;
}

/* DEFINE_XML and DEFINE_XML_FLAGS (VALIDATE: keel's reader validates
 * every document). */
int
lv_define_xml(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    struct lv_dom d;
    int rc;

    keel_domain_config_init(&cfg);
    rc = check_flags(lc, lc->args.num[0], VIR_DOMAIN_DEFINE_VALIDATE);
    if (rc == 0)
        rc = read_xml(lc, lc->args.str[0], &cfg);
    if (rc == 0)
        rc = kd_state_define(lc->call, &cfg, d.name, d.uuid);
    keel_domain_config_dispose(&cfg);
    if (rc == 0)
        rc = find_uuid(lc, d.uuid, &d);
    if (rc == 0)
        put_dom(lc, &d);
    return rc;
}

int
lv_get_xml_desc(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    int64_t flags = lc->args.num[0];
    char *xml = NULL;
    struct lv_dom d;
    int rc;

    if (check_flags(lc, flags,
                    VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE |
                        VIR_DOMAIN_XML_UPDATE_CPU |
                        VIR_DOMAIN_XML_MIGRATABLE) ||
        arg_dom(lc, &d))
        return -1;
    keel_domain_config_init(&cfg);
    rc = dom_config(lc, &d, flags & VIR_DOMAIN_XML_INACTIVE, &cfg);
    if (rc == 0) {
        rc = keel_domain_config_write(lc->call->kd->ctx, KEEL_CONFIG_XML, &cfg,
                                      0, &xml);
        if (rc)
            rc = kd_fail_keel(lc->call, rc);
    }
    if (rc == 0)
        lv_put_string(&lc->out, xml);
    free(xml);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* --- lifecycle --- */

/* Starts a defined domain; *d then names it with its new id. */
static int
start_defined(struct lv_call *lc, struct lv_dom *d, bool paused)
{
    uint32_t domid;

    if (d->active)
        return lv_fail(lc, VIR_ERR_OPERATION_INVALID,
                       "Requested operation is not valid: domain is already "
                       "running");
    if (kd_state_start(lc->call, d->uuid, d->name, paused, &domid))
        return -1;
    return find_uuid(lc, d->uuid, d);
}

int
lv_create(struct lv_call *lc)
{
    struct lv_dom d;

    if (arg_dom(lc, &d))
        return -1;
    return start_defined(lc, &d, false);
}

/* flags: START_PAUSED; FORCE_BOOT, BYPASS_CACHE and VALIDATE change
 * nothing for keel (no managed save, no cache, the XML was checked when
 * defined); AUTODESTROY is refused. */
int
lv_create_with_flags(struct lv_call *lc)
{
    int64_t flags = lc->args.num[0];
    struct lv_dom d;

    if (check_flags(lc, flags,
                    VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_BYPASS_CACHE |
                        VIR_DOMAIN_START_FORCE_BOOT |
                        VIR_DOMAIN_START_VALIDATE) ||
        arg_dom(lc, &d) ||
        start_defined(lc, &d, flags & VIR_DOMAIN_START_PAUSED))
        return -1;
    put_dom(lc, &d);
    return 0;
}

/* A transient domain from XML. */
int
lv_create_xml(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    int64_t flags = lc->args.num[0];
    struct keel_domain_info info;
    struct lv_dom d;
    uint32_t domid;
    int rc;

    keel_domain_config_init(&cfg);
    rc = check_flags(lc, flags,
                     VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_VALIDATE);
    if (rc == 0)
        rc = read_xml(lc, lc->args.str[0], &cfg);
    if (rc == 0) {
        rc = keel_domain_create(
            lc->call->kd->host, &cfg,
            flags & VIR_DOMAIN_START_PAUSED ? KEEL_DOMAIN_CREATE_PAUSED : 0,
            &domid);
        if (rc == 0)
            rc = keel_domain_info(lc->call->kd->host, domid, &info);
        if (rc)
            rc = kd_fail_keel(lc->call, rc);
    }
    keel_domain_config_dispose(&cfg);
    if (rc)
        return rc;
    from_info(lc, &info, &d);
    put_dom(lc, &d);
    return 0;
}

/* A procedure on a running domain: op(host, domid). */
static int
active_op(struct lv_call *lc, int64_t allowed,
          int (*op)(struct keel_host *, uint32_t))
{
    struct lv_dom d;
    int rc;

    if (check_flags(lc, lc->args.num[0], allowed) || arg_dom(lc, &d) ||
        need_active(lc, &d))
        return -1;
    rc = op(lc->call->kd->host, d.domid);
    return rc ? kd_fail_keel(lc->call, rc) : 0;
}

int
lv_destroy(struct lv_call *lc)
{
    return active_op(lc, VIR_DOMAIN_DESTROY_GRACEFUL, keel_domain_destroy);
}

int
lv_suspend(struct lv_call *lc)
{
    return active_op(lc, 0, keel_domain_pause);
}

int
lv_resume(struct lv_call *lc)
{
    return active_op(lc, 0, keel_domain_unpause);
}

static int
shutdown_now(struct keel_host *host, uint32_t domid)
{
    return keel_domain_shutdown(host, domid, 0, 0);
}

static int
reboot_now(struct keel_host *host, uint32_t domid)
{
    return keel_domain_reboot(host, domid, 0, 0);
}

/* SHUTDOWN and SHUTDOWN_FLAGS: a request to the guest, answered before
 * the guest acts (as libvirt's); the modes all come to Xen's
 * paravirtual request. */
int
lv_shutdown(struct lv_call *lc)
{
    return active_op(lc, 0x1f, shutdown_now);
}

int
lv_reboot(struct lv_call *lc)
{
    return active_op(lc, 0x1f, reboot_now);
}

/* UNDEFINE and UNDEFINE_FLAGS: keel keeps no managed save, snapshot,
 * checkpoint, NVRAM or TPM state, so those flags change nothing. */
int
lv_undefine(struct lv_call *lc)
{
    struct lv_dom d;

    if (check_flags(lc, lc->args.num[0], 0x7f) || arg_dom(lc, &d))
        return -1;
    if (!d.defined)
        return lv_fail(lc, VIR_ERR_OPERATION_INVALID,
                       "Requested operation is not valid: cannot undefine "
                       "transient domain");
    return kd_state_undefine(lc->call, d.uuid, d.name);
}

/* The definition with its memory (or maximum) changed. */
static int
set_config_memory(struct lv_call *lc, const struct lv_dom *d, uint64_t kb,
                  bool maximum)
{
    struct keel_domain_config cfg;
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    int rc;

    if (!d->defined)
        return lv_fail(lc, VIR_ERR_OPERATION_INVALID,
                       "Requested operation is not valid: cannot change the "
                       "persistent config of a transient domain");
    keel_domain_config_init(&cfg);
    rc = kd_state_config(lc->call, d->uuid, d->name, &cfg);
    if (rc == 0) {
        if (maximum)
            cfg.maxmem_kb = (int64_t)kb;
        else
            cfg.memory_kb = (int64_t)kb;
        rc = kd_state_define(lc->call, &cfg, name, uuid);
    }
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* SET_MEMORY (live) and SET_MEMORY_FLAGS: LIVE, CONFIG, or CURRENT (the
 * one that fits the domain's state), and MAXIMUM. */
int
lv_set_memory(struct lv_call *lc)
{
    int64_t flags = lc->proc->nr == LV_DOMAIN_SET_MEMORY ? VIR_DOMAIN_MEM_LIVE
                                                         : lc->args.num[1];
    uint64_t kb = (uint64_t)lc->args.num[0];
    bool maximum = flags & VIR_DOMAIN_MEM_MAXIMUM;
    struct lv_dom d;
    int rc = 0;

    if (check_flags(lc, flags, 7) || arg_dom(lc, &d))
        return -1;
    if (!(flags & 3))
        flags |= d.active ? VIR_DOMAIN_MEM_LIVE : VIR_DOMAIN_MEM_CONFIG;
    if ((flags & VIR_DOMAIN_MEM_LIVE) && need_active(lc, &d))
        return -1;
    if (flags & VIR_DOMAIN_MEM_LIVE) {
        rc = (maximum ? keel_domain_mem_max
                      : keel_domain_mem_set)(lc->call->kd->host, d.domid, kb);
        if (rc)
            return kd_fail_keel(lc->call, rc);
    }
    if (flags & VIR_DOMAIN_MEM_CONFIG)
        rc = set_config_memory(lc, &d, kb, maximum);
    return rc;
}

/* --- vCPUs --- */

/* n maps of maplen bytes as opaque<>: map i is vCPU i's hard affinity,
 * or every one of the host's nr_cpus CPUs when v is NULL. */
static int
put_maps(struct lv_call *lc, const struct keel_hv_vcpuinfo *v, size_t n,
         size_t maplen, unsigned int nr_cpus)
{
    uint8_t *maps = calloc(n ? n : 1, maplen ? maplen : 1);
    size_t i, cpu;

    if (!maps)
        return lv_fail(lc, VIR_ERR_NO_MEMORY, "out of memory");
    for (i = 0; i < n; i++)
        for (cpu = 0; cpu < maplen * 8 && cpu < nr_cpus; cpu++)
            if (!v || keel_cpumap_test(&v[i].hard, (unsigned)cpu))
                maps[i * maplen + cpu / 8] |= (uint8_t)(1u << (cpu % 8));
    lv_put_opaque(&lc->out, maps, n * maplen);
    free(maps);
    return 0;
}

/* args: maxinfo, maplen. ret: vcpu_info<maxinfo>, cpumaps (maxinfo
 * maps of maplen bytes, hard affinity). */
int
lv_get_vcpus(struct lv_call *lc)
{
    struct keel_hv_vcpuinfo *v = NULL;
    int64_t maxinfo = lc->args.num[0], maplen = lc->args.num[1];
    struct lv_dom d;
    size_t n = 0, i;
    int rc;

    if (maxinfo < 0 || maplen < 0 || maxinfo > LV_VCPUINFO_MAX ||
        maxinfo * maplen > LV_CPUMAPS_MAX)
        return lv_fail(lc, VIR_ERR_INVALID_ARG, "maxinfo or maplen too large");
    if (arg_dom(lc, &d) || need_active(lc, &d))
        return -1;
    if ((rc = keel_domain_vcpu_list(lc->call->kd->host, d.domid, &v, &n)))
        return kd_fail_keel(lc->call, rc);
    if (n > (size_t)maxinfo)
        n = (size_t)maxinfo;
    lv_put_u32(&lc->out, (uint32_t)n);
    for (i = 0; i < n; i++) {
        lv_put_u32(&lc->out, v[i].vcpu);
        lv_put_i32(&lc->out,
                   !(v[i].flags & KEEL_VCPUF_ONLINE) ? VIR_VCPU_OFFLINE
                   : v[i].flags & KEEL_VCPUF_BLOCKED ? VIR_VCPU_BLOCKED
                                                     : VIR_VCPU_RUNNING);
        lv_put_u64(&lc->out, v[i].cpu_time_ns);
        lv_put_i32(&lc->out, (int32_t)v[i].cpu);
    }
    rc = put_maps(lc, v, n, (size_t)maplen, KEEL_MAX_CPUS);
    free(v);
    return rc;
}

/* flags: LIVE, CONFIG (CURRENT: the domain's state), MAXIMUM. */
int
lv_get_vcpus_flags(struct lv_call *lc)
{
    struct keel_domain_config cfg;
    int64_t flags = lc->args.num[0];
    bool max = flags & VIR_DOMAIN_VCPU_MAXIMUM;
    struct lv_dom d;
    int64_t n;
    int rc;

    if (check_flags(lc, flags, 7) || arg_dom(lc, &d))
        return -1;
    if ((flags & VIR_DOMAIN_VCPU_LIVE) && need_active(lc, &d))
        return -1;
    if (d.active && !(flags & VIR_DOMAIN_VCPU_CONFIG)) {
        lv_put_i32(&lc->out,
                   (int32_t)(max ? d.info.max_vcpus : d.info.online_vcpus));
        return 0;
    }
    keel_domain_config_init(&cfg);
    rc = dom_config(lc, &d, true, &cfg);
    n = max && cfg.maxvcpus > 0 ? cfg.maxvcpus : cfg.vcpus > 0 ? cfg.vcpus : 1;
    if (rc == 0)
        lv_put_i32(&lc->out, (int32_t)n);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* args: ncpumaps, maplen, flags. A running domain's hard affinities; a
 * domain that does not run may use every CPU (keel applies a
 * definition's pinning when it starts). */
int
lv_get_vcpu_pin_info(struct lv_call *lc)
{
    struct keel_hv_vcpuinfo *v = NULL;
    int64_t ncpumaps = lc->args.num[0], maplen = lc->args.num[1];
    struct keel_hv_physinfo pi;
    struct keel_domain_config cfg;
    struct lv_dom d;
    size_t n = 0;
    int rc = 0;

    if (ncpumaps < 0 || maplen < 0 || ncpumaps * maplen > LV_CPUMAPS_MAX)
        return lv_fail(lc, VIR_ERR_INVALID_ARG, "ncpumaps or maplen too large");
    if (check_flags(lc, lc->args.num[2], 3) || arg_dom(lc, &d))
        return -1;
    keel_domain_config_init(&cfg);
    if (d.active)
        rc = keel_domain_vcpu_list(lc->call->kd->host, d.domid, &v, &n);
    else if ((rc = kd_state_config(lc->call, d.uuid, d.name, &cfg)) == 0)
        n = cfg.vcpus > 0 ? (size_t)cfg.vcpus : 1;
    if (rc == 0)
        rc = keel_hv_physinfo(lc->call->kd->hv, &pi);
    keel_domain_config_dispose(&cfg);
    if (rc) {
        free(v);
        return lc->call->code ? rc : kd_fail_keel(lc->call, rc);
    }
    if (n > (size_t)ncpumaps)
        n = (size_t)ncpumaps;
    rc = put_maps(lc, v, n, (size_t)maplen, pi.nr_cpus);
    if (rc == 0)
        lv_put_i32(&lc->out, (int32_t)n);
    free(v);
    return rc;
}
