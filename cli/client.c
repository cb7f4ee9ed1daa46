/* client.c: the keel client's JSON-RPC connection to keeld
 *
 * One blocking AF_UNIX stream socket per keel run (client.h). A request is
 * one line, {"jsonrpc":"2.0","id":N,"method":...,"params":...}, with ids
 * counting up from 1; lines are then read until the reply carrying N.
 * Notifications read on the way (job.progress, event) go to the handler;
 * replies to other ids cannot happen (one request at a time) and are
 * skipped. Each line is parsed whole with yajl's tree parser: replies are
 * small, except domain.get_config, and keeld bounds those too.
 *
 * cli_wait_notify also watches SIGINT, through a signalfd so that no
 * handler and no static flag are needed: Ctrl-C ends `keel events`
 * cleanly instead of killing it mid-line.
 *
 * Checklist when the framing changes (docs/keeld-api.md): this file, the
 * Python binding (bindings/python/), tests/integration/keeld/kd.py.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"

#define DEFAULT_SOCKET "/run/keel/keeld.sock"
/* A reply longer than this is refused: keeld's own limit on requests is
 * 4 MiB by default, and no result comes near this. */
#define MAX_LINE (64u << 20)

struct cli_opts cli_opts;

struct cli_client {
    int fd;
    char *path;
    long long next_id;
    char *buf; /* bytes read, from off to len not yet consumed */
    size_t off, len, cap;
    cli_notify_fn notify;
    void *opaque;
};

/* --- connecting --- */

static const char *
socket_path(void)
{
    const char *env = getenv("KEEL_SOCKET");

    if (cli_opts.socket)
        return cli_opts.socket;
    return env && *env ? env : DEFAULT_SOCKET;
}

/* The one line a failed connect() gets: whether keeld runs, and where
 * keel looked. */
static void
connect_error(const char *cmd, const char *path, int err)
{
    switch (err) {
    case ENOENT:
        fprintf(stderr,
                "keel: %s: keeld is not running: no socket at %s (start "
                "keeld, or point -c/KEEL_SOCKET at its socket)\n",
                cmd, path);
        break;
    case ECONNREFUSED:
        fprintf(stderr,
                "keel: %s: keeld is not running: connection refused at %s "
                "(nothing listens there: start keeld, or point "
                "-c/KEEL_SOCKET at its socket)\n",
                cmd, path);
        break;
    case EACCES:
    case EPERM:
        fprintf(stderr,
                "keel: %s: permission denied on %s: run as root or as a "
                "member of keeld's --sock-group, or use keeld-ro.sock for "
                "reading\n",
                cmd, path);
        break;
    default:
        fprintf(stderr, "keel: %s: cannot connect to keeld at %s: %s\n", cmd,
                path, strerror(err));
    }
}

struct cli_client *
cli_connect(const char *cmd)
{
    const char *path = socket_path();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct cli_client *cl = NULL;
    int fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "keel: %s: socket path too long: %s\n", cmd, path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        fprintf(stderr, "keel: %s: socket: %s\n", cmd, strerror(errno));
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        connect_error(cmd, path, errno);
        goto fail;
    }
    if (!(cl = calloc(1, sizeof(*cl))) || !(cl->path = strdup(path))) {
        fprintf(stderr, "keel: %s: out of memory\n", cmd);
        goto fail;
    }
    cl->fd = fd;
    cl->next_id = 1;
    return cl;
fail:
    if (cl)
        free(cl->path);
    free(cl);
    close(fd);
    return NULL;
}

void
cli_close(struct cli_client *cl)
{
    if (!cl)
        return;
    close(cl->fd);
    free(cl->buf);
    free(cl->path);
    free(cl);
}

void
cli_client_on_notify(struct cli_client *cl, cli_notify_fn fn, void *opaque)
{
    cl->notify = fn;
    cl->opaque = opaque;
}

/* --- lines --- */

static void
trace(const char *dir, const char *line)
{
    if (cli_opts.verbose >= 2)
        fprintf(stderr, "keel: debug: %s %s\n", dir, line);
}

