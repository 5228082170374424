/*
 * Process-move benchmark (scripts/bench.py): a program with a 64 MiB heap moves once, at a
 * migration point given by POPCORN_MIGRATE_AT, and checks every byte of the heap afterwards.
 * With POPCORN_STATS=1 the runtime prints `migration: checkpoint X us, restore Y us, total Z us,
 * exec and start-up W us, saved A of B KiB` for the move.
 *
 *   heap_move <heap MiB> <MiB written>
 *   heap_move <heap MiB> <MiB written> <object bytes>
 *
 * Written memory holds a non-zero pattern (every page must be saved); the rest of the heap is
 * allocated but never touched (the checkpoint skips it).  The heap is one allocation, or with
 * a third argument that many objects of that size (a heap of small objects lives in malloc's
 * small groups, docs/LIBC.md, "The heap file").
 */
#include <popcorn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Links the mover: the program never asks to move itself, POPCORN_MIGRATE_AT does. */
int (*const link_the_mover)(enum popcorn_isa) = popcorn_migrate;

/* A loop that only computes gets no migration point of its own: the explicit one is where the
 * move happens (POPCORN_MIGRATE_AT=2; main's entry is point 1). */
__attribute__((noinline)) static unsigned long long checksum(const unsigned char *heap, size_t bytes)
{
    popcorn_migrate_point();
    unsigned long long sum = 0;
    for (size_t i = 0; i < bytes; i += 64)
        sum = sum * 31 + heap[i];
    return sum;
}

/* The same over a heap of objects, in allocation order. */
__attribute__((noinline)) static unsigned long long checksum_objects(unsigned char **objects, size_t count,
                                                                     size_t size)
{
    popcorn_migrate_point();
    unsigned long long sum = 0;
    for (size_t k = 0; k < count; k++)
        for (size_t i = 0; i < size; i += 64)
            sum = sum * 31 + objects[k][i];
    return sum;
}

/* Inlined: an entry point of its own would be point 2. */
__attribute__((always_inline)) static inline int objects_heap(size_t heap_bytes, size_t written, size_t size)
{
    size_t count = heap_bytes / size;
    unsigned char **objects = malloc(count * sizeof *objects);
    if (!objects)
        return 1;
    for (size_t k = 0; k < count; k++) {
        if (!(objects[k] = malloc(size)))
            return 1;
        if (k * size < written)
            for (size_t i = 0; i < size; i++)
                objects[k][i] = (unsigned char)((k * size + i) * 7 + 1);
    }
    unsigned long long before = checksum_objects(objects, count, size); /* the move happens in here */
    unsigned long long after = checksum_objects(objects, count, size);
    printf("heap %zu MiB in %zu-byte objects, %zu MiB written: %s\n", heap_bytes >> 20, size, written >> 20,
           before == after ? "intact" : "CHANGED");
    return before == after ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s <heap MiB> <MiB written> [<object bytes>]\n", argv[0]);
        return 2;
    }
    /* The sizes are read inline, not with atoi: the C library has migration points of its own,
     * and POPCORN_MIGRATE_AT=2 must stay checksum's point (main's entry is point 1). */
    size_t number[3] = {0, 0, 0};
    for (int k = 0; k < argc - 1; k++)
        for (const char *p = argv[k + 1]; *p >= '0' && *p <= '9'; p++)
            number[k] = number[k] * 10 + (size_t)(*p - '0');
    size_t heap_bytes = number[0] << 20, written = number[1] << 20;
    if (written > heap_bytes)
        written = heap_bytes;
    if (argc == 4)
        return number[2] ? objects_heap(heap_bytes, written, number[2]) : 2;
    unsigned char *heap = malloc(heap_bytes);
    if (!heap)
        return 1;
    for (size_t i = 0; i < written; i++)
        heap[i] = (unsigned char)(i * 7 + 1);
    unsigned long long before = checksum(heap, heap_bytes); /* the move happens at a point in here */
    unsigned long long after = checksum(heap, heap_bytes);
    printf("heap %zu MiB, %zu MiB written: %s\n", heap_bytes >> 20, written >> 20,
           before == after ? "intact" : "CHANGED");
    free(heap);
    return before == after ? 0 : 1;
}
