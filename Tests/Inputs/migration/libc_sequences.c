/* Frame addresses kept in callee-saved registers across C library calls (which have no
 * stackmaps) and materialised again after a program call: the backend's late cleanup used to
 * drop the second materialisation and rely on the register across the program call. */
#include <signal.h>
#include <stdio.h>

static long checksum;

__attribute__((noinline)) static long work(long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += i * i % 7;
    return s;
}

static void note(const char *what, long value)
{
    checksum = checksum * 31 + value;
    printf("%s %ld\n", what, value);
}

static int usr1_blocked(void)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGUSR1);
}

static void change_usr1(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(how, &set, NULL);
}

__attribute__((noinline)) static void toggle(int rounds)
{
    for (int i = 0; i < rounds; i++) {
        change_usr1(SIG_BLOCK);
        note("blocked", usr1_blocked());
        note("work", work(50 + i));
        change_usr1(SIG_UNBLOCK);
        note("unblocked", usr1_blocked());
        note("work", work(20 + i));
    }
}

int main(void)
{
    change_usr1(SIG_UNBLOCK);
    toggle(6);
    printf("checksum %lx\n", (unsigned long)checksum);
    return 0;
}
