/* json-write.c: the JSON codec's writer, from the model to text
 *
 * Walks the tables of json-table.c as the reader does (see json.h),
 * writing each set field with yajl_gen, beautified and UTF-8 checked. An
 * object is opened only once one of its fields is written, as libxl
 * leaves out what is at its default. A model value the format cannot
 * carry is KEEL_EINVAL naming its path, never a silent drop.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include <keel/cpumap.h>

#include "json.h"

/* --- writer state --------------------------------------------------- */

/* Objects are opened lazily: one whose fields are all unset is not
 * written at all, as libxl leaves out what is at its default. */
struct lazy {
    const char *key; /* NULL inside an array */
    bool open;
};

struct keel__jwr {
    struct keel_ctx *ctx;
    yajl_gen g;
    const struct keel_domain_config *cfg;
    struct keel__jpath path;
    struct lazy lazy[KEEL__JSON_MAX_DEPTH];
    unsigned int nlazy;
};

static int
gen_check(struct keel__jwr *wr, yajl_gen_status st)
{
    if (st == yajl_gen_status_ok)
        return 0;
    if (st == yajl_gen_invalid_string)
        return keel_error(wr->ctx, KEEL_EINVAL, "%s: not valid UTF-8",
                          wr->path.s);
    return keel_error(wr->ctx, KEEL_ENOMEM, "%s: cannot write JSON (%d)",
                      wr->path.s, (int)st);
}

static int
gen_str(struct keel__jwr *wr, const char *s)
{
    return gen_check(wr, yajl_gen_string(wr->g, (const unsigned char *)s,
                                         strlen(s)));
}

static int
flush(struct keel__jwr *wr)
{
    unsigned int i;
    int rc = 0;

    for (i = 0; i < wr->nlazy && !rc; i++) {
        if (wr->lazy[i].open)
            continue;
        if (wr->lazy[i].key)
            rc = gen_str(wr, wr->lazy[i].key);
        if (!rc)
            rc = gen_check(wr, yajl_gen_map_open(wr->g));
        wr->lazy[i].open = true;
    }
    return rc;
}

/* Writes a member's key, opening the objects it is in first. */
static int
gen_key(struct keel__jwr *wr, const char *key)
{
    int rc = flush(wr);

    return rc ? rc : gen_str(wr, key);
}

static int
gen_int(struct keel__jwr *wr, long long v)
{
    return gen_check(wr, yajl_gen_integer(wr->g, v));
}

static void
lazy_push(struct keel__jwr *wr, const char *key)
{
    wr->lazy[wr->nlazy].key = key;
    wr->lazy[wr->nlazy++].open = false;
}

static int
lazy_pop(struct keel__jwr *wr)
{
    bool open = wr->lazy[--wr->nlazy].open;

    return open ? gen_check(wr, yajl_gen_map_close(wr->g)) : 0;
}

