/*
 * jmp_bufs across a stack transformation (docs/STACK-TRANSFORM.md, "jmp_bufs").  Passes run by
 * transform.c, on the transformation's frames, values and moved-object map (shared through
 * transform_internal.h).
 *
 * A noted buffer is rewritten when its stack pointer is that of a frame k being moved and its
 * return address is a call site of that frame's function (the setjmp call; popcorn-cc gives it a
 * stackmap on every ISA).  The destination buffer resumes frame k at the destination return
 * address of the same call-site ID, with frame k's destination stack and frame pointers and the
 * callee-saved registers as they stand inside frame k on the destination stack (what its callers
 * expect, poison for the registers frame k saves itself).  The values live across the setjmp call
 * are copied into the destination frame too: frame k may be stopped at another call, across which
 * they are not live (the CFG has no edge from longjmp back to setjmp), yet a longjmp reads them.
 *
 * Layouts (musl 1.2, checked against libc.a's setjmp.o, sigsetjmp.o and longjmp.o):
 *   x86_64  __jb: rbx rbp r12 r13 r14 r15 sp ra; sigsetjmp's __fl at byte 64, __ss at 72
 *           (the portable C library's layer: the same eight words, __fl at 176, __ss at 184);
 * the layer's sigsetjmp (Toolchain/libc/<isa>/entry.S) resumes at +0x1d / +0x18, musl's at
 * +0x13 / +0x14;
 *   aarch64 __jb: x19–x28 x29 x30(ra), an unused word, sp, d8–d15; __fl at 176, __ss at 184.
 * sigsetjmp with a nonzero mask stores the caller's return address in __fl and its own register
 * (rbx / x19) in __ss[1], and calls setjmp with the buffer in that register, so __jb's return
 * address is inside sigsetjmp (past its call of setjmp): a longjmp goes back there, which
 * restores the signal mask and returns to __fl.  The program's buffer is aarch64's 312-byte
 * struct on both ISAs, so either layout fits.
 */
#include "jmpbuf.h"
#include "transform_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Words of __jb: a DWARF register number, or one of these. */
#define JMP_WORD_RA (-1)
#define JMP_WORD_SP (-2)
#define JMP_WORD_UNUSED (-3)

struct jmp_layout {
    unsigned words;
    short reg[22];
    unsigned fl_offset, ss_offset;
    /* Offset of the instruction after sigsetjmp's call of setjmp. */
    uint64_t sigsetjmp_resume;
};

#ifdef POPCORN_PORTABLE_LIBC
/* The portable C library's x86_64 layer (Toolchain/libc/x86_64/entry.S) fills the first eight
 * words of aarch64's struct, so the flag and mask sit where aarch64's do. */
static const struct jmp_layout jmp_layout_x86_64 = {
    8, {3, 6, 12, 13, 14, 15, JMP_WORD_SP, JMP_WORD_RA}, 176, 184, 0x1d};
#else
static const struct jmp_layout jmp_layout_x86_64 = {
    8, {3, 6, 12, 13, 14, 15, JMP_WORD_SP, JMP_WORD_RA}, 64, 72, 0x13};
#endif
static const struct jmp_layout jmp_layout_aarch64 = {
    22, {19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, JMP_WORD_RA, JMP_WORD_UNUSED, JMP_WORD_SP,
         72, 73, 74, 75, 76, 77, 78, 79},
#ifdef POPCORN_PORTABLE_LIBC
    176, 184, 0x18}; /* the layer's sigsetjmp branches to setjmp in another section first */
#else
    176, 184, 0x14};
#endif

static const struct jmp_layout *jmp_layout_of(enum popcorn_isa isa)
{
    return isa == POPCORN_ISA_X86_64 ? &jmp_layout_x86_64 : &jmp_layout_aarch64;
}

/* musl's sigsetjmp, when the program uses it (its address is the same in both binaries, like
 * every symbol both define). */
