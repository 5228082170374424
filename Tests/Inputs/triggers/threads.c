/* A request made while a second thread runs waits until the process is single-threaded again:
 * only the calling thread's stack is transformed, and the exec of the move ends every other
 * thread. The worker's migration points must not move the process either. */
#include <popcorn.h>
#include <pthread.h>
#include <stdio.h>

static volatile long counter;

/* Bounded helpers get no automatic points: this one's explicit point is where both threads
 * reach the runtime. */
__attribute__((noinline)) static long step(long i)
{
    popcorn_migrate_point();
    return i * 3 + 1;
}

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < 300000; i++)
        counter += step(i) & 1;
    return NULL;
}

int main(void)
{
    enum popcorn_isa start = popcorn_current_isa();
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, NULL) != 0)
        return 1;
    long sum = 0;
    for (long i = 0; i < 2000; i++)
        sum += step(i);
    pthread_join(thread, NULL);
    for (long i = 0; i < 10; i++)
        sum += step(i);
    printf("%ld %ld\n", sum, counter);
    fprintf(stderr, "started on %s, finished on %s\n", popcorn_isa_name(start), popcorn_isa_name(popcorn_current_isa()));
    return 0;
}