static int werr(struct keel__jwr *wr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records "PATH: what" for a model value the format cannot carry. */
static int
werr(struct keel__jwr *wr, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return keel_error(wr->ctx, KEEL_EINVAL, "%s: %s", wr->path.s, msg);
}

static int write_fields(struct keel__jwr *wr, const struct keel__jtab *t,
                        const void *base);

/* Writes the fields of t as object key (NULL in an array), or nothing
 * when none is set, unless always. */
static int
write_obj(struct keel__jwr *wr, const char *key, const struct keel__jtab *t,
          const void *base, bool always)
{
    size_t old = key ? keel__jpath_push(&wr->path, key, 0) : wr->path.len;
    int rc;

    lazy_push(wr, key);
    rc = always ? flush(wr) : 0;
    if (!rc)
        rc = write_fields(wr, t, base);
    if (!rc)
        rc = lazy_pop(wr);
    else
        wr->nlazy--;
    keel__jpath_pop(&wr->path, old);
    return rc;
}

static int
gen_array(struct keel__jwr *wr, bool open)
{
    return gen_check(wr, open ? yajl_gen_array_open(wr->g)
                              : yajl_gen_array_close(wr->g));
}

/* --- b_info: vCPUs, bitmaps and affinity ---------------------------- */

int
keel__jwrite_vcpus(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;
    int64_t i;
    int rc;

    if (cfg->vcpus == KEEL_UNSET)
        return 0;
    if (cfg->vcpus < 1 || cfg->vcpus > KEEL_MAX_CPUS)
        return werr(wr, "vcpus %lld is out of range (1..%u)",
                    (long long)cfg->vcpus, KEEL_MAX_CPUS);
    rc = gen_key(wr, "avail_vcpus");
    if (!rc)
        rc = gen_array(wr, true);
    for (i = 0; i < cfg->vcpus && !rc; i++)
        rc = gen_int(wr, i);
    return rc ? rc : gen_array(wr, false);
}

/* True when spec is exactly what reading its bitmap back gives: a plain
 * CPU list in sorted, merged ranges. */
static bool
spec_is_bitmap(const char *spec, struct keel_cpumap *map)
{
    size_t len = strlen(spec);
    char *text;
    bool ok;

    if (keel_cpumap_parse(map, spec, NULL) || keel_cpumap_is_empty(map) ||
        keel_cpumap_format(map, NULL, 0) != len || !(text = malloc(len + 1)))
        return false;
    keel_cpumap_format(map, text, len + 1);
    ok = !strcmp(text, spec);
    free(text);
    return ok;
}

enum form { FORM_NONE, FORM_BITMAPS, FORM_KEEL };

/* Where an affinity goes: libxl's bitmaps when they say it exactly, else
 * keel's extension. libxl has no soft map for all vCPUs at once. */
static enum form
aff_form(const struct keel_affinity_config *aff, bool soft)
{
    struct keel_cpumap map;
    unsigned int i;

    if (!aff->count)
        return FORM_NONE;
    if (!aff->per_vcpu && (soft || aff->count != 1))
        return FORM_KEEL;
    for (i = 0; i < aff->count; i++)
        if (!spec_is_bitmap(aff->specs[i], &map))
            return FORM_KEEL;
    return FORM_BITMAPS;
}

static int
gen_bitmap(struct keel__jwr *wr, const char *spec)
{
    struct keel_cpumap map;
    int cpu, rc;

    keel_cpumap_parse(&map, spec, NULL);
    rc = gen_array(wr, true);
    for (cpu = keel_cpumap_next(&map, 0); cpu >= 0 && !rc;
         cpu = keel_cpumap_next(&map, (unsigned int)cpu + 1))
        rc = gen_int(wr, cpu);
    return rc ? rc : gen_array(wr, false);
}

int
keel__jwrite_cpumap(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;
    int rc;

    if (cfg->cpus.per_vcpu || aff_form(&cfg->cpus, false) != FORM_BITMAPS)
        return 0;
    rc = gen_key(wr, "cpumap");
    return rc ? rc : gen_bitmap(wr, cfg->cpus.specs[0]);
}

static int
write_vcpu_aff(struct keel__jwr *wr, const char *key,
               const struct keel_affinity_config *aff, bool soft)
{
    unsigned int i;
    int rc;

    if (!aff->per_vcpu || aff_form(aff, soft) != FORM_BITMAPS)
        return 0;
    rc = gen_key(wr, key);
    if (!rc)
        rc = gen_array(wr, true);
    for (i = 0; i < aff->count && !rc; i++)
        rc = gen_bitmap(wr, aff->specs[i]);
    return rc ? rc : gen_array(wr, false);
}

int
keel__jwrite_hard(struct keel__jwr *wr, const void *base)
{
    return write_vcpu_aff(wr, "vcpu_hard_affinity",
                          &((const struct keel_domain_config *)base)->cpus,
                          false);
}

int
keel__jwrite_soft(struct keel__jwr *wr, const void *base)
{
    return write_vcpu_aff(
        wr, "vcpu_soft_affinity",
        &((const struct keel_domain_config *)base)->cpus_soft, true);
}

/* --- b_info: the rest ----------------------------------------------- */

int
keel__jwrite_rtc(struct keel__jwr *wr, const void *base)
{
    int64_t v = ((const struct keel_domain_config *)base)->rtc_timeoffset;
    size_t old = keel__jpath_push(&wr->path, "rtc_timeoffset", 0);
    int rc = 0;

    if (v != KEEL_UNSET) {
        if (v < INT32_MIN || v > INT32_MAX)
            rc = werr(wr, "%lld is out of range (%d..%d)", (long long)v,
                      INT32_MIN, INT32_MAX);
        if (!rc)
            rc = gen_key(wr, "rtc_timeoffset");
        if (!rc)
            rc = gen_int(wr, v < 0 ? v + ((int64_t)1 << 32) : v);
    }
    keel__jpath_pop(&wr->path, old);
    return rc;
}

int
keel__jwrite_union(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;
    static const char *const keys[] = {
        [KEEL_DOMAIN_PV] = "type.pv",
        [KEEL_DOMAIN_PVH] = "type.pvh",
        [KEEL_DOMAIN_HVM] = "type.hvm",
    };

    if (!cfg->type || (unsigned int)cfg->type >= ARRAY_SIZE(keys))
        return 0; /* c_info.type reports a bad value */
    return write_obj(wr, keys[cfg->type], keel__jtab_union(cfg->type), base,
                     true);
}

/* --- disks and nics ------------------------------------------------- */

static int
write_devices(struct keel__jwr *wr, const char *key, const struct keel__jtab *t,
              const void *arr, size_t size, unsigned int count)
{
    size_t old = keel__jpath_push(&wr->path, key, 0), old2;
    unsigned int i;
    int rc = count ? gen_key(wr, key) : 0;

    if (count && !rc)
        rc = gen_array(wr, true);
    for (i = 0; i < count && !rc; i++) {
        old2 = keel__jpath_push(&wr->path, NULL, i);
        rc = write_obj(wr, NULL, t, (const char *)arr + i * size, true);
        keel__jpath_pop(&wr->path, old2);
    }
    if (count && !rc)
        rc = gen_array(wr, false);
    keel__jpath_pop(&wr->path, old);
    return rc;
}

int
keel__jwrite_disks(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;

    return write_devices(wr, "disks", &keel__jtab_disk, cfg->disks,
                         sizeof(*cfg->disks), cfg->num_disks);
}

/* xl marks cdroms removable and nothing else; the model has no field, so
 * keel writes what xl would. */
int
keel__jwrite_removable(struct keel__jwr *wr, const void *base)
{
    int rc;

    if (!((const struct keel_disk_config *)base)->cdrom)
        return 0;
    rc = gen_key(wr, "removable");
    return rc ? rc : gen_int(wr, 1);
}

int
keel__jwrite_readwrite(struct keel__jwr *wr, const void *base)
{
    enum keel_disk_access a = ((const struct keel_disk_config *)base)->access;
    int rc;

    if (a == KEEL_DISK_ACCESS_UNSET)
        return 0;
    if (a != KEEL_DISK_ACCESS_RW && a != KEEL_DISK_ACCESS_RO)
        return werr(wr, "invalid access %d", (int)a);
    rc = gen_key(wr, "readwrite");
    return rc ? rc : gen_int(wr, a == KEEL_DISK_ACCESS_RW);
}

int
keel__jwrite_cdrom(struct keel__jwr *wr, const void *base)
{
    int rc;

    if (!((const struct keel_disk_config *)base)->cdrom)
        return 0;
    rc = gen_key(wr, "is_cdrom");
    return rc ? rc : gen_int(wr, 1);
}

static bool
rate_exact(const struct keel_vif_config *v)
{
    if (v->rate_bytes_per_sec < 0 || v->rate_interval_us < 1)
        return true;
    return keel__jrate_per_sec(keel__jrate_per_interval(v->rate_bytes_per_sec,
                                          v->rate_interval_us),
                        v->rate_interval_us) ==
           (unsigned __int128)v->rate_bytes_per_sec;
}

int
keel__jwrite_rate(struct keel__jwr *wr, const void *base)
{
    const struct keel_vif_config *v = base;
    int rc;

    if (v->rate_bytes_per_sec == KEEL_UNSET &&
        v->rate_interval_us == KEEL_UNSET)
        return 0;
    if (v->rate_bytes_per_sec < 0 || v->rate_interval_us < 1 ||
        v->rate_interval_us > KEEL__US_PER_S)
        return werr(wr, "rate of %lld bytes per second over %lld us cannot "
                    "be written",
                    (long long)v->rate_bytes_per_sec,
                    (long long)v->rate_interval_us);
    rc = gen_key(wr, "rate_bytes_per_interval");
    if (!rc)
        rc = gen_check(wr, yajl_gen_integer(
                               wr->g, (long long)keel__jrate_per_interval(
                                          v->rate_bytes_per_sec,
                                          v->rate_interval_us)));
    if (!rc)
        rc = gen_key(wr, "rate_interval_usecs");
    return rc ? rc : gen_int(wr, v->rate_interval_us);
}

int
keel__jwrite_nics(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;

    return write_devices(wr, "nics", &keel__jtab_nic, cfg->vifs,
                         sizeof(*cfg->vifs), cfg->num_vifs);
}

/* --- keel's extension ----------------------------------------------- */

static int
write_keel_aff(struct keel__jwr *wr, const char *key,
               const struct keel_affinity_config *aff, bool soft)
{
    size_t old = keel__jpath_push(&wr->path, key, 0);
    unsigned int i;
    int rc = 0;

    if (aff_form(aff, soft) != FORM_KEEL)
        goto out;
    if (!aff->per_vcpu && aff->count != 1) {
        rc = werr(wr, "%u specs, but not one per vCPU", aff->count);
        goto out;
    }
    rc = gen_key(wr, key);
    if (!rc && !aff->per_vcpu) {
        rc = gen_str(wr, aff->specs[0]);
        goto out;
    }
    if (!rc)
        rc = gen_array(wr, true);
    for (i = 0; i < aff->count && !rc; i++)
        rc = gen_str(wr, aff->specs[i]);
    if (!rc)
        rc = gen_array(wr, false);
out:
    keel__jpath_pop(&wr->path, old);
    return rc;
}

int
keel__jwrite_keel_cpus(struct keel__jwr *wr, const void *base)
{
    return write_keel_aff(wr, "cpus",
                          &((const struct keel_domain_config *)base)->cpus,
                          false);
}

int
keel__jwrite_keel_cpus_soft(struct keel__jwr *wr, const void *base)
{
    return write_keel_aff(
        wr, "cpus_soft",
        &((const struct keel_domain_config *)base)->cpus_soft, true);
}

int
keel__jwrite_keel_nics(struct keel__jwr *wr, const void *base)
{
    const struct keel_domain_config *cfg = base;
    unsigned int i, n = 0;
    int rc;

    for (i = 0; i < cfg->num_vifs; i++)
        if (!rate_exact(&cfg->vifs[i]))
            n = i + 1;
    if (!n)
        return 0;
    rc = gen_key(wr, "nics");
    if (!rc)
        rc = gen_array(wr, true);
    for (i = 0; i < n && !rc; i++) {
        rc = gen_check(wr, yajl_gen_map_open(wr->g));
        if (!rc && !rate_exact(&cfg->vifs[i]))
            rc = gen_str(wr, "rate_bytes_per_sec");
        if (!rc && !rate_exact(&cfg->vifs[i]))
            rc = gen_int(wr, cfg->vifs[i].rate_bytes_per_sec);
        if (!rc)
            rc = gen_check(wr, yajl_gen_map_close(wr->g));
    }
    return rc ? rc : gen_array(wr, false);
}

/* --- writing plain fields ------------------------------------------- */

static int
write_value(struct keel__jwr *wr, const struct keel__jfield *f,
            const void *base)
{
    char text[37];
    int64_t v = f->kind == KEEL__JK_I64 ? *KEEL__JCAT(base, f, int64_t) : 0;
    int i = f->kind == KEEL__JK_I64 ? 0 : *KEEL__JCAT(base, f, int);
    char *const *sv;
    int rc = 0;

    switch (f->kind) {
    case KEEL__JK_STR:
        return gen_str(wr, *KEEL__JCAT(base, f, char *));
    case KEEL__JK_I64:
        if (v < f->min || v > f->max)
            return werr(wr, "%lld is out of range (%lld..%lld)",
                        (long long)v, (long long)f->min, (long long)f->max);
        return gen_int(wr, v);
    case KEEL__JK_DEFBOOL:
    case KEEL__JK_BOOL:
        if (i != 0 && i != 1)
            return werr(wr, "invalid tristate %d", i);
        if (f->kind == KEEL__JK_BOOL)
            return gen_check(wr, yajl_gen_bool(wr->g, i));
        return gen_str(wr, i ? "True" : "False");
    case KEEL__JK_ENUM:
        if (!keel__jname_of(f->aux, i))
            return werr(wr, "invalid value %d", i);
        return gen_str(wr, keel__jname_of(f->aux, i));
    case KEEL__JK_UUID:
        keel_uuid_format(KEEL__JCAT(base, f, uint8_t), text);
        return gen_str(wr, text);
    case KEEL__JK_MAC:
        keel_mac_format(KEEL__JCAT(base, f, uint8_t), text);
        return gen_str(wr, text);
    case KEEL__JK_STRV:
        rc = gen_array(wr, true);
        for (sv = *(char **const *)((const char *)base + f->off); *sv && !rc;
             sv++)
            rc = gen_str(wr, *sv);
        return rc ? rc : gen_array(wr, false);
    default:
        return 0;
    }
}

static int
write_fields(struct keel__jwr *wr, const struct keel__jtab *t, const void *base)
{
    size_t i, old;
    int rc = 0;

    for (i = 0; i < t->n && !rc; i++) {
        const struct keel__jfield *f = &t->fields[i];

        if ((f->flags & KEEL__JF_ALIAS) ||
            ((f->flags & KEEL__JF_NOT_HVM) && wr->cfg->type == KEEL_DOMAIN_HVM))
            continue;
        if (f->kind == KEEL__JK_SPECIAL) {
            rc = f->write ? f->write(wr, base) : 0;
        } else if (f->kind == KEEL__JK_OBJ) {
            rc = write_obj(wr, f->key, f->aux, base, false);
        } else if (keel__jfield_is_set(f, base)) {
            old = keel__jpath_push(&wr->path, f->key, 0);
            rc = gen_key(wr, f->key);
            if (!rc)
                rc = write_value(wr, f, base);
            keel__jpath_pop(&wr->path, old);
        }
    }
    return rc;
}

/* --- entry points --------------------------------------------------- */

int
keel__cfgjson_write(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
                    char **text_r)
{
    struct keel__jwr wr = {.ctx = ctx, .cfg = cfg};
    struct keel__buf out = {0};
    const unsigned char *text;
    size_t len;
    int rc;

    *text_r = NULL;
    if (!(wr.g = yajl_gen_alloc(NULL)))
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    yajl_gen_config(wr.g, yajl_gen_beautify, 1);
    yajl_gen_config(wr.g, yajl_gen_indent_string, "    ");
    yajl_gen_config(wr.g, yajl_gen_validate_utf8, 1);
    rc = write_obj(&wr, NULL, &keel__jtab_top, cfg, true);
    if (!rc)
        rc = gen_check(&wr, yajl_gen_get_buf(wr.g, &text, &len));
    if (!rc) {
        keel__buf_addn(&out, (const char *)text, len);
        if (!len || text[len - 1] != '\n')
            keel__buf_add(&out, "\n");
        rc = keel__buf_finish(ctx, &out, text_r);
    }
    keel__buf_dispose(&out);
    yajl_gen_free(wr.g);
    return rc;
}
