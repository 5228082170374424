/*
 * Prioritized constructors and destructors over two files (with lib.c): they must run as with
 * clang — constructors by ascending priority, destructors by descending priority, link order
 * within one priority — on every ISA; with an argument the program moves to the other ISA in
 * main, and the destructors then run there, once, and the constructors are not run again.
 */
#include <stdio.h>
#ifdef PLAIN_REFERENCE
/* Built with plain clang (no popcorn runtime) to compare the order: the program never moves. */
enum popcorn_isa { POPCORN_ISA_X86_64, POPCORN_ISA_AARCH64 };
static enum popcorn_isa popcorn_current_isa(void) { return POPCORN_ISA_X86_64; }
static const char *popcorn_isa_name(enum popcorn_isa isa) { return isa == POPCORN_ISA_X86_64 ? "x86_64" : "aarch64"; }
static int popcorn_migrate(enum popcorn_isa isa) { (void)isa; return -1; }
#else
#include <popcorn.h>
#endif

static int order;
__attribute__((constructor(300))) static void main_c300(void) { printf("ctor 300 main.c (%d)\n", ++order); }
__attribute__((constructor)) static void main_cdef(void) { printf("ctor default main.c (%d)\n", ++order); }
__attribute__((destructor(250))) static void main_d250(void) { printf("dtor 250 main.c\n"); }
__attribute__((destructor)) static void main_ddef(void) {
    printf("dtor default main.c on %s\n", popcorn_isa_name(popcorn_current_isa()));
}

int main(int argc, char **argv) {
    (void)argv;
    printf("main\n");
    fflush(stdout);
    if (argc > 1) {
        enum popcorn_isa other = popcorn_current_isa() == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64;
        if (popcorn_migrate(other) != 0) { printf("migration failed\n"); return 1; }
    }
    return 0;
}
