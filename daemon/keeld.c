/* keeld.c: the daemon's main: options, the pidfile lock, the host, the loop
 *
 * keeld [--backend sim|xen] [--state-dir DIR] [--run-dir DIR]
 *       [--sim-dir DIR] [--sim-host SPEC] [--config FILE] [--foreground]
 *       [--log-level LEVEL] [--sock-group GROUP] [--max-message BYTES]
 *       [--max-clients N] [--max-queued BYTES] [--libvirt-sock-dir DIR]
 *
 * Order of start: options (a --config file first, the command line over
 * it), daemonize unless --foreground (before the lock: a fork drops
 * fcntl locks), the pidfile lock (STATE_DIR/keeld.pid: one keeld per
 * state directory; a second says which pid holds it), the backend and
 * the host (libkeel reconciles its records with the hypervisor), the
 * loop: workers, events, jobs, defined domains (autostart), sockets.
 * SIGTERM or SIGINT: refuse new requests, close the sockets, let calls in
 * flight finish, stop jobs, exit 0. Domains keep running: they belong to
 * the hypervisor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/sim.h>

#include "keeld.h"

static struct keeld the_kd;
static uv_signal_t sig_term, sig_int;

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: keeld [--backend sim|xen] [--state-dir DIR] "
            "[--run-dir DIR]\n"
            "             [--sim-dir DIR] [--sim-host SPEC] [--config FILE]\n"
            "             [--foreground] [--log-level error|warn|info|debug]\n"
            "             [--sock-group GROUP] [--max-message BYTES]\n"
            "             [--max-clients N] [--max-queued BYTES]\n"
            "             [--libvirt-sock-dir DIR]\n");
}

static int
parse_level(const char *s, int *level_r)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *level_r = i;
            return 0;
        }
    return -1;
}

static int
parse_size(const char *s, size_t min, size_t max, size_t *v_r)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *v_r = (size_t)v;
    return 0;
}

/* One option by name (the long option's, for the command line and the
 * config file alike). Returns 0 or -1 after saying why (where names the
 * place: "--x" or "file:line"). */
static int
set_option(struct kd_opts *o, const char *name, const char *val,
           const char *where)
{
    size_t n;

    if (strcmp(name, "backend") == 0)
        o->backend = strdup(val);
    else if (strcmp(name, "state-dir") == 0)
        o->state_dir = strdup(val);
    else if (strcmp(name, "run-dir") == 0)
        o->run_dir = strdup(val);
    else if (strcmp(name, "sim-dir") == 0)
        o->sim_dir = strdup(val);
    else if (strcmp(name, "sim-host") == 0)
        o->sim_host = strdup(val);
    else if (strcmp(name, "sock-group") == 0)
        o->sock_group = strdup(val);
    else if (strcmp(name, "libvirt-sock-dir") == 0)
        o->libvirt_sock_dir = strdup(val);
    else if (strcmp(name, "log-level") == 0) {
        if (parse_level(val, &o->log_level)) {
            fprintf(stderr,
                    "keeld: %s: log level '%s' is not error, warn, info or "
                    "debug\n",
                    where, val);
            return -1;
        }
    } else if (strcmp(name, "max-message") == 0) {
        if (parse_size(val, 1024, (size_t)1 << 30, &o->max_message)) {
            fprintf(stderr, "keeld: %s: '%s' is not a size of 1024 to 2^30\n",
                    where, val);
            return -1;
        }
    } else if (strcmp(name, "max-queued") == 0) {
        if (parse_size(val, 65536, (size_t)1 << 34, &o->max_queued)) {
            fprintf(stderr, "keeld: %s: '%s' is not a size of 65536 to 2^34\n",
                    where, val);
            return -1;
        }
    } else if (strcmp(name, "max-clients") == 0) {
        if (parse_size(val, 1, 100000, &n)) {
            fprintf(stderr, "keeld: %s: '%s' is not a count of 1 to 100000\n",
                    where, val);
            return -1;
        }
        o->max_clients = (unsigned)n;
    } else if (strcmp(name, "foreground") == 0) {
        o->foreground = strcmp(val, "0") != 0 && strcmp(val, "no") != 0;
    } else {
        fprintf(stderr, "keeld: %s: unknown option '%s'\n", where, name);
        return -1;
    }
    return 0;
}

