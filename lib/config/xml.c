/* xml.c: libvirt domain XML (<domain type='xen'>) reader and writer
 *
 * The reader maps the part of libvirt's domain XML that its Xen (libxl)
 * driver turns into a libxl_domain_config onto keel's model, with the
 * meaning libvirt gives it (src/libxl/libxl_conf.c, xen_common.c): a
 * <vcpu> count without current= is the online count, <memory> alone is
 * the memory the guest gets, absent <pae/>, <acpi/>, <apic/> switch those
 * off for HVM, a disk without <readonly/> is writable. Elements that
 * change nothing (title, description, the PV console, xen/ps2 input, the
 * xen balloon, auto-added controllers, addresses and aliases) are
 * accepted and ignored; anything else that would change the guest is
 * refused by name, never dropped. libxml2 does the parsing with its own
 * context only: no DTD (a DOCTYPE is refused at once, so no entity can
 * be defined, let alone expanded), no network, a depth limit, errors
 * captured from the context rather than printed.
 *
 * The writer emits what libvirt would, then reads its own output back
 * and compares field by field; every field that did not survive (a value
 * XML has no form for, or an unset field the XML form would set) goes
 * into keel's metadata element, whose vocabulary is the model's own field
 * names (the tables in xml-dev.c):
 *
 *   <metadata><keel:config xmlns:keel='https://keel.example/xmlns/domain/1'>
 *     <keel:FIELD>value</keel:FIELD>       a value (yes/no for booleans,
 *                                          xl.cfg names for enums)
 *     <keel:FIELD unset='yes'/>            the field is unset
 *     <keel:cpus per-vcpu='yes'><keel:spec>0-1</keel:spec>...</keel:cpus>
 *     <keel:bootloader_args><keel:arg>-q</keel:arg>...</keel:bootloader_args>
 *     <keel:disk index='N'>disk fields</keel:disk>
 *     <keel:vif index='N'>vif fields</keel:vif>
 *   </keel:config></metadata>
 *
 * The reader applies it after everything else, so model -> XML -> model
 * is exact by construction, and the metadata stays small because only
 * what differs is written.
 *
 * Decisions where libvirt leaves room: a byte count is rounded up to
 * whole KiB (as libvirt does); vCPUs between <vcpupin>s take the <vcpu
 * cpuset> or "all"; an empty cdrom gets the empty format unless <driver
 * type> says otherwise; bootloader_args splits on spaces, tabs and
 * newlines, dropping empty words; <on_lockfailure>, other timers and
 * serial ports on HVM are refused; only UTF-8 input is read.
 *
 * Checklist when the model or the mapping changes: the element handlers
 * (dom_*, os_* here, dev_* and vif_* in xml-dev.c), the writer (w_* in
 * xml-write.c), the metadata tables (xml-dev.c), the fixtures
 * tests/data/config/xml-*.xml and bad/xml-*, tests/unit/test-config-xml.c
 * and the fuzz seeds tests/data/fuzz/config-xml/.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "xml.h"

#define MAX_DEPTH 32
#ifndef XML_PARSE_NO_XXE
#define XML_PARSE_NO_XXE 0 /* libxml2 < 2.13: no DTD is loaded anyway */
#endif
#define PARSE_OPTIONS                                                          \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |               \
     XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC |          \
     XML_PARSE_NO_XXE)

/* --- errors and small helpers ------------------------------------------ */

static bool
is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
           c == ':' || (c & 0x80);
}

/* libxml2 keeps lines but not columns: find the element's "<name" on its
 * line in the source. */
static unsigned int
column_of(const struct rd *rd, long line, const char *qname)
{
    const char *p = rd->buf, *end = rd->buf + rd->len, *eol, *q;
    size_t nl = strlen(qname);
    long l;

    for (l = 1; l < line; l++) {
        q = memchr(p, '\n', (size_t)(end - p));
        if (!q)
            return 1;
        p = q + 1;
    }
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    for (q = p; q + nl + 1 <= eol; q++)
        if (q[0] == '<' && !memcmp(q + 1, qname, nl) &&
            (q + nl + 1 == eol || !is_name_char(q[nl + 1])))
            return (unsigned int)(q - p + 1);
    return 1;
}

static void
qname_of(const xmlNode *n, char *buf, size_t size)
{
    if (n->ns && n->ns->prefix)
        snprintf(buf, size, "%s:%s", n->ns->prefix, n->name);
    else
        snprintf(buf, size, "%s", n->name);
}

