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
 *
 * The steps are spread over three files: this one (the constructor, the checks made before
 * anything is changed, and the sequence on the private stack), restore_memory.c (placing the
 * restore's own area, the vDSO and the saved regions) and restore_collisions.c (starting again
 * when this process's own memory lies where a saved region must go).
 */
#include "restore_internal.h"
#include "settings.h"
#include "sibling.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH_SET_FS 0x1002 /* asm/prctl.h, not in musl's headers */
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

/* Weak: metadata_load.c (in migrate.o) is linked into every program with migration points. */
extern void __popcorn_metadata_forget(void) __attribute__((weak));
/* The portable C library's heap file (docs/LIBC.md); the native one has none. */
extern int __popcorn_heap_private(void) __attribute__((weak));

_Noreturn void popcorn_restore_fatal(const char *what, long error)
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

static void set_thread_pointer(uint64_t tp)
{
#if defined(__x86_64__)
    long status = popcorn_native_sys6(158 /* arch_prctl */, ARCH_SET_FS, (long)tp, 0, 0, 0, 0);
    if (status < 0)
        popcorn_restore_fatal("cannot set the thread pointer", status);
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
 * checkpoint leaves out (checkpoint_regions.c, cut_dead_memory): its initial stack unless the
 * destination needs it, and the brk memory its libc allocated before the restore (the restored
 * allocator never refers to it).  A move between ISAs keeps this process's libc state, whose
 * auxiliary vector pointer points into this process's stack. */
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
        popcorn_restore_move_specials(area);
    /* The C library this process started with may have used the object stack before this
     * constructor ran; that region is not the program's (its own comes back with the memory). */
    uint64_t own_objects[2] = {__popcorn_object_stack_mapping[0], __popcorn_object_stack_mapping[1]};
    popcorn_restore_map_regions(area);
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
    if (h->personality & ADDR_NO_RANDOMIZE)
        popcorn_sys(SYS_personality, h->personality);
    uint64_t mask = h->signal_mask[0];
    __popcorn_move_timing.restore_ns = popcorn_monotonic_ns() - area->started_ns;
    popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
    /* The source was serving a migration point when it saved this thread's TLS block, and the
     * restore above calls the C library (sigaction), whose points are not the program's: the
     * mark goes only now, as the program resumes. */
    __popcorn_serving_point = 0;
    __popcorn_resume_regs(&regs);
}

static void restore_checkpoint(int fd)
{
    uint64_t started_ns = popcorn_monotonic_ns();
    long first = popcorn_sys(SYS_mmap, 0, POPCORN_CKPT_PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (first < 0 && first > -4096)
        popcorn_restore_fatal("cannot read the checkpoint", first);
    const struct popcorn_ckpt_header *peek = (const void *)first;
    if (peek->magic != POPCORN_CKPT_MAGIC || peek->version != POPCORN_CKPT_VERSION)
        popcorn_restore_fatal("the checkpoint is not in this runtime's format", EINVAL);
    if (peek->destination_isa != THIS_ISA)
        popcorn_restore_fatal("the checkpoint is for another ISA", EINVAL);
    /* What this process allocates before its memory is replaced (the link identity's section
     * table) stays private memory: a heap file of its own would be one more descriptor and
     * mapping carried on every hop.  The restored memory brings the program's heap file back. */
    if (__popcorn_heap_private)
        __popcorn_heap_private();
    unsigned char identity[POPCORN_LINK_IDENTITY_DIGEST];
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    const char *why = self >= 0 ? popcorn_read_link_identity(self, 0, identity) : "cannot be opened";
    if (self >= 0)
        close(self);
    if (why)
        popcorn_restore_fatal("this binary's link identity cannot be read", ENOEXEC);
    if (memcmp(identity, peek->link_identity, sizeof identity) != 0)
        popcorn_restore_fatal("the checkpoint comes from a binary of another link", EINVAL);
    uint64_t header_size = peek->header_size;
    popcorn_sys(SYS_munmap, first, POPCORN_CKPT_PAGE);
    long whole = popcorn_sys(SYS_mmap, 0, header_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (whole < 0 && whole > -4096)
        popcorn_restore_fatal("cannot read the checkpoint", whole);
    const struct popcorn_ckpt_header *header = (const void *)whole;
    const struct popcorn_ckpt_region *regions = (const void *)(whole + header->regions_offset);

    popcorn_restore_avoid_own_mappings(header, regions);

    /* Across ISAs: what to keep from this process, read while its libc is still its own. */
    struct popcorn_exe_layout own = {0};
    struct popcorn_handover_range kept[KEPT_RANGES];
    uint32_t kept_count = 0;
    uint64_t kept_size = 0;
    if (header->source_isa != THIS_ISA) {
        long status = popcorn_read_exe_layout(&own);
        if (status < 0)
            popcorn_restore_fatal("cannot read this executable's symbols and TLS segment", status);
        if (own.tls_size != header->tls_size)
            popcorn_restore_fatal("the TLS blocks of the two binaries differ", EINVAL);
        kept_count = popcorn_kept_ranges(&own, header, kept, KEPT_RANGES);
        if (kept_count == KEPT_RANGES)
            popcorn_restore_fatal("too many per-ISA ranges to keep", E2BIG);
        for (uint32_t i = 0; i < kept_count; i++)
            kept_size += kept[i].size;
        kept_size += header->tls_size;
    }

    uint64_t tables_size = popcorn_ckpt_page_up(sizeof(struct restore_area) + header_size);
    uint64_t extents_size = popcorn_ckpt_page_up(header->extent_count * sizeof(struct popcorn_ckpt_extent));
    uint64_t size = tables_size + extents_size + popcorn_ckpt_page_up(kept_size) + RESTORE_STACK;
    struct restore_area *area = popcorn_restore_place_area(header, regions, size);
    memcpy(&area->header, header, sizeof *header);
    area->started_ns = started_ns;
    struct popcorn_ckpt_extent *extents = (struct popcorn_ckpt_extent *)((char *)area + tables_size);
    uint64_t extent_bytes = header->extent_count * sizeof(struct popcorn_ckpt_extent);
    for (uint64_t got = 0; got < extent_bytes;) {
        long n = popcorn_sys(SYS_pread64, fd, (char *)extents + got, extent_bytes - got, header->extents_offset + got);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            popcorn_restore_fatal("cannot read the checkpoint's extent table", n < 0 ? n : EIO);
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
        popcorn_restore_fatal("cannot read /proc/self/maps", entries);
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
        popcorn_restore_fatal("bad " POPCORN_CKPT_ENV, EINVAL);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        if (secure)
            return;
        popcorn_restore_fatal("the checkpoint descriptor is not open", EBADF);
    }
    if (S_ISFIFO(st.st_mode)) {
        answer_probe(fd, &st);
        if (secure)
            return;
        popcorn_restore_fatal("bad " POPCORN_CKPT_ENV " (a pipe from another process)", EINVAL);
    }
    if (secure && !own_checkpoint(fd, &st))
        return; /* someone else's file: this is an ordinary start */
    restore_checkpoint(fd);
}
