/* test-keeld-params.c: keeld's params, results, errors and handlers
 *
 * Drives daemon/params.c and the method handlers (methods*.c) directly,
 * without libuv or a socket: each test builds a struct kd_call by hand
 * from a params object in JSON, runs the method's handler on a struct
 * keeld whose host is a sim, and reads back the result text or the
 * error (code, data.name, message). The JSON-RPC envelope, the sockets
 * and the scheduling are the integration tests' business.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/cpupool.h>
#include <keel/domain.h>
#include <keel/sim.h>

#include "harness.h"
#include "keeld.h"

static struct keeld kd;

/* A keeld on a fresh sim (8 CPUs in 2 nodes, 16 GiB). */
static struct keeld *
kd_open(void)
{
    memset(&kd, 0, sizeof(kd));
    kd.ctx = th_ctx();
    kd.hv = th_sim_open(NULL, NULL, 0);
    kd.host = th_host_open(kd.hv, NULL);
    kd.sim = true;
    return &kd;
}

/* A call of method with params (JSON text, or NULL for none). */
static struct kd_call *
call_new(const char *method, const char *params)
{
    struct kd_call *c = calloc(1, sizeof(*c));
    char err[256];

    ck_assert_ptr_nonnull(c);
    c->kd = &kd;
    c->method = kd_method_find(method);
    ck_assert_msg(c->method != NULL, "no method %s", method);
    if (params) {
        c->req = yajl_tree_parse(params, err, sizeof(err));
        ck_assert_msg(c->req != NULL, "bad test JSON %s: %s", params, err);
        c->params = c->req;
    }
    c->g = kd_gen_new();
    ck_assert_ptr_nonnull(c->g);
    return c;
}

/* The result's text (the generator's buffer, valid until the call is
 * freed). */
static const char *
result_of(struct kd_call *c)
{
    const unsigned char *buf;
    size_t len;

    ck_assert_int_eq(yajl_gen_get_buf(c->g, &buf, &len), yajl_gen_status_ok);
    return (const char *)buf;
}

/* Runs method; on success returns the result text in a new string. */
static char *
ok_call(const char *method, const char *params)
{
    struct kd_call *c = call_new(method, params);
    int rc = c->method->fn(c);
    char *out;

    ck_assert_msg(rc == 0, "%s %s: %d %s: %s", method, params ? params : "", rc,
                  c->err_name ? c->err_name : "", c->message ? c->message : "");
    ck_assert_int_eq(c->code, 0);
    out = strdup(result_of(c));
    kd_call_free(c);
    return out;
}

/* Runs method, which must fail with code, data.name name and a message
 * that contains needle. */
static void
fail_call(const char *method, const char *params, int code, const char *name,
          const char *needle)
{
    struct kd_call *c = call_new(method, params);
    int rc = c->method->fn(c);

    ck_assert_msg(rc == code, "%s %s: got %d (%s), want %d", method,
                  params ? params : "", rc, c->message ? c->message : "", code);
    ck_assert_int_eq(c->code, code);
    ck_assert_str_eq(c->err_name, name);
    ck_assert_ptr_nonnull(c->message);
    ck_assert_msg(strstr(c->message, needle), "message '%s' lacks '%s'",
                  c->message, needle);
    kd_call_free(c);
}

/* Asserts that text contains needle. */
#define HAS(text, needle)                                                      \
    ck_assert_msg(strstr((text), (needle)) != NULL, "'%s' lacks '%s'", (text), \
                  (needle))

static const char *const XL_WEB = "name='web'\\nmemory=128\\nvcpus=2\\n";

/* Creates web (xl config) and returns its domid. */
static uint32_t
create_web(void)
{
    char params[256];
    yajl_val v;
    char *out;
    uint32_t domid;
    const char *path[] = {"domid", NULL};

    snprintf(params, sizeof(params), "{\"config_text\":\"%s\"}", XL_WEB);
    out = ok_call("domain.create", params);
    v = yajl_tree_parse(out, NULL, 0);
    ck_assert_ptr_nonnull(v);
    domid = (uint32_t)YAJL_GET_INTEGER(yajl_tree_get(v, path, yajl_t_number));
    yajl_tree_free(v);
    HAS(out, "\"name\":\"web\"");
    free(out);
    return domid;
}

/* --- params.c --- */

