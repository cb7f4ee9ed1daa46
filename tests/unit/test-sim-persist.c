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
    ck_assert_int_eq(unlink(th_path("sim/dom-1.mem")), 0);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "dom-1.mem");
    ck_assert_int_eq(unlink(th_path("sim/store.json")), 0);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "store.json");
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

/* --- the journal ------------------------------------------------------- */

static char *
read_text(const char *name, size_t *len_r)
{
    FILE *f = fopen(th_path(name), "r");
    char *buf;
    long len;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    if (len_r)
        *len_r = (size_t)len;
    return buf;
}

static off_t
size_of(const char *name)
{
    struct stat st;

    ck_assert_int_eq(stat(th_path(name), &st), 0);
    return st.st_size;
}

/* What a restart must keep, in a form to compare. */
struct seen {
    struct keel_hv_dominfo doms[16];
    size_t n_doms;
    char *val;
};

static void
look(struct keel_hv *hv, struct seen *s)
{
    size_t i;

    ck_assert_int_eq(keel_hv_domain_list(hv, 0, s->doms, 16, &s->n_doms), 0);
    for (i = 0; i < s->n_doms; i++)
        s->doms[i].cpu_time_ns = 0; /* moves with the real clock */
    if (keel_hv_store_read(hv, "/test/key", &s->val, NULL) != 0) {
        keel_ctx_clear_error(th_ctx());
        s->val = NULL;
    }
}

static void
assert_same(struct seen *a, struct seen *b)
{
    ck_assert_uint_eq(a->n_doms, b->n_doms);
    ck_assert_mem_eq(a->doms, b->doms, a->n_doms * sizeof(a->doms[0]));
    ck_assert(!a->val == !b->val);
    if (a->val)
        ck_assert_str_eq(a->val, b->val);
    free(a->val);
    free(b->val);
}

/* A few domains in several states and a store key, through the journal. */
static void
busy_host(struct keel_hv *hv)
{
    uint32_t a = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 8192);
    uint32_t b = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 4096);
    uint32_t c = th_sim_domain(hv, KEEL_DOMAIN_PVH, 1, 4096);

    ck_assert_int_eq(keel_hv_domain_pause(hv, a), 0);
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, b, KEEL_SHUTDOWN_CRASH), 0);
    ck_assert_int_eq(keel_hv_domain_destroy(hv, c), 0);
    ck_assert_int_eq(keel_hv_domain_set_max_mem(hv, a, 16384), 0);
    ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/key", "one"), 0);
    ck_assert_int_eq(keel_hv_store_remove(hv, "/local/domain/0/domid"), 0);
}

START_TEST(journal_replays_what_snapshots_lack)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct seen before, after;
    char *boot, *state;

    boot = read_text("sim/state.json", NULL);
    busy_host(hv);
    look(hv, &before);
    th_sim_close(hv);
    /* The ops went to the journal alone: state.json is the boot's. */
    state = read_text("sim/state.json", NULL);
    ck_assert_str_eq(state, boot);
    hv = th_sim_open(NULL, NULL, 0);
    look(hv, &after);
    assert_same(&before, &after);
    free(boot);
    free(state);
}
END_TEST

/* A process killed inside the append leaves its line without a '\n': the
 * op is lost whole, and the next opener carries on (and cuts it off, so
 * its own lines are not glued to the torn one). */
START_TEST(journal_torn_last_line_is_dropped)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct seen before, after;
    off_t whole;
    char *val;

    busy_host(hv);
    look(hv, &before);
    whole = size_of("sim/journal");
    ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/key", "two"), 0);
    th_sim_close(hv);
    ck_assert_int_gt(size_of("sim/journal"), whole + 10);
    ck_assert_int_eq(truncate(th_path("sim/journal"), whole + 10), 0);
    hv = th_sim_open(NULL, NULL, 0);
    look(hv, &after);
    assert_same(&before, &after); /* "one", not "two" */
    ck_assert_int_eq(size_of("sim/journal"), whole);
    ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/key", "three"), 0);
    th_sim_close(hv);
    hv = th_sim_open(NULL, NULL, 0);
    ck_assert_int_eq(keel_hv_store_read(hv, "/test/key", &val, NULL), 0);
    ck_assert_str_eq(val, "three");
    free(val);
}
END_TEST

