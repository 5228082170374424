/*
 * The runtime's POPCORN_* environment settings (docs/RUNTIME.md, "Settings"): one parser for all
 * of them, with one syntax per kind of value and one warning naming the variable for anything
 * malformed, and the secure-execution rule.
 *
 * Secure execution: a process the kernel started with AT_SECURE (setuid, setgid, file
 * capabilities, or an LSM transition) runs with privileges its caller does not have, so nothing
 * its caller put in the environment may steer the runtime: every POPCORN_* setting reads as
 * unset there (popcorn_setting returns NULL).  The checkpoint descriptor of a move is the one
 * hand-over from the process's own previous image; restore.c accepts it in a secure process
 * only after proving that this process made it (docs/PROCESS-MOVE.md, "Secure execution").
 */
#ifndef POPCORN_SETTINGS_H
#define POPCORN_SETTINGS_H

/* Whether the kernel started this process in secure-execution mode (AT_SECURE). */
int popcorn_secure_execution(void);

/* The value of POPCORN_<name>, or NULL when it is unset or the process runs in secure mode. */
const char *popcorn_setting(const char *name);

/* One warning: "popcorn: warning: ignoring NAME='VALUE': WHY". */
void popcorn_setting_warn(const char *name, const char *value, const char *why);

/* ---- typed settings: each returns 1 (set and valid, *out filled), 0 (unset or secure), or -1
 * (malformed: warned once, *out untouched) ------------------------------------------------ */

/* "0" or "1". */
int popcorn_setting_flag(const char *name, int *out);

/*
 * A list of migration-point numbers: decimal numbers from 1 to 2^64-1 without sign, spaces or
 * leading zeros, separated by single commas, strictly ascending, at most `capacity` of them;
 * with `all` non-NULL, the word "all" instead sets *all = 1 (and *count = 0).
 */
int popcorn_setting_points(const char *name, unsigned long long *points, unsigned capacity, unsigned *count,
                           int *all);

/* A file name: non-empty. */
int popcorn_setting_path(const char *name, const char **out);

/* ---- the syntax alone (unit-tested): NULL when `text` is valid, else why it is not -------- */
const char *popcorn_parse_points(const char *text, unsigned long long *points, unsigned capacity,
                                 unsigned *count, int *all);
const char *popcorn_parse_flag(const char *text, int *out);
/* A descriptor number: decimal, 0 to 2^31-1, no sign, spaces or leading zeros. */
const char *popcorn_parse_descriptor(const char *text, int *out);

/* ---- the runtime's own work ---------------------------------------------------------------
 * Set while the runtime itself runs: serving a point, its constructors, its exit report. The
 * portable C library has migration points of its own (docs/LIBC.md); those it reaches on the
 * runtime's behalf are not the program's and are neither counted nor served (migrate.c). */
extern __thread int __popcorn_serving_point;

static inline int popcorn_runtime_begin(void)
{
    int outer = __popcorn_serving_point;
    __popcorn_serving_point = 1;
    return outer;
}

static inline void popcorn_runtime_end(int outer) { __popcorn_serving_point = outer; }

#endif /* POPCORN_SETTINGS_H */
