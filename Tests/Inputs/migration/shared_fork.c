/*
 * MAP_SHARED anonymous memory shared with a forked child cannot follow a move (the child keeps
 * the old pages): while the child runs, every move is refused before the point of no return with
 * one warning, and the program goes on with the child seeing its writes.  Before the fork and
 * after the child has ended, the memory is this process's alone and moves with it.  The program
 * asks for moves itself while the child runs (popcorn_migrate); POPCORN_MIGRATE_AT adds more.
 * Nothing printed on stdout depends on whether or where it moved.
 */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static long work(int n)
{
    if (n <= 0)
        return 1;
    return work(n - 1) * 7 % 1000003 + n;
}

static enum popcorn_isa other_isa(void)
{
    return popcorn_current_isa() == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64;
}

int main(void)
{
    volatile long *shared = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return 1;
    shared[0] = 1;
    long total = work(60);
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0)
        return 1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        /* The child maps the pages too (it writes them), then waits for the parent's word. */
        shared[1] = 100;
        shared[512] = 7;
        char c = 'r';
        write(ready[1], &c, 1);
        read(go[0], &c, 1);
        shared[2] = shared[3] + 1000; /* answers what the parent wrote meanwhile */
        _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    for (int round = 0; round < 5; round++) {
        popcorn_migrate(other_isa()); /* refused: the child shares the memory */
        total += work(40);
        shared[3] += round + 1;
    }
    write(go[1], &c, 1);
    int status = 0;
    waitpid(child, &status, 0);
    printf("child: exit %d, wrote %ld %ld, answered %ld\n", WEXITSTATUS(status), shared[1], shared[512], shared[2]);
    /* The child is gone: the memory is ours alone again and moves with us. */
    for (int round = 0; round < 4; round++) {
        total += work(40);
        shared[4] += shared[3] * round;
    }
    printf("shared %ld %ld %ld %ld %ld, total %ld\n", shared[0], shared[1], shared[2], shared[3], shared[4], total);
    return 0;
}
