import PopcornSupport

/// Verifies that per-ISA binaries agree on the address of every symbol they share.
///
/// A pointer stays valid across a migration only if whatever it points to sits at the same
/// address on every ISA, so every address-carrying symbol defined in more than one binary must
/// have one value. Globals (and locals that were hidden globals before the link) are matched by
/// name. Locals are matched by *(STT_FILE scope, name)*; when one scope holds several locals of
/// the same name (two `static int count` in files both called `util.c`, or the many `dummy`
/// functions of musl, whose objects carry no `STT_FILE` and so inherit the scope of the last
/// file that did), the sorted value lists are compared element by element.
public enum AlignmentChecker {
    /// Names the linker defines itself whose values depend on per-ISA layout and that no program
    /// pointer can hold across a migration, so they legitimately differ. Everything else lld
    /// would synthesise per ISA (`_etext`, `_edata`, `__bss_start`, `_end`, the `__init_array`,
    /// `__fini_array` and `__preinit_array` bounds) popcorn-ld defines at one address itself, so
    /// it is compared like any symbol. What remains:
    /// - `_GLOBAL_OFFSET_TABLE_`, `_DYNAMIC`, `_TLS_MODULE_BASE_`: per-ISA synthetic sections
    ///   (the GOT holds ISA-specific entries);
    /// - `__rela_iplt_start`/`__rela_iplt_end`: the per-ISA IRELATIVE relocation range, read once
    ///   by static start-up on the ISA that runs it;
    /// - `__global_pointer$`: ISA-specific linker relaxation base.
    public static let linkerGeneratedExclusions: Set<String> = [
        "_GLOBAL_OFFSET_TABLE_", "_DYNAMIC", "_TLS_MODULE_BASE_",
        "__rela_iplt_start", "__rela_iplt_end",
        "__global_pointer$",
    ]