/* Records "FILE:LINE:COL: ELEMENT: what" and returns code. */
int
keel__xml_err(struct rd *rd, int code, const xmlNode *n, const char *fmt, ...)
{
    char msg[512], qname[128];
    long line = xmlGetLineNo((xmlNode *)n);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    qname_of(n, qname, sizeof(qname));
    if (line < 1)
        line = 1;
    return keel_error(rd->ctx, code, "%s:%ld:%u: %s: %s", rd->file, line,
                      column_of(rd, line, qname), qname, msg);
}

/* Re-raises the context's last error (from a model helper) at n. */
int
keel__xml_wrap(struct rd *rd, const xmlNode *n, int rc)
{
    char msg[512];

    if (rc == KEEL_ENOMEM)
        return rc;
    snprintf(msg, sizeof(msg), "%s", keel_ctx_last_error(rd->ctx));
    keel_ctx_clear_error(rd->ctx);
    return keel__xml_err(rd, rc, n, "%s", msg);
}

int
keel__xml_unsupported(struct rd *rd, const xmlNode *n)
{
    return keel__xml_err(rd, KEEL_EINVAL, n, "not supported by keel");
}

/* Refuses attributes not in the space-separated list allowed. */
int
keel__xml_only_attrs(struct rd *rd, const xmlNode *n, const char *allowed)
{
    const xmlAttr *a;
    const char *p;
    size_t nl;

    for (a = n->properties; a; a = a->next) {
        nl = strlen((const char *)a->name);
        for (p = strstr(allowed, (const char *)a->name); p;
             p = strstr(p + 1, (const char *)a->name))
            if ((p == allowed || p[-1] == ' ') && (!p[nl] || p[nl] == ' '))
                break;
        if (!p || a->ns)
            return keel__xml_err(rd, KEEL_EINVAL, n,
                                 "attribute '%s' is not supported by keel",
                                 (const char *)a->name);
    }
    return 0;
}

/* The text of a leaf element (kept until the read ends). */
int
keel__xml_text(struct rd *rd, xmlNode *n, const char **s_r)
{
    xmlChar **v, *s;
    xmlNode *c;

    for (c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return keel__xml_err(rd, KEEL_EINVAL, c,
                                 "unexpected element in <%s>",
                                 (const char *)n->name);
    v = realloc(rd->owned, (rd->nowned + 1) * sizeof(*v));
    if (!v)
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    rd->owned = v;
    s = xmlNodeGetContent(n);
    if (!s)
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    rd->owned[rd->nowned++] = s;
    *s_r = (const char *)s;
    return 0;
}

/* Leaf text without surrounding whitespace, for keywords (cut to size). */
static int
word(struct rd *rd, xmlNode *n, char *buf, size_t size)
{
    const char *s;
    size_t l;
    int rc;

    if ((rc = keel__xml_text(rd, n, &s)))
        return rc;
    s += strspn(s, " \t\r\n");
    for (l = strlen(s); l && strchr(" \t\r\n", s[l - 1]); l--)
        ;
    if (l >= size)
        l = size - 1;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return 0;
}

int
keel__xml_set_str(struct rd *rd, char **dst, const char *s)
{
    char *copy = keel__strdup(rd->ctx, s);

    if (!copy)
        return KEEL_ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

/* An unsigned decimal (surrounding whitespace allowed) up to max. */
int
keel__xml_num(struct rd *rd, const xmlNode *n, const char *what, const char *s,
              int64_t max, int64_t *v_r)
{
    char buf[32];
    uint64_t v;
    size_t l;

    s += strspn(s, " \t\r\n");
    for (l = strlen(s); l && strchr(" \t\r\n", s[l - 1]); l--)
        ;
    if (l < sizeof(buf)) {
        memcpy(buf, s, l);
        buf[l] = '\0';
    }
    if (l >= sizeof(buf) || !keel__parse_u64(buf, &v))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "%s '%s' is not a whole number", what, s);
    if (v > (uint64_t)max)
        return keel__xml_err(rd, KEEL_EINVAL, n, "%s %s is more than %lld",
                             what, buf, (long long)max);
    *v_r = (int64_t)v;
    return 0;
}

/* A signed decimal, for clock adjustments and metadata. */
int
keel__xml_snum(struct rd *rd, const xmlNode *n, const char *what, const char *s,
               int64_t *v_r)
{
    bool neg;
    int rc;

    s += strspn(s, " \t\r\n");
    neg = *s == '-';
    if ((rc = keel__xml_num(rd, n, what, s + neg, INT64_MAX, v_r)))
        return rc;
    if (neg)
        *v_r = -*v_r;
    return 0;
}

int
keel__xml_yesno(struct rd *rd, const xmlNode *n, const char *what,
                const char *s, int *v_r)
{
    if (streq(s, "yes") || streq(s, "on"))
        *v_r = 1;
    else if (streq(s, "no") || streq(s, "off"))
        *v_r = 0;
    else
        return keel__xml_err(rd, KEEL_EINVAL, n, "%s '%s' is not yes or no",
                             what, s);
    return 0;
}

/* --- domain-level elements -------------------------------------------- */

static int
dom_name(struct rd *rd, xmlNode *n)
{
    const char *s;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    if (!*s)
        return keel__xml_err(rd, KEEL_EINVAL, n, "empty name");
    return keel__xml_set_str(rd, &rd->cfg->name, s);
}

static int
dom_uuid(struct rd *rd, xmlNode *n)
{
    char s[64];
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = word(rd, n, s, sizeof(s))))
        return rc;
    if (keel_uuid_parse(s, rd->cfg->uuid))
        return keel__xml_err(rd, KEEL_EINVAL, n, "'%s' is not a UUID", s);
    return 0;
}

