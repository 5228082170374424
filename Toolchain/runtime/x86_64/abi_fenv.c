/*
 * <fenv.h>: the FE_* exception bits and rounding-mode values differ between the ISAs, and the
 * aarch64 fenv_t is only 8 bytes ({FPCR, FPSR}) where x86_64 musl's holds the x87 environment
 * and MXCSR.
 *
 * A saved environment is stored in the aarch64 register format rather than as raw x86_64
 * state: rounding mode, trap enables and flush-to-zero in __fpcr, exception flags in __fpsr.
 * That keeps a fenv_t meaningful if the thread migrates between saving and restoring it, and
 * it is all the program's (SSE and soft-float) arithmetic can observe.  What does not fit —
 * x87 precision control and MXCSR's denormals-are-zero — is restored from the current state.
 */
#include "abi_shims.h"

#include <fenv.h>

/* aarch64 FE_* → x86_64 FE_*, in FE_INVALID, DIVBYZERO, OVERFLOW, UNDERFLOW, INEXACT order. */
static const struct {
    int a64;
    int native;
} exception_bits[] = {
    {POPCORN_A64_FE_INVALID, FE_INVALID},     {POPCORN_A64_FE_DIVBYZERO, FE_DIVBYZERO},
    {POPCORN_A64_FE_OVERFLOW, FE_OVERFLOW},   {POPCORN_A64_FE_UNDERFLOW, FE_UNDERFLOW},
    {POPCORN_A64_FE_INEXACT, FE_INEXACT},
};

#define EXCEPTION_COUNT (sizeof exception_bits / sizeof exception_bits[0])

int __popcorn_fe_excepts_to_native(int a64_excepts)
{
    int native = 0;
    for (size_t i = 0; i < EXCEPTION_COUNT; i++)
        if (a64_excepts & exception_bits[i].a64)
            native |= exception_bits[i].native;
    return native;
}

int __popcorn_fe_excepts_from_native(int native_excepts)
{
    int a64 = 0;
    for (size_t i = 0; i < EXCEPTION_COUNT; i++)
        if (native_excepts & exception_bits[i].native)
            a64 |= exception_bits[i].a64;
    return a64;
}

/* Returns -1 for a value that is not a rounding mode of the program's ISA. */
int __popcorn_fe_round_to_native(int a64_round)
{
    switch (a64_round) {
    case POPCORN_A64_FE_TONEAREST:
        return FE_TONEAREST;
    case POPCORN_A64_FE_DOWNWARD:
        return FE_DOWNWARD;
    case POPCORN_A64_FE_UPWARD:
        return FE_UPWARD;
    case POPCORN_A64_FE_TOWARDZERO:
        return FE_TOWARDZERO;
    }
    return -1;
}

int __popcorn_fe_round_from_native(int native_round)
{
    switch (native_round) {
    case FE_TONEAREST:
        return POPCORN_A64_FE_TONEAREST;
    case FE_DOWNWARD:
        return POPCORN_A64_FE_DOWNWARD;
    case FE_UPWARD:
        return POPCORN_A64_FE_UPWARD;
    case FE_TOWARDZERO:
        return POPCORN_A64_FE_TOWARDZERO;
    }
    return -1;
}

int __popcorn_abi_feclearexcept(int excepts)
{
    return feclearexcept(__popcorn_fe_excepts_to_native(excepts));
}

int __popcorn_abi_feraiseexcept(int excepts)
{
    return feraiseexcept(__popcorn_fe_excepts_to_native(excepts));
}

int __popcorn_abi_fetestexcept(int excepts)
{
    return __popcorn_fe_excepts_from_native(fetestexcept(__popcorn_fe_excepts_to_native(excepts)));
}

/* fexcept_t is 4 bytes on aarch64 and 2 on x86_64; the value is the aarch64 flag bits. */
int __popcorn_abi_fegetexceptflag(popcorn_a64_fexcept_t *flagp, int excepts)
{
    int raised = fetestexcept(__popcorn_fe_excepts_to_native(excepts));
    *flagp = (popcorn_a64_fexcept_t)(__popcorn_fe_excepts_from_native(raised) & excepts &
                                     POPCORN_A64_FE_ALL_EXCEPT);
    return 0;
}

int __popcorn_abi_fesetexceptflag(const popcorn_a64_fexcept_t *flagp, int excepts)
{
    int wanted = (int)*flagp & excepts;
    /* Set the selected flags to the saved state without raising (trapping on) anything. */
    if (feclearexcept(__popcorn_fe_excepts_to_native(excepts & ~wanted)) != 0)
        return -1;
    if (wanted == 0)
        return 0;
    fenv_t env;
    if (fegetenv(&env) != 0)
        return -1;
    env.__mxcsr |= (unsigned)__popcorn_fe_excepts_to_native(wanted);
    return fesetenv(&env);
}

int __popcorn_abi_fegetround(void)
{
    return __popcorn_fe_round_from_native(fegetround());
}

