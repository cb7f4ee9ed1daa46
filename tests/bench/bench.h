/* bench.h: timing, baselines and JSON output shared by keel's benchmarks
 *
 * The machines benchmarks run on are shared and noisy, so no figure is
 * reported alone: each is timed against a baseline, the least work the
 * measured code must do anyway (a file create, a memcpy), in the same run
 * and trial for trial, and the ratio is the number to compare between
 * runs and machines. A side (the measured code or its baseline) is a
 * function doing n operations; calibration picks n so that a trial takes
 * about bench_trial_s() seconds (0.5, or $KEEL_BENCH_TRIAL_S), and each
 * side keeps the best of BENCH_TRIALS trials, taken alternately, because
 * noise only ever makes a trial slower.
 *
 * Output: one JSON object per figure, one line each, on stdout, which
 * holds nothing else (progress and errors go to stderr):
 *   {"bench":NAME,"unit":UNIT,"value":V,"baseline":BASE_NAME,
 *    "baseline_value":BV,"ratio":V/BV,"n":OPS_PER_TRIAL}
 * value and baseline_value are in unit (per second); ratio > 1 means the
 * measured code is faster than its baseline.
 * Checklist when changing it: bench_report() here, and whatever compares
 * the lines between runs.
 */
#ifndef KEEL_BENCH_H
#define KEEL_BENCH_H

#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_TRIALS 3
#define BENCH_CALIBRATE_S 0.05 /* a calibration run long enough to scale */

/* Does n operations; returns 0 or a negative error (the side's own). */
typedef int bench_fn(void *arg, uint64_t n);

struct bench_side {
    const char *name; /* figure name, or what the baseline does */
    bench_fn *fn;
    void *arg;
    double units_per_op; /* what one operation counts for in the unit */
    uint64_t n;          /* operations per trial, set by calibration */
    double best;         /* best rate seen, units per second */
};

static inline double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double
bench_trial_s(void)
{
    const char *env = getenv("KEEL_BENCH_TRIAL_S");
    double s = env ? strtod(env, NULL) : 0;

    return s > 0 && s <= 60 ? s : 0.5;
}

/* Runs n operations; *secs_r is how long they took. */
static inline int
bench_time(struct bench_side *b, uint64_t n, double *secs_r)
{
    double t0 = bench_now();
    int r = b->fn(b->arg, n);

    *secs_r = bench_now() - t0;
    if (*secs_r <= 0)
        *secs_r = 1e-9;
    return r;
}

/* Picks b->n: grows n until a run takes BENCH_CALIBRATE_S, then scales
 * it to a trial's length. */
static inline int
bench_calibrate(struct bench_side *b)
{
    double secs = 0, want = bench_trial_s();
    uint64_t n = 1;
    int r;

    for (;;) {
        r = bench_time(b, n, &secs);
        if (r)
            return r;
        if (secs >= BENCH_CALIBRATE_S || n >= (UINT64_C(1) << 40))
            break;
        n *= secs > BENCH_CALIBRATE_S / 64 ? 2 : 16;
    }
    b->n = (uint64_t)ceil((double)n * want / secs);
    if (b->n == 0)
        b->n = 1;
    b->best = 0;
    return 0;
}

static inline int
bench_trial(struct bench_side *b)
{
    double secs;
    int r = bench_time(b, b->n, &secs);
    double rate = (double)b->n * b->units_per_op / secs;

    if (r == 0 && rate > b->best)
        b->best = rate;
    return r;
}

/* Calibrates both sides, then times them alternately BENCH_TRIALS
 * times, so a slow spell of the machine hits both. */
static inline int
bench_compare(struct bench_side *subject, struct bench_side *base)
{
    int i, r;

    fprintf(stderr, "bench: %s vs %s\n", subject->name, base->name);
    r = bench_calibrate(base);
    if (r == 0)
        r = bench_calibrate(subject);
    for (i = 0; r == 0 && i < BENCH_TRIALS; i++) {
        r = bench_trial(base);
        if (r == 0)
            r = bench_trial(subject);
    }
    return r;
}

/* Writes s as a JSON string. */
static inline void
bench_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A JSON number: finite, plain notation, enough digits for small rates. */
static inline void
bench_json_num(FILE *f, double v)
{
    if (!isfinite(v))
        v = 0;
    fprintf(f, fabs(v) >= 1000 ? "%.1f" : "%.6g", v);
}

static inline void
bench_report(const struct bench_side *subject, const struct bench_side *base,
             const char *unit)
{
    fputs("{\"bench\":", stdout);
    bench_json_str(stdout, subject->name);
    fputs(",\"unit\":", stdout);
    bench_json_str(stdout, unit);
    fputs(",\"value\":", stdout);
    bench_json_num(stdout, subject->best);
    fputs(",\"baseline\":", stdout);
    bench_json_str(stdout, base->name);
    fputs(",\"baseline_value\":", stdout);
    bench_json_num(stdout, base->best);
    fputs(",\"ratio\":", stdout);
    bench_json_num(stdout, base->best > 0 ? subject->best / base->best : 0);
    printf(",\"n\":%llu}\n", (unsigned long long)subject->n);
    fflush(stdout);
}

/* A new directory under $TMPDIR (or /tmp); free() the name. NULL on
 * failure, after saying why. */
static inline char *
bench_tmpdir(const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    size_t len;
    char *dir;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    len = strlen(tmp) + strlen(tag) + 16;
    dir = malloc(len);
    if (dir)
        snprintf(dir, len, "%s/%s.XXXXXX", tmp, tag);
    if (!dir || !mkdtemp(dir)) {
        perror("bench: cannot make a temporary directory");
        free(dir);
        return NULL;
    }
    return dir;
}

static inline int
bench_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (remove(path) != 0)
        perror(path);
    return 0;
}

/* Removes dir and everything in it; NULL is a no-op. */
static inline void
bench_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* KEEL_BENCH_H */
