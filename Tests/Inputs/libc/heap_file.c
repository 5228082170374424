/*
 * The heap file of the portable C library (docs/LIBC.md, "The heap file"): malloc's memory is
 * pages of a memfd until the process forks or starts a thread, and behaves as private memory
 * throughout.  Prints one line per check; every line must end in "ok".
 *
 *   heap_file          the checks below, then a fork and a thread
 *   heap_file move     the same with a move requested (POPCORN_MIGRATE_AT) along the way
 *   heap_file thread   a thread first (the heap becomes private memory there), then the fork
 */
#include <popcorn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (3u << 20) /* above malloc's threshold for a mapping of its own */

/* Mappings of the heap file: the host kernel's list (under qemu-user /proc/self/maps is the
 * emulator's rendering, which leaves out guest memory merged with its own). */
static int heap_file_mappings(void)
{
    FILE *maps = fopen("/proc/thread-self/maps", "r");
    if (!maps)
        return -1;
    char line[512];
    int count = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, "/memfd:popcorn-heap"))
            count++;
    fclose(maps);
    return count;
}

static void check(const char *what, int ok)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
}

static int all(const unsigned char *p, size_t n, unsigned char value)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

static void *thread_main(void *arg)
{
    unsigned char *block = arg;
    memset(block, 0x33, BIG);
    return malloc(BIG);
}

int main(int argc, char **argv)
{
    int move = argc > 1 && strcmp(argv[1], "move") == 0;
    int thread_first = argc > 1 && strcmp(argv[1], "thread") == 0;
    unsigned char *block = malloc(BIG);
    memset(block, 0xa5, BIG);
    /* Read back, or the compiler may drop the allocation with its free below. */
    check("malloc's memory is in the heap file", heap_file_mappings() > 0 && all(block, BIG, 0xa5));

    /* Freed memory comes back as zeros from calloc, also at the same address. */
    free(block);
    unsigned char *zeros = calloc(1, BIG);
    check("calloc after free reads zeros", zeros && all(zeros, BIG, 0));
    memset(zeros, 0x5a, BIG);

    /* realloc keeps the contents whether the mapping grows in place or moves by copy. */
    unsigned char *grown = realloc(zeros, 4 * BIG);
    check("realloc keeps the contents", grown && all(grown, BIG, 0x5a));
    memset(grown, 0x11, 4 * BIG);
    grown = realloc(grown, BIG / 2);
    check("shrinking keeps the contents", grown && all(grown, BIG / 2, 0x11));

    /* Many small allocations freed and made again (groups unmapped and mapped). */
    for (int round = 0; round < 3; round++) {
        void *small[2000];
        for (int i = 0; i < 2000; i++) {
            small[i] = calloc(1, 200 + (size_t)i % 700);
            if (!small[i] || !all(small[i], 200 + (size_t)i % 700, 0)) {
                check("small calloc reads zeros", 0);
                return 1;
            }
            memset(small[i], i & 0xff, 200 + (size_t)i % 700);
        }
        for (int i = 0; i < 2000; i++)
            free(small[i]);
    }
    check("small allocations freed and made again", 1);

    if (move)
        popcorn_migrate_point(); /* POPCORN_MIGRATE_AT names a point around here */
    check("the heap file survives up to the fork", heap_file_mappings() > 0);

    /* fork: the child gets a copy, not the parent's pages. */
    unsigned char *shared_before = malloc(BIG);
    memset(shared_before, 0x77, BIG);
    pthread_t thread;
    void *from_thread = NULL;
    if (thread_first) {
        unsigned char *for_thread = malloc(BIG);
        if (!for_thread || pthread_create(&thread, NULL, thread_main, for_thread) != 0 ||
            pthread_join(thread, &from_thread) != 0)
            return 1;
        check("the heap is private once a thread runs", heap_file_mappings() == 0);
        check("the heap's contents survive the thread's start",
              all(shared_before, BIG, 0x77) && all(grown, BIG / 2, 0x11) && all(for_thread, BIG, 0x33) && from_thread);
        free(from_thread);
        free(for_thread);
    }
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        memset(shared_before, 0x99, BIG);          /* must not reach the parent */
        char ok = heap_file_mappings() == 0 ? 'y' : 'n';
        if (write(pipe_fds[1], &ok, 1) != 1)
            _exit(2);
        _exit(0);
    }
    char child_view = 0;
    if (read(pipe_fds[0], &child_view, 1) != 1)
        return 1;
    int status = 0;
    waitpid(child, &status, 0);
    check("the child's writes stay in the child", all(shared_before, BIG, 0x77));
    check("the child's heap is private", child_view == 'y' && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    check("the parent's heap is private after fork", heap_file_mappings() == 0);
    check("calloc after the fork reads zeros", (block = calloc(1, BIG)) && all(block, BIG, 0));

    /* A thread sees and changes the same heap. */
    if (pthread_create(&thread, NULL, thread_main, shared_before) != 0 || pthread_join(thread, &from_thread) != 0)
        return 1;
    check("a thread writes the heap the main thread reads", all(shared_before, BIG, 0x33) && from_thread);
    free(from_thread);
    free(shared_before);
    free(block);
    free(grown);
    return 0;
}
