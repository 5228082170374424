/*
 * Reading /proc/self/maps with raw system calls (docs/PROCESS-MOVE.md), and the qemu-user
 * correction: the guest's list can leave out guest memory that the host's list shows.
 */
#include "checkpoint_format.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t parse_hex(const char **cursor)
{
    uint64_t value = 0;
    const char *p = *cursor;
    for (;; p++) {
        int digit;
        if (*p >= '0' && *p <= '9') digit = *p - '0';
        else if (*p >= 'a' && *p <= 'f') digit = *p - 'a' + 10;
        else break;
        value = value * 16 + (uint64_t)digit;
    }
    *cursor = p;
    return value;
}

/* Reads a whole /proc file into `buffer` (NUL-terminated); returns its length or -errno. */
static long read_text(const char *path, char *buffer, size_t size)
{
    long fd = popcorn_sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fd;
    size_t used = 0;
    for (;;) {
        if (used + 1 >= size) {
            popcorn_sys(SYS_close, fd);
            return -ENOBUFS;
        }
        long got = popcorn_sys(SYS_read, fd, buffer + used, size - 1 - used);
        if (got < 0 && got != -EINTR) {
            popcorn_sys(SYS_close, fd);
            return got;
        }
        if (got == 0)
            break;
        if (got > 0)
            used += (size_t)got;
    }
    popcorn_sys(SYS_close, fd);
    buffer[used] = '\0';
    return (long)used;
}

static long parse_maps(const char *buffer, void (*visit)(const struct popcorn_map_entry *, void *), void *context)
{
    long count = 0;
    for (const char *line = buffer; *line;) {
        struct popcorn_map_entry entry;
        memset(&entry, 0, sizeof entry);
        const char *p = line;
        entry.start = parse_hex(&p);
        if (*p == '-') p++;
        entry.end = parse_hex(&p);
        while (*p == ' ') p++;
        entry.readable = p[0] == 'r';
        entry.writable = p[1] == 'w';
        entry.executable = p[2] == 'x';
        entry.shared = p[3] == 's';
        p += 4;
        while (*p == ' ') p++;
        entry.offset = parse_hex(&p);
        /* device (major:minor, hex) and inode (decimal), then the optional name */
        while (*p == ' ') p++;
        entry.device_major = parse_hex(&p);
        if (*p == ':') p++;
        entry.device_minor = parse_hex(&p);
        while (*p == ' ') p++;
        while (*p >= '0' && *p <= '9') entry.inode = entry.inode * 10 + (uint64_t)(*p++ - '0');
        while (*p && *p != ' ' && *p != '\n') p++;
        while (*p == ' ') p++;
        size_t n = 0;
        while (*p && *p != '\n') {
            if (n + 1 < sizeof entry.name) entry.name[n++] = *p;
            else entry.name_truncated = 1;
            p++;
        }
        entry.name[n] = '\0';
        if (*p == '\n') p++;
        line = p;
        if (entry.end > entry.start) {
            visit(&entry, context);
            count++;
        }
    }
    return count;
}


long popcorn_read_maps(char *buffer, size_t size, void (*visit)(const struct popcorn_map_entry *, void *),
                       void *context)
{
    long length = read_text("/proc/self/maps", buffer, size);
    return length < 0 ? length : parse_maps(buffer, visit, context);
}

/* ---- guest pages qemu-user does not list -------------------------------------------------- */

struct hidden_search {
    struct popcorn_ckpt_region *regions;
    uint32_t *count, capacity, listed;
    const struct popcorn_ckpt_cuts *cuts;
    uint64_t run_start, run_end;
    long added;
    int overflow;
};

static int listed(const struct hidden_search *search, uint64_t page)
{
    for (uint32_t i = 0; i < search->cuts->count; i++)
        if (page >= search->cuts->range[i][0] && page < search->cuts->range[i][1])
            return 1;
    for (uint32_t i = 0; i < search->listed; i++)
        if (page >= search->regions[i].start && page < search->regions[i].end)
            return 1;
    return 0;
}

