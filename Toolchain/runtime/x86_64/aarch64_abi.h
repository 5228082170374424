/*
 * The program's view of libc on x86_64.
 *
 * Popcorn programs are compiled once, for aarch64-unknown-linux-musl, against aarch64 musl's
 * headers.  Their x86_64 copy therefore still uses aarch64's constants and struct layouts when it
 * calls libc.  This header spells out those aarch64 definitions under popcorn_a64_* names (values
 * copied from /usr/include/aarch64-linux-musl) so the x86_64 shims can translate between them and
 * native x86_64 musl, whose headers the shims are compiled against.
 *
 * Internal to the runtime; the C unit tests include it too.
 */
#ifndef POPCORN_AARCH64_ABI_H
#define POPCORN_AARCH64_ABI_H

#include <stdint.h>
#include <stdarg.h>

/* ---- bits/fcntl.h: the open(2) flag bits whose values differ ------------------------------ */
#define POPCORN_A64_O_DIRECTORY 040000
#define POPCORN_A64_O_NOFOLLOW 0100000
#define POPCORN_A64_O_DIRECT 0200000
#define POPCORN_A64_O_LARGEFILE 0400000
/* O_TMPFILE is __O_TMPFILE (020000000, same on both) | O_DIRECTORY, so it follows from the bits. */
#define POPCORN_A64_O_TMPFILE 020040000

/* ---- bits/stat.h + bits/alltypes.h: struct stat (128 bytes) -------------------------------- */
struct popcorn_a64_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

struct popcorn_a64_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint32_t st_mode;
    uint32_t st_nlink; /* nlink_t is unsigned int on aarch64, unsigned long on x86_64 */
    uint32_t st_uid;
    uint32_t st_gid;
    uint64_t st_rdev;
    uint64_t __pad;
    int64_t st_size;
    int32_t st_blksize; /* blksize_t is int on aarch64, long on x86_64 */
    int32_t __pad2;
    int64_t st_blocks;
    struct popcorn_a64_timespec st_atim;
    struct popcorn_a64_timespec st_mtim;
    struct popcorn_a64_timespec st_ctim;
    uint32_t __unused[2];
};

_Static_assert(sizeof(struct popcorn_a64_stat) == 128, "aarch64 struct stat is 128 bytes");

/* ---- bits/fenv.h --------------------------------------------------------------------------- */
#define POPCORN_A64_FE_INVALID 1
#define POPCORN_A64_FE_DIVBYZERO 2
#define POPCORN_A64_FE_OVERFLOW 4
#define POPCORN_A64_FE_UNDERFLOW 8
#define POPCORN_A64_FE_INEXACT 16
#define POPCORN_A64_FE_ALL_EXCEPT 31

#define POPCORN_A64_FE_TONEAREST 0
#define POPCORN_A64_FE_DOWNWARD 0x800000
#define POPCORN_A64_FE_UPWARD 0x400000
#define POPCORN_A64_FE_TOWARDZERO 0xc00000

/* FPCR fields beyond the rounding mode that the x86_64 state can express. */
#define POPCORN_A64_FPCR_TRAP_SHIFT 8     /* IOE DZE OFE UFE IXE, in FE_* order */
#define POPCORN_A64_FPCR_FZ (1u << 24)    /* flush-to-zero */
#define POPCORN_A64_FPCR_RMODE_MASK 0xc00000u

typedef uint32_t popcorn_a64_fexcept_t;

/* The aarch64 floating-point environment: the FPCR and FPSR registers. */
typedef struct {
    uint32_t __fpcr;
    uint32_t __fpsr;
} popcorn_a64_fenv_t;

#define POPCORN_A64_FE_DFL_ENV ((const popcorn_a64_fenv_t *)-1)

/* ---- sys/epoll.h: struct epoll_event is packed (12 bytes) only on x86_64 ------------------- */
struct popcorn_a64_epoll_event {
    uint32_t events;
    uint64_t data;
};

_Static_assert(sizeof(struct popcorn_a64_epoll_event) == 16, "aarch64 epoll_event is 16 bytes");

/* ---- va_list -------------------------------------------------------------------------------- */
/*
 * The AAPCS64 va_list.  On x86_64 the compiler builds it from a native va_list so that
 * __gr_top/__gr_offs address the integer register save area, __vr_top/__vr_offs the vector
 * register save area and __stack the overflow area (see popcorn_a64_va_to_native).  The program
 * passes it to libc's v* functions by pointer (AAPCS64 passes a 32-byte struct indirectly).
 */
struct popcorn_a64_va_list {
    void *__stack;
    void *__gr_top;
    void *__vr_top;
    int32_t __gr_offs;
    int32_t __vr_offs;
};

_Static_assert(sizeof(struct popcorn_a64_va_list) == 32, "aarch64 va_list is 32 bytes");

/* The x86_64 SysV va_list element; `va_list` is an array of one of these. */
struct popcorn_x86_va_tag {
    uint32_t gp_offset;
    uint32_t fp_offset;
    void *overflow_arg_area;
    void *reg_save_area;
};

/* Size of the integer part (6 × 8 bytes) and whole (+ 8 × 16 bytes) register save area. */
#define POPCORN_X86_GP_SAVE 48
#define POPCORN_X86_REG_SAVE 176

#endif /* POPCORN_AARCH64_ABI_H */
