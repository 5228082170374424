/*
 * The floating-point environment of the portable C library on x86_64, in aarch64's terms.
 *
 * The C library's fenv.h is aarch64's: FE_* exception bits 1..16 as in FPSR, rounding modes as
 * FPCR.RMode (bits 22-23), fenv_t = { fpcr, fpsr }. x86_64 code from the portable IR computes
 * with SSE only (binary128 long double in software reads the SSE rounding mode and raises SSE
 * flags), so MXCSR is the whole environment: its flags and rounding control are translated.
 */
#include <stdint.h>

#include "aarch64_abi.h"

/* MXCSR: flag bits IE DE ZE OE UE PE (0-5), masks (7-12), rounding control (13-14). */
#define MX_IE 0x01
#define MX_ZE 0x04
#define MX_OE 0x08
#define MX_UE 0x10
#define MX_PE 0x20
#define MX_FLAGS 0x3f
#define MX_RC_SHIFT 13
#define MX_RC_MASK (3u << MX_RC_SHIFT)
#define MX_DEFAULT 0x1f80 /* every exception masked, round to nearest, flags clear */

static const struct { unsigned a64, mx; } exception_bits[] = {
    {POPCORN_A64_FE_INVALID, MX_IE},  {POPCORN_A64_FE_DIVBYZERO, MX_ZE}, {POPCORN_A64_FE_OVERFLOW, MX_OE},
    {POPCORN_A64_FE_UNDERFLOW, MX_UE}, {POPCORN_A64_FE_INEXACT, MX_PE},
};

/* MXCSR rounding control 0..3: nearest, down, up, toward zero. */
static const unsigned rounding_modes[4] = {POPCORN_A64_FE_TONEAREST, POPCORN_A64_FE_DOWNWARD,
                                           POPCORN_A64_FE_UPWARD, POPCORN_A64_FE_TOWARDZERO};

static unsigned get_mxcsr(void)
{
    unsigned mx;
    __asm__ __volatile__("stmxcsr %0" : "=m"(mx));
    return mx;
}

static void set_mxcsr(unsigned mx)
{
    __asm__ __volatile__("ldmxcsr %0" : : "m"(mx));
}

static unsigned to_mx(unsigned a64)
{
    unsigned mx = 0;
    for (unsigned i = 0; i < sizeof exception_bits / sizeof exception_bits[0]; i++)
        if (a64 & exception_bits[i].a64) mx |= exception_bits[i].mx;
    return mx;
}

static unsigned from_mx(unsigned mx)
{
    unsigned a64 = 0;
    for (unsigned i = 0; i < sizeof exception_bits / sizeof exception_bits[0]; i++)
        if (mx & exception_bits[i].mx) a64 |= exception_bits[i].a64;
    return a64;
}

int feclearexcept(int mask)
{
    set_mxcsr(get_mxcsr() & ~to_mx((unsigned)mask & POPCORN_A64_FE_ALL_EXCEPT));
    return 0;
}

int feraiseexcept(int mask)
{
    set_mxcsr(get_mxcsr() | to_mx((unsigned)mask & POPCORN_A64_FE_ALL_EXCEPT));
    return 0;
}

int fetestexcept(int mask)
{
    return (int)(from_mx(get_mxcsr()) & (unsigned)mask & POPCORN_A64_FE_ALL_EXCEPT);
}

int fegetround(void)
{
    return (int)rounding_modes[(get_mxcsr() & MX_RC_MASK) >> MX_RC_SHIFT];
}

int __fesetround(int mode)
{
    for (unsigned rc = 0; rc < 4; rc++) {
        if ((unsigned)mode == rounding_modes[rc]) {
            set_mxcsr((get_mxcsr() & ~MX_RC_MASK) | rc << MX_RC_SHIFT);
            return 0;
        }
    }
    return -1;
}

int fegetenv(popcorn_a64_fenv_t *env)
{
    unsigned mx = get_mxcsr();
    env->__fpcr = rounding_modes[(mx & MX_RC_MASK) >> MX_RC_SHIFT];
    env->__fpsr = from_mx(mx);
    return 0;
}

int fesetenv(const popcorn_a64_fenv_t *env)
{
    if (env == POPCORN_A64_FE_DFL_ENV) {
        set_mxcsr(MX_DEFAULT);
        return 0;
    }
    unsigned mx = (get_mxcsr() & ~(MX_FLAGS | MX_RC_MASK)) | to_mx(env->__fpsr);
    for (unsigned rc = 0; rc < 4; rc++)
        if ((env->__fpcr & POPCORN_A64_FPCR_RMODE_MASK) == rounding_modes[rc]) mx |= rc << MX_RC_SHIFT;
    set_mxcsr(mx);
    return 0;
}
