/*
 * crt1.o of the portable C library (aarch64): the process entry point, which hands argc and
 * argv to the C library's __libc_start_main (musl's, compiled from the same IR as the
 * program) together with main.
 */
	.text

/* _start: the kernel's initial stack holds argc, argv[], NULL, envp[], NULL, auxv. */
	.globl _start
	.type _start,%function
_start:
	mov x29,#0
	mov x30,#0
	mov x9,sp
	and sp,x9,#-16
	ldr x1,[x9]			/* argc */
	add x2,x9,#8			/* argv */
	adrp x0,main
	add x0,x0,#:lo12:main
	mov x3,#0			/* no legacy _init/_fini, no loader */
	mov x4,#0
	mov x5,#0
	bl __libc_start_main
	brk #0
	.size _start,.-_start

	.section .note.GNU-stack,"",%progbits
