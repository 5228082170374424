/*
 * The checkpoint a moving process hands to its successor (docs/PROCESS-MOVE.md), and the raw
 * system calls both sides use.  The file is a memfd (or an unlinked /tmp file) inherited across
 * exec; its descriptor number is in POPCORN_CHECKPOINT_FD.  Everything is native-endian (both
 * ISAs are little-endian) with fixed-size fields, because the writer and the reader may be
 * different ISAs.
 *
 *   header   struct popcorn_ckpt_header
 *   regions  struct popcorn_ckpt_region[region_count]
 *   fds      struct popcorn_ckpt_fd[fd_count]
 *   signals  struct popcorn_ckpt_signal[signal_count]
 *   data     each extent's bytes at its page-aligned data_offset (mmap'd back in place)
 *   extents  struct popcorn_ckpt_extent[extent_count] at extents_offset (known only after the data)
 *
 * Only the pages of a region that hold data are saved (version 3): a region lists the extents
 * (runs of pages) whose bytes are in the file; every other page of it was never touched or
 * holds zeros, and the restore leaves it as fresh zero-filled anonymous memory.
 */
#ifndef POPCORN_CHECKPOINT_FORMAT_H
#define POPCORN_CHECKPOINT_FORMAT_H

#include "process_move.h"

#include <stdint.h>
#include <sys/syscall.h>

#define POPCORN_CKPT_MAGIC 0x3154504b43504f50ull /* "POPCKPT1" */
#define POPCORN_CKPT_VERSION 7
#define POPCORN_CKPT_ENV "POPCORN_CHECKPOINT_FD"
/* The memfd's name (/proc/PID/fd/N reads "/memfd:popcorn-checkpoint (deleted)"). */
#define POPCORN_CKPT_MEMFD_NAME "popcorn-checkpoint"

/* Sealing (linux/fcntl.h, linux/memfd.h; not every libc header has them). */
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002u
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
/* A finished checkpoint: no further writes, size changes or seal changes. */
#define POPCORN_CKPT_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* The ISA this object is compiled for, and the visibility of the process move's internal
 * symbols (shared between its translation units, never by the program). */
#if defined(__x86_64__)
#define THIS_ISA POPCORN_ISA_X86_64
#else
#define THIS_ISA POPCORN_ISA_AARCH64
#endif
#ifndef POPCORN_HIDDEN
#define POPCORN_HIDDEN __attribute__((visibility("hidden")))
#endif

#define POPCORN_CKPT_PAGE 4096ull

/* `value` rounded up to a whole checkpoint page. */
static inline uint64_t popcorn_ckpt_page_up(uint64_t value)
{
    return (value + POPCORN_CKPT_PAGE - 1) & ~(POPCORN_CKPT_PAGE - 1);
}

/* Region kinds. */
#define POPCORN_CKPT_REGION_DATA 0    /* contents saved */
#define POPCORN_CKPT_REGION_RESERVE 1 /* inaccessible (guard pages): address range only */
#define POPCORN_CKPT_REGION_STACK 2   /* the initial [stack]: contents saved, may grow down */
#define POPCORN_CKPT_REGION_SHARED_FILE 3 /* MAP_SHARED file mapping: `fd` (inherited), `file_offset` */
#define POPCORN_CKPT_REGION_SHARED_ANON 4 /* MAP_SHARED anonymous memory: contents saved */

struct popcorn_ckpt_region {
    uint64_t start, end;
    uint32_t extent_first, extent_count; /* this region's saved extents in the extent table */
    uint32_t prot;  /* PROT_* (identical values on both ISAs) */
    uint32_t kind;
    uint64_t file_offset; /* SHARED_FILE: offset of `start` in the file */
    int32_t fd;           /* SHARED_FILE: a descriptor of the file, open across the exec; else -1 */
    uint32_t flags;       /* POPCORN_CKPT_REGION_* flags */
};

/* SHARED_FILE: `fd` is one of the program's own descriptors (the heap file, docs/LIBC.md), in the
 * descriptor table like the others: the restore maps it and leaves it open. */
#define POPCORN_CKPT_REGION_PROGRAM_FD 1u

/* Pages [start, end) of a region whose bytes are at data_offset (page-aligned) in the file. */
struct popcorn_ckpt_extent {
    uint64_t start, end;
    uint64_t data_offset;
};

