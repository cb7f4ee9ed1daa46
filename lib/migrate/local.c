/* local.c: live migration within one host
 *
 * A sender and a receiver as between two hosts, joined by a socket pair:
 * the receiver runs on a thread of its own, the sender on the caller's.
 * While both domains exist the copy is NAME--incoming under a temporary
 * uuid, so the host's tables, files and store never hold two domains by
 * one name or uuid; once the sender has destroyed the source, the copy is
 * given both back (keel__dom_rekey). A process that dies in between
 * leaves both, or the copy alone under its temporary name:
 * keel_domain_migrate_local_recover puts that right afterwards.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate-internal.h"

struct incoming {
    struct keel_host *host;
    int fd;
    struct keel_restore_opts opts;
    uint8_t uuid[16];
    uint32_t domid;
    int rc;
    char *err; /* the thread's error message (per-thread in the context) */
};

static void *
incoming_main(void *arg)
{
    struct incoming *in = arg;

    in->rc = keel__mig_receive(in->host, in->fd, in->fd, &in->opts, in->uuid,
                               &in->domid);
    if (in->rc)
        in->err = strdup(keel_ctx_last_error(in->host->ctx));
    /* Whatever happened, the sender must not wait for us. */
    (void)shutdown(in->fd, SHUT_RDWR);
    return NULL;
}

/* The name the copy has while both domains exist. */
static void
copy_name(const char *name, char *copy, size_t len)
{
    snprintf(copy, len, "%.100s--incoming", name);
}

/* The source's name and uuid, and a name for the copy. */
static int
prepare(struct keel_host *host, uint32_t domid, char *name, size_t len,
        char *copy, size_t copy_len, uint8_t uuid[16])
{
    struct keel__dom *d;
    int rc;

    pthread_mutex_lock(&host->lock);
    rc = keel__dom_check(host, domid, "migration", KEEL__ST_LIVE, false, &d,
                         NULL);
    if (rc == 0) {
        snprintf(name, len, "%s", d->cfg.name);
        copy_name(d->cfg.name, copy, copy_len);
        memcpy(uuid, d->uuid, 16);
        if (keel__dom_by_name(host, copy))
            rc = keel_error(host->ctx, KEEL_EEXIST,
                            "a domain named '%s' exists: is a migration of "
                            "'%s' already under way?",
                            copy, name);
    }
    pthread_mutex_unlock(&host->lock);
    return rc;
}

/* The copy takes the source's name and uuid. */
static int
take_over(struct keel_host *host, uint32_t domid, const char *name,
          const uint8_t uuid[16])
{
    struct keel__dom *d;
    int rc;

    pthread_mutex_lock(&host->lock);
    d = keel__dom_find(host, domid);
    if (!d)
        rc = keel_error(host->ctx, KEEL_ENODOMAIN,
                        "the migrated copy (domain %u) is gone", domid);
    else if (keel__dom_by_name(host, name) || keel__dom_by_uuid(host, uuid))
        rc = keel_error(host->ctx, KEEL_EEXIST,
                        "the source domain '%s' is still there", name);
    else
        rc = keel__dom_rekey(host, d, name, uuid);
    if (rc == 0)
        rc = keel__dom_save(host, d);
    if (rc)
        keel__error_prefix(host->ctx,
                           "domain %u runs, migrated, but keeps its "
                           "temporary name: ",
                           domid);
    pthread_mutex_unlock(&host->lock);
    return rc;
}

