/*
 * The assembly of the portable C library's aarch64 layer: system call entry,
 * thread pointer, setjmp/longjmp, signal return, thread start and exit. The C library's view
 * is aarch64's, so nothing is translated here.
 *
 * Each function has its own section, named like a C function's under -ffunction-sections, so
 * that popcorn-ld places it at one address on both ISAs (a function inside a shared section
 * would be reached through an entry stub, and the stack transformation compares return
 * addresses with sigsetjmp's own).
 */

/* __popcorn_syscall(n, a, b, c, d, e, f) */
	.section .text.__popcorn_syscall,"ax",%progbits
	.p2align 2
	.globl __popcorn_syscall
	.type __popcorn_syscall,%function
__popcorn_syscall:
	mov x8,x0
	mov x0,x1
	mov x1,x2
	mov x2,x3
	mov x3,x4
	mov x4,x5
	mov x5,x6
	svc #0
	ret
	.size __popcorn_syscall,.-__popcorn_syscall

	.section .text.__popcorn_get_tp,"ax",%progbits
	.p2align 2
	.globl __popcorn_get_tp
	.type __popcorn_get_tp,%function
__popcorn_get_tp:
	mrs x0,tpidr_el0
	ret
	.size __popcorn_get_tp,.-__popcorn_get_tp

/* After a move: tpidr_el0 and the TLS layout need nothing (the x86_64 layer has work here). */
	.section .text.__popcorn_libc_restored,"ax",%progbits
	.p2align 2
	.globl __popcorn_libc_restored
	.type __popcorn_libc_restored,%function
__popcorn_libc_restored:
	ret
	.size __popcorn_libc_restored,.-__popcorn_libc_restored

	.section .text.__set_thread_area,"ax",%progbits
	.p2align 2
	.globl __set_thread_area
	.type __set_thread_area,%function
__set_thread_area:
	msr tpidr_el0,x0
	mov w0,#0
	ret
	.size __set_thread_area,.-__set_thread_area

/* setjmp(env): x19-x30, sp and d8-d15 in the 22 words of __jmp_buf. */
	.section .text.setjmp,"ax",%progbits
	.p2align 2
	.globl setjmp, _setjmp, __setjmp
	.type setjmp,%function
	.type _setjmp,%function
	.type __setjmp,%function
setjmp:
_setjmp:
__setjmp:
	stp x19,x20,[x0,#0]
	stp x21,x22,[x0,#16]
	stp x23,x24,[x0,#32]
	stp x25,x26,[x0,#48]
	stp x27,x28,[x0,#64]
	stp x29,x30,[x0,#80]
	mov x2,sp
	str x2,[x0,#104]
	stp d8,d9,[x0,#112]
	stp d10,d11,[x0,#128]
	stp d12,d13,[x0,#144]
	stp d14,d15,[x0,#160]
	mov x0,#0
	ret
	.size setjmp,.-setjmp

/* longjmp(env, val): returns val (1 if val is 0) from the setjmp that filled env. */
	.section .text.longjmp,"ax",%progbits
	.p2align 2
	.globl longjmp, _longjmp
	.type longjmp,%function
	.type _longjmp,%function
longjmp:
_longjmp:
	ldp x19,x20,[x0,#0]
	ldp x21,x22,[x0,#16]
	ldp x23,x24,[x0,#32]
	ldp x25,x26,[x0,#48]
	ldp x27,x28,[x0,#64]
	ldp x29,x30,[x0,#80]
	ldr x2,[x0,#104]
	mov sp,x2
	ldp d8,d9,[x0,#112]
	ldp d10,d11,[x0,#128]
	ldp d12,d13,[x0,#144]
	ldp d14,d15,[x0,#160]
	cmp w1,#0
	csinc w0,w1,wzr,ne
	br x30
	.size longjmp,.-longjmp

/* sigsetjmp(env, savemask): with savemask, keeps the return address in the flag word (176)
 * and x19 in the mask area (192) across the call of setjmp, then lets the C library's
 * __sigsetjmp_tail save or restore the mask.  The stack transformation recognises such a buffer
 * by its return address, sigsetjmp + 0x18 (the instruction after `bl setjmp`; runtime
 * stack/jmpbuf.c): keep the two in step. */
	.section .text.sigsetjmp,"ax",%progbits
	.p2align 2
	.globl sigsetjmp, __sigsetjmp
	.type sigsetjmp,%function
	.type __sigsetjmp,%function
sigsetjmp:
__sigsetjmp:
	cbnz x1,1f
	b setjmp			/* (a conditional branch to another section may not reach) */
1:	str x30,[x0,#176]
	str x19,[x0,#192]
	mov x19,x0
	bl setjmp
	mov w1,w0
	mov x0,x19
	ldr x30,[x0,#176]
	ldr x19,[x0,#192]
	b __sigsetjmp_tail
	.size sigsetjmp,.-sigsetjmp

/* Signal return: the C library sets SA_RESTORER with these. */
	.section .text.__restore,"ax",%progbits
	.p2align 2
	.globl __restore, __restore_rt
	.type __restore,%function
	.type __restore_rt,%function
__restore:
__restore_rt:
	mov x8,#139			/* rt_sigreturn */
	svc #0
	.size __restore_rt,.-__restore_rt

/* __clone(func, stack, flags, arg, ptid, tls, ctid): the child calls func(arg) on the new
 * stack and exits with its result. */
	.section .text.__clone,"ax",%progbits
	.p2align 2
	.globl __clone
	.type __clone,%function
__clone:
	and x1,x1,#-16
	stp x0,x3,[x1,#-16]!
	uxtw x0,w2			/* flags */
	mov x2,x4			/* parent tid */
	mov x3,x5			/* tls */
	mov x4,x6			/* child tid */
	mov x8,#220			/* clone */
	svc #0
	cbz x0,1f
	ret
1:	mov x29,#0
	ldp x1,x0,[sp],#16
	blr x1
	mov x8,#93			/* exit */
	svc #0
	.size __clone,.-__clone

/* __unmapself(base, size): unmaps the exiting thread's own stack, then exits the thread. */
	.section .text.__unmapself,"ax",%progbits
	.p2align 2
	.globl __unmapself
	.type __unmapself,%function
__unmapself:
	mov x8,#215			/* munmap */
	svc #0
	mov x0,#0
	mov x8,#93			/* exit */
	svc #0
	.size __unmapself,.-__unmapself

	.section .note.GNU-stack,"",%progbits
