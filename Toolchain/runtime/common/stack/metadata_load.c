/*
 * Loading .popcorn.meta (docs/METADATA.md) from /proc/self/exe, and another ISA's table from that
 * ISA's binary.  The section is not allocated, so it is not in memory: each file is mapped
 * read-only once and stays mapped for the life of the process (the tables point into it).
 * Everything is validated before use, so a corrupt section makes migration impossible rather
 * than crashing the program.
 */
#include "metadata.h"
#include "../sibling.h"
#include "../transform.h"

#include <elf.h>
#include <stddef.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static struct popcorn_table tables[POPCORN_ISA_COUNT];
static int table_present[POPCORN_ISA_COUNT];
/* 0: not loaded, 1: loading, 2: done (successfully or not). */
static int load_state;

static void warn_once(const char *why)
{
    fprintf(stderr, "popcorn: warning: cannot read migration metadata: %s; migration disabled\n", why);
}

static int range_ok(uint64_t offset, uint64_t count, uint64_t size, uint64_t limit)
{
    if (offset % 8 != 0 && count != 0)
        return 0;
    if (count != 0 && size > (limit / count))
        return 0;
    return offset <= limit && count * size <= limit - offset;
}

/* Validates one table at `base` (`available` bytes left in the section); fills `out`.  Every
 * index the transformation follows is checked here, once, so the hot paths need no checks. */
static const char *index_table(const unsigned char *base, uint64_t available, struct popcorn_table *out,
                               uint64_t *table_size)
{
    const struct popcorn_meta_header *h = (const void *)base;
    if (available < 10)
        return "truncated table header";
    if (memcmp(h->magic, POPCORN_META_MAGIC, POPCORN_META_MAGIC_SIZE) != 0)
        return "bad magic";
    if (h->version != POPCORN_META_VERSION)
        return "unsupported metadata version (relink the program with this popcorn-ld)";
    if (available < sizeof *h)
        return "truncated table header";
    if (h->header_size < sizeof *h || h->total_size % 8 != 0 || h->total_size > available ||
        h->total_size < h->header_size || (h->flags & ~POPCORN_META_WIDE_VALUE_INDEX) != 0)
        return "bad table size";
    uint64_t n = h->total_size;
    /* Damage, even identical in every copy, is found before anything else is read. */
    uint64_t hash = 0xcbf29ce484222325ull;
    for (uint64_t at = 0; at < n; at += 8) {
        uint64_t word = 0;
        if (at != offsetof(struct popcorn_meta_header, checksum))
            memcpy(&word, base + at, sizeof word);
        hash = (hash ^ word) * 0x100000001b3ull;
    }
    if (hash != h->checksum)
        return "checksum mismatch (the metadata is damaged)";
    int wide = (h->flags & POPCORN_META_WIDE_VALUE_INDEX) != 0;
    if (!range_ok(h->functions_offset, h->function_count, sizeof(struct popcorn_meta_function), n) ||
        !range_ok(h->call_sites_offset, h->call_site_count, sizeof(struct popcorn_meta_call_site), n) ||
        !range_ok(h->address_index_offset, h->call_site_count, sizeof(uint32_t), n) ||
        !range_ok(h->frames_offset, h->frame_count, sizeof(struct popcorn_meta_frame), n) ||
        !range_ok(h->live_values_offset, h->live_value_count, sizeof(struct popcorn_meta_live_value), n) ||
        !range_ok(h->value_lists_offset, h->value_list_size, wide ? 4 : 2, n) ||
        h->value_masks_offset > n || h->value_mask_size > n - h->value_masks_offset ||
        !range_ok(h->saved_registers_offset, h->saved_register_count,
                  sizeof(struct popcorn_meta_saved_register), n) ||
        h->string_table_offset > n || h->string_table_size > n - h->string_table_offset)
        return "array out of bounds";
    out->header = h;
    out->functions = (const void *)(base + h->functions_offset);
    out->sites = (const void *)(base + h->call_sites_offset);
    out->address_index = (const void *)(base + h->address_index_offset);
    out->frames = (const void *)(base + h->frames_offset);
    out->live_values = (const void *)(base + h->live_values_offset);
    out->value_lists = base + h->value_lists_offset;
    out->value_masks = base + h->value_masks_offset;
    out->value_mask_size = h->value_mask_size;
    out->saved_registers = (const void *)(base + h->saved_registers_offset);
    out->strings = (const char *)(base + h->string_table_offset);
    out->address_base = h->address_base;
    out->wide_value_index = wide;
    out->function_count = h->function_count;
    out->site_count = h->call_site_count;
    out->string_table_size = h->string_table_size;
    if (out->string_table_size == 0 || out->strings[out->string_table_size - 1] != '\0')
        return "string table not terminated";
    for (uint32_t i = 0; i < h->frame_count; i++)
        if ((uint64_t)out->frames[i].first_saved_register + out->frames[i].saved_register_count >
            h->saved_register_count)
            return "frame out of bounds";
    /* Functions first: a site's value sequence is found through its function (by address). */
    out->main_function = UINT32_MAX;
    for (uint32_t i = 0; i < out->function_count; i++) {
        if (out->functions[i].name_offset >= out->string_table_size)
            return "function name out of bounds";
        if (i > 0 && out->functions[i - 1].address >= out->functions[i].address)
            return "functions not sorted by address";
        const struct popcorn_meta_function *f = &out->functions[i];
        if (f->value_list >= h->value_list_size ||
            (uint64_t)f->value_list + 1 + popcorn_value_list_entry(out, f->value_list) > h->value_list_size)
            return "value sequence out of bounds";
        if (strcmp(out->strings + f->name_offset, "main") == 0)
            out->main_function = i;
    }
    for (uint32_t i = 0; i < out->site_count; i++) {
        const struct popcorn_meta_call_site *s = &out->sites[i];
        if (s->frame_index >= h->frame_count)
            return "call site out of bounds";
        if (popcorn_site_function(out, s) == UINT32_MAX)
            return "call site outside every function";
        uint32_t sequence = popcorn_site_sequence(out, s);
        uint32_t count = popcorn_value_list_entry(out, sequence);
        uint32_t mask_bytes = (count + 7) / 8;
        if (s->value_mask > h->value_mask_size || mask_bytes > h->value_mask_size - s->value_mask)
            return "value mask out of bounds";
        /* Only the entries the mask selects are read; bits past the sequence must be clear. */
        const uint8_t *mask = out->value_masks + s->value_mask;
        for (uint32_t byte = 0; byte < mask_bytes; byte++)
            for (unsigned bits = mask[byte]; bits != 0; bits &= bits - 1) {
                uint32_t v = byte * 8 + (unsigned)__builtin_ctz(bits);
                if (v >= count || popcorn_value_list_entry(out, sequence + 1 + v) >= h->live_value_count)
                    return "value list out of bounds";
            }
        if (out->address_index[i] >= out->site_count)
            return "address index out of bounds";
        if (i > 0 && out->sites[out->address_index[i - 1]].return_address >
                         out->sites[out->address_index[i]].return_address)
            return "address index not sorted";
    }
    *table_size = n;
    return NULL;
}

