/* log.c: keeld's log, to stderr in the foreground and syslog otherwise
 *
 * One line per message, with the level; libkeel's own messages come
 * through kd_log_keel, a keel_ctx logger, with the function that logged.
 * Thread-safe: stdio and syslog lock for themselves.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "keeld.h"

static bool to_stderr = true;
static int max_level = KEEL_LOG_INFO;

void
kd_log_init(bool foreground, int level)
{
    to_stderr = foreground;
    max_level = level;
    if (!foreground)
        openlog("keeld", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static int
syslog_priority(int level)
{
    switch (level) {
    case KEEL_LOG_ERROR:
        return LOG_ERR;
    case KEEL_LOG_WARN:
        return LOG_WARNING;
    case KEEL_LOG_INFO:
        return LOG_INFO;
    default:
        return LOG_DEBUG;
    }
}

static void
emit(int level, const char *msg)
{
    if (level > max_level)
        return;
    if (to_stderr)
        fprintf(stderr, "keeld: %s: %s\n",
                keel_log_level_name((enum keel_log_level)level), msg);
    else
        syslog(syslog_priority(level), "%s", msg);
}

void
kd_log(int level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (level > max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit(level, buf);
}

void
kd_log_keel(void *opaque, enum keel_log_level level, const char *func,
            const char *msg)
{
    char buf[2048];

    (void)opaque;
    snprintf(buf, sizeof(buf), "%s: %s", func, msg);
    emit((int)level, buf);
}
