/* Runs the runtime's C unit tests for the ISA this binary was built for. */
#include "check.h"

#include "popcorn.h"

int check_count;
int check_failures;

int main(void)
{
    test_isa();
    test_settings();
#ifdef __x86_64__
    test_fcntl();
    test_stat();
    test_fenv();
    test_epoll();
    test_syscall();
    test_va();
    test_va_streams();
    test_modfl();
#endif
    printf("runtime-check (%s): %d checks, %d failed\n", popcorn_isa_name(popcorn_current_isa()),
           check_count, check_failures);
    return check_failures ? 1 : 0;
}
