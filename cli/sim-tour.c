/* sim-tour.c: a walk through what keel has today, on the sim backend
 *
 * Boots a simulated host in a directory, creates a few domains the way a
 * toolstack does (hypervisor call, then names in the store), lists them
 * xl-style, asks one guest to shut down politely and waits for it on the
 * event fd, destroys the rest and shows the host is whole again. Usage:
 * keel-sim-tour [DIR] (default: a new temporary directory, removed after).
 */
#include "config.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/hv.h>
#include <keel/keel.h>
#include <keel/sim.h>

#define MAX_DOMS 64

static void
die(struct keel_hv *hv, struct keel_ctx *ctx, const char *what, int rc)
{
    if (!ctx)
        ctx = keel_hv_ctx(hv);
    fprintf(stderr, "keel-sim-tour: %s: %s: %s\n", what, keel_strerror(rc),
            keel_ctx_last_error(ctx));
    exit(1);
}

static char
state_letter(uint32_t flags, uint32_t want, char letter)
{
    return flags & want ? letter : '-';
}

static void
list_domains(struct keel_hv *hv)
{
    struct keel_hv_dominfo info[MAX_DOMS];
    size_t n, i;
    int rc;

    if ((rc = keel_hv_domain_list(hv, 0, info, MAX_DOMS, &n)))
        die(hv, NULL, "listing domains", rc);
    printf("%-20s %5s %7s %5s %6s %8s\n", "Name", "ID", "Mem", "VCPUs", "State",
           "Time(s)");
    for (i = 0; i < n; i++) {
        char path[64], *name = NULL;
        uint32_t f = info[i].flags;
        bool crashed = (f & KEEL_DOMF_SHUTDOWN) &&
                       info[i].shutdown_reason == KEEL_SHUTDOWN_CRASH;

        snprintf(path, sizeof(path), "/local/domain/%u/name", info[i].domid);
        if (keel_hv_store_read(hv, path, &name, NULL))
            name = strdup("(unnamed)");
        printf("%-20s %5u %7" PRIu64 " %5u %c%c%c%c%c%c %8.1f\n", name,
               info[i].domid, info[i].tot_kb / 1024, info[i].online_vcpus,
               state_letter(f, KEEL_DOMF_RUNNING, 'r'),
               state_letter(f, KEEL_DOMF_BLOCKED, 'b'),
               state_letter(f, KEEL_DOMF_PAUSED, 'p'),
               crashed ? '-' : state_letter(f, KEEL_DOMF_SHUTDOWN, 's'),
               crashed ? 'c' : '-', state_letter(f, KEEL_DOMF_DYING, 'd'),
               (double)info[i].cpu_time_ns / 1e9);
        free(name);
    }
}

static uint32_t
create(struct keel_hv *hv, const char *name, enum keel_domain_type type,
       uint32_t vcpus, uint64_t mem_mb)
{
    struct keel_hv_domain_spec spec = {0};
    char path[64];
    uint32_t domid;
    int rc;

    spec.type = type;
    keel_uuid_generate(spec.uuid);
    spec.max_vcpus = spec.online_vcpus = vcpus;
    spec.max_kb = spec.mem_kb = mem_mb * 1024;
    spec.domid = KEEL_DOMID_INVALID;
    if ((rc = keel_hv_domain_create(hv, &spec, &domid)))
        die(hv, NULL, "creating a domain", rc);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if ((rc = keel_hv_store_write_str(hv, path, name)) ||
        (rc = keel_hv_domain_unpause(hv, domid)))
        die(hv, NULL, "naming and starting a domain", rc);
    printf("created %s (%s, %u vCPUs, %" PRIu64 " MiB) as domain %u\n", name,
           keel_domain_type_name(type), vcpus, mem_mb, domid);
    return domid;
}

