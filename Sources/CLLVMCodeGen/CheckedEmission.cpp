// The C interface of popcorn_checked_emission.h: LLVM's code generation pipeline, as
// LLVMTargetMachine::addPassesToEmitFile builds it, with two machine passes inserted: one after
// the statepoint fix-up (spill slots), one after the stackmap liveness analysis (registers).
#include "popcorn_checked_emission.h"
#include "popcorn_pass_gate.h"

#include <llvm-c/Core.h>

#include <llvm/ADT/SmallString.h>
#include <llvm/CodeGen/LivePhysRegs.h>
#include <llvm/CodeGen/MachineFrameInfo.h>
#include <llvm/CodeGen/MachineFunction.h>
#include <llvm/CodeGen/MachineFunctionPass.h>
#include <llvm/CodeGen/MachineModuleInfo.h>
#include <llvm/CodeGen/MachineRegisterInfo.h>
#include <llvm/CodeGen/PseudoSourceValue.h>
#include <llvm/CodeGen/StackMaps.h>
#include <llvm/CodeGen/StackProtector.h>
#include <llvm/ADT/BitVector.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/CodeGen/Passes.h>
#include <llvm/CodeGen/TargetOpcodes.h>
#include <llvm/CodeGen/TargetPassConfig.h>
#include <llvm/CodeGen/TargetRegisterInfo.h>
#include <llvm/CodeGen/TargetSubtargetInfo.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/OptBisect.h>
#include <llvm/Pass.h>
#include <llvm/Transforms/Utils.h>
#include <memory>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCRegisterInfo.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <cstring>
#include <vector>
#include <string>

namespace {

/// Where the checks send their findings, and whether the Swift side has said that this emission's
/// output will be thrown away (a finding that means the module is generated again).
struct Reporter {
    PopcornHiddenStateHandler handler;
    void *context;
    bool abandoned = false;

    /// Sends one finding to the Swift side.
    void send(const std::string &function, const llvm::MachineInstr &record, unsigned kind, unsigned number) {
        PopcornHiddenState finding;
        finding.function = function.c_str();
        bool statepoint = record.getOpcode() == llvm::TargetOpcode::STATEPOINT;
        finding.id = statepoint ? llvm::StatepointOpers(&record).getID() : record.getOperand(0).getImm();
        finding.is_statepoint = statepoint;
        finding.kind = uint8_t(kind);
        finding.number = number;
        if (handler(context, &finding) != 0)
            abandoned = true;
    }
};

bool isRecord(const llvm::MachineInstr &instruction) {
    return instruction.getOpcode() == llvm::TargetOpcode::STACKMAP || instruction.getOpcode() == llvm::TargetOpcode::STATEPOINT;
}

/// Whether `function` has a STACKMAP or STATEPOINT (the frame info's stackmap flag is set for
/// stackmaps only).
bool hasRecords(const llvm::MachineFunction &function) {
    for (const llvm::MachineBasicBlock &block : function)
        for (const llvm::MachineInstr &instruction : block)
            if (isRecord(instruction))
                return true;
    return false;
}

/// The first operand of a STATEPOINT's variable part (calling convention, flags, deopt values);
/// every register or frame index from there on is a location its record names.
unsigned recordedOperands(const llvm::MachineInstr &record) {
    return record.getOpcode() == llvm::TargetOpcode::STATEPOINT ? llvm::StatepointOpers(&record).getVarIdx()
                                                                 : record.getNumOperands();
}

/// What both checks share: an analysis-only machine pass that sends its findings to a handler.
class RecordCheck : public llvm::MachineFunctionPass {
public:
    RecordCheck(char &id, Reporter &reporter) : llvm::MachineFunctionPass(id), reporter(reporter) {}

    void getAnalysisUsage(llvm::AnalysisUsage &usage) const override {
        usage.setPreservesAll();
        llvm::MachineFunctionPass::getAnalysisUsage(usage);
    }

protected:
    Reporter &reporter;
};

/// Reports, for every STACKMAP and STATEPOINT, the callee-saved registers live right after it
/// that its record does not name.
///
/// A STACKMAP follows its call with nothing between them (popcorn-ld checks that the record sits
/// at the return address), and it defines and reads no register of its own here (its operands are
/// frame slots), so what is live after it is what is live across the call; its record names no
/// register, so every one is hidden. A STATEPOINT is the call itself; its record names the
/// registers its deopt operands are in, and those are the only ones allowed across it (each must
/// be callee-saved: a register the call clobbers is reported too). Liveness is the back end's:
/// each block's live-ins as register allocation and frame lowering left them, stepped backwards
/// over each instruction's definitions and uses. Registers the prologue saves count as live only
/// where the function itself still reads them; the callers' values are the transformation's to
/// carry (through the CFI), not this check's.
class StackMapRegisterCheck final : public RecordCheck {
public:
    static char ID;

