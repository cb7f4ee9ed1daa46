/* poolcfg.h: the xlcpupool.cfg(5) reader of keel cpupool-create
 *
 * A pool config is KEY = VALUE statements, one per line or separated by
 * ';', with '#' comments; a value is a quoted string, a number, or a
 * list of those in [...]. Four keys mean something: name, sched, cpus
 * and nodes; others are reported through the warning callback and
 * skipped. libkeel's xl.cfg parser is internal to it, hence this one.
 *
 * Depends on libc only, so that tests/fuzz/fuzz-poolcfg.c can link it
 * alone. No global state: one call parses one text.
 */
#ifndef KEEL_CLI_POOLCFG_H
#define KEEL_CLI_POOLCFG_H

#include <stddef.h>

/* What the texts said: NULL where they said nothing. cpus and nodes hold
 * CPU specs as keeld takes them ("0-3,5", "node:0,node:1"): a list
 * becomes its items joined by commas, a nodes list gets "node:" before
 * each item. The last assignment of a key wins. */
struct poolcfg {
    char *name, *sched, *cpus, *nodes;
};

/* Called (on the caller's thread, during poolcfg_parse) for each key the
 * reader ignores, with "FILE:LINE:COL: unknown key KEY ignored". */
typedef void (*poolcfg_warn_fn)(void *opaque, const char *msg);

/* After init, dispose is a no-op; dispose frees the members (not pc)
 * and may be called again. */
void poolcfg_init(struct poolcfg *pc);
void poolcfg_dispose(struct poolcfg *pc);

/* Parses text (NUL-terminated; file names it in messages) into pc, on
 * top of what pc holds already, so that a file and then VAR=VALUE
 * arguments can be read into one struct. warn may be NULL. Returns 0,
 * or -EINVAL (a syntax error) or -ENOMEM, with "FILE:LINE:COL: why" (or
 * "out of memory") in err, cut to errsize bytes; pc then holds what was
 * read before the error (still to be disposed). */
int poolcfg_parse(struct poolcfg *pc, const char *file, const char *text,
                  poolcfg_warn_fn warn, void *opaque, char *err,
                  size_t errsize);

#endif /* KEEL_CLI_POOLCFG_H */
