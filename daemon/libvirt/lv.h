/* lv.h: what daemon/libvirt/'s files share
 *
 * keeld's libvirt endpoint: stock virsh and python3-libvirt speak
 * libvirt's remote protocol (program 0x20008086) to it on its own
 * sockets. control.c owns those connections as it owns the JSON-RPC
 * ones (accept, limits, write queues); this layer frames packets, checks
 * them, and runs one handler per procedure on work.c's workers, over the
 * same libkeel calls and the same defined-domain state (state.c) as the
 * JSON-RPC methods. Files:
 *
 *   xdr.c          the wire: XDR values, headers, argument layouts (libc)
 *   conn.c         on the loop: framing, checks, keepalive, dispatch,
 *                  replies, errors, lifecycle event messages
 *   procs.c        the procedure table; handshake and host procedures
 *   procs-domain.c domain procedures
 *
 * Threads: as in keeld.h, _loop functions run on the loop thread;
 * handlers (struct lv_proc.fn) on a worker unless LV_P_LOOP.
 */
#ifndef KEEL_LV_H
#define KEEL_LV_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "../keeld.h"
#include "xdr.h"

/* Procedure numbers of REMOTE_PROGRAM that keeld serves (remote_protocol.x
 * numbering; everything else is answered VIR_ERR_NO_SUPPORT). */
enum lv_proc_nr {
    LV_CONNECT_OPEN = 1,
    LV_CONNECT_CLOSE = 2,
    LV_CONNECT_GET_TYPE = 3,
    LV_CONNECT_GET_VERSION = 4,
    LV_NODE_GET_INFO = 6,
    LV_CONNECT_GET_CAPABILITIES = 7,
    LV_DOMAIN_CREATE = 9,
    LV_DOMAIN_CREATE_XML = 10,
    LV_DOMAIN_DEFINE_XML = 11,
    LV_DOMAIN_DESTROY = 12,
    LV_DOMAIN_GET_XML_DESC = 14,
    LV_DOMAIN_GET_AUTOSTART = 15,
    LV_DOMAIN_GET_INFO = 16,
    LV_DOMAIN_GET_MAX_MEMORY = 17,
    LV_DOMAIN_GET_OS_TYPE = 19,
    LV_DOMAIN_GET_VCPUS = 20,
    LV_DOMAIN_LOOKUP_BY_ID = 22,
    LV_DOMAIN_LOOKUP_BY_NAME = 23,
    LV_DOMAIN_LOOKUP_BY_UUID = 24,
    LV_DOMAIN_REBOOT = 27,
    LV_DOMAIN_RESUME = 28,
    LV_DOMAIN_SET_AUTOSTART = 29,
    LV_DOMAIN_SET_MEMORY = 31,
    LV_DOMAIN_SHUTDOWN = 33,
    LV_DOMAIN_SUSPEND = 34,
    LV_DOMAIN_UNDEFINE = 35,
    LV_CONNECT_GET_HOSTNAME = 59,
    LV_CONNECT_SUPPORTS_FEATURE = 60,
    LV_AUTH_LIST = 66,
    LV_DOMAIN_EVENT_LIFECYCLE = 107, /* legacy event message */
    LV_CONNECT_GET_URI = 110,
    LV_NODE_GET_SECURITY_MODEL = 122,
    LV_DOMAIN_IS_ACTIVE = 150,
    LV_DOMAIN_IS_PERSISTENT = 151,
    LV_CONNECT_GET_LIB_VERSION = 157,
    LV_CONNECT_DOMAIN_EVENT_REGISTER_ANY = 167,
    LV_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY = 168,
    LV_DOMAIN_HAS_MANAGED_SAVE_IMAGE = 183,
    LV_DOMAIN_SNAPSHOT_NUM = 187,
    LV_DOMAIN_CREATE_WITH_FLAGS = 196,
    LV_DOMAIN_GET_VCPUS_FLAGS = 200,
    LV_DOMAIN_SET_MEMORY_FLAGS = 204,
    LV_DOMAIN_GET_STATE = 212,
    LV_DOMAIN_GET_VCPU_PIN_INFO = 230,
    LV_DOMAIN_UNDEFINE_FLAGS = 231,
    LV_DOMAIN_DESTROY_FLAGS = 234,
    LV_DOMAIN_SHUTDOWN_FLAGS = 258,
    LV_CONNECT_LIST_ALL_DOMAINS = 273,
    LV_NODE_GET_CPU_MAP = 293,
    LV_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY = 316,
    LV_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY = 317,
    LV_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318, /* event message */
    LV_DOMAIN_DEFINE_XML_FLAGS = 350,
    LV_CONNECT_REGISTER_CLOSE_CALLBACK = 360,
    LV_CONNECT_UNREGISTER_CLOSE_CALLBACK = 361,
    LV_DOMAIN_GET_MESSAGES = 426,
};

