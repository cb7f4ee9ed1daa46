/* jobs.c: save, restore and migrations as jobs with progress
 *
 * A job is one long libkeel call (keel_domain_save, _restore,
 * _migrate_send, _migrate_receive) on a thread of its own, so libuv's
 * pool stays free for short calls and a migration that takes minutes
 * holds no worker. The method that starts a job checks its params, opens
 * what can fail at once (the file), answers {"job":id} and is done; the
 * job reports job.progress and job.done to the connection that started
 * it while that is open (kd_notify_conn drops them once it is gone: a
 * client that disconnects does not cancel its jobs), and anyone reads it
 * with job.info. job.cancel sets a flag the progress callback returns,
 * so libkeel undoes what it did (migrate.h).
 *
 * Job threads are detached (a joinable thread keeps its stack until it is
 * joined, and finished jobs are kept) and block every signal (they go to
 * the loop; a write to a closed socket is EPIPE). kd_jobs_fini() cancels
 * what runs, waits, and after FINI_GRACE_S cuts the jobs' sockets, so a
 * peer that hangs cannot keep keeld from exiting.
 *
 * domain.migrate_local, keeld to keeld on one machine: the job connects
 * to the other keeld's keeld.sock and sends one request line,
 * domain.migrate_incoming. The other side answers {} and then hands the
 * connection's descriptor from its loop to a job of its own
 * (kd_conn_detach_loop, in the call's after hook, once the reply is
 * queued); from then on the socket carries the migration stream and its
 * handshake. The sender reads the reply a byte at a time up to its
 * newline, so it never swallows a byte of what follows.
 * Checklist when changing this exchange: jobs_migrate_incoming() and
 * peer_open() here, docs/keeld-api.md, the integration tests.
 *
 * The journal. A keeld killed mid-job (SIGKILL, a crash, the machine
 * losing power) leaves a source paused, log-dirty on, a save file half
 * written or a domain half built, and the job's thread is gone. So each
 * job keeps STATE_DIR/jobs/<id>.json, written atomically (kd_write_atomic)
 * by its own thread before it starts and at each step that changes what
 * undoing means, and removed when it ends:
 *
 *   {"version":1,"job":3,"kind":"save","domain":"vm",
 *    "uuid":"...","domid":5,"was_paused":false,"leave":"destroyed",
 *    "file":"/srv/vm.save","phase":"stopcopy"}
 *
 * kind is the job's; uuid and domid are the source's, or for a restore
 * or an incoming migration the new domain's (null until libkeel reports
 * it has built one); leave (save) and paused (restore, incoming) are the
 * request's; socket (migrate_local) is the other keeld's, or null for a
 * copy on this host; phase is "started", "stopcopy" (the source was paused for
 * the last copy), "done" (the stream is complete: a migration's handover
 * may have begun, a restored domain is whole) or "synced" (a save's file
 * is complete and fsynced, and only then is the source destroyed).
 * kd_jobs_init() reads what a killed keeld left, before any job runs:
 * a source that still exists gets log-dirty off and, unless it was paused
 * before the job, is unpaused, and a save file that is not complete is
 * removed; a synced save is finished as asked; a half-built domain is
 * destroyed, a whole restored one finished. A migration within this host
 * leaves its copy beside the source: libkeel's
 * keel_domain_migrate_local_recover keeps whichever of the two the
 * handover had reached. What cannot be known is not
 * guessed: a migration's source or destination whose stream was complete
 * may be the copy that runs elsewhere, so it is left paused with a
 * warning (libkeel's rule: never two copies running), and a journal
 * keeld cannot read is logged and left in place. A journal whose undoing
 * failed stays, to be tried at the next start.
 * Checklist when changing the journal: journal_text() and jrec_decode()
 * here, the recovery rules (recover_source(), recover_built()), the
 * journal tests in tests/unit/test-keeld-jobs.c, docs/architecture.md,
 * and what an older keeld does with a newer journal ("version": it
 * leaves it in place).
 *
 * Locking: jobs->lock guards the list and every job field marked below;
 * it is held only for memory operations, never across a libkeel call or
 * a notification.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "jobs-internal.h"
#include "keeld.h"

#define JOBS_KEEP 1000        /* finished jobs kept; the oldest go first */
#define REPLY_MAX (64 * 1024) /* longest reply line from the other keeld */
#define FINI_GRACE_S 10       /* kd_jobs_fini: wait before cutting sockets */

enum job_state {
    JOB_RUNNING = 0,
    JOB_DONE = 1,
    JOB_FAILED = 2,
    JOB_CANCELLED = 3,
};

static const char *const job_state_names[] = {"running", "done", "failed",
                                              "cancelled"};

struct kd_job;
typedef int job_run_fn(struct kd_job *job);

