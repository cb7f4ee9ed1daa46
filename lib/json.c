/* json.c: reading JSON documents keel wrote, with errors that say where
 *
 * yajl_tree builds (and frees) its tree recursively, so a hostile file of
 * deep nesting would exhaust the stack: documents are pre-scanned for
 * nesting deeper than their format ever has, NUL bytes and comments
 * before yajl_tree sees them. yajl_tree says what is wrong but not where,
 * so a failed parse is re-run through the plain parser to find the line
 * and column.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

static void
where(const char *buf, size_t off, size_t *line_r, size_t *col_r)
{
    size_t i, line = 1, col = 1;

    for (i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    *line_r = line;
    *col_r = col;
}

/* Rejects what yajl_tree would take but store.json never holds, before
 * yajl_tree builds (and recursively frees) a tree of it: a NUL byte
 * (yajl_tree stops reading there), comments, and nesting deeper than a
 * file of ours reaches. */
static int
prescan(struct keel_ctx *ctx, const char *file, const char *buf, size_t len,
        size_t max_depth)
{
    const char *nul = memchr(buf, '\0', len);
    const char *what = nul ? "a NUL byte" : NULL;
    size_t i, depth = 0, line, col;
    bool in_str = false;

    for (i = 0; i < len && !what; i++) {
        if (in_str && buf[i] == '\\')
            i++;
        else if (buf[i] == '"')
            in_str = !in_str;
        else if (in_str)
            continue;
        else if (buf[i] == '/')
            what = "a comment";
        else if ((buf[i] == '{' || buf[i] == '[') && ++depth > max_depth)
            what = "nesting too deep";
        else if ((buf[i] == '}' || buf[i] == ']') && depth > 0)
            depth--;
    }
    if (!what)
        return 0;
    where(buf, nul ? (size_t)(nul - buf) : i - 1, &line, &col);
    return keel_error(ctx, KEEL_ECORRUPT, "%s:%zu:%zu: %s", file, line, col,
                      what);
}

/* yajl_tree says what went wrong but not where; a second, plain parse
 * finds where, for the file:line:col of the message. */
static int
parse_error(struct keel_ctx *ctx, const char *file, const char *buf, size_t len,
            const char *tree_err)
{
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    unsigned char *msg = NULL;
    size_t off, line, col;
    yajl_status st;
    int rc;

    if (!h)
        return keel_error(ctx, KEEL_ENOMEM, "loading %s: out of memory", file);
    st = yajl_parse(h, (const unsigned char *)buf, len);
    off = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        off = len;
    }
    if (st == yajl_status_ok) {
        /* Only yajl_tree failed, so it ran out of memory. */
        rc = keel_error(ctx, KEEL_ENOMEM, "loading %s: %.*s", file,
                        (int)strcspn(tree_err, "\n"), tree_err);
        goto out;
    }
    where(buf, off, &line, &col);
    msg = yajl_get_error(h, 0, NULL, 0);
    rc = keel_error(ctx, KEEL_ECORRUPT, "%s:%zu:%zu: %.*s", file, line, col,
                    msg ? (int)strcspn((char *)msg, "\n") : 0,
                    msg ? (char *)msg : "");
out:
    if (msg)
        yajl_free_error(h, msg);
    yajl_free(h);
    return rc;
}

int
keel__json_parse(struct keel_ctx *ctx, const char *file, const char *buf,
                 size_t len, size_t max_depth, yajl_val *doc_r)
{
    char tree_err[256];
    int rc = prescan(ctx, file, buf, len, max_depth);

    *doc_r = NULL;
    if (rc)
        return rc;
    *doc_r = yajl_tree_parse(buf, tree_err, sizeof(tree_err));
    if (!*doc_r)
        return parse_error(ctx, file, buf, len, tree_err);
    return 0;
}