static int
dom_ignore(struct rd *rd, xmlNode *n)
{
    (void)rd;
    (void)n;
    return 0;
}

/* Other namespaces' metadata is theirs; keel's is applied last. */
static int
dom_metadata(struct rd *rd, xmlNode *n)
{
    xmlNode *c;

    FOR_EACH_ELEM(c, n)
    if (is_keel(c, "config") && rd->use_meta)
        rd->meta = c;
    else if (is_keel(c, NULL) && rd->use_meta)
        return keel__xml_unsupported(rd, c);
    return 0;
}

/* libvirt's units (virScaleInteger): case-insensitive; b, byte, bytes;
 * k, m, g, t, p, e alone or with "iB" are powers of 1024, with "B" of
 * 1000; none is KiB. */
static int
unit_scale(const char *u, uint64_t *scale_r)
{
    static const char letters[] = "kmgtpe";
    const char *p;
    uint64_t base, scale = 1;

    if (!u || !*u) {
        *scale_r = 1024;
        return 0;
    }
    if (!strcasecmp(u, "b") || !strcasecmp(u, "byte") ||
        !strcasecmp(u, "bytes")) {
        *scale_r = 1;
        return 0;
    }
    if (!(p = strchr(letters, tolower((unsigned char)u[0]))))
        return KEEL_EINVAL;
    if (!u[1] || !strcasecmp(u + 1, "iB"))
        base = 1024;
    else if ((u[1] == 'b' || u[1] == 'B') && !u[2])
        base = 1000;
    else
        return KEEL_EINVAL;
    for (; p >= letters; p--)
        scale *= base;
    *scale_r = scale;
    return 0;
}

/* <memory> and <currentMemory>: bytes rounded up to whole KiB, as
 * libvirt does. */
static int
dom_memory(struct rd *rd, xmlNode *n)
{
    const char *unit = attr(n, "unit"), *s;
    uint64_t scale, bytes;
    int64_t v;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "unit")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    if (unit_scale(unit, &scale))
        return keel__xml_err(rd, KEEL_EINVAL, n, "unknown unit '%s'", unit);
    if ((rc = keel__xml_num(rd, n, "size", s, INT64_MAX, &v)))
        return rc;
    if ((uint64_t)v > UINT64_MAX / scale)
        return keel__xml_err(rd, KEEL_EINVAL, n, "size %lld %s is too large",
                             (long long)v, unit);
    bytes = (uint64_t)v * scale;
    v = (int64_t)(bytes / 1024 + (bytes % 1024 != 0));
    if (is(n, "memory"))
        rd->mem_kb = v;
    else
        rd->cur_kb = v;
    return 0;
}

static int
dom_vcpu(struct rd *rd, xmlNode *n)
{
    const char *pl = attr(n, "placement"), *cur = attr(n, "current"), *s;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "placement cpuset current")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    if (pl && !streq(pl, "static"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "placement '%s' is not supported by keel", pl);
    if ((rc = keel__xml_num(rd, n, "count", s, INT_MAX, &rd->vcpu_count)) ||
        (cur &&
         (rc = keel__xml_num(rd, n, "current", cur, INT_MAX, &rd->vcpu_cur))))
        return rc;
    if (rd->vcpu_count < 1 || (cur && rd->vcpu_cur < 1))
        return keel__xml_err(rd, KEEL_EINVAL, n, "a domain needs a vCPU");
    if (cur && rd->vcpu_cur > rd->vcpu_count)
        return keel__xml_err(
            rd, KEEL_EINVAL, n, "current %lld is more than %lld",
            (long long)rd->vcpu_cur, (long long)rd->vcpu_count);
    rd->cpuset = attr(n, "cpuset");
    rd->vcpu_node = n;
    return 0;
}

