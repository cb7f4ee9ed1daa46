/* bench-keeld.c: keeld's JSON-RPC round trips and memory, against floors
 *
 * keeld is measured as a client sees it: a real keeld (the binary named by
 * argv[1], else $KEELD, else daemon/keeld under the current directory, as
 * make bench runs in the build tree) on a sim host in a temporary
 * directory, reached over keeld.sock by a small blocking client with one
 * request in flight per connection. Each RPC figure's baseline is the
 * transport floor: the same round trips, by as many client threads, to an
 * echo server in this process that answers every request line with the
 * very bytes keeld replied (a thread per connection). The ratio, keeld's
 * rate over the echo's, is what parsing, dispatch, the worker hop,
 * libkeel and JSON writing cost over bare socket round trips. Round trips
 * per trial are calibrated on keeld and the echo does as many; trials
 * alternate as in bench.h and each side keeps its best; the latencies of
 * all trials give p50 and p99.
 *
 * Memory: a second, fresh keeld's VmRSS with no domain and then with
 * $KEEL_BENCH_DOMAINS (default 10,000) gives its cost per domain, against
 * what the same domains cost a child of this process creating them
 * in-process through libkeel (keel_domain_create on its own sim host).
 * The RPC figures run on another keeld so that their reply buffers do not
 * count as domains.
 *
 * Output as bench.h, one line per figure, with extra members after "n":
 * RPC figures: clients, reply_bytes, p50_us, p99_us, baseline_p50_us,
 * baseline_p99_us; memory: rss0_kb, rss_kb, baseline_rss0_kb,
 * baseline_rss_kb. keeld is stopped (SIGTERM, then waited for) and the
 * directory removed on every path; if this process dies first, keeld
 * gets SIGTERM from the kernel (PR_SET_PDEATHSIG).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel/domain.h>
#include <keel/sim.h>

#include "bench.h"

#define SPEC "cpus=64,memory=4T" /* room for 10,000 4 MiB domains */
#define LIST_DOMAINS 1000
#define MEM_DOMAINS 10000
#define DOM_KB 4096
#define CREATE_CONNS 8 /* connections creating domains at once */
#define MAX_CLIENTS 32
#define MIN_TRIPS 64       /* round trips per trial, at least */
#define IO_TIMEOUT_S 60    /* no reply in this long: keeld hangs */
#define START_TIMEOUT_S 10 /* for keeld's socket, and for its exit */
#define READ_CHUNK 65536
#define CHECK_BYTES 96 /* where "result" must appear in a reply */

struct keeld_proc {
    pid_t pid; /* 0: not started, or reaped */
    char *dir; /* state/ run/ sim/ */
    char *sock;
};

struct bench {
    const char *bin;
    char *dir;
    unsigned n_list, n_mem;
    struct keeld_proc rpc, mem;
};

/* --- a blocking JSON-RPC client --- */

struct conn {
    int fd;
    char *buf;       /* received bytes */
    size_t len, cap; /* in buf; its size */
    size_t used;     /* the last reply's length, consumed on the next call */
    uint64_t next_id;
};

static int
send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Connects c (zeroed or closed) to path; replies slower than
 * IO_TIMEOUT_S fail with -ETIMEDOUT rather than hang the bench. */
static int
conn_open(struct conn *c, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    int r = 0;

    memset(c, 0, sizeof(*c));
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
        r = -errno;
    if (r)
        conn_close(c);
    return r;
}

/* Reads until c->buf holds a whole line; *len_r its length with '\n'. */
static int
conn_read_line(struct conn *c, size_t *len_r)
{
    size_t scanned = 0;
    char *nl, *p;
    ssize_t n;

    for (;;) {
        nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned)
                              : NULL;
        if (nl) {
            *len_r = (size_t)(nl - c->buf) + 1;
            return 0;
        }
        scanned = c->len;
        if (c->cap - c->len < READ_CHUNK) {
            p = realloc(c->buf, c->cap * 2 + READ_CHUNK);
            if (!p)
                return -ENOMEM;
            c->buf = p;
            c->cap = c->cap * 2 + READ_CHUNK;
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if (n == 0)
            return -ECONNRESET;
        c->len += (size_t)n;
    }
}

