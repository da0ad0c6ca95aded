// aimc passes (passes.h).
#include "aimc/mlir/passes.h"

#include <string>

#include "aimc/core/error.h"
#include "aimc/mlir/convert.h"
#include "aimc/mlir/dialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassRegistry.h"

namespace aimc::mlir {

namespace {

struct VerifyProgramsPass
    : public ::mlir::PassWrapper<VerifyProgramsPass, ::mlir::OperationPass<::mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(VerifyProgramsPass)
  ::llvm::StringRef getArgument() const final { return "aimc-verify-programs"; }
  ::llvm::StringRef getDescription() const final {
    return "Check that the module's aimc.program ops form a complete, runnable program set";
  }
  void getDependentDialects(::mlir::DialectRegistry& registry) const override {
    register_dialect(registry);
  }
  void runOnOperation() override {
    ::mlir::ModuleOp module = getOperation();
    try {
      const ParsedPrograms parsed = programs_of(module, "module");
      const std::string problem = isa::verify(parsed.programs);
      if (!problem.empty()) {
        module.emitError("the programs do not form a runnable set: ") << problem;
        signalPassFailure();
      }
    } catch (const Error& error) {  // LLVM is built without exceptions: none may leave here
      module.emitError(error.what());
      signalPassFailure();
    }
  }
};

}  // namespace

std::unique_ptr<::mlir::Pass> create_verify_programs_pass() {
  return std::make_unique<VerifyProgramsPass>();
}

void register_passes() {
  ::mlir::PassRegistration<VerifyProgramsPass>();
}

}  // namespace aimc::mlir
