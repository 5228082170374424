/*
 * A move requested inside qsort's comparator happens there: the comparator asks for one
 * (popcorn_migrate) at its 500th call, the request is served at the comparator's next migration
 * point while qsort's frames are below it, and the sort finishes on the other ISA. Prints
 * whether the ISA changed before the sort returned, and checks the result.
 */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long comparisons;
static enum popcorn_isa started_on, seen_after_request;
static int requested;

static int compare(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (++comparisons == 500 && !requested) {
        requested = 1;
        popcorn_migrate(started_on == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64);
    } else if (requested == 1) {
        requested = 2;
        seen_after_request = popcorn_current_isa(); /* the next call: after the comparator's entry point */
    }
    return (x > y) - (x < y);
}

int main(void)
{
    enum { N = 4000 };
    static int values[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        values[i] = (int)(seed >> 8) % 100000;
    }
    started_on = popcorn_current_isa();
    qsort(values, N, sizeof values[0], compare);
    int sorted = 1;
    long long sum = 0;
    for (int i = 0; i < N; i++) {
        sum += values[i];
        if (i && values[i - 1] > values[i]) sorted = 0;
    }
    printf("sorted: %s, sum %lld, first %d, last %d\n", sorted ? "yes" : "no", sum, values[0], values[N - 1]);
    printf("moved inside the comparator: %s\n", seen_after_request != started_on ? "yes" : "no");
    printf("ended on the other ISA: %s\n", popcorn_current_isa() != started_on ? "yes" : "no");
    return 0;
}
