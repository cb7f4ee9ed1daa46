/* store.c: the sim backend's xenstore-like tree and its file, store.json
 *
 * A node has a value (0 to STORE_VALUE_MAX arbitrary bytes) and children
 * kept in an array sorted by name (strcmp order): a lookup is a binary
 * search per path component and a listing needs no sort, so thousands of
 * children under one node (/local/domain) stay cheap; an insert or a
 * removal moves pointers, a memmove of a few tens of KB at worst.
 *
 * Writes are all-or-nothing: everything a write allocates (the value copy,
 * the missing parents, room in the parent's array) is allocated before the
 * tree is touched, so KEEL_ENOMEM leaves the tree as it was. Load builds a
 * whole new tree and swaps it in only once the file has been checked end
 * to end.
 *
 * Changes: with logging on (the sim's), every write or removal that
 * changes the tree is also kept as a change until the journal has taken
 * it (sim_store_gen_changes, sim_store_replay). The change is prepared
 * with the rest of the write's allocations, so a tree never changes
 * without its change being kept. Replaying a series of changes over a
 * tree that already holds them gives that tree again: a node's fate
 * depends only on the last change that set it, removed it or one of its
 * parents, or created it as the parent of a write; so a journal that is
 * replayed over a store.json written after it is harmless.
 *
 * Depth: yajl_gen refuses to nest deeper than YAJL_MAX_DEPTH (128) and
 * each node costs two levels of store.json (its object and its "c"
 * object), so a path has at most STORE_MAX_DEPTH components; a tree that
 * could not be saved is never built. Real xenstore paths are under ten
 * deep.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "sim.h"

/* store.json, compact JSON:
 *   {"format": "keel-sim-store", "version": 1, "tree": NODE}
 *   NODE = {"v": "text"} or {"x": "hex"}, plus "c": {NAME: NODE, ...}
 *          when the node has children (the root is the node of "/")
 * "v" holds a value whose bytes are all printable ASCII (0x20-0x7e); "x"
 * holds any other value as hex, two digits per byte, because JSON strings
 * are UTF-8 text and values are bytes.
 * Checklist when changing it: bump STORE_VERSION (and decide whether older
 * files still load), save_node() and load_node() here, the round-trip and
 * corrupt-file tests in tests/unit/test-sim-store.c.
 *
 * A change, in the journal: {"w": PATH, "v": "text"} or {"w": PATH, "x":
 * "hex"} (a write, the value as in a node), or {"rm": PATH} (a removal).
 * Checklist: gen_change() and replay_change() here, the journal's format
 * (journal.c), the journal tests in tests/unit/test-sim-persist.c.
 */
#define STORE_FORMAT "keel-sim-store"
#define STORE_VERSION 1

#define STORE_PATH_MAX 3072             /* XENSTORE_ABS_PATH_MAX */
#define STORE_VALUE_MAX 4096            /* XENSTORE_PAYLOAD_MAX */
#define STORE_MAX_DEPTH 60              /* components; see the head comment */
#define STORE_JSON_DEPTH YAJL_MAX_DEPTH /* deeper: not a file we wrote */
#define STORE_FILE_MAX (1024L * 1024 * 1024)
#define SHOW_MAX 64 /* bytes of untrusted text in a message */

struct node {
    uint8_t *val; /* len bytes, NULL when len is 0 */
    size_t len;
    struct node **kids; /* sorted by name */
    size_t n_kids;
    size_t cap_kids;
    char name[]; /* "" for the root */
};

/* A change kept for the journal: a write of val (len bytes), or a
 * removal. */
struct change {
    bool removed;
    char *path;
    uint8_t *val;
    size_t len;
};

struct sim_store {
    struct node *root;
    bool dirty;
    bool log;               /* keep changes */
    struct change *changes; /* oldest first */
    size_t n_changes, cap_changes;
};

/* Where a path leads: the deepest node on it that exists. */
struct walk {
    struct node *node;
    struct node *parent; /* node's parent, NULL for the root */
    size_t idx;          /* node's index in parent */
    size_t gap;          /* where the first missing component would go */
    const char *rest;    /* "" when node is the path's end, else the
                          * "/missing/..." part */
};

struct saver {
    yajl_gen g;
    FILE *f;
    int err; /* errno of the first failed write, or 0 */
    char hex[2 * STORE_VALUE_MAX];
};

struct loader {
    struct keel_ctx *ctx;
    const char *file;
    bool in_tree;    /* messages name the node at path */
    size_t path_len; /* 0 at the root */
    char path[STORE_PATH_MAX + 1];
};

static struct node *
node_new(const char *name, size_t nlen)
{
    struct node *n = calloc(1, sizeof(*n) + nlen + 1);

    if (n)
        memcpy(n->name, name, nlen);
    return n;
}

static void
node_free(struct node *n)
{
    size_t i;

    if (!n)
        return;
    for (i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->val);
    free(n);
}

