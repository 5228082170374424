// A per-function gate over LLVM's code generation passes, for the one thing LLVM 19's C API does
// not offer: running a pass on some functions of a module and not on others.
//
// LLVM's process-wide options (`-disable-machine-cse`, …) switch a pass off for every function of
// every module. The passes that keep hidden state in callee-saved registers across calls
// (docs/HAZARDS.md, H3) only need to be off in functions with stackmaps; elsewhere they are what
// makes plain code fast. Every skippable pass asks its context's `OptPassGate` before it runs on a
// function (the hook behind `-opt-bisect-limit` and `optnone`); the gate installed here answers
// "no" for the listed passes on functions that carry the given attribute.
#ifndef POPCORN_PASS_GATE_H
#define POPCORN_PASS_GATE_H

#include <stddef.h>
#include <llvm-c/Types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct PopcornPassGate *PopcornPassGateRef;

/// The pass name under which a function pass tells the gate which function the loop passes that
/// follow it work on (loop passes describe their unit only as "loop"): the gate lets it run and
/// remembers the function from its "function (<name>)" description. popcorn-cc's checked
/// emission runs such a pass right before loop strength reduction.
#define POPCORN_PASS_GATE_FUNCTION_MARKER "Popcorn loop function marker"

/// Installs on `module`'s context a gate that skips each pass named in `passes` (LLVM's pass
/// names, e.g. "Machine Common Subexpression Elimination") on the functions of `module` that have
/// the string attribute `attribute`, and defers to the context's previous gate otherwise. Remove it
/// with `PopcornPassGateRemove` before the module or its context goes away.
PopcornPassGateRef PopcornPassGateInstall(LLVMModuleRef module, const char *attribute,
                                          const char *const *passes, size_t count);

/// Puts the context's previous gate back and frees `gate`.
void PopcornPassGateRemove(PopcornPassGateRef gate);

/// How many times the gate has skipped a pass (for tests: proof that it ran).
size_t PopcornPassGateSkipCount(PopcornPassGateRef gate);

#ifdef __cplusplus
}
#endif

#endif