static int
send_all(struct cli_client *cl, const char *cmd, const char *p, size_t n)
{
    ssize_t r;

    while (n > 0) {
        r = send(cl->fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "keel: %s: cannot write to keeld at %s: %s\n", cmd,
                    cl->path, strerror(errno));
            return 1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* A complete line already buffered, NUL-terminated in place, or NULL. */
static char *
buffered_line(struct cli_client *cl)
{
    char *start = cl->buf + cl->off;
    char *nl =
        cl->len > cl->off ? memchr(start, '\n', cl->len - cl->off) : NULL;

    if (!nl)
        return NULL;
    *nl = '\0';
    cl->off = (size_t)(nl - cl->buf) + 1;
    return start;
}

/* Reads more bytes into the buffer: 0, or 1 after a message. */
static int
fill(struct cli_client *cl, const char *cmd)
{
    ssize_t r;
    char *nb;

    if (cl->off > 0) { /* drop what was consumed */
        memmove(cl->buf, cl->buf + cl->off, cl->len - cl->off);
        cl->len -= cl->off;
        cl->off = 0;
    }
    if (cl->cap - cl->len < 4096) {
        if (cl->cap >= MAX_LINE) {
            fprintf(stderr, "keel: %s: keeld sent a line over %u bytes\n", cmd,
                    MAX_LINE);
            return 1;
        }
        if (!(nb = realloc(cl->buf, cl->cap ? cl->cap * 2 : 65536))) {
            fprintf(stderr, "keel: %s: out of memory\n", cmd);
            return 1;
        }
        cl->buf = nb;
        cl->cap = cl->cap ? cl->cap * 2 : 65536;
    }
    do
        r = read(cl->fd, cl->buf + cl->len, cl->cap - cl->len - 1);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        fprintf(stderr, "keel: %s: %s at %s\n", cmd,
                r ? strerror(errno) : "keeld closed the connection", cl->path);
        return 1;
    }
    cl->len += (size_t)r;
    return 0;
}

static int
parse_line(const char *cmd, const char *line, yajl_val *v_r)
{
    char err[256];

    trace("<-", line);
    if (!(*v_r = yajl_tree_parse(line, err, sizeof(err)))) {
        fprintf(stderr, "keel: %s: keeld sent a line that is not JSON: %s\n",
                cmd, err);
        return 1;
    }
    return 0;
}

/* The next line keeld sent, parsed: 0 with *v_r, or 1 after a message. */
static int
read_value(struct cli_client *cl, const char *cmd, yajl_val *v_r)
{
    char *line;

    while (!(line = buffered_line(cl)))
        if (fill(cl, cmd))
            return 1;
    return parse_line(cmd, line, v_r);
}

/* A notification goes to the handler, whose value is left in *r_r (0
 * without a handler); false when v is not a notification. */
static bool
dispatch(struct cli_client *cl, yajl_val v, int *r_r)
{
    const char *method = cli_get_str(v, "method");

    *r_r = 0;
    if (!method || cli_get(v, "id"))
        return false;
    if (cl->notify)
        *r_r = cl->notify(cl->opaque, method, cli_get(v, "params"));
    return true;
}

/* --- calls --- */

static int
send_request(struct cli_client *cl, const char *cmd, const char *method,
             const char *params, long long id)
{
    char *line = NULL;
    int n, rc;

    if (params)
        n = asprintf(&line,
                     "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\","
                     "\"params\":%s}",
                     id, method, params);
    else
        n = asprintf(&line,
                     "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\"}", id,
                     method);
    if (n < 0) {
        fprintf(stderr, "keel: %s: out of memory\n", cmd);
        return 1;
    }
    trace("->", line);
    line[n] = '\n'; /* asprintf left room for the NUL */
    rc = send_all(cl, cmd, line, (size_t)n + 1);
    free(line);
    return rc;
}

/* Takes the member name of obj out of it (so freeing obj spares it). */
static yajl_val
detach(yajl_val obj, const char *name)
{
    size_t i;
    yajl_val v;

    for (i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], name)) {
            v = obj->u.object.values[i];
            obj->u.object.values[i] = NULL;
            return v;
        }
    return NULL;
}

/* The reply v: its result, or keeld's error (printed, or left in *msg_r
 * when msg_r is given). */
static int
take_reply(const char *cmd, yajl_val v, yajl_val *result_r, int *code_r,
           char **msg_r)
{
    yajl_val error = cli_get(v, "error");
    const char *msg;

    if (!error) {
        if (result_r)
            *result_r = detach(v, "result");
        return 0;
    }
    if (code_r)
        *code_r = (int)cli_get_int(error, "code", 0);
    msg = cli_get_str(error, "message");
    if (!msg || !*msg)
        msg = "keeld gave an error without a message";
    /* libkeel names the operation as xl does ("pause: domain 1 (web) is
     * paused"): said once, by "keel: pause:", is enough */
    if (!strncmp(msg, cmd, strlen(cmd)) && !strncmp(msg + strlen(cmd), ": ", 2))
        msg += strlen(cmd) + 2;
    if (msg_r)
        *msg_r = strdup(msg);
    else
        fprintf(stderr, "keel: %s: %s\n", cmd, msg);
    return 1;
}

