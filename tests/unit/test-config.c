/* test-config.c: the configuration model, and the data-driven driver of
 * every fixture under tests/data/config/ (see its README.md)
 *
 * One check test per case: read each input, compare the warnings, check
 * that all inputs of a case give one model, write it in every format,
 * compare with expect/, and read each output back to the same model.
 * KEEL_TEST_REGENERATE=1 rewrites the expected files instead of comparing.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/config.h>

#include "config/cfg.h"
#include "harness.h"

#define MAX_CASES 1024
#define MAX_ARGS 32

static const char *const exts[] = {NULL, "cfg", "json", "xml"};
static char *cases[MAX_CASES];
static unsigned int num_cases;
static char *bad_cases[MAX_CASES];
static unsigned int num_bad;
static char datadir[4096];
static bool regenerate;

/* --- small file helpers ------------------------------------------------- */

static char *
slurp(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len_r)
        *len_r = (size_t)n;
    return buf;
}

static void
spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void
data_path(char *buf, size_t sz, const char *sub, const char *name,
          const char *ext)
{
    snprintf(buf, sz, "%s/%s%s.%s", datadir, sub, name, ext);
}

/* Compares text with the file at path, or writes it when regenerating. */
static void
expect_text(const char *path, const char *text)
{
    char *want;

    if (regenerate) {
        spit(path, text);
        return;
    }
    want = slurp(path, NULL);
    ck_assert_msg(want != NULL, "%s is missing; got:\n%s", path, text);
    ck_assert_msg(!strcmp(want, text), "%s differs; got:\n%s", path, text);
    free(want);
}

/* --- warnings ------------------------------------------------------------- */

static char warnings[65536];

static void
capture(void *opaque, enum keel_log_level level, const char *func,
        const char *msg)
{
    size_t n = strlen(warnings);

    if (level == KEEL_LOG_WARN)
        snprintf(warnings + n, sizeof(warnings) - n, "%s\n", msg);
}

static void
expect_warnings(const char *name)
{
    char path[8192];
    char *want;

    data_path(path, sizeof(path), "", name, "warn");
    if (regenerate) {
        if (warnings[0])
            spit(path, warnings);
        else
            unlink(path);
        return;
    }
    want = slurp(path, NULL);
    ck_assert_msg(!strcmp(want ? want : "", warnings),
                  "%s: warnings differ; got:\n%s", name, warnings);
    free(want);
}

/* --- reading inputs ----------------------------------------------------- */

/* Reads NAME.args into a NULL-terminated vector (or NULL without one). */
static char **
read_args(const char *sub, const char *name, char **store)
{
    static char *argv[MAX_ARGS + 1];
    char path[8192], *line, *save = NULL;
    unsigned int n = 0;

    data_path(path, sizeof(path), sub, name, "args");
    *store = slurp(path, NULL);
    if (!*store)
        return NULL;
    for (line = strtok_r(*store, "\n", &save); line && n < MAX_ARGS;
         line = strtok_r(NULL, "\n", &save))
        argv[n++] = line;
    argv[n] = NULL;
    return argv;
}

/* Reads sub/NAME.ext as format fmt; returns the reader's code. */
static int
read_input(const char *sub, const char *name, int fmt,
           struct keel_domain_config *cfg)
{
    char path[8192], label[512], *args_store = NULL, **args = NULL;
    size_t len;
    char *buf;
    int rc;

