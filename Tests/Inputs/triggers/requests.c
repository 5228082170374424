/* Migration requests through the <popcorn.h> API and requests that land where the stack cannot
 * move. stdout is the same whatever happens; stderr tells where each phase ran.
 *
 *   requests api     asks for the other ISA once (popcorn_migrate) half-way through a loop,
 *                    then asks for the ISA it is already on: exactly one move.
 *   requests sort    sorts with qsort; the comparator's migration points are reached with a
 *                    libc frame (qsort) below them, so a request made there must wait until
 *                    qsort has returned.
 * With NO_REQUEST=1 in the environment no request is made: the reference output. */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long keys[4000];
static int comparisons;
static int request_inside_sort = -1;
static int no_request;

static void request(enum popcorn_isa isa)
{
    if (!no_request)
        popcorn_migrate(isa);
}

/* A bounded helper like this gets no automatic points; the explicit one is where the loop's
 * requests are served. */
__attribute__((noinline)) static long mix(long i)
{
    popcorn_migrate_point();
    return (i * 2654435761L) % 100003;
}

__attribute__((noinline)) static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    if (++comparisons == request_inside_sort)
        request(popcorn_current_isa() == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64);
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "api";
    no_request = getenv("NO_REQUEST") != NULL;
    enum popcorn_isa start = popcorn_current_isa();
    long sum = 0;
    if (strcmp(mode, "api") == 0) {
        enum popcorn_isa other = start == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64;
        for (long i = 0; i < 400; i++) {
            if (i == 100)
                request(other);
            if (i == 300)
                request(popcorn_current_isa()); /* already there: nothing to do */
            sum += mix(i);
        }
    } else {
        for (long i = 0; i < 4000; i++)
            keys[i] = mix(i);
        request_inside_sort = 500;
        qsort(keys, 4000, sizeof keys[0], by_value);
        for (long i = 0; i < 4000; i += 97)
            sum += keys[i] * (i + 1);
        for (long i = 0; i < 50; i++)
            sum += mix(i);
    }
    printf("%s %ld\n", mode, sum);
    fprintf(stderr, "started on %s, finished on %s\n", popcorn_isa_name(start), popcorn_isa_name(popcorn_current_isa()));
    return 0;
}
