/* syscall(): aarch64 numbers (copied from aarch64 musl's bits/syscall.h) run the same call. */
#define _GNU_SOURCE
#include "check.h"

#include "abi_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define A64_SYS_getpid 172
#define A64_SYS_gettid 178
#define A64_SYS_write 64
#define A64_SYS_close 57
#define A64_SYS_openat 56
#define A64_SYS_fcntl 25
#define A64_SYS_fstat 80
#define A64_SYS_pipe2 59

void test_syscall(void)
{
    CHECK_EQ(__popcorn_syscall_number_to_native(A64_SYS_getpid), SYS_getpid);
    CHECK_EQ(__popcorn_syscall_number_to_native(A64_SYS_write), SYS_write);
    CHECK_EQ(__popcorn_syscall_number_to_native(A64_SYS_openat), SYS_openat);
    CHECK_EQ(__popcorn_syscall_number_to_native(-1), -1);
    CHECK_EQ(__popcorn_syscall_number_to_native(100000), -1);

    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_getpid), getpid());
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_gettid), gettid());
    errno = 0;
    CHECK_EQ(__popcorn_abi_syscall(100000), -1);
    CHECK_EQ(errno, ENOSYS);
    errno = 0;
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_close, -1), -1);
    CHECK_EQ(errno, EBADF);

    /* Flags and structs in arguments. */
    int fd = (int)__popcorn_abi_syscall(A64_SYS_openat, AT_FDCWD, "/tmp",
                                        O_RDONLY | POPCORN_A64_O_DIRECTORY);
    CHECK(fd >= 0);
    long flags = __popcorn_abi_syscall(A64_SYS_fcntl, fd, F_GETFL);
    CHECK(flags & POPCORN_A64_O_DIRECTORY);
    CHECK(!(flags & POPCORN_A64_O_DIRECT));
    struct popcorn_a64_stat st;
    struct stat native;
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_fstat, fd, &st), 0);
    CHECK_EQ(fstat(fd, &native), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(st.st_ino, native.st_ino);
    CHECK_EQ(st.st_nlink, native.st_nlink);
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_close, fd), 0);

    int fds[2];
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_pipe2, fds, O_CLOEXEC | POPCORN_A64_O_DIRECT), 0);
    CHECK(fcntl(fds[1], F_GETFL) & O_DIRECT);
    CHECK_EQ(__popcorn_abi_syscall(A64_SYS_write, fds[1], "abc", 3), 3);
    close(fds[0]);
    close(fds[1]);
}
