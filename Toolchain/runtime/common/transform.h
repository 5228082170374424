/*
 * transform.h — stack transformation (docs/STACK-TRANSFORM.md).  Shared by the runtime's
 * migration paths (same-ISA rewrite in migrate.c, the cross-ISA process move).
 */
#ifndef POPCORN_RUNTIME_TRANSFORM_H
#define POPCORN_RUNTIME_TRANSFORM_H

#include "popcorn.h"

#include <stddef.h>
#include <stdint.h>

/** The ISA this runtime object was compiled for (also without isa.c linked). */
#if defined(__x86_64__)
#define POPCORN_RUNTIME_ISA POPCORN_ISA_X86_64
#elif defined(__aarch64__)
#define POPCORN_RUNTIME_ISA POPCORN_ISA_AARCH64
#else
#error "unsupported ISA for the popcorn runtime"
#endif

/** Registers are indexed by DWARF number: x86_64 0–16 (rax rdx rcx rbx rsi rdi rbp rsp r8–r15,
 *  return address) and 17–32 (xmm0–15, low 64 bits); aarch64 0–30 (x0–x30), 31 (sp),
 *  64–95 (v0–v31, low 64 bits). */
#define POPCORN_REG_COUNT 96

/**
 * A thread's register state at a call site: the state right after the call returned, except
 * that caller-saved registers hold nothing (the call clobbered them).  `pc` is where execution
 * continues; the stack pointer is reg[7] (x86_64) or reg[31] (aarch64).  Layout fixed for the
 * assembly in runtime/common/stack/context_<isa>.c: pc at 0, isa at 8, reg at 16.
 */
struct popcorn_regs {
    uint64_t pc;
    uint32_t isa;       /* enum popcorn_isa */
    uint32_t reserved;
    uint64_t reg[POPCORN_REG_COUNT];
};

/** Results of popcorn_transform. */
enum popcorn_transform_status {
    POPCORN_TRANSFORM_OK = 0,
    POPCORN_TRANSFORM_NO_METADATA = 1,   /* no usable .popcorn.meta for one of the ISAs */
    POPCORN_TRANSFORM_UNKNOWN_FRAME = 2, /* a frame below main has no metadata (libc callback, thread) */
    POPCORN_TRANSFORM_UNSUPPORTED = 4,   /* a frame the metadata cannot rebuild (dynamic size, …) */
    POPCORN_TRANSFORM_NO_SPACE = 5,      /* the destination stack is too small */
    POPCORN_TRANSFORM_NO_MEMORY = 6      /* scratch memory could not be mapped */
};

/**
 * The value the transformation writes into every register and stack byte the metadata does
 * not describe (the same-ISA rewrite mode relies on it to expose hidden state).
 */
#define POPCORN_POISON_WORD 0xdeadbeefdeadbeefull

/**
 * Rebuilds the thread's stack for `dst_isa`.
 *
 * `src` is the state captured at a call site on this ISA (normally the call of
 * __popcorn_migrate_point_slow): pc = its return address.  Frames are walked outward with this
 * ISA's metadata up to and including `main`; the destination stack, built at the top of
 * [dst_stack_top - dst_stack_size, dst_stack_top), holds the same frames in `dst_isa`'s layout:
 * live values and stack objects copied, pointers into the source frames re-pointed, return
 * addresses mapped by call-site ID, callee-saved registers spilled where the destination frames
 * restore them from.  `main` returns into __popcorn_main_return (which exits with its result).
 * On success `dst_out` is the register set to resume with (pc = the destination return address
 * of the innermost call site); every register no frame describes holds POPCORN_POISON_WORD.
 * The source stack is only read.  Nothing is written on failure except possibly the
 * destination stack area.
 */
enum popcorn_transform_status popcorn_transform(const struct popcorn_regs *src, enum popcorn_isa dst_isa,
                                                void *dst_stack_top, size_t dst_stack_size,
                                                struct popcorn_regs *dst_out);

/** popcorn_transform_with_options: same-ISA only, give callee-saved registers that no live value
 *  describes their source values instead of poison (to tell hidden register state apart from
 *  transformation bugs). */
#define POPCORN_TRANSFORM_KEEP_UNDESCRIBED 0x1u

/** popcorn_transform with POPCORN_TRANSFORM_* options. */
enum popcorn_transform_status popcorn_transform_with_options(const struct popcorn_regs *src,
                                                             enum popcorn_isa dst_isa, void *dst_stack_top,
                                                             size_t dst_stack_size, struct popcorn_regs *dst_out,
                                                             unsigned options);

/** The top of the source stack the last successful transformation read: the CFA of its outermost
 *  frame (`main`'s). The frames it moved lie between the source SP and this address. */
uint64_t popcorn_transform_source_top(void);

/** Human-readable reason for a status (static string). */
const char *popcorn_transform_status_string(enum popcorn_transform_status status);

/**
 * Switches to `regs` (this ISA's): loads every register, sets the stack pointer and jumps to
 * pc.  Never returns.  runtime/common/stack/context_<isa>.c.
 */
__attribute__((noreturn)) void __popcorn_resume(const struct popcorn_regs *regs);

/** Where main returns to on a transformed stack: calls exit() with main's result. */
void __popcorn_main_return(void);

/** The slow path entered from migration points (assembly, runtime/common/stack/context_<isa>.c). */
void __popcorn_migrate_point_slow(void);

/**
 * The slow path's C half: called by the assembly __popcorn_migrate_point_slow with the state of
 * the function that reached the migration point.  Returns normally unless it switched stacks.
 */
void __popcorn_migrate_point_captured(struct popcorn_regs *at);

/**
 * Hook for the cross-ISA process move: when linked in (a strong definition), the slow path
 * calls it at every point after the same-ISA rewrite mode had its turn.  `point` counts points
 * from 1 over the run.  Returns 0 if it did not migrate (the request stays pending if it
 * wants to defer), otherwise it does not return.
 */
int __popcorn_serve_migration(struct popcorn_regs *at, unsigned long long point) __attribute__((weak));

#endif /* POPCORN_RUNTIME_TRANSFORM_H */
