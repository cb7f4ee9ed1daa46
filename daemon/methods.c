/* methods.c: the method tables' lookup, and version, host.* and domain.*
 *
 * One handler per method, each a thin mapping of one libkeel call: read
 * the params (refusing unknown members first), call libkeel, write the
 * result. Handlers run on a worker (keeld.h): they use only their call
 * and the thread-safe struct keel_host, and gather everything before
 * they write, so a failing call leaves no half-written result behind.
 *
 * Checklist when adding a method: its row here, its row in
 * docs/keeld-api.md (R for read methods, which have no KD_M_WRITE), the
 * client's command table (cli/), the Python binding, and a test in
 * tests/unit/test-keeld-params.c or tests/integration/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeld.h"

/* --- the tables --- */

static const struct kd_method *const tables[] = {
    kd_methods_host,  kd_methods_pool, kd_methods_sim,
    kd_methods_state, kd_methods_jobs, kd_methods_events,
};

const struct kd_method *
kd_method_find(const char *name)
{
    const struct kd_method *m;
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        for (m = tables[i]; m->name; m++)
            if (!strcmp(m->name, name))
                return m;
    return NULL;
}

/* --- version, host.info --- */

static const char *const no_params[] = {NULL};

static int
m_version(struct kd_call *c)
{
    yajl_gen g = c->g;
    int rc;

    if ((rc = kd_params_only(c, no_params)))
        return rc;
    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "version", keel_version());
    kd_gen_kv_int(g, "api", KD_API_VERSION);
    kd_gen_kv_str(g, "backend", keel_hv_name(c->kd->hv));
    yajl_gen_map_close(g);
    return 0;
}

static int
m_host_info(struct kd_call *c)
{
    struct keel_host_info *hi = NULL;
    struct keel_hv_physinfo *pi;
    char xen[64];
    yajl_gen g = c->g;
    int rc;

    if ((rc = kd_params_only(c, no_params)))
        return rc;
    /* 32 KiB of node maps: too much for a worker's stack */
    if (!(hi = malloc(sizeof(*hi))))
        return kd_fail(c, KD_EINTERNAL, "out of memory");
    if ((rc = keel_host_info(c->kd->host, hi))) {
        rc = kd_fail_keel(c, rc);
        goto out;
    }
    pi = &hi->physinfo;
    snprintf(xen, sizeof(xen), "%u.%u%s", pi->xen_major, pi->xen_minor,
             pi->xen_extra);
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "nr_cpus", pi->nr_cpus);
    kd_gen_kv_int(g, "nr_nodes", pi->nr_nodes);
    kd_gen_kv_int(g, "cores_per_socket", pi->cores_per_socket);
    kd_gen_kv_int(g, "threads_per_core", pi->threads_per_core);
    kd_gen_kv_int(g, "nr_sockets", pi->nr_sockets);
    kd_gen_kv_int(g, "cpu_khz", pi->cpu_khz);
    kd_gen_kv_int(g, "total_kb", (long long)pi->total_kb);
    kd_gen_kv_int(g, "free_kb", (long long)pi->free_kb);
    kd_gen_kv_str(g, "xen_version", xen);
    kd_gen_kv_str(g, "capabilities", pi->capabilities);
    kd_gen_kv_str(g, "backend", keel_hv_name(c->kd->hv));
    yajl_gen_map_close(g);
out:
    free(hi);
    return rc;
}

/* --- domain info --- */

/* xl's six state letters (r b p s c d), as `xl list` and the CLI print
 * them: a crashed domain shows c, not s. */
static void
xl_flags(const struct keel_domain_info *info, char buf[7])
{
    uint32_t f = info->hv_flags;
    bool crashed =
        (f & KEEL_DOMF_SHUTDOWN) && info->reason == KEEL_SHUTDOWN_CRASH;

    buf[0] = f & KEEL_DOMF_RUNNING ? 'r' : '-';
    buf[1] = f & KEEL_DOMF_BLOCKED ? 'b' : '-';
    buf[2] = f & KEEL_DOMF_PAUSED ? 'p' : '-';
    buf[3] = (f & KEEL_DOMF_SHUTDOWN) && !crashed ? 's' : '-';
    buf[4] = crashed ? 'c' : '-';
    buf[5] = f & KEEL_DOMF_DYING ? 'd' : '-';
    buf[6] = '\0';
}

