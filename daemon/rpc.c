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
    yajl_gen g = kd_gen_new();
    const unsigned char *buf;
    size_t len;

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

/* Calls about one domain or pool run in order: key them by what they
 * name, resolved to an id where it exists (so "web" and "3" agree). */
static void
make_key(struct keeld *kd, struct kd_call *call)
{
    yajl_val v;
    uint32_t id;

    call->key[0] = '\0';
    if (!call->params || (call->method->flags & KD_M_NOKEY))
        return;
    if ((v = member(call->params, "domain"))) {
        if (YAJL_IS_INTEGER(v) && v->u.number.i >= 0)
            snprintf(call->key, sizeof(call->key), "d:%lld", v->u.number.i);
        else if (YAJL_IS_STRING(v) &&
                 keel_domain_lookup(kd->host, v->u.string, &id) == 0)
            snprintf(call->key, sizeof(call->key), "d:%" PRIu32, id);
        else if (YAJL_IS_STRING(v))
            snprintf(call->key, sizeof(call->key), "d?%.70s", v->u.string);
        keel_ctx_clear_error(kd->ctx);
        return;
    }
    if ((v = member(call->params, "pool"))) {
        if (YAJL_IS_INTEGER(v))
            snprintf(call->key, sizeof(call->key), "p:%lld", v->u.number.i);
        else if (YAJL_IS_STRING(v))
            snprintf(call->key, sizeof(call->key), "p?%.70s", v->u.string);
    }
}

void
kd_rpc_line_loop(struct kd_conn *c, const char *line, size_t len)
{
    struct keeld *kd = c->kd;
    const struct kd_method *m;
    struct kd_call *call;
    char err[256], *copy, *id = NULL;
    yajl_val req, v, params;
    bool bad_id;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return; /* blank lines are allowed between requests */
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
    kd_conn_ref_loop(c);
    if (m->flags & (KD_M_WRITE | KD_M_SIM))
        log_info("conn %" PRIu64 " (uid %u, pid %d): %s", c->id,
                 (unsigned)c->uid, (int)c->pid, m->name);
    if (m->flags & KD_M_LOOP) {
        m->fn(call);
        kd_rpc_complete_loop(call);
        return;
    }
    make_key(kd, call);
    kd_work_submit_loop(kd, call);
    return;
out:
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