    StackMapRegisterCheck(Reporter &reporter) : RecordCheck(ID, reporter) {}

    llvm::StringRef getPassName() const override { return "Popcorn stackmap register check"; }

    bool runOnMachineFunction(llvm::MachineFunction &function) override {
        if (!hasRecords(function))
            return false;
        const llvm::TargetRegisterInfo &registers = *function.getSubtarget().getRegisterInfo();
        const llvm::MachineRegisterInfo &info = function.getRegInfo();
        llvm::SmallVector<llvm::MCPhysReg, 32> calleeSaved;
        for (const llvm::MCPhysReg *r = info.getCalleeSavedRegs(); r != nullptr && *r != 0; ++r)
            if (!info.isReserved(*r))
                calleeSaved.push_back(*r);
        std::string name = function.getName().str();

        llvm::LivePhysRegs live(registers);
        for (const llvm::MachineBasicBlock &block : function) {
            live.init(registers);
            live.addLiveOutsNoPristines(block);
            for (const llvm::MachineInstr &instruction : llvm::reverse(block)) {
                unsigned opcode = instruction.getOpcode();
                if (opcode == llvm::TargetOpcode::STACKMAP || opcode == llvm::TargetOpcode::STATEPOINT) {
                    checked++;
                    report(instruction, live, calleeSaved, registers, info, name);
                }
                live.stepBackward(instruction);
            }
        }
        return false;
    }

    uint64_t checked = 0;

private:
    /// A callee-saved register counts as live when it or any register overlapping it is (an
    /// aarch64 float in s8 occupies d8); it counts as named when a named register overlaps it.
    void report(const llvm::MachineInstr &record, const llvm::LivePhysRegs &live,
                llvm::ArrayRef<llvm::MCPhysReg> calleeSaved, const llvm::TargetRegisterInfo &registers,
                const llvm::MachineRegisterInfo &info, const std::string &name) {
        llvm::SmallVector<llvm::MCPhysReg, 16> named;
        for (unsigned i = recordedOperands(record); i < record.getNumOperands(); i++) {
            const llvm::MachineOperand &operand = record.getOperand(i);
            // A location is a register, or a marker and its fields (StackMaps::parseOperand):
            // the base register of a memory location is not a value's register.
            if (operand.isImm()) {
                int64_t marker = operand.getImm();
                i += marker == llvm::StackMaps::DirectMemRefOp ? 2 : marker == llvm::StackMaps::IndirectMemRefOp ? 3
                   : marker == llvm::StackMaps::ConstantOp ? 1 : 0;
                continue;
            }
            if (!operand.isReg() || operand.isImplicit() || !operand.getReg().isPhysical())
                continue;
            llvm::MCPhysReg reg = operand.getReg();
            named.push_back(reg);
            bool preserved = llvm::any_of(calleeSaved, [&](llvm::MCPhysReg saved) { return registers.regsOverlap(saved, reg); });
            if (!preserved)
                reporter.send(name, record, POPCORN_HIDDEN_UNPRESERVED_REGISTER, dwarf(reg, registers));
        }
        for (llvm::MCPhysReg reg : calleeSaved) {
            bool isLive = false;
            for (llvm::MCRegAliasIterator alias(reg, &registers, true); alias.isValid() && !isLive; ++alias)
                isLive = live.contains(*alias);
            if (!isLive || llvm::any_of(named, [&](llvm::MCPhysReg n) { return registers.regsOverlap(n, reg); }))
                continue;
            reporter.send(name, record, POPCORN_HIDDEN_REGISTER, dwarf(reg, registers));
        }
    }

