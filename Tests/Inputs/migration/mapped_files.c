/*
 * Mappings a moving process must keep (docs/PROCESS-MOVE.md, "What is carried"): musl's
 * localtime() data (/etc/localtime or the TZ file, mapped MAP_SHARED read-only by __map_file),
 * a data file mapped private read-only, private writable, shared read-only and shared writable,
 * and MAP_SHARED anonymous memory.  Moved at any migration point, every mapping must be at its
 * address with its contents and protections, writes through a MAP_SHARED file mapping must reach
 * the file (before and after the move), changes to the file must show through it, and private
 * writes must not.  Run in a directory of its own: it creates data.bin and private.bin there.
 * Nothing printed depends on whether or where it moved.
 */
#include <fcntl.h>
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The mover is linked only into programs that reference the migration API. */
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;

#define PAGE 4096
#define FILE_BYTES (3 * PAGE + 100) /* the last page ends inside the file */

static unsigned long long checksum(const unsigned char *p, size_t n)
{
    unsigned long long h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The protections of the mapping that contains `p`, as /proc/self/maps lists them (one of eight
 * buffers, so that several can be printed at once).  The list is taken with one read(): the
 * kernel (and qemu-user) fill the whole buffer at once, and a loop of reads could straddle a move,
 * mixing this process's list with the next one's. */
static const char *protections(const void *p)
{
    static char buffers[8][5];
    static int next;
    static char list[1 << 18];
    char *perms = buffers[next++ % 8];
    strcpy(perms, "none");
    int fd = open("/proc/self/maps", O_RDONLY);
    ssize_t length = fd < 0 ? -1 : read(fd, list, sizeof list - 1);
    if (fd >= 0)
        close(fd);
    list[length > 0 ? length : 0] = 0;
    for (char *line = list; *line; ) {
        unsigned long low, high;
        char text[8];
        if (sscanf(line, "%lx-%lx %4s", &low, &high, text) == 3 && low <= (unsigned long)p && (unsigned long)p < high) {
            memcpy(perms, text, 4);
            break;
        }
        char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    return perms;
}

/* Work with migration points in it: a recursion. */
__attribute__((noinline)) static long work(int n)
{
    if (n <= 0)
        return 1;
    return work(n - 1) * 3 % 1000003 + n;
}

static void make_file(const char *name, unsigned char seed)
{
    unsigned char bytes[FILE_BYTES];
    for (int i = 0; i < FILE_BYTES; i++)
        bytes[i] = (unsigned char)(seed + i * 7);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, bytes, sizeof bytes) != (ssize_t)sizeof bytes) {
        perror(name);
        exit(1);
    }
    close(fd);
}

static void *map(const char *name, int prot, int flags, int file_flags)
{
    int fd = open(name, file_flags);
    void *p = mmap(NULL, FILE_BYTES, prot, flags, fd, 0);
    if (fd < 0 || p == MAP_FAILED) {
        perror(name);
        exit(1);
    }
    close(fd); /* the mapping keeps the file; no descriptor is left to carry */
    return p;
}

static void show_time(const char *label, time_t t)
{
    struct tm tm;
    char text[64];
    localtime_r(&t, &tm);
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z", &tm);
    printf("%s: %s\n", label, text);
}

int main(void)
{
    show_time("localtime before", 1700000000);
    long total = work(40);
    make_file("data.bin", 11);
    make_file("private.bin", 29);
    unsigned char *private_ro = map("private.bin", PROT_READ, MAP_PRIVATE, O_RDONLY);
    unsigned char *private_rw = map("private.bin", PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDONLY);
    unsigned char *shared_ro = map("data.bin", PROT_READ, MAP_SHARED, O_RDONLY);
    unsigned char *shared_rw = map("data.bin", PROT_READ | PROT_WRITE, MAP_SHARED, O_RDWR);
    unsigned char *anonymous = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (anonymous == MAP_FAILED)
        return 1;
    memset(anonymous, 0x5a, 2 * PAGE);
    anonymous[4 * PAGE + 7] = 99;
    mprotect(anonymous + 3 * PAGE, PAGE, PROT_READ);
    private_rw[5] = 'P';
    shared_rw[PAGE + 1] = 'S';
    for (int round = 0; round < 6; round++) {
        total += work(30 + round);
        show_time("localtime", 1700000000 + round * 86400 * 45);
        /* A write through the shared mapping lands in the file; one to the file shows through both
         * shared mappings, not through the private ones (whose file is never written). */
        shared_rw[2 * PAGE + round] = (unsigned char)('a' + round);
        int fd = open("data.bin", O_RDWR);
        unsigned char byte = 0, put = (unsigned char)('A' + round);
        pread(fd, &byte, 1, 2 * PAGE + round);
        pwrite(fd, &put, 1, 3 * PAGE + round);
        close(fd);
        anonymous[PAGE * 2 + round] = (unsigned char)round;
        total += work(20);
        printf("round %d: file has %c, mapping sees %c %c; private %c%c; anonymous %d %d %d\n", round, byte,
               shared_ro[3 * PAGE + round], shared_rw[3 * PAGE + round], private_rw[5], private_ro[5],
               anonymous[0], anonymous[2 * PAGE + round], anonymous[4 * PAGE + 7]);
        printf("  sums %llx %llx %llx %llx %llx\n", checksum(private_ro, FILE_BYTES), checksum(private_rw, FILE_BYTES),
               checksum(shared_ro, FILE_BYTES), checksum(shared_rw, FILE_BYTES), checksum(anonymous, 5 * PAGE));
        printf("  protections %s %s %s %s %s %s\n", protections(private_ro), protections(private_rw),
               protections(shared_ro), protections(shared_rw), protections(anonymous),
               protections(anonymous + 3 * PAGE));
    }
    munmap(shared_rw, FILE_BYTES);
    int fd = open("data.bin", O_RDONLY);
    unsigned char bytes[FILE_BYTES];
    ssize_t got = pread(fd, bytes, sizeof bytes, 0);
    close(fd);
    printf("file: %zd bytes, sum %llx, S=%c\n", got, checksum(bytes, FILE_BYTES), bytes[PAGE + 1]);
    show_time("localtime after", 1800000000);
    printf("total %ld\n", total);
    return 0;
}
