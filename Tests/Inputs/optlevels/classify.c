/*
 * musl's classification macros (isnan, isinf, isfinite, signbit, fpclassify) pick their float,
 * double or long double arm with sizeof; at -O0 the dead arms stay in the IR behind constant
 * branches. Every call site must exist on both ISAs at every optimization level.
 */
#include <math.h>
#include <stdio.h>

#ifdef __popcorn__ /* also built by plain clang, as the test's oracle */
#include <popcorn.h>
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;
#endif

__attribute__((noinline)) static const char *kind(double d)
{
    if (isnan(d)) return "nan";
    if (isinf(d)) return signbit(d) ? "-inf" : "+inf";
    switch (fpclassify(d)) {
    case FP_ZERO: return "zero";
    case FP_SUBNORMAL: return "subnormal";
    default: return isfinite(d) ? "normal" : "?";
    }
}

__attribute__((noinline)) static const char *kindf(float f)
{
    return isnan(f) ? "nan" : isinf(f) ? "inf" : "finite";
}

int main(void)
{
    double values[] = {0.0, -0.0, 1.5, 1e-310, INFINITY, -INFINITY, NAN, 3e300 * 10};
    long count = 0;
    for (int round = 0; round < 200; round++)
        for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
            const char *k = kind(values[i] * (round % 3 ? 1 : -1));
            const char *f = kindf((float)values[i]);
            if (round == 199)
                printf("%u: %s %s\n", i, k, f);
            count += k[0] + f[0];
        }
    printf("checksum %ld\n", count);
    return 0;
}
