import Foundation
import Testing
import PopcornELF
import PopcornMetadata
import PopcornSupport

/// The stack-transformation metadata popcorn-ld writes into the examples, checked against
/// independent readings of the same binaries: llvm-objdump's disassembly (calls, prologue saves)
/// and llvm-readelf's stackmap decoder (record counts).
@Suite(.serialized) struct MetadataTests {
    /// Builds an example with the staged tools; returns the scratch directory (kept alive by the
    /// caller) and the IDs of call sites popcorn-ld left out of the metadata (its warnings).
    static func build(_ name: String) throws -> TemporaryDirectory {
        try buildReportingOmissions(name).directory
    }

    static func buildReportingOmissions(_ name: String) throws -> (directory: TemporaryDirectory, omitted: Set<UInt64>) {
        let cc = try Harness.popcornTool("popcorn-cc"), ld = try Harness.popcornTool("popcorn-ld")
        let ar = try Harness.systemTool("llvm-ar-19", package: "llvm-19")
        let work = try Harness.scratch("meta-\(name)")
        try Harness.copy("\(Harness.root)/Examples/\(name)", to: work.path)
        let result = try Harness.mustSucceed("make clean >/dev/null && make -j2 CC='\(cc)' LD='\(ld)' AR='\(ar)'", in: work.path)
        var omitted: Set<UInt64> = []
        for line in result.stderrText.split(separator: "\n") where line.contains("left out of the metadata") {
            guard let range = line.range(of: "call site 0x") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isHexDigit }
            if let id = UInt64(digits, radix: 16) { omitted.insert(id) }
        }
        return (work, omitted)
    }

    @Test(arguments: ExampleTests.examples.map(\.name))
    func metadataAgreesWithDisassemblyAndStackmaps(_ name: String) throws {
        let (work, omitted) = try Self.buildReportingOmissions(name)
        let primary = "\(work.path)/app"
        var siteCounts: [ISA: Int] = [:]
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: primary)
            let file = try ELFFile(contentsOf: path)
            let meta = try #require(file.section(named: ".popcorn.meta"), "\(isa): no .popcorn.meta")
            #expect(!meta.isAllocated)
            let tables = try MetadataReader.read(file)
            #expect(tables.map(\.isa) == [isa])
            let table = try #require(tables.first { $0.isa == isa })
            siteCounts[isa] = table.callSites.count
            #expect(!table.callSites.isEmpty, "\(name): no call sites on \(isa)")

            let code = try Disassembly(binary: path)
            // objdump labels an address with one of its names; musl's aliases (getrlimit and
            // getrlimit64) share one, so the symbol table's other names count too.
            var aliases: [UInt64: Set<String>] = [:]
            for symbol in try file.symbols() where symbol.type == ELFConstants.STT_FUNC {
                aliases[symbol.value, default: []].insert(symbol.name)
            }
            let calleeSaved = IndependentRegisters.calleeSaved(isa)
            for site in table.callSites {
                let function = table.functions[site.functionIndex]
                let label = "\(name) \(isa) site 0x\(String(site.id, radix: 16)) in \(function.name)"
                // 1. The return address is the address right after a call in the named function.
                let block = try #require(code.functions[function.address], "\(label): no disassembly at 0x\(String(function.address, radix: 16))")
                #expect(block.names.contains(function.name) || aliases[function.address, default: []].contains(function.name),
                        "\(label): objdump calls 0x\(String(function.address, radix: 16)) \(block.names)")
                #expect(block.returnAddresses(isa: isa).contains(site.returnAddress),
                        "\(label): 0x\(String(site.returnAddress, radix: 16)) does not follow a call")
                // 2. Registers holding live values survive calls.
                for value in site.liveValues where value.kind == .register {
                    let register = IndependentRegisters.name(value.register, isa: isa)
                    #expect(calleeSaved.contains(register), "\(label): live value in \(register)")
                }
                // 3. Frame slots (and the stack objects they address) lie within the frame.
                for (n, value) in site.liveValues.enumerated() where value.kind == .direct || value.kind == .indirect {
                    let offset = try #require(value.cfaOffset, "\(label): live value \(n) has no CFA offset")
                    guard let frameSize = site.frame.frameSize else { continue }
                    let extent = value.kind == .direct ? Int(value.info.allocaSize) : Int(value.size)
                    // At or above the CFA: an argument passed on the stack (musl's trinkle takes
                    // nine), in the caller's outgoing area.
                    if offset >= 0 { continue }
                    #expect(Int(offset) >= -Int(frameSize) && Int(offset) + extent <= 0,
                            "\(label): live value \(n) at cfa\(offset) (+\(extent)) is outside the \(frameSize)-byte frame")
                }
                // 4. Every callee-saved register the prologue saves is listed.
                let listed = Set(site.frame.savedRegisters.map { IndependentRegisters.name($0.register, isa: isa) })
                let saved = block.prologueSaves(isa: isa).filter { calleeSaved.contains($0) && $0 != "x30" }
                #expect(saved.isSubset(of: listed), "\(label): prologue saves \(saved.sorted()), metadata lists \(listed.sorted())")
            }
            // 5. One call site per stackmap record of the objects (popcorn-ld keeps every function:
            // it rejects --gc-sections), counted by llvm-readelf. The C library's sites (the
            // portable libc has metadata too) are those of functions the objects do not define.
            let records = try StackMapRecords.count(objectsIn: work.path, isa: isa, in: work)
            let own = try StackMapRecords.definedFunctions(objectsIn: work.path)
            let ownSites = table.callSites.filter { own.contains(table.functions[$0.functionIndex].name) }.count
            #expect(ownSites + omitted.count == records,
                    "\(name) \(isa): \(ownSites) call sites + \(omitted.count) left out vs \(records) stackmap records")
            #expect(omitted.allSatisfy { table.callSite(id: $0) == nil })
        }
        #expect(Set(siteCounts.values).count == 1, "\(name): \(siteCounts)")
    }

    /// The sections the metadata is built from are gone from the final binaries, and what is left
    /// is a consistent file: llvm-readelf reads it without complaint, every allocated section
    /// still lies in its segment, the symbols still verify, and popcorn-dump --verify works from
    /// `.popcorn.meta` alone.
    @Test func binariesCarryOnlyTheMetadata() throws {
        let work = try Self.build("kvstore")
        let readelf = try Harness.systemTool("llvm-readelf-19", package: "llvm-19")
        for isa in ISA.allCases {
            let path = isa.siblingPath(of: "\(work.path)/app")
            let file = try ELFFile(contentsOf: path)
            let names = Set(file.sections.map(\.name))
            #expect(!names.contains(".llvm_stackmaps") && !names.contains(".popcorn.callsites"), "\(isa): \(names.sorted())")
            #expect(names.contains(".popcorn.meta") && names.contains(".symtab"))
            let symbols = try file.symbols()
            #expect(!symbols.contains { $0.name.hasSuffix(".callsites") }, "\(isa): symbols of a removed section remain")
            for section in file.sections where section.isAllocated && !section.isNoBits && section.size > 0 {
                let segment = file.programHeaders.first {
                    $0.type == ELFConstants.PT_LOAD && section.address >= $0.vaddr && section.address + section.size <= $0.vaddr + $0.filesz
                }
                let load = try #require(segment, "\(isa): \(section.name) is in no segment")
                #expect(load.offset + (section.address - load.vaddr) == section.offset, "\(isa): \(section.name) moved in the file")
            }
            let listing = try ProcessRunner.run(readelf, ["-S", "-s", "-l", "--wide", path])
            #expect(listing.succeeded && listing.stderrText.isEmpty, "\(isa): \(listing.stderrText)")
        }
        let dump = try ProcessRunner.run(try Harness.popcornTool("popcorn-dump"), ["--verify", "\(work.path)/app"])
        #expect(dump.status == 0, "\(dump.stderrText)")
    }

    /// Flipped bytes and a truncated section in a real binary: popcorn-dump exits 1 with an
    /// error, never crashes.
    @Test func corruptedMetadataIsReported() throws {
        let work = try Self.build("nbody")
        let primary = "\(work.path)/app"
        let original = try Data(contentsOf: URL(fileURLWithPath: primary))
        let meta = try #require(try ELFFile(data: original, path: primary).section(named: ".popcorn.meta"))
        let dump = try Harness.popcornTool("popcorn-dump")
        let start = Int(meta.offset), size = Int(meta.size)
        for offset in [0, 9, 12, 17, 33, 36, 57, 61, 64, 68, 72, 96, size / 3, size / 2 + 40, size - 3] {
            var bytes = [UInt8](original)
            bytes[start + offset] ^= 0x5a
            try Data(bytes).write(to: URL(fileURLWithPath: primary))
            let verify = try ProcessRunner.run(dump, ["--verify", primary])
            #expect(verify.status == 1, "flip at \(offset): \(verify.stderrText)")
            #expect(verify.stderrText.hasPrefix("popcorn-dump: error: "), "flip at \(offset): \(verify.stderrText)")
        }
        // Truncate: cut the file inside the section (the section header table goes with it, so
        // the ELF reader rejects it), and shrink the section's size field.
        try original.prefix(start + size / 2).write(to: URL(fileURLWithPath: primary))
        let cut = try ProcessRunner.run(dump, [primary])
        #expect(cut.status == 1 && cut.stderrText.contains("error:"), "\(cut.stderrText)")
        let shoff = original.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 0x28, as: UInt64.self)) }
        var bytes = [UInt8](original)
        let field = shoff + meta.index * 64 + 0x20
        let shorter = UInt64(size - 20)
        for i in 0..<8 { bytes[field + i] = UInt8(truncatingIfNeeded: shorter >> (8 * UInt64(i))) }
        try Data(bytes).write(to: URL(fileURLWithPath: primary))
        let short = try ProcessRunner.run(dump, [primary])
        #expect(short.status == 1 && short.stderrText.contains(".popcorn.meta"), "\(short.stderrText)")
    }
}

