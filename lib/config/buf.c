/* buf.c: a growing string for the config writers
 *
 * Writers append many small pieces; checking each append would bury the
 * format in error handling, so a failed allocation is remembered and
 * reported once, when the writer asks for the result.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static bool
grow(struct keel__buf *b, size_t more)
{
    size_t cap;
    char *data;

    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    data = realloc(b->data, cap);
    if (!data) {
        b->oom = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void
keel__buf_addn(struct keel__buf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
keel__buf_add(struct keel__buf *b, const char *s)
{
    keel__buf_addn(b, s, strlen(s));
}

void
keel__buf_printf(struct keel__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int
keel__buf_finish(struct keel_ctx *ctx, struct keel__buf *b, char **text_r)
{
    if (!b->oom && !b->data)
        grow(b, 0);
    if (b->oom) {
        keel__buf_dispose(b);
        return keel_error(ctx, KEEL_ENOMEM, "out of memory writing config");
    }
    if (b->len == 0)
        b->data[0] = '\0';
    *text_r = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}

void
keel__buf_dispose(struct keel__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
