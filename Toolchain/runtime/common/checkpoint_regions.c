/*
 * Checkpoint: which mappings a moving process saves, and writing them (docs/PROCESS-MOVE.md,
 * "Checkpoint", step 7, "What is carried" and "Long chains and signal storms").
 *
 * /proc/self/maps is read once the snapshot has started: every mapping that holds program state
 * becomes a region (the kernel's vDSO is only recorded, shared mappings are carried by file or by
 * contents), and what nothing will refer to on the destination is cut out — the checkpoint's own
 * scratch memory and the dead initial stacks of earlier processes.  Then the header, the region
 * table, the saved pages (checkpoint_pages.c) and the extent table are written.  Apart from
 * checkpoint.c, which prepares the move and runs the exec: this is the snapshot itself, raw
 * system calls only, so the libc state it saves is exactly the program's.
 */
#include "checkpoint_internal.h"
#include "stack/metadata.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>


/* ---- what to save ------------------------------------------------------------------------- */

struct snapshot {
    struct popcorn_ckpt_header *header;
    struct popcorn_ckpt_region *regions;
    unsigned char *anonymous; /* per region: anonymous memory (the page map can tell zero pages) */
    unsigned char *probe;     /* per region: a file mapping whose pages may lie past the file's end */
    struct popcorn_ckpt_cuts cuts; /* left out: the scratch memory, dead initial stacks */
    uint64_t exe_major, exe_minor, exe_inode; /* the running executable */
    int first_process;        /* no move has happened yet: the [stack] is the original one */
    char *smaps;              /* buffer for /proc/thread-self/smaps */
    size_t smaps_size;
    int overflow;
    const char *refusal;      /* why the move cannot happen (one warning, the program goes on) */
};

/* The first process's initial stack: argv, the environment and the auxiliary vector the program
 * started with live there for the whole run (carried in .bss). */
static uint64_t original_stack[2];

static int special_index(const char *name)
{
    if (strcmp(name, "[vvar]") == 0) return POPCORN_CKPT_VVAR;
    if (strcmp(name, "[vvar_vclock]") == 0) return POPCORN_CKPT_VVAR_VCLOCK;
    if (strcmp(name, "[vdso]") == 0) return POPCORN_CKPT_VDSO;
    return -1;
}

static int ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

/* A descriptor of the file `entry` maps, checked to be that very file (device and inode), for the
 * restore to map it again MAP_SHARED: /proc/self/map_files gives the mapped object even when its
 * name is gone (a memfd, a SysV segment, a deleted file) where the kernel allows it; otherwise the
 * path, when it still names the file.  Not close-on-exec: it must survive the exec.  -1 if none. */
static long open_mapped_file(const struct popcorn_map_entry *entry)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/map_files/%llx-%llx", (unsigned long long)entry->start,
             (unsigned long long)entry->end);
    int access = entry->writable ? O_RDWR : O_RDONLY;
    const char *candidates[2] = {path, entry->name_truncated || ends_with(entry->name, " (deleted)") ? NULL : entry->name};
    for (int i = 0; i < 2; i++) {
        if (!candidates[i])
            continue;
        long fd = popcorn_sys(SYS_openat, AT_FDCWD, candidates[i], access);
        if (fd < 0)
            continue;
        struct stat st;
        if (popcorn_sys(SYS_fstat, fd, &st) == 0 && major(st.st_dev) == entry->device_major &&
            minor(st.st_dev) == entry->device_minor && st.st_ino == entry->inode)
            return fd;
        popcorn_sys(SYS_close, fd);
    }
    return -1;
}

/* The C library's heap file (docs/LIBC.md, "The heap file"); a weak reference, since the native
 * C library has none. */
extern int __popcorn_heap_descriptor(void) __attribute__((weak));

/* The heap file's descriptor when `entry` maps it, else -1. */
static long heap_descriptor(const struct popcorn_map_entry *entry)
{
    int fd = __popcorn_heap_descriptor ? __popcorn_heap_descriptor() : -1;
    struct stat st;
    if (fd < 0 || popcorn_sys(SYS_fstat, fd, &st) != 0)
        return -1;
    return major(st.st_dev) == entry->device_major && minor(st.st_dev) == entry->device_minor &&
                   st.st_ino == entry->inode ? fd : -1;
}

