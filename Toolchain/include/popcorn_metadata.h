/*
 * popcorn_metadata.h - the stack-transformation metadata format (".popcorn.meta").
 *
 * Specified in docs/METADATA.md; written by popcorn-ld (PopcornMetadata), read by the
 * runtime and popcorn-dump. All integers are little-endian; all structures are packed and
 * their sizes are checked below. Offsets are relative to the start of the table (blob) that
 * contains them.
 *
 * The section holds one table per ISA, back to back, each starting at a multiple of 8 bytes
 * from the section start; the next table begins `total_size` bytes after the current one.
 * Every binary of a program carries the same section, so a process finds the tables of the
 * ISA it leaves and of the ISA it moves to in its own executable.
 */
#ifndef POPCORN_METADATA_H
#define POPCORN_METADATA_H

#include <stdint.h>

#define POPCORN_META_SECTION ".popcorn.meta"
#define POPCORN_META_MAGIC "POPCMETA" /* 8 bytes, no terminator stored */
#define POPCORN_META_MAGIC_SIZE 8
#define POPCORN_META_VERSION 1

/* popcorn_meta_header.isa */
#define POPCORN_META_ISA_X86_64 1
#define POPCORN_META_ISA_AARCH64 2

/* popcorn_meta_call_site.flags */
#define POPCORN_META_SITE_FP_SAVED 0x1u     /* frame_pointer_offset is valid */
#define POPCORN_META_SITE_DYNAMIC_FRAME 0x2u /* frame_size is not static (0) */

/* popcorn_meta_live_value.kind (numbered as in LLVM stackmaps) */
#define POPCORN_META_LOC_REGISTER 1 /* value in DWARF register `reg` */
#define POPCORN_META_LOC_DIRECT 2   /* value is the address reg + offset (an alloca) */
#define POPCORN_META_LOC_INDIRECT 3 /* value in memory at reg + offset (a spill slot) */
#define POPCORN_META_LOC_CONSTANT 4 /* value is `constant` */

/* popcorn_meta_live_value.flags */
#define POPCORN_META_VALUE_POINTER 0x1u       /* the value is a pointer */
#define POPCORN_META_VALUE_CFA_RELATIVE 0x2u  /* cfa_offset is valid: slot at CFA + cfa_offset */
#define POPCORN_META_VALUE_DERIVED 0x4u       /* pointer derived from live value `base` of the site */
#define POPCORN_META_VALUE_ALLOCA 0x8u        /* the address of a stack object of alloca_size bytes */
#define POPCORN_META_VALUE_HOLDS_POINTER 0x10u /* that stack object is a slot holding one pointer */
#define POPCORN_META_NO_BASE 0xffffu

#pragma pack(push, 1)

/* At offset 0 of every table. 96 bytes. */
struct popcorn_meta_header {
    char magic[POPCORN_META_MAGIC_SIZE];
    uint16_t version;
    uint16_t isa;
    uint32_t header_size;           /* >= sizeof(struct popcorn_meta_header) */
    uint64_t total_size;            /* bytes of this table, multiple of 8 */
    uint64_t site_set_hash;         /* FNV-1a of the sorted call-site IDs; equal on all ISAs */
    uint32_t function_count;
    uint32_t call_site_count;
    uint32_t live_value_count;
    uint32_t saved_register_count;
    uint32_t string_table_size;
    uint32_t flags;                 /* 0 */
    uint32_t functions_offset;      /* struct popcorn_meta_function[function_count], by address */
    uint32_t call_sites_offset;     /* struct popcorn_meta_call_site[call_site_count], by id */
    uint32_t address_index_offset;  /* uint32_t[call_site_count]: call-site indices by return address */
    uint32_t live_values_offset;    /* struct popcorn_meta_live_value[live_value_count] */
    uint32_t saved_registers_offset;/* struct popcorn_meta_saved_register[saved_register_count] */
    uint32_t string_table_offset;   /* NUL-terminated names; offset 0 is "" */
    uint16_t sp_register;           /* DWARF numbers: x86_64 7/6/16, aarch64 31/29/30 */
    uint16_t fp_register;
    uint16_t ra_register;
    uint16_t reserved0;
    uint64_t reserved1;
};

/* A function with call sites. 32 bytes. */
struct popcorn_meta_function {
    uint64_t address;
    uint64_t size;                  /* from the symbol table, 0 if unknown */
    uint32_t name_offset;           /* into the string table */
    uint32_t first_site;            /* position in the address index */
    uint32_t site_count;            /* consecutive entries of the address index */
    uint32_t reserved;
};

/* A call site: the frame of its function while suspended at the call. 56 bytes.
 * The CFA is the stack pointer's value just before the call that entered this function. */
struct popcorn_meta_call_site {
    uint64_t id;                    /* content-derived, identical on every ISA */
    uint64_t return_address;
    uint32_t function_index;
    uint32_t flags;                 /* POPCORN_META_SITE_* */
    uint32_t first_live_value;
    uint16_t live_value_count;
    uint16_t saved_register_count;
    uint32_t first_saved_register;
    uint32_t frame_size;            /* CFA - SP at the call */
    uint16_t cfa_register;          /* CFA = cfa_register + cfa_offset at the call */
    uint16_t reserved;
    int32_t cfa_offset;
    int32_t return_address_offset;  /* this function's return address is at CFA + this */
    int32_t frame_pointer_offset;   /* caller's frame pointer at CFA + this (if FP_SAVED) */
};

/* One live value. 32 bytes. */
struct popcorn_meta_live_value {
    uint8_t kind;                   /* POPCORN_META_LOC_* */
    uint8_t flags;                  /* POPCORN_META_VALUE_* */
    uint16_t size;                  /* bytes of the location */
    uint16_t reg;                   /* DWARF register */
    uint16_t base;                  /* if VALUE_DERIVED: index of the base pointer's value within the site */
    int32_t offset;                 /* from reg, for DIRECT / INDIRECT */
    int32_t cfa_offset;             /* from the CFA, if VALUE_CFA_RELATIVE */
    uint64_t constant;              /* for CONSTANT */
    uint32_t alloca_size;           /* if VALUE_ALLOCA: bytes of the object, 0 if only known at run time */
    uint32_t reserved1;
};

/* A callee-saved register spilled by the function: the caller's value is at CFA + cfa_offset. 8 bytes. */
struct popcorn_meta_saved_register {
    uint16_t reg;
    uint16_t size;
    int32_t cfa_offset;
};

#pragma pack(pop)

#ifdef __cplusplus
#define POPCORN_META_ASSERT static_assert
#else
#define POPCORN_META_ASSERT _Static_assert
#endif
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_header) == 96, "popcorn_meta_header layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_function) == 32, "popcorn_meta_function layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_call_site) == 56, "popcorn_meta_call_site layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_live_value) == 32, "popcorn_meta_live_value layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_saved_register) == 8, "popcorn_meta_saved_register layout");
#undef POPCORN_META_ASSERT

#endif /* POPCORN_METADATA_H */
