/*
 * Migration points (docs/MIGRATION-POINTS.md).  popcorn-cc inserts, at every migration point,
 *
 *     if (__builtin_expect(__popcorn_migration_pending != 0, 0)) __popcorn_migrate_point_slow();
 *
 * so the fast path is one load of the flag below.  Everything else happens in the slow path,
 * which is only entered while the flag is set:
 *
 *   - a migration request sets it; the slow path serves the request and clears it;
 *   - POPCORN_STATS=1 sets it for the whole run, so that every point reached is counted here
 *     (a counter in the fast path would cost every program a read-modify-write per point).
 *
 * Serving a request means rewriting the thread's stack for the destination ISA, which the
 * runtime cannot do yet: no request is ever made, and "migrations" stays 0.
 */
#include "popcorn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read by the code at every migration point; never cached (volatile) so a request made by
 * another thread or a signal handler is seen at the next point. */
volatile int __popcorn_migration_pending;

static unsigned long long points_reached;
static unsigned long long migrations_done;
/* The flag stays set for the whole run (statistics are being collected). */
static int keep_pending;

void __popcorn_migrate_point_slow(void) __attribute__((noinline, cold));

void __popcorn_migrate_point_slow(void)
{
    __atomic_fetch_add(&points_reached, 1, __ATOMIC_RELAXED);
    if (keep_pending)
        return;
    /* A pending request would be served here, by transforming this thread's stack and
     * resuming on the destination ISA (then counting it in migrations_done).  Until the
     * runtime can do that, a stray request is dropped so the program keeps running. */
    __popcorn_migration_pending = 0;
}

void popcorn_migrate_point(void)
{
    /* Code built by popcorn-cc never calls this: the compiler turns calls into inline points.
     * It remains for callers it did not compile, and for calls through function pointers. */
    if (__builtin_expect(__popcorn_migration_pending != 0, 0))
        __popcorn_migrate_point_slow();
}

unsigned long long popcorn_migration_points_reached(void)
{
    return __atomic_load_n(&points_reached, __ATOMIC_RELAXED);
}

static void print_statistics(void)
{
    fprintf(stderr, "migration points: %llu\nmigrations: %llu\n",
            __atomic_load_n(&points_reached, __ATOMIC_RELAXED),
            __atomic_load_n(&migrations_done, __ATOMIC_RELAXED));
}

/* Runs before main (init_array), so points in main itself are already counted. */
__attribute__((constructor)) static void migration_init(void)
{
    const char *stats = getenv("POPCORN_STATS");
    if (stats && strcmp(stats, "1") == 0) {
        keep_pending = 1;
        __popcorn_migration_pending = 1;
        atexit(print_statistics);
    }
}
