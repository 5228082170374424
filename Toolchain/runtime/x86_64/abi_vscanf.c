/*
 * va_list consumers with scanf-style formats.  All scanf arguments are pointers, so the plain
 * conversion is exact except for L-qualified float targets, which native musl would fill with
 * x87 values; those go through scratch variables (abi_va_marshal.c) converted after the call.
 */
#include "abi_shims.h"
#include "va_support.h"

#include <stdio.h>
#include <wchar.h>

int __popcorn_abi_vscanf(const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 0, ap);
    int result = vscanf(fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}

int __popcorn_abi_vfscanf(FILE *f, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 0, ap);
    int result = vfscanf(f, fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}

int __popcorn_abi_vsscanf(const char *s, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 0, ap);
    int result = vsscanf(s, fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}

int __popcorn_abi_vfwscanf(FILE *f, const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 1, ap);
    int result = vfwscanf(f, fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}

int __popcorn_abi_vswscanf(const wchar_t *s, const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 1, ap);
    int result = vswscanf(s, fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}

int __popcorn_abi_vwscanf(const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_scanf(&frame, fmt, 1, ap);
    int result = vwscanf(fmt, frame.ap);
    __popcorn_va_finish_scanf(&frame);
    return result;
}
