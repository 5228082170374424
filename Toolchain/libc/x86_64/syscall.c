/*
 * The system-call boundary of the portable C library on x86_64.
 *
 * The C library is compiled once, with aarch64's C view (Toolchain/libc/arch/syscall_arch.h):
 * every system call reaches __popcorn_syscall with an aarch64 call number and aarch64 argument
 * layouts, and expects the aarch64 kernel's result. This file maps the number to x86_64's (a
 * table generated from both ISAs' headers, Toolchain/tools/gen_syscall_table.sh) and converts
 * the arguments whose values or layouts differ. docs/ABI.md lists every translated call.
 *
 * Freestanding: no C library is linked below this layer. Results are raw kernel results
 * (-errno on failure), as musl's __syscall expects.
 */
#include <stddef.h>
#include <stdint.h>

#include "aarch64_abi.h"
#include "kernel_x86_64.h"
#include "syscall_table.h"

#define ENOSYS 38
#define EFAULT 14

long __popcorn_syscall(long n, long a, long b, long c, long d, long e, long f);
uintptr_t __popcorn_tls_fs(uintptr_t tp);

static inline long raw_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}

/* ---- open(2) flags: four bits are permuted between the ISAs -------------------------------- */

static const struct { int a64, x86; } differing_oflags[] = {
    {POPCORN_A64_O_DIRECTORY, X86_O_DIRECTORY},
    {POPCORN_A64_O_NOFOLLOW, X86_O_NOFOLLOW},
    {POPCORN_A64_O_DIRECT, X86_O_DIRECT},
    {POPCORN_A64_O_LARGEFILE, X86_O_LARGEFILE},
};
#define OFLAGS_DIFFERING \
    (POPCORN_A64_O_DIRECTORY | POPCORN_A64_O_NOFOLLOW | POPCORN_A64_O_DIRECT | POPCORN_A64_O_LARGEFILE)
_Static_assert((X86_O_DIRECTORY | X86_O_NOFOLLOW | X86_O_DIRECT | X86_O_LARGEFILE) == OFLAGS_DIFFERING,
               "the differing O_* flags permute the same bits");

static long oflags_to_x86(long flags)
{
    long out = flags & ~(long)OFLAGS_DIFFERING;
    for (size_t i = 0; i < sizeof differing_oflags / sizeof differing_oflags[0]; i++)
        if (flags & differing_oflags[i].a64) out |= differing_oflags[i].x86;
    return out;
}

static long oflags_from_x86(long flags)
{
    long out = flags & ~(long)OFLAGS_DIFFERING;
    for (size_t i = 0; i < sizeof differing_oflags / sizeof differing_oflags[0]; i++)
        if (flags & differing_oflags[i].x86) out |= differing_oflags[i].a64;
    return out;
}

/* ---- struct stat: the kernel's x86_64 layout into the generic (aarch64) one ---------------- */

static void stat_from_x86(struct popcorn_a64_stat *out, const struct x86_kernel_stat *in)
{
    struct popcorn_a64_stat st = {0};
    st.st_dev = in->st_dev;
    st.st_ino = in->st_ino;
    st.st_mode = in->st_mode;
    st.st_nlink = (uint32_t)in->st_nlink;
    st.st_uid = in->st_uid;
    st.st_gid = in->st_gid;
    st.st_rdev = in->st_rdev;
    st.st_size = in->st_size;
    st.st_blksize = (int32_t)in->st_blksize;
    st.st_blocks = in->st_blocks;
    st.st_atim.tv_sec = in->st_atime_sec;
    st.st_atim.tv_nsec = in->st_atime_nsec;
    st.st_mtim.tv_sec = in->st_mtime_sec;
    st.st_mtim.tv_nsec = in->st_mtime_nsec;
    st.st_ctim.tv_sec = in->st_ctime_sec;
    st.st_ctim.tv_nsec = in->st_ctime_nsec;
    *out = st;
}

