/*
 * The registry of noted jmp_bufs and the writes a transformation prepares for them
 * (docs/STACK-TRANSFORM.md, "jmp_bufs").  Interface: jmpbuf.h.
 *
 * Entries are kept in the order of the stack pointer the buffers hold, outermost frame first:
 * setjmp calls happen in nesting order, so a new note first drops the entries of frames that
 * have returned (a longjmp to them is undefined behaviour anyway), finds its own buffer among
 * those of its own frame, or is pushed.  Noting is therefore O(1) amortised and the registry
 * holds at most one entry per live buffer.
 */
#include "jmpbuf.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define JMP_BUF_SP_WORD 6
#else
#define JMP_BUF_SP_WORD 13
#endif

/*
 * The registry's state in the program's writable data, in one object: the commit's pointer scan
 * (jmp_buf_scan) reads every private writable mapping, and it leaves this object alone.  Its
 * words are stack addresses — the entries, the saved entries a rollback restores, the bounds of
 * the stack being left and the ranges to skip — and the scan must not re-point them: once the
 * innermost frame's stack pointer was also the address of a moved buffer's object (Lua's
 * luaD_rawrunprotected keeps its lua_longjmp at SP+0), the scan moved its own bound into the new
 * stack mid-way, skipped everything between the two stacks and left L->errorJmp stale.
 */
#define JMP_BUF_SKIP_MAX 16
static struct {
    struct popcorn_jmp_buf_entry entries[POPCORN_JMP_BUF_MAX];
    unsigned count;
    /* The registry as it was before the last commit, for a rollback. */
    struct popcorn_jmp_buf_entry saved_entries[POPCORN_JMP_BUF_MAX];
    unsigned saved_count;
    /* The stack being left: the innermost moved frame's SP and the outermost one's CFA. */
    uint64_t src_stack, src_top;
    /* Address ranges the pointer scan leaves alone: the new stack and the runtime's own scratch. */
    struct {
        uint64_t lo, hi;
    } skip[JMP_BUF_SKIP_MAX];
    unsigned skip_count;
} registry;
/* Notes may come from several threads; only single-threaded processes move, so other threads'
 * entries only need to not corrupt the table. */
static int jmp_buf_lock;

static void jmp_buf_acquire(void)
{
    while (__atomic_exchange_n(&jmp_buf_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&jmp_buf_lock, __ATOMIC_RELAXED))
            ;
}

static void jmp_buf_release(void)
{
    __atomic_store_n(&jmp_buf_lock, 0, __ATOMIC_RELEASE);
}

void __popcorn_jmp_buf_note(void *buf)
{
    uint64_t sp;
    memcpy(&sp, (const unsigned char *)buf + 8 * JMP_BUF_SP_WORD, sizeof sp);
    uint64_t address = (uint64_t)(uintptr_t)buf;
    jmp_buf_acquire();
    while (registry.count > 0 && registry.entries[registry.count - 1].sp < sp)
        registry.count--; /* deeper frames, returned since they called setjmp */
    for (unsigned i = registry.count; i-- > 0 && registry.entries[i].sp == sp;)
        if (registry.entries[i].address == address) {
            jmp_buf_release();
            return;
        }
    if (registry.count < POPCORN_JMP_BUF_MAX) {
        registry.entries[registry.count++] = (struct popcorn_jmp_buf_entry){address, sp};
        jmp_buf_release();
        return;
    }
    jmp_buf_release();
    static int warned;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "popcorn: warning: more than %d jmp_bufs are set at once; a longjmp to one set "
                        "later fails after a migration\n", POPCORN_JMP_BUF_MAX);
}

struct popcorn_jmp_buf_entry *popcorn_jmp_buf_entries(unsigned *count)
{
    *count = registry.count;
    return registry.entries;
}

/* ---- what a transformation prepared ---- */

struct jmp_buf_kept {
    struct popcorn_jmp_buf_entry entry;
    int has_image;
    unsigned char image[POPCORN_JMP_BUF_SIZE];
    unsigned char saved[POPCORN_JMP_BUF_SIZE];
};

/* A moved stack object holding a noted buffer. */
struct popcorn_jmp_buf_object {
    uint64_t src;
    uint64_t dst;
    uint64_t size;
};

/* Scratch, mapped on first use (not the heap: migrating must not change the program's heap). */
static struct jmp_buf_kept *jmp_buf_kept;
static struct popcorn_jmp_buf_object *jmp_buf_objects;
static unsigned jmp_buf_kept_count, jmp_buf_object_count;

static int jmp_buf_scratch(void)
{
    if (jmp_buf_kept)
        return 1;
    size_t bytes = POPCORN_JMP_BUF_MAX * (sizeof *jmp_buf_kept + sizeof *jmp_buf_objects);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    jmp_buf_objects = p;
    jmp_buf_kept = (struct jmp_buf_kept *)(jmp_buf_objects + POPCORN_JMP_BUF_MAX);
    return 1;
}

