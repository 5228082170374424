// The C interface of popcorn_pass_gate.h over llvm::OptPassGate.
#include "popcorn_pass_gate.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/OptBisect.h>

#include <string>

namespace {

/// Skips the listed passes on the functions carrying the attribute; asks the previous gate (the
/// global `-opt-bisect-limit` one, normally disabled) about everything else.
class AttributeGate final : public llvm::OptPassGate {
public:
    AttributeGate(llvm::Module &module, llvm::StringRef attribute, const char *const *passes, size_t count)
        : module(module), context(module.getContext()), previous(context.getOptPassGate()),
          attribute(attribute.str()) {
        for (size_t i = 0; i < count; i++)
            this->passes.insert(passes[i]);
    }

    bool isEnabled() const override { return true; }

    bool shouldRunPass(llvm::StringRef pass, llvm::StringRef description) override {
        if (previous.isEnabled() && !previous.shouldRunPass(pass, description))
            return false;
        // A function pass describes its unit as "function (<name>)" (llvm/lib/IR/Pass.cpp).
        llvm::StringRef name = description;
        bool isFunction = name.consume_front("function (") && name.consume_back(")");
        if (pass == POPCORN_PASS_GATE_FUNCTION_MARKER) {
            current = isFunction ? name.str() : std::string();
            return true;
        }
        if (!passes.contains(pass))
            return true;
        // A loop pass describes its unit as "loop" only: the function is the one the marker
        // announced last (the legacy pass manager runs a function's loop passes right after the
        // function passes before them).
        if (!isFunction && description == "loop" && !current.empty())
            name = current;
        else if (!isFunction)
            return true;
        const llvm::Function *function = module.getFunction(name);
        if (function == nullptr || !function->hasFnAttribute(attribute))
            return true;
        skipped++;
        return false;
    }

    void restore() { context.setOptPassGate(previous); }

    size_t skipped = 0;

private:
    llvm::Module &module;
    llvm::LLVMContext &context;
    llvm::OptPassGate &previous;
    std::string attribute;
    llvm::StringSet<> passes;
    std::string current;
};

} // namespace

struct PopcornPassGate {
    AttributeGate gate;
};

PopcornPassGateRef PopcornPassGateInstall(LLVMModuleRef module, const char *attribute,
                                          const char *const *passes, size_t count) {
    llvm::Module &m = *llvm::unwrap(module);
    auto *handle = new PopcornPassGate{AttributeGate(m, attribute, passes, count)};
    m.getContext().setOptPassGate(handle->gate);
    return handle;
}

void PopcornPassGateRemove(PopcornPassGateRef gate) {
    gate->gate.restore();
    delete gate;
}

size_t PopcornPassGateSkipCount(PopcornPassGateRef gate) { return gate->gate.skipped; }
