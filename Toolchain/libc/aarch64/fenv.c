/*
 * The floating-point environment of the portable C library on aarch64: FPCR and FPSR, which
 * the C library's fenv.h (aarch64's) describes directly.
 */
#include <stdint.h>

#include "aarch64_abi.h"

static uint64_t get_fpsr(void) { uint64_t v; __asm__ __volatile__("mrs %0, fpsr" : "=r"(v)); return v; }
static void set_fpsr(uint64_t v) { __asm__ __volatile__("msr fpsr, %0" : : "r"(v)); }
static uint64_t get_fpcr(void) { uint64_t v; __asm__ __volatile__("mrs %0, fpcr" : "=r"(v)); return v; }
static void set_fpcr(uint64_t v) { __asm__ __volatile__("msr fpcr, %0" : : "r"(v)); }

int feclearexcept(int mask)
{
    set_fpsr(get_fpsr() & ~(uint64_t)(mask & POPCORN_A64_FE_ALL_EXCEPT));
    return 0;
}

int feraiseexcept(int mask)
{
    set_fpsr(get_fpsr() | (uint64_t)(mask & POPCORN_A64_FE_ALL_EXCEPT));
    return 0;
}

int fetestexcept(int mask)
{
    return (int)(get_fpsr() & (uint64_t)(mask & POPCORN_A64_FE_ALL_EXCEPT));
}

int fegetround(void)
{
    return (int)(get_fpcr() & POPCORN_A64_FPCR_RMODE_MASK);
}

int __fesetround(int mode)
{
    set_fpcr((get_fpcr() & ~(uint64_t)POPCORN_A64_FPCR_RMODE_MASK) | (uint64_t)mode);
    return 0;
}

int fegetenv(popcorn_a64_fenv_t *env)
{
    env->__fpcr = (uint32_t)get_fpcr();
    env->__fpsr = (uint32_t)get_fpsr();
    return 0;
}

int fesetenv(const popcorn_a64_fenv_t *env)
{
    if (env == POPCORN_A64_FE_DFL_ENV) {
        set_fpcr(0);
        set_fpsr(0);
    } else {
        set_fpcr(env->__fpcr);
        set_fpsr(env->__fpsr);
    }
    return 0;
}
