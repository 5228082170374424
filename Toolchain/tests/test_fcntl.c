/* open/fcntl/pipe2/mkostemp: aarch64 O_* flags must mean the same thing on x86_64. */
#define _GNU_SOURCE
#include "check.h"

#include "abi_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_flag_words(void)
{
    CHECK_EQ(__popcorn_oflags_to_native(POPCORN_A64_O_DIRECTORY), O_DIRECTORY);
    CHECK_EQ(__popcorn_oflags_to_native(POPCORN_A64_O_NOFOLLOW), O_NOFOLLOW);
    CHECK_EQ(__popcorn_oflags_to_native(POPCORN_A64_O_DIRECT), O_DIRECT);
    CHECK_EQ(__popcorn_oflags_to_native(POPCORN_A64_O_LARGEFILE), O_LARGEFILE);
    CHECK_EQ(__popcorn_oflags_to_native(POPCORN_A64_O_TMPFILE), O_TMPFILE);
    CHECK_EQ(__popcorn_oflags_to_native(O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK),
             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK);
    CHECK_EQ(__popcorn_oflags_from_native(O_RDWR | O_NOFOLLOW | O_LARGEFILE),
             O_RDWR | POPCORN_A64_O_NOFOLLOW | POPCORN_A64_O_LARGEFILE);
    /* Every bit pattern survives a round trip in both directions. */
    unsigned x = 0x9e3779b9u;
    int round_trips = 1;
    for (int i = 0; i < 1000; i++) {
        x = x * 1664525u + 1013904223u;
        int v = (int)x;
        if (__popcorn_oflags_from_native(__popcorn_oflags_to_native(v)) != v ||
            __popcorn_oflags_to_native(__popcorn_oflags_from_native(v)) != v)
            round_trips = 0;
    }
    CHECK(round_trips);
}

void test_fcntl(void)
{
    test_flag_words();

    char dir[] = "/tmp/popcorn-fcntl-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[64], link[64], made[64];
    snprintf(file, sizeof file, "%s/file", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(made, sizeof made, "%s/made", dir);
    mode_t old_mask = umask(0);

    /* O_CREAT's mode arrives through the variadic argument. */
    int fd = __popcorn_abi_open(file, O_WRONLY | O_CREAT | O_EXCL, 0640);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "hello", 5), 5);
    close(fd);
    struct stat st;
    CHECK_EQ(stat(file, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0640);
    CHECK_EQ(symlink("file", link), 0);

    /* O_DIRECTORY: directories only. */
    errno = 0;
    CHECK_EQ(__popcorn_abi_open(file, O_RDONLY | POPCORN_A64_O_DIRECTORY), -1);
    CHECK_EQ(errno, ENOTDIR);
    fd = __popcorn_abi_open(dir, O_RDONLY | POPCORN_A64_O_DIRECTORY);
    CHECK(fd >= 0);
    /* openat relative to that directory, with O_NOFOLLOW refusing the symlink. */
    errno = 0;
    CHECK_EQ(__popcorn_abi_openat(fd, "link", O_RDONLY | POPCORN_A64_O_NOFOLLOW), -1);
    CHECK_EQ(errno, ELOOP);
    int through = __popcorn_abi_openat64(fd, "link", O_RDONLY);
    CHECK(through >= 0);
    close(through);
    int created = __popcorn_abi_openat(fd, "made", O_RDWR | O_CREAT, 0604);
    CHECK(created >= 0);
    CHECK_EQ(fstat(created, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0604);
    close(created);
    close(fd);
    errno = 0;
    CHECK_EQ(__popcorn_abi_open64(link, O_RDONLY | POPCORN_A64_O_NOFOLLOW), -1);
    CHECK_EQ(errno, ELOOP);

    /* F_GETFL: x86_64's kernel reports O_LARGEFILE (0100000, aarch64's O_NOFOLLOW value). */
    fd = __popcorn_abi_open(file, O_RDONLY);
    CHECK(fd >= 0);
    int flags = __popcorn_abi_fcntl(fd, F_GETFL);
    CHECK((flags & O_ACCMODE) == O_RDONLY);
    CHECK(flags & POPCORN_A64_O_LARGEFILE);
    CHECK(!(flags & POPCORN_A64_O_NOFOLLOW));
    CHECK(!(flags & POPCORN_A64_O_DIRECTORY));
    /* F_SETFL in, F_GETFL out. */
    CHECK_EQ(__popcorn_abi_fcntl(fd, F_SETFL, flags | O_NONBLOCK | O_APPEND), 0);
    int now = __popcorn_abi_fcntl64(fd, F_GETFL);
    CHECK(now & O_NONBLOCK);
    CHECK(now & O_APPEND);
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    /* Commands without flag words pass through. */
    CHECK_EQ(__popcorn_abi_fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
    CHECK_EQ(__popcorn_abi_fcntl(fd, F_GETFD), FD_CLOEXEC);
    int dup = __popcorn_abi_fcntl(fd, F_DUPFD_CLOEXEC, 100);
    CHECK(dup >= 100);
    close(dup);
    close(fd);

    /* pipe2: aarch64's O_DIRECT asks for a packet-mode pipe. */
    int fds[2];
    CHECK_EQ(__popcorn_abi_pipe2(fds, O_CLOEXEC | POPCORN_A64_O_DIRECT), 0);
    CHECK(fcntl(fds[1], F_GETFL) & O_DIRECT);
    CHECK_EQ(fcntl(fds[0], F_GETFD), FD_CLOEXEC);
    CHECK(__popcorn_abi_fcntl(fds[1], F_GETFL) & POPCORN_A64_O_DIRECT);
    close(fds[0]);
    close(fds[1]);

    /* mkostemp(s): flags translated, template filled in. */
    char temp[64], temps[64];
    snprintf(temp, sizeof temp, "%s/tXXXXXX", dir);
    snprintf(temps, sizeof temps, "%s/sXXXXXX.txt", dir);
    fd = __popcorn_abi_mkostemp(temp, O_APPEND | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFL) & O_APPEND);
    CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK(strstr(temp, "XXXXXX") == NULL);
    close(fd);
    fd = __popcorn_abi_mkostemps(temps, 4, O_APPEND);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFL) & O_APPEND);
    CHECK(strcmp(temps + strlen(temps) - 4, ".txt") == 0);
    close(fd);

    /* O_TMPFILE contains aarch64's O_DIRECTORY bit; it must not turn into O_DIRECT. */
    fd = __popcorn_abi_open(dir, O_RDWR | POPCORN_A64_O_TMPFILE, 0600);
    CHECK(fd >= 0 || errno == EOPNOTSUPP);
    if (fd >= 0) {
        CHECK_EQ(fstat(fd, &st), 0);
        CHECK(S_ISREG(st.st_mode));
        close(fd);
    }

    umask(old_mask);
    unlink(temp);
    unlink(temps);
    unlink(made);
    unlink(link);
    unlink(file);
    CHECK_EQ(rmdir(dir), 0);
}
