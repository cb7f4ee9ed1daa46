/* model.c: the domain configuration model: its schema, lifetime and
 * defaults
 *
 * The plain fields of struct keel_domain_config, keel_disk_config and
 * keel_vif_config are declared once, in the schema tables below (field,
 * offset, kind); init, dispose, copy and equal walk the tables, so adding
 * a plain field is one line here and cannot be forgotten in one of the
 * four. The few structured fields (device arrays, affinities, argument
 * vectors) have one hand-written helper each.
 *
 * Checklist when adding a field: see include/keel/config.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

enum kind {
    K_STR,  /* char * */
    K_I64,  /* int64_t, KEEL_UNSET when unset */
    K_INT,  /* int or enum: tristates and enums */
    K_BOOL, /* bool */
    K_UUID, /* uint8_t[16] */
    K_MAC,  /* uint8_t[6] */
    K_AFF,  /* struct keel_affinity_config */
    K_STRV, /* char **, NULL-terminated */
};

struct field {
    size_t off;
    enum kind kind;
    int unset; /* initial value of K_INT fields */
};

#define C_(member, kind, unset)                                                \
    {                                                                          \
        offsetof(struct keel_domain_config, member), kind, unset               \
    }
#define D_(member, kind, unset)                                                \
    {                                                                          \
        offsetof(struct keel_disk_config, member), kind, unset                 \
    }
#define V_(member, kind, unset)                                                \
    {                                                                          \
        offsetof(struct keel_vif_config, member), kind, unset                  \
    }

static const struct field domain_fields[] = {
    C_(name, K_STR, 0),
    C_(uuid, K_UUID, 0),
    C_(type, K_INT, 0),
    C_(pool, K_STR, 0),
    C_(memory_kb, K_I64, 0),
    C_(maxmem_kb, K_I64, 0),
    C_(vcpus, K_I64, 0),
    C_(maxvcpus, K_I64, 0),
    C_(cpus, K_AFF, 0),
    C_(cpus_soft, K_AFF, 0),
    C_(cpu_weight, K_I64, 0),
    C_(cap, K_I64, 0),
    C_(rtds_period, K_I64, 0),
    C_(rtds_budget, K_I64, 0),
    C_(kernel, K_STR, 0),
    C_(ramdisk, K_STR, 0),
    C_(cmdline, K_STR, 0),
    C_(root, K_STR, 0),
    C_(extra, K_STR, 0),
    C_(bootloader, K_STR, 0),
    C_(bootloader_args, K_STRV, 0),
    C_(firmware, K_STR, 0),
    C_(boot, K_STR, 0),
    C_(on[KEEL_ON_POWEROFF], K_INT, 0),
    C_(on[KEEL_ON_REBOOT], K_INT, 0),
    C_(on[KEEL_ON_WATCHDOG], K_INT, 0),
    C_(on[KEEL_ON_CRASH], K_INT, 0),
    C_(on[KEEL_ON_SOFT_RESET], K_INT, 0),
    C_(nomigrate, K_INT, KEEL_UNSET),
    C_(tsc_mode, K_INT, 0),
    C_(max_grant_frames, K_I64, 0),
    C_(max_event_channels, K_I64, 0),
    C_(localtime, K_INT, KEEL_UNSET),
    C_(rtc_timeoffset, K_I64, 0),
    C_(pae, K_INT, KEEL_UNSET),
    C_(acpi, K_INT, KEEL_UNSET),
    C_(apic, K_INT, KEEL_UNSET),
    C_(hap, K_INT, KEEL_UNSET),
    C_(viridian, K_INT, KEEL_UNSET),
    C_(hpet, K_INT, KEEL_UNSET),
};

static const struct field disk_fields[] = {
    D_(target, K_STR, 0),
    D_(format, K_INT, 0),
    D_(vdev, K_STR, 0),
    D_(access, K_INT, 0),
    D_(cdrom, K_BOOL, 0),
    D_(backend, K_STR, 0),
    D_(backendtype, K_INT, 0),
    D_(script, K_STR, 0),
    D_(direct_io_safe, K_INT, KEEL_UNSET),
    D_(discard, K_INT, KEEL_UNSET),
    D_(trusted, K_INT, KEEL_UNSET),
};

static const struct field vif_fields[] = {
    V_(mac, K_MAC, 0),
    V_(bridge, K_STR, 0),
    V_(ip, K_STR, 0),
    V_(model, K_STR, 0),
    V_(type, K_INT, 0),
    V_(vifname, K_STR, 0),
    V_(script, K_STR, 0),
    V_(backend, K_STR, 0),
    V_(gatewaydev, K_STR, 0),
    V_(rate_bytes_per_sec, K_I64, 0),
    V_(rate_interval_us, K_I64, 0),
    V_(mtu, K_I64, 0),
    V_(devid, K_I64, 0),
};