    /// The DWARF number of `reg` or of the smallest register containing it that has one.
    static unsigned dwarf(llvm::MCPhysReg reg, const llvm::TargetRegisterInfo &registers) {
        for (llvm::MCSuperRegIterator super(reg, &registers, true); super.isValid(); ++super) {
            int number = registers.getDwarfRegNum(*super, false);
            if (number >= 0)
                return unsigned(number);
        }
        return ~0u;
    }

};

char StackMapRegisterCheck::ID = 0;

/// Reports, for every STACKMAP and STATEPOINT, the spill slots live right after it that its
/// record does not name: a value register allocation keeps in memory across the call.
///
/// Runs after register allocation and the statepoint fix-up (which moves a carried value out of a
/// register the call clobbers into a slot the record then names), before frame lowering, while
/// spill slots are still frame indices. Liveness is per byte: a byte is live where some path
/// reads it before writing it. A load (a reload, a folded operand, a record) makes the bytes its
/// memory operand covers live, a store that reads nothing kills the bytes it covers, and any
/// other reference counts as a read of the whole slot (a spilled 32-bit register read back from an
/// 8-byte slot, or a flag byte stored into a slot that held a pointer before, stay exact). The
/// program's stack objects are not spill slots: the records name those the runtime must know.
class StackMapSlotCheck final : public RecordCheck {
public:
    static char ID;

    StackMapSlotCheck(Reporter &reporter) : RecordCheck(ID, reporter) {}

    llvm::StringRef getPassName() const override { return "Popcorn stackmap spill slot check"; }

    bool runOnMachineFunction(llvm::MachineFunction &function) override {
        if (!hasRecords(function))
            return false;
        const llvm::MachineFrameInfo &frame = function.getFrameInfo();
        // Each spill slot's bytes get a range of bits.
        first = frame.getObjectIndexBegin();
        start.assign(unsigned(frame.getObjectIndexEnd() - first) + 1, 0);
        unsigned bits = 0;
        for (int index = first; index < frame.getObjectIndexEnd(); index++) {
            start[unsigned(index - first)] = bits;
            if (frame.isSpillSlotObjectIndex(index) && !frame.isDeadObjectIndex(index))
                bits += unsigned(frame.getObjectSize(index));
        }
        start.back() = bits;
        if (bits == 0)
            return false;
        // Live-in bytes per block, to a fixed point (backwards, blocks in reverse layout order),
        // then one more pass that reports.
        llvm::DenseMap<const llvm::MachineBasicBlock *, llvm::BitVector> liveIn;
        for (const llvm::MachineBasicBlock &block : function)
            liveIn[&block] = llvm::BitVector(bits);
        std::string name = function.getName().str();
        bool reporting = false;
        while (true) {
            bool changed = false;
            for (const llvm::MachineBasicBlock &block : llvm::reverse(function)) {
                llvm::BitVector live(bits);
                for (const llvm::MachineBasicBlock *successor : block.successors())
                    live |= liveIn[successor];
                for (const llvm::MachineInstr &instruction : llvm::reverse(block))
                    step(instruction, live, frame, reporting, name);
                if (live != liveIn[&block]) {
                    liveIn[&block] = live;
                    changed = true;
                }
            }
            if (reporting)
                break;
            reporting = !changed;
        }
        return false;
    }

private:
    /// The bits of slot `index`'s bytes [from, to), clamped to the slot; none for other objects.
    std::pair<unsigned, unsigned> span(int index, uint64_t from, uint64_t to, const llvm::MachineFrameInfo &frame) const {
        if (!frame.isSpillSlotObjectIndex(index) || frame.isDeadObjectIndex(index))
            return {0, 0};
        unsigned base = start[unsigned(index - first)];
        uint64_t size = uint64_t(frame.getObjectSize(index));
        return {base + unsigned(std::min(from, size)), base + unsigned(std::min(to, size))};
    }

