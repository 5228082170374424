// Code generation that proves no callee-saved register carries anything across a stackmap.
//
// A stackmap describes the values the compiler passed to it. Whatever else the back end keeps in a
// callee-saved register across the call before it is hidden state: after a move, that register
// holds what the runtime put there (docs/HAZARDS.md, H3). LLVM's C API emits an object with no way
// to look at the machine code first; this one runs LLVM's own code generation pipeline with one
// more machine pass, right after LLVM's stackmap liveness analysis (register allocation, frame
// lowering and every pass that moves code are done by then), which walks each block backwards
// with the back end's own register liveness and reports every callee-saved register live right
// after a STACKMAP, i.e. right after its call.
#ifndef POPCORN_CHECKED_EMISSION_H
#define POPCORN_CHECKED_EMISSION_H

#include <stdint.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Called once for every callee-saved register (DWARF number) live right after the stackmap with
/// ID `stackmap` in `function`. Reserved registers (the frame pointer) are not reported: the
/// transformation rebuilds them.
typedef void (*PopcornLiveRegisterHandler)(void *context, const char *function, uint64_t stackmap,
                                           unsigned dwarfRegister);

/// Emits `module` like `LLVMTargetMachineEmitToMemoryBuffer` (object or assembly per `kind`),
/// checking every stackmap on the way. Returns 0 on success, with the output in `*buffer` and the
/// number of stackmaps checked in `*checked`; otherwise 1 and a message in `*error` (free it with
/// `LLVMDisposeMessage`).
LLVMBool PopcornEmitCheckingStackMaps(LLVMTargetMachineRef machine, LLVMModuleRef module,
                                      LLVMCodeGenFileType kind, PopcornLiveRegisterHandler handler,
                                      void *context, uint64_t *checked, char **error,
                                      LLVMMemoryBufferRef *buffer);

#ifdef __cplusplus
}
#endif

#endif
