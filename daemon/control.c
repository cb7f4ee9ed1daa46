/* control.c: keeld's sockets and connections (the front door)
 *
 * Two listening UNIX sockets: RUN_DIR/keeld.sock (mode 0600, or 0660 for
 * --sock-group) takes every method, RUN_DIR/keeld-ro.sock (0666) only the
 * read methods; under systemd socket activation they come as fds 3 and 4
 * (LISTEN_FDS). Each connection knows its peer (SO_PEERCRED) for the log
 * of changes.
 *
 * Input is split into lines; a line over --max-message is answered and
 * the connection closed, since what follows cannot be told from the next
 * request. Output is queued per connection: when a client stops reading
 * and its queue passes --max-queued, or it has too many calls in flight,
 * keeld stops reading from it until the queue drains, so a client can
 * make keeld hold at most a bounded amount for it. Over --max-clients a
 * new connection gets one error line and is closed.
 *
 * The libvirt sockets (RUN_DIR/libvirt-sock, libvirt-sock-ro, and with
 * --libvirt-sock-dir DIR/virtxend-sock and virtxend-sock-ro) make
 * connections of the same kind whose input is framed as libvirt packets
 * by libvirt/conn.c instead of lines; limits, queues and back pressure
 * are the same.
 *
 * Workers reach connections only through the mailbox (kd_notify_conn,
 * kd_run_on_loop): a locked list and a uv_async that the loop drains.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keeld.h"

#define READ_CHUNK (64 * 1024)
#define MAX_INFLIGHT 256 /* calls in flight per connection */

struct write_req {
    uv_write_t req;
    struct kd_conn *conn;
    size_t len;
    char data[];
};

struct mail {
    uint64_t conn_id; /* 0: every subscriber */
    char *line;
    size_t len;
    void (*fn)(struct keeld *, void *); /* instead of a line: run this */
    void *arg;
    struct mail *next;
};

static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mail *mail_head, *mail_tail;
static uv_async_t mail_async;
static bool mail_ready;

static struct kd_conn *conn_by_id(struct keeld *kd, uint64_t id);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Closes c once what is queued for it is written (an error line before a
 * close, a reply before a detach). */
static void
close_when_flushed(struct kd_conn *c)
{
    if (c->closing)
        return;
    if (!c->paused) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->paused = true;
    }
    c->flush_close = true;
    if (c->queued == 0)
        kd_conn_close_loop(c);
}

/* --- reading --- */

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(READ_CHUNK);
    buf->len = buf->base ? READ_CHUNK : 0;
}

static void
update_reading(struct kd_conn *c)
{
    struct keeld *kd = c->kd;
    bool full = c->queued > kd->opts.max_queued || c->refs > MAX_INFLIGHT;

    if (c->closing || c->flush_close || c->draining)
        return;
    if (full && !c->paused) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->paused = true;
    } else if (!full && c->paused && c->queued <= kd->opts.max_queued / 2) {
        c->paused = false;
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    }
}

/* A request over --max-message: answered, and the connection closed,
 * since what follows cannot be told from the next request. */
static void
over_limit(struct kd_conn *c)
{
    kd_rpc_error_loop(c, NULL, KD_EREQUEST, kd_err_name(KD_EREQUEST),
                      "request over the message limit: closing");
    log_warnx("conn %" PRIu64 ": request over %zu bytes, closed", c->id,
              c->kd->opts.max_message);
    close_when_flushed(c);
}

