/* recover.c: what a killed keeld left half done, from the jobs' journals
 *
 * jobs.c writes STATE_DIR/jobs/<id>.json while a job runs (its format and
 * phases: jobs.c's header and jobs-internal.h). At start, before any new
 * job, each journal left behind is read and its job rolled back or
 * finished: a save or migration whose source still exists gets log-dirty
 * off, is resumed if the job suspended it (a Xen guest suspends itself
 * for the last copy) and unpaused if the job paused it, and loses its
 * partial file (a save whose file was complete and synced is finished as
 * asked; a migration within this host first drops its copy, or has the
 * copy take over if the handover had begun); a restore or incoming
 * migration loses its half-built domain, or, if its stream was complete,
 * is finished. Every action is logged naming the job and the domain; a
 * journal that cannot be read is logged and left, and an undo that fails
 * keeps its journal for the next start.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobs-internal.h"
#include "keeld.h"

/* One journal, read back. */
struct jrec {
    uint64_t id;
    const char *kind; /* static: one of kd_job_kinds */
    char domain[KEEL_NAME_MAX + 1];
    bool has_dom;
    uint8_t uuid[16];
    uint32_t domid;
    bool was_paused;
    unsigned int flags; /* save: KEEL_SAVE_LEAVE_*; else KEEL_RESTORE_PAUSED */
    char *file;         /* or NULL */
    bool same_host;     /* migrate_local: the copy is on this host */
    enum journal_phase phase;
};

static yajl_val
jget(yajl_val root, const char *key)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(root, path, yajl_t_any);
}

/* index of s in the NULL-terminated names, or -1 */
static int
name_index(const char *const *names, size_t n, const char *s)
{
    size_t i;

    for (i = 0; s && i < n && names[i]; i++)
        if (!strcmp(names[i], s))
            return (int)i;
    return -1;
}

/* The members every kind has. NULL, or what is wrong. */
static const char *
jrec_common(yajl_val root, uint64_t id, struct jrec *j)
{
    yajl_val ver = jget(root, "version"), job = jget(root, "job");
    yajl_val uuid = jget(root, "uuid"), domid = jget(root, "domid");
    yajl_val name = jget(root, "domain"), wp = jget(root, "was_paused");
    int kind = name_index(kd_job_kinds, 4, YAJL_GET_STRING(jget(root, "kind")));
    int phase = name_index(kd_journal_phase_names, 4,
                           YAJL_GET_STRING(jget(root, "phase")));

    if (!YAJL_IS_INTEGER(ver) || YAJL_GET_INTEGER(ver) != JOURNAL_VERSION)
        return "no \"version\" this keeld knows";
    if (!YAJL_IS_INTEGER(job) || (uint64_t)YAJL_GET_INTEGER(job) != id)
        return "its \"job\" is not its file's number";
    if (kind < 0 || phase < 0)
        return "no known \"kind\" or \"phase\"";
    if (!YAJL_IS_STRING(name) || strlen(name->u.string) > KEEL_NAME_MAX)
        return "no valid \"domain\"";
    if (!(YAJL_IS_TRUE(wp) || YAJL_IS_FALSE(wp)))
        return "no \"was_paused\"";
    if (YAJL_IS_NULL(uuid) != YAJL_IS_NULL(domid))
        return "\"uuid\" and \"domid\" disagree";
    j->has_dom = !YAJL_IS_NULL(uuid);
    if (j->has_dom &&
        (!YAJL_IS_STRING(uuid) ||
         keel_uuid_parse(YAJL_GET_STRING(uuid), j->uuid) ||
         !YAJL_IS_INTEGER(domid) || YAJL_GET_INTEGER(domid) <= 0 ||
         YAJL_GET_INTEGER(domid) >= KEEL_DOMID_FIRST_RESERVED))
        return "no valid \"uuid\" and \"domid\"";
    if (kind < 2 && !j->has_dom)
        return "a save or migration without its domain";
    j->id = id;
    j->kind = kd_job_kinds[kind];
    j->phase = (enum journal_phase)phase;
    snprintf(j->domain, sizeof(j->domain), "%s", name->u.string);
    j->domid = j->has_dom ? (uint32_t)YAJL_GET_INTEGER(domid) : 0;
    j->was_paused = YAJL_IS_TRUE(wp);
    return NULL;
}