static const char *index_file(const unsigned char *file, uint64_t size, int only);

/* Maps the ELF file open at `fd` (for the life of the process: the tables point into it) and
 * indexes the tables of its .popcorn.meta section: every table when `only` is negative, else
 * that ISA's alone.  `mapping` receives the mapped range, or 0, 0 when the file was not usable
 * (then nothing stays mapped).  Returns NULL or the reason it failed. */
static const char *load_file(int fd, int only, uint64_t mapping[2])
{
    mapping[0] = mapping[1] = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr))
        return "cannot stat the executable";
    uint64_t size = (uint64_t)st.st_size;
    const unsigned char *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED)
        return "cannot map the executable";
    const char *why = index_file(file, size, only);
    if (why) {
        munmap((void *)file, size);
        return why;
    }
    uint64_t page = (uint64_t)getpagesize();
    mapping[0] = (uint64_t)(uintptr_t)file;
    mapping[1] = mapping[0] + (size + page - 1) / page * page;
    return NULL;
}

/* Finds .popcorn.meta in the ELF file mapped at `file` and indexes its tables (see load_file);
 * `tables` and `table_present` change only when the whole section is sound. */
static const char *index_file(const unsigned char *file, uint64_t size, int only)
{
    struct popcorn_table found[POPCORN_ISA_COUNT];
    int present[POPCORN_ISA_COUNT] = {0};
    const Elf64_Ehdr *eh = (const void *)file;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff || eh->e_shstrndx >= eh->e_shnum)
        return "not a 64-bit ELF file with section headers";
    const Elf64_Shdr *sh = (const void *)(file + eh->e_shoff);
    const Elf64_Shdr *names = &sh[eh->e_shstrndx];
    if (names->sh_offset > size || names->sh_size > size - names->sh_offset)
        return "bad section name table";
    const Elf64_Shdr *meta = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_name >= names->sh_size)
            continue;
        const char *name = (const char *)file + names->sh_offset + sh[i].sh_name;
        size_t room = names->sh_size - sh[i].sh_name;
        if (strnlen(name, room) < room && strcmp(name, POPCORN_META_SECTION) == 0) {
            meta = &sh[i];
            break;
        }
    }
    if (!meta)
        return "no " POPCORN_META_SECTION " section";
    if (meta->sh_type != SHT_PROGBITS || meta->sh_offset > size || meta->sh_size > size - meta->sh_offset ||
        meta->sh_offset % 8 != 0)
        return "bad " POPCORN_META_SECTION " section header";
    const unsigned char *section = file + meta->sh_offset;
    uint64_t offset = 0;
    while (offset < meta->sh_size) {
        struct popcorn_table table;
        uint64_t table_size = 0;
        const char *why = index_table(section + offset, meta->sh_size - offset, &table, &table_size);
        if (why)
            return why;
        int isa = table.header->isa == POPCORN_META_ISA_X86_64    ? POPCORN_ISA_X86_64
                  : table.header->isa == POPCORN_META_ISA_AARCH64 ? POPCORN_ISA_AARCH64
                                                                  : -1;
        if (isa < 0)
            return "unknown ISA in a table";
        if (only < 0 || isa == only) {
            found[isa] = table;
            present[isa] = 1;
        }
        offset += table_size;
    }
    for (int isa = 0; isa < POPCORN_ISA_COUNT; isa++)
        if (present[isa]) {
            tables[isa] = found[isa];
            table_present[isa] = 1;
        }
    return NULL;
}

