/*
 * popcorn_metadata.h - the stack-transformation metadata format (".popcorn.meta").
 *
 * Specified in docs/METADATA.md; written by popcorn-ld (PopcornMetadata), read by the
 * runtime and popcorn-dump. All integers are little-endian; all structures are packed and
 * their sizes are checked below. Offsets are relative to the start of the table (blob) that
 * contains them. Frames, saved-register lists and live values are stored once and shared by every
 * call site that has the same one. Version 5: the live values of a call site are a bit mask over a
 * value sequence that its function holds for all its sites (one sequence holds each site's list,
 * in order, as a subsequence); identical sequences and identical masks are stored once. A call
 * site is 12 bytes (return address, mask, frame); call sites are in the order of their
 * content-derived IDs, the same order on every ISA, so a site's position names it and the IDs
 * are not stored.
 *
 * The section holds one table per ISA, back to back, each starting at a multiple of 8 bytes
 * from the section start; the next table begins `total_size` bytes after the current one.
 * popcorn-ld writes into each binary the table of its own ISA; a process moving to another ISA
 * reads that ISA's table from the binary the move runs (the runtime's stack/metadata_load.c).
 */
#ifndef POPCORN_METADATA_H
#define POPCORN_METADATA_H

#include <stdint.h>

#define POPCORN_META_SECTION ".popcorn.meta"
#define POPCORN_META_MAGIC "POPCMETA" /* 8 bytes, no terminator stored */
#define POPCORN_META_MAGIC_SIZE 8
#define POPCORN_META_VERSION 5

/* popcorn_meta_header.isa */
#define POPCORN_META_ISA_X86_64 1
#define POPCORN_META_ISA_AARCH64 2

/* popcorn_meta_header.flags */
#define POPCORN_META_WIDE_VALUE_INDEX 0x1u /* value-sequence entries are uint32_t, else uint16_t */

/* popcorn_meta_frame.flags */
#define POPCORN_META_SITE_FP_SAVED 0x1u     /* frame_pointer_offset is valid */
#define POPCORN_META_SITE_DYNAMIC_FRAME 0x2u /* frame_size is not static (0) */

/* popcorn_meta_live_value.kind (numbered as in LLVM stackmaps) */
#define POPCORN_META_LOC_REGISTER 1 /* value in DWARF register `reg` */
#define POPCORN_META_LOC_DIRECT 2   /* value is the address reg + offset (an alloca) */
#define POPCORN_META_LOC_INDIRECT 3 /* value in memory at reg + offset (a spill slot) */
#define POPCORN_META_LOC_CONSTANT 4 /* value is (uint32_t)offset | (uint64_t)extra << 32 */

/* popcorn_meta_live_value.flags */
#define POPCORN_META_VALUE_POINTER 0x1u       /* the value is a pointer */
#define POPCORN_META_VALUE_CFA_RELATIVE 0x2u  /* reg is the CFA register, or SP in a fixed-size frame */
#define POPCORN_META_VALUE_DERIVED 0x4u       /* pointer derived from live value `base` of the site */
#define POPCORN_META_VALUE_ALLOCA 0x8u        /* the address of a stack object of `extra` bytes */
#define POPCORN_META_VALUE_HOLDS_POINTER 0x10u /* that stack object is a slot holding one pointer */
#define POPCORN_META_NO_BASE 0xffffu

/*
 * The link identity (".popcorn.identity"): popcorn-ld writes the same record into every binary of
 * one link, so a process moves only to a sibling that came out of the same link as itself
 * (docs/PROCESS-MOVE.md, "Which binary a move runs").  The digest is SHA-256 over the binaries'
 * final contents before the record was added (docs/METADATA.md, "Link identity").
 */
#define POPCORN_LINK_IDENTITY_SECTION ".popcorn.identity"
#define POPCORN_LINK_IDENTITY_MAGIC "POPCLINK" /* 8 bytes, no terminator stored */
#define POPCORN_LINK_IDENTITY_VERSION 1
#define POPCORN_LINK_IDENTITY_DIGEST 32

#pragma pack(push, 1)

