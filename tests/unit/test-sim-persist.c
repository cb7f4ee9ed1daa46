/* test-sim-persist.c: the simulated host outlives the process that has it
 * open, as a hypervisor outlives its toolstack, and refuses directories
 * that are corrupt, foreign or held by another process. The first opener
 * runs in a child process, which exits or is killed with SIGKILL. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* What the child builds: two domains (one paused, one with bytes written
 * to its memory), a pool, a store key; returns the written domain's id. */
static uint32_t
build_host(struct keel_hv *hv, char digest[33])
{
    uint32_t a = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 8192);
    uint32_t b = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 4096);
    uint32_t pool = KEEL_POOLID_ANY;
    uint64_t pfn = 3;
    void *addr;

    ck_assert_int_eq(keel_hv_domain_pause(hv, a), 0);
    ck_assert_int_eq(keel_hv_mem_map(hv, b, &pfn, 1, true, &addr), 0);
    memcpy(addr, "survives", 8);
    ck_assert_int_eq(keel_hv_mem_unmap(hv, addr, 1), 0);
    ck_assert_int_eq(keel_hv_cpupool_create(hv, &pool, KEEL_SCHED_CREDIT), 0);
    ck_assert_int_eq(keel_hv_cpupool_remove_cpu(hv, 0, 7), 0);
    ck_assert_int_eq(keel_hv_cpupool_add_cpu(hv, pool, 7), 0);
    ck_assert_int_eq(
        keel_hv_store_write_str(hv, "/local/domain/2/name", "kept"), 0);
    ck_assert_int_eq(keel_sim_memory_digest(hv, b, digest), 0);
    return b;
}

static void
check_host(struct keel_hv *hv, uint32_t b, const char *digest)
{
    struct keel_hv_dominfo infos[4];
    struct keel_hv_poolinfo pools[4];
    uint64_t pfn = 3;
    char hex[33], *val;
    void *addr;
    size_t n;

    ck_assert_int_eq(keel_hv_domain_list(hv, 0, infos, 4, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(infos[1].pause_count, 1);
    ck_assert(infos[2].flags & KEEL_DOMF_RUNNING);
    ck_assert_int_eq(keel_hv_cpupool_list(hv, pools, 4, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(pools[1].sched, KEEL_SCHED_CREDIT);
    ck_assert(keel_cpumap_test(&pools[1].cpus, 7));
    ck_assert_uint_eq(pools[1].n_dom, 0);
    ck_assert_int_eq(keel_hv_store_read(hv, "/local/domain/2/name", &val, NULL),
                     0);
    ck_assert_str_eq(val, "kept");
    free(val);
    ck_assert_int_eq(keel_sim_memory_digest(hv, b, hex), 0);
    ck_assert_str_eq(hex, digest);
    ck_assert_int_eq(keel_hv_mem_map(hv, b, &pfn, 1, false, &addr), 0);
    ck_assert_mem_eq(addr, "survives", 8);
    ck_assert_int_eq(keel_hv_mem_unmap(hv, addr, 1), 0);
}

/* Runs build_host in a child; with kill_it, the child stops after
 * building and is killed with SIGKILL while it holds the directory. */
static uint32_t
child_builds(bool kill_it, char digest[33], pid_t *pid_r)
{
    int fds[2];
    uint32_t b;
    char msg[64];
    pid_t pid;

    th_tmpdir();
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct keel_hv *hv = th_sim_open(NULL, NULL, 0);

        b = build_host(hv, digest);
        snprintf(msg, sizeof(msg), "%u %s", b, digest);
        if (write(fds[1], msg, strlen(msg) + 1) < 0)
            _exit(2);
        if (kill_it)
            pause();
        th_sim_close(hv);
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_gt(read(fds[0], msg, sizeof(msg)), 0);
    close(fds[0]);
    ck_assert_int_eq(sscanf(msg, "%u %32s", &b, digest), 2);
    *pid_r = pid;
    return b;
}

START_TEST(survives_a_clean_exit)
{
    char digest[33];
    pid_t pid;
    int status;
    uint32_t b = child_builds(false, digest, &pid);

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    check_host(th_sim_open(NULL, NULL, 0), b, digest);
}
END_TEST

START_TEST(survives_sigkill_and_is_locked_meanwhile)
{
    struct keel_hv_open_args args = {0};
    struct keel_hv *hv = NULL;
    char digest[33], pidtext[16];
    pid_t pid;
    uint32_t b = child_builds(true, digest, &pid);

    args.dir = th_path("sim");
    snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
    th_assert_err(keel_hv_open(th_ctx(), "sim", &args, &hv), KEEL_ELOCKED,
                  pidtext);
    ck_assert_ptr_null(hv);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    check_host(th_sim_open(NULL, NULL, 0), b, digest);
}
END_TEST

START_TEST(domids_keep_rotating_after_restart)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t a = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 4096);
    uint32_t b;

    ck_assert_int_eq(keel_hv_domain_destroy(hv, a), 0);
    th_sim_close(hv);
    hv = th_sim_open(NULL, NULL, 0);
    b = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 4096);
    ck_assert_uint_eq(b, a + 1);
}
END_TEST

static void
write_file(const char *name, const char *text)
{
    FILE *f = fopen(th_path(name), "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int
try_open(const char *spec)
{
    struct keel_hv_open_args args = {0};
    struct keel_hv *hv = NULL;
    int rc;

    args.dir = th_path("sim");
    args.spec = spec;
    rc = keel_hv_open(th_ctx(), "sim", &args, &hv);
    keel_hv_close(hv);
    return rc;
}

START_TEST(refuses_corrupt_state)
{
    th_sim_close(th_sim_open(NULL, NULL, 0));
    write_file("sim/state.json", "{\"format\": \"keel-sim\", \"vers");
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "state.json");
    write_file("sim/state.json", "{\"format\": \"keel-sim\", \"version\": 1}");
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "spec");
    write_file("sim/state.json", "[1, 2]");
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "object");
    write_file("sim/state.json", "{\"format\": \"qemu\", \"version\": 1}");
    th_assert_err(try_open(NULL), KEEL_EFOREIGN, "not a keel sim state");
}
END_TEST

