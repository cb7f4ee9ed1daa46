/* event.c: the sim's event queue, event fd, watches and store ops
 *
 * Events wait in a queue until event_read takes them. The event fd is a
 * timerfd: armed to fire at once while the queue holds events, else at
 * the next moment simulated time will do something (a guest's delayed
 * shutdown, a dying domain's end, a request a guest left unread while it
 * was paused), else disarmed. A loop that polls it therefore wakes when a
 * guest acts even if nothing else calls in.
 *
 * Watches fire as xenstored's do: once when set, then for every write or
 * removal at or below the watched path (and for a removal above it), with
 * the path that changed. The queue is bounded; a reader that never reads
 * loses the oldest events, with a warning.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "sim.h"

#define MAX_EVENTS 65536

int
sim_event_open(struct sim *s)
{
    s->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->timer_fd < 0)
        return keel_error_errno(s->ctx, 0, "timerfd_create");
    return 0;
}

void
sim_event_close(struct sim *s)
{
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    s->timer_fd = -1;
}

static void
arm_at(struct sim *s, uint64_t at_ns)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (at_ns != UINT64_MAX) {
        if (at_ns == 0)
            at_ns = 1; /* zero would disarm; one ns after 1970 fires now */
        its.it_value.tv_sec = (time_t)(at_ns / 1000000000u);
        its.it_value.tv_nsec = (long)(at_ns % 1000000000u);
    }
    timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void
sim_event_rearm(struct sim *s)
{
    uint64_t next;

    if (s->timer_fd < 0)
        return;
    if (s->n_events) {
        arm_at(s, 1);
        return;
    }
    next = sim_timeline_next(s);
    if (s->manual_clock && next != UINT64_MAX)
        next = UINT64_MAX; /* manual time moves only when told */
    arm_at(s, next);
}

static int
queue(struct sim *s, enum keel_hv_event_kind kind, uint32_t domid,
      const char *path, const char *token)
{
    struct keel_hv_event *ev;

    if (s->n_events == MAX_EVENTS) {
        keel_warn(s->ctx, "event queue full: dropping the oldest event");
        keel_hv_events_dispose(s->events, 1);
        memmove(s->events, s->events + 1,
                (s->n_events - 1) * sizeof(*s->events));
        s->n_events--;
    }
    if (s->n_events == s->cap_events) {
        size_t cap = s->cap_events ? s->cap_events * 2 : 16;
        struct keel_hv_event *n = realloc(s->events, cap * sizeof(*n));

        if (!n)
            return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
        s->events = n;
        s->cap_events = cap;
    }
    ev = &s->events[s->n_events];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->domid = domid;
    if (path && (!(ev->path = strdup(path)) || !(ev->token = strdup(token)))) {
        keel_hv_events_dispose(ev, 1);
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    }
    s->n_events++;
    return 0;
}

int
sim_event_queue_domain(struct sim *s, uint32_t domid)
{
    return queue(s, KEEL_HV_EVENT_DOMAIN, domid, NULL, NULL);
}

/* True when path is base or lies below it. */
static bool
path_within(const char *path, const char *base)
{
    size_t n = strlen(base);

    if (!strcmp(base, "/"))
        return path[0] == '/';
    return !strncmp(path, base, n) && (path[n] == '\0' || path[n] == '/');
}

void
sim_watch_fire(struct sim *s, const char *path, bool removed)
{
    size_t i;

    for (i = 0; i < s->n_watches; i++) {
        const struct sim_watch *w = &s->watches[i];

        if (path_within(path, w->path))
            queue(s, KEEL_HV_EVENT_WATCH, KEEL_DOMID_INVALID, path, w->token);
        else if (removed && path[0] == '/' && path_within(w->path, path))
            queue(s, KEEL_HV_EVENT_WATCH, KEEL_DOMID_INVALID, w->path,
                  w->token);
    }
}

void
sim_watches_free(struct sim *s)
{
    size_t i;

    for (i = 0; i < s->n_watches; i++) {
        free(s->watches[i].path);
        free(s->watches[i].token);
    }
    free(s->watches);
    s->watches = NULL;
    s->n_watches = 0;
}

static bool
special_path(const char *path)
{
    return !strcmp(path, "@releaseDomain") || !strcmp(path, "@introduceDomain");
}