/* What cli_call and cli_call_quiet share. */
static int
call(struct cli_client *cl, const char *cmd, const char *method,
     const char *params, yajl_val *result_r, int *code_r, char **msg_r)
{
    long long id = cl->next_id++;
    yajl_val v = NULL, vid;
    int rc, ignored;

    if (result_r)
        *result_r = NULL;
    if (code_r)
        *code_r = 0;
    if (msg_r)
        *msg_r = NULL;
    if (send_request(cl, cmd, method, params, id))
        return 1;
    for (;;) {
        if (read_value(cl, cmd, &v))
            return 1;
        vid = cli_get(v, "id");
        if (YAJL_IS_INTEGER(vid) && YAJL_GET_INTEGER(vid) == id)
            break;
        if (YAJL_IS_NULL(vid) && cli_get(v, "error")) /* our line was bad */
            break;
        dispatch(cl, v, &ignored); /* or a stray reply: skipped */
        yajl_tree_free(v);
    }
    rc = take_reply(cmd, v, result_r, code_r, msg_r);
    yajl_tree_free(v);
    return rc;
}

int
cli_call(struct cli_client *cl, const char *cmd, const char *method,
         const char *params, yajl_val *result_r, int *code_r)
{
    return call(cl, cmd, method, params, result_r, code_r, NULL);
}

/* The text of g's one object, or NULL after a message. */
static const char *
gen_text(const char *cmd, yajl_gen g)
{
    const unsigned char *buf;
    size_t len;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        fprintf(stderr, "keel: %s: cannot build the request\n", cmd);
        return NULL;
    }
    return (const char *)buf;
}

int
cli_call_gen(struct cli_client *cl, const char *cmd, const char *method,
             yajl_gen params, yajl_val *result_r, int *code_r)
{
    const char *text = gen_text(cmd, params);

    if (result_r)
        *result_r = NULL;
    return text ? call(cl, cmd, method, text, result_r, code_r, NULL) : 1;
}

int
cli_call_quiet(struct cli_client *cl, const char *cmd, const char *method,
               yajl_gen params, yajl_val *result_r, int *code_r, char **msg_r)
{
    const char *text = params ? gen_text(cmd, params) : NULL;

    if (params && !text) {
        *msg_r = NULL;
        return 1;
    }
    return call(cl, cmd, method, text, result_r, code_r, msg_r);
}

/* --- waiting for notifications --- */

/* Handles the lines already read. Returns 0 when no complete line is
 * left; else sets *stop_r and returns the handler's non-zero value, or 1
 * after a message. */
static int
drain(struct cli_client *cl, const char *cmd, bool *stop_r)
{
    yajl_val v;
    char *line;
    int r;

    *stop_r = true;
    while ((line = buffered_line(cl))) {
        if (parse_line(cmd, line, &v))
            return 1;
        dispatch(cl, v, &r);
        yajl_tree_free(v);
        if (r)
            return r;
    }
    *stop_r = false;
    return 0;
}

/* Waits on the socket and the signalfd: 1 readable socket, 0 SIGINT, -1
 * error (printed). */
static int
wait_readable(struct cli_client *cl, const char *cmd, int sfd)
{
    struct pollfd pfd[2] = {{.fd = cl->fd, .events = POLLIN},
                            {.fd = sfd, .events = POLLIN}};
    int r;

    do
        r = poll(pfd, 2, -1);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        fprintf(stderr, "keel: %s: poll: %s\n", cmd, strerror(errno));
        return -1;
    }
    if (pfd[1].revents & POLLIN) {
        struct signalfd_siginfo si;

        /* Consumed here: left pending, it would kill keel once unblocked. */
        if (read(sfd, &si, sizeof(si)) != sizeof(si))
            fprintf(stderr, "keel: %s: signalfd: %s\n", cmd, strerror(errno));
        return 0;
    }
    return 1;
}

