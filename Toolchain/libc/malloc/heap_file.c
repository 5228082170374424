/*
 * The heap's memory file (docs/LIBC.md, "The heap file").
 *
 * Why: a process move execs the destination binary, and exec keeps descriptors but no private
 * memory, so every written page of a private heap had to be copied into the checkpoint (about
 * 30 ms for 64 MiB here, where one memcpy of it already takes 6 ms).  Pages of a file survive:
 * malloc's large mappings are pages of one memfd, and the destination maps the same pages again.
 *
 * Invariants:
 *  - a mapping at address A maps the file at offset A (the file is as large as the address
 *    space, sparse), so neighbouring mappings merge into one VMA as anonymous ones do, and the
 *    restore maps each region at the offset /proc/self/maps shows;
 *  - the file holds data only at offsets whose address is mapped from it now: every way malloc
 *    gives memory back punches the range out first (while it is still ours), so fresh mappings
 *    read as zeros, which calloc relies on;
 *  - the file exists only while the process has a single thread and has not forked since it was
 *    made; __popcorn_heap_private ends it (see heap_file.h).
 * Only raw system calls: malloc runs below everything, the checkpoint included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "libc.h"
#include "syscall.h"
#include "heap_file.h"

/* Offsets up to here (every user address on both ISAs' 48-bit address spaces). */
#define HEAP_FILE_SIZE (1ull << 48)
#define HEAP_FILE_NAME "popcorn-heap"
/* Mappings smaller than this stay private memory: malloc makes and frees its small groups all
 * the time (Lua's bench run maps and unmaps a 32 KiB group 525 times), and a file mapping costs
 * four system calls instead of one, a punch when it goes and dearer page faults.  Malloc's
 * single large allocations (128 KiB and more) and its groups of that size are in the file; a
 * heap of small objects, made of small groups, is not.  A file mapping never becomes smaller
 * than this (__popcorn_heap_mremap). */
#define HEAP_FILE_MIN (128u << 10)
/* The mappings to read.  Under qemu-user /proc/self/maps is the emulator's rendering of the
 * guest's memory, which leaves out mappings the host kernel merged with qemu's own;
 * /proc/thread-self/maps is the host kernel's list, where guest addresses are host addresses.
 * Natively the two are the same. */
#define MAPS "/proc/thread-self/maps"
/* lseek's data and hole queries (Linux's values; this musl's headers predate them). */
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

static int heap_fd = -1;         /* the file, or -1 */
static int heap_given_up;        /* the heap is private memory for the rest of the run */
static dev_t heap_dev;
static ino_t heap_ino;

static size_t page_up(size_t n)
{
    return (n + PAGE_SIZE - 1) & -PAGE_SIZE;
}

/* The descriptor of the file in use, checked to still be the heap file, or -1; never makes
 * one (only a new mapping does, heap_file_for_mapping).  A program may close descriptors it
 * does not know (daemons close them all) and get the number back for a file of its own, which
 * must never see a punched hole.  A lost file is given up: later mappings are private. */
static int heap_file(void)
{
    if (heap_given_up || heap_fd < 0)
        return -1;
    struct stat st;
    if (__syscall(SYS_fstat, heap_fd, &st) == 0 && st.st_dev == heap_dev && st.st_ino == heap_ino)
        return heap_fd;
    heap_fd = -1;
    heap_given_up = 1;
    return -1;
}

/* heap_file, made on first use. */
static int heap_file_for_mapping(void)
{
    if (heap_given_up || heap_fd >= 0)
        return heap_file();
    /* ftruncate past RLIMIT_FSIZE would raise SIGXFSZ; without /proc the file could not be
     * given up again (heap_walk), and fork would fail. */
    struct stat st;
    struct rlimit fsize;
    long maps = __syscall(SYS_openat, AT_FDCWD, MAPS, O_RDONLY | O_CLOEXEC);
    if (maps >= 0)
        __syscall(SYS_close, maps);
    if (maps < 0 || __syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, 0, &fsize) != 0 || fsize.rlim_cur != RLIM_INFINITY) {
        heap_given_up = 1;
        return -1;
    }
    long fd = __syscall(SYS_memfd_create, HEAP_FILE_NAME, MFD_CLOEXEC);
    if (fd < 0) {
        heap_given_up = 1;
        return -1;
    }
    if (__syscall(SYS_ftruncate, fd, (off_t)HEAP_FILE_SIZE) != 0 || __syscall(SYS_fstat, fd, &st) != 0) {
        __syscall(SYS_close, fd);
        heap_given_up = 1;
        return -1;
    }
    heap_dev = st.st_dev;
    heap_ino = st.st_ino;
    heap_fd = (int)fd;
    return heap_fd;
}

