/*
 * Which pages of a mapping the checkpoint saves (docs/PROCESS-MOVE.md, "Zero pages").
 *
 * A moving process has large mappings that are mostly untouched: the transformation's stack pool,
 * big malloc() reservations, the room below a restored stack.  Writing them whole made every hop
 * copy ~136 MiB of zeros.  Only pages that hold data are written now; the restore maps the rest of
 * the region as fresh anonymous memory, which reads as zeros exactly as the untouched pages did.
 *
 * For anonymous memory the kernel's page map (/proc/self/pagemap) says without touching a page
 * whether it was ever populated: a page neither present nor swapped out is zero.  That saves both
 * the read and the zero-page fault that reading would cause.  Everything else (present pages,
 * file-backed mappings whose unread pages come from the file) is compared with zero.
 */
#include "checkpoint_format.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define PAGE POPCORN_CKPT_PAGE
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
/* Zero runs shorter than this are written with their neighbours: fewer extents and mappings
 * (each extent is one mmap at the restore) for a few pages of zeros. */
#define GAP_PAGES 8
/* Page map entries read per system call. */
#define PAGEMAP_BATCH 512

uint64_t popcorn_monotonic_ns(void)
{
    struct {
        int64_t tv_sec;
        long tv_nsec;
    } now = {0, 0};
    popcorn_sys(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

long popcorn_write_all(int fd, const void *data, uint64_t length, uint64_t offset)
{
    const char *p = data;
    while (length > 0) {
        long put = popcorn_sys(SYS_pwrite64, fd, p, length > (1u << 30) ? (1u << 30) : length, offset);
        if (put == -EINTR)
            continue;
        if (put <= 0)
            return put < 0 ? put : -EIO;
        p += put;
        offset += (uint64_t)put;
        length -= (uint64_t)put;
    }
    return 0;
}

static int page_is_zero(uint64_t address)
{
    const uint64_t *word = (const uint64_t *)(uintptr_t)address;
    for (unsigned i = 0; i < PAGE / 8; i += 8) {
        /* eight words per test: the loop is memory-bound, the branch is not */
        if (word[i] | word[i + 1] | word[i + 2] | word[i + 3] | word[i + 4] | word[i + 5] | word[i + 6] |
            word[i + 7])
            return 0;
    }
    return 1;
}

static long pagemap_entries(long pagemap_fd, uint64_t address, uint64_t *entries, unsigned count)
{
    uint64_t offset = address / PAGE * sizeof(uint64_t);
    uint64_t wanted = count * sizeof(uint64_t), got = 0;
    while (got < wanted) {
        long n = popcorn_sys(SYS_pread64, pagemap_fd, (char *)entries + got, wanted - got, offset + got);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (uint64_t)n;
    }
    return 0;
}

long popcorn_open_pagemap(const void *touched, const void *untouched)
{
    long fd = popcorn_sys(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t a = 0, b = 0;
    if (pagemap_entries(fd, (uint64_t)(uintptr_t)touched, &a, 1) != 0 ||
        pagemap_entries(fd, (uint64_t)(uintptr_t)untouched, &b, 1) != 0 || !(a & PAGEMAP_PRESENT) ||
        (b & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))) {
        popcorn_sys(SYS_close, fd);
        return -1;
    }
    return fd;
}

/* Closes the extent [start, end): writes its bytes and records it. */
static long flush_extent(int fd, struct popcorn_ckpt_region *region, uint64_t start, uint64_t end,
                         struct popcorn_ckpt_extent *extents, uint32_t *extent_count, uint64_t *offset,
                         uint64_t *data_bytes)
{
    long status = popcorn_write_all(fd, (const void *)(uintptr_t)start, end - start, *offset);
    if (status < 0)
        return status;
    struct popcorn_ckpt_extent *e = &extents[(*extent_count)++];
    e->start = start;
    e->end = end;
    e->data_offset = *offset;
    *offset += end - start;
    *data_bytes += end - start;
    region->extent_count++;
    return 0;
}

long popcorn_save_region_pages(int fd, struct popcorn_ckpt_region *region, int anonymous, int probe, long pagemap_fd,
                               struct popcorn_ckpt_extent *extents, uint32_t *extent_count,
                               uint32_t extent_capacity, uint64_t *offset, uint64_t *data_bytes)
{
    region->extent_first = *extent_count;
    region->extent_count = 0;
    if (!(region->prot & 1 /* PROT_READ */)) {
        /* Not readable (a write-only mapping): saved whole, unread. */
        if (*extent_count == extent_capacity)
            return -E2BIG;
        return flush_extent(fd, region, region->start, region->end, extents, extent_count, offset, data_bytes);
    }
    int use_pagemap = anonymous && pagemap_fd >= 0;
    uint64_t entries[PAGEMAP_BATCH];
    uint64_t run_start = 0, run_end = 0; /* the extent being grown; empty when equal */
    for (uint64_t batch = region->start; batch < region->end; batch += PAGEMAP_BATCH * PAGE) {
        unsigned count = (unsigned)((region->end - batch) / PAGE < PAGEMAP_BATCH ? (region->end - batch) / PAGE
                                                                                 : PAGEMAP_BATCH);
        int have_map = use_pagemap && pagemap_entries(pagemap_fd, batch, entries, count) == 0;
        for (unsigned i = 0; i < count; i++) {
            uint64_t page = batch + i * PAGE;
            int data;
            if (have_map && !(entries[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED)))
                data = 0; /* never populated: zero, and left unread */
            else if (probe && popcorn_sys(SYS_pwrite64, fd, page, PAGE, *offset) < 0)
                data = 0; /* past the end of the mapped file: no data, and reading it would be SIGBUS */
            else
                data = !page_is_zero(page);
            if (!data)
                continue;
            if (run_end != run_start && page - run_end <= GAP_PAGES * PAGE) {
                run_end = page + PAGE;
                continue;
            }
            if (run_end != run_start) {
                if (*extent_count + 1 == extent_capacity) {
                    /* Table nearly full: the rest of the region goes into one last extent. */
                    run_end = region->end;
                    goto last;
                }
                long status = flush_extent(fd, region, run_start, run_end, extents, extent_count, offset, data_bytes);
                if (status < 0)
                    return status;
            }
            run_start = page;
            run_end = page + PAGE;
        }
    }
last:
    if (run_end != run_start) {
        if (*extent_count == extent_capacity)
            return -E2BIG;
        return flush_extent(fd, region, run_start, run_end, extents, extent_count, offset, data_bytes);
    }
    return 0;
}
