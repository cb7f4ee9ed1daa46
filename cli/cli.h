/* cli.h: what the keel client's command files share
 *
 * keel is a table of commands (keel.c); each command lives in a
 * cmd-AREA.c file, parses its own options and returns an exit status:
 * 0, 1 when what it asked for failed, 2 for a usage mistake. Commands
 * that talk to keeld do so through client.h.
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

/* cmd-domain.c */
int cmd_create(struct keel_ctx *ctx, int argc, char **argv);
int cmd_destroy(struct keel_ctx *ctx, int argc, char **argv);
int cmd_shutdown(struct keel_ctx *ctx, int argc, char **argv);
int cmd_reboot(struct keel_ctx *ctx, int argc, char **argv);
int cmd_pause(struct keel_ctx *ctx, int argc, char **argv);
int cmd_unpause(struct keel_ctx *ctx, int argc, char **argv);
int cmd_rename(struct keel_ctx *ctx, int argc, char **argv);
int cmd_list(struct keel_ctx *ctx, int argc, char **argv);
int cmd_info(struct keel_ctx *ctx, int argc, char **argv);
int cmd_domid(struct keel_ctx *ctx, int argc, char **argv);
int cmd_domname(struct keel_ctx *ctx, int argc, char **argv);
int cmd_uptime(struct keel_ctx *ctx, int argc, char **argv);
int cmd_mem_set(struct keel_ctx *ctx, int argc, char **argv);
int cmd_mem_max(struct keel_ctx *ctx, int argc, char **argv);
int cmd_vcpu_set(struct keel_ctx *ctx, int argc, char **argv);
int cmd_vcpu_list(struct keel_ctx *ctx, int argc, char **argv);
int cmd_vcpu_pin(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-pool.c */
int cmd_cpupool_create(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_list(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_destroy(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_rename(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_cpu_add(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_cpu_remove(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_migrate(struct keel_ctx *ctx, int argc, char **argv);
int cmd_cpupool_numa_split(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-sched.c */
int cmd_sched_credit(struct keel_ctx *ctx, int argc, char **argv);
int cmd_sched_credit2(struct keel_ctx *ctx, int argc, char **argv);
int cmd_sched_rtds(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-jobs.c */
int cmd_save(struct keel_ctx *ctx, int argc, char **argv);
int cmd_restore(struct keel_ctx *ctx, int argc, char **argv);
int cmd_migrate(struct keel_ctx *ctx, int argc, char **argv);
int cmd_define(struct keel_ctx *ctx, int argc, char **argv);
int cmd_undefine(struct keel_ctx *ctx, int argc, char **argv);
int cmd_start(struct keel_ctx *ctx, int argc, char **argv);
int cmd_autostart(struct keel_ctx *ctx, int argc, char **argv);
int cmd_events(struct keel_ctx *ctx, int argc, char **argv);
int cmd_job_list(struct keel_ctx *ctx, int argc, char **argv);
int cmd_job_cancel(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-config.c */
int cmd_config_convert(struct keel_ctx *ctx, int argc, char **argv);

/* cmd-stream.c */
int cmd_stream_verify(struct keel_ctx *ctx, int argc, char **argv);

#endif /* KEEL_CLI_H */