static void end_run(struct hidden_search *search)
{
    if (search->run_end == search->run_start)
        return;
    if (*search->count == search->capacity) {
        search->overflow = 1;
    } else {
        struct popcorn_ckpt_region *region = &search->regions[(*search->count)++];
        memset(region, 0, sizeof *region);
        region->start = search->run_start;
        region->end = search->run_end;
        region->prot = PROT_READ | PROT_WRITE;
        region->kind = POPCORN_CKPT_REGION_DATA;
        search->added++;
    }
    search->run_start = search->run_end = 0;
}

static void visit_host_entry(const struct popcorn_map_entry *entry, void *context)
{
    struct hidden_search *search = context;
    /* Guest memory qemu can merge with its own: anonymous, private, read-write, not code. */
    if (!entry->readable || !entry->writable || entry->executable || entry->shared || entry->name[0])
        return;
    for (uint64_t page = entry->start; page < entry->end; page += POPCORN_CKPT_PAGE) {
        unsigned char resident;
        /* qemu checks that the range is readable guest memory before passing mincore on */
        if (!listed(search, page) && popcorn_sys(SYS_mincore, page, POPCORN_CKPT_PAGE, &resident) == 0) {
            if (search->run_end != page) {
                end_run(search);
                search->run_start = page;
            }
            search->run_end = page + POPCORN_CKPT_PAGE;
        } else {
            end_run(search);
        }
    }
    end_run(search);
}

long popcorn_add_hidden_guest_regions(const char *guest_maps, char *buffer, size_t size,
                                      struct popcorn_ckpt_region *regions, uint32_t *count, uint32_t capacity,
                                      const struct popcorn_ckpt_cuts *cuts)
{
    if (read_text("/proc/thread-self/maps", buffer, size) < 0 || strcmp(buffer, guest_maps) == 0)
        return 0; /* no separate host view, or the same list: nothing is hidden */
    struct hidden_search search = {regions, count, capacity, *count, cuts, 0, 0, 0, 0};
    parse_maps(buffer, visit_host_entry, &search);
    return search.overflow ? -E2BIG : search.added;
}

/* ---- memory shared with another process --------------------------------------------------- */

static uint64_t parse_decimal(const char **cursor)
{
    uint64_t value = 0;
    const char *p = *cursor;
    while (*p == ' ' || *p == '\t') p++;
    while (*p >= '0' && *p <= '9') value = value * 10 + (uint64_t)(*p++ - '0');
    *cursor = p;
    return value;
}

long popcorn_mapped_elsewhere(char *buffer, size_t size, uint64_t start, uint64_t end)
{
    /* The host's list under qemu-user (qemu emulates /proc/self/smaps with every count zero);
     * natively the same as /proc/self/smaps for this single-threaded process. */
    long length = read_text("/proc/thread-self/smaps", buffer, size);
    if (length < 0)
        return length;
    int inside = 0;
    for (const char *line = buffer; *line;) {
        const char *p = line;
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) {
            uint64_t low = parse_hex(&p);
            if (*p == '-') p++;
            uint64_t high = parse_hex(&p);
            inside = low < end && start < high;
        } else if (inside && (strncmp(p, "Shared_Clean:", 13) == 0 || strncmp(p, "Shared_Dirty:", 13) == 0)) {
            p += 13;
            if (parse_decimal(&p) > 0)
                return 1; /* pages this VMA maps are mapped by another process too */
        }
        while (*p && *p != '\n') p++;
        line = *p ? p + 1 : p;
    }
    return 0;
}

long popcorn_read_host_maps(const char *guest_maps, char *buffer, size_t size,
                            void (*visit)(const struct popcorn_map_entry *, void *), void *context)
{
    long length = read_text("/proc/thread-self/maps", buffer, size);
    if (length < 0)
        return length;
    return strcmp(buffer, guest_maps) == 0 ? 0 : parse_maps(buffer, visit, context);
}