START_TEST(journal_damage_is_refused)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    char *text, *p;
    size_t len;

    busy_host(hv);
    th_sim_close(hv);
    text = read_text("sim/journal", &len);
    /* line 3: the second batch */
    p = strchr(strchr(text, '\n') + 1, '\n') + 1;
    p = strstr(p, "\"next_domid\"");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "\"next_domix\"", 12);
    write_file("sim/journal", text);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "journal, line 3");
    memcpy(p, "\"next_domid\"", 12);
    p[14] = '}'; /* broken JSON */
    write_file("sim/journal", text);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "journal, line 3");
    write_file("sim/journal", "{\"format\":\"keel-sim-journal\",\"version\":"
                              "1,\"generation\":99}\n");
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "newer");
    write_file("sim/journal", "");
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "no header");
    ck_assert_int_eq(unlink(th_path("sim/journal")), 0);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "journal is missing");
    free(text);
}
END_TEST

/* 4 KiB values until the journal must have outgrown its floor (1 MiB). */
static void
fill_journal(struct keel_hv *hv, char c)
{
    char val[4097];
    int i;

    memset(val, c, 4096);
    val[4096] = '\0';
    for (i = 0; i < 400; i++) {
        val[0] = (char)('a' + i % 26);
        ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/big", val), 0);
    }
}

START_TEST(journal_compacts_and_keeps_state)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct seen before, after;
    char *state;

    busy_host(hv);
    fill_journal(hv, 'x');
    ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/key", "last"), 0);
    look(hv, &before);
    th_sim_close(hv);
    /* 400 writes of 4 KiB went through, yet the journal is short: the
     * snapshots were written anew, under a new generation. */
    ck_assert_int_lt(size_of("sim/journal"), 1 << 20);
    state = read_text("sim/state.json", NULL);
    ck_assert_ptr_null(strstr(state, "\"journal_generation\": 1,"));
    ck_assert_ptr_nonnull(strstr(state, "\"journal_generation\": 2,"));
    hv = th_sim_open(NULL, NULL, 0);
    look(hv, &after);
    assert_same(&before, &after);
    free(state);
}
END_TEST

/* A compaction killed after renaming state.json but before replacing the
 * journal leaves the old journal, a generation behind: ignored, as the
 * snapshots hold what it did. */
START_TEST(journal_left_behind_is_ignored)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct seen before, after;
    char *old;

    busy_host(hv);
    th_sim_close(hv);
    old = read_text("sim/journal", NULL);
    hv = th_sim_open(NULL, NULL, 0);
    ck_assert_int_eq(keel_hv_store_write_str(hv, "/test/key", "newer"), 0);
    fill_journal(hv, 'y'); /* only /test/big changes once it compacts */
    look(hv, &before);
    th_sim_close(hv);
    write_file("sim/journal", old);
    hv = th_sim_open(NULL, NULL, 0);
    look(hv, &after);
    ck_assert_str_eq(after.val, "newer");
    assert_same(&before, &after);
    free(old);
}
END_TEST

/* state.json of version 1 (no journal) is read and carried on; a version
 * this keel does not know is refused, saying which. */
START_TEST(state_versions)
{
    struct keel_hv *hv;
    char *state, *p, *eol;

    th_sim_close(th_sim_open(NULL, NULL, 0));
    state = read_text("sim/state.json", NULL);
    p = strstr(state, "\"version\": 2,");
    ck_assert_ptr_nonnull(p);
    p[11] = '1';
    p = strstr(state, "\"journal_generation\"");
    ck_assert_ptr_nonnull(p);
    eol = strchr(p, '\n');
    memmove(p, eol + 1, strlen(eol + 1) + 1);
    write_file("sim/state.json", state);
    ck_assert_int_eq(unlink(th_path("sim/journal")), 0);
    hv = th_sim_open(NULL, NULL, 0);
    th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 4096);
    th_sim_close(hv);
    free(state);
    state = read_text("sim/state.json", NULL);
    p = strstr(state, "\"version\": 2,");
    p[11] = '3';
    write_file("sim/state.json", state);
    th_assert_err(try_open(NULL), KEEL_ECORRUPT, "version 3");
    free(state);
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
    tc = th_tcase(s, "journal");
    tcase_add_test(tc, journal_replays_what_snapshots_lack);
    tcase_add_test(tc, journal_torn_last_line_is_dropped);
    tcase_add_test(tc, journal_damage_is_refused);
    tcase_add_test(tc, journal_compacts_and_keeps_state);
    tcase_add_test(tc, journal_left_behind_is_ignored);
    tcase_add_test(tc, state_versions);
    return th_run(s);
}