static void
gen_domain_info(struct kd_call *c, const struct keel_domain_info *info)
{
    bool defined = false, autostart = false;
    yajl_gen g = c->g;
    char uuid[37], flags[7];

    keel_uuid_format(info->uuid, uuid);
    xl_flags(info, flags);
    if (c->kd->state) /* NULL before kd_state_init (and in unit tests) */
        defined = kd_state_is_defined(c->kd, info->uuid, &autostart);
    yajl_gen_map_open(g);
    kd_gen_kv_int(g, "domid", info->domid);
    kd_gen_kv_str(g, "uuid", uuid);
    kd_gen_kv_str(g, "name", info->name);
    kd_gen_kv_str(g, "type", keel_domain_type_name(info->type));
    kd_gen_kv_str(g, "state", keel_domain_state_name(info->state));
    if (info->state == KEEL_DOMAIN_SHUTDOWN)
        kd_gen_kv_str(g, "reason", keel_shutdown_reason_name(info->reason));
    kd_gen_kv_str(g, "flags", flags);
    kd_gen_kv_int(g, "memory_kb", (long long)info->mem_kb);
    kd_gen_kv_int(g, "target_kb", (long long)info->target_kb);
    kd_gen_kv_int(g, "max_kb", (long long)info->max_kb);
    kd_gen_kv_int(g, "vcpus", info->online_vcpus);
    kd_gen_kv_int(g, "max_vcpus", info->max_vcpus);
    kd_gen_kv_double(g, "cpu_time_s", (double)info->cpu_time_ns / 1e9);
    kd_gen_kv_str(g, "pool", info->pool);
    kd_gen_kv_int(g, "start_time",
                  (long long)(info->start_time_ns / 1000000000));
    kd_gen_kv_double(g, "uptime_s", (double)info->uptime_ns / 1e9);
    kd_gen_kv_bool(g, "defined", defined);
    kd_gen_kv_bool(g, "autostart", autostart);
    yajl_gen_map_close(g);
}

static int
m_domain_list(struct kd_call *c)
{
    struct keel_domain_info *infos = NULL;
    size_t n, i;
    int rc;

    if ((rc = kd_params_only(c, no_params)))
        return rc;
    if ((rc = keel_domain_list(c->kd->host, &infos, &n)))
        return kd_fail_keel(c, rc);
    yajl_gen_array_open(c->g);
    for (i = 0; i < n; i++)
        gen_domain_info(c, &infos[i]);
    yajl_gen_array_close(c->g);
    free(infos);
    return 0;
}

static const char *const domain_only[] = {"domain", NULL};

static int
m_domain_info(struct kd_call *c)
{
    struct keel_domain_info info;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, domain_only)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = keel_domain_info(c->kd->host, domid, &info)))
        return kd_fail_keel(c, rc);
    gen_domain_info(c, &info);
    return 0;
}

static const char *
vcpu_state(uint32_t flags)
{
    if (!(flags & KEEL_VCPUF_ONLINE))
        return "offline";
    if (flags & KEEL_VCPUF_RUNNING)
        return "running";
    if (flags & KEEL_VCPUF_BLOCKED)
        return "blocked";
    return "runnable";
}

