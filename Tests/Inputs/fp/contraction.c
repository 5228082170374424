/*
 * Expressions that invite fusing (a * b + c) in a loop whose rounding errors accumulate, printed
 * with %a: the bits must be the same on every ISA and in a run that moves between them.
 */
#include <stdio.h>

#ifdef __popcorn__ /* also built by plain clang, as the test's oracle */
#include <popcorn.h>
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;
#endif

__attribute__((noinline)) static double step(double a, double b, double c, double s)
{
    return a * b + c + s * 0.999;
}

__attribute__((noinline)) static double dot(const double *x, const double *y, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += x[i] * y[i];
    return sum;
}

int main(void)
{
    double a = 0.1, b = 3.3, c = -0.33, s = 0;
    double x[64], y[64];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 200; i++) {
            s = step(a, b, c, s);
            a += 1e-7;
        }
        for (int i = 0; i < 64; i++) {
            x[i] = a * i + 0.1;
            y[i] = b / (i + 1) - c;
        }
        printf("%d %a %a\n", round, s, dot(x, y, 64));
    }
    return 0;
}
