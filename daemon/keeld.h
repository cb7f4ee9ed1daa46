/* keeld.h: what keeld's files share
 *
 * keeld is one process with one libuv loop (the main thread) and workers.
 * The loop owns every socket, connection and subscription and never calls
 * into libkeel for anything slow; a request's handler runs on a worker of
 * libuv's thread pool and its reply is sent back from the loop. Files, by
 * role (after OpenBSD vmd: the front door decides nothing):
 *
 *   keeld.c     main: options, pidfile lock, logging, opening the host,
 *               signals, socket activation, autostart, shutdown
 *   control.c   the sockets and connections: accept, peer credentials,
 *               line framing, the message limit, write queues and back
 *               pressure, the connection limit
 *   rpc.c       JSON-RPC 2.0: parse a line, check the envelope, find the
 *               method, refuse what the socket may not do, hand the call
 *               to work.c, encode replies and errors
 *   work.c      the scheduler: calls with the same key (a domain, a pool)
 *               run one at a time in arrival order, others in parallel
 *   methods*.c  one handler per method over libkeel (the method table)
 *   params.c    reading a call's params, writing results, errors
 *   events.c    the host's event fd on the loop, on_* actions, fan-out
 *               of lifecycle notifications to subscribers
 *   jobs.c      save, restore, migrate_local as jobs with progress, and
 *               their journal (what a restart undoes or finishes)
 *   state.c     defined (persistent) domains and autostart, on disk
 *   libvirt/    libvirt's remote protocol on its own sockets, over the
 *               same libkeel calls and state (libvirt/lv.h)
 *
 * Threads: names ending in _loop run on the loop thread only; handlers
 * (struct kd_method.fn) run on a worker unless KD_M_LOOP. A worker never
 * touches a connection: it fills its struct kd_call and returns.
 */
#ifndef KEELD_H
#define KEELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <keel/cpupool.h>
#include <keel/domain.h>
#include <keel/host.h>
#include <keel/hv.h>
#include <keel/keel.h>
#include <keel/migrate.h>

/* JSON-RPC error codes (docs/keeld-api.md); libkeel's keel_err codes are
 * used as they are. */
#define KD_EPARSE (-32700)
#define KD_EREQUEST (-32600)
#define KD_EMETHOD (-32601)
#define KD_EPARAMS (-32602)
#define KD_EINTERNAL (-32603)
#define KD_EREADONLY (-32001)
#define KD_EBACKEND (-32002)
#define KD_ESHUTDOWN (-32003)
#define KD_EBUSY (-32004) /* too many clients */

#define KD_API_VERSION 1

/* --- options (keeld.c) --- */

struct kd_opts {
    const char *backend;    /* "sim" */
    const char *state_dir;  /* /var/lib/keel */
    const char *run_dir;    /* /run/keel */
    const char *sim_dir;    /* STATE_DIR/sim */
    const char *sim_host;   /* host spec for a new sim, or NULL */
    const char *config;     /* FILE, or NULL */
    const char *sock_group; /* group for keeld.sock (0660), or NULL */
    bool foreground;
    int log_level;                /* enum keel_log_level */
    size_t max_message;           /* bytes per request line; 4 MiB */
    unsigned max_clients;         /* connections at once; 256 */
    size_t max_queued;            /* bytes queued for one client; 16 MiB */
    const char *libvirt_sock_dir; /* also virtxend-sock(-ro) here, or NULL */
};

struct kd_conn;
struct kd_call;

/* The daemon. One, made by main(). */
struct keeld {
    uv_loop_t *loop;
    struct kd_opts opts;
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    struct keel_host *host;
    bool sim;        /* the backend is the sim: sim.* allowed */
    bool stopping;   /* SIGTERM seen: new requests get KD_ESHUTDOWN */
    bool activated;  /* the sockets came from systemd: not ours to unlink */
    bool control_up; /* control.c's handles exist */
    /* control.c */
    uv_pipe_t rw_sock, ro_sock;
    /* libvirt-sock, libvirt-sock-ro, and with --libvirt-sock-dir
     * virtxend-sock, virtxend-sock-ro */
    uv_pipe_t lv_socks[4];
    unsigned n_lv_socks;
    struct kd_conn *conns; /* doubly linked */
    unsigned n_conns;
    uint64_t next_conn_id;
    /* work.c */
    struct kd_work *work;
    /* events.c */
    struct kd_events *events;
    /* jobs.c */
    struct kd_jobs *jobs;
    /* state.c */
    struct kd_state *state;
    /* libvirt/conn.c (loop thread): domains whose guest shut down, whose
     * "stopped" is not a second libvirt event */
    uint32_t lv_stopping[16];
    unsigned n_lv_stopping;
};

