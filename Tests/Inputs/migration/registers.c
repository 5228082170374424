/* Stack transformation stress: many integer and floating-point values live across calls at
 * the same time (the backend would keep them in callee-saved registers), mutual recursion,
 * and calls through a table of function pointers. */
#include <stdio.h>

static volatile int sink;
/* Never set: the indirect call keeps touch (and so every function here) from being bounded, so
 * each gets migration points of its own and the values live across its calls are rewritten. */
static void (*volatile hook)(void);

static void touch(int v) { if (hook) hook(); sink = v; }

static int odd(int n);
static int even(int n) { touch(n); return n == 0 ? 1 : odd(n - 1); }
static int odd(int n) { touch(n); return n == 0 ? 0 : even(n - 1); }

static double mix(int n)
{
    long a = n, b = n * 3, c = n ^ 0x55, d = n * n, e = n - 9, f = n + 100;
    double p = n * 0.5, q = n * 0.25, r = 1.0 / (n + 1), s = n * 1.5;
    touch(n);
    a += b; c += d; e += f;
    touch((int)a);
    p += q * r; s -= r;
    touch((int)c);
    return (double)(a + c + e) + p + q + r + s + (double)(b - d + f);
}

typedef double (*fn)(int);
static double twice(int n) { return mix(n) * 2; }
static double negate(int n) { return -mix(n); }

int main(void)
{
    fn table[3] = {mix, twice, negate};
    double total = 0;
    for (int i = 0; i < 30; i++)
        total += table[i % 3](i);
    printf("total %.6f\n", total);
    printf("even(25) %d even(40) %d\n", even(25), even(40));
    return 0;
}