static int
cputune_pin(struct rd *rd, xmlNode *n)
{
    const char *vcpu = attr(n, "vcpu"), *set = attr(n, "cpuset");
    int64_t i;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "vcpu cpuset")))
        return rc;
    if (!vcpu || !set)
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "vcpu and cpuset are required");
    if ((rc = keel__xml_num(rd, n, "vcpu", vcpu, INT_MAX, &i)))
        return rc;
    if (i >= KEEL_CONFIG_MAX_ITEMS)
        return keel__xml_err(rd, KEEL_ERANGE, n,
                             "vCPU %lld: keel pins at most %d", (long long)i,
                             KEEL_CONFIG_MAX_ITEMS);
    if (rd->pins[i])
        return keel__xml_err(rd, KEEL_EINVAL, n, "vCPU %lld is pinned twice",
                             (long long)i);
    rd->pins[i] = set;
    if (i > rd->max_pin)
        rd->max_pin = (int)i;
    if (!rd->pin_node)
        rd->pin_node = n;
    return 0;
}

static int
dom_cputune(struct rd *rd, xmlNode *n)
{
    const char *s;
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        if (is(c, "shares")) {
            if ((rc = keel__xml_only_attrs(rd, c, "")) ||
                (rc = keel__xml_text(rd, c, &s)) ||
                (rc = keel__xml_num(rd, c, "shares", s, INT64_MAX,
                                    &rd->cfg->cpu_weight)))
                return rc;
        } else if (is(c, "vcpupin")) {
            if ((rc = cputune_pin(rd, c)))
                return rc;
        } else {
            return keel__xml_unsupported(rd, c);
        }
    }
    return 0;
}

static int
dom_bootloader(struct rd *rd, xmlNode *n)
{
    const char *s;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    return keel__xml_set_str(rd, &rd->cfg->bootloader, s);
}

/* One string in libvirt, split on whitespace as its libxl driver does
 * (empty words dropped). */
static int
dom_bootloader_args(struct rd *rd, xmlNode *n)
{
    char *copy, *w, *save = NULL;
    const char *s;
    int rc = 0;

    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    if (!(copy = keel__strdup(rd->ctx, s)))
        return KEEL_ENOMEM;
    keel__strv_free(rd->cfg->bootloader_args);
    rd->cfg->bootloader_args = NULL;
    for (w = strtok_r(copy, WHITESPACE, &save); w && !rc;
         w = strtok_r(NULL, WHITESPACE, &save))
        if ((rc = keel__strv_add(rd->ctx, &rd->cfg->bootloader_args, w)))
            rc = keel__xml_wrap(rd, n, rc);
    free(copy);
    return rc;
}

/* --- <os> ------------------------------------------------------------------
 */

static int
os_type(struct rd *rd, xmlNode *n)
{
    const char *arch = attr(n, "arch"), *m = attr(n, "machine");
    char t[32];
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "arch machine")) ||
        (rc = word(rd, n, t, sizeof(t))))
        return rc;
    if (arch && !streq(arch, "x86_64") && !streq(arch, "i686"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "arch '%s' is not supported by keel", arch);
    if (!strcmp(t, "hvm") && (!m || streq(m, "xenfv")))
        rd->cfg->type = KEEL_DOMAIN_HVM;
    else if ((!strcmp(t, "xen") || !strcmp(t, "linux")) &&
             (!m || streq(m, "xenpv")))
        rd->cfg->type = KEEL_DOMAIN_PV;
    else if ((!strcmp(t, "xen") || !strcmp(t, "xenpvh")) && streq(m, "xenpvh"))
        rd->cfg->type = KEEL_DOMAIN_PVH; /* libvirt before 5.x: xen */
    else if (!strcmp(t, "xenpvh") && !m)
        rd->cfg->type = KEEL_DOMAIN_PVH;
    else if (m)
        return keel__xml_err(
            rd, KEEL_EINVAL, n,
            "os type '%s' with machine '%s' is not supported by "
            "keel",
            t, m);
    else
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "os type '%s' is not supported by keel", t);
    return 0;
}

/* <loader type='pflash'> is OVMF to libvirt's libxl driver ("uefi" in
 * xl.cfg); a ROM loader names the firmware file. */