/* The kind's own members. NULL, or what is wrong. */
static const char *
jrec_kind(yajl_val root, struct jrec *j)
{
    static const char *const leaves[] = {"destroyed", "paused", "running"};
    static const unsigned int leave_flags[] = {0, KEEL_SAVE_LEAVE_PAUSED,
                                               KEEL_SAVE_LEAVE_RUNNING};
    yajl_val file = jget(root, "file"), paused = jget(root, "paused");
    yajl_val sock = jget(root, "socket");
    bool save = !strcmp(j->kind, "save");
    bool builds = j->kind[0] == 'r' || !strcmp(j->kind, "migrate_incoming");
    int leave = name_index(leaves, 3, YAJL_GET_STRING(jget(root, "leave")));

    if (!YAJL_IS_NULL(file) &&
        (!YAJL_IS_STRING(file) || YAJL_GET_STRING(file)[0] != '/'))
        return "\"file\" is not an absolute path";
    if (save && (YAJL_IS_NULL(file) || leave < 0))
        return "a save without its \"file\" or \"leave\"";
    if (builds && !(YAJL_IS_TRUE(paused) || YAJL_IS_FALSE(paused)))
        return "no \"paused\"";
    /* A journal from before same-host migration has no "socket". */
    if (sock && !YAJL_IS_NULL(sock) &&
        (!YAJL_IS_STRING(sock) || YAJL_GET_STRING(sock)[0] != '/'))
        return "\"socket\" is not an absolute path";
    j->same_host =
        !strcmp(j->kind, "migrate_local") && sock && YAJL_IS_NULL(sock);
    if (j->phase == JP_SYNCED && !save)
        return "only a save is \"synced\"";
    if (save)
        j->flags = leave_flags[leave];
    if (builds && YAJL_IS_TRUE(paused))
        j->flags = KEEL_RESTORE_PAUSED;
    if (!YAJL_IS_NULL(file) && !(j->file = strdup(file->u.string)))
        return "out of memory";
    return NULL;
}

/* Reads the journal at path into *j (free j->file). NULL, or why not. */
static const char *
jrec_read(const char *path, uint64_t id, struct jrec *j, char *buf, size_t size)
{
    const char *why = NULL;
    char *text = NULL;
    yajl_val root = NULL;
    size_t len = 0;
    int r;

    memset(j, 0, sizeof(*j));
    r = kd_read_file(path, JOURNAL_MAX, &text, &len);
    if (r)
        snprintf(buf, size, "%s", strerror(-r));
    else if (strlen(text) != len)
        snprintf(buf, size, "it holds a NUL byte");
    else if (!(root = yajl_tree_parse(text, buf, size)))
        ; /* yajl wrote why */
    else if (!YAJL_IS_OBJECT(root))
        snprintf(buf, size, "not a JSON object");
    else if ((why = jrec_common(root, id, j)) || (why = jrec_kind(root, j)))
        snprintf(buf, size, "%s", why);
    else
        buf = NULL;
    yajl_tree_free(root);
    free(text);
    return buf;
}

/* The journal's domain, if it is still there (the same uuid, not dying):
 * *domid_r and *info. */
static bool
jrec_domain(struct keeld *kd, const struct jrec *j, uint32_t *domid_r,
            struct keel_domain_info *info)
{
    char u[37];
    bool found;

    keel_uuid_format(j->uuid, u);
    found = j->has_dom && keel_domain_lookup(kd->host, u, domid_r) == 0 &&
            keel_domain_info(kd->host, *domid_r, info) == 0 &&
            info->state != KEEL_DOMAIN_DYING;
    keel_ctx_clear_error(kd->ctx);
    return found;
}

#define JLOG_FMT "%s: job %" PRIu64 " (%s '%s', domain %u)"
#define JLOG_ARGS(j) __func__, (j)->id, (j)->kind, (j)->domain, (j)->domid