/// DWARF register numbers to assembler names and each ABI's callee-saved registers, written
/// out from the psABI documents rather than taken from PopcornMetadata.
enum IndependentRegisters {
    static func name(_ dwarf: UInt16, isa: ISA) -> String {
        switch isa {
        case .x86_64:
            let names = ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
                         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
            return Int(dwarf) < names.count ? names[Int(dwarf)] : "dwarf\(dwarf)"
        case .aarch64:
            if dwarf <= 30 { return "x\(dwarf)" }
            if (64...95).contains(dwarf) { return "d\(dwarf - 64)" }
            return "dwarf\(dwarf)"
        }
    }

    static func calleeSaved(_ isa: ISA) -> Set<String> {
        switch isa {
        case .x86_64: return ["rbx", "rbp", "r12", "r13", "r14", "r15"]
        case .aarch64: return Set((19...30).map { "x\($0)" } + (8...15).map { "d\($0)" })
        }
    }
}

/// `llvm-objdump -d --no-show-raw-insn` of a binary, by function start address.
struct Disassembly {
    struct Instruction { var address: UInt64; var mnemonic: String; var operands: String }
    struct Function {
        var names: [String]
        var instructions: [Instruction]
        /// Where the next symbol objdump lists starts: the return address of a call that ends the
        /// function (a `noreturn` call with no padding after it).
        var following: UInt64? = nil

