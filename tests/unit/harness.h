/* harness.h: what every unit test shares
 *
 * Each check test runs in its own process (CK_FORK). A test that uses
 * th_ctx(), th_tmpdir() or th_sim_open() gets a fresh context, directory
 * or sim, torn down after the test by the fixture th_tcase() installs.
 * Leaks are caught by ASan's leak checker, which runs when each forked
 * test exits in a --enable-sanitizers build.
 */
#ifndef KEEL_TEST_HARNESS_H
#define KEEL_TEST_HARNESS_H

#include <check.h>
#include <stdbool.h>

#include <keel/host.h>
#include <keel/hv.h>
#include <keel/keel.h>
#include <keel/sim.h>

#define MIB_KB (UINT64_C(1) << 10)
#define GIB_KB (UINT64_C(1) << 20)

/* Asserts that a call returned 0, naming the call and the context's
 * message when it did not. */
#define OK(call) th__ok((call), #call, __FILE__, __LINE__)
void th__ok(int rc, const char *what, const char *file, int line);

/* A context for this test (created on first use; logs only errors). */
struct keel_ctx *th_ctx(void);

/* A new empty directory for this test, removed with its contents at
 * teardown. The string belongs to the harness. */
const char *th_tmpdir(void);

/* A path inside th_tmpdir(); the string belongs to the harness. */
const char *th_path(const char *name);

/* Opens the sim backend on dir (th_path("sim") when NULL) with spec and
 * flags; fails the test on error. Closed at teardown unless closed with
 * th_sim_close(). */
struct keel_hv *th_sim_open(const char *dir, const char *spec,
                            unsigned int flags);
void th_sim_close(struct keel_hv *hv);

/* Creates a domain with type, vcpus and memory (KiB) in pool 0 and
 * unpauses it; returns its domid. Fails the test on error. */
uint32_t th_sim_domain(struct keel_hv *hv, enum keel_domain_type type,
                       uint32_t vcpus, uint64_t mem_kb);

/* Opens a struct keel_host on hv with state in dir (th_path("state") when
 * NULL); fails the test on error. Closed at teardown (before the hvs)
 * unless closed with th_host_close(). */
struct keel_host *th_host_open(struct keel_hv *hv, const char *dir);
void th_host_close(struct keel_host *host);

/* Sets aff to one CPU spec (keel's canonical spelling) for every vCPU. */
struct keel_affinity_config;
void th_set_cpus(struct keel_affinity_config *aff, const char *spec);

/* Makes the next save of domain domid's record (in th_path("state"))
 * fail: its temporary file is a directory. Returns the path for
 * th_mend(), which removes it and frees the path. */
char *th_break_record(struct keel_host *host, uint32_t domid);
void th_mend(char *path);

/* A tcase with the harness's teardown and a 60 s timeout. */
TCase *th_tcase(Suite *s, const char *name);

/* Runs the suite (CK_FORK unless CK_FORK=no) and returns an exit status. */
int th_run(Suite *s);

/* Asserts that rc == code and that the context holds a message that
 * contains needle (when needle is not NULL), then clears the error. */
#define th_assert_err(rc, code, needle)                                        \
    th__assert_err((rc), (code), (needle), __FILE__, __LINE__)
void th__assert_err(int rc, int code, const char *needle, const char *file,
                    int line);

#endif
