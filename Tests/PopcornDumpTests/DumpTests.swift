import Foundation
import Testing
import PopcornSupport
import PopcornELF
@testable import PopcornDump

@Suite struct DumpTests {
    private func dump(_ arguments: [String]) -> DumpRun {
        final class Box: @unchecked Sendable { var out = ""; var err: [String] = [] }
        let box = Box()
        let status = Dump.run(arguments: arguments, stdout: { box.out += $0 }, stderr: { box.err.append($0) })
        return DumpRun(status: status, stdout: box.out, stderr: box.err)
    }

    @Test func helpAndVersion() {
        let help = dump(["--help"])
        #expect(help.status == 0)
        for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "--json", "--verify"] {
            #expect(help.stdout.contains(heading), "help lacks \(heading)")
        }
        let version = dump(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("popcorn-dump "))
    }

    @Test func usageErrors() throws {
        let unknown = dump(["--bogus", "app"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == ["popcorn-dump: error: unknown argument: '--bogus' (see 'popcorn-dump --help')"])
        let none = dump([])
        #expect(none.status == 1 && none.stderr.first?.hasPrefix("popcorn-dump: error: no input file") == true)
        let two = dump(["a", "b"])
        #expect(two.status == 1 && two.stderr.first?.contains("unexpected 'b'") == true)
        let missing = dump(["/nonexistent/app"])
        #expect(missing.status == 1)
        #expect(missing.stderr == ["popcorn-dump: error: '/nonexistent/app': unable to read file: no such file or directory"])
    }

    @Test func corruptAndIncompleteInputs() throws {
        let fixtures = try DumpFixtures()
        let primary = try fixtures.alignedProgram()
        let foreign = ISA.foreign[0]
        let sibling = foreign.siblingPath(of: primary)

        try FileManager.default.removeItem(atPath: sibling)
        let noSibling = dump([primary])
        #expect(noSibling.status == 1)
        #expect(noSibling.stderr.first?.contains("'\(sibling)': no such file; expected the \(foreign) binary") == true)

        try FileManager.default.copyItem(atPath: primary, toPath: sibling)
        let wrong = dump([primary])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.first?.contains("expected an \(foreign) binary but found an \(ISA.host) binary") == true)

        try FileManager.default.removeItem(atPath: sibling)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: sibling))
        let corrupt = dump(["--verify", primary])
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr == ["popcorn-dump: error: '\(sibling)': not an ELF file"])

        let full = try Data(contentsOf: URL(fileURLWithPath: primary))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: sibling))
        let truncated = dump([primary])
        #expect(truncated.status == 1 && truncated.stderr.first?.contains("truncated") == true)
    }

    @Test func alignedBinariesReportAndVerify() throws {
        let fixtures = try DumpFixtures()
        let primary = try fixtures.alignedProgram()

        let text = dump([primary])
        #expect(text.status == 0, "\(text.stderr)")
        for isa in ISA.allCases {
            #expect(text.stdout.contains("\(isa): \(isa.siblingPath(of: primary))\n"))
        }
        #expect(text.stdout.contains("  entry point: 0x400000\n"))
        #expect(text.stdout.contains(".text"))
        #expect(text.stdout.contains("0x500000"))
        #expect(text.stdout.contains(", 0 mismatches (aligned)"))

        let verify = dump(["--verify", primary])
        #expect(verify.status == 0 && verify.stdout.isEmpty && verify.stderr.isEmpty)

        let json = dump(["--json", primary])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let binaries = try #require(object["binaries"] as? [String: Any])
        #expect(Set(binaries.keys) == Set(ISA.allCases.map(\.rawValue)))
        let host = try #require(binaries[ISA.host.rawValue] as? [String: Any])
        #expect(host["entry"] as? Int == 0x400000)
        let sections = try #require(host["sections"] as? [[String: Any]])
        #expect(sections.contains { $0["name"] as? String == ".text" && $0["address"] as? Int == 0x400000 })
        let alignment = try #require(object["alignment"] as? [String: Any])
        let expected = try AlignmentChecker.check(Dictionary(uniqueKeysWithValues: try ISA.allCases.map {
            ($0, try ELFFile(contentsOf: $0.siblingPath(of: primary)))
        }))
        #expect(alignment["checkedSymbols"] as? Int == expected.checkedSymbols)
        #expect(expected.checkedSymbols >= 3)
        #expect((alignment["mismatches"] as? [Any])?.isEmpty == true)
    }

    @Test func misalignedBinariesFailVerification() throws {
        let fixtures = try DumpFixtures()
        let primary = try fixtures.separatelyLinkedProgram()

        let verify = dump(["--verify", primary])
        #expect(verify.status == 1)
        #expect(verify.stdout.isEmpty)
        #expect(verify.stderr.contains { $0.hasPrefix("popcorn-dump: error: symbol 'main' is not aligned: x86_64 0x") })

        let text = dump([primary])
        #expect(text.status == 0)
        #expect(text.stdout.contains("(NOT aligned)"))
        #expect(text.stdout.contains("\n  main: x86_64 0x"))

        let json = dump(["--json", "--verify", primary])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alignment = try #require(object["alignment"] as? [String: Any])
        #expect(alignment["aligned"] as? Bool == false)
        let mismatches = try #require(alignment["mismatches"] as? [[String: Any]])
        let main = try #require(mismatches.first { $0["name"] as? String == "main" })
        #expect(main["fileScope"] is NSNull)
        #expect((main["addresses"] as? [String: Any])?.count == ISA.allCases.count)
    }

    @Test func jsonEscaping() {
        let value = JSONValue.object([("a\"b", .string("line\n\t\u{1}\\")), ("n", .integer(UInt64.max)), ("z", .null)])
        #expect(value.rendered() == "{\n  \"a\\\"b\": \"line\\n\\t\\u0001\\\\\",\n  \"n\": 18446744073709551615,\n  \"z\": null\n}")
    }
}