static int
os_loader(struct rd *rd, xmlNode *n)
{
    const char *type = attr(n, "type"), *sec = attr(n, "secure"), *s;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "type readonly secure")) ||
        (rc = keel__xml_text(rd, n, &s)))
        return rc;
    if (sec && !streq(sec, "no"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "secure boot is not supported on Xen");
    if (streq(type, "pflash"))
        return keel__xml_set_str(rd, &rd->cfg->firmware, "uefi");
    if (type && !streq(type, "rom"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "loader type '%s' is not supported by keel", type);
    if (!*s)
        return keel__xml_err(rd, KEEL_EINVAL, n, "a ROM loader needs a path");
    return keel__xml_set_str(rd, &rd->cfg->firmware, s);
}

static int
os_boot(struct rd *rd, xmlNode *n)
{
    static const char *const devs[] = {"hd", "cdrom", "network", "fd"};
    static const char letters[] = "cdna";
    const char *dev = attr(n, "dev");
    char *b = rd->cfg->boot, *nb;
    size_t i, l = b ? strlen(b) : 0;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "dev")))
        return rc;
    for (i = 0; i < ARRAY_SIZE(devs) && !streq(dev, devs[i]); i++)
        ;
    if (i == ARRAY_SIZE(devs))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "boot dev '%s' is not supported", dev ? dev : "");
    if (b && (strchr(b, letters[i]) || l >= 4))
        return keel__xml_err(rd, KEEL_EINVAL, n, "boot dev '%s' given twice",
                             dev);
    if (!(nb = realloc(b, l + 2)))
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    nb[l] = letters[i];
    nb[l + 1] = '\0';
    rd->cfg->boot = nb;
    return 0;
}

static int
os_child(struct rd *rd, xmlNode *c)
{
    struct keel_domain_config *cfg = rd->cfg;
    const char *s;
    int rc;

    if (is(c, "type"))
        return os_type(rd, c);
    if (is(c, "loader"))
        return os_loader(rd, c);
    if (is(c, "boot"))
        return os_boot(rd, c);
    if (!is(c, "kernel") && !is(c, "initrd") && !is(c, "cmdline"))
        return keel__xml_unsupported(rd, c);
    if ((rc = keel__xml_only_attrs(rd, c, "")) ||
        (rc = keel__xml_text(rd, c, &s)))
        return rc;
    if (is(c, "kernel"))
        return keel__xml_set_str(rd, &cfg->kernel, s);
    if (is(c, "initrd"))
        return keel__xml_set_str(rd, &cfg->ramdisk, s);
    return keel__xml_set_str(rd, &cfg->cmdline, s);
}

static int
dom_os(struct rd *rd, xmlNode *n)
{
    const char *fw = attr(n, "firmware");
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "firmware")))
        return rc;
    if (fw && !streq(fw, "efi") && !streq(fw, "bios"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "firmware '%s' is not supported by keel", fw);
    if (fw && (rc = keel__xml_set_str(rd, &rd->cfg->firmware,
                                      streq(fw, "efi") ? "uefi" : "bios")))
        return rc;
    FOR_EACH_ELEM(c, n)
    if ((rc = os_child(rd, c)))
        return rc;
    if (!rd->cfg->type)
        return keel__xml_err(rd, KEEL_EINVAL, n, "<type> is missing");
    return 0;
}

/* --- <features>, <clock>, <on_*> ------------------------------------------ */

static int
dom_features(struct rd *rd, xmlNode *n)
{
    static const char *const names[] = {"pae", "acpi", "apic", "hap",
                                        "viridian"};
    struct keel_domain_config *cfg = rd->cfg;
    int *fields[] = {&cfg->pae, &cfg->acpi, &cfg->apic, &cfg->hap,
                     &cfg->viridian};
    const char *state;
    xmlNode *c;
    size_t i;
    int v, rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        for (i = 0; i < ARRAY_SIZE(names) && !is(c, names[i]); i++)
            ;
        if (i == ARRAY_SIZE(names) || elem_next(c->children))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "state")))
            return rc;
        v = 1;
        if ((state = attr(c, "state")) &&
            (rc = keel__xml_yesno(rd, c, "state", state, &v)))
            return rc;
        *fields[i] = v;
    }
    return 0;
}

static int
clock_timer(struct rd *rd, xmlNode *n)
{
    static const char *const modes[] = {NULL, "auto", "emulate", "native",
                                        "paravirt"};
    const char *name = attr(n, "name"), *pr = attr(n, "present");
    const char *mode = attr(n, "mode");
    int present = 1, i, rc;

    if ((rc = keel__xml_only_attrs(rd, n, "name present mode")) ||
        (pr && (rc = keel__xml_yesno(rd, n, "present", pr, &present))))
        return rc;
    if (streq(name, "hpet") && !mode) {
        rd->cfg->hpet = present;
        return 0;
    }
    if (!streq(name, "tsc"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "timer '%s' is not supported by keel",
                             name ? name : "");
    if (!present)
        return keel__xml_err(rd, KEEL_EINVAL, n, "the TSC cannot be removed");
    for (i = 1; mode && i < (int)ARRAY_SIZE(modes); i++)
        if (streq(mode, modes[i]))
            rd->cfg->tsc_mode = i; /* same order as enum keel_tsc_mode */
    if (mode && !rd->cfg->tsc_mode)
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "tsc mode '%s' is not supported", mode);
    return 0;
}

