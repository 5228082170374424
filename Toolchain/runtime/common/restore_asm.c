/*
 * Register capture, resumption and stack switching for the process move, per ISA.  Written as
 * naked functions so the runtime Makefile's C rules build them for each ISA.  Offsets follow
 * struct popcorn_move_regs: gpr[32] at 0, fpr[32] at 256, pc at 512, tp at 520.
 */
#include "checkpoint_format.h"

#include <stddef.h>

_Static_assert(offsetof(struct popcorn_move_regs, fpr) == 256, "fpr offset used by assembly");
_Static_assert(offsetof(struct popcorn_move_regs, pc) == 512, "pc offset used by assembly");

#if defined(__x86_64__)

/* Like setjmp: records the callee-saved registers, the caller's stack pointer and the return
 * address; returns 0 now and 1 (gpr[0] = rax is set by the caller) when resumed. */
__attribute__((naked)) int __popcorn_capture_regs(struct popcorn_move_regs *regs)
{
    __asm__("movq %rbx, 24(%rdi)\n\t"
            "movq %rbp, 48(%rdi)\n\t"
            "leaq 8(%rsp), %rax\n\t"
            "movq %rax, 56(%rdi)\n\t"
            "movq %r12, 96(%rdi)\n\t"
            "movq %r13, 104(%rdi)\n\t"
            "movq %r14, 112(%rdi)\n\t"
            "movq %r15, 120(%rdi)\n\t"
            "movq (%rsp), %rax\n\t"
            "movq %rax, 512(%rdi)\n\t"
            "xorl %eax, %eax\n\t"
            "ret");
}

/* Loads every register of `regs` (r11 excepted: it carries the pointer) and jumps to pc. */
__attribute__((naked)) _Noreturn void __popcorn_resume_regs(const struct popcorn_move_regs *regs)
{
    __asm__("movq %rdi, %r11\n\t"
            "movq 256(%r11), %xmm0\n\t"  "movq 264(%r11), %xmm1\n\t"
            "movq 272(%r11), %xmm2\n\t"  "movq 280(%r11), %xmm3\n\t"
            "movq 288(%r11), %xmm4\n\t"  "movq 296(%r11), %xmm5\n\t"
            "movq 304(%r11), %xmm6\n\t"  "movq 312(%r11), %xmm7\n\t"
            "movq 320(%r11), %xmm8\n\t"  "movq 328(%r11), %xmm9\n\t"
            "movq 336(%r11), %xmm10\n\t" "movq 344(%r11), %xmm11\n\t"
            "movq 352(%r11), %xmm12\n\t" "movq 360(%r11), %xmm13\n\t"
            "movq 368(%r11), %xmm14\n\t" "movq 376(%r11), %xmm15\n\t"
            "movq 0(%r11), %rax\n\t"
            "movq 8(%r11), %rdx\n\t"
            "movq 16(%r11), %rcx\n\t"
            "movq 24(%r11), %rbx\n\t"
            "movq 32(%r11), %rsi\n\t"
            "movq 40(%r11), %rdi\n\t"
            "movq 48(%r11), %rbp\n\t"
            "movq 56(%r11), %rsp\n\t"
            "movq 64(%r11), %r8\n\t"
            "movq 72(%r11), %r9\n\t"
            "movq 80(%r11), %r10\n\t"
            "movq 96(%r11), %r12\n\t"
            "movq 104(%r11), %r13\n\t"
            "movq 112(%r11), %r14\n\t"
            "movq 120(%r11), %r15\n\t"
            "jmpq *512(%r11)");
}

/* Calls function(argument) on the stack ending at stack_top; the function must not return. */
__attribute__((naked)) _Noreturn void __popcorn_call_on_stack(void *argument, void (*function)(void *),
                                                             void *stack_top)
{
    __asm__("andq $-16, %rdx\n\t"
            "movq %rdx, %rsp\n\t"
            "xorl %ebp, %ebp\n\t"
            "callq *%rsi\n\t"
            "ud2");
}

