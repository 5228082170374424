import PopcornSupport
@testable import PopcornDriver

/// Parses and plans a command line against made-up tool paths and a fake file system, so
/// planning tests run no tool and touch no file.
struct Planning {
    static let tools = DriverTools(clang: "/usr/bin/clang-19", popcornCC: "/opt/p/bin/popcorn-cc",
                                   popcornLD: "/opt/p/bin/popcorn-ld", resourceDirectory: "/res",
                                   popcornIncludeDirectory: "/opt/p/lib/popcorn/include")
    static let temporaryDirectory = "/tmp/T"

    static func invocation(_ args: [String], existing: Set<String>? = nil) -> DriverInvocation {
        let parsed = OptionParser(table: DriverOptions.table).parse(args)
        precondition(parsed.errors.isEmpty, "unexpected parse errors \(parsed.errors)")
        return DriverInvocation(parsed.arguments, fileExists: { existing?.contains($0) ?? true })
    }

    static func jobs(_ args: [String]) throws -> [Job] {
        let inv = invocation(args)
        precondition(!inv.hasErrors, "unexpected errors \(inv.diagnostics)")
        return try JobPlanner(invocation: inv, tools: tools, temporaryDirectory: temporaryDirectory).plan()
    }
}

extension Array where Element == String {
    /// The value following `flag`, if present.
    func value(after flag: String) -> String? {
        guard let i = firstIndex(of: flag), i + 1 < count else { return nil }
        return self[i + 1]
    }

    /// True when `sub` occurs contiguously.
    func containsSequence(_ sub: [String]) -> Bool {
        guard sub.count <= count else { return false }
        return (0...(count - sub.count)).contains { Array(self[$0..<($0 + sub.count)]) == sub }
    }
}
