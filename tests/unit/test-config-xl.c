/* test-config-xl.c: unit tests of the xl.cfg codec's parts
 *
 * The grammar (lib/config/xlcfg-parse.c) through its store, the disk,
 * vif and rate specs (lib/config/xlspec.c) one by one, and the reader
 * and writer (lib/config/xlcfg.c) where a fixture in tests/data/config/
 * would say less: equivalent spellings, what is refused, round trips.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

#include "config/cfg.h"
#include "config/xlcfg-parse.h"
#include "harness.h"

/* --- helpers ---------------------------------------------------------- */

static int
parse(struct keel__xlstore *st, const char *text)
{
    keel__xlstore_init(st);
    return keel__xlstore_parse(th_ctx(), st, "t.cfg", 1, text, strlen(text));
}

static const struct keel__xlv *
value_of(const struct keel__xlstore *st, const char *key)
{
    const struct keel__xlset *set = keel__xlstore_find(st, key);

    ck_assert_msg(set != NULL, "no setting %s", key);
    return set->value;
}

/* Parses text, which must be refused with code and a message holding
 * needle. */
static void
parse_fails(const char *text, int code, const char *needle)
{
    struct keel__xlstore st;
    int rc = parse(&st, text);

    keel__xlstore_dispose(&st);
    th_assert_err(rc, code, needle);
}

static int
read_cfg(const char *text, const char *const *overrides,
         struct keel_domain_config *cfg)
{
    keel_domain_config_init(cfg);
    return keel_domain_config_read(th_ctx(), KEEL_CONFIG_XL, "t.cfg", text,
                                   strlen(text), overrides, 0, cfg);
}

static void
read_fails(const char *text, int code, const char *needle)
{
    struct keel_domain_config cfg;
    int rc = read_cfg(text, NULL, &cfg);

    keel_domain_config_dispose(&cfg);
    th_assert_err(rc, code, needle);
}

static void
disk_parse(const char *spec, struct keel_disk_config *d)
{
    keel__disk_config_init(d);
    OK(keel__disk_spec_parse(th_ctx(), NULL, spec, d));
}

static void
disk_fails(const char *spec, const char *needle)
{
    struct keel_disk_config d;
    int rc;

    keel__disk_config_init(&d);
    rc = keel__disk_spec_parse(th_ctx(), NULL, spec, &d);
    keel__disk_config_dispose(&d);
    th_assert_err(rc, KEEL_EINVAL, needle);
}

static bool
str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool
disk_equal(const struct keel_disk_config *a, const struct keel_disk_config *b)
{
    return str_eq(a->target, b->target) && a->format == b->format &&
           str_eq(a->vdev, b->vdev) && a->access == b->access &&
           a->cdrom == b->cdrom && str_eq(a->backend, b->backend) &&
           a->backendtype == b->backendtype && str_eq(a->script, b->script) &&
           a->direct_io_safe == b->direct_io_safe && a->discard == b->discard &&
           a->trusted == b->trusted;
}

/* --- lexer and parser ------------------------------------------------- */

START_TEST(grammar_atoms)
{
    struct keel__xlstore st;
    const struct keel__xlv *v;
    int64_t n;

    OK(parse(&st, "a = 'x\\ty'\nb=0x1f;c=017 # comment\nd = 42"));
    v = value_of(&st, "a");
    ck_assert_int_eq(v->kind, KEEL__XLV_STRING);
    ck_assert_str_eq(v->text, "x\ty");
    ck_assert_int_eq(keel__xlv_number(value_of(&st, "b"), &n), 0);
    ck_assert_int_eq(n, 31);
    ck_assert_int_eq(keel__xlv_number(value_of(&st, "c"), &n), 0);
    ck_assert_int_eq(n, 15);
    v = value_of(&st, "d");
    ck_assert_int_eq(v->at.line, 3);
    ck_assert_int_eq(v->at.col, 5);
    ck_assert_int_eq(keel__xlv_number(v, &n), 0);
    ck_assert_int_eq(n, 42);
    keel__xlstore_dispose(&st);
}
END_TEST

START_TEST(grammar_escapes)
{
    struct keel__xlstore st;

    OK(parse(&st, "a = \"\\\"\\'\\\\\\a\\b\\f\\n\\r\\t\\v\\x41\\101\\7\"\n"
                  "b = 'it\\'s'"));
    ck_assert_str_eq(value_of(&st, "a")->text, "\"'\\\a\b\f\n\r\t\vAA\a");
    ck_assert_str_eq(value_of(&st, "b")->text, "it's");
    keel__xlstore_dispose(&st);
    parse_fails("a = \"\\q\"", KEEL_ESYNTAX, "t.cfg:1:6: invalid escape '\\q'");
    parse_fails("a = \"\\x4\"", KEEL_ESYNTAX, "\\x needs two hex digits");
    parse_fails("a = \"\\400\"", KEEL_ESYNTAX, "octal escape over \\377");
    parse_fails("a = \"\\0\"", KEEL_ESYNTAX, "NUL byte in a string");
    parse_fails("a = \"abc\nb=1", KEEL_ESYNTAX, "t.cfg:1:5: unterminated");
    parse_fails("a = 'abc", KEEL_ESYNTAX, "unterminated string");
    parse_fails("a = 'a\\", KEEL_ESYNTAX, "unterminated string");
}
END_TEST

