/*
 * popcorn.h — the program-facing API of the Popcorn runtime.
 *
 * A program built with popcorn-cc runs the same code on several instruction set architectures
 * (ISAs) and may move between them while it runs.  This header is on popcorn-cc's include path;
 * the functions are implemented in the per-ISA runtime archive (lib/popcorn/<isa>/libpopcorn.a)
 * that popcorn-ld links into every binary, so each ISA's binary answers for itself.
 *
 * Everything here is plain C with fixed-size, ISA-independent types, because the program is
 * compiled once and the same declarations are used on every ISA.
 */
#ifndef POPCORN_H
#define POPCORN_H

#ifdef __cplusplus
extern "C" {
#endif

/** The instruction set architectures a Popcorn program can run on. */
enum popcorn_isa {
    POPCORN_ISA_X86_64 = 0,  /**< x86-64 (AMD64). */
    POPCORN_ISA_AARCH64 = 1  /**< 64-bit Arm (AArch64). */
};

/** Number of values of enum popcorn_isa; valid ISAs are 0 .. POPCORN_ISA_COUNT - 1. */
#define POPCORN_ISA_COUNT 2

/**
 * The ISA the calling thread is executing on right now.  After a migration the same call site
 * returns the destination ISA, so do not cache the result across migration points.
 */
enum popcorn_isa popcorn_current_isa(void);

/**
 * The canonical name of an ISA ("x86_64", "aarch64"), as used in target triples and in
 * popcorn-ld's output names (app.aarch64).  Returns NULL for a value that is not a known ISA.
 * The string is static and must not be freed.
 */
const char *popcorn_isa_name(enum popcorn_isa isa);

/**
 * An explicit migration point: if a migration to another ISA has been requested, the thread
 * migrates here.  popcorn-cc turns each call into an inline check (a load and a predicted-not-
 * taken branch), so calls are cheap enough for hot loops.  Explicit points are kept under every
 * -fpopcorn-migration policy, including none.
 */
void popcorn_migrate_point(void);

/**
 * The number of migration points this process has reached in the slow path.  Points only
 * enter the slow path while a migration is pending, or for the whole run when the program was
 * started with POPCORN_STATS=1 (which also prints the counts to stderr at exit).
 */
unsigned long long popcorn_migration_points_reached(void);

/**
 * The number of times this process's stack was rewritten in place on its own ISA by the
 * testing mode POPCORN_REWRITE_AT=N[,N…]|all (docs/STACK-TRANSFORM.md): at those migration
 * points the frames are rebuilt on a fresh stack from the metadata alone, with every register
 * the metadata does not describe poisoned.  With POPCORN_STATS=1 the count is also printed at
 * exit as `rewrites: <count>` when the mode is on.
 */
unsigned long long popcorn_stack_rewrites(void);

/* ---- Moving between ISAs (docs/PROCESS-MOVE.md) -------------------------------------------- */

/**
 * Requests a migration to `dst`, served at the migration point popcorn-cc puts right after every
 * direct call of this function (called through a pointer or from code without points: at the
 * next migration point).  There the process is checkpointed, the
 * sibling binary for `dst` (app / app.aarch64) is exec'd — under qemu-aarch64 when that ISA is
 * foreign to the host — and execution continues there with memory, open files (close-on-exec
 * ones too), stdio buffers, signal handlers and the pid intact.  Returns 0, or -1 for an unknown
 * ISA.  If the move turns out to be impossible the program prints one warning and continues.
 * Also: POPCORN_MIGRATE_AT=N[,N...] moves to the other ISA at the N-th migration point of the
 * run (counted across moves); with POPCORN_MIGRATE_SIGNAL=1, SIGUSR2 requests a move to the
 * other ISA.
 */
int popcorn_migrate(enum popcorn_isa dst);

#ifdef __cplusplus
}
#endif

#endif /* POPCORN_H */
