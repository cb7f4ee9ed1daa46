/* output.h: xl's text formats for keeld's results
 *
 * Each function prints one header or one row on stdout from a result as
 * keeld returns it (docs/keeld-api.md), column for column as xl prints
 * the same thing, so that scripts written against `xl list`, `xl
 * vcpu-list`, `xl uptime` and `xl info` read keel's output unchanged.
 */
#ifndef KEEL_CLI_OUTPUT_H
#define KEEL_CLI_OUTPUT_H

#include <stdbool.h>
#include <time.h>

#include <yajl/yajl_tree.h>

/* xl list: Name ID Mem VCPUs State Time(s); -v adds the uuid, the
 * shutdown reason code and the security label. info: a domain.info
 * object. */
void out_list_header(bool verbose);
void out_list_row(yajl_val info, bool verbose);

/* xl vcpu-list: Name ID VCPU CPU State Time(s) Affinity (Hard / Soft).
 * vcpu: one item of domain.vcpu_list's array. */
void out_vcpu_header(void);
void out_vcpu_row(const char *name, long long domid, yajl_val vcpu);

/* xl uptime: Name ID Uptime, or with short_mode one line per domain in
 * uptime(1)'s style, " HH:MM:SS up UPTIME, NAME (ID)". */
void out_uptime_header(bool short_mode);
void out_uptime_row(yajl_val info, bool short_mode, time_t now);

/* xl info: "key : value" lines from host.info; only key's value when key
 * is not NULL. Returns false when key names no line. */
bool out_host_info(yajl_val info, const char *key);

#endif /* KEEL_CLI_OUTPUT_H */
