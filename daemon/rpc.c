/* rpc.c: JSON-RPC 2.0 envelopes: a line in, a call out, a reply back
 *
 * A line is parsed whole (yajl's tree parser), its envelope checked
 * (object, "jsonrpc":"2.0", an id that is a number or a string, a method
 * string, params an object), the method looked up and refused when the
 * socket or the backend may not have it. What remains is a struct
 * kd_call, keyed by the domain or pool it names so that work.c runs calls
 * on one object in arrival order. Every fault is answered with its code
 * and a message that names it, and the connection stays usable.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeld.h"

void
kd_rpc_error_loop(struct kd_conn *c, const char *id_json, int code,
                  const char *name, const char *message)
{
    const unsigned char *buf;
    size_t len;
    yajl_gen g;

    if (c->quiet) {
        log_debug("conn %" PRIu64 ": notification refused: %s", c->id,
                  message ? message : "");
        return;
    }
    g = kd_gen_new();
    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "jsonrpc", "2.0");
    kd_gen_str(g, "id");
    if (id_json) {
        yajl_val id = yajl_tree_parse(id_json, NULL, 0);

        kd_gen_value(g, id);
        yajl_tree_free(id);
    } else {
        yajl_gen_null(g);
    }
    kd_gen_str(g, "error");
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "code", code);
    kd_gen_kv_str(g, "message", message ? message : "");
    if (name) {
        kd_gen_str(g, "data");
        yajl_gen_map_open(g);
        kd_gen_kv_str(g, "name", name);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    kd_conn_send_loop(c, (const char *)buf, len);
    yajl_gen_free(g);
}

static void fail_loop(struct kd_conn *c, const char *id_json, int code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail_loop(struct kd_conn *c, const char *id_json, int code, const char *fmt,
          ...)
{
    const char *name = kd_err_name(code);
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kd_rpc_error_loop(c, id_json, code, name, msg);
}

/* The id as JSON text (a number or a string), or NULL when absent.
 * *bad_r when present but of another type. */
static char *
id_text(yajl_val id, bool *bad_r)
{
    yajl_gen g;
    const unsigned char *buf;
    size_t len;
    char *text;

    *bad_r = false;
    if (!id)
        return NULL;
    if (!YAJL_IS_NUMBER(id) && !YAJL_IS_STRING(id)) {
        *bad_r = true;
        return NULL;
    }
    g = kd_gen_new();
    kd_gen_value(g, id);
    yajl_gen_get_buf(g, &buf, &len);
    text = strndup((const char *)buf, len);
    yajl_gen_free(g);
    return text;
}

static yajl_val
member(yajl_val obj, const char *name)
{
    size_t i;

    for (i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], name) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* The name of the domain a create or define would make, parsed here
 * (the handler parses again and reports faults), or NULL. */
static char *
config_name(struct kd_call *call)
{
    struct keel_domain_config cfg;
    char *name = NULL;

    keel_domain_config_init(&cfg);
    if (kd_param_config(call, &cfg) == 0 && cfg.name)
        name = strdup(cfg.name);
    keel_domain_config_dispose(&cfg);
    free(call->message); /* the handler's to report */
    call->message = NULL;
    call->code = 0;
    call->err_name = NULL;
    keel_ctx_clear_error(call->kd->ctx);
    return name;
}

/* Calls about one domain run in arrival order: key them by the domain's
 * name, whatever spelling they use (a name, a domid, a uuid), and a
 * create or define by the name in its config, so "create web" then
 * "pause web" sent back to back run in that order. Pools by what names
 * them. */
static void
make_key(struct keeld *kd, struct kd_call *call)
{
    struct keel_domain_info info;
    char idbuf[32], *name;
    const char *spelled = NULL;
    yajl_val v;
    uint32_t id;

    call->key[0] = '\0';
    if (!call->params || (call->method->flags & KD_M_NOKEY))
        return;
    if ((v = member(call->params, "domain"))) {
        if (YAJL_IS_INTEGER(v) && v->u.number.i >= 0) {
            snprintf(idbuf, sizeof(idbuf), "%lld", v->u.number.i);
            spelled = idbuf;
        } else if (YAJL_IS_STRING(v)) {
            spelled = v->u.string;
        }
        if (spelled && keel_domain_lookup(kd->host, spelled, &id) == 0 &&
            keel_domain_info(kd->host, id, &info) == 0)
            snprintf(call->key, sizeof(call->key), "n:%s", info.name);
        else if (spelled)
            snprintf(call->key, sizeof(call->key), "n:%.127s", spelled);
        keel_ctx_clear_error(kd->ctx);
        return;
    }
    if (member(call->params, "config") || member(call->params, "config_text")) {
        name = config_name(call);
        if (name)
            snprintf(call->key, sizeof(call->key), "n:%.127s", name);
        free(name);
        return;
    }
    if ((v = member(call->params, "pool"))) {
        if (YAJL_IS_INTEGER(v))
            snprintf(call->key, sizeof(call->key), "p:%lld", v->u.number.i);
        else if (YAJL_IS_STRING(v))
            snprintf(call->key, sizeof(call->key), "p:%.127s", v->u.string);
    }
}