    data_path(path, sizeof(path), sub, name, exts[fmt]);
    buf = slurp(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    if (fmt == KEEL_CONFIG_XL)
        args = read_args(sub, name, &args_store);
    snprintf(label, sizeof(label), "%s.%s", name, exts[fmt]);
    rc = keel_domain_config_read(th_ctx(), fmt, label, buf, len,
                                 (const char *const *)args, 0, cfg);
    free(buf);
    free(args_store);
    return rc;
}

static bool
has_input(const char *sub, const char *name, int fmt)
{
    char path[8192];
    struct stat st;

    data_path(path, sizeof(path), sub, name, exts[fmt]);
    return stat(path, &st) == 0;
}

/* --- one good case ---------------------------------------------------------
 */

/* Writes model in fmt, compares with expect/, reads it back. */
static void
check_output(const char *name, int fmt, const struct keel_domain_config *m)
{
    struct keel_domain_config back;
    char path[8192], label[512], *text = NULL;
    int rc;

    keel_domain_config_init(&back);
    rc = keel_domain_config_write(th_ctx(), fmt, m, 0, &text);
    snprintf(label, sizeof(label), "%s.%s.err", name, exts[fmt]);
    data_path(path, sizeof(path), "expect/", label, "");
    path[strlen(path) - 1] = '\0'; /* no extension after .err */
    if (rc) {
        char msg[2048];

        snprintf(msg, sizeof(msg), "%s\n", keel_ctx_last_error(th_ctx()));
        keel_ctx_clear_error(th_ctx());
        expect_text(path, msg);
        return;
    }
    if (regenerate)
        unlink(path);
    ck_assert_msg(access(path, F_OK) != 0, "%s exists but writing %s worked",
                  path, exts[fmt]);
    data_path(path, sizeof(path), "expect/", name, exts[fmt]);
    expect_text(path, text);
    snprintf(label, sizeof(label), "expect/%s.%s", name, exts[fmt]);
    rc = keel_domain_config_read(th_ctx(), fmt, label, text, strlen(text), NULL,
                                 0, &back);
    ck_assert_msg(rc == 0, "%s: reading back %s failed: %s", name, exts[fmt],
                  keel_ctx_last_error(th_ctx()));
    ck_assert_msg(keel_domain_config_equal(&back, m),
                  "%s: %s round trip changed the model:\n%s", name, exts[fmt],
                  text);
    keel_domain_config_dispose(&back);
    free(text);
}

START_TEST(good_case)
{
    const char *name = cases[_i];
    struct keel_domain_config first, cur;
    bool have_first = false;
    int fmt;

    keel_ctx_set_logger(th_ctx(), KEEL_LOG_WARN, capture, NULL);
    warnings[0] = '\0';
    keel_domain_config_init(&first);
    keel_domain_config_init(&cur);
    for (fmt = KEEL_CONFIG_XL; fmt <= KEEL_CONFIG_XML; fmt++) {
        if (!has_input("", name, fmt))
            continue;
        ck_assert_msg(read_input("", name, fmt, &cur) == 0, "%s.%s: %s", name,
                      exts[fmt], keel_ctx_last_error(th_ctx()));
        if (have_first)
            ck_assert_msg(keel_domain_config_equal(&first, &cur),
                          "%s.%s gives another model than the other inputs",
                          name, exts[fmt]);
        else
            OK(keel_domain_config_copy(th_ctx(), &first, &cur));
        have_first = true;
    }
    ck_assert(have_first);
    expect_warnings(name);
    for (fmt = KEEL_CONFIG_XL; fmt <= KEEL_CONFIG_XML; fmt++)
        check_output(name, fmt, &first);
    keel_domain_config_dispose(&first);
    keel_domain_config_dispose(&cur);
}
END_TEST

/* --- one bad case ------------------------------------------------------------
 */

START_TEST(bad_case)
{
    const char *name = bad_cases[_i];
    struct keel_domain_config cfg, empty;
    char path[8192], msg[2048];
    int fmt, rc = 0;

    keel_domain_config_init(&cfg);
    for (fmt = KEEL_CONFIG_XL; fmt <= KEEL_CONFIG_XML; fmt++)
        if (has_input("bad/", name, fmt))
            break;
    ck_assert_int_le(fmt, KEEL_CONFIG_XML);
    rc = read_input("bad/", name, fmt, &cfg);
    ck_assert_msg(rc < 0, "bad/%s.%s was accepted", name, exts[fmt]);
    keel_domain_config_init(&empty);
    ck_assert_msg(keel_domain_config_equal(&cfg, &empty),
                  "a refused read leaves the config empty");
    snprintf(msg, sizeof(msg), "%s\n", keel_ctx_last_error(th_ctx()));
    data_path(path, sizeof(path), "bad/", name, "err");
    expect_text(path, msg);
    keel_domain_config_dispose(&cfg);
}
END_TEST

/* --- the model itself
 * ---------------------------------------------------------- */

static void
sample(struct keel_domain_config *c)
{
    struct keel_disk_config *d;
    struct keel_vif_config *v;

    keel_domain_config_init(c);
    c->name = strdup("guest");
    c->memory_kb = 512 * 1024;
    c->on[KEEL_ON_CRASH] = KEEL_ACTION_PRESERVE;
    OK(keel__strv_add(th_ctx(), &c->bootloader_args, "-q"));
    OK(keel__affinity_add(th_ctx(), &c->cpus, "0-3,^2"));
    OK(keel__config_add_disk(th_ctx(), c, &d));
    d->target = strdup("/img,with,commas");
    d->vdev = strdup("xvda");
    OK(keel__config_add_vif(th_ctx(), c, &v));
    v->bridge = strdup("br0");
    v->mtu = 9000;
}

START_TEST(model_copy_equal)
{
    struct keel_domain_config a, b;

    sample(&a);
    keel_domain_config_init(&b);
    ck_assert(!keel_domain_config_equal(&a, &b));
    OK(keel_domain_config_copy(th_ctx(), &b, &a));
    ck_assert(keel_domain_config_equal(&a, &b));
    ck_assert_ptr_ne(a.disks[0].target, b.disks[0].target);
    b.vifs[0].mtu = 1500;
    ck_assert(!keel_domain_config_equal(&a, &b));
    b.vifs[0].mtu = 9000;
    free(b.bootloader_args[0]);
    b.bootloader_args[0] = strdup("-v");
    ck_assert(!keel_domain_config_equal(&a, &b));
    keel_domain_config_dispose(&a);
    keel_domain_config_dispose(&a); /* idempotent */
    keel_domain_config_dispose(&b);
    keel_domain_config_init(&a);
    ck_assert(keel_domain_config_equal(&a, &b));
}
END_TEST

START_TEST(model_unset_is_a_value)
{
    struct keel_domain_config a, b;

    keel_domain_config_init(&a);
    keel_domain_config_init(&b);
    ck_assert_int_eq(a.memory_kb, KEEL_UNSET);
    ck_assert_int_eq(a.nomigrate, KEEL_UNSET);
    b.nomigrate = 0;
    ck_assert(!keel_domain_config_equal(&a, &b));
    b.nomigrate = KEEL_UNSET;
    b.name = strdup("");
    ck_assert(!keel_domain_config_equal(&a, &b));
    keel_domain_config_dispose(&b);
}
END_TEST

START_TEST(model_defaults)
{
    struct keel_domain_config c;
    char *cmd = NULL;

    sample(&c);
    c.root = strdup("/dev/xvda1");
    c.extra = strdup("console=hvc0");
    OK(keel_domain_config_cmdline(th_ctx(), &c, &cmd));
    ck_assert_str_eq(cmd, "root=/dev/xvda1 console=hvc0");
    free(cmd);
    OK(keel_domain_config_set_defaults(th_ctx(), &c, 0));
    ck_assert_int_eq(c.type, KEEL_DOMAIN_PV);
    ck_assert_int_eq(c.maxmem_kb, 512 * 1024);
    ck_assert_int_eq(c.vcpus, 1);
    ck_assert_int_eq(c.cpu_weight, 256);
    ck_assert_int_eq(c.on[KEEL_ON_REBOOT], KEEL_ACTION_RESTART);
    ck_assert_int_eq(c.on[KEEL_ON_CRASH], KEEL_ACTION_PRESERVE);
    ck_assert_int_eq(c.on[KEEL_ON_SOFT_RESET], KEEL_ACTION_SOFT_RESET);
    ck_assert_str_eq(c.cmdline, "root=/dev/xvda1 console=hvc0");
    ck_assert_int_eq(c.disks[0].format, KEEL_DISK_FORMAT_RAW);
    ck_assert_int_eq(c.disks[0].access, KEEL_DISK_ACCESS_RW);
    ck_assert_int_eq(c.vifs[0].devid, 0);
    ck_assert_int_eq(c.vifs[0].mac[0], 0x00);
    ck_assert_int_eq(c.vifs[0].mac[1], 0x16);
    ck_assert_int_eq(c.vifs[0].mac[2], 0x3e);
    ck_assert_str_eq(c.vifs[0].script, "vif-bridge");
    ck_assert(keel__uuid_is_set(c.uuid));
    keel_domain_config_dispose(&c);
}
END_TEST

START_TEST(model_defaults_mac_is_stable)
{
    struct keel_domain_config a, b;

    sample(&a);
    sample(&b);
    OK(keel_domain_config_set_defaults(th_ctx(), &a, 0));
    memcpy(b.uuid, a.uuid, 16);
    OK(keel_domain_config_set_defaults(th_ctx(), &b, 0));
    ck_assert_mem_eq(a.vifs[0].mac, b.vifs[0].mac, 6);
    keel_domain_config_dispose(&a);
    keel_domain_config_dispose(&b);
}
END_TEST

START_TEST(model_defaults_refuse)
{
    struct keel_domain_config c;
    struct keel_disk_config *d;

    sample(&c);
    c.maxmem_kb = 1024;
    th_assert_err(keel_domain_config_set_defaults(th_ctx(), &c, 0), KEEL_EINVAL,
                  "maxmem: 1024 KiB is less than memory");
    c.maxmem_kb = KEEL_UNSET;
    c.vcpus = 4;
    c.maxvcpus = 2;
    th_assert_err(keel_domain_config_set_defaults(th_ctx(), &c, 0), KEEL_EINVAL,
                  "maxvcpus: 2 is less than vcpus (4)");
    c.maxvcpus = 4;
    OK(keel__config_add_disk(th_ctx(), &c, &d));
    d->vdev = strdup("xvda");
    th_assert_err(keel_domain_config_set_defaults(th_ctx(), &c, 0), KEEL_EINVAL,
                  "disk 1: vdev xvda is also disk 0's");
    free(c.name);
    c.name = NULL;
    th_assert_err(keel_domain_config_set_defaults(th_ctx(), &c, 0), KEEL_EINVAL,
                  "name: a domain needs a name");
    th_assert_err(keel_domain_config_set_defaults(th_ctx(), &c, 8), KEEL_EINVAL,
                  "unknown flags");
    keel_domain_config_dispose(&c);
}
END_TEST

static const struct {
    const char *in, *out;
} specs[] = {
    {"all", "all"},         {"0-3,5,^1", "0-3,5,^1"},
    {"3-3", "3"},           {"nodes:0-1,^node:1", "nodes:0-1,^node:1"},
    {"node:0-0", "node:0"}, {"node:2,all", "node:2,all"},
    {"4095", "4095"},       {"3,0-1,2", "0-3"},
    {"5,1,1-2", "1-2,5"},   {"0-3,5,^1,1", "0-3,5,^1,1"},
};

static const struct {
    const char *in, *why;
} bad_specs[] = {
    {"", "empty CPU list"},
    {"^1", "the first term cannot be negated"},
    {"1,", "ends in a comma"},
    {"3-1", "must not run backwards"},
    {"4096", "term 4096: expected a number"},
    {"0-3,x", "term x: expected"},
    {"nodes:", "term nodes:"},
    {"all,^all", "\"^all\" leaves nothing"},
    {" 1", "term  1"},
};

START_TEST(cpuspec_normalize)
{
    char *out = NULL;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(specs); i++) {
        OK(keel_cpuspec_normalize(th_ctx(), specs[i].in, &out));
        ck_assert_str_eq(out, specs[i].out);
        free(out);
    }
    for (i = 0; i < ARRAY_SIZE(bad_specs); i++)
        th_assert_err(keel_cpuspec_normalize(th_ctx(), bad_specs[i].in, &out),
                      KEEL_EINVAL, bad_specs[i].why);
}
END_TEST

