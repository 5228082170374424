/*
 * setjmp/longjmp and sigsetjmp/siglongjmp across stack transformations: errors thrown at several
 * depths after migration points, protected calls nested like Lua's pcall (handlers on the stack,
 * chained through a pointer in a mapping of its own, like Lua's L->errorJmp), buffers in a global, on the heap and on the stack, a retry
 * loop with a volatile counter, and signal masks restored by siglongjmp.  The output must not
 * depend on where (or whether) the stack was rewritten or moved.
 */
#include <popcorn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static unsigned long checksum = 1469598103934665603ul;

static void __attribute__((noinline)) note(const char *what, long value)
{
    printf("%s %ld\n", what, value);
    for (const char *p = what; *p; p++)
        checksum = (checksum ^ (unsigned char)*p) * 1099511628211ul;
    checksum = (checksum ^ (unsigned long)value) * 1099511628211ul;
}

static long __attribute__((noinline)) mix(long s, long i)
{
    return s * 31 + (i ^ (s >> 7));
}

/* Computation inside protected code.  Its loop only computes, which gives it no migration points
 * of its own (a request would wait for it to return), so a point every sixteen steps keeps moves
 * happening in the middle of it, deep inside the protected calls. */
static long __attribute__((noinline)) work(long n)
{
    long s = n;
    for (long i = 0; i < n; i++) {
        if (i % 16 == 0)
            popcorn_migrate_point();
        s = mix(s, i) & 0xffffffffffl;
    }
    return s;
}

/* ---- protected calls: handlers on the stack, the innermost one in the state (Lua's errorJmp) ---- */

/* 16-aligned, which puts the handler at the bottom of protected_call's x86_64 frame, as Lua's
 * lua_longjmp is in luaD_rawrunprotected's: that frame's stack pointer is then also the address
 * of a moved object holding a buffer (see firstRewriteAtAnyPointKeepsLongjmpWorking). */
struct handler {
    jmp_buf buf;
    int status;
    long depth;
    struct handler *previous;
} __attribute__((aligned(16)));

/* The innermost handler, in a state object of its own mapping (Lua keeps L->errorJmp in its heap):
 * mapped first, so it lies between the native stack and anything mapped later — a rewrite's new
 * stack, the runtime's scratch — where the stack transformation's scan for pointers to moved
 * buffers must still find it. */
struct interpreter_state {
    struct handler *current_handler;
};
static struct interpreter_state *state;
#define current_handler (state->current_handler)

static void __attribute__((noinline, noreturn)) throw_error(int status)
{
    current_handler->status = status;
    longjmp(current_handler->buf, 1);
}

typedef void (*body_fn)(long);

static int __attribute__((noinline)) protected_call(body_fn body, long argument)
{
    struct handler h;
    h.status = 0;
    h.depth = argument;
    h.previous = current_handler;
    current_handler = &h;
    if (setjmp(h.buf) == 0)
        body(argument);
    current_handler = h.previous;
    return h.status;
}

/* Descends `depth` frames, working at each, then throws. */
static long __attribute__((noinline)) descend(long depth, int status)
{
    long here = work(40 + depth);
    if (depth == 0)
        throw_error(status);
    return here + descend(depth - 1, status);
}

static void __attribute__((noinline)) body_throws(long depth)
{
    note("body_throws", work(100));
    descend(depth, (int)(10 + depth));
}

static void __attribute__((noinline)) body_returns(long n)
{
    note("body_returns", work(n));
}

/* pcall inside pcall: the inner error is caught, then the outer body throws itself. */
static void __attribute__((noinline)) body_nested(long depth)
{
    int inner = protected_call(body_throws, depth);
    note("nested inner status", inner);
    int ok = protected_call(body_returns, 60 + depth);
    note("nested ok status", ok);
    note("nested work", work(80));
    descend(depth / 2, 40);
}

static void protected_calls(void)
{
    for (long depth = 0; depth < 6; depth++) {
        note("status", protected_call(body_throws, depth));
        note("status", protected_call(body_returns, 50 + depth));
        note("status", protected_call(body_nested, depth));
        note("handler restored", current_handler == NULL);
    }
}

/* ---- a global buffer, errors from deep recursion ---- */

static jmp_buf global_buffer;

static long __attribute__((noinline)) dive(long depth, long target)
{
    long s = work(30);
    if (depth == target)
        longjmp(global_buffer, (int)(depth + 1));
    return s + dive(depth + 1, target);
}

static void global_buffers(void)
{
    for (long target = 0; target < 8; target += 3) {
        long unchanged = target * 7 + 1; /* not modified after setjmp: keeps its value */
        int got = setjmp(global_buffer);
        if (got == 0) {
            dive(0, target);
            note("unreachable", target);
        } else {
            note("global caught", got);
            note("global unchanged", unchanged);
        }
    }
}

/* ---- a buffer on the heap; a retry loop with a volatile counter ---- */

static long __attribute__((noinline)) heap_fail(jmp_buf *where, long n)
{
    long s = work(n);
    if (s >= 0)
        longjmp(*where, 2);
    return s;
}

static void heap_buffers(void)
{
    jmp_buf *buffer = malloc(sizeof *buffer);
    volatile int attempts = 0;
    if (setjmp(*buffer) != 0)
        note("heap retry", attempts);
    attempts++;
    if (attempts < 5)
        heap_fail(buffer, 70 + attempts);
    note("heap attempts", attempts);
    free(buffer);
}

/* ---- a buffer passed down by pointer, in a struct on the caller's stack ---- */

struct context {
    long level;
    jmp_buf *escape;
};

static long __attribute__((noinline)) walk(struct context *c, long n)
{
    long s = work(20 + n);
    if (n == 0)
        longjmp(*c->escape, (int)c->level);
    return s + walk(c, n - 1);
}

static void pointer_buffers(void)
{
    for (long level = 1; level <= 3; level++) {
        jmp_buf escape;
        struct context c = {level, &escape};
        int got = setjmp(escape);
        if (got == 0)
            walk(&c, level * 2);
        else
            note("pointer caught", got);
    }
}

/* ---- sigsetjmp/siglongjmp: the mask is restored only when it was saved ---- */

static int __attribute__((noinline)) usr1_blocked(void)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGUSR1);
}

static void __attribute__((noinline)) change_usr1(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(how, &set, NULL);
}

static sigjmp_buf signal_buffer;

static void __attribute__((noinline)) block_and_jump(int value)
{
    change_usr1(SIG_BLOCK);
    note("blocked before jump", usr1_blocked());
    note("signal work", work(90 + value));
    siglongjmp(signal_buffer, value);
}

static void signal_masks(void)
{
    change_usr1(SIG_UNBLOCK); /* whatever mask the program was started with */
    for (int save = 1; save >= 0; save--) {
        int got = sigsetjmp(signal_buffer, save);
        if (got == 0)
            block_and_jump(5 + save);
        note("siglongjmp value", got);
        note("blocked after siglongjmp", usr1_blocked());
        change_usr1(SIG_UNBLOCK);
    }
}

int main(void)
{
    state = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (state == MAP_FAILED)
        return 1;
    protected_calls();
    global_buffers();
    heap_buffers();
    pointer_buffers();
    signal_masks();
    printf("checksum %lx\n", checksum);
    return 0;
}