/* utc/localtime: the RTC starts at that time ("reset", or a number of
 * seconds off it); variable: rtc_timeoffset seconds off basis. */
static int
dom_clock(struct rd *rd, xmlNode *n)
{
    const char *off = attr(n, "offset"), *adj = attr(n, "adjustment");
    const char *basis = attr(n, "basis");
    xmlNode *c;
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "offset adjustment basis")))
        return rc;
    if (off && !streq(off, "utc") && !streq(off, "localtime") &&
        !streq(off, "variable"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "offset '%s' is not supported by keel", off);
    if (basis && !streq(off, "variable"))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "basis needs offset='variable'");
    if (basis && !streq(basis, "utc") && !streq(basis, "localtime"))
        return keel__xml_err(rd, KEEL_EINVAL, n, "basis '%s' is not supported",
                             basis);
    if (off && !streq(off, "variable"))
        rd->cfg->localtime = streq(off, "localtime");
    else if (basis)
        rd->cfg->localtime = streq(basis, "localtime");
    if (adj && !(streq(adj, "reset") && !streq(off, "variable")) &&
        (rc = keel__xml_snum(rd, n, "adjustment", adj,
                             &rd->cfg->rtc_timeoffset)))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        if (!is(c, "timer"))
            return keel__xml_unsupported(rd, c);
        if ((rc = clock_timer(rd, c)))
            return rc;
    }
    return 0;
}

/* libvirt's on_poweroff/on_reboot take destroy, restart, rename-restart
 * and preserve; on_crash also the two coredump ones. */
bool
keel__xml_action_in_xml(enum keel_event ev, int a)
{
    if (a >= KEEL_ACTION_DESTROY && a <= KEEL_ACTION_PRESERVE)
        return true;
    return ev == KEEL_ON_CRASH && (a == KEEL_ACTION_COREDUMP_DESTROY ||
                                   a == KEEL_ACTION_COREDUMP_RESTART);
}

static int
dom_on(struct rd *rd, xmlNode *n)
{
    enum keel_event ev = is(n, "on_poweroff") ? KEEL_ON_POWEROFF
                         : is(n, "on_reboot") ? KEEL_ON_REBOOT
                                              : KEEL_ON_CRASH;
    char s[32];
    int a, rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")) ||
        (rc = word(rd, n, s, sizeof(s))))
        return rc;
    a = keel_action_parse(s);
    if (a <= 0 || !keel__xml_action_in_xml(ev, a))
        return keel__xml_err(rd, KEEL_EINVAL, n, "unknown action '%s'", s);
    rd->cfg->on[ev] = a;
    return 0;
}

static int
dom_resource(struct rd *rd, xmlNode *n)
{
    xmlNode *c;
    char s[64];
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "")))
        return rc;
    FOR_EACH_ELEM(c, n)
    {
        if (!is(c, "partition"))
            return keel__xml_unsupported(rd, c);
        if ((rc = keel__xml_only_attrs(rd, c, "")) ||
            (rc = word(rd, c, s, sizeof(s))))
            return rc;
        if (strcmp(s, "/machine"))
            return keel__xml_err(rd, KEEL_EINVAL, c,
                                 "only the default partition /machine");
    }
    return 0;
}

static int
dom_seclabel(struct rd *rd, xmlNode *n)
{
    int rc;

    if ((rc = keel__xml_only_attrs(rd, n, "type model")))
        return rc;
    if (!streq(attr(n, "type"), "none") || elem_next(n->children))
        return keel__xml_err(rd, KEEL_EINVAL, n,
                             "only type='none' is supported by keel");
    return 0;
}

static int
dom_devices(struct rd *rd, xmlNode *n)
{
    rd->devices = n;
    return 0;
}

/* --- the document ------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(struct rd *rd, xmlNode *n);
} dom_elems[] = {
    {"name", dom_name},
    {"uuid", dom_uuid},
    {"title", dom_ignore},
    {"description", dom_ignore},
    {"metadata", dom_metadata},
    {"memory", dom_memory},
    {"currentMemory", dom_memory},
    {"vcpu", dom_vcpu},
    {"cputune", dom_cputune},
    {"bootloader", dom_bootloader},
    {"bootloader_args", dom_bootloader_args},
    {"os", dom_os},
    {"features", dom_features},
    {"clock", dom_clock},
    {"on_poweroff", dom_on},
    {"on_reboot", dom_on},
    {"on_crash", dom_on},
    {"devices", dom_devices},
    {"resource", dom_resource},
    {"seclabel", dom_seclabel},
};

/* <vcpu>N</vcpu> is N online vCPUs (maxvcpus follows), current= makes N
 * the maximum. <vcpupin> makes a per-vCPU list: vCPUs between pins get
 * the <vcpu cpuset> (or "all"), and with a cpuset the list runs to the
 * last vCPU so none loses it. */