/* Frees the file's pages behind [start, start+len); they read as zeros if mapped again. */
static void punch(int fd, uintptr_t start, size_t len)
{
    if (len)
        __syscall(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start, (off_t)len);
}

int __popcorn_heap_descriptor(void)
{
    return heap_given_up ? -1 : heap_fd;
}

void *__popcorn_heap_mmap(void *start, size_t len, int prot, int flags, int fd, off_t offset)
{
    int file;
    if (start || fd != -1 || offset || flags != (MAP_PRIVATE | MAP_ANONYMOUS) || prot != (PROT_READ | PROT_WRITE) ||
        page_up(len) < HEAP_FILE_MIN || (file = heap_file_for_mapping()) < 0)
        return __mmap(start, len, prot, flags, fd, offset);
    len = page_up(len);
    /* An address first (the kernel's choice, as for anonymous memory), then the file's pages at
     * the offset equal to it. */
    char *p = __mmap(0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return p;
    if ((uintptr_t)p + len <= HEAP_FILE_SIZE) {
        /* Zeros even if something unmapped heap memory behind malloc's back. */
        punch(file, (uintptr_t)p, len);
        if (__mmap(p, len, prot, MAP_SHARED | MAP_FIXED, file, (off_t)(uintptr_t)p) != MAP_FAILED)
            return p;
    }
    return __mmap(p, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* Punching a range of private memory is harmless: no live mapping has those offsets, since
 * each mapping's offsets are its own addresses. */
int __popcorn_heap_munmap(void *start, size_t len)
{
    int file = page_up(len) >= HEAP_FILE_MIN ? heap_file() : -1;
    if (file >= 0)
        punch(file, (uintptr_t)start, page_up(len));
    return __munmap(start, len);
}

/* malloc's MADV_FREE of a freed slot's whole pages: the kernel takes it for private memory
 * only, so in the file the pages are punched out instead (a freed slot's contents do not
 * matter). */
int __popcorn_heap_madvise(void *start, size_t len, int advice)
{
    int status = __madvise(start, len, advice);
    int file = status != 0 && errno == EINVAL && advice == MADV_FREE ? heap_file() : -1;
    if (file >= 0) {
        punch(file, (uintptr_t)start, len & -PAGE_SIZE);
        return 0;
    }
    return status;
}

/* Moving a mapping would leave its pages at offsets that are no longer its addresses, so a heap
 * mapping only grows or shrinks in place; when it cannot grow, malloc copies (realloc's path
 * for that case).  Nor does it shrink below HEAP_FILE_MIN, so that every file mapping is
 * unmapped with a length that says it may be one. */
void *__popcorn_heap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    int file = heap_file();
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        void *new_address = va_arg(ap, void *);
        va_end(ap);
        return __mremap(old, old_len, new_len, flags, new_address);
    }
    if (file < 0)
        return __mremap(old, old_len, new_len, flags);
    old_len = page_up(old_len);
    new_len = page_up(new_len);
    if (new_len < HEAP_FILE_MIN && old_len >= HEAP_FILE_MIN)
        return MAP_FAILED;
    if (new_len < old_len)
        punch(file, (uintptr_t)old + new_len, old_len - new_len);
    return __mremap(old, old_len, new_len, flags & ~MREMAP_MAYMOVE);
}

/* ---- the mappings ------------------------------------------------------------------------- */

/* Calls visit(start, end, context) for each mapping of the heap file in MAPS; 0, or -1 when the
 * list cannot be read. */
static int heap_walk(void (*visit)(uintptr_t, uintptr_t, void *), void *context)
{
    long fd = __syscall(SYS_openat, AT_FDCWD, MAPS, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buffer[4096];
    size_t have = 0;
    int status = 0;
    for (;;) {
        long n = __syscall(SYS_read, fd, buffer + have, sizeof buffer - have);
        if (n == -EINTR)
            continue;
        if (n < 0) {
            status = -1;
            break;
        }
        have += (size_t)n;
        size_t used = 0;
        for (;;) {
            char *line = buffer + used, *newline = memchr(line, '\n', have - used);
            if (!newline)
                break;
            used = (size_t)(newline - buffer) + 1;
            /* start-end perms offset major:minor inode [name] */
            uintptr_t start = 0, end = 0;
            unsigned long long inode = 0;
            char *c = line;
            for (; c < newline && *c != '-'; c++)
                start = start * 16 + (uintptr_t)(*c <= '9' ? *c - '0' : (*c | 32) - 'a' + 10);
            for (c++; c < newline && *c != ' '; c++)
                end = end * 16 + (uintptr_t)(*c <= '9' ? *c - '0' : (*c | 32) - 'a' + 10);
            for (int field = 0; field < 3 && c < newline; field++) /* perms, offset, device */
                for (c++; c < newline && *c != ' '; c++)
                    ;
            for (c++; c < newline && *c >= '0' && *c <= '9'; c++)
                inode = inode * 10 + (unsigned long long)(*c - '0');
            static const char name[] = "/memfd:" HEAP_FILE_NAME;
            char *found = memchr(c, '/', (size_t)(newline - c));
            if (inode == heap_ino && found && (size_t)(newline - found) >= sizeof name - 1 &&
                memcmp(found, name, sizeof name - 1) == 0)
                visit(start, end, context);
        }
        if (n == 0 || (used == 0 && have == sizeof buffer))
            break; /* the end, or a line longer than the buffer (a path: not ours) */
        memmove(buffer, buffer + used, have - used);
        have -= used;
    }
    __syscall(SYS_close, fd);
    return status;
}

int __popcorn_heap_each_mapping(void (*visit)(uintptr_t start, uintptr_t end, void *context), void *context)
{
    return heap_given_up || heap_fd < 0 ? 0 : heap_walk(visit, context);
}

/* ---- giving the file up -------------------------------------------------------------------- */

struct ranges {
    struct {
        uintptr_t start, end;
    } range[32];
    int count;
};

static void collect(uintptr_t start, uintptr_t end, void *context)
{
    struct ranges *r = context;
    if (r->count < 32) {
        r->range[r->count].start = start;
        r->range[r->count].end = end;
        r->count++;
    }
}

/* Replaces [start, end) by a private copy of it; only the file's data is copied (holes stay
 * untouched anonymous pages). */
static int make_private(int fd, uintptr_t start, uintptr_t end)
{
    size_t len = end - start;
    char *copy = __mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED)
        return -1;
    for (off_t at = (off_t)start; at < (off_t)end;) {
        off_t data = __syscall(SYS_lseek, fd, at, SEEK_DATA);
        if (data < 0 || data >= (off_t)end)
            break;
        off_t hole = __syscall(SYS_lseek, fd, data, SEEK_HOLE);
        if (hole < 0 || hole > (off_t)end)
            hole = (off_t)end;
        memcpy(copy + (data - (off_t)start), (char *)(uintptr_t)data, (size_t)(hole - data));
        at = hole;
    }
    if (__mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)start) == MAP_FAILED) {
        __munmap(copy, len);
        return -1;
    }
    return 0;
}

int __popcorn_heap_private(void)
{
    if (heap_given_up)
        return 0;
    if (heap_fd < 0) {
        heap_given_up = 1; /* never made: nothing to copy */
        return 0;
    }
    /* No signal handler may write the heap between a copy and its replacement. */
    sigset_t all, old;
    memset(&all, -1, sizeof all);
    __syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, _NSIG / 8);
    int status = 0;
    for (;;) {
        struct ranges found = {.count = 0};
        status = heap_walk(collect, &found);
        if (status || found.count == 0)
            break;
        for (int i = 0; i < found.count && status == 0; i++)
            status = make_private(heap_fd, found.range[i].start, found.range[i].end);
        if (status)
            break;
    }
    if (status == 0) {
        __syscall(SYS_close, heap_fd);
        heap_fd = -1;
        heap_given_up = 1;
    }
    __syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, _NSIG / 8);
    return status;
}
