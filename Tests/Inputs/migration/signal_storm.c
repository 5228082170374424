/*
 * A longer-running program for moves requested by signal (POPCORN_MIGRATE_SIGNAL=1): the test
 * sends SIGUSR2 every millisecond for the whole run, so requests arrive at every stage of a move
 * (between the request and the checkpoint, during the checkpoint, the exec and the restore).
 * Heap data, a buffered partial line, globals and thread-locals must come out as in the run that
 * got no signal.  Nothing printed depends on how often, or whether, it moved.
 */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mover is linked only into programs that reference the migration API. */
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;

#define WORDS 4096

static unsigned long long total = 1469598103934665603ull;
static _Thread_local unsigned long long thread_steps;

/* About a millisecond of work between migration points: a signal per millisecond finds the
 * program in the middle of it as often as at a point. */
__attribute__((noinline)) static unsigned long long mix(unsigned long long *words, int round)
{
    unsigned long long h = (unsigned long long)round * 0x9e3779b97f4a7c15ull;
    for (int pass = 0; pass < 100; pass++)
        for (int i = 0; i < WORDS; i++) {
            words[i] = words[i] * 6364136223846793005ull + h + (unsigned long long)i;
            h ^= words[i] >> 17;
        }
    thread_steps++;
    return h;
}

__attribute__((noinline)) static unsigned long long step(unsigned long long *words, int round, int depth)
{
    if (depth > 0)
        return step(words, round, depth - 1) * 31 + (unsigned long long)depth;
    return mix(words, round);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 120;
    unsigned long long *words = calloc(WORDS, sizeof *words);
    /* The sender waits for this: before main, SIGUSR2 still has its default action (ending the
     * process) or, before the runtime's constructors, no handler at all. */
    fputs("started\n", stderr);
    printf("rounds %d:", rounds); /* partial line, buffered across the moves */
    for (int round = 0; round < rounds; round++) {
        total = total * 1099511628211ull ^ step(words, round, round % 2);
        if (round % 40 == 39)
            printf(" %llx", total & 0xffffff);
    }
    printf("\ntotal %llx steps %llu\n", total, thread_steps);
    free(words);
    return 0;
}