#define AT(base, f, type) ((type *)((char *)(base) + (f)->off))
#define CAT(base, f, type) ((const type *)((const char *)(base) + (f)->off))

/* --- string vectors and affinities ------------------------------------ */

size_t
keel__strv_len(char *const *strv)
{
    size_t n = 0;

    while (strv && strv[n])
        n++;
    return n;
}

void
keel__strv_free(char **strv)
{
    size_t i;

    for (i = 0; strv && strv[i]; i++)
        free(strv[i]);
    free(strv);
}

int
keel__strv_add(struct keel_ctx *ctx, char ***strv, const char *s)
{
    size_t n = keel__strv_len(*strv);
    char **v;

    if (n >= KEEL_CONFIG_MAX_ITEMS)
        return keel_error(ctx, KEEL_ERANGE, "more than %u items in a list",
                          KEEL_CONFIG_MAX_ITEMS);
    v = realloc(*strv, (n + 2) * sizeof(*v));
    if (!v)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    *strv = v;
    v[n + 1] = NULL;
    v[n] = keel__strdup(ctx, s);
    return v[n] ? 0 : KEEL_ENOMEM;
}

static bool
strv_equal(char *const *a, char *const *b)
{
    size_t i;

    if (!a || !b)
        return a == b;
    for (i = 0; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]))
            return false;
    return !a[i] && !b[i];
}

static int
strv_copy(struct keel_ctx *ctx, char ***dst, char *const *src)
{
    size_t i;
    int rc;

    if (!src)
        return 0;
    *dst = calloc(1, sizeof(**dst));
    if (!*dst)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; src[i]; i++)
        if ((rc = keel__strv_add(ctx, dst, src[i])))
            return rc;
    return 0;
}

void
keel__affinity_dispose(struct keel_affinity_config *aff)
{
    unsigned int i;

    for (i = 0; i < aff->count; i++)
        free(aff->specs[i]);
    free(aff->specs);
    aff->specs = NULL;
    aff->count = 0;
    aff->per_vcpu = false;
}

int
keel__affinity_add(struct keel_ctx *ctx, struct keel_affinity_config *aff,
                   const char *spec)
{
    char **specs, *norm = NULL;
    int rc;

    if (aff->count >= KEEL_CONFIG_MAX_ITEMS)
        return keel_error(ctx, KEEL_ERANGE, "more than %u CPU affinities",
                          KEEL_CONFIG_MAX_ITEMS);
    if ((rc = keel_cpuspec_normalize(ctx, spec, &norm)))
        return rc;
    specs = realloc(aff->specs, (aff->count + 1) * sizeof(*specs));
    if (!specs) {
        free(norm);
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    }
    aff->specs = specs;
    aff->specs[aff->count++] = norm;
    return 0;
}

static bool
affinity_equal(const struct keel_affinity_config *a,
               const struct keel_affinity_config *b)
{
    unsigned int i;

    if (a->count != b->count || (a->count && a->per_vcpu != b->per_vcpu))
        return false;
    for (i = 0; i < a->count; i++)
        if (strcmp(a->specs[i], b->specs[i]))
            return false;
    return true;
}

static int
affinity_copy(struct keel_ctx *ctx, struct keel_affinity_config *dst,
              const struct keel_affinity_config *src)
{
    unsigned int i;
    int rc;

    dst->per_vcpu = src->per_vcpu;
    for (i = 0; i < src->count; i++)
        if ((rc = keel__affinity_add(ctx, dst, src->specs[i])))
            return rc;
    return 0;
}

/* --- the schema walkers ------------------------------------------------- */

static void
fields_init(void *base, const struct field *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct field *f = &tab[i];

        switch (f->kind) {
        case K_STR:
            *AT(base, f, char *) = NULL;
            break;
        case K_I64:
            *AT(base, f, int64_t) = KEEL_UNSET;
            break;
        case K_INT:
            *AT(base, f, int) = f->unset;
            break;
        case K_BOOL:
            *AT(base, f, bool) = false;
            break;
        case K_UUID:
            memset(AT(base, f, uint8_t), 0, 16);
            break;
        case K_MAC:
            memset(AT(base, f, uint8_t), 0, 6);
            break;
        case K_AFF:
            memset(AT(base, f, struct keel_affinity_config), 0,
                   sizeof(struct keel_affinity_config));
            break;
        case K_STRV:
            *AT(base, f, char **) = NULL;
            break;
        }
    }
}