#define MAX_DEPTH 64

/* What the text says before it is parsed: yajl's tree recurses (a deep
 * nesting would exhaust the stack), and its strings are C strings (NUL,
 * \u0000, would cut "domain.list\u0000x" to domain.list). So the text is
 * scanned first for its depth, for NUL, and for the top-level "id" (to
 * answer with it even when the rest cannot be parsed). */
struct scan {
    bool comment; /* a '/' outside a string: yajl's tree parser takes
                     comments, which JSON has not, and they would hide
                     text from this scan */
    bool too_deep;
    bool nul;        /* \u0000 somewhere */
    bool method_nul; /* ... in the top-level "method" */
    char id[64];     /* the raw top-level id token, or "" */
};

static void
scan_text(const char *p, size_t len, struct scan *sc)
{
    size_t i, depth = 0, str_start = 0, val_start = 0;
    bool in_string = false, want_key = false, str_nul = false;
    enum { NONE, ID, METHOD } key = NONE, val_of = NONE;

    memset(sc, 0, sizeof(*sc));
    for (i = 0; i < len; i++) {
        char ch = p[i];

        if (in_string) {
            if (ch == '\\' && i + 1 < len) {
                if (p[i + 1] == 'u' && i + 5 < len &&
                    memcmp(p + i + 2, "0000", 4) == 0) {
                    sc->nul = str_nul = true;
                    if (val_of == METHOD && depth == 1)
                        sc->method_nul = true;
                }
                i++;
                continue;
            }
            if (ch != '"')
                continue;
            in_string = false;
            if (depth == 1 && want_key) {
                size_t n = i - str_start;

                key = n == 2 && !memcmp(p + str_start, "id", 2)       ? ID
                      : n == 6 && !memcmp(p + str_start, "method", 6) ? METHOD
                                                                      : NONE;
            }
            continue;
        }
        switch (ch) {
        case '/':
            sc->comment = true;
            return;
        case '"':
            in_string = true;
            str_nul = false;
            str_start = i + 1;
            break;
        case '[':
        case '{':
            if (++depth > MAX_DEPTH) {
                sc->too_deep = true;
                return;
            }
            want_key = depth == 1 && ch == '{';
            break;
        case ']':
        case '}':
        case ',':
            if (depth == 1 && val_of == ID && !sc->id[0] &&
                i - val_start < sizeof(sc->id)) {
                size_t n = i - val_start;

                while (n && (p[val_start + n - 1] == ' ' ||
                             p[val_start + n - 1] == '\t'))
                    n--;
                memcpy(sc->id, p + val_start, n);
                sc->id[n] = '\0';
            }
            if (ch != ',' && depth)
                depth--;
            if (depth == 1 || (ch != ',' && depth == 0)) {
                want_key = depth == 1;
                val_of = NONE;
            }
            break;
        case ':':
            if (depth == 1) {
                want_key = false;
                val_of = key;
                val_start = i + 1;
                while (val_start < len &&
                       (p[val_start] == ' ' || p[val_start] == '\t'))
                    val_start++;
            }
            break;
        default:
            break;
        }
    }
    (void)str_nul;
}

/* The scanned id if it is a number or a plain string, else NULL. */
static const char *
scanned_id(const struct scan *sc)
{
    const char *t = sc->id;

    if (!t[0])
        return NULL;
    if (t[0] == '"')
        return strchr(t + 1, '\\') ? NULL : t;
    return strspn(t, "-0123456789.eE+") == strlen(t) ? t : NULL;
}

