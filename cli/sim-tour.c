/* sim-tour.c: a walk through what keel has today, on the sim backend
 *
 * Boots a simulated host in a directory and drives it through libkeel's
 * host API: creates domains from xl.cfg text, lists them xl-style, makes
 * a CPU pool and moves a domain into it, lets a guest crash and watches
 * its on_crash action restart it, asks another to shut down politely and
 * waits, saves a domain to a file (an xl save file, checked with the
 * stream verifier) and restores it, live-migrates a domain whose guest
 * keeps dirtying memory to a second simulated host, destroys the rest
 * and shows the host is whole again. Usage: keel-sim-tour [DIR]
 * (default: a new temporary directory, removed after); libkeel keeps its
 * domain records in DIR.state, the second host lives in DIR.b and
 * DIR.b.state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <keel/cpupool.h>
#include <keel/domain.h>
#include <keel/host.h>
#include <keel/migrate.h>
#include <keel/sim.h>
#include <keel/stream.h>

static struct keel_ctx *ctx;

static void
die(const char *what, int rc)
{
    fprintf(stderr, "keel-sim-tour: %s: %s: %s\n", what, keel_strerror(rc),
            keel_ctx_last_error(ctx));
    exit(1);
}

static void
check(int rc, const char *what)
{
    if (rc)
        die(what, rc);
}

static char
letter(uint32_t flags, uint32_t want, char c)
{
    return flags & want ? c : '-';
}

static void
list_domains(struct keel_host *host)
{
    struct keel_domain_info *info;
    size_t n, i;

    check(keel_domain_list(host, &info, &n), "listing domains");
    printf("%-20s %5s %7s %5s %6s %8s  %s\n", "Name", "ID", "Mem", "VCPUs",
           "State", "Time(s)", "Pool");
    for (i = 0; i < n; i++) {
        uint32_t f = info[i].hv_flags;
        bool crashed =
            (f & KEEL_DOMF_SHUTDOWN) && info[i].reason == KEEL_SHUTDOWN_CRASH;

        printf("%-20s %5u %7" PRIu64 " %5u %c%c%c%c%c%c %8.1f  %s\n",
               info[i].name, info[i].domid, info[i].mem_kb / 1024,
               info[i].online_vcpus, letter(f, KEEL_DOMF_RUNNING, 'r'),
               letter(f, KEEL_DOMF_BLOCKED, 'b'),
               letter(f, KEEL_DOMF_PAUSED, 'p'),
               crashed ? '-' : letter(f, KEEL_DOMF_SHUTDOWN, 's'),
               crashed ? 'c' : '-', letter(f, KEEL_DOMF_DYING, 'd'),
               (double)info[i].cpu_time_ns / 1e9, info[i].pool);
    }
    free(info);
}

static uint32_t
create(struct keel_host *host, const char *xlcfg)
{
    struct keel_domain_config cfg;
    struct keel_domain_info info;
    uint32_t domid;

    keel_domain_config_init(&cfg);
    check(keel_domain_config_read(ctx, KEEL_CONFIG_XL, "tour.cfg", xlcfg,
                                  strlen(xlcfg), NULL, 0, &cfg),
          "reading a config");
    check(keel_domain_create(host, &cfg, 0, &domid), "creating a domain");
    keel_domain_config_dispose(&cfg);
    check(keel_domain_info(host, domid, &info), "reading a domain");
    printf("created %s (%s, %u vCPUs, %" PRIu64 " MiB) as domain %u\n",
           info.name, keel_domain_type_name(info.type), info.max_vcpus,
           info.mem_kb / 1024, domid);
    return domid;
}

/* Prints the events libkeel queued, waiting up to ms for the first. */
static void
show_events(struct keel_host *host, int ms)
{
    struct keel_domain_event evs[16];
    size_t n, i;

    check(keel_host_wait(host, ms, evs, 16, &n), "waiting for events");
    for (i = 0; i < n; i++) {
        printf("event: %s %s (domain %u)", evs[i].name,
               keel_domain_event_type_name(evs[i].type), evs[i].domid);
        if (evs[i].type == KEEL_DOMAIN_EVENT_SHUTDOWN)
            printf(": %s, action %s", keel_shutdown_reason_name(evs[i].reason),
                   evs[i].action ? keel_action_name(evs[i].action) : "none");
        if (evs[i].type == KEEL_DOMAIN_EVENT_RESTARTED)
            printf(": now domain %u", evs[i].new_domid);
        printf("\n");
    }
}

