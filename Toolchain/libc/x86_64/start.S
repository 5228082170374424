/*
 * crt1.o of the portable C library (x86_64): the process entry point, which hands argc and
 * argv to the C library's __libc_start_main (musl's, compiled from the same IR as the
 * program) together with main.
 */
	.text

/* _start: the kernel's initial stack holds argc, argv[], NULL, envp[], NULL, auxv. */
	.globl _start
	.type _start,@function
_start:
	xor %ebp,%ebp
	mov %rsp,%rax
	and $-16,%rsp
	mov (%rax),%rsi			/* argc */
	lea 8(%rax),%rdx		/* argv */
	lea main(%rip),%rdi
	xor %ecx,%ecx			/* no legacy _init/_fini, no loader */
	xor %r8d,%r8d
	xor %r9d,%r9d
	call __libc_start_main
	hlt
	.size _start,.-_start

	.section .note.GNU-stack,"",@progbits