START_TEST(grammar_lists)
{
    struct keel__xlstore st;
    const struct keel__xlv *v;

    OK(parse(&st, "a = [\n  1,\n  [ 'x', [] ],\n\n  'y',\n]\nb = []\n"
                  "c = [[[[1]]]]"));
    v = value_of(&st, "a");
    ck_assert_int_eq(v->kind, KEEL__XLV_LIST);
    ck_assert_int_eq(v->count, 3);
    ck_assert_int_eq(v->items[1]->kind, KEEL__XLV_LIST);
    ck_assert_int_eq(v->items[1]->count, 2);
    ck_assert_int_eq(v->items[1]->items[1]->count, 0);
    ck_assert_str_eq(v->items[2]->text, "y");
    ck_assert_int_eq(v->items[2]->at.line, 5);
    ck_assert_int_eq(value_of(&st, "b")->count, 0);
    ck_assert_int_eq(value_of(&st, "c")->items[0]->items[0]->count, 1);
    keel__xlstore_dispose(&st);
    parse_fails("a = [,]", KEEL_ESYNTAX,
                "t.cfg:1:6: expected a value, "
                "found ','");
    parse_fails("a = [1 2]", KEEL_ESYNTAX, "expected ',' or ']'");
    parse_fails("a = [1", KEEL_ESYNTAX, "found end of input");
}
END_TEST