/* Whether the two ISAs' tables, where both are loaded, describe one set of call sites. */
static int tables_agree(void)
{
    return !table_present[POPCORN_ISA_X86_64] || !table_present[POPCORN_ISA_AARCH64] ||
           (tables[POPCORN_ISA_X86_64].header->site_set_hash == tables[POPCORN_ISA_AARCH64].header->site_set_hash &&
            tables[POPCORN_ISA_X86_64].site_count == tables[POPCORN_ISA_AARCH64].site_count);
}

/* Reads this process's executable; returns NULL or the reason it failed. */
static const char *load(void)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "cannot open /proc/self/exe";
    uint64_t mapping[2];
    const char *why = load_file(fd, -1, mapping);
    close(fd);
    if (!why && !tables_agree())
        why = "the ISAs' tables describe different call sites";
    return why;
}

/*
 * Each binary carries its own ISA's table only (docs/METADATA.md): another ISA's is read from the
 * binary a move to that ISA would run, found and trusted by the rule of the process move
 * (sibling.c; weak, so the stack transformation links without it).  Why a sibling's table could
 * not be read is kept, with the file concerned, for the move's one warning.
 */
extern const char *popcorn_find_sibling(enum popcorn_isa dst, struct popcorn_sibling *out) __attribute__((weak));
static int sibling_state[POPCORN_ISA_COUNT];
static const char *sibling_failure[POPCORN_ISA_COUNT];
static struct popcorn_sibling sibling;
/* Where the other binary is mapped (0, 0 when it is not): a checkpoint leaves it out. */
static uint64_t sibling_mapping[2];

static const char *load_sibling(enum popcorn_isa isa)
{
    if (!popcorn_find_sibling) {
        strcpy(sibling.path, "/proc/self/exe");
        return "has no table for that ISA";
    }
    const char *why = popcorn_find_sibling(isa, &sibling);
    if (why)
        return why;
    why = load_file(sibling.fd, (int)isa, sibling_mapping);
    close(sibling.fd);
    sibling.fd = -1;
    if (!why && !table_present[isa])
        why = "has no migration metadata for its ISA";
    if (!why && !tables_agree()) {
        table_present[isa] = 0;
        why = "has migration metadata for other call sites (link both binaries again)";
    }
    if (why && sibling_mapping[1] > sibling_mapping[0]) {
        munmap((void *)(uintptr_t)sibling_mapping[0], sibling_mapping[1] - sibling_mapping[0]);
        sibling_mapping[0] = sibling_mapping[1] = 0;
    }
    return why;
}

void popcorn_metadata_foreign_mapping(uint64_t range[2])
{
    range[0] = sibling_mapping[0];
    range[1] = sibling_mapping[1];
}

const char *popcorn_metadata_missing(enum popcorn_isa isa, const char **file)
{
    if ((unsigned)isa >= POPCORN_ISA_COUNT || __atomic_load_n(&sibling_state[isa], __ATOMIC_ACQUIRE) != 2)
        return NULL;
    if (file)
        *file = sibling.path;
    return sibling_failure[isa];
}

/*
 * Forgets the loaded tables: called by the restore of a process move, whose executable mapping
 * (read-only, so not carried over) is gone; the next lookup maps the new executable.
 */
