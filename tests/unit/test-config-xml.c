/* test-config-xml.c: the libvirt domain XML codec's tricky parts
 *
 * The fixtures under tests/data/config/ (driven by test-config.c) cover
 * whole documents; these tests pin down what is easier to state in
 * code: memory units and rounding, the vCPU count and pin rules, that
 * every field the XML cannot carry survives a round trip through keel's
 * metadata, and that hostile input (entities, DOCTYPEs, deep nesting,
 * unsupported elements) is refused with a located message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

#include "config/cfg.h"
#include "harness.h"

/* Reads text (as "t.xml") into *cfg, failing the test on error. */
static void
rd(const char *text, struct keel_domain_config *cfg)
{
    OK(keel_domain_config_read(th_ctx(), KEEL_CONFIG_XML, "t.xml", text,
                               strlen(text), NULL, 0, cfg));
}

/* Reads text and returns the code, leaving the error on the context. */
static int
rd_rc(const char *text)
{
    struct keel_domain_config cfg;
    int rc;

    keel_domain_config_init(&cfg);
    rc = keel_domain_config_read(th_ctx(), KEEL_CONFIG_XML, "t.xml", text,
                                 strlen(text), NULL, 0, &cfg);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* Writes cfg as XML, reads it back, asserts equality; returns the text
 * (free it). */
static char *
round_trip(const struct keel_domain_config *cfg)
{
    struct keel_domain_config back;
    char *text = NULL;

    keel_domain_config_init(&back);
    OK(keel_domain_config_write(th_ctx(), KEEL_CONFIG_XML, cfg, 0, &text));
    rd(text, &back);
    ck_assert_msg(keel_domain_config_equal(cfg, &back),
                  "round trip differs:\n%s", text);
    keel_domain_config_dispose(&back);
    return text;
}

#define DOM(body)                                                              \
    "<domain type='xen'><name>t</name><os><type>xen</type></os>" body          \
    "</domain>"

/* The memory in KiB that <memory unit=U>V</memory> gives. */
static int64_t
mem_kb(const char *value, const char *unit)
{
    struct keel_domain_config cfg;
    char text[256];
    int64_t kb;

    snprintf(text, sizeof(text), DOM("<memory unit='%s'>%s</memory>"), unit,
             value);
    keel_domain_config_init(&cfg);
    rd(text, &cfg);
    kb = cfg.memory_kb;
    ck_assert_int_eq(cfg.maxmem_kb, KEEL_UNSET);
    keel_domain_config_dispose(&cfg);
    return kb;
}

START_TEST(units)
{
    ck_assert_int_eq(mem_kb("512", "KiB"), 512);
    ck_assert_int_eq(mem_kb("2", "MiB"), 2048);
    ck_assert_int_eq(mem_kb("2", "m"), 2048);
    ck_assert_int_eq(mem_kb("1", "GiB"), 1 << 20);
    ck_assert_int_eq(mem_kb("1", "g"), 1 << 20);
    ck_assert_int_eq(mem_kb("1", "TiB"), INT64_C(1) << 30);
    /* decimal units: 1 GB is 10^9 bytes, rounded up to whole KiB */
    ck_assert_int_eq(mem_kb("1", "GB"), 976563);
    ck_assert_int_eq(mem_kb("1", "MB"), 977);
    ck_assert_int_eq(mem_kb("1000", "KB"), 977);
    ck_assert_int_eq(mem_kb("1025", "bytes"), 2);
    ck_assert_int_eq(mem_kb("1024", "b"), 1);
    ck_assert_int_eq(mem_kb(" 7 ", "kib"), 7); /* case, whitespace */
    th_assert_err(rd_rc(DOM("<memory unit='MiBs'>1</memory>")), KEEL_EINVAL,
                  "t.xml:1:59: memory: unknown unit 'MiBs'");
    th_assert_err(rd_rc(DOM("<memory>-1</memory>")), KEEL_EINVAL,
                  "'-1' is not a whole number");
    th_assert_err(rd_rc(DOM("<memory unit='EiB'>16</memory>")), KEEL_EINVAL,
                  "too large");
    th_assert_err(rd_rc(DOM("<memory>18446744073709551616</memory>")),
                  KEEL_EINVAL, "not a whole number");
}
END_TEST

START_TEST(memory_pairs)
{
    struct keel_domain_config cfg;
    char *text;

    keel_domain_config_init(&cfg);
    rd(DOM("<memory>4096</memory><currentMemory>1024</currentMemory>"), &cfg);
    ck_assert_int_eq(cfg.maxmem_kb, 4096);
    ck_assert_int_eq(cfg.memory_kb, 1024);
    /* maxmem alone has no libvirt form: it goes to keel's metadata */
    cfg.memory_kb = KEEL_UNSET;
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<keel:memory_kb unset='yes'/>"));
    ck_assert_ptr_nonnull(strstr(text, "<keel:maxmem_kb>4096</"));
    free(text);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(vcpu_counts)
{
    struct keel_domain_config cfg;
    char *text;

    keel_domain_config_init(&cfg);
    rd(DOM("<vcpu>3</vcpu>"), &cfg); /* libvirt: 3 online */
    ck_assert_int_eq(cfg.vcpus, 3);
    ck_assert_int_eq(cfg.maxvcpus, KEEL_UNSET);
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<vcpu placement='static'>3</vcpu>"));
    ck_assert_ptr_null(strstr(text, "metadata"));
    free(text);
    rd(DOM("<vcpu current='1'>4</vcpu>"), &cfg);
    ck_assert_int_eq(cfg.vcpus, 1);
    ck_assert_int_eq(cfg.maxvcpus, 4);
    cfg.vcpus = KEEL_UNSET; /* maxvcpus alone: metadata */
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<keel:vcpus unset='yes'/>"));
    free(text);
    keel_domain_config_dispose(&cfg);
    th_assert_err(rd_rc(DOM("<vcpu current='5'>4</vcpu>")), KEEL_EINVAL,
                  "vcpu: current 5 is more than 4");
    th_assert_err(rd_rc(DOM("<vcpu>0</vcpu>")), KEEL_EINVAL,
                  "a domain needs a vCPU");
    th_assert_err(rd_rc(DOM("<vcpu placement='auto'>2</vcpu>")), KEEL_EINVAL,
                  "placement 'auto' is not supported by keel");
}
END_TEST

START_TEST(vcpupin)
{
    struct keel_domain_config cfg;
    char *text;

    keel_domain_config_init(&cfg);
    /* gaps get "all" without a cpuset ... */
    rd(DOM("<vcpu>4</vcpu><cputune><vcpupin vcpu='2' cpuset='5'/>"
           "<vcpupin vcpu='0' cpuset='1-2'/></cputune>"),
       &cfg);
    ck_assert(cfg.cpus.per_vcpu);
    ck_assert_uint_eq(cfg.cpus.count, 3);
    ck_assert_str_eq(cfg.cpus.specs[0], "1-2");
    ck_assert_str_eq(cfg.cpus.specs[1], "all");
    ck_assert_str_eq(cfg.cpus.specs[2], "5");
    text = round_trip(&cfg);
    ck_assert_ptr_null(strstr(text, "metadata")); /* an omitted pin */
    free(text);
    /* ... and the cpuset with one, to the last vCPU */
    rd(DOM("<vcpu cpuset='0-3,^2'>3</vcpu><cputune>"
           "<vcpupin vcpu='1' cpuset='7'/></cputune>"),
       &cfg);
    ck_assert_uint_eq(cfg.cpus.count, 3);
    ck_assert_str_eq(cfg.cpus.specs[0], "0-3,^2");
    ck_assert_str_eq(cfg.cpus.specs[1], "7");
    ck_assert_str_eq(cfg.cpus.specs[2], "0-3,^2");
    free(round_trip(&cfg));
    /* node terms have no libvirt form */
    keel__affinity_dispose(&cfg.cpus);
    OK(keel__affinity_add(th_ctx(), &cfg.cpus, "node:1"));
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<keel:spec>node:1</keel:spec>"));
    free(text);
    keel_domain_config_dispose(&cfg);
    th_assert_err(rd_rc(DOM("<vcpu>2</vcpu><cputune><vcpupin vcpu='1' "
                            "cpuset='1'/><vcpupin vcpu='1' cpuset='2'/>"
                            "</cputune>")),
                  KEEL_EINVAL, "vCPU 1 is pinned twice");
    th_assert_err(rd_rc(DOM("<cputune><vcpupin vcpu='256' cpuset='1'/>"
                            "</cputune>")),
                  KEEL_ERANGE, "keel pins at most 256");
    th_assert_err(rd_rc(DOM("<vcpu cpuset='1-x'>2</vcpu>")), KEEL_EINVAL,
                  "t.xml:1:59: vcpu: ");
}
END_TEST

/* A model with every field set to something XML alone cannot say. */
static void
fill_unexpressible(struct keel_domain_config *c)
{
    struct keel_disk_config *d;
    struct keel_vif_config *v;

    c->name = strdup("all-metadata");
    c->type = KEEL_DOMAIN_PVH;
    c->pool = strdup("pool 1");
    c->maxmem_kb = 1 << 20;
    c->maxvcpus = 4;
    OK(keel__affinity_add(th_ctx(), &c->cpus, "nodes:0-1"));
    OK(keel__affinity_add(th_ctx(), &c->cpus_soft, "all"));
    c->cpus_soft.per_vcpu = true;
    c->cap = 25;
    c->rtds_period = 10000;
    c->rtds_budget = 2500;
    c->root = strdup("/dev/xvda1");
    c->extra = strdup(" quiet\tsplash ");
    OK(keel__strv_add(th_ctx(), &c->bootloader_args, "a b"));
    c->firmware = strdup("seabios");
    c->boot = strdup("cc");
    c->on[KEEL_ON_POWEROFF] = KEEL_ACTION_COREDUMP_DESTROY;
    c->on[KEEL_ON_WATCHDOG] = KEEL_ACTION_PRESERVE;
    c->on[KEEL_ON_SOFT_RESET] = KEEL_ACTION_SOFT_RESET;
    c->nomigrate = 1;
    c->max_grant_frames = -7;
    c->viridian = 0;
    OK(keel__config_add_disk(th_ctx(), c, &d));
    d->vdev = strdup("xvda");
    d->format = KEEL_DISK_FORMAT_QCOW2;
    d->backendtype = KEEL_DISK_BACKEND_STANDALONE; /* no driver name */
    d->script = strdup("block-drbd");
    d->direct_io_safe = 1;
    d->trusted = 0;
    d->access = KEEL_DISK_ACCESS_RW;
    d->cdrom = true; /* a writable cdrom with no target */
    OK(keel__config_add_vif(th_ctx(), c, &v));
    v->type = KEEL_VIF_TYPE_IOEMU;
    v->model = strdup("netfront");
    v->gatewaydev = strdup("eth0");
    v->ip = strdup(" 10.0.0.1");
    v->rate_bytes_per_sec = 1000;
    v->rate_interval_us = 10000;
    v->devid = 9;
}

START_TEST(metadata_every_field)
{
    struct keel_domain_config cfg;
    static const char *const want[] = {
        "<keel:type>pvh</keel:type>" /* PVH with a node-spec: still xenpvh */,
        "<keel:pool>pool 1</keel:pool>",
        "<keel:cpus per-vcpu='no'>",
        "<keel:cpus_soft per-vcpu='yes'>",
        "<keel:cap>25</keel:cap>",
        "<keel:rtds_period>10000</keel:rtds_period>",
        "<keel:rtds_budget>2500</keel:rtds_budget>",
        "<keel:root>/dev/xvda1</keel:root>",
        "<keel:extra> quiet\tsplash </keel:extra>",
        "<keel:arg>a b</keel:arg>",
        "<keel:firmware>seabios</keel:firmware>",
        "<keel:boot>cc</keel:boot>",
        "<keel:on_poweroff>coredump-destroy</keel:on_poweroff>",
        "<keel:on_watchdog>preserve</keel:on_watchdog>",
        "<keel:on_soft_reset>soft-reset</keel:on_soft_reset>",
        "<keel:nomigrate>yes</keel:nomigrate>",
        "<keel:max_grant_frames>-7</keel:max_grant_frames>",
        "<keel:viridian>no</keel:viridian>",
        "<keel:disk index='0'>",
        "<keel:target unset='yes'/>",
        "<keel:access>rw</keel:access>",
        "<keel:backendtype>standalone</keel:backendtype>",
        "<keel:script>block-drbd</keel:script>",
        "<keel:direct_io_safe>yes</keel:direct_io_safe>",
        "<keel:trusted>no</keel:trusted>",
        "<keel:vif index='0'>",
        "<keel:ip> 10.0.0.1</keel:ip>",
        "<keel:model>netfront</keel:model>",
        "<keel:type>ioemu</keel:type>",
        "<keel:gatewaydev>eth0</keel:gatewaydev>",
        "<keel:rate_bytes_per_sec>1000</keel:rate_bytes_per_sec>",
        "<keel:rate_interval_us>10000</keel:rate_interval_us>",
        "<keel:devid>9</keel:devid>",
    };
    char *text;
    size_t i;

    keel_domain_config_init(&cfg);
    fill_unexpressible(&cfg);
    text = round_trip(&cfg);
    for (i = 1; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_msg(strstr(text, want[i]) != NULL, "no %s in\n%s", want[i],
                      text);
    ck_assert_ptr_null(strstr(text, want[0])); /* xenpvh says it */
    free(text);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(metadata_unset_and_empty)
{
    struct keel_domain_config cfg;
    char *text;

    keel_domain_config_init(&cfg);
    cfg.name = strdup("u");
    /* no type: the XML says xen, the metadata takes it back */
    cfg.bootloader_args = calloc(1, sizeof(char *)); /* empty, not unset */
    cfg.cpus.per_vcpu = true;
    OK(keel__affinity_add(th_ctx(), &cfg.cpus, "all"));
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<keel:type unset='yes'/>"));
    ck_assert_ptr_nonnull(strstr(text, "<keel:bootloader_args>\n"));
    ck_assert_ptr_nonnull(strstr(text, "<keel:spec>all</keel:spec>"));
    free(text);
    keel_domain_config_dispose(&cfg);
    th_assert_err(rd_rc(DOM("<metadata><keel:config xmlns:keel='https://"
                            "keel.example/xmlns/domain/1'><keel:pool "
                            "unset='no'/></keel:config></metadata>")),
                  KEEL_EINVAL, "keel:pool: unset must be 'yes', alone");
    th_assert_err(rd_rc(DOM("<metadata><keel:config xmlns:keel='https://"
                            "keel.example/xmlns/domain/1'><keel:tsc_mode>"
                            "fast</keel:tsc_mode></keel:config></metadata>")),
                  KEEL_EINVAL, "keel:tsc_mode: unknown value 'fast'");
}
END_TEST

START_TEST(writer_refuses)
{
    struct keel_domain_config cfg;
    struct keel_disk_config *d;
    char *text = NULL;

    keel_domain_config_init(&cfg);
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XML, &cfg, 0, &text),
        KEEL_EINVAL, "name: libvirt XML needs a domain name");
    cfg.name = strdup("bell\a");
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XML, &cfg, 0, &text),
        KEEL_EINVAL, "name: control characters");
    free(cfg.name);
    cfg.name = strdup("ok");
    cfg.kernel = strdup("\xc3\x28"); /* invalid UTF-8 */
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XML, &cfg, 0, &text),
        KEEL_EINVAL, "kernel: control characters or invalid UTF-8");
    free(cfg.kernel);
    cfg.kernel = NULL;
    OK(keel__config_add_disk(th_ctx(), &cfg, &d));
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XML, &cfg, 0, &text),
        KEEL_EINVAL, "disk 0: libvirt XML needs a vdev");
    ck_assert_ptr_null(text);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(strings_survive)
{
    struct keel_domain_config cfg;
    char *text;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(" <a & 'b'> \"c\" ]]> ");
    cfg.type = KEEL_DOMAIN_PV;
    cfg.cmdline = strdup("x\r\ny\tz\n");
    cfg.bootloader = strdup("\xe2\x82\xac \xf0\x9f\x90\xa7");
    OK(keel__strv_add(th_ctx(), &cfg.bootloader_args, "-v"));
    OK(keel__strv_add(th_ctx(), &cfg.bootloader_args, "--x=&"));
    text = round_trip(&cfg);
    ck_assert_ptr_nonnull(strstr(text, "<bootloader_args>-v --x=&amp;<"));
    ck_assert_ptr_null(strstr(text, "metadata"));
    free(text);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(hostile_input)
{
    struct keel_domain_config cfg;
    char deep[4096];
    size_t i, n = 0;

    th_assert_err(rd_rc("<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b "
                        "'&a;&a;&a;&a;'>]><domain type='xen'><name>&b;"
                        "</name></domain>"),
                  KEEL_EINVAL, "t.xml:1:13: DOCTYPE is not allowed");
    th_assert_err(rd_rc("<?xml version='1.0'?>\n<!DOCTYPE domain SYSTEM "
                        "'file:///etc/passwd'>\n<domain type='xen'/>"),
                  KEEL_EINVAL, "t.xml:2:");
    th_assert_err(rd_rc(DOM("<title>&xxe;</title>")), KEEL_ESYNTAX,
                  "Entity 'xxe' not defined");
    n += (size_t)snprintf(deep, sizeof(deep), "<domain type='xen'>");
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<d>");
    th_assert_err(rd_rc(deep), KEEL_EINVAL, "elements are nested too deeply");
    th_assert_err(rd_rc("<domain type='xen'><name>x</name>"), KEEL_ESYNTAX,
                  "t.xml:1:");
    th_assert_err(rd_rc(""), KEEL_ESYNTAX, "t.xml:1:1: empty document");
    keel_domain_config_init(&cfg);
    th_assert_err(keel_domain_config_read(th_ctx(), KEEL_CONFIG_XML, "n.xml",
                                          "<domain\0", 8, NULL, 0, &cfg),
                  KEEL_ESYNTAX, "n.xml:1:");
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(unsupported_named)
{
    th_assert_err(rd_rc(DOM("<devices><graphics type='vnc'/></devices>")),
                  KEEL_EINVAL, "t.xml:1:68: graphics: not supported by keel");
    th_assert_err(rd_rc(DOM("<devices><hostdev mode='subsystem'/></devices>")),
                  KEEL_EINVAL, "hostdev: not supported by keel");
    th_assert_err(rd_rc(DOM("<cpu mode='host-passthrough'/>")), KEEL_EINVAL,
                  "cpu: not supported by keel");
    th_assert_err(rd_rc(DOM("<devices><interface type='network'><source "
                            "network='default'/></interface></devices>")),
                  KEEL_EINVAL, "interface type 'network' is not supported");
    th_assert_err(rd_rc(DOM("<devices><disk type='file'><target dev='xvda'/>"
                            "<shareable/></disk></devices>")),
                  KEEL_EINVAL, "shareable: not supported by keel");
    th_assert_err(rd_rc(DOM("<features><apic eoi='on'/></features>")),
                  KEEL_EINVAL, "apic: attribute 'eoi' is not supported");
    th_assert_err(rd_rc(DOM("<on_lockfailure>poweroff</on_lockfailure>")),
                  KEEL_EINVAL, "on_lockfailure: not supported by keel");
    th_assert_err(rd_rc(DOM("<devices><interface type='bridge'><source "
                            "bridge='b'/><model type='e1000'/><vlan/>"
                            "</interface></devices>")),
                  KEEL_EINVAL, "vlan: not supported by keel");
    th_assert_err(rd_rc("<domain type='qemu'/>"), KEEL_EINVAL,
                  "domain type 'qemu' is not supported by keel (only xen)");
}
END_TEST

START_TEST(hvm_feature_absence)
{
    struct keel_domain_config cfg;

    keel_domain_config_init(&cfg);
    /* libvirt switches off what an HVM guest's XML leaves out */
    rd("<domain type='xen'><name>h</name><os><type>hvm</type></os>"
       "<features><acpi/></features></domain>",
       &cfg);
    ck_assert_int_eq(cfg.acpi, 1);
    ck_assert_int_eq(cfg.apic, 0);
    ck_assert_int_eq(cfg.pae, 0);
    ck_assert_int_eq(cfg.hap, KEEL_UNSET);
    ck_assert_int_eq(cfg.viridian, KEEL_UNSET);
    rd(DOM(""), &cfg); /* PV: nothing said, nothing set */
    ck_assert_int_eq(cfg.acpi, KEEL_UNSET);
    keel_domain_config_dispose(&cfg);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("test-config-xml");
    TCase *tc = th_tcase(s, "xml");

    tcase_add_test(tc, units);
    tcase_add_test(tc, memory_pairs);
    tcase_add_test(tc, vcpu_counts);
    tcase_add_test(tc, vcpupin);
    tcase_add_test(tc, metadata_every_field);
    tcase_add_test(tc, metadata_unset_and_empty);
    tcase_add_test(tc, writer_refuses);
    tcase_add_test(tc, strings_survive);
    tcase_add_test(tc, hostile_input);
    tcase_add_test(tc, unsupported_named);
    tcase_add_test(tc, hvm_feature_absence);
    return th_run(s);
}