static bool
recover_logdirty(struct keeld *kd, const struct jrec *j)
{
    int rc = keel_hv_logdirty_disable(kd->hv, j->domid);
    struct keel_hv_dominfo hi;

    if (rc && keel_hv_domain_info(kd->hv, j->domid, &hi) == 0 &&
        !(hi.flags & KEEL_DOMF_LOGDIRTY))
        rc = 0; /* it was not on: the backend said so its own way */
    if (rc)
        log_warnx(JLOG_FMT ": turning log-dirty off: %s", JLOG_ARGS(j),
                  keel_ctx_last_error(kd->ctx));
    else
        log_info(JLOG_FMT ": log-dirty is off", JLOG_ARGS(j));
    keel_ctx_clear_error(kd->ctx);
    return rc == 0;
}

/* Through libkeel, so its records and events follow; through the
 * hypervisor if libkeel refuses (a pause it does not count as its own). */
static bool
recover_unpause(struct keeld *kd, const struct jrec *j)
{
    int rc = keel_domain_unpause(kd->host, j->domid);

    if (rc) {
        log_debug(JLOG_FMT ": libkeel would not unpause it: %s", JLOG_ARGS(j),
                  keel_ctx_last_error(kd->ctx));
        keel_ctx_clear_error(kd->ctx);
        rc = keel_hv_domain_unpause(kd->hv, j->domid);
    }
    if (rc)
        log_warnx(JLOG_FMT ": unpausing: %s", JLOG_ARGS(j),
                  keel_ctx_last_error(kd->ctx));
    else
        log_info(JLOG_FMT ": unpaused (it ran before the job)", JLOG_ARGS(j));
    keel_ctx_clear_error(kd->ctx);
    return rc == 0;
}

/* Suspended by the job (a Xen guest suspends itself for the last copy):
 * its suspend returns as cancelled and it runs on, or stays paused. */
static bool
suspended(const struct keel_domain_info *info)
{
    return info->state == KEEL_DOMAIN_SHUTDOWN &&
           info->reason == KEEL_SHUTDOWN_SUSPEND;
}

static bool
recover_resume(struct keeld *kd, const struct jrec *j, bool paused)
{
    int rc = keel_domain_resume(kd->host, j->domid, paused);

    if (rc)
        log_warnx(JLOG_FMT ": resuming it from its suspend: %s", JLOG_ARGS(j),
                  keel_ctx_last_error(kd->ctx));
    else
        log_info(JLOG_FMT ": resumed it from its suspend%s", JLOG_ARGS(j),
                 paused ? ", paused" : "");
    keel_ctx_clear_error(kd->ctx);
    return rc == 0;
}

static bool
recover_unlink(const struct jrec *j)
{
    int r = kd_unlink_durable(j->file);

    if (r)
        log_warnx(JLOG_FMT ": removing the partial save file %s: %s",
                  JLOG_ARGS(j), j->file, strerror(-r));
    else
        log_info(JLOG_FMT ": removed the partial save file %s", JLOG_ARGS(j),
                 j->file);
    return r == 0;
}

static bool
recover_destroy(struct keeld *kd, const struct jrec *j, const char *what)
{
    int rc = keel_domain_destroy(kd->host, j->domid);

    if (rc)
        log_warnx(JLOG_FMT ": destroying %s: %s", JLOG_ARGS(j), what,
                  keel_ctx_last_error(kd->ctx));
    else
        log_info(JLOG_FMT ": destroyed %s", JLOG_ARGS(j), what);
    keel_ctx_clear_error(kd->ctx);
    return rc == 0;
}

/* A synced save whose source is still there: done as asked. */
static bool
finish_save(struct keeld *kd, const struct jrec *j,
            const struct keel_domain_info *info)
{
    log_info(JLOG_FMT ": %s is complete: finishing the save (leave %s)",
             JLOG_ARGS(j), j->file, kd_leave_name(j->flags));
    if ((j->flags & (KEEL_SAVE_LEAVE_PAUSED | KEEL_SAVE_LEAVE_RUNNING)) &&
        suspended(info))
        return recover_resume(
            kd, j, (j->flags & KEEL_SAVE_LEAVE_PAUSED) || j->was_paused);
    if (j->flags & KEEL_SAVE_LEAVE_PAUSED)
        return true;
    if (j->flags & KEEL_SAVE_LEAVE_RUNNING)
        return j->was_paused || info->state != KEEL_DOMAIN_PAUSED ||
               recover_unpause(kd, j);
    return recover_destroy(kd, j, "the saved domain");
}