static void
show_host(struct keel_host *host, const char *when)
{
    struct keel_host_info hi;
    const struct keel_hv_physinfo *pi = &hi.physinfo;

    check(keel_host_info(host, &hi), "reading host info");
    printf("host %s: %u CPUs in %u sockets, %u NUMA nodes, %" PRIu64
           " MiB, %" PRIu64 " MiB free (Xen %u.%u%s, sim)\n",
           when, pi->nr_cpus, pi->nr_sockets, pi->nr_nodes, pi->total_kb / 1024,
           pi->free_kb / 1024, pi->xen_major, pi->xen_minor, pi->xen_extra);
}

static void
pools(struct keel_host *host, uint32_t db)
{
    struct keel_cpupool_info *p;
    struct keel_cpumap node1;
    uint32_t poolid;
    size_t n, i;
    char cpus[64];

    check(keel_host_resolve_cpus(host, "nodes:1", &node1), "resolving");
    check(keel_cpupool_cpu_remove(host, 0, &node1), "freeing node 1");
    check(keel_cpupool_create(host, "fast", KEEL_SCHED_CREDIT, &node1, 0,
                              &poolid),
          "creating a pool");
    check(keel_cpupool_move_domain(host, db, poolid), "moving db");
    printf("\nmade pool 'fast' (credit) of node 1's CPUs and moved db in\n");
    check(keel_cpupool_list(host, &p, &n), "listing pools");
    printf("%-12s %-8s %5s  %s\n", "Pool", "Sched", "Doms", "CPUs");
    for (i = 0; i < n; i++) {
        keel_cpumap_format(&p[i].cpus, cpus, sizeof(cpus));
        printf("%-12s %-8s %5u  %s\n", p[i].name,
               keel_scheduler_name(p[i].sched), p[i].n_dom, cpus);
    }
    free(p);
}

/* Saves db to DIR.save (which destroys it), verifies the file and
 * restores it; returns the new domid. */
static uint32_t
save_restore(struct keel_hv *hv, struct keel_host *host, uint32_t db,
             const char *dir)
{
    struct keel_stream_summary sum;
    char *file, before[33], after[33];
    uint32_t domid;
    int fd;

    if (asprintf(&file, "%s.save", dir) < 0)
        die("naming the save file", KEEL_ENOMEM);
    fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(file, -errno);
    check(keel_domain_pause(host, db), "pausing db");
    check(keel_sim_memory_digest(hv, db, before), "digesting memory");
    check(keel_domain_save(host, db, fd, NULL), "saving db");
    lseek(fd, 0, SEEK_SET);
    check(keel_stream_verify(ctx, fd, KEEL_STREAM_AUTO, NULL, NULL, &sum),
          "verifying the save file");
    printf("\nsaved db to %s: %" PRIu64 " bytes, %" PRIu64 " records, %" PRIu64
           " pages, an xl save file with a version-%u HVM image\n",
           file, sum.bytes, sum.records, sum.pages, sum.image_version);
    lseek(fd, 0, SEEK_SET);
    check(keel_domain_restore(host, fd, NULL, &domid), "restoring db");
    close(fd);
    unlink(file);
    free(file);
    check(keel_domain_pause(host, domid), "pausing the restored db");
    check(keel_sim_memory_digest(hv, domid, after), "digesting memory");
    check(keel_domain_unpause(host, domid), "unpausing the restored db");
    printf("restored db as domain %u; its memory digest %s the saved one\n",
           domid, strcmp(before, after) == 0 ? "equals" : "DIFFERS FROM");
    return domid;
}

struct receive {
    struct keel_host *host;
    int fd, rc;
    uint32_t domid;
};

static void *
receiver(void *opaque)
{
    struct receive *r = opaque;

    r->rc = keel_domain_migrate_receive(r->host, r->fd, r->fd, NULL, &r->domid);
    return NULL;
}

static int
on_progress(void *opaque, const struct keel_migrate_progress *p)
{
    (void)opaque;
    if (p->phase == KEEL_MIGRATE_PHASE_LIVE)
        printf("  pass %u: sent %" PRIu64 " pages, %" PRIu64
               " dirtied meanwhile\n",
               p->pass.pass, p->pass.pages_sent, p->pass.dirty_pages);
    if (p->phase == KEEL_MIGRATE_PHASE_DONE)
        printf("  paused for %.2f ms; %.1f MiB in %.0f ms\n",
               (double)p->downtime_ns / 1e6, (double)p->bytes_done / (1 << 20),
               (double)p->elapsed_ns / 1e6);
    return 0;
}

/* Live-migrates web, whose guest dirties 20,000 pages a second, to a
 * second host over a socket pair; returns its domid there. */
