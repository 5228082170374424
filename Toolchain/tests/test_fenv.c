/* fenv: aarch64 FE_* values and the 8-byte aarch64 fenv_t, checked against native x86_64 state. */
#include "check.h"

#include "abi_shims.h"

#include <fenv.h>

static volatile double one = 1.0, three = 3.0, zero = 0.0, huge = 1e308;

static double third(void)
{
    return one / three;
}

static void test_rounding(void)
{
    static const int modes[][2] = {
        {POPCORN_A64_FE_TONEAREST, FE_TONEAREST},
        {POPCORN_A64_FE_DOWNWARD, FE_DOWNWARD},
        {POPCORN_A64_FE_UPWARD, FE_UPWARD},
        {POPCORN_A64_FE_TOWARDZERO, FE_TOWARDZERO},
    };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(__popcorn_abi_fesetround(modes[i][0]), 0);
        CHECK_EQ(fegetround(), modes[i][1]);
        CHECK_EQ(__popcorn_abi_fegetround(), modes[i][0]);
    }
    CHECK_EQ(__popcorn_abi_fesetround(POPCORN_A64_FE_DOWNWARD), 0);
    double down = third();
    CHECK_EQ(__popcorn_abi_fesetround(POPCORN_A64_FE_UPWARD), 0);
    double up = third();
    CHECK(down < up);
    /* A native x86 constant is not a valid aarch64 rounding mode. */
    CHECK(__popcorn_abi_fesetround(FE_UPWARD) != 0);
    CHECK_EQ(__popcorn_abi_fegetround(), POPCORN_A64_FE_UPWARD);
    CHECK_EQ(__popcorn_abi_fesetround(POPCORN_A64_FE_TONEAREST), 0);
}

static void test_exceptions(void)
{
    CHECK_EQ(__popcorn_abi_feclearexcept(POPCORN_A64_FE_ALL_EXCEPT), 0);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), 0);
    volatile double r = one / zero;
    (void)r;
    CHECK_EQ(__popcorn_abi_fetestexcept(POPCORN_A64_FE_ALL_EXCEPT), POPCORN_A64_FE_DIVBYZERO);
    r = huge * huge;
    CHECK_EQ(__popcorn_abi_fetestexcept(POPCORN_A64_FE_OVERFLOW | POPCORN_A64_FE_UNDERFLOW),
             POPCORN_A64_FE_OVERFLOW);
    CHECK_EQ(__popcorn_abi_feclearexcept(POPCORN_A64_FE_DIVBYZERO), 0);
    CHECK_EQ(fetestexcept(FE_DIVBYZERO), 0);
    CHECK(fetestexcept(FE_OVERFLOW));

    CHECK_EQ(__popcorn_abi_feclearexcept(POPCORN_A64_FE_ALL_EXCEPT), 0);
    CHECK_EQ(__popcorn_abi_feraiseexcept(POPCORN_A64_FE_UNDERFLOW | POPCORN_A64_FE_INVALID), 0);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_UNDERFLOW | FE_INVALID);

    /* fexcept_t round trip: the 4-byte aarch64 flag word. */
    popcorn_a64_fexcept_t saved = 0xdeadbeef;
    CHECK_EQ(__popcorn_abi_fegetexceptflag(&saved, POPCORN_A64_FE_ALL_EXCEPT), 0);
    CHECK_EQ(saved, POPCORN_A64_FE_UNDERFLOW | POPCORN_A64_FE_INVALID);
    CHECK_EQ(__popcorn_abi_fegetexceptflag(&saved, POPCORN_A64_FE_INVALID), 0);
    CHECK_EQ(saved, POPCORN_A64_FE_INVALID);
    CHECK_EQ(__popcorn_abi_feclearexcept(POPCORN_A64_FE_ALL_EXCEPT), 0);
    CHECK_EQ(__popcorn_abi_feraiseexcept(POPCORN_A64_FE_INEXACT), 0);
    CHECK_EQ(__popcorn_abi_fesetexceptflag(&saved, POPCORN_A64_FE_INVALID), 0);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_INVALID | FE_INEXACT);
    /* Restoring a clear flag clears it; flags outside `excepts` are left alone. */
    popcorn_a64_fexcept_t none = 0;
    CHECK_EQ(__popcorn_abi_fesetexceptflag(&none, POPCORN_A64_FE_INVALID), 0);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_INEXACT);
    CHECK_EQ(__popcorn_abi_feclearexcept(POPCORN_A64_FE_ALL_EXCEPT), 0);
}

