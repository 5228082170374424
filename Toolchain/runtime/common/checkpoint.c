/*
 * Checkpoint and exec: the source half of a process move (docs/PROCESS-MOVE.md).
 *
 * Everything the program can point to must keep its address on the destination, so the
 * checkpoint is simply every private mapping that holds program state (data, bss, heap,
 * anonymous mmaps, stacks, TLS blocks) with its address and contents, written to a memfd that
 * survives the exec.  The destination maps the saved pages back at the same addresses
 * (restore.c).  Only raw system calls are used once the snapshot starts, so the libc state that
 * is saved is exactly the state the program left.
 */
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
#include <sys/sysmacros.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ISA POPCORN_ISA_X86_64
#define THIS_MACHINE 62 /* EM_X86_64 */
#else
#define THIS_ISA POPCORN_ISA_AARCH64
#define THIS_MACHINE 183 /* EM_AARCH64 */
#endif

unsigned long long __popcorn_process_moves;
struct popcorn_move_timing __popcorn_move_timing;

#define MAX_REGIONS 4096
#define MAX_EXTENTS 32768
#define MAX_FDS 1024
#define MAX_SIGNALS 64
#define MAPS_BUFFER (512u * 1024u)
#define PATH_BYTES 4096

static uint64_t page_up(uint64_t value) { return (value + POPCORN_CKPT_PAGE - 1) & ~(POPCORN_CKPT_PAGE - 1); }

void popcorn_move_message(const char *first, const char *second, const char *third)
{
    const char *parts[3] = {first, second, third};
    for (int i = 0; i < 3; i++)
        if (parts[i])
            popcorn_sys(SYS_write, 2, parts[i], strlen(parts[i]));
}

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

/* ---- the move ----------------------------------------------------------------------------- */

extern char **__environ;
/* argv as the program received it (restore.c records it before main). */
extern char **__popcorn_saved_argv;

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

static void warn(enum popcorn_isa dst, const char *file, const char *reason)
{
    /* What makes a move impossible (a missing or untrusted sibling, no emulator) stays so for the
     * rest of the run: said once, not at every later request (POPCORN_MIGRATE_AT lists, repeated
     * popcorn_migrate calls). */
    static const char *said[8];
    if ((unsigned)dst < 8) {
        if (said[dst] == reason)
            return;
        said[dst] = reason;
    }
    char text[PATH_BYTES + 512];
    snprintf(text, sizeof text, "popcorn: warning: cannot migrate to %s: %s%s%s; continuing on %s\n",
             popcorn_isa_name(dst) ? popcorn_isa_name(dst) : "?", file ? file : "", file ? " " : "", reason,
             popcorn_isa_name(THIS_ISA));
    popcorn_move_message(text, NULL, NULL);
}

static void record_descriptors(struct scratch *s, int checkpoint_fd)
{
    long dir = popcorn_sys(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return;
    for (;;) {
        long got = popcorn_sys(SYS_getdents64, dir, s->dirents, sizeof s->dirents);
        if (got <= 0)
            break;
        for (long at = 0; at < got;) {
            /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[] */
            unsigned short reclen;
            memcpy(&reclen, s->dirents + at + 16, sizeof reclen);
            const char *name = s->dirents + at + 19;
            at += reclen;
            if (name[0] < '0' || name[0] > '9')
                continue;
            int fd = atoi(name);
            /* The sibling's descriptor is the mover's own: left close-on-exec, it ends with this
             * image (recorded, it was kept open by every later process, one more each hop). */
            if (fd == dir || fd == checkpoint_fd || fd == s->sibling.fd || s->header.fd_count == MAX_FDS)
                continue;
            long flags = popcorn_sys(SYS_fcntl, fd, F_GETFD, 0);
            if (flags < 0 || !(flags & FD_CLOEXEC))
                continue;
            s->fds[s->header.fd_count].fd = fd;
            s->fds[s->header.fd_count].fd_flags = (int32_t)flags;
            s->header.fd_count++;
            popcorn_sys(SYS_fcntl, fd, F_SETFD, flags & ~FD_CLOEXEC);
        }
    }
    popcorn_sys(SYS_close, dir);
}

static void restore_descriptors(const struct scratch *s)
{
    for (uint32_t i = 0; i < s->header.fd_count; i++)
        popcorn_sys(SYS_fcntl, s->fds[i].fd, F_SETFD, s->fds[i].fd_flags);
}

static void record_signals(struct scratch *s)
{
    for (int sig = 1; sig <= MAX_SIGNALS && s->header.signal_count < MAX_SIGNALS; sig++) {
        struct sigaction action;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &action) != 0)
            continue;
        if (action.sa_handler == SIG_DFL)
            continue;
        struct popcorn_ckpt_signal *record = &s->signals[s->header.signal_count++];
        memset(record, 0, sizeof *record);
        record->signal = sig;
        record->flags = action.sa_flags;
        record->handler = (uint64_t)(uintptr_t)action.sa_handler;
        memcpy(record->mask, &action.sa_mask,
               sizeof action.sa_mask < sizeof record->mask ? sizeof action.sa_mask : sizeof record->mask);
    }
    stack_t alternate;
    if (popcorn_sys(SYS_sigaltstack, NULL, &alternate) == 0) {
        s->header.altstack_sp = (uint64_t)(uintptr_t)alternate.ss_sp;
        s->header.altstack_size = alternate.ss_size;
        s->header.altstack_flags = alternate.ss_flags;
    }
}