struct kd_job {
    struct keeld *kd;
    uint64_t id;
    const char *kind; /* "save", "restore", "migrate_local", ... */
    job_run_fn *run;
    uint64_t conn_id; /* who started it; 0: no one to tell */
    /* set before the thread starts, then the thread's own */
    uint32_t domid;
    char *path;         /* save, restore: the file; migrate: the socket */
    bool unlink_failed; /* save: remove path if the job fails */
    unsigned int flags; /* KEEL_SAVE_LEAVE_* or KEEL_RESTORE_PAUSED */
    char *name;         /* restore: the new domain's name, or NULL */
    struct keel_migrate_policy policy;
    char *why; /* the thread's own error message, or NULL */
    /* the journal (the thread's own) */
    char *journal; /* its path, once the thread has begun; NULL before */
    enum journal_phase jphase;
    bool jdom; /* jdomid and juuid name the job's domain */
    uint32_t jdomid;
    uint8_t juuid[16];
    bool was_paused; /* save, migrate_local: the source, at the start */
    /* under jobs->lock */
    int fd; /* -1 once closed */
    char domain[KEEL_NAME_MAX + 1];
    enum job_state state;
    const char *phase;
    bool cancel;
    bool started; /* libkeel reported progress: the fd is its own */
    struct keel_migrate_progress prog;
    int code;
    char *error;
    int64_t result_domid; /* -1: none */
    struct kd_job *prev, *next;
};

struct kd_jobs {
    pthread_mutex_t lock;
    pthread_cond_t idle;        /* n_running fell to 0 */
    struct kd_job *head, *tail; /* oldest first */
    uint64_t next_id;
    unsigned n_running, n_finished;
    bool stopping; /* kd_jobs_fini: no more notifications or jobs */
    char *dir;     /* STATE_DIR/jobs: the journals */
};

/* --- jobs --- */

static struct kd_job *
job_new(struct kd_call *c, const char *kind, job_run_fn *run)
{
    struct kd_job *job = calloc(1, sizeof(*job));

    if (!job)
        return NULL;
    job->kd = c->kd;
    job->kind = kind;
    job->run = run;
    job->conn_id = c->conn_id;
    job->fd = -1;
    job->phase = "queued";
    job->result_domid = -1;
    return job;
}

static void
job_free(struct kd_job *job)
{
    if (!job)
        return;
    if (job->fd >= 0)
        close(job->fd);
    free(job->path);
    free(job->name);
    free(job->journal);
    free(job->why);
    free(job->error);
    free(job);
}

static void
list_unlink(struct kd_jobs *jobs, struct kd_job *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        jobs->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        jobs->tail = job->prev;
    job->prev = job->next = NULL;
}

/* Drops the oldest finished jobs past JOBS_KEEP, never keep. */
static void
jobs_trim(struct kd_jobs *jobs, const struct kd_job *keep)
{
    struct kd_job *job = jobs->head, *next;

    while (jobs->n_finished > JOBS_KEEP && job) {
        next = job->next;
        if (job->state != JOB_RUNNING && job != keep) {
            list_unlink(jobs, job);
            job_free(job);
            jobs->n_finished--;
        }
        job = next;
    }
}

static struct kd_job *
job_find(struct kd_jobs *jobs, uint64_t id)
{
    struct kd_job *job;

    for (job = jobs->tail; job; job = job->prev)
        if (job->id == id)
            return job;
    return NULL;
}

/* Records the thread's own error message; returns code. */
static int job_why(struct kd_job *job, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
job_why(struct kd_job *job, int code, const char *fmt, ...)
{
    va_list ap;

    free(job->why);
    va_start(ap, fmt);
    if (vasprintf(&job->why, fmt, ap) < 0)
        job->why = NULL;
    va_end(ap);
    return code;
}

static void
job_set_fd(struct kd_job *job, int fd)
{
    struct kd_jobs *jobs = job->kd->jobs;

    pthread_mutex_lock(&jobs->lock);
    job->fd = fd;
    pthread_mutex_unlock(&jobs->lock);
}

/* Closed under the lock so job.cancel never shuts down a reused number. */
static void
job_close_fd(struct kd_job *job)
{
    struct kd_jobs *jobs = job->kd->jobs;
    int fd;

    pthread_mutex_lock(&jobs->lock);
    fd = job->fd;
    job->fd = -1;
    pthread_mutex_unlock(&jobs->lock);
    if (fd >= 0)
        close(fd);
}

static void
job_set_phase(struct kd_job *job, const char *phase)
{
    struct kd_jobs *jobs = job->kd->jobs;

    pthread_mutex_lock(&jobs->lock);
    job->phase = phase;
    pthread_mutex_unlock(&jobs->lock);
}

static bool
job_cancelled(struct kd_job *job)
{
    struct kd_jobs *jobs = job->kd->jobs;
    bool cancel;

    pthread_mutex_lock(&jobs->lock);
    cancel = job->cancel;
    pthread_mutex_unlock(&jobs->lock);
    return cancel;
}

/* The new domain's domid and name, as the job's result. */
static void
job_set_result(struct kd_job *job, uint32_t domid)
{
    struct kd_jobs *jobs = job->kd->jobs;
    struct keel_domain_info info;
    bool named = keel_domain_info(job->kd->host, domid, &info) == 0;

    pthread_mutex_lock(&jobs->lock);
    job->result_domid = domid;
    if (named)
        snprintf(job->domain, sizeof(job->domain), "%s", info.name);
    pthread_mutex_unlock(&jobs->lock);
}

/* --- JSON --- */

static const char *
phase_name(enum keel_migrate_phase phase)
{
    static const char *const names[] = {"setup",    "live",       "memory",
                                        "stopcopy", "checkpoint", "done"};

    if ((unsigned)phase < sizeof(names) / sizeof(names[0]))
        return names[phase];
    return "unknown";
}

/* The generator's text as a new string (NULL: out of memory); frees g. */
static char *
gen_take(yajl_gen g)
{
    const unsigned char *buf;
    char *s = NULL;
    size_t len;

    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
        s = strndup((const char *)buf, len);
    yajl_gen_free(g);
    return s;
}

static void
gen_error(yajl_gen g, const struct kd_job *job)
{
    kd_gen_str(g, "error");
    if (job->state == JOB_RUNNING || job->state == JOB_DONE) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "code", job->code);
    kd_gen_kv_str(g, "name", kd_err_name(job->code));
    kd_gen_kv_str(g, "message", job->error ? job->error : "");
    yajl_gen_map_close(g);
}

