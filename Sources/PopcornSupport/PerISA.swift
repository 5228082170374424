import Foundation

/// Runs one piece of work per ISA at the same time: the ISAs' links, and their metadata, are
/// independent, and the machine has a core for each.
public enum PerISA {
    /// `body` for every ISA, concurrently. Throws the error of the first ISA in ISA order that
    /// failed, so the message does not depend on which thread finished first.
    public static func concurrently<T>(_ isas: [ISA], _ body: @escaping (ISA) throws -> T) throws -> [ISA: T] {
        let results = Results<T>()
        DispatchQueue.concurrentPerform(iterations: isas.count) { index in
            let isa = isas[index]
            do {
                let value = try body(isa)
                results.lock.withLock { results.values[isa] = value }
            } catch {
                results.lock.withLock { results.errors[isa] = error }
            }
        }
        if let isa = isas.sorted().first(where: { results.errors[$0] != nil }) { throw results.errors[isa]! }
        return results.values
    }

    /// What the threads hand back, under the lock.
    private final class Results<T>: @unchecked Sendable {
        let lock = NSLock()
        var values: [ISA: T] = [:]
        var errors: [ISA: Error] = [:]
    }
}
