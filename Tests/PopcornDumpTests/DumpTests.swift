import Foundation
import Testing
import PopcornSupport
import PopcornELF
import PopcornMetadata
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

    /// --extract writes each ISA's object of multi-ISA objects next to them; bad uses are errors.
    @Test func extractWritesEachISAsObject() throws {
        let fixtures = try DumpFixtures()
        let (path, objects) = try fixtures.multiISAObject()
        let copy = fixtures.dir.file("second.o")
        try FileSystem.write(try FileSystem.read(path), to: copy)
        for isa in ISA.allCases {
            let run = dump(["--extract=\(isa.rawValue)", path, copy])
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
            for object in [path, copy] {
                let written = try FileSystem.read("\(object).\(isa.rawValue)")
                #expect(isa == .host ? written == (try FileSystem.read(object)) : written == objects[isa])
            }
        }
        let unknown = dump(["--extract=sparc", path])
        #expect(unknown.status == 1 && unknown.stderr.first?.contains("unknown ISA 'sparc'") == true)
        let combined = dump(["--extract=aarch64", "--verify", path])
        #expect(combined.status == 1 && combined.stderr.first?.contains("cannot be combined") == true)
        let plain = fixtures.dir.file("plain.o")
        try FileSystem.write(objects[.host]!, to: plain)
        let notContainer = dump(["--extract=aarch64", plain])
        #expect(notContainer.status == 1 && !FileManager.default.fileExists(atPath: plain + ".aarch64"))
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
        // Without metadata the binaries cannot migrate: --verify says so.
        let bare = dump(["--verify", primary])
        #expect(bare.status == 1 && bare.stderr.contains { $0.contains("no '.popcorn.meta' stack transformation metadata") },
                "\(bare.stderr)")
        try fixtures.addMetadata(primary)

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

/// The call-site section of popcorn-dump on binaries with real stackmaps and `.popcorn.meta`.
@Suite struct CallSiteDumpTests {
    private func dump(_ arguments: [String]) -> DumpRun {
        final class Box: @unchecked Sendable { var out = ""; var err: [String] = [] }
        let box = Box()
        let status = Dump.run(arguments: arguments, stdout: { box.out += $0 }, stderr: { box.err.append($0) })
        return DumpRun(status: status, stdout: box.out, stderr: box.err)
    }

    @Test func textJSONAndVerify() throws {
        let fixtures = try DumpFixtures()
        let primary = try fixtures.stackmapProgram()
        let tables = try MetadataReader.read(try ELFFile(contentsOf: primary))
        // The format names sites by position in ID order: 0x51 is #0, 0x52 is #1.
        let work = try #require(tables.first { $0.isa == .x86_64 }?.callSite(id: 1))

        let verify = dump(["--verify", primary])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stderr)")

        let text = dump([primary])
        #expect(text.status == 0)
        #expect(text.stdout.contains("call sites: 2 (.popcorn.meta "), "\(text.stdout)")
        #expect(text.stdout.contains("  #0 in 'work'\n") && text.stdout.contains("  #1 in 'work'\n"))
        #expect(text.stdout.contains("    x86_64: ra 0x\(String(work.returnAddress, radix: 16)), frame "))
        #expect(text.stdout.contains("    aarch64: ra 0x"))
        #expect(text.stdout.contains("      saved: ") && text.stdout.contains("rbp at cfa-16"), "\(text.stdout)")
        #expect(text.stdout.contains("#0: "))

        let json = dump(["--json", primary])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["binaries"] != nil && object["alignment"] != nil)
        let sites = try #require(object["callSites"] as? [[String: Any]])
        #expect(sites.map { $0["index"] as? Int } == [0, 1])
        #expect(sites.allSatisfy { $0["function"] as? String == "work" })
        let second = try #require(sites[1]["sites"] as? [String: [String: Any]])
        #expect(Set(second.keys) == Set(ISA.allCases.map(\.rawValue)))
        let x86 = try #require(second["x86_64"])
        #expect(x86["returnAddress"] as? Int == Int(work.returnAddress))
        #expect(x86["returnAddressSlot"] as? Int == -8)
        let values = try #require(x86["liveValues"] as? [[String: Any]])
        #expect(values.count == 1)
        #expect(values.first?["size"] as? Int == Int(work.liveValues[0].size))
        let rule = try #require(x86["cfaRule"] as? [String: Any])
        #expect(rule["register"] as? String == RegisterFile(.x86_64).name(of: work.frame.cfaRegister))
    }

    /// Flipped bytes and truncated sections: never a crash; --verify always fails, naming a problem.
    @Test func corruptedMetadataIsAnErrorNotACrash() throws {
        let fixtures = try DumpFixtures()
        let primary = try fixtures.stackmapProgram()
        let original = try Data(contentsOf: URL(fileURLWithPath: primary))
        let file = try ELFFile(data: original, path: primary)
        let meta = try #require(file.section(named: ".popcorn.meta"))
        let start = Int(meta.offset), size = Int(meta.size)

        // Flips: every header byte of the first table, then a stride through the rest.
        var offsets = Array(0..<min(96, size))
        offsets += Array(stride(from: 96, to: size, by: 5))
        var decodeErrors = 0
        for offset in offsets {
            var bytes = [UInt8](original)
            bytes[start + offset] ^= 0xa5
            try Data(bytes).write(to: URL(fileURLWithPath: primary))
            let verify = dump(["--verify", primary])
            #expect(verify.status == 1 && !verify.stderr.isEmpty, "flip at \(offset) passed verification")
            #expect(verify.stderr.allSatisfy { $0.hasPrefix("popcorn-dump: error: ") })
            let text = dump([primary])
            if text.status == 1 {
                decodeErrors += 1
                #expect(text.stderr.first?.contains(".popcorn.meta") == true, "\(text.stderr)")
            }
        }
        #expect(decodeErrors > offsets.count / 4, "only \(decodeErrors) of \(offsets.count) flips were detected while decoding")

        // Truncation: shrink sh_size of the section.
        let shoff = original.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 0x28, as: UInt64.self)) }
        let sizeField = shoff + meta.index * 64 + 0x20
        for newSize in [0, 1, 8, 95, 96, size / 2, size - 8, size - 1] {
            var bytes = [UInt8](original)
            for i in 0..<8 { bytes[sizeField + i] = UInt8(truncatingIfNeeded: UInt64(newSize) >> (8 * UInt64(i))) }
            try Data(bytes).write(to: URL(fileURLWithPath: primary))
            let text = dump([primary])
            #expect(text.status == 1, "a section of \(newSize) bytes was accepted")
            #expect(text.stderr.first?.contains(".popcorn.meta") == true, "\(newSize): \(text.stderr)")
        }
    }
}
