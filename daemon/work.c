/* work.c: running handlers on workers, one at a time per key
 *
 * Every call has a key (rpc.c makes it): "n:<name>" for a call about a
 * domain (by its name, however the call spelled it, or the name in the
 * config of a create), "p:<pool>" for a pool, "" for none. Calls with the same
 * key run in arrival order, one after the other; calls with different keys (or
 * none) run at once on libuv's thread pool. The bookkeeping lives on the loop
 * thread only (submission and libuv's after-work callback both run there), so
 * it needs no lock: a table of keys with a call running, each with the FIFO of
 * calls waiting behind it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keeld.h"

#define KEY_BUCKETS 256

struct keyq {
    char key[KEEL_NAME_MAX + 8];
    struct kd_call *head, *tail; /* waiting, not the one running */
    struct keyq *next;
};

struct kd_work {
    struct keyq *buckets[KEY_BUCKETS];
    unsigned pending; /* running and waiting */
};

static unsigned
key_hash(const char *k)
{
    unsigned h = 2166136261u;

    while (*k)
        h = (h ^ (unsigned char)*k++) * 16777619u;
    return h % KEY_BUCKETS;
}

static struct keyq **
keyq_slot(struct kd_work *w, const char *key)
{
    struct keyq **q = &w->buckets[key_hash(key)];

    while (*q && strcmp((*q)->key, key) != 0)
        q = &(*q)->next;
    return q;
}

int
kd_work_init(struct keeld *kd)
{
    kd->work = calloc(1, sizeof(*kd->work));
    return kd->work ? 0 : -1;
}

void
kd_work_fini(struct keeld *kd)
{
    free(kd->work);
    kd->work = NULL;
}

unsigned
kd_work_pending(struct keeld *kd)
{
    return kd->work ? kd->work->pending : 0;
}

static void start(struct keeld *kd, struct kd_call *call);

static void
run_fn(uv_work_t *req)
{
    struct kd_call *call = req->data;

    call->method->fn(call);
}

/* Loop thread: reply, then start the next call of the same key. */
static void
done_fn(uv_work_t *req, int status)
{
    struct kd_call *call = req->data;
    struct keeld *kd = call->kd;
    struct kd_work *w = kd->work;
    struct keyq **slot, *q;
    char key[sizeof(call->key)];

    (void)status;
    memcpy(key, call->key, sizeof(key));
    w->pending--;
    call->complete(call); /* frees call */
    if (!key[0])
        return;
    slot = keyq_slot(w, key);
    q = *slot;
    if (!q)
        return;
    if (!q->head) {
        *slot = q->next;
        free(q);
        return;
    }
    call = q->head;
    q->head = call->next;
    if (!q->head)
        q->tail = NULL;
    call->next = NULL;
    start(kd, call);
}

static void
start(struct keeld *kd, struct kd_call *call)
{
    call->work.data = call;
    if (uv_queue_work(kd->loop, &call->work, run_fn, done_fn) != 0) {
        /* Cannot happen with a live loop; answer rather than lose it. */
        kd_fail(call, KD_EINTERNAL, "cannot queue the call");
        done_fn(&call->work, 0);
    }
}

void
kd_work_submit_loop(struct keeld *kd, struct kd_call *call)
{
    struct kd_work *w = kd->work;
    struct keyq **slot, *q;

    w->pending++;
    call->next = NULL;
    if (!call->key[0]) {
        start(kd, call);
        return;
    }
    slot = keyq_slot(w, call->key);
    if (*slot) { /* one is running: wait behind it */
        q = *slot;
        if (q->tail)
            q->tail->next = call;
        else
            q->head = call;
        q->tail = call;
        return;
    }
    q = calloc(1, sizeof(*q));
    if (!q) {
        kd_fail(call, KD_EINTERNAL, "out of memory");
        w->pending--;
        call->complete(call);
        return;
    }
    memcpy(q->key, call->key, sizeof(q->key));
    *slot = q;
    start(kd, call);
}