void popcorn_jmp_bufs_reset(void)
{
    jmp_buf_kept_count = 0;
    jmp_buf_object_count = 0;
    registry.src_stack = registry.src_top = 0;
    registry.skip_count = 0;
}

void popcorn_jmp_bufs_skip(uint64_t lo, uint64_t hi)
{
    if (registry.skip_count < JMP_BUF_SKIP_MAX && lo < hi)
        registry.skip[registry.skip_count++] = (typeof(registry.skip[0])){lo, hi};
}

int popcorn_jmp_bufs_keep(uint64_t address, uint64_t sp, const unsigned char *image)
{
    if (!jmp_buf_scratch() || jmp_buf_kept_count == POPCORN_JMP_BUF_MAX)
        return 0;
    struct jmp_buf_kept *k = &jmp_buf_kept[jmp_buf_kept_count++];
    k->entry = (struct popcorn_jmp_buf_entry){address, sp};
    k->has_image = image != NULL;
    if (image)
        memcpy(k->image, image, POPCORN_JMP_BUF_SIZE);
    return 1;
}

int popcorn_jmp_bufs_object_moved(uint64_t src, uint64_t dst, uint64_t size)
{
    if (!jmp_buf_scratch() || jmp_buf_object_count == POPCORN_JMP_BUF_MAX)
        return 0;
    for (unsigned i = 0; i < jmp_buf_object_count; i++)
        if (jmp_buf_objects[i].src == src)
            return 1;
    jmp_buf_objects[jmp_buf_object_count++] = (struct popcorn_jmp_buf_object){src, dst, size};
    return 1;
}

void popcorn_jmp_bufs_stacks(uint64_t src_sp, uint64_t src_top, uint64_t dst_lo, uint64_t dst_hi)
{
    registry.src_stack = src_sp;
    registry.src_top = src_top;
    popcorn_jmp_bufs_skip(dst_lo, dst_hi);
}

/* Re-points the words of [from, to) that point into a moved object ([lo, hi] bounds them all). */
static void jmp_buf_scan_range(uint64_t from, uint64_t to, uint64_t lo, uint64_t hi, int reverse);

/* The object of `objects` (by `from` side) that `word` points into (one past the end included). */
static const struct popcorn_jmp_buf_object *jmp_buf_target(uint64_t word, int reverse)
{
    for (unsigned i = 0; i < jmp_buf_object_count; i++) {
        const struct popcorn_jmp_buf_object *o = &jmp_buf_objects[i];
        uint64_t from = reverse ? o->dst : o->src;
        if (word >= from && word - from <= o->size)
            return o;
    }
    return NULL;
}

static void jmp_buf_scan_range(uint64_t from, uint64_t to, uint64_t lo, uint64_t hi, int reverse)
{
    for (uint64_t *w = (uint64_t *)(uintptr_t)from; w < (uint64_t *)(uintptr_t)to; w++) {
        uint64_t word = *w;
        if (word < lo || word > hi)
            continue;
        const struct popcorn_jmp_buf_object *o = jmp_buf_target(word, reverse);
        if (o)
            *w = reverse ? o->src + (word - o->dst) : o->dst + (word - o->src);
    }
}

/*
 * Pointers to a moved object holding a buffer, held in writable memory outside the stacks (a
 * global or heap `jmp_buf *current`, Lua's L->errorJmp): re-pointed to the object's new place,
 * or back (`reverse`) for a rollback.  The transformation re-points the stack's own pointers;
 * these are the ones it cannot see.  Only pointers into these few objects are touched, and only
 * private writable mappings and the heap file's are read (not the stacks, not the runtime's own
 * scratch mappings, not files the program maps shared).
 */
/* A hexadecimal number at *cursor (lower or upper case); *cursor moves past it. */
static uint64_t jmp_buf_parse_hex(const char **cursor)
{
    uint64_t value = 0;
    for (;; (*cursor)++) {
        char c = **cursor;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0)
            return value;
        value = value << 4 | (uint64_t)digit;
    }
}

/* Mappings may have merged with the runtime's scratch: [start, stop) is scanned around the
 * skipped ranges. */
static void jmp_buf_scan_around_skips(uint64_t start, uint64_t stop, uint64_t lo, uint64_t hi, int reverse)
{
    uint64_t at = start;
    while (at < stop) {
        uint64_t next = stop, resume = stop;
        for (unsigned i = 0; i < registry.skip_count; i++)
            if (registry.skip[i].hi > at && registry.skip[i].lo < next) {
                next = registry.skip[i].lo > at ? registry.skip[i].lo : at;
                resume = registry.skip[i].hi;
            }
        jmp_buf_scan_range(at, next, lo, hi, reverse);
        at = resume;
    }
}

