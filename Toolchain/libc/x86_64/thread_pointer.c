/*
 * The thread pointer of the portable C library on x86_64.
 *
 * The C library lays out every thread with aarch64's TLS variant I (Toolchain/libc/arch/
 * pthread_arch.h): descriptor, thread pointer, 16 bytes, TLS block. x86_64's code generator
 * addresses thread-locals below %fs (variant II) and reads %fs:0 as the thread's own %fs. So
 * %fs points at the end of the TLS block, where the word %fs:0 holds %fs itself: a thread-local
 * then has one address on both ISAs, and a thread pointer is the same value in the C library's
 * data on both. The distance between the two pointers is the same for every thread.
 */
#include <stddef.h>
#include <stdint.h>

#include "kernel_x86_64.h"

/* The leading fields of musl 1.2's process-wide state (src/internal/libc.h), which the
 * C library fills in before it sets the first thread pointer. */
struct musl_tls_module {
    struct musl_tls_module *next;
    void *image;
    size_t len, size, align, offset;
};

struct musl_libc_prefix {
    char can_do_threads, threaded, secure;
    volatile signed char need_locks;
    int threads_minus_1;
    size_t *auxv;
    struct musl_tls_module *tls_head;
    size_t tls_size, tls_align, tls_cnt;
};

extern struct musl_libc_prefix __libc;

/* %fs minus the C library's thread pointer (read by __popcorn_get_tp, entry.S). */
uintptr_t __popcorn_tp_to_fs;

/* GAP_ABOVE_TP: where the TLS block starts when the program has none. */
#define TLS_GAP 16

/* The %fs value for the thread whose C library thread pointer is `tp`; stores the self word. */
uintptr_t __popcorn_tls_fs(uintptr_t tp)
{
    const struct musl_tls_module *main_tls = __libc.tls_head;
    uintptr_t distance = main_tls ? main_tls->offset + main_tls->size : TLS_GAP;
    uintptr_t fs = tp + distance;
    *(uintptr_t *)fs = fs;
    __popcorn_tp_to_fs = distance;
    return fs;
}

/* After a move restored this thread's memory from another process: %fs is still this process's
 * own (at the same address as the source's, the layouts being one), but the self word and the
 * distance are whatever the source kept there, nothing if it ran on aarch64. */
void __popcorn_libc_restored(void)
{
    uintptr_t fs = 0;
    long r;
    __asm__ __volatile__("syscall"
                         : "=a"(r)
                         : "a"((long)X86_NR_arch_prctl), "D"((long)X86_ARCH_GET_FS), "S"(&fs)
                         : "rcx", "r11", "memory");
    const struct musl_tls_module *main_tls = __libc.tls_head;
    __popcorn_tp_to_fs = main_tls ? main_tls->offset + main_tls->size : TLS_GAP;
    *(uintptr_t *)fs = fs;
}

int __set_thread_area(void *tp)
{
    uintptr_t fs = __popcorn_tls_fs((uintptr_t)tp);
    long r;
    __asm__ __volatile__("syscall"
                         : "=a"(r)
                         : "a"((long)X86_NR_arch_prctl), "D"((long)X86_ARCH_SET_FS), "S"(fs)
                         : "rcx", "r11", "memory");
    return r < 0 ? -1 : 0;
}

/* The C library's __clone with x86_64's %fs for the new thread (entry.S does the call). */
int __popcorn_clone_x86(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls,
                        int *ctid);

int __clone(int (*func)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid)
{
    if (flags & X86_CLONE_SETTLS) tls = (void *)__popcorn_tls_fs((uintptr_t)tls);
    return __popcorn_clone_x86(func, stack, flags, arg, ptid, tls, ctid);
}