struct popcorn_ckpt_fd {
    int32_t fd;
    int32_t fd_flags; /* F_GETFD before the exec cleared FD_CLOEXEC */
};

/* A signal disposition: handler addresses are the same on every ISA (aligned code). */
struct popcorn_ckpt_signal {
    int32_t signal;
    int32_t flags;        /* SA_* (identical values on both ISAs) */
    uint64_t handler;
    uint64_t mask[2];     /* sa_mask, first 128 signals */
};

struct popcorn_ckpt_special {
    uint64_t start, end;  /* 0, 0 when absent */
};

/* The kernel's mappings that are moved rather than copied (vDSO code and data). */
enum { POPCORN_CKPT_VVAR, POPCORN_CKPT_VVAR_VCLOCK, POPCORN_CKPT_VDSO, POPCORN_CKPT_SPECIALS };

#define POPCORN_HANDOVER_SEGMENTS 8
#define POPCORN_HANDOVER_OBJECTS 32
#define POPCORN_HANDOVER_VISITED 16

struct popcorn_handover_range {
    uint64_t start, size;
};

/* This process's executable as a move between ISAs needs it (handover.c). */
struct popcorn_exe_layout {
    uint64_t tls_block; /* the calling thread's TLS block */
    uint64_t tls_size;  /* PT_TLS memsz */
    uint32_t segment_count, object_count;
    struct popcorn_handover_range segments[POPCORN_HANDOVER_SEGMENTS]; /* writable PT_LOADs */
    struct popcorn_handover_range objects[POPCORN_HANDOVER_OBJECTS];   /* per-ISA libc objects */
};

struct popcorn_ckpt_header {
    uint64_t magic;
    uint32_t version;
    uint32_t source_isa;
    uint32_t destination_isa;
    uint32_t region_count;
    uint32_t fd_count;
    uint32_t signal_count;
    uint64_t header_size;       /* bytes before the first region's data, page-aligned */
    uint64_t file_size;
    uint64_t regions_offset, fds_offset, signals_offset;
    struct popcorn_move_regs regs;   /* destination format */
    uint64_t source_tp;
    uint64_t tls_start, tls_size;    /* the source thread's TLS block (PT_TLS memsz, same layout everywhere) */
    uint64_t signal_mask[2];         /* to re-install after the restore */
    uint64_t altstack_sp, altstack_size;
    int32_t altstack_flags;
    int32_t checkpoint_fd;
    struct popcorn_ckpt_special specials[POPCORN_CKPT_SPECIALS];
    /* Writable segments of every ISA's binary the run has executed on (start, size): what is
     * outside them in the destination's own segments is data only the destination has. */
    uint32_t segment_count;
    uint32_t extent_count;
    uint64_t segments[POPCORN_HANDOVER_VISITED][2];
    uint64_t extents_offset;
    uint64_t data_bytes;        /* bytes of region data in the file */
    /* CLOCK_MONOTONIC (ns; one clock for the whole machine, also under qemu-user): when the move
     * was requested (the migration point, before the stack transformation) and when the
     * checkpoint was complete, right before the exec. */
    uint64_t request_ns, checkpoint_done_ns;
    /* Who made it (a secure-execution destination accepts only its own process's checkpoint;
     * exec keeps the pid) and for which link: the destination must carry the same identity. */
    uint32_t creator_pid;
    /* personality(2) flags; the exec ran with address randomisation on (checkpoint.c), the
     * restore sets them back. */
    uint32_t personality;
    uint8_t link_identity[32];
};

/* ---- statistics (POPCORN_STATS, migrate.c) ------------------------------------------------ */

/* Timing of the last move, in .bss so that the restore's figures land in the resumed process.
 * Everything from request_ns to the jump back into the program is counted; exec_ns is the part
 * spent in execve, the kernel's loader, qemu-user's start-up and libc's start-up, which is not
 * the runtime's own cost. */
struct popcorn_move_timing {
    uint64_t moves;         /* moves that completed (the resumed process sets it) */
    uint64_t request_ns;    /* set by the slow path before transforming; 0: the mover takes its own */
    uint64_t checkpoint_ns; /* request to the end of the checkpoint (includes the transformation) */
    uint64_t exec_ns;       /* end of the checkpoint to the restore constructor */
    uint64_t restore_ns;    /* restore constructor to the jump into the program */
    uint64_t data_bytes;    /* region bytes written to the checkpoint */
    uint64_t mapped_bytes;  /* bytes of the regions saved (data and skipped zero pages) */
};
extern struct popcorn_move_timing __popcorn_move_timing;

