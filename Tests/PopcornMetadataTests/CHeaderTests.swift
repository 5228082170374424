import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornMetadata

/// The C view of the format: a native program that includes `popcorn_metadata.h` reads a
/// section written by `MetadataWriter` and prints what it finds, as the runtime will.
@Suite struct CHeaderTests {
    static let headerDirectory: String = {
        // Tests/PopcornMetadataTests/CHeaderTests.swift → <repo>/Toolchain/include
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent("Toolchain/include").path
    }()

    static let reader = #"""
    #include <popcorn_metadata.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>

    int main(int argc, char **argv) {
        if (argc != 2) return 1;
        FILE *f = fopen(argv[1], "rb");
        if (!f) return 2;
        static unsigned char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        size_t at = 0;
        while (at < n) {
            const unsigned char *base = buf + at;
            const struct popcorn_meta_header *h = (const void *)base;
            if (memcmp(h->magic, POPCORN_META_MAGIC, POPCORN_META_MAGIC_SIZE) != 0 || h->version != POPCORN_META_VERSION)
                return 3;
            const char *isa = h->isa == POPCORN_META_ISA_X86_64 ? "x86_64" : h->isa == POPCORN_META_ISA_AARCH64 ? "aarch64" : "?";
            printf("table %s hash=%llx sites=%u regs=%u/%u/%u\n", isa, (unsigned long long)h->site_set_hash,
                   h->call_site_count, h->sp_register, h->fp_register, h->ra_register);
            const struct popcorn_meta_function *fn = (const void *)(base + h->functions_offset);
            const struct popcorn_meta_call_site *cs = (const void *)(base + h->call_sites_offset);
            const uint32_t *by_ra = (const void *)(base + h->address_index_offset);
            const struct popcorn_meta_frame *fr = (const void *)(base + h->frames_offset);
            const struct popcorn_meta_live_value *lv = (const void *)(base + h->live_values_offset);
            const uint16_t *lists16 = (const void *)(base + h->value_lists_offset);
            const uint32_t *lists32 = (const void *)(base + h->value_lists_offset);
            const struct popcorn_meta_saved_register *sr = (const void *)(base + h->saved_registers_offset);
            const char *strings = (const char *)(base + h->string_table_offset);
            for (uint32_t i = 0; i < h->call_site_count; i++) {
                const struct popcorn_meta_call_site *s = &cs[i];
                const struct popcorn_meta_frame *f = &fr[s->frame_index];
                uint32_t function = 0; /* the last function starting before the return address */
                while (function + 1 < h->function_count && fn[function + 1].address < s->return_address) function++;
                printf("site %u ra=%llx fn=%s frame=%u cfa=%u%+d ra@%d", i,
                       (unsigned long long)(h->address_base + s->return_address), strings + fn[function].name_offset,
                       f->frame_size, f->cfa_register, f->cfa_offset, f->return_address_offset);
                if (f->flags & POPCORN_META_SITE_FP_SAVED) printf(" fp@%d", f->frame_pointer_offset);
                for (uint32_t r = 0; r < f->saved_register_count; r++)
                    printf(" s%u@%d", sr[f->first_saved_register + r].reg, sr[f->first_saved_register + r].cfa_offset);
                int wide = (h->flags & POPCORN_META_WIDE_VALUE_INDEX) != 0;
                uint32_t sequence = fn[function].value_list;
                uint32_t length = wide ? lists32[sequence] : lists16[sequence];
                const uint8_t *mask = base + h->value_masks_offset + s->value_mask;
                for (uint32_t v = 0; v < length; v++) {
                    if (!(mask[v / 8] & (1u << (v % 8)))) continue;
                    uint32_t entry = wide ? lists32[sequence + 1 + v] : lists16[sequence + 1 + v];
                    const struct popcorn_meta_live_value *l = &lv[entry];
                    int constant = l->kind == POPCORN_META_LOC_CONSTANT;
                    printf(" v%u:%u:%u:%d f%u", l->kind, l->reg, l->size, constant ? 0 : l->offset, l->flags);
                    if (l->flags & POPCORN_META_VALUE_DERIVED) printf(" b%u", l->base);
                    if (l->flags & POPCORN_META_VALUE_ALLOCA) printf(" a%u", l->extra);
                    if (l->flags & POPCORN_META_VALUE_CFA_RELATIVE)
                        printf("@cfa%+d", l->reg == f->cfa_register ? l->offset - f->cfa_offset : l->offset - (int32_t)f->frame_size);
                    if (constant) printf("=%llu", (unsigned long long)((uint64_t)(uint32_t)l->offset | (uint64_t)l->extra << 32));
                }
                printf("\n");
            }
            for (uint32_t i = 0; i < h->call_site_count; i++)
                printf("by-ra %u\n", by_ra[i]);
            at += h->total_size;
        }
        return 0;
    }
    """#

    /// What the C program should print, computed from the Swift tables.
    static func expected(_ tables: [StackTransformMetadata]) -> String {
        var out = ""
        for t in tables {
            let r = RegisterFile(t.isa)
            out += "table \(t.isa) hash=\(String(t.siteSetHash, radix: 16)) sites=\(t.callSites.count) regs=\(r.stackPointer)/\(r.framePointer)/\(r.returnAddress)\n"
            for (position, s) in t.callSites.enumerated() {
                let f = s.frame
                out += "site \(position) ra=\(String(s.returnAddress, radix: 16)) fn=\(t.functions[s.functionIndex].name) frame=\(f.frameSize ?? 0)"
                out += " cfa=\(f.cfaRegister)\(f.cfaOffset >= 0 ? "+" : "")\(f.cfaOffset) ra@\(f.returnAddressOffset)"
                if let fp = f.framePointerOffset { out += " fp@\(fp)" }
                for sr in f.savedRegisters { out += " s\(sr.register)@\(sr.cfaOffset)" }
                for v in s.liveValues {
                    var flags = 0
                    if v.info.isPointer { flags |= 1 }
                    if v.cfaOffset != nil { flags |= 2 }
                    if v.info.base != nil { flags |= 4 }
                    if v.info.isAlloca { flags |= 8 }
                    if v.info.holdsPointer { flags |= 16 }
                    out += " v\(v.kind.rawValue):\(v.register):\(v.size):\(v.offset) f\(flags)"
                    if let b = v.info.base { out += " b\(b)" }
                    if v.info.isAlloca { out += " a\(v.info.allocaSize)" }
                    if let c = v.cfaOffset { out += "@cfa\(c >= 0 ? "+" : "")\(c)" }
                    if v.kind == .constant { out += "=\(v.constant)" }
                }
                out += "\n"
            }
            for i in t.indicesByReturnAddress { out += "by-ra \(i)\n" }
        }
        return out
    }

    @Test func nativeReaderSeesWhatTheWriterWrote() throws {
        let build = try TestPrograms.goodBuild.get()
        let notes = try CallSiteTableReader.decode(Data(CallSiteTableReaderTests.goodBlocks.joined()), context: "t")
        let tables = try MetadataBuilder.tables(binaries: build.binaries, annotations: notes)
        let dir = try TemporaryDirectory(prefix: "popcorn-meta-c")
        let source = dir.file("reader.c"), program = dir.file("reader"), section = dir.file("section.bin")
        try Self.reader.write(toFile: source, atomically: true, encoding: .utf8)
        try ProcessRunner.checked(try Toolchain().path(of: .clang),
                                  ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", Self.headerDirectory, source, "-o", program])
        try AtomicFile.write(try MetadataWriter.section(tables), to: section)
        let output = try ProcessRunner.checked(program, [section]).stdoutText
        #expect(output == Self.expected(tables))
        #expect(output.contains("fn=work") && output.contains("table aarch64"))
        #expect(output.contains(" b0") && output.contains(" a32") && output.contains(" f26 a8")) // derived, alloca, slot holding a pointer
    }
}