static void
gen_result(yajl_gen g, const struct kd_job *job)
{
    kd_gen_str(g, "result");
    if (job->state != JOB_DONE) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    if (job->result_domid >= 0)
        kd_gen_kv_int(g, "domid", job->result_domid);
    yajl_gen_map_close(g);
}

/* job.info's object. Lock held. */
static void
gen_job(yajl_gen g, const struct kd_job *job)
{
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "job", (long long)job->id);
    kd_gen_kv_str(g, "kind", job->kind);
    kd_gen_kv_str(g, "domain", job->domain);
    kd_gen_kv_str(g, "state", job_state_names[job->state]);
    kd_gen_kv_str(g, "phase", job->phase);
    kd_gen_kv_int(g, "bytes_done", (long long)job->prog.bytes_done);
    kd_gen_kv_int(g, "bytes_total", (long long)job->prog.bytes_total);
    gen_error(g, job);
    gen_result(g, job);
    yajl_gen_map_close(g);
}

/* job.progress's params. */
static char *
progress_json(uint64_t id, const struct keel_migrate_progress *p)
{
    yajl_gen g = kd_gen_new();
    bool live = p->phase == KEEL_MIGRATE_PHASE_LIVE;

    if (!g)
        return NULL;
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "job", (long long)id);
    kd_gen_kv_str(g, "phase", phase_name(p->phase));
    kd_gen_kv_int(g, "bytes_done", (long long)p->bytes_done);
    kd_gen_kv_int(g, "bytes_total", (long long)p->bytes_total);
    kd_gen_kv_int(g, "pass", live ? p->pass.pass : p->passes);
    kd_gen_kv_int(g, "pages_sent", (long long)p->pass.pages_sent);
    kd_gen_kv_int(g, "dirty_pages", (long long)p->pass.dirty_pages);
    kd_gen_kv_int(g, "downtime_ms", (long long)(p->downtime_ns / 1000000));
    yajl_gen_map_close(g);
    return gen_take(g);
}

/* job.done's params. Lock held. */
static char *
done_json(const struct kd_job *job)
{
    yajl_gen g = kd_gen_new();

    if (!g)
        return NULL;
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "job", (long long)job->id);
    kd_gen_kv_str(g, "state", job_state_names[job->state]);
    gen_error(g, job);
    gen_result(g, job);
    yajl_gen_map_close(g);
    return gen_take(g);
}

/* --- the journal --- */

/* A restore or an incoming migration: the job builds a domain. */
static bool
job_builds(const struct kd_job *job)
{
    return job->kind[0] == 'r' || !strcmp(job->kind, "migrate_incoming");
}

const char *
kd_leave_name(unsigned int flags)
{
    if (flags & KEEL_SAVE_LEAVE_PAUSED)
        return "paused";
    if (flags & KEEL_SAVE_LEAVE_RUNNING)
        return "running";
    return "destroyed";
}

/* The journal's text (see the top of the file), or NULL: out of memory.
 * job->domain is read without the lock: only this thread writes it. */
static char *
journal_text(const struct kd_job *job)
{
    yajl_gen g = kd_gen_new();
    bool save = !strcmp(job->kind, "save"), builds = job_builds(job);
    char u[37];

    if (!g)
        return NULL;
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "version", JOURNAL_VERSION);
    kd_gen_kv_int(g, "job", (long long)job->id);
    kd_gen_kv_str(g, "kind", job->kind);
    kd_gen_kv_str(g, "domain", job->domain);
    keel_uuid_format(job->juuid, u);
    kd_gen_str(g, "uuid");
    if (job->jdom)
        kd_gen_str(g, u);
    else
        yajl_gen_null(g);
    kd_gen_str(g, "domid");
    if (job->jdom)
        yajl_gen_integer(g, job->jdomid);
    else
        yajl_gen_null(g);
    kd_gen_kv_bool(g, "was_paused", job->was_paused);
    if (save)
        kd_gen_kv_str(g, "leave", kd_leave_name(job->flags));
    if (builds)
        kd_gen_kv_bool(g, "paused", job->flags & KEEL_RESTORE_PAUSED);
    kd_gen_str(g, "file");
    if (save || (builds && job->path))
        kd_gen_str(g, job->path);
    else
        yajl_gen_null(g);
    if (!strcmp(job->kind, "migrate_local")) {
        kd_gen_str(g, "socket"); /* null: a copy on this host */
        if (job->path)
            kd_gen_str(g, job->path);
        else
            yajl_gen_null(g);
    }
    kd_gen_kv_str(g, "phase", kd_journal_phase_names[job->jphase]);
    yajl_gen_map_close(g);
    return gen_take(g);
}

/* Writes the journal as the job stands. 0, or the error (recorded as the
 * job's message). */
static int
journal_write(struct kd_job *job)
{
    char *text = journal_text(job);
    int r;

    if (!text)
        return job_why(job, KEEL_ENOMEM, "out of memory");
    r = kd_write_atomic(job->journal, text, strlen(text));
    free(text);
    if (r)
        return job_why(job, r, "writing the job journal %s: %s", job->journal,
                       strerror(-r));
    return 0;
}