START_TEST(params_types)
{
    struct kd_call *c;
    const char *s = "unset";
    int64_t i = 7;
    bool b = false, present = true;

    kd_open();
    c = call_new("version", "{\"s\":\"x\",\"i\":42,\"b\":true,\"d\":1.5,"
                            "\"big\":123456789012345678901234}");
    ck_assert_int_eq(kd_param_str(c, "s", true, &s, &present), 0);
    ck_assert_str_eq(s, "x");
    ck_assert(present);
    ck_assert_int_eq(kd_param_i64(c, "i", true, 0, 100, &i, NULL), 0);
    ck_assert_int_eq(i, 42);
    ck_assert_int_eq(kd_param_bool(c, "b", true, &b, NULL), 0);
    ck_assert(b);
    /* absent optional members leave the value alone */
    ck_assert_int_eq(kd_param_str(c, "none", false, &s, &present), 0);
    ck_assert(!present);
    ck_assert_str_eq(s, "x");
    ck_assert_ptr_null(kd_param(c, "none"));
    ck_assert_ptr_nonnull(kd_param(c, "d"));
    kd_call_free(c);
}
END_TEST

/* Each refusal names the member; the first error recorded wins. */
START_TEST(params_refused)
{
    struct {
        const char *params;
        const char *needle;
    } cases[] = {
        {"{}", "missing member 'i'"},
        {"{\"i\":\"1\"}", "member 'i' must be a number"},
        {"{\"i\":1.5}", "member 'i' must be an integer in 0..100 (got 1.5)"},
        {"{\"i\":101}", "0..100"},
        {"{\"i\":-1}", "0..100"},
        {"{\"i\":123456789012345678901234}", "integer"},
    };
    struct kd_call *c;
    int64_t i = 0;
    size_t k;

    kd_open();
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        c = call_new("version", cases[k].params);
        ck_assert_int_eq(kd_param_i64(c, "i", true, 0, 100, &i, NULL),
                         KD_EPARAMS);
        ck_assert_str_eq(c->err_name, "invalid params");
        HAS(c->message, cases[k].needle);
        /* a later failure does not replace the first */
        ck_assert_int_eq(kd_fail(c, KD_EINTERNAL, "later"), KD_EPARAMS);
        HAS(c->message, cases[k].needle);
        kd_call_free(c);
    }
    c = call_new("version", "{\"b\":1,\"s\":2}");
    ck_assert_int_eq(kd_param_str(c, "s", true, NULL, NULL), KD_EPARAMS);
    HAS(c->message, "member 's' must be a string");
    kd_call_free(c);
    c = call_new("version", "{\"b\":1}");
    ck_assert_int_eq(kd_param_bool(c, "b", false, NULL, NULL), KD_EPARAMS);
    HAS(c->message, "member 'b' must be true or false");
    kd_call_free(c);
}
END_TEST

START_TEST(params_only)
{
    static const char *const names[] = {"a", "b", NULL};
    struct kd_call *c;

    kd_open();
    c = call_new("version", "{\"a\":1,\"b\":2}");
    ck_assert_int_eq(kd_params_only(c, names), 0);
    kd_call_free(c);
    c = call_new("version", NULL);
    ck_assert_int_eq(kd_params_only(c, names), 0);
    kd_call_free(c);
    c = call_new("version", "{\"a\":1,\"c\":2}");
    ck_assert_int_eq(kd_params_only(c, names), KD_EPARAMS);
    ck_assert_str_eq(c->message, "unknown member 'c' for version");
    kd_call_free(c);
    c = call_new("version", "{\"a\":1,\"a\":2}");
    ck_assert_int_eq(kd_params_only(c, names), KD_EPARAMS);
    ck_assert_str_eq(c->message, "member 'a' given twice");
    kd_call_free(c);
    c = call_new("version", "[1]");
    ck_assert_int_eq(kd_params_only(c, names), KD_EPARAMS);
    kd_call_free(c);
}
END_TEST