    /// Compares the binaries' symbol tables.
    ///
    /// Considered: symbols of type function, object, TLS or no-type defined in an allocated
    /// section. Not considered: undefined and section-less absolute symbols, `STT_SECTION` and
    /// `STT_FILE`, mapping symbols (`$x`, `$d`, …), `linkerGeneratedExclusions`, and interior
    /// code labels (`isInteriorCodeLabel`).
    /// Throws if a binary cannot be read or has no symbol table (a stripped binary cannot be
    /// verified, and reporting it as aligned would be a lie).
    public static func check(_ binaries: [ISA: ELFFile]) throws -> AlignmentReport {
        struct Key: Hashable { var scope: String?; var name: String; var local: Bool }
        var table: [Key: [ISA: [UInt64]]] = [:]
        for (isa, file) in binaries {
            guard file.hasSymbolTable else {
                throw ELFError.invalidInput(path: file.path, reason: "no symbol table (stripped binary?); cannot verify alignment")
            }
            let symbols = try file.symbols()
            let starts = functionStarts(symbols)
            for symbol in symbols where isComparable(symbol, in: file) && !isInteriorCodeLabel(symbol, in: file, functionStarts: starts) {
                // Hidden and internal symbols were globals before the link made them local;
                // their names are unique program-wide, so they match by name like globals.
                let local = symbol.isLocal && symbol.other & 0x3 == 0
                let key = Key(scope: local ? symbol.fileScope : nil, name: symbol.name, local: local)
                table[key, default: [:]][isa, default: []].append(symbol.value)
            }
        }

        var checked = 0
        var mismatches: [SymbolMismatch] = []
        for (key, perISA) in table where perISA.count > 1 {
            let lists = perISA.mapValues { $0.sorted() }
            let isas = lists.keys.sorted()
            // The ISA with the fewest instances decides what must be matched: each of its
            // instances needs a counterpart at the same address everywhere else. With one
            // instance per ISA (every global) this is plain equality; with several locals of
            // one scope and name it tolerates instances that exist on one ISA only (a static
            // in an ISA-specific libc member), which cannot be paired by name anyway.
            let reference = isas.min { (lists[$0]!.count, $0) < (lists[$1]!.count, $1) }!
            checked += lists[reference]!.count
            var remaining = lists.mapValues { values in Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +) }
            for (position, value) in lists[reference]!.enumerated() {
                let missing = isas.filter { isa in isa != reference && (remaining[isa]![value] ?? 0) == 0 }
                if !missing.isEmpty {
                    var addresses: [ISA: UInt64] = [reference: value]
                    for isa in isas where isa != reference {
                        let list = lists[isa]!
                        addresses[isa] = list[min(position, list.count - 1)]
                    }
                    mismatches.append(SymbolMismatch(name: key.name, fileScope: key.local ? key.scope : nil,
                                                     addresses: addresses))
                    break
                }
                for isa in isas where isa != reference { remaining[isa]![value]! -= 1 }
            }
        }
        mismatches.sort { ($0.name, $0.fileScope ?? "") < ($1.name, $1.fileScope ?? "") }
        return AlignmentReport(checkedSymbols: checked, mismatches: mismatches)
    }

    /// Whether a symbol names an address that must agree across ISAs.
    static func isComparable(_ symbol: ELFSymbol, in file: ELFFile) -> Bool {
        switch symbol.type {
        case ELFConstants.STT_FUNC, ELFConstants.STT_OBJECT, ELFConstants.STT_TLS, ELFConstants.STT_NOTYPE: break
        default: return false
        }
        guard symbol.isDefined, !symbol.isAbsolute, symbol.sectionIndex != ELFConstants.SHN_COMMON,
              !symbol.name.isEmpty, !symbol.name.hasPrefix("$"),
              !linkerGeneratedExclusions.contains(symbol.name) else { return false }
        let index = Int(symbol.resolvedSectionIndex)
        guard index < file.sections.count else { return false }
        return file.sections[index].isAllocated
    }

    /// Where `STT_FUNC` symbols start, with the largest size among those starting there (0 when
    /// unknown, as for most hand-written assembly), sorted by address, per section index.
    static func functionStarts(_ symbols: [ELFSymbol]) -> [UInt32: [(start: UInt64, size: UInt64)]] {
        var starts: [UInt32: [UInt64: UInt64]] = [:]
        for symbol in symbols where symbol.type == ELFConstants.STT_FUNC && symbol.isDefined && !symbol.isAbsolute {
            starts[symbol.resolvedSectionIndex, default: [:]][symbol.value] =
                max(starts[symbol.resolvedSectionIndex]?[symbol.value] ?? 0, symbol.size)
        }
        return starts.mapValues { $0.map { (start: $0.key, size: $0.value) }.sorted { $0.start < $1.start } }
    }

    /// The rule for labels inside code: an untyped (`STT_NOTYPE`) symbol in an executable section,
    /// inside that section, where no function starts, but inside the function that starts before
    /// it — up to that function's end if it has a size, else up to the next function — marks a
    /// point *inside* that function's code. musl's `__cp_begin`/`__cp_end`/`__cp_cancel` bracket
    /// the cancellable syscall instruction and are compared against the program counter by code
    /// of the same ISA. Such a label's offset follows the ISA's instruction encoding; it is not an
    /// entry a pointer can hold across a migration, and it cannot be made to agree without moving
    /// the code itself (popcorn-ld redirects function entries through entry stubs, never
    /// interior labels), so it is not compared. A label at a function's start, before the first
    /// function, past a sized function's end or past the section's end (`_etext`) is compared.
    static func isInteriorCodeLabel(_ symbol: ELFSymbol, in file: ELFFile,
                                    functionStarts: [UInt32: [(start: UInt64, size: UInt64)]]) -> Bool {
        guard symbol.type == ELFConstants.STT_NOTYPE, symbol.isDefined, !symbol.isAbsolute else { return false }
        let index = Int(symbol.resolvedSectionIndex)
        guard index < file.sections.count else { return false }
        let section = file.sections[index]
        guard section.isExecutable, symbol.value < section.address + section.size,
              let starts = functionStarts[symbol.resolvedSectionIndex],
              let owner = starts.last(where: { $0.start <= symbol.value }), owner.start != symbol.value else { return false }
        return owner.size == 0 || symbol.value < owner.start + owner.size
    }
}