/* A migration within this host: the copy beside the source, if there is
 * one, is dropped or takes over. true: the copy took over. */
static bool
recover_copy(struct keeld *kd, struct jrec *j, bool *ok)
{
    enum keel_local_recovery what;
    uint32_t domid;

    if (keel_domain_migrate_local_recover(kd->host, j->domain, j->uuid,
                                          j->was_paused, &what, &domid)) {
        log_warnx(JLOG_FMT ": its copy on this host: %s", JLOG_ARGS(j),
                  keel_ctx_last_error(kd->ctx));
        keel_ctx_clear_error(kd->ctx);
        *ok = false;
        return false;
    }
    if (what == KEEL_LOCAL_RECOVERY_DROPPED)
        log_info(JLOG_FMT ": destroyed the copy that had not taken over",
                 JLOG_ARGS(j));
    if (what == KEEL_LOCAL_RECOVERY_TOOK_OVER)
        log_info(JLOG_FMT ": the copy had taken over: it is '%s', domain %u",
                 JLOG_ARGS(j), j->domain, domid);
    return what == KEEL_LOCAL_RECOVERY_TOOK_OVER;
}

/* save, migrate_local. true: nothing is left to do. */
static bool
recover_source(struct keeld *kd, struct jrec *j)
{
    bool save = !strcmp(j->kind, "save"), ok = true;
    struct keel_domain_info info;

    /* A copy that could be neither dropped nor made the domain may run:
     * the source stays as it is (never two copies running). */
    if (j->same_host && (recover_copy(kd, j, &ok) || !ok))
        return ok;
    if (!jrec_domain(kd, j, &j->domid, &info)) {
        if (save && j->phase < JP_DONE)
            return recover_unlink(j);
        log_info(JLOG_FMT ": the domain is gone; %s", JLOG_ARGS(j),
                 save ? "the save file is complete: kept"
                      : "nothing to undo (it was migrated)");
        return true;
    }
    ok = recover_logdirty(kd, j);
    if (save && j->phase == JP_SYNCED)
        return finish_save(kd, j, &info) && ok;
    /* On this host the copy is gone by now: the source is the only one. */
    if (!save && !j->same_host && j->phase >= JP_DONE) {
        log_warnx(JLOG_FMT
                  ": left %s: the stream was complete, so it may "
                  "run at the destination now (never two copies running); "
                  "check there before unpausing it",
                  JLOG_ARGS(j), keel_domain_state_name(info.state));
        return ok;
    }
    if (suspended(&info))
        ok = recover_resume(kd, j, j->was_paused) && ok;
    else if (!j->was_paused && info.state == KEEL_DOMAIN_PAUSED)
        ok = recover_unpause(kd, j) && ok;
    if (save)
        ok = recover_unlink(j) && ok;
    return ok;
}

/* restore, migrate_incoming. true: nothing is left to do. */
static bool
recover_built(struct keeld *kd, struct jrec *j)
{
    bool incoming = j->kind[0] == 'm';
    struct keel_domain_info info;

    if (!j->has_dom) {
        log_warnx("%s: job %" PRIu64 " (%s): killed before the new domain "
                  "was recorded; if one was built, it is left paused",
                  __func__, j->id, j->kind);
        return true;
    }
    if (!jrec_domain(kd, j, &j->domid, &info)) {
        log_info(JLOG_FMT ": the domain it built is gone; nothing to undo",
                 JLOG_ARGS(j));
        return true;
    }
    if (incoming && info.state == KEEL_DOMAIN_RUNNING) {
        log_info(JLOG_FMT ": it runs, so it was handed over: kept",
                 JLOG_ARGS(j));
        return true;
    }
    if (j->phase < JP_DONE)
        return recover_destroy(kd, j, "the half-built domain");
    if (incoming) {
        log_warnx(JLOG_FMT
                  ": left paused: the stream was complete, so the "
                  "sender may have handed it over and dropped its copy; "
                  "check there before destroying or unpausing it",
                  JLOG_ARGS(j));
        return true;
    }
    log_info(JLOG_FMT ": the stream was complete: finishing the restore",
             JLOG_ARGS(j));
    if ((j->flags & KEEL_RESTORE_PAUSED) || info.state != KEEL_DOMAIN_PAUSED)
        return true;
    return recover_unpause(kd, j);
}

