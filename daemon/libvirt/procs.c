/* procs.c: the libvirt procedures keeld serves; the handshake, event
 * registration and host procedures
 *
 * One row per procedure: its number, the layout of its arguments (xdr.h)
 * and its handler. A handler reads lc->args and appends its reply's
 * payload to lc->out, or sets an error with lv_fail (or kd_fail through
 * keeld's shared code) and writes nothing. Procedures not in the table
 * are answered VIR_ERR_NO_SUPPORT by conn.c, which clients take as an
 * older server's answer and fall back from.
 *
 * Checklist when adding a procedure: its number in lv.h, its row here
 * (LV_P_WRITE when it changes anything), docs/libvirt.md, and a test in
 * tests/integration/libvirt/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lv.h"

/* --- the handshake (loop thread: connection state) --- */

static int
auth_list(struct lv_call *lc)
{
    lv_put_u32(&lc->out, 1);
    lv_put_i32(&lc->out, LV_AUTH_NONE);
    return 0;
}

/* Keepalive is supported (conn.c answers PINGs); the newer event and
 * close callbacks too; nothing else (migration, fd passing). */
static int
supports_feature(struct lv_call *lc)
{
    int64_t f = lc->args.num[0];

    lv_put_i32(&lc->out, f == LV_FEATURE_PROGRAM_KEEPALIVE ||
                             f == LV_FEATURE_REMOTE_EVENT_CALLBACK ||
                             f == LV_FEATURE_REMOTE_CLOSE_CALLBACK);
    return 0;
}

/* keeld serves the xen driver: "xen:///system", "xen:///", or no name
 * (the client's default, which CONNECT_GET_URI then names). */
static bool
uri_is_ours(const char *uri)
{
    return !uri || !*uri || !strcmp(uri, "xen:///system") ||
           !strcmp(uri, "xen:///") || !strcmp(uri, "xen://") ||
           !strcmp(uri, "xen:");
}

static int
connect_open(struct lv_call *lc)
{
    struct kd_lv_conn *lv = lc->call->conn->lv;
    const char *uri = lc->args.str[0];
    int64_t flags = lc->args.num[0];

    if (!uri_is_ours(uri))
        return lv_fail(lc, VIR_ERR_NO_CONNECT,
                       "no connection driver available for %s", uri);
    if (flags & ~(int64_t)(VIR_CONNECT_RO | VIR_CONNECT_NO_ALIASES))
        return lv_fail(lc, VIR_ERR_INVALID_ARG,
                       "unsupported flags (0x%llx) in CONNECT_OPEN",
                       (unsigned long long)flags);
    free(lv->uri);
    lv->uri = strdup(uri && *uri ? uri : "xen:///system");
    if (flags & VIR_CONNECT_RO)
        lv->ro = true;
    lv->opened = true;
    return 0;
}

static int
connect_close(struct lv_call *lc)
{
    struct kd_lv_conn *lv = lc->call->conn->lv;

    lv->opened = false;
    lv->n_cbs = 0;
    lv->legacy_events = false;
    return 0;
}

static int
nothing(struct lv_call *lc)
{
    (void)lc;
    return 0;
}

static int
get_uri(struct lv_call *lc)
{
    struct kd_lv_conn *lv = lc->call->conn->lv;

    lv_put_string(&lc->out, lv->uri ? lv->uri : "xen:///system");
    return 0;
}

/* --- events (loop thread) --- */

static int
event_register(struct lv_call *lc)
{
    struct kd_lv_conn *lv = lc->call->conn->lv;
    struct lv_callback *cb;

    if (lc->args.num[0] != VIR_DOMAIN_EVENT_ID_LIFECYCLE)
        return lv_fail(lc, VIR_ERR_NO_SUPPORT,
                       "keeld sends only lifecycle events, not event %lld",
                       (long long)lc->args.num[0]);
    if (lv->n_cbs == LV_MAX_CALLBACKS)
        return lv_fail(lc, VIR_ERR_OPERATION_FAILED,
                       "a connection may register %d event callbacks",
                       LV_MAX_CALLBACKS);
    cb = &lv->cbs[lv->n_cbs++];
    cb->id = lv->next_cb_id++;
    cb->has_dom = lc->args.has_dom;
    if (cb->has_dom)
        memcpy(cb->uuid, lc->args.dom.uuid, 16);
    lv_put_i32(&lc->out, cb->id);
    return 0;
}