/* The first journal, before the job does anything. A save or migration
 * records its source as it is now (libkeel marks it busy once the call
 * begins, so nothing else pauses it in between). */
static int
journal_begin(struct kd_job *job)
{
    struct keeld *kd = job->kd;
    struct keel_domain_info info;
    int rc;

    if (asprintf(&job->journal, "%s/%" PRIu64 ".json", kd->jobs->dir, job->id) <
        0) {
        job->journal = NULL;
        return job_why(job, KEEL_ENOMEM, "out of memory");
    }
    if (!job_builds(job)) {
        rc = keel_domain_info(kd->host, job->domid, &info);
        if (rc)
            return rc;
        job->jdom = true;
        job->jdomid = info.domid;
        memcpy(job->juuid, info.uuid, 16);
        job->was_paused = info.state == KEEL_DOMAIN_PAUSED;
    }
    return journal_write(job);
}

/* From the progress callback: records the domain a restore built and the
 * phases that change what undoing means. 0 or the error. */
static int
journal_progress(struct kd_job *job, const struct keel_migrate_progress *p)
{
    bool changed = false;

    if (!job->journal)
        return 0;
    if (job_builds(job) && !job->jdom && p->domid != KEEL_DOMID_INVALID) {
        job->jdom = true;
        job->jdomid = p->domid;
        memcpy(job->juuid, p->uuid, 16);
        changed = true;
    }
    if (p->phase == KEEL_MIGRATE_PHASE_STOPCOPY && job->jphase < JP_STOPCOPY) {
        job->jphase = JP_STOPCOPY;
        changed = true;
    }
    if (p->phase == KEEL_MIGRATE_PHASE_DONE && job->jphase < JP_DONE) {
        job->jphase = JP_DONE;
        changed = true;
    }
    return changed ? journal_write(job) : 0;
}

/* The job has ended and undone what it had to: the journal goes. */
static void
journal_end(struct kd_job *job)
{
    int r;

    if (!job->journal)
        return;
    r = kd_unlink_durable(job->journal);
    if (r)
        log_warnx("%s: job %" PRIu64 ": removing %s: %s", __func__, job->id,
                  job->journal, strerror(-r));
}

/* --- the thread --- */

/* keel_migrate_progress_fn: on the job's thread. */
static int
job_progress(void *opaque, const struct keel_migrate_progress *p)
{
    struct kd_job *job = opaque;
    struct kd_jobs *jobs = job->kd->jobs;
    uint64_t conn;
    char *json;
    bool cancel;

    pthread_mutex_lock(&jobs->lock);
    job->prog = *p;
    job->phase = phase_name(p->phase);
    job->started = true;
    cancel = job->cancel;
    conn = jobs->stopping ? 0 : job->conn_id;
    pthread_mutex_unlock(&jobs->lock);
    if (conn && (json = progress_json(job->id, p))) {
        kd_notify_conn(job->kd, conn, "job.progress", json);
        free(json);
    }
    /* A job whose journal cannot say where it is must not go on: a
     * restart could not undo it. Cancelling makes libkeel undo it now. */
    if (journal_progress(job, p))
        cancel = true;
    return cancel ? 1 : 0;
}

/* Records how the job ended and tells who started it. From here on the
 * job may be dropped (jobs_trim) once the lock is let go. */
static void
job_finish(struct kd_job *job, int rc)
{
    struct keeld *kd = job->kd;
    struct kd_jobs *jobs = kd->jobs;
    const char *msg = job->why ? job->why : keel_ctx_last_error(kd->ctx);
    char *json = NULL;
    uint64_t conn, id = job->id;

    if (rc && (!msg || !*msg))
        msg = keel_strerror(rc);
    job_close_fd(job);
    if (rc && job->unlink_failed)
        (void)kd_unlink_durable(job->path);
    journal_end(job);
    pthread_mutex_lock(&jobs->lock);
    if (rc == 0)
        job->state = JOB_DONE;
    else if (job->cancel || rc == KEEL_ECANCELED)
        job->state = JOB_CANCELLED;
    else
        job->state = JOB_FAILED;
    if (rc == 0)
        job->phase = "done";
    job->code = rc;
    job->error = rc ? strdup(msg) : NULL;
    jobs->n_finished++;
    conn = jobs->stopping ? 0 : job->conn_id;
    if (conn)
        json = done_json(job);
    if (rc)
        log_warnx("%s: job %" PRIu64 " (%s '%s') %s: %s", __func__, id,
                  job->kind, job->domain, job_state_names[job->state], msg);
    else
        log_info("%s: job %" PRIu64 " (%s '%s') done", __func__, id, job->kind,
                 job->domain);
    jobs_trim(jobs, job);
    pthread_mutex_unlock(&jobs->lock);
    if (json)
        kd_notify_conn(kd, conn, "job.done", json); /* job may be gone */
    free(json);
}

static void *
job_main(void *opaque)
{
    struct kd_job *job = opaque;
    struct kd_jobs *jobs = job->kd->jobs;
    int rc;

    keel_ctx_clear_error(job->kd->ctx);
    rc = journal_begin(job);
    if (rc == 0)
        rc = job->run(job);
    job_finish(job, rc);
    pthread_mutex_lock(&jobs->lock);
    if (--jobs->n_running == 0)
        pthread_cond_broadcast(&jobs->idle);
    pthread_mutex_unlock(&jobs->lock);
    return NULL;
}

