/* Stack transformation stress: large frames and arrays on the stack, pointers to a caller's
 * array and struct passed down several levels, a pointer stored inside a caller's struct,
 * function pointers, and many values live across calls at once. */
#include <stdio.h>
#include <string.h>

struct node {
    int value;
    struct node *next; /* points into another frame */
};

typedef long (*op_fn)(long, long);

static long add(long a, long b) { return a + b; }
static long mul(long a, long b) { return (a * b) % 1000003; }

static long fold(const long *values, int n, op_fn op, long start)
{
    long acc = start;
    for (int i = 0; i < n; i++)
        acc = op(acc, values[i]);
    return acc;
}

static void fill(long *out, int n, int seed)
{
    for (int i = 0; i < n; i++)
        out[i] = (seed * 31 + i * 17) % 9973;
}

static int walk(const struct node *n)
{
    int sum = 0;
    for (; n; n = n->next)
        sum += n->value;
    return sum;
}

static int chain(int depth, struct node *outer)
{
    struct node mine = {depth, outer};
    if (depth == 0)
        return walk(&mine);
    return chain(depth - 1, &mine) + mine.value;
}

static long big_frame(int level)
{
    long table[2048];
    char text[512];
    fill(table, 2048, level);
    snprintf(text, sizeof text, "level-%d", level);
    long r = fold(table, 2048, level % 2 ? add : mul, 1);
    if (level > 0)
        r += big_frame(level - 1);
    return r + (long)strlen(text) + table[level];
}

int main(void)
{
    long local[64];
    fill(local, 64, 3);
    op_fn ops[2] = {add, mul};
    long a = fold(local, 64, ops[0], 0);
    long b = fold(local, 64, ops[1], 1);
    int c = chain(40, NULL);
    long d = big_frame(12);
    double x = 1.25, y = -3.5, z = 1e-3;
    for (int i = 0; i < 50; i++) {
        x = x * 1.01 + y * z;
        y = y - fold(local, 8, ops[i % 2], i) * 1e-9;
    }
    printf("a %ld b %ld c %d d %ld\n", a, b, c, d);
    printf("x %.9f y %.9f\n", x, y);
    return 0;
}