START_TEST(grammar_depth_bound)
{
    struct keel__xlstore st;
    char text[128];

    /* 32 levels are fine, 33 are refused */
    snprintf(text, sizeof(text), "a = %.32s1%.32s",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    OK(parse(&st, text));
    keel__xlstore_dispose(&st);
    snprintf(text, sizeof(text), "a = %.33s1%.33s",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    parse_fails(text, KEEL_ESYNTAX, "t.cfg:1:37: lists nested more than 32");
}
END_TEST

START_TEST(grammar_value_bound)
{
    size_t n = KEEL__XL_MAX_VALUES + 1, i;
    char *text = malloc(n * 2 + 16);
    struct keel__xlstore st;
    int rc;

    ck_assert_ptr_nonnull(text);
    strcpy(text, "a = [");
    for (i = 0; i < n; i++)
        strcat(text + 5 + 2 * i, "1,");
    strcat(text, "]");
    rc = parse(&st, text);
    keel__xlstore_dispose(&st);
    free(text);
    th_assert_err(rc, KEEL_ERANGE, "more than 131072 values");
}
END_TEST

START_TEST(grammar_statements)
{
    struct keel__xlstore st;

    /* empty statements, ';', a final statement with no newline */
    OK(parse(&st, ";;\n\n a=1;;b=2 ;\n\t# only a comment\nc='x'"));
    ck_assert_int_eq(st.count, 3);
    ck_assert_str_eq(value_of(&st, "c")->text, "x");
    keel__xlstore_dispose(&st);
    OK(parse(&st, "a.b_9 = 1\n# no newline after this comment"));
    ck_assert_int_eq(st.count, 1);
    keel__xlstore_dispose(&st);
    OK(parse(&st, ""));
    ck_assert_int_eq(st.count, 0);
    keel__xlstore_dispose(&st);
    parse_fails("a = 1 b = 2", KEEL_ESYNTAX,
                "t.cfg:1:7: expected newline or ';' after the value");
    parse_fails("a 1", KEEL_ESYNTAX, "expected '=' or '+='");
    parse_fails("= 1", KEEL_ESYNTAX, "t.cfg:1:1: expected a key, found '='");
    parse_fails("a = b", KEEL_ESYNTAX, "expected a value, found a key");
    parse_fails("a =", KEEL_ESYNTAX, "expected a value, found end of input");
}
END_TEST

START_TEST(grammar_lexical_errors)
{
    parse_fails("memory = -1", KEEL_ESYNTAX,
                "t.cfg:1:10: unexpected character '-' (python syntax?)");
    parse_fails("a = 1.5", KEEL_ESYNTAX, "'.' (python syntax?)");
    parse_fails("a = (1, 2)", KEEL_ESYNTAX, "'(' (python syntax?)");
    parse_fails("a = {}", KEEL_ESYNTAX, "unexpected character '{'");
    parse_fails("Name = 'x'", KEEL_ESYNTAX, "'N' (keys are lower case)");
    parse_fails("a = 1\r\n", KEEL_ESYNTAX, "carriage return");
    parse_fails("a = 1\n\x01", KEEL_ESYNTAX, "t.cfg:2:1: unexpected byte 0x01");
}
END_TEST

START_TEST(grammar_nul_respects_len)
{
    struct keel__xlstore st;
    static const char text[] = "a = 1\nb = 'x\0y'";
    int rc;

    /* len stops before the NUL: fine; past it: refused with position */
    keel__xlstore_init(&st);
    OK(keel__xlstore_parse(th_ctx(), &st, "t.cfg", 1, text, 5));
    ck_assert_int_eq(st.count, 1);
    rc = keel__xlstore_parse(th_ctx(), &st, "t.cfg", 1, text, sizeof(text) - 1);
    keel__xlstore_dispose(&st);
    th_assert_err(rc, KEEL_ESYNTAX, "t.cfg:2:7: unexpected NUL byte");
}
END_TEST

START_TEST(grammar_append_and_last_wins)
{
    struct keel__xlstore st;
    const struct keel__xlv *v;

    OK(parse(&st, "a = 'x'\nb = [1]\na += 'y'\nb += [2, 3]\nc = 1\nc = 2\n"
                  "d += 'new'\nb += []"));
    ck_assert_str_eq(value_of(&st, "a")->text, "xy");
    v = value_of(&st, "b");
    ck_assert_int_eq(v->count, 3);
    ck_assert_str_eq(v->items[2]->text, "3");
    ck_assert_str_eq(value_of(&st, "c")->text, "2");
    ck_assert_int_eq(keel__xlstore_find(&st, "c")->at.line, 6);
    ck_assert_str_eq(value_of(&st, "d")->text, "new");
    /* keys keep the order they first appeared in */
    ck_assert_str_eq(st.sets[0].key, "a");
    ck_assert_str_eq(st.sets[3].key, "d");
    keel__xlstore_dispose(&st);
    parse_fails("a = 'x'\na += [1]", KEEL_EINVAL,
                "t.cfg:2:6: a: cannot append a list to a string");
    parse_fails("a = [1]\na += 'x'", KEEL_EINVAL,
                "a: cannot append a string to a list");
    parse_fails("a = 1\na += 2", KEEL_EINVAL, "a: cannot use += with a number");
}
END_TEST

START_TEST(grammar_many_keys)
{
    struct keel__xlstore st;
    char text[64];
    unsigned int i;

    /* enough keys to grow the hash a few times */
    keel__xlstore_init(&st);
    for (i = 0; i < 1000; i++) {
        snprintf(text, sizeof(text), "k%u = '%u'\nk%u += ''", i, i, i / 2);
        OK(keel__xlstore_parse(th_ctx(), &st, "t.cfg", 1, text, strlen(text)));
    }
    ck_assert_int_eq(st.count, 1000);
    ck_assert_str_eq(keel__xlstore_find(&st, "k999")->value->text, "999");
    ck_assert_ptr_null(keel__xlstore_find(&st, "k1000"));
    keel__xlstore_dispose(&st);
}
END_TEST

START_TEST(number_bases)
{
    struct keel__xlv v = {.kind = KEEL__XLV_NUMBER};
    int64_t n;

    v.text = "0";
    ck_assert_int_eq(keel__xlv_number(&v, &n), 0);
    ck_assert_int_eq(n, 0);
    v.text = "0x7fffffffffffffff";
    ck_assert_int_eq(keel__xlv_number(&v, &n), 0);
    ck_assert_int_eq(n, INT64_MAX);
    v.text = "9223372036854775808";
    ck_assert_int_eq(keel__xlv_number(&v, &n), KEEL_ERANGE);
    v.text = "08";
    ck_assert_int_eq(keel__xlv_number(&v, &n), KEEL_EINVAL);
    v.text = "0x";
    ck_assert_int_eq(keel__xlv_number(&v, &n), KEEL_EINVAL);
    v.text = "1e5";
    ck_assert_int_eq(keel__xlv_number(&v, &n), KEEL_EINVAL);
    v.kind = KEEL__XLV_STRING;
    v.text = "5";
    ck_assert_int_eq(keel__xlv_number(&v, &n), KEEL_EINVAL);
}
END_TEST

/* --- disk specs ------------------------------------------------------- */

START_TEST(disk_positional_equals_keyword)
{
    struct keel_disk_config a, b, c;

    disk_parse("/dev/vg/g,,hda", &a);
    disk_parse("/dev/vg/g,raw,hda,rw", &b);
    disk_parse("format=raw, vdev=hda, access=rw, target=/dev/vg/g", &c);
    ck_assert(disk_equal(&b, &c));
    ck_assert_str_eq(a.target, "/dev/vg/g");
    ck_assert_int_eq(a.format, KEEL_DISK_FORMAT_RAW); /* "" is raw */
    ck_assert_str_eq(a.vdev, "hda");
    /* access unset here is rw once defaults are applied */
    ck_assert_int_eq(a.access, KEEL_DISK_ACCESS_UNSET);
    a.access = KEEL_DISK_ACCESS_RW;
    ck_assert(disk_equal(&a, &b));
    keel__disk_config_dispose(&a);
    keel__disk_config_dispose(&b);
    keel__disk_config_dispose(&c);
}
END_TEST

START_TEST(disk_target_swallows_rest)
{
    struct keel_disk_config d;

    disk_parse("vdev=xvda, target=/a,b=c, d,", &d);
    ck_assert_str_eq(d.target, "/a,b=c, d");
    ck_assert_str_eq(d.vdev, "xvda");
    keel__disk_config_dispose(&d);
    disk_parse("vdev=xvda,target=", &d);
    ck_assert_str_eq(d.target, "");
    keel__disk_config_dispose(&d);
    disk_parse("  \t/img ,\tqcow2,\n xvdb ,ro", &d);
    /* leading blanks go, trailing ones stay, as in xl */
    ck_assert_str_eq(d.target, "/img ");
    ck_assert_str_eq(d.vdev, "xvdb ");
    ck_assert_int_eq(d.access, KEEL_DISK_ACCESS_RO);
    keel__disk_config_dispose(&d);
    disk_fails("/img,qcow2 ,xvdb", "unknown value for format `qcow2 '");
}
END_TEST

START_TEST(disk_prefixes)
{
    struct keel_disk_config d;

    /* after a prefix the second positional is the vdev */
    disk_parse("phy:/dev/sdb,xvdb,w", &d);
    ck_assert_str_eq(d.target, "/dev/sdb");
    ck_assert_str_eq(d.vdev, "xvdb");
    ck_assert_int_eq(d.format, KEEL_DISK_FORMAT_UNSET);
    ck_assert_int_eq(d.access, KEEL_DISK_ACCESS_RW);
    keel__disk_config_dispose(&d);
    disk_parse("tap:aio:/x.img,xvda,r", &d);
    ck_assert_str_eq(d.target, "/x.img");
    ck_assert_int_eq(d.access, KEEL_DISK_ACCESS_RO);
    keel__disk_config_dispose(&d);
    disk_parse("tap2:qcow2:/q.img,xvdc", &d);
    ck_assert_int_eq(d.format, KEEL_DISK_FORMAT_QCOW2);
    ck_assert_str_eq(d.target, "/q.img");
    keel__disk_config_dispose(&d);
    disk_parse("drbd:res0,xvdd,w", &d);
    ck_assert_str_eq(d.script, "block-drbd");
    ck_assert_str_eq(d.target, "res0");
    keel__disk_config_dispose(&d);
    disk_fails("qed:/x,xvda", "unknown deprecated disk prefix `qed:'");
    disk_fails("foo:/x,xvda", "unknown deprecated disk prefix `foo:'");
    disk_fails("vhd:/x,xvda,w,qcow2:", "format respecified");
}
END_TEST

START_TEST(disk_cdroms)
{
    struct keel_disk_config d;

    disk_parse(",,hdc:cdrom,r", &d);
    ck_assert_str_eq(d.target, "");
    ck_assert_str_eq(d.vdev, "hdc");
    ck_assert(d.cdrom);
    ck_assert_int_eq(d.format, KEEL_DISK_FORMAT_RAW);
    keel__disk_config_dispose(&d);
    disk_parse(",hdc:cdrom,r", &d); /* no format: an empty drive */
    ck_assert_int_eq(d.format, KEEL_DISK_FORMAT_EMPTY);
    ck_assert_int_eq(d.access, KEEL_DISK_ACCESS_RO);
    keel__disk_config_dispose(&d);
    disk_parse("vdev=hdc, cdrom", &d); /* no target: removable */
    ck_assert_ptr_null(d.target);
    ck_assert(d.cdrom);
    keel__disk_config_dispose(&d);
    disk_parse("/iso,raw,hdc:disk,devtype=cdrom", &d);
    ck_assert(d.cdrom);
    keel__disk_config_dispose(&d);
    disk_fails("/iso,raw,hdc:floppy", "unknown deprecated type `floppy'");
    disk_fails("vdev=hdc, devtype=tape, target=/x",
               "unknown value for devtype");
}
END_TEST

START_TEST(disk_flags_and_keys)
{
    struct keel_disk_config d;

    disk_parse("backend=dd, backendtype=qdisk, script=blk, direct-io-safe, "
               "no-discard, untrusted, specification=xen, vdev=xvda, "
               "access=ro, format=vhd, target=/v",
               &d);
    ck_assert_str_eq(d.backend, "dd");
    ck_assert_int_eq(d.backendtype, KEEL_DISK_BACKEND_QDISK);
    ck_assert_str_eq(d.script, "blk");
    ck_assert_int_eq(d.direct_io_safe, 1);
    ck_assert_int_eq(d.discard, 0);
    ck_assert_int_eq(d.trusted, 0);
    ck_assert_int_eq(d.format, KEEL_DISK_FORMAT_VHD);
    keel__disk_config_dispose(&d);
    disk_parse("/x,,xvda,w,discard,trusted", &d);
    ck_assert_int_eq(d.discard, 1);
    ck_assert_int_eq(d.trusted, 1);
    keel__disk_config_dispose(&d);
    disk_fails("/x,,xvda,w,ro", "too many positional parameters");
    disk_fails("/x", "no vdev specified");
    disk_fails("vdev=xvda", "no target specified");
    disk_fails("vdev=a,vdev=b,target=/x", "vdev respecified");
    disk_fails("vdev=a,access=x,target=/x", "unknown value for access");
    disk_fails("vdev=a,backendtype=nbd,target=/x",
               "unknown value for backendtype");
    disk_fails("vdev=a,specification=virtio,target=/x",
               "specification=virtio is not supported by keel");
    disk_fails("vdev=a,color=red,target=/x", "unknown parameter `color=red'");
    disk_fails("/a=b,,xvda", "bad disk syntax near `/a=b'");
}
END_TEST

START_TEST(disk_error_position)
{
    struct keel__where at = {"vm.cfg", 3, 12};
    struct keel_disk_config d;
    int rc;

    keel__disk_config_init(&d);
    rc = keel__disk_spec_parse(th_ctx(), &at, "/x,qcow9,xvda", &d);
    keel__disk_config_dispose(&d);
    th_assert_err(rc, KEEL_EINVAL,
                  "vm.cfg:3:12: disk: unknown value for format `qcow9'");
}
END_TEST

START_TEST(disk_format_round_trip)
{
    static const char *const specs[] = {
        "/dev/vg/g,,hda",
        "phy:/dev/sdb,xvdb,w",
        ",,hdc:cdrom,r",
        "vdev=hdc, cdrom",
        "vdev=xvda, target=/a,b,c,,",
        "vdev=xvda, backend=, script=, target= lead",
        "backend=dd, backendtype=standalone, direct-io-safe, no-discard, "
        "untrusted, vdev=xvdz, format=empty, target=",
    };
    struct keel_disk_config a, b;
    char *spec;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(specs); i++) {
        disk_parse(specs[i], &a);
        OK(keel__disk_spec_format(th_ctx(), &a, &spec));
        disk_parse(spec, &b);
        ck_assert_msg(disk_equal(&a, &b), "%s -> %s", specs[i], spec);
        free(spec);
        keel__disk_config_dispose(&a);
        keel__disk_config_dispose(&b);
    }
}
END_TEST

START_TEST(disk_format_refusals)
{
    struct keel_disk_config d;
    char *spec = NULL;

    disk_parse("vdev=xvda, target=/x", &d);
    free(d.script);
    d.script = strdup("a,b");
    th_assert_err(keel__disk_spec_format(th_ctx(), &d, &spec), KEEL_EINVAL,
                  "script `a,b' has a comma");
    d.direct_io_safe = 0;
    th_assert_err(keel__disk_spec_format(th_ctx(), &d, &spec), KEEL_EINVAL,
                  "direct_io_safe off");
    ck_assert_ptr_null(spec);
    keel__disk_config_dispose(&d);
}
END_TEST

/* --- vif specs and rates ---------------------------------------------- */

START_TEST(vif_keys)
{
    struct keel_vif_config v;
    uint8_t mac[6] = {0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xde};

    keel__vif_config_init(&v);
    OK(keel__vif_spec_parse(th_ctx(), NULL,
                            "mac=00:16:3E:0a:bc:de, bridge=br0,ip=10.0.0.1 "
                            "10.0.0.2,,model=e1000,type=vif,vifname=v0,"
                            "script=vif-nat,rate=1MB/s@10ms,mtu=9000,"
                            "backend=net,devid=7,netdev=eth1",
                            &v));
    ck_assert_mem_eq(v.mac, mac, 6);
    ck_assert_str_eq(v.bridge, "br0");
    ck_assert_str_eq(v.ip, "10.0.0.1 10.0.0.2");
    ck_assert_str_eq(v.model, "e1000");
    ck_assert_int_eq(v.type, KEEL_VIF_TYPE_VIF);
    ck_assert_str_eq(v.vifname, "v0");
    ck_assert_str_eq(v.script, "vif-nat");
    ck_assert_int_eq(v.rate_bytes_per_sec, 1000000);
    ck_assert_int_eq(v.rate_interval_us, 10000);
    ck_assert_int_eq(v.mtu, 9000);
    ck_assert_str_eq(v.backend, "net");
    ck_assert_int_eq(v.devid, 7);
    ck_assert_str_eq(v.gatewaydev, "eth1");
    keel__vif_config_dispose(&v);
    keel__vif_config_init(&v);
    OK(keel__vif_spec_parse(th_ctx(), NULL, "", &v)); /* all defaults */
    ck_assert_ptr_null(v.bridge);
    ck_assert_int_eq(v.devid, KEEL_UNSET);
    /* unknown arguments are skipped with a warning, as in xl */
    OK(keel__vif_spec_parse(th_ctx(), NULL, "vlan=3,frob=1,trusted", &v));
    ck_assert_ptr_null(v.bridge);
    keel__vif_config_dispose(&v);
}
END_TEST

START_TEST(vif_refusals)
{
    static const struct {
        const char *spec, *needle;
    } cases[] = {
        {"mac=00:16:3e:00:00", "invalid mac `00:16:3e:00:00'"},
        {"type=e1000", "unknown type `e1000'"},
        {"mtu=20", "mtu `20' is not a number from 68 to 65535"},
        {"devid=-1", "devid `-1' is not a number"},
        {"rate=5", "invalid rate `5'"},
    };
    struct keel__where at = {"vm.cfg", 2, 9};
    struct keel_vif_config v;
    size_t i;
    int rc;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        keel__vif_config_init(&v);
        rc = keel__vif_spec_parse(th_ctx(), &at, cases[i].spec, &v);
        keel__vif_config_dispose(&v);
        th_assert_err(rc, KEEL_EINVAL, cases[i].needle);
    }
    keel__vif_config_init(&v);
    rc = keel__vif_spec_parse(th_ctx(), &at, "rate=1XB/s", &v);
    keel__vif_config_dispose(&v);
    th_assert_err(rc, KEEL_EINVAL, "vm.cfg:2:9: vif: invalid rate `1XB/s'");
}
END_TEST

