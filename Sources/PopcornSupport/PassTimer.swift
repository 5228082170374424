import Foundation

/// The wall time of every pass of a tool's run: popcorn-ld's `--time-trace` (the numbered steps of
/// `Linker.run`, like lld's and mold's timers) and popcorn-cc's `-ftime-report` (the IR passes and
/// each ISA's lowering and code generation, `PassPipeline`).
///
/// Without a file the report goes to standard error, one line per pass in order with its
/// share of the whole link; with `--time-trace-file=<file>` it is a Chrome trace (the JSON
/// `traceEvents` format that chrome://tracing, Perfetto and speedscope read, as
/// `ld.lld --time-trace` writes), with one complete event (`"ph": "X"`) per pass and one for the
/// whole link. Times are always taken (two clock reads per pass) so that the parse of the
/// options, which says whether to report them, is measured too.
public final class PassTimer: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// Microseconds since the link started.
        public var start: UInt64
        public var duration: UInt64
    }

    /// The tool whose passes these are (the report's prefix, the trace's process name).
    public let tool: String
    private let origin: UInt64
    private let lock = NSLock()
    public private(set) var entries: [Entry] = []

    public init(tool: String) {
        self.tool = tool
        origin = Self.now()
    }

    /// Monotonic microseconds (wall time: waiting for ld.lld is most of a link).
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    /// Runs one pass, recording its time (also when it throws: a failing pass took time too).
    public func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = Self.now()
        defer {
            let end = Self.now()
            lock.withLock { entries.append(Entry(name: name, start: start - origin, duration: end - start)) }
        }
        return try body()
    }

    /// Microseconds from construction to now.
    public var elapsed: UInt64 { Self.now() - origin }

    /// The stderr report: one line per pass, then the total.
    public func text(total: UInt64) -> [String] {
        let width = max(entries.map(\.name.count).max() ?? 0, 5)
        func line(_ name: String, _ micros: UInt64) -> String {
            let ms = String(format: "%9.3f ms", Double(micros) / 1000)
            let share = total == 0 ? 0 : Double(micros) * 100 / Double(total)
            return "\(tool): time: " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                + " " + ms + String(format: " %5.1f%%", share)
        }
        return entries.map { line($0.name, $0.duration) } + [line("total", total)]
    }

    /// The Chrome trace JSON.
    public func chromeTrace(total: UInt64) -> Data {
        let pid = Int(getpid())
        var events: [[String: Any]] = [["name": tool, "ph": "X", "ts": 0, "dur": Int(total), "pid": pid, "tid": 0,
                                        "cat": "link"]]
        for entry in entries {
            events.append(["name": entry.name, "ph": "X", "ts": Int(entry.start), "dur": Int(entry.duration),
                           "pid": pid, "tid": 0, "cat": "pass"])
        }
        events.append(["name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": ["name": tool]])
        let object: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ms"]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// Reports to stderr, or writes the trace file atomically.
    public func finish(file: String?, diagnostics: DiagnosticsEngine) throws {
        let total = elapsed
        if let file {
            try AtomicFile.write(chromeTrace(total: total), to: file)
        } else {
            for line in text(total: total) { diagnostics.remark(line) }
        }
    }
}
