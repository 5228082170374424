/*
 * Moving the running process to another ISA (docs/PROCESS-MOVE.md): checkpoint the address
 * space into a memfd, exec the sibling binary (under qemu-aarch64 when it is foreign to the
 * host), restore everything at the same addresses in the new process and resume with a given
 * register set.  Runtime-internal interface between migrate.c (the slow path) and
 * checkpoint.c / restore.c / checkpoint_trigger.c.
 */
#ifndef POPCORN_PROCESS_MOVE_H
#define POPCORN_PROCESS_MOVE_H

#include "popcorn.h"

#include <stddef.h>
#include <stdint.h>

/**
 * A complete register set to resume with, in the format of the ISA it is meant for.
 *
 * `gpr` is indexed by DWARF register number: x86_64 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi,
 * 6 rbp, 7 rsp, 8–15 r8–r15; aarch64 0–30 x0–x30, 31 sp.  `fpr` holds the low 64 bits of the
 * vector registers (x86_64 xmm0–xmm15, DWARF 17–32; aarch64 v0–v31, DWARF 64–95), which is all
 * either ABI preserves across calls.  `pc` is where execution continues; `tp` is the thread
 * pointer (fs base / tpidr_el0).  On aarch64 x16 and x17 (IP0/IP1, not preserved across calls)
 * are clobbered by the jump; on x86_64 r11 is.
 */
struct popcorn_move_regs {
    uint64_t gpr[32];
    uint64_t fpr[32];
    uint64_t pc;
    uint64_t tp;
};

/** DWARF numbers of the stack pointer in `gpr`. */
#define POPCORN_MOVE_SP_X86_64 7
#define POPCORN_MOVE_SP_AARCH64 31

/**
 * Moves the process to `dst` and resumes there with `regs` (destination format): every
 * private writable mapping (data, bss, heap, anonymous mmaps, stacks — including a stack the
 * caller built for the destination) keeps its address and contents; file descriptors keep
 * their numbers and close-on-exec flags; signal handlers, the signal mask and the alternate
 * signal stack are re-installed; the pid stays (exec).  When `dst` is the current ISA the thread
 * pointer in `regs` is installed as is; across ISAs the destination keeps its own thread
 * descriptor and receives the TLS block's contents (same layout on every ISA).
 *
 * Returns only on failure (-1), after printing one warning, with the process unchanged: no
 * sibling binary for `dst`, no qemu-aarch64 for a foreign ISA, or the exec failed.
 */
int __popcorn_move_to_regs(enum popcorn_isa dst, const struct popcorn_move_regs *regs);

/**
 * Same-ISA move of the calling context: captures the caller's registers and moves the process
 * to `dst`, which must be the current ISA (no stack transformation).  Returns 0 in the new
 * process (as if the call returned there), -1 when the move was impossible (warning printed).
 * Used to test checkpoint/exec/restore on its own.
 */
int __popcorn_move_here(enum popcorn_isa dst);

/**
 * Asked by the slow path at every migration point it reaches, with the 1-based index of the
 * point in the whole run (carried across moves).  Returns 1 and sets `*dst` when the process
 * should move now: an explicit popcorn_migrate() request, the SIGUSR2 request, or a
 * POPCORN_MIGRATE_AT index.  A request that cannot be served may be retried at the next point:
 * the request stays until __popcorn_move_request_done() is called.
 */
int __popcorn_should_migrate(unsigned long long point_index, enum popcorn_isa *dst);

/**
 * The one warning of a move that cannot happen ("cannot migrate to <dst>: <file> <reason>;
 * continuing on <isa>"), said once per destination and reason: what makes a move impossible (a
 * missing or untrusted sibling, no emulator) stays so for the rest of the run.
 */
void __popcorn_move_refused(enum popcorn_isa dst, const char *file, const char *reason);

/** Clears the served (or abandoned) request; POPCORN_MIGRATE_AT indices are one-shot anyway. */
void __popcorn_move_request_done(void);

/**
 * Whether the slow path must keep `__popcorn_migration_pending` set after a point: true while
 * POPCORN_MIGRATE_AT still has indices ahead (every point must be counted) or a request waits.
 */
int __popcorn_move_keep_pending(void);

/** Requested hops that have not happened: still pending, or replaced by a later
 *  POPCORN_MIGRATE_AT index before a point could serve them (POPCORN_STATS). */
unsigned long long __popcorn_moves_deferred(void);

/** Completed moves in this run (incremented in the checkpoint, so carried across hops). */
extern unsigned long long __popcorn_process_moves;

/* Flag read at every migration point (migrate.c). */
extern volatile int __popcorn_migration_pending;

#endif /* POPCORN_PROCESS_MOVE_H */
