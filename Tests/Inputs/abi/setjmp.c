/*
 * ABI test: non-local jumps.
 * Covers: setjmp/longjmp across several frames, the value returned by the second return of
 * setjmp (including longjmp(env, 0) → 1), volatile locals surviving the jump, nested jump
 * buffers, sigsetjmp/siglongjmp with and without saving the signal mask (checked with
 * sigprocmask), and leaving a signal handler with siglongjmp.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf outer, inner;
static sigjmp_buf with_mask, without_mask, from_handler;
static int depth_reached;

static void dive(int depth, int value)
{
    depth_reached = depth;
    if (depth == 5)
        longjmp(outer, value);
    dive(depth + 1, value);
}

static int nested_jumps(void)
{
    volatile int steps = 0;
    if (setjmp(inner) == 0) {
        steps += 1;
        longjmp(inner, 2);
    }
    steps += 10;
    return steps;
}

static int usr1_blocked(void)
{
    sigset_t current;
    sigprocmask(SIG_BLOCK, NULL, &current);
    return sigismember(&current, SIGUSR1);
}

static void block_usr1(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static void unblock_usr1(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void on_usr2(int sig)
{
    siglongjmp(from_handler, sig == SIGUSR2 ? 77 : 1);
}

int main(void)
{
    volatile int counter = 0;
    int r = setjmp(outer);
    counter++;
    if (r == 0)
        dive(0, 42);
    printf("longjmp: r=%d depth=%d counter=%d\n", r, depth_reached, counter);

    r = setjmp(outer);
    if (r == 0)
        longjmp(outer, 0);
    printf("longjmp(0) returns %d\n", r);

    printf("nested: %d\n", nested_jumps());

    /* Mask saved: siglongjmp restores the mask at sigsetjmp time (SIGUSR1 unblocked). */
    r = sigsetjmp(with_mask, 1);
    if (r == 0) {
        block_usr1();
        printf("saved mask: blocked before jump=%d\n", usr1_blocked());
        siglongjmp(with_mask, 3);
    }
    printf("saved mask: r=%d blocked after jump=%d\n", r, usr1_blocked());

    /* Mask not saved: the blocked signal stays blocked. */
    r = sigsetjmp(without_mask, 0);
    if (r == 0) {
        block_usr1();
        siglongjmp(without_mask, 4);
    }
    printf("unsaved mask: r=%d blocked after jump=%d\n", r, usr1_blocked());
    unblock_usr1();

    /* Out of a signal handler; SIGUSR2 is blocked inside the handler and unblocked again. */
    struct sigaction sa;
    sa.sa_handler = on_usr2;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
    r = sigsetjmp(from_handler, 1);
    if (r == 0) {
        raise(SIGUSR2);
        printf("handler did not jump\n");
    }
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("from handler: r=%d usr2 blocked=%d\n", r, sigismember(&now, SIGUSR2));
    return 0;
}
