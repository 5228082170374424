import Foundation
import PopcornSupport
import PopcornELF

/// Pass 4b: makes every ISA's link resolve shared symbols to the same archive member.
///
/// Archive members are loaded on demand, so ISAs whose code references different things load
/// different members. That is harmless until a symbol has a *weak* definition in one member and
/// a strong one in another: musl's `__stdio_exit.lo` defines `__stderr_used` weakly (as a dummy)
/// and `stderr.lo` strongly, so an ISA whose runtime uses `stderr` gets the real one and the
/// other ISA the dummy — one name, two different objects that no placement can give one address.
/// Loading the strong definition's member on the other ISA too (with `-u <a symbol only that
/// member defines>`) makes both links resolve the name alike; the probe links are then rerun.
///
/// Archives of code compiled by popcorn-cc (the user's archives, the portable C library) are
/// *mirrored* as well: a member one ISA loads is loaded on every ISA. Their members are the same
/// IR, but a back end may call a library function where another expands an instruction (x86_64
/// has no fused multiply-add or rounding instruction in its baseline, so `llvm.fma` and
/// `llvm.floor` become calls of `fma` and `floor`), and a member loaded on one ISA only would
/// bring migration points whose call sites the other ISA lacks.
///
/// Pre: each ISA's probe sections (with typed map symbols) and the archives of its link.
/// Post: symbols to force per ISA (empty when the links already agree).
public enum MemberBalancer {
    /// Where a global symbol is defined in one ISA's probe link.
    struct Definition: Equatable {
        var file: String
        var member: String?
        var isWeak: Bool
    }

    /// Lists the defined global symbols of an archive member, or `nil` if the ISA's link has no
    /// archive of that base name or the archive no member of that name.
    public typealias MemberSymbols = (_ isa: ISA, _ archive: String, _ member: String) throws -> [String]?
    /// Lists the weak global symbols an archive member defines. The linked probe cannot say: a
    /// hidden weak definition (musl's `__stderr_used`) becomes a plain local in the output.
    public typealias MemberWeakSymbols = (_ isa: ISA, _ archive: String, _ member: String) throws -> Set<String>?

    /// Symbols to add as `-u` to each ISA's link so that weak/strong resolutions agree.
    public static func forcedSymbols(_ probes: [ISA: [ProbeOutputSection]],
                                     memberSymbols: MemberSymbols,
                                     weakSymbols: MemberWeakSymbols = { _, _, _ in nil },
                                     mirroredArchives: Set<String> = []) throws -> [ISA: [String]] {
        var definitions: [ISA: [String: Definition]] = [:]
        var defined: [ISA: Set<String>] = [:]
        var loaded: [ISA: Set<String>] = [:]
        for (isa, sections) in probes {
            var table: [String: Definition] = [:]
            for input in sections.flatMap(\.inputs) where !input.isSynthetic {
                loaded[isa, default: []].insert(memberKey(input.fileBaseName, input.member))
                for symbol in input.symbols where symbol.isGlobal && table[symbol.name] == nil {
                    table[symbol.name] = Definition(file: input.fileBaseName, member: input.member, isWeak: symbol.isWeak)
                }
            }
            definitions[isa] = table
            defined[isa] = Set(table.keys)
        }
        // Only names that the ISAs resolve to different members can need balancing; for those,
        // read the binding from the member itself (reading every member's symbols would cost
        // more than the links).
        let isaList = Array(definitions.keys)
        for name in Set(definitions.values.flatMap(\.keys)) {
            let places = isaList.compactMap { definitions[$0]?[name] }
            guard Set(places.map { memberKey($0.file, $0.member) }).count > 1 else { continue }
            for isa in isaList {
                guard var d = definitions[isa]?[name], !d.isWeak, let member = d.member else { continue }
                if try weakSymbols(isa, d.file, member)?.contains(name) == true {
                    d.isWeak = true
                    definitions[isa]![name] = d
                }
            }
        }

        var forced: [ISA: [String]] = [:]
        let isas = probes.keys.sorted()
        for name in Set(definitions.values.flatMap(\.keys)).sorted() {
            for weakISA in isas {
                guard let weak = definitions[weakISA]?[name], weak.isWeak else { continue }
                for strongISA in isas where strongISA != weakISA {
                    guard let strong = definitions[strongISA]?[name], !strong.isWeak, let member = strong.member,
                          strong != weak,
                          !loaded[weakISA]!.contains(memberKey(strong.file, member)),
                          let candidates = try memberSymbols(weakISA, strong.file, member),
                          let pick = candidates.first(where: { !defined[weakISA]!.contains($0) }) else { continue }
                    if !(forced[weakISA]?.contains(pick) ?? false) { forced[weakISA, default: []].append(pick) }
                    loaded[weakISA]!.insert(memberKey(strong.file, member))
                    break
                }
            }
        }
        // Mirrored archives: every member loaded anywhere, loaded everywhere.
        var mirrored: [(file: String, member: String)] = []
        for isa in isas {
            for input in probes[isa]!.flatMap(\.inputs) where !input.isSynthetic {
                guard let member = input.member, mirroredArchives.contains(input.fileBaseName) else { continue }
                mirrored.append((input.fileBaseName, member))
            }
        }
        for (file, member) in mirrored {
            let key = memberKey(file, member)
            for isa in isas where !loaded[isa]!.contains(key) {
                guard let candidates = try memberSymbols(isa, file, member),
                      let pick = candidates.first(where: { !defined[isa]!.contains($0) }) else { continue }
                if !(forced[isa]?.contains(pick) ?? false) { forced[isa, default: []].append(pick) }
                loaded[isa]!.insert(key)
            }
        }
        return forced
    }

    static func memberKey(_ file: String, _ member: String?) -> String { file + "(" + (member ?? "") + ")" }
}
