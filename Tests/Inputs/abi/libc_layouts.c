/*
 * ABI test: libc constants and struct layouts that differ between the ISAs' musl headers.
 * Covers: struct stat via stat/fstat/lstat/fstatat (st_size, st_mode type and permission bits,
 * st_nlink, st_blocks consistency) of files the program creates; open with O_DIRECTORY and
 * O_NOFOLLOW on a directory, a file and a symlink; O_CREAT's variadic mode; fcntl
 * F_GETFL/F_SETFL flag tests; pipe2 flags; fenv rounding modes (effect on division) and
 * exception flags, fegetenv/fesetenv and feholdexcept/feupdateenv; epoll on a pipe (event
 * mask and 64-bit user data); syscall(SYS_getpid) == getpid(); nftw over a directory tree the
 * program builds in a mkdtemp directory and then removes.  Only flag *tests* are printed, never
 * raw flag words, inode numbers or times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char root[64];

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root, name);
}

static void write_file(const char *name, size_t size)
{
    char path[128];
    path_of(path, sizeof path, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    char chunk[100];
    memset(chunk, 'q', sizeof chunk);
    for (size_t done = 0; done < size; done += sizeof chunk)
        write(fd, chunk, size - done < sizeof chunk ? size - done : sizeof chunk);
    close(fd);
}

static void show_stat(const char *label, int result, const struct stat *st)
{
    if (result != 0) {
        printf("%s: failed errno=%d\n", label, errno);
        return;
    }
    /* A directory's size and link count depend on the file system; only files' are printed. */
    int is_dir = S_ISDIR(st->st_mode);
    printf("%s: size=%lld reg=%d dir=%d lnk=%d perm=%o nlink=%lu blocks_ok=%d\n", label,
           is_dir ? 0LL : (long long)st->st_size, S_ISREG(st->st_mode), is_dir,
           S_ISLNK(st->st_mode), (unsigned)(st->st_mode & 07777),
           is_dir ? 0UL : (unsigned long)st->st_nlink,
           st->st_blocks * 512 >= st->st_size || S_ISLNK(st->st_mode) || is_dir);
}

static void test_stat(void)
{
    char file[128], link[128], sub[128];
    path_of(file, sizeof file, "data.bin");
    path_of(link, sizeof link, "data.link");
    path_of(sub, sizeof sub, "subdir");
    write_file("data.bin", 12345);
    symlink("data.bin", link);
    mkdir(sub, 0750);

    struct stat st;
    show_stat("stat file", stat(file, &st), &st);
    show_stat("stat link", stat(link, &st), &st);
    show_stat("lstat link", lstat(link, &st), &st);
    show_stat("stat dir", stat(sub, &st), &st);
    int fd = open(file, O_RDONLY);
    show_stat("fstat", fstat(fd, &st), &st);
    close(fd);
    int dfd = open(root, O_RDONLY | O_DIRECTORY);
    show_stat("fstatat nofollow", fstatat(dfd, "data.link", &st, AT_SYMLINK_NOFOLLOW), &st);
    show_stat("fstatat root", fstatat(dfd, ".", &st, 0), &st);
    close(dfd);
    errno = 0;
    printf("stat missing: %d errno=ENOENT:%d\n", stat("/nonexistent/x", &st), errno == ENOENT);
}