/* Prints a reply that is not a result, cut short. */
static void
bad_reply(const char *method, const char *line, size_t len)
{
    int show = len > 400 ? 400 : (int)len;

    fprintf(stderr, "bench-keeld: %s: not a result: %.*s%s\n", method, show,
            line, len > 400 ? "..." : "");
}

/* One round trip: method with params (a JSON object's text, or NULL).
 * *reply_r points into c->buf (not NUL-terminated) until the next call.
 * -EPROTO when the reply is not a result. */
static int
conn_call(struct conn *c, const char *method, const char *params,
          const char **reply_r, size_t *len_r)
{
    char req[512];
    int n, r;

    if (c->used) {
        memmove(c->buf, c->buf + c->used, c->len - c->used);
        c->len -= c->used;
        c->used = 0;
    }
    n = snprintf(req, sizeof(req),
                 "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
                 ",\"method\":\"%s\"%s%s}\n",
                 ++c->next_id, method, params ? ",\"params\":" : "",
                 params ? params : "");
    if (n < 0 || (size_t)n >= sizeof(req))
        return -E2BIG;
    r = send_all(c->fd, req, (size_t)n);
    if (r == 0)
        r = conn_read_line(c, len_r);
    if (r)
        return r;
    c->used = *len_r;
    *reply_r = c->buf;
    if (!memmem(c->buf, *len_r < CHECK_BYTES ? *len_r : CHECK_BYTES,
                "\"result\":", 9)) {
        bad_reply(method, c->buf, *len_r);
        return -EPROTO;
    }
    return 0;
}

/* --- the transport floor: an echo server with keeld's reply --- */

struct echo_conn {
    struct echo *e;
    int fd;
    pthread_t thread;
};

struct echo {
    int lfd;
    char path[108];
    char *reply; /* keeld's, '\n' included */
    size_t reply_len;
    unsigned n_conns, n_started;
    pthread_t acceptor;
    struct echo_conn conns[MAX_CLIENTS];
};

/* Answers every request line with the reply, until the client closes. */
static void *
echo_serve(void *arg)
{
    struct echo_conn *ec = arg;
    char buf[16384], *p, *nl;
    ssize_t n;

    for (;;) {
        n = recv(ec->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))); p = nl + 1)
            if (send_all(ec->fd, ec->e->reply, ec->e->reply_len) != 0)
                return NULL;
    }
    return NULL;
}

/* Takes exactly the clients the figure opens, a thread each. */
static void *
echo_accept(void *arg)
{
    struct echo *e = arg;
    struct echo_conn *ec;
    int fd;

    while (e->n_started < e->n_conns) {
        fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 && errno == EINTR)
            continue;
        if (fd < 0)
            break; /* shut down by echo_stop */
        ec = &e->conns[e->n_started];
        ec->e = e;
        ec->fd = fd;
        if (pthread_create(&ec->thread, NULL, echo_serve, ec) != 0) {
            close(fd);
            break;
        }
        e->n_started++;
    }
    return NULL;
}

static int
echo_start(struct echo *e, const char *dir, unsigned n_conns)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int r = 0;

    e->n_conns = n_conns;
    e->n_started = 0;
    snprintf(e->path, sizeof(e->path), "%s/echo.sock", dir);
    strcpy(sa.sun_path, e->path);
    e->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (e->lfd < 0 || bind(e->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(e->lfd, 128))
        r = -errno;
    if (r == 0)
        r = -pthread_create(&e->acceptor, NULL, echo_accept, e);
    if (r) {
        if (e->lfd >= 0)
            close(e->lfd);
        e->lfd = -1;
        unlink(e->path);
    }
    return r;
}

