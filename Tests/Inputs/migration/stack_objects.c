/*
 * Pointers to stack objects kept everywhere a program keeps pointers: a local of main whose
 * address is in a heap structure, in a global, in a thread-local and in another local; a
 * variable-length array and an alloca() area in a recursive function that calls others while
 * they are live.  Moved at any migration point, every one of those pointers must still reach
 * its object.  Nothing printed depends on the ISA.
 */
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __popcorn__ /* also built by plain clang, as the test's oracle */
#include <popcorn.h>
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;
#endif

struct context {
    int *input;    /* main's `input` */
    long *counter; /* main's `counter` */
    char *label;   /* main's `label` */
};

static long *global_counter;
static _Thread_local int *thread_input;

__attribute__((noinline)) static long walk(struct context *ctx, int depth)
{
    int n = 8 + depth % 5;
    long values[n];                        /* a variable-length array */
    char *scratch = alloca(24 + depth);    /* and an alloca() area */
    for (int i = 0; i < n; i++)
        values[i] = (long)*ctx->input * i + depth;
    snprintf(scratch, 24 + depth, "%s:%d", ctx->label, depth);
    long sum = depth > 0 ? walk(ctx, depth - 1) : 0; /* points below, with both live */
    for (int i = 0; i < n; i++)
        sum += values[i];
    *ctx->counter += 1;
    *global_counter += 2;
    return sum + (long)strlen(scratch) + *thread_input;
}

int main(void)
{
    int input = 3;
    long counter = 0;
    char label[16] = "objects";
    struct context on_stack = {&input, &counter, label};
    struct context *on_heap = malloc(sizeof *on_heap);
    *on_heap = on_stack;
    global_counter = &counter;
    thread_input = &input;
    long total = 0;
    for (int round = 0; round < 6; round++) {
        total += walk(round % 2 ? on_heap : &on_stack, 8);
        input += 2;
        label[0] = (char)('a' + round);
    }
    printf("total %ld counter %ld input %d label %s\n", total, counter, *on_heap->input, on_heap->label);
    free(on_heap);
    return 0;
}
