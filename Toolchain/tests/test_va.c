/*
 * va_list consumers: real x86_64 variadic functions build the program's aarch64 va_list the way
 * popcorn-cc's x86_64 lowering does, and the shims must hand libc the same arguments a native
 * call would have.  long double arguments travel as binary128 (__float128), as in the program.
 */
#define _GNU_SOURCE
#include "check.h"

#include "abi_shims.h"
#include "va_support.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* What the x86_64 lowering of va_start produces for the program. */
static struct popcorn_a64_va_list to_a64(va_list ap)
{
    struct popcorn_x86_va_tag *tag = (struct popcorn_x86_va_tag *)(void *)ap;
    struct popcorn_a64_va_list a;
    a.__stack = tag->overflow_arg_area;
    a.__gr_top = (char *)tag->reg_save_area + POPCORN_X86_GP_SAVE;
    a.__vr_top = (char *)tag->reg_save_area + POPCORN_X86_REG_SAVE;
    a.__gr_offs = (int32_t)tag->gp_offset - POPCORN_X86_GP_SAVE;
    a.__vr_offs = (int32_t)tag->fp_offset - POPCORN_X86_REG_SAVE;
    return a;
}

/* clang's inline AAPCS64 va_arg for an integer, as the program's code does it. */
static long a64_arg_long(struct popcorn_a64_va_list *a)
{
    long v;
    if (a->__gr_offs < 0) {
        memcpy(&v, (char *)a->__gr_top + a->__gr_offs, sizeof v);
        a->__gr_offs += 8;
    } else {
        memcpy(&v, a->__stack, sizeof v);
        a->__stack = (char *)a->__stack + 8;
    }
    return v;
}

static int via_vsnprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vsnprintf(buf, n, fmt, &a);
    va_end(ap);
    return r;
}

/* Reads `skip` integers in aarch64 fashion first, then forwards the rest. */
static int skip_then_vsprintf(char *buf, int skip, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    long sum = 0;
    for (int i = 0; i < skip; i++)
        sum += a64_arg_long(&a);
    int r = __popcorn_abi_vsprintf(buf, fmt, &a);
    va_end(ap);
    return r + (int)sum * 1000;
}

static int via_vfprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vfprintf(f, fmt, &a);
    va_end(ap);
    return r;
}

static int via_vasprintf(char **s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vasprintf(s, fmt, &a);
    va_end(ap);
    return r;
}

static int via_vsscanf(const char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vsscanf(s, fmt, &a);
    va_end(ap);
    return r;
}

static int via_vswprintf(wchar_t *s, size_t n, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vswprintf(s, n, fmt, &a);
    va_end(ap);
    return r;
}

static int via_vswscanf(const wchar_t *s, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct popcorn_a64_va_list a = to_a64(ap);
    int r = __popcorn_abi_vswscanf(s, fmt, &a);
    va_end(ap);
    return r;
}

static void test_plans(void)
{
    struct popcorn_va_plan p;
    CHECK_EQ(__popcorn_printf_plan("%d %5.*Lf %-#s %m %% %lld %hhx %g", 0, &p), 0);
    CHECK_EQ(p.count, 7);
    CHECK(p.classes[0] == POPCORN_VA_GP && p.classes[1] == POPCORN_VA_GP &&
          p.classes[2] == POPCORN_VA_LDBL && p.classes[3] == POPCORN_VA_GP &&
          p.classes[4] == POPCORN_VA_GP && p.classes[5] == POPCORN_VA_GP &&
          p.classes[6] == POPCORN_VA_FP);
    CHECK_EQ(p.long_doubles, 1);
    CHECK_EQ(__popcorn_printf_plan("%2$Lg %1$*3$d", 0, &p), 0);
    CHECK_EQ(p.count, 3);
    CHECK(p.classes[0] == POPCORN_VA_GP && p.classes[1] == POPCORN_VA_LDBL &&
          p.classes[2] == POPCORN_VA_GP);
    CHECK_EQ(__popcorn_printf_plan("%3$d %1$d", 0, &p), -1); /* gap */
    CHECK_EQ(__popcorn_printf_plan("%1$d %d", 0, &p), -1);   /* mixed */
    CHECK_EQ(__popcorn_printf_plan("%y", 0, &p), -1);
    CHECK_EQ(__popcorn_printf_plan(L"%ls=%Le", 1, &p), 0);
    CHECK(p.count == 2 && p.classes[1] == POPCORN_VA_LDBL);
    /* A wide character whose low byte is '%' is not a conversion. */
    const wchar_t odd[] = {0x125, 'd', 0};
    CHECK_EQ(__popcorn_printf_plan(odd, 1, &p), 0);
    CHECK_EQ(p.count, 0);

    CHECK_EQ(__popcorn_scanf_plan("%d %*d %5[^]x] %Lf %ms %n %lf", 0, &p), 0);
    CHECK_EQ(p.count, 6);
    CHECK(p.classes[0] == POPCORN_VA_GP && p.classes[1] == POPCORN_VA_GP &&
          p.classes[2] == POPCORN_VA_LDBL && p.classes[3] == POPCORN_VA_GP &&
          p.classes[4] == POPCORN_VA_GP && p.classes[5] == POPCORN_VA_GP);
    CHECK_EQ(__popcorn_scanf_plan("%[abc", 0, &p), -1);
}

