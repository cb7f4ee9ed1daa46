/* test-keeld-jobs.c: keeld's jobs (daemon/jobs.c) on the sim
 *
 * The handlers are called as rpc.c would, with a struct kd_call built by
 * hand; kd_notify_conn records the notifications a job sends. A save is
 * restored; a migrate_local runs against a stand-in for the other keeld
 * (a thread that answers domain.migrate_incoming and receives the stream
 * into a second sim host), which checks the request line and that the
 * stream starts right after the reply.
 *
 * The journal: a keeld killed mid-job is a child process running a job
 * (a save into a FIFO nobody reads, a restore from a FIFO fed half a
 * stream) that the test SIGKILLs once the job's journal says how far it
 * got; a fresh keeld over the same directories (kd_jobs_init) must then
 * put things back. Journals written by hand cover the other rules.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
static char state_dir[4096];

/* A keeld on the test's directories (the sim, libkeel's records and
 * STATE_DIR, so a second one finds what the first left); kd_jobs_init
 * recovers what journals there are. */
static void
kd_open(void)
{
    memset(&kd, 0, sizeof(kd));
    signal(SIGPIPE, SIG_IGN);
    snprintf(state_dir, sizeof(state_dir), "%s", th_path("keeld"));
    ck_assert(mkdir(state_dir, 0700) == 0 || errno == EEXIST);
    kd.opts.state_dir = state_dir;
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

/* --- the journal --- */

static const char *
journal(uint64_t id)
{
    static char path[4200];

    snprintf(path, sizeof(path), "%s/jobs/%" PRIu64 ".json", state_dir, id);
    return path;
}

static bool
exists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Runs fn in a child process, a keeld of its own on the test's
 * directories; the child then waits to be killed. */
static pid_t
child(void (*fn)(void))
{
    pid_t pid;

    snprintf(state_dir, sizeof(state_dir), "%s", th_path("keeld"));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        fn();
        for (;;)
            pause();
    }
    return pid;
}

/* Waits until job 1's journal holds want, then SIGKILLs the child. */
static void
kill_when(pid_t pid, const char *want)
{
    char *text = NULL;
    bool hit = false;
    size_t len;
    int i, status;

    for (i = 0; i < 1000 && !hit; i++) {
        if (kd_read_file(journal(1), 65536, &text, &len) == 0) {
            hit = strstr(text, want) != NULL;
            free(text);
        }
        if (!hit)
            usleep(10000);
    }
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(hit, "job 1's journal never said %s", want);
}

static void
child_save(void)
{
    char params[512];

    kd_open();
    make("vm");
    snprintf(params, sizeof(params), "{\"domain\":\"vm\",\"file\":\"%s\"}",
             th_path("vm.fifo"));
    start("domain.save", params);
}

/* The save pauses the domain for its copy and blocks on a full pipe;
 * keeld dies. The next keeld unpauses the domain and removes the file. */