/* The restore area of the last restore (restore.c): unmapped by the next checkpoint. */
extern uint64_t __popcorn_restore_leftover[2];

/* Initial stacks (the kernel's [stack] of an exec'd process, [start, end); 0, 0 when unknown),
 * in .bss so that they are carried from hop to hop (docs/PROCESS-MOVE.md, "Initial stacks"):
 * this process's own, recorded by the restore when no restored region overlaps it, and the one
 * libc's auxiliary vector pointer (musl's __libc.auxv) points into: the first process's, or after
 * a move between ISAs (which keeps the destination's __libc) the destination's own. */
extern uint64_t __popcorn_own_stack[2];
extern uint64_t __popcorn_auxv_stack[2];
/* The brk memory a restored process's libc allocated before the restore replaced its memory:
 * nothing refers to it (0, 0 when unknown or when a restored region overlaps it). */
extern uint64_t __popcorn_own_heap[2];

/* Address ranges a checkpoint leaves out: its own scratch memory, the other ISA's binary mapped
 * for its migration metadata, and initial stacks of earlier processes that nothing refers to any
 * more. */
#define POPCORN_CKPT_CUTS 5
struct popcorn_ckpt_cuts {
    uint32_t count;
    uint64_t range[POPCORN_CKPT_CUTS][2];
};

/* CLOCK_MONOTONIC in ns through the raw system call (usable while libc's memory is replaced). */
uint64_t popcorn_monotonic_ns(void);

/* ---- raw system calls --------------------------------------------------------------------
 * The restore overwrites libc's memory (errno lives in the thread descriptor, which is part of
 * it), so both sides talk to the kernel directly; results are -errno on failure.
 * With the portable C library (POPCORN_PORTABLE_LIBC) the runtime sees the C library's aarch64
 * view on every ISA, numbers included: its calls go through the libc layer's system-call
 * boundary, which translates them on x86_64 and touches no C library state. */
/* The kernel's own numbering of this ISA, whatever C library is linked. */
static inline long popcorn_native_sys6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "unsupported ISA"
#endif
}

#if defined(POPCORN_PORTABLE_LIBC)
long __popcorn_syscall(long n, long a, long b, long c, long d, long e, long f);
#endif

/* The numbering of <sys/syscall.h> as this file was compiled. */
static inline long popcorn_sys6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(POPCORN_PORTABLE_LIBC)
    return __popcorn_syscall(n, a, b, c, d, e, f);
#else
    return popcorn_native_sys6(n, a, b, c, d, e, f);
#endif
}

#define popcorn_sys(n, ...) popcorn_sys_n(n, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define popcorn_sys_n(n, a, b, c, d, e, f, ...) \
    popcorn_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* A mapping from /proc/self/maps. */
struct popcorn_map_entry {
    uint64_t start, end, offset;
    uint64_t device_major, device_minor, inode; /* of the mapped file; 0 when anonymous */
    int readable, writable, executable, shared;
    /* pathname (up to PATH_MAX, with the kernel's " (deleted)" suffix) or [heap]/[stack]/…;
     * empty when anonymous.  A longer name is cut and flagged. */
    int name_truncated;
    char name[4096 + 16];
};

/*
 * Reads /proc/self/maps with raw system calls (no allocation) and calls `visit` for every
 * entry; returns the number of entries or -errno.  `buffer` receives the text.
 */
long popcorn_read_maps(char *buffer, size_t size,
                       void (*visit)(const struct popcorn_map_entry *, void *), void *context);

/*
 * Adds to `regions` the guest pages a qemu-user /proc/self/maps leaves out.  qemu-user 7.2 builds
 * the guest's maps from the host's, and drops every host mapping that is not guest memory from
 * one end to the other: when the kernel merges a guest mapping with an adjacent one of qemu's own
 * (same protections, both anonymous), the guest's pages vanish from the list.  Natively (and when
 * qemu's list is complete) the host's list, /proc/thread-self/maps, is the same text and nothing
 * is done; otherwise every page of an anonymous read-write host mapping not already covered is
 * probed with mincore(), which qemu fails for pages that are not guest memory.  `guest_maps` is
 * the text popcorn_read_maps left in its buffer; `buffer` receives the host's; pages in `cuts`
 * are left out like listed ones.  Returns the
 * number of regions added, or -E2BIG when `capacity` was reached.
 */
