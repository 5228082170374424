/* Stack transformation stress for call results: results of every kind a function returns in one
 * register (int, long, pointer, float, double) and of the kinds that are not (_Bool, char, short,
 * long double, a small struct), each used after further calls and live across them, from callees
 * that have migration points of their own (an indirect call through a table keeps them from being
 * bounded). */
#include <stdio.h>

struct pair { int a, b; };

static void (*volatile hook)(void);
static volatile int sink;

static void touch(int v) { if (hook) hook(); sink = v; }

__attribute__((noinline)) static int get_int(int n) { touch(n); return n * 7 - 3; }
__attribute__((noinline)) static long get_long(long n) { touch((int)n); return n * 1000003L; }
__attribute__((noinline)) static const char *get_text(int n)
{
    static const char *const words[] = { "alpha", "beta", "gamma", "delta" };
    touch(n);
    return words[n & 3];
}
__attribute__((noinline)) static float get_float(int n) { touch(n); return n * 0.75f; }
__attribute__((noinline)) static double get_double(int n) { touch(n); return n / 3.0; }
__attribute__((noinline)) static _Bool get_bool(int n) { touch(n); return n % 3 == 0; }
__attribute__((noinline)) static char get_char(int n) { touch(n); return (char)('a' + n % 26); }
__attribute__((noinline)) static short get_short(int n) { touch(n); return (short)(n * -311); }
__attribute__((noinline)) static long double get_wide(int n) { touch(n); return (long double)n / 7; }
__attribute__((noinline)) static struct pair get_pair(int n) { touch(n); return (struct pair){ n, -n }; }

/* Each result is used right away and again after the calls that follow it. */
static double round_of(int n)
{
    int i = get_int(n);
    long l = get_long(i);
    const char *t = get_text(i);
    float f = get_float(i + (int)l % 5);
    double d = get_double(i);
    _Bool b = get_bool(n);
    char c = get_char(n);
    short s = get_short(n);
    long double w = get_wide(n);
    struct pair p = get_pair(n);
    printf("%d %ld %s %.3f %.6f %d %c %d %.6Lf %d %d\n", i, l, t, f, d, b, c, s, w, p.a, p.b);
    touch(i + (int)l + t[0] + (int)f + (int)d + b + c + s + (int)w + p.a + p.b);
    return i + (double)l + t[1] + f + d + b + c + s + (double)w + p.b;
}

int main(void)
{
    double total = 0;
    for (int n = 0; n < 12; n++)
        total += round_of(n);
    printf("total %.6f\n", total);
    return 0;
}