START_TEST(vif_format_round_trip)
{
    struct keel_vif_config a, b;
    char *spec = NULL;

    keel__vif_config_init(&a);
    keel__vif_config_init(&b);
    OK(keel__vif_spec_parse(th_ctx(), NULL,
                            "mac=00:16:3e:00:00:01,bridge= br 0,rate=3Kb/s"
                            "@1s,type=ioemu,mtu=1500,devid=0,ip=",
                            &a));
    OK(keel__vif_spec_format(th_ctx(), &a, &spec));
    ck_assert_str_eq(spec, "mac=00:16:3e:00:00:01, bridge= br 0, ip=, "
                           "type=ioemu, rate=375B/s@1s, mtu=1500, devid=0");
    OK(keel__vif_spec_parse(th_ctx(), NULL, spec, &b));
    ck_assert_str_eq(b.bridge, " br 0");
    ck_assert_int_eq(b.rate_bytes_per_sec, 375);
    ck_assert_int_eq(b.rate_interval_us, 1000000);
    free(spec);
    free(a.ip);
    a.ip = strdup("a,b");
    th_assert_err(keel__vif_spec_format(th_ctx(), &a, &spec), KEEL_EINVAL,
                  "ip `a,b' has a comma");
    keel__vif_config_dispose(&a);
    keel__vif_config_dispose(&b);
}
END_TEST