static void
take_lines(struct kd_conn *c)
{
    size_t start = 0, i;

    for (i = 0; i < c->in_len; i++) {
        if (c->closing || c->flush_close)
            return;
        if (c->in[i] != '\n')
            continue;
        if (i - start > c->kd->opts.max_message) {
            over_limit(c);
            return;
        }
        kd_rpc_line_loop(c, c->in + start, i - start);
        start = i + 1;
    }
    if (c->closing || c->flush_close)
        return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len > c->kd->opts.max_message)
        over_limit(c);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct kd_conn *c = s->data;

    if (n == UV_EOF) {
        /* A client that half-closes (nc -N, socat) still gets the replies
         * of what it sent: close once they are written. */
        free(buf->base);
        kd_conn_drain_loop(c);
        return;
    }
    if (n < 0) {
        free(buf->base);
        kd_conn_close_loop(c);
        return;
    }
    if (n > 0 && !c->closing) {
        if (c->in_len + (size_t)n > c->in_cap) {
            size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
            char *p;

            while (cap < c->in_len + (size_t)n)
                cap *= 2;
            p = realloc(c->in, cap);
            if (!p) {
                free(buf->base);
                kd_conn_close_loop(c);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        memcpy(c->in + c->in_len, buf->base, (size_t)n);
        c->in_len += (size_t)n;
        if (c->lv)
            kd_lv_input_loop(c);
        else
            take_lines(c);
        if (c->in_len == 0 && c->in_cap > READ_CHUNK) {
            free(c->in); /* a big line is not kept for the connection's life */
            c->in = NULL;
            c->in_cap = 0;
        }
        update_reading(c);
    }
    free(buf->base);
}

/* --- writing --- */

static void
on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct kd_conn *c = w->conn;

    (void)status;
    c->queued -= w->len;
    free(w);
    if (c->flush_close && c->queued == 0)
        kd_conn_close_loop(c);
    else if (!c->flush_close)
        update_reading(c);
    kd_conn_unref_loop(c);
}

/* Queues len bytes of data, and a newline when nl. */
static void
queue_write(struct kd_conn *c, const void *data, size_t len, bool nl)
{
    struct write_req *w;
    uv_buf_t b;

    if (c->closing)
        return;
    w = malloc(sizeof(*w) + len + 1);
    if (!w)
        return;
    memcpy(w->data, data, len);
    w->data[len] = '\n';
    w->len = len + nl;
    w->conn = c;
    b = uv_buf_init(w->data, (unsigned int)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_write) != 0) {
        free(w);
        return;
    }
    c->queued += w->len;
    kd_conn_ref_loop(c);
    update_reading(c);
}

void
kd_conn_send_loop(struct kd_conn *c, const char *json, size_t len)
{
    queue_write(c, json, len, true);
}

void
kd_conn_send_raw_loop(struct kd_conn *c, const void *data, size_t len)
{
    queue_write(c, data, len, false);
}

void
kd_conn_send_gen_loop(struct kd_conn *c, yajl_gen g)
{
    const unsigned char *buf;
    size_t len;

    yajl_gen_get_buf(g, &buf, &len);
    kd_conn_send_loop(c, (const char *)buf, len);
    yajl_gen_clear(g);
}

/* --- lifetime --- */

void
kd_conn_ref_loop(struct kd_conn *c)
{
    c->refs++;
}

static void
conn_free(struct kd_conn *c)
{
    kd_lv_conn_free(c->lv);
    free(c->in);
    free(c);
}

/* The last reference frees c. Otherwise a call or a write has ended:
 * a draining connection with nothing left closes, and a paused one may
 * read again (a connection paused for its calls in flight is resumed by
 * their end, even when they write nothing, as notifications do). */
void
kd_conn_unref_loop(struct kd_conn *c)
{
    if (--c->refs == 0) {
        conn_free(c);
        return;
    }
    if (c->closing)
        return;
    if (c->draining && c->refs == 1)
        kd_conn_close_loop(c);
    else
        update_reading(c);
}

void
kd_conn_drain_loop(struct kd_conn *c)
{
    if (c->closing || c->draining)
        return;
    c->draining = true;
    if (!c->paused)
        uv_read_stop((uv_stream_t *)&c->pipe);
    c->paused = true;
    if (c->refs == 1)
        kd_conn_close_loop(c);
}

static void
on_close(uv_handle_t *h)
{
    struct kd_conn *c = h->data;
    struct keeld *kd = c->kd;

    if (c->prev)
        c->prev->next = c->next;
    else
        kd->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    kd->n_conns--;
    kd_conn_unref_loop(c); /* the connection's own reference */
}

void
kd_conn_close_loop(struct kd_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    log_debug("conn %" PRIu64 " closed", c->id);
    uv_close((uv_handle_t *)&c->pipe, on_close);
}