/* After the clients closed: their threads see EOF and end. */
static void
echo_stop(struct echo *e)
{
    unsigned i;

    if (e->lfd < 0)
        return;
    shutdown(e->lfd, SHUT_RDWR); /* wakes accept() if a client never came */
    pthread_join(e->acceptor, NULL);
    for (i = 0; i < e->n_started; i++) {
        pthread_join(e->conns[i].thread, NULL);
        close(e->conns[i].fd);
    }
    close(e->lfd);
    e->lfd = -1;
    unlink(e->path);
}

/* --- one RPC figure: keeld and the echo, trial for trial --- */

struct side {
    struct conn conns[MAX_CLIENTS];
    double best; /* round trips per second */
    double *lat; /* seconds, every trial's */
    size_t n_lat;
};

struct figure {
    const char *method, *params;
    unsigned clients;
    uint64_t per_client; /* round trips per client per trial */
    size_t reply_len;
    struct side keeld, echo;
};

struct start_gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
};

struct worker {
    struct figure *f;
    struct conn *conn;
    struct start_gate *gate;
    uint64_t n;
    double *lat; /* n slots, or NULL */
    int rc;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    const char *reply;
    size_t len;
    uint64_t i;
    double t;

    pthread_mutex_lock(&w->gate->lock);
    while (!w->gate->open)
        pthread_cond_wait(&w->gate->cond, &w->gate->lock);
    pthread_mutex_unlock(&w->gate->lock);
    for (i = 0; w->rc == 0 && i < w->n; i++) {
        t = bench_now();
        w->rc = conn_call(w->conn, w->f->method, w->f->params, &reply, &len);
        if (w->lat)
            w->lat[i] = bench_now() - t;
    }
    return NULL;
}

/* n round trips on each of the side's connections at once, latencies to
 * lat (clients * n slots, or NULL); *secs_r the wall time. */
static int
side_run(struct figure *f, struct side *s, uint64_t n, double *lat,
         double *secs_r)
{
    struct start_gate gate = {PTHREAD_MUTEX_INITIALIZER,
                              PTHREAD_COND_INITIALIZER, false};
    struct worker w[MAX_CLIENTS];
    pthread_t tids[MAX_CLIENTS];
    unsigned i, started;
    int rc = 0;
    double t0;

    for (started = 0; started < f->clients; started++) {
        w[started] = (struct worker){
            f, &s->conns[started], &gate, n, lat ? lat + started * n : NULL, 0};
        rc = -pthread_create(&tids[started], NULL, worker_run, &w[started]);
        if (rc)
            break;
    }
    pthread_mutex_lock(&gate.lock);
    gate.open = true;
    t0 = bench_now();
    pthread_cond_broadcast(&gate.cond);
    pthread_mutex_unlock(&gate.lock);
    for (i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        if (rc == 0)
            rc = w[i].rc;
    }
    *secs_r = bench_now() - t0;
    return rc;
}

/* Picks per_client as bench_calibrate does, timing keeld. */
static int
figure_calibrate(struct figure *f)
{
    uint64_t n = 1, min = (MIN_TRIPS + f->clients - 1) / f->clients;
    double secs = 0;
    int rc;

    for (;;) {
        rc = side_run(f, &f->keeld, n, NULL, &secs);
        if (rc)
            return rc;
        if (secs >= BENCH_CALIBRATE_S || n >= (UINT64_C(1) << 30))
            break;
        n *= secs > BENCH_CALIBRATE_S / 64 ? 2 : 16;
    }
    f->per_client = (uint64_t)ceil((double)n * bench_trial_s() / secs);
    if (f->per_client < min)
        f->per_client = min;
    return 0;
}

static int
side_trial(struct figure *f, struct side *s)
{
    uint64_t trips = f->per_client * f->clients;
    double secs;
    int rc = side_run(f, s, f->per_client, s->lat + s->n_lat, &secs);

    if (rc)
        return rc;
    s->n_lat += trips;
    if (trips / secs > s->best)
        s->best = trips / secs;
    return 0;
}

