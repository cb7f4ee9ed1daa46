/* output.c: reading keeld's results, and printing them as JSON or as xl
 *
 * The yajl getters (client.h) read members of a parsed result; the
 * printers (output.h) lay them out in xl's column formats. The widths
 * are xl's (tools/xl/xl_info.c, xl_vcpu.c): a fixed-width left column
 * for names, right-aligned numbers, tabs where xl has tabs. Names wider
 * than their column push the rest of the line right, as in xl, so that
 * whitespace splitting still finds every column.
 *
 * Checklist when a format changes: the fixtures in tests/data/cli/, the
 * command's section of docs/man/keel.1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "output.h"

/* --- reading results --- */

yajl_val
cli_get(yajl_val obj, const char *name)
{
    size_t i;

    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], name))
            return obj->u.object.values[i];
    return NULL;
}

const char *
cli_get_str(yajl_val obj, const char *name)
{
    yajl_val v = cli_get(obj, name);

    return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

long long
cli_get_int(yajl_val obj, const char *name, long long dflt)
{
    yajl_val v = cli_get(obj, name);

    if (YAJL_IS_INTEGER(v))
        return YAJL_GET_INTEGER(v);
    if (YAJL_IS_DOUBLE(v))
        return (long long)YAJL_GET_DOUBLE(v);
    return dflt;
}

double
cli_get_double(yajl_val obj, const char *name, double dflt)
{
    yajl_val v = cli_get(obj, name);

    if (YAJL_IS_DOUBLE(v))
        return YAJL_GET_DOUBLE(v);
    if (YAJL_IS_INTEGER(v))
        return (double)YAJL_GET_INTEGER(v);
    return dflt;
}

bool
cli_get_bool(yajl_val obj, const char *name, bool dflt)
{
    yajl_val v = cli_get(obj, name);

    if (YAJL_IS_TRUE(v))
        return true;
    if (YAJL_IS_FALSE(v))
        return false;
    return dflt;
}

/* --- JSON --- */

void
cli_gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Numbers are written as keeld wrote them: re-formatting a double through
 * yajl_gen_double would print 0.1 as 0.10000000000000001. */
void
cli_gen_value(yajl_gen g, yajl_val v)
{
    size_t i;

    if (YAJL_IS_STRING(v))
        cli_gen_str(g, v->u.string);
    else if (YAJL_IS_NUMBER(v))
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    else if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (i = 0; i < v->u.object.len; i++) {
            cli_gen_str(g, v->u.object.keys[i]);
            cli_gen_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (i = 0; i < v->u.array.len; i++)
            cli_gen_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    else
        yajl_gen_null(g);
}

yajl_gen
cli_json_gen(bool pretty)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g) {
        fprintf(stderr, "keel: out of memory\n");
        exit(1);
    }
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "    ");
    }
    return g;
}

/* The length of an empty {} or [] at p as yajl's beautifier spreads it,
 * "{\n\n    }", or 0. A raw newline is never inside a JSON string, so
 * one right after the bracket means the bracket is no string's. */
static size_t
spread_empty(const unsigned char *p, size_t n)
{
    size_t i = 1;

    if (n < 3 || (p[0] != '{' && p[0] != '[') || p[1] != '\n')
        return 0;
    while (i < n && (p[i] == '\n' || p[i] == ' '))
        i++;
    return i < n && p[i] == (p[0] == '{' ? '}' : ']') ? i + 1 : 0;
}

/* Empty objects and arrays are written "{}" and "[]", as xl shows them. */
void
cli_print_gen(yajl_gen g)
{
    const unsigned char *buf;
    size_t len, i, n, start = 0;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        return;
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    for (i = 0; i < len; i++) {
        if (!(n = spread_empty(buf + i, len - i)))
            continue;
        fwrite(buf + start, 1, i + 1 - start, stdout);
        putchar(buf[i + n - 1]);
        i += n - 1;
        start = i + 1;
    }
    fwrite(buf + start, 1, len - start, stdout);
    putchar('\n');
}

void
cli_print_json(yajl_val v)
{
    yajl_gen g = cli_json_gen(true);

    cli_gen_value(g, v);
    cli_print_gen(g);
    yajl_gen_free(g);
}

void
cli_print_json_line(yajl_val v)
{
    yajl_gen g = cli_json_gen(false);

    cli_gen_value(g, v);
    cli_print_gen(g);
    yajl_gen_free(g);
    fflush(stdout);
}

/* --- xl list --- */

/* libxl's shutdown reason codes, which xl list -v prints in hex. */
static int
reason_code(const char *reason)
{
    static const char *const names[] = {"poweroff", "reboot",   "suspend",
                                        "crash",    "watchdog", "soft_reset"};
    size_t i;

    for (i = 0; reason && i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(names[i], reason))
            return (int)i;
    return -1;
}

void
out_list_header(bool verbose)
{
    printf("%-40s %5s %5s %5s\t%s\t%s", "Name", "ID", "Mem", "VCPUs", "State",
           "Time(s)");
    if (verbose)
        printf("   %-32s%s\t%s", "UUID", "Reason-Code", "Security Label");
    putchar('\n');
}

