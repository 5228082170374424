import Foundation
import PopcornSupport
import Testing
@testable import PopcornIR

/// The committed `long double` table must match what musl's aarch64 headers declare.
struct LongDoubleFunctionTableTests {
    /// Every function declared in the aarch64 musl headers whose type mentions `long double`,
    /// with its C type, read from clang's JSON AST dump.
    func declaredInHeaders() throws -> [String: String] {
        let directory = try TemporaryDirectory(prefix: "popcorn-ir-test")
        let include = ISA.aarch64.muslIncludeDir
        let headers = try FileManager.default.contentsOfDirectory(atPath: include)
            .filter { $0.hasSuffix(".h") && $0 != "tgmath.h" }.sorted()
        let source = directory.file("all.c")
        try Data(("#define _GNU_SOURCE 1\n" + headers.map { "#include <\($0)>\n" }.joined()).utf8)
            .write(to: URL(fileURLWithPath: source))
        let result = try ProcessRunner.checked(try CProgramHarness.toolchain.path(of: .clang), [
            "--target=aarch64-unknown-linux-musl", "-nostdinc", "-isystem", include,
            "-isystem", "/usr/lib/llvm-19/lib/clang/19/include", "-fsyntax-only",
            "-Xclang", "-ast-dump=json", source,
        ])
        let root = try JSONSerialization.jsonObject(with: result.stdout)
        var found: [String: String] = [:]
        func walk(_ node: Any) {
            guard let object = node as? [String: Any] else { return }
            if object["kind"] as? String == "FunctionDecl", let name = object["name"] as? String,
               let type = (object["type"] as? [String: Any])?["qualType"] as? String, type.contains("long double") {
                found[name] = type
            }
            (object["inner"] as? [Any])?.forEach(walk)
        }
        walk(root)
        return found
    }

    func kind(_ type: String) -> LongDoubleFunction.Kind {
        let t = type.trimmingCharacters(in: .whitespaces)
        if t.contains("_Complex long double") { return .complexLongDouble }
        if t.hasPrefix("long double") && t.contains("*") { return .longDoublePointer }
        return t == "long double" ? .longDouble : .other
    }

    @Test func tableMatchesTheHeaders() throws {
        let declared = try declaredInHeaders()
        #expect(declared.count > 80)
        var expected: [String: LongDoubleFunction] = [:]
        for (name, type) in declared where ABIShims.table[name] == nil {
            let open = try #require(type.firstIndex(of: "("))
            let result = String(type[..<open])
            let inner = type[type.index(after: open)..<(try #require(type.lastIndex(of: ")")))]
            let parameters = inner.isEmpty ? [] : inner.split(separator: ",").map { kind(String($0)) }
            expected[name] = LongDoubleFunction(result: kind(result), parameters: parameters)
        }
        #expect(Set(expected.keys) == Set(LongDoubleFunction.table.keys))
        for (name, entry) in expected {
            #expect(LongDoubleFunction.table[name] == entry, "\(name)")
        }
    }
}
