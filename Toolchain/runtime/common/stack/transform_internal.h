/*
 * transform_internal.h — what transform.c and jmpbuf.c share (docs/STACK-TRANSFORM.md).
 * Private to those two files: jmpbuf.c's passes work on the transformation's frames, values and
 * moved-object map, and transform.c runs them between its own.
 *
 * The program links the runtime statically and may define any name that is not reserved, so
 * every symbol here is prefixed popcorn_, and hidden (nothing outside the runtime uses them).
 */
#ifndef POPCORN_RUNTIME_TRANSFORM_INTERNAL_H
#define POPCORN_RUNTIME_TRANSFORM_INTERNAL_H

#include "../transform.h"

#include "metadata.h"

#include <stddef.h>
#include <stdint.h>

#define POPCORN_HIDDEN __attribute__((visibility("hidden")))

/* One frame being moved.  `values` indexes the scratch value array (one entry per live value). */
struct frame {
    const struct popcorn_meta_call_site *src;
    const struct popcorn_meta_call_site *dst;
    uint64_t src_cfa;
    uint64_t src_sp;
    uint64_t src_fp;
    uint64_t dst_cfa;
    uint64_t values;
};

/* Where a source stack object went. */
struct moved_object {
    uint64_t src;
    uint64_t dst;
    uint64_t size;
};

/* Scratch memory, mapped once (NORESERVE: only touched pages cost memory).  Mapped rather than
 * malloc'd so that migrating does not change the program's heap. */
#define SCRATCH_FRAMES (1u << 20)
#define SCRATCH_VALUES (1u << 22)
#define SCRATCH_OBJECTS (1u << 21)
#define SCRATCH_BYTES                                                                                      \
    (SCRATCH_FRAMES * sizeof(struct frame) + SCRATCH_VALUES * sizeof(uint64_t) +                           \
     SCRATCH_OBJECTS * sizeof(struct moved_object))

/* ---- transform.c ---- */

/* The scratch arrays: frames innermost first, live values, moved objects (sorted by source
 * address once pass 2 is done). */
POPCORN_HIDDEN extern struct frame *popcorn_transform_frames;
POPCORN_HIDDEN extern uint64_t *popcorn_transform_values;
POPCORN_HIDDEN extern struct moved_object *popcorn_transform_objects;

/* The DWARF numbers the ABIs preserve across calls (stack and frame pointer handled apart). */
POPCORN_HIDDEN int popcorn_transform_callee_saved(enum popcorn_isa isa, unsigned reg);

/* `size` bytes (at most 8) at `address`, zero-extended. */
POPCORN_HIDDEN uint64_t popcorn_transform_read_bytes(uint64_t address, unsigned size);

/* The address a live value's location names in a destination frame. */
POPCORN_HIDDEN int popcorn_transform_dst_location(const struct popcorn_table *t, const struct frame *f,
                                                  const struct popcorn_meta_live_value *lv, uint64_t *out);

/* A pointer into a moved source object ([lo, hi] bounds the source frames), moved along with it;
 * anything else unchanged.  `count`: the sorted moved objects. */
POPCORN_HIDDEN uint64_t popcorn_transform_repoint(uint64_t p, uint64_t lo, uint64_t hi, size_t count);

/* Re-points every aligned word of a moved stack object that points into a moved source object. */
POPCORN_HIDDEN void popcorn_transform_repoint_object(uint64_t address, uint64_t size, uint64_t lo, uint64_t hi,
                                                     size_t count);

/* ---- jmpbuf.c: the transformation's passes for the program's jmp_bufs ---- */

/* Pass 1½: matches the noted buffers to the `n` frames walked; appends the values live across
 * their setjmp calls from *value_count.  Returns 0 when out of scratch memory. */
POPCORN_HIDDEN int popcorn_jmp_bufs_match(const struct popcorn_table *st, const struct popcorn_table *dt,
                                          enum popcorn_isa src_isa, size_t n, size_t *value_count);

/* Pass 2: copies the objects live across each matched setjmp call (and adds them to the map). */
POPCORN_HIDDEN int popcorn_jmp_bufs_copy_objects(const struct popcorn_table *st, const struct popcorn_table *dt,
                                                 size_t *object_count);

/* Pass 3, inside frame k before its live values: the registers a longjmp into it must restore. */
POPCORN_HIDDEN void popcorn_jmp_bufs_snapshot(size_t k, const uint64_t *cur);

/* After pass 3: writes or prepares every matched buffer in the destination layout. */
POPCORN_HIDDEN int popcorn_jmp_bufs_finish(const struct popcorn_table *st, const struct popcorn_table *dt,
                                           enum popcorn_isa dst_isa, uint64_t lo, uint64_t hi, size_t object_count);

/* Tells the commit's pointer scan to leave jmpbuf.c's own scratch alone (if mapped). */
POPCORN_HIDDEN void popcorn_jmp_bufs_skip_matches(void);

#endif /* POPCORN_RUNTIME_TRANSFORM_INTERNAL_H */
