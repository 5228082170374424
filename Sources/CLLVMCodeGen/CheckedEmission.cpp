// The C interface of popcorn_checked_emission.h: LLVM's code generation pipeline, as
// LLVMTargetMachine::addPassesToEmitFile builds it, with one machine pass inserted after the
// stackmap liveness analysis.
#include "popcorn_checked_emission.h"

#include <llvm-c/Core.h>

#include <llvm/ADT/SmallString.h>
#include <llvm/CodeGen/LivePhysRegs.h>
#include <llvm/CodeGen/MachineFrameInfo.h>
#include <llvm/CodeGen/MachineFunction.h>
#include <llvm/CodeGen/MachineFunctionPass.h>
#include <llvm/CodeGen/MachineModuleInfo.h>
#include <llvm/CodeGen/MachineRegisterInfo.h>
#include <llvm/CodeGen/Passes.h>
#include <llvm/CodeGen/TargetOpcodes.h>
#include <llvm/CodeGen/TargetPassConfig.h>
#include <llvm/CodeGen/TargetRegisterInfo.h>
#include <llvm/CodeGen/TargetSubtargetInfo.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCRegisterInfo.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <cstring>
#include <string>

namespace {

/// Reports, for every STACKMAP, the callee-saved registers live right after it.
///
/// A STACKMAP follows its call with nothing between them (popcorn-ld checks that the record sits
/// at the return address), and it defines and reads no register of its own here (its operands are
/// frame slots), so what is live after it is what is live across the call. Liveness is the back
/// end's: each block's live-ins as register allocation and frame lowering left them, stepped
/// backwards over each instruction's definitions and uses. Registers the prologue saves count as
/// live only where the function itself still reads them; the callers' values are the
/// transformation's to carry (through the CFI), not this check's.
class StackMapRegisterCheck final : public llvm::MachineFunctionPass {
public:
    static char ID;

    StackMapRegisterCheck(PopcornLiveRegisterHandler handler, void *context)
        : llvm::MachineFunctionPass(ID), handler(handler), context(context) {}

    llvm::StringRef getPassName() const override { return "Popcorn stackmap register check"; }

    void getAnalysisUsage(llvm::AnalysisUsage &usage) const override {
        usage.setPreservesAll();
        llvm::MachineFunctionPass::getAnalysisUsage(usage);
    }

    bool runOnMachineFunction(llvm::MachineFunction &function) override {
        if (!function.getFrameInfo().hasStackMap())
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
                if (instruction.getOpcode() == llvm::TargetOpcode::STACKMAP) {
                    checked++;
                    report(instruction, live, calleeSaved, registers, name);
                }
                live.stepBackward(instruction);
            }
        }
        return false;
    }

    uint64_t checked = 0;

private:
    /// A callee-saved register counts as live when it or any register overlapping it is (an
    /// aarch64 float in s8 occupies d8).
    void report(const llvm::MachineInstr &stackmap, const llvm::LivePhysRegs &live,
                llvm::ArrayRef<llvm::MCPhysReg> calleeSaved, const llvm::TargetRegisterInfo &registers,
                const std::string &name) {
        uint64_t id = stackmap.getOperand(0).getImm();
        for (llvm::MCPhysReg reg : calleeSaved) {
            bool isLive = false;
            for (llvm::MCRegAliasIterator alias(reg, &registers, true); alias.isValid() && !isLive; ++alias)
                isLive = live.contains(*alias);
            if (!isLive)
                continue;
            int dwarf = registers.getDwarfRegNum(reg, false);
            handler(context, name.c_str(), id, dwarf < 0 ? ~0u : unsigned(dwarf));
        }
    }

    PopcornLiveRegisterHandler handler;
    void *context;
};

char StackMapRegisterCheck::ID = 0;

} // namespace

LLVMBool PopcornEmitCheckingStackMaps(LLVMTargetMachineRef machineRef, LLVMModuleRef moduleRef,
                                      LLVMCodeGenFileType kind, PopcornLiveRegisterHandler handler,
                                      void *context, uint64_t *checked, char **error,
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
    auto *check = new StackMapRegisterCheck(handler, context);
    config->insertPass(&llvm::StackMapLivenessID, llvm::IdentifyingPassPtr(check));
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
    *buffer = LLVMCreateMemoryBufferWithMemoryRangeCopy(output.data(), output.size(), "");
    return 0;
}