START_TEST(params_domain_pool)
{
    struct keel_domain_info info;
    struct kd_call *c;
    uint32_t domid, id = 99;
    char params[128], uuid[37];

    kd_open();
    domid = create_web();
    OK(keel_domain_info(kd.host, domid, &info));
    keel_uuid_format(info.uuid, uuid);
    snprintf(params, sizeof(params),
             "{\"n\":\"web\",\"i\":%u,\"s\":\"%u\",\"u\":\"%s\",\"z\":0}",
             domid, domid, uuid);
    c = call_new("version", params);
    ck_assert_int_eq(kd_param_domain(c, "n", &id), 0);
    ck_assert_uint_eq(id, domid);
    id = 99;
    ck_assert_int_eq(kd_param_domain(c, "i", &id), 0);
    ck_assert_uint_eq(id, domid);
    id = 99;
    ck_assert_int_eq(kd_param_domain(c, "s", &id), 0);
    ck_assert_uint_eq(id, domid);
    id = 99;
    ck_assert_int_eq(kd_param_domain(c, "u", &id), 0);
    ck_assert_uint_eq(id, domid);
    ck_assert_int_eq(kd_param_pool(c, "z", &id), 0);
    ck_assert_uint_eq(id, 0);
    kd_call_free(c);

    c = call_new("version", "{\"d\":\"nope\"}");
    ck_assert_int_eq(kd_param_domain(c, "d", &id), KEEL_ENODOMAIN);
    ck_assert_str_eq(c->err_name, "KEEL_ENODOMAIN");
    HAS(c->message, "nope");
    kd_call_free(c);
    c = call_new("version", "{\"d\":-1}");
    ck_assert_int_eq(kd_param_domain(c, "d", &id), KD_EPARAMS);
    HAS(c->message, "member 'd' must be a name");
    kd_call_free(c);
    c = call_new("version", "{}");
    ck_assert_int_eq(kd_param_pool(c, "pool", &id), KD_EPARAMS);
    ck_assert_str_eq(c->message, "missing member 'pool'");
    kd_call_free(c);
    c = call_new("version", "{\"p\":\"deep\"}");
    ck_assert_int_eq(kd_param_pool(c, "p", &id), KEEL_ENOPOOL);
    ck_assert_str_eq(c->err_name, "KEEL_ENOPOOL");
    kd_call_free(c);
}
END_TEST

START_TEST(err_names)
{
    struct kd_call *c;

    ck_assert_str_eq(kd_err_name(KEEL_ENODOMAIN), "KEEL_ENODOMAIN");
    ck_assert_str_eq(kd_err_name(KEEL_EINVAL), "KEEL_EINVAL");
    ck_assert_str_eq(kd_err_name(KEEL_EBACKEND), "KEEL_EBACKEND");
    ck_assert_str_eq(kd_err_name(KD_EPARAMS), "invalid params");
    ck_assert_str_eq(kd_err_name(KD_EREADONLY), "read-only socket");
    ck_assert_str_eq(kd_err_name(-12345), "KEEL_UNKNOWN");

    /* kd_fail_keel keeps libkeel's code and this thread's message */
    kd_open();
    c = call_new("version", NULL);
    ck_assert_int_eq(kd_fail_keel(c, keel_domain_pause(kd.host, 0)),
                     KEEL_EPERM);
    ck_assert_str_eq(c->err_name, "KEEL_EPERM");
    ck_assert_str_eq(c->message, keel_ctx_last_error(kd.ctx));
    kd_call_free(c);
    /* without a recorded message: the code's generic text */
    keel_ctx_clear_error(kd.ctx);
    c = call_new("version", NULL);
    ck_assert_int_eq(kd_fail_keel(c, KEEL_EBUSY), KEEL_EBUSY);
    ck_assert_str_eq(c->message, keel_strerror(KEEL_EBUSY));
    kd_call_free(c);
}
END_TEST

/* --- results --- */

static char *
gen_text(yajl_gen g)
{
    const unsigned char *buf;
    size_t len;
    char *s;

    ck_assert_int_eq(yajl_gen_get_buf(g, &buf, &len), yajl_gen_status_ok);
    s = strndup((const char *)buf, len);
    yajl_gen_free(g);
    return s;
}

START_TEST(gen_value_round_trip)
{
    static const char *const text =
        "{\"a\":[1,-2.50,1e3,12345678901234567890123,true,false,null],"
        "\"s\":\"\\u00e9/\\\"x\\\"\",\"o\":{},\"e\":[]}";
    yajl_val v = yajl_tree_parse(text, NULL, 0);
    yajl_gen g = kd_gen_new();
    char *out;

    ck_assert_ptr_nonnull(v);
    kd_gen_value(g, v);
    out = gen_text(g);
    /* numbers as they came; / not escaped; é as UTF-8 */
    ck_assert_str_eq(out, "{\"a\":[1,-2.50,1e3,12345678901234567890123,true,"
                          "false,null],\"s\":\"\xc3\xa9/\\\"x\\\"\","
                          "\"o\":{},\"e\":[]}");
    free(out);
    yajl_tree_free(v);
}
END_TEST

