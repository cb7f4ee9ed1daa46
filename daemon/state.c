/* state.c: defined (persistent) domains and autostart, on disk; and the
 * list of domains keel did not create (domain.unmanaged)
 *
 * A defined domain is one keeld remembers while it does not run, as
 * libvirt's persistent domains: STATE_DIR/defined/<uuid>.json holds
 *
 *   {"autostart":false,"config":{...libxl JSON, as domain.get_config...}}
 *
 * Checklist when changing this format: state_encode() and state_decode()
 * here, tests/unit/test-keeld-state.c, and what an older keeld does with
 * a newer file: a file keeld cannot read is logged with its path and
 * skipped, never deleted, so nothing is lost across versions.
 *
 * The uuid names the file and matches a definition to a running domain;
 * names come second. The config is kept as the user gave it plus its
 * uuid: the defaults are filled on a copy only to check it and to draw
 * the uuid, so get_config and a later create see what the user wrote.
 *
 * Locking: two mutexes. io serialises the changes (define, undefine,
 * set_autostart), each of which writes (or removes) a file and then
 * changes the list; lock guards the list and is held only for memory
 * operations, never across a file write or a libkeel call, so
 * kd_state_is_defined() (asked for every domain in domain.list, maybe
 * from the loop) never waits on a disk. Order: io, then libkeel's host
 * lock (through its calls), then lock.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/config.h>

#include "keeld.h"

/* A defined file larger than this is damaged (a config is at most
 * KEEL_CONFIG_MAX_SIZE as text; JSON adds little). */
#define STATE_FILE_MAX (2 * KEEL_CONFIG_MAX_SIZE)

struct state_dom {
    uint8_t uuid[16];
    char name[KEEL_NAME_MAX + 1];
    bool autostart;
    struct keel_domain_config cfg; /* as defined, with its uuid */
    struct state_dom *next;
};

struct kd_state {
    pthread_mutex_t io;   /* changes, one at a time */
    pthread_mutex_t lock; /* doms */
    char *dir;            /* STATE_DIR/defined */
    struct state_dom *doms;
};

/* --- files --- */

int
kd_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    ssize_t r;

    while (len > 0) {
        r = write(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* fsyncs the directory holding path, so a rename or unlink in it lasts. */
static int
fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, r = 0;

    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return -ENOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd))
        r = -errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    return r;
}

/* The temporary file is PATH.XXXXXX, mode 0600, in path's directory so
 * the rename cannot cross file systems; a crash leaves at worst a stray
 * temporary file, never a half-written path. */
int
kd_write_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = NULL;
    bool renamed = false;
    int fd = -1, r;

    if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
        return -ENOMEM;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    r = kd_write_all(fd, data, len);
    if (r == 0 && fsync(fd))
        r = -errno;
    if (close(fd) && r == 0 && errno != EINTR)
        r = -errno;
    if (r == 0 && rename(tmp, path))
        r = -errno;
    renamed = r == 0;
    if (r == 0)
        r = fsync_parent(path);
    if (!renamed)
        unlink(tmp);
out:
    free(tmp);
    return r;
}

int
kd_unlink_durable(const char *path)
{
    if (unlink(path) && errno != ENOENT)
        return -errno;
    return fsync_parent(path);
}

