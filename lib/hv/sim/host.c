/* host.c: the simulated host's physical info, CPU topology and NUMA nodes
 *
 * CPUs are numbered socket by socket, core by core, thread by thread, and
 * nodes split the CPUs (and memory) into equal consecutive ranges, which
 * is how a typical two-socket server enumerates.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sim.h"

static void
cpu_topo(const struct keel_sim_spec *spec, uint32_t cpu,
         struct keel_hv_cputopo *t)
{
    uint32_t per_socket = spec->cpus / spec->sockets;

    t->socket = cpu / per_socket;
    t->core = (cpu % per_socket) / spec->threads;
    t->node = cpu / (spec->cpus / spec->nodes);
}

int
sim_op_physinfo(struct keel_hv *hv, struct keel_hv_physinfo *info)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc)
        return rc;
    memset(info, 0, sizeof(*info));
    info->nr_cpus = s->spec.cpus;
    info->threads_per_core = s->spec.threads;
    info->cores_per_socket = s->spec.cpus / s->spec.sockets / s->spec.threads;
    info->nr_sockets = s->spec.sockets;
    info->nr_nodes = s->spec.nodes;
    info->cpu_khz = s->spec.cpu_khz;
    info->total_kb = s->spec.memory_kb;
    info->free_kb = sim_free_kb(s);
    info->xen_major = 4;
    info->xen_minor = 17;
    snprintf(info->xen_extra, sizeof(info->xen_extra), ".0-sim");
    snprintf(info->capabilities, sizeof(info->capabilities),
             "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
    return sim_end(s, 0);
}

int
sim_op_cputopo(struct keel_hv *hv, struct keel_hv_cputopo *topo, size_t max,
               size_t *n_r)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);
    uint32_t cpu;

    if (rc)
        return rc;
    for (cpu = 0; topo && cpu < s->spec.cpus && cpu < max; cpu++)
        cpu_topo(&s->spec, cpu, &topo[cpu]);
    *n_r = s->spec.cpus;
    return sim_end(s, 0);
}

/* Memory a node has free: its share of the host, less what domains hold,
 * charged to the node of the first CPU of their pool (the sim does not
 * model per-node allocation beyond that). Pools keep their domains'
 * total, so this adds up pools, not domains. */
static uint64_t
node_free_kb(struct sim *s, uint32_t node, uint64_t size_kb)
{
    struct keel_hv_cputopo t;
    uint64_t used = 0;
    size_t i;

    for (i = 0; i < s->n_pools; i++) {
        int cpu = keel_cpumap_next(&s->pools[i].cpus, 0);

        cpu_topo(&s->spec, cpu < 0 ? 0 : (uint32_t)cpu, &t);
        if (t.node == node)
            used += s->pools[i].used_kb;
    }
    return used >= size_kb ? 0 : size_kb - used;
}

int
sim_op_numainfo(struct keel_hv *hv, struct keel_hv_numainfo *nodes, size_t max,
                size_t *n_r)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);
    uint32_t node;

    if (rc)
        return rc;
    for (node = 0; nodes && node < s->spec.nodes && node < max; node++) {
        nodes[node].size_kb = s->spec.memory_kb / s->spec.nodes;
        nodes[node].free_kb = node_free_kb(s, node, nodes[node].size_kb);
    }
    *n_r = s->spec.nodes;
    return sim_end(s, 0);
}