int __popcorn_abi_fesetround(int round)
{
    int native = __popcorn_fe_round_to_native(round);
    if (native < 0)
        return -1;
    return fesetround(native);
}

/* x87 control word / MXCSR fields.  x86 uses exception *masks*; aarch64 trap *enables*. */
#define X87_MASK_SHIFT 0
#define X87_ROUND_SHIFT 10
#define MXCSR_MASK_SHIFT 7
#define MXCSR_ROUND_SHIFT 13
#define MXCSR_FTZ (1u << 15)

static void encode_env(popcorn_a64_fenv_t *out, const fenv_t *env)
{
    unsigned mxcsr = env->__mxcsr;
    int round = __popcorn_fe_round_from_native((int)(mxcsr >> MXCSR_ROUND_SHIFT & 3) << X87_ROUND_SHIFT);
    int masked = __popcorn_fe_excepts_from_native((int)(mxcsr >> MXCSR_MASK_SHIFT) & FE_ALL_EXCEPT);
    int raised = __popcorn_fe_excepts_from_native((int)((mxcsr | env->__status_word) & FE_ALL_EXCEPT));
    unsigned fpcr = (unsigned)round;
    fpcr |= (unsigned)(POPCORN_A64_FE_ALL_EXCEPT & ~masked) << POPCORN_A64_FPCR_TRAP_SHIFT;
    if (mxcsr & MXCSR_FTZ)
        fpcr |= POPCORN_A64_FPCR_FZ;
    out->__fpcr = fpcr;
    out->__fpsr = (unsigned)raised;
}

/* Applies a saved aarch64-format environment on top of the current x86_64 one. */
static int apply_env(const popcorn_a64_fenv_t *saved)
{
    if (saved == POPCORN_A64_FE_DFL_ENV)
        return fesetenv(FE_DFL_ENV);
    fenv_t env;
    if (fegetenv(&env) != 0)
        return -1;
    int round = __popcorn_fe_round_to_native((int)(saved->__fpcr & POPCORN_A64_FPCR_RMODE_MASK));
    if (round < 0)
        return -1;
    unsigned rc = (unsigned)round >> X87_ROUND_SHIFT;
    int traps = (int)(saved->__fpcr >> POPCORN_A64_FPCR_TRAP_SHIFT) & POPCORN_A64_FE_ALL_EXCEPT;
    unsigned masks = (unsigned)__popcorn_fe_excepts_to_native(POPCORN_A64_FE_ALL_EXCEPT & ~traps);
    /* x86's denormal-operand exception has no aarch64 counterpart; keep it masked. */
    masks |= FE_ALL_EXCEPT & ~(unsigned)__popcorn_fe_excepts_to_native(POPCORN_A64_FE_ALL_EXCEPT);
    unsigned flags = (unsigned)__popcorn_fe_excepts_to_native((int)saved->__fpsr);

    env.__control_word = (unsigned short)((env.__control_word & ~(3u << X87_ROUND_SHIFT | 0x3fu)) |
                                          rc << X87_ROUND_SHIFT | masks << X87_MASK_SHIFT);
    /* Flags live in MXCSR (where the program's SSE arithmetic raises them); clear x87's. */
    env.__status_word &= (unsigned short)~0x3fu;
    unsigned mxcsr = env.__mxcsr;
    mxcsr &= ~(3u << MXCSR_ROUND_SHIFT | 0x3fu << MXCSR_MASK_SHIFT | 0x3fu | MXCSR_FTZ);
    mxcsr |= rc << MXCSR_ROUND_SHIFT | masks << MXCSR_MASK_SHIFT | flags;
    if (saved->__fpcr & POPCORN_A64_FPCR_FZ)
        mxcsr |= MXCSR_FTZ;
    env.__mxcsr = mxcsr;
    return fesetenv(&env);
}

int __popcorn_abi_fegetenv(popcorn_a64_fenv_t *envp)
{
    fenv_t env;
    if (fegetenv(&env) != 0)
        return -1;
    encode_env(envp, &env);
    return 0;
}

int __popcorn_abi_fesetenv(const popcorn_a64_fenv_t *envp)
{
    return apply_env(envp);
}

int __popcorn_abi_feholdexcept(popcorn_a64_fenv_t *envp)
{
    if (__popcorn_abi_fegetenv(envp) != 0)
        return -1;
    /* Non-stop mode: clear the flags and mask every exception. */
    popcorn_a64_fenv_t hold = {envp->__fpcr & ~(POPCORN_A64_FE_ALL_EXCEPT << POPCORN_A64_FPCR_TRAP_SHIFT), 0};
    return apply_env(&hold);
}

int __popcorn_abi_feupdateenv(const popcorn_a64_fenv_t *envp)
{
    int raised = fetestexcept(FE_ALL_EXCEPT);
    if (apply_env(envp) != 0)
        return -1;
    return feraiseexcept(raised);
}