static void test_printf(void)
{
    char got[512], want[512];
    int x = 7;
    /* Integers, doubles, strings, pointers. */
    via_vsnprintf(got, sizeof got, "%d %u %ld %c %s %p %.3f %e", -5, 4000000000u, 1L << 40, 'q',
                  "str", (void *)&x, 2.5, -1e-10);
    snprintf(want, sizeof want, "%d %u %ld %c %s %p %.3f %e", -5, 4000000000u, 1L << 40, 'q',
             "str", (void *)&x, 2.5, -1e-10);
    CHECK_STR(got, want);
    /* Far past register exhaustion: 12 integers and 12 doubles. */
    via_vsnprintf(got, sizeof got, "%d %d %d %d %d %d %d %d %d %d %d %d|%g %g %g %g %g %g %g %g %g %g %g %g",
                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5,
                  8.5, 9.5, 10.5, 11.5);
    CHECK_STR(got, "1 2 3 4 5 6 7 8 9 10 11 12|0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5 10.5 11.5");
    /* Truncation and the return value. */
    CHECK_EQ(via_vsnprintf(got, 5, "%s", "truncated"), 9);
    CHECK_STR(got, "trun");

    /* long double: binary128 in, the same digits x87 prints natively. */
    __float128 third = 1.0Q / 3.0Q;
    via_vsnprintf(got, sizeof got, "%.18Lg|%d|%Lf|%s", third, 42, (__float128)-2.25Q, "end");
    snprintf(want, sizeof want, "%.18Lg|%d|%Lf|%s", (long double)1.0L / 3.0L, 42, -2.25L, "end");
    CHECK_STR(got, want);
    /* long doubles among exhausted registers, with positional and `*` arguments. */
    via_vsnprintf(got, sizeof got, "%d %d %d %d %d %d %d %.2f %Lg %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %Lg %s",
                  1, 2, 3, 4, 5, 6, 7, 0.25, (__float128)1e300Q, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
                  7.0, 8.0, (__float128)-0.125Q, "tail");
    CHECK_STR(got, "1 2 3 4 5 6 7 0.25 1e+300 1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0 -0.125 tail");
    via_vsnprintf(got, sizeof got, "%2$*3$.1Lf|%1$s", "first", (__float128)3.14159Q, 8);
    CHECK_STR(got, "     3.1|first");
    /* %n through the rebuilt list. */
    int count = -1;
    via_vsnprintf(got, sizeof got, "%Lg%n!", (__float128)12.5Q, &count);
    CHECK_STR(got, "12.5!");
    CHECK_EQ(count, 4);

    /* A va_list partly consumed by the program before it is forwarded. */
    int r = skip_then_vsprintf(got, 2, "%s %d %Lg", 10L, 20L, "rest", 3, (__float128)0.5Q);
    CHECK_STR(got, "rest 3 0.5");
    CHECK_EQ(r, 30 * 1000 + 10);
    r = skip_then_vsprintf(got, 7, "%s %g", 1L, 2L, 3L, 4L, 5L, 6L, 7L, "stack", 1.25);
    CHECK_STR(got, "stack 1.25");

    /* FILE and allocating variants. */
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    CHECK(mem != NULL);
    CHECK_EQ(via_vfprintf(mem, "<%Le %x>", (__float128)1e-5Q, 255), 17);
    fclose(mem);
    CHECK_STR(text, "<1.000000e-05 ff>");
    free(text);
    char *alloc = NULL;
    CHECK_EQ(via_vasprintf(&alloc, "%s-%Lg-%d", "a", (__float128)0.75Q, 9), 8);
    CHECK_STR(alloc, "a-0.75-9");
    free(alloc);
}

static void test_scanf(void)
{
    __float128 q = 0, untouched = 99.0Q;
    int i = 0, n = 0;
    double d = 0;
    char word[16] = "";
    CHECK_EQ(via_vsscanf("  12 skip 2.5 abc 0.375", "%d %*s %Lf %15s %lf%n", &i, &q, word, &d, &n), 4);
    CHECK_EQ(i, 12);
    CHECK(q == 2.5Q);
    CHECK_STR(word, "abc");
    CHECK(d == 0.375);
    CHECK_EQ(n, 23);
    /* Beyond x87's precision the value is rounded once, as native aarch64 would not: compare
     * against the x87 result widened, which is what the shim can deliver. */
    CHECK_EQ(via_vsscanf("0.1", "%Lf", &q), 1);
    CHECK(q == (__float128)0.1L);
    /* A conversion that fails leaves the program's variable alone. */
    CHECK_EQ(via_vsscanf("7 x", "%d %Lf", &i, &untouched), 1);
    CHECK_EQ(i, 7);
    CHECK(untouched == 99.0Q);
    /* Positional targets. */
    __float128 second = 0;
    CHECK_EQ(via_vsscanf("4 -8.5", "%2$d %1$Lg", &second, &i), 2);
    CHECK_EQ(i, 4);
    CHECK(second == -8.5Q);
}

static void test_wide(void)
{
    wchar_t got[64];
    CHECK_EQ(via_vswprintf(got, 64, L"%ls=%.3Lf;%d", L"pi", (__float128)3.14159Q, 5), 10);
    CHECK(wcscmp(got, L"pi=3.142;5") == 0);
    CHECK_EQ(via_vswprintf(got, 64, L"%d %g", -3, 0.5), 6);
    CHECK(wcscmp(got, L"-3 0.5") == 0);
    __float128 q = 0;
    int i = 0;
    CHECK_EQ(via_vswscanf(L"6 -1.75", L"%d %Lg", &i, &q), 2);
    CHECK_EQ(i, 6);
    CHECK(q == -1.75Q);
}

void test_va(void)
{
    test_plans();
    test_printf();
    test_scanf();
    test_wide();
}