START_TEST(rate_parse_units)
{
    static const struct {
        const char *text;
        int64_t bps, us;
    } cases[] = {
        {"100B/s", 100, 50000},
        {"5KB/s", 5000, 50000},
        {"5MB/s@20ms", 5000000, 20000},
        {"2GB/s@1s", 2000000000, 1000000},
        {"8b/s", 1, 50000},
        {"10Mb/s@100us", 1250000, 100},
        {"1Gb/s@1", 125000000, 1000000},
        {"4294967295GB/s@5u", INT64_C(4294967295000000000), 5},
        {"1KB/s@250m", 1000, 250000},
    };
    int64_t bps, us;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        OK(keel__rate_parse(th_ctx(), cases[i].text, &bps, &us));
        ck_assert_msg(bps == cases[i].bps && us == cases[i].us, "%s: %lld %lld",
                      cases[i].text, (long long)bps, (long long)us);
    }
}
END_TEST

START_TEST(rate_parse_refusals)
{
    int64_t bps, us;

    th_assert_err(keel__rate_parse(th_ctx(), "", &bps, &us), KEEL_EINVAL,
                  "invalid rate `'");
    th_assert_err(keel__rate_parse(th_ctx(), "10 MB/s", &bps, &us), KEEL_EINVAL,
                  "invalid rate");
    th_assert_err(keel__rate_parse(th_ctx(), "10kB/s", &bps, &us), KEEL_EINVAL,
                  "invalid rate");
    th_assert_err(keel__rate_parse(th_ctx(), "0B/s", &bps, &us), KEEL_EINVAL,
                  "invalid rate");
    th_assert_err(keel__rate_parse(th_ctx(), "4294967296B/s", &bps, &us),
                  KEEL_EINVAL, "invalid rate");
    th_assert_err(keel__rate_parse(th_ctx(), "7b/s", &bps, &us), KEEL_EINVAL,
                  "less than one byte per second");
    th_assert_err(keel__rate_parse(th_ctx(), "1B/s@2s", &bps, &us), KEEL_EINVAL,
                  "interval `2s' is over 1 s");
    th_assert_err(keel__rate_parse(th_ctx(), "1B/s@0ms", &bps, &us),
                  KEEL_EINVAL, "invalid replenishment interval `0ms'");
    th_assert_err(keel__rate_parse(th_ctx(), "1B/s@5ns", &bps, &us),
                  KEEL_EINVAL, "invalid replenishment interval");
}
END_TEST

