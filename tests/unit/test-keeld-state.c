/* test-keeld-state.c: keeld's defined domains (daemon/state.c) on the sim
 *
 * The handlers are called as rpc.c would, with a struct kd_call built by
 * hand on a struct keeld that holds only what state.c reads (the ctx,
 * the host, the state dir). kd_events_post, kd_notify_conn and kd_log are
 * stubbed here: the events and the last warning are recorded for the
 * assertions. Each test checks what reaches the disk as well as what the
 * methods answer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/domain.h>

#include "harness.h"
#include "keeld.h"

/* --- stubs for what the loop's files provide --- */

static char last_event[64], last_reason[64], last_warning[1024];
static int n_events;

void
kd_events_post(struct keeld *kd, const char *type, uint32_t domid,
               const uint8_t uuid[16], const char *name, const char *reason)
{
    (void)kd;
    (void)domid;
    (void)uuid;
    (void)name;
    snprintf(last_event, sizeof(last_event), "%s", type);
    snprintf(last_reason, sizeof(last_reason), "%s", reason ? reason : "");
    n_events++;
}

void
kd_notify_conn(struct keeld *kd, uint64_t conn_id, const char *method,
               const char *params_json)
{
    (void)kd;
    (void)conn_id;
    (void)method;
    (void)params_json;
}

void
kd_log(int level, const char *fmt, ...)
{
    va_list ap;

    if (level != KEEL_LOG_WARN)
        return;
    va_start(ap, fmt);
    vsnprintf(last_warning, sizeof(last_warning), fmt, ap);
    va_end(ap);
}

/* --- the fixture --- */

static struct keeld kd;
static struct keel_hv *hv;

static void
kd_open(void)
{
    memset(&kd, 0, sizeof(kd));
    hv = th_sim_open(NULL, NULL, 0);
    kd.ctx = th_ctx();
    kd.hv = hv;
    kd.host = th_host_open(hv, NULL);
    kd.sim = true;
    kd.opts.state_dir = th_path("keeld");
    ck_assert_int_eq(mkdir(kd.opts.state_dir, 0750), 0);
    OK(kd_state_init(&kd));
}

static const struct kd_method *
method(const char *name)
{
    const struct kd_method *m;

    for (m = kd_methods_state; m->name; m++)
        if (!strcmp(m->name, name))
            return m;
    ck_abort_msg("no method %s", name);
    return NULL;
}

/* Calls name with params (JSON text) and returns the call (free with
 * kd_call_free): ->code is 0 or the error. */
static struct kd_call *
call(const char *name, const char *params)
{
    struct kd_call *c = calloc(1, sizeof(*c));
    char err[256];

    ck_assert_ptr_nonnull(c);
    c->kd = &kd;
    c->method = method(name);
    c->conn_id = 1;
    c->g = kd_gen_new();
    if (params) {
        c->req = yajl_tree_parse(params, err, sizeof(err));
        ck_assert_msg(c->req != NULL, "%s: %s", params, err);
        c->params = c->req;
    }
    c->method->fn(c);
    return c;
}

/* Calls and expects success; returns the result parsed (yajl_tree_free
 * it). */
static yajl_val
call_ok(const char *name, const char *params)
{
    struct kd_call *c = call(name, params);
    const unsigned char *buf;
    char text[65536];
    size_t len;
    yajl_val v;

    ck_assert_msg(c->code == 0, "%s %s: %d %s", name, params ? params : "",
                  c->code, c->message ? c->message : "");
    yajl_gen_get_buf(c->g, &buf, &len);
    ck_assert_uint_lt(len, sizeof(text));
    memcpy(text, buf, len);
    text[len] = '\0';
    kd_call_free(c);
    v = yajl_tree_parse(text, NULL, 0);
    ck_assert_msg(v != NULL, "%s: not JSON: %s", name, text);
    return v;
}

