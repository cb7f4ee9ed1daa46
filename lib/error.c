/* error.c: names of error codes and log levels */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "internal.h"

struct err_name {
    int code;
    const char *text;
};

static const struct err_name err_names[] = {
    {KEEL_OK, "success"},
    {KEEL_EPERM, "operation not permitted"},
    {KEEL_ENOENT, "no such object"},
    {KEEL_EIO, "input/output error"},
    {KEEL_E2BIG, "too long"},
    {KEEL_EAGAIN, "not ready, try again"},
    {KEEL_ENOMEM, "out of memory"},
    {KEEL_EBUSY, "in use"},
    {KEEL_EEXIST, "already exists"},
    {KEEL_EINVAL, "invalid argument"},
    {KEEL_ENOSPC, "no space left"},
    {KEEL_ERANGE, "out of range"},
    {KEEL_ENOTSUP, "not supported"},
    {KEEL_ETIMEDOUT, "timed out"},
    {KEEL_ECANCELED, "cancelled"},
    {KEEL_ENODOMAIN, "no such domain"},
    {KEEL_ENOPOOL, "no such CPU pool"},
    {KEEL_ESTATE, "invalid in the current state"},
    {KEEL_ECORRUPT, "corrupt data"},
    {KEEL_EFOREIGN, "not keel's data"},
    {KEEL_ENOHOSTMEM, "not enough free host memory"},
    {KEEL_ELOCKED, "held by another process"},
    {KEEL_ESYNTAX, "syntax error"},
    {KEEL_EBACKEND, "no such hypervisor backend"},
};

KEEL_EXPORT const char *
keel_strerror(int err)
{
    size_t i;

    if (err > 0)
        err = -err;
    for (i = 0; i < ARRAY_SIZE(err_names); i++)
        if (err_names[i].code == err)
            return err_names[i].text;
    return "unknown error";
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

KEEL_EXPORT const char *
keel_log_level_name(enum keel_log_level level)
{
    if ((unsigned int)level >= ARRAY_SIZE(level_names))
        return "unknown";
    return level_names[level];
}

KEEL_EXPORT int
keel_log_level_parse(const char *name)
{
    size_t i;

    if (!name)
        return KEEL_EINVAL;
    if (!strcasecmp(name, "warning"))
        return KEEL_LOG_WARN;
    for (i = 0; i < ARRAY_SIZE(level_names); i++)
        if (!strcasecmp(name, level_names[i]))
            return (int)i;
    return KEEL_EINVAL;
}

KEEL_EXPORT const char *
keel_version(void)
{
    return PACKAGE_VERSION;
}