START_TEST(rate_format_round_trip)
{
    static const int64_t bps[] = {1,
                                  999,
                                  1000,
                                  1250000,
                                  125000000,
                                  INT64_C(536870911875000000),
                                  INT64_C(4294967295000000000)};
    static const int64_t us[] = {1, 999, 50000, 1000000};
    int64_t b2, u2;
    char *text;
    size_t i, j;

    for (i = 0; i < ARRAY_SIZE(bps); i++)
        for (j = 0; j < ARRAY_SIZE(us); j++) {
            OK(keel__rate_format(th_ctx(), bps[i], us[j], &text));
            OK(keel__rate_parse(th_ctx(), text, &b2, &u2));
            ck_assert_msg(b2 == bps[i] && u2 == us[j], "%s", text);
            free(text);
        }
    OK(keel__rate_format(th_ctx(), 125000000, 50000, &text));
    ck_assert_str_eq(text, "125MB/s");
    free(text);
    th_assert_err(keel__rate_format(th_ctx(), 0, 50000, &text), KEEL_EINVAL,
                  "cannot be written");
    th_assert_err(keel__rate_format(th_ctx(), 1, 1000001, &text), KEEL_EINVAL,
                  "cannot be written");
    th_assert_err(keel__rate_format(th_ctx(), INT64_MAX, 50000, &text),
                  KEEL_EINVAL, "cannot be written as xl's RATE/s");
}
END_TEST

