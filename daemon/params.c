/* params.c: reading a call's params, writing its result, setting its error
 *
 * Handlers run on workers (keeld.h) and touch only their struct kd_call,
 * so everything here works on the call and the generator it is given and
 * keeps no state of its own.
 *
 * Params: every kd_param_* either gives the member's value or records an
 * invalid-params error (KD_EPARAMS) whose message names the member, and
 * returns that code, so a handler reads params as
 *
 *     if ((rc = kd_param_str(call, "name", true, &name, NULL)))
 *         return rc;
 *
 * Errors: the first error recorded on a call wins (as keel_error on a
 * context), so a clean-up that fails after the real cause does not hide
 * it. data.name is the code's name: the KEEL_* constant for libkeel's
 * codes, a short phrase for JSON-RPC's (kd_err_name). Checklist when
 * libkeel adds a code: keel_err_names[] below.
 *
 * Results: exactly one JSON value in call->g, written with the kd_gen_*
 * helpers; yajl_gen refuses a second value, so a handler that writes two
 * gives rpc.c a generator in error, not a malformed reply.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeld.h"

/* --- error names --- */

struct kd_err_name {
    int code;
    const char *name;
};

/* Every enum keel_err of <keel/keel.h>, by its constant's name. */
static const struct kd_err_name keel_err_names[] = {
    {KEEL_EPERM, "KEEL_EPERM"},
    {KEEL_ENOENT, "KEEL_ENOENT"},
    {KEEL_EIO, "KEEL_EIO"},
    {KEEL_E2BIG, "KEEL_E2BIG"},
    {KEEL_EAGAIN, "KEEL_EAGAIN"},
    {KEEL_ENOMEM, "KEEL_ENOMEM"},
    {KEEL_EBUSY, "KEEL_EBUSY"},
    {KEEL_EEXIST, "KEEL_EEXIST"},
    {KEEL_EINVAL, "KEEL_EINVAL"},
    {KEEL_ENOSPC, "KEEL_ENOSPC"},
    {KEEL_ERANGE, "KEEL_ERANGE"},
    {KEEL_ENOTSUP, "KEEL_ENOTSUP"},
    {KEEL_ETIMEDOUT, "KEEL_ETIMEDOUT"},
    {KEEL_ECANCELED, "KEEL_ECANCELED"},
    {KEEL_ENODOMAIN, "KEEL_ENODOMAIN"},
    {KEEL_ENOPOOL, "KEEL_ENOPOOL"},
    {KEEL_ESTATE, "KEEL_ESTATE"},
    {KEEL_ECORRUPT, "KEEL_ECORRUPT"},
    {KEEL_EFOREIGN, "KEEL_EFOREIGN"},
    {KEEL_ENOHOSTMEM, "KEEL_ENOHOSTMEM"},
    {KEEL_ELOCKED, "KEEL_ELOCKED"},
    {KEEL_ESYNTAX, "KEEL_ESYNTAX"},
    {KEEL_EBACKEND, "KEEL_EBACKEND"},
};

/* keeld's own JSON-RPC codes (docs/keeld-api.md, "Error codes"). */
static const struct kd_err_name kd_err_names[] = {
    {KD_EPARSE, "parse error"},           /* -32700 */
    {KD_EREQUEST, "invalid request"},     /* -32600 */
    {KD_EMETHOD, "method not found"},     /* -32601 */
    {KD_EPARAMS, "invalid params"},       /* -32602 */
    {KD_EINTERNAL, "internal error"},     /* -32603 */
    {KD_EREADONLY, "read-only socket"},   /* -32001 */
    {KD_EBACKEND, "not on this backend"}, /* -32002 */
    {KD_ESHUTDOWN, "shutting down"},      /* -32003 */
    {KD_EBUSY, "too many clients"},       /* -32004 */
};

static const char *
err_lookup(const struct kd_err_name *t, size_t n, int code)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

