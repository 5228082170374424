/*
 * The x86_64 kernel's side of the definitions the portable C library's system calls translate
 * (values from the Linux x86_64 UAPI headers; the aarch64 side is Toolchain/runtime/x86_64/
 * aarch64_abi.h). Only what differs from aarch64's generic ABI is here.
 */
#ifndef POPCORN_KERNEL_X86_64_H
#define POPCORN_KERNEL_X86_64_H

#include <stdint.h>

/* open(2) flags x86_64 keeps at the historical i386 values. */
#define X86_O_DIRECT 040000
#define X86_O_LARGEFILE 0100000
#define X86_O_DIRECTORY 0200000
#define X86_O_NOFOLLOW 0400000

#define X86_F_GETFL 3
#define X86_F_SETFL 4
#define X86_CLONE_SETTLS 0x80000

#define X86_ARCH_SET_FS 0x1002
#define X86_ARCH_GET_FS 0x1003
#define X86_NR_arch_prctl 158

/* struct stat of x86_64's fstat/newfstatat (144 bytes). */
struct x86_kernel_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t __pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;
    uint64_t st_atime_sec;
    uint64_t st_atime_nsec;
    uint64_t st_mtime_sec;
    uint64_t st_mtime_nsec;
    uint64_t st_ctime_sec;
    uint64_t st_ctime_nsec;
    int64_t __unused[3];
};
_Static_assert(sizeof(struct x86_kernel_stat) == 144, "x86_64 struct stat is 144 bytes");

/* struct epoll_event is packed on x86_64 only. */
struct x86_epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct x86_epoll_event) == 12, "x86_64 epoll_event is 12 bytes");

#endif