int
cli_wait_notify(struct cli_client *cl, const char *cmd)
{
    sigset_t mask, old;
    int sfd, rc = 1, w;
    bool stop;

    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, &old) < 0 ||
        (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "keel: %s: signalfd: %s\n", cmd, strerror(errno));
        return 1;
    }
    for (;;) {
        rc = drain(cl, cmd, &stop);
        if (stop)
            break;
        if ((w = wait_readable(cl, cmd, sfd)) <= 0) {
            rc = w < 0;
            break;
        }
        if (fill(cl, cmd)) {
            rc = 1;
            break;
        }
    }
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* --- params --- */

yajl_gen
cli_params_new(const char *dom)
{
    yajl_gen g = cli_json_gen(false);

    yajl_gen_map_open(g);
    if (dom)
        cli_gen_domain(g, dom);
    return g;
}

void
cli_kv_str(yajl_gen g, const char *key, const char *value)
{
    cli_gen_str(g, key);
    cli_gen_str(g, value);
}

void
cli_kv_int(yajl_gen g, const char *key, long long value)
{
    cli_gen_str(g, key);
    yajl_gen_integer(g, value);
}

void
cli_kv_bool(yajl_gen g, const char *key, bool value)
{
    cli_gen_str(g, key);
    yajl_gen_bool(g, value);
}

int
cli_call_params(struct cli_client *cl, const char *cmd, const char *method,
                yajl_gen g, yajl_val *result_r)
{
    yajl_val result = NULL;
    int status;

    yajl_gen_map_close(g);
    status = cli_call_gen(cl, cmd, method, g, &result, NULL);
    yajl_gen_free(g);
    if (!status && cli_opts.json && !result_r)
        cli_print_json(result);
    if (result_r)
        *result_r = result;
    else
        yajl_tree_free(result);
    return status;
}

int
cli_call_once(const char *cmd, const char *method, yajl_gen g,
              yajl_val *result_r)
{
    struct cli_client *cl = cli_connect(cmd);
    int status;

    if (result_r)
        *result_r = NULL;
    if (!cl) {
        yajl_gen_free(g);
        return 1;
    }
    status = cli_call_params(cl, cmd, method, g, result_r);
    cli_close(cl);
    return status;
}

const char *
cli_config_format(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (dot && (!strcmp(dot, ".json") || !strcmp(dot, ".xml")))
        return dot + 1;
    return "xl";
}

yajl_gen
cli_config_params(const char *path, const char *text, char **overrides, int n)
{
    yajl_gen g = cli_params_new(NULL);
    int i;

    cli_kv_str(g, "config_text", text);
    cli_kv_str(g, "format", cli_config_format(path));
    if (n > 0) {
        cli_gen_str(g, "overrides");
        yajl_gen_array_open(g);
        for (i = 0; i < n; i++)
            cli_gen_str(g, overrides[i]);
        yajl_gen_array_close(g);
    }
    return g;
}

int
cli_fail_config(const char *cmd, const char *path, const char *msg)
{
    static const char prefix[] = "config_text:";

    if (!strncmp(msg, prefix, sizeof(prefix) - 1))
        fprintf(stderr, "keel: %s: %s:%s\n", cmd, path,
                msg + sizeof(prefix) - 1);
    else
        fprintf(stderr, "keel: %s: %s\n", cmd, msg);
    return 1;
}

void
cli_gen_domain(yajl_gen g, const char *arg)
{
    char *end;
    unsigned long long n;

    cli_gen_str(g, "domain");
    errno = 0;
    n = strtoull(arg, &end, 10);
    if (*arg >= '0' && *arg <= '9' && !*end && !errno && n <= INT_MAX)
        yajl_gen_integer(g, (long long)n);
    else
        cli_gen_str(g, arg);
}

int
cli_parse_size_kib(const char *text, long long *kib_r)
{
    long long n, shift = 10; /* KiB from MiB: a bare number is MiB */
    char *end;

    errno = 0;
    if (*text < '0' || *text > '9')
        return -1;
    n = strtoll(text, &end, 10);
    if (errno || (*end && end[1]))
        return -1;
    switch (*end ? *end | 0x20 : 'm') { /* lower case */
    case 'b':
        shift = -10;
        break;
    case 'k':
        shift = 0;
        break;
    case 'm':
        break;
    case 'g':
        shift = 20;
        break;
    case 't':
        shift = 30;
        break;
    default:
        return -1;
    }
    if (shift < 0)
        n >>= -shift;
    else if (n > (LLONG_MAX >> shift))
        return -1;
    else
        n <<= shift;
    *kib_r = n;
    return 0;
}
