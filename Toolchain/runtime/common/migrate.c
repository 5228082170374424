/*
 * Migration points (docs/MIGRATION-POINTS.md, docs/STACK-TRANSFORM.md).  popcorn-cc inserts, at
 * every migration point,
 *
 *     if (__builtin_expect(__popcorn_migration_pending != 0, 0)) __popcorn_migrate_point_slow();
 *
 * so the fast path is one load of the flag below.  Everything else happens in the slow path,
 * which is only entered while the flag is set:
 *
 *   - a migration request sets it; the slow path serves the request and clears it;
 *   - POPCORN_STATS=1 sets it for the whole run, so that every point reached is counted here
 *     (a counter in the fast path would cost every program a read-modify-write per point);
 *   - POPCORN_REWRITE_AT=N[,N…]|all sets it for the whole run: at those points the stack is
 *     rewritten onto a fresh stack of the same ISA with every undescribed register poisoned.
 *
 * __popcorn_migrate_point_slow itself is assembly (stack/context_<isa>.c): it captures the
 * caller's registers and calls __popcorn_migrate_point_captured below.
 *
 * The stack transformation is in stack/, one translation unit per file in the same archive.  A
 * static archive links only the members that define a symbol something references, so none of
 * them relies on a constructor (the one constructor is migration_init, below): every migration
 * point references __popcorn_migration_pending (this member) and __popcorn_migrate_point_slow
 * (stack/context_<isa>.o), and the references of these two pull the rest — stack/transform.o
 * (popcorn_transform*), stack/metadata_load.o (popcorn_metadata_table) and
 * stack/jmpbuf_registry.o (popcorn_jmp_bufs_*) from here, stack/jmpbuf.o from transform.o.
 */
#include "popcorn.h"

#include "settings.h"
#include "transform.h"
#include "stack/jmpbuf.h"
#include "stack/metadata.h"
/* The cross-ISA half is written alongside; until its header exists, only the same-ISA mode is built. */
#if __has_include("process_move.h")
#include "checkpoint_format.h"
#include "process_move.h"
#define POPCORN_HAVE_PROCESS_MOVE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Read by the code at every migration point; never cached (volatile) so a request made by
 * another thread or a signal handler is seen at the next point. */
volatile int __popcorn_migration_pending;

static unsigned long long points_reached;

/* Set while this thread serves a point. The portable C library has migration points of its own
 * (docs/LIBC.md), and the runtime calls it: a point reached from inside the runtime is not the
 * program's and must not re-enter it. Cleared before every exit that does not return here. */
__thread int __popcorn_serving_point;
static unsigned long long rewrites_done;
/* The flag stays set for the whole run (statistics or the rewrite mode need every point). */
static int keep_pending;
static int print_rewrites;

/* POPCORN_REWRITE_AT: every point, or a list of point indices (1-based over the run). */
#define MAX_REWRITE_POINTS 256
static int rewrite_all;
static unsigned long long rewrite_points[MAX_REWRITE_POINTS];
static unsigned rewrite_point_count;
/* A rewrite asked for at a point where it was impossible waits for the next point. */
static int rewrite_deferred;
/* POPCORN_REWRITE_POISON=0: keep undescribed callee-saved registers (popcorn_transform options). */
static unsigned rewrite_options;

#ifdef POPCORN_HAVE_PROCESS_MOVE
/* The cross-ISA process move (checkpoint*.c), when linked: weak so the runtime works alone. */
extern int __popcorn_should_migrate(unsigned long long point_index, enum popcorn_isa *dst) __attribute__((weak));
extern void __popcorn_move_request_done(void) __attribute__((weak));
extern int __popcorn_move_keep_pending(void) __attribute__((weak));
extern int __popcorn_move_to_regs(enum popcorn_isa dst, const struct popcorn_move_regs *regs)
    __attribute__((weak));
extern unsigned long long __popcorn_process_moves __attribute__((weak));
extern unsigned long long __popcorn_moves_deferred(void) __attribute__((weak));
extern void __popcorn_move_refused(enum popcorn_isa dst, const char *file, const char *reason) __attribute__((weak));
/* Timing of the last process move (checkpoint.c, filled in by the restore). */
extern struct popcorn_move_timing __popcorn_move_timing __attribute__((weak));
#endif

/* POPCORN_STATS: time spent in same-ISA stack transformations and the frames they moved. */
static unsigned long long transform_ns, transform_frames, transform_count;