        /// Addresses of the instructions that follow a call.
        func returnAddresses(isa: ISA) -> Set<UInt64> {
            let calls: Set<String> = isa == .x86_64 ? ["call", "callq"] : ["bl", "blr", "blraa", "blraaz", "blrab", "blrabz"]
            var result: Set<UInt64> = []
            for (i, instruction) in instructions.enumerated() where calls.contains(instruction.mnemonic) {
                // aarch64 instructions are 4 bytes: a call that ends its code before the padding
                // of the function's slot (zeros, which objdump does not list) returns right after it.
                if isa == .aarch64 {
                    result.insert(instruction.address + 4)
                } else if i + 1 < instructions.count {
                    result.insert(instructions[i + 1].address)
                } else if let following {
                    result.insert(following)
                }
            }
            return result
        }

        /// Registers stored by the prologue (the leading run of frame-setup instructions).
        func prologueSaves(isa: ISA) -> Set<String> {
            var saved: Set<String> = []
            for instruction in instructions {
                let ops = instruction.operands
                switch (isa, instruction.mnemonic) {
                case (.x86_64, "endbr64"): continue
                case (.x86_64, "pushq"), (.x86_64, "push"):
                    saved.insert(String(ops.dropFirst()))  // "%rbx"
                case (.x86_64, "movq") where ops == "%rsp, %rbp": continue
                case (.x86_64, "subq") where ops.hasSuffix(", %rsp"): continue
                case (.aarch64, "paciasp"), (.aarch64, "bti"): continue
                case (.aarch64, "sub") where ops.hasPrefix("sp, sp,"): continue
                case (.aarch64, "add") where ops.hasPrefix("x29, sp,"): continue
                case (.aarch64, "mov") where ops == "x29, sp": continue
                case (.aarch64, "stp"), (.aarch64, "str"):
                    guard let bracket = ops.firstIndex(of: "["),
                          ops[bracket...].hasPrefix("[sp") || ops[bracket...].hasPrefix("[x29") else { return saved }
                    for register in ops[..<bracket].split(separator: ",") {
                        saved.insert(register.trimmingCharacters(in: .whitespaces))
                    }
                default:
                    return saved
                }
            }
            return saved
        }
    }