/* The portable C library's heap file; a weak reference, since the native C library has none. */
extern int __popcorn_heap_each_mapping(void (*visit)(uintptr_t, uintptr_t, void *), void *context)
    __attribute__((weak));

struct jmp_buf_bounds {
    uint64_t lo, hi;
    int reverse;
};

static void jmp_buf_scan_heap_mapping(uintptr_t start, uintptr_t end, void *context)
{
    const struct jmp_buf_bounds *b = context;
    jmp_buf_scan_around_skips(start, end, b->lo, b->hi, b->reverse);
}

static void jmp_buf_scan(int reverse)
{
    if (jmp_buf_object_count == 0)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < jmp_buf_object_count; i++) {
        uint64_t from = reverse ? jmp_buf_objects[i].dst : jmp_buf_objects[i].src;
        if (from < lo)
            lo = from;
        if (from + jmp_buf_objects[i].size > hi)
            hi = from + jmp_buf_objects[i].size;
    }
    static char maps[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t used = 0;
    for (;;) {
        ssize_t got = read(fd, maps + used, sizeof maps - 1 - used);
        if (got <= 0)
            break;
        used += (size_t)got;
        if (used == sizeof maps - 1)
            break;
    }
    close(fd);
    maps[used] = '\0';
    popcorn_jmp_bufs_skip((uint64_t)(uintptr_t)&registry, (uint64_t)(uintptr_t)(&registry + 1));
    uint64_t scratch_lo = (uint64_t)(uintptr_t)jmp_buf_objects;
    popcorn_jmp_bufs_skip(scratch_lo, scratch_lo + POPCORN_JMP_BUF_MAX * (sizeof *jmp_buf_kept + sizeof *jmp_buf_objects));
    for (char *line = maps; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            break; /* a truncated last line */
        *end = '\0';
        /* "start-end perms …": parsed by hand, since sscanf would pull the whole scanf family
         * (with floating-point parsing) into every migratable binary. */
        const char *cursor = line;
        uint64_t start = jmp_buf_parse_hex(&cursor), stop = 0;
        int wellformed = *cursor == '-';
        if (wellformed) {
            cursor++;
            stop = jmp_buf_parse_hex(&cursor);
            wellformed = *cursor == ' ' && strlen(cursor + 1) >= 4;
        }
        const char *perms = cursor + 1;
        line = end + 1;
        if (!wellformed || perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p')
            continue;
        /* The stack being left, from its mapping's start (the runtime's own frames) up to the top
         * of the frames moved. */
        if (registry.src_stack >= start && registry.src_stack < stop)
            popcorn_jmp_bufs_skip(start, registry.src_top);
        jmp_buf_scan_around_skips(start, stop, lo, hi, reverse);
    }
    /* malloc's heap is a shared mapping of the C library's heap file (docs/LIBC.md), which the
     * list above passes over with the other shared mappings (files the program shares). */
    if (__popcorn_heap_each_mapping) {
        struct jmp_buf_bounds bounds = {lo, hi, reverse};
        __popcorn_heap_each_mapping(jmp_buf_scan_heap_mapping, &bounds);
    }
}

void popcorn_jmp_bufs_commit(void)
{
    memcpy(registry.saved_entries, registry.entries, registry.count * sizeof *registry.entries);
    registry.saved_count = registry.count;
    for (unsigned i = 0; i < jmp_buf_kept_count; i++) {
        struct jmp_buf_kept *k = &jmp_buf_kept[i];
        void *at = (void *)(uintptr_t)k->entry.address;
        if (!k->has_image)
            continue;
        memcpy(k->saved, at, POPCORN_JMP_BUF_SIZE);
        memcpy(at, k->image, POPCORN_JMP_BUF_SIZE);
    }
    jmp_buf_scan(0);
    for (unsigned i = 0; i < jmp_buf_kept_count; i++)
        registry.entries[i] = jmp_buf_kept[i].entry;
    registry.count = jmp_buf_kept_count;
}

void popcorn_jmp_bufs_rollback(void)
{
    jmp_buf_scan(1);
    for (unsigned i = jmp_buf_kept_count; i-- > 0;) {
        struct jmp_buf_kept *k = &jmp_buf_kept[i];
        if (k->has_image)
            memcpy((void *)(uintptr_t)k->entry.address, k->saved, POPCORN_JMP_BUF_SIZE);
    }
    memcpy(registry.entries, registry.saved_entries, registry.saved_count * sizeof *registry.entries);
    registry.count = registry.saved_count;
    popcorn_jmp_bufs_reset();
}
