/*
 * ABI test: thread-local storage.
 * Covers: initialised, zero-initialised and static TLS variables of several sizes and
 * alignments (char, int, long, double, long double, a 16-byte aligned struct, arrays), TLS
 * holding pointers to global data and string literals (relocated initialisers), TLS accessed
 * through pointers and from helper functions, and independent copies per thread (each thread
 * modifies its own, the main thread's values are unchanged after join).  Prints values and
 * whether addresses differ between threads, never the addresses themselves.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct aligned_pair {
    _Alignas(16) long a;
    long b;
};

static const char *const greetings[] = {"main", "worker"};
static int shared_global = 1000;

_Thread_local int counter = 5;
_Thread_local char initial = 'M';
_Thread_local long zeroed[8];
_Thread_local double ratio = 1.5;
_Thread_local long double precise = 0.25L;
_Thread_local struct aligned_pair pair = {11, 22};
_Thread_local char name[16] = "main";
_Thread_local const char *greeting = "hello";
_Thread_local int *shared_pointer = &shared_global;
static _Thread_local unsigned short hidden = 7;

static void bump(int by)
{
    counter += by;
    hidden = (unsigned short)(hidden * 3);
    for (int i = 0; i < 8; i++)
        zeroed[i] += i * by;
}

static long checksum(void)
{
    long sum = counter + initial + hidden + pair.a + pair.b + (long)(ratio * 4) + (long)(precise * 8);
    for (int i = 0; i < 8; i++)
        sum += zeroed[i];
    return sum + (long)strlen(name) + (long)strlen(greeting) + *shared_pointer;
}

struct report {
    long before, after;
    int aligned;
    uintptr_t counter_address;
    char name[16];
};

static void *worker(void *arg)
{
    struct report *r = arg;
    r->before = checksum(); /* a fresh thread sees the initial values */
    bump(10);
    ratio *= 2;
    precise += 1;
    initial = 'W';
    strcpy(name, "worker");
    greeting = greetings[1];
    pair.a = -pair.a;
    r->after = checksum();
    r->aligned = ((uintptr_t)&pair % 16) == 0;
    r->counter_address = (uintptr_t)&counter;
    snprintf(r->name, sizeof r->name, "%s/%c", name, initial);
    return NULL;
}

int main(void)
{
    printf("initial: counter=%d initial=%c ratio=%g precise=%.15Lg pair=%ld,%ld name=%s greeting=%s shared=%d hidden=%u\n",
           counter, initial, ratio, precise, pair.a, pair.b, name, greeting, *shared_pointer,
           hidden);
    long main_before = checksum();
    bump(1);
    greeting = greetings[0];
    long main_after = checksum();
    printf("main: before=%ld after=%ld aligned=%d\n", main_before, main_after,
           ((uintptr_t)&pair % 16) == 0);

    struct report reports[3];
    pthread_t threads[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&threads[i], NULL, worker, &reports[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 3; i++)
        printf("thread %d: before=%ld after=%ld aligned=%d name=%s own_counter=%d\n", i,
               reports[i].before, reports[i].after, reports[i].aligned, reports[i].name,
               reports[i].counter_address != (uintptr_t)&counter);
    printf("main after join: checksum=%ld counter=%d name=%s zeroed[7]=%ld\n", checksum(),
           counter, name, zeroed[7]);
    return 0;
}
