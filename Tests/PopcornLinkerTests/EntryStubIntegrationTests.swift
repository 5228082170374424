import Foundation
import Testing
import PopcornELF
import PopcornSupport
@testable import PopcornLinker

/// Hand-written assembly that puts three functions into one `.text` section at ISA-specific
/// offsets (as musl's `fenv.s` does): popcorn-ld must give each one address through entry stubs.
@Suite(.serialized) struct EntryStubIntegrationTests {
    static let assembly: [ISA: String] = [
        .x86_64: """
        .text
        .globl first
        .type first,@function
        first:
          movl $1, %eax
          ret
        .globl second
        .type second,@function
        second:
          movl $2, %eax
          ret
        .globl third
        .type third,@function
        third:
          leal 40(%rdi), %eax
          ret
        """,
        .aarch64: """
        .text
        .globl first
        .type first,@function
        first:
          mov w0, #1
          ret
        .globl second
        .type second,@function
        second:
          mov w0, #2
          ret
        .globl third
        .type third,@function
        third:
          add w0, w0, #40
          ret
        """,
    ]

    static let main = """
    #include <stdio.h>
    int first(void);
    int second(void);
    int third(int);
    int (*table[])(void) = { first, second };
    int main(void) {
        printf("%d %d %d %d %d\\n", first(), second(), third(2), table[1](), table[1] == second);
        return 0;
    }
    """

    /// The multi-ISA container of the assembly, built like popcorn-cc builds one.
    static func assemble(in dir: TemporaryDirectory) throws -> String {
        var objects: [ISA: Data] = [:]
        for isa in ISA.allCases {
            let source = dir.file("funcs.\(isa.rawValue).s"), object = dir.file("funcs.\(isa.rawValue).o")
            try Data(assembly[isa]!.utf8).write(to: URL(fileURLWithPath: source))
            try Fixtures.run("clang-19", ["--target=\(isa.triple)", "-c", source, "-o", object])
            objects[isa] = try Data(contentsOf: URL(fileURLWithPath: object))
        }
        let host = objects.removeValue(forKey: ISA.host)!
        let output = dir.file("funcs.o")
        try MultiISAObject.build(host: host, embedded: objects).write(to: URL(fileURLWithPath: output))
        return output
    }

    @Test func functionsSharingASectionGetOneAddressAndStillRun() throws {
        let dir = try TemporaryDirectory(prefix: "popcorn-ld-stub-test")
        let runtime = try Fixtures.runtime(in: dir)
        try Fixtures.compile(Self.main, to: dir.file("main.o"), in: dir)
        let funcs = try Self.assemble(in: dir)
        let app = dir.file("app")
        let result = Fixtures.link([dir.file("main.o"), funcs, "-o", app], runtime: runtime)
        #expect(result.status == 0, "\(result.messages)")
        guard result.status == 0 else { return }

        var tables: [ISA: [String: String]] = [:]
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: app)
            let run = try Fixtures.execute(binary, isa: isa)
            #expect(run.stdoutText == "1 2 42 2 1\n", "\(isa): \(run.stderrText)")
            tables[isa] = try LinkIntegrationTests.nm(binary)
        }
        // `first` starts the section on both ISAs; `second` and `third` do not.
        for name in ["first", "second", "third", "table", "main"] {
            let addresses = Set(ISA.allCases.map { tables[$0]![name] })
            #expect(addresses.count == 1 && addresses.first! != nil, "\(name): \(addresses)")
        }

        // The stubs decode as the intended jumps (read with llvm-objdump, independently).
        for isa in ISA.allCases {
            let binary = isa.siblingPath(of: app)
            let text = try Fixtures.run("llvm-objdump-19", ["-d", "-j", LayoutPlanner.stubSection, binary]).stdoutText
            let jumps = text.split(separator: "\n").filter { $0.contains(isa == .x86_64 ? "jmp" : "\tb\t") }
            #expect(jumps.count == 2, "\(isa): \(text)")
            #expect(text.contains("<second>:") && text.contains("<third>:"))
            #expect(!text.contains("<first>:"))
            // Every slot jumps into the ordinary code, never into another stub.
            let elf = try ELFFile(contentsOf: binary)
            let stubs = try #require(elf.section(named: LayoutPlanner.stubSection))
            #expect(stubs.isExecutable)
            for line in jumps {
                let target = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : "", radix: 16) }.last
                #expect(target.map { $0 < stubs.address } == true, "\(isa): \(line)")
            }
        }
    }
}
