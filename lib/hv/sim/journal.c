/* journal.c: DIR/journal, the changes since the last snapshot
 *
 * state.json and store.json are snapshots; writing them whole after every
 * op made an op cost O(domains). Instead, an op that changes something
 * appends one line to DIR/journal: a batch with the full record of every
 * domain it changed, "gone" for a domain that went, the pool list when
 * pools changed, the store's writes and removals, and the clock. One
 * write() per op. The line is the unit that survives: a process killed
 * mid-append leaves a last line without its '\n', which the next opener
 * drops, so the op is lost whole, as if the process had died just before
 * it. Any other damage is KEEL_ECORRUPT naming the line.
 *
 * Compaction: once the journal outgrows twice the snapshots (and at least
 * JOURNAL_MIN_BYTES), the next sync writes new snapshots instead of a
 * batch: store.json, then state.json naming the next generation, then a
 * new journal whose first line names it (each file by rename). Generation
 * decides whether a journal belongs to state.json; killed between steps,
 *   before state.json's rename: the old state.json and its journal, whose
 *     store changes are replayed over the new store.json, which holds
 *     them already; store.c shows that is harmless;
 *   after it: the journal is a generation behind, and ignored: the
 *     snapshots hold all it did.
 * So a compaction costs O(domains) but comes only after as many journal
 * bytes; amortised, an op costs O(its change).
 *
 * Format, one compact JSON object per line:
 *   {"format": "keel-sim-journal", "version": 1, "generation": G}
 *   {"clock_ns": T, "next_domid": N, "pools": [POOL...], "gone": [DOMID...],
 *    "domains": [DOMAIN...], "store": [CHANGE...]}
 * "pools", "gone" and "store" appear only when not empty. POOL and DOMAIN
 * are state.json's records (state.c), CHANGE is store.c's; a domain's
 * CPU time is as of the batch's clock_ns. A batch is replayed in that
 * order: pools, gone, domains, store.
 * Checklist when changing it: JOURNAL_VERSION (and whether older journals
 * still replay), gen_batch() and replay_batch() here, the records in
 * state.c and store.c, the seeds in tests/data/fuzz/sim-journal/, the
 * journal tests in tests/unit/test-sim-persist.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "sim.h"

#define JOURNAL_FORMAT "keel-sim-journal"
#define JOURNAL_VERSION 1
#define JOURNAL_MIN_BYTES (UINT64_C(1) << 20) /* never compact below this */
#define JOURNAL_DEPTH 8 /* batch, domains, a domain, vcpus, a vCPU: 5 */

void
sim_journal_init(struct sim_journal *j)
{
    memset(j, 0, sizeof(*j));
    j->fd = -1;
}

void
sim_journal_free(struct sim_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    free(j->doms);
    free(j->gone);
    sim_journal_init(j);
}

/* Appends id to a growing array; false when out of memory. */
static bool
push_id(uint32_t **ids, size_t *n, size_t *cap, uint32_t id)
{
    uint32_t *grown;
    size_t c;

    if (*n == *cap) {
        c = *cap ? 2 * *cap : 16;
        grown = realloc(*ids, c * sizeof(*grown));
        if (!grown)
            return false;
        *ids = grown;
        *cap = c;
    }
    (*ids)[(*n)++] = id;
    return true;
}

/* Out of memory for a mark, the next sync writes everything instead. */
void
sim_journal_domain(struct sim *s, struct sim_domain *d)
{
    struct sim_journal *j = &s->journal;

    if (d->changed)
        return;
    if (push_id(&j->doms, &j->n_doms, &j->cap_doms, d->domid))
        d->changed = true;
    else
        j->compact = true;
}

void
sim_journal_gone(struct sim *s, uint32_t domid)
{
    struct sim_journal *j = &s->journal;

    if (!push_id(&j->gone, &j->n_gone, &j->cap_gone, domid))
        j->compact = true;
}

void
sim_journal_pools(struct sim *s)
{
    s->journal.pools = true;
}

static bool
has_changes(struct sim *s)
{
    const struct sim_journal *j = &s->journal;

    return j->n_doms || j->n_gone || j->pools || sim_store_n_changes(s->store);
}