static void test_environment(void)
{
    CHECK_EQ(__popcorn_abi_fesetenv(POPCORN_A64_FE_DFL_ENV), 0);
    popcorn_a64_fenv_t env;
    CHECK_EQ(__popcorn_abi_fegetenv(&env), 0);
    /* The default environment in aarch64 terms: nearest, no traps, no flags. */
    CHECK_EQ(env.__fpcr, 0);
    CHECK_EQ(env.__fpsr, 0);

    CHECK_EQ(__popcorn_abi_fesetround(POPCORN_A64_FE_TOWARDZERO), 0);
    CHECK_EQ(__popcorn_abi_feraiseexcept(POPCORN_A64_FE_INEXACT), 0);
    popcorn_a64_fenv_t saved;
    CHECK_EQ(__popcorn_abi_fegetenv(&saved), 0);
    CHECK_EQ(saved.__fpcr & POPCORN_A64_FPCR_RMODE_MASK, POPCORN_A64_FE_TOWARDZERO);
    CHECK_EQ(saved.__fpsr, POPCORN_A64_FE_INEXACT);

    CHECK_EQ(__popcorn_abi_fesetenv(POPCORN_A64_FE_DFL_ENV), 0);
    CHECK_EQ(fegetround(), FE_TONEAREST);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), 0);
    CHECK_EQ(__popcorn_abi_fesetenv(&saved), 0);
    CHECK_EQ(fegetround(), FE_TOWARDZERO);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_INEXACT);

    /* feholdexcept saves, clears the flags; feupdateenv restores and re-raises. */
    popcorn_a64_fenv_t held;
    CHECK_EQ(__popcorn_abi_feholdexcept(&held), 0);
    CHECK_EQ(held.__fpsr, POPCORN_A64_FE_INEXACT);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), 0);
    CHECK_EQ(fegetround(), FE_TOWARDZERO);
    volatile double r = one / zero;
    (void)r;
    CHECK_EQ(__popcorn_abi_fesetround(POPCORN_A64_FE_UPWARD), 0);
    CHECK_EQ(__popcorn_abi_feupdateenv(&held), 0);
    CHECK_EQ(fegetround(), FE_TOWARDZERO);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_INEXACT | FE_DIVBYZERO);

    /* A hand-made aarch64 environment: FPCR rounding upward, FPSR overflow. */
    popcorn_a64_fenv_t made = {POPCORN_A64_FE_UPWARD, POPCORN_A64_FE_OVERFLOW};
    CHECK_EQ(__popcorn_abi_fesetenv(&made), 0);
    CHECK_EQ(fegetround(), FE_UPWARD);
    CHECK_EQ(fetestexcept(FE_ALL_EXCEPT), FE_OVERFLOW);
    fenv_t native;
    CHECK_EQ(fegetenv(&native), 0);
    CHECK_EQ(native.__mxcsr >> 7 & 0x3f, 0x3f); /* every exception still masked */
    CHECK_EQ(native.__control_word >> 10 & 3, 2); /* x87 rounds upward too */

    CHECK_EQ(__popcorn_abi_fesetenv(POPCORN_A64_FE_DFL_ENV), 0);
}

void test_fenv(void)
{
    test_rounding();
    test_exceptions();
    test_environment();
}