/* --config FILE: "name = value" lines, '#' comments, names as the long
 * options without their dashes. */
static int
read_config(struct kd_opts *o, const char *path)
{
    char line[4096], where[4200];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");
    int rc = 0;

    if (!f) {
        fprintf(stderr, "keeld: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *p = line, *eq, *name, *val, *end;

        lineno++;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        eq = strchr(p, '=');
        if (!eq) {
            fprintf(stderr, "keeld: %s:%u:%d: expected 'name = value'\n", path,
                    lineno, (int)(p - line) + 1);
            rc = -1;
            break;
        }
        name = p;
        for (end = eq; end > name && (end[-1] == ' ' || end[-1] == '\t');)
            end--;
        *end = '\0';
        val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        end = val + strlen(val);
        while (end > val && (end[-1] == '\n' || end[-1] == ' ' ||
                             end[-1] == '\t' || end[-1] == '\r'))
            end--;
        *end = '\0';
        rc = set_option(o, name, val, where);
    }
    fclose(f);
    return rc;
}

/* The --config file is read before the rest of the command line, so that
 * the command line wins over it. */
static int
config_first(struct kd_opts *o, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return read_config(o, argv[i + 1]);
        if (strncmp(argv[i], "--config=", 9) == 0)
            return read_config(o, argv[i] + 9);
    }
    return 0;
}

