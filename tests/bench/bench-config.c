/* bench-config.c: how fast keel reads and writes domain configurations
 *
 * One typical guest (an HVM domain with two disks, two vifs, pinning and
 * the usual keys) in each format: the measured side reads the text into a
 * model and writes it back out in the same format (what keeld does for
 * every define and dumpxml). The baseline is the bare parse of the same
 * document by the library underneath (libxml2 for XML, yajl for JSON; for
 * xl.cfg, which has no outside parser, yajl on the same config as JSON):
 * the ratio says what keel's mapping and writing cost over parsing alone.
 */
#include "config.h"

#include <libxml/parser.h>
#include <yajl/yajl_tree.h>

#include <keel/config.h>
#include <keel/keel.h>

#include "bench.h"

static const char typical_cfg[] =
    "# a typical HVM guest\n"
    "name = \"web-01\"\n"
    "uuid = \"6c7d5a4e-3b2f-4e1d-9c8b-7a6f5e4d3c2b\"\n"
    "type = \"hvm\"\n"
    "memory = 4096\n"
    "maxmem = 8192\n"
    "vcpus = 4\n"
    "maxvcpus = 8\n"
    "cpus = \"2-7,^4\"\n"
    "cpu_weight = 512\n"
    "cap = 200\n"
    "firmware = \"ovmf\"\n"
    "boot = \"cd\"\n"
    "on_poweroff = \"destroy\"\n"
    "on_reboot = \"restart\"\n"
    "on_crash = \"preserve\"\n"
    "localtime = 1\n"
    "pae = 1\n"
    "acpi = 1\n"
    "apic = 1\n"
    "hap = 1\n"
    "hpet = 1\n"
    "max_grant_frames = 64\n"
    "disk = [ 'format=raw, vdev=xvda, access=rw, target=/dev/vg0/web-01',\n"
    "         'format=qcow2, vdev=xvdb, access=ro, "
    "target=/srv/images/data.qcow2' ]\n"
    "vif = [ 'mac=00:16:3e:12:34:56, bridge=xenbr0, model=e1000',\n"
    "        'mac=00:16:3e:12:34:57, bridge=xenbr1, ip=10.0.0.5' ]\n";

struct conv {
    struct keel_ctx *ctx;
    enum keel_config_format format;
    const char *text;
    size_t len;
};

static int
parse_format(void *arg, uint64_t n)
{
    struct conv *c = arg;
    struct keel_domain_config cfg;
    char *out = NULL;
    uint64_t i;
    int rc = 0;

    keel_domain_config_init(&cfg);
    for (i = 0; i < n && !rc; i++) {
        rc = keel_domain_config_read(c->ctx, c->format, "bench", c->text,
                                     c->len, NULL, 0, &cfg);
        if (!rc)
            rc = keel_domain_config_write(c->ctx, c->format, &cfg, 0, &out);
        free(out);
        out = NULL;
    }
    keel_domain_config_dispose(&cfg);
    return rc;
}

static int
yajl_only(void *arg, uint64_t n)
{
    struct conv *c = arg;
    char err[128];
    uint64_t i;

    for (i = 0; i < n; i++) {
        yajl_val v = yajl_tree_parse(c->text, err, sizeof(err));

        if (!v)
            return -1;
        yajl_tree_free(v);
    }
    return 0;
}

static int
libxml_only(void *arg, uint64_t n)
{
    struct conv *c = arg;
    uint64_t i;

    for (i = 0; i < n; i++) {
        xmlDocPtr doc = xmlReadMemory(c->text, (int)c->len, "bench", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR);

        if (!doc)
            return -1;
        xmlFreeDoc(doc);
    }
    return 0;
}

static int
run(struct conv *measured, struct conv *base, bench_fn *base_fn,
    const char *name, const char *base_name)
{
    struct bench_side m = {name, parse_format, measured, 1};
    struct bench_side b = {base_name, base_fn, base, 1};
    int rc = bench_compare(&m, &b);

    if (!rc)
        bench_report(&m, &b, "configs/s");
    return rc;
}

int
main(void)
{
    struct keel_domain_config cfg;
    struct keel_ctx *ctx = NULL;
    char *json = NULL, *xml = NULL;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        return 1;
    keel_domain_config_init(&cfg);
    rc =
        keel_domain_config_read(ctx, KEEL_CONFIG_XL, "typical.cfg", typical_cfg,
                                sizeof(typical_cfg) - 1, NULL, 0, &cfg);
    if (!rc)
        rc = keel_domain_config_write(ctx, KEEL_CONFIG_JSON, &cfg, 0, &json);
    if (!rc)
        rc = keel_domain_config_write(ctx, KEEL_CONFIG_XML, &cfg, 0, &xml);
    if (rc) {
        fprintf(stderr, "bench-config: %s\n", keel_ctx_last_error(ctx));
        return 1;
    }
    {
        struct conv xl = {ctx, KEEL_CONFIG_XL, typical_cfg,
                          sizeof(typical_cfg) - 1};
        struct conv js = {ctx, KEEL_CONFIG_JSON, json, strlen(json)};
        struct conv xm = {ctx, KEEL_CONFIG_XML, xml, strlen(xml)};

        rc = run(&xl, &js, yajl_only, "config.xl_read_write",
                 "yajl_tree_parse of the same config as JSON");
        rc = rc ? rc
                : run(&js, &js, yajl_only, "config.json_read_write",
                      "yajl_tree_parse of the same JSON");
        rc = rc ? rc
                : run(&xm, &xm, libxml_only, "config.xml_read_write",
                      "xmlReadMemory of the same XML");
    }
    if (rc)
        fprintf(stderr, "bench-config: failed: %s\n", keel_ctx_last_error(ctx));
    free(json);
    free(xml);
    keel_domain_config_dispose(&cfg);
    keel_ctx_free(ctx);
    return rc ? 1 : 0;
}
