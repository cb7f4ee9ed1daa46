/* cli.h: what the keel client's command files share
 *
 * keel is a table of commands (keel.c); each command lives in a
 * cmd-AREA.c file, parses its own options and returns an exit status.
 */
#ifndef KEEL_CLI_H
#define KEEL_CLI_H

#include <keel/keel.h>

struct cli_command {
    const char *name;
    int (*run)(struct keel_ctx *ctx, int argc, char **argv);
    const char *usage;   /* options and arguments, after the name */
    const char *summary; /* one line */
};

/* Prints "keel: CMD: message" on stderr; returns the exit status 1. */
int cli_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the failing call's code and message; returns 1. */
int cli_fail_rc(struct keel_ctx *ctx, const char *cmd, int rc);

/* As cli_fail, for a mistake in the command line: returns 2. */
int cli_bad_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the usage line of cmd on stderr; returns the exit status 2. */
int cli_usage(const char *cmd);

/* cmd-config.c */
int cmd_config_convert(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-stream.c */
int cmd_stream_verify(struct keel_ctx *ctx, int argc, char **argv);

#endif /* KEEL_CLI_H */