START_TEST(cpuspec_resolve)
{
    struct keel_cpumap nodes[2], map, want;

    keel_cpumap_zero(&nodes[0]);
    keel_cpumap_zero(&nodes[1]);
    OK(keel_cpumap_parse(&nodes[0], "0-3", 0));
    OK(keel_cpumap_parse(&nodes[1], "4-7", 0));
    OK(keel_cpuspec_resolve(th_ctx(), "nodes:0-1,^node:1,6", 8, nodes, 2,
                            &map));
    OK(keel_cpumap_parse(&want, "0-3,6", 0));
    ck_assert(keel_cpumap_equal(&map, &want));
    OK(keel_cpuspec_resolve(th_ctx(), "all,^0-6", 8, nodes, 2, &map));
    OK(keel_cpumap_parse(&want, "7", 0));
    ck_assert(keel_cpumap_equal(&map, &want));
    th_assert_err(keel_cpuspec_resolve(th_ctx(), "8", 8, nodes, 2, &map),
                  KEEL_EINVAL, "CPU 8: the host has 8 CPU(s)");
    th_assert_err(keel_cpuspec_resolve(th_ctx(), "node:2", 8, nodes, 2, &map),
                  KEEL_EINVAL, "node 2: the host has 2 NUMA node(s)");
    th_assert_err(keel_cpuspec_resolve(th_ctx(), "1,^1", 8, nodes, 2, &map),
                  KEEL_EINVAL, "selects no CPU");
}
END_TEST

