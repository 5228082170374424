/*
 * Register capture and restore for x86_64 (docs/STACK-TRANSFORM.md).  Assembly, kept in a .c
 * file so the runtime Makefile builds it like every other source: every ISA compiles both
 * context files, and this one is empty except on x86_64.  Offsets follow
 * struct popcorn_regs (common/transform.h): pc 0, isa 8, reg[n] at 16 + 8n by DWARF number
 * (rax 0, rdx 1, rcx 2, rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8–r15 8–15, xmm0–15 17–32).
 */
#include "../transform.h"

#if defined(__x86_64__)

_Static_assert(sizeof(struct popcorn_regs) == 784, "popcorn_regs layout used by the assembly");

/*
 * __popcorn_migrate_point_slow: called from every migration point.  Records the state of the
 * function that called it as of that call (its stack pointer before the call, its frame
 * pointer, the callee-saved registers, pc = the return address) and passes it to the C slow
 * path, which either returns (nothing happened) or switches stacks and never comes back.
 */
__asm__(
    ".section .text.__popcorn_migrate_point_slow,\"ax\",@progbits\n"
    ".globl __popcorn_migrate_point_slow\n"
    ".type __popcorn_migrate_point_slow,@function\n"
    ".p2align 4\n"
    "__popcorn_migrate_point_slow:\n"
    ".cfi_startproc\n"
    "    pushq %rbp\n"
    ".cfi_def_cfa_offset 16\n"
    ".cfi_offset %rbp, -16\n"
    "    movq %rsp, %rbp\n"
    ".cfi_def_cfa_register %rbp\n"
    "    subq $784, %rsp\n"
    "    movq 8(%rbp), %rax\n"
    "    movq %rax, 0(%rsp)\n"
    "    movq $0, 8(%rsp)\n" /* isa x86_64 (0), reserved */
    "    movq %rbx, 40(%rsp)\n"
    "    movq 0(%rbp), %rax\n"
    "    movq %rax, 64(%rsp)\n"
    "    leaq 16(%rbp), %rax\n"
    "    movq %rax, 72(%rsp)\n"
    "    movq %r12, 112(%rsp)\n"
    "    movq %r13, 120(%rsp)\n"
    "    movq %r14, 128(%rsp)\n"
    "    movq %r15, 136(%rsp)\n"
    "    movq %rsp, %rdi\n"
    "    callq __popcorn_migrate_point_captured\n"
    "    leave\n"
    ".cfi_def_cfa %rsp, 8\n"
    "    retq\n"
    ".cfi_endproc\n"
    ".size __popcorn_migrate_point_slow, .-__popcorn_migrate_point_slow\n"
    ".text\n");

/* __popcorn_resume(regs): every register from the struct, then jump to pc on the new stack. */
__asm__(
    ".section .text.__popcorn_resume,\"ax\",@progbits\n"
    ".globl __popcorn_resume\n"
    ".type __popcorn_resume,@function\n"
    ".p2align 4\n"
    "__popcorn_resume:\n"
    "    movq 152(%rdi), %xmm0\n"
    "    movq 160(%rdi), %xmm1\n"
    "    movq 168(%rdi), %xmm2\n"
    "    movq 176(%rdi), %xmm3\n"
    "    movq 184(%rdi), %xmm4\n"
    "    movq 192(%rdi), %xmm5\n"
    "    movq 200(%rdi), %xmm6\n"
    "    movq 208(%rdi), %xmm7\n"
    "    movq 216(%rdi), %xmm8\n"
    "    movq 224(%rdi), %xmm9\n"
    "    movq 232(%rdi), %xmm10\n"
    "    movq 240(%rdi), %xmm11\n"
    "    movq 248(%rdi), %xmm12\n"
    "    movq 256(%rdi), %xmm13\n"
    "    movq 264(%rdi), %xmm14\n"
    "    movq 272(%rdi), %xmm15\n"
    "    movq 72(%rdi), %rsp\n"
    "    pushq 0(%rdi)\n" /* below the frame's stack pointer: consumed by the ret */
    "    movq 16(%rdi), %rax\n"
    "    movq 24(%rdi), %rdx\n"
    "    movq 32(%rdi), %rcx\n"
    "    movq 40(%rdi), %rbx\n"
    "    movq 48(%rdi), %rsi\n"
    "    movq 64(%rdi), %rbp\n"
    "    movq 80(%rdi), %r8\n"
    "    movq 88(%rdi), %r9\n"
    "    movq 96(%rdi), %r10\n"
    "    movq 104(%rdi), %r11\n"
    "    movq 112(%rdi), %r12\n"
    "    movq 120(%rdi), %r13\n"
    "    movq 128(%rdi), %r14\n"
    "    movq 136(%rdi), %r15\n"
    "    movq 56(%rdi), %rdi\n"
    "    retq\n"
    ".size __popcorn_resume, .-__popcorn_resume\n"
    ".text\n");

/* __popcorn_main_return: main's return address on a rebuilt stack; main's result is in eax. */
__asm__(
    ".section .text.__popcorn_main_return,\"ax\",@progbits\n"
    ".globl __popcorn_main_return\n"
    ".type __popcorn_main_return,@function\n"
    ".p2align 4\n"
    "__popcorn_main_return:\n"
    "    movl %eax, %edi\n"
    "    andq $-16, %rsp\n"
    "    callq exit\n"
    "    ud2\n"
    ".size __popcorn_main_return, .-__popcorn_main_return\n"
    ".text\n");

#endif /* __x86_64__ */