int
kd_read_file(const char *path, size_t max, char **buf_r, size_t *len_r)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, r = 0;

    *buf_r = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb))
        r = -errno;
    else if (!S_ISREG(sb.st_mode))
        r = -EINVAL;
    else if ((uint64_t)sb.st_size > max)
        r = -EFBIG;
    else if (!(buf = malloc((size_t)sb.st_size + 1)))
        r = -ENOMEM;
    while (r == 0 && len < (size_t)sb.st_size) {
        n = read(fd, buf + len, (size_t)sb.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO; /* shrank under us */
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (r) {
        free(buf);
        return r;
    }
    buf[len] = '\0';
    *buf_r = buf;
    *len_r = len;
    return 0;
}

static char *
state_path(const struct kd_state *st, const uint8_t uuid[16])
{
    char u[37], *path;

    keel_uuid_format(uuid, u);
    if (asprintf(&path, "%s/%s.json", st->dir, u) < 0)
        return NULL;
    return path;
}

/* The file's text for cfg. 0 or a keel_err (recorded on ctx). */
static int
state_encode(struct keel_ctx *ctx, bool autostart,
             const struct keel_domain_config *cfg, char **text_r, size_t *len_r)
{
    char *json = NULL;
    size_t n;
    int rc, r;

    *text_r = NULL;
    rc = keel_domain_config_write(ctx, KEEL_CONFIG_JSON, cfg, 0, &json);
    if (rc)
        return rc;
    n = strlen(json);
    while (n > 0 && (json[n - 1] == '\n' || json[n - 1] == ' '))
        n--;
    r = asprintf(text_r, "{\"autostart\":%s,\"config\":%.*s}\n",
                 autostart ? "true" : "false", (int)n, json);
    free(json);
    if (r < 0) {
        *text_r = NULL;
        return KEEL_ENOMEM;
    }
    *len_r = (size_t)r;
    return 0;
}

/* Reads a libxl JSON config from a parsed value. what names it in
 * messages. 0 or a keel_err (recorded on ctx). */
static int
config_from_value(struct keel_ctx *ctx, yajl_val v, const char *what,
                  struct keel_domain_config *cfg)
{
    yajl_gen g = kd_gen_new();
    const unsigned char *buf;
    size_t len;
    int rc;

    if (!g)
        return KEEL_ENOMEM;
    kd_gen_value(g, v);
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        rc = KEEL_ENOMEM;
    else
        rc = keel_domain_config_read(ctx, KEEL_CONFIG_JSON, what,
                                     (const char *)buf, len, NULL, 0, cfg);
    yajl_gen_free(g);
    return rc;
}

/* A new entry from a file's text, or NULL after writing why into why. */
static struct state_dom *
state_decode(struct keeld *kd, const char *path, const char *text,
             const uint8_t uuid[16], char *why, size_t why_len)
{
    const char *k_auto[] = {"autostart", NULL}; /* yajl wants no const */
    const char *k_cfg[] = {"config", NULL};
    struct state_dom *d = NULL;
    yajl_val root, a = NULL, c = NULL;
    char err[256];

    root = yajl_tree_parse(text, err, sizeof(err));
    if (root) {
        a = yajl_tree_get(root, k_auto, yajl_t_any);
        c = yajl_tree_get(root, k_cfg, yajl_t_object);
    }
    if (!root)
        snprintf(why, why_len, "not JSON: %s", err);
    else if (!YAJL_IS_OBJECT(root) || !c ||
             !(YAJL_IS_TRUE(a) || YAJL_IS_FALSE(a)))
        snprintf(why, why_len,
                 "expected {\"autostart\":bool,\"config\":{...}}");
    else if (!(d = calloc(1, sizeof(*d))))
        snprintf(why, why_len, "out of memory");
    if (!d)
        goto out;
    keel_domain_config_init(&d->cfg);
    d->autostart = YAJL_IS_TRUE(a);
    if (config_from_value(kd->ctx, c, path, &d->cfg))
        snprintf(why, why_len, "%s", keel_ctx_last_error(kd->ctx));
    else if (memcmp(d->cfg.uuid, uuid, 16))
        snprintf(why, why_len, "the config's uuid is not the file's");
    else if (!d->cfg.name || strlen(d->cfg.name) > KEEL_NAME_MAX)
        snprintf(why, why_len, "the config has no valid name");
    else
        goto ok;
    keel_domain_config_dispose(&d->cfg);
    free(d);
    d = NULL;
    goto out;
ok:
    memcpy(d->uuid, uuid, 16);
    snprintf(d->name, sizeof(d->name), "%s", d->cfg.name);
out:
    yajl_tree_free(root);
    return d;
}

static void
state_dom_free(struct state_dom *d)
{
    if (!d)
        return;
    keel_domain_config_dispose(&d->cfg);
    free(d);
}

/* --- the list (lock held) --- */

static struct state_dom *
find_uuid(struct kd_state *st, const uint8_t uuid[16])
{
    struct state_dom *d;

    for (d = st->doms; d; d = d->next)
        if (!memcmp(d->uuid, uuid, 16))
            return d;
    return NULL;
}

static struct state_dom *
find_name(struct kd_state *st, const char *name)
{
    struct state_dom *d;

    for (d = st->doms; d; d = d->next)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

/* A defined domain by name or uuid text. */
static struct state_dom *
find_key(struct kd_state *st, const char *key)
{
    uint8_t uuid[16];
    struct state_dom *d = find_name(st, key);

    if (!d && keel_uuid_parse(key, uuid) == 0)
        d = find_uuid(st, uuid);
    return d;
}

/* Puts d in the list, in place of old (freed) when old is set. */
static void
list_put(struct kd_state *st, struct state_dom *d, struct state_dom *old)
{
    struct state_dom **pp;

    for (pp = &st->doms; *pp && *pp != old; pp = &(*pp)->next)
        ;
    d->next = old ? old->next : NULL;
    *pp = d;
    state_dom_free(old);
}

static void
list_remove(struct kd_state *st, struct state_dom *d)
{
    struct state_dom **pp;

    for (pp = &st->doms; *pp && *pp != d; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = d->next;
    state_dom_free(d);
}

/* --- loading and autostart --- */

/* Loads one directory entry; anything but <uuid>.json is not ours. */
static void
state_load_one(struct keeld *kd, const char *file)
{
    struct kd_state *st = kd->state;
    struct state_dom *d = NULL;
    char *path = NULL, *text = NULL, uuid_text[37], why[512];
    uint8_t uuid[16];
    size_t len;
    int r;

    if (strlen(file) != 41 || strcmp(file + 36, ".json"))
        return;
    snprintf(uuid_text, sizeof(uuid_text), "%.36s", file);
    if (keel_uuid_parse(uuid_text, uuid))
        return;
    if (asprintf(&path, "%s/%s", st->dir, file) < 0) {
        log_err("%s: out of memory", __func__);
        return;
    }
    r = kd_read_file(path, STATE_FILE_MAX, &text, &len);
    if (r)
        snprintf(why, sizeof(why), "%s", strerror(-r));
    else if (strlen(text) != len)
        snprintf(why, sizeof(why), "holds a NUL byte");
    else if ((d = state_decode(kd, path, text, uuid, why, sizeof(why))) &&
             find_name(st, d->name)) {
        snprintf(why, sizeof(why), "the name '%s' is defined by another file",
                 d->name);
        state_dom_free(d);
        d = NULL;
    }
    if (d) {
        d->next = st->doms;
        st->doms = d;
    } else {
        log_warnx("%s: %s: %s; skipped (the file is left as it is)", __func__,
                  path, why);
    }
    keel_ctx_clear_error(kd->ctx);
    free(text);
    free(path);
}

static int
state_load(struct keeld *kd)
{
    struct kd_state *st = kd->state;
    struct dirent *de;
    DIR *dir;

    if (mkdir(st->dir, 0750) && errno != EEXIST) {
        log_err("%s: creating %s: %s", __func__, st->dir, strerror(errno));
        return -errno;
    }
    dir = opendir(st->dir);
    if (!dir) {
        log_err("%s: opening %s: %s", __func__, st->dir, strerror(errno));
        return -errno;
    }
    while ((de = readdir(dir)))
        state_load_one(kd, de->d_name);
    closedir(dir);
    return 0;
}

static bool
uuid_in(const struct keel_domain_info *infos, size_t n, const uint8_t uuid[16])
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!memcmp(infos[i].uuid, uuid, 16))
            return true;
    return false;
}

/* Starts every autostart domain that does not run; a failure is logged
 * and the others still start. Init is single-threaded: no locks. */
static void
state_autostart(struct keeld *kd)
{
    struct keel_domain_info *infos = NULL;
    struct state_dom *d;
    uint32_t domid;
    size_t n = 0;
    int rc;

    rc = keel_domain_list(kd->host, &infos, &n);
    if (rc) {
        log_warnx("%s: listing domains: %s; no domain autostarted", __func__,
                  keel_ctx_last_error(kd->ctx));
        return;
    }
    for (d = kd->state->doms; d; d = d->next) {
        if (!d->autostart || uuid_in(infos, n, d->uuid))
            continue;
        rc = keel_domain_create(kd->host, &d->cfg, 0, &domid);
        if (rc)
            log_warnx("%s: starting '%s': %s", __func__, d->name,
                      keel_ctx_last_error(kd->ctx));
        else
            log_info("%s: started '%s' as domain %u", __func__, d->name, domid);
    }
    keel_ctx_clear_error(kd->ctx);
    free(infos);
}

int
kd_state_init(struct keeld *kd)
{
    struct kd_state *st = calloc(1, sizeof(*st));
    int r;

    if (!st || asprintf(&st->dir, "%s/defined", kd->opts.state_dir) < 0) {
        free(st);
        log_err("%s: out of memory", __func__);
        return -ENOMEM;
    }
    pthread_mutex_init(&st->io, NULL);
    pthread_mutex_init(&st->lock, NULL);
    kd->state = st;
    r = state_load(kd);
    if (r == 0)
        state_autostart(kd);
    return r;
}

void
kd_state_fini(struct keeld *kd)
{
    struct kd_state *st = kd->state;
    struct state_dom *d;

    if (!st)
        return;
    while ((d = st->doms)) {
        st->doms = d->next;
        state_dom_free(d);
    }
    pthread_mutex_destroy(&st->io);
    pthread_mutex_destroy(&st->lock);
    free(st->dir);
    free(st);
    kd->state = NULL;
}

bool
kd_state_is_defined(struct keeld *kd, const uint8_t uuid[16], bool *autostart_r)
{
    struct kd_state *st = kd->state;
    struct state_dom *d;
    bool found, autostart = false;

    if (!st)
        return false;
    pthread_mutex_lock(&st->lock);
    d = find_uuid(st, uuid);
    found = d != NULL;
    if (d)
        autostart = d->autostart;
    pthread_mutex_unlock(&st->lock);
    if (autostart_r)
        *autostart_r = autostart;
    return found;
}

/* --- helpers for the methods --- */

/* The running domain with this uuid, or KEEL_DOMID_INVALID. */
static uint32_t
running_domid(struct keeld *kd, const uint8_t uuid[16])
{
    char u[37];
    uint32_t domid;

    keel_uuid_format(uuid, u);
    if (keel_domain_lookup(kd->host, u, &domid)) {
        keel_ctx_clear_error(kd->ctx);
        return KEEL_DOMID_INVALID;
    }
    return domid;
}

/* The running domain called name, or KEEL_DOMID_INVALID. A name is never
 * all digits (keel_domain_rename), so it is not taken for a domid. */
static uint32_t
running_named(struct keeld *kd, const char *name, uint8_t uuid_r[16])
{
    struct keel_domain_info info;
    uint32_t domid;

    if (keel_domain_lookup(kd->host, name, &domid) ||
        keel_domain_info(kd->host, domid, &info) || strcmp(info.name, name)) {
        keel_ctx_clear_error(kd->ctx);
        return KEEL_DOMID_INVALID;
    }
    memcpy(uuid_r, info.uuid, 16);
    return domid;
}

/* Writes a defined file (io is held). 0 or the error set on c. */
static int
state_store(struct kd_call *c, const uint8_t uuid[16], bool autostart,
            const struct keel_domain_config *cfg)
{
    char *path = state_path(c->kd->state, uuid), *text = NULL;
    size_t len = 0;
    int rc, r;

    if (!path)
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    rc = state_encode(c->kd->ctx, autostart, cfg, &text, &len);
    if (rc) {
        free(path);
        return kd_fail_keel(c, rc);
    }
    r = kd_write_atomic(path, text, len);
    if (r)
        kd_fail(c, r, "writing %s: %s", path, strerror(-r));
    free(text);
    free(path);
    return r;
}

static bool
uuid_is_null(const uint8_t uuid[16])
{
    static const uint8_t zero[16];

    return !memcmp(uuid, zero, 16);
}

/* Checks cfg as a create would (defaults on a copy) and gives it a
 * uuid: a running domain's of the same name (so defining what was
 * created makes it persistent, as virsh define does with its XML), else
 * the one the defaults drew. */
static int
define_check(struct kd_call *c, struct keel_domain_config *cfg)
{
    struct keel_domain_config tmp;
    uint8_t uuid[16];
    int rc;

    if (uuid_is_null(cfg->uuid) && cfg->name &&
        running_named(c->kd, cfg->name, uuid) != KEEL_DOMID_INVALID)
        memcpy(cfg->uuid, uuid, 16);
    keel_domain_config_init(&tmp);
    rc = keel_domain_config_copy(c->kd->ctx, &tmp, cfg);
    if (rc == 0)
        rc = keel_domain_config_set_defaults(c->kd->ctx, &tmp, 0);
    if (rc == 0)
        memcpy(cfg->uuid, tmp.uuid, 16);
    keel_domain_config_dispose(&tmp);
    return rc ? kd_fail_keel(c, rc) : 0;
}

/* Refuses a name another definition or a running domain holds with
 * another uuid, and a uuid defined under another name (virsh define
 * does not rename). *replaces_r: a definition of cfg's uuid exists, and
 * *autostart_r its autostart (untouched otherwise). io is held. */
static int
define_conflicts(struct kd_call *c, const struct keel_domain_config *cfg,
                 bool *replaces_r, bool *autostart_r)
{
    struct kd_state *st = c->kd->state;
    struct state_dom *old, *other;
    char u[37], old_name[KEEL_NAME_MAX + 1] = "";
    uint8_t ruuid[16];

    pthread_mutex_lock(&st->lock);
    old = find_uuid(st, cfg->uuid);
    other = find_name(st, cfg->name);
    if (old) {
        snprintf(old_name, sizeof(old_name), "%s", old->name);
        *autostart_r = old->autostart;
    }
    *replaces_r = old != NULL;
    pthread_mutex_unlock(&st->lock);
    keel_uuid_format(cfg->uuid, u);
    if (other && other != old)
        return kd_fail(c, KEEL_EEXIST,
                       "domain '%s' is already defined with another uuid",
                       cfg->name);
    if (old && strcmp(old_name, cfg->name))
        return kd_fail(c, KEEL_EEXIST, "uuid %s is already defined as '%s'", u,
                       old_name);
    if (running_named(c->kd, cfg->name, ruuid) != KEEL_DOMID_INVALID &&
        memcmp(ruuid, cfg->uuid, 16))
        return kd_fail(c, KEEL_EEXIST,
                       "a running domain is called '%s' with another uuid",
                       cfg->name);
    return 0;
}

static void
gen_name_uuid(yajl_gen g, const char *name, const uint8_t uuid[16])
{
    char u[37];

    keel_uuid_format(uuid, u);
    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "name", name);
    kd_gen_kv_str(g, "uuid", u);
    yajl_gen_map_close(g);
}

