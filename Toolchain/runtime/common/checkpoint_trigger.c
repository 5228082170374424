/*
 * When to move (docs/PROCESS-MOVE.md): popcorn_migrate(), SIGUSR2 and POPCORN_MIGRATE_AT.
 * All state is in ordinary globals, so it is carried to the destination with the rest of the
 * memory: the POPCORN_MIGRATE_AT list and the slow path's point counter continue across hops.
 */
#include "process_move.h"
#include "settings.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ISA POPCORN_ISA_X86_64
#else
#define THIS_ISA POPCORN_ISA_AARCH64
#endif

#define MAX_MIGRATE_AT 256

/* -1: no request; otherwise the requested ISA.  Written from a signal handler too. */
static volatile int requested = -1;
static unsigned long long migrate_at[MAX_MIGRATE_AT];
static unsigned migrate_at_count, migrate_at_next;
/* POPCORN_MIGRATE_AT=all: a hop at every point of the run, each from the ISA the last one
 * reached (tests prove with it that no point leaves state behind that a move breaks). */
static int migrate_at_every;
/* POPCORN_MIGRATE_SAME_ISA=1: POPCORN_MIGRATE_AT moves stay on the current ISA (the whole process
 * move path, transformation, checkpoint, exec and restore, without an emulator: for tests and
 * for measuring the runtime's own cost). */
static int migrate_at_same_isa;

/* The slow path reaches the mover through weak references (it works without it), so a program
 * that asks for moves must pull the mover — and with it the restore constructor — in itself. */
__attribute__((used)) static int (*const link_mover)(enum popcorn_isa, const struct popcorn_move_regs *) =
    __popcorn_move_to_regs;

static enum popcorn_isa other_isa(void)
{
    return THIS_ISA == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64;
}

/* POPCORN_MIGRATE_AT hops that a later index replaced before they could happen. */
static unsigned long long superseded;

unsigned long long __popcorn_moves_deferred(void)
{
    return superseded + (requested >= 0 ? 1 : 0);
}

int popcorn_migrate(enum popcorn_isa dst)
{
    if (!popcorn_isa_name(dst))
        return -1;
    requested = (int)dst;
    __popcorn_migration_pending = 1;
    return 0;
}

static void request_from_signal(int signal)
{
    (void)signal;
    requested = (int)other_isa();
    __popcorn_migration_pending = 1;
}

int __popcorn_should_migrate(unsigned long long point_index, enum popcorn_isa *dst)
{
    if (migrate_at_every)
        requested = (int)(migrate_at_same_isa ? THIS_ISA : other_isa());
    while (migrate_at_next < migrate_at_count && migrate_at[migrate_at_next] < point_index)
        migrate_at_next++;
    if (migrate_at_next < migrate_at_count && migrate_at[migrate_at_next] == point_index) {
        migrate_at_next++;
        if (requested >= 0)
            superseded++; /* the previous index's hop never happened */
        /* Becomes an ordinary request, so that a point where the stack cannot be moved (a libc
         * frame such as qsort's below a comparator) defers it to the next point instead of
         * dropping it. */
        requested = (int)(migrate_at_same_isa ? THIS_ISA : other_isa());
    }
    int wanted = requested;
    if (wanted < 0)
        return 0;
    if (wanted == (int)THIS_ISA && !migrate_at_same_isa) {
        requested = -1; /* already there */
        return 0;
    }
    *dst = (enum popcorn_isa)wanted;
    return 1;
}

void __popcorn_move_request_done(void)
{
    requested = -1;
}

int __popcorn_move_keep_pending(void)
{
    return requested >= 0 || migrate_at_every || migrate_at_next < migrate_at_count;
}

/* After the restore constructor (101): a restored process never gets here, its state is the
 * old one; a fresh one reads its settings. */
__attribute__((constructor(102))) static void popcorn_trigger_init(void)
{
    int outer = popcorn_runtime_begin();
    if (popcorn_setting_points("POPCORN_MIGRATE_AT", migrate_at, MAX_MIGRATE_AT, &migrate_at_count,
                               &migrate_at_every) > 0) {
        __popcorn_migration_pending = 1; /* every point must be counted */
    }
    popcorn_setting_flag("POPCORN_MIGRATE_SAME_ISA", &migrate_at_same_isa);
    int by_signal = 0;
    if (popcorn_setting_flag("POPCORN_MIGRATE_SIGNAL", &by_signal) > 0 && by_signal) {
        /* Opt-in: SIGUSR2 then requests a move to the other ISA at the next point (its default
         * action would end the process, so it is only taken over on request). */
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = request_from_signal;
        action.sa_flags = SA_RESTART;
        sigaction(SIGUSR2, &action, NULL);
    }
    popcorn_runtime_end(outer);
}