static int
figure_trials(struct figure *f)
{
    size_t slots = f->per_client * f->clients * BENCH_TRIALS;
    int i, rc = 0;

    f->keeld.lat = calloc(slots, sizeof(double));
    f->echo.lat = calloc(slots, sizeof(double));
    if (!f->keeld.lat || !f->echo.lat)
        return -ENOMEM;
    for (i = 0; rc == 0 && i < BENCH_TRIALS; i++) {
        rc = side_trial(f, &f->echo);
        if (rc == 0)
            rc = side_trial(f, &f->keeld);
    }
    return rc;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* In microseconds; sorts s->lat. */
static double
percentile(struct side *s, double p)
{
    qsort(s->lat, s->n_lat, sizeof(double), cmp_double);
    return s->n_lat ? s->lat[(size_t)(p * (double)(s->n_lat - 1))] * 1e6 : 0;
}

static void
json_member(const char *name, double v)
{
    printf(",\"%s\":", name);
    bench_json_num(stdout, v);
}

/* bench_report's members, then the figure's own. */
static void
report_head(const char *name, const char *unit, double value, const char *base,
            double base_value, uint64_t n)
{
    fputs("{\"bench\":", stdout);
    bench_json_str(stdout, name);
    fputs(",\"unit\":", stdout);
    bench_json_str(stdout, unit);
    json_member("value", value);
    fputs(",\"baseline\":", stdout);
    bench_json_str(stdout, base);
    json_member("baseline_value", base_value);
    json_member("ratio", base_value > 0 ? value / base_value : 0);
    printf(",\"n\":%" PRIu64, n);
}

static void
figure_report(struct figure *f, const char *what)
{
    char name[128], base[128];

    snprintf(name, sizeof(name), "keeld %s, %u client%s", what, f->clients,
             f->clients > 1 ? "s" : "");
    snprintf(base, sizeof(base),
             "UNIX socket echo of the same reply bytes, %u client%s",
             f->clients, f->clients > 1 ? "s" : "");
    report_head(name, "requests/s", f->keeld.best, base, f->echo.best,
                f->per_client * f->clients);
    printf(",\"clients\":%u,\"reply_bytes\":%zu", f->clients, f->reply_len);
    json_member("p50_us", percentile(&f->keeld, 0.50));
    json_member("p99_us", percentile(&f->keeld, 0.99));
    json_member("baseline_p50_us", percentile(&f->echo, 0.50));
    json_member("baseline_p99_us", percentile(&f->echo, 0.99));
    fputs("}\n", stdout);
    fflush(stdout);
}

/* Opens the clients on both sides; the echo learns keeld's reply. */
static int
figure_open(struct figure *f, struct echo *e, const char *sock, const char *dir)
{
    const char *reply;
    unsigned i;
    int rc = 0;

    for (i = 0; rc == 0 && i < f->clients; i++)
        rc = conn_open(&f->keeld.conns[i], sock);
    if (rc == 0)
        rc = conn_call(&f->keeld.conns[0], f->method, f->params, &reply,
                       &f->reply_len);
    if (rc == 0 && !(e->reply = malloc(f->reply_len)))
        rc = -ENOMEM;
    if (rc)
        return rc;
    memcpy(e->reply, reply, f->reply_len);
    e->reply_len = f->reply_len;
    rc = echo_start(e, dir, f->clients);
    for (i = 0; rc == 0 && i < f->clients; i++)
        rc = conn_open(&f->echo.conns[i], e->path);
    return rc;
}

static void
figure_close(struct figure *f, struct echo *e)
{
    unsigned i;

    for (i = 0; i < MAX_CLIENTS; i++) {
        conn_close(&f->keeld.conns[i]);
        conn_close(&f->echo.conns[i]);
    }
    echo_stop(e);
    free(e->reply);
    free(f->keeld.lat);
    free(f->echo.lat);
}

/* One figure, from opening the clients to its JSON line. */
static int
figure_run(const char *sock, const char *dir, const char *what,
           const char *method, const char *params, unsigned clients)
{
    struct figure f = {.method = method, .params = params, .clients = clients};
    struct echo e = {.lfd = -1};
    unsigned i;
    int rc;

    for (i = 0; i < MAX_CLIENTS; i++)
        f.keeld.conns[i].fd = f.echo.conns[i].fd = -1;
    fprintf(stderr, "bench-keeld: keeld %s, %u client%s, vs the echo\n", what,
            clients, clients > 1 ? "s" : "");
    rc = figure_open(&f, &e, sock, dir);
    if (rc == 0)
        rc = figure_calibrate(&f);
    if (rc == 0)
        rc = figure_trials(&f);
    if (rc == 0)
        figure_report(&f, what);
    else if (rc == -ETIMEDOUT)
        fprintf(stderr, "bench-keeld: %s, %u clients: no reply in %d s\n", what,
                clients, IO_TIMEOUT_S);
    else
        fprintf(stderr, "bench-keeld: %s, %u clients: %s\n", what, clients,
                strerror(-rc));
    figure_close(&f, &e);
    return rc;
}

/* --- filling keeld with domains, several connections at once --- */

struct creator {
    const char *sock;
    unsigned first, end, step;
    int rc;
};

static void *
creator_run(void *arg)
{
    struct creator *cr = arg;
    struct conn c;
    char params[160];
    const char *reply;
    size_t len;
    unsigned i;

    cr->rc = conn_open(&c, cr->sock);
    for (i = cr->first; cr->rc == 0 && i < cr->end; i += cr->step) {
        snprintf(params, sizeof(params),
                 "{\"config_text\":\"name=\\\"bench-%u\\\"\\nmemory=%d"
                 "\\nvcpus=1\\n\"}",
                 i, DOM_KB / 1024);
        cr->rc = conn_call(&c, "domain.create", params, &reply, &len);
        if (cr->rc)
            fprintf(stderr, "bench-keeld: creating bench-%u: %s\n", i,
                    strerror(-cr->rc));
    }
    conn_close(&c);
    return NULL;
}

/* Creates bench-FIRST .. bench-(END-1) through keeld. */
static int
create_domains(const char *sock, unsigned first, unsigned end)
{
    struct creator cr[CREATE_CONNS];
    pthread_t tids[CREATE_CONNS];
    unsigned i, started;
    double t0 = bench_now();
    int rc = 0;

    fprintf(stderr, "bench-keeld: creating %u domains over %d connections\n",
            end - first, CREATE_CONNS);
    for (started = 0; started < CREATE_CONNS; started++) {
        cr[started] =
            (struct creator){sock, first + started, end, CREATE_CONNS, 0};
        rc = -pthread_create(&tids[started], NULL, creator_run, &cr[started]);
        if (rc)
            break;
    }
    for (i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        if (rc == 0)
            rc = cr[i].rc;
    }
    if (rc == 0)
        fprintf(stderr, "bench-keeld: created in %.2f s\n", bench_now() - t0);
    return rc;
}

/* --- keeld itself --- */

static void
say_status(const char *what, int status)
{
    if (WIFSIGNALED(status))
        fprintf(stderr, "bench-keeld: keeld %s: killed by signal %d (%s)%s\n",
                what, WTERMSIG(status), strsignal(WTERMSIG(status)),
                WCOREDUMP(status) ? ", core dumped" : "");
    else
        fprintf(stderr, "bench-keeld: keeld %s: exit status %d\n", what,
                WEXITSTATUS(status));
}

/* After a failure: says whether keeld died (and reaps it). */
static void
keeld_check(struct keeld_proc *k, const char *when)
{
    int status;

    if (k->pid > 0 && waitpid(k->pid, &status, WNOHANG) == k->pid) {
        say_status(when, status);
        k->pid = 0;
    }
}

static void
keeld_exec(const char *bin, const char *dir, pid_t parent)
{
    char state[4096], run[4096], sim[4096];

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(run, sizeof(run), "%s/run", dir);
    snprintf(sim, sizeof(sim), "%s/sim", dir);
    execl(bin, bin, "--foreground", "--log-level", "error", "--state-dir",
          state, "--run-dir", run, "--sim-dir", sim, "--sim-host", SPEC,
          (char *)NULL);
    fprintf(stderr, "bench-keeld: cannot run %s: %s\n", bin, strerror(errno));
    _exit(127);
}

/* Polls for the socket: keeld is ready once it accepts. */
static int
keeld_wait_ready(struct keeld_proc *k)
{
    double deadline = bench_now() + START_TIMEOUT_S;
    struct conn c;

    while (bench_now() < deadline) {
        keeld_check(k, "exited before its socket was up");
        if (k->pid == 0)
            return -ECHILD;
        if (conn_open(&c, k->sock) == 0) {
            conn_close(&c);
            return 0;
        }
        usleep(10000);
    }
    fprintf(stderr, "bench-keeld: no %s after %d s\n", k->sock,
            START_TIMEOUT_S);
    return -ETIMEDOUT;
}

/* Starts keeld on PARENT/TAG/{state,run,sim}, and waits for its socket. */
static int
keeld_start(struct keeld_proc *k, const char *bin, const char *parent,
            const char *tag)
{
    static const char *const subs[] = {"", "/state", "/run", "/sim"};
    pid_t self = getpid();
    char path[4096];
    size_t i;

    if (asprintf(&k->dir, "%s/%s", parent, tag) < 0 ||
        asprintf(&k->sock, "%s/run/keeld.sock", k->dir) < 0)
        return -ENOMEM;
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", k->dir, subs[i]);
        if (mkdir(path, 0700) != 0)
            return -errno;
    }
    fflush(NULL);
    k->pid = fork();
    if (k->pid < 0) {
        k->pid = 0;
        return -errno;
    }
    if (k->pid == 0)
        keeld_exec(bin, k->dir, self);
    return keeld_wait_ready(k);
}

