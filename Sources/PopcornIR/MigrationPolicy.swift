/// Where the backend inserts automatic migration points (`-fpopcorn-migration=`).
///
/// Explicit `popcorn_migrate_point()` calls are migration points under every policy.
public enum MigrationPolicy: String, Sendable, CaseIterable {
    /// No automatic migration points; only explicit `popcorn_migrate_point()` calls.
    case none
    /// At the entry of every function (the default). A call of a function with points runs its
    /// entry point, so every loop and every recursion that calls such a function meets a point on
    /// each turn; a point before each return would add a load and a compare to every call and
    /// a call site to the metadata, and shorten no wait but the one for a function's last stretch
    /// after its last call.
    case entry
    /// As `entry`, plus before each return.
    case entryExit = "entry-exit"
    /// As `entryExit`, plus on the back edges of loops that contain a call or whose body is at
    /// least `MigrationPoints.loopBodyBudget` instructions long.
    case loops
}