/* --- log.c --- */

/* Logs to stderr (foreground) or syslog; messages below level are
 * dropped. Thread: any. */
void kd_log_init(bool foreground, int level);
void kd_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_err(...) kd_log(KEEL_LOG_ERROR, __VA_ARGS__)
#define log_warnx(...) kd_log(KEEL_LOG_WARN, __VA_ARGS__)
#define log_info(...) kd_log(KEEL_LOG_INFO, __VA_ARGS__)
#define log_debug(...) kd_log(KEEL_LOG_DEBUG, __VA_ARGS__)
/* A keel_ctx log callback that forwards to kd_log. */
void kd_log_keel(void *opaque, enum keel_log_level level, const char *func,
                 const char *msg);

/* --- control.c --- */

struct kd_conn {
    struct keeld *kd;
    uv_pipe_t pipe;
    uint64_t id; /* for logs */
    bool ro;     /* came in on keeld-ro.sock */
    uid_t uid;   /* SO_PEERCRED */
    gid_t gid;
    pid_t pid;
    char *in; /* bytes of an incomplete line */
    size_t in_len, in_cap;
    size_t queued; /* bytes written but not yet on the socket */
    bool paused;   /* reading stopped: queued over the limit */
    bool closing;
    bool flush_close;      /* close once the queue is written */
    bool draining;         /* end of input or keeld stopping: no more reading;
                              closed once its calls answered and writes went */
    unsigned long dropped; /* notifications dropped: it did not read */
    bool quiet;      /* rpc.c: handling a notification: no error replies */
    bool subscribed; /* events.subscribe */
    struct kd_lv_conn *lv; /* a libvirt connection (libvirt/lv.h), or NULL */
    unsigned refs;         /* the connection's struct is freed at 0 */
    struct kd_conn *next, *prev;
};

/* Opens RUN_DIR/keeld.sock and keeld-ro.sock (or takes systemd's sockets
 * from LISTEN_FDS) and starts accepting. 0 or -errno after logging. */
int kd_control_start_loop(struct keeld *kd);
/* Stops accepting, closes every connection. */
void kd_control_stop_loop(struct keeld *kd);
/* Queues one line (json, without its newline) to c; a closing connection
 * drops it. Copies json. */
void kd_conn_send_loop(struct kd_conn *c, const char *json, size_t len);
/* Queues len bytes to c as they are (a libvirt packet). Copies data. */
void kd_conn_send_raw_loop(struct kd_conn *c, const void *data, size_t len);
/* Sends the generator's text as one line, then clears it. */
void kd_conn_send_gen_loop(struct kd_conn *c, yajl_gen g);
void kd_conn_ref_loop(struct kd_conn *c);
void kd_conn_unref_loop(struct kd_conn *c);
/* Stops reading c and closes it once its calls have answered and what
 * is queued is written (a client's end of input; keeld stopping). */
void kd_conn_drain_loop(struct kd_conn *c);
/* Closes c (after what is queued is written). */
void kd_conn_close_loop(struct kd_conn *c);
/* Takes c's socket away from the loop: stops reading it, dup()s its fd
 * into *fd_r, and closes c once what is queued is written (a reply sent
 * before this goes out first). 0 or -errno. */
int kd_conn_detach_loop(struct kd_conn *c, int *fd_r);
/* From any thread: sends {"jsonrpc":"2.0","method":method,"params":
 * params_json} to the connection with this id, if it is still open. */
void kd_notify_conn(struct keeld *kd, uint64_t conn_id, const char *method,
                    const char *params_json);