START_TEST(read_refuses_oversize_and_flags)
{
    struct keel_domain_config c;
    size_t len = KEEL_CONFIG_MAX_SIZE + 1;
    char *big = calloc(1, len);
    int fmt;

    keel_domain_config_init(&c);
    for (fmt = KEEL_CONFIG_XL; fmt <= KEEL_CONFIG_XML; fmt++)
        th_assert_err(keel_domain_config_read(th_ctx(), fmt, "big", big, len,
                                              NULL, 0, &c),
                      KEEL_E2BIG, "big: 1048577 bytes is more than");
    th_assert_err(keel_domain_config_read(th_ctx(), KEEL_CONFIG_XL, "f", "", 0,
                                          NULL, 1, &c),
                  KEEL_EINVAL, "unknown flags");
    th_assert_err(keel_domain_config_read(th_ctx(), KEEL_CONFIG_JSON, "f", "{}",
                                          2, (const char *const[]){"a=1", NULL},
                                          0, &c),
                  KEEL_EINVAL, "overrides apply to xl.cfg input only");
    th_assert_err(keel_domain_config_read_file(th_ctx(), KEEL_CONFIG_XL,
                                               th_path("none.cfg"), NULL, 0,
                                               &c),
                  KEEL_ENOENT, "none.cfg: cannot open");
    ck_assert_int_eq(keel_config_format_parse("cfg"), KEEL_CONFIG_XL);
    ck_assert_int_eq(keel_config_format_parse("yaml"), KEEL_EINVAL);
    free(big);
}
END_TEST

