/* xlcfg.c: the xl.cfg codec, settings to the model and back
 *
 * Reading parses the file and then each override (xlcfg-parse.c) into
 * one store, so an override replaces or `+=`-extends a file's setting as
 * on xl's command line, then maps each setting onto the model through
 * the key table below: a value of the wrong type or out of range is
 * KEEL_EINVAL "FILE:LINE:COL: KEY: what", naming where the value starts.
 * A key xl reads but keel does not model is warned about and ignored, as
 * is a key nobody knows (xl ignores those silently).
 *
 * Writing walks the same table, so a key is written where it is read,
 * and only set fields are written. What xl.cfg cannot express (memory
 * that is not whole MiB, a number the reader would refuse) is refused
 * with KEEL_EINVAL, so what is written always reads back equal.
 *
 * Checklist when adding a key: a row in keys[] (reader and writer), the
 * unsupported[] list if it was there, config.h's checklist, a fixture in
 * tests/data/config/ and docs/man/keel-config.5.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "xlcfg-parse.h"

#define MIB_MAX (INT64_C(1) << 31) /* memory and maxmem, in MiB */
#define VCPUS_MAX 4096

struct reader {
    struct keel_ctx *ctx;
    struct keel_domain_config *cfg;
    const struct keel__xlset *builder; /* applied after type */
    const struct keel__xlset *cmdline;
    const struct keel__xlset *budget;
};

struct writer {
    struct keel_ctx *ctx;
    const struct keel_domain_config *cfg;
    struct keel__buf b;
};

struct key {
    const char *name;
    int (*read)(struct reader *rd, const struct key *k,
                const struct keel__xlset *set);
    int (*write)(struct writer *wr, const struct key *k);
    size_t off;       /* of the field in keel_domain_config */
    int64_t min, max; /* numbers: the range, as written in xl.cfg */
};

#define FIELD(cfg, k, type) ((type *)((char *)(cfg) + (k)->off))

/* --- reading values --------------------------------------------------- */

