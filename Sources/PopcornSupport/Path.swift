/// Path splitting without Foundation's `NSString` helpers, which trap on one-character names
/// (`("v" as NSString).lastPathComponent` crashes in swift-corelibs-foundation 6.3) — and users
/// do name their outputs `-o a`.
public enum Path {
    /// Everything after the last `/` (the whole path when there is none).
    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Everything before the last `/` (`""` when there is none, `"/"` for a file in the root).
    public static func directory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `directory/name`, without doubling slashes.
    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
