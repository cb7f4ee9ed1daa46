/* json-tree.c: the JSON text as a tree that knows where each value was
 *
 * yajl_tree cannot say where a value was, and every error must name
 * file:line:column, so the reader builds its own small tree over yajl's
 * callback parser, recording the byte offset of each value and key
 * (bounded: KEEL__JSON_MAX_DEPTH levels, MAX_NODES values). Offsets
 * become lines and columns only when a message needs one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "json.h"

#define MAX_NODES (1u << 18)

struct builder {
    yajl_handle h;
    const char *buf;
    size_t len;
    size_t last_end; /* offset just past the previous token */
    bool finishing;  /* in yajl_complete_parse, whose offsets are not ours */
    struct keel__jnode *root;
    struct keel__jnode *stack[KEEL__JSON_MAX_DEPTH];
    unsigned int depth;
    char *key;
    size_t key_len, key_off;
    size_t nodes;
    int err;
    size_t err_off;
    const char *err_what;
};

void
keel__jtree_free(struct keel__jnode *n)
{
    struct keel__jnode *next;

    for (; n; n = next) {
        next = n->next;
        keel__jtree_free(n->kids);
        free(n->key);
        free(n->str);
        free(n);
    }
}

/* yajl reports only where a token ends; between two tokens there can be
 * nothing but blanks, commas and colons, so skipping those from the end
 * of the previous token finds where this one starts. */
static size_t
tok_start(const struct builder *b)
{
    size_t i = b->last_end;

    while (i < b->len && b->buf[i] && strchr(" \t\r\n,:", b->buf[i]))
        i++;
    return i;
}

static void
tok_end(struct builder *b)
{
    b->last_end = b->finishing ? b->len : yajl_get_bytes_consumed(b->h);
}

static int
stop(struct builder *b, int code, size_t off, const char *what)
{
    b->err = code;
    b->err_off = off;
    b->err_what = what;
    return 0;
}

static char *
copy(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Adds a value node under the open object or array, or as the root. */
static struct keel__jnode *
add(struct builder *b, enum keel__jt type)
{
    struct keel__jnode *n, *parent = b->depth ? b->stack[b->depth - 1] : NULL;
    size_t off = tok_start(b);

    if (!parent && type != KEEL__JT_OBJ)
        return stop(b, KEEL_EINVAL, off, "the top level must be an object"),
               NULL;
    if (b->nodes >= MAX_NODES)
        return stop(b, KEEL_ERANGE, off, "too many values"), NULL;
    if (!(n = calloc(1, sizeof(*n))))
        return stop(b, KEEL_ENOMEM, off, "out of memory"), NULL;
    b->nodes++;
    n->type = type;
    n->off = off;
    if (!parent) {
        b->root = n;
    } else {
        n->key = b->key;
        n->key_len = b->key_len;
        n->key_off = b->key_off;
        b->key = NULL;
        if (parent->last)
            parent->last->next = n;
        else
            parent->kids = n;
        parent->last = n;
        parent->n++;
    }
    tok_end(b);
    return n;
}

static int
on_null(void *opaque)
{
    return add(opaque, KEEL__JT_NULL) != NULL;
}

static int
on_bool(void *opaque, int v)
{
    struct keel__jnode *n = add(opaque, KEEL__JT_BOOL);

    if (n)
        n->b = v != 0;
    return n != NULL;
}

static int
on_text(struct builder *b, enum keel__jt type, const unsigned char *s,
        size_t len)
{
    struct keel__jnode *n = add(b, type);

    if (!n)
        return 0;
    n->len = len;
    if (!(n->str = copy((const char *)s, len)))
        return stop(b, KEEL_ENOMEM, n->off, "out of memory");
    return 1;
}

static int
on_number(void *opaque, const char *s, size_t len)
{
    return on_text(opaque, KEEL__JT_NUM, (const unsigned char *)s, len);
}

static int
on_string(void *opaque, const unsigned char *s, size_t len)
{
    return on_text(opaque, KEEL__JT_STR, s, len);
}

static int
on_open(struct builder *b, enum keel__jt type)
{
    struct keel__jnode *n;

    if (b->depth >= KEEL__JSON_MAX_DEPTH)
        return stop(b, KEEL_ERANGE, tok_start(b),
                    "nesting deeper than 16 levels");
    if (!(n = add(b, type)))
        return 0;
    b->stack[b->depth++] = n;
    return 1;
}

static int
on_start_map(void *opaque)
{
    return on_open(opaque, KEEL__JT_OBJ);
}

static int
on_start_array(void *opaque)
{
    return on_open(opaque, KEEL__JT_ARR);
}

static int
on_close(void *opaque)
{
    struct builder *b = opaque;

    b->depth--;
    tok_end(b);
    return 1;
}

static int
on_key(void *opaque, const unsigned char *s, size_t len)
{
    struct builder *b = opaque;

    b->key_off = tok_start(b);
    b->key_len = len;
    free(b->key);
    if (!(b->key = copy((const char *)s, len)))
        return stop(b, KEEL_ENOMEM, b->key_off, "out of memory");
    tok_end(b);
    return 1;
}

static const yajl_callbacks tree_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_close,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_close,
};