/* SUPPORTS_FEATURE numbers (libvirt's VIR_DRV_FEATURE_*, internal to
 * libvirt, so not in its public headers). */
#define LV_FEATURE_PROGRAM_KEEPALIVE 10
#define LV_FEATURE_REMOTE_EVENT_CALLBACK 14
#define LV_FEATURE_REMOTE_CLOSE_CALLBACK 15

/* remote_auth_type REMOTE_AUTH_NONE */
#define LV_AUTH_NONE 0

/* Lifecycle callbacks one connection may register. */
#define LV_MAX_CALLBACKS 64

struct lv_call;

#define LV_P_WRITE (1u << 0)   /* refused on a read-only connection */
#define LV_P_LOOP (1u << 1)    /* runs on the loop (connection state) */
#define LV_P_PREOPEN (1u << 2) /* allowed before CONNECT_OPEN */

struct lv_proc {
    int32_t nr;
    const char *name;   /* for logs: "DOMAIN_CREATE" */
    const char *layout; /* the arguments (xdr.h: lv_args_decode) */
    int (*fn)(struct lv_call *lc);
    unsigned int flags;
};

/* One lifecycle callback of a connection. */
struct lv_callback {
    int32_t id;
    bool has_dom; /* only this domain's events */
    uint8_t uuid[16];
};

/* A connection's libvirt state (struct kd_conn.lv). Loop thread only. */
struct kd_lv_conn {
    bool opened;
    bool ro; /* the -ro socket, or CONNECT_OPEN with VIR_CONNECT_RO */
    bool legacy_events; /* registered through 167: messages 107 */
    struct lv_callback cbs[LV_MAX_CALLBACKS];
    unsigned n_cbs;
    int32_t next_cb_id;
    char *uri; /* what CONNECT_OPEN named, for CONNECT_GET_URI */
};

/* One call in progress: the kd_call work.c runs (call->priv is this). */
struct lv_call {
    struct kd_call *call;
    const struct lv_proc *proc;
    struct lv_header hdr;
    struct lv_args args;
    struct lv_writer out; /* the reply packet: header, then what fn puts */
    bool ro;              /* the connection's, when the call came */
    /* fn's error in libvirt's terms; when 0, a kd_fail on call (shared
     * keeld code) is mapped by lv_error_from_keel */
    int vir_code;
    char *vir_msg;
};

/* --- conn.c --- */

/* Sets the call's libvirt error (code: VIR_ERR_*). Returns -1. */
int lv_fail(struct lv_call *lc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The VIR_ERR_* for a keel_err or a KD_E* code. */
int lv_error_from_keel(int code);

/* --- procs.c --- */

/* The procedure numbered nr, or NULL. */
const struct lv_proc *lv_proc_find(int32_t nr);

/* --- procs-domain.c: the domain procedures, for procs.c's table --- */

int lv_list_all_domains(struct lv_call *lc);
int lv_lookup_by_id(struct lv_call *lc);
int lv_lookup_by_name(struct lv_call *lc);
int lv_lookup_by_uuid(struct lv_call *lc);
int lv_get_info(struct lv_call *lc);
int lv_get_state(struct lv_call *lc);
int lv_get_os_type(struct lv_call *lc);
int lv_is_active(struct lv_call *lc);
int lv_is_persistent(struct lv_call *lc);
int lv_get_autostart(struct lv_call *lc);
int lv_set_autostart(struct lv_call *lc);
int lv_get_max_memory(struct lv_call *lc);
int lv_define_xml(struct lv_call *lc);
int lv_get_xml_desc(struct lv_call *lc);
int lv_create(struct lv_call *lc);
int lv_create_with_flags(struct lv_call *lc);
int lv_create_xml(struct lv_call *lc);
int lv_destroy(struct lv_call *lc);
int lv_shutdown(struct lv_call *lc);
int lv_reboot(struct lv_call *lc);
int lv_suspend(struct lv_call *lc);
int lv_resume(struct lv_call *lc);
int lv_undefine(struct lv_call *lc);
int lv_set_memory(struct lv_call *lc);
int lv_get_vcpus(struct lv_call *lc);
int lv_get_vcpus_flags(struct lv_call *lc);
int lv_get_vcpu_pin_info(struct lv_call *lc);
int lv_has_managed_save(struct lv_call *lc);
int lv_snapshot_num(struct lv_call *lc);
int lv_get_messages(struct lv_call *lc);

#endif /* KEEL_LV_H */
