/*
 * A call after a conditional store, in a function small enough that the machine tail duplicator
 * copies the block of the call into both predecessors at -O3: each copy would carry the call's
 * stackmap, with the same call-site ID.
 */
#include <stdio.h>
#include <stdlib.h>

#ifdef __popcorn__ /* also built by plain clang, as the test's oracle */
#include <popcorn.h>
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;
#endif

static signed char last;
static long seen;

__attribute__((noinline)) static void check(signed char value)
{
    if (value == 0)
        abort();
    seen += value;
}

__attribute__((noinline)) static void record(const signed char *text)
{
    signed char first = text[0];
    int wide = first;
    if (!(wide >= 0 && wide <= 0x7f))
        last = first;
    check(first);
}

int main(void)
{
    static const signed char samples[] = {0x54, -0x79, 0x21, -0x02, 0x7f};
    for (int round = 0; round < 400; round++)
        record(&samples[round % 5]);
    printf("last %d seen %ld\n", last, seen);
    return 0;
}