/* SIGTERM, then waits; a keeld that does not exit 0 in time is a
 * failure (keeld.8: exit 0 after SIGTERM). */
static int
keeld_stop(struct keeld_proc *k)
{
    double deadline = bench_now() + START_TIMEOUT_S;
    int status = 0, rc = 0;

    if (k->pid > 0) {
        kill(k->pid, SIGTERM);
        while (waitpid(k->pid, &status, WNOHANG) == 0) {
            if (bench_now() > deadline) {
                fprintf(stderr,
                        "bench-keeld: keeld still running %d s after "
                        "SIGTERM: killing it\n",
                        START_TIMEOUT_S);
                kill(k->pid, SIGKILL);
                waitpid(k->pid, &status, 0);
                rc = -ETIMEDOUT;
                break;
            }
            usleep(10000);
        }
        if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            say_status("after SIGTERM", status);
            rc = -ECHILD;
        }
    }
    k->pid = 0;
    free(k->dir);
    free(k->sock);
    k->dir = k->sock = NULL;
    return rc;
}

/* VmRSS of pid (0: this process) in KiB, or -1. */
static long
rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* --- the RPC figures --- */

static int
bench_rpc(struct bench *b)
{
    static const unsigned clients[] = {1, 8, 32};
    char what[64], params[64];
    size_t i;
    int rc;

    rc = keeld_start(&b->rpc, b->bin, b->dir, "rpc");
    if (rc == 0)
        rc = create_domains(b->rpc.sock, 0, b->n_list);
    snprintf(what, sizeof(what), "domain.list, %u domains", b->n_list);
    for (i = 0; rc == 0 && i < sizeof(clients) / sizeof(clients[0]); i++)
        rc = figure_run(b->rpc.sock, b->dir, what, "domain.list", NULL,
                        clients[i]);
    snprintf(what, sizeof(what), "domain.info, %u domains", b->n_list);
    snprintf(params, sizeof(params), "{\"domain\":\"bench-%u\"}",
             b->n_list / 2);
    if (rc == 0)
        rc = figure_run(b->rpc.sock, b->dir, what, "domain.info", params, 1);
    if (rc)
        keeld_check(&b->rpc, "died during the run");
    if (b->rpc.pid > 0) {
        int r = keeld_stop(&b->rpc);

        rc = rc ? rc : r;
    }
    return rc;
}