static int
event_deregister(struct lv_call *lc)
{
    struct kd_lv_conn *lv = lc->call->conn->lv;
    unsigned i;

    for (i = 0; i < lv->n_cbs; i++)
        if (lv->cbs[i].id == lc->args.num[0]) {
            lv->cbs[i] = lv->cbs[--lv->n_cbs];
            return 0;
        }
    return lv_fail(lc, VIR_ERR_INVALID_ARG, "callback %lld is not registered",
                   (long long)lc->args.num[0]);
}

/* The old registration (167/168): one lifecycle stream, message 107. */
static int
legacy_register(struct lv_call *lc)
{
    if (lc->args.num[0] != VIR_DOMAIN_EVENT_ID_LIFECYCLE)
        return lv_fail(lc, VIR_ERR_NO_SUPPORT,
                       "keeld sends only lifecycle events");
    lc->call->conn->lv->legacy_events =
        lc->proc->nr == LV_CONNECT_DOMAIN_EVENT_REGISTER_ANY;
    return 0;
}

/* --- the host (workers) --- */

static int
physinfo(struct lv_call *lc, struct keel_hv_physinfo *pi)
{
    int rc = keel_hv_physinfo(lc->call->kd->hv, pi);

    return rc ? kd_fail_keel(lc->call, rc) : 0;
}

static int
get_type(struct lv_call *lc)
{
    lv_put_string(&lc->out, "Xen");
    return 0;
}

/* Xen's version as libvirt's Xen driver reports it: major * 1,000,000 +
 * minor * 1,000. */
static int
get_version(struct lv_call *lc)
{
    struct keel_hv_physinfo pi;

    if (physinfo(lc, &pi))
        return -1;
    lv_put_u64(&lc->out, (uint64_t)pi.xen_major * 1000000 +
                             (uint64_t)pi.xen_minor * 1000);
    return 0;
}

/* The libvirt release whose protocol keeld speaks (the headers it was
 * built with), which clients compare with their minimum. */
static int
get_lib_version(struct lv_call *lc)
{
    lv_put_u64(&lc->out, LIBVIR_VERSION_NUMBER);
    return 0;
}

static int
get_hostname(struct lv_call *lc)
{
    char name[256];

    if (gethostname(name, sizeof(name)) != 0)
        return lv_fail(lc, VIR_ERR_SYSTEM_ERROR, "gethostname failed");
    name[sizeof(name) - 1] = '\0';
    lv_put_string(&lc->out, name);
    return 0;
}

/* char model[32] is 32 XDR chars: one 4-byte word each. */
static int
node_get_info(struct lv_call *lc)
{
    static const char model[32] = "x86_64";
    struct keel_hv_physinfo pi;
    uint32_t nodes, i;

    if (physinfo(lc, &pi))
        return -1;
    nodes = pi.nr_nodes ? pi.nr_nodes : 1;
    for (i = 0; i < 32; i++)
        lv_put_i32(&lc->out, model[i]);
    lv_put_u64(&lc->out, pi.total_kb);
    lv_put_i32(&lc->out, (int32_t)pi.nr_cpus);
    lv_put_i32(&lc->out, (int32_t)(pi.cpu_khz / 1000));
    lv_put_i32(&lc->out, (int32_t)nodes);
    /* sockets per node, as virNodeInfo counts them */
    lv_put_i32(&lc->out,
               (int32_t)(pi.nr_sockets / nodes ? pi.nr_sockets / nodes : 1));
    lv_put_i32(&lc->out, (int32_t)pi.cores_per_socket);
    lv_put_i32(&lc->out, (int32_t)pi.threads_per_core);
    return 0;
}