/* After the marks went into a batch or a snapshot. */
static void
clear_marks(struct sim *s)
{
    struct sim_journal *j = &s->journal;
    struct sim_domain *d;
    size_t i;

    for (i = 0; i < j->n_doms; i++)
        if ((d = sim_domain_find(s, j->doms[i])))
            d->changed = false;
    j->n_doms = 0;
    j->n_gone = 0;
    j->pools = false;
    sim_store_changes_clear(s->store);
}

/* --- writing ------------------------------------------------------------ */

static int
gen_key_int(yajl_gen g, const char *key, uint64_t v)
{
    return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) ||
           yajl_gen_integer(g, (long long)v);
}

static int
gen_key(yajl_gen g, const char *key)
{
    return yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

/* The changed domains, settled at the clock, and the guests that dirty
 * memory whatever else changed: dirtying moves their dirty_seq on, and
 * this keeps it as fresh as the whole-state saves did. */
static int
gen_domains(struct sim *s, yajl_gen g)
{
    struct sim_journal *j = &s->journal;
    struct sim_domain *d;
    size_t i;
    int r = gen_key(g, "domains") || yajl_gen_array_open(g);

    for (i = 0; r == 0 && i < s->n_dirtiers; i++) {
        d = s->dirtiers[i];
        if (d->changed)
            continue;
        sim_domain_settle(d, s->last_ns);
        sim_state_gen_domain(g, d);
    }
    for (i = 0; r == 0 && i < j->n_doms; i++) {
        d = sim_domain_find(s, j->doms[i]);
        if (!d || !d->changed)
            continue; /* gone since, or listed twice */
        sim_domain_settle(d, s->last_ns);
        sim_state_gen_domain(g, d);
        d->changed = false;
    }
    return r || yajl_gen_array_close(g);
}

static int
gen_batch(struct sim *s, yajl_gen g)
{
    struct sim_journal *j = &s->journal;
    size_t i;
    int r = yajl_gen_map_open(g) || gen_key_int(g, "clock_ns", s->last_ns) ||
            gen_key_int(g, "next_domid", s->next_domid);

    if (r == 0 && j->pools) {
        r = gen_key(g, "pools");
        sim_state_gen_pools(g, s);
    }
    if (r == 0 && j->n_gone) {
        r = gen_key(g, "gone") || yajl_gen_array_open(g);
        for (i = 0; r == 0 && i < j->n_gone; i++)
            r = yajl_gen_integer(g, j->gone[i]);
        r = r || yajl_gen_array_close(g);
    }
    r = r || gen_domains(s, g);
    if (r == 0 && sim_store_n_changes(s->store))
        r = gen_key(g, "store") || sim_store_gen_changes(s->store, g);
    return r || yajl_gen_map_close(g);
}

static int
io_code(int err)
{
    return err == ENOSPC || err == EDQUOT ? KEEL_ENOSPC : KEEL_EIO;
}

/* One write of the whole line. A part of a line would make the lines
 * after it unreadable, so a failed write is cut off again, and when even
 * that fails the next sync writes everything anew. */
static int
append(struct sim *s, const char *buf, size_t len)
{
    struct sim_journal *j = &s->journal;
    size_t done = 0;
    ssize_t r;
    int err;

    while (done < len) {
        r = write(j->fd, buf + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : EIO;
            if (done && ftruncate(j->fd, (off_t)j->bytes) < 0)
                j->compact = true;
            errno = err;
            return keel_error_errno(s->ctx, io_code(err),
                                    "appending to %s/journal", s->dir);
        }
        done += (size_t)r;
    }
    j->bytes += len;
    return 0;
}

static uint64_t
limit(const struct sim_journal *j)
{
    return 2 * j->snapshot_bytes > JOURNAL_MIN_BYTES ? 2 * j->snapshot_bytes
                                                     : JOURNAL_MIN_BYTES;
}

/* The marks of a batch that was not written are put back. */
static void
unwrite(struct sim *s)
{
    struct sim_journal *j = &s->journal;
    struct sim_domain *d;
    size_t i;

    for (i = 0; i < j->n_doms; i++)
        if ((d = sim_domain_find(s, j->doms[i])))
            d->changed = true;
}

int
sim_journal_sync(struct sim *s)
{
    struct sim_journal *j = &s->journal;
    const unsigned char *buf;
    char *line = NULL;
    yajl_gen g = NULL;
    size_t len = 0;
    int rc = 0;

    if (j->compact || j->fd < 0)
        return sim_journal_compact(s);
    if (!has_changes(s))
        return 0;
    g = yajl_gen_alloc(NULL);
    if (!g || gen_batch(s, g) ||
        yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok ||
        !(line = malloc(len + 1))) {
        rc = keel_error(s->ctx, KEEL_ENOMEM,
                        "writing %s/journal: out of memory", s->dir);
        goto out;
    }
    memcpy(line, buf, len);
    line[len] = '\n';
    if (j->bytes + len + 1 > limit(j)) {
        rc = sim_journal_compact(s);
        goto out;
    }
    rc = append(s, line, len + 1);
    if (rc == 0)
        clear_marks(s);
out:
    if (rc)
        unwrite(s);
    if (g)
        yajl_gen_free(g);
    free(line);
    return rc;
}

static char *
journal_file(struct sim *s)
{
    return sim_path(s, "journal");
}

/* A new journal of generation gen, renamed into place; *fd_r stays open
 * for appending. */
static int
journal_create(struct sim *s, uint64_t gen, int *fd_r, uint64_t *len_r)
{
    char *file = journal_file(s);
    char *tmp = file ? keel__sprintf(s->ctx, "%s.tmp", file) : NULL;
    char head[128];
    int fd = -1, n, rc = 0;

    n = snprintf(head, sizeof(head),
                 "{\"format\":\"%s\",\"version\":%d,\"generation\":%" PRIu64
                 "}\n",
                 JOURNAL_FORMAT, JOURNAL_VERSION, gen);
    if (!tmp) {
        rc = KEEL_ENOMEM;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || write(fd, head, (size_t)n) != n || rename(tmp, file) < 0) {
        rc = keel_error_errno(s->ctx, io_code(errno), "writing %s", tmp);
        unlink(tmp);
        goto out;
    }
    *fd_r = fd;
    *len_r = (uint64_t)n;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(file);
    return rc;
}

static uint64_t
file_size(struct sim *s, const char *name)
{
    char *file = sim_path(s, name);
    struct stat st;
    uint64_t size = 0;

    if (file && stat(file, &st) == 0)
        size = (uint64_t)st.st_size;
    free(file);
    return size;
}

/* Until it succeeds, every sync tries again and nothing is appended: a
 * journal left behind a newer state.json would be ignored. */
int
sim_journal_compact(struct sim *s)
{
    struct sim_journal *j = &s->journal;
    char *store_file = sim_path(s, "store.json");
    uint64_t len = 0;
    int fd = -1, rc;

    j->compact = true;
    if (!store_file)
        return KEEL_ENOMEM;
    rc = sim_store_save(s->ctx, s->store, store_file);
    free(store_file);
    if (rc)
        return rc;
    j->generation++;
    rc = sim_state_save(s);
    if (rc == 0)
        rc = journal_create(s, j->generation, &fd, &len);
    if (j->fd >= 0)
        close(j->fd);
    j->fd = fd;
    if (rc)
        return rc;
    j->bytes = len;
    j->snapshot_bytes = file_size(s, "state.json") + file_size(s, "store.json");
    j->compact = false;
    clear_marks(s);
    return 0;
}

/* --- replaying ---------------------------------------------------------- */

/* A reader's place: the file and line, for messages. */
struct where {
    struct sim *s;
    char *text; /* "DIR/journal, line N (byte B)" */
};

static int
corrupt(struct where *w, const char *what)
{
    return keel_error(w->s->ctx, KEEL_ECORRUPT, "%s: %s", w->text, what);
}

static bool
get_u64(yajl_val v, uint64_t max, uint64_t *v_r)
{
    if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
        (uint64_t)YAJL_GET_INTEGER(v) > max)
        return false;
    *v_r = (uint64_t)YAJL_GET_INTEGER(v);
    return true;
}

