/* json.c: the JSON codec's reader, from the document tree to the model
 *
 * The format, its tables and keel's extension object are described in
 * json.h. The text becomes a tree first (json-tree.c), so that every
 * message can name file:line:column. Members are matched to the table
 * first (unknown ones warn, in document order), then read in table order,
 * so c_info.type is known before b_info's union is read and the extension
 * object is read last.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <keel/cpumap.h>

#include "json.h"

#define MAX_WARNINGS 100
#define MAX_FIELDS 40

/* --- reader state, positions and messages --------------------------- */

struct keel__jrd {
    struct keel_ctx *ctx;
    const char *file;
    const char *buf;
    size_t len;
    struct keel_domain_config *cfg;
    struct keel__jpath path;
    struct keel__jpos pos; /* where() resumes from here */
    unsigned int warnings;
    const struct keel__jnode *union_node;         /* b_info's "type.*" */
    const struct keel__jnode *rate_bpi, *rate_us; /* of the nic being read */
};

static void
where(struct keel__jrd *rd, size_t off, size_t *line_r, size_t *col_r)
{
    keel__jtree_where(&rd->pos, rd->buf, rd->len, off, line_r, col_r);
}

static int fail(struct keel__jrd *rd, size_t off, int code, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* Records "FILE:LINE:COL: PATH: what" for the value at off. */
static int
fail(struct keel__jrd *rd, size_t off, int code, const char *fmt, ...)
{
    char msg[256];
    size_t line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    where(rd, off, &line, &col);
    return keel_error(rd->ctx, code, "%s:%zu:%zu: %s%s%s", rd->file, line, col,
                      rd->path.s, rd->path.len ? ": " : "", msg);
}

/* Puts file:line:col and the path before a model helper's message. */
static int
prefix(struct keel__jrd *rd, size_t off, int rc)
{
    size_t line, col;

    where(rd, off, &line, &col);
    keel__error_prefix(rd->ctx, "%s:%zu:%zu: %s: ", rd->file, line, col,
                       rd->path.s);
    return rc;
}

static void
warn(struct keel__jrd *rd, size_t off, const char *what)
{
    size_t line, col;

    if (++rd->warnings > MAX_WARNINGS)
        return;
    where(rd, off, &line, &col);
    if (rd->warnings == MAX_WARNINGS)
        keel_warn(rd->ctx,
                  "%s:%zu:%zu: more than %u warnings, the rest "
                  "are not shown",
                  rd->file, line, col, MAX_WARNINGS - 1);
    else
        keel_warn(rd->ctx, "%s:%zu:%zu: %s: %s", rd->file, line, col,
                  rd->path.s, what);
}

/* --- reading values ------------------------------------------------- */

static int
want(struct keel__jrd *rd, const struct keel__jnode *n, enum keel__jt type,
     const char *what)
{
    if (n->type == type)
        return 0;
    return fail(rd, n->off, KEEL_EINVAL, "expected %s", what);
}

/* The text of a string value; C strings cannot hold a NUL. */
static int
get_str(struct keel__jrd *rd, const struct keel__jnode *n, const char **s_r)
{
    int rc = want(rd, n, KEEL__JT_STR, "a string");

    if (rc)
        return rc;
    if (memchr(n->str, '\0', n->len))
        return fail(rd, n->off, KEEL_EINVAL, "contains a NUL character");
    *s_r = n->str;
    return 0;
}

/* An integer value as sign and magnitude; fractions and exponents are not
 * integers. */
static int
get_int(struct keel__jrd *rd, const struct keel__jnode *n, bool *neg_r,
        uint64_t *mag_r)
{
    const char *s;
    uint64_t v = 0;
    int rc = want(rd, n, KEEL__JT_NUM, "an integer");

    if (rc)
        return rc;
    s = n->str + (*neg_r = n->str[0] == '-');
    if (strspn(s, "0123456789") != strlen(s))
        return fail(rd, n->off, KEEL_EINVAL, "expected an integer, not %s",
                    n->str);
    for (; *s; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return fail(rd, n->off, KEEL_EINVAL, "%s is out of range", n->str);
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *mag_r = v;
    return 0;
}

static int
get_i64(struct keel__jrd *rd, const struct keel__jnode *n, int64_t min,
        int64_t max, int64_t *v_r)
{
    uint64_t mag;
    bool neg;
    int rc = get_int(rd, n, &neg, &mag);

    if (rc)
        return rc;
    if (neg ? (min >= 0 || mag > (uint64_t) - (min + 1) + 1)
            : (max < 0 || mag > (uint64_t)max ||
               (min > 0 && mag < (uint64_t)min)))
        return fail(rd, n->off, KEEL_EINVAL, "%s is out of range (%lld..%lld)",
                    n->str, (long long)min, (long long)max);
    *v_r = neg ? (mag ? -(int64_t)(mag - 1) - 1 : 0) : (int64_t)mag;
    return 0;
}

static int
set_str(struct keel__jrd *rd, const struct keel__jnode *n, char **p)
{
    const char *s;
    char *d;
    int rc = get_str(rd, n, &s);

    if (rc)
        return rc;
    if (!(d = keel__strdup(rd->ctx, s)))
        return KEEL_ENOMEM;
    free(*p);
    *p = d;
    return 0;
}

static int
read_i64(struct keel__jrd *rd, const struct keel__jfield *f,
         const struct keel__jnode *n, int64_t *p)
{
    if ((f->flags & KEEL__JF_NEG1) && n->type == KEEL__JT_NUM &&
        !strcmp(n->str, "-1")) {
        *p = KEEL_UNSET;
        return 0;
    }
    return get_i64(rd, n, f->min, f->max, p);
}

static int
read_defbool(struct keel__jrd *rd, const struct keel__jnode *n, int *p)
{
    const char *s = n->str;

    if (n->type != KEEL__JT_STR || memchr(s, '\0', n->len))
        s = "";
    if (!strcmp(s, "True") || !strcmp(s, "False"))
        *p = s[0] == 'T';
    else if (!strcmp(s, "<default>"))
        *p = KEEL_UNSET;
    else
        return fail(rd, n->off, KEEL_EINVAL,
                    "expected \"True\", \"False\" or \"<default>\"");
    return 0;
}

static int
read_enum(struct keel__jrd *rd, const struct keel__jname *names,
          const struct keel__jnode *n, int *p)
{
    const struct keel__jname *e;
    char list[160] = "";
    const char *s;
    int rc = get_str(rd, n, &s);

    if (rc)
        return rc;
    /* libxl's *_from_string ignore case */
    for (e = names; e->name; e++) {
        if (!strcasecmp(s, e->name)) {
            *p = e->value;
            return 0;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 e == names ? "" : ", ", e->name);
    }
    return fail(rd, n->off, KEEL_EINVAL, "\"%.40s\" is not one of %s", s, list);
}

static int
read_uuid(struct keel__jrd *rd, const struct keel__jnode *n, uint8_t *uuid)
{
    const char *s;
    int rc = get_str(rd, n, &s);

    if (rc)
        return rc;
    if (keel_uuid_parse(s, uuid))
        return fail(rd, n->off, KEEL_EINVAL, "\"%.40s\" is not a UUID", s);
    return 0;
}

static int
read_mac(struct keel__jrd *rd, const struct keel__jnode *n, uint8_t *mac)
{
    const char *s;
    int rc = get_str(rd, n, &s);

    if (rc)
        return rc;
    if (keel_mac_parse(s, mac))
        return fail(rd, n->off, KEEL_EINVAL, "\"%.40s\" is not a MAC address",
                    s);
    return 0;
}

/* An empty array gives an empty (not absent) list, so it writes back. */
static int
read_strv(struct keel__jrd *rd, const struct keel__jnode *n, char ***p)
{
    const struct keel__jnode *k;
    const char *s;
    size_t old;
    long i = 0;
    int rc = want(rd, n, KEEL__JT_ARR, "an array of strings");

    keel__strv_free(*p);
    if (!rc && !(*p = calloc(1, sizeof(**p))))
        rc = keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    for (k = n->kids; k && !rc; k = k->next, i++) {
        old = keel__jpath_push(&rd->path, NULL, i);
        rc = get_str(rd, k, &s);
        if (!rc && (rc = keel__strv_add(rd->ctx, p, s)))
            rc = prefix(rd, k->off, rc);
        keel__jpath_pop(&rd->path, old);
    }
    return rc;
}

static int read_obj(struct keel__jrd *rd, const struct keel__jtab *t,
                    const struct keel__jnode *n, void *base);

static int
read_field(struct keel__jrd *rd, const struct keel__jfield *f,
           const struct keel__jnode *n, void *base)
{
    if (n->type == KEEL__JT_NULL) /* what libxl's parser takes as "not given" */
        return 0;
    if ((f->flags & KEEL__JF_ONCE) && keel__jfield_is_set(f, base))
        return fail(rd, n->off, KEEL_EINVAL,
                    "conflicts with the value a libxl field gave");
    switch (f->kind) {
    case KEEL__JK_STR:
        return set_str(rd, n, KEEL__JAT(base, f, char *));
    case KEEL__JK_I64:
        return read_i64(rd, f, n, KEEL__JAT(base, f, int64_t));
    case KEEL__JK_DEFBOOL:
        return read_defbool(rd, n, KEEL__JAT(base, f, int));
    case KEEL__JK_BOOL:
        /* libxl writes a plain bool even at its default, false: that is
         * "not asked for", which the model says with unset. */
        if (n->type == KEEL__JT_BOOL)
            *KEEL__JAT(base, f, int) = n->b ? 1 : KEEL_UNSET;
        return want(rd, n, KEEL__JT_BOOL, "true or false");
    case KEEL__JK_ENUM:
        return read_enum(rd, f->aux, n, KEEL__JAT(base, f, int));
    case KEEL__JK_UUID:
        return read_uuid(rd, n, KEEL__JAT(base, f, uint8_t));
    case KEEL__JK_MAC:
        return read_mac(rd, n, KEEL__JAT(base, f, uint8_t));
    case KEEL__JK_STRV:
        return read_strv(rd, n, KEEL__JAT(base, f, char **));
    case KEEL__JK_OBJ:
        return read_obj(rd, f->aux, n, base);
    case KEEL__JK_SPECIAL:
        return f->read(rd, n, base);
    }
    return 0;
}

static bool
is_libxl_field(const struct keel__jtab *t, const struct keel__jnode *m)
{
    const char *const *l;
    size_t len;

    for (l = t->libxl; l && *l; l++) {
        len = strlen(*l);
        if ((*l)[len - 1] == '*' ? !strncmp(m->key, *l, len - 1)
                                 : !strcmp(m->key, *l))
            return true;
    }
    return false;
}

/* Matches member m to its field in hit[], or warns about it. */
static int
match_member(struct keel__jrd *rd, const struct keel__jtab *t,
             const struct keel__jnode *m, const struct keel__jnode **hit)
{
    size_t i, old = keel__jpath_push(&rd->path, m->key, 0);
    int rc = 0;

    for (i = 0; i < t->n; i++)
        if (strlen(t->fields[i].key) == m->key_len &&
            !memcmp(t->fields[i].key, m->key, m->key_len))
            break;
    if (i < t->n && hit[i])
        rc = fail(rd, m->key_off, KEEL_EINVAL, "duplicate field");
    else if (i < t->n)
        hit[i] = m;
    else if (!is_libxl_field(t, m))
        warn(rd, m->key_off, "unknown field, ignored");
    else if (m->type != KEEL__JT_NULL &&
             ((m->type != KEEL__JT_OBJ && m->type != KEEL__JT_ARR) || m->n > 0))
        /* an empty object or array is libxl's way of saying "default" */
        warn(rd, m->key_off, "not supported by keel, ignored");
    keel__jpath_pop(&rd->path, old);
    return rc;
}

static int
read_obj(struct keel__jrd *rd, const struct keel__jtab *t,
         const struct keel__jnode *n, void *base)
{
    const struct keel__jnode *hit[MAX_FIELDS] = {NULL}, *m;
    size_t i, old;
    int pass, rc = want(rd, n, KEEL__JT_OBJ, "an object");

    for (m = n->kids; m && !rc; m = m->next)
        rc = match_member(rd, t, m, hit);
    for (pass = 0; pass < 2 && !rc; pass++) {
        for (i = 0; i < t->n && !rc; i++) {
            const struct keel__jfield *f = &t->fields[i];

            if (!hit[i] || ((f->flags & KEEL__JF_FIRST) != 0) != (pass == 0))
                continue;
            old = keel__jpath_push(&rd->path, f->key, 0);
            rc = read_field(rd, f, hit[i], base);
            keel__jpath_pop(&rd->path, old);
        }
    }
    return rc;
}

/* Reads each element of array n with fn, its path "[i]". */
static int
read_each(struct keel__jrd *rd, const struct keel__jnode *n,
          int (*fn)(struct keel__jrd *rd, const struct keel__jnode *k, long i,
                    void *arg),
          void *arg)
{
    const struct keel__jnode *k;
    size_t old;
    long i = 0;
    int rc = want(rd, n, KEEL__JT_ARR, "an array");

    for (k = n->kids; k && !rc; k = k->next, i++) {
        old = keel__jpath_push(&rd->path, NULL, i);
        rc = fn(rd, k, i, arg);
        keel__jpath_pop(&rd->path, old);
    }
    return rc;
}

/* --- b_info: vCPUs, bitmaps and affinity ---------------------------- */

/* libxl's avail_vcpus is a bitmap; keel brings up vCPUs 0..n-1, so only
 * that shape of bitmap has a meaning here. */
int
keel__jread_vcpus(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    struct keel_domain_config *cfg = base;
    const struct keel__jnode *k;
    int64_t v, i = 0;
    size_t old;
    int rc = want(rd, n, KEEL__JT_ARR, "an array of vCPU numbers");

    for (k = n->kids; k && !rc; k = k->next, i++) {
        old = keel__jpath_push(&rd->path, NULL, (long)i);
        rc = get_i64(rd, k, 0, KEEL_MAX_CPUS - 1, &v);
        if (!rc && v != i)
            rc = fail(rd, k->off, KEEL_EINVAL,
                      "%lld where %lld was expected: online vCPUs must be "
                      "0..n-1",
                      (long long)v, (long long)i);
        keel__jpath_pop(&rd->path, old);
    }
    if (!rc && n->n)
        cfg->vcpus = (int64_t)n->n;
    return rc;
}

/* Reads a bitmap (increasing CPU numbers) as a range list; *spec_r stays
 * NULL for an empty one. */
static int
read_bitmap(struct keel__jrd *rd, const struct keel__jnode *n, char **spec_r)
{
    struct keel_cpumap map;
    const struct keel__jnode *k;
    int64_t v, prev = -1;
    size_t old, need;
    long i = 0;
    int rc = want(rd, n, KEEL__JT_ARR, "a bitmap (an array of CPU numbers)");

    *spec_r = NULL;
    keel_cpumap_zero(&map);
    for (k = n->kids; k && !rc; k = k->next, i++) {
        old = keel__jpath_push(&rd->path, NULL, i);
        rc = get_i64(rd, k, 0, KEEL_MAX_CPUS - 1, &v);
        if (!rc && v <= prev)
            rc = fail(rd, k->off, KEEL_EINVAL, "bitmap entries must increase");
        keel_cpumap_set(&map, (unsigned int)(prev = v));
        keel__jpath_pop(&rd->path, old);
    }
    if (rc || keel_cpumap_is_empty(&map))
        return rc;
    need = keel_cpumap_format(&map, NULL, 0) + 1;
    if (!(*spec_r = malloc(need)))
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    keel_cpumap_format(&map, *spec_r, need);
    return 0;
}

static int
add_spec(struct keel__jrd *rd, const struct keel__jnode *n,
         struct keel_affinity_config *aff, const char *spec, bool per_vcpu)
{
    int rc = keel__affinity_add(rd->ctx, aff, spec);

    aff->per_vcpu = per_vcpu;
    return rc ? prefix(rd, n->off, rc) : 0;
}

static int
aff_conflict(struct keel__jrd *rd, const struct keel__jnode *n,
             const struct keel_affinity_config *aff)
{
    if (!aff->count)
        return 0;
    return fail(rd, n->off, KEEL_EINVAL,
                "conflicts with the affinity another field gave");
}

int
keel__jread_cpumap(struct keel__jrd *rd, const struct keel__jnode *n,
                   void *base)
{
    struct keel_domain_config *cfg = base;
    char *spec = NULL;
    int rc = aff_conflict(rd, n, &cfg->cpus);

    if (!rc)
        rc = read_bitmap(rd, n, &spec);
    if (!rc && spec)
        rc = add_spec(rd, n, &cfg->cpus, spec, false);
    free(spec);
    return rc;
}

static int
read_vcpu_bitmap(struct keel__jrd *rd, const struct keel__jnode *k, long i,
                 void *arg)
{
    char *spec = NULL;
    int rc = read_bitmap(rd, k, &spec);

    if (!rc && !spec)
        rc = fail(rd, k->off, KEEL_EINVAL,
                  "an empty bitmap leaves the vCPU no CPU to run on");
    if (!rc)
        rc = add_spec(rd, k, arg, spec, true);
    free(spec);
    return rc;
}

int
keel__jread_hard(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    struct keel_domain_config *cfg = base;
    int rc = aff_conflict(rd, n, &cfg->cpus);

    return rc ? rc : read_each(rd, n, read_vcpu_bitmap, &cfg->cpus);
}

int
keel__jread_soft(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    struct keel_domain_config *cfg = base;
    int rc = aff_conflict(rd, n, &cfg->cpus_soft);

    return rc ? rc : read_each(rd, n, read_vcpu_bitmap, &cfg->cpus_soft);
}

/* --- b_info: the rest ----------------------------------------------- */

/* libxl keeps the offset in a uint32: a negative one wraps. */
int
keel__jread_rtc(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    struct keel_domain_config *cfg = base;
    int64_t v = 0;
    int rc = get_i64(rd, n, 0, UINT32_MAX, &v);

    if (!rc)
        cfg->rtc_timeoffset = v > INT32_MAX ? v - ((int64_t)1 << 32) : v;
    return rc;
}

/* "type.hvm", "type.pv" or "type.pvh": libxl's keyed union, which also
 * says the type when c_info does not. Read before b_info's other fields,
 * so that b_info.kernel wins over the deprecated type.pv.kernel. */
int
keel__jread_union(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    struct keel_domain_config *cfg = base;
    const struct keel__jname *e;
    int type = 0;

    for (e = keel__jnames_type; e->name; e++)
        if (!strcmp(n->key + strlen("type."), e->name))
            type = e->value;
    if (rd->union_node)
        return fail(rd, n->key_off, KEEL_EINVAL, "conflicts with b_info.%s",
                    rd->union_node->key);
    rd->union_node = n;
    if (cfg->type && (int)cfg->type != type)
        return fail(rd, n->key_off, KEEL_EINVAL,
                    "does not match c_info.type \"%s\"",
                    keel__jname_of(keel__jnames_type, cfg->type));
    cfg->type = type;
    return read_obj(rd, keel__jtab_union(type), n, base);
}

/* --- disks and nics ------------------------------------------------- */

static int
read_disk(struct keel__jrd *rd, const struct keel__jnode *k, long i, void *arg)
{
    struct keel_disk_config *disk;
    int rc = keel__config_add_disk(rd->ctx, rd->cfg, &disk);

    return rc ? prefix(rd, k->off, rc)
              : read_obj(rd, &keel__jtab_disk, k, disk);
}

int
keel__jread_disks(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    return read_each(rd, n, read_disk, NULL);
}

/* readwrite and is_cdrom are libxl integers used as booleans. */
static int
read_flag(struct keel__jrd *rd, const struct keel__jnode *n, int *v_r)
{
    int64_t v = 0;
    int rc = get_i64(rd, n, 0, 1, &v);

    if (!rc)
        *v_r = (int)v;
    return rc;
}

int
keel__jread_removable(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base)
{
    int v;

    return read_flag(rd, n,
                     &v); /* checked, not kept: see keel__jwrite_removable */
}

int
keel__jread_readwrite(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base)
{
    struct keel_disk_config *disk = base;
    int v, rc = read_flag(rd, n, &v);

    if (!rc)
        disk->access = v ? KEEL_DISK_ACCESS_RW : KEEL_DISK_ACCESS_RO;
    return rc;
}

int
keel__jread_cdrom(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    int v, rc = read_flag(rd, n, &v);

    if (!rc)
        ((struct keel_disk_config *)base)->cdrom = v;
    return rc;
}

int
keel__jread_rate_bpi(struct keel__jrd *rd, const struct keel__jnode *n,
                     void *base)
{
    rd->rate_bpi = n; /* read with rate_interval_usecs, by read_rate */
    return 0;
}

int
keel__jread_rate_us(struct keel__jrd *rd, const struct keel__jnode *n,
                    void *base)
{
    rd->rate_us = n;
    return 0;
}

/* Bytes per second from libxl's bytes per interval, rounded up. */
static int
read_bpi(struct keel__jrd *rd, const struct keel__jnode *n, int64_t usecs,
         int64_t *bps_r)
{
    unsigned __int128 bps;
    uint64_t mag;
    bool neg;
    int rc = get_int(rd, n, &neg, &mag);

    if (!rc && neg && mag)
        rc = fail(rd, n->off, KEEL_EINVAL, "%s is out of range", n->str);
    if (!rc && (bps = keel__jrate_per_sec(mag, usecs)) > INT64_MAX)
        rc = fail(rd, n->off, KEEL_EINVAL,
                  "%s bytes per %lld us is more than %lld bytes per second",
                  n->str, (long long)usecs, (long long)INT64_MAX);
    if (!rc)
        *bps_r = (int64_t)keel__jrate_per_sec(mag, usecs);
    return rc;
}

static int
read_rate(struct keel__jrd *rd, struct keel_vif_config *vif)
{
    const struct keel__jnode *bpi = rd->rate_bpi, *us = rd->rate_us;
    size_t old = keel__jpath_push(&rd->path, us ? us->key : bpi->key, 0);
    int64_t usecs = 0, bps = 0;
    int rc = 0;

    if (!bpi || !us)
        rc = fail(rd, (bpi ? bpi : us)->key_off, KEEL_EINVAL, "needs %s too",
                  bpi ? "rate_interval_usecs" : "rate_bytes_per_interval");
    if (!rc)
        rc = get_i64(rd, us, 1, KEEL__US_PER_S, &usecs);
    keel__jpath_pop(&rd->path, old);
    old = keel__jpath_push(&rd->path, "rate_bytes_per_interval", 0);
    if (!rc)
        rc = read_bpi(rd, bpi, usecs, &bps);
    keel__jpath_pop(&rd->path, old);
    if (!rc) {
        vif->rate_bytes_per_sec = bps;
        vif->rate_interval_us = usecs;
    }
    return rc;
}

static int
read_nic(struct keel__jrd *rd, const struct keel__jnode *k, long i, void *arg)
{
    struct keel_vif_config *vif;
    int rc = keel__config_add_vif(rd->ctx, rd->cfg, &vif);

    if (rc)
        return prefix(rd, k->off, rc);
    rd->rate_bpi = rd->rate_us = NULL;
    rc = read_obj(rd, &keel__jtab_nic, k, vif);
    if (!rc && (rd->rate_bpi || rd->rate_us))
        rc = read_rate(rd, vif);
    return rc;
}

int
keel__jread_nics(struct keel__jrd *rd, const struct keel__jnode *n, void *base)
{
    return read_each(rd, n, read_nic, NULL);
}

/* --- keel's extension ----------------------------------------------- */

static int
read_keel_aff(struct keel__jrd *rd, const struct keel__jnode *n,
              struct keel_affinity_config *aff)
{
    const struct keel__jnode *k;
    const char *s;
    size_t old;
    long i = 0;
    int rc = aff_conflict(rd, n, aff);

    if (!rc && n->type == KEEL__JT_STR && !(rc = get_str(rd, n, &s)))
        return add_spec(rd, n, aff, s, false);
    if (!rc && n->type != KEEL__JT_ARR)
        return fail(rd, n->off, KEEL_EINVAL,
                    "expected a string or an array of strings");
    for (k = n->kids; k && !rc; k = k->next, i++) {
        old = keel__jpath_push(&rd->path, NULL, i);
        if (!(rc = get_str(rd, k, &s)))
            rc = add_spec(rd, k, aff, s, true);
        keel__jpath_pop(&rd->path, old);
    }
    return rc;
}

int
keel__jread_keel_cpus(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base)
{
    return read_keel_aff(rd, n, &((struct keel_domain_config *)base)->cpus);
}

int
keel__jread_keel_cpus_soft(struct keel__jrd *rd, const struct keel__jnode *n,
                           void *base)
{
    return read_keel_aff(rd, n,
                         &((struct keel_domain_config *)base)->cpus_soft);
}

static int
read_keel_nic(struct keel__jrd *rd, const struct keel__jnode *k, long i,
              void *arg)
{
    return read_obj(rd, &keel__jtab_keel_nic, k, &rd->cfg->vifs[i]);
}

int
keel__jread_keel_nics(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base)
{
    if (n->type == KEEL__JT_ARR && n->n > rd->cfg->num_vifs)
        return fail(rd, n->off, KEEL_EINVAL, "%zu entries for %u nics", n->n,
                    rd->cfg->num_vifs);
    return read_each(rd, n, read_keel_nic, NULL);
}

/* The exact bytes per second, which must agree with libxl's rate. */
int
keel__jread_exact_rate(struct keel__jrd *rd, const struct keel__jnode *n,
                       void *base)
{
    struct keel_vif_config *vif = base;
    int64_t bps;
    int rc = get_i64(rd, n, 0, INT64_MAX, &bps);

    if (rc)
        return rc;
    if (vif->rate_bytes_per_sec == KEEL_UNSET)
        return fail(rd, n->off, KEEL_EINVAL,
                    "the nic has no rate_bytes_per_interval");
    if (keel__jrate_per_interval(bps, vif->rate_interval_us) !=
        keel__jrate_per_interval(vif->rate_bytes_per_sec,
                                 vif->rate_interval_us))
        return fail(rd, n->off, KEEL_EINVAL,
                    "does not match the nic's rate_bytes_per_interval");
    vif->rate_bytes_per_sec = bps;
    return 0;
}

/* --- entry points --------------------------------------------------- */

/* Parses the text into a tree, saying where it went wrong. */
static int
tree_parse(struct keel__jrd *rd, struct keel__jnode **root_r)
{
    struct keel__jtree_err err;
    int rc = keel__jtree_parse(rd->buf, rd->len, root_r, &err);

    if (rc && !err.placed)
        return keel_error(rd->ctx, rc, "out of memory");
    if (rc)
        return fail(rd, err.off, rc, "%s", err.what);
    return 0;
}

/* libxl's rate of 0 bytes per interval is its default, "no limit": the
 * model says that with an unset rate. (Done last, since keel.nics may
 * have given the exact rate of a nic whose bytes per interval round to
 * 0.) */
static void
drop_zero_rates(struct keel_domain_config *cfg)
{
    unsigned int i;

    for (i = 0; i < cfg->num_vifs; i++) {
        if (cfg->vifs[i].rate_bytes_per_sec != 0)
            continue;
        cfg->vifs[i].rate_bytes_per_sec = KEEL_UNSET;
        cfg->vifs[i].rate_interval_us = KEEL_UNSET;
    }
}

int
keel__cfgjson_read(struct keel_ctx *ctx, const char *file, const char *buf,
                   size_t len, struct keel_domain_config *cfg)
{
    struct keel__jrd rd = {.ctx = ctx,
                           .file = file ? file : "<stdin>",
                           .buf = buf,
                           .len = len,
                           .cfg = cfg,
                           .pos = {0, 1, 1}};
    struct keel__jnode *root = NULL;
    int rc = tree_parse(&rd, &root);

    if (!rc)
        rc = read_obj(&rd, &keel__jtab_top, root, cfg);
    if (!rc)
        drop_zero_rates(cfg);
    keel__jtree_free(root);
    return rc;
}