/* One <guest> of the capabilities: os_type, machine, and for HVM the
 * firmware loader and the features libvirt's Xen driver lists. */
static int
cap_guest(char *buf, size_t size, const char *os_type, const char *machine,
          bool hvm)
{
    return snprintf(
        buf, size,
        "  <guest>\n"
        "    <os_type>%s</os_type>\n"
        "    <arch name='x86_64'>\n"
        "      <wordsize>64</wordsize>\n"
        "      <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>\n"
        "%s"
        "      <machine>%s</machine>\n"
        "      <domain type='xen'/>\n"
        "    </arch>\n"
        "%s"
        "  </guest>\n",
        os_type,
        hvm ? "      <loader>/usr/lib/xen/boot/hvmloader</loader>\n" : "",
        machine,
        hvm ? "    <features>\n"
              "      <pae/>\n"
              "      <nonpae/>\n"
              "      <acpi default='on' toggle='yes'/>\n"
              "      <apic default='on' toggle='no'/>\n"
              "      <hap default='on' toggle='yes'/>\n"
              "    </features>\n"
            : "");
}

static int
get_capabilities(struct lv_call *lc)
{
    struct keel_hv_physinfo pi;
    char host[512], pv[1024], pvh[1024], hvm[1024], *xml = NULL;
    bool has_hvm;
    int r;

    if (physinfo(lc, &pi))
        return -1;
    has_hvm = strstr(pi.capabilities, "hvm") != NULL;
    snprintf(host, sizeof(host),
             "  <host>\n"
             "    <cpu>\n"
             "      <arch>x86_64</arch>\n"
             "      <topology sockets='%u' dies='1' cores='%u' threads='%u'/>\n"
             "    </cpu>\n"
             "    <power_management/>\n"
             "    <migration_features>\n"
             "      <live/>\n"
             "    </migration_features>\n"
             "  </host>\n",
             pi.nr_sockets, pi.cores_per_socket, pi.threads_per_core);
    cap_guest(pv, sizeof(pv), "xen", "xenpv", false);
    cap_guest(pvh, sizeof(pvh), "xenpvh", "xenpvh", false);
    cap_guest(hvm, sizeof(hvm), "hvm", "xenfv", true);
    r = asprintf(&xml, "<capabilities>\n%s%s%s%s</capabilities>\n", host, pv,
                 pvh, has_hvm ? hvm : "");
    if (r < 0)
        return lv_fail(lc, VIR_ERR_NO_MEMORY, "out of memory");
    lv_put_string(&lc->out, xml);
    free(xml);
    return 0;
}

/* args: need_map, need_online, flags. The map of online CPUs (every
 * physical CPU is online to Xen's toolstack), their count, the CPUs. */
static int
node_get_cpu_map(struct lv_call *lc)
{
    struct keel_hv_physinfo pi;
    uint8_t map[LV_CPUMAP_MAX] = {0};
    size_t len;
    uint32_t i;

    if (lc->args.num[2] != 0)
        return lv_fail(lc, VIR_ERR_INVALID_ARG, "unsupported flags (0x%llx)",
                       (unsigned long long)lc->args.num[2]);
    if (physinfo(lc, &pi))
        return -1;
    len = (pi.nr_cpus + 7) / 8;
    if (len > sizeof(map))
        return lv_fail(lc, VIR_ERR_INTERNAL_ERROR, "too many CPUs");
    for (i = 0; i < pi.nr_cpus; i++)
        map[i / 8] |= (uint8_t)(1u << (i % 8));
    lv_put_opaque(&lc->out, map, lc->args.num[0] ? len : 0);
    lv_put_u32(&lc->out, lc->args.num[1] ? pi.nr_cpus : 0);
    lv_put_i32(&lc->out, (int32_t)pi.nr_cpus);
    return 0;
}

/* No security driver: an empty model (virsh dominfo then asks no label). */
static int
node_get_security_model(struct lv_call *lc)
{
    lv_put_u32(&lc->out, 0);
    lv_put_u32(&lc->out, 0);
    return 0;
}