static uint64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* Frames on a stack the transformation built: from the innermost out to main, whose return
 * address is __popcorn_main_return (each frame's CFA is its SP plus the call site's frame size). */
static unsigned long long count_frames(const struct popcorn_regs *regs)
{
    const struct popcorn_table *table = popcorn_metadata_table(POPCORN_RUNTIME_ISA);
    if (!table)
        return 0;
    uint64_t sp = regs->reg[POPCORN_RUNTIME_ISA == POPCORN_ISA_X86_64 ? 7 : 31], pc = regs->pc;
    unsigned long long frames = 0;
    while (frames < (1u << 20)) {
        const struct popcorn_meta_call_site *site = popcorn_site_by_address(table, pc);
        if (!site)
            break;
        frames++;
        uint64_t cfa = sp + popcorn_site_frame_size(table, site);
        memcpy(&pc, (const void *)(uintptr_t)(cfa + popcorn_site_return_address_offset(table, site)), sizeof pc);
        sp = cfa;
        if (pc == (uint64_t)(uintptr_t)&__popcorn_main_return)
            break;
    }
    return frames;
}

/*
 * Two stacks that transformed frames are built on, alternately: a transformation always runs on
 * the stack it reads, so the destination is the one the thread is not on.  Mapped on first use
 * and kept (the program may hold stale pointers into a stack it left; reusing the memory
 * only after the next rewrite keeps those readable for a while, and costs no mmap per point).
 */
static struct {
    unsigned char *base;
    size_t size;
} stacks[2];

static size_t stack_size(void)
{
    struct rlimit rl;
    size_t size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > size)
        size = rl.rlim_cur > (256u << 20) ? (256u << 20) : (size_t)rl.rlim_cur;
    return size;
}

/* The pool stack the thread is not running on (mapped with a guard page), or -1. */
static int destination_stack(uint64_t sp)
{
    int pick = 0;
    for (int i = 0; i < 2; i++)
        if (stacks[i].base && sp >= (uint64_t)(uintptr_t)stacks[i].base &&
            sp < (uint64_t)(uintptr_t)stacks[i].base + stacks[i].size)
            pick = 1 - i;
    if (!stacks[pick].base) {
        size_t size = stack_size();
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        unsigned char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        mprotect(p, page, PROT_NONE);
        stacks[pick].base = p + page;
        stacks[pick].size = size;
    }
    return pick;
}

static uint64_t stack_pointer(const struct popcorn_regs *regs)
{
    return regs->reg[POPCORN_RUNTIME_ISA == POPCORN_ISA_X86_64 ? 7 : 31];
}

static int rewrite_wanted(unsigned long long point)
{
    if (rewrite_all || rewrite_deferred)
        return 1;
    for (unsigned i = 0; i < rewrite_point_count; i++)
        if (rewrite_points[i] == point)
            return 1;
    return 0;
}

/* The poisoned rewrite leaves nothing readable behind: the frames just moved, from the point's
 * SP to main's CFA, are overwritten, so a pointer anything kept into the old stack (instead of to
 * an object-stack object, or re-pointed by the transformation) reads poison and the run fails
 * instead of passing by luck.  This code's own frame is below that SP. */
static void poison_left_frames(uint64_t low, uint64_t high)
{
    for (uint64_t at = low & ~7ull; at + 8 <= high; at += 8)
        *(volatile uint64_t *)(uintptr_t)at = POPCORN_POISON_WORD;
}

/* Same-ISA rewrite: returns only when the stack could not be transformed here. */
static void rewrite_here(struct popcorn_regs *at)
{
    int which = destination_stack(stack_pointer(at));
    if (which < 0) {
        rewrite_deferred = 1;
        return;
    }
    static struct popcorn_regs next; /* not on either stack: read by __popcorn_resume after the switch */
    uint64_t started = print_rewrites ? monotonic_ns() : 0;
    enum popcorn_transform_status status =
        popcorn_transform_with_options(at, POPCORN_RUNTIME_ISA, stacks[which].base + stacks[which].size,
                                       stacks[which].size, &next, rewrite_options);
    if (print_rewrites && status == POPCORN_TRANSFORM_OK) {
        transform_ns += monotonic_ns() - started; /* the transformation alone, not the frame count */
        transform_frames += count_frames(&next);
        transform_count++;
    }
    if (status != POPCORN_TRANSFORM_OK) {
        rewrite_deferred = 1;
        return;
    }
    rewrite_deferred = 0;
    __atomic_fetch_add(&rewrites_done, 1, __ATOMIC_RELAXED);
    popcorn_jmp_bufs_commit(); /* jmp_bufs outside the new stack, once it is sure to be used */
    if (!(rewrite_options & POPCORN_TRANSFORM_KEEP_UNDESCRIBED))
        poison_left_frames(stack_pointer(at), popcorn_transform_source_top());
    __popcorn_serving_point = 0;
    __popcorn_resume(&next);
}