KEEL_EXPORT int
keel_domain_migrate_local(struct keel_host *host, uint32_t domid,
                          const struct keel_save_opts *opts, uint32_t *domid_r)
{
    char name[KEEL_NAME_MAX + 1], copy[KEEL_NAME_MAX + 1];
    struct incoming in;
    uint8_t uuid[16];
    pthread_t thread;
    int sv[2], rc;

    if (domid_r)
        *domid_r = KEEL_DOMID_INVALID;
    if (!host)
        return KEEL_EINVAL;
    keel__enter(host->ctx);
    memset(&in, 0, sizeof(in));
    in.host = host;
    in.domid = KEEL_DOMID_INVALID;
    in.opts.format = KEEL_STREAM_AUTO;
    in.opts.name = copy;
    rc = prepare(host, domid, name, sizeof(name), copy, sizeof(copy), uuid);
    if (rc == 0)
        rc = keel_uuid_generate(in.uuid);
    if (rc == 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        rc = keel_error_errno(host->ctx, KEEL_EIO, "socketpair");
    if (rc) {
        keel__leave(host->ctx);
        return rc;
    }
    in.fd = sv[1];
    if (pthread_create(&thread, NULL, incoming_main, &in)) {
        close(sv[0]);
        close(sv[1]);
        rc = keel_error(host->ctx, KEEL_ENOMEM,
                        "cannot start the receiving thread");
        keel__leave(host->ctx);
        return rc;
    }
    rc = keel_domain_migrate_send(host, domid, sv[0], sv[0], opts);
    (void)shutdown(sv[0], SHUT_RDWR); /* a receiver still reading gives up */
    pthread_join(thread, NULL);
    close(sv[0]);
    close(sv[1]);
    if (rc == 0 && in.rc) /* cannot happen: "done" means it runs there */
        rc = keel_error(host->ctx, in.rc, "%s", in.err ? in.err : "");
    else if (rc && in.rc && in.err && in.rc != KEEL_EIO)
        keel__error_prefix(host->ctx, "(receiving side: %s) ", in.err);
    if (rc == 0)
        rc = take_over(host, in.domid, name, uuid);
    if (rc == 0 && domid_r)
        *domid_r = in.domid;
    free(in.err);
    keel__leave(host->ctx);
    return rc;
}

/* --- after a process that died mid-way --- */

/* The domain named name, or with uuid: its domid and (state_r may be
 * NULL) state, or false. */
static bool
find(struct keel_host *host, const char *name, const uint8_t *uuid,
     uint32_t *domid_r, enum keel_domain_state *state_r)
{
    struct keel_domain_info info;
    struct keel__dom *d;
    bool found;

    pthread_mutex_lock(&host->lock);
    d = name ? keel__dom_by_name(host, name) : keel__dom_by_uuid(host, uuid);
    if (d)
        *domid_r = d->domid;
    pthread_mutex_unlock(&host->lock);
    found = d && keel_domain_info(host, *domid_r, &info) == 0 &&
            info.state != KEEL_DOMAIN_DYING;
    keel_ctx_clear_error(host->ctx);
    if (found && state_r)
        *state_r = info.state;
    return found;
}

KEEL_EXPORT int
keel_domain_migrate_local_recover(struct keel_host *host, const char *name,
                                  const uint8_t uuid[16], bool was_paused,
                                  enum keel_local_recovery *what_r,
                                  uint32_t *domid_r)
{
    char copy[KEEL_NAME_MAX + 1];
    enum keel_domain_state copy_st;
    uint32_t copy_id, src_id;
    bool src;
    int rc = 0;

    if (what_r)
        *what_r = KEEL_LOCAL_RECOVERY_NONE;
    if (domid_r)
        *domid_r = KEEL_DOMID_INVALID;
    if (!host || !name || !uuid)
        return KEEL_EINVAL;
    keel__enter(host->ctx);
    copy_name(name, copy, sizeof(copy));
    if (!find(host, copy, NULL, &copy_id, &copy_st)) {
        keel__leave(host->ctx);
        return 0;
    }
    src = find(host, NULL, uuid, &src_id, NULL);
    if (src && copy_st == KEEL_DOMAIN_PAUSED) {
        /* Not handed over: the source is the domain. */
        rc = keel_domain_destroy(host, copy_id);
        if (rc == 0 && what_r)
            *what_r = KEEL_LOCAL_RECOVERY_DROPPED;
        keel__leave(host->ctx);
        return rc;
    }
    if (src)
        rc = keel_domain_destroy(host, src_id);
    if (rc == 0)
        rc = take_over(host, copy_id, name, uuid);
    if (rc == 0 && copy_st == KEEL_DOMAIN_PAUSED && !was_paused)
        rc = keel_domain_unpause(host, copy_id);
    if (rc == 0 && what_r)
        *what_r = KEEL_LOCAL_RECOVERY_TOOK_OVER;
    if (rc == 0 && domid_r)
        *domid_r = copy_id;
    keel__leave(host->ctx);
    return rc;
}
