/*
 * Restore: the destination half of a process move (docs/PROCESS-MOVE.md).
 *
 * A constructor that runs before every other one (priority 101) looks for
 * POPCORN_CHECKPOINT_FD.  If it is there, this process is the continuation of a moved one: the
 * restore switches to a private stack placed where no saved region will go (under qemu-user the
 * new guest stack is at exactly the old address), moves the kernel's vDSO to where the old
 * process had it (libc caches pointers into it), maps every saved region back at its address,
 * re-installs the thread pointer, descriptor flags and signal state, and jumps to the saved
 * registers.  Nothing of the new process's own start-up survives except the kernel state exec
 * gave it; a failure after this point cannot return to the old process, so it is fatal.
 */
#define _GNU_SOURCE 1 /* MREMAP_* */
#include "checkpoint_format.h"
#include "settings.h"
#include "sibling.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH_SET_FS 0x1002 /* asm/prctl.h, not in musl's headers */
#define THIS_ISA POPCORN_ISA_X86_64
#else
#define THIS_ISA POPCORN_ISA_AARCH64
#endif

extern __thread int __popcorn_serving_point;
extern uint64_t __popcorn_object_stack_mapping[2];
#if defined(POPCORN_PORTABLE_LIBC)
void __popcorn_libc_restored(void);
#endif

char **__popcorn_saved_argv;
uint64_t __popcorn_restore_leftover[2];
uint64_t __popcorn_own_stack[2];
uint64_t __popcorn_auxv_stack[2];
uint64_t __popcorn_own_heap[2];

#define RESTORE_STACK (256u * 1024u)
#define STACK_RESERVE (8ull << 20) /* room below a restored initial stack, like RLIMIT_STACK */

#define KEPT_RANGES 64

/* Weak: metadata_load.c (in migrate.o) is linked into every program with migration points. */
extern void __popcorn_metadata_forget(void) __attribute__((weak));

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