/* Puts job in the list and starts its thread. 0 or -errno (job is then
 * not in the list: the caller frees it). */
static int
job_start(struct keeld *kd, struct kd_job *job)
{
    struct kd_jobs *jobs = kd->jobs;
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t t;
    int r;

    pthread_mutex_lock(&jobs->lock);
    if (jobs->stopping) {
        pthread_mutex_unlock(&jobs->lock);
        return -ESHUTDOWN;
    }
    job->id = ++jobs->next_id;
    job->prev = jobs->tail;
    if (jobs->tail)
        jobs->tail->next = job;
    else
        jobs->head = job;
    jobs->tail = job;
    jobs->n_running++;
    pthread_mutex_unlock(&jobs->lock);
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&t, &attr, job_main, job);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (r == 0)
        return 0;
    pthread_mutex_lock(&jobs->lock);
    list_unlink(jobs, job);
    if (--jobs->n_running == 0)
        pthread_cond_broadcast(&jobs->idle);
    pthread_mutex_unlock(&jobs->lock);
    return -r;
}

/* Starts job for call c and answers {"job":id}; frees job on failure. */
static int
job_launch(struct kd_call *c, struct kd_job *job)
{
    int r = job_start(c->kd, job);

    if (r) {
        job_free(job);
        return kd_fail(c, r, "starting a job thread: %s", strerror(-r));
    }
    log_info("%s: job %" PRIu64 ": %s '%s' for connection %" PRIu64, __func__,
             job->id, job->kind, job->domain, c->conn_id);
    yajl_gen_map_open(c->g);
    kd_gen_kv_int(c->g, "job", (long long)job->id);
    yajl_gen_map_close(c->g);
    return 0;
}

/* --- save and restore --- */

/* The save is made with the domain left paused and the file synced
 * before the domain is destroyed: a save that reports success survives
 * a crash, and one whose file cannot be synced leaves the domain as it
 * was. */
static int
run_save(struct kd_job *job)
{
    struct keel_host *host = job->kd->host;
    struct keel_save_opts opts = {.progress = job_progress, .opaque = job};
    struct keel_domain_info info;
    bool destroy = !(job->flags & KEEL_SAVE_LEAVE_RUNNING) &&
                   !(job->flags & KEEL_SAVE_LEAVE_PAUSED);
    int rc;

    rc = keel_domain_info(host, job->domid, &info);
    if (rc)
        return rc;
    opts.flags = job->flags | (destroy ? KEEL_SAVE_LEAVE_PAUSED : 0);
    rc = keel_domain_save(host, job->domid, job->fd, &opts);
    if (rc)
        return rc;
    if (fsync(job->fd)) {
        rc = job_why(job, -errno, "syncing %s: %s", job->path, strerror(errno));
    } else {
        job->jphase = JP_SYNCED; /* from here a restart keeps the file */
        rc = journal_write(job);
    }
    if (rc) {
        if (info.state == KEEL_DOMAIN_RUNNING &&
            !(job->flags & KEEL_SAVE_LEAVE_RUNNING))
            (void)keel_domain_unpause(host, job->domid);
        return rc;
    }
    if (destroy)
        rc = keel_domain_destroy(host, job->domid);
    if (rc) /* the file is good: keep it */
        job->unlink_failed = false;
    return rc;
}

static int
run_restore(struct kd_job *job)
{
    struct keel_restore_opts opts = {
        .flags = job->flags,
        .name = job->name,
        .progress = job_progress,
        .opaque = job,
    };
    uint32_t domid;
    int rc;

    rc = keel_domain_restore(job->kd->host, job->fd, &opts, &domid);
    if (rc == 0)
        job_set_result(job, domid);
    return rc;
}

/* A path keeld opens for the client: keeld's working directory is not
 * the client's, so only absolute paths mean the same to both. */
static int
param_path(struct kd_call *c, const char *name, const char **path_r)
{
    int rc = kd_param_str(c, name, true, path_r, NULL);

    if (rc == 0 && (*path_r)[0] != '/')
        rc = kd_fail(c, KD_EPARAMS, "member '%s' must be an absolute path",
                     name);
    return rc;
}

static int
param_leave(struct kd_call *c, unsigned int *flags_r)
{
    const char *leave = "destroyed";
    int rc = kd_param_str(c, "leave", false, &leave, NULL);

    if (rc)
        return rc;
    if (!strcmp(leave, "destroyed"))
        *flags_r = 0;
    else if (!strcmp(leave, "paused"))
        *flags_r = KEEL_SAVE_LEAVE_PAUSED;
    else if (!strcmp(leave, "running"))
        *flags_r = KEEL_SAVE_LEAVE_RUNNING;
    else
        return kd_fail(c, KD_EPARAMS,
                       "member 'leave' must be destroyed, paused or running");
    return 0;
}

static int
jobs_save(struct kd_call *c)
{
    static const char *const names[] = {"domain", "file", "leave", NULL};
    struct keel_domain_info info;
    struct kd_job *job;
    const char *file = NULL;
    unsigned int flags = 0;
    uint32_t domid;
    int rc, fd;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_domain(c, "domain", &domid)) ||
        (rc = param_path(c, "file", &file)) || (rc = param_leave(c, &flags)))
        return rc;
    rc = keel_domain_info(c->kd->host, domid, &info);
    if (rc)
        return kd_fail_keel(c, rc);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return kd_fail(c, -errno, "opening %s: %s", file, strerror(errno));
    job = job_new(c, "save", run_save);
    if (!job || !(job->path = strdup(file))) {
        close(fd);
        unlink(file);
        job_free(job);
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    }
    job->fd = fd;
    job->domid = domid;
    job->flags = flags;
    job->unlink_failed = true;
    snprintf(job->domain, sizeof(job->domain), "%s", info.name);
    return job_launch(c, job);
}

