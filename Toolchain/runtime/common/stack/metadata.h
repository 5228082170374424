/*
 * metadata.h — the runtime's view of the running binary's .popcorn.meta section
 * (docs/METADATA.md, include/popcorn_metadata.h).  Private to the runtime.
 *
 * The section is read once, lazily, from /proc/self/exe.  Every binary carries the tables of
 * all ISAs, so the process finds the table of the ISA it runs on and of the ISA it may move to.
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
    const struct popcorn_meta_call_site *sites;          /* sorted by id */
    const uint32_t *address_index;                       /* site indices sorted by return address */
    const struct popcorn_meta_live_value *live_values;
    const struct popcorn_meta_saved_register *saved_registers;
    const char *strings;
    uint32_t function_count;
    uint32_t site_count;
    uint32_t string_table_size;
    /* Index of the function named "main", or UINT32_MAX: the walk's outermost frame. */
    uint32_t main_function;
};

/**
 * The table of `isa` in this process's executable, or NULL when there is none (no section,
 * malformed section, no table for that ISA).  The first call reads the section; a failure is
 * reported once on stderr and then remembered.
 */
const struct popcorn_table *popcorn_metadata_table(enum popcorn_isa isa);

/** The call site whose return address is `return_address`, or NULL. */
const struct popcorn_meta_call_site *popcorn_site_by_address(const struct popcorn_table *table,
                                                             uint64_t return_address);

/** The call site with this ID, or NULL. */
const struct popcorn_meta_call_site *popcorn_site_by_id(const struct popcorn_table *table, uint64_t id);

/** The live values of a site (live_value_count of them). */
static inline const struct popcorn_meta_live_value *
popcorn_site_values(const struct popcorn_table *table, const struct popcorn_meta_call_site *site)
{
    return table->live_values + site->first_live_value;
}

/** The callee-saved registers a site's function spilled (saved_register_count of them). */
static inline const struct popcorn_meta_saved_register *
popcorn_site_saved(const struct popcorn_table *table, const struct popcorn_meta_call_site *site)
{
    return table->saved_registers + site->first_saved_register;
}

/** Name of the function containing a site ("" if unknown). */
const char *popcorn_site_function_name(const struct popcorn_table *table,
                                       const struct popcorn_meta_call_site *site);

#endif /* POPCORN_RUNTIME_METADATA_H */