extern const char popcorn_libc_sigsetjmp[] __asm__("sigsetjmp") __attribute__((weak));

/* A noted buffer whose frame is being moved. */
struct jmp_match {
    uint64_t address;                 /* where the buffer is (source side) */
    uint64_t sp;                      /* the stack pointer it holds */
    uint64_t ra;                      /* the return address it resumes (the program's) */
    size_t frame;                     /* index of its frame in the walk */
    const struct popcorn_meta_call_site *src, *dst; /* the setjmp call site on both ISAs */
    int masked;                       /* filled by sigsetjmp with a mask */
    uint64_t mask[16];                /* __ss */
    uint64_t reg[POPCORN_REG_COUNT];  /* source registers it holds (callee-saved only) */
    uint64_t values;                  /* the setjmp site's live values, in `values` */
    uint64_t dst_reg[POPCORN_REG_COUNT]; /* destination registers inside the frame */
};

static struct jmp_match *jmp_matches;
static size_t jmp_match_count;
#define JMP_MATCH_SCRATCH (POPCORN_JMP_BUF_MAX * sizeof(struct jmp_match))

static int jmp_match_scratch(void)
{
    if (jmp_matches)
        return 1;
    void *p = mmap(NULL, JMP_MATCH_SCRATCH, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    jmp_matches = p;
    return 1;
}

/* The match scratch is the runtime's own memory: the commit's pointer scan leaves it alone. */
void popcorn_jmp_bufs_skip_matches(void)
{
    if (jmp_matches)
        popcorn_jmp_bufs_skip((uint64_t)(uintptr_t)jmp_matches, (uint64_t)(uintptr_t)jmp_matches + JMP_MATCH_SCRATCH);
}

/* Whether [address, address + size) is mapped (a buffer in the heap may have been freed). */
static int jmp_mapped(uint64_t address, uint64_t size)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t start = address & ~(page - 1);
    unsigned char vector[4];
    uint64_t length = address + size - start;
    if (length > sizeof vector * page)
        return 0;
    return mincore((void *)(uintptr_t)start, length, vector) == 0;
}

/* Decodes the buffer at `m->address` (this ISA's layout); the caller checks that its stack pointer
 * and return address name a frame being moved and a call site of that frame's function. */
static void jmp_decode(struct jmp_match *m, enum popcorn_isa isa)
{
    const struct jmp_layout *l = jmp_layout_of(isa);
    const unsigned char *b = (const unsigned char *)(uintptr_t)m->address;
    uint64_t ra = 0, words[22];
    memcpy(words, b, l->words * 8);
    for (unsigned i = 0; i < l->words; i++) {
        if (l->reg[i] == JMP_WORD_RA)
            ra = words[i];
        else if (l->reg[i] == JMP_WORD_SP)
            m->sp = words[i];
        else if (l->reg[i] != JMP_WORD_UNUSED)
            m->reg[l->reg[i]] = words[i];
    }
    m->masked = popcorn_libc_sigsetjmp && ra == (uint64_t)(uintptr_t)popcorn_libc_sigsetjmp + l->sigsetjmp_resume;
    if (m->masked) {
        memcpy(m->mask, b + l->ss_offset, sizeof m->mask);
        memcpy(&ra, b + l->fl_offset, 8);
        m->reg[l->reg[0]] = m->mask[1]; /* the program's value of the register sigsetjmp borrowed */
    }
    m->ra = ra;
}

/* The source address of a frame slot of the setjmp site. */
static int jmp_src_location(const struct popcorn_table *t, const struct frame *f, const struct popcorn_meta_call_site *s,
                            const struct popcorn_meta_live_value *lv, uint64_t *out)
{
    int64_t cfa_offset;
    if (popcorn_value_cfa_offset(t, s, lv, &cfa_offset))
        *out = f->src_cfa + cfa_offset;
    else if (lv->reg == t->header->sp_register)
        *out = f->src_sp + (int64_t)lv->offset;
    else if (lv->reg == t->header->fp_register)
        *out = f->src_fp + (int64_t)lv->offset;
    else
        return 0;
    return 1;
}

