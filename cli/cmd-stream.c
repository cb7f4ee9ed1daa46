/* cmd-stream.c: keel stream-verify, which needs no daemon
 *
 * keel stream-verify [--format auto|xl|libxl|libxc] [-v] FILE|-
 * reads a save file or migration stream to its end with libkeel's
 * reader (keel_stream_verify) and says whether it is sound. With -v it
 * lists every header and record, one line each, and a summary. Exit
 * status: 0 sound, 1 a fault (one line on stderr naming its byte offset),
 * 2 a usage mistake or an input that cannot be read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <keel/stream.h>

#include "cli.h"

#define CMD "stream-verify"

struct verify_opts {
    enum keel_stream_format fmt;
    bool verbose;
    const char *path;
};

static int
parse_opts(int argc, char **argv, struct verify_opts *o)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+f:vh", longopts, NULL)) != -1) {
        if (c == 'f' && keel_stream_format_parse(optarg, &o->fmt) < 0)
            return cli_bad_usage(
                CMD, "unknown format %s (auto, xl, libxl or libxc)", optarg);
        if (c == 'v')
            o->verbose = true;
        if (c == 'h' || c == '?')
            return cli_usage(CMD);
    }
    if (optind != argc - 1)
        return cli_usage(CMD);
    o->path = argv[optind];
    return 0;
}

static int
print_item(void *opaque, const struct keel_stream_item *it)
{
    char line[256];

    keel_stream_item_describe(it, line, sizeof(line));
    puts(line);
    return 0;
}

static void
print_summary(const char *name, const struct keel_stream_summary *s)
{
    printf("%s: sound %s stream, image version %u (%s), %" PRIu64
           " records, %" PRIu64 " pages, %" PRIu64 " checkpoints, %" PRIu64
           " bytes\n",
           name, keel_stream_format_name(s->format), s->image_version,
           s->dom_type == KEEL_STREAM_DHDR_X86_PV ? "x86 PV" : "x86 HVM",
           s->records, s->pages, s->checkpoints, s->bytes);
}

int
cmd_stream_verify(struct keel_ctx *ctx, int argc, char **argv)
{
    struct verify_opts o = {KEEL_STREAM_AUTO, false, NULL};
    struct keel_stream_summary sum;
    bool stdin_ = false;
    const char *name;
    int fd = -1, rc, status;

    if ((status = parse_opts(argc, argv, &o)))
        return status;
    stdin_ = !strcmp(o.path, "-");
    name = stdin_ ? "<stdin>" : o.path;
    fd = stdin_ ? STDIN_FILENO : open(o.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "keel: %s: cannot open %s: %s\n", CMD, o.path,
                strerror(errno));
        return 2;
    }
    rc = keel_stream_verify(ctx, fd, o.fmt, o.verbose ? print_item : NULL, NULL,
                            &sum);
    if (rc == KEEL_ECORRUPT)
        status = cli_fail(CMD, "%s: %s", name, keel_ctx_last_error(ctx));
    else if (rc) {
        cli_fail_rc(ctx, CMD, rc);
        status = 2;
    } else if (o.verbose)
        print_summary(name, &sum);
    if (fflush(stdout) && !status)
        status = cli_fail(CMD, "cannot write the listing");
    if (!stdin_)
        close(fd);
    return status;
}
