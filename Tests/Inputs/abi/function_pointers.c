/*
 * ABI test: function pointers stored in data.
 * Covers: const and writable tables of function pointers (in .rodata / .data.rel.ro and
 * .data), a struct of callbacks, function pointers to libc functions in initialised globals
 * (strlen, strcmp, toupper), qsort and bsearch with program comparators, a state machine
 * driven by a table of handlers, function pointers passed as arguments and returned, pointers
 * reassigned at run time, and atexit handlers.  Function pointers are compared, never printed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef long (*binary_op)(long, long);

static long add(long a, long b) { return a + b; }
static long sub(long a, long b) { return a - b; }
static long mul(long a, long b) { return a * b; }
static long maxl(long a, long b) { return a > b ? a : b; }

static const struct {
    const char *name;
    binary_op fn;
} const_ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"max", maxl}};

static binary_op writable_ops[4] = {add, sub, mul, maxl};

static size_t (*libc_strlen)(const char *) = strlen;
static int (*libc_strcmp)(const char *, const char *) = strcmp;
static int (*libc_toupper)(int) = toupper;

struct callbacks {
    void (*on_start)(const char *);
    int (*on_item)(int);
    void (*on_end)(int);
};

static void start_cb(const char *what) { printf("start %s\n", what); }
static int item_cb(int x) { return x * x; }
static void end_cb(int total) { printf("end total=%d\n", total); }

static const struct callbacks default_callbacks = {start_cb, item_cb, end_cb};

static void run(const struct callbacks *cb, const int *items, int n)
{
    cb->on_start("run");
    int total = 0;
    for (int i = 0; i < n; i++)
        total += cb->on_item(items[i]);
    cb->on_end(total);
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int compare_desc(const void *a, const void *b)
{
    return compare_ints(b, a);
}

/* A small state machine: each state's handler returns the next state. */
enum state { IDLE, READING, DONE, STATE_COUNT };
typedef enum state (*handler)(char c, int *acc);
static enum state on_idle(char c, int *acc) { return isdigit((unsigned char)c) ? (*acc = c - '0', READING) : IDLE; }
static enum state on_reading(char c, int *acc)
{
    if (isdigit((unsigned char)c)) {
        *acc = *acc * 10 + (c - '0');
        return READING;
    }
    return DONE;
}
static enum state on_done(char c, int *acc) { (void)c, (void)acc; return DONE; }
static handler const machine[STATE_COUNT] = {on_idle, on_reading, on_done};

static binary_op pick(const char *name)
{
    for (size_t i = 0; i < sizeof const_ops / sizeof const_ops[0]; i++)
        if (libc_strcmp(const_ops[i].name, name) == 0)
            return const_ops[i].fn;
    return NULL;
}

static long fold(binary_op op, const long *values, int n)
{
    long acc = values[0];
    for (int i = 1; i < n; i++)
        acc = op(acc, values[i]);
    return acc;
}

static void first_exit(void) { printf("atexit: first registered, runs last\n"); }
static void second_exit(void) { printf("atexit: second registered, runs first\n"); }

int main(void)
{
    atexit(first_exit);
    atexit(second_exit);
    for (size_t i = 0; i < 4; i++)
        printf("const_ops[%s](7, 3) = %ld\n", const_ops[i].name, const_ops[i].fn(7, 3));
    writable_ops[1] = writable_ops[2];
    writable_ops[3] = add;
    for (int i = 0; i < 4; i++)
        printf("writable_ops[%d](6, 4) = %ld\n", i, writable_ops[i](6, 4));
    printf("same function: %d %d\n", writable_ops[3] == const_ops[0].fn, writable_ops[1] == sub);

    printf("libc: strlen=%zu strcmp<0=%d toupper=%c\n", libc_strlen("popcorn"),
           libc_strcmp("abc", "abd") < 0, libc_toupper('q'));

    int items[] = {3, 1, 4, 1, 5};
    run(&default_callbacks, items, 5);
    struct callbacks custom = default_callbacks;
    custom.on_item = abs;
    int negatives[] = {-2, 3, -4};
    run(&custom, negatives, 3);

    int data[] = {42, -7, 19, 0, 88, 3, 19, -50};
    qsort(data, 8, sizeof data[0], compare_ints);
    printf("qsort:");
    for (int i = 0; i < 8; i++)
        printf(" %d", data[i]);
    int key = 19;
    int *found = bsearch(&key, data, 8, sizeof data[0], compare_ints);
    printf("\nbsearch 19: found=%d value=%d\n", found != NULL, found ? *found : 0);
    qsort(data, 8, sizeof data[0], compare_desc);
    printf("qsort desc: %d..%d\n", data[0], data[7]);

    const char *input = "  12345x";
    enum state s = IDLE;
    int acc = 0;
    for (const char *p = input; *p; p++)
        s = machine[s](*p, &acc);
    printf("machine: state=%d value=%d\n", s, acc);

    long values[] = {5, 9, 2, 7};
    const char *names[] = {"add", "mul", "max", "sub", "none"};
    for (int i = 0; i < 5; i++) {
        binary_op op = pick(names[i]);
        if (op)
            printf("fold %s = %ld\n", names[i], fold(op, values, 4));
        else
            printf("fold %s: no such op\n", names[i]);
    }
    return 0;
}