static void test_open_fcntl(void)
{
    char file[128], link[128], sub[128], made[128];
    path_of(file, sizeof file, "data.bin");
    path_of(link, sizeof link, "data.link");
    path_of(sub, sizeof sub, "subdir");
    path_of(made, sizeof made, "made.txt");

    int fd = open(sub, O_RDONLY | O_DIRECTORY);
    printf("O_DIRECTORY on dir: ok=%d\n", fd >= 0);
    close(fd);
    errno = 0;
    fd = open(file, O_RDONLY | O_DIRECTORY);
    printf("O_DIRECTORY on file: fd=%d ENOTDIR=%d\n", fd, errno == ENOTDIR);
    errno = 0;
    fd = open(link, O_RDONLY | O_NOFOLLOW);
    printf("O_NOFOLLOW on symlink: fd=%d ELOOP=%d\n", fd, errno == ELOOP);
    fd = open(file, O_RDONLY | O_NOFOLLOW);
    printf("O_NOFOLLOW on file: ok=%d\n", fd >= 0);
    close(fd);

    fd = open(made, O_RDWR | O_CREAT | O_EXCL, 0604);
    struct stat st;
    fstat(fd, &st);
    printf("O_CREAT mode: %o\n", (unsigned)(st.st_mode & 0777));
    int flags = fcntl(fd, F_GETFL);
    printf("F_GETFL: rdwr=%d append=%d nonblock=%d directory=%d nofollow=%d direct=%d\n",
           (flags & O_ACCMODE) == O_RDWR, !!(flags & O_APPEND), !!(flags & O_NONBLOCK),
           !!(flags & O_DIRECTORY), !!(flags & O_NOFOLLOW), !!(flags & O_DIRECT));
    printf("F_SETFL: %d\n", fcntl(fd, F_SETFL, flags | O_APPEND | O_NONBLOCK));
    flags = fcntl(fd, F_GETFL);
    printf("F_GETFL again: rdwr=%d append=%d nonblock=%d directory=%d nofollow=%d\n",
           (flags & O_ACCMODE) == O_RDWR, !!(flags & O_APPEND), !!(flags & O_NONBLOCK),
           !!(flags & O_DIRECTORY), !!(flags & O_NOFOLLOW));
    printf("F_SETFD/F_GETFD: %d %d\n", fcntl(fd, F_SETFD, FD_CLOEXEC), fcntl(fd, F_GETFD));
    close(fd);

    int fds[2];
    printf("pipe2: %d", pipe2(fds, O_CLOEXEC | O_NONBLOCK));
    flags = fcntl(fds[0], F_GETFL);
    printf(" nonblock=%d cloexec=%d\n", !!(flags & O_NONBLOCK), fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
    errno = 0;
    char byte;
    printf("empty nonblocking read: %zd EAGAIN=%d\n", read(fds[0], &byte, 1), errno == EAGAIN);
    close(fds[0]);
    close(fds[1]);
}

static volatile double one = 1.0, three = 3.0, zero = 0.0, tiny = 1e-300;

static void test_fenv(void)
{
    static const struct { int mode; const char *name; } modes[] = {
        {FE_TONEAREST, "nearest"}, {FE_DOWNWARD, "down"}, {FE_UPWARD, "up"},
        {FE_TOWARDZERO, "zero"},
    };
    for (int i = 0; i < 4; i++) {
        int set = fesetround(modes[i].mode);
        volatile double q = one / three, neg = -one / three;
        printf("round %s: set=%d get_ok=%d 1/3=%.17g -1/3=%.17g\n", modes[i].name, set,
               fegetround() == modes[i].mode, q, neg);
    }
    fesetround(FE_TONEAREST);

    feclearexcept(FE_ALL_EXCEPT);
    printf("clear: %d\n", fetestexcept(FE_ALL_EXCEPT) == 0);
    volatile double r = one / zero;
    printf("1/0: divbyzero=%d overflow=%d invalid=%d\n", !!fetestexcept(FE_DIVBYZERO),
           !!fetestexcept(FE_OVERFLOW), !!fetestexcept(FE_INVALID));
    r = tiny * tiny;
    printf("tiny*tiny: underflow=%d inexact=%d\n", !!fetestexcept(FE_UNDERFLOW),
           !!fetestexcept(FE_INEXACT));
    r = zero / zero;
    printf("0/0: invalid=%d\n", !!fetestexcept(FE_INVALID));
    (void)r;
    fexcept_t saved;
    fegetexceptflag(&saved, FE_DIVBYZERO | FE_INVALID);
    feclearexcept(FE_ALL_EXCEPT);
    fesetexceptflag(&saved, FE_DIVBYZERO);
    printf("exceptflag restore: divbyzero=%d invalid=%d\n", !!fetestexcept(FE_DIVBYZERO),
           !!fetestexcept(FE_INVALID));
    feclearexcept(FE_ALL_EXCEPT);
    feraiseexcept(FE_OVERFLOW);
    printf("raise overflow: %d others=%d\n", !!fetestexcept(FE_OVERFLOW),
           !!fetestexcept(FE_ALL_EXCEPT & ~FE_OVERFLOW & ~FE_INEXACT));

    fenv_t env;
    fesetround(FE_UPWARD);
    fegetenv(&env);
    fesetround(FE_DOWNWARD);
    feclearexcept(FE_ALL_EXCEPT);
    fesetenv(&env);
    printf("fesetenv: upward=%d overflow=%d\n", fegetround() == FE_UPWARD,
           !!fetestexcept(FE_OVERFLOW));
    fenv_t held;
    feholdexcept(&held);
    printf("feholdexcept: cleared=%d\n", fetestexcept(FE_ALL_EXCEPT) == 0);
    r = one / zero;
    feupdateenv(&held);
    printf("feupdateenv: upward=%d overflow=%d divbyzero=%d\n", fegetround() == FE_UPWARD,
           !!fetestexcept(FE_OVERFLOW), !!fetestexcept(FE_DIVBYZERO));
    fesetenv(FE_DFL_ENV);
    printf("FE_DFL_ENV: nearest=%d clear=%d\n", fegetround() == FE_TONEAREST,
           fetestexcept(FE_ALL_EXCEPT) == 0);
}

static void test_epoll(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fds[2];
    pipe(fds);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = 0x0123456789abcdefULL;
    printf("epoll_ctl add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev));
    struct epoll_event out[4];
    printf("epoll_wait idle: %d\n", epoll_wait(ep, out, 4, 0));
    write(fds[1], "ping", 4);
    int n = epoll_wait(ep, out, 4, 1000);
    printf("epoll_wait ready: n=%d in=%d data=%llx\n", n, n > 0 && (out[0].events & EPOLLIN),
           n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = 7;
    printf("epoll_ctl mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev));
    n = epoll_pwait(ep, out, 4, 1000, NULL);
    printf("epoll_pwait: n=%d fd=%d\n", n, n > 0 ? out[0].data.fd : -1);
    printf("epoll_ctl del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL));
    close(fds[0]);
    close(fds[1]);
    close(ep);
}

/* nftw: collect (relative path, kind, size) lines, print them sorted. */
static char entries[32][96];
static int entry_count;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *rel = path + strlen(root);
    const char *kind = type == FTW_D ? "dir" : type == FTW_DP ? "dir-post" : type == FTW_F ? "file"
                     : type == FTW_SL ? "symlink" : "other";
    if (entry_count < 32)
        snprintf(entries[entry_count++], sizeof entries[0], "%s %s level=%d size=%lld isdir=%d",
                 *rel ? rel : "/", kind, ftw->level,
                 S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, S_ISDIR(st->st_mode));
    return 0;
}

static int unlink_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_nftw(void)
{
    char path[128];
    path_of(path, sizeof path, "tree");
    mkdir(path, 0755);
    path_of(path, sizeof path, "tree/a");
    mkdir(path, 0755);
    path_of(path, sizeof path, "tree/a/b");
    mkdir(path, 0755);
    write_file("tree/top.txt", 10);
    write_file("tree/a/mid.txt", 200);
    write_file("tree/a/b/leaf.txt", 3000);
    path_of(path, sizeof path, "tree/a/b/up");
    symlink("../mid.txt", path);

    path_of(path, sizeof path, "tree");
    entry_count = 0;
    printf("nftw: %d\n", nftw(path, visit, 4, FTW_PHYS | FTW_DEPTH));
    qsort(entries, (size_t)entry_count, sizeof entries[0], compare_entries);
    for (int i = 0; i < entry_count; i++)
        printf("  %s\n", entries[i]);
}

int main(void)
{
    umask(022);
    snprintf(root, sizeof root, "/tmp/popcorn-abi-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_stat();
    test_open_fcntl();
    test_fenv();
    test_epoll();
    printf("syscall(SYS_getpid) == getpid(): %d\n", syscall(SYS_getpid) == getpid());
    printf("syscall(SYS_gettid) == gettid(): %d\n", syscall(SYS_gettid) == gettid());
    test_nftw();
    /* Remove everything, depth first, and check the directory is gone. */
    int removed = nftw(root, unlink_visit, 4, FTW_PHYS | FTW_DEPTH);
    struct stat st;
    printf("cleanup: %d gone=%d\n", removed, stat(root, &st) != 0 && errno == ENOENT);
    return 0;
}