/* --- the methods --- */

/* Writes the file, then swaps the entry in; cfg is taken (left empty).
 * *replaces_r: it replaced a definition of the same uuid. */
static int
define_commit(struct kd_call *c, struct keel_domain_config *cfg,
              bool *replaces_r)
{
    struct kd_state *st = c->kd->state;
    struct state_dom *d = calloc(1, sizeof(*d));
    bool autostart = false;
    int rc;

    if (!d)
        return kd_fail(c, KEEL_ENOMEM, "out of memory");
    pthread_mutex_lock(&st->io);
    rc = define_conflicts(c, cfg, replaces_r, &autostart);
    if (rc == 0)
        rc = state_store(c, cfg->uuid, autostart, cfg);
    if (rc == 0) {
        memcpy(d->uuid, cfg->uuid, 16);
        snprintf(d->name, sizeof(d->name), "%s", cfg->name);
        d->autostart = autostart;
        d->cfg = *cfg;
        keel_domain_config_init(cfg);
        pthread_mutex_lock(&st->lock);
        list_put(st, d, find_uuid(st, d->uuid));
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&st->io);
    if (rc)
        free(d);
    return rc;
}

int
kd_state_define(struct kd_call *c, struct keel_domain_config *cfg,
                char name_r[KEEL_NAME_MAX + 1], uint8_t uuid_r[16])
{
    bool replaces = false;
    int rc;

    rc = define_check(c, cfg);
    if (rc == 0) {
        snprintf(name_r, KEEL_NAME_MAX + 1, "%s", cfg->name);
        memcpy(uuid_r, cfg->uuid, 16);
        rc = define_commit(c, cfg, &replaces);
    }
    if (rc)
        return rc;
    log_info("%s: %s '%s'", __func__, replaces ? "redefined" : "defined",
             name_r);
    kd_events_post(c->kd, "defined", running_domid(c->kd, uuid_r), uuid_r,
                   name_r, replaces ? "updated" : "added");
    return 0;
}

