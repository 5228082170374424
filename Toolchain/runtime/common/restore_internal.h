/*
 * restore_internal.h — what the destination half of a process move (docs/PROCESS-MOVE.md,
 * "Restore") shares between its files: restore.c (the constructor, the checks before anything is
 * changed, the sequence on the private stack), restore_memory.c (where the restore's own area
 * goes, and putting the vDSO and the saved regions back) and restore_collisions.c (starting again
 * when this process's own memory lies where a saved region must go).  Private to those files.
 *
 * The program links the runtime statically and may define any name that is not reserved, so
 * every symbol here is prefixed popcorn_, and hidden (nothing outside the runtime uses them).
 */
#ifndef POPCORN_RUNTIME_RESTORE_INTERNAL_H
#define POPCORN_RUNTIME_RESTORE_INTERNAL_H

#include "checkpoint_format.h"

#include <stdint.h>

#define KEPT_RANGES 64

/* argv as the program received it (restore.c records it before main; restarts use it). */
extern char **__popcorn_saved_argv;

/* The restore's private area (popcorn_restore_place_area): tables, kept bytes, then its stack. */
struct restore_area {
    struct popcorn_ckpt_header header; /* copy; tables follow in `tables` */
    /* Across ISAs: what this process keeps from its own start-up, and where its TLS block is. */
    struct popcorn_handover_range kept[KEPT_RANGES];
    uint32_t kept_count;
    uint64_t own_tls_block;
    unsigned char *kept_bytes; /* the kept ranges' bytes, then room for the TLS block */
    struct popcorn_ckpt_special current[POPCORN_CKPT_SPECIALS]; /* this process's vDSO */
    uint64_t own_stack[2]; /* this process's initial [stack] */
    uint64_t own_heap[2];  /* this process's brk area ([heap]), allocated before the restore */
    uint64_t area_start, area_end;
    uint64_t started_ns; /* the restore constructor's start (after exec, qemu and libc start-up) */
    const struct popcorn_ckpt_extent *extents;
    int fd;
    char maps[64 * 1024];
    char tables[]; /* header_size - sizeof header bytes */
};

static inline const struct popcorn_ckpt_region *regions_of(const struct restore_area *area)
{
    return (const struct popcorn_ckpt_region *)(area->tables + area->header.regions_offset - sizeof area->header);
}

/* ---- restore.c ---- */

/* Past the exec: says what failed and ends the process with status 127 (the old one is gone). */
POPCORN_HIDDEN _Noreturn void popcorn_restore_fatal(const char *what, long error);

/* ---- restore_memory.c ---- */

/* Maps `size` bytes somewhere no saved region will be restored to. */
POPCORN_HIDDEN void *popcorn_restore_place_area(const struct popcorn_ckpt_header *header,
                                                const struct popcorn_ckpt_region *regions, uint64_t size);

/* Puts the kernel's vDSO mappings where the old process had them (same ISA only). */
POPCORN_HIDDEN void popcorn_restore_move_specials(struct restore_area *area);

/* Maps every saved region back at its address, with room below a restored stack to grow. */
POPCORN_HIDDEN void popcorn_restore_map_regions(struct restore_area *area);

/* ---- restore_collisions.c ---- */

/* Starts this binary again when its own memory lies where a saved region must go; returns when
 * nothing is in the way. */
POPCORN_HIDDEN void popcorn_restore_avoid_own_mappings(const struct popcorn_ckpt_header *header,
                                                       const struct popcorn_ckpt_region *regions);

#endif /* POPCORN_RUNTIME_RESTORE_INTERNAL_H */