static int
jobs_restore(struct kd_call *c)
{
    static const char *const names[] = {"file", "name", "paused", NULL};
    const char *file = NULL, *name = NULL;
    struct kd_job *job;
    bool paused = false, named = false;
    int rc, fd;

    if ((rc = kd_params_only(c, names)) ||
        (rc = param_path(c, "file", &file)) ||
        (rc = kd_param_str(c, "name", false, &name, &named)) ||
        (rc = kd_param_bool(c, "paused", false, &paused, NULL)))
        return rc;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kd_fail(c, -errno, "opening %s: %s", file, strerror(errno));
    job = job_new(c, "restore", run_restore);
    if (!job || !(job->path = strdup(file)) ||
        (named && !(job->name = strdup(name)))) {
        close(fd);
        job_free(job);
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    }
    job->fd = fd;
    job->flags = paused ? KEEL_RESTORE_PAUSED : 0;
    snprintf(job->domain, sizeof(job->domain), "%s", named ? name : "");
    return job_launch(c, job);
}

/* --- migrate_local: the sending side --- */

/* One line, a byte at a time, without its newline: whatever follows the
 * newline is the migration's and stays in the socket. 0, -EPIPE at end
 * of file, -E2BIG past size - 1 bytes, or -errno. */
static int
read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t r;
    char ch;

    for (;;) {
        r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EPIPE;
        if (ch == '\n')
            break;
        if (len + 1 >= size)
            return -E2BIG;
        buf[len++] = ch;
    }
    buf[len] = '\0';
    return 0;
}

/* The error code of the other keeld's reply, if it is one (negative:
 * a positive code would read as success or "skip"). */
static int
peer_code(yajl_val code)
{
    long long v = YAJL_IS_INTEGER(code) ? YAJL_GET_INTEGER(code) : 0;

    return v < 0 && v > -1000000 ? (int)v : KEEL_ECORRUPT;
}

/* The other keeld's answer: 0 for the result of request 1, 1 for a line
 * to skip (a notification), or the job's error. */
static int
check_reply(struct kd_job *job, const char *line)
{
    const char *k_id[] = {"id", NULL}, *k_res[] = {"result", NULL};
    const char *k_code[] = {"error", "code", NULL};
    const char *k_msg[] = {"error", "message", NULL};
    yajl_val root = yajl_tree_parse(line, NULL, 0), id, code, msg;
    int rc;

    id = yajl_tree_get(root, k_id, yajl_t_number);
    code = yajl_tree_get(root, k_code, yajl_t_number);
    msg = yajl_tree_get(root, k_msg, yajl_t_string);
    if (!root || !YAJL_IS_OBJECT(root))
        rc =
            job_why(job, KEEL_ECORRUPT, "%s: the reply is not JSON", job->path);
    else if (!yajl_tree_get(root, k_id, yajl_t_any))
        rc = 1;
    else if (!YAJL_IS_INTEGER(id) || YAJL_GET_INTEGER(id) != 1)
        rc = job_why(job, KEEL_ECORRUPT, "%s: a reply to another request",
                     job->path);
    else if (yajl_tree_get(root, k_res, yajl_t_any))
        rc = 0;
    else
        rc = job_why(job, peer_code(code), "the other keeld refused: %s",
                     msg ? YAJL_GET_STRING(msg) : "(no message)");
    yajl_tree_free(root);
    return rc;
}

/* Connects to the other keeld and has it wait for the stream. */
static int
peer_open(struct kd_job *job)
{
    static const char req[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.migrate_incoming\","
        "\"params\":{\"paused\":false}}\n";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *line = malloc(REPLY_MAX);
    int fd, r, rc;

    if (!line)
        return job_why(job, KEEL_ENOMEM, "out of memory");
    job_set_phase(job, "connecting");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        free(line);
        return job_why(job, -errno, "socket: %s", strerror(errno));
    }
    job_set_fd(job, fd);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", job->path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        r = -errno;
    else
        r = kd_write_all(fd, req, sizeof(req) - 1);
    do {
        rc = r ? r : read_line(fd, line, REPLY_MAX);
        if (rc == 0)
            rc = check_reply(job, line);
    } while (rc == 1);
    if (r || (rc < 0 && !job->why))
        rc = job_why(job, rc, "%s: %s", job->path,
                     rc == -EPIPE ? "the other keeld closed the connection"
                                  : strerror(-rc));
    free(line);
    return rc;
}

static int
run_migrate_local(struct kd_job *job)
{
    struct keel_save_opts opts = {
        .policy = &job->policy,
        .progress = job_progress,
        .opaque = job,
    };
    uint32_t domid = KEEL_DOMID_INVALID;
    int rc;

    if (!job->path) { /* this host: a copy beside the source */
        rc =
            keel_domain_migrate_local(job->kd->host, job->domid, &opts, &domid);
        if (rc == 0)
            job_set_result(job, domid);
        return rc;
    }
    rc = peer_open(job);
    if (rc == 0 && job_cancelled(job))
        rc = job_why(job, KEEL_ECANCELED, "cancelled before the transfer");
    if (rc == 0)
        rc = keel_domain_migrate_send(job->kd->host, job->domid, job->fd,
                                      job->fd, &opts);
    return rc;
}

