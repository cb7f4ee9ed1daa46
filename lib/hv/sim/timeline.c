/* timeline.c: what simulated time must visit, without walking every domain
 *
 * Most domains want nothing from passing time but CPU time, and that is a
 * rate: each online vCPU of a running guest uses all of the time when the
 * guest is busy and 1/IDLE_SHARE of it when idle. So CPU time is counted
 * lazily: a domain holds its CPU time up to settled_ns, a read adds the
 * rate times what passed since, and sim_domain_settle() folds that in
 * before anything changes the rate (pause, unpause, shutdown, resume,
 * destroy, soft reset, busy, vCPUs on or off line). A guest that cannot
 * run cannot act either: settling a stopped guest moves its delayed
 * shutdown (pending_at_ns) on by the time it was stopped, which is what
 * the step-by-step model did.
 *
 * What must happen at a given moment sits on a binary min-heap of domains
 * keyed by (due_ns, domid): a dying domain's end (dying_at_ns + 1), a
 * running guest's delayed shutdown (pending_at_ns), a shutdown request
 * left while the guest was paused (0: read at the next step). A step pops
 * what is due, O(log n) each; the next deadline is the top. Guests with a
 * dirty rate write memory as time passes, so they are on a list of their
 * own that every step visits; there are few of them.
 *
 * The heap and the list have room for every domain (sim_domain_insert
 * reserves it), so putting a domain on them never fails.
 */
#include "config.h"

#include "sim.h"

#define IDLE_SHARE 100 /* an idle guest uses 1/100 of its vCPUs */

static uint64_t
cpu_share(const struct sim_domain *d, uint64_t ns)
{
    return d->guest.busy ? ns : ns / IDLE_SHARE;
}

void
sim_domain_settle(struct sim_domain *d, uint64_t now)
{
    uint64_t ns, share;
    uint32_t i;

    if (now <= d->settled_ns)
        return;
    ns = now - d->settled_ns;
    d->settled_ns = now;
    if (!sim_domain_runnable(d)) {
        if (d->pending_action >= 0)
            d->pending_at_ns += ns; /* a stopped guest cannot act */
        return;
    }
    share = cpu_share(d, ns);
    for (i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i].online)
            d->vcpus[i].cpu_time_ns += share;
}

uint64_t
sim_vcpu_time(const struct sim *s, const struct sim_domain *d, uint32_t vcpu)
{
    const struct sim_vcpu *v = &d->vcpus[vcpu];

    if (!v->online || !sim_domain_runnable(d) || s->last_ns <= d->settled_ns)
        return v->cpu_time_ns;
    return v->cpu_time_ns + cpu_share(d, s->last_ns - d->settled_ns);
}

/* When time must next visit d, or UINT64_MAX. */
static uint64_t
due_of(const struct sim_domain *d)
{
    if (d->dying)
        return d->dying_at_ns + 1; /* gone once time has moved past it */
    if (!sim_domain_runnable(d))
        return UINT64_MAX;
    if (d->request_waiting)
        return 0;
    if (d->pending_action >= 0)
        return d->pending_at_ns;
    return UINT64_MAX;
}

static bool
before(const struct sim_domain *a, const struct sim_domain *b)
{
    return a->due_ns < b->due_ns ||
           (a->due_ns == b->due_ns && a->domid < b->domid);
}

static void
heap_put(struct sim *s, size_t i, struct sim_domain *d)
{
    s->due[i] = d;
    d->due_idx = i;
}

static void
sift_up(struct sim *s, size_t i)
{
    struct sim_domain *d = s->due[i];

    while (i > 0 && before(d, s->due[(i - 1) / 2])) {
        heap_put(s, i, s->due[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_put(s, i, d);
}

static void
sift_down(struct sim *s, size_t i)
{
    struct sim_domain *d = s->due[i];
    size_t kid;

    while ((kid = 2 * i + 1) < s->n_due) {
        if (kid + 1 < s->n_due && before(s->due[kid + 1], s->due[kid]))
            kid++;
        if (!before(s->due[kid], d))
            break;
        heap_put(s, i, s->due[kid]);
        i = kid;
    }
    heap_put(s, i, d);
}

static void
heap_remove(struct sim *s, struct sim_domain *d)
{
    size_t i = d->due_idx;
    struct sim_domain *last;

    if (i == SIM_NOWHERE)
        return;
    d->due_idx = SIM_NOWHERE;
    last = s->due[--s->n_due];
    if (last == d)
        return;
    heap_put(s, i, last);
    sift_up(s, i);
    sift_down(s, last->due_idx);
}

static void
heap_set(struct sim *s, struct sim_domain *d, uint64_t due)
{
    if (d->due_idx == SIM_NOWHERE) {
        d->due_ns = due;
        heap_put(s, s->n_due++, d);
        sift_up(s, d->due_idx);
    } else if (due != d->due_ns) {
        d->due_ns = due;
        sift_up(s, d->due_idx);
        sift_down(s, d->due_idx);
    }
}

static void
dirtier_remove(struct sim *s, struct sim_domain *d)
{
    size_t i = d->dirtier_idx;
    struct sim_domain *last;

    if (i == SIM_NOWHERE)
        return;
    d->dirtier_idx = SIM_NOWHERE;
    last = s->dirtiers[--s->n_dirtiers];
    if (last == d)
        return;
    s->dirtiers[i] = last;
    last->dirtier_idx = i;
}

void
sim_timeline_update(struct sim *s, struct sim_domain *d)
{
    uint64_t due = due_of(d);

    if (due == UINT64_MAX)
        heap_remove(s, d);
    else
        heap_set(s, d, due);
    if (!d->guest.dirty_rate || d->dying) {
        dirtier_remove(s, d);
    } else if (d->dirtier_idx == SIM_NOWHERE) {
        d->dirtier_idx = s->n_dirtiers;
        s->dirtiers[s->n_dirtiers++] = d;
    }
}

void
sim_timeline_remove(struct sim *s, struct sim_domain *d)
{
    heap_remove(s, d);
    dirtier_remove(s, d);
}

void
sim_timeline_run(struct sim *s, uint64_t start, uint64_t now)
{
    struct sim_domain *d;
    size_t i;

    while (s->n_due && s->due[0]->due_ns <= now) {
        d = s->due[0];
        if (d->dying) {
            sim_domain_reap(s, d);
            continue;
        }
        sim_guest_due(s, d, start, now);
        /* Acting moves d's deadline past now or takes it off; should it
         * not, it must not hold the step up for ever. */
        if (d->due_idx == 0 && d->due_ns <= now)
            heap_remove(s, d);
    }
    for (i = 0; i < s->n_dirtiers; i++) {
        d = s->dirtiers[i];
        if (sim_domain_runnable(d) && d->mem.base)
            sim_mem_dirty(s, d, now - start);
    }
}

uint64_t
sim_timeline_next(const struct sim *s)
{
    return s->n_due ? s->due[0]->due_ns : UINT64_MAX;
}