START_TEST(gen_numbers_and_cpus)
{
    struct keel_cpumap map;
    yajl_gen g = kd_gen_new();
    char *out;

    yajl_gen_map_open(g);
    kd_gen_kv_double(g, "a", 0.1);
    kd_gen_kv_double(g, "b", 1.0 / 3.0);
    kd_gen_kv_double(g, "c", 1.0 / 0.0);
    kd_gen_kv_int(g, "d", -5);
    kd_gen_kv_bool(g, "e", true);
    kd_gen_kv_str(g, "f", NULL);
    keel_cpumap_zero(&map);
    kd_gen_kv_cpumap(g, "g", &map, 8);
    keel_cpumap_fill(&map, 8);
    kd_gen_kv_cpumap(g, "h", &map, 8);
    kd_gen_kv_cpumap(g, "i", &map, 0);
    keel_cpumap_clear(&map, 5);
    kd_gen_kv_cpumap(g, "j", &map, 8);
    yajl_gen_map_close(g);
    out = gen_text(g);
    ck_assert_str_eq(out, "{\"a\":0.1,\"b\":0.33333333333333331,\"c\":null,"
                          "\"d\":-5,\"e\":true,\"f\":null,\"g\":\"\","
                          "\"h\":\"all\",\"i\":\"0-7\",\"j\":\"0-4,6-7\"}");
    free(out);
}
END_TEST

/* --- the tables --- */

START_TEST(method_table)
{
    static const struct {
        const char *name;
        unsigned int flags; /* WRITE and SIM bits */
    } want[] = {
        {"version", 0},
        {"host.info", 0},
        {"domain.list", 0},
        {"domain.info", 0},
        {"domain.vcpu_list", 0},
        {"domain.get_config", 0},
        {"domain.create", KD_M_WRITE},
        {"domain.destroy", KD_M_WRITE},
        {"domain.shutdown", KD_M_WRITE},
        {"domain.reboot", KD_M_WRITE},
        {"domain.pause", KD_M_WRITE},
        {"domain.unpause", KD_M_WRITE},
        {"domain.rename", KD_M_WRITE},
        {"domain.set_memory", KD_M_WRITE},
        {"domain.set_max_memory", KD_M_WRITE},
        {"domain.set_vcpus", KD_M_WRITE},
        {"domain.pin_vcpu", KD_M_WRITE},
        {"cpupool.list", 0},
        {"cpupool.create", KD_M_WRITE},
        {"cpupool.destroy", KD_M_WRITE},
        {"cpupool.rename", KD_M_WRITE},
        {"cpupool.cpu_add", KD_M_WRITE},
        {"cpupool.cpu_remove", KD_M_WRITE},
        {"cpupool.move_domain", KD_M_WRITE},
        {"cpupool.numa_split", KD_M_WRITE},
        {"sched.get", 0},
        {"sched.set", KD_M_WRITE},
        {"sim.guest_act", KD_M_SIM | KD_M_WRITE},
        {"sim.guest_set", KD_M_SIM | KD_M_WRITE},
        {"sim.memory_digest", KD_M_SIM},
    };
    const struct kd_method *m;
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        m = kd_method_find(want[i].name);
        ck_assert_msg(m != NULL, "%s missing", want[i].name);
        ck_assert_str_eq(m->name, want[i].name);
        ck_assert_ptr_nonnull(m->fn);
        ck_assert_msg((m->flags & (KD_M_WRITE | KD_M_SIM)) == want[i].flags,
                      "%s: flags %#x", want[i].name, m->flags);
    }
    ck_assert_ptr_null(kd_method_find("domain.nope"));
    ck_assert_ptr_null(kd_method_find(""));
    ck_assert_ptr_null(kd_method_find(NULL));
}
END_TEST

/* A name in two tables would hide the second: kd_method_find returns the
 * first. Read methods never carry KD_M_SIM without being sim.*. */
START_TEST(method_names_unique)
{
    const struct kd_method *const tables[] = {
        kd_methods_host,  kd_methods_pool, kd_methods_sim,
        kd_methods_state, kd_methods_jobs, kd_methods_events,
    };
    const struct kd_method *m;
    size_t i, n = 0;

    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        for (m = tables[i]; m->name; m++, n++) {
            ck_assert_msg(kd_method_find(m->name) == m, "%s twice", m->name);
            ck_assert_msg(!(m->flags & KD_M_SIM) ||
                              !strncmp(m->name, "sim.", 4),
                          "%s is KD_M_SIM", m->name);
        }
    ck_assert_uint_ge(n, 30);
}
END_TEST

/* --- handlers --- */