/* Takes obj's members by key into slots; an unknown key is a fault. */
static int
take(struct where *w, yajl_val obj, const char *const keys[], yajl_val slots[],
     size_t n)
{
    size_t i, k;

    if (!YAJL_IS_OBJECT(obj))
        return corrupt(w, "not a JSON object");
    for (k = 0; k < n; k++)
        slots[k] = NULL;
    for (i = 0; i < obj->u.object.len; i++) {
        for (k = 0; k < n && strcmp(obj->u.object.keys[i], keys[k]); k++)
            ;
        if (k == n || slots[k])
            return corrupt(w, "unknown or repeated key");
        slots[k] = obj->u.object.values[i];
    }
    return 0;
}

/* The first line: 1 when the journal is a generation behind state.json
 * (left by a compaction killed before it could replace the journal). */
static int
replay_head(struct where *w, yajl_val root, bool *stale_r)
{
    static const char *const keys[] = {"format", "version", "generation"};
    yajl_val v[ARRAY_SIZE(keys)];
    uint64_t version, gen;
    int rc = take(w, root, keys, v, ARRAY_SIZE(keys));

    if (rc)
        return rc;
    if (!YAJL_IS_STRING(v[0]) || strcmp(v[0]->u.string, JOURNAL_FORMAT))
        return corrupt(w, "not a keel sim journal");
    if (!get_u64(v[1], UINT32_MAX, &version) || version != JOURNAL_VERSION)
        return corrupt(w, "unsupported journal version");
    if (!get_u64(v[2], INT64_MAX, &gen) || gen > w->s->journal.generation)
        return corrupt(w, "journal generation missing or newer than "
                          "state.json's");
    *stale_r = gen < w->s->journal.generation;
    return 0;
}

