/*
 * One check per system call the portable C library's x86_64 layer translates (docs/ABI.md,
 * "System calls of the portable C library"). Built by popcorn-cc and run on both ISAs; every
 * line must say "ok" and the output must be the same on both.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(const char *what, int ok)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

static _Thread_local int thread_value = 7;
static int other_thread_saw;

static void *thread_main(void *argument)
{
    other_thread_saw = thread_value; /* the new thread's own TLS block: the initial image */
    thread_value = 99;
    return argument;
}

int main(void)
{
    /* A fresh directory under $TMPDIR (or /tmp), as mkdtemp(3) wants its template. */
    const char *temporary = getenv("TMPDIR");
    char directory[256];
    snprintf(directory, sizeof directory, "%s/popcorn-syscalls-" "XXXXXX", temporary && *temporary ? temporary : "/tmp");
    if (!mkdtemp(directory)) return 1;
    char file[128], link[128];
    snprintf(file, sizeof file, "%s/file", directory);
    snprintf(link, sizeof link, "%s/link", directory);

    /* openat: O_CREAT|O_EXCL, then O_DIRECTORY refused on a file and O_NOFOLLOW on a link. */
    int fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
    check("openat O_CREAT|O_EXCL", fd >= 0 && write(fd, "0123456789", 10) == 10);
    close(fd);
    check("openat O_EXCL on an existing file", open(file, O_CREAT | O_EXCL | O_WRONLY, 0640) < 0 && errno == EEXIST);
    check("openat O_DIRECTORY on a file", open(file, O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR);
    int dir = open(directory, O_RDONLY | O_DIRECTORY);
    check("openat O_DIRECTORY on a directory", dir >= 0);
    check("symlink", symlink(file, link) == 0);
    check("openat O_NOFOLLOW on a link", open(link, O_RDONLY | O_NOFOLLOW) < 0 && errno == ELOOP);
    int followed = open(link, O_RDONLY);
    check("openat through a link", followed >= 0);

    /* fcntl F_GETFL/F_SETFL: the O_* bits come back in the program's values. */
    int flags = fcntl(followed, F_GETFL);
    check("fcntl F_GETFL access mode", flags >= 0 && (flags & O_ACCMODE) == O_RDONLY && !(flags & O_NONBLOCK));
    check("fcntl F_SETFL O_NONBLOCK", fcntl(followed, F_SETFL, flags | O_NONBLOCK) == 0 &&
                                          (fcntl(followed, F_GETFL) & O_NONBLOCK));
    int large = fcntl(followed, F_GETFL);
    /* musl opens with O_LARGEFILE, which x86_64 spells as aarch64's O_NOFOLLOW: untranslated,
     * the flags would claim O_NOFOLLOW (qemu-user does not report O_LARGEFILE at all). */
    check("fcntl F_GETFL without foreign bits", !(large & (O_NOFOLLOW | O_DIRECTORY | O_DIRECT)));
    check("fcntl F_GETFD FD_CLOEXEC", fcntl(followed, F_GETFD) == 0);

    /* fstat, fstatat, stat, lstat: struct stat in the program's layout. */
    struct stat st, lst, at;
    check("fstat size and mode", fstat(followed, &st) == 0 && st.st_size == 10 && S_ISREG(st.st_mode) &&
                                     (st.st_mode & 0777) == 0640 && st.st_nlink == 1 && st.st_blksize > 0);
    check("lstat of a link", lstat(link, &lst) == 0 && S_ISLNK(lst.st_mode));
    check("fstatat relative to a directory", fstatat(dir, "file", &at, 0) == 0 && at.st_ino == st.st_ino &&
                                                 at.st_dev == st.st_dev && at.st_mtim.tv_sec == st.st_mtim.tv_sec);
    check("stat follows the link", stat(link, &at) == 0 && at.st_ino == st.st_ino);
    close(followed);
    close(dir);

    /* pipe2: O_CLOEXEC and O_NONBLOCK. */
    int pipe_fds[2];
    check("pipe2 O_CLOEXEC|O_NONBLOCK", pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0 &&
                                            (fcntl(pipe_fds[0], F_GETFD) & FD_CLOEXEC) &&
                                            (fcntl(pipe_fds[0], F_GETFL) & O_NONBLOCK));
    char byte;
    check("read of an empty non-blocking pipe", read(pipe_fds[0], &byte, 1) < 0 && errno == EAGAIN);

    /* epoll_ctl, epoll_pwait: the 64-bit data word comes back whole, for several events. */
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int second[2];
    pipe2(second, 0);
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
    check("epoll_ctl ADD", epoll_ctl(epoll, EPOLL_CTL_ADD, pipe_fds[0], &event) == 0);
    event.data.u64 = 0x99aabbccddeeff00ull;
    check("epoll_ctl ADD second", epoll_ctl(epoll, EPOLL_CTL_ADD, second[0], &event) == 0);
    write(pipe_fds[1], "x", 1);
    write(second[1], "y", 1);
    struct epoll_event ready[4];
    memset(ready, 0, sizeof ready);
    int n = epoll_wait(epoll, ready, 4, 1000);
    unsigned long long seen = 0;
    for (int i = 0; i < n; i++) seen ^= ready[i].data.u64;
    check("epoll_wait two events with their data", n == 2 && seen == (0x1122334455667788ull ^ 0x99aabbccddeeff00ull) &&
                                                       ready[0].events == EPOLLIN && ready[1].events == EPOLLIN);

    /* syscall(): the program's (aarch64) numbers. */
    check("syscall(SYS_getpid)", syscall(SYS_getpid) == getpid());
    check("syscall(SYS_openat) with O_DIRECTORY", syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_DIRECTORY) < 0 &&
                                                     errno == ENOTDIR);

    /* clone (pthread_create): the new thread's TLS block and thread pointer. */
    pthread_t thread;
    void *result = NULL;
    check("clone: a thread runs and is joined", pthread_create(&thread, NULL, thread_main, (void *)0x5a) == 0 &&
                                                    pthread_join(thread, &result) == 0 && result == (void *)0x5a);
    check("clone: the thread had its own TLS", other_thread_saw == 7 && thread_value == 7);

    /* fork (clone without a new stack) and wait. */
    pid_t child = fork();
    if (child == 0) _exit(thread_value);
    int status = 0;
    check("fork and waitpid", child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                                  WEXITSTATUS(status) == 7);

    unlink(link);
    unlink(file);
    rmdir(directory);
    printf("failures: %d\n", failures);
    return failures != 0;
}