/* Calls and expects code, with needle in the message. */
static void
call_fails(const char *name, const char *params, int code, const char *needle)
{
    struct kd_call *c = call(name, params);

    ck_assert_msg(c->code == code, "%s %s: got %d (%s), wanted %d", name,
                  params, c->code, c->message ? c->message : "", code);
    if (needle)
        ck_assert_msg(c->message && strstr(c->message, needle),
                      "%s: message '%s' lacks '%s'", name,
                      c->message ? c->message : "", needle);
    kd_call_free(c);
}

static const char *
get_str(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);

    ck_assert_msg(s != NULL, "no string '%s'", key);
    return YAJL_GET_STRING(s);
}

static yajl_val
get(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(v, path, yajl_t_any);
}

/* Defines name (xl text, 64 MiB) and returns its uuid text in u. */
static void
define(const char *name, char u[37])
{
    char params[256];
    yajl_val v;

    snprintf(params, sizeof(params),
             "{\"config_text\":\"name='%s'\\nmemory=64\\n\"}", name);
    v = call_ok("domain.define", params);
    ck_assert_str_eq(get_str(v, "name"), name);
    snprintf(u, 37, "%s", get_str(v, "uuid"));
    yajl_tree_free(v);
}

static char *
defined_path(const char *u)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/defined/%s.json", kd.opts.state_dir, u);
    return path;
}

static bool
exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