/* --- memory per domain --- */

static int
libkeel_fail(struct keel_ctx *ctx, int rc, const char *what)
{
    fprintf(stderr, "bench-keeld: libkeel: %s: %s: %s\n", what,
            keel_strerror(rc), keel_ctx_last_error(ctx));
    return rc;
}

static int
libkeel_create(struct keel_host *host, unsigned i)
{
    struct keel_domain_config cfg;
    char name[32];
    uint32_t domid;
    int rc = KEEL_ENOMEM;

    snprintf(name, sizeof(name), "bench-%u", i);
    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.memory_kb = DOM_KB;
    cfg.vcpus = 1;
    if (cfg.name)
        rc = keel_domain_create(host, &cfg, 0, &domid);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* In the child: a sim host in dir, VmRSS before and after n domains. */
static int
libkeel_fill(const char *dir, unsigned n, long rss_r[2])
{
    struct keel_hv_open_args args = {.spec = SPEC};
    struct keel_ctx *ctx = NULL;
    struct keel_hv *hv = NULL;
    struct keel_host *host = NULL;
    char sim[4096 + 16], state[4096 + 16]; /* dir is at most 4096 */
    unsigned i;
    int rc;

    snprintf(sim, sizeof(sim), "%s/sim", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    args.dir = sim;
    rc = keel_ctx_new(&ctx, 0);
    if (rc)
        return rc;
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, NULL, NULL);
    rc = keel_hv_open(ctx, "sim", &args, &hv);
    if (rc == 0)
        rc = keel_host_open(ctx, hv, state, 0, &host);
    if (rc)
        rc = libkeel_fail(ctx, rc, "opening the sim host");
    rss_r[0] = rss_kb(0);
    for (i = 0; rc == 0 && i < n; i++)
        if ((rc = libkeel_create(host, i)))
            libkeel_fail(ctx, rc, "creating a domain");
    rss_r[1] = rss_kb(0);
    keel_host_close(host);
    keel_hv_close(hv);
    keel_ctx_free(ctx);
    return rc;
}

/* VmRSS of a child before and after creating n domains through libkeel. */
static int
libkeel_rss(const char *parent, unsigned n, long rss_r[2])
{
    char dir[4096];
    int fds[2], status;
    pid_t pid;
    ssize_t got;

    snprintf(dir, sizeof(dir), "%s/libkeel", parent);
    if (mkdir(dir, 0700) != 0 || pipe(fds) != 0)
        return -errno;
    fprintf(stderr, "bench-keeld: creating %u domains in-process (libkeel)\n",
            n);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (libkeel_fill(dir, n, rss_r) == 0 &&
            write(fds[1], rss_r, 2 * sizeof(long)) == 2 * sizeof(long))
            _exit(0);
        _exit(1);
    }
    close(fds[1]);
    got = pid > 0 ? read(fds[0], rss_r, 2 * sizeof(long)) : -1;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (pid < 0 || got != 2 * sizeof(long) || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench-keeld: the libkeel child failed\n");
        return -ECHILD;
    }
    return 0;
}

