/* state.c: DIR/state.json, the simulated host's pools and domains
 *
 * The snapshot the journal (journal.c) starts from: written whole, to
 * state.json.tmp and renamed into place, when the journal is compacted.
 * A pool or domain record here is also what a journal batch carries for
 * a changed pool list or domain, so the writers and readers of records
 * serve both. No fsync: the sim guards against its process dying, not
 * the machine losing power.
 *
 * Version 2 added "journal_generation", the generation of the journal
 * that belongs to this snapshot (0: none). A version 1 file, which keel
 * wrote before there was a journal, holds the whole state and is read as
 * generation 0. A keel that knows only version 1 refuses version 2, which
 * it would misread: it would lose what the journal holds.
 *
 * Checklist when changing the format: write_*, read_*, the version
 * (SIM_STATE_VERSION) when an old reader would misread it, the journal
 * format in journal.c (it embeds these records), the seeds in
 * tests/data/fuzz/sim-state/ and sim-journal/,
 * tests/unit/test-sim-persist.c.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "sim.h"

/* --- writing --- */

static void
put_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void
put_key_int(yajl_gen g, const char *key, long long v)
{
    put_str(g, key);
    yajl_gen_integer(g, v);
}

static void
put_key_str(yajl_gen g, const char *key, const char *v)
{
    put_str(g, key);
    put_str(g, v);
}

static void
put_key_bool(yajl_gen g, const char *key, bool v)
{
    put_str(g, key);
    yajl_gen_bool(g, v);
}

static void
put_key_cpumap(yajl_gen g, const char *key, const struct keel_cpumap *map)
{
    char buf[KEEL_MAX_CPUS * 6];

    keel_cpumap_format(map, buf, sizeof(buf));
    put_key_str(g, key, buf);
}

static void
write_spec(yajl_gen g, const struct keel_sim_spec *sp)
{
    put_str(g, "spec");
    yajl_gen_map_open(g);
    put_key_int(g, "cpus", sp->cpus);
    put_key_int(g, "sockets", sp->sockets);
    put_key_int(g, "nodes", sp->nodes);
    put_key_int(g, "threads", sp->threads);
    put_key_int(g, "memory_kb", (long long)sp->memory_kb);
    put_key_int(g, "dom0_mem_kb", (long long)sp->dom0_mem_kb);
    put_key_int(g, "dom0_vcpus", sp->dom0_vcpus);
    put_key_int(g, "cpu_khz", sp->cpu_khz);
    yajl_gen_map_close(g);
}

static void
write_pool(yajl_gen g, const struct sim_pool *p)
{
    yajl_gen_map_open(g);
    put_key_int(g, "poolid", p->poolid);
    put_key_str(g, "sched", keel_scheduler_name(p->params.sched));
    put_key_cpumap(g, "cpus", &p->cpus);
    put_key_int(g, "tslice_ms", p->params.tslice_ms);
    put_key_int(g, "ratelimit_us", p->params.ratelimit_us);
    yajl_gen_map_close(g);
}

static void
write_vcpu(yajl_gen g, const struct sim_vcpu *v)
{
    yajl_gen_map_open(g);
    put_key_bool(g, "online", v->online);
    put_key_int(g, "cpu_time_ns", (long long)v->cpu_time_ns);
    put_key_cpumap(g, "hard", &v->hard);
    put_key_cpumap(g, "soft", &v->soft);
    put_key_int(g, "period_us", v->rtds.period_us);
    put_key_int(g, "budget_us", v->rtds.budget_us);
    put_key_bool(g, "extratime", v->rtds.extratime);
    yajl_gen_map_close(g);
}

static void
write_guest(yajl_gen g, const struct keel_sim_guest *gu)
{
    put_str(g, "guest");
    yajl_gen_map_open(g);
    put_key_int(g, "shutdown_delay_ms", gu->shutdown_delay_ms);
    put_key_bool(g, "ignore_shutdown", gu->ignore_shutdown);
    put_key_bool(g, "busy", gu->busy);
    put_key_int(g, "dirty_rate", (long long)gu->dirty_rate);
    put_key_int(g, "ws_start", (long long)gu->ws_start);
    put_key_int(g, "ws_pages", (long long)gu->ws_pages);
    yajl_gen_map_close(g);
}

