/*
 * Process move test: the state a program can observe must survive a move to the same ISA
 * (checkpoint, exec of the same binary, restore).  Heap data, globals, thread-locals, a partial
 * line in stdout's buffer, a close-on-exec file descriptor, a signal handler and a large mmap
 * must all be as they were.  Output is identical with or without the move; MOVE=0 skips it.
 */
#include <fcntl.h>
#include <popcorn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Runtime internals (process_move.h): a same-ISA move of the calling context, and the count of
 * completed moves, which is carried across the exec with the rest of memory. */
int __popcorn_move_here(enum popcorn_isa dst);
extern unsigned long long __popcorn_process_moves;

static int counter = 7;
static char zeroed[4096];
static _Thread_local int thread_value = 42;
static _Thread_local char thread_text[32] = "tls-initial";
static volatile sig_atomic_t signals_seen;

static void on_usr1(int signal) { (void)signal; signals_seen++; }

struct node { struct node *next; int value; };

int main(int argc, char **argv)
{
    int move = !(getenv("MOVE") && strcmp(getenv("MOVE"), "0") == 0);
    struct node *list = NULL;
    for (int i = 0; i < 1000; i++) {
        struct node *n = malloc(sizeof *n);
        n->value = i * 3;
        n->next = list;
        list = n;
    }
    size_t big = 8u << 20;
    unsigned char *block = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (size_t i = 0; i < big; i += 4096) block[i] = (unsigned char)(i >> 12);
    char *text = strdup("heap string survives");
    counter += 5;
    zeroed[100] = 'z';
    thread_value = 99;
    strcpy(thread_text, "tls-changed");
    signal(SIGUSR1, on_usr1);

    char path[] = "/tmp/popcorn-move-XXXXXX";
    int tmp = mkstemp(path);
    unlink(path);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    write(tmp, "file data", 9);

    printf("before the move: argc=%d counter=%d ", argc, counter); /* partial line, buffered */
    pid_t pid = getpid();
    if (move && __popcorn_move_here(popcorn_current_isa()) != 0)
        printf("[move failed] ");
    printf("after\n");
    printf("same pid: %s\n", getpid() == pid ? "yes" : "no");
    printf("argv[1]: %s\n", argc > 1 ? argv[1] : "(none)");

    long sum = 0;
    int count = 0;
    for (struct node *n = list; n; n = n->next) { sum += n->value; count++; }
    printf("list: %d nodes, sum %ld\n", count, sum);
    size_t bad = 0;
    for (size_t i = 0; i < big; i += 4096) bad += block[i] != (unsigned char)(i >> 12);
    printf("mmap block: %zu bad pages\n", bad);
    printf("text: %s, counter %d, zeroed[100] %c\n", text, counter, zeroed[100]);
    printf("tls: %d %s\n", thread_value, thread_text);
    int flags = fcntl(fd, F_GETFD);
    printf("cloexec fd: open %s, FD_CLOEXEC %s\n", flags >= 0 ? "yes" : "no", (flags & FD_CLOEXEC) ? "kept" : "lost");
    char buffer[16] = {0};
    pread(tmp, buffer, 9, 0);
    printf("temporary file: %s\n", buffer);
    raise(SIGUSR1);
    printf("handler ran: %d\n", (int)signals_seen);
    struct node *more = malloc(64 << 10);
    memset(more, 1, 64 << 10);
    char *grown = malloc(3 << 20);
    memset(grown, 2, 3 << 20);
    printf("allocations after the move: %s\n", more && grown ? "ok" : "failed");
    fflush(stdout);
    fprintf(stderr, "moves: %llu\n", __popcorn_process_moves);
    return 0;
}