void
out_list_row(yajl_val info, bool verbose)
{
    const char *name = cli_get_str(info, "name");
    const char *flags = cli_get_str(info, "flags");
    const char *uuid = cli_get_str(info, "uuid");
    int code = reason_code(cli_get_str(info, "reason"));

    printf("%-40s %5lld %5lld %5lld     %-6s  %8.1f", name ? name : "-",
           cli_get_int(info, "domid", -1),
           cli_get_int(info, "memory_kb", 0) / 1024,
           cli_get_int(info, "vcpus", 0), flags ? flags : "------",
           cli_get_double(info, "cpu_time_s", 0));
    if (verbose) {
        printf(" %s", uuid ? uuid : "-");
        if (code >= 0)
            printf(" %8x", code);
        else
            printf(" %8s", "-");
        printf(" %16s", "-"); /* keel has no security labels */
    }
    putchar('\n');
}

/* --- xl vcpu-list --- */

void
out_vcpu_header(void)
{
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU",
           "State", "Time(s)", "Affinity (Hard / Soft)");
}

/* xl's three state letters: r (on a CPU), b (blocked), p (offline). */
static void
vcpu_letters(const char *state, char buf[4])
{
    bool offline = state && !strcmp(state, "offline");

    buf[0] = state && !strcmp(state, "running") ? 'r' : '-';
    buf[1] = state && !strcmp(state, "blocked") ? 'b' : '-';
    buf[2] = offline ? 'p' : '-';
    buf[3] = '\0';
}

void
out_vcpu_row(const char *name, long long domid, yajl_val vcpu)
{
    const char *hard = cli_get_str(vcpu, "hard");
    const char *soft = cli_get_str(vcpu, "soft");
    char letters[4];

    vcpu_letters(cli_get_str(vcpu, "state"), letters);
    printf("%-32s %5lld %5lld", name, domid, cli_get_int(vcpu, "vcpu", 0));
    /* no space before CPU: xl's rows have none (its header has one) */
    if (cli_get_bool(vcpu, "online", true))
        printf("%5lld %5s ", cli_get_int(vcpu, "cpu", 0), letters);
    else
        printf("%5s %5s ", "-", letters);
    printf("%9.1f  %s / %s\n", cli_get_double(vcpu, "cpu_time_s", 0),
           hard ? hard : "-", soft ? soft : "-");
}

/* --- xl uptime --- */

void
out_uptime_header(bool short_mode)
{
    if (!short_mode)
        printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
}

/* "D days, H:MM:SS" as xl prints it ("H:MM" in short mode). */
static void
uptime_text(unsigned long long s, bool short_mode, char *buf, size_t size)
{
    unsigned long long day = s / 86400, hour = s / 3600 % 24, min = s / 60 % 60,
                       sec = s % 60;
    int n = 0;

    if (day > 0)
        n = snprintf(buf, size, "%llu day%s, ", day, day > 1 ? "s" : "");
    if (short_mode)
        snprintf(buf + n, size - (size_t)n, "%2llu:%02llu", hour, min);
    else
        snprintf(buf + n, size - (size_t)n, "%2llu:%02llu:%02llu", hour, min,
                 sec);
}

void
out_uptime_row(yajl_val info, bool short_mode, time_t now)
{
    const char *name = cli_get_str(info, "name");
    double up = cli_get_double(info, "uptime_s", 0);
    char text[64], clock[16];
    struct tm tm;

    uptime_text(up > 0 ? (unsigned long long)up : 0, short_mode, text,
                sizeof(text));
    if (!short_mode) {
        printf("%-33s %4lld %s\n", name ? name : "-",
               cli_get_int(info, "domid", -1), text);
        return;
    }
    if (!localtime_r(&now, &tm) ||
        !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
        strcpy(clock, "??:??:??");
    printf(" %s up %s, %s (%lld)\n", clock, text, name ? name : "-",
           cli_get_int(info, "domid", -1));
}

/* --- xl info --- */

/* One "key : value" line, xl's key column 23 wide; with a filter, only
 * the value of the line whose key it is. */
static bool
info_line(const char *filter, const char *key, const char *value)
{
    if (!filter)
        printf("%-23s: %s\n", key, value);
    else if (!strcmp(filter, key))
        printf("%s\n", value);
    else
        return false;
    return true;
}

static bool
info_int(const char *filter, const char *key, long long n)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", n);
    return info_line(filter, key, buf);
}

bool
out_host_info(yajl_val info, const char *key)
{
    long long khz = cli_get_int(info, "cpu_khz", 0);
    const char *ver = cli_get_str(info, "xen_version");
    const char *caps = cli_get_str(info, "capabilities");
    const char *backend = cli_get_str(info, "backend");
    char mhz[32];
    bool found = false;

    snprintf(mhz, sizeof(mhz), "%lld.%03lld", khz / 1000, khz % 1000);
    found |= info_int(key, "nr_cpus", cli_get_int(info, "nr_cpus", 0));
    found |= info_int(key, "nr_nodes", cli_get_int(info, "nr_nodes", 0));
    found |= info_int(key, "cores_per_socket",
                      cli_get_int(info, "cores_per_socket", 0));
    found |= info_int(key, "threads_per_core",
                      cli_get_int(info, "threads_per_core", 0));
    found |= info_line(key, "cpu_mhz", mhz);
    found |=
        info_int(key, "total_memory", cli_get_int(info, "total_kb", 0) / 1024);
    found |=
        info_int(key, "free_memory", cli_get_int(info, "free_kb", 0) / 1024);
    found |= info_line(key, "xen_version", ver ? ver : "");
    found |= info_line(key, "xen_caps", caps ? caps : "");
    /* keel's own, after xl's */
    found |= info_int(key, "nr_sockets", cli_get_int(info, "nr_sockets", 0));
    found |= info_line(key, "backend", backend ? backend : "");
    return found;
}