static long stat_call(long nr, long a[6], int slot)
{
    struct popcorn_a64_stat *out = (struct popcorn_a64_stat *)a[slot];
    struct x86_kernel_stat st;
    a[slot] = (long)&st;
    long r = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r == 0) stat_from_x86(out, &st);
    return r;
}

/* ---- struct epoll_event: 16 bytes on aarch64, packed to 12 on x86_64 ----------------------- */

static long epoll_ctl_call(long nr, long a[6])
{
    const struct popcorn_a64_epoll_event *in = (const struct popcorn_a64_epoll_event *)a[3];
    struct x86_epoll_event ev;
    if (in) {
        ev.events = in->events;
        ev.data = in->data;
        a[3] = (long)&ev;
    }
    return raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The kernel wrote `count` packed events at the start of the caller's array of 16-byte ones:
 * widen them in place, last first (entry i's packed bytes never lie after its wide slot). */
static void epoll_events_widen(void *events, long count)
{
    const unsigned char *packed = events;
    struct popcorn_a64_epoll_event *wide = events;
    for (long i = count - 1; i >= 0; i--) {
        struct x86_epoll_event ev;
        __builtin_memcpy(&ev, packed + i * sizeof ev, sizeof ev);
        wide[i].events = ev.events;
        wide[i].data = ev.data;
    }
}

/* ---- the call ------------------------------------------------------------------------------- */

long __popcorn_syscall(long n, long a0, long a1, long a2, long a3, long a4, long a5)
{
    if (n < 0 || n >= POPCORN_A64_SYSCALL_COUNT || popcorn_syscall_a64_to_x86_64[n] < 0)
        return -ENOSYS;
    long nr = popcorn_syscall_a64_to_x86_64[n];
    long a[6] = {a0, a1, a2, a3, a4, a5};
    switch (n) {
    case POPCORN_A64_NR_openat:
    case POPCORN_A64_NR_open_by_handle_at:
        a[2] = oflags_to_x86(a[2]);
        break;
    case POPCORN_A64_NR_pipe2:
    case POPCORN_A64_NR_fanotify_init:
        a[1] = oflags_to_x86(a[1]);
        break;
#ifdef POPCORN_A64_NR_openat2
    case POPCORN_A64_NR_openat2: {
        /* struct open_how { u64 flags; u64 mode; u64 resolve; ... }: copy, translate flags. */
        uint64_t how[8];
        size_t size = (size_t)a[3];
        if (a[2] == 0 || size < sizeof(uint64_t) || size > sizeof how) break;
        __builtin_memcpy(how, (const void *)a[2], size);
        how[0] = (uint64_t)oflags_to_x86((long)how[0]);
        return raw_syscall(nr, a[0], a[1], (long)how, a[3], a[4], a[5]);
    }
#endif
    case POPCORN_A64_NR_fcntl:
        if (a[1] == X86_F_SETFL) a[2] = oflags_to_x86(a[2]);
        if (a[1] == X86_F_GETFL) {
            long r = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            return r < 0 ? r : oflags_from_x86(r);
        }
        break;
    case POPCORN_A64_NR_fstat:
        return stat_call(nr, a, 1);
    case POPCORN_A64_NR_newfstatat:
        return stat_call(nr, a, 2);
    case POPCORN_A64_NR_epoll_ctl:
        return epoll_ctl_call(nr, a);
    case POPCORN_A64_NR_epoll_pwait:
#ifdef POPCORN_A64_NR_epoll_pwait2
    case POPCORN_A64_NR_epoll_pwait2:
#endif
    {
        long r = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r > 0) epoll_events_widen((void *)a[1], r);
        return r;
    }
    case POPCORN_A64_NR_clone: {
        /* aarch64: flags, stack, parent_tid, tls, child_tid; x86_64: ..., child_tid, tls.
         * The TLS value is the C library's (aarch64) thread pointer; %fs holds another one. */
        long tls = a[3];
        if (a[0] & X86_CLONE_SETTLS) tls = (long)__popcorn_tls_fs((uintptr_t)tls);
        a[3] = a[4];
        a[4] = tls;
        break;
    }
    default:
        break;
    }
    return raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