static bool
name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '@' || c == '.' ||
           c == ':' || c == '-';
}

static size_t
name_span(const char *s)
{
    size_t i = 0;

    while (name_char((unsigned char)s[i]))
        i++;
    return i;
}

static bool
printable(const uint8_t *val, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (val[i] < 0x20 || val[i] > 0x7e)
            return false;
    return true;
}

/* Copies untrusted text into buf for a message: at most SHOW_MAX bytes,
 * anything but printable ASCII shown as '?', "..." when cut. */
static const char *
show(char buf[SHOW_MAX + 4], const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i < SHOW_MAX; i++)
        buf[i] = printable((const uint8_t *)&s[i], 1) ? s[i] : '?';
    strcpy(buf + i, s[i] != '\0' ? "..." : "");
    return buf;
}

/* Compares a node's name with the component comp[0..clen), as strcmp. */
static int
name_cmp(const char *name, const char *comp, size_t clen)
{
    int r = strncmp(name, comp, clen);

    if (r != 0)
        return r;
    return name[clen] != '\0';
}

/* Binary search among n's children: true and the index when found, else
 * false and the index where comp would go. */
static bool
kid_find(const struct node *n, const char *comp, size_t clen, size_t *idx_r)
{
    size_t lo = 0, hi = n->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = name_cmp(n->kids[mid]->name, comp, clen);

        if (r == 0) {
            *idx_r = mid;
            return true;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *idx_r = lo;
    return false;
}

static int
kid_cmp(const void *a, const void *b)
{
    const struct node *const *x = a;
    const struct node *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* Follows a checked path from the root as far as it exists. */
static void
walk(struct sim_store *store, const char *path, struct walk *w)
{
    const char *p = strcmp(path, "/") == 0 ? path + 1 : path;

    w->node = store->root;
    w->parent = NULL;
    w->idx = 0;
    w->gap = 0;
    while (*p != '\0') {
        const char *comp = p + 1;
        size_t clen = strcspn(comp, "/");
        size_t i;

        if (!kid_find(w->node, comp, clen, &i)) {
            w->gap = i;
            break;
        }
        w->parent = w->node;
        w->idx = i;
        w->node = w->node->kids[i];
        p = comp + clen;
    }
    w->rest = p;
}

int
sim_store_new(struct sim_store **store_r)
{
    struct sim_store *store = calloc(1, sizeof(*store));

    *store_r = NULL;
    if (!store)
        return KEEL_ENOMEM;
    store->root = node_new("", 0);
    if (!store->root) {
        free(store);
        return KEEL_ENOMEM;
    }
    *store_r = store;
    return 0;
}

void
sim_store_free(struct sim_store *store)
{
    if (!store)
        return;
    sim_store_changes_clear(store);
    free(store->changes);
    node_free(store->root);
    free(store);
}

bool
sim_store_dirty(const struct sim_store *store)
{
    return store->dirty;
}

/* The syntax of one component starting at path[start]: 0, or an error. */
static int
check_comp(struct keel_ctx *ctx, const char *path, size_t start, size_t *end_r)
{
    char shown[SHOW_MAX + 4];
    size_t end = start + name_span(path + start);

    *end_r = end;
    if (path[end] != '/' && path[end] != '\0')
        return keel_error(ctx, KEEL_EINVAL,
                          "store path \"%s\" has invalid character 0x%02x "
                          "at offset %zu (allowed: A-Z a-z 0-9 _ @ . : -)",
                          show(shown, path), (unsigned char)path[end], end);
    if (end == start)
        return keel_error(ctx, KEEL_EINVAL,
                          "store path \"%s\" has an empty component at "
                          "offset %zu",
                          show(shown, path), start);
    return 0;
}

int
sim_store_check_path(struct keel_ctx *ctx, const char *path)
{
    char shown[SHOW_MAX + 4];
    size_t len, start, end, depth = 0;
    int rc;

    if (!path)
        return keel_error(ctx, KEEL_EINVAL, "no store path given (NULL)");
    len = strnlen(path, STORE_PATH_MAX + 1);
    if (len > STORE_PATH_MAX)
        return keel_error(ctx, KEEL_E2BIG,
                          "store path \"%s\" is longer than %d bytes",
                          show(shown, path), STORE_PATH_MAX);
    if (path[0] != '/')
        return keel_error(ctx, KEEL_EINVAL,
                          "store path \"%s\" is not absolute (must start "
                          "with '/')",
                          show(shown, path));
    if (len == 1)
        return 0;
    if (path[len - 1] == '/')
        return keel_error(ctx, KEEL_EINVAL, "store path \"%s\" ends with '/'",
                          show(shown, path));
    for (start = 1; start <= len; start = end + 1) {
        rc = check_comp(ctx, path, start, &end);
        if (rc)
            return rc;
        if (++depth > STORE_MAX_DEPTH)
            return keel_error(ctx, KEEL_E2BIG,
                              "store path \"%s\" has more than %d "
                              "components",
                              show(shown, path), STORE_MAX_DEPTH);
    }
    return 0;
}

/* sim_store_check_path's rules, without a message: for paths read from a
 * file, whose fault is the file's. */
static bool
path_valid(const char *path)
{
    size_t len = strnlen(path, STORE_PATH_MAX + 1), start, end, depth = 0;

    if (len > STORE_PATH_MAX || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    for (start = 1; start <= len; start = end + 1) {
        end = start + name_span(path + start);
        if (end == start || (path[end] != '/' && path[end] != '\0') ||
            ++depth > STORE_MAX_DEPTH)
            return false;
    }
    return true;
}

int
sim_store_read(struct keel_ctx *ctx, struct sim_store *store, const char *path,
               char **val_r, size_t *len_r)
{
    struct walk w;
    char *buf;
    int rc;

    *val_r = NULL;
    if (len_r)
        *len_r = 0;
    rc = sim_store_check_path(ctx, path);
    if (rc)
        return rc;
    walk(store, path, &w);
    if (*w.rest != '\0')
        return keel_error(ctx, KEEL_ENOENT, "no store node %s", path);
    buf = malloc(w.node->len + 1);
    if (!buf)
        return keel_error(ctx, KEEL_ENOMEM, "reading %s: out of memory", path);
    if (w.node->len > 0)
        memcpy(buf, w.node->val, w.node->len);
    buf[w.node->len] = '\0';
    *val_r = buf;
    if (len_r)
        *len_r = w.node->len;
    return 0;
}

/* Prepares the change a write or removal of path will make: a copy of
 * the path in *c and room for it in the log. Nothing when logging is off.
 * False when out of memory. */
static bool
change_prepare(struct sim_store *store, const char *path, struct change *c)
{
    struct change *grown;
    size_t cap;

    memset(c, 0, sizeof(*c));
    if (!store->log)
        return true;
    if (store->n_changes == store->cap_changes) {
        cap = store->cap_changes ? 2 * store->cap_changes : 8;
        grown = realloc(store->changes, cap * sizeof(*grown));
        if (!grown)
            return false;
        store->changes = grown;
        store->cap_changes = cap;
    }
    c->path = strdup(path);
    return c->path != NULL;
}

/* Keeps a prepared change (taking its path and val), or drops it. */
static void
change_commit(struct sim_store *store, struct change *c, bool keep)
{
    if (keep && c->path) {
        store->changes[store->n_changes++] = *c;
        return;
    }
    free(c->path);
    free(c->val);
}

void
sim_store_log(struct sim_store *store, bool on)
{
    store->log = on;
}

size_t
sim_store_n_changes(const struct sim_store *store)
{
    return store->n_changes;
}

void
sim_store_changes_clear(struct sim_store *store)
{
    size_t i;

    for (i = 0; i < store->n_changes; i++) {
        free(store->changes[i].path);
        free(store->changes[i].val);
    }
    store->n_changes = 0;
}

/* Builds the missing part of a path, rest = "/b/c", as a detached chain
 * of new nodes b -> c; returns its top and sets *leaf_r to its end. */
static struct node *
chain_new(const char *rest, struct node **leaf_r)
{
    struct node *top = NULL, *last = NULL, *n;
    bool ok = false;

    while (*rest != '\0') {
        const char *comp = rest + 1;
        size_t clen = strcspn(comp, "/");

        n = node_new(comp, clen);
        if (!n)
            goto out;
        if (!last) {
            top = n;
        } else {
            last->kids = malloc(sizeof(*last->kids));
            if (!last->kids) {
                free(n);
                goto out;
            }
            last->kids[0] = n;
            last->n_kids = last->cap_kids = 1;
        }
        last = n;
        rest = comp + clen;
    }
    *leaf_r = last;
    ok = true;
out:
    if (!ok) {
        node_free(top);
        top = NULL;
    }
    return top;
}

/* Makes room for one more child of n. */
static bool
kids_reserve(struct node *n)
{
    struct node **kids;
    size_t cap;

    if (n->n_kids < n->cap_kids)
        return true;
    cap = n->cap_kids ? 2 * n->cap_kids : 4;
    kids = realloc(n->kids, cap * sizeof(*kids));
    if (!kids)
        return false;
    n->kids = kids;
    n->cap_kids = cap;
    return true;
}

/* Gives an existing node the value copy (which it takes over); false
 * when the node held that value already. */
static bool
node_set(struct sim_store *store, struct node *n, uint8_t *copy, size_t len)
{
    if (n->len == len && (len == 0 || memcmp(n->val, copy, len) == 0)) {
        free(copy);
        return false;
    }
    free(n->val);
    n->val = copy;
    n->len = len;
    store->dirty = true;
    return true;
}

/* A second copy of a value, for the change; false when out of memory. */
static bool
change_value(struct change *c, const void *val, size_t len)
{
    if (!c->path || len == 0)
        return true;
    c->val = malloc(len);
    if (c->val)
        memcpy(c->val, val, len);
    c->len = len;
    return c->val != NULL;
}

int
sim_store_write(struct keel_ctx *ctx, struct sim_store *store, const char *path,
                const void *val, size_t len)
{
    struct node *top, *leaf = NULL;
    uint8_t *copy = NULL;
    struct change c;
    struct walk w;
    int rc;

    rc = sim_store_check_path(ctx, path);
    if (rc)
        return rc;
    if (len > STORE_VALUE_MAX)
        return keel_error(ctx, KEEL_E2BIG,
                          "value for %s is %zu bytes, more than %d", path, len,
                          STORE_VALUE_MAX);
    if (!val && len > 0)
        return keel_error(ctx, KEEL_EINVAL,
                          "value for %s is NULL but %zu bytes long", path, len);
    if (!change_prepare(store, path, &c) || !change_value(&c, val, len)) {
        change_commit(store, &c, false);
        return keel_error(ctx, KEEL_ENOMEM, "writing %s: out of memory", path);
    }
    if (len > 0) {
        copy = malloc(len);
        if (!copy) {
            change_commit(store, &c, false);
            return keel_error(ctx, KEEL_ENOMEM, "writing %s: out of memory",
                              path);
        }
        memcpy(copy, val, len);
    }
    walk(store, path, &w);
    if (*w.rest == '\0') {
        change_commit(store, &c, node_set(store, w.node, copy, len));
        return 0;
    }
    top = chain_new(w.rest, &leaf);
    if (!top || !kids_reserve(w.node)) {
        node_free(top);
        free(copy);
        change_commit(store, &c, false);
        return keel_error(ctx, KEEL_ENOMEM, "writing %s: out of memory", path);
    }
    leaf->val = copy;
    leaf->len = len;
    memmove(&w.node->kids[w.gap + 1], &w.node->kids[w.gap],
            (w.node->n_kids - w.gap) * sizeof(*w.node->kids));
    w.node->kids[w.gap] = top;
    w.node->n_kids++;
    store->dirty = true;
    change_commit(store, &c, true);
    return 0;
}

/* Takes the node w found (not the root) out of the tree and frees it. */
static void
node_unlink(struct sim_store *store, const struct walk *w)
{
    struct node *parent = w->parent;

    memmove(&parent->kids[w->idx], &parent->kids[w->idx + 1],
            (parent->n_kids - w->idx - 1) * sizeof(*parent->kids));
    parent->n_kids--;
    if (parent->n_kids == 0) {
        free(parent->kids);
        parent->kids = NULL;
        parent->cap_kids = 0;
    }
    node_free(w->node);
    store->dirty = true;
}

int
sim_store_remove(struct keel_ctx *ctx, struct sim_store *store,
                 const char *path)
{
    struct change c;
    struct walk w;
    int rc;

    rc = sim_store_check_path(ctx, path);
    if (rc)
        return rc;
    if (strcmp(path, "/") == 0)
        return keel_error(ctx, KEEL_EPERM,
                          "the store root \"/\" cannot be removed");
    walk(store, path, &w);
    if (*w.rest != '\0')
        return keel_error(ctx, KEEL_ENOENT, "no store node %s", path);
    if (!change_prepare(store, path, &c))
        return keel_error(ctx, KEEL_ENOMEM, "removing %s: out of memory", path);
    c.removed = true;
    change_commit(store, &c, true);
    node_unlink(store, &w);
    return 0;
}

/* names_r is one block: n + 1 pointers (the last NULL), then the strings,
 * so one free() releases it and an empty list is still a valid block. */
int
sim_store_list(struct keel_ctx *ctx, struct sim_store *store, const char *path,
               char ***names_r, size_t *n_r)
{
    size_t i, size, len;
    struct walk w;
    char **names;
    char *p;
    int rc;

    *names_r = NULL;
    *n_r = 0;
    rc = sim_store_check_path(ctx, path);
    if (rc)
        return rc;
    walk(store, path, &w);
    if (*w.rest != '\0')
        return keel_error(ctx, KEEL_ENOENT, "no store node %s", path);
    size = (w.node->n_kids + 1) * sizeof(*names);
    for (i = 0; i < w.node->n_kids; i++)
        size += strlen(w.node->kids[i]->name) + 1;
    names = malloc(size);
    if (!names)
        return keel_error(ctx, KEEL_ENOMEM, "listing %s: out of memory", path);
    p = (char *)(names + w.node->n_kids + 1);
    for (i = 0; i < w.node->n_kids; i++) {
        len = strlen(w.node->kids[i]->name) + 1;
        memcpy(p, w.node->kids[i]->name, len);
        names[i] = p;
        p += len;
    }
    names[w.node->n_kids] = NULL;
    *names_r = names;
    *n_r = w.node->n_kids;
    return 0;
}

/* --- save ---------------------------------------------------------------- */

static void
save_print(void *opaque, const char *s, size_t len)
{
    struct saver *sv = opaque;

    if (len > 0 && fwrite(s, 1, len, sv->f) != len && sv->err == 0)
        sv->err = errno ? errno : EIO;
}

static int
gen_str(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* "v" or "x" and the value; 0, or non-zero when yajl_gen failed. */
static int
save_bytes(struct saver *sv, const uint8_t *val, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (printable(val, len))
        return gen_str(sv->g, "v") ||
               yajl_gen_string(sv->g, len ? val : (const uint8_t *)"", len);
    for (i = 0; i < len; i++) {
        sv->hex[2 * i] = digits[val[i] >> 4];
        sv->hex[2 * i + 1] = digits[val[i] & 0xf];
    }
    return gen_str(sv->g, "x") ||
           yajl_gen_string(sv->g, (const uint8_t *)sv->hex, 2 * len);
}

static int
save_value(struct saver *sv, const struct node *n)
{
    return save_bytes(sv, n->val, n->len);
}

static int
save_node(struct saver *sv, const struct node *n)
{
    size_t i;

    if (yajl_gen_map_open(sv->g) || save_value(sv, n))
        return -1;
    if (n->n_kids > 0) {
        if (gen_str(sv->g, "c") || yajl_gen_map_open(sv->g))
            return -1;
        for (i = 0; i < n->n_kids; i++)
            if (gen_str(sv->g, n->kids[i]->name) || save_node(sv, n->kids[i]))
                return -1;
        if (yajl_gen_map_close(sv->g))
            return -1;
    }
    return yajl_gen_map_close(sv->g) ? -1 : 0;
}

static int
save_doc(struct saver *sv, const struct node *root)
{
    return yajl_gen_map_open(sv->g) || gen_str(sv->g, "format") ||
           gen_str(sv->g, STORE_FORMAT) || gen_str(sv->g, "version") ||
           yajl_gen_integer(sv->g, STORE_VERSION) || gen_str(sv->g, "tree") ||
           save_node(sv, root) || yajl_gen_map_close(sv->g);
}

static int
io_code(int err)
{
    return err == ENOSPC || err == EDQUOT ? KEEL_ENOSPC : KEEL_EIO;
}

/* Writes the whole tree to tmp. */
static int
save_file(struct keel_ctx *ctx, const struct node *root, const char *tmp,
          struct saver *sv)
{
    int fd, rc = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return keel_error_errno(ctx, io_code(errno), "cannot create %s", tmp);
    sv->f = fdopen(fd, "w");
    if (!sv->f) {
        rc = keel_error_errno(ctx, KEEL_ENOMEM, "fdopen %s", tmp);
        close(fd);
        return rc;
    }
    sv->g = yajl_gen_alloc(NULL);
    if (!sv->g) {
        rc = keel_error(ctx, KEEL_ENOMEM, "saving %s: out of memory", tmp);
        goto out;
    }
    yajl_gen_config(sv->g, yajl_gen_print_callback, save_print, sv);
    if (save_doc(sv, root) && sv->err == 0) {
        rc = keel_error(ctx, KEEL_EIO, "%s: yajl_gen failed", tmp);
        goto out;
    }
    save_print(sv, "\n", 1);
out:
    if (sv->g)
        yajl_gen_free(sv->g);
    if (fclose(sv->f) != 0 && sv->err == 0)
        sv->err = errno;
    if (rc == 0 && sv->err != 0) {
        errno = sv->err;
        rc = keel_error_errno(ctx, io_code(sv->err), "cannot write %s", tmp);
    }
    return rc;
}

/* No fsync: the file guards against the process dying (a crash leaves
 * the old store.json or the new one, never half of one), not against the
 * machine losing power. */
int
sim_store_save(struct keel_ctx *ctx, struct sim_store *store, const char *file)
{
    struct saver *sv = NULL;
    char *tmp = NULL;
    int rc;

    tmp = keel__sprintf(ctx, "%s.tmp", file);
    sv = calloc(1, sizeof(*sv));
    if (!tmp || !sv) {
        rc = keel_error(ctx, KEEL_ENOMEM, "saving %s: out of memory", file);
        goto out;
    }
    rc = save_file(ctx, store->root, tmp, sv);
    if (rc)
        goto out;
    if (rename(tmp, file) != 0) {
        rc = keel_error_errno(ctx, io_code(errno), "cannot rename %s to %s",
                              tmp, file);
        goto out;
    }
    store->dirty = false;
out:
    if (rc && tmp)
        unlink(tmp);
    free(sv);
    free(tmp);
    return rc;
}

/* --- changes, for the journal --------------------------------------------- */

static int
gen_change(struct saver *sv, const struct change *c)
{
    if (yajl_gen_map_open(sv->g))
        return -1;
    if (c->removed)
        return gen_str(sv->g, "rm") || gen_str(sv->g, c->path) ||
               yajl_gen_map_close(sv->g);
    return gen_str(sv->g, "w") || gen_str(sv->g, c->path) ||
           save_bytes(sv, c->val, c->len) || yajl_gen_map_close(sv->g);
}

int
sim_store_gen_changes(const struct sim_store *store, yajl_gen g)
{
    struct saver *sv = calloc(1, sizeof(*sv));
    size_t i;
    int r;

    if (!sv)
        return -1;
    sv->g = g;
    r = yajl_gen_array_open(g);
    for (i = 0; r == 0 && i < store->n_changes; i++)
        r = gen_change(sv, &store->changes[i]);
    if (r == 0)
        r = yajl_gen_array_close(g);
    free(sv);
    return r;
}

/* --- load ---------------------------------------------------------------- */

static int corrupt(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records KEEL_ECORRUPT naming the file and, inside the tree, the node. */
static int
corrupt(struct loader *ld, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!ld->in_tree)
        return keel_error(ld->ctx, KEEL_ECORRUPT, "%s: %s", ld->file, msg);
    return keel_error(ld->ctx, KEEL_ECORRUPT, "%s: node %s: %s", ld->file,
                      ld->path_len ? ld->path : "/", msg);
}

static int
no_mem(struct loader *ld)
{
    return keel_error(ld->ctx, KEEL_ENOMEM, "loading %s: out of memory",
                      ld->file);
}

/* Sorts obj's members into slots by key (keys[k] fills slots[k]); an
 * unknown or repeated key is a fault. */
static int
take_keys(struct loader *ld, yajl_val obj, const char *const keys[],
          yajl_val slots[], size_t n)
{
    char shown[SHOW_MAX + 4];
    size_t i, k;

    for (k = 0; k < n; k++)
        slots[k] = NULL;
    for (i = 0; i < obj->u.object.len; i++) {
        const char *key = obj->u.object.keys[i];

        for (k = 0; k < n && strcmp(key, keys[k]) != 0; k++)
            ;
        if (k == n)
            return corrupt(ld, "unknown key \"%s\"", show(shown, key));
        if (slots[k])
            return corrupt(ld, "key \"%s\" appears twice", keys[k]);
        slots[k] = obj->u.object.values[i];
    }
    return 0;
}

static int
load_text(struct loader *ld, yajl_val v, struct node *n)
{
    size_t len;

    if (!YAJL_IS_STRING(v))
        return corrupt(ld, "\"v\" is not a string");
    len = strlen(v->u.string);
    if (len > STORE_VALUE_MAX)
        return corrupt(ld, "value is %zu bytes, more than %d", len,
                       STORE_VALUE_MAX);
    if (!printable((const uint8_t *)v->u.string, len))
        return corrupt(ld, "\"v\" holds a byte that is not printable "
                           "ASCII (such values are stored as \"x\")");
    if (len == 0)
        return 0;
    n->val = malloc(len);
    if (!n->val)
        return no_mem(ld);
    memcpy(n->val, v->u.string, len);
    n->len = len;
    return 0;
}

static int
load_hex(struct loader *ld, yajl_val v, struct node *n)
{
    const char *s;
    size_t len, i;
    int hi, lo;

    if (!YAJL_IS_STRING(v))
        return corrupt(ld, "\"x\" is not a string");
    s = v->u.string;
    len = strlen(s);
    if (len % 2 != 0)
        return corrupt(ld, "\"x\" has an odd number of hex digits");
    if (len / 2 > STORE_VALUE_MAX)
        return corrupt(ld, "value is %zu bytes, more than %d", len / 2,
                       STORE_VALUE_MAX);
    if (len == 0)
        return 0;
    n->val = malloc(len / 2);
    if (!n->val)
        return no_mem(ld);
    for (i = 0; i < len / 2; i++) {
        hi = keel__hexval(s[2 * i]);
        lo = keel__hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return corrupt(ld,
                           "\"x\" has a non-hex character near "
                           "offset %zu",
                           2 * i);
        n->val[i] = (uint8_t)(hi << 4 | lo);
    }
    n->len = len / 2;
    return 0;
}

static int load_node(struct loader *ld, yajl_val obj, struct node *n,
                     unsigned int depth);

/* Adds child name of n, read from obj; ld->path follows it down. */
static int
load_kid(struct loader *ld, const char *name, yajl_val obj, struct node *n,
         unsigned int depth)
{
    char shown[SHOW_MAX + 4];
    size_t nlen = strlen(name), span = name_span(name);
    size_t saved = ld->path_len;
    struct node *kid;
    int rc;

    if (nlen == 0)
        return corrupt(ld, "has a child with an empty name");
    if (span != nlen)
        return corrupt(ld, "child name \"%s\" has invalid character 0x%02x",
                       show(shown, name), (unsigned char)name[span]);
    if (saved + 1 + nlen > STORE_PATH_MAX)
        return corrupt(ld, "child \"%s\" makes a path longer than %d bytes",
                       show(shown, name), STORE_PATH_MAX);
    kid = node_new(name, nlen);
    if (!kid)
        return no_mem(ld);
    n->kids[n->n_kids++] = kid;
    ld->path[saved] = '/';
    memcpy(ld->path + saved + 1, name, nlen + 1);
    ld->path_len = saved + 1 + nlen;
    rc = load_node(ld, obj, kid, depth);
    ld->path_len = saved;
    ld->path[saved] = '\0';
    return rc;
}

static int
load_kids(struct loader *ld, yajl_val obj, struct node *n, unsigned int depth)
{
    size_t i, count;
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return corrupt(ld, "\"c\" is not an object");
    count = obj->u.object.len;
    if (count == 0)
        return 0;
    if (depth >= STORE_MAX_DEPTH)
        return corrupt(ld, "has children deeper than %d components",
                       STORE_MAX_DEPTH);
    n->kids = calloc(count, sizeof(*n->kids));
    if (!n->kids)
        return no_mem(ld);
    n->cap_kids = count;
    for (i = 0; i < count; i++) {
        rc = load_kid(ld, obj->u.object.keys[i], obj->u.object.values[i], n,
                      depth + 1);
        if (rc)
            return rc;
    }
    qsort(n->kids, count, sizeof(*n->kids), kid_cmp);
    for (i = 1; i < count; i++)
        if (strcmp(n->kids[i - 1]->name, n->kids[i]->name) == 0)
            return corrupt(ld, "child \"%s\" appears twice", n->kids[i]->name);
    return 0;
}

static int
load_node(struct loader *ld, yajl_val obj, struct node *n, unsigned int depth)
{
    static const char *const keys[] = {"v", "x", "c"};
    yajl_val v[ARRAY_SIZE(keys)];
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return corrupt(ld, "is not an object");
    rc = take_keys(ld, obj, keys, v, ARRAY_SIZE(keys));
    if (rc)
        return rc;
    if (!v[0] == !v[1])
        return corrupt(ld, "needs exactly one of \"v\" and \"x\"");
    rc = v[0] ? load_text(ld, v[0], n) : load_hex(ld, v[1], n);
    if (rc == 0 && v[2])
        rc = load_kids(ld, v[2], n, depth);
    return rc;
}

static int
load_doc(struct loader *ld, yajl_val doc, struct node **root_r)
{
    static const char *const keys[] = {"format", "version", "tree"};
    yajl_val v[ARRAY_SIZE(keys)];
    struct node *root;
    int rc;

    if (!YAJL_IS_OBJECT(doc))
        return corrupt(ld, "is not a JSON object");
    rc = take_keys(ld, doc, keys, v, ARRAY_SIZE(keys));
    if (rc)
        return rc;
    if (!YAJL_IS_STRING(v[0]) || strcmp(v[0]->u.string, STORE_FORMAT) != 0)
        return corrupt(ld,
                       "not a keel sim store (\"format\" is not \"" STORE_FORMAT
                       "\")");
    if (!YAJL_IS_INTEGER(v[1]))
        return corrupt(ld, "\"version\" is missing or not an integer");
    if (YAJL_GET_INTEGER(v[1]) != STORE_VERSION)
        return corrupt(ld, "version %lld, but this keel reads version %d",
                       (long long)YAJL_GET_INTEGER(v[1]), STORE_VERSION);
    if (!v[2])
        return corrupt(ld, "has no \"tree\"");
    root = node_new("", 0);
    if (!root)
        return no_mem(ld);
    ld->in_tree = true;
    rc = load_node(ld, v[2], root, 0);
    if (rc) {
        node_free(root);
        return rc;
    }
    *root_r = root;
    return 0;
}

/* Reads fd to its end into *buf (*cap bytes, grown as needed) and
 * NUL-terminates it. */
static int
read_all(struct keel_ctx *ctx, const char *file, int fd, char **buf,
         size_t *cap, size_t *len_r)
{
    size_t len = 0;
    ssize_t r;
    char *p;

    for (;;) {
        if (len + 1 == *cap) {
            if (*cap > STORE_FILE_MAX)
                return keel_error(ctx, KEEL_ECORRUPT,
                                  "%s: larger than %ld bytes", file,
                                  STORE_FILE_MAX);
            p = realloc(*buf, 2 * *cap);
            if (!p)
                return keel_error(ctx, KEEL_ENOMEM, "loading %s: out of memory",
                                  file);
            *buf = p;
            *cap *= 2;
        }
        r = read(fd, *buf + len, *cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return keel_error_errno(ctx, KEEL_EIO, "cannot read %s", file);
        if (r == 0)
            break;
        len += (size_t)r;
    }
    (*buf)[len] = '\0';
    *len_r = len;
    return 0;
}

static int
read_file(struct keel_ctx *ctx, const char *file, char **buf_r, size_t *len_r)
{
    struct stat st;
    char *buf = NULL;
    size_t cap;
    int fd, rc;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return keel_error_errno(ctx, errno == ENOENT ? KEEL_ENOENT : KEEL_EIO,
                                "cannot open %s", file);
    if (fstat(fd, &st) != 0) {
        rc = keel_error_errno(ctx, KEEL_EIO, "cannot stat %s", file);
        goto out;
    }
    if (st.st_size > STORE_FILE_MAX) {
        rc = keel_error(ctx, KEEL_ECORRUPT, "%s: larger than %ld bytes", file,
                        STORE_FILE_MAX);
        goto out;
    }
    /* Room for the NUL and for the read that sees the end. */
    cap = (size_t)st.st_size + 2;
    buf = malloc(cap);
    if (!buf) {
        rc = keel_error(ctx, KEEL_ENOMEM, "loading %s: out of memory", file);
        goto out;
    }
    rc = read_all(ctx, file, fd, &buf, &cap, len_r);
    if (rc == 0) {
        *buf_r = buf;
        buf = NULL;
    }
out:
    free(buf);
    close(fd);
    return rc;
}

int
sim_store_load(struct keel_ctx *ctx, struct sim_store *store, const char *file)
{
    struct loader *ld = NULL;
    struct node *root = NULL;
    yajl_val doc = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    rc = read_file(ctx, file, &buf, &len);
    if (rc)
        goto out;
    rc = keel__json_parse(ctx, file, buf, len, STORE_JSON_DEPTH, &doc);
    if (rc)
        goto out;
    ld = calloc(1, sizeof(*ld));
    if (!ld) {
        rc = keel_error(ctx, KEEL_ENOMEM, "loading %s: out of memory", file);
        goto out;
    }
    ld->ctx = ctx;
    ld->file = file;
    rc = load_doc(ld, doc, &root);
    if (rc)
        goto out;
    node_free(store->root);
    store->root = root;
    root = NULL;
    store->dirty = false;
out:
    node_free(root);
    yajl_tree_free(doc);
    free(ld);
    free(buf);
    return rc;
}

/* --- replaying changes ---------------------------------------------------- */

static int
replay_value(struct loader *ld, struct sim_store *store, const char *path,
             yajl_val text, yajl_val hex)
{
    struct node *n;
    int rc;

    if (!text == !hex)
        return corrupt(ld, "a store write needs exactly one of \"v\" and "
                           "\"x\"");
    n = node_new("", 0);
    if (!n)
        return no_mem(ld);
    rc = text ? load_text(ld, text, n) : load_hex(ld, hex, n);
    if (rc == 0)
        rc = sim_store_write(ld->ctx, store, path, n->val, n->len);
    node_free(n);
    return rc;
}

/* A removal of what is not there is no fault: the change was made
 * already (see the head comment). */
static int
replay_change(struct loader *ld, struct sim_store *store, yajl_val obj)
{
    static const char *const keys[] = {"w", "v", "x", "rm"};
    char shown[SHOW_MAX + 4];
    yajl_val v[ARRAY_SIZE(keys)], p;
    struct walk w;
    int rc;

    if (!YAJL_IS_OBJECT(obj))
        return corrupt(ld, "a store change is not an object");
    rc = take_keys(ld, obj, keys, v, ARRAY_SIZE(keys));
    if (rc)
        return rc;
    if (!v[0] == !v[3])
        return corrupt(ld, "a store change needs exactly one of \"w\" and "
                           "\"rm\"");
    p = v[0] ? v[0] : v[3];
    if (!YAJL_IS_STRING(p) || !path_valid(p->u.string))
        return corrupt(ld, "a store change has a bad path \"%s\"",
                       YAJL_IS_STRING(p) ? show(shown, p->u.string) : "");
    if (v[0])
        return replay_value(ld, store, p->u.string, v[1], v[2]);
    if (v[1] || v[2])
        return corrupt(ld, "a store removal has a value");
    if (strcmp(p->u.string, "/") == 0)
        return corrupt(ld, "a store change removes the root");
    walk(store, p->u.string, &w);
    if (*w.rest == '\0')
        node_unlink(store, &w);
    return 0;
}

int
sim_store_replay(struct keel_ctx *ctx, struct sim_store *store,
                 const char *where, yajl_val changes)
{
    struct loader *ld = calloc(1, sizeof(*ld));
    size_t i;
    int rc = 0;

    if (!ld)
        return keel_error(ctx, KEEL_ENOMEM, "loading %s: out of memory", where);
    ld->ctx = ctx;
    ld->file = where;
    if (!YAJL_IS_ARRAY(changes))
        rc = corrupt(ld, "the store changes are not an array");
    for (i = 0; rc == 0 && i < YAJL_GET_ARRAY(changes)->len; i++)
        rc = replay_change(ld, store, YAJL_GET_ARRAY(changes)->values[i]);
    free(ld);
    return rc;
}
