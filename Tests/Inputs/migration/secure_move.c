/*
 * Asks to move to the other ISA itself (popcorn_migrate) halfway through a computation, the way
 * a privileged program that migrates would.  stdout does not depend on where it ran; stderr says
 * where it finished and with which effective user, so a test can tell that the move happened
 * and kept the privileges, and that nothing else ran.
 */
#include <popcorn.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) static unsigned long mix(unsigned long value, int rounds)
{
    for (int i = 0; i < rounds; i++)
        value = value * 6364136223846793005ul + 1442695040888963407ul;
    return value;
}

int main(void)
{
    unsigned long value = 42;
    for (int step = 0; step < 8; step++) {
        if (step == 4)
            popcorn_migrate(popcorn_current_isa() == POPCORN_ISA_X86_64 ? POPCORN_ISA_AARCH64 : POPCORN_ISA_X86_64);
        value = mix(value, 1000 + step);
        printf("step %d: %016lx\n", step, value);
    }
    fprintf(stderr, "finished on %s as euid %u\n", popcorn_isa_name(popcorn_current_isa()), (unsigned)geteuid());
    return 0;
}