/* The same to every connection subscribed to events. */
void kd_notify_subscribers(struct keeld *kd, const char *method,
                           const char *params_json);
/* From any thread: runs fn(kd, arg) on the loop, in order with the
 * notifications above; fn owns arg. When keeld is stopping, arg is
 * freed (free()) and fn never runs. */
void kd_run_on_loop(struct keeld *kd, void (*fn)(struct keeld *, void *),
                    void *arg);

/* --- rpc.c --- */

/* One request line from c. */
void kd_rpc_line_loop(struct kd_conn *c, const char *line, size_t len);
/* Sends an error reply with id (JSON text, or NULL for null). */
void kd_rpc_error_loop(struct kd_conn *c, const char *id_json, int code,
                       const char *name, const char *message);

/* --- methods*.c --- */

#define KD_M_WRITE (1u << 0) /* refused on the read-only socket */
#define KD_M_SIM (1u << 1)   /* sim backend only */
#define KD_M_LOOP (1u << 2)  /* runs on the loop thread (cheap, loop state) */
#define KD_M_NOKEY (1u << 3) /* never serialised with other calls */

struct kd_method {
    const char *name;
    int (*fn)(struct kd_call *call); /* 0, or the error set with kd_fail */
    unsigned int flags;
};

/* The method called name, or NULL: searched in these tables, each ended
 * by an entry whose name is NULL. */
const struct kd_method *kd_method_find(const char *name);
extern const struct kd_method kd_methods_host[];   /* methods.c: version,
                                                      host.*, domain.* */
extern const struct kd_method kd_methods_pool[];   /* methods-pool.c:
                                                      cpupool.*, sched.* */
extern const struct kd_method kd_methods_sim[];    /* methods-sim.c */
extern const struct kd_method kd_methods_state[];  /* state.c: define, ... */
extern const struct kd_method kd_methods_jobs[];   /* jobs.c: save, restore,
                                                      migrate, job.* */
extern const struct kd_method kd_methods_events[]; /* events.c */

/* One request in progress. Made by rpc.c on the loop; fn fills g (the
 * result value, exactly one JSON value) or the error; rpc.c replies. */
struct kd_call {
    struct keeld *kd;
    struct kd_conn *conn; /* referenced until the reply is sent;
                             loop thread only */
    uint64_t conn_id;     /* conn->id, for any thread */
    const struct kd_method *method;
    yajl_val req;                /* the parsed request (owned) */
    yajl_val params;             /* its params object, or NULL */
    char *id_json;               /* the id as JSON, NULL: a notification */
    yajl_gen g;                  /* the result */
    int code;                    /* 0, or the error */
    const char *err_name;        /* data.name of the error, or NULL */
    char *message;               /* the error's message (owned) */
    char key[KEEL_NAME_MAX + 8]; /* serialisation key, "" for none */
    uv_work_t work;              /* work.c */
    struct kd_call *next;        /* work.c: the queue of its key */
    /* Replies and frees the call (loop thread): kd_rpc_complete_loop
     * for JSON-RPC, libvirt's for its calls. */
    void (*complete)(struct kd_call *call);
    /* Set by fn: called on the loop thread right after the reply is
     * queued (before the call is freed). */
    void (*after)(struct kd_call *call);
    void *priv; /* for fn and after */
};

void kd_call_free(struct kd_call *call);

/* --- params.c: for handlers (any thread) --- */

/* Each returns 0 with the value, or sets KD_EPARAMS on call naming the
 * member and returns it. Absent optional members leave *v untouched and
 * *present_r (may be NULL) false. Unknown members are refused by
 * kd_params_only(). */
int kd_param_str(struct kd_call *c, const char *name, bool required,
                 const char **v, bool *present_r);
int kd_param_i64(struct kd_call *c, const char *name, bool required,
                 int64_t min, int64_t max, int64_t *v, bool *present_r);
int kd_param_bool(struct kd_call *c, const char *name, bool required, bool *v,
                  bool *present_r);
