/* policy.c: when the live phase of a migration ends
 *
 * The saver calls keel_migrate_policy_decide() after every live pass with
 * the passes made so far and acts on the answer: another pass, pause and
 * copy the rest, or give up. The function is pure (no context, no clock,
 * no state between calls), so tests and replay tools can feed it any
 * history and get the saver's answer.
 *
 * Xen's policy (KEEL_MIGRATE_POLICY_XEN) reproduces what xl migrate does,
 * since libxl installs no precopy callback and libxenguest falls back to
 * simple_precopy_policy (tools/libs/guest/xg_sr_save.c). Xen's loop,
 * send_memory_live(), asks its policy twice per pass:
 *
 *   before a pass, with the count the pass will send (p2m_size for the
 *     full pass, iteration 0; afterwards what the previous pass dirtied).
 *     Fewer than 50 means stop, but the pass is still sent, live, unless
 *     the count is 0; the guest is paused after it.
 *   after a pass, with iteration = passes done and the count unknown
 *     (-1). Five passes (the full pass included) means stop.
 *
 * In keel's terms, where a decision follows each pass and STOP pauses at
 * once, that is: stop after pass p when p + 1 >= max_passes, when pass p
 * dirtied nothing, or when the count announced for pass p (total_pages
 * for pass 0, else the previous pass's dirty_pages) was under the
 * threshold; a pass that dirties fewer pages than the threshold earns one
 * more live pass, not an immediate stop. The live passes and what
 * stop-and-copy sends are then Xen's, pass for pass.
 *
 * keel's policy (KEEL_MIGRATE_POLICY_DOWNTIME) keeps pre-copying as long
 * as passes pay: while each pass leaves clearly fewer dirty pages than it
 * sent, another one shrinks the pause at the price of a smaller and
 * smaller pass, so it goes on past Xen's five passes and stops only when
 * the dirty set is negligible (under dirty_threshold, default 50: as in
 * Xen's, one last live pass sends those few first, unless the pass just
 * made was that one or the pass limit is reached) or, when the caller
 * set downtime_ms, as soon as
 * the predicted pause is within it. The prediction is the dirty pages at
 * the cost per page the last pass measured (its time over its pages:
 * scattered pages cost more than the full pass's sequential ones, so the
 * last pass is the better guide).
 * A guest that cannot converge is seen early: after the full pass, when
 * its dirty rate times the measured cost per page reaches 0.9 (it dirties
 * pages nearly as fast as they are sent); after a later pass, when the
 * pass left at least 90% as many dirty pages as it sent. Then, or at
 * max_passes (default 30), the live phase ends at once: it stops if the
 * predicted pause is within max_downtime_ms (or there is no limit) and
 * aborts otherwise, leaving the source running. Without a measured cost
 * there is no prediction, and a limit it cannot check counts as exceeded.
 *
 * Arithmetic is in double: the inputs are 64-bit counters whose products
 * overflow integers, and a policy needs ratios, not exact values. No
 * input divides by zero: every divisor is checked first.
 */
#include "config.h"

#include <keel/migrate.h>

#include "internal.h"

/* SPP_MAX_ITERATIONS and SPP_TARGET_DIRTY_COUNT in xg_sr_save.c */
#define XEN_MAX_PASSES 5
#define XEN_DIRTY_THRESHOLD 50

#define DOWNTIME_MAX_PASSES 30

static enum keel_migrate_decision
verdict(enum keel_migrate_decision d, const char *why, const char **why_r)
{
    if (why_r)
        *why_r = why;
    return d;
}

static uint32_t
max_passes_or(const struct keel_migrate_policy *policy, uint32_t dflt)
{
    return policy && policy->max_passes ? policy->max_passes : dflt;
}

static bool
at_pass_limit(const struct keel_migrate_pass *last, uint32_t max)
{
    return (uint64_t)last->pass + 1 >= max;
}

/* The dirty count Xen's policy was shown before the last pass. */
static uint64_t
announced(const struct keel_migrate_pass *passes, size_t n)
{
    const struct keel_migrate_pass *last = &passes[n - 1];

    if (last->pass == 0)
        return last->total_pages;
    if (n >= 2)
        return passes[n - 2].dirty_pages;
    /* A history cut short: what the pass sent is what was announced. */
    return last->pages_sent;
}

static enum keel_migrate_decision
xen_decide(const struct keel_migrate_policy *policy,
           const struct keel_migrate_pass *passes, size_t n, const char **why_r)
{
    const struct keel_migrate_pass *last = &passes[n - 1];
    uint64_t threshold = XEN_DIRTY_THRESHOLD;

    if (policy && policy->dirty_threshold)
        threshold = policy->dirty_threshold;
    if (at_pass_limit(last, max_passes_or(policy, XEN_MAX_PASSES)))
        return verdict(KEEL_MIGRATE_STOP, "reached the pass limit", why_r);
    if (last->dirty_pages == 0)
        return verdict(KEEL_MIGRATE_STOP, "no dirty pages left", why_r);
    if (announced(passes, n) < threshold)
        return verdict(KEEL_MIGRATE_STOP,
                       "last live pass sent fewer pages than the threshold",
                       why_r);
    if (last->dirty_pages < threshold)
        return verdict(KEEL_MIGRATE_CONTINUE,
                       "fewer dirty pages than the threshold: one last pass",
                       why_r);
    return verdict(KEEL_MIGRATE_CONTINUE, "dirty pages above the threshold",
                   why_r);
}

struct estimate {
    bool known;          /* cost per page measured: predicted_ns valid */
    double predicted_ns; /* stop-and-copy of the last pass's dirty pages */
    bool diverges;       /* the pass brought back >= 90% of what it sent */
};