const char *
kd_err_name(int code)
{
    const char *name;

    name = err_lookup(kd_err_names,
                      sizeof(kd_err_names) / sizeof(kd_err_names[0]), code);
    if (!name)
        name = err_lookup(keel_err_names,
                          sizeof(keel_err_names) / sizeof(keel_err_names[0]),
                          code);
    return name ? name : "KEEL_UNKNOWN";
}

/* --- errors --- */

/* Records code and message (taken) unless the call already failed. */
static int
fail_take(struct kd_call *c, int code, char *message)
{
    if (c->code) {
        free(message);
        return c->code;
    }
    c->code = code;
    c->err_name = kd_err_name(code);
    c->message = message;
    return code;
}

int
kd_fail(struct kd_call *c, int code, const char *fmt, ...)
{
    char *message = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&message, fmt, ap) < 0)
        message = NULL; /* rpc.c sends the code's name alone */
    va_end(ap);
    return fail_take(c, code, message);
}

/* libkeel's message for rc, or its generic name when this thread's last
 * error on the context is about something else (a call that failed
 * before recording one). */
static const char *
keel_message(struct kd_call *c, int rc)
{
    struct keel_ctx *ctx = c->kd->ctx;
    const char *msg = keel_ctx_last_error(ctx);

    if (keel_ctx_last_code(ctx) != rc || !msg || !*msg)
        return keel_strerror(rc);
    return msg;
}

int
kd_fail_keel(struct kd_call *c, int rc)
{
    if (rc >= 0) /* a bug in the caller: never report success as failure */
        return kd_fail(c, KD_EINTERNAL, "libkeel failed without a code");
    return kd_fail(c, rc, "%s", keel_message(c, rc));
}

int
kd_fail_keel_member(struct kd_call *c, int rc, const char *name)
{
    if (rc >= 0)
        return kd_fail(c, KD_EINTERNAL, "libkeel failed without a code");
    return kd_fail(c, rc, "'%s': %s", name, keel_message(c, rc));
}

int
kd_ok(struct kd_call *c)
{
    yajl_gen_map_open(c->g);
    yajl_gen_map_close(c->g);
    return 0;
}

/* --- params --- */

yajl_val
kd_param(struct kd_call *c, const char *name)
{
    size_t i;

    if (!YAJL_IS_OBJECT(c->params))
        return NULL;
    for (i = 0; i < c->params->u.object.len; i++)
        if (!strcmp(c->params->u.object.keys[i], name))
            return c->params->u.object.values[i];
    return NULL;
}

static bool
name_listed(const char *const *names, const char *key)
{
    for (; *names; names++)
        if (!strcmp(*names, key))
            return true;
    return false;
}

int
kd_params_only(struct kd_call *c, const char *const *names)
{
    const char **keys;
    size_t i, j, n;

    if (!c->params)
        return 0;
    if (!YAJL_IS_OBJECT(c->params))
        return kd_fail(c, KD_EPARAMS, "params must be an object");
    keys = c->params->u.object.keys;
    n = c->params->u.object.len;
    for (i = 0; i < n; i++) {
        if (!name_listed(names, keys[i]))
            return kd_fail(c, KD_EPARAMS, "unknown member '%.64s' for %s",
                           keys[i],
                           c->method ? c->method->name : "this method");
        for (j = 0; j < i; j++)
            if (!strcmp(keys[j], keys[i]))
                return kd_fail(c, KD_EPARAMS, "member '%.64s' given twice",
                               keys[i]);
    }
    return 0;
}

/* The member, or NULL after recording "missing" when it is required.
 * *present_r says whether it was there. */
static yajl_val
member(struct kd_call *c, const char *name, bool required, bool *present_r,
       int *rc_r)
{
    yajl_val v = kd_param(c, name);

    *rc_r = 0;
    if (present_r)
        *present_r = v != NULL;
    if (!v && required)
        *rc_r = kd_fail(c, KD_EPARAMS, "missing member '%s'", name);
    return v;
}

