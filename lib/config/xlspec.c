/* xlspec.c: the disk, vif and rate specs xl.cfg carries in strings
 *
 * Disk specs follow xl-disk-configuration(5) as libxlu_disk_l.l reads
 * them: comma-separated parameters, each a flag (cdrom, discard, ...), a
 * KEY=VALUE or a positional value (target, format, vdev, access, in that
 * order); whitespace before a parameter is skipped; `target=` must be
 * last and takes the rest of the spec, commas and all (less one trailing
 * comma). Deprecated prefixes before a value ("phy:", "tap:aio:",
 * "qcow2:", "iscsi:") are accepted as xl does, and after one the next
 * positional value is the vdev, not the format.
 *
 * Vif specs follow xl-network-configuration(5) as xl_parse.c's
 * parse_nic_config reads them: comma-separated KEY=VALUE, empty items
 * skipped, spaces before a key skipped. xl prints and skips an argument
 * it does not know; keel warns and skips it likewise. A bad value is an
 * error here, where xl only prints it.
 *
 * The writers use the KEY=VALUE forms, which say what they mean and read
 * back to an equal device; a value the syntax cannot carry (a comma in a
 * vdev) is refused, never dropped.
 *
 * Checklist when adding a disk or vif field: the parser table here, the
 * writer below it, config.h, the other codecs (see config.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"
#define DEFAULT_INTERVAL_US 50000
#define MAX_INTERVAL_US 1000000
#define MAX_DEVID INT32_MAX
#define MIN_MTU 68 /* the least an IPv4 link may have (RFC 791) */
#define MAX_MTU 65535

/* "FILE:LINE:COL: KEY: what", or "KEY: what" when at is NULL. */
int
keel__where_verror(struct keel_ctx *ctx, int code, const struct keel__where *at,
                   const char *key, const char *fmt, va_list ap)
{
    char what[512];

    vsnprintf(what, sizeof(what), fmt, ap);
    if (at)
        return keel_error(ctx, code, "%s:%u:%u: %s: %s", at->file, at->line,
                          at->col, key, what);
    return keel_error(ctx, code, "%s: %s", key, what);
}