/* --- the table --- */

#define PRE LV_P_PREOPEN
#define LOOP LV_P_LOOP
#define W LV_P_WRITE

static const struct lv_proc procs[] = {
    {LV_AUTH_LIST, "AUTH_LIST", "", auth_list, PRE | LOOP},
    {LV_CONNECT_SUPPORTS_FEATURE, "SUPPORTS_FEATURE", "i", supports_feature,
     PRE | LOOP},
    {LV_CONNECT_OPEN, "CONNECT_OPEN", "Su", connect_open, PRE | LOOP},
    {LV_CONNECT_CLOSE, "CONNECT_CLOSE", "", connect_close, LOOP},
    {LV_CONNECT_GET_URI, "CONNECT_GET_URI", "", get_uri, LOOP},
    {LV_CONNECT_REGISTER_CLOSE_CALLBACK, "REGISTER_CLOSE_CALLBACK", "", nothing,
     LOOP},
    {LV_CONNECT_UNREGISTER_CLOSE_CALLBACK, "UNREGISTER_CLOSE_CALLBACK", "",
     nothing, LOOP},
    {LV_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
     "DOMAIN_EVENT_CALLBACK_REGISTER_ANY", "iD", event_register, LOOP},
    {LV_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
     "DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", "i", event_deregister, LOOP},
    {LV_CONNECT_DOMAIN_EVENT_REGISTER_ANY, "DOMAIN_EVENT_REGISTER_ANY", "i",
     legacy_register, LOOP},
    {LV_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, "DOMAIN_EVENT_DEREGISTER_ANY", "i",
     legacy_register, LOOP},
    {LV_CONNECT_GET_TYPE, "CONNECT_GET_TYPE", "", get_type, LOOP},
    {LV_CONNECT_GET_VERSION, "CONNECT_GET_VERSION", "", get_version, 0},
    {LV_CONNECT_GET_LIB_VERSION, "CONNECT_GET_LIB_VERSION", "", get_lib_version,
     LOOP},
    {LV_CONNECT_GET_HOSTNAME, "CONNECT_GET_HOSTNAME", "", get_hostname, 0},
    {LV_NODE_GET_INFO, "NODE_GET_INFO", "", node_get_info, 0},
    {LV_CONNECT_GET_CAPABILITIES, "CONNECT_GET_CAPABILITIES", "",
     get_capabilities, 0},
    {LV_NODE_GET_CPU_MAP, "NODE_GET_CPU_MAP", "iiu", node_get_cpu_map, 0},
    {LV_NODE_GET_SECURITY_MODEL, "NODE_GET_SECURITY_MODEL", "",
     node_get_security_model, LOOP},
    {LV_CONNECT_LIST_ALL_DOMAINS, "CONNECT_LIST_ALL_DOMAINS", "iu",
     lv_list_all_domains, 0},
    {LV_DOMAIN_LOOKUP_BY_ID, "DOMAIN_LOOKUP_BY_ID", "i", lv_lookup_by_id, 0},
    {LV_DOMAIN_LOOKUP_BY_NAME, "DOMAIN_LOOKUP_BY_NAME", "s", lv_lookup_by_name,
     0},
    {LV_DOMAIN_LOOKUP_BY_UUID, "DOMAIN_LOOKUP_BY_UUID", "x", lv_lookup_by_uuid,
     0},
    {LV_DOMAIN_GET_INFO, "DOMAIN_GET_INFO", "d", lv_get_info, 0},
    {LV_DOMAIN_GET_STATE, "DOMAIN_GET_STATE", "du", lv_get_state, 0},
    {LV_DOMAIN_GET_OS_TYPE, "DOMAIN_GET_OS_TYPE", "d", lv_get_os_type, 0},
    {LV_DOMAIN_IS_ACTIVE, "DOMAIN_IS_ACTIVE", "d", lv_is_active, 0},
    {LV_DOMAIN_IS_PERSISTENT, "DOMAIN_IS_PERSISTENT", "d", lv_is_persistent, 0},
    {LV_DOMAIN_GET_AUTOSTART, "DOMAIN_GET_AUTOSTART", "d", lv_get_autostart, 0},
    {LV_DOMAIN_SET_AUTOSTART, "DOMAIN_SET_AUTOSTART", "di", lv_set_autostart,
     W},
    {LV_DOMAIN_GET_MAX_MEMORY, "DOMAIN_GET_MAX_MEMORY", "d", lv_get_max_memory,
     0},
    {LV_DOMAIN_HAS_MANAGED_SAVE_IMAGE, "DOMAIN_HAS_MANAGED_SAVE_IMAGE", "du",
     lv_has_managed_save, 0},
    {LV_DOMAIN_SNAPSHOT_NUM, "DOMAIN_SNAPSHOT_NUM", "du", lv_snapshot_num, 0},
    {LV_DOMAIN_GET_MESSAGES, "DOMAIN_GET_MESSAGES", "du", lv_get_messages, 0},
    {LV_DOMAIN_DEFINE_XML, "DOMAIN_DEFINE_XML", "s", lv_define_xml, W},
    {LV_DOMAIN_DEFINE_XML_FLAGS, "DOMAIN_DEFINE_XML_FLAGS", "su", lv_define_xml,
     W},
    {LV_DOMAIN_GET_XML_DESC, "DOMAIN_GET_XML_DESC", "du", lv_get_xml_desc, 0},
    {LV_DOMAIN_CREATE, "DOMAIN_CREATE", "d", lv_create, W},
    {LV_DOMAIN_CREATE_WITH_FLAGS, "DOMAIN_CREATE_WITH_FLAGS", "du",
     lv_create_with_flags, W},
    {LV_DOMAIN_CREATE_XML, "DOMAIN_CREATE_XML", "su", lv_create_xml, W},
    {LV_DOMAIN_DESTROY, "DOMAIN_DESTROY", "d", lv_destroy, W},
    {LV_DOMAIN_DESTROY_FLAGS, "DOMAIN_DESTROY_FLAGS", "du", lv_destroy, W},
    {LV_DOMAIN_SHUTDOWN, "DOMAIN_SHUTDOWN", "d", lv_shutdown, W},
    {LV_DOMAIN_SHUTDOWN_FLAGS, "DOMAIN_SHUTDOWN_FLAGS", "du", lv_shutdown, W},
    {LV_DOMAIN_REBOOT, "DOMAIN_REBOOT", "du", lv_reboot, W},
    {LV_DOMAIN_SUSPEND, "DOMAIN_SUSPEND", "d", lv_suspend, W},
    {LV_DOMAIN_RESUME, "DOMAIN_RESUME", "d", lv_resume, W},
    {LV_DOMAIN_UNDEFINE, "DOMAIN_UNDEFINE", "d", lv_undefine, W},
    {LV_DOMAIN_UNDEFINE_FLAGS, "DOMAIN_UNDEFINE_FLAGS", "du", lv_undefine, W},
    {LV_DOMAIN_SET_MEMORY, "DOMAIN_SET_MEMORY", "dH", lv_set_memory, W},
    {LV_DOMAIN_SET_MEMORY_FLAGS, "DOMAIN_SET_MEMORY_FLAGS", "dHu",
     lv_set_memory, W},
    {LV_DOMAIN_GET_VCPUS, "DOMAIN_GET_VCPUS", "dii", lv_get_vcpus, 0},
    {LV_DOMAIN_GET_VCPUS_FLAGS, "DOMAIN_GET_VCPUS_FLAGS", "du",
     lv_get_vcpus_flags, 0},
    {LV_DOMAIN_GET_VCPU_PIN_INFO, "DOMAIN_GET_VCPU_PIN_INFO", "diiu",
     lv_get_vcpu_pin_info, 0},
};

const struct lv_proc *
lv_proc_find(int32_t nr)
{
    size_t i;

    for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
        if (procs[i].nr == nr)
            return &procs[i];
    return NULL;
}
