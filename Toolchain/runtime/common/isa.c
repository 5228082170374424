/*
 * ISA identification (popcorn.h).  This file is compiled natively once per ISA into that ISA's
 * libpopcorn.a, so the answer is decided by which binary is running, not by the program's IR
 * (which is the same on every ISA and was produced for the aarch64 target).
 */
#include "popcorn.h"

#include <stddef.h>

#if defined(__x86_64__)
#define POPCORN_THIS_ISA POPCORN_ISA_X86_64
#elif defined(__aarch64__)
#define POPCORN_THIS_ISA POPCORN_ISA_AARCH64
#else
#error "unsupported ISA for the popcorn runtime"
#endif

enum popcorn_isa popcorn_current_isa(void)
{
    return POPCORN_THIS_ISA;
}

const char *popcorn_isa_name(enum popcorn_isa isa)
{
    switch (isa) {
    case POPCORN_ISA_X86_64:
        return "x86_64";
    case POPCORN_ISA_AARCH64:
        return "aarch64";
    }
    return NULL;
}
