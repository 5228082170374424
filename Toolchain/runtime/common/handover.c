/*
 * What a move between ISAs must not copy (docs/PROCESS-MOVE.md, "Cross-ISA restore").
 *
 * The aligned layout puts every object at one address on every ISA, but a few of libc's objects
 * hold ISA-specific contents: the thread descriptor (musl's struct pthread differs per ISA and
 * sits on the other side of the TLS block), the TLS bookkeeping and auxv pointer in __libc, the
 * hardware capabilities, the vDSO entry points, and the GOT (this ISA's link-time constants).  The destination keeps its own copies of those,
 * and of the bytes of its own writable segments the source's segments do not cover (data only
 * one ISA has, sharing a page with common data).  Everything here reads the executable's
 * program headers and symbol table with raw system calls only, because the restore uses it
 * while libc's memory is about to be replaced.
 */
#include "checkpoint_format.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

/* Its address on this ISA minus its offset in the TLS segment is this thread's TLS block. */
__thread unsigned char __popcorn_tls_anchor;

/* libc objects (or parts of them) whose contents are per ISA or per process start (musl 1.2):
 * kept from the destination process.  `size` 0 keeps the whole object. */
struct per_isa_object {
    const char *name;
    uint64_t offset, size;
};

static const struct per_isa_object per_isa_objects[] = {
#if defined(POPCORN_PORTABLE_LIBC)
    /* One C library for both ISAs (docs/LIBC.md): its state, the thread descriptor and the TLS
     * block are the same objects at the same addresses on both, and travel with the process.
     * Only what describes this process's own start remains. */
    {"__libc", 8, 8},   /* libc.auxv: this process's auxiliary vector */
    {"__hwcap", 0, 0},  /* the CPU's capabilities */
    {"__sysinfo", 0, 0}, /* vDSO base */
#else
    {"__libc", 0, 0},      /* TLS sizes and alignment, auxv pointer, page size */
    {"__hwcap", 0, 0},     /* the CPU's capabilities */
    {"__sysinfo", 0, 0},   /* vDSO base */
    {"vdso_func", 0, 0},   /* cached vDSO clock_gettime (qemu-user's guest has none, or another one) */
    {"builtin_tls", 0, 0}, /* the main thread's descriptor and TLS block */
    {"main_tls", 0, 0},    /* the TLS image record: offset from the thread pointer differs per ISA */
#endif
};

#define OBJECT_KINDS (sizeof per_isa_objects / sizeof per_isa_objects[0])

static const struct per_isa_object *per_isa(const char *name, const char *end)
{
    size_t room = (size_t)(end - name);
    for (size_t i = 0; i < OBJECT_KINDS; i++) {
        size_t length = strlen(per_isa_objects[i].name);
        if (length < room && memcmp(name, per_isa_objects[i].name, length + 1) == 0)
            return &per_isa_objects[i];
    }
    return NULL;
}

static int in_file(uint64_t offset, uint64_t length, uint64_t size)
{
    return offset <= size && length <= size - offset;
}