    var functions: [UInt64: Function] = [:]

    init(binary: String) throws {
        let objdump = try Harness.systemTool("llvm-objdump-19", package: "llvm-19")
        let result = try ProcessRunner.run(objdump, ["-d", "--no-show-raw-insn", binary])
        guard result.succeeded else { throw Harness.MissingTool(description: "llvm-objdump failed: \(result.stderrText)") }
        var current: UInt64? = nil
        for line in result.stdoutText.split(separator: "\n") {
            if line.hasSuffix(">:"), let space = line.firstIndex(of: " "), let start = UInt64(line[..<space], radix: 16) {
                let name = String(line[line.index(space, offsetBy: 2)..<line.index(line.endIndex, offsetBy: -2)])
                if let previous = current, previous != start { functions[previous]!.following = start }
                functions[start, default: Function(names: [], instructions: [])].names.append(name)
                current = start
                continue
            }
            guard let current, let colon = line.firstIndex(of: ":"),
                  let address = UInt64(line[..<colon].trimmingCharacters(in: .whitespaces), radix: 16) else { continue }
            let fields = line[line.index(after: colon)...].split(separator: "\t", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard let mnemonic = fields.first else { continue }
            var operands = fields.count > 1 ? fields[1] : ""
            // Comments: "// …" (aarch64), "# imm = …" (x86_64); aarch64 immediates are "#0x…".
            if let comment = operands.range(of: " //") ?? operands.range(of: " # ") {
                operands = String(operands[..<comment.lowerBound])
            }
            functions[current]!.instructions.append(Instruction(address: address, mnemonic: mnemonic,
                                                                operands: operands.trimmingCharacters(in: .whitespaces)))
        }
    }
}

/// Stackmap records of a program's objects, counted with llvm-readelf.
///
/// The final binaries no longer carry `.llvm_stackmaps`, so the records are counted where the
/// compiler put them: each popcorn object is a host-ISA object with one stackmap table, and
/// embeds the other ISA's object, compressed, in `.popcorn.isa.<isa>`.
enum StackMapRecords {
    /// The functions the objects in `directory` define (llvm-nm).
    static func definedFunctions(objectsIn directory: String) throws -> Set<String> {
        let nm = try Harness.systemTool("llvm-nm-19", package: "llvm-19")
        var names: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".o") {
            let text = try ProcessRunner.checked(nm, ["--defined-only", "\(directory)/\(name)"]).stdoutText
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count == 3, "tTwW".contains(fields[1]) { names.insert(String(fields[2])) }
            }
        }
        return names
    }

    static func count(objectsIn directory: String, isa: ISA, in dir: TemporaryDirectory) throws -> Int {
        let readelf = try Harness.systemTool("llvm-readelf-19", package: "llvm-19")
        var total = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".o") {
            var object = "\(directory)/\(name)"
            if isa != ISA.host {
                let extracted = dir.file("\(name).\(isa.rawValue)")
                guard try Harness.extractEmbeddedObject(object, isa: isa, to: extracted) else {
                    throw Harness.MissingTool(description: "\(object) embeds no \(isa) object")
                }
                object = extracted
            }
            let text = try ProcessRunner.checked(readelf, ["--stackmap", object]).stdoutText
            for line in text.split(separator: "\n") where line.contains("callsite record count:") {
                total += Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        return total
    }
}
