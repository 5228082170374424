/*
 * Restore: where the restored memory goes (docs/PROCESS-MOVE.md, "Restore", steps 2 to 4).
 *
 * The restore's own area (its tables and private stack) must lie where no saved region, saved
 * stack reserve or saved vDSO range will be mapped; the kernel's vDSO is moved to where the old
 * process had it; then every saved region is mapped back at its address from the checkpoint.
 * Kept apart from restore.c, which decides what to do in which order: this file only places
 * memory, with raw system calls, and any failure is fatal (the old process is gone).
 */
#define _GNU_SOURCE 1 /* MREMAP_* */
#include "restore_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define STACK_RESERVE (8ull << 20) /* room below a restored initial stack, like RLIMIT_STACK */


/* Whether [start, end) meets a saved region or a saved special mapping. */
static int collides(const struct popcorn_ckpt_header *header, const struct popcorn_ckpt_region *regions,
                    uint64_t start, uint64_t end, uint64_t *below)
{
    for (uint32_t i = 0; i < header->region_count; i++) {
        uint64_t low = regions[i].start;
        if (regions[i].kind == POPCORN_CKPT_REGION_STACK)
            low = regions[i].end > STACK_RESERVE ? regions[i].end - STACK_RESERVE : 0;
        if (start < regions[i].end && low < end) {
            *below = low;
            return 1;
        }
    }
    for (int i = 0; i < POPCORN_CKPT_SPECIALS; i++)
        if (header->specials[i].end && start < header->specials[i].end && header->specials[i].start < end) {
            *below = header->specials[i].start;
            return 1;
        }
    return 0;
}

