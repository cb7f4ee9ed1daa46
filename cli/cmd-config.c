/* cmd-config.c: keel config-convert, which needs no daemon
 *
 * keel config-convert [-d] [--from FMT] --to FMT [FILE|-] [KEY=VALUE...]
 * reads FILE (stdin when absent or "-") in FMT (guessed from the file's
 * extension when --from is absent), applies KEY=VALUE overrides as `xl
 * create` does (xl.cfg input only), optionally fills the defaults keel
 * would use to create the domain (-d), and writes the result on stdout.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

#include "cli.h"

#define CMD "config-convert"

static int
guess_format(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;

    return dot ? keel_config_format_parse(dot + 1) : KEEL_EINVAL;
}

struct convert_opts {
    int from, to;
    bool defaults;
    const char *path;
    const char **overrides; /* NULL-terminated or NULL */
};

static int
parse_opts(int argc, char **argv, struct convert_opts *o)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"defaults", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+f:t:dh", longopts, NULL)) != -1) {
        if (c == 'f' && (o->from = keel_config_format_parse(optarg)) < 0)
            return cli_bad_usage(CMD, "unknown format %s (xl, json or xml)",
                                 optarg);
        if (c == 't' && (o->to = keel_config_format_parse(optarg)) < 0)
            return cli_bad_usage(CMD, "unknown format %s (xl, json or xml)",
                                 optarg);
        if (c == 'd')
            o->defaults = true;
        if (c == 'h' || c == '?')
            return cli_usage(CMD);
    }
    if (!o->to)
        return cli_bad_usage(CMD, "--to is required");
    if (optind < argc && !strchr(argv[optind], '='))
        o->path = argv[optind++];
    if (optind < argc)
        o->overrides = (const char **)argv + optind; /* argv ends in NULL */
    if (!o->from && (o->from = guess_format(o->path)) < 0)
        return cli_bad_usage(CMD, "cannot tell the format of %s: give --from",
                             o->path ? o->path : "stdin");
    return 0;
}

int
cmd_config_convert(struct keel_ctx *ctx, int argc, char **argv)
{
    struct convert_opts o = {0};
    struct keel_domain_config cfg;
    char *text = NULL;
    int rc, status;

    if ((status = parse_opts(argc, argv, &o)))
        return status;
    keel_domain_config_init(&cfg);
    rc = keel_domain_config_read_file(
        ctx, o.from, o.path, (const char *const *)o.overrides, 0, &cfg);
    if (!rc && o.defaults)
        rc = keel_domain_config_set_defaults(ctx, &cfg, 0);
    if (!rc)
        rc = keel_domain_config_write(ctx, o.to, &cfg, 0, &text);
    if (rc)
        status = cli_fail_rc(ctx, CMD, rc);
    else if (fputs(text, stdout) == EOF || fflush(stdout))
        status = cli_fail(CMD, "cannot write the result");
    free(text);
    keel_domain_config_dispose(&cfg);
    return status;
}
