/*
 * Stack transformation (docs/STACK-TRANSFORM.md): rebuild a thread's frames, from the frame
 * that reached a migration point out to main, in another (or the same) ISA's frame layout,
 * using nothing but the .popcorn.meta tables of both ISAs.
 *
 * Three passes:
 *   1. walk the source stack innermost-first with this ISA's table (CFA from the CFA rule,
 *      return address and callee-saved registers from their CFA slots), recording for every
 *      frame its call sites on both ISAs and the value of every live value;
 *   2. lay the destination frames out from the top of the destination stack (outermost first,
 *      each frame's SP is its callee's CFA) and copy every stack object, remembering where each
 *      source object went;
 *   3. outermost first again: re-point pointers into the source frames, write each frame's
 *      return address and the callee-saved registers it restores, and work out the register set
 *      of the innermost frame.
 * Bytes and registers nothing describes get POPCORN_POISON_WORD, so code relying on state the
 * metadata does not describe fails loudly instead of working by accident.
 *
 * The program's jmp_bufs are carried over by passes of their own in jmpbuf.c, a translation unit
 * of its own: what the two files share is declared in transform_internal.h.
 */
#include "jmpbuf.h"
#include "transform_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The scratch arrays (shared with jmpbuf.c), mapped by the first transformation. */
struct frame *popcorn_transform_frames;
uint64_t *popcorn_transform_values;
struct moved_object *popcorn_transform_objects;

