/* test-keeld-jobs.c: keeld's jobs (daemon/jobs.c) on the sim
 *
 * The handlers are called as rpc.c would, with a struct kd_call built by
 * hand; kd_notify_conn records the notifications a job sends. A save is
 * restored; a migrate_local runs against a stand-in for the other keeld
 * (a thread that answers domain.migrate_incoming and receives the stream
 * into a second sim host), which checks the request line and that the
 * stream starts right after the reply.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <keel/domain.h>

#include "harness.h"
#include "keeld.h"

/* --- stubs for what the loop's files provide --- */

static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;
static int n_progress, n_done;
static char last_done[1024];

void
kd_events_post(struct keeld *kd, const char *type, uint32_t domid,
               const uint8_t uuid[16], const char *name, const char *reason)
{
    (void)kd;
    (void)type;
    (void)domid;
    (void)uuid;
    (void)name;
    (void)reason;
}

void
kd_notify_conn(struct keeld *kd, uint64_t conn_id, const char *method,
               const char *params_json)
{
    (void)kd;
    ck_assert_uint_eq(conn_id, 7);
    pthread_mutex_lock(&notes_lock);
    if (!strcmp(method, "job.progress")) {
        n_progress++;
    } else {
        ck_assert_str_eq(method, "job.done");
        n_done++;
        snprintf(last_done, sizeof(last_done), "%s", params_json);
    }
    pthread_mutex_unlock(&notes_lock);
}

int
kd_conn_detach_loop(struct kd_conn *c, int *fd_r)
{
    (void)c;
    (void)fd_r;
    return -EBADF;
}

void
kd_conn_close_loop(struct kd_conn *c)
{
    (void)c;
}