/* Waits on the event fd until domid has shut down, as keeld will. */
static void
wait_shutdown(struct keel_hv *hv, uint32_t domid)
{
    struct pollfd pfd = {.fd = keel_hv_event_fd(hv), .events = POLLIN};
    struct keel_hv_event evs[16];
    size_t n, i;
    int rc;

    for (;;) {
        if (poll(&pfd, 1, 5000) <= 0)
            die(hv, NULL, "waiting for the guest", KEEL_ETIMEDOUT);
        if ((rc = keel_hv_event_read(hv, evs, 16, &n)))
            die(hv, NULL, "reading events", rc);
        for (i = 0; i < n; i++) {
            bool done =
                evs[i].kind == KEEL_HV_EVENT_DOMAIN && evs[i].domid == domid;

            if (evs[i].kind == KEEL_HV_EVENT_DOMAIN)
                printf("event: domain %u changed state\n", evs[i].domid);
            keel_hv_events_dispose(&evs[i], 1);
            if (done) {
                keel_hv_events_dispose(evs + i + 1, n - i - 1);
                return;
            }
        }
    }
}

static void
show_host(struct keel_hv *hv, const char *when)
{
    struct keel_hv_physinfo pi;
    int rc;

    if ((rc = keel_hv_physinfo(hv, &pi)))
        die(hv, NULL, "reading host info", rc);
    printf("host %s: %u CPUs in %u sockets, %u NUMA nodes, %" PRIu64
           " MiB, %" PRIu64 " MiB free (Xen %u.%u%s, sim)\n",
           when, pi.nr_cpus, pi.nr_sockets, pi.nr_nodes, pi.total_kb / 1024,
           pi.free_kb / 1024, pi.xen_major, pi.xen_minor, pi.xen_extra);
}

static void
tour(struct keel_hv *hv)
{
    struct keel_sim_guest guest;
    uint32_t web, db, batch;
    char digest[33], path[64];
    int rc;

    show_host(hv, "at boot");
    web = create(hv, "web", KEEL_DOMAIN_PVH, 2, 512);
    db = create(hv, "db", KEEL_DOMAIN_HVM, 4, 2048);
    batch = create(hv, "batch", KEEL_DOMAIN_PV, 1, 256);
    if ((rc = keel_sim_guest_get(hv, db, &guest)))
        die(hv, NULL, "reading a guest", rc);
    guest.dirty_rate = 20000;
    if ((rc = keel_sim_guest_set(hv, db, &guest)))
        die(hv, NULL, "making a guest busy", rc);
    usleep(200000);
    printf("\n");
    list_domains(hv);
    if ((rc = keel_sim_memory_digest(hv, db, digest)))
        die(hv, NULL, "digesting memory", rc);
    printf("\ndb's memory digest after 0.2 s of dirtying: %s\n", digest);
    printf("asking batch to power off (control/shutdown = poweroff)\n");
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", batch);
    if ((rc = keel_hv_store_write_str(hv, path, "poweroff")))
        die(hv, NULL, "requesting shutdown", rc);
    wait_shutdown(hv, batch);
    printf("\n");
    list_domains(hv);
    printf("\ndestroying every domain but Domain-0\n");
    if ((rc = keel_hv_domain_destroy(hv, web)) ||
        (rc = keel_hv_domain_destroy(hv, db)) ||
        (rc = keel_hv_domain_destroy(hv, batch)))
        die(hv, NULL, "destroying", rc);
    usleep(1000);
    list_domains(hv);
    show_host(hv, "after the tour");
}

int
main(int argc, char **argv)
{
    struct keel_hv_open_args args = {0};
    char tmpl[] = "/tmp/keel-tour-XXXXXX";
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        return 1;
    args.dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    if (!args.dir) {
        perror("mkdtemp");
        return 1;
    }
    printf("keel %s: a tour of the sim backend in %s\n\n", keel_version(),
           args.dir);
    if ((rc = keel_hv_open(ctx, "sim", &args, &hv)))
        die(NULL, ctx, "opening the sim", rc);
    tour(hv);
    keel_hv_close(hv);
    if (argc <= 1) {
        char cmd[64];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
            fprintf(stderr, "keel-sim-tour: could not remove %s\n", tmpl);
    }
    keel_ctx_free(ctx);
    return 0;
}