/*
 * Pass 1½: finds the noted buffers of the frames being moved and reads the values live across
 * their setjmp calls (appended to `values` from *value_count).  Entries that match no frame are
 * stale (their frame returned, or another thread's) and are dropped at commit.
 */
int popcorn_jmp_bufs_match(const struct popcorn_table *st, const struct popcorn_table *dt, enum popcorn_isa src_isa,
                           size_t n, size_t *value_count)
{
    jmp_match_count = 0;
    unsigned count;
    struct popcorn_jmp_buf_entry *entries = popcorn_jmp_buf_entries(&count);
    if (count == 0)
        return 1;
    if (!jmp_match_scratch())
        return 0;
    const uint64_t lo = popcorn_transform_frames[0].src_sp, hi = popcorn_transform_frames[n - 1].src_cfa;
    for (unsigned e = 0; e < count; e++) {
        struct jmp_match *m = &jmp_matches[jmp_match_count];
        m->address = entries[e].address;
        int on_stack = m->address >= lo && m->address + POPCORN_JMP_BUF_SIZE <= hi;
        if (!on_stack && (m->address - lo < hi - lo || !jmp_mapped(m->address, POPCORN_JMP_BUF_SIZE)))
            continue;
        jmp_decode(m, src_isa);
        size_t l = 0, r = n; /* frames are innermost first: src_sp grows with the index */
        while (l < r) {
            size_t mid = l + (r - l) / 2;
            if (popcorn_transform_frames[mid].src_sp < m->sp)
                l = mid + 1;
            else
                r = mid;
        }
        if (l == n || popcorn_transform_frames[l].src_sp != m->sp)
            continue;
        const struct frame *f = &popcorn_transform_frames[l];
        const struct popcorn_meta_call_site *s = popcorn_site_by_address(st, m->ra);
        if (!s || popcorn_site_function(st, s) != popcorn_site_function(st, f->src))
            continue;
        const struct popcorn_meta_call_site *d = popcorn_site_peer(st, s, dt);
        unsigned count = popcorn_site_value_count(st, s);
        if (popcorn_site_value_count(dt, d) != count || popcorn_site_frame_size(dt, d) != popcorn_site_frame_size(dt, f->dst) ||
            popcorn_site_function(dt, d) != popcorn_site_function(dt, f->dst) || *value_count + count > SCRATCH_VALUES)
            continue;
        m->frame = l;
        m->src = s;
        m->dst = d;
        m->values = *value_count;
        int ok = 1;
        struct popcorn_value_cursor values = popcorn_site_values(st, s);
        for (unsigned i = 0; i < count && ok; i++) {
            const struct popcorn_meta_live_value *lv = popcorn_value_next(&values);
            uint64_t v = 0;
            switch (lv->kind) {
            case POPCORN_META_LOC_REGISTER:
                ok = lv->reg < POPCORN_REG_COUNT && popcorn_transform_callee_saved(src_isa, lv->reg);
                if (ok)
                    v = m->reg[lv->reg];
                break;
            case POPCORN_META_LOC_DIRECT:
            case POPCORN_META_LOC_INDIRECT:
                ok = jmp_src_location(st, f, s, lv, &v);
                if (ok && lv->kind == POPCORN_META_LOC_INDIRECT)
                    v = popcorn_transform_read_bytes(v, lv->size);
                break;
            case POPCORN_META_LOC_CONSTANT:
                v = popcorn_value_constant(lv);
                break;
            default:
                ok = 0;
            }
            popcorn_transform_values[*value_count + i] = v;
        }
        if (!ok)
            continue;
        *value_count += count;
        jmp_match_count++;
    }
    return 1;
}