static int
rd_vcpus(struct rd *rd)
{
    struct keel_domain_config *cfg = rd->cfg;
    int64_t i, n;
    int rc;

    if (rd->vcpu_cur >= 0) {
        cfg->vcpus = rd->vcpu_cur;
        cfg->maxvcpus = rd->vcpu_count;
    } else if (rd->vcpu_count >= 0) {
        cfg->vcpus = rd->vcpu_count;
    }
    if (rd->max_pin < 0) {
        if (rd->cpuset &&
            (rc = keel__affinity_add(rd->ctx, &cfg->cpus, rd->cpuset)))
            return keel__xml_wrap(rd, rd->vcpu_node, rc);
        return 0;
    }
    if (rd->vcpu_count >= 0 && rd->max_pin >= rd->vcpu_count)
        return keel__xml_err(rd, KEEL_EINVAL, rd->pin_node,
                             "vCPU %d is pinned but there are %lld",
                             rd->max_pin, (long long)rd->vcpu_count);
    n = rd->cpuset ? rd->vcpu_count : rd->max_pin + 1;
    cfg->cpus.per_vcpu = true;
    for (i = 0; i < n; i++) {
        rc = keel__affinity_add(rd->ctx, &cfg->cpus,
                                rd->pins[i]  ? rd->pins[i]
                                : rd->cpuset ? rd->cpuset
                                             : "all");
        if (rc)
            return keel__xml_wrap(rd, rd->pin_node, rc);
    }
    return 0;
}

static int
rd_children(struct rd *rd, xmlNode *root)
{
    xmlNode *c;
    size_t i;
    int rc;

    FOR_EACH_ELEM(c, root)
    {
        for (i = 0; i < ARRAY_SIZE(dom_elems) && !is(c, dom_elems[i].name); i++)
            ;
        if (i == ARRAY_SIZE(dom_elems) || c->ns)
            return keel__xml_unsupported(rd, c);
        if (rd->seen & (UINT32_C(1) << i))
            return keel__xml_err(rd, KEEL_EINVAL, c, "given twice");
        rd->seen |= UINT32_C(1) << i;
        if ((rc = dom_elems[i].fn(rd, c)))
            return rc;
    }
    return 0;
}

static int
rd_domain(struct rd *rd, xmlNode *root)
{
    struct keel_domain_config *cfg = rd->cfg;
    int rc;

    if (!is(root, "domain") || root->ns)
        return keel__xml_err(rd, KEEL_EINVAL, root,
                             "the root must be <domain>");
    if ((rc = keel__xml_only_attrs(rd, root, "type id")))
        return rc;
    if (!streq(attr(root, "type"), "xen"))
        return keel__xml_err(
            rd, KEEL_EINVAL, root,
            "domain type '%s' is not supported by keel (only xen)",
            attr(root, "type") ? attr(root, "type") : "");
    if ((rc = rd_children(rd, root)))
        return rc;
    if (!cfg->name)
        return keel__xml_err(rd, KEEL_EINVAL, root, "<name> is missing");
    if (!cfg->type)
        return keel__xml_err(rd, KEEL_EINVAL, root, "<os><type> is missing");
    if (rd->devices && (rc = keel__xml_devices(rd, rd->devices)))
        return rc;
    /* libvirt leaves out what a HVM guest lacks */
    if (cfg->type == KEEL_DOMAIN_HVM) {
        cfg->pae = cfg->pae < 0 ? 0 : cfg->pae;
        cfg->acpi = cfg->acpi < 0 ? 0 : cfg->acpi;
        cfg->apic = cfg->apic < 0 ? 0 : cfg->apic;
    }
    cfg->memory_kb = rd->cur_kb >= 0 ? rd->cur_kb : rd->mem_kb;
    cfg->maxmem_kb = rd->cur_kb >= 0 ? rd->mem_kb : KEEL_UNSET;
    if ((rc = rd_vcpus(rd)))
        return rc;
    return rd->meta ? keel__xml_meta_apply(rd, rd->meta) : 0;
}

/* --- libxml2 ------------------------------------------------------------ */

static void
hook_stop(xmlParserCtxtPtr pc, const char *msg)
{
    struct rd *rd = pc->_private;

    if (!rd->hook_code) {
        rd->hook_code = KEEL_EINVAL;
        snprintf(rd->hook_msg, sizeof(rd->hook_msg), "%s", msg);
        rd->hook_line = pc->input ? pc->input->line : 1;
        rd->hook_col = pc->input ? pc->input->col : 1;
    }
    xmlStopParser(pc);
}