/* yajl's message, first line only, at the offset where yajl stopped. */
static int
syntax_error(struct builder *b, struct keel__jtree_err *err_r)
{
    unsigned char *msg = yajl_get_error(b->h, 0, NULL, 0);

    err_r->placed = true;
    err_r->off = b->finishing ? b->len : yajl_get_bytes_consumed(b->h);
    snprintf(err_r->what, sizeof(err_r->what), "%.*s",
             msg ? (int)strcspn((char *)msg, "\n") : 12,
             msg ? (char *)msg : "invalid JSON");
    if (msg)
        yajl_free_error(b->h, msg);
    return KEEL_ESYNTAX;
}

static int
placed(struct keel__jtree_err *err_r, int code, size_t off, const char *what)
{
    err_r->placed = true;
    err_r->off = off;
    snprintf(err_r->what, sizeof(err_r->what), "%s", what);
    return code;
}

int
keel__jtree_parse(const char *buf, size_t len, struct keel__jnode **root_r,
                  struct keel__jtree_err *err_r)
{
    struct builder b = {.buf = buf, .len = len};
    yajl_status st;
    int rc = 0;

    err_r->placed = false;
    err_r->off = 0;
    err_r->what[0] = '\0';
    if (!(b.h = yajl_alloc(&tree_callbacks, NULL, &b)))
        return KEEL_ENOMEM;
    st = yajl_parse(b.h, (const unsigned char *)buf, len);
    if (st == yajl_status_ok) {
        b.finishing = true;
        st = yajl_complete_parse(b.h);
    }
    if (st == yajl_status_client_canceled)
        rc = placed(err_r, b.err, b.err_off, b.err_what);
    else if (st != yajl_status_ok)
        rc = syntax_error(&b, err_r);
    else if (!b.root)
        rc = placed(err_r, KEEL_ESYNTAX, 0, "no JSON value");
    free(b.key);
    yajl_free(b.h);
    if (rc)
        keel__jtree_free(b.root);
    else
        *root_r = b.root;
    return rc;
}

/* --- positions and paths ---------------------------------------------- */

/* Offsets come mostly in increasing order, so the scan resumes from the
 * last answer. */
void
keel__jtree_where(struct keel__jpos *pos, const char *buf, size_t len,
                  size_t off, size_t *line_r, size_t *col_r)
{
    size_t i;

    if (off < pos->off) {
        pos->off = 0;
        pos->line = pos->col = 1;
    }
    for (i = pos->off; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            pos->line++;
            pos->col = 1;
        } else {
            pos->col++;
        }
    }
    pos->off = i;
    *line_r = pos->line;
    *col_r = pos->col;
}

size_t
keel__jpath_push(struct keel__jpath *p, const char *key, long index)
{
    size_t old = p->len;
    int r;

    if (key)
        r = snprintf(p->s + p->len, sizeof(p->s) - p->len, "%s%s",
                     p->len ? "." : "", key);
    else
        r = snprintf(p->s + p->len, sizeof(p->s) - p->len, "[%ld]", index);
    if (r > 0)
        p->len = p->len + (size_t)r < sizeof(p->s) ? p->len + (size_t)r
                                                    : sizeof(p->s) - 1;
    return old;
}

void
keel__jpath_pop(struct keel__jpath *p, size_t old)
{
    p->len = old;
    p->s[old] = '\0';
}
