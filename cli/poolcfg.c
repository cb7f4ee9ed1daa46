/* poolcfg.c: the xlcpupool.cfg(5) reader of keel cpupool-create
 *
 * A hand-written descent over one NUL-terminated text, its state in a
 * struct parser on the stack. Each statement's value is gathered into a
 * growing buffer (strings unescaped, list items joined by commas) and
 * then stored in its slot of struct poolcfg, or dropped with a warning.
 * The first error ends the parse: its message, with the line and column
 * where the parser stood, goes into the caller's buffer.
 *
 * Checklist when the syntax or the keys change: poolcfg.h, the
 * cpupool-create section of docs/man/keel.1, the seeds in
 * tests/data/fuzz/poolcfg/, tests/integration/cli-jobs.sh.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolcfg.h"

/* A growing string, always NUL-terminated once anything was added; {0}
 * is empty. */
struct buf {
    char *s;
    size_t len, cap;
};

struct parser {
    const char *file; /* for messages */
    const char *text, *p;
    poolcfg_warn_fn warn;
    void *opaque;
    char *err;
    size_t errsize;
};

static int
buf_add(struct buf *b, const char *p, size_t n)
{
    size_t cap = b->cap ? b->cap : 64;
    char *s;

    while (cap - b->len <= n) /* room for the NUL too */
        cap *= 2;
    if (cap != b->cap) {
        if (!(s = realloc(b->s, cap)))
            return -ENOMEM;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int
buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

/* --- messages --- */

static void
locate(const struct parser *ps, const char *at, unsigned int *line_r,
       unsigned int *col_r)
{
    const char *q, *bol = ps->text;

    *line_r = 1;
    for (q = ps->text; q < at; q++)
        if (*q == '\n') {
            (*line_r)++;
            bol = q + 1;
        }
    *col_r = (unsigned int)(at - bol) + 1;
}

/* "FILE:LINE:COL: why" (where the parser stands) into the caller's
 * buffer; returns -EINVAL. */
static int
syntax(const struct parser *ps, const char *why)
{
    unsigned int line, col;

    locate(ps, ps->p, &line, &col);
    snprintf(ps->err, ps->errsize, "%s:%u:%u: %s", ps->file, line, col, why);
    return -EINVAL;
}

static int
nomem(const struct parser *ps)
{
    snprintf(ps->err, ps->errsize, "out of memory");
    return -ENOMEM;
}

static void
warn_unknown(const struct parser *ps, const char *key, size_t klen)
{
    unsigned int line, col;
    char msg[512];

    if (!ps->warn)
        return;
    locate(ps, key, &line, &col);
    snprintf(msg, sizeof(msg), "%s:%u:%u: unknown key %.*s ignored", ps->file,
             line, col, klen > 64 ? 64 : (int)klen, key);
    ps->warn(ps->opaque, msg);
}

/* --- values --- */

/* Skips blanks and comments; newlines too when nl. */
static void
skip_blank(struct parser *ps, bool nl)
{
    for (;;) {
        if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
            (nl && *ps->p == '\n'))
            ps->p++;
        else if (*ps->p == '#')
            ps->p += strcspn(ps->p, "\n");
        else
            return;
    }
}

/* The escape at ps->p (its backslash), appended to b. */
static int
unescape(struct parser *ps, struct buf *b)
{
    static const char from[] = "abfnrtv\\\"'", to[] = "\a\b\f\n\r\t\v\\\"'";
    const char *e;
    char hex[3] = {0}, c;

    ps->p++;
    if (*ps->p && (e = strchr(from, *ps->p))) {
        ps->p++;
        return buf_addc(b, to[e - from]) ? nomem(ps) : 0;
    }
    if (*ps->p != 'x' || strspn(ps->p + 1, "0123456789abcdefABCDEF") < 2)
        return syntax(ps, "unknown escape in a string");
    memcpy(hex, ps->p + 1, 2);
    if (!(c = (char)strtol(hex, NULL, 16)))
        return syntax(ps, "\\x00 in a string");
    ps->p += 3;
    return buf_addc(b, c) ? nomem(ps) : 0;
}

static int
parse_string(struct parser *ps, struct buf *b)
{
    char q = *ps->p++;
    int rc;

    while (*ps->p != q) {
        if (!*ps->p || *ps->p == '\n')
            return syntax(ps, "unterminated string");
        if (*ps->p == '\\') {
            if ((rc = unescape(ps, b)))
                return rc;
        } else if (buf_addc(b, *ps->p++))
            return nomem(ps);
    }
    ps->p++;
    return 0;
}

/* A quoted string or a number, appended to b. */
static int
parse_atom(struct parser *ps, struct buf *b)
{
    size_t n;

    if (*ps->p == '"' || *ps->p == '\'')
        return parse_string(ps, b);
    if (*ps->p < '0' || *ps->p > '9')
        return syntax(ps, "expected a string, a number or a list");
    n = strspn(ps->p, "0123456789abcdefx");
    ps->p += n;
    return buf_add(b, ps->p - n, n) ? nomem(ps) : 0;
}

/* A value: an atom, or a list of atoms joined by commas (*list_r). */
static int
parse_value(struct parser *ps, struct buf *b, bool *list_r)
{
    size_t items = 0;
    int rc;

    *list_r = *ps->p == '[';
    if (!*list_r)
        return parse_atom(ps, b);
    ps->p++;
    for (;;) {
        skip_blank(ps, true);
        if (*ps->p == ']')
            break;
        if (*ps->p == '[')
            return syntax(ps, "lists do not nest here");
        if (items++ && buf_addc(b, ','))
            return nomem(ps);
        if ((rc = parse_atom(ps, b)))
            return rc;
        skip_blank(ps, true);
        if (*ps->p == ',')
            ps->p++;
        else if (*ps->p != ']')
            return syntax(ps, "expected ',' or ']'");
    }
    ps->p++;
    return 0;
}

/* --- statements --- */

/* "0,1" (a node list) as "node:0,node:1" into *spec_r; 0 or -ENOMEM. */
static int
nodes_spec(const char *list, char **spec_r)
{
    struct buf b = {0};
    const char *p = list;
    size_t n;

    while (*p) {
        n = strcspn(p, ",");
        if ((b.len && buf_addc(&b, ',')) || buf_add(&b, "node:", 5) ||
            buf_add(&b, p, n))
            goto fail;
        p += n + (p[n] == ',');
    }
    *spec_r = b.s;
    return 0;
fail:
    free(b.s);
    return -ENOMEM;
}

static char **
slot_of(struct poolcfg *pc, const char *key, size_t klen)
{
    if (klen == 4 && !strncmp(key, "name", 4))
        return &pc->name;
    if (klen == 5 && !strncmp(key, "sched", 5))
        return &pc->sched;
    if (klen == 4 && !strncmp(key, "cpus", 4))
        return &pc->cpus;
    if (klen == 5 && !strncmp(key, "nodes", 5))
        return &pc->nodes;
    return NULL;
}

/* Stores key = text (the value's text, taken over) in pc. */
static int
store(struct parser *ps, struct poolcfg *pc, const char *key, size_t klen,
      char *text, bool list)
{
    char **slot = slot_of(pc, key, klen);
    char *spec = NULL;
    int rc;

    if (!slot) {
        warn_unknown(ps, key, klen);
        free(text);
        return 0;
    }
    if (list && slot != &pc->cpus && slot != &pc->nodes) {
        free(text);
        return syntax(ps, "expected a string, found a list");
    }
    if (slot == &pc->nodes) {
        if (!*text) {
            free(text);
            return syntax(ps, "no node given");
        }
        rc = nodes_spec(text, &spec);
        free(text);
        if (rc)
            return nomem(ps);
        text = spec;
    }
    free(*slot);
    *slot = text;
    return 0;
}

/* One KEY = VALUE statement at ps->p. */
static int
parse_statement(struct parser *ps, struct poolcfg *pc)
{
    const char *key = ps->p;
    struct buf b = {0};
    size_t klen;
    bool list;
    int rc;

    if (*key < 'a' || *key > 'z')
        return syntax(ps, "expected a key (lower case)");
    klen = strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789._");
    ps->p += klen;
    skip_blank(ps, false);
    if (ps->p[0] == '+' && ps->p[1] == '=')
        return syntax(ps, "'+=' is not supported in a pool config");
    if (*ps->p != '=')
        return syntax(ps, "expected '='");
    ps->p++;
    skip_blank(ps, false);
    if ((rc = parse_value(ps, &b, &list)))
        goto fail;
    if (!b.s && buf_add(&b, "", 0)) { /* an empty list */
        rc = nomem(ps);
        goto fail;
    }
    skip_blank(ps, false);
    if (*ps->p && *ps->p != '\n' && *ps->p != ';') {
        rc = syntax(ps, "expected the end of the line or ';'");
        goto fail;
    }
    return store(ps, pc, key, klen, b.s, list);
fail:
    free(b.s);
    return rc;
}

void
poolcfg_init(struct poolcfg *pc)
{
    memset(pc, 0, sizeof(*pc));
}

void
poolcfg_dispose(struct poolcfg *pc)
{
    free(pc->name);
    free(pc->sched);
    free(pc->cpus);
    free(pc->nodes);
    poolcfg_init(pc);
}

int
poolcfg_parse(struct poolcfg *pc, const char *file, const char *text,
              poolcfg_warn_fn warn, void *opaque, char *err, size_t errsize)
{
    struct parser ps = {.file = file,
                        .text = text,
                        .p = text,
                        .warn = warn,
                        .opaque = opaque,
                        .err = err,
                        .errsize = errsize};
    int rc;

    for (;;) {
        skip_blank(&ps, true);
        while (*ps.p == ';') {
            ps.p++;
            skip_blank(&ps, true);
        }
        if (!*ps.p)
            return 0;
        if ((rc = parse_statement(&ps, pc)))
            return rc;
    }
}
