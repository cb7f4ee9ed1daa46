/* keel.c: the keel client's entry point and command table
 *
 * keel [-c|--connect SOCKET] [--json] [-v] COMMAND [ARGS...]. Commands
 * mirror xl's names and options; those that need a host talk to keeld
 * (client.h), those that only transform files (config-convert) run here
 * without one.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"

static const struct cli_command commands[] = {
    /* cmd-domain.c */
    {"create", cmd_create, "[-p] [-q] FILE [KEY=VALUE...]",
     "create a domain from an xl.cfg (or .json, .xml) file"},
    {"destroy", cmd_destroy, "DOMAIN", "stop a domain at once"},
    {"shutdown", cmd_shutdown, "[-w] -a | [-w] DOMAIN",
     "ask a domain (-a: all but Domain-0) to shut down"},
    {"reboot", cmd_reboot, "[-w] -a | [-w] DOMAIN",
     "ask a domain (-a: all but Domain-0) to reboot"},
    {"pause", cmd_pause, "DOMAIN", "pause a domain"},
    {"unpause", cmd_unpause, "DOMAIN", "unpause a domain"},
    {"rename", cmd_rename, "DOMAIN NEW-NAME", "rename a domain"},
    {"list", cmd_list, "[-l] [-v] [DOMAIN...]",
     "list domains (-l: their configurations as JSON)"},
    {"info", cmd_info, "[KEY]", "print the host's information"},
    {"domid", cmd_domid, "NAME", "print a domain's domid"},
    {"domname", cmd_domname, "DOMID", "print a domain's name"},
    {"uptime", cmd_uptime, "[-s] [DOMAIN...]", "print domains' uptimes"},
    {"mem-set", cmd_mem_set, "DOMAIN SIZE[b|k|m|g|t]",
     "set a domain's memory target"},
    {"mem-max", cmd_mem_max, "DOMAIN SIZE[b|k|m|g|t]",
     "set a domain's maximum memory"},
    {"vcpu-set", cmd_vcpu_set, "DOMAIN N", "set a domain's online vCPUs"},
    {"vcpu-list", cmd_vcpu_list, "[DOMAIN...]", "list domains' vCPUs"},
    {"vcpu-pin", cmd_vcpu_pin, "DOMAIN VCPU|all HARD|- [SOFT|-]",
     "set vCPU affinity"},
    /* cmd-jobs.c */
    {"save", cmd_save, "[-c|-p] DOMAIN FILE",
     "save a domain to a file (then destroy it, unless -c or -p)"},
    {"restore", cmd_restore, "[-p] FILE", "restore a domain from a file"},
    {"migrate", cmd_migrate,
     "[--policy xen|keel] [--downtime MS] DOMAIN localhost|SOCKET",
     "live-migrate a domain on this host, or to another keeld's socket"},
    {"define", cmd_define, "FILE [KEY=VALUE...]",
     "keep a domain's configuration in keeld, to start later"},
    {"undefine", cmd_undefine, "DOMAIN", "forget a defined domain"},
    {"start", cmd_start, "[-p] DOMAIN", "start a defined domain"},
    {"autostart", cmd_autostart, "DOMAIN on|off",
     "start a defined domain when keeld starts, or not"},
    {"events", cmd_events, "",
     "print domain lifecycle events as they happen, until Ctrl-C"},
    {"job-list", cmd_job_list, "", "list save, restore and migration jobs"},
    {"job-cancel", cmd_job_cancel, "JOB", "cancel a running job"},
    /* cmd-pool.c */
    {"cpupool-create", cmd_cpupool_create, "[-f FILE] [FILE] [VAR=VALUE...]",
     "create a CPU pool from an xlcpupool.cfg file"},
    {"cpupool-list", cmd_cpupool_list, "[-c] [POOL]", "list CPU pools"},
    {"cpupool-destroy", cmd_cpupool_destroy, "POOL", "destroy a CPU pool"},
    {"cpupool-rename", cmd_cpupool_rename, "POOL NEWNAME", "rename a CPU pool"},
    {"cpupool-cpu-add", cmd_cpupool_cpu_add, "POOL CPUS|node:N",
     "add CPUs to a CPU pool"},
    {"cpupool-cpu-remove", cmd_cpupool_cpu_remove, "POOL CPUS|node:N",
     "remove CPUs from a CPU pool"},
    {"cpupool-migrate", cmd_cpupool_migrate, "DOMAIN POOL",
     "move a domain to another CPU pool"},
    {"cpupool-numa-split", cmd_cpupool_numa_split, "",
     "split the host's CPUs into one pool per NUMA node"},
    /* cmd-sched.c */
    {"sched-credit", cmd_sched_credit,
     "[-d DOMAIN [-w WEIGHT] [-c CAP]] [-p POOL] [-s [-t TSLICE] "
     "[-r RATELIMIT]]",
     "show or set credit scheduler parameters"},
    {"sched-credit2", cmd_sched_credit2,
     "[-d DOMAIN [-w WEIGHT] [-c CAP]] [-p POOL] [-s [-r RATELIMIT]]",
     "show or set credit2 scheduler parameters"},
    {"sched-rtds", cmd_sched_rtds,
     "[-d DOMAIN [-v VCPUID|all [-p PERIOD] [-b BUDGET] [-e 0|1]]...] "
     "[-c POOL]",
     "show or set RTDS scheduler parameters"},
    /* cmd-config.c, cmd-stream.c */
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
    const char *usage = c ? c->usage : "";

    fprintf(stderr, "usage: keel %s%s%s\n", cmd, *usage ? " " : "", usage);
    return 2;
}

static void
help(FILE *out)
{
    size_t i;

    fprintf(out, "usage: keel [-c|--connect SOCKET] [--json] [-v] COMMAND "
                 "[ARGS...]\n\ncommands:\n");
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

/* The global options, into cli_opts: the index of the command, or -1
 * with *status_r set when keel should exit now. */
static int
parse_global(int argc, char **argv, enum keel_log_level *level, int *status_r)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *status_r = 0;
    while ((c = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
        if (c == 'c')
            cli_opts.socket = optarg;
        else if (c == 'j')
            cli_opts.json = true;
        else if (c == 'v') {
            cli_opts.verbose++;
            if (*level < KEEL_LOG_DEBUG)
                (*level)++;
        } else if (c == 'h')
            help(stdout);
        else if (c == 'V')
            printf("keel %s\n", keel_version());
        else if (c == '?')
            *status_r = 2; /* getopt said what */
        if (c == 'h' || c == 'V' || c == '?')
            return -1;
    }
    if (optind == argc) {
        help(stderr);
        *status_r = 2;
        return -1;
    }
    return optind;
}

int
main(int argc, char **argv)
{
    enum keel_log_level level = KEEL_LOG_WARN;
    const struct cli_command *cmd;
    struct keel_ctx *ctx = NULL;
    int i, status;

    if ((i = parse_global(argc, argv, &level, &status)) < 0)
        return status;
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
    if (fflush(stdout) == EOF && !status)
        status = cli_fail(cmd->name, "cannot write the output");
    keel_ctx_free(ctx);
    return status;
}
