/*
 * Restore: where this process's own memory is in the way (docs/PROCESS-MOVE.md, "Long chains
 * and signal storms", restored regions over the destination's own memory).
 *
 * The regions go back at their addresses with MAP_FIXED, over whatever this process has there.
 * Most of that is dead once the old memory is back, but not all of it: after a move between ISAs
 * the vDSO and the initial stack (libc's auxiliary vector) are this process's own, and under
 * qemu-user every host mapping that is not guest memory is qemu's (its code buffer, heap, stack).
 * Both sides place them at random (ASLR), so now and then one lies where a saved region must go;
 * overwriting it crashed the process later, in qemu's generated code or in clock_gettime().  The
 * restore checks first and, on a collision, starts this binary again (exec keeps the checkpoint
 * descriptor, the pid and the blocked signals), which places them elsewhere.  Nothing has been
 * changed yet at that point.
 *
 * A file of its own: the scan of both lists of mappings and the restart are a check made before
 * the restore proper (restore.c), which goes on only once nothing is in the way.
 */
#include "restore_internal.h"
#include "settings.h"
#include "sibling.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


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
void popcorn_restore_avoid_own_mappings(const struct popcorn_ckpt_header *header,
                                        const struct popcorn_ckpt_region *regions)
{
    extern char **__environ;
    size_t vectors = 16;
    for (char **a = __popcorn_saved_argv; a && *a; a++) vectors++;
    for (char **e = __environ; e && *e; e++) vectors++;
    uint64_t size = popcorn_ckpt_page_up(sizeof(struct own_scan) + 2 * vectors * sizeof(char *));
    long memory = popcorn_sys(SYS_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory < 0 && memory > -4096)
        popcorn_restore_fatal("no memory for the restore", memory);
    struct own_scan *scan = (struct own_scan *)memory;
    scan->header = header;
    scan->regions = regions;
    scan->cross = header->source_isa != header->destination_isa;
    long status = popcorn_read_maps(scan->guest, sizeof scan->guest, visit_guest_mapping, scan);
    if (status < 0)
        popcorn_restore_fatal("cannot read /proc/self/maps", status);
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
            popcorn_restore_fatal("this process's own mappings keep lying where the saved memory must go", EEXIST);
        restart(scan, emulated > 0, attempt);
        popcorn_restore_fatal("cannot start the destination again to place its own mappings elsewhere", EEXIST);
    }
    popcorn_sys(SYS_munmap, memory, size);
}