static int
replay_gone(struct where *w, yajl_val a)
{
    struct sim_domain *d;
    uint64_t domid;
    size_t i;

    if (!YAJL_IS_ARRAY(a))
        return corrupt(w, "\"gone\" is not an array");
    for (i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
        if (!get_u64(YAJL_GET_ARRAY(a)->values[i],
                     KEEL_DOMID_FIRST_RESERVED - 1, &domid) ||
            domid == 0)
            return corrupt(w, "\"gone\" names a domain that cannot go");
        d = sim_domain_find(w->s, (uint32_t)domid);
        if (d) {
            sim_domain_remove(w->s, d);
            sim_domain_free(d);
        }
    }
    return 0;
}

static int
replay_domains(struct where *w, yajl_val a)
{
    struct sim_domain *d, *old;
    size_t i;
    int rc = 0;

    if (!YAJL_IS_ARRAY(a))
        return corrupt(w, "\"domains\" is not an array");
    for (i = 0; rc == 0 && i < YAJL_GET_ARRAY(a)->len; i++) {
        rc = sim_state_read_domain(w->s, w->text, YAJL_GET_ARRAY(a)->values[i],
                                   &d);
        if (rc)
            break;
        old = sim_domain_find(w->s, d->domid);
        if (old) {
            sim_domain_remove(w->s, old);
            sim_domain_free(old);
        }
        rc = sim_domain_insert(w->s, d);
        if (rc)
            sim_domain_free(d);
    }
    return rc;
}

static int
replay_batch(struct where *w, yajl_val root)
{
    static const char *const keys[] = {"clock_ns", "next_domid", "pools",
                                       "gone",     "domains",    "store"};
    yajl_val v[ARRAY_SIZE(keys)];
    struct sim *s = w->s;
    uint64_t clock, next;
    int rc = take(w, root, keys, v, ARRAY_SIZE(keys));

    if (rc)
        return rc;
    if (!get_u64(v[0], INT64_MAX, &clock) ||
        !get_u64(v[1], KEEL_DOMID_FIRST_RESERVED, &next) || !v[4])
        return corrupt(w, "clock_ns, next_domid or domains missing or out "
                          "of range");
    s->last_ns = clock; /* before the domains: their records are as of it */
    s->next_domid = (uint32_t)next;
    if (v[2])
        rc = sim_state_read_pools(s, w->text, v[2]);
    if (rc == 0 && v[3])
        rc = replay_gone(w, v[3]);
    if (rc == 0)
        rc = replay_domains(w, v[4]);
    if (rc == 0 && v[5])
        rc = sim_store_replay(s->ctx, s->store, w->text, v[5]);
    return rc;
}

/* A domain in a pool that a later batch's pool list lacks. */
static int
check_pools(struct sim *s, const char *file)
{
    size_t i;

    for (i = 0; i < s->n_doms; i++)
        if (!sim_pool_find(s, s->doms[i]->poolid))
            return keel_error(s->ctx, KEEL_ECORRUPT,
                              "%s: leaves domain %u in CPU pool %u, which "
                              "does not exist",
                              file, s->doms[i]->domid, s->doms[i]->poolid);
    return 0;
}

