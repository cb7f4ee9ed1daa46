/* xml-dev.c: libvirt XML <devices> and keel's metadata, read
 *
 * Disks and interfaces map onto the model as libvirt's libxl driver maps
 * them (libxlMakeDisk, libxlMakeNic in src/libxl/libxl_conf.c); the
 * metadata vocabulary has one entry per model field, as xml.c describes.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

/* --- metadata vocabulary ----------------------------------------------- */

#define DF(f, k)                                                               \
    {                                                                          \
#f, k, offsetof(struct keel_domain_config, f)                          \
    }
#define ON(f, e)                                                               \
    {                                                                          \
#f, M_ACTION, offsetof(struct keel_domain_config, on[e])               \
    }
const struct mfield keel__xml_dom_fields[] = {
    DF(name, M_STR),
    DF(type, M_TYPE),
    DF(pool, M_STR),
    DF(memory_kb, M_I64),
    DF(maxmem_kb, M_I64),
    DF(vcpus, M_I64),
    DF(maxvcpus, M_I64),
    DF(cpus, M_AFF),
    DF(cpus_soft, M_AFF),
    DF(cpu_weight, M_I64),
    DF(cap, M_I64),
    DF(rtds_period, M_I64),
    DF(rtds_budget, M_I64),
    DF(kernel, M_STR),
    DF(ramdisk, M_STR),
    DF(cmdline, M_STR),
    DF(root, M_STR),
    DF(extra, M_STR),
    DF(bootloader, M_STR),
    DF(bootloader_args, M_STRV),
    DF(firmware, M_STR),
    DF(boot, M_STR),
    ON(on_poweroff, KEEL_ON_POWEROFF),
    ON(on_reboot, KEEL_ON_REBOOT),
    ON(on_watchdog, KEEL_ON_WATCHDOG),
    ON(on_crash, KEEL_ON_CRASH),
    ON(on_soft_reset, KEEL_ON_SOFT_RESET),
    DF(nomigrate, M_TRI),
    DF(tsc_mode, M_TSC),
    DF(max_grant_frames, M_I64),
    DF(max_event_channels, M_I64),
    DF(localtime, M_TRI),
    DF(rtc_timeoffset, M_I64),
    DF(pae, M_TRI),
    DF(acpi, M_TRI),
    DF(apic, M_TRI),
    DF(hap, M_TRI),
    DF(viridian, M_TRI),
    DF(hpet, M_TRI),
};
#undef DF
#undef ON
const size_t keel__xml_n_dom_fields = ARRAY_SIZE(keel__xml_dom_fields);

#define KF(f, k)                                                               \
    {                                                                          \
#f, k, offsetof(struct keel_disk_config, f)                            \
    }
const struct mfield keel__xml_disk_fields[] = {
    KF(target, M_STR),          KF(format, M_FORMAT), KF(vdev, M_STR),
    KF(access, M_ACCESS),       KF(cdrom, M_BOOL),    KF(backend, M_STR),
    KF(backendtype, M_BACKEND), KF(script, M_STR),    KF(direct_io_safe, M_TRI),
    KF(discard, M_TRI),         KF(trusted, M_TRI),
};
#undef KF
const size_t keel__xml_n_disk_fields = ARRAY_SIZE(keel__xml_disk_fields);

#define VF(f, k)                                                               \
    {                                                                          \
#f, k, offsetof(struct keel_vif_config, f)                             \
    }
const struct mfield keel__xml_vif_fields[] = {
    VF(mac, M_MAC),
    VF(bridge, M_STR),
    VF(ip, M_STR),
    VF(model, M_STR),
    VF(type, M_VIFTYPE),
    VF(vifname, M_STR),
    VF(script, M_STR),
    VF(backend, M_STR),
    VF(gatewaydev, M_STR),
    VF(rate_bytes_per_sec, M_I64),
    VF(rate_interval_us, M_I64),
    VF(mtu, M_I64),
    VF(devid, M_I64),
};
#undef VF
const size_t keel__xml_n_vif_fields = ARRAY_SIZE(keel__xml_vif_fields);

