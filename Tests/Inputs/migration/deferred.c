/*
 * Moves requested while they cannot happen: qsort (musl's, a frame the metadata does not
 * describe) is on the stack below its comparator, so a request made at a comparator's point waits
 * until the sort has returned.  Two requests during the sort: the second replaces the first,
 * which never happens; the run must say so.
 */
#include <stdio.h>
#include <stdlib.h>

#ifdef __popcorn__
#include <popcorn.h>
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;
#endif

static int compare(const void *a, const void *b)
{
#ifdef __popcorn__
    /* A bounded function gets no automatic points: this one is where requests land inside qsort. */
    popcorn_migrate_point();
#endif
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static long checksum(const long *values, int n)
{
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum = sum * 31 + values[i];
    return sum;
}

int main(void)
{
    enum { N = 2000 };
    static long values[N];
    for (int i = 0; i < N; i++)
        values[i] = (i * 7919L) % 10007;
    qsort(values, N, sizeof values[0], compare);
#ifdef __popcorn__
    /* The waiting request is served at the next point; nothing after the sort has one of its own
     * (printf is the C library's, checksum is bounded, and main has no point before it returns). */
    popcorn_migrate_point();
#endif
    printf("sorted: %ld %ld %ld\n", values[0], values[N / 2], values[N - 1]);
    printf("checksum: %ld\n", checksum(values, N));
    return 0;
}
