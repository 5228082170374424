/*
 * Checkpoint and exec: the source half of a process move (docs/PROCESS-MOVE.md).
 *
 * Everything the program can point to must keep its address on the destination, so the
 * checkpoint is simply every private mapping that holds program state (data, bss, heap,
 * anonymous mmaps, stacks, TLS blocks) with its address and contents, written to a memfd that
 * survives the exec.  The destination maps the saved pages back at the same addresses
 * (restore.c).  Only raw system calls are used once the snapshot starts, so the libc state that
 * is saved is exactly the state the program left.
 *
 * This file prepares the move and runs the exec (what may fail is checked before the point of no
 * return); checkpoint_regions.c decides which mappings are saved and writes the checkpoint.
 */
#include "checkpoint_internal.h"
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

unsigned long long __popcorn_process_moves;
struct popcorn_move_timing __popcorn_move_timing;


void popcorn_move_message(const char *first, const char *second, const char *third)
{
    const char *parts[3] = {first, second, third};
    for (int i = 0; i < 3; i++)
        if (parts[i])
            popcorn_sys(SYS_write, 2, parts[i], strlen(parts[i]));
}

/* ---- the move ----------------------------------------------------------------------------- */

extern char **__environ;
/* argv as the program received it (restore.c records it before main). */
extern char **__popcorn_saved_argv;

void __popcorn_move_refused(enum popcorn_isa dst, const char *file, const char *reason)
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
        if (s->regions[i].kind == POPCORN_CKPT_REGION_SHARED_FILE && s->regions[i].fd >= 0 &&
            !(s->regions[i].flags & POPCORN_CKPT_REGION_PROGRAM_FD))
            popcorn_sys(SYS_close, s->regions[i].fd);
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
        __popcorn_move_refused(dst, NULL, "unknown destination");
        return -1;
    }
    /* Across ISAs the destination needs this binary's TLS block and the symbol table to find
     * the per-ISA libc objects; without them the move would fail after the exec, so it is
     * refused here and the program continues. */
    struct popcorn_exe_layout layout;
    if (dst != THIS_ISA && popcorn_read_exe_layout(&layout) != 0) {
        __popcorn_move_refused(dst, NULL, "the binary has no symbol table or TLS segment to hand libc state over with "
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
        __popcorn_move_refused(dst, "/proc/self/exe", "cannot be opened to tell the running binary's mappings");
        return -1;
    }
    size_t env_count = 0, arg_count = 0;
    for (char **e = __environ; e && *e; e++) env_count++;
    for (char **a = __popcorn_saved_argv; a && *a; a++) arg_count++;
    size_t vector_bytes = (env_count + arg_count + 8) * sizeof(char *);
    size_t scratch_bytes = popcorn_ckpt_page_up(sizeof(struct scratch)) + popcorn_ckpt_page_up(vector_bytes) + POPCORN_CKPT_PAGE;
    void *memory = mmap(NULL, scratch_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        __popcorn_move_refused(dst, NULL, "out of memory");
        return -1;
    }
    struct scratch *s = memory;
    char **vectors = (char **)((char *)memory + popcorn_ckpt_page_up(sizeof(struct scratch)));

    /* Everything that can make the move fail is checked before the point of no return (the
     * exec): the sibling, and that the emulator runs it. */
    const char *why = popcorn_find_sibling(dst, &s->sibling);
    if (why) {
        __popcorn_move_refused(dst, s->sibling.path, why);
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
            __popcorn_move_refused(dst, s->qemu, why);
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
        __popcorn_move_refused(dst, NULL, "cannot create the checkpoint file");
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
    long persona = popcorn_sys(SYS_personality, 0xffffffffu);
    h->personality = persona >= 0 ? (uint32_t)persona : 0;
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
    long status = popcorn_checkpoint_write(s, (int)fd, scratch_bytes, dst, &exe, &refusal);
    if (status == 0)
        status = seal(fd);
    /* Without address randomisation (setarch -R, a debugger) the new image's own memory — its
     * stack, the emulator's buffers — lands exactly where this process's is, which the restore
     * must get back: every restart would meet the same collision.  The exec runs randomised; the
     * restore sets the personality back. */
    if (status == 0 && (h->personality & ADDR_NO_RANDOMIZE))
        popcorn_sys(SYS_personality, h->personality & ~(uint32_t)ADDR_NO_RANDOMIZE);
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
    if (h->personality & ADDR_NO_RANDOMIZE)
        popcorn_sys(SYS_personality, h->personality);
    close_shared_files(s);
    restore_descriptors(s);
    popcorn_sys(SYS_close, fd);
    popcorn_sys(SYS_close, s->sibling.fd);
    popcorn_sys(SYS_rt_sigprocmask, SIG_SETMASK, &old_mask, NULL, 8);
    __popcorn_move_refused(dst, NULL, refusal ? refusal : status == -E2BIG ? "too many mappings" : strerror((int)-status));
    munmap(memory, scratch_bytes);
    return -1;
}

int __popcorn_move_here(enum popcorn_isa dst)
{
    if (dst != THIS_ISA) {
        __popcorn_move_refused(dst, NULL, "a move without stack transformation stays on the same ISA");
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