static const char *const access_names[] = {NULL, "rw", "ro"};
static const char *const viftype_names[] = {NULL, "ioemu", "vif"};

/* Name of an enum-kind value, NULL when the value has none. */
const char *
keel__xml_enum_name(enum mkind kind, int v)
{
    switch (kind) {
    case M_ACTION:
        return keel_action_name(v);
    case M_TSC:
        return keel_tsc_mode_name(v);
    case M_TYPE:
        return keel_domain_type_name(v);
    case M_FORMAT:
        return keel_disk_format_name(v);
    case M_BACKEND:
        return keel_disk_backendtype_name(v);
    case M_ACCESS:
        return v > 0 && v < 3 ? access_names[v] : NULL;
    case M_VIFTYPE:
        return v > 0 && v < 3 ? viftype_names[v] : NULL;
    default:
        return NULL;
    }
}

static int
enum_parse(enum mkind kind, const char *s)
{
    int v;

    switch (kind) {
    case M_ACTION:
        return keel_action_parse(s);
    case M_TSC:
        return keel_tsc_mode_parse(s);
    case M_TYPE:
        return keel_domain_type_parse(s);
    case M_FORMAT:
        return keel_disk_format_parse(s);
    case M_BACKEND:
        return keel_disk_backendtype_parse(s);
    default:
        for (v = 1; v < 3; v++)
            if (streq(s, keel__xml_enum_name(kind, v)))
                return v;
        return KEEL_EINVAL;
    }
}

bool
keel__xml_mf_equal(const void *a, const void *b, const struct mfield *f)
{
    const char *sa, *sb;
    char *const *va, *const *vb;
    const struct keel_affinity_config *fa, *fb;
    unsigned int i;

    switch (f->kind) {
    case M_STR:
        sa = *CAT(a, f, char *);
        sb = *CAT(b, f, char *);
        return (!sa || !sb) ? sa == sb : !strcmp(sa, sb);
    case M_I64:
        return *CAT(a, f, int64_t) == *CAT(b, f, int64_t);
    case M_BOOL:
        return *CAT(a, f, bool) == *CAT(b, f, bool);
    case M_MAC:
        return !memcmp(CAT(a, f, uint8_t), CAT(b, f, uint8_t), 6);
    case M_AFF:
        fa = CAT(a, f, struct keel_affinity_config);
        fb = CAT(b, f, struct keel_affinity_config);
        if (fa->count != fb->count ||
            (fa->count && fa->per_vcpu != fb->per_vcpu))
            return false;
        for (i = 0; i < fa->count; i++)
            if (strcmp(fa->specs[i], fb->specs[i]))
                return false;
        return true;
    case M_STRV:
        va = *(char **const *)((const char *)a + (f)->off);
        vb = *(char **const *)((const char *)b + (f)->off);
        if (!va || !vb)
            return va == vb;
        for (i = 0; va[i] && vb[i]; i++)
            if (strcmp(va[i], vb[i]))
                return false;
        return !va[i] && !vb[i];
    default: /* tristates and enums */
        return *CAT(a, f, int) == *CAT(b, f, int);
    }
}

/* --- metadata: reading ---------------------------------------------------- */

static int
mf_unset(struct rd *rd, void *base, const struct mfield *f)
{
    switch (f->kind) {
    case M_STR:
        free(*AT(base, f, char *));
        *AT(base, f, char *) = NULL;
        break;
    case M_I64:
        *AT(base, f, int64_t) = KEEL_UNSET;
        break;
    case M_TRI:
        *AT(base, f, int) = KEEL_UNSET;
        break;
    case M_BOOL:
        *AT(base, f, bool) = false;
        break;
    case M_MAC:
        memset(AT(base, f, uint8_t), 0, 6);
        break;
    case M_AFF:
        keel__affinity_dispose(AT(base, f, struct keel_affinity_config));
        break;
    case M_STRV:
        keel__strv_free(*AT(base, f, char **));
        *AT(base, f, char **) = NULL;
        break;
    default:
        *AT(base, f, int) = 0;
    }
    (void)rd;
    return 0;
}

