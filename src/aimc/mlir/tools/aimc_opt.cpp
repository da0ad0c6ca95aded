// aimc-opt: parses, verifies, runs passes over and prints aimc-dialect modules (MLIR's
// MlirOptMain with the aimc dialect and passes registered; docs/mlir.md). Exit code 2 when
// the input does not parse or verify, or a pass fails, with MLIR's file:line:col diagnostics.
#include "aimc/mlir/dialect.h"
#include "aimc/mlir/passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  aimc::mlir::register_dialect(registry);
  aimc::mlir::register_passes();
  return mlir::failed(
             mlir::MlirOptMain(argc, argv, "aimc-opt: the aimc MLIR dialect driver\n", registry))
             ? 2
             : 0;
}