void __popcorn_metadata_forget(void)
{
    memset(tables, 0, sizeof tables);
    memset(table_present, 0, sizeof table_present);
    memset(sibling_failure, 0, sizeof sibling_failure);
    memset(sibling_mapping, 0, sizeof sibling_mapping);
    for (int isa = 0; isa < POPCORN_ISA_COUNT; isa++)
        __atomic_store_n(&sibling_state[isa], 0, __ATOMIC_RELEASE);
    __atomic_store_n(&load_state, 0, __ATOMIC_RELEASE);
}

/* Whether the caller is to do the loading `*state` guards (0 not done, 1 under way, 2 done): the
 * first caller is, and marks it done with `done`; any other waits until it is (a section is
 * small). */
static int claim(int *state)
{
    if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == 2)
        return 0;
    int expected = 0;
    if (__atomic_compare_exchange_n(state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return 1;
    while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != 2)
        sched_yield();
    return 0;
}

static void done(int *state) { __atomic_store_n(state, 2, __ATOMIC_RELEASE); }

const struct popcorn_table *popcorn_metadata_table(enum popcorn_isa isa)
{
    if (claim(&load_state)) {
        const char *why = load();
        if (why) {
            table_present[0] = table_present[1] = 0;
            warn_once(why);
        }
        done(&load_state);
    }
    if ((unsigned)isa >= POPCORN_ISA_COUNT)
        return NULL;
    /* Another ISA's table, once, from its binary (only when this binary's own table was read). */
    if (!table_present[isa] && table_present[POPCORN_RUNTIME_ISA] && claim(&sibling_state[isa])) {
        sibling_failure[isa] = load_sibling(isa);
        done(&sibling_state[isa]);
    }
    if (!table_present[isa])
        return NULL;
    return &tables[isa];
}

const struct popcorn_meta_call_site *popcorn_site_by_address(const struct popcorn_table *table,
                                                             uint64_t return_address)
{
    /* Stored addresses are 32-bit distances from address_base. */
    if (return_address < table->address_base || return_address - table->address_base > UINT32_MAX)
        return NULL;
    uint32_t relative = (uint32_t)(return_address - table->address_base);
    uint32_t lo = 0, hi = table->site_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct popcorn_meta_call_site *s = &table->sites[table->address_index[mid]];
        if (s->return_address == relative)
            return s;
        if (s->return_address < relative)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

unsigned popcorn_site_value_count(const struct popcorn_table *table, const struct popcorn_meta_call_site *site)
{
    const uint8_t *mask = table->value_masks + site->value_mask;
    unsigned count = 0;
    /* A few bytes per site: a plain loop, not clang's vectorized popcount (half a KiB of code). */
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (unsigned b = 0, n = (popcorn_value_list_entry(table, popcorn_site_sequence(table, site)) + 7) / 8; b < n; b++)
        count += (unsigned)__builtin_popcount(mask[b]);
    return count;
}

struct popcorn_value_cursor popcorn_site_values(const struct popcorn_table *table,
                                                const struct popcorn_meta_call_site *site)
{
    const uint8_t *mask = table->value_masks + site->value_mask;
    uint32_t sequence = popcorn_site_sequence(table, site);
    struct popcorn_value_cursor c = {table, mask, sequence + 1, 0,
                                     popcorn_value_list_entry(table, sequence) ? mask[0] : 0u};
    return c;
}

const struct popcorn_meta_live_value *popcorn_value_next(struct popcorn_value_cursor *c)
{
    while (c->bits == 0)
        c->bits = c->mask[++c->byte];
    uint32_t entry = c->byte * 8 + (unsigned)__builtin_ctz(c->bits);
    c->bits &= c->bits - 1;
    return &c->table->live_values[popcorn_value_list_entry(c->table, c->sequence + entry)];
}

uint32_t popcorn_site_function(const struct popcorn_table *table, const struct popcorn_meta_call_site *site)
{
    /* The last function starting before the return address (a call can end its function, so
     * the return address may be the function's end). */
    uint32_t lo = 0, hi = table->function_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (table->functions[mid].address < site->return_address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return UINT32_MAX;
    const struct popcorn_meta_function *f = &table->functions[lo - 1];
    if (f->size != 0 && site->return_address - f->address > f->size)
        return UINT32_MAX;
    return lo - 1;
}

const char *popcorn_site_function_name(const struct popcorn_table *table,
                                       const struct popcorn_meta_call_site *site)
{
    uint32_t f = popcorn_site_function(table, site);
    return f == UINT32_MAX ? "" : table->strings + table->functions[f].name_offset;
}