void
kd_log(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

/* --- the fixture --- */

static struct keeld kd;

static void
kd_open(void)
{
    memset(&kd, 0, sizeof(kd));
    signal(SIGPIPE, SIG_IGN);
    kd.hv = th_sim_open(th_path("simA"), NULL, 0);
    kd.ctx = th_ctx();
    kd.host = th_host_open(kd.hv, th_path("stateA"));
    OK(kd_jobs_init(&kd));
}

static struct kd_call *
call(const char *name, const char *params)
{
    struct kd_call *c = calloc(1, sizeof(*c));
    const struct kd_method *m;

    for (m = kd_methods_jobs; m->name && strcmp(m->name, name); m++)
        ;
    ck_assert_ptr_nonnull(m->name);
    c->kd = &kd;
    c->method = m;
    c->conn_id = 7;
    c->g = kd_gen_new();
    if (params) {
        c->req = yajl_tree_parse(params, NULL, 0);
        ck_assert_ptr_nonnull(c->req);
        c->params = c->req;
    }
    m->fn(c);
    return c;
}

static yajl_val
call_ok(const char *name, const char *params)
{
    struct kd_call *c = call(name, params);
    const unsigned char *buf;
    char text[65536];
    size_t len;

    ck_assert_msg(c->code == 0, "%s: %d %s", name, c->code,
                  c->message ? c->message : "");
    yajl_gen_get_buf(c->g, &buf, &len);
    memcpy(text, buf, len);
    text[len] = '\0';
    kd_call_free(c);
    return yajl_tree_parse(text, NULL, 0);
}

static void
call_fails(const char *name, const char *params, int code)
{
    struct kd_call *c = call(name, params);

    ck_assert_msg(c->code == code, "%s: got %d (%s), wanted %d", name, c->code,
                  c->message ? c->message : "", code);
    kd_call_free(c);
}

static yajl_val
get(yajl_val v, const char *a, const char *b)
{
    const char *path[] = {a, b, NULL};

    return yajl_tree_get(v, path, yajl_t_any);
}

static const char *
str(yajl_val v, const char *a, const char *b)
{
    const char *s = YAJL_GET_STRING(get(v, a, b));

    ck_assert_msg(s != NULL, "no string %s", a);
    return s;
}

static long long
start(const char *name, const char *params)
{
    yajl_val v = call_ok(name, params);
    long long id = YAJL_GET_INTEGER(get(v, "job", NULL));

    yajl_tree_free(v);
    return id;
}

/* Polls job.info until the job ends; returns its info (free it). */
static yajl_val
wait_job(long long id)
{
    char params[64];
    yajl_val v;
    int i;

    snprintf(params, sizeof(params), "{\"job\":%lld}", id);
    for (i = 0; i < 3000; i++) {
        v = call_ok("job.info", params);
        if (strcmp(str(v, "state", NULL), "running"))
            return v;
        yajl_tree_free(v);
        usleep(10000);
    }
    ck_abort_msg("job %lld did not end", id);
    return NULL;
}

static uint32_t
make(const char *name)
{
    struct keel_domain_config cfg;
    uint32_t domid;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.memory_kb = 64 * MIB_KB;
    OK(keel_domain_create(kd.host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    return domid;
}

/* --- tests --- */

START_TEST(save_restore)
{
    char params[512];
    uint32_t domid;
    long long id;
    yajl_val v;

    kd_open();
    make("vm");
    call_fails("domain.save", "{\"domain\":\"vm\",\"file\":\"rel\"}",
               KD_EPARAMS);
    call_fails("domain.save",
               "{\"domain\":\"vm\",\"file\":\"/x\",\"leave\":\"gone\"}",
               KD_EPARAMS);
    snprintf(params, sizeof(params), "{\"domain\":\"vm\",\"file\":\"%s\"}",
             th_path("vm.save"));
    id = start("domain.save", params);
    v = wait_job(id);
    ck_assert_str_eq(str(v, "state", NULL), "done");
    ck_assert_str_eq(str(v, "kind", NULL), "save");
    ck_assert_str_eq(str(v, "domain", NULL), "vm");
    ck_assert(YAJL_IS_NULL(get(v, "error", NULL)));
    yajl_tree_free(v);
    ck_assert_int_eq(keel_domain_lookup(kd.host, "vm", &domid), KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);

    snprintf(params, sizeof(params),
             "{\"file\":\"%s\",\"name\":\"vm2\",\"paused\":true}",
             th_path("vm.save"));
    id = start("domain.restore", params);
    v = wait_job(id);
    ck_assert_str_eq(str(v, "state", NULL), "done");
    ck_assert_str_eq(str(v, "domain", NULL), "vm2");
    OK(keel_domain_lookup(kd.host, "vm2", &domid));
    ck_assert_int_eq(YAJL_GET_INTEGER(get(v, "result", "domid")), domid);
    yajl_tree_free(v);

    pthread_mutex_lock(&notes_lock);
    ck_assert_int_eq(n_done, 2);
    ck_assert_int_gt(n_progress, 0);
    ck_assert_ptr_nonnull(strstr(last_done, "\"state\":\"done\""));
    pthread_mutex_unlock(&notes_lock);

    v = call_ok("job.list", NULL);
    ck_assert_uint_eq(v->u.array.len, 2);
    yajl_tree_free(v);
    call_fails("job.cancel", "{\"job\":1}", KEEL_ESTATE);
    call_fails("job.info", "{\"job\":99}", KEEL_ENOENT);
    kd_jobs_fini(&kd);
}
END_TEST

START_TEST(restore_fails)
{
    char params[512];
    long long id;
    yajl_val v;
    FILE *f;

    kd_open();
    f = fopen(th_path("junk"), "w");
    fputs("not a stream at all", f);
    fclose(f);
    snprintf(params, sizeof(params), "{\"file\":\"%s\"}", th_path("junk"));
    id = start("domain.restore", params);
    v = wait_job(id);
    ck_assert_str_eq(str(v, "state", NULL), "failed");
    ck_assert(YAJL_IS_INTEGER(get(v, "error", "code")));
    ck_assert(YAJL_IS_STRING(get(v, "error", "message")));
    yajl_tree_free(v);
    snprintf(params, sizeof(params), "{\"file\":\"%s\"}", th_path("none"));
    call_fails("domain.restore", params, -ENOENT);
    kd_jobs_fini(&kd);
}
END_TEST

/* The other keeld, as far as the sender can tell. */
struct peer {
    int lfd;
    struct keel_host *host;
    char line[512];
    int rc;
    uint32_t domid;
};

static void *
peer_main(void *opaque)
{
    static const char reply[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"event\","
        "\"params\":{}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n";
    struct peer *p = opaque;
    size_t len = 0;
    int fd = accept(p->lfd, NULL, NULL);

    while (fd >= 0 && len + 1 < sizeof(p->line) &&
           read(fd, p->line + len, 1) == 1 && p->line[len] != '\n')
        len++;
    p->line[len] = '\0';
    if (write(fd, reply, sizeof(reply) - 1) < 0)
        p->rc = -errno;
    else
        p->rc = keel_domain_migrate_receive(p->host, fd, fd, NULL, &p->domid);
    close(fd);
    return NULL;
}

START_TEST(migrate_local)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct keel_hv *hv_b;
    struct peer p = {0};
    struct keel_domain_info info;
    pthread_t t;
    char params[512];
    uint32_t domid;
    long long id;
    yajl_val v;

    kd_open();
    hv_b = th_sim_open(th_path("simB"), NULL, 0);
    p.host = th_host_open(hv_b, th_path("stateB"));
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", th_path("peer.sock"));
    p.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(p.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(p.lfd, 1), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, peer_main, &p), 0);
    make("mig");
    call_fails("domain.migrate_local",
               "{\"domain\":\"mig\",\"socket\":\"/x\",\"downtime_ms\":5}",
               KD_EPARAMS);
    snprintf(params, sizeof(params),
             "{\"domain\":\"mig\",\"socket\":\"%s\",\"policy\":\"keel\","
             "\"downtime_ms\":50}",
             sa.sun_path);
    id = start("domain.migrate_local", params);
    v = wait_job(id);
    ck_assert_msg(!strcmp(str(v, "state", NULL), "done"), "migration: %s",
                  YAJL_IS_STRING(get(v, "error", "message"))
                      ? YAJL_GET_STRING(get(v, "error", "message"))
                      : "?");
    yajl_tree_free(v);
    pthread_join(t, NULL);
    close(p.lfd);
    ck_assert_str_eq(p.line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                             "\"domain.migrate_incoming\",\"params\":"
                             "{\"paused\":false}}");
    OK(p.rc);
    OK(keel_domain_info(p.host, p.domid, &info));
    ck_assert_str_eq(info.name, "mig");
    ck_assert_int_eq(keel_domain_lookup(kd.host, "mig", &domid),
                     KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);
    kd_jobs_fini(&kd);
}
END_TEST

/* A peer that accepts and never answers: job.cancel wakes the job. */
START_TEST(cancel_while_connecting)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char params[512];
    long long id;
    yajl_val v;
    int lfd;

    kd_open();
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", th_path("mute.sock"));
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    make("stay");
    snprintf(params, sizeof(params), "{\"domain\":\"stay\",\"socket\":\"%s\"}",
             sa.sun_path);
    id = start("domain.migrate_local", params);
    usleep(50000);
    snprintf(params, sizeof(params), "{\"job\":%lld}", id);
    v = call_ok("job.cancel", params);
    yajl_tree_free(v);
    v = wait_job(id);
    ck_assert_str_eq(str(v, "state", NULL), "cancelled");
    yajl_tree_free(v);
    close(lfd);
    kd_jobs_fini(&kd);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("keeld-jobs");
    TCase *tc = th_tcase(s, "jobs");

    tcase_add_test(tc, save_restore);
    tcase_add_test(tc, restore_fails);
    tcase_add_test(tc, migrate_local);
    tcase_add_test(tc, cancel_while_connecting);
    return th_run(s);
}
