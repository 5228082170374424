/*
 * metadata.h — the runtime's view of the running binary's .popcorn.meta section
 * (docs/METADATA.md, include/popcorn_metadata.h).  Private to the runtime.
 *
 * The section is read once, lazily, from /proc/self/exe.  Every binary carries the table of its
 * own ISA; the table of an ISA the process moves to is read from that ISA's binary.
 */
#ifndef POPCORN_RUNTIME_METADATA_H
#define POPCORN_RUNTIME_METADATA_H

#include "popcorn.h"
#include "popcorn_metadata.h"

#include <stddef.h>
#include <stdint.h>

/** One ISA's table, validated and indexed. */
struct popcorn_table {
    const struct popcorn_meta_header *header;
    const struct popcorn_meta_function *functions;
    const struct popcorn_meta_call_site *sites;          /* in ID order, the same on every ISA */
    const uint32_t *address_index;                       /* site indices sorted by return address */
    const struct popcorn_meta_frame *frames;
    const struct popcorn_meta_live_value *live_values;
    const struct popcorn_meta_saved_register *saved_registers;
    const void *value_lists;                             /* value sequences: uint16_t or uint32_t entries */
    const uint8_t *value_masks;
    const char *strings;
    uint64_t address_base;
    uint32_t function_count;
    uint32_t site_count;
    uint32_t string_table_size;
    int wide_value_index;                                /* value_lists holds uint32_t */
    uint32_t value_mask_size;
    /* Index of the function named "main", or UINT32_MAX: the walk's outermost frame. */
    uint32_t main_function;
};

/**
 * The table of `isa`, or NULL when there is none (no section, malformed section, no table for
 * that ISA).  The first call reads this process's executable, which carries its own ISA's table; a
 * failure is reported once on stderr and then remembered.  Another ISA's table is read, on its
 * first request, from the binary a move to that ISA would run (`popcorn_find_sibling`); why it
 * could not be is told by `popcorn_metadata_missing`.
 */
const struct popcorn_table *popcorn_metadata_table(enum popcorn_isa isa);

/**
 * Why `isa`'s table could not be read from that ISA's binary, with `*file` set to the file
 * concerned; NULL when it was read, or was never asked for.  Such a failure (no sibling, a
 * sibling from another link) makes a move to `isa` impossible for the rest of the run.
 */
const char *popcorn_metadata_missing(enum popcorn_isa isa, const char **file);

/**
 * The address range where another ISA's binary is mapped for its table (0, 0 when none is): a
 * checkpoint leaves it out, since the restored process reads the tables it needs again.
 */
void popcorn_metadata_foreign_mapping(uint64_t range[2]);

/** The call site whose return address is `return_address`, or NULL. */
const struct popcorn_meta_call_site *popcorn_site_by_address(const struct popcorn_table *table,
                                                             uint64_t return_address);

/** The same call site in another ISA's table: the one at the same position (the tables list the
 *  same sites in the same order; checked at load). */
static inline const struct popcorn_meta_call_site *popcorn_site_peer(const struct popcorn_table *table,
                                                                     const struct popcorn_meta_call_site *site,
                                                                     const struct popcorn_table *other)
{
    return &other->sites[site - table->sites];
}

/** The index of the function containing a site (found from the return address at load). */
uint32_t popcorn_site_function(const struct popcorn_table *table, const struct popcorn_meta_call_site *site);

/** The absolute return address of a site. */
static inline uint64_t popcorn_site_return_address(const struct popcorn_table *table,
                                                   const struct popcorn_meta_call_site *site)
{
    return table->address_base + site->return_address;
}

/** The frame description of a site (validated at load: the index is in range). */
static inline const struct popcorn_meta_frame *popcorn_site_frame(const struct popcorn_table *table,
                                                                  const struct popcorn_meta_call_site *site)
{
    return &table->frames[site->frame_index];
}

/** Entry `i` of the value sequences. */
static inline uint32_t popcorn_value_list_entry(const struct popcorn_table *table, uint32_t i)
{
    return table->wide_value_index ? ((const uint32_t *)table->value_lists)[i]
                                   : ((const uint16_t *)table->value_lists)[i];
}