static int
mf_parse_aff(struct rd *rd, xmlNode *n, struct keel_affinity_config *aff)
{
    const char *pv = attr(n, "per-vcpu"), *s;
    xmlNode *c;
    int v = 0, rc;

    if ((rc = keel__xml_only_attrs(rd, n, "per-vcpu")) ||
        (pv && (rc = keel__xml_yesno(rd, n, "per-vcpu", pv, &v))))
        return rc;
    keel__affinity_dispose(aff);
    FOR_EACH_ELEM(c, n)
    {
        if (!is_keel(c, "spec"))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "")) ||
            (rc = keel__xml_text(rd, c, &s)))
            return rc;
        if ((rc = keel__affinity_add(rd->ctx, aff, s)))
            return keel__xml_wrap(rd, c, rc);
    }
    aff->per_vcpu = v;
    return 0;
}

static int
mf_parse_strv(struct rd *rd, xmlNode *n, char ***strv)
{
    const char *s;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    keel__strv_free(*strv);
    *strv = calloc(1, sizeof(**strv)); /* an empty list is not unset */
    if (!*strv)
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    FOR_EACH_ELEM(c, n)
    {
        if (!is_keel(c, "arg"))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "")) ||
            (rc = keel__xml_text(rd, c, &s)))
            return rc;
        if ((rc = keel__strv_add(rd->ctx, strv, s)))
            return keel__xml_wrap(rd, c, rc);
    }
    return 0;
}

/* Applies one <keel:FIELD> to base. */
static int
mf_parse(struct rd *rd, xmlNode *n, void *base, const struct mfield *f)
{
    const char *s;
    int v, rc;

    if (attr(n, "unset")) {
        if (!streq(attr(n, "unset"), "yes") || n->children)
            return keel__xml_err(rd, KEEL_EINVAL, n,
                                 "unset must be 'yes', alone");
        return mf_unset(rd, base, f);
    }
    if (f->kind == M_AFF)
        return mf_parse_aff(rd, n, AT(base, f, struct keel_affinity_config));
    if (f->kind == M_STRV)
        return mf_parse_strv(rd, n, AT(base, f, char **));
    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    switch (f->kind) {
    case M_STR:
        return keel__xml_set_str(rd, AT(base, f, char *), s);
    case M_I64:
        return keel__xml_snum(rd, n, "value", s, AT(base, f, int64_t));
    case M_TRI:
        return keel__xml_yesno(rd, n, "value", s, AT(base, f, int));
    case M_BOOL:
        if ((rc = keel__xml_yesno(rd, n, "value", s, &v)))
            return rc;
        *AT(base, f, bool) = v;
        return 0;
    case M_MAC:
        if (keel_mac_parse(s, AT(base, f, uint8_t)))
            return keel__xml_err(rd, KEEL_EINVAL, n,
                                 "'%s' is not a MAC address", s);
        return 0;
    default:
        if ((v = enum_parse(f->kind, s)) <= 0)
            return keel__xml_err(rd, KEEL_EINVAL, n, "unknown value '%s'", s);
        *AT(base, f, int) = v;
        return 0;
    }
}

static const struct mfield *
mf_find(const struct mfield *tab, size_t n, const xmlNode *node)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (is(node, tab[i].name))
            return &tab[i];
    return NULL;
}