static int
param_policy(struct kd_call *c, struct keel_migrate_policy *policy)
{
    const char *name = "xen";
    int64_t downtime = 0;
    bool has_downtime = false;
    int rc;

    if ((rc = kd_param_str(c, "policy", false, &name, NULL)) ||
        (rc = kd_param_i64(c, "downtime_ms", false, 0, 3600000, &downtime,
                           &has_downtime)))
        return rc;
    memset(policy, 0, sizeof(*policy));
    if (!strcmp(name, "xen"))
        policy->kind = KEEL_MIGRATE_POLICY_XEN;
    else if (!strcmp(name, "keel"))
        policy->kind = KEEL_MIGRATE_POLICY_DOWNTIME;
    else
        return kd_fail(c, KD_EPARAMS, "member 'policy' must be xen or keel");
    if (has_downtime && policy->kind != KEEL_MIGRATE_POLICY_DOWNTIME)
        return kd_fail(c, KD_EPARAMS,
                       "member 'downtime_ms' goes with policy keel");
    policy->downtime_ms = (uint64_t)downtime;
    return 0;
}

static int
jobs_migrate_local(struct kd_call *c)
{
    static const char *const names[] = {"domain", "socket", "policy",
                                        "downtime_ms", NULL};
    struct sockaddr_un sa;
    struct keel_migrate_policy policy;
    struct keel_domain_info info;
    struct kd_job *job;
    const char *sock = NULL;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_domain(c, "domain", &domid)) ||
        (rc = kd_param_str(c, "socket", false, &sock, NULL)) ||
        (rc = sock ? param_path(c, "socket", &sock) : 0) ||
        (rc = param_policy(c, &policy)))
        return rc;
    if (sock && strlen(sock) >= sizeof(sa.sun_path))
        return kd_fail(c, KD_EPARAMS,
                       "member 'socket' is too long for a socket path");
    rc = keel_domain_info(c->kd->host, domid, &info);
    if (rc)
        return kd_fail_keel(c, rc);
    job = job_new(c, "migrate_local", run_migrate_local);
    if (!job || (sock && !(job->path = strdup(sock)))) {
        job_free(job);
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    }
    job->domid = domid;
    job->policy = policy;
    snprintf(job->domain, sizeof(job->domain), "%s", info.name);
    return job_launch(c, job);
}

/* --- migrate_incoming: the receiving side --- */

static int
run_migrate_incoming(struct kd_job *job)
{
    struct keel_restore_opts opts = {
        .flags = job->flags,
        .progress = job_progress,
        .opaque = job,
    };
    uint32_t domid;
    int rc;

    rc = keel_domain_migrate_receive(job->kd->host, job->fd, job->fd, &opts,
                                     &domid);
    if (rc == 0)
        job_set_result(job, domid);
    return rc;
}

/* Loop thread, after the {} reply is queued: the connection becomes the
 * stream. The connection is closed either way. */
static void
incoming_after(struct kd_call *c)
{
    struct kd_job *job = c->priv;
    int fd = -1, r;

    c->priv = NULL;
    if (c->code) {
        job_free(job);
        return;
    }
    r = kd_conn_detach_loop(c->conn, &fd);
    if (r == 0) {
        job->fd = fd;
        r = job_start(c->kd, job);
    }
    if (r) {
        log_warnx("%s: connection %" PRIu64 ": no migration: %s", __func__,
                  c->conn_id, strerror(-r));
        job_free(job); /* closes fd */
        kd_conn_close_loop(c->conn);
        return;
    }
    log_info("%s: job %" PRIu64 ": receiving a domain on connection %" PRIu64,
             __func__, job->id, c->conn_id);
}

/* KD_M_LOOP: only the loop may hand a connection's descriptor over. No
 * job.progress here: the connection is the stream, not a client. */
static int
jobs_migrate_incoming(struct kd_call *c)
{
    static const char *const names[] = {"paused", NULL};
    struct kd_job *job;
    bool paused = false;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_bool(c, "paused", false, &paused, NULL)))
        return rc;
    job = job_new(c, "migrate_incoming", run_migrate_incoming);
    if (!job)
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    job->conn_id = 0;
    job->flags = paused ? KEEL_RESTORE_PAUSED : 0;
    c->priv = job;
    c->after = incoming_after;
    return kd_ok(c);
}

/* --- job.* --- */

static int
param_job(struct kd_call *c, uint64_t *id_r)
{
    int64_t id = 0;
    int rc = kd_param_i64(c, "job", true, 1, INT64_MAX, &id, NULL);

    *id_r = (uint64_t)id;
    return rc;
}

static int
jobs_list(struct kd_call *c)
{
    static const char *const names[] = {NULL};
    struct kd_jobs *jobs = c->kd->jobs;
    struct kd_job *job;
    int rc = kd_params_only(c, names);

    if (rc)
        return rc;
    pthread_mutex_lock(&jobs->lock);
    yajl_gen_array_open(c->g);
    for (job = jobs->head; job; job = job->next)
        gen_job(c->g, job);
    yajl_gen_array_close(c->g);
    pthread_mutex_unlock(&jobs->lock);
    return 0;
}