static void
estimate(const struct keel_migrate_pass *last, struct estimate *e_r)
{
    double pages = (double)last->pages_sent, ns = (double)last->send_ns;
    double dirty = (double)last->dirty_pages, cost;

    *e_r = (struct estimate){0};
    if (pages <= 0 || ns <= 0)
        return;
    cost = ns / pages;
    e_r->known = true;
    e_r->predicted_ns = dirty * cost;
    /* After the full pass, the guest's dirty rate times the cost per page
     * (dirty / ns * ns / pages); after a later pass, how much of what it
     * sent came back: both are dirty / pages, compared exactly (in 128
     * bits, so no rounding moves the 90% line). */
    e_r->diverges = (unsigned __int128)last->dirty_pages * 10 >=
                    (unsigned __int128)last->pages_sent * 9;
}

static double
ms_to_ns(uint64_t ms)
{
    return (double)ms * 1e6;
}

enum end_cause { END_DIVERGES, END_LIMIT };

/* The live phase ends without converging: stop if the limit allows the
 * predicted downtime, else abort. */
static enum keel_migrate_decision
end_live(const struct keel_migrate_policy *policy, const struct estimate *e,
         enum end_cause cause, const char **why_r)
{
    static const char *const stop_why[] = {
        [END_DIVERGES] = "the guest dirties pages as fast as they are sent: "
                         "stopping",
        [END_LIMIT] = "reached the pass limit: stopping",
    };
    static const char *const abort_why[] = {
        [END_DIVERGES] = "the guest dirties pages as fast as they are sent "
                         "and the predicted downtime exceeds the limit",
        [END_LIMIT] = "reached the pass limit and the predicted downtime "
                      "exceeds the limit",
    };
    uint64_t limit = policy->max_downtime_ms;

    if (limit == 0 || (e->known && e->predicted_ns <= ms_to_ns(limit)))
        return verdict(KEEL_MIGRATE_STOP, stop_why[cause], why_r);
    return verdict(KEEL_MIGRATE_ABORT, abort_why[cause], why_r);
}

static enum keel_migrate_decision
downtime_decide(const struct keel_migrate_policy *policy,
                const struct keel_migrate_pass *passes, size_t n,
                const char **why_r)
{
    const struct keel_migrate_pass *last = &passes[n - 1];
    uint64_t threshold =
        policy->dirty_threshold ? policy->dirty_threshold : XEN_DIRTY_THRESHOLD;
    struct estimate e;

    if (last->dirty_pages == 0)
        return verdict(KEEL_MIGRATE_STOP, "no dirty pages left", why_r);
    /* A few dirty pages left: one more live pass sends them while the
     * guest runs (as Xen does), unless that pass was just made. */
    if (last->dirty_pages < threshold && last->pages_sent >= threshold &&
        !at_pass_limit(last, max_passes_or(policy, DOWNTIME_MAX_PASSES)))
        return verdict(KEEL_MIGRATE_CONTINUE,
                       "few dirty pages left: one last pass", why_r);
    if (last->dirty_pages < threshold)
        return verdict(KEEL_MIGRATE_STOP, "dirty set is negligible", why_r);
    estimate(last, &e);
    if (policy->downtime_ms && e.known &&
        e.predicted_ns <= ms_to_ns(policy->downtime_ms))
        return verdict(KEEL_MIGRATE_STOP, "predicted downtime within target",
                       why_r);
    if (e.known && e.diverges)
        return end_live(policy, &e, END_DIVERGES, why_r);
    if (at_pass_limit(last, max_passes_or(policy, DOWNTIME_MAX_PASSES)))
        return end_live(policy, &e, END_LIMIT, why_r);
    if (!e.known)
        return verdict(KEEL_MIGRATE_CONTINUE, "cost per page not measured yet",
                       why_r);
    return verdict(KEEL_MIGRATE_CONTINUE, "passes still shrink the dirty set",
                   why_r);
}

static enum keel_migrate_decision
custom_decide(const struct keel_migrate_policy *policy,
              const struct keel_migrate_pass *passes, size_t n,
              const char **why_r)
{
    enum keel_migrate_decision d;
    const char *why = NULL;

    if (!policy->decide)
        return xen_decide(policy, passes, n, why_r);
    d = policy->decide(policy->opaque, passes, n, &why);
    /* An out-of-range answer is a bug in the caller; aborting is the one
     * answer that leaves the guest where it was. */
    if (d != KEEL_MIGRATE_CONTINUE && d != KEEL_MIGRATE_STOP &&
        d != KEEL_MIGRATE_ABORT)
        return verdict(KEEL_MIGRATE_ABORT,
                       "custom policy returned an unknown decision", why_r);
    return verdict(d, why ? why : "custom policy", why_r);
}

KEEL_EXPORT enum keel_migrate_decision
keel_migrate_policy_decide(const struct keel_migrate_policy *policy,
                           const struct keel_migrate_pass *passes, size_t n,
                           const char **why_r)
{
    /* Nothing to judge before the full pass: it is always made. */
    if (!passes || n == 0)
        return verdict(KEEL_MIGRATE_CONTINUE, "no pass yet", why_r);
    if (!policy)
        return xen_decide(NULL, passes, n, why_r);
    switch (policy->kind) {
    case KEEL_MIGRATE_POLICY_XEN:
        return xen_decide(policy, passes, n, why_r);
    case KEEL_MIGRATE_POLICY_DOWNTIME:
        return downtime_decide(policy, passes, n, why_r);
    case KEEL_MIGRATE_POLICY_CUSTOM:
        return custom_decide(policy, passes, n, why_r);
    }
    return verdict(KEEL_MIGRATE_ABORT, "unknown policy kind", why_r);
}
