/*
 * checkpoint_internal.h — what the source half of a process move (docs/PROCESS-MOVE.md,
 * "Checkpoint") shares between its files: checkpoint.c (the move: checks, descriptors, signals,
 * the exec) and checkpoint_regions.c (which mappings the checkpoint saves, and writing it).
 * Private to those files.
 *
 * The program links the runtime statically and may define any name that is not reserved, so
 * every symbol here is prefixed popcorn_, and hidden (nothing outside the runtime uses them).
 */
#ifndef POPCORN_RUNTIME_CHECKPOINT_INTERNAL_H
#define POPCORN_RUNTIME_CHECKPOINT_INTERNAL_H

#include "checkpoint_format.h"
#include "sibling.h"

#include <stdint.h>
#include <sys/stat.h>

#define MAX_REGIONS 4096
#define MAX_EXTENTS 32768
#define MAX_FDS 1024
#define MAX_SIGNALS 64
#define MAPS_BUFFER (512u * 1024u)
#define PATH_BYTES 4096

/* The move's scratch memory, mapped once per move and left out of the checkpoint. */
struct scratch {
    char maps[MAPS_BUFFER];
    char host_maps[MAPS_BUFFER]; /* the host's list, under qemu-user (checkpoint_maps.c) */
    struct popcorn_ckpt_region regions[MAX_REGIONS];
    unsigned char anonymous[MAX_REGIONS];
    unsigned char probe[MAX_REGIONS];
    struct popcorn_ckpt_extent extents[MAX_EXTENTS];
    struct popcorn_ckpt_fd fds[MAX_FDS];
    struct popcorn_ckpt_signal signals[MAX_SIGNALS];
    struct popcorn_ckpt_header header;
    struct popcorn_sibling sibling;
    char qemu[PATH_BYTES];
    char fd_variable[64];
    char dirents[4096];
};

/* ---- checkpoint_regions.c ---- */

/* Writes the checkpoint; 0, -errno, or 1 with *refusal saying why the move cannot happen. */
POPCORN_HIDDEN long popcorn_checkpoint_write(struct scratch *s, int fd, uint64_t scratch_bytes, enum popcorn_isa dst,
                                             const struct stat *exe, const char **refusal);

#endif /* POPCORN_RUNTIME_CHECKPOINT_INTERNAL_H */