static int
jobs_info(struct kd_call *c)
{
    static const char *const names[] = {"job", NULL};
    struct kd_jobs *jobs = c->kd->jobs;
    struct kd_job *job;
    uint64_t id;
    int rc;

    if ((rc = kd_params_only(c, names)) || (rc = param_job(c, &id)))
        return rc;
    pthread_mutex_lock(&jobs->lock);
    job = job_find(jobs, id);
    if (job)
        gen_job(c->g, job);
    pthread_mutex_unlock(&jobs->lock);
    if (!job)
        return kd_fail(c, KEEL_ENOENT, "no job %" PRIu64, id);
    return 0;
}

/* Sets the flag the progress callback returns. Before libkeel has the
 * descriptor (connecting, or waiting for a sender) nothing would look at
 * the flag, so the socket is shut down to wake the thread. */
static int
jobs_cancel(struct kd_call *c)
{
    static const char *const names[] = {"job", NULL};
    struct kd_jobs *jobs = c->kd->jobs;
    struct kd_job *job;
    enum job_state state = JOB_RUNNING;
    uint64_t id;
    int rc;

    if ((rc = kd_params_only(c, names)) || (rc = param_job(c, &id)))
        return rc;
    pthread_mutex_lock(&jobs->lock);
    job = job_find(jobs, id);
    if (job && (state = job->state) == JOB_RUNNING) {
        job->cancel = true;
        if (!job->started && job->fd >= 0)
            shutdown(job->fd, SHUT_RDWR); /* ENOTSOCK for a file: fine */
    }
    pthread_mutex_unlock(&jobs->lock);
    if (!job)
        return kd_fail(c, KEEL_ENOENT, "no job %" PRIu64, id);
    if (state != JOB_RUNNING)
        return kd_fail(c, KEEL_ESTATE, "job %" PRIu64 " has ended (%s)", id,
                       job_state_names[state]);
    return kd_ok(c);
}

const struct kd_method kd_methods_jobs[] = {
    {"domain.save", jobs_save, KD_M_WRITE},
    {"domain.restore", jobs_restore, KD_M_WRITE},
    {"domain.migrate_local", jobs_migrate_local, KD_M_WRITE},
    {"domain.migrate_incoming", jobs_migrate_incoming,
     KD_M_WRITE | KD_M_LOOP | KD_M_NOKEY},
    {"job.list", jobs_list, KD_M_NOKEY},
    {"job.info", jobs_info, KD_M_NOKEY},
    {"job.cancel", jobs_cancel, KD_M_WRITE | KD_M_NOKEY},
    {NULL, NULL, 0},
};

/* --- init and fini --- */

int
kd_jobs_init(struct keeld *kd)
{
    struct kd_jobs *jobs = calloc(1, sizeof(*jobs));
    pthread_condattr_t ca;

    if (!jobs || asprintf(&jobs->dir, "%s/jobs", kd->opts.state_dir) < 0) {
        free(jobs);
        log_err("%s: out of memory", __func__);
        return -ENOMEM;
    }
    if (mkdir(jobs->dir, 0700) && errno != EEXIST) {
        log_err("%s: creating %s: %s", __func__, jobs->dir, strerror(errno));
        free(jobs->dir);
        free(jobs);
        return -errno;
    }
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&jobs->idle, &ca);
    pthread_condattr_destroy(&ca);
    kd->jobs = jobs;
    return kd_jobs_recover(kd, jobs->dir, &jobs->next_id);
}

/* Cancels every running job and waits; after FINI_GRACE_S, cuts their
 * sockets (a peer that stopped answering would otherwise hold keeld
 * forever; libkeel then leaves the source paused rather than risk two
 * copies running). Lock held. */
static void
jobs_stop(struct kd_jobs *jobs)
{
    struct timespec deadline;
    struct kd_job *job;

    jobs->stopping = true;
    for (job = jobs->head; job; job = job->next) {
        if (job->state != JOB_RUNNING)
            continue;
        job->cancel = true;
        if (!job->started && job->fd >= 0)
            shutdown(job->fd, SHUT_RDWR);
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += FINI_GRACE_S;
    while (jobs->n_running && pthread_cond_timedwait(&jobs->idle, &jobs->lock,
                                                     &deadline) != ETIMEDOUT)
        ;
    if (!jobs->n_running)
        return;
    log_warnx("%s: %u jobs still running after %d s: cutting their sockets",
              __func__, jobs->n_running, FINI_GRACE_S);
    for (job = jobs->head; job; job = job->next)
        if (job->state == JOB_RUNNING && job->fd >= 0)
            shutdown(job->fd, SHUT_RDWR);
    while (jobs->n_running)
        pthread_cond_wait(&jobs->idle, &jobs->lock);
}

void
kd_jobs_fini(struct keeld *kd)
{
    struct kd_jobs *jobs = kd->jobs;
    struct kd_job *job;

    if (!jobs)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs_stop(jobs);
    pthread_mutex_unlock(&jobs->lock);
    while ((job = jobs->head)) {
        list_unlink(jobs, job);
        job_free(job);
    }
    pthread_cond_destroy(&jobs->idle);
    pthread_mutex_destroy(&jobs->lock);
    free(jobs->dir);
    free(jobs);
    kd->jobs = NULL;
}

const char *const kd_journal_phase_names[] = {"started", "stopcopy", "done",
                                              "synced"};
const char *const kd_job_kinds[] = {"save", "migrate_local", "restore",
                                    "migrate_incoming", NULL};