/* <keel:disk index='N'> or <keel:vif index='N'>. */
static int
meta_device(struct rd *rd, xmlNode *n, void *arr, size_t size,
            unsigned int count, const struct mfield *tab, size_t ntab)
{
    const struct mfield *f;
    const char *idx = attr(n, "index");
    int64_t i;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "index")))
        return rc;
    if (!idx)
        return keel__xml_err(rd, KEEL_EINVAL, n, "index is missing");
    if ((rc = keel__xml_num(rd, n, "index", idx, INT_MAX, &i)))
        return rc;
    if (i >= count)
        return keel__xml_err(rd, KEEL_EINVAL, n, "index %lld: there are %u",
                             (long long)i, count);
    FOR_EACH_ELEM(c, n)
    {
        if (!is_keel(c, NULL) || !(f = mf_find(tab, ntab, c)))
            return keel__xml_unsupported(rd, c);
        if ((rc = mf_parse(rd, c, (char *)arr + (size_t)i * size, f)))
            return rc;
    }
    return 0;
}

int
keel__xml_meta_apply(struct rd *rd, xmlNode *conf)
{
    struct keel_domain_config *cfg = rd->cfg;
    const struct mfield *f;
    xmlNode *c;
    int rc = 0;

    FOR_EACH_ELEM(c, conf)
    {
        if (!is_keel(c, NULL))
            rc = keel__xml_unsupported(rd, c);
        else if (is(c, "disk"))
            rc = meta_device(rd, c, cfg->disks, sizeof(*cfg->disks),
                             cfg->num_disks, keel__xml_disk_fields,
                             keel__xml_n_disk_fields);
        else if (is(c, "vif"))
            rc =
                meta_device(rd, c, cfg->vifs, sizeof(*cfg->vifs), cfg->num_vifs,
                            keel__xml_vif_fields, keel__xml_n_vif_fields);
        else if ((f = mf_find(keel__xml_dom_fields, keel__xml_n_dom_fields, c)))
            rc = mf_parse(rd, c, cfg, f);
        else
            rc = keel__xml_unsupported(rd, c);
        if (rc)
            return rc;
    }
    return 0;
}

/* --- <devices> --------------------------------------------------------------
 */

/* Driver name to backend type, as libvirt's libxl driver maps it: tap
 * and tap2 mean qdisk for qcow, qcow2 and qed images. */
int
keel__xml_driver_backend(const char *name, int format)
{
    if (streq(name, "phy"))
        return KEEL_DISK_BACKEND_PHY;
    if (streq(name, "qemu") || streq(name, "file"))
        return KEEL_DISK_BACKEND_QDISK;
    if (!streq(name, "tap") && !streq(name, "tap2"))
        return KEEL_EINVAL;
    if (format == KEEL_DISK_FORMAT_QCOW || format == KEEL_DISK_FORMAT_QCOW2 ||
        format == KEEL_DISK_FORMAT_QED)
        return KEEL_DISK_BACKEND_QDISK;
    return KEEL_DISK_BACKEND_TAP;
}

static int
disk_driver(struct rd *rd, xmlNode *n, struct keel_disk_config *d)
{
    const char *name = attr(n, "name"), *type = attr(n, "type");
    const char *discard = attr(n, "discard");
    int v, rc;

    if ((rc = keel__xml_only_attrs(rd, n, "name type discard")))
        return rc;
    if (type && ((v = keel_disk_format_parse(type)) <= 0 ||
                 v == KEEL_DISK_FORMAT_EMPTY))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "disk format '%s' is not supported by keel", type);
    if (type)
        d->format = v;
    if (name && (v = keel__xml_driver_backend(name, d->format)) < 0)
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "disk driver '%s' is not supported by keel", name);
    if (name)
        d->backendtype = v;
    if (discard && !streq(discard, "unmap") && !streq(discard, "ignore"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "discard '%s' is not supported", discard);
    if (discard)
        d->discard = streq(discard, "unmap");
    return 0;
}

