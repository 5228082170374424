/*
 * Cancellation points of the portable C library (both ISAs).
 *
 * musl's per-ISA assembly checks the thread's cancel flag and enters the kernel between two
 * labels, so that the cancellation signal's handler can tell "blocked in this system call" from
 * the program counter. Here the call goes through the per-ISA translation layer, which has no
 * such window: a pending cancellation is acted on when the point is entered, and a thread
 * blocked inside the system call is cancelled at its next cancellation point (docs/LIBC.md).
 * The labels exist for the C library's handler, which never finds a program counter between
 * them.
 */
long __popcorn_syscall(long, long, long, long, long, long, long);
long __cancel(void);

long __syscall_cp_asm(volatile int *cancel, long n, long a, long b, long c, long d, long e, long f)
{
    if (*cancel) return __cancel();
    return __popcorn_syscall(n, a, b, c, d, e, f);
}

/* Never a program counter: data, not code. */
const char __cp_begin[1], __cp_end[1], __cp_cancel[1];
