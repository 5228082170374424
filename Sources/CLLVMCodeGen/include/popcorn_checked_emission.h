// Code generation that proves no callee-saved register carries anything across a stackmap.
//
// A stackmap describes the values the compiler passed to it. Whatever else the back end keeps in a
// callee-saved register across the call before it is hidden state: after a move, that register
// holds what the runtime put there (docs/HAZARDS.md, H3). LLVM's C API emits an object with no way
// to look at the machine code first; this one runs LLVM's own code generation pipeline with one
// more machine pass, right after LLVM's stackmap liveness analysis (register allocation, frame
// lowering and every pass that moves code are done by then), which walks each block backwards
// with the back end's own register liveness and reports every callee-saved register live right
// after a STACKMAP, i.e. right after its call, or after a STATEPOINT (the call itself) that its
// record does not name; and one after register allocation that does the same for spill slots.
#ifndef POPCORN_CHECKED_EMISSION_H
#define POPCORN_CHECKED_EMISSION_H

#include <stdint.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a finding is (`PopcornHiddenState.kind`).
enum {
    /// A callee-saved register live right after the record's call that the record does not name.
    POPCORN_HIDDEN_REGISTER = 0,
    /// A spill slot live right after the call that the record does not name (`number` is the
    /// slot's position among the function's frame objects).
    POPCORN_HIDDEN_STACK_SLOT = 1,
    /// The record names a register the call clobbers.
    POPCORN_HIDDEN_UNPRESERVED_REGISTER = 2,
};

/// One finding of the check: state the back end keeps across an instrumented call that the
/// call's record does not describe.
typedef struct PopcornHiddenState {
    const char *function;
    /// The stackmap's or statepoint's ID.
    uint64_t id;
    /// 1 if the record is a statepoint's (whose deopt operands may be in registers).
    uint8_t is_statepoint;
    uint8_t kind;
    /// The register's DWARF number, or the slot's number.
    unsigned number;
} PopcornHiddenState;

/// Called once per finding. Reserved registers (the frame pointer) are not reported: the
/// transformation rebuilds them. Returning nonzero abandons the emission: the caller will generate
/// the module again anyway, so the functions not yet generated that have no stackmap or statepoint
/// (and so no finding to make) are cut short, and no output is returned.
typedef int (*PopcornHiddenStateHandler)(void *context, const PopcornHiddenState *finding);

/// Emits `module` like `LLVMTargetMachineEmitToMemoryBuffer` (object or assembly per `kind`),
/// checking every stackmap on the way. Returns 0 on success, with the output in `*buffer` and the
/// number of stackmaps checked in `*checked`; 2 if the handler abandoned it (no output; every
/// finding was sent, and `*erased` says how many functions were cut short); otherwise 1 and a
/// message in `*error` (free it with `LLVMDisposeMessage`).
LLVMBool PopcornEmitCheckingStackMaps(LLVMTargetMachineRef machine, LLVMModuleRef module,
                                      LLVMCodeGenFileType kind, PopcornHiddenStateHandler handler,
                                      void *context, uint64_t *checked, uint64_t *erased, char **error,
                                      LLVMMemoryBufferRef *buffer);

#ifdef __cplusplus
}
#endif

#endif