/* Pass 2: the objects live across each setjmp call go to the destination frame (and the map). */
int popcorn_jmp_bufs_copy_objects(const struct popcorn_table *st, const struct popcorn_table *dt,
                                  size_t *object_count)
{
    for (size_t j = 0; j < jmp_match_count; j++) {
        struct jmp_match *m = &jmp_matches[j];
        struct frame at = popcorn_transform_frames[m->frame];
        at.dst = m->dst;
        struct popcorn_value_cursor src_values = popcorn_site_values(st, m->src), dst_values = popcorn_site_values(dt, m->dst);
        for (unsigned i = 0, count = popcorn_site_value_count(st, m->src); i < count; i++) {
            const struct popcorn_meta_live_value *slv = popcorn_value_next(&src_values);
            const struct popcorn_meta_live_value *dlv = popcorn_value_next(&dst_values);
            if (slv->kind != POPCORN_META_LOC_DIRECT || dlv->kind != POPCORN_META_LOC_DIRECT)
                continue;
            uint64_t address;
            uint64_t s_size = popcorn_value_alloca_size(slv), d_size = popcorn_value_alloca_size(dlv);
            uint64_t size = s_size < d_size ? s_size : d_size;
            if (!popcorn_transform_dst_location(dt, &at, dlv, &address) || size == 0)
                continue;
            if (*object_count == SCRATCH_OBJECTS)
                return 0;
            uint64_t from = popcorn_transform_values[m->values + i];
            memcpy((void *)(uintptr_t)address, (const void *)(uintptr_t)from, size);
            popcorn_transform_objects[(*object_count)++] = (struct moved_object){from, address, size};
        }
    }
    return 1;
}

/* Pass 3, inside frame k before its live values: the registers a longjmp into it must restore. */
void popcorn_jmp_bufs_snapshot(size_t k, const uint64_t *cur)
{
    for (size_t j = 0; j < jmp_match_count; j++)
        if (jmp_matches[j].frame == k)
            memcpy(jmp_matches[j].dst_reg, cur, sizeof jmp_matches[j].dst_reg);
}

/* The moved object containing source address `p`, or NULL. */
static const struct moved_object *jmp_object_of(uint64_t p, size_t count)
{
    size_t l = 0, r = count;
    while (l < r) {
        size_t m = l + (r - l) / 2;
        if (popcorn_transform_objects[m].src <= p)
            l = m + 1;
        else
            r = m;
    }
    if (l == 0 || p - popcorn_transform_objects[l - 1].src >= popcorn_transform_objects[l - 1].size)
        return NULL;
    return &popcorn_transform_objects[l - 1];
}

/*
 * After pass 3: writes each buffer in the destination layout.  A buffer inside a moved stack object
 * is written in the destination copy now; one elsewhere is prepared for popcorn_jmp_bufs_commit,
 * and so are the objects holding moved buffers (pointers to them held outside the stack follow).
 */
