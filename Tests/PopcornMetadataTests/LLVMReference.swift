import Foundation
import PopcornSupport
@testable import PopcornMetadata

/// Reference facts taken from LLVM's own tools, to check the decoders against.
enum LLVMReference {
    /// One row of `llvm-dwarfdump --eh-frame`'s unwind table.
    struct Row: Equatable {
        var address: UInt64
        var cfaRegister: UInt16
        var cfaOffset: Int64
        /// Register → CFA-relative save slot.
        var saved: [UInt16: Int64]
    }

    /// DWARF register number of a name as llvm-dwarfdump prints it.
    static func register(_ name: String, isa: ISA) -> UInt16? {
        switch isa {
        case .x86_64:
            let names = ["RAX", "RDX", "RCX", "RBX", "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R10", "R11",
                         "R12", "R13", "R14", "R15", "RIP"]
            return names.firstIndex(of: name).map { UInt16($0) }
        case .aarch64:
            if name == "WSP" { return 31 }
            if name.hasPrefix("W"), let n = UInt16(name.dropFirst()) { return n }
            if name.hasPrefix("B"), let n = UInt16(name.dropFirst()) { return 64 + n }
            return nil
        }
    }

    /// All unwind-table rows of `binary`, sorted by address.
    static func rows(of binary: String, isa: ISA) throws -> [Row] {
        let text = try TestPrograms.run("llvm-dwarfdump", ["--eh-frame", binary])
        var rows: [Row] = []
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("0x"), let colon = t.firstIndex(of: ":"), t[colon...].hasPrefix(": CFA=") else { continue }
            guard let address = UInt64(t[t.index(t.startIndex, offsetBy: 2)..<colon], radix: 16) else { continue }
            let rest = t[t.index(colon, offsetBy: 6)...]
            let parts = rest.components(separatedBy: ": ")
            let cfa = parts[0]
            guard let sign = cfa.firstIndex(where: { $0 == "+" || $0 == "-" }) ?? Optional(cfa.endIndex),
                  let reg = register(String(cfa[..<sign]), isa: isa) else { continue }
            let offset = sign == cfa.endIndex ? 0 : Int64(cfa[cfa.index(after: sign)...]).map { cfa[sign] == "-" ? -$0 : $0 } ?? 0
            var saved: [UInt16: Int64] = [:]
            if parts.count > 1 {
                for entry in parts[1].components(separatedBy: ", ") {
                    // NAME=[CFA-8]
                    let kv = entry.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, let r = register(String(kv[0]), isa: isa), kv[1].hasPrefix("[CFA") else { continue }
                    let body = kv[1].dropFirst(4).dropLast()
                    saved[r] = Int64(body.replacingOccurrences(of: "+", with: ""))
                }
            }
            rows.append(Row(address: address, cfaRegister: reg, cfaOffset: offset, saved: saved))
        }
        return rows.sorted { $0.address < $1.address }
    }

    /// The return addresses of all call instructions in the named functions (from `llvm-objdump -d`).
    static func returnAddresses(in binary: String, functions: Set<String>) throws -> Set<UInt64> {
        let text = try TestPrograms.run("llvm-objdump", ["-d", "--no-show-raw-insn", binary])
        var result: Set<UInt64> = []
        var inFunction = false
        var pendingCall = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                inFunction = functions.contains(String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)]))
                pendingCall = false
                continue
            }
            guard inFunction else { continue }
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let colon = t.firstIndex(of: ":"), let address = UInt64(t[..<colon], radix: 16) else { continue }
            if pendingCall { result.insert(address) }
            let mnemonic = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces).split(separator: "\t").first ?? ""
            pendingCall = mnemonic.hasPrefix("call") || mnemonic == "bl" || mnemonic == "blr"
        }
        return result
    }
}
