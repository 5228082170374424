/*
 * Support for the va_list-consuming shims (vprintf, vscanf, ...): converting the program's
 * aarch64-format va_list back into a native x86_64 one, and — when the format has `long double`
 * conversions — rebuilding the argument list so native libc finds x87 values where it expects
 * them.  Internal to the x86_64 runtime.
 */
#ifndef POPCORN_VA_SUPPORT_H
#define POPCORN_VA_SUPPORT_H

#include "aarch64_abi.h"

#include <stdarg.h>
#include <stddef.h>

/* Largest number of arguments a rebuilt list can hold; longer formats use the plain conversion. */
#define POPCORN_VA_MAX_ARGS 128

/* How one argument travels. */
enum popcorn_va_class {
    POPCORN_VA_GP,      /* integer or pointer: one 8-byte integer slot */
    POPCORN_VA_FP,      /* double: one vector register slot */
    POPCORN_VA_LDBL,    /* printf: a long double value; scanf: a pointer to a long double */
};

/* The arguments a format string consumes, in argument order. */
struct popcorn_va_plan {
    int count;
    int long_doubles; /* how many POPCORN_VA_LDBL entries */
    unsigned char classes[POPCORN_VA_MAX_ARGS];
};

/*
 * Analyse a printf-style (or, with wide set, wprintf-style) format.  Returns 0 and fills plan,
 * or -1 if the format is one libc would reject or that has more than POPCORN_VA_MAX_ARGS
 * arguments; callers then fall back to the plain conversion, which is exact for every format
 * without long double arguments.
 */
int __popcorn_printf_plan(const void *format, int wide, struct popcorn_va_plan *plan);

/* The same for scanf-style formats; a POPCORN_VA_LDBL entry is an L-qualified float target. */
int __popcorn_scanf_plan(const void *format, int wide, struct popcorn_va_plan *plan);

/* Native x86_64 va_list equivalent to a va_list the program built on x86_64. */
void __popcorn_va_to_native(va_list out, const struct popcorn_a64_va_list *in);

/* A native va_list ready to hand to libc, plus the storage a rebuilt list lives in. */
struct popcorn_va_frame {
    va_list ap;
    _Alignas(16) unsigned char registers[POPCORN_X86_REG_SAVE];
    _Alignas(16) unsigned char overflow[POPCORN_VA_MAX_ARGS * 16];
    /* scanf: where each L-qualified conversion's x87 result goes, and the program's target. */
    int fixups;
    struct {
        long double scratch;
        __float128 *target;
    } fixup[POPCORN_VA_MAX_ARGS];
};

/* Prepares frame->ap for a vprintf-family call with the given format. */
void __popcorn_va_prepare_printf(struct popcorn_va_frame *frame, const void *format, int wide,
                               const struct popcorn_a64_va_list *in);

/* Prepares frame->ap for a vscanf-family call; call __popcorn_va_finish_scanf afterwards. */
void __popcorn_va_prepare_scanf(struct popcorn_va_frame *frame, const void *format, int wide,
                              const struct popcorn_a64_va_list *in);

/* Stores the long double results of a scanf call as binary128 into the program's variables. */
void __popcorn_va_finish_scanf(struct popcorn_va_frame *frame);

#endif /* POPCORN_VA_SUPPORT_H */