/* A few read calls first, so that what keeld allocates on its first
 * requests (worker threads, buffers) is not counted as domains. */
static int
keeld_warm(const char *sock)
{
    static const char *const methods[] = {"version", "host.info",
                                          "domain.list"};
    const char *reply;
    struct conn c;
    size_t i, len;
    int rc = conn_open(&c, sock);

    for (i = 0; rc == 0 && i < sizeof(methods) / sizeof(methods[0]); i++)
        rc = conn_call(&c, methods[i], NULL, &reply, &len);
    conn_close(&c);
    return rc;
}

static void
memory_report(unsigned n, const long keeld_kb[2], const long lib_kb[2])
{
    char name[96], base[96];
    double v = (double)(keeld_kb[1] - keeld_kb[0]) * 1024 / n;
    double bv = (double)(lib_kb[1] - lib_kb[0]) * 1024 / n;

    snprintf(name, sizeof(name), "keeld VmRSS per domain, %u domains", n);
    snprintf(base, sizeof(base),
             "libkeel in-process VmRSS per domain, %u domains", n);
    report_head(name, "bytes/domain", v, base, bv, n);
    printf(",\"rss0_kb\":%ld,\"rss_kb\":%ld,\"baseline_rss0_kb\":%ld,"
           "\"baseline_rss_kb\":%ld}\n",
           keeld_kb[0], keeld_kb[1], lib_kb[0], lib_kb[1]);
    fflush(stdout);
}

