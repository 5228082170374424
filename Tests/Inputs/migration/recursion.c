/* Stack transformation stress: deep recursion with values live across every call, doubles,
 * and a caller's local passed down by pointer and updated at depth. */
#include <stdio.h>

static long depth_sum(int n, long *acc, double scale)
{
    long here = n * 7 + 1;
    double f = n * scale;
    if (n == 0)
        return here;
    long below = depth_sum(n - 1, acc, scale * 1.001);
    *acc += here;
    return below + here + (long)(f * 0.5);
}

static int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(void)
{
    long acc = 0;
    long total = depth_sum(300, &acc, 1.5);
    printf("depth_sum %ld acc %ld\n", total, acc);
    printf("fib %d\n", fib(16));
    return 0;
}
