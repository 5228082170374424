/*
 * struct stat: aarch64 uses the kernel's generic 128-byte layout (st_mode before a 32-bit
 * st_nlink, 32-bit st_blksize), x86_64 its own 144-byte one.  The shims stat into a native
 * struct and copy field by field.  ftw/nftw hand a struct stat to the user's callback, so they
 * go through a trampoline that converts it; the user's callback is kept in a thread-local so
 * concurrent walks in different threads (and a walk started from inside a callback) each see
 * their own.
 */
#define _GNU_SOURCE
#include "abi_shims.h"

#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

void __popcorn_stat_from_native(struct popcorn_a64_stat *out, const struct stat *in)
{
    struct popcorn_a64_stat s;
    memset(&s, 0, sizeof s);
    s.st_dev = in->st_dev;
    s.st_ino = in->st_ino;
    s.st_mode = in->st_mode;
    /* The kernel's generic stat (what aarch64 gets from the syscall) has a 32-bit nlink too. */
    s.st_nlink = in->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)in->st_nlink;
    s.st_uid = in->st_uid;
    s.st_gid = in->st_gid;
    s.st_rdev = in->st_rdev;
    s.st_size = in->st_size;
    s.st_blksize = (int32_t)in->st_blksize;
    s.st_blocks = in->st_blocks;
    s.st_atim.tv_sec = in->st_atim.tv_sec;
    s.st_atim.tv_nsec = in->st_atim.tv_nsec;
    s.st_mtim.tv_sec = in->st_mtim.tv_sec;
    s.st_mtim.tv_nsec = in->st_mtim.tv_nsec;
    s.st_ctim.tv_sec = in->st_ctim.tv_sec;
    s.st_ctim.tv_nsec = in->st_ctim.tv_nsec;
    *out = s;
}

/* Converts only on success: on failure POSIX leaves the buffer unspecified, but do not clobber. */
static int finish(int result, struct popcorn_a64_stat *buf, const struct stat *native)
{
    if (result == 0)
        __popcorn_stat_from_native(buf, native);
    return result;
}

int __popcorn_abi_stat(const char *path, struct popcorn_a64_stat *buf)
{
    struct stat st;
    return finish(stat(path, &st), buf, &st);
}

int __popcorn_abi_fstat(int fd, struct popcorn_a64_stat *buf)
{
    struct stat st;
    return finish(fstat(fd, &st), buf, &st);
}

int __popcorn_abi_lstat(const char *path, struct popcorn_a64_stat *buf)
{
    struct stat st;
    return finish(lstat(path, &st), buf, &st);
}

/* AT_* flags are identical on both ISAs. */
int __popcorn_abi_fstatat(int dirfd, const char *path, struct popcorn_a64_stat *buf, int flags)
{
    struct stat st;
    return finish(fstatat(dirfd, path, &st, flags), buf, &st);
}

int __popcorn_abi_stat64(const char *path, struct popcorn_a64_stat *buf)
{
    return __popcorn_abi_stat(path, buf);
}

int __popcorn_abi_fstat64(int fd, struct popcorn_a64_stat *buf)
{
    return __popcorn_abi_fstat(fd, buf);
}

int __popcorn_abi_lstat64(const char *path, struct popcorn_a64_stat *buf)
{
    return __popcorn_abi_lstat(path, buf);
}

int __popcorn_abi_fstatat64(int dirfd, const char *path, struct popcorn_a64_stat *buf, int flags)
{
    return __popcorn_abi_fstatat(dirfd, path, buf, flags);
}

/* ---- ftw / nftw ----------------------------------------------------------------------------- */

/* The callback of the walk running on this thread; ftw is run as an nftw walk (as musl does). */
struct walk {
    popcorn_a64_ftw_fn ftw_fn;
    popcorn_a64_nftw_fn nftw_fn;
};

static _Thread_local struct walk current_walk;

static int trampoline(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    struct popcorn_a64_stat converted;
    const struct popcorn_a64_stat *arg = NULL;
    /* For FTW_NS the stat buffer is undefined; hand the program a zeroed one, not garbage. */
    if (type == FTW_NS)
        memset(&converted, 0, sizeof converted);
    else if (st)
        __popcorn_stat_from_native(&converted, st);
    arg = &converted;
    /* Copy the callback out first: it may start a nested walk, which replaces current_walk. */
    struct walk walk = current_walk;
    if (walk.nftw_fn)
        return walk.nftw_fn(path, arg, type, ftw);
    return walk.ftw_fn(path, arg, type);
}

static int run_walk(const char *path, struct walk walk, int fd_limit, int flags)
{
    struct walk saved = current_walk;
    current_walk = walk;
    int result = nftw(path, trampoline, fd_limit, flags);
    current_walk = saved;
    return result;
}

int __popcorn_abi_nftw(const char *path, popcorn_a64_nftw_fn fn, int fd_limit, int flags)
{
    /* FTW_* flags and struct FTW are the same on both ISAs. */
    return run_walk(path, (struct walk){.ftw_fn = NULL, .nftw_fn = fn}, fd_limit, flags);
}

int __popcorn_abi_ftw(const char *path, popcorn_a64_ftw_fn fn, int fd_limit)
{
    /* ftw() is nftw() with FTW_PHYS and the extra argument dropped (POSIX, and musl's own). */
    return run_walk(path, (struct walk){.ftw_fn = fn, .nftw_fn = NULL}, fd_limit, FTW_PHYS);
}
