import Foundation

/// What one code generation of a module produced (`TargetMachine.emit`).
public struct Emission: Sendable {
    /// The object file, or the assembly text; empty when the emission was `abandoned`.
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
    /// How many stackmaps the check looked at (every one in the module, unless abandoned).
    public var stackMapsChecked: Int
    /// Whether the caller's `abandoning` predicate gave the emission up at a finding: the
    /// functions after it without records were not generated (`functionsCutShort`); those with
    /// records were, so the findings above are all of the module's.
    public var abandoned: Bool = false
    /// How many functions an abandoned emission did not generate.
    public var functionsCutShort: Int = 0
}

/// One finding of the checked emission, as the `abandoning` predicate of `TargetMachine.emit`
/// sees it.
public enum HiddenStateFinding: Sendable, Equatable {
    /// A callee-saved register (DWARF number) live right after a stackmap in `function`.
    case register(function: String, dwarf: UInt16)
    /// A spill slot live right after a stackmap in `function`.
    case stackSlot(function: String, slot: UInt32)
    /// State across a statepoint in `function` that its record does not name.
    case statepoint(function: String)
}