static void
fields_dispose(void *base, const struct field *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct field *f = &tab[i];

        if (f->kind == K_STR)
            free(*AT(base, f, char *));
        else if (f->kind == K_AFF)
            keel__affinity_dispose(AT(base, f, struct keel_affinity_config));
        else if (f->kind == K_STRV)
            keel__strv_free(*AT(base, f, char **));
    }
    fields_init(base, tab, n);
}

static bool
field_equal(const void *a, const void *b, const struct field *f)
{
    const char *sa, *sb;

    switch (f->kind) {
    case K_STR:
        sa = *CAT(a, f, char *);
        sb = *CAT(b, f, char *);
        return (!sa || !sb) ? sa == sb : !strcmp(sa, sb);
    case K_I64:
        return *CAT(a, f, int64_t) == *CAT(b, f, int64_t);
    case K_INT:
        return *CAT(a, f, int) == *CAT(b, f, int);
    case K_BOOL:
        return *CAT(a, f, bool) == *CAT(b, f, bool);
    case K_UUID:
        return !memcmp(CAT(a, f, uint8_t), CAT(b, f, uint8_t), 16);
    case K_MAC:
        return !memcmp(CAT(a, f, uint8_t), CAT(b, f, uint8_t), 6);
    case K_AFF:
        return affinity_equal(CAT(a, f, struct keel_affinity_config),
                              CAT(b, f, struct keel_affinity_config));
    case K_STRV:
        return strv_equal(*(char **const *)((const char *)a + f->off),
                          *(char **const *)((const char *)b + f->off));
    }
    return false;
}

static bool
fields_equal(const void *a, const void *b, const struct field *tab, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!field_equal(a, b, &tab[i]))
            return false;
    return true;
}

/* Copies src's fields into dst, which fields_init made empty. */
static int
fields_copy(struct keel_ctx *ctx, void *dst, const void *src,
            const struct field *tab, size_t n)
{
    const char *s;
    size_t i;
    int rc = 0;

    for (i = 0; i < n && !rc; i++) {
        const struct field *f = &tab[i];

        if (f->kind == K_STR) {
            s = *CAT(src, f, char *);
            if (s && !(*AT(dst, f, char *) = keel__strdup(ctx, s)))
                rc = KEEL_ENOMEM;
        } else if (f->kind == K_AFF) {
            rc = affinity_copy(ctx, AT(dst, f, struct keel_affinity_config),
                               CAT(src, f, struct keel_affinity_config));
        } else if (f->kind == K_STRV) {
            rc = strv_copy(ctx, AT(dst, f, char **),
                           *(char **const *)((const char *)src + f->off));
        } else if (f->kind == K_UUID || f->kind == K_MAC) {
            memcpy(AT(dst, f, uint8_t), CAT(src, f, uint8_t),
                   f->kind == K_UUID ? 16 : 6);
        } else {
            size_t sz = f->kind == K_I64   ? sizeof(int64_t)
                        : f->kind == K_INT ? sizeof(int)
                                           : sizeof(bool);
            memcpy((char *)dst + f->off, (const char *)src + f->off, sz);
        }
    }
    return rc;
}

#define DOMAIN_FIELDS domain_fields, ARRAY_SIZE(domain_fields)
#define DISK_FIELDS disk_fields, ARRAY_SIZE(disk_fields)
#define VIF_FIELDS vif_fields, ARRAY_SIZE(vif_fields)

/* --- devices ------------------------------------------------------------ */

void
keel__disk_config_init(struct keel_disk_config *disk)
{
    fields_init(disk, DISK_FIELDS);
}

void
keel__disk_config_dispose(struct keel_disk_config *disk)
{
    fields_dispose(disk, DISK_FIELDS);
}

void
keel__vif_config_init(struct keel_vif_config *vif)
{
    fields_init(vif, VIF_FIELDS);
}

void
keel__vif_config_dispose(struct keel_vif_config *vif)
{
    fields_dispose(vif, VIF_FIELDS);
}

/* Grows *arr (of *count elements of size sz) by one, returning the new
 * element (uninitialised) or NULL. */
static void *
array_push(struct keel_ctx *ctx, void **arr, unsigned int *count, size_t sz,
           const char *what)
{
    void *grown;

    if (*count >= KEEL_CONFIG_MAX_ITEMS) {
        keel_error(ctx, KEEL_ERANGE, "more than %u %s", KEEL_CONFIG_MAX_ITEMS,
                   what);
        return NULL;
    }
    grown = realloc(*arr, (*count + 1) * sz);
    if (!grown) {
        keel_error(ctx, KEEL_ENOMEM, "out of memory");
        return NULL;
    }
    *arr = grown;
    return (char *)grown + (*count)++ * sz;
}

int
keel__config_add_disk(struct keel_ctx *ctx, struct keel_domain_config *cfg,
                      struct keel_disk_config **disk_r)
{
    struct keel_disk_config *d = array_push(
        ctx, (void **)&cfg->disks, &cfg->num_disks, sizeof(*d), "disks");