static int spec_error(struct keel_ctx *ctx, int code,
                      const struct keel__where *at, const char *dev,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
spec_error(struct keel_ctx *ctx, int code, const struct keel__where *at,
           const char *dev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = keel__where_verror(ctx, code, at, dev, fmt, ap);
    va_end(ap);
    return code;
}

static void spec_warn(struct keel_ctx *ctx, const struct keel__where *at,
                      const char *dev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
spec_warn(struct keel_ctx *ctx, const struct keel__where *at, const char *dev,
          const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (at)
        keel_warn(ctx, "%s:%u:%u: %s: %s", at->file, at->line, at->col, dev,
                  what);
    else
        keel_warn(ctx, "%s: %s", dev, what);
}

/* --- rate ------------------------------------------------------------- */

/* Reads a decimal number of at most 10 digits; *end_r is what follows. */
static bool
rate_number(const char *s, uint64_t *n_r, const char **end_r)
{
    uint64_t n = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9' && p - s < 11)
        n = n * 10 + (uint64_t)(*p++ - '0');
    if (p == s || (*p >= '0' && *p <= '9') || n == 0 || n > UINT32_MAX)
        return false;
    *n_r = n;
    *end_r = p;
    return true;
}

/* "N[GMK](B|b)/s", as xl's regex ^[0-9]+[GMK]?[Bb]/s$ (read in decimal:
 * xl's base-0 read of a leading 0 as octal is not kept). */
static bool
rate_bytes(const char *s, size_t len, int64_t *bps_r)
{
    const char *p;
    uint64_t n, unit = 1;

    if (len > 32 || !rate_number(s, &n, &p))
        return false;
    if (*p == 'G' || *p == 'M' || *p == 'K') {
        unit = *p == 'G' ? 1000000000 : *p == 'M' ? 1000000 : 1000;
        p++;
    }
    if ((*p != 'B' && *p != 'b') || strncmp(p + 1, "/s", 2) ||
        (size_t)(p + 3 - s) != len)
        return false;
    n *= unit; /* at most 4294967295e9: fits */
    *bps_r = (int64_t)(*p == 'b' ? n / 8 : n);
    return true;
}

/* "N[m|u][s]": seconds unless m or u says otherwise. */
static bool
rate_interval(const char *s, int64_t *us_r)
{
    const char *p;
    uint64_t n, unit = 1000000;

    if (!rate_number(s, &n, &p))
        return false;
    if (*p == 'm' || *p == 'u')
        unit = *p++ == 'm' ? 1000 : 1;
    if (*p == 's')
        p++;
    if (*p)
        return false;
    *us_r = (int64_t)(n * unit);
    return true;
}

int
keel__rate_parse(struct keel_ctx *ctx, const char *text,
                 int64_t *bytes_per_sec_r, int64_t *interval_us_r)
{
    const char *at = strchr(text, '@');
    size_t len = at ? (size_t)(at - text) : strlen(text);
    int64_t bps, us = DEFAULT_INTERVAL_US;

    if (!rate_bytes(text, len, &bps))
        return keel_error(ctx, KEEL_EINVAL,
                          "invalid rate `%.*s' (want N[K|M|G]B/s for bytes "
                          "or N[K|M|G]b/s for bits, N from 1 to 4294967295)",
                          (int)len, text);
    if (bps == 0)
        return keel_error(ctx, KEEL_EINVAL,
                          "rate `%.*s' is less than one byte per second",
                          (int)len, text);
    if (at && !rate_interval(at + 1, &us))
        return keel_error(ctx, KEEL_EINVAL,
                          "invalid replenishment interval `%s' (want N[s], "
                          "Nms or Nus)",
                          at + 1);
    if (us > MAX_INTERVAL_US)
        return keel_error(ctx, KEEL_EINVAL,
                          "replenishment interval `%s' is over 1 s", at + 1);
    *bytes_per_sec_r = bps;
    *interval_us_r = us;
    return 0;
}

/* The largest unit that divides n exactly and leaves at most 2^32-1. */
static const char *
rate_unit(int64_t n, const char *const units[4], int64_t *count_r)
{
    static const int64_t sizes[] = {1000000000, 1000000, 1000, 1};
    size_t i;

    for (i = 0; i < 4; i++) {
        if (n % sizes[i] == 0 && n / sizes[i] <= (int64_t)UINT32_MAX) {
            *count_r = n / sizes[i];
            return units[i];
        }
    }
    return NULL;
}

int
keel__rate_format(struct keel_ctx *ctx, int64_t bytes_per_sec,
                  int64_t interval_us, char **text_r)
{
    static const char *const bytes[] = {"GB", "MB", "KB", "B"};
    static const char *const bits[] = {"Gb", "Mb", "Kb", "b"};
    const char *unit = NULL;
    char interval[32] = "";
    int64_t n = 0;

    if (bytes_per_sec < 1 || interval_us < 1 || interval_us > MAX_INTERVAL_US)
        return keel_error(ctx, KEEL_EINVAL,
                          "rate %" PRId64 " B/s every %" PRId64
                          " us cannot be written (1 B/s or more, every 1 us "
                          "to 1 s)",
                          bytes_per_sec, interval_us);
    unit = rate_unit(bytes_per_sec, bytes, &n);
    /* Bits read back exactly: n bits of the unit are 8 * bytes_per_sec. */
    if (!unit && bytes_per_sec <= INT64_MAX / 8)
        unit = rate_unit(bytes_per_sec * 8, bits, &n);
    if (!unit)
        return keel_error(ctx, KEEL_EINVAL,
                          "rate %" PRId64 " B/s cannot be written as xl's "
                          "RATE/s",
                          bytes_per_sec);
    if (interval_us == MAX_INTERVAL_US)
        snprintf(interval, sizeof(interval), "@1s");
    else if (interval_us % 1000 == 0 && interval_us != DEFAULT_INTERVAL_US)
        snprintf(interval, sizeof(interval), "@%" PRId64 "ms",
                 interval_us / 1000);
    else if (interval_us != DEFAULT_INTERVAL_US)
        snprintf(interval, sizeof(interval), "@%" PRId64 "us", interval_us);
    *text_r = keel__sprintf(ctx, "%" PRId64 "%s/s%s", n, unit, interval);
    return *text_r ? 0 : KEEL_ENOMEM;
}

/* --- disk: parsing ---------------------------------------------------- */

struct dparse {
    struct keel_ctx *ctx;
    const struct keel__where *at;
    struct keel_disk_config *disk;
    bool had_prefix; /* a deprecated prefix: no positional format */
    bool access_set; /* the positional access was given */
};

#define DISK_ERR(dp, ...)                                                      \
    spec_error((dp)->ctx, KEEL_EINVAL, (dp)->at, "disk", __VA_ARGS__)

/* Sets a string once (an empty one may be replaced), as xl does. */
static int
disk_string(struct dparse *dp, const char *what, char **to, const char *value)
{
    char *copy;

    if (*to && **to)
        return DISK_ERR(dp, "%s respecified (`%s')", what, value);
    copy = keel__strdup(dp->ctx, value);
    if (!copy)
        return KEEL_ENOMEM;
    free(*to);
    *to = copy;
    return 0;
}

static int
disk_format(struct dparse *dp, const char *value)
{
    int f = *value ? keel_disk_format_parse(value) : KEEL_DISK_FORMAT_RAW;

    if (f < 0)
        return DISK_ERR(dp, "unknown value for format `%s'", value);
    if (dp->disk->format && dp->disk->format != (enum keel_disk_format)f)
        return DISK_ERR(dp, "format respecified (`%s')", value);
    dp->disk->format = f;
    return 0;
}

static int
disk_access(struct dparse *dp, const char *value)
{
    if (!strcmp(value, "r") || !strcmp(value, "ro"))
        dp->disk->access = KEEL_DISK_ACCESS_RO;
    else if (!strcmp(value, "rw") || !strcmp(value, "w") || !*value)
        dp->disk->access = KEEL_DISK_ACCESS_RW;
    else
        return DISK_ERR(dp, "unknown value for access `%s' (ro, r, rw or w)",
                        value);
    return 0;
}

static int
disk_devtype(struct dparse *dp, const char *value)
{
    if (!strcmp(value, "cdrom"))
        dp->disk->cdrom = true;
    else if (!strcmp(value, "disk"))
        dp->disk->cdrom = false;
    else
        return DISK_ERR(dp, "unknown value for devtype `%s' (cdrom or disk)",
                        value);
    return 0;
}

static int
disk_backendtype(struct dparse *dp, const char *value)
{
    int t = keel_disk_backendtype_parse(value);

    if (t < 0)
        return DISK_ERR(dp,
                        "unknown value for backendtype `%s' (phy, tap, "
                        "qdisk or standalone)",
                        value);
    if (dp->disk->backendtype &&
        dp->disk->backendtype != (enum keel_disk_backendtype)t)
        return DISK_ERR(dp, "backendtype respecified (`%s')", value);
    dp->disk->backendtype = t;
    return 0;
}

static int
disk_specification(struct dparse *dp, const char *value)
{
    if (!strcmp(value, "virtio"))
        return DISK_ERR(dp, "specification=virtio is not supported by keel");
    if (strcmp(value, "xen"))
        return DISK_ERR(dp, "unknown value for specification `%s'", value);
    return 0; /* xen is what every keel disk is */
}

/* "vdev:cdrom" or "vdev:disk", the deprecated way to give devtype. */
static int
disk_vdev(struct dparse *dp, char *value)
{
    char *colon = strrchr(value, ':');
    int rc;

    if (colon)
        *colon = '\0';
    rc = disk_string(dp, "vdev", &dp->disk->vdev, value);
    if (rc || !colon)
        return rc;
    if (strcmp(colon + 1, "cdrom") && strcmp(colon + 1, "disk"))
        return DISK_ERR(dp, "unknown deprecated type `%s'", colon + 1);
    return disk_devtype(dp, colon + 1);
}

/* The next value without a key: target, format, vdev, access. */
static int
disk_positional(struct dparse *dp, char *value)
{
    struct keel_disk_config *d = dp->disk;
    int rc;

    if (strchr(value, '='))
        return DISK_ERR(dp,
                        "bad disk syntax near `%s' (a target with '=' "
                        "or ',' needs target=, last)",
                        value);
    if (!d->target)
        return disk_string(dp, "target", &d->target, value);
    if (!dp->had_prefix && !d->format) {
        /* an empty cdrom may skip the format: ",hdc:cdrom" */
        if (!*d->target && strchr(value, ':')) {
            rc = disk_vdev(dp, value);
            if (!rc)
                d->format = KEEL_DISK_FORMAT_EMPTY;
            return rc;
        }
        return disk_format(dp, value);
    }
    if (!d->vdev)
        return disk_vdev(dp, value);
    if (!dp->access_set) {
        dp->access_set = true;
        return disk_access(dp, value);
    }
    return DISK_ERR(dp, "too many positional parameters (at `%s')", value);
}

static int
disk_flag(struct dparse *dp, const char *tok, bool *matched_r)
{
    struct keel_disk_config *d = dp->disk;

    *matched_r = true;
    if (!strcmp(tok, "cdrom"))
        d->cdrom = true;
    else if (!strcmp(tok, "direct-io-safe"))
        d->direct_io_safe = 1;
    else if (!strcmp(tok, "discard") || !strcmp(tok, "no-discard"))
        d->discard = *tok != 'n';
    else if (!strcmp(tok, "trusted") || !strcmp(tok, "untrusted"))
        d->trusted = *tok != 'u';
    else if (!strcmp(tok, "colo") || !strcmp(tok, "no-colo"))
        spec_warn(dp->ctx, dp->at, "disk",
                  "%s is not supported by keel, ignored", tok);
    else
        *matched_r = false;
    return 0;
}

static bool
is_unsupported(const char *key, const char *const *names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(key, names[i]))
            return true;
    return false;
}

/* KEY=VALUE, split at the '=' (key is tok, NUL-terminated there). */
static int
disk_keyword(struct dparse *dp, char *key, char *value)
{
    static const char *const unsupported[] = {"colo-host",   "colo-port",
                                              "colo-export", "active-disk",
                                              "hidden-disk", "grant_usage"};
    struct keel_disk_config *d = dp->disk;

    if (!strcmp(key, "format"))
        return disk_format(dp, value);
    if (!strcmp(key, "vdev"))
        return disk_string(dp, "vdev", &d->vdev, value);
    if (!strcmp(key, "access"))
        return disk_access(dp, value);
    if (!strcmp(key, "devtype"))
        return disk_devtype(dp, value);
    if (!strcmp(key, "backend"))
        return disk_string(dp, "backend", &d->backend, value);
    if (!strcmp(key, "backendtype"))
        return disk_backendtype(dp, value);
    if (!strcmp(key, "script"))
        return disk_string(dp, "script", &d->script, value);
    if (!strcmp(key, "specification"))
        return disk_specification(dp, value);
    if (is_unsupported(key, unsupported, ARRAY_SIZE(unsupported))) {
        spec_warn(dp->ctx, dp->at, "disk",
                  "%s is not supported by keel, ignored", key);
        return 0;
    }
    value[-1] = '=';
    if (*key >= 'a' && *key <= 'z' &&
        key + strspn(key, LOWER DIGITS "-") == value - 1)
        return DISK_ERR(dp, "unknown parameter `%s'", key);
    return disk_positional(dp, key);
}

/* A deprecated "name:" prefix at *pp (libxlu_disk_l.l's list): skips it
 * and says so in *matched_r, or refuses an unknown one. A name followed
 * by a letter or digit ("hdc:cdrom") is no prefix. */
static int
disk_prefix(struct dparse *dp, const char **pp, bool *matched_r)
{
    static const char *const ignored[] = {"tapdisk", "tap",  "tap2", "aio",
                                          "ioemu",   "file", "phy"};
    static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd"};
    static const char *const scripts[] = {"iscsi", "nbd", "enbd", "drbd"};
    const char *p = *pp;
    size_t n = strspn(p, LOWER DIGITS), i;
    char name[16], script[32];
    int rc = 0;

    *matched_r = false;
    if (!n || *p < 'a' || *p > 'z' || p[n] != ':' || n >= sizeof(name))
        return 0;
    memcpy(name, p, n);
    name[n] = '\0';
    for (i = 0; i < ARRAY_SIZE(ignored); i++)
        *matched_r |= !strcmp(name, ignored[i]);
    for (i = 0; !rc && i < ARRAY_SIZE(formats); i++)
        if (!strcmp(name, formats[i])) {
            *matched_r = true;
            rc = disk_format(dp, name);
        }
    for (i = 0; !rc && i < ARRAY_SIZE(scripts); i++)
        if (!strcmp(name, scripts[i])) {
            *matched_r = true;
            snprintf(script, sizeof(script), "block-%s", name);
            rc = disk_string(dp, "script", &dp->disk->script, script);
        }
    if (!rc && !*matched_r && (!p[n + 1] || !strchr(LOWER DIGITS, p[n + 1])))
        return DISK_ERR(dp, "unknown deprecated disk prefix `%s:'", name);
    if (*matched_r) {
        dp->had_prefix = true;
        *pp = p + n + 1;
    }
    return rc;
}

/* One parameter at *pp, up to its comma (target=: the rest). */
static int
disk_param(struct dparse *dp, const char **pp)
{
    const char *p = *pp;
    size_t n;
    char *tok, *eq;
    bool matched;
    int rc;

    if (!strncmp(p, "target=", 7)) {
        n = strlen(p);
        tok = keel__strdup(dp->ctx, p + 7);
        if (!tok)
            return KEEL_ENOMEM;
        if (n > 7 && p[n - 1] == ',')
            tok[n - 8] = '\0';
        rc = disk_string(dp, "target", &dp->disk->target, tok);
        free(tok);
        *pp = p + n;
        return rc;
    }
    rc = disk_prefix(dp, pp, &matched);
    if (rc || matched)
        return rc;
    n = strcspn(p, ",");
    tok = strndup(p, n);
    if (!tok)
        return keel_error(dp->ctx, KEEL_ENOMEM, "out of memory");
    *pp = p[n] ? p + n + 1 : p + n;
    rc = disk_flag(dp, tok, &matched);
    eq = strchr(tok, '=');
    if (eq)
        *eq = '\0';
    if (!rc && !matched)
        rc = eq ? disk_keyword(dp, tok, eq + 1) : disk_positional(dp, tok);
    free(tok);
    return rc;
}

int
keel__disk_spec_parse(struct keel_ctx *ctx, const struct keel__where *at,
                      const char *spec, struct keel_disk_config *disk)
{
    struct dparse dp = {.ctx = ctx, .at = at, .disk = disk};
    const char *p = spec;
    int rc = 0;

    while (!rc) {
        p += strspn(p, " \t\n");
        if (!*p)
            break;
        rc = disk_param(&dp, &p);
    }
    if (!rc && (!disk->vdev || !*disk->vdev))
        rc = DISK_ERR(&dp, "no vdev specified in `%s'", spec);
    if (!rc && !disk->target && !disk->cdrom)
        rc = DISK_ERR(&dp,
                      "no target specified (and device not removable) "
                      "in `%s'",
                      spec);
    return rc;
}

/* --- disk: writing ---------------------------------------------------- */

/* Adds ", key=value", refusing a value a comma would cut short. */
static int
put_value(struct keel_ctx *ctx, struct keel__buf *b, const char *dev,
          const char *key, const char *value)
{
    if (!value)
        return 0;
    if (strchr(value, ','))
        return spec_error(ctx, KEEL_EINVAL, NULL, dev,
                          "%s `%s' has a comma, which xl.cfg cannot express",
                          key, value);
    keel__buf_printf(b, "%s%s=%s", b->len ? ", " : "", key, value);
    return 0;
}

static void
put_flag(struct keel__buf *b, int tristate, const char *yes, const char *no)
{
    if (tristate == 1 && yes)
        keel__buf_printf(b, "%s%s", b->len ? ", " : "", yes);
    else if (tristate == 0 && no)
        keel__buf_printf(b, "%s%s", b->len ? ", " : "", no);
}

/* What the disk syntax cannot say at all. */
static int
disk_check(struct keel_ctx *ctx, const struct keel_disk_config *d)
{
    if (!d->vdev || !*d->vdev)
        return keel_error(ctx, KEEL_EINVAL, "disk: no vdev");
    if (!d->target && !d->cdrom)
        return keel_error(ctx, KEEL_EINVAL,
                          "disk %s: no target and not a cdrom", d->vdev);
    if (d->direct_io_safe == 0)
        return keel_error(ctx, KEEL_EINVAL,
                          "disk %s: direct_io_safe off cannot be written "
                          "in xl.cfg (only the flag direct-io-safe exists)",
                          d->vdev);
    if ((d->format && !keel_disk_format_name(d->format)) ||
        (d->backendtype && !keel_disk_backendtype_name(d->backendtype)) ||
        d->access > KEEL_DISK_ACCESS_RO || d->direct_io_safe < -1 ||
        d->direct_io_safe > 1 || d->discard < -1 || d->discard > 1 ||
        d->trusted < -1 || d->trusted > 1)
        return keel_error(ctx, KEEL_EINVAL, "disk %s: invalid value", d->vdev);
    return 0;
}

int
keel__disk_spec_format(struct keel_ctx *ctx, const struct keel_disk_config *d,
                       char **spec_r)
{
    struct keel__buf b = {0};
    int rc = disk_check(ctx, d);

    if (!rc && d->format)
        rc = put_value(ctx, &b, "disk", "format",
                       keel_disk_format_name(d->format));
    if (!rc)
        rc = put_value(ctx, &b, "disk", "vdev", d->vdev);
    if (!rc && d->access)
        rc = put_value(ctx, &b, "disk", "access",
                       d->access == KEEL_DISK_ACCESS_RO ? "ro" : "rw");
    if (!rc && d->cdrom)
        rc = put_value(ctx, &b, "disk", "devtype", "cdrom");
    if (!rc)
        rc = put_value(ctx, &b, "disk", "backend", d->backend);
    if (!rc && d->backendtype)
        rc = put_value(ctx, &b, "disk", "backendtype",
                       keel_disk_backendtype_name(d->backendtype));
    if (!rc)
        rc = put_value(ctx, &b, "disk", "script", d->script);
    if (rc)
        goto out;
    put_flag(&b, d->direct_io_safe, "direct-io-safe", NULL);
    put_flag(&b, d->discard, "discard", "no-discard");
    put_flag(&b, d->trusted, "trusted", "untrusted");
    /* target= takes the rest less one trailing comma: double a final one */
    if (d->target)
        keel__buf_printf(
            &b, ", target=%s%s", d->target,
            *d->target && d->target[strlen(d->target) - 1] == ',' ? "," : "");
    rc = keel__buf_finish(ctx, &b, spec_r);
out:
    keel__buf_dispose(&b);
    return rc;
}

/* --- vif -------------------------------------------------------------- */

struct vparse {
    struct keel_ctx *ctx;
    const struct keel__where *at;
    struct keel_vif_config *vif;
};

#define VIF_ERR(vp, ...)                                                       \
    spec_error((vp)->ctx, KEEL_EINVAL, (vp)->at, "vif", __VA_ARGS__)

static int
vif_string(struct vparse *vp, char **to, const char *value)
{
    char *copy = keel__strdup(vp->ctx, value);

    if (!copy)
        return KEEL_ENOMEM;
    free(*to);
    *to = copy;
    return 0;
}

static int
vif_number(struct vparse *vp, const char *key, const char *value, int64_t min,
           int64_t max, int64_t *to)
{
    uint64_t n;

    if (!keel__parse_u64(value, &n) || n < (uint64_t)min || n > (uint64_t)max)
        return VIF_ERR(vp,
                       "%s `%s' is not a number from %" PRId64 " to %" PRId64,
                       key, value, min, max);
    *to = (int64_t)n;
    return 0;
}

static int
vif_rate(struct vparse *vp, const char *value)
{
    struct keel_vif_config *v = vp->vif;
    int rc = keel__rate_parse(vp->ctx, value, &v->rate_bytes_per_sec,
                              &v->rate_interval_us);

    if (rc && vp->at)
        keel__error_prefix(vp->ctx, "%s:%u:%u: vif: ", vp->at->file,
                           vp->at->line, vp->at->col);
    else if (rc)
        keel__error_prefix(vp->ctx, "vif: ");
    return rc;
}

static int
vif_type(struct vparse *vp, const char *value)
{
    if (!strcmp(value, "ioemu"))
        vp->vif->type = KEEL_VIF_TYPE_IOEMU;
    else if (!strcmp(value, "vif"))
        vp->vif->type = KEEL_VIF_TYPE_VIF;
    else
        return VIF_ERR(vp, "unknown type `%s' (ioemu or vif)", value);
    return 0;
}

static int
vif_mac(struct vparse *vp, const char *value)
{
    if (keel_mac_parse(value, vp->vif->mac))
        return VIF_ERR(vp, "invalid mac `%s' (want xx:xx:xx:xx:xx:xx)", value);
    return 0;
}

/* Keys xl knows that keel does not model: warned about and skipped. */
static bool
vif_unsupported(const char *key)
{
    static const char *const names[] = {"accel", "vlan", "forwarddev",
                                        "trusted", "untrusted"};

    return !strncmp(key, "colo_", 5) ||
           is_unsupported(key, names, ARRAY_SIZE(names));
}

/* One KEY=VALUE (key NUL-terminated at the '='; value NULL if none). */
static int
vif_param(struct vparse *vp, const char *key, const char *value)
{
    struct keel_vif_config *v = vp->vif;

    if (value && !strcmp(key, "mac"))
        return vif_mac(vp, value);
    if (value && !strcmp(key, "type"))
        return vif_type(vp, value);
    if (value && !strcmp(key, "rate"))
        return vif_rate(vp, value);
    if (value && !strcmp(key, "devid"))
        return vif_number(vp, key, value, 0, MAX_DEVID, &v->devid);
    if (value && !strcmp(key, "mtu"))
        return vif_number(vp, key, value, MIN_MTU, MAX_MTU, &v->mtu);
    if (value && !strcmp(key, "netdev"))
        spec_warn(vp->ctx, vp->at, "vif",
                  "netdev is deprecated, use gatewaydev");
    if (value && (!strcmp(key, "netdev") || !strcmp(key, "gatewaydev")))
        return vif_string(vp, &v->gatewaydev, value);
    if (value && !strcmp(key, "bridge"))
        return vif_string(vp, &v->bridge, value);
    if (value && !strcmp(key, "ip"))
        return vif_string(vp, &v->ip, value);
    if (value && !strcmp(key, "script"))
        return vif_string(vp, &v->script, value);
    if (value && !strcmp(key, "backend"))
        return vif_string(vp, &v->backend, value);
    if (value && !strcmp(key, "vifname"))
        return vif_string(vp, &v->vifname, value);
    if (value && !strcmp(key, "model"))
        return vif_string(vp, &v->model, value);
    if (vif_unsupported(key))
        spec_warn(vp->ctx, vp->at, "vif",
                  "%s is not supported by keel, "
                  "ignored",
                  key);
    else
        spec_warn(vp->ctx, vp->at, "vif",
                  "unrecognized argument `%s%s%s', "
                  "ignored",
                  key, value ? "=" : "", value ? value : "");
    return 0;
}

int
keel__vif_spec_parse(struct keel_ctx *ctx, const struct keel__where *at,
                     const char *spec, struct keel_vif_config *vif)
{
    struct vparse vp = {.ctx = ctx, .at = at, .vif = vif};
    char *copy = keel__strdup(ctx, spec), *tok, *save = NULL, *eq;
    int rc = copy ? 0 : KEEL_ENOMEM;

    for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " ");
        eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        rc = vif_param(&vp, tok, eq ? eq + 1 : NULL);
    }
    free(copy);
    return rc;
}

