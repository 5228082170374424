/*
 * ABI test: structs passed and returned by value between the program's own functions.
 * Covers: tiny (4 and 8 bytes), 16-byte, odd-sized (char arrays) and large (> 16 bytes,
 * passed by reference under the hood) structs; homogeneous floating-point aggregates of doubles
 * and floats; mixed integer/FP structs; nested structs and arrays in structs; structs with long
 * double; callee modifying its copy (caller's value unchanged); more struct arguments than
 * argument registers; structs through function pointers; returning structs of every kind.
 */
#include <stdio.h>
#include <string.h>

struct tiny { short a, b; };
struct pair { int a, b; };
struct two_longs { long a, b; };
struct odd { char bytes[7]; };
struct large { long values[6]; char name[12]; };
struct hfa_d { double x, y, z, w; };
struct hfa_f { float x, y, z; };
struct mixed { double d; int i; char c; float f; };
struct nested { struct pair p; struct hfa_f h; unsigned char flags[3]; };
struct with_ld { int tag; long double value; };

static struct tiny tiny_swap(struct tiny t)
{
    return (struct tiny){t.b, t.a};
}

static struct pair pair_add(struct pair x, struct pair y)
{
    return (struct pair){x.a + y.a, x.b + y.b};
}

static struct two_longs two_mul(struct two_longs t, long k)
{
    t.a *= k;
    t.b *= k;
    return t;
}

static struct odd odd_rotate(struct odd o)
{
    struct odd r;
    for (int i = 0; i < 7; i++)
        r.bytes[i] = o.bytes[(i + 1) % 7];
    return r;
}

static long large_sum(struct large l)
{
    long s = 0;
    for (int i = 0; i < 6; i++)
        s += l.values[i];
    l.values[0] = -1; /* modifies the callee's copy only */
    strcpy(l.name, "clobbered");
    return s;
}

static struct large large_make(long base, const char *name)
{
    struct large l;
    for (int i = 0; i < 6; i++)
        l.values[i] = base + i;
    snprintf(l.name, sizeof l.name, "%s", name);
    return l;
}

static struct hfa_d hfa_d_scale(struct hfa_d h, double k)
{
    return (struct hfa_d){h.x * k, h.y * k, h.z * k, h.w * k};
}

static float hfa_f_dot(struct hfa_f a, struct hfa_f b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

static struct mixed mixed_step(struct mixed m)
{
    m.d += 0.5;
    m.i -= 3;
    m.c = (char)(m.c + 1);
    m.f *= 2;
    return m;
}

static struct nested nested_make(int seed)
{
    struct nested n = {{seed, seed * 2}, {seed + 0.5f, seed + 1.5f, seed + 2.5f}, {1, 2, 3}};
    return n;
}

static struct with_ld ld_half(struct with_ld w)
{
    w.value /= 2;
    w.tag++;
    return w;
}

/* Ten struct arguments: more than either ISA passes in registers. */
static double many(struct pair a, struct hfa_d b, struct mixed c, struct pair d, struct hfa_f e,
                   struct two_longs f, struct tiny g, struct hfa_d h, struct mixed i,
                   struct large j)
{
    return a.a + b.w + c.d + d.b + e.z + (double)f.b + g.a + h.x + i.f + (double)j.values[5];
}

static struct pair (*const pair_ops[])(struct pair, struct pair) = {pair_add};

int main(void)
{
    struct tiny t = tiny_swap((struct tiny){1, -2});
    printf("tiny: %d %d\n", t.a, t.b);
    struct pair p = pair_add((struct pair){1, 2}, (struct pair){30, 40});
    printf("pair: %d %d\n", p.a, p.b);
    struct two_longs tl = two_mul((struct two_longs){1L << 33, -5}, 3);
    printf("two_longs: %ld %ld\n", tl.a, tl.b);
    struct odd o = odd_rotate((struct odd){{'a', 'b', 'c', 'd', 'e', 'f', 'g'}});
    printf("odd: %.7s\n", o.bytes);

    struct large l = large_make(100, "large");
    long s = large_sum(l);
    printf("large: sum=%ld first=%ld name=%s\n", s, l.values[0], l.name);

    struct hfa_d hd = hfa_d_scale((struct hfa_d){1.5, -2.5, 3.25, 0.125}, 4);
    printf("hfa_d: %g %g %g %g\n", hd.x, hd.y, hd.z, hd.w);
    printf("hfa_f: %g\n", (double)hfa_f_dot((struct hfa_f){1, 2, 3}, (struct hfa_f){4, 5, 6}));
    struct mixed m = mixed_step((struct mixed){1.25, 10, 'p', 0.75f});
    printf("mixed: %g %d %c %g\n", m.d, m.i, m.c, (double)m.f);
    struct nested n = nested_make(7);
    printf("nested: %d %d %g %g %g %d%d%d\n", n.p.a, n.p.b, (double)n.h.x, (double)n.h.y,
           (double)n.h.z, n.flags[0], n.flags[1], n.flags[2]);
    struct with_ld w = ld_half((struct with_ld){41, 5.0L});
    printf("with_ld: %d %.15Lg\n", w.tag, w.value);

    double total = many((struct pair){1, 2}, (struct hfa_d){0, 0, 0, 4}, (struct mixed){8, 0, 0, 0},
                        (struct pair){0, 16}, (struct hfa_f){0, 0, 32}, (struct two_longs){0, 64},
                        (struct tiny){128, 0}, (struct hfa_d){256, 0, 0, 0},
                        (struct mixed){0, 0, 0, 512}, large_make(1019, "j"));
    printf("many: %g\n", total);
    struct pair via = pair_ops[0]((struct pair){5, 6}, (struct pair){7, 8});
    printf("via pointer: %d %d\n", via.a, via.b);
    return 0;
}