    void step(const llvm::MachineInstr &instruction, llvm::BitVector &live, const llvm::MachineFrameInfo &frame,
              bool reporting, const std::string &name) {
        bool record = isRecord(instruction);
        llvm::SmallVector<int, 8> referenced;
        for (const llvm::MachineOperand &operand : instruction.operands())
            if (operand.isFI() && frame.isSpillSlotObjectIndex(operand.getIndex()))
                referenced.push_back(operand.getIndex());
        if (record) {
            if (reporting)
                for (int index = first; index < frame.getObjectIndexEnd(); index++) {
                    auto [from, to] = span(index, 0, ~uint64_t(0), frame);
                    if (from == to || llvm::is_contained(referenced, index))
                        continue;
                    if (live.find_first_in(from, to) >= 0)
                        reporter.send(name, instruction, POPCORN_HIDDEN_STACK_SLOT, unsigned(index - first));
                }
            for (int index : referenced) {
                auto [from, to] = span(index, 0, ~uint64_t(0), frame);
                live.set(from, to);
            }
            return;
        }
        if (referenced.empty())
            return;
        // What the memory operands say about each referenced slot; a reference they do not
        // describe reads the whole slot.
        bool onlyStores = instruction.mayStore() && !instruction.mayLoad() && !instruction.hasUnmodeledSideEffects();
        for (int index : referenced) {
            bool described = false;
            for (const llvm::MachineMemOperand *memory : instruction.memoperands()) {
                auto *fixed = llvm::dyn_cast_or_null<llvm::FixedStackPseudoSourceValue>(memory->getPseudoValue());
                if (fixed == nullptr || fixed->getFrameIndex() != index || !known(memory))
                    continue;
                described = true;
                uint64_t from = uint64_t(memory->getOffset());
                auto [low, high] = span(index, from, from + memory->getSize().getValue().getFixedValue(), frame);
                if (memory->isStore() && !memory->isLoad() && onlyStores)
                    live.reset(low, high);
                else
                    live.set(low, high);
            }
            if (!described) {
                auto [low, high] = span(index, 0, ~uint64_t(0), frame);
                live.set(low, high);
            }
        }
    }

    static bool known(const llvm::MachineMemOperand *memory) {
        return memory->getSize().hasValue() && !memory->getSize().isScalable() && memory->getOffset() >= 0;
    }

    /// The first frame index, and per object (from it) the first bit of its bytes.
    int first = 0;
    std::vector<unsigned> start;
};

char StackMapSlotCheck::ID = 0;

/// Announces each function to the pass gate before its loop passes run (see
/// POPCORN_PASS_GATE_FUNCTION_MARKER): the gate can then skip loop strength reduction on the
/// functions with records.
class LoopFunctionMarker final : public llvm::FunctionPass {
public:
    static char ID;

    LoopFunctionMarker() : llvm::FunctionPass(ID) {}

    llvm::StringRef getPassName() const override { return POPCORN_PASS_GATE_FUNCTION_MARKER; }

    void getAnalysisUsage(llvm::AnalysisUsage &usage) const override { usage.setPreservesAll(); }

    bool runOnFunction(llvm::Function &function) override {
        llvm::OptPassGate &gate = function.getContext().getOptPassGate();
        if (gate.isEnabled())
            gate.shouldRunPass(POPCORN_PASS_GATE_FUNCTION_MARKER, ("function (" + function.getName() + ")").str());
        return false;
    }
};

char LoopFunctionMarker::ID = 0;

/// Once the Swift side has said the output will be thrown away (`Reporter::abandoned`), replaces
/// each function still to be generated that has no stackmap or statepoint by a single
/// `unreachable`, so that the rest of the module costs only what finding the other functions'
/// findings costs: the next emission then starts with all of them. (Cutting the functions with
/// records short as well found SQLite's second function, `whereLoopAddOr`, only in a second
/// abandoned emission, after `balance` in the first: three code generations.) It runs right before
/// instruction selection, in the same per-function batch as the machine passes and the checks
/// (the IR passes before it run over the whole module first on aarch64, whose pipeline has module
/// passes before instruction selection).
class AbandonedFunctionEraser final : public llvm::FunctionPass {
public:
    static char ID;

    AbandonedFunctionEraser(const Reporter &reporter, uint64_t &erased)
        : llvm::FunctionPass(ID), reporter(reporter), erased(erased) {}

    llvm::StringRef getPassName() const override { return "Popcorn abandoned function eraser"; }

    // Instruction selection reads the stack protector's results as an analysis; were they not
    // preserved, the pass manager would have to schedule the stack protector again. An erased
    // function has no stack objects and no return, so there is nothing for it to protect.
    void getAnalysisUsage(llvm::AnalysisUsage &usage) const override { usage.addPreserved<llvm::StackProtector>(); }