static uint32_t
migrate(struct keel_hv *hv, struct keel_host *host, struct keel_host *other,
        uint32_t web)
{
    struct keel_migrate_policy policy = {.kind = KEEL_MIGRATE_POLICY_DOWNTIME};
    struct keel_save_opts so = {.policy = &policy, .progress = on_progress};
    struct receive r = {.host = other};
    struct keel_sim_guest g;
    pthread_t t;
    int sv[2], rc;

    check(keel_sim_guest_get(hv, web, &g), "reading web's guest");
    g.busy = true;
    g.dirty_rate = 20000;
    check(keel_sim_guest_set(hv, web, &g), "making web's guest busy");
    printf("\nweb's guest now dirties 20000 pages a second; live-migrating "
           "it to the second host (keel's policy)\n");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        die("socketpair", -errno);
    r.fd = sv[1];
    if (pthread_create(&t, NULL, receiver, &r))
        die("starting the receiver", KEEL_ENOMEM);
    rc = keel_domain_migrate_send(host, web, sv[0], sv[0], &so);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    check(rc, "migrating web");
    check(r.rc, "receiving web");
    printf("web runs on the second host as domain %u\n", r.domid);
    return r.domid;
}

static void
tour(struct keel_hv *hv, struct keel_host *host, struct keel_host *other,
     const char *dir)
{
    struct keel_cpumap free_cpus;
    uint32_t web, db, batch, id;
    char digest[33];

    show_host(host, "at boot");
    web = create(host, "name='web'\ntype='pvh'\nvcpus=2\nmemory=512\n"
                       "on_crash='restart'\n");
    db = create(host, "name='db'\ntype='hvm'\nvcpus=4\nmemory=512\n");
    batch = create(host, "name='batch'\nvcpus=1\nmemory=256\n");
    show_events(host, 0);
    pools(host, db);
    usleep(200000);
    printf("\n");
    list_domains(host);
    check(keel_sim_memory_digest(hv, db, digest), "digesting memory");
    printf("\ndb's memory digest: %s\n", digest);
    printf("\nweb's guest crashes; its on_crash is restart\n");
    check(keel_sim_guest_act(hv, web, KEEL_SHUTDOWN_CRASH), "crashing web");
    show_events(host, 1000);
    printf("\nasking batch to power off and waiting for it\n");
    check(keel_domain_shutdown(host, batch, 5000, KEEL_DOMAIN_WAIT),
          "shutting batch down");
    show_events(host, 0);
    printf("\n");
    list_domains(host);
    db = save_restore(hv, host, db, dir);
    show_events(host, 0);
    check(keel_domain_lookup(host, "web", &id), "finding web");
    id = migrate(hv, host, other, id);
    show_events(host, 0);
    printf("\nthe second host:\n");
    list_domains(other);
    check(keel_domain_destroy(other, id), "destroying web there");
    printf("\ndestroying every domain but Domain-0\n");
    check(keel_domain_destroy(host, db), "destroying db");
    check(keel_cpupool_lookup(host, "fast", &id), "finding pool 'fast'");
    check(keel_cpupool_destroy(host, id), "destroying pool 'fast'");
    check(keel_cpupool_free_cpus(host, &free_cpus), "reading free CPUs");
    check(keel_cpupool_cpu_add(host, 0, &free_cpus), "returning CPUs");
    usleep(1000);
    show_events(host, 0);
    list_domains(host);
    show_host(host, "after the tour");
}

int
main(int argc, char **argv)
{
    struct keel_hv_open_args args = {0}, args_b = {0};
    char tmpl[] = "/tmp/keel-tour-XXXXXX", *state, *dir_b, *state_b;
    struct keel_host *host, *other;
    struct keel_hv *hv, *hv_b;

    if (keel_ctx_new(&ctx, 0))
        return 1;
    args.dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    if (!args.dir || asprintf(&state, "%s.state", args.dir) < 0 ||
        asprintf(&dir_b, "%s.b", args.dir) < 0 ||
        asprintf(&state_b, "%s.b.state", args.dir) < 0) {
        perror("keel-sim-tour");
        return 1;
    }
    printf("keel %s: a tour of libkeel on the sim backend in %s\n\n",
           keel_version(), args.dir);
    check(keel_hv_open(ctx, "sim", &args, &hv), "opening the sim");
    check(keel_host_open(ctx, hv, state, 0, &host), "opening the host");
    args_b.dir = dir_b;
    check(keel_hv_open(ctx, "sim", &args_b, &hv_b), "opening the second sim");
    check(keel_host_open(ctx, hv_b, state_b, 0, &other),
          "opening the second host");
    tour(hv, host, other, args.dir);
    keel_host_close(other);
    keel_hv_close(hv_b);
    keel_host_close(host);
    keel_hv_close(hv);
    if (argc <= 1) {
        char cmd[1024];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s' '%s'", tmpl, state,
                 dir_b, state_b);
        if (system(cmd) != 0)
            fprintf(stderr, "keel-sim-tour: could not remove %s\n", tmpl);
    }
    free(state);
    free(dir_b);
    free(state_b);
    keel_ctx_free(ctx);
    return 0;
}
