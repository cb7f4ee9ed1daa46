/* fuzz-poolcfg.c: fuzz target of keel cpupool-create's xlcpupool.cfg
 * reader (cli/poolcfg.c)
 *
 * Parses the input (cut at its first NUL, as the text is a C string) and
 * checks: the result is 0, -EINVAL or -ENOMEM; an error leaves one
 * "fuzz:LINE:COL: why" message whose line is inside the input, success
 * leaves the buffer alone; a nodes spec starts with "node:"; parsing the
 * same text again on top gives the same values and the same warnings
 * (the last assignment wins); a 5-byte error buffer gets the same result,
 * cut; dispose twice is fine.
 */
#include "config.h"

#define FUZZ_NAME "poolcfg"
#include "fuzz.h"

#include <errno.h>

#include "../../cli/poolcfg.h"

static void
count_warning(void *opaque, const char *msg)
{
    fuzz_check(!strncmp(msg, "fuzz:", 5), "a warning names the file");
    (*(unsigned int *)opaque)++;
}

static bool
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The error message of a failed parse of text. */
static void
check_error(const char *text, const char *err, int rc)
{
    unsigned long line, col, lines = 1;
    const char *q;
    char *end;

    if (rc == -ENOMEM) {
        fuzz_check(!strcmp(err, "out of memory"), "ENOMEM says so");
        return;
    }
    for (q = text; *q; q++)
        lines += *q == '\n';
    fuzz_check(!strncmp(err, "fuzz:", 5), "an error names the file");
    line = strtoul(err + 5, &end, 10);
    fuzz_check(*end == ':', "an error gives a line");
    col = strtoul(end + 1, &end, 10);
    fuzz_check(!strncmp(end, ": ", 2) && end[2], "an error gives a column");
    fuzz_check(line >= 1 && line <= lines && col >= 1,
               "an error's position is inside the text");
}

static void
check_again(const char *text, const struct poolcfg *pc, unsigned int warned)
{
    struct poolcfg again;
    unsigned int n = 0;
    char err[256] = "";

    poolcfg_init(&again);
    fuzz_check(
        !poolcfg_parse(&again, "fuzz", text, count_warning, &n, err,
                       sizeof(err)) &&
            !poolcfg_parse(&again, "fuzz", text, NULL, NULL, err, sizeof(err)),
        "a text that parsed once parses again");
    fuzz_check(same(pc->name, again.name) && same(pc->sched, again.sched) &&
                   same(pc->cpus, again.cpus) && same(pc->nodes, again.nodes),
               "parsing a text twice gives the same values");
    fuzz_check(n == warned, "parsing a text twice gives the same warnings");
    poolcfg_dispose(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct poolcfg pc;
    unsigned int warned = 0;
    char err[256] = "", small[5] = "";
    char *text = strndup((const char *)data, size);
    int rc, rc_small;

    if (!text)
        return 0;
    poolcfg_init(&pc);
    rc = poolcfg_parse(&pc, "fuzz", text, count_warning, &warned, err,
                       sizeof(err));
    fuzz_check(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "rc is known");
    if (rc)
        check_error(text, err, rc);
    else
        fuzz_check(!err[0], "success leaves the error buffer alone");
    if (!rc && pc.nodes)
        fuzz_check(!strncmp(pc.nodes, "node:", 5), "nodes become node:N");
    if (!rc)
        check_again(text, &pc, warned);
    poolcfg_dispose(&pc);
    poolcfg_dispose(&pc);
    rc_small =
        poolcfg_parse(&pc, "fuzz", text, NULL, NULL, small, sizeof(small));
    fuzz_check(rc_small == rc || rc_small == -ENOMEM || rc == -ENOMEM,
               "the error buffer's size changes nothing");
    fuzz_check(strlen(small) < sizeof(small), "a cut error is terminated");
    poolcfg_dispose(&pc);
    free(text);
    return 0;
}
