/* keel.c: the keel client's entry point and command table
 *
 * keel [-v] COMMAND [ARGS...]. Commands mirror xl's names and options;
 * those that need a host talk to keeld, those that only transform files
 * (config-convert) run here without one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"config-convert", cmd_config_convert,
     "[-d] [--from xl|json|xml] --to xl|json|xml [FILE|-] [KEY=VALUE...]",
     "convert a domain configuration between xl.cfg, JSON and XML"},
    {"stream-verify", cmd_stream_verify,
     "[--format auto|xl|libxl|libxc] [-v] FILE|-",
     "check a save file or migration stream, byte for byte"},
};

static const struct cli_command *
find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void
vfail(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "keel: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int
cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(cmd, fmt, ap);
    va_end(ap);
    return 1;
}

int
cli_bad_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(cmd, fmt, ap);
    va_end(ap);
    return 2;
}

int
cli_fail_rc(struct keel_ctx *ctx, const char *cmd, int rc)
{
    const char *msg = keel_ctx_last_error(ctx);

    return cli_fail(cmd, "%s", *msg ? msg : keel_strerror(rc));
}

int
cli_usage(const char *cmd)
{
    const struct cli_command *c = find(cmd);

    fprintf(stderr, "usage: keel %s %s\n", cmd, c ? c->usage : "");
    return 2;
}

static void
help(FILE *out)
{
    size_t i;

    fprintf(out, "usage: keel [-v] COMMAND [ARGS...]\n\ncommands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nSee keel(1).\n");
}

/* Warnings (unknown config keys, ...) go to stderr as "keel: warning:". */
static void
log_stderr(void *opaque, enum keel_log_level level, const char *func,
           const char *msg)
{
    fprintf(stderr, "keel: %s: %s\n",
            level == KEEL_LOG_WARN ? "warning" : keel_log_level_name(level),
            msg);
}

int
main(int argc, char **argv)
{
    enum keel_log_level level = KEEL_LOG_WARN;
    const struct cli_command *cmd;
    struct keel_ctx *ctx = NULL;
    int i = 1, status;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v") && level < KEEL_LOG_DEBUG)
            level++;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("keel %s\n", keel_version());
            return 0;
        } else if (strcmp(argv[i], "-v")) {
            fprintf(stderr, "keel: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i == argc) {
        help(stderr);
        return 2;
    }
    if (!(cmd = find(argv[i]))) {
        fprintf(stderr, "keel: unknown command %s (keel --help lists them)\n",
                argv[i]);
        return 2;
    }
    if (keel_ctx_new(&ctx, 0)) {
        fprintf(stderr, "keel: out of memory\n");
        return 1;
    }
    keel_ctx_set_logger(ctx, level, log_stderr, NULL);
    status = cmd->run(ctx, argc - i, argv + i);
    keel_ctx_free(ctx);
    return status;
}
