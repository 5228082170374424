/// Where the backend inserts automatic migration points (`-fpopcorn-migration=`).
///
/// Explicit `popcorn_migrate_point()` calls are migration points under every policy.
public enum MigrationPolicy: String, Sendable, CaseIterable {
    /// No automatic migration points; only explicit `popcorn_migrate_point()` calls.
    case none
    /// At the entry of every function and before each of its returns (the default).
    case entryExit = "entry-exit"
    /// As `entryExit`, plus on the back edges of loops that contain a call or whose body is at
    /// least `MigrationPoints.loopBodyBudget` instructions long.
    case loops
}