_Noreturn static void fatal(const char *what, long error)
{
    char number[24];
    int n = sizeof number - 1;
    number[n] = '\0';
    unsigned long value = (unsigned long)(error < 0 ? -error : error);
    do {
        number[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value && n > 0);
    /* Past the exec: the process that asked for the move is gone and its state cannot be
     * resumed here.  Said plainly, with a status of its own, never a silent exit. */
    popcorn_move_message("popcorn: error: cannot resume the migrated process: ", what, " (errno ");
    popcorn_move_message(number + n, "); the program's state from before the move is lost\n", NULL);
    popcorn_sys(SYS_exit_group, 127);
    __builtin_unreachable();
}

static uint64_t page_up(uint64_t value) { return (value + POPCORN_CKPT_PAGE - 1) & ~(POPCORN_CKPT_PAGE - 1); }

static void collect_specials(const struct popcorn_map_entry *entry, void *context)
{
    struct restore_area *area = context;
    struct popcorn_ckpt_special *specials = area->current;
    if (strcmp(entry->name, "[stack]") == 0) {
        area->own_stack[0] = entry->start;
        area->own_stack[1] = entry->end;
    }
    if (strcmp(entry->name, "[heap]") == 0) {
        if (area->own_heap[1] == 0 || entry->start < area->own_heap[0])
            area->own_heap[0] = entry->start;
        if (entry->end > area->own_heap[1])
            area->own_heap[1] = entry->end;
    }
    int index = strcmp(entry->name, "[vvar]") == 0 ? POPCORN_CKPT_VVAR
              : strcmp(entry->name, "[vvar_vclock]") == 0 ? POPCORN_CKPT_VVAR_VCLOCK
              : strcmp(entry->name, "[vdso]") == 0 ? POPCORN_CKPT_VDSO : -1;
    if (index >= 0) {
        specials[index].start = entry->start;
        specials[index].end = entry->end;
    }
}

static const struct popcorn_ckpt_region *regions_of(const struct restore_area *area)
{
    return (const struct popcorn_ckpt_region *)(area->tables + area->header.regions_offset - sizeof area->header);
}

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
static void *place_area(const struct popcorn_ckpt_header *header, const struct popcorn_ckpt_region *regions,
                        uint64_t size)
{
    uint64_t hint = 0;
    for (int attempt = 0; attempt < 256; attempt++) {
        long got = popcorn_sys(SYS_mmap, hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (got < 0 && got > -4096)
            fatal("no memory for the restore", got);
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
        hint = page_up(regions[i].end) + POPCORN_CKPT_PAGE;
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
    fatal("no free address range for the restore", ENOMEM);
}

/* Puts the kernel's vDSO mappings where the old process had them: libc remembers the vDSO
 * functions it looked up.  Through a temporary place, because old and new ranges may overlap. */
static void move_specials(struct restore_area *area)
{
    const struct popcorn_ckpt_special *old = area->header.specials;
    struct popcorn_ckpt_special *now = area->current;
    int needed = 0;
    for (int i = 0; i < POPCORN_CKPT_SPECIALS; i++) {
        if (!old[i].end || !now[i].end)
            continue;
        if (old[i].end - old[i].start != now[i].end - now[i].start)
            fatal("the vDSO changed size", EINVAL);
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
                    fatal("no memory to move the vDSO", temporary);
                target = (uint64_t)temporary;
            }
            long moved = popcorn_sys(SYS_mremap, now[i].start, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
            if (moved < 0 && moved > -4096)
                fatal("cannot move the vDSO", moved);
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
        fatal("cannot map a saved region", got);
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
        fatal("cannot map a shared file mapping again", got);
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
        fatal("cannot map shared memory again", got);
    for (uint32_t k = 0; k < region->extent_count; k++) {
        const struct popcorn_ckpt_extent *e = &extents[k];
        for (uint64_t done = 0; done < e->end - e->start;) {
            long n = popcorn_sys(SYS_pread64, area->fd, e->start + done, e->end - e->start - done, e->data_offset + done);
            if (n == -EINTR)
                continue;
            if (n <= 0)
                fatal("cannot read shared memory's contents", n < 0 ? n : EIO);
            done += (uint64_t)n;
        }
    }
    long status = popcorn_sys(SYS_mprotect, region->start, region->end - region->start, region->prot);
    if (status < 0)
        fatal("cannot protect shared memory", status);
}

static void map_regions(struct restore_area *area)
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
            fatal("the checkpoint's extent table is inconsistent", EINVAL);
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
                fatal("the checkpoint's extent table is inconsistent", EINVAL);
            long got = popcorn_sys(SYS_mmap, e->start, e->end - e->start, region->prot, MAP_PRIVATE | MAP_FIXED,
                                   area->fd, e->data_offset);
            if (got < 0 && got > -4096)
                fatal("cannot map a saved region", got);
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
        low = page_up(low) + POPCORN_CKPT_PAGE; /* keep a guard page */
        if (low < region->start)
            popcorn_sys(SYS_mmap, low, region->start - low, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    }
}

static void set_thread_pointer(uint64_t tp)
{
#if defined(__x86_64__)
    long status = popcorn_native_sys6(158 /* arch_prctl */, ARCH_SET_FS, (long)tp, 0, 0, 0, 0);
    if (status < 0)
        fatal("cannot set the thread pointer", status);
#else
    __asm__ volatile("msr tpidr_el0, %0" : : "r"(tp) : "memory");
#endif
}

static void restore_signals(const struct restore_area *area)
{
    const struct popcorn_ckpt_signal *signals =
        (const struct popcorn_ckpt_signal *)(area->tables + area->header.signals_offset - sizeof area->header);
    for (uint32_t i = 0; i < area->header.signal_count; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = (void (*)(int))(uintptr_t)signals[i].handler;
        action.sa_flags = signals[i].flags & ~SA_RESTORER; /* libc supplies its own trampoline */
        memcpy(&action.sa_mask, signals[i].mask,
               sizeof action.sa_mask < sizeof signals[i].mask ? sizeof action.sa_mask : sizeof signals[i].mask);
        sigaction(signals[i].signal, &action, NULL);
    }
    if (area->header.altstack_sp && !(area->header.altstack_flags & SS_DISABLE)) {
        stack_t alternate = {(void *)(uintptr_t)area->header.altstack_sp, 0, area->header.altstack_size};
        popcorn_sys(SYS_sigaltstack, &alternate, NULL);
    }
}

/*
 * The TLS block has the same layout on both ISAs but not the same place relative to the thread
 * pointer (x86_64 below it, aarch64 above the descriptor), so it is at another address here.
 * The transformed frames may hold addresses of thread-locals (computed before a call and kept in
 * a slot); the stack the registers point into holds exactly those frames (the transformation
 * builds it from main down), so its words, and the registers, that point into the source's block
 * are moved to this process's block.  Like the transformation's scan of the program's own
 * objects this is conservative: an integer equal to such an address would be changed too, and
 * thread-local addresses kept in the heap or in globals are not found (docs/PROCESS-MOVE.md).
 */
static void repoint_tls(const struct restore_area *area, struct popcorn_move_regs *regs)
{
    const struct popcorn_ckpt_header *h = &area->header;
    uint64_t lo = h->tls_start, hi = h->tls_start + h->tls_size, delta = area->own_tls_block - lo;
    if (delta == 0)
        return;
    unsigned sp_index = THIS_ISA == POPCORN_ISA_X86_64 ? POPCORN_MOVE_SP_X86_64 : POPCORN_MOVE_SP_AARCH64;
    for (unsigned i = 0; i < 32; i++)
        if (i != sp_index && regs->gpr[i] >= lo && regs->gpr[i] <= hi)
            regs->gpr[i] += delta;
    uint64_t sp = regs->gpr[sp_index] & ~7ull, top = 0;
    const struct popcorn_ckpt_region *regions = regions_of(area);
    for (uint32_t i = 0; i < h->region_count; i++)
        if (regions[i].kind != POPCORN_CKPT_REGION_RESERVE && regions[i].start <= sp && sp < regions[i].end)
            top = regions[i].end;
    for (uint64_t at = sp; at + 8 <= top; at += 8) {
        uint64_t *word = (uint64_t *)(uintptr_t)at;
        if (*word >= lo && *word <= hi)
            *word += delta;
    }
}

/* [low, high) if no restored region takes part of it (then every byte of it is this process's
 * own), else the empty range. */
static void untouched_range(const struct restore_area *area, const uint64_t *range, uint64_t *out)
{
    uint64_t low = range[0], high = range[1];
    const struct popcorn_ckpt_region *regions = regions_of(area);
    for (uint32_t i = 0; i < area->header.region_count && high > low; i++)
        if (regions[i].start < high && low < regions[i].end)
            low = high = 0;
    out[0] = low;
    out[1] = high;
}

/* Remembers (in the restored .bss, carried on) what of this process's own start-up the next
 * checkpoint leaves out (checkpoint.c, cut_dead_memory): its initial stack unless the destination
 * needs it, and the brk memory its libc allocated before the restore (the restored allocator
 * never refers to it).  A move between ISAs keeps this process's libc state, whose auxiliary
 * vector pointer points into this process's stack. */
static void record_own_start_up(const struct restore_area *area, int cross)
{
    untouched_range(area, area->own_stack, __popcorn_own_stack);
    untouched_range(area, area->own_heap, __popcorn_own_heap);
    if (cross) {
        __popcorn_auxv_stack[0] = __popcorn_own_stack[0];
        __popcorn_auxv_stack[1] = __popcorn_own_stack[1];
    }
}

/* Runs on the private stack; never returns. */
static void restore_main(void *argument)
{
    struct restore_area *area = argument;
    const struct popcorn_ckpt_header *h = &area->header;
    int cross = h->source_isa != h->destination_isa;
    /* Across ISAs this process keeps its vDSO where it is, and its own vdso_func with it; the
     * other kernel's (or qemu's) vDSO has another size and other entry points. */
    if (!cross)
        move_specials(area);
    /* The C library this process started with may have used the object stack before this
     * constructor ran; that region is not the program's (its own comes back with the memory). */
    uint64_t own_objects[2] = {__popcorn_object_stack_mapping[0], __popcorn_object_stack_mapping[1]};
    map_regions(area);
    if (own_objects[1] > own_objects[0]) {
        const struct popcorn_ckpt_region *saved = regions_of(area);
        int overlaps = 0;
        for (uint32_t i = 0; i < h->region_count; i++)
            overlaps |= saved[i].start < own_objects[1] && own_objects[0] < saved[i].end;
        if (!overlaps)
            popcorn_sys(SYS_munmap, own_objects[0], own_objects[1] - own_objects[0]);
    }
    /* From here on libc's memory is the old process's. */
    if (!cross) {
        set_thread_pointer(h->regs.tp);
    } else {
        /* The source's TLS block is in the restored memory, possibly where this process's
         * thread descriptor lives: take it aside, put the kept objects back, then fill this
         * thread's own block.  The thread pointer stays this process's. */
        unsigned char *bytes = area->kept_bytes;
        uint64_t used = 0;
        for (uint32_t i = 0; i < area->kept_count; i++)
            used += area->kept[i].size;
        memcpy(bytes + used, (const void *)(uintptr_t)h->tls_start, h->tls_size);
        used = 0;
        for (uint32_t i = 0; i < area->kept_count; i++) {
            memcpy((void *)(uintptr_t)area->kept[i].start, bytes + used, area->kept[i].size);
            used += area->kept[i].size;
        }
        memcpy((void *)(uintptr_t)area->own_tls_block, bytes + used, h->tls_size);
    }
#if defined(POPCORN_PORTABLE_LIBC)
    /* The C library's per-ISA layer re-derives what it keeps beside the thread pointer. */
    __popcorn_libc_restored();
#endif
    /* The migration metadata was mapped from the old executable (read-only: not carried). */
    if (__popcorn_metadata_forget)
        __popcorn_metadata_forget();
    const struct popcorn_ckpt_fd *fds =
        (const struct popcorn_ckpt_fd *)(area->tables + h->fds_offset - sizeof *h);
    for (uint32_t i = 0; i < h->fd_count; i++)
        popcorn_sys(SYS_fcntl, fds[i].fd, F_SETFD, fds[i].fd_flags);
    popcorn_sys(SYS_close, area->fd);
    restore_signals(area);
    struct popcorn_move_regs regs = h->regs;
    if (cross)
        repoint_tls(area, &regs);
    /* The statistics live in the restored .bss: this process's figures for the move it finishes. */
    uint64_t mapped = 0;
    const struct popcorn_ckpt_region *regions = regions_of(area);
    for (uint32_t i = 0; i < h->region_count; i++)
        if (regions[i].kind != POPCORN_CKPT_REGION_RESERVE && regions[i].kind != POPCORN_CKPT_REGION_SHARED_FILE)
            mapped += regions[i].end - regions[i].start; /* as the checkpoint counts them */
    __popcorn_restore_leftover[0] = area->area_start;
    __popcorn_restore_leftover[1] = area->area_end;
    record_own_start_up(area, cross);
    __popcorn_move_timing.moves++;
    __popcorn_move_timing.request_ns = 0;
    __popcorn_move_timing.checkpoint_ns = h->checkpoint_done_ns - h->request_ns;
    __popcorn_move_timing.exec_ns = area->started_ns - h->checkpoint_done_ns;
    __popcorn_move_timing.data_bytes = h->data_bytes;
    __popcorn_move_timing.mapped_bytes = mapped;
    uint64_t mask = h->signal_mask[0];
    __popcorn_move_timing.restore_ns = popcorn_monotonic_ns() - area->started_ns;
    popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
    /* The source was serving a migration point when it saved this thread's TLS block, and the
     * restore above calls the C library (sigaction), whose points are not the program's: the
     * mark goes only now, as the program resumes. */
    __popcorn_serving_point = 0;
    __popcorn_resume_regs(&regs);
}

/* ---- where this process's own memory is in the way ------------------------------------------
 *
 * The regions go back at their addresses with MAP_FIXED, over whatever this process has there.
 * Most of that is dead once the old memory is back, but not all of it: after a move between ISAs
 * the vDSO and the initial stack (libc's auxiliary vector) are this process's own, and under
 * qemu-user every host mapping that is not guest memory is qemu's (its code buffer, heap, stack).
 * Both sides place them at random (ASLR), so now and then one lies where a saved region must go;
 * overwriting it crashed the process later, in qemu's generated code or in clock_gettime().  The
 * restore checks first and, on a collision, starts this binary again (exec keeps the checkpoint
 * descriptor, the pid and the blocked signals), which places them elsewhere.  Nothing has been
 * changed yet at that point. */

#define RESTART_VARIABLE "POPCORN_RESTORE_ATTEMPT"
#define RESTART_ATTEMPTS 16
#define SCAN_TEXT (512u * 1024u)
#define GUEST_RANGES 1024

struct own_scan {
    char guest[SCAN_TEXT];
    char host[SCAN_TEXT];
    uint64_t guest_ranges[GUEST_RANGES][2];
    uint32_t guest_count;
    int cross, overflow, collision, kept_collision;
    const struct popcorn_ckpt_header *header;
    const struct popcorn_ckpt_region *regions;
    char attempt_variable[64];
    char exe[POPCORN_PATH_BYTES];
    char emulator[POPCORN_PATH_BYTES];
    char *vectors[]; /* argv and envp for the restart */
};

static int meets_region(const struct own_scan *scan, uint64_t low, uint64_t high)
{
    for (uint32_t i = 0; i < scan->header->region_count; i++)
        if (scan->regions[i].start < high && low < scan->regions[i].end)
            return 1;
    return 0;
}

static void visit_guest_mapping(const struct popcorn_map_entry *entry, void *context)
{
    struct own_scan *scan = context;
    if (scan->guest_count == GUEST_RANGES)
        scan->overflow = 1;
    else {
        scan->guest_ranges[scan->guest_count][0] = entry->start;
        scan->guest_ranges[scan->guest_count][1] = entry->end;
        scan->guest_count++;
    }
    /* Across ISAs this process keeps its vDSO and its libc state (whose auxv is on its stack).
     * Only natively: qemu-user places the guest's at the same addresses every time (and the
     * restored stack takes the guest's, as before), so a restart would not help there. */
    int kept = strcmp(entry->name, "[vvar]") == 0 || strcmp(entry->name, "[vvar_vclock]") == 0 ||
               strcmp(entry->name, "[vdso]") == 0 || strcmp(entry->name, "[stack]") == 0;
    if (scan->cross && kept && meets_region(scan, entry->start, entry->end))
        scan->kept_collision = 1;
}

/* Whether the guest's list covers [low, high) from end to end. */
static int guest_memory(const struct own_scan *scan, uint64_t low, uint64_t high)
{
    for (uint64_t at = low; at < high;) {
        uint64_t next = at;
        for (uint32_t i = 0; i < scan->guest_count; i++)
            if (scan->guest_ranges[i][0] <= at && at < scan->guest_ranges[i][1])
                next = scan->guest_ranges[i][1];
        if (next == at)
            return 0;
        at = next;
    }
    return 1;
}

static void visit_host_mapping(const struct popcorn_map_entry *entry, void *context)
{
    struct own_scan *scan = context;
    /* qemu's inaccessible reservations (the holes in its reservation of the guest image, guard
     * pages) hold nothing: a region may take them. */
    if (scan->overflow || scan->collision || !(entry->readable || entry->writable || entry->executable))
        return;
    for (uint32_t i = 0; i < scan->header->region_count; i++) {
        const struct popcorn_ckpt_region *region = &scan->regions[i];
        uint64_t low = region->start > entry->start ? region->start : entry->start;
        uint64_t high = region->end < entry->end ? region->end : entry->end;
        if (low < high && !guest_memory(scan, low, high)) {
            scan->collision = 1; /* the emulator's own memory */
            return;
        }
    }
}

/* Runs this binary again with the same arguments and environment (plus the attempt count): under
 * the emulator when this process runs under one.  Returns only if no exec worked. */
static void restart(struct own_scan *scan, int emulated, long attempt)
{
    extern char **__environ;
    size_t arguments = 0;
    for (char **a = __popcorn_saved_argv; a && *a; a++) arguments++;
    char **envp = scan->vectors;
    size_t n = 0, prefix = strlen(RESTART_VARIABLE);
    for (char **e = __environ; e && *e; e++)
        if (!(strncmp(*e, RESTART_VARIABLE, prefix) == 0 && (*e)[prefix] == '='))
            envp[n++] = *e;
    snprintf(scan->attempt_variable, sizeof scan->attempt_variable, "%s=%ld", RESTART_VARIABLE, attempt + 1);
    envp[n++] = scan->attempt_variable;
    envp[n++] = NULL;
    char **argv = envp + n;
    if (!__popcorn_saved_argv || arguments == 0)
        return;
    if (!emulated) {
        popcorn_sys(SYS_execve, "/proc/self/exe", __popcorn_saved_argv, envp);
        return;
    }
    /* Under qemu-user /proc/self/exe names the guest binary; the host runs it through binfmt_misc
     * if registered, otherwise through the emulator itself. */
    long length = popcorn_sys(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", scan->exe, sizeof scan->exe - 1);
    if (length <= 0)
        return;
    scan->exe[length] = '\0';
    popcorn_sys(SYS_execve, scan->exe, __popcorn_saved_argv, envp);
    if (popcorn_find_emulator(scan->emulator) != NULL)
        return;
    size_t a = 0;
    argv[a++] = scan->emulator;
    argv[a++] = "-0";
    argv[a++] = __popcorn_saved_argv[0];
    argv[a++] = scan->exe;
    for (size_t i = 1; i < arguments; i++)
        argv[a++] = __popcorn_saved_argv[i];
    argv[a] = NULL;
    popcorn_sys(SYS_execve, scan->emulator, argv, envp);
}

/* Starts this binary again when its own memory lies where a saved region must go. */
static void avoid_own_mappings(const struct popcorn_ckpt_header *header, const struct popcorn_ckpt_region *regions)
{
    extern char **__environ;
    size_t vectors = 16;
    for (char **a = __popcorn_saved_argv; a && *a; a++) vectors++;
    for (char **e = __environ; e && *e; e++) vectors++;
    uint64_t size = page_up(sizeof(struct own_scan) + 2 * vectors * sizeof(char *));
    long memory = popcorn_sys(SYS_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory < 0 && memory > -4096)
        fatal("no memory for the restore", memory);
    struct own_scan *scan = (struct own_scan *)memory;
    scan->header = header;
    scan->regions = regions;
    scan->cross = header->source_isa != header->destination_isa;
    long status = popcorn_read_maps(scan->guest, sizeof scan->guest, visit_guest_mapping, scan);
    if (status < 0)
        fatal("cannot read /proc/self/maps", status);
    long emulated = popcorn_read_host_maps(scan->guest, scan->host, sizeof scan->host, visit_host_mapping, scan);
    if (emulated == 0)
        scan->collision = scan->kept_collision;
    if (scan->collision) {
        /* Set only by restart() below; anything else found there counts as too many attempts. */
        const char *value = getenv(RESTART_VARIABLE);
        int attempt = 0;
        if (value && popcorn_parse_descriptor(value, &attempt) != NULL)
            attempt = RESTART_ATTEMPTS;
        if (attempt >= RESTART_ATTEMPTS)
            fatal("this process's own mappings keep lying where the saved memory must go", EEXIST);
        restart(scan, emulated > 0, attempt);
        fatal("cannot start the destination again to place its own mappings elsewhere", EEXIST);
    }
    popcorn_sys(SYS_munmap, memory, size);
}

static void restore_checkpoint(int fd)
{
    uint64_t started_ns = popcorn_monotonic_ns();
    long first = popcorn_sys(SYS_mmap, 0, POPCORN_CKPT_PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (first < 0 && first > -4096)
        fatal("cannot read the checkpoint", first);
    const struct popcorn_ckpt_header *peek = (const void *)first;
    if (peek->magic != POPCORN_CKPT_MAGIC || peek->version != POPCORN_CKPT_VERSION)
        fatal("the checkpoint is not in this runtime's format", EINVAL);
    if (peek->destination_isa != THIS_ISA)
        fatal("the checkpoint is for another ISA", EINVAL);
    unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST];
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    const char *why = self >= 0 ? popcorn_read_link_identity(self, 0, identity) : "cannot be opened";
    if (self >= 0)
        close(self);
    if (why)
        fatal("this binary's link identity cannot be read", ENOEXEC);
    if (memcmp(identity, peek->link_identity, sizeof identity) != 0)
        fatal("the checkpoint comes from a binary of another link", EINVAL);
    uint64_t header_size = peek->header_size;
    popcorn_sys(SYS_munmap, first, POPCORN_CKPT_PAGE);
    long whole = popcorn_sys(SYS_mmap, 0, header_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (whole < 0 && whole > -4096)
        fatal("cannot read the checkpoint", whole);
    const struct popcorn_ckpt_header *header = (const void *)whole;
    const struct popcorn_ckpt_region *regions = (const void *)(whole + header->regions_offset);

    avoid_own_mappings(header, regions);

    /* Across ISAs: what to keep from this process, read while its libc is still its own. */
    struct popcorn_exe_layout own = {0};
    struct popcorn_handover_range kept[KEPT_RANGES];
    uint32_t kept_count = 0;
    uint64_t kept_size = 0;
    if (header->source_isa != THIS_ISA) {
        long status = popcorn_read_exe_layout(&own);
        if (status < 0)
            fatal("cannot read this executable's symbols and TLS segment", status);
        if (own.tls_size != header->tls_size)
            fatal("the TLS blocks of the two binaries differ", EINVAL);
        kept_count = popcorn_kept_ranges(&own, header, kept, KEPT_RANGES);
        if (kept_count == KEPT_RANGES)
            fatal("too many per-ISA ranges to keep", E2BIG);
        for (uint32_t i = 0; i < kept_count; i++)
            kept_size += kept[i].size;
        kept_size += header->tls_size;
    }

    uint64_t tables_size = page_up(sizeof(struct restore_area) + header_size);
    uint64_t extents_size = page_up(header->extent_count * sizeof(struct popcorn_ckpt_extent));
    uint64_t size = tables_size + extents_size + page_up(kept_size) + RESTORE_STACK;
    struct restore_area *area = place_area(header, regions, size);
    memcpy(&area->header, header, sizeof *header);
    area->started_ns = started_ns;
    struct popcorn_ckpt_extent *extents = (struct popcorn_ckpt_extent *)((char *)area + tables_size);
    uint64_t extent_bytes = header->extent_count * sizeof(struct popcorn_ckpt_extent);
    for (uint64_t got = 0; got < extent_bytes;) {
        long n = popcorn_sys(SYS_pread64, fd, (char *)extents + got, extent_bytes - got, header->extents_offset + got);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            fatal("cannot read the checkpoint's extent table", n < 0 ? n : EIO);
        got += (uint64_t)n;
    }
    area->extents = extents;
    area->kept_bytes = (unsigned char *)area + tables_size + extents_size;
    area->kept_count = kept_count;
    memcpy(area->kept, kept, sizeof kept);
    area->own_tls_block = own.tls_block;
    uint64_t copied = 0;
    for (uint32_t i = 0; i < kept_count; i++) {
        memcpy(area->kept_bytes + copied, (const void *)(uintptr_t)kept[i].start, kept[i].size);
        copied += kept[i].size;
    }
    memcpy(area->tables, (const char *)whole + sizeof *header, header_size - sizeof *header);
    popcorn_sys(SYS_munmap, whole, header_size);
    area->fd = fd;
    area->area_start = (uint64_t)(uintptr_t)area;
    area->area_end = area->area_start + size;
    memset(area->current, 0, sizeof area->current);
    area->own_stack[0] = area->own_stack[1] = 0;
    area->own_heap[0] = area->own_heap[1] = 0;
    long entries = popcorn_read_maps(area->maps, sizeof area->maps, collect_specials, area);
    if (entries < 0)
        fatal("cannot read /proc/self/maps", entries);
    __popcorn_call_on_stack(area, restore_main, (char *)area + size);
}

/* Whether the checkpoint at `fd` is one this very process wrote before its exec: a sealed memfd
 * of ours, owned by the effective user, naming this pid as its creator.  Nothing the caller of a
 * secure-execution process can make passes: its files and memfds are its own, and no other
 * process of the effective user hands it a descriptor. */
static int own_checkpoint(int fd, const struct stat *st)
{
    static const char expected[] = "/memfd:" POPCORN_CKPT_MEMFD_NAME " ";
    char link[64], name[32];
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(name, link, sizeof link - 1);
    if (n < (ssize_t)(sizeof expected - 1) || memcmp(link, expected, sizeof expected - 1) != 0)
        return 0;
    if (!S_ISREG(st->st_mode) || st->st_uid != geteuid() || st->st_nlink != 0 ||
        (popcorn_sys(SYS_fcntl, fd, F_GET_SEALS, 0) & POPCORN_CKPT_SEALS) != POPCORN_CKPT_SEALS)
        return 0;
    struct popcorn_ckpt_header header;
    if (pread(fd, &header, sizeof header, 0) != (ssize_t)sizeof header || header.magic != POPCORN_CKPT_MAGIC)
        return 0;
    return header.creator_pid == (uint32_t)getpid();
}

/* A probe (sibling.c): the mover runs this binary under an emulator first, to learn before its
 * point of no return that the emulator runs it.  Answer with this binary's link identity and
 * end; main never runs.  A secure-execution process answers only its effective user's pipe. */
static void answer_probe(int fd, const struct stat *st)
{
    if (popcorn_secure_execution() && st->st_uid != geteuid())
        return;
    unsigned char reply[POPCORN_PROBE_REPLY_BYTES + POPCORN_LINK_IDENTITY_DIGEST];
    memcpy(reply, POPCORN_PROBE_REPLY, POPCORN_PROBE_REPLY_BYTES);
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self >= 0 && popcorn_read_link_identity(self, 0, reply + POPCORN_PROBE_REPLY_BYTES) == NULL)
        popcorn_sys(SYS_write, fd, reply, sizeof reply);
    popcorn_sys(SYS_exit_group, 0);
}

/* Priority 101: before any constructor of the program, whose effects the restore would undo. */
static void restore_init(void);

__attribute__((constructor(101))) static void popcorn_restore_init(void)
{
    int outer = popcorn_runtime_begin();
    restore_init(); /* returns unless a checkpoint was restored (which clears the mark) */
    popcorn_runtime_end(outer);
}

static void restore_init(void)
{
    /* argv sits right below envp on the initial stack: [argc][argv…][NULL][envp…]. */
    extern char **__environ;
    char **p = __environ ? __environ - 1 : NULL;
    if (p && *p == NULL) {
        for (long n = 0; n < 4096; n++) {
            if ((long)(uintptr_t)p[-1 - n] == n) {
                __popcorn_saved_argv = p - n;
                break;
            }
        }
    }
    /* The hand-over from this process's own previous image: the one POPCORN_* variable a
     * secure-execution process still looks at, and only to check it names its own checkpoint. */
    const char *value = getenv(POPCORN_CKPT_ENV);
    if (!value)
        return;
    int fd;
    int secure = popcorn_secure_execution();
    if (popcorn_parse_descriptor(value, &fd) != NULL) {
        if (secure)
            return;
        fatal("bad " POPCORN_CKPT_ENV, EINVAL);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        if (secure)
            return;
        fatal("the checkpoint descriptor is not open", EBADF);
    }
    if (S_ISFIFO(st.st_mode)) {
        answer_probe(fd, &st);
        if (secure)
            return;
        fatal("bad " POPCORN_CKPT_ENV " (a pipe from another process)", EINVAL);
    }
    if (secure && !own_checkpoint(fd, &st))
        return; /* someone else's file: this is an ordinary start */
    restore_checkpoint(fd);
}