static int
disk_target(struct rd *rd, xmlNode *n, struct keel_disk_config *d)
{
    const char *dev = attr(n, "dev"), *bus = attr(n, "bus");
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "dev bus")))
        return rc;
    if (!dev || !*dev)
        return keel__xml_err(rd, KEEL_EINVAL, n, "dev is missing");
    /* the vdev names the bus already (xvd*, hd*, sd*) */
    if (bus && !streq(bus, "xen") && !streq(bus, "ide") &&
        !streq(bus, "scsi") && !streq(bus, "sata"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "bus '%s' is not supported by keel", bus);
    return keel__xml_set_str(rd, &d->vdev, dev);
}

static int
backenddomain(struct rd *rd, xmlNode *n, char **dst)
{
    const char *name = attr(n, "name");
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "name")))
        return rc;
    if (!name)
        return keel__xml_err(rd, KEEL_EINVAL, n, "name is missing");
    return keel__xml_set_str(rd, dst, name);
}

static int
disk_child(struct rd *rd, xmlNode *c, struct keel_disk_config *d, bool block,
           bool *ro, bool *src)
{
    const char *key = block ? "dev" : "file", *path;
    int rc;

    if (is(c, "driver"))
        return disk_driver(rd, c, d);
    if (is(c, "target"))
        return disk_target(rd, c, d);
    if (is(c, "backenddomain"))
        return backenddomain(rd, c, &d->backend);
    if (is(c, "address") || is(c, "alias"))
        return 0; /* where libvirt put it; keel's vdev says */
    if (is(c, "readonly")) {
        *ro = true;
        return keel__xml_only_attrs(rd, c, "");
    }
    if (!is(c, "source") || elem_next(c->children))
        return keel__xml_unsupported(rd, c);
    if ((rc = keel__xml_only_attrs(rd, c, key)))
        return rc;
    if (!(path = attr(c, key)))
        return 0; /* <source/>: no medium */
    *src = true;
    return keel__xml_set_str(rd, &d->target, path);
}

static int
dev_disk(struct rd *rd, xmlNode *n)
{
    const char *type = attr(n, "type"), *dev = attr(n, "device");
    bool ro = false, src = false;
    struct keel_disk_config *d;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "type device")))
        return rc;
    if (type && !streq(type, "file") && !streq(type, "block"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "disk type '%s' is not supported by keel", type);
    if (dev && !streq(dev, "disk") && !streq(dev, "cdrom"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "device '%s' is not supported by keel", dev);
    if ((rc = keel__config_add_disk(rd->ctx, rd->cfg, &d)))
        return keel__xml_wrap(rd, n, rc);
    d->cdrom = streq(dev, "cdrom");
    FOR_EACH_ELEM(c, n)
    if ((rc = disk_child(rd, c, d, streq(type, "block"), &ro, &src)))
        return rc;
    if (!d->vdev)
        return keel__xml_err(rd, KEEL_EINVAL, n, "<target dev=...> is missing");
    /* libvirt gives an empty cdrom the empty format, as libxl needs */
    if (!src && (rc = keel__xml_set_str(rd, &d->target, "")))
        return rc;
    if (!src && d->cdrom && !d->format)
        d->format = KEEL_DISK_FORMAT_EMPTY;
    if (ro)
        d->access = KEEL_DISK_ACCESS_RO;
    else if (!d->cdrom)
        d->access = KEEL_DISK_ACCESS_RW;
    return 0;
}

static int
vif_ip(struct rd *rd, xmlNode *n, struct keel_vif_config *v)
{
    const char *a = attr(n, "address");
    char *ip;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "address family")))
        return rc;
    if (!a || !*a)
        return keel__xml_err(rd, KEEL_EINVAL, n, "address is missing");
    ip = v->ip ? keel__sprintf(rd->ctx, "%s %s", v->ip, a)
               : keel__strdup(rd->ctx, a);
    if (!ip)
        return KEEL_ENOMEM;
    free(v->ip);
    v->ip = ip;
    return 0;
}