int
kd_param_str(struct kd_call *c, const char *name, bool required, const char **v,
             bool *present_r)
{
    int rc;
    yajl_val m = member(c, name, required, present_r, &rc);

    if (!m)
        return rc;
    if (!YAJL_IS_STRING(m))
        return kd_fail(c, KD_EPARAMS, "member '%s' must be a string", name);
    *v = m->u.string;
    return 0;
}

int
kd_param_i64(struct kd_call *c, const char *name, bool required, int64_t min,
             int64_t max, int64_t *v, bool *present_r)
{
    int rc;
    yajl_val m = member(c, name, required, present_r, &rc);

    if (!m)
        return rc;
    if (!YAJL_IS_NUMBER(m))
        return kd_fail(c, KD_EPARAMS, "member '%s' must be a number", name);
    /* yajl keeps the integer only when the text is one and fits in a
     * long long; 1.0 and 1e3 are doubles, 2^64 is out of range. */
    if (!YAJL_IS_INTEGER(m) || m->u.number.i < min || m->u.number.i > max)
        return kd_fail(c, KD_EPARAMS,
                       "member '%s' must be an integer in %" PRId64 "..%" PRId64
                       " (got %.40s)",
                       name, min, max, m->u.number.r);
    *v = m->u.number.i;
    return 0;
}

int
kd_param_bool(struct kd_call *c, const char *name, bool required, bool *v,
              bool *present_r)
{
    int rc;
    yajl_val m = member(c, name, required, present_r, &rc);

    if (!m)
        return rc;
    if (!YAJL_IS_TRUE(m) && !YAJL_IS_FALSE(m))
        return kd_fail(c, KD_EPARAMS, "member '%s' must be true or false",
                       name);
    *v = YAJL_IS_TRUE(m);
    return 0;
}

/* A name or id member as the text libkeel's lookups take: a string as it
 * is, a non-negative integer in decimal (into buf). */
static int
name_or_id(struct kd_call *c, const char *name, char buf[24],
           const char **text_r)
{
    int rc;
    yajl_val m = member(c, name, true, NULL, &rc);

    if (!m)
        return rc;
    if (YAJL_IS_STRING(m)) {
        *text_r = m->u.string;
        return 0;
    }
    if (YAJL_IS_INTEGER(m) && m->u.number.i >= 0 &&
        m->u.number.i <= UINT32_MAX) {
        snprintf(buf, 24, "%lld", m->u.number.i);
        *text_r = buf;
        return 0;
    }
    return kd_fail(c, KD_EPARAMS,
                   "member '%s' must be a name (string) or an id (integer "
                   "0..%" PRIu32 ")",
                   name, UINT32_MAX);
}

int
kd_param_domain(struct kd_call *c, const char *name, uint32_t *domid_r)
{
    const char *text;
    char buf[24];
    int rc;

    if ((rc = name_or_id(c, name, buf, &text)))
        return rc;
    rc = keel_domain_lookup(c->kd->host, text, domid_r);
    return rc ? kd_fail_keel(c, rc) : 0;
}

int
kd_param_pool(struct kd_call *c, const char *name, uint32_t *poolid_r)
{
    const char *text;
    char buf[24];
    int rc;

    if ((rc = name_or_id(c, name, buf, &text)))
        return rc;
    rc = keel_cpupool_lookup(c->kd->host, text, poolid_r);
    return rc ? kd_fail_keel(c, rc) : 0;
}

int
kd_param_cpus(struct kd_call *c, const char *name, bool required,
              struct keel_cpumap *map, bool *present_r)
{
    const char *spec = NULL;
    bool present;
    int rc;

    if ((rc = kd_param_str(c, name, required, &spec, &present)))
        return rc;
    if (present_r)
        *present_r = present;
    if (!present)
        return 0;
    rc = keel_host_resolve_cpus(c->kd->host, spec, map);
    return rc ? kd_fail_keel_member(c, rc, name) : 0;
}

