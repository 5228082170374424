import Foundation
import PopcornSupport
import PopcornELF

/// Pass 8: checks the final binaries before anything is written where the user can see it.
/// Pre: final binaries and their maps. Post: every common group sits at its planned address,
/// every allocated section is one the script placed, the TLS blocks agree, and every symbol
/// defined on several ISAs has one address (TLS symbols: one offset in the block).
public enum Verifier {
    public static func verify(layout: Layout, binaries: [ISA: String], maps: [ISA: String]) throws -> AlignmentReport {
        var files: [ISA: ELFFile] = [:]
        for (isa, path) in binaries {
            let file = try ELFFile(contentsOf: path)
            files[isa] = file
            let planned = Set(layout.sections[isa]!.map(\.name))
            for section in file.sections where section.isAllocated && !planned.contains(section.name) {
                throw LinkerError.unplacedSection(isa: isa, section: section.name)
            }
            try checkPlacements(layout: layout, isa: isa, map: ProbeLinkMapReader.addresses(map: maps[isa]!))
        }
        try checkTLS(files, layout: layout)
        let report = try AlignmentChecker.check(files)
        if let first = report.mismatches.first {
            throw LinkerError.symbolMismatch(name: first.qualifiedName, addresses: first.addresses,
                                             more: report.mismatches.count - 1)
        }
        return report
    }

    /// Every placement's first input section must start exactly at its planned address.
    static func checkPlacements(layout: Layout, isa: ISA, map: [SectionPattern: UInt64]) throws {
        for section in layout.sections[isa]! {
            for placement in section.placements {
                // Zero-sized and synthetic groups have nothing to check: lld may drop them.
                guard placement.size > 0, let first = placement.patterns.first, first.file != nil else { continue }
                if section.isWhole && placement.patterns.count > 1 { continue }
                let actual = map[first]
                if actual != placement.address {
                    throw LinkerError.misplacedSection(isa: isa, section: placement.label,
                                                       expected: placement.address, actual: actual)
                }
            }
        }
    }

    /// The PT_TLS segments must start at the same address with the same alignment, so that the
    /// runtime can convert thread pointers between ISAs with one block layout.
    static func checkTLS(_ files: [ISA: ELFFile], layout: Layout) throws {
        let segments = files.mapValues { $0.programHeaders.first { $0.type == ELFConstants.PT_TLS } }
        guard let block = layout.tlsBlock else {
            if let (isa, _) = segments.first(where: { $0.value != nil }) {
                throw LinkerError.tlsMismatch("\(isa) has a TLS segment the layout did not plan")
            }
            return
        }
        for (isa, segment) in segments {
            guard let segment else { throw LinkerError.tlsMismatch("\(isa) has no TLS segment") }
            if segment.vaddr != block.start || segment.align != block.alignment {
                throw LinkerError.tlsMismatch("\(isa) block is at 0x\(String(segment.vaddr, radix: 16)) aligned to \(segment.align), planned 0x\(String(block.start, radix: 16)) aligned to \(block.alignment)")
            }
        }
        let sizes = Set(segments.values.compactMap { $0?.memsz })
        if sizes.count > 1 { throw LinkerError.tlsMismatch("block sizes differ") }
    }
}

/// Reads a final link map into the address of the first input section of each pattern.
enum ProbeLinkMapReader {
    static func addresses(map path: String) throws -> [SectionPattern: UInt64] {
        var result: [SectionPattern: UInt64] = [:]
        for out in try LLDRunner.readMap(path).outputSections {
            for input in out.inputs where result[LayoutPlanner.pattern(for: input)] == nil {
                result[LayoutPlanner.pattern(for: input)] = input.address
            }
        }
        return result
    }
}