START_TEST(version_host_info)
{
    char *out;

    kd_open();
    out = ok_call("version", NULL);
    HAS(out, "\"api\":1");
    HAS(out, "\"backend\":\"sim\"");
    free(out);
    fail_call("version", "{\"x\":1}", KD_EPARAMS, "invalid params",
              "unknown member 'x'");
    out = ok_call("host.info", "{}");
    HAS(out, "\"nr_cpus\":8");
    HAS(out, "\"nr_nodes\":2");
    HAS(out, "\"total_kb\":16777216");
    HAS(out, "\"backend\":\"sim\"");
    free(out);
}
END_TEST

START_TEST(domain_create_info_list)
{
    char *out;
    uint32_t domid;

    kd_open();
    domid = create_web();
    out = ok_call("domain.info", "{\"domain\":\"web\"}");
    HAS(out, "\"name\":\"web\"");
    HAS(out, "\"type\":\"pv\"");
    HAS(out, "\"state\":\"running\"");
    HAS(out, "\"memory_kb\":131072");
    HAS(out, "\"max_vcpus\":2");
    HAS(out, "\"pool\":\"Pool-0\"");
    HAS(out, "\"defined\":false");
    ck_assert_ptr_null(strstr(out, "\"reason\""));
    free(out);
    out = ok_call("domain.list", NULL);
    ck_assert_msg(!strncmp(out, "[{\"domid\":0,", 12), "%s", out);
    HAS(out, "\"name\":\"Domain-0\"");
    HAS(out, "\"name\":\"web\"");
    free(out);
    fail_call("domain.info", "{\"domain\":\"db\"}", KEEL_ENODOMAIN,
              "KEEL_ENODOMAIN", "db");
    fail_call("domain.info", "{}", KD_EPARAMS, "invalid params",
              "missing member 'domain'");
    /* name taken */
    fail_call("domain.create", "{\"config_text\":\"name='web'\\nmemory=64\"}",
              KEEL_EEXIST, "KEEL_EEXIST", "web");
    (void)domid;
}
END_TEST

START_TEST(domain_create_forms)
{
    char *out;

    kd_open();
    /* libxl JSON object, paused */
    out = ok_call("domain.create",
                  "{\"paused\":true,\"config\":{\"c_info\":{\"name\":\"j\","
                  "\"type\":\"pv\"},\"b_info\":{\"max_memkb\":65536,"
                  "\"target_memkb\":65536}}}");
    HAS(out, "\"name\":\"j\"");
    free(out);
    out = ok_call("domain.info", "{\"domain\":\"j\"}");
    HAS(out, "\"state\":\"paused\"");
    HAS(out, "\"flags\":\"--p---\"");
    free(out);
    /* xl text with overrides */
    out =
        ok_call("domain.create", "{\"config_text\":\"name='x'\\nmemory=64\\n\","
                                 "\"overrides\":[\"memory=96\",\"vcpus=3\"]}");
    free(out);
    out = ok_call("domain.info", "{\"domain\":\"x\"}");
    HAS(out, "\"memory_kb\":98304");
    HAS(out, "\"max_vcpus\":3");
    free(out);
    /* refusals */
    fail_call("domain.create", "{}", KD_EPARAMS, "invalid params",
              "missing member 'config'");
    fail_call("domain.create", "{\"config\":{},\"config_text\":\"\"}",
              KD_EPARAMS, "invalid params", "not both");
    fail_call("domain.create", "{\"config\":[]}", KD_EPARAMS, "invalid params",
              "member 'config' must be an object");
    fail_call("domain.create", "{\"config\":{},\"format\":\"xl\"}", KD_EPARAMS,
              "invalid params", "go with 'config_text'");
    fail_call("domain.create",
              "{\"config_text\":\"{}\",\"format\":\"json\",\"overrides\":[]}",
              KD_EPARAMS, "invalid params", "format \"xl\" only");
    fail_call("domain.create",
              "{\"config_text\":\"name='y'\",\"overrides\":[1]}", KD_EPARAMS,
              "invalid params", "'overrides' item 0 must be a string");
    fail_call("domain.create", "{\"config_text\":\"x\",\"format\":\"yaml\"}",
              KD_EPARAMS, "invalid params", "member 'format'");
    fail_call("domain.create", "{\"config_text\":\"memory=\"}", KEEL_ESYNTAX,
              "KEEL_ESYNTAX", "config_text:1");
}
END_TEST