long popcorn_add_hidden_guest_regions(const char *guest_maps, char *buffer, size_t size,
                                      struct popcorn_ckpt_region *regions, uint32_t *count, uint32_t capacity,
                                      const struct popcorn_ckpt_cuts *cuts);

/*
 * The host's list of mappings under an emulator: 0 when /proc/thread-self/maps is the same text as
 * `guest_maps` (the text popcorn_read_maps left in its buffer: no emulator), otherwise calls
 * `visit` for every host mapping and returns their number; -errno on failure.
 */
long popcorn_read_host_maps(const char *guest_maps, char *buffer, size_t size,
                            void (*visit)(const struct popcorn_map_entry *, void *), void *context);

/*
 * Whether pages of [start, end) are mapped by another process as well (the Shared_Clean and
 * Shared_Dirty counts of /proc/thread-self/smaps, the host's list under qemu-user): 1, 0, or
 * -errno.  `buffer` receives the text.  Pages another process maps but has never touched are not
 * counted by the kernel, and so not seen.
 */
long popcorn_mapped_elsewhere(char *buffer, size_t size, uint64_t start, uint64_t end);

/*
 * Writes the pages of `region` that hold data to `fd` from `*offset` on (advanced, page-aligned)
 * and appends their extents to `extents` (region->extent_first/extent_count set).  `anonymous`:
 * the region is anonymous memory, so a page the kernel's page map lists as neither present nor
 * swapped is known to be zero without reading it (`pagemap_fd` >= 0).  Other pages are compared
 * with zero.  `probe`: the region maps a file that may end before the mapping does, where a read
 * would raise SIGBUS; each page is first read by the kernel (copied to the checkpoint where the
 * next data goes), which fails with EFAULT instead, and such pages are left out (restored as
 * zeros).  Returns 0 or -errno.
 */
long popcorn_save_region_pages(int fd, struct popcorn_ckpt_region *region, int anonymous, int probe, long pagemap_fd,
                               struct popcorn_ckpt_extent *extents, uint32_t *extent_count,
                               uint32_t extent_capacity, uint64_t *offset, uint64_t *data_bytes);

/*
 * Opens /proc/self/pagemap and checks that it describes this address space (under qemu-user it
 * is the host's: right only when guest addresses are host addresses): `touched` must be listed
 * present and `untouched` (a page of a private anonymous mapping never accessed) not.  Returns
 * the descriptor or -1 when the page map cannot be used; pages are then compared with zero.
 */
long popcorn_open_pagemap(const void *touched, const void *untouched);

/* Writes all of `length` bytes at `offset`; returns 0 or -errno. */
long popcorn_write_all(int fd, const void *data, uint64_t length, uint64_t offset);

/* Writes a message to stderr with raw system calls. */
void popcorn_move_message(const char *first, const char *second, const char *third);

/* The thread pointer of the calling thread. */
uint64_t popcorn_thread_pointer(void);

/*
 * Reads /proc/self/exe's program headers and symbol table (raw system calls): 0, -ENOENT when
 * there is no symbol table to find the per-ISA objects in, or another -errno.
 */
long popcorn_read_exe_layout(struct popcorn_exe_layout *out);

/*
 * The ranges the destination keeps from its own start-up: its per-ISA libc objects and the parts
 * of its writable segments outside every segment in `source->segments`.  Returns the count
 * written to `out` (at most `capacity`).
 */
uint32_t popcorn_kept_ranges(const struct popcorn_exe_layout *own, const struct popcorn_ckpt_header *source,
                             struct popcorn_handover_range *out, uint32_t capacity);

/* Assembly helpers (restore_asm.c). */
int __popcorn_capture_regs(struct popcorn_move_regs *regs) __attribute__((returns_twice));
_Noreturn void __popcorn_resume_regs(const struct popcorn_move_regs *regs);
_Noreturn void __popcorn_call_on_stack(void *argument, void (*function)(void *), void *stack_top);

#endif /* POPCORN_CHECKPOINT_FORMAT_H */