/* "config": libxl's JSON object, re-serialised for the JSON reader. */
static int
config_object(struct kd_call *c, yajl_val obj, struct keel_domain_config *cfg)
{
    const unsigned char *buf;
    yajl_gen g = NULL;
    size_t len;
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return kd_fail(c, KD_EPARAMS,
                       "member 'config' must be an object (libxl's JSON)");
    if (!(g = kd_gen_new()))
        return kd_fail(c, KD_EINTERNAL, "out of memory");
    kd_gen_value(g, obj);
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        rc = kd_fail(c, KD_EINTERNAL, "cannot re-serialise 'config'");
        goto out;
    }
    rc = keel_domain_config_read(c->kd->ctx, KEEL_CONFIG_JSON, "config",
                                 (const char *)buf, len, NULL, 0, cfg);
    if (rc)
        rc = kd_fail_keel(c, rc);
out:
    yajl_gen_free(g);
    return rc;
}

/* "overrides": an array of strings, as a NULL-terminated list (free() the
 * list, not the strings: they are the request's). */
static int
config_overrides(struct kd_call *c, yajl_val arr, const char ***list_r)
{
    const char **list;
    size_t i;

    *list_r = NULL;
    if (!YAJL_IS_ARRAY(arr))
        return kd_fail(c, KD_EPARAMS,
                       "member 'overrides' must be an array of strings");
    if (!(list = calloc(arr->u.array.len + 1, sizeof(*list))))
        return kd_fail(c, KD_EINTERNAL, "out of memory");
    for (i = 0; i < arr->u.array.len; i++) {
        if (!YAJL_IS_STRING(arr->u.array.values[i])) {
            free(list);
            return kd_fail(c, KD_EPARAMS,
                           "member 'overrides' item %zu must be a string", i);
        }
        list[i] = arr->u.array.values[i]->u.string;
    }
    *list_r = list;
    return 0;
}

/* "config_text" in "format" (xl by default), with xl "overrides". */
static int
config_text(struct kd_call *c, const char *text, struct keel_domain_config *cfg)
{
    yajl_val ov = kd_param(c, "overrides");
    const char *fmt_name = NULL, **overrides = NULL;
    int format = KEEL_CONFIG_XL, rc;
    bool has_fmt;

    if ((rc = kd_param_str(c, "format", false, &fmt_name, &has_fmt)))
        return rc;
    if (has_fmt && (format = keel_config_format_parse(fmt_name)) < 0)
        return kd_fail(c, KD_EPARAMS,
                       "member 'format' must be \"xl\", \"json\" or \"xml\" "
                       "(got \"%.40s\")",
                       fmt_name);
    if (ov && format != KEEL_CONFIG_XL)
        return kd_fail(c, KD_EPARAMS,
                       "member 'overrides' holds xl.cfg statements: it goes "
                       "with format \"xl\" only");
    if (ov && (rc = config_overrides(c, ov, &overrides)))
        return rc;
    rc = keel_domain_config_read(c->kd->ctx, format, "config_text", text,
                                 strlen(text), overrides, 0, cfg);
    free(overrides);
    return rc ? kd_fail_keel(c, rc) : 0;
}

int
kd_param_config(struct kd_call *c, struct keel_domain_config *cfg)
{
    yajl_val obj = kd_param(c, "config");
    const char *text = NULL;
    bool has_text;
    int rc;

    if ((rc = kd_param_str(c, "config_text", false, &text, &has_text)))
        return rc;
    if (obj && has_text)
        return kd_fail(c, KD_EPARAMS,
                       "give member 'config' or 'config_text', not both");
    if (!obj && !has_text)
        return kd_fail(c, KD_EPARAMS,
                       "missing member 'config' (or 'config_text')");
    if (has_text)
        return config_text(c, text, cfg);
    if (kd_param(c, "format") || kd_param(c, "overrides"))
        return kd_fail(c, KD_EPARAMS,
                       "members 'format' and 'overrides' go with "
                       "'config_text', not 'config'");
    return config_object(c, obj, cfg);
}

