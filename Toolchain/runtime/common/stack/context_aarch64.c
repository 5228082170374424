/*
 * Register capture and restore for aarch64 (docs/STACK-TRANSFORM.md).  Assembly, kept in a .c
 * file so the runtime Makefile builds it like every other source: every ISA compiles both
 * context files, and this one is empty except on aarch64.  Offsets follow
 * struct popcorn_regs (common/transform.h): pc 0, isa 8, reg[n] at 16 + 8n by DWARF number
 * (x0–x30 0–30, sp 31, v0–v31 64–95: d registers at 528 + 8n).
 */
#include "../transform.h"

#if defined(__aarch64__)

_Static_assert(sizeof(struct popcorn_regs) == 784, "popcorn_regs layout used by the assembly");

/*
 * __popcorn_migrate_point_slow: called from every migration point.  Records the state of the
 * function that called it as of that call (its stack pointer, frame pointer, x19–x28, d8–d15,
 * pc = the return address in x30) and passes it to the C slow path, which either returns
 * (nothing happened) or switches stacks and never comes back.
 */
__asm__(
    ".section .text.__popcorn_migrate_point_slow,\"ax\",%progbits\n"
    ".globl __popcorn_migrate_point_slow\n"
    ".type __popcorn_migrate_point_slow,%function\n"
    ".p2align 4\n"
    "__popcorn_migrate_point_slow:\n"
    ".cfi_startproc\n"
    "    stp x29, x30, [sp, #-16]!\n"
    ".cfi_def_cfa_offset 16\n"
    ".cfi_offset w30, -8\n"
    ".cfi_offset w29, -16\n"
    "    mov x29, sp\n"
    ".cfi_def_cfa w29, 16\n"
    "    sub sp, sp, #784\n"
    "    str x30, [sp, #0]\n"
    "    mov x9, #1\n" /* isa aarch64 (1), reserved 0 */
    "    str x9, [sp, #8]\n"
    "    stp x19, x20, [sp, #168]\n"
    "    stp x21, x22, [sp, #184]\n"
    "    stp x23, x24, [sp, #200]\n"
    "    stp x25, x26, [sp, #216]\n"
    "    stp x27, x28, [sp, #232]\n"
    "    ldr x9, [x29]\n"
    "    str x9, [sp, #248]\n"
    "    add x9, x29, #16\n"
    "    str x9, [sp, #264]\n"
    "    str d8, [sp, #592]\n"
    "    str d9, [sp, #600]\n"
    "    str d10, [sp, #608]\n"
    "    str d11, [sp, #616]\n"
    "    str d12, [sp, #624]\n"
    "    str d13, [sp, #632]\n"
    "    str d14, [sp, #640]\n"
    "    str d15, [sp, #648]\n"
    "    mov x0, sp\n"
    "    bl __popcorn_migrate_point_captured\n"
    "    mov sp, x29\n"
    "    ldp x29, x30, [sp], #16\n"
    ".cfi_def_cfa sp, 0\n"
    "    ret\n"
    ".cfi_endproc\n"
    ".size __popcorn_migrate_point_slow, .-__popcorn_migrate_point_slow\n"
    ".text\n");

/* __popcorn_resume(regs): every register from the struct, then jump to pc on the new stack
 * (through x30, which a caller never expects to survive a call). */
__asm__(
    ".section .text.__popcorn_resume,\"ax\",%progbits\n"
    ".globl __popcorn_resume\n"
    ".type __popcorn_resume,%function\n"
    ".p2align 4\n"
    "__popcorn_resume:\n"
    "    add x1, x0, #528\n" /* ldp reaches only ±512 bytes */
    "    ldp d0, d1, [x1, #0]\n"
    "    ldp d2, d3, [x1, #16]\n"
    "    ldp d4, d5, [x1, #32]\n"
    "    ldp d6, d7, [x1, #48]\n"
    "    ldp d8, d9, [x1, #64]\n"
    "    ldp d10, d11, [x1, #80]\n"
    "    ldp d12, d13, [x1, #96]\n"
    "    ldp d14, d15, [x1, #112]\n"
    "    ldp d16, d17, [x1, #128]\n"
    "    ldp d18, d19, [x1, #144]\n"
    "    ldp d20, d21, [x1, #160]\n"
    "    ldp d22, d23, [x1, #176]\n"
    "    ldp d24, d25, [x1, #192]\n"
    "    ldp d26, d27, [x1, #208]\n"
    "    ldp d28, d29, [x1, #224]\n"
    "    ldp d30, d31, [x1, #240]\n"
    "    ldr x1, [x0, #264]\n"
    "    mov sp, x1\n"
    "    ldr x30, [x0, #0]\n"
    "    ldp x2, x3, [x0, #32]\n"
    "    ldp x4, x5, [x0, #48]\n"
    "    ldp x6, x7, [x0, #64]\n"
    "    ldp x8, x9, [x0, #80]\n"
    "    ldp x10, x11, [x0, #96]\n"
    "    ldp x12, x13, [x0, #112]\n"
    "    ldp x14, x15, [x0, #128]\n"
    "    ldp x16, x17, [x0, #144]\n"
    "    ldp x18, x19, [x0, #160]\n"
    "    ldp x20, x21, [x0, #176]\n"
    "    ldp x22, x23, [x0, #192]\n"
    "    ldp x24, x25, [x0, #208]\n"
    "    ldp x26, x27, [x0, #224]\n"
    "    ldp x28, x29, [x0, #240]\n"
    "    ldr x1, [x0, #24]\n"
    "    ldr x0, [x0, #16]\n"
    "    ret\n"
    ".size __popcorn_resume, .-__popcorn_resume\n"
    ".text\n");

/* __popcorn_main_return: main's return address on a rebuilt stack; main's result is in w0. */
__asm__(
    ".section .text.__popcorn_main_return,\"ax\",%progbits\n"
    ".globl __popcorn_main_return\n"
    ".type __popcorn_main_return,%function\n"
    ".p2align 4\n"
    "__popcorn_main_return:\n"
    "    mov x9, sp\n"
    "    and x9, x9, #-16\n"
    "    mov sp, x9\n"
    "    bl exit\n"
    "    brk #1\n"
    ".size __popcorn_main_return, .-__popcorn_main_return\n"
    ".text\n");

#endif /* __aarch64__ */