int popcorn_jmp_bufs_finish(const struct popcorn_table *st, const struct popcorn_table *dt, enum popcorn_isa dst_isa,
                            uint64_t lo, uint64_t hi, size_t object_count)
{
    const struct jmp_layout *l = jmp_layout_of(dst_isa);
    for (size_t j = 0; j < jmp_match_count; j++) {
        struct jmp_match *m = &jmp_matches[j];
        const struct frame *f = &popcorn_transform_frames[m->frame];
        unsigned count = popcorn_site_value_count(dt, m->dst);
        struct popcorn_value_cursor src_values = popcorn_site_values(st, m->src), dst_values = popcorn_site_values(dt, m->dst);
        for (unsigned i = 0; i < count; i++) {
            const struct popcorn_meta_live_value *slv = popcorn_value_next(&src_values);
            const struct popcorn_meta_live_value *dlv = popcorn_value_next(&dst_values);
            if (dlv->kind != POPCORN_META_LOC_REGISTER)
                continue; /* slots: copied with the objects, or (INDIRECT) below */
            uint64_t v = popcorn_transform_values[m->values + i];
            if (slv->flags & (POPCORN_META_VALUE_POINTER | POPCORN_META_VALUE_DERIVED))
                v = popcorn_transform_repoint(v, lo, hi, object_count);
            if (dlv->reg < POPCORN_REG_COUNT)
                m->dst_reg[dlv->reg] = v;
        }
        struct frame at = *f;
        at.dst = m->dst;
        src_values = popcorn_site_values(st, m->src);
        dst_values = popcorn_site_values(dt, m->dst);
        for (unsigned i = 0; i < count; i++) {
            const struct popcorn_meta_live_value *slv = popcorn_value_next(&src_values);
            const struct popcorn_meta_live_value *dlv = popcorn_value_next(&dst_values);
            uint64_t address, v = popcorn_transform_values[m->values + i];
            if (!popcorn_transform_dst_location(dt, &at, dlv, &address))
                continue;
            if (dlv->kind == POPCORN_META_LOC_DIRECT && slv->kind == POPCORN_META_LOC_DIRECT && address % 8 == 0) {
                /* The objects only the setjmp site lists were not scanned with the frame's own: a
                 * slot may hold a pointer into the stack. */
                uint64_t s_size = popcorn_value_alloca_size(slv), d_size = popcorn_value_alloca_size(dlv);
                popcorn_transform_repoint_object(address, s_size < d_size ? s_size : d_size, lo, hi, object_count);
                continue;
            }
            if (dlv->kind != POPCORN_META_LOC_INDIRECT)
                continue;
            if (slv->flags & (POPCORN_META_VALUE_POINTER | POPCORN_META_VALUE_DERIVED))
                v = popcorn_transform_repoint(v, lo, hi, object_count);
            memcpy((void *)(uintptr_t)address, &v, dlv->size > 8 ? 8 : dlv->size);
        }
        uint64_t address = m->address;
        const struct moved_object *holder = NULL;
        if (m->address >= lo && m->address < hi) {
            holder = jmp_object_of(m->address, object_count);
            if (!holder)
                continue; /* in no object the metadata describes: left as it is */
            address = holder->dst + (m->address - holder->src);
        }
        unsigned char image[POPCORN_JMP_BUF_SIZE];
        memcpy(image, (const void *)(uintptr_t)address, sizeof image);
        uint64_t dst_sp = f->dst_cfa - popcorn_site_frame_size(dt, f->dst);
        uint64_t ra = popcorn_site_return_address(dt, m->dst);
        for (unsigned i = 0; i < l->words; i++) {
            uint64_t w;
            if (l->reg[i] == JMP_WORD_UNUSED)
                continue;
            if (l->reg[i] == JMP_WORD_RA)
                w = m->masked ? (uint64_t)(uintptr_t)popcorn_libc_sigsetjmp + l->sigsetjmp_resume : ra;
            else if (l->reg[i] == JMP_WORD_SP)
                w = dst_sp;
            else
                w = m->dst_reg[l->reg[i]];
            memcpy(image + 8 * i, &w, 8);
        }
        if (m->masked) {
            uint64_t mask[16];
            memcpy(mask, m->mask, sizeof mask);
            mask[1] = m->dst_reg[l->reg[0]];
            memcpy(image + l->ss_offset, mask, sizeof mask);
            memcpy(image + l->fl_offset, &ra, 8);
            memcpy(image, &address, 8); /* sigsetjmp finds the buffer in its register */
        }
        if (holder) {
            memcpy((void *)(uintptr_t)address, image, sizeof image);
            if (!popcorn_jmp_bufs_keep(address, dst_sp, NULL) ||
                !popcorn_jmp_bufs_object_moved(holder->src, holder->dst, holder->size))
                return 0;
        } else if (!popcorn_jmp_bufs_keep(address, dst_sp, image)) {
            return 0;
        }
    }
    return 1;
}
