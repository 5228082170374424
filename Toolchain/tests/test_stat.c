/* stat family and ftw/nftw: the program sees aarch64's struct stat with native values. */
#define _GNU_SOURCE
#include "check.h"

#include "abi_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Byte offsets in aarch64 musl's struct stat (bits/stat.h), independent of our declaration. */
#define A64_OFF_MODE 16
#define A64_OFF_NLINK 20
#define A64_OFF_SIZE 48
#define A64_OFF_BLKSIZE 56
#define A64_OFF_BLOCKS 64
#define A64_OFF_MTIM 88

static void check_same(const struct popcorn_a64_stat *a, const struct stat *n)
{
    CHECK_EQ(a->st_dev, n->st_dev);
    CHECK_EQ(a->st_ino, n->st_ino);
    CHECK_EQ(a->st_mode, n->st_mode);
    CHECK_EQ(a->st_nlink, n->st_nlink);
    CHECK_EQ(a->st_uid, n->st_uid);
    CHECK_EQ(a->st_gid, n->st_gid);
    CHECK_EQ(a->st_rdev, n->st_rdev);
    CHECK_EQ(a->st_size, n->st_size);
    CHECK_EQ(a->st_blksize, n->st_blksize);
    CHECK_EQ(a->st_blocks, n->st_blocks);
    CHECK_EQ(a->st_atim.tv_sec, n->st_atim.tv_sec);
    CHECK_EQ(a->st_atim.tv_nsec, n->st_atim.tv_nsec);
    CHECK_EQ(a->st_mtim.tv_sec, n->st_mtim.tv_sec);
    CHECK_EQ(a->st_mtim.tv_nsec, n->st_mtim.tv_nsec);
    CHECK_EQ(a->st_ctim.tv_sec, n->st_ctim.tv_sec);
    CHECK_EQ(a->st_ctim.tv_nsec, n->st_ctim.tv_nsec);
}

static int64_t field64(const void *buf, size_t offset)
{
    int64_t v;
    memcpy(&v, (const char *)buf + offset, sizeof v);
    return v;
}

static int32_t field32(const void *buf, size_t offset)
{
    int32_t v;
    memcpy(&v, (const char *)buf + offset, sizeof v);
    return v;
}

/* ---- nftw ---- */
static char walk_root[64];
static int walk_dirs, walk_files, walk_links, walk_total_size, walk_mismatches, nested_seen;

static int nested_callback(const char *path, const struct popcorn_a64_stat *st, int type)
{
    nested_seen++;
    return 0;
}

static int walk_callback(const char *path, const struct popcorn_a64_stat *st, int type,
                         struct FTW *ftw)
{
    struct stat native;
    if (lstat(path, &native) != 0 || native.st_ino != st->st_ino ||
        native.st_size != st->st_size || native.st_mode != st->st_mode)
        walk_mismatches++;
    if (type == FTW_DP && S_ISDIR(st->st_mode))
        walk_dirs++;
    else if (type == FTW_F && S_ISREG(st->st_mode))
        walk_files++, walk_total_size += (int)st->st_size;
    else if (type == FTW_SL && S_ISLNK(st->st_mode))
        walk_links++;
    else
        walk_mismatches++;
    /* A walk started from inside a callback must not disturb this one. */
    if (ftw->level == 1 && type == FTW_DP && strstr(path, "/sub")) {
        char inner[80];
        snprintf(inner, sizeof inner, "%s/sub", walk_root);
        __popcorn_abi_ftw(inner, nested_callback, 4);
    }
    return 0;
}