/* One leftover journal: undo or finish its job, then remove it. */
static void
recover_one(struct keeld *kd, const char *path, uint64_t id)
{
    struct jrec j;
    char why[256];
    bool done;
    int r;

    if (jrec_read(path, id, &j, why, sizeof(why))) {
        log_warnx("%s: %s: %s; left in place (nothing is guessed from it)",
                  __func__, path, why);
        free(j.file);
        return;
    }
    log_info("%s: job %" PRIu64 " (%s '%s') was cut short at phase %s",
             __func__, j.id, j.kind, j.domain, kd_journal_phase_names[j.phase]);
    if (!strcmp(j.kind, "save") || !strcmp(j.kind, "migrate_local"))
        done = recover_source(kd, &j);
    else
        done = recover_built(kd, &j);
    free(j.file);
    if (!done) {
        log_warnx("%s: job %" PRIu64 ": %s kept, to be tried again at the "
                  "next start",
                  __func__, id, path);
        return;
    }
    r = kd_unlink_durable(path);
    if (r)
        log_warnx("%s: removing %s: %s", __func__, path, strerror(-r));
}

/* "<id>.json" (*tmp_r false) or kd_write_atomic's "<id>.json.XXXXXX"
 * (*tmp_r true); anything else is not a journal. */
static bool
journal_name(const char *name, uint64_t *id_r, bool *tmp_r)
{
    size_t n = strspn(name, "0123456789");

    if (n == 0 || n > 19 || strncmp(name + n, ".json", 5))
        return false;
    *tmp_r = name[n + 5] != '\0';
    if (*tmp_r && (name[n + 5] != '.' || strlen(name + n + 6) != 6))
        return false;
    *id_r = strtoull(name, NULL, 10);
    return true;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The journals' ids, sorted, into a new array; stray temporary files
 * (a write cut short: the journal before it stands) are removed. Job ids
 * start above every one seen, so no new job writes over a journal left
 * in place. */
static int
journal_list(const char *jdir, uint64_t *next_id, uint64_t **ids_r, size_t *n_r)
{
    uint64_t *ids = NULL, *grown, id;
    size_t n = 0, cap = 0;
    struct dirent *de;
    char path[4096];
    bool tmp;
    DIR *dir = opendir(jdir);

    if (!dir)
        return -errno;
    while ((de = readdir(dir))) {
        if (!journal_name(de->d_name, &id, &tmp))
            continue;
        if (id > *next_id)
            *next_id = id;
        snprintf(path, sizeof(path), "%s/%s", jdir, de->d_name);
        if (tmp) {
            (void)unlink(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            if (!(grown = realloc(ids, cap * sizeof(*ids)))) {
                free(ids);
                closedir(dir);
                return -ENOMEM;
            }
            ids = grown;
        }
        ids[n++] = id;
    }
    closedir(dir);
    if (n)
        qsort(ids, n, sizeof(*ids), cmp_u64);
    *ids_r = ids;
    *n_r = n;
    return 0;
}

int
kd_jobs_recover(struct keeld *kd, const char *jdir, uint64_t *next_id)
{
    uint64_t *ids = NULL;
    size_t n = 0, i;
    char path[4096];
    int r = journal_list(jdir, next_id, &ids, &n);

    if (r) {
        log_err("%s: reading %s: %s", __func__, jdir, strerror(-r));
        return r;
    }
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%" PRIu64 ".json", jdir, ids[i]);
        recover_one(kd, path, ids[i]);
    }
    free(ids);
    return 0;
}