START_TEST(domain_get_config)
{
    char *out;

    kd_open();
    create_web();
    out = ok_call("domain.get_config", "{\"domain\":\"web\"}");
    ck_assert_msg(out[0] == '{', "%s", out);
    HAS(out, "\"c_info\":{");
    HAS(out, "\"name\":\"web\"");
    free(out);
    out =
        ok_call("domain.get_config", "{\"domain\":\"web\",\"format\":\"xl\"}");
    ck_assert_msg(out[0] == '"', "%s", out);
    HAS(out, "name = \\\"web\\\"");
    free(out);
    out =
        ok_call("domain.get_config", "{\"domain\":\"web\",\"format\":\"xml\"}");
    HAS(out, "<domain type='xen'>");
    free(out);
    fail_call("domain.get_config", "{\"domain\":0}", KEEL_ENOENT, "KEEL_ENOENT",
              "Domain-0");
}
END_TEST

START_TEST(domain_changes)
{
    char *out;

    kd_open();
    create_web();
    out = ok_call("domain.pause", "{\"domain\":\"web\"}");
    ck_assert_str_eq(out, "{}");
    free(out);
    fail_call("domain.pause", "{\"domain\":\"web\"}", KEEL_ESTATE,
              "KEEL_ESTATE", "pause");
    free(ok_call("domain.unpause", "{\"domain\":\"web\"}"));
    free(ok_call("domain.rename", "{\"domain\":\"web\",\"name\":\"www\"}"));
    free(ok_call("domain.set_memory",
                 "{\"domain\":\"www\",\"memory_kb\":65536}"));
    free(ok_call("domain.set_max_memory",
                 "{\"domain\":\"www\",\"memory_kb\":262144}"));
    free(ok_call("domain.set_vcpus", "{\"domain\":\"www\",\"vcpus\":1}"));
    out = ok_call("domain.info", "{\"domain\":\"www\"}");
    HAS(out, "\"target_kb\":65536");
    HAS(out, "\"max_kb\":262144");
    free(out);
    fail_call("domain.set_vcpus", "{\"domain\":\"www\",\"vcpus\":0}",
              KD_EPARAMS, "invalid params", "'vcpus'");
    fail_call("domain.rename", "{\"domain\":\"www\"}", KD_EPARAMS,
              "invalid params", "missing member 'name'");
    free(ok_call("domain.destroy", "{\"domain\":\"www\"}"));
    fail_call("domain.info", "{\"domain\":\"www\"}", KEEL_ENODOMAIN,
              "KEEL_ENODOMAIN", "www");
}
END_TEST

START_TEST(domain_pin_vcpu_list)
{
    char *out;

    kd_open();
    create_web();
    free(ok_call("domain.pin_vcpu",
                 "{\"domain\":\"web\",\"vcpu\":1,\"hard\":\"2-3\"}"));
    free(ok_call("domain.pin_vcpu",
                 "{\"domain\":\"web\",\"vcpu\":\"all\",\"soft\":\"node:1\"}"));
    out = ok_call("domain.vcpu_list", "{\"domain\":\"web\"}");
    HAS(out, "{\"vcpu\":0,");
    HAS(out, "\"hard\":\"all\",\"soft\":\"4-7\"}");
    HAS(out, "\"hard\":\"2-3\",\"soft\":\"4-7\"}");
    HAS(out, "\"online\":true");
    free(out);
    fail_call("domain.pin_vcpu", "{\"domain\":\"web\",\"vcpu\":0}", KD_EPARAMS,
              "invalid params", "'hard', 'soft' or both");
    fail_call("domain.pin_vcpu",
              "{\"domain\":\"web\",\"vcpu\":\"some\",\"hard\":\"1\"}",
              KD_EPARAMS, "invalid params", "member 'vcpu'");
    fail_call("domain.pin_vcpu",
              "{\"domain\":\"web\",\"vcpu\":0,\"hard\":\"99\"}", KEEL_EINVAL,
              "KEEL_EINVAL", "'hard': ");
}
END_TEST

START_TEST(domain_shutdown_wait)
{
    kd_open();
    create_web();
    fail_call("domain.shutdown", "{\"domain\":\"web\",\"force\":true}",
              KD_EPARAMS, "invalid params", "need \"wait\": true");
    free(ok_call("domain.shutdown",
                 "{\"domain\":\"web\",\"wait\":true,\"timeout_ms\":5000}"));
    fail_call("domain.info", "{\"domain\":\"web\"}", KEEL_ENODOMAIN,
              "KEEL_ENODOMAIN", "web");
    /* a guest that ignores the request: forced after the timeout */
    create_web();
    free(ok_call("sim.guest_set",
                 "{\"domain\":\"web\",\"ignore_shutdown\":true}"));
    fail_call("domain.shutdown",
              "{\"domain\":\"web\",\"wait\":true,\"timeout_ms\":50}",
              KEEL_ETIMEDOUT, "KEEL_ETIMEDOUT", "");
    free(ok_call("domain.shutdown", "{\"domain\":\"web\",\"wait\":true,"
                                    "\"timeout_ms\":50,\"force\":true}"));
    fail_call("domain.info", "{\"domain\":\"web\"}", KEEL_ENODOMAIN,
              "KEEL_ENODOMAIN", "web");
}
END_TEST

