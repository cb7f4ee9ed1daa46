/* store.c: the xen backend's store ops and events over libxenstore
 *
 * Events come from store watches only. xenstored fires @releaseDomain
 * whenever a domain shuts down or dies (it learns that from VIRQ_DOM_EXC,
 * which it binds, so no one else can), the way xl learns it too; the
 * backend watches it from open() and turns each firing into one
 * KEEL_HV_EVENT_DOMAIN for no domain in particular, on which libkeel
 * rescans its domains. Every other watch is a KEEL_HV_EVENT_WATCH.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

int
xen_op_store_read(struct keel_hv *hv, const char *path, char **val_r,
                  size_t *len_r)
{
    struct xen *x = xen_of(hv);
    unsigned int len = 0;
    char *v = xs_read(x->xsh, XBT_NULL, path, &len);

    if (!v) {
        if (errno == ENOENT)
            return keel_error(x->ctx, KEEL_ENOENT, "no store node %s", path);
        return xen_fail(x, "xs_read %s", path);
    }
    *val_r = v; /* xs_read adds the NUL */
    if (len_r)
        *len_r = len;
    return 0;
}

int
xen_op_store_write(struct keel_hv *hv, const char *path, const void *val,
                   size_t len)
{
    struct xen *x = xen_of(hv);

    if (!xs_write(x->xsh, XBT_NULL, path, val, (unsigned int)len))
        return xen_fail(x, "xs_write %s", path);
    return 0;
}

int
xen_op_store_remove(struct keel_hv *hv, const char *path)
{
    struct xen *x = xen_of(hv);

    if (!xs_rm(x->xsh, XBT_NULL, path)) {
        if (errno == ENOENT)
            return keel_error(x->ctx, KEEL_ENOENT, "no store node %s", path);
        return xen_fail(x, "xs_rm %s", path);
    }
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One block: n + 1 pointers (the last NULL), then the strings, as the
 * sim gives it. */
int
xen_op_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                  size_t *n_r)
{
    struct xen *x = xen_of(hv);
    unsigned int num = 0, i;
    char **dir = xs_directory(x->xsh, XBT_NULL, path, &num);
    size_t size;
    char **names, *p;

    if (!dir) {
        if (errno == ENOENT)
            return keel_error(x->ctx, KEEL_ENOENT, "no store node %s", path);
        return xen_fail(x, "xs_directory %s", path);
    }
    size = (num + 1) * sizeof(char *);
    for (i = 0; i < num; i++)
        size += strlen(dir[i]) + 1;
    names = malloc(size);
    if (!names) {
        free(dir);
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    }
    p = (char *)(names + num + 1);
    for (i = 0; i < num; i++) {
        size_t len = strlen(dir[i]) + 1;

        memcpy(p, dir[i], len);
        names[i] = p;
        p += len;
    }
    names[num] = NULL;
    free(dir);
    qsort(names, num, sizeof(char *), cmp_names);
    *names_r = names;
    *n_r = num;
    return 0;
}

int
xen_op_store_watch(struct keel_hv *hv, const char *path, const char *token)
{
    struct xen *x = xen_of(hv);

    if (strcmp(token, XEN_RELEASE_TOKEN) == 0)
        return keel_error(x->ctx, KEEL_EINVAL,
                          "the watch token %s is the "
                          "backend's own",
                          token);
    if (!xs_watch(x->xsh, path, token))
        return xen_fail(x, "xs_watch %s", path);
    return 0;
}

int
xen_op_store_unwatch(struct keel_hv *hv, const char *path, const char *token)
{
    struct xen *x = xen_of(hv);

    if (!xs_unwatch(x->xsh, path, token))
        return xen_fail(x, "xs_unwatch %s", path);
    return 0;
}

int
xen_op_event_fd(struct keel_hv *hv)
{
    return xs_fileno(xen_of(hv)->xsh);
}

int
xen_op_event_read(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                  size_t *n_r)
{
    struct xen *x = xen_of(hv);
    bool released = false;
    size_t n = 0;

    /* Several @releaseDomain firings say no more than one: one rescan. */
    while (n < max) {
        char **w = xs_check_watch(x->xsh);

        if (!w) {
            if (errno == EAGAIN)
                break;
            keel_hv_events_dispose(evs, n);
            return xen_fail(x, "xs_check_watch");
        }
        if (strcmp(w[XS_WATCH_TOKEN], XEN_RELEASE_TOKEN) == 0) {
            if (!released) {
                memset(&evs[n], 0, sizeof(evs[n]));
                evs[n].kind = KEEL_HV_EVENT_DOMAIN;
                evs[n].domid = KEEL_DOMID_INVALID;
                n++;
                released = true;
            }
        } else {
            memset(&evs[n], 0, sizeof(evs[n]));
            evs[n].kind = KEEL_HV_EVENT_WATCH;
            evs[n].path = strdup(w[XS_WATCH_PATH]);
            evs[n].token = strdup(w[XS_WATCH_TOKEN]);
            if (!evs[n].path || !evs[n].token) {
                free(w);
                keel_hv_events_dispose(evs, n + 1);
                return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
            }
            n++;
        }
        free(w);
    }
    *n_r = n;
    return 0;
}
