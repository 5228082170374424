/*
 * modfl: the program's long double is IEEE binary128 on both ISAs, but x86_64 musl's modfl works
 * on the x87 80-bit format and writes an 80-bit integral part through the pointer.  Splitting a
 * binary128 value is exact bit manipulation, so it is done here directly rather than by
 * converting (which would lose 49 bits of precision).
 */
#include "abi_shims.h"

#include <string.h>

#define MANTISSA_BITS 112
#define EXPONENT_BIAS 16383
#define EXPONENT_MAX 0x7fff

/* binary128 as two little-endian 64-bit halves. */
struct bits128 {
    uint64_t lo;
    uint64_t hi;
};

static struct bits128 to_bits(__float128 x)
{
    struct bits128 b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static __float128 from_bits(struct bits128 b)
{
    __float128 x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static __float128 signed_zero(uint64_t hi)
{
    return from_bits((struct bits128){.lo = 0, .hi = hi & (1ull << 63)});
}

__float128 __popcorn_abi_modfl(__float128 x, __float128 *iptr)
{
    struct bits128 b = to_bits(x);
    int exponent = (int)(b.hi >> 48 & EXPONENT_MAX);
    if (exponent == EXPONENT_MAX) {
        *iptr = x;
        int is_nan = (b.hi & 0xffffffffffffull) != 0 || b.lo != 0;
        return is_nan ? x : signed_zero(b.hi); /* modf(±inf) = ±0, integral part ±inf */
    }
    int e = exponent - EXPONENT_BIAS;
    if (e < 0) { /* |x| < 1, including zeros and subnormals */
        *iptr = signed_zero(b.hi);
        return x;
    }
    if (e >= MANTISSA_BITS) { /* every mantissa bit is integral */
        *iptr = x;
        return signed_zero(b.hi);
    }
    int fraction_bits = MANTISSA_BITS - e; /* 1 ... 112 */
    struct bits128 mask;
    if (fraction_bits >= 64) {
        mask.lo = ~0ull;
        mask.hi = (1ull << (fraction_bits - 64)) - 1;
    } else {
        mask.lo = (1ull << fraction_bits) - 1;
        mask.hi = 0;
    }
    if ((b.lo & mask.lo) == 0 && (b.hi & mask.hi) == 0) {
        *iptr = x;
        return signed_zero(b.hi);
    }
    struct bits128 integral = {.lo = b.lo & ~mask.lo, .hi = b.hi & ~mask.hi};
    *iptr = from_bits(integral);
    /* Exact: both operands share x's exponent range and the result has fewer bits. */
    return x - *iptr;
}