#elif defined(__aarch64__)

__attribute__((naked)) int __popcorn_capture_regs(struct popcorn_move_regs *regs)
{
    __asm__("stp x19, x20, [x0, #152]\n\t"
            "stp x21, x22, [x0, #168]\n\t"
            "stp x23, x24, [x0, #184]\n\t"
            "stp x25, x26, [x0, #200]\n\t"
            "stp x27, x28, [x0, #216]\n\t"
            "stp x29, x30, [x0, #232]\n\t"
            "mov x9, sp\n\t"
            "str x9, [x0, #248]\n\t"
            "str x30, [x0, #512]\n\t"
            "stp d8, d9, [x0, #320]\n\t"
            "stp d10, d11, [x0, #336]\n\t"
            "stp d12, d13, [x0, #352]\n\t"
            "stp d14, d15, [x0, #368]\n\t"
            "mov w0, #0\n\t"
            "ret");
}

__attribute__((naked)) _Noreturn void __popcorn_resume_regs(const struct popcorn_move_regs *regs)
{
    __asm__("mov x16, x0\n\t"
            "ldp d0, d1, [x16, #256]\n\t"   "ldp d2, d3, [x16, #272]\n\t"
            "ldp d4, d5, [x16, #288]\n\t"   "ldp d6, d7, [x16, #304]\n\t"
            "ldp d8, d9, [x16, #320]\n\t"   "ldp d10, d11, [x16, #336]\n\t"
            "ldp d12, d13, [x16, #352]\n\t" "ldp d14, d15, [x16, #368]\n\t"
            "ldp d16, d17, [x16, #384]\n\t" "ldp d18, d19, [x16, #400]\n\t"
            "ldp d20, d21, [x16, #416]\n\t" "ldp d22, d23, [x16, #432]\n\t"
            "ldp d24, d25, [x16, #448]\n\t" "ldp d26, d27, [x16, #464]\n\t"
            "ldp d28, d29, [x16, #480]\n\t" "ldp d30, d31, [x16, #496]\n\t"
            "ldr x17, [x16, #248]\n\t"
            "mov sp, x17\n\t"
            "ldp x0, x1, [x16, #0]\n\t"
            "ldp x2, x3, [x16, #16]\n\t"
            "ldp x4, x5, [x16, #32]\n\t"
            "ldp x6, x7, [x16, #48]\n\t"
            "ldp x8, x9, [x16, #64]\n\t"
            "ldp x10, x11, [x16, #80]\n\t"
            "ldp x12, x13, [x16, #96]\n\t"
            "ldr x14, [x16, #112]\n\t"
            "ldr x15, [x16, #120]\n\t"
            "ldp x18, x19, [x16, #144]\n\t"
            "ldp x20, x21, [x16, #160]\n\t"
            "ldp x22, x23, [x16, #176]\n\t"
            "ldp x24, x25, [x16, #192]\n\t"
            "ldp x26, x27, [x16, #208]\n\t"
            "ldp x28, x29, [x16, #224]\n\t"
            "ldr x30, [x16, #240]\n\t"
            "ldr x17, [x16, #512]\n\t"
            "br x17");
}

__attribute__((naked)) _Noreturn void __popcorn_call_on_stack(void *argument, void (*function)(void *),
                                                             void *stack_top)
{
    __asm__("and x2, x2, #-16\n\t"
            "mov sp, x2\n\t"
            "mov x29, #0\n\t"
            "mov x30, #0\n\t"
            "blr x1\n\t"
            "brk #1");
}

#else
#error "unsupported ISA"
#endif

uint64_t popcorn_thread_pointer(void)
{
#if defined(__x86_64__)
    uint64_t tp;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(tp)); /* musl keeps self at fs:0 */
    return tp;
#else
    uint64_t tp;
    __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
    return tp;
#endif
}