static void test_nftw(void)
{
    snprintf(walk_root, sizeof walk_root, "/tmp/popcorn-nftw-XXXXXX");
    CHECK(mkdtemp(walk_root) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/sub", walk_root);
    CHECK_EQ(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/sub/deeper", walk_root);
    CHECK_EQ(mkdir(path, 0755), 0);
    const char *files[] = {"a", "sub/b", "sub/deeper/c"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", walk_root, files[i]);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        CHECK(fd >= 0);
        CHECK_EQ(write(fd, "0123456789", (size_t)(i + 1) * 3), (i + 1) * 3);
        close(fd);
    }
    snprintf(path, sizeof path, "%s/sub/link", walk_root);
    CHECK_EQ(symlink("../a", path), 0);

    CHECK_EQ(__popcorn_abi_nftw(walk_root, walk_callback, 8, FTW_PHYS | FTW_DEPTH), 0);
    CHECK_EQ(walk_dirs, 3);
    CHECK_EQ(walk_files, 3);
    CHECK_EQ(walk_links, 1);
    CHECK_EQ(walk_total_size, 3 + 6 + 9);
    CHECK_EQ(walk_mismatches, 0);
    CHECK_EQ(nested_seen, 5); /* sub, b, link, deeper, c */

    /* ftw visits everything once, then remove the tree. */
    nested_seen = 0;
    CHECK_EQ(__popcorn_abi_ftw(walk_root, nested_callback, 4), 0);
    CHECK_EQ(nested_seen, 7); /* root, a, sub, b, link, deeper, c */
    const char *doomed[] = {"sub/link", "sub/deeper/c", "sub/b", "a", "sub/deeper", "sub"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", walk_root, doomed[i]);
        CHECK_EQ(remove(path), 0);
    }
    CHECK_EQ(rmdir(walk_root), 0);
}

void test_stat(void)
{
    char dir[] = "/tmp/popcorn-stat-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[64], link[64];
    snprintf(file, sizeof file, "%s/data", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    int fd = open(file, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0);
    char block[1234];
    memset(block, 'x', sizeof block);
    CHECK_EQ(write(fd, block, sizeof block), (long)sizeof block);
    CHECK_EQ(symlink("data", link), 0);

    struct popcorn_a64_stat a;
    struct stat n;
    CHECK_EQ(__popcorn_abi_stat(file, &a), 0);
    CHECK_EQ(stat(file, &n), 0);
    check_same(&a, &n);
    CHECK(S_ISREG(a.st_mode));
    CHECK_EQ(a.st_size, 1234);
    /* The same values at aarch64 musl's byte offsets. */
    CHECK_EQ(field64(&a, A64_OFF_SIZE), 1234);
    CHECK_EQ(field32(&a, A64_OFF_MODE), n.st_mode);
    CHECK_EQ(field32(&a, A64_OFF_NLINK), 1);
    CHECK_EQ(field32(&a, A64_OFF_BLKSIZE), n.st_blksize);
    CHECK_EQ(field64(&a, A64_OFF_BLOCKS), n.st_blocks);
    CHECK_EQ(field64(&a, A64_OFF_MTIM), n.st_mtim.tv_sec);

    CHECK_EQ(__popcorn_abi_fstat(fd, &a), 0);
    CHECK_EQ(fstat(fd, &n), 0);
    check_same(&a, &n);
    CHECK_EQ(__popcorn_abi_fstat64(fd, &a), 0);
    check_same(&a, &n);
    CHECK_EQ(__popcorn_abi_stat64(link, &a), 0);
    check_same(&a, &n);

    CHECK_EQ(__popcorn_abi_lstat(link, &a), 0);
    CHECK_EQ(lstat(link, &n), 0);
    check_same(&a, &n);
    CHECK(S_ISLNK(a.st_mode));
    CHECK_EQ(a.st_size, 4); /* strlen("data") */
    CHECK_EQ(__popcorn_abi_lstat64(link, &a), 0);
    CHECK(S_ISLNK(a.st_mode));

    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_EQ(__popcorn_abi_fstatat(dfd, "link", &a, AT_SYMLINK_NOFOLLOW), 0);
    CHECK(S_ISLNK(a.st_mode));
    CHECK_EQ(__popcorn_abi_fstatat64(dfd, "link", &a, 0), 0);
    CHECK(S_ISREG(a.st_mode));
    CHECK_EQ(a.st_size, 1234);
    CHECK_EQ(__popcorn_abi_fstatat(AT_FDCWD, dir, &a, 0), 0);
    CHECK(S_ISDIR(a.st_mode));
    CHECK(a.st_nlink >= 2);

    /* Failure: errno from libc, the program's buffer untouched. */
    memset(&a, 0xa5, sizeof a);
    errno = 0;
    CHECK_EQ(__popcorn_abi_stat("/nonexistent/popcorn", &a), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(a.st_size, (int64_t)0xa5a5a5a5a5a5a5a5ull);

    close(dfd);
    close(fd);
    unlink(link);
    unlink(file);
    CHECK_EQ(rmdir(dir), 0);

    test_nftw();
}
