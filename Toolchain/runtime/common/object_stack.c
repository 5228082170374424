/*
 * The object stack (docs/STACK-TRANSFORM.md, "The object stack"): every stack object whose
 * address can escape lives here rather than in a native frame, at one address on every ISA.
 * popcorn-cc's ObjectStack pass lays the frames out in the portable IR and keeps the
 * thread's pointer in __popcorn_osp; this file only provides the memory.
 *
 * One region per thread, mapped on the thread's first use (the pointer is thread-local and
 * starts out null, so threads made by pthread_create need nothing else), growing down from its
 * top with a guard region below it, like a native stack.  It is ordinary private anonymous memory:
 * a move carries it at its address with the rest of the process, and the pointer travels in the
 * TLS block, so objects and the pointers to them are valid on the destination as they are.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "checkpoint_format.h"

/* The thread's object-stack pointer: the lowest byte in use (frames are below it). */
__thread void *__popcorn_osp;

/* The main thread's region (start and end, guard included): a process restored from a move
 * drops the one its own start-up mapped (restore.c). */
uint64_t __popcorn_object_stack_mapping[2];

/* The first function of a thread that uses the object stack calls __popcorn_object_stack_init,
 * so it talks to the kernel directly: C library functions compiled by popcorn-cc (the portable
 * libc) use the object stack themselves. */

/* Reserved per thread (only touched pages cost memory): the native stack's limit, at least 8 MiB
 * and at most 1 GiB, since objects that used to be in native frames are here now. */
#define GUARD_BYTES (1u << 20)
static size_t region_size(void)
{
    struct rlimit limit;
    size_t size = 8u << 20;
    if (popcorn_sys(SYS_prlimit64, 0, RLIMIT_STACK, 0, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur > size)
        size = limit.rlim_cur;
    if (size > (1u << 30))
        size = 1u << 30;
    return size;
}

void *__popcorn_object_stack_init(void)
{
    size_t size = region_size();
    long mapped = popcorn_sys(SYS_mmap, 0, size + GUARD_BYTES, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped < 0 && mapped > -4096) {
        /* Nothing can run without its objects: like a native stack that cannot be grown. */
        static const char message[] = "popcorn: error: cannot map the object stack\n";
        popcorn_sys(SYS_write, 2, message, sizeof message - 1);
        popcorn_sys(SYS_kill, popcorn_sys(SYS_getpid, 0), SIGABRT);
        popcorn_sys(SYS_exit_group, 127);
    }
    unsigned char *region = (unsigned char *)mapped;
    /* A guard region below: an overflow faults like a native stack's. Frames are not probed page
     * by page, so the region is far larger than a page: only a single frame of more than 1 MiB
     * could step over it, as on a native stack without -fstack-clash-protection. */
    popcorn_sys(SYS_mprotect, region, GUARD_BYTES, PROT_NONE);
    if (!__popcorn_object_stack_mapping[1]) {
        __popcorn_object_stack_mapping[0] = (uint64_t)(uintptr_t)region;
        __popcorn_object_stack_mapping[1] = (uint64_t)(uintptr_t)region + size + GUARD_BYTES;
    }
    __popcorn_osp = region + GUARD_BYTES + size;
    return __popcorn_osp;
}
