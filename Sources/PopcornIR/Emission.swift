import Foundation

/// What one code generation of a module produced (`TargetMachine.emit`).
public struct Emission: Sendable {
    /// The object file, or the assembly text.
    public var output: Data
    /// Callee-saved registers (DWARF numbers) live right after a stackmap, by function: each one
    /// something the back end carries across an instrumented call that no stackmap describes.
    /// Empty when the back end kept nothing there (`PopcornEmitCheckingStackMaps`).
    public var liveAcrossStackMaps: [String: Set<UInt16>]
    /// Spill slots (numbered among the function's frame objects) live right after a stackmap, by
    /// function: values register allocation keeps in memory across an instrumented call.
    public var slotsAcrossStackMaps: [String: Set<UInt32>]
    /// Functions in which a statepoint's call has a callee-saved register or spill slot live across
    /// it that its record does not name, or whose record names a register the call clobbers.
    public var hiddenAcrossStatepoints: Set<String>
    /// How many stackmaps the check looked at (every one in the module).
    public var stackMapsChecked: Int
}