START_TEST(cpupool_methods)
{
    char *out;

    kd_open();
    free(ok_call("cpupool.cpu_remove", "{\"pool\":0,\"cpus\":\"node:1\"}"));
    out = ok_call("cpupool.create",
                  "{\"name\":\"fast\",\"sched\":\"credit2\",\"cpus\":\"4-5\"}");
    ck_assert_str_eq(out, "{\"poolid\":1}");
    free(out);
    free(ok_call("cpupool.cpu_add", "{\"pool\":\"fast\",\"cpus\":\"6\"}"));
    out = ok_call("cpupool.list", NULL);
    HAS(out, "{\"poolid\":0,\"name\":\"Pool-0\",\"sched\":\"credit2\","
             "\"n_dom\":1,\"cpus\":\"0-3\"}");
    HAS(out, "{\"poolid\":1,\"name\":\"fast\",\"sched\":\"credit2\","
             "\"n_dom\":0,\"cpus\":\"4-6\"}");
    free(out);
    create_web();
    free(ok_call("cpupool.move_domain", "{\"domain\":\"web\",\"pool\":1}"));
    out = ok_call("domain.info", "{\"domain\":\"web\"}");
    HAS(out, "\"pool\":\"fast\"");
    free(out);
    fail_call("cpupool.destroy", "{\"pool\":\"fast\"}", KEEL_EBUSY,
              "KEEL_EBUSY", "");
    free(ok_call("domain.destroy", "{\"domain\":\"web\"}"));
    free(ok_call("cpupool.rename", "{\"pool\":1,\"name\":\"slow\"}"));
    free(ok_call("cpupool.destroy", "{\"pool\":\"slow\"}"));
    fail_call("cpupool.create", "{\"name\":\"p\",\"sched\":\"fifo\"}",
              KD_EPARAMS, "invalid params", "member 'sched'");
    fail_call("cpupool.cpu_add", "{\"pool\":0}", KD_EPARAMS, "invalid params",
              "missing member 'cpus'");
}
END_TEST

START_TEST(sched_methods)
{
    char *out;

    kd_open();
    create_web();
    /* Pool-0 runs credit2, as Xen has by default since 4.12 */
    out = ok_call("sched.get", "{\"domain\":\"web\"}");
    ck_assert_str_eq(out, "{\"sched\":\"credit2\",\"weight\":256,\"cap\":0}");
    free(out);
    free(ok_call("sched.set", "{\"domain\":\"web\",\"cap\":50}"));
    out = ok_call("sched.get", "{\"domain\":\"web\"}");
    ck_assert_str_eq(out, "{\"sched\":\"credit2\",\"weight\":256,\"cap\":50}");
    free(out);
    free(ok_call("sched.set", "{\"pool\":0,\"ratelimit_us\":1000}"));
    out = ok_call("sched.get", "{\"pool\":\"Pool-0\"}");
    ck_assert_str_eq(out, "{\"sched\":\"credit2\",\"ratelimit_us\":1000}");
    free(out);
    fail_call("sched.set", "{\"pool\":0,\"tslice_ms\":10}", KEEL_EINVAL,
              "KEEL_EINVAL", "time slice");
    /* credit has a time slice */
    free(ok_call("cpupool.cpu_remove", "{\"pool\":0,\"cpus\":\"7\"}"));
    free(ok_call("cpupool.create",
                 "{\"name\":\"c\",\"sched\":\"credit\",\"cpus\":\"7\"}"));
    free(ok_call("sched.set", "{\"pool\":\"c\",\"tslice_ms\":10}"));
    out = ok_call("sched.get", "{\"pool\":\"c\"}");
    HAS(out, "{\"sched\":\"credit\",\"tslice_ms\":10,\"ratelimit_us\":");
    free(out);
    fail_call("sched.set", "{\"domain\":\"web\",\"weight\":0}", KEEL_ERANGE,
              "KEEL_ERANGE", "weight 0");
    fail_call("sched.set", "{\"domain\":\"web\"}", KD_EPARAMS, "invalid params",
              "give member 'weight'");
    fail_call("sched.set", "{\"domain\":\"web\",\"tslice_ms\":5}", KD_EPARAMS,
              "invalid params", "member 'tslice_ms' goes with 'pool'");
    fail_call("sched.set", "{\"pool\":0,\"weight\":5}", KD_EPARAMS,
              "invalid params", "member 'weight' goes with 'domain'");
    fail_call("sched.get", "{\"domain\":\"web\",\"pool\":0}", KD_EPARAMS,
              "invalid params", "not both");
    fail_call("sched.get", "{}", KD_EPARAMS, "invalid params",
              "missing member 'domain'");
}
END_TEST

