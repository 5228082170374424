/// What the user asked for with `-M`, `-MM`, `-MD`, `-MMD`, `-MF`, `-MT` and `-MQ`.
///
/// The frontend runs on a private temporary, so clang would name that temporary as the rule's
/// target; the driver therefore always tells clang the target (`-MQ <output>` unless the user
/// gave `-MT`/`-MQ`) and where the rule goes, exactly as clang's own driver tells its cc1.
public struct DependencySettings: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case none
        /// `-M`/`-MM`: the rule is the output; nothing is compiled.
        case ruleOnly
        /// `-MD`/`-MMD`: the rule is written next to the normal output.
        case sideFile
    }

    public var kind: Kind = .none
    /// False for `-MM`/`-MMD`.
    public var includeSystemHeaders = true
    /// `-MF`.
    public var file: String?
    /// `-MT`/`-MQ` as written, in order (empty: the driver supplies the default target).
    public var targets: [[String]] = []

    public init() {}

    /// The clang flag that selects this kind of rule.
    public var clangFlag: String? {
        switch kind {
        case .none: return nil
        case .ruleOnly: return includeSystemHeaders ? "-M" : "-MM"
        case .sideFile: return includeSystemHeaders ? "-MD" : "-MMD"
        }
    }

    /// The rule's default target, following clang: the user's `-o` unless the rule is the
    /// output itself, otherwise the input's file name with extension `.o`.
    public func defaultTarget(input: InputFile, userOutput: String?) -> String {
        if let userOutput, kind != .ruleOnly { return userOutput }
        return input.stem + ".o"
    }

    /// Where a `-MD`/`-MMD` rule goes without `-MF`, following clang: the user's `-o` with its
    /// extension replaced by `.d`, otherwise `<input stem>.d` in the current directory.
    public func defaultSideFile(input: InputFile, userOutput: String?) -> String {
        if let userOutput { return DependencySettings.replacingExtension(of: userOutput, with: "d") }
        return input.stem + ".d"
    }

    /// `dir/a.o` → `dir/a.d`; `app` → `app.d`.
    static func replacingExtension(of path: String, with ext: String) -> String {
        let slash = path.lastIndex(of: "/")
        let nameStart = slash.map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: "."), dot != nameStart {
            return String(path[..<dot]) + "." + ext
        }
        return path + "." + ext
    }
}
