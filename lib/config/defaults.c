/* defaults.c: filling an unset field with what libxl would choose, and
 * the checks only a whole configuration allows
 *
 * Readers never fill defaults, so a config written back out says what the
 * user wrote; domain creation calls keel_domain_config_set_defaults() on
 * its own copy. The defaults follow libxl's *_setdefault functions and
 * xl.cfg(5), except the vif MAC: xl draws a random one, keel derives it
 * from the domain's uuid and the devid, so a restarted domain keeps its
 * addresses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#define DEFAULT_MEMORY_KB (32 * 1024)
#define DEFAULT_WEIGHT 256
#define DEFAULT_MAX_GRANT_FRAMES 64
#define DEFAULT_MAX_EVENT_CHANNELS 1023

static void
set_i64(int64_t *v, int64_t dflt)
{
    if (*v == KEEL_UNSET)
        *v = dflt;
}

static void
set_int(int *v, int unset, int dflt)
{
    if (*v == unset)
        *v = dflt;
}

static int
set_str(struct keel_ctx *ctx, char **s, const char *dflt)
{
    if (*s)
        return 0;
    *s = keel__strdup(ctx, dflt);
    return *s ? 0 : KEEL_ENOMEM;
}

/* 00:16:3e (Xen's OUI) and three bytes of FNV-1a over uuid and devid. */
static void
derive_mac(const uint8_t uuid[16], int64_t devid, uint8_t mac[6])
{
    uint32_t h = 2166136261u;
    unsigned int i;

    for (i = 0; i < 16; i++)
        h = (h ^ uuid[i]) * 16777619u;
    for (i = 0; i < 8; i++)
        h = (h ^ (uint8_t)((uint64_t)devid >> (8 * i))) * 16777619u;
    mac[0] = 0x00;
    mac[1] = 0x16;
    mac[2] = 0x3e;
    mac[3] = (uint8_t)(h >> 16) & 0x7f;
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

static int
domain_defaults(struct keel_ctx *ctx, struct keel_domain_config *cfg)
{
    static const enum keel_action on[KEEL_ON_COUNT] = {
        KEEL_ACTION_DESTROY, KEEL_ACTION_RESTART, KEEL_ACTION_DESTROY,
        KEEL_ACTION_DESTROY, KEEL_ACTION_SOFT_RESET};
    bool hvm;
    int i;

    if (!keel__uuid_is_set(cfg->uuid) && keel_uuid_generate(cfg->uuid))
        return keel_error(ctx, KEEL_EIO, "cannot generate a uuid");
    if (!cfg->type)
        cfg->type = KEEL_DOMAIN_PV;
    hvm = cfg->type == KEEL_DOMAIN_HVM;
    set_i64(&cfg->memory_kb,
            cfg->maxmem_kb != KEEL_UNSET ? cfg->maxmem_kb : DEFAULT_MEMORY_KB);
    set_i64(&cfg->maxmem_kb, cfg->memory_kb);
    set_i64(&cfg->vcpus, cfg->maxvcpus != KEEL_UNSET ? cfg->maxvcpus : 1);
    set_i64(&cfg->maxvcpus, cfg->vcpus);
    set_i64(&cfg->cpu_weight, DEFAULT_WEIGHT);
    set_i64(&cfg->cap, 0);
    for (i = 0; i < KEEL_ON_COUNT; i++)
        if (!cfg->on[i])
            cfg->on[i] = on[i];
    set_int(&cfg->nomigrate, KEEL_UNSET, 0);
    if (!cfg->tsc_mode)
        cfg->tsc_mode = KEEL_TSC_DEFAULT;
    set_i64(&cfg->max_grant_frames, DEFAULT_MAX_GRANT_FRAMES);
    set_i64(&cfg->max_event_channels, DEFAULT_MAX_EVENT_CHANNELS);
    set_int(&cfg->localtime, KEEL_UNSET, 0);
    set_i64(&cfg->rtc_timeoffset, 0);
    set_int(&cfg->hap, KEEL_UNSET, cfg->type != KEEL_DOMAIN_PV);
    set_int(&cfg->pae, KEEL_UNSET, hvm);
    set_int(&cfg->acpi, KEEL_UNSET, hvm);
    set_int(&cfg->apic, KEEL_UNSET, hvm);
    set_int(&cfg->hpet, KEEL_UNSET, hvm);
    set_int(&cfg->viridian, KEEL_UNSET, 0);
    if (hvm && set_str(ctx, &cfg->boot, "cd"))
        return KEEL_ENOMEM;
    if (!cfg->cmdline && (cfg->root || cfg->extra))
        return keel_domain_config_cmdline(ctx, cfg, &cfg->cmdline);
    return 0;
}

static void
disk_defaults(struct keel_disk_config *d)
{
    if (!d->format)
        d->format = d->cdrom && (!d->target || !*d->target)
                        ? KEEL_DISK_FORMAT_EMPTY
                        : KEEL_DISK_FORMAT_RAW;
    if (!d->access)
        d->access = d->cdrom ? KEEL_DISK_ACCESS_RO : KEEL_DISK_ACCESS_RW;
}

static int
vif_defaults(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
             struct keel_vif_config *v, unsigned int index)
{
    set_i64(&v->devid, index);
    if (!keel__mac_is_set(v->mac))
        derive_mac(cfg->uuid, v->devid, v->mac);
    if (!v->type)
        v->type = cfg->type == KEEL_DOMAIN_HVM ? KEEL_VIF_TYPE_IOEMU
                                               : KEEL_VIF_TYPE_VIF;
    if (set_str(ctx, &v->bridge, "xenbr0") ||
        set_str(ctx, &v->script, "vif-bridge"))
        return KEEL_ENOMEM;
    return 0;
}

/* What no single field shows: limits between fields and unique devices. */
static int
check_whole(struct keel_ctx *ctx, const struct keel_domain_config *cfg)
{
    unsigned int i, j;

    if (!cfg->name || !*cfg->name)
        return keel_error(ctx, KEEL_EINVAL, "name: a domain needs a name");
    if (cfg->maxmem_kb < cfg->memory_kb)
        return keel_error(ctx, KEEL_EINVAL,
                          "maxmem: %lld KiB is less than memory (%lld KiB)",
                          (long long)cfg->maxmem_kb, (long long)cfg->memory_kb);
    if (cfg->maxvcpus < cfg->vcpus)
        return keel_error(ctx, KEEL_EINVAL,
                          "maxvcpus: %lld is less than vcpus (%lld)",
                          (long long)cfg->maxvcpus, (long long)cfg->vcpus);
    if ((cfg->cpus.per_vcpu && cfg->cpus.count > cfg->maxvcpus) ||
        (cfg->cpus_soft.per_vcpu && cfg->cpus_soft.count > cfg->maxvcpus))
        return keel_error(ctx, KEEL_EINVAL,
                          "cpus: more per-vCPU affinities than vCPUs (%lld)",
                          (long long)cfg->maxvcpus);
    if (cfg->rtds_budget != KEEL_UNSET && cfg->rtds_period != KEEL_UNSET &&
        cfg->rtds_budget > cfg->rtds_period)
        return keel_error(ctx, KEEL_EINVAL,
                          "budget: %lld us is more than the period (%lld us)",
                          (long long)cfg->rtds_budget,
                          (long long)cfg->rtds_period);
    for (i = 0; i < cfg->num_disks; i++) {
        if (!cfg->disks[i].vdev)
            return keel_error(ctx, KEEL_EINVAL, "disk %u: no vdev", i);
        for (j = 0; j < i; j++)
            if (!strcmp(cfg->disks[i].vdev, cfg->disks[j].vdev))
                return keel_error(ctx, KEEL_EINVAL,
                                  "disk %u: vdev %s is also disk %u's", i,
                                  cfg->disks[i].vdev, j);
    }
    for (i = 0; i < cfg->num_vifs; i++)
        for (j = 0; j < i; j++)
            if (cfg->vifs[i].devid == cfg->vifs[j].devid)
                return keel_error(ctx, KEEL_EINVAL,
                                  "vif %u: devid %lld is also vif %u's", i,
                                  (long long)cfg->vifs[i].devid, j);
    return 0;
}

KEEL_EXPORT int
keel_domain_config_set_defaults(struct keel_ctx *ctx,
                                struct keel_domain_config *cfg,
                                unsigned int flags)
{
    unsigned int i;
    int rc;

    keel__enter(ctx);
    if (flags) {
        rc = keel_error(ctx, KEEL_EINVAL, "unknown flags 0x%x", flags);
        goto out;
    }
    if ((rc = domain_defaults(ctx, cfg)))
        goto out;
    for (i = 0; i < cfg->num_disks; i++)
        disk_defaults(&cfg->disks[i]);
    for (i = 0; i < cfg->num_vifs && !rc; i++)
        rc = vif_defaults(ctx, cfg, &cfg->vifs[i], i);
    if (!rc)
        rc = check_whole(ctx, cfg);
out:
    keel__leave(ctx);
    return rc;
}
