import Foundation
import PopcornSupport
import PopcornELF

/// Pass 4a: predicts which archive members each ISA's link will load, and loads every member of a
/// mirrored archive (the user's archives, the portable C library) on every ISA from the first
/// probe on.
///
/// Why: the ISAs' back ends call different library functions for the same IR (x86_64 calls
/// `floor`, `ceil` and `fma` where aarch64 has instructions; the C library's `pow` calls `fma` on
/// x86_64 only), so their links load different members, and member balancing (4b) had to load the
/// missing ones and probe again — on Lua, a second pair of probe links in every link. lld loads a
/// member when a loaded file has a strong undefined reference to a symbol the member defines, the
/// first archive (and member) on the command line winning; this pass follows the same rule over
/// the inputs' symbol tables (archive symbol indexes where the archives have one), which costs
/// far less than a link.
///
/// A wrong prediction costs time, never correctness: 4b still compares the probe links
/// themselves. Options this model does not follow (`--whole-archive`) turn it off.
///
/// Pre: each ISA's link command (split inputs, archives). Post: `-u` symbols per ISA (empty when
/// the links already load the same members).
enum MemberPrediction {
    /// The `-u` symbols that make every ISA's link load the same members of `mirrored` archives.
    static func forcedSymbols(_ links: [ISA: LinkSymbols], options: LinkerOptions, mirrored: Set<String>) throws -> [ISA: [String]] {
        guard !options.passThrough.contains("--whole-archive") else { return [:] }
        let isas = links.keys.sorted()
        var forced: [ISA: [String]] = [:]
        // Each round can only add members; a forced member's own references may load more.
        for _ in 0..<4 {
            var loaded: [ISA: Set<String>] = [:]
            var defined: [ISA: Set<String>] = [:]
            for isa in isas {
                (loaded[isa], defined[isa]) = try links[isa]!.simulate(roots: forced[isa] ?? [])
            }
            let everywhere = Set(isas.flatMap { loaded[$0]! }.filter { mirrored.contains(LinkSymbols.archiveName(ofKey: $0)) })
            var added = false
            for isa in isas {
                for key in everywhere.subtracting(loaded[isa]!).sorted() {
                    guard let pick = try links[isa]!.symbol(toLoad: key, notIn: defined[isa]!) else { continue }
                    forced[isa, default: []].append(pick)
                    added = true
                }
            }
            if !added { break }
        }
        return forced
    }
}