START_TEST(refuses_missing_pieces)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);

    th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 4096);
    th_sim_close(hv);
    ck_assert_int_eq(unlink(th_path("sim/store.json")), 0);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "store.json");
    ck_assert_int_eq(unlink(th_path("sim/dom-1.mem")), 0);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "dom-1.mem");
}
END_TEST

START_TEST(refuses_foreign_directories)
{
    struct stat st;

    ck_assert_int_eq(mkdir(th_path("sim"), 0700), 0);
    write_file("sim/notes.txt", "mine");
    th_assert_err(try_open(NULL), KEEL_EFOREIGN, "notes.txt");
    ck_assert_int_eq(stat(th_path("sim/notes.txt"), &st), 0);
    ck_assert_int_ne(stat(th_path("sim/state.json"), &st), 0);
}
END_TEST

START_TEST(spec_is_fixed_once_booted)
{
    struct keel_hv *hv = th_sim_open(NULL, "cpus=16,memory=32G", 0);
    struct keel_hv_physinfo pi;

    ck_assert_int_eq(keel_hv_physinfo(hv, &pi), 0);
    ck_assert_uint_eq(pi.nr_cpus, 16);
    ck_assert_uint_eq(pi.total_kb, UINT64_C(32) << 20);
    th_sim_close(hv);
    ck_assert_int_eq(try_open("cpus=16,memory=32G"), 0);
    ck_assert_int_eq(try_open(NULL), 0);
    th_assert_err(try_open("cpus=8"), KEEL_EINVAL, "another shape");
    th_assert_err(try_open("cpus=banana"), KEEL_ESYNTAX, "cpus");
}
END_TEST

START_TEST(orphan_memory_is_collected)
{
    struct stat st;

    th_sim_close(th_sim_open(NULL, NULL, 0));
    write_file("sim/dom-9.mem", "");
    write_file("sim/dom-9.dirty", "");
    write_file("sim/dom-9.ctx", "");
    th_sim_close(th_sim_open(NULL, NULL, 0));
    ck_assert_int_ne(stat(th_path("sim/dom-9.mem"), &st), 0);
    ck_assert_int_ne(stat(th_path("sim/dom-9.dirty"), &st), 0);
    ck_assert_int_ne(stat(th_path("sim/dom-9.ctx"), &st), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sim-persist");
    TCase *tc = th_tcase(s, "persist");

    tcase_add_test(tc, survives_a_clean_exit);
    tcase_add_test(tc, survives_sigkill_and_is_locked_meanwhile);
    tcase_add_test(tc, domids_keep_rotating_after_restart);
    tcase_add_test(tc, refuses_corrupt_state);
    tcase_add_test(tc, refuses_missing_pieces);
    tcase_add_test(tc, refuses_foreign_directories);
    tcase_add_test(tc, spec_is_fixed_once_booted);
    tcase_add_test(tc, orphan_memory_is_collected);
    return th_run(s);
}
