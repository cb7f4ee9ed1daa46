/* cmd-jobs.c: save and restore, which run as keeld jobs, and keel's own
 * commands: define, undefine, start, autostart, events, job-list and
 * job-cancel
 *
 * save and restore start a job (domain.save, domain.restore) and follow
 * the job.progress notifications keeld sends the connection that started
 * it until job.done. A notification may come before the reply that
 * names the job; the connection carries no other job, so anything that
 * comes before the reply is taken as this job's. Progress is drawn as a
 * bar on stderr when stderr is a terminal, as a line per phase and per
 * tenth of the way otherwise, and as one JSON line per notification on
 * stdout with --json. Ctrl-C asks keeld to cancel the job (a job outlives
 * a client that just goes away) and waits for it to end; a second one
 * leaves it running.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"

/* --- following a job --- */

#define BAR_WIDTH 24
#define REDRAW_S 0.1 /* at most ten bars a second */

struct job_watch {
    const char *cmd;
    long long job;    /* 0 until the reply names it */
    bool done;        /* job.done came */
    char state[16];   /* job.done's: done, failed, cancelled */
    char *error;      /* job.done's error message, or NULL */
    long long domid;  /* job.done's result.domid, or -1 */
    bool tty;         /* a bar on stderr */
    double t0, drawn; /* start; when the bar was last drawn */
    bool bar;         /* a bar is on stderr's current line */
    char phase[16];   /* the last phase shown (plain lines) */
    int tenth;        /* the last tenth shown (plain lines) */
    long long done_b, total_b;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "512.0 MiB": n bytes in a buffer of at least 16. */
static const char *
human(double n, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;

    while (n >= 1024 && u < 4) {
        n /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", n, units[u]);
    return buf;
}

static int
percent(long long done, long long total)
{
    if (total <= 0)
        return 0;
    return (int)(done >= total ? 100 : done * 100 / total);
}

/* The bar: "[#####       ]  40%  1.0 GiB/2.5 GiB  210.3 MiB/s  0:07 left". */
static void
draw_bar(struct job_watch *w, const char *phase)
{
    char fill[BAR_WIDTH + 1], a[24], b[24], r[24], left[48] = "";
    double el = now_s() - w->t0, rate = el > 0 ? w->done_b / el : 0;
    int pct = percent(w->done_b, w->total_b), n = pct * BAR_WIDTH / 100;
    long long s;

    memset(fill, '#', (size_t)n);
    memset(fill + n, ' ', (size_t)(BAR_WIDTH - n));
    fill[BAR_WIDTH] = '\0';
    if (rate > 0 && w->total_b > w->done_b) {
        s = (long long)((w->total_b - w->done_b) / rate);
        snprintf(left, sizeof(left), "  %lld:%02lld left", s / 60, s % 60);
    }
    fprintf(stderr, "\r%s %-8s [%s] %3d%%  %s/%s  %s/s%s\033[K", w->cmd, phase,
            fill, pct, human((double)w->done_b, a, sizeof(a)),
            human((double)w->total_b, b, sizeof(b)), human(rate, r, sizeof(r)),
            left);
    fflush(stderr);
    w->bar = true;
    w->drawn = now_s();
}

/* A plain line for each new phase and each tenth of the way. */
static void
plain_line(struct job_watch *w, const char *phase)
{
    char a[24], b[24];
    int tenth = percent(w->done_b, w->total_b) / 10;

    if (!strcmp(phase, w->phase) && tenth <= w->tenth)
        return;
    snprintf(w->phase, sizeof(w->phase), "%s", phase);
    w->tenth = tenth;
    fprintf(stderr, "%s: job %lld: %s %d%% (%s of %s)\n", w->cmd, w->job, phase,
            percent(w->done_b, w->total_b),
            human((double)w->done_b, a, sizeof(a)),
            human((double)w->total_b, b, sizeof(b)));
}

/* --json: {"method":M,"params":P} on one line of stdout, flushed. */
static void
json_note(const char *method, yajl_val params)
{
    yajl_gen g = cli_json_gen(false);

    yajl_gen_map_open(g);
    cli_kv_str(g, "method", method);
    cli_gen_str(g, "params");
    cli_gen_value(g, params);
    yajl_gen_map_close(g);
    cli_print_gen(g);
    fflush(stdout);
    yajl_gen_free(g);
}

static void
watch_progress(struct job_watch *w, yajl_val p)
{
    const char *phase = cli_get_str(p, "phase");

    w->done_b = cli_get_int(p, "bytes_done", 0);
    w->total_b = cli_get_int(p, "bytes_total", 0);
    if (!w->job)
        w->job = cli_get_int(p, "job", 0);
    if (cli_opts.json)
        json_note("job.progress", p);
    else if (!w->tty)
        plain_line(w, phase ? phase : "?");
    else if (now_s() - w->drawn >= REDRAW_S)
        draw_bar(w, phase ? phase : "?");
}

static void
watch_done(struct job_watch *w, yajl_val p)
{
    const char *state = cli_get_str(p, "state");
    const char *msg = cli_get_str(cli_get(p, "error"), "message");

    w->done = true;
    snprintf(w->state, sizeof(w->state), "%s", state ? state : "?");
    if (msg && !(w->error = strdup(msg)))
        w->error = NULL; /* the state still says it failed */
    w->domid = cli_get_int(cli_get(p, "result"), "domid", -1);
    if (cli_opts.json)
        json_note("job.done", p);
    else if (w->tty && w->bar && !strcmp(w->state, "done")) {
        w->done_b = w->total_b;
        draw_bar(w, "done");
    }
}

/* cli_notify_fn: stops the wait at this job's job.done. */
static int
watch_notify(void *opaque, const char *method, yajl_val params)
{
    struct job_watch *w = opaque;
    long long job = cli_get_int(params, "job", -1);

    if (w->job && job != w->job)
        return 0;
    if (!strcmp(method, "job.progress"))
        watch_progress(w, params);
    else if (!strcmp(method, "job.done"))
        watch_done(w, params);
    return w->done;
}

/* Ctrl-C: job.cancel, then wait again. */
static int
watch_cancel(struct cli_client *cl, struct job_watch *w)
{
    yajl_gen g = cli_params_new(NULL);
    yajl_val res = NULL;

    if (w->bar)
        fputc('\n', stderr);
    w->bar = false;
    fprintf(stderr,
            "keel: %s: interrupted: cancelling job %lld (Ctrl-C "
            "again leaves it running)\n",
            w->cmd, w->job);
    cli_kv_int(g, "job", w->job);
    if (cli_call_params(cl, w->cmd, "job.cancel", g, &res))
        return 1;
    yajl_tree_free(res);
    if (w->done)
        return 0;
    if (!cli_wait_notify(cl, w->cmd) && !w->done)
        return cli_fail(w->cmd, "job %lld goes on (keel job-list shows it)",
                        w->job);
    return w->done ? 0 : 1;
}

/* Waits for the job's end; 0 when it succeeded, else 1 after keeld's
 * message. */
static int
watch_finish(struct cli_client *cl, struct job_watch *w)
{
    int status = 0;

    if (!w->done && !cli_wait_notify(cl, w->cmd) && !w->done)
        status = watch_cancel(cl, w);
    if (w->bar)
        fputc('\n', stderr);
    if (status || !w->done)
        return 1;
    if (!strcmp(w->state, "done"))
        return 0;
    if (!strcmp(w->state, "cancelled"))
        return cli_fail(w->cmd, "job %lld cancelled", w->job);
    return cli_fail(w->cmd, "%s", w->error ? w->error : "the job failed");
}

/* Starts a job with method and params g, and follows it. */
static int
job_run(const char *cmd, const char *method, yajl_gen g, long long *domid_r)
{
    struct job_watch w = {.cmd = cmd, .domid = -1, .tenth = -1};
    struct cli_client *cl = cli_connect(cmd);
    yajl_val res = NULL;
    int status;

    w.tty = !cli_opts.json && isatty(STDERR_FILENO);
    w.t0 = now_s();
    if (!cl) {
        yajl_gen_free(g);
        return 1;
    }
    cli_client_on_notify(cl, watch_notify, &w);
    status = cli_call_params(cl, cmd, method, g, &res);
    if (!status) {
        w.job = cli_get_int(res, "job", 0);
        if (cli_opts.json)
            cli_print_json_line(res);
        status = watch_finish(cl, &w);
    }
    if (domid_r)
        *domid_r = w.domid;
    yajl_tree_free(res);
    free(w.error);
    cli_close(cl);
    return status;
}

/* --- save, restore --- */

/* path as an absolute path (keeld's working directory is not ours). */
static char *
absolute(const char *cmd, const char *path)
{
    char cwd[PATH_MAX], *abs = NULL;

    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
        cli_fail(cmd, "getcwd: %s", strerror(errno));
        return NULL;
    }
    if (path[0] == '/')
        abs = strdup(path);
    else if (asprintf(&abs, "%s/%s", cwd, path) < 0)
        abs = NULL;
    if (!abs)
        cli_fail(cmd, "out of memory");
    return abs;
}

/* "[-p] ARG" (restore, start): 0 with ARG at argv[optind], or 2. */
static int
paused_opt(const char *cmd, int argc, char **argv, bool *paused_r)
{
    int c;

    *paused_r = false;
    optind = 1;
    while ((c = getopt(argc, argv, "+ph")) != -1) {
        if (c != 'p')
            return cli_usage(cmd);
        *paused_r = true;
    }
    return argc - optind == 1 ? 0 : cli_usage(cmd);
}

int
cmd_save(struct keel_ctx *ctx, int argc, char **argv)
{
    const char *leave = "destroyed";
    char *file;
    yajl_gen g;
    int c, status;

    (void)ctx;
    optind = 1;
    while ((c = getopt(argc, argv, "+cph")) != -1) {
        if (c == 'c')
            leave = "running";
        else if (c == 'p')
            leave = "paused";
        else
            return cli_usage("save");
    }
    if (argc - optind != 2)
        return cli_usage("save");
    if (!(file = absolute("save", argv[optind + 1])))
        return 1;
    g = cli_params_new(argv[optind]);
    cli_kv_str(g, "file", file);
    cli_kv_str(g, "leave", leave);
    status = job_run("save", "domain.save", g, NULL);
    free(file);
    return status;
}

int
cmd_restore(struct keel_ctx *ctx, int argc, char **argv)
{
    bool paused = false;
    long long domid = -1;
    char *file;
    yajl_gen g;
    int status;

    (void)ctx;
    if ((status = paused_opt("restore", argc, argv, &paused)))
        return status;
    if (!(file = absolute("restore", argv[optind])))
        return 1;
    g = cli_params_new(NULL);
    cli_kv_str(g, "file", file);
    cli_kv_bool(g, "paused", paused);
    status = job_run("restore", "domain.restore", g, &domid);
    if (!status && !cli_opts.json && domid >= 0)
        printf("Restored as domain %lld\n", domid);
    free(file);
    return status;
}

/* keel migrate [--policy xen|keel] [--downtime MS] DOMAIN HOST: HOST is
 * localhost (a copy on this host, as "xl migrate DOM localhost") or the
 * other keeld's socket on this machine. */
int
cmd_migrate(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct option longs[] = {
        {"policy", required_argument, NULL, 'P'},
        {"downtime", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy = NULL, *downtime = NULL, *host;
    long long domid = -1, ms = 0;
    char *end;
    yajl_gen g;
    int c, status;

    (void)ctx;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        if (c == 'P')
            policy = optarg;
        else if (c == 'D')
            downtime = optarg;
        else
            return cli_usage("migrate");
    }
    if (argc - optind != 2)
        return cli_usage("migrate");
    host = argv[optind + 1];
    if (policy && strcmp(policy, "xen") && strcmp(policy, "keel"))
        return cli_fail("migrate", "--policy takes xen or keel, not '%s'",
                        policy);
    if (downtime) {
        errno = 0;
        ms = strtoll(downtime, &end, 10);
        if (errno || end == downtime || *end || ms < 0 || ms > 3600000)
            return cli_fail("migrate",
                            "--downtime takes milliseconds (0..3600000), "
                            "not '%s'",
                            downtime);
        if (!policy)
            policy = "keel";
    }
    if (strcmp(host, "localhost") && host[0] != '/')
        return cli_fail("migrate",
                        "HOST is localhost or the other keeld's socket "
                        "(an absolute path), not '%s': migration to another "
                        "machine is not supported yet",
                        host);
    g = cli_params_new(argv[optind]);
    if (host[0] == '/')
        cli_kv_str(g, "socket", host);
    if (policy)
        cli_kv_str(g, "policy", policy);
    if (downtime)
        cli_kv_int(g, "downtime_ms", ms);
    status = job_run("migrate", "domain.migrate_local", g, &domid);
    if (!status && !cli_opts.json && domid >= 0)
        printf("Migrated as domain %lld\n", domid);
    return status;
}

/* --- define, undefine, start, autostart --- */

/* domain.define; keeld's config_text:LINE:COL becomes PATH:LINE:COL. */
static int
define_call(struct cli_client *cl, const char *path, yajl_gen g,
            yajl_val *res_r)
{
    char *msg = NULL;
    int status;

    yajl_gen_map_close(g);
    status =
        cli_call_quiet(cl, "define", "domain.define", g, res_r, NULL, &msg);
    yajl_gen_free(g);
    if (status && msg)
        cli_fail_config("define", path, msg);
    free(msg);
    return status;
}

int
cmd_define(struct keel_ctx *ctx, int argc, char **argv)
{
    struct cli_client *cl;
    char *text = NULL;
    yajl_val res = NULL;
    yajl_gen g;
    int status;

    (void)ctx;
    if ((status = util_args("define", argc, argv, 1, -1)) ||
        (status = util_check_overrides("define", argv[1], argv + 2, argc - 2)))
        return status;
    if ((status = util_read_file("define", argv[1], &text)))
        return status;
    if (!(cl = cli_connect("define"))) {
        free(text);
        return 1;
    }
    g = cli_config_params(argv[1], text, argv + 2, argc - 2);
    if (!(status = define_call(cl, argv[1], g, &res))) {
        if (cli_opts.json)
            cli_print_json(res);
        else
            printf("Domain %s defined (uuid %s)\n", cli_get_str(res, "name"),
                   cli_get_str(res, "uuid"));
    }
    yajl_tree_free(res);
    cli_close(cl);
    free(text);
    return status;
}

int
cmd_undefine(struct keel_ctx *ctx, int argc, char **argv)
{
    yajl_gen g;
    int status;

    (void)ctx;
    if ((status = util_args("undefine", argc, argv, 1, 1)))
        return status;
    g = cli_params_new(argv[1]);
    return cli_call_once("undefine", "domain.undefine", g, NULL);
}

int
cmd_start(struct keel_ctx *ctx, int argc, char **argv)
{
    bool paused = false;
    yajl_val res = NULL;
    yajl_gen g;
    int status;

    (void)ctx;
    if ((status = paused_opt("start", argc, argv, &paused)))
        return status;
    g = cli_params_new(argv[optind]);
    cli_kv_bool(g, "paused", paused);
    if (!(status = cli_call_once("start", "domain.start", g, &res))) {
        if (cli_opts.json)
            cli_print_json(res);
        else
            printf("Domain %s started (id %lld)\n", argv[optind],
                   cli_get_int(res, "domid", -1));
    }
    yajl_tree_free(res);
    return status;
}

int
cmd_autostart(struct keel_ctx *ctx, int argc, char **argv)
{
    yajl_gen g;
    bool on;
    int status;

    (void)ctx;
    if ((status = util_args("autostart", argc, argv, 2, 2)))
        return status;
    if (strcmp(argv[2], "on") && strcmp(argv[2], "off"))
        return cli_bad_usage("autostart", "say on or off, not %s", argv[2]);
    on = !strcmp(argv[2], "on");
    g = cli_params_new(argv[1]);
    cli_kv_bool(g, "autostart", on);
    return cli_call_once("autostart", "domain.set_autostart", g, NULL);
}

/* --- events --- */

/* cli_notify_fn: one line per event; never stops the wait. */
static int
events_notify(void *opaque, const char *method, yajl_val params)
{
    yajl_val domid = cli_get(params, "domid");
    const char *reason = cli_get_str(params, "reason");

    (void)opaque;
    if (strcmp(method, "event"))
        return 0;
    if (cli_opts.json) {
        cli_print_json_line(params);
        return 0;
    }
    printf("%-10s %-24s ", cli_get_str(params, "type"),
           cli_get_str(params, "name"));
    if (YAJL_IS_INTEGER(domid))
        printf("%5lld", YAJL_GET_INTEGER(domid));
    else
        printf("%5s", "-");
    printf("%s%s\n", reason ? " " : "", reason ? reason : "");
    fflush(stdout);
    return 0;
}

int
cmd_events(struct keel_ctx *ctx, int argc, char **argv)
{
    struct cli_client *cl;
    int status;

    (void)ctx;
    if ((status = util_args("events", argc, argv, 0, 0)))
        return status;
    if (!(cl = cli_connect("events")))
        return 1;
    cli_client_on_notify(cl, events_notify, NULL);
    status = cli_call(cl, "events", "events.subscribe", NULL, NULL, NULL);
    if (!status)
        status = cli_wait_notify(cl, "events"); /* 0 at Ctrl-C */
    cli_close(cl);
    return status;
}

/* --- job-list, job-cancel --- */

static void
job_row(yajl_val j)
{
    const char *dom = cli_get_str(j, "domain");
    long long total = cli_get_int(j, "bytes_total", 0);
    char prog[8] = "-";

    if (total > 0)
        snprintf(prog, sizeof(prog), "%d%%",
                 percent(cli_get_int(j, "bytes_done", 0), total));
    printf("%-5lld %-16s %-20s %-10s %-10s %s\n", cli_get_int(j, "job", 0),
           cli_get_str(j, "kind"), dom && *dom ? dom : "-",
           cli_get_str(j, "state"), cli_get_str(j, "phase"), prog);
}

int
cmd_job_list(struct keel_ctx *ctx, int argc, char **argv)
{
    struct cli_client *cl;
    yajl_val jobs = NULL;
    size_t i;
    int status;

    (void)ctx;
    if ((status = util_args("job-list", argc, argv, 0, 0)))
        return status;
    if (!(cl = cli_connect("job-list")))
        return 1;
    status = cli_call(cl, "job-list", "job.list", NULL, &jobs, NULL);
    if (!status && !YAJL_IS_ARRAY(jobs))
        status = cli_fail("job-list", "keeld's answer is not a list of jobs");
    if (!status && cli_opts.json)
        cli_print_json(jobs);
    else if (!status) {
        printf("%-5s %-16s %-20s %-10s %-10s %s\n", "Job", "Kind", "Domain",
               "State", "Phase", "Progress");
        for (i = 0; i < jobs->u.array.len; i++)
            job_row(jobs->u.array.values[i]);
    }
    yajl_tree_free(jobs);
    cli_close(cl);
    return status;
}

int
cmd_job_cancel(struct keel_ctx *ctx, int argc, char **argv)
{
    long long job;
    yajl_gen g;
    int status;

    (void)ctx;
    if ((status = util_args("job-cancel", argc, argv, 1, 1)))
        return status;
    if ((status =
             util_parse_int("job-cancel", "JOB", argv[1], 1, LLONG_MAX, &job)))
        return status;
    g = cli_params_new(NULL);
    cli_kv_int(g, "job", job);
    return cli_call_once("job-cancel", "job.cancel", g, NULL);
}