static int
bench_memory(struct bench *b)
{
    long lib_kb[2], keeld_kb[2];
    int rc;

    rc = libkeel_rss(b->dir, b->n_mem, lib_kb);
    if (rc == 0)
        rc = keeld_start(&b->mem, b->bin, b->dir, "mem");
    if (rc == 0)
        rc = keeld_warm(b->mem.sock);
    keeld_kb[0] = rc == 0 ? rss_kb(b->mem.pid) : -1;
    if (rc == 0)
        rc = create_domains(b->mem.sock, 0, b->n_mem);
    keeld_kb[1] = rc == 0 ? rss_kb(b->mem.pid) : -1;
    if (rc == 0 &&
        (keeld_kb[0] < 0 || keeld_kb[1] < 0 || lib_kb[0] < 0 || lib_kb[1] < 0))
        rc = -EIO;
    if (rc == 0)
        memory_report(b->n_mem, keeld_kb, lib_kb);
    if (rc)
        keeld_check(&b->mem, "died during the run");
    if (b->mem.pid > 0) {
        int r = keeld_stop(&b->mem);

        rc = rc ? rc : r;
    }
    return rc;
}

/* --- main --- */

static int
bench_init(struct bench *b, int argc, char **argv)
{
    const char *cap_env = getenv("KEEL_BENCH_DOMAINS");
    unsigned long cap = cap_env ? strtoul(cap_env, NULL, 10) : MEM_DOMAINS;
    struct rlimit rl;

    b->bin = argc > 1 ? argv[1] : getenv("KEELD");
    if (!b->bin || !*b->bin)
        b->bin = "daemon/keeld";
    if (access(b->bin, X_OK) != 0) {
        fprintf(stderr,
                "bench-keeld: no keeld at %s (give its path as the "
                "argument or in $KEELD)\n",
                b->bin);
        return -ENOENT;
    }
    b->n_mem = cap == 0 ? 1 : cap > MEM_DOMAINS * 10 ? MEM_DOMAINS * 10 : cap;
    b->n_list = b->n_mem < LIST_DOMAINS ? b->n_mem : LIST_DOMAINS;
    /* Many domains may mean many open files, in keeld and the sim. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    b->dir = bench_tmpdir("keel-bench-keeld");
    return b->dir ? 0 : -EIO;
}

int
main(int argc, char **argv)
{
    struct bench b = {0};
    int rc;

    rc = bench_init(&b, argc, argv);
    if (rc == 0)
        rc = bench_rpc(&b);
    if (rc == 0)
        rc = bench_memory(&b);
    keeld_stop(&b.rpc);
    keeld_stop(&b.mem);
    bench_rmtree(b.dir);
    free(b.dir);
    if (rc)
        fprintf(stderr, "bench-keeld: FAILED (%s)\n", strerror(-rc));
    return rc ? 1 : 0;
}
