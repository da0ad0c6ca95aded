// Passes over aimc-dialect modules (docs/mlir.md), registered with aimc-opt.
#pragma once

#include <memory>

#include "mlir/Pass/Pass.h"

namespace aimc::mlir {

// --aimc-verify-programs: the module's programs form a complete, runnable program set
// (isa::verify: every send received, every barrier reached by all cores, no deadlock).
std::unique_ptr<::mlir::Pass> create_verify_programs_pass();

// Registers every aimc pass with MLIR's pass registry (aimc-opt's command line).
void register_passes();

}  // namespace aimc::mlir
