import Foundation

/// What one code generation of a module produced (`TargetMachine.emit`).
public struct Emission: Sendable {
    /// The object file, or the assembly text.
    public var output: Data
    /// Callee-saved registers (DWARF numbers) live right after a stackmap, by function: each one
    /// something the back end carries across an instrumented call that no stackmap describes.
    /// Empty when the back end kept nothing there (`PopcornEmitCheckingStackMaps`).
    public var liveAcrossStackMaps: [String: Set<UInt16>]
    /// How many stackmaps the check looked at (every one in the module).
    public var stackMapsChecked: Int
}