/* Cuts `entry` around the first left-out range it meets; returns 1 when it did. */
static int cut_out(const struct popcorn_map_entry *entry, struct snapshot *snap,
                   void (*visit)(const struct popcorn_map_entry *, void *))
{
    for (uint32_t i = 0; i < snap->cuts.count; i++) {
        uint64_t low = snap->cuts.range[i][0], high = snap->cuts.range[i][1];
        if (!(entry->start < high && low < entry->end))
            continue;
        /* The kernel may have merged the range with a neighbouring mapping of the program,
         * whose parts are kept. */
        struct popcorn_map_entry part = *entry;
        if (entry->start < low) {
            part.end = low;
            visit(&part, snap);
        }
        if (high < entry->end) {
            part.start = high;
            part.end = entry->end;
            visit(&part, snap);
        }
        return 1;
    }
    return 0;
}

static struct popcorn_ckpt_region *add_region(struct snapshot *snap, const struct popcorn_map_entry *entry,
                                              uint32_t kind, int anonymous, int probe)
{
    if (snap->header->region_count == MAX_REGIONS) {
        snap->overflow = 1;
        return NULL;
    }
    snap->anonymous[snap->header->region_count] = (unsigned char)anonymous;
    snap->probe[snap->header->region_count] = (unsigned char)probe;
    struct popcorn_ckpt_region *region = &snap->regions[snap->header->region_count++];
    memset(region, 0, sizeof *region);
    region->start = entry->start;
    region->end = entry->end;
    region->prot = (entry->readable ? PROT_READ : 0) | (entry->writable ? PROT_WRITE : 0) |
                   (entry->executable ? PROT_EXEC : 0);
    region->kind = kind;
    region->fd = -1;
    return region;
}

/* Shared mappings: a file's pages stay shared with the file (a descriptor crosses the exec), and
 * anonymous shared memory only this process maps is carried as contents.  What another process
 * shares cannot follow the move. */
static void collect_shared(const struct popcorn_map_entry *entry, struct snapshot *snap)
{
    /* MAP_SHARED|MAP_ANONYMOUS memory is a deleted shmem file named /dev/zero. */
    if (strcmp(entry->name, "/dev/zero (deleted)") == 0) {
        long elsewhere = popcorn_mapped_elsewhere(snap->smaps, snap->smaps_size, entry->start, entry->end);
        if (elsewhere != 0) {
            snap->refusal = elsewhere > 0 ? "MAP_SHARED anonymous memory is shared with another process (a fork?)"
                                          : "cannot tell whether MAP_SHARED anonymous memory is shared with another process";
            return;
        }
        add_region(snap, entry, POPCORN_CKPT_REGION_SHARED_ANON, 0, 0);
        return;
    }
    /* The heap file: its own descriptor crosses the exec with the program's others. */
    long heap = heap_descriptor(entry);
    if (heap >= 0) {
        struct popcorn_ckpt_region *region = add_region(snap, entry, POPCORN_CKPT_REGION_SHARED_FILE, 0, 0);
        if (region) {
            region->fd = (int32_t)heap;
            region->flags = POPCORN_CKPT_REGION_PROGRAM_FD;
            region->file_offset = entry->offset;
        }
        return;
    }
    long fd = entry->name[0] == '/' ? open_mapped_file(entry) : -1;
    if (fd < 0) {
        snap->refusal = "a MAP_SHARED mapping's file cannot be opened again (deleted, a SysV segment or a memfd?)";
        return;
    }
    struct popcorn_ckpt_region *region = add_region(snap, entry, POPCORN_CKPT_REGION_SHARED_FILE, 0, 0);
    if (!region) {
        popcorn_sys(SYS_close, fd);
        return;
    }
    region->fd = (int32_t)fd;
    region->file_offset = entry->offset;
}

/* Under qemu-user the guest's list leaves out mappings the host kernel merged or ordered past
 * qemu's own (checkpoint_maps.c); the heap file's are found in the host's list, where guest
 * addresses are host addresses. */
static void collect_unlisted_heap(const struct popcorn_map_entry *entry, void *context)
{
    struct snapshot *snap = context;
    if (!entry->shared || snap->refusal || heap_descriptor(entry) < 0)
        return;
    for (uint32_t i = 0; i < snap->header->region_count; i++)
        if (snap->regions[i].start < entry->end && entry->start < snap->regions[i].end)
            return; /* listed */
    collect_shared(entry, snap);
}

