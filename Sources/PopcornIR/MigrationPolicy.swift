/// Where the backend inserts automatic migration points (`-fpopcorn-migration=`).
///
/// Explicit `popcorn_migrate_point()` calls are migration points under every policy.
public enum MigrationPolicy: String, Sendable, CaseIterable {
    /// No automatic migration points; only explicit `popcorn_migrate_point()` calls.
    case none
    /// At the entry of every function and before each of its returns (the default), except in
    /// point-free functions (`PointFreeFunctions`: loop-free, only C library calls, no
    /// recursion), whose callers' loops in the same file get a point on their back edges instead.
    case entryExit = "entry-exit"
    /// At the entry and returns of every function, point-free ones included: the most places to
    /// move at, at the cost of two points per call of every small helper.
    case everyFunction = "every-function"
    /// As `entryExit`, plus on the back edges of loops that contain a call or whose body is at
    /// least `MigrationPoints.loopBodyBudget` instructions long.
    case loops
}