static int
vif_check(struct keel_ctx *ctx, const struct keel_vif_config *v)
{
    if ((v->rate_bytes_per_sec == KEEL_UNSET) !=
        (v->rate_interval_us == KEEL_UNSET))
        return keel_error(ctx, KEEL_EINVAL,
                          "vif: rate needs both bytes per second and an "
                          "interval");
    if (v->type > KEEL_VIF_TYPE_VIF)
        return keel_error(ctx, KEEL_EINVAL, "vif: invalid type %d", v->type);
    if (v->mtu != KEEL_UNSET && (v->mtu < MIN_MTU || v->mtu > MAX_MTU))
        return keel_error(ctx, KEEL_EINVAL,
                          "vif: mtu %" PRId64 " is out of range %d..%d", v->mtu,
                          MIN_MTU, MAX_MTU);
    if (v->devid != KEEL_UNSET && (v->devid < 0 || v->devid > MAX_DEVID))
        return keel_error(ctx, KEEL_EINVAL,
                          "vif: devid %" PRId64 " is out of range 0..%d",
                          v->devid, MAX_DEVID);
    return 0;
}

static int
vif_put_rate(struct keel_ctx *ctx, struct keel__buf *b,
             const struct keel_vif_config *v)
{
    char *rate = NULL;
    int rc;

    if (v->rate_bytes_per_sec == KEEL_UNSET)
        return 0;
    rc = keel__rate_format(ctx, v->rate_bytes_per_sec, v->rate_interval_us,
                           &rate);
    if (rc)
        keel__error_prefix(ctx, "vif: ");
    else
        rc = put_value(ctx, b, "vif", "rate", rate);
    free(rate);
    return rc;
}