static int value_error(struct keel_ctx *ctx, const struct keel__xlv *v,
                       const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "FILE:LINE:COL: KEY: what", at the value. */
static int
value_error(struct keel_ctx *ctx, const struct keel__xlv *v, const char *key,
            const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = keel__where_verror(ctx, KEEL_EINVAL, &v->at, key, fmt, ap);
    va_end(ap);
    return rc;
}

/* A string; a number's text is one too, as in xl (name = 42). */
static int
get_string(struct reader *rd, const char *key, const struct keel__xlv *v,
           const char **s_r)
{
    if (v->kind == KEEL__XLV_LIST)
        return value_error(rd->ctx, v, key, "expected a string, found %s",
                           keel__xlv_kind_name(v->kind));
    *s_r = v->text;
    return 0;
}

static int
get_number(struct reader *rd, const char *key, const struct keel__xlv *v,
           int64_t min, int64_t max, int64_t *n_r)
{
    int rc;

    if (v->kind != KEEL__XLV_NUMBER)
        return value_error(rd->ctx, v, key, "expected a number, found %s",
                           keel__xlv_kind_name(v->kind));
    rc = keel__xlv_number(v, n_r);
    if (rc == KEEL_EINVAL)
        return value_error(rd->ctx, v, key,
                           "`%s' is not a number (decimal, 0octal or 0xhex)",
                           v->text);
    if (rc || *n_r < min || *n_r > max)
        return value_error(rd->ctx, v, key,
                           "%s is out of range %" PRId64 "..%" PRId64, v->text,
                           min, max);
    return 0;
}

/* --- generic readers -------------------------------------------------- */

static int
read_string(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    char **to = FIELD(rd->cfg, k, char *), *copy;
    const char *s = NULL;
    int rc = get_string(rd, k->name, set->value, &s);

    if (rc)
        return rc;
    copy = keel__strdup(rd->ctx, s);
    if (!copy)
        return KEEL_ENOMEM;
    free(*to);
    *to = copy;
    return 0;
}

static int
read_number(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    return get_number(rd, k->name, set->value, k->min, k->max,
                      FIELD(rd->cfg, k, int64_t));
}

static int
read_memory(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    int64_t mib;
    int rc = get_number(rd, k->name, set->value, k->min, k->max, &mib);

    if (!rc)
        *FIELD(rd->cfg, k, int64_t) = mib * 1024;
    return rc;
}

/* A boolean is a number: 0 is false, any other true. */
static int
read_bool(struct reader *rd, const struct key *k, const struct keel__xlset *set)
{
    int64_t n;
    int rc = get_number(rd, k->name, set->value, 0, INT64_MAX, &n);

    if (!rc)
        *FIELD(rd->cfg, k, int) = n != 0;
    return rc;
}

/* on_*: k->min is the event. */
static int
read_action(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    const char *s = NULL;
    int rc = get_string(rd, k->name, set->value, &s), a;

    if (rc)
        return rc;
    a = keel_action_parse(s);
    if (a < 0)
        return value_error(rd->ctx, set->value, k->name,
                           "unknown action `%s' (destroy, restart, "
                           "rename-restart, preserve, coredump-destroy, "
                           "coredump-restart or soft-reset)",
                           s);
    rd->cfg->on[k->min] = a;
    return 0;
}

/* --- special readers -------------------------------------------------- */

static int
read_uuid(struct reader *rd, const struct key *k, const struct keel__xlset *set)
{
    const char *s = NULL;
    int rc = get_string(rd, k->name, set->value, &s);

    if (!rc && keel_uuid_parse(s, rd->cfg->uuid))
        rc = value_error(rd->ctx, set->value, k->name,
                         "`%s' is not a uuid (8-4-4-4-12 hex digits)", s);
    return rc;
}

static int
read_type(struct reader *rd, const struct key *k, const struct keel__xlset *set)
{
    const char *s = NULL;
    int rc = get_string(rd, k->name, set->value, &s), t;

    if (rc)
        return rc;
    t = keel_domain_type_parse(s);
    if (t < 0)
        return value_error(rd->ctx, set->value, k->name,
                           "unknown type `%s' (pv, pvh or hvm)", s);
    rd->cfg->type = t;
    return 0;
}

/* builder, deprecated since Xen 4.10, is applied once type is known. */
static int
read_builder(struct reader *rd, const struct key *k,
             const struct keel__xlset *set)
{
    const char *s = NULL;

    rd->builder = set;
    return get_string(rd, k->name, set->value, &s);
}

/* xl takes any prefix of "hvm" or "generic" (even the empty one, which
 * means hvm) and refuses a builder that contradicts type. */
static int
apply_builder(struct reader *rd)
{
    const struct keel__xlset *set = rd->builder;
    const char *s = set->value->text;
    size_t n = strlen(s);
    int type;

    if (!strncmp(s, "hvm", n) && n <= 3)
        type = KEEL_DOMAIN_HVM;
    else if (!strncmp(s, "generic", n) && n <= 7)
        type = KEEL_DOMAIN_PV;
    else
        return value_error(rd->ctx, set->value, "builder",
                           "unknown builder `%s' (generic or hvm)", s);
    if (rd->cfg->type && rd->cfg->type != (enum keel_domain_type)type)
        return value_error(rd->ctx, set->value, "builder",
                           "`%s' contradicts type", s);
    keel_warn(rd->ctx, "%s:%u:%u: builder: deprecated, use type=\"%s\"",
              set->at.file, set->at.line, set->at.col,
              keel_domain_type_name(type));
    rd->cfg->type = type;
    return 0;
}

/* cpus, cpus_soft: a string for every vCPU or a list, one per vCPU. */
static int
read_cpus(struct reader *rd, const struct key *k, const struct keel__xlset *set)
{
    struct keel_affinity_config *aff =
        FIELD(rd->cfg, k, struct keel_affinity_config);
    const struct keel__xlv *v = set->value, *item = v;
    unsigned int i;
    const char *s = NULL;
    int rc = 0;

    keel__affinity_dispose(aff);
    aff->per_vcpu = v->kind == KEEL__XLV_LIST;
    for (i = 0; !rc && (aff->per_vcpu ? i < v->count : i < 1); i++) {
        item = aff->per_vcpu ? v->items[i] : v;
        rc = get_string(rd, k->name, item, &s);
        if (!rc) {
            rc = keel__affinity_add(rd->ctx, aff, s);
            if (rc)
                keel__error_prefix(rd->ctx, "%s:%u:%u: %s: ", item->at.file,
                                   item->at.line, item->at.col, k->name);
        }
    }
    return rc;
}

/* The deprecated string form is split at blanks, as xl does. */
static int
split_args(struct reader *rd, const char *s, char ***strv)
{
    char *copy = keel__strdup(rd->ctx, s), *word, *save = NULL;
    int rc = copy ? 0 : KEEL_ENOMEM;

    for (word = copy ? strtok_r(copy, " \t\n", &save) : NULL; word && !rc;
         word = strtok_r(NULL, " \t\n", &save))
        rc = keel__strv_add(rd->ctx, strv, word);
    free(copy);
    return rc;
}

static int
read_bootloader_args(struct reader *rd, const struct key *k,
                     const struct keel__xlset *set)
{
    const struct keel__xlv *v = set->value;
    char ***strv = &rd->cfg->bootloader_args;
    unsigned int i;
    const char *s = NULL;
    int rc = 0;

    keel__strv_free(*strv);
    *strv = NULL;
    if (v->kind != KEEL__XLV_LIST) {
        keel_warn(rd->ctx,
                  "%s:%u:%u: %s: a string is deprecated, use a "
                  "list of arguments",
                  v->at.file, v->at.line, v->at.col, k->name);
        rc = split_args(rd, v->text, strv);
        if (rc)
            keel__error_prefix(rd->ctx, "%s:%u:%u: %s: ", v->at.file,
                               v->at.line, v->at.col, k->name);
        return rc;
    }
    /* an empty list is a set, empty argument vector */
    *strv = calloc(1, sizeof(**strv));
    if (!*strv)
        return keel_error(rd->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; !rc && i < v->count; i++) {
        rc = get_string(rd, k->name, v->items[i], &s);
        if (!rc && (rc = keel__strv_add(rd->ctx, strv, s)))
            keel__error_prefix(rd->ctx, "%s:%u:%u: %s: ", v->items[i]->at.file,
                               v->items[i]->at.line, v->items[i]->at.col,
                               k->name);
    }
    return rc;
}

static int
device_list(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    if (set->value->kind != KEEL__XLV_LIST)
        return value_error(rd->ctx, set->value, k->name,
                           "expected a list, found %s",
                           keel__xlv_kind_name(set->value->kind));
    return 0;
}

static int
read_disks(struct reader *rd, const struct key *k,
           const struct keel__xlset *set)
{
    const struct keel__xlv *v = set->value;
    struct keel_disk_config *disk;
    unsigned int i;
    const char *s = NULL;
    int rc = device_list(rd, k, set);

    for (i = 0; !rc && i < v->count; i++) {
        rc = get_string(rd, k->name, v->items[i], &s);
        if (!rc && (rc = keel__config_add_disk(rd->ctx, rd->cfg, &disk)))
            keel__error_prefix(rd->ctx, "%s:%u:%u: %s: ", v->items[i]->at.file,
                               v->items[i]->at.line, v->items[i]->at.col,
                               k->name);
        if (!rc)
            rc = keel__disk_spec_parse(rd->ctx, &v->items[i]->at, s, disk);
    }
    return rc;
}

static int
read_vifs(struct reader *rd, const struct key *k, const struct keel__xlset *set)
{
    const struct keel__xlv *v = set->value;
    struct keel_vif_config *vif;
    unsigned int i;
    const char *s = NULL;
    int rc = device_list(rd, k, set);

    for (i = 0; !rc && i < v->count; i++) {
        rc = get_string(rd, k->name, v->items[i], &s);
        if (!rc && (rc = keel__config_add_vif(rd->ctx, rd->cfg, &vif)))
            keel__error_prefix(rd->ctx, "%s:%u:%u: %s: ", v->items[i]->at.file,
                               v->items[i]->at.line, v->items[i]->at.col,
                               k->name);
        if (!rc)
            rc = keel__vif_spec_parse(rd->ctx, &v->items[i]->at, s, vif);
    }
    return rc;
}

/* A name, or one of the numbers 0..3 xl still takes with a warning. */
static int
read_tsc_mode(struct reader *rd, const struct key *k,
              const struct keel__xlset *set)
{
    const struct keel__xlv *v = set->value;
    const char *s = NULL;
    int64_t n;
    int rc, mode;

    if (v->kind == KEEL__XLV_NUMBER) {
        rc = get_number(rd, k->name, v, 0, 3, &n);
        if (rc)
            return rc;
        rd->cfg->tsc_mode = (enum keel_tsc_mode)(n + 1);
        keel_warn(rd->ctx,
                  "%s:%u:%u: %s: a number is deprecated, use "
                  "tsc_mode=\"%s\"",
                  v->at.file, v->at.line, v->at.col, k->name,
                  keel_tsc_mode_name(rd->cfg->tsc_mode));
        return 0;
    }
    rc = get_string(rd, k->name, v, &s);
    if (rc)
        return rc;
    mode = keel_tsc_mode_parse(s);
    if (mode < 0)
        return value_error(rd->ctx, v, k->name,
                           "unknown mode `%s' (default, always_emulate, "
                           "native or native_paravirt)",
                           s);
    rd->cfg->tsc_mode = mode;
    return 0;
}

static int
read_viridian(struct reader *rd, const struct key *k,
              const struct keel__xlset *set)
{
    if (set->value->kind == KEEL__XLV_LIST)
        return value_error(rd->ctx, set->value, k->name,
                           "the list of enlightenments is not supported by "
                           "keel, only viridian=0 or 1");
    return read_bool(rd, k, set);
}

/* libxl keeps the offset as a uint32_t: a negative one is written as its
 * two's complement and read back as negative. */
static int
read_rtc_timeoffset(struct reader *rd, const struct key *k,
                    const struct keel__xlset *set)
{
    int64_t n;
    int rc = get_number(rd, k->name, set->value, 0, UINT32_MAX, &n);

    if (rc)
        return rc;
    n = n > INT32_MAX ? n - (INT64_C(1) << 32) : n;
    /* the model's unset is -1, so -1 s cannot be told from no offset */
    if (n == KEEL_UNSET)
        return value_error(rd->ctx, set->value, k->name,
                           "%s (-1 s) is not supported by keel",
                           set->value->text);
    rd->cfg->rtc_timeoffset = n;
    return 0;
}

/* budget is keel's: xl.cfg has no budget key (xl sets the RTDS budget
 * only with `xl sched-rtds -b`), so that period has a partner here. */
static int
read_budget(struct reader *rd, const struct key *k,
            const struct keel__xlset *set)
{
    rd->budget = set;
    return read_number(rd, k, set);
}

static int
read_cmdline(struct reader *rd, const struct key *k,
             const struct keel__xlset *set)
{
    rd->cmdline = set;
    return read_string(rd, k, set);
}

/* --- writers ---------------------------------------------------------- */

static int write_error(struct writer *wr, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
write_error(struct writer *wr, const char *key, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return keel_error(wr->ctx, KEEL_EINVAL, "%s: %s", key, what);
}

/* A double-quoted string with the escapes the lexer reads back. */
static void
put_quoted(struct keel__buf *b, const char *s)
{
    static const char from[] = "\"\\\a\b\f\n\r\t\v";
    static const char to[] = "\"\\abfnrtv";
    const char *hit;

    keel__buf_add(b, "\"");
    for (; *s; s++) {
        if ((hit = strchr(from, *s)))
            keel__buf_printf(b, "\\%c", to[hit - from]);
        else if ((unsigned char)*s < ' ' || *s == 0x7f)
            keel__buf_printf(b, "\\x%02x", (unsigned char)*s);
        else
            keel__buf_addn(b, s, 1);
    }
    keel__buf_add(b, "\"");
}

static void
put_string(struct writer *wr, const char *key, const char *s)
{
    keel__buf_printf(&wr->b, "%s = ", key);
    put_quoted(&wr->b, s);
    keel__buf_add(&wr->b, "\n");
}

static int
write_string(struct writer *wr, const struct key *k)
{
    const char *s = *FIELD(wr->cfg, k, char *const);

    if (s)
        put_string(wr, k->name, s);
    return 0;
}

static int
put_number(struct writer *wr, const struct key *k, int64_t n)
{
    if (n < k->min || n > k->max)
        return write_error(wr, k->name,
                           "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
                           n, k->min, k->max);
    keel__buf_printf(&wr->b, "%s = %" PRId64 "\n", k->name, n);
    return 0;
}

static int
write_number(struct writer *wr, const struct key *k)
{
    int64_t n = *FIELD(wr->cfg, k, const int64_t);

    return n == KEEL_UNSET ? 0 : put_number(wr, k, n);
}

static int
write_memory(struct writer *wr, const struct key *k)
{
    int64_t kb = *FIELD(wr->cfg, k, const int64_t);

    if (kb == KEEL_UNSET)
        return 0;
    if (kb % 1024)
        return write_error(wr, k->name,
                           "%" PRId64 " KiB is not a whole number of MiB, "
                           "which xl.cfg cannot express",
                           kb);
    return put_number(wr, k, kb / 1024);
}

static int
write_bool(struct writer *wr, const struct key *k)
{
    int b = *FIELD(wr->cfg, k, const int);

    if (b == KEEL_UNSET)
        return 0;
    if (b != 0 && b != 1)
        return write_error(wr, k->name, "%d is not a boolean", b);
    keel__buf_printf(&wr->b, "%s = %d\n", k->name, b);
    return 0;
}

static int
write_action(struct writer *wr, const struct key *k)
{
    enum keel_action a = wr->cfg->on[k->min];

    if (!a)
        return 0;
    if (!keel_action_name(a))
        return write_error(wr, k->name, "invalid action %d", (int)a);
    put_string(wr, k->name, keel_action_name(a));
    return 0;
}

static int
write_uuid(struct writer *wr, const struct key *k)
{
    char text[37];

    if (!keel__uuid_is_set(wr->cfg->uuid))
        return 0;
    keel_uuid_format(wr->cfg->uuid, text);
    put_string(wr, k->name, text);
    return 0;
}

static int
write_type(struct writer *wr, const struct key *k)
{
    if (!wr->cfg->type)
        return 0;
    if (!keel_domain_type_name(wr->cfg->type))
        return write_error(wr, k->name, "invalid type %d", (int)wr->cfg->type);
    put_string(wr, k->name, keel_domain_type_name(wr->cfg->type));
    return 0;
}

/* "KEY = [ "a", "b" ]" */
static void
put_list(struct writer *wr, const char *key, char *const *items, unsigned int n)
{
    unsigned int i;

    keel__buf_printf(&wr->b, "%s = [", key);
    for (i = 0; i < n; i++) {
        keel__buf_add(&wr->b, i ? ", " : " ");
        put_quoted(&wr->b, items[i]);
    }
    keel__buf_add(&wr->b, n ? " ]\n" : "]\n");
}

static int
write_cpus(struct writer *wr, const struct key *k)
{
    const struct keel_affinity_config *aff =
        FIELD(wr->cfg, k, const struct keel_affinity_config);

    if (!aff->count)
        return 0;
    if (aff->per_vcpu)
        put_list(wr, k->name, aff->specs, aff->count);
    else if (aff->count == 1)
        put_string(wr, k->name, aff->specs[0]);
    else
        return write_error(wr, k->name, "%u specs but not one per vCPU",
                           aff->count);
    return 0;
}

static int
write_bootloader_args(struct writer *wr, const struct key *k)
{
    char *const *args = wr->cfg->bootloader_args;

    if (args)
        put_list(wr, k->name, args, (unsigned int)keel__strv_len(args));
    return 0;
}

/* One spec string per line. */
static int
put_specs(struct writer *wr, const char *key, unsigned int n,
          int (*format)(struct writer *, unsigned int, char **))
{
    unsigned int i;
    char *spec = NULL;
    int rc = 0;

    if (!n)
        return 0;
    keel__buf_printf(&wr->b, "%s = [\n", key);
    for (i = 0; !rc && i < n; i++) {
        rc = format(wr, i, &spec);
        if (rc) {
            keel__error_prefix(wr->ctx, "%s %u: ", key, i);
            break;
        }
        keel__buf_add(&wr->b, "    ");
        put_quoted(&wr->b, spec);
        keel__buf_add(&wr->b, ",\n");
        free(spec);
        spec = NULL;
    }
    keel__buf_add(&wr->b, "]\n");
    return rc;
}

static int
format_disk(struct writer *wr, unsigned int i, char **spec_r)
{
    return keel__disk_spec_format(wr->ctx, &wr->cfg->disks[i], spec_r);
}

static int
format_vif(struct writer *wr, unsigned int i, char **spec_r)
{
    return keel__vif_spec_format(wr->ctx, &wr->cfg->vifs[i], spec_r);
}

static int
write_disks(struct writer *wr, const struct key *k)
{
    return put_specs(wr, k->name, wr->cfg->num_disks, format_disk);
}

static int
write_vifs(struct writer *wr, const struct key *k)
{
    return put_specs(wr, k->name, wr->cfg->num_vifs, format_vif);
}

static int
write_tsc_mode(struct writer *wr, const struct key *k)
{
    if (!wr->cfg->tsc_mode)
        return 0;
    if (!keel_tsc_mode_name(wr->cfg->tsc_mode))
        return write_error(wr, k->name, "invalid mode %d",
                           (int)wr->cfg->tsc_mode);
    put_string(wr, k->name, keel_tsc_mode_name(wr->cfg->tsc_mode));
    return 0;
}

static int
write_rtc_timeoffset(struct writer *wr, const struct key *k)
{
    int64_t n = wr->cfg->rtc_timeoffset;

    if (n == KEEL_UNSET)
        return 0;
    if (n < INT32_MIN || n > INT32_MAX)
        return write_error(wr, k->name, "%" PRId64 " s is out of range %d..%d",
                           n, INT32_MIN, INT32_MAX);
    keel__buf_printf(&wr->b, "%s = %" PRId64 "\n", k->name,
                     n < 0 ? n + (INT64_C(1) << 32) : n);
    return 0;
}

/* --- the key table ---------------------------------------------------- */

#define OFF(field) offsetof(struct keel_domain_config, field)
#define STR(name)                                                              \
    {                                                                          \
#name, read_string, write_string, OFF(name), 0, 0                      \
    }
#define BOOL(name)                                                             \
    {                                                                          \
#name, read_bool, write_bool, OFF(name), 0, 0                          \
    }
#define ACTION(name, ev)                                                       \
    {                                                                          \
#name, read_action, write_action, 0, ev, ev                            \
    }

/* In the order the writer writes them. */
static const struct key keys[] = {
    STR(name),
    {"uuid", read_uuid, write_uuid, 0, 0, 0},
    {"type", read_type, write_type, 0, 0, 0},
    {"builder", read_builder, NULL, 0, 0, 0},
    STR(pool),
    {"memory", read_memory, write_memory, OFF(memory_kb), 1, MIB_MAX},
    {"maxmem", read_memory, write_memory, OFF(maxmem_kb), 1, MIB_MAX},
    {"vcpus", read_number, write_number, OFF(vcpus), 1, VCPUS_MAX},
    {"maxvcpus", read_number, write_number, OFF(maxvcpus), 1, VCPUS_MAX},
    {"cpus", read_cpus, write_cpus, OFF(cpus), 0, 0},
    {"cpus_soft", read_cpus, write_cpus, OFF(cpus_soft), 0, 0},
    {"cpu_weight", read_number, write_number, OFF(cpu_weight), 1, 65535},
    {"cap", read_number, write_number, OFF(cap), 0, 65535},
    {"period", read_number, write_number, OFF(rtds_period), 1, INT32_MAX},
    {"budget", read_budget, write_number, OFF(rtds_budget), 1, INT32_MAX},
    STR(kernel),
    STR(ramdisk),
    {"cmdline", read_cmdline, write_string, OFF(cmdline), 0, 0},
    STR(root),
    STR(extra),
    STR(bootloader),
    {"bootloader_args", read_bootloader_args, write_bootloader_args, 0, 0, 0},
    STR(firmware),
    STR(boot),
    ACTION(on_poweroff, KEEL_ON_POWEROFF),
    ACTION(on_reboot, KEEL_ON_REBOOT),
    ACTION(on_watchdog, KEEL_ON_WATCHDOG),
    ACTION(on_crash, KEEL_ON_CRASH),
    ACTION(on_soft_reset, KEEL_ON_SOFT_RESET),
    {"disk", read_disks, write_disks, 0, 0, 0},
    {"vif", read_vifs, write_vifs, 0, 0, 0},
    BOOL(nomigrate),
    {"tsc_mode", read_tsc_mode, write_tsc_mode, 0, 0, 0},
    {"max_grant_frames", read_number, write_number, OFF(max_grant_frames), 0,
     INT32_MAX},
    {"max_event_channels", read_number, write_number, OFF(max_event_channels),
     0, INT32_MAX},
    BOOL(localtime),
    {"rtc_timeoffset", read_rtc_timeoffset, write_rtc_timeoffset, 0, 0, 0},
    BOOL(pae),
    BOOL(acpi),
    BOOL(apic),
    BOOL(hap),
    {"viridian", read_viridian, write_bool, OFF(viridian), 0, 0},
    BOOL(hpet),
};

/* Keys xl reads (tools/xl/xl_parse.c) that keel does not model; sorted
 * for bsearch. */
static const char *const unsupported[] = {
    "acpi_firmware",
    "acpi_laptop_slate",
    "acpi_s3",
    "acpi_s4",
    "altp2m",
    "altp2m_count",
    "altp2mhvm",
    "arm_sci",
    "bios",
    "bios_path_override",
    "bootloader_restrict",
    "bootloader_user",
    "channel",
    "cpuid",
    "device_model",
    "device_model_args",
    "device_model_args_hvm",
    "device_model_args_pv",
    "device_model_override",
    "device_model_stubdomain_override",
    "device_model_stubdomain_seclabel",
    "device_model_user",
    "device_model_version",
    "device_tree",
    "display",
    "dm_restrict",
    "driver_domain",
    "dtdev",
    "e820_host",
    "extratime",
    "firmware_override",
    "gfx_passthru",
    "gic_version",
    "hdtype",
    "hvm_pirq",
    "init_seclabel",
    "iomem",
    "ioports",
    "irqs",
    "keymap",
    "latency",
    "llc_colors",
    "max_grant_version",
    "max_maptrack_frames",
    "mca_caps",
    "mmio_hole",
    "ms_vm_genid",
    "msr_relaxed",
    "nestedhvm",
    "nographic",
    "nr_spis",
    "nx",
    "oos",
    "opengl",
    "p9",
    "passthrough",
    "pci",
    "pci_msitranslate",
    "pci_permissive",
    "pci_power_mgmt",
    "pci_seize",
    "pvcalls",
    "pvshim",
    "pvshim_cmdline",
    "pvshim_extra",
    "pvshim_path",
    "rdm",
    "rdm_mem_boundary",
    "sdl",
    "seclabel",
    "serial",
    "shadow_memory",
    "slice",
    "smbios",
    "smbios_firmware",
    "soundhw",
    "spice",
    "spice_clipboard_sharing",
    "spice_image_compression",
    "spice_streaming_video",
    "spiceagent_mouse",
    "spicedisable_ticketing",
    "spicehost",
    "spicepasswd",
    "spiceport",
    "spicetls_port",
    "spiceusbredirection",
    "spicevdagent",
    "stdvga",
    "stubdomain_cmdline",
    "stubdomain_kernel",
    "stubdomain_memory",
    "stubdomain_ramdisk",
    "sve",
    "tee",
    "timer_mode",
    "trap_unmapped_accesses",
    "usb",
    "usbctrl",
    "usbdev",
    "usbdevice",
    "usbversion",
    "vcpu_hard_affinity",
    "vcpu_soft_affinity",
    "vdispl",
    "vendor_device",
    "vfb",
    "vga",
    "videoram",
    "vif2",
    "virtio",
    "vkb",
    "vkb_device",
    "vmtrace_buf_kb",
    "vnc",
    "vncdisplay",
    "vnclisten",
    "vncpasswd",
    "vncunused",
    "vncviewer",
    "vnuma",
    "vpmu",
    "vpt_align",
    "vsnd",
    "vtpm",
    "vuart",
    "xauthority",
    "xen_platform_pci",
    "xen_platform_pci_bar_uc",
    "xend_suspend_evtchn_compat",
    "xenstore_feature_mask",
    "xenstore_quota",
};

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct key *
find_key(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(keys); i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

/* --- reading ---------------------------------------------------------- */

static void
warn_ignored(struct reader *rd, const struct keel__xlset *set)
{
    const char *key = set->key;
    bool known = bsearch(&key, unsupported, ARRAY_SIZE(unsupported),
                         sizeof(*unsupported), cmp_name) != NULL;

    keel_warn(rd->ctx, "%s:%u:%u: %s: %s, ignored", set->at.file, set->at.line,
              set->at.col, key,
              known ? "not supported by keel" : "unknown key");
}

/* What needs more than one key. */
static int
check_whole(struct reader *rd)
{
    struct keel_domain_config *cfg = rd->cfg;
    int rc = rd->builder ? apply_builder(rd) : 0;

    if (!rc && rd->budget && cfg->rtds_period != KEEL_UNSET &&
        cfg->rtds_budget > cfg->rtds_period)
        rc = value_error(rd->ctx, rd->budget->value, "budget",
                         "%" PRId64 " is more than period %" PRId64,
                         cfg->rtds_budget, cfg->rtds_period);
    if (!rc && rd->cmdline && (cfg->root || cfg->extra))
        keel_warn(rd->ctx,
                  "%s:%u:%u: cmdline: root and extra are ignored "
                  "because cmdline is set",
                  rd->cmdline->at.file, rd->cmdline->at.line,
                  rd->cmdline->at.col);
    return rc;
}

static int
map_store(struct keel_ctx *ctx, const struct keel__xlstore *st,
          struct keel_domain_config *cfg)
{
    struct reader rd = {.ctx = ctx, .cfg = cfg};
    const struct key *k;
    unsigned int i;
    int rc = 0;

    for (i = 0; !rc && i < st->count; i++) {
        k = find_key(st->sets[i].key);
        if (k)
            rc = k->read(&rd, k, &st->sets[i]);
        else
            warn_ignored(&rd, &st->sets[i]);
    }
    return rc ? rc : check_whole(&rd);
}

int
keel__xlcfg_read(struct keel_ctx *ctx, const char *file, const char *buf,
                 size_t len, const char *const *overrides,
                 struct keel_domain_config *cfg)
{
    struct keel__xlstore st;
    unsigned int i;
    int rc;

    keel__xlstore_init(&st);
    if (!file || !strcmp(file, "-"))
        file = "<stdin>";
    rc = keel__xlstore_parse(ctx, &st, file, 1, buf, len);
    /* override N is line N of "<command line>" */
    for (i = 0; !rc && overrides && overrides[i]; i++)
        rc = keel__xlstore_parse(ctx, &st, "<command line>", i + 1,
                                 overrides[i], strlen(overrides[i]));
    if (!rc)
        rc = map_store(ctx, &st, cfg);
    keel__xlstore_dispose(&st);
    return rc;
}

int
keel__xlcfg_write(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
                  char **text_r)
{
    struct writer wr = {.ctx = ctx, .cfg = cfg};
    size_t i;
    int rc = 0;

    if (cfg->rtds_budget != KEEL_UNSET && cfg->rtds_period != KEEL_UNSET &&
        cfg->rtds_budget > cfg->rtds_period)
        rc = keel_error(ctx, KEEL_EINVAL,
                        "budget: %" PRId64 " is more than period %" PRId64,
                        cfg->rtds_budget, cfg->rtds_period);
    for (i = 0; !rc && i < ARRAY_SIZE(keys); i++)
        if (keys[i].write)
            rc = keys[i].write(&wr, &keys[i]);
    if (!rc && wr.b.len == 0)
        keel__buf_add(&wr.b, "\n"); /* nothing set: still a line */
    if (!rc)
        rc = keel__buf_finish(ctx, &wr.b, text_r);
    keel__buf_dispose(&wr.b);
    return rc;
}