int
sim_op_store_watch(struct keel_hv *hv, const char *path, const char *token)
{
    struct sim_watch *n;
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && !special_path(path))
        rc = sim_store_check_path(s->ctx, path);
    for (i = 0; rc == 0 && i < s->n_watches; i++)
        if (!strcmp(s->watches[i].path, path) &&
            !strcmp(s->watches[i].token, token))
            rc = keel_error(s->ctx, KEEL_EEXIST,
                            "a watch on %s with token %s exists", path, token);
    if (rc)
        return sim_end(s, rc);
    n = realloc(s->watches, (s->n_watches + 1) * sizeof(*n));
    if (!n)
        return sim_end(s, keel_error(s->ctx, KEEL_ENOMEM, "out of memory"));
    s->watches = n;
    n[s->n_watches].path = strdup(path);
    n[s->n_watches].token = strdup(token);
    if (!n[s->n_watches].path || !n[s->n_watches].token) {
        free(n[s->n_watches].path);
        free(n[s->n_watches].token);
        return sim_end(s, keel_error(s->ctx, KEEL_ENOMEM, "out of memory"));
    }
    s->n_watches++;
    rc = queue(s, KEEL_HV_EVENT_WATCH, KEEL_DOMID_INVALID, path, token);
    return sim_end(s, rc);
}

int
sim_op_store_unwatch(struct keel_hv *hv, const char *path, const char *token)
{
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    for (i = 0; rc == 0 && i < s->n_watches; i++) {
        struct sim_watch *w = &s->watches[i];

        if (strcmp(w->path, path) || strcmp(w->token, token))
            continue;
        free(w->path);
        free(w->token);
        memmove(w, w + 1, (s->n_watches - i - 1) * sizeof(*w));
        s->n_watches--;
        return sim_end(s, 0);
    }
    if (rc == 0)
        rc = keel_error(s->ctx, KEEL_ENOENT, "no watch on %s with token %s",
                        path, token);
    return sim_end(s, rc);
}

int
sim_op_store_read(struct keel_hv *hv, const char *path, char **val_r,
                  size_t *len_r)
{
    struct sim *s;
    size_t len;
    int rc = sim_begin(hv, &s);

    if (rc == 0)
        rc =
            sim_store_read(s->ctx, s->store, path, val_r, len_r ? len_r : &len);
    return sim_end(s, rc);
}

int
sim_op_store_write(struct keel_hv *hv, const char *path, const void *val,
                   size_t len)
{
    char copy[4097];
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && !val && len)
        rc = keel_error(s->ctx, KEEL_EINVAL, "NULL value of length %zu", len);
    if (rc == 0)
        rc = sim_store_write(s->ctx, s->store, path, val ? val : "", len);
    if (rc)
        return sim_end(s, rc);
    sim_watch_fire(s, path, false);
    if (len < sizeof(copy)) {
        memcpy(copy, val ? val : "", len);
        copy[len] = '\0';
        sim_guest_store_written(s, path, copy);
    }
    return sim_end(s, 0);
}

int
sim_op_store_remove(struct keel_hv *hv, const char *path)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0)
        rc = sim_store_remove(s->ctx, s->store, path);
    if (rc == 0)
        sim_watch_fire(s, path, true);
    return sim_end(s, rc);
}

int
sim_op_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                  size_t *n_r)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0)
        rc = sim_store_list(s->ctx, s->store, path, names_r, n_r);
    return sim_end(s, rc);
}

int
sim_op_event_fd(struct keel_hv *hv)
{
    return sim_of(hv)->timer_fd;
}

int
sim_op_event_read(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                  size_t *n_r)
{
    uint64_t expirations;
    struct sim *s;
    size_t n;
    int rc = sim_begin(hv, &s);

    if (rc)
        return sim_end(s, rc);
    if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 &&
        errno != EAGAIN)
        return sim_end(s, keel_error_errno(s->ctx, 0, "reading timerfd"));
    n = s->n_events < max ? s->n_events : max;
    if (n) {
        memcpy(evs, s->events, n * sizeof(*evs));
        memmove(s->events, s->events + n,
                (s->n_events - n) * sizeof(*s->events));
        s->n_events -= n;
    }
    *n_r = n;
    return sim_end(s, 0);
}