START_TEST(sched_rtds)
{
    char *out;

    kd_open();
    free(ok_call("cpupool.cpu_remove", "{\"pool\":0,\"cpus\":\"6-7\"}"));
    free(ok_call("cpupool.create",
                 "{\"name\":\"rt\",\"sched\":\"rtds\",\"cpus\":\"6-7\"}"));
    free(ok_call("domain.create",
                 "{\"config_text\":\"name='r'\\nmemory=64\\nvcpus=2\\n"
                 "pool='rt'\\n\"}"));
    free(ok_call("sched.set", "{\"domain\":\"r\",\"vcpus\":[{\"vcpu\":1,"
                              "\"period_us\":20000,\"budget_us\":5000,"
                              "\"extratime\":false}]}"));
    out = ok_call("sched.get", "{\"domain\":\"r\"}");
    HAS(out, "{\"sched\":\"rtds\",\"vcpus\":[{\"vcpu\":0,");
    HAS(out, "{\"vcpu\":1,\"period_us\":20000,\"budget_us\":5000,"
             "\"extratime\":false}");
    free(out);
    out = ok_call("sched.get", "{\"pool\":\"rt\"}");
    ck_assert_str_eq(out, "{\"sched\":\"rtds\"}");
    free(out);
    fail_call("sched.set", "{\"domain\":\"r\",\"vcpus\":[{\"vcpu\":5}]}",
              KEEL_EINVAL, "KEEL_EINVAL", "vCPU 5 does not exist");
    fail_call("sched.set", "{\"domain\":\"r\",\"vcpus\":[{\"period\":5}]}",
              KD_EPARAMS, "invalid params", "unknown member 'period'");
    fail_call("sched.set", "{\"domain\":\"r\",\"vcpus\":[]}", KD_EPARAMS,
              "invalid params", "non-empty array");
}
END_TEST

START_TEST(sim_methods)
{
    char *out;

    kd_open();
    create_web();
    out = ok_call("sim.memory_digest", "{\"domain\":\"web\"}");
    ck_assert_int_eq(strlen(out), strlen("{\"digest\":\"\"}") + 32);
    free(out);
    free(ok_call("sim.guest_set", "{\"domain\":\"web\",\"dirty_rate\":1000,"
                                  "\"busy\":true}"));
    fail_call("sim.guest_set", "{\"domain\":\"web\"}", KD_EPARAMS,
              "invalid params", "at least one member");
    fail_call("sim.guest_set", "{\"domain\":\"web\",\"busy\":1}", KD_EPARAMS,
              "invalid params", "member 'busy' must be true or false");
    fail_call("sim.guest_act", "{\"domain\":\"web\",\"reason\":\"melt\"}",
              KD_EPARAMS, "invalid params", "member 'reason'");
    /* web's on_crash is the default, destroy */
    free(ok_call("sim.guest_act", "{\"domain\":\"web\",\"reason\":\"crash\"}"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("keeld-params");
    TCase *tc = th_tcase(s, "params");

    tcase_add_test(tc, params_types);
    tcase_add_test(tc, params_refused);
    tcase_add_test(tc, params_only);
    tcase_add_test(tc, params_domain_pool);
    tcase_add_test(tc, err_names);
    tcase_add_test(tc, gen_value_round_trip);
    tcase_add_test(tc, gen_numbers_and_cpus);
    tcase_add_test(tc, method_table);
    tcase_add_test(tc, method_names_unique);
    tc = th_tcase(s, "handlers");
    tcase_add_test(tc, version_host_info);
    tcase_add_test(tc, domain_create_info_list);
    tcase_add_test(tc, domain_create_forms);
    tcase_add_test(tc, domain_get_config);
    tcase_add_test(tc, domain_changes);
    tcase_add_test(tc, domain_pin_vcpu_list);
    tcase_add_test(tc, domain_shutdown_wait);
    tcase_add_test(tc, cpupool_methods);
    tcase_add_test(tc, sched_methods);
    tcase_add_test(tc, sched_rtds);
    tcase_add_test(tc, sim_methods);
    return th_run(s);
}
