import Foundation
import PopcornELF
import PopcornSupport

/// Builds one ISA's `StackTransformMetadata` from a linked binary: its stackmaps give the call
/// sites and live values, its `.eh_frame` the frame layout at each call, its symbol table the
/// function names. Every fact the runtime will rely on is checked here, per call site.
struct ISAMetadataBuilder {
    let file: ELFFile
    let isa: ISA
    let registers: RegisterFile
    /// IR facts per call-site ID (pointer flags, alloca sizes), if the compiler provided them.
    let annotations: [UInt64: [LiveValueAnnotation]]

    /// `annotations`: the compiler's side table of the whole program (`MetadataBuilder.sideTable`:
    /// one ISA's object carries it for all).
    init(file: ELFFile, isa: ISA, annotations: [UInt64: [LiveValueAnnotation]]) {
        self.file = file
        self.isa = isa
        self.registers = RegisterFile(isa)
        self.annotations = annotations
    }

    func build() throws -> StackTransformMetadata {
        try build(rejecting: nil)
    }

    /// Like `build()`, but a call site that cannot be described is left out and its error
    /// appended to `rejected` instead of failing the whole table (when `rejected` is non-nil).
    func build(rejecting rejected: UnsafeMutablePointer<[(id: UInt64, error: MetadataError)]>?) throws -> StackTransformMetadata {
        let stackMap = try StackMapParser.parse(file)
        let liveFunctions = stackMap.functions.indices.filter { stackMap.functions[$0].address != 0 }
        if liveFunctions.isEmpty { return StackTransformMetadata(isa: isa, functions: [], callSites: []) }
        let ehFrame = try EHFrameParser.parse(file)
        let symbols = try functionSymbols()

        // Functions sorted by address; a function may appear in several stackmap tables only if
        // something is badly wrong, so merge by address rather than trusting the table order.
        let addresses = Set(liveFunctions.map { stackMap.functions[$0].address }).sorted()
        let functionIndex = Dictionary(uniqueKeysWithValues: addresses.enumerated().map { ($1, $0) })
        let functions = addresses.map { address in
            symbols[address] ?? MetadataFunction(name: "0x" + String(address, radix: 16), address: address, size: 0)
        }

        let frames = FrameCache(ehFrame: ehFrame, registers: registers)
        var sites: [CallSite] = []
        var seen: [UInt64: String] = [:]
        for record in stackMap.records {
            let function = stackMap.functions[record.functionIndex]
            guard function.address != 0 else { continue } // discarded by the linker
            let index = functionIndex[function.address]!
            let name = functions[index].name
            if let other = seen[record.id] {
                throw MetadataError.badCallSite(isa: isa, function: name, id: record.id,
                                                reason: "id is not unique (also used in '\(other)')")
            }
            seen[record.id] = name
            do {
                sites.append(try callSite(record, function: function, index: index, name: name, frames: frames))
            } catch let error as MetadataError where rejected != nil {
                if case .badCallSite = error { rejected!.pointee.append((record.id, error)) } else { throw error }
            }
        }
        sites.sort { $0.id < $1.id }
        return StackTransformMetadata(isa: isa, functions: functions, callSites: sites)
    }

    /// Defined function symbols by address (globals preferred when several share an address).
    private func functionSymbols() throws -> [UInt64: MetadataFunction] {
        var result: [UInt64: MetadataFunction] = [:]
        var isGlobal: [UInt64: Bool] = [:]
        for symbol in try file.symbols() where symbol.type == ELFConstants.STT_FUNC && symbol.isDefined && !symbol.name.isEmpty {
            if let existing = isGlobal[symbol.value], existing || symbol.isLocal { continue }
            result[symbol.value] = MetadataFunction(name: symbol.name, address: symbol.value, size: symbol.size)
            isGlobal[symbol.value] = !symbol.isLocal
        }
        return result
    }

    private func callSite(_ record: StackMapRecord, function: StackMapFunction, index: Int, name: String,
                          frames: FrameCache) throws -> CallSite {
        // Captures the three values, not the builder (whose copy was a tenth of the metadata's time).
        let (isa, id) = (isa, record.id)
        let fail = { (reason: String) -> MetadataError in .badCallSite(isa: isa, function: name, id: id, reason: reason) }
        let (returnAddress, overflow) = function.address.addingReportingOverflow(UInt64(record.instructionOffset))
        guard !overflow, record.instructionOffset > 0 else { throw fail("invalid instruction offset \(record.instructionOffset)") }
        var ra: String { "0x" + String(returnAddress, radix: 16) }
        guard CallInstructionDecoder.isCall(before: returnAddress, in: file, isa: isa) else {
            throw fail("the stackmap at \(ra) does not directly follow a call instruction (the backend expanded the call inline, or scheduled code between the call and the stackmap)")
        }

        let frame: FrameLayout
        do {
            frame = try frames.frame(returningTo: returnAddress, stackSize: function.stackSize)
        } catch .noFrameInfo {
            throw MetadataError.noFrameInfo(isa: isa, function: name, address: function.address)
        } catch let .unsupported(reason) {
            throw fail(reason)
        }

        let notes = annotations[record.id]
        if let notes, notes.count != record.locations.count {
            throw fail("the compiler describes \(notes.count) live values, the stackmap has \(record.locations.count)")
        }
        var values: [LiveValue] = []
        for (i, location) in record.locations.enumerated() {
            var value = try liveValue(location, number: i, frame: frame, fail: fail)
            if let note = notes?[i] {
                // A frame-relative address is a stack object; the compiler must know it as one,
                // or the runtime would copy the address instead of the object.
                if value.kind == .direct && !note.isAlloca {
                    throw fail("live value \(i) is the address of a stack object, but the compiler describes it as a plain value")
                }
                value.info = note
            }
            values.append(value)
        }
        return CallSite(id: record.id, returnAddress: returnAddress, functionIndex: index, frame: frame, liveValues: values)
    }

    private func liveValue(_ location: StackMapLocation, number i: Int, frame: FrameLayout,
                           fail: (String) -> MetadataError) throws -> LiveValue {
        switch location.kind {
        case .constant, .constantIndex:
            return LiveValue(kind: .constant, size: location.size, constant: location.constant)
        case .register:
            // Only callee-saved registers survive the call; and since this function put the value
            // there, its own CFI must show it preserved the caller's copy.
            guard registers.isCalleeSaved(location.register) else {
                throw fail("live value \(i) is in \(registers.name(of: location.register)), which the call clobbers")
            }
            guard frame.savedRegisters.contains(where: { $0.register == location.register }) else {
                throw fail("live value \(i) is in \(registers.name(of: location.register)), but the CFI does not save that register")
            }
            return LiveValue(kind: .register, size: location.size, register: location.register)
        case .direct, .indirect:
            // One rule for the builder and the reader: the format stores only `register + offset`.
            let cfaOffset = MetadataFormat.cfaOffset(register: location.register, offset: location.offset, frame: frame, isa: registers.isa)
            if cfaOffset == nil && location.register != registers.framePointer && location.register != frame.cfaRegister
                && location.register != registers.stackPointer {
                throw fail("live value \(i) is addressed from \(registers.name(of: location.register)), which is neither the stack nor the frame pointer")
            }
            return LiveValue(kind: location.kind == .direct ? .direct : .indirect, size: location.size,
                             register: location.register, offset: location.offset, cfaOffset: cfaOffset)
        }
    }
}
