/* xml-write.c: libvirt XML writer
 *
 * Writes what libvirt would, reads it back with keel__xml_read, and puts
 * every field that did not survive into keel's metadata (see xml.c).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

/* --- writer: text ----------------------------------------------------------
 */

/* Escapes n bytes of s for text (attr false) or a single-quoted
 * attribute; \r, and in attributes \t and \n, as references so the
 * parser keeps them. */
static void
escn(struct keel__buf *b, const char *s, size_t n, bool in_attr)
{
    const char *run = s, *end = s + n;

    for (; s < end; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\'':
            rep = in_attr ? "&apos;" : NULL;
            break;
        case '\t':
            rep = in_attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = in_attr ? "&#10;" : NULL;
            break;
        }
        if (!rep)
            continue;
        keel__buf_addn(b, run, (size_t)(s - run));
        keel__buf_add(b, rep);
        run = s + 1;
    }
    keel__buf_addn(b, run, (size_t)(end - run));
}

static void
esc(struct keel__buf *b, const char *s, bool in_attr)
{
    escn(b, s, strlen(s), in_attr);
}

/* "  <tag>escaped text</tag>\n" at depth. */
static void
w_elem(struct keel__buf *b, int depth, const char *tag, const char *s)
{
    keel__buf_printf(b, "%*s<%s>", depth * 2, "", tag);
    esc(b, s, false);
    keel__buf_printf(b, "</%s>\n", tag);
}

/* " name='escaped'" */
static void
w_attr(struct keel__buf *b, const char *name, const char *s)
{
    keel__buf_printf(b, " %s='", name);
    esc(b, s, true);
    keel__buf_add(b, "'");
}

