/*
 * Compile-time check, built *for aarch64* against the real aarch64 musl headers: the
 * popcorn_a64_* declarations the x86_64 shims rely on (aarch64_abi.h) must match aarch64
 * musl's constants and layouts exactly.  `make check` compiles this with -fsyntax-only; any
 * mismatch is a build error.
 */
#define _GNU_SOURCE
#include "aarch64_abi.h"

#include <fcntl.h>
#include <fenv.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#ifndef __aarch64__
#error "this check must be compiled for aarch64"
#endif

#define SAME_CONSTANT(ours, theirs) _Static_assert((ours) == (theirs), #ours " != " #theirs)
#define SAME_FIELD(ours, theirs, field)                                                      \
    _Static_assert(offsetof(ours, field) == offsetof(theirs, field) &&                      \
                       sizeof(((ours *)0)->field) == sizeof(((theirs *)0)->field),          \
                   #field " differs")

SAME_CONSTANT(POPCORN_A64_O_DIRECTORY, O_DIRECTORY);
SAME_CONSTANT(POPCORN_A64_O_NOFOLLOW, O_NOFOLLOW);
SAME_CONSTANT(POPCORN_A64_O_DIRECT, O_DIRECT);
SAME_CONSTANT(POPCORN_A64_O_LARGEFILE, O_LARGEFILE);
SAME_CONSTANT(POPCORN_A64_O_TMPFILE, O_TMPFILE);

_Static_assert(sizeof(struct popcorn_a64_stat) == sizeof(struct stat), "struct stat size");
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_dev);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_ino);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_mode);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_nlink);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_uid);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_gid);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_rdev);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_size);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_blksize);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_blocks);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_atim);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_mtim);
SAME_FIELD(struct popcorn_a64_stat, struct stat, st_ctim);

SAME_CONSTANT(POPCORN_A64_FE_INVALID, FE_INVALID);
SAME_CONSTANT(POPCORN_A64_FE_DIVBYZERO, FE_DIVBYZERO);
SAME_CONSTANT(POPCORN_A64_FE_OVERFLOW, FE_OVERFLOW);
SAME_CONSTANT(POPCORN_A64_FE_UNDERFLOW, FE_UNDERFLOW);
SAME_CONSTANT(POPCORN_A64_FE_INEXACT, FE_INEXACT);
SAME_CONSTANT(POPCORN_A64_FE_ALL_EXCEPT, FE_ALL_EXCEPT);
SAME_CONSTANT(POPCORN_A64_FE_TONEAREST, FE_TONEAREST);
SAME_CONSTANT(POPCORN_A64_FE_DOWNWARD, FE_DOWNWARD);
SAME_CONSTANT(POPCORN_A64_FE_UPWARD, FE_UPWARD);
SAME_CONSTANT(POPCORN_A64_FE_TOWARDZERO, FE_TOWARDZERO);
_Static_assert(sizeof(popcorn_a64_fexcept_t) == sizeof(fexcept_t), "fexcept_t size");
_Static_assert(sizeof(popcorn_a64_fenv_t) == sizeof(fenv_t), "fenv_t size");
SAME_FIELD(popcorn_a64_fenv_t, fenv_t, __fpcr);
SAME_FIELD(popcorn_a64_fenv_t, fenv_t, __fpsr);

_Static_assert(sizeof(struct popcorn_a64_epoll_event) == sizeof(struct epoll_event), "epoll size");
SAME_FIELD(struct popcorn_a64_epoll_event, struct epoll_event, events);
SAME_FIELD(struct popcorn_a64_epoll_event, struct epoll_event, data);

_Static_assert(sizeof(struct popcorn_a64_va_list) == sizeof(va_list), "va_list size");
_Static_assert(_Alignof(struct popcorn_a64_va_list) == _Alignof(va_list), "va_list alignment");