/* Maps `size` bytes somewhere no saved region will be restored to. */
void *popcorn_restore_place_area(const struct popcorn_ckpt_header *header, const struct popcorn_ckpt_region *regions,
                                 uint64_t size)
{
    uint64_t hint = 0;
    for (int attempt = 0; attempt < 256; attempt++) {
        long got = popcorn_sys(SYS_mmap, hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (got < 0 && got > -4096)
            popcorn_restore_fatal("no memory for the restore", got);
        uint64_t below = 0;
        if (!collides(header, regions, (uint64_t)got, (uint64_t)got + size, &below))
            return (void *)got;
        popcorn_sys(SYS_munmap, got, size);
        if (below < size + (1ull << 20))
            break;
        hint = (below - size - POPCORN_CKPT_PAGE) & ~(POPCORN_CKPT_PAGE - 1);
    }
    /* Walking down from where mmap put it can run into the bottom of the address space (under
     * qemu-user the guest's first mappings come at exactly the saved regions' addresses): try the
     * gap above every saved region instead.  A hint, never MAP_FIXED: whatever this process (or
     * the emulator) has mapped is left alone, and the result is checked like the first. */
    for (uint32_t i = 0; i < header->region_count; i++) {
        hint = popcorn_ckpt_page_up(regions[i].end) + POPCORN_CKPT_PAGE;
        uint64_t below = 0;
        if (collides(header, regions, hint, hint + size, &below))
            continue;
        long got = popcorn_sys(SYS_mmap, hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (got < 0 && got > -4096)
            continue;
        if (!collides(header, regions, (uint64_t)got, (uint64_t)got + size, &below))
            return (void *)got;
        popcorn_sys(SYS_munmap, got, size);
    }
    popcorn_restore_fatal("no free address range for the restore", ENOMEM);
}

/* Puts the kernel's vDSO mappings where the old process had them: libc remembers the vDSO
 * functions it looked up.  Through a temporary place, because old and new ranges may overlap. */
void popcorn_restore_move_specials(struct restore_area *area)
{
    const struct popcorn_ckpt_special *old = area->header.specials;
    struct popcorn_ckpt_special *now = area->current;
    int needed = 0;
    for (int i = 0; i < POPCORN_CKPT_SPECIALS; i++) {
        if (!old[i].end || !now[i].end)
            continue;
        if (old[i].end - old[i].start != now[i].end - now[i].start)
            popcorn_restore_fatal("the vDSO changed size", EINVAL);
        if (old[i].start != now[i].start)
            needed = 1;
    }
    if (!needed)
        return;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < POPCORN_CKPT_SPECIALS; i++) {
            if (!old[i].end || !now[i].end)
                continue;
            uint64_t size = now[i].end - now[i].start;
            uint64_t target = old[i].start;
            if (pass == 0) {
                long temporary = popcorn_sys(SYS_mmap, 0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (temporary < 0 && temporary > -4096)
                    popcorn_restore_fatal("no memory to move the vDSO", temporary);
                target = (uint64_t)temporary;
            }
            long moved = popcorn_sys(SYS_mremap, now[i].start, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
            if (moved < 0 && moved > -4096)
                popcorn_restore_fatal("cannot move the vDSO", moved);
            now[i].start = target;
            now[i].end = target + size;
        }
    }
}

/* Maps `size` bytes at `start` as fresh anonymous memory (zero pages, as never touched). */
static void map_zero(uint64_t start, uint64_t size, int prot)
{
    long got = popcorn_sys(SYS_mmap, start, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (got < 0 && got > -4096)
        popcorn_restore_fatal("cannot map a saved region", got);
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* An inaccessible reservation (a guard page, an allocator's reserve, the holes qemu-user leaves
 * in its reservation of the guest image) only keeps other mappings away. Where the destination
 * already has something there — its own binary's segments, which sit at other page boundaries on
 * the other ISA — the reservation must not replace it; free ranges get it. */
static void map_reserve(uint64_t start, uint64_t size)
{
    long got = popcorn_sys(SYS_mmap, start, size, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == (long)start || (got < 0 && got > -4096))
        return; /* reserved, or occupied (EEXIST): leave what is there */
    popcorn_sys(SYS_munmap, (uint64_t)got, size); /* a kernel that took the address as a hint */
}

/* A MAP_SHARED file mapping: the file again, through the descriptor the checkpoint opened. */
static void map_shared_file(const struct popcorn_ckpt_region *region)
{
    long got = popcorn_sys(SYS_mmap, region->start, region->end - region->start, region->prot, MAP_SHARED | MAP_FIXED,
                           region->fd, region->file_offset);
    if (got < 0 && got > -4096)
        popcorn_restore_fatal("cannot map a shared file mapping again", got);
    if (!(region->flags & POPCORN_CKPT_REGION_PROGRAM_FD))
        popcorn_sys(SYS_close, region->fd);
}

/* MAP_SHARED anonymous memory only the old process mapped: fresh shared memory with its contents
 * copied in (a private mapping of the checkpoint would not be shared with a later child). */
static void map_shared_anonymous(const struct restore_area *area, const struct popcorn_ckpt_region *region,
                                 const struct popcorn_ckpt_extent *extents)
{
    long got = popcorn_sys(SYS_mmap, region->start, region->end - region->start, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (got < 0 && got > -4096)
        popcorn_restore_fatal("cannot map shared memory again", got);
    for (uint32_t k = 0; k < region->extent_count; k++) {
        const struct popcorn_ckpt_extent *e = &extents[k];
        for (uint64_t done = 0; done < e->end - e->start;) {
            long n = popcorn_sys(SYS_pread64, area->fd, e->start + done, e->end - e->start - done, e->data_offset + done);
            if (n == -EINTR)
                continue;
            if (n <= 0)
                popcorn_restore_fatal("cannot read shared memory's contents", n < 0 ? n : EIO);
            done += (uint64_t)n;
        }
    }
    long status = popcorn_sys(SYS_mprotect, region->start, region->end - region->start, region->prot);
    if (status < 0)
        popcorn_restore_fatal("cannot protect shared memory", status);
}

void popcorn_restore_map_regions(struct restore_area *area)
{
    const struct popcorn_ckpt_region *regions = regions_of(area);
    unsigned sp_index = THIS_ISA == POPCORN_ISA_X86_64 ? POPCORN_MOVE_SP_X86_64 : POPCORN_MOVE_SP_AARCH64;
    uint64_t resume_sp = area->header.regs.gpr[sp_index];
    for (uint32_t i = 0; i < area->header.region_count; i++) {
        const struct popcorn_ckpt_region *region = &regions[i];
        uint64_t size = region->end - region->start;
        if (region->kind == POPCORN_CKPT_REGION_RESERVE) {
            map_reserve(region->start, size);
            continue;
        }
        if (region->kind == POPCORN_CKPT_REGION_SHARED_FILE) {
            map_shared_file(region);
            continue;
        }
        if (region->extent_first + (uint64_t)region->extent_count > area->header.extent_count)
            popcorn_restore_fatal("the checkpoint's extent table is inconsistent", EINVAL);
        const struct popcorn_ckpt_extent *extents = area->extents + region->extent_first;
        if (region->kind == POPCORN_CKPT_REGION_SHARED_ANON) {
            map_shared_anonymous(area, region, extents);
            continue;
        }
        /* Pages outside the saved extents held zeros: anonymous memory under the extents, unless
         * one extent covers the whole region. */
        if (!(region->extent_count == 1 && extents[0].start == region->start && extents[0].end == region->end))
            map_zero(region->start, size, (int)region->prot);
        for (uint32_t k = 0; k < region->extent_count; k++) {
            const struct popcorn_ckpt_extent *e = &extents[k];
            if (e->start < region->start || e->end > region->end || e->end <= e->start)
                popcorn_restore_fatal("the checkpoint's extent table is inconsistent", EINVAL);
            long got = popcorn_sys(SYS_mmap, e->start, e->end - e->start, region->prot, MAP_PRIVATE | MAP_FIXED,
                                   area->fd, e->data_offset);
            if (got < 0 && got > -4096)
                popcorn_restore_fatal("cannot map a saved region", got);
        }
        if (region->kind != POPCORN_CKPT_REGION_STACK || resume_sp < region->start || resume_sp >= region->end)
            continue;
        /* The kernel grew the old stack on demand; the copy is a plain mapping, so when the
         * program goes on running on it, give it the room below that the old one had, up to the
         * next mapping we know of.  (After a move between ISAs it runs on the transformation's
         * stack pool: 8 MiB of room for every carried initial stack made the restored mappings
         * grow by 8 MiB a hop.) */
        uint64_t low = region->end > STACK_RESERVE ? region->end - STACK_RESERVE : 0;
        for (uint32_t j = 0; j < area->header.region_count; j++)
            if (j != i && regions[j].end <= region->start && regions[j].end > low)
                low = regions[j].end;
        for (int k = 0; k < POPCORN_CKPT_SPECIALS; k++)
            if (area->header.specials[k].end <= region->start && area->header.specials[k].end > low)
                low = area->header.specials[k].end;
        if (area->area_end <= region->start && area->area_end > low)
            low = area->area_end;
        low = popcorn_ckpt_page_up(low) + POPCORN_CKPT_PAGE; /* keep a guard page */
        if (low < region->start)
            popcorn_sys(SYS_mmap, low, region->start - low, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    }
}