/* The member if present (any type), else NULL. */
yajl_val kd_param(struct kd_call *c, const char *name);
/* Refuses members not in the NULL-terminated list. */
int kd_params_only(struct kd_call *c, const char *const *names);
/* "domain" (string or number) to a domid through libkeel. */
int kd_param_domain(struct kd_call *c, const char *name, uint32_t *domid_r);
/* "pool" (string or number) to a pool id. */
int kd_param_pool(struct kd_call *c, const char *name, uint32_t *poolid_r);
/* A CPU spec member ("2-5", "node:1", "all") resolved against the host;
 * a bad spec is libkeel's KEEL_EINVAL, its message prefixed by the
 * member's name. */
int kd_param_cpus(struct kd_call *c, const char *name, bool required,
                  struct keel_cpumap *map, bool *present_r);
/* A domain config from "config" (libxl's JSON object) or "config_text"
 * with "format" ("xl" default, "json", "xml") and "overrides" (xl.cfg
 * statements, xl only), into *cfg (initialised). The caller lists these
 * members in its kd_params_only(). domain.create and domain.define. */
int kd_param_config(struct kd_call *c, struct keel_domain_config *cfg);

/* Sets the call's error: code, its data.name, the message (printf). */
int kd_fail(struct kd_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the call's error from a libkeel failure on this thread's ctx. */
int kd_fail_keel(struct kd_call *c, int rc);
/* The same, the message prefixed by the member that caused it. */
int kd_fail_keel_member(struct kd_call *c, int rc, const char *name);
/* data.name for a code: "KEEL_ENODOMAIN" for libkeel's codes, "invalid
 * params" etc. for keeld's own (KD_E*). Static; never NULL. */
const char *kd_err_name(int code);
/* An empty object as the result ({}). */
int kd_ok(struct kd_call *c);

/* yajl_gen helpers (any thread) */
void kd_gen_str(yajl_gen g, const char *s);
void kd_gen_kv_str(yajl_gen g, const char *k, const char *v);
void kd_gen_kv_int(yajl_gen g, const char *k, long long v);
void kd_gen_kv_bool(yajl_gen g, const char *k, bool v);
void kd_gen_kv_double(yajl_gen g, const char *k, double v);
/* A double in the fewest digits that read back the same; null for inf or
 * nan (yajl_gen_double prints 20 digits). */
void kd_gen_double(yajl_gen g, double v);
/* A CPU set as a range list ("0-3,6"), or "all" when it is every one of
 * the host's nr_all CPUs (0: never "all"). */
void kd_gen_kv_cpumap(yajl_gen g, const char *k, const struct keel_cpumap *map,
                      unsigned int nr_all);
/* Writes a parsed value back out. */
void kd_gen_value(yajl_gen g, yajl_val v);
/* A new generator with keeld's settings (no beautify, no escaping of /). */
yajl_gen kd_gen_new(void);

/* --- work.c --- */

int kd_work_init(struct keeld *kd);
void kd_work_fini(struct keeld *kd);
/* Runs call->method->fn on a worker after the calls queued before it
 * under the same call->key, then replies from the loop (rpc.c). */
void kd_work_submit_loop(struct keeld *kd, struct kd_call *call);
/* Calls in flight or queued. */
unsigned kd_work_pending(struct keeld *kd);

/* --- rpc.c: completion --- */

/* Replies to call (result or error) and frees it. Loop thread. */
void kd_rpc_complete_loop(struct kd_call *call);

/* --- events.c --- */

int kd_events_start_loop(struct keeld *kd);
void kd_events_stop_loop(struct keeld *kd);
void kd_events_free(struct keeld *kd); /* after the loop ended */
/* Sends {"jsonrpc":"2.0","method":"event","params":params_json} to every
 * subscribed connection. */
void kd_events_notify_loop(struct keeld *kd, const char *params_json);
/* From any thread: queues an event for kd_events_notify_loop (thread-safe,
 * through a uv_async). type is the API's name ("defined", ...). */
void kd_events_post(struct keeld *kd, const char *type, uint32_t domid,
                    const uint8_t uuid[16], const char *name,
                    const char *reason);

/* --- jobs.c --- */

/* Sets up the jobs and, before any job starts, finishes or rolls back
 * what the journals in STATE_DIR/jobs/ say a killed keeld left half
 * done (jobs.c explains). Runs after the host is open. 0 or -errno. */
int kd_jobs_init(struct keeld *kd);
void kd_jobs_fini(struct keeld *kd);

/* --- state.c --- */

/* Reads STATE_DIR/defined/; starts the autostart domains that do not run. */
int kd_state_init(struct keeld *kd);
void kd_state_fini(struct keeld *kd);
/* Writes data to path atomically: temporary file, fsync, rename, fsync of
 * the directory. 0 or -errno. */
int kd_write_atomic(const char *path, const void *data, size_t len);
/* write() until all of data is written (EINTR and short writes resumed).
 * 0 or -errno. */
int kd_write_all(int fd, const void *data, size_t len);
/* Removes path (absent is fine) and fsyncs its directory. 0 or -errno. */
int kd_unlink_durable(const char *path);
/* Reads a regular file of at most max bytes into a new NUL-terminated
 * buffer (*len_r excludes the NUL). 0 or -errno (-EFBIG over max). */
int kd_read_file(const char *path, size_t max, char **buf_r, size_t *len_r);
/* Whether the domain with this uuid is defined, and if so whether it
 * autostarts (*autostart_r may be NULL). Thread: any (workers call it
 * for domain.info and domain.list). */
bool kd_state_is_defined(struct keeld *kd, const uint8_t uuid[16],
                         bool *autostart_r);
/* The defined domain named key (a name or a uuid's text), or with this
 * uuid when uuid is not NULL: its uuid, name and autostart
 * (autostart_r may be NULL). false when none. Thread: any. */
bool kd_state_lookup(struct keeld *kd, const char *key, const uint8_t *uuid,
                     uint8_t uuid_r[16], char name_r[KEEL_NAME_MAX + 1],
                     bool *autostart_r);

/* The operations behind domain.define, undefine, start and
 * set_autostart, for every front end (JSON-RPC, libvirt). Each returns 0
 * or the error it set on c; a worker runs them. */
/* Checks cfg, gives it its uuid, writes it and posts "defined"; cfg is
 * taken (left empty) on success. */
int kd_state_define(struct kd_call *c, struct keel_domain_config *cfg,
                    char name_r[KEEL_NAME_MAX + 1], uint8_t uuid_r[16]);
/* Forgets the definition and posts "undefined"; a running domain runs on. */
int kd_state_undefine(struct kd_call *c, const uint8_t uuid[16],
                      const char *name);
/* Creates the defined domain; KEEL_ESTATE when it already runs. */
int kd_state_start(struct kd_call *c, const uint8_t uuid[16], const char *name,
                   bool paused, uint32_t *domid_r);
int kd_state_set_autostart(struct kd_call *c, const uint8_t uuid[16],
                           const char *name, bool autostart);
/* A copy of the definition's config (dispose it); KEEL_ENODOMAIN when it
 * was undefined meanwhile. */
int kd_state_config(struct kd_call *c, const uint8_t uuid[16], const char *name,
                    struct keel_domain_config *cfg);

struct kd_defined {
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    bool autostart;
};

/* A copy of every definition, in a new array (free()). 0 or KEEL_ENOMEM.
 * Thread: any. */
int kd_state_snapshot(struct keeld *kd, struct kd_defined **rows_r,
                      size_t *n_r);

/* --- libvirt/ --- */

struct kd_lv_conn;

/* A libvirt connection's state; ro for the -ro sockets. NULL: no memory. */
struct kd_lv_conn *kd_lv_conn_new(bool ro);
void kd_lv_conn_free(struct kd_lv_conn *lv);
/* Takes every whole packet out of c->in and handles it; closes c on a
 * packet it cannot frame. */
void kd_lv_input_loop(struct kd_conn *c);
/* From any thread: a lifecycle event (events.c's type names) to the
 * libvirt connections that registered for it. */
void kd_lv_event_post(struct keeld *kd, const char *type, uint32_t domid,
                      const uint8_t uuid[16], const char *name,
                      const char *reason);

#endif /* KEELD_H */