static int
state_define(struct kd_call *c)
{
    static const char *const names[] = {"config", "config_text", "format",
                                        "overrides", NULL};
    struct keel_domain_config cfg;
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    int rc;

    keel_domain_config_init(&cfg);
    rc = kd_params_only(c, names);
    if (rc == 0)
        rc = kd_param_config(c, &cfg);
    if (rc == 0)
        rc = kd_state_define(c, &cfg, name, uuid);
    keel_domain_config_dispose(&cfg);
    if (rc)
        return rc;
    gen_name_uuid(c->g, name, uuid);
    return 0;
}

bool
kd_state_lookup(struct keeld *kd, const char *key, const uint8_t *uuid,
                uint8_t uuid_r[16], char name_r[KEEL_NAME_MAX + 1],
                bool *autostart_r)
{
    struct kd_state *st = kd->state;
    struct state_dom *d;

    if (!st)
        return false;
    pthread_mutex_lock(&st->lock);
    d = uuid ? find_uuid(st, uuid) : find_key(st, key);
    if (d) {
        memcpy(uuid_r, d->uuid, 16);
        snprintf(name_r, KEEL_NAME_MAX + 1, "%s", d->name);
        if (autostart_r)
            *autostart_r = d->autostart;
    }
    pthread_mutex_unlock(&st->lock);
    return d != NULL;
}

