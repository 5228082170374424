/*
 * open(2)-style flags: O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE occupy the same four
 * bits on both ISAs but in a different order (x86_64 keeps the historical i386 values), so a
 * flag word is translated bit by bit.  Every other O_* bit, F_* command and FD_* value is the
 * same on both ISAs (struct flock too), so fcntl only translates F_GETFL/F_SETFL.
 */
#define _GNU_SOURCE
#include "abi_shims.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

struct flag_pair {
    int a64;
    int native;
};

static const struct flag_pair differing_flags[] = {
    {POPCORN_A64_O_DIRECTORY, O_DIRECTORY},
    {POPCORN_A64_O_NOFOLLOW, O_NOFOLLOW},
    {POPCORN_A64_O_DIRECT, O_DIRECT},
    {POPCORN_A64_O_LARGEFILE, O_LARGEFILE},
};

#define DIFFERING_MASK                                                                    \
    (POPCORN_A64_O_DIRECTORY | POPCORN_A64_O_NOFOLLOW | POPCORN_A64_O_DIRECT |           \
     POPCORN_A64_O_LARGEFILE)

/* The four bits are the same set on both sides, only permuted. */
_Static_assert((O_DIRECTORY | O_NOFOLLOW | O_DIRECT | O_LARGEFILE) == DIFFERING_MASK,
               "the differing O_* flags permute the same bits");

int __popcorn_oflags_to_native(int a64_flags)
{
    int native = a64_flags & ~DIFFERING_MASK;
    for (size_t i = 0; i < sizeof differing_flags / sizeof differing_flags[0]; i++)
        if (a64_flags & differing_flags[i].a64)
            native |= differing_flags[i].native;
    return native;
}

int __popcorn_oflags_from_native(int native_flags)
{
    int a64 = native_flags & ~DIFFERING_MASK;
    for (size_t i = 0; i < sizeof differing_flags / sizeof differing_flags[0]; i++)
        if (native_flags & differing_flags[i].native)
            a64 |= differing_flags[i].a64;
    return a64;
}

/* open() reads its mode argument only when the (program's) flags can create a file. */
static int needs_mode(int a64_flags)
{
    return (a64_flags & O_CREAT) || (a64_flags & POPCORN_A64_O_TMPFILE) == POPCORN_A64_O_TMPFILE;
}

int __popcorn_abi_openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return openat(dirfd, path, __popcorn_oflags_to_native(flags), mode);
}

int __popcorn_abi_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open(path, __popcorn_oflags_to_native(flags), mode);
}

/* The *64 names are musl's large-file aliases; off_t is 64-bit on both ISAs. */
int __popcorn_abi_open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open(path, __popcorn_oflags_to_native(flags), mode);
}

int __popcorn_abi_openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return openat(dirfd, path, __popcorn_oflags_to_native(flags), mode);
}

static int fcntl_translated(int fd, int cmd, unsigned long arg)
{
    switch (cmd) {
    case F_GETFL: {
        int result = fcntl(fd, F_GETFL);
        return result < 0 ? result : __popcorn_oflags_from_native(result);
    }
    case F_SETFL:
        return fcntl(fd, F_SETFL, __popcorn_oflags_to_native((int)arg));
    default:
        /* Like musl, pass the argument through as a long: it is an int or a pointer. */
        return fcntl(fd, cmd, arg);
    }
}

int __popcorn_abi_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_translated(fd, cmd, arg);
}

int __popcorn_abi_fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl_translated(fd, cmd, arg);
}

int __popcorn_abi_pipe2(int fds[2], int flags)
{
    return pipe2(fds, __popcorn_oflags_to_native(flags));
}

int __popcorn_abi_mkostemp(char *template, int flags)
{
    return mkostemp(template, __popcorn_oflags_to_native(flags));
}

int __popcorn_abi_mkostemps(char *template, int suffix_length, int flags)
{
    return mkostemps(template, suffix_length, __popcorn_oflags_to_native(flags));
}