/* --- discovery
 * ------------------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the stem of each NAME.{cfg,json,xml} in dir to list, once. */
static unsigned int
discover(const char *dir, char **list)
{
    unsigned int n = 0, i;
    struct dirent *de;
    DIR *d = opendir(dir);
    char *dot;

    if (!d)
        return 0;
    while ((de = readdir(d)) && n < MAX_CASES) {
        dot = strrchr(de->d_name, '.');
        if (!dot || (strcmp(dot, ".cfg") && strcmp(dot, ".json") &&
                     strcmp(dot, ".xml")))
            continue;
        *dot = '\0';
        for (i = 0; i < n && strcmp(list[i], de->d_name); i++)
            ;
        if (i == n)
            list[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(list, n, sizeof(*list), cmp_str);
    return n;
}

int
main(void)
{
    const char *src = getenv("top_srcdir");
    char bad[8192];
    Suite *s = suite_create("config");
    TCase *tc;

    snprintf(datadir, sizeof(datadir), "%s/tests/data/config", src ? src : ".");
    snprintf(bad, sizeof(bad), "%s/bad", datadir);
    regenerate = getenv("KEEL_TEST_REGENERATE") != NULL;
    num_cases = discover(datadir, cases);
    num_bad = discover(bad, bad_cases);

    tc = th_tcase(s, "model");
    tcase_add_test(tc, model_copy_equal);
    tcase_add_test(tc, model_unset_is_a_value);
    tcase_add_test(tc, model_defaults);
    tcase_add_test(tc, model_defaults_mac_is_stable);
    tcase_add_test(tc, model_defaults_refuse);
    tcase_add_test(tc, cpuspec_normalize);
    tcase_add_test(tc, cpuspec_resolve);
    tcase_add_test(tc, read_refuses_oversize_and_flags);
    tc = th_tcase(s, "fixtures");
    if (num_cases)
        tcase_add_loop_test(tc, good_case, 0, (int)num_cases);
    if (num_bad)
        tcase_add_loop_test(tc, bad_case, 0, (int)num_bad);
    return th_run(s);
}