/* A defined domain's uuid and name by the "domain" param. */
static int
param_defined(struct kd_call *c, uint8_t uuid_r[16], char *name_r)
{
    const char *key = NULL;
    int rc = kd_param_str(c, "domain", true, &key, NULL);

    if (rc)
        return rc;
    if (!kd_state_lookup(c->kd, key, NULL, uuid_r, name_r, NULL))
        return kd_fail(c, KEEL_ENODOMAIN, "no defined domain '%s'", key);
    return 0;
}

int
kd_state_config(struct kd_call *c, const uint8_t uuid[16], const char *name,
                struct keel_domain_config *cfg)
{
    struct kd_state *st = c->kd->state;
    struct state_dom *d;
    int rc;

    pthread_mutex_lock(&st->lock);
    d = find_uuid(st, uuid);
    rc = d ? keel_domain_config_copy(c->kd->ctx, cfg, &d->cfg) : KEEL_ENODOMAIN;
    pthread_mutex_unlock(&st->lock);
    if (rc == KEEL_ENODOMAIN)
        return kd_fail(c, rc, "'%s' was undefined meanwhile", name);
    return rc ? kd_fail_keel(c, rc) : 0;
}

int
kd_state_undefine(struct kd_call *c, const uint8_t uuid[16], const char *name)
{
    struct kd_state *st = c->kd->state;
    struct state_dom *d;
    char *path = NULL;
    int rc = 0, r = 0;

    pthread_mutex_lock(&st->io);
    if (!(path = state_path(st, uuid)))
        r = -ENOMEM;
    else if (unlink(path) && errno != ENOENT)
        r = -errno;
    else
        r = fsync_parent(path);
    if (r == 0) {
        pthread_mutex_lock(&st->lock);
        if ((d = find_uuid(st, uuid)))
            list_remove(st, d);
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&st->io);
    if (r)
        rc = kd_fail(c, r, "removing %s: %s", path ? path : name, strerror(-r));
    free(path);
    if (rc)
        return rc;
    log_info("%s: undefined '%s'", __func__, name);
    kd_events_post(c->kd, "undefined", running_domid(c->kd, uuid), uuid, name,
                   "removed");
    return 0;
}