static size_t
dir_entries(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The first 29 bytes of path. */
static const char *
read_head(const char *path)
{
    static char buf[30];
    FILE *f = fopen(path, "r");

    ck_assert_ptr_nonnull(f);
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(fread(buf, 1, 29, f), 29);
    fclose(f);
    return buf;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* --- tests --- */

START_TEST(write_atomic)
{
    const char *path = th_path("f.json");
    char buf[64] = "";
    FILE *f;

    ck_assert_int_eq(kd_write_atomic(path, "one\n", 4), 0);
    ck_assert_int_eq(kd_write_atomic(path, "two!\n", 5), 0);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    fclose(f);
    ck_assert_str_eq(buf, "two!\n");
    ck_assert_uint_eq(dir_entries(th_tmpdir()), 1); /* no temporary left */
    ck_assert_int_eq(kd_write_atomic(th_path("no/such/dir"), "x", 1), -ENOENT);
    ck_assert_uint_eq(dir_entries(th_tmpdir()), 1);
}
END_TEST

START_TEST(define_undefine)
{
    char u[37], params[512];
    yajl_val v, row;

    kd_open();
    define("web", u);
    ck_assert_str_eq(last_event, "defined");
    ck_assert_str_eq(last_reason, "added");
    ck_assert(exists(defined_path(u)));
    ck_assert_str_eq(read_head(defined_path(u)),
                     "{\"autostart\":false,\"config\":{");

    v = call_ok("domain.list_defined", NULL);
    ck_assert(YAJL_IS_ARRAY(v));
    ck_assert_uint_eq(v->u.array.len, 1);
    row = v->u.array.values[0];
    ck_assert_str_eq(get_str(row, "name"), "web");
    ck_assert_str_eq(get_str(row, "uuid"), u);
    ck_assert(YAJL_IS_FALSE(get(row, "autostart")));
    ck_assert(YAJL_IS_FALSE(get(row, "active")));
    ck_assert(YAJL_IS_NULL(get(row, "domid")));
    yajl_tree_free(v);

    /* the same name with another uuid; the same uuid with another name */
    call_fails("domain.define",
               "{\"config_text\":\"name='web'\\n"
               "uuid='5e0e0e0e-0000-4000-8000-000000000001'\\n\"}",
               KEEL_EEXIST, "already defined");
    snprintf(params, sizeof(params),
             "{\"config_text\":\"name='other'\\nuuid='%s'\\n\"}", u);
    call_fails("domain.define", params, KEEL_EEXIST, "already defined as");

    /* the same uuid again replaces the config */
    snprintf(params, sizeof(params),
             "{\"config_text\":\"name='web'\\nuuid='%s'\\nmemory=128\\n\"}", u);
    v = call_ok("domain.define", params);
    yajl_tree_free(v);
    ck_assert_str_eq(last_reason, "updated");
    ck_assert_uint_eq(dir_entries(th_path("keeld/defined")), 1);

    call_fails("domain.undefine", "{\"domain\":\"nope\"}", KEEL_ENODOMAIN,
               "nope");
    snprintf(params, sizeof(params), "{\"domain\":\"%s\"}", u);
    v = call_ok("domain.undefine", params); /* by uuid */
    yajl_tree_free(v);
    ck_assert_str_eq(last_event, "undefined");
    ck_assert(!exists(defined_path(u)));
    v = call_ok("domain.list_defined", NULL);
    ck_assert_uint_eq(v->u.array.len, 0);
    yajl_tree_free(v);
    kd_state_fini(&kd);
}
END_TEST

/* "config" as libxl's JSON object, and the refusals of bad params. */
START_TEST(define_json_object)
{
    struct keel_domain_config cfg;
    char *json = NULL, params[8192];
    yajl_val v;

    kd_open();
    keel_domain_config_init(&cfg);
    cfg.name = strdup("db");
    cfg.memory_kb = 64 * MIB_KB;
    OK(keel_domain_config_write(th_ctx(), KEEL_CONFIG_JSON, &cfg, 0, &json));
    snprintf(params, sizeof(params), "{\"config\":%s}", json);
    v = call_ok("domain.define", params);
    ck_assert_str_eq(get_str(v, "name"), "db");
    yajl_tree_free(v);
    free(json);
    keel_domain_config_dispose(&cfg);

    call_fails("domain.define", "{}", KD_EPARAMS, NULL);
    call_fails("domain.define", "{\"config_text\":\"memory=64\\n\"}",
               KEEL_EINVAL, NULL); /* no name */
    call_fails("domain.define", "{\"config_text\":\"name='x'\",\"bogus\":1}",
               KD_EPARAMS, "bogus");
    kd_state_fini(&kd);
}
END_TEST

START_TEST(start_and_undefine_running)
{
    struct keel_domain_info info;
    char u[37], params[128];
    uint8_t uuid[16];
    uint32_t domid;
    yajl_val v, row;
    bool autostart = true;

    kd_open();
    define("app", u);
    v = call_ok("domain.start", "{\"domain\":\"app\",\"paused\":true}");
    domid = (uint32_t)YAJL_GET_INTEGER(get(v, "domid"));
    yajl_tree_free(v);
    OK(keel_domain_info(kd.host, domid, &info));
    ck_assert_str_eq(info.name, "app");
    ck_assert_int_eq(info.state, KEEL_DOMAIN_PAUSED);
    call_fails("domain.start", "{\"domain\":\"app\"}", KEEL_ESTATE,
               "already running");

    v = call_ok("domain.list_defined", NULL);
    row = v->u.array.values[0];
    ck_assert(YAJL_IS_TRUE(get(row, "active")));
    ck_assert_int_eq(YAJL_GET_INTEGER(get(row, "domid")), domid);
    yajl_tree_free(v);

    ck_assert_int_eq(keel_uuid_parse(u, uuid), 0);
    ck_assert(kd_state_is_defined(&kd, uuid, &autostart));
    ck_assert(!autostart);
    snprintf(params, sizeof(params), "{\"domain\":\"app\"}");
    v = call_ok("domain.undefine", params);
    yajl_tree_free(v);
    ck_assert(!kd_state_is_defined(&kd, uuid, NULL));
    OK(keel_domain_info(kd.host, domid, &info)); /* still there */
    call_fails("domain.start", "{\"domain\":\"app\"}", KEEL_ENODOMAIN, NULL);
    kd_state_fini(&kd);
}
END_TEST

/* Defining a running domain's name without a uuid takes its uuid: what
 * was created becomes persistent. */
START_TEST(define_running_transient)
{
    struct keel_domain_config cfg;
    struct keel_domain_info info;
    uint32_t domid;
    char u[37];

    kd_open();
    keel_domain_config_init(&cfg);
    cfg.name = strdup("tmp");
    cfg.memory_kb = 64 * MIB_KB;
    OK(keel_domain_create(kd.host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    define("tmp", u);
    OK(keel_domain_info(kd.host, domid, &info));
    ck_assert(kd_state_is_defined(&kd, info.uuid, NULL));
    kd_state_fini(&kd);
}
END_TEST

START_TEST(autostart_at_init)
{
    struct keel_domain_info info;
    char u[37], u2[37];
    uint32_t domid;
    yajl_val v;

    kd_open();
    define("auto", u);
    define("manual", u2);
    call_fails("domain.set_autostart", "{\"domain\":\"auto\"}", KD_EPARAMS,
               "autostart");
    v = call_ok("domain.set_autostart",
                "{\"domain\":\"auto\",\"autostart\":true}");
    yajl_tree_free(v);
    kd_state_fini(&kd);

    /* a damaged file is logged with its path, skipped and left alone */
    write_file(defined_path("5e0e0e0e-0000-4000-8000-000000000002"),
               "{\"autostart\":tr");
    OK(kd_state_init(&kd));
    ck_assert_msg(strstr(last_warning, "5e0e0e0e-0000-4000-8000-000000000002"),
                  "warning: %s", last_warning);
    ck_assert(exists(defined_path("5e0e0e0e-0000-4000-8000-000000000002")));
    OK(keel_domain_lookup(kd.host, "auto", &domid));
    OK(keel_domain_info(kd.host, domid, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert_int_eq(keel_domain_lookup(kd.host, "manual", &domid),
                     KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);
    v = call_ok("domain.list_defined", NULL);
    ck_assert_uint_eq(v->u.array.len, 2);
    yajl_tree_free(v);
    kd_state_fini(&kd);

    /* running already: not started twice */
    OK(kd_state_init(&kd));
    kd_state_fini(&kd);
}
END_TEST

START_TEST(unmanaged)
{
    struct keel_domain_config cfg;
    uint32_t mine, foreign;
    yajl_val v;

    kd_open();
    keel_domain_config_init(&cfg);
    cfg.name = strdup("mine");
    cfg.memory_kb = 64 * MIB_KB;
    OK(keel_domain_create(kd.host, &cfg, 0, &mine));
    keel_domain_config_dispose(&cfg);
    foreign = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 64 * MIB_KB);
    v = call_ok("domain.unmanaged", NULL);
    ck_assert(YAJL_IS_ARRAY(v));
    ck_assert_uint_eq(v->u.array.len, 1);
    ck_assert_int_eq(YAJL_GET_INTEGER(get(v->u.array.values[0], "domid")),
                     foreign);
    ck_assert_int_ne(foreign, mine);
    ck_assert(YAJL_IS_FALSE(get(v->u.array.values[0], "adopted")));
    yajl_tree_free(v);

    /* reopened, libkeel adopts it (it has a record now): still listed */
    th_host_close(kd.host);
    kd.host = th_host_open(hv, NULL);
    v = call_ok("domain.unmanaged", NULL);
    ck_assert_uint_eq(v->u.array.len, 1);
    ck_assert_int_eq(YAJL_GET_INTEGER(get(v->u.array.values[0], "domid")),
                     foreign);
    ck_assert(YAJL_IS_TRUE(get(v->u.array.values[0], "adopted")));
    yajl_tree_free(v);
    kd_state_fini(&kd);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("keeld-state");
    TCase *tc = th_tcase(s, "state");

    tcase_add_test(tc, write_atomic);
    tcase_add_test(tc, define_undefine);
    tcase_add_test(tc, define_json_object);
    tcase_add_test(tc, start_and_undefine_running);
    tcase_add_test(tc, define_running_transient);
    tcase_add_test(tc, autostart_at_init);
    tcase_add_test(tc, unmanaged);
    return th_run(s);
}