static int scratch_ready(void)
{
    if (popcorn_transform_frames)
        return 1;
    void *p = mmap(NULL, SCRATCH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    popcorn_transform_values = p;
    popcorn_transform_objects = (struct moved_object *)(popcorn_transform_values + SCRATCH_VALUES);
    popcorn_transform_frames = (struct frame *)(popcorn_transform_objects + SCRATCH_OBJECTS);
    return 1;
}

/* The DWARF numbers the ABIs preserve across calls (stack and frame pointer handled apart), as a
 * list: the loops that run once per transformation visit these, not all POPCORN_REG_COUNT. */
static const unsigned char callee_saved_x86_64[] = {3, 6, 12, 13, 14, 15};
static const unsigned char callee_saved_aarch64[] = {19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                                     72, 73, 74, 75, 76, 77, 78, 79};

static const unsigned char *callee_saved_list(enum popcorn_isa isa, unsigned *count)
{
    if (isa == POPCORN_ISA_X86_64) {
        *count = sizeof callee_saved_x86_64;
        return callee_saved_x86_64;
    }
    *count = sizeof callee_saved_aarch64;
    return callee_saved_aarch64;
}

int popcorn_transform_callee_saved(enum popcorn_isa isa, unsigned reg)
{
    unsigned count;
    const unsigned char *list = callee_saved_list(isa, &count);
    for (unsigned i = 0; i < count; i++)
        if (list[i] == reg)
            return 1;
    return 0;
}

/* Slots and registers are nearly always 8 bytes: a fixed-size copy is one load or store, where
 * a variable-size one is a call of memcpy. */
uint64_t popcorn_transform_read_bytes(uint64_t address, unsigned size)
{
    uint64_t v = 0;
    if (size >= 8)
        memcpy(&v, (const void *)(uintptr_t)address, 8);
    else
        memcpy(&v, (const void *)(uintptr_t)address, size);
    return v;
}

/* The low `size` bytes (at most 8) of `v` at `address`. */
static void write_bytes(uint64_t address, uint64_t v, unsigned size)
{
    if (size >= 8)
        memcpy((void *)(uintptr_t)address, &v, 8);
    else
        memcpy((void *)(uintptr_t)address, &v, size);
}

/* The address a live value's location names in a destination frame. */
int popcorn_transform_dst_location(const struct popcorn_table *t, const struct frame *f,
                                   const struct popcorn_meta_live_value *lv, uint64_t *out)
{
    const struct popcorn_meta_header *h = t->header;
    const struct popcorn_meta_frame *frame = popcorn_site_frame(t, f->dst);
    int64_t cfa_offset;
    if (popcorn_value_cfa_offset(t, f->dst, lv, &cfa_offset)) {
        *out = f->dst_cfa + cfa_offset;
        return 1;
    }
    if (lv->reg == h->sp_register) {
        *out = f->dst_cfa - frame->frame_size + (int64_t)lv->offset;
        return 1;
    }
    if (lv->reg == h->fp_register && frame->cfa_register == h->fp_register) {
        *out = f->dst_cfa - (int64_t)frame->cfa_offset + (int64_t)lv->offset;
        return 1;
    }
    return 0;
}

static int compare_objects(const void *a, const void *b)
{
    const struct moved_object *x = a, *y = b;
    return x->src < y->src ? -1 : x->src > y->src;
}

/* Sorts the `count` moved objects by source address; the first `frame_objects` are pass 2's.
 * Pass 2 lists the frames outermost first, and a frame's objects lie in its own frame, so that
 * list reversed is sorted but for each frame's few objects among themselves (and jmpbuf.c's at the
 * end): an insertion sort finishes it in linear time, where qsort on the descending list took
 * most of a deep stack's transformation.  A list much further from sorted goes to qsort. */
static void sort_objects(size_t count, size_t frame_objects)
{
    struct moved_object *o = popcorn_transform_objects;
    for (size_t i = 0, j = frame_objects; i + 1 < j; i++, j--) {
        struct moved_object t = o[i];
        o[i] = o[j - 1];
        o[j - 1] = t;
    }
    size_t budget = 16 * count + 1024; /* element moves before giving up */
    for (size_t i = 1; i < count; i++) {
        struct moved_object x = o[i];
        size_t j = i;
        for (; j > 0 && o[j - 1].src > x.src && budget > 0; j--, budget--)
            o[j] = o[j - 1];
        o[j] = x;
        if (budget == 0) {
            qsort(o, count, sizeof *o, compare_objects);
            return;
        }
    }
}

/* A pointer into a moved source object, moved along with it; anything else unchanged. */
uint64_t popcorn_transform_repoint(uint64_t p, uint64_t lo, uint64_t hi, size_t count)
{
    if (p < lo || p > hi || count == 0)
        return p;
    size_t l = 0, r = count;
    while (l < r) { /* first object starting after p */
        size_t m = l + (r - l) / 2;
        if (popcorn_transform_objects[m].src <= p)
            l = m + 1;
        else
            r = m;
    }
    if (l == 0)
        return p;
    const struct moved_object *o = &popcorn_transform_objects[l - 1];
    /* One past the end is a valid C pointer too. */
    if (p - o->src <= o->size)
        return o->dst + (p - o->src);
    return p;
}

/* Re-points, word by word, every pointer into a moved source object held in the `size` bytes
 * at `address` (a moved stack object: the metadata does not say which of its words are
 * pointers, so each aligned word that points into a moved object is moved along with it). */
void popcorn_transform_repoint_object(uint64_t address, uint64_t size, uint64_t lo, uint64_t hi,
                                      size_t count)
{
    if (address % 8 != 0)
        return;
    for (uint64_t off = 0; off + 8 <= size; off += 8) {
        uint64_t word;
        memcpy(&word, (const void *)(uintptr_t)(address + off), 8);
        uint64_t moved = popcorn_transform_repoint(word, lo, hi, count);
        if (moved != word)
            memcpy((void *)(uintptr_t)(address + off), &moved, 8);
    }
}


enum popcorn_transform_status popcorn_transform(const struct popcorn_regs *src, enum popcorn_isa dst_isa,
                                                void *dst_stack_top, size_t dst_stack_size,
                                                struct popcorn_regs *dst_out)
{
    return popcorn_transform_with_options(src, dst_isa, dst_stack_top, dst_stack_size, dst_out, 0);
}

/* The outermost moved frame's CFA in the last successful transformation (its source stack ends
 * there: above it are libc's start-up frames, argv and the environment). */
static uint64_t last_source_top;

enum popcorn_transform_status popcorn_transform_with_options(const struct popcorn_regs *src,
                                                             enum popcorn_isa dst_isa, void *dst_stack_top,
                                                             size_t dst_stack_size, struct popcorn_regs *dst_out,
                                                             unsigned options)
{
    enum popcorn_isa src_isa = POPCORN_RUNTIME_ISA;
    const struct popcorn_table *st = popcorn_metadata_table(src_isa);
    const struct popcorn_table *dt = popcorn_metadata_table(dst_isa);
    if (!st || !dt || src->isa != (uint32_t)src_isa)
        return POPCORN_TRANSFORM_NO_METADATA;
    if (!scratch_ready())
        return POPCORN_TRANSFORM_NO_MEMORY;
    const unsigned s_sp = st->header->sp_register, s_fp = st->header->fp_register;
    const unsigned d_sp = dt->header->sp_register, d_fp = dt->header->fp_register;
    if (s_sp >= POPCORN_REG_COUNT || s_fp >= POPCORN_REG_COUNT || d_sp >= POPCORN_REG_COUNT ||
        d_fp >= POPCORN_REG_COUNT)
        return POPCORN_TRANSFORM_UNSUPPORTED;

    /* ---- pass 1: walk the source stack ---- */
    uint64_t regs[POPCORN_REG_COUNT];
    memcpy(regs, src->reg, sizeof regs);
    uint64_t pc = src->pc;
    size_t n = 0, value_count = 0;
    for (;;) {
        const struct popcorn_meta_call_site *s = popcorn_site_by_address(st, pc);
        if (!s) /* libc calling back into the program, a thread's start, a -fpopcorn-migration=none file */
            return POPCORN_TRANSFORM_UNKNOWN_FRAME;
        const struct popcorn_meta_call_site *d = popcorn_site_peer(st, s, dt);
        const struct popcorn_meta_frame *sf = popcorn_site_frame(st, s);
        unsigned count = popcorn_site_value_count(st, s);
        if (popcorn_site_value_count(dt, d) != count ||
            (popcorn_site_frame(dt, d)->flags & POPCORN_META_SITE_DYNAMIC_FRAME) || sf->cfa_register >= POPCORN_REG_COUNT)
            return POPCORN_TRANSFORM_UNSUPPORTED;
        if (n == SCRATCH_FRAMES || value_count + count > SCRATCH_VALUES)
            return POPCORN_TRANSFORM_NO_MEMORY;
        struct frame *f = &popcorn_transform_frames[n++];
        f->src = s;
        f->dst = d;
        f->src_sp = regs[s_sp];
        f->src_fp = regs[s_fp];
        f->src_cfa = regs[sf->cfa_register] + (int64_t)sf->cfa_offset;
        /* The CFA is above the frame's SP and below its caller's; anything else is not a frame. */
        if (f->src_cfa <= f->src_sp || (n > 1 && f->src_sp != popcorn_transform_frames[n - 2].src_cfa))
            return POPCORN_TRANSFORM_UNSUPPORTED;
        f->values = value_count;
        struct popcorn_value_cursor values = popcorn_site_values(st, s);
        for (unsigned i = 0; i < count; i++) {
            const struct popcorn_meta_live_value *lv = popcorn_value_next(&values);
            uint64_t v;
            int64_t cfa_offset;
            switch (lv->kind) {
            case POPCORN_META_LOC_REGISTER:
                if (lv->reg >= POPCORN_REG_COUNT)
                    return POPCORN_TRANSFORM_UNSUPPORTED;
                v = regs[lv->reg];
                break;
            case POPCORN_META_LOC_DIRECT:
            case POPCORN_META_LOC_INDIRECT:
                if (popcorn_value_cfa_offset(st, s, lv, &cfa_offset))
                    v = f->src_cfa + cfa_offset;
                else if (lv->reg < POPCORN_REG_COUNT)
                    v = regs[lv->reg] + (int64_t)lv->offset;
                else
                    return POPCORN_TRANSFORM_UNSUPPORTED;
                if (lv->kind == POPCORN_META_LOC_INDIRECT)
                    v = popcorn_transform_read_bytes(v, lv->size);
                break;
            case POPCORN_META_LOC_CONSTANT:
                v = popcorn_value_constant(lv);
                break;
            default:
                return POPCORN_TRANSFORM_UNSUPPORTED;
            }
            popcorn_transform_values[value_count++] = v;
        }
        /* Unwind to the caller: its SP is this CFA; RA and callee-saved registers from slots. */
        pc = popcorn_transform_read_bytes(f->src_cfa + (int64_t)sf->return_address_offset, 8);
        const struct popcorn_meta_saved_register *sr = popcorn_site_saved(st, s);
        int fp_listed = 0;
        for (unsigned i = 0; i < sf->saved_register_count; i++) {
            if (sr[i].reg >= POPCORN_REG_COUNT)
                return POPCORN_TRANSFORM_UNSUPPORTED;
            regs[sr[i].reg] = popcorn_transform_read_bytes(f->src_cfa + (int64_t)sr[i].cfa_offset, sr[i].size);
            fp_listed |= sr[i].reg == s_fp;
        }
        if ((sf->flags & POPCORN_META_SITE_FP_SAVED) && !fp_listed)
            regs[s_fp] = popcorn_transform_read_bytes(f->src_cfa + (int64_t)sf->frame_pointer_offset, 8);
        regs[s_sp] = f->src_cfa;
        /* main is the outermost frame moved, unless program code called it. */
        if (popcorn_site_function(st, s) == st->main_function && !popcorn_site_by_address(st, pc))
            break;
    }

    /* The program's jmp_bufs in these frames, and the values live across their setjmp calls. */
    popcorn_jmp_bufs_reset();
    if (!popcorn_jmp_bufs_match(st, dt, src_isa, n, &value_count))
        return POPCORN_TRANSFORM_NO_MEMORY;

    /* ---- pass 2: lay out the destination frames, copy stack objects ---- */
    uint64_t top = ((uint64_t)(uintptr_t)dst_stack_top) & ~(uint64_t)15;
    uint64_t bottom = (uint64_t)(uintptr_t)dst_stack_top - dst_stack_size;
    uint64_t cfa = top - 16; /* a little room above main's frame, as a libc caller would leave */
    for (size_t k = n; k-- > 0;) {
        struct frame *f = &popcorn_transform_frames[k];
        f->dst_cfa = cfa;
        uint64_t size = popcorn_site_frame_size(dt, f->dst);
        if (cfa - bottom < size + 16384)
            return POPCORN_TRANSFORM_NO_SPACE;
        cfa -= size;
    }
    size_t object_count = 0;
    for (size_t k = n; k-- > 0;) {
        struct frame *f = &popcorn_transform_frames[k];
        uint64_t sp = f->dst_cfa - popcorn_site_frame_size(dt, f->dst);
        for (uint64_t *w = (uint64_t *)(uintptr_t)sp; w < (uint64_t *)(uintptr_t)f->dst_cfa; w++)
            *w = POPCORN_POISON_WORD;
        struct popcorn_value_cursor src_values = popcorn_site_values(st, f->src), dst_values = popcorn_site_values(dt, f->dst);
        for (unsigned i = 0, count = popcorn_site_value_count(st, f->src); i < count; i++) {
            const struct popcorn_meta_live_value *slv = popcorn_value_next(&src_values);
            const struct popcorn_meta_live_value *dlv = popcorn_value_next(&dst_values);
            if ((slv->kind == POPCORN_META_LOC_DIRECT) != (dlv->kind == POPCORN_META_LOC_DIRECT))
                return POPCORN_TRANSFORM_UNSUPPORTED;
            if (slv->kind != POPCORN_META_LOC_DIRECT)
                continue;
            uint64_t address;
            if (!popcorn_transform_dst_location(dt, f, dlv, &address))
                return POPCORN_TRANSFORM_UNSUPPORTED;
            uint64_t s_size = popcorn_value_alloca_size(slv), d_size = popcorn_value_alloca_size(dlv);
            uint64_t size = s_size < d_size ? s_size : d_size;
            if (!(slv->flags & POPCORN_META_VALUE_ALLOCA) || size == 0)
                return POPCORN_TRANSFORM_UNSUPPORTED;
            if (object_count == SCRATCH_OBJECTS)
                return POPCORN_TRANSFORM_NO_MEMORY;
            uint64_t from = popcorn_transform_values[f->values + i];
            memcpy((void *)(uintptr_t)address, (const void *)(uintptr_t)from, size);
            popcorn_transform_objects[object_count++] = (struct moved_object){from, address, size};
        }
    }
    size_t frame_objects = object_count;
    if (!popcorn_jmp_bufs_copy_objects(st, dt, &object_count))
        return POPCORN_TRANSFORM_NO_MEMORY;
    sort_objects(object_count, frame_objects);
    /* Several live values may name the same object: keep one entry per source address. */
    size_t unique = 0;
    for (size_t i = 0; i < object_count; i++)
        if (unique == 0 || popcorn_transform_objects[unique - 1].src != popcorn_transform_objects[i].src)
            popcorn_transform_objects[unique++] = popcorn_transform_objects[i];
    object_count = unique;

    /* ---- pass 3: pointers, return addresses, callee-saved registers ---- */
    const uint64_t lo = popcorn_transform_frames[0].src_sp, hi = popcorn_transform_frames[n - 1].src_cfa;
    /* cur[r]: what register r must hold when the frame being built is returned into. */
    uint64_t cur[POPCORN_REG_COUNT];
    for (unsigned r = 0; r < POPCORN_REG_COUNT; r++)
        cur[r] = POPCORN_POISON_WORD;
    unsigned saved_count;
    const unsigned char *saved = callee_saved_list(src_isa, &saved_count);
    if (dst_isa == src_isa)
        for (unsigned i = 0; i < saved_count; i++)
            cur[saved[i]] = regs[saved[i]]; /* main's caller's registers, as main found them */
    for (size_t k = n; k-- > 0;) {
        struct frame *f = &popcorn_transform_frames[k];
        const struct popcorn_meta_call_site *d = f->dst;
        const struct popcorn_meta_frame *df = popcorn_site_frame(dt, d);
        /* The frame's own slots: its return address and the caller's registers it restores. */
        uint64_t ra = k == n - 1 ? (uint64_t)(uintptr_t)&__popcorn_main_return
                                 : popcorn_site_return_address(dt, popcorn_transform_frames[k + 1].dst);
        memcpy((void *)(uintptr_t)(f->dst_cfa + (int64_t)df->return_address_offset), &ra, 8);
        const struct popcorn_meta_saved_register *sr = popcorn_site_saved(dt, d);
        int fp_listed = 0;
        for (unsigned i = 0; i < df->saved_register_count; i++) {
            if (sr[i].reg >= POPCORN_REG_COUNT || sr[i].size > 8)
                return POPCORN_TRANSFORM_UNSUPPORTED;
            write_bytes(f->dst_cfa + (int64_t)sr[i].cfa_offset, cur[sr[i].reg], sr[i].size);
            fp_listed |= sr[i].reg == d_fp;
        }
        if ((df->flags & POPCORN_META_SITE_FP_SAVED) && !fp_listed)
            memcpy((void *)(uintptr_t)(f->dst_cfa + (int64_t)df->frame_pointer_offset), &cur[d_fp], 8);
        /* Inside this frame, the registers it saved hold only what its live values put there. */
        for (unsigned i = 0; i < df->saved_register_count; i++)
            cur[sr[i].reg] = POPCORN_POISON_WORD;
        if (df->cfa_register == d_fp)
            cur[d_fp] = f->dst_cfa - (int64_t)df->cfa_offset;
        popcorn_jmp_bufs_snapshot(k, cur);
        struct popcorn_value_cursor src_values = popcorn_site_values(st, f->src), dst_values = popcorn_site_values(dt, d);
        for (unsigned i = 0, count = popcorn_site_value_count(dt, d); i < count; i++) {
            const struct popcorn_meta_live_value *slv = popcorn_value_next(&src_values);
            const struct popcorn_meta_live_value *dlv = popcorn_value_next(&dst_values);
            uint64_t v = popcorn_transform_values[f->values + i];
            if (slv->kind == POPCORN_META_LOC_DIRECT) {
                /* A compiler-made slot holding a pointer is re-pointed for sure; the program's own
                 * objects are scanned word by word, since the metadata does not say which of
                 * their bytes are pointers (see docs/STACK-TRANSFORM.md). */
                uint64_t address;
                popcorn_transform_dst_location(dt, f, dlv, &address);
                uint64_t s_size = popcorn_value_alloca_size(slv), d_size = popcorn_value_alloca_size(dlv);
                popcorn_transform_repoint_object(address, s_size < d_size ? s_size : d_size, lo, hi, object_count);
                continue;
            }
            if (slv->flags & (POPCORN_META_VALUE_POINTER | POPCORN_META_VALUE_DERIVED))
                v = popcorn_transform_repoint(v, lo, hi, object_count);
            if (dlv->kind == POPCORN_META_LOC_REGISTER) {
                if (dlv->reg >= POPCORN_REG_COUNT)
                    return POPCORN_TRANSFORM_UNSUPPORTED;
                cur[dlv->reg] = v;
            } else if (dlv->kind == POPCORN_META_LOC_INDIRECT) {
                uint64_t address;
                if (!popcorn_transform_dst_location(dt, f, dlv, &address))
                    return POPCORN_TRANSFORM_UNSUPPORTED;
                write_bytes(address, v, dlv->size);
            }
        }
    }

    if ((options & POPCORN_TRANSFORM_KEEP_UNDESCRIBED) && dst_isa == src_isa) {
        /* Same layout on both sides: every callee-saved register no live value claims gets the
         * source's value back (slots and the resume set), re-pointed if it addressed a moved
         * object.  Only for isolating hidden register state from transformation bugs. */
        for (size_t k = 0; k < n; k++) {
            const struct frame *f = &popcorn_transform_frames[k];
            const struct popcorn_meta_saved_register *sr = popcorn_site_saved(dt, f->dst);
            for (unsigned i = 0; i < popcorn_site_frame(dt, f->dst)->saved_register_count; i++) {
                if (sr[i].reg == d_fp)
                    continue;
                uint64_t v = popcorn_transform_repoint(
                    popcorn_transform_read_bytes(f->src_cfa + (int64_t)sr[i].cfa_offset, 8), lo, hi, object_count);
                write_bytes(f->dst_cfa + (int64_t)sr[i].cfa_offset, v, sr[i].size);
            }
        }
        for (unsigned i = 0; i < saved_count; i++) {
            unsigned r = saved[i];
            if (r != d_fp && cur[r] == POPCORN_POISON_WORD)
                cur[r] = popcorn_transform_repoint(src->reg[r], lo, hi, object_count);
        }
    }

    if (!popcorn_jmp_bufs_finish(st, dt, dst_isa, lo, hi, object_count))
        return POPCORN_TRANSFORM_NO_MEMORY;
    popcorn_jmp_bufs_stacks(popcorn_transform_frames[0].src_sp, hi, bottom, (uint64_t)(uintptr_t)dst_stack_top);
    popcorn_jmp_bufs_skip((uint64_t)(uintptr_t)popcorn_transform_values,
                          (uint64_t)(uintptr_t)popcorn_transform_values + SCRATCH_BYTES);
    popcorn_jmp_bufs_skip_matches();

    dst_out->pc = popcorn_site_return_address(dt, popcorn_transform_frames[0].dst);
    dst_out->isa = (uint32_t)dst_isa;
    dst_out->reserved = 0;
    memcpy(dst_out->reg, cur, sizeof cur);
    dst_out->reg[d_sp] = popcorn_transform_frames[0].dst_cfa - popcorn_site_frame_size(dt, popcorn_transform_frames[0].dst);
    last_source_top = hi;
    return POPCORN_TRANSFORM_OK;
}

uint64_t popcorn_transform_source_top(void)
{
    return last_source_top;
}

const char *popcorn_transform_status_string(enum popcorn_transform_status status)
{
    switch (status) {
    case POPCORN_TRANSFORM_OK:
        return "ok";
    case POPCORN_TRANSFORM_NO_METADATA:
        return "no migration metadata";
    case POPCORN_TRANSFORM_UNKNOWN_FRAME:
        return "a frame without metadata is on the stack";
    case POPCORN_TRANSFORM_UNSUPPORTED:
        return "a frame cannot be rebuilt from the metadata";
    case POPCORN_TRANSFORM_NO_SPACE:
        return "the destination stack is too small";
    case POPCORN_TRANSFORM_NO_MEMORY:
        return "out of memory";
    }
    return "unknown status";
}