static int
state_undefine(struct kd_call *c)
{
    static const char *const names[] = {"domain", NULL};
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    int rc;

    rc = kd_params_only(c, names);
    if (rc == 0)
        rc = param_defined(c, uuid, name);
    if (rc == 0)
        rc = kd_state_undefine(c, uuid, name);
    return rc ? rc : kd_ok(c);
}

int
kd_state_start(struct kd_call *c, const uint8_t uuid[16], const char *name,
               bool paused, uint32_t *domid_r)
{
    struct keel_domain_config cfg;
    uint32_t domid = KEEL_DOMID_INVALID;
    int rc;

    keel_domain_config_init(&cfg);
    rc = kd_state_config(c, uuid, name, &cfg);
    if (rc == 0)
        domid = running_domid(c->kd, uuid);
    if (rc == 0 && domid != KEEL_DOMID_INVALID)
        rc = kd_fail(c, KEEL_ESTATE, "domain '%s' is already running (id %u)",
                     name, domid);
    if (rc == 0) {
        rc = keel_domain_create(c->kd->host, &cfg,
                                paused ? KEEL_DOMAIN_CREATE_PAUSED : 0, &domid);
        if (rc)
            rc = kd_fail_keel(c, rc);
    }
    keel_domain_config_dispose(&cfg);
    *domid_r = domid;
    return rc;
}