static int
parse_command_line(struct kd_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"backend", required_argument, NULL, 0},
        {"state-dir", required_argument, NULL, 0},
        {"run-dir", required_argument, NULL, 0},
        {"sim-dir", required_argument, NULL, 0},
        {"sim-host", required_argument, NULL, 0},
        {"config", required_argument, NULL, 0},
        {"foreground", no_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, 0},
        {"sock-group", required_argument, NULL, 0},
        {"max-message", required_argument, NULL, 0},
        {"max-clients", required_argument, NULL, 0},
        {"max-queued", required_argument, NULL, 0},
        {"libvirt-sock-dir", required_argument, NULL, 0},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int idx, ch;
    char where[64];

    if (config_first(o, argc, argv))
        return -1;
    while ((ch = getopt_long(argc, argv, "fh", longs, &idx)) != -1) {
        if (ch == 'f') {
            o->foreground = true;
        } else if (ch == 'h') {
            usage(stdout);
            exit(0);
        } else if (ch == 0) {
            if (strcmp(longs[idx].name, "config") == 0)
                continue;
            snprintf(where, sizeof(where), "--%s", longs[idx].name);
            if (set_option(o, longs[idx].name, optarg, where))
                return -1;
        } else {
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "keeld: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

static int
mkdirs(const char *path, mode_t mode)
{
    char buf[4096];
    char *p;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* STATE_DIR/keeld.pid, locked for keeld's lifetime. */
static int
lock_pidfile(const char *state_dir)
{
    char path[4096], buf[32];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/keeld.pid", state_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "keeld: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        long pid = 0;

        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
            pid = fl.l_pid;
        if (pid <= 0 && (n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
            buf[n] = '\0';
            pid = strtol(buf, NULL, 10);
        }
        fprintf(stderr,
                "keeld: another keeld (pid %ld) runs on %s: it holds %s\n", pid,
                state_dir, path);
        close(fd);
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        fprintf(stderr, "keeld: writing %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The libvirt sockets keeld bound (always its own, never systemd's). */
static void
unlink_libvirt_socks(const struct kd_opts *o)
{
    static const char *const names[] = {"libvirt-sock", "libvirt-sock-ro",
                                        "virtxend-sock", "virtxend-sock-ro"};
    char path[4096];
    int i;

    for (i = 0; i < 4; i++) {
        const char *dir = i < 2 ? o->run_dir : o->libvirt_sock_dir;

        if (!dir)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
}

static void
on_signal(uv_signal_t *s, int signum)
{
    struct keeld *kd = s->data;

    if (kd->stopping)
        return;
    log_info("%s: shutting down (domains keep running)",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    kd->stopping = true;
    kd_control_stop_loop(kd);
    kd_events_stop_loop(kd);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    /* The loop ends when the calls in flight have answered. */
}

static int
open_host(struct keeld *kd)
{
    struct keel_hv_open_args args = {.dir = kd->opts.sim_dir,
                                     .spec = kd->opts.sim_host};
    char state[4096];
    int rc;

    rc = keel_hv_open(kd->ctx, kd->opts.backend, &args, &kd->hv);
    if (rc) {
        log_err("opening the %s backend: %s", kd->opts.backend,
                keel_ctx_last_error(kd->ctx));
        return rc;
    }
    kd->sim = strcmp(kd->opts.backend, "sim") == 0;
    snprintf(state, sizeof(state), "%s/domains", kd->opts.state_dir);
    rc = keel_host_open(kd->ctx, kd->hv, state, 0, &kd->host);
    if (rc)
        log_err("opening the host: %s", keel_ctx_last_error(kd->ctx));
    return rc;
}

int
main(int argc, char **argv)
{
    struct keeld *kd = &the_kd;
    struct kd_opts *o = &kd->opts;
    char sim_dir[4096];
    int pidfd, rc, status = 1;

    o->backend = "sim";
    o->state_dir = "/var/lib/keel";
    o->run_dir = "/run/keel";
    o->log_level = KEEL_LOG_INFO;
    o->max_message = 4u << 20;
    o->max_clients = 256;
    o->max_queued = 16u << 20;
    if (parse_command_line(o, argc, argv))
        return 2;
    if (!o->sim_dir) {
        snprintf(sim_dir, sizeof(sim_dir), "%s/sim", o->state_dir);
        o->sim_dir = sim_dir;
    }
    if ((rc = mkdirs(o->state_dir, 0700)) || (rc = mkdirs(o->run_dir, 0755)) ||
        (o->libvirt_sock_dir && (rc = mkdirs(o->libvirt_sock_dir, 0755)))) {
        fprintf(stderr, "keeld: making %s, %s%s%s: %s\n", o->state_dir,
                o->run_dir, o->libvirt_sock_dir ? " and " : "",
                o->libvirt_sock_dir ? o->libvirt_sock_dir : "", strerror(-rc));
        return 1;
    }
    if (!o->foreground && daemon(0, 0) != 0) {
        perror("keeld: daemon");
        return 1;
    }
    pidfd = lock_pidfile(o->state_dir);
    if (pidfd < 0)
        return 1;
    kd_log_init(o->foreground, o->log_level);
    signal(SIGPIPE, SIG_IGN);
    /* Handlers that wait (a polite shutdown) hold a worker: have plenty. */
    setenv("UV_THREADPOOL_SIZE", "32", 0);
    if (keel_ctx_new(&kd->ctx, 0))
        return 1;
    keel_ctx_set_logger(kd->ctx, (enum keel_log_level)o->log_level, kd_log_keel,
                        NULL);
    if (open_host(kd))
        goto out;
    kd->loop = uv_default_loop();
    if (kd_work_init(kd) || kd_events_start_loop(kd) || kd_jobs_init(kd) ||
        kd_state_init(kd) || kd_control_start_loop(kd)) {
        /* What started must end before the state is freed: work queued
         * at start (the first event pump) may be running. */
        kd->stopping = true;
        kd_control_stop_loop(kd);
        kd_events_stop_loop(kd);
        uv_run(kd->loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_signal_init(kd->loop, &sig_term);
    uv_signal_init(kd->loop, &sig_int);
    sig_term.data = sig_int.data = kd;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    log_info("keeld %s ready: backend %s, state in %s", keel_version(),
             o->backend, o->state_dir);
    uv_run(kd->loop, UV_RUN_DEFAULT);
    status = 0;
out:
    kd_jobs_fini(kd);
    kd_state_fini(kd);
    kd_events_free(kd);
    kd_work_fini(kd);
    keel_host_close(kd->host);
    keel_hv_close(kd->hv);
    keel_ctx_free(kd->ctx);
    if (status == 0) {
        char path[4096];

        if (!kd->activated) { /* systemd's sockets outlive keeld */
            snprintf(path, sizeof(path), "%s/keeld.sock", o->run_dir);
            unlink(path);
            snprintf(path, sizeof(path), "%s/keeld-ro.sock", o->run_dir);
            unlink(path);
        }
        unlink_libvirt_socks(o);
        snprintf(path, sizeof(path), "%s/keeld.pid", o->state_dir);
        unlink(path);
    }
    close(pidfd);
    if (kd->loop)
        uv_loop_close(kd->loop);
    return status;
}