void
kd_rpc_line_loop(struct kd_conn *c, const char *line, size_t len)
{
    struct keeld *kd = c->kd;
    const struct kd_method *m;
    struct kd_call *call;
    char err[256], *copy, *id = NULL;
    struct scan sc;
    yajl_val req, v, params;
    bool bad_id, notification;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return; /* blank lines are allowed between requests */
    scan_text(line, len, &sc);
    if (sc.comment) {
        fail_loop(c, NULL, KD_EPARSE, "parse error: comments are not JSON");
        return;
    }
    if (sc.too_deep) {
        fail_loop(c, scanned_id(&sc), KD_EREQUEST,
                  "nested deeper than %d levels", MAX_DEPTH);
        return;
    }
    copy = strndup(line, len);
    if (!copy) {
        fail_loop(c, NULL, KD_EINTERNAL, "out of memory");
        return;
    }
    err[0] = '\0';
    req = yajl_tree_parse(copy, err, sizeof(err));
    free(copy);
    if (!req) {
        char *nl = strchr(err, '\n');

        if (nl)
            *nl = '\0';
        fail_loop(c, NULL, KD_EPARSE, "parse error: %s",
                  err[0] ? err : "invalid JSON");
        return;
    }
    if (!YAJL_IS_OBJECT(req)) {
        fail_loop(c, NULL, KD_EREQUEST, "a request must be a JSON object");
        goto out;
    }
    notification = member(req, "id") == NULL;
    id = id_text(member(req, "id"), &bad_id);
    if (bad_id) {
        fail_loop(c, NULL, KD_EREQUEST, "\"id\" must be a number or a string");
        goto out;
    }
    v = member(req, "jsonrpc");
    if (!v || !YAJL_IS_STRING(v) || strcmp(v->u.string, "2.0") != 0) {
        fail_loop(c, id, KD_EREQUEST, "\"jsonrpc\" must be \"2.0\"");
        goto out;
    }
    v = member(req, "method");
    if (!v || !YAJL_IS_STRING(v)) {
        fail_loop(c, id, KD_EREQUEST, "\"method\" must be a string");
        goto out;
    }
    /* From here a notification is carried out if it can be, and never
     * answered, not even with an error (JSON-RPC 2.0). */
    if (notification)
        c->quiet = true;
    params = member(req, "params");
    if (params && YAJL_IS_ARRAY(params)) {
        fail_loop(c, id, KD_EPARAMS,
                  "params must be an object (named members), not an array");
        goto out;
    }
    if (params && !YAJL_IS_OBJECT(params)) {
        fail_loop(c, id, KD_EREQUEST, "\"params\" must be an object");
        goto out;
    }
    if (sc.method_nul) {
        fail_loop(c, id, KD_EMETHOD, "no method '%s\\u0000...'", v->u.string);
        goto out;
    }
    if (sc.nul) {
        fail_loop(c, id, KD_EPARAMS, "strings may not hold NUL (\\u0000)");
        goto out;
    }
    m = kd_method_find(v->u.string);
    if (!m) {
        fail_loop(c, id, KD_EMETHOD, "no method '%s'", v->u.string);
        goto out;
    }
    if (c->ro && (m->flags & KD_M_WRITE)) {
        fail_loop(c, id, KD_EREADONLY,
                  "%s changes the host: it needs keeld.sock, not the "
                  "read-only keeld-ro.sock",
                  m->name);
        goto out;
    }
    if ((m->flags & KD_M_SIM) && !kd->sim) {
        fail_loop(c, id, KD_EBACKEND,
                  "%s is a control of the sim backend; this keeld runs %s",
                  m->name, kd->opts.backend);
        goto out;
    }
    if (kd->stopping) {
        fail_loop(c, id, KD_ESHUTDOWN, "keeld is shutting down");
        goto out;
    }
    call = calloc(1, sizeof(*call));
    if (!call || !(call->g = kd_gen_new())) {
        free(call);
        fail_loop(c, id, KD_EINTERNAL, "out of memory");
        goto out;
    }
    call->kd = kd;
    call->conn = c;
    call->conn_id = c->id;
    call->method = m;
    call->req = req;
    call->params = params;
    call->id_json = id;
    call->complete = kd_rpc_complete_loop;
    kd_conn_ref_loop(c);
    if (m->flags & (KD_M_WRITE | KD_M_SIM))
        log_info("conn %" PRIu64 " (uid %u, pid %d): %s", c->id,
                 (unsigned)c->uid, (int)c->pid, m->name);
    if (m->flags & KD_M_LOOP) {
        c->quiet = false;
        m->fn(call);
        kd_rpc_complete_loop(call);
        return;
    }
    make_key(kd, call);
    kd_work_submit_loop(kd, call);
    c->quiet = false;
    return;
out:
    c->quiet = false;
    free(id);
    yajl_tree_free(req);
}

void
kd_rpc_complete_loop(struct kd_call *call)
{
    struct kd_conn *c = call->conn;
    const unsigned char *res;
    size_t len;

    if (call->id_json && !c->closing) {
        if (call->code) {
            kd_rpc_error_loop(c, call->id_json, call->code, call->err_name,
                              call->message ? call->message : "failed");
        } else {
            yajl_gen g = kd_gen_new();
            const unsigned char *buf;
            size_t blen;
            char *line;

            yajl_gen_get_buf(call->g, &res, &len);
            yajl_gen_map_open(g);
            kd_gen_kv_str(g, "jsonrpc", "2.0");
            yajl_gen_get_buf(g, &buf, &blen);
            /* The envelope's head, the id and the result are spliced as
             * text: the result is one JSON value already. */
            line = malloc(blen + strlen(call->id_json) + len + 32);
            if (line) {
                int n = sprintf(line, "%.*s,\"id\":%s,\"result\":", (int)blen,
                                (const char *)buf, call->id_json);

                if (len)
                    memcpy(line + n, res, len);
                else
                    memcpy(line + n, "null", (len = 4));
                line[n + len] = '}';
                kd_conn_send_loop(c, line, (size_t)n + len + 1);
                free(line);
            }
            yajl_gen_free(g);
        }
    }
    if (call->after)
        call->after(call);
    kd_conn_unref_loop(c);
    kd_call_free(call);
}