static int
state_start(struct kd_call *c)
{
    static const char *const names[] = {"domain", "paused", NULL};
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    uint32_t domid = KEEL_DOMID_INVALID;
    bool paused = false;
    int rc;

    rc = kd_params_only(c, names);
    if (rc == 0)
        rc = kd_param_bool(c, "paused", false, &paused, NULL);
    if (rc == 0)
        rc = param_defined(c, uuid, name);
    if (rc == 0)
        rc = kd_state_start(c, uuid, name, paused, &domid);
    if (rc)
        return rc;
    yajl_gen_map_open(c->g);
    kd_gen_kv_int(c->g, "domid", domid);
    yajl_gen_map_close(c->g);
    return 0;
}

int
kd_state_snapshot(struct keeld *kd, struct kd_defined **rows_r, size_t *n_r)
{
    struct kd_state *st = kd->state;
    struct kd_defined *rows = NULL;
    struct state_dom *d;
    size_t n = 0, i = 0;

    pthread_mutex_lock(&st->lock);
    for (d = st->doms; d; d = d->next)
        n++;
    if (n && !(rows = calloc(n, sizeof(*rows)))) {
        pthread_mutex_unlock(&st->lock);
        return KEEL_ENOMEM;
    }
    for (d = st->doms; d; d = d->next, i++) {
        memcpy(rows[i].name, d->name, sizeof(d->name));
        memcpy(rows[i].uuid, d->uuid, 16);
        rows[i].autostart = d->autostart;
    }
    pthread_mutex_unlock(&st->lock);
    *rows_r = rows;
    *n_r = n;
    return 0;
}

static int
state_list_defined(struct kd_call *c)
{
    static const char *const names[] = {NULL};
    struct kd_defined *rows = NULL;
    uint32_t domid;
    size_t n = 0, i;
    char u[37];
    int rc;

    rc = kd_params_only(c, names);
    if (rc == 0 && kd_state_snapshot(c->kd, &rows, &n))
        rc = kd_fail(c, KEEL_ENOMEM, "out of memory");
    if (rc)
        return rc;
    yajl_gen_array_open(c->g);
    for (i = 0; i < n; i++) {
        domid = running_domid(c->kd, rows[i].uuid);
        keel_uuid_format(rows[i].uuid, u);
        yajl_gen_map_open(c->g);
        kd_gen_kv_str(c->g, "name", rows[i].name);
        kd_gen_kv_str(c->g, "uuid", u);
        kd_gen_kv_bool(c->g, "autostart", rows[i].autostart);
        kd_gen_kv_bool(c->g, "active", domid != KEEL_DOMID_INVALID);
        kd_gen_str(c->g, "domid");
        if (domid == KEEL_DOMID_INVALID)
            yajl_gen_null(c->g);
        else
            yajl_gen_integer(c->g, domid);
        yajl_gen_map_close(c->g);
    }
    yajl_gen_array_close(c->g);
    free(rows);
    return 0;
}

