/*
 * Floating-point results that must have the same bits on every ISA and in moved runs: dot
 * products, a stencil, expressions a back end could fuse (a*b+c), and a sweep of libm over
 * 10,000 inputs, every result printed with %a. The C library's libm is one IR for both ISAs
 * (docs/LIBC.md) and contraction is off, so x86_64, aarch64 and every mix print the same.
 */
#include <math.h>
#include <stdio.h>

#define INPUTS 10000

static double input(int i) { return (i - INPUTS / 2) * 0.0137 + 0.5 / (i + 1); }

static double dot(const double *a, const double *b, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += a[i] * b[i]; /* a*b+c: fused on aarch64 if contraction were on */
    return sum;
}

int main(void)
{
    static double a[INPUTS], b[INPUTS], grid[2][64][64];
    for (int i = 0; i < INPUTS; i++) {
        a[i] = input(i);
        b[i] = 1.0 / (i + 3.0);
    }
    printf("dot %a\n", dot(a, b, INPUTS));
    float fa = 0;
    for (int i = 0; i < INPUTS; i++) fa = fa * 0.999f + (float)a[i] * (float)b[i];
    printf("float recurrence %a\n", fa);
    long double la = 0;
    for (int i = 0; i < 1000; i++) la = la * 0.999L + (long double)a[i] * b[i];
    printf("long double recurrence %La\n", la);

    /* A 5-point stencil, 50 sweeps. */
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) grid[0][y][x] = sin(x * 0.1) * cos(y * 0.07);
    for (int step = 0; step < 50; step++) {
        int from = step & 1, to = from ^ 1;
        for (int y = 1; y < 63; y++)
            for (int x = 1; x < 63; x++)
                grid[to][y][x] = 0.2 * grid[from][y][x] + 0.2 * (grid[from][y - 1][x] + grid[from][y + 1][x] +
                                                                 grid[from][y][x - 1] + grid[from][y][x + 1]);
    }
    double residual = 0;
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) residual += grid[0][y][x] * grid[0][y][x];
    printf("stencil %a\n", residual);

    /* libm over 10,000 inputs. */
    for (int i = 0; i < INPUTS; i++) {
        double x = input(i), y = b[i] * 7 - 1;
        printf("%d %a %a %a %a %a %a %a %a %a %a %a %a %a %a\n", i, sin(x), cos(x), tan(x), exp(x / 40), log(fabs(x) + 1e-3),
               pow(fabs(x) + 0.5, y), sqrt(fabs(x)), cbrt(x), atan2(x, y), expm1(x / 80), log1p(fabs(x)), erf(x / 10),
               fma(x, y, b[i]), hypot(x, y));
        if (i % 10 == 0)
            printf("  %a %a %a %a %La %La\n", sinf((float)x), expf((float)x / 40), powf((float)fabs(x) + 0.5f, (float)y),
                   tgamma(x / 100 + 1.5), sqrtl(fabsl((long double)x)), fmal((long double)x, y, b[i]));
    }
    return 0;
}
