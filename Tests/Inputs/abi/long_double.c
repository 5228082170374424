/*
 * ABI test: long double.
 * Covers: long double arithmetic, comparisons and conversions to and from double, float and
 * integers; long double in arrays and structs, as arguments and return values of program
 * functions; libm long double functions (sqrtl, fabsl, floorl, ceill, truncl, fmodl, frexpl,
 * ldexpl, modfl, expl, logl, powl); strtold and printf/snprintf with %Lg/%Lf/%Le.  Values are
 * printed with at most 15 significant digits, which x87 extended and IEEE binary128 (the two
 * native formats) both print identically; sizes and LDBL_* limits are not printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct tagged {
    int tag;
    long double value;
    char suffix;
};

static long double scale(long double x, int by)
{
    return x * by;
}

static struct tagged make_tagged(int tag, long double value)
{
    struct tagged t = {tag, value, 'z'};
    return t;
}

static long double sum_array(const long double *values, int n)
{
    long double sum = 0;
    for (int i = 0; i < n; i++)
        sum += values[i];
    return sum;
}

/* Many long double parameters: past the FP argument registers. */
static long double weighted(long double a, long double b, long double c, long double d,
                            long double e, long double f, long double g, long double h,
                            long double i, long double j)
{
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}

int main(void)
{
    volatile long double third = 1.0L / 3.0L;
    long double two_thirds = third * 2;
    printf("third=%.15Lg two_thirds=%.15Lg sum=%.15Lg\n", third, two_thirds, third + two_thirds);
    printf("compare: %d %d %d\n", third < two_thirds, third + two_thirds == 1.0L,
           third * 3 != 1.0L);
    printf("scale: %.15Lg\n", scale(third, 7));

    double as_double = (double)third;
    float as_float = (float)third;
    long long as_int = (long long)(third * 1e15L);
    printf("to double=%.15g float=%.7g int=%lld\n", as_double, as_float, as_int);
    printf("from int: %.15Lg %.15Lg\n", (long double)9007199254740993LL,
           (long double)-123456789012345LL);
    long double big = 1e300L;
    printf("range: %.15Lg %.15Lg\n", big * big, 1e-300L / big);

    long double values[6] = {0.1L, 0.2L, 0.3L, 0.4L, 0.5L, 0.6L};
    printf("array sum: %.15Lg\n", sum_array(values, 6));
    struct tagged t = make_tagged(3, 2.5L);
    printf("struct: tag=%d value=%.15Lg suffix=%c\n", t.tag, t.value, t.suffix);
    printf("weighted: %.15Lg\n",
           weighted(1.5L, 2.5L, 3.5L, 4.5L, 5.5L, 6.5L, 7.5L, 8.5L, 9.5L, 10.5L));

    printf("sqrtl(2)=%.15Lg fabsl=%.15Lg\n", sqrtl(2.0L), fabsl(-3.25L));
    printf("floorl=%.15Lg ceill=%.15Lg truncl=%.15Lg\n", floorl(-2.5L), ceill(-2.5L),
           truncl(-2.5L));
    printf("fmodl=%.15Lg\n", fmodl(10.75L, 3.0L));
    int exponent = 0;
    long double mantissa = frexpl(48.0L, &exponent);
    printf("frexpl=%.15Lg*2^%d ldexpl=%.15Lg\n", mantissa, exponent, ldexpl(0.75L, 10));
    long double integral = 0;
    long double fraction = modfl(-12.625L, &integral);
    printf("modfl=%.15Lg + %.15Lg\n", integral, fraction);
    printf("expl(1)=%.15Lg logl(10)=%.15Lg powl(2,0.5)=%.15Lg\n", expl(1.0L), logl(10.0L),
           powl(2.0L, 0.5L));

    long double parsed = strtold("  -6.02214076e23xyz", NULL);
    printf("strtold=%.15Lg\n", parsed);
    char buf[64];
    snprintf(buf, sizeof buf, "%.6Lf|%.4Le|%Lg", 1.0L / 7.0L, 299792458.0L, 0.0625L);
    printf("snprintf: %s\n", buf);
    return 0;
}
