/*
 * Stack-transformation benchmark (scripts/bench.py): recurses to a depth given on the command
 * line and then reaches many migration points at that depth.  Run with POPCORN_STATS=1
 * POPCORN_REWRITE_AT=all POPCORN_REWRITE_POISON=0: every point rewrites the whole stack onto a
 * fresh one of the same ISA, and the runtime prints `transform: N frames in T ns (K
 * transformations)`.  The descent itself is a small share of the points when `ticks` is large.
 *
 *   transform_depth <depth> <ticks>
 */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long sink;

/* A call with a migration point of its own (a function this small is bounded and would get no
 * automatic points); not inlined, so each tick is one point at the bottom of the stack. */
__attribute__((noinline)) static long tick(long i)
{
    popcorn_migrate_point();
    sink = i;
    return i * 3 + 1;
}

/* Each level keeps `depth` and a local whose address it passes down live across the call, so
 * every frame has values and a stack object to move (and the recursion cannot become a loop). */
__attribute__((noinline)) static long descend(int depth, int ticks, long *outer)
{
    long here = depth;
    if (depth <= 1) {
        long sum = 0;
        for (int i = 0; i < ticks; i++)
            sum += tick(i);
        *outer += sum;
        return sum;
    }
    long below = descend(depth - 1, ticks, &here);
    *outer += here;
    return below * 3 + depth;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <depth> <ticks>\n", argv[0]);
        return 2;
    }
    int depth = atoi(argv[1]), ticks = atoi(argv[2]);
    long outer = 0;
    long result = descend(depth, ticks, &outer);
    printf("result %ld %ld\n", result, outer);
    return 0;
}