static void
gen_vcpus(yajl_gen g, const struct keel_hv_vcpuinfo *v, size_t n,
          unsigned int nr_cpus)
{
    size_t i;

    yajl_gen_array_open(g);
    for (i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        kd_gen_kv_int(g, "vcpu", v[i].vcpu);
        kd_gen_kv_int(g, "cpu", v[i].cpu);
        kd_gen_kv_str(g, "state", vcpu_state(v[i].flags));
        kd_gen_kv_bool(g, "online", v[i].flags & KEEL_VCPUF_ONLINE);
        kd_gen_kv_double(g, "cpu_time_s", (double)v[i].cpu_time_ns / 1e9);
        kd_gen_kv_cpumap(g, "hard", &v[i].hard, nr_cpus);
        kd_gen_kv_cpumap(g, "soft", &v[i].soft, nr_cpus);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static int
m_domain_vcpu_list(struct kd_call *c)
{
    struct keel_hv_vcpuinfo *vcpus = NULL;
    struct keel_hv_physinfo pi;
    uint32_t domid;
    size_t n;
    int rc;

    if ((rc = kd_params_only(c, domain_only)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = keel_hv_physinfo(c->kd->hv, &pi)) ||
        (rc = keel_domain_vcpu_list(c->kd->host, domid, &vcpus, &n)))
        return kd_fail_keel(c, rc);
    gen_vcpus(c->g, vcpus, n, pi.nr_cpus);
    free(vcpus);
    return 0;
}

/* libkeel's JSON text, re-emitted as a value of the result. */
static int
gen_json_text(struct kd_call *c, const char *text)
{
    char err[128];
    yajl_val v = yajl_tree_parse(text, err, sizeof(err));

    if (!v)
        return kd_fail(c, KD_EINTERNAL, "libkeel wrote invalid JSON: %s", err);
    kd_gen_value(c->g, v);
    yajl_tree_free(v);
    return 0;
}

static int
m_domain_get_config(struct kd_call *c)
{
    static const char *const names[] = {"domain", "format", NULL};
    struct keel_domain_config cfg;
    const char *fmt_name = "json";
    int format, rc;
    char *text = NULL;
    uint32_t domid;

    keel_domain_config_init(&cfg);
    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_str(c, "format", false, &fmt_name, NULL)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        goto out;
    if ((format = keel_config_format_parse(fmt_name)) < 0) {
        rc = kd_fail(c, KD_EPARAMS,
                     "member 'format' must be \"json\", \"xl\" or \"xml\" "
                     "(got \"%.40s\")",
                     fmt_name);
        goto out;
    }
    if ((rc = keel_domain_config_get(c->kd->host, domid, &cfg)) ||
        (rc = keel_domain_config_write(c->kd->ctx, format, &cfg, 0, &text))) {
        rc = kd_fail_keel(c, rc);
        goto out;
    }
    if (format == KEEL_CONFIG_JSON)
        rc = gen_json_text(c, text);
    else
        kd_gen_str(c->g, text);
out:
    free(text);
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* --- domain.create --- */

static int
m_domain_create(struct kd_call *c)
{
    static const char *const names[] = {"config",    "config_text", "format",
                                        "overrides", "paused",      NULL};
    struct keel_domain_config cfg;
    struct keel_domain_info info;
    bool paused = false;
    char uuid[37];
    uint32_t domid;
    int rc;

    keel_domain_config_init(&cfg);
    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_bool(c, "paused", false, &paused, NULL)) ||
        (rc = kd_param_config(c, &cfg)))
        goto out;
    rc = keel_domain_create(c->kd->host, &cfg,
                            paused ? KEEL_DOMAIN_CREATE_PAUSED : 0, &domid);
    if (rc == 0)
        rc = keel_domain_info(c->kd->host, domid, &info);
    if (rc) {
        rc = kd_fail_keel(c, rc);
        goto out;
    }
    keel_uuid_format(info.uuid, uuid);
    yajl_gen_map_open(c->g);
    kd_gen_kv_int(c->g, "domid", domid);
    kd_gen_kv_str(c->g, "name", info.name);
    kd_gen_kv_str(c->g, "uuid", uuid);
    yajl_gen_map_close(c->g);
out:
    keel_domain_config_dispose(&cfg);
    return rc;
}

/* --- operations on one domain --- */

/* A method whose only param is "domain" and whose result is {}. */
static int
domain_op(struct kd_call *c, int (*op)(struct keel_host *, uint32_t))
{
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, domain_only)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = op(c->kd->host, domid)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_domain_destroy(struct kd_call *c)
{
    return domain_op(c, keel_domain_destroy);
}

static int
m_domain_pause(struct kd_call *c)
{
    return domain_op(c, keel_domain_pause);
}

static int
m_domain_unpause(struct kd_call *c)
{
    return domain_op(c, keel_domain_unpause);
}

typedef int stop_fn(struct keel_host *, uint32_t, int, unsigned int);

/* domain.shutdown and domain.reboot. Waiting holds this worker for up to
 * timeout_ms: the guest decides how long a shutdown takes. */
static int
domain_stop(struct kd_call *c, stop_fn *op)
{
    static const char *const names[] = {"domain", "wait", "timeout_ms", "force",
                                        NULL};
    bool wait = false, force = false, has_timeout;
    int64_t timeout_ms = 60000;
    unsigned int flags = 0;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_bool(c, "wait", false, &wait, NULL)) ||
        (rc = kd_param_bool(c, "force", false, &force, NULL)) ||
        (rc = kd_param_i64(c, "timeout_ms", false, 0, INT32_MAX, &timeout_ms,
                           &has_timeout)))
        return rc;
    if (!wait && (force || has_timeout))
        return kd_fail(c, KD_EPARAMS,
                       "members 'timeout_ms' and 'force' need \"wait\": true");
    if ((rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if (wait)
        flags |= KEEL_DOMAIN_WAIT;
    if (force)
        flags |= KEEL_DOMAIN_FORCE;
    if ((rc = op(c->kd->host, domid, (int)timeout_ms, flags)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_domain_shutdown(struct kd_call *c)
{
    return domain_stop(c, keel_domain_shutdown);
}

static int
m_domain_reboot(struct kd_call *c)
{
    return domain_stop(c, keel_domain_reboot);
}

static int
m_domain_rename(struct kd_call *c)
{
    static const char *const names[] = {"domain", "name", NULL};
    const char *name;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_str(c, "name", true, &name, NULL)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = keel_domain_rename(c->kd->host, domid, name)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

/* domain.set_memory and domain.set_max_memory: libkeel checks the range
 * against the domain and the host. */
static int
domain_memory(struct kd_call *c,
              int (*op)(struct keel_host *, uint32_t, uint64_t))
{
    static const char *const names[] = {"domain", "memory_kb", NULL};
    int64_t kb;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_i64(c, "memory_kb", true, 0, INT64_MAX, &kb, NULL)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = op(c->kd->host, domid, (uint64_t)kb)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_domain_set_memory(struct kd_call *c)
{
    return domain_memory(c, keel_domain_mem_set);
}

static int
m_domain_set_max_memory(struct kd_call *c)
{
    return domain_memory(c, keel_domain_mem_max);
}

static int
m_domain_set_vcpus(struct kd_call *c)
{
    static const char *const names[] = {"domain", "vcpus", NULL};
    int64_t vcpus;
    uint32_t domid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_i64(c, "vcpus", true, 1, UINT32_MAX, &vcpus, NULL)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = keel_domain_vcpu_set(c->kd->host, domid, (uint32_t)vcpus)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

/* "vcpu": a number, or "all" for every vCPU. */
static int
param_vcpu(struct kd_call *c, uint32_t *vcpu_r)
{
    yajl_val v = kd_param(c, "vcpu");
    int64_t n;
    int rc;

    if (YAJL_IS_STRING(v) && !strcmp(v->u.string, "all")) {
        *vcpu_r = KEEL_VCPU_ALL;
        return 0;
    }
    if (YAJL_IS_STRING(v))
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpu' must be a number or \"all\"");
    if ((rc = kd_param_i64(c, "vcpu", true, 0, KEEL_VCPU_ALL - 1, &n, NULL)))
        return rc;
    *vcpu_r = (uint32_t)n;
    return 0;
}

static int
m_domain_pin_vcpu(struct kd_call *c)
{
    static const char *const names[] = {"domain", "vcpu", "hard", "soft", NULL};
    struct keel_cpumap hard, soft;
    bool has_hard, has_soft;
    uint32_t domid, vcpu;
    int rc;

    if ((rc = kd_params_only(c, names)) || (rc = param_vcpu(c, &vcpu)) ||
        (rc = kd_param_cpus(c, "hard", false, &hard, &has_hard)) ||
        (rc = kd_param_cpus(c, "soft", false, &soft, &has_soft)))
        return rc;
    if (!has_hard && !has_soft)
        return kd_fail(c, KD_EPARAMS, "give member 'hard', 'soft' or both");
    if ((rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    rc = keel_domain_vcpu_pin(c->kd->host, domid, vcpu, has_hard ? &hard : NULL,
                              has_soft ? &soft : NULL);
    if (rc)
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

/* Read methods (R in the doc) have no KD_M_WRITE. KD_M_NOKEY: the method
 * names no domain or pool, so nothing orders it. */
const struct kd_method kd_methods_host[] = {
    {"version", m_version, KD_M_NOKEY},
    {"host.info", m_host_info, KD_M_NOKEY},
    {"domain.list", m_domain_list, KD_M_NOKEY},
    {"domain.info", m_domain_info, 0},
    {"domain.vcpu_list", m_domain_vcpu_list, 0},
    {"domain.get_config", m_domain_get_config, 0},
    {"domain.create", m_domain_create, KD_M_WRITE},
    {"domain.destroy", m_domain_destroy, KD_M_WRITE},
    {"domain.shutdown", m_domain_shutdown, KD_M_WRITE},
    {"domain.reboot", m_domain_reboot, KD_M_WRITE},
    {"domain.pause", m_domain_pause, KD_M_WRITE},
    {"domain.unpause", m_domain_unpause, KD_M_WRITE},
    {"domain.rename", m_domain_rename, KD_M_WRITE},
    {"domain.set_memory", m_domain_set_memory, KD_M_WRITE},
    {"domain.set_max_memory", m_domain_set_max_memory, KD_M_WRITE},
    {"domain.set_vcpus", m_domain_set_vcpus, KD_M_WRITE},
    {"domain.pin_vcpu", m_domain_pin_vcpu, KD_M_WRITE},
    {NULL, NULL, 0},
};
