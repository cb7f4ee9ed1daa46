/* util.c: names of enums, uuids and small string helpers */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <keel/hv.h>

#include "internal.h"

const char *
keel__enum_to_name(const struct keel__enum_name *tab, size_t n, int value)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (tab[i].value == value)
            return tab[i].name;
    return NULL;
}

int
keel__enum_from_name(const struct keel__enum_name *tab, size_t n,
                     const char *name)
{
    size_t i;

    for (i = 0; name && i < n; i++)
        if (!strcmp(tab[i].name, name))
            return tab[i].value;
    return KEEL_EINVAL;
}

int
keel__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const struct keel__enum_name type_names[] = {
    {KEEL_DOMAIN_PV, "pv"},
    {KEEL_DOMAIN_PVH, "pvh"},
    {KEEL_DOMAIN_HVM, "hvm"},
};

static const struct keel__enum_name reason_names[] = {
    {KEEL_SHUTDOWN_POWEROFF, "poweroff"},
    {KEEL_SHUTDOWN_REBOOT, "reboot"},
    {KEEL_SHUTDOWN_SUSPEND, "suspend"},
    {KEEL_SHUTDOWN_CRASH, "crash"},
    {KEEL_SHUTDOWN_WATCHDOG, "watchdog"},
    {KEEL_SHUTDOWN_SOFT_RESET, "soft_reset"},
};

static const struct keel__enum_name sched_names[] = {
    {KEEL_SCHED_CREDIT, "credit"},
    {KEEL_SCHED_CREDIT2, "credit2"},
    {KEEL_SCHED_RTDS, "rtds"},
    {KEEL_SCHED_NULL, "null"},
};

KEEL_EXPORT const char *
keel_domain_type_name(enum keel_domain_type type)
{
    return keel__enum_to_name(type_names, ARRAY_SIZE(type_names), type);
}

KEEL_EXPORT int
keel_domain_type_parse(const char *name)
{
    return keel__enum_from_name(type_names, ARRAY_SIZE(type_names), name);
}

KEEL_EXPORT const char *
keel_shutdown_reason_name(enum keel_shutdown_reason reason)
{
    return keel__enum_to_name(reason_names, ARRAY_SIZE(reason_names), reason);
}

KEEL_EXPORT int
keel_shutdown_reason_parse(const char *name)
{
    return keel__enum_from_name(reason_names, ARRAY_SIZE(reason_names), name);
}

KEEL_EXPORT const char *
keel_scheduler_name(enum keel_scheduler sched)
{
    return keel__enum_to_name(sched_names, ARRAY_SIZE(sched_names), sched);
}

KEEL_EXPORT int
keel_scheduler_parse(const char *name)
{
    return keel__enum_from_name(sched_names, ARRAY_SIZE(sched_names), name);
}

KEEL_EXPORT void
keel_uuid_format(const uint8_t uuid[16], char buf[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[uuid[i] >> 4];
        buf[o++] = hex[uuid[i] & 15];
    }
    buf[o] = '\0';
}

KEEL_EXPORT int
keel_uuid_parse(const char *text, uint8_t uuid[16])
{
    size_t i, b = 0;

    if (!text || strlen(text) != 36)
        return KEEL_EINVAL;
    for (i = 0; i < 36; i += 2) {
        int hi, lo;

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return KEEL_EINVAL;
            i++;
        }
        hi = keel__hexval(text[i]);
        lo = keel__hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return KEEL_EINVAL;
        uuid[b++] = (uint8_t)(hi << 4 | lo);
    }
    return b == 16 ? 0 : KEEL_EINVAL;
}

KEEL_EXPORT int
keel_uuid_generate(uint8_t uuid[16])
{
    if (getrandom(uuid, 16, 0) != 16)
        return KEEL_EIO;
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    return 0;
}

char *
keel__strdup(struct keel_ctx *ctx, const char *s)
{
    char *d = strdup(s);

    if (!d)
        keel_error(ctx, KEEL_ENOMEM, "out of memory copying a string");
    return d;
}

char *
keel__sprintf(struct keel_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) {
        keel_error(ctx, KEEL_ENOMEM, "out of memory formatting a string");
        return NULL;
    }
    return s;
}

bool
keel__parse_u64(const char *s, uint64_t *v_r)
{
    uint64_t v = 0;

    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *v_r = v;
    return true;
}

/* --- clocks --- */

static uint64_t
clock_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
keel__mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t
keel__mono_ms(void)
{
    return keel__mono_ns() / 1000000u;
}

uint64_t
keel__wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}