    bool runOnFunction(llvm::Function &function) override {
        if (!reporter.abandoned || hasRecords(function))
            return false;
        // Drops every block (a block address elsewhere becomes a placeholder) and keeps the
        // function a definition with its linkage: the output is never used.
        function.dropAllReferences();
        auto *block = llvm::BasicBlock::Create(function.getContext(), "", &function);
        new llvm::UnreachableInst(function.getContext(), block);
        ++erased;
        return true;
    }

private:
    /// Whether `function` calls the stackmap or statepoint intrinsic: only such a function can
    /// have a finding.
    static bool hasRecords(const llvm::Function &function) {
        for (const llvm::BasicBlock &block : function)
            for (const llvm::Instruction &instruction : block)
                if (const auto *call = llvm::dyn_cast<llvm::CallBase>(&instruction))
                    if (const llvm::Function *callee = call->getCalledFunction()) {
                        llvm::Intrinsic::ID id = callee->getIntrinsicID();
                        if (id == llvm::Intrinsic::experimental_stackmap || id == llvm::Intrinsic::experimental_gc_statepoint)
                            return true;
                    }
        return false;
    }

    const Reporter &reporter;
    uint64_t &erased;
};

char AbandonedFunctionEraser::ID = 0;

} // namespace

LLVMBool PopcornEmitCheckingStackMaps(LLVMTargetMachineRef machineRef, LLVMModuleRef moduleRef,
                                      LLVMCodeGenFileType kind, PopcornHiddenStateHandler handler,
                                      void *context, uint64_t *checked, uint64_t *erased, char **error,
                                      LLVMMemoryBufferRef *buffer) {
    // The C API's target machine is an LLVMTargetMachine (every registered back end's is).
    auto &machine = *reinterpret_cast<llvm::LLVMTargetMachine *>(machineRef);
    llvm::Module &module = *llvm::unwrap(moduleRef);
    module.setDataLayout(machine.createDataLayout());

    llvm::SmallString<0> output;
    llvm::raw_svector_ostream stream(output);
    llvm::legacy::PassManager passes;
    // What addPassesToEmitFile does, with the check inserted before the pipeline is built.
    auto *moduleInfo = new llvm::MachineModuleInfoWrapperPass(&machine);
    llvm::TargetPassConfig *config = machine.createPassConfig(passes);
    // addPassesToEmitFile's default, as the C API calls it: no IR verifier between the passes
    // (popcorn-cc verifies the module before code generation).
    config->setDisableVerify(true);
    passes.add(config);
    passes.add(moduleInfo);
    Reporter reporter{handler, context};
    *erased = 0;
    auto *check = new StackMapRegisterCheck(reporter);
    config->insertPass(&llvm::StackMapLivenessID, llvm::IdentifyingPassPtr(check));
    // Right before loop strength reduction, which the code generation pipeline adds right after
    // "canon-freeze" (TargetPassConfig::addIRPasses).
    {
        std::unique_ptr<llvm::Pass> freeze(llvm::createCanonicalizeFreezeInLoopsPass());
        config->insertPass(freeze->getPassID(), llvm::IdentifyingPassPtr(new LoopFunctionMarker()));
    }
    // Right before instruction selection: the last IR pass TargetPassConfig::addISelPrepare adds
    // is the stack protector (the IR passes before it run over the whole module first).
    {
        std::unique_ptr<llvm::Pass> protector(llvm::createStackProtectorPass());
        config->insertPass(protector->getPassID(), llvm::IdentifyingPassPtr(new AbandonedFunctionEraser(reporter, *erased)));
    }
    config->insertPass(&llvm::FixupStatepointCallerSavedID,
                       llvm::IdentifyingPassPtr(new StackMapSlotCheck(reporter)));
    auto fail = [&](const char *message) {
        *error = strdup(message);
        return LLVMBool(1);
    };
    if (config->addISelPasses())
        return fail("the target cannot select instructions for this module");
    config->addMachinePasses();
    config->setInitialized();
    auto fileType = kind == LLVMAssemblyFile ? llvm::CodeGenFileType::AssemblyFile : llvm::CodeGenFileType::ObjectFile;
    if (machine.addAsmPrinter(passes, stream, nullptr, fileType, moduleInfo->getMMI().getContext()))
        return fail("the target cannot emit a file of this type");
    passes.add(llvm::createFreeMachineFunctionPass());
    passes.run(module);
    *checked = check->checked;
    if (reporter.abandoned) {
        *buffer = nullptr;
        return 2;
    }
    *buffer = LLVMCreateMemoryBufferWithMemoryRangeCopy(output.data(), output.size(), "");
    return 0;
}
