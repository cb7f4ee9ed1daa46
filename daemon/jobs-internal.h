/* jobs-internal.h: what jobs.c (the jobs and their journals) and
 * recover.c (reading journals back after a crash) share
 */
#ifndef KEELD_JOBS_INTERNAL_H
#define KEELD_JOBS_INTERNAL_H

#include <stdint.h>

struct keeld;

#define JOURNAL_VERSION 1
#define JOURNAL_MAX (64 * 1024) /* a longer journal is damaged */

/* How far a job got, as its journal says (the order matters). */
enum journal_phase {
    JP_STARTED = 0,
    JP_STOPCOPY = 1, /* the source was paused for the last copy */
    JP_DONE = 2,     /* the stream is complete */
    JP_SYNCED = 3,   /* save: the file is complete and fsynced */
};

/* Indexed by enum journal_phase. */
extern const char *const kd_journal_phase_names[];
/* "save", "migrate_local", "restore", "migrate_incoming", NULL */
extern const char *const kd_job_kinds[];
/* A save's KEEL_SAVE_LEAVE_* flags as the API names them. */
const char *kd_leave_name(unsigned int flags);

/* Rolls back or finishes the jobs whose journals are in jdir; raises
 * *next_id to the highest id seen. 0, or -errno when jdir is unreadable.
 * Before any job starts; single-threaded. */
int kd_jobs_recover(struct keeld *kd, const char *jdir, uint64_t *next_id);

#endif /* KEELD_JOBS_INTERNAL_H */