static void
write_domain(yajl_gen g, const struct sim_domain *d)
{
    char uuid[37];
    uint32_t i;

    keel_uuid_format(d->uuid, uuid);
    yajl_gen_map_open(g);
    put_key_int(g, "domid", d->domid);
    put_key_str(g, "uuid", uuid);
    put_key_str(g, "type", keel_domain_type_name(d->type));
    put_key_int(g, "pause_count", d->pause_count);
    put_key_bool(g, "shutdown", d->shutdown);
    put_key_int(g, "shutdown_reason", d->shutdown_reason);
    put_key_bool(g, "dying", d->dying);
    put_key_int(g, "tot_kb", (long long)d->tot_kb);
    put_key_int(g, "max_kb", (long long)d->max_kb);
    put_key_int(g, "poolid", d->poolid);
    put_key_int(g, "weight", d->sched.weight);
    put_key_int(g, "cap", d->sched.cap);
    put_key_bool(g, "logdirty", d->logdirty);
    /* 0: no delayed guest action; else its shutdown reason + 1 */
    put_key_int(g, "pending", d->pending_action + 1);
    put_key_bool(g, "request_waiting", d->request_waiting);
    put_key_int(g, "pending_at_ns", (long long)d->pending_at_ns);
    put_key_int(g, "dirty_seq", (long long)d->dirty_seq);
    write_guest(g, &d->guest);
    put_str(g, "vcpus");
    yajl_gen_array_open(g);
    for (i = 0; i < d->max_vcpus; i++)
        write_vcpu(g, &d->vcpus[i]);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

void
sim_state_gen_pools(yajl_gen g, const struct sim *s)
{
    size_t i;

    yajl_gen_array_open(g);
    for (i = 0; i < s->n_pools; i++)
        write_pool(g, &s->pools[i]);
    yajl_gen_array_close(g);
}

void
sim_state_gen_domain(yajl_gen g, const struct sim_domain *d)
{
    write_domain(g, d);
}

static void
write_state(yajl_gen g, struct sim *s)
{
    size_t i;

    yajl_gen_map_open(g);
    put_key_str(g, "format", SIM_STATE_FORMAT);
    put_key_int(g, "version", SIM_STATE_VERSION);
    write_spec(g, &s->spec);
    put_key_bool(g, "manual_clock", s->manual_clock);
    put_key_int(g, "clock_ns", (long long)s->last_ns);
    put_key_int(g, "next_domid", s->next_domid);
    put_key_int(g, "journal_generation", (long long)s->journal.generation);
    put_str(g, "pools");
    sim_state_gen_pools(g, s);
    put_str(g, "domains");
    yajl_gen_array_open(g);
    for (i = 0; i < s->n_doms; i++)
        write_domain(g, s->doms[i]);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static int
write_file(struct sim *s, const char *file, const unsigned char *buf,
           size_t len)
{
    char *tmp = keel__sprintf(s->ctx, "%s.tmp", file);
    FILE *f;
    int rc = 0;

    if (!tmp)
        return KEEL_ENOMEM;
    f = fopen(tmp, "we");
    if (!f || fwrite(buf, 1, len, f) != len) {
        rc = keel_error_errno(s->ctx, 0, "writing %s", tmp);
        if (f)
            fclose(f);
    } else if (fclose(f) || rename(tmp, file)) {
        rc = keel_error_errno(s->ctx, 0, "writing %s", file);
    }
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Every domain is settled at the clock, which is what its record means. */
int
sim_state_save(struct sim *s)
{
    const unsigned char *buf;
    char *file = sim_path(s, "state.json");
    yajl_gen g = yajl_gen_alloc(NULL);
    size_t len, i;
    int rc;

    for (i = 0; i < s->n_doms; i++)
        sim_domain_settle(s->doms[i], s->last_ns);
    if (!file || !g) {
        rc = keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
        goto out;
    }
    yajl_gen_config(g, yajl_gen_beautify, 1);
    write_state(g, s);
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        rc = keel_error(s->ctx, KEEL_EIO, "formatting %s", file);
        goto out;
    }
    rc = write_file(s, file, buf, len);
out:
    if (g)
        yajl_gen_free(g);
    free(file);
    return rc;
}

/* --- reading --- */

/* A reader remembers the file and the first fault. */
struct reader {
    struct sim *s;
    const char *file;
    int rc;
};

static void
fault(struct reader *r, const char *what, const char *key)
{
    if (r->rc == 0)
        r->rc = keel_error(r->s->ctx, KEEL_ECORRUPT, "%s: %s%s%s", r->file,
                           what, key ? " " : "", key ? key : "");
}

static yajl_val
field(struct reader *r, yajl_val obj, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};
    yajl_val v = obj ? yajl_tree_get(obj, path, type) : NULL;

    if (!v)
        fault(r, "missing or mistyped field", key);
    return v;
}

static uint64_t
get_uint(struct reader *r, yajl_val obj, const char *key, uint64_t max)
{
    yajl_val v = field(r, obj, key, yajl_t_number);

    if (!v)
        return 0;
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
        (uint64_t)YAJL_GET_INTEGER(v) > max) {
        fault(r, "value out of range:", key);
        return 0;
    }
    return (uint64_t)YAJL_GET_INTEGER(v);
}