/** Position in the value sequences of the count entry of the sequence a site's mask selects
 *  from: its function's (every site has one; checked at load). */
static inline uint32_t popcorn_site_sequence(const struct popcorn_table *table,
                                             const struct popcorn_meta_call_site *site)
{
    return table->functions[popcorn_site_function(table, site)].value_list;
}

/** How many live values a site lists (the bits set in its mask). */
unsigned popcorn_site_value_count(const struct popcorn_table *table, const struct popcorn_meta_call_site *site);

/** A walk over a site's live values in order (the order that pairs them across ISAs): the
 *  values are the sequence entries of the mask's set bits, and a whole walk reads each mask
 *  byte once. */
struct popcorn_value_cursor {
    const struct popcorn_table *table;
    const uint8_t *mask;
    uint32_t sequence;  /* position of the first sequence entry */
    uint32_t byte;      /* mask byte `bits` came from */
    unsigned bits;      /* its set bits not yet visited */
};

/** A cursor at the first of a site's live values. */
struct popcorn_value_cursor popcorn_site_values(const struct popcorn_table *table,
                                                const struct popcorn_meta_call_site *site);

/** The next live value; call it at most popcorn_site_value_count times. */
const struct popcorn_meta_live_value *popcorn_value_next(struct popcorn_value_cursor *c);

/** CFA - SP at a site's call (0 in a dynamic frame). */
static inline uint64_t popcorn_site_frame_size(const struct popcorn_table *table,
                                               const struct popcorn_meta_call_site *site)
{
    return popcorn_site_frame(table, site)->frame_size;
}

/** Where the site's function keeps its return address: CFA + this. */
static inline int64_t popcorn_site_return_address_offset(const struct popcorn_table *table,
                                                         const struct popcorn_meta_call_site *site)
{
    return popcorn_site_frame(table, site)->return_address_offset;
}

/** The callee-saved registers a site's function spilled (the frame's saved_register_count). */
static inline const struct popcorn_meta_saved_register *
popcorn_site_saved(const struct popcorn_table *table, const struct popcorn_meta_call_site *site)
{
    return table->saved_registers + popcorn_site_frame(table, site)->first_saved_register;
}

/**
 * The CFA-relative offset of a frame slot (DIRECT/INDIRECT value with VALUE_CFA_RELATIVE): the
 * format stores the slot as reg + offset, and reg is the CFA register or, in a fixed-size frame,
 * the stack pointer.  Returns 0 when the value is not CFA-relative.
 */
static inline int popcorn_value_cfa_offset(const struct popcorn_table *table,
                                           const struct popcorn_meta_call_site *site,
                                           const struct popcorn_meta_live_value *lv, int64_t *out)
{
    const struct popcorn_meta_frame *frame = popcorn_site_frame(table, site);
    if (!(lv->flags & POPCORN_META_VALUE_CFA_RELATIVE))
        return 0;
    if (lv->reg == frame->cfa_register) {
        *out = (int64_t)lv->offset - frame->cfa_offset;
        return 1;
    }
    if (lv->reg == table->header->sp_register && !(frame->flags & POPCORN_META_SITE_DYNAMIC_FRAME)) {
        *out = (int64_t)lv->offset - (int64_t)frame->frame_size;
        return 1;
    }
    return 0;
}

/** The value of a CONSTANT live value. */
static inline uint64_t popcorn_value_constant(const struct popcorn_meta_live_value *lv)
{
    return (uint64_t)(uint32_t)lv->offset | (uint64_t)lv->extra << 32;
}

/** Bytes of the stack object a VALUE_ALLOCA value addresses (0 if unknown or not an alloca). */
static inline uint64_t popcorn_value_alloca_size(const struct popcorn_meta_live_value *lv)
{
    return (lv->flags & POPCORN_META_VALUE_ALLOCA) ? lv->extra : 0;
}

/** Name of the function containing a site ("" if unknown). */
const char *popcorn_site_function_name(const struct popcorn_table *table,
                                       const struct popcorn_meta_call_site *site);

#endif /* POPCORN_RUNTIME_METADATA_H */
