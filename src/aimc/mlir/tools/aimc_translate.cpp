// aimc-translate --aimc-to-asm: an aimc-dialect module to the assembly text of docs/isa.md,
// every core's program in core order, each with the header `aimc compile` writes atop its
// core_NNN.s (so the output is those files concatenated). Exit code 2 on bad input.
#include <string>

#include "aimc/core/error.h"
#include "aimc/isa/assembly.h"
#include "aimc/mlir/convert.h"
#include "aimc/mlir/dialect.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

int main(int argc, char** argv) {
  mlir::TranslateFromMLIRRegistration to_asm(
      "aimc-to-asm", "aimc dialect to the assembly text of every core (docs/isa.md)",
      [](mlir::ModuleOp module, llvm::raw_ostream& os) -> mlir::LogicalResult {
        try {  // LLVM is built without exceptions: none may leave this callback
          const aimc::mlir::ParsedPrograms parsed = aimc::mlir::programs_of(module, "module");
          for (const aimc::isa::Program& program : parsed.programs.programs)
            os << aimc::isa::write_assembly(program,
                                            aimc::isa::core_header(parsed.command, program));
          return mlir::success();
        } catch (const aimc::Error& error) {
          return module.emitError(error.what());
        }
      },
      [](mlir::DialectRegistry& registry) { aimc::mlir::register_dialect(registry); });
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "aimc-translate")) ? 2 : 0;
}