/* At offset 0 of every table. 120 bytes. */
struct popcorn_meta_header {
    char magic[POPCORN_META_MAGIC_SIZE];
    uint16_t version;
    uint16_t isa;
    uint32_t header_size;           /* >= sizeof(struct popcorn_meta_header) */
    uint32_t total_size;            /* bytes of this table, multiple of 8 */
    uint32_t flags;                 /* POPCORN_META_WIDE_VALUE_INDEX */
    uint64_t site_set_hash;         /* FNV-1a of the sorted call-site IDs; equal on all ISAs, and
                                       then the i-th call site of every ISA is the same site */
    uint64_t address_base;          /* function and return addresses are stored relative to this */
    uint32_t function_count;
    uint32_t call_site_count;
    uint32_t frame_count;
    uint32_t saved_register_count;
    uint32_t live_value_count;      /* distinct live-value records */
    uint32_t value_list_size;       /* entries of the value-sequence array (counts included) */
    uint32_t value_mask_size;       /* bytes of the value masks */
    uint32_t string_table_size;
    uint32_t functions_offset;      /* struct popcorn_meta_function[function_count], by address */
    uint32_t call_sites_offset;     /* struct popcorn_meta_call_site[call_site_count], by ID */
    uint32_t address_index_offset;  /* uint32_t[call_site_count]: call-site indices by return address */
    uint32_t frames_offset;         /* struct popcorn_meta_frame[frame_count] */
    uint32_t saved_registers_offset;/* struct popcorn_meta_saved_register[saved_register_count] */
    uint32_t live_values_offset;    /* struct popcorn_meta_live_value[live_value_count] */
    uint32_t value_lists_offset;    /* uint16_t (or uint32_t) [value_list_size]: value sequences,
                                       each a count followed by that many live-value indices */
    uint32_t value_masks_offset;    /* uint8_t[value_mask_size]: the call sites' value masks */
    uint32_t string_table_offset;   /* NUL-terminated names; offset 0 is "" */
    uint8_t sp_register;            /* DWARF numbers: x86_64 7/6/16, aarch64 31/29/30 */
    uint8_t fp_register;
    uint8_t ra_register;
    uint8_t reserved0;
    uint64_t checksum;              /* FNV-1a over the table's little-endian 64-bit words, this
                                       field read as 0 (docs/METADATA.md, "Integrity") */
};

/* A function with call sites. 24 bytes. */
struct popcorn_meta_function {
    uint32_t address;               /* relative to address_base */
    uint32_t size;                  /* from the symbol table, 0 if unknown */
    uint32_t name_offset;           /* into the string table */
    uint32_t first_site;            /* position in the address index */
    uint32_t site_count;            /* consecutive entries of the address index */
    uint32_t value_list;            /* position in the value sequences of the count entry of the
                                       sequence its sites' masks select from */
};

/* A call site. 12 bytes. Its function is the one whose address range holds the return address
 * (functions are sorted by address). Its live values, in order, are the entries of its function's
 * value sequence whose bits are set in its mask: entry j is live when bit j % 8 (least
 * significant first) of mask byte j / 8 is set. The mask is (count + 7) / 8 bytes, count being
 * the sequence's count entry; bits from count on are zero. */
struct popcorn_meta_call_site {
    uint32_t return_address;        /* relative to address_base */
    uint32_t value_mask;            /* byte offset of the site's mask in the value masks */
    uint32_t frame_index;           /* into the frame table */
};

/* The frame of a function at a call, shared by call sites that agree on all of it. 24 bytes.
 * The CFA is the stack pointer's value just before the call that entered this function. */
struct popcorn_meta_frame {
    uint8_t flags;                  /* POPCORN_META_SITE_* */
    uint8_t cfa_register;           /* CFA = cfa_register + cfa_offset at the call */
    uint16_t saved_register_count;
    int32_t cfa_offset;
    int32_t frame_pointer_offset;   /* caller's frame pointer at CFA + this (if FP_SAVED) */
    uint32_t first_saved_register;
    uint32_t frame_size;            /* CFA - SP at the call (0 with DYNAMIC_FRAME) */
    int16_t return_address_offset;  /* the function's return address is at CFA + this */
    uint16_t reserved;
};

/* One live value, shared by every site that lists the same one. 16 bytes. */
struct popcorn_meta_live_value {
    uint8_t kind;                   /* POPCORN_META_LOC_* */
    uint8_t flags;                  /* POPCORN_META_VALUE_* */
    uint8_t size;                   /* bytes of the location */
    uint8_t reg;                    /* DWARF register */
    int32_t offset;                 /* from reg (DIRECT/INDIRECT); low half of a CONSTANT */
    uint32_t extra;                 /* if VALUE_ALLOCA: bytes of the object (0 if only known at run
                                       time); high half of a CONSTANT */
    uint16_t base;                  /* if VALUE_DERIVED: index of the base pointer's value within the site */
    uint16_t reserved;
};

/* A callee-saved register spilled by the function: the caller's value is at CFA + cfa_offset. 8 bytes. */
struct popcorn_meta_saved_register {
    uint16_t reg;
    uint16_t size;
    int32_t cfa_offset;
};

/* The whole ".popcorn.identity" section. 48 bytes. */
struct popcorn_link_identity {
    char magic[POPCORN_META_MAGIC_SIZE];
    uint32_t version;
    uint32_t digest_size;           /* POPCORN_LINK_IDENTITY_DIGEST */
    uint8_t digest[POPCORN_LINK_IDENTITY_DIGEST];
};

#pragma pack(pop)

#ifdef __cplusplus
#define POPCORN_META_ASSERT static_assert
#else
#define POPCORN_META_ASSERT _Static_assert
#endif
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_header) == 120, "popcorn_meta_header layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_function) == 24, "popcorn_meta_function layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_call_site) == 12, "popcorn_meta_call_site layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_frame) == 24, "popcorn_meta_frame layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_live_value) == 16, "popcorn_meta_live_value layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_meta_saved_register) == 8, "popcorn_meta_saved_register layout");
POPCORN_META_ASSERT(sizeof(struct popcorn_link_identity) == 48, "popcorn_link_identity layout");
#undef POPCORN_META_ASSERT

#endif /* POPCORN_METADATA_H */
