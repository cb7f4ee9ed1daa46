/* client.h: the keel client's connection to keeld
 *
 * One blocking JSON-RPC connection per keel run (docs/keeld-api.md). The
 * socket is -c/--connect, else $KEEL_SOCKET, else /run/keel/keeld.sock.
 * Requests are sent one at a time and the reply with their id is
 * awaited; notifications that arrive meanwhile (job.progress, event) go
 * to the handler set with cli_client_on_notify.
 *
 * Errors: a failed call prints one line on stderr, "keel: CMD: message"
 * with keeld's message (or, when keeld cannot be reached, whether it is
 * running and where keel looked), and returns non-zero; commands return
 * that as their exit status.
 */
#ifndef KEEL_CLI_CLIENT_H
#define KEEL_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Global options, set by keel.c before a command runs. */
struct cli_opts {
    const char *socket; /* -c/--connect, or NULL */
    bool json;          /* --json: machine output for every command */
    int verbose;        /* -v count */
};
extern struct cli_opts cli_opts;

struct cli_client;

/* Connects (cmd names the command for messages). NULL after printing
 * why: "keeld is not running: no socket at PATH (start keeld, or point
 * -c/KEEL_SOCKET at its socket)", "keeld is not running: connection
 * refused at PATH ...", "permission denied on PATH: ... use keeld-ro.sock
 * for reading", ... */
struct cli_client *cli_connect(const char *cmd);
void cli_close(struct cli_client *cl);

/* Sends method with params (a JSON object text, or NULL for none) and
 * waits for its reply. Returns 0 with *result_r (yajl_tree_free it; may
 * be NULL) set, or 1 after printing "keel: CMD: message" (keeld's error
 * message, or the transport's). *code_r (may be NULL) gets keeld's error
 * code, or 0. */
int cli_call(struct cli_client *cl, const char *cmd, const char *method,
             const char *params, yajl_val *result_r, int *code_r);

/* As cli_call, with params built by a yajl_gen holding one object. */
int cli_call_gen(struct cli_client *cl, const char *cmd, const char *method,
                 yajl_gen params, yajl_val *result_r, int *code_r);

/* As cli_call_gen (params may be NULL for none), but keeld's error is
 * not printed: it returns 1 with *msg_r set to keeld's message (free
 * it), for a caller that words it itself (create names FILE:LINE:COL
 * where keeld says config_text:LINE:COL) or skips some errors (a domain
 * gone during shutdown -a). Transport failures are printed as usual and
 * leave *msg_r NULL. */
int cli_call_quiet(struct cli_client *cl, const char *cmd, const char *method,
                   yajl_gen params, yajl_val *result_r, int *code_r,
                   char **msg_r);

/* Building params: cli_params_new opens an object (exits on out of
 * memory, as cli_json_gen), with member "domain" (cli_gen_domain) when
 * dom is not NULL; the kv helpers add one member. */
yajl_gen cli_params_new(const char *dom);
void cli_kv_str(yajl_gen g, const char *key, const char *value);
void cli_kv_int(yajl_gen g, const char *key, long long value);
void cli_kv_bool(yajl_gen g, const char *key, bool value);

/* Closes g's object, calls method with it (as cli_call_gen) and frees
 * g. With result_r the result is handed over (yajl_tree_free it);
 * without, it is printed as JSON under --json and dropped. 0, or 1 after
 * a message. */
int cli_call_params(struct cli_client *cl, const char *cmd, const char *method,
                    yajl_gen g, yajl_val *result_r);

/* As cli_call_params on a connection of its own (g is freed even when
 * keeld cannot be reached). */
int cli_call_once(const char *cmd, const char *method, yajl_gen g,
                  yajl_val *result_r);

/* keeld's name for the format of a config file, by its extension:
 * "json", "xml", else "xl". */
const char *cli_config_format(const char *path);

/* Params of domain.create and domain.define (opened, as cli_params_new):
 * text, read from path, and n KEY=VALUE overrides. */
yajl_gen cli_config_params(const char *path, const char *text, char **overrides,
                           int n);

/* Prints keeld's message about a config text sent from path: keeld
 * names positions config_text:LINE:COL, the user knows PATH:LINE:COL.
 * Returns 1. */
int cli_fail_config(const char *cmd, const char *path, const char *msg);

/* Called for each notification read while waiting (method, params).
 * Return non-zero to stop waiting (cli_wait_notify returns it). */
typedef int (*cli_notify_fn)(void *opaque, const char *method, yajl_val params);
void cli_client_on_notify(struct cli_client *cl, cli_notify_fn fn,
                          void *opaque);

/* Waits for notifications (handled by the handler) until it returns
 * non-zero (returned here), the connection ends (1 after a message), or
 * SIGINT (0). */
int cli_wait_notify(struct cli_client *cl, const char *cmd);

/* yajl helpers: members of an object by name (NULL when absent or of
 * another type). */
yajl_val cli_get(yajl_val obj, const char *name);
const char *cli_get_str(yajl_val obj, const char *name);
long long cli_get_int(yajl_val obj, const char *name, long long dflt);
double cli_get_double(yajl_val obj, const char *name, double dflt);
bool cli_get_bool(yajl_val obj, const char *name, bool dflt);

/* Prints v as JSON (pretty, as xl list -l does) on stdout. */
void cli_print_json(yajl_val v);

/* Prints v as compact JSON on one line of stdout, flushed (a stream of
 * events or progress notes under --json). */
void cli_print_json_line(yajl_val v);

/* For output built piece by piece: a generator set up as cli_print_json's
 * (pretty) or cli_print_json_line's (exits on out of memory; yajl_gen_free
 * it), v written into one (numbers as keeld wrote them), and its text
 * printed on stdout, one newline at the end. */
yajl_gen cli_json_gen(bool pretty);
void cli_gen_str(yajl_gen g, const char *s);
void cli_gen_value(yajl_gen g, yajl_val v);
void cli_print_gen(yajl_gen g);

/* A DOMAIN argument as params member "domain": a decimal domid becomes a
 * number, anything else (a name, a uuid) a string. */
void cli_gen_domain(yajl_gen g, const char *arg);

/* Sizes with b/k/m/g/t suffixes (xl's: a bare number is MiB for
 * mem-set/mem-max); *kib_r in KiB. 0, or -1 for a bad size. */
int cli_parse_size_kib(const char *text, long long *kib_r);

#endif /* KEEL_CLI_CLIENT_H */