static bool
get_bool(struct reader *r, yajl_val obj, const char *key)
{
    yajl_val v = field(r, obj, key, yajl_t_any);

    if (v && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        fault(r, "not a boolean:", key);
    return v && YAJL_IS_TRUE(v);
}

static const char *
get_str(struct reader *r, yajl_val obj, const char *key)
{
    yajl_val v = field(r, obj, key, yajl_t_string);

    return v ? YAJL_GET_STRING(v) : "";
}

static void
get_cpumap(struct reader *r, yajl_val obj, const char *key,
           struct keel_cpumap *map)
{
    struct keel_cpumap host;

    keel_cpumap_fill(&host, r->s->spec.cpus);
    if (keel_cpumap_parse(map, get_str(r, obj, key), NULL) ||
        !keel_cpumap_subset(map, &host))
        fault(r, "bad CPU list:", key);
}

static void
read_spec(struct reader *r, yajl_val root)
{
    yajl_val o = field(r, root, "spec", yajl_t_object);
    struct keel_sim_spec *sp = &r->s->spec;

    sp->cpus = (uint32_t)get_uint(r, o, "cpus", KEEL_MAX_CPUS);
    sp->sockets = (uint32_t)get_uint(r, o, "sockets", KEEL_MAX_CPUS);
    sp->nodes = (uint32_t)get_uint(r, o, "nodes", KEEL_MAX_CPUS);
    sp->threads = (uint32_t)get_uint(r, o, "threads", KEEL_MAX_CPUS);
    sp->memory_kb = get_uint(r, o, "memory_kb", UINT64_C(1) << 40);
    sp->dom0_mem_kb = get_uint(r, o, "dom0_mem_kb", UINT64_C(1) << 40);
    sp->dom0_vcpus = (uint32_t)get_uint(r, o, "dom0_vcpus", SIM_MAX_VCPUS);
    sp->cpu_khz = (uint32_t)get_uint(r, o, "cpu_khz", UINT32_MAX);
    if (r->rc == 0 && sim_spec_check(r->s->ctx, sp)) {
        /* say which file: replace the spec check's message */
        char why[256];

        snprintf(why, sizeof(why), "%s", keel_ctx_last_error(r->s->ctx));
        keel_ctx_clear_error(r->s->ctx);
        fault(r, why, NULL);
    }
}

static void
read_pool(struct reader *r, yajl_val o, struct keel_cpumap *taken)
{
    struct sim_pool p;
    int sched = keel_scheduler_parse(get_str(r, o, "sched"));

    memset(&p, 0, sizeof(p));
    p.poolid = (uint32_t)get_uint(r, o, "poolid", UINT32_MAX - 1);
    get_cpumap(r, o, "cpus", &p.cpus);
    p.params.sched = sched < 0 ? KEEL_SCHED_UNKNOWN : sched;
    p.params.tslice_ms = (uint32_t)get_uint(r, o, "tslice_ms", 1000);
    p.params.ratelimit_us = (uint32_t)get_uint(r, o, "ratelimit_us", 500000);
    if (sched < 0)
        fault(r, "unknown scheduler in pool", NULL);
    if (keel_cpumap_intersects(&p.cpus, taken))
        fault(r, "a CPU is in two pools", NULL);
    keel_cpumap_or(taken, taken, &p.cpus);
    if (r->rc == 0 && sim_pool_find(r->s, p.poolid))
        fault(r, "duplicate pool", NULL);
    if (r->rc == 0)
        r->rc = sim_pool_insert(r->s, &p);
}

static void
read_vcpu(struct reader *r, yajl_val o, uint32_t i, struct sim_vcpu *v)
{
    if (!YAJL_IS_OBJECT(o)) {
        fault(r, "vCPU is not an object", NULL);
        return;
    }
    v->online = get_bool(r, o, "online");
    v->cpu_time_ns = get_uint(r, o, "cpu_time_ns", INT64_MAX);
    get_cpumap(r, o, "hard", &v->hard);
    get_cpumap(r, o, "soft", &v->soft);
    v->rtds.vcpu = i;
    v->rtds.period_us = (uint32_t)get_uint(r, o, "period_us", UINT32_MAX);
    v->rtds.budget_us = (uint32_t)get_uint(r, o, "budget_us", UINT32_MAX);
    v->rtds.extratime = get_bool(r, o, "extratime");
}

static void
read_guest(struct reader *r, yajl_val dom, struct keel_sim_guest *gu)
{
    yajl_val o = field(r, dom, "guest", yajl_t_object);

    gu->shutdown_delay_ms =
        (uint32_t)get_uint(r, o, "shutdown_delay_ms", 3600000);
    gu->ignore_shutdown = get_bool(r, o, "ignore_shutdown");
    gu->busy = get_bool(r, o, "busy");
    gu->dirty_rate = get_uint(r, o, "dirty_rate", INT64_MAX);
    gu->ws_start = get_uint(r, o, "ws_start", INT64_MAX);
    gu->ws_pages = get_uint(r, o, "ws_pages", INT64_MAX);
}

/* The fields of a domain other than its vCPUs and guest. */
static void
read_domain_fields(struct reader *r, yajl_val o, struct sim_domain *d)
{
    int type = keel_domain_type_parse(get_str(r, o, "type"));
    struct sim_pool *p;

    d->domid = (uint32_t)get_uint(r, o, "domid", KEEL_DOMID_FIRST_RESERVED - 1);
    if (keel_uuid_parse(get_str(r, o, "uuid"), d->uuid))
        fault(r, "bad uuid in domain", NULL);
    if (type < 0)
        fault(r, "unknown domain type", NULL);
    d->type = type < 0 ? KEEL_DOMAIN_PV : type;
    d->pause_count = (uint32_t)get_uint(r, o, "pause_count", UINT32_MAX);
    d->shutdown = get_bool(r, o, "shutdown");
    d->shutdown_reason =
        (uint32_t)get_uint(r, o, "shutdown_reason", KEEL_SHUTDOWN_SOFT_RESET);
    d->dying = get_bool(r, o, "dying");
    d->tot_kb = get_uint(r, o, "tot_kb", r->s->spec.memory_kb);
    d->max_kb = get_uint(r, o, "max_kb", r->s->spec.memory_kb);
    d->poolid = (uint32_t)get_uint(r, o, "poolid", UINT32_MAX - 1);
    d->sched.weight = (uint32_t)get_uint(r, o, "weight", 65535);
    d->sched.cap = (uint32_t)get_uint(r, o, "cap", UINT32_MAX);
    d->logdirty = get_bool(r, o, "logdirty");
    d->pending_action =
        (int)get_uint(r, o, "pending", KEEL_SHUTDOWN_SOFT_RESET + 1) - 1;
    d->pending_at_ns = get_uint(r, o, "pending_at_ns", INT64_MAX);
    d->request_waiting = get_bool(r, o, "request_waiting");
    d->dirty_seq = get_uint(r, o, "dirty_seq", INT64_MAX);
    d->rng = d->domid * UINT64_C(0x9E3779B97F4A7C15) ^ d->dirty_seq;
    d->settled_ns = r->s->last_ns; /* a record is as of its clock */
    p = sim_pool_find(r->s, d->poolid);
    if (!p)
        fault(r, "domain in a pool that does not exist", NULL);
    d->sched.sched = p ? p->params.sched : KEEL_SCHED_UNKNOWN;
    if (d->tot_kb % 4 || d->max_kb % 4 || (!d->dying && d->tot_kb < 4))
        fault(r, "domain memory is not in pages", NULL);
}

/* A domain record, into a new struct not yet in r->s. */
static struct sim_domain *
parse_domain(struct reader *r, yajl_val o)
{
    yajl_val vcpus = field(r, o, "vcpus", yajl_t_array);
    struct sim_domain *d;
    size_t i, n = vcpus ? YAJL_GET_ARRAY(vcpus)->len : 0;

    if (r->rc)
        return NULL;
    if (n < 1 || n > SIM_MAX_VCPUS) {
        fault(r, "a domain needs 1..512 vCPUs", NULL);
        return NULL;
    }
    d = sim_domain_alloc((uint32_t)n);
    if (!d) {
        r->rc = keel_error(r->s->ctx, KEEL_ENOMEM, "out of memory");
        return NULL;
    }
    read_domain_fields(r, o, d);
    read_guest(r, o, &d->guest);
    for (i = 0; i < n && r->rc == 0; i++)
        read_vcpu(r, YAJL_GET_ARRAY(vcpus)->values[i], (uint32_t)i,
                  &d->vcpus[i]);
    if (r->rc == 0)
        return d;
    sim_domain_free(d);
    return NULL;
}

static void
read_domain(struct reader *r, yajl_val o)
{
    struct sim_domain *d = parse_domain(r, o);

    if (!d)
        return;
    if (sim_domain_find(r->s, d->domid))
        fault(r, "duplicate domid", NULL);
    if (r->rc == 0)
        r->rc = sim_domain_insert(r->s, d);
    if (r->rc)
        sim_domain_free(d);
}

/* Each object of the array a (the value of key) through one(). */
static void
read_entries(struct reader *r, yajl_val a, const char *key,
             void (*one)(struct reader *, yajl_val, void *), void *arg)
{
    size_t i;

    if (a && !YAJL_IS_ARRAY(a)) {
        fault(r, "missing or mistyped field", key);
        return;
    }
    for (i = 0; a && i < YAJL_GET_ARRAY(a)->len && r->rc == 0; i++) {
        yajl_val v = YAJL_GET_ARRAY(a)->values[i];

        if (!YAJL_IS_OBJECT(v))
            fault(r, "array entry is not an object:", key);
        else
            one(r, v, arg);
    }
}

static void
read_array(struct reader *r, yajl_val root, const char *key,
           void (*one)(struct reader *, yajl_val, void *), void *arg)
{
    read_entries(r, field(r, root, key, yajl_t_array), key, one, arg);
}

static void
one_pool(struct reader *r, yajl_val v, void *taken)
{
    read_pool(r, v, taken);
}

static void
one_domain(struct reader *r, yajl_val v, void *unused)
{
    read_domain(r, v);
}

/* The pools array a (of state.json or of a journal batch) into r->s. */
static void
read_pools(struct reader *r, yajl_val a)
{
    struct keel_cpumap taken;

    keel_cpumap_zero(&taken);
    read_entries(r, a, "pools", one_pool, &taken);
    if (r->rc == 0 && !sim_pool_find(r->s, 0))
        fault(r, "Pool-0 is missing", NULL);
}

static void
read_root(struct reader *r, yajl_val root)
{
    uint64_t version;

    if (!YAJL_IS_OBJECT(root)) {
        fault(r, "not a JSON object", NULL);
        return;
    }
    if (strcmp(get_str(r, root, "format"), SIM_STATE_FORMAT)) {
        r->rc = keel_error(r->s->ctx, KEEL_EFOREIGN,
                           "%s is not a keel sim state file", r->file);
        return;
    }
    version = get_uint(r, root, "version", UINT32_MAX);
    if (r->rc == 0 && (version < 1 || version > SIM_STATE_VERSION)) {
        r->rc = keel_error(r->s->ctx, KEEL_ECORRUPT,
                           "%s: version %" PRIu64 ", but this keel reads "
                           "versions 1 to %d",
                           r->file, version, SIM_STATE_VERSION);
        return;
    }
    read_spec(r, root);
    get_bool(r, root, "manual_clock");
    r->s->last_ns = get_uint(r, root, "clock_ns", INT64_MAX);
    r->s->next_domid =
        (uint32_t)get_uint(r, root, "next_domid", KEEL_DOMID_FIRST_RESERVED);
    r->s->journal.generation =
        version < 2 ? 0 : get_uint(r, root, "journal_generation", INT64_MAX);
    read_pools(r, field(r, root, "pools", yajl_t_array));
    read_array(r, root, "domains", one_domain, NULL);
    if (r->rc == 0 && !sim_domain_find(r->s, 0))
        fault(r, "Domain-0 is missing", NULL);
}

/* Parses text (NUL-terminated) as state.json into s, which must be empty.
 * Exposed to the fuzz target through sim_state_parse. */
int
sim_state_parse(struct sim *s, const char *file, const char *text)
{
    struct reader r = {s, file, 0};
    yajl_val root;
    int rc;

    /* state.json nests five deep: root, domains, a domain, vcpus, a vCPU */
    rc = keel__json_parse(s->ctx, file, text, strlen(text), 8, &root);
    if (rc)
        return rc;
    read_root(&r, root);
    yajl_tree_free(root);
    return r.rc;
}

static char *
slurp(struct sim *s, const char *file)
{
    FILE *f = fopen(file, "re");
    char *buf = NULL;
    long len;

    if (!f) {
        keel_error_errno(s->ctx, KEEL_ECORRUPT, "opening %s", file);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)len + 1)) ||
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        keel_error_errno(s->ctx, KEEL_ECORRUPT, "reading %s", file);
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

int
sim_state_load(struct sim *s)
{
    char *file = sim_path(s, "state.json");
    char *text = file ? slurp(s, file) : NULL;
    int rc;

    if (!text) {
        free(file);
        return file ? KEEL_ECORRUPT : KEEL_ENOMEM;
    }
    rc = sim_state_parse(s, file, text);
    free(text);
    free(file);
    return rc;
}

/* --- records for the journal --- */

int
sim_state_read_pools(struct sim *s, const char *where, yajl_val v)
{
    struct reader r = {s, where, 0};

    free(s->pools);
    s->pools = NULL;
    s->n_pools = 0;
    read_pools(&r, v);
    return r.rc;
}

int
sim_state_read_domain(struct sim *s, const char *where, yajl_val v,
                      struct sim_domain **d_r)
{
    struct reader r = {s, where, 0};

    if (!YAJL_IS_OBJECT(v))
        fault(&r, "a domain record is not an object", NULL);
    *d_r = r.rc ? NULL : parse_domain(&r, v);
    return r.rc;
}