static uint64_t thread_pointer(void)
{
    uint64_t tp;
#if defined(__x86_64__)
    __asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
#else
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
#endif
    return tp;
}

#ifdef POPCORN_HAVE_PROCESS_MOVE
/* Cross-ISA move requested by the process-move half: transform, then hand over the registers. */
/* Why the last request could not be served at a point: a transformation status, or
 * DEFERRED_BY_THREADS (an enum value, not a string pointer: it is carried by moves, and the
 * runtime's constants are at different addresses on each ISA). */
#define DEFERRED_BY_THREADS (-1)
#define NOT_DEFERRED (-2)
static int deferral = NOT_DEFERRED;

static const char *deferral_text(int reason)
{
    if (reason == DEFERRED_BY_THREADS)
        return "the process runs several threads, and only single-threaded processes move";
    return popcorn_transform_status_string((enum popcorn_transform_status)reason);
}

/* A request that waits for a later point: the first of a run says so once. */
static void defer(enum popcorn_isa dst, int reason)
{
    deferral = reason;
    static int warned;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "popcorn: warning: migration to %s deferred: %s; it is tried again at every migration point\n",
                popcorn_isa_name(dst), deferral_text(reason));
}

static void move_to(struct popcorn_regs *at, enum popcorn_isa dst)
{
    int which = destination_stack(stack_pointer(at));
    if (which < 0) {
        defer(dst, POPCORN_TRANSFORM_NO_MEMORY);
        return;
    }
    if (&__popcorn_move_timing)
        __popcorn_move_timing.request_ns = monotonic_ns(); /* the move's time starts here */
    /* The destination's table is read from the destination's binary: when that binary cannot be
     * found or trusted, the move is impossible (one warning, the request dropped), as the
     * checkpoint would have found. */
    const char *file = NULL;
    const char *missing = popcorn_metadata_table(dst) ? NULL : popcorn_metadata_missing(dst, &file);
    if (missing) {
        if (__popcorn_move_refused)
            __popcorn_move_refused(dst, file, missing);
        if (__popcorn_move_request_done)
            __popcorn_move_request_done();
        return;
    }
    static struct popcorn_regs next;
    enum popcorn_transform_status status =
        popcorn_transform(at, dst, stacks[which].base + stacks[which].size, stacks[which].size, &next);
    if (status != POPCORN_TRANSFORM_OK) {
        defer(dst, (int)status); /* the request stays for the next point */
        return;
    }
    struct popcorn_move_regs regs;
    memcpy(regs.gpr, next.reg, sizeof regs.gpr);
    const uint64_t *vectors = next.reg + (dst == POPCORN_ISA_X86_64 ? 17 : 64);
    memset(regs.fpr, 0, sizeof regs.fpr);
    memcpy(regs.fpr, vectors, (dst == POPCORN_ISA_X86_64 ? 16 : 32) * sizeof(uint64_t));
    regs.pc = next.pc;
    regs.tp = thread_pointer();
    /* Served now: cleared before the checkpoint, so the restored process does not see it again.
     * If the move turns out impossible (no sibling, no qemu) it has warned and the request is
     * dropped too. */
    if (__popcorn_move_request_done)
        __popcorn_move_request_done();
    popcorn_jmp_bufs_commit(); /* before the checkpoint, which carries them over */
    /* Still set during the move (the checkpoint calls the C library); the restored process
     * clears it (restore.c). */
    __popcorn_move_to_regs(dst, &regs);
    popcorn_jmp_bufs_rollback(); /* the move could not happen: the program goes on here */
}
#endif

#ifdef POPCORN_HAVE_PROCESS_MOVE
/* The leading fields of musl's process-wide state (`struct __libc` in musl 1.2's
 * src/internal/libc.h, the version Debian 12 ships): pthread_create and thread exit keep
 * threads_minus_1 current. */
struct popcorn_musl_libc_prefix {
    char can_do_threads, threaded, secure;
    volatile signed char need_locks;
    int threads_minus_1;
};
extern struct popcorn_musl_libc_prefix __libc;

/* Only the calling thread's stack is transformed and an exec ends every other thread, so a
 * process moves only while it has one thread; until then a request waits (said once). */
