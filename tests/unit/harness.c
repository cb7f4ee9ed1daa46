/* harness.c: per-test context, temporary directory and sim helpers */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <keel/config.h>
#include <keel/domain.h>

#include "harness.h"

#define MAX_OPEN 8

static struct keel_ctx *ctx;
static char *tmpdir;
static char pathbuf[4096];
static struct keel_hv *open_hvs[MAX_OPEN];
static struct keel_host *open_hosts[MAX_OPEN];

struct keel_ctx *
th_ctx(void)
{
    if (!ctx) {
        ck_assert_int_eq(keel_ctx_new(&ctx, 0), 0);
        keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, NULL, NULL);
    }
    return ctx;
}

const char *
th_tmpdir(void)
{
    if (!tmpdir) {
        const char *base = getenv("TMPDIR");
        char *t;

        ck_assert(asprintf(&t, "%s/keel-test-XXXXXX", base ? base : "/tmp") >
                  0);
        tmpdir = mkdtemp(t);
        ck_assert_msg(tmpdir != NULL, "mkdtemp failed");
    }
    return tmpdir;
}

const char *
th_path(const char *name)
{
    snprintf(pathbuf, sizeof(pathbuf), "%s/%s", th_tmpdir(), name);
    return pathbuf;
}

struct keel_hv *
th_sim_open(const char *dir, const char *spec, unsigned int flags)
{
    struct keel_hv_open_args args = {0};
    struct keel_hv *hv = NULL;
    char *d = strdup(dir ? dir : th_path("sim"));
    int rc, i;

    args.dir = d;
    args.spec = spec;
    args.flags = flags;
    rc = keel_hv_open(th_ctx(), "sim", &args, &hv);
    ck_assert_msg(rc == 0, "opening sim in %s: %s: %s", d, keel_strerror(rc),
                  keel_ctx_last_error(th_ctx()));
    free(d);
    for (i = 0; i < MAX_OPEN; i++)
        if (!open_hvs[i]) {
            open_hvs[i] = hv;
            break;
        }
    return hv;
}

void
th_sim_close(struct keel_hv *hv)
{
    int i;

    for (i = 0; i < MAX_OPEN; i++)
        if (open_hvs[i] == hv)
            open_hvs[i] = NULL;
    keel_hv_close(hv);
}

uint32_t
th_sim_domain(struct keel_hv *hv, enum keel_domain_type type, uint32_t vcpus,
              uint64_t mem_kb)
{
    struct keel_hv_domain_spec spec = {0};
    uint32_t domid;
    int rc;

    spec.type = type;
    ck_assert_int_eq(keel_uuid_generate(spec.uuid), 0);
    spec.max_vcpus = vcpus;
    spec.online_vcpus = vcpus;
    spec.max_kb = mem_kb;
    spec.mem_kb = mem_kb;
    spec.poolid = 0;
    spec.domid = KEEL_DOMID_INVALID;
    rc = keel_hv_domain_create(hv, &spec, &domid);
    ck_assert_msg(rc == 0, "domain_create: %s: %s", keel_strerror(rc),
                  keel_ctx_last_error(keel_hv_ctx(hv)));
    ck_assert_int_eq(keel_hv_domain_unpause(hv, domid), 0);
    return domid;
}

struct keel_host *
th_host_open(struct keel_hv *hv, const char *dir)
{
    struct keel_host *host = NULL;
    int i;

    OK(keel_host_open(th_ctx(), hv, dir ? dir : th_path("state"), 0, &host));
    for (i = 0; i < MAX_OPEN; i++)
        if (!open_hosts[i]) {
            open_hosts[i] = host;
            return host;
        }
    ck_abort_msg("more than %d hosts open", MAX_OPEN);
    return NULL;
}

void
th_host_close(struct keel_host *host)
{
    int i;

    for (i = 0; i < MAX_OPEN; i++)
        if (open_hosts[i] == host)
            open_hosts[i] = NULL;
    keel_host_close(host);
}

void
th_set_cpus(struct keel_affinity_config *aff, const char *spec)
{
    aff->specs = calloc(1, sizeof(char *));
    ck_assert_ptr_nonnull(aff->specs);
    OK(keel_cpuspec_normalize(th_ctx(), spec, &aff->specs[0]));
    aff->count = 1;
    aff->per_vcpu = false;
}

char *
th_break_record(struct keel_host *host, uint32_t domid)
{
    struct keel_domain_info info;
    char u[37], *path;

    OK(keel_domain_info(host, domid, &info));
    keel_uuid_format(info.uuid, u);
    ck_assert(asprintf(&path, "%s/domain-%u-%s.json.tmp", th_path("state"),
                       domid, u) > 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    return path;
}

void
th_mend(char *path)
{
    ck_assert_int_eq(rmdir(path), 0);
    free(path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
teardown(void)
{
    int i;

    for (i = 0; i < MAX_OPEN; i++) {
        keel_host_close(open_hosts[i]);
        open_hosts[i] = NULL;
    }
    for (i = 0; i < MAX_OPEN; i++) {
        keel_hv_close(open_hvs[i]);
        open_hvs[i] = NULL;
    }
    keel_ctx_free(ctx);
    ctx = NULL;
    if (tmpdir) {
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        tmpdir = NULL;
    }
}

TCase *
th_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return tc;
}

int
th_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void
th__assert_err(int rc, int code, const char *needle, const char *file, int line)
{
    const char *msg = keel_ctx_last_error(th_ctx());

    ck_assert_msg(rc == code, "%s:%d: expected %d (%s), got %d (%s): %s", file,
                  line, code, keel_strerror(code), rc, keel_strerror(rc), msg);
    ck_assert_msg(msg[0] != '\0', "%s:%d: no error message recorded", file,
                  line);
    if (needle)
        ck_assert_msg(strstr(msg, needle) != NULL,
                      "%s:%d: message '%s' lacks '%s'", file, line, msg,
                      needle);
    /* Calls made straight to internals open no public call, so the next
     * error would not replace this one: start afresh. */
    keel_ctx_clear_error(th_ctx());
}

void
th__ok(int rc, const char *what, const char *file, int line)
{
    ck_assert_msg(rc == 0, "%s:%d: %s: %s: %s", file, line, what,
                  keel_strerror(rc), keel_ctx_last_error(th_ctx()));
}
