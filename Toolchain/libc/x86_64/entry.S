/*
 * The assembly of the portable C library's x86_64 layer: thread pointer,
 * setjmp/longjmp, signal return, thread start and exit, and the cancellation-point markers.
 * Each routine takes the C library's (aarch64) view of its arguments: jmp_buf is aarch64's
 * 22-word __jmp_buf followed by the flag word and the saved signal mask.
 *
 * Each function has its own section, named like a C function's under -ffunction-sections, so
 * that popcorn-ld places it at one address on both ISAs (a function inside a shared section
 * would be reached through an entry stub, and the stack transformation compares return
 * addresses with sigsetjmp's own).
 */

/* The C library's thread pointer: %fs:0 (the self word) minus the fixed distance. */
	.section .text.__popcorn_get_tp,"ax",@progbits
	.p2align 4
	.globl __popcorn_get_tp
	.type __popcorn_get_tp,@function
__popcorn_get_tp:
	mov %fs:0,%rax
	sub __popcorn_tp_to_fs(%rip),%rax
	ret
	.size __popcorn_get_tp,.-__popcorn_get_tp

/* setjmp(env): callee-saved registers, the caller's stack pointer and the return address in
 * the first eight words of aarch64's __jmp_buf. */
	.section .text.setjmp,"ax",@progbits
	.p2align 4
	.globl setjmp, _setjmp, __setjmp
	.type setjmp,@function
	.type _setjmp,@function
	.type __setjmp,@function
setjmp:
_setjmp:
__setjmp:
	mov %rbx,(%rdi)
	mov %rbp,8(%rdi)
	mov %r12,16(%rdi)
	mov %r13,24(%rdi)
	mov %r14,32(%rdi)
	mov %r15,40(%rdi)
	lea 8(%rsp),%rdx
	mov %rdx,48(%rdi)
	mov (%rsp),%rdx
	mov %rdx,56(%rdi)
	xor %eax,%eax
	ret
	.size setjmp,.-setjmp

/* longjmp(env, val): returns val (1 if val is 0) from the setjmp that filled env. */
	.section .text.longjmp,"ax",@progbits
	.p2align 4
	.globl longjmp, _longjmp
	.type longjmp,@function
	.type _longjmp,@function
longjmp:
_longjmp:
	xor %eax,%eax
	cmp $1,%esi
	adc %esi,%eax
	mov (%rdi),%rbx
	mov 8(%rdi),%rbp
	mov 16(%rdi),%r12
	mov 24(%rdi),%r13
	mov 32(%rdi),%r14
	mov 40(%rdi),%r15
	mov 48(%rdi),%rsp
	jmp *56(%rdi)
	.size longjmp,.-longjmp

/* sigsetjmp(env, savemask): with savemask, keeps the return address in the flag word (176)
 * and %rbx in the mask area (192) across the call of setjmp, then lets the C library's
 * __sigsetjmp_tail save or restore the mask.  The stack transformation recognises such a buffer
 * by its return address, sigsetjmp + 0x1d (the instruction after `call setjmp`; runtime
 * stack/jmpbuf.c): keep the two in step. */
	.section .text.sigsetjmp,"ax",@progbits
	.p2align 4
	.globl sigsetjmp, __sigsetjmp
	.type sigsetjmp,@function
	.type __sigsetjmp,@function
sigsetjmp:
__sigsetjmp:
	test %esi,%esi
	jz setjmp
	popq 176(%rdi)
	mov %rbx,192(%rdi)
	mov %rdi,%rbx
	call setjmp
	pushq 176(%rbx)
	mov %rbx,%rdi
	mov %eax,%esi
	mov 192(%rbx),%rbx
	jmp __sigsetjmp_tail
	.size sigsetjmp,.-sigsetjmp

/* Signal return: the C library sets SA_RESTORER with these. */
	.section .text.__restore,"ax",@progbits
	.p2align 4
	.globl __restore, __restore_rt
	.type __restore,@function
	.type __restore_rt,@function
__restore:
__restore_rt:
	mov $15,%eax			/* rt_sigreturn */
	syscall
	hlt
	.size __restore_rt,.-__restore_rt

/* __popcorn_clone_x86(func, stack, flags, arg, ptid, tls(%fs), ctid): the child calls
 * func(arg) on the new stack and exits with its result. */
	.section .text.__popcorn_clone_x86,"ax",@progbits
	.p2align 4
	.globl __popcorn_clone_x86
	.type __popcorn_clone_x86,@function
__popcorn_clone_x86:
	and $-16,%rsi
	sub $16,%rsi
	mov %rcx,8(%rsi)		/* arg */
	mov %rdi,(%rsi)			/* func */
	mov %edx,%edi			/* flags */
	mov %r8,%rdx			/* parent tid */
	mov 8(%rsp),%r10		/* child tid */
	mov %r9,%r8			/* tls */
	mov $56,%eax			/* clone */
	syscall
	test %eax,%eax
	jnz 1f
	xor %ebp,%ebp
	pop %rax
	pop %rdi
	call *%rax
	mov %eax,%edi
	mov $60,%eax			/* exit */
	syscall
	hlt
1:	ret
	.size __popcorn_clone_x86,.-__popcorn_clone_x86

/* __unmapself(base, size): unmaps the exiting thread's own stack, then exits the thread,
 * without touching the stack in between. */
	.section .text.__unmapself,"ax",@progbits
	.p2align 4
	.globl __unmapself
	.type __unmapself,@function
__unmapself:
	mov $11,%eax			/* munmap */
	syscall
	xor %edi,%edi
	mov $60,%eax			/* exit */
	syscall
	hlt
	.size __unmapself,.-__unmapself

	.section .note.GNU-stack,"",@progbits