/* <bandwidth><outbound average='KB/s'/>: libvirt's kilobytes are 1024
 * bytes, over xl's default 50 ms interval. */
static int
vif_bandwidth(struct rd *rd, xmlNode *n, struct keel_vif_config *v)
{
    xmlNode *c;
    int64_t avg;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        if (!is(c, "outbound"))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "average")))
            return rc;
        if (!attr(c, "average"))
            return keel__xml_err(rd, KEEL_EINVAL, c, "average is missing");
        if ((rc = keel__xml_num(rd, c, "average", attr(c, "average"),
                                INT64_MAX / 1024, &avg)))
            return rc;
        if (!avg)
            return keel__xml_err(rd, KEEL_EINVAL, c, "average must be above 0");
        v->rate_bytes_per_sec = avg * 1024;
        v->rate_interval_us = RATE_INTERVAL_US;
    }
    return 0;
}

/* The child elements that carry one attribute into one string. */
static int
vif_simple(struct rd *rd, xmlNode *c, struct keel_vif_config *v, bool bridge)
{
    static const struct {
        const char *elem, *attr;
        size_t off;
    } tab[] = {
        {"source", "bridge", offsetof(struct keel_vif_config, bridge)},
        {"script", "path", offsetof(struct keel_vif_config, script)},
        {"target", "dev", offsetof(struct keel_vif_config, vifname)},
        {"backenddomain", "name", offsetof(struct keel_vif_config, backend)},
    };
    const char *s;
    size_t i;
    int rc;

    for (i = 0; i < ARRAY_SIZE(tab) && !is(c, tab[i].elem); i++)
        ;
    if (i == ARRAY_SIZE(tab) || (i == 0 && !bridge) || elem_next(c->children))
        return keel__xml_unsupported(rd, c);
    if ((rc = keel__xml_only_attrs(rd, c, tab[i].attr)))
        return rc;
    if (!(s = attr(c, tab[i].attr)))
        return keel__xml_err(rd, KEEL_EINVAL, c, "%s is missing", tab[i].attr);
    return keel__xml_set_str(rd, (char **)((char *)v + tab[i].off), s);
}

static int
vif_child(struct rd *rd, xmlNode *c, struct keel_vif_config *v, bool bridge)
{
    const char *s;
    int rc;

    if (is(c, "address") || is(c, "alias"))
        return 0;
    if (is(c, "ip"))
        return vif_ip(rd, c, v);
    if (is(c, "bandwidth"))
        return vif_bandwidth(rd, c, v);
    if (!is(c, "mac") && !is(c, "model") && !is(c, "mtu"))
        return vif_simple(rd, c, v, bridge);
    s = attr(c, is(c, "mac") ? "address" : is(c, "model") ? "type" : "size");
    if ((rc = keel__xml_only_attrs(rd, c,
                                   is(c, "mac")     ? "address"
                                   : is(c, "model") ? "type"
                                                    : "size")))
        return rc;
    if (!s)
        return keel__xml_err(rd, KEEL_EINVAL, c, "a value is missing");
    if (is(c, "mtu"))
        return keel__xml_num(rd, c, "size", s, INT64_MAX, &v->mtu);
    if (is(c, "mac") && keel_mac_parse(s, v->mac))
        return keel__xml_err(rd, KEEL_EINVAL, c, "'%s' is not a MAC address",
                             s);
    if (is(c, "mac"))
        return 0;
    /* netfront is libvirt's word for xl's PV-only type=vif */
    if (streq(s, "netfront"))
        v->type = KEEL_VIF_TYPE_VIF;
    return streq(s, "netfront") ? 0 : keel__xml_set_str(rd, &v->model, s);
}