static long parse(const unsigned char *file, uint64_t size, struct popcorn_exe_layout *out)
{
    const Elf64_Ehdr *eh = (const void *)file;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size) ||
        !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
        return -ENOEXEC;
    const Elf64_Phdr *ph = (const void *)(file + eh->e_phoff);
    uint64_t tls_vaddr = 0;
    int have_tls = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_TLS) {
            have_tls = 1;
            tls_vaddr = ph[i].p_vaddr;
            out->tls_size = ph[i].p_memsz;
        } else if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W) && ph[i].p_memsz) {
            if (out->segment_count == POPCORN_HANDOVER_SEGMENTS)
                return -E2BIG;
            out->segments[out->segment_count].start = ph[i].p_vaddr;
            out->segments[out->segment_count].size = ph[i].p_memsz;
            out->segment_count++;
        }
    }
    if (!have_tls)
        return -ENOEXEC; /* the runtime's own anchor is thread-local: there is always a PT_TLS */

    const Elf64_Shdr *sh = (const void *)(file + eh->e_shoff);
    /* The GOT holds link-time constants of this ISA's code (addresses it loads indirectly) at
     * an address the other binary uses for its own GOT or for data. */
    if (eh->e_shstrndx < eh->e_shnum) {
        const Elf64_Shdr *section_names = &sh[eh->e_shstrndx];
        if (!in_file(section_names->sh_offset, section_names->sh_size, size))
            return -ENOEXEC;
        const char *names = (const char *)file + section_names->sh_offset;
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_name >= section_names->sh_size || !(sh[i].sh_flags & SHF_ALLOC) || !sh[i].sh_size)
                continue;
            const char *name = names + sh[i].sh_name;
            size_t room = section_names->sh_size - sh[i].sh_name;
            if (strnlen(name, room) == room || (strcmp(name, ".got") != 0 && strcmp(name, ".got.plt") != 0))
                continue;
            if (out->object_count == POPCORN_HANDOVER_OBJECTS)
                return -E2BIG;
            out->objects[out->object_count].start = sh[i].sh_addr;
            out->objects[out->object_count].size = sh[i].sh_size;
            out->object_count++;
        }
    }
    int anchor_found = 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strings = &sh[sh[i].sh_link];
        if (!in_file(sh[i].sh_offset, sh[i].sh_size, size) || !in_file(strings->sh_offset, strings->sh_size, size))
            return -ENOEXEC;
        const Elf64_Sym *symbols = (const void *)(file + sh[i].sh_offset);
        const char *names = (const char *)file + strings->sh_offset;
        const char *names_end = names + strings->sh_size;
        for (uint64_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); k++) {
            const Elf64_Sym *symbol = &symbols[k];
            if (symbol->st_name >= strings->sh_size || symbol->st_size == 0)
                continue;
            const char *name = names + symbol->st_name;
            int type = ELF64_ST_TYPE(symbol->st_info);
            if (type == STT_TLS && strcmp(name, "__popcorn_tls_anchor") == 0) {
                /* In an executable a TLS symbol's value is its offset in the TLS segment. */
                out->tls_block = (uint64_t)(uintptr_t)&__popcorn_tls_anchor - symbol->st_value;
                (void)tls_vaddr;
                anchor_found = 1;
            } else if (type == STT_OBJECT && per_isa(name, names_end)) {
                const struct per_isa_object *kept = per_isa(name, names_end);
                if (out->object_count == POPCORN_HANDOVER_OBJECTS)
                    return -E2BIG;
                if (kept->offset + kept->size > symbol->st_size)
                    return -ENOEXEC;
                out->objects[out->object_count].start = symbol->st_value + kept->offset;
                out->objects[out->object_count].size = kept->size ? kept->size : symbol->st_size;
                out->object_count++;
            }
        }
    }
    /* Without a symbol table (a binary linked with -s) the objects cannot be found. */
    return anchor_found && out->object_count ? 0 : -ENOENT;
}

long popcorn_read_exe_layout(struct popcorn_exe_layout *out)
{
    memset(out, 0, sizeof *out);
    long fd = popcorn_sys(SYS_openat, AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fd;
    long size = popcorn_sys(SYS_lseek, fd, 0, 2 /* SEEK_END */);
    if (size <= 0) {
        popcorn_sys(SYS_close, fd);
        return size < 0 ? size : -ENOEXEC;
    }
    long file = popcorn_sys(SYS_mmap, 0, size, PROT_READ, MAP_PRIVATE, fd, 0);
    popcorn_sys(SYS_close, fd);
    if (file < 0 && file > -4096)
        return file;
    long status = parse((const unsigned char *)file, (uint64_t)size, out);
    popcorn_sys(SYS_munmap, file, size);
    return status;
}

uint32_t popcorn_kept_ranges(const struct popcorn_exe_layout *own, const struct popcorn_ckpt_header *source,
                             struct popcorn_handover_range *out, uint32_t capacity)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < own->object_count && n < capacity; i++)
        out[n++] = own->objects[i];
    /* Parts of this binary's writable segments outside every source segment: data only this
     * ISA has.  The source's pages that hold them carry the source's bytes (zeros or its own
     * ISA-only data), so they are put back from this process. */
    for (uint32_t i = 0; i < own->segment_count; i++) {
        uint64_t cursor = own->segments[i].start, end = cursor + own->segments[i].size;
        while (cursor < end && n < capacity) {
            uint64_t gap_end = end;
            for (uint32_t k = 0; k < source->segment_count; k++) {
                uint64_t start = source->segments[k][0], stop = start + source->segments[k][1];
                if (start <= cursor && cursor < stop) {
                    cursor = stop; /* covered: skip past it */
                    gap_end = 0;
                    break;
                }
                if (start > cursor && start < gap_end)
                    gap_end = start;
            }
            if (!gap_end)
                continue;
            out[n].start = cursor;
            out[n].size = gap_end - cursor;
            n++;
            cursor = gap_end;
        }
    }
    return n;
}