/* XML 1.0 can carry only these characters, in valid UTF-8. */
static bool
xml_chars_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    uint32_t c;
    int n, i;

    while (*s) {
        if (*s < 0x80) {
            if (*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
                return false;
            s++;
            continue;
        }
        n = *s >= 0xf0 ? 3 : *s >= 0xe0 ? 2 : *s >= 0xc2 ? 1 : -1;
        if (n < 0 || *s > 0xf4)
            return false;
        c = *s++ & (0x3f >> n);
        for (i = 0; i < n; i++, s++) {
            if ((*s & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (*s & 0x3f);
        }
        if ((n == 2 && c < 0x800) ||
            (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
            return false;
    }
    return true;
}

static int
check_strings(struct keel_ctx *ctx, const void *base, const struct mfield *tab,
              size_t n, const char *where)
{
    char *const *v;
    const char *s;
    size_t i, j;
    bool ok;

    for (i = 0; i < n; i++) {
        ok = true;
        if (tab[i].kind == M_STR && (s = *CAT(base, &tab[i], char *)))
            ok = xml_chars_ok(s);
        v = tab[i].kind == M_STRV
                ? *(char **const *)((const char *)base + tab[i].off)
                : NULL;
        for (j = 0; v && v[j] && ok; j++)
            ok = xml_chars_ok(v[j]);
        if (!ok)
            return keel_error(ctx, KEEL_EINVAL,
                              "%s%s: control characters or invalid UTF-8 "
                              "cannot be written as XML",
                              where, tab[i].name);
    }
    return 0;
}

static int
w_check(struct keel_ctx *ctx, const struct keel_domain_config *cfg)
{
    unsigned int i;
    int rc;

    if (!cfg->name || !*cfg->name)
        return keel_error(ctx, KEEL_EINVAL,
                          "name: libvirt XML needs a domain name");
    char where[32];

    if ((rc = check_strings(ctx, cfg, keel__xml_dom_fields,
                            keel__xml_n_dom_fields, "")))
        return rc;
    for (i = 0; i < cfg->num_disks; i++) {
        if (!cfg->disks[i].vdev || !*cfg->disks[i].vdev)
            return keel_error(ctx, KEEL_EINVAL,
                              "disk %u: libvirt XML needs a vdev", i);
        snprintf(where, sizeof(where), "disk %u: ", i);
        if ((rc = check_strings(ctx, &cfg->disks[i], keel__xml_disk_fields,
                                keel__xml_n_disk_fields, where)))
            return rc;
    }
    for (i = 0; i < cfg->num_vifs; i++) {
        snprintf(where, sizeof(where), "vif %u: ", i);
        if ((rc = check_strings(ctx, &cfg->vifs[i], keel__xml_vif_fields,
                                keel__xml_n_vif_fields, where)))
            return rc;
    }
    return 0;
}

/* --- writer: the libvirt part ------------------------------------------ */

/* A spec libvirt's cpuset syntax shares with xl: CPUs, ranges, ^. */
static bool
cpuset_ok(const char *spec)
{
    return *spec && spec[strspn(spec, "0123456789,-^")] == '\0';
}

static void
w_vcpu(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    const struct keel_affinity_config *a = &cfg->cpus;
    int64_t count = cfg->maxvcpus >= 1 ? cfg->maxvcpus : cfg->vcpus;
    unsigned int i;
    bool pins = a->count && a->per_vcpu && (int64_t)a->count <= count;

    if (count < 1 || count > INT_MAX)
        return; /* no form; the metadata carries it */
    keel__buf_add(b, "  <vcpu placement='static'");
    if (a->count == 1 && !a->per_vcpu && cpuset_ok(a->specs[0]))
        keel__buf_printf(b, " cpuset='%s'", a->specs[0]);
    if (cfg->maxvcpus >= 1 && cfg->vcpus >= 1 && cfg->vcpus <= count)
        keel__buf_printf(b, " current='%lld'", (long long)cfg->vcpus);
    keel__buf_printf(b, ">%lld</vcpu>\n", (long long)count);
    /* an unpinned vCPU reads back as "all", but the last must be there */
    for (i = 0; pins && i < a->count; i++)
        pins = cpuset_ok(a->specs[i]) ||
               (streq(a->specs[i], "all") && i + 1 < a->count);
    if (!pins && cfg->cpu_weight < 0)
        return;
    keel__buf_add(b, "  <cputune>\n");
    if (cfg->cpu_weight >= 0)
        keel__buf_printf(b, "    <shares>%lld</shares>\n",
                         (long long)cfg->cpu_weight);
    for (i = 0; pins && i < a->count; i++)
        if (!streq(a->specs[i], "all"))
            keel__buf_printf(b, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", i,
                             a->specs[i]);
    keel__buf_add(b, "  </cputune>\n");
}

static void
w_head(struct keel__buf *b, const struct keel_domain_config *cfg,
       const char *meta)
{
    char uuid[37];

    keel__buf_add(b, "<domain type='xen'>\n");
    w_elem(b, 1, "name", cfg->name);
    if (keel__uuid_is_set(cfg->uuid)) {
        keel_uuid_format(cfg->uuid, uuid);
        keel__buf_printf(b, "  <uuid>%s</uuid>\n", uuid);
    }
    if (meta)
        keel__buf_printf(b,
                         "  <metadata>\n    <keel:config xmlns:keel='%s'>\n"
                         "%s    </keel:config>\n  </metadata>\n",
                         KEEL_XMLNS, meta);
    if (cfg->maxmem_kb >= 0 || cfg->memory_kb >= 0)
        keel__buf_printf(
            b, "  <memory unit='KiB'>%lld</memory>\n",
            (long long)(cfg->maxmem_kb >= 0 ? cfg->maxmem_kb : cfg->memory_kb));
    if (cfg->maxmem_kb >= 0 && cfg->memory_kb >= 0)
        keel__buf_printf(b,
                         "  <currentMemory unit='KiB'>%lld</currentMemory>\n",
                         (long long)cfg->memory_kb);
    w_vcpu(b, cfg);
    if (cfg->bootloader)
        w_elem(b, 1, "bootloader", cfg->bootloader);
}

/* Joined with spaces when splitting gives the same words back. */
static void
w_bootloader_args(struct keel__buf *b, char *const *args)
{
    size_t i;

    for (i = 0; args && args[i]; i++)
        if (!*args[i] || strpbrk(args[i], WHITESPACE))
            return;
    if (!args || !args[0])
        return;
    keel__buf_add(b, "  <bootloader_args>");
    for (i = 0; args[i]; i++) {
        keel__buf_add(b, i ? " " : "");
        esc(b, args[i], false);
    }
    keel__buf_add(b, "</bootloader_args>\n");
}

static void
w_os(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    static const char *const devs[] = {"hd", "cdrom", "network", "fd"};
    static const char letters[] = "cdna";
    bool hvm = cfg->type == KEEL_DOMAIN_HVM;
    const char *fw = hvm ? cfg->firmware : NULL, *bt = cfg->boot;
    size_t i, l = bt ? strlen(bt) : 0;

    keel__buf_printf(b, "  <os%s>\n",
                     streq(fw, "uefi")   ? " firmware='efi'"
                     : streq(fw, "bios") ? " firmware='bios'"
                                         : "");
    keel__buf_printf(b, "    <type arch='x86_64' machine='%s'>%s</type>\n",
                     hvm                            ? "xenfv"
                     : cfg->type == KEEL_DOMAIN_PVH ? "xenpvh"
                                                    : "xenpv",
                     hvm                            ? "hvm"
                     : cfg->type == KEEL_DOMAIN_PVH ? "xenpvh"
                                                    : "xen");
    if (fw && fw[0] == '/') {
        keel__buf_add(b, "    <loader type='rom'>");
        esc(b, fw, false);
        keel__buf_add(b, "</loader>\n");
    }
    if (cfg->kernel)
        w_elem(b, 2, "kernel", cfg->kernel);
    if (cfg->ramdisk)
        w_elem(b, 2, "initrd", cfg->ramdisk);
    if (cfg->cmdline)
        w_elem(b, 2, "cmdline", cfg->cmdline);
    /* each letter once, all with a form, or the metadata says it */
    for (i = 0; hvm && i < l && l <= 4; i++)
        if (!strchr(letters, bt[i]) || strchr(bt + i + 1, bt[i]))
            l = 0;
    for (i = 0; hvm && i < l && l <= 4; i++)
        keel__buf_printf(b, "    <boot dev='%s'/>\n",
                         devs[strchr(letters, bt[i]) - letters]);
    keel__buf_add(b, "  </os>\n");
}

static void
w_features(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    const char *const names[] = {"pae", "acpi", "apic", "viridian"};
    const int vals[] = {cfg->pae, cfg->acpi, cfg->apic, cfg->viridian};
    size_t i;
    bool any = cfg->hap == 0 || cfg->hap == 1;

    for (i = 0; i < ARRAY_SIZE(vals); i++)
        any |= vals[i] == 1;
    if (!any)
        return;
    keel__buf_add(b, "  <features>\n");
    for (i = 0; i < ARRAY_SIZE(vals); i++)
        if (vals[i] == 1)
            keel__buf_printf(b, "    <%s/>\n", names[i]);
    if (cfg->hap == 1)
        keel__buf_add(b, "    <hap/>\n");
    else if (cfg->hap == 0)
        keel__buf_add(b, "    <hap state='off'/>\n");
    keel__buf_add(b, "  </features>\n");
}

static void
w_clock(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    static const char *const modes[] = {NULL, "auto", "emulate", "native",
                                        "paravirt"};
    bool lt = cfg->localtime == 0 || cfg->localtime == 1;
    bool hpet = cfg->hpet == 0 || cfg->hpet == 1;
    bool tsc = cfg->tsc_mode > 0 && cfg->tsc_mode < ARRAY_SIZE(modes);

    if (!lt && !hpet && !tsc && cfg->rtc_timeoffset == KEEL_UNSET)
        return;
    keel__buf_add(b, "  <clock");
    if (cfg->rtc_timeoffset != KEEL_UNSET) {
        keel__buf_printf(b, " offset='variable' adjustment='%lld'",
                         (long long)cfg->rtc_timeoffset);
        if (lt)
            keel__buf_printf(b, " basis='%s'",
                             cfg->localtime ? "localtime" : "utc");
    } else if (lt) {
        keel__buf_printf(b, " offset='%s'",
                         cfg->localtime ? "localtime" : "utc");
    }
    if (!hpet && !tsc) {
        keel__buf_add(b, "/>\n");
        return;
    }
    keel__buf_add(b, ">\n");
    if (hpet)
        keel__buf_printf(b, "    <timer name='hpet' present='%s'/>\n",
                         cfg->hpet ? "yes" : "no");
    if (tsc)
        keel__buf_printf(b, "    <timer name='tsc' mode='%s'/>\n",
                         modes[cfg->tsc_mode]);
    keel__buf_add(b, "  </clock>\n");
}

static void
w_on(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    static const enum keel_event evs[] = {KEEL_ON_POWEROFF, KEEL_ON_REBOOT,
                                          KEEL_ON_CRASH};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(evs); i++)
        if (keel__xml_action_in_xml(evs[i], cfg->on[evs[i]]))
            keel__buf_printf(b, "  <%s>%s</%s>\n", keel_event_name(evs[i]),
                             keel_action_name(cfg->on[evs[i]]),
                             keel_event_name(evs[i]));
}

/* The driver name that reads back as this backend type, or NULL. */
static const char *
w_driver_name(const struct keel_disk_config *d)
{
    static const char *const names[] = {"phy", "qemu", "tap"};
    size_t i;

    for (i = 0; d->backendtype && i < ARRAY_SIZE(names); i++)
        if (keel__xml_driver_backend(names[i], d->format) ==
            (int)d->backendtype)
            return names[i];
    return NULL;
}

static void
w_disk(struct keel__buf *b, const struct keel_disk_config *d)
{
    const char *name = w_driver_name(d), *fmt = NULL, *vd = d->vdev;
    bool block = d->target && !strncmp(d->target, "/dev/", 5);

    if (d->format != KEEL_DISK_FORMAT_EMPTY)
        fmt = keel_disk_format_name(d->format);
    keel__buf_printf(b, "    <disk type='%s' device='%s'>\n",
                     block ? "block" : "file", d->cdrom ? "cdrom" : "disk");
    if (name || fmt || d->discard == 0 || d->discard == 1) {
        keel__buf_add(b, "      <driver");
        if (name)
            w_attr(b, "name", name);
        if (fmt)
            w_attr(b, "type", fmt);
        if (d->discard == 0 || d->discard == 1)
            w_attr(b, "discard", d->discard ? "unmap" : "ignore");
        keel__buf_add(b, "/>\n");
    }
    if (d->target && *d->target) {
        keel__buf_add(b, "      <source");
        w_attr(b, block ? "dev" : "file", d->target);
        keel__buf_add(b, "/>\n");
    }
    if (d->backend) {
        keel__buf_add(b, "      <backenddomain");
        w_attr(b, "name", d->backend);
        keel__buf_add(b, "/>\n");
    }
    keel__buf_add(b, "      <target");
    w_attr(b, "dev", vd);
    if (!strncmp(vd, "xvd", 3) || !strncmp(vd, "hd", 2) ||
        !strncmp(vd, "sd", 2))
        w_attr(b, "bus", vd[0] == 'x' ? "xen" : vd[0] == 'h' ? "ide" : "scsi");
    keel__buf_add(b, "/>\n");
    if (d->access == KEEL_DISK_ACCESS_RO)
        keel__buf_add(b, "      <readonly/>\n");
    keel__buf_add(b, "    </disk>\n");
}

/* <elem attr='s'/> at depth 3 when s is set. */
static void
w_leaf(struct keel__buf *b, const char *elem, const char *name, const char *s)
{
    if (!s)
        return;
    keel__buf_printf(b, "      <%s", elem);
    w_attr(b, name, s);
    keel__buf_add(b, "/>\n");
}

/* One <ip> per address when splitting on spaces loses nothing. */
static void
w_ips(struct keel__buf *b, const char *ip)
{
    const char *p, *sp;

    if (!ip || !*ip || ip[0] == ' ' || strstr(ip, "  ") ||
        ip[strlen(ip) - 1] == ' ')
        return;
    for (p = ip; p; p = sp ? sp + 1 : NULL) {
        sp = strchr(p, ' ');
        keel__buf_add(b, "      <ip address='");
        escn(b, p, sp ? (size_t)(sp - p) : strlen(p), true);
        keel__buf_add(b, "'/>\n");
    }
}

static void
w_vif(struct keel__buf *b, const struct keel_vif_config *v)
{
    char mac[18];

    keel__buf_printf(b, "    <interface type='%s'>\n",
                     v->bridge ? "bridge" : "ethernet");
    if (keel__mac_is_set(v->mac)) {
        keel_mac_format(v->mac, mac);
        keel__buf_printf(b, "      <mac address='%s'/>\n", mac);
    }
    w_leaf(b, "source", "bridge", v->bridge);
    w_ips(b, v->ip);
    w_leaf(b, "script", "path", v->script);
    w_leaf(b, "target", "dev", v->vifname);
    if (v->model && !streq(v->model, "netfront"))
        w_leaf(b, "model", "type", v->model);
    else if (!v->model && v->type == KEEL_VIF_TYPE_VIF)
        w_leaf(b, "model", "type", "netfront");
    w_leaf(b, "backenddomain", "name", v->backend);
    if (v->rate_bytes_per_sec > 0 && v->rate_bytes_per_sec % 1024 == 0 &&
        v->rate_interval_us == RATE_INTERVAL_US)
        keel__buf_printf(b,
                         "      <bandwidth>\n        <outbound "
                         "average='%lld'/>\n      </bandwidth>\n",
                         (long long)(v->rate_bytes_per_sec / 1024));
    if (v->mtu >= 0)
        keel__buf_printf(b, "      <mtu size='%lld'/>\n", (long long)v->mtu);
    keel__buf_add(b, "    </interface>\n");
}

static void
w_devices(struct keel__buf *b, const struct keel_domain_config *cfg)
{
    unsigned int i;
    bool bus = cfg->max_grant_frames >= 0 || cfg->max_event_channels >= 0;

    if (!cfg->num_disks && !cfg->num_vifs && !bus)
        return;
    keel__buf_add(b, "  <devices>\n");
    for (i = 0; i < cfg->num_disks; i++)
        w_disk(b, &cfg->disks[i]);
    if (bus) {
        keel__buf_add(b, "    <controller type='xenbus' index='0'");
        if (cfg->max_grant_frames >= 0)
            keel__buf_printf(b, " maxGrantFrames='%lld'",
                             (long long)cfg->max_grant_frames);
        if (cfg->max_event_channels >= 0)
            keel__buf_printf(b, " maxEventChannels='%lld'",
                             (long long)cfg->max_event_channels);
        keel__buf_add(b, "/>\n");
    }
    for (i = 0; i < cfg->num_vifs; i++)
        w_vif(b, &cfg->vifs[i]);
    keel__buf_add(b, "  </devices>\n");
}

static int
w_body(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
       const char *meta, char **text_r)
{
    struct keel__buf b = {0};

    w_head(&b, cfg, meta);
    w_bootloader_args(&b, cfg->bootloader_args);
    w_os(&b, cfg);
    w_features(&b, cfg);
    w_clock(&b, cfg);
    w_on(&b, cfg);
    w_devices(&b, cfg);
    keel__buf_add(&b, "</domain>\n");
    return keel__buf_finish(ctx, &b, text_r);
}

/* --- writer: keel's metadata ---------------------------------------------- */

/* The children of a list field: affinity specs or bootloader args.
 * Returns false when the list is unset. */
static bool
mf_emit_list(struct keel__buf *b, const void *base, const struct mfield *f,
             int depth)
{
    const struct keel_affinity_config *a;
    char *const *v;
    unsigned int i;

    if (f->kind == M_AFF) {
        a = CAT(base, f, struct keel_affinity_config);
        if (!a->count)
            return false;
        keel__buf_printf(b, " per-vcpu='%s'>\n", a->per_vcpu ? "yes" : "no");
        for (i = 0; i < a->count; i++)
            w_elem(b, depth + 1, "keel:spec", a->specs[i]);
    } else {
        if (!(v = *(char **const *)((const char *)base + f->off)))
            return false;
        keel__buf_add(b, ">\n");
        for (i = 0; v[i]; i++)
            w_elem(b, depth + 1, "keel:arg", v[i]);
    }
    keel__buf_printf(b, "%*s</keel:%s>\n", depth * 2, "", f->name);
    return true;
}

/* <keel:NAME>value</keel:NAME>, or unset='yes' for an unset field. */
static int
mf_emit(struct keel_ctx *ctx, struct keel__buf *b, const void *base,
        const struct mfield *f, int depth)
{
    char tmp[32];
    const char *s = NULL;
    int iv;

    keel__buf_printf(b, "%*s<keel:%s", depth * 2, "", f->name);
    switch (f->kind) {
    case M_STR:
        s = *CAT(base, f, char *);
        break;
    case M_I64:
        snprintf(tmp, sizeof(tmp), "%lld", (long long)*CAT(base, f, int64_t));
        s = *CAT(base, f, int64_t) != KEEL_UNSET ? tmp : NULL;
        break;
    case M_MAC:
        keel_mac_format(CAT(base, f, uint8_t), tmp);
        s = keel__mac_is_set(CAT(base, f, uint8_t)) ? tmp : NULL;
        break;
    case M_BOOL:
        s = *CAT(base, f, bool) ? "yes" : "no";
        break;
    case M_TRI:
        iv = *CAT(base, f, int);
        if (iv != KEEL_UNSET && iv != 0 && iv != 1)
            return keel_error(ctx, KEEL_EINVAL, "%s: %d is not a tristate",
                              f->name, iv);
        s = iv == KEEL_UNSET ? NULL : iv ? "yes" : "no";
        break;
    case M_AFF:
    case M_STRV:
        if (mf_emit_list(b, base, f, depth))
            return 0;
        break;
    default:
        iv = *CAT(base, f, int);
        if (iv && !(s = keel__xml_enum_name(f->kind, iv)))
            return keel_error(ctx, KEEL_EINVAL, "%s: no value %d", f->name, iv);
    }
    if (!s) {
        keel__buf_add(b, " unset='yes'/>\n");
        return 0;
    }
    keel__buf_add(b, ">");
    esc(b, s, false);
    keel__buf_printf(b, "</keel:%s>\n", f->name);
    return 0;
}

/* Emits each field of tab where want and got differ. */
static int
w_diff(struct keel_ctx *ctx, struct keel__buf *b, const void *want,
       const void *got, const struct mfield *tab, size_t n, int depth,
       const char *dev, unsigned int idx)
{
    bool open = false;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        if (keel__xml_mf_equal(want, got, &tab[i]))
            continue;
        if (dev && !open)
            keel__buf_printf(b, "      <keel:%s index='%u'>\n", dev, idx);
        open = true;
        if ((rc = mf_emit(ctx, b, want, &tab[i], depth)))
            return rc;
    }
    if (dev && open)
        keel__buf_printf(b, "      </keel:%s>\n", dev);
    return 0;
}

static int
w_meta(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
       const struct keel_domain_config *back, char **meta_r)
{
    struct keel__buf b = {0};
    unsigned int i;
    int rc;

    if (back->num_disks != cfg->num_disks || back->num_vifs != cfg->num_vifs)
        return keel_error(ctx, KEEL_EINVAL, "XML writer lost a device");
    rc = w_diff(ctx, &b, cfg, back, keel__xml_dom_fields,
                keel__xml_n_dom_fields, 3, NULL, 0);
    for (i = 0; !rc && i < cfg->num_disks; i++)
        rc = w_diff(ctx, &b, &cfg->disks[i], &back->disks[i],
                    keel__xml_disk_fields, keel__xml_n_disk_fields, 4, "disk",
                    i);
    for (i = 0; !rc && i < cfg->num_vifs; i++)
        rc = w_diff(ctx, &b, &cfg->vifs[i], &back->vifs[i],
                    keel__xml_vif_fields, keel__xml_n_vif_fields, 4, "vif", i);
    if (rc || !b.len) {
        keel__buf_dispose(&b);
        return rc;
    }
    return keel__buf_finish(ctx, &b, meta_r);
}

/* Writes the libvirt form, reads it back, and adds keel's metadata for
 * whatever did not survive, so reading the result gives cfg exactly. */
int
keel__cfgxml_write(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
                   char **text_r)
{
    struct keel_domain_config back;
    char *body = NULL, *meta = NULL;
    int rc;

    *text_r = NULL;
    keel_domain_config_init(&back);
    if ((rc = w_check(ctx, cfg)) || (rc = w_body(ctx, cfg, NULL, &body)))
        goto out;
    if ((rc = keel__xml_read(ctx, "<xml writer>", body, strlen(body), false,
                             &back)))
        goto out;
    if ((rc = w_meta(ctx, cfg, &back, &meta)))
        goto out;
    if (!meta) {
        *text_r = body;
        body = NULL;
    } else {
        rc = w_body(ctx, cfg, meta, text_r);
    }
out:
    free(body);
    free(meta);
    keel_domain_config_dispose(&back);
    return rc;
}