static int
dev_interface(struct rd *rd, xmlNode *n)
{
    const char *type = attr(n, "type");
    struct keel_vif_config *v;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "type")))
        return rc;
    if (!streq(type, "bridge") && !streq(type, "ethernet"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "interface type '%s' is not supported by keel",
                             type ? type : "");
    if ((rc = keel__config_add_vif(rd->ctx, rd->cfg, &v)))
        return keel__xml_wrap(rd, n, rc);
    FOR_EACH_ELEM(c, n)
    if ((rc = vif_child(rd, c, v, streq(type, "bridge"))))
        return rc;
    if (streq(type, "bridge") && !v->bridge)
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "<source bridge=...> is missing");
    return 0;
}

static int
dev_controller(struct rd *rd, xmlNode *n)
{
    const char *type = attr(n, "type"), *gf, *ec;
    int rc;

    /* libvirt adds an IDE controller for IDE disks by itself */
    if (streq(type, "ide") && !elem_next(n->children))
        return keel__xml_only_attrs(rd, n, "type index");
    if (!streq(type, "xenbus") || elem_next(n->children))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "controller type '%s' is not supported by keel",
                             type ? type : "");
    if ((rc = keel__xml_only_attrs(rd, n,
                                   "type index maxGrantFrames "
                                   "maxEventChannels")))
        return rc;
    if ((gf = attr(n, "maxGrantFrames")) &&
        (rc = keel__xml_num(rd, n, "maxGrantFrames", gf, INT64_MAX,
                            &rd->cfg->max_grant_frames)))
        return rc;
    if ((ec = attr(n, "maxEventChannels")) &&
        (rc = keel__xml_num(rd, n, "maxEventChannels", ec, INT64_MAX,
                            &rd->cfg->max_event_channels)))
        return rc;
    return 0;
}

/* The PV console always exists: a pty console or serial port 0 on a PV
 * or PVH guest says nothing new. On HVM a serial port is an emulated
 * device keel does not model. */
static int
dev_console(struct rd *rd, xmlNode *n)
{
    const char *tt, *port;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "type tty")))
        return rc;
    if (rd->cfg->type == KEEL_DOMAIN_HVM || !streq(attr(n, "type"), "pty"))
        return keel__xml_unsupported(rd, n);
    FOR_EACH_ELEM(c, n)
    {
        if (is(c, "source") || is(c, "alias"))
            continue; /* the pty of a running guest */
        if (!is(c, "target"))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "type port")))
            return rc;
        tt = attr(c, "type");
        port = attr(c, "port");
        if ((tt && !streq(tt, "xen") && !streq(tt, "serial")) ||
            (port && !streq(port, "0")))
            return keel__xml_unsupported(rd, c);
    }
    return 0;
}

static int
dev_misc(struct rd *rd, xmlNode *n)
{
    const char *type = attr(n, "type"), *bus = attr(n, "bus");
    int rc;

    if (is(n, "emulator"))
        return 0; /* libxl picks its device model */
    if (is(n, "console") || is(n, "serial"))
        return dev_console(rd, n);
    if (is(n, "input")) {
        if ((rc = keel__xml_only_attrs(rd, n, "type bus")))
            return rc;
        if ((streq(type, "mouse") || streq(type, "keyboard")) &&
            (streq(bus, "xen") || streq(bus, "ps2")))
            return 0;
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "input '%s' on bus '%s' is not supported by keel",
                             type ? type : "", bus ? bus : "");
    }
    if (is(n, "memballoon") && streq(attr(n, "model"), "xen"))
        return keel__xml_only_attrs(rd, n, "model");
    return keel__xml_unsupported(rd, n);
}

int
keel__xml_devices(struct rd *rd, xmlNode *n)
{
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        if (is(c, "disk"))
            rc = dev_disk(rd, c);
        else if (is(c, "interface"))
            rc = dev_interface(rd, c);
        else if (is(c, "controller"))
            rc = dev_controller(rd, c);
        else
            rc = dev_misc(rd, c);
        if (rc)
            return rc;
    }
    return 0;
}
