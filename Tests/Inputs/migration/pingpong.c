/*
 * Cross-ISA move test: run with POPCORN_MIGRATE_AT=N[,M…] the process moves to the other ISA at
 * those migration points (and back), in the middle of a recursion whose frames hold values
 * across calls.  Globals, heap data, thread-locals, a partial stdout line, a close-on-exec
 * descriptor and time functions (vDSO on x86_64) must behave as in the unmigrated run, whose
 * output is identical.  Nothing here prints the ISA: the output must not depend on where it ran.
 * Run under `setarch -R`, address randomisation must stay off after the moves (its personality
 * flag is the process's, like its pid).
 */
#include <fcntl.h>
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <time.h>
#include <unistd.h>

/* The mover is linked only into programs that reference the migration API (the slow path reaches
 * it weakly); this program never asks to move itself, POPCORN_MIGRATE_AT does. */
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;

struct item {
    struct item *next;
    long value;
    char label[16];
};

static long calls;
static long checksum = 17;
static _Thread_local long thread_total = 1000;
static _Thread_local char thread_word[24] = "tls";

/* Values live across the recursive call: n, a pointer into the caller's frame, a double. */
static long walk(int n, long *outer, double weight, struct item **list)
{
    long here = (long)n * 31 + 7;
    double scaled = weight * n;
    calls++;
    if (n == 0)
        return here;
    struct item *it = malloc(sizeof *it);
    it->value = here ^ (long)n;
    strcpy(it->label, "item-");
    it->label[5] = (char)('a' + n % 26);
    it->label[6] = '\0';
    it->next = *list;
    *list = it;
    long below = walk(n - 1, outer, weight * 1.0005, list);
    *outer += here;
    *outer += below & 1023;
    thread_total += n;
    return below + here + (long)(scaled * 0.25);
}

/* One round: a fresh list built by the recursion, summed and freed. */
static long run_round(int round, int *count)
{
    struct item *list = NULL;
    long outer = 0;
    long total = walk(120 + round * 10, &outer, 1.25, &list);
    long sum = 0;
    *count = 0;
    for (struct item *it = list; it;) {
        struct item *next = it->next;
        sum += it->value + (long)strlen(it->label);
        ++*count;
        free(it);
        it = next;
    }
    checksum = checksum * 31 + total % 1000;
    return total + outer + sum;
}

int main(void)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    static struct timespec start, end; /* static: no frame address held across the rounds */
    clock_gettime(CLOCK_MONOTONIC, &start);
    strcpy(thread_word, "tls-set");
    printf("round:"); /* partial line, still buffered when the moves happen */
    long grand = 0;
    for (int round = 0; round < 6; round++) {
        int count;
        grand += run_round(round, &count);
        printf(" %d", round);
        if (round == 2)
            printf("\nmiddle %ld %d:", grand, count);
    }
    printf("\n");
    clock_gettime(CLOCK_MONOTONIC, &end);
    int flags = fcntl(fd, F_GETFD);
    printf("grand %ld calls %ld checksum %ld\n", grand, calls, checksum);
    printf("tls %ld %s\n", thread_total, thread_word);
    printf("clock monotonic: %s\n",
           end.tv_sec > start.tv_sec || (end.tv_sec == start.tv_sec && end.tv_nsec >= start.tv_nsec) ? "yes" : "no");
    printf("cloexec fd: open %s, FD_CLOEXEC %s\n", flags >= 0 ? "yes" : "no",
           flags >= 0 && (flags & FD_CLOEXEC) ? "kept" : "lost");
    char *late = malloc(100000);
    memset(late, 'x', 100000);
    printf("late allocation: %s\n", late[99999] == 'x' ? "ok" : "bad");
    free(late);
    printf("address randomisation: %s\n", personality(0xffffffff) & ADDR_NO_RANDOMIZE ? "off" : "on");
    return 0;
}
