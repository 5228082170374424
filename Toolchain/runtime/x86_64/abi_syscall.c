/*
 * syscall(2): the program passes aarch64 system call numbers (from aarch64 musl's
 * bits/syscall.h).  Numbers are mapped by name through a table generated at build time from both
 * ISAs' headers (Toolchain/tools/gen_syscall_table.sh).  Arguments are passed through, except
 * for the calls whose arguments carry values that differ between the ISAs: O_* flag words,
 * struct stat, struct epoll_event, and clone's argument order.
 */
#define _GNU_SOURCE
#include "abi_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscall_table.h"

long __popcorn_syscall_number_to_native(long a64_number)
{
    if (a64_number < 0 || a64_number >= POPCORN_A64_SYSCALL_COUNT)
        return -1;
    return popcorn_syscall_a64_to_x86_64[a64_number];
}

/* struct open_how (openat2): { u64 flags; u64 mode; u64 resolve; } and possibly extensions. */
#define OPEN_HOW_MAX 64

static long native_syscall(long n, long a[6])
{
    return syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static long translated_syscall(long a64_number, long native_number, long a[6])
{
    switch (a64_number) {
    case POPCORN_A64_NR_openat:
        a[2] = __popcorn_oflags_to_native((int)a[2]);
        break;
    case POPCORN_A64_NR_open_by_handle_at:
        a[2] = __popcorn_oflags_to_native((int)a[2]);
        break;
    case POPCORN_A64_NR_pipe2:
        a[1] = __popcorn_oflags_to_native((int)a[1]);
        break;
    case POPCORN_A64_NR_fanotify_init:
        a[1] = __popcorn_oflags_to_native((int)a[1]);
        break;
#ifdef POPCORN_A64_NR_openat2
    case POPCORN_A64_NR_openat2: {
        unsigned char how[OPEN_HOW_MAX];
        size_t size = (size_t)a[3];
        if (a[2] == 0 || size < sizeof(uint64_t) || size > sizeof how)
            break; /* let the kernel report EFAULT / EINVAL / E2BIG */
        memcpy(how, (const void *)a[2], size);
        uint64_t flags;
        memcpy(&flags, how, sizeof flags);
        flags = (uint64_t)(unsigned)__popcorn_oflags_to_native((int)flags) | (flags & ~0xffffffffull);
        memcpy(how, &flags, sizeof flags);
        a[2] = (long)how;
        return native_syscall(native_number, a);
    }
#endif
    case POPCORN_A64_NR_fcntl:
        if (a[1] == F_SETFL)
            a[2] = __popcorn_oflags_to_native((int)a[2]);
        if (a[1] == F_GETFL) {
            long r = native_syscall(native_number, a);
            return r < 0 ? r : __popcorn_oflags_from_native((int)r);
        }
        break;
    case POPCORN_A64_NR_fstat:
    case POPCORN_A64_NR_newfstatat: {
        int slot = a64_number == POPCORN_A64_NR_fstat ? 1 : 2;
        struct popcorn_a64_stat *out = (struct popcorn_a64_stat *)a[slot];
        struct stat st;
        a[slot] = (long)&st;
        long r = native_syscall(native_number, a);
        if (r == 0)
            __popcorn_stat_from_native(out, &st);
        return r;
    }
    case POPCORN_A64_NR_epoll_ctl:
        return __popcorn_abi_epoll_ctl((int)a[0], (int)a[1], (int)a[2],
                                       (struct popcorn_a64_epoll_event *)a[3]);
    case POPCORN_A64_NR_epoll_pwait:
#ifdef POPCORN_A64_NR_epoll_pwait2
    case POPCORN_A64_NR_epoll_pwait2:
#endif
    {
        long r = native_syscall(native_number, a);
        if (r > 0)
            __popcorn_epoll_events_widen((struct popcorn_a64_epoll_event *)a[1], r);
        return r;
    }
    case POPCORN_A64_NR_clone: {
        /* aarch64: flags, stack, parent_tid, tls, child_tid; x86_64: ..., child_tid, tls. */
        long tls = a[3];
        a[3] = a[4];
        a[4] = tls;
        break;
    }
    default:
        break;
    }
    return native_syscall(native_number, a);
}

long __popcorn_abi_syscall(long number, ...)
{
    /* Like musl, always fetch six arguments; unused ones are whatever the registers hold. */
    long a[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    long native = __popcorn_syscall_number_to_native(number);
    if (native < 0) {
        errno = ENOSYS;
        return -1;
    }
    return translated_syscall(number, native, a);
}
