/*
 * va_list consumers with printf-style formats: the program's aarch64-format va_list is turned
 * back into a native one (rebuilt when the format has long double arguments, see
 * abi_va_marshal.c) and handed to native musl.
 */
#define _GNU_SOURCE
#include "abi_shims.h"
#include "va_support.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <wchar.h>

int __popcorn_abi_vprintf(const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vprintf(fmt, frame.ap);
}

int __popcorn_abi_vfprintf(FILE *f, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vfprintf(f, fmt, frame.ap);
}

int __popcorn_abi_vsprintf(char *s, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vsprintf(s, fmt, frame.ap);
}

int __popcorn_abi_vsnprintf(char *s, size_t n, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vsnprintf(s, n, fmt, frame.ap);
}

int __popcorn_abi_vdprintf(int fd, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vdprintf(fd, fmt, frame.ap);
}

int __popcorn_abi_vasprintf(char **s, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    return vasprintf(s, fmt, frame.ap);
}

void __popcorn_abi_vsyslog(int priority, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 0, ap);
    vsyslog(priority, fmt, frame.ap);
}

/* err.h: a NULL format is allowed (only the program name and errno text are printed). */
static void prepare_optional(struct popcorn_va_frame *frame, const char *fmt,
                             popcorn_a64_va_ptr ap)
{
    __popcorn_va_prepare_printf(frame, fmt ? fmt : "", 0, ap);
}

_Noreturn void __popcorn_abi_verr(int status, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    prepare_optional(&frame, fmt, ap);
    verr(status, fmt, frame.ap);
}

_Noreturn void __popcorn_abi_verrx(int status, const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    prepare_optional(&frame, fmt, ap);
    verrx(status, fmt, frame.ap);
}

void __popcorn_abi_vwarn(const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    prepare_optional(&frame, fmt, ap);
    vwarn(fmt, frame.ap);
}

void __popcorn_abi_vwarnx(const char *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    prepare_optional(&frame, fmt, ap);
    vwarnx(fmt, frame.ap);
}

int __popcorn_abi_vfwprintf(FILE *f, const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 1, ap);
    return vfwprintf(f, fmt, frame.ap);
}

int __popcorn_abi_vswprintf(wchar_t *s, size_t n, const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 1, ap);
    return vswprintf(s, n, fmt, frame.ap);
}

int __popcorn_abi_vwprintf(const wchar_t *fmt, popcorn_a64_va_ptr ap)
{
    struct popcorn_va_frame frame;
    __popcorn_va_prepare_printf(&frame, fmt, 1, ap);
    return vwprintf(fmt, frame.ap);
}