static void
hook_subset(void *ctx, const xmlChar *name, const xmlChar *ext,
            const xmlChar *sys)
{
    (void)name;
    (void)ext;
    (void)sys;
    hook_stop(ctx, "DOCTYPE is not allowed (no DTDs or entities)");
}

static void
hook_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
           const xmlChar *uri, int nb_ns, const xmlChar **ns, int nb_attrs,
           int nb_defaulted, const xmlChar **attrs)
{
    xmlParserCtxtPtr pc = ctx;

    if (pc->nameNr >= MAX_DEPTH) {
        hook_stop(pc, "elements are nested too deeply");
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_ns, ns, nb_attrs,
                          nb_defaulted, attrs);
}

/* The context's structured error sink: keep the first real error. */
static void
hook_error(void *ctx, xmlErrorPtr e)
{
    struct rd *rd = ((xmlParserCtxtPtr)ctx)->_private;
    size_t l;

    if (rd->hook_code || !e || e->level < XML_ERR_ERROR)
        return;
    rd->hook_code = KEEL_ESYNTAX;
    snprintf(rd->hook_msg, sizeof(rd->hook_msg), "%s",
             e->message ? e->message : "malformed XML");
    l = strlen(rd->hook_msg);
    while (l && (rd->hook_msg[l - 1] == '\n' || rd->hook_msg[l - 1] == ' '))
        rd->hook_msg[--l] = '\0';
    rd->hook_line = e->line > 0 ? e->line : 1;
    rd->hook_col = e->int2 > 0 ? e->int2 : 1;
}

static int
parse_doc(struct rd *rd, xmlDoc **doc_r)
{
    xmlParserCtxtPtr pc;
    int rc = 0;

    if (!rd->len)
        return keel_error(rd->ctx, KEEL_ESYNTAX, "%s:1:1: empty document",
                          rd->file);
    if (rd->len > INT_MAX)
        return keel_error(rd->ctx, KEEL_E2BIG, "%s: too large", rd->file);
    xmlInitParser();
    if (!(pc = xmlCreateMemoryParserCtxt(rd->buf, (int)rd->len)))
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    xmlCtxtUseOptions(pc, PARSE_OPTIONS);
    /* UTF-8 only, as libvirt writes it: no sniffing of other encodings,
     * whose converters report failures to libxml2's global handler */
    if (!pc->encoding)
        pc->encoding = xmlStrdup(BAD_CAST "UTF-8");
    pc->_private = rd;
    pc->sax->internalSubset = hook_subset;
    pc->sax->externalSubset = hook_subset;
    pc->sax->startElementNs = hook_start;
    pc->sax->serror = hook_error;
    xmlParseDocument(pc);
    if (!rd->hook_code && (!pc->wellFormed || !pc->nsWellFormed || !pc->myDoc ||
                           !xmlDocGetRootElement(pc->myDoc))) {
        rd->hook_code = KEEL_ESYNTAX;
        snprintf(rd->hook_msg, sizeof(rd->hook_msg), "malformed XML");
    }
    if (rd->hook_code)
        rc = keel_error(rd->ctx, rd->hook_code, "%s:%ld:%d: %s", rd->file,
                        rd->hook_line, rd->hook_col, rd->hook_msg);
    if (rc)
        xmlFreeDoc(pc->myDoc);
    else
        *doc_r = pc->myDoc;
    pc->myDoc = NULL;
    xmlFreeParserCtxt(pc);
    return rc;
}

int
keel__xml_read(struct keel_ctx *ctx, const char *file, const char *buf,
               size_t len, bool use_meta, struct keel_domain_config *cfg)
{
    struct rd rd;
    xmlDoc *doc = NULL;
    size_t i;
    int rc;

    memset(&rd, 0, sizeof(rd));
    rd.ctx = ctx;
    rd.file = file;
    rd.buf = buf;
    rd.len = len;
    rd.cfg = cfg;
    rd.use_meta = use_meta;
    rd.mem_kb = rd.cur_kb = rd.vcpu_count = rd.vcpu_cur = KEEL_UNSET;
    rd.max_pin = -1;
    rd.hook_line = 1;
    if (!(rc = parse_doc(&rd, &doc)))
        rc = rd_domain(&rd, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    for (i = 0; i < rd.nowned; i++)
        xmlFree(rd.owned[i]);
    free(rd.owned);
    return rc;
}

int
keel__cfgxml_read(struct keel_ctx *ctx, const char *file, const char *buf,
                  size_t len, struct keel_domain_config *cfg)
{
    return keel__xml_read(ctx, file, buf, len, true, cfg);
}