static void collect_region(const struct popcorn_map_entry *entry, void *context)
{
    struct snapshot *snap = context;
    int special = special_index(entry->name);
    if (special >= 0) {
        snap->header->specials[special].start = entry->start;
        snap->header->specials[special].end = entry->end;
        return;
    }
    if (strcmp(entry->name, "[vsyscall]") == 0 || snap->refusal)
        return; /* the kernel's fixed page */
    if (cut_out(entry, snap, collect_region))
        return;
    int is_stack = strcmp(entry->name, "[stack]") == 0;
    if (is_stack && snap->first_process) {
        original_stack[0] = entry->start;
        original_stack[1] = entry->end;
    }
    if (entry->shared) {
        collect_shared(entry, snap);
        return;
    }
    int anonymous = entry->name[0] == '\0' || entry->name[0] == '[';
    int executable_file = !anonymous && entry->inode == snap->exe_inode && entry->device_major == snap->exe_major &&
                          entry->device_minor == snap->exe_minor;
    uint32_t kind;
    if (executable_file && !entry->writable)
        return; /* the running binary's code and constants: the destination binary has its own there */
    if (entry->writable || (entry->readable && !(anonymous && entry->executable)))
        kind = is_stack ? POPCORN_CKPT_REGION_STACK : POPCORN_CKPT_REGION_DATA;
    else if (!entry->readable && !entry->executable)
        kind = POPCORN_CKPT_REGION_RESERVE; /* guard pages; an inaccessible file mapping's pages are not read */
    else
        return; /* anonymous code (the vDSO is a special above): nothing a program keeps across ISAs */
    /* A previous restore's pages are mapped from its checkpoint, which holds every one of them;
     * other files may end before their mapping does. */
    int probe = !anonymous && !executable_file && strncmp(entry->name, "/memfd:" POPCORN_CKPT_MEMFD_NAME " ",
                                                          sizeof "/memfd:" POPCORN_CKPT_MEMFD_NAME) != 0;
    add_region(snap, entry, kind, anonymous, probe);
}

/* ---- writing the checkpoint --------------------------------------------------------------- */

static int same_range(const uint64_t *a, const uint64_t *b) { return a[0] == b[0] && a[1] == b[1]; }

/* Leaves out memory of an earlier process's start-up that the destination will not refer to (the
 * brk memory a restored process's libc allocated before its restore: `dst` POPCORN_ISA_COUNT, always
 * left out), or an initial stack of an earlier process: each
 * exec gives the new process a stack of its own at a random place, and carrying them all made the
 * set of restored mappings grow with every hop until one landed on the destination's (or
 * qemu-user's) own memory.  Needed are the first process's stack (argv, environment) and, when the
 * destination keeps this process's libc state (same ISA), the one its auxiliary vector is in; a
 * move between ISAs keeps the destination's own.  Never the stack the program resumes on. */
static void cut_dead_memory(struct snapshot *snap, const uint64_t *stack, enum popcorn_isa dst, uint64_t resume_sp)
{
    if (stack[1] <= stack[0] || same_range(stack, original_stack) ||
        (dst == THIS_ISA && same_range(stack, __popcorn_auxv_stack)) ||
        (stack[0] <= resume_sp && resume_sp < stack[1]) || snap->cuts.count == POPCORN_CKPT_CUTS)
        return;
    snap->cuts.range[snap->cuts.count][0] = stack[0];
    snap->cuts.range[snap->cuts.count][1] = stack[1];
    snap->cuts.count++;
}