/* --- results --- */

yajl_gen
kd_gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g)
        return NULL;
    yajl_gen_config(g, yajl_gen_beautify, 0);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

void
kd_gen_str(yajl_gen g, const char *s)
{
    if (s)
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
    else
        yajl_gen_null(g);
}

void
kd_gen_kv_str(yajl_gen g, const char *k, const char *v)
{
    kd_gen_str(g, k);
    kd_gen_str(g, v);
}

void
kd_gen_kv_int(yajl_gen g, const char *k, long long v)
{
    kd_gen_str(g, k);
    yajl_gen_integer(g, v);
}

void
kd_gen_kv_bool(yajl_gen g, const char *k, bool v)
{
    kd_gen_str(g, k);
    yajl_gen_bool(g, v);
}

/* yajl_gen_double prints 20 significant digits (0.1 as
 * 0.10000000000000000555); this prints the shortest of %.15g and %.17g
 * that reads back as the same double. */
void
kd_gen_double(yajl_gen g, double v)
{
    char buf[40];
    int n;

    if (!isfinite(v)) { /* JSON has no inf or nan */
        yajl_gen_null(g);
        return;
    }
    n = snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, sizeof(buf), "%.17g", v);
    yajl_gen_number(g, buf, (size_t)n);
}

void
kd_gen_kv_double(yajl_gen g, const char *k, double v)
{
    kd_gen_str(g, k);
    kd_gen_double(g, v);
}

/* The map as a range list ("0-3,6"; "" when empty), or "all" when it holds
 * every one of the host's nr_all CPUs (nr_all 0: never "all"). */
void
kd_gen_kv_cpumap(yajl_gen g, const char *k, const struct keel_cpumap *map,
                 unsigned int nr_all)
{
    /* The longest list alternates CPUs ("0,2,4,...,4094"): under 2.5
     * bytes a CPU. */
    char buf[KEEL_MAX_CPUS * 3];
    struct keel_cpumap all;
    size_t len;

    kd_gen_str(g, k);
    keel_cpumap_fill(&all, nr_all);
    if (nr_all && keel_cpumap_equal(map, &all)) {
        kd_gen_str(g, "all");
        return;
    }
    len = keel_cpumap_format(map, buf, sizeof(buf));
    if (len >= sizeof(buf)) /* cannot happen (see above) */
        len = 0;
    yajl_gen_string(g, (const unsigned char *)buf, len);
}

static void
gen_object(yajl_gen g, yajl_val v)
{
    size_t i;

    yajl_gen_map_open(g);
    for (i = 0; i < v->u.object.len; i++) {
        kd_gen_str(g, v->u.object.keys[i]);
        kd_gen_value(g, v->u.object.values[i]);
    }
    yajl_gen_map_close(g);
}

static void
gen_array(yajl_gen g, yajl_val v)
{
    size_t i;

    yajl_gen_array_open(g);
    for (i = 0; i < v->u.array.len; i++)
        kd_gen_value(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
}

void
kd_gen_value(yajl_gen g, yajl_val v)
{
    if (!v) {
        yajl_gen_null(g);
        return;
    }
    switch (v->type) {
    case yajl_t_string:
        kd_gen_str(g, v->u.string);
        break;
    case yajl_t_number: /* the text as it came: no precision lost */
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        break;
    case yajl_t_object:
        gen_object(g, v);
        break;
    case yajl_t_array:
        gen_array(g, v);
        break;
    case yajl_t_true:
        yajl_gen_bool(g, 1);
        break;
    case yajl_t_false:
        yajl_gen_bool(g, 0);
        break;
    default:
        yajl_gen_null(g);
        break;
    }
}

/* --- the call --- */

void
kd_call_free(struct kd_call *call)
{
    if (!call)
        return;
    yajl_tree_free(call->req);
    free(call->id_json);
    if (call->g)
        yajl_gen_free(call->g);
    free(call->message);
    free(call);
}
