/* popcorn.h: the ISA a binary reports is the one it was compiled for. */
#include "check.h"

#include "popcorn.h"

#include <string.h>

void test_isa(void)
{
#if defined(__x86_64__)
    CHECK_EQ(popcorn_current_isa(), POPCORN_ISA_X86_64);
    CHECK_STR(popcorn_isa_name(popcorn_current_isa()), "x86_64");
#elif defined(__aarch64__)
    CHECK_EQ(popcorn_current_isa(), POPCORN_ISA_AARCH64);
    CHECK_STR(popcorn_isa_name(popcorn_current_isa()), "aarch64");
#endif
    CHECK_STR(popcorn_isa_name(POPCORN_ISA_X86_64), "x86_64");
    CHECK_STR(popcorn_isa_name(POPCORN_ISA_AARCH64), "aarch64");
    CHECK(popcorn_isa_name((enum popcorn_isa)POPCORN_ISA_COUNT) == NULL);
    CHECK(popcorn_isa_name((enum popcorn_isa)-1) == NULL);
}