/* One complete line, NUL-terminated in place of its '\n'. */
static int
replay_line(struct sim *s, const char *file, char *line, size_t len,
            size_t lineno, size_t off, bool *stale_r)
{
    struct where w = {s, NULL};
    yajl_val root = NULL;
    int rc;

    w.text =
        keel__sprintf(s->ctx, "%s, line %zu (byte %zu)", file, lineno, off);
    if (!w.text)
        return KEEL_ENOMEM;
    rc = keel__json_parse(s->ctx, w.text, line, len, JOURNAL_DEPTH, &root);
    if (rc == 0 && lineno == 1)
        rc = replay_head(&w, root, stale_r);
    else if (rc == 0)
        rc = replay_batch(&w, root);
    yajl_tree_free(root);
    free(w.text);
    return rc;
}

int
sim_journal_replay(struct sim *s, const char *file, char *text, size_t len,
                   size_t *good_r)
{
    size_t off = 0, lineno = 0;
    bool stale = false;
    char *nl;
    int rc = 0;

    *good_r = 0;
    /* A last line without its '\n' is an append the process did not
     * finish: the op it held is dropped whole. */
    while (rc == 0 && !stale && off < len &&
           (nl = memchr(text + off, '\n', len - off))) {
        *nl = '\0';
        rc = replay_line(s, file, text + off, (size_t)(nl - text) - off,
                         ++lineno, off, &stale);
        off = (size_t)(nl - text) + 1;
        if (rc == 0 && !stale)
            *good_r = off;
    }
    if (rc == 0 && lineno == 0)
        rc = keel_error(s->ctx, KEEL_ECORRUPT, "%s: has no header line", file);
    if (rc == 0 && stale) {
        *good_r = 0;
        s->journal.compact = true;
    }
    if (rc == 0)
        rc = check_pools(s, file);
    return rc;
}

/* A state.json that names a journal needs it: the journal holds what
 * happened since, so without it the host would silently go back. */
static int
read_whole(struct sim *s, const char *file, char **text_r, size_t *len_r)
{
    struct stat st;
    char *text = NULL;
    size_t done = 0, size;
    ssize_t r = 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc = 0;

    if (fd < 0 && errno == ENOENT)
        return keel_error(s->ctx, KEEL_ECORRUPT, "%s is missing", file);
    if (fd < 0)
        return keel_error_errno(s->ctx, KEEL_EIO, "cannot open %s", file);
    if (fstat(fd, &st) < 0 || !(text = malloc((size_t)st.st_size + 1))) {
        rc = keel_error_errno(s->ctx, KEEL_EIO, "reading %s", file);
        goto out;
    }
    size = (size_t)st.st_size;
    while (done < size) {
        r = read(fd, text + done, size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (r < 0) {
        rc = keel_error_errno(s->ctx, KEEL_EIO, "reading %s", file);
        goto out;
    }
    text[done] = '\0';
    *text_r = text;
    *len_r = done;
    text = NULL;
out:
    free(text);
    close(fd);
    return rc;
}

/* Keeps the journal open for appending, cut after its last whole line. */
static int
reopen(struct sim *s, const char *file, size_t good)
{
    struct sim_journal *j = &s->journal;

    j->fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (j->fd < 0 || ftruncate(j->fd, (off_t)good) < 0)
        return keel_error_errno(s->ctx, KEEL_EIO, "opening %s", file);
    j->bytes = good;
    return 0;
}

int
sim_journal_load(struct sim *s)
{
    struct sim_journal *j = &s->journal;
    char *file = journal_file(s), *text = NULL;
    size_t len = 0, good = 0;
    int rc;

    if (!file)
        return KEEL_ENOMEM;
    j->snapshot_bytes = file_size(s, "state.json") + file_size(s, "store.json");
    if (j->generation == 0) {
        /* state.json from before the journal: it holds everything */
        j->compact = true;
        free(file);
        return 0;
    }
    rc = read_whole(s, file, &text, &len);
    if (rc == 0)
        rc = sim_journal_replay(s, file, text, len, &good);
    if (rc == 0 && !j->compact)
        rc = reopen(s, file, good);
    free(text);
    free(file);
    return rc;
}