static int
vif_put_number(struct keel_ctx *ctx, struct keel__buf *b, const char *key,
               int64_t n)
{
    char text[32];

    if (n == KEEL_UNSET)
        return 0;
    snprintf(text, sizeof(text), "%" PRId64, n);
    return put_value(ctx, b, "vif", key, text);
}

int
keel__vif_spec_format(struct keel_ctx *ctx, const struct keel_vif_config *v,
                      char **spec_r)
{
    static const char *const types[] = {NULL, "ioemu", "vif"};
    struct keel__buf b = {0};
    char mac[18];
    int rc = vif_check(ctx, v);

    keel_mac_format(v->mac, mac);
    if (!rc && keel__mac_is_set(v->mac))
        rc = put_value(ctx, &b, "vif", "mac", mac);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "bridge", v->bridge);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "ip", v->ip);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "model", v->model);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "type", types[v->type]);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "vifname", v->vifname);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "script", v->script);
    if (!rc)
        rc = vif_put_rate(ctx, &b, v);
    if (!rc)
        rc = vif_put_number(ctx, &b, "mtu", v->mtu);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "backend", v->backend);
    if (!rc)
        rc = vif_put_number(ctx, &b, "devid", v->devid);
    if (!rc)
        rc = put_value(ctx, &b, "vif", "gatewaydev", v->gatewaydev);
    if (!rc)
        rc = keel__buf_finish(ctx, &b, spec_r);
    keel__buf_dispose(&b);
    return rc;
}
