/*
 * jmpbuf.h — jmp_bufs across a stack transformation (docs/STACK-TRANSFORM.md, "jmp_bufs").
 * Private to the runtime: implemented by jmpbuf_registry.c, used by transform.c, jmpbuf.c and
 * migrate.c.
 *
 * popcorn-cc calls __popcorn_jmp_buf_note(buf) right after every setjmp-family call, so the
 * runtime knows where the program's jmp_bufs are.  A transformation rewrites every noted buffer
 * whose frame it moves into the destination ISA's layout for the destination stack; the writes
 * outside the destination stack (buffers in globals or the heap, pointers to moved buffers held
 * there) are only prepared, and done by popcorn_jmp_bufs_commit() once the caller is sure to
 * resume on the new stack.
 */
#ifndef POPCORN_RUNTIME_JMPBUF_H
#define POPCORN_RUNTIME_JMPBUF_H

#include <stdint.h>

/** Bytes of the program's jmp_buf: aarch64 musl's struct __jmp_buf_tag, on both ISAs (the program
 *  is compiled against aarch64's headers). */
#define POPCORN_JMP_BUF_SIZE 312

/** Noted buffers kept at once (innermost frames are dropped first when it is full). */
#define POPCORN_JMP_BUF_MAX 1024

/** One noted buffer: where it is and the stack pointer it holds (that of the frame that called
 *  setjmp; the registry is ordered by it, outermost frame first). */
struct popcorn_jmp_buf_entry {
    uint64_t address;
    uint64_t sp;
};

/** Called by the program right after every setjmp-family call (both returns). */
void __popcorn_jmp_buf_note(void *buf);

/** The registry, for the transformation (entries [0, count)). */
struct popcorn_jmp_buf_entry *popcorn_jmp_buf_entries(unsigned *count);

/** The transformation's results, prepared while it runs and applied by popcorn_jmp_bufs_commit:
 *  forget what an earlier (failed or unused) transformation prepared. */
void popcorn_jmp_bufs_reset(void);

/** A noted buffer survives the move as (`address`, `sp`), in registry order (outermost first);
 *  `image`, if not NULL, is its new contents, written at `address` on commit (a buffer outside the
 *  stack; one in a moved stack object is written by the transformation itself).  Entries not
 *  kept are dropped on commit.  Returns 0 when out of scratch space. */
int popcorn_jmp_bufs_keep(uint64_t address, uint64_t sp, const unsigned char *image);

/** A stack object holding a noted buffer moved from `src` to `dst`: on commit, pointers to it held
 *  in writable memory outside both stacks are re-pointed.  Returns 0 when out of scratch space. */
int popcorn_jmp_bufs_object_moved(uint64_t src, uint64_t dst, uint64_t size);

/** The ranges the pointer scan leaves alone: the stack being left, from the start of the mapping
 *  holding `src_sp` (the runtime's own frames) to `src_top` (the outermost frame moved), and
 *  [dst_lo, dst_hi) (the new stack). */
void popcorn_jmp_bufs_stacks(uint64_t src_sp, uint64_t src_top, uint64_t dst_lo, uint64_t dst_hi);

/** Another range the pointer scan leaves alone (the runtime's own scratch memory). */
void popcorn_jmp_bufs_skip(uint64_t lo, uint64_t hi);

/** Does the prepared outside writes and updates the registry.  Call right before resuming on the
 *  new stack (or before the process move's checkpoint). */
void popcorn_jmp_bufs_commit(void);

/** Undoes popcorn_jmp_bufs_commit (a process move that could not happen after all). */
void popcorn_jmp_bufs_rollback(void);

#endif /* POPCORN_RUNTIME_JMPBUF_H */
