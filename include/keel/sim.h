/* sim.h: controls of the simulated Xen host (the "sim" backend)
 *
 * The sim backend models a Xen host and its guests in a directory, so that
 * libkeel, keeld and their tests meet the behaviour of a real host: guests
 * that answer (or ignore) shutdown requests, crash on their own, and dirty
 * memory while they are migrated. These calls are the test controls; on a
 * handle of any other backend they return KEEL_ENOTSUP.
 *
 * The host spec, given when a directory is first used, is a comma list of
 * KEY=VALUE: cpus (default 8), sockets (2), nodes (2), threads (1, per
 * core), memory (16G), dom0_mem (1G), dom0_vcpus (cpus), cpu_khz (2400000).
 * Sizes take k, m, g or t suffixes (KiB, MiB, GiB, TiB); a bare number is
 * MiB, as xl.cfg's memory= is. cpus must divide evenly into sockets and
 * nodes, and a socket's cores evenly into threads.
 *
 * Thread: as for any struct keel_hv (the handle's lock covers these).
 */
#ifndef KEEL_SIM_H
#define KEEL_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <keel/hv.h>

#ifdef __cplusplus
extern "C" {
#endif

struct keel_sim_spec {
    uint32_t cpus;
    uint32_t sockets;
    uint32_t nodes;
    uint32_t threads; /* per core */
    uint64_t memory_kb;
    uint64_t dom0_mem_kb;
    uint32_t dom0_vcpus;
    uint32_t cpu_khz;
};

/* Fills spec with the defaults, then applies text (NULL or "" for none).
 * Returns 0, or KEEL_ESYNTAX / KEEL_ERANGE with a message on ctx
 * naming the key and the column. */
int keel_sim_spec_parse(struct keel_ctx *ctx, const char *text,
                        struct keel_sim_spec *spec);

/* How a simulated guest behaves. */
struct keel_sim_guest {
    uint32_t shutdown_delay_ms; /* time to act on control/shutdown */
    bool ignore_shutdown;       /* never act on control/shutdown */
    bool busy;                  /* running (true) or mostly blocked */
    uint64_t dirty_rate;        /* pages dirtied per second while running */
    uint64_t ws_start;          /* first frame of the working set */
    uint64_t ws_pages;          /* working-set size; 0 = all memory */
};

int keel_sim_guest_get(struct keel_hv *hv, uint32_t domid,
                       struct keel_sim_guest *guest);
/* Returns KEEL_ERANGE when the working set lies outside the domain's
 * memory. */
int keel_sim_guest_set(struct keel_hv *hv, uint32_t domid,
                       const struct keel_sim_guest *guest);

/* Makes the guest shut down on its own (poweroff, reboot, suspend, crash,
 * watchdog or soft_reset), as if it had made the hypercall itself. */
int keel_sim_guest_act(struct keel_hv *hv, uint32_t domid,
                       enum keel_shutdown_reason reason);

/* A 128-bit digest of the domain's whole memory, written as 32 hex
 * digits into hex[33]: two domains with the same memory have the same
 * digest. Not cryptographic. */
int keel_sim_memory_digest(struct keel_hv *hv, uint32_t domid, char hex[33]);

/* Moves a manual clock (KEEL_HV_OPEN_MANUAL_CLOCK) forward by ns.
 * KEEL_EINVAL on a handle with the real clock. */
int keel_sim_clock_advance(struct keel_hv *hv, uint64_t ns);

/* The sim's directory. */
const char *keel_sim_dir(struct keel_hv *hv);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_SIM_H */