int
kd_state_set_autostart(struct kd_call *c, const uint8_t uuid[16],
                       const char *name, bool autostart)
{
    struct kd_state *st = c->kd->state;
    struct keel_domain_config cfg;
    int rc;

    keel_domain_config_init(&cfg);
    pthread_mutex_lock(&st->io);
    rc = kd_state_config(c, uuid, name, &cfg);
    if (rc == 0)
        rc = state_store(c, uuid, autostart, &cfg);
    if (rc == 0) {
        /* io is held: the entry is still there */
        pthread_mutex_lock(&st->lock);
        find_uuid(st, uuid)->autostart = autostart;
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&st->io);
    keel_domain_config_dispose(&cfg);
    return rc;
}

static int
state_set_autostart(struct kd_call *c)
{
    static const char *const names[] = {"domain", "autostart", NULL};
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    bool autostart = false;
    int rc;

    rc = kd_params_only(c, names);
    if (rc == 0)
        rc = kd_param_bool(c, "autostart", true, &autostart, NULL);
    if (rc == 0)
        rc = param_defined(c, uuid, name);
    if (rc == 0)
        rc = kd_state_set_autostart(c, uuid, name, autostart);
    return rc ? rc : kd_ok(c);
}

/* Domains keel did not create: those libkeel adopted when a host was
 * opened (found running without a record: made by another toolstack, or
 * while no keel ran; keel_domain_info's adopted, which lasts across
 * restarts), and those with no record at all (made behind keel's back
 * while this host is open: the next open adopts them). Domain-0 is never
 * listed, nor a domain with no record that is dying (keel's own, just
 * destroyed, look the same). */
static bool
unmanaged(struct keeld *kd, const struct keel_domain_info *info,
          struct keel_domain_config *cfg)
{
    if (info->domid == 0)
        return false;
    if (info->adopted)
        return true;
    return info->state != KEEL_DOMAIN_DYING &&
           keel_domain_config_get(kd->host, info->domid, cfg) == KEEL_ENODOMAIN;
}

static int
state_unmanaged(struct kd_call *c)
{
    static const char *const names[] = {NULL};
    struct keel_domain_info *infos = NULL;
    struct keel_domain_config cfg;
    size_t n = 0, i;
    char u[37];
    int rc;

    rc = kd_params_only(c, names);
    if (rc)
        return rc;
    rc = keel_domain_list(c->kd->host, &infos, &n);
    if (rc)
        return kd_fail_keel(c, rc);
    keel_domain_config_init(&cfg);
    yajl_gen_array_open(c->g);
    for (i = 0; i < n; i++) {
        if (!unmanaged(c->kd, &infos[i], &cfg))
            continue;
        keel_uuid_format(infos[i].uuid, u);
        yajl_gen_map_open(c->g);
        kd_gen_kv_int(c->g, "domid", infos[i].domid);
        kd_gen_kv_str(c->g, "uuid", u);
        kd_gen_kv_str(c->g, "name", infos[i].name);
        kd_gen_kv_bool(c->g, "adopted", infos[i].adopted);
        yajl_gen_map_close(c->g);
    }
    yajl_gen_array_close(c->g);
    keel_domain_config_dispose(&cfg);
    keel_ctx_clear_error(c->kd->ctx);
    free(infos);
    return 0;
}

const struct kd_method kd_methods_state[] = {
    {"domain.define", state_define, KD_M_WRITE},
    {"domain.undefine", state_undefine, KD_M_WRITE},
    {"domain.start", state_start, KD_M_WRITE},
    {"domain.list_defined", state_list_defined, 0},
    {"domain.set_autostart", state_set_autostart, KD_M_WRITE},
    {"domain.unmanaged", state_unmanaged, 0},
    {NULL, NULL, 0},
};