static int move_must_wait(enum popcorn_isa dst)
{
    int others = __atomic_load_n(&__libc.threads_minus_1, __ATOMIC_RELAXED);
    if (others <= 0)
        return 0;
    defer(dst, DEFERRED_BY_THREADS);
    return 1;
}
#endif

void __popcorn_migrate_point_captured(struct popcorn_regs *at)
{
    if (__popcorn_serving_point)
        return;
    __popcorn_serving_point = 1;
    unsigned long long point = __atomic_add_fetch(&points_reached, 1, __ATOMIC_RELAXED);
    if ((rewrite_all || rewrite_point_count || rewrite_deferred) && rewrite_wanted(point))
        rewrite_here(at);
    int keep = keep_pending || rewrite_deferred;
#ifdef POPCORN_HAVE_PROCESS_MOVE
    enum popcorn_isa dst;
    if (__popcorn_should_migrate && __popcorn_move_to_regs && __popcorn_should_migrate(point, &dst)
        && !move_must_wait(dst))
        move_to(at, dst);
    if (__popcorn_move_keep_pending)
        keep |= __popcorn_move_keep_pending();
#endif
    if (!keep)
        __popcorn_migration_pending = 0;
    __popcorn_serving_point = 0;
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

unsigned long long popcorn_stack_rewrites(void)
{
    return __atomic_load_n(&rewrites_done, __ATOMIC_RELAXED);
}

static void print_statistics(void)
{
    popcorn_runtime_begin(); /* the process ends after the report */
    unsigned long long moves = 0;
#ifdef POPCORN_HAVE_PROCESS_MOVE
    if (&__popcorn_process_moves)
        moves = __popcorn_process_moves;
    if (&__popcorn_move_timing && __popcorn_move_timing.moves) {
        /* The last move: the runtime's own time (request to resumed execution, without the exec,
         * the loader and qemu-user's start-up, which are reported apart). */
        const struct popcorn_move_timing *t = &__popcorn_move_timing;
        fprintf(stderr,
                "migration: checkpoint %llu us, restore %llu us, total %llu us, exec and start-up %llu us, "
                "saved %llu of %llu KiB\n",
                (unsigned long long)(t->checkpoint_ns / 1000), (unsigned long long)(t->restore_ns / 1000),
                (unsigned long long)((t->checkpoint_ns + t->restore_ns) / 1000),
                (unsigned long long)(t->exec_ns / 1000), (unsigned long long)(t->data_bytes >> 10),
                (unsigned long long)(t->mapped_bytes >> 10));
    }
#endif
    if (transform_count)
        fprintf(stderr, "transform: %llu frames in %llu ns (%llu transformations)\n", transform_frames,
                transform_ns, transform_count);
#ifdef POPCORN_HAVE_PROCESS_MOVE
    /* Every requested hop happened, or the run says why not. */
    unsigned long long deferred = __popcorn_moves_deferred ? __popcorn_moves_deferred() : 0;
    if (deferred)
        fprintf(stderr, "migrations deferred: %llu (%s)\n", deferred,
                deferral == NOT_DEFERRED ? "the run ended before another migration point" : deferral_text(deferral));
#endif
    fprintf(stderr, "migration points: %llu\nmigrations: %llu\n",
            __atomic_load_n(&points_reached, __ATOMIC_RELAXED), moves);
    if (print_rewrites)
        fprintf(stderr, "rewrites: %llu\n", __atomic_load_n(&rewrites_done, __ATOMIC_RELAXED));
}

/* Runs before main (init_array), so points in main itself are already counted. */
__attribute__((constructor)) static void migration_init(void)
{
    int outer = popcorn_runtime_begin();
    int stats_on = 0;
    popcorn_setting_flag("POPCORN_STATS", &stats_on);
    if (popcorn_setting_points("POPCORN_REWRITE_AT", rewrite_points, MAX_REWRITE_POINTS, &rewrite_point_count,
                               &rewrite_all) > 0) {
        int poison = 1;
        if (popcorn_setting_flag("POPCORN_REWRITE_POISON", &poison) > 0 && !poison)
            rewrite_options = POPCORN_TRANSFORM_KEEP_UNDESCRIBED;
        keep_pending = 1;
        print_rewrites = 1;
        __popcorn_migration_pending = 1;
    }
    if (stats_on) {
        keep_pending = 1;
        __popcorn_migration_pending = 1;
        atexit(print_statistics);
    }
    popcorn_runtime_end(outer);
}
