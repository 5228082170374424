/* The heap's memory file (docs/LIBC.md, "The heap file"; docs/PROCESS-MOVE.md, "What is
 * carried").
 *
 * Included at the end of mallocng's glue.h (scripts/build-libc.sh): malloc's own mappings of
 * 128 KiB and more — its single large allocations and its large groups, read-write private
 * anonymous memory — are pages of one memfd, mapped MAP_SHARED at the file offset equal to their
 * address.  A process move then hands the descriptor to the destination, which maps the same
 * pages again: nothing is copied, however much of them is written.  Everything else (malloc's
 * smaller groups, brk, the program's own mmap, stacks) stays private anonymous memory. */
#ifndef POPCORN_HEAP_FILE_H
#define POPCORN_HEAP_FILE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

hidden void *__popcorn_heap_mmap(void *start, size_t len, int prot, int flags, int fd, off_t offset);
hidden int __popcorn_heap_munmap(void *start, size_t len);
hidden int __popcorn_heap_madvise(void *start, size_t len, int advice);
hidden void *__popcorn_heap_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);

/* Before fork and before the first thread: the heap's mappings become private copies and the
 * file is given up for the rest of the run (a forked child must not share the heap; a copy
 * taken while other threads write it could lose their writes).  0, or -1 when memory for the
 * copies ran out (the caller fails with ENOMEM or EAGAIN and nothing has changed for it). */
int __popcorn_heap_private(void);

/* The heap file's descriptor for the checkpoint, or -1 when the heap is private memory. */
int __popcorn_heap_descriptor(void);

/* Calls visit(start, end, context) for every mapping of the heap file (the host kernel's list
 * under qemu-user): the runtime's scan for pointers to moved jmp_buf holders reads them with
 * the private memory.  0, or -1 when the list cannot be read. */
int __popcorn_heap_each_mapping(void (*visit)(uintptr_t start, uintptr_t end, void *context), void *context);

#ifdef MALLOC_GLUE_H
#undef mmap
#define mmap __popcorn_heap_mmap
#undef munmap
#define munmap __popcorn_heap_munmap
#undef madvise
#define madvise __popcorn_heap_madvise
#undef mremap
#define mremap __popcorn_heap_mremap
#endif

#endif