/* Writes the checkpoint; 0, -errno, or 1 with *refusal saying why the move cannot happen. */
long popcorn_checkpoint_write(struct scratch *s, int fd, uint64_t scratch_bytes, enum popcorn_isa dst,
                              const struct stat *exe, const char **refusal)
{
    /* The last page of the scratch mapping is never touched: it checks the page map. */
    const void *untouched = (const char *)s + scratch_bytes - POPCORN_CKPT_PAGE;
    struct snapshot snap;
    memset(&snap, 0, sizeof snap);
    snap.header = &s->header;
    snap.regions = s->regions;
    snap.anonymous = s->anonymous;
    snap.probe = s->probe;
    snap.cuts.range[0][0] = (uint64_t)(uintptr_t)s;
    snap.cuts.range[0][1] = (uint64_t)(uintptr_t)s + scratch_bytes;
    snap.cuts.count = 1;
    popcorn_metadata_foreign_mapping(snap.cuts.range[1]);
    if (snap.cuts.range[1][1] > snap.cuts.range[1][0])
        snap.cuts.count = 2;
    snap.exe_major = major(exe->st_dev);
    snap.exe_minor = minor(exe->st_dev);
    snap.exe_inode = exe->st_ino;
    snap.first_process = __popcorn_process_moves == 1; /* counted before the snapshot */
    snap.smaps = s->host_maps; /* free until the qemu-user correction below */
    snap.smaps_size = sizeof s->host_maps;
    uint64_t resume_sp = s->header.regs.gpr[dst == POPCORN_ISA_X86_64 ? POPCORN_MOVE_SP_X86_64 : POPCORN_MOVE_SP_AARCH64];
    if (!snap.first_process) {
        cut_dead_memory(&snap, __popcorn_own_heap, POPCORN_ISA_COUNT, resume_sp);
        cut_dead_memory(&snap, __popcorn_own_stack, dst, resume_sp);
        if (dst != THIS_ISA && !same_range(__popcorn_auxv_stack, __popcorn_own_stack))
            cut_dead_memory(&snap, __popcorn_auxv_stack, dst, resume_sp);
    }
    s->header.region_count = 0;
    long entries = popcorn_read_maps(s->maps, sizeof s->maps, collect_region, &snap);
    if (entries < 0)
        return entries;
    long host = popcorn_read_host_maps(s->maps, s->host_maps, sizeof s->host_maps, collect_unlisted_heap, &snap);
    if (host < 0)
        return host;
    if (snap.refusal) {
        *refusal = snap.refusal;
        return 1;
    }
    if (snap.overflow)
        return -E2BIG;
    uint32_t listed = s->header.region_count;
    long hidden = popcorn_add_hidden_guest_regions(s->maps, s->host_maps, sizeof s->host_maps, s->regions,
                                                   &s->header.region_count, MAX_REGIONS, &snap.cuts);
    if (hidden < 0)
        return hidden;
    for (uint32_t i = listed; i < s->header.region_count; i++) {
        s->anonymous[i] = 1;
        s->probe[i] = 0;
        s->regions[i].fd = -1;
    }
    struct popcorn_ckpt_header *h = &s->header;
    h->regions_offset = sizeof *h;
    h->fds_offset = h->regions_offset + h->region_count * sizeof(struct popcorn_ckpt_region);
    h->signals_offset = h->fds_offset + h->fd_count * sizeof(struct popcorn_ckpt_fd);
    h->header_size = popcorn_ckpt_page_up(h->signals_offset + h->signal_count * sizeof(struct popcorn_ckpt_signal));
    long pagemap = popcorn_open_pagemap(s, untouched);
    uint64_t offset = h->header_size;
    h->extent_count = 0;
    h->data_bytes = 0;
    long status = 0;
    uint64_t mapped = 0;
    for (uint32_t i = 0; i < h->region_count && status == 0; i++) {
        struct popcorn_ckpt_region *region = &s->regions[i];
        if (region->kind == POPCORN_CKPT_REGION_RESERVE || region->kind == POPCORN_CKPT_REGION_SHARED_FILE)
            continue; /* an address range only; the file itself holds a shared mapping's pages */
        mapped += region->end - region->start;
        status = popcorn_save_region_pages(fd, region, s->anonymous[i], s->probe[i], pagemap, s->extents,
                                           &h->extent_count, MAX_EXTENTS, &offset, &h->data_bytes);
    }
    if (pagemap >= 0)
        popcorn_sys(SYS_close, pagemap);
    if (status < 0)
        return status;
    /* The extent table follows the data: its length is known only now. */
    h->extents_offset = offset;
    h->file_size = offset + h->extent_count * sizeof *s->extents;
    __popcorn_move_timing.data_bytes = h->data_bytes;
    __popcorn_move_timing.mapped_bytes = mapped;
    h->checkpoint_done_ns = popcorn_monotonic_ns();
    if ((status = popcorn_write_all(fd, h, sizeof *h, 0)) < 0 ||
        (status = popcorn_write_all(fd, s->regions, h->region_count * sizeof *s->regions, h->regions_offset)) < 0 ||
        (status = popcorn_write_all(fd, s->extents, h->extent_count * sizeof *s->extents, h->extents_offset)) < 0 ||
        (status = popcorn_write_all(fd, s->fds, h->fd_count * sizeof *s->fds, h->fds_offset)) < 0 ||
        (status = popcorn_write_all(fd, s->signals, h->signal_count * sizeof *s->signals, h->signals_offset)) < 0)
        return status;
    return 0;
}
