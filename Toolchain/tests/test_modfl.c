/* modfl on binary128 long doubles: exact split, signs, specials. */
#include "check.h"

#include "abi_shims.h"

#include <string.h>

static int same_bits(__float128 a, __float128 b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static int is_negative(__float128 x)
{
    unsigned char bytes[16];
    memcpy(bytes, &x, sizeof bytes);
    return bytes[15] >> 7;
}

void test_modfl(void)
{
    __float128 ip = 0;
    CHECK(same_bits(__popcorn_abi_modfl(3.75Q, &ip), 0.75Q) && same_bits(ip, 3.0Q));
    CHECK(same_bits(__popcorn_abi_modfl(-3.75Q, &ip), -0.75Q) && same_bits(ip, -3.0Q));
    CHECK(same_bits(__popcorn_abi_modfl(0.5Q, &ip), 0.5Q) && same_bits(ip, 0.0Q));
    CHECK(same_bits(__popcorn_abi_modfl(-0.5Q, &ip), -0.5Q) && same_bits(ip, -0.0Q));

    /* Beyond double and x87 precision: 2^100 + 0.25 needs 103 significant bits. */
    __float128 big = 1267650600228229401496703205376.0Q; /* 2^100 */
    CHECK(same_bits(__popcorn_abi_modfl(big + 0.25Q, &ip), 0.25Q) && same_bits(ip, big));
    __float128 fine = 1.0Q + 1.0Q / 1180591620717411303424.0Q; /* 1 + 2^-70 */
    CHECK(same_bits(__popcorn_abi_modfl(fine, &ip), fine - 1.0Q) && same_bits(ip, 1.0Q));

    /* Integers keep a signed zero fraction; huge values are integral. */
    __float128 f = __popcorn_abi_modfl(-42.0Q, &ip);
    CHECK(f == 0 && is_negative(f) && same_bits(ip, -42.0Q));
    f = __popcorn_abi_modfl(big * big, &ip);
    CHECK(f == 0 && !is_negative(f) && same_bits(ip, big * big));

    __float128 inf = (__float128)__builtin_inf();
    f = __popcorn_abi_modfl(-inf, &ip);
    CHECK(f == 0 && is_negative(f) && same_bits(ip, -inf));
    __float128 nan = (__float128)__builtin_nan("");
    f = __popcorn_abi_modfl(nan, &ip);
    CHECK(f != f && ip != ip);
}