START_TEST(killed_mid_save)
{
    struct keel_domain_info info;
    uint32_t domid;
    pid_t pid;
    int rfd;

    ck_assert_int_eq(mkfifo(th_path("vm.fifo"), 0600), 0);
    rfd = open(th_path("vm.fifo"), O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rfd, 0);
    pid = child(child_save);
    kill_when(pid, "\"phase\":\"stopcopy\"");
    close(rfd);

    kd_open();
    OK(keel_domain_lookup(kd.host, "vm", &domid));
    OK(keel_domain_info(kd.host, domid, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert(!exists(th_path("vm.fifo")));
    ck_assert(!exists(journal(1)));
    kd_jobs_fini(&kd);
}
END_TEST

static void
child_restore(void)
{
    char params[512];

    kd_open();
    snprintf(params, sizeof(params), "{\"file\":\"%s\"}", th_path("in.fifo"));
    start("domain.restore", params);
}

/* A restore has built its domain and is reading the stream; keeld dies.
 * The next keeld destroys the half-built domain. */
START_TEST(killed_mid_restore)
{
    char *stream = NULL;
    size_t len = 0, n = 0;
    uint32_t domid;
    ssize_t r;
    pid_t pid;
    int fd;

    kd_open();
    domid = make("vm");
    fd = open(th_path("vm.save"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    OK(keel_domain_save(kd.host, domid, fd, NULL));
    close(fd);
    kd_jobs_fini(&kd);
    th_host_close(kd.host);
    th_sim_close(kd.hv);
    ck_assert_int_eq(kd_read_file(th_path("vm.save"), 1u << 30, &stream, &len),
                     0);
    ck_assert_int_eq(mkfifo(th_path("in.fifo"), 0600), 0);
    fd = open(th_path("in.fifo"), O_RDWR); /* does not wait for a reader */
    ck_assert_int_ge(fd, 0);
    pid = child(child_restore);
    while (n < len / 2 && (r = write(fd, stream + n, len / 2 - n)) > 0)
        n += (size_t)r;
    kill_when(pid, "\"uuid\":\"");
    close(fd);
    free(stream);

    kd_open();
    ck_assert_int_eq(keel_domain_lookup(kd.host, "vm", &domid), KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);
    ck_assert(!exists(journal(1)));
    kd_jobs_fini(&kd);
}
END_TEST

static void
put_journal(uint64_t id, const char *kind, const char *name, uint32_t domid,
            const char *extra)
{
    struct keel_domain_info info;
    char text[2048], u[37];

    memset(&info, 0, sizeof(info));
    if (keel_domain_info(kd.host, domid, &info))
        keel_uuid_generate(info.uuid); /* a domain that is gone */
    keel_ctx_clear_error(kd.ctx);
    keel_uuid_format(info.uuid, u);
    snprintf(text, sizeof(text),
             "{\"version\":1,\"job\":%" PRIu64 ",\"kind\":\"%s\","
             "\"domain\":\"%s\",\"uuid\":\"%s\",\"domid\":%u,"
             "\"was_paused\":false,%s}",
             id, kind, name, u, domid, extra);
    put_file(journal(id), text);
}

/* Journals by hand: a save cut short with its source paused and
 * log-dirty on; a synced save whose domain is gone (finished: its file
 * stays); a migration whose stream was complete (left paused: it may run
 * elsewhere); a damaged journal (left as it is). */
START_TEST(recover_journals)
{
    struct keel_domain_info info;
    struct keel_hv_dominfo hi;
    uint32_t src, mig;
    char extra[1024];
    yajl_val v;

    kd_open();
    kd_jobs_fini(&kd);
    src = make("src");
    mig = make("mig");
    OK(keel_hv_domain_pause(kd.hv, src));
    OK(keel_hv_logdirty_enable(kd.hv, src));
    OK(keel_domain_pause(kd.host, mig));
    put_file(th_path("src.save"), "the first bytes of a stream");
    put_file(th_path("done.save"), "a whole stream");
    snprintf(extra, sizeof(extra),
             "\"leave\":\"destroyed\",\"file\":\"%s\",\"phase\":\"stopcopy\"",
             th_path("src.save"));
    put_journal(4, "save", "src", src, extra);
    snprintf(extra, sizeof(extra),
             "\"leave\":\"destroyed\",\"file\":\"%s\",\"phase\":\"synced\"",
             th_path("done.save"));
    put_journal(7, "save", "old", 4000, extra);
    put_journal(8, "migrate_local", "mig", mig,
                "\"file\":null,"
                "\"phase\":\"done\"");
    put_file(journal(12), "{\"version\":1,\"job\":12,\"kind\":\"sa");

    th_host_close(kd.host); /* keeld restarts */
    kd.host = th_host_open(kd.hv, th_path("stateA"));
    OK(kd_jobs_init(&kd));

    OK(keel_domain_info(kd.host, src, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    OK(keel_hv_domain_info(kd.hv, src, &hi));
    ck_assert(!(hi.flags & KEEL_DOMF_LOGDIRTY));
    ck_assert(!exists(th_path("src.save")));
    ck_assert(!exists(journal(4)));
    ck_assert(exists(th_path("done.save")));
    ck_assert(!exists(journal(7)));
    OK(keel_domain_info(kd.host, mig, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_PAUSED);
    ck_assert(!exists(journal(8)));
    ck_assert(exists(journal(12)));
    /* new jobs are numbered past the journal left in place */
    ck_assert_int_eq(start("domain.restore", "{\"file\":\"/dev/null\"}"), 13);
    v = wait_job(13);
    yajl_tree_free(v);
    ck_assert(exists(journal(12)));
    ck_assert(!exists(journal(13)));
    kd_jobs_fini(&kd);
}
END_TEST

/* A Xen guest suspends itself for a save's last copy: keeld killed then
 * leaves it shut down with reason suspend. The next keeld resumes it:
 * a save cut short (file removed), a synced save asked to leave it
 * running (file kept). Failed before: both stayed suspended. */
START_TEST(recover_suspended_source)
{
    struct keel_domain_info info;
    uint32_t cut, kept;
    char extra[1024];

    kd_open();
    kd_jobs_fini(&kd);
    cut = make("cut");
    kept = make("kept");
    OK(keel_hv_domain_shutdown(kd.hv, cut, KEEL_SHUTDOWN_SUSPEND));
    OK(keel_hv_domain_shutdown(kd.hv, kept, KEEL_SHUTDOWN_SUSPEND));
    put_file(th_path("cut.save"), "the first bytes of a stream");
    put_file(th_path("kept.save"), "a whole stream");
    snprintf(extra, sizeof(extra),
             "\"leave\":\"destroyed\",\"file\":\"%s\",\"phase\":\"stopcopy\"",
             th_path("cut.save"));
    put_journal(1, "save", "cut", cut, extra);
    snprintf(extra, sizeof(extra),
             "\"leave\":\"running\",\"file\":\"%s\",\"phase\":\"synced\"",
             th_path("kept.save"));
    put_journal(2, "save", "kept", kept, extra);

    th_host_close(kd.host); /* keeld restarts */
    kd.host = th_host_open(kd.hv, th_path("stateA"));
    OK(keel_domain_info(kd.host, cut, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_SHUTDOWN); /* as it was left */
    OK(kd_jobs_init(&kd));

    OK(keel_domain_info(kd.host, cut, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert(!exists(th_path("cut.save")));
    OK(keel_domain_info(kd.host, kept, &info));
    ck_assert_int_eq(info.state, KEEL_DOMAIN_RUNNING);
    ck_assert(exists(th_path("kept.save")));
    ck_assert(!exists(journal(1)) && !exists(journal(2)));
    kd_jobs_fini(&kd);
}
END_TEST

/* The journal of a same-host migration of name (uuid u, domid) that
 * got as far as phase. */
static void
put_local_journal(uint64_t id, const char *name, const char *u, uint32_t domid,
                  const char *phase)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "{\"version\":1,\"job\":%" PRIu64 ",\"kind\":\"migrate_local\","
             "\"domain\":\"%s\",\"uuid\":\"%s\",\"domid\":%u,"
             "\"was_paused\":false,\"file\":null,\"socket\":null,"
             "\"phase\":\"%s\"}",
             id, name, u, domid, phase);
    put_file(journal(id), text);
}

static void
uuid_of(uint32_t domid, char u[37])
{
    struct keel_domain_info info;

    OK(keel_domain_info(kd.host, domid, &info));
    keel_uuid_format(info.uuid, u);
}

/* Whether name is domain domid, uuid u, in state st. */
static void
assert_domain(const char *name, uint32_t domid, const char *u,
              enum keel_domain_state st)
{
    struct keel_domain_info info;
    uint32_t id;
    char got[37];

    OK(keel_domain_lookup(kd.host, name, &id));
    ck_assert_uint_eq(id, domid);
    OK(keel_domain_info(kd.host, id, &info));
    keel_uuid_format(info.uuid, got);
    ck_assert_str_eq(got, u);
    ck_assert_int_eq(info.state, st);
}

static void
assert_gone(const char *name)
{
    uint32_t id;

    ck_assert_int_eq(keel_domain_lookup(kd.host, name, &id), KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);
}

/* A keeld killed in a migration within its host leaves the source and
 * its copy NAME--incoming (temporary uuid) side by side, or the copy
 * alone. The next keeld keeps whichever the handover had reached:
 *  a: the copy never ran: it goes, the source runs again;
 *  b: the copy runs (it had been told go): the paused source goes, the
 *     copy takes the name and uuid;
 *  c: the source is gone (destroyed after the handover): the copy takes
 *     over and, still paused, is unpaused;
 *  d: no copy, the stream complete: the source is the only one, so it
 *     runs again (a migration to another host would leave it paused). */
START_TEST(recover_local_migration)
{
    struct keel_hv_dominfo hi;
    uint32_t a, a2, b, b2, c2, d;
    char ua[37], ub[37], uc[37], ud[37];
    uint8_t gone[16];

    kd_open();
    kd_jobs_fini(&kd);
    a = make("a");
    a2 = make("a--incoming");
    b = make("b");
    b2 = make("b--incoming");
    c2 = make("c--incoming");
    d = make("d");
    OK(keel_domain_pause(kd.host, a));
    OK(keel_hv_logdirty_enable(kd.hv, a));
    OK(keel_domain_pause(kd.host, a2));
    OK(keel_domain_pause(kd.host, b));
    OK(keel_domain_pause(kd.host, c2));
    OK(keel_domain_pause(kd.host, d));
    uuid_of(a, ua);
    uuid_of(b, ub);
    uuid_of(d, ud);
    OK(keel_uuid_generate(gone));
    keel_uuid_format(gone, uc);
    put_local_journal(1, "a", ua, a, "stopcopy");
    put_local_journal(2, "b", ub, b, "done");
    put_local_journal(3, "c", uc, 4000, "done");
    put_local_journal(4, "d", ud, d, "done");

    th_host_close(kd.host); /* keeld restarts */
    kd.host = th_host_open(kd.hv, th_path("stateA"));
    OK(kd_jobs_init(&kd));

    assert_domain("a", a, ua, KEEL_DOMAIN_RUNNING);
    OK(keel_hv_domain_info(kd.hv, a, &hi));
    ck_assert(!(hi.flags & KEEL_DOMF_LOGDIRTY));
    assert_gone("a--incoming");
    assert_domain("b", b2, ub, KEEL_DOMAIN_RUNNING);
    assert_gone("b--incoming");
    ck_assert_int_eq(
        keel_domain_info(kd.host, b, &(struct keel_domain_info){0}),
        KEEL_ENODOMAIN);
    keel_ctx_clear_error(kd.ctx);
    assert_domain("c", c2, uc, KEEL_DOMAIN_RUNNING);
    assert_gone("c--incoming");
    assert_domain("d", d, ud, KEEL_DOMAIN_RUNNING);
    for (uint64_t i = 1; i <= 4; i++)
        ck_assert(!exists(journal(i)));
    kd_jobs_fini(&kd);

    /* It sticks: a keeld started again finds the domains as they are. */
    th_host_close(kd.host);
    kd.host = th_host_open(kd.hv, th_path("stateA"));
    OK(kd_jobs_init(&kd));
    assert_domain("b", b2, ub, KEEL_DOMAIN_RUNNING);
    assert_domain("c", c2, uc, KEEL_DOMAIN_RUNNING);
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
    tcase_add_test(tc, killed_mid_save);
    tcase_add_test(tc, killed_mid_restore);
    tcase_add_test(tc, recover_journals);
    tcase_add_test(tc, recover_local_migration);
    tcase_add_test(tc, recover_suspended_source);
    return th_run(s);
}
