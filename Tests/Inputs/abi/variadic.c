/*
 * ABI test: variadic functions defined by the program.
 * Covers: integer arguments of every width (with default promotions), doubles and promoted
 * floats, pointers (printed as offsets, never addresses), long double, more integer and FP
 * arguments than either ISA has argument registers (so later ones come from the stack),
 * interleaved integer/FP arguments, va_copy and walking a list twice, handing a va_list to a
 * helper by pointer, and forwarding a va_list to libc's vsnprintf, vfprintf and vprintf
 * (including long double values in the forwarded list).
 */
#include <stdarg.h>
#include <stdio.h>

static long sum_longs(int count, ...)
{
    va_list ap;
    va_start(ap, count);
    long sum = 0;
    for (int i = 0; i < count; i++)
        sum += va_arg(ap, long) * (i + 1);
    va_end(ap);
    return sum;
}

static double sum_doubles(int count, ...)
{
    va_list ap;
    va_start(ap, count);
    double sum = 0;
    for (int i = 0; i < count; i++)
        sum += va_arg(ap, double) * (i + 1);
    va_end(ap);
    return sum;
}

static const int table[8] = {10, 20, 30, 40, 50, 60, 70, 80};

/* Walks arguments described by a type string: i int, u unsigned, l long long, c char (as int),
 * h short (as int), d double, f float (as double), p pointer into `table`, s string,
 * L long double. */
static void describe(const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    printf("describe(%s):", types);
    for (const char *t = types; *t; t++) {
        switch (*t) {
        case 'i': printf(" i=%d", va_arg(ap, int)); break;
        case 'u': printf(" u=%u", va_arg(ap, unsigned)); break;
        case 'l': printf(" l=%lld", va_arg(ap, long long)); break;
        case 'c': printf(" c=%d", va_arg(ap, int)); break;
        case 'h': printf(" h=%d", va_arg(ap, int)); break;
        case 'd': printf(" d=%.17g", va_arg(ap, double)); break;
        case 'f': printf(" f=%.9g", va_arg(ap, double)); break;
        case 'p': printf(" p=table+%d", (int)(va_arg(ap, const int *) - table)); break;
        case 's': printf(" s=%s", va_arg(ap, const char *)); break;
        case 'L': printf(" L=%.15Lg", va_arg(ap, long double)); break;
        }
    }
    printf("\n");
    va_end(ap);
}

/* va_copy: the copy and the original each walk the whole list independently. */
static void twice(int count, ...)
{
    va_list ap, again;
    va_start(ap, count);
    va_copy(again, ap);
    long first = 0, second = 0;
    for (int i = 0; i < count; i++)
        first += va_arg(ap, int);
    for (int i = 0; i < count; i++)
        second = second * 3 + va_arg(again, int);
    va_end(again);
    va_end(ap);
    printf("twice: sum=%ld poly=%ld\n", first, second);
}

/* A va_list handed to a helper by pointer continues where the helper stopped. */
static double take_pair(va_list *ap)
{
    int n = va_arg(*ap, int);
    double d = va_arg(*ap, double);
    return n * d;
}

static void pairs(int count, ...)
{
    va_list ap;
    va_start(ap, count);
    double total = 0;
    for (int i = 0; i < count; i++)
        total += take_pair(&ap);
    va_end(ap);
    printf("pairs: %.6f\n", total);
}

static int log_line(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("log[%d]: %s\n", n, buf);
    return n;
}

static void log_stream(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stream: ", f);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static void log_stdout(const char *fmt, ...)
{
    va_list ap, copy;
    va_start(ap, fmt);
    va_copy(copy, ap);
    vprintf(fmt, ap);
    printf(" / ");
    vprintf(fmt, copy);
    printf("\n");
    va_end(copy);
    va_end(ap);
}

int main(void)
{
    printf("sum_longs(3) = %ld\n", sum_longs(3, 1L, 2L, 3L));
    printf("sum_longs(20) = %ld\n",
           sum_longs(20, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L,
                     17L, 18L, 19L, 20L));
    printf("sum_doubles(12) = %.3f\n",
           sum_doubles(12, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5));

    char c = 'A';
    short h = -1234;
    float f = 0.1f;
    describe("iucdhf", -7, 4000000000u, c, 1.0 / 3.0, h, f);
    describe("lpsL", -9000000000000LL, &table[5], "hello", 1.0L / 3.0L);
    /* Register exhaustion: 10 integer-class and 10 FP-class arguments, interleaved. */
    describe("ididididididididididid", 1, 1.25, 2, 2.25, 3, 3.25, 4, 4.25, 5, 5.25, 6, 6.25, 7,
             7.25, 8, 8.25, 9, 9.25, 10, 10.25, 11, 11.25);
    /* long doubles after the registers are gone. */
    describe("iiiiiiiiiLdddddddddL", 1, 2, 3, 4, 5, 6, 7, 8, 9, 2.5L, 1.0, 2.0, 3.0, 4.0, 5.0,
             6.0, 7.0, 8.0, 9.0, -0.1L);
    twice(9, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    pairs(5, 1, 0.5, 2, 0.25, 3, 0.125, 4, 1.5, 5, -2.0);

    log_line("%d %s %.2f %c", 42, "forty-two", 42.0, 'x');
    log_line("%.15Lg|%Lf|%d", 2.0L / 3.0L, -1.5L, 7);
    log_line("%d %d %d %d %d %d %d %d %d %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.15Lg",
             1, 2, 3, 4, 5, 6, 7, 8, 9, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.1L);
    log_line("%2$s-%1$d-%3$.3Lf", 5, "five", 5.0L / 3.0L);
    log_stream(stdout, "%s=%lld %g", "big", 1LL << 60, 1e-300);
    log_stream(stdout, "%.10Le", 123456.789L);
    log_stdout("%x %o %5.1f", 255, 8, 3.14159);
    return 0;
}