/* --- the reader and writer -------------------------------------------- */

START_TEST(read_overrides)
{
    static const char *const ov[] = {"memory=1024", "name += '-b'",
                                     "disk += ['/y,,xvdb']", NULL};
    static const char *const bad[] = {"vcpus=2", "memory='x'", NULL};
    struct keel_domain_config cfg;
    int rc;

    OK(read_cfg("name='a'\nmemory=512\ndisk=['/x,,xvda']\n", ov, &cfg));
    ck_assert_str_eq(cfg.name, "a-b");
    ck_assert_int_eq(cfg.memory_kb, 1024 * 1024);
    ck_assert_int_eq(cfg.num_disks, 2);
    ck_assert_str_eq(cfg.disks[1].vdev, "xvdb");
    keel_domain_config_dispose(&cfg);
    rc = read_cfg("name='a'\n", bad, &cfg);
    keel_domain_config_dispose(&cfg);
    th_assert_err(rc, KEEL_EINVAL,
                  "<command line>:2:8: memory: expected a number, found a "
                  "string");
}
END_TEST

START_TEST(read_values)
{
    struct keel_domain_config cfg;

    OK(read_cfg("memory=0x100\nmaxmem=01000\ncpus=['1', 2]\nnomigrate=5\n"
                "rtc_timeoffset=4294967196\ntsc_mode=1\n"
                "bootloader_args='-q  --x\t'\nbuilder='g'\nhap=0\n",
                NULL, &cfg));
    ck_assert_int_eq(cfg.memory_kb, 256 * 1024);
    ck_assert_int_eq(cfg.maxmem_kb, 512 * 1024);
    ck_assert(cfg.cpus.per_vcpu);
    ck_assert_int_eq(cfg.cpus.count, 2);
    ck_assert_int_eq(cfg.nomigrate, 1);
    ck_assert_int_eq(cfg.hap, 0);
    ck_assert_int_eq(cfg.rtc_timeoffset, -100);
    ck_assert_int_eq(cfg.tsc_mode, KEEL_TSC_ALWAYS_EMULATE);
    ck_assert_str_eq(cfg.bootloader_args[1], "--x");
    ck_assert_ptr_null(cfg.bootloader_args[2]);
    ck_assert_int_eq(cfg.type, KEEL_DOMAIN_PV);
    keel_domain_config_dispose(&cfg);
    OK(read_cfg("bootloader_args=[]\n", NULL, &cfg));
    ck_assert_ptr_nonnull(cfg.bootloader_args);
    ck_assert_ptr_null(cfg.bootloader_args[0]);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(read_refusals)
{
    read_fails("memory = '512'", KEEL_EINVAL,
               "t.cfg:1:10: memory: expected a number, found a string");
    read_fails("memory = 0", KEEL_EINVAL, "memory: 0 is out of range");
    read_fails("vcpus = 4097", KEEL_EINVAL, "vcpus: 4097 is out of range");
    read_fails("cpu_weight = 65536", KEEL_EINVAL, "cpu_weight: 65536 is out");
    read_fails("memory = 099", KEEL_EINVAL, "`099' is not a number");
    read_fails("name = ['x']", KEEL_EINVAL,
               "name: expected a string, found a "
               "list");
    read_fails("disk = '/x,,xvda'", KEEL_EINVAL, "disk: expected a list");
    read_fails("viridian = ['base']", KEEL_EINVAL, "not supported by keel");
    read_fails("type = 'xen'", KEEL_EINVAL, "unknown type `xen'");
    read_fails("type='pv'\nbuilder='hvm'", KEEL_EINVAL,
               "t.cfg:2:9: builder: `hvm' contradicts type");
    read_fails("builder='xen'", KEEL_EINVAL, "unknown builder");
    read_fails("on_crash = 'reboot'", KEEL_EINVAL, "unknown action `reboot'");
    read_fails("tsc_mode = 4", KEEL_EINVAL, "tsc_mode: 4 is out of range 0..3");
    read_fails("tsc_mode = 'fast'", KEEL_EINVAL, "unknown mode `fast'");
    read_fails("uuid = '1234'", KEEL_EINVAL, "`1234' is not a uuid");
    read_fails("cpus = ['0', '^1']", KEEL_EINVAL, "t.cfg:1:14: cpus: ");
    read_fails("period = 100\nbudget = 200", KEEL_EINVAL,
               "budget: 200 is more than period 100");
    read_fails("rtc_timeoffset = 4294967295", KEEL_EINVAL, "(-1 s)");
    read_fails("rtc_timeoffset = 4294967296", KEEL_EINVAL, "out of range");
}
END_TEST

START_TEST(write_refusals)
{
    struct keel_domain_config cfg;
    char *text = NULL;

    keel_domain_config_init(&cfg);
    cfg.memory_kb = 524289;
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XL, &cfg, 0, &text),
        KEEL_EINVAL,
        "memory: 524289 KiB is not a whole number of "
        "MiB, which xl.cfg cannot express");
    cfg.memory_kb = KEEL_UNSET;
    cfg.vcpus = 5000;
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XL, &cfg, 0, &text),
        KEEL_EINVAL, "vcpus: 5000 is out of range 1..4096");
    cfg.vcpus = KEEL_UNSET;
    cfg.rtc_timeoffset = INT64_C(1) << 40;
    th_assert_err(
        keel_domain_config_write(th_ctx(), KEEL_CONFIG_XL, &cfg, 0, &text),
        KEEL_EINVAL, "rtc_timeoffset:");
    ck_assert_ptr_null(text);
    keel_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(write_round_trip)
{
    struct keel_domain_config a, b;
    char *text = NULL;

    OK(read_cfg("name='q\"\\\\\x01\xc3\xa9'\nrtc_timeoffset=4294963696\n"
                "cpus='0-3'\ncpus_soft=['1','2']\nvif=['']\n"
                "bootloader_args=[]\nmaxmem=2048\n",
                NULL, &a));
    OK(keel_domain_config_write(th_ctx(), KEEL_CONFIG_XL, &a, 0, &text));
    ck_assert_str_eq(text, "name = \"q\\\"\\\\\\x01\xc3\xa9\"\n"
                           "maxmem = 2048\n"
                           "cpus = \"0-3\"\n"
                           "cpus_soft = [ \"1\", \"2\" ]\n"
                           "bootloader_args = []\n"
                           "vif = [\n    \"\",\n]\n"
                           "rtc_timeoffset = 4294963696\n");
    OK(read_cfg(text, NULL, &b));
    ck_assert(keel_domain_config_equal(&a, &b));
    ck_assert_int_eq(b.rtc_timeoffset, -3600);
    free(text);
    keel_domain_config_dispose(&a);
    keel_domain_config_dispose(&b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("test-config-xl");
    TCase *tc = th_tcase(s, "grammar");

    tcase_add_test(tc, grammar_atoms);
    tcase_add_test(tc, grammar_escapes);
    tcase_add_test(tc, grammar_lists);
    tcase_add_test(tc, grammar_depth_bound);
    tcase_add_test(tc, grammar_value_bound);
    tcase_add_test(tc, grammar_statements);
    tcase_add_test(tc, grammar_lexical_errors);
    tcase_add_test(tc, grammar_nul_respects_len);
    tcase_add_test(tc, grammar_append_and_last_wins);
    tcase_add_test(tc, grammar_many_keys);
    tcase_add_test(tc, number_bases);
    tc = th_tcase(s, "disk");
    tcase_add_test(tc, disk_positional_equals_keyword);
    tcase_add_test(tc, disk_target_swallows_rest);
    tcase_add_test(tc, disk_prefixes);
    tcase_add_test(tc, disk_cdroms);
    tcase_add_test(tc, disk_flags_and_keys);
    tcase_add_test(tc, disk_error_position);
    tcase_add_test(tc, disk_format_round_trip);
    tcase_add_test(tc, disk_format_refusals);
    tc = th_tcase(s, "vif");
    tcase_add_test(tc, vif_keys);
    tcase_add_test(tc, vif_refusals);
    tcase_add_test(tc, vif_format_round_trip);
    tcase_add_test(tc, rate_parse_units);
    tcase_add_test(tc, rate_parse_refusals);
    tcase_add_test(tc, rate_format_round_trip);
    tc = th_tcase(s, "codec");
    tcase_add_test(tc, read_overrides);
    tcase_add_test(tc, read_values);
    tcase_add_test(tc, read_refusals);
    tcase_add_test(tc, write_refusals);
    tcase_add_test(tc, write_round_trip);
    return th_run(s);
}