int
kd_conn_detach_loop(struct kd_conn *c, int *fd_r)
{
    uv_os_fd_t fd;
    int dupfd, fl;

    if (c->closing || uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
        return -EBADF;
    uv_read_stop((uv_stream_t *)&c->pipe);
    dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dupfd < 0)
        return -errno;
    /* The descriptor is shared with the loop's until the close: writing
     * what is queued still works with it blocking. */
    fl = fcntl(dupfd, F_GETFL);
    if (fl >= 0)
        fcntl(dupfd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_r = dupfd;
    c->subscribed = false;
    close_when_flushed(c);
    return 0;
}

static void
peer_creds(struct kd_conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    uv_os_fd_t fd;

    c->uid = (uid_t)-1;
    c->gid = (gid_t)-1;
    c->pid = -1;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        c->uid = cred.uid;
        c->gid = cred.gid;
        c->pid = cred.pid;
    }
}

/* Which socket a server is: read-only, libvirt. */
static void
server_kind(struct keeld *kd, uv_stream_t *server, bool *ro_r, bool *lv_r)
{
    unsigned i;

    *ro_r = server == (uv_stream_t *)&kd->ro_sock;
    *lv_r = false;
    for (i = 0; i < kd->n_lv_socks; i++)
        if (server == (uv_stream_t *)&kd->lv_socks[i]) {
            *lv_r = true;
            *ro_r = i % 2 == 1; /* each rw socket is followed by its -ro */
        }
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct keeld *kd = server->data;
    struct kd_conn *c;
    bool ro, lv;

    if (status < 0) {
        log_warnx("accept: %s", uv_strerror(status));
        return;
    }
    server_kind(kd, server, &ro, &lv);
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    if (lv && !(c->lv = kd_lv_conn_new(ro))) {
        free(c);
        return;
    }
    c->kd = kd;
    c->ro = ro;
    c->refs = 1;
    c->id = ++kd->next_conn_id;
    uv_pipe_init(kd->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->next = kd->conns;
    if (kd->conns)
        kd->conns->prev = c;
    kd->conns = c;
    kd->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        kd_conn_close_loop(c);
        return;
    }
    peer_creds(c);
    if (kd->n_conns > kd->opts.max_clients) {
        log_warnx("conn %" PRIu64 " (uid %u, pid %d) refused: %u clients",
                  c->id, (unsigned)c->uid, (int)c->pid, kd->n_conns - 1);
        if (!lv) /* a libvirt client sees the close */
            kd_rpc_error_loop(c, NULL, KD_EBUSY, kd_err_name(KD_EBUSY),
                              "too many clients connected: try again later");
        close_when_flushed(c);
        return;
    }
    log_debug("conn %" PRIu64 " from uid %u pid %d on %s%s", c->id,
              (unsigned)c->uid, (int)c->pid, lv ? "a libvirt socket" : "keeld",
              ro ? " (read-only)" : "");
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* --- the mailbox: workers to connections --- */

static void
mail_free(struct mail *m)
{
    free(m->line);
    free(m->arg);
    free(m);
}

static void
post_mail(struct mail *m)
{
    pthread_mutex_lock(&mail_lock);
    if (!mail_ready) { /* keeld is stopping: nobody to deliver to */
        pthread_mutex_unlock(&mail_lock);
        mail_free(m);
        return;
    }
    if (mail_tail)
        mail_tail->next = m;
    else
        mail_head = m;
    mail_tail = m;
    uv_async_send(&mail_async);
    pthread_mutex_unlock(&mail_lock);
}

static void
post(struct keeld *kd, uint64_t conn_id, const char *method,
     const char *params_json)
{
    struct mail *m = calloc(1, sizeof(*m));
    size_t len;

    (void)kd;
    if (!m)
        return;
    len = strlen(method) + strlen(params_json) + 64;
    m->line = malloc(len);
    if (!m->line) {
        free(m);
        return;
    }
    m->len = (size_t)snprintf(m->line, len,
                              "{\"jsonrpc\":\"2.0\",\"method\":\"%s\","
                              "\"params\":%s}",
                              method, params_json);
    m->conn_id = conn_id;
    post_mail(m);
}

void
kd_run_on_loop(struct keeld *kd, void (*fn)(struct keeld *, void *), void *arg)
{
    struct mail *m = calloc(1, sizeof(*m));

    (void)kd;
    if (!m) {
        free(arg);
        return;
    }
    m->fn = fn;
    m->arg = arg;
    post_mail(m);
}

void
kd_notify_conn(struct keeld *kd, uint64_t conn_id, const char *method,
               const char *params_json)
{
    post(kd, conn_id, method, params_json);
}

void
kd_notify_subscribers(struct keeld *kd, const char *method,
                      const char *params_json)
{
    post(kd, 0, method, params_json);
}

static struct kd_conn *
conn_by_id(struct keeld *kd, uint64_t id)
{
    struct kd_conn *c;

    for (c = kd->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* A notification to c, unless c does not read what it is sent: past
 * --max-queued, notifications are dropped (and counted in the log), so
 * a subscriber that never reads cannot make keeld hold events for ever. */
static void
notify(struct kd_conn *c, const struct mail *m)
{
    if (c->flush_close || c->closing)
        return;
    if (c->queued > c->kd->opts.max_queued) {
        if (c->dropped++ == 0)
            log_warnx("conn %" PRIu64 " does not read: dropping its "
                      "notifications",
                      c->id);
        return;
    }
    kd_conn_send_loop(c, m->line, m->len);
}

static void
on_mail(uv_async_t *a)
{
    struct keeld *kd = a->data;
    struct mail *m, *next;

    pthread_mutex_lock(&mail_lock);
    m = mail_head;
    mail_head = mail_tail = NULL;
    pthread_mutex_unlock(&mail_lock);
    for (; m; m = next) {
        next = m->next;
        if (m->fn) {
            m->fn(kd, m->arg);
            m->arg = NULL; /* fn's */
        } else if (m->conn_id) {
            struct kd_conn *c = conn_by_id(kd, m->conn_id);

            if (c)
                notify(c, m);
        } else {
            struct kd_conn *c;

            for (c = kd->conns; c; c = c->next)
                if (c->subscribed)
                    notify(c, m);
        }
        mail_free(m);
    }
}

/* --- listening --- */

static int
listen_path(struct keeld *kd, uv_pipe_t *p, const char *dir, const char *name,
            int mode, gid_t gid)
{
    char path[4096];
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (strlen(path) >= 108) {
        log_err("socket path %s is too long for a UNIX socket", path);
        return -ENAMETOOLONG;
    }
    unlink(path); /* a stale socket of a keeld that died: the pidfile
                     lock says none runs now */
    r = uv_pipe_bind(p, path);
    if (r == 0 && chmod(path, (mode_t)mode) != 0)
        r = -errno;
    if (r == 0 && gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)
        r = -errno;
    if (r == 0)
        r = uv_listen((uv_stream_t *)p, 128, on_connection);
    if (r)
        log_err("listening on %s: %s", path, uv_strerror(r));
    return r;
}

/* A libvirt socket pair in dir: NAME (mode as keeld.sock) and NAME-ro. */
static int
listen_lv_pair(struct keeld *kd, const char *dir, const char *name, gid_t gid)
{
    char ro_name[64];
    uv_pipe_t *rw = &kd->lv_socks[kd->n_lv_socks];
    int r;

    snprintf(ro_name, sizeof(ro_name), "%s-ro", name);
    uv_pipe_init(kd->loop, rw, 0);
    uv_pipe_init(kd->loop, rw + 1, 0);
    rw->data = rw[1].data = kd;
    kd->n_lv_socks += 2; /* the handles exist: stop closes them */
    r = listen_path(kd, rw, dir, name, kd->opts.sock_group ? 0660 : 0600, gid);
    if (r == 0)
        r = listen_path(kd, rw + 1, dir, ro_name, 0666, (gid_t)-1);
    if (r == 0)
        log_info("libvirt clients: %s/%s and %s", dir, name, ro_name);
    return r;
}

/* libvirt-sock and libvirt-sock-ro in the run dir; virtxend-sock and
 * virtxend-sock-ro in --libvirt-sock-dir, where a stock client given
 * xen:///system looks first. */
static int
listen_libvirt(struct keeld *kd)
{
    gid_t gid = (gid_t)-1;
    int r;

    if (kd->opts.sock_group) {
        struct group *gr = getgrnam(kd->opts.sock_group);

        if (gr)
            gid = gr->gr_gid;
    }
    r = listen_lv_pair(kd, kd->opts.run_dir, "libvirt-sock", gid);
    if (r == 0 && kd->opts.libvirt_sock_dir)
        r = listen_lv_pair(kd, kd->opts.libvirt_sock_dir, "virtxend-sock", gid);
    return r;
}

/* systemd socket activation: LISTEN_FDS sockets from fd 3, keeld.sock
 * then keeld-ro.sock (the order of keeld.socket). */
static int
activated(struct keeld *kd)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int n;

    if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    n = atoi(fds);
    if (n < 2) {
        log_err("socket activation gave %d sockets, keeld needs 2", n);
        return -EINVAL;
    }
    kd->activated = true;
    if (uv_pipe_open(&kd->rw_sock, 3) || uv_pipe_open(&kd->ro_sock, 4) ||
        uv_listen((uv_stream_t *)&kd->rw_sock, 128, on_connection) ||
        uv_listen((uv_stream_t *)&kd->ro_sock, 128, on_connection)) {
        log_err("cannot listen on the activated sockets");
        return -EINVAL;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    {
        /* One .socket unit has one SocketMode (0600): the read-only
         * socket is for everyone. */
        char path[4096];

        snprintf(path, sizeof(path), "%s/keeld-ro.sock", kd->opts.run_dir);
        if (chmod(path, 0666) != 0)
            log_warnx("chmod 0666 %s: %s", path, strerror(errno));
    }
    log_info("listening on the sockets systemd passed");
    return 1;
}

int
kd_control_start_loop(struct keeld *kd)
{
    gid_t gid = (gid_t)-1;
    int r;

    uv_async_init(kd->loop, &mail_async, on_mail);
    mail_async.data = kd;
    pthread_mutex_lock(&mail_lock);
    mail_ready = true;
    pthread_mutex_unlock(&mail_lock);
    uv_pipe_init(kd->loop, &kd->rw_sock, 0);
    uv_pipe_init(kd->loop, &kd->ro_sock, 0);
    kd->rw_sock.data = kd->ro_sock.data = kd;
    kd->control_up = true; /* the handles exist: stop closes them */
    r = listen_libvirt(kd);
    if (r == 0)
        r = activated(kd);
    if (r)
        return r < 0 ? r : 0;
    if (kd->opts.sock_group) {
        struct group *gr = getgrnam(kd->opts.sock_group);

        if (!gr) {
            log_err("--sock-group %s: no such group", kd->opts.sock_group);
            return -EINVAL;
        }
        gid = gr->gr_gid;
    }
    r = listen_path(kd, &kd->rw_sock, kd->opts.run_dir, "keeld.sock",
                    kd->opts.sock_group ? 0660 : 0600, gid);
    if (r == 0)
        r = listen_path(kd, &kd->ro_sock, kd->opts.run_dir, "keeld-ro.sock",
                        0666, (gid_t)-1);
    if (r == 0)
        log_info("listening on %s/keeld.sock and keeld-ro.sock",
                 kd->opts.run_dir);
    return r;
}

void
kd_control_stop_loop(struct keeld *kd)
{
    struct kd_conn *c, *next;
    struct mail *next_mail;
    unsigned i;

    if (!kd->control_up)
        return;
    kd->control_up = false;
    if (!uv_is_closing((uv_handle_t *)&kd->rw_sock))
        uv_close((uv_handle_t *)&kd->rw_sock, NULL);
    if (!uv_is_closing((uv_handle_t *)&kd->ro_sock))
        uv_close((uv_handle_t *)&kd->ro_sock, NULL);
    for (i = 0; i < kd->n_lv_socks; i++)
        if (!uv_is_closing((uv_handle_t *)&kd->lv_socks[i]))
            uv_close((uv_handle_t *)&kd->lv_socks[i], NULL);
    /* Calls in flight still answer: each connection closes once its
     * replies are written. */
    for (c = kd->conns; c; c = next) {
        next = c->next;
        kd_conn_drain_loop(c);
    }
    pthread_mutex_lock(&mail_lock);
    mail_ready = false;
    for (; mail_head; mail_head = next_mail) {
        next_mail = mail_head->next;
        mail_free(mail_head);
    }
    mail_tail = NULL;
    pthread_mutex_unlock(&mail_lock);
    uv_close((uv_handle_t *)&mail_async, NULL);
}