    if (!d)
        return keel_ctx_last_code(ctx);
    keel__disk_config_init(d);
    *disk_r = d;
    return 0;
}

int
keel__config_add_vif(struct keel_ctx *ctx, struct keel_domain_config *cfg,
                     struct keel_vif_config **vif_r)
{
    struct keel_vif_config *v = array_push(ctx, (void **)&cfg->vifs,
                                           &cfg->num_vifs, sizeof(*v), "vifs");

    if (!v)
        return keel_ctx_last_code(ctx);
    keel__vif_config_init(v);
    *vif_r = v;
    return 0;
}

/* --- the domain config ------------------------------------------------- */

KEEL_EXPORT void
keel_domain_config_init(struct keel_domain_config *cfg)
{
    fields_init(cfg, DOMAIN_FIELDS);
    cfg->disks = NULL;
    cfg->num_disks = 0;
    cfg->vifs = NULL;
    cfg->num_vifs = 0;
}

KEEL_EXPORT void
keel_domain_config_dispose(struct keel_domain_config *cfg)
{
    unsigned int i;

    if (!cfg)
        return;
    for (i = 0; i < cfg->num_disks; i++)
        keel__disk_config_dispose(&cfg->disks[i]);
    for (i = 0; i < cfg->num_vifs; i++)
        keel__vif_config_dispose(&cfg->vifs[i]);
    free(cfg->disks);
    free(cfg->vifs);
    fields_dispose(cfg, DOMAIN_FIELDS);
    keel_domain_config_init(cfg);
}

static int
copy_devices(struct keel_ctx *ctx, struct keel_domain_config *dst,
             const struct keel_domain_config *src)
{
    struct keel_disk_config *d;
    struct keel_vif_config *v;
    unsigned int i;
    int rc;

    for (i = 0; i < src->num_disks; i++) {
        if ((rc = keel__config_add_disk(ctx, dst, &d)) ||
            (rc = fields_copy(ctx, d, &src->disks[i], DISK_FIELDS)))
            return rc;
    }
    for (i = 0; i < src->num_vifs; i++) {
        if ((rc = keel__config_add_vif(ctx, dst, &v)) ||
            (rc = fields_copy(ctx, v, &src->vifs[i], VIF_FIELDS)))
            return rc;
    }
    return 0;
}

KEEL_EXPORT int
keel_domain_config_copy(struct keel_ctx *ctx, struct keel_domain_config *dst,
                        const struct keel_domain_config *src)
{
    int rc;

    keel__enter(ctx);
    keel_domain_config_dispose(dst);
    rc = fields_copy(ctx, dst, src, DOMAIN_FIELDS);
    if (!rc)
        rc = copy_devices(ctx, dst, src);
    if (rc)
        keel_domain_config_dispose(dst);
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT bool
keel_domain_config_equal(const struct keel_domain_config *a,
                         const struct keel_domain_config *b)
{
    unsigned int i;

    if (!fields_equal(a, b, DOMAIN_FIELDS) || a->num_disks != b->num_disks ||
        a->num_vifs != b->num_vifs)
        return false;
    for (i = 0; i < a->num_disks; i++)
        if (!fields_equal(&a->disks[i], &b->disks[i], DISK_FIELDS))
            return false;
    for (i = 0; i < a->num_vifs; i++)
        if (!fields_equal(&a->vifs[i], &b->vifs[i], VIF_FIELDS))
            return false;
    return true;
}

bool
keel__uuid_is_set(const uint8_t uuid[16])
{
    static const uint8_t nil[16];

    return memcmp(uuid, nil, 16) != 0;
}

bool
keel__mac_is_set(const uint8_t mac[6])
{
    static const uint8_t nil[6];

    return memcmp(mac, nil, 6) != 0;
}

KEEL_EXPORT int
keel_domain_config_cmdline(struct keel_ctx *ctx,
                           const struct keel_domain_config *cfg,
                           char **cmdline_r)
{
    int rc = 0;

    keel__enter(ctx);
    *cmdline_r = NULL;
    if (cfg->cmdline)
        *cmdline_r = keel__strdup(ctx, cfg->cmdline);
    else if (cfg->root || cfg->extra)
        *cmdline_r = keel__sprintf(ctx, "%s%s%s%s", cfg->root ? "root=" : "",
                                   cfg->root ? cfg->root : "",
                                   cfg->root && cfg->extra ? " " : "",
                                   cfg->extra ? cfg->extra : "");
    else
        goto out;
    if (!*cmdline_r)
        rc = KEEL_ENOMEM;
out:
    keel__leave(ctx);
    return rc;
}