/* Seals a memfd checkpoint against any change (an O_TMPFILE one cannot be sealed). */
static long seal(long fd)
{
    long status = popcorn_sys(SYS_fcntl, fd, F_ADD_SEALS, POPCORN_CKPT_SEALS);
    return status == -EINVAL && !popcorn_secure_execution() ? 0 : status;
}

/* Closes the descriptors of shared file mappings a checkpoint opened for the destination. */
static void close_shared_files(const struct scratch *s)
{
    for (uint32_t i = 0; i < s->header.region_count; i++)
        if (s->regions[i].kind == POPCORN_CKPT_REGION_SHARED_FILE && s->regions[i].fd >= 0)
            popcorn_sys(SYS_close, s->regions[i].fd);
}

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
static long write_checkpoint(struct scratch *s, int fd, uint64_t scratch_bytes, enum popcorn_isa dst,
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
    h->header_size = page_up(h->signals_offset + h->signal_count * sizeof(struct popcorn_ckpt_signal));
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

/* Writable segments of every binary this run has executed (carried across hops with the rest
 * of .bss: this object is at one address on every ISA). */
static uint64_t visited[POPCORN_HANDOVER_VISITED][2];
static uint32_t visited_count;

static void remember_segments(const struct popcorn_exe_layout *layout)
{
    for (uint32_t i = 0; i < layout->segment_count; i++) {
        uint32_t k = 0;
        while (k < visited_count &&
               !(visited[k][0] == layout->segments[i].start && visited[k][1] == layout->segments[i].size))
            k++;
        if (k == visited_count && visited_count < POPCORN_HANDOVER_VISITED) {
            visited[k][0] = layout->segments[i].start;
            visited[k][1] = layout->segments[i].size;
            visited_count++;
        }
    }
}

/* envp plus POPCORN_CHECKPOINT_FD (replacing any inherited one), built in `slots`.  A
 * secure-execution process passes nothing else: the environment came from its unprivileged
 * caller, and the emulator and loader read variables of their own (QEMU_*, …); the program's
 * environment itself is in the memory the destination restores. */
static char **build_environment(struct scratch *s, char **slots, size_t capacity, int fd)
{
    snprintf(s->fd_variable, sizeof s->fd_variable, "%s=%d", POPCORN_CKPT_ENV, fd);
    size_t n = 0, prefix = strlen(POPCORN_CKPT_ENV);
    for (char **e = popcorn_secure_execution() ? NULL : __environ; e && *e && n + 2 < capacity; e++)
        if (!(strncmp(*e, POPCORN_CKPT_ENV, prefix) == 0 && (*e)[prefix] == '='))
            slots[n++] = *e;
    slots[n++] = s->fd_variable;
    slots[n] = NULL;
    return slots;
}

int __popcorn_move_to_regs(enum popcorn_isa dst, const struct popcorn_move_regs *regs)
{
    uint64_t request_ns = __popcorn_move_timing.request_ns ? __popcorn_move_timing.request_ns : popcorn_monotonic_ns();
    __popcorn_move_timing.request_ns = 0;
    /* The previous restore's private stack and tables are not program state. */
    if (__popcorn_restore_leftover[1] > __popcorn_restore_leftover[0]) {
        popcorn_sys(SYS_munmap, __popcorn_restore_leftover[0], __popcorn_restore_leftover[1] - __popcorn_restore_leftover[0]);
        __popcorn_restore_leftover[0] = __popcorn_restore_leftover[1] = 0;
    }
    if (!popcorn_isa_name(dst) || !regs) {
        warn(dst, NULL, "unknown destination");
        return -1;
    }
    /* Across ISAs the destination needs this binary's TLS block and the symbol table to find
     * the per-ISA libc objects; without them the move would fail after the exec, so it is
     * refused here and the program continues. */
    struct popcorn_exe_layout layout;
    if (dst != THIS_ISA && popcorn_read_exe_layout(&layout) != 0) {
        warn(dst, NULL, "the binary has no symbol table or TLS segment to hand libc state over with "
                        "(linked with -s?)");
        return -1;
    }
    /* The running binary's own mappings are not carried (the destination binary has its code
     * and constants at the same addresses): they are told by the file's device and inode. */
    struct stat exe;
    int exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int have_exe = exe_fd >= 0 && fstat(exe_fd, &exe) == 0;
    if (exe_fd >= 0)
        close(exe_fd);
    if (!have_exe) {
        warn(dst, "/proc/self/exe", "cannot be opened to tell the running binary's mappings");
        return -1;
    }
    size_t env_count = 0, arg_count = 0;
    for (char **e = __environ; e && *e; e++) env_count++;
    for (char **a = __popcorn_saved_argv; a && *a; a++) arg_count++;
    size_t vector_bytes = (env_count + arg_count + 8) * sizeof(char *);
    size_t scratch_bytes = page_up(sizeof(struct scratch)) + page_up(vector_bytes) + POPCORN_CKPT_PAGE;
    void *memory = mmap(NULL, scratch_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        warn(dst, NULL, "out of memory");
        return -1;
    }
    struct scratch *s = memory;
    char **vectors = (char **)((char *)memory + page_up(sizeof(struct scratch)));

    /* Everything that can make the move fail is checked before the point of no return (the
     * exec): the sibling, and that the emulator runs it. */
    const char *why = popcorn_find_sibling(dst, &s->sibling);
    if (why) {
        warn(dst, s->sibling.path, why);
        munmap(memory, scratch_bytes);
        return -1;
    }
    char **argv = vectors;
    char **envp = vectors + arg_count + 5;
    build_environment(s, envp, env_count + 2, -1);
    int native = dst == POPCORN_ISA_X86_64 || THIS_ISA == POPCORN_ISA_AARCH64;
    if (!native) {
        why = popcorn_find_emulator(s->qemu);
        if (!why) {
            /* The probe is an emulator start-up, like the one after the exec: it is not counted
             * in the checkpoint's time. */
            uint64_t probe_started = popcorn_monotonic_ns();
            why = popcorn_probe_emulator(s->qemu, &s->sibling, envp);
            request_ns += popcorn_monotonic_ns() - probe_started;
        }
        if (why) {
            warn(dst, s->qemu, why);
            close(s->sibling.fd);
            munmap(memory, scratch_bytes);
            return -1;
        }
    }

    /* No handler may run between the snapshot and the restore: handlers are reset by exec. */
    uint64_t all = ~0ull, old_mask = 0;
    popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old_mask, 8);

    /* A sealed memfd: once written nobody can change it, and the destination can tell it from
     * a file someone else made (restore.c accepts nothing else in a secure-execution process). */
    long fd = popcorn_sys(SYS_memfd_create, POPCORN_CKPT_MEMFD_NAME, MFD_ALLOW_SEALING);
    if (fd < 0 && !popcorn_secure_execution())
        fd = popcorn_sys(SYS_openat, AT_FDCWD, "/tmp", O_TMPFILE | O_RDWR, 0600);
    if (fd < 0) {
        popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &old_mask, NULL, 8);
        warn(dst, NULL, "cannot create the checkpoint file");
        close(s->sibling.fd);
        munmap(memory, scratch_bytes);
        return -1;
    }

    struct popcorn_ckpt_header *h = &s->header;
    h->magic = POPCORN_CKPT_MAGIC;
    h->version = POPCORN_CKPT_VERSION;
    h->source_isa = THIS_ISA;
    h->destination_isa = dst;
    h->regs = *regs;
    h->request_ns = request_ns;
    h->source_tp = popcorn_thread_pointer();
    if (dst != THIS_ISA) {
        h->tls_start = layout.tls_block;
        h->tls_size = layout.tls_size;
        remember_segments(&layout);
        h->segment_count = visited_count;
        memcpy(h->segments, visited, sizeof visited);
    }
    h->signal_mask[0] = old_mask;
    h->checkpoint_fd = (int32_t)fd;
    h->creator_pid = (uint32_t)popcorn_sys(SYS_getpid, 0);
    memcpy(h->link_identity, s->sibling.identity, sizeof h->link_identity);
    record_descriptors(s, (int)fd);
    record_signals(s);

    size_t a = 0;
    if (!native) {
        argv[a++] = s->qemu;
        argv[a++] = "-0"; /* the program's argv[0]: the name the sibling was found under */
        argv[a++] = s->sibling.path;
    }
    argv[a++] = s->sibling.path; /* argv[0] names the binary actually run, like a shell would */
    for (size_t i = 1; i < arg_count; i++)
        argv[a++] = __popcorn_saved_argv[i];
    argv[a] = NULL;
    build_environment(s, envp, env_count + 2, (int)fd);

    __popcorn_process_moves++; /* saved with the memory: the destination sees the move counted */
    const char *refusal = NULL;
    long status = write_checkpoint(s, (int)fd, scratch_bytes, dst, &exe, &refusal);
    if (status == 0)
        status = seal(fd);
    if (status == 0) {
        if (native) {
            /* The verified file itself, not whatever has its name by now. */
            status = popcorn_sys(SYS_execveat, s->sibling.fd, "", argv, envp, AT_EMPTY_PATH);
            /* qemu-user 7.2 has no execveat, and a binfmt_misc interpreter cannot open a
             * close-on-exec descriptor: then the name, checked just now (a failed exec has
             * changed nothing). */
            if (status < 0)
                status = popcorn_sys(SYS_execve, s->sibling.path, argv, envp);
            if (status < 0 && dst == POPCORN_ISA_AARCH64 && popcorn_find_emulator(s->qemu) == NULL) {
                /* An aarch64 process under qemu-user on another host: the emulator it runs under
                 * runs the sibling too. */
                memmove(argv + 3, argv, (a + 1) * sizeof *argv);
                argv[0] = s->qemu;
                argv[1] = "-0";
                argv[2] = s->sibling.path;
                status = popcorn_sys(SYS_execve, s->qemu, argv, envp);
            }
        } else {
            status = popcorn_sys(SYS_execve, s->qemu, argv, envp);
        }
    }
    __popcorn_process_moves--;
    close_shared_files(s);
    restore_descriptors(s);
    popcorn_sys(SYS_close, fd);
    popcorn_sys(SYS_close, s->sibling.fd);
    popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &old_mask, NULL, 8);
    warn(dst, NULL, refusal ? refusal : status == -E2BIG ? "too many mappings" : strerror((int)-status));
    munmap(memory, scratch_bytes);
    return -1;
}

int __popcorn_move_here(enum popcorn_isa dst)
{
    if (dst != THIS_ISA) {
        warn(dst, NULL, "a move without stack transformation stays on the same ISA");
        return -1;
    }
    struct popcorn_move_regs regs;
    memset(&regs, 0, sizeof regs);
    if (__popcorn_capture_regs(&regs) != 0)
        return 0; /* resumed in the new process */
    regs.gpr[0] = 1; /* what __popcorn_capture_regs returns on resumption */
    regs.tp = popcorn_thread_pointer();
    return __popcorn_move_to_regs(dst, &regs);
}
