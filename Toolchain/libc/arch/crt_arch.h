/* _start is per-ISA assembly (Toolchain/libc/<isa>/start.S); crt1.c only contributes _start_c. */
